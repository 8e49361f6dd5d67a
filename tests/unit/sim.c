/*
 * sim: the simulated cluster of test_election and test_schedule (sim.h says
 * what it models and what it checks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "sim.h"
vg_ns
ms_of(vg_ns t)
{
	return t / VG_NS_PER_MS;
}

double
msf(vg_ns t)
{
	return (double)t / (double)VG_NS_PER_MS;
}

/* ---- a PRNG of our own (splitmix64) */

uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double
rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

vg_ns
rng_range(uint64_t *s, vg_ns lo, vg_ns hi)
{
	return lo + (vg_ns)(rng_unit(s) * (double)(hi - lo));
}

/* ---- the simulated cluster */

static const char *const tl_names[] = {
	[TL_ON] = "VIPS ON", [TL_OFF] = "VIPS OFF", [TL_STATE] = "state",
	[TL_CRASH] = "crash", [TL_RESTART] = "start", [TL_FREEZE] = "freeze",
	[TL_THAW] = "thaw", [TL_NOTE] = "note", [TL_KFREEZE] = "kfreeze",
	[TL_KTHAW] = "kthaw",
};

int
id_of(int i)
{
	return i + 1;
}

static vg_ns
loc(const struct snode *d, vg_ns t)
{
	return d->off + (vg_ns)((double)t * d->rate);
}

vg_ns
lnow(const struct sim *s, int i)
{
	return loc(&s->nd[i], s->now);
}

/* The first real time at which node i's clock read or reads `local`,
 * past or future. */
vg_ns
real_of(const struct sim *s, int i, vg_ns local)
{
	const struct snode *d = &s->nd[i];
	vg_ns t;

	if (local >= VG_NS_NEVER / 2)
		return VG_NS_NEVER;
	t = (vg_ns)ceil((double)(local - d->off) / d->rate);
	while (loc(d, t) < local)
		t++;
	while (t > 0 && loc(d, t - 1) >= local)
		t--;
	return t;
}

/* The same, for a deadline: never before now. */
vg_ns
real_at(const struct sim *s, int i, vg_ns local)
{
	vg_ns t = real_of(s, i, local);

	return t < s->now ? s->now : t;
}

/* ---- timeline */

static void
tl_add(struct sim *s, int node, int g, int kind, uint8_t a, uint8_t b,
    uint64_t term)
{
	struct tl *e;

	if (s->ntl == s->captl) {
		s->captl = s->captl ? 2 * s->captl : 1024;
		s->tl = realloc(s->tl, s->captl * sizeof(*s->tl));
		assert_non_null(s->tl);
	}
	e = &s->tl[s->ntl++];
	e->t = s->now;
	e->node = node;
	e->kind = kind;
	e->g = (uint8_t)g;
	e->a = a;
	e->b = b;
	e->term = term;
}

void
tl_dump(const struct sim *s, size_t last)
{
	size_t i = s->ntl > last ? s->ntl - last : 0;

	printf("  timeline (last %zu of %zu), seed %llu:\n", s->ntl - i, s->ntl,
	    (unsigned long long)s->o.seed);
	for (; i < s->ntl; i++) {
		const struct tl *e = &s->tl[i];

		printf("    %10.3f ms  n%d  %-8s", msf(e->t), id_of(e->node),
		    tl_names[e->kind]);
		if (s->G > 1 && e->g != TL_NODE)
			printf(" g%d", e->g);
		if (e->kind == TL_STATE)
			printf(" %s -> %s", vg_state_name(e->a),
			    vg_state_name(e->b));
		printf("  term %llu\n", (unsigned long long)e->term);
	}
}

void
el_dump(const struct sim *s)
{
	int i, r;

	for (i = 0; i < s->n * s->G; i++) {
		const struct vg_election *el = &s->nd[i % s->n].gel[i / s->n];

		if (s->G > 1)
			printf("    g%d", i / s->n);
		printf("    n%d %s term %llu vote %u active %u rtt %.2f; refused",
		    id_of(i % s->n), vg_state_name(el->state),
		    (unsigned long long)el->term, el->voted_for, el->active_id,
		    msf(el->rtt_worst));
		for (r = 1; r < VG_REFUSE_MAX; r++)
			printf(" %s %llu", vg_refusal_name((enum vg_refusal)r),
			    (unsigned long long)el->st.refused[r]);
		printf("; got refusals");
		for (r = 1; r < VG_REFUSE_MAX; r++)
			printf(" %s %llu", vg_refusal_name((enum vg_refusal)r),
			    (unsigned long long)el->st.refusals[r]);
		printf("\n");
	}
}

void
sim_fail(const struct sim *s, const char *what)
{
	if (s->on_fail != NULL)
		s->on_fail(s, what);	/* does not return */
	tl_dump(s, getenv("EL_TL") ? (size_t)atoi(getenv("EL_TL")) : 40);
	el_dump(s);
	fail_msg("seed %llu at %.3f ms: %s", (unsigned long long)s->o.seed,
	    msf(s->now), what);
}

/* First entry of `kind` at or after `after`; node >= 0 that node, -1 any;
 * not >= 0 any node but that one. */
const struct tl *
tl_first(const struct sim *s, int kind, int node, int not, vg_ns after)
{
	return tl_first_g(s, 0, kind, node, not, after);
}

const struct tl *
tl_first_g(const struct sim *s, int g, int kind, int node, int not,
    vg_ns after)
{
	size_t i;

	for (i = 0; i < s->ntl; i++) {
		const struct tl *e = &s->tl[i];

		if (e->t < after || e->kind != kind ||
		    (e->g != g && e->g != TL_NODE))
			continue;
		if (node >= 0 && e->node != node)
			continue;
		if (not >= 0 && e->node == not)
			continue;
		return e;
	}
	return NULL;
}

/* Elections won since `from` (entries into active) and changes of the
 * active node among them (a node other than the last one to be active). */
void
tl_changes(const struct sim *s, vg_ns from, int *elections, int *changes)
{
	int last = -1;
	size_t i;

	*elections = *changes = 0;
	for (i = 0; i < s->ntl; i++) {
		const struct tl *e = &s->tl[i];

		if (e->kind != TL_STATE || e->b != VG_ST_ACTIVE || e->g != 0)
			continue;
		if (e->t >= from) {
			(*elections)++;
			if (e->node != last)
				(*changes)++;
		}
		last = e->node;
	}
}

/* ---- the event heap */

static int
ev_less(const struct hent *a, const struct hent *b)
{
	return a->t < b->t || (a->t == b->t && a->ord < b->ord);
}

#define POOL_CHUNK	1024

static struct ev *
ev_slot(const struct sim *s, uint32_t idx)
{
	return &s->pool[idx / POOL_CHUNK][idx % POOL_CHUNK];
}

/* A new event at t, in the heap at once: the caller fills in the rest
 * (the message only for EV_DELIVER: nobody reads it otherwise). */
static struct ev *
ev_new(struct sim *s, vg_ns t, int type, int node)
{
	struct hent h, *hp;
	struct ev *e;
	size_t i;

	if (s->npfree == 0) {
		size_t k, cap = (s->npool + 1) * POOL_CHUNK;

		s->pool = realloc(s->pool, (s->npool + 1) * sizeof(*s->pool));
		assert_non_null(s->pool);
		s->pool[s->npool] = malloc(POOL_CHUNK * sizeof(**s->pool));
		assert_non_null(s->pool[s->npool]);
		s->heap = realloc(s->heap, cap * sizeof(*s->heap));
		s->pfree = realloc(s->pfree, cap * sizeof(*s->pfree));
		assert_non_null(s->heap);
		assert_non_null(s->pfree);
		for (k = cap; k > s->npool * POOL_CHUNK; k--)
			s->pfree[s->npfree++] = (uint32_t)(k - 1);
		s->npool++;
		s->capheap = cap;
	}
	h.t = t;
	h.ord = s->ord++;
	h.idx = s->pfree[--s->npfree];
	e = ev_slot(s, h.idx);
	e->t = t;
	e->ord = h.ord;
	e->type = type;
	e->node = node;
	e->from = 0;
	e->gen = 0;
	hp = s->heap;
	i = s->nheap++;
	while (i > 0 && ev_less(&h, &hp[(i - 1) / 2])) {
		hp[i] = hp[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	hp[i] = h;
	return e;
}

/* The first event off the heap: its slot, free again once it is done. */
static uint32_t
ev_pop(struct sim *s)
{
	struct hent *hp = s->heap, last;
	uint32_t idx = hp[0].idx;
	size_t i = 0, n;

	n = --s->nheap;
	if (n == 0)
		return idx;
	last = hp[n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m;

		if (l >= n)
			break;
		m = r < n && ev_less(&hp[r], &hp[l]) ? r : l;
		if (!ev_less(&hp[m], &last))
			break;
		hp[i] = hp[m];
		i = m;
	}
	hp[i] = last;
	return idx;
}

/* An event the heap orders; from: the group of an EV_KEEPER */
static void
ev_at_from(struct sim *s, vg_ns t, int type, int node, int from,
    uint64_t gen)
{
	struct ev *e = ev_new(s, t, type, node);

	e->from = from;
	e->gen = gen;
}

void
ev_at(struct sim *s, vg_ns t, int type, int node, uint64_t gen)
{
	ev_at_from(s, t, type, node, 0, gen);
}

/* ---- the keeper: it, not the agent, holds the VIPs (a lease per group) */

int
count_holders_g(const struct sim *s, int g)
{
	int i, n = 0;

	for (i = 0; i < s->n; i++)
		n += s->nd[i].gk[g].holding;
	return n;
}

int
count_holders(const struct sim *s)
{
	return count_holders_g(s, 0);
}

int
holder_g(const struct sim *s, int g)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->nd[i].gk[g].holding)
			return i;
	return -1;
}

/*
 * A keeper's VIPs of group g go on or off.  Off at its deadline, it may
 * still hold them for the margin m (it wakes within m of it: design.md,
 * step 1), so an add anywhere else before that is a second holder too.
 */
static void
keeper_set(struct sim *s, int i, int g, int on, int at_deadline)
{
	struct keeper *k = &s->nd[i].gk[g];
	int j;

	if (k->holding == on)
		return;
	if (on)
		for (j = 0; j < s->n; j++)
			if (j != i && !s->nd[j].gk[g].holding &&
			    s->nd[j].gk[g].maybe_until > s->now)
				sim_fail(s, "two keepers hold the VIPs (one "
				    "within the margin after its deadline)");
	if (!on)
		k->maybe_until = at_deadline ? s->now + s->margin : s->now;
	if (g == 0) {
		if (s->nholding > 0)
			s->held_ns += s->now - s->acc_t;
		s->acc_t = s->now;
	}
	k->holding = on;
	s->gnholding[g] += on ? 1 : -1;
	tl_add(s, i, g, on ? TL_ON : TL_OFF, 0, 0, k->term);
	if (s->gnholding[g] > 1)
		sim_fail(s, "two keepers hold the VIPs");
}

/*
 * The keeper removes the VIPs on an order (the agent's, or a HOLD whose
 * deadline has passed) and acks it: they are gone now, also if it had
 * taken them off at its deadline before (the margin it might have been
 * late by is over: it woke).  A hand-over's TRANSFER leaves only after
 * this ack, and its vote lets the successor add one way later.
 */
static void
keeper_off(struct sim *s, int i, int g)
{
	struct keeper *k = &s->nd[i].gk[g];

	k->lease = 0;
	k->gen++;
	keeper_set(s, i, g, 0, 0);
	if (k->maybe_until > s->now)
		k->maybe_until = s->now;
}

static void
keeper_lease(struct sim *s, int i, int g, uint64_t term, vg_ns deadline)
{
	struct keeper *k = &s->nd[i].gk[g];
	vg_ns ln = lnow(s, i);

	k->term = term;
	k->gen++;
	if (ln >= deadline) {
		keeper_off(s, i, g);
		return;
	}
	k->lease = 1;
	k->deadline = deadline;
	if (!k->holding && ln < deadline - s->margin)
		keeper_set(s, i, g, 1, 0);
	ev_at_from(s, real_at(s, i, deadline), EV_KEEPER, i, g, k->gen);
}

static void
keeper_deadline(struct sim *s, int i, int g, uint64_t gen)
{
	struct keeper *k = &s->nd[i].gk[g];

	if (gen != k->gen || !k->lease || lnow(s, i) < k->deadline)
		return;
	if (k->frozen) {
		k->fq_due = 1;		/* it acts when it runs again */
		return;
	}
	k->lease = 0;
	keeper_set(s, i, g, 0, 1);
}

/* What the agent asks of its keeper for group g: a lease, or the VIPs off.
 * A frozen keeper reads it when it runs again (the last word counts); a
 * removal the agent makes itself at once (at a lapse it does not wait for
 * the ack; else nothing leaves before the ack). */
static void
keeper_order(struct sim *s, int i, int g, int lease, uint64_t term,
    vg_ns deadline)
{
	struct snode *d = &s->nd[i];
	struct keeper *k = &d->gk[g];

	if (lease) {
		const struct vg_conf *c = sim_conf(d);
		vg_ns len = d->stage == 0 ? d->lease_len : d->stage == 2 ||
		    d->lease_len_new > d->lease_len ? d->lease_len_new :
		    d->lease_len;

		if (d->stage == 2 && d->conf_new == NULL)
			sim_fail(s, "a node that C' removed was told to hold");
		if (c->nodes[c->self].role == VG_ROLE_WITNESS)
			sim_fail(s, "a witness was told to hold the VIPs");
		if (c->groups_line != 0 && c->groups[g].priority[c->self] == 0)
			sim_fail(s, "a node of priority 0 in a group was told "
			    "to hold it");
		if (!s->no_len_check && deadline - lnow(s, i) > len)
			sim_fail(s, "a lease longer than L = D(1-rho)/(1+rho) "
			    "- h/4");
	}
	if (!k->frozen) {
		if (lease)
			keeper_lease(s, i, g, term, deadline);
		else
			keeper_off(s, i, g);
		return;
	}
	k->fq = lease ? 1 : 2;
	k->fq_term = term;
	k->fq_deadline = deadline;
	if (!lease) {
		k->lease = 0;
		k->gen++;
		keeper_set(s, i, g, 0, 0);	/* the agent's own removal */
	}
}

/* The keeper process stops: every group's lease with it. */
void
keeper_freeze(struct sim *s, int i)
{
	int g;

	for (g = 0; g < s->G; g++) {
		struct keeper *k = &s->nd[i].gk[g];

		k->frozen = 1;
		k->fq = 0;
		k->fq_due = 0;
	}
	tl_add(s, i, TL_NODE, TL_KFREEZE, 0, 0, s->nd[i].k.term);
}

void
keeper_thaw(struct sim *s, int i)
{
	int g;

	tl_add(s, i, TL_NODE, TL_KTHAW, 0, 0, s->nd[i].k.term);
	for (g = 0; g < s->G; g++) {
		struct keeper *k = &s->nd[i].gk[g];

		k->frozen = 0;
		if (k->fq == 1)
			keeper_lease(s, i, g, k->fq_term, k->fq_deadline);
		else if (k->fq == 2)
			keeper_off(s, i, g);
		else if (k->fq_due && k->lease && lnow(s, i) >= k->deadline) {
			k->lease = 0;
			keeper_set(s, i, g, 0, 1);
		}
		k->fq = 0;
		k->fq_due = 0;
	}
}

/* ---- the network */

static void
net_send(struct sim *s, int from, int to, const struct vg_msg *m)
{
	struct ev *e, *c;
	vg_ns t;

	s->msgs++;
	if (s->nd[from].isolated || s->nd[to].isolated ||
	    s->ln[from][to].cut)
		return;
	if (s->ln[from][to].loss > 0 && rng_unit(&s->rng) < s->ln[from][to].loss)
		return;
	t = s->now + s->ln[from][to].delay +
	    (s->jitter ? rng_range(&s->rng, 0, s->jitter) : 0);
	e = ev_new(s, t, EV_DELIVER, to);
	e->from = from;
	e->m = *m;
	if (s->ln[from][to].dup > 0 && rng_unit(&s->rng) < s->ln[from][to].dup) {
		s->dups++;
		t += rng_range(&s->rng, 0, 2 * s->ln[from][to].delay);
		c = ev_new(s, t, EV_DELIVER, to);	/* e may have moved: m */
		c->from = from;
		c->m = *m;
	}
}

/* ---- the daemon around the election, as vigild carries actions out */


/*
 * A message of group g's election from node i to node j.  A heartbeat is
 * the node's, whichever election asked for it: one datagram with every
 * group's part (group 0's in the header, the others' in sections, as wire
 * version 3 has it), each echoing that group's active.  The others are
 * group g's alone.
 */
static void
agent_send(struct sim *s, int i, int g, int j, uint8_t type, uint16_t flags,
    uint64_t term, uint16_t reason, uint16_t target, uint16_t successor)
{
	struct snode *d = &s->nd[i];
	struct vg_peer *p = &d->peer[j];
	const struct vg_election *el = &d->gel[type == VG_MSG_HEARTBEAT ? 0 : g];
	vg_ns ln = lnow(s, i);
	struct vg_msg m;
	int h;

	memset(&m, 0, sizeof(m));
	m.version = VG_VERSION;
	m.type = type;
	m.flags = flags;
	m.cluster_id = d->conf->cluster_id;
	m.sender = (uint16_t)id_of(i);
	m.target = target;
	m.state = el->state;
	m.priority = el->priority;
	m.term = term;
	m.incarnation = d->inc;
	m.seq = vg_peer_next_seq(p, ln);
	/* as vigild: RELEASE and TRANSFER name the successor there */
	m.active = type == VG_MSG_RELEASE || type == VG_MSG_TRANSFER ?
	    successor : el->active_id;
	m.config_digest = SIM_DIGEST(d);
	m.group = (uint8_t)(type == VG_MSG_HEARTBEAT ? 0 : g);
	m.n_groups = type == VG_MSG_HEARTBEAT ? (uint8_t)s->G : 0;
	if (type == VG_MSG_HEARTBEAT) {
		m.echo_seq = vg_el_echo(el, (uint16_t)id_of(j),
		    vg_peer_echo_seq(p));
		m.u.hb.echo_delay_us = vg_peer_echo_delay_us(p, ln);
		if (g != 0) {
			/* group 0's part is the header's, whoever asked */
			m.flags = (uint16_t)((flags & ~(VG_FLAG_LAPSED |
			    VG_FLAG_HOLDING)) | vg_el_hb_flags(el));
			m.term = el->term;
		}
		if (s->G > 1 && el->term > d->gdisk_term[0])
			sim_fail(s, "a term was sent before it was persisted");
		for (h = 1; h < s->G; h++) {
			const struct vg_election *e = &d->gel[h];
			struct vg_msg_group *sec = &m.grp[h - 1];

			if (e->term > d->gdisk_term[h])
				sim_fail(s, "a term was sent before it was "
				    "persisted");
			sec->state = e->state;
			sec->priority = e->priority;
			sec->flags = vg_el_hb_flags(e);
			sec->active = e->active_id;
			sec->term = e->term;
			sec->echo_seq = vg_el_echo(e, (uint16_t)id_of(j),
			    vg_peer_echo_seq(p));
		}
	} else
		m.echo_seq = vg_peer_echo_seq(p);
	if (type == VG_MSG_VOTE)
		m.u.vote.reason = reason;
	d->ls_at = ln;		/* vigild stamps it before the sendmmsg */
	d->ls_ok = !s->o.no_lastsend;
	net_send(s, i, j, &m);
}

static void
on_state(struct sim *s, int i, int g, const struct vg_act *a)
{
	struct snode *d = &s->nd[i];
	const struct vg_conf *c = sim_conf(d);
	uint64_t t = d->gel[g].term;

	tl_add(s, i, g, TL_STATE, a->old_state, a->new_state, t);
	if (a->new_state != VG_ST_ACTIVE)
		return;
	if (c->nodes[c->self].role == VG_ROLE_WITNESS)
		sim_fail(s, "a witness became active");
	if (c->groups_line != 0 && c->groups[g].priority[c->self] == 0)
		sim_fail(s, "a node of priority 0 in a group became its active");
	if (d->stage == 1 && (d->conf_new == NULL ||
	    d->conf_new->nodes[d->conf_new->self].role != VG_ROLE_NODE))
		sim_fail(s, "active in J but not a node of both C and C'");
	if (t >= s->gnowner[g]) {
		size_t n = t + 1024;
		uint16_t *o;

		if (n > 1000000)
			sim_fail(s, "terms ran away");
		o = realloc(s->gowner[g], n * sizeof(*o));
		assert_non_null(o);
		memset(o + s->gnowner[g], 0, (n - s->gnowner[g]) * sizeof(*o));
		s->gowner[g] = o;
		s->gnowner[g] = n;
	}
	if (s->gowner[g][t] != 0 && s->gowner[g][t] != id_of(i))
		sim_fail(s, "two nodes active in one term");
	s->gowner[g][t] = (uint16_t)id_of(i);
}

/* Is node j in node i's config (the first node_members of them)? */
int
member(const struct sim *s, int i, int j)
{
	const struct snode *d = &s->nd[i];

	if (d->stage == 1 && d->conf_new != NULL &&
	    (size_t)j < d->conf_new->n_nodes)
		return 1;
	return (size_t)j < sim_conf(d)->n_nodes;
}

const struct vg_conf *
sim_conf(const struct snode *d)
{
	return d->stage == 2 && d->conf_new != NULL ? d->conf_new : d->conf;
}

/* The actions from k on; a slow fsync blocks the agent, and the rest of
 * the list runs when it is done (EV_FSYNC). */
static void
agent_do_from(struct sim *s, int i, int g, const struct vg_acts *acts,
    size_t k)
{
	struct snode *d = &s->nd[i];
	int j;

	if (acts->n >= VG_ACTS_MAX)
		sim_fail(s, "the action list overflowed");
	for (; k < acts->n; k++) {
		const struct vg_act *a = &acts->a[k];

		switch (a->type) {
		case VG_ACT_VIPS_OFF:
			keeper_order(s, i, g, 0, 0, 0);
			break;
		case VG_ACT_LEASE:
			keeper_order(s, i, g, 1, a->term, a->deadline);
			break;
		case VG_ACT_PERSIST:
			if (a->term < d->gdisk_term[g])
				sim_fail(s, "the persisted term went back");
			if (d->fsync > 0) {
				if (acts != &d->pend)
					d->pend = *acts;
				d->pend_k = k + 1;
				d->pend_term = a->term;
				d->pend_vote = a->voted_for;
				d->pend_g = g;
				d->pend_answer = d->rx_answer;
				d->agent = AG_FSYNC;
				ev_at(s, s->now + d->fsync, EV_FSYNC, i,
				    ++d->fsync_gen);
				return;
			}
			d->gdisk_term[g] = a->term;
			d->gdisk_vote[g] = a->voted_for;
			break;
		case VG_ACT_SEND:
			/* a vote (or a real request) leaves only once durable */
			if (a->msg_type == VG_MSG_VOTE &&
			    (a->flags & VG_FLAG_GRANTED) &&
			    !(a->flags & VG_FLAG_PRE) &&
			    (d->gdisk_term[g] != a->term ||
			    d->gdisk_vote[g] != a->target))
				sim_fail(s, "a vote was sent before it was "
				    "persisted");
			if (a->msg_type == VG_MSG_VOTE_REQUEST &&
			    !(a->flags & VG_FLAG_PRE) &&
			    (d->gdisk_term[g] != a->term ||
			    d->gdisk_vote[g] != id_of(i)))
				sim_fail(s, "a request was sent before its term "
				    "was persisted");
			if (a->term > d->gdisk_term[g] && (a->msg_type ==
			    VG_MSG_HEARTBEAT || a->msg_type == VG_MSG_RELEASE ||
			    a->msg_type == VG_MSG_TRANSFER))
				sim_fail(s, "a term was sent before it was "
				    "persisted");
			/* an answer to an answer is not sent; an answer goes
			 * once every group has seen the heartbeat (sim.h).
			 * An answer is marked REPLY: a heartbeat the input
			 * led to otherwise (a candidacy the tick after it
			 * started and won at once) answers nothing */
			if (a->msg_type == VG_MSG_HEARTBEAT && s->G > 1 &&
			    d->rx_answer != 0) {
				if (d->rx_answer == 2 &&
				    (a->flags & VG_FLAG_REPLY))
					sim_fail(s, "an answer (VG_FLAG_REPLY) "
					    "was answered at once");
				for (j = 0; j < s->n; j++)
					if (j != i && (a->target == 0 ||
					    a->target == id_of(j)))
						d->rx_hb |= 1u << j;
				break;
			}
			for (j = 0; j < s->n; j++)
				if (j != i && member(s, i, j) &&
				    (a->target == 0 ||
				    a->target == id_of(j)))
					agent_send(s, i, g, j, a->msg_type,
					    a->flags | (a->msg_type ==
					    VG_MSG_HEARTBEAT ?
					    vg_el_hb_flags(&d->gel[g]) : 0),
					    a->term, a->reason, a->target,
					    a->successor);
			break;
		case VG_ACT_STATE:
			on_state(s, i, g, a);
			break;
		}
	}
}

void
agent_do_g(struct sim *s, int i, int g, const struct vg_acts *acts)
{
	agent_do_from(s, i, g, acts, 0);
}

void
agent_do(struct sim *s, int i, const struct vg_acts *acts)
{
	agent_do_from(s, i, 0, acts, 0);
}

static void
agent_grid(struct sim *s, int i)
{
	struct snode *d = &s->nd[i];
	int j, g, due;

	for (g = 0; g < s->G; g++)
		if (d->gel[g].term > d->gdisk_term[g])
			sim_fail(s, "a term was sent before it was persisted");
	/* one heartbeat per peer, if any group's election wants one */
	for (j = 0; j < s->n; j++) {
		if (j == i || !member(s, i, j))
			continue;
		for (due = 0, g = 0; g < s->G && !due; g++)
			due = vg_el_hb_due(&d->gel[g], (uint16_t)id_of(j));
		if (due)
			agent_send(s, i, 0, j, VG_MSG_HEARTBEAT,
			    vg_el_hb_flags(&d->el), d->el.term, 0,
			    (uint16_t)id_of(j), 0);
	}
	for (g = 0; g < s->G; g++)
		vg_el_grid_done(&d->gel[g]);
}

static void
agent_wake(struct sim *s, int i)
{
	struct snode *d = &s->nd[i];
	vg_ns ln = lnow(s, i);
	struct vg_acts acts;
	int j, g;

	if (d->agent != AG_UP)
		return;
	for (j = 0; j < s->n; j++)
		if (j != i && member(s, i, j))
			vg_peer_tick(&d->peer[j], ln);
	/* a fsync blocks the loop: the groups after it are ticked when the
	 * fsync is done (fsync_done wakes the agent again) */
	for (g = 0; g < s->G; g++) {
		acts.n = 0;
		vg_el_tick(&d->gel[g], ln, &acts);
		agent_do_g(s, i, g, &acts);
		if (d->agent != AG_UP)
			return;		/* in an fsync: the grid waits */
	}
	if (ln >= d->next_grid) {
		d->grid_sent = ln;
		agent_grid(s, i);
		while (d->next_grid <= ln)
			d->next_grid += s->h;
	}
}

/* Group g on of message m (the part before them was done): each group's
 * view of it to that group's election, until a fsync blocks the agent. */
static void
agent_rx_from(struct sim *s, int i, const struct vg_msg *m, int g,
    vg_ns heard)
{
	struct snode *d = &s->nd[i];
	struct vg_peer *p = &d->peer[m->sender - 1];
	vg_ns ln = lnow(s, i), echo_sent, worst = 0, typ = 0;
	struct vg_acts acts;
	struct vg_msg v;
	int k;

	/* as vigild's update_rtt: TCP's bound, and the typical srtt */
	for (k = 0; k < s->n; k++)
		if (k != i && member(s, i, k) && d->peer[k].alive &&
		    d->peer[k].rtt_valid) {
			if (vg_peer_rtt_bound(&d->peer[k]) > worst)
				worst = vg_peer_rtt_bound(&d->peer[k]);
			if (d->peer[k].srtt > typ)
				typ = d->peer[k].srtt;
		}
	for (; g < s->G; g++) {
		if (vg_msg_group_view(m, (size_t)g, &v) != 0)
			continue;	/* about another group */
		/* as vigild: of any type (a TRANSFER's vote is an echo) */
		echo_sent = vg_peer_sent_at(p, v.echo_seq);
		vg_el_set_rtt(&d->gel[g], worst, typ);
		acts.n = 0;
		vg_el_input_at(&d->gel[g], &v, echo_sent, heard, ln, &acts);
		d->rx_answer = m->type != VG_MSG_HEARTBEAT ? 0 :
		    m->flags & VG_FLAG_REPLY ? 2 : 1;
		agent_do_g(s, i, g, &acts);
		d->rx_answer = 0;
		if (d->agent != AG_UP) {
			/* blocked in a fsync: the other groups after it */
			if (g + 1 < s->G) {
				d->rx_rest = *m;
				d->rx_rest_g = g + 1;
				d->rx_rest_heard = heard;
			}
			return;
		}
	}
	/* the answers the groups asked for: one heartbeat a peer, marked
	 * as one (VG_FLAG_REPLY), as vigild's one_heartbeat_each sends */
	d->rx_answer = 1;
	for (k = 0; k < s->n; k++)
		if ((d->rx_hb >> k) & 1 && member(s, i, k))
			agent_send(s, i, 0, k, VG_MSG_HEARTBEAT,
			    vg_el_hb_flags(&d->el) | VG_FLAG_REPLY,
			    d->el.term, 0, (uint16_t)id_of(k), 0);
	d->rx_answer = 0;
	d->rx_hb = 0;
}

static void
agent_rx(struct sim *s, int i, const struct vg_msg *m, vg_ns arrived,
    int lazy)
{
	struct snode *d = &s->nd[i];
	int j = m->sender - 1;
	struct vg_peer *p = &d->peer[j];
	vg_ns ln = lnow(s, i);
	int64_t gap = 0;

	if (!member(s, i, j))
		return;			/* rx.c: VG_DROP_UNKNOWN */
	if (s->o.replay) {
		if (vg_replay_check(&d->replay[j], m->incarnation, m->seq) !=
		    VG_DROP_NONE) {
			s->stale++;	/* rx.c: stale or replayed */
			return;
		}
		gap = vg_replay_update(&d->replay[j], m->incarnation, m->seq);
	} else {
		if (m->incarnation < d->inc_seen[j]) {
			s->stale++;	/* rx.c: VG_DROP_STALE */
			return;
		}
		if (p->ever_seen && m->incarnation == p->last.incarnation &&
		    m->seq > p->rx_high)
			gap = (int64_t)(m->seq - p->rx_high - 1);
	}
	d->inc_seen[j] = m->incarnation;
	d->last_rx[j] = s->now;
	/* as vigild: a datagram read late is heard now (the second
	 * socket's when it came), its round trip and the hold our echo
	 * reports count from when it came (its kernel stamp) */
	if (arrived < 0)
		arrived = ln;
	vg_peer_heard(p, m, gap, lazy ? arrived : ln, arrived, d->el.dead);
	agent_rx_from(s, i, m, 0, lazy ? arrived : ln);
}

/* Arm the node's one timer: min(next grid tick, election deadline). */
void
agent_schedule(struct sim *s, int i)
{
	struct snode *d = &s->nd[i];
	vg_ns ln, dl, t;
	int g;

	if (d->agent != AG_UP)
		return;
	ln = lnow(s, i);
	dl = vg_el_deadline(&d->el, ln);
	for (g = 1; g < s->G; g++)
		if ((t = vg_el_deadline(&d->gel[g], ln)) < dl)
			dl = t;
	if (d->next_grid < dl)
		dl = d->next_grid;
	if (dl <= ln) {
		s->spins++;	/* a deadline that tick did not act on (or a
				 * kept request due, answered at the wake) */
		dl = ln + US(1);
	}
	/* as vigild's rx_may_wait (the sim's keeper removes at once: no
	 * batch) */
	for (d->rx_wait = !s->o.rx_now, g = 0; g < s->G && d->rx_wait; g++)
		d->rx_wait = vg_el_rx_may_wait(&d->gel[g], dl, 0,
		    d->grid_sent);
	t = real_at(s, i, dl);
	if (d->wake_at != VG_NS_NEVER && d->wake_at <= t)
		return;		/* an earlier wake is pending: it re-arms */
	d->wake_at = t;
	ev_at(s, t, EV_WAKE, i, ++d->wake_gen);
}

/* ---- node life: start, crash, freeze, isolate */

void
node_start(struct sim *s, int i)
{
	struct snode *d = &s->nd[i];
	vg_ns ln = lnow(s, i);
	int j, g;

	/* as statedir.c: the wall clock in ms at the start (the sim's real
	 * time, as from one NTP server), never back */
	if ((uint64_t)(SIM_WALL0_MS + s->now / VG_NS_PER_MS) > d->inc)
		d->inc = (uint64_t)(SIM_WALL0_MS + s->now / VG_NS_PER_MS);
	else
		d->inc++;
	for (g = 0; g < s->G; g++) {
		vg_el_init_group(&d->gel[g], sim_conf(d), (size_t)g,
		    d->gdisk_term[g], d->gdisk_vote[g], rng_next(&s->rng), ln);
		if (!s->o.no_inc_clock)
			vg_el_set_incarnation(&d->gel[g], d->inc);
		if (d->stage == 1)	/* JOINT is on disk: back in J */
			vg_el_joint(&d->gel[g], s->nd[s->push.coord].conf_new,
			    ln);
		if (d->ls_ok)		/* the agent alone was restarted */
			vg_el_started_after(&d->gel[g], d->ls_at, ln);
	}
	for (j = 0; j < s->n; j++) {
		if (member(s, i, j))
			vg_peer_init(&d->peer[j], &s->nd[j].conf->nodes[j]);
		d->inc_seen[j] = 0;
		memset(&d->replay[j], 0, sizeof(d->replay[j]));
	}
	d->nbacklog = 0;
	d->rx_wait = 0;
	d->rx_rest_g = 0;
	d->rx_hb = 0;
	d->agent = AG_UP;
	d->next_grid = ln + rng_range(&s->rng, 0, s->h);
	d->wake_at = VG_NS_NEVER;
	d->wake_gen++;
	tl_add(s, i, TL_NODE, TL_RESTART, 0, 0, d->disk_term);
	agent_schedule(s, i);
}

/* The agent dies.  keeper_lives: only the agent (SIGKILL, segfault): the
 * keeper removes the VIPs and sends RELEASE; else the host (both gone). */
void
node_crash(struct sim *s, int i, int keeper_lives)
{
	struct snode *d = &s->nd[i];
	int j, g, release[SIM_GMAX];

	/* in an fsync: the write may or may not have reached the disk */
	if (d->agent == AG_FSYNC && (rng_next(&s->rng) & 1)) {
		d->gdisk_term[d->pend_g] = d->pend_term;
		d->gdisk_vote[d->pend_g] = d->pend_vote;
	}
	d->fsync_gen++;
	d->rx_rest_g = 0;
	d->rx_hb = 0;
	/* a keeper frozen on its own is not crashed with the agent here
	 * (test_schedule never does that: see sim.h) */
	for (g = 0; g < s->G; g++) {
		d->gk[g].frozen = 0;
		d->gk[g].fq = 0;
	}
	d->agent = AG_DOWN;
	if (!keeper_lives)
		d->ls_ok = 0;	/* the host: /dev/shm went with it */
	d->wake_gen++;
	d->wake_at = VG_NS_NEVER;
	d->nbacklog = 0;
	d->rx_wait = 0;
	tl_add(s, i, TL_NODE, TL_CRASH, 0, 0, d->el.term);
	for (g = 0; g < s->G; g++) {
		struct keeper *k = &d->gk[g];

		release[g] = keeper_lives &&
		    (k->holding || (k->lease && lnow(s, i) < k->deadline));
		keeper_off(s, i, g);
	}
	/* the keeper's EOF path: RELEASE(g, T_g) for each group it held */
	for (g = 0; g < s->G; g++) {
		if (!release[g])
			continue;
		for (j = 0; j < s->n; j++) {
			struct vg_msg m;

			if (j == i || !member(s, i, j))
				continue;
			memset(&m, 0, sizeof(m));
			m.version = VG_VERSION;
			m.type = VG_MSG_RELEASE;
			m.cluster_id = d->conf->cluster_id;
			m.sender = (uint16_t)id_of(i);
			m.state = VG_ST_STANDBY;	/* as keeper.c sends it */
			m.priority = d->gel[g].priority;
			m.term = d->gk[g].term;
			m.incarnation = d->inc;
			m.seq = KEEPER_SEQ + ++d->k.seq;
			m.config_digest = SIM_DIGEST(d);
			m.group = (uint8_t)g;
			net_send(s, i, j, &m);
		}
	}
}

void
node_freeze(struct sim *s, int i)
{
	struct snode *d = &s->nd[i];

	d->agent = AG_FROZEN;
	d->wake_gen++;
	d->wake_at = VG_NS_NEVER;
	tl_add(s, i, TL_NODE, TL_FREEZE, 0, 0, d->el.term);
}

/* What queued while the agent could not run (or waited for its wake-up),
 * until it blocks again; as vigild, each dated by when it came for its
 * round trip (the kernel's stamp). */
static void
drain(struct sim *s, int i)
{
	struct snode *d = &s->nd[i];
	size_t k = 0;

	while (k < d->nbacklog && d->agent == AG_UP) {
		agent_rx(s, i, &d->backlog[k], d->backlog_at[k],
		    d->backlog_lazy[k]);
		k++;
	}
	memmove(d->backlog, d->backlog + k,
	    (d->nbacklog - k) * sizeof(d->backlog[0]));
	memmove(d->backlog_at, d->backlog_at + k,
	    (d->nbacklog - k) * sizeof(d->backlog_at[0]));
	memmove(d->backlog_lazy, d->backlog_lazy + k,
	    (d->nbacklog - k) * sizeof(d->backlog_lazy[0]));
	d->nbacklog -= k;
}

/* SIGCONT: timers and the socket backlog, in an order the loop picks. */
void
node_thaw(struct sim *s, int i)
{
	struct snode *d = &s->nd[i];
	int timer_first = (int)(rng_next(&s->rng) & 1);

	d->agent = AG_UP;
	tl_add(s, i, TL_NODE, TL_THAW, 0, 0, d->el.term);
	if (timer_first)
		agent_wake(s, i);
	drain(s, i);
	if (!timer_first)
		agent_wake(s, i);
	agent_schedule(s, i);
}

/* The fsync of a PERSIST is done: the rest of that list, then the rest. */
static void
fsync_done(struct sim *s, int i, uint64_t gen)
{
	struct snode *d = &s->nd[i];
	int g;

	if (d->agent != AG_FSYNC || gen != d->fsync_gen)
		return;
	d->gdisk_term[d->pend_g] = d->pend_term;
	d->gdisk_vote[d->pend_g] = d->pend_vote;
	d->agent = AG_UP;
	d->rx_answer = d->pend_answer;
	agent_do_from(s, i, d->pend_g, &d->pend, d->pend_k);
	d->rx_answer = 0;
	/* the groups of the message after the one that persisted */
	if (d->rx_rest_g != 0 && d->agent == AG_UP) {
		g = d->rx_rest_g;
		d->rx_rest_g = 0;
		agent_rx_from(s, i, &d->rx_rest, g, d->rx_rest_heard);
	}
	drain(s, i);
	agent_wake(s, i);
	agent_schedule(s, i);
}

void
cut(struct sim *s, int from, int to, int on)
{
	s->ln[from][to].cut = on;
}

/* Both directions between i and every other node. */
void
cut_all(struct sim *s, int i, int on)
{
	int j;

	for (j = 0; j < s->n; j++)
		if (j != i) {
			cut(s, i, j, on);
			cut(s, j, i, on);
		}
}

void
set_loss(struct sim *s, double loss)
{
	int i, j;

	for (i = 0; i < s->n; i++)
		for (j = 0; j < s->n; j++)
			s->ln[i][j].loss = loss;
}

/* ---- set-up and the loop */

/* Every live sim, so that a failed test still frees what it made. */
struct sim *live_sims[8];

/* Node self's config: the cluster's, or what o says this node's says. */
static void
conf_text(const struct opt *o, int self, char *text, size_t size)
{
	int i, dh = o->node_dead_h[self] ? o->node_dead_h[self] :
	    o->dead_h ? o->dead_h : 3;
	int n = o->node_members[self] ? o->node_members[self] : o->n;
	size_t len;

	len = (size_t)snprintf(text, size,
	    "cluster = \"sim\";\nauth = \"none\";\ninterval = %lld;\n"
	    "dead_time = %lld;\nmax_drift = %.3f;\nnodes = (\n",
	    (long long)ms_of(H), (long long)ms_of(dh * H), RHO);
	for (i = 0; i < n; i++) {
		int v = o->node_votes[self][i] ? o->node_votes[self][i] :
		    o->votes[i] ? o->votes[i] : 1;

		len += (size_t)snprintf(text + len, size - len,
		    "  { id = %d; name = \"n%d\"; address = \"192.0.2.%d\"; "
		    "priority = %d; role = \"%s\"; votes = %d; }%s\n",
		    id_of(i), id_of(i), id_of(i),
		    o->prio[i] ? o->prio[i] : 100 - 10 * i,
		    (o->witness >> i) & 1 ? "witness" : "node", v,
		    i + 1 < n ? "," : "");
	}
	snprintf(text + len, size - len, ");\n");
}

/*
 * VIP groups by hand, as a `groups` section would read (the parser is
 * conf.c's business): o->groups of them, group g's priorities group 0's
 * (the nodes') rotated by g unless o says, priority 0 where o->gnever
 * says, preemption the file's unless o says.  No VIPs, no tracks.
 */
static void
conf_groups(const struct opt *o, struct vg_conf *c)
{
	size_t g, i, n = c->n_nodes;

	if (o->groups <= 1)
		return;
	c->groups_line = 1;
	c->n_groups = (size_t)o->groups;
	for (g = 1; g < c->n_groups; g++)
		c->groups[g] = c->groups[0];
	for (g = 0; g < c->n_groups; g++) {
		struct vg_conf_group *x = &c->groups[g];

		snprintf(x->name, sizeof(x->name), "g%zu", g);
		x->vip_first = x->n_vips = 0;
		x->tracks = 0;
		x->line = 2 + (int)g;
		for (i = 0; i < n; i++) {
			x->priority[i] = o->gprio[g][i] ? o->gprio[g][i] :
			    c->nodes[(i + n - g % n) % n].priority;
			if ((o->gnever[g] >> i) & 1)
				x->priority[i] = 0;
		}
		if (o->gpreempt[g])
			x->preempt = o->gpreempt[g] > 0;
	}
}

struct sim *
sim_new(const struct opt *o)
{
	struct sim *s = calloc(1, sizeof(*s));
	char text[4096];
	int i, j;

	assert_non_null(s);
	/* the nodes' info lines (a lapse, say) are the timeline's business:
	 * thousands of them would bury a failure's report */
	log_set_level(VG_LOG_WARNING);
	s->o = *o;
	/* SIM_LAZY_NOW=1: every run as before the second socket */
	if (getenv("SIM_LAZY_NOW") != NULL)
		s->o.lazy_now = 1;
	/* SIM_NO_INC_CLOCK=1: a peer came up when first heard, as before */
	if (getenv("SIM_NO_INC_CLOCK") != NULL)
		s->o.no_inc_clock = 1;
	/* SIM_NO_LASTSEND=1: a restart counts from its start, as before */
	if (getenv("SIM_NO_LASTSEND") != NULL)
		s->o.no_lastsend = 1;
	s->n = o->n;
	s->G = o->groups > 1 ? o->groups : 1;
	assert_true(s->G <= SIM_GMAX);
	s->rng = o->seed * 0x9e3779b97f4a7c15ULL + 12345;
	s->jitter = o->fixed_delay ? 0 : JITTER;
	for (i = 0; i < o->n; i++) {
		struct snode *d = &s->nd[i];
		struct vg_errs errs;
		char name[16];
		const struct vg_conf *c;

		conf_text(o, i, text, sizeof(text));
		snprintf(name, sizeof(name), "n%d", id_of(i));
		vg_errs_init(&errs);
		d->conf = vg_conf_parse(text, "sim.conf", name, &errs);
		if (d->conf == NULL)
			fail_msg("config of n%d: %s", id_of(i),
			    errs.n ? errs.msg[0] : "?");
		conf_groups(o, d->conf);
		c = d->conf;
		for (j = 0; j < (int)c->n_nodes; j++)
			assert_int_equal(c->nodes[j].id, id_of(j));
		/* DESIGN.md's L, from this node's own config */
		d->lease_len = (vg_ns)floor((double)c->dead_time *
		    (1 - c->max_drift) / (1 + c->max_drift) -
		    (double)c->interval / 4);
		d->rate = o->rate[i] != 0 ? o->rate[i] : o->no_drift ? 1.0 :
		    1.0 + RHO * (2 * rng_unit(&s->rng) - 1);
		d->off = VG_MS(1000) * (vg_ns)(1 + i) +
		    rng_range(&s->rng, 0, VG_MS(1000));
		d->wake_at = VG_NS_NEVER;
		for (j = 0; j < o->n; j++)
			s->ln[i][j].delay = o->fixed_delay ? DMAX :
			    rng_range(&s->rng, DMIN, DMAX);
		if (!((o->down >> i) & 1))
			ev_at(s, o->stagger ?
			    rng_range(&s->rng, 0, o->stagger) : 0, EV_START,
			    i, 0);
	}
	s->h = s->nd[0].conf->interval;
	s->dead = s->nd[0].conf->dead_time;
	s->lease = s->nd[0].conf->lease;
	s->margin = s->h / 4;
	set_loss(s, o->loss);
	for (i = 0; i < 8; i++)
		if (live_sims[i] == NULL) {
			live_sims[i] = s;
			break;
		}
	return s;
}

void
sim_free(struct sim *s)
{
	int i;

	for (i = 0; i < 8; i++)
		if (live_sims[i] == s)
			live_sims[i] = NULL;
	for (i = 0; i < s->n; i++) {
		if (s->nd[i].conf_new != s->nd[i].conf)
			vg_conf_free(s->nd[i].conf_new);
		vg_conf_free(s->nd[i].conf);
	}
	free(s->heap);
	for (i = 0; i < (int)s->npool; i++)
		free(s->pool[i]);
	free(s->pool);
	free(s->pfree);
	free(s->tl);
	for (i = 0; i < SIM_GMAX; i++)
		free(s->gowner[i]);
	free(s);
}

void
sim_check(const struct sim *s)
{
	int i, g;

	for (g = 0; g < s->G; g++) {
		if (s->gnholding[g] > 1)
			sim_fail(s, "two keepers hold the VIPs");
		for (i = 0; i < s->n; i++) {
			if (s->nd[i].gk[g].holding &&
			    s->nd[i].agent == AG_UP &&
			    s->nd[i].gel[g].state != VG_ST_ACTIVE)
				sim_fail(s, "a keeper holds for an agent that "
				    "is not active");
			/* its heartbeats name the active: itself (else no
			 * follower echoes it; the review of the vote in the
			 * TRANSFER found one that said 0) */
			if (s->nd[i].agent == AG_UP &&
			    s->nd[i].gel[g].state == VG_ST_ACTIVE &&
			    s->nd[i].gel[g].active_id != id_of(i))
				sim_fail(s, "an active that does not name "
				    "itself the active");
		}
	}
}

/* ---- a configuration move and its coordinator */

static vg_ns
lease_len_of(const struct vg_conf *c)
{
	return (vg_ns)floor((double)c->dead_time * (1 - c->max_drift) /
	    (1 + c->max_drift) - (double)c->interval / 4);
}

/* The coordinator's message to node i (or i's ack to it): over the link,
 * unless cut, isolated or lost; -1 if it does not arrive. */
static void
push_send(struct sim *s, int from, int to, int what)
{
	const struct link *l = &s->ln[from][to];
	struct ev *e;

	if (s->nd[from].isolated || l->cut ||
	    (l->loss > 0 && rng_unit(&s->rng) < l->loss))
		return;
	e = ev_new(s, s->now + l->delay + rng_range(&s->rng, 0, s->jitter),
	    EV_PUSH, to);
	e->from = what;
	e->gen = (uint64_t)from;
}

static void
push_tick(struct sim *s, vg_ns t)
{
	struct ev *e = ev_new(s, t, EV_PUSH, s->push.coord);

	e->from = PU_TICK;
}

/* Do the nodes in `set` hold a quorum of c (by c's votes)? */
static int
push_quorum(const struct vg_conf *c, unsigned set)
{
	unsigned v = 0;
	size_t j;

	for (j = 0; j < c->n_nodes; j++)
		if ((set >> j) & 1)
			v += c->nodes[j].votes;
	return v >= c->quorum;
}

static void
push_move(struct sim *s, int i, int final)
{
	struct snode *d = &s->nd[i];
	const struct vg_conf *cn = s->nd[s->push.coord].conf_new;
	struct vg_acts acts[SIM_GMAX];
	vg_ns ln = lnow(s, i);
	int j, g, was = d->stage;

	if (d->agent != AG_UP || d->isolated || d->stage >= 1 + final)
		return;
	/* every group moves at once (vg_el_final persists nothing) */
	for (g = 0; g < s->G; g++) {
		acts[g].n = 0;
		if (final)
			vg_el_final(&d->gel[g], cn, ln, &acts[g]);
		else
			vg_el_joint(&d->gel[g], cn, ln);
	}
	d->stage = 1 + final;
	tl_add(s, i, TL_NODE, TL_NOTE, (uint8_t)was, (uint8_t)d->stage,
	    d->el.term);
	for (j = 0; j < s->n; j++)
		if (j != i && member(s, i, j) && !d->peer[j].ever_seen)
			vg_peer_init(&d->peer[j], &s->nd[j].conf->nodes[j]);
	for (g = 0; g < s->G; g++)
		agent_do_g(s, i, g, &acts[g]);
	agent_schedule(s, i);
}

static void
push_event(struct sim *s, const struct ev *e)
{
	struct spush *p = &s->push;
	int c = p->coord, i = e->node, j;
	const struct vg_conf *co = s->nd[c].conf, *cn = s->nd[c].conf_new;
	vg_ns dj = co->dead_time > cn->dead_time ? co->dead_time :
	    cn->dead_time;

	switch (e->from) {
	case PU_JOINT:
		if (s->nd[i].agent != AG_UP || s->nd[i].isolated)
			break;
		push_move(s, i, 0);
		if (s->nd[i].stage >= 1)
			push_send(s, i, c, PU_ACK);
		break;
	case PU_FINAL:
		push_move(s, i, 1);
		break;
	case PU_ACK:
		if (p->phase != 1)
			break;
		p->acked |= 1u << (int)e->gen;
		if (push_quorum(co, p->acked) && push_quorum(cn, p->acked)) {
			p->phase = 2;
			p->joint_done = s->now;
			p->final_at = lnow(s, c) + (p->early_final ? 0 : dj);
		}
		break;
	case PU_TICK:
		if (p->phase == 0 || p->phase == 4)
			break;
		if (s->now >= p->end) {
			p->phase = 4;
			break;
		}
		if (p->phase == 2 && lnow(s, c) >= p->final_at) {
			p->phase = 3;
			p->final_sent = s->now;
		}
		/* JOINT to every node that has not acked (a node of C' alone
		 * acks it too: it counts no C digest either); FINAL to every
		 * node not yet in C' */
		if (p->phase == 1 || p->phase == 3)
			for (j = 0; j < p->n; j++)
				if (p->phase == 1 ? !((p->acked >> j) & 1) :
				    s->nd[j].stage < 2) {
					if (j == c)
						push_move(s, j, p->phase == 3);
					else
						push_send(s, c, j, p->phase == 3 ?
						    PU_FINAL : PU_JOINT);
				}
		if (p->phase == 1 && s->nd[c].stage >= 1 &&
		    !((p->acked >> c) & 1)) {
			p->acked |= 1u << c;
			if (push_quorum(co, p->acked) &&
			    push_quorum(cn, p->acked)) {
				p->phase = 2;
				p->joint_done = s->now;
				p->final_at = lnow(s, c) +
				    (p->early_final ? 0 : dj);
			}
		}
		push_tick(s, s->now + s->h);
		break;
	}
}

void
sim_push(struct sim *s, int coord, const struct opt *o2)
{
	char text[4096], name[16];
	struct vg_conf *keep = NULL;
	int i, n = s->n;

	for (i = 0; i < n; i++) {
		struct snode *d = &s->nd[i];
		struct vg_errs errs;

		if (i >= o2->n) {
			d->conf_new = NULL;
			continue;
		}
		if (d->conf_new != NULL && d->conf_new != d->conf)
			vg_conf_free(d->conf_new);
		conf_text(o2, i, text, sizeof(text));
		snprintf(name, sizeof(name), "n%d", id_of(i));
		vg_errs_init(&errs);
		d->conf_new = vg_conf_parse(text, "sim.conf", name, &errs);
		if (d->conf_new == NULL)
			fail_msg("C' of n%d: %s", id_of(i),
			    errs.n ? errs.msg[0] : "?");
		conf_groups(&s->o, d->conf_new);
		d->lease_len_new = lease_len_of(d->conf_new);
		if ((s->o.down >> i) & 1) {
			/* a new node: it has only C' */
			vg_conf_free(d->conf);
			d->conf = d->conf_new;
			d->lease_len = d->lease_len_new;
			d->stage = 2;
			if (d->agent == AG_DOWN)
				node_start(s, i);
		}
		if (i == coord)
			keep = d->conf_new;
	}
	assert_non_null(keep);		/* the coordinator is in C' */
	memset(&s->push, 0, sizeof(s->push));
	s->push.phase = 1;
	s->push.coord = coord;
	s->push.n = n;
	s->push.end = s->now + 60 * s->h;
	s->push.joint_done = s->push.final_sent = -1;
	push_tick(s, s->now);
}

/* What vg_proto_lazy_prog steers to a node's second socket: a standby's
 * plain heartbeat of one group to a node other than the active it names
 * (the sim's messages are of this version). */
static int
lazy_msg(const struct vg_msg *m)
{
	return m->type == VG_MSG_HEARTBEAT && m->n_groups <= 1 &&
	    m->state == VG_ST_STANDBY && m->flags == 0 && m->active != 0 &&
	    m->target != m->active;
}

static void
sim_event(struct sim *s, const struct ev *e)
{
	struct snode *d = &s->nd[e->node];
	int lazy;

	s->events++;
	switch (e->type) {
	case EV_DELIVER:
		if (d->agent == AG_DOWN || d->isolated ||
		    s->ln[e->from][e->node].cut)
			break;
		s->delivered++;
		lazy = !s->o.lazy_now && lazy_msg(&e->m);
		if (d->agent == AG_FROZEN || d->agent == AG_FSYNC ||
		    d->rx_wait || lazy) {
			if (d->agent == AG_UP && lazy)
				d->rx_lazy++;
			else if (d->agent == AG_UP)
				d->rx_waited++;
			if (d->nbacklog < BACKLOG) {
				d->backlog_at[d->nbacklog] = lnow(s, e->node);
				d->backlog_lazy[d->nbacklog] = (uint8_t)lazy;
				d->backlog[d->nbacklog++] = e->m;
			} else
				s->overflow++;
			break;
		}
		/* as vigild's check_cb: the second socket first */
		if (d->nbacklog > 0)
			drain(s, e->node);
		agent_rx(s, e->node, &e->m, -1, 0);
		agent_schedule(s, e->node);
		break;
	case EV_WAKE:
		if (e->gen != d->wake_gen)
			break;
		/* in a fsync the wake is fsync_done's; and it must re-arm */
		d->wake_at = VG_NS_NEVER;
		if (d->agent != AG_UP)
			break;
		if (d->nbacklog > 0)
			drain(s, e->node);	/* what waited for this wake */
		agent_wake(s, e->node);
		agent_schedule(s, e->node);
		break;
	case EV_KEEPER:
		keeper_deadline(s, e->node, e->from, e->gen);
		break;
	case EV_START:
		node_start(s, e->node);
		break;
	case EV_FSYNC:
		fsync_done(s, e->node, e->gen);
		break;
	case EV_PUSH:
		push_event(s, e);
		break;
	}
	sim_check(s);
}


/* Run until `until`, or until pred(s, arg) holds (then returns the time;
 * else -1).  The clock ends at `until` unless stopped. */
vg_ns
sim_run_pred(struct sim *s, vg_ns until, sim_pred pred, int arg)
{
	uint32_t idx;

	while (s->nheap > 0 && s->heap[0].t <= until) {
		idx = ev_pop(s);
		s->now = ev_slot(s, idx)->t;
		sim_event(s, ev_slot(s, idx));
		s->pfree[s->npfree++] = idx;
		if (pred != NULL && pred(s, arg))
			return s->now;
	}
	s->now = until;
	return -1;
}

void
sim_run(struct sim *s, vg_ns until)
{
	sim_run_pred(s, until, NULL, 0);
}

vg_ns
sim_held(const struct sim *s)
{
	return s->held_ns + (s->nholding > 0 ? s->now - s->acc_t : 0);
}

/* ---- what the scenarios look at */

/* The one node that is active in group g and holds it, no other in state
 * active there; else -1. */
int
the_active_g(const struct sim *s, int g)
{
	int i, who = -1;

	for (i = 0; i < s->n; i++) {
		const struct snode *d = &s->nd[i];

		/* a frozen agent may still think it is active: its keeper
		 * decides whether it holds (and the invariant checks that) */
		if (d->agent != AG_UP || d->gel[g].state != VG_ST_ACTIVE)
			continue;
		if (who >= 0 || !d->gk[g].holding)
			return -1;
		who = i;
	}
	return who;
}

int
the_active(const struct sim *s)
{
	return the_active_g(s, 0);
}

/* arg >= 0: that node is the one active; arg < 0: any one node. */
int
pred_active(const struct sim *s, int arg)
{
	int a = the_active(s);

	return arg < 0 ? a >= 0 : a == arg;
}

/* One node is active and holds, and it is not node arg. */
int
pred_other(const struct sim *s, int arg)
{
	int a = the_active(s);

	return a >= 0 && a != arg;
}

int
n_in_state(const struct sim *s, uint8_t st)
{
	int i, n = 0;

	for (i = 0; i < s->n; i++)
		n += s->nd[i].agent != AG_DOWN && s->nd[i].el.state == st;
	return n;
}

/* Run until one node is active (or that node), failing after `limit`. */
vg_ns
await_active(struct sim *s, int who, vg_ns limit, const char *what)
{
	vg_ns t;

	if (pred_active(s, who))
		return s->now;
	t = sim_run_pred(s, s->now + limit, pred_active, who);
	if (t < 0)
		sim_fail(s, what);
	return t;
}

/* The local-clock span d of node-local timers as a bound in real time. */
vg_ns
slow(vg_ns d)
{
	return (vg_ns)ceil((double)d / (1 - RHO));
}

/* D(1+rho)/(1-rho): how long a standby waits before a candidacy. */
vg_ns
cand_wait(const struct sim *s)
{
	return (vg_ns)((double)s->dead * (1 + RHO) / (1 - RHO));
}

struct opt
opt3(uint64_t seed)
{
	struct opt o;

	memset(&o, 0, sizeof(o));
	o.n = 3;
	o.seed = seed;
	return o;
}

vg_ns
stable(struct sim *s)
{
	/* a cluster that has elected and settled */
	vg_ns t = await_active(s, -1, VG_MS(1000), "no active at start");

	sim_run(s, s->now + 20 * s->h);
	return t;
}