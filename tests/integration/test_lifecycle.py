"""Starting, listening, signals, systemd integration, configuration."""
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from pixdtest import *  # noqa: F401,F403


def run_pixd(*args, timeout=20):
    """pixd run to completion (it is expected to refuse to start)."""
    import shutil
    store = tempfile.mkdtemp(prefix="pixd-store-")
    try:
        return subprocess.run([PIXD, "--store", store] + list(args), capture_output=True,
                              text=True, timeout=timeout)
    finally:
        shutil.rmtree(store, ignore_errors=True)


class Lifecycle(PixdTestCase):
    def test_lifecycle_sigterm_exits_zero_and_says_goodbye(self):
        c = Raw(self.pixd.addr())
        t0 = time.monotonic()
        self.assertEqual(self.pixd.stop(signal.SIGTERM), 0)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(c.recv_error()[1], E_SHUTDOWN)

    def test_lifecycle_sigint_exits_zero(self):
        Raw(self.pixd.addr())
        self.assertEqual(self.pixd.stop(signal.SIGINT), 0)

    def test_lifecycle_sighup_keeps_serving(self):
        c = Raw(self.pixd.addr())
        self.pixd.send_signal(signal.SIGHUP)
        wait_until(lambda: "SIGHUP" in self.pixd.log(), what="reload log line")
        c.send(frame(T_PING, fid=1))
        self.assertEqual(c.recv()[0], T_PONG)

    def test_lifecycle_unix_and_ipv6_listeners(self):
        d = tempfile.mkdtemp()
        path = os.path.join(d, "pixd.sock")
        listen = [f"native=unix:{path}"]
        has_v6 = socket.has_ipv6
        if has_v6:
            try:
                s = socket.socket(socket.AF_INET6)
                s.bind(("::1", 0))
                s.close()
            except OSError:
                has_v6 = False
        if has_v6:
            listen.append("native=[::1]:0")
        p = self.start(listen=listen)
        u = socket.socket(socket.AF_UNIX)
        u.settimeout(10)
        u.connect(path)
        u.sendall(hello_frame() + frame(T_PING, fid=1))
        data = b""
        while len(data) < 2 * 12:
            data += u.recv(4096)
        self.assertEqual(data[0], T_WELCOME)
        u.close()
        if has_v6:
            a = [x for x in p.listeners["native"] if x.startswith("[::1]")][0]
            c = Raw(("::1", int(a.rsplit(":", 1)[1])))
            c.send(frame(T_PING, fid=1))
            self.assertEqual(c.recv()[0], T_PONG)
        self.assertEqual(p.stop(), 0)
        self.assertFalse(os.path.exists(path), "socket file left behind")

    def test_lifecycle_refuses_exposed_listener_without_insecure(self):
        r = run_pixd("--listen", "native=0.0.0.0:0")
        self.assertEqual(r.returncode, 1)
        self.assertIn("--insecure", r.stderr)
        p = self.start("--insecure", listen=("native=0.0.0.0:0",))
        self.assertTrue(p.listeners["native"][0].startswith("0.0.0.0:"))

    def test_lifecycle_bad_flags_exit_2_with_reason(self):
        for args, words in (
            (["--bogus"], "unknown option"),
            (["--listen", "nonsense"], "PROTO=ADDR"),
            (["--listen", "gopher=127.0.0.1:1"], "no protocol handler"),
            (["--listen", "native=127.0.0.1:99999"], "port"),
            (["--listen", "native=::1:80"], "[ADDR]:PORT"),
            (["--max-connections", "lots"], "not a number"),
            (["--idle-timeout", "-1"], "seconds"),
            (["--log-level", "loud"], "debug"),
            (["extra"], "unexpected argument"),
        ):
            r = run_pixd(*args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(words, r.stderr, args)

    def test_lifecycle_address_in_use_says_so(self):
        port = self.pixd.addr()[1]
        r = run_pixd("--listen", f"native=127.0.0.1:{port}")
        self.assertEqual(r.returncode, 1)
        self.assertIn("address already in use", r.stderr)

    def test_lifecycle_config_file(self):
        d = tempfile.mkdtemp()
        cfg = os.path.join(d, "pixd.conf")
        with open(cfg, "w") as f:
            f.write("# pixd test config\n\nlisten = native=127.0.0.1:0\n"
                    "idle-timeout = 0.3\nlog-level = debug\n")
        p = self.start("--config", cfg, listen=())
        p.wait_listening(1)
        c = Raw(p.addr())
        self.assertEqual(c.recv_error()[1], E_TIMEOUT)
        with open(cfg, "w") as f:
            f.write("listen = native=127.0.0.1:0\nmax-conections = 3\n")
        r = run_pixd("--config", cfg)
        self.assertEqual(r.returncode, 2)
        self.assertIn("line 2", r.stderr)
        self.assertIn("max-conections", r.stderr)

    def test_lifecycle_version_and_help(self):
        r = run_pixd("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^pixd \d+\.\d+\.\d+")
        r = run_pixd("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--listen", r.stdout)

    def test_lifecycle_notify_socket_ready_and_stopping(self):
        d = tempfile.mkdtemp()
        path = os.path.join(d, "notify")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        s.settimeout(10)
        p = self.start(env={"NOTIFY_SOCKET": path})
        self.assertIn(b"READY=1", s.recv(4096))
        Raw(p.addr())
        self.assertEqual(p.stop(), 0)
        self.assertIn(b"STOPPING=1", s.recv(4096))

    def test_lifecycle_socket_activation(self):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.bind(("127.0.0.1", 0))
        ls.listen(16)
        port = ls.getsockname()[1]
        fd = ls.fileno()
        # systemd passes sockets from fd 3 with LISTEN_PID set to the
        # daemon's pid: the shell execs pixd, keeping its own pid.
        wrapper = ["/bin/sh", "-c",
                   f'exec 3<&{fd}; LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=native exec "$0" "$@"']
        p = self.start(listen=(), argv_prefix=wrapper, pass_fds=(fd,), wait=False)
        p.wait_listening(1)
        ls.close()
        self.assertEqual(p.listeners["native"], [f"127.0.0.1:{port}"])
        c = Raw(("127.0.0.1", port))
        c.send(frame(T_PING, fid=1))
        self.assertEqual(c.recv()[0], T_PONG)

    def test_lifecycle_journal_priorities(self):
        with tempfile.TemporaryFile() as err:
            st = os.fstat(err.fileno())
            store = tempfile.mkdtemp(prefix="pixd-store-")
            self.addCleanup(lambda: __import__("shutil").rmtree(store, ignore_errors=True))
            p = subprocess.Popen([PIXD, "--listen", "native=127.0.0.1:0", "--store", store],
                                 stdout=subprocess.PIPE,
                                 stderr=err, env=dict(os.environ,
                                                      JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}"))
            try:
                wait_until(lambda: b"listening" in p.stdout.readline(), what="listening line")
                p.send_signal(signal.SIGTERM)
                self.assertEqual(p.wait(timeout=10), 0)
            finally:
                if p.poll() is None:
                    p.kill()
                p.stdout.close()
            err.seek(0)
            lines = [ln for ln in err.read().decode().splitlines() if ln]
        self.assertTrue(lines)
        for ln in lines:
            self.assertRegex(ln, r"^<[0-7]>")


if __name__ == "__main__":
    unittest.main()
