"""vgtopo: namespace topologies for the vigil integration tests, in the manner
of FRR's topotests.  A topology is data (Topo: nodes, cluster settings); a
Topology builds it (one network namespace per node, all linked by veth pairs
to one Linux bridge that lives in a namespace of its own), writes one config
per node, starts one vigild per node and tears everything down again, also
when a test fails.  Assertions poll `vigilctl --json` with a bounded deadline
(wait_until) and compare a subset of the JSON (json_cmp).

Rules kept here (the machine's): addresses only from 198.18.0.0/15, inside
the namespaces; every namespace carries the run's tag (RUN_TAG, "vgt<pid>")
and is deleted at teardown; processes are stopped by PID, SIGTERM then
SIGKILL after a bounded wait; every loop is bounded in count and in time;
IPv6 is disabled in every namespace so nothing but our IPv4 leaves a veth.
"""
import dataclasses
import ipaddress
import json
import os
import re
import select
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
VGWIRE = os.path.join(HERE, "vgwire.py")
BUILD = os.environ.get("VIGIL_BUILD", "/work/main/build")
VIGILD = os.path.join(BUILD, "vigild")
VIGILCTL = os.path.join(BUILD, "vigilctl")

RUN_TAG = "vgt%d" % os.getpid()
_NS_RE = re.compile(r"^vgt(\d+)t\d+-")
ALLOWED_NET = ipaddress.ip_network("198.18.0.0/15")

# Everything this run started or created, for the end-of-module checks.
STARTED = []            # subprocess.Popen of every vigild
ACTIVE = []             # Topology objects not yet torn down
_topo_seq = [0]


# ---------------------------------------------------------------- topology data

@dataclasses.dataclass
class Node:
    """One namespace on the bridge.  vigil=False: a plain host (a sender of
    crafted packets, a sampler...): no daemon, not in the cluster config."""
    name: str
    address: str                # IPv4 in 198.18.0.0/15
    id: int = 0
    priority: int = 100
    vigil: bool = True
    prefixlen: int = 24
    role: str = "node"
    votes: int = 1


@dataclasses.dataclass
class Topo:
    nodes: list
    cluster: str = "itest"
    cluster_id: int = 7
    interval: int = 50          # ms
    dead_time: int = 250        # ms
    port: int = 5405
    vips: list = dataclasses.field(
        default_factory=lambda: [("198.18.0.100/24", "eth0")])
    extra_conf: str = ""        # appended to every node's config

    def node(self, name):
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    @property
    def cluster_nodes(self):
        return [n for n in self.nodes if n.vigil]


def three_nodes(**kw):
    """n1..n3 (priorities 100, 90, 80) and a plain host x at 198.18.0.50."""
    return Topo(nodes=[
        Node("n1", "198.18.0.1", id=1, priority=100),
        Node("n2", "198.18.0.2", id=2, priority=90),
        Node("n3", "198.18.0.3", id=3, priority=80),
        Node("x", "198.18.0.50", vigil=False),
    ], **kw)


# ---------------------------------------------------------------- helpers

def run(cmd, check=True, timeout=10, **kw):
    """Runs a command (a list), bounded in time; raises with its output."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise RuntimeError("%s: exit %d\n%s%s" % (" ".join(cmd), p.returncode,
                                                  p.stdout, p.stderr))
    return p


def netns_list():
    out = run(["ip", "netns", "list"]).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def netns_pids(ns):
    p = run(["ip", "netns", "pids", ns], check=False)
    return [int(x) for x in p.stdout.split()] if p.returncode == 0 else []


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cleanup_leftovers():
    """Deletes namespaces that an earlier run of these tests left behind:
    tagged vgt<pid>t<n>- by a run whose pid is gone.  Namespaces of a run
    that is still going (someone else's, at the same time) are left alone."""
    removed = []
    for ns in netns_list():
        m = _NS_RE.match(ns)
        if not m or int(m.group(1)) == os.getpid():
            continue
        if pid_alive(int(m.group(1))):
            continue
        run(["ip", "netns", "del", ns], check=False)
        removed.append(ns)
    return removed


def wait_until(fn, timeout, step=0.02, what="condition"):
    """Calls fn() every `step` seconds until it returns something true, for
    at most `timeout` seconds (and a bounded number of calls).  Returns
    (value, elapsed); value is the last result (false on timeout)."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    value = None
    for _ in range(int(timeout / step) + 2):
        value = fn()
        if value:
            break
        now = time.monotonic()
        if now >= deadline:
            break
        time.sleep(min(step, deadline - now))   # polling period, not a wait
    return value, time.monotonic() - t0


def json_cmp(actual, expected, path=""):
    """None if `expected` is a subset of `actual` (dicts by key, lists item
    by item, everything else by equality), else a description of the first
    difference (FRR topotest's json_cmp, in small)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return "%s: expected an object, got %r" % (path or ".", actual)
        for k, v in expected.items():
            if k not in actual:
                return "%s.%s: missing" % (path, k)
            d = json_cmp(actual[k], v, "%s.%s" % (path, k))
            if d:
                return d
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) < len(expected):
            return "%s: expected a list of >= %d, got %r" % (
                path, len(expected), actual)
        for i, v in enumerate(expected):
            d = json_cmp(actual[i], v, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    if actual != expected:
        return "%s: expected %r, got %r" % (path or ".", expected, actual)
    return None


def peers_by_name(status):
    return {p["name"]: p for p in status.get("peers", [])}


def log_tail(path, lines=40):
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 16384))
            data = fh.read().decode("utf-8", "replace")
    except OSError as e:
        return "(no log: %s)" % e
    return "\n".join(data.splitlines()[-lines:])


# ---------------------------------------------------------------- topology

class Topology:
    """A built topology.  Use as a context manager, or call teardown() from a
    fixture finalizer: teardown is safe to call more than once and after a
    partial build."""

    def __init__(self, topo, workdir, key=None):
        for n in topo.nodes:
            if ipaddress.ip_address(n.address) not in ALLOWED_NET:
                raise ValueError("%s: %s is outside 198.18.0.0/15"
                                 % (n.name, n.address))
        _topo_seq[0] += 1
        self.topo = topo
        self.tag = "%st%d" % (RUN_TAG, _topo_seq[0])
        self.workdir = str(workdir)
        self.key = key if key is not None else os.urandom(32)
        self.key_file = os.path.join(self.workdir, "auth.key")
        self.procs = {}             # name -> Popen
        self.started_at = {}        # name -> time.monotonic() before Popen
        self.started_wall = {}      # name -> time.time() before Popen
        self.namespaces = []        # created, in order
        self.helpers = []           # Popen of background helpers (sniffers)
        self.torn_down = False
        self.teardown_errors = []
        ACTIVE.append(self)

    # -- names
    def ns(self, name):
        return "%s-%s" % (self.tag, name)

    @property
    def br_ns(self):
        return self.ns("br")

    def dir(self, name):
        return os.path.join(self.workdir, name)

    def socket(self, name):
        return os.path.join(self.dir(name), "vigil.sock")

    def conf_path(self, name):
        return os.path.join(self.dir(name), "vigil.conf")

    def log_path(self, name):
        return os.path.join(self.dir(name), "vigild.log")

    # -- build
    def _add_ns(self, ns):
        run(["ip", "netns", "add", ns])
        self.namespaces.append(ns)
        run(["ip", "netns", "exec", ns, "sysctl", "-qw",
             "net.ipv6.conf.all.disable_ipv6=1",
             "net.ipv6.conf.default.disable_ipv6=1"])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])

    def build(self):
        """Namespaces, bridge, links, addresses, key and configs."""
        os.makedirs(self.workdir, exist_ok=True)
        self._add_ns(self.br_ns)
        run(["ip", "-n", self.br_ns, "link", "add", "br0", "type", "bridge",
             "forward_delay", "0", "stp_state", "0"])
        run(["ip", "-n", self.br_ns, "link", "set", "br0", "up"])
        for n in self.topo.nodes:
            self._add_ns(self.ns(n.name))
            port = "v-%s" % n.name
            assert len(port) <= 15, port
            run(["ip", "-n", self.ns(n.name), "link", "add", "eth0", "type",
                 "veth", "peer", "name", port, "netns", self.br_ns])
            run(["ip", "-n", self.br_ns, "link", "set", port, "master", "br0"])
            run(["ip", "-n", self.br_ns, "link", "set", port, "up"])
            run(["ip", "-n", self.ns(n.name), "addr", "add",
                 "%s/%d" % (n.address, n.prefixlen), "dev", "eth0"])
            run(["ip", "-n", self.ns(n.name), "link", "set", "eth0", "up"])
            os.makedirs(self.dir(n.name), exist_ok=True)
        fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                     0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(self.key)
        os.chmod(self.key_file, 0o600)
        for n in self.topo.cluster_nodes:
            os.makedirs(os.path.join(self.dir(n.name), "state"), exist_ok=True)
            with open(self.conf_path(n.name), "w") as fh:
                fh.write(self.config(n.name))
        return self

    def config(self, name):
        t = self.topo
        d = self.dir(name)
        nodes = ",\n".join(
            '\t{ id = %d; name = "%s"; address = "%s"; priority = %d; '
            'votes = %d; role = "%s"; }'
            % (n.id, n.name, n.address, n.priority, n.votes, n.role)
            for n in t.cluster_nodes)
        vips = ",\n".join('\t{ address = "%s"; interface = "%s"; }' % v
                          for v in t.vips)
        return (
            'cluster = "%s";\ncluster_id = %d;\ninterval = %d;\n'
            'dead_time = %d;\nport = %d;\n'
            'auth = "hmac-sha256";\nauth_key_file = "%s";\n'
            'state_dir = "%s/state";\nstate_file = "%s/statefile";\n'
            'ctl = { socket = "%s"; };\n'
            'log = { level = "debug"; target = "stderr"; };\n'
            'nodes = (\n%s\n);\nvips = (\n%s\n);\n%s'
            % (t.cluster, t.cluster_id, t.interval, t.dead_time, t.port,
               self.key_file, d, d, self.socket(name), nodes, vips,
               t.extra_conf))

    def check_config(self, name):
        """`vigild -t`: must say "configuration OK" and exit 0."""
        p = run([VIGILD, "-t", "-f", self.conf_path(name), "-n", name],
                check=False)
        out = p.stdout + p.stderr
        if p.returncode != 0 or "configuration OK" not in out:
            raise AssertionError("vigild -t on %s: exit %d\n%s\n--- config:\n%s"
                                 % (name, p.returncode, out,
                                    self.config(name)))

    # -- processes
    def start(self, name, wait=True, timeout=5.0, args=()):
        """Starts vigild for `name` in its namespace, stderr to its log; with
        wait, returns once `vigilctl status` answers."""
        assert name not in self.procs or self.procs[name].poll() is not None
        log = open(self.log_path(name), "ab")
        try:
            self.started_wall[name] = time.time()
            self.started_at[name] = time.monotonic()
            p = subprocess.Popen(
                ["ip", "netns", "exec", self.ns(name), VIGILD, "-f",
                 self.conf_path(name), "-n", name, "-d", *args],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()
        self.procs[name] = p
        STARTED.append(p)
        if wait:
            st, _ = wait_until(lambda: self.status(name, check=False),
                               timeout, what="%s ctl socket" % name)
            if not st:
                raise AssertionError(
                    "%s: vigilctl status did not answer within %.1f s "
                    "(vigild %s)\n%s" % (name, timeout, self._proc_state(name),
                                         log_tail(self.log_path(name))))
        return p

    def start_all(self, timeout=5.0):
        """Every cluster node, in order, each once the previous one answers
        (so a node is listening before the next one sends its seq 1)."""
        for n in self.topo.cluster_nodes:
            self.check_config(n.name)
        for n in self.topo.cluster_nodes:
            self.start(n.name, wait=True, timeout=timeout)
        return self

    def _proc_state(self, name):
        p = self.procs.get(name)
        if p is None:
            return "not started"
        rc = p.poll()
        return "running, pid %d" % p.pid if rc is None else "exited %d" % rc

    def stop(self, name, sig=signal.SIGTERM, timeout=3.0):
        """Signals the node's vigild by PID, waits (bounded), then SIGKILL.
        Returns its exit code (negative: killed by that signal)."""
        p = self.procs.get(name)
        if p is None:
            return None
        if p.poll() is None:
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.teardown_errors.append(
                    "%s: vigild pid %d ignored signal %d for %.1f s; SIGKILL"
                    % (name, p.pid, sig, timeout))
                p.kill()
                p.wait(timeout=timeout)
        return p.returncode

    # -- control
    def ctl(self, name, *args, check=True, timeout=2.0):
        """Runs vigilctl against the node's socket (a Unix socket: no need to
        enter the namespace)."""
        return run([VIGILCTL, "-s", self.socket(name), *args], check=check,
                   timeout=timeout)

    def status(self, name, check=True):
        """`vigilctl status --json` parsed; with check=False, None when the
        agent does not answer."""
        try:
            p = self.ctl(name, "status", "--json", check=False)
        except subprocess.TimeoutExpired:
            if check:
                raise
            return None
        if p.returncode != 0:
            if check:
                raise AssertionError(
                    "%s: vigilctl status --json: exit %d: %s%s (vigild %s)\n%s"
                    % (name, p.returncode, p.stdout, p.stderr,
                       self._proc_state(name), log_tail(self.log_path(name))))
            return None
        try:
            return json.loads(p.stdout)
        except ValueError as e:
            raise AssertionError("%s: vigilctl status --json printed no JSON "
                                 "(%s):\n%r" % (name, e, p.stdout))

    def wait_json(self, name, expected, timeout, step=0.02):
        """Polls the node's status until `expected` is a subset of it;
        returns (status, elapsed, diff), diff None on success."""
        last = {"diff": "no answer"}

        def probe():
            st = self.status(name, check=False)
            if st is None:
                last["diff"] = "no answer"
                return None
            last["st"] = st
            last["diff"] = json_cmp(st, expected)
            return st if last["diff"] is None else None

        st, elapsed = wait_until(probe, timeout, step)
        return last.get("st"), elapsed, last["diff"]

    # -- packets from inside a namespace
    def netns_python(self, name, *args, timeout=10.0):
        return run(["ip", "netns", "exec", self.ns(name), PYTHON, *args],
                   timeout=timeout)

    def vgwire(self, name, verb, spec, timeout=10.0):
        """Runs vgwire.py (send/sniff) with `spec` inside the namespace of
        `name`; returns its JSON result."""
        for k in ("src", "dst"):
            if spec.get(k):
                assert ipaddress.ip_address(spec[k]) in ALLOWED_NET, spec[k]
        path = os.path.join(self.workdir, "spec-%s-%d.json"
                            % (verb, int(time.monotonic() * 1e6)))
        with open(path, "w") as fh:
            json.dump(spec, fh)
        p = self.netns_python(name, VGWIRE, verb, path, timeout=timeout)
        return json.loads(p.stdout)

    def sniff_background(self, name, spec):
        """Starts `vgwire.py sniff` in the namespace of `name` in the
        background; returns once it captures (bounded by timeout)."""
        spec = dict(spec, ready_line=True)
        path = os.path.join(self.workdir, "spec-bgsniff-%d.json"
                            % int(time.monotonic() * 1e6))
        with open(path, "w") as fh:
            json.dump(spec, fh)
        p = subprocess.Popen(["ip", "netns", "exec", self.ns(name), PYTHON,
                              VGWIRE, "sniff", path],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        self.helpers.append(p)
        STARTED.append(p)
        # The ready line, read unbuffered (communicate() reads the rest).
        line = b""
        deadline = time.monotonic() + 5.0
        for _ in range(256):
            left = deadline - time.monotonic()
            r = select.select([p.stdout], [], [], max(0, left))[0] \
                if left > 0 else []
            if not r:
                break
            c = os.read(p.stdout.fileno(), 1)
            if not c or c == b"\n":
                break
            line += c
        if b'"ready"' not in line:
            _stop_popen(p, 1.0)
            raise AssertionError("sniffer in %s did not start: %r %s"
                                 % (name, line, p.stderr.read()))
        return Sniffer(p, float(spec.get("timeout", 2.0)) + 3.0)

    def restart_all(self):
        """Stops and starts every daemon again (fresh incarnations): puts a
        shared topology back in order after a test that failed in it."""
        for n in self.topo.cluster_nodes:
            self.stop(n.name)
        for n in self.topo.cluster_nodes:
            with open(self.log_path(n.name), "ab") as fh:
                fh.write(b"---- restarted by the test harness\n")
            self.start(n.name)

    # -- diagnostics and teardown
    def logs(self, lines=40):
        out = []
        for n in self.topo.cluster_nodes:
            if n.name in self.procs:
                out.append("==== %s (%s) %s\n%s" % (
                    n.name, self._proc_state(n.name), self.log_path(n.name),
                    log_tail(self.log_path(n.name), lines)))
        return "\n".join(out)

    def teardown(self):
        """Stops every daemon (by PID), removes every namespace; records what
        had to be forced in teardown_errors.  Never raises."""
        if self.torn_down:
            return self.teardown_errors
        self.torn_down = True
        for p in self.helpers:
            _stop_popen(p, 2.0)
        for name in list(self.procs):
            try:
                self.stop(name)
            except Exception as e:          # keep going: namespaces next
                self.teardown_errors.append("%s: stop: %r" % (name, e))
        for ns in reversed(self.namespaces):
            # Anything still in our own namespace was started by this test
            # (a keeper the daemon forked, say): report it, end it by PID.
            pids, _ = wait_until(lambda: not netns_pids(ns), 2.0)
            left = netns_pids(ns)
            if left:
                self.teardown_errors.append(
                    "%s: processes left after their vigild exited: %s"
                    % (ns, ", ".join("%d (%s)" % (p, _cmdline(p))
                                     for p in left)))
                for pid in left:
                    _end_pid(pid)
            try:
                run(["ip", "netns", "del", ns], check=False)
            except Exception as e:
                self.teardown_errors.append("%s: netns del: %r" % (ns, e))
        leftover = [ns for ns in netns_list() if ns.startswith(self.tag + "-")]
        if leftover:
            self.teardown_errors.append("namespaces left: %s" % leftover)
        if self in ACTIVE:
            ACTIVE.remove(self)
        return self.teardown_errors

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.teardown()
        return False


class Sniffer:
    """A background `vgwire.py sniff`; result() waits (bounded) for it."""

    def __init__(self, popen, timeout):
        self.p = popen
        self.timeout = timeout

    def result(self):
        try:
            out, err = self.p.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _stop_popen(self.p, 1.0)
            raise AssertionError("sniffer did not end within %.1f s"
                                 % self.timeout)
        if self.p.returncode != 0:
            raise AssertionError("sniffer exit %d: %s" % (self.p.returncode,
                                                          err))
        return json.loads(out.decode().strip().splitlines()[-1])


def _stop_popen(p, timeout):
    """SIGTERM, a bounded wait, SIGKILL, wait: a process we started."""
    if p.poll() is not None:
        return p.returncode
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            p.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            continue
    return p.wait(timeout=timeout)


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def _end_pid(pid, timeout=2.0):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        gone, _ = wait_until(lambda: not pid_alive(pid), timeout)
        if gone:
            return


def build_topology(topo, workdir, start=True):
    """Builds (and starts) a topology; on any failure tears down what was
    built before re-raising."""
    t = Topology(topo, workdir)
    try:
        t.build()
        if start:
            t.start_all()
    except BaseException:
        errs = t.teardown()
        if errs:
            sys.stderr.write("teardown after a failed build: %s\n" % errs)
        raise
    return t
