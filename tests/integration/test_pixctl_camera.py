"""pixctl cams, snap, watch, push and view against the real pixd: what a user
sees (files, summaries, --json, exit codes, messages). test_camera.py checks
the protocol itself over raw frames."""
import io
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

from PIL import Image

from pixdtest import *  # noqa: F401,F403


def jpeg(w, h, shade):
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (shade, 255 - shade, 90)).save(buf, "JPEG")
    return buf.getvalue()


class CameraCase(PixdTestCase):
    """Each test works in its own directory, pixctl's working directory too."""

    pixd_args = ("--camera", "demo=test,width=320,height=240,fps=20",
                 "--camera", "fast=test,width=160,height=120,fps=30")

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pixctl-camera-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        super().setUp()

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def argv(self, *args):
        host, port = self.pixd.addr()
        return [PIXCTL, "--host", host, "--port", str(port)] + list(args)

    def ctl(self, *args, env=None, timeout=60, text=True):
        return subprocess.run(self.argv(*args), capture_output=True, text=text,
                              timeout=timeout, cwd=self.dir, env=env)

    def spawn(self, *args):
        p = subprocess.Popen(self.argv(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, cwd=self.dir)
        self.addCleanup(self._reap, p)
        return p

    @staticmethod
    def _reap(p):
        if p.poll() is None:
            p.kill()
        p.communicate()

    def ok(self, *args, **kw):
        r = self.ctl(*args, **kw)
        self.assertEqual(r.returncode, 0, f"pixctl {' '.join(args)}: {r.stdout} {r.stderr}")
        return r

    def fails(self, *args, rc=1, **kw):
        r = self.ctl(*args, **kw)
        self.assertEqual(r.returncode, rc, f"pixctl {' '.join(args)}: {r.stdout} {r.stderr}")
        self.assertTrue(r.stderr.startswith("pixctl: "), r.stderr)
        return r

    def cams(self):
        return {c["name"]: c for c in json.loads(self.ok("--json", "cams").stdout)}

    def subscribers(self, name):
        c = self.cams().get(name)
        return c["subscribers"] if c else 0

    def size(self, path):
        with Image.open(path) as img:
            return img.format, img.size


class Cams(CameraCase):
    def test_cams_table(self):
        lines = self.ok("cams").stdout.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "SOURCE", "STATE", "SIZE", "FPS", "SUBSCRIBERS"])
        rows = [line.split() for line in lines[1:]]
        self.assertEqual([r[0] for r in rows], ["demo", "fast"])  # sorted by name
        for r in rows:
            self.assertEqual(r[1], "test")
            self.assertIn(r[2], ("starting", "online", "offline"))
            self.assertRegex(r[4], r"^\d+\.\d$")

    def test_cams_json_counts_a_watcher(self):
        cams = self.cams()
        self.assertEqual(sorted(cams), ["demo", "fast"])
        for key in ("source", "state", "width", "height", "fps", "subscribers", "frames",
                    "delivered", "dropped"):
            self.assertIn(key, cams["demo"])
        w = self.spawn("watch", "demo")
        wait_until(lambda: self.subscribers("demo") == 1, what="demo to have a subscriber")
        demo = self.cams()["demo"]
        self.assertEqual((demo["width"], demo["height"]), (320, 240))
        w.send_signal(signal.SIGINT)
        out, err = w.communicate(timeout=30)
        self.assertEqual(w.returncode, 0, err)  # Ctrl-C is how a watch ends
        self.assertIn("watched demo", out)
        wait_until(lambda: self.subscribers("demo") == 0, what="the watch to be cancelled")


class Snap(CameraCase):
    def test_snap_default_name(self):
        r = self.ok("snap", "demo")
        files = os.listdir(self.dir)
        self.assertEqual(len(files), 1, files)
        self.assertRegex(files[0], r"^demo-\d{8}-\d{6}\.jpg$")
        self.assertEqual(self.size(self.path(files[0])), ("JPEG", (320, 240)))
        self.assertIn(files[0], r.stdout)

    def test_snap_width_output_and_json(self):
        r = self.ok("--json", "snap", "demo", "--width", "160", "-o", "small.jpg")
        self.assertEqual(self.size(self.path("small.jpg")), ("JPEG", (160, 120)))
        j = json.loads(r.stdout)
        self.assertEqual((j["name"], j["path"], j["width"], j["height"]), ("demo", "small.jpg", 160, 120))
        self.assertEqual(j["size"], os.path.getsize(self.path("small.jpg")))
        self.assertGreater(j["seq"], 0)
        # A second snapshot replaces the first, whole.
        self.ok("snap", "demo", "-o", "small.jpg")
        self.assertEqual(self.size(self.path("small.jpg")), ("JPEG", (320, 240)))
        self.assertEqual(sorted(os.listdir(self.dir)), ["small.jpg"])

    def test_snap_to_stdout(self):
        r = self.ok("snap", "fast", "-o", "-", text=False)
        self.assertEqual(Image.open(io.BytesIO(r.stdout)).size, (160, 120))

    def test_snap_unknown_camera(self):
        r = self.fails("snap", "nope")
        self.assertIn('no camera named "nope"', r.stderr)
        self.assertIn("pixctl cams", r.stderr)
        self.assertEqual(os.listdir(self.dir), [])


class Watch(CameraCase):
    def test_watch_writes_frames_in_order(self):
        r = self.ok("watch", "demo", "--frames", "5", "--out", "frames")
        names = sorted(os.listdir(self.path("frames")))
        self.assertEqual(len(names), 5, names)
        seqs = []
        for n in names:
            m = re.fullmatch(r"demo-(\d{8})\.jpg", n)
            self.assertTrue(m, n)
            seqs.append(int(m.group(1)))
            self.assertEqual(self.size(self.path("frames", n)), ("JPEG", (320, 240)))
        self.assertEqual(seqs, sorted(set(seqs)))
        self.assertIn("5 frames", r.stdout)
        self.assertIn("latency from capture: p50 ", r.stdout)
        self.assertIn("wrote 5 files to frames", r.stdout)

    def test_watch_json_and_width(self):
        j = json.loads(self.ok("--json", "watch", "demo", "--frames", "4", "--width", "160").stdout)
        self.assertEqual((j["name"], j["frames"], j["width"], j["height"]), ("demo", 4, 160, 120))
        self.assertEqual(j["end"], "frames")
        self.assertGreater(j["last_seq"], j["first_seq"])
        self.assertGreaterEqual(j["latency_ms"]["p99"], j["latency_ms"]["p50"])
        self.assertIsNone(j["out"])

    def test_watch_fps_cap(self):
        # fast runs at 30 fps; capped at 5, 6 frames span about a second.
        j = json.loads(self.ok("--json", "watch", "fast", "--fps", "5", "--frames", "6").stdout)
        self.assertEqual(j["frames"], 6)
        self.assertGreater(j["fps"], 2.5)
        self.assertLess(j["fps"], 6.5)
        self.assertGreaterEqual(j["seconds"], 5 * 0.2 * 0.8)
        self.assertGreater(j["missed"], 0)  # the frames the cap skipped

    def test_watch_unknown_camera(self):
        r = self.fails("watch", "nope", "--frames", "1")
        self.assertIn('no camera named "nope"', r.stderr)
        self.assertIn("(NOTFOUND)", r.stderr)

    def test_watch_interrupted_before_its_frames(self):
        w = self.spawn("watch", "demo", "--frames", "100000")
        wait_until(lambda: self.subscribers("demo") == 1, what="demo to have a subscriber")
        w.send_signal(signal.SIGINT)
        out, err = w.communicate(timeout=30)
        self.assertEqual(w.returncode, 130, err)  # fell short of --frames
        self.assertIn("watched demo", out)

    def test_watch_usage(self):
        self.fails("watch", rc=2)
        self.fails("watch", "demo", "fast", rc=2)
        self.fails("watch", "demo", "--fps", "0", rc=2)


class Push(CameraCase):
    pixd_args = ("--camera", "demo=test,width=64,height=48,fps=10")

    def test_push_test_pattern_watched_by_another(self):
        p = self.spawn("push", "test", "--name", "remote", "--frames", "60", "--fps", "20",
                       "--width", "320", "--height", "240")
        wait_until(lambda: "remote" in self.cams(), timeout=20, what="the pushed camera")
        j = json.loads(self.ok("--json", "watch", "remote", "--frames", "3").stdout)
        self.assertEqual((j["frames"], j["width"], j["height"]), (3, 320, 240))
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        self.assertIn("pushed 60 frames as camera remote", out)
        wait_until(lambda: "remote" not in self.cams(), what="the camera to go with the push")

    def test_push_directory_untouched(self):
        os.mkdir(self.path("seq"))
        sent = set()
        for i in range(4):
            data = jpeg(64, 48, 50 * i)
            sent.add(data)
            with open(self.path("seq", f"f{i}.jpg"), "wb") as f:
                f.write(data)
        p = self.spawn("push", "seq", "--name", "dir", "--fps", "30")
        wait_until(lambda: "dir" in self.cams(), timeout=20, what="the pushed camera")
        self.ok("watch", "dir", "--frames", "4", "--out", "got")
        for n in os.listdir(self.path("got")):
            with open(self.path("got", n), "rb") as f:
                self.assertIn(f.read(), sent, "pushed JPEGs pass through untouched")
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, err)  # Ctrl-C is how a push ends
        self.assertRegex(out, r"^pushed \d+ frames as camera dir in ")

    def test_push_file_sequence_scaled(self):
        # file: goes through OpenCV videoio in pixctl-video.so; --width alone
        # keeps the aspect.
        os.mkdir(self.path("seq"))
        for i in range(10):
            Image.new("RGB", (160, 120), (20 * i, 90, 200 - 20 * i)).save(
                self.path("seq", f"img_{i:04d}.jpg"), quality=90)
        p = self.spawn("--json", "push", "file:" + self.path("seq", "img_%04d.jpg"), "--name", "seq",
                       "--width", "80", "--fps", "20")
        wait_until(lambda: "seq" in self.cams(), timeout=20, what="the pushed camera")
        self.ok("watch", "seq", "--frames", "3", "--out", "got")
        for n in os.listdir(self.path("got")):
            self.assertEqual(self.size(self.path("got", n)), ("JPEG", (80, 60)))
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, err)
        j = json.loads(out)
        self.assertEqual((j["name"], j["size"], j["end"]), ("seq", "80x60", "interrupted"))
        self.assertGreaterEqual(j["frames"], 3)

    def test_push_missing_file(self):
        r = self.fails("push", "file:" + self.path("nope.mp4"), "--name", "x")
        self.assertIn("cannot open", r.stderr)
        self.assertIn("nope.mp4", r.stderr)

    def test_push_name_taken(self):
        r = self.fails("push", "test", "--name", "demo", "--frames", "1")
        self.assertIn("already exists", r.stderr)
        self.assertIn("(EXISTS)", r.stderr)

    def test_push_not_a_jpeg_directory(self):
        os.mkdir(self.path("bad"))
        with open(self.path("bad", "a.jpg"), "wb") as f:
            f.write(b"not a jpeg at all")
        r = self.fails("push", "bad", "--name", "bad", "--frames", "1")
        self.assertIn("is not a JPEG file", r.stderr)

    def test_push_usage(self):
        self.assertIn("--name", self.fails("push", "test", rc=2).stderr)
        self.fails("push", "--name", "x", rc=2)
        os.mkdir(self.path("empty"))
        self.fails("push", "empty", "--name", "x", "--width", "64", rc=2)


class View(CameraCase):
    def test_view_without_display(self):
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        r = self.fails("view", "demo", env=env)
        self.assertIn("view needs a graphical display: set DISPLAY, or use `pixctl watch --out DIR`",
                      r.stderr)

    def test_view_usage(self):
        self.fails("view", rc=2)


if __name__ == "__main__":
    unittest.main()
