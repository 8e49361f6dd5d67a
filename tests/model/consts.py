#!/usr/bin/python3
"""Read the timing relations the models rest on from the C sources, check
them, and write the model's constants.

Usage: consts.py SRCDIR OUT.pml [safety|liveness]
  safety (the default): consts.pml for election.pml (HOLD_EXTRA: how many
      ticks of m = h/4 an active's hold may outlast a voter's rule-(1)
      wait; 0 for the code as built).
  liveness: lconsts.pml for liveness.pml (the election's timers in ticks
      of m = h/4 at the default h, D and rho of conf.h).
Fails (exit 1) if a relation is not found in the form the model assumes,
so that a change in the code that is not made in the model fails
`make check`.
"""
import math
import re
import sys

src, out = sys.argv[1], sys.argv[2]
mode = sys.argv[3] if len(sys.argv) > 3 else "safety"
if mode not in ("safety", "liveness"):
    sys.exit(f"consts.py: unknown mode {mode} (safety or liveness)")
model = "election.pml" if mode == "safety" else "liveness.pml"


def read(name):
    with open(f"{src}/{name}") as f:
        return f.read()


def need(text, pattern, what):
    m = re.search(pattern, text, re.S)
    if not m:
        sys.exit(f"consts.py: {what}: not found as the model assumes "
                 f"(/{pattern}/); update tests/model/{model} and "
                 f"consts.py with the code")
    return m


conf_c, keeper_c, elect_c = read("conf.c"), read("keeper.c"), read("election.c")


def liveness():
    """lconsts.pml: the timers of candidacy_at, the rounds, the back-off,
    rules (1) and (3) as liveness.pml assumes them, in ticks of m = h/K at
    conf.h's default D = F*h and rho."""
    conf_h, vigild_c = read("conf.h"), read("vigild.c")
    k = int(need(elect_c, r"el->margin = c->interval / ([0-9]+);",
                 "the tick m = h/K").group(1))
    dfac = int(need(conf_h, r"#define VG_DEFAULT_DEAD_FACTOR\s+([0-9]+)",
                    "the default dead_time").group(1))
    rho = float(need(conf_h, r"#define VG_DEFAULT_MAX_DRIFT\s+([0-9.]+)",
                     "the default max_drift").group(1))
    need(conf_c, r"c->dead_time = VG_DEFAULT_DEAD_FACTOR \* c->interval;",
         "dead_time = F*h by default")
    # the candidacy (candidacy_at, voters_quiet, rank)
    need(elect_c, r"vg_ns wait = \(vg_ns\)\(\(double\)el->dead \* \(1 \+ el->rho\) /"
         r"\s*\(1 - el->rho\)\), back, b;\s*"
         r"unsigned r = rank\(el, now, 0\), rb = rank\(el, now, 1\);\s*int noq = 0;",
         "the candidate's wait")
    need(elect_c, r"t = voters_quiet\(el, now, wait\) \+ wait \+ el->rtt_worst \+"
         r"\s*\(vg_ns\)r \* el->h;", "the candidacy after quiet")
    need(elect_c, r"back = el->back_at \+ el->h \+ el->rtt_worst \+ \(vg_ns\)rb \* el->h;"
         r"\s*if \(t < back\) \{\s*t = back;\s*r = rb;\s*noq = 1;\s*\}",
         "the listen after no-quorum, and rank*h with the nodes in no-quorum")
    # not in the model: the wait after a better node's own return
    # (better_back), a delay of at most D (liveness.pml's header says so)
    need(elect_c, r"b = better_back\(el, now, noq, r\);\s*if \(b > t\)\s*"
         r"t = b - t < el->dead \? b : t \+ el->dead;",
         "better_back: at most D later")
    need(elect_c, r"t = el->released_at \+ half_rtt \+ \(vg_ns\)rank\(el, now, 0\) \* el->h;",
         "the candidacy after a RELEASE")
    need(elect_c, r"half_rtt = el->rtt_typ < el->rtt_worst / 2 \? el->rtt_typ :"
         r"\s*el->rtt_worst / 2;", "the wait w after a RELEASE")
    need(elect_c, r"return t > el->backoff_until \? t : el->backoff_until;",
         "the back-off bounds the candidacy")
    vq = int(need(elect_c, r"return t - el->quiet_since < ([0-9]+) \* wait \? t : "
                  r"el->quiet_since \+ \1 \* wait;", "voters_quiet's cap").group(1))
    need(elect_c, r"x->up_at > t\)\s*t = x->up_at;", "voters_quiet: a voter's up_at")
    need(elect_c, r"return !n->self && n->role == VG_ROLE_NODE && heard_agreeing\(el, n, now\);",
         "peer_node_heard: another node, heard within D")
    need(elect_c, r"return peer_node_heard\(el, x, now\) && \(x->state == VG_ST_STANDBY \|\|\s*"
         r"x->state == VG_ST_CANDIDATE \|\|\s*\(noq && x->state == VG_ST_NO_QUORUM\)\);",
         "rank_peer: heard, a standby or candidate; with noq, in no-quorum too")
    need(elect_c, r"if \(!rank_peer\(el, x, now, noq\)\)"
         r"\s*return 0;\s*if \(x->released_at >= 0 && now - x->released_at < el->dead\)"
         r"\s*return 0;", "rank: rank_peer, not released within D")
    need(elect_c, r"r \+= \(unsigned\)ahead\(el, &el->nodes\[i\], now, noq\);",
         "rank counts the better nodes ahead")
    need(elect_c, r"return n->self \|\| \(n->heard && now - n->last_heard < el->dead\);",
         "heard within D")
    # rounds, back-off, the deferral after a pre-vote
    # a round's length: R*h + rtt_worst, rtt_worst at least min(h/8, 1 ms)
    # (round_len); the model's rtt_worst, 2*DELTA (a hop >= 25 ms), is
    # above that floor, so its rounds are R*h + rtt_worst
    rl = need(elect_c, r"round_len\(const struct vg_election \*el\)\s*\{\s*"
              r"vg_ns least = el->h / 8 < VG_XFER_GRACE \? el->h / 8 : VG_XFER_GRACE;"
              r"\s*return ([0-9]+) \* el->h \+ \(el->rtt_worst > least \? "
              r"el->rtt_worst : least\);", "a round's length").group(1)
    if len(re.findall(r"el->round_end = now \+ round_len\(el\);", elect_c)) != 2:
        sys.exit("consts.py: the pre-vote and the real round should both end "
                 "at now + round_len(el); update tests/model/liveness.pml")
    bo = int(need(elect_c, r"el->backoff_until = now \+ \(vg_ns\)\(rnd\(el\) % "
                  r"\(uint64_t\)\(([0-9]+) \* el->h \+ 1\)\);", "the back-off").group(1))
    need(elect_c, r"defer_candidacy\(struct vg_election \*el, vg_ns now\)\s*\{"
         r"\s*vg_ns t = now \+ round_len\(el\);", "the deferral after a pre-vote")
    de = int(rl)
    need(elect_c, r"el->prevote = 1;", "a pre-vote round first")
    need(elect_c, r"el->backoff_until = 0;\s*/\* answer at once", "follow() ends a back-off")
    # the voter: rules (1) and (3)
    need(elect_c, r"if \(!lifted && now - el->quiet_since < el->dead\)\s*"
         r"return VG_REFUSE_RECENT;", "rule (1)")
    r3 = int(need(elect_c, r"if \(!lifted && now - el->last_active_hb < ([0-9]+) \* el->dead\)",
                  "rule (3)'s window").group(1))
    need(elect_c, r"lifted = el->released && m->term > el->term;", "a RELEASE lifts (1), (3)")
    # heartbeats: every peer, every h, the first at once
    need(elect_c, r"vg_el_hb_due\(const struct vg_election \*el, uint16_t target\)"
         r"\s*\{.*?return 1;\s*\}", "a heartbeat to every peer every round")
    need(vigild_c, r"a->next_hb = vg_now\(\);", "the first heartbeat at the start")
    need(elect_c, r"el->state = VG_ST_NO_QUORUM;\s*/\* a freshly started node counts its "
         r"start as \"heard\" \*/\s*el->quiet_since = now;", "a start: no-quorum, quiet")
    dead = dfac * k
    # the wait in ticks: the first whole tick at or after D(1+rho)/(1-rho)
    wait = math.ceil(dead * (1 + rho) / (1 - rho) - 1e-9)
    with open(out, "w") as f:
        f.write(f"""/* generated by tests/model/consts.py from agent/election.c, conf.c,
 * conf.h, vigild.c: do not edit.  One tick is m = h/{k}; D = {dfac}h, rho = {rho:g}
 * (the defaults). */
#define H\t\t{k}\t/* h */
#define DEAD\t\t{dead}\t/* D */
#define WAIT\t\t{wait}\t/* D(1+rho)/(1-rho) = {dead * (1 + rho) / (1 - rho):.3f}, to the next tick */
#define ROUND_H\t\t{rl}\t/* a round: {rl}h + rtt_worst */
#define BACKOFF_H\t{bo}\t/* a failed round's back-off: 0..{bo}h */
#define DEFER_H\t\t{de}\t/* after granting a pre-vote: {de}h + rtt_worst */
#define RULE3\t\t{r3 * dead}\t/* rule (3) within {r3}D of an active's heartbeat */
#define VQ_WAITS\t{vq}\t/* voters_quiet: at most {vq} waits after quiet_since */
""")
    print(f"lconsts: h = {k} ticks, D = {dead}, wait = {wait}, round {rl}h, "
          f"back-off 0..{bo}h, deferral {de}h, rule (3) {r3}D")


if mode == "liveness":
    liveness()
    sys.exit(0)

# L = D(1-rho)/(1+rho) - h/K, floored (conf.c vg_conf_lease)
m = need(conf_c, r"vg_conf_lease\(vg_ns interval, vg_ns dead_time, double rho\)"
         r"\s*\{\s*double l = \(double\)dead_time \* \(1\.0 - rho\) / "
         r"\(1\.0 \+ rho\) -\s*\(double\)interval / ([0-9.]+);\s*"
         r"return \(vg_ns\)floor\(l\);", "the lease formula")
lease_div = float(m.group(1))
# m = h/K in the keeper (vg_ktime_init) and in the election
m1 = need(keeper_c, r"vg_ktime_init\(&k->g\[g\]\.kt, c->interval / ([0-9]+),",
          "the keeper's margin (each group's)")
m2 = need(elect_c, r"el->margin = c->interval / ([0-9]+);",
          "the election's margin")
margin_div = float(m1.group(1))
if float(m2.group(1)) != margin_div:
    sys.exit("consts.py: keeper and election disagree on the margin")
# the keeper admits an add only while now + add + del + m <= deadline
need(keeper_c, r"return now \+ kt->add \+ kt->del \+ kt->margin <= deadline;",
     "the keeper's admission rule")
# with VIP groups, for every group held (vg_ktime_admit): the same rule
need(keeper_c, r"if \(now \+ add \+ kt\[h\]\.margin > start\[h\]\)",
     "the keeper's admission rule over every group")
need(keeper_c, r"start\[best\] = vg_ktime_remove_at\(&kt\[best\], finish\);",
     "the keeper's removal schedule over every group")
need(keeper_c, r"return deadline - kt->del;", "the keeper's removal time")
# the lease runs from t_q: deadline = t_q + L
need(elect_c, r"vg_ns deadline = t_q \+ el->lease;", "the lease from t_q")
# rule (1): refuse while now - quiet_since < D (grant at D exactly)
need(elect_c, r"if \(!lifted && now - el->quiet_since < el->dead\)\s*"
     r"return VG_REFUSE_RECENT;", "rule (1)")
# granting a real vote restarts the voter's D
need(elect_c, r"el->quiet_since = now;\s*/\* granting counts as hearing",
     "a granted vote counts as hearing an active")
# the vote in the TRANSFER (election.pml's step_down, on_release,
# real_round, become_active): the old active votes for its successor in
# term + 1 (take_vote: persisted, quiet_since = now) before the removal,
# and its own release no longer lifts rule (1); the successor's first
# lease runs from the send time that the TRANSFER echoes
need(elect_c, r"take_vote\(el, el->term \+ 1, successor, now, acts\);",
     "the old active's vote for its successor in term + 1")
need(elect_c, r"voted = was_active && release && successor != 0 &&\s*"
     r"vote_for_successor\(el, successor, now, acts\);\s*vips_off\(el, acts\);",
     "the vote before the removal")
need(elect_c, r"el->released = !voted;", "no lift of rule (1) after the vote")
need(elect_c, r"el->xfer_term = m->term \+ 1;\s*el->xfer_ack = echo_sent;",
     "the TRANSFER's vote for term + 1, its echo's send time")
need(elect_c, r"x->id == el->xfer_counted \? el->xfer_ack : el->req_sent;",
     "the carried vote's echo time in the first lease")
need(elect_c, r"lease_renew\(el, el->xfer_counted != 0 \? quorum_time\(el, now\) :"
     r"\s*el->req_sent, now, acts\);", "the first lease from the quorum's echoes")
# the candidate's wait D(1+rho)/(1-rho) (liveness only: the model's
# candidacy is nondeterministic, so it is checked to be there, not used)
need(elect_c, r"vg_ns wait = \(vg_ns\)\(\(double\)el->dead \* \(1 \+ el->rho\) /"
     r"\s*\(1 - el->rho\)\),", "the candidate's wait")
# max_drift's range, h and D's: conf.c
m = need(conf_c, r'get_float\(p, root, "max_drift", ([0-9.]+), ([0-9.]+),',
         "max_drift's range")
rho_max = float(m.group(2))


def excess_ticks(lease_fn):
    """Largest (hold - wait) / m over rho, h, D, rounded up; 0 if <= 0.
    hold = L/(1-rho) + m after t_q, wait = D/(1+rho) after receipt."""
    worst = 0
    for h_ms in (1, 2, 5, 10, 100, 1000):
        h = h_ms * 1_000_000
        mg = h / margin_div
        for dfac in (2.5, 3, 5, 8, 20, 100):
            d = dfac * h
            for i in range(0, 101):
                rho = rho_max * i / 100
                lease = lease_fn(h, d, rho)
                if lease < 2 * h:
                    continue        # refused by check_timing
                hold = lease / (1 - rho) + mg
                wait = d / (1 + rho)
                worst = max(worst, math.ceil((hold - wait) / mg - 1e-9))
    return worst


code = excess_ticks(lambda h, d, rho: math.floor(
    d * (1.0 - rho) / (1.0 + rho) - h / lease_div))
broken = excess_ticks(lambda h, d, rho: d)     # the variant L = D
if broken < 1:
    sys.exit("consts.py: L = D should outlast the wait")
with open(out, "w") as f:
    f.write(f"""/* generated by tests/model/consts.py from agent/conf.c, keeper.c,
 * election.c: do not edit.  L = D(1-rho)/(1+rho) - h/{lease_div:g}, m = h/{margin_div:g},
 * rho <= {rho_max:g}: an active's hold outlasts a voter's wait by at most
 * {code} ticks of m (L = D: {broken}). */
#ifndef WAIT
#define WAIT 2
#endif
/* the model counts at most 2 ticks of excess (packed fields): one
 * already gives a counterexample, more only adds */
#ifdef LEASE_D
#define HOLD_EXTRA {min(broken, 2)}
#else
#define HOLD_EXTRA {min(code, 2)}
#endif
#define HOLD (WAIT + HOLD_EXTRA)
""")
print(f"consts: hold - wait <= {code} ticks of m as built; L = D: {broken}")
