"""Events on a standby (issue 13, item 6): a node that is neither the old
nor the new active records that another node became active, so that
`vigilctl events --follow` there sees every failover; and a hand-over's
state change says to whom ("the active handed over to this node", not
"handed over to" and nothing after it)."""
import json

import vgtopo
from vgtopo import run, wait_one_active, wait_until

NAMES = ("n1", "n2", "n3")


def election_texts(t, name, kinds=("election",)):
    ev = json.loads(run([vgtopo.VIGILCTL, "-s", t.socket(name), "events",
                         "--json"], timeout=5).stdout)
    return [e["text"] for e in ev["events"] if e["kind"] in kinds]


def test_standby_records_new_active(fresh3):
    t = fresh3
    a, sts, _ = wait_one_active(t, NAMES, 3.0, "first election")
    term0 = sts[a]["node"]["term"]
    b, c = [n for n in NAMES if n != a]
    # the first active, seen by both standbys
    for n in (b, c):
        texts, _ = wait_until(lambda: [x for x in election_texts(t, n)
                                       if x == "%s is active (term %d)" % (
                                           a, term0)], 2.0, step=0.05)
        assert texts, (n, election_texts(t, n))
    t.ctl(a, "failover", "--to", b, timeout=5.0)
    new, sts2, _ = wait_one_active(t, NAMES, 3.0, "after the hand-over")
    assert new == b, (a, b, new)
    term = sts2[b]["node"]["term"]
    want = "%s is active (term %d)" % (b, term)
    got, _ = wait_until(lambda: want in election_texts(t, c), 2.0, step=0.05)
    assert got, "%s, a standby throughout, has no %r: %s" % (
        c, want, election_texts(t, c)[-5:])
    states = election_texts(t, b, ("election", "state"))
    assert any("the active handed over to this node" in x
               for x in states), states[-5:]
