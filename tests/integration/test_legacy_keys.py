"""Access keys and the seed tools' protocols (pixd-legacy(7), pixd(8) --keys).

Their clients cannot prove a key, so with --keys a listener's `as=NAME`
gives its clients the permissions of key NAME; without as= only loopback
clients are admitted. legacy-resize needs write, legacy-snapshot read.
"""
import os
import signal
import socket
import struct
import subprocess
import tempfile
import unittest

from legacytest import Client, decode, image_bytes
from pixdtest import PIXD, PixdTestCase, wait_until
from test_auth import KEYS, SECRETS, write_keys


def resize_request(data, w, h):
    return struct.pack(">III", len(data), w, h) + data


def local_non_loopback_ip():
    """An IPv4 address of this machine that is not loopback, or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: picks the route's source
            ip = s.getsockname()[0]
    except OSError:
        return None
    return None if ip.startswith("127.") else ip


class LegacyKeys(PixdTestCase):
    pixd_listen = ()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pixd-legacy-keys-")
        self.keys = os.path.join(self.dir, "keys")
        write_keys(self.keys, KEYS)

    def start_with(self, *listen, extra=()):
        return self.start("--keys", self.keys, "--camera", "cam=test,width=64,height=48",
                          *extra, listen=("native=127.0.0.1:0",) + listen)

    def resize_ok(self, addr):
        c = Client(addr)
        self.addCleanup(c.close)
        c.send(resize_request(image_bytes("JPEG"), 20, 10))
        (size,) = struct.unpack(">I", c.recv_exact(4))
        if size == 0:
            self.assertTrue(c.closed())
            return False
        self.assertEqual(decode(c.recv_exact(size)).size, (20, 10))
        return True

    def snapshot_reply(self, addr):
        c = Client(addr)
        self.addCleanup(c.close)
        try:
            c.send(b"OK")
            return c.recv_line()
        except (EOFError, ConnectionResetError, BrokenPipeError):
            return b""

    def listener(self, spec):
        """A pixd with the keys and one seed-protocol listener: its address."""
        p = self.start_with(spec)
        return p, p.addr(spec.split("=", 1)[0])

    def test_legacy_keys_as_gives_that_keys_permissions(self):
        p, addr = self.listener("legacy-resize=127.0.0.1:0,as=writer")
        self.assertTrue(self.resize_ok(addr))
        # as= speaks for every client of that listener, loopback included.
        p, addr = self.listener("legacy-resize=127.0.0.1:0,as=reader")
        self.assertFalse(self.resize_ok(addr))
        self.assertIn("legacy-resize refused", p.log())
        _, addr = self.listener("legacy-snapshot=127.0.0.1:0,as=reader")
        line = self.snapshot_reply(addr)
        self.assertTrue(line.startswith(b"FD,"), line)
        _, addr = self.listener("legacy-snapshot=127.0.0.1:0,as=writer")
        line = self.snapshot_reply(addr)
        self.assertTrue(line.startswith(b"ER,permission denied"), line)

    def test_legacy_keys_loopback_admitted_without_as(self):
        p = self.start_with("legacy-resize=127.0.0.1:0")
        self.assertTrue(self.resize_ok(p.addr("legacy-resize")))

    def test_legacy_keys_non_loopback_refused_without_as(self):
        ip = local_non_loopback_ip()
        if ip is None:
            self.skipTest("this machine has no non-loopback IPv4 address to connect from")
        p = self.start_with("legacy-resize=0.0.0.0:0")
        port = p.addr("legacy-resize")[1]
        self.assertFalse(self.resize_ok((ip, port)))
        self.assertTrue(self.resize_ok(("127.0.0.1", port)))

    def test_legacy_keys_sighup_applies_to_new_clients(self):
        p = self.start_with("legacy-resize=127.0.0.1:0,as=writer")
        self.assertTrue(self.resize_ok(p.addr("legacy-resize")))
        write_keys(self.keys, KEYS.replace(f"writer {SECRETS['writer']} write",
                                           f"writer {SECRETS['writer']} read"))
        p.send_signal(signal.SIGHUP)
        wait_until(lambda: "SIGHUP: 3 key(s) loaded" in p.log(), 10, "keys reloaded")
        self.assertFalse(self.resize_ok(p.addr("legacy-resize")))

    def run_pixd(self, *args):
        return subprocess.run([PIXD, "--store", self.dir] + list(args), capture_output=True,
                              text=True, timeout=30)

    def test_legacy_keys_bad_as_refused_at_start(self):
        r = self.run_pixd("--keys", self.keys, "--listen", "legacy-resize=127.0.0.1:0,as=nobody")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("as=nobody: no such key in", r.stderr)
        r = self.run_pixd("--listen", "legacy-resize=127.0.0.1:0,as=writer")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("as=writer needs --keys FILE", r.stderr)
        r = self.run_pixd("--keys", self.keys, "--listen", "native=127.0.0.1:0,as=writer")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("as= is for the seed tools' protocols", r.stderr)
        r = self.run_pixd("--keys", self.keys, "--listen", "legacy-resize=127.0.0.1:0,as=a b")
        self.assertEqual(r.returncode, 2, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
