"""A 1 GiB PUT and GET over HTTP with pixd's memory flat: the body streams
through in chunks both ways (the GET by sendfile), so RSS grows by far less
than the file. The stream is generated (a counter stamped into a random
MiB), not read from disk. Speed is bench/store's business, not this test's."""
import hashlib
import http.client
import json
import os
import threading

from pixdtest import *  # noqa: F401,F403

MiB = 1 << 20


class OneGiB(PixdTestCase):
    pixd_listen = ("http=127.0.0.1:0",)
    SIZE = int(os.environ.get("PIXD_TEST_LARGE_MIB", "1024")) * MiB
    GROWTH_LIMIT_KB = 64 * 1024

    def setUp(self):
        # ASan keeps freed blocks in a 256 MB quarantine by default, which
        # would count as pixd's memory; a small one keeps its checks.
        env = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=4"}
        self.pixd = self.start(listen=self.pixd_listen, env=env)

    def sample_rss(self, stop, peak):
        while not stop.is_set():
            peak[0] = max(peak[0], self.pixd.rss_kb())
            stop.wait(0.02)

    def test_1_gib_put_and_get_with_flat_rss(self):
        block = bytearray(os.urandom(MiB))
        sha = hashlib.sha256()
        c = http.client.HTTPConnection(*self.pixd.addr("http"), timeout=300)
        c.request("GET", "/api/v1/status")
        c.getresponse().read()
        start = self.pixd.rss_kb()
        peak = [0]
        stop = threading.Event()
        t = threading.Thread(target=self.sample_rss, args=(stop, peak), daemon=True)
        t.start()
        try:
            c.putrequest("PUT", "/api/v1/images/large.bin")
            c.putheader("Content-Length", str(self.SIZE))
            c.endheaders()
            for i in range(self.SIZE // MiB):
                block[:8] = i.to_bytes(8, "big")
                sha.update(block)
                c.send(block)
            r = c.getresponse()
            body = r.read()
            self.assertEqual(r.status, 201, body)
            self.assertEqual(json.loads(body)["sha256"], sha.hexdigest())
            up_peak, peak[0] = peak[0], 0

            c.request("GET", "/api/v1/images/large.bin")
            r = c.getresponse()
            self.assertEqual(int(r.getheader("Content-Length")), self.SIZE)
            got = hashlib.sha256()
            n = 0
            while True:
                d = r.read(MiB)
                if not d:
                    break
                got.update(d)
                n += len(d)
            c.close()
            self.assertEqual((n, got.hexdigest()), (self.SIZE, sha.hexdigest()))
        finally:
            stop.set()
            t.join()
        self.assertLess(up_peak - start, self.GROWTH_LIMIT_KB,
                        f"RSS grew from {start} to {up_peak} kB during the upload")
        self.assertLess(peak[0] - start, self.GROWTH_LIMIT_KB,
                        f"RSS grew from {start} to {peak[0]} kB during the download")


if __name__ == "__main__":
    import unittest
    unittest.main()
