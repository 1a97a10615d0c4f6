"""Helpers for integration tests: start the real pixd, talk to it.

Used by the test_*.py files beside it (Debian's /usr/bin/python3, stdlib
only). Paths come from the environment that meson sets: PIXD, PIXCTL,
SRCDIR. Nothing here sleeps to wait for a condition: every wait polls
with a deadline.
"""
import os
import re
import selectors
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest
import zlib

PIXD = os.environ.get("PIXD", "build-test/daemon/pixd")
PIXCTL = os.environ.get("PIXCTL", "build-test/cli/pixctl")
SRCDIR = os.environ.get("SRCDIR", ".")

# Message types and error codes from proto/pixproto.h.
T_HELLO, T_WELCOME, T_ERROR, T_PING, T_PONG, T_STATUS, T_STATUS_REPLY = 1, 2, 3, 4, 5, 6, 7
T_CANCEL, T_DATA = 8, 9
T_PUT, T_STORED, T_GET, T_FILE, T_LIST, T_LIST_REPLY = 0x10, 0x11, 0x12, 0x13, 0x14, 0x15
T_STAT, T_STAT_REPLY, T_DELETE, T_DELETED, T_END = 0x16, 0x17, 0x18, 0x19, 0x1a
F_ZLIB, F_MORE = 1, 2
TAG_NAME, TAG_SIZE, TAG_SHA256, TAG_MTIME_MS, TAG_TYPE, TAG_WIDTH, TAG_HEIGHT, TAG_ENTRY = \
    30, 31, 32, 33, 34, 35, 36, 37
E_INVALID, E_NOTFOUND, E_NOSPACE, E_INTEGRITY, E_DUPID = 14, 13, 18, 22, 21
E_BADFRAME, E_VERSION, E_BADTYPE, E_TOOBIG, E_BADBODY, E_NOTHELLO = 1, 2, 3, 4, 5, 6
E_LIMIT, E_TIMEOUT, E_SHUTDOWN, E_ZLIB = 8, 9, 10, 16
TAG_MIN_VERSION, TAG_MAX_VERSION, TAG_AGENT, TAG_CODE, TAG_MESSAGE = 1, 2, 4, 10, 11


def wait_until(pred, timeout=10.0, what="condition"):
    """Poll pred() until it returns a true value or the deadline passes."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(delay)  # polling interval, not a wait for the condition
        delay = min(delay * 2, 0.1)


def field(tag, value):
    if isinstance(value, int):
        value = struct.pack(">Q", value)
    elif isinstance(value, str):
        value = value.encode()
    return struct.pack(">HI", tag, len(value)) + value


def parse_fields(body):
    out, i = [], 0
    while i < len(body):
        tag, n = struct.unpack_from(">HI", body, i)
        i += 6
        out.append((tag, body[i:i + n]))
        i += n
    return out


def frame(ftype, body=b"", fid=0, flags=0):
    return struct.pack(">BBHII", ftype, flags, 0, fid, len(body)) + body


def hello_frame(lo=1, hi=1, agent="pixdtest"):
    return frame(T_HELLO, b"PIXD" + field(TAG_MIN_VERSION, lo) +
                 field(TAG_MAX_VERSION, hi) + field(TAG_AGENT, agent))


_open_raws = []


class Raw:
    """A raw native-protocol connection, for what pixctl would not send."""

    def __init__(self, addr, timeout=10.0, hello=True, family=None, source=None):
        """source: a local address to connect from, e.g. 127.0.0.2 to
        look like another host on loopback."""
        _open_raws.append(self)
        host, port = addr
        fam = family or (socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        if source:
            self.sock.bind((source, 0))
        self.sock.connect((host, port))
        self.buf = b""
        if hello:
            self.send(hello_frame())
            t, _, fid, body = self.recv()
            if t != T_WELCOME:
                raise AssertionError(f"expected WELCOME, got type {t}: {body!r}")

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed by pixd")
            self.buf += chunk

    def recv(self):
        """Next frame as (type, flags, id, body)."""
        self._fill(12)
        t, flags, _, fid, n = struct.unpack(">BBHII", self.buf[:12])
        self._fill(12 + n)
        body, self.buf = self.buf[12:12 + n], self.buf[12 + n:]
        if flags & 1:
            body = zlib.decompress(body)
        return t, flags, fid, body

    def recv_error(self):
        t, _, fid, body = self.recv()
        if t != T_ERROR:
            raise AssertionError(f"expected ERROR, got type {t}")
        f = dict(parse_fields(body))
        return fid, struct.unpack(">Q", f[TAG_CODE])[0], f.get(TAG_MESSAGE, b"").decode()

    def closed(self):
        """True once pixd has closed the connection (reads EOF)."""
        try:
            self.sock.settimeout(5)
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return True
                self.buf += d
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def entry(body):
    """Decode an entry's fields into a dict."""
    out = {}
    for tag, v in parse_fields(body):
        if tag == TAG_NAME:
            out["name"] = v.decode()
        elif tag == TAG_TYPE:
            out["type"] = v.decode()
        elif tag == TAG_SHA256:
            out["sha256"] = v.hex()
        elif tag in (TAG_SIZE, TAG_MTIME_MS, TAG_WIDTH, TAG_HEIGHT):
            key = {TAG_SIZE: "size", TAG_MTIME_MS: "mtime_ms", TAG_WIDTH: "width",
                   TAG_HEIGHT: "height"}[tag]
            out[key] = struct.unpack(">Q", v)[0]
    return out


def put_frames(fid, name, data, sha=None, chunk=256 * 1024, sha_in_put=False):
    """The frames of one upload: PUT, DATA..., END."""
    import hashlib
    digest = sha if sha is not None else hashlib.sha256(data).digest()
    head = field(TAG_NAME, name) + field(TAG_SIZE, len(data))
    if sha_in_put:
        head += field(TAG_SHA256, digest)
    out = [frame(T_PUT, head, fid=fid, flags=F_MORE)]
    for i in range(0, len(data), chunk):
        out.append(frame(T_DATA, data[i:i + chunk], fid=fid, flags=F_MORE))
    out.append(frame(T_END, b"" if sha_in_put else field(TAG_SHA256, digest), fid=fid))
    return b"".join(out)


class Pixd:
    """The real pixd, started on ephemeral ports and stopped with SIGTERM."""

    def __init__(self, *args, listen=("native=127.0.0.1:0",), env=None, pass_fds=(),
                 argv_prefix=None, wait=True, store=None):
        self.logf = tempfile.NamedTemporaryFile(prefix="pixd-", suffix=".log", delete=False)
        self.own_store = store is None
        self.store = store or tempfile.mkdtemp(prefix="pixd-store-")
        cmd = (argv_prefix or []) + [PIXD, "--store", self.store]
        for spec in listen:
            cmd += ["--listen", spec]
        cmd += list(args)
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.logf,
                                     env=full_env, pass_fds=pass_fds)
        self.listeners = {}
        self.out = b""
        if wait:
            self.wait_listening(len(listen))

    def wait_listening(self, n, timeout=20.0):
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        fd = self.proc.stdout.fileno()
        os.set_blocking(fd, False)
        deadline = time.monotonic() + timeout
        while len(self.listeners) < n:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise AssertionError(f"pixd did not start listening: {self.log()}")
            for _ in sel.select(min(left, 0.5)):
                chunk = os.read(fd, 4096)
                self.out += chunk
            for m in re.finditer(rb"pixd: (\S+) listening on (\S+)\n", self.out):
                self.listeners.setdefault(m.group(1).decode(), []).append(m.group(2).decode())
                self.listeners[m.group(1).decode()] = sorted(set(self.listeners[m.group(1).decode()]))
            if sum(len(v) for v in self.listeners.values()) >= n:
                break
        sel.close()

    def addr(self, handler="native", i=0):
        a = self.listeners[handler][i]
        if a.startswith("unix:"):
            return a
        host, port = a.rsplit(":", 1)
        return host.strip("[]"), int(port)

    def pixctl(self, *args, timeout=30, handler="native"):
        a = self.addr(handler)
        if isinstance(a, str):
            target = ["--unix", a[5:]]
        else:
            target = ["--host", a[0], "--port", str(a[1])]
        return subprocess.run([PIXCTL] + target + list(args), capture_output=True,
                              text=True, timeout=timeout)

    def log(self):
        with open(self.logf.name, "rb") as f:
            return f.read().decode(errors="replace")

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def nfds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stop pixd and return its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"pixd did not exit within {timeout}s after {sig!r}")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.logf.close()
        os.unlink(self.logf.name)
        if self.own_store:
            import shutil
            shutil.rmtree(self.store, ignore_errors=True)


class PixdTestCase(unittest.TestCase):
    """Starts one pixd per test; fails the test if pixd did not exit 0 or
    if ASan/UBSan reported anything in its log."""

    pixd_args = ()
    pixd_listen = ("native=127.0.0.1:0",)

    def start(self, *args, **kw):
        p = Pixd(*args, **kw)
        self.addCleanup(self._finish, p)
        return p

    def setUp(self):
        self.pixd = self.start(*self.pixd_args, listen=self.pixd_listen)

    def _finish(self, p):
        while _open_raws:
            _open_raws.pop().close()
        try:
            if p.proc.poll() is None:
                rc = p.stop()
                self.assertEqual(rc, 0, f"pixd exited {rc}: {p.log()}")
            log = p.log()
            for bad in ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer",
                        "handles still open"):
                self.assertNotIn(bad, log, log)
        finally:
            p.close()
