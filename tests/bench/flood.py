#!/usr/bin/python3
"""vigil benchmark: a flood of forged datagrams (issue 12, item 7).  Run as
root, after bench.py or alone:

    cd tests/bench && VIGIL_BUILD=/work/main/build /usr/bin/python3 flood.py
        [--seconds 10] [--rate 0]

A healthy 3-node cluster at h = 10 ms (D = 30 ms, state on tmpfs).  For
each kind, one sender floods n1 for --seconds (--rate datagrams/s; 0: as
fast as one Python loop goes), then the cluster rests 2 s:

- stranger: valid-looking heartbeats naming n2, from the plain host x's
  address: dropped as "address", before the MAC (the cheap path);
- bad_mac: heartbeats from n2's own address (its namespace, another port)
  with a wrong key: dropped as "auth", after one HMAC each.

Printed per kind: datagrams sent and counted by n1 (rx, drops by reason,
what the kernel dropped is the difference), datagrams/s n1 absorbed, n1's
CPU (agent + keeper) during the flood, and whether anything changed (term,
active, a live peer seen dead): a flood must cost CPU only.  Figures, not
pass/fail; everything made is removed, also on Ctrl-C.
"""
import argparse
import json
import os
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import vgtopo                                           # noqa: E402

# Runs in a namespace: floods dst:port from src (any port) with `payload`
# for `secs` s at `rate` /s (0: no pacing); prints how many went out.
SENDER = r"""
import socket, sys, time
src, dst, port, secs, rate, hexp = sys.argv[1:7]
secs, rate, payload = float(secs), float(rate), bytes.fromhex(hexp)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
s.setblocking(False)
n = err = 0
end = time.monotonic() + secs
gap = 1.0 / rate if rate > 0 else 0.0
nxt = time.monotonic()
while n + err < 50000000:
    now = time.monotonic()
    if now >= end:
        break
    if gap and now < nxt:
        continue
    try:
        s.sendto(payload, (dst, int(port)))
        n += 1
    except OSError:
        err += 1
    nxt += gap
print(n, err)
"""


def ticks(pids):
    t = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as fh:
                f = fh.read().rsplit(")", 1)[1].split()
            t += int(f[11]) + int(f[12])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return t


def payload(t, kind, st):
    import vgwire
    p = {x["name"]: x for x in st["peers"]}["n2"]
    fields = dict(type=1, flags=0, cluster_id=t.topo.cluster_id, sender=2,
                  target=1, state=2, priority=90, term=st["node"]["term"],
                  incarnation=p["incarnation"], seq=10 ** 12, echo_seq=0,
                  active=0, config_digest=int(st["cluster"]["safety_digest"],
                                              16))
    key = os.urandom(32)
    if kind == "stranger":
        with open(t.key_file, "rb") as fh:
            key = fh.read()
    return vgwire.encode(key, **fields).hex()


def one(t, kind, secs, rate):
    st0 = {n: t.status(n) for n in ("n1", "n2", "n3")}
    src_node, src = ("x", t.topo.node("x").address) if kind == "stranger" \
        else ("n2", "198.18.0.2")
    pids = [t.pid("n1")] + vgtopo.children_named(t.pid("n1"),
                                                 "vigild-keeper")
    c0, w0 = ticks(pids), time.monotonic()
    p = t.netns_python(src_node, "-c", SENDER, src, "198.18.0.1",
                       str(t.topo.port), str(secs), str(rate),
                       payload(t, kind, st0["n1"]), timeout=secs + 30)
    c1, w1 = ticks(pids), time.monotonic()
    sent, err = (int(x) for x in p.stdout.split())
    time.sleep(0.3)
    st1 = {n: t.status(n) for n in ("n1", "n2", "n3")}
    d = {k: st1["n1"]["drops"][k] - st0["n1"]["drops"][k]
         for k in st1["n1"]["drops"]}
    rx = st1["n1"]["counters"]["rx_packets"] - \
        st0["n1"]["counters"]["rx_packets"]
    changed = [n for n in st1 if st1[n]["node"]["term"] !=
               st0[n]["node"]["term"] or st1[n]["node"]["state"] !=
               st0[n]["node"]["state"] or st1[n]["election"]["lease_lapses"]
               != st0[n]["election"]["lease_lapses"]]
    dead = {n: [x["name"] for x in st1[n]["peers"] if x["name"] in
                ("n1", "n2", "n3") and not x["alive"]] for n in st1}
    hz = os.sysconf("SC_CLK_TCK")
    return {"kind": kind, "seconds": round(w1 - w0, 2), "sent": sent,
            "send_errors": err, "n1_rx": rx,
            "n1_drops": {k: v for k, v in d.items() if v},
            "absorbed_per_s": round(rx / (w1 - w0)),
            "kernel_dropped": max(0, sent - rx),
            "n1_cpu_pct": round(100.0 * (c1 - c0) / hz / (w1 - w0), 1),
            "changed": changed, "dead_seen": {k: v for k, v in dead.items()
                                               if v},
            "drop_sources": st1["n1"]["drop_sources"][:2]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rate", type=float, default=0.0)
    args = ap.parse_args()
    print("flood: 3 nodes, h = 10 ms, D = 30 ms; %.0f s per kind; load %s"
          % (args.seconds, open("/proc/loadavg").read().strip()), flush=True)
    topo = vgtopo.three_nodes(interval=10, dead_time=30, state_tmpfs=True)
    with tempfile.TemporaryDirectory(prefix="vigil-flood-") as d:
        t = vgtopo.build_topology(topo, __import__("pathlib").Path(d))
        try:
            vgtopo.wait_one_active(t, ("n1", "n2", "n3"), 3.0, "election")
            time.sleep(1.0)
            for kind in ("stranger", "bad_mac"):
                r = one(t, kind, args.seconds, args.rate)
                print(json.dumps(r), flush=True)
                time.sleep(2.0)
        finally:
            errs = t.teardown()
            if errs:
                print("teardown: %s" % errs)
    print("load at the end: %s" % open("/proc/loadavg").read().strip())


if __name__ == "__main__":
    main()
