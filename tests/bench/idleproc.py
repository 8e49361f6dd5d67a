#!/usr/bin/python3
"""Idle cost per process: each node's agent and keeper apart (keepalived:
its parent and its VRRP child), at one interval, on issue9.py's topology.
Run as root:

    cd tests/bench && VIGIL_BUILD=/work/main/build /usr/bin/python3 idleproc.py
        [--kinds vigil,keepalived] [--h 10] [--window 20] [--strace-s 10]
        [--runs 1] [--no-sampler] [--cpus 0] [--json FILE]

For each run: a 3-node cluster (vigil at interval h, D = 3h; keepalived at
advert_int h), settled, then over --window seconds per process: context
switches per second (voluntary / not, /proc/PID/status), CPU % (schedstat
run time) and its user / system split (/proc/PID/stat); then, one process
at a time, `strace -c -f -p PID` for --strace-s seconds (0: none): the
system calls per second of each kind.  strace slows what it traces; its
counts, not its times, are the figure.  The role of each vigil process is
its node's state.  `uptime` is printed at the start and the end of each
run.  --cpus pins the measured processes once settled (an experiment:
what a wake-up on the other CPU costs).  Figures, not pass/fail; every process ended by PID, the namespaces
deleted at the end.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
import benchnet as bn                                   # noqa: E402
import issue9                                           # noqa: E402
from benchnet import NAMES, vgtopo                      # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def uptime():
    return vgtopo.run(["uptime"]).stdout.strip()


def tasks_sample(pid):
    """sample() summed over the process's threads."""
    tot = [0, 0, 0, 0, 0]
    try:
        tids = [int(t) for t in os.listdir("/proc/%d/task" % pid)]
    except OSError:
        tids = [pid]
    for t in tids:
        try:
            s = sample_task(pid, t)
        except (OSError, ValueError, IndexError):
            continue
        tot = [a + b for a, b in zip(tot, s)]
    return tot


def sample_task(pid, tid):
    base = "/proc/%d/task/%d" % (pid, tid)
    vol = nvol = 0
    with open(base + "/status") as fh:
        for ln in fh:
            if ln.startswith("voluntary_ctxt_switches"):
                vol = int(ln.split()[1])
            elif ln.startswith("nonvoluntary_ctxt_switches"):
                nvol = int(ln.split()[1])
    with open(base + "/stat") as fh:
        st = fh.read()
    f = st[st.rfind(")") + 2:].split()
    with open(base + "/schedstat") as fh:
        ns = int(fh.read().split()[0])
    return [vol, nvol, ns, int(f[11]), int(f[12])]


def strace_counts(pid, secs, out):
    """`strace -c -f -p pid` for secs: {syscall: calls}, errors."""
    p = subprocess.Popen(["strace", "-c", "-f", "-o", out, "-p", str(pid)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(secs)
    p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=5)
    calls, errs = {}, {}
    try:
        with open(out) as fh:
            for ln in fh:
                f = ln.split()
                if len(f) < 5 or not f[0][0].isdigit():
                    continue
                # % time, seconds, usecs/call, calls, [errors], syscall
                name = f[-1]
                if name == "total":
                    continue
                calls[name] = int(f[3])
                if len(f) == 6:
                    errs[name] = int(f[4])
    except OSError:
        pass
    return calls, errs


def procs(kind, bt, s):
    """[(node, what, pid)]."""
    out = []
    for n in NAMES:
        ps = s.pids(n)
        names = ["agent", "keeper"] if kind == "vigil" else ["parent", "vrrp"]
        for i, pid in enumerate(ps[:2]):
            out.append((n, names[i], pid))
    return out


def pin(ps, cpus):
    """Every thread of the processes `ps` onto `cpus` (an experiment: how
    much of the cost is a wake-up on the other CPU)."""
    for _, _, pid in ps:
        try:
            tids = [int(t) for t in os.listdir("/proc/%d/task" % pid)]
        except OSError:
            continue
        for t in tids:
            try:
                os.sched_setaffinity(t, cpus)
            except OSError:
                pass


def roles(kind, bt, smp):
    if kind == "vigil":
        return {n: st["node"]["state"] for n, st in
                (bt.statuses() or {}).items()}
    hs = bn.SamplerWatch(smp).holders() if smp else []
    return {n: ("master" if n in hs else "backup") for n in NAMES}


def one_run(args, kind, k):
    tag = "%s-h%d-%d" % (kind, args.h, k)
    rec = {"kind": kind, "h": args.h, "run": k, "uptime": [uptime()]}
    print("== %s: %s" % (tag, rec["uptime"][0]), flush=True)
    bt = None
    try:
        bt, s, smp = issue9.make(kind, args.h, args.workdir, tag,
                                 pause=0.001, max_s=args.window +
                                 args.strace_s * 6 + 120, helpers=False)
        if kind == "vigil":
            bt.settle(bn.SamplerWatch(smp), 1.0, 15.0)
        else:
            issue9.smp_settle(smp, 1.0, 15.0)
        if args.no_sampler:
            smp.stop()
        if args.cpus:
            pin(procs(kind, bt, s), args.cpus)
            rec["cpus"] = sorted(args.cpus)
        time.sleep(1.0)
        for _ in range(3):
            # a process that went (keepalived restarts a VRRP child that
            # died) spoils the window: it is taken again, new pids
            ps = procs(kind, bt, s)
            role = roles(kind, bt, smp)
            a0 = {pid: tasks_sample(pid) for _, _, pid in ps}
            t0 = time.monotonic()
            time.sleep(args.window)
            dt = time.monotonic() - t0
            a1 = {pid: tasks_sample(pid) for _, _, pid in ps}
            if all(os.path.exists("/proc/%d" % pid) for _, _, pid in ps) \
                    and [p for _, _, p in procs(kind, bt, s)] == \
                    [p for _, _, p in ps]:
                break
            rec.setdefault("notes", []).append(
                "a process went during the window: taken again")
            print("  a process went during the window: taken again",
                  flush=True)
        rec["role"] = role
        rec["procs"] = []
        for n, what, pid in ps:
            d = [b - a for a, b in zip(a0[pid], a1[pid])]
            rec["procs"].append({
                "node": n, "what": what, "pid": pid, "role": role.get(n),
                "vol_s": d[0] / dt, "nvol_s": d[1] / dt,
                "cpu_pct": d[2] / 1e9 / dt * 100,
                "user_pct": d[3] / CLK_TCK / dt * 100,
                "sys_pct": d[4] / CLK_TCK / dt * 100})
        if kind == "vigil":
            c = issue9.vig_counters(bt, NAMES)
            rec["lapses"] = sum(v["lapses"] for v in c.values())
        if args.strace_s > 0:
            for p in rec["procs"]:
                calls, errs = strace_counts(
                    p["pid"], args.strace_s,
                    os.path.join(args.workdir, "strace-%s-%s-%s" % (
                        tag, p["node"], p["what"])))
                p["strace"] = {k2: v / args.strace_s for k2, v in
                               calls.items()}
                p["strace_err"] = {k2: v / args.strace_s for k2, v in
                                   errs.items()}
        rec["uptime"].append(uptime())
        rec["ok"] = True
    except Exception as e:
        rec["ok"] = False
        rec["error"] = "%s: %s" % (type(e).__name__, str(e)[:500])
    finally:
        if bt:
            bt.teardown()
    show(rec)
    return rec


def show(rec):
    if not rec["ok"]:
        print("  FAILED: %s" % rec["error"], flush=True)
        return
    print("  %-3s %-7s %-8s %8s %8s %7s %6s %6s" % (
        "", "process", "role", "vol/s", "nvol/s", "CPU %", "usr %", "sys %"))
    for p in rec["procs"]:
        print("  %-3s %-7s %-8s %8.1f %8.1f %7.2f %6.2f %6.2f" % (
            p["node"], p["what"], p["role"], p["vol_s"], p["nvol_s"],
            p["cpu_pct"], p["user_pct"], p["sys_pct"]))
    for n in NAMES:
        tot = sum(p["cpu_pct"] for p in rec["procs"] if p["node"] == n)
        cs = sum(p["vol_s"] + p["nvol_s"] for p in rec["procs"]
                 if p["node"] == n)
        print("  %s total: CPU %.2f %%, context switches %.0f/s" % (
            n, tot, cs))
    if "lapses" in rec:
        print("  lease lapses since start (all nodes): %d" % rec["lapses"])
    for p in rec["procs"]:
        if "strace" in p:
            top = sorted(p["strace"].items(), key=lambda kv: -kv[1])
            print("  strace %s %s (%s), calls/s: %s" % (
                p["node"], p["what"], p["role"], ", ".join(
                    "%s %.0f%s" % (k, v, (" (%.0f err)" % p["strace_err"][k])
                                   if p["strace_err"].get(k) else "")
                    for k, v in top if v >= 0.5)))
    print("  uptime after: %s" % rec["uptime"][-1], flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kinds", default="vigil,keepalived")
    ap.add_argument("--h", type=int, default=10)
    ap.add_argument("--window", type=float, default=20.0)
    ap.add_argument("--strace-s", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--no-sampler", action="store_true",
                    help="stop the VIP sampler once settled")
    ap.add_argument("--cpus", help="pin the measured processes (every "
                    "thread) to these CPUs once settled, e.g. 0")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.cpus:
        args.cpus = {int(c) for c in args.cpus.split(",")}
    if os.geteuid() != 0:
        sys.stderr.write("idleproc.py needs root (network namespaces)\n")
        return 2
    args.workdir = tempfile.mkdtemp(prefix="vigil-idleproc-")
    bn.stop_signals()
    vgtopo.cleanup_leftovers()
    print("idleproc: vigild %s, h = %d ms, window %.0f s, strace %.0f s"
          % (vgtopo.VIGILD, args.h, args.window, args.strace_s), flush=True)
    out = []
    try:
        for k in range(args.runs):
            for kind in args.kinds.split(","):
                out.append(one_run(args, kind, k))
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return 0 if all(r["ok"] for r in out) else 1


if __name__ == "__main__":
    sys.exit(main())
