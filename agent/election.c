/*
 * election: votes, terms, leases and hand-overs; pure.  Every entry point
 * first checks the lease (DESIGN.md: "at every event it handles"), then acts
 * on its event, and appends what must happen to a struct vg_acts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "election.h"
#include "log.h"

static const char *const refusal_names[VG_REFUSE_MAX] = {
	[VG_REFUSE_NONE] = "none",
	[VG_REFUSE_ACTIVE] = "active",
	[VG_REFUSE_TERM] = "term",
	[VG_REFUSE_RECENT] = "recent",
	[VG_REFUSE_INELIGIBLE] = "ineligible",
	[VG_REFUSE_PRIORITY] = "priority",
	[VG_REFUSE_CONFIG] = "config",
};

const char *
vg_refusal_name(enum vg_refusal r)
{
	return (unsigned)r < VG_REFUSE_MAX ? refusal_names[r] : "invalid";
}

/* ---- small helpers */

/*
 * A broken invariant of this module: say which, and stop.  Never carry on
 * without an action that was decided (a VIPS_OFF or a PERSIST dropped could
 * make two holders or a double vote); a dead agent is safe: its keeper
 * removes the VIPs and sends RELEASE.
 */
static void __attribute__((noreturn, format(printf, 1, 2)))
broken(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("election: invariant broken: %s", msg);
	abort();
}

static struct vg_act *
act(struct vg_acts *acts, enum vg_act_type t)
{
	struct vg_act *a;

	if (acts->n >= VG_ACTS_MAX)
		broken("the action list is full (%zu): action %d would be "
		    "lost", acts->n, (int)t);
	a = &acts->a[acts->n++];
	memset(a, 0, sizeof(*a));
	a->type = t;
	a->group = acts->group;
	return a;
}

static struct vg_act *
send_msg(struct vg_acts *acts, uint8_t type, uint16_t target, uint16_t flags,
    uint64_t term, uint16_t reason)
{
	struct vg_act *a = act(acts, VG_ACT_SEND);

	a->msg_type = type;
	a->target = target;
	a->flags = flags;
	a->term = term;
	a->reason = reason;
	return a;
}

static void
persist(struct vg_election *el, struct vg_acts *acts)
{
	struct vg_act *a = act(acts, VG_ACT_PERSIST);

	a->term = el->term;
	a->voted_for = el->voted_for;
}

static uint64_t
rnd(struct vg_election *el)
{
	/* xorshift64*: deterministic for a seed, good enough for jitter */
	el->rng ^= el->rng >> 12;
	el->rng ^= el->rng << 25;
	el->rng ^= el->rng >> 27;
	return el->rng * 2685821657736338717ULL;
}

static struct vg_el_node *
node(struct vg_election *el, uint16_t id)
{
	size_t i;

	for (i = 0; i < el->n_nodes; i++)
		if (el->nodes[i].id == id)
			return &el->nodes[i];
	return NULL;
}

static int
heard_within(const struct vg_election *el, const struct vg_el_node *n, vg_ns now)
{
	return n->self || (n->heard && now - n->last_heard < el->dead);
}

/* Heard within D, and its configuration is ours: its vote could count. */
static int
heard_agreeing(const struct vg_election *el, const struct vg_el_node *n,
    vg_ns now)
{
	return heard_within(el, n, now) && (n->self || n->agrees);
}

/* a better than b: higher effective priority, then lower id */
static int
better(uint8_t pa, uint16_t ia, uint8_t pb, uint16_t ib)
{
	return pa > pb || (pa == pb && ia < ib);
}

static int
self_eligible(const struct vg_election *el)
{
#ifdef VG_MUTANT_WITNESS_STANDS	/* tests/unit/mutants.sh: a witness stands */
	return !el->fault && !el->maintenance;
#endif
	return el->nodes[el->self].role == VG_ROLE_NODE && !el->removed &&
	    !el->fault &&
	    !el->maintenance;
}

/* Another node (not a witness) heard within D with our configuration,
 * whatever its state. */
static int
peer_node_heard(const struct vg_election *el, const struct vg_el_node *n,
    vg_ns now)
{
	return !n->self && n->role == VG_ROLE_NODE && heard_agreeing(el, n, now);
}

/* A peer that could become active, as far as we heard within D. */
static int
peer_eligible(const struct vg_election *el, const struct vg_el_node *n,
    vg_ns now)
{
	return peer_node_heard(el, n, now) && (n->state == VG_ST_STANDBY ||
	    n->state == VG_ST_CANDIDATE || n->state == VG_ST_ACTIVE);
}

/* Since when n counts as a healthy standby for preemption: -1 if it does
 * not (gone, or not a standby); a restart or release restarts the count. */
static vg_ns
preempt_from(const struct vg_el_node *n)
{
	if (n->self || n->role != VG_ROLE_NODE || n->gone ||
	    n->state != VG_ST_STANDBY || n->healthy_since < 0)
		return -1;
	return n->released_at > n->healthy_since ? n->released_at :
	    n->healthy_since;
}

unsigned
vg_el_votes_seen(const struct vg_election *el, vg_ns now)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < el->n_nodes; i++)
		if (heard_agreeing(el, &el->nodes[i], now))
			v += el->nodes[i].votes;
	return v;
}

size_t
vg_el_disagreeing(const struct vg_election *el, vg_ns now)
{
	size_t i, n = 0;

	for (i = 0; i < el->n_nodes; i++)
		if (!el->nodes[i].self && !el->nodes[i].agrees &&
		    heard_within(el, &el->nodes[i], now))
			n++;
	return n;
}

const struct vg_el_node *
vg_el_node_of(const struct vg_election *el, uint16_t id)
{
	size_t i;

	for (i = 0; i < el->n_nodes; i++)
		if (el->nodes[i].id == id)
			return &el->nodes[i];
	return NULL;
}

/*
 * Do the nodes with in[i] set make a quorum?  In one configuration, by
 * their votes.  In J, a quorum of C by votes among those that sent J's
 * digest and a quorum of C' by votes_new among those that sent J's or
 * C''s (ourselves in both).
 */
static int
is_quorum(const struct vg_election *el, const int *in)
{
	unsigned v = 0, w = 0;
	size_t i;

	for (i = 0; i < el->n_nodes; i++) {
		const struct vg_el_node *x = &el->nodes[i];

		if (!in[i])
			continue;
		if (!el->joint) {
			v += x->votes;
			continue;
		}
		if (x->self || x->cfg == 1)
			v += x->votes;
		if (x->self || x->cfg != 0)
			w += x->votes_new;
	}
	if (!el->joint)
		return v >= el->quorum;
#ifdef VG_MUTANT_JOINT_ONE_QUORUM	/* mutants.sh: in J only C' counts */
	v = el->quorum;
#endif
	return v >= el->quorum && w >= el->quorum_new;
}

int
vg_el_has_quorum(const struct vg_election *el, vg_ns now)
{
	int in[VG_MAX_NODES];
	size_t i;

	if (!el->joint)
		return vg_el_votes_seen(el, now) >= el->quorum;
	for (i = 0; i < el->n_nodes; i++)
		in[i] = heard_agreeing(el, &el->nodes[i], now);
	return is_quorum(el, in);
}

/*
 * The transitions set_state() may make (STYLE.md: one guarded transition
 * function and the matrix it asserts).  Only a candidate becomes active;
 * only a standby becomes a candidate; fault, maintenance and no-quorum are
 * reached from, and left to, any state but those two rules forbid.
 */
#define S(x)	(1u << (x))
static const unsigned transitions[VG_ST_MAX + 1] = {
	[VG_ST_STANDBY] = S(VG_ST_CANDIDATE) | S(VG_ST_FAULT) |
	    S(VG_ST_MAINTENANCE) | S(VG_ST_NO_QUORUM),
	[VG_ST_CANDIDATE] = S(VG_ST_STANDBY) | S(VG_ST_ACTIVE) | S(VG_ST_FAULT) |
	    S(VG_ST_MAINTENANCE) | S(VG_ST_NO_QUORUM),
	[VG_ST_ACTIVE] = S(VG_ST_STANDBY) | S(VG_ST_FAULT) |
	    S(VG_ST_MAINTENANCE) | S(VG_ST_NO_QUORUM),
	[VG_ST_FAULT] = S(VG_ST_STANDBY) | S(VG_ST_MAINTENANCE) |
	    S(VG_ST_NO_QUORUM),
	[VG_ST_MAINTENANCE] = S(VG_ST_STANDBY) | S(VG_ST_FAULT) |
	    S(VG_ST_NO_QUORUM),
	[VG_ST_NO_QUORUM] = S(VG_ST_STANDBY) | S(VG_ST_FAULT) |
	    S(VG_ST_MAINTENANCE),
};
#undef S

int
vg_el_transition_ok(uint8_t from, uint8_t to)
{
	return from >= 1 && from <= VG_ST_MAX && to >= 1 && to <= VG_ST_MAX &&
	    (transitions[from] & (1u << to)) != 0;
}

static void
set_state(struct vg_election *el, uint8_t st, const char *why,
    struct vg_acts *acts)
{
	struct vg_act *a;

	if (el->state == st)
		return;
	if (!vg_el_transition_ok(el->state, st))
		broken("state %s -> %s (%s) is not a transition",
		    vg_state_name(el->state), vg_state_name(st), why);
	a = act(acts, VG_ACT_STATE);
	a->old_state = el->state;
	a->new_state = st;
	a->why = why;
	el->state = st;
}

/* standby or no-quorum, whichever is true now (fault and maintenance win) */
static uint8_t
idle_state(const struct vg_election *el, vg_ns now)
{
	if (el->fault)
		return VG_ST_FAULT;
	if (el->maintenance)
		return VG_ST_MAINTENANCE;
	return vg_el_has_quorum(el, now) ? VG_ST_STANDBY : VG_ST_NO_QUORUM;
}

/*
 * Back to standby or no-quorum, whichever is true now; a node that comes
 * back to standby from no-quorum, fault or maintenance has heard nobody's
 * heartbeat lately and first listens for a round (candidacy_at): an active
 * may well be there (one that came back from a link flap stood on its own
 * quiet time at once and went through a needless round against a young
 * active).
 */
static void
to_idle(struct vg_election *el, vg_ns now, const char *why,
    struct vg_acts *acts)
{
	uint8_t was = el->state;

	set_state(el, idle_state(el, now), why, acts);
	if (el->state == VG_ST_STANDBY && (was == VG_ST_NO_QUORUM ||
	    was == VG_ST_FAULT || was == VG_ST_MAINTENANCE))
		el->back_at = now;
}

static void
vips_off(struct vg_election *el, struct vg_acts *acts)
{
	if (!el->holding)
		return;
	act(acts, VG_ACT_VIPS_OFF);
	el->holding = 0;
}

/*
 * Our vote in `term` for `id`, durable (PERSIST) before anything that
 * follows leaves.  Granting counts as hearing an active: rule (1)'s D
 * starts again now.
 */
static void
take_vote(struct vg_election *el, uint64_t term, uint16_t id, vg_ns now,
    struct vg_acts *acts)
{
	if (term != el->term || el->voted_for != id) {
		el->term = term;
		el->voted_for = id;
		el->active_id = 0;
		el->echo_seq = 0;
		el->released = 0;
		el->transfer_to_me = 0;
		el->xfer_vote = 0;
#ifdef VG_MUTANT_NO_PERSIST	/* mutants.sh: a vote sent, not on disk */
		if (0)
#endif
		persist(el, acts);
		if (el->state == VG_ST_CANDIDATE)
			set_state(el, idle_state(el, now), "voted for another",
			    acts);
	}
	el->quiet_since = now;		/* granting counts as hearing an active */
	el->st.votes_granted++;
}

static int	peer_holding(const struct vg_election *,
		    const struct vg_el_node *, vg_ns);

/* Does a datagram earlier in the list carry this group's term?  Its own
 * messages do, and a heartbeat carries every group's. */
static int
term_queued(const struct vg_acts *acts, uint8_t group)
{
	size_t i;

	for (i = 0; i < acts->n; i++)
		if (acts->a[i].type == VG_ACT_SEND &&
		    (acts->a[i].msg_type == VG_MSG_HEARTBEAT ||
		    acts->a[i].group == group))
			return 1;
	return 0;
}

/*
 * The active that hands over votes for its successor in the next term,
 * and says so in the TRANSFER: with it the successor holds a quorum of
 * three at once, one round trip sooner (docs/design.md, "The vote in the
 * TRANSFER").  Only where it would grant that vote to the successor's
 * request: its VIPs are off (the TRANSFER leaves only once the removal is
 * acked), its configuration is ours, and this node may vote.  And not
 * when a datagram queued earlier in the list would go out with the new
 * term before the PERSIST that makes it durable (a hand-over in the tick
 * that won the election): the shell encodes a message as it reaches it.
 */
static int
vote_for_successor(struct vg_election *el, uint16_t successor, vg_ns now,
    struct vg_acts *acts)
{
	const struct vg_el_node *c = node(el, successor);

	if (c == NULL || c->self || !c->agrees || c->role != VG_ROLE_NODE ||
	    el->removed || el->term + 1 >= VG_TERM_LIMIT ||
	    el->term + 1 < el->held_term ||
	    peer_holding(el, c, now) || term_queued(acts, el->group))
		return 0;
	take_vote(el, el->term + 1, successor, now, acts);
	el->st.transfer_votes++;
	return 1;
}

/*
 * Leave the active role (or a candidacy).  The VIPs go first, acked; then,
 * if asked, RELEASE(term) so that peers may vote at once; to a successor,
 * a TRANSFER with our vote for it in term + 1.
 */
static void
step_down_to(struct vg_election *el, vg_ns now, int release,
    uint16_t successor, const char *why, struct vg_acts *acts)
{
	int was_active = el->state == VG_ST_ACTIVE, voted;
	uint64_t term = el->term;

	/* the vote's fsync before the removal, not in the gap after it: it
	 * is durable early, and sent only once the VIPs are off */
	voted = was_active && release && successor != 0 &&
	    vote_for_successor(el, successor, now, acts);
	vips_off(el, acts);
	if (was_active) {
		el->st.step_downs++;
		if (release) {
			el->released_own = term;
			send_msg(acts, VG_MSG_RELEASE, 0, 0, term,
			    0)->successor = successor;
			if (successor != 0)
				send_msg(acts, VG_MSG_TRANSFER, successor,
				    voted ? VG_FLAG_GRANTED : 0, term,
				    0)->successor = successor;
			/* our own release lifts rules (1) and (3) for us too;
			 * not once we voted in term + 1: from that vote on
			 * rule (1) holds us for D like any voter */
			el->released = !voted;
			el->released_by = el->self_id;
			el->released_at = now;
		}
		el->active_id = 0;
		el->quiet_since = now;		/* a step-down counts as heard */
		el->last_active_hb = now;
	}
	el->lapsed = 0;
	el->lease_deadline = 0;
	set_state(el, idle_state(el, now), why, acts);
}

static void
step_down(struct vg_election *el, vg_ns now, int release, const char *why,
    struct vg_acts *acts)
{
	step_down_to(el, now, release, 0, why, acts);
}

/* ---- flap damping: changes of the active node this node has seen */

static void
flap_note(struct vg_election *el, vg_ns now)
{
	el->failovers[el->flap_head] = now;
	el->flap_head = (el->flap_head + 1) % VG_FLAP_MAX;
	if (el->n_failovers < VG_FLAP_MAX)
		el->n_failovers++;
}

int
vg_el_flapping(const struct vg_election *el, vg_ns now)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < el->n_failovers; i++)
		if (now - el->failovers[i] < el->flap_window)
			n++;
	return n > el->max_failovers;
}

/* ---- the lease */

static void
lease_renew(struct vg_election *el, vg_ns t_q, vg_ns now, struct vg_acts *acts)
{
	vg_ns deadline = t_q + el->lease;
	struct vg_act *a;

	if (deadline <= el->lease_deadline && !(el->lapsed && deadline > now))
		return;
	if (deadline > el->lease_deadline)
		el->lease_deadline = deadline;
	if (now >= el->lease_deadline || el->released_own == el->term)
		return;
	if (el->lapsed) {
		el->lapsed = 0;		/* renewed within D: same term, no election */
	}
	el->st.lease_renewals++;
	a = act(acts, VG_ACT_LEASE);
	a->term = el->term;
	a->deadline = el->lease_deadline;
	el->holding = 1;
}

/* t_q: the newest send time that a quorum of votes has echoed (self at
 * now).  part: 0 one configuration; in J, 1 C's quorum (votes, among
 * peers in J), 2 C''s (votes_new, among peers in J or C'). */
static vg_ns
quorum_time_of(const struct vg_election *el, vg_ns now, int part)
{
	vg_ns t[VG_MAX_NODES];
	uint8_t v[VG_MAX_NODES];
	size_t i, j, n = 0;
	unsigned sum = 0, q = part == 2 ? el->quorum_new : el->quorum;

	for (i = 0; i < el->n_nodes; i++) {
		const struct vg_el_node *x = &el->nodes[i];
		vg_ns at = x->self ? now : x->ack_sent;
		uint8_t xv = part == 2 ? x->votes_new : x->votes;

		if (xv == 0 || at < 0)
			continue;
		if ((part == 1 && !x->self && x->cfg != 1) ||
		    (part == 2 && !x->self && x->cfg == 0))
			continue;
		/* insertion sort, newest first */
		for (j = n; j > 0 && t[j - 1] < at; j--) {
			t[j] = t[j - 1];
			v[j] = v[j - 1];
		}
		t[j] = at;
		v[j] = xv;
		n++;
	}
#ifdef VG_MUTANT_MINORITY_LEASE	/* mutants.sh: a quorum less one vote renews */
	sum = 1;
#endif
	for (i = 0; i < n; i++) {
		sum += v[i];
		if (sum >= q)
			return t[i];
	}
	return -1;
}

/* In J a lease needs both quorums: the older of the two times. */
static vg_ns
quorum_time(const struct vg_election *el, vg_ns now)
{
	vg_ns a, b;

	if (!el->joint)
		return quorum_time_of(el, now, 0);
	b = quorum_time_of(el, now, 2);
#ifdef VG_MUTANT_JOINT_ONE_QUORUM	/* mutants.sh: in J only C' counts */
	return b;
#endif
	a = quorum_time_of(el, now, 1);
	return a < b ? a : b;
}

/* Why a lease ran out, for the operator: how late this look at it came,
 * and for each voter how old its newest echo and its last message are. */
static void
lapse_log(const struct vg_election *el, vg_ns now)
{
	char buf[512], echo[64], heard[48];
	size_t i, off = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < el->n_nodes && off < sizeof(buf); i++) {
		const struct vg_el_node *x = &el->nodes[i];

		if (x->self || x->votes == 0)
			continue;
		if (x->ack_sent < 0)
			snprintf(echo, sizeof(echo), "no echo");
		else
			snprintf(echo, sizeof(echo), "echo of a heartbeat sent "
			    "%lld us ago", (long long)((now - x->ack_sent) /
			    VG_NS_PER_US));
		if (x->heard)
			snprintf(heard, sizeof(heard), "heard %lld us ago",
			    (long long)((now - x->last_heard) / VG_NS_PER_US));
		else
			snprintf(heard, sizeof(heard), "never heard");
		n = snprintf(buf + off, sizeof(buf) - off, "; node %u: %s, %s",
		    x->id, echo, heard);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	log_info("lease lapsed (term %llu): its deadline passed %lld us "
	    "ago%s", (unsigned long long)el->term,
	    (long long)((now - el->lease_deadline) / VG_NS_PER_US), buf);
}

/*
 * Until when a quorum of votes (ours counted) has been heard within the
 * last 2h: the last_heard of the node that completes it, plus 2h; 0 if
 * none does.  Its way in cut (a one-way cut, the peers' links down), a
 * lapsed active hears nothing: no renewal can come, and waiting D for one
 * only keeps the VIPs off everywhere.  Lost echoes alone leave it hearing
 * the peers' other datagrams (four an interval from two followers).
 * Not for a joint move (two quorums): that one waits D as before.
 */
static vg_ns
quorum_heard_until(const struct vg_election *el)
{
	vg_ns best;
	unsigned votes = el->nodes[el->self].votes;
	uint64_t used[(VG_MAX_NODES + 63) / 64] = { 0 };
	size_t i, at;

	if (votes >= el->quorum)
		return VG_NS_NEVER;
	for (;;) {
		/* the next most recently heard agreeing node */
		best = -1;
		at = el->n_nodes;
		for (i = 0; i < el->n_nodes; i++) {
			const struct vg_el_node *x = &el->nodes[i];

			if (x->self || !x->heard || !x->agrees ||
			    (used[i / 64] >> (i % 64) & 1))
				continue;
			if (x->last_heard > best) {
				best = x->last_heard;
				at = i;
			}
		}
		if (at == el->n_nodes)
			return 0;
		used[at / 64] |= (uint64_t)1 << (at % 64);
		votes += el->nodes[at].votes;
		if (votes >= el->quorum)
			return best + 2 * el->h;
	}
}

/*
 * When a lapsed active gives up on a renewal: D after the lapse, or sooner
 * once no quorum has been heard for 2h: that silence seen twice, h/8
 * apart, nothing heard in between, the first time an interval after the
 * lapse at the soonest (so h + h/8 after it at the soonest).  The first
 * sighting may come before the loop has read what arrived while the
 * agent did not run (a stall: the datagrams read then carry the kernel's
 * stamps of their arrival, and a live quorum's lift the silence).  A
 * backlog that takes the loop more than h/8 to read (hundreds of
 * datagrams: 64 nodes after a long stall) may still end it early: an
 * election, not a safety matter.
 */
static vg_ns
lapse_gives_up(const struct vg_election *el)
{
	vg_ns d = el->lapsed_at + el->dead, q;

	if (!el->joint) {
		q = quorum_heard_until(el);
		if (q < el->lapsed_at + el->h)
			q = el->lapsed_at + el->h;
		if (el->lapse_quiet_at >= q)
			q = el->lapse_quiet_at + el->h / 8;
		if (q < d)
			d = q;
	}
	return d;
}

static void
lease_check(struct vg_election *el, vg_ns now, struct vg_acts *acts)
{
	vg_ns q;

	if (el->state != VG_ST_ACTIVE)
		return;
	if (!el->lapsed && now >= el->lease_deadline) {
		el->lapsed = 1;
		el->lapsed_at = now;
		el->lapse_quiet_at = -1;
		el->st.lease_lapses++;
		lapse_log(el, now);
		vips_off(el, acts);	/* the keeper has already; make sure */
	}
	if (!el->lapsed)
		return;
	/* the silence seen now, for the first time since anything was heard
	 * (lapse_gives_up then waits h/8 more) */
	if (!el->joint && now >= el->lapsed_at + el->h &&
	    (q = quorum_heard_until(el)) <= now && el->lapse_quiet_at < q)
		el->lapse_quiet_at = now;
	if (now >= lapse_gives_up(el))
		step_down(el, now, 1, now - el->lapsed_at >= el->dead ?
		    "lease not renewed within dead_time" :
		    "lease lapsed, no quorum heard for two intervals", acts);
}

/* ---- candidacy */

/*
 * How long a round of votes lasts: two intervals and the worst round trip,
 * or, while that is smaller (none measured yet: peers just come up), the
 * lesser of h/8 and VG_XFER_GRACE for it.  A voter that keeps a request
 * until its D ends (defer_request) answers at that moment; a restarted
 * voter's D ended exactly 2h after its first heartbeat, the moment the
 * round of a candidate that stood on that heartbeat ended when no round
 * trip was measured, and its answer came a few hundred us late.
 */
static vg_ns
round_len(const struct vg_election *el)
{
	vg_ns least = el->h / 8 < VG_XFER_GRACE ? el->h / 8 : VG_XFER_GRACE;

	return 2 * el->h + (el->rtt_worst > least ? el->rtt_worst : least);
}

/* A peer that may stand, as far as we heard within D: eligible but not
 * active; with noq, one in no-quorum too. */
static int
rank_peer(const struct vg_election *el, const struct vg_el_node *x,
    vg_ns now, int noq)
{
	return peer_node_heard(el, x, now) && (x->state == VG_ST_STANDBY ||
	    x->state == VG_ST_CANDIDATE ||
	    (noq && x->state == VG_ST_NO_QUORUM));
}

/* A better node that may stand before us; with noq (the listen after
 * coming back) also one heard in no-quorum: what brought us back (a
 * third node's heartbeat) brings it back as well, and its first
 * heartbeat as a standby may come after our listen.  rank counts them. */
static int
ahead(const struct vg_election *el, const struct vg_el_node *x, vg_ns now,
    int noq)
{
	const struct vg_el_node *s = &el->nodes[el->self];

	if (!rank_peer(el, x, now, noq))
		return 0;
	if (x->released_at >= 0 && now - x->released_at < el->dead)
		return 0;	/* just released or restarted */
	return better(x->priority, x->id, el->priority, s->id);
}

static unsigned
rank(const struct vg_election *el, vg_ns now, int noq)
{
	unsigned r = 0;
	size_t i;

	for (i = 0; i < el->n_nodes; i++)
		r += (unsigned)ahead(el, &el->nodes[i], now, noq);
	return r;
}

/*
 * The better nodes' returns: rank spaces the candidacies of nodes that
 * started to wait at one moment, but two nodes come back to standby up
 * to an interval apart (the first to hear the other comes back at once,
 * the other at the first one's next heartbeat), or more when that
 * heartbeat is lost.  A worse node back first spent its rank's h before
 * the better one's listen was over, and both stood at one moment (the
 * fault schedule, seed 10).  So a better standby that came back from
 * no-quorum, fault or maintenance (back_heard: its first standby message
 * after one of those) has its listen, h + rtt_worst, and we our rank
 * after it; and with noq (our own listen after coming back), a better
 * node still heard in no-quorum holds us until it is heard as a standby
 * (VG_NS_NEVER here): what brought us back brings it back.  Only such a
 * return: not a better node's failed candidacy, nor our hearing it again
 * after a gap, which rank already spaces.  -1: no such node.  The caller
 * bounds the wait.
 */
static vg_ns
better_back(const struct vg_election *el, vg_ns now, int noq, unsigned r)
{
	vg_ns at = -1;
	size_t i;

	for (i = 0; i < el->n_nodes; i++) {
		const struct vg_el_node *x = &el->nodes[i];

		if (!ahead(el, x, now, noq))
			continue;
		if (x->state == VG_ST_NO_QUORUM)	/* only with noq */
			return VG_NS_NEVER;
		if (x->state == VG_ST_STANDBY && x->back_heard > at)
			at = x->back_heard;
	}
	return at < 0 ? -1 : at + el->h + el->rtt_worst + (vg_ns)r * el->h;
}

/*
 * From when the voters' D runs, as far as we know: our own quiet_since, or
 * later if we heard a voter come up since (its first heartbeat of an
 * incarnation; it counts its start as heard and votes only D after it).
 * At a start a few ms apart the best node stood on its own start, before
 * the later voters' D had run out, lost its round, and a lower node won
 * once their rule (3) window was over (4 of 25 starts at h = 10 ms).  At
 * most four candidacy waits later than quiet_since: a voter that keeps
 * restarting does not hold the others back for ever.
 */
static vg_ns
voters_quiet(const struct vg_election *el, vg_ns now, vg_ns wait)
{
	vg_ns t = el->quiet_since;
	size_t i;

	for (i = 0; i < el->n_nodes; i++) {
		const struct vg_el_node *x = &el->nodes[i];

		if (!x->self && x->votes > 0 && heard_within(el, x, now) &&
		    x->up_at > t)
			t = x->up_at;
	}
	return t - el->quiet_since < 4 * wait ? t : el->quiet_since + 4 * wait;
}

/*
 * The TRANSFER to us carried its sender's vote, and no term above the one
 * it is for was seen (a node already there would depose a win in it: we
 * ask above it then, as without the vote).
 */
static int
xfer_usable(const struct vg_election *el)
{
	return el->transfer_to_me && el->xfer_vote != 0 &&
	    el->max_term <= el->xfer_term;
}

/* Our vote and the one the TRANSFER carried make a quorum (in J: both). */
static int
xfer_wins(const struct vg_election *el)
{
	int in[VG_MAX_NODES];
	size_t i;

	if (!xfer_usable(el))
		return 0;
	for (i = 0; i < el->n_nodes; i++)
		in[i] = el->nodes[i].self || el->nodes[i].id == el->xfer_vote;
	return is_quorum(el, in);
}

/* When a standby starts its candidacy; VG_NS_NEVER if it may not. */
static vg_ns
candidacy_at(const struct vg_election *el, vg_ns now)
{
	/*
	 * After a RELEASE the others got theirs at about the same moment; one
	 * typical round trip (never more than half the bound) lets it reach
	 * every voter before our request does, without paying the machine's
	 * worst jitter on every hand-over.
	 */
	vg_ns t, half_rtt = el->rtt_typ < el->rtt_worst / 2 ? el->rtt_typ :
	    el->rtt_worst / 2;

	if (el->state != VG_ST_STANDBY || !self_eligible(el) ||
	    (el->max_term > el->term ? el->max_term : el->term) + 1 >=
	    VG_TERM_LIMIT)
		return VG_NS_NEVER;
	if (xfer_wins(el))
		t = el->released_at;	/* no other voter needed */
	else if (el->transfer_to_me)
		t = el->released_at + half_rtt;
	else if (el->released && el->release_to == el->self_id &&
	    el->released_by != el->self_id) {
		/*
		 * A RELEASE that names us comes with a TRANSFER right behind
		 * it (step_down_to), which may be read in the next wake-up.
		 * Wait for it a little (xfer_wins then says now); with no
		 * round trip measured yet half_rtt is 0, and we stood on the
		 * RELEASE alone, a round of votes for nothing.
		 */
		vg_ns grace = el->h / 8 < VG_XFER_GRACE ? el->h / 8 :
		    VG_XFER_GRACE;

		t = el->released_at + (half_rtt > grace ? half_rtt : grace);
	}
	else if (el->released && el->released_by != el->self_id) {
		t = el->released_at + half_rtt + (vg_ns)rank(el, now, 0) * el->h;
		/* the successor it named goes first: one round ahead of us */
		if (el->release_to != 0)
			t += round_len(el);
	}
	/* after our own release (hand-over, fault, lapse, keeper lost) we stand
	 * again only as after hearing an active: the others go first */
	else {
		vg_ns wait = (vg_ns)((double)el->dead * (1 + el->rho) /
		    (1 - el->rho)), back, b;
		unsigned r = rank(el, now, 0), rb = rank(el, now, 1);
		int noq = 0;

#ifdef VG_MUTANT_CAND_EARLY	/* mutants.sh: stands before its D has run */
		wait = 0;
#endif
		t = voters_quiet(el, now, wait) + wait + el->rtt_worst +
		    (vg_ns)r * el->h;
		/* back from no-quorum, fault or maintenance: a round of
		 * heartbeats first (an active's among them, if there is one),
		 * and the better nodes first: two brought back at one moment
		 * (by a third node's first heartbeat) stood together without
		 * it, and split the votes */
		back = el->back_at + el->h + el->rtt_worst + (vg_ns)rb * el->h;
		if (t < back) {
			t = back;
			r = rb;
			noq = 1;
		}
		/* and after the better nodes' own returns, never more than D
		 * later than without them */
		b = better_back(el, now, noq, r);
		if (b > t)
			t = b - t < el->dead ? b : t + el->dead;
	}
	return t > el->backoff_until ? t : el->backoff_until;
}

static void
round_reset(struct vg_election *el)
{
	size_t i;

	for (i = 0; i < el->n_nodes; i++)
		el->nodes[i].granted = el->nodes[i].self;
}

static unsigned
round_votes(const struct vg_election *el)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < el->n_nodes; i++)
		if (el->nodes[i].granted)
			v += el->nodes[i].votes;
	return v;
}

/* The granted votes of this round make a quorum (in J: both). */
static int
round_won(const struct vg_election *el)
{
	int in[VG_MAX_NODES];
	size_t i;

	if (!el->joint)
		return round_votes(el) >= el->quorum;
	for (i = 0; i < el->n_nodes; i++)
		in[i] = el->nodes[i].granted;
	return is_quorum(el, in);
}

static void	round_progress(struct vg_election *, vg_ns, struct vg_acts *);
static void	real_round(struct vg_election *, vg_ns, struct vg_acts *);
static void	preempt_check(struct vg_election *, vg_ns, struct vg_acts *);
static void	tick(struct vg_election *, vg_ns, struct vg_acts *);

static void
start_candidacy(struct vg_election *el, vg_ns now, struct vg_acts *acts)
{
	/* the term the TRANSFER's vote is for; else above every term seen */
	el->cand_term = xfer_usable(el) ? el->xfer_term :
	    (el->max_term > el->term ? el->max_term : el->term) + 1;
	el->prevote = 1;
	el->round_end = now + round_len(el);
	el->st.elections_started++;
	round_reset(el);
	set_state(el, VG_ST_CANDIDATE, el->transfer_to_me ?
	    "the active handed over to this node" :
	    el->released && el->released_by != el->self_id ?
	    "the active released" : "no active heard", acts);
	if (el->transfer_to_me) {
		/* invited by the active itself: no pre-vote (Raft's TimeoutNow) */
		real_round(el, now, acts);
		return;
	}
	send_msg(acts, VG_MSG_VOTE_REQUEST, 0, VG_FLAG_PRE, el->cand_term, 0);
	round_progress(el, now, acts);
}

static void
become_active(struct vg_election *el, vg_ns now, struct vg_acts *acts)
{
	size_t i;

	el->active_id = el->self_id;
	el->active_since = now;
	el->active_inc = 0;
	el->released = 0;
	el->transfer_to_me = 0;
	el->lapsed = 0;
	el->lease_deadline = 0;
	el->st.elections_won++;
	flap_note(el, now);
	/* every vote is an echo of the VOTE_REQUEST; the TRANSFER's, of
	 * our message that its sender heard before it voted */
	for (i = 0; i < el->n_nodes; i++) {
		struct vg_el_node *x = &el->nodes[i];

		x->ack_sent = !x->granted || x->self ? -1 :
		    x->id == el->xfer_counted ? el->xfer_ack : el->req_sent;
	}
	set_state(el, VG_ST_ACTIVE, "won the election", acts);
	if (el->xfer_counted != 0)
		el->st.transfer_vote_wins++;
	lease_renew(el, el->xfer_counted != 0 ? quorum_time(el, now) :
	    el->req_sent, now, acts);
	send_msg(acts, VG_MSG_HEARTBEAT, 0, 0, el->term, 0);
}

/* Enough votes for this phase?  Then move on. */
static void
round_progress(struct vg_election *el, vg_ns now, struct vg_acts *acts)
{
	if (el->state != VG_ST_CANDIDATE || !round_won(el))
		return;
	if (el->prevote) {
		real_round(el, now, acts);
		return;
	}
	become_active(el, now, acts);
}

/* Take the term, vote for ourselves, durably, then ask. */
static void
real_round(struct vg_election *el, vg_ns now, struct vg_acts *acts)
{
	struct vg_el_node *x;
	uint16_t carried = xfer_usable(el) && el->xfer_term == el->cand_term ?
	    el->xfer_vote : 0;

	el->prevote = 0;
	el->xfer_vote = 0;	/* used now, or never */
	el->term = el->cand_term;
	el->voted_for = el->self_id;
	el->active_id = 0;
	el->echo_seq = 0;
	el->released = 0;
	el->transfer_to_me = 0;
	el->quiet_since = now;	/* granting a vote counts as hearing */
	persist(el, acts);
	el->req_sent = now;
	el->round_end = now + round_len(el);
	round_reset(el);
	el->xfer_counted = 0;
	if (carried != 0 && (x = node(el, carried)) != NULL && x->agrees) {
		x->granted = 1;
		el->xfer_counted = carried;
	}
	send_msg(acts, VG_MSG_VOTE_REQUEST, 0, 0, el->term, 0);
	if (round_won(el))
		become_active(el, now, acts);
}

static void
round_failed(struct vg_election *el, vg_ns now, struct vg_acts *acts)
{
	el->st.rounds_failed++;
	el->backoff_until = now + (vg_ns)(rnd(el) % (uint64_t)(2 * el->h + 1));
	el->transfer_to_me = 0;
	set_state(el, idle_state(el, now), "election round failed", acts);
}

/* ---- voting */

/*
 * Rule (0) for a peer: a node whose removal of the VIPs was not confirmed
 * says so in its heartbeats (VG_FLAG_HOLDING) until a removal succeeds or
 * the kernel's lifetime has run out on them; while it says so, no other
 * candidate gets our vote: its VIPs may still answer.  Its silence does not
 * end that (it may have crashed with them): only the time the kernel takes
 * at most, counted from its last heartbeat.  It was no longer active when
 * it sent that, so its keeper's last add came before.
 */
static int
peer_holding(const struct vg_election *el, const struct vg_el_node *c,
    vg_ns now)
{
	size_t i;

	for (i = 0; i < el->n_nodes; i++) {
		const struct vg_el_node *x = &el->nodes[i];

		if (!x->self && x->id != c->id && x->holding && x->heard &&
		    now - x->last_heard < el->vip_outlives)
			return 1;
	}
	return 0;
}

static enum vg_refusal
vote_check(struct vg_election *el, const struct vg_msg *m,
    const struct vg_el_node *c, vg_ns now)
{
	int lifted;
	size_t i;

	/* first: not even its retransmission is granted again */
	if (!c->agrees || el->removed)
		return VG_REFUSE_CONFIG;
#ifdef VG_MUTANT_ACTIVE_VOTES	/* mutants.sh: rule (0) gone, an active votes */
	if (0)
#endif
	if (el->state == VG_ST_ACTIVE || el->holding || peer_holding(el, c, now))
		return VG_REFUSE_ACTIVE;
	if (m->term == el->term && el->voted_for == c->id)
		return VG_REFUSE_NONE;	/* its retransmission, or its pre-vote
					 * for the term we voted it in */
#ifdef VG_MUTANT_TWO_VOTES	/* mutants.sh: a second vote in a term */
	if (m->term != el->term)
#endif
	if (m->term <= el->term)
		return VG_REFUSE_TERM;
	/* a node we hear holds a newer term: a win below it would be
	 * deposed when the two meet (the refusal names that term) */
	if (m->term < el->held_term)
		return VG_REFUSE_TERM;
	lifted = el->released && m->term > el->term;
#ifdef VG_MUTANT_NO_QUIET	/* mutants.sh: rule (1) gone, no D of quiet */
	if (0)
#endif
	if (!lifted && now - el->quiet_since < el->dead)
		return VG_REFUSE_RECENT;
#ifdef VG_MUTANT_WITNESS_STANDS	/* mutants.sh: and rule (2) is gone */
	if (0)
#endif
	if (c->role != VG_ROLE_NODE || (m->state != VG_ST_STANDBY &&
	    m->state != VG_ST_CANDIDATE))
		return VG_REFUSE_INELIGIBLE;
	if (!lifted && now - el->last_active_hb < 2 * el->dead) {
		for (i = 0; i < el->n_nodes; i++) {
			const struct vg_el_node *x = &el->nodes[i];
			uint8_t px = x->self ? el->priority : x->priority;

			if (x->id == c->id)
				continue;
			if (x->self ? (!self_eligible(el) ||
			    el->state == VG_ST_NO_QUORUM) :
			    !peer_eligible(el, x, now))
				continue;
			if (better(px, x->id, m->priority, c->id))
				return VG_REFUSE_PRIORITY;
		}
	}
	return VG_REFUSE_NONE;
}

/*
 * The term a `term` refusal names: the highest of the request's, ours and
 * the one a node we hear holds.  Above the request's, the candidate takes
 * it as seen (max_term) and its next round asks above it; nothing else
 * (a node takes a term only from an active's heartbeat or its own vote).
 */
static uint64_t
term_to_pass(const struct vg_election *el, uint64_t asked)
{
	uint64_t t = el->held_term > el->term ? el->held_term : el->term;

	return t > asked ? t : asked;
}

/* m, of the node whose request is kept, is not older than that one: a
 * newer term, or the same (a real request over a pre-vote, not back) */
static int
not_older(const struct vg_election *el, const struct vg_msg *m)
{
	const struct vg_msg *k = &el->deferred_req;

	return m->term > k->term || (m->term == k->term &&
	    ((k->flags & VG_FLAG_PRE) || !(m->flags & VG_FLAG_PRE)));
}

/*
 * A request whose refusal would be rule (1) ("recent", checked before rules
 * (2) and (3)), whose D ends within 2h (h for a real request: its answer
 * waits for an fsync), is kept and answered when D ends, as if it had come
 * then (answer_deferred, from the timer), instead of refused now.  The
 * candidate's round (2h + rtt_worst from its send) is then still open; a
 * refusal cost it that round and a back-off of 0..2h.  In the fault
 * schedule a node stood as soon as a restarted voter came up, was refused
 * `recent` for the 2h that voter listens, and won 8 ms after the voter
 * could vote.  The answer is the one the request would get had it been
 * delayed on the way, every rule checked at that moment; a request of an
 * incarnation the node no longer has is dropped then, as the wire drops
 * one (stale), and one of a configuration no longer ours too (on the wire
 * it would be refused `config`: a kept one is never granted under another
 * configuration, nor answered).  One at a time: the
 * same node's request of the same or a newer term (a real one over a
 * pre-vote) takes its place, its older one and another node's are
 * answered at once; a request of that node answered at once clears it;
 * never kept twice.  Not while we follow an active (active_id): under loss
 * a follower that missed its heartbeats would then help depose it as soon
 * as D ended, where a refusal gave the heartbeats time to come through
 * (the simulator at 20 % loss each way: 18 changes of active an hour with,
 * 9 without).
 */
static int
defer_request(struct vg_election *el, const struct vg_msg *m, vg_ns now)
{
	vg_ns at = el->quiet_since + el->dead;
	vg_ns most = (m->flags & VG_FLAG_PRE) ? 2 * el->h : el->h;

	if (at <= now || at - now > most || el->active_id != 0)
		return 0;
	if (el->deferred && (el->deferred_req.sender != m->sender ||
	    !not_older(el, m)))
		return 0;
	el->deferred = 1;
	el->deferred_at = at;
	el->deferred_req = *m;
	el->deferred_req.body = NULL;
	el->st.requests_deferred++;
	return 1;
}

static void
on_request(struct vg_election *el, const struct vg_msg *m,
    struct vg_el_node *c, vg_ns now, int may_defer, struct vg_acts *acts)
{
	int pre = (m->flags & VG_FLAG_PRE) != 0;
	enum vg_refusal r = vote_check(el, m, c, now);

	if (r == VG_REFUSE_RECENT && may_defer && defer_request(el, m, now))
		return;
	if (may_defer && el->deferred && el->deferred_req.sender == c->id &&
	    not_older(el, m))
		el->deferred = 0;	/* answered now: the kept one is older */
	if (r != VG_REFUSE_NONE) {
		el->st.refused[r]++;
		if (r == VG_REFUSE_CONFIG)
			c->requests_refused++;
		send_msg(acts, VG_MSG_VOTE, c->id, pre ? VG_FLAG_PRE : 0,
		    r == VG_REFUSE_TERM ? term_to_pass(el, m->term) : m->term,
		    (uint16_t)r);
		return;
	}
	if (pre) {
		el->st.prevotes_granted++;
		send_msg(acts, VG_MSG_VOTE, c->id, VG_FLAG_PRE | VG_FLAG_GRANTED,
		    m->term, 0);
		return;
	}
	take_vote(el, m->term, c->id, now, acts);
	send_msg(acts, VG_MSG_VOTE, c->id, VG_FLAG_GRANTED, m->term, 0);
}

static void
on_vote(struct vg_election *el, const struct vg_msg *m, struct vg_el_node *v,
    vg_ns now, struct vg_acts *acts)
{
	int pre = (m->flags & VG_FLAG_PRE) != 0;
	uint64_t asked = el->prevote ? el->cand_term : el->term;

#ifdef VG_MUTANT_PREVOTE_COUNTS	/* mutants.sh: a pre-vote counts as a vote */
	pre = el->prevote;
#endif

	/* a `term` refusal names the term to go above (term_to_pass): a
	 * refusal of this round if it is above the one asked */
	if (el->state == VG_ST_CANDIDATE && pre == el->prevote &&
	    m->term > asked && !(m->flags & VG_FLAG_GRANTED) &&
	    m->u.vote.reason == VG_REFUSE_TERM && v->agrees) {
		el->st.refusals[VG_REFUSE_TERM]++;
		return;
	}
	if (el->state != VG_ST_CANDIDATE || pre != el->prevote ||
	    m->term != asked)
		return;			/* late, or of another round */
	if (!v->agrees) {
		/* its vote was given under another configuration's quorum */
		if (m->flags & VG_FLAG_GRANTED) {
			v->votes_ignored++;
			el->st.votes_ignored++;
		}
		return;
	}
	if (!(m->flags & VG_FLAG_GRANTED)) {
		if (m->u.vote.reason < VG_REFUSE_MAX)
			el->st.refusals[m->u.vote.reason]++;
		return;
	}
	v->granted = 1;
	round_progress(el, now, acts);
}

/* ---- heartbeats, releases */

static void
release_of(struct vg_election *el, struct vg_el_node *s, uint16_t successor,
    vg_ns now, int transfer_here)
{
	el->released = 1;
	el->released_by = s->id;
	el->released_at = now;
	el->release_to = successor;
	el->transfer_to_me = transfer_here;
	s->released_at = now;
	el->active_id = 0;
	el->st.releases_accepted++;
}

/*
 * Did we hear s as the active of term?  Its own heartbeat as a standby (the
 * step-down that goes with a RELEASE, say) clears active_id, and may
 * overtake that RELEASE on the way: the RELEASE still counts.
 */
static int
was_active(const struct vg_election *el, const struct vg_el_node *s,
    uint64_t term)
{
	return s->id == el->active_id ||
	    (s->id == el->term_active && term == el->term_active_of);
}

static void
follow(struct vg_election *el, const struct vg_msg *m, struct vg_el_node *s,
    vg_ns now, struct vg_acts *acts)
{
	if (m->term > el->term) {
		if (el->state == VG_ST_ACTIVE || el->holding)
			step_down(el, now, 0, "an active of a newer term", acts);
		el->term = m->term;
		el->voted_for = 0;
		el->released = 0;
		el->transfer_to_me = 0;
		el->xfer_vote = 0;
		persist(el, acts);
	}
	if (el->state == VG_ST_ACTIVE) {
		/* Two actives in one term cannot be (one vote per term); if it
		 * is seen, count it and keep to the lease, which stays safe. */
		el->st.conflicts++;
		return;
	}
	/*
	 * A second active in one term: a vote was given twice, which only a
	 * voter whose state_dir was lost or restored from a copy can do
	 * (operations.md).  Following each in turn renewed both leases for
	 * ever; neither is followed now (no echo of ours names either), so
	 * both leases run out and a new term decides.
	 */
	if (m->term == el->conflict_term) {
		el->st.conflicts++;
		return;
	}
	if (el->term_active != 0 && el->term_active != s->id &&
	    el->term_active_of == m->term) {
		el->conflict_term = m->term;
		el->active_id = 0;
		el->echo_seq = 0;
		el->st.conflicts++;
		return;
	}
	if (el->state == VG_ST_CANDIDATE)
		set_state(el, idle_state(el, now), "an active is there", acts);
	if (el->active_id != s->id || el->active_inc != m->incarnation) {
		if (el->active_id != s->id) {
			flap_note(el, now);
			el->active_since = now;
		}
		el->active_id = s->id;
		el->active_inc = m->incarnation;
		el->echo_seq = 0;
	}
	if (m->seq > el->echo_seq)
		el->echo_seq = m->seq;
	el->term_active = s->id;
	el->term_active_of = m->term;
	el->quiet_since = now;
	el->last_active_hb = now;
	el->backoff_until = 0;
	/* answer at once: the echo renews its lease one round trip later;
	 * not an answer (an active of another group answering us): that
	 * one is echoed on the grid, else two answers answer each other */
	if (!(m->flags & VG_FLAG_REPLY))
		send_msg(acts, VG_MSG_HEARTBEAT, s->id, VG_FLAG_REPLY,
		    el->term, 0);
}

/* Incarnations further apart than this (ms, ~30 years) say nothing. */
#define VG_INC_SPAN_MS	((int64_t)1000000000000)

/*
 * What a heartbeat says of its sender beyond its state: when it came up (its
 * first heartbeat of an incarnation), and whether it is back after a RELEASE
 * (one sent after it: a higher seq of the same incarnation; after a crash,
 * whose RELEASE its keeper sent from the seqs above the agent's, only a new
 * incarnation).  Back, it is a healthy standby from now on at the earliest.
 */
static void
heard_alive(const struct vg_election *el, struct vg_el_node *s,
    const struct vg_msg *m, vg_ns now)
{
	int64_t d;
	vg_ns est;

	if (s->hb_inc != m->incarnation || s->up_at == 0) {
		s->hb_inc = m->incarnation;
		s->up_at = now;
		/*
		 * Its incarnation is the wall clock in ms at its start, as
		 * ours is at ours: a peer heard first after our own start that
		 * started more than 2D before us by the wall clocks has had
		 * its D run long ago (a restarted node waited D for every peer
		 * it heard, as if each had just started).  Starts closer than
		 * that count from when heard, as before: the clocks' ms and
		 * their skew are not fine enough for a staggered start.  A
		 * wall clock far off, or an incarnation that is not one (last
		 * + 1), moves only when we stand: a round that fails, never a
		 * vote (rule (1) is the voter's own).
		 */
		d = (int64_t)(el->self_inc - m->incarnation);	/* ms */
		/* d > 0 first: a peer far ahead would overflow the product */
		if (el->self_inc != 0 && m->incarnation != 0 && d > 0 &&
		    d < VG_INC_SPAN_MS && (vg_ns)d * VG_NS_PER_MS > 2 * el->dead) {
			est = el->started_at - (vg_ns)d * VG_NS_PER_MS;
			if (est > 0 && est < s->up_at)
				s->up_at = est;
		}
	}
	if (s->gone && (m->incarnation > s->gone_inc ||
	    (m->incarnation == s->gone_inc && m->seq > s->gone_seq))) {
		s->gone = 0;
		s->healthy_since = m->state == VG_ST_STANDBY &&
		    s->role == VG_ROLE_NODE ? now : -1;
	}
}

static void
on_heartbeat(struct vg_election *el, const struct vg_msg *m,
    struct vg_el_node *s, vg_ns echo_sent, vg_ns heard, vg_ns now,
    struct vg_acts *acts)
{
	heard_alive(el, s, m, heard);
	if (m->term > el->held_term)
		el->held_term = m->term;
	if (m->state == VG_ST_ACTIVE && m->active == s->id) {
		if (m->term < el->term) {
			/* never echo an older term: tell it ours instead
			 * (once: an answer is not answered) */
			if (!(m->flags & VG_FLAG_REPLY))
				send_msg(acts, VG_MSG_HEARTBEAT, s->id,
				    VG_FLAG_REPLY, el->term, 0);
			return;
		}
		follow(el, m, s, now, acts);
		return;
	}
	if (was_active(el, s, m->term) && m->term == el->term &&
	    el->state != VG_ST_ACTIVE) {
		/* our active is no longer: a restart is a release */
		if (m->incarnation > el->active_inc)
			release_of(el, s, 0, now, 0);
		else
			el->active_id = 0;
	}
	if (el->state != VG_ST_ACTIVE)
		return;
	if (m->term > el->term) {
		step_down(el, now, 0, "a peer is in a newer term", acts);
		return;
	}
	if (m->term == el->term && m->active == el->self_id && echo_sent >= 0 &&
	    echo_sent != VG_NS_NEVER && m->echo_seq != 0) {
		if (!s->agrees) {
			/* it would refuse its vote elsewhere by another D, or
			 * count another quorum: its echo renews nothing */
			s->echoes_ignored++;
			el->st.echoes_ignored++;
			return;
		}
		if (echo_sent > s->ack_sent)
			s->ack_sent = echo_sent;
		lease_renew(el, quorum_time(el, now), now, acts);
	}
}

/*
 * The TRANSFER's vote reached a candidate in a pre-vote: one that stood on
 * the RELEASE before the TRANSFER came (its wait ran out, or the TRANSFER
 * was late).  Nothing is written yet: the real round of the vote's term at
 * once.  A real round is of a term above the TRANSFER's, which
 * on_release() has refused: the old active grants its request as a repeat.
 */
static void
xfer_take(struct vg_election *el, vg_ns now, struct vg_acts *acts)
{
	if (el->state != VG_ST_CANDIDATE || !el->prevote || !xfer_usable(el))
		return;		/* a standby: candidacy_at() says now */
	el->cand_term = el->xfer_term;
	real_round(el, now, acts);
}

static void
on_release(struct vg_election *el, const struct vg_msg *m,
    struct vg_el_node *s, vg_ns echo_sent, vg_ns now, int transfer,
    struct vg_acts *acts)
{
	uint16_t target;

	/* Whoever sent a RELEASE (accepted or not) is leaving: no hand-over
	 * goes to it until it heartbeats again after it (heard_alive). */
	if (!transfer) {
		s->gone = 1;
		s->gone_inc = m->incarnation;
		s->gone_seq = m->seq;
		s->healthy_since = -1;
	}
	/* TRANSFER to the active from a follower: an operator's request,
	 * made on that node, to hand over (to m->active, 0: our choice). */
	if (transfer && el->state == VG_ST_ACTIVE && m->term == el->term &&
	    m->target == el->self_id) {
		el->st.handover_requests++;
		if (vg_el_handover_check(el, m->active, now, &target) == VG_HO_OK)
			(void)vg_el_handover(el, target, now, acts);
		return;
	}
	/* Only from the node we know as the active of that term: a
	 * follower's keeper must not open an election. */
	if (m->term != el->term || !was_active(el, s, m->term) ||
	    el->state == VG_ST_ACTIVE) {
		if (!(el->released && el->released_by == s->id &&
		    m->term == el->term)) {
			el->st.releases_rejected++;
			return;
		}
	}
	if (transfer && m->target == el->self_id) {
		/* before the vote: a candidate may win on it at once, and
		 * release_of() must not then undo its active_id */
		if (!el->released)
			release_of(el, s, el->self_id, now, 1);
		el->transfer_to_me = 1;
		el->released_at = now;
		/* its vote in term + 1, an echo of what we sent at echo_sent
		 * (it voted after it heard that): counted if its
		 * configuration is ours and that send time is known */
		el->xfer_vote = 0;
		if ((m->flags & VG_FLAG_GRANTED) && s->agrees &&
		    echo_sent >= 0 && echo_sent != VG_NS_NEVER &&
		    echo_sent <= now) {
			el->xfer_vote = s->id;
			el->xfer_term = m->term + 1;
			el->xfer_ack = echo_sent;
			xfer_take(el, now, acts);
		}
		return;
	}
	if (!el->released)
		release_of(el, s, m->active, now, 0);
}

/* ---- entry points */

/* L from a config (conf.c computes it; the mutants break it here) */
static vg_ns
conf_lease(const struct vg_conf *c)
{
#ifdef VG_MUTANT_LEASE_D	/* mutants.sh: L = D */
	return c->dead_time;
#endif
#ifdef VG_MUTANT_NO_DRIFT	/* mutants.sh: L = D - h/4, drift ignored */
	return c->dead_time - c->interval / 4;
#endif
#ifdef VG_MUTANT_NO_MARGIN	/* mutants.sh: L = D(1-rho)/(1+rho), no m */
	return c->lease + c->interval / 4;
#endif
	return c->lease;
}

/* The timing of a configuration: h, D, L, the keeper's margin, rho. */
static void
set_timing(struct vg_election *el, const struct vg_conf *c)
{
	el->h = c->interval;
	el->dead = c->dead_time;
	el->lease = conf_lease(c);
	el->margin = c->interval / 4;
	el->rho = c->max_drift;
	el->vip_outlives = vg_conf_vip_outlives(c);
}

/*
 * Node i of c as this election sees it: its priority in the group, and a
 * node of priority 0 there never holds the group, so it takes part as a
 * witness does (votes, never stands).  A file without `groups` is read
 * as before: the nodes' priorities, the top-level preemption.
 */
static uint8_t
group_priority(const struct vg_election *el, const struct vg_conf *c,
    size_t i)
{
	if (c->groups_line != 0 && el->group < c->n_groups)
		return c->groups[el->group].priority[i];
	return c->nodes[i].priority;
}

static enum vg_role
group_role(const struct vg_election *el, const struct vg_conf *c, size_t i)
{
	if (c->nodes[i].role == VG_ROLE_NODE && group_priority(el, c, i) == 0)
		return VG_ROLE_WITNESS;
	return c->nodes[i].role;
}

static void
group_preempt(struct vg_election *el, const struct vg_conf *c)
{
	if (c->groups_line != 0 && el->group < c->n_groups) {
		el->preempt = c->groups[el->group].preempt;
		el->preempt_delay = c->groups[el->group].preempt_delay;
	} else {
		el->preempt = c->preempt;
		el->preempt_delay = c->preempt_delay;
	}
}

void
vg_el_init(struct vg_election *el, const struct vg_conf *c, uint64_t term,
    uint16_t voted_for, uint64_t seed, vg_ns now)
{
	vg_el_init_group(el, c, 0, term, voted_for, seed, now);
}

void
vg_el_init_group(struct vg_election *el, const struct vg_conf *c,
    size_t group, uint64_t term, uint16_t voted_for, uint64_t seed,
    vg_ns now)
{
	size_t i;

	memset(el, 0, sizeof(*el));
	if (group >= VG_MAX_GROUPS)
		broken("group %zu out of range", group);
	el->group = (uint8_t)group;
	if (term >= VG_TERM_LIMIT)
		broken("term %llu from the vote file is out of range "
		    "(statedir refuses it)", (unsigned long long)term);
	el->digest = c->safety_digest;
	el->self_id = c->nodes[c->self].id;
	el->self = (size_t)c->self;
	el->quorum = c->quorum;
	set_timing(el, c);
	el->n_nodes = c->n_nodes;
	for (i = 0; i < c->n_nodes; i++) {
		struct vg_el_node *n = &el->nodes[i];

		n->id = c->nodes[i].id;
		n->votes = c->nodes[i].votes;
		n->role = group_role(el, c, i);
		n->self = (int)i == c->self;
		n->priority = group_priority(el, c, i);
		n->released_at = -1;
		n->ack_sent = -1;
		n->healthy_since = -1;
		n->back_heard = -1;
		n->agrees = 1;
		n->cfg = 1;
		n->disagree_since = -1;
	}
	group_preempt(el, c);
	el->max_failovers = c->max_failovers;
	el->flap_window = c->flap_window;
	el->priority = group_priority(el, c, (size_t)c->self);
	el->term = el->max_term = term;
	el->voted_for = voted_for;
	el->state = VG_ST_NO_QUORUM;
	/* a freshly started node counts its start as "heard" */
	el->quiet_since = now;
#ifdef VG_MUTANT_RESTART_VOTES	/* mutants.sh: a restarted voter votes at once */
	el->quiet_since = now - el->dead;
#endif
	el->last_active_hb = now;
	el->started_at = now;
	el->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
	if (c->nodes[c->self].votes >= c->quorum)
		el->state = VG_ST_STANDBY;
}

/* Our incarnation: heard_alive reads a peer's start from its own. */
void
vg_el_set_incarnation(struct vg_election *el, uint64_t inc)
{
	el->self_inc = inc;
}

/*
 * The node's last datagram before this start left at `last_sent` (this
 * process's clock): every echo it gave an active is at or before it, so no
 * lease it renewed outlasts last_sent + L, and rule (1) may count from
 * there instead of from the start (a voter killed and restarted after D
 * votes sooner; it waited D after its start, and a cluster back from a
 * two-node fault waited with it).  But never sooner than 2h after `now`,
 * its first heartbeat: what it knew of its peers is gone with the old
 * agent (a HOLDING peer, whose removal was not confirmed: rule (0)), and a
 * live peer's flags reach it within 2h (one echo of our new incarnation
 * makes the peer fresh, at most h, and its heartbeats come every h).
 * Never later than as it was.
 */
void
vg_el_started_after(struct vg_election *el, vg_ns last_sent, vg_ns now)
{
	vg_ns listen = now + 2 * el->h - el->dead;

#ifdef VG_MUTANT_LASTSEND_EARLY	/* mutants.sh: the record read D too old */
	last_sent -= el->dead;
#endif
#ifdef VG_MUTANT_LASTSEND_DEAF	/* mutants.sh: votes before it has listened */
	listen = last_sent;
#endif
	if (last_sent < listen)
		last_sent = listen;
	if (last_sent < el->quiet_since)
		el->quiet_since = last_sent;
}

/*
 * We granted a pre-vote: that candidate gets its round (2h + rtt_worst)
 * before we stand ourselves.  The next-ranked node after a RELEASE stands
 * only h after the best one, and an election that takes longer than h (two
 * round trips and two fsyncs, on a loaded machine) then had two candidates;
 * the second one's state changes and forks hit the follower the new active
 * needed for its first renewal.
 */
static void
defer_candidacy(struct vg_election *el, vg_ns now)
{
	vg_ns t = now + round_len(el);

	if (t > el->backoff_until)
		el->backoff_until = t;
}

void
vg_el_input(struct vg_election *el, const struct vg_msg *m, vg_ns echo_sent,
    vg_ns now, struct vg_acts *acts)
{
	vg_el_input_at(el, m, echo_sent, now, now, acts);
}

void
vg_el_input_at(struct vg_election *el, const struct vg_msg *m,
    vg_ns echo_sent, vg_ns heard, vg_ns now, struct vg_acts *acts)
{
	struct vg_el_node *s = node(el, m->sender);
	uint64_t prevotes;

	acts->group = el->group;
	lease_check(el, now, acts);
	if (s == NULL || s->self)
		return;
	if (m->term >= VG_TERM_LIMIT) {
		/* corrupt or hostile: taking it would make terms wrap */
		el->st.terms_refused++;
		return;
	}
	s->cfg = m->config_digest == el->digest ? 1 : el->digest_alt != 0 &&
	    m->config_digest == el->digest_alt ? 2 : 0;
	if (s->cfg != 0) {
		s->agrees = 1;
		s->disagree_since = -1;
	} else if (s->agrees) {
		s->agrees = 0;
		s->disagree_since = now;
	}
	if (s->heard && m->incarnation > s->incarnation)
		s->released_at = now;		/* restarted */
	if (m->state == VG_ST_STANDBY && s->role == VG_ROLE_NODE) {
		if (s->healthy_since < 0 || !heard_within(el, s, heard))
			s->healthy_since = heard;
	} else
		s->healthy_since = -1;
	if (s->heard && m->state == VG_ST_STANDBY &&
	    (s->state == VG_ST_NO_QUORUM || s->state == VG_ST_FAULT ||
	    s->state == VG_ST_MAINTENANCE))
		s->back_heard = heard;
	/* never earlier than a message of the node's heard before */
	if (!s->heard || heard > s->last_heard)
		s->last_heard = heard;
	s->heard = 1;
	s->state = m->state;
	if (m->type == VG_MSG_HEARTBEAT)
		s->holding = (m->flags & VG_FLAG_HOLDING) != 0 &&
		    m->state != VG_ST_ACTIVE;
	s->priority = m->priority;
	s->term = m->term;
	s->incarnation = m->incarnation;
	if (m->term > el->max_term)
		el->max_term = m->term;

	switch (m->type) {
	case VG_MSG_HEARTBEAT:
		on_heartbeat(el, m, s, echo_sent, heard, now, acts);
		break;
	case VG_MSG_VOTE_REQUEST:
		prevotes = el->st.prevotes_granted;
		on_request(el, m, s, now, 1, acts);
		if (el->st.prevotes_granted != prevotes)
			defer_candidacy(el, now);
		break;
	case VG_MSG_VOTE:
		on_vote(el, m, s, now, acts);
		break;
	case VG_MSG_RELEASE:
		on_release(el, m, s, echo_sent, now, 0, acts);
		break;
	case VG_MSG_TRANSFER:
		on_release(el, m, s, echo_sent, now, 1, acts);
		break;
	}
	lease_check(el, now, acts);
	tick(el, now, acts);	/* a kept request waits for the timer */
}

/* The request defer_request kept, answered now that its time has come. */
static void
answer_deferred(struct vg_election *el, vg_ns now, struct vg_acts *acts)
{
	const struct vg_msg *m = &el->deferred_req;
	struct vg_el_node *c;
	uint64_t prevotes = el->st.prevotes_granted;

	if (!el->deferred || now < el->deferred_at)
		return;
	el->deferred = 0;
	if ((c = node(el, m->sender)) == NULL || c->self ||
	    c->incarnation != m->incarnation ||
	    (m->config_digest != el->digest && (el->digest_alt == 0 ||
	    m->config_digest != el->digest_alt)))
		return;
	on_request(el, m, c, now, 0, acts);
	if (el->st.prevotes_granted != prevotes)
		defer_candidacy(el, now);
}

static void
tick(struct vg_election *el, vg_ns now, struct vg_acts *acts)
{
	switch (el->state) {
	case VG_ST_ACTIVE:
		preempt_check(el, now, acts);
		break;
	case VG_ST_CANDIDATE:
		if (now >= el->round_end)
			round_failed(el, now, acts);
		break;
	case VG_ST_STANDBY:
	case VG_ST_NO_QUORUM:
		to_idle(el, now, el->state == VG_ST_STANDBY ?
		    "lost sight of a quorum" : "a quorum is in sight", acts);
		/* a kept request due first: the timer answers it (its
		 * pre-vote granted holds us back its round), then we stand */
		if (el->state == VG_ST_STANDBY && now >= candidacy_at(el, now) &&
		    !(el->deferred && now >= el->deferred_at))
			start_candidacy(el, now, acts);
		break;
	default:
		break;
	}
}

/* The timer: a kept request is answered here, before the deadlines, never
 * in the middle of an input's list. */
void
vg_el_tick(struct vg_election *el, vg_ns now, struct vg_acts *acts)
{
	acts->group = el->group;
	/* its own votes a quorum (a one-node cluster, or weighted so): no
	 * other node can ever make one (the rest hold fewer than a quorum,
	 * and rule (0) keeps its own vote while active), so its lease runs
	 * from now at every look, not only from an echo that may never come
	 * (it lapsed at L, stepped down after D, stood again after D) */
	if (el->state == VG_ST_ACTIVE && quorum_time(el, now) >= now)
		lease_renew(el, now, now, acts);
	lease_check(el, now, acts);
	answer_deferred(el, now, acts);
	tick(el, now, acts);
}

vg_ns
vg_el_deadline(const struct vg_election *el, vg_ns now)
{
	vg_ns d = VG_NS_NEVER, t;
	size_t i;

	switch (el->state) {
	case VG_ST_ACTIVE:
		d = el->lapsed ? lapse_gives_up(el) : el->lease_deadline;
		for (i = 0; el->preempt && !el->lapsed && i < el->n_nodes; i++) {
			const struct vg_el_node *n = &el->nodes[i];
			vg_ns from = preempt_from(n);

			if (from >= 0 && n->priority > el->priority &&
			    (t = from + el->preempt_delay) < d && t > now)
				d = t;
		}
		break;
	case VG_ST_CANDIDATE:
		d = el->round_end;
		break;
	case VG_ST_STANDBY:
		d = candidacy_at(el, now);
		break;
	default:
		break;
	}
	/* even if past: the timer answers it (answer_deferred clears it) */
	if (el->deferred && el->deferred_at < d)
		d = el->deferred_at;
	/* quorum visibility changes when a peer's D runs out */
	for (i = 0; i < el->n_nodes; i++) {
		const struct vg_el_node *n = &el->nodes[i];

		if (!n->self && n->heard && (t = n->last_heard + el->dead) > now &&
		    t < d)
			d = t;
	}
	return d;
}

/*
 * An active renews its lease from the send time that the echoes carry, not
 * from when it reads them.  Once a quorum's echo of its latest round is
 * read, the lease runs from that round and nothing that comes before the
 * next one can move it: the rest of that round's echoes and their grid
 * copies may wait for the next wake-up, while the lease reaches past it
 * by the keeper's removal batches and a late wake-up.  In a 3-node
 * cluster that is two wake-ups an interval instead of five (its round, the
 * first echo), with the lease in hand as long as before.  When the round's
 * echo does not come (lost), or the lease is thin (at D = 3h, an interval
 * under about 7 ms), it reads on arrival.
 */
int
vg_el_rx_may_wait(const struct vg_election *el, vg_ns until, vg_ns del,
    vg_ns sent)
{
	vg_ns late = el->margin > VG_RX_LATE ? el->margin : VG_RX_LATE;

	return el->state == VG_ST_ACTIVE && el->holding && !el->lapsed &&
	    el->released_own != el->term &&
	    el->lease_deadline - el->lease >= sent &&
	    el->lease_deadline - until >= del + late;
}

int
vg_el_hb_due(const struct vg_election *el, uint16_t target)
{
	/*
	 * Every peer, every grid round.  A follower echoes its active on
	 * arrival (follow()) and on its own grid as well: under loss the grid
	 * copy is a second chance for the same echo to arrive (DESIGN.md,
	 * revised 2026-12: echoing only on arrival halved the renewals).
	 */
	(void)el;
	(void)target;
	return 1;
}

uint64_t
vg_el_echo(const struct vg_election *el, uint16_t target, uint64_t fallback)
{
	/* To the active of our term: the acknowledgement, reset on a change of
	 * term or active.  To anyone else: their stream's newest, for RTT. */
	if (el->active_id != 0 && target == el->active_id &&
	    el->state != VG_ST_ACTIVE)
		return el->echo_seq;
	return fallback;
}

uint16_t
vg_el_hb_flags(const struct vg_election *el)
{
	if (el->state == VG_ST_ACTIVE)
		return el->lapsed ? VG_FLAG_LAPSED : 0;
	/* a removal not confirmed: the peers must not elect past us */
	return el->holding ? VG_FLAG_HOLDING : 0;
}

void
vg_el_grid_done(struct vg_election *el)
{
	/* nothing is kept per grid round any more (see vg_el_hb_due) */
	(void)el;
}

void
vg_el_set_fault(struct vg_election *el, int on, vg_ns now, struct vg_acts *acts)
{
	acts->group = el->group;
	lease_check(el, now, acts);
	if (el->fault == on)
		return;
	el->fault = on;
	if (on && el->state == VG_ST_ACTIVE)
		step_down(el, now, 1, "fault", acts);
	else if (el->state != VG_ST_ACTIVE)
		to_idle(el, now, on ? "fault" : "fault cleared", acts);
}

void
vg_el_keeper_lost(struct vg_election *el, vg_ns now, struct vg_acts *acts)
{
	acts->group = el->group;
	/* vips_off is carried out by the agent itself here */
	el->holding = el->holding || el->state == VG_ST_ACTIVE;
	if (el->state == VG_ST_ACTIVE)
		step_down(el, now, 1, "the keeper died", acts);
	else
		vips_off(el, acts);
}

/* What lets a peer act at once: RELEASE, TRANSFER, a vote granted. */
static int
lets_peers_act(const struct vg_act *a)
{
	return a->type == VG_ACT_SEND && (a->msg_type == VG_MSG_RELEASE ||
	    a->msg_type == VG_MSG_TRANSFER || (a->msg_type == VG_MSG_VOTE &&
	    (a->flags & VG_FLAG_GRANTED)));
}

void
vg_el_vips_unconfirmed(struct vg_election *el, struct vg_acts *acts,
    size_t from)
{
	size_t i, k;

	el->holding = 1;	/* rule (0): no vote while they may be held */
	/* this group's only: a list may hold several groups' actions */
	for (i = k = from; i < acts->n; i++)
		if (acts->a[i].group != el->group ||
		    !lets_peers_act(&acts->a[i]))
			acts->a[k++] = acts->a[i];
	if (k < acts->n)
		acts->n = k;
}

void
vg_el_vips_off(struct vg_election *el)
{
	el->holding = 0;
}

/*
 * Capped at the lease: a round trip longer than L could renew no lease, so
 * an election could win nothing; up to L an election must be able to
 * succeed (a cap at h made every round end before its pre-votes came back
 * once the round trip passed ~3h: RTT 31-41 ms at h = 10 ms, D = 8h).
 */
void
vg_el_set_rtt(struct vg_election *el, vg_ns worst, vg_ns typical)
{
	vg_ns cap = el->lease > 0 ? el->lease : el->h;

	el->rtt_worst = worst < 0 ? 0 : worst > cap ? cap : worst;
	el->rtt_typ = typical < 0 ? 0 : typical > cap ? cap : typical;
}

int
vg_el_handover(struct vg_election *el, uint16_t to, vg_ns now,
    struct vg_acts *acts)
{
	acts->group = el->group;
	lease_check(el, now, acts);
	if (el->state != VG_ST_ACTIVE)
		return -1;
	if (to == 0 && vg_el_handover_check(el, 0, now, &to) != VG_HO_OK)
		to = 0;		/* nobody to name: RELEASE alone */
	el->st.handovers++;
	step_down_to(el, now, 1, to, "hand-over", acts);	/* and TRANSFER */
	return 0;
}

static const char *const ho_text[VG_HO_MAX] = {
	[VG_HO_OK] = "ok",
	[VG_HO_NOT_ACTIVE] = "this node is not the active",
	[VG_HO_NO_ACTIVE] = "no live active node is known",
	[VG_HO_NO_TARGET] = "no eligible node to hand over to",
	[VG_HO_UNKNOWN] = "no such node",
	[VG_HO_SELF] = "the target is the active node itself",
	[VG_HO_DEAD] = "the target has not been heard within dead_time",
	[VG_HO_INELIGIBLE] = "the target is not eligible (a witness, or not standby)",
	[VG_HO_NO_QUORUM] = "a quorum is not in sight",
	[VG_HO_GONE] = "the target released or stopped, not heard since",
	[VG_HO_DISAGREES] = "the target's safety configuration differs",
};

const char *
vg_handover_err_text(enum vg_handover_err e)
{
	return (unsigned)e < VG_HO_MAX ? ho_text[e] : "invalid";
}

/* The best eligible standby other than `skip`, or NULL. */
static const struct vg_el_node *
best_standby(const struct vg_election *el, uint16_t skip, vg_ns now)
{
	const struct vg_el_node *b = NULL;
	size_t i;

	for (i = 0; i < el->n_nodes; i++) {
		const struct vg_el_node *x = &el->nodes[i];

		if (x->self || x->id == skip || x->role != VG_ROLE_NODE ||
		    !heard_agreeing(el, x, now) || x->state != VG_ST_STANDBY ||
		    x->gone)
			continue;
		if (b == NULL || better(x->priority, x->id, b->priority, b->id))
			b = x;
	}
	return b;
}

static enum vg_handover_err
target_check(const struct vg_election *el, uint16_t to, vg_ns now)
{
	const struct vg_el_node *x = NULL;
	size_t i;

	for (i = 0; i < el->n_nodes; i++)
		if (el->nodes[i].id == to)
			x = &el->nodes[i];
	if (x == NULL)
		return VG_HO_UNKNOWN;
	if (x->self) {
		if (!self_eligible(el) || el->state != VG_ST_STANDBY)
			return VG_HO_INELIGIBLE;
		return VG_HO_OK;
	}
	if (!heard_within(el, x, now))
		return VG_HO_DEAD;
	if (x->gone)
		return VG_HO_GONE;
	if (!x->agrees)
		return VG_HO_DISAGREES;
	if (x->role != VG_ROLE_NODE || x->state != VG_ST_STANDBY)
		return VG_HO_INELIGIBLE;
	return VG_HO_OK;
}

enum vg_handover_err
vg_el_handover_check(const struct vg_election *el, uint16_t to, vg_ns now,
    uint16_t *target)
{
	const struct vg_el_node *b;
	enum vg_handover_err e;

	if (el->state != VG_ST_ACTIVE)
		return VG_HO_NOT_ACTIVE;
	if (!vg_el_has_quorum(el, now))
		return VG_HO_NO_QUORUM;
	if (to == el->self_id)
		return VG_HO_SELF;
	if (to == 0) {
		if ((b = best_standby(el, 0, now)) == NULL)
			return VG_HO_NO_TARGET;
		*target = b->id;
		return VG_HO_OK;
	}
	if ((e = target_check(el, to, now)) != VG_HO_OK)
		return e;
	*target = to;
	return VG_HO_OK;
}

enum vg_handover_err
vg_el_request_handover(struct vg_election *el, uint16_t to, vg_ns now,
    struct vg_acts *acts)
{
	const struct vg_el_node *a = NULL;
	enum vg_handover_err e;
	size_t i;

	acts->group = el->group;
	if (el->state == VG_ST_ACTIVE)
		return VG_HO_NOT_ACTIVE;	/* the caller hands over itself */
	for (i = 0; i < el->n_nodes; i++)
		if (el->nodes[i].id == el->active_id && !el->nodes[i].self)
			a = &el->nodes[i];
	if (a == NULL || !heard_within(el, a, now) || a->state != VG_ST_ACTIVE)
		return VG_HO_NO_ACTIVE;
	if (!vg_el_has_quorum(el, now))
		return VG_HO_NO_QUORUM;
	if (to == a->id)
		return VG_HO_SELF;
	if (to == 0 && best_standby(el, a->id, now) == NULL &&
	    (!self_eligible(el) || el->state != VG_ST_STANDBY))
		return VG_HO_NO_TARGET;
	if (to != 0 && (e = target_check(el, to, now)) != VG_HO_OK)
		return e;
	send_msg(acts, VG_MSG_TRANSFER, a->id, 0, el->term, 0)->successor = to;
	return VG_HO_OK;
}

void
vg_el_set_maintenance(struct vg_election *el, int on, vg_ns now,
    struct vg_acts *acts)
{
	acts->group = el->group;
	lease_check(el, now, acts);
	if (el->maintenance == on)
		return;
	el->maintenance = on;
	if (on && el->state == VG_ST_ACTIVE)
		(void)vg_el_handover(el, 0, now, acts);	/* lands in maintenance */
	else if (el->state != VG_ST_ACTIVE)
		to_idle(el, now, on ? "maintenance" : "maintenance over",
		    acts);
}

void
vg_el_set_priority(struct vg_election *el, uint8_t p, vg_ns now,
    struct vg_acts *acts)
{
	el->priority = p;
	vg_el_tick(el, now, acts);
}

void
vg_el_reconf(struct vg_election *el, const struct vg_conf *c, vg_ns now)
{
	struct vg_el_node old[VG_MAX_NODES];
	size_t i, j, n_old = el->n_nodes;

	/* Only what a reload may change.  The timing (h, D, rho, and with
	 * them L and m) and this node's id cannot (vg_conf_fixed_changed):
	 * the running lease and the voters' quiet times were measured with
	 * them.  Term, vote, state, lease and what was heard stay. */
	memcpy(old, el->nodes, sizeof(old));
	if (el->digest != c->safety_digest) {
		/* a reload refuses this (vg_conf_reload_refusal); a caller
		 * that does it anyway gets no echo or vote of the old
		 * configuration counted in the new one */
		el->digest = c->safety_digest;
		for (i = 0; i < n_old; i++) {
			old[i].agrees = 1;
			old[i].cfg = 1;
			old[i].disagree_since = -1;
			old[i].ack_sent = -1;
			old[i].granted = old[i].self;
		}
	}
	el->quorum = c->quorum;
	el->vip_outlives = vg_conf_vip_outlives(c);
	group_preempt(el, c);
	el->max_failovers = c->max_failovers;
	el->flap_window = c->flap_window;
	el->self = (size_t)c->self;
	el->n_nodes = c->n_nodes;
	for (i = 0; i < c->n_nodes; i++) {
		struct vg_el_node *n = &el->nodes[i];

		memset(n, 0, sizeof(*n));
		n->released_at = n->ack_sent = n->healthy_since =
		    n->back_heard = -1;
		n->agrees = 1;
		n->cfg = 1;
		n->disagree_since = -1;
		for (j = 0; j < n_old; j++)
			if (old[j].id == c->nodes[i].id)
				*n = old[j];	/* what we heard stays */
		n->id = c->nodes[i].id;
		n->votes = c->nodes[i].votes;
		n->role = group_role(el, c, i);
		n->self = (int)i == c->self;
		if (n->self)
			n->priority = group_priority(el, c, i);
	}
	(void)now;
}

/*
 * The active: a better node, a healthy standby for preempt_delay, gets the
 * VIPs.  Never one that released, crashed or is stopping: a RELEASE (its
 * own, or its keeper's after a crash, which says "standby") makes it gone
 * until it heartbeats after it; a restart counts from the restart; and it
 * must have been heard within the last two intervals and a round trip (a
 * crashed or stopped standby goes silent; it is not handed the VIPs in the
 * D it takes to be declared dead).
 */
static void
preempt_check(struct vg_election *el, vg_ns now, struct vg_acts *acts)
{
	const struct vg_el_node *b;
	vg_ns from;

	if (el->state != VG_ST_ACTIVE || el->lapsed || !el->preempt ||
	    vg_el_flapping(el, now))
		return;
	b = best_standby(el, 0, now);
	if (b == NULL || b->priority <= el->priority ||
	    (from = preempt_from(b)) < 0 || now - from < el->preempt_delay ||
	    now - b->last_heard > 2 * el->h + el->rtt_worst)
		return;
	el->st.preemptions++;
	(void)vg_el_handover(el, b->id, now, acts);
}

/* ---- a configuration move: JOINT, then FINAL (docs/design.md) */

uint32_t
vg_el_joint_digest(uint32_t old_digest, uint32_t new_digest)
{
	uint32_t d = (old_digest * 0x9e3779b1u) ^ new_digest ^ 0x4a4f494eu;

	/* never one of the two it joins, never 0 ("none") */
	while (d == old_digest || d == new_digest || d == 0)
		d = d * 0x9e3779b1u + 1;
	return d;
}

/* Peers' digests as seen from the new digests: what they last sent stays
 * what it was (J's, C''s or another), only our names for it change. */
static void
recount_cfg(struct vg_election *el, uint32_t was_ours, uint32_t was_alt,
    vg_ns now)
{
	size_t i;

	for (i = 0; i < el->n_nodes; i++) {
		struct vg_el_node *n = &el->nodes[i];
		uint32_t sent = n->cfg == 1 ? was_ours : n->cfg == 2 ? was_alt : 0;

		if (n->self)
			continue;
		n->cfg = sent == 0 ? 0 : sent == el->digest ? 1 :
		    el->digest_alt != 0 && sent == el->digest_alt ? 2 : 0;
		if (!n->heard)
			continue;	/* agrees until heard, as at the start */
		if (n->cfg != 0) {
			n->agrees = 1;
			n->disagree_since = -1;
		} else if (n->agrees) {
			n->agrees = 0;
			n->disagree_since = now;
		}
	}
}

void
vg_el_joint(struct vg_election *el, const struct vg_conf *c, vg_ns now)
{
	uint32_t was = el->digest, was_alt = el->digest_alt;
	vg_ns lease = conf_lease(c);
	size_t i, j;

	if (el->joint || el->removed || el->digest == c->safety_digest)
		return;
	for (i = 0; i < el->n_nodes; i++) {
		el->nodes[i].votes_new = 0;
		el->nodes[i].role_new = VG_ROLE_WITNESS;
	}
	for (j = 0; j < c->n_nodes; j++) {
		struct vg_el_node *n = NULL;

		for (i = 0; i < el->n_nodes; i++)
			if (el->nodes[i].id == c->nodes[j].id)
				n = &el->nodes[i];
		if (n == NULL) {
			if (el->n_nodes >= VG_MAX_NODES)
				broken("more than %d nodes in J", VG_MAX_NODES);
			n = &el->nodes[el->n_nodes++];
			memset(n, 0, sizeof(*n));
			n->id = c->nodes[j].id;
			n->votes = 0;		/* not in C */
			n->role = VG_ROLE_WITNESS;	/* stands in C' only */
			n->priority = group_priority(el, c, j);
			n->released_at = n->ack_sent = n->healthy_since =
			    n->back_heard = -1;
			n->agrees = 1;
			n->disagree_since = -1;
		}
		n->votes_new = c->nodes[j].votes;
		n->role_new = group_role(el, c, j);
	}
	/* may stand in J: a node in both */
	for (i = 0; i < el->n_nodes; i++)
		if (el->nodes[i].role_new != VG_ROLE_NODE)
			el->nodes[i].role = VG_ROLE_WITNESS;
	el->quorum_new = c->quorum;
	if (c->dead_time > el->dead)
		el->dead = c->dead_time;
	if (lease < el->lease)
		el->lease = lease;
	if (c->interval < el->h)
		el->h = c->interval;
	if (c->interval / 4 < el->margin)
		el->margin = c->interval / 4;
	if (c->max_drift > el->rho)
		el->rho = c->max_drift;
	if (vg_conf_vip_outlives(c) > el->vip_outlives)
		el->vip_outlives = vg_conf_vip_outlives(c);
	el->digest = vg_el_joint_digest(was, c->safety_digest);
	el->digest_alt = c->safety_digest;
	el->joint = 1;
	recount_cfg(el, was, was_alt, now);
}

int
vg_el_final(struct vg_election *el, const struct vg_conf *c, vg_ns now,
    struct vg_acts *acts)
{
	struct vg_el_node old[VG_MAX_NODES];
	uint32_t was, was_alt;
	size_t i, j, n_old;
	int self = -1;

	acts->group = el->group;
	for (j = 0; j < c->n_nodes; j++)
		if (c->nodes[j].id == el->self_id)
			self = (int)j;
	if (el->removed || (!el->joint && el->digest == c->safety_digest))
		return self < 0 ? -1 : 0;
	vg_el_joint(el, c, now);	/* JOINT missed: through J at once */
	if (self < 0) {
		/* C' leaves us out: release, never vote or stand again */
		el->removed = 1;
		if (el->state == VG_ST_ACTIVE || el->holding)
			step_down(el, now, 1, "removed by the new configuration",
			    acts);
		else if (el->state == VG_ST_CANDIDATE)
			set_state(el, idle_state(el, now),
			    "removed by the new configuration", acts);
		return -1;
	}
	was = el->digest;
	was_alt = el->digest_alt;
	n_old = el->n_nodes;
	memcpy(old, el->nodes, sizeof(old));
	el->n_nodes = c->n_nodes;
	el->self = (size_t)self;
	for (j = 0; j < c->n_nodes; j++) {
		struct vg_el_node *n = &el->nodes[j];

		for (i = 0; i < n_old; i++)
			if (old[i].id == c->nodes[j].id)
				*n = old[i];	/* every node of C' is in J */
		n->votes = c->nodes[j].votes;
		n->role = group_role(el, c, j);
		n->votes_new = 0;
		n->self = (int)j == self;
	}
	el->quorum = c->quorum;
	el->quorum_new = 0;
	set_timing(el, c);
	el->digest = c->safety_digest;
	el->digest_alt = was;		/* J's: a peer not yet final agrees */
	el->joint = 0;
	recount_cfg(el, was, was_alt, now);
	if (el->state == VG_ST_NO_QUORUM || el->state == VG_ST_STANDBY)
		set_state(el, idle_state(el, now), "configuration moved", acts);
	return 0;
}
