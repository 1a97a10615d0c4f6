"""pixctl's store commands (put, get, ls, stat, rm) against the real pixd.

test_store.py speaks raw frames to the store; this file checks what a user
of pixctl sees: files byte for byte, names, output, --json, exit codes,
messages, and Ctrl-C in the middle of a transfer."""
import hashlib
import json
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import unittest
import zlib

from pixdtest import *  # noqa: F401,F403

MiB = 1 << 20


def png_bytes(w, h):
    """A valid PNG of w x h grey pixels (stdlib only)."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    raw = b"".join(b"\0" + b"\x80" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def sha(data):
    return hashlib.sha256(data).hexdigest()


class PixctlStore(PixdTestCase):
    """Each test has its own directory (self.dir) for local files, pixctl's
    working directory, and the store of its pixd (self.store); all of it is
    removed after pixd has stopped."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pixctl-store-")
        self.addCleanup(shutil.rmtree, self.dir, True)  # runs last: after pixd stopped
        self.store = os.path.join(self.dir, "store")
        self.pixd = self.start(*self.pixd_args, listen=self.pixd_listen, store=self.store)

    # ---- helpers ----

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def local(self, name, data):
        """Write data to a local file; returns its path."""
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def ctl(self, *args, p=None, timeout=60):
        """pixctl against p (default: this test's pixd), in self.dir."""
        p = p or self.pixd
        host, port = p.addr()
        return subprocess.run([PIXCTL, "--host", host, "--port", str(port)] + list(args),
                              capture_output=True, text=True, timeout=timeout, cwd=self.dir)

    def ok(self, *args, **kw):
        r = self.ctl(*args, **kw)
        self.assertEqual(r.returncode, 0, f"pixctl {' '.join(args)}: {r.stderr}")
        return r

    def fails(self, *args, rc=1, **kw):
        r = self.ctl(*args, **kw)
        self.assertEqual(r.returncode, rc, f"pixctl {' '.join(args)}: {r.stdout} {r.stderr}")
        self.assertTrue(r.stderr.startswith("pixctl: "), r.stderr)
        return r

    def ls_json(self, p=None):
        return json.loads(self.ok("--json", "ls", p=p).stdout)

    def stored(self, store=None):
        """Names of the files in the store directory (not .meta, .tmp)."""
        return sorted(n for n in os.listdir(store or self.store) if not n.startswith("."))

    def tmp_files(self, store=None):
        return os.listdir(os.path.join(store or self.store, ".tmp"))

    # ---- round trips ----

    def test_put_get_round_trip_sizes(self):
        for size in (0, 1, MiB, 100 * MiB):
            data = os.urandom(size)
            src = self.local(f"blob{size}.bin", data)
            r = self.ok("put", src)
            self.assertEqual(r.stderr, "")  # no progress bar: stderr is not a terminal
            self.assertRegex(r.stdout, rf"^stored blob{size}\.bin \(.*\bsha256 {sha(data)[:16]}\u2026\)\n$")
            with open(os.path.join(self.store, f"blob{size}.bin"), "rb") as f:
                self.assertTrue(f.read() == data, f"store file of {size} bytes differs")
            out = self.path(f"back{size}.bin")
            r = self.ok("get", f"blob{size}.bin", "-o", out)
            self.assertEqual(r.stderr, "")
            self.assertIn("sha256 verified", r.stdout)
            got = self.read(out)
            self.assertEqual(len(got), size)
            self.assertTrue(got == data, f"download of {size} bytes differs")
            self.assertFalse(os.path.exists(out + ".part"))
            os.unlink(out)
            os.unlink(src)
        self.assertEqual(self.tmp_files(), [])

    def test_get_into_current_directory_and_to_stdout(self):
        data = os.urandom(70000)
        self.ok("put", self.local("a.bin", data))
        os.mkdir(self.path("d"))
        r = self.ok("get", "a.bin", "-o", self.path("d"))
        self.assertEqual(self.read(self.path("d", "a.bin")), data)
        self.assertIn("to " + self.path("d", "a.bin"), r.stdout)
        os.unlink(self.path("a.bin"))
        self.ok("get", "a.bin")  # into the working directory, under its store name
        self.assertEqual(self.read(self.path("a.bin")), data)
        r = subprocess.run([PIXCTL, "--host", self.pixd.addr()[0], "--port",
                            str(self.pixd.addr()[1]), "get", "a.bin", "-o", "-"],
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout == data)

    def test_put_several_files_one_command(self):
        files = {f"f{i}.bin": os.urandom(i * 100000 + 3) for i in range(4)}
        paths = [self.local(n, d) for n, d in files.items()]
        r = self.ok("put", *paths)
        self.assertEqual([ln.split()[1] for ln in r.stdout.splitlines()], list(files))
        self.assertEqual(self.stored(), sorted(files))
        for n, d in files.items():
            self.assertEqual(self.read(os.path.join(self.store, n)), d)
        # --json: one object per FILE, in order.
        more = [self.local(f"g{i}.bin", os.urandom(1000 + i)) for i in range(3)]
        j = json.loads(self.ok("--json", "put", *more).stdout)
        self.assertEqual([e["file"] for e in j], more)
        self.assertEqual([e["name"] for e in j], ["g0.bin", "g1.bin", "g2.bin"])
        self.assertEqual([e["size"] for e in j], [1000, 1001, 1002])
        self.assertEqual([e["sha256"] for e in j], [sha(self.read(p)) for p in more])
        # Several at once, back.
        os.mkdir(self.path("back"))
        self.ok("get", *files, "-o", self.path("back"))
        for n, d in files.items():
            self.assertEqual(self.read(self.path("back", n)), d)

    # ---- names ----

    def test_put_names_spaces_and_extension_rules(self):
        body = b"hello"
        cases = [
            # (local file, --name or None, store name)
            ("my file.TXT", None, "my_file.txt"),
            ("IMG_1.JPG", "beach.png", "beach.jpg"),
            ("photo.jpeg", "holiday", "holiday.jpeg"),
            ("photo.jpeg", "summer trip 2024", "summer_trip_2024.jpeg"),
            ("photo.jpeg", "ends with dot.", "ends_with_dot.jpeg"),
            ("noext", "kept.as.is.png", "kept.as.is.png"),
            ("noext", "plain", "plain"),
            ("two words", None, "two_words"),
        ]
        for i, (fname, name, want) in enumerate(cases):
            src = self.local(fname, body + bytes([i]))
            args = ["put", src] + (["--name", name] if name else [])
            r = self.ok(*args)
            self.assertTrue(r.stdout.startswith(f"stored {want} ("), (fname, name, r.stdout))
            self.assertEqual(self.read(os.path.join(self.store, want)), body + bytes([i]))
            os.unlink(src)
        # -n is --name.
        self.ok("put", self.local("x.PNG", png_bytes(2, 2)), "-n", "short")
        self.assertIn("short.png", self.stored())
        # --name with several files is a usage error; nothing is sent.
        before = self.stored()
        r = self.fails("put", self.local("a.bin", b"a"), self.local("b.bin", b"b"),
                       "--name", "c", rc=2)
        self.assertIn("--name", r.stderr)
        self.assertEqual(self.stored(), before)

    def test_put_two_files_same_store_name_uploads_nothing(self):
        os.mkdir(self.path("d"))
        a = self.local("a b.bin", b"one")
        b = self.local(os.path.join("d", "a_b.bin"), b"two")
        c = self.local("c.bin", b"three")
        r = self.fails("put", c, a, b)
        self.assertIn("a_b.bin", r.stderr)
        self.assertIn("nothing was uploaded", r.stderr)
        self.assertEqual(self.stored(), [])

    def test_put_missing_local_file_uploads_nothing(self):
        r = self.fails("put", self.local("here.bin", b"x"), self.path("not-here.bin"))
        self.assertIn("not-here.bin", r.stderr)
        self.assertIn("nothing was uploaded", r.stderr)
        self.assertEqual(self.stored(), [])

    def test_traversal_and_bad_names_refused(self):
        # The store lives in self.dir/store: a file beside it is what a
        # traversal would reach.
        victim = self.local("victim.bin", b"must survive")
        src = self.local("data.bin", b"payload")
        for name, why in (("../victim", "'/'"), ("../../x", "'/'"), ("a/b", "'/'"),
                          (".hidden", "start with '.'"), ("..", "'.'"),
                          ("-rf", "start with '-'"), ("tab\there", "control"),
                          ("x" * 201, "200 bytes")):
            r = self.fails("put", src, "--name", name)
            self.assertIn(why, r.stderr, name)
            self.assertIn("nothing was uploaded", r.stderr)
        # A file literally named -x: pixctl takes it after --, and refuses
        # the store name it would get.
        dash = self.local("-x", b"dash")
        r = self.fails("put", "--", "-x")
        self.assertIn("cannot start with '-'", r.stderr)
        self.assertIn("--name", r.stderr)  # says what to do
        # With --name it goes in.
        self.ok("put", "--name", "dash", "--", dash)
        self.assertIn("dash", self.stored())
        # Names that pixctl passes to the server as they are: the server
        # refuses them (INVALID), and nothing outside the store is touched.
        for cmd in ("stat", "rm"):
            for name in ("../victim.bin", "../store/data.bin", ".tmp", ".meta", "a\\b",
                         "-x", "y" * 300):
                r = self.fails(cmd, "--", name)
                self.assertIn("(INVALID)", r.stderr, (cmd, name))
                self.assertIn("refused the name", r.stderr, (cmd, name))
        # get: refused by pixctl (no -o: the name would be the local file
        # name) or by the server (with -o).
        r = self.fails("get", "../victim.bin")
        self.assertIn("not a store name", r.stderr)
        r = self.fails("get", "../victim.bin", "-o", self.path("stolen"))
        self.assertIn("refused the name", r.stderr)
        self.assertIn("(INVALID)", r.stderr)
        self.assertFalse(os.path.exists(self.path("stolen")))
        self.assertFalse(os.path.exists(self.path("stolen.part")))
        self.assertEqual(self.read(victim), b"must survive")
        self.assertEqual(self.stored(), ["dash"])
        self.assertEqual(sorted(os.listdir(self.store)), [".meta", ".tmp", "dash"])

    # ---- ls, stat, rm ----

    def test_ls_text_long_and_json(self):
        png = png_bytes(33, 7)
        blob = os.urandom(12345)
        self.ok("put", self.local("grey.png", png), self.local("blob.bin", blob))
        r = self.ok("ls")
        self.assertEqual(r.stdout, "blob.bin\ngrey.png\n")
        r = self.ok("ls", "--long")
        rows = [ln.split() for ln in r.stdout.splitlines()]
        self.assertEqual(len(rows), 2)
        # size, date, time, type, WxH, sha prefix, name
        self.assertEqual(rows[0][0], "12345")
        self.assertEqual(rows[0][3:], ["data", "-", sha(blob)[:16], "blob.bin"])
        self.assertEqual(rows[1][0], str(len(png)))
        self.assertEqual(rows[1][3:], ["png", "33x7", sha(png)[:16], "grey.png"])
        self.assertRegex(rows[1][1] + " " + rows[1][2], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
        j = self.ls_json()
        self.assertEqual([e["name"] for e in j], ["blob.bin", "grey.png"])
        b, g = j
        self.assertEqual((b["size"], b["sha256"], b["type"], b["width"], b["height"]),
                         (12345, sha(blob), "data", None, None))
        self.assertEqual((g["size"], g["sha256"], g["type"], g["width"], g["height"]),
                         (len(png), sha(png), "png", 33, 7))
        mtime = os.stat(os.path.join(self.store, "grey.png")).st_mtime_ns // 1000000
        self.assertLessEqual(abs(g["mtime_ms"] - mtime), 1000)
        # ls -l is --long; --json after the command works too.
        self.assertEqual(self.ok("ls", "-l").stdout, self.ok("ls", "--long").stdout)
        self.assertEqual(json.loads(self.ok("ls", "--json").stdout), j)

    def test_ls_more_than_one_reply_frame(self):
        # 4000 entries with 200-byte names are over 1 MB: pixd splits the
        # listing into several LIST_REPLY frames; pixctl joins them.
        names = [f"n{i:05d}" + "x" * 190 + ".bin" for i in range(4000)]
        for i, n in enumerate(names):
            with open(os.path.join(self.store, n), "wb") as f:
                f.write(b"%d" % i)
        self.assertEqual(self.ok("ls").stdout.splitlines(), names)
        j = self.ls_json()
        self.assertEqual([e["name"] for e in j], names)
        self.assertEqual(j[1234]["sha256"], sha(b"1234"))
        self.assertEqual(j[1234]["size"], 4)

    def test_ls_empty_store(self):
        self.assertEqual(self.ok("ls").stdout, "")
        self.assertEqual(self.ls_json(), [])

    def test_stat_text_and_json(self):
        png = png_bytes(640, 3)
        self.ok("put", self.local("wide picture.png", png))
        r = self.ok("stat", "wide_picture.png")
        lines = dict(ln.split(":", 1) for ln in r.stdout.splitlines())
        lines = {k.strip(): v.strip() for k, v in lines.items()}
        self.assertEqual(lines["name"], "wide_picture.png")
        self.assertEqual(lines["size"], f"{len(png)} bytes")
        self.assertEqual(lines["type"], "png")
        self.assertEqual(lines["dimensions"], "640x3 pixels")
        self.assertEqual(lines["sha256"], sha(png))
        self.assertRegex(lines["modified"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}$")
        j = json.loads(self.ok("--json", "stat", "wide_picture.png").stdout)
        self.assertEqual((j["name"], j["size"], j["sha256"], j["type"], j["width"], j["height"]),
                         ("wide_picture.png", len(png), sha(png), "png", 640, 3))
        # A space in NAME is made '_', as for put.
        self.assertEqual(json.loads(self.ok("--json", "stat", "wide picture.png").stdout), j)
        r = self.fails("stat", "nope.png")
        self.assertIn("not found", r.stderr)
        self.assertIn("pixctl ls", r.stderr)

    def test_rm_and_rm_missing(self):
        self.ok("put", self.local("a.bin", b"a"), self.local("b.bin", b"b"),
                self.local("c.bin", b"c"))
        r = self.ok("rm", "a.bin", "b.bin")
        self.assertEqual(r.stdout, "deleted a.bin\ndeleted b.bin\n")
        self.assertEqual(self.stored(), ["c.bin"])
        self.assertEqual([e["name"] for e in self.ls_json()], ["c.bin"])
        r = self.fails("rm", "a.bin")
        self.assertIn("rm a.bin", r.stderr)
        self.assertIn("not found", r.stderr)
        self.assertIn("pixctl ls", r.stderr)  # says what to do next
        # A missing name does not stop the others; --json tells each.
        r = self.fails("--json", "rm", "gone.bin", "c.bin")
        j = json.loads(r.stdout)
        self.assertEqual([(e["name"], e["deleted"]) for e in j],
                         [("gone.bin", False), ("c.bin", True)])
        self.assertEqual(j[0]["error"], "NOTFOUND")
        self.assertEqual(self.stored(), [])

    # ---- errors ----

    def test_get_missing_exit_1(self):
        r = self.fails("get", "nope.jpg")
        self.assertIn("get nope.jpg", r.stderr)
        self.assertIn("not found", r.stderr)
        self.assertIn("pixctl ls", r.stderr)
        self.assertEqual(sorted(os.listdir(self.dir)), ["store"])  # no file, no .part
        # One missing name does not stop the others.
        self.ok("put", self.local("here.bin", b"here"))
        os.mkdir(self.path("out"))
        r = self.fails("get", "nope.jpg", "here.bin", "-o", self.path("out"))
        self.assertEqual(os.listdir(self.path("out")), ["here.bin"])
        self.assertIn("saved here.bin", r.stdout)

    def test_get_existing_output_refused_without_force(self):
        data = os.urandom(5000)
        self.ok("put", self.local("p.bin", data))
        out = self.local("existing.bin", b"precious")
        r = self.fails("get", "p.bin", "-o", out)
        self.assertIn("exists", r.stderr)
        self.assertIn("--force", r.stderr)
        self.assertEqual(self.read(out), b"precious")
        self.assertFalse(os.path.exists(out + ".part"))
        self.ok("get", "p.bin", "-o", out, "--force")
        self.assertEqual(self.read(out), data)
        # A stale .part (of another program) is not replaced without --force either.
        out2 = self.path("other.bin")
        self.local("other.bin.part", b"stale")
        r = self.fails("get", "p.bin", "-o", out2)
        self.assertIn(".part", r.stderr)
        self.assertEqual(self.read(out2 + ".part"), b"stale")
        self.assertFalse(os.path.exists(out2))
        self.ok("get", "p.bin", "-o", out2, "-f")
        self.assertEqual(self.read(out2), data)
        self.assertFalse(os.path.exists(out2 + ".part"))

    def test_quota_refused(self):
        p = self.start("--max-store", "100K", "--max-upload", "60K",
                       store=self.path("small-store"))
        store = self.path("small-store")
        a = self.local("a.bin", os.urandom(50 << 10))
        self.ok("put", a, p=p)
        r = self.fails("put", self.local("b.bin", os.urandom(51 << 10)), p=p)
        self.assertIn("b.bin", r.stderr)
        self.assertIn("--max-store", r.stderr)
        self.assertIn("(NOSPACE)", r.stderr)
        r = self.fails("put", self.local("big.bin", os.urandom(61 << 10)), p=p)
        self.assertIn("--max-upload", r.stderr)
        self.assertIn("(TOOBIG)", r.stderr)
        self.assertEqual(self.stored(store), ["a.bin"])
        # A refused file does not stop the others in the same command.
        r = self.fails("--json", "put", self.local("c.bin", os.urandom(10 << 10)),
                       self.local("huge.bin", os.urandom(70 << 10)),
                       self.local("d.bin", os.urandom(10 << 10)), p=p)
        j = json.loads(r.stdout)
        self.assertEqual([e["name"] for e in j], ["c.bin", "huge.bin", "d.bin"])
        self.assertEqual(j[1]["error"], "TOOBIG")
        self.assertNotIn("error", j[0])
        self.assertNotIn("error", j[2])
        self.assertEqual(self.stored(store), ["a.bin", "c.bin", "d.bin"])
        wait_until(lambda: self.tmp_files(store) == [], what="temporary files removed")

    # ---- Ctrl-C ----

    def stop_mid_transfer(self, proc, mid, sig=signal.SIGINT):
        """Freeze pixctl with SIGSTOP once it is mid-transfer (mid() true
        while it is stopped), then deliver sig and let it go on: the
        signal lands in the middle of the transfer, never after it."""
        wait_until(lambda: proc.poll() is not None or mid(), timeout=30,
                   what="the transfer to start")
        self.assertIsNone(proc.poll(), "pixctl finished before it could be interrupted")
        proc.send_signal(signal.SIGSTOP)
        try:
            self.assertTrue(mid(), "transfer not in progress while pixctl is stopped")
            proc.send_signal(sig)
        finally:
            proc.send_signal(signal.SIGCONT)
        out, err = proc.communicate(timeout=30)
        return proc.returncode, out, err

    def test_interrupted_get_exit_130_143_no_part_left(self):
        # A big file placed in the store by hand (sparse: costs no disk).
        size = 1 << 30
        with open(os.path.join(self.store, "huge.bin"), "wb") as f:
            f.truncate(size)
        host, port = self.pixd.addr()
        for sig, want in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
            out = self.path(f"huge-copy-{want}.bin")
            part = out + ".part"
            proc = subprocess.Popen([PIXCTL, "--host", host, "--port", str(port), "--timeout",
                                     "60", "get", "huge.bin", "-o", out], cwd=self.dir,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

            def downloading():
                try:
                    return 0 < os.path.getsize(part) < size
                except OSError:
                    return False

            rc, _, err = self.stop_mid_transfer(proc, downloading, sig)
            self.assertEqual(rc, want, err)
            self.assertTrue(err.startswith("pixctl: interrupted"), err)
            self.assertIn("cancelled the download of huge.bin", err)
            self.assertFalse(os.path.exists(part), ".part left behind")
            self.assertFalse(os.path.exists(out))
        # pixd goes on serving, and the store is untouched.
        self.assertEqual(os.path.getsize(os.path.join(self.store, "huge.bin")), size)
        self.assertEqual(self.stored(), ["huge.bin"])
        self.ok("ping")

    def test_interrupted_put_exit_130_nothing_stored(self):
        size = 1 << 30
        src = self.path("huge.bin")
        with open(src, "wb") as f:
            f.truncate(size)  # sparse: pixctl reads zeros
        host, port = self.pixd.addr()
        proc = subprocess.Popen([PIXCTL, "--host", host, "--port", str(port), "--timeout", "60",
                                 "put", src], cwd=self.dir,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def uploading():
            # pixd has a non-empty temporary file and nothing stored yet.
            tmp = os.path.join(self.store, ".tmp")
            try:
                names = os.listdir(tmp)
                return (any(os.path.getsize(os.path.join(tmp, n)) > 0 for n in names)
                        and "huge.bin" not in os.listdir(self.store))
            except OSError:
                return False

        rc, out, err = self.stop_mid_transfer(proc, uploading)
        self.assertEqual(rc, 130, err)
        self.assertTrue(err.startswith("pixctl: interrupted"), err)
        self.assertIn("cancelled the upload of huge.bin", err)
        self.assertEqual(out, "")  # nothing was reported stored
        wait_until(lambda: self.tmp_files() == [], what="pixd to remove the temporary file")
        self.assertEqual(self.stored(), [])
        self.assertEqual(self.ls_json(), [])
        self.ok("ping")


if __name__ == "__main__":
    unittest.main()
