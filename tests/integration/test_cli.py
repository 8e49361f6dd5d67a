"""vigilctl's command line (issue 13, item 8): --help and --version exit 0
on stdout; every usage error says its reason, then the usage, on stderr and
exits 2 (agent/ctlproto.h: VG_EXIT_*), with or without an agent; no agent
is 3; a refusal by the agent is 1 with the agent's reason; success is 0."""
import os
import re

import vgtopo
from vgtopo import run, wait_one_active

NAMES = ("n1", "n2", "n3")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# (argv, the reason on stderr's first line)
USAGE_ERRORS = [
    ([], "no command"),
    (["bogus"], 'unknown command "bogus"'),
    (["-x", "status"], 'unknown option "-x"'),
    (["status", "extra"], 'status takes no argument: unexpected "extra"'),
    (["failover", "--to"], "--to needs a node's name"),
    (["failover", "--to", "--json"], "--to needs a node's name"),
    (["maintenance"], "maintenance needs on or off"),
    (["maintenance", "bogus"], 'maintenance "bogus": on or off'),
    (["maintenance", "on", "off"], 'maintenance: unexpected "off"'),
    (["status", "--to", "n2"], "--to is for failover only"),
    (["status", "--follow"], "--follow is for events only"),
    (["-s"], "-s needs a socket path"),
]


def ctl(sock, *args):
    return run([vgtopo.VIGILCTL, "-s", sock, *args], check=False, timeout=15)


def check_usage_errors(sock):
    for argv, reason in USAGE_ERRORS:
        p = run([vgtopo.VIGILCTL] + (argv if argv[:1] == ["-s"] else
                                     ["-s", sock] + argv),
                check=False, timeout=5)
        assert p.returncode == 2, (argv, p.returncode, p.stderr)
        first = p.stderr.splitlines()[0] if p.stderr else ""
        assert first == "vigilctl: " + reason, (argv, p.stderr)
        assert "usage: vigilctl" in p.stderr and p.stdout == "", (argv, p)


def test_help_version():
    """--help/-h: the usage on stdout, nothing on stderr, exit 0; --version
    and -V: "vigilctl VERSION", the release vigild -V and debian/changelog
    name."""
    for opt in ("--help", "-h"):
        p = run([vgtopo.VIGILCTL, opt], check=False)
        assert p.returncode == 0 and p.stderr == "", (opt, p)
        assert p.stdout.startswith("usage: vigilctl"), p.stdout
        assert "exit: 0 ok, 1 refused or failed, 2 usage, 3 agent " \
            "unreachable" in p.stdout
    with open(os.path.join(ROOT, "debian", "changelog")) as fh:
        rel = re.match(r"^vigil \(([^)-]+)", fh.readline()).group(1)
    for opt in ("--version", "-V"):
        p = run([vgtopo.VIGILCTL, opt], check=False)
        assert (p.returncode, p.stdout, p.stderr) == (
            0, "vigilctl %s\n" % rel, ""), (opt, p)
    for opt in ("--version", "-V"):
        p = run([vgtopo.VIGILD, opt], check=False)
        assert (p.returncode, p.stdout) == (0, "vigild %s\n" % rel), (opt, p)
    # vigild: --help/-h on stdout, exit 0; an unknown option: stderr, 2
    for opt in ("--help", "-h"):
        p = run([vgtopo.VIGILD, opt], check=False)
        assert p.returncode == 0 and p.stderr == "" and \
            p.stdout.startswith("usage: vigild"), (opt, p)
    p = run([vgtopo.VIGILD, "--bogus"], check=False)
    assert p.returncode == 2 and "usage: vigild" in p.stderr and \
        p.stdout == "", p


def test_no_agent(tmp_path):
    """No agent on the socket: every command is 3 with the reason; usage
    errors are still 2 (checked before connecting)."""
    sock = str(tmp_path / "none.sock")
    for cmd in (["status"], ["events"], ["metrics"], ["reload"],
                ["failover"], ["maintenance", "on"]):
        p = ctl(sock, *cmd)
        assert p.returncode == 3, (cmd, p.returncode, p.stderr)
        assert sock in p.stderr and "usage" not in p.stderr, (cmd, p.stderr)
    check_usage_errors(sock)


def test_silent_or_closing_agent(tmp_path):
    """An agent that takes the request and never answers (a frozen loop,
    or a hand-over longer than vigilctl waits): exit 1, saying the request
    may still complete; one that closes without a reply: 3.  status waits
    10 s, so this test takes about that long."""
    import socket
    import threading
    sock = str(tmp_path / "silent.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock)
    srv.listen(4)
    srv.settimeout(20)
    held = []

    def serve(n_close):
        for i in range(2):                  # bounded: two clients
            try:
                c, _ = srv.accept()
            except OSError:
                return
            c.settimeout(20)
            try:
                c.recv(65536)               # the request, taken
            except OSError:
                pass
            if i < n_close:
                c.close()
            else:
                held.append(c)              # silent until the end
    t = threading.Thread(target=serve, args=(1,), daemon=True)
    t.start()
    try:
        p = ctl(sock, "status")             # the first: closed at once
        assert p.returncode == 3, (p.returncode, p.stderr)
        assert "no reply from " + sock in p.stderr, p.stderr
        p = ctl(sock, "status")             # the second: silent
        assert p.returncode == 1, (p.returncode, p.stderr)
        assert "no answer from %s within 10 s" % sock in p.stderr, p.stderr
        assert "may still complete" in p.stderr, p.stderr
    finally:
        for c in held:
            c.close()
        srv.close()
        t.join(timeout=5)


def test_with_cluster(fresh3):
    """A fresh 3-node cluster: status 0; usage errors 2 and nothing sent
    (the active stays put); failover to an unknown node is refused: 1
    with the agent's reason; a user who may not open the socket gets 3 and
    the reason."""
    t = fresh3
    a, sts, _ = wait_one_active(t, NAMES, 3.0, "first election")
    term = sts[a]["node"]["term"]
    p = ctl(t.socket(a), "status")
    assert p.returncode == 0 and a in p.stdout, p
    check_usage_errors(t.socket(a))
    p = ctl(t.socket(a), "failover", "--to", "n9")
    assert p.returncode == 1 and "n9" in p.stderr and \
        "usage" not in p.stderr, p
    # a user in no group, the socket 0660 (no ctl.viewers): unreachable,
    # and the reason says why
    p = t.ctl_as(a, "maintenance", "on")
    assert p.returncode == 3 and "Permission denied" in p.stderr, p
    b, sts2, _ = wait_one_active(t, NAMES, 3.0, "still")
    assert (b, sts2[b]["node"]["term"]) == (a, term), (a, term, b, sts2[b])


def test_metrics_numbers(fresh3):
    """`vigilctl metrics` on a running cluster: every sample's value is an
    integer or a decimal of at most 9 fraction digits (ns), or 9 significant
    digits: never a 17-digit float such as 0.44547796899999997."""
    t = fresh3
    a, _, _ = wait_one_active(t, NAMES, 3.0, "first election")
    p = ctl(t.socket(a), "metrics")
    assert p.returncode == 0, p
    ok = re.compile(r"^-?\d+(\.\d{0,8}[1-9])?$|^-?\d(\.\d{1,8})?e[+-]\d+$")
    seen = 0
    for line in p.stdout.splitlines():
        if not line or line.startswith("#"):
            continue
        value = line.rsplit(" ", 1)[1]
        assert ok.match(value), line
        seen += "." in value
    # the uptime, the lease, rtts, histogram sums: fractions do occur
    assert seen >= 3, p.stdout
