#!/usr/bin/python3
"""vigil benchmark: where an idle standby's agent spends its instructions
per received heartbeat (issue 9, item 6).  Run as root:

    cd tests/bench && VIGIL_BUILD=/work/main/build /usr/bin/python3 cgbeat.py
        [--intervals 100,10] [--seconds 20] [--top 40] [--keep]

For each interval h (dead_time 3h): issue9.py's callgrind row (three nodes
in namespaces, n3's vigild under valgrind --tool=callgrind, collection on
for --seconds once the cluster runs), then the instructions per received
and per sent-or-received datagram, and callgrind_annotate's inclusive
count per function (--top lines), each also divided by the datagrams
received.  Under valgrind n3 runs some 50 times slower, so its timing is
not the real one; the instruction counts are.  Figures, not pass/fail;
everything made is removed, also on Ctrl-C (the callgrind files too,
unless --keep).
"""
import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import types

sys.dont_write_bytecode = True
import benchnet as bn                                   # noqa: E402
import issue9                                           # noqa: E402
from benchnet import vgtopo                             # noqa: E402

say = issue9.say


def annotate(files, rx, top):
    """callgrind_annotate --inclusive=yes of the agent's files: lines of
    (instructions, per received datagram, function)."""
    out = []
    for f in files:
        r = subprocess.run(["callgrind_annotate", "--inclusive=yes",
                            "--threshold=100", f], capture_output=True,
                           text=True, timeout=120)
        n = 0
        for ln in r.stdout.splitlines():
            # "  1,234 (12.34%)  file:function [object]"
            m = re.match(r"\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(.*)", ln)
            if not m or "PROGRAM TOTALS" in ln:
                continue
            ir = int(m.group(1).replace(",", ""))
            fn = m.group(2).strip()
            out.append("%14d %9.0f  %s" % (ir, ir / rx if rx else 0, fn))
            n += 1
            if n >= top:
                break
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--intervals", default="100,10")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.stderr.write("cgbeat.py needs root (network namespaces)\n")
        return 2
    if not shutil.which("callgrind_annotate"):
        sys.stderr.write("valgrind missing: tests/deps.sh valgrind\n")
        return 2
    args = types.SimpleNamespace(cg_s=a.seconds,
                                 workdir=tempfile.mkdtemp(prefix="vigil-cg-"))
    bn.stop_signals()
    vgtopo.cleanup_leftovers()
    status = 0
    try:
        for h in [int(x) for x in a.intervals.split(",")]:
            rec = issue9.bench_cg(args, {}, h)
            if not rec.get("ok"):
                status = 1
                continue
            print("h = %d ms, %.1f s: %d instructions, %d received, %d sent;"
                  " %.0f per received heartbeat, %.0f per datagram in or out"
                  " (n3 %s)" % (h, rec["window_s"], rec["instr"], rec["rx"],
                                rec["tx"], rec["per_rx"], rec["per_dgram"],
                                rec["state"]))
            print("%14s %9s  %s" % ("inclusive", "per rx", "function"))
            print("\n".join(annotate(rec["files"], rec["rx"], a.top)))
            print()
    except KeyboardInterrupt:
        status = 130
    finally:
        for t in list(vgtopo.ACTIVE):
            t.teardown()
        if a.keep:
            say("callgrind files kept in %s" % args.workdir)
        else:
            shutil.rmtree(args.workdir, ignore_errors=True)
    return status


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    sys.exit(main())
