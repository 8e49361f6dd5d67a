"""IPv6 end to end (issue 13) on a dual-stack topology
(vgtopo.dual_stack_nodes: failover_nodes() plus n1..n3 at 2001:2::1..3/64
and the client at 2001:2::200/64; IPv6 only from 2001:2::/48, only inside
the test's namespaces; the nodes' own addresses added with `nodad`, the
link-local DAD waited for at build and its wait printed).

- Heartbeats over IPv6: the cluster config names every peer by its IPv6
  address, and nftables in every node namespace drops IPv4 UDP to and from
  the cluster port, so an election with every peer alive can only have been
  made over IPv6.
- An IPv4 and an IPv6 VIP on one cluster: the active holds both (the IPv6
  one added with IFA_F_NODAD by agent/vip.c: never tentative); each
  failover kind of test_failover.py (SIGKILL of the agent, SIGTERM,
  `vigilctl failover --to`, link down, nftables isolation) moves both to
  one new holder, never two holders of either (a VipSampler per VIP:
  fib_trie for the IPv4 one, if_inet6 for the IPv6 one), in the time the
  kind allows, and the client's IPv6 neighbour entry for the VIP, primed
  with an echo, turns to the new holder's MAC by itself (the unsolicited
  neighbour advertisement), then both VIPs answer it.
- Controls: the if_inet6 sampler must see two holders when the IPv6 VIP is
  added by hand on two nodes; a move by hand (no NA) must leave the client's
  entry on the old MAC.

Every wait is a poll with a bounded deadline; figures are printed (-s).
"""
import os
import re
import signal
import time

import pytest

import vgtopo
from conftest import finish_made
from vgtopo import wait_until

NAMES = ("n1", "n2", "n3")
CLIENT = "client"
VIP4 = "198.18.0.100"
VIP6 = "2001:2::100"
VIPS = [(VIP4 + "/24", "eth0"), (VIP6 + "/64", "eth0")]
D_MS, H_MS = 250, 50
RHO = 0.01
CANDIDACY_MS = D_MS * (1 + RHO) / (1 - RHO)     # a standby's wait, at least
SLACK_MS = 30           # sampler sweep + scheduling, on a 2-CPU machine
STEADY_S = 0.4          # > 2h + a round: the election's back-offs are over
W4, W6 = VIP4 + "/24", VIP6 + "/64"
NO_UDP4 = """table inet vgt_v6only {
    chain v4in { type filter hook input priority 0; policy accept;
        meta nfproto ipv6 udp dport %(port)d counter
        meta nfproto ipv4 udp dport %(port)d drop
        meta nfproto ipv4 udp sport %(port)d drop
    }
    chain v4out { type filter hook output priority 0; policy accept;
        meta nfproto ipv4 udp dport %(port)d drop
        meta nfproto ipv4 udp sport %(port)d drop
    }
}
"""


@pytest.fixture
def ds_make(tmp_path_factory):
    """make(watch=(), **topo_kw): a dual-stack failover cluster built, a
    VipSampler started on each VIP of `watch` (before any daemon), the
    hook setup(t) run, then every vigild started.  At the end every vigild
    is stopped (SIGTERM) while the samplers still watch; the test fails on
    two holders in one sweep of any sampler, a sampler error or slow
    sweeps (as conftest's fo3_make); then everything is torn down."""
    made = []

    def make(watch=(), setup=None, start=True, **kw):
        t = vgtopo.build_topology(vgtopo.dual_stack_nodes(**kw),
                                  tmp_path_factory.mktemp("v6"), start=False)
        made.append(t)
        t.direct_ctl = True
        print("\n%s: link-local DAD done %.0f ms after the build's links "
              "came up" % (t.tag, t.dad_wait_s * 1000))
        if setup is not None:
            setup(t)
        t.samplers6 = {v: t.watch(v) for v in watch}
        if start:
            t.start_all()
        return t

    yield make
    finish_made(made)


def wait_one_active(t, names, timeout, what):
    return vgtopo.wait_one_active(t, names, timeout, what)


def ping(t, dst, tries=5):
    for _ in range(tries):
        rtt = t.ping(CLIENT, dst, wait=0.5)
        if rtt is not None:
            return rtt
    return None


def test_heartbeats_over_ipv6(ds_make):
    """Peers named by 2001:2::1..3, IPv4 UDP on the cluster port dropped in
    every node: one active, agreed on by all, every peer alive, and each
    node sees its peers at their IPv6 addresses."""
    def no_udp4(t):
        for n in NAMES:
            t.nft(n, NO_UDP4 % {"port": t.topo.port})

    t = ds_make(setup=no_udp4, peers_v6=True)
    a, sts, el = wait_one_active(t, NAMES, 5.0, "election over IPv6")
    for n, st in sts.items():
        peers = vgtopo.peers_by_name(st)
        for m in NAMES:
            if m == n:
                continue
            want = t.topo.node(m).address6
            assert peers[m]["alive"] and peers[m]["rx"] > 0, (n, m, peers[m])
            assert peers[m]["address"] == want, (
                "%s names %s by %s, not %s" % (n, m, peers[m]["address"],
                                               want))
    # the cluster stays whole for 0.5 s more (10 heartbeats) over IPv6
    wait_until(lambda: False, 0.5, step=0.05)       # a bounded pause
    b, sts2, _ = wait_one_active(t, NAMES, 1.0, "still one active")
    assert b == a and sts2[a]["node"]["term"] == sts[a]["node"]["term"], (
        a, b, sts[a]["node"], sts2[b]["node"])
    # over IPv6 too the kernel steers a standby's heartbeats to the other
    # standby into its second socket, and nothing into the active's
    # (docs/design.md, "Heartbeats that can wait")
    lazy = {n: sts2[n]["counters"]["rx_lazy"] - sts[n]["counters"]["rx_lazy"]
            for n in NAMES}
    for n in NAMES:
        assert sts2[n]["lazy_socket"] == {"on": True}, (n, sts2[n])
        if n == a:
            assert lazy[n] <= 2, lazy
        else:
            assert lazy[n] >= 2, lazy
    # and IPv6 UDP to the cluster port did arrive at every node
    v6in = {}
    for n in NAMES:
        out = vgtopo.run(["ip", "netns", "exec", t.ns(n), "nft", "list",
                          "chain", "inet", "vgt_v6only", "v4in"]).stdout
        m = re.search(r"ipv6 udp dport %d counter packets (\d+)"
                      % t.topo.port, out)
        assert m, out
        v6in[n] = int(m.group(1))
        assert v6in[n] > 0, (n, out)
    print("IPv6 heartbeats: %s active in term %d, all peers alive, %.0f ms "
          "after the first start; IPv6 UDP datagrams in per node %s (IPv4 "
          "UDP on the port dropped); read from the second socket in 0.5 s "
          "%s" % (a, sts[a]["node"]["term"], el * 1000, v6in, lazy))


def test_link_back_heard_over_ipv6(ds_make):
    """Heartbeats over IPv6 (IPv4 UDP dropped, as above): a standby's link
    goes down until its NDP entries for its peers are unresolved, then
    comes back; the peers hear it again within a few heartbeats, not at
    the kernel's next neighbour solicitation (vigild deletes the entries
    and asks again: agent/neigh.c)."""
    def no_udp4(t):
        for n in NAMES:
            t.nft(n, NO_UDP4 % {"port": t.topo.port})

    t = ds_make(setup=no_udp4, peers_v6=True)
    a, sts, _ = wait_one_active(t, NAMES, 5.0, "election over IPv6")
    s = [n for n in NAMES if n != a][-1]
    peers = [n for n in NAMES if n != s]
    ms = vgtopo.link_flap_heard(t, s, peers, [
        t.topo.node(p).address6 for p in peers], 0.6)
    assert ms < 4 * H_MS, (
        "%s's peers heard it over IPv6 %.0f ms after its link came back "
        "(> 4h = %d ms)" % (s, ms, 4 * H_MS))
    assert "probed again" in open(t.log_path(s)).read(), \
        vgtopo.log_tail(t.log_path(s))
    print("IPv6 link flap of standby %s: heard again %.0f ms after the link "
          "came back" % (s, ms))


def dual_active(t, s4, s6):
    """The first election with an IPv4 and an IPv6 VIP: one active holding
    both (sampler and status; the IPv6 one nodad), the client's entry for
    each primed on its MAC (an echo each), then a steady moment (the
    election's back-offs are over); returns (active, statuses)."""
    a, sts, _ = wait_one_active(t, NAMES, 5.0, "first election")
    for s in (s4, s6):
        s.wait_holder(lambda h: h == [a], 1.0, "%s holding %s" % (a, s.vip))
    assert {v["address"].split("/")[0] for v in sts[a]["vips"]} == {
        VIP4, VIP6}, sts[a]["vips"]
    assert_nodad(t, a)
    for vip in (VIP4, VIP6):
        rtt = ping(t, vip)
        assert rtt is not None, "client got no echo from %s (on %s)" % (vip, a)
        ent = t.neigh(CLIENT, vip)
        assert ent and ent[0] == t.mac(a), (vip, ent, a, t.mac(a))
    wait_until(lambda: False, STEADY_S, step=0.05)      # a bounded pause
    b0, sts, _ = wait_one_active(t, NAMES, 1.0, "steady")
    assert b0 == a, (a, b0)
    return a, sts


def assert_nodad(t, name):
    ai = t.addr6(name, VIP6)
    assert ai is not None and ai.get("nodad") and not ai.get("tentative") \
        and not ai.get("dadfailed"), (
            "%s's IPv6 VIP should be added with IFA_F_NODAD: %s" % (name, ai))


def na_follows(t, new, t_up):
    """The client's IPv6 entry for the VIP, primed on the old holder's MAC,
    turns to `new`'s by itself (the client sends nothing): the unsolicited
    NA.  Returns the bounds of the change in ms after t_up (the sampler's
    first read with the VIP on `new`) and the polls' figures."""
    want = t.mac(new)
    polls = []                  # (start, end) of each `ip neigh` poll

    def follows():
        t0 = time.monotonic()
        e = t.neigh(CLIENT, VIP6)
        polls.append((t0, time.monotonic()))
        return e if e and e[0] == want else None

    ent, _ = wait_until(follows, 1.0, step=0.01)
    assert ent, ("client's neighbour entry for %s is %s 1 s after the move, "
                 "not %s's eth0 %s: no unsolicited NA arrived"
                 % (VIP6, t.neigh(CLIENT, VIP6), new, want))
    # an unsolicited NA with the override flag turns a REACHABLE entry to
    # the new address STALE (RFC 4861 7.2.5); had the client probed itself
    # (it sent nothing), the entry would come back REACHABLE (or DELAY/PROBE)
    assert ent[1] == ["STALE"], (
        "client's entry for %s on the new MAC is %s, not STALE: not the "
        "unsolicited NA's doing" % (VIP6, ent[1]))
    # the entry changed after the start of the last poll that still showed
    # the old MAC (or the VIP's arrival, whichever is later) and before the
    # end of the first that showed the new one
    last_old = polls[-2][0] if len(polls) > 1 else 0
    return ("client's IPv6 entry on the new MAC (STALE) %.0f..%.0f ms after "
            "the IPv6 VIP's arrival (%d polls of `ip neigh`, %.0f ms each at "
            "most)" % ((max(last_old, t_up) - t_up) * 1000,
                       (polls[-1][1] - t_up) * 1000, len(polls),
                       max(p[1] - p[0] for p in polls) * 1000))


def both_answer(t, new):
    """Both VIPs answer the client's echo, from `new`'s MAC."""
    for vip in (VIP6, VIP4):
        assert ping(t, vip) is not None, (
            "client cannot reach %s after the move to %s" % (vip, new))
        ent = t.neigh(CLIENT, vip)
        assert ent and ent[0] == t.mac(new), (vip, ent, new, t.mac(new))


# The failover kinds of test_failover.py, on the dual-stack cluster.  Each
# acts on the active `a` (the others `rest`, in priority order) and returns
# (time before, time after, the node that must take over or None).

def fault_sigkill(t, a, rest):
    t0 = t.kill(a, signal.SIGKILL)
    t.procs[a].wait(timeout=2.0)
    return t0, time.monotonic(), None


def fault_sigterm(t, a, rest):
    t0 = t.kill(a, signal.SIGTERM)
    rc = t.procs[a].wait(timeout=3.0)
    assert rc == 0, "%s: vigild exited %s on SIGTERM" % (a, rc)
    return t0, time.monotonic(), None


def fault_failover_to(t, a, rest):
    to = rest[-1]       # the lowest priority: not whom an election picks
    t0 = time.monotonic()
    p = t.ctl(a, "failover", "--to", to, check=False, timeout=5.0)
    assert p.returncode == 0, "failover --to %s: exit %d %s%s" % (
        to, p.returncode, p.stdout, p.stderr)
    return t0, time.monotonic(), to


def fault_link_down(t, a, rest):
    t0 = time.monotonic()
    t.link_set(t.br_ns, t.bridge_port(a), False)
    return t0, time.monotonic(), None


def fault_isolation(t, a, rest):
    t0 = time.monotonic()
    t.isolate(a)
    return t0, time.monotonic(), None


def released(fo_ms, t0, t1, L):
    """The old active released (RELEASE, hand-over): well under D."""
    return fo_ms < D_MS, "< D = %d ms (the release path)" % D_MS


def silent(fo_ms, t0, t1, L):
    """Nothing reached the others: none may stand before D(1+rho)/(1-rho)
    after it was last heard (h before the fault at most)."""
    return (CANDIDACY_MS - H_MS <= fo_ms <= 2 * D_MS + 4 * H_MS,
            "in [D(1+rho)/(1-rho) - h, 2D + 4h] = [%.0f, %d] ms" % (
                CANDIDACY_MS - H_MS, 2 * D_MS + 4 * H_MS))


FAULTS = {
    "sigkill": (fault_sigkill, released),
    "sigterm": (fault_sigterm, released),
    "failover-to": (fault_failover_to, released),
    "link-down": (fault_link_down, silent),
    "isolation": (fault_isolation, silent),
}


@pytest.mark.parametrize("kind", list(FAULTS))
def test_dual_stack_failover(ds_make, kind):
    """An IPv4 and an IPv6 VIP, peers over IPv6; the active's agent
    SIGKILLed (its keeper releases), SIGTERMed (a hand-over), told to hand
    over to the lowest-priority node (`vigilctl failover --to`), its link
    cut (carrier off at the bridge) or isolated (nftables drops the cluster
    port both ways): both VIPs move to one new holder, each strictly after
    the old holder lost it (never two holders of either, from before the
    first start to after the last stop: the fib_trie and if_inet6
    samplers); the isolated active's keeper drops them within its lease;
    the move takes well under D when the old active released, D..2D when
    it fell silent; the client's IPv6 entry follows to the new MAC by
    itself (unsolicited NA); both VIPs answer the client afterwards."""
    fault, timing = FAULTS[kind]
    t = ds_make(watch=(W4, W6), peers_v6=True, vips=VIPS)
    s4, s6 = t.samplers6[W4], t.samplers6[W6]
    a, sts = dual_active(t, s4, s6)
    term0, L = sts[a]["node"]["term"], sts[a]["cluster"]["lease_ms"]
    rest = [n for n in NAMES if n != a]

    t0, t1, to = fault(t, a, rest)
    h4, _ = s4.wait_holder(lambda h: len(h) == 1 and h[0] in rest, 3.0,
                           "a new IPv4 holder after %s of %s" % (kind, a))
    new = h4[0]
    assert to is None or new == to, (
        "failover --to %s: %s took the VIPs" % (to, new))
    s6.wait_holder(lambda h: h == [new], 2.0, "%s holding %s" % (new, VIP6))
    ho = {s: s.assert_moved(a, new, t0, "%s, %s of %s" % (s.vip, kind, a))
          for s in (s4, s6)}
    follow = na_follows(t, new, ho[s6]["t_up"])
    for s in (s4, s6):
        assert not s.doubles(), (s.vip, s.doubles()[:3], s.changes())
        fo_ms = (ho[s]["t_up"] - t0) * 1000
        ok, want = timing(fo_ms, t0, t1, L)
        assert ok, "%s of %s: %s on %s after %.1f ms, not %s" % (
            kind, a, s.vip, new, fo_ms, want)
    if kind == "isolation":
        # the cut was complete once nft returned: the isolated active's
        # lease ends L after t1 at the latest, and its keeper drops the VIPs
        for s in (s4, s6):
            late = (ho[s]["t_down"] - t1) * 1000
            assert late <= L + H_MS / 4 + SLACK_MS, (
                "isolated %s dropped %s %.1f ms after the cut was complete: "
                "later than its lease (%d ms) + h/4 + %d ms" % (
                    a, s.vip, late, L, SLACK_MS))
    b, sts2, _ = wait_one_active(t, rest, 2.0, "after %s of %s" % (kind, a))
    assert b == new and sts2[b]["node"]["term"] > term0, (
        b, new, term0, sts2[b]["node"])
    assert_nodad(t, new)
    both_answer(t, new)
    print("dual stack, %s of %s: %s" % (kind, a, "; ".join(
        "%s off %s after %.2f ms, on %s after %.2f ms (hole %.2f..%.2f ms, "
        "%s)" % (s.vip, a, (ho[s]["t_down"] - t0) * 1000, new,
                 (ho[s]["t_up"] - t0) * 1000, ho[s]["hole_min_ms"],
                 ho[s]["hole_max_ms"], ho[s]["proven_by"])
        for s in (s4, s6)) + "; " + follow))


EXPIRY_MARGIN_S = 1.3     # the kernel's lifetime check: whole seconds
                          # (minus 20 ms), rescheduled at least 1 s ahead


@pytest.mark.parametrize("lifetime,dead", [(1, D_MS), (2, D_MS), (1, 2500)],
                         ids=["lifetime1", "lifetime2", "lifetime1-D2500"])
def test_agent_and_keeper_killed(ds_make, lifetime, dead):
    """A whole container killed (an OOM kill of its cgroup, SIGKILL of
    every process): the active's agent and keeper frozen (SIGSTOP, so that
    neither sees the other die), then both SIGKILLed by PID.  Nobody
    removes the VIPs and nobody sends RELEASE: the others elect a new
    active after D(1+rho)/(1-rho) - h at the earliest, which adds both
    VIPs, while the old node's kernel keeps them until their lifetime
    (vip_lifetime, refreshed every vip_lifetime/4 while held) runs out.
    Asserted: the new holder took them no earlier than that (no RELEASE);
    the old node lost each between 3/4 of vip_lifetime after the kill
    (the last refresh was at most a quarter before) and vip_lifetime + the
    kernel's check margin; two holders only in between, only those two;
    none at all when dead_time exceeds vip_lifetime + that margin + h (the
    operator's way to close the window, at the price of a slower silent
    failover); the client's IPv6 entry follows the new holder (its NA).
    The two-holder window is printed (docs/operations.md, "Containers")."""
    t = ds_make(watch=(W4, W6), peers_v6=True, vips=VIPS, dead_time=dead,
                extra_conf="vip_lifetime = %d;\n" % lifetime)
    s4, s6 = t.samplers6[W4], t.samplers6[W6]
    a, sts = dual_active(t, s4, s6)
    ap, kp = t.pid(a), sts[a]["node"]["keeper_pid"]
    assert kp in vgtopo.children_named(ap, vgtopo.KEEPER_COMM), (
        "keeper_pid %d is not a child of %s's vigild %d" % (kp, a, ap))
    t.note_keeper(a, kp)
    rest = [n for n in NAMES if n != a]
    candidacy_ms = dead * (1 + RHO) / (1 - RHO) - H_MS
    closed = dead >= (lifetime + EXPIRY_MARGIN_S) * 1000 + H_MS

    tk = time.monotonic()
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for pid in (kp, ap):
            os.kill(pid, sig)
    t.procs[a].wait(timeout=2.0)
    gone, _ = wait_until(lambda: not vgtopo.pid_running(kp), 2.0, step=0.01)
    assert gone, "keeper %d of %s survived SIGKILL" % (kp, a)
    h, _ = s4.wait_holder(lambda h: any(n in h for n in rest),
                          dead / 1000.0 + 2.0, "a new holder after %s's "
                          "agent and keeper died" % a)
    new = [n for n in h if n in rest][0]
    s6.wait_holder(lambda h: new in h, 1.0, "%s holding %s" % (new, VIP6))
    follow = na_follows(t, new, s6.first(new, "up", tk)[2][1])
    for s in (s4, s6):
        s.wait_holder(lambda h: h == [new], lifetime + EXPIRY_MARGIN_S + 1.0,
                      "%s's kernel dropping %s" % (a, s.vip))
    b, sts2, _ = wait_one_active(t, rest, 2.0, "after the kill")
    assert b == new and sts2[b]["node"]["term"] > sts[a]["node"]["term"], (
        b, new, sts2[b]["node"])
    figs = []
    for s in (s4, s6):
        up, down = s.first(new, "up", tk), s.first(a, "down", tk)
        up_ms = (up[2][1] - tk) * 1000
        assert up_ms >= candidacy_ms, (
            "%s took %s %.1f ms after the kill: before D(1+rho)/(1-rho) - h "
            "= %.0f ms, though nobody released" % (new, s.vip, up_ms,
                                                   candidacy_ms))
        lo, hi = down[1][0] - tk, down[2][1] - tk
        assert 0.75 * lifetime - 0.05 <= hi and lo <= \
            lifetime + EXPIRY_MARGIN_S, (
                "%s left %s's kernel %.3f..%.3f s after the kill: not by its "
                "lifetime (%d s, refreshed every %.2f s)" % (
                    s.vip, a, lo, hi, lifetime, lifetime / 4))
        dbl = s.doubles(tk)
        assert all(sorted(x[1]) == sorted([a, new]) and
                   up[1][0] <= x[0] <= down[2][1] for x in dbl), (
            "two holders of %s outside [%s up, %s down]: %s; changes %s" % (
                s.vip, new, a, dbl[:3], s.changes(tk)))
        if closed:
            ho = s.assert_moved(a, new, tk, "%s with D = %d ms" % (s.vip,
                                                                  dead))
            assert not dbl, dbl[:3]
            figs.append("%s on %s after %.0f ms, off %s after %.0f..%.0f ms: "
                        "no two holders (hole %.0f..%.0f ms)" % (
                            s.vip, new, up_ms, a, lo * 1000, hi * 1000,
                            ho["hole_min_ms"], ho["hole_max_ms"]))
            continue
        assert dbl, ("no two holders of %s although %s took it before %s's "
                     "kernel dropped it?" % (s.vip, new, a))
        s.allow_doubles(up[1][0], down[2][1], [a, new])
        figs.append("%s on %s after %.0f ms, off %s after %.0f..%.0f ms: "
                    "two holders for %.0f..%.0f ms" % (
                        s.vip, new, up_ms, a, lo * 1000, hi * 1000,
                        (down[1][0] - up[2][1]) * 1000,
                        (down[2][1] - up[1][0]) * 1000))
    both_answer(t, new)
    print("agent and keeper of %s killed together, vip_lifetime %d s, D %d "
          "ms: %s; %s" % (a, lifetime, dead, "; ".join(figs), follow))


def test_sampler6_sees_two_holders(ds_make):
    """Positive control of the IPv6 reading (no daemon runs): the IPv6 VIP
    added by hand (nodad) to n1, then n2, then removed from n1: the if_inet6
    sampler must report two holders, and neither its sweeps nor the kernel's
    order (AddrOrder, inet6 lines) may call that move proven."""
    t = ds_make(start=False)
    s = vgtopo.VipSampler(t, VIP6 + "/64").start()
    try:
        t0 = time.monotonic()
        for name, verb, want in (("n1", "add", ["n1"]),
                                 ("n2", "add", ["n1", "n2"]),
                                 ("n1", "del", ["n2"]),
                                 ("n2", "del", [])):
            vgtopo.run(["ip", "-n", t.ns(name), "-6", "addr", verb,
                        VIP6 + "/64", "dev", "eth0"] +
                       (["nodad"] if verb == "add" else []))
            s.wait_holder(lambda h: h == want, 1.0, "holders %s" % want)
        got, _ = wait_until(lambda: len(s.order.events) >= 4, 2.0,
                            step=0.01)
    finally:
        s.stop()
    probs = s.problems()
    assert any("TWO HOLDERS" in p for p in probs), (probs, s.changes())
    assert [(e[1], e[2]) for e in s.order.events] == [
        ("n1", False), ("n2", False), ("n1", True), ("n2", True)], (
        "ip monitor's inet6 lines: %s" % s.order.events)
    ho = s.handover("n1", "n2", t0)
    assert ho["down"] and ho["up"] and not ho["proven"], ho
    print("IPv6 sampler control: %s; overlap %.1f ms seen" % (
        probs[0][:60], (ho["t_down"] - ho["t_up"]) * 1000))


def test_client_entry_stays_without_na(ds_make):
    """Negative control of the neighbour check (no daemon runs): the IPv6
    VIP moved from n1 to n2 by hand (`ip addr`, which sends no NA: nodad and
    ndisc_notify off) leaves the client's primed entry on n1's MAC, so the
    failover test's "entry follows" is the agent's NA, not something the
    kernel does anyway."""
    t = ds_make(start=False)

    def ip(name, verb):
        vgtopo.run(["ip", "-n", t.ns(name), "-6", "addr", verb, VIP6 + "/64",
                    "dev", "eth0"] + (["nodad"] if verb == "add" else []))

    ip("n1", "add")
    assert ping(t, VIP6) is not None, "client got no echo from n1's VIP"
    ent = t.neigh(CLIENT, VIP6)
    assert ent and ent[0] == t.mac("n1"), ent
    ip("n1", "del")
    ip("n2", "add")
    t0 = time.monotonic()
    moved, _ = wait_until(lambda: (lambda e: e and e[0] != t.mac("n1"))(
        t.neigh(CLIENT, VIP6)), 0.5, step=0.02)
    ent = t.neigh(CLIENT, VIP6)
    ip("n2", "del")
    assert not moved and ent and ent[0] == t.mac("n1"), (
        "the client's entry left n1's MAC without any NA: %s" % (ent,))
    print("NA control: the client's entry stayed on n1's MAC (%s) for %.1f s "
          "after a move by hand" % (ent[1], time.monotonic() - t0))
