"""Cameras over the native protocol: test pattern, watch, snap, push, slow subscribers."""
import io
import os
import socket
import struct
import subprocess
import time
import unittest

from PIL import Image

from pixdtest import *  # noqa: F401,F403

T_CAMS, T_CAMS_REPLY, T_WATCH, T_FRAME, T_SNAP, T_PUSH, T_PUSHING = range(0x30, 0x37)
TAG_SOURCE, TAG_CAMERA, TAG_STATE, TAG_FPS_MILLI, TAG_SUBSCRIBERS, TAG_FRAMES = 46, 60, 61, 62, 63, 64
TAG_DROPPED, TAG_SEQ, TAG_TS_US, TAG_FPS = 66, 67, 68, 69
E_EXISTS = 19


def u64(v):
    return struct.unpack(">Q", v)[0]


def read_video_frame(c):
    """(fields dict, jpeg bytes) of the next FRAME message, or None at END."""
    t, flags, fid, body = c.recv()
    if t == T_END:
        return None
    if t == T_ERROR:
        raise AssertionError(f"ERROR {dict(parse_fields(body))}")
    assert t == T_FRAME and flags & F_MORE, (t, flags)
    fields = {tag: u64(v) for tag, v in parse_fields(body) if len(v) == 8}
    data = bytearray()
    while True:
        t, flags, fid2, body = c.recv()
        assert t == T_DATA and fid2 == fid
        data += body
        if not flags & F_MORE:
            return fields, bytes(data)


def watch(c, name, fid=1, **kw):
    body = field(TAG_NAME, name)
    for key, tag in (("fps", TAG_FPS), ("width", TAG_WIDTH), ("frames", TAG_FRAMES)):
        if key in kw:
            body += field(tag, kw[key])
    c.send(frame(T_WATCH, body, fid=fid))


def jpeg(w, h, shade=128):
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (shade, 255 - shade, 90)).save(buf, "JPEG")
    return buf.getvalue()


class Cameras(PixdTestCase):
    pixd_args = ("--camera", "demo=test,width=320,height=240,fps=20",
                 "--camera", "fast=test,width=160,height=120,fps=30")

    def test_camera_list(self):
        c = Raw(self.pixd.addr())
        c.send(frame(T_CAMS, fid=1))
        t, _, _, body = c.recv()
        self.assertEqual(t, T_CAMS_REPLY)
        cams = {}
        for tag, v in parse_fields(body):
            self.assertEqual(tag, TAG_CAMERA)
            f = dict(parse_fields(v))
            cams[f[TAG_NAME].decode()] = f
        self.assertEqual(sorted(cams), ["demo", "fast"])
        self.assertEqual(cams["demo"][TAG_SOURCE], b"test")

    def test_camera_watch_frames_increase(self):
        c = Raw(self.pixd.addr())
        watch(c, "demo", frames=6)
        seqs = []
        while True:
            got = read_video_frame(c)
            if got is None:
                break
            fields, data = got
            img = Image.open(io.BytesIO(data))
            self.assertEqual((img.format, img.size), ("JPEG", (320, 240)))
            self.assertEqual((fields[TAG_WIDTH], fields[TAG_HEIGHT]), (320, 240))
            seqs.append(fields[TAG_SEQ])
        self.assertEqual(len(seqs), 6)
        self.assertEqual(seqs, sorted(set(seqs)))

    def test_camera_fps_cap(self):
        c = Raw(self.pixd.addr())
        watch(c, "fast", fps=5, frames=6)
        t0, stamps = time.monotonic(), []
        while read_video_frame(c) is not None:
            stamps.append(time.monotonic())
        # 6 frames at <= 5 fps span at least 5 intervals of ~0.2 s (10% slack).
        self.assertGreaterEqual(stamps[-1] - stamps[0], 5 * 0.2 * 0.85)

    def test_camera_snap_and_smaller_width(self):
        c = Raw(self.pixd.addr())
        c.send(frame(T_SNAP, field(TAG_NAME, "demo"), fid=1))
        fields, data = read_video_frame(c)
        self.assertEqual(Image.open(io.BytesIO(data)).size, (320, 240))
        self.assertIsNone(read_video_frame(c))
        c.send(frame(T_SNAP, field(TAG_NAME, "demo") + field(TAG_WIDTH, 160), fid=2))
        fields, data = read_video_frame(c)
        self.assertEqual(Image.open(io.BytesIO(data)).size, (160, 120))

    def test_camera_unknown_name(self):
        c = Raw(self.pixd.addr())
        watch(c, "nope")
        fid, code, msg = c.recv_error()
        self.assertEqual(code, E_NOTFOUND)
        self.assertIn("pixctl cams", msg)

    def test_camera_stalled_subscriber_does_not_slow_others(self):
        # 30 s of a fast subscriber beside one that never reads. A small ASan
        # quarantine, so that freed frames do not look like growth.
        p = self.start("--camera", "stall=test,width=320,height=240,fps=20",
                       env={"ASAN_OPTIONS": "detect_leaks=1:quarantine_size_mb=4"})
        stalled = Raw(p.addr())
        stalled.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        watch(stalled, "stall")
        fast = Raw(p.addr())
        watch(fast, "stall", frames=600)
        rss0 = None
        t0 = time.monotonic()
        n = 0
        while read_video_frame(fast) is not None:
            n += 1
            if n == 40:
                rss0 = p.rss_kb()
        elapsed = time.monotonic() - t0
        self.assertEqual(n, 600)
        # 600 frames at 20 fps: 30 s; a stalled peer must not make it crawl.
        self.assertLess(elapsed, 40.0)
        self.assertLess(p.rss_kb() - rss0, 16 * 1024, "pixd grew while a peer stalled")
        stalled.send(frame(T_CAMS, fid=9))  # still connected, just not reading


class Linger(PixdTestCase):
    pixd_args = ("--camera", "slow=test,width=64,height=48,fps=1,linger=5")

    def test_linger_snapshot_uses_fresh_frame(self):
        c = Raw(self.pixd.addr())
        c.send(frame(T_SNAP, field(TAG_NAME, "slow"), fid=1))
        first, _ = read_video_frame(c)
        self.assertIsNone(read_video_frame(c))
        # The camera lingers and its newest frame is fresh: the next snapshot
        # is answered at once, not at the next frame a second later.
        t0 = time.monotonic()
        c.send(frame(T_SNAP, field(TAG_NAME, "slow"), fid=2))
        second, _ = read_video_frame(c)
        self.assertLess(time.monotonic() - t0, 0.25)
        self.assertGreaterEqual(second[TAG_SEQ], first[TAG_SEQ])


class AlwaysOn(PixdTestCase):
    pixd_args = ("--camera", "busy=test,width=64,height=48,fps=20,always-on=1",
                 "--camera", "quiet=test,width=64,height=48,fps=20")

    def captured(self):
        c = Raw(self.pixd.addr())
        c.send(frame(T_CAMS, fid=1))
        t, _, _, body = c.recv()
        self.assertEqual(t, T_CAMS_REPLY)
        out = {}
        for _, v in parse_fields(body):
            f = dict(parse_fields(v))
            out[f[TAG_NAME].decode()] = u64(f.get(TAG_FRAMES, bytes(8)))
        c.close()
        return out

    def test_always_on_captures_unwatched_and_others_stay_idle(self):
        # Nobody watches either camera: only the always-on one captures.
        deadline = time.monotonic() + 10
        while self.captured()["busy"] < 5:
            self.assertLess(time.monotonic(), deadline, "always-on camera never captured")
        self.assertEqual(self.captured()["quiet"], 0)

    def test_always_on_bad_value_refused(self):
        r = subprocess.run([PIXD, "--store", self.pixd.store, "--listen", "native=127.0.0.1:0",
                            "--camera", "x=test,always-on=yes"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("always-on must be 0 or 1", r.stderr)


class TimeLapse(PixdTestCase):
    pixd_args = ("--camera", "tl=test,width=64,height=48,fps=10,save-every=1")

    def test_timelapse_stores_snapshots(self):
        def saved():
            return [n for n in os.listdir(self.pixd.store) if n.startswith("tl-")]
        names = wait_until(saved, timeout=15, what="a time-lapse snapshot in the store")
        self.assertRegex(names[0], r"^tl-\d{8}-\d{6}\.jpg$")
        with open(os.path.join(self.pixd.store, names[0]), "rb") as f:
            self.assertEqual(Image.open(f).size, (64, 48))


class Push(PixdTestCase):
    def test_push_watched_by_another_client(self):
        pusher = Raw(self.pixd.addr())
        pusher.send(frame(T_PUSH, field(TAG_NAME, "remote"), fid=5))
        self.assertEqual(pusher.recv()[:3], (T_PUSHING, 0, 5))
        viewer = Raw(self.pixd.addr())
        watch(viewer, "remote", frames=3)
        viewer.send(frame(T_CAMS, fid=2))
        self.assertEqual(viewer.recv()[0], T_CAMS_REPLY)
        for i in range(3):
            data = jpeg(64, 48, shade=40 * i)
            pusher.send(frame(T_FRAME, field(TAG_SIZE, len(data)), fid=5, flags=F_MORE) +
                        frame(T_DATA, data, fid=5))
            fields, got = read_video_frame(viewer)
            self.assertEqual(got, data, "pushed JPEG passes through untouched")
            self.assertEqual((fields[TAG_WIDTH], fields[TAG_HEIGHT]), (64, 48))
        self.assertIsNone(read_video_frame(viewer))

    def test_push_name_taken_and_bad_frame(self):
        a = Raw(self.pixd.addr())
        a.send(frame(T_PUSH, field(TAG_NAME, "x"), fid=1))
        self.assertEqual(a.recv()[0], T_PUSHING)
        b = Raw(self.pixd.addr())
        b.send(frame(T_PUSH, field(TAG_NAME, "x"), fid=1))
        self.assertEqual(b.recv_error()[1], E_EXISTS)
        junk = b"not a jpeg at all"
        a.send(frame(T_FRAME, field(TAG_SIZE, len(junk)), fid=1, flags=F_MORE) +
               frame(T_DATA, junk, fid=1))
        self.assertEqual(a.recv_error()[1], E_INVALID)

    def test_push_camera_gone_when_pusher_leaves(self):
        a = Raw(self.pixd.addr())
        a.send(frame(T_PUSH, field(TAG_NAME, "brief"), fid=1))
        self.assertEqual(a.recv()[0], T_PUSHING)
        viewer = Raw(self.pixd.addr())
        watch(viewer, "brief")
        # CAMS on the same connection is answered after WATCH took effect.
        viewer.send(frame(T_CAMS, fid=2))
        self.assertEqual(viewer.recv()[0], T_CAMS_REPLY)
        a.close()
        self.assertIsNone(read_video_frame(viewer), "viewer is told the stream ended")


if __name__ == "__main__":
    unittest.main()
