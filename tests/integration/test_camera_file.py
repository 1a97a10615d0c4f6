"""file: cameras in the real pixd: a looped image sequence at the rate asked,
resized, and a missing file shown offline and retried while pixd serves the
other cameras. Needs pixd-videoio.so in PIXD_MODULE_DIR.

Each frame of the sequence is a flat gray whose level says which frame it
is, so order and looping show in what a watcher receives.
"""
import io
import os
import shutil
import tempfile
import time
import unittest

from PIL import Image

from pixdtest import *  # noqa: F401,F403
from test_camera import (T_CAMS, T_CAMS_REPLY, TAG_CAMERA, TAG_SEQ, TAG_SOURCE,
                         read_video_frame, watch)

SEQ_LEN = 30
TAG_STATE = 61


def level(i):
    return 5 + 6 * (i % SEQ_LEN)


def frame_index(data):
    img = Image.open(io.BytesIO(data)).convert("L")
    return round((img.getpixel((img.width // 2, img.height // 2)) - 5) / 6)


def cams(pixd):
    """{name: {"source": str, "state": str}} from CAMS."""
    c = Raw(pixd.addr())
    c.send(frame(T_CAMS, fid=1))
    t, _, _, body = c.recv()
    assert t == T_CAMS_REPLY, t
    out = {}
    for tag, v in parse_fields(body):
        assert tag == TAG_CAMERA
        f = dict(parse_fields(v))
        out[f[TAG_NAME].decode()] = {"source": f[TAG_SOURCE].decode(),
                                     "state": f[TAG_STATE].decode()}
    c.close()
    return out


class FileCameras(PixdTestCase):
    @classmethod
    def setUpClass(cls):
        cls.media = tempfile.mkdtemp(prefix="pixd-file-cam-")
        for i in range(SEQ_LEN):
            g = level(i)
            Image.new("RGB", (160, 120), (g, g, g)).save(
                os.path.join(cls.media, f"img_{i:04d}.jpg"), quality=90)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.media, ignore_errors=True)

    def setUp(self):
        m = self.media
        self.late = os.path.join(m, "late_%04d.jpg")
        self.pixd = self.start(
            "--camera", f"seq=file:{m}/img_%04d.jpg,fps=20",
            "--camera", f"small=file:{m}/img_%04d.jpg,fps=10,width=80",
            "--camera", f"late=file:{self.late}",
            "--camera", "demo=test,width=160,height=120,fps=10",
            listen=self.pixd_listen)

    def tearDown(self):
        for i in range(2):
            try:
                os.unlink(self.late % i)
            except FileNotFoundError:
                pass

    def test_file_camera_frames_paced_and_looped(self):
        c = Raw(self.pixd.addr())
        watch(c, "seq", frames=40)
        seqs, idx, stamps = [], [], []
        while (got := read_video_frame(c)) is not None:
            fields, data = got
            self.assertEqual(Image.open(io.BytesIO(data)).size, (160, 120))
            seqs.append(fields[TAG_SEQ])
            idx.append(frame_index(data))
            stamps.append(time.monotonic())
        self.assertEqual(len(seqs), 40)
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + 40)))
        # The sequence in order, starting over after the last. A source
        # that falls behind the clock (a starved CPU) skips to stay on
        # time, as a video player does: rarely, never backwards or twice.
        steps = [(b - a) % SEQ_LEN for a, b in zip(idx, idx[1:])]
        self.assertTrue(all(1 <= d <= 3 for d in steps), steps)
        self.assertGreaterEqual(steps.count(1), 35, steps)
        self.assertTrue(any(b < a for a, b in zip(idx, idx[1:])), f"never looped: {idx}")
        # 39 intervals at 20 fps: about 1.95 s, paced by the clock.
        span = stamps[-1] - stamps[0]
        self.assertGreater(span, 39 / 20 * 0.85)
        self.assertLess(span, 39 / 20 * 1.3)

    def test_file_camera_resized(self):
        c = Raw(self.pixd.addr())
        watch(c, "small", frames=2)
        fields, data = read_video_frame(c)
        self.assertEqual(Image.open(io.BytesIO(data)).size, (80, 60))
        self.assertEqual((fields[TAG_WIDTH], fields[TAG_HEIGHT]), (80, 60))

    def test_missing_file_offline_then_retried(self):
        wait_until(lambda: cams(self.pixd)["late"]["state"] == "offline", 10,
                   "the missing file's camera to be offline")
        self.assertIn("late_%04d.jpg: no image sequence matches", self.pixd.log())
        # pixd goes on serving the others meanwhile.
        c = Raw(self.pixd.addr())
        watch(c, "demo", frames=3)
        n = 0
        while read_video_frame(c) is not None:
            n += 1
        self.assertEqual(n, 3)
        # The files appear: a retry (back-off of at most a few seconds here)
        # finds them.
        for i in range(2):
            shutil.copy(os.path.join(self.media, f"img_{i:04d}.jpg"), self.late % i)
        wait_until(lambda: cams(self.pixd)["late"]["state"] == "online", 15,
                   "the camera to come online once its files exist")
        c = Raw(self.pixd.addr())
        watch(c, "late", frames=3)
        got = [frame_index(read_video_frame(c)[1]) for _ in range(3)]
        self.assertEqual(got, [0, 1, 0])


class FileCameraBadSource(PixdTestCase):
    def setUp(self):
        pass

    def test_unknown_source_refused_at_start(self):
        p = self.start("--camera", "x=/no/such/thing.avi", wait=False)
        rc = p.proc.wait(timeout=20)
        self.assertNotEqual(rc, 0)
        self.assertIn("unknown source", p.log())


if __name__ == "__main__":
    unittest.main()
