#include "localfile.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace pixctl {

namespace {

std::string dir_of(const std::string &path)
{
    std::size_t slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// Makes a rename durable. Some file systems refuse fsync on a directory;
// the data itself is already safe then.
void sync_dir(const std::string &path)
{
    int fd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)::fsync(fd);
        ::close(fd);
    }
}

} // namespace

std::string errno_text(int err)
{
    std::string s = std::strerror(err);
    // "No such file..." reads better after a colon as "no such file...";
    // acronyms ("EOF") keep their case.
    if (s.size() > 1 && s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z'))
        s[0] = static_cast<char>(s[0] - 'A' + 'a');
    return s;
}

std::string errno_message(const std::string &what, const std::string &path, int err)
{
    return what + " " + path + ": " + errno_text(err);
}

InputFile::InputFile(const std::string &path) : path_(path)
{
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0)
        throw LocalError(errno_message("cannot open", path, errno));
    struct stat st{};
    if (::fstat(fd_, &st) < 0) {
        int err = errno;
        ::close(fd_);
        throw LocalError(errno_message("cannot read", path, err));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd_);
        throw LocalError("cannot upload " + path + ": " +
                         (S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file"));
    }
    size_ = static_cast<uint64_t>(st.st_size);
    (void)::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

InputFile::~InputFile()
{
    if (fd_ >= 0)
        ::close(fd_);
}

std::size_t InputFile::read(void *buf, std::size_t n)
{
    std::size_t got = 0;
    while (got < n) {
        ssize_t r = ::read(fd_, static_cast<char *>(buf) + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            throw LocalError(errno_message("cannot read", path_, errno));
        if (r == 0)
            break;
        got += static_cast<std::size_t>(r);
    }
    return got;
}

OutputFile::OutputFile(const std::string &path, bool force) : path_(path), force_(force)
{
    if (to_stdout()) {
        fd_ = STDOUT_FILENO;
        return;
    }
    part_ = path + ".part";
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
    fd_ = ::open(part_.c_str(), flags, 0666);
    if (fd_ < 0 && errno == EEXIST && force_ && ::unlink(part_.c_str()) == 0)
        fd_ = ::open(part_.c_str(), flags, 0666);
    if (fd_ < 0) {
        int err = errno;
        std::string msg = errno_message("cannot create", part_, err);
        if (err == EEXIST)
            msg += " (left by an interrupted download? remove it, or use --force)";
        part_.clear(); // not ours: never remove it
        throw LocalError(msg);
    }
}

OutputFile::~OutputFile()
{
    discard();
}

void OutputFile::write(const void *p, std::size_t n)
{
    const char *c = static_cast<const char *>(p);
    while (n > 0) {
        ssize_t w = ::write(fd_, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            throw LocalError(errno_message("cannot write", to_stdout() ? "to standard output" : part_, errno));
        c += w;
        n -= static_cast<std::size_t>(w);
        written_ += static_cast<uint64_t>(w);
    }
    write_behind();
}

// Starts writeback of each WRITE_BEHIND bytes as soon as they are written,
// so the disk works while the rest arrives and commit()'s fsync has little
// left to do (otherwise it waits for the whole file at the end). Only
// starts it: errors and the waiting are fsync's. A no-op where the file
// system has no writeback (tmpfs) or the output is not a file.
void OutputFile::write_behind() noexcept
{
    constexpr uint64_t WRITE_BEHIND = 8u << 20;
    if (to_stdout() || written_ - flushed_ < WRITE_BEHIND)
        return;
    (void)::sync_file_range(fd_, static_cast<off_t>(flushed_), static_cast<off_t>(written_ - flushed_),
                            SYNC_FILE_RANGE_WRITE);
    flushed_ = written_;
}

void OutputFile::commit()
{
    if (to_stdout()) {
        committed_ = true;
        return;
    }
    if (::fsync(fd_) < 0)
        throw LocalError(errno_message("cannot write", part_, errno));
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) < 0)
        throw LocalError(errno_message("cannot write", part_, errno));
    int rc;
    if (force_) {
        rc = ::rename(part_.c_str(), path_.c_str());
    } else {
        // Checked before the download began, but another program may have
        // made the file meanwhile: never replace it without --force.
        rc = ::renameat2(AT_FDCWD, part_.c_str(), AT_FDCWD, path_.c_str(), RENAME_NOREPLACE);
        if (rc < 0 && (errno == EINVAL || errno == ENOSYS)) {
            // The file system cannot do that atomically; link() refuses an
            // existing target as well.
            rc = ::link(part_.c_str(), path_.c_str());
            if (rc == 0)
                ::unlink(part_.c_str());
        }
    }
    if (rc < 0) {
        int err = errno;
        throw LocalError(err == EEXIST ? path_ + " appeared during the download; not replaced "
                                             "(use --force to replace it)"
                                       : errno_message("cannot rename " + part_ + " to", path_, err));
    }
    committed_ = true;
    sync_dir(path_);
}

void OutputFile::discard() noexcept
{
    if (fd_ >= 0 && !to_stdout())
        ::close(fd_);
    fd_ = -1;
    if (!committed_ && !part_.empty())
        ::unlink(part_.c_str());
    part_.clear();
}

bool is_directory(const std::string &path)
{
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool exists(const std::string &path)
{
    struct stat st{};
    return ::lstat(path.c_str(), &st) == 0;
}

} // namespace pixctl
