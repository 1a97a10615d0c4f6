// Local files for transfers: read in chunks, or written to PATH.part and
// published by rename only once complete and verified.
#ifndef PIXCTL_LOCALFILE_HPP
#define PIXCTL_LOCALFILE_HPP

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace pixctl {

// A local file could not be read or written; what() names it and says why.
class LocalError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// strerror(err), starting lower-case: "no such file or directory"
std::string errno_text(int err);
// "cannot open x: no such file or directory"
std::string errno_message(const std::string &what, const std::string &path, int err);

// A regular file opened for reading.
class InputFile {
public:
    // Throws LocalError if path cannot be opened or is not a regular file.
    explicit InputFile(const std::string &path);
    ~InputFile();
    InputFile(const InputFile &) = delete;
    InputFile &operator=(const InputFile &) = delete;

    uint64_t size() const noexcept { return size_; }
    // Reads up to n bytes, fewer only at the end of the file.
    std::size_t read(void *buf, std::size_t n);

private:
    std::string path_;
    int fd_ = -1;
    uint64_t size_ = 0;
};

// Where a download goes. For a path, the bytes go to PATH.part in the same
// directory (created exclusively; with force an old one is replaced) and
// commit() publishes them; until then the .part file is removed again when
// the object goes, however that happens. For "-", standard output: no
// temporary file, and commit() only flushes.
class OutputFile {
public:
    OutputFile(const std::string &path, bool force);
    ~OutputFile();
    OutputFile(const OutputFile &) = delete;
    OutputFile &operator=(const OutputFile &) = delete;

    void write(const void *p, std::size_t n);
    // Flushes the data to disk, renames PATH.part to PATH (refusing to
    // replace an existing PATH unless force), and flushes the directory.
    void commit();
    // Removes PATH.part now; nothing is published.
    void discard() noexcept;

    const std::string &path() const noexcept { return path_; }
    bool to_stdout() const noexcept { return path_ == "-"; }

private:
    std::string path_, part_;
    bool force_;
    int fd_ = -1;
    bool committed_ = false;
    uint64_t written_ = 0, flushed_ = 0;

    void write_behind() noexcept;
};

// path is a directory (or a link to one).
bool is_directory(const std::string &path);
// Something, even a dangling link, has that name.
bool exists(const std::string &path);

} // namespace pixctl

#endif
