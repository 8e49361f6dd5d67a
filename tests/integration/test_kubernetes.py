"""The fast checks of the container deployment (part of make check; the
image itself is built and run by `make image-check`, test_image.py):
conf/kubernetes's DaemonSet and ConfigMap, and conf/image/build.sh.  No
YAML parser is a dependency of the tests: the manifests are checked line
by line, and the ConfigMap's vigil.conf by vigild -t itself."""
import os
import re
import subprocess

import vgtopo

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
K8S = os.path.join(ROOT, "conf", "kubernetes")


def read(*p):
    with open(os.path.join(ROOT, *p)) as fh:
        return fh.read()


def release():
    return re.match(r"^vigil \(([^)-]+)", read("debian", "changelog")).group(1)


def test_daemonset():
    """hostNetwork; NET_ADMIN and NET_RAW only (all else dropped, not
    privileged); the config from the ConfigMap, the key from the Secret;
    -n from the downward API's spec.nodeName; readiness `vigilctl status`;
    a grace period long enough for a hand-over; the image of this
    release, never pulled from a registry."""
    ds = read("conf", "kubernetes", "vigil-daemonset.yaml")
    cm = read("conf", "kubernetes", "vigil-configmap.yaml")
    assert re.search(r"^kind: DaemonSet$", ds, re.M)
    assert re.search(r"^      hostNetwork: true$", ds, re.M), ds
    caps = re.search(r"capabilities:\s*\n\s*drop: \[(.*)\]\s*\n\s*add: \[(.*)\]",
                     ds)
    assert caps, ds
    assert [c.strip(' "') for c in caps.group(1).split(",")] == ["ALL"]
    assert sorted(c.strip(' "') for c in caps.group(2).split(",")) == [
        "NET_ADMIN", "NET_RAW"]
    assert re.search(r"^\s+privileged: false$", ds, re.M)
    assert re.search(r"^\s+allowPrivilegeEscalation: false$", ds, re.M)
    assert re.search(r'args: \[.*"-n", "\$\(NODE_NAME\)"\]', ds), ds
    assert re.search(r"- name: NODE_NAME\n\s+valueFrom:\n\s+fieldRef:\n"
                     r"\s+fieldPath: spec.nodeName", ds), ds
    assert re.search(r'readinessProbe:\n\s+exec:\n\s+command: \["vigilctl", '
                     r'"status"\]', ds), ds
    grace = int(re.search(r"terminationGracePeriodSeconds: (\d+)",
                          ds).group(1))
    dead = int(re.search(r"dead_time = (\d+);", cm).group(1))
    # a hand-over waits at most 2 dead_time + 1 s (vigilctl(8)); and the
    # keeper's removal after it
    assert grace >= 2 * dead / 1000.0 + 1 + 5, (grace, dead)
    assert re.search(r"image: localhost/vigil:%s$" % re.escape(release()),
                     ds, re.M), ds
    assert re.search(r"imagePullPolicy: (IfNotPresent|Never)$", ds, re.M)
    name = re.search(r"^  name: (\S+)$", cm, re.M).group(1)
    assert re.search(r"configMap:\n\s+name: %s$" % name, ds, re.M), ds
    assert re.search(r"secret:\n\s+secretName: vigil-key$", ds, re.M), ds
    assert "/etc/vigil/vigil.conf" in ds and "/etc/vigil/auth.key" in ds


def test_configmap_config_checks(tmp_path):
    """The ConfigMap's vigil.conf passes vigild -t for each of its nodes
    (the key path pointed at a fresh key: the Secret's, in a pod)."""
    cm = read("conf", "kubernetes", "vigil-configmap.yaml")
    body = cm.split("vigil.conf: |\n", 1)[1]
    conf = "".join(ln[4:] + "\n" for ln in body.splitlines())
    key = tmp_path / "auth.key"
    key.write_bytes(os.urandom(32))
    os.chmod(str(key), 0o600)
    conf, n = re.subn(r'auth_key_file = "[^"]*";',
                      'auth_key_file = "%s";' % key, conf)
    assert n == 1, conf
    path = tmp_path / "vigil.conf"
    path.write_text(conf)
    os.chmod(str(path), 0o600)
    names = re.findall(r'name = "([^"]+)"', conf)
    assert len(names) >= 3, conf
    for node in names:
        p = subprocess.run([vgtopo.VIGILD, "-t", "-n", node, "-f", str(path)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=10)
        assert p.returncode == 0 and "configuration OK" in p.stdout, (
            node, p.stdout, p.stderr)


def test_image_recipe():
    """conf/image/build.sh parses; it builds from Debian packages only (no
    registry: no FROM, no pull), puts tini as PID 1 in front of the
    entrypoint that runs vigild, and removes the key the package's
    postinst generated."""
    path = os.path.join(ROOT, "conf", "image", "build.sh")
    subprocess.run(["sh", "-n", path], check=True, timeout=10)
    s = read("conf", "image", "build.sh")
    assert "mmdebstrap" in s and "podman import" in s
    assert not re.search(r"podman (pull|build)|^FROM ", s, re.M)
    assert ('ENTRYPOINT ["/usr/bin/tini", "--", '
            '"/usr/local/sbin/vigild-entrypoint"]') in s
    assert 'install -D -m 0755 "$VIGIL_ENTRY" ' \
        '"$1/usr/local/sbin/vigild-entrypoint"' in s
    assert 'rm -f "$1/tmp/vigil.deb" "$1/etc/vigil/auth.key"' in s
    mk = read("Makefile")
    check = re.search(r"^check:.*\n((?:\t.*\n)+)", mk, re.M).group(0)
    assert "image" not in check, check


KEEPER_LIKE = r"""#!/bin/sh
# stands in for vigild: it dies at once, leaving a "keeper" that takes
# 0.5 s to finish its work (remove the VIPs, send RELEASE)
( sleep 0.5; echo done > "$1" ) &
exit 9
"""


def test_image_entrypoint_waits_for_the_keeper(tmp_path):
    """conf/image/entrypoint, as PID 1 of a PID namespace of its own (as in
    the container, where tini ends when it does and the kernel then kills
    the rest): when "vigild" dies, it ends only after the keeper it left
    has finished, and with vigild's exit status.  Before, vigild was tini's
    child and a keeper at work was killed with the container."""
    fake = tmp_path / "vigild"
    fake.write_text(KEEPER_LIKE)
    fake.chmod(0o755)
    out = tmp_path / "keeper-done"
    entry = os.path.join(ROOT, "conf", "image", "entrypoint")
    p = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "sh",
                        entry, str(out)], env=dict(os.environ,
                                                  VIGILD=str(fake)),
                       timeout=40)
    assert p.returncode == 9, p
    assert out.exists() and out.read_text() == "done\n", \
        "the entrypoint ended before the keeper did"
