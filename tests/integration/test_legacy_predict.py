"""legacy-predict (seed 003, pixd-legacy(7)): a client written from the
protocol text. pixd sends '?' before each command; commands are 4 bytes;
replies are one ASCII digit. FILE + 10-byte size field + image, HASH + 64
hex, MODE + 4-byte model code, PRED -> 0 then P or N, BYE closes. The
models are redblue_model.py's tiny real ONNX classifier."""
import hashlib
import os
import shutil
import tempfile
import threading
import unittest

import redblue_model
from legacytest import LegacyCase, image_bytes

RED, BLUE = (220, 30, 40), (20, 40, 230)


def size_field(n, lead=b"", trail=b"#"):
    """n as the 10-byte size field, padded with filler."""
    f = lead + str(n).encode()
    return f + trail[:1] * (10 - len(f)) if trail else f


class LegacyPredict(LegacyCase):
    handler = "legacy-predict"
    pixd_listen = ("native=127.0.0.1:0", "legacy-predict=127.0.0.1:0")
    extra_args = ("--max-upload", "1M")

    def setUp(self):
        d = tempfile.mkdtemp(prefix="pixd-predict-")
        self.addCleanup(shutil.rmtree, d, True)
        onnx, labels = os.path.join(d, "rb.onnx"), os.path.join(d, "rb.txt")
        redblue_model.write(onnx)
        redblue_model.write_labels(labels)
        self.models = (
            "--model", f"INCE={onnx},labels={labels},size=32x32,positive=red",
            "--model", f"BLUE={onnx},labels={labels},size=32x32,positive=blue",
            "--model", f"DENS={onnx},labels={labels}",  # no positive=: not for PRED
        )
        self.pixd = self.start(*self.models, *self.extra_args, listen=self.pixd_listen)
        self.red = image_bytes("JPEG", (96, 64), RED)
        self.blue = image_bytes("PNG", (80, 80), BLUE)

    def expect(self, c, want):
        self.assertEqual(c.recv_exact(len(want)), want)

    def session(self, pixd=None):
        c = self.client(pixd)
        self.expect(c, b"?")
        return c

    def send_file(self, c, data, field=None, one_byte=False):
        c.send(b"FILE")
        self.expect(c, b"0")
        c.send(field if field is not None else size_field(len(data)))
        if one_byte:
            for b in data:
                c.send(bytes([b]))
        else:
            c.send(data)

    def mode(self, c, code, want=b"0?"):
        c.send(b"MODE")
        self.expect(c, b"0")
        c.send(code)
        self.expect(c, want)

    def assert_closed(self, c, buf=b""):
        self.assertTrue(c.closed(), "pixd kept the connection")
        self.assertEqual(c.buf, buf)

    def test_legacy_predict_happy_path(self):
        c = self.session()
        self.send_file(c, self.red)
        self.expect(c, b"0?")
        c.send(b"HASH")
        self.expect(c, b"0")
        c.send(hashlib.sha256(self.red).hexdigest().encode())
        self.expect(c, b"0?")
        self.mode(c, b"INCE")
        c.send(b"PRED")
        self.expect(c, b"0P?")
        # The file stays until the next FILE: ask another model about it.
        self.mode(c, b"BLUE")
        c.send(b"PRED")
        self.expect(c, b"0N?")
        self.mode(c, b"INCE")
        self.send_file(c, self.blue)
        self.expect(c, b"0?")
        c.send(b"PRED")
        self.expect(c, b"0N?")
        c.send(b"HASH")
        self.expect(c, b"0")
        c.send(hashlib.sha256(self.blue).hexdigest().upper().encode())  # case does not matter
        self.expect(c, b"0?")
        c.send(b"BYE ")
        self.assert_closed(c)
        self.assert_native_ok()

    def test_legacy_predict_every_error_code(self):
        c = self.session()
        c.send(b"PRED")                     # no file, no model
        self.expect(c, b"1?")
        c.send(b"HASH")                     # no file to compare with
        self.expect(c, b"1?")
        c.send(b"WHAT")
        self.expect(c, b"2?")
        c.send(b"file")                     # commands are case-sensitive
        self.expect(c, b"2?")
        self.mode(c, b"XXXX", b"3?")        # no such model
        self.mode(c, b"DENS", b"3?")        # no positive= label
        self.mode(c, b"INC\0", b"3?")
        self.mode(c, b"INCE")
        c.send(b"PRED")                     # model, but no file
        self.expect(c, b"1?")
        self.send_file(c, self.red)
        self.expect(c, b"0?")
        c.send(b"HASH")
        self.expect(c, b"0")
        c.send(hashlib.sha256(self.blue).hexdigest().encode())
        self.expect(c, b"4?")
        c.send(b"HASH")
        self.expect(c, b"0")
        c.send(b"z" * 64)                   # not hex: cannot match
        self.expect(c, b"4?")
        self.mode(c, b"NONE", b"3?")        # a failed MODE clears the model
        c.send(b"PRED")
        self.expect(c, b"1?")
        self.mode(c, b"INCE")
        junk = b"this is not an image at all"
        self.send_file(c, junk)
        self.expect(c, b"5?")
        c.send(b"PRED")                     # the refused file replaced the old one
        self.expect(c, b"1?")
        c.send(b"FILE")
        self.expect(c, b"0")
        c.send(b"0000000000")               # size 0: nothing follows
        self.expect(c, b"5?")
        self.send_file(c, self.red)
        self.expect(c, b"0?")
        c.send(b"PRED")
        self.expect(c, b"0P?")
        self.wait_log("not an image pixd reads")
        self.assert_native_ok()

    def test_legacy_predict_truncated_image_is_5_on_pred(self):
        # The header is sound, so FILE takes it; decoding fails on PRED.
        c = self.session()
        self.mode(c, b"INCE")
        self.send_file(c, self.red[:300])
        self.expect(c, b"0?")
        c.send(b"PRED")
        self.expect(c, b"5?")
        c.send(b"BYE!")
        self.assert_closed(c)

    def test_legacy_predict_size_field_filler(self):
        c = self.session()
        self.mode(c, b"INCE")
        n = str(len(self.red)).encode()
        for field in (n.ljust(10, b"x"), n.rjust(10, b" "), n.ljust(10, b"\0"),
                      b"a" + n[:1] + b"-" + n[1:] + b"!!" + b"#" * (6 - len(n)),
                      n.rjust(10, b"0")):
            self.assertEqual(len(field), 10, field)
            self.send_file(c, self.red, field=field)
            self.expect(c, b"0?")
            c.send(b"PRED")
            self.expect(c, b"0P?")

    def test_legacy_predict_one_byte_at_a_time(self):
        c = self.session()
        for b in b"MODE" + b"INCE":
            c.send(bytes([b]))
        self.expect(c, b"00?")
        for b in b"FILE" + size_field(len(self.blue)):
            c.send(bytes([b]))
        self.expect(c, b"0")
        for b in self.blue:  # the seed sent the body in 1-byte chunks
            c.send(bytes([b]))
        self.expect(c, b"0?")
        for b in b"PRED":
            c.send(bytes([b]))
        self.expect(c, b"0N?")
        for b in b"BYE\0":
            c.send(bytes([b]))
        self.assert_closed(c)

    def test_legacy_predict_bye_fillers(self):
        for bye in (b"BYE ", b"BYE!", b"BYE\0", b"BYEx"):
            c = self.session()
            c.send(bye)
            self.assert_closed(c)
        c = self.session()
        c.send(b"BY")   # not 4 bytes yet: waits
        c.send(b"E.")
        self.assert_closed(c)

    def test_legacy_predict_disconnect_mid_message(self):
        partial = [
            b"FI",
            b"FILE" + b"12",
            b"FILE" + size_field(len(self.red)) + self.red[:100],
            b"HASH",
            b"MODE" + b"IN",
        ]
        for p in partial:
            c = self.session()
            c.send(p)
            c.close()
        # Gone while its PRED is on the work queue.
        for _ in range(3):
            c = self.session()
            self.mode(c, b"INCE")
            self.send_file(c, self.red)
            self.expect(c, b"0?")
            c.send(b"PRED")
            c.close()
        c = self.session()
        self.mode(c, b"INCE")
        self.send_file(c, self.red)
        self.expect(c, b"0?")
        c.send(b"PRED")
        self.expect(c, b"0P?")
        self.assert_native_ok()

    def test_legacy_predict_malformed_size_field(self):
        c = self.session()
        c.send(b"FILE")
        self.expect(c, b"0")
        c.send(b"abcdefghij")  # no digit: the body cannot be framed
        self.assert_closed(c, b"5")
        self.wait_log("no digit")
        self.assert_native_ok()

    def test_legacy_predict_oversize_refused_before_body(self):
        for n in (9999999999, 1024 * 1024 + 1):
            c = self.session()
            c.send(b"FILE")
            self.expect(c, b"0")
            c.send(size_field(n))  # and no body: the answer comes first
            self.assert_closed(c, b"5")
        self.wait_log("--max-upload")
        # Exactly the limit is taken (and is not an image).
        c = self.session()
        self.send_file(c, b"\xff" * (1024 * 1024))
        self.expect(c, b"5?")
        self.assert_native_ok()

    def test_legacy_predict_over_max_pixels(self):
        p = self.start(*self.models, "--max-pixels", "1000", listen=self.pixd_listen)
        c = self.session(p)
        self.send_file(c, self.red)  # 96 x 64 = 6144 pixels
        self.expect(c, b"5?")
        self.wait_log("over --max-pixels", p)

    def test_legacy_predict_two_clients_at_once(self):
        a, b = self.session(), self.session()
        a.send(b"FILE" + size_field(len(self.red)) + self.red[:200])
        self.expect(a, b"0")
        self.mode(b, b"BLUE")
        self.send_file(b, self.blue)
        self.expect(b, b"0?")
        b.send(b"PRED")
        self.expect(b, b"0P?")
        a.send(self.red[200:])
        self.expect(a, b"0?")
        self.mode(a, b"INCE")
        a.send(b"PRED")
        self.expect(a, b"0P?")
        results = {}

        def run(name, img):
            c = self.session()
            self.mode(c, b"INCE")
            for _ in range(3):
                self.send_file(c, img)
                self.expect(c, b"0?")
                c.send(b"PRED")
                results.setdefault(name, []).append(c.recv_exact(3))
        ts = [threading.Thread(target=run, args=a) for a in (("r", self.red), ("b", self.blue))]
        for t in ts:
            t.start()
        self.assert_native_ok()
        for t in ts:
            t.join(60)
        self.assertEqual(results, {"r": [b"0P?"] * 3, "b": [b"0N?"] * 3})

    def test_legacy_predict_idle_client_is_let_go(self):
        p = self.start(*self.models, "--idle-timeout", "0.5", listen=self.pixd_listen)
        c = self.session(p)
        self.assert_closed(c)
        # Mid-exchange too: a size field that never ends.
        c = self.session(p)
        c.send(b"FILE12")
        self.expect(c, b"0")
        self.assert_closed(c)
        self.assert_native_ok(p)

    def test_legacy_predict_without_models(self):
        p = self.start(listen=self.pixd_listen)
        c = self.session(p)
        self.mode(c, b"INCE", b"3?")
        self.send_file(c, self.red)
        self.expect(c, b"0?")
        c.send(b"PRED")
        self.expect(c, b"1?")

    def test_legacy_predict_over_max_connections(self):
        p = self.start(*self.models, "--max-connections", "1",
                       listen=("legacy-predict=127.0.0.1:0",))
        a = self.session(p)
        b = self.client(p)
        self.assert_closed(b)
        a.send(b"WHAT")
        self.expect(a, b"2?")

    def test_legacy_predict_busy_is_6_and_goes_on(self):
        # One worker and a queue of 8: twenty PREDs of a large image sent at
        # once cannot all be taken; the refused ones hear 6 and carry on.
        p = self.start(*self.models, "--workers", "1", "--max-upload", "4M",
                       listen=self.pixd_listen)
        big = image_bytes("JPEG", (3000, 2500), RED)
        self.assertLess(len(big), 4 << 20)
        cs = []
        for _ in range(20):
            c = self.session(p)
            self.mode(c, b"INCE")
            self.send_file(c, big)
            self.expect(c, b"0?")
            cs.append(c)
        for c in cs:
            c.send(b"PRED")
        replies = [c.recv_exact(1) for c in cs]
        self.assertIn(b"6", replies)
        self.assertIn(b"0", replies)
        for c, r in zip(cs, replies):
            self.expect(c, b"P?" if r == b"0" else b"?")
        c = cs[replies.index(b"6")]
        c.send(b"PRED")
        self.expect(c, b"0P?")
        self.wait_log("every worker is busy", p)

    def test_legacy_predict_shutdown_mid_exchange(self):
        a, b = self.session(), self.session()
        self.mode(a, b"INCE")
        self.send_file(a, self.red)
        self.expect(a, b"0?")
        a.send(b"PRED")
        b.send(b"FILE" + size_field(len(self.red)) + self.red[:50])
        self.expect(b, b"0")
        self.assertEqual(self.pixd.stop(), 0)
        for c in (a, b):
            self.assertTrue(c.closed())
        self.assertIn(a.buf, (b"", b"0P?"))
        self.assertEqual(b.buf, b"")


if __name__ == "__main__":
    unittest.main()
