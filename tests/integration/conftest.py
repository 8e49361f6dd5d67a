"""Fixtures of the vigil integration tests: root and binaries checked once,
leftover namespaces of dead earlier runs removed, a module guard that asserts
nothing of ours is left behind, and the daemons' log tails attached to the
report of every failing test."""
import os

import pytest

import vgtopo


def _need_root():
    if os.geteuid() != 0:
        msg = "needs root for network namespaces"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + " (CI=true: not skipping)", pytrace=False)
        pytest.skip(msg)


@pytest.fixture(scope="session", autouse=True)
def vigil_env():
    _need_root()
    missing = [p for p in (vgtopo.VIGILD, vgtopo.VIGILCTL)
               if not os.access(p, os.X_OK)]
    if missing:
        pytest.fail("not built: %s (run `make` first, or set VIGIL_BUILD)"
                    % ", ".join(missing), pytrace=False)
    removed = vgtopo.cleanup_leftovers()
    if removed:
        print("removed leftover namespaces of earlier runs: %s" % removed)
    yield


@pytest.fixture(scope="module", autouse=True)
def nothing_left_behind(vigil_env):
    """After the module: no namespace with this run's tag remains and every
    vigild this run started has exited (set up before any topology fixture
    of the module, so torn down after all of them)."""
    yield
    errs = []
    for t in list(vgtopo.ACTIVE):
        errs += t.teardown()
    left_ns = [ns for ns in vgtopo.netns_list()
               if ns.startswith(vgtopo.RUN_TAG + "t")]
    running = [p.pid for p in vgtopo.STARTED if p.poll() is None]
    assert not left_ns and not running, (
        "left behind: namespaces %s, running vigild pids %s" % (left_ns,
                                                                running))
    assert not errs, "teardown had to force things: %s" % errs


def make_topology(topo, tmp_path_factory, name):
    t = vgtopo.build_topology(topo, tmp_path_factory.mktemp(name))
    return t


@pytest.fixture(scope="module")
def topo3(tmp_path_factory):
    """The module's shared 3-node cluster (plus host x), for tests that only
    look or whose effects the daemons drop."""
    t = make_topology(vgtopo.three_nodes(), tmp_path_factory, "m3")
    yield t
    errs = t.teardown()
    assert not errs, "teardown of %s: %s" % (t.tag, errs)


@pytest.fixture
def shared3(topo3, request):
    """topo3 for one test; if that test fails (it may have left n1 with a
    forged incarnation, say), every daemon is restarted so that the next
    test starts from a healthy cluster instead of failing in cascade."""
    yield topo3
    rep = getattr(request.node, "rep_call", None)
    if rep is None or rep.failed:
        topo3.restart_all()


@pytest.fixture
def fresh3(tmp_path_factory):
    """A 3-node cluster of its own, for a test that changes state."""
    t = make_topology(vgtopo.three_nodes(), tmp_path_factory, "f3")
    yield t
    errs = t.teardown()
    assert not errs, "teardown of %s: %s" % (t.tag, errs)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
    if rep.failed and call.when in ("setup", "call"):
        for t in list(vgtopo.ACTIVE):
            rep.sections.append(("vigild logs of %s (%s)" % (t.tag, t.workdir),
                                 t.logs()))
