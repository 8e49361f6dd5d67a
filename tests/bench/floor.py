#!/usr/bin/python3
"""vigil benchmark: the interval floor (DESIGN.md: "accepted 1 ms ... 10 s:
below ~3 ms the machine's scheduling jitter decides, and make bench finds
the floor").  Run as root, after bench.py or alone:

    cd tests/bench && VIGIL_BUILD=/work/main/build /usr/bin/python3 floor.py
        [--intervals 1,2,3,5,10] [--window 10]

For each interval h (dead_time 3h, the fastest valid), a healthy idle
three-node cluster is watched for --window seconds: how many times the
active changed, how many elections were won, how many leases lapsed (each
a moment without the VIP), and the worst loop iteration.  The floor is the
smallest h at which a healthy cluster keeps its active with no lapse.
Figures, not pass/fail; everything made is removed, also on Ctrl-C.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True
import benchnet as bn                                   # noqa: E402
import stallprobe                                      # noqa: E402
from benchnet import NAMES, VIP1, vgtopo                # noqa: E402


def counters(bt):
    sts = bt.statuses() or {}
    won = sum(s["election"]["won"] for s in sts.values())
    lapses = sum(s["election"]["lease_lapses"] for s in sts.values())
    late = sum(s["counters"]["heartbeats_late"] for s in sts.values())
    act = [n for n, s in sts.items() if s["node"]["state"] == "active"]
    return won, lapses, late, act


def one(h, window, workdir, probe=False):
    """probe: stallprobe beside the window (the machine's stalls, each
    lapse beside them: "machine" in the result)."""
    bt = bn.BenchTopology(bn.bench_topo(h, 3 * h), os.path.join(workdir,
                                                                "floor-h%d" % h))
    smp = pr = None
    try:
        bt.build()
        smp = vgtopo.VipSampler(bt, VIP1, pause=0.0005,
                                max_s=window + 30).start()
        bt.start_all()
        try:
            bt.settle(bn.SamplerWatch(smp), 1.0, 10.0)
        except AssertionError as e:
            return dict(h=h, settled=False, note=str(e)[:120])
        w0, l0, k0, a0 = counters(bt)
        if probe:
            pr = stallprobe.Probe(workdir, window + 30)
            rt0 = time.time_ns()
        t0 = time.monotonic()
        changes, last = 0, a0
        while time.monotonic() - t0 < window:      # bounded by the window
            time.sleep(0.05)
            _, _, _, a = counters(bt)
            if a and a != last:
                changes += 1
                last = a
        w1, l1, k1, _ = counters(bt)
        machine = None
        if pr:
            machine = stallprobe.result(
                pr, [bt.log_path(n) for n in NAMES], rt0, 3 * h * 1000000)
            pr = None
        slow = 0
        for n in NAMES:
            try:
                slow += open(bt.log_path(n)).read().count("loop iteration took")
            except OSError:
                pass
        return dict(h=h, settled=True, changes=changes, won=w1 - w0,
                    lapses=l1 - l0, late=k1 - k0, slow=slow,
                    doubles=len(smp.doubles()), machine=machine)
    finally:
        if pr:
            pr.stop()
        if smp is not None:
            smp.stop()
        bt.teardown()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--intervals", default="1,2,3,5,10")
    ap.add_argument("--window", type=float, default=10.0)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("floor.py: needs root (network namespaces)", file=sys.stderr)
        return 2
    bn.stop_signals()
    workdir = tempfile.mkdtemp(prefix="vigil-floor-")
    rows = []
    try:
        for h in [int(x) for x in args.intervals.split(",")]:
            r = one(h, args.window, workdir)
            rows.append(r)
            print("floor h=%d ms: %s" % (h, r), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\n== interval floor: an idle healthy cluster for %.0f s, D = 3h"
          % args.window)
    print("%6s %8s %12s %10s %8s %14s %10s %8s" % (
        "h ms", "settled", "active chg", "elections", "lapses",
        "hb rounds late", "slow iter", "doubles"))
    floor = None
    for r in rows:
        if not r["settled"]:
            print("%6d %8s   %s" % (r["h"], "no", r["note"]))
            continue
        print("%6d %8s %12d %10d %8d %14d %10d %8d" % (
            r["h"], "yes", r["changes"], r["won"], r["lapses"], r["late"],
            r["slow"], r["doubles"]))
        if floor is None and r["changes"] == 0 and r["lapses"] == 0:
            floor = r["h"]
    print("floor: %s" % ("%d ms (the smallest interval here with no change "
                         "of active and no lapse)" % floor if floor else
                         "none of these intervals held without a lapse"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
