"""legacy-camfeed (seed 002, pixd-legacy(7)): camera clients written from
the protocol text. Each frame: u8 camera id, u32 body size, gzip'd image;
each id is the camera <prefix>-<id>. No replies: a bad frame ends the
connection (the reason is logged)."""
import gzip
import http.client
import json
import os
import struct
import subprocess
import tempfile
import threading
import unittest

from legacytest import LegacyCase, decode, image_bytes
from pixdtest import PIXD, wait_until


def frame(cam_id, body):
    return struct.pack(">BI", cam_id, len(body)) + body


def gz_frame(cam_id, fmt="BMP", size=(64, 48)):
    return frame(cam_id, gzip.compress(image_bytes(fmt, size), 9))


class Feeder:
    """A seed-002 camera client sending frames until stopped."""

    def __init__(self, case, frames, pixd=None):
        self.c = case.client(pixd)
        self.frames = frames
        self.stopping = threading.Event()
        self.error = None
        self.sent = 0
        self.t = threading.Thread(target=self.run)
        self.t.start()
        case.addCleanup(self.stop)

    def run(self):
        try:
            while not self.stopping.is_set():
                for f in self.frames:
                    self.c.send(f)
                    self.sent += 1
                self.stopping.wait(0.03)  # the camera's frame interval
        except OSError as e:
            self.error = e

    def stop(self, close=True):
        self.stopping.set()
        self.t.join(10)
        if close:
            self.c.close()


class LegacyCamfeed(LegacyCase):
    handler = "legacy-camfeed"
    pixd_args = ("--max-upload", "4M")
    pixd_listen = ("native=127.0.0.1:0", "http=127.0.0.1:0",
                   "legacy-camfeed=127.0.0.1:0,max-clients=3")

    def cams(self, pixd=None):
        r = (pixd or self.pixd).pixctl("--json", "cams")
        self.assertEqual(r.returncode, 0, r.stderr)
        return {c["name"]: c for c in json.loads(r.stdout)}

    def wait_cam(self, name, present=True, pixd=None):
        wait_until(lambda: (name in self.cams(pixd)) == present, 10,
                   f"camera {name} {'listed' if present else 'removed'}")

    def snap(self, name, pixd=None):
        d = tempfile.mkdtemp(prefix="pixd-snap-")
        path = os.path.join(d, "x.jpg")
        r = (pixd or self.pixd).pixctl("--timeout", "10", "snap", name, "-o", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(path, "rb") as f:
            data = f.read()
        os.unlink(path)
        os.rmdir(d)
        return decode(data)

    def assert_dropped(self, c, text):
        """The client is disconnected and the log says why."""
        self.assertTrue(c.closed(), "pixd kept a client that sent a bad frame")
        self.wait_log(text)
        self.assert_native_ok()

    def test_legacy_camfeed_frames_become_a_camera(self):
        Feeder(self, [gz_frame(3)])
        self.wait_cam("feed-3")
        # Listed with its size before anyone watches.
        wait_until(lambda: (self.cams()["feed-3"]["state"], self.cams()["feed-3"]["width"],
                            self.cams()["feed-3"]["height"]) == ("online", 64, 48), 10,
                   "feed-3 online at 64x48")
        self.assertEqual(self.snap("feed-3").size, (64, 48))
        # Over HTTP like any camera.
        h = http.client.HTTPConnection(*self.pixd.addr("http"), timeout=10)
        h.request("GET", "/api/v1/cameras/feed-3/snapshot")
        r = h.getresponse()
        body = r.read()
        self.assertEqual(r.status, 200, body)
        self.assertEqual(decode(body).size, (64, 48))
        h.close()
        # A watcher gets a stream.
        r = self.pixd.pixctl("watch", "feed-3", "--frames", "3", timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_native_ok()

    def test_legacy_camfeed_jpeg_and_png_inside(self):
        Feeder(self, [gz_frame(1, "JPEG", (80, 60)), gz_frame(2, "PNG", (32, 24))])
        self.wait_cam("feed-1")
        self.wait_cam("feed-2")
        self.assertEqual(self.snap("feed-1").size, (80, 60))
        self.assertEqual(self.snap("feed-2").size, (32, 24))

    def test_legacy_camfeed_disconnect_ends_streams(self):
        f = Feeder(self, [gz_frame(5), gz_frame(6)])
        self.wait_cam("feed-5")
        self.wait_cam("feed-6")
        watch = subprocess.Popen([*self.pixctl_cmd(), "watch", "feed-5"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until(lambda: self.cams()["feed-5"]["subscribers"] == 1, 10, "a watcher")
        f.stop()
        self.wait_cam("feed-5", present=False)
        self.wait_cam("feed-6", present=False)
        watch.wait(10)  # the watch ends when its camera goes
        watch.stderr.close()
        self.assert_native_ok()

    def pixctl_cmd(self, pixd=None):
        from pixdtest import PIXCTL
        host, port = (pixd or self.pixd).addr("native")
        return [PIXCTL, "--host", host, "--port", str(port)]

    def test_legacy_camfeed_prefix(self):
        p = self.start(*self.pixd_args, listen=(
            "native=127.0.0.1:0", "legacy-camfeed=127.0.0.1:0,prefix=cam"))
        Feeder(self, [gz_frame(7)], pixd=p)
        self.wait_cam("cam-7", pixd=p)
        self.assertEqual(self.snap("cam-7", pixd=p).size, (64, 48))

    def test_legacy_camfeed_bad_parameters_refused_at_start(self):
        for spec, text in (("prefix=a/b", "prefix"), ("max-clients=0", "max-clients"),
                           ("camera=x", "no parameter \"camera\"")):
            r = subprocess.run([PIXD, "--listen", "legacy-camfeed=127.0.0.1:0," + spec],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(text, r.stderr)

    def test_legacy_camfeed_max_clients(self):
        feeders = [Feeder(self, [gz_frame(i)]) for i in (1, 2, 3)]
        for i in (1, 2, 3):
            self.wait_cam(f"feed-{i}")
        extra = self.client()
        self.assertTrue(extra.closed(), "a client over max-clients was kept")
        self.wait_log("max-clients=3")
        self.assertEqual(self.snap("feed-2").size, (64, 48))
        feeders[0].stop()
        self.wait_cam("feed-1", present=False)
        Feeder(self, [gz_frame(4)])  # a slot is free again
        self.wait_cam("feed-4")
        self.assert_native_ok()

    def test_legacy_camfeed_not_gzip(self):
        c = self.client()
        c.send(frame(1, b"plain bytes, not gzip at all"))
        self.assert_dropped(c, "not gzip")

    def test_legacy_camfeed_gzip_bomb_refused(self):
        bomb = gzip.compress(bytes(100 << 20), 9)
        self.assertLess(len(bomb), 1 << 20)
        c = self.client()
        c.send(frame(1, bomb))
        self.assert_dropped(c, "inflates past the cap")

    def test_legacy_camfeed_not_an_image_inside(self):
        c = self.client()
        c.send(frame(1, gzip.compress(b"hello, this is text")))
        self.assert_dropped(c, "not a BMP, JPEG or PNG")

    def test_legacy_camfeed_corrupt_image_while_watched(self):
        Feeder(self, [gz_frame(9)])
        self.wait_cam("feed-9")
        watch = subprocess.Popen([*self.pixctl_cmd(), "watch", "feed-8"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (watch.kill(), watch.wait()))
        c = self.client()
        c.send(gz_frame(8))
        wait_until(lambda: "feed-8" in self.cams() and self.cams()["feed-8"]["subscribers"],
                   10, "watcher of feed-8")
        bmp = image_bytes("BMP", (64, 48))
        c.send(frame(8, gzip.compress(bmp[:200])))  # header fine, pixels cut
        self.assert_dropped(c, "frame for camera id 8")
        self.assertEqual(self.snap("feed-9").size, (64, 48))  # others unaffected

    def test_legacy_camfeed_size_field_zero_or_oversize(self):
        c = self.client()
        c.send(struct.pack(">BI", 1, 0))
        self.assert_dropped(c, "must be 1 to")
        c = self.client()
        c.send(struct.pack(">BI", 1, 0xFFFFFFFF))  # refused from the header
        self.assertTrue(c.closed())
        c = self.client()
        c.send(struct.pack(">BI", 1, (4 << 20) + 1))  # over --max-upload
        self.assertTrue(c.closed())

    def test_legacy_camfeed_disconnect_mid_message(self):
        c = self.client()
        c.send(b"\x02\x00")  # mid-header
        c.close()
        c = self.client()
        f = gz_frame(4)
        c.send(f[:len(f) // 2])  # mid-body: the camera exists from the header
        self.wait_cam("feed-4")
        c.close()
        self.wait_cam("feed-4", present=False)
        Feeder(self, [gz_frame(4)])
        self.wait_cam("feed-4")
        self.assert_native_ok()

    def test_legacy_camfeed_two_clients_at_once(self):
        Feeder(self, [gz_frame(1, "BMP", (40, 30))])
        Feeder(self, [gz_frame(2, "BMP", (50, 40))])
        self.wait_cam("feed-1")
        self.wait_cam("feed-2")
        self.assertEqual(self.snap("feed-1").size, (40, 30))
        self.assertEqual(self.snap("feed-2").size, (50, 40))
        # An id another client feeds is refused.
        c = self.client()
        c.send(gz_frame(1))
        self.assert_dropped(c, "already exists")
        self.assertEqual(self.snap("feed-1").size, (40, 30))

    def test_legacy_camfeed_idle_client_let_go(self):
        p = self.start("--idle-timeout", "0.5", listen=(
            "native=127.0.0.1:0", "legacy-camfeed=127.0.0.1:0"))
        c = self.client(p)
        c.send(gz_frame(1))
        self.wait_cam("feed-1", pixd=p)
        self.assertTrue(c.closed())
        self.wait_cam("feed-1", present=False, pixd=p)
        self.assert_native_ok(p)

    def test_legacy_camfeed_shutdown_while_fed_and_watched(self):
        f = Feeder(self, [gz_frame(1), gz_frame(2)])
        self.wait_cam("feed-1")
        watch = subprocess.Popen([*self.pixctl_cmd(), "watch", "feed-1"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (watch.kill(), watch.wait()))
        wait_until(lambda: self.cams()["feed-1"]["subscribers"] == 1, 10, "a watcher")
        self.assertEqual(self.pixd.stop(), 0)
        self.assertTrue(f.c.closed())
        watch.wait(10)


if __name__ == "__main__":
    unittest.main()
