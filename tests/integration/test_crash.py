"""Crash consistency: kill -9 pixd at random points of a mixed load
(native and HTTP uploads, downloads, resizes, stored resizes, a camera
watched both ways), restart it on the same --store, and check that the
store holds only complete files: each listed file's bytes match the
SHA-256 pixd lists and the one the client sent, no temporary file is
left, and every upload pixd confirmed is there. 20 kills in a row.
"""
import hashlib
import io
import os
import random
import shutil
import signal
import tempfile
import unittest

from PIL import Image

from loadgen import Load, Native
from pixdtest import Pixd, wait_until

KILLS = int(os.environ.get("PIXD_CRASH_KILLS", "20"))
LISTEN = ("native=127.0.0.1:0", "http=127.0.0.1:0")
ARGS = ("--camera", "cam=test,width=64,height=48,fps=15")
SANITIZER_WORDS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")


def small_jpeg():
    buf = io.BytesIO()
    Image.new("RGB", (96, 64), (200, 40, 90)).save(buf, "JPEG")
    return buf.getvalue()


class CrashConsistency(unittest.TestCase):
    def setUp(self):
        self.store = tempfile.mkdtemp(prefix="pixd-crash-")
        self.addCleanup(shutil.rmtree, self.store, True)
        self.sent, self.acked, self.derived = {}, set(), set()

    def start(self):
        p = Pixd(*ARGS, listen=LISTEN, store=self.store)
        self.addCleanup(p.close)
        return p

    def check_store(self, p, round_no):
        """What a restarted pixd serves must be complete and as sent."""
        where = f"after kill {round_no}"
        self.assertEqual(os.listdir(os.path.join(self.store, ".tmp")), [],
                         f"{where}: temporary files left in .tmp")
        c = Native(p.addr("native"))
        try:
            listed = {e["name"]: e for e in c.list(1)}
        finally:
            c.close()
        on_disk = {n for n in os.listdir(self.store) if not n.startswith(".")}
        self.assertEqual(set(listed), on_disk, f"{where}: LIST and the directory differ")
        for name, e in listed.items():
            with open(os.path.join(self.store, name), "rb") as f:
                data = f.read()
            sha = hashlib.sha256(data).hexdigest()
            self.assertEqual(e.get("size"), len(data), f"{where}: {name} size")
            self.assertEqual(e.get("sha256"), sha, f"{where}: {name} listed hash is wrong")
            if name in self.sent:
                self.assertEqual(sha, self.sent[name],
                                 f"{where}: {name} is not what the client sent")
            else:
                self.assertIn(name, self.derived, f"{where}: {name} was never sent")
                self.assertTrue(data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9"),
                                f"{where}: stored resize {name} is not a whole JPEG")
        missing = {n for n in self.acked if n not in listed}
        self.assertEqual(missing, set(), f"{where}: confirmed uploads lost")
        return len(listed)

    def test_crash_kill9_during_mixed_load(self):
        rng = random.Random(int.from_bytes(os.urandom(4), "big"))
        jpeg = small_jpeg()
        p = self.start()
        files = cut = 0
        for k in range(1, KILLS + 1):
            load = Load(p.addr("native"), p.addr("http"), "cam", jpeg, keep_files=True,
                        seed=rng.random(), tag=f"k{k}", max_size=96 * 1024)
            load.prepare()
            load.start()
            # Kill after a random amount of progress, so the kill lands at
            # a different point of each request kind's life each round.
            target = rng.randint(5, 150)
            wait_until(lambda: sum(load.ok.values()) >= target, 20,
                       f"{target} requests served before kill {k}")
            p.send_signal(signal.SIGKILL)
            p.proc.wait()
            self.assertTrue(load.finish(), "a load worker hung after the kill")
            log = p.log()
            for bad in SANITIZER_WORDS:
                self.assertNotIn(bad, log, log)
            with load.lock:
                self.sent.update(load.sent)
                self.acked |= load.acked
                # A stored resize pixd never confirmed may still be there.
                self.derived |= load.derived
                self.derived |= {f"k{k}-r-{i}.jpg" for i in range(load.seq + 1)}
            # Uploads cut by the kill leave partial files; pixd clears them at start.
            cut += len(os.listdir(os.path.join(self.store, ".tmp")))
            p = self.start()
            files = self.check_store(p, k)
        self.assertGreater(len(self.acked), KILLS, "the load confirmed too few uploads")
        rc = p.stop()
        self.assertEqual(rc, 0, p.log())
        for bad in SANITIZER_WORDS:
            self.assertNotIn(bad, p.log())
        print(f"\n  {KILLS} kills: {len(self.acked)} confirmed uploads, {files} files kept, "
              f"{len(self.sent)} uploads attempted, {cut} partial uploads cleared", flush=True)


if __name__ == "__main__":
    unittest.main()
