#!/usr/bin/python3
"""N stream subscribers in one process, for bench/stream.

Usage: subscribers.py HOST PORT CAMERA N [--raw]

Opens N connections to HOST:PORT; on each, unless --raw, sends HELLO and
WATCH CAMERA (raw protocol, one send). --raw is for the baseline sender,
which takes no handshake and just sends video frames with id 1. All sockets
are read by one selectors (epoll) loop into one shared buffer: bodies of
DATA frames are counted and skipped, never copied into Python objects;
only the small FRAME bodies are parsed (SEQ, TS_US). A frame counts as
received when its last DATA frame has been read in full; its latency is
time.time() then minus TS_US.

Protocol with the parent, on standard input and output (one line each):
  -> "ready"                       every subscriber has received a frame
  <- "window T0 T1"                time.time() bounds of the measurement
  -> one JSON line                 per subscriber: frames and bytes with
                                   receipt in [T0, T1]; all latencies (us)
                                   of those frames; errors; this process's
                                   CPU seconds is read by the parent
The loop ends after printing the JSON, or when stdin closes.
"""
import json
import os
import selectors
import socket
import struct
import sys
import time

T_HELLO, T_WELCOME, T_ERROR, T_DATA, T_END, T_WATCH, T_FRAME = 1, 2, 3, 9, 0x1a, 0x32, 0x33
TAG_MIN_VERSION, TAG_MAX_VERSION, TAG_AGENT, TAG_NAME = 1, 2, 4, 30
TAG_SEQ, TAG_TS_US, TAG_MESSAGE = 67, 68, 11
F_MORE = 2
HEADER = struct.Struct(">BBHII")
U64 = struct.Struct(">Q")


def field(tag, value):
    if isinstance(value, int):
        value = U64.pack(value)
    elif isinstance(value, str):
        value = value.encode()
    return struct.pack(">HI", tag, len(value)) + value


def frame(ftype, body=b"", fid=0, flags=0):
    return HEADER.pack(ftype, flags, 0, fid, len(body)) + body


def parse_fields(body):
    out, i = {}, 0
    while i + 6 <= len(body):
        tag, n = struct.unpack_from(">HI", body, i)
        out[tag] = body[i + 6:i + 6 + n]
        i += 6 + n
    return out


class Sub:
    __slots__ = ("sock", "pending", "skip", "more_data", "ts_us", "times", "lat", "bytes_in",
                 "frame_bytes", "error", "ended")

    def __init__(self, sock):
        self.sock = sock
        self.pending = b""   # a header or a FRAME/WELCOME/ERROR body cut by a read
        self.skip = 0        # DATA body bytes still to skip
        self.more_data = False
        self.ts_us = 0
        self.times = []      # receipt time of each frame
        self.lat = []        # its latency in us
        self.bytes_in = []   # its JPEG bytes
        self.frame_bytes = 0
        self.error = None
        self.ended = False


def consume(s, mv, n, now):
    """Parses n bytes of mv for subscriber s."""
    i = 0
    while i < n:
        if s.skip:
            take = min(s.skip, n - i)
            s.skip -= take
            s.frame_bytes += take
            i += take
            if s.skip == 0 and not s.more_data:
                s.times.append(now)
                s.lat.append(now * 1e6 - s.ts_us)
                s.bytes_in.append(s.frame_bytes)
            continue
        # A header, and for non-DATA frames the body: small, so copied.
        need = 12 - len(s.pending) if len(s.pending) < 12 else 0
        if need:
            take = min(need, n - i)
            s.pending += bytes(mv[i:i + take])
            i += take
            if len(s.pending) < 12:
                return
        ftype, flags, _, fid, length = HEADER.unpack_from(s.pending, 0)
        if ftype == T_DATA:
            s.pending = b""
            s.more_data = bool(flags & F_MORE)
            s.skip = length
            if length == 0 and not s.more_data:
                s.times.append(now)
                s.lat.append(now * 1e6 - s.ts_us)
                s.bytes_in.append(s.frame_bytes)
            continue
        have = len(s.pending) - 12
        take = min(length - have, n - i)
        s.pending += bytes(mv[i:i + take])
        i += take
        if len(s.pending) - 12 < length:
            return
        body = s.pending[12:]
        s.pending = b""
        if ftype == T_FRAME:
            f = parse_fields(body)
            s.ts_us = U64.unpack(f[TAG_TS_US])[0] if TAG_TS_US in f else 0
            s.frame_bytes = 0
        elif ftype == T_ERROR:
            s.error = parse_fields(body).get(TAG_MESSAGE, b"?").decode(errors="replace")
        elif ftype == T_END:
            s.ended = True
        # WELCOME and anything else: nothing to do.


def main():
    host, port, camera, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    raw = "--raw" in sys.argv[5:]
    sel = selectors.EpollSelector()
    subs = []
    hello = frame(T_HELLO, b"PIXD" + field(TAG_MIN_VERSION, 1) + field(TAG_MAX_VERSION, 1) +
                  field(TAG_AGENT, "bench-stream"))
    watch = frame(T_WATCH, field(TAG_NAME, camera), fid=1)
    for _ in range(n):
        s = socket.create_connection((host, port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not raw:
            s.sendall(hello + watch)
        s.setblocking(False)
        sub = Sub(s)
        subs.append(sub)
        sel.register(s, selectors.EVENT_READ, sub)
    sel.register(sys.stdin, selectors.EVENT_READ, None)

    buf = bytearray(1 << 20)
    mv = memoryview(buf)
    ready_said = False
    window = None
    open_subs = n
    while True:
        for key, _ in sel.select(0.5):
            s = key.data
            if s is None:
                line = sys.stdin.readline()
                if not line:
                    return
                parts = line.split()
                if parts and parts[0] == "window":
                    window = (float(parts[1]), float(parts[2]))
                continue
            # A few reads per wake-up: fewer trips through select.
            for _ in range(4):
                try:
                    got = s.sock.recv_into(buf)
                except BlockingIOError:
                    break
                except OSError as e:
                    got, s.error = 0, str(e)
                if got == 0:
                    s.ended = True
                    sel.unregister(s.sock)
                    open_subs -= 1
                    break
                consume(s, mv, got, time.time())
                if got < len(buf):
                    break
        if not ready_said and all(sub.times or sub.error or sub.ended for sub in subs):
            print("ready", flush=True)
            ready_said = True
        if window:
            t0, t1 = window
            report = []
            for s in subs:
                idx = [k for k, t in enumerate(s.times) if t0 <= t <= t1]
                report.append({
                    "frames": len(idx),
                    "bytes": sum(s.bytes_in[k] for k in idx),
                    "lat_us": [round(s.lat[k]) for k in idx],
                    "error": s.error,
                    "ended": s.ended,
                })
            print(json.dumps(report), flush=True)
            return
        if open_subs == 0 and not ready_said:
            print("ready", flush=True)
            ready_said = True


if __name__ == "__main__":
    main()
