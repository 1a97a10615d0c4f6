"""Image jobs over the native protocol: RESIZE with sent or stored images."""
import io
import math
import os
import socket
import struct
import unittest

import numpy
from PIL import Image

from pixdtest import *  # noqa: F401,F403

T_RESIZE, T_RESIZED = 0x20, 0x21
TAG_MODE, TAG_QUALITY, TAG_FORMAT, TAG_ENLARGE = 40, 41, 42, 43
TAG_SHARPEN, TAG_SOURCE, TAG_STORE_AS = 45, 46, 47
TAG_IN_BYTES, TAG_OUT_BYTES, TAG_IN_WIDTH, TAG_IN_HEIGHT = 50, 51, 52, 53
TAG_OUT_WIDTH, TAG_OUT_HEIGHT, TAG_SCALE, TAG_QUEUE_US, TAG_PROCESS_US = 54, 55, 56, 57, 58
E_BUSY, E_TOOBIG_ = 7, 4


def photo(w, h, seed=1):
    """A photo-like picture: smooth gradients, edges and some noise."""
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


def psnr(a, b):
    """PSNR of luma: JPEG's 4:2:0 chroma subsampling blurs the sharp colour
    edges of the test picture by design, in every encoder."""
    a = numpy.asarray(a.convert("L"), dtype=numpy.float64)
    b = numpy.asarray(b.convert("L"), dtype=numpy.float64)
    mse = ((a - b) ** 2).mean()
    return 99.0 if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def resize_frames(fid, data, **opts):
    body = field(TAG_SIZE, len(data))
    for key, tag in (("width", TAG_WIDTH), ("height", TAG_HEIGHT), ("quality", TAG_QUALITY),
                     ("enlarge", TAG_ENLARGE)):
        if key in opts:
            body += field(tag, int(opts[key]))
    for key, tag in (("mode", TAG_MODE), ("format", TAG_FORMAT), ("sharpen", TAG_SHARPEN),
                     ("store_as", TAG_STORE_AS)):
        if key in opts:
            body += field(tag, opts[key])
    out = [frame(T_RESIZE, body, fid=fid, flags=F_MORE)]
    for i in range(0, len(data), 256 * 1024):
        out.append(frame(T_DATA, data[i:i + 256 * 1024], fid=fid, flags=F_MORE))
    out.append(frame(T_END, fid=fid))
    return b"".join(out)


def read_result(c, fid):
    """(stats dict, output bytes) or raises on ERROR."""
    t, flags, rid, body = c.recv()
    if t == T_ERROR:
        f = dict(parse_fields(body))
        raise PixdError(struct.unpack(">Q", f[TAG_CODE])[0], f.get(TAG_MESSAGE, b"").decode())
    assert (t, rid) == (T_RESIZED, fid), (t, rid)
    stats = {}
    for tag, v in parse_fields(body):
        stats[tag] = v.decode() if tag in (TAG_SCALE, TAG_NAME, 59) else (
            struct.unpack(">Q", v)[0] if len(v) == 8 else v)
    data = bytearray()
    while flags & F_MORE:
        t, flags, rid, body = c.recv()
        assert rid == fid
        if t == T_DATA:
            data += body
    return stats, bytes(data)


class PixdError(Exception):
    def __init__(self, code, msg):
        super().__init__(f"{code}: {msg}")
        self.code, self.msg = code, msg


class Resize(PixdTestCase):
    def resize(self, data, c=None, fid=1, **opts):
        c = c or Raw(self.pixd.addr())
        c.send(resize_frames(fid, data, **opts))
        return read_result(c, fid)

    def test_resize_jpeg_fit_scale_and_quality(self):
        src = photo(1600, 1200)
        # Quality 95 so that the comparison measures the resize, not the encoder.
        stats, out = self.resize(encode(src, "JPEG", quality=92), width=400, height=400,
                                 quality=95)
        img = Image.open(io.BytesIO(out))
        self.assertEqual((img.format, img.size), ("JPEG", (400, 300)))
        self.assertEqual((stats[TAG_IN_WIDTH], stats[TAG_IN_HEIGHT]), (1600, 1200))
        self.assertEqual((stats[TAG_OUT_WIDTH], stats[TAG_OUT_HEIGHT]), (400, 300))
        self.assertEqual(stats[TAG_SCALE], "1/4")
        self.assertEqual(stats[TAG_OUT_BYTES], len(out))
        self.assertIn(TAG_PROCESS_US, stats)
        ref = src.resize((400, 300), Image.BOX)
        self.assertGreater(psnr(img, ref), 30.0)

    def test_resize_modes(self):
        data = encode(photo(900, 600), "JPEG", quality=90)
        _, out = self.resize(data, width=300, height=300, mode="fill")
        self.assertEqual(Image.open(io.BytesIO(out)).size, (300, 300))
        _, out = self.resize(data, width=500, height=100, mode="stretch")
        self.assertEqual(Image.open(io.BytesIO(out)).size, (500, 100))
        _, out = self.resize(data, width=300)
        self.assertEqual(Image.open(io.BytesIO(out)).size, (300, 200))
        _, out = self.resize(data, width=2000, height=2000)
        self.assertEqual(Image.open(io.BytesIO(out)).size, (900, 600), "never enlarge")
        _, out = self.resize(data, width=1800, enlarge=1)
        self.assertEqual(Image.open(io.BytesIO(out)).size, (1800, 1200))

    def test_resize_other_formats_in_and_out(self):
        src = photo(640, 480)
        for fmt in ("PNG", "WEBP", "BMP"):
            stats, out = self.resize(encode(src, fmt), width=320, height=240, quality=95)
            img = Image.open(io.BytesIO(out))
            self.assertEqual((img.format, img.size), ("JPEG", (320, 240)), fmt)
            self.assertGreater(psnr(img, src.resize((320, 240), Image.BOX)), 30.0, fmt)
        # Debian's OpenCV 4.6 has no GIF decoder: a clear refusal, not a crash.
        with self.assertRaises(PixdError) as e:
            self.resize(encode(src.convert("P"), "GIF"), width=100)
        self.assertEqual(e.exception.code, E_INVALID)
        self.assertIn("gif", e.exception.msg)
        for fmt, name in (("png", "PNG"), ("webp", "WEBP")):
            _, out = self.resize(encode(src, "JPEG"), width=160, format=fmt)
            img = Image.open(io.BytesIO(out))
            self.assertEqual((img.format, img.size), (name, (160, 120)))

    def test_resize_exif_orientation_applied(self):
        src = photo(800, 400)
        exif = Image.Exif()
        exif[0x0112] = 6  # rotate 90 degrees clockwise to display
        stats, out = self.resize(encode(src, "JPEG", exif=exif.tobytes(), quality=95),
                                 width=200, height=400, quality=95)
        img = Image.open(io.BytesIO(out))
        self.assertEqual(img.size, (200, 400))
        self.assertNotIn("exif", img.info, "metadata must be stripped")
        ref = src.transpose(Image.ROTATE_270).resize((200, 400), Image.BOX)
        self.assertGreater(psnr(img, ref), 30.0)

    def test_resize_sharpen(self):
        data = encode(photo(800, 600), "JPEG")
        _, plain = self.resize(data, width=400)
        _, sharp = self.resize(data, width=400, sharpen="2,1.5,3")
        self.assertNotEqual(plain, sharp)
        with self.assertRaises(PixdError) as e:
            self.resize(data, width=400, sharpen="lots")
        self.assertEqual(e.exception.code, E_INVALID)

    def test_resize_bomb_truncated_and_garbage_refused(self):
        c = Raw(self.pixd.addr())
        small = bytearray(encode(photo(64, 64), "JPEG"))
        sof = small.index(b"\xff\xc0")
        struct.pack_into(">HH", small, sof + 5, 64000, 64000)
        with self.assertRaises(PixdError) as e:
            self.resize(bytes(small), c=c, fid=1, width=100)
        self.assertEqual(e.exception.code, E_TOOBIG_)
        self.assertIn("max-pixels", e.exception.msg)
        good = encode(photo(400, 300), "JPEG")
        with self.assertRaises(PixdError) as e:
            self.resize(good[:len(good) // 3], c=c, fid=2, width=100)
        self.assertEqual(e.exception.code, E_INVALID)
        with self.assertRaises(PixdError) as e:
            self.resize(os.urandom(5000), c=c, fid=3, width=100)
        self.assertEqual(e.exception.code, E_INVALID)
        stats, out = self.resize(good, c=c, fid=4, width=100)
        self.assertEqual(Image.open(io.BytesIO(out)).size, (100, 75))
        other = Raw(self.pixd.addr())
        other.send(frame(T_PING, fid=1))
        self.assertEqual(other.recv()[0], T_PONG)

    def test_resize_stored_source_and_store_as(self):
        c = Raw(self.pixd.addr())
        c.send(put_frames(1, "big.jpg", encode(photo(1200, 800), "JPEG")))
        self.assertEqual(c.recv()[0], T_STORED)
        body = field(TAG_SOURCE, "big.jpg") + field(TAG_WIDTH, 300) + \
            field(TAG_STORE_AS, "small.jpg")
        c.send(frame(T_RESIZE, body, fid=2))
        stats, out = read_result(c, 2)
        self.assertEqual(out, b"")
        self.assertEqual(stats[TAG_NAME], "small.jpg")
        with open(os.path.join(self.pixd.store, "small.jpg"), "rb") as f:
            self.assertEqual(Image.open(f).size, (300, 200))
        c.send(frame(T_RESIZE, field(TAG_SOURCE, "missing.jpg") + field(TAG_WIDTH, 9), fid=3))
        with self.assertRaises(PixdError) as e:
            read_result(c, 3)
        self.assertEqual(e.exception.code, E_NOTFOUND)


class Busy(PixdTestCase):
    pixd_args = ("--workers", "1")

    def test_busy_when_queue_full_and_pings_still_fast(self):
        data = encode(photo(3000, 2000, seed=3), "PNG", compress_level=1)
        conns = [Raw(self.pixd.addr()) for _ in range(14)]
        for i, c in enumerate(conns):
            c.send(resize_frames(1, data, width=100))
        ping = Raw(self.pixd.addr())
        ping.send(frame(T_PING, fid=1))
        self.assertEqual(ping.recv()[0], T_PONG)
        results = {"ok": 0, "busy": 0}
        for c in conns:
            try:
                read_result(c, 1)
                results["ok"] += 1
            except PixdError as e:
                self.assertEqual(e.code, E_BUSY)
                self.assertIn("busy", e.msg)
                results["busy"] += 1
        self.assertGreaterEqual(results["busy"], 1, results)
        self.assertGreaterEqual(results["ok"], 2, results)

    def test_image_longer_or_shorter_than_size_refused_and_place_freed(self):
        # 1 worker: 9 places in the line. Each refused input gives its place
        # back, so 24 of them leave room for a good one after.
        good = encode(photo(200, 100), "JPEG")
        head = field(TAG_SIZE, len(good)) + field(TAG_WIDTH, 50)
        c = Raw(self.pixd.addr())
        for i in range(12):
            fid = 2 * i + 1
            c.send(frame(T_RESIZE, head, fid=fid, flags=F_MORE) +
                   frame(T_DATA, good + b"x", fid=fid, flags=F_MORE))
            rid, code, msg = c.recv_error()
            self.assertEqual((rid, code), (fid, E_INVALID), msg)
            self.assertEqual(msg, "received more image bytes than SIZE announced")
            c.send(frame(T_RESIZE, head, fid=fid + 1, flags=F_MORE) +
                   frame(T_DATA, good[:-1], fid=fid + 1, flags=F_MORE) +
                   frame(T_END, fid=fid + 1))
            rid, code, msg = c.recv_error()
            self.assertEqual((rid, code), (fid + 1, E_INVALID), msg)
            self.assertEqual(msg, "received fewer image bytes than SIZE announced")
        c.send(resize_frames(100, good, width=50))
        stats, out = read_result(c, 100)
        self.assertEqual(Image.open(io.BytesIO(out)).size, (50, 25))


if __name__ == "__main__":
    unittest.main()
