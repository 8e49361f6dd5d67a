#!/usr/bin/python3
"""vigil demo (`sudo make demo`): three agents and a client, each in a
network namespace of its own on one bridge (addresses from 198.18.0.0/15
only), the VIP 198.18.0.100/24 watched on every node by a fib_trie sampler
(tests/integration/vgtopo.py's VipSampler).  It waits for the election,
prints `vigilctl status`, SIGKILLs the active's agent and prints how long
the VIP took to reach the new node, then runs `vigilctl failover --to` a
third node and prints the gap with no holder, and removes everything it
made.  Everything is undone also on Ctrl-C (SIGINT), SIGTERM or SIGHUP at
any moment: namespaces (this run's tag, vgt<pid>t<n>-*), every process it
started (by PID; it is the subreaper of the agents' keepers), the work
directory and the state directories on /dev/shm.

    usage: demo.py [--build DIR]     (as root)
"""
import argparse
import ctypes
import os
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import vgtopo  # noqa: E402  (tests/integration/vgtopo.py)

VIP = "198.18.0.100"
NAMES = ("n1", "n2", "n3")
DEADLINE_S = 45.0               # the whole demo, teardown excepted
PR_SET_CHILD_SUBREAPER = 36


class Interrupted(BaseException):
    """A signal asked us to stop (raised from the handler, so that every
    `finally` runs)."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum, _frame):
    raise Interrupted(signum)


T0 = time.monotonic()


def say(msg):
    sys.stdout.write("[%5.2f s] %s\n" % (time.monotonic() - T0, msg))
    sys.stdout.flush()


def block(text):
    sys.stdout.write("".join("    | %s\n" % line
                             for line in text.rstrip("\n").splitlines()))
    sys.stdout.flush()


def check_time():
    if time.monotonic() - T0 > DEADLINE_S:
        raise RuntimeError("the demo ran over its %.0f s" % DEADLINE_S)


# ---------------------------------------------------------------- cleanup

def our_children():
    """Pids whose parent is this process (any of its threads)."""
    me = os.getpid()
    kids = set()
    try:
        for tid in os.listdir("/proc/%d/task" % me):
            try:
                with open("/proc/%d/task/%s/children" % (me, tid)) as fh:
                    kids.update(int(x) for x in fh.read().split())
            except OSError:
                pass
    except OSError:
        pass
    if not kids:                        # no CONFIG_PROC_CHILDREN: scan
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as fh:
                    st = fh.read()
            except OSError:
                continue
            if int(st[st.rfind(")") + 2:].split()[1]) == me:
                kids.add(int(d))
    return sorted(kids)


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"


def end_pid(pid):
    """SIGTERM, up to 2 s, SIGKILL: a process in one of our namespaces."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        for _ in range(100):
            if not vgtopo.pid_running(pid):
                return
            time.sleep(0.02)


def _reap(pid):
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return True                     # someone (Popen) reaped it


def end_children(grace):
    """Every remaining child of ours (the agents' keepers come to us, the
    subreaper, once their agent is gone): given `grace` s to exit by
    themselves, then SIGTERM, then SIGKILL, each by PID; all reaped.
    Returns the ones that had to be signalled."""
    forced = []
    deadline = time.monotonic() + grace
    for _ in range(int(grace / 0.02) + 2):
        kids = [k for k in our_children() if not _reap(k)]
        if not kids or time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        kids = [k for k in our_children() if not _reap(k)]
        if not kids:
            break
        for k in kids:
            forced.append("%d (%s) %s" % (k, cmdline(k), sig.name))
            try:
                os.kill(k, sig)
            except ProcessLookupError:
                pass
        for _ in range(100):
            if all(_reap(k) for k in kids):
                break
            time.sleep(0.02)
    return forced


def teardown(state, logs=None):
    """Undoes everything: never raises; returns what had to be forced.
    With `logs`, the agents' logs are copied there once they have stopped."""
    probs = []
    for t in list(vgtopo.ACTIVE):
        try:
            probs += t.teardown()
        except Exception as e:
            probs.append("teardown of %s: %r" % (t.tag, e))
        if logs:
            try:
                os.makedirs(logs, exist_ok=True)
                for n in t.topo.cluster_nodes:
                    if os.path.exists(t.log_path(n.name)):
                        shutil.copy(t.log_path(n.name), os.path.join(
                            logs, "%s.log" % n.name))
            except OSError as e:
                probs.append("copying the logs: %r" % e)
    # a namespace made by `ip netns add` just as a signal came, before it
    # was recorded: this run's tag is ours alone (our pid)
    try:
        for ns in vgtopo.netns_list():
            if ns.startswith(vgtopo.RUN_TAG + "t"):
                for pid in vgtopo.netns_pids(ns):
                    probs.append("%s: pid %d (%s) left" % (
                        ns, pid, cmdline(pid)))
                    end_pid(pid)
                vgtopo.run(["ip", "netns", "del", ns], check=False)
                probs.append("%s: unrecorded namespace deleted" % ns)
    except Exception as e:
        probs.append("namespace sweep: %r" % e)
    try:
        probs += ["child %s" % c for c in end_children(2.0)]
    except Exception as e:
        probs.append("child sweep: %r" % e)
    for d in state.get("dirs", ()):
        shutil.rmtree(d, ignore_errors=True)
        if os.path.exists(d):
            probs.append("could not remove %s" % d)
    try:
        shm = [d for d in os.listdir("/dev/shm")
               if d.startswith(vgtopo.RUN_TAG + "t")]
        for d in shm:
            shutil.rmtree(os.path.join("/dev/shm", d), ignore_errors=True)
    except OSError:
        pass
    return probs


# ---------------------------------------------------------------- the demo

def find_active(t, vips, names, timeout, what):
    """The node that every one of `names` names as active, which holds the
    VIP (status and kernel, per the sampler); (name, its status)."""

    def probe():
        sts = {}
        for n in names:
            st = t.status(n, check=False)
            if st is None:
                return None
            sts[n] = st
        act = [n for n, s in sts.items() if s["node"]["state"] == "active"
               and s["node"]["vips_held"]]
        if len(act) != 1:
            return None
        aid = sts[act[0]]["node"]["id"]
        if any(s["node"]["active"] != aid for s in sts.values()):
            return None
        return act[0], sts[act[0]]

    r, _ = vgtopo.wait_until(probe, timeout, step=0.02)
    if not r:
        raise RuntimeError("%s: no single active within %.1f s\n%s"
                           % (what, timeout, t.logs(15)))
    vips.wait_holder(lambda h: h == [r[0]], 1.0, "%s holding the VIP" % r[0])
    return r


def demo(args, state):
    build = os.path.abspath(args.build)
    vgtopo.VIGILD = os.path.join(build, "vigild")
    vgtopo.VIGILCTL = os.path.join(build, "vigilctl")
    for b in (vgtopo.VIGILD, vgtopo.VIGILCTL):
        if not os.access(b, os.X_OK):
            raise SystemExit("demo: %s is not built (run `make`)" % b)

    work = tempfile.mkdtemp(prefix="vigil-demo-")
    state["dirs"].append(work)
    # n1..n3 + client, tmpfs state; the cluster named for what it is
    topo = vgtopo.failover_nodes(cluster="demo")
    say("building: namespaces %s-{br,n1,n2,n3,client}, bridge br0, nodes "
        "198.18.0.1-3, client 198.18.0.200, VIP %s/24 (h %d ms, D %d ms)"
        % (vgtopo.RUN_TAG + "t1", VIP, topo.interval, topo.dead_time))
    t = vgtopo.Topology(topo, work)
    t.build()
    vips = vgtopo.VipSampler(t, VIP, max_s=DEADLINE_S + 15).start()
    say("VIP sampler watching every node's fib_trie (a sweep ~every ms)")
    t0 = time.monotonic()
    t.start_all()
    say("started vigild on n1, n2, n3 (pids %s); waiting for the election"
        % ", ".join(str(t.pid(n)) for n in NAMES))
    a, st = find_active(t, vips, NAMES, 5.0, "first election")
    up = vips.first(a, "up", t0)
    say("%s is active in term %d; the VIP reached its kernel %.0f ms after "
        "the first start" % (a, st["node"]["term"],
                             ((up[2][1] if up else time.monotonic()) - t0)
                             * 1000))
    check_time()
    # the election's back-off is over: the failover measured is the failover
    time.sleep(0.4)
    rest = [n for n in NAMES if n != a]
    say("vigilctl status on %s:" % rest[0])
    block(t.ctl(rest[0], "status").stdout)
    check_time()

    say("kill -9 of %s's agent (pid %d): its keeper removes the VIP and "
        "sends RELEASE" % (a, t.pid(a)))
    tk = t.kill(a, signal.SIGKILL)
    t.procs[a].wait(timeout=2.0)
    h, _ = vips.wait_holder(lambda h: len(h) == 1 and h[0] in rest, 3.0,
                            "a new holder after the SIGKILL of %s" % a)
    b = h[0]
    ho = vips.handover(a, b, tk)
    if not ho["proven"]:
        raise RuntimeError("the sampler did not show %s losing the VIP "
                           "before %s got it: %s" % (a, b, vips.changes(tk)))
    say("failover: the VIP is on %s %.1f ms after the kill (gone from %s "
        "after %.1f ms; no holder for %.1f..%.1f ms)"
        % (b, (ho["t_up"] - tk) * 1000, a, (ho["t_down"] - tk) * 1000,
           ho["hole_min_ms"], ho["hole_max_ms"]))
    find_active(t, vips, rest, 2.0, "after the SIGKILL")
    say("vigilctl status on %s, the new active:" % b)
    tstat = time.monotonic()
    block(t.ctl(b, "status").stdout)
    say("%s still shows as alive: a peer counts as dead only after dead_time "
        "(%d ms) without a heartbeat, and only %.0f ms have passed since the "
        "kill; the RELEASE its keeper sent let %s take over before that"
        % (a, topo.dead_time, (tstat - tk) * 1000, b))
    left = topo.dead_time / 1000.0 - (time.monotonic() - tk) + 0.1
    if left > 0:
        time.sleep(left)
    out = t.ctl(b, "status").stdout
    say("after dead_time, on %s: %s" % (b, " | ".join(
        ln.strip() for ln in out.splitlines()
        if ln.split()[:1] == [a]) or "(no line for %s)" % a))
    check_time()

    c = [n for n in rest if n != b][0]
    time.sleep(0.3)
    say("vigilctl failover --to %s (run on %s)" % (c, b))
    tf = time.monotonic()
    p = t.ctl(b, "failover", "--to", c, check=False, timeout=5.0)
    block((p.stdout + p.stderr) or "(no output)")
    if p.returncode != 0:
        raise RuntimeError("vigilctl failover --to %s: exit %d"
                           % (c, p.returncode))
    vips.wait_holder(lambda h: h == [c], 3.0, "%s holding the VIP" % c)
    ho = vips.handover(b, c, tf)
    if not ho["proven"]:
        raise RuntimeError("the sampler did not show %s losing the VIP "
                           "before %s got it: %s" % (b, c, vips.changes(tf)))
    say("hand-over: no holder of the VIP for %.2f..%.2f ms (the sampler's "
        "bounds), on %s %.1f ms after the command started"
        % (max(0.0, ho["hole_min_ms"]), ho["hole_max_ms"], c,
           (ho["t_up"] - tf) * 1000))
    find_active(t, vips, rest, 2.0, "after the hand-over")
    dbl = vips.doubles()
    if dbl:
        raise RuntimeError("TWO HOLDERS seen by the sampler: %s" % dbl[:3])
    say("never two holders: %d sweeps, holder changes %s"
        % (len(vips.sweeps), [h for _, h in vips.changes()]))
    check_time()


def main():
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)
    ap = argparse.ArgumentParser(description="vigil failover demo")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"),
                    help="where vigild and vigilctl are (default: build)")
    ap.add_argument("--logs", metavar="DIR",
                    help="copy every vigild's log (its stderr) to DIR "
                    "before the cleanup")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.stderr.write("demo: needs root (network namespaces): "
                         "run `make demo` as root\n")
        return 1
    # Orphaned keepers (their agent SIGKILLed) become our children, so the
    # final sweep finds and reaps them by PID.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    state = {"dirs": []}
    rc = 0
    try:
        try:
            demo(args, state)
        except Interrupted as e:
            rc = 128 + e.signum
            say("%s: stopping and cleaning up" % signal.Signals(e.signum).name)
        except KeyboardInterrupt:
            rc = 130
            say("interrupted: stopping and cleaning up")
        except Exception as e:
            rc = 1
            say("FAILED: %s" % e)
    finally:
        # nothing may interrupt the cleanup (children started now inherit
        # the ignored signals, so a second Ctrl-C cannot kill `ip` either)
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        say("cleaning up: agents stopped by PID, namespaces deleted")
        probs = teardown(state, args.logs)
        if probs:
            say("cleanup had to force: %s" % "; ".join(probs))
        left = [ns for ns in vgtopo.netns_list()
                if ns.startswith(vgtopo.RUN_TAG + "t")]
        if left or our_children():
            say("LEFT BEHIND: namespaces %s, children %s"
                % (left, our_children()))
            rc = rc or 1
        else:
            say("done: nothing left behind")
    return rc


if __name__ == "__main__":
    sys.exit(main())
