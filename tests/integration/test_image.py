"""The OCI image (`make image`, conf/image/build.sh) run with podman in the
project's network-namespace topology: one container per node namespace
(--network ns:), NET_ADMIN and NET_RAW only, tini as PID 1 over
conf/image/entrypoint.  It shows an election, a SIGKILL of one vigild
(its keeper, in the same container, removes the VIP and sends RELEASE
before the container ends; another node takes over) and a `podman stop`
hand-over (SIGTERM through tini and the entrypoint: the active hands
over).

Not part of `make check` (building the image fetches packages): run by
`make image-check`, which sets VIGIL_IMAGE; skipped without it (a failure
under CI=true).  The containers' output goes to a file in the node's work
dir (podman's k8s-file log driver), not to the journal."""
import os
import subprocess

import pytest

import vgtopo
from vgtopo import run, wait_one_active, wait_until

NAMES = ("n1", "n2", "n3")
IMAGE = os.environ.get("VIGIL_IMAGE")
# this machine's podman: crun refuses its hybrid cgroups, runc works; the
# default nofile limit is above the hard limit a container here may set
PODMAN = ["podman", "--runtime", os.environ.get("VIGIL_OCI_RUNTIME", "runc")]
LIMITS = ["--ulimit", "nofile=1024:4096", "--ulimit", "nproc=1024:1024"]


def log_to(path):
    """podman options: the container's output to a file of ours (`podman
    logs` reads it), not to the default log driver (journald, say)."""
    return ["--log-driver", "k8s-file", "--log-opt", "path=%s" % path]


def need_image():
    """Without VIGIL_IMAGE the module is skipped, and under CI=true it
    fails instead."""
    if IMAGE:
        return
    msg = "VIGIL_IMAGE not set (make image-check)"
    if os.environ.get("CI") == "true":
        pytest.fail(msg + " (CI=true: not skipping)", pytrace=False)
    pytest.skip(msg, allow_module_level=True)


need_image()


class Pods:
    def __init__(self, t):
        self.t = t
        self.names = {}
        self.runs = 0

    def start(self, n, entry=(), cmd=None):
        """The node's container, vigild as tini's child; or with `entry`
        (podman options: --entrypoint...) and `cmd`, whatever they say."""
        t = self.t
        cname = "%s-%s" % (t.tag, n)
        vols = []
        for d in sorted({t.workdir, t.state_base(n)}):
            vols += ["-v", "%s:%s" % (d, d)]
        run(PODMAN + ["rm", "-f", "--ignore", cname], check=False, timeout=30)
        self.runs += 1
        log = os.path.join(t.dir(n), "container%d.log" % self.runs)
        run(PODMAN + ["run", "-d", "--name", cname,
                      "--network", "ns:/run/netns/%s" % t.ns(n),
                      "--cap-drop", "all", "--cap-add", "NET_ADMIN,NET_RAW",
                      *log_to(log),
                      *LIMITS, *vols, *entry, IMAGE,
                      *(cmd if cmd is not None else
                        ["-f", t.conf_path(n), "-n", n, "-d"])], timeout=60)
        self.names[n] = cname
        st, _ = wait_until(lambda: t.status(n, check=False), 10.0,
                           what="%s ctl socket" % n)
        assert st, self.logs(n)

    def logs(self, n):
        return run(PODMAN + ["logs", "--tail", "30", self.names[n]],
                   check=False, timeout=30).stderr

    def vigild_pid(self, n):
        """vigild's pid inside the container (the child of tini's child,
        conf/image/entrypoint; its keeper's name is vigild-keeper)."""
        p = run(PODMAN + ["exec", self.names[n], "sh", "-c",
                          'for p in /proc/[0-9]*; do [ "$(cat $p/comm)" = '
                          'vigild ] && echo ${p#/proc/}; done'], timeout=30)
        return int(p.stdout.split()[0])

    def rm_all(self):
        for cname in self.names.values():
            run(PODMAN + ["rm", "-f", "-t", "5", cname], check=False,
                timeout=60)


@pytest.fixture
def pods(tmp_path_factory):
    """The 3-node topology built, no vigild on the host: the containers
    are the agents."""
    t = vgtopo.build_topology(vgtopo.three_nodes(),
                              tmp_path_factory.mktemp("img"), start=False)
    p = Pods(t)
    try:
        yield p
    finally:
        p.rm_all()
        errs = t.teardown()
        assert not errs, errs


def holders(t):
    sts = {n: t.status(n, check=False) for n in NAMES}
    return [n for n, s in sts.items() if s and s["node"]["vips_held"]]


def test_image_cluster(pods):
    t = pods.t
    p = run(PODMAN + ["run", "--rm", "--network", "none",
                      *log_to(os.path.join(t.workdir, "version.log")),
                      *LIMITS, IMAGE, "-V"], timeout=60)
    assert p.stdout.startswith("vigild "), p
    for n in NAMES:
        t.check_config(n)
    for n in NAMES:
        pods.start(n)
    a, _, _ = wait_one_active(t, NAMES, 5.0, "election in containers")

    # SIGKILL of the active's vigild: its keeper removes the VIP, another
    # node takes over
    for n in NAMES:
        st = run(PODMAN + ["inspect", "-f", "{{.State.Status}}",
                           pods.names[n]], timeout=30).stdout.strip()
        assert st == "running", (n, st, pods.logs(n))
    pid = pods.vigild_pid(a)
    run(PODMAN + ["exec", pods.names[a], "sh", "-c", "kill -9 %d" % pid],
        timeout=30)
    rest = [n for n in NAMES if n != a]
    b, _, _ = wait_one_active(t, rest, 5.0, "after the SIGKILL of " + a)
    # ... and the keeper finished before the container ended: it removed
    # the VIPs and sent RELEASE (the entrypoint waits for it; tini as
    # vigild's parent ended with it, and the kernel killed the keeper
    # half-way in some runs: two holders until the lifetime ran out)
    done, _ = wait_until(lambda: "RELEASE(" in pods.logs(a) or None, 5.0,
                         step=0.1)
    assert done, pods.logs(a)
    assert "keeper: the agent is gone" in pods.logs(a), pods.logs(a)

    # the killed node's container again (tini left with vigild), so that
    # two nodes remain, a quorum, after the next stop
    pods.start(a)
    b2, _, _ = wait_one_active(t, NAMES, 5.0, "with %s back" % a)
    assert b2 == b, (a, b, b2)
    got, _ = wait_until(lambda: all(
        p["alive"] for p in t.status(b)["peers"]), 5.0, step=0.05)
    assert got, t.status(b)

    # podman stop of the new active: SIGTERM through tini, a hand-over
    c = [n for n in rest if n != b][0]
    run(PODMAN + ["stop", "-t", "10", pods.names[b]], timeout=60)
    got, _ = wait_until(lambda: len(holders(t)) == 1, 5.0, step=0.05)
    assert got and b not in holders(t), (b, holders(t), pods.logs(b))
    logs = pods.logs(b)
    assert "hand" in logs, logs
