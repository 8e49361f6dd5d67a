"""Heartbeats on a 3-node bridge: liveness, death detection, and the receive
pipeline's drops (wrong key, wrong cluster, foreign address, replay, stale
incarnation), with a positive control for the packet crafter.

Timing of the topology (vgtopo.three_nodes): interval h = 50 ms, dead_time
D = 250 ms.  Every wait is a poll with a bounded deadline.

How "never accepted" is shown: rx.c either drops a datagram (counting exactly
one reason) or accepts it.  Each crafted batch is followed by a barrier (a
datagram with a wrong magic, from the same socket); once the barrier is
counted, every crafted packet has been processed, so "reason +K exactly, the
other reasons +0" means none of the K was accepted.  Moreover the packets of
the wrong key / wrong cluster / foreign address cases carry n2's incarnation
+ 1, which the replay window would take: had one been accepted, n1 would show
peer n2 with that incarnation and a restart for good (the positive control
shows exactly that for a correct packet).
"""
import os
import signal
import time

import pytest

import vgtopo
import vgwire
from vgtopo import json_cmp, peers_by_name, wait_until

N1, N2 = "198.18.0.1", "198.18.0.2"
K = 5                       # crafted packets per case


# ---------------------------------------------------------------- helpers

def all_alive(t):
    """Status of every cluster node if each sees all its peers alive."""
    names = {n.name for n in t.topo.cluster_nodes}
    sts = {}
    for name in sorted(names):
        st = t.status(name, check=False)
        if not st:
            return None
        peers = peers_by_name(st)
        if set(peers) != names - {name}:
            return None
        if not all(p.get("alive") is True for p in peers.values()):
            return None
        sts[name] = st
    return sts


def wait_all_alive(t, timeout=3.0):
    sts, elapsed = wait_until(lambda: all_alive(t), timeout, step=0.01)
    assert sts, "not all peers alive within %.1f s:\n%s" % (
        timeout, {n.name: t.status(n.name, check=False)
                  for n in t.topo.cluster_nodes})
    return sts


def drops_delta(before, after):
    return {k: after["drops"].get(k, 0) - before["drops"].get(k, 0)
            for k in set(before["drops"]) | set(after["drops"])}


def peer_drop(st, peer, reason):
    return (peers_by_name(st)[peer].get("drops") or {}).get(reason, 0)


def poll_status(t, name, pred, timeout, step=0.02):
    """The node's first status (polled every `step`, at most `timeout` s)
    for which pred(status) holds; None if none did."""
    def probe():
        s = t.status(name, check=False)
        return s if s and pred(s) else None
    return wait_until(probe, timeout, step)[0]


def hb_fields(t, st, sender, target, **over):
    """A heartbeat as `sender` would send it, from what `st` (the target's
    status) shows of that sender; `over` overrides fields."""
    p = [p for p in st["peers"] if p["id"] == sender][0]
    f = dict(type=vgwire.HEARTBEAT, cluster_id=t.topo.cluster_id,
             sender=sender, target=target,
             state=vgwire.STATES.get(p.get("state"), 1),
             priority=p.get("priority") or 1, term=p.get("term") or 0,
             incarnation=p["incarnation"], seq=1, echo_seq=0,
             active=p.get("active") or 0,
             config_digest=int(st["cluster"]["safety_digest"], 16),
             reserved=vgwire.parts_hint(st["cluster"]["safety_parts"]))
    f.update(over)
    return f


def send_and_barrier(t, from_node, src, packets, target="n1", dst=N1,
                     timeout=3.0):
    """Sends packets (+ barrier) from `from_node`'s namespace, bound to
    `src`; returns (status before, status once the barrier is counted)."""
    before = t.status(target)
    res = t.vgwire(from_node, "send", {"src": src, "dst": dst,
                                        "port": t.topo.port,
                                        "packets": packets, "barrier": True})
    assert res["sent"] == len(packets) + 1
    m0 = before["drops"]["magic"]
    after = poll_status(t, target, lambda s: s["drops"]["magic"] > m0,
                        timeout)
    assert after, ("%s never counted the barrier (a wrong-magic datagram "
                   "from %s) within %.1f s: drops %s" % (
                       target, src, timeout, t.status(target)["drops"]))
    return before, after


# ---------------------------------------------------------------- liveness

def test_all_alive_within_1s(shared3):
    """First test on the module topology: measures from the last start."""
    t = shared3
    t_last = max(t.started_at.values())
    sts = wait_all_alive(t, timeout=3.0)
    elapsed = time.monotonic() - t_last
    print("all 3 nodes saw each other alive %.0f ms after the last start"
          % (elapsed * 1000))
    assert elapsed <= 1.0, "all alive only %.0f ms after the last start" % (
        elapsed * 1000)

    digests = {name: st["cluster"]["digest"] for name, st in sts.items()}
    assert len(set(digests.values())) == 1, "config digests differ: %s" % digests
    # the wire carries the safety digest (membership, votes, timing)
    safety = {name: (st["cluster"]["safety_digest"],
                     st["cluster"]["safety_parts"]) for name, st in sts.items()}
    assert len(set(repr(v) for v in safety.values())) == 1, safety
    digest = safety["n1"][0]
    assert sorted(safety["n1"][1]) == ["membership", "timing", "votes"], safety
    nodes = {n.name: n for n in t.topo.cluster_nodes}
    for name, st in sts.items():
        me = nodes[name]
        want = {"ok": True,
                "cluster": {"name": t.topo.cluster, "id": t.topo.cluster_id,
                            "quorum": 2, "total_votes": 3,
                            "interval_ms": t.topo.interval,
                            "dead_time_ms": t.topo.dead_time},
                "node": {"id": me.id, "name": name, "address": me.address,
                         "port": t.topo.port, "role": "node",
                         "priority": me.priority}}
        d = json_cmp(st, want)
        assert d is None, "%s: %s\n%s" % (name, d, st)
        wall_ms = int(t.started_wall[name] * 1000)
        assert st["node"]["incarnation"] >= wall_ms, (
            "%s: incarnation %d below the realtime ms at its start %d"
            % (name, st["node"]["incarnation"], wall_ms))
        for pname, p in peers_by_name(st).items():
            pn = nodes[pname]
            want = {"id": pn.id, "address": pn.address, "port": t.topo.port,
                    "role": "node", "votes": 1, "alive": True,
                    "priority": pn.priority, "config_digest": digest,
                    "digest_match": True, "agrees": True,
                    "disagree_since_ms": None, "digest_differs": None,
                    "echoes_ignored": 0, "votes_ignored": 0,
                    "requests_refused": 0,
                    "incarnation": sts[pname]["node"]["incarnation"]}
            d = json_cmp(p, want)
            assert d is None, "%s's peer %s: %s\n%s" % (name, pname, d, p)

    def measured():
        s = all_alive(t)
        if not s:
            return None
        ok = all(p.get("rtt_us") is not None and p.get("last_seen_ms")
                 is not None for st in s.values() for p in st["peers"])
        return s if ok else None

    s, el = wait_until(measured, 2.0)
    assert s, "rtt_us / last_seen_ms still null after 2 s: %s" % {
        n: [(p["name"], p.get("rtt_us"), p.get("last_seen_ms"))
            for p in st["peers"]] for n, st in (all_alive(t) or {}).items()}
    for name, st in s.items():
        for p in st["peers"]:
            assert 0 < p["rtt_us"] < 1000000, (name, p)
            assert p["last_seen_ms"] <= t.topo.dead_time, (name, p)
            assert p["rx"] > 0 and p["tx"] > 0, (name, p)
    print("rtt_us: %s" % {n: {p["name"]: p["rtt_us"] for p in st["peers"]}
                          for n, st in s.items()})
    table = t.ctl("n1", "status").stdout
    assert "n2" in table and "n3" in table, table


STRAY = r"""
import errno, socket, sys, time
addr, port = sys.argv[1], int(sys.argv[2])
plain = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    plain.bind((addr, port))
    print("plain bound")
except OSError as e:
    print("plain", errno.errorcode.get(e.errno, e.errno))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind((addr, port))
s.setblocking(False)
got, end = 0, time.monotonic() + 1.0
for _ in range(200):
    if time.monotonic() > end:
        break
    time.sleep(0.01)
    for _ in range(1000):
        try:
            s.recv(2048)
            got += 1
        except BlockingIOError:
            break
print("stray got", got)
"""


def test_lazy_socket(shared3):
    """docs/design.md, "Heartbeats that can wait": a standby's grid
    heartbeats to the other standby come to the socket read at the
    receiver's next wake-up (the kernel steers them by the program of
    vg_proto_lazy_prog), about one an interval; nothing comes there to
    the active, whose echoes and heartbeats all wake it; every peer stays
    alive.  The port is refused to a plain socket, and a stray one that
    joins its SO_REUSEPORT group gets nothing."""
    t = shared3

    def one_active():
        s = all_alive(t)
        return s if s and sum(st["node"]["state"] == "active"
                              for st in s.values()) == 1 else None
    sts = wait_until(one_active, 10.0, step=0.05)[0]
    assert sts, {n.name: t.status(n.name, check=False)
                 for n in t.topo.cluster_nodes}
    act = [n for n, st in sts.items() if st["node"]["state"] == "active"]
    for n, st in sts.items():
        assert st["lazy_socket"] == {"on": True}, (n, st["lazy_socket"])
    t0 = time.monotonic()
    p = t.netns_python("n1", "-c", STRAY, N1, str(t.topo.port))
    dt = time.monotonic() - t0
    sts1 = wait_all_alive(t)
    out = p.stdout.split("\n")
    assert "plain EADDRINUSE" in out, p.stdout + p.stderr
    assert "stray got 0" in out, p.stdout + p.stderr
    per_s = 1000.0 / t.topo.interval
    for n in sts:
        lazy = sts1[n]["counters"]["rx_lazy"] - sts[n]["counters"]["rx_lazy"]
        rx = sts1[n]["counters"]["rx_packets"] - \
            sts[n]["counters"]["rx_packets"]
        print("%s (%s): %d of %d datagrams lazy in %.2f s" % (
            n, sts[n]["node"]["state"], lazy, rx, dt))
        if n in act:
            assert lazy <= 2, (n, lazy, rx)
        else:
            # the other standby's grid rounds: one an interval
            assert 0.5 * per_s * dt <= lazy <= 1.5 * per_s * dt + 2, (
                n, lazy, rx, dt)
            # and the active's heartbeats, one an interval, woke it
            assert rx - lazy >= 0.5 * per_s * dt, (n, lazy, rx, dt)


def test_wire_capture_matches_crafter(shared3):
    """n2's heartbeats to n1, captured on n1's eth0, decode with vgwire as
    the spec says, verify with the key, and re-encode byte for byte: the
    crafter and the daemon speak the same format."""
    t = shared3
    wait_all_alive(t)
    res = t.vgwire("n1", "sniff", {"iface": "eth0", "src": N2, "dst": N1,
                                    "dport": t.topo.port, "count": 4,
                                    "timeout": 2.0})
    pkts = res["packets"]
    assert len(pkts) >= 2, "captured %d packets n2 -> n1 in 2 s" % len(pkts)
    st1, st2 = t.status("n1"), t.status("n2")
    digest = int(st1["cluster"]["safety_digest"], 16)
    parts = vgwire.parts_hint(st1["cluster"]["safety_parts"])
    seqs = []
    for c in pkts:
        raw = bytes.fromhex(c["payload"])
        f = vgwire.decode(raw)
        assert c["sport"] == t.topo.port, "n2 sent from port %d" % c["sport"]
        if f["type"] != vgwire.HEARTBEAT:
            continue
        assert vgwire.mac_ok(t.key, raw), "MAC does not verify: %s" % f
        d = json_cmp(f, {"magic": vgwire.MAGIC, "version": vgwire.VERSION,
                         "length": vgwire.packet_len(vgwire.HEARTBEAT),
                         "n_sections": 0,
                         "cluster_id": t.topo.cluster_id, "sender": 2,
                         "target": 1, "reserved": parts,
                         "incarnation": st2["node"]["incarnation"],
                         "config_digest": digest,
                         "epoch": st2["cluster"]["epoch"],
                         "conf_digest": int(st2["cluster"]["digest"],
                                            16)})
        assert d is None, "captured heartbeat: %s\n%s" % (d, f)
        # LAPSED of an active; REPLY on an echo sent on arrival
        assert f["flags"] & ~(vgwire.FLAG_LAPSED | vgwire.FLAG_REPLY) == 0, f
        assert f["state"] in vgwire.STATES.values(), f
        again = vgwire.encode(t.key, **{k: v for k, v in f.items()
                                        if k not in ("mac", "length")})
        assert again == raw, "re-encoded differs:\n%s\n%s" % (
            raw.hex(), again.hex())
        seqs.append(f["seq"])
    assert len(seqs) >= 2 and seqs == sorted(seqs) and \
        len(set(seqs)) == len(seqs), "seqs of n2 -> n1 not rising: %s" % seqs
    print("captured n2->n1 seqs %s, incarnation %d" % (
        seqs, st2["node"]["incarnation"]))


# ---------------------------------------------------------------- drops

def _case_wrong_key(t, st):
    f = hb_fields(t, st, 2, 1, incarnation=peers_by_name(st)["n2"]
                  ["incarnation"] + 1)
    bad = os.urandom(32)
    return "n2", N2, [dict(f, seq=i + 1, key_hex=bad.hex()) for i in range(K)]


def _case_wrong_cluster(t, st):
    f = hb_fields(t, st, 2, 1, cluster_id=t.topo.cluster_id + 1,
                  incarnation=peers_by_name(st)["n2"]["incarnation"] + 1)
    return "n2", N2, [dict(f, seq=i + 1, key_file=t.key_file)
                      for i in range(K)]


def _case_foreign_address(t, st):
    f = hb_fields(t, st, 2, 1,
                  incarnation=peers_by_name(st)["n2"]["incarnation"] + 1)
    return "x", t.topo.node("x").address, [
        dict(f, seq=i + 1, key_file=t.key_file) for i in range(K)]


def _case_replay_seq1(t, st):
    # seq 1..K of n2's current incarnation.  Wait until n1 has accepted more
    # than 64 + K of n2's stream, so these are below the window whether or
    # not n1 ever received them (n1 was up before n2 sent its seq 1, so it
    # has, but the window makes it certain).
    need = 64                               # VG_REPLAY_WINDOW
    st = poll_status(t, "n1", lambda s: peers_by_name(s)["n2"]["rx"] >
                     need + K + 1, 8.0, step=0.05)
    assert st, "n1 did not accept %d heartbeats of n2 within 8 s" % (
        need + K + 2)
    f = hb_fields(t, st, 2, 1)
    return "n2", N2, [dict(f, seq=i + 1, key_file=t.key_file)
                      for i in range(K)]


def _case_replay_captured(t, st):
    # The exact bytes of genuine heartbeats n2 -> n1, captured as n1 got them.
    res = t.vgwire("n1", "sniff", {"iface": "eth0", "src": N2, "dst": N1,
                                    "dport": t.topo.port, "count": K,
                                    "timeout": 2.0})
    assert len(res["packets"]) == K, res
    return "n2", N2, [{"raw": c["payload"]} for c in res["packets"]]


def _case_stale_incarnation(t, st):
    f = hb_fields(t, st, 2, 1,
                  incarnation=peers_by_name(st)["n2"]["incarnation"] - 1)
    return "n2", N2, [dict(f, seq=1000 + i, key_file=t.key_file)
                      for i in range(K)]


CASES = [
    # id, builder, drop reason, counted against peer n2 too (rx.c knows the
    # sender once its address is n2's; the cluster check comes before, and
    # a foreign address is a stranger's: counted against its source)
    ("wrong_key", _case_wrong_key, "auth", True),
    ("wrong_cluster", _case_wrong_cluster, "cluster", False),
    ("foreign_address", _case_foreign_address, "address", False),
    ("replay_seq1", _case_replay_seq1, "replay", True),
    ("replay_captured", _case_replay_captured, "replay", True),
    ("stale_incarnation", _case_stale_incarnation, "stale_incarnation", True),
]


@pytest.mark.parametrize("case,build,reason,per_peer", CASES,
                         ids=[c[0] for c in CASES])
def test_crafted_packet_dropped(shared3, case, build, reason, per_peer):
    t = shared3
    wait_all_alive(t)
    st = t.status("n1")
    from_node, src, packets = build(t, st)
    before, after = send_and_barrier(t, from_node, src, packets)
    delta = drops_delta(before, after)
    want = {k: 0 for k in delta}
    want[reason] = len(packets)
    want["magic"] = 1                       # the barrier
    assert delta == want, ("%s: %d packets from %s should add exactly %d to "
                           "drops.%s and nothing else; drops changed by %s"
                           % (case, len(packets), src, len(packets), reason,
                              {k: v for k, v in delta.items() if v}))
    pb, pa = peers_by_name(before)["n2"], peers_by_name(after)["n2"]
    if reason == "address":
        # not n2's: its own counter stays, the real source has them
        assert peer_drop(after, "n2", reason) == peer_drop(before, "n2",
                                                           reason), pa
        srcs = {s["address"]: s for s in after["drop_sources"]}
        # (its last drop is the barrier's: "magic")
        assert src in srcs and srcs[src]["drops"] >= len(packets), \
            after["drop_sources"]
    if per_peer:
        got = peer_drop(after, "n2", reason) - peer_drop(before, "n2", reason)
        assert got == len(packets), (
            "%s: peer n2's drops.%s rose by %d, not %d: %s"
            % (case, reason, got, len(packets), pa.get("drops")))
    assert pa["alive"] is True, pa
    assert pa["incarnation"] == pb["incarnation"], (
        "%s: a crafted packet was accepted: n2's incarnation %d -> %d"
        % (case, pb["incarnation"], pa["incarnation"]))
    assert pa["restarts"] == pb["restarts"], (case, pb, pa)
    c_b, c_a = before["counters"], after["counters"]
    assert c_a["rx_packets"] - c_b["rx_packets"] >= len(packets) + 1, (c_b, c_a)
    for st in (before, after):
        c = st["counters"]
        assert c["rx_packets"] == c["rx_accepted"] + sum(st["drops"].values()), (
            "%s: rx_packets %d != rx_accepted %d + drops %d: a datagram that "
            "was neither accepted nor dropped for a reason (or both)"
            % (case, c["rx_packets"], c["rx_accepted"],
               sum(st["drops"].values())))

    # n2's genuine stream is still taken, not dropped: the replay state was
    # not disturbed by the crafted packets.
    rx0 = pa["rx"]
    later = poll_status(t, "n1", lambda s: peers_by_name(s)["n2"]["rx"] >=
                        rx0 + 3, 2.0)
    assert later, "n1 stopped accepting n2's heartbeats after the %s packets" % case
    d2 = drops_delta(after, later)
    assert not any(d2.values()), "drops after the %s packets: %s" % (case, d2)
    print("%s: %d packets from %s -> drops.%s +%d, nothing accepted"
          % (case, len(packets), src, reason, delta[reason]))


def test_crafted_heartbeat_accepted_positive_control(fresh3):
    """A correctly keyed heartbeat from n2's address, sender 2, n2's
    incarnation + 1, seq 1: n1 must take it as a restart of n2.  Shows the
    crafter right, so the drops above are for the reason tested.  Then n2's
    genuine heartbeats are of an older incarnation: stale_incarnation."""
    t = fresh3
    wait_all_alive(t)
    st = t.status("n1")
    p2 = peers_by_name(st)["n2"]
    inc = p2["incarnation"] + 1
    f = hb_fields(t, st, 2, 1, incarnation=inc, seq=1)
    before, after = send_and_barrier(t, "n2", N2,
                                     [dict(f, key_file=t.key_file)])
    delta = drops_delta(before, after)
    assert {k: v for k, v in delta.items() if v and k != "stale_incarnation"} \
        == {"magic": 1}, "the correct packet was dropped: %s" % delta
    pa = peers_by_name(after)["n2"]
    assert pa["incarnation"] == inc or pa["restarts"] == p2["restarts"] + 1, (
        "n1 did not take the crafted heartbeat (incarnation %d, seq 1): peer "
        "n2 now %s" % (inc, pa))
    stale = poll_status(t, "n1", lambda s: s["drops"]["stale_incarnation"]
                        > 0, 1.0)
    assert stale, "n2's genuine heartbeats (older incarnation) not counted stale"
    print("crafted restart accepted: n2 incarnation %d -> %d, restarts %d -> "
          "%d; n2's own heartbeats now stale (%d so far)" % (
              p2["incarnation"], pa["incarnation"], p2["restarts"],
              pa["restarts"], stale["drops"]["stale_incarnation"]))


# ---------------------------------------------------------------- death

POLL_ALLOWANCE_MS = 50      # our 10 ms poll period + vigilctl round trips


def test_stopped_node_marked_dead(fresh3):
    """SIGTERM n3; n1 and n2 are polled every 10 ms.  Measured two ways:
    from the SIGTERM (n3 may have sent its last packet up to then), bound
    D + h + allowance; and from the last packet of n3 that each observer's
    eth0 saw (a sniffer in its namespace, same CLOCK_MONOTONIC), bound
    D + allowance: the agent's dead timer is exact."""
    t = fresh3
    D, h = t.topo.dead_time, t.topo.interval
    wait_all_alive(t)
    observers = ["n1", "n2"]
    n3 = t.topo.node("n3").address
    sniffers = {o: t.sniff_background(o, {
        "iface": "eth0", "src": n3, "dst": t.topo.node(o).address,
        "dport": t.topo.port, "count": 1000, "timeout": (D + 1500) / 1000.0,
        "idle": (D + 300) / 1000.0}) for o in observers}
    # at least one packet of n3 reached each observer since its sniffer began
    rx0 = {o: peers_by_name(t.status(o))["n3"]["rx"] for o in observers}
    ok, _ = wait_until(lambda: all(
        peers_by_name(t.status(o))["n3"]["rx"] >= rx0[o] + 2
        for o in observers), 2.0)
    assert ok, "n3's heartbeats stopped arriving before the SIGTERM"

    t0 = time.monotonic()
    t.procs["n3"].send_signal(signal.SIGTERM)
    seen = {o: [] for o in observers}       # (t_req, t_resp, peer n3)
    dead = {}
    next_tick = t0
    deadline = t0 + (D + 1000) / 1000.0
    for _ in range(int((D + 1000) / 10) + 2):
        for o in observers:
            if o in dead:
                continue
            tq = time.monotonic()
            s = t.status(o, check=False)
            tr = time.monotonic()
            p = peers_by_name(s)["n3"] if s else None
            seen[o].append((tq, tr, p))
            if p is not None and p.get("alive") is False:
                dead[o] = (tq, tr, p)
        now = time.monotonic()
        if len(dead) == len(observers) or now >= deadline:
            break
        next_tick += 0.010
        if next_tick > now:
            time.sleep(next_tick - now)     # polling period
    rc = t.stop("n3")
    captured = {o: sniffers[o].result()["packets"] for o in observers}
    assert rc == 0, "vigild n3 exited %s on SIGTERM" % rc
    assert set(dead) == set(observers), (
        "not marked dead within %d ms of SIGTERM by %s" % (
            D + 1000, sorted(set(observers) - set(dead))))
    for o in observers:
        tq, tr, p = dead[o]
        assert captured[o], "%s's sniffer saw no packet of n3" % o
        t_last = max(c["t"] for c in captured[o])
        alive_obs = [x for x in seen[o] if x[2] and x[2].get("alive")]
        lower = (alive_obs[-1][0] - t0) * 1000 if alive_obs else 0.0
        upper = (tr - t0) * 1000
        from_last = (tr - t_last) * 1000
        print("%s marked n3 dead between %.1f and %.1f ms after SIGTERM, "
              "<= %.1f ms after n3's last packet reached it (%.1f ms before "
              "the SIGTERM); last_seen_ms then %s; D=%d h=%d"
              % (o, lower, upper, from_last, (t0 - t_last) * 1000,
                 p.get("last_seen_ms"), D, h))
        assert upper <= D + h + POLL_ALLOWANCE_MS, (
            "%s marked n3 dead only %.1f ms after SIGTERM: more than "
            "dead_time %d + interval %d + %d ms polling/ctl allowance"
            % (o, upper, D, h, POLL_ALLOWANCE_MS))
        assert from_last <= D + POLL_ALLOWANCE_MS, (
            "%s marked n3 dead only %.1f ms after n3's last packet arrived: "
            "more than dead_time %d + %d ms polling/ctl allowance"
            % (o, from_last, D, POLL_ALLOWANCE_MS))
        assert from_last >= D - 15, (
            "%s marked n3 dead %.1f ms after n3's last packet arrived: before "
            "dead_time %d (- 15 ms for the sniffer's timestamps)"
            % (o, from_last, D))
        assert upper >= D - h - 25, (
            "%s marked n3 dead %.1f ms after SIGTERM: n3 was heard within an "
            "interval before it, so not before dead_time - interval (- 25 ms "
            "jitter)" % (o, upper))
        if p.get("last_seen_ms") is not None:
            assert p["last_seen_ms"] >= D - 1, (
                "%s marked n3 dead when it was last seen only %s ms ago "
                "(dead_time %d)" % (o, p["last_seen_ms"], D))
    final = {o: peers_by_name(t.status(o)) for o in observers}
    assert final["n1"]["n2"]["alive"] and final["n2"]["n1"]["alive"], final
    assert not final["n1"]["n3"]["alive"] and not final["n2"]["n3"]["alive"]


# ---------------------------------------------------------------- cleanup

def test_teardown_even_when_a_test_fails(tmp_path):
    """A topology torn down by its context manager while an exception
    propagates leaves no namespace and no process."""
    t = vgtopo.Topology(vgtopo.three_nodes(), tmp_path)
    with pytest.raises(RuntimeError, match="deliberate"):
        with t:
            t.build()
            t.start("n1")
            assert any(ns.startswith(t.tag + "-") for ns in vgtopo.netns_list())
            raise RuntimeError("deliberate failure inside a topology")
    assert not [ns for ns in vgtopo.netns_list() if ns.startswith(t.tag + "-")]
    assert all(p.poll() is not None for p in t.procs.values())
    assert not t.teardown_errors, t.teardown_errors
