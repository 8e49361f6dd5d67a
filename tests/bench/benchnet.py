"""The bench's topology: vgtopo.Topology (tests/integration, imported, not
changed) plus the bench's own helpers in the namespaces (nshelper.py: UDP
responders, the probing client, a link switch, address monitors, an
interactive nft per node), and watchers that say who holds the VIPs.

Rules kept (the machine's, as in vgtopo): every node in its own namespace,
the bridge in one of its own, all deleted at teardown (also on failure or
Ctrl-C: bench.py calls teardown in a finally); addresses only from
198.18.0.0/15 inside them; every helper is bounded in time and stopped by
PID; vigild logs to a file (stderr), state on /dev/shm.
"""
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# vgtopo is imported from tests/integration, never changed, and no bytecode
# is written next to it
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import vgtopo                                           # noqa: E402
from vgtopo import wait_until                           # noqa: E402

PYTHON = vgtopo.PYTHON
NSHELPER = os.path.join(HERE, "nshelper.py")
NAMES = ("n1", "n2", "n3")
CLIENT = "client"
VIP1 = "198.18.0.100"
ISO_TABLE = "vgb_iso"
HELPER_MAX_S = 3600         # every helper ends by itself after this


def vip_range(n):
    """n addresses of 198.18.4.0/22 (x.0 and x.255 left out), as /32s."""
    out = []
    for blk in range(4, 8):
        for o in range(1, 255):
            if len(out) < n:
                out.append("198.18.%d.%d" % (blk, o))
    assert len(out) == n, n
    return out


def bench_topo(interval, dead_time, vips=None):
    """n1..n3 (priorities 100/90/80) and a client at 198.18.0.200; the VIP
    198.18.0.100/24 on eth0, or the given /32s; state on tmpfs; preemption
    off (so that no planned hand-over falls into a measurement)."""
    t = vgtopo.failover_nodes(interval=interval, dead_time=dead_time,
                              extra_conf="preempt = false;\n")
    if vips:
        t.vips = [("%s/32" % a, "eth0") for a in vips]
    return t


class LineProc:
    """A helper process with line-based stdin/stdout, read with a bounded
    wait (select on its pipe, our own buffer)."""

    def __init__(self, bt, ns, args, name):
        self.name = name
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", ns] + args, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=open(
                os.path.join(bt.workdir, "helper-%s.log" % name), "ab"))
        bt.helpers.append(self.p)
        vgtopo.STARTED.append(self.p)
        self.buf = b""

    def send(self, line):
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()

    def readline(self, timeout):
        deadline = time.monotonic() + timeout
        for _ in range(100000):
            i = self.buf.find(b"\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 1:]
                return line.decode(errors="replace")
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if not r:
                return None
            c = os.read(self.p.stdout.fileno(), 65536)
            if not c:
                return None
            self.buf += c
        return None

    def read_json(self, timeout, what):
        line = self.readline(timeout)
        if line is None:
            raise AssertionError("%s: no answer within %.1f s (exit %s)"
                                 % (what, timeout, self.p.poll()))
        return json.loads(line)


class NftShell(LineProc):
    """`nft -i` in a node's namespace: a command takes effect about a
    millisecond after it is written (no fork/exec per fault)."""

    def __init__(self, bt, node):
        super().__init__(bt, bt.ns(node), ["nft", "-i"], "nft-" + node)
        self.n = 0

    def run(self, line, timeout=3.0):
        """(t0 just before the write, t1 once a marker command after it has
        answered, output before the marker)."""
        self.n += 1
        mk = "vgbm%d" % self.n
        t0 = time.monotonic()
        self.p.stdin.write(("%s\nadd table inet %s\nlist table inet %s\n"
                            "delete table inet %s\n" % (line, mk, mk, mk))
                           .encode())
        self.p.stdin.flush()
        text = []
        for _ in range(1000):
            ln = self.readline(timeout)
            if ln is None:
                raise AssertionError("nft -i: no marker within %.1f s: %s"
                                     % (timeout, text))
            if ln.startswith("table inet %s" % mk):
                t1 = time.monotonic()
                self.readline(0.5)          # the "}" of the marker table
                return t0, t1, "\n".join(text)
            text.append(ln)
        raise AssertionError("nft -i: too much output")


def iso_rules(port):
    t = ISO_TABLE
    return ("add table inet {t}; add chain inet {t} in {{ type filter hook "
            "input priority 0; policy accept; }}; add chain inet {t} out {{ "
            "type filter hook output priority 0; policy accept; }}; "
            "add rule inet {t} in udp dport {p} drop; add rule inet {t} in "
            "udp sport {p} drop; add rule inet {t} out udp dport {p} drop; "
            "add rule inet {t} out udp sport {p} drop").format(t=t, p=port)


class AddrMon:
    """nshelper addrmon in one node's namespace, read by a thread: the
    times (CLOCK_MONOTONIC, taken when the rtnetlink notification was read)
    at which the first and the last VIP appeared or went, and at which the
    number of VIPs present reached or left 0 or all."""

    def __init__(self, bt, node, vip_file, n_all):
        self.node = node
        self.lp = LineProc(bt, bt.ns(node), [PYTHON, NSHELPER, "addrmon",
                                             vip_file, str(HELPER_MAX_S)],
                           "addrmon-" + node)
        self.events = []
        self.cls = None
        self.lock = threading.Lock()
        self.last_change = time.monotonic()
        self.errors = []
        ev = self.lp.read_json(5.0, "addrmon in %s" % node)
        assert ev.get("ev") == "ready", ev
        self.cls = "none" if ev["n"] == 0 else (
            "all" if ev["n"] == ev["n_all"] else "some")
        if not ev.get("filtered"):
            self.errors.append("no BPF filter: every notification is read")
        self._th = threading.Thread(target=self._run, daemon=True,
                                    name="addrmon-" + node)
        self._th.start()

    def _run(self):
        for _ in range(100000000):
            line = self.lp.readline(HELPER_MAX_S)
            if line is None:
                return
            try:
                ev = json.loads(line)
            except ValueError:
                self.errors.append(line[:200])
                continue
            with self.lock:
                self.events.append(ev)
                if ev.get("ev") == "n":
                    self.cls = ev["cls"]
                    self.last_change = ev["t"]
                elif ev.get("ev") == "overrun":
                    self.errors.append("overrun at %.3f" % ev["t"])

    def trim(self, before):
        with self.lock:
            self.events = [e for e in self.events if e["t"] >= before]

    def find(self, ev, since, a=None, cls=None):
        """The first event of kind `ev` (for address `a`, or reaching class
        `cls`) at or after `since`, or None."""
        with self.lock:
            for e in self.events:
                if e["t"] < since or e.get("ev") != ev:
                    continue
                if a is not None and e.get("a") != a:
                    continue
                if cls is not None and e.get("cls") != cls:
                    continue
                return e
        return None


class SamplerWatch:
    """Who holds the (single) VIP, from a vgtopo.VipSampler."""

    def __init__(self, smp):
        self.smp = smp

    def holders(self):
        sw = self.smp.sweeps
        return self.smp.holders(sw[-1]) if sw else None

    def full(self, name):
        return self.holders() == [name]

    def last_change(self):
        sw = self.smp.sweeps[:len(self.smp.sweeps)]
        if not sw:
            return time.monotonic()
        cur = self.smp.holders(sw[-1])
        for x in reversed(sw):
            if self.smp.holders(x) != cur:
                return x[0]
        return sw[0][0]

    def trim(self, before):
        # the sampler thread only appends; deleting from the front is safe
        # (one list operation under the GIL) and keeps the memory bounded
        sw = self.smp.sweeps
        k = 0
        for i, x in enumerate(sw):
            if x[0] >= before:
                k = i
                break
        else:
            k = max(0, len(sw) - 1)
        if k > 0:
            del sw[:k]


class NlWatch:
    """Who holds the VIPs (any of them), from one AddrMon per node."""

    def __init__(self, mons):
        self.mons = mons

    def holders(self):
        return [n for n in NAMES if self.mons[n].cls not in ("none", None)]

    def full(self, name):
        return self.holders() == [name] and self.mons[name].cls == "all"

    def last_change(self):
        return max(m.last_change for m in self.mons.values())

    def trim(self, before):
        for m in self.mons.values():
            m.trim(before)


class BenchTopology(vgtopo.Topology):
    """vgtopo.Topology with the bench's changes: vigild runs without -d and
    logs at info (the integration tests log every datagram at debug, which
    at h = 10 ms is hundreds of lines a second per node: not what a
    deployment runs), and the bench's helpers."""

    def config(self, name):
        return super().config(name).replace('level = "debug"',
                                            'level = "info"')

    def start(self, name, wait=True, timeout=5.0, args=()):
        # vgtopo.Topology.start, without "-d"
        assert name not in self.procs or self.procs[name].poll() is not None
        log = open(self.log_path(name), "ab")
        try:
            self.started_wall[name] = time.time()
            self.started_at[name] = time.monotonic()
            p = subprocess.Popen(
                ["ip", "netns", "exec", self.ns(name), vgtopo.VIGILD, "-f",
                 self.conf_path(name), "-n", name, *args],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()
        self.procs[name] = p
        vgtopo.STARTED.append(p)
        if wait:
            st, _ = wait_until(lambda: self.status(name, check=False),
                               timeout, what="%s ctl socket" % name)
            if not st:
                raise AssertionError(
                    "%s: vigilctl status did not answer within %.1f s "
                    "(vigild %s)\n%s" % (name, timeout, self._proc_state(name),
                                         vgtopo.log_tail(self.log_path(name))))
        return p

    # -- helpers
    def start_helpers(self, vips, addrmon=False):
        """Responders in n1..n3, the client, the link switch in the bridge
        namespace, nft -i per node; with addrmon, an address monitor per
        node for `vips` (first and last watched)."""
        for a in vips:
            assert vgtopo.ipaddress.ip_address(a) in vgtopo.ALLOWED_NET, a
        if any(not a.startswith("198.18.0.") for a in vips):
            # the /32 VIPs of 198.18.4.0/22 are on the client's link too
            vgtopo.run(["ip", "-n", self.ns(CLIENT), "route", "add",
                        "198.18.4.0/22", "dev", "eth0"])
        self.echo = {}
        for n in NAMES:
            lp = LineProc(self, self.ns(n), [PYTHON, NSHELPER, "echo", n,
                                             str(HELPER_MAX_S)], "echo-" + n)
            assert lp.read_json(5.0, "responder in %s" % n).get("ready")
            self.echo[n] = lp
        self.client = LineProc(self, self.ns(CLIENT), [
            PYTHON, NSHELPER, "client", str(HELPER_MAX_S)], "client")
        assert self.client.read_json(5.0, "client").get("ready_client")
        self.linksw = LineProc(self, self.br_ns, [
            PYTHON, NSHELPER, "link", str(HELPER_MAX_S)], "link")
        assert self.linksw.read_json(5.0, "link switch").get("ready")
        self.nfts = {n: NftShell(self, n) for n in NAMES}
        self.mons = None
        if addrmon:
            path = os.path.join(self.workdir, "vips.txt")
            with open(path, "w") as fh:
                fh.write("\n".join(vips) + "\n")
            self.mons = {n: AddrMon(self, n, path, len(vips)) for n in NAMES}

    def link(self, node, up):
        self.linksw.send("%s %s" % ("up" if up else "down",
                                    self.bridge_port(node)))
        r = self.linksw.read_json(3.0, "link switch")
        if r.get("err"):
            raise AssertionError("link %s %s: %s" % (node, up, r["err"]))
        return r["t0"], r["t1"]

    def statuses(self):
        out = {}
        for n in NAMES:
            st = self.status(n, check=False)
            if st is None:
                return None
            out[n] = st
        return out

    def one_active(self):
        """The active's name if exactly one node is active and holds the
        VIPs, every node names it in the same term, the others are standby
        without VIPs; else None."""
        sts = self.statuses()
        self.last_sts = sts
        if not sts:
            return None
        act = [n for n, s in sts.items() if s["node"]["state"] == "active"]
        if len(act) != 1 or not sts[act[0]]["node"]["vips_held"]:
            return None
        a = act[0]
        aid, term = sts[a]["node"]["id"], sts[a]["node"]["term"]
        for n, s in sts.items():
            nd = s["node"]
            if nd["active"] != aid or nd["term"] != term:
                return None
            if n != a and (nd["vips_held"] or nd["state"] != "standby"):
                return None
            # every node hears every peer: after a link flap a node's
            # datagrams can sit behind ARP for up to a second (its
            # neighbour entries were INCOMPLETE while the carrier was off,
            # and the kernel retries only every retrans_time), so "one
            # active" alone is not yet a healthy cluster
            if any(not p.get("alive") for p in s.get("peers", [])):
                return None
        return a

    def rtt_worst_ms(self, name):
        """The largest rtt_max of `name`'s live peers in the last status
        one_active() read (what vigild's rtt_worst is made of, before the
        cap at h), in ms."""
        st = (getattr(self, "last_sts", None) or {}).get(name)
        if not st:
            return None
        v = [p["rtt_max_us"] for p in st.get("peers", [])
             if p.get("alive") and p.get("rtt_max_us") is not None]
        return max(v) / 1000.0 if v else None

    def settle(self, watch, stable=0.5, timeout=8.0):
        """Waits (bounded) until, for `stable` s without a break, one active
        is agreed on by all, every node hears every peer (one_active) and
        the watcher sees it alone holding the VIPs; returns it."""
        deadline = time.monotonic() + timeout
        last = None
        ok_since = None
        for _ in range(int(timeout / 0.02) + 10):
            now = time.monotonic()
            if now >= deadline:
                break
            a = self.one_active()
            if a and watch.full(a):
                if ok_since is None or a != last:
                    ok_since = now
                quiet = now - max(ok_since, watch.last_change())
                if quiet >= stable:
                    return a
            else:
                ok_since = None
            last = a
            time.sleep(0.02)
        raise AssertionError(
            "no stable single active within %.1f s (last %s, holders %s): %s"
            % (timeout, last, watch.holders(), {
                n: (s["node"]["state"], s["node"]["term"], s["node"]["active"],
                    s["node"]["vips_held"])
                for n, s in (self.statuses() or {}).items()}))


def stop_signals():
    """SIGTERM and SIGHUP end the bench like Ctrl-C (teardown runs)."""
    def h(sig, frm):
        raise KeyboardInterrupt("signal %d" % sig)
    signal.signal(signal.SIGTERM, h)
    signal.signal(signal.SIGHUP, h)
