"""Freshness after a restart (issue 12, item 5).  A restarted node's replay
windows start empty: the exact bytes of a peer's heartbeats captured before
the restart were accepted once more, and showed a dead peer "alive" (and,
had it been the active, "active").  Now a peer's messages count only once
one echoes a seq this node sent after it started; the captured ones echo
nothing of the new incarnation and are dropped as "unfresh"."""
import os
import signal
import time

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


def _active_of(t, names):
    for n in names:
        st = t.status(n, check=False)
        if st and st["node"]["state"] == "active":
            return n
    return None


def _log_since_last_start(t, name):
    with open(t.log_path(name), errors="replace") as f:
        lines = f.read().splitlines()
    starts = [i for i, ln in enumerate(lines) if "starting: node" in ln]
    assert starts, "%s: no start in its log" % name
    return lines[starts[-1]:]


def test_restarted_voter_counts_from_its_last_send(fresh3):
    """A voter killed (SIGKILL) and restarted later than D votes at once:
    its last send, kept in shared memory across the restart (agent/
    lastsend.c), is where rule (1) counts from, not its start.  The active
    left alone (both others killed) wins again with the restarted node's
    vote, which it grants without one refusal "recent"; before, the
    restarted node refused every request for D after its start.  A clean
    stop keeps the record: the next start reads it too."""
    t = fresh3
    names = ["n1", "n2", "n3"]
    act, _ = wait_until(lambda: _active_of(t, names), 5.0, step=0.05)
    assert act, "no active in the fresh cluster"
    others = [n for n in names if n != act]
    for n in others:
        t.stop(n, sig=signal.SIGKILL)
    ok, _ = wait_until(lambda: t.status(act)["node"]["state"] != "active",
                       3.0, step=0.02)
    assert ok, "%s stayed active alone" % act
    # well past D, and past the four candidacy waits after which the lone
    # node no longer waits for a voter's start (election.c, voters_quiet):
    # it asks at once, and the restarted node used to refuse as "recent"
    time.sleep(6 * t.topo.dead_time / 1000.0)
    back = others[0]
    t.start(back)
    act2, _ = wait_until(lambda: _active_of(t, [act, back]), 5.0,
                         step=0.02)
    assert act2, "no active with %s back" % back
    st = t.status(back)
    el = st["election"]
    assert el["refused"]["recent"] == 0, (
        "%s refused a vote as 'recent' after a restart long past D: %s"
        % (back, el["refused"]))
    assert el["votes_granted"] + el["prevotes_granted"] >= 1 or \
        act2 == back, el
    lines = _log_since_last_start(t, back)
    said = [ln for ln in lines if "this node last sent" in ln]
    assert said, "%s's start did not read its last send:\n%s" % (
        back, "\n".join(lines[:20]))
    ms = int(said[0].split("last sent ")[1].split(" ms")[0])
    assert ms >= 2 * t.topo.dead_time, said[0]
    # a clean stop keeps it (its RELEASE was its last send): the next
    # start counts from there too
    t.stop(back)
    shm = t.lastsend_path(back)
    assert shm and os.path.exists(shm), "no record after a clean stop"
    t.start(back)
    lines = _log_since_last_start(t, back)
    said = [ln for ln in lines if "this node last sent" in ln]
    assert said, "a start after a clean stop read no last send:\n%s" % (
        "\n".join(lines[:20]))
