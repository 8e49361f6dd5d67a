"""A key changed by reload reaches the keeper (issue 12, item 6).

The keeper signs the RELEASE it sends when its agent dies with the key it
was forked with.  After every node reloaded a new key, an old keeper's
RELEASE was dropped by the peers ("auth") and the failover after a SIGKILL
fell back to the slow path (D of silence and an election).  Now a reload
that changes the key hands the lease to a new keeper, as a change of VIPs
does: after the key roll, SIGKILL of the active's agent is followed by a
RELEASE the peers accept, and a failover well under D."""
import os
import signal
import time

import vgtopo
from vgtopo import wait_one_active, wait_until

NAMES = ("n1", "n2", "n3")
D_MS = 250


def test_keeper_takes_new_key(fo3_make):
    t = fo3_make()
    vips = t.vips
    a, _, _ = wait_one_active(t, NAMES, 3.0, "first election")
    vips.wait_holder(lambda h: h == [a], 1.0, "%s holding the VIP" % a)
    kp0 = t.status(a)["node"]["keeper_pid"]
    # roll the key: one file for all, every node reloaded
    fd = os.open(t.key_file, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(fd, "wb") as fh:
        fh.write(os.urandom(32))
    for n in NAMES:
        t.ctl(n, "reload")
    a2, sts, _ = wait_one_active(t, NAMES, 2.0, "after the key roll")
    assert a2 == a, (a, a2)
    kp = sts[a]["node"]["keeper_pid"]
    assert kp != kp0 and kp > 0, (
        "%s's keeper was not handed over on a new key (pid %d)" % (a, kp0))
    auth0 = {n: sts[n]["drops"]["auth"] for n in NAMES}

    tk = t.kill(a, signal.SIGKILL)
    t.procs[a].wait(timeout=2.0)
    rest = [n for n in NAMES if n != a]
    h, _ = vips.wait_holder(lambda h: len(h) == 1 and h[0] in rest, 2.0,
                            "a new holder after the SIGKILL of %s" % a)
    up = vips.first(h[0], "up", tk)
    assert up, "no arrival of the VIP on %s seen" % h[0]
    fo_ms = (up[2][1] - tk) * 1000
    b, sts2, _ = wait_one_active(t, rest, 2.0, "after the SIGKILL")
    accepted = sum(sts2[n]["election"]["releases_accepted"] for n in rest)
    assert accepted >= 1, "no peer accepted the new keeper's RELEASE: %s" % {
        n: (sts2[n]["election"]["releases_accepted"], sts2[n]["drops"])
        for n in rest}
    for n in rest:
        assert sts2[n]["drops"]["auth"] == auth0[n], (
            "%s dropped %d datagrams as 'auth' after the key roll" % (
                n, sts2[n]["drops"]["auth"] - auth0[n]))
    assert fo_ms < D_MS, "failover took %.1f ms: not the RELEASE path" % fo_ms
    print("key roll: keeper %d -> %d; SIGKILL of %s: VIP on %s after %.1f ms"
          % (kp0, kp, a, h[0], fo_ms))
