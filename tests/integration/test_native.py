"""The native protocol as spoken by the real pixd (pixd-protocol(7))."""
import select
import struct
import unittest
import zlib

from pixdtest import *  # noqa: F401,F403


class NativeProtocol(PixdTestCase):
    def test_native_ping_echoes_body_and_id(self):
        c = Raw(self.pixd.addr())
        c.send(frame(T_PING, b"12345678", fid=7))
        t, _, fid, body = c.recv()
        self.assertEqual((t, fid, body), (T_PONG, 7, b"12345678"))

    def test_native_many_requests_in_one_write(self):
        c = Raw(self.pixd.addr())
        c.send(b"".join(frame(T_PING, struct.pack(">I", i), fid=i) for i in range(1, 201)))
        got = [c.recv() for _ in range(200)]
        self.assertEqual([g[2] for g in got], list(range(1, 201)))
        self.assertTrue(all(g[3] == struct.pack(">I", g[2]) for g in got))

    def test_native_bytes_one_at_a_time(self):
        c = Raw(self.pixd.addr(), hello=False)
        for b in hello_frame() + frame(T_PING, b"x", fid=3):
            c.send(bytes([b]))
        self.assertEqual(c.recv()[0], T_WELCOME)
        self.assertEqual(c.recv()[:3], (T_PONG, 0, 3))

    def test_native_compressed_request(self):
        c = Raw(self.pixd.addr())
        c.send(frame(T_PING, zlib.compress(b"zz" * 16), fid=9, flags=1))
        t, _, fid, body = c.recv()
        self.assertEqual((t, fid, body), (T_PONG, 9, b"zz" * 16))

    def test_native_status_fields(self):
        c = Raw(self.pixd.addr())
        c.send(frame(T_STATUS, fid=2))
        t, _, fid, body = c.recv()
        self.assertEqual((t, fid), (T_STATUS_REPLY, 2))
        tags = [tag for tag, _ in parse_fields(body)]
        for tag in (4, 20, 21, 22, 23):
            self.assertIn(tag, tags)

    def test_native_unknown_type_keeps_connection(self):
        c = Raw(self.pixd.addr())
        c.send(frame(0x7e, b"?", fid=5))
        fid, code, msg = c.recv_error()
        self.assertEqual((fid, code), (5, E_BADTYPE))
        self.assertIn("0x7e", msg)
        c.send(frame(T_PING, fid=6))
        self.assertEqual(c.recv()[:3], (T_PONG, 0, 6))

    def test_native_oversize_ping_is_refused_per_request(self):
        c = Raw(self.pixd.addr())
        c.send(frame(T_PING, b"x" * 65, fid=4))
        self.assertEqual(c.recv_error()[:2], (4, E_TOOBIG))

    def test_native_garbage_gets_error_and_next_client_is_served(self):
        c = Raw(self.pixd.addr(), hello=False)
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        fid, code, msg = c.recv_error()
        self.assertEqual(fid, 0)
        self.assertIn(code, (E_BADFRAME, E_TOOBIG, E_NOTHELLO))
        self.assertTrue(c.closed())
        d = Raw(self.pixd.addr())
        d.send(frame(T_PING, fid=1))
        self.assertEqual(d.recv()[0], T_PONG)

    def test_native_first_frame_must_be_hello(self):
        c = Raw(self.pixd.addr(), hello=False)
        c.send(frame(T_PING, fid=1))
        self.assertEqual(c.recv_error()[1], E_NOTHELLO)
        self.assertTrue(c.closed())

    def test_native_version_mismatch(self):
        c = Raw(self.pixd.addr(), hello=False)
        c.send(hello_frame(lo=2, hi=9))
        fid, code, msg = c.recv_error()
        self.assertEqual(code, E_VERSION)
        self.assertIn("1..1", msg)
        self.assertTrue(c.closed())

    def test_native_newer_client_gets_version_1(self):
        c = Raw(self.pixd.addr(), hello=False)
        c.send(hello_frame(lo=1, hi=5))
        t, _, _, body = c.recv()
        self.assertEqual(t, T_WELCOME)
        self.assertEqual(dict(parse_fields(body))[3], struct.pack(">Q", 1))

    def test_native_oversize_frame_header_refused(self):
        c = Raw(self.pixd.addr())
        c.send(struct.pack(">BBHII", T_PING, 0, 0, 1, 0xFFFFFFF0))
        self.assertEqual(c.recv_error()[1], E_TOOBIG)
        self.assertTrue(c.closed())

    def test_native_zlib_bomb_refused(self):
        c = Raw(self.pixd.addr())
        bomb = zlib.compress(b"\0" * (8 << 20), 9)
        c.send(frame(T_PING, bomb, fid=1, flags=1))
        self.assertEqual(c.recv_error()[1], E_TOOBIG)
        self.assertTrue(c.closed())

    def test_native_corrupt_zlib_refused(self):
        c = Raw(self.pixd.addr())
        c.send(frame(T_PING, b"not zlib at all", fid=1, flags=1))
        self.assertEqual(c.recv_error()[1], E_ZLIB)

    def test_native_id_zero_request_refused(self):
        c = Raw(self.pixd.addr())
        c.send(frame(T_PING, fid=0))
        self.assertEqual(c.recv_error()[0], 0)
        c.send(frame(T_PING, fid=1))
        self.assertEqual(c.recv()[0], T_PONG)

    def test_native_client_not_reading_is_bounded(self):
        # Requests from a client that never reads its replies: pixd stops
        # reading it once its queue is full, instead of buffering forever.
        c = Raw(self.pixd.addr())
        c.sock.setblocking(False)
        chunk = frame(T_PING, b"p" * 64, fid=1) * 4096
        sent = 0
        while sent < (256 << 20):
            # Writable within a second means pixd is still draining us.
            if not select.select([], [c.sock], [], 1.0)[1]:
                break
            try:
                sent += c.sock.send(chunk)
            except BlockingIOError:
                pass
        self.assertLess(sent, 64 << 20, "pixd kept reading from a client that does not read")
        other = Raw(self.pixd.addr())
        other.send(frame(T_PING, fid=1))
        self.assertEqual(other.recv()[0], T_PONG)


if __name__ == "__main__":
    unittest.main()
