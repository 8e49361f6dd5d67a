"""VIP groups (issue 15): two nodes and a witness, two groups, each node
active for one.  A VipSampler watches each group's VIP on both nodes for the
whole test (one thread reading each node's fib_trie, looking for both
VIPs in each read): never two holders of one VIP, and the group a fault
does not touch never loses its holder.

  web: 198.18.0.100, n1 150 / n2 100      db: 198.18.0.101, n1 100 / n2 150

Each test gets its own cluster (namespaces built and deleted by vgtopo)."""
import json
import os
import signal
import time

import pytest

import vgtopo
from conftest import finish_made
from vgtopo import wait_until

WEB, DB = "198.18.0.100", "198.18.0.101"
NAMES = ("n1", "n2")


def topo():
    return vgtopo.Topo(nodes=[
        vgtopo.Node("n1", "198.18.0.1", id=1, priority=100),
        vgtopo.Node("n2", "198.18.0.2", id=2, priority=100),
        vgtopo.Node("w", "198.18.0.3", id=3, priority=100, role="witness"),
    ], state_tmpfs=True, vips=[])


def shm(t, name):
    return os.path.join(t.state_base("n1").rsplit("/", 1)[0], name)


def vips_list(addrs):
    return ", ".join('{ address = "%s/24"; interface = "eth0"; }' % a
                     for a in addrs)


def groups_conf(t, name, web_tracks="", web=(WEB,), db=(DB,)):
    """The node's config: vgtopo's without its top-level vips, and the two
    groups (web may name the track "web_chk", failing while a file exists;
    web and db: each group's VIPs)."""
    text = t.config(name)
    start = text.index("vips = (")
    end = text.index(");", start) + 2
    track = ('track = ( { name = "web_chk"; command = "test ! -e %s"; '
             "interval = 500; timeout = 500; fall = 1; rise = 1; "
             "weight = 0; } );\n" % shm(t, "fail-" + name))
    return (text[:start] + track +
            "preempt = false;\n"
            "groups = (\n"
            '  { name = "web"; vips = ( %s ); priorities = { n1 = 150; '
            'n2 = 100; }; tracks = ( %s ); },\n'
            '  { name = "db"; vips = ( %s ); priorities = { n1 = 100; '
            'n2 = 150; }; tracks = ( ); }\n);\n'
            % (vips_list(web), web_tracks, vips_list(db)) + text[end:])


@pytest.fixture
def gcluster(tmp_path_factory):
    """The cluster with both groups' samplers watching from before the
    first election (one thread: web's sampler, db's its twin); at the end,
    as every factory fixture (conftest.finish_made), each vigild stopped
    while they watch, their verdicts, the teardown."""
    t = vgtopo.build_topology(topo(), tmp_path_factory.mktemp("grp"),
                              start=False)
    t.direct_ctl = True
    made = [t]
    try:
        for n in t.topo.cluster_nodes:
            t.write_config(n.name, groups_conf(t, n.name, '"web_chk"'))
            t.check_config(n.name)
        web = vgtopo.VipSampler(t, WEB, names=NAMES, pause=0.001)
        db = web.twin(DB)
        web.start()
        # finish_made stops them last first: web (the thread) before db
        t.watchers = [db, web]
        t.start_all()
        yield t, web, db
    finally:
        finish_made(made)


def group_row(st, name):
    for g in st["groups"]:
        if g["name"] == name:
            return g
    raise KeyError(name)


def wait_groups(t, want, timeout, what):
    """Until every node in NAMES reports each group's active as `want`
    ({group: node name}); returns the statuses."""
    last = {}

    def probe():
        sts = vgtopo.statuses(t, NAMES)
        if sts is None:
            return False
        last["sts"] = sts
        return all(group_row(sts[n], g)["active_name"] == a
                   for n in sts for g, a in want.items())
    ok, _ = wait_until(probe, timeout, step=0.02, what=what)
    assert ok, "%s: %s" % (what, {
        n: [(g["name"], g["state"], g["active_name"], g["term"])
            for g in s["groups"]] for n, s in last.get("sts", {}).items()})
    return last["sts"]


def stayed(s, name, since, settled, sweeps=100):
    """Polls (bounded) until settled() holds and sampler s has made
    `sweeps` sweeps since `since` (a window, ~0.1 s, to watch the group
    the fault did not touch), then: every one of them saw its VIP on
    `name` alone (VipSampler.assert_stayed)."""
    ok, _ = wait_until(lambda: settled() and len(s._snap(since)) >= sweeps,
                       3.0, step=0.02, what="settled")
    assert ok, "not settled, or fewer than %d sweeps, in 3 s" % sweeps
    s.assert_stayed([name], since, time.monotonic())


def row_is(t, node, group, state):
    """node's status shows `state` for `group` (False while it does not
    answer)."""
    st = t.status(node, check=False)
    return st is not None and group_row(st, group)["state"] == state


def test_each_node_active_for_one(gcluster):
    """Each group elects its best node: web on n1, db on n2; status shows a
    row per group with its VIPs, the witness holds nothing."""
    t, web, db = gcluster
    sts = wait_groups(t, {"web": "n1", "db": "n2"}, 5.0, "first elections")
    web.wait_holder(lambda h: h == ["n1"], 2.0, "n1 holding web's VIP")
    db.wait_holder(lambda h: h == ["n2"], 2.0, "n2 holding db's VIP")
    row = group_row(sts["n1"], "web")
    assert row["state"] == "active" and row["vips"] == [WEB + "/24"], row
    row = group_row(sts["n1"], "db")
    assert row["state"] == "standby" and row["vips"] == [DB + "/24"], row
    assert group_row(sts["n2"], "db")["state"] == "active"
    assert {v["address"]: v["group"] for v in sts["n1"]["vips"]} == \
        {WEB + "/24": "web", DB + "/24": "db"}
    # the text view: a line per group (its state here, term, active, VIPs)
    out = t.ctl("n1", "status").stdout
    rows = {ln.split()[1]: ln.split() for ln in out.splitlines()
            if ln.startswith("group ")}
    assert set(rows) == {"web", "db"}, out
    assert rows["web"][2] == "active" and "n1" in rows["web"] and \
        WEB + "/24" in rows["web"], rows["web"]
    assert rows["db"][2] == "standby" and "n2" in rows["db"] and \
        DB + "/24" in rows["db"], rows["db"]
    # every group's term and vote in one file (one fsync for several)
    for n in NAMES:
        with open(os.path.join(t.state_base(n), "state", "votes")) as fh:
            lines = dict((ln.split()[0], ln.split()[1:])
                         for ln in fh.read().splitlines())
        assert set(lines) == {"web", "db"}, lines
        assert int(lines["web"][0]) == group_row(sts[n], "web")["term"], \
            (n, lines)
        assert not os.path.exists(os.path.join(t.state_base(n), "state",
                                               "vote.web"))


def test_kill_moves_one_group(gcluster):
    """SIGKILL of n2 (db's active): db moves to n1; web's VIP never leaves
    n1 meanwhile (every sweep)."""
    t, web, db = gcluster
    wait_groups(t, {"web": "n1", "db": "n2"}, 5.0, "first elections")
    web.wait_holder(lambda h: h == ["n1"], 2.0, "n1 holding web's VIP")
    db.wait_holder(lambda h: h == ["n2"], 2.0, "n2 holding db's VIP")
    t0 = time.monotonic()
    t.kill("n2", signal.SIGKILL)
    db.wait_holder(lambda h: h == ["n1"], 3.0, "db's VIP on n1")
    stayed(web, "n1", t0, lambda: row_is(t, "n1", "db", "active"))
    assert row_is(t, "n1", "web", "active")


def test_track_moves_one_group(gcluster):
    """web's track fails on n1: web moves to n2 (n1 is in fault for web
    only); db stays on n2 throughout, and n1 stays a standby of db."""
    t, web, db = gcluster
    wait_groups(t, {"web": "n1", "db": "n2"}, 5.0, "first elections")
    web.wait_holder(lambda h: h == ["n1"], 2.0, "n1 holding web's VIP")
    db.wait_holder(lambda h: h == ["n2"], 2.0, "n2 holding db's VIP")
    t0 = time.monotonic()
    open(shm(t, "fail-n1"), "w").close()
    web.wait_holder(lambda h: h == ["n2"], 3.0, "web's VIP on n2")
    stayed(db, "n2", t0, lambda: row_is(t, "n1", "web", "fault") and
           row_is(t, "n2", "web", "active"))
    assert row_is(t, "n1", "db", "standby")


def test_failover_group_then_maintenance_drains_both(gcluster):
    """failover --group db --to n1 moves db alone (web stays on n1); then
    maintenance on at n1 hands both groups to n2."""
    t, web, db = gcluster
    wait_groups(t, {"web": "n1", "db": "n2"}, 5.0, "first elections")
    web.wait_holder(lambda h: h == ["n1"], 2.0, "n1 holding web's VIP")
    db.wait_holder(lambda h: h == ["n2"], 2.0, "n2 holding db's VIP")
    t0 = time.monotonic()
    rc, r, err = t.ctl_json("n2", "failover", "--group", "db", "--to", "n1")
    assert rc == 0 and r and r.get("ok") is True, (rc, r, err)
    db.wait_holder(lambda h: h == ["n1"], 3.0, "db's VIP on n1")
    stayed(web, "n1", t0, lambda: row_is(t, "n2", "db", "standby") and
           row_is(t, "n1", "db", "active"))
    rc, r, err = t.ctl_json("n1", "failover", "--group", "nosuch")
    assert rc != 0 and r and r.get("ok") is False and \
        "no group" in r.get("error", ""), (rc, r, err)
    rc, r, err = t.ctl_json("n1", "maintenance", "on")
    assert rc == 0 and r and r.get("ok") is True, (rc, r, err)
    web.wait_holder(lambda h: h == ["n2"], 3.0, "web's VIP on n2")
    db.wait_holder(lambda h: h == ["n2"], 3.0, "db's VIP on n2")
    wait_groups(t, {"web": "n2", "db": "n2"}, 3.0, "both on n2")


def test_catch_up_past_a_vip_moved_in_two_steps(gcluster, tmp_path):
    """A VIP moved from one group to another as vigil.conf(5) says, in two
    pushes (out of web, then into db), both with --allow-down while the
    witness is down; started again from its file of before them, the
    witness catches up to the last epoch.  It refused it (its file had the
    VIP in web, the cluster's in db: "moved"), for ever, and a node so left
    behind could hold the VIP in its old group (a reviewer's read).  A
    committed file was checked against its own predecessor by the cluster
    that committed it."""
    t, web, db = gcluster
    X = "198.18.0.102"

    def push_epoch(epoch, allow_down=False, **vips):
        f = tmp_path / ("e%d.conf" % epoch)
        f.write_text(groups_conf(t, "n1", '"web_chk"', **vips) +
                     "epoch = %d;\n" % epoch)
        args = ["config", "push", str(f), "--json"]
        if allow_down:
            args.append("--allow-down")
        p = t.ctl("n1", *args, check=False, timeout=30)
        r = json.loads(p.stdout) if p.stdout.strip() else None
        assert p.returncode == 0 and r and r["committed"] is True, (p, r)

    def epoch_of(n):
        s = t.status(n, check=False)
        return s and s["cluster"]["epoch"]

    push_epoch(1, web=(WEB, X))
    ok, _ = wait_until(lambda: all(epoch_of(n) == 1 for n in
                                   ("n1", "n2", "w")) or None, 5.0, step=0.05)
    assert ok, [epoch_of(n) for n in ("n1", "n2", "w")]
    old = open(t.conf_path("w")).read()
    t.stop("w")
    push_epoch(2, allow_down=True)
    push_epoch(3, allow_down=True, db=(DB, X))
    t.write_config("w", old)
    t.start("w")
    ok, _ = wait_until(lambda: epoch_of("w") == 3 or None, 8.0, step=0.05)
    assert ok, (epoch_of("w"), t.status("w")["cluster"]["push"])
