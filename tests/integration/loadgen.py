"""Mixed client load against a running pixd, shared by the crash test
(test_crash.py) and bench/soak.

Each worker is a thread with its own connection(s) looping one kind of
request until told to stop: native PUT/GET/RESIZE/WATCH/LIST and HTTP
PUT/GET/resize/stream/snapshot. Results are counted by kind; every upload
the client made is remembered (name -> SHA-256) and those pixd confirmed
are marked, so a checker can compare the store against what was sent.
Stdlib only (Debian's python3), plus pixdtest's frame helpers.
"""
import hashlib
import http.client
import os
import random
import socket
import struct
import threading
import zlib

from pixdtest import (F_MORE, T_DATA, T_END, T_ERROR, T_FILE, T_GET, T_LIST,
                      T_LIST_REPLY, T_STORED, T_WELCOME, TAG_CODE, TAG_ENTRY,
                      TAG_NAME, TAG_SIZE, entry, field, frame, hello_frame,
                      parse_fields, put_frames)

T_RESIZE, T_RESIZED, T_WATCH, T_FRAME = 0x20, 0x21, 0x32, 0x33
TAG_SOURCE, TAG_STORE_AS, TAG_WIDTH, TAG_FRAMES = 46, 47, 35, 64
E_BUSY = 7


class ServerError(Exception):
    """pixd answered with a protocol-level error (native ERROR, HTTP 4xx/5xx)."""

    def __init__(self, kind, detail):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


class Native:
    """A minimal native-protocol client (one request at a time)."""

    def __init__(self, addr, timeout=10.0):
        self.sock = socket.create_connection(addr, timeout=timeout)
        self.buf = b""
        self.sock.sendall(hello_frame(agent="loadgen"))
        t, _, _, body = self.recv()
        if t != T_WELCOME:
            raise ServerError("hello", f"type {t}")

    def close(self):
        self.sock.close()

    def _fill(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed by pixd")
            self.buf += chunk

    def recv(self):
        self._fill(12)
        t, flags, _, fid, n = struct.unpack(">BBHII", self.buf[:12])
        self._fill(12 + n)
        body, self.buf = self.buf[12:12 + n], self.buf[12 + n:]
        if flags & 1:
            body = zlib.decompress(body)
        if t == T_ERROR:
            code = struct.unpack(">Q", dict(parse_fields(body))[TAG_CODE])[0]
            raise ServerError("busy" if code == E_BUSY else f"native-error-{code}", body)
        return t, flags, fid, body

    def body_after(self, flags):
        """The DATA frames of a streamed body up to its last, joined."""
        data = bytearray()
        while flags & F_MORE:
            t, flags, _, body = self.recv()
            if t == T_DATA:
                data += body
        return bytes(data)

    def put(self, fid, name, data):
        self.sock.sendall(put_frames(fid, name, data, chunk=16 * 1024))
        t, _, _, body = self.recv()
        if t != T_STORED:
            raise ServerError("protocol", f"PUT answered {t}")
        return entry(body)

    def get(self, fid, name):
        self.sock.sendall(frame(T_GET, field(TAG_NAME, name), fid=fid))
        t, flags, _, body = self.recv()
        if t != T_FILE:
            raise ServerError("protocol", f"GET answered {t}")
        return entry(body), self.body_after(flags)

    def list(self, fid):
        self.sock.sendall(frame(T_LIST, fid=fid))
        out, flags = [], F_MORE
        while flags & F_MORE:
            t, flags, _, body = self.recv()
            if t != T_LIST_REPLY:
                raise ServerError("protocol", f"LIST answered {t}")
            out += [entry(v) for tag, v in parse_fields(body) if tag == TAG_ENTRY]
        return out

    def resize(self, fid, width, data=None, source=None, store_as=None):
        body = field(TAG_WIDTH, width)
        if source:
            body += field(TAG_SOURCE, source)
        else:
            body += field(TAG_SIZE, len(data))
        if store_as:
            body += field(TAG_STORE_AS, store_as)
        if source:
            self.sock.sendall(frame(T_RESIZE, body, fid=fid))
        else:
            chunks = b"".join(frame(T_DATA, data[i:i + 65536], fid=fid, flags=F_MORE)
                              for i in range(0, len(data), 65536))
            self.sock.sendall(frame(T_RESIZE, body, fid=fid, flags=F_MORE) + chunks +
                              frame(T_END, fid=fid))
        t, flags, _, _ = self.recv()
        if t != T_RESIZED:
            raise ServerError("protocol", f"RESIZE answered {t}")
        return self.body_after(flags)

    def watch(self, fid, camera, frames):
        self.sock.sendall(frame(T_WATCH, field(TAG_NAME, camera) + field(TAG_FRAMES, frames),
                                fid=fid))
        got = 0
        while True:
            t, flags, _, _ = self.recv()
            if t == T_END:
                return got
            if t == T_FRAME:
                got += 1
                self.body_after(flags)


def http_req(addr, method, path, body=None, timeout=10.0):
    c = http.client.HTTPConnection(*addr, timeout=timeout)
    try:
        c.request(method, path, body=body)
        r = c.getresponse()
        data = r.read()
        if r.status == 503:
            raise ServerError("busy", path)
        if r.status >= 400:
            raise ServerError(f"http-{r.status}", f"{method} {path}: {data[:200]!r}")
        return r, data
    finally:
        c.close()


def http_stream(addr, path, parts, timeout=10.0):
    """Read the first `parts` JPEGs of an MJPEG stream, then hang up."""
    c = http.client.HTTPConnection(*addr, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        if r.status != 200:
            raise ServerError(f"http-{r.status}", path)
        seen, buf = 0, b""
        while seen < parts:
            chunk = r.read1(65536)
            if not chunk:
                raise EOFError("stream ended")
            buf = buf[-1:] + chunk
            seen += buf.count(b"\xff\xd9")
        return seen
    finally:
        c.close()


def classify(exc):
    if isinstance(exc, ServerError):
        return exc.kind
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, EOFError,
                        http.client.RemoteDisconnected, http.client.IncompleteRead)):
        return "reset"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timeout"
    return type(exc).__name__


class Load:
    """Workers against one pixd. native/http: (host, port); camera: a camera
    name or None; jpeg: a small JPEG the resize workers send.
    keep_files: False deletes what was uploaded again (a soak's disk stays
    flat); True keeps everything for the crash checker."""

    KINDS = ("native-put", "http-put", "native-get", "http-get", "native-resize",
             "native-resize-store", "http-resize", "native-list", "native-watch",
             "http-stream", "http-snapshot")

    def __init__(self, native, http, camera, jpeg, keep_files=True, max_size=64 * 1024,
                 seed=None, tag="x"):
        self.native, self.http, self.camera, self.jpeg = native, http, camera, jpeg
        self.keep_files, self.max_size, self.tag = keep_files, max_size, tag
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ok = {}
        self.errors = {}
        self.sent = {}     # name -> sha256 hex of what the client sent
        self.acked = set()  # names pixd confirmed stored
        self.derived = set()  # names pixd made (resize STORE_AS) and confirmed
        self.threads = []
        self.seq = 0

    def _name(self, kind):
        with self.lock:
            self.seq += 1
            return f"{self.tag}-{kind}-{self.seq}.bin"

    def _count(self, table, key):
        with self.lock:
            table[key] = table.get(key, 0) + 1

    def _pick_acked(self):
        with self.lock:
            return self.rng.choice(sorted(self.acked)) if self.acked else None

    def _data(self):
        n = self.rng.randint(1, self.max_size)
        return os.urandom(n)

    # One step of each kind; a step raises on failure.
    def step_native_put(self, c):
        name, data = self._name("n"), self._data()
        sha = hashlib.sha256(data).hexdigest()
        with self.lock:
            self.sent[name] = sha
        e = c.put(1, name, data)
        if e.get("sha256") != sha:
            raise ServerError("mismatch", f"STORED {name} sha {e.get('sha256')} != {sha}")
        self._stored(name)
        if not self.keep_files:
            http_req(self.http, "DELETE", "/api/v1/images/" + name)

    def step_http_put(self, c):
        name, data = self._name("h"), self._data()
        sha = hashlib.sha256(data).hexdigest()
        with self.lock:
            self.sent[name] = sha
        http_req(self.http, "PUT", "/api/v1/images/" + name, data)
        self._stored(name)
        if not self.keep_files:
            http_req(self.http, "DELETE", "/api/v1/images/" + name)

    def _stored(self, name):
        with self.lock:
            if self.keep_files:
                self.acked.add(name)

    def _check(self, name, data):
        with self.lock:
            want = self.sent.get(name)
        if want and hashlib.sha256(data).hexdigest() != want:
            raise ServerError("mismatch", f"downloaded {name} differs from the upload")

    def step_native_get(self, c):
        name = self._pick_acked() or self.jpeg_name
        _, data = c.get(2, name)
        self._check(name, data)

    def step_http_get(self, c):
        name = self._pick_acked() or self.jpeg_name
        _, data = http_req(self.http, "GET", "/api/v1/images/" + name)
        self._check(name, data)

    def step_native_resize(self, c):
        out = c.resize(3, self.rng.choice((16, 32, 48)), data=self.jpeg)
        if not out.startswith(b"\xff\xd8"):
            raise ServerError("protocol", "resize output is not a JPEG")

    def step_native_resize_store(self, c):
        name = self._name("r").replace(".bin", ".jpg")
        c.resize(4, 24, source=self.jpeg_name, store_as=name)
        if self.keep_files:
            with self.lock:
                self.derived.add(name)
        else:
            http_req(self.http, "DELETE", "/api/v1/images/" + name)

    def step_http_resize(self, c):
        _, out = http_req(self.http, "POST", "/api/v1/resize?width=20", self.jpeg)
        if not out.startswith(b"\xff\xd8"):
            raise ServerError("protocol", "resize output is not a JPEG")

    def step_native_list(self, c):
        c.list(5)

    def step_native_watch(self, c):
        if c.watch(6, self.camera, 3) != 3:
            raise ServerError("protocol", "WATCH ended early")

    def step_http_stream(self, c):
        http_stream(self.http, f"/api/v1/cameras/{self.camera}/stream", 3)

    def step_http_snapshot(self, c):
        _, out = http_req(self.http, "GET", f"/api/v1/cameras/{self.camera}/snapshot")
        if not out.startswith(b"\xff\xd8"):
            raise ServerError("protocol", "snapshot is not a JPEG")

    def prepare(self):
        """Store the JPEG the stored-source resizes read."""
        self.jpeg_name = f"{self.tag}-source.jpg"
        http_req(self.http, "PUT", "/api/v1/images/" + self.jpeg_name, self.jpeg)
        with self.lock:
            self.sent[self.jpeg_name] = hashlib.sha256(self.jpeg).hexdigest()
            self.acked.add(self.jpeg_name)

    def _worker(self, kind):
        step = getattr(self, "step_" + kind.replace("-", "_"))
        native = kind.startswith("native")
        c = None
        while not self.stop.is_set():
            try:
                if native and c is None:
                    c = Native(self.native)
                step(c)
                self._count(self.ok, kind)
            except Exception as exc:  # counted by kind; the caller judges them
                self._count(self.errors, f"{kind}:{classify(exc)}")
                if c is not None:
                    c.close()
                    c = None
                if self.stop.wait(0.01):
                    break
        if c is not None:
            c.close()

    def start(self, kinds=None, per_kind=1):
        kinds = [k for k in (kinds or self.KINDS)
                 if self.camera or k not in ("native-watch", "http-stream", "http-snapshot")]
        for kind in kinds:
            for _ in range(per_kind):
                t = threading.Thread(target=self._worker, args=(kind,), daemon=True)
                t.start()
                self.threads.append(t)

    def finish(self, timeout=15.0):
        self.stop.set()
        for t in self.threads:
            t.join(timeout)
        return not any(t.is_alive() for t in self.threads)
