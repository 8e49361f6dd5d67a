"""Configuration epochs and `vigilctl config diff` (issue 14), on a 3-node
bridge (vgtopo.three_nodes: h = 50 ms, D = 250 ms).

- Every node shows every peer at its epoch and cluster-wide digest, in
  agreement, speaking wire version 3 (vgwire.VERSION); a node reloaded to epoch 1 is shown
  at epoch 1 and not in agreement by the others (status, text view,
  metrics), and nothing else changes (no election, the same active); a
  reload back to epoch 0 is refused and changes nothing.
- `vigilctl config diff FILE` answers each change and its class: a VIP and
  a raised epoch are live, a dead_time is safety-relevant (and a reload
  here would be refused; the active stays active through it), a file that
  leaves the active out needs a new election, an invalid file prints its
  errors and exits 1; the running configuration is untouched.
- A peer heard in wire version 1 or 2 is answered in that version (a
  crafted heartbeat of n2's next incarnation in it, then n1's datagrams to
  n2 captured).

Every wait is a poll with a bounded deadline.
"""
import json
import re

import pytest

import vgwire
from vgtopo import peers_by_name, wait_one_active, wait_until

NAMES = ("n1", "n2", "n3")
N1, N2 = "198.18.0.1", "198.18.0.2"


def all_agree(t, epoch):
    """The statuses if every node sees every peer alive, at `epoch`, with
    its own digest, in this wire version; else None."""
    sts = {}
    for name in NAMES:
        st = t.status(name, check=False)
        if not st:
            return None
        for p in st["peers"]:
            if not (p["alive"] and p["epoch"] == epoch and
                    p["conf_agrees"] is True and
                    p["wire_version"] == vgwire.VERSION and
                    p["conf_digest"] == st["cluster"]["digest"]):
                return None
        sts[name] = st
    return sts


def test_epoch_shown_diff_and_reload(fresh3, tmp_path):
    t = fresh3
    a, _, _ = wait_one_active(t, NAMES, 3.0, "first election")
    sts, _ = wait_until(lambda: all_agree(t, 0), 3.0, step=0.05)
    assert sts, {n: t.status(n, check=False) for n in NAMES}
    term = sts[a]["node"]["term"]
    assert sts["n1"]["cluster"]["epoch"] == 0

    # ---- config diff against n1's running file (read only)
    base = t.config("n1")
    live = tmp_path / "live.conf"
    live.write_text(base.replace(
        "vips = (\n", 'vips = (\n\t{ address = "198.18.0.101/24"; '
        'interface = "eth0"; },\n') + "epoch = 1;\n")
    p = t.ctl("n1", "config", "diff", str(live), "--json", check=False)
    assert p.returncode == 0, p
    r = json.loads(p.stdout)
    assert r["kind"] == "live" and r["reload"] is None, r
    assert r["epoch"] == {"running": 0, "file": 1}, r
    whats = {c["what"]: c for c in r["changes"]}
    assert set(whats) == {"epoch", "vip 198.18.0.101/24 added"}, whats
    assert whats["vip 198.18.0.101/24 added"]["to"] == \
        "198.18.0.101/24 dev eth0", whats
    assert all(c["kind"] == "live" for c in r["changes"]), r
    p = t.ctl("n1", "config", "diff", str(live), check=False)
    assert p.returncode == 0 and "live: a reload applies it" in p.stdout, p

    safety = tmp_path / "safety.conf"
    safety.write_text(re.sub(r"dead_time = \d+;", "dead_time = 400;", base))
    p = t.ctl("n1", "config", "diff", str(safety), check=False)
    assert p.returncode == 0, p
    assert re.search(r"SAFETY +dead_time: 250 ms -> 400 ms", p.stdout), \
        p.stdout
    assert "every node must change together" in p.stdout, p.stdout
    assert "reload: refused here:" in p.stdout, p.stdout
    assert "election: the active stays active" in p.stdout, p.stdout
    # a file that leaves the active out, asked of a standby: a new election
    sb = [n for n in ("n1", "n2", "n3") if n != a][0]
    gone = tmp_path / "gone.conf"
    lines = [ln for ln in t.config(sb).splitlines(True)
             if 'name = "%s"' % a not in ln]
    gone.write_text("".join(lines).replace("},\n);", "}\n);"))
    p = t.ctl(sb, "config", "diff", str(gone), "--json", check=False)
    assert p.returncode == 0, (p, gone.read_text())
    r = json.loads(p.stdout)
    assert r["kind"] == "safety" and r["new_election"] is True, r
    r = json.loads(t.ctl("n1", "config", "diff", str(safety), "--json",
                         check=False).stdout)
    assert r["new_election"] is False, r

    bad = tmp_path / "bad.conf"
    bad.write_text(base + "dead_time = 0;\n")
    p = t.ctl("n1", "config", "diff", str(bad), check=False)
    assert p.returncode == 1, p
    assert "is not a valid configuration for n1" in p.stderr, p.stderr
    assert "bad.conf:" in p.stderr, p.stderr

    # nothing changed by the diffs
    st1 = t.status("n1")
    assert st1["cluster"]["epoch"] == 0 and \
        st1["cluster"]["dead_time_ms"] == 250, st1["cluster"]
    assert len(st1["vips"]) == len(sts["n1"]["vips"]), st1["vips"]

    # ---- n2 reloaded to epoch 1: shown by the others, nothing refused.
    # n2 drops every CONF_FETCH (type byte 10 at offset 5 of the datagram,
    # after the 8-byte UDP header: bit 104 of the transport header) so
    # that n1 and n3 cannot catch up yet and the view of a peer ahead holds
    # still; the catch-up follows when the rule goes.
    t.nft("n2", """table inet vgt_nofetch {
        chain in { type filter hook input priority 0; policy accept;
                   udp dport %d @th,104,8 10 counter drop; }
    }""" % t.topo.port)
    t.write_config("n2", t.config("n2") + "epoch = 1;\n")
    p = t.ctl("n2", "reload", check=False, timeout=5.0)
    assert p.returncode == 0, p

    def n2_at_1():
        for name in ("n1", "n3"):
            st = t.status(name, check=False)
            if not st:
                return None
            p2 = peers_by_name(st)["n2"]
            if p2["epoch"] != 1 or p2["conf_agrees"] is not False or \
                    p2["agrees"] is not True or not p2["alive"]:
                return None
        return True
    ok, _ = wait_until(n2_at_1, 2.0, step=0.05)
    assert ok, {n: peers_by_name(t.status(n))["n2"] for n in ("n1", "n3")}
    p = t.ctl("n1", "status")
    assert re.search(r"^n2: epoch 1 \(this node 0\), settings [0-9a-f]{8} "
                     r"the same$", p.stdout, re.M), p.stdout
    # the table's EPOCH column: n2 starred, n3 not
    assert re.search(r"^n2 .* 1\*$", p.stdout, re.M) and \
        re.search(r"^n3 .* 0$", p.stdout, re.M), p.stdout
    m = t.metrics("n1")
    assert m['vigil_peer_config_epoch{peer="n2"}'] == 1, m
    assert m['vigil_peer_config_same{peer="n2"}'] == 0, m
    assert m['vigil_peer_config_same{peer="n3"}'] == 1, m
    assert m["vigil_config_epoch"] == 0, m
    st2 = t.status("n2")
    assert st2["cluster"]["epoch"] == 1, st2["cluster"]
    assert all(p["conf_agrees"] is False for p in st2["peers"]), st2["peers"]
    # the fetches were asked for and dropped: the rule's counter
    out = t.nft("n2", "list table inet vgt_nofetch\n").stdout
    m = re.search(r"counter packets (\d+)", out)
    assert m and int(m.group(1)) >= 2, out

    # ---- n2's file edited on disk, not reloaded: not served under the
    # epoch it runs (before, the edit went out as epoch 1), so n1 and n3
    # stay at 0 while the fetches go through; put back, it is served
    t.write_config("n2", t.config("n2") + "epoch = 1;\n"
                   "# an edit that no reload applied\n")
    t.nft("n2", "delete table inet vgt_nofetch\n")
    # several fetches' time (bounded): none must come to anything
    moved, _ = wait_until(lambda: [n for n in ("n1", "n3")
                                   if t.status(n)["cluster"]["epoch"] != 0]
                          or None, 1.0, step=0.05)
    assert not moved, ("caught up to a file n2 does not run", moved)
    t.write_config("n2", t.config("n2") + "epoch = 1;\n")
    # ---- the fetches let through: n1 and n3 catch up to n2's epoch 1
    # (its file, their own local settings), every digest the same
    sts1, _ = wait_until(lambda: all_agree(t, 1), 3.0, step=0.05)
    assert sts1, {n: t.status(n, check=False) for n in NAMES}
    for name in ("n1", "n3"):
        assert sts1[name]["cluster"]["epoch"] == 1, sts1[name]["cluster"]
        assert sts1[name]["cluster"]["push"]["caught_up"] >= 1, \
            sts1[name]["cluster"]["push"]
        assert sts1[name]["node"]["name"] == name, sts1[name]["node"]
    assert t.metrics("n1")["vigil_config_epoch"] == 1

    # ---- back to epoch 0: refused, nothing changed
    t.write_config("n2", t.config("n2"))
    p = t.ctl("n2", "reload", check=False, timeout=5.0)
    assert p.returncode == 1, p
    assert "epoch 0 is lower than the running epoch 1" in p.stderr, p.stderr
    assert t.status("n2")["cluster"]["epoch"] == 1

    # no election through any of it
    b, sts2, _ = wait_one_active(t, NAMES, 2.0, "still")
    assert (b, sts2[b]["node"]["term"]) == (a, term), (a, term, b)


@pytest.mark.parametrize("version", [1, 2])
def test_older_peer_answered_in_kind(fresh3, version):
    """n1 hears "n2" in an older version (a correctly keyed heartbeat of
    n2's next incarnation, from n2's address: n1 takes it as n2 restarted,
    and n2's genuine datagrams as stale); n1 then sends n2 that version,
    which n2 still reads: version 1 (58-byte header, no epoch), and its
    status shows n2 at wire version 1 with epoch and digest unknown; or
    version 2 (no groups: one heartbeat of 86 bytes)."""
    t = fresh3
    wait_one_active(t, NAMES, 3.0, "first election")
    sts, _ = wait_until(lambda: all_agree(t, 0), 3.0, step=0.05)
    assert sts
    st = sts["n1"]
    p2 = peers_by_name(st)["n2"]
    f = dict(type=vgwire.HEARTBEAT, version=version,
             cluster_id=t.topo.cluster_id,
             sender=2, target=1, state=vgwire.STATES["standby"],
             priority=p2["priority"], term=p2["term"],
             incarnation=p2["incarnation"] + 1, seq=1, echo_seq=0,
             active=p2["active"],
             config_digest=int(st["cluster"]["safety_digest"], 16),
             reserved=vgwire.parts_hint(st["cluster"]["safety_parts"]),
             key_file=t.key_file)
    if version >= 2:
        f.update(epoch=st["cluster"]["epoch"],
                 conf_digest=int(st["cluster"]["digest"], 16))
    res = t.vgwire("n2", "send", {"src": N2, "dst": N1, "port": t.topo.port,
                                   "packets": [f], "barrier": False})
    assert res["sent"] == 1, res

    def n2_old():
        s = t.status("n1", check=False)
        q = s and peers_by_name(s)["n2"]
        return q if q and q["wire_version"] == version else None
    q, _ = wait_until(n2_old, 2.0, step=0.02)
    assert q, peers_by_name(t.status("n1"))["n2"]
    if version == 1:
        assert q["epoch"] is None and q["conf_digest"] is None and \
            q["conf_agrees"] is None, q
    else:
        assert q["conf_agrees"] is True, q
    cap = t.vgwire("n2", "sniff", {"iface": "eth0", "src": N1, "dst": N2,
                                    "dport": t.topo.port, "count": 4,
                                    "timeout": 2.0})
    pkts = cap["packets"]
    assert len(pkts) >= 2, "captured %d packets n1 -> n2" % len(pkts)
    for c in pkts:
        raw = bytes.fromhex(c["payload"])
        d = vgwire.decode(raw)
        assert d["version"] == version, d
        assert d["length"] == vgwire.packet_len(d["type"], version), d
        assert ("epoch" in d) == (version >= 2), d
        assert "group" not in d and "sections" not in d, d
        assert vgwire.mac_ok(t.key, raw), d
    # n2 reads them: n1 stays alive to it, its drops did not grow by version
    # or length
    st2 = t.status("n2")
    assert peers_by_name(st2)["n1"]["alive"], st2
    assert st2["drops"].get("version", 0) == 0 and \
        st2["drops"].get("length", 0) == 0, st2["drops"]


def test_older_peer_answered_before_it_is_fresh(fresh3):
    """A rolling upgrade (a reviewer's read): n1 restarts on a newer
    release while n2 still runs an older one, which drops what it cannot
    read and so never echoes n1's new incarnation; n1 in turn drops n2's
    datagrams as unfresh until it does.  n1 must answer in the version of
    n2's authentic datagrams: it sent its own (VG_VERSION) to a peer not
    yet heard fresh, and the two stayed deaf to each other.  Emulated: on
    n1, n2's real datagrams (version 4) are dropped; "n2" sends a
    correctly keyed version 3 heartbeat that echoes nothing of n1's new
    incarnation; what n1 sends n2 after it must be version 3."""
    t = fresh3
    wait_one_active(t, NAMES, 3.0, "first election")
    sts, _ = wait_until(lambda: all_agree(t, 0), 3.0, step=0.05)
    assert sts
    p2 = peers_by_name(sts["n1"])["n2"]
    t.nft("n1", """table inet vgt_old2 {
        chain in { type filter hook input priority 0; policy accept;
                   ip saddr %s udp dport %d @th,96,8 4 counter drop; }
    }""" % (N2, t.topo.port))
    t.stop("n1")
    t.start("n1")
    st = t.status("n1")
    f = dict(type=vgwire.HEARTBEAT, version=3,
             cluster_id=t.topo.cluster_id,
             sender=2, target=1, state=vgwire.STATES["standby"],
             priority=p2["priority"], term=p2["term"],
             incarnation=p2["incarnation"], seq=(1 << 40) + 7, echo_seq=0,
             active=p2["active"],
             config_digest=int(st["cluster"]["safety_digest"], 16),
             reserved=vgwire.parts_hint(st["cluster"]["safety_parts"]),
             epoch=st["cluster"]["epoch"],
             conf_digest=int(st["cluster"]["digest"], 16),
             key_file=t.key_file)
    res = t.vgwire("n2", "send", {"src": N2, "dst": N1, "port": t.topo.port,
                                   "packets": [f], "barrier": False})
    assert res["sent"] == 1, res

    def unfresh():
        s = t.status("n1", check=False)
        return s and s["drops"].get("unfresh", 0) > 0 or None
    ok, _ = wait_until(unfresh, 2.0, step=0.02)
    assert ok, t.status("n1")["drops"]
    assert not peers_by_name(t.status("n1"))["n2"]["alive"]
    cap = t.vgwire("n2", "sniff", {"iface": "eth0", "src": N1, "dst": N2,
                                    "dport": t.topo.port, "count": 4,
                                    "timeout": 2.0})
    pkts = cap["packets"]
    assert len(pkts) >= 2, "captured %d packets n1 -> n2" % len(pkts)
    versions = [vgwire.decode(bytes.fromhex(c["payload"]))["version"]
                for c in pkts]
    assert versions == [3] * len(pkts), versions
    out = t.nft("n1", "list table inet vgt_old2\n").stdout
    assert "counter packets 0 " not in out, out
    t.nft("n1", "delete table inet vgt_old2\n")
