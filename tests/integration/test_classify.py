"""Classification against the real pixd with a tiny real ONNX model
(redblue_model.py: mostly-red pictures are "red", mostly-blue ones "blue"):
pixctl models and classify (files, --stored, --camera), HTTP, limits, and
the errors of models that cannot load."""
import http.client
import io
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from PIL import Image

import redblue_model
from pixdtest import *  # noqa: F401,F403

T_PUSH, T_PUSHING, T_FRAME = 0x35, 0x36, 0x33


def picture(colour, size=(640, 480), fmt="JPEG"):
    """Mostly one colour, with a stripe of another so it is not flat."""
    img = Image.new("RGB", size, colour)
    img.paste((40, 200, 40), (0, 0, size[0], size[1] // 8))
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


RED, BLUE = (220, 30, 40), (20, 40, 230)


class ModelFiles:
    """The model, its labels and broken variants, in a fresh directory."""

    def __init__(self, test):
        self.dir = tempfile.mkdtemp(prefix="pixd-classify-")
        test.addCleanup(shutil.rmtree, self.dir, True)
        self.onnx = self.path("redblue.onnx")
        self.labels = self.path("redblue.txt")
        redblue_model.write(self.onnx)
        redblue_model.write_labels(self.labels)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, data):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data)
        return p


class Classify(PixdTestCase):
    pixd_listen = ("native=127.0.0.1:0", "http=127.0.0.1:0")

    def setUp(self):
        self.files = ModelFiles(self)
        spec = f"rb={self.files.onnx},labels={self.files.labels},size=32x32,positive=red"
        five = self.files.path("five.onnx")
        redblue_model.write(five, outputs=5)
        self.pixd = self.start("--model", spec, "--model", f"plain={self.files.onnx}",
                               "--model", f"five={five}", listen=self.pixd_listen)
        self.red = self.files.write("red.jpg", picture(RED))
        self.blue = self.files.write("blue.png", picture(BLUE, (300, 200), "PNG"))

    def pixctl(self, *args):
        return self.pixd.pixctl(*args)

    def ok(self, *args):
        r = self.pixctl(*args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def post(self, path, body):
        host, port = self.pixd.addr("http")
        c = http.client.HTTPConnection(host, port, timeout=30)
        self.addCleanup(c.close)
        c.request("POST", path, body=body)
        r = c.getresponse()
        return r.status, json.loads(r.read())

    def test_classify_models_listed(self):
        out = self.ok("models")
        self.assertRegex(out, r"(?m)^rb\s+32x32\s+2\s+red$")
        self.assertRegex(out, r"(?m)^plain\s+224x224\s+2\s+-$")
        models = json.loads(self.ok("--json", "models"))
        self.assertEqual(models, [
            {"name": "rb", "width": 32, "height": 32, "labels": 2, "positive": "red"},
            {"name": "plain", "width": 224, "height": 224, "labels": 2, "positive": None},
            {"name": "five", "width": 224, "height": 224, "labels": 5, "positive": None}])
        host, port = self.pixd.addr("http")
        c = http.client.HTTPConnection(host, port, timeout=10)
        self.addCleanup(c.close)
        c.request("GET", "/api/v1/models")
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(json.loads(r.read()), models)

    def test_classify_files_over_pixctl(self):
        out = self.ok("classify", "--model", "rb", self.red, self.blue)
        high, low = r"(?:1\.0000|0\.9\d+)", r"0\.0\d+"
        self.assertRegex(out, rf"red\.jpg:\n  red\s+{high}\n  blue\s+{low}\n  positive: yes\n")
        self.assertRegex(out, rf"blue\.png:\n  blue\s+{high}\n  red\s+{low}\n  positive: no\n")
        self.assertIn("(jpeg 640x480, preprocessing ", out)
        got = json.loads(self.ok("--json", "classify", "-m", "rb", "--top", "1", self.red))
        self.assertEqual(got["model"], "rb")
        self.assertEqual(got["file"], self.red)
        self.assertEqual([c["label"] for c in got["top"]], ["red"])
        self.assertGreater(got["top"][0]["score"], 0.99)
        self.assertIs(got["positive"], True)
        self.assertEqual((got["input_type"], got["input_width"], got["input_height"]),
                         ("jpeg", 640, 480))
        self.assertEqual(got["input_bytes"], os.path.getsize(self.red))
        self.assertGreater(got["preprocess_us"], 0)
        self.assertGreater(got["inference_us"], 0)
        # Without a labels file the scores are named by index, and there is
        # no positive answer.
        got = json.loads(self.ok("--json", "classify", "-m", "plain", self.blue))
        self.assertEqual([c["label"] for c in got["top"]], ["1", "0"])
        self.assertNotIn("positive", got)

    def test_classify_top_k_best_first(self):
        # Classes 2..4 score alike, below both colours: ties keep their order.
        got = json.loads(self.ok("--json", "classify", "-m", "five", "--top", "3", self.red))
        self.assertEqual([c["label"] for c in got["top"]], ["0", "2", "3"])
        scores = [c["score"] for c in got["top"]]
        self.assertEqual(scores, sorted(scores, reverse=True))
        got = json.loads(self.ok("--json", "classify", "-m", "five", "--top", "100", self.blue))
        self.assertEqual([c["label"] for c in got["top"]], ["1", "2", "3", "4", "0"])
        self.assertAlmostEqual(sum(c["score"] for c in got["top"]), 1.0, places=4)
        r = self.pixctl("classify", "-m", "five", "--top", "101", self.red)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--top", r.stderr)

    def test_classify_stored_image(self):
        self.ok("put", self.blue, "--name", "sky")
        got = json.loads(self.ok("--json", "classify", "-m", "rb", "--stored", "sky.png"))
        self.assertEqual(got["stored"], "sky.png")
        self.assertEqual(got["top"][0]["label"], "blue")
        r = self.pixctl("classify", "-m", "rb", "--stored", "nothing.jpg")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no such file in the store", r.stderr)

    def test_classify_camera_frame(self):
        pusher = Raw(self.pixd.addr())
        pusher.send(frame(T_PUSH, field(TAG_NAME, "redcam"), fid=1))
        self.assertEqual(pusher.recv()[:3], (T_PUSHING, 0, 1))
        a = self.pixd.addr()
        p = subprocess.Popen([PIXCTL, "--host", a[0], "--port", str(a[1]), "--json",
                              "classify", "-m", "rb", "--camera", "redcam"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        data = picture(RED, (320, 240))

        def push_until_answered():
            # A snapshot takes the next frame: keep the camera producing.
            pusher.send(frame(T_FRAME, field(TAG_SIZE, len(data)), fid=1, flags=F_MORE) +
                        frame(T_DATA, data, fid=1))
            return p.poll() is not None
        wait_until(push_until_answered, timeout=20, what="pixctl classify --camera")
        out, err = p.communicate()
        self.assertEqual(p.returncode, 0, err)
        got = json.loads(out)
        self.assertEqual(got["camera"], "redcam")
        self.assertEqual(got["top"][0]["label"], "red")
        self.assertEqual((got["input_width"], got["input_height"]), (320, 240))
        r = self.pixctl("classify", "-m", "rb", "--camera", "nocam")
        self.assertEqual(r.returncode, 1)
        self.assertIn('no camera named "nocam"', r.stderr)

    def test_classify_over_http(self):
        st, got = self.post("/api/v1/classify?model=rb&top=2", picture(RED))
        self.assertEqual(st, 200, got)
        self.assertEqual([c["label"] for c in got["top"]], ["red", "blue"])
        self.assertGreater(got["top"][0]["score"], 0.99)
        self.assertIs(got["positive"], True)
        st, got = self.post("/api/v1/classify?model=rb", picture(BLUE, fmt="PNG"))
        self.assertEqual(st, 200, got)
        self.assertEqual(got["top"][0]["label"], "blue")
        self.assertIs(got["positive"], False)
        self.assertEqual(got["input_type"], "png")
        st, got = self.post("/api/v1/classify?model=nope", picture(RED))
        self.assertEqual(st, 404)
        self.assertIn('no model named "nope"', got["message"])
        st, got = self.post("/api/v1/classify?model=rb&top=0", picture(RED))
        self.assertEqual(st, 400)
        self.assertIn("top must be", got["message"])
        st, got = self.post("/api/v1/classify", picture(RED))
        self.assertEqual(st, 400)
        self.assertIn("name a model", got["message"])
        st, got = self.post("/api/v1/classify?model=rb", b"not a picture at all")
        self.assertEqual(st, 422)
        self.assertIn("not an image", got["message"])

    def test_classify_unknown_model_and_bad_input(self):
        r = self.pixctl("classify", "-m", "nope", self.red)
        self.assertEqual(r.returncode, 1)
        self.assertIn('no model named "nope" (see `pixctl models`)', r.stderr)
        broken = self.files.write("broken.jpg", picture(RED)[:300])
        text = self.files.write("notes.txt", b"hello\n")
        r = self.pixctl("classify", "-m", "rb", text, broken, self.blue)
        self.assertEqual(r.returncode, 1)
        self.assertIn("notes.txt: not an image", r.stderr)
        self.assertIn("broken.jpg: ", r.stderr)
        self.assertIn("blue.png:\n  blue", r.stdout, "the good file is still classified")
        r = self.pixctl("classify", self.red)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--model", r.stderr)


class ClassifyLimits(PixdTestCase):
    pixd_listen = ("native=127.0.0.1:0",)

    def setUp(self):
        self.files = ModelFiles(self)
        self.pixd = self.start("--model", f"rb={self.files.onnx},labels={self.files.labels}",
                               "--max-pixels", "100000", listen=self.pixd_listen)

    def test_classify_max_pixels_from_header(self):
        big = self.files.write("big.jpg", picture(RED, (640, 480)))
        r = self.pixd.pixctl("classify", "-m", "rb", big)
        self.assertEqual(r.returncode, 1)
        self.assertIn("over --max-pixels", r.stderr)
        small = self.files.write("small.jpg", picture(RED, (320, 240)))
        r = self.pixd.pixctl("classify", "-m", "rb", small)
        self.assertEqual(r.returncode, 0, r.stderr)


class ClassifyLine(PixdTestCase):
    """Images still arriving for classification hold places in the job line
    (1 worker + 8 waiting), shared with resizes: the tenth input is refused
    before it is sent, and an abandoned one gives its place back."""
    pixd_listen = ("native=127.0.0.1:0", "http=127.0.0.1:0")
    T_CLASSIFY, TAG_MODEL = 0x42, 91

    def setUp(self):
        self.files = ModelFiles(self)
        self.pixd = self.start("--workers", "1", "--model",
                               f"rb={self.files.onnx},labels={self.files.labels}",
                               listen=self.pixd_listen)

    def begin_native(self, fid=1):
        r = Raw(self.pixd.addr("native"))
        body = field(self.TAG_MODEL, "rb") + field(TAG_SIZE, 8 << 20)
        r.send(frame(self.T_CLASSIFY, body, fid=fid, flags=F_MORE) +
               frame(T_DATA, b"\xff\xd8" + bytes(1000), fid=fid, flags=F_MORE))
        return r

    def test_classify_inputs_in_progress_fill_the_line(self):
        held = [self.begin_native(i) for i in range(1, 6)]
        for _ in range(4):
            c = http.client.HTTPConnection(*self.pixd.addr("http"), timeout=10)
            c.putrequest("POST", "/api/v1/classify?model=rb")
            c.putheader("Content-Length", str(8 << 20))
            c.endheaders(b"\xff\xd8" + bytes(1000))
            held.append(c)
        late = self.begin_native()
        fid, code, msg = late.recv_error()
        self.assertEqual(code, 7, msg)  # BUSY
        # The line is shared: a resize is refused as well.
        r = self.pixd.pixctl("resize", self.files.write("x.jpg", picture(RED)), "--width", "8",
                             "-o", self.files.path("out.jpg"))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("busy", (r.stdout + r.stderr).lower())
        held.pop(0).close()

        def admitted():
            r = self.begin_native(9)
            r.send(frame(T_PING, fid=10))
            if r.recv()[0] == T_PONG:
                return r
            r.close()
            return None
        held.append(wait_until(admitted, 10, "a place freed by an abandoned input"))
        for h in held:
            h.close()

    def test_classify_input_longer_or_shorter_than_size_refused_and_place_freed(self):
        img = picture(RED, (64, 48))
        head = field(self.TAG_MODEL, "rb") + field(TAG_SIZE, len(img))
        r = Raw(self.pixd.addr("native"))
        for i in range(12):  # more than the 9 places: each refusal frees its own
            fid = 2 * i + 1
            r.send(frame(self.T_CLASSIFY, head, fid=fid, flags=F_MORE) +
                   frame(T_DATA, img + b"x", fid=fid, flags=F_MORE))
            self.assertEqual(r.recv_error(), (fid, E_INVALID,
                                              "received more image bytes than SIZE announced"))
            r.send(frame(self.T_CLASSIFY, head, fid=fid + 1, flags=F_MORE) +
                   frame(T_DATA, img[:-1], fid=fid + 1, flags=F_MORE) + frame(T_END, fid=fid + 1))
            self.assertEqual(r.recv_error(), (fid + 1, E_INVALID,
                                              "received fewer image bytes than SIZE announced"))
        c = self.pixd.pixctl("classify", "-m", "rb", self.files.write("red.jpg", img))
        self.assertEqual(c.returncode, 0, c.stderr)
        self.assertIn("red", c.stdout)


class ClassifyClientJobs(PixdTestCase):
    """--max-client-jobs counts a connection's classifications and resizes
    together: one client cannot fill the line with either."""
    pixd_listen = ("native=127.0.0.1:0",)
    T_CLASSIFY, T_RESIZE, TAG_MODEL, TAG_WIDTH_ = 0x42, 0x20, 91, 35

    def setUp(self):
        self.files = ModelFiles(self)
        self.pixd = self.start("--max-client-jobs", "2", "--model",
                               f"rb={self.files.onnx},labels={self.files.labels}",
                               listen=self.pixd_listen)

    def test_classify_and_resize_share_the_connection_budget(self):
        c = Raw(self.pixd.addr("native"))
        # Both announce an image not sent yet, so both stay in flight.
        c.send(frame(self.T_CLASSIFY, field(self.TAG_MODEL, "rb") + field(TAG_SIZE, 1000),
                     fid=1, flags=F_MORE))
        c.send(frame(self.T_RESIZE, field(TAG_SIZE, 1000) + field(self.TAG_WIDTH_, 10),
                     fid=2, flags=F_MORE))
        c.send(frame(self.T_CLASSIFY, field(self.TAG_MODEL, "rb") + field(TAG_SIZE, 1000),
                     fid=3, flags=F_MORE))
        fid, code, msg = c.recv_error()
        self.assertEqual((fid, code), (3, 7), msg)  # BUSY
        self.assertIn("--max-client-jobs", msg)
        # Cancelling one frees a slot for a classification.
        c.send(frame(T_CANCEL, fid=1))
        img = picture(RED, (64, 48))
        c.send(frame(self.T_CLASSIFY, field(self.TAG_MODEL, "rb") + field(TAG_SIZE, len(img)),
                     fid=4, flags=F_MORE) + frame(T_DATA, img, fid=4, flags=F_MORE) +
               frame(T_END, fid=4))
        t, _, fid, body = c.recv()
        self.assertEqual((t, fid), (0x43, 4), body)  # CLASSIFIED


class NoModels(PixdTestCase):
    pixd_listen = ("native=127.0.0.1:0", "http=127.0.0.1:0")

    def test_classify_without_models(self):
        r = self.pixd.pixctl("models")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no models", r.stdout)
        f = tempfile.NamedTemporaryFile(suffix=".jpg")
        self.addCleanup(f.close)
        f.write(picture(RED))
        f.flush()
        r = self.pixd.pixctl("classify", "-m", "rb", f.name)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no models; start it with --model", r.stderr)


class BadModels(unittest.TestCase):
    """A model that cannot be used stops pixd at start, naming the file."""

    def setUp(self):
        self.files = ModelFiles(self)

    def refused(self, spec, *expect):
        store = tempfile.mkdtemp(prefix="pixd-store-")
        self.addCleanup(shutil.rmtree, store, True)
        r = subprocess.run([PIXD, "--store", store, "--listen", "native=127.0.0.1:0",
                            "--model", spec], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0, r.stderr)
        for e in expect:
            self.assertIn(e, r.stderr)
        self.assertNotIn("listening", r.stdout)
        for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            self.assertNotIn(bad, r.stderr)

    def test_classify_corrupt_model(self):
        bad = self.files.write("corrupt.onnx", b"\x08\x07garbage" * 50)
        self.refused(f"rb={bad}", "model rb: cannot load " + bad + ": ", "onnx")

    def test_classify_missing_model_file(self):
        missing = self.files.path("absent.onnx")
        self.refused(f"rb={missing}", f"cannot open {missing}: No such file or directory")

    def test_classify_missing_labels_file(self):
        missing = self.files.path("absent.txt")
        self.refused(f"rb={self.files.onnx},labels={missing}",
                     f"model rb: cannot read the labels file {missing}: No such file")

    def test_classify_labels_count_mismatch(self):
        three = self.files.path("three.onnx")
        redblue_model.write(three, outputs=3)
        self.refused(f"rb={three},labels={self.files.labels}",
                     f"{three} gives 3 scores but the labels file {self.files.labels} has 2 "
                     "labels; they must match")

    def test_classify_positive_not_a_label(self):
        self.refused(f"rb={self.files.onnx},labels={self.files.labels},positive=green",
                     "positive=green is not one of its labels")

    def test_classify_bad_spec(self):
        self.refused(f"rb={self.files.onnx},size=3", "--model rb: size must be WIDTHxHEIGHT")


if __name__ == "__main__":
    unittest.main()
