"""A VIP the kernel refuses, in the middle of a batch, is reported, and the
VIPs after it are still added.

agent/vip.c sends a chunk of VIPs as one netlink batch and asks for an ack
on its last message only: a failed request in the middle is seen only
because the kernel answers every failed request with an NLMSG_ERROR
whatever its flags, before the last one's ack.  This test checks the
result, not the mechanism (it passes with an ack on every message too).

Topology: vgtopo.failover_nodes(ipv6=True) (n1..n3, priorities 100/90/80,
h = 50 ms, D = 250 ms, plus a client host), with 22 VIPs on eth0, in this
order: 198.18.0.100/24, 2001:2::100/64, then 198.18.0.101..120/24 (the
keeper adds them in this order, in chunks of up to 64: one batch).  Before
any daemon starts, net.ipv6.conf.eth0.disable_ipv6=1 is set inside each
node's namespace; the kernel then refuses RTM_NEWADDR of an IPv6 address
on eth0 (EACCES, "IPv6 is disabled on this device"), which the test first
checks by hand in each namespace.  Everything else about the VIPs is as
usual.

Checked on the first active (n1) and again after `vigilctl failover --to
n3` on the new active:
- its log names the refused VIP with "add failed" (and no good VIP), and
  says "the keeper could not add 1 VIP(s)";
- its eth0 holds every good VIP, those after the refused one included,
  and nothing else of the list;
- every other node holds none of the VIPs (the old active included, after
  the failover).
Every wait is a poll with a bounded deadline.
"""
import ipaddress
import json
import re

import pytest

import vgtopo
from vgtopo import wait_until

NAMES = ("n1", "n2", "n3")
REFUSED = "2001:2::100/64"
GOOD = ["198.18.0.100/24"] + ["198.18.0.%d/24" % i for i in range(101, 121)]
VIPS = [(GOOD[0], "eth0"), (REFUSED, "eth0")] + [(v, "eth0")
                                                  for v in GOOD[1:]]
PROBE = "2001:2::1ff/64"        # the hand check of the refusal
ADD_FAILED_RE = re.compile(r"vip (\S+) on (\S+): add failed: (.*)$", re.M)
COULD_NOT_RE = re.compile(r"the keeper could not add (\d+) VIP\(s\)")


def vip_set(t, name):
    """The VIPs of the list present on the node's eth0 (as `ip -j addr`
    shows them: address/prefixlen, compared as interfaces)."""
    out = vgtopo.run(["ip", "-n", t.ns(name), "-j", "addr", "show", "dev",
                      "eth0"], timeout=5).stdout
    ours = {ipaddress.ip_interface(v) for v, _ in VIPS}
    have = set()
    for link in json.loads(out or "[]"):
        for a in link.get("addr_info", []):
            i = ipaddress.ip_interface("%s/%d" % (a["local"], a["prefixlen"]))
            if i in ours:
                have.add(i)
    return have


GOOD_SET = {ipaddress.ip_interface(v) for v in GOOD}


def refuse_ipv6(t, name):
    """IPv6 off on the node's eth0 (inside its namespace), and the kernel
    seen to refuse an IPv6 address there."""
    ns = t.ns(name)
    vgtopo.run(["ip", "netns", "exec", ns, "sysctl", "-qw",
                "net.ipv6.conf.eth0.disable_ipv6=1"])
    p = vgtopo.run(["ip", "-n", ns, "-6", "addr", "add", PROBE, "dev", "eth0",
                    "nodad"], check=False)
    if p.returncode == 0:
        vgtopo.run(["ip", "-n", ns, "-6", "addr", "del", PROBE, "dev",
                    "eth0"], check=False)
    assert p.returncode != 0 and "disabled" in p.stderr, (
        "%s: the kernel did not refuse %s on eth0 with IPv6 disabled there: "
        "exit %d %s%s" % (name, PROBE, p.returncode, p.stdout, p.stderr))


@pytest.fixture
def refusing(tmp_path_factory):
    """The cluster with IPv6 refused on every node's eth0, daemons
    started; every daemon stopped and everything torn down at the end,
    also when the test fails."""
    t = vgtopo.build_topology(vgtopo.failover_nodes(ipv6=True, vips=VIPS),
                              tmp_path_factory.mktemp("viperr"), start=False)
    try:
        t.direct_ctl = True
        for n in NAMES:
            refuse_ipv6(t, n)
        t.start_all()
        yield t
    finally:
        errs = t.teardown()
    assert not errs, "teardown of %s: %s" % (t.tag, errs)


def log_since(t, name, offset):
    with open(t.log_path(name), "rb") as fh:
        fh.seek(offset)
        return fh.read().decode("utf-8", "replace")


def log_size(t, name):
    with open(t.log_path(name), "rb") as fh:
        return fh.seek(0, 2)


def reported(t, name, offset):
    """The node's log since `offset`: (VIPs named "add failed", the counts
    of "the keeper could not add N VIP(s)"), once both are there."""
    text = log_since(t, name, offset)
    failed = [m.group(1) for m in ADD_FAILED_RE.finditer(text)]
    counts = [int(c) for c in COULD_NOT_RE.findall(text)]
    return (failed, counts) if failed and counts else None


def check_holder(t, a, offset, what):
    """`a` holds every good VIP and reported the refused one (in its log
    since `offset`); the others hold none."""
    wait_until(lambda: vip_set(t, a) == GOOD_SET, 2.0, step=0.02)
    have = vip_set(t, a)
    assert have == GOOD_SET, (
        "%s: the active %s lacks %s and holds %s of the list besides" % (
            what, a, sorted(map(str, GOOD_SET - have)),
            sorted(map(str, have - GOOD_SET))))
    r, _ = wait_until(lambda: reported(t, a, offset), 2.0, step=0.02)
    assert r, ("%s: %s's log does not report the refused VIP (\"add "
               "failed\" and \"the keeper could not add\"):\n%s" % (
                   what, a, vgtopo.log_tail(t.log_path(a))))
    failed, counts = r
    assert set(failed) == {REFUSED}, (
        "%s: %s's log names %s with \"add failed\", only %s expected" % (
            what, a, sorted(set(failed)), REFUSED))
    m = ADD_FAILED_RE.search(log_since(t, a, offset))
    assert m.group(2) == "eth0", m.group(0)
    assert set(counts) == {1}, (
        "%s: %s's log says the keeper could not add %s VIP(s), not 1" % (
            what, a, counts))
    for n in NAMES:
        if n != a:
            assert not vip_set(t, n), "%s: %s holds %s too" % (
                what, n, sorted(map(str, vip_set(t, n))))
    return m.group(3)


def test_refused_vip_mid_batch(refusing):
    """A good VIP, a refused one, 20 good ones: the active reports the
    refused one and holds the 21 others, before and after a failover."""
    t = refusing
    a, sts, _ = vgtopo.wait_one_active(t, NAMES, 5.0, "first election")
    why = check_holder(t, a, 0, "first election")
    # the refusal is the one checked by hand: EACCES
    assert why == "Permission denied", why
    assert [v["address"] for v in sts[a]["vips"]] == [v for v, _ in VIPS], (
        sts[a]["vips"])

    to = [n for n in NAMES if n != a][-1]   # not whom an election picks
    offsets = {n: log_size(t, n) for n in NAMES}
    term0 = sts[a]["node"]["term"]
    p = t.ctl(a, "failover", "--to", to, check=False, timeout=5.0)
    assert p.returncode == 0, "failover --to %s: exit %d %s%s" % (
        to, p.returncode, p.stdout, p.stderr)
    b, sts, _ = vgtopo.wait_one_active(t, NAMES, 3.0, "after --to %s" % to)
    assert b == to and sts[b]["node"]["term"] > term0, (
        b, to, sts[b]["node"]["term"], term0)
    check_holder(t, b, offsets[b], "failover to %s" % to)
    assert not vip_set(t, a), "old active %s still holds %s" % (
        a, sorted(map(str, vip_set(t, a))))
