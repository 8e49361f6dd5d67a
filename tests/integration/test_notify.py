"""systemd's notify protocol as vigild speaks it (DESIGN.md, Operations:
"Type=notify: READY=1 after the sockets are open and stale VIPs are cleaned;
STATUS= shows state and active node; WatchdogSec answered from the event
loop; ExecReload = SIGHUP").

One node (votes 1: a quorum of itself) in a namespace of its own on a bridge
in another (vgtopo.Topology), the VIP 198.18.0.100/24 of its config already
on its eth0 before vigild starts.  vigild runs with NOTIFY_SOCKET naming an
AF_UNIX datagram socket that this module binds (SO_PASSCRED: every datagram
carries its sender's pid), WATCHDOG_USEC=300000 and WATCHDOG_PID set to its
own pid by a wrapper (`sh -c 'export WATCHDOG_PID=$$; exec vigild ...'`
inside `ip netns exec`, which execs: the pid of the Popen is vigild's).
Every datagram is timestamped (CLOCK_MONOTONIC) as it is read; at READY=1
the reader thread reads the namespace's fib_trie at once, and a VipSampler
watches the VIP from before the start to after the stop.

The tests run in file order on one agent (module fixture); each waits, with
a bound, for what it needs, and the last one stops it with SIGTERM.
"""
import os
import re
import select
import signal
import socket
import statistics
import struct
import subprocess
import threading
import time

import pytest

import vgtopo
from vgtopo import wait_until

VIP = "198.18.0.100"
WATCHDOG_USEC = 300000
NODE = "n1"
STATUS_RE = re.compile(r"^(?P<state>[a-z-]+), term (?P<term>\d+), active "
                       r"(?P<active>\d+), (?P<alive>\d+)/(?P<peers>\d+) peers "
                       r"alive(?P<held>, VIPs held)?$")
LEAF = re.compile(rb"\|-- " + re.escape(VIP.encode()) +
                  rb"\n((?:[ \t]+/[^\n]*\n)+)")
LOCAL = re.compile(rb"^[ \t]+/32 host LOCAL$", re.M)


def trie_has_vip(pid):
    """Whether the network namespace of `pid` has the VIP as a local
    address (its /proc/PID/net/fib_trie); None if it cannot be read."""
    try:
        with open("/proc/%d/net/fib_trie" % pid, "rb") as fh:
            data = fh.read(4 << 20)
    except OSError:
        return None
    return any(LOCAL.search(m.group(1)) for m in LEAF.finditer(data))


class NotifyListener:
    """Binds an AF_UNIX SOCK_DGRAM socket and records every datagram as
    {t, pid, raw, fields}; on the first READY=1 it also records whether the
    VIP was in the sender's namespace at that moment (vip_at_ready).
    Bounded: at most max_s seconds and max_msgs datagrams."""

    def __init__(self, path, max_s=120.0, max_msgs=100000):
        self.path = path
        self.max_s = max_s
        self.max_msgs = max_msgs
        self.msgs = []
        self.errors = []
        self.vip_at_ready = "not read"
        self._stop = threading.Event()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(path)
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="notify-listener")
        self._thread.start()

    def _run(self):
        deadline = time.monotonic() + self.max_s
        csize = socket.CMSG_SPACE(struct.calcsize("iII"))
        for _ in range(self.max_msgs):
            if self._stop.is_set():
                return
            left = deadline - time.monotonic()
            if left <= 0:
                self.errors.append("listener ran out of its %.0f s"
                                   % self.max_s)
                return
            r, _, _ = select.select([self.sock], [], [], min(0.05, left))
            if not r:
                continue
            try:
                data, anc, _flags, _addr = self.sock.recvmsg(65536, csize)
            except OSError as e:
                self.errors.append("recvmsg: %r" % e)
                return
            t = time.monotonic()
            pid = None
            for lvl, typ, cd in anc:
                if lvl == socket.SOL_SOCKET and \
                        typ == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iII", cd[:12])[0]
            text = data.decode("utf-8", "replace")
            fields = {}
            for line in text.split("\n"):
                if "=" in line:
                    k, v = line.split("=", 1)
                    fields[k] = v
            m = {"t": t, "pid": pid, "raw": text, "fields": fields}
            if fields.get("READY") == "1" and \
                    self.vip_at_ready == "not read" and pid:
                m["vip"] = trie_has_vip(pid)
                m["vip_t"] = time.monotonic()
                self.vip_at_ready = m["vip"]
            self.msgs.append(m)
        self.errors.append("listener ran out of its %d datagrams"
                           % self.max_msgs)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5.0)
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass

    # -- reading (the thread only appends)
    def snap(self, since=None):
        ms = self.msgs[:len(self.msgs)]
        return [m for m in ms if since is None or m["t"] >= since]

    def with_key(self, key, since=None, value=None):
        return [m for m in self.snap(since) if key in m["fields"] and
                (value is None or m["fields"][key] == value)]

    def wait(self, key, value=None, since=None, timeout=3.0):
        """The first datagram after `since` carrying key(=value); raises
        after `timeout` s."""
        r, _ = wait_until(lambda: self.with_key(key, since, value), timeout,
                          step=0.005)
        if not r:
            raise AssertionError(
                "no %s%s from vigild within %.1f s; datagrams since: %s"
                % (key, "" if value is None else "=" + value, timeout,
                   [(round(m["t"] - (since or 0), 3), m["raw"])
                    for m in self.snap(since)][-12:]))
        return r[0]

    def statuses(self, since=None):
        """[(t, parsed STATUS= dict or the raw string)]"""
        out = []
        for m in self.with_key("STATUS", since):
            s = m["fields"]["STATUS"]
            mm = STATUS_RE.match(s)
            out.append((m["t"], mm.groupdict() if mm else s))
        return out


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    """The namespace, the stale VIP, the listener, the sampler, and vigild
    started under the notify protocol.  Yields a dict; everything is
    stopped and removed afterwards (by PID; namespaces deleted)."""
    work = tmp_path_factory.mktemp("notify")
    topo = vgtopo.Topo(nodes=[vgtopo.Node(NODE, "198.18.0.1", id=1,
                                          priority=100)],
                       state_tmpfs=True)
    t = vgtopo.build_topology(topo, work, start=False)
    lis = smp = None
    try:
        t.check_config(NODE)
        ns = t.ns(NODE)
        # the stale VIP: left by an earlier agent (a crash of both it and its
        # keeper, say); the agent must remove it before it says READY=1
        vgtopo.run(["ip", "-n", ns, "addr", "add", VIP + "/24", "dev",
                    "eth0"])
        out = vgtopo.run(["ip", "-n", ns, "-o", "addr", "show", "dev",
                          "eth0"]).stdout
        assert " %s/24 " % VIP in out, out
        smp = vgtopo.VipSampler(t, VIP, names=[NODE]).start()
        smp.wait_holder(lambda h: h == [NODE], 1.0, "the stale VIP")
        lis = NotifyListener(str(work / "notify.sock"))
        env = dict(os.environ, NOTIFY_SOCKET=lis.path,
                   WATCHDOG_USEC=str(WATCHDOG_USEC))
        env.pop("WATCHDOG_PID", None)
        log = open(t.log_path(NODE), "ab")
        try:
            t0 = time.monotonic()
            p = subprocess.Popen(
                ["ip", "netns", "exec", ns, "sh", "-c",
                 'export WATCHDOG_PID=$$; exec "$0" "$@"', vgtopo.VIGILD,
                 "-f", t.conf_path(NODE), "-n", NODE, "-d"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        finally:
            log.close()
        t.procs[NODE] = p               # teardown stops it by PID
        t.started_at[NODE] = t0
        vgtopo.STARTED.append(p)
        yield {"t": t, "p": p, "lis": lis, "smp": smp, "t0": t0}
    finally:
        errs = t.teardown()
        if lis is not None:
            lis.stop()
    assert not errs, "teardown of %s: %s" % (t.tag, errs)


def wait_state(t, state, timeout):
    st, _, diff = t.wait_json(NODE, {"node": {"state": state}}, timeout)
    assert diff is None, "%s did not reach %s within %.1f s: %s\n%s" % (
        NODE, state, timeout, diff, st and st["node"])
    return st


def from_agent(ag, msgs):
    """Every datagram of `msgs` came from vigild's own pid (NotifyAccess=
    main: systemd ignores the keeper's or a script's)."""
    pid = ag["p"].pid
    bad = [(m["pid"], m["raw"]) for m in msgs if m["pid"] != pid]
    assert not bad, "datagrams not from vigild (pid %d): %s" % (pid, bad[:5])


# ---------------------------------------------------------------- cases

def test_ready_after_stale_vip_removed(agent):
    """READY=1 comes once, from vigild's pid, after the stale VIP is gone:
    the namespace's fib_trie read the moment READY=1 arrived has no VIP, and
    the sampler saw the VIP still there at a read that began before READY=1
    arrived and gone after; the log names the removal."""
    ag = agent
    t, lis, smp = ag["t"], ag["lis"], ag["smp"]
    ready = lis.wait("READY", "1", ag["t0"], timeout=5.0)
    assert ready["pid"] == ag["p"].pid, (ready, ag["p"].pid)
    assert ready["vip"] is False, (
        "the VIP %s was still on %s's eth0 when READY=1 arrived (read %.2f ms "
        "after it): %r" % (VIP, NODE, (ready["vip_t"] - ready["t"]) * 1000,
                           ready["vip"]))
    down = smp.first(NODE, "down", ag["t0"])
    assert down is not None, "the sampler never saw the stale VIP go: %s" % (
        smp.changes())
    # down = (kind, last read with the VIP, first read without it)
    assert down[1][0] < ready["t"], (
        "READY=1 arrived at %.6f, before the last read that still showed the "
        "stale VIP began (%.6f)" % (ready["t"], down[1][0]))
    before = lis.snap()[:lis.snap().index(ready)]
    assert not [m for m in before if "READY" in m["fields"]], before
    with open(t.log_path(NODE), "rb") as fh:
        log = fh.read().decode(errors="replace")
    assert "removed 1 stale VIP(s)" in log, vgtopo.log_tail(t.log_path(NODE))
    print("READY=1 %.1f ms after the start; stale VIP gone %.1f..%.1f ms "
          "after the start" % ((ready["t"] - ag["t0"]) * 1000,
                               (down[1][0] - ag["t0"]) * 1000,
                               (down[2][1] - ag["t0"]) * 1000))


def test_status_follows_state(agent):
    """STATUS= lines: one with READY=1 or right after it, then new ones as
    the state changes: the node alone is a quorum, becomes active and says
    "VIPs held"; `vigilctl maintenance on` makes it say maintenance (no
    VIPs), off makes it active again; each time the newest STATUS= agrees
    with `vigilctl status --json` (state, term, active)."""
    ag = agent
    t, lis = ag["t"], ag["lis"]
    ready = lis.wait("READY", "1", ag["t0"], timeout=5.0)
    first = lis.wait("STATUS", since=ready["t"] - 0.001, timeout=1.0)
    assert first["t"] - ready["t"] < 0.5, (first, ready)

    def latest_matches(st, held):
        ss = lis.statuses()
        if not ss or not isinstance(ss[-1][1], dict):
            return None
        s = ss[-1][1]
        nd = st["node"]
        ok = (s["state"] == nd["state"] and int(s["term"]) == nd["term"] and
              int(s["active"]) == (nd["active"] or 0) and
              bool(s["held"]) == held)
        return s if ok else None

    def agree(state, held, timeout):
        st = wait_state(t, state, timeout)
        s, _ = wait_until(lambda: latest_matches(t.status(NODE), held), 1.0,
                          step=0.01)
        assert s, ("the newest STATUS= does not match the status %s/term %d/"
                   "active %s (VIPs held %s): %s" % (
                       st["node"]["state"], st["node"]["term"],
                       st["node"]["active"], held, lis.statuses()[-5:]))
        return st, s

    st, s = agree("active", True, 5.0)
    term = st["node"]["term"]
    assert int(s["active"]) == 1 and int(s["peers"]) == 0, s

    tm = time.monotonic()
    p = t.ctl(NODE, "maintenance", "on")
    st, s = agree("maintenance", False, 2.0)
    assert not st["node"]["vips_held"], st["node"]
    ms = [x[1] for x in lis.statuses(tm)]
    assert any(isinstance(x, dict) and x["state"] == "maintenance"
               for x in ms), ms

    t.ctl(NODE, "maintenance", "off")
    st, s = agree("active", True, 5.0)
    seen = [x[1]["state"] if isinstance(x[1], dict) else x[1]
            for x in lis.statuses()]
    bad = [x for x in lis.statuses() if not isinstance(x[1], dict)]
    assert not bad, "STATUS= lines not in the documented form: %s" % bad
    changes = [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s]
    assert "maintenance" in changes and changes.count("active") >= 2, changes
    assert st["node"]["term"] >= term, (term, st["node"])
    from_agent(ag, lis.snap())
    print("STATUS= states in order: %s (maintenance on: %s)" % (
        changes, p.stdout.strip()))


def test_watchdog_interval(agent):
    """WATCHDOG=1 every WATCHDOG_USEC/3 (100 ms): over 2 s at least 15, the
    median interval within +-30 % of 100 ms, none as long as WATCHDOG_USEC
    (systemd would have killed the service)."""
    ag = agent
    lis = ag["lis"]
    lis.wait("READY", "1", ag["t0"], timeout=5.0)
    t1 = time.monotonic()
    wait_until(lambda: time.monotonic() >= t1 + 2.0, 3.0, step=0.05)
    ws = [m["t"] for m in lis.with_key("WATCHDOG", t1)]
    assert len(ws) >= 15, "%d WATCHDOG=1 in 2 s: %s" % (
        len(ws), [m["raw"] for m in lis.snap(t1)][:10])
    assert all(m["fields"]["WATCHDOG"] == "1"
               for m in lis.with_key("WATCHDOG")), lis.with_key("WATCHDOG")
    iv = [(b - a) * 1e6 for a, b in zip(ws, ws[1:])]
    med = statistics.median(iv)
    want = WATCHDOG_USEC / 3
    assert 0.7 * want <= med <= 1.3 * want, (
        "median WATCHDOG=1 interval %.0f us, not within 30 %% of %.0f us: %s"
        % (med, want, [round(x) for x in iv]))
    assert max(iv) < WATCHDOG_USEC, (
        "a WATCHDOG=1 interval of %.0f us >= WATCHDOG_USEC %d"
        % (max(iv), WATCHDOG_USEC))
    # all-time, since the start: never a gap systemd would act on
    allw = [m["t"] for m in lis.with_key("WATCHDOG")]
    worst = max((b - a) * 1e6 for a, b in zip(allw, allw[1:]))
    assert worst < WATCHDOG_USEC, "worst WATCHDOG=1 gap %.0f us" % worst
    from_agent(ag, lis.with_key("WATCHDOG"))
    print("WATCHDOG=1: %d in 2 s, median %.1f ms, min %.1f, max %.1f ms; worst "
          "since the start %.1f ms" % (len(ws), med / 1000, min(iv) / 1000,
                                       max(iv) / 1000, worst / 1000))


def reload_round(ag, what):
    """SIGHUP; returns (RELOADING datagram, the READY=1 after it, t_hup)."""
    lis = ag["lis"]
    th = time.monotonic()
    ag["p"].send_signal(signal.SIGHUP)
    rl = lis.wait("RELOADING", "1", th, timeout=2.0)
    mono = rl["fields"].get("MONOTONIC_USEC")
    assert mono is not None and mono.isdigit(), (
        "%s: RELOADING=1 without MONOTONIC_USEC=: %r" % (what, rl["raw"]))
    us = int(mono)
    assert th * 1e6 - 1000 <= us <= rl["t"] * 1e6 + 1000, (
        "%s: MONOTONIC_USEC=%d is not between the SIGHUP (%.0f) and the "
        "datagram's arrival (%.0f), CLOCK_MONOTONIC in us"
        % (what, us, th * 1e6, rl["t"] * 1e6))
    rd = lis.wait("READY", "1", rl["t"], timeout=2.0)
    idx = lis.snap().index
    assert idx(rd) > idx(rl), (rl, rd)
    return rl, rd, th


def test_sighup_reloading_then_ready(agent):
    """SIGHUP: RELOADING=1 with MONOTONIC_USEC= (CLOCK_MONOTONIC, between
    the signal and the datagram), then READY=1; the node stays active in
    the same term and keeps the VIP (the sampler sees no change).  A broken
    file: RELOADING=1, READY=1 again, the agent keeps the old config and
    logs the error as file:line."""
    ag = agent
    t, lis, smp = ag["t"], ag["lis"], ag["smp"]
    st0 = wait_state(t, "active", 5.0)
    smp.wait_holder(lambda h: h == [NODE], 1.0)
    rl, rd, th = reload_round(ag, "valid reload")
    st = wait_state(t, "active", 1.0)
    assert st["node"]["term"] == st0["node"]["term"], (st0["node"],
                                                       st["node"])
    assert smp.changes(th) == [(smp.changes(th)[0][0], [NODE])], (
        "the VIP moved across a reload that changed nothing: %s"
        % smp.changes(th))
    s = lis.wait("STATUS", since=rd["t"] - 0.001, timeout=1.0)
    assert s["fields"]["STATUS"].startswith("active, term %d,"
                                            % st0["node"]["term"]), s

    conf = t.conf_path(NODE)
    with open(conf) as fh:
        good = fh.read()
    try:
        with open(conf, "w") as fh:
            fh.write(good + "\ninterval = ;\n")
        rl2, rd2, th2 = reload_round(ag, "broken file")
    finally:
        with open(conf, "w") as fh:
            fh.write(good)
    assert ag["p"].poll() is None, "vigild exited on a bad reload"
    st = wait_state(t, "active", 1.0)
    assert st["node"]["term"] == st0["node"]["term"]
    assert smp.now_holders() == [NODE]
    r, _ = wait_until(lambda: re.search(
        r"reload: %s:\d+: " % re.escape(conf),
        vgtopo.log_tail(t.log_path(NODE), 60)), 1.0)
    assert r, (
        "the bad reload's error (file:line) is not in the log:\n%s"
        % vgtopo.log_tail(t.log_path(NODE), 20))
    from_agent(ag, lis.snap(th))
    print("SIGHUP: RELOADING=1 %.2f ms after the signal, READY=1 %.2f ms "
          "after it; broken file: RELOADING=1 -> READY=1 in %.2f ms, still "
          "active" % ((rl["t"] - th) * 1000, (rd["t"] - rl["t"]) * 1000,
                      (rd2["t"] - rl2["t"]) * 1000))


def test_sigterm_stopping(agent):
    """SIGTERM: STOPPING=1 arrives before vigild exits, nothing but
    STATUS=/STOPPING= after it (no READY=1, no WATCHDOG=1 once stopping),
    vigild exits 0, the VIP is removed, the keeper exits with it."""
    ag = agent
    t, lis, smp, p = ag["t"], ag["lis"], ag["smp"], ag["p"]
    wait_state(t, "active", 5.0)
    t.note_keeper(NODE)
    ts = t.kill(NODE, signal.SIGTERM)
    stop = lis.wait("STOPPING", "1", ts, timeout=2.0)
    rc = p.wait(timeout=5.0)
    texit = time.monotonic()
    assert rc == 0, "vigild exited %s on SIGTERM" % rc
    assert stop["t"] <= texit, (stop, texit)
    assert stop["pid"] == p.pid, stop
    after = [m["raw"] for m in lis.snap(stop["t"])
             if m is not stop and ("READY" in m["fields"] or
                                   "WATCHDOG" in m["fields"])]
    assert not after, "after STOPPING=1: %s" % after
    assert not t.keeper_gone(NODE), "a keeper had to be killed"
    h, _ = smp.wait_holder(lambda h: h == [], 1.0, "the VIP removed")
    assert trie_has_vip(smp.sleepers[NODE].pid) is False
    print("SIGTERM: STOPPING=1 after %.2f ms, exit 0 after %.2f ms" % (
        (stop["t"] - ts) * 1000, (texit - ts) * 1000))
