// The resize pipeline (see resize_pipeline.hpp).
//
// Every image goes over one connection, and several requests are in flight
// at once (--jobs, 4 by default) so that the server's workers run them in
// parallel: while one job runs, the next image is already on its way. The
// results come back as they are done, each written to PATH.part as its
// DATA frames arrive and renamed to PATH at its END; the statistics are
// printed in the order of the sources.
//
// A server whose job queue is full answers BUSY to a RESIZE at once. The
// image being sent then stops (the server drops the rest of it). If our own
// jobs filled the queue, no more than those are kept in flight from then on
// and the image goes again when one of them is done; if other clients'
// jobs did, it goes again after a short pause, growing, and fails after a
// bounded number of tries.
#include "resize_pipeline.hpp"

#include "entries.hpp"
#include "interrupt.hpp"
#include "output.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <stdexcept>

#include <poll.h>

namespace pixctl::resize {

namespace {

// Tries per image while the server answers BUSY although none of our own
// jobs is in flight (other clients fill its queue), and the pauses between
// them: about 8 s in all.
constexpr int busy_tries = 20;
constexpr std::chrono::milliseconds busy_pause_first{20}, busy_pause_max{500};

Stats parse_stats(const pixproto::Frame &f)
{
    Stats s;
    for (const pixproto::Field &fl : pixproto::FieldReader(f)) {
        switch (fl.tag()) {
        case PIXPROTO_TAG_IN_BYTES: s.in_bytes = fl.u64(); break;
        case PIXPROTO_TAG_OUT_BYTES: s.out_bytes = fl.u64(); break;
        case PIXPROTO_TAG_IN_WIDTH: s.in_width = fl.u64(); break;
        case PIXPROTO_TAG_IN_HEIGHT: s.in_height = fl.u64(); break;
        case PIXPROTO_TAG_OUT_WIDTH: s.out_width = fl.u64(); break;
        case PIXPROTO_TAG_OUT_HEIGHT: s.out_height = fl.u64(); break;
        case PIXPROTO_TAG_QUEUE_US: s.queue_us = fl.u64(); break;
        case PIXPROTO_TAG_PROCESS_US: s.process_us = fl.u64(); break;
        case PIXPROTO_TAG_SCALE: s.scale = fl.str(); break;
        case PIXPROTO_TAG_IN_TYPE: s.in_type = fl.str(); break;
        default: break;
        }
    }
    return s;
}

// A failed request as a message after "pixctl: resize SOURCE: ".
std::string resize_failure(const pixproto::Error &e, const Job &j)
{
    std::string said = printable(e.what());
    std::string tail = " (" + e.name() + ")";
    bool bare = e.what() == pixproto::error_text(e.code());
    switch (e.code()) {
    case -PIXPROTO_ENOTFOUND:
        if (!j.stored.empty())
            return "not in the server's store (see `pixctl ls`)" + tail;
        return said + tail;
    case -PIXPROTO_ETOOBIG:
        return said + tail + (bare ? " — the server's --max-pixels and --max-upload limit a job" : "");
    case -PIXPROTO_EBUSY:
        return "the server stayed busy after " + std::to_string(busy_tries) + " tries; try again later" + tail;
    case -PIXPROTO_EEXISTS:
    case -PIXPROTO_ENOSPACE:
        return failure_text(e); // storing the result (--store-as)
    default:
        return said + tail;
    }
}

class Resizer {
public:
    Resizer(pixproto::Client &c, std::vector<Job> &jobs, const Settings &s, bool json)
        : client_(c), jobs_(jobs), set_(s), json_(json), window_(static_cast<std::size_t>(s.jobs)),
          cap_(window_),
          stats_out_(s.output && *s.output == "-" ? stderr : stdout)
    {
        for (Job &j : jobs_)
            if (!j.resolved())
                ++left_;
    }

    void run()
    {
        try {
            loop();
        } catch (const pixproto::Interrupted &) {
            throw cancel_all();
        } catch (const pixproto::ConnectionError &e) {
            Job *j = current_ ? current_ : first_unresolved();
            if (!j)
                throw;
            throw pixproto::ConnectionError("resize " + printable(j->label()) + ": " + e.what(), e.reason(),
                                            e.sys_errno());
        }
        print_ready();
    }

private:
    void loop()
    {
        print_ready();
        while (left_ > 0) {
            InterruptGuard::check();
            Job *j = nullptr;
            if (in_flight_ < window_ && (j = next_ready()) != nullptr) {
                launch(*j);
                absorb();
                print_ready();
                continue;
            }
            if (in_flight_ > 0) {
                pixproto::Frame f;
                try {
                    f = client_.receive_any();
                } catch (const pixproto::Error &e) {
                    if (!client_.connected() || !by_id_.count(e.id()))
                        throw;
                    refused(*by_id_[e.id()], e);
                    print_ready();
                    continue;
                }
                auto it = by_id_.find(f.id);
                if (it != by_id_.end())
                    handle(*it->second, f);
                print_ready();
                continue;
            }
            pause_until_retry();
        }
    }

    // The first job that may be sent now.
    Job *next_ready()
    {
        Clock::time_point now = Clock::now();
        for (Job &j : jobs_) {
            if (j.state == Job::State::ready && j.retry_at <= now)
                return &j;
        }
        return nullptr;
    }

    Job *first_unresolved()
    {
        for (Job &j : jobs_) {
            if (!j.resolved())
                return &j;
        }
        return nullptr;
    }

    // Nothing of ours in flight, and every job left waits out a BUSY pause.
    void pause_until_retry()
    {
        Clock::time_point at = Clock::time_point::max();
        for (const Job &j : jobs_) {
            if (j.state == Job::State::ready)
                at = std::min(at, j.retry_at);
        }
        if (at == Clock::time_point::max())
            throw std::logic_error("resize: nothing to send or receive, yet jobs are left");
        auto ms = std::chrono::ceil<std::chrono::milliseconds>(at - Clock::now()).count();
        if (ms > 0) {
            pollfd p{client_.interrupt_fd(), POLLIN, 0};
            ::poll(&p, client_.interrupt_fd() >= 0 ? 1 : 0, static_cast<int>(ms));
        }
    }

    pixproto::Fields request_fields(const Job &j, uint64_t size)
    {
        pixproto::Fields b;
        if (set_.width)
            b.u64(PIXPROTO_TAG_WIDTH, *set_.width);
        if (set_.height)
            b.u64(PIXPROTO_TAG_HEIGHT, *set_.height);
        if (!set_.mode.empty())
            b.str(PIXPROTO_TAG_MODE, set_.mode);
        if (set_.quality)
            b.u64(PIXPROTO_TAG_QUALITY, *set_.quality);
        b.str(PIXPROTO_TAG_FORMAT, format_name(set_.out_format()));
        if (set_.enlarge)
            b.u64(PIXPROTO_TAG_ENLARGE, 1);
        if (set_.progressive)
            b.u64(PIXPROTO_TAG_PROGRESSIVE, 1);
        if (set_.precise)
            b.u64(PIXPROTO_TAG_FAST, 0);
        if (!set_.sharpen.empty())
            b.str(PIXPROTO_TAG_SHARPEN, set_.sharpen);
        if (set_.store_as)
            b.str(PIXPROTO_TAG_STORE_AS, *set_.store_as);
        if (!j.stored.empty())
            b.str(PIXPROTO_TAG_SOURCE, j.stored);
        else
            b.u64(PIXPROTO_TAG_SIZE, size);
        return b;
    }

    // Sends j's request: RESIZE with SOURCE, or RESIZE, DATA... and END.
    void launch(Job &j)
    {
        current_ = &j;
        try {
            if (!j.stored.empty()) {
                pixproto::Fields b = request_fields(j, 0);
                start(j, client_.send(PIXPROTO_T_RESIZE, b.data(), b.size(), 0));
                j.state = Job::State::waiting;
            } else {
                send_file(j);
            }
        } catch (const LocalError &e) {
            fail(j, "LOCAL", e.what());
        } catch (const pixproto::Error &e) {
            if (!client_.connected())
                throw;
            refused(j, e);
        }
        current_ = nullptr;
    }

    void start(Job &j, uint32_t id)
    {
        j.id = id;
        j.state = Job::State::sending;
        by_id_[id] = &j;
        ++in_flight_;
    }

    void send_file(Job &j)
    {
        InputFile in(j.path);
        uint64_t left = in.size();
        pixproto::Fields b = request_fields(j, left);
        start(j, client_.send(PIXPROTO_T_RESIZE, b.data(), b.size(), PIXPROTO_F_MORE));
        if (buf_.empty())
            buf_.resize(PIXPROTO_CHUNK);
        while (left > 0) {
            InterruptGuard::check();
            std::size_t n = in.read(buf_.data(), static_cast<std::size_t>(std::min<uint64_t>(buf_.size(), left)));
            if (n == 0)
                throw LocalError(j.path + " got shorter while being sent");
            client_.send_frame(PIXPROTO_T_DATA, j.id, buf_.data(), n, PIXPROTO_F_MORE);
            left -= n;
            // An early refusal (BUSY, TOOBIG) throws from here: stop
            // sending, the server drops the rest.
            if (std::optional<pixproto::Frame> f = client_.try_receive(j.id))
                throw pixproto::Error(PIXPROTO_EBADFRAME, "the server answered " + f->type_name() +
                                                              " before it had the whole image", j.id);
        }
        if (in.read(buf_.data(), 1) != 0)
            throw LocalError(j.path + " grew while being sent");
        client_.send_frame(PIXPROTO_T_END, j.id, nullptr, 0, 0);
        j.state = Job::State::waiting;
    }

    // Handles what has already arrived for the jobs in flight, without
    // waiting, so that results are written out while images are sent.
    void absorb()
    {
        for (bool more = true; more;) {
            more = false;
            for (Job &j : jobs_) {
                if (j.state != Job::State::waiting && j.state != Job::State::receiving)
                    continue;
                std::optional<pixproto::Frame> f;
                try {
                    f = client_.try_receive(j.id);
                } catch (const pixproto::Error &e) {
                    if (!client_.connected())
                        throw;
                    refused(j, e);
                    more = true;
                    continue;
                }
                if (f) {
                    handle(j, *f);
                    more = true;
                }
            }
        }
    }

    // One frame of j's reply.
    void handle(Job &j, const pixproto::Frame &f)
    {
        try {
            if (j.state == Job::State::waiting)
                reply(j, f);
            else if (j.state == Job::State::receiving)
                chunk(j, f);
            else
                throw pixproto::Error(PIXPROTO_EBADFRAME, "the server sent " + f.type_name() +
                                                             " before it had the whole image", j.id);
        } catch (const LocalError &e) {
            fail(j, "LOCAL", e.what());
        } catch (const pixproto::Error &e) {
            if (!client_.connected())
                throw;
            fail(j, e.name(), printable(e.what()) + " (" + e.name() + ")");
        }
    }

    void reply(Job &j, const pixproto::Frame &f)
    {
        if (f.type != PIXPROTO_T_RESIZED)
            throw pixproto::Error(PIXPROTO_EBADTYPE, "expected resized from the server, got " + f.type_name(), j.id);
        j.stats = parse_stats(f);
        if (set_.store_as) {
            if (f.more())
                throw pixproto::Error(PIXPROTO_EBADFRAME, "the server sent the image although it stored it", j.id);
            j.entry = pixproto::parse_entry(f.body.data(), f.body.size());
            succeed(j);
            return;
        }
        if (!f.more())
            throw pixproto::Error(PIXPROTO_EBADFRAME, "the server's RESIZED frame lacks F_MORE", j.id);
        j.out = std::make_unique<OutputFile>(j.dest, set_.force);
        j.state = Job::State::receiving;
    }

    void chunk(Job &j, const pixproto::Frame &f)
    {
        if (f.type == PIXPROTO_T_DATA && f.more()) {
            if (f.body.size() > j.stats->out_bytes - j.got)
                throw pixproto::Error(PIXPROTO_EINTEGRITY, "the server sent more than the " +
                                                               std::to_string(j.stats->out_bytes) +
                                                               " bytes it announced", j.id);
            j.out->write(f.body.data(), f.body.size());
            j.got += f.body.size();
            return;
        }
        if (f.type != PIXPROTO_T_END || f.more())
            throw pixproto::Error(PIXPROTO_EBADFRAME, "expected data or end from the server, got " + f.type_name(),
                                  j.id);
        if (j.got != j.stats->out_bytes)
            throw pixproto::Error(PIXPROTO_EINTEGRITY, "received " + std::to_string(j.got) + " of the " +
                                                           std::to_string(j.stats->out_bytes) + " bytes announced",
                                  j.id);
        j.out->commit();
        j.out.reset();
        succeed(j);
    }

    // The request is over on both sides (the reply is complete, or an
    // ERROR ended it): j no longer holds a place in flight.
    void settle(Job &j)
    {
        if (j.in_flight()) {
            by_id_.erase(j.id);
            --in_flight_;
        }
        j.id = 0;
    }

    void succeed(Job &j)
    {
        client_.finish(j.id);
        settle(j);
        j.state = Job::State::done;
        --left_;
        if (window_ < cap_)
            ++window_;
    }

    // j failed on this side (a local file, a bad reply): the server may
    // still be busy with it, so cancel it there.
    void fail(Job &j, const std::string &code, const std::string &message)
    {
        if (j.id && client_.in_flight(j.id))
            client_.cancel(j.id);
        settle(j);
        j.out.reset(); // removes PATH.part
        j.state = Job::State::failed;
        j.code = code;
        j.message = message;
        --left_;
    }

    // The server answered j with ERROR (the client has finished the id).
    void refused(Job &j, const pixproto::Error &e)
    {
        settle(j);
        j.out.reset();
        if (e.code() == -PIXPROTO_EBUSY) {
            if (in_flight_ > 0) {
                // Our own jobs fill the server's queue: keep no more in
                // flight than it took, and send j again when one is done.
                window_ = cap_ = in_flight_;
                j.state = Job::State::ready;
                j.retry_at = Clock::time_point{};
                return;
            }
            // Other clients' jobs fill it: pause, a little longer each time,
            // and give up after a while.
            if (++j.busy_alone < busy_tries) {
                window_ = 1;
                auto pause = busy_pause_first * (1 << std::min(j.busy_alone - 1, 5));
                j.retry_at = Clock::now() + std::min<std::chrono::milliseconds>(pause, busy_pause_max);
                j.state = Job::State::ready;
                return;
            }
        }
        j.state = Job::State::failed;
        j.code = e.name();
        j.message = resize_failure(e, j);
        --left_;
    }

    // Prints the results not printed yet, in order, as far as known.
    void print_ready()
    {
        for (; printed_ < jobs_.size() && jobs_[printed_].resolved(); ++printed_)
            print(jobs_[printed_]);
    }

    void print(const Job &j)
    {
        if (j.state == Job::State::failed) {
            report_failure("resize", j.label(), j.message);
            return;
        }
        if (json_)
            return;
        const Stats &s = *j.stats;
        std::string to = set_.store_as ? "stored " + printable(j.entry->name) + " (sha256 " + short_sha256(*j.entry) + ")"
                         : j.dest == "-" ? std::string("standard output")
                                         : printable(j.dest);
        char ratio[32];
        std::snprintf(ratio, sizeof ratio, "%.2fx", s.out_bytes ? double(s.in_bytes) / double(s.out_bytes) : 0.0);
        std::string text = printable(j.label()) + " -> " + to + "\n" +
                           "  original size:     " + bytes_text(s.in_bytes) + ", " + std::to_string(s.in_width) +
                           "x" + std::to_string(s.in_height) + " " + printable(s.in_type) + "\n" +
                           "  processed size:    " + bytes_text(s.out_bytes) + ", " + std::to_string(s.out_width) +
                           "x" + std::to_string(s.out_height) + " " + format_name(set_.out_format()) + "\n" +
                           "  processing time:   " + format_ms(double(s.process_us) / 1000.0) + " ms (queued " +
                           format_ms(double(s.queue_us) / 1000.0) + " ms), DCT scale " + printable(s.scale) + "\n" +
                           "  compression ratio: " + ratio + "\n";
        if (stats_out_ == stdout) {
            emit(text);
        } else {
            std::fputs(text.c_str(), stats_out_);
            std::fflush(stats_out_);
        }
    }

    pixproto::Interrupted cancel_all()
    {
        client_.set_interrupt_fd(-1);
        client_.set_timeout(std::chrono::seconds(1));
        // Results that came in behind one still pending: say them now.
        for (std::size_t i = printed_; i < jobs_.size(); ++i) {
            if (jobs_[i].resolved())
                print(jobs_[i]);
        }
        printed_ = jobs_.size();
        std::size_t cancelled = 0, unsent = 0;
        for (Job &j : jobs_) {
            if (j.in_flight()) {
                ++cancelled;
                try {
                    client_.cancel(j.id);
                } catch (const std::exception &) {
                    // Lost connection: the server drops the job all the same.
                }
                j.out.reset();
            } else if (j.state == Job::State::ready) {
                ++unsent;
            }
        }
        std::string msg = "interrupted";
        if (cancelled)
            msg += "; cancelled " + std::to_string(cancelled) + (cancelled == 1 ? " job" : " jobs") + " in flight";
        if (unsent)
            msg += "; " + std::to_string(unsent) + (unsent == 1 ? " image" : " images") + " not sent";
        return pixproto::Interrupted(msg);
    }

    pixproto::Client &client_;
    std::vector<Job> &jobs_;
    const Settings &set_;
    bool json_;
    std::size_t window_, cap_; // requests kept in flight now, and at most
    std::FILE *stats_out_;
    std::size_t in_flight_ = 0, left_ = 0, printed_ = 0;
    std::map<uint32_t, Job *> by_id_;
    Job *current_ = nullptr;
    std::vector<uint8_t> buf_;
};

} // namespace

const char *format_name(Format f)
{
    switch (f) {
    case Format::png: return "png";
    case Format::webp: return "webp";
    default: return "jpeg";
    }
}

void run_jobs(pixproto::Client &c, std::vector<Job> &jobs, const Settings &s, bool json)
{
    Resizer(c, jobs, s, json).run();
}

void print_json(const std::vector<Job> &jobs, const Settings &set)
{
    Json j;
    j.begin_array();
    for (const Job &job : jobs) {
        j.begin_object();
        j.key("file");
        job.path.empty() ? j.null() : j.string(job.path);
        j.key("stored");
        job.stored.empty() ? j.null() : j.string(job.stored);
        j.key("output");
        job.dest.empty() ? j.null() : j.string(job.dest);
        if (job.state == Job::State::done) {
            const Stats &s = *job.stats;
            j.key("format").string(format_name(set.out_format()));
            j.key("in_type").string(s.in_type);
            j.key("in_bytes").number(s.in_bytes).key("out_bytes").number(s.out_bytes);
            j.key("in_width").number(s.in_width).key("in_height").number(s.in_height);
            j.key("out_width").number(s.out_width).key("out_height").number(s.out_height);
            j.key("scale").string(s.scale);
            j.key("queue_ms").number(double(s.queue_us) / 1000.0, 3);
            j.key("process_ms").number(double(s.process_us) / 1000.0, 3);
            j.key("ratio").number(s.out_bytes ? double(s.in_bytes) / double(s.out_bytes) : 0.0, 2);
            j.key("entry");
            if (job.entry) {
                j.begin_object();
                entry_members(j, *job.entry);
                j.end_object();
            } else {
                j.null();
            }
        } else {
            failure_members(j, job.code, job.message);
        }
        j.end_object();
    }
    j.end_array();
    emit(j.str() + "\n");
}

} // namespace pixctl::resize
