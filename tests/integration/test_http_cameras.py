"""Cameras over HTTP: the list, snapshots, MJPEG streams, and the web page."""
import gzip
import http.client
import io
import json
import re
import signal
import socket
import time
import unittest

from PIL import Image

from pixdtest import *  # noqa: F401,F403

T_PUSH, T_PUSHING, T_FRAME = 0x35, 0x36, 0x33


def jpeg(w, h, shade=128):
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (shade, 255 - shade, 90)).save(buf, "JPEG")
    return buf.getvalue()


def image_size(data):
    im = Image.open(io.BytesIO(data))
    im.load()
    return im.format, im.size


class Stream:
    """An MJPEG response read off a raw socket: chunked transfer decoding,
    then multipart parts. part() returns (headers, jpeg) or None at the
    closing boundary."""

    def __init__(self, addr, path, rcvbuf=None, timeout=15.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(addr)
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: pixd\r\n\r\n".encode())
        self.raw = b""
        self.body = b""
        self.ended = False
        while b"\r\n\r\n" not in self.raw:
            self._recv()
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            self.headers[k.strip().lower()] = v.strip()
        m = re.match(r"multipart/x-mixed-replace;\s*boundary=(\S+)",
                     self.headers.get("content-type", ""))
        self.boundary = m.group(1).encode() if m else None

    def _recv(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError("pixd closed the stream")
        self.raw += d

    def _chunk(self):
        while b"\r\n" not in self.raw:
            self._recv()
        line, self.raw = self.raw.split(b"\r\n", 1)
        size = int(line.split(b";")[0], 16)
        while len(self.raw) < size + 2:
            self._recv()
        assert self.raw[size:size + 2] == b"\r\n", "chunk not followed by CRLF"
        self.body += self.raw[:size]
        self.raw = self.raw[size + 2:]
        if size == 0:
            self.ended = True

    def _need(self, n):
        while len(self.body) < n:
            if self.ended:
                raise EOFError("the response ended mid-part")
            self._chunk()

    def _line(self):
        while b"\r\n" not in self.body:
            if self.ended:
                raise EOFError("the response ended mid-line")
            self._chunk()
        line, self.body = self.body.split(b"\r\n", 1)
        return line

    def part(self):
        line = self._line()
        if line == b"--" + self.boundary + b"--":
            return None
        assert line == b"--" + self.boundary, f"expected a boundary, got {line[:80]!r}"
        headers = {}
        while True:
            line = self._line()
            if not line:
                break
            k, v = line.decode("latin-1").split(":", 1)
            headers[k.strip().lower()] = v.strip()
        if not headers:
            # pixd ends each part with the next boundary line at once, so
            # the close comes after an empty part.
            self._need(2)
            assert self.body[:2] == b"\r\n", "empty part not followed by CRLF"
            self.body = self.body[2:]
            return self.part()
        n = int(headers["content-length"])
        self._need(n + 2)
        data, tail, self.body = self.body[:n], self.body[n:n + 2], self.body[n + 2:]
        assert tail == b"\r\n", "part not followed by CRLF"
        return headers, data

    def end(self):
        """Read to the chunked terminator (after the closing boundary)."""
        while not self.ended:
            self._chunk()

    def close(self):
        self.sock.close()


class HttpCameraBase(PixdTestCase):
    pixd_listen = ("native=127.0.0.1:0", "http=127.0.0.1:0")

    def conn(self):
        host, port = self.pixd.addr("http")
        c = http.client.HTTPConnection(host, port, timeout=15)
        self.addCleanup(c.close)
        return c

    def get(self, path, method="GET", headers=None, c=None):
        c = c or self.conn()
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        return r, r.read()

    def stream(self, path, **kw):
        s = Stream(self.pixd.addr("http"), path, **kw)
        self.addCleanup(s.close)
        return s

    def cameras(self):
        r, body = self.get("/api/v1/cameras")
        self.assertEqual(r.status, 200)
        return {c["name"]: c for c in json.loads(body)}

    def push(self, name):
        """A camera pushed over the native protocol; returns the pusher."""
        p = Raw(self.pixd.addr())
        p.send(frame(T_PUSH, field(TAG_NAME, name), fid=1))
        self.assertEqual(p.recv()[:3], (T_PUSHING, 0, 1))
        return p


class HttpCameras(HttpCameraBase):
    pixd_args = ("--camera", "test=test,width=320,height=240,fps=15")

    def test_http_cameras_list(self):
        r, body = self.get("/api/v1/cameras")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "application/json")
        self.assertEqual(r.getheader("Cache-Control"), "no-store")
        cams = json.loads(body)
        self.assertEqual([c["name"] for c in cams], ["test"])
        keys = {"name", "source", "state", "width", "height", "fps", "subscribers", "frames",
                "delivered", "dropped", "broken"}
        self.assertEqual(set(cams[0]), keys)
        self.assertEqual(cams[0]["source"], "test")
        self.assertIn(cams[0]["state"], ("starting", "online"))

    def test_http_cameras_fps_measured_while_watched(self):
        s = self.stream("/api/v1/cameras/test/stream")
        self.assertEqual(s.status, 200)
        s.part()
        cams = wait_until(lambda: (lambda c: c if c["test"]["fps"] > 5 else None)(self.cameras()),
                          timeout=15, what="a measured frame rate")
        cam = cams["test"]
        self.assertIsInstance(cam["fps"], float)
        self.assertLess(cam["fps"], 20)
        self.assertEqual((cam["width"], cam["height"]), (320, 240))
        self.assertEqual(cam["state"], "online")
        self.assertEqual(cam["subscribers"], 1)
        self.assertGreater(cam["frames"], 0)
        self.assertGreater(cam["delivered"], 0)

    def test_http_snapshot_is_a_jpeg(self):
        c = self.conn()
        r, body = self.get("/api/v1/cameras/test/snapshot", c=c)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "image/jpeg")
        self.assertEqual(r.getheader("Cache-Control"), "no-store")
        self.assertEqual(int(r.getheader("Content-Length")), len(body))
        self.assertRegex(r.getheader("X-Timestamp"), r"^\d+\.\d{6}$")
        self.assertEqual(image_size(body), ("JPEG", (320, 240)))
        # Keep-alive: a second one, smaller, on the same connection.
        r, body = self.get("/api/v1/cameras/test/snapshot?width=160", c=c)
        self.assertEqual(r.status, 200)
        self.assertEqual(image_size(body), ("JPEG", (160, 120)))
        # Never larger than the camera.
        r, body = self.get("/api/v1/cameras/test/snapshot?width=1000", c=c)
        self.assertEqual(image_size(body), ("JPEG", (320, 240)))

    def test_http_snapshot_head(self):
        r, body = self.get("/api/v1/cameras/test/snapshot", method="HEAD")
        self.assertEqual(r.status, 200)
        self.assertEqual(body, b"")
        self.assertEqual(r.getheader("Content-Type"), "image/jpeg")
        self.assertGreater(int(r.getheader("Content-Length")), 0)

    def test_http_unknown_camera_404(self):
        for what in ("snapshot", "stream"):
            c = self.conn()
            r, body = self.get(f"/api/v1/cameras/nope/{what}", c=c)
            self.assertEqual(r.status, 404, what)
            self.assertEqual(r.getheader("Content-Type"), "application/json")
            err = json.loads(body)
            self.assertEqual(err["error"], "Not Found")
            self.assertIn("nope", err["message"])
            # The connection stays usable.
            r, _ = self.get("/api/v1/cameras", c=c)
            self.assertEqual(r.status, 200)

    def test_http_bad_parameters_400(self):
        for q in ("stream?fps=abc", "stream?fps=-1", "stream?fps=1001", "stream?width=1e3",
                  "stream?width=99999", "snapshot?width=x", "stream?width="):
            r, body = self.get(f"/api/v1/cameras/test/{q}")
            self.assertEqual(r.status, 400, q)
            self.assertIn("message", json.loads(body))

    def test_http_stream_parts_are_jpegs(self):
        s = self.stream("/api/v1/cameras/test/stream")
        self.assertEqual(s.status, 200)
        self.assertEqual(s.headers["transfer-encoding"], "chunked")
        self.assertEqual(s.headers["cache-control"], "no-store")
        self.assertIsNotNone(s.boundary, s.headers)
        seqs, stamps = [], []
        for _ in range(5):
            headers, data = s.part()
            self.assertEqual(headers["content-type"], "image/jpeg")
            self.assertEqual(image_size(data), ("JPEG", (320, 240)))
            self.assertTrue(data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9"))
            seqs.append(int(headers["x-frame-seq"]))
            stamps.append(float(headers["x-timestamp"]))
        self.assertEqual(seqs, sorted(set(seqs)), "frames in order, none twice")
        self.assertEqual(stamps, sorted(stamps))
        self.assertLess(abs(stamps[-1] - time.time()), 60, "X-Timestamp is Unix time")

    def test_http_stream_width(self):
        s = self.stream("/api/v1/cameras/test/stream?width=160")
        for _ in range(3):
            _, data = s.part()
            self.assertEqual(image_size(data), ("JPEG", (160, 120)))

    def test_http_stream_fps_cap(self):
        s = self.stream("/api/v1/cameras/test/stream?fps=4")
        stamps = [float(s.part()[0]["x-timestamp"]) for _ in range(6)]
        gaps = [b - a for a, b in zip(stamps, stamps[1:])]
        # 15 fps capped to 4: frames at least ~1/4 s apart (10% early allowed).
        self.assertGreater(sum(gaps) / len(gaps), 0.2, gaps)
        self.assertGreater(min(gaps), 0.15, gaps)

    def test_http_stream_head(self):
        c = self.conn()
        r, body = self.get("/api/v1/cameras/test/stream", method="HEAD", c=c)
        self.assertEqual(r.status, 200)
        self.assertEqual(body, b"")
        self.assertTrue(r.getheader("Content-Type").startswith("multipart/x-mixed-replace"))
        r, _ = self.get("/api/v1/cameras", c=c)
        self.assertEqual(r.status, 200)
        self.assertEqual(self.cameras()["test"]["subscribers"], 0)

    def test_http_stream_client_leaving_unsubscribes(self):
        s = self.stream("/api/v1/cameras/test/stream")
        s.part()
        self.assertEqual(self.cameras()["test"]["subscribers"], 1)
        s.close()
        wait_until(lambda: self.cameras()["test"]["subscribers"] == 0, timeout=10,
                   what="the stream's subscription to end")

    def test_http_stream_outlives_idle_timeout(self):
        p = self.start("--camera", "slow=test,width=64,height=48,fps=1", "--idle-timeout", "1",
                       listen=self.pixd_listen)
        s = Stream(p.addr("http"), "/api/v1/cameras/slow/stream")
        self.addCleanup(s.close)
        t0 = time.monotonic()
        n = 0
        while time.monotonic() - t0 < 3.5:
            s.part()
            n += 1
        self.assertGreaterEqual(n, 3)

    def test_http_stopping_pixd_ends_streams(self):
        s = self.stream("/api/v1/cameras/test/stream")
        s.part()
        self.pixd.send_signal(signal.SIGTERM)
        try:
            while s.part() is not None:
                pass
            s.end()
        except (EOFError, ConnectionResetError):
            pass  # closed at shutdown: also an end
        # Wait, not stop(): a second SIGTERM is "close everything now".
        self.assertEqual(self.pixd.proc.wait(timeout=10), 0)

    def test_http_page(self):
        c = self.conn()
        r, body = self.get("/", c=c)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "text/html; charset=utf-8")
        html = body.decode()
        self.assertIn("<title>pixd</title>", html)
        self.assertIn('name="viewport"', html)
        self.assertNotRegex(html, r"(src|href)=\"(https?:)?//", "no external URLs")
        self.assertIn("default-src 'self'", r.getheader("Content-Security-Policy"))
        for asset, ctype in (("app.js", "text/javascript; charset=utf-8"),
                             ("style.css", "text/css; charset=utf-8")):
            self.assertIn(f"/static/{asset}", html)
            r, body = self.get(f"/static/{asset}", c=c)
            self.assertEqual(r.status, 200, asset)
            self.assertEqual(r.getheader("Content-Type"), ctype)
            self.assertNotRegex(body.decode(), r"https?://", "no external URLs")
            plain, etag = body, r.getheader("ETag")
            # Compressed when asked, same bytes once inflated.
            r, body = self.get(f"/static/{asset}", headers={"Accept-Encoding": "gzip"}, c=c)
            self.assertEqual(r.getheader("Content-Encoding"), "gzip")
            self.assertEqual(gzip.decompress(body), plain)
            r, body = self.get(f"/static/{asset}", headers={"Accept-Encoding": "gzip;q=0"}, c=c)
            self.assertIsNone(r.getheader("Content-Encoding"))
            # Revalidation.
            r, body = self.get(f"/static/{asset}", headers={"If-None-Match": etag}, c=c)
            self.assertEqual((r.status, body), (304, b""))
        r, body = self.get("/static/index.html", c=c)
        self.assertEqual(r.status, 200)
        r, body = self.get("/static/nope.js", c=c)
        self.assertEqual(r.status, 404)
        r, body = self.get("/", method="HEAD", c=c)
        self.assertEqual((r.status, body), (200, b""))


class HttpPushedCameras(HttpCameraBase):
    def send_jpeg(self, pusher, data):
        pusher.send(frame(T_FRAME, field(TAG_SIZE, len(data)), fid=1, flags=F_MORE) +
                    frame(T_DATA, data, fid=1))

    def test_http_stream_passes_frames_through_and_ends_with_camera(self):
        pusher = self.push("remote")
        s = self.stream("/api/v1/cameras/remote/stream")
        self.assertEqual(s.status, 200)
        wait_until(lambda: self.cameras()["remote"]["subscribers"] == 1, what="the subscription")
        sent = [jpeg(64, 48, shade=50 * i) for i in range(3)]
        for data in sent:
            self.send_jpeg(pusher, data)
            headers, got = s.part()
            self.assertEqual(got, data, "a pushed JPEG goes out byte for byte")
            self.assertEqual(int(headers["content-length"]), len(data))
        pusher.close()
        self.assertIsNone(s.part(), "the closing boundary when the camera goes")
        s.end()

    def test_http_stream_boundary_follows_each_part_at_once(self):
        # Chromium shows a part only once it sees the boundary after it:
        # that line must come with the frame, not with the next one.
        pusher = self.push("one")
        s = self.stream("/api/v1/cameras/one/stream")
        wait_until(lambda: self.cameras()["one"]["subscribers"] == 1, what="the subscription")
        data = jpeg(64, 48)
        self.send_jpeg(pusher, data)
        headers, got = s.part()
        self.assertEqual(got, data)
        s.sock.settimeout(3)  # no second frame is sent
        self.assertEqual(s._line(), b"--" + s.boundary)
        pusher.close()

    def test_http_snapshot_503_without_frames(self):
        self.push("quiet")
        t0 = time.monotonic()
        r, body = self.get("/api/v1/cameras/quiet/snapshot")
        self.assertEqual(r.status, 503)
        self.assertIn("offline", json.loads(body)["message"])
        self.assertLess(time.monotonic() - t0, 10)
        self.assertEqual(self.cameras()["quiet"]["subscribers"], 0)

    def test_http_snapshot_503_when_camera_goes(self):
        pusher = self.push("brief")
        c = self.conn()
        c.request("GET", "/api/v1/cameras/brief/snapshot")
        wait_until(lambda: self.cameras()["brief"]["subscribers"] == 1, what="the snapshot waiting")
        pusher.close()
        r = c.getresponse()
        self.assertEqual(r.status, 503)
        self.assertIn("went away", json.loads(r.read())["message"])

    def test_http_snapshot_of_pushed_frame(self):
        pusher = self.push("one")
        c = self.conn()
        c.request("GET", "/api/v1/cameras/one/snapshot")
        wait_until(lambda: self.cameras()["one"]["subscribers"] == 1, what="the snapshot waiting")
        data = jpeg(80, 60, shade=30)
        self.send_jpeg(pusher, data)
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.read(), data)


class HttpSlowClient(HttpCameraBase):
    pixd_args = ("--camera", "big=test,width=640,height=480,fps=30")

    def test_http_stalled_stream_does_not_slow_another(self):
        stalled = self.stream("/api/v1/cameras/big/stream", rcvbuf=4096)
        self.assertEqual(stalled.status, 200)
        reader = self.stream("/api/v1/cameras/big/stream")
        reader.part()
        # The stalled client never reads: once its socket and pixd's queue
        # fill, the hub skips frames for it...
        deadline = time.monotonic() + 60
        while self.cameras()["big"]["dropped"] == 0:
            self.assertLess(time.monotonic(), deadline, "the stalled client never dropped frames")
            reader.part()
        # ...while the other still gets (nearly) every frame the camera makes.
        seqs = [int(reader.part()[0]["x-frame-seq"]) for _ in range(30)]
        got = len(seqs) / (seqs[-1] - seqs[0] + 1)
        self.assertGreater(got, 0.8, f"reader got only {got:.0%} of the frames: {seqs}")
        self.assertEqual(self.cameras()["big"]["subscribers"], 2,
                         "the stalled client is skipped, not disconnected")


if __name__ == "__main__":
    unittest.main()


class HttpAliases(HttpCameraBase):
    """URLs of mjpg-streamer (/?action=stream, as OctoPrint uses) and
    µStreamer (/stream, /snapshot): the first camera, or ?camera=NAME."""
    pixd_args = ("--camera", "first=test,width=320,height=240,fps=15",
                 "--camera", "second=test,width=160,height=120,fps=15")

    def snapshot_size(self, path):
        r, body = self.get(path)
        self.assertEqual(r.status, 200, body)
        self.assertEqual(r.getheader("Content-Type"), "image/jpeg")
        return image_size(body)[1]

    def stream_size(self, path):
        s = self.stream(path)
        self.assertEqual(s.status, 200)
        self.assertTrue(s.headers["content-type"].startswith("multipart/x-mixed-replace"))
        headers, data = s.part()
        self.assertEqual(headers["content-type"], "image/jpeg")
        s.close()
        return image_size(data)[1]

    def test_alias_snapshots(self):
        for path in ("/?action=snapshot", "/snapshot"):
            self.assertEqual(self.snapshot_size(path), (320, 240), path)
            sep = "&" if "?" in path else "?"
            self.assertEqual(self.snapshot_size(path + sep + "camera=second"), (160, 120), path)

    def test_alias_streams(self):
        for path in ("/?action=stream", "/stream"):
            self.assertEqual(self.stream_size(path), (320, 240), path)
            sep = "&" if "?" in path else "?"
            self.assertEqual(self.stream_size(path + sep + "camera=second"), (160, 120), path)

    def test_alias_unknown_camera_and_page_kept(self):
        for path in ("/?action=snapshot&camera=nope", "/stream?camera=nope",
                     "/snapshot?camera=nope"):
            r, body = self.get(path)
            self.assertEqual(r.status, 404, path)
            self.assertIn(b"nope", body)
        for path in ("/", "/?action=other", "/?x=1"):
            r, body = self.get(path)
            self.assertEqual(r.status, 200, path)
            self.assertEqual(r.getheader("Content-Type"), "text/html; charset=utf-8", path)

    def test_alias_counted_in_metrics(self):
        self.snapshot_size("/?action=snapshot")
        r, body = self.get("/metrics")
        self.assertRegex(body.decode(), r'route="snapshot-alias"[^\n]* 1\n')

