#!/usr/bin/python3
"""vigil benchmark: VIP groups (issue 15), idle cost and the failover of
one group while the others stay.  Run as root (make bench runs it):

    cd tests/bench && VIGIL_BUILD=/work/main/build /usr/bin/python3 groups.py
        [--quick] [--cases 1,4,16] [--idle-s S] [--runs N]
        [--load-max L] [--load-wait-s S] [--md FILE] [--json FILE] [--keep]

Each case is a fresh cluster in namespaces (vgtopo, through benchnet's
BenchTopology: vigild without -d, log level info, state on tmpfs) of n1..n3
at h = 10 ms, D = 30 ms (issue9.py's idle rows at 10 ms: D = 3h),
preempt = false, with N groups (`groups = ( ... )`, no top-level vips):
group gI holds the one VIP 198.18.0.(100 + I)/24 on eth0 and has the
priorities 150 / 100 / 50 on n(I mod 3 + 1), the next node and the one
after it (round-robin: with 16 groups n1 is the best node of 6, n2 and n3
of 5 each).  --cases 0 is the file without `groups` (one implicit group,
wire as before groups) for comparison.  Measured per case:

  idle     over --idle-s (default 30 s, --quick 8 s), no faults: CPU per
           node (agent and keeper, every thread of each: the run time of
           /proc/PID/task/*/schedstat, as issue9.py takes it, in % of one
           CPU), datagrams sent and received per second per node (the
           agent's tx_packets / rx_packets), packets and bytes per second
           out of the node's eth0 (/proc/net/dev in its namespace), loop
           counters (heartbeats sent late, slow iterations), and per group
           the changes of active: the group's term and active as every node
           reports them (`vigilctl status --json` "groups") at the start
           and the end of the window, and the holder changes of the
           group's VIP that a VipSampler saw (one sampler thread reads each
           node's fib_trie and looks for every group's VIP in each read:
           VipSampler.twin; a sweep every ~2 ms while idle).
  failover the last group, gN-1 (its best node is n1), is moved --runs
           times (default 10, --quick 3) with `vigilctl failover --group
           gN-1 --to X` sent to its active, X the next node round the ring
           (n2, n3, n1, ...: each run a different target): the time from
           just before vigilctl starts to the end of the first read that
           shows the VIP in the new holder's kernel (the sampler, a sweep
           every ~0.5 ms now), vigilctl's answer, the hole (old holder
           without, new one not yet with the VIP; bounded below and
           above), and whether the sampler proved the old holder lost it
           before the new one got it.  Every other group's VIP is watched
           by the same sampler: "others moved" counts those whose holder
           changed (or that had two holders) from the first command to the
           end; it must be 0.

Before the first case the bench waits (bounded: --load-wait-s, default
600 s, polling every 30 s) for the 1-minute load average to be at or
below --load-max (1.5): another test suite may be running on the same
cores; past that it measures anyway and says so.  It prints
`uptime` before and after, and the load at the start and the end of every
window.  Figures, not pass/fail: the exit status is 0 unless the bench
itself failed.  Every wait is bounded, every process ended by PID, every
namespace deleted, also on failure, Ctrl-C or SIGTERM.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True
import benchnet as bn                                   # noqa: E402
from benchnet import NAMES, vgtopo                      # noqa: E402

T0 = time.monotonic()
H, D = 10, 30                   # issue9.py's idle rows at h = 10 ms
BEST, NEXT, LAST = 150, 100, 50  # a group's priorities, round-robin
HB_BYTES = lambda n: 87 + 22 * (max(n, 1) - 1)      # noqa: E731 (design.md)
IDLE_PAUSE = 0.002              # sampler pause while idle (s)
FO_PAUSE = 0.0005               # and during the failovers
CTL_TIMEOUT = 5.0               # vigilctl failover, bounded
# the agent's answer: "n2 is active (term 2), 1.5 ms after the hand-over
# began" (agent/command.c)
HANDOVER_MS = re.compile(r"([0-9.]+) ms after the hand-over began")


def say(msg):
    sys.stderr.write("[%6.1f s] %s\n" % (time.monotonic() - T0, msg))
    sys.stderr.flush()


def loadavg():
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def load1():
    with open("/proc/loadavg") as fh:
        return float(fh.read().split()[0])


def uptime():
    return vgtopo.run(["uptime"]).stdout.strip()


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(v, nd=1):
    return "-" if v is None else "%.*f" % (nd, v)


def vip(g):
    a = "198.18.0.%d" % (100 + g)
    assert vgtopo.allowed_addr(a), a
    return a


def order(g):
    """The nodes in group g's order of priority: best first."""
    k = g % len(NAMES)
    return [NAMES[(k + i) % len(NAMES)] for i in range(len(NAMES))]


def topo():
    """n1..n3 (node priorities 100/90/80: what a group does not name),
    h = 10 ms, D = 30 ms, preempt off, no top-level VIP, state on tmpfs."""
    return vgtopo.Topo(nodes=[
        vgtopo.Node("n1", "198.18.0.1", id=1, priority=100),
        vgtopo.Node("n2", "198.18.0.2", id=2, priority=90),
        vgtopo.Node("n3", "198.18.0.3", id=3, priority=80),
    ], interval=H, dead_time=D, state_tmpfs=True, vips=[],
        extra_conf="preempt = false;\n")


def groups_conf(bt, name, n):
    """The node's config: BenchTopology's without its (empty) top-level
    vips and with n groups (n = 0: the file without `groups`, the VIP
    198.18.0.100/24 top-level, one implicit group)."""
    text = bt.config(name)
    start = text.index("vips = (")
    end = text.index(");", start) + 2
    if n == 0:
        return (text[:start] + 'vips = (\n\t{ address = "%s/24"; '
                'interface = "eth0"; }\n);' % vip(0) + text[end:])
    rows = []
    for g in range(n):
        o = order(g)
        rows.append('  { name = "g%d"; vips = ( { address = "%s/24"; '
                    'interface = "eth0"; } ); priorities = { %s = %d; '
                    '%s = %d; %s = %d; }; }' % (
                        g, vip(g), o[0], BEST, o[1], NEXT, o[2], LAST))
    return (text[:start] + "groups = (\n" + ",\n".join(rows) + "\n);" +
            text[end:])


def gname(n, g):
    return "default" if n == 0 else "g%d" % g


def task_cpu_s(pid):
    """Run time (s) of every thread of `pid`: /proc/PID/task/*/schedstat
    (0 for a process that is gone)."""
    tot = 0
    for path in glob.glob("/proc/%d/task/*/schedstat" % pid):
        try:
            with open(path) as fh:
                tot += int(fh.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return tot / 1e9


def node_pids(bt, name):
    ag = bt.pid(name)
    if ag is None:
        return []
    return [ag] + vgtopo.children_named(ag, vgtopo.KEEPER_COMM)


def netdev(smp, name):
    """(tx packets, tx bytes) of eth0 in the node's namespace, read
    through the sampler's sleeper there."""
    data = smp._read("/proc/%d/net/dev" % smp.sleepers[name].pid).decode()
    for ln in data.splitlines():
        if ln.strip().startswith("eth0:"):
            f = ln.split(":", 1)[1].split()
            return int(f[9]), int(f[8])
    raise AssertionError("no eth0 in %s's /proc/net/dev" % name)


def group_view(bt, n):
    """{node: {group: (term, active_name, state)}} from every node."""
    out = {}
    for name in NAMES:
        st = bt.status(name)
        out[name] = {g["name"]: (g["term"], g["active_name"], g["state"])
                     for g in st["groups"]}
        assert len(out[name]) == max(n, 1), (name, out[name])
    return out


def agreed(view, n):
    """{group: active} if every node names the same active in the same term
    for every group and that node is active there; else None."""
    out = {}
    for g in range(max(n, 1)):
        gn = gname(n, g)
        seen = {view[x][gn][:2] for x in NAMES}
        if len(seen) != 1:
            return None
        term, act = seen.pop()
        if act is None or view[act][gn][2] != "active":
            return None
        out[g] = act
    return out


def counters(bt):
    out = {}
    for name in NAMES:
        st = bt.status(name)
        c = st["counters"]
        out[name] = {"tx": c["tx_packets"], "rx": c["rx_packets"],
                     "late": c["heartbeats_late"],
                     "slow": c["slow_iterations"],
                     "lapses0": st["election"]["lease_lapses"],
                     "slowest_us": st["loop"]["slowest_iteration_us"]}
    return out


def wait_load(args, R, what):
    """Bounded: until load1 <= --load-max, polling every 30 s, for at most
    --load-wait-s."""
    waited = 0.0
    for _ in range(int(args.load_wait_s / 30) + 2):
        la = load1()
        if la <= args.load_max:
            break
        if args.load_wait_left <= 0:
            say("load %.2f above %.2f and --load-wait-s used up: measuring "
                "%s anyway" % (la, args.load_max, what))
            R["meta"].setdefault("load_high", []).append(
                "%s: %.2f" % (what, la))
            break
        say("load %.2f above %.2f before %s: waiting 30 s (%.0f s left to "
            "wait)" % (la, args.load_max, what, args.load_wait_left))
        step = min(30.0, args.load_wait_left)
        time.sleep(step)
        waited += step
        args.load_wait_left -= step
    R["meta"]["load_waited_s"] = R["meta"].get("load_waited_s", 0) + waited
    return waited


def settle(bt, smps, n, timeout):
    """Every group agreed on by all nodes, on its best node (set-up moves
    it there with failover --group if the first elections put it
    elsewhere), its VIP seen on that node alone, for 1 s; returns the
    number of set-up moves."""
    moves = 0
    want = {g: order(g)[0] for g in range(max(n, 1))}
    end = time.monotonic() + timeout
    ok_since = None
    last = None
    for _ in range(int(timeout / 0.05) + 10):
        now = time.monotonic()
        if now > end:
            break
        view = group_view(bt, n)
        ag = agreed(view, n)
        last = (view, ag)
        if ag is not None and ag != want:
            for g, a in ag.items():
                if a != want[g] and moves < 3 * len(want):
                    moves += 1
                    say("  set-up: g%d is on %s, moved to %s" % (
                        g, a, want[g]))
                    bt.ctl(a, "failover", "--group", gname(n, g), "--to",
                           want[g], check=False, timeout=CTL_TIMEOUT)
            ok_since = None
        elif ag == want and all(
                smps[g].sweeps and smps[g].holders(smps[g].sweeps[-1]) ==
                [want[g]] for g in want):
            if ok_since is None:
                ok_since = now
            if now - ok_since >= 1.0:
                return moves
        else:
            ok_since = None
        time.sleep(0.05)
    raise AssertionError("the groups did not settle on their best nodes in "
                         "%.0f s: %s" % (timeout, last))


def idle(bt, smps, n, args, rec):
    g_all = list(range(max(n, 1)))
    since = time.monotonic()
    v0 = group_view(bt, n)
    c0 = counters(bt)
    pids = {x: node_pids(bt, x) for x in NAMES}
    nd0 = {x: netdev(smps[g_all[-1]], x) for x in NAMES}
    cpu0 = {x: sum(task_cpu_s(p) for p in pids[x]) for x in NAMES}
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    w0 = time.time()
    la0 = loadavg()
    for _ in range(int(args.idle_s) + 10):
        left = args.idle_s - (time.monotonic() - t0)
        if left <= 0:
            break
        time.sleep(min(1.0, left))
    cpu1 = {x: sum(task_cpu_s(p) for p in pids[x]) for x in NAMES}
    nd1 = {x: netdev(smps[g_all[-1]], x) for x in NAMES}
    dt = time.monotonic() - t0
    rec["window_wall"] = (w0, time.time())
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    c1 = counters(bt)
    v1 = group_view(bt, n)
    until = time.monotonic()
    gone = [x for x in NAMES if node_pids(bt, x) != pids[x]]
    r = {"window_s": round(dt, 2), "load": [la0, loadavg()],
         "pids_changed": gone,
         "cpu_pct": {x: (cpu1[x] - cpu0[x]) / dt * 100 for x in NAMES},
         "tx_per_s": {x: (c1[x]["tx"] - c0[x]["tx"]) / dt for x in NAMES},
         "rx_per_s": {x: (c1[x]["rx"] - c0[x]["rx"]) / dt for x in NAMES},
         "eth_pkts_per_s": {x: (nd1[x][0] - nd0[x][0]) / dt for x in NAMES},
         "eth_bytes_per_s": {x: (nd1[x][1] - nd0[x][1]) / dt for x in NAMES},
         "late": sum(c1[x]["late"] - c0[x]["late"] for x in NAMES),
         "slow": sum(c1[x]["slow"] - c0[x]["slow"] for x in NAMES),
         "lapses_g0": sum(c1[x]["lapses0"] - c0[x]["lapses0"] for x in NAMES),
         "slowest_us": max(c1[x]["slowest_us"] for x in NAMES),
         "bench_cpu_pct": (self1.ru_utime + self1.ru_stime - self0.ru_utime -
                           self0.ru_stime) / dt * 100}
    # changes of active per group: terms and actives on every node at both
    # ends, and the VIP's holder changes in the sampler's sweeps
    term_ch, act_ch, vip_ch, dbl = {}, {}, {}, {}
    for g in g_all:
        gn = gname(n, g)
        term_ch[gn] = max(v1[x][gn][0] - v0[x][gn][0] for x in NAMES)
        act_ch[gn] = sum(1 for x in NAMES if v1[x][gn][1] != v0[x][gn][1])
        ch = smps[g].changes(since, until)
        vip_ch[gn] = max(0, len(ch) - 1)
        if len(ch) > 1:
            # what moved: the holders at each change, and the reads (start
            # and end s after the sampler started, holds) of the sweeps
            # just before and after the first change
            t_s = smps[g].started or 0
            sw = smps[g]._snap(since, until)
            k = next((j for j, x in enumerate(sw) if j and
                      smps[g].holders(x) != smps[g].holders(sw[j - 1])), 0)
            r.setdefault("vip_change_detail", {})[gn] = {
                "changes": ch[:10], "sweeps": [
                    (round(x[0] - t_s, 4), [(round(a - t_s, 4),
                                             round(b - t_s, 4), h)
                                            for a, b, h in x[1]])
                    for x in sw[max(0, k - 2):k + 3]]}
        dbl[gn] = len(smps[g].doubles(since))
    act1 = agreed(v1, n) or {}
    r["vip_not_on_active"] = {
        gname(n, g): (smps[g].holders(smps[g].sweeps[-1]), act1.get(g))
        for g in g_all
        if smps[g].holders(smps[g].sweeps[-1]) != [act1.get(g)]}
    r.update(term_changes=term_ch, active_changes=act_ch,
             vip_changes=vip_ch, doubles=dbl,
             changes=sum(1 for gn in term_ch if term_ch[gn] or act_ch[gn] or
                         vip_ch[gn] or dbl[gn]),
             active_per_node={x: sum(1 for gn in v1[x] if v1[x][gn][2] ==
                                     "active") for x in NAMES},
             sampler=smps[g_all[-1]].gap_stats(since))
    rec["idle"] = r
    say("  idle %d groups, %.0f s: CPU %s %%; sent %s /s; changes of "
        "active in %d of %d groups; load %s -> %s" % (
            n, dt, ", ".join("%s %.2f" % (x, r["cpu_pct"][x]) for x in NAMES),
            ", ".join("%s %.0f" % (x, r["tx_per_s"][x]) for x in NAMES),
            r["changes"], len(g_all), la0, r["load"][1]))


def failovers(bt, smps, n, args, rec):
    k = max(n, 1) - 1                     # the last group; best node n1
    gn = gname(n, k)
    smp = smps[k]
    others = [g for g in range(max(n, 1)) if g != k]
    smp.pause = FO_PAUSE            # its thread reads it at every sweep
    runs = []
    t_first = time.monotonic()
    hold0 = {g: smps[g].holders(smps[g].sweeps[-1]) for g in others}
    act0 = agreed(group_view(bt, n), n) or {}
    bad0 = {gname(n, g): (hold0[g], act0.get(g)) for g in others
            if hold0[g] != [act0.get(g)]}
    la0 = loadavg()
    for i in range(args.runs):
        cur = smp.holders(smp.sweeps[-1])
        r = {"run": i, "from": cur}
        try:
            if len(cur) != 1:
                raise AssertionError("%s held by %s before the run" % (
                    vip(k), cur))
            old = cur[0]
            new = NAMES[(NAMES.index(old) + 1) % len(NAMES)]
            r.update(old=old, new=new)
            bn.SamplerWatch(smp).trim(time.monotonic() - 2.0)
            for g in others:
                bn.SamplerWatch(smps[g]).trim(time.monotonic() - 2.0)
            t_cmd = time.monotonic()
            p = bt.ctl(old, "failover", "--group", gn, "--to", new,
                       "--json", check=False, timeout=CTL_TIMEOUT)
            r["answer_ms"] = (time.monotonic() - t_cmd) * 1000
            try:
                ans = json.loads(p.stdout) if p.stdout.strip() else {}
            except ValueError:
                ans = {}
            r["answer"] = (ans.get("message") or ans.get("error") or
                           (p.stdout + p.stderr).strip())[:200]
            m = HANDOVER_MS.search(r["answer"])
            r["agent_ms"] = float(m.group(1)) if m else None
            if p.returncode != 0 or ans.get("ok") is not True:
                raise AssertionError("failover refused or failed: exit %d "
                                     "%s" % (p.returncode, r["answer"]))
            smp.wait_holder(lambda h: h == [new], 3.0,
                            "%s on %s" % (vip(k), new))
            ho = smp.handover(old, new, t_cmd)
            if ho["up"] is None or ho["down"] is None:
                raise AssertionError("the sampler shows no hand-over %s -> "
                                     "%s: %s" % (old, new,
                                                 smp.changes(t_cmd)))
            r.update(vip_ms=(ho["t_up"] - t_cmd) * 1000,
                     off_ms=(ho["t_down"] - t_cmd) * 1000,
                     hole_min_ms=ho["hole_min_ms"],
                     hole_max_ms=ho["hole_max_ms"], proven=ho["proven"],
                     proven_by=ho.get("proven_by"),
                     doubles=len(smp.doubles(t_cmd)))
            # every node names the new active (bounded), then a quiet gap
            ok, _ = vgtopo.wait_until(
                lambda: (agreed(group_view(bt, n), n) or {}).get(k) == new,
                3.0, step=0.02)
            r["agreed"] = bool(ok)
            r["ok"] = bool(ok) and ho["proven"] and r["doubles"] == 0
        except Exception as e:
            r["ok"] = False
            r["error"] = "%s: %s" % (type(e).__name__, str(e)[:500])
        runs.append(r)
        say("  failover %d: %s" % (i, {
            x: (round(v, 2) if isinstance(v, float) else v)
            for x, v in r.items() if x in ("old", "new", "answer_ms",
                                           "vip_ms", "hole_max_ms",
                                           "proven", "ok", "error")}))
        time.sleep(args.gap)
    until = time.monotonic()
    moved = {}
    for g in others:
        ch = smps[g].changes(t_first, until)
        d = len(smps[g].doubles(t_first))
        if len(ch) != 1 or ch[0][1] != hold0[g] or d or gname(n, g) in bad0:
            moved[gname(n, g)] = {"changes": ch[:8], "doubles": d,
                                  "before (VIP, active)":
                                  bad0.get(gname(n, g))}
    rec["failover"] = {
        "group": gn, "vip": vip(k), "runs": runs, "others": len(others),
        "others_moved": len(moved), "moved": moved,
        "load": [la0, loadavg()],
        "sampler": smp.gap_stats(t_first)}
    say("  failover of %s: %d/%d ok, others moved: %d" % (
        gn, sum(1 for r in runs if r["ok"]), len(runs), len(moved)))


def run_case(n, args, R, waited=0.0):
    rec = {"groups": n, "hb_bytes": HB_BYTES(n), "load_before": loadavg(),
           "load_waited_s": waited}
    R["cases"].append(rec)
    t_case = time.monotonic()
    bt = bn.BenchTopology(topo(), os.path.join(
        args.workdir, "c%d-g%d" % (len(R["cases"]), n)))
    smp = None
    say("case %d group(s): n1..n3 at h = %d ms, D = %d ms" % (n, H, D))
    try:
        bt.build()
        bt.direct_ctl = True        # status without a fork
        for x in NAMES:
            bt.write_config(x, groups_conf(bt, x, n))
        # one sampler thread: the VIP of the group that the failovers
        # move (its kernel order of address events proves a hand-over
        # faster than a sweep), a twin for each other group
        k = max(n, 1) - 1
        smp = vgtopo.VipSampler(bt, vip(k), names=list(NAMES),
                                pause=IDLE_PAUSE,
                                max_s=args.idle_s + 600)
        smps = {k: smp}
        for g in range(k):
            smps[g] = smp.twin(vip(g))
        smp.start()
        bt.start_all(timeout=10.0)
        rec["setup_moves"] = settle(bt, smps, n, 20.0)
        time.sleep(1.0)
        if "idle" in args.only:
            idle(bt, smps, n, args, rec)
        if "failover" in args.only:
            failovers(bt, smps, n, args, rec)
        rec["ok"] = True
    except Exception as e:
        rec["ok"] = False
        rec["error"] = "%s: %s" % (type(e).__name__, str(e)[:800])
        say("  case %d FAILED: %s" % (n, rec["error"]))
        if args.verbose:
            say(traceback.format_exc())
    finally:
        if smp is not None:
            smp.stop()
            rec["sampler_errors"] = smp.errors[:5]
        rec["logs"] = logscan(bt, rec.get("window_wall"))
        errs = bt.teardown()
        if errs:
            rec.setdefault("notes", []).append("teardown: %s" % errs)
        rec["load_after"] = loadavg()
        rec["case_s"] = round(time.monotonic() - t_case, 1)


LOGPAT = {"lease_lapsed": re.compile(r"lease lapsed"),
          "slow_iterations": re.compile(r"loop iteration took"),
          "won": re.compile(r"won the election"),
          "peer_down": re.compile(r"peer \S+ \(id \d+\) is down")}
LOGTIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z ")


def logscan(bt, window):
    """Counts of LOGPAT in the nodes' logs, before, in and after the idle
    window (wall clock, the logs' UTC stamps; window None: all "before"),
    and the state changes outside the set-up and the failovers: the
    lines that say something moved when nothing should have."""
    out = {ph: {k: 0 for k in LOGPAT} for ph in ("before", "idle", "after")}
    lines = []
    for x in NAMES:
        try:
            with open(bt.log_path(x), errors="replace") as fh:
                text = fh.read().splitlines()
        except OSError:
            continue
        for ln in text:
            m = LOGTIME.match(ln)
            t = None
            if m:
                t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:"
                                               "%S.%f").replace(
                    tzinfo=datetime.timezone.utc).timestamp()
            ph = "before"
            if window and t is not None and t >= window[0]:
                ph = "idle" if t <= window[1] else "after"
            for k, pat in LOGPAT.items():
                if pat.search(ln):
                    out[ph][k] += 1
            if ph == "idle" and (" state " in ln or "lease" in ln or
                                 "is down" in ln):
                lines.append("%s: %s" % (x, ln[:200]))
    out["idle_lines"] = lines[:12]
    return out


def per_node(d, nd=2):
    return ", ".join("%s %.*f" % (x, nd, d[x]) for x in NAMES)


IDLE_HDR = ["groups", "heartbeat (bytes)", "active for (groups)",
            "CPU per node, agent + keeper (% of one CPU)", "mean",
            "datagrams sent /s per node", "received /s per node",
            "eth0 bytes out /s per node", "changes of active",
            "late, slow", "load start / end"]
FO_HDR = ["groups", "group moved", "runs ok", "command → VIP on new holder "
          "(ms, median / max)", "agent: hand-over → new active seen (ms)",
          "vigilctl answer (ms, median / max)",
          "hole (ms, max of upper bound)", "proven / doubles",
          "others moved", "load start / end"]


def mm(rs, key, nd=1):
    xs = [r[key] for r in rs if r.get(key) is not None]
    return "-" if not xs else "%s / %s" % (fmt(med(xs), nd),
                                           fmt(max(xs), nd))


def tables(R):
    idle_rows, fo_rows = [], []
    for c in R["cases"]:
        lab = "%d" % c["groups"] if c["groups"] else "none (implicit)"
        i = c.get("idle")
        if i:
            ch = [g for g in i["term_changes"] if i["term_changes"][g] or
                  i["active_changes"][g] or i["vip_changes"][g] or
                  i["doubles"][g]]
            idle_rows.append([
                lab, c["hb_bytes"], per_node(i["active_per_node"], 0),
                per_node(i["cpu_pct"]),
                "%.2f" % statistics.mean(i["cpu_pct"].values()),
                per_node(i["tx_per_s"], 0), per_node(i["rx_per_s"], 0),
                per_node(i["eth_bytes_per_s"], 0),
                "0 in all %d groups" % len(i["term_changes"]) if not ch
                else "%d of %d groups (%s): terms +%s, VIP moves %s" % (
                    len(ch), len(i["term_changes"]), ", ".join(ch),
                    "/".join(str(i["term_changes"][g]) for g in ch),
                    "/".join(str(i["vip_changes"][g]) for g in ch)),
                "%d, %d" % (i["late"], i["slow"]),
                "%s / %s" % (i["load"][0], i["load"][1])])
        elif c.get("error"):
            idle_rows.append([lab, c["hb_bytes"], "FAILED: %s" %
                              c["error"][:200]] + ["-"] * 8)
        f = c.get("failover")
        if f:
            rs = [r for r in f["runs"] if r.get("ok")]
            fo_rows.append([
                lab, "%s (%s)" % (f["group"], f["vip"]),
                "%d/%d" % (len(rs), len(f["runs"])), mm(rs, "vip_ms"),
                mm(rs, "agent_ms"), mm(rs, "answer_ms"),
                fmt(max((r["hole_max_ms"] for r in rs), default=None)),
                "%d/%d, %d" % (sum(1 for r in rs if r["proven"]), len(rs),
                               sum(r.get("doubles", 0) for r in f["runs"])),
                "%d of %d" % (f["others_moved"], f["others"]),
                "%s / %s" % tuple(f["load"])])
    return idle_rows, fo_rows


def mdtable(hdr, rs):
    return "\n".join(["| " + " | ".join(hdr) + " |",
                      "|" + "|".join("---" for _ in hdr) + "|"] +
                     ["| " + " | ".join(str(x) for x in r) + " |"
                      for r in rs])


def details(R):
    out = []
    for c in R["cases"]:
        lab = "case %d" % c["groups"]
        if c.get("error"):
            out.append("%s FAILED: %s" % (lab, c["error"]))
        for x in c.get("notes", []):
            out.append("%s: %s" % (lab, x))
        i = c.get("idle")
        if i:
            out.append(
                "%s idle %.1f s: packets out of eth0 /s %s; lease lapses "
                "(group 0) %d; slowest loop iteration %d us; sampler %d "
                "sweeps, gap max %s ms; the bench process (sampler) %.1f %% "
                "of a CPU; set-up moves %d" % (
                    lab, i["window_s"], per_node(i["eth_pkts_per_s"], 0),
                    i["lapses_g0"], i["slowest_us"], i["sampler"]["sweeps"],
                    fmt(i["sampler"]["max_ms"]), i["bench_cpu_pct"],
                    c.get("setup_moves", 0)))
            for gn, d in (i.get("vip_change_detail") or {}).items():
                out.append("%s idle: the VIP of %s changed holders: %s; "
                           "sweeps around the first change (reads: start, "
                           "end, held; s since the sampler started): %s" % (
                               lab, gn, d["changes"], d["sweeps"]))
            if i["vip_not_on_active"]:
                out.append("%s idle: at the window's end a VIP was not (only) "
                           "on its group's active (holders, active): %s" % (
                               lab, i["vip_not_on_active"]))
            if i["pids_changed"]:
                out.append("%s: agent or keeper pids changed in the window: "
                           "%s" % (lab, i["pids_changed"]))
        f = c.get("failover")
        if f:
            for r in f["runs"]:
                if not r.get("ok"):
                    out.append("%s failover run %d (%s -> %s): %s" % (
                        lab, r["run"], r.get("old"), r.get("new"),
                        r.get("error") or {k: r.get(k) for k in (
                            "proven", "doubles", "agreed")}))
            if f["moved"]:
                out.append("%s: other groups that moved: %s" % (
                    lab, f["moved"]))
            rs = [r for r in f["runs"] if r.get("ok")]
            if rs:
                out.append("%s failover: VIP off the old holder %s ms "
                           "(median / max), proven by %s; answers: %s" % (
                               lab, mm(rs, "off_ms"),
                               sorted({r["proven_by"] for r in rs}),
                               rs[0]["answer"]))
        lg = c.get("logs") or {}
        if lg:
            out.append("%s logs (3 nodes): %s; %.0f s" % (lab, "; ".join(
                "%s: %s" % (ph, ", ".join("%s %d" % (k, v) for k, v in
                                          lg[ph].items()))
                for ph in ("before", "idle", "after")), c.get("case_s", 0)))
            for ln in lg.get("idle_lines", []):
                out.append("%s in the idle window: %s" % (lab, ln))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="8 s idle windows, 3 failovers a case")
    ap.add_argument("--cases", default="1,4,16",
                    help="numbers of groups (0: the file without groups)")
    ap.add_argument("--only", default="idle,failover")
    ap.add_argument("--idle-s", type=float, help="idle window (30 s)")
    ap.add_argument("--runs", type=int, help="failovers per case (10)")
    ap.add_argument("--gap", type=float, default=0.3,
                    help="s between two failovers (0.3)")
    ap.add_argument("--load-max", type=float, default=1.5)
    ap.add_argument("--load-wait-s", type=float, default=600.0)
    ap.add_argument("--md", help="write the tables (markdown) here")
    ap.add_argument("--json", help="write every figure here")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work dir (configs, logs)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.stderr.write("groups.py needs root (network namespaces)\n")
        return 2
    for b in (vgtopo.VIGILD, vgtopo.VIGILCTL):
        if not os.access(b, os.X_OK):
            sys.stderr.write("%s missing: make first (VIGIL_BUILD)\n" % b)
            return 2
    args.idle_s = max(1.0, min(args.idle_s or (8.0 if args.quick else 30.0),
                               3600.0))
    args.runs = max(1, min(args.runs or (3 if args.quick else 10), 200))
    args.gap = max(0.0, min(args.gap, 10.0))
    args.load_wait_s = max(0.0, min(args.load_wait_s, 3600.0))
    args.load_wait_left = args.load_wait_s
    args.only = set(args.only.split(","))
    try:
        cases = [int(x) for x in args.cases.split(",") if x]
    except ValueError:
        cases = [-1]
    if not cases or any(not 0 <= x <= 16 for x in cases):
        sys.stderr.write("--cases: numbers of groups, 0..16\n")
        return 2
    args.workdir = tempfile.mkdtemp(prefix="vigil-groups-")
    bn.stop_signals()
    R = {"cases": [], "meta": {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"),
        "cmd": " ".join([sys.executable] + sys.argv),
        "host": platform.node(), "kernel": platform.release(),
        "cpus": os.cpu_count(), "vigild": vgtopo.VIGILD,
        "uptime_start": uptime()}}
    meta = R["meta"]
    say("VIP groups bench: %s; work dir %s; idle %.0f s, %d failovers" % (
        meta["cmd"], args.workdir, args.idle_s, args.runs))
    say("uptime: %s" % meta["uptime_start"])
    left = vgtopo.cleanup_leftovers()
    if left:
        say("removed leftovers of dead runs: %s" % left)
    status = 0
    try:
        for n in cases:
            # only before the first case: the cases' own agents and
            # sampler raise the load a little, and each row says its load
            w = wait_load(args, R, "case %d" % n) if n == cases[0] and \
                not R["cases"] else 0.0
            if "uptime_measure" not in meta:
                meta["uptime_measure"] = uptime()
                say("uptime when measuring starts: %s" %
                    meta["uptime_measure"])
            run_case(n, args, R, w)
    except KeyboardInterrupt as e:
        R.setdefault("notes", []).append("interrupted (%s)" % (e or "Ctrl-C"))
        status = 130
    except Exception:
        R.setdefault("notes", []).append("bench error: " +
                                         traceback.format_exc()[-1500:])
        status = 1
    finally:
        for t in list(vgtopo.ACTIVE):
            errs = t.teardown()
            if errs:
                R.setdefault("notes", []).append("teardown %s: %s" % (
                    t.tag, errs))
    meta["elapsed_s"] = round(time.monotonic() - T0, 1)
    meta["uptime_end"] = uptime()
    head = ("VIP groups (issue 15): %s, %s (%d CPUs), kernel %s; %.0f s\n"
            "command: %s\nuptime at start: %s\nuptime measuring: %s "
            "(waited %.0f s in all for load <= %.1f; measured above it: %s)\nuptime at end:   %s\n"
            "3 nodes, h = %d ms, D = %d ms, preempt off; group gI: VIP "
            "198.18.0.(100+I)/24, priorities %d/%d/%d round-robin "
            "from n(I mod 3 + 1)" % (
                meta["date"], meta["host"], meta["cpus"], meta["kernel"],
                meta["elapsed_s"], meta["cmd"], meta["uptime_start"],
                meta.get("uptime_measure", "-"),
                meta.get("load_waited_s", 0), args.load_max,
                ", ".join(meta.get("load_high", [])) or "none",
                meta["uptime_end"], H, D, BEST, NEXT, LAST))
    idle_rows, fo_rows = tables(R)
    det = details(R) + R.get("notes", [])
    text = head + "\n\n"
    if idle_rows:
        text += "idle, %.0f s each, no faults:\n\n%s\n\n" % (
            args.idle_s, mdtable(IDLE_HDR, idle_rows))
    if fo_rows:
        text += "failover --group of one group, %d runs each:\n\n%s\n\n" % (
            args.runs, mdtable(FO_HDR, fo_rows))
    text += "\n".join("- " + d for d in det) + "\n"
    print(text)
    if args.md:
        with open(args.md, "w") as fh:
            fh.write(text)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(R, fh, indent=1, default=str)
    if not args.keep:
        shutil.rmtree(args.workdir, ignore_errors=True)
    else:
        say("work dir kept: %s" % args.workdir)
    return status


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    sys.exit(main())
