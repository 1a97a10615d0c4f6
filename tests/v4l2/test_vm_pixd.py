"""pixd on real V4L2 drivers, over the native protocol. Run by run-in-vm.sh
inside ../shared/tools/v4l2-vm: /dev/video0 is vivid (YUYV), /dev/video10 is
v4l2loopback fed JPEG frames from FRAMES by mjpeg-feed at FEED_FPS.

Environment: PIXD (the daemon), FRAMES (the feeder's frame folder),
FEED_FPS. Prints the frame rates seen."""
import glob
import io
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from PIL import Image  # noqa: E402

from pixdtest import *  # noqa: E402,F401,F403
from test_camera import (T_CAMS, T_CAMS_REPLY, T_SNAP, TAG_CAMERA, TAG_FRAMES,  # noqa: E402
                         TAG_SEQ, TAG_STATE, read_video_frame, u64, watch)

FRAMES = os.environ.get("FRAMES", "/run/vm-job/frames")
FEED_FPS = float(os.environ.get("FEED_FPS", "15"))
FED = {open(p, "rb").read() for p in glob.glob(os.path.join(FRAMES, "*.jpg"))}


def cams(c):
    c.send(frame(T_CAMS, fid=1))
    t, _, _, body = c.recv()
    assert t == T_CAMS_REPLY, t
    out = {}
    for tag, v in parse_fields(body):
        assert tag == TAG_CAMERA
        f = dict(parse_fields(v))
        out[f[TAG_NAME].decode()] = f
    return out


def take(c, name, n):
    """n frames of a WATCH: [(fields, jpeg)], and the rate they came at."""
    watch(c, name, frames=n)
    got, t0 = [], None
    while True:
        item = read_video_frame(c)
        if item is None:
            break
        if t0 is None:
            t0 = time.monotonic()
        got.append(item)
    rate = (len(got) - 1) / (time.monotonic() - t0) if len(got) > 1 else 0.0
    return got, rate


class V4l2Pixd(PixdTestCase):
    pixd_args = ("--camera", "cam=/dev/video0,width=640,height=360,fps=15",
                 "--camera", "mj=/dev/video10")

    def test_both_cameras_listed_online(self):
        c = Raw(self.pixd.addr(), timeout=30)
        got = cams(c)
        self.assertEqual(sorted(got), ["cam", "mj"])
        for name in got:
            wait_until(lambda: cams(c)[name][TAG_STATE] == b"online", 20,
                       f"{name} online")

    def test_yuyv_camera_gives_changing_jpeg_frames(self):
        c = Raw(self.pixd.addr(), timeout=30)
        frames, rate = take(c, "cam", 30)
        self.assertEqual(len(frames), 30)
        seqs = [f[TAG_SEQ] for f, _ in frames]
        self.assertEqual(seqs, sorted(set(seqs)))
        for fields, data in frames:
            img = Image.open(io.BytesIO(data))
            self.assertEqual((img.format, img.size), ("JPEG", (640, 360)))
            self.assertEqual((fields[TAG_WIDTH], fields[TAG_HEIGHT]), (640, 360))
        # vivid's picture moves: consecutive frames differ.
        self.assertEqual(len({d for _, d in frames}), 30)
        print(f"\nvivid YUYV 640x360 asked 15 fps: {rate:.1f} fps over the native protocol",
              file=sys.stderr)
        # Emulated CPU: prove frames flow at a rate, not the rate (speed is for bench/).
        self.assertGreater(rate, 15 * 0.2)

    def test_mjpeg_passed_through_byte_identical(self):
        self.assertTrue(FED, f"no feeder frames in {FRAMES}")
        c = Raw(self.pixd.addr(), timeout=30)
        frames, rate = take(c, "mj", 30)
        self.assertEqual(len(frames), 30)
        alien = [d for _, d in frames if d not in FED]
        if alien:
            with open(os.path.join(os.environ.get("TMPDIR", "/tmp"), "alien.jpg"), "wb") as f:
                f.write(alien[0])
        self.assertEqual(len(alien), 0, f"{len(alien)} of {len(frames)} frames are not "
                         "byte-identical to any frame fed (the first is in $TMPDIR/alien.jpg)")
        self.assertGreater(len({d for _, d in frames}), 20)
        print(f"\nv4l2loopback MJPEG fed at {FEED_FPS:g} fps: {rate:.1f} fps, "
              f"every frame byte-identical to one fed", file=sys.stderr)
        self.assertGreater(rate, FEED_FPS * 0.2)

    def test_snapshot_is_a_fed_frame(self):
        c = Raw(self.pixd.addr(), timeout=30)
        c.send(frame(T_SNAP, field(TAG_NAME, "mj"), fid=1))
        fields, data = read_video_frame(c)
        self.assertTrue(data in FED, "the snapshot is not a frame fed")
        self.assertIsNone(read_video_frame(c))
        c.send(frame(T_SNAP, field(TAG_NAME, "cam"), fid=2))
        fields, data = read_video_frame(c)
        self.assertEqual(Image.open(io.BytesIO(data)).size, (640, 360))

    def test_idle_cameras_stop_streaming(self):
        c = Raw(self.pixd.addr(), timeout=30)
        take(c, "cam", 3)
        take(c, "mj", 3)
        time.sleep(1.0)  # the next frame's arrival stops the capture
        frames0 = {n: u64(f[TAG_FRAMES]) for n, f in cams(c).items()}
        time.sleep(1.5)
        frames1 = {n: u64(f[TAG_FRAMES]) for n, f in cams(c).items()}
        self.assertEqual(frames0, frames1, "a camera captured while nobody watched")


if __name__ == "__main__":
    unittest.main(verbosity=2)
