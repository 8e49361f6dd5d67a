#!/usr/bin/env python3
"""restart.py: how long a 3-node cluster at h = 10 ms (D = 3h) is without a
holder after a restart ends a loss of quorum, in ms from the restart
command (bench.py's restart: the harness's own exec is in it) to the first
sweep of the VIP sampler that sees a holder.

  --scenario lone   the holder alone (both others SIGKILLed), one of them
                    restarted 1 s later
  --scenario two    a standby SIGKILLed, the holder 1 s later, the standby
                    restarted 0.4 s after that (the fault schedule's most
                    common two-fault recovery)

Every loop is bounded; namespaces and daemons are the bench's own and are
removed at the end.  Run as root:
  VIGIL_BUILD=$PWD/../../build /usr/bin/python3 restart.py --scenario two --runs 6
"""
import argparse
import os
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import benchnet as bn        # noqa: E402
import issue9                # noqa: E402


def first_holder_after(smp, t0, limit_s=4.0):
    for _ in range(int(limit_s * 1000)):
        hit = [y for y in smp.sweeps if y[0] > t0 and smp.holders(y)]
        if hit:
            return (hit[0][0] - t0) * 1000.0
        time.sleep(0.001)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", choices=("lone", "two"), default="two")
    ap.add_argument("--runs", type=int, default=6)
    args = ap.parse_args()
    wd = tempfile.mkdtemp(prefix="vigil-restart-")
    bt, s, smp = issue9.make("vigil", 10, wd, "rs",
                             max_s=60 + args.runs * 10)
    out = []
    try:
        issue9.smp_settle(smp, 1.0, 15.0)
        w = bn.SamplerWatch(smp)
        for r in range(args.runs):
            hs = w.holders() or []
            if len(hs) != 1:
                time.sleep(1.0)
                continue
            holder = hs[0]
            others = [n for n in issue9.NAMES if n != holder]
            if args.scenario == "lone":
                for n in others:
                    s.kill(n, signal.SIGKILL)
                time.sleep(1.0)
                back, later = others[r % 2], [others[1 - r % 2]]
            else:
                back, later = others[0], [holder]
                s.kill(back, signal.SIGKILL)
                time.sleep(1.0)
                s.kill(holder, signal.SIGKILL)
                time.sleep(0.4)
            t0 = time.monotonic()
            s.restart(back)
            ms = first_holder_after(smp, t0)
            out.append(ms)
            print("run %d: %s restarted -> a holder after %s ms" % (
                r, back, "-" if ms is None else "%.1f" % ms), flush=True)
            for n in later:
                s.restart(n)
            time.sleep(2.5)
    finally:
        bt.teardown()
    ok = sorted(x for x in out if x is not None)
    print("%s: restart -> holder, ms: %s; median %s" % (
        args.scenario, ", ".join("%.1f" % x for x in ok),
        "%.1f" % ok[len(ok) // 2] if ok else "-"))


if __name__ == "__main__":
    main()
