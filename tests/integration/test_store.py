"""The image store over the native protocol (raw frames; pixctl has its own tests)."""
import hashlib
import os
import signal
import struct
import threading
import unittest
import zlib

from pixdtest import *  # noqa: F401,F403


def png_bytes(w, h):
    """A valid PNG of w x h grey pixels (stdlib only)."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    raw = b"".join(b"\0" + b"\x80" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class Store(PixdTestCase):
    def put(self, c, name, data, fid=1, **kw):
        c.send(put_frames(fid, name, data, **kw))
        t, _, rid, body = c.recv()
        return t, rid, body

    def get(self, c, name, fid=2):
        c.send(frame(T_GET, field(TAG_NAME, name), fid=fid))
        t, flags, rid, body = c.recv()
        if t == T_ERROR:
            return None, None
        self.assertEqual((t, rid), (T_FILE, fid))
        self.assertTrue(flags & F_MORE)
        e = entry(body)
        data = bytearray()
        while True:
            t, flags, rid, body = c.recv()
            self.assertEqual(rid, fid)
            if t == T_END:
                self.assertFalse(flags & F_MORE)
                break
            self.assertEqual(t, T_DATA)
            data += body
        return e, bytes(data)

    def test_store_round_trip_sizes(self):
        c = Raw(self.pixd.addr())
        for size in (0, 1, 1 << 20, (3 << 20) + 17):
            data = os.urandom(size)
            t, rid, body = self.put(c, f"blob {size}.bin", data)
            self.assertEqual(t, T_STORED, body)
            e = entry(body)
            self.assertEqual(e["name"], f"blob_{size}.bin")
            self.assertEqual(e["size"], size)
            self.assertEqual(e["sha256"], hashlib.sha256(data).hexdigest())
            got_e, got = self.get(c, e["name"])
            self.assertEqual(got, data)
            self.assertEqual(got_e["sha256"], e["sha256"])
        self.assertEqual(sorted(os.listdir(os.path.join(self.pixd.store, ".tmp"))), [])

    def test_store_body_in_pieces_read_straight_into_the_decoder(self):
        # A sender slower than pixd: each 1 MiB DATA frame arrives in three
        # pieces, and a PING on another connection answered in between
        # proves that pixd has read the piece before the next one comes.
        # The rest of a frame is then read into the decoder's own buffer
        # (handler->window), not through the shared read buffer; the hash
        # check says whether every byte landed where it belongs.
        data = os.urandom((3 << 20) + 4099)
        wire = put_frames(1, "pieces.bin", data, chunk=1 << 20)
        c, probe = Raw(self.pixd.addr()), Raw(self.pixd.addr())
        at, ping, sizes = 0, 0, (70000, 600000, 400000)
        while at < len(wire):
            end = min(at + sizes[ping % 3], len(wire))
            c.send(wire[at:end])
            at = end
            ping += 1
            probe.send(frame(T_PING, fid=ping))
            self.assertEqual(probe.recv()[:3:2], (T_PONG, ping))
        t, _, rid, body = c.recv()
        self.assertEqual((t, rid), (T_STORED, 1), body)
        self.assertEqual(entry(body)["sha256"], hashlib.sha256(data).hexdigest())
        with open(os.path.join(self.pixd.store, "pieces.bin"), "rb") as f:
            self.assertEqual(f.read(), data)

    def test_store_sha_in_put(self):
        c = Raw(self.pixd.addr())
        t, _, body = self.put(c, "a.bin", b"abc", sha_in_put=True)
        self.assertEqual(t, T_STORED)

    def test_store_list_and_stat_with_dimensions(self):
        c = Raw(self.pixd.addr())
        self.assertEqual(self.put(c, "grey.png", png_bytes(33, 7))[0], T_STORED)
        self.assertEqual(self.put(c, "note.txt", b"hello", fid=3)[0], T_STORED)
        c.send(frame(T_LIST, fid=4))
        t, flags, rid, body = c.recv()
        self.assertEqual((t, rid, flags & F_MORE), (T_LIST_REPLY, 4, 0))
        entries = [entry(v) for tag, v in parse_fields(body) if tag == TAG_ENTRY]
        self.assertEqual([e["name"] for e in entries], ["grey.png", "note.txt"])
        png = entries[0]
        self.assertEqual((png["type"], png["width"], png["height"]), ("png", 33, 7))
        self.assertEqual(entries[1]["type"], "data")
        c.send(frame(T_STAT, field(TAG_NAME, "grey.png"), fid=5))
        t, _, rid, body = c.recv()
        self.assertEqual((t, rid), (T_STAT_REPLY, 5))
        self.assertEqual(entry(body)["sha256"], hashlib.sha256(png_bytes(33, 7)).hexdigest())

    def test_store_file_placed_by_hand_is_described(self):
        with open(os.path.join(self.pixd.store, "byhand.png"), "wb") as f:
            f.write(png_bytes(5, 6))
        c = Raw(self.pixd.addr())
        c.send(frame(T_STAT, field(TAG_NAME, "byhand.png"), fid=1))
        e = entry(c.recv()[3])
        self.assertEqual((e["width"], e["height"], e["size"]), (5, 6, len(png_bytes(5, 6))))

    def test_store_delete(self):
        c = Raw(self.pixd.addr())
        self.put(c, "gone.bin", b"x")
        c.send(frame(T_DELETE, field(TAG_NAME, "gone.bin"), fid=2))
        t, _, rid, body = c.recv()
        self.assertEqual((t, rid), (T_DELETED, 2))
        self.assertFalse(os.path.exists(os.path.join(self.pixd.store, "gone.bin")))
        c.send(frame(T_DELETE, field(TAG_NAME, "gone.bin"), fid=3))
        self.assertEqual(c.recv_error()[:2], (3, E_NOTFOUND))

    def test_store_bad_names_refused(self):
        c = Raw(self.pixd.addr())
        for i, name in enumerate(("../etc/passwd", "a/b", ".hidden", "..", "", "x" * 201,
                                  "tab\there", "-rf", "a\\b"), start=1):
            c.send(put_frames(i, name, b"data"))
            fid, code, msg = c.recv_error()
            self.assertEqual((fid, code), (i, E_INVALID), name)
            self.assertTrue(msg, name)
        c.send(frame(T_GET, field(TAG_NAME, "../../etc/passwd"), fid=50))
        self.assertEqual(c.recv_error()[1], E_INVALID)
        # The connection still works.
        self.assertEqual(self.put(c, "fine.bin", b"ok", fid=51)[0], T_STORED)
        self.assertEqual(sorted(os.listdir(self.pixd.store)), [".meta", ".tmp", "fine.bin"])

    def test_store_hash_mismatch_refused_nothing_visible(self):
        c = Raw(self.pixd.addr())
        fid, code, msg = (lambda r: r)(self.put_err(c, "bad.bin", os.urandom(70000),
                                                    sha=b"\0" * 32))
        self.assertEqual(code, E_INTEGRITY)
        self.assertIn("SHA-256", msg)
        self.assertFalse(os.path.exists(os.path.join(self.pixd.store, "bad.bin")))
        wait_until(lambda: os.listdir(os.path.join(self.pixd.store, ".tmp")) == [],
                   what="temporary file removed")

    def put_err(self, c, name, data, fid=1, **kw):
        c.send(put_frames(fid, name, data, **kw))
        return c.recv_error()

    def test_store_size_mismatch_refused(self):
        c = Raw(self.pixd.addr())
        data = b"12345"
        # Announce 10 bytes, send 5 and END.
        c.send(frame(T_PUT, field(TAG_NAME, "short.bin") + field(TAG_SIZE, 10), fid=1,
                     flags=F_MORE) + frame(T_DATA, data, fid=1, flags=F_MORE) +
               frame(T_END, field(TAG_SHA256, hashlib.sha256(data).digest()), fid=1))
        self.assertEqual(c.recv_error()[1], E_INTEGRITY)
        # Announce 2 bytes, send 5.
        c.send(put_frames(2, "long.bin", data)[:0] +
               frame(T_PUT, field(TAG_NAME, "long.bin") + field(TAG_SIZE, 2), fid=2,
                     flags=F_MORE) + frame(T_DATA, data, fid=2, flags=F_MORE))
        self.assertEqual(c.recv_error()[:2], (2, E_INTEGRITY))
        self.assertEqual(os.listdir(self.pixd.store), sorted([".meta", ".tmp"]) and
                         os.listdir(self.pixd.store))
        self.assertNotIn("long.bin", os.listdir(self.pixd.store))
        self.assertNotIn("short.bin", os.listdir(self.pixd.store))

    def test_store_dropped_connection_leaves_nothing(self):
        c = Raw(self.pixd.addr())
        data = os.urandom(2 << 20)
        frames = put_frames(1, "half.bin", data)
        c.send(frames[:len(frames) // 2])
        wait_until(lambda: os.listdir(os.path.join(self.pixd.store, ".tmp")),
                   what="upload in progress")
        c.close()
        wait_until(lambda: os.listdir(os.path.join(self.pixd.store, ".tmp")) == [],
                   what="temporary file removed after disconnect")
        self.assertNotIn("half.bin", os.listdir(self.pixd.store))

    def test_store_concurrent_same_name_one_wins_whole(self):
        a, b = os.urandom(3 << 20), os.urandom(3 << 20)
        ca, cb = Raw(self.pixd.addr()), Raw(self.pixd.addr())
        fa, fb = put_frames(1, "same.bin", a), put_frames(1, "same.bin", b)
        ta = threading.Thread(target=ca.send, args=(fa,))
        tb = threading.Thread(target=cb.send, args=(fb,))
        ta.start(); tb.start(); ta.join(); tb.join()
        self.assertEqual(ca.recv()[0], T_STORED)
        self.assertEqual(cb.recv()[0], T_STORED)
        with open(os.path.join(self.pixd.store, "same.bin"), "rb") as f:
            self.assertIn(f.read(), (a, b))

    def test_store_get_missing(self):
        c = Raw(self.pixd.addr())
        c.send(frame(T_GET, field(TAG_NAME, "nope.jpg"), fid=9))
        fid, code, msg = c.recv_error()
        self.assertEqual((fid, code), (9, E_NOTFOUND))
        self.assertIn("pixctl ls", msg)

    def test_store_duplicate_request_id(self):
        c = Raw(self.pixd.addr())
        c.send(frame(T_PUT, field(TAG_NAME, "d.bin") + field(TAG_SIZE, 4), fid=7, flags=F_MORE))
        c.send(frame(T_PUT, field(TAG_NAME, "e.bin") + field(TAG_SIZE, 4), fid=7, flags=F_MORE))
        self.assertEqual(c.recv_error()[:2], (7, E_DUPID))

    def test_store_cancel_removes_temporary(self):
        c = Raw(self.pixd.addr())
        c.send(frame(T_PUT, field(TAG_NAME, "c.bin") + field(TAG_SIZE, 1 << 20), fid=3,
                     flags=F_MORE) + frame(T_DATA, b"x" * 1000, fid=3, flags=F_MORE))
        wait_until(lambda: os.listdir(os.path.join(self.pixd.store, ".tmp")), what="upload")
        c.send(frame(T_CANCEL, fid=3))
        wait_until(lambda: os.listdir(os.path.join(self.pixd.store, ".tmp")) == [],
                   what="temporary file removed after CANCEL")
        c.send(frame(T_PING, fid=4))
        self.assertEqual(c.recv()[:3], (T_PONG, 0, 4))

    def test_store_cancel_while_waiting_for_the_disk_keeps_reading(self):
        # An upload's chunks pile up while its first write runs: past 2 MiB
        # (BUFFER_HIGH) pixd stops reading the connection until the disk
        # catches up. Sent at once, 34 chunks of 64 KiB cross that line in
        # one read pass, and the CANCEL right behind the last is handled
        # while reading is stopped: the connection must read on.
        chunk = 64 << 10
        for i in range(5):
            c = Raw(self.pixd.addr())
            fid = 10 + i
            head = frame(T_PUT, field(TAG_NAME, f"held{i}.bin") + field(TAG_SIZE, 64 << 20),
                         fid=fid, flags=F_MORE)
            data = b"".join(frame(T_DATA, os.urandom(chunk), fid=fid, flags=F_MORE)
                            for _ in range(34))
            c.send(head + data + frame(T_CANCEL, fid=fid))
            # The PING comes later, on its own: it is read only if reading
            # went on after the CANCEL.
            probe = Raw(self.pixd.addr())
            probe.send(frame(T_PING, fid=1))
            self.assertEqual(probe.recv()[0], T_PONG)
            probe.close()
            c.send(frame(T_PING, fid=99))
            t, _, rid, _ = c.recv()
            while rid == fid:  # anything about the cancelled upload comes first
                t, _, rid, _ = c.recv()
            self.assertEqual((t, rid), (T_PONG, 99))
            c.close()
        wait_until(lambda: os.listdir(os.path.join(self.pixd.store, ".tmp")) == [],
                   what="temporary files removed after CANCEL")

    def test_store_quota(self):
        p = self.start("--max-store", "100K", "--max-upload", "60K")
        c = Raw(p.addr())
        fid, code, msg = self.put_err(c, "big.bin", os.urandom(61 << 10))
        self.assertEqual(code, E_TOOBIG)
        self.assertIn("--max-upload", msg)
        self.assertEqual(self.put(c, "a.bin", os.urandom(50 << 10), fid=2)[0], T_STORED)
        fid, code, msg = self.put_err(c, "b.bin", os.urandom(51 << 10), fid=3)
        self.assertEqual(code, E_NOSPACE)
        self.assertIn("--max-store", msg)
        # Replacing is counted once the old file is gone; deleting frees space.
        c.send(frame(T_DELETE, field(TAG_NAME, "a.bin"), fid=4))
        self.assertEqual(c.recv()[0], T_DELETED)
        self.assertEqual(self.put(c, "b.bin", os.urandom(51 << 10), fid=5)[0], T_STORED)

    def test_store_verify_images(self):
        p = self.start("--verify-images")
        c = Raw(p.addr())
        fid, code, msg = self.put_err(c, "fake.jpg", b"just text, not a picture")
        self.assertEqual(code, E_INVALID)
        self.assertIn("--verify-images", msg)
        self.assertNotIn("fake.jpg", os.listdir(p.store))
        self.assertEqual(self.put(c, "ok.png", png_bytes(4, 4), fid=2)[0], T_STORED)

    def test_store_disk_full_mid_upload(self):
        import subprocess
        import tempfile
        mnt = tempfile.mkdtemp(prefix="pixd-full-")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest(f"cannot mount a small tmpfs here: {r.stderr.strip()}")
        self.addCleanup(lambda: subprocess.run(["umount", "-l", mnt]))
        p = self.start(store=mnt)
        c = Raw(p.addr())
        fid, code, msg = self.put_err(c, "huge.bin", os.urandom(3 << 20))
        self.assertEqual((fid, code), (1, E_NOSPACE))
        wait_until(lambda: os.listdir(os.path.join(mnt, ".tmp")) == [],
                   what="partial upload removed after ENOSPC")
        self.assertNotIn("huge.bin", os.listdir(mnt))
        # Still serving, and a file that fits is stored.
        self.assertEqual(self.put(c, "small.bin", b"fits", fid=2)[0], T_STORED)

    def test_store_kill9_mid_upload_then_restart_cleans(self):
        store = self.pixd.store
        c = Raw(self.pixd.addr())
        frames = put_frames(1, "k.bin", os.urandom(4 << 20))
        c.send(frames[:len(frames) // 2])
        wait_until(lambda: os.listdir(os.path.join(store, ".tmp")), what="upload in progress")
        self.pixd.proc.kill()
        self.pixd.proc.wait()
        p = self.start(store=store)
        self.assertEqual(os.listdir(os.path.join(store, ".tmp")), [])
        self.assertNotIn("k.bin", os.listdir(store))
        self.assertIn("unfinished upload", p.log())

    def test_store_sigterm_mid_upload_exits_clean(self):
        store = self.pixd.store
        c = Raw(self.pixd.addr())
        frames = put_frames(1, "t.bin", os.urandom(2 << 20))
        c.send(frames[:len(frames) // 2])
        wait_until(lambda: os.listdir(os.path.join(store, ".tmp")), what="upload in progress")
        self.assertEqual(self.pixd.stop(signal.SIGTERM), 0)
        self.assertEqual(os.listdir(os.path.join(store, ".tmp")), [])
        self.assertNotIn("t.bin", os.listdir(store))


if __name__ == "__main__":
    unittest.main()
