"""pixd as a service: install tree, systemd units, socket activation,
readiness and watchdog, --check-config, --log-format=json, completion.

Extra environment from meson: BUILDDIR (the build tree to install from),
CC and SANITIZE (to compile a program against the installed libpixproto
the way the library itself was built)."""
import glob
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest
import urllib.request

from pixdtest import *  # noqa: F401,F403

BUILDDIR = os.environ.get("BUILDDIR", "build-test")
UNITS = ("pixd.service", "pixd.socket", "pixd-http.socket")


def tmpdir(test):
    d = tempfile.mkdtemp(prefix="pixd-svc-")
    test.addCleanup(shutil.rmtree, d, True)
    return d


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


_install = {}


def installed():
    """One `meson install --destdir` per run: (destdir, prefix)."""
    if not _install:
        d = tempfile.mkdtemp(prefix="pixd-destdir-")
        r = subprocess.run(["meson", "install", "-C", BUILDDIR, "--destdir", d,
                            "--no-rebuild", "--quiet"], capture_output=True, text=True,
                           timeout=300)
        if r.returncode != 0:
            raise AssertionError(f"meson install failed: {r.stdout}{r.stderr}")
        pixd = glob.glob(os.path.join(d, "**", "sbin", "pixd"), recursive=True)
        assert pixd, "no sbin/pixd in the install tree"
        _install["dest"] = d
        _install["prefix"] = os.path.dirname(os.path.dirname(pixd[0]))
    return _install["dest"], _install["prefix"]


def tearDownModule():
    if _install:
        shutil.rmtree(_install["dest"], ignore_errors=True)


class InstallTree(unittest.TestCase):
    def find(self, pattern):
        dest, prefix = installed()
        hits = glob.glob(os.path.join(prefix, pattern), recursive=True)
        self.assertTrue(hits, f"{pattern} is not in the install tree under {prefix}")
        return hits[0]

    def test_service_install_tree_has_everything(self):
        for p in ("sbin/pixd", "bin/pixctl", "share/man/man8/pixd.8", "share/man/man1/pixctl.1",
                  "share/man/man7/pixd-protocol.7", "share/man/man7/pixd-legacy.7",
                  "etc/pixd/pixd.conf",
                  "share/bash-completion/completions/pixd",
                  "share/bash-completion/completions/pixctl",
                  "lib/**/pkgconfig/libpixproto.pc", "include/pixproto/pixproto.h",
                  "include/pixproto/pixproto.hpp", "include/pixproto/pixproto_client.hpp",
                  "lib/**/libpixproto.so.1", "lib/**/pixd/pixd-codecs.so",
                  "lib/**/pixd/pixd-videoio.so", "lib/**/pixd/pixd-classify.so",
                  "lib/**/pixd/pixctl-video.so"):
            self.find(p)
        for u in UNITS:
            self.find(f"lib/systemd/system/{u}")

    def test_service_unit_names_install_paths(self):
        dest, prefix = installed()
        with open(self.find("lib/systemd/system/pixd.service")) as f:
            unit = f.read()
        # The unit names the installed paths (without the destdir).
        real_prefix = prefix[len(dest):]
        self.assertIn(f"ExecStart={real_prefix}/sbin/pixd --config ", unit)
        for key in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "StateDirectory=pixd",
                    "DynamicUser=yes", "SupplementaryGroups=video",
                    "DeviceAllow=char-video4linux", "ProtectSystem=strict", "ProtectHome=yes",
                    "PrivateTmp=yes", "NoNewPrivileges=yes", "RestrictAddressFamilies=",
                    "SystemCallFilter=", "Sockets=pixd.socket pixd-http.socket"):
            self.assertIn(key, unit)
        self.assertNotIn("@", unit.replace("@system-service", "").replace("@privileged", ""),
                         "an unreplaced @variable@ is left in pixd.service")

    def test_service_installed_pixd_runs(self):
        dest, prefix = installed()
        env = dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(
            self.find("lib/**/libpixproto.so.1")))
        for exe in ("sbin/pixd", "bin/pixctl"):
            r = subprocess.run([os.path.join(prefix, exe), "--version"], capture_output=True,
                               text=True, env=env, timeout=20)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"\d+\.\d+\.\d+")

    def compile_against_pc(self, lang, source):
        dest, prefix = installed()
        pcdir = os.path.dirname(self.find("lib/**/pkgconfig/libpixproto.pc"))
        env = dict(os.environ, PKG_CONFIG_PATH=pcdir, PKG_CONFIG_SYSROOT_DIR=dest)
        r = subprocess.run(["pkg-config", "--cflags", "--libs", "libpixproto"],
                           capture_output=True, text=True, env=env, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        flags = shlex.split(r.stdout)
        d = tmpdir(self)
        src = os.path.join(d, "t." + lang)
        with open(src, "w") as f:
            f.write(source)
        cc = shlex.split(os.environ.get("CC", "cc"))
        if lang == "cpp":
            cc = shlex.split(os.environ.get("CXX", "c++")) + ["-std=c++17"]
        san = os.environ.get("SANITIZE", "none")
        extra = [f"-fsanitize={san}"] if san not in ("", "none") else []
        exe = os.path.join(d, "t")
        r = subprocess.run(cc + extra + ["-Wall", "-Werror", src, "-o", exe] + flags,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, f"{cc} {flags}: {r.stderr}")
        libdir = [f[2:] for f in flags if f.startswith("-L")]
        r = subprocess.run([exe], capture_output=True, text=True, timeout=20,
                           env=dict(os.environ, LD_LIBRARY_PATH=":".join(libdir)))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def test_service_c_program_builds_against_installed_pc(self):
        out = self.compile_against_pc("c", r'''
#include <pixproto.h>
#include <stdio.h>
int main(void) {
    const char *n = pixproto_type_name(PIXPROTO_T_PING);
    printf("%s\n", n ? n : "?");
    return n ? 0 : 1;
}
''')
        self.assertEqual(out.strip().lower(), "ping")

    def test_service_cpp_program_builds_against_installed_headers(self):
        out = self.compile_against_pc("cpp", r'''
#include <pixproto.hpp>
#include <iostream>
int main() {
    std::cout << pixproto_type_name(PIXPROTO_T_PONG) << "\n";
    return 0;
}
''')
        self.assertEqual(out.strip().lower(), "pong")


@unittest.skipUnless(shutil.which("systemd-analyze"),
                     "systemd-analyze is not installed (Debian package systemd)")
class Units(unittest.TestCase):
    def units_for_verify(self):
        """The installed units, ExecStart pointed at the destdir's pixd
        (verify insists that the program exists)."""
        dest, prefix = installed()
        d = tmpdir(self)
        unitdir = glob.glob(os.path.join(prefix, "lib", "systemd", "system"))[0]
        real = prefix[len(dest):]
        for u in UNITS:
            with open(os.path.join(unitdir, u)) as f:
                text = f.read()
            text = text.replace(f"{real}/sbin/pixd", f"{prefix}/sbin/pixd")
            with open(os.path.join(d, u), "w") as f:
                f.write(text)
        return [os.path.join(d, u) for u in UNITS]

    def test_service_systemd_analyze_verify_accepts_units(self):
        paths = self.units_for_verify()
        r = subprocess.run(["systemd-analyze", "verify", "--man=no"] + paths,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        # Unknown keys and bad values are only warnings: none allowed.
        self.assertEqual(r.stderr.strip(), "", r.stderr)

    def test_service_systemd_analyze_security_rates_unit_ok(self):
        paths = self.units_for_verify()
        r = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager",
                            paths[0]], capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for pixd\.service: ([0-9.]+)", r.stdout)
        self.assertTrue(m, r.stdout + r.stderr)
        # 0 is locked down, 10 is wide open; systemd calls below 2 "OK".
        self.assertLess(float(m.group(1)), 2.0, r.stdout)


@unittest.skipUnless(shutil.which("systemd-socket-activate"),
                     "systemd-socket-activate is not installed (Debian package systemd)")
class SocketActivation(PixdTestCase):
    def setUp(self):
        pass

    def test_service_socket_activation_native_and_http(self):
        d = tmpdir(self)
        sock = os.path.join(d, "native.sock")
        port = free_port()
        # systemd-socket-activate hands its children only the variables named.
        envs = []
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "PIXD_MODULE_DIR"):
            if k in os.environ:
                envs += ["-E", f"{k}={os.environ[k]}"]
        # Like systemd, it binds first and starts pixd on the first client;
        # pixd adopts the sockets and binds each to the handler named.
        p = self.start(listen=(), wait=False, argv_prefix=[
            "systemd-socket-activate", "-l", sock, "-l", f"127.0.0.1:{port}",
            "--fdname=native:http"] + envs)
        wait_until(lambda: os.path.exists(sock) or p.proc.poll() is not None,
                   what="the activator's sockets")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=20) as resp:
            self.assertEqual(resp.status, 200)
        p.wait_listening(2)
        self.assertEqual(p.listeners["native"], [f"unix:{sock}"])
        self.assertEqual(p.listeners["http"], [f"127.0.0.1:{port}"])
        r = subprocess.run([PIXCTL, "--unix", sock, "ping", "--count", "1"],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(p.stop(), 0, p.log())
        self.assertNotIn("error", p.log())


class Notify(PixdTestCase):
    pixd_listen = ()

    def setUp(self):
        pass

    def notify_socket(self):
        path = os.path.join(tmpdir(self), "notify")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        s.settimeout(10)
        self.addCleanup(s.close)
        return s, path

    def test_service_watchdog_pings_at_half_interval(self):
        s, path = self.notify_socket()
        p = self.start(env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})
        self.assertIn(b"READY=1", s.recv(4096))
        # 200 ms interval: a ping every 100 ms; five take ~0.5 s.
        pings = 0
        while pings < 5:
            msg = s.recv(4096)
            self.assertEqual(msg, b"WATCHDOG=1")
            pings += 1
        # The loop is what pings: stopped, it stops pinging.
        p.send_signal(signal.SIGSTOP)
        try:
            s.settimeout(0.5)
            drained = 0
            while True:
                try:
                    s.recv(4096)
                    drained += 1
                except socket.timeout:
                    break
            self.assertLess(drained, 3)
        finally:
            p.send_signal(signal.SIGCONT)
        s.settimeout(10)
        self.assertEqual(s.recv(4096), b"WATCHDOG=1")
        self.assertEqual(p.stop(), 0)

    def test_service_no_watchdog_when_not_asked_or_for_another_pid(self):
        for env in ({}, {"WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"}):
            s, path = self.notify_socket()
            p = self.start(env=dict(env, NOTIFY_SOCKET=path))
            self.assertIn(b"READY=1", s.recv(4096))
            # A native round trip takes the loop through many turns.
            self.assertEqual(p.pixctl("ping", "--count", "3").returncode, 0)
            self.assertEqual(p.stop(), 0)
            self.assertEqual(s.recv(4096), b"STOPPING=1", env)


def check_config(*args, timeout=20):
    return subprocess.run([PIXD, "--check-config"] + list(args), capture_output=True, text=True,
                          timeout=timeout)


class CheckConfig(unittest.TestCase):
    def test_service_check_config_good_creates_nothing(self):
        d = tmpdir(self)
        conf = os.path.join(d, "pixd.conf")
        with open(conf, "w") as f:
            f.write(f"listen = native=unix:{d}/pixd.sock\nlisten = http=127.0.0.1:0\n"
                    f"store = {d}/a/b/store\ncamera = t=test,fps=5\nlog-format = json\n")
        # A port already taken is not noticed: nothing is bound.
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        self.addCleanup(busy.close)
        r = check_config("--config", conf, "--listen",
                         f"native=127.0.0.1:{busy.getsockname()[1]}")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("configuration OK", r.stdout)
        self.assertIn("will be created", r.stdout)
        self.assertIn("camera t = test", r.stdout)
        self.assertEqual(sorted(os.listdir(d)), ["pixd.conf"])

    def test_service_check_config_defaults_with_state_directory(self):
        d = tmpdir(self)
        r = subprocess.run([PIXD, "--check-config"], capture_output=True, text=True, timeout=20,
                           env=dict(os.environ, STATE_DIRECTORY=d))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"store {d}", r.stdout)
        self.assertIn("native would listen on 127.0.0.1:7070", r.stdout)

    def test_service_check_config_bad_cases_exit_1_with_reason(self):
        d = tmpdir(self)
        afile = os.path.join(d, "file")
        open(afile, "w").close()
        badconf = os.path.join(d, "bad.conf")
        with open(badconf, "w") as f:
            f.write("# ok\nmax-connections = lots\n")
        cases = [
            (["--store", afile], "not a directory"),
            (["--store", afile + "/sub"], "not a directory"),
            (["--listen", "native=0.0.0.0:7070"], "--insecure"),
            (["--listen", f"native=unix:{d}/missing/pixd.sock"], "does not exist"),
            (["--listen", f"native=unix:{afile}"], "not a socket"),
            (["--listen", "gopher=127.0.0.1:1"], "no protocol handler"),
            (["--no-such-flag"], "unknown option"),
            (["--config", badconf], "line 2"),
            (["--config", os.path.join(d, "absent.conf")], "No such file"),
            (["--camera", "x=file:/nonexistent/video.mp4"], "No such file"),
            (["--camera", "x=nonsense"], "unknown source"),
            (["--camera", f"x={afile}"], "unknown source"),
            (["--log-format", "xml"], "text or json"),
        ]
        for args, why in cases:
            with self.subTest(args=args):
                r = check_config("--store", os.path.join(d, "s"), *args)
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                self.assertIn(why, r.stdout + r.stderr)
        self.assertEqual(sorted(os.listdir(d)), ["bad.conf", "file"])

    def test_service_check_config_missing_camera_is_a_warning(self):
        d = tmpdir(self)
        r = check_config("--store", d, "--camera", "c=/dev/video-pixd-absent")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("warning: camera c", r.stdout)

    def test_service_check_config_example_config_is_valid(self):
        d = tmpdir(self)
        r = check_config("--config", os.path.join(SRCDIR, "daemon", "pixd.conf"), "--store", d)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


class Logging(PixdTestCase):
    pixd_args = ("--log-format=json", "--log-level=debug", "--log-requests")
    pixd_listen = ("native=127.0.0.1:0", "http=127.0.0.1:0")

    def records(self):
        out = []
        for line in self.pixd.log().splitlines():
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                # Sanitizer reports are not pixd's log lines; _finish fails on those.
                self.assertIn("Sanitizer", line, f"not JSON: {line!r}")
        return out

    def test_service_log_json_lines_parse_with_fields(self):
        self.assertEqual(self.pixd.pixctl("ping", "--count", "1").returncode, 0)
        host, port = self.pixd.addr("http")
        secret = "s3cr3t-token"
        req = urllib.request.Request(f"http://{host}:{port}/healthz?token={secret}",
                                     headers={"Authorization": f"Bearer {secret}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            self.assertEqual(resp.status, 200)
        wait_until(lambda: sum(1 for r in self.records()
                               if r["fields"].get("event") == "close") >= 2,
                   what="two connection close lines")
        recs = self.records()
        for r in recs:
            self.assertEqual(sorted(r), ["fields", "level", "message", "time"], r)
            self.assertRegex(r["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(r["level"], ("error", "warning", "notice", "info", "debug"))
            self.assertEqual(r["fields"]["pid"], self.pixd.proc.pid)
        events = [(r["level"], r["fields"].get("event"), r["fields"].get("handler"))
                  for r in recs]
        for h in ("native", "http"):
            self.assertIn(("debug", "open", h), events)
            self.assertIn(("debug", "close", h), events)
            self.assertIn(("info", "request", h), events)
        reqs = [r["fields"] for r in recs if r["fields"].get("event") == "request"]
        self.assertIn("ping", [f.get("command") for f in reqs])
        self.assertIn(("GET", "/healthz"), [(f.get("method"), f.get("path")) for f in reqs])
        self.assertNotIn(secret, self.pixd.log())

    def test_service_log_json_escapes_client_bytes(self):
        host, port = self.pixd.addr("http")
        s = socket.create_connection((host, port), timeout=10)
        s.sendall(b"GET /odd\"\\%0a%ff%1b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while s.recv(65536):
            pass
        s.close()
        wait_until(lambda: any(r["fields"].get("path", "").startswith("/odd")
                               for r in self.records()), what="the odd request line")
        path = [r["fields"]["path"] for r in self.records()
                if r["fields"].get("path", "").startswith("/odd")][0]
        self.assertEqual(path, "/odd\"\\\n\u00ff\u001b")


class JournalJson(PixdTestCase):
    def setUp(self):
        pass

    def test_service_log_json_under_journald_keeps_priority(self):
        # JOURNAL_STREAM naming pixd's stderr is how systemd says "journal".
        err = tempfile.NamedTemporaryFile(prefix="pixd-journal-", delete=False)
        self.addCleanup(os.unlink, err.name)
        st = os.fstat(err.fileno())
        store = tmpdir(self)
        p = subprocess.Popen([PIXD, "--listen", "native=127.0.0.1:0", "--store", store,
                              "--log-format=json"], stdout=subprocess.PIPE, stderr=err,
                             env=dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}"))
        try:
            wait_until(lambda: b"listening" in p.stdout.readline(), what="listening line")
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(timeout=10), 0)
        finally:
            if p.poll() is None:
                p.kill()
            p.stdout.close()
            err.close()
        with open(err.name) as f:
            lines = [ln for ln in f.read().splitlines() if ln]
        self.assertTrue(lines)
        for ln in lines:
            m = re.match(r"^<([0-7])>(\{.*\})$", ln)
            self.assertTrue(m, ln)
            rec = json.loads(m.group(2))
            self.assertEqual(rec["fields"]["priority"], int(m.group(1)))


class RequestLogOff(PixdTestCase):
    pixd_listen = ("native=127.0.0.1:0",)

    def test_service_requests_not_logged_unless_asked(self):
        self.assertEqual(self.pixd.pixctl("ping", "--count", "2").returncode, 0)
        self.assertEqual(self.pixd.stop(), 0)
        self.assertNotIn("native ping", self.pixd.log())
        self.assertNotIn("open on", self.pixd.log())


def help_flags(argv):
    out = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
    return {m.group(1) for m in re.finditer(r"^\s+(?:-\w, )?(--[a-z0-9-]+)", out, re.M)}


def pixctl_commands():
    out = subprocess.run([PIXCTL, "--help"], capture_output=True, text=True, timeout=10).stdout
    sec = out.split("Commands:", 1)[1].split("\n\n", 1)[0]
    return [ln.split()[0] for ln in sec.strip().splitlines()]


def complete(script, words):
    """COMPREPLY of the bash completion in script for the command line words
    (the last one is the word being completed)."""
    code = (f"source {shlex.quote(script)}; COMP_WORDS=({' '.join(map(shlex.quote, words))}); "
            f"COMP_CWORD={len(words) - 1}; _{words[0]}; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
    r = subprocess.run(["bash", "-c", code], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return set(r.stdout.split())


class Completion(unittest.TestCase):
    pixd_script = os.path.join(SRCDIR, "daemon", "completion", "pixd")
    pixctl_script = os.path.join(SRCDIR, "cli", "completion", "pixctl")

    def test_service_completion_pixd_matches_help(self):
        self.assertEqual(complete(self.pixd_script, ["pixd", "--"]), help_flags([PIXD, "--help"]))
        self.assertEqual(complete(self.pixd_script, ["pixd", "--log-format", ""]), {"text", "json"})
        out = subprocess.run([PIXD, "--help"], capture_output=True, text=True).stdout
        handlers = re.search(r"Handlers for --listen: (.*)", out).group(1).split()
        self.assertEqual(complete(self.pixd_script, ["pixd", "--listen", ""]),
                         {h + "=" for h in handlers})

    def test_service_completion_pixctl_matches_help(self):
        cmds = pixctl_commands()
        self.assertTrue(cmds)
        self.assertEqual(complete(self.pixctl_script, ["pixctl", ""]), set(cmds))
        glob_flags = help_flags([PIXCTL, "--help"])
        self.assertEqual(complete(self.pixctl_script, ["pixctl", "--"]), glob_flags)
        for cmd in cmds:
            with self.subTest(cmd=cmd):
                want = help_flags([PIXCTL, cmd, "--help"]) | glob_flags
                got = complete(self.pixctl_script, ["pixctl", "--host", "h", cmd, "--"])
                self.assertEqual(got, want)
        self.assertEqual(complete(self.pixctl_script, ["pixctl", "resize", "x.jpg", "--mode", ""]),
                         {"fit", "fill", "stretch"})


if __name__ == "__main__":
    unittest.main()
