#!/usr/bin/python3
"""Why a lease lapsed: an off-CPU trace of the agents at the moment.  Run as
root:

    cd tests/bench && VIGIL_BUILD=/work/main/build /usr/bin/python3 stalltrace.py
        [--interval 10] [--seconds 60] [--lapses 3]

A 3-node cluster at h = --interval (D = 3h) and the bench's VIP sampler
(SCHED_FIFO above the agents).  The scheduler's sched_switch,
sched_wakeup and sched_migrate_task events and every hrtimer expiry, of
every CPU, go to a tracefs instance of our own (instances/vigil-stall;
the global trace is not touched; CLOCK_MONOTONIC).  Each time an agent logs
"lease lapsed", the trace is read back and, over the time its peers were
not heard, the bench prints:

- for each CPU, the longest stretch with no event at all, not even a timer
  expiry (a CPU that takes no timer interrupt for that long did not run:
  the VM's virtual CPU was stopped by the host, or the kernel kept
  interrupts off);
- where the agent was: its last wake-up before the lapse (which CPU it was
  queued on) and when it next ran (and where).

It stops after --lapses lapses or --seconds.  Figures only, nothing is
asserted; the exit status is 0 unless the bench itself failed.
"""
import argparse
import datetime
import os
import re
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True
import benchnet as bn                                   # noqa: E402
from benchnet import NAMES, VIP1, vgtopo                # noqa: E402

TRACEFS = "/sys/kernel/tracing"
INSTANCE = os.path.join(TRACEFS, "instances", "vigil-stall")
EVENTS = ("sched/sched_switch", "sched/sched_wakeup",
          "sched/sched_migrate_task", "timer/hrtimer_expire_entry")
LINE = re.compile(r"^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+(\d+\.\d+): (\w+): (.*)$")


def say(msg):
    print(msg, flush=True)


def tw(name, value):
    with open(os.path.join(INSTANCE, name), "w") as fh:
        fh.write(value)


def trace_start():
    if not os.path.isdir(TRACEFS + "/instances"):
        vgtopo.run(["mount", "-t", "tracefs", "nodev", TRACEFS], timeout=10)
    if os.path.isdir(INSTANCE):
        os.rmdir(INSTANCE)
    os.mkdir(INSTANCE)
    tw("trace_clock", "mono")
    tw("buffer_size_kb", "20000")
    for ev in EVENTS:
        tw("events/%s/enable" % ev, "1")
    tw("tracing_on", "1")


def trace_read():
    """[(t, cpu, comm, pid, event, rest)] of what the buffer holds now."""
    out = []
    with open(os.path.join(INSTANCE, "trace"), errors="replace") as fh:
        for ln in fh:
            m = LINE.match(ln)
            if m:
                out.append((float(m.group(4)), int(m.group(3)), m.group(1),
                            int(m.group(2)), m.group(5), m.group(6)))
    return out


def trace_stop():
    try:
        tw("tracing_on", "0")
        for ev in EVENTS:
            tw("events/%s/enable" % ev, "0")
    except OSError:
        pass
    if os.path.isdir(INSTANCE):
        os.rmdir(INSTANCE)


def lapse_of(line, off):
    """(monotonic time of the log line, longest 'heard' age in s)."""
    stamp = line.split()[0]
    t = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    ages = [int(x) for x in re.findall(r"heard (\d+) us ago", line)]
    return t - off, (max(ages) / 1e6 if ages else 0.05)


def explain(ev, agent, lo, hi):
    """What the trace says of [lo, hi] and of the agent's pid in it."""
    by_cpu = {c: [] for c in range(os.cpu_count() or 1)}
    for e in ev:
        if lo <= e[0] <= hi:
            by_cpu.setdefault(e[1], []).append(e[0])
    res = {"cpus": {}}
    for cpu, ts in sorted(by_cpu.items()):
        ts = [lo] + ts + [hi]
        g, at = max((b - a, a) for a, b in zip(ts, ts[1:]))
        res["cpus"][cpu] = (round(g * 1000, 1), round(at - lo, 4))
    # the agent's wake-up in the window that waited longest to run
    pid, nxt = "pid=%d " % agent, "next_pid=%d " % agent
    wake = run = None
    pending = None
    for e in ev:
        if e[0] > hi + 0.2:
            break
        if e[4] == "sched_wakeup" and pid in e[5] + " " and \
                lo <= e[0] <= hi:
            m = re.search(r"target_cpu=(\d+)", e[5])
            pending = (e[0], int(m.group(1)) if m else None)
        elif e[4] == "sched_switch" and nxt in e[5] + " " and pending:
            if wake is None or e[0] - pending[0] > run[0] - wake[0]:
                wake, run = pending, (e[0], e[1])
            pending = None
    if pending and wake is None:
        wake = pending
    res["wake"], res["run"] = wake, run
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--interval", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--lapses", type=int, default=3)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        say("stalltrace: needs root (namespaces, tracefs)")
        return 2
    h = args.interval
    wd = tempfile.mkdtemp(prefix="vigil-stall-")
    bt = smp = None
    found = []
    try:
        topo = bn.bench_topo(h, 3 * h)
        bt = bn.BenchTopology(topo, os.path.join(wd, "c"))
        bt.build()
        smp = vgtopo.VipSampler(bt, VIP1, pause=0.0005,
                                max_s=args.seconds + 120).start()
        bt.start_all()
        bt.settle(bn.SamplerWatch(smp), 0.5, 15.0)
        agents = {n: bt.pid(n) for n in NAMES}
        say("stalltrace: h = %d ms, D = %d ms, agents %s; up to %.0f s or "
            "%d lapses" % (h, 3 * h, agents, args.seconds, args.lapses))
        trace_start()
        off = time.time() - time.monotonic()
        seen = {n: os.path.getsize(bt.log_path(n)) for n in NAMES}
        t0 = time.monotonic()
        while time.monotonic() - t0 < args.seconds and \
                len(found) < args.lapses:
            time.sleep(0.5)
            new = []
            for n in NAMES:
                with open(bt.log_path(n), errors="replace") as fh:
                    fh.seek(seen[n])
                    for ln in fh:
                        if "lease lapsed" in ln:
                            new.append((n, ln.strip()))
                    seen[n] = fh.tell()
            if not new:
                continue
            ev = trace_read()
            for n, ln in new[:args.lapses - len(found)]:
                t, age = lapse_of(ln, off)
                lo, hi = t - age - 0.005, t + 0.002
                r = explain(ev, agents[n], lo, hi)
                found.append(r)
                say("lapse on %s: %s" % (n, ln[ln.find("lease lapsed"):]))
                say("  over the %.1f ms its peers were not heard:" %
                    ((hi - lo) * 1000))
                for cpu, (g, at) in sorted(r["cpus"].items()):
                    say("    cpu %d: longest stretch with no event (not even "
                        "a timer) %.1f ms, from +%.1f ms" % (cpu, g,
                                                             at * 1000))
                if r["wake"]:
                    say("    the agent's slowest wake-up: woken at +%.1f ms "
                        "onto cpu %s; it ran %s" % (
                            (r["wake"][0] - lo) * 1000, r["wake"][1],
                            "at +%.1f ms on cpu %d (%.1f ms later)" % (
                                (r["run"][0] - lo) * 1000, r["run"][1],
                                (r["run"][0] - r["wake"][0]) * 1000)
                            if r["run"] else "not within the trace"))
                else:
                    say("    no wake-up of the agent in the window")
        say("stalltrace: %d lapse(s) in %.0f s" % (
            len(found), time.monotonic() - t0))
    finally:
        trace_stop()
        if smp:
            smp.stop()
        if bt:
            bt.teardown()
        if not args.keep:
            shutil.rmtree(wd, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
