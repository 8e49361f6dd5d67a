"""keepalived in the bench's topology, and one interface over vigil and
keepalived for the benches that run both (issue9.py).

KaTopology is a benchnet.BenchTopology (the same namespaces, bridge,
addresses, helpers and VIP 198.18.0.100/24 on eth0) in which Debian's
keepalived runs instead of vigild: VRRPv3, unicast to the two other nodes,
priorities 100/90/80 like vigil's n1..n3, nopreempt (as the bench's vigil
runs with preempt = false), advert_int 0.01 (10 ms, its fastest).  Its
config, pid files and log are in the node's work dir; it logs to stderr
(-l -D -G: console, detailed, never syslog) redirected to that log; it is
stopped by PID (its parent, then whatever is left of its VRRP child).

Both Sys classes offer: names, pids(n) (the processes that make up a node's
agent, for CPU), holder-independent faults (kill, term, freeze, thaw,
restart) and node_ok(n) (its daemon is running).  Link and nft faults go
through the topology's helpers (benchnet), the same for both.
"""
import os
import signal
import subprocess
import time

import benchnet as bn
from benchnet import NAMES, vgtopo

KEEPALIVED = "/usr/sbin/keepalived"
VRID = 51


def ka_config(topo, name, advert_s=0.01, rt=True):
    me = topo.node(name)
    peers = [n for n in topo.cluster_nodes if n.name != name]
    vip, dev = topo.vips[0]
    g = ["    router_id %s" % name, "    vrrp_version 3",
         # no second burst of gratuitous ARPs 5 s after a take-over (it
         # would be sent while the next fault is under way)
         "    vrrp_garp_master_refresh 0"]
    if rt:
        # on the same footing as vigild's agent (SCHED_RR 20): real-time,
        # with RLIMIT_RTTIME as its runaway guard (10 ms, keepalived's own)
        g += ["    vrrp_rt_priority 20", "    vrrp_rlimit_rttime 10000"]
    return """global_defs {
%s
}
vrrp_instance VI_1 {
    state BACKUP
    interface %s
    virtual_router_id %d
    priority %d
    advert_int %s
    nopreempt
    unicast_src_ip %s
    unicast_peer {
%s
    }
    virtual_ipaddress {
        %s dev %s
    }
}
""" % ("\n".join(g), dev, VRID, me.priority, advert_s, me.address,
       "\n".join("        %s" % p.address for p in peers), vip, dev)


class KaTopology(bn.BenchTopology):
    """The bench topology with keepalived on n1..n3 (start_ka/stop_ka)."""

    advert_s = 0.01
    ka_rt = True

    def ka_paths(self, name):
        d = self.dir(name)
        return (os.path.join(d, "keepalived.conf"),
                os.path.join(d, "keepalived.pid"),
                os.path.join(d, "vrrp.pid"),
                os.path.join(d, "keepalived.log"))

    def log_path(self, name):
        return self.ka_paths(name)[3]

    def write_ka(self):
        for n in NAMES:
            conf = self.ka_paths(n)[0]
            with open(conf, "w") as fh:
                fh.write(ka_config(self.topo, n, self.advert_s, self.ka_rt))
            p = vgtopo.run([KEEPALIVED, "-t", "-f", conf], check=False)
            if p.returncode != 0:
                raise AssertionError("keepalived -t %s: exit %d: %s%s" % (
                    conf, p.returncode, p.stdout, p.stderr))

    def start(self, name, wait=True, timeout=5.0, args=()):
        conf, pidf, vpidf, log = self.ka_paths(name)
        for f in (pidf, vpidf):
            try:
                os.unlink(f)
            except FileNotFoundError:
                pass
        fh = open(log, "ab")
        try:
            p = subprocess.Popen(
                ["ip", "netns", "exec", self.ns(name), KEEPALIVED, "-n", "-l",
                 "-D", "-G", "-P", "-f", conf, "-p", pidf, "-r", vpidf],
                stdin=subprocess.DEVNULL, stdout=fh, stderr=fh)
        finally:
            fh.close()
        self.procs[name] = p
        vgtopo.STARTED.append(p)
        if wait:
            ok, _ = vgtopo.wait_until(lambda: self.vrrp_pid(name), timeout,
                                      step=0.01)
            if not ok:
                raise AssertionError("keepalived on %s: no VRRP child within "
                                     "%.1f s (%s)\n%s" % (
                                         name, timeout, self._proc_state(name),
                                         vgtopo.log_tail(log)))
        return p

    def start_all(self, timeout=5.0):
        self.write_ka()
        for n in NAMES:
            self.start(n, timeout=timeout)
        return self

    def vrrp_pid(self, name):
        """The VRRP child's pid (from its pid file, checked against the
        parent's children), or None."""
        p = self.procs.get(name)
        if p is None or p.poll() is not None:
            return None
        try:
            with open(self.ka_paths(name)[2]) as fh:
                pid = int(fh.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        if pid not in vgtopo.children_named(p.pid, "keepalived") and \
                not vgtopo.pid_running(pid):
            return None
        return pid

    def pid(self, name):
        p = self.procs.get(name)
        return p.pid if p is not None and p.poll() is None else None

    def stop(self, name, sig=signal.SIGTERM, timeout=3.0):
        """SIGTERM (or `sig`) to the parent by PID, then its VRRP child if
        it outlived it; SIGKILL after `timeout`."""
        p = self.procs.get(name)
        if p is None:
            return None
        child = self.vrrp_pid(name)
        if p.poll() is None:
            try:
                p.send_signal(sig)
                p.send_signal(signal.SIGCONT)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.teardown_errors.append("%s: keepalived pid %d ignored "
                                            "signal %d; SIGKILL" % (
                                                name, p.pid, sig))
                p.kill()
                p.wait(timeout=timeout)
        if child and vgtopo.pid_running(child, "keepalived"):
            ok, _ = vgtopo.wait_until(
                lambda: not vgtopo.pid_running(child, "keepalived"), timeout,
                step=0.01)
            if not ok:
                try:
                    os.kill(child, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        return p.returncode

    def keeper_gone(self, name, grace=2.0):
        return []

    def note_keeper(self, name, pid=None):
        return set()


def exec_times(procs, comm, timeout=3.0, step=0.001):
    """When each process started as `ip netns exec NS DAEMON` came to run
    DAEMON (its comm): {key: time.monotonic() or None} for procs, a dict
    of Popen; polled every `step` until all run it or one has exited,
    bounded by `timeout`.  `ip netns exec` first sets up a mount namespace
    of its own, a cost of the test harness that a node started by systemd
    does not pay.  (In one fault schedule 4 of 29 restarts logged vigild's
    first line 57-398 ms after the planned restart, 3-18 ms the others;
    whether in `ip netns exec` or in vigild was not shown.)"""
    seen = {}

    def probe():
        for k, p in procs.items():
            if k not in seen and p.poll() is None and \
                    vgtopo._comm(p.pid) == comm[:15]:
                seen[k] = time.monotonic()
        return len(seen) == len(procs) or any(
            p.poll() is not None for p in procs.values())
    vgtopo.wait_until(probe, timeout, step=step)
    return {k: seen.get(k) for k in procs}


def exec_wait(p, comm, timeout=3.0):
    """Waits (bounded, exec_times) until the process runs DAEMON, so that
    a restart counts from the daemon's own start; returns the wait in ms
    (None if the daemon did not appear within `timeout`)."""
    t0 = time.monotonic()
    t = exec_times({0: p}, comm, timeout)[0]
    return (t - t0) * 1000 if t is not None else None


class VigilSys:
    """vigil on a benchnet.BenchTopology."""

    kind = "vigil"

    def __init__(self, bt):
        self.bt = bt

    def pids(self, n):
        ag = self.bt.pid(n)
        if ag is None:
            return []
        return [ag] + vgtopo.children_named(ag, vgtopo.KEEPER_COMM)

    def kill(self, n, sig):
        return self.bt.kill(n, sig)

    def freeze(self, n, on):
        """SIGSTOP/SIGCONT of the agent (its keeper runs on: the lease
        ends, the keeper removes the VIPs)."""
        pid = self.bt.pid(n)
        t0 = time.monotonic()
        if pid:
            os.kill(pid, signal.SIGSTOP if on else signal.SIGCONT)
        return t0

    def restart(self, n):
        p = self.bt.procs.get(n)
        if p is not None:
            if p.poll() is None:
                self.bt.stop(n, signal.SIGKILL)
            p.wait(timeout=5.0)
        self.bt.keeper_gone(n)
        return exec_wait(self.bt.start(n, wait=False), "vigild")

    def running(self, n):
        return self.bt.pid(n) is not None

    def iso_rules(self, way="both"):
        return iso_rules(self.bt.topo.port, way)

    def loss_rules(self, pct):
        return loss_rules("udp dport %d" % self.bt.topo.port, pct)


class KaSys(VigilSys):
    """keepalived on a KaTopology: the agent is the VRRP child (it sends
    and receives the adverts and adds/removes the VIP); the parent only
    watches it."""

    kind = "keepalived"

    def pids(self, n):
        par = self.bt.pid(n)
        if par is None:
            return []
        ch = self.bt.vrrp_pid(n)
        return [par] + ([ch] if ch else [])

    def kill(self, n, sig):
        """SIGKILL: the VRRP child first, then the parent (a crash of the
        whole daemon: nothing removes its VIP).  SIGTERM: to the parent (an
        orderly stop: it removes its VIP and its child sends priority 0)."""
        t0 = time.monotonic()
        if sig == signal.SIGKILL:
            ch = self.bt.vrrp_pid(n)
            if ch:
                os.kill(ch, signal.SIGKILL)
            self.bt.procs[n].send_signal(signal.SIGKILL)
        else:
            self.bt.procs[n].send_signal(sig)
        return t0

    def freeze(self, n, on):
        pid = self.bt.vrrp_pid(n)
        t0 = time.monotonic()
        if pid:
            os.kill(pid, signal.SIGSTOP if on else signal.SIGCONT)
        return t0

    def restart(self, n):
        p = self.bt.procs.get(n)
        if p is not None:
            if p.poll() is None:
                self.bt.stop(n, signal.SIGKILL, timeout=2.0)
            p.wait(timeout=5.0)
            ch = None
            try:
                with open(self.bt.ka_paths(n)[2]) as fh:
                    ch = int(fh.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
            if ch and vgtopo.pid_running(ch, "keepalived"):
                os.kill(ch, signal.SIGKILL)
        return exec_wait(self.bt.start(n, wait=False), "keepalived")

    def running(self, n):
        return self.bt.pid(n) is not None

    def iso_rules(self, way="both"):
        return iso_rules(None, way)

    def loss_rules(self, pct):
        return loss_rules("ip protocol vrrp", pct)


def _match(port):
    """nft matches for the heartbeat traffic: vigil's UDP port, or VRRP
    (IP protocol 112) for keepalived."""
    if port is None:
        return ["ip protocol vrrp"], ["ip protocol vrrp"]
    return (["udp dport %d" % port, "udp sport %d" % port],
            ["udp dport %d" % port, "udp sport %d" % port])


def iso_rules(port, way="both"):
    """The heartbeat traffic dropped both ways (isolation) or only coming
    in ("in": a one-way cut)."""
    t = bn.ISO_TABLE
    mi, mo = _match(port)
    r = ["add table inet %s" % t,
         "add chain inet %s in { type filter hook input priority 0; policy "
         "accept; }" % t,
         "add chain inet %s out { type filter hook output priority 0; "
         "policy accept; }" % t]
    r += ["add rule inet %s in %s drop" % (t, m) for m in mi]
    if way == "both":
        r += ["add rule inet %s out %s drop" % (t, m) for m in mo]
    return "; ".join(r)


def loss_rules(match, pct):
    """`pct` % of the heartbeat traffic dropped each way (numgen random)."""
    t = bn.ISO_TABLE
    return "; ".join([
        "add table inet %s" % t,
        "add chain inet %s in { type filter hook input priority 0; policy "
        "accept; }" % t,
        "add chain inet %s out { type filter hook output priority 0; policy "
        "accept; }" % t,
        "add rule inet %s in %s numgen random mod 100 < %d drop" % (
            t, match, pct),
        "add rule inet %s out %s numgen random mod 100 < %d drop" % (
            t, match, pct)])
