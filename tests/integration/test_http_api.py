"""The JSON API over HTTP: the store (/api/v1/images), resize jobs
(/api/v1/resize and GET ?width=), and /metrics, driven with curl and the
standard library's http.client against the real pixd."""
import base64
import hashlib
import http.client
import io
import json
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
from datetime import datetime, timezone
from email.utils import formatdate, parsedate_to_datetime

import numpy
from PIL import Image

from pixdtest import *  # noqa: F401,F403

MiB = 1 << 20


def photo(w, h, seed=1):
    """A photo-like picture: gradients, edges and a little noise."""
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


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return f"<{self.status} {self.headers} {self.body[:300]!r}>"


class HttpCase(PixdTestCase):
    pixd_listen = ("native=127.0.0.1:0", "http=127.0.0.1:0")

    def connect(self, timeout=60):
        host, port = self.pixd.addr("http")
        return http.client.HTTPConnection(host, port, timeout=timeout)

    @property
    def base(self):
        host, port = self.pixd.addr("http")
        return f"http://{host}:{port}"

    def req(self, method, path, body=None, headers=None, conn=None, **kw):
        c = conn or self.connect()
        try:
            c.request(method, path, body=body, headers=headers or {}, **kw)
            r = c.getresponse()
            data = r.read()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        finally:
            if conn is None:
                c.close()

    def curl(self, *args, timeout=120):
        return subprocess.run(["curl", "-sS", *args], capture_output=True, timeout=timeout)

    def put(self, name, data, headers=None):
        return self.req("PUT", "/api/v1/images/" + urllib.parse.quote(name), data, headers)

    def assertError(self, r, status, *words):
        """A JSON error body that says what went wrong."""
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("content-type"), "application/json", r)
        e = r.json()
        self.assertIn("error", e)
        self.assertTrue(e.get("message"), e)
        for w in words:
            self.assertIn(w, e["message"], e)
        return e

    def metrics(self):
        r = self.req("GET", "/metrics")
        self.assertEqual(r.status, 200, r)
        return r, parse_metrics(r.body.decode("utf-8"))


LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
                  r'(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})?'
                  r' (\S+)$')


def parse_metrics(text):
    """{(name, labels): value}; fails on any line that is not a sample or
    a # HELP / # TYPE comment."""
    out = {}
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$", line), line
            continue
        m = LINE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        out[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return out


class Store(HttpCase):
    def test_put_get_head_delete_round_trip(self):
        for size in (0, 1, 100_000, 3 * MiB + 7):
            name = f"blob-{size}.bin"
            data = os.urandom(size)
            sha = hashlib.sha256(data).hexdigest()
            r = self.put(name, data)
            self.assertEqual(r.status, 201, r)
            e = r.json()
            self.assertEqual((e["name"], e["size"], e["sha256"]), (name, size, sha))
            self.assertEqual(r.header("location"), "/api/v1/images/" + name)
            self.assertEqual(r.header("etag"), f'"{sha}"')

            r = self.req("GET", "/api/v1/images/" + name)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, data)
            self.assertEqual(int(r.header("content-length")), size)
            self.assertEqual(r.header("content-type"), "application/octet-stream")
            self.assertEqual(r.header("etag"), f'"{sha}"')
            self.assertEqual(r.header("accept-ranges"), "bytes")
            lm = parsedate_to_datetime(r.header("last-modified")).timestamp()
            self.assertLessEqual(abs(lm - e["mtime_ms"] / 1000), 1.0)

            h = self.req("HEAD", "/api/v1/images/" + name)
            self.assertEqual(h.status, 200)
            self.assertEqual(h.body, b"")
            for k in ("content-length", "content-type", "etag", "last-modified"):
                self.assertEqual(h.header(k), r.header(k), k)

            r = self.req("DELETE", "/api/v1/images/" + name)
            self.assertEqual((r.status, r.body), (204, b""))
            self.assertError(self.req("GET", "/api/v1/images/" + name), 404, "no such image")
            self.assertEqual(self.req("HEAD", "/api/v1/images/" + name).status, 404)
            self.assertError(self.req("DELETE", "/api/v1/images/" + name), 404)

    def test_curl_upload_download_and_replace(self):
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "in.bin")
            data = os.urandom(2 * MiB + 3)  # curl sends Expect: 100-continue
            with open(src, "wb") as f:
                f.write(data)
            p = self.curl("-f", "-T", src, self.base + "/api/v1/images/my%20file.bin")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout)["name"], "my_file.bin")
            out = os.path.join(d, "out.bin")
            p = self.curl("-f", "-o", out, self.base + "/api/v1/images/my_file.bin")
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(out, "rb") as f:
                self.assertEqual(f.read(), data)
        # A second PUT replaces the file whole.
        r = self.put("my_file.bin", b"new content")
        self.assertEqual(r.status, 201, r)
        r = self.req("GET", "/api/v1/images/my_file.bin")
        self.assertEqual(r.body, b"new content")
        self.assertEqual(r.header("etag"), '"%s"' % hashlib.sha256(b"new content").hexdigest())

    def test_integrity_headers(self):
        data = os.urandom(50_000)
        sha = hashlib.sha256(data)
        good = {
            "Digest": "sha-256=" + base64.b64encode(sha.digest()).decode(),
            "X-Content-SHA256": sha.hexdigest(),
            "Content-Digest": "sha-256=:" + base64.b64encode(sha.digest()).decode() + ":",
        }
        for i, (h, v) in enumerate(good.items()):
            r = self.put(f"ok{i}.bin", data, {h: v})
            self.assertEqual(r.status, 201, (h, r))
            self.assertEqual(r.json()["sha256"], sha.hexdigest())
        # RFC 3230 lists: other algorithms are ignored, case does not matter.
        r = self.put("list.bin", data, {"Digest": "md5=AAAA, SHA-256=" +
                                        base64.b64encode(sha.digest()).decode()})
        self.assertEqual(r.status, 201, r)
        other = hashlib.sha256(b"something else")
        bad = {
            "Digest": "sha-256=" + base64.b64encode(other.digest()).decode(),
            "X-Content-SHA256": other.hexdigest().upper(),
        }
        for h, v in bad.items():
            r = self.put("bad.bin", data, {h: v})
            self.assertError(r, 422, "SHA-256")
            self.assertEqual(self.req("GET", "/api/v1/images/bad.bin").status, 404)
        self.assertError(self.put("x.bin", data, {"X-Content-SHA256": "abc"}), 400, "64 hex")
        self.assertError(self.put("x.bin", data, {"Digest": "sha-256=!!"}), 400, "Digest")
        self.assertError(self.put("x.bin", data, {"Digest": good["Digest"],
                                                  "X-Content-SHA256": other.hexdigest()}),
                         400, "disagree")
        self.assertEqual(os.listdir(os.path.join(self.pixd.store, ".tmp")), [])

    def test_bad_names_are_refused(self):
        for path in ("%2e%2e", ".hidden", "-rf", "a%5Cb", "name.", "tab%09name",
                     "x" * 201):
            for method in ("PUT", "GET", "DELETE"):
                r = self.req(method, "/api/v1/images/" + path, b"data" if method == "PUT"
                             else None)
                self.assertError(r, 400)
        # Slashes (encoded or not) never reach the store: not an image route.
        for path in ("..%2F..%2Fetc%2Fpasswd", "a/b", "%2e%2e/x"):
            r = self.req("PUT", "/api/v1/images/" + path, b"data")
            self.assertIn(r.status, (400, 404), r)
        self.assertEqual(sorted(os.listdir(self.pixd.store)), [".meta", ".tmp"])

    def test_odd_names_in_json_and_location(self):
        names = ['quote"and\'apos.bin', "café photo.jpg", "ünï çødé.bin"]
        for n in names:
            r = self.put(n, n.encode())
            self.assertEqual(r.status, 201, r)
            stored = n.replace(" ", "_")
            self.assertEqual(r.json()["name"], stored)
            loc = r.header("location")
            self.assertTrue(loc.isascii(), loc)
            self.assertEqual(self.req("GET", loc).body, n.encode())
        listed = [e["name"] for e in self.req("GET", "/api/v1/images").json()]
        self.assertEqual(listed, sorted(n.replace(" ", "_") for n in names))

    def test_chunked_upload_needs_length(self):
        r = self.req("PUT", "/api/v1/images/c.bin", body=iter([b"abc", b"def"]),
                     encode_chunked=True, headers={"Transfer-Encoding": "chunked"})
        self.assertError(r, 411, "Content-Length")

    def test_method_not_allowed(self):
        self.assertEqual(self.req("POST", "/api/v1/images/a.bin", b"x").status, 405)


class Conditional(HttpCase):
    def setUp(self):
        super().setUp()
        self.data = bytes(range(256)) * 40  # 10240 bytes
        self.sha = hashlib.sha256(self.data).hexdigest()
        self.assertEqual(self.put("r.bin", self.data).status, 201)

    def get(self, **headers):
        return self.req("GET", "/api/v1/images/r.bin", headers=headers)

    def test_ranges(self):
        n = len(self.data)
        for spec, lo, hi in (("bytes=10-19", 10, 19), ("bytes=100-", 100, n - 1),
                             ("bytes=-5", n - 5, n - 1), ("bytes=0-", 0, n - 1),
                             ("bytes=10-999999", 10, n - 1), ("bytes=-999999", 0, n - 1),
                             ("BYTES=7-7", 7, 7)):
            r = self.get(Range=spec)
            self.assertEqual(r.status, 206, spec)
            self.assertEqual(r.body, self.data[lo:hi + 1], spec)
            self.assertEqual(r.header("content-range"), f"bytes {lo}-{hi}/{n}", spec)
            self.assertEqual(int(r.header("content-length")), hi - lo + 1)
        for spec in (f"bytes={n}-", f"bytes={n + 5}-{n + 9}", "bytes=-0"):
            r = self.get(Range=spec)
            self.assertError(r, 416)
            self.assertEqual(r.header("content-range"), f"bytes */{n}", spec)
        # Several ranges, other units, nonsense: the whole file, 200.
        for spec in ("bytes=0-1,5-6", "items=0-1", "bytes=5-2", "bytes=abc"):
            r = self.get(Range=spec)
            self.assertEqual((r.status, r.body), (200, self.data), spec)
        # If-Range: the range only if the file is still the one the client has.
        r = self.get(Range="bytes=0-3", **{"If-Range": f'"{self.sha}"'})
        self.assertEqual((r.status, r.body), (206, self.data[:4]))
        r = self.get(Range="bytes=0-3", **{"If-Range": '"0000"'})
        self.assertEqual((r.status, r.body), (200, self.data))
        # curl's --range.
        p = self.curl("-f", "-r", "0-99", self.base + "/api/v1/images/r.bin")
        self.assertEqual(p.stdout, self.data[:100])

    def test_etag_and_if_none_match(self):
        etag = f'"{self.sha}"'
        for inm in (etag, "W/" + etag, '"nope", ' + etag, "*"):
            for method in ("GET", "HEAD"):
                r = self.req(method, "/api/v1/images/r.bin", headers={"If-None-Match": inm})
                self.assertEqual((r.status, r.body), (304, b""), (method, inm))
                self.assertEqual(r.header("etag"), etag)
                self.assertIsNone(r.header("content-length"))
        r = self.get(**{"If-None-Match": '"other"'})
        self.assertEqual((r.status, r.body), (200, self.data))
        # If-None-Match wins over Range.
        self.assertEqual(self.get(Range="bytes=0-1", **{"If-None-Match": etag}).status, 304)
        # If-Modified-Since, used when there is no If-None-Match.
        later = formatdate(time.time() + 3600, usegmt=True)
        earlier = formatdate(time.time() - 3600, usegmt=True)
        self.assertEqual(self.get(**{"If-Modified-Since": later}).status, 304)
        self.assertEqual(self.get(**{"If-Modified-Since": earlier}).status, 200)


class Listing(HttpCase):
    def test_list_json(self):
        self.assertEqual(self.req("GET", "/api/v1/images").json(), [])
        jpeg = encode(photo(320, 240), "JPEG", quality=80)
        png = encode(photo(64, 48), "PNG")
        blob = os.urandom(1000)
        for name, data in (("b.png", png), ("a.jpg", jpeg), ("c.bin", blob)):
            self.assertEqual(self.put(name, data).status, 201)
        r = self.req("GET", "/api/v1/images")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"), "application/json")
        entries = r.json()
        self.assertEqual([e["name"] for e in entries], ["a.jpg", "b.png", "c.bin"])
        by = {e["name"]: e for e in entries}
        for e in entries:
            self.assertEqual(set(e), {"name", "size", "mtime", "mtime_ms", "type", "width",
                                      "height", "sha256"})
            t = datetime.strptime(e["mtime"], "%Y-%m-%dT%H:%M:%S.%fZ")
            self.assertAlmostEqual(t.replace(tzinfo=timezone.utc).timestamp(),
                                   e["mtime_ms"] / 1000, delta=0.0015)
            self.assertLess(abs(e["mtime_ms"] / 1000 - time.time()), 120)
        self.assertEqual((by["a.jpg"]["type"], by["a.jpg"]["width"], by["a.jpg"]["height"]),
                         ("jpeg", 320, 240))
        self.assertEqual((by["b.png"]["type"], by["b.png"]["width"]), ("png", 64))
        self.assertEqual(by["a.jpg"]["sha256"], hashlib.sha256(jpeg).hexdigest())
        self.assertEqual(by["c.bin"]["size"], 1000)
        # Content-Type follows the stored type.
        self.assertEqual(self.req("HEAD", "/api/v1/images/a.jpg").header("content-type"),
                         "image/jpeg")
        self.assertEqual(self.req("HEAD", "/api/v1/images/b.png").header("content-type"),
                         "image/png")


class Resize(HttpCase):
    def check_stats(self, r, data, in_size, out_size):
        self.assertEqual(int(r.header("x-pixd-input-bytes")), len(data))
        self.assertEqual(int(r.header("x-pixd-output-bytes")), len(r.body))
        self.assertEqual(r.header("x-pixd-input-size"), "%dx%d" % in_size)
        self.assertEqual(r.header("x-pixd-output-size"), "%dx%d" % out_size)
        self.assertRegex(r.header("x-pixd-scale"), r"^\d+/\d+$")
        self.assertGreaterEqual(float(r.header("x-pixd-queue-ms")), 0)
        self.assertGreater(float(r.header("x-pixd-process-ms")), 0)
        self.assertRegex(r.header("x-pixd-ratio"), r"^\d+\.\d\d$")
        self.assertAlmostEqual(float(r.header("x-pixd-ratio")), len(data) / len(r.body),
                               delta=0.006)

    def test_post_resize(self):
        data = encode(photo(1600, 1200), "JPEG", quality=90)
        r = self.req("POST", "/api/v1/resize?width=400&height=300", data)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "image/jpeg")
        self.assertEqual(Image.open(io.BytesIO(r.body)).size, (400, 300))
        self.check_stats(r, data, (1600, 1200), (400, 300))
        self.assertEqual(r.header("x-pixd-scale"), "1/4")  # the DCT fast path

        r = self.req("POST", "/api/v1/resize?width=300&height=300&mode=fill&format=png", data)
        self.assertEqual(r.header("content-type"), "image/png")
        img = Image.open(io.BytesIO(r.body))
        self.assertEqual((img.format, img.size), ("PNG", (300, 300)))
        r = self.req("POST", "/api/v1/resize?width=100&height=100&mode=stretch&format=webp"
                     "&quality=50&sharpen=2,1.5,3", data)
        self.assertEqual(r.status, 200, r)
        img = Image.open(io.BytesIO(r.body))
        self.assertEqual((img.format, img.size), ("WEBP", (100, 100)))
        # Never enlarged unless asked.
        small = encode(photo(200, 150), "JPEG")
        r = self.req("POST", "/api/v1/resize?width=400", small)
        self.assertEqual(Image.open(io.BytesIO(r.body)).size, (200, 150))
        r = self.req("POST", "/api/v1/resize?width=400&enlarge=1", small)
        self.assertEqual(Image.open(io.BytesIO(r.body)).size, (400, 300))

    def test_post_resize_with_curl_as_in_seed_004(self):
        data = encode(photo(1024, 768), "JPEG", quality=90)
        with tempfile.TemporaryDirectory() as d:
            src, out = os.path.join(d, "in.jpg"), os.path.join(d, "out.jpg")
            with open(src, "wb") as f:
                f.write(data)
            p = self.curl("-f", "-D", "-", "--data-binary", "@" + src, "-o", out,
                          self.base + "/api/v1/resize?width=800&height=600")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"X-Pixd-Output-Size: 800x600", p.stdout)
            with Image.open(out) as img:
                self.assertEqual(img.size, (800, 600))

    def test_resize_refusals(self):
        data = encode(photo(64, 64), "JPEG")
        for q in ("mode=zoom", "quality=0", "quality=101", "width=-1", "width=abc",
                  "format=tiff", "sharpen=1,2", "enlarge=maybe", "height=70000"):
            self.assertError(self.req("POST", "/api/v1/resize?" + q, data), 400)
        self.assertError(self.req("POST", "/api/v1/resize?width=10", b""), 400, "body")
        self.assertError(self.req("POST", "/api/v1/resize?width=10", b"not an image" * 10),
                         422)
        truncated = encode(photo(640, 480), "JPEG")[:3000]
        self.assertIn(self.req("POST", "/api/v1/resize?width=10", truncated).status,
                      (200, 422))  # libjpeg may decode a truncated JPEG with a warning
        r = self.req("POST", "/api/v1/resize?width=10", body=iter([data]),
                     encode_chunked=True, headers={"Transfer-Encoding": "chunked"})
        self.assertError(r, 411)
        self.assertEqual(self.req("GET", "/api/v1/resize").status, 405)

    def test_result_larger_than_the_write_queue_is_streamed(self):
        # A 27 MB PNG: more than conn.c lets queue (16 MiB), so it goes out
        # as the client reads it; this client starts slowly.
        noise = numpy.random.default_rng(1).integers(0, 256, (750, 1000, 3), numpy.uint8)
        data = encode(Image.fromarray(noise, "RGB"), "PNG")
        c = self.connect()
        c.request("POST", "/api/v1/resize?width=4000&enlarge=1&format=png", body=data)
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        n = int(r.getheader("Content-Length"))
        self.assertGreater(n, 16 * MiB)
        out = bytearray()
        while True:
            d = r.read(MiB)
            if not d:
                break
            out += d
            if len(out) < 8 * MiB:
                time.sleep(0.05)  # a slow reader, so that pixd's queue fills
        c.close()
        self.assertEqual(len(out), n)
        with Image.open(io.BytesIO(bytes(out))) as img:
            self.assertEqual(img.size, (4000, 3000))

    def test_get_stored_image_resized(self):
        data = encode(photo(1200, 900), "JPEG", quality=90)
        self.assertEqual(self.put("big.jpg", data).status, 201)
        r = self.req("GET", "/api/v1/images/big.jpg?width=200")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "image/jpeg")
        self.assertEqual(Image.open(io.BytesIO(r.body)).size, (200, 150))
        self.check_stats(r, data, (1200, 900), (200, 150))
        r = self.req("GET", "/api/v1/images/big.jpg?sharpen=2,1.5,3")
        self.assertEqual(r.header("x-pixd-output-size"), "1200x900")
        r = self.req("GET", "/api/v1/images/big.jpg?height=90&format=png")
        self.assertEqual(Image.open(io.BytesIO(r.body)).size, (120, 90))
        h = self.req("HEAD", "/api/v1/images/big.jpg?width=200")
        self.assertEqual((h.status, h.body), (200, b""))
        self.assertGreater(int(h.header("content-length")), 0)
        self.assertError(self.req("GET", "/api/v1/images/missing.jpg?width=10"), 404)
        self.assertError(self.req("GET", "/api/v1/images/big.jpg?mode=bad"), 400)
        # Without resize parameters the stored bytes come back unchanged.
        self.assertEqual(self.req("GET", "/api/v1/images/big.jpg?x=1").body, data)


class Busy(HttpCase):
    pixd_args = ("--workers", "1")

    def test_busy_answers_503_with_retry_after(self):
        data = encode(photo(3000, 2000, seed=3), "PNG", compress_level=1)
        conns = [self.connect() for _ in range(14)]
        for c in conns:
            c.request("POST", "/api/v1/resize?width=100", body=data)
        self.assertEqual(self.req("GET", "/healthz").status, 200)
        results = {200: 0, 503: 0}
        for c in conns:
            r = c.getresponse()
            body = r.read()
            self.assertIn(r.status, results, body)
            results[r.status] += 1
            if r.status == 503:
                self.assertEqual(r.getheader("Retry-After"), "1")
                self.assertIn("busy", json.loads(body)["message"])
            c.close()
        self.assertGreaterEqual(results[503], 1, results)
        self.assertGreaterEqual(results[200], 2, results)
        _, m = self.metrics()
        self.assertGreaterEqual(m[("pixd_jobs_busy_total", "")], results[503])


class Limits(HttpCase):
    pixd_args = ("--max-upload", "1M", "--max-store", "3M", "--max-pixels", "1000000")

    def test_max_upload_is_413(self):
        r = self.put("big.bin", os.urandom(MiB + 1))
        self.assertError(r, 413, "--max-upload")
        self.assertEqual(self.put("fits.bin", os.urandom(MiB)).status, 201)
        with tempfile.NamedTemporaryFile() as f:
            f.write(os.urandom(2 * MiB))
            f.flush()
            p = self.curl("-T", f.name, "-w", "%{http_code}", "-o", "/dev/null",
                          self.base + "/api/v1/images/curl.bin")
            self.assertEqual(p.stdout, b"413")
        names = [e["name"] for e in self.req("GET", "/api/v1/images").json()]
        self.assertEqual(names, ["fits.bin"])

    def test_max_store_is_507(self):
        for i in range(3):
            self.assertEqual(self.put(f"f{i}.bin", os.urandom(900 * 1024)).status, 201)
        self.assertError(self.put("f3.bin", os.urandom(900 * 1024)), 507, "full")

    def test_resize_limits_are_413(self):
        big = os.urandom(MiB + 1)
        self.assertError(self.req("POST", "/api/v1/resize?width=10", big), 413)
        data = encode(photo(1600, 1200), "JPEG", quality=60)
        self.assertLess(len(data), MiB)
        self.assertError(self.req("POST", "/api/v1/resize?width=10", data), 413)


class KeepAlive(HttpCase):
    def test_100_requests_on_one_connection(self):
        _, before = self.metrics()
        c = self.connect()
        self.assertEqual(self.req("PUT", "/api/v1/images/k.bin", b"k" * 1000, conn=c).status,
                         201)
        sock = c.sock
        for i in range(100):
            kind = i % 5
            if kind == 0:
                r = self.req("GET", "/api/v1/images/k.bin", conn=c)
                self.assertEqual((r.status, r.body), (200, b"k" * 1000))
            elif kind == 1:
                self.assertEqual(self.req("HEAD", "/api/v1/images/k.bin", conn=c).status, 200)
            elif kind == 2:
                self.assertEqual(self.req("GET", "/api/v1/images", conn=c).status, 200)
            elif kind == 3:
                self.assertEqual(self.req("GET", "/api/v1/images/nope", conn=c).status, 404)
            else:
                r = self.req("PUT", f"/api/v1/images/k{i}.bin", os.urandom(i * 100), conn=c)
                self.assertEqual(r.status, 201)
            self.assertIs(c.sock, sock, f"reconnected after request {i}")
        c.close()
        _, after = self.metrics()
        # One connection for the loop, one for the second /metrics.
        self.assertEqual(after[("pixd_connections_accepted_total", "")] -
                         before[("pixd_connections_accepted_total", "")], 2)


class Connections(HttpCase):
    def raw(self):
        s = socket.create_connection(self.pixd.addr("http"), timeout=30)
        self.addCleanup(s.close)
        return s

    def read_response(self, s, buf):
        """(status, headers, body, rest) of one response read from s."""
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                raise EOFError(buf)
            buf += d
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        n = int(headers.get("content-length", "0"))
        while len(buf) < n:
            d = s.recv(65536)
            if not d:
                raise EOFError(buf)
            buf += d
        return status, headers, buf[:n], buf[n:]

    def test_pipelined_put_then_get(self):
        s = self.raw()
        s.sendall(b"PUT /api/v1/images/p.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
                  b"hello"
                  b"GET /api/v1/images/p.bin HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"DELETE /api/v1/images/p.bin HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /api/v1/images/p.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        buf = b""
        got = []
        for _ in range(4):
            st, h, body, buf = self.read_response(s, buf)
            got.append((st, body if st != 201 else b""))
        self.assertEqual(got[:3], [(201, b""), (200, b"hello"), (204, b"")])
        self.assertEqual(got[3][0], 404)

    def test_clients_that_leave_midway_leave_nothing_behind(self):
        data = os.urandom(8 * MiB)
        self.assertEqual(self.put("d.bin", data).status, 201)
        # An upload cut off halfway: the temporary file goes.
        s = self.raw()
        s.sendall(b"PUT /api/v1/images/half.bin HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 4000000\r\n\r\n" + data[:2_000_000])
        s.close()
        tmp = os.path.join(self.pixd.store, ".tmp")
        wait_until(lambda: os.listdir(tmp) == [], what="the aborted upload's temporary file")
        # A download cut off after its first bytes.
        s = self.raw()
        s.sendall(b"GET /api/v1/images/d.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(1000)
        s.close()
        # A resize whose client leaves while the job waits or runs.
        img = encode(photo(2000, 1500), "PNG", compress_level=1)
        for _ in range(3):
            s = self.raw()
            s.sendall(b"POST /api/v1/resize?width=100 HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(img) + img)
            s.close()
        # And one that leaves while its stored image is being read.
        self.assertEqual(self.put("img.png", img).status, 201)
        s = self.raw()
        s.sendall(b"GET /api/v1/images/img.png?width=50 HTTP/1.1\r\nHost: x\r\n\r\n")
        s.close()
        # pixd still serves, and at exit ASan finds no leak (checked by
        # PixdTestCase).
        self.assertEqual(self.req("GET", "/api/v1/images/d.bin").body, data)
        wait_until(lambda: self.metrics()[1][("pixd_jobs_running", "")] == 0 and
                   self.metrics()[1][("pixd_jobs_waiting", "")] == 0, what="jobs to end")
        self.assertEqual(sorted(e["name"] for e in self.req("GET", "/api/v1/images").json()),
                         ["d.bin", "img.png"])


class Metrics(HttpCase):
    pixd_args = ("--camera", "cam-1=test,width=64,height=48,fps=10")

    def test_metrics_format_and_families(self):
        data = encode(photo(400, 300), "JPEG")
        self.assertEqual(self.req("POST", "/api/v1/resize?width=40", data).status, 200)
        self.assertEqual(self.put("m.jpg", data).status, 201)
        self.assertEqual(self.req("GET", "/api/v1/images/nope").status, 404)
        r, m = self.metrics()
        self.assertEqual(r.header("content-type").split(";")[0:2],
                         ["text/plain", " version=0.0.4"])
        text = r.body.decode()
        for fam, typ in (("pixd_connections", "gauge"), ("pixd_http_requests_total", "counter"),
                         ("pixd_http_errors_total", "counter"), ("pixd_jobs_running", "gauge"),
                         ("pixd_jobs_waiting", "gauge"), ("pixd_jobs_busy_total", "counter"),
                         ("pixd_job_queue_seconds", "histogram"),
                         ("pixd_job_run_seconds", "histogram"),
                         ("pixd_camera_frames_total", "counter"),
                         ("pixd_camera_delivered_total", "counter"),
                         ("pixd_camera_dropped_total", "counter"), ("pixd_camera_fps", "gauge"),
                         ("pixd_store_bytes", "gauge"), ("pixd_uptime_seconds", "gauge"),
                         ("pixd_open_connections_received_bytes", "gauge"),
                         ("pixd_open_connections_sent_bytes", "gauge")):
            self.assertIn(f"# TYPE {fam} {typ}\n", text)
        self.assertIn(("pixd_connections", '{handler="native"}'), m)
        self.assertGreaterEqual(m[("pixd_connections", '{handler="http"}')], 1)
        self.assertGreaterEqual(m[("pixd_http_requests_total", '{route="resize"}')], 1)
        self.assertGreaterEqual(m[("pixd_http_requests_total", '{route="image"}')], 2)
        self.assertGreaterEqual(m[("pixd_http_errors_total", '{route="image"}')], 1)
        self.assertEqual(m[("pixd_http_errors_total", '{route="resize"}')], 0)
        self.assertGreater(m[("pixd_open_connections_received_bytes", "")], 0)
        self.assertEqual(m[("pixd_store_bytes", "")], len(data))
        self.assertGreater(m[("pixd_uptime_seconds", "")], 0)
        for fam in ("frames_total", "delivered_total", "dropped_total", "fps", "online"):
            self.assertIn((f"pixd_camera_{fam}", '{camera="cam-1"}'), m)
        for h in ("pixd_job_queue_seconds", "pixd_job_run_seconds"):
            buckets = sorted(((float(k[1][5:-2]), v) for k, v in m.items()
                              if k[0] == h + "_bucket"), key=lambda kv: kv[0])
            self.assertEqual(buckets[-1][0], float("inf"))
            counts = [v for _, v in buckets]
            self.assertEqual(counts, sorted(counts), "buckets are cumulative")
            self.assertEqual(counts[-1], m[(h + "_count", "")])
            self.assertGreaterEqual(m[(h + "_count", "")], 1)
        self.assertGreater(m[("pixd_job_run_seconds_sum", "")], 0)
        # Every request is counted, /metrics included.
        _, m2 = self.metrics()
        self.assertEqual(m2[("pixd_http_requests_total", '{route="metrics"}')],
                         m[("pixd_http_requests_total", '{route="metrics"}')] + 1)


class LargeFile(HttpCase):
    SIZE = 200 * MiB
    RSS_LIMIT_KB = 64 * 1024

    def setUp(self):
        # ASan keeps freed blocks in a 256 MB quarantine by default, which
        # would be counted as pixd's memory; a small one keeps its checks.
        env = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=4"}
        self.pixd = self.start(*self.pixd_args, listen=self.pixd_listen, env=env)

    def sample_rss(self, stop, peak):
        while not stop.is_set():
            peak[0] = max(peak[0], self.pixd.rss_kb())
            stop.wait(0.02)

    def test_200_mib_put_and_get_with_flat_rss(self):
        block = os.urandom(MiB)
        sha = hashlib.sha256()
        peak = [0]
        stop = threading.Event()
        t = threading.Thread(target=self.sample_rss, args=(stop, peak), daemon=True)
        t.start()
        try:
            c = self.connect(timeout=120)
            c.putrequest("PUT", "/api/v1/images/large.bin")
            c.putheader("Content-Length", str(self.SIZE))
            c.endheaders()
            for i in range(self.SIZE // MiB):
                chunk = i.to_bytes(8, "big") + block[8:]
                sha.update(chunk)
                c.send(chunk)
            r = c.getresponse()
            body = r.read()
            self.assertEqual(r.status, 201, body)
            self.assertEqual(json.loads(body)["sha256"], sha.hexdigest())
            up_peak, peak[0] = peak[0], 0

            c.request("GET", "/api/v1/images/large.bin")
            r = c.getresponse()
            self.assertEqual(int(r.getheader("Content-Length")), self.SIZE)
            got = hashlib.sha256()
            n = 0
            while True:
                d = r.read(MiB)
                if not d:
                    break
                got.update(d)
                n += len(d)
            c.close()
            self.assertEqual((n, got.hexdigest()), (self.SIZE, sha.hexdigest()))
        finally:
            stop.set()
            t.join()
        self.assertLess(up_peak, self.RSS_LIMIT_KB, f"RSS during the upload: {up_peak} kB")
        self.assertLess(peak[0], self.RSS_LIMIT_KB, f"RSS during the download: {peak[0]} kB")


if __name__ == "__main__":
    unittest.main()
