"""legacy-snapshot (seed 000, "JWX", pixd-legacy(7)): a client written from
the protocol text. OK -> "FD,<size>,<name>.jpg\\n"; GO -> the JPEG; again;
anything else -> "ER,<message>\\n" and the connection closes."""
import re
import threading
import unittest

from legacytest import LegacyCase, decode

FD = re.compile(rb"^FD,(\d+),([A-Za-z0-9._-]+\.jpg)\n$")


class LegacySnapshot(LegacyCase):
    handler = "legacy-snapshot"
    pixd_args = ("--camera", "test=test,width=160,height=120,fps=30",
                 "--camera", "small=test,width=64,height=48,fps=30")
    pixd_listen = ("native=127.0.0.1:0", "legacy-snapshot=127.0.0.1:0")

    def fetch(self, c, ok=b"OK", go=b"GO"):
        c.send(ok)
        line = c.recv_line()
        m = FD.match(line)
        self.assertIsNotNone(m, line)
        c.send(go)
        data = c.recv_exact(int(m.group(1)))
        return m.group(2).decode(), data

    def assert_error(self, c, text):
        self.assertTrue(c.closed(), "pixd kept the connection after ER")
        self.assertTrue(c.buf.startswith(b"ER,") and c.buf.endswith(b"\n"), c.buf)
        self.assertIn(text, c.buf.decode())

    def test_legacy_snapshot_ok_fd_go_repeat(self):
        c = self.client()
        names = []
        for _ in range(3):
            name, data = self.fetch(c)
            im = decode(data)
            self.assertEqual((im.format, im.size), ("JPEG", (160, 120)))  # the first camera
            self.assertTrue(name.startswith("test-"), name)
            names.append(name)
        self.assert_native_ok()

    def test_legacy_snapshot_blanks_around_words(self):
        c = self.client()
        name, data = self.fetch(c, ok=b" OK\r\n", go=b"\tGO \n")
        self.assertEqual(decode(data).size, (160, 120))
        # Byte by byte.
        c.send(b"O")
        c.send(b"K")
        self.assertTrue(FD.match(c.recv_line()))

    def test_legacy_snapshot_camera_quality_unsharp(self):
        p = self.start(*self.pixd_args, listen=(
            "native=127.0.0.1:0",
            "legacy-snapshot=127.0.0.1:0,camera=small,quality=100,unsharp=2,150,3"))
        c = self.client(p)
        name, data = self.fetch(c)
        self.assertTrue(name.startswith("small-"), name)
        self.assertEqual(decode(data).size, (64, 48))
        q100 = len(data)
        p2 = self.start(*self.pixd_args, listen=(
            "native=127.0.0.1:0", "legacy-snapshot=127.0.0.1:0,camera=small,quality=10"))
        _, low = self.fetch(self.client(p2))
        self.assertLess(len(low), q100)

    def test_legacy_snapshot_bad_parameters_refused_at_start(self):
        import subprocess
        from pixdtest import PIXD
        for spec, text in (("camera=a/b", "camera"), ("quality=0", "quality"),
                           ("unsharp=2", "RADIUS,PERCENT,THRESHOLD"),
                           ("colour=red", "no parameter \"colour\"")):
            r = subprocess.run([PIXD, "--listen", "legacy-snapshot=127.0.0.1:0," + spec],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(text, r.stderr)

    def test_legacy_snapshot_wrong_command(self):
        c = self.client()
        c.send(b"HI")
        self.assert_error(c, "expected OK")
        c = self.client()
        c.send(b"GO")  # GO before any FD
        self.assert_error(c, "expected OK")
        self.assert_native_ok()

    def test_legacy_snapshot_wrong_answer_to_fd(self):
        c = self.client()
        c.send(b"OK")
        self.assertTrue(FD.match(c.recv_line()))
        c.send(b"NO")
        self.assert_error(c, "expected GO")

    def test_legacy_snapshot_unknown_camera(self):
        p = self.start(*self.pixd_args, listen=(
            "native=127.0.0.1:0", "legacy-snapshot=127.0.0.1:0,camera=nope"))
        c = self.client(p)
        c.send(b"OK")
        self.assert_error(c, "no camera named nope")

    def test_legacy_snapshot_oversize_input_while_waiting(self):
        c = self.client()
        c.send(b"OK" + b"x" * 200)
        self.assert_error(c, "wait for FD")

    def test_legacy_snapshot_disconnect_mid_message(self):
        c = self.client()
        c.send(b"O")
        c.close()
        c = self.client()
        c.send(b"OK")  # gone while the frame is encoded
        c.close()
        c = self.client()
        c.send(b"OK")
        c.recv_line()
        c.close()  # gone before GO
        name, data = self.fetch(self.client())
        self.assertEqual(decode(data).size, (160, 120))
        self.assert_native_ok()

    def test_legacy_snapshot_two_clients_at_once(self):
        a, b = self.client(), self.client()
        a.send(b"OK")
        b.send(b"OK")
        la, lb = FD.match(a.recv_line()), FD.match(b.recv_line())
        b.send(b"GO")
        a.send(b"GO")
        self.assertEqual(decode(a.recv_exact(int(la.group(1)))).size, (160, 120))
        self.assertEqual(decode(b.recv_exact(int(lb.group(1)))).size, (160, 120))
        got = []

        def run():
            c = self.client()
            for _ in range(5):
                got.append(decode(self.fetch(c)[1]).size)
        ts = [threading.Thread(target=run) for _ in range(3)]
        for t in ts:
            t.start()
        self.assert_native_ok()
        for t in ts:
            t.join(30)
        self.assertEqual(got, [(160, 120)] * 15)

    def test_legacy_snapshot_idle_timeout(self):
        p = self.start("--idle-timeout", "0.5", *self.pixd_args, listen=self.pixd_listen)
        c = self.client(p)
        self.assert_error(c, "idle")
        self.assert_native_ok(p)

    def test_legacy_snapshot_over_max_connections(self):
        p = self.start("--max-connections", "1", *self.pixd_args,
                       listen=("legacy-snapshot=127.0.0.1:0",))
        a = self.client(p)
        a.send(b"OK")
        self.assertTrue(FD.match(a.recv_line()))
        b = self.client(p)
        self.assert_error(b, "too many connections")

    def test_legacy_snapshot_shutdown_while_waiting_for_go(self):
        c = self.client()
        c.send(b"OK")
        self.assertTrue(FD.match(c.recv_line()))
        self.assertEqual(self.pixd.stop(), 0)
        self.assert_error(c, "shutting down")


if __name__ == "__main__":
    unittest.main()
