"""Access keys (--keys): the native handshake, permissions on every message
and HTTP route, replay, brute force, SIGHUP reload, and the rules around
the keys file. The client side of the handshake is computed here from
pixd-protocol(7) with Python's hmac, independently of libpixproto."""
import hashlib
import hmac
import http.client
import os
import signal
import struct
import subprocess
import tempfile
import unittest

from pixdtest import *  # noqa: F401,F403

T_AUTH, T_AUTHED = 0x0a, 0x0b
T_RESIZE, T_RESIZED = 0x20, 0x21
T_CAMS, T_CAMS_REPLY, T_WATCH, T_FRAME, T_SNAP, T_PUSH, T_PUSHING = range(0x30, 0x37)
TAG_CHALLENGE, TAG_KEY_NAME, TAG_CLIENT_NONCE, TAG_AUTH_MAC, TAG_SERVER_MAC, TAG_PERMS = \
    80, 81, 82, 83, 84, 85
TAG_PID, TAG_SOURCE = 23, 46
E_AUTH, E_DENIED = 11, 12

SECRETS = {
    "boss": "boss-0123456789abcdef",
    "reader": "reader-0123456789abcdef",
    "writer": "writer-0123456789abcdef",
}
KEYS = ("# test keys\n"
        f"boss {SECRETS['boss']} read,write,admin\n"
        "\n"
        f"reader {SECRETS['reader']} read\n"
        f"writer {SECRETS['writer']} write\n")


def write_keys(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def mac(secret, label, version, challenge, nonce, name):
    msg = (label + struct.pack(">I", version) + challenge + nonce +
           struct.pack(">H", len(name)) + name.encode())
    return hmac.new(secret.encode(), msg, hashlib.sha256).digest()


def welcome_challenge(c):
    """HELLO, and the challenge from WELCOME (None when no key is needed)."""
    c.send(hello_frame())
    t, _, _, body = c.recv()
    assert t == T_WELCOME, t
    return dict(parse_fields(body)).get(TAG_CHALLENGE)


def auth_frame(name, secret, challenge, nonce=None):
    nonce = nonce or os.urandom(32)
    body = (field(TAG_KEY_NAME, name) + field(TAG_CLIENT_NONCE, nonce) +
            field(TAG_AUTH_MAC, mac(secret, b"pixd-auth-1 client", 1, challenge, nonce, name)))
    return frame(T_AUTH, body), nonce


def connect(addr, name=None, secret=None, source=None):
    """A raw connection, authenticated as name when given."""
    c = Raw(addr, hello=False, source=source)
    challenge = welcome_challenge(c)
    if name:
        f, nonce = auth_frame(name, secret or SECRETS[name], challenge)
        c.send(f)
        t, _, fid, body = c.recv()
        assert (t, fid) == (T_AUTHED, 0), (t, body)
        fields = dict(parse_fields(body))
        want = mac(secret or SECRETS[name], b"pixd-auth-1 server", 1, challenge, nonce, name)
        assert fields[TAG_SERVER_MAC] == want, "server proof"
        c.perms = fields[TAG_PERMS].decode()
    return c


# One request of every kind a client can start, with what it needs.
def requests():
    return {
        "status": (T_STATUS, b"", 0),
        "get": (T_GET, field(TAG_NAME, "nope.jpg"), E_NOTFOUND),
        "list": (T_LIST, b"", 0),
        "stat": (T_STAT, field(TAG_NAME, "nope.jpg"), E_NOTFOUND),
        "cams": (T_CAMS, b"", 0),
        "snap": (T_SNAP, field(TAG_NAME, "cam"), 0),
        "watch": (T_WATCH, field(TAG_NAME, "cam") + field(TAG_FRAMES, 1), 0),
        "delete": (T_DELETE, field(TAG_NAME, "nope.jpg"), E_NOTFOUND),
        "resize": (T_RESIZE, field(TAG_SOURCE, "nope.jpg") + field(TAG_WIDTH, 10), E_NOTFOUND),
        "push": (T_PUSH, field(TAG_NAME, "pushed"), 0),
        "put": (T_PUT, b"", 0),
    }


TAG_FRAMES = 64
NEEDS = {"status": None, "get": "read", "list": "read", "stat": "read", "cams": "read",
         "snap": "read", "watch": "read", "delete": "write", "resize": "write",
         "push": "write", "put": "write"}


class AuthNative(PixdTestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pixd-keys-")
        self.keys = os.path.join(self.dir, "keys")
        write_keys(self.keys, KEYS)
        self.pixd = self.start("--keys", self.keys, "--camera", "cam=test",
                               listen=("native=127.0.0.1:0", "http=127.0.0.1:0"))

    def tearDown(self):
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)

    def first_reply(self, c, fid, t, body):
        if t == T_PUT:
            # A whole upload: PUT, DATA, END.
            c.send(put_frames(fid, f"up{fid}.bin", b"payload"))
        else:
            c.send(frame(t, body, fid=fid))
        while True:
            rt, _, rid, rbody = c.recv()
            if rid != fid:
                continue
            if rt == T_ERROR:
                return rt, struct.unpack(">Q", dict(parse_fields(rbody))[TAG_CODE])[0]
            return rt, 0

    def test_auth_welcome_has_challenge_ping_open(self):
        c = Raw(self.pixd.addr(), hello=False)
        ch1 = welcome_challenge(c)
        self.assertEqual(len(ch1), 32)
        c.send(frame(T_PING, b"hi", fid=1))
        self.assertEqual(c.recv()[0], T_PONG)
        d = Raw(self.pixd.addr(), hello=False)
        self.assertNotEqual(welcome_challenge(d), ch1)

    def test_auth_every_message_refused_without_key(self):
        c = connect(self.pixd.addr())
        fid = 1
        for name, (t, body, _) in requests().items():
            if t == T_PUT:
                # Refused at PUT, before any DATA is sent.
                c.send(frame(T_PUT, field(TAG_NAME, "x.bin") + field(TAG_SIZE, 1), fid=fid,
                             flags=F_MORE))
                self.assertEqual(c.recv_error()[:2], (fid, E_AUTH))
            else:
                self.assertEqual(self.first_reply(c, fid, t, body), (T_ERROR, E_AUTH), name)
            fid += 1
        for t in (T_DATA, T_END, T_CANCEL, T_FRAME, 0x77):
            c.send(frame(t, b"", fid=fid))
            rid, code, msg = c.recv_error()
            self.assertEqual((rid, code), (fid, E_AUTH), t)
            fid += 1
        self.assertIn("--key", msg)
        # Still connected: the client may yet authenticate.
        c.send(frame(T_PING, fid=fid))
        self.assertEqual(c.recv()[0], T_PONG)

    def test_auth_wrong_key_refused_and_closed(self):
        for name, secret in (("boss", "boss-wrong-secret-000"), ("nobody", "whatever-0123456789")):
            c = Raw(self.pixd.addr(), hello=False)
            ch = welcome_challenge(c)
            c.send(auth_frame(name, secret, ch)[0])
            fid, code, msg = c.recv_error()
            self.assertEqual((fid, code), (0, E_AUTH))
            self.assertIn("authentication failed", msg)
            self.assertTrue(c.closed())

    def test_auth_permissions_per_message(self):
        for key in ("reader", "writer", "boss"):
            c = connect(self.pixd.addr(), key)
            fid = 1
            for name, (t, body, ok_code) in requests().items():
                need = NEEDS[name]
                rt, code = self.first_reply(c, fid, t, body)
                if need is None or need in c.perms.split(","):
                    self.assertNotIn(code, (E_AUTH, E_DENIED), f"{key} {name}")
                    self.assertEqual(code, ok_code, f"{key} {name}")
                else:
                    self.assertEqual((rt, code), (T_ERROR, E_DENIED), f"{key} {name}")
                if t in (T_WATCH, T_PUSH):
                    c.send(frame(T_CANCEL, fid=fid))
                fid += 1
            c.close()

    def test_auth_status_details_for_admin_only(self):
        for key, has_pid in (("reader", False), ("boss", True)):
            c = connect(self.pixd.addr(), key)
            c.send(frame(T_STATUS, fid=1))
            t, _, _, body = c.recv()
            self.assertEqual(t, T_STATUS_REPLY)
            self.assertEqual(TAG_PID in dict(parse_fields(body)), has_pid, key)

    def test_auth_replayed_handshake_refused(self):
        c = Raw(self.pixd.addr(), hello=False)
        ch = welcome_challenge(c)
        captured, _ = auth_frame("boss", SECRETS["boss"], ch)
        c.send(captured)
        self.assertEqual(c.recv()[0], T_AUTHED)
        # The same bytes on a new connection answer the wrong challenge.
        d = Raw(self.pixd.addr(), hello=False)
        welcome_challenge(d)
        d.send(captured)
        self.assertEqual(d.recv_error()[:2], (0, E_AUTH))
        self.assertTrue(d.closed())
        # And a second AUTH on the first connection is refused too.
        c.send(captured)
        self.assertEqual(c.recv_error()[:2], (0, E_AUTH))

    def test_auth_brute_force_slowed_per_host(self):
        fails = 0
        while True:
            c = Raw(self.pixd.addr(), hello=False, source="127.0.0.5")
            ch = welcome_challenge(c)
            c.send(auth_frame("boss", f"guess-{fails:016d}", ch)[0])
            _, code, msg = c.recv_error()
            self.assertEqual(code, E_AUTH)
            if "too many" in msg:
                break
            fails += 1
            self.assertLess(fails, 20, "failures never slowed down")
        self.assertEqual(fails, 5)
        self.assertIn("try again in", msg)
        # Even the right key waits now, from that host...
        c = Raw(self.pixd.addr(), hello=False, source="127.0.0.5")
        ch = welcome_challenge(c)
        c.send(auth_frame("boss", SECRETS["boss"], ch)[0])
        self.assertIn("too many", c.recv_error()[2])
        # ...and over HTTP; other hosts are not affected.
        host, port = self.pixd.addr("http")
        h = http.client.HTTPConnection(host, port, timeout=10, source_address=("127.0.0.5", 0))
        h.request("GET", "/api/v1/images",
                  headers={"Authorization": f"Bearer boss:{SECRETS['boss']}"})
        r = h.getresponse()
        self.assertEqual(r.status, 429)
        self.assertIn(b"too many failed", r.read())
        h.close()
        self.assertEqual(connect(self.pixd.addr(), "boss", source="127.0.0.6").perms,
                         "read,write,admin")

    def test_auth_sighup_reload_good_and_bad(self):
        reader = connect(self.pixd.addr(), "reader")
        writer = connect(self.pixd.addr(), "writer")
        # A good file: reader may now write; writer is gone.
        write_keys(self.keys, KEYS.replace("read\n", "read,write\n").replace(
            f"writer {SECRETS['writer']} write\n", ""))
        self.pixd.send_signal(signal.SIGHUP)
        wait_until(lambda: "SIGHUP: 2 key(s) loaded" in self.pixd.log(), what="reload")
        rt, code = self.first_reply(reader, 1, T_DELETE, field(TAG_NAME, "nope.jpg"))
        self.assertEqual(code, E_NOTFOUND)
        rt, code = self.first_reply(writer, 1, T_DELETE, field(TAG_NAME, "nope.jpg"))
        self.assertEqual(code, E_DENIED)
        with self.assertRaises(AssertionError):
            connect(self.pixd.addr(), "writer")
        # A bad file: the keys loaded before stay.
        write_keys(self.keys, "boss tooshort admin\n")
        self.pixd.send_signal(signal.SIGHUP)
        wait_until(lambda: "keeping the 2 key(s)" in self.pixd.log(), what="bad reload")
        self.assertIn("line 1:", self.pixd.log())
        self.assertEqual(connect(self.pixd.addr(), "reader").perms, "read,write")
        # Connections were not dropped.
        reader.send(frame(T_PING, fid=9))
        self.assertEqual(reader.recv()[0], T_PONG)

    def test_auth_pixctl_key_file_and_env(self):
        keyfile = os.path.join(self.dir, "reader.key")
        write_keys(keyfile, f"reader:{SECRETS['reader']}\n")
        r = self.pixd.pixctl("--key", keyfile, "ls")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.pixd.pixctl("--key", keyfile, "rm", "x.jpg")
        self.assertEqual(r.returncode, 1)
        self.assertIn("write permission", r.stderr)
        r = self.pixd.pixctl("ls")
        self.assertEqual(r.returncode, 1)
        self.assertIn("--key FILE or PIXD_KEY", r.stderr)
        r = self.pixd.pixctl("ping", "-c", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        os.chmod(keyfile, 0o644)
        r = self.pixd.pixctl("--key", keyfile, "ls")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("chmod 600", r.stderr)
        env = dict(os.environ, PIXD_KEY=f"boss:{SECRETS['boss']}")
        a = self.pixd.addr()
        r = subprocess.run([PIXCTL, "--host", a[0], "--port", str(a[1]), "status"],
                           capture_output=True, text=True, timeout=30, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("pid:", r.stdout)
        env["PIXD_KEY"] = "boss:wrong-secret-0000000"
        r = subprocess.run([PIXCTL, "--host", a[0], "--port", str(a[1]), "ls"],
                           capture_output=True, text=True, timeout=30, env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("authentication failed", r.stderr)

    def test_auth_no_secret_in_log(self):
        connect(self.pixd.addr(), "boss")
        c = Raw(self.pixd.addr(), hello=False)
        c.send(auth_frame("reader", SECRETS["boss"], welcome_challenge(c))[0])
        c.recv_error()
        host, port = self.pixd.addr("http")
        h = http.client.HTTPConnection(host, port, timeout=10)
        h.request("GET", "/api/v1/images", headers={"Authorization": "Bearer reader:" +
                                                    SECRETS["boss"]})
        h.getresponse().read()
        # A bare secret without NAME: must not be logged as a key name.
        h.request("GET", "/api/v1/images", headers={"Authorization": "Bearer " +
                                                    SECRETS["writer"]})
        h.getresponse().read()
        log = self.pixd.log()
        self.assertIn('authenticated as "boss"', log)
        self.assertIn("authentication failed", log)
        for s in SECRETS.values():
            self.assertNotIn(s, log)


class AuthHttp(PixdTestCase):
    # Every route, with a method and path that reach it.
    ROUTES = [
        ("GET", "/api/v1/images", "read"),
        ("GET", "/api/v1/images/nope.jpg", "read"),
        ("HEAD", "/api/v1/images/nope.jpg", "read"),
        ("PUT", "/api/v1/images/new.bin", "write"),
        ("DELETE", "/api/v1/images/nope.jpg", "write"),
        ("POST", "/api/v1/resize?width=10", "write"),
        ("GET", "/api/v1/cameras", "read"),
        ("GET", "/api/v1/cameras/cam/snapshot", "read"),
        ("GET", "/api/v1/cameras/cam/stream?frames=1", "read"),
        ("GET", "/stream?camera=cam&frames=1", "read"),
        ("GET", "/snapshot?camera=cam", "read"),
        ("GET", "/?action=snapshot&camera=cam", "read"),
        ("GET", "/api/v1/status", "admin"),
        ("GET", "/metrics", "admin"),
    ]
    OPEN = [("GET", "/healthz"), ("GET", "/"), ("GET", "/static/app.js")]

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pixd-keys-")
        self.keys = os.path.join(self.dir, "keys")
        write_keys(self.keys, KEYS)
        self.pixd = self.start("--keys", self.keys, "--camera", "cam=test",
                               listen=("http=127.0.0.1:0",))

    def tearDown(self):
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)

    def req(self, method, path, headers=None, body=None, source=None):
        host, port = self.pixd.addr("http")
        c = http.client.HTTPConnection(host, port, timeout=10,
                                       source_address=(source, 0) if source else None)
        h = dict(headers or {})
        if body is None and method in ("PUT", "POST"):
            body = b"payload"
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        # Streams: the status and headers are what is checked here.
        data = r.read(4096) if method != "HEAD" else b""
        c.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data

    def bearer(self, key, secret=None):
        return {"Authorization": f"Bearer {key}:{secret or SECRETS[key]}"}

    def test_auth_http_every_route_needs_a_key(self):
        for method, path, _ in self.ROUTES:
            status, headers, body = self.req(method, path)
            self.assertEqual(status, 401, f"{method} {path}")
            self.assertEqual(headers.get("www-authenticate"), 'Bearer realm="pixd"')
            if method != "HEAD":
                self.assertIn(b"Authorization: Bearer NAME:SECRET", body)
        for method, path in self.OPEN:
            self.assertEqual(self.req(method, path)[0], 200, path)

    def test_auth_http_wrong_key(self):
        # Each route from its own loopback address: the failures count per
        # host, and three stay under the limiter's burst.
        for i, (method, path, _) in enumerate(self.ROUTES):
            for h in (self.bearer("boss", "boss-wrong-secret-0000"),
                      self.bearer("nobody", "x" * 20), {"Authorization": "Basic Ym9zcw=="}):
                status, _, body = self.req(method, path, h, source=f"127.0.1.{i + 1}")
                self.assertEqual(status, 401, f"{method} {path} {h}")

    def test_auth_http_permission_per_route(self):
        for key in ("reader", "writer", "boss"):
            perms = {"reader": ["read"], "writer": ["write"], "boss": ["read", "write", "admin"]}[key]
            for method, path, need in self.ROUTES:
                status, _, body = self.req(method, path, self.bearer(key))
                if need in perms:
                    self.assertNotIn(status, (401, 403), f"{key} {method} {path}: {body!r}")
                else:
                    self.assertEqual(status, 403, f"{key} {method} {path}")
                    if method != "HEAD":
                        self.assertIn(b"Forbidden", body)
                        self.assertIn(need.encode(), body)

    def test_auth_http_query_and_cookie_for_reads_only(self):
        token = f"reader:{SECRETS['reader']}"
        self.assertEqual(self.req("GET", f"/api/v1/cameras/cam/snapshot?key={token}")[0], 200)
        self.assertEqual(self.req("GET", "/snapshot?camera=cam",
                                  {"Cookie": "a=b; pixd_key=" + token.replace(":", "%3A")})[0], 200)
        wtoken = f"writer:{SECRETS['writer']}"
        self.assertEqual(self.req("PUT", f"/api/v1/images/q.bin?key={wtoken}")[0], 401)
        self.assertEqual(self.req("PUT", "/api/v1/images/q.bin",
                                  {"Cookie": "pixd_key=" + wtoken})[0], 401)
        self.assertEqual(self.req("PUT", "/api/v1/images/q.bin", self.bearer("writer"))[0], 201)


class AuthStartup(unittest.TestCase):
    def run_pixd(self, *args):
        store = tempfile.mkdtemp(prefix="pixd-store-")
        try:
            return subprocess.run([PIXD, "--store", store] + list(args), capture_output=True,
                                  text=True, timeout=20)
        finally:
            import shutil
            shutil.rmtree(store, ignore_errors=True)

    def test_auth_keys_file_readable_by_others_refused(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "keys")
            for mode in (0o644, 0o640, 0o604):
                write_keys(path, KEYS, mode)
                r = self.run_pixd("--keys", path, "--listen", "native=127.0.0.1:0")
                self.assertNotEqual(r.returncode, 0)
                self.assertIn("chmod 600", r.stderr)

    def test_auth_malformed_keys_file_names_line(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "keys")
            write_keys(path, KEYS + "broken-line-without-secret\n")
            r = self.run_pixd("--keys", path, "--listen", "native=127.0.0.1:0")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("line 6:", r.stderr)
            for s in SECRETS.values():
                self.assertNotIn(s, r.stderr)

    def test_auth_non_loopback_needs_keys_or_insecure(self):
        r = self.run_pixd("--listen", "native=0.0.0.0:0")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--keys FILE", r.stderr)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "keys")
            write_keys(path, KEYS)
            p = Pixd("--keys", path, listen=("native=0.0.0.0:0",))
            try:
                self.assertTrue(p.listeners["native"][0].startswith("0.0.0.0:"))
                self.assertEqual(p.stop(), 0)
            finally:
                p.close()


if __name__ == "__main__":
    unittest.main()
