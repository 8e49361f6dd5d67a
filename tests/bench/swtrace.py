#!/usr/bin/python3
"""Where the time of a `vigilctl failover --to` goes: a trace.  Run as root:

    cd tests/bench && VIGIL_BUILD=/work/main/build /usr/bin/python3 swtrace.py
        [--interval 100] [--runs 10] [--kill]

With --kill, a SIGKILL of the active's agent instead (its keeper removes
the VIPs and sends RELEASE; the agent is restarted after each run): the
same events, and the time from the kill to the VIP in the new holder's
kernel.

A 3-node cluster (the bench's topology); every vigil datagram is captured
as it enters the bridge from its sender's veth (nshelper udpsniff, in the
bridge namespace) and the VIP's removal and arrival are read from rtnetlink
in each node's namespace (nshelper addrmon).  For each hand-over from the
active A to the target T it prints, in ms from the VIP's removal on A:
A's RELEASE and TRANSFER, T's vote requests (pre-votes and votes), the
votes T got, T's first heartbeat as the active, the VIP's arrival on T.
All times are CLOCK_MONOTONIC as each helper read them (the sniffer runs
at normal priority and may stamp late by a scheduling delay; the rtnetlink
monitors run at SCHED_FIFO 29, nshelper.py).
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
import benchnet as bn                                   # noqa: E402
from benchnet import NAMES, VIP1, vgtopo                # noqa: E402

TYPES = {1: "HEARTBEAT", 2: "VOTE_REQUEST", 3: "VOTE", 4: "RELEASE",
         5: "TRANSFER"}
FLAG_PRE, FLAG_GRANTED = 0x0001, 0x0002
STATE_ACTIVE = 3


class Sniffer:
    def __init__(self, bt, port):
        self.lp = bn.LineProc(bt, bt.br_ns, [bn.PYTHON, bn.NSHELPER,
                                             "udpsniff", str(port), "3600"],
                              "udpsniff")
        assert self.lp.read_json(5.0, "udpsniff").get("ready")
        self.pkts = []
        self.lock = threading.Lock()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        for _ in range(100000000):
            ln = self.lp.readline(3600)
            if ln is None:
                return
            with self.lock:
                self.pkts.append(json.loads(ln))

    def since(self, t0, t1):
        with self.lock:
            return [p for p in self.pkts if t0 <= p["t"] <= t1]

    def trim(self, before):
        with self.lock:
            self.pkts = [p for p in self.pkts if p["t"] >= before]


def one(bt, snf, smp, a, tgt, ids, kill=False):
    """A hand-over from a to tgt (`failover --to`), or with kill a SIGKILL
    of a's agent (its keeper releases; tgt: whoever takes over)."""
    for m in bt.mons.values():
        m.trim(time.monotonic() - 1.0)
    snf.trim(time.monotonic() - 1.0)
    if kill:
        t0 = bt.kill(a, signal.SIGKILL)

        def taker():
            return next((n for n in NAMES if n != a and
                         bt.mons[n].find("up", t0, a=VIP1)), None)
        ok, _ = vgtopo.wait_until(lambda: taker() is not None, 3.0,
                                  step=0.005)
        if not ok:
            return None
        tgt = taker()
    else:
        t0 = time.monotonic()
        bt.ctl(a, "failover", "--to", tgt, check=False, timeout=10.0)
        ok, _ = vgtopo.wait_until(
            lambda: bt.mons[tgt].find("up", t0, a=VIP1), 3.0, step=0.005)
        if not ok:
            return None
    time.sleep(0.2)
    down = bt.mons[a].find("down", t0, a=VIP1)
    up = bt.mons[tgt].find("up", t0, a=VIP1)
    if down is None:
        return None
    base = down["t"]
    ev = [("SIGKILL of %s's agent" % a if kill else
           "vigilctl failover sent", t0)]
    ev.append(("VIP removed on %s (rtnetlink)" % a, down["t"]))
    ta = ids[tgt]
    first_hb = None
    for p in snf.since(t0, up["t"] + 0.1):
        ty = TYPES.get(p["type"], str(p["type"]))
        who = {v: k for k, v in ids.items()}.get(p["sender"], "?")
        to = {v: k for k, v in ids.items()}.get(p["target"], "all")
        if ty in ("RELEASE", "TRANSFER") and who == a:
            ev.append(("%s %s -> %s" % (ty, who, to), p["t"]))
        elif ty == "VOTE_REQUEST" and who == tgt:
            ev.append(("%s%s %s -> %s" % (
                "PRE-" if p["flags"] & FLAG_PRE else "", ty, who, to),
                p["t"]))
        elif ty == "VOTE" and p["target"] == ta:
            ev.append(("%s%s %s -> %s%s" % (
                "PRE-" if p["flags"] & FLAG_PRE else "", ty, who, to,
                "" if p["flags"] & FLAG_GRANTED else " (refused)"), p["t"]))
        elif ty == "HEARTBEAT" and who == tgt and \
                p["state"] == STATE_ACTIVE and first_hb is None:
            first_hb = p["t"]
            ev.append(("first HEARTBEAT of %s as active" % tgt, p["t"]))
    ev.append(("VIP added on %s (rtnetlink)" % tgt, up["t"]))
    ev.sort(key=lambda x: x[1])
    ho = smp.handover(a, tgt, t0)
    return {"gap_ms": (up["t"] - down["t"]) * 1000, "to": tgt,
            "fault_ms": (up["t"] - t0) * 1000,
            "hole": (ho["hole_min_ms"], ho["hole_max_ms"], ho["proven"]),
            "events": [(round((t - base) * 1000, 3), what) for what, t in ev]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--interval", type=int, default=100)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--kill", action="store_true",
                    help="SIGKILL the active's agent instead (then restart "
                    "it)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("swtrace.py: needs root", file=sys.stderr)
        return 2
    bn.stop_signals()
    wd = tempfile.mkdtemp(prefix="vigil-swtrace-")
    h = args.interval
    bt = bn.BenchTopology(bn.bench_topo(h, 3 * h), os.path.join(wd, "t"))
    out = []
    try:
        bt.build()
        smp = vgtopo.VipSampler(bt, VIP1, pause=0.001, max_s=900).start()
        bt.start_all()
        bt.start_helpers([VIP1], addrmon=True)
        snf = Sniffer(bt, bt.topo.port)
        ids = {n.name: n.id for n in bt.topo.cluster_nodes}
        w = bn.SamplerWatch(smp)
        a = bt.settle(w, 0.5, 10.0)
        for i in range(args.runs):
            tgt = NAMES[(NAMES.index(a) + 1) % 3]
            r = one(bt, snf, smp, a, tgt, ids, args.kill)
            if r is None:
                print("run %d: no hand-over from %s" % (i, a))
            else:
                out.append(r)
                print("run %d: %s -> %s, %srtnetlink gap %.3f ms; sampler: "
                      "no holder for %.2f..%.2f ms, one holder at a time "
                      "proven: %s" % ((i, a, r["to"], "VIP in the new "
                                       "holder's kernel %.3f ms after the "
                                       "kill, " % r["fault_ms"]
                                       if args.kill else "", r["gap_ms"]) +
                                      r["hole"]))
                for t, what in r["events"]:
                    print("   %9.3f ms  %s" % (t, what))
            if args.kill:
                bt.stop(a, signal.SIGKILL)
                bt.keeper_gone(a)
                bt.start(a, wait=False)
            a = bt.settle(w, 0.5, 10.0)
        if out:
            g = [r["gap_ms"] for r in out]
            print("h = %d ms: removal -> add gap median %.3f ms (min %.3f, "
                  "max %.3f) over %d %s" % (
                      h, statistics.median(g), min(g), max(g), len(g),
                      "kills" if args.kill else "hand-overs"))
            if args.kill:
                f = [r["fault_ms"] for r in out]
                print("h = %d ms: kill -> VIP in the new holder's kernel "
                      "median %.3f ms (min %.3f, max %.3f)" % (
                          h, statistics.median(f), min(f), max(f)))
    finally:
        bt.teardown()
        shutil.rmtree(wd, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
