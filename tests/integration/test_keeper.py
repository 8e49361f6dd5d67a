"""The keeper (issue 10): it keeps the instance lock, so that an agent
restarted outside systemd cannot run beside an old keeper that is still
alive; and it refreshes the VIPs' kernel lifetime on its own timer, so that
an interval longer than vip_lifetime does not let the kernel drop a VIP
whose lease is valid.  Every wait is bounded; processes are signalled by
PID only."""
import os
import signal
import time

import pytest

import vgtopo
from conftest import SAMPLER_GAP_LIMIT, SAMPLER_GAP_MAX, SAMPLER_SLOW_ALLOWED
from vgtopo import children_named, log_tail, pid_running, wait_until

VIP = "198.18.0.100/24"


def keeper_of(t, name):
    pid = t.pid(name)
    kids, _ = wait_until(lambda: children_named(pid, vgtopo.KEEPER_COMM), 3.0)
    assert kids, "%s: no keeper under vigild %d" % (name, pid)
    return kids[0]


def test_keeper_holds_the_instance_lock(fresh3):
    t = fresh3
    kp = keeper_of(t, "n3")
    os.kill(kp, signal.SIGSTOP)
    try:
        t.kill("n3", signal.SIGKILL)
        t.procs["n3"].wait(timeout=3.0)
        # the old keeper lives on (stopped): a new agent must not start
        p = t.start("n3", wait=False)
        rc = p.wait(timeout=5.0)
        log = log_tail(t.log_path("n3"), 5)
        assert rc != 0, "a second agent ran beside the old keeper\n%s" % log
        assert "or its keeper still removing the VIPs, holds" in log, log
    finally:
        os.kill(kp, signal.SIGCONT)
    # the old keeper sees its agent gone and leaves; then one starts
    gone, _ = wait_until(lambda: not pid_running(kp), 3.0)
    assert gone, "the old keeper %d did not exit after SIGCONT" % kp
    t.start("n3")
    st, _, diff = t.wait_json("n3", {"node": {"name": "n3"}}, 3.0)
    assert diff is None, diff


def failover3(tmp_path_factory, tag, **kw):
    """A failover topology of its own, not started; torn down after."""
    t = vgtopo.build_topology(vgtopo.failover_nodes(**kw),
                              tmp_path_factory.mktemp(tag), start=False)
    t.direct_ctl = True
    yield t
    errs = t.teardown()
    assert not errs, "teardown of %s: %s" % (t.tag, errs)


@pytest.fixture
def slow3(tmp_path_factory):
    """Interval 1.2 s, longer than the 1 s vip_lifetime."""
    yield from failover3(tmp_path_factory, "slow", interval=1200,
                         dead_time=3600, extra_conf="vip_lifetime = 1;\n")


def started(t):
    """Every node started under a VIP sampler: (sampler, [holder], when the
    VIP came); the sampler is the caller's to stop."""
    vips = vgtopo.VipSampler(t, VIP).start()
    try:
        t.start_all()
        h, t_up = vips.wait_holder(lambda h: len(h) == 1, 10.0,
                                   "a first holder")
    except BaseException:
        vips.stop()
        raise
    return vips, h, t_up


def sampler_ok(vips, until):
    """The sampler's verdict, as vip_sampler's (conftest): never two
    holders, no sampler error, no sweep gap over SAMPLER_GAP_MAX, few slow
    ones; and it swept up to `until`, the end of the window the test
    asserts on (a sampler that stopped early saw no change: "the VIP never
    left" would hold of nothing)."""
    probs = vips.problems(SAMPLER_GAP_LIMIT, SAMPLER_SLOW_ALLOWED,
                          SAMPLER_GAP_MAX)
    assert not probs, "; ".join(probs)
    last = vips.sweeps[-1][0] if vips.sweeps else None
    assert last is not None and last >= until, (
        "the sampler's last sweep at %s, before the window's end %.3f" % (
            last, until))


def test_lifetime_refreshed_between_renewals(slow3):
    t = slow3
    vips, h, t_up = started(t)
    try:
        # 4 s: more than three intervals, four lifetimes
        time.sleep(4.0)
        t_end = time.monotonic()
        changes = vips.changes(t_up, t_end)
        assert changes and all(c[1] == h for c in changes), (
            "the VIP left %s while its lease was valid: %s" % (h[0], changes))
        for n in t.topo.cluster_nodes:
            t.stop(n.name)
    finally:
        vips.stop()
    sampler_ok(vips, t_end)


@pytest.fixture
def calm3(tmp_path_factory):
    """Interval 50 ms, dead_time 150 ms, the VIP on eth0."""
    yield from failover3(tmp_path_factory, "calm", interval=50,
                         dead_time=150)


def test_renewals_through_the_page(calm3):
    """Once the keeper has added the VIPs, the active's renewals are stores
    in the page it shares with the keeper, not messages that wake it
    (issue 9, idle CPU): over 3 s (about 120 renewals) no message unless a
    lease lapsed, and the VIP never leaves the active."""
    t = calm3
    vips, h, t_up = started(t)
    try:
        time.sleep(0.5)
        n0 = t.status(h[0])["node"]
        c0 = t.status(h[0])["election"]
        time.sleep(3.0)
        n1 = t.status(h[0])["node"]
        c1 = t.status(h[0])["election"]
        t_end = time.monotonic()
        changes = vips.changes(t_up, t_end)
    finally:
        vips.stop()
    sampler_ok(vips, t_end)
    lapses = c1["lease_lapses"] - c0["lease_lapses"]
    sent = n1["keeper_lease_messages"] - n0["keeper_lease_messages"]
    stored = n1["keeper_lease_stores"] - n0["keeper_lease_stores"]
    print("3 s on %s: %d renewals stored, %d lease messages, %d lapses" % (
        h[0], stored, sent, lapses))
    assert n1["vips_held"], n1
    assert stored >= 40, (stored, n0, n1)
    # a lapse hands the renewed lease over by a message (at most two: the
    # HOLD, and one more if the add was refused as too close)
    assert sent <= 2 * lapses, (sent, lapses, n0, n1)
    if lapses == 0:
        assert all(c[1] == h for c in changes), (
            "the VIP left %s with no lapse: %s" % (h[0], changes))
