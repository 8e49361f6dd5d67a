"""A safety-relevant `vigilctl config push` through the joint configuration
(issue 14; docs/design.md "Safety-relevant changes: joint quorum"), on five
namespaces n1..n5 and a client (h = 50 ms, D = 250 ms, state on tmpfs),
with a VIP sampler on all five from before the first election.

- n1..n3 run C (three nodes, epoch 0) and elect an active A; n4 and n5
  are started with C' (all five, epoch 1): they cannot win alone (two
  votes of five) and never hold the VIP.
- C' is pushed from a standby; A is cut off (nftables, both ways) as soon
  as it has staged the file (it may have moved to J already): the others move to J without it, then to C'
  (FINAL), and elect an active among the four; A's lease lapses, and the
  sampler never sees two holders.  Healed once the coordinator's FINAL
  is no longer repeated, A moves on its own: in J already, on hearing a
  node of C at epoch 1 (FINAL seen); staged only, by catch-up (it drops
  its staging, fetches C' from a peer of C that runs it, moves to J, then
  to C' after D_J); all five run epoch 1 with one digest and one active.
- C'' (n1..n3, epoch 2) is pushed: n4 and n5 are left out (status
  `removed`, no VIP, their file now C'' so that `vigild -t` refuses it
  for them), n1..n3 run epoch 2 with one active.

Every wait is a poll with a bounded deadline.
"""
import json
import threading
import time

import pytest

import vgtopo
from conftest import (SAMPLER_GAP_LIMIT, SAMPLER_GAP_MAX,
                      SAMPLER_SLOW_ALLOWED, VIP)
from vgtopo import wait_one_active, wait_until

ALL = ("n1", "n2", "n3", "n4", "n5")
OLD = ("n1", "n2", "n3")


def five_nodes():
    t = vgtopo.failover_nodes()
    t.nodes.insert(3, vgtopo.Node("n4", "198.18.0.4", id=4, priority=70))
    t.nodes.insert(4, vgtopo.Node("n5", "198.18.0.5", id=5, priority=60))
    return t


def conf_for(t, name, members, epoch):
    """`name`'s file of a cluster of `members` at `epoch`."""
    keep = {n.name: n.vigil for n in t.topo.nodes}
    try:
        for n in t.topo.nodes:
            n.vigil = n.vigil and n.name in members
        return t.config(name) + "epoch = %d;\n" % epoch
    finally:
        for n in t.topo.nodes:
            n.vigil = keep[n.name]


@pytest.fixture
def fo5(tmp_path_factory):
    t = vgtopo.build_topology(five_nodes(), tmp_path_factory.mktemp("j5"),
                              start=False)
    t.direct_ctl = True
    s = None
    try:
        for n in OLD:
            t.write_config(n, conf_for(t, n, OLD, 0))
        for n in ("n4", "n5"):
            t.write_config(n, conf_for(t, n, ALL, 1))
        s = vgtopo.VipSampler(t, VIP, names=ALL).start()
        t.sampler = s
        yield t
    finally:
        probs, errs = [], []
        for n in ALL:
            try:
                t.stop(n)
            except Exception as e:
                errs.append("%s: stop: %r" % (n, e))
        if s is not None:
            s.stop()
            print("\n" + s.summary())
            probs = s.problems(SAMPLER_GAP_LIMIT, SAMPLER_SLOW_ALLOWED,
                               SAMPLER_GAP_MAX)
        errs += t.teardown()
        if probs or errs:
            pytest.fail("; ".join(probs + errs), pytrace=False)


def epochs(t, names):
    out = {}
    for n in names:
        st = t.status(n, check=False)
        if not st:
            return None
        out[n] = (st["cluster"]["epoch"], st["cluster"]["digest"])
    return out


def one_epoch(t, names, epoch):
    e = epochs(t, names)
    return e if e and all(v[0] == epoch for v in e.values()) and \
        len(set(v[1] for v in e.values())) == 1 else None


def push_async(t, via, path):
    """`vigilctl config push` from `via` in a thread: (thread, box);
    box["p"], box["r"] once it has answered."""
    box = {}

    def go():
        p = t.ctl(via, "config", "push", str(path), "--json", check=False,
                  timeout=40)
        box["p"] = p
        box["r"] = json.loads(p.stdout) if p.stdout.strip() else None
    th = threading.Thread(target=go, daemon=True)
    th.start()
    return th, box


def test_grow_and_shrink_through_joint(fo5, tmp_path):
    t = fo5
    for n in OLD:
        t.check_config(n)
        t.start(n)
    a, _, _ = wait_one_active(t, OLD, 3.0, "first election of C")
    t.sampler.wait_holder(lambda h: h == [a], 1.0, "%s holds the VIP" % a)
    for n in ("n4", "n5"):
        t.check_config(n)
        t.start(n)
    # n4 and n5 in C' alone: two votes of five, never active
    time.sleep(1.0)
    for n in ("n4", "n5"):
        st = t.status(n)
        assert st["node"]["state"] != "active" and \
            not st["node"]["vips_held"], (n, st["node"])
        assert st["cluster"]["epoch"] == 1, st["cluster"]
    assert one_active(t, OLD) == a

    # ---- grow: C' pushed from a standby, A cut off once it staged
    via = [n for n in OLD if n != a][0]
    f1 = tmp_path / "grow.conf"
    f1.write_text(conf_for(t, via, ALL, 1))
    th, box = push_async(t, via, f1)
    seen, _ = wait_until(lambda: (lambda h: h if h and h["status"] in (
        "staged", "joint") else None)(
            t.status(a)["cluster"]["push"]["here"]), 5.0, step=0.005)
    assert seen, "%s never staged the pushed file" % a
    t.isolate(a)
    cut_at = time.monotonic()
    th.join(40)
    assert "r" in box, "config push did not answer"
    r = box["r"]
    assert r and r["committed"] is True and r["joint"] is True, box
    by = {n["name"]: n for n in r["nodes"]}
    assert sorted(by) == sorted(ALL), r
    for n in ALL:
        if n != a:
            assert by[n]["status"] == "done", (n, r)
    rest = [n for n in ALL if n != a]
    b, sts, _ = wait_one_active(t, rest, 5.0, "an active of C'",
                                peers_alive=False)
    assert b != a
    for n in rest:
        assert sts[n]["cluster"]["epoch"] == 1, (n, sts[n]["cluster"])
        assert sts[n]["cluster"]["push"]["joint"] is None, n
    print("grow: A=%s (%s when cut), B=%s active %.2f s after the cut" % (
        a, seen["status"], b, time.monotonic() - cut_at))
    # healed once the coordinator stopped repeating FINAL (2 s): A, still
    # in C with the file staged, drops the staging at its forget time,
    # fetches C' from a peer of C that runs it (catch-up), moves to J and,
    # D_J later, to C'
    time.sleep(2.5)
    assert t.status(a)["cluster"]["epoch"] == 0
    t.isolate(a, on=False)
    got, el = wait_until(lambda: one_epoch(t, ALL, 1), 20.0, step=0.05)
    assert got, epochs(t, ALL)
    act, _, _ = wait_one_active(t, ALL, 5.0, "one active of all five")
    print("grow: %s at epoch 1 %.2f s after the heal; active %s" % (
        a, el, act))
    # A went through J either way: moved by the JOINT it got before the
    # cut, then out of it on hearing a node of C at epoch 1 (FINAL seen);
    # or, staged only, by catch-up (J, then C' after D_J)
    log = open(t.log_path(a)).read()
    j = log.find("epoch 1 committed: the new configuration alone")
    assert 0 <= log.find("joint configuration of epochs 0 and 1") < j, \
        vgtopo.log_tail(t.log_path(a))
    i = log.find("config: caught up to epoch 1")
    k = log.find("runs epoch 1: the joint move is over")
    assert 0 <= i < j or 0 <= k < j, vgtopo.log_tail(t.log_path(a))
    print("grow: %s left J by %s" % (a, "catch-up" if 0 <= i < j else
                                     "FINAL seen"))
    for n in ALL:
        text = open(t.conf_path(n)).read()
        assert "epoch = 1;" in text and '"n5"' in text, (n, text)
        assert t.socket(n) in text, (n, text)
        assert t.status(n)["cluster"]["push"]["removed"] is False, n

    # ---- shrink: C'' (n1..n3, epoch 2); n4 and n5 leave
    via = "n2" if act != "n2" else "n1"
    f2 = tmp_path / "shrink.conf"
    f2.write_text(conf_for(t, via, OLD, 2))
    th, box = push_async(t, via, f2)
    th.join(40)
    assert "r" in box, "config push did not answer"
    r = box["r"]
    assert r and r["committed"] is True and r["joint"] is True, box
    assert all(n["status"] == "done" for n in r["nodes"]), r
    got, _ = wait_until(lambda: one_epoch(t, OLD, 2), 5.0, step=0.05)
    assert got, epochs(t, OLD)
    c, _, _ = wait_one_active(t, OLD, 5.0, "an active of C''")
    for n in ("n4", "n5"):
        st = t.status(n)
        assert st["cluster"]["push"]["removed"] is True, (n, st["cluster"])
        assert st["node"]["state"] != "active" and \
            not st["node"]["vips_held"], (n, st["node"])
        # removed durably: its file is C'', which leaves it out, so vigild
        # will not start there again with it (in C it could count)
        text = open(t.conf_path(n)).read()
        assert "epoch = 2;" in text and 'name = "%s"' % n not in text, text
        p = vgtopo.run([vgtopo.VIGILD, "-t", "-f", t.conf_path(n), "-n", n],
                       check=False)
        assert p.returncode != 0 and "not in nodes" in p.stdout + p.stderr, p
    for n in OLD:
        text = open(t.conf_path(n)).read()
        assert "epoch = 2;" in text and '"n4"' not in text, (n, text)
    print("shrink: active %s before, %s after" % (act, c))


def one_active(t, names):
    r = vgtopo.one_active(t, names)
    return r[0] if r else None
