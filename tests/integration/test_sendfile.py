"""Downloads of large files go out with sendfile(2) (conn_sendfile.c):
bytes stay in order with whatever else the connection sends, slow and
vanishing readers are handled, and a file cut short behind pixd's back
ends only that response."""
import hashlib
import os
import socket
import subprocess
import tempfile
import time

from pixdtest import *  # noqa: F401,F403

MiB = 1 << 20


def http_get_raw(sock, path, extra=""):
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n{extra}\r\n".encode())


def read_response(f):
    """(status, headers, body) of one response from a buffered socket file."""
    status = int(f.readline().split()[1])
    headers = {}
    while True:
        line = f.readline().decode().strip()
        if not line:
            break
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    body = f.read(int(headers.get("content-length", 0)))
    return status, headers, body


class Sendfile(PixdTestCase):
    pixd_listen = ("native=127.0.0.1:0", "http=127.0.0.1:0")

    def store(self, name, data):
        with open(os.path.join(self.pixd.store, name), "wb") as f:
            f.write(data)

    def connect_http(self):
        s = socket.create_connection(self.pixd.addr("http"), timeout=60)
        self.addCleanup(s.close)
        return s

    def test_pipelined_requests_stay_in_order_after_a_large_body(self):
        big = os.urandom(5 * MiB + 123)
        small = b"small file\n" * 10
        self.store("big.bin", big)
        self.store("small.txt", small)
        s = self.connect_http()
        # Three requests at once: the second and third are answered while
        # (or right after) the first one's body goes out from the file.
        http_get_raw(s, "/api/v1/images/big.bin")
        http_get_raw(s, "/api/v1/images/small.txt")
        http_get_raw(s, "/api/v1/images/big.bin", "Range: bytes=1000000-3999999\r\n")
        f = s.makefile("rb")
        self.assertEqual(read_response(f)[::2], (200, big))
        self.assertEqual(read_response(f)[::2], (200, small))
        self.assertEqual(read_response(f)[::2], (206, big[1000000:4000000]))

    def test_native_downloads_interleave_with_other_frames(self):
        a, b = os.urandom(9 * MiB + 7), os.urandom(3 * MiB + 1)
        self.store("a.bin", a)
        self.store("b.bin", b)
        with tempfile.TemporaryDirectory() as d:
            p = self.pixd.pixctl("get", "a.bin", "b.bin", "-o", d, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            for name, data in (("a.bin", a), ("b.bin", b)):
                with open(os.path.join(d, name), "rb") as f:
                    self.assertEqual(hashlib.sha256(f.read()).digest(),
                                     hashlib.sha256(data).digest(), name)

    def test_a_reader_that_pauses_gets_every_byte(self):
        big = os.urandom(24 * MiB)
        self.store("slow.bin", big)
        s = self.connect_http()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        http_get_raw(s, "/api/v1/images/slow.bin")
        f = s.makefile("rb")
        status = int(f.readline().split()[1])
        self.assertEqual(status, 200)
        while f.readline().strip():
            pass
        got = bytearray()
        # Stop reading for a while twice: pixd's socket fills, sendfile
        # comes back short or with EAGAIN, and pixd must wait, not spin
        # or drop bytes.
        for pause in (0.5, 0.5):
            got += f.read(4 * MiB)
            time.sleep(pause)
        # Meanwhile others are served.
        r = self.pixd.pixctl("ping")
        self.assertEqual(r.returncode, 0, r.stderr)
        got += f.read(len(big) - len(got))
        self.assertEqual(bytes(got), big)

    def test_readers_that_vanish_midway_leak_nothing(self):
        big = os.urandom(32 * MiB)
        self.store("gone.bin", big)
        wait_until(lambda: self.pixd.pixctl("ping").returncode == 0, what="pixd answering")
        base = self.pixd.nfds()
        for _ in range(5):
            s = socket.create_connection(self.pixd.addr("http"), timeout=10)
            http_get_raw(s, "/api/v1/images/gone.bin")
            s.recv(1 * MiB)
            s.close()
        # Each connection's socket dup and file close once pixd sees it go.
        wait_until(lambda: self.pixd.nfds() <= base, timeout=20,
                   what=f"pixd's descriptors back to {base}")
        s = self.connect_http()
        http_get_raw(s, "/api/v1/images/gone.bin")
        self.assertEqual(read_response(s.makefile("rb"))[::2], (200, big))

    def test_a_file_truncated_behind_pixds_back_ends_that_response_only(self):
        big = os.urandom(48 * MiB)
        self.store("cut.bin", big)
        s = self.connect_http()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        http_get_raw(s, "/api/v1/images/cut.bin")
        f = s.makefile("rb")
        self.assertEqual(int(f.readline().split()[1]), 200)
        while f.readline().strip():
            pass
        f.read(MiB)
        os.truncate(os.path.join(self.pixd.store, "cut.bin"), 2 * MiB)
        rest = f.read()  # pixd closes the connection short of Content-Length
        self.assertLess(MiB + len(rest), len(big))
        # pixd is fine and serves the file as it now is.
        s2 = self.connect_http()
        http_get_raw(s2, "/api/v1/images/cut.bin")
        status, _, body = read_response(s2.makefile("rb"))
        self.assertEqual((status, body), (200, big[:2 * MiB]))


if __name__ == "__main__":
    import unittest
    unittest.main()
