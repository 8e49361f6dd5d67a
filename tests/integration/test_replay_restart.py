"""Freshness after a restart (issue 12, item 5).  A restarted node's replay
windows start empty: the exact bytes of a peer's heartbeats captured before
the restart were accepted once more, and showed a dead peer "alive" (and,
had it been the active, "active").  Now a peer's messages count only once
one echoes a seq this node sent after it started; the captured ones echo
nothing of the new incarnation and are dropped as "unfresh"."""
import datetime
import os
import signal
import time

import pytest

import vgtopo

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


def _log_since_last_start(t, name):
    with open(t.log_path(name), errors="replace") as f:
        lines = f.read().splitlines()
    starts = [i for i, ln in enumerate(lines) if "starting: node" in ln]
    assert starts, "%s: no start in its log" % name
    return lines[starts[-1]:]


@pytest.fixture
def long_d3(tmp_path_factory):
    """A 3-node cluster of its own at h = 50 ms, D = 500 ms (10h)."""
    t = vgtopo.build_topology(vgtopo.three_nodes(dead_time=500),
                              tmp_path_factory.mktemp("ld3"))
    yield t
    errs = t.teardown()
    assert not errs, "teardown of %s: %s" % (t.tag, errs)


def _stamp(line):
    """The wall-clock seconds of a log line's ISO stamp."""
    ts = line.split()[0].rstrip("Z")
    return datetime.datetime.fromisoformat(ts).replace(
        tzinfo=datetime.timezone.utc).timestamp()


def test_restarted_voter_counts_from_its_last_send(long_d3):
    """A voter killed (SIGKILL) and restarted later than D votes sooner:
    its last send, kept in shared memory across the restart (agent/
    lastsend.c), is where rule (1) counts from, not its start, once it has
    listened 2h.  The active left alone (both others killed) wins again
    with the restarted node's vote less than D after that node's start;
    before, the restarted node refused every request for D after its
    start (at D = 10h, 500 ms against 2h, 100 ms).  A clean stop keeps the
    record: the next start reads it too."""
    t = long_d3
    d = t.topo.dead_time / 1000.0
    names = ["n1", "n2", "n3"]
    act, _, _ = vgtopo.wait_one_active(t, names, 8.0, "the fresh cluster")
    others = [n for n in names if n != act]
    for n in others:
        t.stop(n, sig=signal.SIGKILL)
    ok, _ = wait_until(lambda: t.status(act)["node"]["state"] != "active",
                       3.0, step=0.02)
    assert ok, "%s stayed active alone" % act
    # past the four candidacy waits after which the lone node no longer
    # waits for a voter's start (election.c, voters_quiet): it asks as
    # soon as it sees the restarted one
    time.sleep(5 * d)
    back = others[0]
    t.start(back)
    vgtopo.wait_one_active(t, [act, back], 5.0, "%s back" % back)
    lines = _log_since_last_start(t, back)
    said = [ln for ln in lines if "this node last sent" in ln]
    assert said, "%s's start did not read its last send:\n%s" % (
        back, "\n".join(lines[:20]))
    ms = int(said[0].split("last sent ")[1].split(" ms")[0])
    assert ms >= 5 * t.topo.dead_time, said[0]
    t_start = _stamp(lines[0])
    won = [ln for n in (act, back) for ln in _log_since_last_start(t, n)
           if "won the election" in ln and _stamp(ln) >= t_start]
    assert won, "no election won after %s's start" % back
    took = min(_stamp(ln) for ln in won) - t_start
    assert took < d, (
        "the election took %.0f ms after %s's start: it waited D (%.0f ms)"
        % (took * 1000, back, d * 1000))
    # a clean stop keeps it (its RELEASE was its last send): the next
    # start reads it too
    t.stop(back)
    shm = t.lastsend_path(back)
    assert shm and os.path.exists(shm), "no record after a clean stop"
    t.start(back)
    lines = _log_since_last_start(t, back)
    said = [ln for ln in lines if "this node last sent" in ln]
    assert said, "a start after a clean stop read no last send:\n%s" % (
        "\n".join(lines[:20]))
