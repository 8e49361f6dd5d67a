"""A script's whole tree goes at its timeout (issue 12, item 12: "a
script's grandchildren escape the timeout"; agent/child.c).

One node (votes 1) in a namespace of its own.  Its first notify script
(script_timeout = 300 ms), and in the second test its first track check
(timeout = 300 ms), starts a grandchild that calls setsid(2) (so it leaves
the script's process group: the group kill at the timeout misses it),
writes its pid to a file and sleeps 60 s, while the script itself hangs in
`sleep 60`.  After the timeout the script and the grandchild must both be
gone within a bound.  Before the fix the grandchild lived on under init
for its 60 s.  Only the processes the test started are killed in its
cleanup, by PID (the grandchild, if it survived).

The third test is about what a notify script sees in a file without
`groups` (issue 15): the implicit group "default" in VIGIL_GROUP, and the
state file where and as it was before groups.
"""
import os
import time

import pytest

import vgtopo
from vgtopo import wait_until

NODE = "n1"

# the first run hangs; later runs (other state changes, later checks)
# end at once.  gc.pid: the grandchild's pid once its setsid is done
HANG = r"""#!/bin/sh
d="%s"
[ -e "$d/ran" ] && exit 0
: > "$d/ran"
echo $$ > "$d/script.pid"
setsid sh -c 'echo $$ > "$1/gc.tmp" && mv "$1/gc.tmp" "$1/gc.pid" &&
    exec sleep 60' sh "$d" &
sleep 60
echo "not killed" > "$d/after"
"""


def sid(pid):
    """The session of pid (field 6 of its stat), or None."""
    try:
        with open("/proc/%d/stat" % pid) as fh:
            st = fh.read()
    except OSError:
        return None
    return int(st[st.rfind(")") + 2:].split()[3])


def read_pid(path):
    with open(path) as fh:
        return int(fh.read().split()[0])


@pytest.fixture
def one_node(tmp_path):
    """make(extra_conf(workdir) -> str): one node with the hanging
    script at <workdir>/hang.sh; returns (t, dir of its files)."""
    made = []

    def make(extra):
        work = tmp_path / "w"
        work.mkdir()
        files = tmp_path / "files"
        files.mkdir()
        path = str(work / "hang.sh")
        with open(path, "w") as fh:
            fh.write(HANG % files)
        os.chmod(path, 0o755)
        topo = vgtopo.Topo(nodes=[vgtopo.Node(NODE, "198.18.0.1", id=1,
                                              priority=100)],
                           state_tmpfs=True, extra_conf=extra(path))
        t = vgtopo.build_topology(topo, tmp_path / "topo")
        made.append((t, str(files)))
        return t, str(files)

    yield make
    errs = []
    for t, files in made:
        # only what this test started, by PID: a grandchild that survived
        p = os.path.join(files, "gc.pid")
        if os.path.exists(p):
            gc = read_pid(p)
            if vgtopo.pid_running(gc, "sleep"):
                os.kill(gc, 9)
        errs += t.teardown()
    assert not errs, errs


def check_tree_gone(t, files, timeout_ms, what):
    gcf = os.path.join(files, "gc.pid")
    ok, _ = wait_until(lambda: os.path.exists(gcf), 5.0, step=0.005)
    assert ok, "the %s did not start its grandchild: %s" % (
        what, vgtopo.log_tail(t.log_path(NODE)))
    t_seen = time.monotonic()
    gc = read_pid(gcf)
    sh = read_pid(os.path.join(files, "script.pid"))
    # it writes its pid, then execs sleep
    ok, _ = wait_until(lambda: vgtopo.pid_running(gc, "sleep"), 1.0,
                       step=0.002)
    assert ok, "the grandchild %d never ran sleep" % gc
    # it left the script's group and session: the group kill misses it
    assert sid(gc) == gc, (gc, sid(gc))
    gone, _ = wait_until(lambda: not vgtopo.pid_running(sh), 3.0,
                         step=0.005)
    assert gone, "the %s %d still runs 3 s after its start" % (what, sh)
    ok, _ = wait_until(lambda: not vgtopo.pid_running(gc, "sleep"), 1.0,
                       step=0.005)
    t_gc = (time.monotonic() - t_seen) * 1000
    assert ok, ("the %s's grandchild %d (setsid) outlived the %d ms "
                "timeout by 1 s" % (what, gc, timeout_ms))
    assert not os.path.exists(os.path.join(files, "after")), \
        "the %s ran to its end" % what
    print("\n%s: the setsid grandchild was gone %.0f ms after it started "
          "(timeout %d ms)" % (what, t_gc, timeout_ms))
    # the agent goes on, its keeper untouched by the sweeps (the one
    # child of the agent that is not a script)
    st = t.status(NODE)
    assert st["node"]["state"] in ("active", "standby", "candidate",
                                   "fault"), st["node"]
    nd = st["node"]
    assert nd["keeper_starts"] == 1 and \
        vgtopo.pid_running(nd["keeper_pid"], vgtopo.KEEPER_COMM), nd


def test_notify_grandchild_killed_at_timeout(one_node):
    """A notify script's setsid'd grandchild is killed with the script at
    script_timeout (SIGTERM to the tree, SIGKILL a second later)."""
    t, files = one_node(lambda path: 'script_timeout = 300;\n'
                        'notify = "%s";\n' % path)
    check_tree_gone(t, files, 300, "notify script")


def test_track_grandchild_killed_at_timeout(one_node):
    """A track check's setsid'd grandchild is killed with the check at its
    timeout (SIGKILL to the tree)."""
    t, files = one_node(lambda path: 'track = ( { name = "hang"; command = '
                        '"%s"; interval = 1000; timeout = 300; weight = 10;'
                        ' } );\n' % path)
    check_tree_gone(t, files, 300, "track check")


# every change: its VIGIL_* environment and a copy of the state file it
# names, under its seq (written, then renamed: whole when seen)
ENV_DUMP = r"""#!/bin/sh
d="%s"
env | grep '^VIGIL_' | sort > "$d/.env.tmp" && mv "$d/.env.tmp" "$d/env.$VIGIL_SEQ"
cp "$VIGIL_STATE_FILE" "$d/.state.tmp" && mv "$d/.state.tmp" "$d/state.$VIGIL_SEQ"
"""


def kv_lines(path):
    out = {}
    with open(path) as fh:
        for line in fh.read().splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.partition("=")
                out[k] = v
    return out


def test_notify_env_without_groups(one_node, tmp_path):
    """A file without `groups`: the one node becomes active; the notify
    script of that change gets VIGIL_GROUP=default, VIGIL_VIPS of the
    config and VIGIL_STATE_FILE = state_file itself (no suffix), and the
    file there has no VIGIL_GROUP line and says that change; no
    state_file.default is made."""
    dump = tmp_path / "dump"
    dump.mkdir()
    script = str(tmp_path / "env.sh")
    with open(script, "w") as fh:
        fh.write(ENV_DUMP % dump)
    os.chmod(script, 0o755)
    t, _ = one_node(lambda path: 'notify = "%s";\n' % script)
    st, _, diff = t.wait_json(NODE, {"node": {"state": "active"}}, 5.0)
    assert diff is None, "%s not active within 5 s: %s" % (NODE, diff)

    def active_dump():
        for f in sorted(os.listdir(dump)):
            if f.startswith("env.") and \
                    kv_lines(dump / f).get("VIGIL_STATE") == "active":
                return f[len("env."):]
        return None
    seq, _ = wait_until(active_dump, 3.0, step=0.02)
    assert seq, "no notify run for the change to active: %s" % (
        os.listdir(dump))
    env = kv_lines(dump / ("env." + seq))
    sf = os.path.join(t.state_base(NODE), "statefile")
    assert env["VIGIL_GROUP"] == "default", env
    assert env["VIGIL_STATE_FILE"] == sf, env
    assert env["VIGIL_VIPS"] == "198.18.0.100/24@eth0", env
    assert env["VIGIL_NODE"] == NODE, env
    ok, _ = wait_until(lambda: os.path.exists(dump / ("state." + seq)), 3.0,
                       step=0.02)
    assert ok, "the script of seq %s did not copy the state file" % seq
    copy = kv_lines(dump / ("state." + seq))
    assert "VIGIL_GROUP" not in copy, copy
    assert int(copy["VIGIL_SEQ"]) >= int(seq), (seq, copy)
    assert copy["VIGIL_VIPS"] == '"198.18.0.100/24@eth0"', copy
    assert not [f for f in os.listdir(t.state_base(NODE))
                if f.startswith("statefile.")], os.listdir(
                    t.state_base(NODE))


# what a script may do: the status lines of its own capability sets
# (a track check gets "track", a notify script the new state)
CAPS_DUMP = r"""#!/bin/sh
case "$1" in track) w=track ;; *) w=notify ;; esac
grep '^Cap' /proc/self/status > "%s/.caps.tmp.$$" &&
    mv "%s/.caps.tmp.$$" "%s/caps.$w"
"""

# CAP_NET_ADMIN 12, CAP_NET_RAW 13, CAP_IPC_LOCK 14, CAP_SYS_NICE 23
KEPT = (1 << 12) | (1 << 13) | (1 << 14) | (1 << 23)


def test_scripts_get_only_the_kept_capabilities(one_node, tmp_path):
    """A notify script and a track check, run as root, have no capability
    beyond the four the agent keeps (vigild(8)), in any of their sets:
    the agent drops the rest once its set-up is done, and a script gets
    its sets from the thread that spawns it (agent/child.c), started
    before that drop.  Before the fix a root script had every
    capability (CapBnd and CapPrm all ones)."""
    dump = tmp_path / "dump"
    dump.mkdir()
    script = str(tmp_path / "caps.sh")
    with open(script, "w") as fh:
        fh.write(CAPS_DUMP % (dump, dump, dump))
    os.chmod(script, 0o755)
    t, _ = one_node(lambda path: 'notify = "%s";\n'
                    'track = ( { name = "caps"; command = "%s track"; '
                    'interval = 1000; timeout = 500; weight = 10; } );\n' % (script, script))
    for what in ("notify", "track"):
        f = dump / ("caps." + what)
        ok, _ = wait_until(lambda: os.path.exists(f), 5.0, step=0.02)
        assert ok, "the %s script never ran: %s" % (
            what, vgtopo.log_tail(t.log_path(NODE)))
        sets = {}
        with open(f) as fh:
            for line in fh:
                k, _, v = line.partition(":")
                sets[k] = int(v.strip(), 16)
        assert set(sets) >= {"CapInh", "CapPrm", "CapEff", "CapBnd"}, sets
        over = {k: hex(v & ~KEPT) for k, v in sets.items() if v & ~KEPT}
        assert not over, "the %s script has capabilities the agent " \
            "dropped: %s" % (what, over)
        # a positive control: root keeps what the agent keeps (uid 0
        # without file capabilities gets its bounding set by exec), at
        # least CAP_NET_ADMIN, without which vigild does not run
        assert sets["CapBnd"] & (1 << 12), (what, hex(sets["CapBnd"]))


def test_state_file_follows_a_reload(one_node, tmp_path):
    """A reload writes the state file again as the new configuration has
    it, and removes one it no longer names (a reviewer's read: after a
    reload that added a VIP the file kept the old VIGIL_VIPS until the
    next change of state, and after one that moved state_file the old
    file went on saying "active" for ever, the new one was never made)."""
    t, _ = one_node(lambda path: "")
    st, _, diff = t.wait_json(NODE, {"node": {"state": "active"}}, 5.0)
    assert diff is None, "%s not active within 5 s: %s" % (NODE, diff)
    sf = os.path.join(t.state_base(NODE), "statefile")
    ok, _ = wait_until(lambda: os.path.exists(sf) and
                       kv_lines(sf).get("VIGIL_STATE") == "active", 3.0,
                       step=0.02)
    assert ok, "no state file saying active at %s" % sf
    assert kv_lines(sf)["VIGIL_VIPS"] == '"198.18.0.100/24@eth0"'
    t.topo.vips = t.topo.vips + [("198.18.0.101/24", "eth0")]
    t.write_config(NODE)
    t.ctl(NODE, "reload")
    want = '"198.18.0.100/24@eth0 198.18.0.101/24@eth0"'
    ok, _ = wait_until(lambda: kv_lines(sf).get("VIGIL_VIPS") == want, 3.0,
                       step=0.02)
    assert ok, "the state file after the reload: %s" % kv_lines(sf)
    assert kv_lines(sf)["VIGIL_STATE"] == "active"
    sf2 = sf + "2"
    text = t.config(NODE)
    assert text.count('/statefile";') == 1, text
    t.write_config(NODE, text.replace('/statefile";', '/statefile2";'))
    t.ctl(NODE, "reload")
    ok, _ = wait_until(lambda: os.path.exists(sf2) and
                       kv_lines(sf2).get("VIGIL_STATE") == "active" and
                       not os.path.exists(sf), 3.0, step=0.02)
    assert ok, "after state_file moved: old %s, new %s" % (
        os.path.exists(sf) and kv_lines(sf),
        os.path.exists(sf2) and kv_lines(sf2))
    assert kv_lines(sf2)["VIGIL_VIPS"] == want
    assert t.status(NODE)["node"]["state"] == "active"
