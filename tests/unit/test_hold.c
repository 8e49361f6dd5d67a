/*
 * test_hold: the election's side of holding the VIPs, on a fake clock.  A
 * node is elected through the real protocol (heartbeats, pre-votes, votes
 * from its two peers); then the shell cannot confirm that a removal took
 * (vg_el_vips_unconfirmed):
 *
 * - a hand-over's RELEASE and TRANSFER are struck, its state change stays;
 *   the same hand-over, confirmed, sends both (the positive control);
 * - every vote, pre-vote or real, is refused ("active": rule 0) for as long
 *   as the VIPs may be held, however long the node has been quiet; once a
 *   later removal is confirmed (vg_el_vips_off) the next request is granted;
 * - from an arbitrary list only RELEASE, TRANSFER and granted VOTEs go, from
 *   the index given on, in order; refusals and heartbeats stay;
 * - after the keeper is lost and the agent's own removal fails, the same;
 * - the peers' side: such a node's heartbeats say VG_FLAG_HOLDING, and its
 *   peers give no vote to any other candidate while it says so, nor for
 *   vip_lifetime (and the kernel's slack) after it falls silent saying so;
 *   a heartbeat without the flag lifts that at once;
 * - a lapsed active that hears nothing from a quorum (its way in cut)
 *   steps down and releases an interval (and h/8) after the lapse; one
 *   that still hears its peers (only the echoes lost), or that stalled
 *   after the lapse with the peers' datagrams not yet read, waits D for a
 *   renewal.
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

static void
input(struct el_fix *f, const struct vg_msg *m, struct vg_acts *acts)
{
	vg_el_input(&f->el, m, VG_NS_NEVER, f->now, acts);
}

static void
elect(struct el_fix *f)
{
	el_elect(&f->el, &f->now);
}

/* A vote request of n2 for `term` (pre or real): the VOTE n1 answers. */
static struct vg_act
ask(struct el_fix *f, uint64_t term, uint16_t pre)
{
	struct vg_acts acts = { .n = 0 };
	struct vg_msg m = el_msg(2, VG_MSG_VOTE_REQUEST, pre, term, VG_ST_CANDIDATE);
	const struct vg_act *v;

	input(f, &m, &acts);
	v = act_find(&acts, VG_ACT_SEND, VG_MSG_VOTE, 0, NULL);
	assert_non_null(v);
	assert_int_equal(v->target, 2);
	return *v;
}

static void
test_unconfirmed_handover(void **state)
{
	struct el_fix *f = el_fix_new();
	struct el_fix *g = el_fix_new();
	struct vg_acts acts = { .n = 0 }, ctl = { .n = 0 };
	const struct vg_act *st;
	size_t off = 0;
	struct vg_act v;
	uint64_t term;

	(void)state;
	elect(f);
	elect(g);
	/* the positive control: confirmed, RELEASE and TRANSFER leave */
	assert_int_equal(vg_el_handover(&g->el, 2, g->now, &ctl), 0);
	assert_non_null(act_find(&ctl, VG_ACT_VIPS_OFF, 0, 0, &off));
	assert_non_null(act_find(&ctl, VG_ACT_SEND, VG_MSG_RELEASE, off + 1, NULL));
	assert_non_null(act_find(&ctl, VG_ACT_SEND, VG_MSG_TRANSFER, off + 1, NULL));

	assert_int_equal(vg_el_handover(&f->el, 2, f->now, &acts), 0);
	assert_non_null(act_find(&acts, VG_ACT_VIPS_OFF, 0, 0, &off));
	vg_el_vips_unconfirmed(&f->el, &acts, off + 1);
	assert_null(act_find(&acts, VG_ACT_SEND, VG_MSG_RELEASE, 0, NULL));
	assert_null(act_find(&acts, VG_ACT_SEND, VG_MSG_TRANSFER, 0, NULL));
	assert_non_null(act_find(&acts, VG_ACT_VIPS_OFF, 0, 0, NULL));
	st = act_find(&acts, VG_ACT_STATE, 0, 0, NULL);
	assert_non_null(st);
	assert_int_equal(st->old_state, VG_ST_ACTIVE);
	assert_int_not_equal(f->el.state, VG_ST_ACTIVE);

	/* no vote, pre or real, while they may be held: not after 3 D */
	f->now += 3 * f->el.dead;
	term = f->el.term;
	v = ask(f, f->el.max_term + 1, VG_FLAG_PRE);
	assert_false(v.flags & VG_FLAG_GRANTED);
	assert_int_equal(v.reason, VG_REFUSE_ACTIVE);
	v = ask(f, f->el.max_term + 1, 0);
	assert_false(v.flags & VG_FLAG_GRANTED);
	assert_int_equal(v.reason, VG_REFUSE_ACTIVE);
	assert_true(f->el.term == term);	/* a refusal changes nothing */
	/* its vote for the successor in the next term is on disk; the
	 * TRANSFER that would have carried it was struck */
	assert_int_equal(f->el.voted_for, 2);
	assert_non_null(act_find(&acts, VG_ACT_PERSIST, 0, 0, NULL));

	/* a later removal is confirmed: the next request is granted */
	vg_el_vips_off(&f->el);
	assert_false(f->el.holding);
	v = ask(f, f->el.max_term + 1, VG_FLAG_PRE);
	assert_true(v.flags & VG_FLAG_GRANTED);
	v = ask(f, f->el.max_term + 1, 0);
	assert_true(v.flags & VG_FLAG_GRANTED);
	assert_int_equal(f->el.voted_for, 2);
	el_fix_free(f);
	el_fix_free(g);
}

static void
test_unconfirmed_keeper_lost(void **state)
{
	struct el_fix *f = el_fix_new();
	struct vg_acts acts = { .n = 0 };
	size_t off = 0;
	struct vg_act v;

	(void)state;
	elect(f);
	vg_el_keeper_lost(&f->el, f->now, &acts);
	assert_non_null(act_find(&acts, VG_ACT_VIPS_OFF, 0, 0, &off));
	assert_non_null(act_find(&acts, VG_ACT_SEND, VG_MSG_RELEASE, off + 1, NULL));
	vg_el_vips_unconfirmed(&f->el, &acts, off + 1);
	assert_null(act_find(&acts, VG_ACT_SEND, VG_MSG_RELEASE, 0, NULL));
	f->now += 3 * f->el.dead;
	vg_el_tick(&f->el, f->now, &acts);
	v = ask(f, f->el.max_term + 1, 0);
	assert_false(v.flags & VG_FLAG_GRANTED);
	assert_int_equal(v.reason, VG_REFUSE_ACTIVE);
	vg_el_vips_off(&f->el);
	v = ask(f, f->el.max_term + 1, 0);
	assert_true(v.flags & VG_FLAG_GRANTED);
	el_fix_free(f);
}

/* n3's vote request to n1 (a standby here): n1's answer */
static struct vg_act
ask3(struct el_fix *f, uint64_t term, uint16_t pre)
{
	struct vg_acts acts = { .n = 0 };
	struct vg_msg m = el_msg(3, VG_MSG_VOTE_REQUEST, pre, term,
	    VG_ST_CANDIDATE);
	const struct vg_act *v;

	input(f, &m, &acts);
	v = act_find(&acts, VG_ACT_SEND, VG_MSG_VOTE, 0, NULL);
	assert_non_null(v);
	return *v;
}

static void
test_unconfirmed_peer(void **state)
{
	struct el_fix *f = el_fix_new();
	struct vg_acts acts = { .n = 0 };
	struct vg_msg m;
	struct vg_act v;
	size_t off = 0;
	vg_ns outlives = vg_conf_vip_outlives(f->conf);

	(void)state;
	/* the node whose removal failed says so in its heartbeats */
	elect(f);
	assert_int_equal(vg_el_hb_flags(&f->el), 0);
	assert_int_equal(vg_el_handover(&f->el, 2, f->now, &acts), 0);
	assert_non_null(act_find(&acts, VG_ACT_VIPS_OFF, 0, 0, &off));
	vg_el_vips_unconfirmed(&f->el, &acts, off + 1);
	assert_int_not_equal(f->el.state, VG_ST_ACTIVE);
	assert_int_equal(vg_el_hb_flags(&f->el), VG_FLAG_HOLDING);
	vg_el_vips_off(&f->el);
	assert_int_equal(vg_el_hb_flags(&f->el), 0);
	el_fix_free(f);

	/* a peer: n1, quiet for 3 D, hears n2 (standby) say it may hold */
	f = el_fix_new();
	f->now += 3 * f->el.dead;
	acts.n = 0;
	m = el_msg(2, VG_MSG_HEARTBEAT, VG_FLAG_HOLDING, f->el.term,
	    VG_ST_STANDBY);
	input(f, &m, &acts);
	v = ask3(f, f->el.max_term + 1, VG_FLAG_PRE);
	assert_false(v.flags & VG_FLAG_GRANTED);
	assert_int_equal(v.reason, VG_REFUSE_ACTIVE);
	v = ask3(f, f->el.max_term + 1, 0);
	assert_false(v.flags & VG_FLAG_GRANTED);
	/* n2 falls silent: still none until the kernel's lifetime is out */
	f->now += outlives - VG_MS(1);
	v = ask3(f, f->el.max_term + 1, 0);
	assert_false(v.flags & VG_FLAG_GRANTED);
	assert_int_equal(v.reason, VG_REFUSE_ACTIVE);
	f->now += VG_MS(2);
	v = ask3(f, f->el.max_term + 1, 0);
	assert_true(v.flags & VG_FLAG_GRANTED);
	el_fix_free(f);

	/* a heartbeat of n2 without the flag lifts it at once */
	f = el_fix_new();
	f->now += 3 * f->el.dead;
	m = el_msg(2, VG_MSG_HEARTBEAT, VG_FLAG_HOLDING, f->el.term,
	    VG_ST_STANDBY);
	input(f, &m, &acts);
	v = ask3(f, f->el.max_term + 1, VG_FLAG_PRE);
	assert_false(v.flags & VG_FLAG_GRANTED);
	f->now += H;
	m = el_msg(2, VG_MSG_HEARTBEAT, 0, f->el.term, VG_ST_STANDBY);
	input(f, &m, &acts);
	v = ask3(f, f->el.max_term + 1, VG_FLAG_PRE);
	assert_true(v.flags & VG_FLAG_GRANTED);
	el_fix_free(f);
}

static struct vg_act
send_act(uint8_t type, uint16_t flags, uint64_t term)
{
	struct vg_act a;

	memset(&a, 0, sizeof(a));
	a.type = VG_ACT_SEND;
	a.msg_type = type;
	a.flags = flags;
	a.term = term;
	return a;
}

static void
test_strike_list(void **state)
{
	struct el_fix *f = el_fix_new();
	struct vg_acts acts = { .n = 0 };

	(void)state;
	acts.a[acts.n++] = send_act(VG_MSG_RELEASE, 0, 1);	/* before: stays */
	acts.a[acts.n].type = VG_ACT_VIPS_OFF;
	acts.n++;
	acts.a[acts.n++] = send_act(VG_MSG_VOTE, VG_FLAG_GRANTED, 2);
	acts.a[acts.n++] = send_act(VG_MSG_VOTE, 0, 3);
	acts.a[acts.n++] = send_act(VG_MSG_HEARTBEAT, 0, 4);
	acts.a[acts.n++] = send_act(VG_MSG_VOTE, VG_FLAG_PRE | VG_FLAG_GRANTED,
	    5);
	acts.a[acts.n++] = send_act(VG_MSG_RELEASE, 0, 6);
	acts.a[acts.n++] = send_act(VG_MSG_TRANSFER, 0, 7);
	acts.a[acts.n].type = VG_ACT_PERSIST;
	acts.a[acts.n++].term = 8;
	acts.a[acts.n].type = VG_ACT_STATE;
	acts.a[acts.n++].term = 9;
	vg_el_vips_unconfirmed(&f->el, &acts, 2);
	assert_true(f->el.holding);
	assert_int_equal(acts.n, 6);
	assert_int_equal(acts.a[0].msg_type, VG_MSG_RELEASE);
	assert_int_equal(acts.a[0].term, 1);
	assert_int_equal(acts.a[1].type, VG_ACT_VIPS_OFF);
	assert_int_equal(acts.a[2].term, 3);
	assert_int_equal(acts.a[2].msg_type, VG_MSG_VOTE);
	assert_int_equal(acts.a[3].term, 4);
	assert_int_equal(acts.a[3].msg_type, VG_MSG_HEARTBEAT);
	assert_int_equal(acts.a[4].type, VG_ACT_PERSIST);
	assert_int_equal(acts.a[5].type, VG_ACT_STATE);
	/* nothing after: nothing struck */
	vg_el_vips_unconfirmed(&f->el, &acts, acts.n);
	assert_int_equal(acts.n, 6);
	el_fix_free(f);
}

/* A list holds several VIP groups' actions (one per datagram's groups):
 * a removal of group 0 not confirmed strikes group 0's, not group 1's. */
static void
test_strike_own_group(void **state)
{
	struct el_fix *f = el_fix_new();
	struct vg_acts acts = { .n = 0 };

	(void)state;
	acts.a[acts.n].type = VG_ACT_VIPS_OFF;
	acts.n++;
	acts.a[acts.n++] = send_act(VG_MSG_RELEASE, 0, 1);
	acts.a[acts.n] = send_act(VG_MSG_RELEASE, 0, 2);
	acts.a[acts.n++].group = 1;
	acts.a[acts.n] = send_act(VG_MSG_VOTE, VG_FLAG_GRANTED, 3);
	acts.a[acts.n++].group = 1;
	acts.a[acts.n++] = send_act(VG_MSG_TRANSFER, 0, 4);
	assert_int_equal(f->el.group, 0);
	vg_el_vips_unconfirmed(&f->el, &acts, 1);
	assert_int_equal(acts.n, 3);
	assert_int_equal(acts.a[1].term, 2);
	assert_int_equal(acts.a[1].group, 1);
	assert_int_equal(acts.a[2].term, 3);
	assert_int_equal(acts.a[2].msg_type, VG_MSG_VOTE);
	el_fix_free(f);
}

/*
 * n1, elected, hears no echo after its election: its lease lapses.
 * - way in cut (nothing heard): it steps down and sends RELEASE h + h/8
 *   after the lapse, once it has seen the silence twice, h/8 apart (no
 *   renewal can come; a one-way cut of the holder was D without any
 *   holder);
 * - echoes lost only (both standbys' heartbeats heard every h/2, echoing
 *   nothing): D after the lapse, as before, for a renewal;
 * - the same, but the agent does not run for 2.5h after the lapse (a
 *   stall): its timer runs first, before the datagrams that came in the
 *   meantime are read (stamped when they came): still D.
 */
enum lapse_case { L_CUT, L_HEARD, L_STALL };

static void
test_lapse_gives_up(void **state)
{
	int k, i;

	(void)state;
	for (k = L_CUT; k <= L_STALL; k++) {
		struct el_fix *f = el_fix_new();
		struct vg_acts acts;
		struct vg_msg m;
		vg_ns lapsed_at = 0, released_at = 0, gone, stamp;
		uint16_t p;
		int stalled = 0;

		el_elect(&f->el, &f->now);
		for (i = 0; i < 2000 && released_at == 0; i++) {
			f->now += H / 10;
			acts.n = 0;
			stamp = f->now;
			if (k == L_STALL && lapsed_at != 0 && !stalled &&
			    f->now >= lapsed_at + H / 2) {
				/* 2.5h without running: the timer first */
				stalled = 1;
				f->now += 5 * H / 2;
				vg_el_tick(&f->el, f->now, &acts);
				if (act_find(&acts, VG_ACT_SEND,
				    VG_MSG_RELEASE, 0, NULL) != NULL)
					fail_msg("a stall: released before "
					    "reading what came during it");
				stamp = f->now - H / 4;
			}
			for (p = 2; k != L_CUT && p <= 3 &&
			    (i % 5 == 0 || stamp != f->now); p++) {
				m = el_msg(p, VG_MSG_HEARTBEAT, 0, f->el.term,
				    VG_ST_STANDBY);
				m.active = 1;
				m.seq = 1000 + (uint64_t)i;
				vg_el_input_at(&f->el, &m, VG_NS_NEVER, stamp,
				    f->now, &acts);
			}
			vg_el_tick(&f->el, f->now, &acts);
			if (f->el.lapsed && lapsed_at == 0)
				lapsed_at = f->el.lapsed_at;
			if (act_find(&acts, VG_ACT_SEND, VG_MSG_RELEASE, 0,
			    NULL) != NULL)
				released_at = f->now;
			/* the wake-up it asks for is when it gives up */
			if (f->el.lapsed && released_at == 0)
				assert_true(vg_el_deadline(&f->el, f->now) <=
				    (k == L_CUT ? lapsed_at + H + H / 8 :
				    lapsed_at + f->el.dead));
		}
		assert_true(lapsed_at != 0 && released_at != 0);
		assert_int_not_equal(f->el.state, VG_ST_ACTIVE);
		gone = released_at - lapsed_at;
		if (k == L_CUT) {
			if (gone < H + H / 8 || gone > H + H / 8 + H / 10)
				fail_msg("way in cut: released %lld ms after "
				    "the lapse, not one interval and h/8",
				    (long long)(gone / VG_MS(1)));
		} else if (gone < f->el.dead || gone > f->el.dead + H / 10)
			fail_msg("%s: released %lld ms after the lapse, not D",
			    k == L_HEARD ? "echoes lost, peers heard" :
			    "a stall", (long long)(gone / VG_MS(1)));
		el_fix_free(f);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unconfirmed_handover),
		cmocka_unit_test(test_lapse_gives_up),
		cmocka_unit_test(test_unconfirmed_keeper_lost),
		cmocka_unit_test(test_unconfirmed_peer),
		cmocka_unit_test(test_strike_list),
		cmocka_unit_test(test_strike_own_group),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
