#!/usr/bin/python3
"""Write the seed corpus for one fuzz target into a directory.

usage: make-corpus.py TARGET OUTDIR

Seeds for the protocol targets (decoder, fields) are built here from the
wire format (pixd-protocol(7)), those for store names and image headers
from their rules and format specifications, all with the standard library
only. Files in a
directory seeds-TARGET beside this script are copied as well, which is all
that other targets get.
"""
import os
import shutil
import struct
import sys
import zlib

F_ZLIB, F_MORE = 0x01, 0x02
HELLO, WELCOME, ERROR, PING, PONG, STATUS, STATUS_REPLY, CANCEL, DATA = range(1, 10)
TAG = dict(MIN_VERSION=1, MAX_VERSION=2, VERSION=3, AGENT=4, MAX_BODY=5,
           CODE=10, MESSAGE=11, UPTIME_MS=20, CONNECTIONS=21, LISTENER=22,
           PID=23, HANDLER_CONNS=24)


def frame(ftype, body=b"", flags=0, rid=0, reserved=0):
    if flags & F_ZLIB:
        body = zlib.compress(body)
    return struct.pack(">BBHII", ftype, flags, reserved, rid, len(body)) + body


def field(tag, value):
    if isinstance(value, int):
        value = struct.pack(">Q", value)
    elif isinstance(value, str):
        value = value.encode()
    return struct.pack(">HI", tag, len(value)) + value


def fields(*pairs):
    return b"".join(field(TAG[name], value) for name, value in pairs)


HELLO_BODY = b"PIXD" + fields(("MIN_VERSION", 1), ("MAX_VERSION", 1),
                              ("AGENT", "pixctl/0.1.0"))
WELCOME_BODY = fields(("VERSION", 1), ("MAX_BODY", 1 << 20), ("AGENT", "pixd/0.1.0"))
ERROR_BODY = fields(("CODE", 3), ("MESSAGE", "unknown message type"))
STATUS_BODY = fields(("AGENT", "pixd/0.1.0"), ("PID", 4242), ("UPTIME_MS", 1234),
                     ("CONNECTIONS", 2), ("LISTENER", "native 127.0.0.1:7070"),
                     ("LISTENER", "http 127.0.0.1:7080"),
                     ("HANDLER_CONNS", "native 2"))


def decoder_seeds():
    # Two leading bytes: ceiling selector (0: default, n: n * 64 bytes) and
    # the largest piece the stream is fed in (0: all at once).
    session = (frame(HELLO, HELLO_BODY) + frame(PING, b"ping", rid=1)
               + frame(STATUS, rid=2) + frame(CANCEL, rid=3))
    chunks = b"".join(frame(DATA, bytes([i]) * 300, F_MORE, rid=4) for i in range(3))
    return {
        "hello": b"\0\0" + frame(HELLO, HELLO_BODY),
        "session-bytewise": b"\0\1" + session,
        "session-pieces": b"\0\7" + session,
        "welcome": b"\0\3" + frame(WELCOME, WELCOME_BODY),
        "error": b"\0\0" + frame(ERROR, ERROR_BODY, rid=7),
        "pong": b"\0\0" + frame(PONG, b"\xa5" * 64, rid=1),
        "status-reply-zlib": b"\3\5" + frame(STATUS_REPLY, STATUS_BODY, F_ZLIB, rid=2),
        "data-chunks": b"\0\x40" + chunks + frame(DATA, b"end", rid=4),
        "zlib-data": b"\0\0" + frame(DATA, bytes(range(256)) * 8, F_ZLIB, rid=5),
        "zlib-over-ceiling": b"\1\0" + frame(DATA, bytes(4096), F_ZLIB, rid=6),
        "too-big": b"\1\0" + frame(DATA, bytes(100), rid=6),
        "unknown-type": b"\0\0" + frame(0x7F, b"future", rid=9),
        "bad-flags": b"\0\0" + frame(PING, b"x", flags=0x80, rid=1),
        "bad-reserved": b"\0\0" + frame(PING, b"x", rid=1, reserved=1),
        "truncated": b"\0\0" + frame(PING, b"truncated", rid=1)[:-3],
    }


def fields_seeds():
    return {
        "hello": HELLO_BODY,
        "welcome": WELCOME_BODY,
        "error": ERROR_BODY,
        "status-reply": STATUS_BODY,
        "nul-in-string": field(TAG["MESSAGE"], b"a\0b") + field(TAG["CODE"], 1),
        "short-u64": b"PIXD" + field(TAG["MIN_VERSION"], b"\0\0\0\1"),
        "truncated": ERROR_BODY[:-4],
        "utf8": field(TAG["AGENT"], "pixd \u00e9\u20ac/0.1" * 8),
    }


def store_name_seeds():
    return {
        "plain": b"cat.jpg",
        "spaces": b"my holiday photo 2024.jpeg",
        "utf8": "caf\u00e9 \u5199\u771f \U0001f408.png".encode(),
        "longest": b"n" * 200,
        "too-long": b"n" * 201,
        "dotdot": b"..",
        "hidden": b".meta",
        "dash": b"-rf",
        "trailing-dot": b"photo.",
        "slash": b"../../etc/passwd",
        "backslash": b"..\\windows",
        "nul": b"a\0b",
        "control": b"a\tb\nc\x1b[31m",
        "c1": b"x\xc2\x9b31m",
        "overlong": b"\xc0\xaf\xe0\x80\xaf",
        "surrogate": b"\xed\xa0\x80",
        "above-max": b"\xf4\x90\x80\x80",
        "truncated": b"ab\xe2\x82",
    }


def imghdr_seeds():
    """Headers of each format, built from the specifications."""
    le16, le32, be16, be32 = (lambda v: struct.pack("<H", v), lambda v: struct.pack("<I", v),
                              lambda v: struct.pack(">H", v), lambda v: struct.pack(">I", v))

    def seg(marker, payload):
        return bytes([0xFF, marker]) + be16(len(payload) + 2) + payload

    def png_chunk(ctype, data):
        return be32(len(data)) + ctype + data + be32(zlib.crc32(ctype + data))

    sof = seg(0xC0, b"\x08" + be16(480) + be16(640) + b"\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01")
    jpeg = (b"\xff\xd8" + seg(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0")
            + seg(0xDB, bytes(65)) + sof + seg(0xC4, bytes(29)) + seg(0xDA, bytes(10))
            + b"\x12\x34\xff\x00\xff\xd9")
    exif = (b"\xff\xd8\xff\xff" + b"\xe1" + be16(4002) + b"Exif\0\0" + bytes(3994)
            + b"\xff\x01\xff\xd0" + seg(0xC2, b"\x08" + be16(3000) + be16(4000) + b"\x01\x01\x11\x00"))
    png = (b"\x89PNG\r\n\x1a\n"
           + png_chunk(b"IHDR", be32(2) + be32(1) + b"\x08\x02\x00\x00\x00")
           + png_chunk(b"IDAT", zlib.compress(b"\x00" + bytes(6)))
           + png_chunk(b"IEND", b""))

    def riff(chunk, data):
        body = b"WEBP" + chunk + le32(len(data)) + data
        return b"RIFF" + le32(len(body)) + body

    vp8 = riff(b"VP8 ", b"\x10\x02\x00\x9d\x01\x2a" + le16(800) + le16(600) + bytes(12))
    vp8l = riff(b"VP8L", b"\x2f" + le32((1024 - 1) | (768 - 1) << 14 | 1 << 28) + bytes(4))
    vp8x = riff(b"VP8X", b"\x10\0\0\0" + le32(1919)[:3] + le32(1079)[:3])
    gif = b"GIF89a" + le16(320) + le16(200) + b"\xf7\x00\x00" + bytes(6) + b";"

    def bmp(info):
        return b"BM" + le32(14 + len(info)) + le32(0) + le32(14 + len(info)) + info

    bmp_info = bmp(le32(40) + le32(640) + struct.pack("<i", -480) + le16(1) + le16(24)
                   + bytes(24))
    bmp_core = bmp(le32(12) + le16(16) + le16(16) + le16(1) + le16(24))
    return {
        "jpeg": jpeg, "jpeg-exif-fill-rst": exif, "png": png, "webp-vp8": vp8,
        "webp-vp8l": vp8l, "webp-vp8x": vp8x, "gif": gif, "bmp-info-topdown": bmp_info,
        "bmp-core": bmp_core, "jpeg-bad-length": b"\xff\xd8\xff\xe0\x00\x01",
        "png-not-ihdr": png[:12] + b"CgBI" + png[16:], "text": b"BMW owners' club\n",
    }


def mjpeg_seeds():
    """Camera frames: whole, without Huffman tables, padded, cut short."""
    jpeg = imghdr_seeds()["jpeg"]
    dht = jpeg.index(b"\xff\xc4")
    no_dht = jpeg[:dht] + jpeg[dht + 4 + 29:]
    return {"whole": jpeg, "no-dht": no_dht, "padded": no_dht + bytes(200),
            "cut": jpeg[:-2], "restart": no_dht[:-2] + b"\xff\xd0\x55\xff\xd9"}


BUILT = {"decoder": decoder_seeds, "fields": fields_seeds,
         "store-name": store_name_seeds, "imghdr": imghdr_seeds, "mjpeg": mjpeg_seeds}


def requests_seeds():
    """Whole requests of every kind the handlers route, native (first byte
    even) and HTTP (odd), with the optional fields and query parameters."""
    T = dict(CANCEL=8, DATA=9, PUT=0x10, GET=0x12, LIST=0x14, STAT=0x16, DELETE=0x18,
             END=0x1a, RESIZE=0x20, CAMS=0x30, WATCH=0x32, FRAME=0x33, SNAP=0x34, PUSH=0x35)
    NAME, SIZE, SHA, WIDTH, HEIGHT = 30, 31, 32, 35, 36
    MODE, QUALITY, FORMAT, ENLARGE, PROGRESSIVE, SHARPEN, SOURCE, STORE_AS, FAST = range(40, 49)
    FRAMES, SEQ, TS, FPS = 64, 67, 68, 69
    jpeg = imghdr_seeds()["jpeg"]
    hello = frame(HELLO, HELLO_BODY)

    def n(*frames):
        return b"\0" + hello + b"".join(frames)

    def h(*reqs):
        return b"\1" + b"".join(r.encode() if isinstance(r, str) else r for r in reqs)

    import hashlib
    data = bytes(range(200))
    put = (frame(T["PUT"], field(NAME, "a.bin") + field(SIZE, len(data)), F_MORE, rid=1)
           + frame(T["DATA"], data[:100], F_MORE | F_ZLIB, rid=1)
           + frame(T["DATA"], data[100:], F_MORE, rid=1)
           + frame(T["END"], field(SHA, hashlib.sha256(data).digest()), rid=1))
    resize_opts = (field(WIDTH, 16) + field(HEIGHT, 16) + field(MODE, "fill")
                   + field(QUALITY, 80) + field(FORMAT, "jpeg") + field(ENLARGE, 1)
                   + field(PROGRESSIVE, 1) + field(SHARPEN, "2,1.5,3") + field(FAST, 0))
    resize = (frame(T["RESIZE"], resize_opts + field(SIZE, len(jpeg)), F_MORE, rid=2)
              + frame(T["DATA"], jpeg, F_MORE, rid=2) + frame(T["END"], rid=2))
    stored = frame(T["RESIZE"], field(WIDTH, 8) + field(SOURCE, "a.bin")
                   + field(STORE_AS, "small.jpg"), rid=3)
    cl = "Content-Length: "
    return {
        "native-store": n(put, frame(T["GET"], field(NAME, "a.bin"), rid=4),
                          frame(T["STAT"], field(NAME, "a.bin"), rid=5),
                          frame(T["LIST"], rid=6), frame(T["DELETE"], field(NAME, "a.bin"), rid=7)),
        "native-put-cancel": n(put[:60], frame(T["CANCEL"], rid=1)),
        "native-resize": n(resize),
        "native-resize-stored": n(put, stored),
        "native-cams-watch": n(frame(T["CAMS"], rid=1),
                               frame(T["WATCH"], field(NAME, "cam") + field(FPS, 5)
                                     + field(WIDTH, 32) + field(FRAMES, 2), rid=2)),
        "native-snap": n(frame(T["SNAP"], field(NAME, "cam") + field(WIDTH, 16), rid=1)),
        "native-push": n(frame(T["PUSH"], field(NAME, "p"), rid=1),
                         frame(T["FRAME"], field(SEQ, 1) + field(TS, 5) + field(SIZE, len(jpeg)),
                               F_MORE, rid=1),
                         frame(T["DATA"], jpeg, 0, rid=1)),
        "http-images": h(f"PUT /api/v1/images/b.bin HTTP/1.1\r\n{cl}200\r\n\r\n", data,
                         "GET /api/v1/images/b.bin HTTP/1.1\r\nRange: bytes=10-20\r\n\r\n",
                         "HEAD /api/v1/images/b.bin HTTP/1.1\r\nIf-None-Match: \"x\"\r\n\r\n",
                         "GET /api/v1/images HTTP/1.1\r\n\r\n",
                         "DELETE /api/v1/images/b.bin HTTP/1.1\r\n\r\n"),
        "http-resize-query": h("POST /api/v1/resize?width=10&height=9&mode=fit&format=png"
                               "&quality=70&enlarge=1&sharpen=1,1,1&progressive=1 HTTP/1.1\r\n"
                               f"{cl}{len(jpeg)}\r\n\r\n", jpeg),
        "http-image-width": h(f"PUT /api/v1/images/p.jpg HTTP/1.1\r\n{cl}{len(jpeg)}\r\n\r\n",
                              jpeg, "GET /api/v1/images/p.jpg?width=8&height=8 HTTP/1.1\r\n\r\n"),
        "http-cameras": h("GET /api/v1/cameras HTTP/1.1\r\n\r\n",
                          "GET /api/v1/cameras/cam/snapshot?width=16 HTTP/1.1\r\n\r\n",
                          "GET /api/v1/cameras/cam/stream?fps=5&width=32 HTTP/1.1\r\n\r\n"),
        "http-misc": h("GET /metrics HTTP/1.1\r\n\r\n", "GET /api/v1/status HTTP/1.1\r\n\r\n",
                       "GET /static/app.js HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
    }


BUILT["requests"] = requests_seeds


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[2])
    target, outdir = sys.argv[1:]
    shipped = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "seeds-" + target)
    if target not in BUILT and not os.path.isdir(shipped):
        sys.exit("make-corpus.py: no seeds for target " + repr(target))
    os.makedirs(outdir, exist_ok=True)
    for name, data in BUILT.get(target, dict)().items():
        with open(os.path.join(outdir, "seed-" + name), "wb") as f:
            f.write(data)
    if os.path.isdir(shipped):
        for name in os.listdir(shipped):
            shutil.copy(os.path.join(shipped, name), os.path.join(outdir, name))


if __name__ == "__main__":
    main()
