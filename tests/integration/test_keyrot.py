"""Key rotation without a gap (issue 14, "Key rotation"): by local reloads,
and by `vigilctl key rotate` (test_key_rotate_command).

A 3-node cluster at h = 50 ms, the VIP watched by a sampler, rotates its
key in the three steps of docs/design.md ("Key rotation without a gap"),
each a round of (write the config, `vigild -t` it, reload each node in
turn):

1. auth_key_next = NEW: every node also accepts the new key;
2. auth_key_file = NEW, auth_key_previous = OLD: every node sends with the
   new key and still accepts the old;
3. auth_key_previous removed: only the new key.

Between two reloads of a round the nodes differ, and every datagram must
still be accepted: no auth drop anywhere, no change of active or term, the
VIP never leaves the active (sampler), the active's keeper handed over in
step 2 only (it signs with the sending key).  The reloads that lag behind
in step 2 show datagrams accepted with the next key (from the nodes already
sending with NEW) and with the previous (from those still sending with
OLD).  After step 3 a node put back on the old key alone is refused: its
datagrams are counted as auth drops by the others, and the active stays.
"""
import json
import os
import time

from vgtopo import wait_one_active, wait_until

NAMES = ("n1", "n2", "n3")
VIP = "198.18.0.100"
SETTLE_S = 0.3              # six heartbeats between two reloads


def write_key(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def rot_config(t, name, cur, nxt=None, prev=None):
    """The node's config with the sending key `cur` and the rotation's."""
    base = 'auth_key_file = "%s";\n' % t.key_file
    text = t.config(name)
    assert base in text
    keys = 'auth_key_file = "%s";\n' % cur
    if nxt:
        keys += 'auth_key_next = "%s";\n' % nxt
    if prev:
        keys += 'auth_key_previous = "%s";\n' % prev
    return text.replace(base, keys)


def auth_drops(sts):
    return {n: s["drops"]["auth"] for n, s in sts.items()}


def keys_of(st):
    return st["auth_keys"]


def test_key_rotation_no_gap(fo3_make):
    t = fo3_make()
    vips = t.vips
    old, new = t.key_file, os.path.join(t.workdir, "new.key")
    write_key(new, os.urandom(32))
    a, sts, _ = wait_one_active(t, NAMES, 3.0, "first election")
    vips.wait_holder(lambda h: h == [a], 1.0, "%s holding the VIP" % a)
    term = sts[a]["node"]["term"]
    kp0 = sts[a]["node"]["keeper_pid"]
    drops0 = auth_drops(sts)
    since = time.monotonic()
    steps = (
        ("1: add next", dict(cur=old, nxt=new)),
        ("2: send with the new, accept the old", dict(cur=new, prev=old)),
        ("3: drop the old", dict(cur=new)),
    )
    keepers = []
    for what, kw in steps:
        for n in NAMES:
            t.write_config(n, rot_config(t, n, **kw))
            t.check_config(n)
            t.ctl(n, "reload")
            time.sleep(SETTLE_S)
        a2, sts, _ = wait_one_active(t, NAMES, 2.0, "after step " + what)
        assert a2 == a, "step %s: the active moved %s -> %s" % (what, a, a2)
        assert sts[a]["node"]["term"] == term, (
            "step %s: a new term %d (was %d)" % (
                what, sts[a]["node"]["term"], term))
        assert auth_drops(sts) == drops0, (
            "step %s: datagrams dropped as 'auth': %s (before %s)" % (
                what, auth_drops(sts), drops0))
        for n in NAMES:
            k = keys_of(sts[n])
            assert k["current"]["configured"], (n, k)
            assert k["next"]["configured"] == ("nxt" in kw), (what, n, k)
            assert k["previous"]["configured"] == ("prev" in kw), (what, n, k)
        rtt = t.ping("client", VIP, 1.0)
        assert rtt is not None, "step %s: the VIP did not answer" % what
        keepers.append(sts[a]["node"]["keeper_pid"])
        if what.startswith("2"):
            # the nodes reloaded after n1 heard it on the next key, and n1
            # heard them on the previous until they reloaded
            for n in NAMES[1:]:
                assert keys_of(sts[n])["next"]["accepted"] > 0, (
                    "%s never accepted a datagram on the next key: %s" % (
                        n, keys_of(sts[n])))
            for n in NAMES[:-1]:
                assert keys_of(sts[n])["previous"]["accepted"] > 0, (
                    "%s never accepted a datagram on the previous key: %s" %
                    (n, keys_of(sts[n])))
            # the same counts in the metrics
            m = t.metrics(NAMES[-1])
            assert m['vigil_auth_accepted_total{key="next"}'] > 0, m
            assert m['vigil_auth_key_configured{key="previous"}'] == 1, m
            assert m['vigil_auth_key_configured{key="next"}'] == 0, m
    # the keeper follows the sending key: handed over in step 2 only
    assert keepers[0] == kp0, ("keeper handed over on adding next",
                               kp0, keepers)
    assert keepers[1] != kp0 and keepers[1] > 0, (
        "keeper not handed over on a new sending key", kp0, keepers)
    assert keepers[2] == keepers[1], ("keeper handed over on dropping "
                                      "previous", kp0, keepers)
    vips.assert_stayed([a], since, what="the VIP during the rotation")

    # a node back on the old key alone: refused by the others
    late = [n for n in NAMES if n != a][-1]
    rest = [n for n in NAMES if n != late]
    before = {n: t.status(n)["drops"]["auth"] for n in rest}
    t.write_config(late, rot_config(t, late, cur=old))
    t.ctl(late, "reload")

    def refused():
        now = {n: t.status(n)["drops"]["auth"] for n in rest}
        return now if all(now[n] >= before[n] + 5 for n in rest) else None
    got, _ = wait_until(refused, 2.0, what="auth drops of %s's datagrams"
                        % late)
    assert got, before
    sts = {n: t.status(n) for n in NAMES}
    assert sts[a]["node"]["state"] == "active", sts[a]["node"]
    assert sts[a]["node"]["term"] == term, sts[a]["node"]
    assert sts[late]["node"]["state"] != "active", sts[late]["node"]
    for n in rest:
        src = [s for s in sts[n]["drop_sources"]
               if s.get("last") == "auth"]
        assert src, "%s: no source dropped for auth: %s" % (
            n, sts[n]["drop_sources"])
    vips.assert_stayed([a], since, what="the VIP after the old-key node")
    print("key rotation: 3 steps x 3 reloads, active %s kept term %d, "
          "keeper %d -> %d; %s on the old key: auth drops %s -> %s"
          % (a, term, kp0, keepers[1], late, before, got))


def test_key_rotate_command(fo3_make):
    """`vigilctl key rotate NEW` on a standby runs the three steps as
    pushes, each after every node confirmed the one before: every node
    ends sending with NEW, with no other key, its installed
    file saying so; no auth drop anywhere, no change of active or term,
    the VIP never leaves the active, the keeper handed over once.  The
    events audit each step.  A rotation to the key already in use changes
    nothing but the epoch (each node's rule).  A key file that is not there
    is refused by vigilctl, one readable by others by the node asked at
    step 1, and so is a file on disk that is not the running one; nothing
    changes."""
    t = fo3_make()
    vips = t.vips
    new = os.path.join(t.workdir, "rotated.key")
    write_key(new, os.urandom(32))
    a, sts, _ = wait_one_active(t, NAMES, 3.0, "first election")
    vips.wait_holder(lambda h: h == [a], 1.0, "%s holding the VIP" % a)
    term = sts[a]["node"]["term"]
    kp0 = sts[a]["node"]["keeper_pid"]
    drops0 = auth_drops(sts)
    since = time.monotonic()
    via = [n for n in NAMES if n != a][0]

    missing = os.path.join(t.workdir, "missing.key")
    p = t.ctl(via, "--json", "key", "rotate", t.key_file, check=False)
    # the key every node sends with already: three steps that change
    # nothing but the epoch (each node's rule)
    assert p.returncode == 0, p
    assert all(t.status(n)["cluster"]["epoch"] == 3 for n in NAMES)

    t0 = time.monotonic()
    p = t.ctl(via, "key", "rotate", new, "--json", check=False, timeout=60)
    took = time.monotonic() - t0
    r = json.loads(p.stdout) if p.stdout.strip() else None
    assert p.returncode == 0 and r and r["ok"], (p, r)
    assert r["epoch"] == 6 and r["step"] == 3, r
    assert "every node sends with %s" % new in r["message"], r
    got, _ = wait_until(lambda: (lambda s: s if all(
        x["cluster"]["epoch"] == 6 for x in s.values()) else None)(
        {n: t.status(n) for n in NAMES}), 2.0)
    assert got, {n: t.status(n)["cluster"]["epoch"] for n in NAMES}
    for n in NAMES:
        k = keys_of(got[n])
        assert k["current"]["configured"] and \
            not k["next"]["configured"] and \
            not k["previous"]["configured"], (n, k)
        text = open(t.conf_path(n)).read()
        assert 'auth_key_file = "%s";' % new in text, (n, text)
        assert "auth_key_previous" not in text.split(
            "kept by config push")[-1].replace(
            "# the key", ""), (n, text)
        t.check_config(n)
    _, sts2, _ = wait_one_active(t, NAMES, 2.0, "after the rotation")
    assert sts2[a]["node"]["state"] == "active"
    assert sts2[a]["node"]["term"] == term
    assert auth_drops(sts2) == drops0, (auth_drops(sts2), drops0)
    assert sts2[a]["node"]["keeper_pid"] != kp0
    vips.assert_stayed([a], since, what="the VIP during key rotate")
    ev = [e["text"] for e in t.events(via) if "key rotated" in e["text"]]
    assert ev, t.events(via)[-10:]
    steps = [e["text"] for e in t.events(via) if "a key step" in e["text"]]
    assert len(steps) == 6, steps       # two rotations of three steps

    # a key that is not on the node asked: refused at step 1
    p = t.ctl(via, "key", "rotate", missing, check=False)
    assert p.returncode == 2, p         # vigilctl's realpath: no such file
    write_key(missing, os.urandom(32))
    os.chmod(missing, 0o644)            # readable by others: vigild -t no
    p = t.ctl(via, "key", "rotate", missing, "--json", check=False,
              timeout=30)
    r = json.loads(p.stdout) if p.stdout.strip() else None
    assert p.returncode == 1 and r and not r["ok"], (p, r)
    assert "missing.key" in r["error"], r
    assert all(t.status(n)["cluster"]["epoch"] == 6 for n in NAMES)

    # the file on disk edited, not reloaded: not what runs, refused
    os.chmod(missing, 0o600)
    conf = open(t.conf_path(via)).read()
    t.write_config(via, conf + "# edited, not reloaded\n")
    p = t.ctl(via, "key", "rotate", missing, "--json", check=False,
              timeout=30)
    r = json.loads(p.stdout) if p.stdout.strip() else None
    assert p.returncode == 1 and "is not the file this node runs" in \
        r["error"], (p, r)
    assert all(t.status(n)["cluster"]["epoch"] == 6 for n in NAMES)
    print("key rotate: 3 steps in %.0f ms, active %s kept term %d, keeper "
          "%d -> %d" % (took * 1000, a, term, kp0,
                        sts2[a]["node"]["keeper_pid"]))
