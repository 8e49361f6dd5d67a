/*
 * test_agreement: configuration agreement as a safety rule (issue 10).
 *
 * A small cluster of pure elections on a fake clock, each node with its
 * own configuration text (what a node-by-node change makes), a network of
 * queued datagrams with a little latency, cuts, frozen agents whose keeper
 * still enforces its deadline, restarts with another file, and the old
 * reload (vg_el_reconf with whatever file).  After every step it counts
 * the nodes whose keeper holds the VIPs.  (A minimal harness of its own:
 * the full simulator lives with test_election.)
 *
 * - two_quorums: 5 nodes; n1 is reloaded to a 3-node file (what the
 *   guide's "reload node by node" did); {n1, n2} | {n3, n4, n5}.  Before
 *   the rule n2's echoes kept n1's lease and n3 was elected beside it.
 * - mixed_dead_time: D = 10h on the active, 3h on the voters (a rolling
 *   restart that changes dead_time, each node down longer than the old
 *   lease), then the active is cut off or frozen.  Before the rule the
 *   voters elected 3h after its last heartbeat while its lease ran 10h.
 * Both: at most one holder at every step, a holder in the end (the side
 * that agrees elects), and the refusals counted where they happened.
 * - the counters and vg_el_disagreeing on one election, by hand; no
 *   hand-over to a node that disagrees.
 * - terms: a message with a term at or above 2^63-1 is dropped and
 *   counted, a vote file holding one is refused, and no candidacy reaches
 *   the limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "election.h"
#include "proto.h"
#include "statedir.h"

#include "elfix.h"

#define MAXN	5
#define RING	4096
#define QMAX	4096
#define STEP	(VG_NS_PER_US * 100)

struct anode {
	struct vg_conf	*conf;
	struct vg_election el;
	int		up, frozen;
	uint64_t	inc;
	uint64_t	disk_term;
	uint16_t	disk_vote;
	vg_ns		keeper_until;	/* VIPs held until then; 0 not held */
	vg_ns		next_hb;
	uint64_t	tx_seq[MAXN + 1];	/* our stream to each id */
	vg_ns		sent[MAXN + 1][RING];
	uint64_t	rx_newest[MAXN + 1];
};

struct pkt {
	vg_ns		at;
	int		to;
	struct vg_msg	m;
};

struct asim {
	struct anode	n[MAXN];
	int		nn;
	struct pkt	q[QMAX];
	size_t		nq;
	int		cut[MAXN][MAXN];
	vg_ns		now;
	uint64_t	rng;
	int		max_holders;
	vg_ns		two_at;		/* first moment of two holders */
	vg_ns		two_total;
};

static uint64_t
rnd(struct asim *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 2685821657736338717ULL;
}

static struct vg_conf *
parse(const char *text, const char *self)
{
	struct vg_errs errs;
	struct vg_conf *c;

	vg_errs_init(&errs);
	c = vg_conf_parse(text, "a.conf", self, &errs);
	if (c == NULL)
		fail_msg("config refused: %s\n%s", errs.n ? errs.msg[0] : "?",
		    text);
	return c;
}

static void	run_acts(struct asim *, int, struct vg_acts *);

static void
send_to(struct asim *s, int i, int j, struct vg_msg *m)
{
	struct anode *d = &s->n[i];
	uint16_t to = (uint16_t)(j + 1);

	m->version = VG_VERSION;
	m->cluster_id = d->conf->cluster_id;
	m->sender = (uint16_t)(i + 1);
	m->target = to;
	m->state = d->el.state;
	m->priority = d->el.priority;
	m->incarnation = d->inc;
	if (m->type != VG_MSG_RELEASE && m->type != VG_MSG_TRANSFER)
		m->active = d->el.active_id;
	m->config_digest = d->conf->safety_digest;
	m->digest_parts = vg_conf_parts_hint(d->conf);
	m->seq = ++d->tx_seq[to];
	d->sent[to][m->seq % RING] = s->now;
	if (s->cut[i][j] || s->nq == QMAX)
		return;
	s->q[s->nq].at = s->now + VG_NS_PER_US * 500 +
	    (vg_ns)(rnd(s) % 500) * VG_NS_PER_US;
	s->q[s->nq].to = j;
	s->q[s->nq].m = *m;
	s->nq++;
}

/* To every peer of i's own configuration (target 0), or to one. */
static void
send_act(struct asim *s, int i, const struct vg_act *x)
{
	struct anode *d = &s->n[i];
	struct vg_msg m;
	size_t k;

	for (k = 0; k < d->conf->n_nodes; k++) {
		int j = d->conf->nodes[k].id - 1;

		if (j == i || j >= s->nn || (x->target != 0 &&
		    x->target != j + 1))
			continue;
		memset(&m, 0, sizeof(m));
		m.type = x->msg_type;
		m.flags = x->flags;
		m.term = x->term;
		if (m.type == VG_MSG_HEARTBEAT) {
			m.flags = vg_el_hb_flags(&d->el);
			m.term = d->el.term;
			m.echo_seq = vg_el_echo(&d->el, (uint16_t)(j + 1),
			    d->rx_newest[j + 1]);
		} else {
			m.active = x->successor;
			m.echo_seq = d->rx_newest[j + 1];
		}
		if (m.type == VG_MSG_VOTE)
			m.u.vote.reason = x->reason;
		send_to(s, i, j, &m);
	}
}

static void
run_acts(struct asim *s, int i, struct vg_acts *acts)
{
	struct anode *d = &s->n[i];
	size_t k;

	for (k = 0; k < acts->n; k++) {
		const struct vg_act *x = &acts->a[k];

		switch (x->type) {
		case VG_ACT_VIPS_OFF:
			d->keeper_until = 0;
			break;
		case VG_ACT_LEASE:
			d->keeper_until = x->deadline;
			break;
		case VG_ACT_PERSIST:
			d->disk_term = x->term;
			d->disk_vote = x->voted_for;
			break;
		case VG_ACT_SEND:
			send_act(s, i, x);
			break;
		case VG_ACT_STATE:
			break;
		}
	}
	acts->n = 0;
}

static void
node_start(struct asim *s, int i, const char *text)
{
	struct anode *d = &s->n[i];
	char name[16];

	snprintf(name, sizeof(name), "n%d", i + 1);
	vg_conf_free(d->conf);
	d->conf = parse(text, name);
	d->inc++;
	d->up = 1;
	d->frozen = 0;
	vg_el_init(&d->el, d->conf, d->disk_term, d->disk_vote, 7 + (uint64_t)i,
	    s->now);
	vg_el_set_rtt(&d->el, VG_MS(2), VG_MS(1));
	d->next_hb = s->now + d->conf->interval;
}

/* systemctl stop: an active hands over (VIPs off, RELEASE) and is gone. */
static void
node_stop(struct asim *s, int i)
{
	struct vg_acts acts = { .n = 0 };

	(void)vg_el_handover(&s->n[i].el, 0, s->now, &acts);
	run_acts(s, i, &acts);
	s->n[i].up = 0;
}

/* The reload as it was before vg_conf_reload_refusal: any file. */
static void
node_reconf(struct asim *s, int i, const char *text)
{
	struct anode *d = &s->n[i];
	char name[16];
	struct vg_conf *c;

	snprintf(name, sizeof(name), "n%d", i + 1);
	c = parse(text, name);
	vg_el_reconf(&d->el, c, s->now);
	vg_conf_free(d->conf);
	d->conf = c;
}

static void
isolate(struct asim *s, int i, int on)
{
	int j;

	for (j = 0; j < s->nn; j++) {
		s->cut[i][j] = on;
		s->cut[j][i] = on;
	}
}

static void
deliver(struct asim *s)
{
	struct vg_acts acts = { .n = 0 };
	struct pkt p;
	size_t k = 0, w = 0;

	while (k < s->nq) {
		struct anode *d;
		uint16_t from;
		uint64_t e;
		vg_ns echo_sent = VG_NS_NEVER;

		if (s->q[k].at > s->now) {
			s->q[w++] = s->q[k++];
			continue;
		}
		p = s->q[k++];
		d = &s->n[p.to];
		from = p.m.sender;
		if (!d->up || d->frozen ||
		    vg_conf_node_by_id(d->conf, from) == NULL)
			continue;	/* as rx drops an unknown peer */
		if (p.m.seq > d->rx_newest[from])
			d->rx_newest[from] = p.m.seq;
		e = p.m.echo_seq;
		if (e != 0 && e <= d->tx_seq[from] && d->tx_seq[from] - e < RING)
			echo_sent = d->sent[from][e % RING];
		vg_el_input(&d->el, &p.m, echo_sent, s->now, &acts);
		run_acts(s, p.to, &acts);
	}
	s->nq = w;
}

static int
holders(const struct asim *s)
{
	int i, n = 0;

	for (i = 0; i < s->nn; i++)
		n += s->n[i].keeper_until > s->now;
	return n;
}

static void
sim_step(struct asim *s)
{
	struct vg_acts acts = { .n = 0 };
	struct vg_act hb;
	int i, h;

	s->now += STEP;
	deliver(s);
	for (i = 0; i < s->nn; i++) {
		struct anode *d = &s->n[i];

		/* the keeper: its own process, on its own deadline */
		if (d->keeper_until != 0 && d->keeper_until <= s->now)
			d->keeper_until = 0;
		if (!d->up || d->frozen)
			continue;
		if (s->now >= vg_el_deadline(&d->el, s->now)) {
			vg_el_tick(&d->el, s->now, &acts);
			run_acts(s, i, &acts);
		}
		if (s->now >= d->next_hb) {
			memset(&hb, 0, sizeof(hb));
			hb.type = VG_ACT_SEND;
			hb.msg_type = VG_MSG_HEARTBEAT;
			send_act(s, i, &hb);
			d->next_hb += d->conf->interval;
		}
	}
	h = holders(s);
	if (h > s->max_holders)
		s->max_holders = h;
	if (h > 1) {
		if (s->two_at == 0)
			s->two_at = s->now;
		s->two_total += STEP;
	}
}

static void
sim_run(struct asim *s, vg_ns d)
{
	vg_ns until = s->now + d;

	while (s->now < until)
		sim_step(s);
}

static int
the_active(const struct asim *s)
{
	int i, a = -1;

	for (i = 0; i < s->nn; i++)
		if (s->n[i].up && s->n[i].el.state == VG_ST_ACTIVE &&
		    s->n[i].keeper_until > s->now)
			a = i;
	return a;
}

/* Runs until some node holds the VIPs (at most `limit`); its index. */
static int
await_active(struct asim *s, vg_ns limit)
{
	vg_ns until = s->now + limit;

	while (s->now < until && the_active(s) < 0)
		sim_step(s);
	return the_active(s);
}

static struct asim *
sim_new(int nn, uint64_t seed)
{
	struct asim *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->nn = nn;
	s->rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	s->now = VG_MS(1000000);
	return s;
}

static void
sim_free(struct asim *s)
{
	int i;

	for (i = 0; i < s->nn; i++)
		vg_conf_free(s->n[i].conf);
	free(s);
}

static void
report(const struct asim *s, const char *what)
{
	print_message("    %-34s holders at most %d, two for %.1f ms\n", what,
	    s->max_holders, (double)s->two_total / VG_NS_PER_MS);
}

/* ---- (a) a reload to fewer nodes, then a partition */

#define HEAD_A \
	"cluster = \"a\";\nauth = \"none\";\ninterval = 10;\n" \
	"dead_time = 100;\npreempt = false;\n"
#define NODE(i, p) \
	"\t{ id = " #i "; name = \"n" #i "\"; address = \"198.18.0." #i "\"; " \
	"priority = " #p "; }"
#define CONF5 HEAD_A "nodes = (\n" NODE(1, 200) ",\n" NODE(2, 150) ",\n" \
	NODE(3, 140) ",\n" NODE(4, 130) ",\n" NODE(5, 120) "\n);\n"
#define CONF3 HEAD_A "nodes = (\n" NODE(1, 200) ",\n" NODE(2, 150) ",\n" \
	NODE(3, 140) "\n);\n"

static void
test_two_quorums(void **state)
{
	uint64_t seed;
	int i, j, a;

	(void)state;
	for (seed = 1; seed <= 5; seed++) {
		struct asim *s = sim_new(5, seed);
		uint64_t refused = 0, ignored = 0;

		for (i = 0; i < 5; i++)
			node_start(s, i, CONF5);
		assert_int_equal(await_active(s, VG_MS(3000)), 0);
		sim_run(s, VG_MS(300));
		/* "reload node by node": n1 first, to three nodes */
		node_reconf(s, 0, CONF3);
		sim_run(s, VG_MS(500));
		/* {n1, n2} | {n3, n4, n5} */
		for (i = 0; i < 5; i++)
			for (j = 0; j < 5; j++)
				s->cut[i][j] = (i < 2) != (j < 2);
		sim_run(s, VG_MS(3000));
		report(s, "5 nodes, n1 on 3, split 2|3");
		if (s->max_holders > 1)
			fail_msg("seed %llu: two holders from %.1f ms for "
			    "%.1f ms", (unsigned long long)seed,
			    (double)(s->two_at - VG_MS(1000000)) / VG_NS_PER_MS,
			    (double)s->two_total / VG_NS_PER_MS);
		/* the majority, which agrees, elected one of its own */
		a = await_active(s, VG_MS(3000));
		assert_true(a >= 2);
		/* n1 disagreed with everyone: refused, and its echoes and
		 * votes went uncounted */
		for (i = 0; i < 5; i++) {
			refused += s->n[i].el.st.refused[VG_REFUSE_CONFIG];
			ignored += s->n[i].el.st.echoes_ignored +
			    s->n[i].el.st.votes_ignored;
		}
		assert_true(refused + ignored > 0);
		assert_false(vg_el_node_of(&s->n[1].el, 1)->agrees);
		assert_true(vg_el_node_of(&s->n[1].el, 1)->disagree_since > 0);
		sim_free(s);
	}
}

/* ---- (b) dead_time 10h on the active, 3h on its voters */

#define CONF_D(d) \
	"cluster = \"b\";\nauth = \"none\";\ninterval = 10;\n" \
	"dead_time = " #d ";\npreempt_delay = 200;\nnodes = (\n" \
	NODE(1, 200) ",\n" NODE(2, 150) ",\n" NODE(3, 100) "\n);\n"

struct mixed_row {
	const char	*name;
	const char	*from, *to;
	int		restart_active_first;
	int		freeze;		/* SIGSTOP, else cut off */
};

/* Do the nodes other than `gone` hold a quorum that shares one file? */
static int
agreeing_quorum(const struct asim *s, int gone)
{
	int i, j;
	unsigned v;

	for (i = 0; i < s->nn; i++) {
		if (i == gone)
			continue;
		for (v = 0, j = 0; j < s->nn; j++)
			if (j != gone && s->n[j].conf->safety_digest ==
			    s->n[i].conf->safety_digest)
				v++;
		if (v >= s->n[i].conf->quorum)
			return 1;
	}
	return 0;
}

static void
mixed_run(const struct mixed_row *r, uint64_t seed)
{
	struct asim *s = sim_new(3, seed);
	int i, a, order[3] = { 1, 2, 0 };
	char what[80];

	for (i = 0; i < 3; i++)
		node_start(s, i, r->from);
	assert_int_equal(await_active(s, VG_MS(3000)), 0);
	sim_run(s, VG_MS(300));
	if (r->restart_active_first) {
		/* the active first: it hands over, comes back with the new
		 * file and, the best, would preempt; the others not yet */
		node_stop(s, 0);
		sim_run(s, VG_MS(300));
		node_start(s, 0, r->to);
		sim_run(s, VG_MS(1000));
	} else {
		/* the standbys, each down for longer than the old lease */
		for (i = 0; i < 2; i++) {
			node_stop(s, order[i]);
			sim_run(s, VG_MS(300));
			node_start(s, order[i], r->to);
			sim_run(s, VG_MS(500));
		}
	}
	sim_run(s, VG_MS(500));
	/* whoever holds now is cut off or frozen */
	a = the_active(s);
	assert_true(a >= 0);
	if (r->freeze)
		s->n[a].frozen = 1;
	else
		isolate(s, a, 1);
	sim_run(s, VG_MS(2000));
	snprintf(what, sizeof(what), "%s (n%d)", r->name, a + 1);
	report(s, what);
	if (s->max_holders > 1)
		fail_msg("%s, seed %llu: two holders for %.1f ms", r->name,
		    (unsigned long long)seed,
		    (double)s->two_total / VG_NS_PER_MS);
	/* the others took over if a quorum of them agrees (not so when the
	 * one left with the voter's file is alone with the other file) */
	if (agreeing_quorum(s, a))
		assert_true(the_active(s) >= 0 && the_active(s) != a);
	else
		assert_true(the_active(s) < 0);
	sim_free(s);
}

static void
test_mixed_dead_time(void **state)
{
	static const struct mixed_row rows[] = {
		{ "D 10h -> 3h, standbys first, cut", CONF_D(100), CONF_D(30),
		    0, 0 },
		{ "D 10h -> 3h, standbys first, stop", CONF_D(100), CONF_D(30),
		    0, 1 },
		{ "D 3h -> 10h, active first, cut", CONF_D(30), CONF_D(100),
		    1, 0 },
		{ "D 3h -> 10h, active first, stop", CONF_D(30), CONF_D(100),
		    1, 1 },
	};
	size_t k;
	uint64_t seed;

	(void)state;
	for (k = 0; k < sizeof(rows) / sizeof(rows[0]); k++)
		for (seed = 1; seed <= 3; seed++)
			mixed_run(&rows[k], seed);
}

/* ---- the rule on one election, by hand */

/* elfix's message to n1, with a priority of 100, seq 1 and the digest */
static struct vg_msg
msg(uint16_t from, uint8_t type, uint16_t flags, uint64_t term, uint8_t st,
    uint32_t digest)
{
	struct vg_msg m = el_msg(from, type, flags, term, st);

	m.priority = 100;
	m.seq = 1;
	m.config_digest = digest;
	return m;
}

static void
test_counters(void **state)
{
	struct vg_conf *c = parse(CONF3, "n1");
	struct vg_election el;
	struct vg_acts acts = { .n = 0 };
	struct vg_msg m;
	const struct vg_act *v;
	uint32_t ours = c->safety_digest, other = ours ^ 1;
	vg_ns t = VG_MS(1000000);

	(void)state;
	vg_el_init(&el, c, 4, 0, 1, t);
	/* n2 agrees, n3 does not; both heard */
	m = msg(2, VG_MSG_HEARTBEAT, 0, 4, VG_ST_STANDBY, ours);
	vg_el_input(&el, &m, VG_NS_NEVER, t, &acts);
	m = msg(3, VG_MSG_HEARTBEAT, 0, 4, VG_ST_STANDBY, other);
	vg_el_input(&el, &m, VG_NS_NEVER, t, &acts);
	assert_true(vg_el_node_of(&el, 2)->agrees);
	assert_false(vg_el_node_of(&el, 3)->agrees);
	assert_true(vg_el_node_of(&el, 3)->disagree_since == t);
	assert_int_equal(vg_el_disagreeing(&el, t), 1);
	/* n3 is no vote in sight: n1 and n2 are */
	assert_int_equal(vg_el_votes_seen(&el, t), 2);
	/* a vote request of n3, well after any active: refused "config" */
	t += VG_MS(1000);
	acts.n = 0;
	m = msg(3, VG_MSG_VOTE_REQUEST, VG_FLAG_PRE, 9, VG_ST_STANDBY, other);
	vg_el_input(&el, &m, VG_NS_NEVER, t, &acts);
	v = act_find(&acts, VG_ACT_SEND, VG_MSG_VOTE, 0, NULL);
	assert_non_null(v);
	assert_false(v->flags & VG_FLAG_GRANTED);
	assert_int_equal(v->reason, VG_REFUSE_CONFIG);
	assert_string_equal(vg_refusal_name(VG_REFUSE_CONFIG), "config");
	assert_int_equal(vg_el_node_of(&el, 3)->requests_refused, 1);
	assert_int_equal(el.st.refused[VG_REFUSE_CONFIG], 1);
	/* the same request with our digest is granted (the rule, nothing
	 * else, refused it); n3 agrees again */
	acts.n = 0;
	m = msg(3, VG_MSG_VOTE_REQUEST, VG_FLAG_PRE, 9, VG_ST_STANDBY, ours);
	vg_el_input(&el, &m, VG_NS_NEVER, t, &acts);
	v = act_find(&acts, VG_ACT_SEND, VG_MSG_VOTE, 0, NULL);
	assert_non_null(v);
	assert_true(v->flags & VG_FLAG_GRANTED);
	assert_true(vg_el_node_of(&el, 3)->agrees);
	assert_true(vg_el_node_of(&el, 3)->disagree_since == -1);
	assert_int_equal(vg_el_disagreeing(&el, t), 0);
	vg_conf_free(c);
}

/* n1 a candidate: a disagreeing vote is not counted; as active, a
 * disagreeing echo renews nothing. */
static void
test_votes_and_echoes_ignored(void **state)
{
	struct vg_conf *c = parse(CONF3, "n1");
	struct vg_election el;
	struct vg_acts acts = { .n = 0 };
	struct vg_msg m;
	uint32_t ours = c->safety_digest, other = ours ^ 0x100;
	vg_ns t = VG_MS(1000000), deadline;
	uint64_t term;
	int k;

	(void)state;
	vg_el_init(&el, c, 0, 0, 1, t);
	for (k = 0; k < 200 && el.state != VG_ST_CANDIDATE; k++) {
		t += VG_MS(5);
		m = msg(2, VG_MSG_HEARTBEAT, 0, 0, VG_ST_STANDBY, ours);
		vg_el_input(&el, &m, VG_NS_NEVER, t, &acts);
		m = msg(3, VG_MSG_HEARTBEAT, 0, 0, VG_ST_STANDBY, other);
		vg_el_input(&el, &m, VG_NS_NEVER, t, &acts);
		vg_el_tick(&el, t, &acts);
		acts.n = 0;
	}
	assert_int_equal(el.state, VG_ST_CANDIDATE);
	assert_true(el.prevote);
	/* n3's pre-vote (other digest) is not counted: still a candidate */
	m = msg(3, VG_MSG_VOTE, VG_FLAG_PRE | VG_FLAG_GRANTED, el.cand_term,
	    VG_ST_STANDBY, other);
	vg_el_input(&el, &m, VG_NS_NEVER, t, &acts);
	assert_int_equal(el.state, VG_ST_CANDIDATE);
	assert_true(el.prevote);
	assert_int_equal(el.st.votes_ignored, 1);
	assert_int_equal(vg_el_node_of(&el, 3)->votes_ignored, 1);
	/* n2's counts: the real round, then n2's real vote makes n1 active */
	m = msg(2, VG_MSG_VOTE, VG_FLAG_PRE | VG_FLAG_GRANTED, el.cand_term,
	    VG_ST_STANDBY, ours);
	vg_el_input(&el, &m, VG_NS_NEVER, t, &acts);
	assert_false(el.prevote);
	term = el.term;
	m = msg(3, VG_MSG_VOTE, VG_FLAG_GRANTED, term, VG_ST_STANDBY, other);
	vg_el_input(&el, &m, VG_NS_NEVER, t, &acts);
	assert_int_equal(el.state, VG_ST_CANDIDATE);
	assert_int_equal(el.st.votes_ignored, 2);
	m = msg(2, VG_MSG_VOTE, VG_FLAG_GRANTED, term, VG_ST_STANDBY, ours);
	vg_el_input(&el, &m, VG_NS_NEVER, t, &acts);
	assert_int_equal(el.state, VG_ST_ACTIVE);
	acts.n = 0;
	/* an echo from n3 (other digest) renews nothing; n2's does */
	deadline = el.lease_deadline;
	t += VG_MS(10);
	m = msg(3, VG_MSG_HEARTBEAT, 0, term, VG_ST_STANDBY, other);
	m.active = 1;
	m.echo_seq = 7;
	m.seq = 2;
	vg_el_input(&el, &m, t - VG_MS(1), t, &acts);
	assert_true(el.lease_deadline == deadline);
	assert_int_equal(el.st.echoes_ignored, 1);
	assert_int_equal(vg_el_node_of(&el, 3)->echoes_ignored, 1);
	m = msg(2, VG_MSG_HEARTBEAT, 0, term, VG_ST_STANDBY, ours);
	m.active = 1;
	m.echo_seq = 7;
	m.seq = 2;
	vg_el_input(&el, &m, t - VG_MS(1), t, &acts);
	assert_true(el.lease_deadline > deadline);
	vg_conf_free(c);
}

/* An active does not hand over, or preempt, to a node that disagrees. */
static void
test_no_handover_to_disagreeing(void **state)
{
	struct vg_conf *c = parse(EL3_CONF, "n1");
	struct vg_election el;
	struct vg_acts acts = { .n = 0 };
	struct vg_msg m;
	vg_ns now = T0;
	uint16_t to = 0;

	(void)state;
	vg_el_init(&el, c, 0, 0, 1, now);
	el_elect(&el, &now);
	/* n2 (the better standby) now runs another file */
	now += H;
	m = el_msg(2, VG_MSG_HEARTBEAT, 0, el.term, VG_ST_STANDBY);
	m.config_digest ^= 0x10;
	vg_el_input(&el, &m, VG_NS_NEVER, now, &acts);
	m = el_msg(3, VG_MSG_HEARTBEAT, 0, el.term, VG_ST_STANDBY);
	vg_el_input(&el, &m, VG_NS_NEVER, now, &acts);
	assert_int_equal(vg_el_handover_check(&el, 2, now, &to),
	    VG_HO_DISAGREES);
	assert_non_null(strstr(vg_handover_err_text(VG_HO_DISAGREES),
	    "configuration"));
	assert_int_equal(vg_el_handover_check(&el, 0, now, &to), VG_HO_OK);
	assert_int_equal(to, 3);
	assert_int_equal(vg_el_disagreeing(&el, now), 1);
	vg_conf_free(c);
}

/* ---- terms that would wrap */

static void
test_term_limit_message(void **state)
{
	struct vg_conf *c = parse(CONF3, "n1");
	struct vg_election el;
	struct vg_acts acts = { .n = 0 };
	struct vg_msg m;
	vg_ns t = VG_MS(1000000);
	static const uint64_t bad[] = { VG_TERM_LIMIT, VG_TERM_LIMIT + 1,
	    UINT64_MAX };
	size_t k;

	(void)state;
	assert_true(VG_TERM_LIMIT == 0x7fffffffffffffffULL);
	vg_el_init(&el, c, 5, 0, 1, t);
	for (k = 0; k < 3; k++) {
		m = msg(2, k == 1 ? VG_MSG_VOTE_REQUEST : VG_MSG_HEARTBEAT, 0,
		    bad[k], k == 2 ? VG_ST_ACTIVE : VG_ST_STANDBY,
		    c->safety_digest);
		m.active = 2;
		vg_el_input(&el, &m, VG_NS_NEVER, t, &acts);
		/* not taken, not heard, nothing sent */
		assert_true(el.term == 5 && el.max_term == 5);
		assert_false(vg_el_node_of(&el, 2)->heard);
		assert_null(act_find(&acts, VG_ACT_SEND, VG_MSG_VOTE, 0, NULL));
	}
	assert_int_equal(el.st.terms_refused, 3);
	/* just below the limit is taken; no candidacy goes past it */
	t += VG_MS(1000);
	m = msg(2, VG_MSG_HEARTBEAT, 0, VG_TERM_LIMIT - 1, VG_ST_STANDBY,
	    c->safety_digest);
	vg_el_input(&el, &m, VG_NS_NEVER, t, &acts);
	assert_true(el.max_term == VG_TERM_LIMIT - 1);
	m = msg(3, VG_MSG_HEARTBEAT, 0, 5, VG_ST_STANDBY, c->safety_digest);
	vg_el_input(&el, &m, VG_NS_NEVER, t, &acts);
	assert_int_equal(el.state, VG_ST_STANDBY);
	assert_true(vg_el_deadline(&el, t) > t + VG_MS(100000) ||
	    el.state != VG_ST_CANDIDATE);
	t += VG_MS(5000);
	vg_el_tick(&el, t, &acts);
	assert_int_not_equal(el.state, VG_ST_CANDIDATE);
	assert_int_equal(el.st.elections_started, 0);
	vg_conf_free(c);
}

static void
vote_file(const char *dir, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/vote", dir);
	assert_non_null(f = fopen(path, "w"));
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void
test_term_limit_vote_file(void **state)
{
	char dir[] = "/tmp/vg_test_agreement.XXXXXX", err[256], path[512];
	static const char *const bad[] = {
		"9223372036854775807 1\n",	/* the limit */
		"18446744073709551615 2\n",	/* 2^64-1: wrapped to 0 */
		"99999999999999999999 2\n",	/* past 64 bits */
		"-1 2\n",			/* %llu read it as 2^64-1 */
		" 5 2\n", "5x 2\n", "5 70000\n", "",
	};
	uint64_t term;
	uint16_t vote;
	size_t k;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		vote_file(dir, bad[k]);
		err[0] = '\0';
		if (vg_statedir_read_vote(dir, "vote", &term, &vote, err,
		    sizeof(err)) != -1)
			fail_msg("\"%s\" was read as term %llu", bad[k],
			    (unsigned long long)term);
		assert_true(err[0] != '\0');
	}
	vote_file(dir, "9223372036854775806 3\n");
	assert_int_equal(vg_statedir_read_vote(dir, "vote", &term, &vote, err,
	    sizeof(err)), 0);
	assert_true(term == VG_TERM_LIMIT - 1 && vote == 3);
	vote_file(dir, "42 0\n");
	assert_int_equal(vg_statedir_read_vote(dir, "vote", &term, &vote, err,
	    sizeof(err)), 0);
	assert_true(term == 42 && vote == 0);
	snprintf(path, sizeof(path), "%s/vote", dir);
	(void)unlink(path);
	assert_int_equal(vg_statedir_read_vote(dir, "vote", &term, &vote, err,
	    sizeof(err)), 0);
	assert_true(term == 0 && vote == 0);
	(void)rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_quorums),
		cmocka_unit_test(test_mixed_dead_time),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_votes_and_echoes_ignored),
		cmocka_unit_test(test_no_handover_to_disagreeing),
		cmocka_unit_test(test_term_limit_message),
		cmocka_unit_test(test_term_limit_vote_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
