/*
 * test_peer: liveness, loss and round trip of one peer on a fake clock.
 * Every "now" is a vg_ns the test hands in; nothing sleeps or reads a clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"
#include "clock.h"
#include "conf.h"
#include "peer.h"
#include "proto.h"

#define INC	5000
#define T0	VG_MS(1000)		/* an arbitrary start on the fake clock */
#define US(x)	((vg_ns)(x) * VG_NS_PER_US)

static const char fixture_conf[] =
	"cluster = \"ut\";\n"
	"auth = \"none\";\n"
	"interval = 100;\n"
	"dead_time = 500;\n"
	"nodes = (\n"
	"\t{ id = 1; name = \"alpha\"; address = \"192.0.2.1\"; },\n"
	"\t{ id = 2; name = \"beta\"; address = \"192.0.2.2\"; votes = 2; "
	"role = \"witness\"; }\n"
	");\n";

struct fix {
	struct vg_conf	*conf;
	struct vg_peer	 p;
	vg_ns		 dead;
};

static int
fix_setup(void **state)
{
	struct vg_errs errs;
	struct fix *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	vg_errs_init(&errs);
	f->conf = vg_conf_parse(fixture_conf, "fixture.conf", "alpha", &errs);
	if (f->conf == NULL) {
		free(f);
		return -1;
	}
	vg_peer_init(&f->p, &f->conf->nodes[1]);
	f->dead = f->conf->dead_time;
	*state = f;
	return 0;
}

static int
fix_teardown(void **state)
{
	struct fix *f = *state;

	vg_conf_free(f->conf);
	free(f);
	return 0;
}

static struct vg_msg
hb(uint64_t incarnation, uint64_t seq)
{
	struct vg_msg m;

	memset(&m, 0, sizeof(m));
	m.version = VG_VERSION;
	m.type = VG_MSG_HEARTBEAT;
	m.sender = 2;
	m.target = 1;
	m.state = VG_ST_STANDBY;
	m.priority = 100;
	m.term = 1;
	m.incarnation = incarnation;
	m.seq = seq;
	return m;
}

/* A heartbeat echoing our seq `echo`, held `delay_us` by the peer. */
static struct vg_msg
hb_echo(uint64_t seq, uint64_t echo, uint32_t delay_us)
{
	struct vg_msg m = hb(INC, seq);

	m.echo_seq = echo;
	m.u.hb.echo_delay_us = delay_us;
	return m;
}

static enum vg_peer_event
heard(struct fix *f, const struct vg_msg *m, int64_t gap, vg_ns now)
{
	return vg_peer_heard(&f->p, m, gap, now, now, f->dead);
}

/* ---- liveness */

static void
test_init(void **state)
{
	struct fix *f = *state;

	assert_int_equal(f->p.id, 2);
	assert_string_equal(f->p.name, "beta");
	assert_string_equal(f->p.address, "192.0.2.2");
	assert_int_equal(f->p.votes, 2);
	assert_int_equal(f->p.role, VG_ROLE_WITNESS);
	assert_int_equal(f->p.salen, f->conf->nodes[1].salen);
	assert_memory_equal(&f->p.sa, &f->conf->nodes[1].sa, f->p.salen);
	assert_int_equal(f->dead, VG_MS(500));
}

static void
test_not_alive_before_heard(void **state)
{
	struct fix *f = *state;

	assert_false(f->p.alive);
	assert_false(f->p.ever_seen);
	assert_int_equal(vg_peer_deadline(&f->p), VG_NS_NEVER);
	assert_int_equal(vg_peer_tick(&f->p, 0), VG_PEER_EV_NONE);
	assert_int_equal(vg_peer_tick(&f->p, T0 + 100 * f->dead),
	    VG_PEER_EV_NONE);
	assert_int_equal(f->p.downs, 0);
	assert_int_equal(vg_peer_echo_seq(&f->p), 0);
	assert_int_equal(vg_peer_echo_delay_us(&f->p, T0), 0);
}

static void
test_heard_is_up(void **state)
{
	struct fix *f = *state;
	struct vg_msg m = hb(INC, 1);

	assert_int_equal(heard(f, &m, 0, T0), VG_PEER_EV_UP);
	assert_true(f->p.alive);
	assert_true(f->p.ever_seen);
	assert_int_equal(f->p.ups, 1);
	assert_int_equal(f->p.up_since, T0);
	assert_int_equal(f->p.last_seen, T0);
	assert_int_equal(f->p.rx, 1);
	assert_true(f->p.last.seq == 1);
	assert_int_equal(vg_peer_deadline(&f->p), T0 + f->dead);
	assert_int_equal(f->p.dead_at, T0 + f->dead);

	/* heard again while up: nothing to say, the deadline moves */
	m = hb(INC, 2);
	assert_int_equal(heard(f, &m, 0, T0 + VG_MS(100)), VG_PEER_EV_NONE);
	assert_int_equal(f->p.ups, 1);
	assert_int_equal(f->p.up_since, T0);
	assert_int_equal(f->p.last_seen, T0 + VG_MS(100));
	assert_int_equal(vg_peer_deadline(&f->p), f->p.last_seen + f->dead);
	assert_int_equal(f->p.rx, 2);
}

static void
test_deadline_and_down(void **state)
{
	struct fix *f = *state;
	struct vg_msg m = hb(INC, 1);
	vg_ns dl;

	heard(f, &m, 0, T0);
	dl = vg_peer_deadline(&f->p);
	assert_int_equal(dl, f->p.last_seen + f->dead);
	assert_int_equal(vg_peer_tick(&f->p, T0), VG_PEER_EV_NONE);
	assert_int_equal(vg_peer_tick(&f->p, dl - 1), VG_PEER_EV_NONE);
	assert_true(f->p.alive);
	/* at the deadline: down, once */
	assert_int_equal(vg_peer_tick(&f->p, dl), VG_PEER_EV_DOWN);
	assert_false(f->p.alive);
	assert_int_equal(f->p.downs, 1);
	assert_int_equal(vg_peer_deadline(&f->p), VG_NS_NEVER);
	assert_int_equal(vg_peer_tick(&f->p, dl), VG_PEER_EV_NONE);
	assert_int_equal(vg_peer_tick(&f->p, dl + f->dead * 10), VG_PEER_EV_NONE);
	assert_int_equal(f->p.downs, 1);
	/* a dead peer echoes nothing */
	assert_int_equal(vg_peer_echo_seq(&f->p), 0);
	assert_int_equal(vg_peer_echo_delay_us(&f->p, dl + 1), 0);

	/* heard again: up again, a new deadline */
	m = hb(INC, 2);
	assert_int_equal(heard(f, &m, 0, dl + VG_MS(3)), VG_PEER_EV_UP);
	assert_true(f->p.alive);
	assert_int_equal(f->p.ups, 2);
	assert_int_equal(f->p.up_since, dl + VG_MS(3));
	assert_int_equal(vg_peer_deadline(&f->p), dl + VG_MS(3) + f->dead);
	assert_int_equal(f->p.restarts, 0);
	/* and down again at that one */
	assert_int_equal(vg_peer_tick(&f->p, dl + VG_MS(3) + f->dead - 1),
	    VG_PEER_EV_NONE);
	assert_int_equal(vg_peer_tick(&f->p, dl + VG_MS(3) + f->dead + 1),
	    VG_PEER_EV_DOWN);
	assert_int_equal(f->p.downs, 2);
}

static void
test_late_message_extends_deadline(void **state)
{
	struct fix *f = *state;
	struct vg_msg m = hb(INC, 5);

	heard(f, &m, 0, T0);
	/* a reordered older message is still the peer, alive */
	m = hb(INC, 4);
	assert_int_equal(heard(f, &m, -1, T0 + VG_MS(400)), VG_PEER_EV_NONE);
	assert_int_equal(vg_peer_deadline(&f->p), T0 + VG_MS(400) + f->dead);
	assert_int_equal(vg_peer_tick(&f->p, T0 + f->dead), VG_PEER_EV_NONE);
	/* but what it last said is the newer one */
	assert_true(f->p.last.seq == 5);
}

static void
test_restart(void **state)
{
	struct fix *f = *state;
	struct vg_msg m = hb(INC, 40);

	heard(f, &m, 0, T0);
	assert_int_equal(vg_peer_echo_seq(&f->p), 40);
	/* a newer incarnation while up: it restarted */
	m = hb(INC + 1, 1);
	m.state = VG_ST_CANDIDATE;
	assert_int_equal(heard(f, &m, 0, T0 + VG_MS(50)), VG_PEER_EV_RESTART);
	assert_int_equal(f->p.restarts, 1);
	assert_int_equal(f->p.ups, 1);
	assert_true(f->p.alive);
	assert_true(f->p.last.incarnation == INC + 1);
	assert_int_equal(f->p.last.state, VG_ST_CANDIDATE);
	/* its new stream starts over: we echo 1, not 40 */
	assert_int_equal(vg_peer_echo_seq(&f->p), 1);
	/* the same incarnation again is no restart */
	m = hb(INC + 1, 2);
	assert_int_equal(heard(f, &m, 0, T0 + VG_MS(60)), VG_PEER_EV_NONE);
	assert_int_equal(f->p.restarts, 1);

	/* restarted while we thought it dead: that is an up */
	vg_peer_tick(&f->p, T0 + VG_MS(60) + f->dead);
	assert_false(f->p.alive);
	m = hb(INC + 2, 1);
	assert_int_equal(heard(f, &m, 0, T0 + VG_MS(2000)), VG_PEER_EV_UP);
	assert_int_equal(f->p.restarts, 1);
	assert_int_equal(vg_peer_echo_seq(&f->p), 1);
}

/* ---- loss, from the gaps vg_replay_update reports (as rx.c does) */

static void
recv_seq(struct fix *f, struct vg_replay *r, uint64_t incarnation,
    uint64_t seq, vg_ns now)
{
	struct vg_msg m = hb(incarnation, seq);
	int64_t gap;

	assert_int_equal(vg_replay_check(r, incarnation, seq), VG_DROP_NONE);
	gap = vg_replay_update(r, incarnation, seq);
	heard(f, &m, gap, now);
}

static void
test_loss(void **state)
{
	struct fix *f = *state;
	struct vg_replay r;
	vg_ns t = T0;

	memset(&r, 0, sizeof(r));
	recv_seq(f, &r, INC, 1, t += VG_MS(100));
	recv_seq(f, &r, INC, 2, t += VG_MS(100));
	assert_int_equal(f->p.lost, 0);
	recv_seq(f, &r, INC, 5, t += VG_MS(100));	/* 3, 4 missing */
	assert_int_equal(f->p.lost, 2);
	recv_seq(f, &r, INC, 4, t += VG_MS(1));		/* late: reordered */
	assert_int_equal(f->p.lost, 1);
	recv_seq(f, &r, INC, 3, t += VG_MS(1));
	assert_int_equal(f->p.lost, 0);
	recv_seq(f, &r, INC, 10, t += VG_MS(100));	/* 6..9 missing */
	assert_int_equal(f->p.lost, 4);
	recv_seq(f, &r, INC, 8, t += VG_MS(1));
	assert_int_equal(f->p.lost, 3);
	assert_int_equal(f->p.rx, 7);
	/* the newest seq is still 10: a late one does not roll it back */
	assert_int_equal(vg_peer_echo_seq(&f->p), 10);
	/* a new incarnation is no loss, whatever seq it starts at */
	recv_seq(f, &r, INC + 1, 7, t += VG_MS(100));
	assert_int_equal(f->p.lost, 3);
	/* a fill never takes the count below zero */
	f->p.lost = 0;
	recv_seq(f, &r, INC + 1, 9, t += VG_MS(100));
	assert_int_equal(f->p.lost, 1);
	recv_seq(f, &r, INC + 1, 8, t += VG_MS(1));
	assert_int_equal(f->p.lost, 0);
	{
		struct vg_msg m = hb(INC + 1, 9);

		heard(f, &m, -1, t += VG_MS(1));
		assert_int_equal(f->p.lost, 0);
	}
}

/* ---- round trip */

static void
test_next_seq(void **state)
{
	struct fix *f = *state;

	assert_true(vg_peer_next_seq(&f->p, T0) == 1);
	assert_true(vg_peer_next_seq(&f->p, T0 + 1) == 2);
	assert_true(vg_peer_next_seq(&f->p, T0 + 2) == 3);
	assert_true(f->p.tx_seq == 3);
	assert_true(f->p.ring[2 % VG_PEER_RING].seq == 2);
	assert_int_equal(f->p.ring[2 % VG_PEER_RING].sent, T0 + 1);
}

/*
 * After it came up (or a long silence) the first echo of something sent
 * since opens the way: it is no sample itself (it may have waited behind
 * neighbour resolution).  Returns the time after it.
 */
static vg_ns
open_path(struct fix *f, uint64_t seq, vg_ns t)
{
	uint64_t s = vg_peer_next_seq(&f->p, t), skipped = f->p.rtt_skipped;
	struct vg_msg m = hb_echo(seq, s, 0);

	heard(f, &m, 0, t + VG_MS(5));
	assert_int_equal(f->p.rtt_skipped, skipped + 1);
	return t + VG_MS(5);
}

static void
test_rtt(void **state)
{
	struct fix *f = *state;
	struct vg_msg m;
	uint64_t s;
	vg_ns t;

	m = hb(INC, 1);
	heard(f, &m, 0, T0 - VG_MS(20));
	assert_false(f->p.rtt_valid);
	open_path(f, 2, T0 - VG_MS(10));
	assert_false(f->p.rtt_valid);

	/* sent at T0, echoed after 300 us at the peer, back at T0 + 2 ms */
	s = vg_peer_next_seq(&f->p, T0);
	m = hb_echo(3, s, 300);
	heard(f, &m, 0, T0 + VG_MS(2));
	assert_true(f->p.rtt_valid);
	assert_int_equal(f->p.rtt_last, VG_MS(2) - US(300));
	assert_int_equal(f->p.rtt_last, US(1700));
	assert_int_equal(f->p.srtt, US(1700));		/* the first sample */
	assert_int_equal(f->p.rtt_max, US(1700));
	assert_int_equal(vg_peer_rtt_bound(&f->p), US(1700));

	/* 0.9 ms: srtt moves 1/8 of the way */
	t = T0 + VG_MS(100);
	s = vg_peer_next_seq(&f->p, t);
	m = hb_echo(4, s, 100);
	heard(f, &m, 0, t + US(1000));
	assert_int_equal(f->p.rtt_last, US(900));
	assert_int_equal(f->p.srtt, US(1700) + (US(900) - US(1700)) / 8);
	assert_int_equal(f->p.srtt, US(1600));
	assert_int_equal(f->p.rtt_max, US(1700));

	/* 3.3 ms: a new maximum, and the bound */
	t = T0 + VG_MS(200);
	s = vg_peer_next_seq(&f->p, t);
	m = hb_echo(5, s, 0);
	heard(f, &m, 0, t + US(3300));
	assert_int_equal(f->p.rtt_last, US(3300));
	assert_int_equal(f->p.srtt, US(1600) + (US(3300) - US(1600)) / 8);
	assert_int_equal(f->p.srtt, 1812500);
	assert_int_equal(f->p.rtt_max, US(3300));
	assert_int_equal(vg_peer_rtt_bound(&f->p), US(3300));

	/* a delay longer than the round trip (its rounding) is no negative rtt */
	t = T0 + VG_MS(300);
	s = vg_peer_next_seq(&f->p, t);
	m = hb_echo(6, s, 600);
	heard(f, &m, 0, t + US(500));
	assert_int_equal(f->p.rtt_last, 0);
	assert_int_equal(f->p.rtt_max, US(3300));
}

static void
test_rtt_no_sample(void **state)
{
	struct fix *f = *state;
	struct vg_msg m;
	uint64_t first, s = 0;
	vg_ns t;
	int i;

	m = hb(INC, 1);
	heard(f, &m, 0, T0);
	t = open_path(f, 2, T0);
	first = vg_peer_next_seq(&f->p, t);
	/* an echo of a seq we never sent */
	m = hb_echo(3, first + 1, 0);
	heard(f, &m, 0, t + VG_MS(1));
	assert_false(f->p.rtt_valid);
	/* no echo at all */
	m = hb_echo(4, 0, 0);
	heard(f, &m, 0, t + VG_MS(1));
	assert_false(f->p.rtt_valid);
	/* an echo in a message that is not a heartbeat */
	m = hb_echo(5, first, 0);
	m.type = VG_MSG_VOTE;
	m.u.vote.reason = 0;
	heard(f, &m, 0, t + VG_MS(1));
	assert_false(f->p.rtt_valid);
	/* an echo whose hold time the peer did not know */
	m = hb_echo(6, first, VG_ECHO_DELAY_UNKNOWN);
	heard(f, &m, 0, t + VG_MS(1));
	assert_false(f->p.rtt_valid);

	/* VG_PEER_RING later, the slot of `first` holds another seq */
	for (i = 0; i < VG_PEER_RING; i++)
		s = vg_peer_next_seq(&f->p, t + VG_MS(2) + i);
	assert_true(s == first + VG_PEER_RING);
	m = hb_echo(7, first, 0);
	heard(f, &m, 0, t + VG_MS(5));
	assert_false(f->p.rtt_valid);
	/* the oldest one still in the ring does give a sample */
	m = hb_echo(8, first + 1, 0);
	heard(f, &m, 0, t + VG_MS(5));
	assert_true(f->p.rtt_valid);
	assert_int_equal(f->p.rtt_last, VG_MS(5) - (VG_MS(2) + 0));
}

/* A peer that comes back starts a fresh estimate. */
static void
test_rtt_reset_on_up(void **state)
{
	struct fix *f = *state;
	struct vg_msg m;
	uint64_t s;
	vg_ns t;

	m = hb(INC, 1);
	heard(f, &m, 0, T0);
	t = open_path(f, 2, T0);
	s = vg_peer_next_seq(&f->p, t);
	m = hb_echo(3, s, 0);
	heard(f, &m, 0, t + VG_MS(9));
	assert_true(f->p.rtt_valid);
	assert_int_equal(f->p.rtt_max, VG_MS(9));
	vg_peer_tick(&f->p, t + VG_MS(9) + f->dead);
	m = hb(INC, 4);
	assert_int_equal(heard(f, &m, 0, T0 + VG_MS(2000)), VG_PEER_EV_UP);
	assert_false(f->p.rtt_valid);
	assert_int_equal(f->p.rtt_max, 0);
	t = open_path(f, 5, T0 + VG_MS(2050));
	s = vg_peer_next_seq(&f->p, T0 + VG_MS(2100));
	m = hb_echo(6, s, 0);
	heard(f, &m, 0, T0 + VG_MS(2101));
	assert_int_equal(f->p.srtt, VG_MS(1));
	assert_int_equal(f->p.rtt_max, VG_MS(1));
}

/*
 * The worst round trip is that of a window (10 s here, four dead_times
 * when that is longer), not of all time: one slow moment is forgotten.
 */
static void
test_rtt_window(void **state)
{
	struct fix *f = *state;
	struct vg_msg m;
	uint64_t s, seq = 3;
	vg_ns t;
	int i;

	m = hb(INC, 1);
	heard(f, &m, 0, T0);
	t = open_path(f, 2, T0);
	/* one slow moment: 40 ms */
	s = vg_peer_next_seq(&f->p, t);
	m = hb_echo(seq++, s, 0);
	heard(f, &m, 0, t + VG_MS(40));
	assert_int_equal(vg_peer_rtt_bound(&f->p), VG_MS(40));
	/* then 1 ms every 100 ms: still the worst 8 s later */
	for (i = 1; i <= 80; i++) {
		vg_ns at = t + VG_MS(100) * i;

		s = vg_peer_next_seq(&f->p, at);
		m = hb_echo(seq++, s, 0);
		heard(f, &m, 0, at + VG_MS(1));
		vg_peer_tick(&f->p, at + VG_MS(1));
	}
	assert_int_equal(vg_peer_rtt_bound(&f->p), VG_MS(40));
	/* gone once the window has passed over it (10..12.5 s) */
	for (; i <= 130; i++) {
		vg_ns at = t + VG_MS(100) * i;

		s = vg_peer_next_seq(&f->p, at);
		m = hb_echo(seq++, s, 0);
		heard(f, &m, 0, at + VG_MS(1));
		vg_peer_tick(&f->p, at + VG_MS(1));
	}
	assert_int_equal(f->p.rtt_max, VG_MS(1));
	assert_int_equal(vg_peer_rtt_bound(&f->p), f->p.srtt > VG_MS(1) ?
	    f->p.srtt : VG_MS(1));
	/* a window with no sample at all: the typical round trip */
	vg_peer_tick(&f->p, t + VG_MS(100) * 130 + VG_MS(20000));
	assert_int_equal(f->p.rtt_max, 0);
	assert_true(f->p.rtt_valid);
	assert_int_equal(vg_peer_rtt_bound(&f->p), f->p.srtt);
}

/*
 * After a silence of half of dead_time (a link flap), heartbeats we sent
 * meanwhile come back late, having sat behind neighbour resolution: they
 * are not round trips (the worst would be 300 ms here, for good).
 */
static void
test_rtt_after_silence(void **state)
{
	struct fix *f = *state;
	struct vg_msg m;
	uint64_t s, during[3], seq = 3;
	vg_ns t;
	int i;

	m = hb(INC, 1);
	heard(f, &m, 0, T0);
	t = open_path(f, 2, T0);
	s = vg_peer_next_seq(&f->p, t);
	m = hb_echo(seq++, s, 0);
	heard(f, &m, 0, t + VG_MS(1));
	assert_int_equal(f->p.rtt_max, VG_MS(1));
	/* 300 ms of silence (dead_time 500 ms), while we go on sending */
	for (i = 0; i < 3; i++)
		during[i] = vg_peer_next_seq(&f->p, t + VG_MS(100) * (i + 1));
	/* it is heard again: its echoes of what waited */
	for (i = 0; i < 3; i++) {
		m = hb_echo(seq++, during[i], 0);
		heard(f, &m, 0, t + VG_MS(400) + US(10) * i);
	}
	assert_int_equal(f->p.rtt_max, VG_MS(1));
	/* the first echo of what was sent since: not yet a sample */
	s = vg_peer_next_seq(&f->p, t + VG_MS(401));
	m = hb_echo(seq++, s, 0);
	heard(f, &m, 0, t + VG_MS(404));
	assert_int_equal(f->p.rtt_max, VG_MS(1));
	assert_int_equal(f->p.rtt_skipped, 1 + 3 + 1);
	/* and from then on */
	s = vg_peer_next_seq(&f->p, t + VG_MS(410));
	m = hb_echo(seq++, s, 0);
	heard(f, &m, 0, t + VG_MS(412));
	assert_int_equal(f->p.rtt_last, VG_MS(2));
	assert_int_equal(f->p.rtt_max, VG_MS(2));
	assert_int_equal(vg_peer_rtt_bound(&f->p), VG_MS(2));
}

/* ---- what we echo */

static void
test_echo(void **state)
{
	struct fix *f = *state;
	struct vg_msg m;

	m = hb(INC, 7);
	heard(f, &m, 0, T0);
	assert_true(vg_peer_echo_seq(&f->p) == 7);
	assert_int_equal(vg_peer_echo_delay_us(&f->p, T0), 0);
	assert_int_equal(vg_peer_echo_delay_us(&f->p, T0 + US(1500)), 1500);
	assert_int_equal(vg_peer_echo_delay_us(&f->p, T0 + US(1500) + 999), 1500);
	/* a clock read before the arrival is no negative delay */
	assert_int_equal(vg_peer_echo_delay_us(&f->p, T0 - VG_MS(1)), 0);
	/* a late older seq changes neither the echo nor its time */
	m = hb(INC, 6);
	heard(f, &m, -1, T0 + VG_MS(1));
	assert_true(vg_peer_echo_seq(&f->p) == 7);
	assert_int_equal(vg_peer_echo_delay_us(&f->p, T0 + VG_MS(2)), 2000);
	/* a newer one does */
	m = hb(INC, 8);
	heard(f, &m, 0, T0 + VG_MS(3));
	assert_true(vg_peer_echo_seq(&f->p) == 8);
	assert_int_equal(vg_peer_echo_delay_us(&f->p, T0 + VG_MS(4)), 1000);
	/* held for ever: saturates */
	assert_int_equal(vg_peer_echo_delay_us(&f->p,
	    T0 + VG_MS(3) + (vg_ns)UINT32_MAX * 1000 * 2), UINT32_MAX);
}

/*
 * While a peer has yet to prove itself fresh (after our restart) we echo
 * the newest seq of it we dropped, so that two nodes started together
 * each see their echo.  A keeper's RELEASE (seqs from 2^62, of an earlier
 * incarnation when replayed) is never that seq: once echoed, it stood
 * above every real one, the peer refused the echo, and neither of two
 * such nodes ever proved itself to the other.
 */
static void
test_unfresh_echo_ignores_keeper_seqs(void **state)
{
	struct fix *f = *state;
	struct vg_msg m;

	f->p.seq_base = f->p.tx_seq = 1000ULL << VG_SEQ_BASE_SHIFT;
	f->p.fresh = 0;
	m = hb(INC, 5);
	assert_false(vg_peer_fresh(&f->p, &m));
	assert_true(vg_peer_echo_seq(&f->p) == 5);
	m = hb(INC - 1, VG_SEQ_KEEPER_BASE + 3);
	m.type = VG_MSG_RELEASE;
	assert_false(vg_peer_fresh(&f->p, &m));
	assert_true(vg_peer_echo_seq(&f->p) == 5);
	m = hb(INC, 6);
	assert_false(vg_peer_fresh(&f->p, &m));
	assert_true(vg_peer_echo_seq(&f->p) == 6);
}

static void
test_event_names(void **state)
{
	(void)state;
	assert_string_equal(vg_peer_event_name(VG_PEER_EV_NONE), "none");
	assert_string_equal(vg_peer_event_name(VG_PEER_EV_UP), "up");
	assert_string_equal(vg_peer_event_name(VG_PEER_EV_DOWN), "down");
	assert_string_equal(vg_peer_event_name(VG_PEER_EV_RESTART), "restart");
}

#define T(f)	cmocka_unit_test_setup_teardown(f, fix_setup, fix_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_init),
		T(test_not_alive_before_heard),
		T(test_heard_is_up),
		T(test_deadline_and_down),
		T(test_late_message_extends_deadline),
		T(test_restart),
		T(test_unfresh_echo_ignores_keeper_seqs),
		T(test_loss),
		T(test_next_seq),
		T(test_rtt),
		T(test_rtt_no_sample),
		T(test_rtt_reset_on_up),
		T(test_rtt_window),
		T(test_rtt_after_silence),
		T(test_echo),
		cmocka_unit_test(test_event_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
