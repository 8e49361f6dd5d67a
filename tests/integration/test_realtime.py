"""Timeliness of the agent (issue 9): by default vigild runs SCHED_RR at
realtime_priority (20) and its keeper SCHED_FIFO one step above, both with
memory locked and RLIMIT_RTTIME set (the guard against a runaway real-time
loop); status and metrics say so.  realtime_priority = 0 leaves both at
SCHED_OTHER, and says nothing was refused.  The loop's own timing is
exported as histograms."""
import pytest

import vgtopo
from vgtopo import children_named, wait_until

SCHED_OTHER, SCHED_FIFO, SCHED_RR = 0, 1, 2


def sched_of(pid):
    """(policy, rt_priority) from /proc/PID/stat (fields 41 and 40)."""
    with open("/proc/%d/stat" % pid) as fh:
        stat = fh.read()
    fields = stat[stat.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): field n is fields[n - 3]
    return int(fields[41 - 3]), int(fields[40 - 3])


def rttime_of(pid):
    """RLIMIT_RTTIME (soft, hard) in us from /proc/PID/limits."""
    with open("/proc/%d/limits" % pid) as fh:
        for line in fh:
            if line.startswith("Max realtime timeout"):
                soft, hard = line.split()[3:5]
                return soft, hard
    raise AssertionError("no RLIMIT_RTTIME line in /proc/%d/limits" % pid)


def vm_locked_kb(pid):
    with open("/proc/%d/status" % pid) as fh:
        for line in fh:
            if line.startswith("VmLck:"):
                return int(line.split()[1])
    raise AssertionError("no VmLck in /proc/%d/status" % pid)


def keeper_of(t, name):
    pid = t.pid(name)
    kids, _ = wait_until(lambda: children_named(pid, "vigild-keeper"), 3.0)
    assert kids, "%s: no keeper process under pid %d" % (name, pid)
    return kids[0]


def test_realtime_by_default(fresh3):
    t = fresh3
    for n in t.topo.cluster_nodes:
        pid = t.pid(n.name)
        kpid = keeper_of(t, n.name)
        assert sched_of(pid) == (SCHED_RR, 20), n.name
        assert sched_of(kpid) == (SCHED_FIFO, 21), n.name
        assert rttime_of(pid) == ("200000", "1000000"), n.name
        assert rttime_of(kpid) == ("200000", "1000000"), n.name
        assert vm_locked_kb(pid) > 0, n.name
        assert vm_locked_kb(kpid) > 0, n.name
        st = t.status(n.name)
        rt = st["realtime"]
        assert rt["policy"] == "rr" and rt["priority"] == 20, rt
        assert rt["granted"] is True and rt["memory_locked"] is True, rt
        assert "refused" not in rt, rt
        m = t.metrics(n.name)
        assert m["vigil_realtime"] == 1
        assert m["vigil_log_lines_dropped_total"] == 0
    # the loop's timing: the histograms fill as it runs
    m = t.metrics("n1")
    count = m["vigil_loop_iteration_seconds_count"]
    inf = m['vigil_loop_iteration_seconds_bucket{le="+Inf"}']
    assert count > 0 and inf == count
    assert m["vigil_timer_wakeup_late_seconds_count"] > 0


@pytest.fixture
def no_rt3(tmp_path_factory):
    t = vgtopo.build_topology(
        vgtopo.three_nodes(extra_conf="realtime_priority = 0;\n"),
        tmp_path_factory.mktemp("nort"))
    yield t
    errs = t.teardown()
    assert not errs, "teardown of %s: %s" % (t.tag, errs)


def test_realtime_off(no_rt3):
    t = no_rt3
    for n in t.topo.cluster_nodes:
        assert sched_of(t.pid(n.name)) == (SCHED_OTHER, 0), n.name
        assert sched_of(keeper_of(t, n.name)) == (SCHED_OTHER, 0), n.name
        rt = t.status(n.name)["realtime"]
        assert rt["granted"] is False and rt["priority"] == 0, rt
        assert "refused" not in rt, rt
