"""pixctl resize against the real pixd: what a user sees (files, names,
statistics, --json, exit codes, messages). test_resize.py checks the
pictures themselves over raw frames."""
import io
import json
import os
import shutil
import signal
import subprocess
import tempfile
import unittest

import numpy
from PIL import Image

from pixdtest import *  # noqa: F401,F403


def photo(w, h, seed=1):
    """A photo-like picture: gradients, a checkerboard and noise."""
    rng = numpy.random.default_rng(seed)
    y, x = numpy.mgrid[0:h, 0:w].astype(numpy.float32)
    r = 128 + 100 * numpy.sin(x / 37.0) * numpy.cos(y / 53.0)
    g = 255 * x / w
    b = 255 * ((x // 64 + y // 64) % 2)
    img = numpy.stack([r, g, b], axis=2) + rng.normal(0, 6, (h, w, 3))
    return Image.fromarray(numpy.clip(img, 0, 255).astype(numpy.uint8), "RGB")


def encode(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


class ResizeCase(PixdTestCase):
    """Helpers. Each test works in its own directory (self.dir), pixctl's
    working directory too; the store of its pixd is inside it."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pixctl-resize-")
        self.addCleanup(shutil.rmtree, self.dir, True)  # runs last: after pixd stopped
        self.store = os.path.join(self.dir, "store")
        self.pixd = self.start(*self.pixd_args, listen=self.pixd_listen, store=self.store)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def local(self, name, data):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def image(self, path):
        """(format, size) of an image file."""
        with Image.open(path) as img:
            return img.format, img.size

    def ctl(self, *args, timeout=120):
        host, port = self.pixd.addr()
        return subprocess.run([PIXCTL, "--host", host, "--port", str(port)] + list(args),
                              capture_output=True, text=True, timeout=timeout, cwd=self.dir)

    def ok(self, *args, **kw):
        r = self.ctl(*args, **kw)
        self.assertEqual(r.returncode, 0, f"pixctl {' '.join(args)}: {r.stdout} {r.stderr}")
        return r

    def fails(self, *args, rc=1, **kw):
        r = self.ctl(*args, **kw)
        self.assertEqual(r.returncode, rc, f"pixctl {' '.join(args)}: {r.stdout} {r.stderr}")
        self.assertTrue(r.stderr.startswith("pixctl: "), r.stderr)
        return r

    def no_part_files(self):
        for root, _, files in os.walk(self.dir):
            for f in files:
                self.assertFalse(f.endswith(".part"), os.path.join(root, f))


class PixctlResize(ResizeCase):

    def test_resize_several_files_default_names_and_statistics(self):
        self.local("pics/a.jpg", encode(photo(1600, 1200), "JPEG", quality=90))
        self.local("pics/b.png", encode(photo(800, 600, seed=2), "PNG"))
        self.local("pics/c.JPEG", encode(photo(900, 600, seed=3), "JPEG"))
        r = self.ok("resize", "pics/a.jpg", "pics/b.png", "pics/c.JPEG", "--width", "400",
                    "--height", "300")
        # Beside the input, seed 004's prefix, the output format's extension
        # (kept when the input's already is one for JPEG).
        self.assertEqual(self.image(self.path("pics/processed_a.jpg")), ("JPEG", (400, 300)))
        self.assertEqual(self.image(self.path("pics/processed_b.jpg")), ("JPEG", (400, 300)))
        self.assertEqual(self.image(self.path("pics/processed_c.JPEG")), ("JPEG", (400, 267)))
        out = r.stdout
        # In the order given, each with sizes, dimensions, times, scale, ratio.
        self.assertLess(out.index("pics/a.jpg -> pics/processed_a.jpg"),
                        out.index("pics/b.png -> pics/processed_b.jpg"))
        self.assertLess(out.index("pics/b.png ->"), out.index("pics/c.JPEG ->"))
        size_a = os.path.getsize(self.path("pics/a.jpg"))
        size_out = os.path.getsize(self.path("pics/processed_a.jpg"))
        self.assertIn(f"original size:     {size_a} bytes, 1600x1200 jpeg", out)
        self.assertIn(f"processed size:    {size_out} bytes, 400x300 jpeg", out)
        self.assertIn("1600x1200 jpeg", out)
        self.assertIn("800x600 png", out)
        self.assertIn("DCT scale 1/4", out)
        self.assertIn("DCT scale 1/1", out)
        self.assertIn(f"compression ratio: {size_a / size_out:.2f}x", out)
        self.assertRegex(out, r"processing time:   \d+\.\d{3} ms \(queued \d+\.\d{3} ms\)")
        self.assertRegex(out, r"3 of 3 images resized in \d+\.\d\d s")
        self.no_part_files()

    def test_resize_output_file_and_directory(self):
        a = self.local("a.jpg", encode(photo(1200, 800), "JPEG"))
        b = self.local("b.jpg", encode(photo(600, 400, seed=2), "JPEG"))
        # -o FILE: its extension chooses the format when --format is absent.
        self.ok("resize", "a.jpg", "--width", "300", "-o", "small.png")
        self.assertEqual(self.image(self.path("small.png")), ("PNG", (300, 200)))
        self.ok("resize", "a.jpg", "--width", "300", "-o", "small.webp")
        self.assertEqual(self.image(self.path("small.webp")), ("WEBP", (300, 200)))
        # -o DIR for several.
        os.mkdir(self.path("out"))
        self.ok("resize", a, b, "--height", "100", "--format", "webp", "-o", "out")
        self.assertEqual(self.image(self.path("out/processed_a.webp")), ("WEBP", (150, 100)))
        self.assertEqual(self.image(self.path("out/processed_b.webp")), ("WEBP", (150, 100)))
        # Several sources need an existing directory.
        r = self.fails("resize", a, b, "-o", "nowhere", rc=2)
        self.assertIn("existing directory", r.stderr)
        # A format that contradicts the extension of -o is refused.
        self.fails("resize", a, "-o", "x.png", "--format", "jpeg", rc=2)
        # -o -: the image on standard output, the statistics on stderr.
        host, port = self.pixd.addr()
        r = subprocess.run([PIXCTL, "--host", host, "--port", str(port), "resize", a, "--width", "120",
                            "-o", "-"], capture_output=True, timeout=60, cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(Image.open(io.BytesIO(r.stdout)).size, (120, 80))
        self.assertIn(b"compression ratio", r.stderr)
        self.no_part_files()

    def test_resize_json_fields(self):
        self.local("a.jpg", encode(photo(1600, 1200), "JPEG"))
        self.local("b.png", encode(photo(640, 480, seed=2), "PNG"))
        r = self.ok("resize", "a.jpg", "b.png", "--width", "200", "--height", "200", "--mode", "fill",
                    "--json")
        res = json.loads(r.stdout)
        self.assertEqual([x["file"] for x in res], ["a.jpg", "b.png"])
        a, b = res
        self.assertEqual(a["output"], "processed_a.jpg")
        self.assertEqual(b["output"], "processed_b.jpg")
        for x in res:
            self.assertEqual((x["out_width"], x["out_height"]), (200, 200))
            self.assertEqual(x["format"], "jpeg")
            self.assertEqual(x["out_bytes"], os.path.getsize(self.path(x["output"])))
            self.assertEqual(x["in_bytes"], os.path.getsize(self.path(x["file"])))
            self.assertAlmostEqual(x["ratio"], x["in_bytes"] / x["out_bytes"], places=2)
            self.assertGreaterEqual(x["process_ms"], 0)
            self.assertGreaterEqual(x["queue_ms"], 0)
            self.assertIsNone(x["stored"])
            self.assertIsNone(x["entry"])
            self.assertNotIn("error", x)
        self.assertEqual((a["in_type"], a["in_width"], a["in_height"], a["scale"]),
                         ("jpeg", 1600, 1200, "1/4"))
        self.assertEqual((b["in_type"], b["scale"]), ("png", "1/1"))

    def test_resize_non_image_fails_alone(self):
        self.local("a.jpg", encode(photo(800, 600), "JPEG"))
        self.local("notes.jpg", b"these are not the pixels you are looking for\n" * 50)
        self.local("c.png", encode(photo(400, 300, seed=2), "PNG"))
        r = self.fails("resize", "a.jpg", "notes.jpg", "missing.jpg", "c.png", "--width", "100")
        self.assertIn("pixctl: resize notes.jpg: not an image", r.stderr)
        self.assertIn("(INVALID)", r.stderr)
        self.assertIn("pixctl: resize missing.jpg: no such file or directory", r.stderr)
        self.assertEqual(self.image(self.path("processed_a.jpg")), ("JPEG", (100, 75)))
        self.assertEqual(self.image(self.path("processed_c.jpg")), ("JPEG", (100, 75)))
        self.assertFalse(os.path.exists(self.path("processed_notes.jpg")))
        self.assertIn("2 of 4 images resized", r.stdout)
        # The same with --json: one object per source, failures with error
        # and message.
        r = self.fails("resize", "notes.jpg", "a.jpg", "--width", "100", "--force", "--json")
        res = json.loads(r.stdout)
        self.assertEqual(res[0]["error"], "INVALID")
        self.assertIn("not an image", res[0]["message"])
        self.assertEqual(res[1]["out_width"], 100)
        self.no_part_files()

    def test_resize_stored_and_store_as(self):
        self.local("big.jpg", encode(photo(1200, 800), "JPEG"))
        self.ok("put", "big.jpg")
        r = self.ok("resize", "--stored", "big.jpg", "--width", "300", "--store-as", "small.jpg")
        self.assertIn("big.jpg (stored) -> stored small.jpg", r.stdout)
        self.assertEqual(self.image(os.path.join(self.store, "small.jpg")), ("JPEG", (300, 200)))
        st = json.loads(self.ok("stat", "small.jpg", "--json").stdout)
        self.assertEqual((st["width"], st["height"], st["type"]), (300, 200, "jpeg"))
        # --store-as with --json: the entry as stored; its extension picks
        # the format.
        r = self.ok("resize", "--stored", "big.jpg", "--width", "150", "--store-as", "tiny.png", "--json")
        res = json.loads(r.stdout)
        self.assertEqual(res[0]["entry"]["name"], "tiny.png")
        self.assertEqual(res[0]["entry"]["type"], "png")
        self.assertIsNone(res[0]["output"])
        # Round trip: the stored result resized again, downloaded beside us.
        self.ok("resize", "--stored", "small.jpg", "--width", "100")
        self.assertEqual(self.image(self.path("processed_small.jpg")), ("JPEG", (100, 67)))
        r = self.fails("resize", "--stored", "missing.jpg", "--width", "100")
        self.assertIn("missing.jpg (stored): not in the server's store", r.stderr)
        # --store-as names one result.
        self.fails("resize", "big.jpg", "--stored", "big.jpg", "--store-as", "x.jpg", rc=2)

    def test_resize_bad_usage_exits_2(self):
        self.local("a.jpg", encode(photo(200, 100), "JPEG"))
        for args, said in ((["--mode", "sideways"], "--mode"),
                           (["--quality", "0"], "--quality"),
                           (["--width", "-5"], "--width"),
                           (["--format", "gif"], "--format"),
                           (["--sharpen", "lots"], "--sharpen"),
                           (["--jobs", "0"], "--jobs")):
            r = self.fails("resize", "a.jpg", *args, rc=2)
            self.assertIn(said, r.stderr)
        r = self.fails("resize", rc=2)
        self.assertIn("at least one FILE", r.stderr)
        self.assertFalse(os.path.exists(self.path("processed_a.jpg")))

    def test_resize_existing_output_kept_without_force(self):
        self.local("a.jpg", encode(photo(400, 300), "JPEG"))
        self.local("processed_a.jpg", b"precious")
        r = self.fails("resize", "a.jpg", "--width", "100")
        self.assertIn("exists already", r.stderr)
        with open(self.path("processed_a.jpg"), "rb") as f:
            self.assertEqual(f.read(), b"precious")
        self.ok("resize", "a.jpg", "--width", "100", "--force")
        self.assertEqual(self.image(self.path("processed_a.jpg")), ("JPEG", (100, 75)))


class PixctlResizeBusy(ResizeCase):
    """One worker: more requests in flight than its queue holds get BUSY,
    which pixctl retries until every image is done."""

    pixd_args = ("--workers", "1")

    def test_resize_many_over_a_full_queue(self):
        data = encode(photo(1000, 800), "PNG", compress_level=1)
        names = [self.local(f"many/p{i:02d}.png", data) for i in range(24)]
        os.mkdir(self.path("out"))
        r = self.ok("resize", *names, "--width", "100", "--jobs", "24", "-o", "out", "--json")
        res = json.loads(r.stdout)
        self.assertEqual(len(res), 24)
        self.assertEqual([x.get("error") for x in res], [None] * 24)
        for i in range(24):
            self.assertEqual(self.image(self.path(f"out/processed_p{i:02d}.jpg")), ("JPEG", (100, 80)))

    def test_resize_interrupted_exit_130_no_part_left(self):
        data = encode(photo(2000, 1500), "PNG", compress_level=1)
        names = [self.local(f"many/p{i:02d}.png", data) for i in range(30)]
        os.mkdir(self.path("out"))
        host, port = self.pixd.addr()
        proc = subprocess.Popen([PIXCTL, "--host", host, "--port", str(port), "--timeout", "60",
                                 "resize", "--width", "100", "-o", "out"] + names, cwd=self.dir,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def done():
            return [n for n in os.listdir(self.path("out")) if not n.endswith(".part")]

        # Freeze pixctl once some results are in and not all (SIGSTOP), so
        # that the signal lands in the middle of the batch.
        wait_until(lambda: proc.poll() is not None or done(), timeout=60, what="a first result")
        self.assertIsNone(proc.poll(), "pixctl finished before it could be interrupted")
        proc.send_signal(signal.SIGSTOP)
        try:
            self.assertLess(len(done()), 30)
            proc.send_signal(signal.SIGINT)
        finally:
            proc.send_signal(signal.SIGCONT)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 130, err)
        self.assertIn("pixctl: interrupted", err)
        self.assertIn("not sent", err)
        finished = done()
        self.assertTrue(finished)
        for n in finished:  # what was published is whole
            self.assertEqual(self.image(self.path("out", n)), ("JPEG", (100, 75)))
        self.no_part_files()
        self.ok("ping")


if __name__ == "__main__":
    unittest.main()
