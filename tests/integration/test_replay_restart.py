"""Freshness after a restart (issue 12, item 5).  A restarted node's replay
windows start empty: the exact bytes of a peer's heartbeats captured before
the restart were accepted once more, and showed a dead peer "alive" (and,
had it been the active, "active").  Now a peer's messages count only once
one echoes a seq this node sent after it started; the captured ones echo
nothing of the new incarnation and are dropped as "unfresh"."""
import signal

from test_heartbeat import N1, N2, K, send_and_barrier, wait_all_alive
from vgtopo import peers_by_name, wait_until


def test_replay_after_restart_refused(fresh3):
    t = fresh3
    wait_all_alive(t)
    cap = t.vgwire("n1", "sniff", {"iface": "eth0", "src": N2, "dst": N1,
                                   "dport": t.topo.port, "count": K,
                                   "timeout": 2.0})
    assert len(cap["packets"]) == K, cap
    packets = [{"raw": c["payload"]} for c in cap["packets"]]
    # n2 goes away; n1 restarts and forgets every window
    t.stop("n2")
    t.stop("n1")
    t.start("n1")
    ok, _ = wait_until(lambda: peers_by_name(t.status("n1"))["n3"]["alive"],
                       3.0, step=0.05)
    assert ok, "n1 does not see n3 after its restart"
    before, after = send_and_barrier(t, "n2", N2, packets)
    pa = peers_by_name(after)["n2"]
    assert pa["alive"] is False, (
        "n1 took n2's heartbeats captured before its restart: %s" % pa)
    got = after["drops"]["unfresh"] - before["drops"]["unfresh"]
    assert got == K, "drops.unfresh rose by %d, not %d: %s" % (
        got, K, after["drops"])
    assert after["counters"]["rx_accepted"] >= before["counters"][
        "rx_accepted"]
    # n3, which heard n1 after its start, counts as before
    assert peers_by_name(after)["n3"]["alive"] is True
