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
IPv6 is disabled in every namespace so nothing but our IPv4 leaves a veth,
except in a dual-stack topology (Topo.ipv6): there the node namespaces carry
IPv6 too, addresses only from 2001:2::/48 (RFC 5180's benchmarking prefix).
"""
import atexit
import bisect
import dataclasses
import ipaddress
import json
import os
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
VGWIRE = os.path.join(HERE, "vgwire.py")
BUILD = os.environ.get("VIGIL_BUILD", "/work/main/build")
VIGILD = os.path.join(BUILD, "vigild")
VIGILCTL = os.path.join(BUILD, "vigilctl")

_PID = os.getpid()
RUN_TAG = "vgt%d" % _PID
_NS_RE = re.compile(r"^vgt(\d+)t\d+-")
ALLOWED_NET = ipaddress.ip_network("198.18.0.0/15")
ALLOWED_NET6 = ipaddress.ip_network("2001:2::/48")


def allowed_addr(addr):
    """True if `addr` (no prefix length) is one of ours: 198.18.0.0/15 or
    2001:2::/48."""
    a = ipaddress.ip_address(addr)
    return a in (ALLOWED_NET if a.version == 4 else ALLOWED_NET6)

# Everything this run started or created, for the end-of-module checks.
STARTED = []            # subprocess.Popen of every vigild
ACTIVE = []             # Topology objects not yet torn down
KEEPERS = set()         # every keeper pid that a status of ours showed
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
    address6: str = ""          # IPv6 in 2001:2::/48 (Topo.ipv6 only)
    prefixlen6: int = 64


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
    extra_conf: str = ""        # appended to every node's config; or a
                                # callable(name) -> str, per node
    ctl_extra: str = ""         # inside the ctl group (operator_group...)
    # the ctl socket on tmpfs next to the state (/dev/shm/<tag>/<node>,
    # mode 0755 dirs) instead of the work dir (0700 under pytest's tmp):
    # for tests that connect as another user
    socket_tmpfs: bool = False
    # state_dir and state_file on tmpfs (/dev/shm/<tag>/<node>), not under
    # the work dir: the agent fsyncs them in its event loop (the vote and
    # term before a VOTE, the state file at every change), and on this
    # machine's shared disk an fsync has been seen to take 300 ms while
    # other builds ran, longer than D.  Timing tests use tmpfs.
    state_tmpfs: bool = False
    # members of the cluster config that are never built or started (no
    # namespace: their addresses, in 198.18.0.0/15, never answer ARP)
    phantoms: list = dataclasses.field(default_factory=list)
    # dual-stack: IPv6 stays on in the node namespaces (off in the bridge's:
    # it only switches frames), router advertisements and autoconf off, and
    # each node's address6 is added with `nodad` (usable at once; the
    # link-local addresses still do their DAD, which build() waits for,
    # bounded, and measures in Topology.dad_wait_s).  Off: as before.
    ipv6: bool = False
    # the cluster config names every node by its address6 (heartbeats over
    # IPv6); needs ipv6
    peers_v6: bool = False

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


def dual_stack_nodes(**kw):
    """failover_nodes() with IPv6: n1..n3 also at 2001:2::1..3/64, the client
    at 2001:2::200/64 (Topo.ipv6 on; peers_v6 and vips as given)."""
    t = failover_nodes(**kw)
    t.ipv6 = True
    for n in t.nodes:
        n.address6 = "2001:2::%s" % (n.id if n.vigil else "200")
    return t


def failover_nodes(**kw):
    """n1..n3 (priorities 100, 90, 80), the VIP 198.18.0.100/24 on eth0, and
    a plain client host at 198.18.0.200 on the same bridge; state on tmpfs
    (Topo.state_tmpfs)."""
    kw.setdefault("state_tmpfs", True)
    return Topo(nodes=[
        Node("n1", "198.18.0.1", id=1, priority=100),
        Node("n2", "198.18.0.2", id=2, priority=90),
        Node("n3", "198.18.0.3", id=3, priority=80),
        Node("client", "198.18.0.200", vigil=False),
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


def pid_running(pid, comm=None):
    """True if `pid` exists and is not a zombie (and, with `comm`, still has
    that name: a pid the kernel reused for something else is not ours)."""
    try:
        with open("/proc/%d/stat" % pid) as fh:
            stat = fh.read()
    except OSError:
        return False
    # "pid (comm) S ...": comm may hold spaces and parentheses
    name = stat[stat.find("(") + 1:stat.rfind(")")]
    state = stat[stat.rfind(")") + 2:][:1]
    if state in ("Z", "X"):
        return False
    return comm is None or name == comm


KEEPER_COMM = "vigild-keeper"


def children_named(ppid, comm):
    """Pids of the running children of `ppid` called `comm` (from /proc)."""
    out = []
    try:
        with open("/proc/%d/task/%d/children" % (ppid, ppid)) as fh:
            kids = [int(x) for x in fh.read().split()]
    except OSError:
        kids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as fh:
                    st = fh.read()
            except OSError:
                continue
            if int(st[st.rfind(")") + 2:].split()[1]) == ppid:
                kids.append(int(d))
    for k in kids:
        if pid_running(k, comm):
            out.append(k)
    return out


def cleanup_leftovers():
    """Deletes namespaces that an earlier run of these tests left behind:
    tagged vgt<pid>t<n>- by a run whose pid is gone.  Namespaces of a run
    that is still going (someone else's, at the same time) are left alone.
    The processes still inside one (a vigild, a keeper, a sampler's sleep
    that the dead run started) are ended first, by PID, and named in what
    is returned."""
    removed = []
    for ns in netns_list():
        m = _NS_RE.match(ns)
        if not m or int(m.group(1)) == os.getpid():
            continue
        if pid_alive(int(m.group(1))):
            continue
        pids = netns_pids(ns)
        left = ["%d (%s)" % (pid, _cmdline(pid)) for pid in pids]
        for pid in pids:
            _end_pid(pid)
        run(["ip", "netns", "del", ns], check=False)
        removed.append("%s, its processes ended: %s" % (ns, ", ".join(left))
                       if left else ns)
    # state directories on tmpfs (Topo.state_tmpfs) of dead runs
    shm_re = re.compile(r"^vgt(\d+)t\d+$")
    for d in (os.listdir("/dev/shm") if os.path.isdir("/dev/shm") else []):
        m = shm_re.match(d)
        if m and int(m.group(1)) != os.getpid() and \
                not pid_alive(int(m.group(1))):
            shutil.rmtree(os.path.join("/dev/shm", d), ignore_errors=True)
            removed.append("/dev/shm/" + d)
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


_PROM_SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|'
    r'\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*)?\})? '
    r'(\S+)$')


def parse_prometheus(text):
    """The Prometheus text exposition format (0.0.4), checked strictly
    enough to catch a broken exporter: {"name{labels}": float}."""
    out, typed, helped = {}, {}, set()
    assert text.endswith("\n"), "metrics text does not end in a newline"
    for i, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        if line.startswith("# HELP "):
            helped.add(line.split()[2])
            continue
        if line.startswith("# TYPE "):
            parts = line.split()
            assert len(parts) == 4 and parts[3] in (
                "counter", "gauge", "histogram", "summary", "untyped"), (
                "metrics line %d: bad TYPE: %r" % (i, line))
            typed[parts[2]] = parts[3]
            continue
        assert not line.startswith("#"), "metrics line %d: %r" % (i, line)
        m = _PROM_SAMPLE.match(line)
        assert m, "metrics line %d is not a sample: %r" % (i, line)
        name = m.group(1)
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[:-len(suffix)]
            if name.endswith(suffix) and typed.get(base) == "histogram":
                name = base         # a histogram's series
                break
        assert name in typed and name in helped, (
            "metrics line %d: %s has no # HELP / # TYPE before it"
            % (i, name))
        key = m.group(1) + (m.group(2) or "")
        assert key not in out, "metrics line %d: %s twice" % (i, key)
        out[key] = float(m.group(3))
    return out


# ---------------------------------------------------------------- topology

class Topology:
    """A built topology.  Use as a context manager, or call teardown() from a
    fixture finalizer: teardown is safe to call more than once and after a
    partial build."""

    def __init__(self, topo, workdir, key=None):
        for n in list(topo.nodes) + list(topo.phantoms):
            if ipaddress.ip_address(n.address) not in ALLOWED_NET:
                raise ValueError("%s: %s is outside 198.18.0.0/15"
                                 % (n.name, n.address))
            if n.address6 and (not topo.ipv6 or
                               ipaddress.ip_address(n.address6)
                               not in ALLOWED_NET6):
                raise ValueError("%s: %s: IPv6 only with Topo.ipv6, only in "
                                 "2001:2::/48" % (n.name, n.address6))
        if topo.peers_v6 and not (topo.ipv6 and all(
                n.address6 for n in topo.cluster_nodes + list(
                    topo.phantoms))):
            raise ValueError("peers_v6 needs ipv6 and every node's address6")
        for v in topo.vips:
            if not allowed_addr(v[0].split("/")[0]) or (
                    ":" in v[0] and not topo.ipv6):
                raise ValueError("VIP %s: outside our prefixes, or IPv6 "
                                 "without Topo.ipv6" % v[0])
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
        self.keepers = {}           # name -> keeper pids seen (status, /proc)
        self.torn_down = False
        self.teardown_errors = []
        self.dad_wait_s = None      # dual-stack: the link-local DAD wait
        ACTIVE.append(self)

    # -- names
    def ns(self, name):
        return "%s-%s" % (self.tag, name)

    @property
    def br_ns(self):
        return self.ns("br")

    def state_base(self, name):
        """Where the node's state_dir and state_file live."""
        if self.topo.state_tmpfs and os.path.isdir("/dev/shm"):
            return os.path.join("/dev/shm", self.tag, name)
        return self.dir(name)

    def dir(self, name):
        return os.path.join(self.workdir, name)

    def lastsend_path(self, name):
        """The node's record of its last send (agent/lastsend.c): named
        after its state_dir's device and inode; None if there is no
        state_dir."""
        try:
            st = os.stat(os.path.join(self.state_base(name), "state"))
        except OSError:
            return None
        return "/dev/shm/vigild-lastsend-%x-%x" % (st.st_dev, st.st_ino)

    def socket(self, name):
        if self.topo.socket_tmpfs:
            return os.path.join(self.state_base(name), "vigil.sock")
        return os.path.join(self.dir(name), "vigil.sock")

    def conf_path(self, name):
        return os.path.join(self.dir(name), "vigil.conf")

    def log_path(self, name):
        return os.path.join(self.dir(name), "vigild.log")

    # -- build
    def _add_ns(self, ns, ipv6=False):
        run(["ip", "netns", "add", ns])
        self.namespaces.append(ns)
        if ipv6:
            # dual-stack node: IPv6 on, nothing learnt from or asked of
            # routers (there are none), no autoconf address
            run(["ip", "netns", "exec", ns, "sysctl", "-qw"] +
                ["net.ipv6.conf.%s.%s" % (c, kv) for c in ("all", "default")
                 for kv in ("disable_ipv6=0", "accept_ra=0", "autoconf=0",
                            "router_solicitations=0")])
        else:
            run(["ip", "netns", "exec", ns, "sysctl", "-qw",
                 "net.ipv6.conf.all.disable_ipv6=1",
                 "net.ipv6.conf.default.disable_ipv6=1"])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])

    def tentative6(self, name):
        """The node's IPv6 addresses still doing DAD (tentative)."""
        out = run(["ip", "-n", self.ns(name), "-6", "-o", "addr", "show",
                   "tentative"], timeout=5).stdout
        return [ln.split()[3] for ln in out.splitlines() if ln.strip()]

    def addr6(self, name, addr, dev="eth0"):
        """The node's IPv6 address `addr` on `dev` as `ip -j` shows it (a
        dict with its flags: "nodad", "tentative"...), or None."""
        want = ipaddress.ip_address(addr)
        out = run(["ip", "-n", self.ns(name), "-6", "-j", "addr", "show",
                   "dev", dev], timeout=5).stdout
        for link in json.loads(out or "[]"):
            for a in link.get("addr_info", []):
                if ipaddress.ip_address(a["local"]) == want:
                    return a
        return None

    def build(self):
        """Namespaces, bridge, links, addresses, key and configs."""
        os.makedirs(self.workdir, exist_ok=True)
        self._add_ns(self.br_ns)
        run(["ip", "-n", self.br_ns, "link", "add", "br0", "type", "bridge",
             "forward_delay", "0", "stp_state", "0"])
        if self.topo.ipv6:
            # no MLD snooping (no querier here): every multicast (NA to
            # ff02::1, NS to a solicited-node group) reaches every port
            run(["ip", "-n", self.br_ns, "link", "set", "br0", "type",
                 "bridge", "mcast_snooping", "0"])
        run(["ip", "-n", self.br_ns, "link", "set", "br0", "up"])
        for n in self.topo.nodes:
            self._add_ns(self.ns(n.name), ipv6=self.topo.ipv6)
            port = "v-%s" % n.name
            assert len(port) <= 15, port
            run(["ip", "-n", self.ns(n.name), "link", "add", "eth0", "type",
                 "veth", "peer", "name", port, "netns", self.br_ns])
            run(["ip", "-n", self.br_ns, "link", "set", port, "master", "br0"])
            run(["ip", "-n", self.br_ns, "link", "set", port, "up"])
            run(["ip", "-n", self.ns(n.name), "addr", "add",
                 "%s/%d" % (n.address, n.prefixlen), "dev", "eth0"])
            if self.topo.ipv6 and n.address6:
                run(["ip", "-n", self.ns(n.name), "-6", "addr", "add",
                     "%s/%d" % (n.address6, n.prefixlen6), "dev", "eth0",
                     "nodad"])
            run(["ip", "-n", self.ns(n.name), "link", "set", "eth0", "up"])
            os.makedirs(self.dir(n.name), exist_ok=True)
        if self.topo.ipv6:
            # the link-local addresses do DAD (1..2 s: a random delay of up
            # to 1 s, one probe, one retrans timer of 1 s; 1.5..2.0 s seen
            # here); a node's NA or NS sent meanwhile would leave from the
            # global address.  Waited for (bounded) and measured.
            t0 = time.monotonic()
            ok, _ = wait_until(lambda: not any(
                self.tentative6(n.name) for n in self.topo.nodes), 5.0,
                step=0.05, what="IPv6 DAD of the link-local addresses")
            if not ok:
                raise AssertionError("IPv6 DAD not done in 5 s: %s" % {
                    n.name: self.tentative6(n.name) for n in self.topo.nodes})
            self.dad_wait_s = time.monotonic() - t0
        fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                     0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(self.key)
        os.chmod(self.key_file, 0o600)
        for n in self.topo.cluster_nodes:
            os.makedirs(os.path.join(self.state_base(n.name), "state"),
                        exist_ok=True)
            with open(self.conf_path(n.name), "w") as fh:
                fh.write(self.config(n.name))
        return self

    def config(self, name):
        t = self.topo
        d = self.state_base(name)
        nodes = ",\n".join(
            '\t{ id = %d; name = "%s"; address = "%s"; priority = %d; '
            'votes = %d; role = "%s"; }'
            % (n.id, n.name, n.address6 if t.peers_v6 else n.address,
               n.priority, n.votes, n.role)
            for n in t.cluster_nodes + list(t.phantoms))
        vips = ",\n".join('\t{ address = "%s"; interface = "%s"; }' % v
                          for v in t.vips)
        return (
            'cluster = "%s";\ncluster_id = %d;\ninterval = %d;\n'
            'dead_time = %d;\nport = %d;\n'
            'auth = "hmac-sha256";\nauth_key_file = "%s";\n'
            'state_dir = "%s/state";\nstate_file = "%s/statefile";\n'
            'ctl = { socket = "%s";%s };\n'
            'log = { level = "debug"; target = "stderr"; };\n'
            'nodes = (\n%s\n);\nvips = (\n%s\n);\n%s'
            % (t.cluster, t.cluster_id, t.interval, t.dead_time, t.port,
               self.key_file, d, d, self.socket(name),
               (" " + t.ctl_extra) if t.ctl_extra else "", nodes, vips,
               t.extra_conf(name) if callable(t.extra_conf) else
               t.extra_conf))

    def write_config(self, name, text=None):
        """(Re)writes the node's config file: `text` as it is (a broken one,
        say), else config(name) from the current Topo data.  Returns the
        text written."""
        if text is None:
            text = self.config(name)
        tmp = self.conf_path(name) + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(text)
        os.rename(tmp, self.conf_path(name))
        return text

    def write_configs(self):
        for n in self.topo.cluster_nodes:
            self.write_config(n.name)

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
        """Signals the node's vigild by PID (and SIGCONT, in case a test left
        it stopped), waits (bounded), then SIGKILL; then makes sure its
        keeper is gone too (keeper_gone).  Returns vigild's exit code
        (negative: killed by that signal)."""
        p = self.procs.get(name)
        if p is None:
            return None
        if p.poll() is None:
            self.note_keeper(name)
            try:
                p.send_signal(sig)
                if sig not in (signal.SIGKILL, signal.SIGSTOP):
                    p.send_signal(signal.SIGCONT)
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
        self.keeper_gone(name)
        return p.returncode

    def kill(self, name, sig):
        """Sends `sig` to the node's vigild by PID, nothing more; returns the
        time.monotonic() just before."""
        p = self.procs[name]
        assert p.poll() is None, "%s: vigild already exited %s" % (
            name, p.returncode)
        self.note_keeper(name)
        t0 = time.monotonic()
        p.send_signal(sig)
        return t0

    def pid(self, name):
        p = self.procs.get(name)
        return p.pid if p is not None and p.poll() is None else None

    # -- keepers (vigild forks one; it exits on its own once vigild is gone)
    def note_keeper(self, name, pid=None):
        """Records the node's keeper pid(s): `pid`, or vigild's children
        named vigild-keeper, read from /proc."""
        pids = set([pid] if pid else [])
        parent = self.pid(name)
        if parent is not None and not pid:
            pids |= set(children_named(parent, KEEPER_COMM))
        if pids:
            self.keepers.setdefault(name, set()).update(pids)
            KEEPERS.update(pids)
        return pids

    def keeper_gone(self, name, grace=2.0):
        """Once vigild of `name` has exited: every keeper of it must exit by
        itself within `grace` s.  One that outlives its agent by more is
        recorded in teardown_errors and killed (by PID, after checking that
        the pid is still a vigild-keeper).  Returns the pids that had to be
        killed."""
        killed = []
        for kp in sorted(self.keepers.get(name, ())):
            gone, _ = wait_until(lambda: not pid_running(kp, KEEPER_COMM),
                                 grace, step=0.01)
            if gone:
                continue
            self.teardown_errors.append(
                "%s: keeper pid %d still running %.1f s after its vigild "
                "exited; SIGKILL" % (name, kp, grace))
            try:
                os.kill(kp, signal.SIGKILL)
            except ProcessLookupError:
                pass
            wait_until(lambda: not pid_running(kp, KEEPER_COMM), 2.0,
                       step=0.01)
            killed.append(kp)
        return killed

    # -- control
    def ctl(self, name, *args, check=True, timeout=2.0):
        """Runs vigilctl against the node's socket (a Unix socket: no need to
        enter the namespace)."""
        return run([VIGILCTL, "-s", self.socket(name), *args], check=check,
                   timeout=timeout)

    # With direct_ctl set (fo3_make sets it), status(), events() and
    # metrics() speak the ctl protocol on the socket themselves instead of
    # running vigilctl: a fork+exec from this process holds the GIL long
    # enough, on a loaded machine, to open 5..15 ms gaps in a VipSampler,
    # and polls are most of the forks.  The commands under test still go
    # through vigilctl.
    direct_ctl = False

    def ctl_request(self, name, req, timeout=2.0):
        """One request (a dict) on the node's ctl socket, one JSON reply
        line back (bounded); returns the reply parsed.  Raises OSError
        when the agent cannot be reached, ValueError on a bad reply."""
        import socket as _socket
        line = (json.dumps(req) + "\n").encode()
        deadline = time.monotonic() + timeout
        with _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.socket(name))
            s.sendall(line)
            buf = b""
            for _ in range(4096):               # 4096 reads at most
                if b"\n" in buf:
                    break
                s.settimeout(max(0.001, deadline - time.monotonic()))
                b = s.recv(65536)
                if not b:
                    break
                buf += b
            if b"\n" not in buf:
                raise ValueError("no reply line from %s: %r" % (name,
                                                               buf[:200]))
            return json.loads(buf.split(b"\n", 1)[0])

    def status(self, name, check=True):
        """`vigilctl status --json` parsed; with check=False, None when the
        agent does not answer."""
        if self.direct_ctl:
            try:
                st = self.ctl_request(name, {"cmd": "status"})
            except (OSError, ValueError) as e:
                if check:
                    raise AssertionError(
                        "%s: status on the ctl socket: %r (vigild %s)\n%s"
                        % (name, e, self._proc_state(name),
                           log_tail(self.log_path(name))))
                return None
            if st.get("ok") is not True:
                if check:
                    raise AssertionError("%s: status: %r" % (name, st))
                return None
            kp = (st.get("node") or {}).get("keeper_pid")
            if isinstance(kp, int) and kp > 0:
                self.note_keeper(name, kp)
            return st
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
            st = json.loads(p.stdout)
        except ValueError as e:
            raise AssertionError("%s: vigilctl status --json printed no JSON "
                                 "(%s):\n%r" % (name, e, p.stdout))
        kp = (st.get("node") or {}).get("keeper_pid")
        if isinstance(kp, int) and kp > 0:
            self.note_keeper(name, kp)
        return st

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

    def ctl_as(self, name, *args, uid=65534, gid=65534, groups=None,
               check=False, timeout=5.0):
        """vigilctl against the node's socket as another user, through
        setpriv(1): real and effective uid/gid `uid`/`gid` (nobody/nogroup
        by default), no supplementary groups, or exactly `groups` (gids).
        Returns the CompletedProcess (exit code not checked by default)."""
        cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid]
        if groups:
            cmd.append("--groups=%s" % ",".join(str(g) for g in groups))
        else:
            cmd.append("--clear-groups")
        return run(cmd + [VIGILCTL, "-s", self.socket(name), *args],
                   check=check, timeout=timeout)

    def ctl_json(self, name, *args, timeout=5.0):
        """vigilctl ... --json: (exit code, parsed reply or None, stderr)."""
        p = self.ctl(name, *args, "--json", check=False, timeout=timeout)
        try:
            r = json.loads(p.stdout) if p.stdout.strip() else None
        except ValueError:
            r = None
        return p.returncode, r, p.stderr

    def events(self, name):
        """`vigilctl events --json`: the agent's event list."""
        if self.direct_ctl:
            r = self.ctl_request(name, {"cmd": "events"})
            assert r.get("ok") is True, "%s: events: %r" % (name, r)
            return r["events"]
        rc, r, err = self.ctl_json(name, "events")
        assert rc == 0 and r and r.get("ok") is True, (
            "%s: vigilctl events --json: exit %d %r %s" % (name, rc, r, err))
        return r["events"]

    def metrics(self, name):
        """`vigilctl metrics` parsed as the Prometheus text format (checked:
        every sample is `name[{labels}] value`, every family has # HELP and
        # TYPE before its samples); {"name{labels}": float}."""
        if self.direct_ctl:
            r = self.ctl_request(name, {"cmd": "metrics"})
            assert r.get("ok") is True, "%s: metrics: %r" % (name, r)
            return parse_prometheus(r["text"])
        p = self.ctl(name, "metrics", timeout=5.0)
        return parse_prometheus(p.stdout)

    def addr_monitor(self, name, marker="198.18.1.250/32"):
        """Starts `ip monitor address` in the node's namespace; returns once
        it is seen to report (a marker address added to and removed from lo,
        inside the namespace).  stop_monitor(p) ends it (by PID) and returns
        the lines it printed."""
        assert ipaddress.ip_network(marker).subnet_of(ALLOWED_NET), marker
        p = subprocess.Popen(["ip", "-n", self.ns(name), "monitor", "address"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        self.helpers.append(p)
        STARTED.append(p)
        os.set_blocking(p.stdout.fileno(), False)
        p._lines = b""
        mark = marker.split("/")[0].encode()
        seen = False
        for _ in range(20):                 # bounded: the monitor may start
            run(["ip", "-n", self.ns(name), "addr", "add", marker, "dev",
                 "lo"])
            run(["ip", "-n", self.ns(name), "addr", "del", marker, "dev",
                 "lo"])
            deadline = time.monotonic() + 0.25
            for _ in range(100):
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([p.stdout], [], [],
                                                  left)[0]:
                    break
                b = p.stdout.read() or b""
                p._lines += b
                if p._lines.count(mark) >= 2:
                    seen = True
                    break
            if seen:
                break
        if not seen:
            _stop_popen(p, 1.0)
            raise AssertionError("ip monitor address in %s printed nothing"
                                 % name)
        p._lines = b""
        return p

    def stop_monitor(self, p):
        deadline = time.monotonic() + 0.2
        for _ in range(100):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([p.stdout], [], [], left)[0]:
                break
            b = p.stdout.read()
            if not b:
                break
            p._lines += b
        _stop_popen(p, 1.0)
        return p._lines.decode(errors="replace").splitlines()

    def watch(self, vip, **kw):
        """Another VipSampler on the cluster nodes (for a second VIP), kept
        in self.watchers so that the fixture checks it at the end too."""
        s = VipSampler(self, vip, **kw).start()
        self.__dict__.setdefault("watchers", []).append(s)
        return s

    # -- links, filters, the client's view
    def bridge_port(self, name):
        """The bridge-side end of the node's veth (in br_ns)."""
        return "v-%s" % name

    def link_set(self, ns, dev, up):
        run(["ip", "-n", ns, "link", "set", dev, "up" if up else "down"])

    def mac(self, name, dev="eth0"):
        """The MAC address of `dev` in the node's namespace (cached)."""
        key = (name, dev)
        cache = self.__dict__.setdefault("_macs", {})
        if key not in cache:
            out = run(["ip", "-n", self.ns(name), "-j", "link", "show",
                       dev]).stdout
            cache[key] = json.loads(out)[0]["address"].lower()
        return cache[key]

    def nft(self, name, script):
        """Loads an nftables script inside the node's namespace."""
        return run(["ip", "netns", "exec", self.ns(name), "nft", "-f", "-"],
                   input=script)

    ISO_TABLE = "vgt_iso"

    def isolate(self, name, on=True):
        """Cuts (on) or heals the node off the cluster: nftables in its
        namespace drops all UDP to and from the cluster port, both ways,
        IPv4 and IPv6 (an inet table); nothing else is touched (ARP, NDP,
        the client's traffic).  The cut is complete when this returns."""
        if not on:
            return self.nft(name, "delete table inet %s\n" % self.ISO_TABLE)
        port = self.topo.port
        return self.nft(name, """table inet %s {
        chain in { type filter hook input priority 0; policy accept;
                   udp dport %d drop; udp sport %d drop; }
        chain out { type filter hook output priority 0; policy accept;
                    udp dport %d drop; udp sport %d drop; }
    }""" % (self.ISO_TABLE, port, port, port, port))

    def ping(self, name, dst, wait=1.0):
        """One ICMP echo from the node's namespace to `dst` (icmp_echo(),
        run there: no ping(8) on the machine); the round trip in ms, or None
        if no reply came within `wait` s.  IPv4 or IPv6 (dual-stack)."""
        assert allowed_addr(dst), dst
        p = run(["ip", "netns", "exec", self.ns(name), PYTHON,
                 os.path.abspath(__file__), "ping", dst, str(wait)],
                check=False, timeout=wait + 10)
        try:
            return json.loads(p.stdout)["rtt_ms"]
        except (ValueError, KeyError):
            raise AssertionError("ping from %s: exit %d %s%s" % (
                name, p.returncode, p.stdout, p.stderr))

    def neigh(self, name, addr):
        """The node's neighbour entry for `addr`: (lladdr or None, [states])
        or None if there is none."""
        out = run(["ip", "-n", self.ns(name), "-j", "neigh", "show",
                   addr]).stdout.strip()
        ents = json.loads(out) if out else []
        for e in ents:
            if e.get("dst") == addr:
                return ((e.get("lladdr") or "").lower() or None,
                        e.get("state") or [])
        return None

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
        line = read_line(p, 5.0, 256)
        if line is None or '"ready"' not in line:
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
        had to be forced, and what a step raised, in teardown_errors.  Every
        step is tried whatever an earlier one raised, so every namespace is
        deleted.  Never raises an error; an interrupt (^C, or the SIGTERM
        that conftest turns into one) that came during it is raised again
        once every step has run."""
        if self.torn_down:
            return self.teardown_errors
        self.torn_down = True
        interrupted = []

        def step(what, fn, *args, **kw):
            try:
                return fn(*args, **kw)
            except Exception as e:
                self.teardown_errors.append("%s: %r" % (what, e))
            except BaseException as e:      # raised again at the end
                self.teardown_errors.append("%s: %r" % (what, e))
                interrupted.append(e)
            return None

        for smp in list(getattr(self, "samplers", ())):
            step("sampler stop", smp.stop)
        for p in self.helpers:
            step("helper pid %d: stop" % p.pid, _stop_popen, p, 2.0)
        for name in list(self.procs):
            step("%s: stop" % name, self.stop, name)
            # the node's record of its last send (agent/lastsend.c), left
            # after a stop of any kind: removed with the topology
            step("%s: lastsend" % name, self._remove_lastsend, name)
        for ns in reversed(self.namespaces):
            # Anything still in our own namespace was started by this test
            # (a keeper the daemon forked, say): report it, end it by PID.
            step("%s: wait for its processes" % ns, wait_until,
                 lambda: not netns_pids(ns), 2.0)
            left = step("%s: pids" % ns, netns_pids, ns) or []
            if left:
                self.teardown_errors.append(
                    "%s: processes left after their vigild exited: %s"
                    % (ns, ", ".join("%d (%s)" % (p, _cmdline(p))
                                     for p in left)))
                for pid in left:
                    step("%s: end pid %d" % (ns, pid), _end_pid, pid)
            step("%s: netns del" % ns, run, ["ip", "netns", "del", ns],
                 check=False)
        shm = os.path.join("/dev/shm", self.tag)
        if self.topo.state_tmpfs and os.path.isdir(shm):
            shutil.rmtree(shm, ignore_errors=True)
            if os.path.exists(shm):
                self.teardown_errors.append("could not remove %s" % shm)
        leftover = [ns for ns in step("netns list", netns_list) or []
                    if ns.startswith(self.tag + "-")]
        if leftover:
            self.teardown_errors.append("namespaces left: %s" % leftover)
        if self in ACTIVE:
            ACTIVE.remove(self)
        if interrupted:
            raise interrupted[0]
        return self.teardown_errors

    def _remove_lastsend(self, name):
        path = self.lastsend_path(name)
        if path and os.path.exists(path):
            os.unlink(path)

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


SAMPLER_RT_PRIORITY = 30       # above the agents' 20 and the keepers' 21
SAMPLER_RTTIME_US = 1000000     # RLIMIT_RTTIME hard limit of a sampler


class AddrOrder:
    """The kernel's own order of the VIP's address events in the test's
    namespaces: one `ip -o monitor all-nsid address` in this (the host's)
    namespace, which hears every namespace that has an nsid here (`ip netns
    set NS auto`) through one netlink socket.  An address change queues its
    event to that socket synchronously, in the changing process, so the
    order of the lines is the order of the changes, whatever the delays of
    the reader: a "Deleted" on the old holder printed before the new
    holder's add proves the order even when both fall inside one sweep of
    the fib_trie sampler (a hand-over of a fraction of a millisecond).  It
    only listens; nothing is sent."""

    LINE = re.compile(r"^\[nsid (\d+)\](Deleted )?\d+: \S+\s+inet6? "
                      r"([0-9a-f.:]+)/")

    def __init__(self, t, vip, names):
        self.t, self.vip, self.names = t, vip, list(names)
        self.nsid = {}
        self.events = []            # (monotonic, name, deleted)
        self.seen_marker = threading.Event()
        self.p = None
        self.thread = None

    def start(self, timeout=3.0):
        for name in self.names:
            run(["ip", "netns", "set", self.t.ns(name), "auto"], check=False)
        out = run(["ip", "netns", "list"]).stdout
        for name in self.names:
            m = re.search(r"^%s \(id: (\d+)\)" % re.escape(self.t.ns(name)),
                          out, re.M)
            assert m, "no nsid for %s: %s" % (self.t.ns(name), out)
            self.nsid[int(m.group(1))] = name
        self.p = subprocess.Popen(["ip", "-o", "monitor", "all-nsid",
                                   "address"], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        self.t.helpers.append(self.p)
        STARTED.append(self.p)
        self.thread = threading.Thread(target=self._run, name="addr-order",
                                       daemon=True)
        self.thread.start()
        # subscribed: a marker address, added and removed, is heard
        ns = self.t.ns(self.names[0])
        for _ in range(int(timeout / 0.1) + 1):
            run(["ip", "-n", ns, "addr", "add", ORDER_MARKER, "dev", "lo"],
                check=False)
            run(["ip", "-n", ns, "addr", "del", ORDER_MARKER, "dev", "lo"],
                check=False)
            if self.seen_marker.wait(0.1):
                return self
        raise AssertionError("ip monitor all-nsid heard nothing in %.0f s"
                             % timeout)

    MAX_LINES = 1000000             # bounded: far more than a test makes

    def _run(self):
        mark = ORDER_MARKER.split("/")[0] + "/"
        # until `ip monitor` exits (stop(), or the teardown's end of every
        # helper) or MAX_LINES lines, whichever comes first
        for _, line in zip(range(self.MAX_LINES), self.p.stdout):
            now = time.monotonic()
            if mark in line:
                self.seen_marker.set()
                continue
            m = self.LINE.match(line)
            if m and _same_addr(m.group(3), self.vip) and \
                    int(m.group(1)) in self.nsid:
                self.events.append((now, self.nsid[int(m.group(1))],
                                    m.group(2) is not None))

    def proven(self, old, new, since):
        """True if, after `since`, old's VIP was deleted before new's was
        added, in the kernel's order; None if either event is missing."""
        evs = [e for e in list(self.events) if e[0] >= since]
        i_del = next((i for i, e in enumerate(evs)
                      if e[1] == old and e[2]), None)
        i_add = next((i for i, e in enumerate(evs)
                      if e[1] == new and not e[2]), None)
        if i_del is None or i_add is None:
            return None
        return i_del < i_add

    def stop(self):
        if self.p is not None:
            _stop_popen(self.p, 2.0)
        if self.thread is not None:
            self.thread.join(timeout=2.0)


ORDER_MARKER = "198.18.1.251/32"


def _same_addr(a, b):
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


class VipSampler:
    """Watches who holds a VIP, on every node at once, for a whole test.

    One long-lived `sleep` per node namespace (started with `ip netns exec`,
    so its /proc/PID/net is that namespace's); a thread reads
    /proc/PID/net/fib_trie of each in turn (~25 us a read) and sleeps
    `pause` s between sweeps.  A node holds the VIP when its trie has the
    leaf "|-- <vip>" with a "/32 host LOCAL" line (the kernel's local route
    of an address on one of its links).  Every read is kept with its
    CLOCK_MONOTONIC start and end (time.monotonic), so the timeline can
    prove an order: node A showing no VIP in a read that ended at t1 and
    node B showing none in a read that started at t2 >= t1 mean that A lost
    it before t1 and B got it after t2: never both at once in between.

    An IPv6 VIP (dual-stack topologies) is read from /proc/PID/net/if_inet6
    instead: a node holds it when the address is listed there, whatever its
    flags (a tentative address is held too: the conservative reading).

    Bounded: at most max_s seconds and max_sweeps sweeps.
    """

    LOCAL = re.compile(rb"^[ \t]+/32 host LOCAL$", re.M)

    def __init__(self, t, vip, names=None, pause=0.0005, max_s=300.0,
                 max_sweeps=2000000):
        self.twins = []             # more VIPs read from the same reads
        self.t = t
        self.vip = vip.split("/")[0]
        assert allowed_addr(self.vip), vip
        self.v6 = ipaddress.ip_address(self.vip).version == 6
        # if_inet6: 32 hex digits of the address first on its line
        self.hex6 = (ipaddress.ip_address(self.vip).packed.hex().encode()
                     if self.v6 else None)
        self.names = list(names or [n.name for n in t.topo.cluster_nodes])
        self.pause = pause
        self.max_s = max_s
        self.max_sweeps = max_sweeps
        self.leaf = re.compile(rb"\|-- " + re.escape(self.vip.encode()) +
                               rb"\n((?:[ \t]+/[^\n]*\n)+)")
        self.sleepers = {}          # name -> Popen of its `sleep`
        self.sweeps = []            # (t_start, ((t0, t1, has) per name))
        self.allowed = []           # (since, until, holders): expected
                                    # doubles that problems() passes over
        self.errors = []
        self._stop = threading.Event()
        self._thread = None
        self.policy = None
        self.started = None
        self.stopped = None

    # -- life
    def twin(self, vip):
        """Another VIP (IPv4) watched by this sampler's own reads: one
        thread, one read per node per sweep, for several VIPs (two samplers
        in one process contend for the GIL).  Call before start(); the twin
        has the sampler's methods and its own timeline."""
        tw = VipSampler(self.t, vip, names=self.names, pause=self.pause)
        assert not tw.v6 and not self.v6
        self.twins.append(tw)
        return tw

    def start(self, timeout=5.0):
        for name in self.names:
            ns = self.t.ns(name)
            p = subprocess.Popen(["ip", "netns", "exec", ns, "sleep", "600"],
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            self.sleepers[name] = p
            self.t.helpers.append(p)
            STARTED.append(p)
            want = os.stat("/run/netns/%s" % ns).st_ino
            # `ip netns exec` enters the namespace, then execs sleep: until
            # then /proc/PID/net would be ours.  Wait for it (bounded).
            ok, _ = wait_until(lambda: _netns_ino(p.pid) == want and
                               _comm(p.pid) == "sleep", timeout, step=0.005)
            if not ok:
                raise AssertionError("sampler: sleep in %s did not start "
                                     "(pid %d, exit %s)" % (ns, p.pid,
                                                            p.poll()))
        self.t.__dict__.setdefault("samplers", []).append(self)
        self._paths = [(name, "/proc/%d/net/%s" % (
            self.sleepers[name].pid, "if_inet6" if self.v6 else "fib_trie"))
            for name in self.names]
        self.has_vip(self._read(self._paths[0][1]))     # parses: raises early
        # A thread wanting the GIL waits up to the switch interval (5 ms by
        # default) while the main thread runs Python code: the sampler would
        # see 5 ms gaps.  0.5 ms while it runs; restored at stop().
        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(0.0005)
        # A collection of the oldest generation holds the GIL while it walks
        # every object (one took 100 ms here, with pytest's and the sweeps'
        # objects): no cyclic GC while any sampler runs; collected at stop.
        _gc_hold(True)
        self._gc_held = True
        self.started = time.monotonic()
        for tw in self.twins:
            tw.started = self.started
            tw.policy = "twin"
        self._thread = threading.Thread(target=self._run, name="vip-sampler",
                                        daemon=True)
        self._thread.start()
        ok, _ = wait_until(lambda: len(self.sweeps) >= 3, timeout, step=0.005)
        if not ok:
            raise AssertionError("sampler: no sweeps: %s" % self.errors)
        self.order = AddrOrder(self.t, self.vip, self.names).start()
        for tw in self.twins:   # each VIP's kernel order of its own
            tw.order = AddrOrder(self.t, tw.vip, self.names).start()
        return self

    def stop(self):
        """Stops the thread and the sleeps (by PID); idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            if self._thread.is_alive():
                self.errors.append("sampler thread did not stop in 5 s")
        for tw in self.twins:
            if tw.stopped is None:
                tw.stopped = time.monotonic()
            tw.errors.extend(e for e in self.errors if e not in tw.errors)
            if getattr(tw, "order", None) is not None:
                tw.order.stop()
        if self.stopped is None:
            self.stopped = time.monotonic()
            if getattr(self, "_switch", None):
                sys.setswitchinterval(self._switch)
        if getattr(self, "_gc_held", False):
            self._gc_held = False
            _gc_hold(False)
        for p in self.sleepers.values():
            _stop_popen(p, 2.0)
        if getattr(self, "order", None) is not None:
            self.order.stop()
        smp = getattr(self.t, "samplers", [])
        if self in smp:
            smp.remove(self)

    @staticmethod
    def _read(path):
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            chunks = []
            for _ in range(64):             # bounded: 4 MiB at most
                b = os.read(fd, 65536)
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def has_vip(self, trie):
        if self.v6:
            if b"lo" not in trie:       # ::1 on lo: IPv6 is on there
                raise AssertionError("not an if_inet6: %r" % trie[:200])
            return any(ln.startswith(self.hex6)
                       for ln in trie.split(b"\n"))
        if b"Main:" not in trie and b"Local:" not in trie:
            raise AssertionError("not a fib_trie: %r" % trie[:200])
        for m in self.leaf.finditer(trie):
            if self.LOCAL.search(m.group(1)):
                return True
        return False

    def _run(self):
        # Real-time above the agents (SCHED_RR 20) and their keepers
        # (SCHED_FIFO 21): a sweep's timestamps are only true if nothing
        # under test can run in the middle of it.  It sleeps between sweeps
        # (pause), so it cannot starve anything, and RLIMIT_RTTIME (for the
        # whole test process: SIGXCPU at 0.5 s of real-time CPU without a
        # sleep, SIGKILL at 1 s) guards against a runaway.  Where not
        # allowed: as it is, and it says so.
        try:
            resource.setrlimit(resource.RLIMIT_RTTIME,
                               (SAMPLER_RTTIME_US // 2, SAMPLER_RTTIME_US))
            os.sched_setscheduler(0, os.SCHED_FIFO,
                                  os.sched_param(SAMPLER_RT_PRIORITY))
            self.policy = "SCHED_FIFO %d" % SAMPLER_RT_PRIORITY
        except (OSError, AttributeError, ValueError) as e:
            self.policy = "default (%s)" % e
        clock = time.monotonic
        deadline = clock() + self.max_s
        paths = self._paths
        for _ in range(self.max_sweeps):
            if self._stop.is_set():
                return
            ts = clock()
            if ts >= deadline:
                self.errors.append("sampler ran out of its %.0f s" % self.max_s)
                return
            reads = []
            twr = [[] for _ in self.twins]
            try:
                for _name, path in paths:
                    t0 = clock()
                    data = self._read(path)
                    t1 = clock()
                    reads.append((t0, t1, self.has_vip(data)))
                    for i, tw in enumerate(self.twins):
                        twr[i].append((t0, t1, tw.has_vip(data)))
            except Exception as e:          # the namespace went: stop
                if not self._stop.is_set():
                    self.errors.append("sampler read failed: %r" % e)
                return
            self.sweeps.append((ts, tuple(reads)))
            for i, tw in enumerate(self.twins):
                tw.sweeps.append((ts, tuple(twr[i])))
            time.sleep(self.pause)          # the sampling period
        self.errors.append("sampler ran out of its %d sweeps" % self.max_sweeps)

    # -- reading the timeline (safe while the thread runs: appends only)
    def _snap(self, since=None, until=None):
        sw = self.sweeps[:len(self.sweeps)]
        if since is not None:
            sw = [x for x in sw if x[0] >= since]
        if until is not None:
            sw = [x for x in sw if x[0] <= until]
        return sw

    def holders(self, sweep):
        return [self.names[i] for i, r in enumerate(sweep[1]) if r[2]]

    def now_holders(self):
        """Holders in the newest sweep that started after this call (waits
        at most 50 ms for it)."""
        t0 = time.monotonic()
        ok, _ = wait_until(lambda: self.sweeps and self.sweeps[-1][0] > t0,
                           0.05, step=0.001)
        if not ok:
            raise AssertionError("sampler stalled: %s" % self.errors)
        return self.holders(self.sweeps[-1])

    def wait_holder(self, pred, timeout, what="holder"):
        """Polls the sampler until pred(holders of the newest sweep) is true;
        returns (holders, time.monotonic() of that sweep) or raises."""
        last = {}

        def probe():
            if not self.sweeps:
                return None
            sw = self.sweeps[-1]
            h = self.holders(sw)
            last["h"] = h
            return (h, sw[0]) if pred(h) else None

        r, _ = wait_until(probe, timeout, step=0.002)
        if not r:
            raise AssertionError("VIP %s: %s not seen within %.1f s; holders "
                                 "now %s; changes %s" % (
                                     self.vip, what, timeout, last.get("h"),
                                     self.changes()[-8:]))
        return r

    def doubles(self, since=None):
        """Sweeps in which more than one node held the VIP, less those the
        kernel's own order proves a read skew (excused_doubles)."""
        return [d for d, why in self._doubles(since) if why is None]

    def excused_doubles(self, since=None):
        """Sweeps that read two holders while the kernel's order of the
        address events (AddrOrder) proves the old holder lost the VIP
        before the new one got it: the sweep read the old holder before its
        delete and the new one after its add (a sweep stalled between its
        reads).  [((t_sweep, holders), proof)]."""
        return [(d, why) for d, why in self._doubles(since) if why is not None]

    def _doubles(self, since=None):
        sw_all = self.sweeps[:len(self.sweeps)]
        order = getattr(self, "order", None)
        out = []
        for k, sw in enumerate(sw_all):
            if since is not None and sw[0] < since:
                continue
            h = self.holders(sw)
            if len(h) < 2:
                continue
            out.append(((sw[0], h), self._skew(sw_all, k, h, order)))
        return out

    def _skew(self, sw_all, k, h, order):
        """Why sweep k's two holders are a read skew, or None.  Only the
        plain hand-over is excused: the sweep before held exactly `old`,
        this one `old` and `new`, the next one not `old`; the old holder's
        read came first in the sweep; and the kernel deleted old's address
        before it added new's (the first such events since the sweep
        before began).  Anything else stays two holders."""
        if order is None or len(h) != 2 or k == 0 or k + 1 >= len(sw_all):
            return None
        prev = self.holders(sw_all[k - 1])
        nxt = self.holders(sw_all[k + 1])
        if len(prev) != 1 or prev[0] not in h or prev[0] in nxt:
            return None
        old = prev[0]
        new = h[0] if h[1] == old else h[1]
        reads = sw_all[k][1]
        r_old = reads[self.names.index(old)]
        r_new = reads[self.names.index(new)]
        if not r_old[1] <= r_new[0]:
            return None
        if order.proven(old, new, sw_all[k - 1][0]) is not True:
            return None
        return ("%s read at +%.4f s, %s at +%.4f s (%.2f ms later); the "
                "kernel deleted %s's address before adding %s's" % (
                    old, r_old[0] - (self.started or 0), new,
                    r_new[0] - (self.started or 0),
                    (r_new[0] - r_old[1]) * 1000, old, new))

    def allow_doubles(self, since, until, holders):
        """Declares two holders expected (a test that provokes and measures
        them): sweeps that began in [since, until] and saw exactly
        `holders` are not problems(); any other double still is."""
        self.allowed.append((since, until, sorted(holders)))

    def _unexpected_doubles(self):
        return [(t, h) for t, h in self.doubles()
                if not any(a <= t <= b and sorted(h) == w
                           for a, b, w in self.allowed)]

    def changes(self, since=None, until=None):
        """[(t_sweep, holders)] each time the set of holders changed (the
        first entry is the state at `since`)."""
        out, prev = [], None
        for sw in self._snap(since, until):
            h = tuple(self.holders(sw))
            if h != prev:
                out.append((round(sw[0] - (self.started or 0), 4), list(h)))
                prev = h
        return out

    def transitions(self, name, since=None):
        """[(kind, prev_read, this_read)]: kind 'up' (VIP appeared on `name`)
        or 'down'; prev_read is the last read before the change, this_read
        the first after: (t0, t1, has)."""
        i = self.names.index(name)
        out, prev = [], None
        sw_all = self.sweeps[:len(self.sweeps)]
        k = 0
        if since is not None:
            # start from the last sweep before `since`: a change right after
            # it (a keeper is fast) is a change after `since`; and from one
            # whose read of `name` ended before `since`: a read that began
            # before it may end after it (the machine stalled mid-read, CI
            # 2026-12-06: a 31 ms stall, the kill, the keeper's removal and
            # the new holder's add all inside one read), and would already
            # show the change, which would then be missed
            k = max(0, bisect.bisect_left([x[0] for x in sw_all], since) - 1)
            while k > 0 and sw_all[k][1][i][1] >= since:
                k -= 1
        for sw in sw_all[k:]:
            r = sw[1][i]
            if prev is not None and r[2] != prev[2]:
                out.append(("up" if r[2] else "down", prev, r))
            prev = r
        return out

    def first(self, name, kind, since):
        for tr in self.transitions(name, since):
            if tr[0] == kind:
                return tr
        return None

    def handover(self, old, new, since):
        """The move of the VIP from `old` to `new` after `since`: dict with
        down (old's first 'down'), up (new's first 'up'), proven (old's
        first read without the VIP ended no later than new's last read
        without it began: old lost it strictly before new got it), and the
        hole, bounded below and above, in ms."""
        down = self.first(old, "down", since)
        up = self.first(new, "up", since)
        if down is None or up is None:
            return {"down": down, "up": up, "proven": False,
                    "hole_min_ms": None, "hole_max_ms": None}
        by_sweeps = down[2][1] <= up[1][0]
        # faster than a sweep: the kernel's order of the two changes
        order = getattr(self, "order", None)
        by_order = False
        if not by_sweeps and order is not None:
            # the monitor (`ip`, not real-time) may print a little after
            # the sampler saw the change: wait for both lines (bounded)
            got, _ = wait_until(lambda: order.proven(old, new, since)
                                is not None, 2.0, step=0.01)
            by_order = order.proven(old, new, since) is True
        return {"down": down, "up": up,
                "proven": by_sweeps or by_order,
                "proven_by": "sweeps" if by_sweeps else "kernel order" if
                by_order else None,
                "t_down": down[2][1], "t_up": up[2][1],
                "hole_min_ms": (up[1][0] - down[2][1]) * 1000,
                "hole_max_ms": (up[2][1] - down[1][0]) * 1000}

    def assert_moved(self, old, new, since, what):
        """handover() must be proven: old's VIP gone strictly before new's
        appeared, both after `since`; returns the handover dict."""
        ho = self.handover(old, new, since)
        ch = self.changes(since - 0.1)
        assert ho["down"] is not None, (
            "%s: the sampler never saw %s leave %s; changes %s"
            % (what, self.vip, old, ch))
        assert ho["up"] is not None, (
            "%s: the sampler never saw %s arrive on %s; changes %s"
            % (what, self.vip, new, ch))
        assert ho["proven"], (
            "%s: not shown that %s lost %s before %s got it (overlap of up "
            "to %.3f ms); changes %s" % (
                what, old, self.vip, new,
                (ho["down"][2][1] - ho["up"][1][0]) * 1000, ch))
        return ho

    def assert_stayed(self, holders, since, until=None, what="the VIP"):
        """Every sweep from `since` (to `until`) saw exactly `holders`."""
        ch = self.changes(since, until)
        assert ch and all(h == list(holders) for _, h in ch), (
            "%s (%s) did not stay on %s: changes %s"
            % (what, self.vip, list(holders), ch))
        return ch

    def gap_stats(self, since=None, limit=0.005):
        """Time between the starts of consecutive sweeps: max and how many
        exceed `limit` (s), over the whole run or since `since`."""
        sw = self._snap(since)
        gaps = [b[0] - a[0] for a, b in zip(sw, sw[1:])]
        if not gaps:
            return {"sweeps": len(sw), "max_ms": None, "over": 0,
                    "mean_ms": None, "p99_ms": None}
        g = sorted(gaps)
        over = [x for x in gaps if x > limit]
        t0 = self.started or 0
        worst = sorted(((b[0] - a[0], a[0] - t0) for a, b in zip(sw, sw[1:])
                        if b[0] - a[0] > limit), reverse=True)[:5]
        return {"sweeps": len(sw), "max_ms": g[-1] * 1000,
                "worst": ["%.1f ms at +%.3f s" % (d * 1000, at)
                          for d, at in worst],
                "mean_ms": sum(g) / len(g) * 1000,
                "p99_ms": g[min(len(g) - 1, int(len(g) * 0.99))] * 1000,
                "over": len(over), "limit_ms": limit * 1000}

    def problems(self, gap_limit=0.005, slow_allowed=3, gap_max=0.020):
        """What the timeline says is wrong: two holders in one sweep, sampler
        errors, a sweep gap > gap_max, more than slow_allowed gaps >
        gap_limit (seconds).  [] if nothing."""
        probs = []
        dbl = self._unexpected_doubles()
        if dbl:
            t0 = self.started or 0
            probs.append("TWO HOLDERS of %s in %d sweep(s), first at +%.4f s: "
                         "%s; changes %s" % (self.vip, len(dbl), dbl[0][0] - t0,
                                             dbl[0][1], self.changes()))
        if self.errors:
            probs.append("sampler errors: %s" % self.errors)
        g = self.gap_stats(limit=gap_limit)
        if g["max_ms"] is None:
            probs.append("sampler made %d sweeps" % g["sweeps"])
        else:
            if g["max_ms"] > gap_max * 1000:
                probs.append("sampler gap of %.1f ms (> %.0f ms)"
                             % (g["max_ms"], gap_max * 1000))
            # a loaded machine delays the sampler now and then: that
            # weakens the two-holder check for a moment, it does not make
            # it wrong; only a sampler slow for more than 2 % of its
            # sweeps (or the fixed minimum) is no sampler at all
            allowed = max(slow_allowed, int(0.02 * g["sweeps"]))
            if g["over"] > allowed:
                probs.append("sampler gaps > %.0f ms %d times (> %d allowed): "
                             "%s" % (gap_limit * 1000, g["over"], allowed,
                                     g["worst"]))
        return probs

    def summary(self):
        g = self.gap_stats()
        return ("sampler (%s): %d sweeps over %.1f s, gap mean %.2f ms, p99 %.2f "
                "ms, max %.2f ms, %d gaps > %.0f ms %s; holder changes: %s" % (
                    getattr(self, "policy", "?"), g["sweeps"],
                    (self.stopped or time.monotonic()) -
                    (self.started or 0), g["mean_ms"] or 0, g["p99_ms"] or 0,
                    g["max_ms"] or 0, g["over"], g.get("limit_ms", 5),
                    g.get("worst") or "", self.changes()) +
                "".join("; read skew, not two holders, at +%.4f s: %s" % (
                    d[0] - (self.started or 0), why)
                    for d, why in self.excused_doubles()[:3]))


_GC = {"holds": 0, "was_enabled": None}


def _gc_hold(on):
    """Counted gc.disable() while samplers run; the last release enables
    it again (if it was enabled) and collects once."""
    import gc
    if on:
        if _GC["holds"] == 0:
            _GC["was_enabled"] = gc.isenabled()
            gc.disable()
        _GC["holds"] += 1
        return
    _GC["holds"] = max(0, _GC["holds"] - 1)
    if _GC["holds"] == 0 and _GC["was_enabled"]:
        gc.enable()
        gc.collect()


def _netns_ino(pid):
    try:
        return os.stat("/proc/%d/ns/net" % pid).st_ino
    except OSError:
        return None


def _comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as fh:
            return fh.read().strip()
    except OSError:
        return None


def read_line(p, timeout, limit=65536):
    """One line of p's stdout (a pipe, text or not), read a byte at a time
    with select and os.read until a deadline, `limit` bytes at most: what
    readline() would wait for without end from a child that says nothing,
    or half a line.  The line (str, no newline), or None if no whole line
    came within `timeout` s.  Nothing past the newline is read: the rest
    is still there for communicate() or another read_line."""
    fd = p.stdout.fileno()
    line = b""
    deadline = time.monotonic() + timeout
    for _ in range(limit):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        c = os.read(fd, 1)
        if not c:
            return None
        if c == b"\n":
            return line.decode(errors="replace")
        line += c
    return None


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


def teardown_active():
    """At exit: tears down every topology of this process still active (a
    run cut short, by a SIGTERM say, whose fixtures' finalizers did not all
    run), and says so on stderr."""
    if os.getpid() != _PID:
        return                  # a forked child: the topologies are not its
    for t in list(ACTIVE):
        try:
            errs = t.teardown()
        except BaseException as e:      # an interrupt: the next one still
            errs = [repr(e)]
        sys.stderr.write("vgtopo: %s torn down at exit%s\n" % (
            t.tag, ": %s" % errs if errs else ""))


atexit.register(teardown_active)


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


# ---------------------------------------------------------------- cluster views

def statuses(t, names):
    """{name: status} of every node in `names`, or None if one does not
    answer."""
    out = {}
    for n in names:
        st = t.status(n, check=False)
        if st is None:
            return None
        out[n] = st
    return out


def one_active(t, names, peers_alive=True, others=None):
    """(active name, statuses) if exactly one of `names` is active and holds
    its VIPs, every one of them names it as node.active in the same term,
    sees every other one alive (unless not peers_alive), is in one of the
    states `others` if it is not the active (None: any), and only the
    active says held_here for any VIP; else None."""
    sts = statuses(t, names)
    if not sts:
        return None
    act = [n for n, s in sts.items() if s["node"]["state"] == "active"]
    if len(act) != 1:
        return None
    a = act[0]
    aid, term = sts[a]["node"]["id"], sts[a]["node"]["term"]
    if not sts[a]["node"]["vips_held"]:
        return None
    for n, s in sts.items():
        nd = s["node"]
        if nd["active"] != aid or nd["term"] != term:
            return None
        if n != a and nd["vips_held"]:
            return None
        if n != a and others is not None and nd["state"] not in others:
            return None
        for v in s["vips"]:
            if v["holder"] != aid or v["held_here"] != (n == a):
                return None
        peers = peers_by_name(s)
        if peers_alive and any(not peers[m]["alive"] for m in names
                               if m != n):
            return None
    return a, sts


def wait_one_active(t, names, timeout=3.0, what="an active", **kw):
    """Polls one_active(t, names, **kw); returns (name, statuses, elapsed)
    or raises."""
    r, el = wait_until(lambda: one_active(t, names, **kw), timeout, step=0.02)
    if not r:
        sts = statuses(t, names) or {}
        raise AssertionError(
            "%s: no single active agreed on by %s within %.1f s: %s" % (
                what, list(names), timeout,
                {n: (s["node"]["state"], s["node"]["term"],
                     s["node"]["active"], s["node"]["vips_held"])
                 for n, s in sts.items()}))
    return r[0], r[1], el


def link_flap_heard(t, name, peers, addrs, down_s=0.6):
    """`name`'s bridge port down until its neighbour entries for `addrs`
    (its peers' addresses) are unresolved (INCOMPLETE or FAILED) and its
    peers no longer hear it, `down_s` in all; then up.  Returns the ms until
    every peer in `peers` hears it again (polled status; bounded).  The
    node's eth0 retries resolution every 5 s here (retrans_time_ms, IPv4
    and IPv6), not 1 s: left to the kernel, the entries resolve seconds
    after the link comes back, however long the polling keeps it down."""
    for fam in ("ipv4", "ipv6"):
        path = "/proc/sys/net/%s/neigh/eth0/retrans_time_ms" % fam
        run(["ip", "netns", "exec", t.ns(name), "sh", "-c",
             "[ ! -e %s ] || echo 5000 > %s" % (path, path)])
    port = t.bridge_port(name)
    td = time.monotonic()
    t.link_set(t.br_ns, port, False)

    def alive(p):
        return [q for q in t.status(p)["peers"]
                if q["name"] == name][0]["alive"]

    def unresolved():
        ents = [t.neigh(name, a) for a in addrs]
        return any(e is not None for e in ents) and all(
            e is None or set(e[1]) & {"INCOMPLETE", "FAILED"} for e in ents)
    ok, _ = wait_until(unresolved, 1.0, step=0.02)
    assert ok, "%s's entries for %s with its link down: %s" % (
        name, addrs, [t.neigh(name, a) for a in addrs])
    ok, _ = wait_until(lambda: not any(alive(p) for p in peers), 2.0)
    assert ok, "%s's peers still hear it with its link down" % name
    wait_until(lambda: time.monotonic() >= td + down_s, down_s + 1.0,
               step=0.01)
    t.link_set(t.br_ns, port, True)
    ok, el = wait_until(lambda: all(alive(p) for p in peers), 3.0,
                        step=0.005)
    assert ok, "%s's peers never heard it again after its link came " \
        "back" % name
    return el * 1000


# ---------------------------------------------------------------- ICMP echo

def icmp_echo(dst, wait):
    """Sends one ICMP echo request to `dst` from a raw socket and waits at
    most `wait` s for its reply; the round trip in ms or None."""
    import socket
    import struct

    def csum(b):
        if len(b) % 2:
            b += b"\0"
        s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        s = (s >> 16) + (s & 0xffff)
        s += s >> 16
        return ~s & 0xffff

    ident, seq = os.getpid() & 0xffff, 1
    payload = b"vigil-itest" + os.urandom(8)
    if ipaddress.ip_address(dst).version == 6:
        return icmp6_echo(dst, wait, ident, seq, payload)
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, seq) + \
        payload
    with socket.socket(socket.AF_INET, socket.SOCK_RAW,
                       socket.IPPROTO_ICMP) as s:
        t0 = time.monotonic()
        s.sendto(pkt, (dst, 0))
        deadline = t0 + wait
        for _ in range(1000):
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            s.settimeout(left)
            try:
                data, src = s.recvfrom(2048)
            except socket.timeout:
                return None
            ihl = (data[0] & 0x0f) * 4
            icmp = data[ihl:ihl + 8]
            if len(icmp) < 8 or src[0] != dst:
                continue
            typ, _code, _ck, rid, rseq = struct.unpack("!BBHHH", icmp)
            if typ == 0 and rid == ident and rseq == seq and \
                    data[ihl + 8:] == payload:
                return (time.monotonic() - t0) * 1000
    return None


def icmp6_echo(dst, wait, ident, seq, payload):
    """icmp_echo() for IPv6: an ICMPv6 echo request (the kernel sums it)
    from a raw socket; the round trip in ms or None."""
    import socket
    import struct

    pkt = struct.pack("!BBHHH", 128, 0, 0, ident, seq) + payload
    with socket.socket(socket.AF_INET6, socket.SOCK_RAW,
                       socket.IPPROTO_ICMPV6) as s:
        t0 = time.monotonic()
        s.sendto(pkt, (dst, 0))
        deadline = t0 + wait
        for _ in range(1000):
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            s.settimeout(left)
            try:
                data, src = s.recvfrom(2048)
            except socket.timeout:
                return None
            if len(data) < 8 or not _same_addr(src[0], dst):
                continue
            typ, _code, _ck, rid, rseq = struct.unpack("!BBHHH", data[:8])
            if typ == 129 and rid == ident and rseq == seq and \
                    data[8:] == payload:
                return (time.monotonic() - t0) * 1000
    return None


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "ping":
        print(json.dumps({"rtt_ms": icmp_echo(sys.argv[2],
                                              float(sys.argv[3]))}))
        sys.exit(0)
    sys.stderr.write("usage: vgtopo.py ping DST WAIT_S\n")
    sys.exit(2)
