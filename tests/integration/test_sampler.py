"""The VIP sampler's two-holder verdict, on made-up timelines (no
namespaces): a sweep that read two holders is excused as a read skew only
when the kernel's order of the address events (AddrOrder) proves the old
holder's delete came before the new holder's add, in a plain hand-over
read old-first; every other double stays two holders."""
import vgtopo


class FakeOrder:
    """AddrOrder's events: (monotonic, name, deleted)."""

    def __init__(self, events):
        self.events = events

    proven = vgtopo.AddrOrder.proven


def sampler(sweeps, events):
    s = vgtopo.VipSampler.__new__(vgtopo.VipSampler)
    s.names = ["n1", "n2", "n3"]
    s.vip = "198.18.0.100"
    s.started = 0.0
    s.allowed = []
    s.errors = []
    s.sweeps = [(t, tuple((t + 0.0001 * i + d, t + 0.0001 * i + d + 0.00003,
                           h) for i, (h, d) in enumerate(reads)))
                for t, reads in sweeps]
    s.order = FakeOrder(events)
    return s


X, O = True, False
# n1 holds, a sweep reads n1 (has) then stalls 3 ms before n2 (has), the
# next sweep sees n2 alone
HANDOVER = [
    (1.000, [(X, 0), (O, 0), (O, 0)]),
    (1.001, [(X, 0), (X, 0.003), (O, 0.003)]),
    (1.005, [(O, 0), (X, 0), (O, 0)]),
]


def test_skew_excused_by_kernel_order():
    s = sampler(HANDOVER, [(1.0012, "n1", True), (1.0030, "n2", False)])
    assert s.doubles() == []
    ex = s.excused_doubles()
    assert len(ex) == 1 and ex[0][0][1] == ["n1", "n2"], ex
    assert "deleted n1's address before adding n2's" in ex[0][1]
    assert not any("TWO HOLDERS" in p for p in s.problems(gap_max=1.0))


def test_double_when_kernel_added_first():
    s = sampler(HANDOVER, [(1.0025, "n2", False), (1.0031, "n1", True)])
    assert s.doubles() == [(1.001, ["n1", "n2"])]
    assert s.excused_doubles() == []
    assert any("TWO HOLDERS" in p for p in s.problems(gap_max=1.0))


def test_double_without_events():
    s = sampler(HANDOVER, [])
    assert s.doubles() == [(1.001, ["n1", "n2"])]


def test_double_new_read_first():
    # n2 was read before n1 in the sweep: both held at n1's read
    sw = [(1.000, [(O, 0), (X, 0), (O, 0)]),
          (1.001, [(X, 0), (X, 0.003), (O, 0)]),
          (1.005, [(X, 0), (O, 0), (O, 0)])]
    s = sampler(sw, [(1.0012, "n2", True), (1.0030, "n1", False)])
    assert s.doubles() == [(1.001, ["n1", "n2"])]


def test_double_lasting_two_sweeps():
    sw = HANDOVER[:2] + [(1.004, [(X, 0), (X, 0), (O, 0)])] + HANDOVER[2:]
    s = sampler(sw, [(1.0012, "n1", True), (1.0030, "n2", False)])
    assert [d[0] for d in s.doubles()] == [1.001, 1.004]


def _bench_timeline(sweeps, events):
    """issue9.py's Timeline (the fault schedule's verdict) on the same
    made-up sweeps."""
    import os
    import sys
    bench = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "..", "bench")
    if bench not in sys.path:
        sys.path.append(bench)
    import issue9
    tl = issue9.Timeline(sampler(sweeps, events))
    tl.consume(keep_s=1e9)
    return tl.result()


def test_bench_schedule_same_rule():
    # the bench counts every double sweep and says which ones the kernel's
    # order proves read skews, by the rule above
    r = _bench_timeline(HANDOVER, [(1.0012, "n1", True),
                                   (1.0030, "n2", False)])
    assert r["dbl_sweeps"] == 1 and r["dbl_skews_proven"] == 1, r
    assert r["two_s"] > 0 and r["dbls"][0]["after"] == ["n2"]
    r = _bench_timeline(HANDOVER, [(1.0025, "n2", False),
                                   (1.0031, "n1", True)])
    assert r["dbl_sweeps"] == 1 and r["dbl_skews_proven"] == 0, r
    sw = HANDOVER[:2] + [(1.004, [(X, 0), (X, 0), (O, 0)])] + HANDOVER[2:]
    r = _bench_timeline(sw, [(1.0012, "n1", True), (1.0030, "n2", False)])
    assert r["dbl_sweeps"] == 2 and r["dbl_skews_proven"] == 0, r
