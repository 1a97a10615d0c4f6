/* pixproto_store.hpp: the image store's requests over a pixproto::Client.
 *
 *   Store    stat, list, delete; uploads (PUT, DATA..., END -> STORED) and
 *            downloads (GET -> FILE, DATA..., END) one chunk at a time, so
 *            that no file is ever held in memory whole
 *
 * A Store refers to a Client it does not own; the Client must outlive it.
 * Failures are the Client's: Error for an ERROR reply (or a reply that
 * breaks the protocol), ConnectionError, Interrupted. The messages are
 * specified in pixd-protocol(7). Header-only.
 */
#ifndef PIXPROTO_STORE_HPP
#define PIXPROTO_STORE_HPP

#include "pixproto.hpp"
#include "pixproto_client.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pixproto {

class Store {
public:
    explicit Store(Client &client) noexcept : c_(client) {}

    Client &client() const noexcept { return c_; }

    /* ---- One request, one reply ---- */

    Entry stat(std::string_view name)
    {
        uint32_t id = c_.send_name(PIXPROTO_T_STAT, name);
        Finisher done(c_, id);
        Frame f = c_.receive(id);
        expect(f, PIXPROTO_T_STAT_REPLY);
        return parse_entry(f);
    }

    /* Deletes name; returns the name the server reports deleted. */
    std::string remove(std::string_view name) { return remove_result(remove_begin(name)); }

    /* For several names at once: send every DELETE, then collect the
     * replies in any order. */
    uint32_t remove_begin(std::string_view name) { return c_.send_name(PIXPROTO_T_DELETE, name); }
    std::string remove_result(uint32_t id)
    {
        Finisher done(c_, id);
        Frame f = c_.receive(id);
        expect(f, PIXPROTO_T_DELETED);
        for (const Field &field : FieldReader(f)) {
            if (field.tag() == PIXPROTO_TAG_NAME)
                return field.str();
        }
        throw Error(PIXPROTO_EBADBODY, "the server's DELETED names no file", id);
    }

    /* Every entry, as the server orders them (LIST_REPLY frames until one
     * without F_MORE). */
    std::vector<Entry> list()
    {
        uint32_t id = c_.send(PIXPROTO_T_LIST, nullptr, 0);
        Finisher done(c_, id);
        std::vector<Entry> out;
        for (;;) {
            Frame f = c_.receive(id);
            parse_list_reply(f, out);
            if (!f.more())
                return out;
        }
    }

    /* ---- Uploads ----
     * put_begin, put_data for each chunk (at most PIXPROTO_CHUNK bytes),
     * put_end with the SHA-256 of all the data, then put_result. Several
     * uploads may be in flight: begin the next before collecting a result.
     * Between chunks, put_poll tells whether the server has answered early
     * (an ERROR: over quota, bad name...), after which sending more is
     * pointless: the server drops the rest. */

    uint32_t put_begin(std::string_view name, uint64_t size, const uint8_t *sha256 = nullptr)
    {
        return c_.send(PIXPROTO_T_PUT, build_put_body(name, size, sha256), PIXPROTO_F_MORE);
    }

    void put_data(uint32_t id, const void *p, size_t n)
    {
        c_.send_frame(PIXPROTO_T_DATA, id, p, n, PIXPROTO_F_MORE);
    }

    /* sha256: 32 bytes, or nullptr when put_begin had it. */
    void put_end(uint32_t id, const uint8_t *sha256)
    {
        std::vector<uint8_t> body;
        if (sha256)
            body = Fields().bytes(PIXPROTO_TAG_SHA256, sha256, 32).vector();
        c_.send_frame(PIXPROTO_T_END, id, body.data(), body.size(), 0);
    }

    /* Never waits. Throws the Error of an early ERROR (the request is then
     * over); otherwise nullopt, or the entry if STORED came already. */
    std::optional<Entry> put_poll(uint32_t id)
    {
        std::optional<Frame> f = c_.try_receive(id);
        if (!f)
            return std::nullopt;
        Finisher done(c_, id);
        expect(*f, PIXPROTO_T_STORED);
        return parse_entry(*f);
    }

    /* Waits for STORED (returned) or ERROR (thrown); the request is over. */
    Entry put_result(uint32_t id)
    {
        Finisher done(c_, id);
        Frame f = c_.receive(id);
        expect(f, PIXPROTO_T_STORED);
        return parse_entry(f);
    }

    /* ---- Downloads ----
     * get_begin, get_header for the FILE entry, then get_chunk until it
     * returns false (END). cancel() stops a download midway. */

    uint32_t get_begin(std::string_view name) { return c_.send_name(PIXPROTO_T_GET, name); }

    Entry get_header(uint32_t id)
    {
        Frame f = c_.receive(id);
        if (f.type != PIXPROTO_T_FILE || !f.more())
            fail(id, f.type != PIXPROTO_T_FILE ? "expected file from the server, got " + f.type_name()
                                               : "the server's FILE frame lacks F_MORE");
        try {
            return parse_entry(f);
        } catch (...) {
            c_.cancel(id);
            throw;
        }
    }

    /* The next chunk's bytes into data (replacing them); false at END, when
     * the request is over and data is empty. */
    bool get_chunk(uint32_t id, std::vector<uint8_t> &data)
    {
        Frame f = c_.receive(id);
        if (f.type == PIXPROTO_T_DATA && f.more()) {
            data = std::move(f.body);
            return true;
        }
        if (f.type == PIXPROTO_T_END && !f.more()) {
            c_.finish(id);
            data.clear();
            return false;
        }
        fail(id, "expected data or end from the server, got " + f.type_name() +
                     (f.more() ? " with F_MORE" : " without F_MORE"));
    }

    /* Ends an upload or download now: CANCEL to the server, and whatever
     * it still sends for id is dropped. */
    void cancel(uint32_t id) { c_.cancel(id); }

private:
    /* Finishes a request on the way out, however it is left. */
    class Finisher {
    public:
        Finisher(Client &c, uint32_t id) noexcept : c_(c), id_(id) {}
        ~Finisher() { c_.finish(id_); }
        Finisher(const Finisher &) = delete;
        Finisher &operator=(const Finisher &) = delete;

    private:
        Client &c_;
        uint32_t id_;
    };

    static void expect(const Frame &f, uint8_t type)
    {
        if (f.type != type)
            throw Error(PIXPROTO_EBADTYPE, "expected " + type_name(type) + " from the server, got " +
                                               f.type_name(), f.id);
    }

    /* A reply that breaks the protocol mid-stream: stop the stream, throw. */
    [[noreturn]] void fail(uint32_t id, const std::string &why)
    {
        c_.cancel(id);
        throw Error(PIXPROTO_EBADFRAME, why, id);
    }

    Client &c_;
};

} // namespace pixproto

#endif /* PIXPROTO_STORE_HPP */
