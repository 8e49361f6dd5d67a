#!/usr/bin/python3
"""vigil benchmark: `vigilctl config push`, from the command to every node
on the new epoch (issue 14).  Run as root (make bench runs it):

    cd tests/bench && VIGIL_BUILD=/work/main/build /usr/bin/python3 push.py
        [--quick] [--runs N] [--only 3,16,1000]
        [--change vip|priority|dead_time]
        [--conf-tmpfs] [--md FILE] [--json FILE] [--keep]

Every case is a fresh cluster in namespaces (vgtopo, through benchnet's
BenchTopology: vigild without -d, log level info, state on tmpfs) at
vgtopo's default timing, h = 50 ms and D = 250 ms (the integration tests'
test_push.py runs there too), preempt = false, the VIP 198.18.0.100/24 on
eth0:

  3      n1..n3.
  16     n1..n16 (198.18.0.1..16, permanent neighbour entries as in
         issue9.py's 64-node row).
  1000   n1..n3; the first push adds 1000 VIPs (198.19.0.1 .. 198.19.3.250,
         /32 on eth0; the file is checked with `vigild -t` first): its row
         ("1000 add") also gives the time until the active's kernel has the
         first and all 1000 (its fib_trie read every ~5 ms by a thread
         during that push only).  The runs after it push the 1000-VIP file
         (55 chunks) with a small change: the 1000 VIPs' add is not in
         those rows.

Each run pushes, through a standby's ctl socket, the cluster's file at the
next epoch with one small live change: the VIP 198.19.255.1/32 added on odd
runs, removed on even runs (a change of the VIPs: every node reloads and
the active's keeper is handed over); with --change priority, the last
node's priority one lower on odd runs, restored on even runs (no VIP
change, no keeper hand-over); with --change dead_time, a safety-relevant
change: dead_time doubled on odd runs, restored on even runs, through the
joint configuration (JOINT, a quorum of both in J, D_J, FINAL: the answer
includes the D_J wait, the longer dead_time).  Each node's config file is where a commit
installs it (with an fsync): the work dir, under /tmp (the disk), or
/dev/shm with --conf-tmpfs.  Measured per run:

  answer   from just before vigilctl starts to its exit (it answers once
           every node confirmed the commit, or at the push's deadline);
  first / all
           from the same instant to the first and to the last node's
           "reloaded: epoch N" event (`vigilctl events`: the agent's own
           CLOCK_BOOTTIME, in whole ms, compared with the bench's own
           CLOCK_BOOTTIME: no polling in the way, 1 ms resolution);
  status   one status sweep of every node right after the answer: every
           node must show cluster.epoch N (a check: its time is only when
           the sweep ended);
  rounds   the answer's `rounds` (one per heartbeat round), and the file's
           chunks (ceil(bytes / 1024), the transfer's chunk size);
  VIP      a vgtopo.VipSampler on 198.18.0.100 on every node for the whole
           case: the holder never changes and no sweep sees two holders; the
           active and its term stay the same.

Printed: a markdown table (median and max per case), uptime before and
after; --json FILE: every run.  Figures, not pass/fail: the exit status is
0 unless the bench itself failed.  Every wait is bounded, every process is
ended by PID, every namespace deleted, also on failure or Ctrl-C.
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
import traceback

sys.dont_write_bytecode = True
import benchnet as bn                                   # noqa: E402
from benchnet import VIP1, vgtopo                       # noqa: E402

T0 = time.monotonic()
H, D = 50, 250                  # vgtopo's default timing (ms)
TOGGLE_VIP = "198.19.255.1/32"
CHUNK = 1024                    # agent/push.h VG_PUSH_CHUNK
ANSWER_TIMEOUT = 30.0           # s: vigilctl's run, bounded


def say(msg):
    sys.stderr.write("[%6.1f s] %s\n" % (time.monotonic() - T0, msg))
    sys.stderr.flush()


def boot_ms():
    """CLOCK_BOOTTIME in ms: the agent's event clock (mono_ms)."""
    return time.clock_gettime(time.CLOCK_BOOTTIME) * 1000.0


def loadavg():
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def vips1000():
    """1000 /32 addresses of 198.19.0.0/22 (x.1 .. x.250 of 4 blocks)."""
    out = ["198.19.%d.%d" % (b, o) for b in range(4) for o in range(1, 251)]
    assert len(out) == 1000
    for a in out:
        assert vgtopo.allowed_addr(a), a
    return out


def topo_for(case):
    """The case's vgtopo.Topo: h = 50 ms, D = 250 ms, the VIP 198.18.0.100
    on eth0, preemption off, state on tmpfs."""
    if case == "16":
        nodes = [vgtopo.Node("n%d" % i, "198.18.0.%d" % i, id=i,
                             priority=200 - i) for i in range(1, 17)]
        return vgtopo.Topo(nodes=nodes, interval=H, dead_time=D,
                           state_tmpfs=True,
                           extra_conf="preempt = false;\n")
    return bn.bench_topo(H, D)          # n1..n3 and a client (not used)


def permanent_neighbours(bt, names):
    """Every node knows every other's MAC (no ARP in the way), as the
    64-node row of issue9.py."""
    macs = {n: bt.mac(n) for n in names}
    for n in names:
        path = os.path.join(bt.dir(n), "neigh.batch")
        with open(path, "w") as fh:
            for m in names:
                if m != n:
                    fh.write("neigh replace %s lladdr %s dev eth0 nud "
                             "permanent\n" % (bt.topo.node(m).address,
                                              macs[m]))
        vgtopo.run(["ip", "-n", bt.ns(n), "-batch", path])


def with_vips(base, extra):
    """The config text `base` with the VIP lines `extra` ([(cidr, dev)])
    added at the head of its vips list."""
    if not extra:
        return base
    lines = "".join('\t{ address = "%s"; interface = "%s"; },\n' % v
                    for v in extra)
    assert "vips = (\n" in base
    return base.replace("vips = (\n", "vips = (\n" + lines, 1)


def epochs(bt, names):
    """{name: cluster.epoch} of every node (None where no answer)."""
    out = {}
    for n in names:
        st = bt.status(n, check=False)
        out[n] = st["cluster"]["epoch"] if st else None
    return out


def no_push_left(bt, names):
    for n in names:
        st = bt.status(n, check=False)
        if not st:
            return False
        p = st["cluster"]["push"]
        if p["coordinating"] is not None or p["here"] is not None:
            return False
    return True


RELOADED = re.compile(r"^reloaded: epoch (\d+),")


def commit_times(bt, names, epoch, since_ms):
    """{name: BOOTTIME ms of its "reloaded: epoch N" event at or after
    since_ms - 1} (None where there is none)."""
    out = {}
    for n in names:
        out[n] = None
        try:
            evs = bt.events(n)
        except (AssertionError, OSError, ValueError):
            continue
        for e in evs:
            m = RELOADED.match(e.get("text", ""))
            if m and int(m.group(1)) == epoch and \
                    e["mono_ms"] >= since_ms - 1:
                out[n] = e["mono_ms"]
                break
    return out


LOCAL32 = re.compile(rb"\|-- 198\.19\.[0-3]\.\d+\n[ \t]+/32 host LOCAL\n")


def count_1000(smp, name):
    """How many of the 1000 VIPs (198.19.0-3.x) the node's kernel has as
    local addresses: its fib_trie, read through the sampler's sleeper in
    its namespace."""
    data = smp._read("/proc/%d/net/fib_trie" % smp.sleepers[name].pid)
    return len(LOCAL32.findall(data))


class VipCount:
    """A thread that reads the active's fib_trie every ~5 ms while one push
    runs (bounded: 15 s, 3000 reads) and notes when the first and when all
    of the 1000 VIPs were there (time.monotonic of the read's end)."""

    def __init__(self, smp, name):
        self.smp, self.name = smp, name
        self.first_at = self.all_at = self.t0 = None
        self.reads = 0
        self.stop_ev = threading.Event()
        self.th = threading.Thread(target=self._run, daemon=True,
                                   name="vipcount")

    def start(self, t0):
        self.t0 = t0
        self.th.start()

    def _run(self):
        end = time.monotonic() + 15.0
        for _ in range(3000):
            if self.stop_ev.is_set() or time.monotonic() > end:
                return
            n = count_1000(self.smp, self.name)
            now = time.monotonic()
            self.reads += 1
            if n > 0 and self.first_at is None:
                self.first_at = now
            if n >= 1000:
                self.all_at = now
                return
            self.stop_ev.wait(0.005)

    def stop(self):
        self.stop_ev.set()
        self.th.join(timeout=2.0)

    def ms(self, t):
        return None if t is None else (t - self.t0) * 1000


def one_push(bt, names, via, path, epoch, smp=None, active=None,
             want_1000=False):
    """One `config push`: returns the run's figures."""
    size = os.path.getsize(path)
    rec = {"epoch": epoch, "bytes": size, "chunks": -(-size // CHUNK),
           "via": via}
    watch = None
    if want_1000:
        watch = VipCount(smp, active)
    t_boot = boot_ms()
    t_mono = time.monotonic()
    if watch is not None:
        watch.start(t_mono)
    p = bt.ctl(via, "config", "push", path, "--json", check=False,
               timeout=ANSWER_TIMEOUT)
    rec["answer_ms"] = (time.monotonic() - t_mono) * 1000
    try:
        r = json.loads(p.stdout) if p.stdout.strip() else None
    except ValueError:
        r = None
    rec["exit"] = p.returncode
    rec["committed"] = bool(r and r.get("committed") is True)
    rec["rounds"] = r.get("rounds") if r else None
    rec["nodes_done"] = sum(1 for x in (r or {}).get("nodes", [])
                            if x.get("status") == "done")
    if not rec["committed"]:
        rec["error"] = (r.get("error") if r else None) or (
            p.stdout + p.stderr)[-400:]
    # every node's status at once after the answer: the new epoch
    ep = epochs(bt, names)
    rec["status_ms"] = (time.monotonic() - t_mono) * 1000
    rec["status_all"] = all(v == epoch for v in ep.values())
    if not rec["status_all"]:
        # not yet: poll (bounded), 5 ms steps, for the figure
        ok, _ = vgtopo.wait_until(lambda: all(
            v == epoch for v in epochs(bt, names).values()), 5.0,
            step=0.005)
        rec["status_ms"] = (time.monotonic() - t_mono) * 1000
        rec["status_late"] = True
        rec["status_all"] = bool(ok)
        if not ok:
            rec["status_epochs"] = epochs(bt, names)
    if watch is not None:
        # the active's kernel: the first and all 1000 VIPs
        got, _ = vgtopo.wait_until(lambda: watch.all_at is not None or
                                   not watch.th.is_alive(), 10.0, step=0.005)
        watch.stop()
        rec["vips1000_first_ms"] = watch.ms(watch.first_at)
        rec["vips1000_ms"] = watch.ms(watch.all_at)
        rec["vips1000_count"] = count_1000(smp, active)
        rec["vips1000_reads"] = watch.reads
    ct = commit_times(bt, names, epoch, t_boot)
    got = [v for v in ct.values() if v is not None]
    rec["commit_missing"] = sorted(n for n, v in ct.items() if v is None)
    rec["first_ms"] = min(got) - t_boot if got else None
    rec["all_ms"] = (max(got) - t_boot) if len(got) == len(names) else None
    rec["last_node"] = max(ct, key=lambda n: ct[n] or 0) if got else None
    rec["first_node"] = min((n for n in ct if ct[n] is not None),
                            key=lambda n: ct[n]) if got else None
    rec["ok"] = rec["committed"] and rec["status_all"] and \
        rec["all_ms"] is not None
    ok, _ = vgtopo.wait_until(lambda: no_push_left(bt, names), 5.0,
                              step=0.05)
    rec["push_left"] = not ok
    return rec


def counters(bt, names):
    """Sums over the nodes: loop iterations longer than h/2, heartbeats
    sent late."""
    out = {"slow_iterations": 0, "heartbeats_late": 0}
    for n in names:
        c = bt.status(n)["counters"]
        for k in out:
            out[k] += c[k]
    return out


def run_case(case, args, R):
    names_needed = {"3": 3, "16": 16, "1000": 3}[case]
    rec = {"case": case, "nodes": names_needed, "h_ms": H, "dead_ms": D,
           "change": args.change, "runs": [], "load_before": loadavg()}
    R["cases"].append(rec)
    topo = topo_for(case)
    names = [n.name for n in topo.cluster_nodes]
    wd = os.path.join(args.workdir, "c" + case)
    bt = bn.BenchTopology(topo, wd)
    smp = None
    t_case = time.monotonic()
    say("case %s: %d nodes at h = %d ms, D = %d ms, %d runs" % (
        case, len(names), H, D, args.runs))
    try:
        bt.build()
        if case == "16":
            permanent_neighbours(bt, names)
        bt.direct_ctl = True    # status/events without a fork
        pause = {"3": 0.001, "16": 0.002, "1000": 0.005}[case]
        smp = vgtopo.VipSampler(bt, VIP1, names=names, pause=pause,
                                max_s=args.max_minutes * 60 + 120).start()
        bt.start_all(timeout=10.0)
        a, sts, _ = vgtopo.wait_one_active(bt, names, 20.0, "first election")
        smp.wait_holder(lambda h: h == [a], 5.0, "%s holds the VIP" % a)
        time.sleep(1.0)                     # a quiet second
        term = sts[a]["node"]["term"]
        since = time.monotonic()
        via = names[(names.index(a) + 1) % len(names)]     # a standby
        rec.update(active=a, via=via, term=term)
        rec["slowest_before_us"] = max(
            (bt.status(n)["loop"]["slowest_iteration_us"] for n in names))
        c0 = counters(bt, names)
        base = bt.config(via)               # the file every node runs
        big = []
        epoch = 0
        plan = []               # (label, run, extra VIPs, 1000 add)
        if case == "1000":
            big = [("%s/32" % x, "eth0") for x in vips1000()]
            plan.append(("add", 0, big, True))
        for k in range(1, args.runs + 1):
            plan.append(("run", k, big + ([(TOGGLE_VIP, "eth0")] if k % 2
                                          else []), False))
        for i, (label, k, extra, want) in enumerate(plan):
            if time.monotonic() - T0 > args.max_minutes * 60:
                rec.setdefault("notes", []).append(
                    "stopped after %d pushes: --max-minutes" % i)
                break
            epoch += 1
            path = os.path.join(wd, "push-%d.conf" % epoch)
            text = with_vips(base, extra)
            if args.change == "priority":
                # the VIPs stay; the last node's priority one lower on the
                # odd runs, restored on the even ones
                text = with_vips(base, big)
                if k % 2:
                    last = topo.cluster_nodes[-1]
                    was = 'name = "%s"; address = "%s"; priority = %d;' % (
                        last.name, last.address, last.priority)
                    assert was in text, was
                    text = text.replace(was, was.replace(
                        "priority = %d;" % last.priority,
                        "priority = %d;" % (last.priority - 1)))
            if args.change == "dead_time":
                text = with_vips(base, big)
                if k % 2:
                    was = "dead_time = %d;" % D
                    assert was in text, was
                    text = text.replace(was, "dead_time = %d;" % (2 * D))
            with open(path, "w") as fh:
                fh.write(text + "epoch = %d;\n" % epoch)
            if i == 0:
                # the file is valid for the node asked (vigild -t)
                p = vgtopo.run([vgtopo.VIGILD, "-t", "-f", path, "-n", via],
                               check=False)
                rec["check"] = (p.returncode, (p.stdout + p.stderr)
                                .strip().splitlines()[-1:])
                if p.returncode != 0:
                    raise AssertionError("vigild -t refuses the pushed "
                                         "file: %s" % (rec["check"],))
            r = one_push(bt, names, via, path, epoch, smp, a, want)
            r["label"] = label
            rec["runs"].append(r)
            say("  %s %s epoch %d: %s" % (case, label, epoch, {
                k: (round(v, 1) if isinstance(v, float) else v)
                for k, v in r.items() if k in (
                    "ok", "answer_ms", "first_ms", "all_ms", "rounds",
                    "chunks", "vips1000_first_ms", "vips1000_ms", "error",
                    "first_node",
                    "last_node")}))
            if not r["committed"]:
                break
            time.sleep(args.gap)
        # the VIP that stays: the same holder throughout, never two
        until = time.monotonic()
        ch = smp.changes(since, until)
        rec["vip_changes"] = ch
        rec["vip_stayed"] = bool(ch) and all(h == [a] for _, h in ch)
        rec["vip_doubles"] = len(smp.doubles(since))
        rec["sampler"] = smp.gap_stats(since)
        c = vgtopo.one_active(bt, names)
        rec["active_after"] = c[0] if c else None
        rec["term_after"] = c[1][c[0]]["node"]["term"] if c else None
        rec["slowest_iteration_us"] = max(
            (bt.status(n)["loop"]["slowest_iteration_us"] for n in names))
        c1 = counters(bt, names)
        rec["during"] = {k: c1[k] - c0[k] for k in c0}
        rec["ok"] = all(r["ok"] for r in rec["runs"]) and \
            rec["vip_stayed"] and rec["vip_doubles"] == 0 and \
            rec["active_after"] == a and rec["term_after"] == term
        say("  %s: VIP stayed on %s: %s, doubles %d, active after %s term "
            "%s (was %s)" % (case, a, rec["vip_stayed"], rec["vip_doubles"],
                             rec["active_after"], rec["term_after"], term))
    except Exception as e:
        rec["ok"] = False
        rec["error"] = "%s: %s" % (type(e).__name__, str(e)[:600])
        say("  case %s FAILED: %s" % (case, rec["error"]))
        if args.verbose:
            say(traceback.format_exc())
    finally:
        if smp is not None:
            smp.stop()
        errs = bt.teardown()
        if errs:
            rec.setdefault("notes", []).append("teardown: %s" % errs)
        rec["load_after"] = loadavg()
        rec["case_s"] = round(time.monotonic() - t_case, 1)


def fmt(v, nd=0):
    return "-" if v is None else "%.*f" % (nd, v)


def mm(rs, key, nd=0):
    xs = [r.get(key) for r in rs if r.get(key) is not None]
    if not xs:
        return "-"
    return "%s / %s" % (fmt(med(xs), nd), fmt(max(xs), nd))


HDR = ["case", "nodes", "h / D (ms)", "file (bytes, chunks)", "pushes ok",
       "rounds", "answer (ms)", "first node (ms)", "every node (ms)",
       "VIP 198.18.0.100", "load before / after"]


def rows(R):
    out = []
    for c in R["cases"]:
        groups = [("1000" if c["case"] == "1000" else c["case"],
                   [r for r in c["runs"] if r.get("label") == "run"])]
        if c["case"] == "1000":
            groups.insert(0, ("1000 add", [r for r in c["runs"]
                                           if r.get("label") == "add"]))
        for label, rs in groups:
            if not rs and not c.get("error"):
                continue
            sizes = sorted({(r["bytes"], r["chunks"]) for r in rs})
            size = ("%d-%d, %d-%d" % (sizes[0][0], sizes[-1][0],
                                      sizes[0][1], sizes[-1][1])
                    if len(sizes) > 1 else "%d, %d" % sizes[0]
                    if sizes else "-")
            vip = ("stayed on %s, 0 doubles" % c.get("active")
                   if c.get("vip_stayed") and not c.get("vip_doubles")
                   else "MOVED/doubles: %s, %s" % (
                       c.get("vip_changes"), c.get("vip_doubles"))
                   if "vip_stayed" in c else "-")
            every = mm(rs, "all_ms")
            if label == "1000 add" and rs and rs[0].get("vips1000_ms"):
                every += " (the active's kernel: first VIP %s, all 1000 " \
                    "%s)" % (fmt(rs[0].get("vips1000_first_ms")),
                             fmt(rs[0]["vips1000_ms"]))
            out.append([label, c["nodes"], "%d / %d" % (c["h_ms"],
                                                        c["dead_ms"]),
                        size, "%d/%d" % (sum(1 for r in rs if r["ok"]),
                                         len(rs)),
                        mm(rs, "rounds"), mm(rs, "answer_ms"),
                        mm(rs, "first_ms"), every, vip,
                        "%s / %s" % (c["load_before"],
                                     c.get("load_after", "-"))])
    return out


def mdtable(hdr, rs):
    return "\n".join(["| " + " | ".join(hdr) + " |",
                      "|" + "|".join("---" for _ in hdr) + "|"] +
                     ["| " + " | ".join(str(x) for x in r) + " |"
                      for r in rs])


def details(R):
    out = []
    for c in R["cases"]:
        if c.get("error"):
            out.append("case %s FAILED: %s" % (c["case"], c["error"]))
        for n in c.get("notes", []):
            out.append("case %s: %s" % (c["case"], n))
        for r in c["runs"]:
            if not r["ok"] or r.get("push_left") or r.get("status_late"):
                out.append("case %s epoch %d: ok %s, status late %s, push "
                           "left %s, missing commits %s, %s" % (
                               c["case"], r["epoch"], r["ok"],
                               r.get("status_late"), r.get("push_left"),
                               r.get("commit_missing"), r.get("error")))
        s = c.get("sampler") or {}
        if s:
            out.append("case %s: via %s, active %s; sampler %d sweeps, gap "
                       "mean %s ms, max %s ms; slowest loop iteration of "
                       "any node %s us before the pushes, %s us after; "
                       "during the pushes %s; %.0f s" % (
                           c["case"], c.get("via"), c.get("active"),
                           s.get("sweeps", 0), fmt(s.get("mean_ms"), 2),
                           fmt(s.get("max_ms"), 1),
                           c.get("slowest_before_us"),
                           c.get("slowest_iteration_us"), c.get("during"),
                           c["case_s"]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="2 pushes per case")
    ap.add_argument("--runs", type=int, help="pushes per case (5)")
    ap.add_argument("--only", default="3,16,1000")
    ap.add_argument("--gap", type=float, default=0.3,
                    help="s between two pushes (0.3)")
    ap.add_argument("--max-minutes", type=float, default=15.0)
    ap.add_argument("--md", help="write the table (markdown) here")
    ap.add_argument("--json", help="write every run here")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work dir (configs, logs)")
    ap.add_argument("--change", choices=("vip", "priority", "dead_time"),
                    default="vip",
                    help="the small change of each push: the VIP "
                    "198.19.255.1/32 added and removed (default), the "
                    "last node's priority lowered by one and restored, or "
                    "dead_time doubled and restored (a safety change: the "
                    "joint configuration)")
    ap.add_argument("--conf-tmpfs", action="store_true",
                    help="the work dir (each node's config file, which a "
                    "commit installs with an fsync) on /dev/shm instead of "
                    "the disk")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.stderr.write("push.py needs root (network namespaces)\n")
        return 2
    for b in (vgtopo.VIGILD, vgtopo.VIGILCTL):
        if not os.access(b, os.X_OK):
            sys.stderr.write("%s missing: make first (VIGIL_BUILD)\n" % b)
            return 2
    args.runs = max(1, min(args.runs or (2 if args.quick else 5), 100))
    args.gap = max(0.0, min(args.gap, 10.0))
    only = [c for c in args.only.split(",") if c]
    bad = [c for c in only if c not in ("3", "16", "1000")]
    if bad:
        sys.stderr.write("--only: unknown case(s) %s\n" % bad)
        return 2
    args.workdir = tempfile.mkdtemp(prefix="vigil-push-", dir="/dev/shm"
                                    if args.conf_tmpfs else None)
    bn.stop_signals()
    R = {"cases": [], "meta": {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"),
        "cmd": " ".join([sys.executable] + sys.argv),
        "host": platform.node(), "kernel": platform.release(),
        "cpus": os.cpu_count(), "vigild": vgtopo.VIGILD,
        "uptime_start": vgtopo.run(["uptime"]).stdout.strip()}}
    meta = R["meta"]
    say("config push bench: %s; work dir %s" % (meta["cmd"], args.workdir))
    say("uptime: %s" % meta["uptime_start"])
    left = vgtopo.cleanup_leftovers()
    if left:
        say("removed leftovers of dead runs: %s" % left)
    status = 0
    try:
        for case in only:
            if time.monotonic() - T0 > args.max_minutes * 60:
                R.setdefault("notes", []).append(
                    "case %s skipped: --max-minutes" % case)
                continue
            run_case(case, args, R)
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
    meta["uptime_end"] = vgtopo.run(["uptime"]).stdout.strip()
    head = ("config push (issue 14): %s, %s (%d CPUs), kernel %s; %.0f s\n"
            "command: %s\nuptime at start: %s\nuptime at end:   %s\n"
            "times from just before vigilctl starts; median / max of the "
            "runs; \"first/every node\": the nodes' own \"reloaded: epoch "
            "N\" events (CLOCK_BOOTTIME, 1 ms); each push's change: %s; "
            "config files on %s" % (
                meta["date"], meta["host"], meta["cpus"], meta["kernel"],
                meta["elapsed_s"], meta["cmd"], meta["uptime_start"],
                meta["uptime_end"], {
                    "vip": "the VIP %s added / removed" % TOGGLE_VIP,
                    "priority": "the last node's priority -1 / restored",
                    "dead_time": "dead_time x2 / restored (a safety change: "
                    "through the joint configuration)"}[args.change],
                "/dev/shm" if args.conf_tmpfs else
                "the disk (%s)" % os.path.dirname(args.workdir)))
    rs = rows(R)
    det = details(R) + R.get("notes", [])
    print(head)
    print()
    print(mdtable(HDR, rs))
    print()
    print("\n".join(det))
    if args.md:
        with open(args.md, "w") as fh:
            fh.write(head.replace("\n", "  \n") + "\n\n" + mdtable(HDR, rs) +
                     "\n\n" + "\n".join("- " + d for d in det) + "\n")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(R, fh, indent=1, default=str)
    if not args.keep:
        shutil.rmtree(args.workdir, ignore_errors=True)
    else:
        say("work dir kept: %s" % args.workdir)
    if status == 0 and any(not c.get("ok") for c in R["cases"]):
        say("some pushes failed or the VIP moved: see above")
    return status


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    sys.exit(main())
