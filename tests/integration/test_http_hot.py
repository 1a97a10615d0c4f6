"""Small stored files served from pixd's hot cache (store_cache.h): the
answers are those from the disk, and a file pixd replaces or deletes is
never served stale; one changed behind its back is seen within the cache's
time to live (1 s)."""
import hashlib
import os
import time
import urllib.parse

from pixdtest import *  # noqa: F401,F403
from test_http_api import HttpCase, encode, photo


class HotCache(HttpCase):
    def get(self, name, headers=None, conn=None):
        return self.req("GET", "/api/v1/images/" + urllib.parse.quote(name), headers=headers,
                        conn=conn)

    def warm(self, name, data, conn):
        """GET name until the answer comes from the cache: the second GET of
        a small file does (the first fills it)."""
        for _ in range(2):
            r = self.get(name, conn=conn)
            self.assertEqual((r.status, r.body), (200, data))
        return r

    def test_cached_answers_match_the_disk(self):
        data = encode(photo(320, 240), "JPEG", quality=80)
        self.assertEqual(self.put("a.jpg", data).status, 201)
        c = self.connect()
        first = self.get("a.jpg", conn=c)
        second = self.get("a.jpg", conn=c)
        self.assertEqual(first.body, data)
        self.assertEqual(second.body, data)
        for h in ("etag", "last-modified", "content-type", "content-length", "accept-ranges"):
            self.assertEqual(first.header(h), second.header(h), h)
        self.assertEqual(second.header("etag"), '"%s"' % hashlib.sha256(data).hexdigest())
        # Conditional, Range and HEAD from the cache.
        r = self.get("a.jpg", {"If-None-Match": second.header("etag")}, conn=c)
        self.assertEqual((r.status, r.body), (304, b""))
        r = self.get("a.jpg", {"Range": "bytes=10-19"}, conn=c)
        self.assertEqual((r.status, r.body), (206, data[10:20]))
        self.assertEqual(r.header("content-range"), f"bytes 10-19/{len(data)}")
        r = self.get("a.jpg", {"Range": "bytes=-5"}, conn=c)
        self.assertEqual((r.status, r.body), (206, data[-5:]))
        r = self.get("a.jpg", {"Range": f"bytes={len(data)}-"}, conn=c)
        self.assertEqual(r.status, 416)
        self.assertEqual(r.header("content-range"), f"bytes */{len(data)}")
        r = self.req("HEAD", "/api/v1/images/a.jpg", conn=c)
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertEqual(int(r.header("content-length")), len(data))
        # Keep-alive still works after all of them.
        self.assertEqual(self.get("a.jpg", conn=c).body, data)
        c.close()

    def test_a_file_replaced_over_http_is_never_served_stale(self):
        c = self.connect()
        for i in range(20):
            data = os.urandom(1000 + i)
            self.assertEqual(self.put("x.bin", data).status, 201)
            self.warm("x.bin", data, c)
        c.close()

    def test_a_file_replaced_over_the_native_protocol_is_never_served_stale(self):
        c = self.connect()
        old, new = b"old" * 1000, b"new" * 2000
        self.assertEqual(self.put("n.bin", old).status, 201)
        self.warm("n.bin", old, c)
        with open(os.path.join(self.pixd.store, "..", "n-src.bin"), "wb") as f:
            f.write(new)
            src = f.name
        try:
            p = self.pixd.pixctl("put", src, "--name", "n.bin")
            self.assertEqual(p.returncode, 0, p.stderr)
        finally:
            os.unlink(src)
        r = self.get("n.bin", conn=c)
        self.assertEqual((r.status, r.body), (200, new))
        c.close()

    def test_a_deleted_file_is_not_served(self):
        c = self.connect()
        data = b"d" * 5000
        self.assertEqual(self.put("d.bin", data).status, 201)
        self.warm("d.bin", data, c)
        self.assertEqual(self.req("DELETE", "/api/v1/images/d.bin", conn=c).status, 204)
        self.assertEqual(self.get("d.bin", conn=c).status, 404)
        self.assertEqual(self.req("HEAD", "/api/v1/images/d.bin", conn=c).status, 404)
        c.close()

    def test_a_file_changed_behind_pixds_back_is_seen_after_the_ttl(self):
        c = self.connect()
        data = b"a" * 4000
        self.assertEqual(self.put("e.bin", data).status, 201)
        self.warm("e.bin", data, c)
        path = os.path.join(self.pixd.store, "e.bin")
        with open(path + ".new", "wb") as f:
            f.write(b"b" * 3000)
        os.rename(path + ".new", path)
        deadline = time.monotonic() + 10
        while True:
            r = self.get("e.bin", conn=c)
            if r.body == b"b" * 3000:
                break
            self.assertEqual(r.body, data)  # the old file whole, never a mix
            self.assertLess(time.monotonic(), deadline, "the changed file was never served")
            time.sleep(0.05)
        c.close()

    def test_large_files_are_not_cached_and_still_served(self):
        data = os.urandom(200 * 1024)
        self.assertEqual(self.put("big.bin", data).status, 201)
        c = self.connect()
        for _ in range(3):
            r = self.get("big.bin", conn=c)
            self.assertEqual((r.status, r.body), (200, data))
        c.close()


if __name__ == "__main__":
    import unittest
    unittest.main()
