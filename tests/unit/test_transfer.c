/*
 * test_transfer: the vote in the TRANSFER (docs/design.md), on a fake
 * clock, three nodes of one vote each (elfix.h).
 *
 * The active that hands over (n1 here, elected through the real protocol):
 * - its list is its vote for the successor in term + 1 made durable (before
 *   the removal, so that the fsync is not in the gap), VIPs off,
 *   RELEASE(term), TRANSFER(term) marked GRANTED to the successor;
 * - from that vote on it is a voter like any other: n3's request in term +
 *   1 is refused (one vote per term), in term + 2 refused for D (rule 1:
 *   its own release no longer lifts it), granted once D has passed; the
 *   successor's own request in term + 1 is granted again, nothing written;
 * - a hand-over in a list that already sends a heartbeat (the tick that
 *   won the election) carries no vote: that heartbeat would leave with the
 *   new term before its PERSIST.
 *
 * The successor (n1 again, following n2):
 * - on a TRANSFER marked GRANTED it is the active of term + 1 in the same
 *   input, even with term + 1 already seen from n2's next heartbeat: its
 *   own vote persisted before the request and the lease, the first lease
 *   running from the send time of the message n2 echoed, not from now;
 * - not so (a candidate, without a quorum) for a TRANSFER without the
 *   mark, one whose echo's send time it does not know, one from a node
 *   whose safety configuration is not ours, or once a term above the
 *   vote's was seen (a win in it would not last): then it asks above every
 *   term seen, as before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "elfix.h"

static size_t
count(const struct vg_acts *acts, enum vg_act_type t)
{
	size_t i, n = 0;

	for (i = 0; i < acts->n; i++)
		n += acts->a[i].type == t;
	return n;
}

/* n3's (or n2's) request for term: the answer n1 sends. */
static struct vg_act
ask(struct el_fix *f, uint16_t from, uint64_t term, struct vg_acts *acts)
{
	struct vg_msg m = el_msg(from, VG_MSG_VOTE_REQUEST, 0, term,
	    VG_ST_CANDIDATE);
	const struct vg_act *v;

	acts->n = 0;
	vg_el_input(&f->el, &m, VG_NS_NEVER, f->now, acts);
	v = act_find(acts, VG_ACT_SEND, VG_MSG_VOTE, 0, NULL);
	assert_non_null(v);
	return *v;
}

static void
test_active_gives_its_vote(void **state)
{
	struct el_fix *f = el_fix_new();
	struct vg_acts acts = { .n = 0 };
	const struct vg_act *p, *r, *x;
	struct vg_act v;
	size_t off = 0, at_p = 0, at_r = 0, at_x = 0;
	uint64_t t;

	(void)state;
	el_elect(&f->el, &f->now);
	t = f->el.term;
	f->now += H;
	assert_int_equal(vg_el_handover(&f->el, 2, f->now, &acts), 0);
	assert_non_null(act_find(&acts, VG_ACT_VIPS_OFF, 0, 0, &off));
	p = act_find(&acts, VG_ACT_PERSIST, 0, 0, &at_p);
	r = act_find(&acts, VG_ACT_SEND, VG_MSG_RELEASE, off, &at_r);
	x = act_find(&acts, VG_ACT_SEND, VG_MSG_TRANSFER, off, &at_x);
	assert_non_null(p);
	assert_non_null(r);
	assert_non_null(x);
	/* the vote's fsync before the removal: not in the gap after it */
	assert_true(at_p < off && off < at_r && off < at_x);
	assert_true(p->term == t + 1);
	assert_int_equal(p->voted_for, 2);
	/* RELEASE and TRANSFER are of the term it released */
	assert_true(r->term == t && x->term == t);
	assert_int_equal(x->target, 2);
	assert_int_equal(x->successor, 2);
	assert_int_equal(x->flags, VG_FLAG_GRANTED);
	assert_int_equal(r->flags, 0);
	assert_true(f->el.term == t + 1);
	assert_int_equal(f->el.voted_for, 2);
	assert_int_equal(f->el.state, VG_ST_STANDBY);
	assert_false(f->el.released);
	assert_true(f->el.released_own == t);
	assert_int_equal(f->el.st.transfer_votes, 1);

	/* one vote per term: n3 in term + 1 */
	v = ask(f, 3, t + 1, &acts);
	assert_false(v.flags & VG_FLAG_GRANTED);
	assert_int_equal(v.reason, VG_REFUSE_TERM);
	/* the successor asking again: granted, nothing written */
	v = ask(f, 2, t + 1, &acts);
	assert_true(v.flags & VG_FLAG_GRANTED);
	assert_int_equal(count(&acts, VG_ACT_PERSIST), 0);
	/* term + 2 from n3: rule (1) holds it for D from that vote */
	f->now += f->el.dead / 2;
	v = ask(f, 3, t + 2, &acts);
	assert_false(v.flags & VG_FLAG_GRANTED);
	assert_int_equal(v.reason, VG_REFUSE_RECENT);
	assert_true(f->el.term == t + 1);
	/* D after its last grant (n2's repeat just now counted as one) */
	f->now += f->el.dead + 1;
	v = ask(f, 3, t + 2, &acts);
	assert_int_not_equal(v.reason, VG_REFUSE_RECENT);
	el_fix_free(f);
}

static void
test_no_vote_after_a_heartbeat_in_the_list(void **state)
{
	struct el_fix *f = el_fix_new();
	struct vg_acts acts = { .n = 0 };
	const struct vg_act *x;
	struct vg_act *hb;
	uint64_t t;

	(void)state;
	el_elect(&f->el, &f->now);
	t = f->el.term;
	f->now += H;
	/* as when the same tick won and then hands over */
	hb = &acts.a[acts.n++];
	memset(hb, 0, sizeof(*hb));
	hb->type = VG_ACT_SEND;
	hb->msg_type = VG_MSG_HEARTBEAT;
	hb->term = t;
	assert_int_equal(vg_el_handover(&f->el, 2, f->now, &acts), 0);
	x = act_find(&acts, VG_ACT_SEND, VG_MSG_TRANSFER, 0, NULL);
	assert_non_null(x);
	assert_int_equal(x->flags, 0);
	assert_int_equal(count(&acts, VG_ACT_PERSIST), 0);
	assert_true(f->el.term == t);
	assert_true(f->el.released);
	assert_int_equal(f->el.st.transfer_votes, 0);
	el_fix_free(f);
}

/* n1 follows n2, the active of term 7, n3 a standby. */
static void
follow_n2(struct el_fix *f, uint64_t *seq)
{
	struct vg_acts acts;
	struct vg_msg m;
	int i;

	for (i = 0; i < 6; i++) {
		f->now += H;
		acts.n = 0;
		m = el_msg(2, VG_MSG_HEARTBEAT, 0, 7, VG_ST_ACTIVE);
		m.active = 2;
		m.seq = (*seq)++;
		vg_el_input(&f->el, &m, VG_NS_NEVER, f->now, &acts);
		m = el_msg(3, VG_MSG_HEARTBEAT, 0, 7, VG_ST_STANDBY);
		m.active = 2;
		m.seq = (*seq)++;
		vg_el_input(&f->el, &m, VG_NS_NEVER, f->now, &acts);
	}
	assert_int_equal(f->el.active_id, 2);
	assert_int_equal(f->el.state, VG_ST_STANDBY);
}

enum xfer_kind { X_VOTE, X_LATE, X_PLAIN, X_UNKNOWN_ECHO, X_DISAGREES,
	X_HIGHER };

static const char *const xfer_names[] = {
	"with its vote", "with its vote, after n1 stood on the RELEASE",
	"without a vote", "its echo's send time unknown",
	"from a node of another configuration",
	"with its vote, after a term above the vote's was seen"
};

static void
test_successor_wins_at_once(void **state)
{
	int k;

	(void)state;
	for (k = X_VOTE; k <= X_HIGHER; k++) {
		struct el_fix *f = el_fix_new();
		struct vg_acts acts = { .n = 0 };
		const struct vg_act *p, *q, *l;
		size_t at_p = 0, at_q = 0, at_l = 0;
		struct vg_msg m;
		uint64_t seq = 1;
		vg_ns sent = 0;

		follow_n2(f, &seq);
		/* a typical round trip of 1 ms: the RELEASE's wait */
		vg_el_set_rtt(&f->el, VG_MS(2), VG_MS(1));
		f->now += H / 4;
		sent = f->now - VG_MS(3);	/* what n2 echoed: ours, 3 ms ago */
		/* n2's heartbeat as a standby of term 8 overtakes both */
		m = el_msg(2, VG_MSG_HEARTBEAT, 0, 8, VG_ST_STANDBY);
		m.seq = seq + 2;
		vg_el_input(&f->el, &m, VG_NS_NEVER, f->now, &acts);
		if (k == X_HIGHER) {
			/* n3 is at 9 (a round of its own): a win in 8
			 * would not last; n1 asks above it, as without */
			m = el_msg(3, VG_MSG_HEARTBEAT, 0, 9, VG_ST_STANDBY);
			m.seq = seq + 3;
			vg_el_input(&f->el, &m, VG_NS_NEVER, f->now, &acts);
		}
		m = el_msg(2, VG_MSG_RELEASE, 0, 7, VG_ST_STANDBY);
		m.seq = seq;
		m.active = 1;
		vg_el_input(&f->el, &m, VG_NS_NEVER, f->now, &acts);
		if (k == X_LATE) {
			/* the wait ran out first: a pre-vote above 8 */
			f->now += VG_MS(2);
			vg_el_tick(&f->el, f->now, &acts);
			assert_int_equal(f->el.state, VG_ST_CANDIDATE);
			assert_true(f->el.prevote && f->el.cand_term == 9);
		}
		acts.n = 0;
		m = el_msg(2, VG_MSG_TRANSFER, k == X_PLAIN ? 0 :
		    VG_FLAG_GRANTED, 7, VG_ST_STANDBY);
		m.seq = seq + 1;
		m.active = 1;
		m.echo_seq = 5;
		if (k == X_DISAGREES)
			m.config_digest ^= 1;
		vg_el_input(&f->el, &m, k == X_UNKNOWN_ECHO ? VG_NS_NEVER :
		    sent, f->now + VG_MS(1) / 50, &acts);
		if (k != X_VOTE && k != X_LATE) {
			if (f->el.state == VG_ST_ACTIVE)
				fail_msg("a TRANSFER %s: active at once",
				    xfer_names[k]);
			assert_int_equal(f->el.st.transfer_vote_wins, 0);
			/* standing, as before, after its wait: the real
			 * round (a TRANSFER) above every term seen */
			acts.n = 0;
			vg_el_tick(&f->el, f->now + VG_MS(2), &acts);
			if (k != X_DISAGREES) {
				assert_int_equal(f->el.state,
				    VG_ST_CANDIDATE);
				assert_true(f->el.term ==
				    (k == X_HIGHER ? 10 : 9));
			}
			assert_int_equal(f->el.st.transfer_vote_wins, 0);
			el_fix_free(f);
			continue;
		}
		if (f->el.state != VG_ST_ACTIVE)
			fail_msg("a TRANSFER %s: not active at once (%s)",
			    xfer_names[k], vg_state_name(f->el.state));
		assert_true(f->el.term == 8);
		assert_int_equal(f->el.voted_for, 1);
		assert_int_equal(f->el.st.transfer_vote_wins, 1);
		p = act_find(&acts, VG_ACT_PERSIST, 0, 0, &at_p);
		q = act_find(&acts, VG_ACT_SEND, VG_MSG_VOTE_REQUEST, 0, &at_q);
		l = act_find(&acts, VG_ACT_LEASE, 0, 0, &at_l);
		assert_non_null(p);
		assert_non_null(q);
		assert_non_null(l);
		assert_true(p->term == 8 && p->voted_for == 1);
		assert_true(at_p < at_q && at_p < at_l);
		assert_false(q->flags & VG_FLAG_PRE);
		assert_true(q->term == 8 && l->term == 8);
		/* from what n2 echoed, not from the request or now */
		assert_true(l->deadline == sent + f->el.lease);
		assert_non_null(act_find(&acts, VG_ACT_SEND, VG_MSG_HEARTBEAT,
		    at_l, NULL));
		el_fix_free(f);
	}
}


/*
 * A candidate in a pre-vote that takes the TRANSFER's vote wins inside
 * xfer_take(); on 730a456 on_release() then runs release_of() on the new
 * active (real_round() cleared `released`): active_id 0 (its heartbeats
 * say "active 0": nobody follows or echoes it, the lease is never
 * renewed) and transfer_to_me 1 (after its step-down it stands again at
 * once in the term it released, on the same carried vote).
 */
static void
test_late_transfer_active_id(void **state)
{
	int k;

	(void)state;
	/* 0: the RELEASE's wait ran out first; 1: no round trip measured
	 * yet (the wait is the grace for the TRANSFER, VG_XFER_GRACE) */
	for (k = 0; k < 2; k++) {
		struct el_fix *f = el_fix_new();
		struct vg_acts acts = { .n = 0 };
		const struct vg_act *hb;
		struct vg_msg m;
		uint64_t seq = 1;

		follow_n2(f, &seq);
		if (k == 0)
			vg_el_set_rtt(&f->el, VG_MS(2), VG_MS(1));
		f->now += H / 4;
		m = el_msg(2, VG_MSG_RELEASE, 0, 7, VG_ST_STANDBY);
		m.seq = seq++;
		m.active = 1;
		vg_el_input(&f->el, &m, VG_NS_NEVER, f->now, &acts);
		/* named successor, the TRANSFER not in yet: it waits */
		acts.n = 0;
		vg_el_tick(&f->el, f->now + 500 * VG_NS_PER_US, &acts);
		assert_int_equal(f->el.state, VG_ST_STANDBY);
		f->now += k == 0 ? VG_MS(2) : VG_XFER_GRACE;
		acts.n = 0;
		vg_el_tick(&f->el, f->now, &acts);
		assert_int_equal(f->el.state, VG_ST_CANDIDATE);
		assert_true(f->el.prevote);
		acts.n = 0;
		m = el_msg(2, VG_MSG_TRANSFER, VG_FLAG_GRANTED, 7,
		    VG_ST_STANDBY);
		m.seq = seq++;
		m.active = 1;
		m.echo_seq = 5;
		vg_el_input(&f->el, &m, f->now - VG_MS(3), f->now, &acts);
		assert_int_equal(f->el.state, VG_ST_ACTIVE);
		hb = act_find(&acts, VG_ACT_SEND, VG_MSG_HEARTBEAT, 0, NULL);
		assert_non_null(hb);
		/* vigild encodes that heartbeat's `active` from here */
		assert_int_equal(f->el.active_id, 1);
		assert_false(f->el.transfer_to_me);
		el_fix_free(f);
	}
}

/*
 * Rule (0) for a peer: n3 says its removal was not confirmed (HOLDING);
 * n1 would refuse n2's request (peer_holding), so it gives n2 no vote in
 * the TRANSFER either (730a456 gives it).
 */
static void
test_no_vote_past_a_holding_peer(void **state)
{
	struct el_fix *f = el_fix_new();
	struct vg_acts acts = { .n = 0 };
	const struct vg_act *x;
	struct vg_msg m;

	(void)state;
	el_elect(&f->el, &f->now);
	f->now += H / 2;
	m = el_msg(3, VG_MSG_HEARTBEAT, VG_FLAG_HOLDING, f->el.term,
	    VG_ST_STANDBY);
	m.active = 1;
	m.seq = 100;
	vg_el_input(&f->el, &m, VG_NS_NEVER, f->now, &acts);
	assert_int_equal(f->el.state, VG_ST_ACTIVE);
	acts.n = 0;
	assert_int_equal(vg_el_handover(&f->el, 2, f->now, &acts), 0);
	x = act_find(&acts, VG_ACT_SEND, VG_MSG_TRANSFER, 0, NULL);
	assert_non_null(x);
	assert_int_equal(x->flags, 0);
	el_fix_free(f);
}

/*
 * A candidate already in the real round of T + 1 drops TRANSFER(T) (its
 * term is past it); the old active's answer to its request, a repeat of
 * the vote it gave, makes the quorum.
 */
static void
test_real_round_takes_transfer(void **state)
{
	struct el_fix *f = el_fix_new();
	struct vg_acts acts = { .n = 0 };
	struct vg_msg m;
	uint64_t seq = 1;

	(void)state;
	follow_n2(f, &seq);
	vg_el_set_rtt(&f->el, VG_MS(2), VG_MS(1));
	f->now += H / 4;
	m = el_msg(2, VG_MSG_RELEASE, 0, 7, VG_ST_STANDBY);
	m.seq = seq++;
	m.active = 1;
	vg_el_input(&f->el, &m, VG_NS_NEVER, f->now, &acts);
	f->now += VG_MS(2);
	acts.n = 0;
	vg_el_tick(&f->el, f->now, &acts);
	assert_true(f->el.state == VG_ST_CANDIDATE && f->el.prevote);
	/* n3's pre-vote: the real round of 8 */
	m = el_msg(3, VG_MSG_VOTE, VG_FLAG_PRE | VG_FLAG_GRANTED,
	    f->el.cand_term, VG_ST_STANDBY);
	m.seq = seq++;
	vg_el_input(&f->el, &m, VG_NS_NEVER, f->now, &acts);
	assert_true(f->el.state == VG_ST_CANDIDATE && !f->el.prevote);
	assert_true(f->el.term == 8);
	acts.n = 0;
	m = el_msg(2, VG_MSG_TRANSFER, VG_FLAG_GRANTED, 7, VG_ST_STANDBY);
	m.seq = seq++;
	m.active = 1;
	m.echo_seq = 5;
	vg_el_input(&f->el, &m, f->now - VG_MS(3), f->now, &acts);
	assert_int_equal(f->el.state, VG_ST_CANDIDATE);
	assert_int_equal(f->el.st.releases_rejected, 1);
	m = el_msg(2, VG_MSG_VOTE, VG_FLAG_GRANTED, 8, VG_ST_STANDBY);
	m.seq = seq++;
	vg_el_input(&f->el, &m, VG_NS_NEVER, f->now, &acts);
	assert_int_equal(f->el.state, VG_ST_ACTIVE);
	assert_int_equal(f->el.active_id, 1);
	el_fix_free(f);
}

/*
 * The old active voted for n2 in T + 1; n2's pre-vote for T + 1 (it stood
 * on the RELEASE, its TRANSFER lost) is refused `term` on 730a456.  With
 * n3 down that hand-over then waits for the old active's D (before
 * 730a456 its own release lifted rule (1): granted at once).
 */
static void
test_prevote_of_the_one_voted_for(void **state)
{
	struct el_fix *f = el_fix_new();
	struct vg_acts acts = { .n = 0 };
	struct vg_msg m;
	const struct vg_act *v;
	uint64_t t;

	(void)state;
	el_elect(&f->el, &f->now);
	t = f->el.term;
	f->now += H;
	assert_int_equal(vg_el_handover(&f->el, 2, f->now, &acts), 0);
	acts.n = 0;
	f->now += VG_MS(1);
	m = el_msg(2, VG_MSG_VOTE_REQUEST, VG_FLAG_PRE, t + 1,
	    VG_ST_CANDIDATE);
	m.seq = 1000;
	vg_el_input(&f->el, &m, VG_NS_NEVER, f->now, &acts);
	v = act_find(&acts, VG_ACT_SEND, VG_MSG_VOTE, 0, NULL);
	assert_non_null(v);
	assert_true(v->flags & VG_FLAG_GRANTED);
	el_fix_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_active_gives_its_vote),
		cmocka_unit_test(test_no_vote_after_a_heartbeat_in_the_list),
		cmocka_unit_test(test_successor_wins_at_once),
		cmocka_unit_test(test_late_transfer_active_id),
		cmocka_unit_test(test_no_vote_past_a_holding_peer),
		cmocka_unit_test(test_real_round_takes_transfer),
		cmocka_unit_test(test_prevote_of_the_one_voted_for),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
