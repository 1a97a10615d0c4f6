"""The HTTP handler's core: routing, errors, keep-alive, pipelining, limits."""
import http.client
import json
import socket
import time
import unittest

from pixdtest import *  # noqa: F401,F403


def raw_http(addr, data, timeout=10):
    """Send raw bytes, read until the server closes; return the bytes."""
    s = socket.create_connection(addr, timeout=timeout)
    s.sendall(data)
    out = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        out += chunk
    s.close()
    return out


class Http(PixdTestCase):
    pixd_listen = ("native=127.0.0.1:0", "http=127.0.0.1:0")

    def conn(self):
        host, port = self.pixd.addr("http")
        c = http.client.HTTPConnection(host, port, timeout=10)
        self.addCleanup(c.close)
        return c

    def test_http_healthz_and_status(self):
        c = self.conn()
        c.request("GET", "/healthz")
        r = c.getresponse()
        self.assertEqual((r.status, r.read()), (200, b"ok\n"))
        c.request("GET", "/api/v1/status")
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        j = json.loads(r.read())
        self.assertEqual(j["pid"], self.pixd.proc.pid)
        self.assertIn({"handler": "http", "address": self.pixd.listeners["http"][0]},
                      j["listeners"])

    def test_http_errors_are_json(self):
        c = self.conn()
        c.request("GET", "/no/such/thing")
        r = c.getresponse()
        self.assertEqual(r.status, 404)
        self.assertEqual(r.getheader("Content-Type"), "application/json")
        self.assertEqual(json.loads(r.read())["error"], "Not Found")
        c.request("DELETE", "/healthz")
        r = c.getresponse()
        self.assertEqual(r.status, 405)
        r.read()

    def test_http_head_has_length_no_body(self):
        c = self.conn()
        c.request("HEAD", "/api/v1/status")
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertGreater(int(r.getheader("Content-Length")), 10)
        self.assertEqual(r.read(), b"")
        c.request("GET", "/healthz")
        self.assertEqual(c.getresponse().read(), b"ok\n")

    def test_http_keep_alive_many_requests(self):
        c = self.conn()
        for _ in range(100):
            c.request("GET", "/healthz")
            r = c.getresponse()
            self.assertEqual(r.read(), b"ok\n")

    def test_http_pipelining(self):
        req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        out = raw_http(self.pixd.addr("http"),
                       req * 5 + b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(out.count(b"HTTP/1.1 200 OK"), 6)
        self.assertEqual(out.count(b"\r\n\r\nok\n"), 6)

    def test_http_oversize_headers_431_url_414(self):
        out = raw_http(self.pixd.addr("http"),
                       b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 431 "), out[:80])
        out = raw_http(self.pixd.addr("http"), b"GET /" + b"a" * 3000 + b" HTTP/1.1\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 414 "), out[:80])

    def test_http_garbage_400_and_others_served(self):
        out = raw_http(self.pixd.addr("http"), b"\x16\x03\x01\x02\x00garbage\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 400 "), out[:80])
        out = raw_http(self.pixd.addr("http"), b"GET /%00 HTTP/1.1\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 400 "), out[:80])
        c = self.conn()
        c.request("GET", "/healthz")
        self.assertEqual(c.getresponse().status, 200)

    def test_http_native_still_answers(self):
        c = Raw(self.pixd.addr("native"))
        c.send(frame(T_PING, fid=1))
        self.assertEqual(c.recv()[0], T_PONG)


class Slowloris(PixdTestCase):
    pixd_listen = ("native=127.0.0.1:0", "http=127.0.0.1:0")
    pixd_args = ("--idle-timeout", "1")

    def test_http_slow_headers_cut_off_others_served(self):
        host, port = self.pixd.addr("http")
        slow = socket.create_connection((host, port), timeout=10)
        t0 = time.monotonic()
        reply = b""
        for b in b"GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Slow: " + b"z" * 100:
            try:
                slow.sendall(bytes([b]))
            except (BrokenPipeError, ConnectionResetError):
                break
            # A trickle of one byte every 50 ms keeps the connection "active".
            slow.settimeout(0.05)
            try:
                got = slow.recv(4096)
                reply += got
                if not got or b"\r\n\r\n" in reply:
                    break
            except socket.timeout:
                pass
            c = http.client.HTTPConnection(host, port, timeout=5)
            c.request("GET", "/healthz")
            self.assertEqual(c.getresponse().status, 200)
            c.close()
            if time.monotonic() - t0 > 8:
                break
        self.assertTrue(reply.startswith(b"HTTP/1.1 408 "), reply[:80])
        self.assertLess(time.monotonic() - t0, 5)


if __name__ == "__main__":
    unittest.main()
