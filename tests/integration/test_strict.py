"""What vigild reads as configuration or runs as root must be root's alone
(issue 12, items 3, 4 and 10; agent/trust.c): `vigild -t` (and so a
start or a reload) refuses a notify script or a track's program that
another user owns or may write, a configuration file writable by others, a
key file of another user, and a state directory (or state file) under a
directory that others may write without the sticky bit (where they could
plant a link that makes vigild overwrite a root file), or one that is not
there yet in a directory others may write even with it (they could make
it first).  Each refusal names the file and the reason.  Before, all of
these were accepted."""
import os
import stat

import vgtopo
from vgtopo import run

NOBODY = 65534


def write(path, text, mode):
    with open(path, "w") as fh:
        fh.write(text)
    os.chmod(path, mode)


def config(d, extra="", auth='auth = "none";', state=None):
    state = state or os.path.join(d, "state")
    return (
        'cluster = "strict";\ninterval = 100;\n%s\n'
        'state_dir = "%s";\nstate_file = "%s/statefile";\n'
        'ctl = { socket = "%s/vigil.sock"; };\n'
        'nodes = (\n'
        '\t{ id = 1; name = "n1"; address = "198.18.0.1"; },\n'
        '\t{ id = 2; name = "n2"; address = "198.18.0.2"; },\n'
        '\t{ id = 3; name = "n3"; address = "198.18.0.3"; }\n);\n%s'
        % (auth, state, state, d, extra))


def check(path):
    return run([vgtopo.VIGILD, "-t", "-f", path, "-n", "n1"], check=False)


def refused(p, *words):
    assert p.returncode == 1 and "configuration OK" not in p.stdout, (
        p.returncode, p.stdout, p.stderr)
    for w in words:
        assert w in p.stderr, (w, p.stderr)


def test_strict_modes(tmp_path):
    d = str(tmp_path)
    os.chmod(d, 0o700)
    script = os.path.join(d, "notify.sh")
    write(script, "#!/bin/sh\nexit 0\n", 0o755)
    conf = os.path.join(d, "ok.conf")
    write(conf, config(d, 'notify_active = "%s";\n' % script), 0o644)
    p = check(conf)
    assert p.returncode == 0 and p.stdout.strip() == "configuration OK", (
        p.returncode, p.stdout, p.stderr)
    assert 'auth = "none"' in p.stderr, p.stderr     # said, not silent

    # a script another user owns and anyone may write (it ran as root)
    evil = os.path.join(d, "evil.sh")
    write(evil, "#!/bin/sh\nexit 0\n", 0o777)
    os.chown(evil, NOBODY, NOBODY)
    bad = os.path.join(d, "script.conf")
    write(bad, config(d, 'notify_active = "%s";\n' % evil), 0o644)
    refused(check(bad), "notify_active %s is not trusted" % evil,
            "owned by uid %d, not root" % NOBODY)
    os.chown(evil, 0, 0)            # root's now, but still 0777
    refused(check(bad), "%s is writable by group or others (mode 0777)"
            % evil)

    # a track's program of another user
    os.chmod(evil, 0o755)
    os.chown(evil, NOBODY, NOBODY)
    tr = os.path.join(d, "track.conf")
    write(tr, config(d, 'track = ( { name = "t"; command = "%s --x"; '
                        'interval = 1000; } );\n' % evil), 0o644)
    refused(check(tr), "track t: %s is not trusted" % evil)

    # the configuration itself writable by others
    ww = os.path.join(d, "ww.conf")
    write(ww, config(d), 0o666)
    refused(check(ww), "the configuration is not trusted",
            "writable by group or others (mode 0666)")

    # a key file of another user (mode 0600, as the key check wants)
    key = os.path.join(d, "auth.key")
    write(key, "k" * 32, 0o600)
    os.chown(key, NOBODY, NOBODY)
    kc = os.path.join(d, "key.conf")
    write(kc, config(d, auth='auth = "hmac-sha256";\nauth_key_file = '
                     '"%s";' % key), 0o644)
    refused(check(kc), "auth_key_file %s is not trusted" % key)

    # state under a directory anyone may write (not sticky)
    opendir = os.path.join(d, "open")
    os.mkdir(opendir)
    os.chmod(opendir, 0o777)
    sc = os.path.join(d, "state.conf")
    write(sc, config(d, state=os.path.join(opendir, "state")), 0o644)
    refused(check(sc), "state_dir %s/state is not trusted" % opendir,
            "%s is writable by group or others (mode 0777)" % opendir)
    # the same, sticky and root's (as /tmp): refused while the state
    # directory is not there (anyone could make it first: trust.h), and
    # accepted once it is there and root's
    os.chmod(opendir, 0o1777)
    assert stat.S_IMODE(os.stat(opendir).st_mode) == 0o1777
    refused(check(sc), "state_dir %s/state is not trusted" % opendir,
            "%s is writable by group or others (mode 1777), and what is "
            "missing below it anyone could create there" % opendir)
    os.mkdir(os.path.join(opendir, "state"), 0o750)
    p = check(sc)
    assert p.returncode == 0, (p.returncode, p.stderr)
