"""pixctl against the real pixd: output, --json, exit codes, errors."""
import json
import socket
import subprocess
import unittest

from pixdtest import *  # noqa: F401,F403


def pixctl(*args):
    return subprocess.run([PIXCTL] + list(args), capture_output=True, text=True, timeout=30)


class Cli(PixdTestCase):
    def test_cli_ping_prints_round_trip(self):
        r = self.pixd.pixctl("ping")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"time=\d+(\.\d+)? ms")

    def test_cli_ping_count_json(self):
        r = self.pixd.pixctl("--json", "ping", "-c", "3", "-i", "0")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        self.assertEqual(len(j["rtt_ms"]), 3)
        self.assertLessEqual(j["min_ms"], j["max_ms"])

    def test_cli_status_text_and_json(self):
        r = self.pixd.pixctl("status")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("pixd/", r.stdout)
        self.assertIn("native", r.stdout)
        r = self.pixd.pixctl("--json", "status")
        j = json.loads(r.stdout)
        self.assertEqual(j["pid"], self.pixd.proc.pid)
        self.assertEqual(j["connections"], 1)
        self.assertIn(f"native {self.pixd.listeners['native'][0]}", j["listeners"])

    def test_cli_unix_socket(self):
        import os
        import tempfile
        path = os.path.join(tempfile.mkdtemp(), "s")
        p = self.start(listen=(f"native=unix:{path}",))
        r = pixctl("--unix", path, "ping")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(p.stop(), 0)

    def test_cli_cannot_connect_exit_3(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        r = pixctl("--port", str(port), "ping")
        self.assertEqual(r.returncode, 3)
        self.assertIn(f"127.0.0.1:{port}", r.stderr)
        self.assertIn("is pixd running", r.stderr)

    def test_cli_bad_usage_exit_2(self):
        for args in (["frobnicate"], ["--port", "x", "ping"], ["--nope"], ["ping", "-c", "zero"]):
            r = pixctl(*args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertTrue(r.stderr.startswith("pixctl: "), r.stderr)

    def test_cli_refused_by_server_exit_1(self):
        p = self.start("--max-connections", "1")
        hold = Raw(p.addr())
        r = p.pixctl("ping")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("too many connections", r.stderr)
        hold.close()

    def test_cli_server_not_speaking_protocol_exit_3_or_1(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        proc = subprocess.Popen([PIXCTL, "--port", str(port), "--timeout", "2", "ping"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        conn, _ = s.accept()
        conn.sendall(b"SSH-2.0-OpenSSH\r\n" * 4)
        conn.close()
        out, err = proc.communicate(timeout=20)
        s.close()
        self.assertIn(proc.returncode, (1, 3))
        self.assertTrue(err.startswith("pixctl: "), err)


if __name__ == "__main__":
    unittest.main()
