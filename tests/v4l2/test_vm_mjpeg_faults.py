"""MJPEG as cheap USB cameras send it, and a camera that stalls, on the real
v4l2loopback driver. Run by run-mjpeg-faults.sh inside ../shared/tools/v4l2-vm:
`--make DIR` writes the feed's frames, mjpeg-feed plays them into
/dev/video10 (v4l2loopback takes its format from its first producer only,
so this is a VM of its own), then the tests run against it.

- A feed mixing good frames, frames without Huffman tables (DHT), truncated
  frames (no EOI) and tiny garbage: pixd passes the good ones through
  byte-identical, mends the DHT-less ones by inserting the standard tables
  (no pixel decoded: the rest of the bytes are the camera's), drops the
  broken ones and counts them.
- A feeder that stops (SIGSTOP): after ,timeout=SEC without a frame pixd
  tells the watcher the camera is offline and reopens it; when the feeder
  resumes, the watcher is told it is online and frames flow again.

Environment: PIXD."""
import io
import os
import random
import signal
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from PIL import Image, ImageDraw  # noqa: E402

from pixdtest import *  # noqa: E402,F401,F403
from test_camera import (T_CAMS, T_CAMS_REPLY, T_FRAME, TAG_CAMERA, TAG_SEQ,  # noqa: E402
                         TAG_STATE, u64, watch)

DEVICE = "/dev/video10"
T_CAM_STATE = 0x37
TAG_BROKEN = 70
W, H = 640, 360


def segments_without_dht(jpeg):
    """The JPEG with every DHT segment removed (header segments only)."""
    out, i = bytearray(jpeg[:2]), 2
    while i + 4 <= len(jpeg) and jpeg[i] == 0xFF:
        marker = jpeg[i + 1]
        if marker == 0xDA:  # start of scan: the rest is entropy-coded data
            break
        seglen = int.from_bytes(jpeg[i + 2:i + 4], "big")
        if marker != 0xC4:
            out += jpeg[i:i + 2 + seglen]
        i += 2 + seglen
    return bytes(out + jpeg[i:])


def good_frame(i):
    img = Image.new("RGB", (W, H), (20 + 7 * i % 200, 90, 160))
    d = ImageDraw.Draw(img)
    x = (i * 37) % (W - 60)
    d.rectangle((x, 100, x + 60, 160), fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)  # standard Huffman tables (no optimize)
    return buf.getvalue()


def make_broken_feed(folder):
    """Frames in playing order; returns (good, dht-less, broken) byte sets."""
    os.makedirs(folder, exist_ok=True)
    rnd = random.Random(7)
    good, nodht, broken = set(), set(), set()
    for i in range(30):
        g = good_frame(i)
        kind = i % 5
        if kind in (0, 3):
            data = g
            good.add(data)
        elif kind == 1:
            data = segments_without_dht(g)
            assert b"\xff\xc4" not in data[:600] and data != g
            nodht.add(data)
        elif kind == 2:
            data = g[:len(g) * 2 // 3]  # cut off mid-scan: no EOI
            broken.add(data)
        else:
            data = b"\xff\xd8" + bytes(rnd.randrange(256) for _ in range(150))
            if data.endswith(b"\xff\xd9"):
                data = data[:-1]
            broken.add(data)
        with open(os.path.join(folder, "frame%05d.jpg" % i), "wb") as f:
            f.write(data)
    with open(os.path.join(folder, "size"), "w") as f:
        f.write(f"{W} {H}\n")
    return good, nodht, broken


def feeder_pid():
    """The process playing frames into /dev/video10 (mjpeg-feed play)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"mjpeg-feed") for a in argv) and b"play" in argv:
            return int(pid)
    raise AssertionError("no mjpeg-feed is playing into /dev/video10")


def cams(c):
    c.send(frame(T_CAMS, fid=99))
    t, _, _, body = c.recv()
    assert t == T_CAMS_REPLY, t
    out = {}
    for tag, v in parse_fields(body):
        assert tag == TAG_CAMERA
        f = dict(parse_fields(v))
        out[f[TAG_NAME].decode()] = f
    return out


def next_event(c):
    """('frame', fields, jpeg) | ('state', state, message) | ('end',)."""
    t, flags, fid, body = c.recv()
    if t == T_CAM_STATE:
        f = dict(parse_fields(body))
        return ("state", f[TAG_STATE].decode(), f.get(TAG_MESSAGE, b"").decode())
    if t == T_END:
        return ("end",)
    assert t == T_FRAME and flags & F_MORE, (t, flags)
    fields = {tag: u64(v) for tag, v in parse_fields(body) if len(v) == 8}
    data = bytearray()
    while True:
        t, flags, _, body = c.recv()
        assert t == T_DATA, t
        data += body
        if not flags & F_MORE:
            return ("frame", fields, bytes(data))


class BrokenFeed(PixdTestCase):
    pixd_args = ("--camera", f"mj={DEVICE},timeout=5")

    @classmethod
    def setUpClass(cls):
        # The same frames the feeder plays (made by --make, deterministic).
        cls.good, cls.nodht, cls.broken = make_broken_feed(tempfile.mkdtemp(prefix="feed-"))

    def test_good_passed_mended_dht_broken_dropped(self):
        c = Raw(self.pixd.addr(), timeout=60)
        watch(c, "mj", frames=24)
        passed = mended = 0
        while True:
            ev = next_event(c)
            if ev[0] == "end":
                break
            if ev[0] == "state":
                continue
            data = ev[2]
            self.assertNotIn(data, self.broken, "a broken frame reached a watcher")
            if data in self.good:
                passed += 1
                continue
            # Not a good frame as fed: it must be a DHT-less one with the
            # tables put back, every other byte the camera's.
            self.assertIn(b"\xff\xc4", data, "a frame without Huffman tables was delivered")
            self.assertIn(segments_without_dht(data), self.nodht,
                          "a delivered frame is neither fed nor a fed frame with DHT inserted")
            img = Image.open(io.BytesIO(data))
            img.load()  # decodes to the end: the inserted tables are right
            self.assertEqual(img.size, (W, H))
            mended += 1
        self.assertEqual(passed + mended, 24)
        self.assertGreater(passed, 0)
        self.assertGreater(mended, 0)
        wait_until(lambda: u64(cams(c)["mj"][TAG_BROKEN]) > 0, 20, "broken frames counted")
        print(f"\nbroken MJPEG feed: {passed} passed through, {mended} mended (DHT "
              f"inserted), {u64(cams(c)['mj'][TAG_BROKEN])} broken dropped", file=sys.stderr)


class StalledFeed(PixdTestCase):
    pixd_args = ("--camera", f"mj={DEVICE},timeout=1")


    def expect(self, c, want, deadline_s):
        """Reads the watch until the event want(ev) accepts; returns it."""
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            ev = next_event(c)
            self.assertNotEqual(ev[0], "end", "the watch ended")
            if want(ev):
                return ev
        self.fail("no such event before the deadline")

    def test_stall_offline_reopen_and_frames_resume(self):
        c = Raw(self.pixd.addr(), timeout=60)
        watch(c, "mj")
        first = self.expect(c, lambda ev: ev[0] == "frame", 30)
        t0 = time.monotonic()
        feeder = feeder_pid()
        os.kill(feeder, signal.SIGSTOP)  # the camera stops sending
        self.addCleanup(os.kill, feeder, signal.SIGCONT)
        ev = self.expect(c, lambda ev: ev[0] == "state", 30)
        self.assertEqual(ev[1], "offline")
        self.assertIn("no frame", ev[2])
        stalled_after = time.monotonic() - t0
        os.kill(feeder, signal.SIGCONT)
        self.expect(c, lambda ev: ev[0] == "state" and ev[1] == "online", 60)
        again = self.expect(c, lambda ev: ev[0] == "frame", 30)
        self.assertGreater(again[1][TAG_SEQ], first[1][TAG_SEQ])
        self.assertIn("no frame for 1000 ms", self.pixd.log())
        print(f"\nstalled feeder: watcher told offline after {stalled_after:.1f} s "
              "(timeout=1), frames resumed after SIGCONT", file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--make"]:  # the feed's frames, for mjpeg-feed play
        make_broken_feed(sys.argv[2])
        sys.exit(0)
    unittest.main(verbosity=2)
