"""TLS (--tls-cert, --tls-key): round trips over the native protocol and
HTTPS with a self-signed certificate made here by the openssl command, and
a clean refusal for plaintext clients."""
import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import unittest

from pixdtest import *  # noqa: F401,F403


def make_cert(d, cn="localhost"):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", f"/CN={cn}",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


class Tls(PixdTestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="pixd-tls-")
        cls.cert, cls.key = make_cert(cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.pixd = self.start("--tls-cert", self.cert, "--tls-key", self.key,
                               "--camera", "cam=test",
                               listen=("native=127.0.0.1:0", "http=127.0.0.1:0"))

    def tls_sock(self, handler):
        ctx = ssl.create_default_context(cafile=self.cert)
        raw = socket.create_connection(self.pixd.addr(handler), timeout=10)
        return ctx.wrap_socket(raw, server_hostname="127.0.0.1")

    def test_tls_native_round_trip(self):
        s = self.tls_sock("native")
        s.sendall(hello_frame() + frame(T_PING, b"over tls", fid=1))
        buf = b""
        while len(buf) < 12:
            buf += s.recv(65536)
        t, _, _, _, n = struct.unpack(">BBHII", buf[:12])
        self.assertEqual(t, T_WELCOME)
        while len(buf) < 12 + n + 12 + 8:
            buf += s.recv(65536)
        rest = buf[12 + n:]
        t, _, _, fid, n2 = struct.unpack(">BBHII", rest[:12])
        self.assertEqual((t, fid, rest[12:12 + n2]), (T_PONG, 1, b"over tls"))
        s.close()

    def test_tls_pixctl_put_get_and_verification(self):
        host, port = self.pixd.addr("native")
        data = os.urandom(1_500_000)
        src = os.path.join(self.dir, "blob.bin")
        with open(src, "wb") as f:
            f.write(data)
        base = [PIXCTL, "--host", host, "--port", str(port), "--tls", "--ca", self.cert]
        r = subprocess.run(base + ["put", src], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = os.path.join(self.dir, "back.bin")
        r = subprocess.run(base + ["get", "blob.bin", "-o", out, "--force"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).digest(), hashlib.sha256(data).digest())
        # Without the CA, the self-signed certificate is not trusted.
        r = subprocess.run([PIXCTL, "--host", host, "--port", str(port), "--tls", "ping", "-c",
                            "1"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 3)
        self.assertIn("not trusted", r.stderr)
        # A plaintext pixctl hears why.
        r = subprocess.run([PIXCTL, "--host", host, "--port", str(port), "ping", "-c", "1"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("--tls", r.stderr)

    def test_tls_https_round_trip(self):
        import http.client
        host, port = self.pixd.addr("http")
        ctx = ssl.create_default_context(cafile=self.cert)
        c = http.client.HTTPSConnection(host, port, timeout=10, context=ctx)
        # Past the first 256 KiB a plaintext download goes by sendfile(2),
        # which TLS must not: the bytes come back whole and encrypted.
        body = os.urandom(1_200_000)
        c.request("PUT", "/api/v1/images/t.bin", body=body)
        r = c.getresponse()
        r.read()
        self.assertEqual(r.status, 201)
        c.request("GET", "/api/v1/images/t.bin")
        r = c.getresponse()
        self.assertEqual((r.status, r.read() == body), (200, True))
        c.request("GET", "/api/v1/cameras/cam/snapshot")
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.read()[:2], b"\xff\xd8")
        c.close()

    def test_tls_plaintext_client_gets_clean_error(self):
        c = Raw(self.pixd.addr("native"), hello=False)
        c.send(hello_frame())
        fid, code, msg = c.recv_error()
        self.assertEqual((fid, code), (0, E_INVALID))
        self.assertIn("TLS", msg)
        self.assertTrue(c.closed())
        s = socket.create_connection(self.pixd.addr("http"), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        resp = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            resp += d
        self.assertTrue(resp.startswith(b"HTTP/1.1 400"), resp)
        self.assertIn(b"https://", resp)
        s.close()
        # The server keeps serving TLS clients.
        self.tls_sock("native").close()

    def test_tls_garbage_handshake_closes(self):
        s = socket.create_connection(self.pixd.addr("native"), timeout=10)
        s.sendall(b"\x16\x03\x01\x00\x05hello" + os.urandom(64))
        data = b""
        try:
            while True:
                d = s.recv(4096)
                if not d:
                    break
                data += d
        except ConnectionResetError:
            pass
        # Closed (with at most a TLS alert), not left hanging.
        self.assertLess(len(data), 64)
        s.close()


class TlsStartup(unittest.TestCase):
    def test_tls_needs_both_and_matching_files(self):
        with tempfile.TemporaryDirectory() as d:
            cert, key = make_cert(d)
            store = tempfile.mkdtemp(prefix="pixd-store-")
            try:
                for args, words in ((["--tls-cert", cert], "--tls-key"),
                                    (["--tls-cert", key, "--tls-key", key], "--tls-cert"),
                                    (["--tls-cert", cert, "--tls-key", cert], "--tls-key")):
                    r = subprocess.run([PIXD, "--store", store, "--listen",
                                        "native=127.0.0.1:0"] + args, capture_output=True,
                                       text=True, timeout=20)
                    self.assertNotEqual(r.returncode, 0, args)
                    self.assertIn(words, r.stderr)
            finally:
                shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
