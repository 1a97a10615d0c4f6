"""legacy-resize (seed 004, pixd-legacy(7)): a client written from the
protocol text. Request: u32 size, u32 width, u32 height, image; reply: u32
size, JPEG of exactly width x height; size 0 = refused, connection closes."""
import struct
import threading
import unittest

from legacytest import LegacyCase, decode, image_bytes
from pixdtest import wait_until


def request(data, w, h, size=None):
    return struct.pack(">III", len(data) if size is None else size, w, h) + data


class LegacyResize(LegacyCase):
    handler = "legacy-resize"
    pixd_args = ("--max-upload", "4M", "--max-pixels", "20M", "--jpeg-quality", "85")
    pixd_listen = ("native=127.0.0.1:0", "legacy-resize=127.0.0.1:0")

    def reply(self, c):
        n = struct.unpack(">I", c.recv_exact(4))[0]
        return c.recv_exact(n) if n else b""

    def assert_refused(self, c):
        self.assertEqual(c.recv_exact(4), b"\0\0\0\0")
        self.assertTrue(c.closed(), "pixd kept the connection after size 0")

    def test_legacy_resize_stretches_to_exact_size(self):
        c = self.client()
        c.send(request(image_bytes("PNG", (320, 200)), 100, 50))
        im = decode(self.reply(c))
        self.assertEqual((im.format, im.size), ("JPEG", (100, 50)))
        # Larger than the input, other aspect: still exactly what was asked.
        c.send(request(image_bytes("JPEG", (320, 200)), 640, 640))
        self.assertEqual(decode(self.reply(c)).size, (640, 640))
        self.assert_native_ok()

    def test_legacy_resize_several_requests_pipelined(self):
        c = self.client()
        sizes = [(80, 60), (33, 77), (10, 10)]
        imgs = [image_bytes(f, (200, 150)) for f in ("JPEG", "PNG", "BMP")]
        c.send(b"".join(request(d, w, h) for d, (w, h) in zip(imgs, sizes)))
        for w, h in sizes:
            self.assertEqual(decode(self.reply(c)).size, (w, h))
        # One byte at a time works too.
        for b in request(imgs[0], 7, 5):
            c.send(bytes([b]))
        self.assertEqual(decode(self.reply(c)).size, (7, 5))

    def test_legacy_resize_quality_follows_jpeg_quality(self):
        noisy = image_bytes("PNG", (300, 300), noise=True)
        c = self.client()
        c.send(request(noisy, 300, 300))
        q85 = self.reply(c)
        p = self.start("--jpeg-quality", "30", listen=self.pixd_listen)
        c2 = self.client(p)
        c2.send(request(noisy, 300, 300))
        q30 = self.reply(c2)
        self.assertLess(len(q30), len(q85))

    def test_legacy_resize_bad_image_is_size_zero_and_close(self):
        c = self.client()
        c.send(request(b"this is not an image at all", 10, 10))
        self.assert_refused(c)
        self.wait_log("legacy-resize")
        # Truncated JPEG.
        c = self.client()
        c.send(request(image_bytes("JPEG", (64, 64))[:100], 10, 10))
        self.assert_refused(c)
        self.assert_native_ok()

    def test_legacy_resize_zero_size_field(self):
        c = self.client()
        c.send(request(b"", 10, 10))
        self.assert_refused(c)

    def test_legacy_resize_oversize_size_field_refused_before_body(self):
        c = self.client()
        # 4 GiB announced, over --max-upload 4M: refused from the header alone.
        c.send(struct.pack(">III", 0xFFFFFFFF, 10, 10))
        self.assert_refused(c)
        c = self.client()
        c.send(struct.pack(">III", 4 * 1024 * 1024 + 1, 10, 10))
        self.assert_refused(c)
        self.wait_log("--max-upload")
        self.assert_native_ok()

    def test_legacy_resize_bad_target_size(self):
        img = image_bytes("PNG")
        for w, h in ((0, 10), (10, 0), (70000, 10), (5000, 5000)):  # last: over --max-pixels
            c = self.client()
            c.send(request(img, w, h))
            self.assert_refused(c)
        self.wait_log("--max-pixels")

    def test_legacy_resize_image_over_max_pixels(self):
        p = self.start("--max-pixels", "10000", listen=self.pixd_listen)
        c = self.client(p)
        c.send(request(image_bytes("PNG", (200, 200)), 50, 50))
        self.assert_refused(c)

    def test_legacy_resize_malformed_header_then_disconnect(self):
        c = self.client()
        c.send(b"\x00\x00\x01")  # 3 of 12 header bytes
        c.close()
        c = self.client()
        c.send(request(image_bytes("PNG"), 5, 5)[:12 + 40])  # mid-body
        c.close()
        c = self.client()
        big = image_bytes("JPEG", (1500, 1500), noise=True)
        self.assertLess(len(big), 4 << 20)
        c.send(request(big, 1000, 1000))  # while its job runs
        c.close()
        c = self.client()
        c.send(request(image_bytes("PNG"), 8, 8))
        self.assertEqual(decode(self.reply(c)).size, (8, 8))
        self.assert_native_ok()

    def test_legacy_resize_two_clients_at_once(self):
        img = image_bytes("PNG", (400, 300), noise=True)
        a, b = self.client(), self.client()
        whole = request(img, 40, 30)
        a.send(whole[:len(whole) // 2])
        b.send(request(img, 20, 10))
        self.assertEqual(decode(self.reply(b)).size, (20, 10))
        a.send(whole[len(whole) // 2:])
        self.assertEqual(decode(self.reply(a)).size, (40, 30))
        results = {}

        def run(name, w):
            c = self.client()
            for _ in range(3):
                c.send(request(img, w, w))
                results.setdefault(name, []).append(decode(self.reply(c)).size)
        ts = [threading.Thread(target=run, args=(n, w)) for n, w in (("x", 11), ("y", 22))]
        for t in ts:
            t.start()
        self.assert_native_ok()
        for t in ts:
            t.join(30)
        self.assertEqual(results, {"x": [(11, 11)] * 3, "y": [(22, 22)] * 3})

    def test_legacy_resize_idle_client_is_let_go(self):
        p = self.start("--idle-timeout", "0.5", listen=self.pixd_listen)
        c = self.client(p)
        self.assertTrue(c.closed())
        self.assertEqual(c.buf, b"\0\0\0\0")
        self.assert_native_ok(p)

    def test_legacy_resize_over_max_connections(self):
        p = self.start("--max-connections", "1", listen=("legacy-resize=127.0.0.1:0",))
        a = self.client(p)
        a.send(request(image_bytes("PNG"), 4, 4))
        self.assertEqual(decode(self.reply(a)).size, (4, 4))
        b = self.client(p)
        self.assertTrue(b.closed())
        self.assertEqual(b.buf, b"\0\0\0\0")

    def test_legacy_resize_shutdown_mid_request(self):
        c = self.client()
        c.send(request(image_bytes("PNG"), 5, 5)[:20])
        self.assert_native_ok()
        self.assertEqual(self.pixd.stop(), 0)
        self.assertTrue(c.closed())
        self.assertEqual(c.buf, b"\0\0\0\0")



class LegacyResizeLine(LegacyCase):
    """Bodies still arriving hold places in the job line (workers + 8 per
    worker), so slow senders cannot pin memory past it."""
    handler = "legacy-resize"
    pixd_args = ("--workers", "1")
    pixd_listen = ("native=127.0.0.1:0", "legacy-resize=127.0.0.1:0")

    def test_legacy_resize_slow_bodies_fill_the_line(self):
        img = image_bytes("JPEG", (64, 48))
        slow = []
        for _ in range(9):  # 1 worker + 8 waiting: the whole line
            c = self.client()
            c.send(request(img, 10, 10)[:20])  # header and a few bytes, then nothing
            slow.append(c)
        # Every place is held by a body still arriving: the next is refused
        # at its header, before it sends its image.
        extra = self.client()
        extra.send(request(img, 10, 10)[:12])
        self.assertEqual(extra.recv_exact(4), b"\0\0\0\0")
        # A slow sender that leaves gives its place back.
        slow.pop().close()
        def served():
            c = self.client()
            c.send(request(img, 10, 10))
            n = struct.unpack(">I", c.recv_exact(4))[0]
            return n > 0 and decode(c.recv_exact(n)).size == (10, 10)
        wait_until(served, 10, "a place in the line again")
        self.assert_native_ok()


if __name__ == "__main__":
    unittest.main()
