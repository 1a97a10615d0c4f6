"""Connection limits, idle timeout, many clients at once."""
import resource
import socket
import unittest

from pixdtest import *  # noqa: F401,F403


class Limits(PixdTestCase):
    pixd_args = ("--max-connections", "3", "--max-per-host", "2", "--idle-timeout", "60")

    def test_limits_over_total_refused_others_unaffected(self):
        a = Raw(self.pixd.addr())
        b = Raw(self.pixd.addr())
        c = Raw(self.pixd.addr(), source="127.0.0.2")
        # The fourth connection, from yet another host, is over the total.
        d = Raw(self.pixd.addr(), hello=False, source="127.0.0.3")
        fid, code, msg = d.recv_error()
        self.assertEqual((fid, code), (0, E_LIMIT))
        self.assertIn("too many connections", msg)
        self.assertTrue(d.closed())
        for x in (a, b, c):
            x.send(frame(T_PING, fid=1))
            self.assertEqual(x.recv()[0], T_PONG)
        # A slot frees when a client leaves.
        a.close()

        def ping_ok():
            try:
                e = Raw(self.pixd.addr())
            except (AssertionError, EOFError, ConnectionError):
                return False
            e.close()
            return True
        wait_until(ping_ok, what="a free slot after a client left")

    def test_limits_per_host(self):
        a = Raw(self.pixd.addr())
        b = Raw(self.pixd.addr())
        c = Raw(self.pixd.addr(), hello=False)
        self.assertEqual(c.recv_error()[1], E_LIMIT)
        # Another host still gets in.
        Raw(self.pixd.addr(), source="127.0.0.2")
        a.close()
        b.close()


class IdleTimeout(PixdTestCase):
    pixd_args = ("--idle-timeout", "0.5")

    def test_idle_silent_client_is_disconnected(self):
        c = Raw(self.pixd.addr())
        fid, code, msg = c.recv_error()
        self.assertEqual((fid, code), (0, E_TIMEOUT))
        self.assertTrue(c.closed())

    def test_idle_active_client_stays(self):
        c = Raw(self.pixd.addr())
        c.sock.settimeout(0.2)
        for i in range(1, 8):  # ~1.4 s of traffic, well past the timeout
            c.send(frame(T_PING, fid=i))
            self.assertEqual(c.recv()[:3], (T_PONG, 0, i))
            try:
                c.sock.recv(1, socket.MSG_PEEK)
                self.fail("pixd sent something unasked")
            except socket.timeout:
                pass


class ManyClients(PixdTestCase):
    def test_many_thousand_connections_and_ping_answers(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
        conns = []
        for i in range(1000):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(self.pixd.addr())
            s.sendall(hello_frame())
            conns.append(s)
        for s in conns:
            self.assertEqual(s.recv(1)[0], T_WELCOME)
        r = self.pixd.pixctl("--json", "status")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r'"connections"\s*:\s*1001\b')
        r = self.pixd.pixctl("ping")
        self.assertEqual(r.returncode, 0, r.stderr)
        c = Raw(self.pixd.addr())
        for i in range(1, 50):
            c.send(frame(T_PING, fid=i))
            self.assertEqual(c.recv()[0], T_PONG)
        for s in conns:
            s.close()


if __name__ == "__main__":
    unittest.main()
