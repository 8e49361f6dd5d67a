"""The Debian package (DESIGN.md, Operations; debian/, systemd/, Makefile's
`deb` target): built once per module with `make deb`, extracted with
`dpkg -x` into a temporary root, and checked there: the layout, the
conffile, the md5sums, the man pages, the completion, the example scripts,
sysusers/tmpfiles, that the extracted binaries run, and that
`systemd-analyze verify` accepts the unit once its Exec paths point at the
extracted binaries (MANPATH at the extracted man pages).

The build step is `make deb` and nothing else: its `deps-deb` prerequisite
runs `tests/deps.sh debhelper lintian`, so on a fresh machine a missing
debhelper or lintian is installed by `make deb` itself (as root), and the
package must pass `lintian --fail-on error` there.  It takes ~15-20 s.
"""
import gzip
import hashlib
import os
import re
import shutil
import stat
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEB_DIR = os.path.join(ROOT, "build", "deb")

SBIN = ("usr/sbin/vigild", "usr/bin/vigilctl")
UNIT = "lib/systemd/system/vigild.service"
CONFFILE = "/etc/vigil/vigil.conf"
MANS = ("usr/share/man/man8/vigild.8.gz", "usr/share/man/man8/vigilctl.8.gz",
        "usr/share/man/man5/vigil.conf.5.gz")
COMPLETION = "usr/share/bash-completion/completions/vigilctl"
EXAMPLES = "usr/share/doc/vigil/examples"
SCRIPTS = ("haproxy-switch", "nginx-upstream")
SYSUSERS = "usr/lib/sysusers.d/vigil.conf"
TMPFILES = "usr/lib/tmpfiles.d/vigil.conf"


def sh(cmd, timeout=60, check=True, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError("%s: exit %d\n%s\n%s" % (
            " ".join(cmd), p.returncode, p.stdout[-4000:], p.stderr[-4000:]))
    return p


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    """`make deb` (bounded: 15 min, for apt-get on a fresh machine), then
    the package extracted: {deb, root, control (dpkg-deb -e), version}."""
    # not the flags of a `make integration` around us: a SANITIZE=1 or B=
    # given to it would reach debian/rules' own make through MAKEFLAGS
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES",
                        "SANITIZE", "B", "CFLAGS", "LDFLAGS")}
    p = sh(["make", "--no-print-directory", "-C", ROOT, "deb"], timeout=900,
           check=False, stdin=subprocess.DEVNULL, env=env)
    assert p.returncode == 0, "make deb: exit %d\n%s\n%s" % (
        p.returncode, p.stdout[-6000:], p.stderr[-6000:])
    debs = sorted(f for f in os.listdir(DEB_DIR)
                  if re.match(r"^vigil_[^_]+_[a-z0-9]+\.deb$", f))
    assert len(debs) == 1, "build/deb holds %s" % os.listdir(DEB_DIR)
    path = os.path.join(DEB_DIR, debs[0])
    work = tmp_path_factory.mktemp("deb")
    root = str(work / "root")
    ctrl = str(work / "control")
    os.makedirs(root)
    sh(["dpkg", "-x", path, root])
    sh(["dpkg-deb", "-e", path, ctrl])
    version = sh(["dpkg-deb", "-f", path, "Version"]).stdout.strip()
    yield {"deb": path, "root": root, "control": ctrl, "version": version,
           "work": str(work), "make_out": p.stdout}
    shutil.rmtree(str(work), ignore_errors=True)


def x(deb, rel):
    return os.path.join(deb["root"], rel)


# ---------------------------------------------------------------- cases

def test_make_deb_builds_lintian_clean(deb):
    """`make deb` ran lintian --fail-on error on the package and produced
    exactly one vigil_<version>_<arch>.deb whose control names the package,
    its version (the changelog's) and its dependencies."""
    assert "lintian --fail-on error" in deb["make_out"], deb["make_out"][-2000:]
    f = sh(["dpkg-deb", "-f", deb["deb"], "Package", "Architecture",
            "Depends"]).stdout
    assert re.search(r"^Package: vigil$", f, re.M), f
    dep = re.search(r"^Depends: (.*)$", f, re.M).group(1)
    for lib in ("libconfig9", "libev4", "libjson-c5", "libmnl0",
                "libsodium23", "libsystemd0", "libmicrohttpd12", "adduser"):
        assert lib in dep, "Depends lacks %s: %s" % (lib, dep)
    with open(os.path.join(ROOT, "debian", "changelog")) as fh:
        cl = re.match(r"^vigil \(([^)]+)\)", fh.readline())
    assert cl and cl.group(1) == deb["version"], (cl and cl.group(0),
                                                  deb["version"])


def test_layout(deb):
    """Every file where Debian and the unit expect it, owned by root, with
    the right modes: the binaries and example scripts 0755, the rest 0644;
    nothing under /usr/local, /run or /var."""
    listing = sh(["dpkg-deb", "-c", deb["deb"]]).stdout.splitlines()
    owners = set(line.split()[1] for line in listing)
    assert owners == {"root/root"}, owners
    names = set(line.split()[-1].lstrip(".") for line in listing)
    for bad in ("/usr/local/", "/run/", "/var/"):
        assert not [n for n in names if n.startswith(bad)], (bad, names)
    want = {SBIN[0]: 0o755, SBIN[1]: 0o755, UNIT: 0o644,
            "etc/vigil/vigil.conf": 0o644, COMPLETION: 0o644,
            SYSUSERS: 0o644, TMPFILES: 0o644,
            EXAMPLES + "/vigil.conf": 0o644}
    want.update({m: 0o644 for m in MANS})
    want.update({"%s/scripts/%s" % (EXAMPLES, s): 0o755 for s in SCRIPTS})
    for rel, mode in sorted(want.items()):
        st = os.lstat(x(deb, rel))
        assert stat.S_ISREG(st.st_mode), rel
        assert stat.S_IMODE(st.st_mode) == mode, "%s: mode %o, not %o" % (
            rel, stat.S_IMODE(st.st_mode), mode)
    for rel in SBIN:
        assert os.access(x(deb, rel), os.X_OK), rel
    assert not os.path.exists(x(deb, "etc/vigil/auth.key")), (
        "the package ships a key: every install would share it")
    # the example is the annotated conf/vigil.conf, and so is the conffile
    with open(os.path.join(ROOT, "conf", "vigil.conf"), "rb") as fh:
        src = fh.read()
    for rel in ("etc/vigil/vigil.conf", EXAMPLES + "/vigil.conf"):
        with open(x(deb, rel), "rb") as fh:
            assert fh.read() == src, rel


def test_conffiles(deb):
    """/etc/vigil/vigil.conf is a conffile (dpkg keeps an operator's edits):
    listed by `dpkg-deb -I DEB conffiles` and in control.tar's conffiles,
    and it is the only one."""
    out = sh(["dpkg-deb", "-I", deb["deb"], "conffiles"]).stdout
    assert out.split() == [CONFFILE], out
    with open(os.path.join(deb["control"], "conffiles")) as fh:
        assert fh.read().split() == [CONFFILE]
    assert os.path.isfile(x(deb, CONFFILE.lstrip("/")))


def test_md5sums_match(deb):
    """control.tar's md5sums covers every regular file outside /etc (the
    conffile has its own hash in dpkg's database) and matches each one."""
    sums = {}
    with open(os.path.join(deb["control"], "md5sums")) as fh:
        for line in fh:
            h, name = line.rstrip("\n").split(None, 1)
            sums[name] = h
    files = []
    for d, _, fs in os.walk(deb["root"]):
        for f in fs:
            rel = os.path.relpath(os.path.join(d, f), deb["root"])
            if not rel.startswith("etc/"):
                files.append(rel)
    assert sorted(sums) == sorted(files), (sorted(sums), sorted(files))
    for rel, h in sums.items():
        with open(x(deb, rel), "rb") as fh:
            assert hashlib.md5(fh.read()).hexdigest() == h, rel


def test_man_pages(deb):
    """vigild.8, vigilctl.8 and vigil.conf.5 are gzipped roff with the right
    .TH, and man(1) finds each one with MANPATH at the extracted tree."""
    env = dict(os.environ, MANPATH=x(deb, "usr/share/man"))
    for rel, (name, sec) in zip(MANS, (("vigild", "8"), ("vigilctl", "8"),
                                       ("vigil.conf", "5"))):
        with gzip.open(x(deb, rel), "rt", errors="replace") as fh:
            text = fh.read()
        assert re.search(r'^\.TH "?%s"? "?%s"?' % (re.escape(name.upper()),
                                                   sec), text,
                         re.M | re.I), (rel, text[:300])
        p = sh(["man", "-w", sec, name], env=env, check=False)
        assert p.returncode == 0 and \
            os.path.realpath(p.stdout.strip()) == os.path.realpath(
                x(deb, rel)), (name, p.returncode, p.stdout, p.stderr)


def test_completion_and_scripts(deb):
    """The bash completion parses and registers a completion for vigilctl;
    the example notify scripts are executable and parse (sh -n)."""
    comp = x(deb, COMPLETION)
    sh(["bash", "-n", comp])
    p = sh(["bash", "-c", '. "$0" && complete -p vigilctl', comp])
    assert "vigilctl" in p.stdout and "-F" in p.stdout, p.stdout
    for s in SCRIPTS:
        path = x(deb, "%s/scripts/%s" % (EXAMPLES, s))
        with open(path) as fh:
            first = fh.readline()
        assert first.startswith("#!/bin/sh"), (s, first)
        sh(["sh", "-n", path])


def test_sysusers_tmpfiles(deb):
    """sysusers.d makes the vigil group (vigilctl's operator role, the ctl
    socket's group); tmpfiles.d makes /run/vigil 0755 root:root (the ctl
    socket, the state file) and the unit's RuntimeDirectory agrees, so that
    a non-root operator reaches the socket (systemd makes a RuntimeDirectory
    root:root whatever tmpfiles said: 0750 there locked operators out).
    The example's metrics textfile directory is writable under the unit's
    ProtectSystem=strict."""
    with open(x(deb, SYSUSERS)) as fh:
        su = [ln.split() for ln in fh if ln.strip() and
              not ln.startswith("#")]
    assert ["g", "vigil", "-"] in su, su
    with open(x(deb, TMPFILES)) as fh:
        tf = [ln.split() for ln in fh if ln.strip() and
              not ln.startswith("#")]
    assert ["d", "/run/vigil", "0755", "root", "root", "-"] in tf, tf
    with open(x(deb, UNIT)) as fh:
        unit = fh.read()
    assert re.search(r"^RuntimeDirectory=vigil$", unit, re.M)
    assert re.search(r"^RuntimeDirectoryMode=0755$", unit, re.M)
    assert not re.search(r"^(User|Group)=", unit, re.M), unit
    assert re.search(r"^ProtectSystem=strict$", unit, re.M)
    rw = []
    for line in re.findall(r"^ReadWritePaths=(.*)$", unit, re.M):
        rw += [w.lstrip("-") for w in line.split()]
    with open(x(deb, "etc/vigil/vigil.conf")) as fh:
        tfile = re.search(r'textfile = "([^"]+)";', fh.read()).group(1)
    assert [d for d in rw + ["/var/lib/vigil", "/run/vigil"]
            if tfile.startswith(d.rstrip("/") + "/")], (tfile, rw)


def test_binaries_run(deb):
    """The extracted vigild prints the package's version (-V); every library
    they need resolves; vigilctl without a command is a usage error (2)."""
    p = sh([x(deb, SBIN[0]), "-V"])
    assert p.stdout.strip() == "vigild %s" % deb["version"].split("-")[0], (
        p.stdout, deb["version"])
    for rel in SBIN:
        out = sh(["ldd", x(deb, rel)]).stdout
        assert "not found" not in out, out
    p = sh([x(deb, SBIN[1])], check=False)
    assert p.returncode == 2 and "usage" in p.stderr, (p.returncode,
                                                       p.stderr)


def test_config_check(deb, tmp_path):
    """`vigild -t` on the extracted example: with its key file missing it
    fails as file:line naming auth_key_file; on a copy with auth = "none"
    (the example's nodes: -n alpha) it prints "configuration OK", exit 0."""
    with open(x(deb, "etc/vigil/vigil.conf")) as fh:
        conf = fh.read()
    assert re.search(r'^auth = "hmac-sha256";', conf, re.M), conf[:2000]
    missing = str(tmp_path / "no-such.key")
    nokey = tmp_path / "nokey.conf"
    nokey.write_text(re.sub(r'^auth_key_file = "[^"]*";',
                            'auth_key_file = "%s";' % missing, conf,
                            flags=re.M))
    p = sh([x(deb, SBIN[0]), "-t", "-n", "alpha", "-f", str(nokey)],
           check=False)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert re.search(r"^%s:\d+: auth_key_file %s" % (
        re.escape(str(nokey)), re.escape(missing)), p.stderr, re.M), p.stderr
    assert "configuration OK" not in p.stdout

    none = tmp_path / "none.conf"
    text, n = re.subn(r'^auth = "hmac-sha256";', 'auth = "none";', conf,
                      flags=re.M)
    assert n == 1
    none.write_text(text)
    p = sh([x(deb, SBIN[0]), "-t", "-n", "alpha", "-f", str(none)],
           check=False)
    assert p.returncode == 0 and p.stdout.strip() == "configuration OK", (
        p.returncode, p.stdout, p.stderr)


def _rewritten_unit(deb, dest_dir, manpath=None, exec_root=None):
    """The unit with every Exec*= binary under /usr/sbin pointed into the
    extracted tree (or `exec_root`); written to dest_dir/vigild.service."""
    with open(x(deb, UNIT)) as fh:
        unit = fh.read()
    root = exec_root if exec_root is not None else deb["root"]
    new, n = re.subn(r"^(Exec[A-Za-z]*=[-@:+!]*)/usr/(s?bin)/",
                     r"\g<1>%s/usr/\g<2>/" % root, unit, flags=re.M)
    os.makedirs(dest_dir, exist_ok=True)
    path = os.path.join(dest_dir, "vigild.service")
    with open(path, "w") as fh:
        fh.write(new)
    return path, n, new


def _verify(path, manpath):
    env = dict(os.environ, MANPATH=manpath, SYSTEMD_LOG_LEVEL="info")
    return sh(["systemd-analyze", "verify", path], env=env, check=False,
              timeout=60)


def test_systemd_analyze_verify(deb, tmp_path):
    """`systemd-analyze verify` passes on the extracted unit with its
    ExecStartPre/ExecStart/ExecReload/ExecStopPost pointed at the extracted
    binaries and MANPATH at the extracted man pages (Documentation=man:...
    is checked), with nothing on stderr.  Controls: the same unit with
    MANPATH at an empty directory fails on the man pages, and with the
    binaries pointed at a missing tree fails on the Exec paths."""
    assert shutil.which("systemd-analyze"), "systemd-analyze not installed"
    path, n, text = _rewritten_unit(deb, str(tmp_path / "ok"))
    execs = re.findall(r"^Exec[A-Za-z]*=[-@:+!]*(\S+)", text, re.M)
    assert n == 4 and len(execs) == 4, (n, execs)
    for e in execs:
        assert (e.startswith(deb["root"] + "/usr/sbin/vigild") or
                e == deb["root"] + "/usr/bin/vigilctl") and \
            os.access(e, os.X_OK), e
    assert re.search(r"^Type=notify$", text, re.M)
    assert re.search(r"^WatchdogSec=", text, re.M)
    assert re.search(r"^ExecStart=\S+/usr/sbin/vigild -f %s$"
                     % re.escape(CONFFILE), text, re.M), text
    p = _verify(path, x(deb, "usr/share/man"))
    assert p.returncode == 0 and not p.stderr.strip(), (
        "systemd-analyze verify: exit %d\n%s%s" % (p.returncode, p.stdout,
                                                   p.stderr))

    empty = tmp_path / "noman"
    empty.mkdir()
    p = _verify(path, str(empty))
    assert p.returncode != 0 and "vigild(8)" in p.stderr, (
        "control: verify did not notice missing man pages: exit %d %s"
        % (p.returncode, p.stderr))

    bad, _, _ = _rewritten_unit(deb, str(tmp_path / "bad"),
                                exec_root=str(tmp_path / "missing"))
    p = _verify(bad, x(deb, "usr/share/man"))
    assert p.returncode != 0 and "missing/usr/sbin/vigild" in p.stderr, (
        "control: verify did not notice missing binaries: exit %d %s"
        % (p.returncode, p.stderr))


# ------------------------------------------------ maintainer scripts

FAKE_SYSTEMCTL = """#!/bin/sh
echo "systemctl $*" >> "$FAKE_LOG"
for a in "$@"; do
    case "$a" in
    is-enabled) echo "$FAKE_ENABLED"; [ "$FAKE_ENABLED" = enabled ]; exit;;
    is-active) [ "$FAKE_ACTIVE" = 1 ]; exit;;
    esac
done
exit 0
"""
# the real deb-systemd-invoke (its decisions are under test) with this
# machine's policy-rc.d out of the way (DPKG_ROOT moves only that)
FAKE_INVOKE = """#!/bin/sh
echo "deb-systemd-invoke $*" >> "$FAKE_LOG"
DPKG_ROOT="$FAKE_ROOT" exec perl /usr/bin/deb-systemd-invoke "$@"
"""
FAKE_LOGGER = """#!/bin/sh
echo "$(basename "$0") $*" >> "$FAKE_LOG"
exit 1
"""


def _run_script(deb, tmp, name, args, enabled="disabled", active=0):
    """control.tar's `name` with its absolute paths moved under tmp (so it
    acts on nothing of this machine's) and systemctl, deb-systemd-helper,
    systemd-tmpfiles, addgroup faked (each logs its arguments): returns
    (exit, log lines, stderr)."""
    bindir = tmp / "bin"
    if not bindir.exists():
        bindir.mkdir()
        for n, text in (("systemctl", FAKE_SYSTEMCTL),
                        ("deb-systemd-invoke", FAKE_INVOKE),
                        ("deb-systemd-helper", FAKE_LOGGER),
                        ("systemd-tmpfiles", FAKE_LOGGER),
                        ("addgroup", FAKE_LOGGER),
                        ("getent", "#!/bin/sh\nexit 0\n")):
            (bindir / n).write_text(text)
            os.chmod(str(bindir / n), 0o755)
        for d in ("run/systemd/system", "run/vigil", "etc/vigil",
                  "var/lib/vigil", "fakeroot"):
            (tmp / d).mkdir(parents=True)
    with open(os.path.join(deb["control"], name)) as fh:
        text = fh.read()
    for path in ("/run/systemd/system", "/run/vigil", "/etc/vigil",
                 "/var/lib/vigil"):
        text = text.replace(path, str(tmp) + path)
    script = tmp / ("script-" + name)
    script.write_text(text)
    log = tmp / "log"
    if log.exists():
        log.unlink()
    env = {"PATH": "%s:/usr/sbin:/usr/bin:/sbin:/bin" % bindir,
           "FAKE_LOG": str(log), "FAKE_ENABLED": enabled,
           "FAKE_ACTIVE": str(active), "FAKE_ROOT": str(tmp / "fakeroot")}
    p = sh(["sh", "-e", str(script)] + list(args), env=env, check=False)
    lines = log.read_text().splitlines() if log.exists() else []
    return p.returncode, lines, p.stderr


def test_maintainer_scripts_lifecycle(deb, tmp_path):
    """What dpkg's calls of the package's maintainer scripts make systemd
    do (debian/rules: dh_installsystemd --no-enable, not --no-start), with
    the real deb-systemd-invoke deciding and systemctl faked:
    - a fresh install starts nothing (the unit is disabled) and generates a
      key, saying that every node needs the same one;
    - an upgrade restarts a running unit (disabled or not) and an enabled
      one, never enables it;
    - removal stops the unit; an upgrade's prerm does not;
    - purge removes the key, /var/lib/vigil and /run/vigil."""
    rc, log, err = _run_script(deb, tmp_path, "postinst", ["configure"])
    assert rc == 0, (rc, log, err)
    assert "deb-systemd-invoke start vigild.service" in log, log
    assert not [ln for ln in log if ln.startswith("systemctl") and
                re.search(r"\b(start|restart)\b", ln)], log
    assert not [ln for ln in log if " enable " in ln + " "], log
    assert os.path.getsize(str(tmp_path / "etc/vigil/auth.key")) == 32
    assert "SAME key" in err and "copy" in err, err

    # upgrade, agent running: restarted; the key is kept, nothing said
    key = (tmp_path / "etc/vigil/auth.key").read_bytes()
    rc, log, err = _run_script(deb, tmp_path, "postinst",
                               ["configure", "0.0.9"], active=1)
    assert rc == 0, (rc, log, err)
    assert "deb-systemd-invoke restart vigild.service" in log, log
    assert "systemctl --quiet --system restart vigild.service" in log, log
    assert (tmp_path / "etc/vigil/auth.key").read_bytes() == key
    assert "SAME key" not in err, err
    # upgrade, unit enabled but stopped: started again
    rc, log, _ = _run_script(deb, tmp_path, "postinst",
                             ["configure", "0.0.9"], enabled="enabled")
    assert "systemctl --quiet --system restart vigild.service" in log, log
    # upgrade, disabled and stopped: stays stopped
    rc, log, _ = _run_script(deb, tmp_path, "postinst",
                             ["configure", "0.0.9"])
    assert "deb-systemd-invoke restart vigild.service" in log, log
    assert not [ln for ln in log if "system restart" in ln], log

    rc, log, _ = _run_script(deb, tmp_path, "prerm", ["upgrade", "0.2.0"],
                             active=1)
    assert rc == 0 and not [ln for ln in log if "stop" in ln], log
    rc, log, _ = _run_script(deb, tmp_path, "prerm", ["remove"], active=1)
    assert rc == 0 and "deb-systemd-invoke stop vigild.service" in log, log
    assert [ln for ln in log if ln.startswith("systemctl") and
            "stop" in ln and "vigild.service" in ln], log

    (tmp_path / "run/vigil/state").write_text("x")
    rc, log, _ = _run_script(deb, tmp_path, "postrm", ["purge"])
    assert rc == 0, log
    for gone in ("etc/vigil/auth.key", "run/vigil", "var/lib/vigil"):
        assert not (tmp_path / gone).exists(), gone


def test_docs_installed(deb):
    """The runbook and the Grafana dashboard are in /usr/share/doc/vigil
    (the dashboard uncompressed, importable as it is)."""
    assert os.path.isfile(x(deb, "usr/share/doc/vigil/operations.md.gz")) \
        or os.path.isfile(x(deb, "usr/share/doc/vigil/operations.md"))
    with open(x(deb, "usr/share/doc/vigil/grafana-dashboard.json")) as fh:
        import json
        assert json.load(fh)


def test_make_install_prefix(tmp_path):
    """`make install DESTDIR=... PREFIX=/usr/local`: vigild in
    /usr/local/sbin, vigilctl in /usr/local/bin, and the unit's Exec lines
    name those (the unit of a /usr/local install used to name /usr/sbin)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES",
                        "SANITIZE", "B", "CFLAGS", "LDFLAGS")}
    dest = tmp_path / "dest"
    sh(["make", "--no-print-directory", "-C", ROOT, "install",
        "DESTDIR=%s" % dest, "PREFIX=/usr/local"], timeout=600, env=env,
       stdin=subprocess.DEVNULL)
    for rel in ("usr/local/sbin/vigild", "usr/local/bin/vigilctl"):
        assert os.access(str(dest / rel), os.X_OK), rel
    assert not (dest / "usr/local/sbin/vigilctl").exists()
    unit = (dest / "usr/local/lib/systemd/system/vigild.service").read_text()
    execs = re.findall(r"^(Exec[A-Za-z]*)=[-@:+!]*(\S+)", unit, re.M)
    assert sorted(execs) == sorted([
        ("ExecStartPre", "/usr/local/sbin/vigild"),
        ("ExecStart", "/usr/local/sbin/vigild"),
        ("ExecReload", "/usr/local/bin/vigilctl"),
        ("ExecStopPost", "/usr/local/sbin/vigild")]), execs
    assert "/etc/vigil/vigil.conf" in unit
    for d in ("operations.md", "grafana-dashboard.json"):
        assert (dest / "usr/local/share/doc/vigil" / d).is_file(), d
