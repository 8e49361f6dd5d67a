#!/usr/bin/python3
"""The machine's own stalls beside a benchmark row (stallprobe.c): one
SCHED_FIFO thread per CPU wakes every millisecond and records how late it
woke.  Every CPU late at once is a stop of the whole machine (on this VM,
the host ran none of its virtual CPUs); nothing the agents do can cover
it.  issue9.py runs it beside the idle rows at h <= 5 ms and the floor, and
sets each "lease lapsed" line of the agents' logs beside the stalls of
the time its lease ran.  Alone, as root:

    cd tests/bench && /usr/bin/python3 stallprobe.py [--seconds 60]

prints the histogram and the stalls.  Figures only.
"""
import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
from benchnet import vgtopo                             # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LAPSE = re.compile(r"^(\S+Z) \S+ lease lapsed \(term \d+\): its deadline "
                   r"passed (-?\d+) us ago")


def build(workdir):
    exe = os.path.join(workdir, "stallprobe")
    if not os.path.exists(exe):
        subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror",
                        "-pthread", "-o", exe,
                        os.path.join(HERE, "stallprobe.c")], check=True)
    return exe


class Probe:
    """Started at construction, bounded by max_s; stop() ends it and
    parses its output."""

    def __init__(self, workdir, max_s, period_us=1000, prio=90):
        self.out = os.path.join(workdir, "stallprobe-%d.txt" % os.getpid())
        if os.path.exists(self.out):
            os.unlink(self.out)
        self.p = subprocess.Popen(
            [build(workdir), "%.0f" % max_s, str(period_us), str(prio),
             self.out], stdin=subprocess.DEVNULL)

    def stop(self, timeout=5.0):
        vgtopo._stop_popen(self.p, timeout)    # SIGTERM: it writes its file
        return parse(self.out)


def parse(path):
    r = {"offset": 0, "buckets_ms": [], "hist": {}, "rt": {}, "stalls": {}}
    with open(path) as fh:
        for ln in fh:
            f = ln.split()
            if f[0] == "offset":
                r["offset"] = int(f[1])
            elif f[0] == "buckets_ms":
                r["buckets_ms"] = [float(x) for x in f[1:]]
            elif f[0] == "hist":
                r["rt"][int(f[1])] = f[2] == "fifo"
                r["hist"][int(f[1])] = [int(x) for x in f[3:]]
            elif f[0] == "stall":
                r["stalls"].setdefault(int(f[1]), []).append(
                    (int(f[2]), int(f[3])))
    r["machine"] = machine_stalls(r)
    return r


def machine_stalls(r):
    """Stretches where every CPU was stalled at once: the intersection of
    the CPUs' stall lists, [(from_ns, to_ns)]."""
    cpus = sorted(r["hist"])
    if not cpus:
        return []
    cur = sorted(r["stalls"].get(cpus[0], []))
    for c in cpus[1:]:
        other = sorted(r["stalls"].get(c, []))
        nxt, j = [], 0
        for a, b in cur:
            while j < len(other) and other[j][1] <= a:
                j += 1
            k = j
            while k < len(other) and other[k][0] < b:
                lo, hi = max(a, other[k][0]), min(b, other[k][1])
                if hi > lo:
                    nxt.append((lo, hi))
                k += 1
        cur = nxt
    return cur


def summary(r, limits_ms=(2, 5, 10, 20)):
    """Counts of stalls at or over each limit: every CPU at once, and the
    worst single CPU; the longest of each."""
    m = [(b - a) / 1e6 for a, b in r["machine"]]
    one = {c: [(b - a) / 1e6 for a, b in r["stalls"].get(c, [])]
           for c in r["hist"]}
    return {
        "machine": {str(x): sum(1 for d in m if d >= x) for x in limits_ms},
        "machine_max_ms": round(max(m), 2) if m else 0.0,
        "cpu": {str(c): {str(x): sum(1 for d in v if d >= x)
                         for x in limits_ms} for c, v in one.items()},
        "cpu_max_ms": {str(c): round(max(v or [0.0]), 2)
                       for c, v in one.items()},
        "rt": all(r["rt"].values()) if r["rt"] else False,
        "hist": {str(c): h for c, h in r["hist"].items()},
        "buckets_ms": r["buckets_ms"]}


def lapses(log_paths):
    """Each "lease lapsed" line: (realtime ns it was logged, ns its
    deadline had passed by then, the log's name and what the line says of
    each voter)."""
    out = []
    for p in log_paths:
        try:
            with open(p, errors="replace") as fh:
                for ln in fh:
                    m = LAPSE.match(ln)
                    if not m:
                        continue
                    t = datetime.datetime.strptime(
                        m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                            tzinfo=datetime.timezone.utc)
                    out.append((int(t.timestamp() * 1e9),
                                int(m.group(2)) * 1000,
                                os.path.basename(p) + ": " +
                                ln[m.end():].strip("; \n")))
        except OSError:
            continue
    return sorted(out)


def beside(r, lapse_list, lease_ns):
    """For each lapse, the longest stall of the whole machine and of any
    one CPU that overlaps the stretch its lease had to be renewed in
    (from lease_ns before the deadline to the log line, which carries
    milliseconds only: 1 ms of slack), and each CPU's stalled time in
    all over that stretch."""
    res = []
    for logged_rt, passed, what in lapse_list:
        t1 = logged_rt - r["offset"] + 1000000
        t0 = logged_rt - r["offset"] - passed - lease_ns
        def inside(st):
            return [(min(b, t1) - max(a, t0)) / 1e6 for a, b in st
                    if b > t0 and a < t1]
        res.append({
            "passed_ms": round(passed / 1e6, 2),
            "machine_ms": round(max(inside(r["machine"]) or [0.0]), 2),
            "cpu_ms": round(max([max(inside(s) or [0.0])
                                 for s in r["stalls"].values()] or [0.0]), 2),
            "cpu_sum_ms": {str(c): round(sum(inside(s)), 2)
                           for c, s in sorted(r["stalls"].items())},
            "line": what[:400]})
    return res


def result(probe, log_paths, rt0, dead_ns):
    """Stop the probe: its summary, and each lease lapse logged since rt0
    (realtime ns) beside the longest stall of the machine and of one CPU
    in the dead_time before its deadline."""
    r = probe.stop()
    lp = [x for x in lapses(log_paths) if x[0] >= rt0 - 1000000]
    return {"summary": summary(r), "lapses": beside(r, lp, dead_ns)}


def text(sm):
    m = sm["machine"]
    return ("every CPU at once >= 2/5/10/20 ms: %s/%s/%s/%s (longest %.1f);"
            " per CPU >= 5 ms: %s (longest %s)" % (
                m.get("2", 0), m.get("5", 0), m.get("10", 0), m.get("20", 0),
                sm["machine_max_ms"],
                "/".join(str(v.get("5", 0)) for _, v in
                         sorted(sm["cpu"].items())) or "0",
                "/".join("%.1f" % v for _, v in
                         sorted(sm["cpu_max_ms"].items())) or "0"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("stallprobe.py: needs root (SCHED_FIFO)", file=sys.stderr)
        return 2
    wd = tempfile.mkdtemp(prefix="vigil-stallprobe-")
    try:
        pr = Probe(wd, args.seconds)
        try:
            pr.p.wait(args.seconds + 10)
        except subprocess.TimeoutExpired:
            pass
        r = pr.stop()
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    sm = summary(r)
    print("buckets (ms): <%s, more" % ", <".join("%g" % b for b in
                                                   sm["buckets_ms"]))
    for c, h in sorted(sm["hist"].items()):
        print("cpu %s: %s" % (c, " ".join(str(x) for x in h)))
    print(text(sm))
    for a, b in r["machine"]:
        if b - a >= 2000000:
            print("  every CPU stalled %.1f ms" % ((b - a) / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
