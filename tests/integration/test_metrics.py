"""Metrics (issue 5; docs/vigil.conf.5 "metrics"): the HTTP listener
serving /metrics in the Prometheus text format, driven from the agent's
own loop, and node_exporter's textfile, rewritten atomically.  The same
3-node failover cluster as test_ops (fo3_make: a VIP sampler throughout,
state on tmpfs); the HTTP requests come from the plain host `client`.
"""
import json
import os
import signal
import time

import vgtopo
from vgtopo import parse_prometheus, wait_one_active, wait_until

NAMES = ("n1", "n2", "n3")
ADDR = {"n1": "198.18.0.1", "n2": "198.18.0.2", "n3": "198.18.0.3"}
PORT = 9465
D_MS = 250

# Runs inside the client namespace: GET/POST a URL, print status, type, body.
FETCH = r"""
import json, sys, urllib.error, urllib.request
url, method = sys.argv[1], sys.argv[2]
req = urllib.request.Request(url, method=method,
                             data=b"x" if method == "POST" else None)
try:
    r = urllib.request.urlopen(req, timeout=2)
    print(json.dumps([r.status, r.headers.get("Content-Type"),
                      r.read().decode()]))
except urllib.error.HTTPError as e:
    print(json.dumps([e.code, e.headers.get("Content-Type"),
                      e.read().decode()]))
"""


def textfile(t, name):
    return os.path.join("/dev/shm", t.tag, "%s.prom" % name)


def conf(t, name):
    os.makedirs(os.path.dirname(textfile(t, name)), exist_ok=True)
    return ('metrics = { listen = "%s:%d"; textfile = "%s"; '
            'textfile_interval = 200; };\n' % (ADDR[name], PORT,
                                               textfile(t, name)))


def fetch(t, name, path="/metrics", method="GET"):
    p = t.netns_python("client", "-c", FETCH,
                       "http://%s:%d%s" % (ADDR[name], PORT, path), method)
    assert p.returncode == 0, "fetch from %s: %s" % (name, p.stderr)
    return json.loads(p.stdout)


def test_http_metrics_and_textfile(fo3_make):
    t = fo3_make(conf=conf)
    a, _, _ = wait_one_active(t, NAMES, 3.0, "first election")

    by_node = {}
    for n in NAMES:
        code, ctype, body = fetch(t, n)
        assert code == 200, (n, code, body[:200])
        assert ctype.startswith("text/plain; version=0.0.4"), (n, ctype)
        by_node[n] = parse_prometheus(body)
    actives = [n for n, m in by_node.items()
               if m['vigil_node_state{state="active"}'] == 1]
    assert actives == [a], "HTTP says %s active, status says %s" % (actives, a)
    assert by_node[a]["vigil_vips_held"] == 1
    for n in NAMES:
        m = by_node[n]
        assert sum(v for k, v in m.items()
                   if k.startswith("vigil_node_state{")) == 1, (n, m)
        assert m["vigil_peers_alive"] == 2, (n, m["vigil_peers_alive"])
        assert m["vigil_quorum_votes_needed"] == 2
        assert m["vigil_term"] == by_node[a]["vigil_term"]
        # one configuration: every peer agrees, nothing was ignored
        for p in NAMES:
            if p != n:
                assert m['vigil_peer_config_agrees{peer="%s"}' % p] == 1, (
                    n, p)
        for k in ("vigil_election_echoes_ignored_total",
                  "vigil_election_votes_ignored_total",
                  "vigil_terms_refused_total",
                  'vigil_votes_refused_total{reason="config"}'):
            assert m[k] == 0, (n, k, m[k])
        # the listener and `vigilctl metrics` render the same families
        via_ctl = t.metrics(n)
        assert set(via_ctl) == set(m), (n, set(via_ctl) ^ set(m))

    code, _, body = fetch(t, a, "/nothing")
    assert code == 404 and "/metrics" in body, (code, body)
    code, _, _ = fetch(t, a, "/metrics", "POST")
    assert code == 405, code

    # the textfile: always whole (written atomically), and kept current
    path = textfile(t, a)
    ok, _ = wait_until(lambda: os.path.exists(path), 2.0, step=0.02)
    assert ok, "no textfile at %s" % path
    first = parse_prometheus(open(path).read())
    reads, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < 1.0 and reads < 2000:
        parse_prometheus(open(path).read())     # never a torn file
        reads += 1
        time.sleep(0.002)
    later = parse_prometheus(open(path).read())
    assert later["vigil_uptime_seconds"] > first["vigil_uptime_seconds"], (
        "the textfile was not rewritten in 1 s (textfile_interval 200 ms)")
    left = [f for f in os.listdir(os.path.dirname(path))
            if f.startswith(".") and f.endswith(".tmp")]
    assert not left, "temp files left behind: %s" % left
    print("\nmetrics: HTTP on every node, %d families; textfile read %d "
          "times whole" % (len(by_node[a]), reads))

    # stopped, the agent takes its textfile away (node_exporter would go
    # on reporting it as it was: active)
    t.stop(a)
    assert not os.path.exists(path), "the textfile outlived the agent"
    t.start(a)
    ok, _ = wait_until(lambda: os.path.exists(path), 3.0, step=0.02)
    assert ok, "no textfile at %s after the restart" % path
    a, _, _ = wait_one_active(t, NAMES, 3.0, "after the restart")

    # after a failover the new active's metrics say so
    t.kill(a, signal.SIGKILL)
    rest = [n for n in NAMES if n != a]
    b, _, _ = wait_one_active(t, rest, 3.0, "after the kill")
    m = parse_prometheus(fetch(t, b)[2])
    assert m['vigil_node_state{state="active"}'] == 1
    assert m["vigil_elections_won_total"] >= 1
    assert 0 < m["vigil_last_failover_seconds"] < D_MS / 1000.0, (
        m["vigil_last_failover_seconds"])
    assert m["vigil_term"] > by_node[a]["vigil_term"]
    print("after SIGKILL of %s: %s active, last failover %.1f ms" % (
        a, b, m["vigil_last_failover_seconds"] * 1000))
