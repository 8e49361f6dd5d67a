#!/usr/bin/python3
"""vigil benchmarks (make bench).  Run as root:

    cd tests/bench && VIGIL_BUILD=/work/main/build /usr/bin/python3 bench.py
        [--quick] [--only failover,vips,switchover,idle] [--runs N]
        [--md FILE] [--json FILE] [--keep]

1. failover   time from a fault of the active (link down of its bridge-side
              veth / SIGKILL of its agent / isolation by nftables, UDP 5405
              dropped both ways) until (a) the VIP is in the new holder's
              kernel (vgtopo.VipSampler, a sweep of the three fib_tries every
              ~0.7 ms) and (b) the client (198.18.0.200), probing VIP:7777
              every 1 ms, gets the first answer from the new holder's
              responder; at interval 10, 20 and 100 ms, dead_time = 3h.
2. vips       the same with 1000 VIPs (/32s of 198.18.4.0/22 on eth0); (a)
              for the first and the last VIP of the config from rtnetlink
              address notifications (a fib_trie with 1000 local addresses
              takes ~2 ms to read per node: too slow for the sampler); (b)
              for both.
3. switchover `vigilctl failover --to X` (X in turn n1 -> n2 -> n3 -> n1):
              the gap with no holder, from the sampler (bounds) and from
              rtnetlink notifications (the removal on the old holder to the
              add on the new one).
4. idle       each node's agent and keeper over 10 s at interval 10 ms:
              CPU % (utime+stime deltas, and schedstat), RSS, PSS.

Figures are printed and written (--md/--json); targets are reported, never
asserted.  Bounded: every wait has a deadline, every loop a count, and the
whole run --max-minutes (then what is left is skipped).  Namespaces,
processes and /dev/shm state are removed at the end, also on failure or
Ctrl-C/SIGTERM.
"""
import argparse
import datetime
import json
import math
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True
import benchnet as bn                                   # noqa: E402
from benchnet import NAMES, VIP1, vgtopo

T_START = time.monotonic()
LOG = sys.stderr


def say(msg):
    LOG.write("[%6.1f s] %s\n" % (time.monotonic() - T_START, msg))
    LOG.flush()


class OutOfTime(Exception):
    pass


class Budget:
    def __init__(self, minutes):
        self.end = T_START + minutes * 60

    def check(self):
        if time.monotonic() > self.end:
            raise OutOfTime()


# ---------------------------------------------------------------- statistics

def pct(xs, p):
    """Nearest-rank percentile."""
    s = sorted(xs)
    if not s:
        return None
    k = max(0, min(len(s) - 1, int(math.ceil(p / 100.0 * len(s))) - 1))
    return s[k]


def summary(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return {"n": 0}
    return {"n": len(xs), "min": min(xs), "median": statistics.median(xs),
            "p95": pct(xs, 95), "max": max(xs)}


def fmt(v, nd=1):
    return "-" if v is None else ("%.*f" % (nd, v))


def row4(s, nd=1):
    return [fmt(s.get(k), nd) for k in ("min", "median", "p95", "max")]


def table(headers, rows):
    w = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows
         else len(str(h)) for i, h in enumerate(headers)]
    line = lambda r: "  ".join(str(c).rjust(w[i]) for i, c in enumerate(r))
    return "\n".join([line(headers), line(["-" * x for x in w])] +
                     [line(r) for r in rows])


def mdtable(headers, rows):
    return "\n".join(["| " + " | ".join(map(str, headers)) + " |",
                      "|" + "|".join("---:" for _ in headers) + "|"] +
                     ["| " + " | ".join(map(str, r)) + " |" for r in rows])


# ---------------------------------------------------------------- faults

FAULTS = ("link", "kill", "iso")
RESTORE_DELAY_S = 0.0
FAULT_NAME = {"link": "link down", "kill": "SIGKILL agent",
              "iso": "nft isolation"}


def do_fault(bt, fault, a):
    """Makes the fault on `a`; returns (t_fault, t_fault_done, note)."""
    if fault == "link":
        t0, t1 = bt.link(a, False)
        return t0, t1, None
    if fault == "kill":
        # restore() must know this process from its successor: since the
        # keeper sees the death by the robust mutex, the failover can end
        # before the killed agent's teardown (a SCHED_OTHER thread behind
        # the real-time ones) has, and poll() still says "running"
        if not hasattr(bt, "killed"):
            bt.killed = {}
        bt.killed[a] = bt.procs[a]
        t0 = bt.kill(a, signal.SIGKILL)
        return t0, time.monotonic(), None
    if fault == "iso":
        t0, t1, out = bt.nfts[a].run(bn.iso_rules(bt.topo.port))
        if "Error" in out:
            raise AssertionError("nft on %s: %s" % (a, out))
        return t0, t1, None
    raise ValueError(fault)


def restore(bt, fault, a):
    """Undoes the fault on `a` (idempotent); waits until `a` is a standby
    again (bounded)."""
    if fault == "link":
        bt.link(a, True)
    elif fault == "kill":
        p = bt.procs.get(a)
        if p is not None and p.poll() is None and \
                p is not getattr(bt, "killed", {}).get(a):
            return                      # restored already
        if p is not None:
            p.wait(timeout=3.0)
        bt.keeper_gone(a)
        bt.start(a)
    elif fault == "iso":
        _, _, out = bt.nfts[a].run("delete table inet %s" % bn.ISO_TABLE)
        if "Error" in out and "No such file" not in out:
            raise AssertionError("nft on %s: %s" % (a, out))
    st, _, diff = bt.wait_json(a, {"node": {"state": "standby",
                                            "vips_held": False}}, 5.0)
    if diff is not None:
        raise AssertionError("%s not standby after restoring %s: %s (%s)"
                             % (a, fault, diff, st and st["node"]))


def client_start(bt, targets, old, prime_s=1.0, timeout_s=5.0):
    """Starts a probe session; returns once every target answered from
    `old` (the client then keeps probing every 1 ms)."""
    bt.client.send(json.dumps({"cmd": "probe", "targets": targets,
                               "old": old, "prime_s": prime_s,
                               "timeout_s": timeout_s, "period_s": 0.001}))
    r = bt.client.read_json(prime_s + 2.0, "client prime")
    if not r.get("ready"):
        raise AssertionError("client: no answer from %s at %s within %.1f s:"
                             " %s" % (old, targets, prime_s, r))
    return r


def client_result(bt, timeout):
    return bt.client.read_json(timeout, "client result")


def recover(bt, fault, a, watch):
    """After a failed run: undo the fault, then a stable cluster; restarts
    every daemon if that does not come (bounded)."""
    try:
        if a:
            restore(bt, fault, a)
        return bt.settle(watch, 0.5, 8.0)
    except Exception as e:
        say("  recovery: %s; restarting all daemons" % str(e)[:300])
    for n in NAMES:
        try:
            if fault == "link":
                bt.link(n, True)
            elif fault == "iso":
                bt.nfts[n].run("delete table inet %s" % bn.ISO_TABLE)
        except Exception:
            pass
    bt.restart_all()
    return bt.settle(watch, 0.5, 10.0)


# ---------------------------------------------------------------- 1 and 2

def failover_group(bt, watch, fault, h, runs, budget, multi=None):
    """`runs` faults of kind `fault` on whoever is active; one dict per run.
    multi: None (one VIP, the sampler) or the VIP list (address monitors)."""
    D = bt.topo.dead_time
    wait_s = max(2.0, 10 * D / 1000.0)
    targets = [VIP1] if multi is None else [multi[0], multi[-1]]
    out = []
    a = bt.settle(watch, 0.5, 10.0)
    for i in range(runs):
        budget.check()
        rec = {"fault": fault, "interval": h, "dead_time": D, "run": i,
               "old": a}
        try:
            watch.trim(time.monotonic() - 2.0)
            client_start(bt, targets, a, 1.0, wait_s + 2.0)
            t0, t1, _ = do_fault(bt, fault, a)
            rec["fault_cmd_ms"] = (t1 - t0) * 1000
            rtts = {n: bt.rtt_worst_ms(n) for n in NAMES}
            rest = [n for n in NAMES if n != a]
            if multi is None:
                smp = watch.smp
                hs, _ = smp.wait_holder(
                    lambda hh: len(hh) == 1 and hh[0] in rest, wait_s,
                    "a new holder after %s of %s" % (fault, a))
                new = hs[0]
                ho = smp.handover(a, new, t0)
                if ho["down"] is None and ho["up"] is not None:
                    # the sweep that saw the VIP gone started just before t0
                    # (the keeper removes it within ~0.1 ms of the SIGKILL,
                    # faster than a sweep), or it left just before the
                    # fault (a lapse): look 5 ms further back
                    ho2 = smp.handover(a, new, t0 - 0.005)
                    if ho2["down"] is not None and ho2["up"] is not None:
                        ho = ho2
                        rec.setdefault("notes", []).append(
                            "the sampler saw the VIP leave %s %.2f ms before "
                            "the fault time (a sweep under way at the "
                            "fault, or a lapse just before)" % (
                                a, (t0 - ho["t_down"]) * 1000))
                if ho["down"] is None or ho["up"] is None:
                    raise AssertionError(
                        "the sampler shows no %s of the VIP (%s: %s, %s: %s) "
                        "after the fault; holder changes from 0.2 s before "
                        "(s since the sampler started, fault at %.4f): %s" % (
                            "removal" if ho["down"] is None else "arrival",
                            a, ho["down"], new, ho["up"],
                            t0 - smp.started, smp.changes(t0 - 0.2)[:12]))
                rec.update(new=new, proven=ho["proven"],
                           a_ms=(ho["t_up"] - t0) * 1000,
                           # the VIP appeared between the start of the last
                           # read without it and the end of the first with
                           a_unc_ms=(ho["up"][2][1] - ho["up"][1][0]) * 1000,
                           off_ms=(ho["t_down"] - t0) * 1000,
                           hole_min_ms=ho["hole_min_ms"],
                           hole_max_ms=ho["hole_max_ms"])
            else:
                ok, _ = bn.wait_until(
                    lambda: (lambda hh: hh if len(hh) == 1 and hh[0] in rest
                             and watch.full(hh[0]) else None)(
                                 watch.holders()), wait_s, step=0.005)
                if not ok:
                    raise AssertionError("no new holder of all VIPs within "
                                         "%.1f s: %s" % (wait_s,
                                                         watch.holders()))
                new = ok[0]
                mo, mn = bt.mons[a], bt.mons[new]
                ev = {k: mn.find("up", t0, a=v) for k, v in
                      (("first", multi[0]), ("last", multi[-1]))}
                allup = mn.find("n", t0, cls="all")
                anyup = mn.find("n", t0, cls="some") or allup
                gone = mo.find("n", t0, cls="none")
                off1 = mo.find("down", t0, a=multi[0])
                if not (ev["first"] and ev["last"] and allup and gone):
                    raise AssertionError("missing events: %s %s %s" % (
                        ev, allup, gone))
                rec.update(new=new,
                           a_first_ms=(ev["first"]["t"] - t0) * 1000,
                           a_last_ms=(ev["last"]["t"] - t0) * 1000,
                           a_all_ms=(allup["t"] - t0) * 1000,
                           off_ms=(gone["t"] - t0) * 1000,
                           off_first_ms=off1 and (off1["t"] - t0) * 1000,
                           proven=gone["t"] <= anyup["t"],
                           add_spread_ms=(allup["t"] - anyup["t"]) * 1000)
                rec["a_ms"] = rec["a_last_ms"]
            rec["new_rtt_max_ms"] = rtts.get(new)
            cr = client_result(bt, wait_s + 4.0)
            if not cr.get("done"):
                raise AssertionError("client: no answer from a new node: %s"
                                     % {k: cr.get(k) for k in
                                        ("names", "sent", "recv", "first")})
            firsts = cr["first"]
            for tg in targets:
                if firsts[tg]["name"] != new:
                    rec.setdefault("notes", []).append(
                        "client's first new answer at %s came from %s, the "
                        "VIP went to %s" % (tg, firsts[tg]["name"], new))
            b = {tg: (firsts[tg]["t_recv"] - t0) * 1000 for tg in targets}
            if multi is None:
                rec["b_ms"] = b[VIP1]
            else:
                rec["b_first_ms"] = b[multi[0]]
                rec["b_last_ms"] = b[multi[-1]]
                rec["b_ms"] = max(b.values())
            rec["b_sent_ms"] = (firsts[targets[-1]]["t_sent"] - t0) * 1000 \
                if firsts[targets[-1]].get("t_sent") else None
            if multi is None:
                dbl = watch.smp.doubles(t0 - 0.1)
                if dbl:
                    rec.setdefault("notes", []).append(
                        "TWO HOLDERS in %d sweeps: %s" % (len(dbl), dbl[:3]))
            if not rec["proven"]:
                rec.setdefault("notes", []).append(
                    "not shown that %s lost the VIP before %s got it" % (a,
                                                                         new))
            if RESTORE_DELAY_S:
                time.sleep(RESTORE_DELAY_S)     # --restore-delay (a probe)
            t_restore = time.monotonic()
            rec["restore_ms"] = (t_restore - t0) * 1000
            restore(bt, fault, a)
            a = bt.settle(watch, 0.5, 10.0)
            # the VIP leaving the new holder again before the cluster was
            # stable (a lapse of its young lease, say): a hole the client
            # may see
            if multi is None:
                downs = [tr for tr in watch.smp.transitions(
                    new, t0 + rec["a_ms"] / 1000.0) if tr[0] == "down"]
                rec["flaps"] = len(downs)
                rec["flaps_before_restore"] = sum(
                    1 for tr in downs if tr[2][1] <= t_restore)
                rec["flap_times_ms"] = [round((tr[2][1] - t0) * 1000, 1)
                                        for tr in downs[:20]]
                rec["flap_stall_ms"] = flap_stalls(watch.smp, downs[:20])
            else:
                t_all = t0 + rec["a_all_ms"] / 1000.0
                with bt.mons[new].lock:
                    rec["flaps"] = sum(
                        1 for e in bt.mons[new].events if e["t"] > t_all and
                        e.get("ev") == "n" and e.get("cls") == "none")
            if rec["flaps"]:
                rec.setdefault("notes", []).append(
                    "the VIP left %s %d time(s) after the take-over (%s before"
                    " the fault was undone at +%.0f ms)" % (
                        new, rec["flaps"], rec.get("flaps_before_restore",
                                                   "?"), rec["restore_ms"]))
            rec["ok"] = True
        except OutOfTime:
            raise
        except Exception as e:
            rec["ok"] = False
            rec["error"] = "%s: %s" % (type(e).__name__, str(e)[:600])
            say("  run %d FAILED: %s" % (i, rec["error"]))
            try:
                bt.client.readline(6.0)     # a pending client result
            except Exception:
                pass
            a = recover(bt, fault, a, watch)
        out.append(rec)
        if rec.get("ok"):
            say("  %s h=%d #%d: %s -> %s a=%.1f b=%.1f ms (new's rtt_max %s)%s"
                % (fault, h, i, rec["old"], rec["new"], rec["a_ms"],
                   rec["b_ms"], fmt(rec.get("new_rtt_max_ms"), 2),
                (" " + "; ".join(rec["notes"])) if rec.get("notes") else ""))
    return out


def build(tag, h, vips=None, addrmon=False, sampler=True, workdir=None):
    topo = bn.bench_topo(h, 3 * h, vips)
    bt = bn.BenchTopology(topo, os.path.join(workdir, tag))
    bt.build()
    smp = None
    if sampler:
        smp = vgtopo.VipSampler(bt, VIP1, pause=0.0005, max_s=550.0).start()
    bt.start_all()
    bt.start_helpers(vips or [VIP1], addrmon=addrmon)
    return bt, smp


def bench_failover(args, budget, res, multi=False):
    key = "vips" if multi else "failover"
    vips = bn.vip_range(1000) if multi else None
    runs = args.runs_vips if multi else args.runs
    for h in args.intervals:
        budget.check()
        say("%s: interval %d ms, dead_time %d ms, %d runs per fault" % (
            key, h, 3 * h, runs))
        skip_rest = False
        for fault in FAULTS:
            if skip_rest:
                break
            # a fresh cluster per (fault, interval): what one kind of fault
            # leaves behind (rtt_max samples, terms) does not carry over
            budget.check()
            bt, smp = build("%s-h%d-%s" % (key, h, fault), h, vips,
                            addrmon=multi, sampler=not multi,
                            workdir=args.workdir)
            drops0 = softnet_drops()
            try:
                watch = bn.NlWatch(bt.mons) if multi else \
                    bn.SamplerWatch(smp)
                try:
                    res[key].extend(failover_group(bt, watch, fault, h, runs,
                                                   budget, vips))
                except (OutOfTime, KeyboardInterrupt):
                    raise
                except Exception as e:
                    # typically: no stable active to start from at all
                    err = "%s: %s" % (type(e).__name__, str(e)[:400])
                    say("  %s h=%d %s: group failed: %s" % (key, h, fault,
                                                           err))
                    res[key].append({"fault": fault, "interval": h,
                                     "dead_time": 3 * h, "run": "-",
                                     "ok": False, "error": err})
                    if multi:
                        skip = [f for f in FAULTS
                                if FAULTS.index(f) > FAULTS.index(fault)]
                        if skip:
                            res.setdefault("notes", []).append(
                                "%s h=%d: %s skipped, the cluster did not "
                                "settle for %s" % (key, h, ", ".join(skip),
                                                   fault))
                        skip_rest = True
                if smp:
                    res.setdefault("sampler", []).append(
                        {"bench": "%s/%s" % (key, fault), "interval": h,
                         "summary": smp.summary(),
                         "gaps": smp.gap_stats(limit=0.002)})
                    smp.stop()
                if multi:
                    for n, m in bt.mons.items():
                        if m.errors:
                            res.setdefault("notes", []).append(
                                "addrmon %s h=%d: %s" % (n, h, m.errors[:5]))
            finally:
                d1 = softnet_drops()
                res.setdefault("softnet_drops", {})[
                    "%s-%s-h%d" % (key, fault, h)] = \
                    None if d1 is None or drops0 is None else d1 - drops0
                res.setdefault("logs", {}).update(
                    logscan(bt, "%s-%s" % (key, fault), h))
                errs = bt.teardown()
                if errs:
                    res.setdefault("notes", []).append(
                        "teardown %s h=%d %s: %s" % (key, h, fault, errs))


def softnet_drops():
    """Packets the kernel dropped for a full per-CPU input backlog
    (netdev_max_backlog), summed over the CPUs: /proc/net/softnet_stat,
    second column.  Machine-wide (not per namespace)."""
    try:
        with open("/proc/net/softnet_stat") as fh:
            return sum(int(ln.split()[1], 16) for ln in fh if ln.strip())
    except (OSError, ValueError, IndexError):
        return None


def logscan(bt, key, h):
    """Warnings in the daemons' logs (slow loop iterations and the like)."""
    out = {}
    for n in NAMES:
        try:
            with open(bt.log_path(n), errors="replace") as fh:
                lines = fh.read().splitlines()
        except OSError:
            continue
        warn = [ln for ln in lines if " warning" in ln.lower() or
                " error" in ln.lower() or "took" in ln]
        out["%s-h%d-%s" % (key, h, n)] = {
            "lines": len(lines), "warnings": len(warn), "sample": warn[:6],
            "lease_ran_out": sum("lease ran out" in ln for ln in lines),
            "slow_iterations": sum("loop iteration took" in ln
                                   for ln in lines),
            "keeper_slow_removal": sum("did not confirm the removal" in ln
                                       for ln in lines),
            "replay_drops": sum(": replay" in ln for ln in lines),
            "elections_won": sum("won the election" in ln for ln in lines)}
    return out


# ---------------------------------------------------------------- 3

def bench_switchover(args, budget, res):
    for h in args.sw_intervals:
        budget.check()
        say("switchover: interval %d ms, %d runs" % (h, args.runs_sw))
        bt, smp = build("sw-h%d" % h, h, None, addrmon=True, sampler=True,
                        workdir=args.workdir)
        try:
            watch = bn.SamplerWatch(smp)
            a = bt.settle(watch, 0.5, 10.0)
            for i in range(args.runs_sw):
                budget.check()
                tgt = NAMES[(NAMES.index(a) + 1) % len(NAMES)]
                rec = {"interval": h, "run": i, "old": a, "target": tgt}
                try:
                    watch.trim(time.monotonic() - 2.0)
                    bt.mons[a].trim(time.monotonic() - 2.0)
                    rec["target_rtt_max_ms"] = bt.rtt_worst_ms(tgt)
                    t0 = time.monotonic()
                    p = bt.ctl(a, "failover", "--to", tgt, "--json",
                               check=False, timeout=10.0)
                    t1 = time.monotonic()
                    rec["ctl_ms"] = (t1 - t0) * 1000
                    rec["ctl_rc"] = p.returncode
                    try:
                        rec["ctl_reply"] = json.loads(p.stdout)
                    except ValueError:
                        rec["ctl_reply"] = (p.stdout + p.stderr)[:300]
                    hs, _ = smp.wait_holder(lambda hh: hh == [tgt], 3.0,
                                            "%s holding after failover" % tgt)
                    ho = smp.handover(a, tgt, t0)
                    d = bt.mons[a].find("down", t0, a=VIP1)
                    u = bt.mons[tgt].find("up", t0, a=VIP1)
                    rec.update(proven=ho["proven"],
                               hole_min_ms=ho["hole_min_ms"],
                               hole_max_ms=ho["hole_max_ms"],
                               nl_gap_ms=(u["t"] - d["t"]) * 1000
                               if d and u else None,
                               off_ms=(d["t"] - t0) * 1000 if d else None,
                               up_ms=(u["t"] - t0) * 1000 if u else None)
                    dbl = smp.doubles(t0 - 0.1)
                    if dbl:
                        rec.setdefault("notes", []).append(
                            "TWO HOLDERS: %s" % dbl[:3])
                    if p.returncode != 0:
                        rec.setdefault("notes", []).append(
                            "vigilctl failover exit %d: %s" % (
                                p.returncode, rec["ctl_reply"]))
                    t_up = ho.get("t_up") or t0
                    a = bt.settle(watch, 0.5, 10.0)
                    downs = [tr for tr in smp.transitions(tgt, t_up)
                             if tr[0] == "down"]
                    rec["flaps"] = len(downs)
                    rec["flap_stall_ms"] = flap_stalls(smp, downs[:20])
                    if rec["flaps"]:
                        rec.setdefault("notes", []).append(
                            "the VIP left %s %d time(s) after the hand-over"
                            % (tgt, rec["flaps"]))
                    if a != tgt:
                        rec.setdefault("notes", []).append(
                            "settled on %s, not the target" % a)
                    rec["ok"] = True
                    say("  switchover h=%d #%d %s -> %s: hole %.2f..%.2f ms,"
                        " netlink gap %s ms, vigilctl %.0f ms, target's "
                        "rtt_max %s ms" % (
                            h, i, rec["old"], tgt, rec["hole_min_ms"],
                            rec["hole_max_ms"], fmt(rec["nl_gap_ms"], 3),
                            rec["ctl_ms"], fmt(rec["target_rtt_max_ms"], 2)))
                except OutOfTime:
                    raise
                except Exception as e:
                    rec["ok"] = False
                    rec["error"] = "%s: %s" % (type(e).__name__, str(e)[:600])
                    say("  run %d FAILED: %s" % (i, rec["error"]))
                    a = recover(bt, "none", None, watch)
                res["switchover"].append(rec)
            res.setdefault("sampler", []).append(
                {"bench": "switchover", "interval": h,
                 "summary": smp.summary(), "gaps": smp.gap_stats(limit=0.002)})
            smp.stop()
            res.setdefault("logs", {}).update(logscan(bt, "switchover", h))
        finally:
            errs = bt.teardown()
            if errs:
                res.setdefault("notes", []).append("teardown sw h=%d: %s"
                                                   % (h, errs))


# ---------------------------------------------------------------- 4

CLK_TCK = os.sysconf("SC_CLK_TCK")


STALL_S = 0.015         # a sweep gap this long: the machine stalled


def flap_stalls(smp, downs, window=0.1):
    """For each flap (a 'down' transition of the sampler), the longest gap
    between the sampler's sweeps in the `window` s before it, in ms.  The
    sampler runs SCHED_FIFO above the agents and their keepers: a gap of
    STALL_S or more is a stall of the CPU it ran on (the VM's virtual CPU
    stopped, say), long enough to make a lease of D = 3h lapse on its
    own.  A stall of another CPU does not show here (stalltrace.py)."""
    out = []
    for tr in downs:
        t = tr[2][1]
        sw = smp._snap(t - window, t)
        gaps = [b[0] - a[0] for a, b in zip(sw, sw[1:])]
        out.append(round(max(gaps) * 1000, 1) if gaps else None)
    return out


def stalled_flaps(recs):
    """How many of the flaps in `recs` came right after a machine stall."""
    return sum(1 for r in recs for g in r.get("flap_stall_ms", [])
               if g is not None and g >= STALL_S * 1000)


def proc_cpu(pid):
    with open("/proc/%d/stat" % pid) as fh:
        st = fh.read()
    f = st[st.rfind(")") + 2:].split()
    ticks = int(f[11]) + int(f[12])         # utime + stime
    with open("/proc/%d/schedstat" % pid) as fh:
        ns = int(fh.read().split()[0])
    return ticks, ns


def proc_mem(pid):
    out = {}
    with open("/proc/%d/smaps_rollup" % pid) as fh:
        for ln in fh:
            p = ln.split()
            if p and p[0] in ("Rss:", "Pss:", "Private_Clean:",
                              "Private_Dirty:", "Anonymous:", "Locked:",
                              "Pss_Anon:", "Pss_File:"):
                out[p[0][:-1].lower() + "_kib"] = int(p[1])
    with open("/proc/%d/status" % pid) as fh:
        for ln in fh:
            if ln.startswith("VmHWM:"):
                out["hwm_kib"] = int(ln.split()[1])
    return out


def bench_idle(args, budget, res):
    for h in args.idle_intervals:
        idle_one(args, budget, res, h)


def idle_one(args, budget, res, h):
    budget.check()
    say("idle footprint: interval %d ms, %.0f s" % (h, args.idle_s))
    bt, smp = build("idle-h%d" % h, h, None, addrmon=False, sampler=True,
                    workdir=args.workdir)
    try:
        a = bt.settle(bn.SamplerWatch(smp), 1.0, 10.0)
        smp.stop()              # nothing of ours runs but sleeping helpers
        procs = {}
        for n in NAMES:
            ag = bt.pid(n)
            kp = vgtopo.children_named(ag, vgtopo.KEEPER_COMM)
            procs[n] = [("agent", ag)] + [("keeper", k) for k in kp]
        t0 = time.monotonic()
        c0 = {pid: proc_cpu(pid) for n in NAMES for _, pid in procs[n]}
        time.sleep(args.idle_s)                 # the measurement window
        t1 = time.monotonic()
        c1 = {pid: proc_cpu(pid) for n in NAMES for _, pid in procs[n]}
        a2 = bt.one_active()
        for n in NAMES:
            for role, pid in procs[n]:
                dt = t1 - t0
                m = proc_mem(pid)
                res["idle"].append(dict(
                    interval=h, node=n, role=role, pid=pid,
                    state="active" if n == a else "standby", secs=dt,
                    cpu_pct=(c1[pid][0] - c0[pid][0]) / CLK_TCK / dt * 100,
                    cpu_sched_pct=(c1[pid][1] - c0[pid][1]) / 1e9 / dt * 100,
                    **m))
        if a2 != a:
            res.setdefault("notes", []).append(
                "idle h=%d: the active changed during the window (%s -> %s)"
                % (h, a, a2))
        st = bt.last_sts or {}
        res.setdefault("idle_status", {})[h] = {
            n: {k: s["node"].get(k) for k in ("state", "term",
                                              "keeper_starts")}
            for n, s in st.items()}
        res.setdefault("logs", {}).update(logscan(bt, "idle", h))
    finally:
        errs = bt.teardown()
        if errs:
            res.setdefault("notes", []).append("teardown idle: %s" % errs)


# ---------------------------------------------------------------- report

def report(res):
    """(text, markdown) of every table."""
    txt, md = [], []

    def add(title, headers, rows, note=None):
        txt.append("\n== %s\n%s" % (title, table(headers, rows)))
        md.append("### %s\n\n%s\n" % (title, mdtable(headers, rows)))
        if note:
            txt.append(note)
            md.append(note + "\n")

    # 1
    rows = []
    base = {}
    for f in FAULTS:
        for h in sorted({r["interval"] for r in res["failover"]}):
            rs = [r for r in res["failover"] if r["fault"] == f and
                  r["interval"] == h]
            ok = [r for r in rs if r.get("ok")]
            if not rs:
                continue
            sa, sb = summary([r["a_ms"] for r in ok]), \
                summary([r["b_ms"] for r in ok])
            base[(f, h)] = sb.get("median")
            D = 3 * h
            rows.append([FAULT_NAME[f], h, D, "%d/%d" % (len(ok), len(rs))] +
                        row4(sa) + row4(sb) + [
                            fmt(statistics.median([r["off_ms"] for r in ok])
                                if ok else None),
                            fmt(summary([r.get("new_rtt_max_ms") for r in ok])
                                .get("median"), 2),
                            "%d/%d" % (sum(1 for r in ok if r.get("flaps")),
                                       sum(r.get("flaps", 0) for r in ok)),
                            "-" if sb.get("median") is None else
                            ("yes" if sb["median"] <= D else "NO")])
    if rows:
        add("Failover, 1 VIP (ms from the fault)",
            ["fault", "h", "D", "ok", "(a) min", "med", "p95", "max",
             "(b) min", "med", "p95", "max", "off old med", "rtt_max med",
             "flaps", "(b) med<=D"],
            rows, "(a) VIP in the new holder's kernel (sampler); (b) first "
            "answer of the new holder at the client (1 ms probes); off old: "
            "VIP gone from the old holder (median); rtt_max: the largest "
            "rtt_max_us of the new holder's live peers in its status just "
            "before the fault (median; vigild waits min(that, h)/2 after a "
            "RELEASE); flaps: runs in which the VIP left the new holder again "
            "before the cluster was stable / how many times in all.")
    # 2
    rows = []
    for f in FAULTS:
        for h in sorted({r["interval"] for r in res["vips"]}):
            rs = [r for r in res["vips"] if r["fault"] == f and
                  r["interval"] == h]
            ok = [r for r in rs if r.get("ok")]
            if not rs:
                continue
            sf = summary([r["a_first_ms"] for r in ok])
            sl = summary([r["a_last_ms"] for r in ok])
            sb = summary([r["b_ms"] for r in ok])
            b1 = base.get((f, h))
            tgt = None if b1 is None else b1 + 50
            rows.append([FAULT_NAME[f], h, "%d/%d" % (len(ok), len(rs))] +
                        [fmt(sf.get("median")), fmt(sf.get("max"))] +
                        row4(sl) + row4(sb) +
                        ["%d/%d" % (sum(1 for r in ok if r.get("flaps")),
                                    sum(r.get("flaps", 0) for r in ok))] +
                        [fmt(tgt), "-" if tgt is None or sb.get("median") is
                         None else ("yes" if sb["median"] <= tgt else "NO")])
    if rows:
        add("Failover, 1000 VIPs (ms from the fault)",
            ["fault", "h", "ok", "(a) first med", "first max", "(a) last min",
             "med", "p95", "max", "(b) min", "med", "p95", "max",
             "flaps", "target", "(b) med<=target"], rows,
            "(a) from rtnetlink notifications in each node's namespace, for "
            "the first and last VIP of the config; (b) the later of the "
            "client's first answers at the first and the last VIP; target = "
            "1-VIP (b) median + 50 ms.")
    # 3
    rows = []
    for h in sorted({r["interval"] for r in res["switchover"]}):
        rs = [r for r in res["switchover"] if r["interval"] == h]
        ok = [r for r in rs if r.get("ok")]
        for label, k, nd in (("sampler upper bound", "hole_max_ms", 2),
                             ("sampler lower bound", "hole_min_ms", 2),
                             ("rtnetlink del -> add", "nl_gap_ms", 3),
                             ("vigilctl failover (wall)", "ctl_ms", 1),
                             ("target's rtt_max before", "target_rtt_max_ms",
                              2)):
            s = summary([r.get(k) for r in ok])
            rows.append([h, "%d/%d" % (len(ok), len(rs)), label] +
                        row4(s, nd) + [
                            "-" if k in ("ctl_ms", "hole_min_ms",
                                         "target_rtt_max_ms") or
                            s.get("median") is None else
                            ("yes" if s["median"] < 5 else "NO")])
    if rows:
        add("Switchover gap of vigilctl failover --to (ms)",
            ["h", "ok", "measure", "min", "median", "p95", "max",
             "med<5ms"], rows, "flaps (runs in which the VIP left the "
            "target again before the cluster was stable / times in all): " +
            ", ".join("h=%d: %d/%d" % (
                h, sum(1 for r in res["switchover"] if r["interval"] == h
                       and r.get("flaps")),
                sum(r.get("flaps", 0) for r in res["switchover"]
                    if r["interval"] == h))
                for h in sorted({r["interval"] for r in res["switchover"]})))
    # 4
    for h in sorted({r["interval"] for r in res["idle"]}):
        rows = []
        per = {}
        rs = [r for r in res["idle"] if r["interval"] == h]
        for r in rs:
            rows.append([r["node"], r["state"], r["role"], r["pid"],
                         fmt(r["cpu_pct"], 2), fmt(r["cpu_sched_pct"], 3),
                         fmt(r.get("rss_kib", 0) / 1024.0, 2),
                         fmt(r.get("pss_kib", 0) / 1024.0, 2),
                         fmt((r.get("private_clean_kib", 0) +
                              r.get("private_dirty_kib", 0)) / 1024.0, 2),
                         fmt(r.get("hwm_kib", 0) / 1024.0, 2), ""])
            p = per.setdefault(r["node"], {"state": r["state"], "cpu": 0,
                                           "cs": 0, "rss": 0, "pss": 0,
                                           "priv": 0})
            p["cpu"] += r["cpu_pct"]
            p["cs"] += r["cpu_sched_pct"]
            p["rss"] += r.get("rss_kib", 0)
            p["pss"] += r.get("pss_kib", 0)
            p["priv"] += r.get("private_clean_kib", 0) + \
                r.get("private_dirty_kib", 0)
        for n, p in sorted(per.items()):
            rows.append([n, p["state"], "node total", "", fmt(p["cpu"], 2),
                         fmt(p["cs"], 3), fmt(p["rss"] / 1024.0, 2),
                         fmt(p["pss"] / 1024.0, 2),
                         fmt(p["priv"] / 1024.0, 2), "",
                         "RSS %s, PSS %s, CPU %s" % (
                             "ok" if p["rss"] < 4096 else "OVER",
                             "ok" if p["pss"] < 4096 else "OVER",
                             "ok" if p["cs"] < 1 else "OVER")])
        add("Idle footprint at h = %d ms over %.0f s" % (h, rs[0]["secs"]),
            ["node", "state", "process", "pid", "CPU % (ticks)",
             "CPU % (schedstat)", "RSS MiB", "PSS MiB", "private MiB",
             "peak RSS MiB", "vs target"],
            rows, "Target per node: RSS < 4 MiB, CPU < 1 %%%s." % (
                " (the target is stated for h = 10 ms)" if h != 10 else ""))
    # sampler quality and failures
    smp_rows = []
    for s in res.get("sampler", []):
        g = s["gaps"]
        smp_rows.append([s["bench"], s["interval"], g["sweeps"],
                         fmt(g["mean_ms"], 2), fmt(g["p99_ms"], 2),
                         fmt(g["max_ms"], 2), g["over"]])
    if smp_rows:
        add("VIP sampler: time between sweeps (ms)",
            ["bench", "h", "sweeps", "mean", "p99", "max", "gaps > 2 ms"],
            smp_rows)
    lg = {}
    for k, v in res.get("logs", {}).items():
        grp = k.rsplit("-", 1)[0]
        g = lg.setdefault(grp, {"lease_ran_out": 0, "slow_iterations": 0,
                                "keeper_slow_removal": 0, "replay_drops": 0,
                                "elections_won": 0})
        for f in g:
            g[f] += v.get(f, 0)
    if lg:
        add("Daemon log counts per cluster (all three nodes)",
            ["cluster", "elections won", "'lease ran out'",
             "'loop iteration took'", "keeper removal > h/8",
             "'replay' drops"],
            [[k, v["elections_won"], v["lease_ran_out"], v["slow_iterations"],
              v["keeper_slow_removal"], v["replay_drops"]]
             for k, v in lg.items()])
    sd = {k: v for k, v in res.get("softnet_drops", {}).items() if v}
    if sd:
        txt.append("input backlog drops (softnet_stat) during: %s" % sd)
        md.append(txt[-1] + "\n")
    unc = [r for k in ("failover",) for r in res[k]
           if r.get("ok") and r.get("a_unc_ms", 0) > 2.0]
    if unc:
        txt.append("%d of %d 1-VIP runs: the sampler's bracket of (a) was "
                   "wider than 2 ms (a sampler stall), worst %.1f ms" % (
                       len(unc), len([r for r in res["failover"]
                                      if r.get("ok")]),
                       max(r["a_unc_ms"] for r in unc)))
        md.append(txt[-1] + "\n")
    bad = [r for k in ("failover", "vips", "switchover") for r in res[k]
           if not r.get("ok") or r.get("notes")]
    if bad:
        lines = ["- %s h=%s run %s: %s" % (
            r.get("fault", "switchover"), r["interval"], r["run"],
            r.get("error") or "; ".join(r.get("notes", []))) for r in bad]
        txt.append("\n== Failed runs and notes\n" + "\n".join(lines))
        md.append("### Failed runs and notes\n\n" + "\n".join(lines) + "\n")
    if res.get("notes"):
        txt.append("\n== Other notes\n" + "\n".join(res["notes"]))
        md.append("### Other notes\n\n" + "\n".join(
            "- " + n for n in res["notes"]) + "\n")
    return "\n".join(txt), "\n".join(md)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="few runs (about 2 minutes)")
    ap.add_argument("--only", default="failover,vips,switchover,idle")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--runs-vips", type=int)
    ap.add_argument("--runs-sw", type=int)
    ap.add_argument("--intervals", default="10,20,100")
    ap.add_argument("--idle-s", type=float, default=10.0)
    ap.add_argument("--max-minutes", type=float, default=30.0)
    ap.add_argument("--md", help="write the tables (markdown) here")
    ap.add_argument("--json", help="write every run's figures here")
    ap.add_argument("--restore-delay", type=float, default=0.0,
                    help="ms to wait after a take-over before the fault is "
                    "undone (default 0: at once)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work dir (configs, logs)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.stderr.write("bench.py needs root (network namespaces)\n")
        return 2
    for b in (vgtopo.VIGILD, vgtopo.VIGILCTL):
        if not os.access(b, os.X_OK):
            sys.stderr.write("%s missing: make first (VIGIL_BUILD)\n" % b)
            return 2
    args.intervals = [int(x) for x in args.intervals.split(",")]
    if args.quick:
        args.runs = args.runs or 3
        args.runs_vips = args.runs_vips or 2
        args.runs_sw = args.runs_sw or 8
        args.vips_intervals = [20]
        args.sw_intervals = [100]
        args.idle_intervals = [10]
        args.max_minutes = min(args.max_minutes, 6.0)
    else:
        args.runs = args.runs or 20
        args.runs_vips = args.runs_vips or 10
        args.runs_sw = args.runs_sw or 50
        args.vips_intervals = args.intervals
        args.sw_intervals = [100, 10]
        args.idle_intervals = [10, 100]
    only = set(args.only.split(","))
    global RESTORE_DELAY_S
    RESTORE_DELAY_S = max(0.0, min(args.restore_delay, 5000.0)) / 1000.0
    args.workdir = tempfile.mkdtemp(prefix="vigil-bench-")
    budget = Budget(args.max_minutes)
    bn.stop_signals()
    res = {"failover": [], "vips": [], "switchover": [], "idle": [],
           "notes": []}
    meta = {"date": datetime.datetime.now().astimezone().isoformat(
        timespec="seconds"), "cmd": " ".join([sys.executable] + sys.argv),
        "host": platform.node(), "kernel": platform.release(),
        "cpus": os.cpu_count(), "vigild": vgtopo.VIGILD,
        "loadavg_start": open("/proc/loadavg").read().strip()}
    try:
        with open("/proc/cpuinfo") as fh:
            meta["cpu"] = next((ln.split(":", 1)[1].strip() for ln in fh
                                if ln.startswith("model name")), "?")
    except OSError:
        pass
    res["meta"] = meta
    say("vigil bench: %s; work dir %s" % (meta["cmd"], args.workdir))
    left = vgtopo.cleanup_leftovers()
    if left:
        say("removed leftovers of dead runs: %s" % left)
    status = 0
    try:
        if "failover" in only:
            bench_failover(args, budget, res)
        if "vips" in only:
            ivs = args.intervals
            args.intervals = args.vips_intervals
            bench_failover(args, budget, res, multi=True)
            args.intervals = ivs
        if "switchover" in only:
            bench_switchover(args, budget, res)
        if "idle" in only:
            bench_idle(args, budget, res)
    except OutOfTime:
        res["notes"].append("out of time (--max-minutes %.0f): the rest was "
                            "skipped" % args.max_minutes)
        status = 1
    except KeyboardInterrupt as e:
        res["notes"].append("interrupted (%s)" % (e or "Ctrl-C"))
        status = 130
    except Exception:
        res["notes"].append("bench error: " + traceback.format_exc()[-1500:])
        say(traceback.format_exc())
        status = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for t in list(vgtopo.ACTIVE):
            errs = t.teardown()
            if errs:
                res["notes"].append("teardown %s: %s" % (t.tag, errs))
        left = [ns for ns in vgtopo.netns_list()
                if ns.startswith(vgtopo.RUN_TAG + "t")]
        if left:
            res["notes"].append("namespaces left: %s" % left)
            for ns in left:
                vgtopo.run(["ip", "netns", "del", ns], check=False)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    meta["elapsed_s"] = round(time.monotonic() - T_START, 1)
    meta["loadavg_end"] = open("/proc/loadavg").read().strip()
    text, md = report(res)
    head = ("vigil benchmarks, %s, %s (%d CPUs, %s), kernel %s; %.0f s\n"
            "command: %s\nload average at start: %s; at the end: %s" % (
                meta["date"], meta["host"], meta["cpus"],
                meta.get("cpu", "?"), meta["kernel"], meta["elapsed_s"],
                meta["cmd"], meta["loadavg_start"], meta["loadavg_end"]))
    print(head)
    print(text)
    jpath = args.json or os.path.join(args.workdir, "results.json")
    with open(jpath, "w") as fh:
        json.dump(res, fh, indent=1, default=str)
    if args.md:
        with open(args.md, "w") as fh:
            fh.write("%s\n\n%s\n" % (head.replace("\n", "  \n"), md))
    if args.keep or status or args.json is None and False:
        say("work dir kept: %s" % args.workdir)
    else:
        jp = jpath if args.json else None
        if jp is None:
            # results.json is in the work dir: keep only it
            keep = os.path.join(tempfile.gettempdir(),
                                "vigil-bench-results-%d.json" % os.getpid())
            shutil.copy(jpath, keep)
            say("figures of every run: %s" % keep)
        shutil.rmtree(args.workdir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
