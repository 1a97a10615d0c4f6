"""Helpers for the legacy-protocol tests (test_legacy_*.py): plain-socket
clients written from pixd-legacy(7), images made with Pillow."""
import io
import socket

from PIL import Image

from pixdtest import PixdTestCase, wait_until


def image_bytes(fmt, size=(64, 48), color=(200, 40, 90), noise=False):
    im = Image.new("RGB", size, color)
    if noise:
        im = Image.effect_noise(size, 60).convert("RGB")
    b = io.BytesIO()
    im.save(b, fmt)
    return b.getvalue()


def decode(data):
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


class Client:
    """A blocking TCP client with exact reads."""

    def __init__(self, addr, timeout=10.0):
        self.sock = socket.create_connection(addr, timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"closed by pixd after {len(self.buf)} of {n} bytes")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_line(self, limit=4096):
        while b"\n" not in self.buf:
            if len(self.buf) > limit:
                raise AssertionError(f"no line in {self.buf[:80]!r}")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"closed by pixd; got {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def closed(self, timeout=10.0):
        """True once pixd has closed the connection (EOF or reset); what
        arrives before is kept in buf."""
        self.sock.settimeout(timeout)
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return True
                self.buf += d
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


class LegacyCase(PixdTestCase):
    handler = None

    def client(self, pixd=None, timeout=10.0):
        c = Client((pixd or self.pixd).addr(self.handler), timeout)
        self.addCleanup(c.close)
        return c

    def assert_native_ok(self, pixd=None):
        """The native protocol is served alongside (pixctl ping)."""
        r = (pixd or self.pixd).pixctl("ping", "-c", "1")
        self.assertEqual(r.returncode, 0, r.stderr)

    def wait_log(self, text, pixd=None, timeout=10.0):
        p = pixd or self.pixd
        wait_until(lambda: text in p.log(), timeout, f"{text!r} in pixd's log")
