#!/usr/bin/python3
"""One benchmark client process for bench/resize: sends the same image
COUNT times, one request at a time, and prints what it measured as JSON.

  client.py native  PORT FILE COUNT W H Q   pixd's native protocol, one
                                            connection, RESIZE + DATA + END
  client.py seed004 PORT FILE COUNT W H Q   seed 004's protocol (12-byte
                                            header, size-prefixed reply), a
                                            connection per image as its
                                            client makes

Protocol: after connecting and two untimed warm-up requests the client
prints "ready" and waits for a line on standard input; then it times COUNT
requests and prints one JSON object: start and end (time.monotonic(),
comparable between processes), count, out_bytes, out_w, out_h (of the
last reply) and, for native, the sums of the server's QUEUE_US and
PROCESS_US. The first output image is written to OUT_SAMPLE if set.

Framing helpers are copied from the integration tests on purpose: the
benchmark imports nothing from tests/."""
import json
import os
import socket
import struct
import sys
import time

T_HELLO, T_WELCOME, T_ERROR, T_DATA, T_END, T_RESIZE, T_RESIZED = 1, 2, 3, 9, 0x1a, 0x20, 0x21
F_MORE = 2
TAG_MIN_VERSION, TAG_MAX_VERSION, TAG_AGENT, TAG_CODE, TAG_MESSAGE = 1, 2, 4, 10, 11
TAG_SIZE, TAG_WIDTH, TAG_HEIGHT, TAG_MODE, TAG_QUALITY = 31, 35, 36, 40, 41
TAG_OUT_BYTES, TAG_OUT_WIDTH, TAG_OUT_HEIGHT, TAG_QUEUE_US, TAG_PROCESS_US = 51, 54, 55, 57, 58
CHUNK = 256 * 1024


def field(tag, value):
    if isinstance(value, int):
        value = struct.pack(">Q", value)
    elif isinstance(value, str):
        value = value.encode()
    return struct.pack(">HI", tag, len(value)) + value


def parse_fields(body):
    out, i = {}, 0
    while i < len(body):
        tag, n = struct.unpack_from(">HI", body, i)
        out[tag] = bytes(body[i + 6:i + 6 + n])
        i += 6 + n
    return out


def u64(fields, tag):
    return struct.unpack(">Q", fields[tag])[0] if tag in fields else 0


def frame(ftype, body=b"", fid=0, flags=0):
    return struct.pack(">BBHII", ftype, flags, 0, fid, len(body)) + body


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def fill(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("connection closed by the server")
            self.buf += chunk

    def recv_exact(self, n):
        self.fill(n)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def recv_frame(self):
        self.fill(12)
        t, flags, _, fid, n = struct.unpack_from(">BBHII", self.buf)
        self.fill(12 + n)
        body = bytes(self.buf[12:12 + n])
        del self.buf[:12 + n]
        return t, flags, fid, body


class Native:
    def __init__(self, port, data, w, h, q):
        self.c = Conn(port)
        self.c.sock.sendall(frame(T_HELLO, b"PIXD" + field(TAG_MIN_VERSION, 1) +
                                  field(TAG_MAX_VERSION, 1) + field(TAG_AGENT, "bench-resize")))
        t, _, _, body = self.c.recv_frame()
        if t != T_WELCOME:
            raise SystemExit(f"pixd answered HELLO with type {t}: {body!r}")
        # The whole request, encoded once: one request at a time reuses id 1.
        head = field(TAG_SIZE, len(data)) + field(TAG_WIDTH, w) + field(TAG_HEIGHT, h) + \
            field(TAG_QUALITY, q) + field(TAG_MODE, "fit")
        parts = [frame(T_RESIZE, head, fid=1, flags=F_MORE)]
        for i in range(0, len(data), CHUNK):
            parts.append(frame(T_DATA, data[i:i + CHUNK], fid=1, flags=F_MORE))
        parts.append(frame(T_END, fid=1))
        self.request = b"".join(parts)
        self.queue_us = self.process_us = 0

    def one(self, keep=False):
        self.c.sock.sendall(self.request)
        t, flags, fid, body = self.c.recv_frame()
        f = parse_fields(body)
        if t == T_ERROR:
            raise SystemExit(f"pixd refused: code {u64(f, TAG_CODE)}: "
                             f"{f.get(TAG_MESSAGE, b'').decode(errors='replace')}")
        if t != T_RESIZED or not flags & F_MORE:
            raise SystemExit(f"unexpected reply type {t} flags {flags}")
        self.queue_us += u64(f, TAG_QUEUE_US)
        self.process_us += u64(f, TAG_PROCESS_US)
        out = [] if keep else None
        got = 0
        while True:
            t, flags, fid, body = self.c.recv_frame()
            if t == T_END:
                break
            got += len(body)
            if keep:
                out.append(body)
        if got != u64(f, TAG_OUT_BYTES):
            raise SystemExit(f"received {got} of {u64(f, TAG_OUT_BYTES)} bytes")
        return got, u64(f, TAG_OUT_WIDTH), u64(f, TAG_OUT_HEIGHT), b"".join(out) if keep else None


class Seed004:
    """Seed 004's client: connect, 12-byte header (size, width, height as
    big-endian u32), the image; read a u32 size and the JPEG."""

    def __init__(self, port, data, w, h, q):
        self.port, self.data, self.w, self.h = port, data, w, h
        self.header = struct.pack("!III", len(data), w, h)

    def one(self, keep=False):
        c = Conn(self.port)
        c.sock.sendall(self.header + self.data)
        n = struct.unpack("!I", c.recv_exact(4))[0]
        out = c.recv_exact(n)
        c.sock.close()
        return n, self.w, self.h, out if keep else None


def main():
    if len(sys.argv) != 8 or sys.argv[1] not in ("native", "seed004"):
        raise SystemExit(__doc__)
    proto, port, path, count, w, h, q = sys.argv[1:]
    with open(path, "rb") as f:
        data = f.read()
    cls = Native if proto == "native" else Seed004
    cl = cls(int(port), data, int(w), int(h), int(q))
    sample = os.environ.get("OUT_SAMPLE")
    for i in range(2):
        _, _, _, out = cl.one(keep=bool(sample) and i == 0)
        if out is not None:
            with open(sample, "wb") as f:
                f.write(out)
    if proto == "native":
        cl.queue_us = cl.process_us = 0
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.monotonic()
    for _ in range(int(count)):
        n, ow, oh, _ = cl.one()
    end = time.monotonic()
    res = {"start": start, "end": end, "count": int(count), "out_bytes": n, "out_w": ow, "out_h": oh}
    if proto == "native":
        res.update(queue_us=cl.queue_us, process_us=cl.process_us)
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
