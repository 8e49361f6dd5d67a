"""A package upgrade by dpkg itself (issue 13: "a rebuilt .deb with a higher
version: the running service is restarted and keeps its VIPs' cluster
state"), closer than test_package's run of the maintainer scripts with
systemctl faked: the image of `make image` has vigil installed by dpkg and
dpkg, deb-systemd-invoke and perl in it.  Each node's container (one per
node namespace, as test_image.py) runs vigild under a stand-in for systemd:
/run/systemd/system exists, and a `systemctl` script starts, stops (SIGTERM,
then waits for vigild and its keeper to exit, as systemd waits for the
unit's cgroup) and restarts vigild, the unit disabled as the package leaves
it.  The test repacks the built .deb with a higher version and runs the real
`dpkg -i` in a standby's container, then in the active's: the package's
prerm and postinst and the real deb-systemd-invoke restart the running
service; the new vigild runs the new binary; the cluster keeps its state:
the standby's upgrade moves nothing (same active, same term, the VIP stays
on it), the active's hands the VIP over once, strictly after (a VipSampler
from before the first start to after the last stop: never two holders), and
the upgraded node rejoins as a standby.

Not part of `make check` (it needs the image): run by `make image-check`;
skipped without VIGIL_IMAGE (a failure under CI=true)."""
import os
import re
import time

import pytest

import vgtopo
from conftest import VIP, finish_made
from test_image import PODMAN, Pods, need_image
from vgtopo import run, wait_one_active, wait_until

NAMES = ("n1", "n2", "n3")
HERE = os.path.dirname(os.path.abspath(__file__))
DEB_DIR = os.path.join(os.path.dirname(os.path.dirname(HERE)), "build", "deb")
STEADY_S = 0.4

need_image()

# systemd's part in the container: one unit, vigild.service; vigild started
# detached (tini, PID 1, reaps it), its stderr to the node's log
SYSTEMCTL = r"""#!/bin/sh
echo "systemctl $*" >> "$VG_SLOG"
pidf=/run/vigild.pid
running() {
    [ -s $pidf ] && [ -r /proc/$(cat $pidf)/status ] &&
        ! grep -q '^State:.*zombie' /proc/$(cat $pidf)/status
}
unit_left() {
    for s in /proc/[0-9]*/status; do
        grep -qE '^Name:[[:space:]]+vigild(-keeper)?$' $s 2>/dev/null &&
            ! grep -q '^State:.*zombie' $s 2>/dev/null && return 0
    done
    return 1
}
start() {
    setsid /usr/sbin/vigild $VG_ARGS >> "$VG_VLOG" 2>&1 < /dev/null &
    echo $! > $pidf
}
stop() {
    running && kill -TERM "$(cat $pidf)"
    i=0
    while unit_left && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    ! unit_left
}
for a in "$@"; do
    case "$a" in
    is-enabled) echo disabled; exit 1;;
    is-active) running; exit;;
    start) running || start; exit;;
    stop) stop; exit;;
    restart) stop && start; exit;;
    esac
done
exit 0
"""
INIT = """#!/bin/sh
mkdir -p /run/systemd/system
systemctl start vigild.service
trap 'systemctl stop vigild.service; exit 0' TERM INT
sleep 900 & wait $!
"""


@pytest.fixture
def upods(tmp_path_factory):
    """The failover topology (client, VIP), a VipSampler on the VIP, no
    vigild on the host; at the end every container stopped (SIGTERM through
    tini: `systemctl stop`, a hand-over) while the sampler still watches,
    then its verdict (conftest's finish_made)."""
    t = vgtopo.build_topology(vgtopo.failover_nodes(),
                              tmp_path_factory.mktemp("upg"), start=False)
    t.direct_ctl = True
    pods = Pods(t)
    try:
        t.vips = t.watch(VIP)
        yield t, pods
    finally:
        for cname in pods.names.values():
            run(PODMAN + ["stop", "-t", "10", cname], check=False,
                timeout=60)
        pods.rm_all()
        finish_made([t])


def bumped_deb(workdir):
    """The built .deb repacked with a higher version (+up1): (path, old
    version, new version)."""
    debs = sorted(f for f in os.listdir(DEB_DIR)
                  if re.match(r"^vigil_[^_]+_[a-z0-9]+\.deb$", f))
    assert debs, "no vigil .deb in %s (make deb)" % DEB_DIR
    tree = os.path.join(workdir, "pkg")
    run(["dpkg-deb", "-R", os.path.join(DEB_DIR, debs[-1]), tree])
    ctl = os.path.join(tree, "DEBIAN", "control")
    with open(ctl) as fh:
        text = fh.read()
    old = re.search(r"^Version: (\S+)$", text, re.M).group(1)
    new = old + "+up1"
    with open(ctl, "w") as fh:
        fh.write(text.replace("Version: " + old, "Version: " + new, 1))
    out = os.path.join(workdir, "vigil_%s.deb" % new)
    run(["dpkg-deb", "--root-owner-group", "-b", tree, out], timeout=60)
    return out, old, new


def in_pod(pods, n, *cmd, check=True):
    return run(PODMAN + ["exec", pods.names[n], *cmd], check=check,
               timeout=120)


def test_dpkg_upgrade_restarts_and_keeps_cluster(upods):
    t, pods = upods
    vips = t.vips
    bindir = os.path.join(t.workdir, "bin")
    os.makedirs(bindir)
    for name, text in (("systemctl", SYSTEMCTL), ("init", INIT)):
        with open(os.path.join(bindir, name), "w") as fh:
            fh.write(text)
        os.chmod(os.path.join(bindir, name), 0o755)
    slog = {n: os.path.join(t.dir(n), "systemctl.log") for n in NAMES}
    for n in NAMES:
        t.check_config(n)
    for n in NAMES:
        pods.start(n, entry=[
            "--entrypoint", "/usr/bin/tini",
            "-e", "PATH=%s:/usr/sbin:/usr/bin:/sbin:/bin" % bindir,
            "-e", "VG_ARGS=-f %s -n %s -d" % (t.conf_path(n), n),
            "-e", "VG_VLOG=%s" % t.log_path(n), "-e", "VG_SLOG=%s" % slog[n]],
            cmd=["--", "/bin/sh", os.path.join(bindir, "init")])
    a, sts, _ = wait_one_active(t, NAMES, 5.0, "election in containers")
    vips.wait_holder(lambda h: h == [a], 1.0, "%s holding the VIP" % a)
    deb, v1, v2 = bumped_deb(t.workdir)
    have = in_pod(pods, a, "dpkg-query", "-W", "-f", "${Version}",
                  "vigil").stdout
    assert run(["dpkg", "--compare-versions", v2, "gt", have],
               check=False).returncode == 0, (v2, have)
    wait_until(lambda: False, STEADY_S, step=0.05)      # a bounded pause
    figs = []
    standby = [n for n in NAMES if n != a][0]
    for n in (standby, a):
        _, sts0, _ = wait_one_active(t, NAMES, 2.0, "before %s's upgrade" % n)
        act0 = [m for m in NAMES if sts0[m]["node"]["state"] == "active"][0]
        term0 = sts0[act0]["node"]["term"]
        pid0 = in_pod(pods, n, "cat", "/run/vigild.pid").stdout.strip()
        with open(slog[n], "w"):
            pass
        t0 = time.monotonic()
        p = in_pod(pods, n, "dpkg", "-i", deb, check=False)
        el = time.monotonic() - t0
        assert p.returncode == 0, "dpkg -i on %s: exit %d\n%s%s" % (
            n, p.returncode, p.stdout, p.stderr)
        with open(slog[n]) as fh:
            calls = fh.read().splitlines()
        assert "systemctl --quiet --system restart vigild.service" in calls, (
            "dpkg's upgrade on %s did not restart the running, disabled "
            "unit: %s" % (n, calls))
        assert not [c for c in calls if " enable" in c], calls
        pid1 = in_pod(pods, n, "cat", "/run/vigild.pid").stdout.strip()
        exe = in_pod(pods, n, "readlink", "/proc/%s/exe" % pid1).stdout
        assert pid1 != pid0 and exe.strip() == "/usr/sbin/vigild", (
            "%s: vigild pid %s -> %s, running %r" % (n, pid0, pid1, exe))
        got = in_pod(pods, n, "dpkg-query", "-W", "-f", "${Version}",
                     "vigil").stdout
        assert got == v2, (n, got, v2)
        b, sts1, _ = wait_one_active(t, NAMES, 5.0, "after %s's upgrade" % n)
        if n != act0:
            assert b == act0 and sts1[b]["node"]["term"] == term0, (
                "upgrading the standby %s moved the cluster: %s term %d -> "
                "%s term %d" % (n, act0, term0, b, sts1[b]["node"]["term"]))
            vips.assert_stayed([act0], t0, what="the VIP during %s's upgrade"
                               % n)
            figs.append("standby %s: restarted (pid %s -> %s), %s kept the "
                        "VIP in term %d" % (n, pid0, pid1, act0, term0))
        else:
            assert b != n and sts1[b]["node"]["term"] > term0, (
                n, b, term0, sts1[b]["node"])
            ho = vips.assert_moved(n, b, t0, "upgrade of the active %s" % n)
            assert sts1[n]["node"]["state"] == "standby", sts1[n]["node"]
            figs.append("active %s: restarted (pid %s -> %s), handed over to "
                        "%s (hole %.2f..%.2f ms), back as standby of term %d"
                        % (n, pid0, pid1, b, ho["hole_min_ms"],
                           ho["hole_max_ms"], sts1[b]["node"]["term"]))
        figs[-1] += ", dpkg -i took %.1f s" % el
    assert not vips.doubles(), vips.doubles()[:3]
    print("dpkg upgrade %s -> %s in the image: %s" % (v1, v2, "; ".join(figs)))
