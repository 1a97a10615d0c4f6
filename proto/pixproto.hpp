/* pixproto.hpp: C++17 wrapper over libpixproto's codec.
 *
 * pixproto.h is the source of truth; this header adds ownership (one
 * move-only class per C object, holding a unique_ptr with the C destructor)
 * and turns negative PIXPROTO_E* codes into exceptions, only here at the
 * boundary. Nothing in it calls back from C, so no exception crosses C code.
 *
 *   pixproto::Error            an ERROR frame from the server, or a codec
 *                              failure; code() is the positive wire code
 *   Frame, Decoder, Fields,    the codec
 *   FieldReader
 *   Welcome, Status, Entry     message bodies, built and parsed
 *
 * The client side builds on this header and needs POSIX sockets:
 *   pixproto_client.hpp        Client: a blocking socket client
 *   pixproto_store.hpp         Store: the image store's requests over a Client
 *   pixproto_socket.hpp        ConnectionError, Interrupted, socket plumbing
 *                              (included by pixproto_client.hpp)
 *
 * Header-only; link with libpixproto (pkg-config libpixproto).
 */
#ifndef PIXPROTO_HPP
#define PIXPROTO_HPP

#include "pixproto.h"

#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pixproto {

/* ---- Errors -------------------------------------------------------------- */

/* Text of a code, negative (library) or positive (wire). */
inline std::string error_text(int code)
{
    const char *s = pixproto_strerror(code);
    return s ? s : "unknown error " + std::to_string(code);
}

/* "TOOBIG", or "E<code>" for a code this library does not know. */
inline std::string errname(int code)
{
    const char *s = pixproto_errname(code);
    return s ? s : "E" + std::to_string(code < 0 ? -static_cast<long>(code) : code);
}

/* "ping", or "type 0x2a" for an unknown type. */
inline std::string type_name(int type)
{
    const char *s = pixproto_type_name(type);
    if (s)
        return s;
    char buf[16];
    std::snprintf(buf, sizeof buf, "type 0x%02x", static_cast<unsigned>(type) & 0xffu);
    return buf;
}

/* The server refused or failed a request (an ERROR frame), or bytes could not
 * be encoded or decoded. what() is the server's message when it sent one. */
class Error : public std::runtime_error {
public:
    /* code: a PIXPROTO_E* value, negative or positive; stored positive. */
    Error(int code, const std::string &message, uint32_t id = 0)
        : std::runtime_error(message.empty() ? pixproto::error_text(code) : message),
          code_(code < 0 ? -code : code), id_(id)
    {
    }

    /* Positive wire code (PIXPROTO_ELIMIT is -8, code() is 8). */
    int code() const noexcept { return code_; }
    /* "LIMIT" */
    std::string name() const { return errname(code_); }
    /* The request the error belongs to; 0 for the connection as a whole
     * (the server closes after such an error) and for local codec errors. */
    uint32_t id() const noexcept { return id_; }

private:
    int code_;
    uint32_t id_;
};

namespace detail {

inline int check(int rc, const std::string &what)
{
    if (rc < 0)
        throw Error(rc, what + ": " + pixproto::error_text(rc));
    return rc;
}

struct FreeDeleter {
    void operator()(void *p) const noexcept { std::free(p); }
};
struct DecoderDeleter {
    void operator()(pixproto_decoder *d) const noexcept { pixproto_decoder_free(d); }
};
struct BufDeleter {
    void operator()(pixproto_buf *b) const noexcept
    {
        pixproto_buf_free(b);
        delete b;
    }
};

/* Adopts a result of pixproto_frame_encode and friends: buffer malloc'd by
 * the library, freed here with free(). */
inline std::vector<uint8_t> take_encoded(long rc, uint8_t *out, const char *what)
{
    std::unique_ptr<uint8_t, FreeDeleter> owned(out);
    if (rc < 0)
        throw Error(static_cast<int>(rc), std::string(what) + ": " + pixproto::error_text(static_cast<int>(rc)));
    return std::vector<uint8_t>(owned.get(), owned.get() + rc);
}

} // namespace detail

/* ---- Frames ---------------------------------------------------------------- */

/* An owning copy of a pixproto_frame. */
struct Frame {
    uint8_t type = 0;
    uint8_t flags = 0;
    uint32_t id = 0;
    std::vector<uint8_t> body;

    Frame() = default;
    Frame(uint8_t type_, uint32_t id_, std::vector<uint8_t> body_ = {}, uint8_t flags_ = 0)
        : type(type_), flags(flags_), id(id_), body(std::move(body_))
    {
    }
    /* Copies f.body: the copy outlives the decoder that produced f. */
    explicit Frame(const pixproto_frame &f)
        : type(f.type), flags(f.flags), id(f.id)
    {
        if (f.body && f.len)
            body.assign(f.body, f.body + f.len);
    }

    /* A C view of this frame, valid while this Frame lives unchanged. */
    pixproto_frame view() const noexcept
    {
        pixproto_frame f{};
        f.type = type;
        f.flags = flags;
        f.id = id;
        f.body = body.data();
        f.len = body.size();
        return f;
    }

    bool more() const noexcept { return (flags & PIXPROTO_F_MORE) != 0; }
    std::string type_name() const { return pixproto::type_name(type); }
};

/* Header plus body as they go on the wire. PIXPROTO_F_ZLIB in flags deflates
 * the body (pixproto_frame_encode decides whether that pays). */
inline std::vector<uint8_t> encode_frame(uint8_t type, uint8_t flags, uint32_t id,
                                         const void *body, size_t len)
{
    uint8_t *out = nullptr;
    long rc = pixproto_frame_encode(type, flags, id, body, len, &out);
    return detail::take_encoded(rc, out, "cannot encode frame");
}

inline std::vector<uint8_t> encode_frame(const Frame &f)
{
    return encode_frame(f.type, f.flags, f.id, f.body.data(), f.body.size());
}

/* ---- Decoder --------------------------------------------------------------- */

/* Incremental frame decoder. Move-only; a moved-from Decoder may only be
 * destroyed or assigned to. */
class Decoder {
public:
    /* max_body 0 means PIXPROTO_MAX_BODY. Throws std::bad_alloc. */
    explicit Decoder(size_t max_body = 0) : d_(pixproto_decoder_new(max_body))
    {
        if (!d_)
            throw std::bad_alloc();
    }

    /* Consumes bytes from [in, in+len), advancing in and decreasing len,
     * until a frame is complete (returned) or the input is used up (nullopt).
     * Throws Error on malformed input; the decoder then stays failed. */
    std::optional<Frame> next(const uint8_t *&in, size_t &len)
    {
        pixproto_frame f{};
        int rc = pixproto_decoder_next(d_.get(), &in, &len, &f);
        detail::check(rc, "cannot decode frame");
        if (rc == 0)
            return std::nullopt;
        return Frame(f);
    }

    /* Decodes all of [data, data+len), calling on_frame(Frame&&) for every
     * complete frame. Returns the number of frames. */
    template <class F>
    size_t feed(const void *data, size_t len, F &&on_frame)
    {
        const uint8_t *in = static_cast<const uint8_t *>(data);
        size_t n = 0;
        while (len > 0) {
            std::optional<Frame> f = next(in, len);
            if (!f)
                break;
            ++n;
            on_frame(std::move(*f));
        }
        return n;
    }

    /* Where the rest of a body being collected goes, to receive it there
     * without a copy (pixproto_decoder_window); empty when no body is in
     * progress. Then commit(n) the bytes put there and call next() with
     * no input. Throw Error as next() does. */
    std::pair<uint8_t *, size_t> window()
    {
        uint8_t *p = nullptr;
        size_t len = 0;
        detail::check(pixproto_decoder_window(d_.get(), &p, &len), "cannot decode frame");
        return {p, len};
    }
    void commit(size_t n) { detail::check(pixproto_decoder_commit(d_.get(), n), "cannot decode frame"); }

    /* Bytes buffered toward an incomplete frame. */
    size_t pending() const noexcept { return pixproto_decoder_pending(d_.get()); }
    pixproto_decoder *get() const noexcept { return d_.get(); }

private:
    std::unique_ptr<pixproto_decoder, detail::DecoderDeleter> d_;
};

/* ---- Fields ---------------------------------------------------------------- */

/* Builds a fields body: Fields().u64(TAG_PID, 42).str(TAG_AGENT, "x").vector() */
class Fields {
public:
    Fields() : b_(new pixproto_buf{}) {}

    Fields &u64(uint16_t tag, uint64_t v)
    {
        return done(pixproto_put_u64(b_.get(), tag, v));
    }
    /* Strings travel without NUL, so one holding a NUL byte is refused. */
    Fields &str(uint16_t tag, std::string_view s)
    {
        if (s.find('\0') != std::string_view::npos)
            throw Error(PIXPROTO_EINVALID, "cannot encode string field: it holds a NUL byte");
        return done(pixproto_put_str(b_.get(), tag, std::string(s).c_str()));
    }
    Fields &bytes(uint16_t tag, const void *p, size_t n)
    {
        return done(pixproto_put_bytes(b_.get(), tag, p, n));
    }

    /* Valid until the next append; owned by this object. */
    const uint8_t *data() const noexcept { return b_->data; }
    size_t size() const noexcept { return b_->len; }
    std::vector<uint8_t> vector() const { return std::vector<uint8_t>(data(), data() + size()); }

private:
    Fields &done(int rc)
    {
        if (rc >= 0 && b_->err < 0)
            rc = b_->err;
        detail::check(rc, "cannot encode field");
        return *this;
    }

    std::unique_ptr<pixproto_buf, detail::BufDeleter> b_;
};

/* One field of a body; points into the body it was read from. */
class Field {
public:
    Field() = default;
    explicit Field(const pixproto_field &f) : f_(f) {}

    uint16_t tag() const noexcept { return f_.tag; }
    const uint8_t *data() const noexcept { return f_.value; }
    size_t size() const noexcept { return f_.len; }

    uint64_t u64() const
    {
        uint64_t v = 0;
        detail::check(pixproto_field_u64(&f_, &v), "field " + std::to_string(f_.tag));
        return v;
    }
    std::string str() const
    {
        std::string s(f_.len + 1, '\0');
        detail::check(pixproto_field_str(&f_, &s[0], s.size()), "field " + std::to_string(f_.tag));
        s.resize(f_.len);
        return s;
    }

private:
    pixproto_field f_{};
};

/* Range over the fields of a body the caller owns and keeps alive:
 *   for (const pixproto::Field &f : pixproto::FieldReader(frame)) ...
 * Iteration throws Error (BADBODY) at a truncated field. */
class FieldReader {
public:
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = Field;
        using difference_type = std::ptrdiff_t;
        using pointer = const Field *;
        using reference = const Field &;

        iterator() = default; /* the end */
        explicit iterator(const pixproto_reader &r) : r_(r), end_(false) { advance(); }

        reference operator*() const noexcept { return field_; }
        pointer operator->() const noexcept { return &field_; }
        iterator &operator++()
        {
            advance();
            return *this;
        }
        iterator operator++(int)
        {
            iterator old = *this;
            advance();
            return old;
        }
        friend bool operator==(const iterator &a, const iterator &b) noexcept
        {
            return a.end_ == b.end_ && (a.end_ || a.field_.data() == b.field_.data());
        }
        friend bool operator!=(const iterator &a, const iterator &b) noexcept { return !(a == b); }

    private:
        void advance()
        {
            pixproto_field f{};
            int rc = pixproto_field_next(&r_, &f);
            if (rc < 0) {
                end_ = true;
                detail::check(rc, "malformed message body");
            }
            if (rc == 0) {
                end_ = true;
                return;
            }
            field_ = Field(f);
        }

        pixproto_reader r_{};
        Field field_;
        bool end_ = true;
    };

    FieldReader(const void *body, size_t len) { pixproto_reader_init(&r_, body, len); }
    explicit FieldReader(const std::vector<uint8_t> &body) : FieldReader(body.data(), body.size()) {}
    explicit FieldReader(const Frame &f) : FieldReader(f.body) {}
    /* The reader points into the body: refuse temporaries. */
    explicit FieldReader(std::vector<uint8_t> &&) = delete;
    explicit FieldReader(Frame &&) = delete;

    iterator begin() const { return iterator(r_); }
    iterator end() const noexcept { return iterator(); }

private:
    pixproto_reader r_{};
};

/* ---- Messages -------------------------------------------------------------- */

struct Welcome {
    uint32_t version = 0;  /* protocol version chosen by the server */
    uint32_t max_body = 0; /* the server's body ceiling */
    std::string agent;     /* "pixd/0.1.0" */
};

/* STATUS_REPLY; a field the server did not send stays empty or 0. */
struct Status {
    std::string agent;
    uint64_t pid = 0;
    uint64_t uptime_ms = 0;
    uint64_t connections = 0;                /* open connections, all handlers */
    std::vector<std::string> listeners;      /* "native 127.0.0.1:7070" */
    std::vector<std::string> handler_conns;  /* "native 3" */
};

inline std::vector<uint8_t> build_hello(const std::string &agent)
{
    if (agent.find('\0') != std::string::npos)
        throw Error(PIXPROTO_EINVALID, "cannot encode HELLO: the agent holds a NUL byte");
    uint8_t *out = nullptr;
    long rc = pixproto_build_hello(agent.c_str(), &out);
    return detail::take_encoded(rc, out, "cannot encode HELLO");
}

inline Welcome parse_welcome(const Frame &f)
{
    pixproto_frame v = f.view();
    pixproto_welcome w{};
    detail::check(pixproto_parse_welcome(&v, &w), "malformed WELCOME from the server");
    Welcome out;
    out.version = w.version;
    out.max_body = w.max_body;
    w.agent[sizeof w.agent - 1] = '\0';
    out.agent = w.agent;
    return out;
}

/* The Error an ERROR frame stands for (returned, not thrown). */
inline Error error_from_frame(const Frame &f)
{
    pixproto_frame v = f.view();
    pixproto_error e{};
    int rc = pixproto_parse_error(&v, &e);
    if (rc < 0)
        return Error(PIXPROTO_EBADBODY, "malformed ERROR frame from the server", f.id);
    e.message[sizeof e.message - 1] = '\0';
    int code = e.code > 0 && e.code <= INT_MAX ? static_cast<int>(e.code) : PIXPROTO_EINTERNAL;
    return Error(code, e.message, f.id);
}

inline Status parse_status(const Frame &f)
{
    Status s;
    for (const Field &field : FieldReader(f)) {
        switch (field.tag()) {
        case PIXPROTO_TAG_AGENT: s.agent = field.str(); break;
        case PIXPROTO_TAG_PID: s.pid = field.u64(); break;
        case PIXPROTO_TAG_UPTIME_MS: s.uptime_ms = field.u64(); break;
        case PIXPROTO_TAG_CONNECTIONS: s.connections = field.u64(); break;
        case PIXPROTO_TAG_LISTENER: s.listeners.push_back(field.str()); break;
        case PIXPROTO_TAG_HANDLER_CONNS: s.handler_conns.push_back(field.str()); break;
        default: break; /* newer servers add fields; skipping them is the rule */
        }
    }
    return s;
}


/* ---- Store entries --------------------------------------------------------- */

/* One file of the image store (pixproto_entry with owning members). */
struct Entry {
    std::string name;
    uint64_t size = 0;
    std::optional<std::array<uint8_t, 32>> sha256; /* absent if not sent */
    uint64_t mtime_ms = 0;  /* ms since the Unix epoch; 0 when unknown */
    std::string type;       /* "jpeg", "png", ..., "data"; "" when unknown */
    uint32_t width = 0;     /* 0 when not an image */
    uint32_t height = 0;
};

/* Lower-case hex of n bytes. */
inline std::string hex(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    std::string s(2 * n, '0');
    for (size_t i = 0; i < n; ++i) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 0x0f];
    }
    return s;
}

/* The entry's SHA-256 in hex, "" when it has none. */
inline std::string sha256_hex(const Entry &e)
{
    return e.sha256 ? hex(e.sha256->data(), e.sha256->size()) : std::string();
}

namespace detail {
/* The NUL-terminated text in a fixed array, never reading past it. */
template <size_t N>
inline std::string array_str(const char (&a)[N])
{
    const void *nul = std::memchr(a, '\0', N);
    return std::string(a, nul ? static_cast<size_t>(static_cast<const char *>(nul) - a) : N);
}
} // namespace detail

inline Entry entry_from_c(const pixproto_entry &c)
{
    Entry e;
    e.name = detail::array_str(c.name);
    e.size = c.size;
    if (c.has_sha256) {
        e.sha256.emplace();
        for (size_t i = 0; i < e.sha256->size(); ++i)
            (*e.sha256)[i] = c.sha256[i];
    }
    e.mtime_ms = c.mtime_ms;
    e.type = detail::array_str(c.type);
    e.width = c.width;
    e.height = c.height;
    return e;
}

/* An entry from a flat fields body (STORED, FILE, STAT_REPLY, or one ENTRY
 * field's value). Throws Error (BADBODY) when NAME is missing or a field is
 * malformed. */
inline Entry parse_entry(const void *body, size_t len)
{
    pixproto_entry c{};
    detail::check(pixproto_parse_entry(body, len, &c), "malformed store entry from the server");
    return entry_from_c(c);
}

/* The entry of a STORED, FILE or STAT_REPLY frame; Error (BADTYPE) for a
 * frame of another type. */
inline Entry parse_entry(const Frame &f)
{
    if (f.type != PIXPROTO_T_STORED && f.type != PIXPROTO_T_FILE && f.type != PIXPROTO_T_STAT_REPLY)
        throw Error(PIXPROTO_EBADTYPE, "expected a store entry from the server, got " + f.type_name(), f.id);
    return parse_entry(f.body.data(), f.body.size());
}

/* Appends the entries of one LIST_REPLY frame (repeated ENTRY fields) to
 * out; other tags are skipped. */
inline void parse_list_reply(const Frame &f, std::vector<Entry> &out)
{
    if (f.type != PIXPROTO_T_LIST_REPLY)
        throw Error(PIXPROTO_EBADTYPE, "expected list-reply from the server, got " + f.type_name(), f.id);
    for (const Field &field : FieldReader(f)) {
        if (field.tag() == PIXPROTO_TAG_ENTRY)
            out.push_back(parse_entry(field.data(), field.size()));
    }
}

/* A whole frame carrying NAME only (GET, STAT, DELETE, DELETED), built by
 * pixproto_build_name. A name holding a NUL byte is refused. */
inline std::vector<uint8_t> encode_name_frame(uint8_t type, uint32_t id, std::string_view name)
{
    if (name.find('\0') != std::string_view::npos)
        throw Error(PIXPROTO_EINVALID, "cannot encode a store name holding a NUL byte");
    uint8_t *out = nullptr;
    long rc = pixproto_build_name(type, id, std::string(name).c_str(), &out);
    return detail::take_encoded(rc, out, "cannot encode store request");
}

/* PUT's body: NAME and SIZE, and SHA256 when the sender knows it up front
 * (otherwise END carries it). */
inline std::vector<uint8_t> build_put_body(std::string_view name, uint64_t size,
                                           const uint8_t *sha256 = nullptr)
{
    Fields b;
    b.str(PIXPROTO_TAG_NAME, name).u64(PIXPROTO_TAG_SIZE, size);
    if (sha256)
        b.bytes(PIXPROTO_TAG_SHA256, sha256, 32);
    return b.vector();
}

} // namespace pixproto

#endif /* PIXPROTO_HPP */
