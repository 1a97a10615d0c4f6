"""Faults: clients that vanish in the middle of every kind of request, and
file descriptor exhaustion. pixd must keep serving, give back every
descriptor and temporary file, and exit 0 on SIGTERM with no
LeakSanitizer report (PixdTestCase checks the log and exit status).
A camera source that hangs is covered where sources are tested
(tests/camera: v4l2_stall_reopens, file_source_slow_loop_gets_newest);
disk full in test_store.py.
"""
import io
import os
import re
import socket
import struct
import sys
import time

from PIL import Image

from loadgen import T_RESIZE, T_WATCH, TAG_WIDTH, Native, ServerError, http_req
from pixdtest import *  # noqa: F401,F403

BIG = 3 * 1024 * 1024


def big_jpeg():
    img = Image.effect_noise((1600, 1200), 60).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def connect(addr):
    s = socket.create_connection(addr, timeout=10)
    return s


def vanish(s, reset=True):
    """Hang up; with reset, abortively (RST), as a crashed client would."""
    if reset:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def native(addr):
    s = connect(addr)
    s.sendall(hello_frame())
    r = Raw.__new__(Raw)  # reuse Raw's frame reader on this socket
    r.sock, r.buf = s, b""
    assert r.recv()[0] == T_WELCOME
    return r


class VanishingClients(PixdTestCase):
    pixd_listen = ("native=127.0.0.1:0", "http=127.0.0.1:0")
    pixd_args = ("--camera", "cam=test,width=320,height=240,fps=30")

    def setUp(self):
        super().setUp()
        self.n, self.h = self.pixd.addr("native"), self.pixd.addr("http")
        self.big = os.urandom(BIG)
        http_req(self.h, "PUT", "/api/v1/images/big.bin", self.big)
        self.jpeg = big_jpeg()
        http_req(self.h, "PUT", "/api/v1/images/photo.jpg", self.jpeg)
        # Warm up everything that allocates once (codec module, camera,
        # thread pool) so that the descriptor count after is comparable.
        c = Native(self.n)
        c.resize(1, 64, data=self.jpeg)
        c.close()
        http_req(self.h, "GET", "/api/v1/cameras/cam/snapshot")
        self.fds = self.pixd.nfds()

    def still_serving(self):
        c = Native(self.n)
        self.assertEqual(c.get(1, "big.bin")[1], self.big)
        c.close()
        self.assertEqual(http_req(self.h, "GET", "/healthz")[0].status, 200)

    def metrics(self):
        text = http_req(self.h, "GET", "/metrics")[1].decode()
        return {m.group(1): float(m.group(2))
                for m in re.finditer(r"^(pixd_\S+) (\S+)$", text, re.M)}

    def settled(self):
        """Every vanished client's descriptor, connection, job, stream
        subscription and temp file is gone."""
        tmp = os.path.join(self.pixd.store, ".tmp")
        want = {'pixd_connections{handler="native"}': 0,
                'pixd_connections{handler="http"}': 1,  # the /metrics request
                "pixd_jobs_running": 0, "pixd_jobs_waiting": 0,
                'pixd_camera_subscribers{camera="cam"}': 0}

        def idle():
            m = self.metrics()
            return (self.pixd.nfds() <= self.fds and not os.listdir(tmp) and
                    all(m.get(k) == v for k, v in want.items()))
        try:
            wait_until(idle, 20, "pixd back to idle")
        except AssertionError:
            m = self.metrics()
            raise AssertionError(f"not idle: fds {self.pixd.nfds()} (was {self.fds}), "
                                 f".tmp {os.listdir(tmp)}, "
                                 f"{ {k: m.get(k) for k in want} }") from None

    def each(self, name, act):
        for reset in (True, False):
            with self.subTest(kind=name, reset=reset):
                for _ in range(3):
                    act(reset)
                self.still_serving()
                self.settled()

    def test_faults_native_put_vanishes(self):
        def act(reset):
            r = native(self.n)
            frames = put_frames(7, "partial.bin", self.big, chunk=64 * 1024)
            r.sock.sendall(frames[:len(frames) // 2])
            vanish(r.sock, reset)
        self.each("native put", act)
        self.assertNotIn("partial.bin", os.listdir(self.pixd.store))

    def test_faults_native_get_vanishes(self):
        def act(reset):
            r = native(self.n)
            r.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            r.sock.sendall(frame(T_GET, field(TAG_NAME, "big.bin"), fid=3))
            r.recv()
            vanish(r.sock, reset)
        self.each("native get", act)

    def test_faults_native_resize_vanishes(self):
        def act(reset):
            # Mid-upload of the picture to resize ...
            r = native(self.n)
            body = field(TAG_SIZE, len(self.jpeg)) + field(TAG_WIDTH, 100)
            r.sock.sendall(frame(T_RESIZE, body, fid=4, flags=F_MORE) +
                           frame(T_DATA, self.jpeg[:1000], fid=4, flags=F_MORE))
            vanish(r.sock, reset)
            # ... and with the job queued or running.
            r = native(self.n)
            data = b"".join(frame(T_DATA, self.jpeg[i:i + 65536], fid=5, flags=F_MORE)
                            for i in range(0, len(self.jpeg), 65536))
            r.sock.sendall(frame(T_RESIZE, body, fid=5, flags=F_MORE) + data +
                           frame(T_END, fid=5))
            vanish(r.sock, reset)
        self.each("native resize", act)

    def test_faults_native_watch_vanishes(self):
        def act(reset):
            r = native(self.n)
            r.sock.sendall(frame(T_WATCH, field(TAG_NAME, "cam"), fid=6))
            r.recv()
            vanish(r.sock, reset)
        self.each("native watch", act)

    def http_partial(self, head, body, reset):
        s = connect(self.h)
        s.sendall(head + body)
        vanish(s, reset)

    def test_faults_http_put_vanishes(self):
        head = (f"PUT /api/v1/images/hpartial.bin HTTP/1.1\r\nHost: x\r\n"
                f"Content-Length: {BIG}\r\n\r\n").encode()
        self.each("http put", lambda reset: self.http_partial(head, self.big[:BIG // 3], reset))
        self.assertNotIn("hpartial.bin", os.listdir(self.pixd.store))

    def test_faults_http_get_vanishes(self):
        def act(reset):
            s = connect(self.h)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"GET /api/v1/images/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            s.recv(1000)
            vanish(s, reset)
        self.each("http get", act)

    def test_faults_http_resize_vanishes(self):
        head = (f"POST /api/v1/resize?width=100 HTTP/1.1\r\nHost: x\r\n"
                f"Content-Length: {len(self.jpeg)}\r\n\r\n").encode()

        def act(reset):
            self.http_partial(head, self.jpeg[:1000], reset)
            self.http_partial(head, self.jpeg, reset)
            self.http_partial(b"GET /api/v1/images/photo.jpg?width=90 HTTP/1.1\r\n"
                              b"Host: x\r\n\r\n", b"", reset)
        self.each("http resize", act)

    def test_faults_http_stream_vanishes(self):
        def act(reset):
            for path in ("/api/v1/cameras/cam/stream", "/api/v1/cameras/cam/stream?width=80",
                         "/api/v1/cameras/cam/snapshot?width=100"):
                s = connect(self.h)
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                if "stream" in path:
                    s.recv(100)
                vanish(s, reset)
        self.each("http stream", act)


# Runs pixd under a low descriptor limit (set in the child, before exec).
def limit_prefix(n):
    return [sys.executable, "-c",
            "import os, resource, sys\n"
            f"resource.setrlimit(resource.RLIMIT_NOFILE, ({n}, {n}))\n"
            "os.execv(sys.argv[1], sys.argv[1:])"]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


class FdLimit(PixdTestCase):
    pixd_listen = ("native=127.0.0.1:0", "http=127.0.0.1:0")
    limit = 128

    def setUp(self):
        self.pixd = self.start(listen=self.pixd_listen, argv_prefix=limit_prefix(self.limit))
        self.refusals = {}

    def try_native(self):
        try:
            return Native(self.pixd.addr("native"), timeout=5)
        except (OSError, EOFError, ServerError) as e:
            kind = e.kind if isinstance(e, ServerError) else type(e).__name__
            self.refusals[kind] = self.refusals.get(kind, 0) + 1
            return None

    def fill(self):
        held = [c for c in (self.try_native() for _ in range(2 * self.limit)) if c]
        self.assertGreater(sum(self.refusals.values()), 0, "pixd never refused a client")
        self.assertLess(len(held), self.limit)
        return held

    def not_spinning(self):
        # Refusing, pixd must not spin on its listening socket: measure its
        # CPU time over a one-second window with clients still knocking.
        t0, c0 = time.monotonic(), cpu_seconds(self.pixd.proc.pid)
        while time.monotonic() - t0 < 1.0:
            self.assertIsNone(self.try_native())
        busy = (cpu_seconds(self.pixd.proc.pid) - c0) / (time.monotonic() - t0)
        self.assertLess(busy, 0.5, f"pixd used {busy:.0%} CPU while refusing clients")

    def recovers(self, held):
        self.assertIsNone(self.pixd.proc.poll())
        for c in held:
            c.close()
        c = wait_until(self.try_native, 10, "a new client accepted after others left")
        c.put(3, "after.bin", b"recovered")
        c.close()
        self.assertEqual(http_req(self.pixd.addr("http"), "GET", "/api/v1/images/after.bin")[1],
                         b"recovered")

    def test_faults_fd_headroom_refuses_with_reason_then_recovers(self):
        """Near the limit pixd refuses new clients in their protocol and
        keeps descriptors for those already in, whose store work goes on."""
        held = self.fill()
        self.assertEqual(set(self.refusals), {"native-error-8"}, self.refusals)  # LIMIT
        s = connect(self.pixd.addr("http"))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = s.recv(4096)
        s.close()
        self.assertIn(b" 503 ", reply)
        self.assertIn(b"too many connections", reply)
        self.not_spinning()
        for i, c in enumerate(held[:8]):
            c.put(4, f"in-{i}.bin", b"x" * 1000)
            self.assertEqual(len(c.list(5)), i + 1)
        self.assertIn("descriptors open", self.pixd.log())
        self.recovers(held)


class FdExhaustion(FdLimit):
    """Below the headroom's reach (a limit of 64): accept itself fails with
    EMFILE; libuv closes the new sockets; pixd must neither spin nor crash,
    and store work says why it failed."""
    limit = 64
    test_faults_fd_headroom_refuses_with_reason_then_recovers = None

    def test_faults_fd_exhaustion_refuses_then_recovers(self):
        held = self.fill()
        self.not_spinning()
        for c in held[:5]:
            try:
                self.assertEqual(c.list(2), [])
            except ServerError as e:
                self.assertEqual(e.kind, "busy")
                self.assertIn(b"out of file descriptors", e.args[0].encode())
        self.recovers(held)


class ResizeInputsHoldPlaces(PixdTestCase):
    """Resize inputs still arriving count against the job line (--workers
    1: one running + 8 waiting), so slow uploads cannot pin memory beyond
    it: the next client hears BUSY (native) or 503 (HTTP) at once."""
    pixd_listen = ("native=127.0.0.1:0", "http=127.0.0.1:0")
    pixd_args = ("--workers", "1")

    def begin_native(self, fid=1):
        r = native(self.pixd.addr("native"))
        body = field(TAG_SIZE, 8 << 20) + field(TAG_WIDTH, 10)
        r.sock.sendall(frame(T_RESIZE, body, fid=fid, flags=F_MORE) +
                       frame(T_DATA, b"\xff\xd8" + bytes(1000), fid=fid, flags=F_MORE))
        return r

    def begin_http(self):
        s = connect(self.pixd.addr("http"))
        s.sendall(b"POST /api/v1/resize?width=10 HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 8388608\r\n\r\n\xff\xd8" + bytes(1000))
        return s

    def test_faults_resize_uploads_in_progress_fill_the_line(self):
        held = [self.begin_native(i) for i in range(1, 6)] + [self.begin_http() for _ in range(4)]
        # Nine inputs arriving: the tenth of either kind is refused at once.
        late = self.begin_native()
        fid, code, msg = late.recv_error()
        self.assertEqual(code, 7, msg)  # BUSY
        self.assertIn("busy", msg)
        late.close()
        s = self.begin_http()
        self.assertIn(b" 503 ", s.recv(4096).split(b"\r\n")[0] + b" ")
        s.close()
        # An abandoned upload gives its place back.
        vanish(held.pop(0).sock)

        def admitted():
            # Replies come in order: PONG first means the RESIZE was taken.
            r = self.begin_native(9)
            r.sock.sendall(frame(T_PING, fid=10))
            if r.recv()[0] == T_PONG:
                return r
            r.close()
            return None
        held.append(wait_until(admitted, 10, "a place freed by a vanished upload"))
        # An HTTP upload abandoned mid-body gives its place back as well.
        vanish(held.pop(4))
        held.append(wait_until(admitted, 10, "a place freed by a vanished HTTP upload"))
        for h in held:
            vanish(h.sock if hasattr(h, "sock") else h)


class HungPushedCamera(PixdTestCase):
    """A remote camera whose pusher hangs mid-frame: the idle timeout cuts
    the pusher, its viewers are told the stream ended, and a local camera's
    viewers are served throughout. (Hung V4L2 and file sources are tested
    in tests/camera: v4l2_stall_reopens, file_source_slow_loop_gets_newest.)"""
    pixd_args = ("--idle-timeout", "1", "--camera", "local=test,width=64,height=48,fps=20")

    def test_faults_pusher_hangs_mid_frame(self):
        from test_camera import T_PUSH, T_PUSHING, jpeg, read_video_frame, watch
        pusher = Raw(self.pixd.addr())
        pusher.send(frame(T_PUSH, field(TAG_NAME, "remote"), fid=5))
        self.assertEqual(pusher.recv()[:3], (T_PUSHING, 0, 5))
        viewer = Raw(self.pixd.addr())
        watch(viewer, "remote")
        other = Raw(self.pixd.addr())
        watch(other, "local")
        data = jpeg(64, 48)
        pusher.send(frame(0x33, field(TAG_SIZE, len(data)), fid=5, flags=F_MORE) +
                    frame(T_DATA, data, fid=5))
        self.assertEqual(read_video_frame(viewer)[1], data)
        # Half of the next frame, then silence with the socket left open.
        pusher.send(frame(0x33, field(TAG_SIZE, len(data)), fid=5, flags=F_MORE) +
                    frame(T_DATA, data[:len(data) // 2], fid=5, flags=F_MORE))
        seen = 0
        viewer.sock.settimeout(15)
        ended = []

        def watcher():
            ended.append(read_video_frame(viewer))
        import threading
        t = threading.Thread(target=watcher)
        t.start()
        # The local camera keeps flowing while the remote one hangs.
        while t.is_alive() or seen < 10:
            read_video_frame(other)
            seen += 1
            self.assertLess(seen, 1000, "the hung pusher was never cut off")
        t.join()
        self.assertEqual(ended, [None], "the viewer is told the hung stream ended")
        self.assertTrue(pusher.closed(), "the hung pusher is disconnected")
