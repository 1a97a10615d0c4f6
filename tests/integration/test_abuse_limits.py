"""Abuse limits: new connections a second per host (--conn-rate) and
image jobs in flight per native connection (--max-client-jobs)."""
import time

from pixdtest import *  # noqa: F401,F403

T_RESIZE = 0x20
TAG_WIDTH_ = 35
E_BUSY = 7


class ConnRate(PixdTestCase):
    pixd_args = ("--conn-rate", "1")

    def test_conn_rate_per_host(self):
        a = Raw(self.pixd.addr(), source="127.0.0.8")
        # The second connection from that host within a second is refused...
        t0 = time.monotonic()
        b = Raw(self.pixd.addr(), hello=False, source="127.0.0.8")
        if time.monotonic() - t0 < 0.9:
            fid, code, msg = b.recv_error()
            self.assertEqual((fid, code), (0, E_LIMIT))
            self.assertTrue(b.closed())
            self.assertIn("--conn-rate 1", self.pixd.log())
        # ...not one from another host, nor the established one.
        Raw(self.pixd.addr(), source="127.0.0.9")
        a.send(frame(T_PING, fid=1))
        self.assertEqual(a.recv()[0], T_PONG)

        def accepted_again():
            try:
                Raw(self.pixd.addr(), source="127.0.0.8").close()
                return True
            except (AssertionError, EOFError, ConnectionError):
                return False
        wait_until(accepted_again, timeout=5, what="the host's budget to refill")


class ClientJobs(PixdTestCase):
    pixd_args = ("--max-client-jobs", "2")

    def resize_start(self, c, fid):
        # RESIZE announcing an image that is not sent yet: the job stays in
        # flight, waiting for its DATA.
        c.send(frame(T_RESIZE, field(TAG_SIZE, 1000) + field(TAG_WIDTH_, 10), fid=fid,
                     flags=F_MORE))

    def test_client_jobs_capped_per_connection(self):
        c = Raw(self.pixd.addr())
        self.resize_start(c, 1)
        self.resize_start(c, 2)
        self.resize_start(c, 3)
        fid, code, msg = c.recv_error()
        self.assertEqual((fid, code), (3, E_BUSY))
        self.assertIn("--max-client-jobs", msg)
        # Another connection has its own budget.
        d = Raw(self.pixd.addr())
        self.resize_start(d, 1)
        d.send(frame(T_PING, fid=2))
        self.assertEqual(d.recv()[:3:2], (T_PONG, 2))
        # Cancelling one frees a slot.
        c.send(frame(T_CANCEL, fid=1))
        self.resize_start(c, 4)
        c.send(frame(T_PING, fid=5))
        self.assertEqual(c.recv()[:3:2], (T_PONG, 5))
