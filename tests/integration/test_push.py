"""`vigilctl config push` (issue 14, live changes), on the failover cluster
(vgtopo.failover_nodes: n1..n3, h = 50 ms, D = 250 ms) with the VIP sampler
watching from before the first election (fixture fo3).

- A push to a standby that adds a VIP at epoch 1 is committed on every
  node: each runs epoch 1 with the same cluster-wide digest, the active
  holds the new VIP, each node's installed file keeps its own local
  settings (its ctl socket) and passes `vigild -t`; the VIP that stays
  never leaves its holder (sampler) and nobody else ever holds it.
- A push that one node rejects (n3's own local settings are broken on
  disk: the pushed file made n3's is invalid there only) changes nothing
  anywhere: every node stays at epoch 1 with its file untouched, nothing
  staged is left, and the answer names n3 and its error.
- The same file (padded to 50 chunks) once n3 is whole again: committed.
- A safety-relevant change (dead_time 250 -> 400 ms) is committed through
  the joint configuration (test_joint.py has the membership changes):
  every node runs the new dead_time, the active never loses its VIP; a
  push at a lower or equal epoch is refused by the node asked.

- A node down during a push: aborted at the deadline (5.1 s: 3 s, then
  the abort repeated for 2 s), the silent node named, nothing changed;
  started again, it rejoins at the same epoch.

- `--allow-down` with a standby down: committed at the deadline, the node
  answered down, the push audited in the coordinator's events; the node
  started again catches up to the new epoch, the VIP never moving.

- Catch-up: a standby restarted from its file of before a committed push
  (an old image, a restored backup) hears its peers at the higher epoch,
  fetches the file, commits it with its own local settings, and runs the
  cluster's epoch and digest; the active and its VIP never move.

Every wait is a poll with a bounded deadline.
"""
import json
import os
import re
import time

from vgtopo import wait_one_active, wait_until

NAMES = ("n1", "n2", "n3")
VIP2 = "198.18.0.101"


def epochs(t):
    """{name: (epoch, digest)} from each node's status, or None."""
    out = {}
    for n in NAMES:
        st = t.status(n, check=False)
        if not st:
            return None
        out[n] = (st["cluster"]["epoch"], st["cluster"]["digest"])
    return out


def one_epoch(t, epoch):
    """{name: (epoch, digest)} once every node runs `epoch` with one
    cluster-wide digest, else None."""
    e = epochs(t)
    return e if e and all(v[0] == epoch for v in e.values()) and \
        len(set(v[1] for v in e.values())) == 1 else None


def holds(t, name, addr):
    p = t.ctl(name, "status", "--json", check=False)
    st = json.loads(p.stdout)
    return st if any(v["address"].split("/")[0] == addr and v["held_here"]
                     for v in st["vips"]) else None


def no_push_left(t):
    """True once no node shows a push under way (status cluster.push)."""
    return all((lambda p: p["coordinating"] is None and p["here"] is None)(
        t.status(n)["cluster"]["push"]) for n in NAMES)


def promise_epochs(path):
    """The epochs a node's state_dir/promised holds (none: no file)."""
    try:
        with open(path) as fh:
            return [int(line.split()[0]) for line in fh if line.strip()]
    except FileNotFoundError:
        return []


def push(t, via, path):
    p = t.ctl(via, "config", "push", str(path), "--json", check=False,
              timeout=30)
    return p, json.loads(p.stdout) if p.stdout.strip() else None


def push_with_ro_dir(t, via, path, ro):
    """push(t, via, path) while node ro's configuration directory cannot
    be written (mode 0555: the agent keeps no CAP_DAC_OVERRIDE)."""
    d = os.path.dirname(t.conf_path(ro))
    mode = os.stat(d).st_mode & 0o7777
    os.chmod(d, 0o555)
    try:
        return push(t, via, path)
    finally:
        os.chmod(d, mode)


def test_push_live_abort_and_lower_epoch(fo3, vip_sampler, tmp_path):
    t = fo3
    a, sts, _ = wait_one_active(t, NAMES, 3.0, "first election")
    vip_sampler.wait_holder(lambda h: h == [a], 1.0, "%s holds the VIP" % a)
    t0 = time.monotonic()
    term = sts[a]["node"]["term"]
    via = [n for n in NAMES if n != a][0]       # a standby is asked

    # ---- a live push: a VIP added, epoch 1
    base = t.config(via)
    f1 = tmp_path / "epoch1.conf"
    f1.write_text(base.replace(
        "vips = (\n", 'vips = (\n\t{ address = "%s/24"; interface = '
        '"eth0"; },\n' % VIP2) + "epoch = 1;\n")
    tp = time.monotonic()
    p, r = push(t, via, f1)
    took = time.monotonic() - tp
    assert p.returncode == 0 and r and r["committed"] is True, (p, r)
    assert r["epoch"] == 1, r
    assert sorted(n["name"] for n in r["nodes"]) == sorted(NAMES), r
    assert all(n["status"] == "done" and n["error"] is None
               for n in r["nodes"]), r
    got, _ = wait_until(lambda: (lambda e: e if e and all(
        v[0] == 1 for v in e.values()) and len(set(
            v[1] for v in e.values())) == 1 else None)(epochs(t)), 3.0,
        step=0.05)
    assert got, epochs(t)
    assert wait_until(lambda: no_push_left(t), 2.0, step=0.05)[0], [
        t.status(n)["cluster"]["push"] for n in NAMES]
    st, _ = wait_until(lambda: holds(t, a, VIP2), 3.0, step=0.05)
    assert st, "%s does not hold %s after the push" % (a, VIP2)
    assert st["node"]["term"] == term, "the push moved the election"
    for n in NAMES:
        text = open(t.conf_path(n)).read()
        assert VIP2 in text and "epoch = 1;" in text, (n, text)
        assert t.socket(n) in text, "%s lost its own ctl socket:\n%s" % (
            n, text)
        for m in NAMES:
            if m != n:
                assert t.socket(m) not in text, (n, m, text)
        t.check_config(n)
        assert not os.path.exists(os.path.join(t.state_base(n), "state",
                                               "staged.conf")), n
    print("\nconfig push of epoch 1 (%d bytes): answered in %.0f ms, "
          "%d rounds" % (len(f1.read_text()), took * 1000, r["rounds"]))

    # ---- rejected by n3 only: nothing changes anywhere
    before = {n: open(t.conf_path(n)).read() for n in NAMES}
    broken = before["n3"].replace('level = "debug"', 'level = "loud"')
    assert broken != before["n3"]
    t.write_config("n3", broken)
    f2 = tmp_path / "epoch2.conf"
    f2.write_text(f1.read_text().replace("epoch = 1;", "epoch = 2;"))
    p, r = push(t, via, f2)
    t.write_config("n3", before["n3"])
    assert p.returncode == 1 and r and r["committed"] is False, (p, r)
    nodes = {n["name"]: n for n in r["nodes"]}
    assert nodes["n3"]["status"] == "rejected", r
    assert 'level = "loud"' in nodes["n3"]["error"], r
    assert "n3: " in r["error"], r
    assert all(nodes[n]["status"] == "staged" for n in NAMES
               if n != "n3"), r
    assert wait_until(lambda: no_push_left(t), 2.0, step=0.05)[0], [
        t.status(n)["cluster"]["push"] for n in NAMES]
    for n in NAMES:
        assert t.status(n)["cluster"]["epoch"] == 1, n
        assert open(t.conf_path(n)).read() == before[n], n
        assert not os.path.exists(os.path.join(t.state_base(n), "state",
                                               "staged.conf")), n

    # the same file once n3 is whole again, padded to 50 chunks with a
    # comment (the transfer's rounds, 32 chunks a round): committed, the
    # text view
    pad = "".join("# %04d %s\n" % (i, "x" * 90) for i in range(520))
    f2.write_text(f2.read_text() + pad)
    assert len(f2.read_text()) > 49 * 1024
    tp = time.monotonic()
    p = t.ctl(via, "config", "push", str(f2), check=False, timeout=30)
    took = time.monotonic() - tp
    assert p.returncode == 0 and "epoch 2 committed" in p.stdout, p
    assert all(pad in open(t.conf_path(n)).read() for n in NAMES)
    print("config push of epoch 2 (%d bytes, %d chunks): answered in "
          "%.0f ms" % (len(f2.read_text()), -(-len(f2.read_text()) // 1024),
                       took * 1000))

    # ---- a safety-relevant change (dead_time): through the joint
    # configuration, the active keeping its lease and its VIP throughout
    f3 = tmp_path / "safety.conf"
    f3.write_text(f2.read_text().replace("epoch = 2;", "epoch = 3;")
                  .replace("dead_time = 250;", "dead_time = 400;"))
    assert f3.read_text() != f2.read_text().replace("epoch = 2;",
                                                    "epoch = 3;")
    p, r = push(t, via, f3)
    assert p.returncode == 0 and r["committed"] and r["joint"], (p, r)
    got, _ = wait_until(lambda: one_epoch(t, 3), 3.0, step=0.05)
    assert got, epochs(t)
    for n in NAMES:
        st = t.status(n)
        assert st["cluster"]["dead_time_ms"] == 400, (n, st["cluster"])
        assert st["cluster"]["push"]["joint"] is None, n

    # ---- a lower and an equal epoch: refused by the node asked
    for ep in (2, 3):
        f = tmp_path / ("low%d.conf" % ep)
        f.write_text(f3.read_text().replace("epoch = 3;", "epoch = %d;" % ep))
        p, r = push(t, via, f)
        assert p.returncode == 1, (p, r)
        assert "is not above the running epoch 3" in r["error"], r
    for n in NAMES:
        assert t.status(n)["cluster"]["epoch"] == 3

    # the VIP that stayed never moved, and nobody else ever held it
    vip_sampler.assert_stayed([a], t0, what="the VIP during the pushes")
    for n in NAMES:     # the loop's timeliness through the pushes: figures
        st = t.status(n)
        print("%s: slowest loop iteration %d us, heartbeats late %d, slow "
              "iterations %d" % (n, st["loop"]["slowest_iteration_us"],
                                 st["counters"]["heartbeats_late"],
                                 st["counters"]["slow_iterations"]))
    _, sts2, _ = wait_one_active(t, NAMES, 1.0, "after the pushes")
    assert sts2[a]["node"]["term"] == term


def test_push_with_a_node_down_aborts(fo3, vip_sampler, tmp_path):
    """A node down during a push: no answer from it, so the push is aborted
    at its deadline (3 s at D = 250 ms) and nothing changes anywhere; the
    answer names the silent node.  Started again, it rejoins at the same
    epoch as the others."""
    t = fo3
    a, sts, _ = wait_one_active(t, NAMES, 3.0, "first election")
    vip_sampler.wait_holder(lambda h: h == [a], 1.0, "%s holds the VIP" % a)
    term = sts[a]["node"]["term"]
    down = [n for n in NAMES if n != a][1]
    via = [n for n in NAMES if n not in (a, down)][0]
    t.stop(down)
    before = {n: open(t.conf_path(n)).read() for n in NAMES}
    f = tmp_path / "epoch1.conf"
    f.write_text(t.config(via) + "epoch = 1;\n")
    t0 = time.monotonic()
    p, r = push(t, via, f)
    took = time.monotonic() - t0
    assert p.returncode == 1 and r and r["committed"] is False, (p, r)
    nodes = {n["name"]: n for n in r["nodes"]}
    assert nodes[down]["status"] == "silent", r
    assert nodes[down]["error"] == "no answer within the push's deadline", r
    assert "%s: no answer" % down in r["error"], r
    # the deadline (3 s), then the abort repeated to the silent node (2 s)
    assert 3.0 <= took < 8.0, took
    for n in NAMES:
        assert open(t.conf_path(n)).read() == before[n], n
        assert not os.path.exists(os.path.join(t.state_base(n), "state",
                                               "staged.conf")), n
    for n in NAMES:
        if n != down:
            assert t.status(n)["cluster"]["epoch"] == 0, n
    t.start(down)
    _, sts2, _ = wait_one_active(t, NAMES, 3.0, "%s back" % down)
    assert sts2[a]["node"]["term"] == term
    assert all(s["cluster"]["epoch"] == 0 for s in sts2.values()), sts2
    print("\nconfig push with %s down: aborted in %.1f s" % (down, took))


def test_push_allow_down_then_catch_up(fo3, vip_sampler, tmp_path):
    """`config push --allow-down` with a standby down: the two nodes up
    hold a quorum, so the push is committed at its deadline (not waiting
    for the silent node's confirmation), the answer names it down, and the
    coordinator's events audit it (the file's digest, each node's result).
    The node started again from its old file catches up to the new epoch;
    the active and its VIP never move."""
    t = fo3
    a, sts, _ = wait_one_active(t, NAMES, 3.0, "first election")
    vip_sampler.wait_holder(lambda h: h == [a], 1.0, "%s holds the VIP" % a)
    since = time.monotonic()
    term = sts[a]["node"]["term"]
    down = [n for n in NAMES if n != a][1]
    via = [n for n in NAMES if n not in (a, down)][0]
    t.stop(down)
    f = tmp_path / "epoch1.conf"
    f.write_text(t.config(via) + "epoch = 1;\n")
    t0 = time.monotonic()
    p = t.ctl(via, "config", "push", str(f), "--allow-down", "--json",
              check=False, timeout=30)
    took = time.monotonic() - t0
    r = json.loads(p.stdout) if p.stdout.strip() else None
    assert p.returncode == 0 and r and r["committed"] is True, (p, r)
    nodes = {n["name"]: n for n in r["nodes"]}
    assert nodes[down]["status"] == "down", r
    assert "catches up" in nodes[down]["error"], r
    assert nodes[a]["status"] == "done" and nodes[via]["status"] == "done", r
    assert "1 node down (--allow-down)" in r["message"], r
    # the deadline (3 s) and no 2 s wait for the silent node's DONE
    assert 3.0 <= took < 4.5, took
    for n in (a, via):
        assert t.status(n)["cluster"]["epoch"] == 1, n
    ev = [e["text"] for e in t.events(via) if "config push" in e["text"] and
          "file digest" in e["text"] and "committed" in e["text"]]
    assert ev and "%s down" % down in ev[-1] and \
        "%s done" % a in ev[-1], ev
    t.start(down)
    got, _ = wait_until(lambda: one_epoch(t, 1), 5.0, step=0.05)
    assert got, epochs(t)
    assert t.status(down)["cluster"]["push"]["caught_up"] == 1
    _, sts2, _ = wait_one_active(t, NAMES, 3.0, "after the catch-up")
    assert sts2[a]["node"]["term"] == term
    vip_sampler.assert_stayed([a], since, what="the VIP through the push")
    print("\nconfig push --allow-down with %s down: committed in %.1f s, "
          "%s caught up" % (down, took, down))


def test_catch_up_from_an_old_file(fo3, vip_sampler, tmp_path):
    """A standby started from the file it ran before a push catches up:
    it fetches the committed file from a peer, installs it with its own
    local settings and runs the cluster's epoch and digest, without any
    move of the active or of its VIP (the sampler)."""
    t = fo3
    a, sts, _ = wait_one_active(t, NAMES, 3.0, "first election")
    vip_sampler.wait_holder(lambda h: h == [a], 1.0, "%s holds the VIP" % a)
    since = time.monotonic()
    term = sts[a]["node"]["term"]
    behind = [n for n in NAMES if n != a][1]
    via = [n for n in NAMES if n not in (a, behind)][0]
    old = open(t.conf_path(behind)).read()
    f = tmp_path / "epoch1.conf"
    f.write_text(t.config(via) + "epoch = 1;\n")
    p, r = push(t, via, f)
    assert p.returncode == 0 and r and r["committed"] is True, (p, r)
    assert wait_until(lambda: no_push_left(t), 2.0, step=0.05)[0]

    # the standby comes back from its old file
    t.stop(behind)
    t.write_config(behind, old)
    t.start(behind)
    t0 = time.monotonic()
    got, _ = wait_until(lambda: one_epoch(t, 1), 5.0, step=0.05)
    took = time.monotonic() - t0
    assert got, epochs(t)
    st = t.status(behind)
    assert st["cluster"]["push"]["caught_up"] == 1, st["cluster"]["push"]
    servers = [n for n in NAMES if n != behind and
               t.status(n)["cluster"]["push"]["served"] >= 1]
    assert len(servers) >= 1, "nobody served %s" % behind
    text = open(t.conf_path(behind)).read()
    assert "epoch = 1;" in text and t.socket(behind) in text, text
    for m in NAMES:
        if m != behind:
            assert t.socket(m) not in text, (m, text)
    t.check_config(behind)
    _, sts2, _ = wait_one_active(t, NAMES, 3.0, "after the catch-up")
    assert sts2[a]["node"]["state"] == "active"
    assert sts2[a]["node"]["term"] == term, "the catch-up moved the election"
    vip_sampler.assert_stayed([a], since, what="the VIP during the catch-up")
    print("\n%s caught up to epoch 1 from %s within %.0f ms of its start" %
          (behind, ",".join(servers), took * 1000))


def test_staged_file_binds_its_epoch(fo3, vip_sampler, tmp_path):
    """Staging is a promise (a reviewer's read): with --allow-down a push
    may go LIVE without a node that staged it ever hearing so, and if that
    node then took another file at the same epoch, two quorums could
    commit two files at one epoch, which catch-up (higher epochs only)
    never heals.  n3 stages the push of epoch 1 but hears no decision (its
    DECIDEs and its fetches dropped); the others commit it.  Once n3 has
    forgotten the push, a different file at epoch 1 pushed through n3 is
    refused by n3 itself, naming the epoch; with the drops gone, n3 catches
    up to the file it staged."""
    t = fo3
    a, sts, _ = wait_one_active(t, NAMES, 3.0, "first election")
    vip_sampler.wait_holder(lambda h: h == [a], 1.0, "%s holds the VIP" % a)
    s = [n for n in NAMES if n != a][1]
    via = [n for n in NAMES if n not in (a, s)][0]
    port = t.topo.port
    t.nft(s, """table inet vgt_nodecide {
        chain in { type filter hook input priority 0; policy accept;
                   udp dport %d @th,104,8 9 counter drop; }
        chain out { type filter hook output priority 0; policy accept;
                    udp dport %d @th,104,8 10 counter drop; }
    }""" % (port, port))
    f1 = tmp_path / "epoch1.conf"
    f1.write_text(t.config(via) + "epoch = 1;\n")
    p = t.ctl(via, "config", "push", str(f1), "--allow-down", "--json",
              check=False, timeout=30)
    r = json.loads(p.stdout) if p.stdout.strip() else None
    assert p.returncode == 0 and r and r["committed"] is True, (p, r)
    for n in (a, via):
        assert t.status(n)["cluster"]["epoch"] == 1, n
    assert t.status(s)["cluster"]["epoch"] == 0
    # n3 forgets the push in its own time (bounded wait)
    ok, _ = wait_until(lambda: t.status(s)["cluster"]["push"]["here"] is None
                       or None, 10.0, step=0.1)
    assert ok, t.status(s)["cluster"]["push"]
    t.topo.vips = t.topo.vips + [(VIP2 + "/24", "eth0")]
    f2 = tmp_path / "epoch1-other.conf"
    f2.write_text(t.config(s) + "epoch = 1;\n")
    p = t.ctl(s, "config", "push", str(f2), "--json", check=False,
              timeout=30)
    r = json.loads(p.stdout) if p.stdout.strip() else None
    assert p.returncode == 1 and r and not r.get("committed"), (p, r)
    assert "staged another file at epoch 1 and heard no decision on it" in \
        r.get("error", ""), r
    assert t.status(s)["cluster"]["epoch"] == 0
    promised = os.path.join(t.state_base(s), "state", "promised")
    assert promise_epochs(promised) == [1], promise_epochs(promised)
    # Its promise outlives a push at a higher epoch that it stages and
    # that is aborted (a later reviewer's read: the one promise there was
    # replaced, and the ABORT took it back; then a second file at epoch 1
    # went out from n3).  The coordinator n3 stages epoch 2; n1's config
    # directory cannot be written, it answers REJECTED, the push aborts.
    f3 = tmp_path / "epoch2.conf"
    f3.write_text(t.config(s) + "epoch = 2;\n")
    p, r = push_with_ro_dir(t, s, f3, a)
    assert p.returncode == 1 and r and r["committed"] is False, (p, r)
    assert {n["name"]: n["status"] for n in r["nodes"]}[a] == "rejected", r
    assert promise_epochs(promised) == [1], promise_epochs(promised)
    ok, _ = wait_until(lambda: no_push_left(t) or None, 5.0, step=0.1)
    assert ok, [t.status(n)["cluster"]["push"] for n in NAMES]
    p, r = push(t, s, f2)
    assert p.returncode == 1 and r and not r.get("committed"), (p, r)
    assert "staged another file at epoch 1 and heard no decision on it" in \
        r.get("error", ""), r
    # A push refused on its coordinator after it staged there (here a
    # safety change with --allow-down) takes back the promise it made:
    # no offer went out (a reviewer's read: it stayed, and the same epoch
    # was refused for ever after, across restarts too).
    f4 = tmp_path / "epoch3-safety.conf"
    f4.write_text(re.sub(r"dead_time = [0-9]+;", "dead_time = 1000;",
                         t.config(s)) + "epoch = 3;\n")
    p = t.ctl(s, "config", "push", str(f4), "--allow-down", "--json",
              check=False, timeout=30)
    r = json.loads(p.stdout) if p.stdout.strip() else None
    assert p.returncode == 1 and r and not r.get("committed"), (p, r)
    assert "--allow-down applies to live changes" in r.get("error", ""), r
    assert promise_epochs(promised) == [1], promise_epochs(promised)
    t.nft(s, "delete table inet vgt_nodecide\n")
    got, _ = wait_until(lambda: one_epoch(t, 1), 5.0, step=0.05)
    assert got, epochs(t)


def test_push_refused_where_the_file_cannot_be_installed(fo3, vip_sampler,
                                                          tmp_path):
    """A node whose configuration directory it cannot write (a read-only
    ConfigMap, here a directory of mode 0555: the agent keeps no
    CAP_DAC_OVERRIDE) answers the offer REJECTED, naming why, so the push
    is aborted and nothing changes anywhere (a reviewer's read: before, it
    staged, and the commit failed there alone, the others at the new
    epoch; a joint push stopped half-way).  Writable again, the same push
    is committed."""
    t = fo3
    a, sts, _ = wait_one_active(t, NAMES, 3.0, "first election")
    vip_sampler.wait_holder(lambda h: h == [a], 1.0, "%s holds the VIP" % a)
    ro = [n for n in NAMES if n != a][1]
    via = [n for n in NAMES if n not in (a, ro)][0]
    f = tmp_path / "epoch1.conf"
    f.write_text(t.config(via) + "epoch = 1;\n")
    p, r = push_with_ro_dir(t, via, f, ro)
    assert p.returncode == 1 and r and r["committed"] is False, (p, r)
    nodes = {n["name"]: n for n in r["nodes"]}
    assert nodes[ro]["status"] == "rejected", r
    assert "cannot be written here" in nodes[ro]["error"], r
    assert all(t.status(n)["cluster"]["epoch"] == 0 for n in NAMES)
    ok, _ = wait_until(lambda: no_push_left(t) or None, 5.0, step=0.1)
    assert ok
    p, r = push(t, via, f)
    assert p.returncode == 0 and r and r["committed"] is True, (p, r)
    got, _ = wait_until(lambda: one_epoch(t, 1), 5.0, step=0.05)
    assert got, epochs(t)


def test_push_keeps_a_symlinked_config(fo3, vip_sampler, tmp_path):
    """A node's configuration file that is a symbolic link (vigil.conf(5)
    accepts one, both paths judged) stays a link through a push: the
    commit writes the file it names (a reviewer's read: the rename made
    the path a plain file, and the file the link named, the one an
    operator's tooling manages, stayed at the old epoch)."""
    t = fo3
    a, sts, _ = wait_one_active(t, NAMES, 3.0, "first election")
    vip_sampler.wait_holder(lambda h: h == [a], 1.0, "%s holds the VIP" % a)
    ln = [n for n in NAMES if n != a][1]
    via = [n for n in NAMES if n not in (a, ln)][0]
    path = t.conf_path(ln)
    real_dir = os.path.join(os.path.dirname(path), "managed")
    os.mkdir(real_dir, 0o755)
    real = os.path.join(real_dir, "vigil.conf")
    os.rename(path, real)
    os.symlink(real, path)
    f = tmp_path / "epoch1.conf"
    f.write_text(t.config(via) + "epoch = 1;\n")
    p, r = push(t, via, f)
    assert p.returncode == 0 and r and r["committed"] is True, (p, r)
    got, _ = wait_until(lambda: one_epoch(t, 1), 5.0, step=0.05)
    assert got, epochs(t)
    assert os.path.islink(path) and os.readlink(path) == real, \
        "%s is no longer the link to %s" % (path, real)
    with open(real) as fh:
        assert "epoch = 1;" in fh.read(), "%s was not written" % real
    assert not [x for x in os.listdir(os.path.dirname(path))
                if x.startswith(".vigil.conf")], "a temp file was left"
