/*
 * test_schedule: random fault schedules over the simulated cluster
 * (tests/unit/sim.c, the real election.c, peer.c and auth.c's replay
 * window on a fake clock), seeded and reproducible.
 *
 * A seed makes a plan: 2 to 7 nodes (2 without a witness, or with witness
 * nodes), weighted votes, even counts, D = 3h..8h, clocks at +-max_drift or
 * anywhere within it, slow fsyncs, preemption on some, and 2..12 faults at
 * random times: an agent killed (its keeper releases) or a host crashed,
 * restarted later or never; one or two agents frozen; a keeper frozen on
 * its own; partitions, an isolated node, one-way cuts; 30-95 % loss bursts;
 * slow links; duplication; a failing health check.  Per-node
 * configurations (SCHED_MIXED=1, the default): in a quarter of the plans
 * one node disagrees with the rest on dead_time, membership or votes; SCHED_MIXED=2 (--mixed-configs=2)
 * also two nodes that share another file, and a file that makes its node
 * a quorum alone, which configuration agreement cannot see.
 *
 * The simulator checks after every event (sim.h): at most one holder, a
 * keeper off at its deadline counting as holding for m more; at most one
 * active per term; a witness never active; term and vote persisted before
 * they leave; no lease longer than L = D(1-rho)/(1+rho) - h/4.  On a
 * violation it prints a one-line reproducer (seed and the plan) and the
 * tail of the fault trace and of the timeline.
 *
 * VIP groups (docs/design.md, issue 15): three plans in four run one group
 * (the plans of before, seed for seed), the others 2 to 4 (SCHED_GROUPS: at
 * most that many; 1: every plan as before), group g preferring node g mod
 * n, preemption off in some, priority 0 for one node in some; half of the
 * kills, crashes, freezes, isolations, loss bursts and failing checks are
 * aimed at one group's holder of the moment, and a failing check is one
 * group's.  Every check above is per group, and after the plan (no
 * per-node files, no push) check_groups: a holder that no fault touched,
 * with a quorum around it that no fault touched, kept its group whatever
 * hit the others (its comment says exactly what counts).
 *
 * Environment: SCHEDULES (default 1000; each must run, and 0 fails),
 * SCHED_FIRST (first seed, 1), SCHED_SEED (just that one, with its
 * trace), SCHED_MIXED (0/1), SCHED_STOP (stop at the first violation),
 * SCHED_NO_LEN (leave out the lease-length check: the mutants show what
 * the other checks catch alone), SCHED_EARLY_FINAL (a push's coordinator
 * sends FINAL without waiting D_J after the joint acks: shows that the
 * wait is load-bearing).  make unit unsets them all, and LOSS_TABLE.
 *
 * Pushes (docs/design.md, joint quorum): in a quarter of the plans without
 * per-node files, a push of a safety-relevant change (grow, shrink, votes,
 * dead_time) at a random time, with the plan's faults around it, and in
 * half of those a node down through it that comes back in C.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

#include <cmocka.h>

#include "sim.h"

/* Per-node configurations (level 1: one node with a file of its own) are
 * on: every node counts echoes and votes only between equal configuration
 * digests (issue 10).  SCHED_MIXED=0 turns them off; SCHED_MIXED=2 adds
 * what agreement does not cover (plan_mixed). */
static const int mixed_default = 1;

#define MAXF		12
#define MAXACT		(2 * MAXF + 1)	/* and the push */
#define TRACE		32

enum fkind {
	F_KILL, F_HOSTCRASH, F_FREEZE, F_FREEZE2, F_KFREEZE, F_PARTITION,
	F_ISOLATE, F_ONEWAY, F_LOSS, F_SLOW, F_DUP, F_FAULT, F_MAX
};

static const char *const fnames[F_MAX] = {
	[F_KILL] = "kill", [F_HOSTCRASH] = "hostcrash", [F_FREEZE] = "freeze",
	[F_FREEZE2] = "freeze2", [F_KFREEZE] = "kfreeze",
	[F_PARTITION] = "partition", [F_ISOLATE] = "isolate",
	[F_ONEWAY] = "oneway", [F_LOSS] = "loss", [F_SLOW] = "slow",
	[F_DUP] = "dup", [F_FAULT] = "fault",
};

enum mkind { M_NONE, M_DEAD, M_MEMBERS, M_VOTES };

/* a push of a safety-relevant change (docs/design.md, joint quorum) */
enum pkind { P_NONE, P_GROW, P_SHRINK, P_VOTES, P_DEAD, P_MAX };

static const char *const pnames[P_MAX] = {
	[P_NONE] = "none", [P_GROW] = "grow", [P_SHRINK] = "shrink",
	[P_VOTES] = "votes", [P_DEAD] = "dead_time",
};

static const char *const mnames[] = {
	[M_NONE] = "none", [M_DEAD] = "dead_time", [M_MEMBERS] = "members",
	[M_VOTES] = "votes",
};

struct fault {
	int		kind;
	vg_ns		at, dur;
	int		a, b;		/* nodes; ONEWAY: b the mode */
	unsigned	mask;		/* a side, or the nodes whose links */
	double		level;		/* loss, dup; SLOW: the delay in ms */
	int		restart;	/* KILL, HOSTCRASH: 0 never */
	int		applied;	/* bit per node, or 1 */
	int		group;		/* FAULT: the group whose election */
	int		aim;		/* a taken from group's holder then */
};

struct plan {
	uint64_t	seed;
	struct opt	o;
	int		mixed;
	int		mkind, mnodes;
	vg_ns		length;
	vg_ns		fsync[NMAX];
	vg_ns		preempt_delay;	/* -1: the default */
	int		extreme;	/* every clock at +-rho */
	struct fault	f[MAXF];
	int		nf;
	/* the push: C' is o2's; at push_at from coordinator push_coord;
	 * stale: a node down through it, back in C */
	int		push;
	vg_ns		push_at;
	int		push_coord, stale;
	struct opt	o2;
};

struct act {
	vg_ns		t;
	int		f;		/* index in plan.f */
	int		end;
};

/* the state of the links, made of overlapping faults */
struct links {
	int		cut[NMAX][NMAX];
	int		lossy[NMAX][NMAX];
	int		slow[NMAX][NMAX];
	int		dup;
	vg_ns		base[NMAX][NMAX];
};

struct run {
	struct plan	*p;
	struct sim	*s;
	struct links	l;
	char		trace[TRACE][96];
	size_t		ntrace;
	jmp_buf		jb;
	char		what[160];
};

static struct run *cur;
static int groups_max = 4;	/* SCHED_GROUPS */
static int no_len_check;
static int early_final;	/* SCHED_EARLY_FINAL: FINAL without D_J */

/* ---- the plan */

static int
pick(uint64_t *r, int n)
{
	return (int)(rng_next(r) % (uint64_t)n);
}

/* log-uniform between lo and hi */
static vg_ns
span(uint64_t *r, vg_ns lo, vg_ns hi)
{
	return (vg_ns)exp(log((double)lo) + rng_unit(r) *
	    (log((double)hi) - log((double)lo)));
}

/* Is node i a quorum on its own votes, by its own file (own) or the
 * cluster's? */
static int
self_quorum(const struct opt *o, int i, int own)
{
	int j, n = own && o->node_members[i] ? o->node_members[i] : o->n;
	unsigned v, tot = 0, mine = 0;

	for (j = 0; j < n; j++) {
		v = own && o->node_votes[i][j] ? o->node_votes[i][j] :
		    o->votes[j] ? o->votes[j] : 1;
		tot += v;
		if (j == i)
			mine = v;
	}
	return mine >= tot / 2 + 1;
}

/*
 * Level 1: one node has a file of its own (a rolling change caught half
 * way), but not one that makes it a quorum by itself: configuration
 * agreement covers that.  Level 2: also two nodes that share another file
 * (disjoint quorums, each agreeing within itself) and a file that makes
 * its node a quorum alone; agreement cannot see those (docs/design.md).
 */
static void
plan_mixed(struct plan *p, uint64_t *r, int level)
{
	struct opt *o = &p->o;
	int k, i = 0, j, n = o->n;

	p->mkind = 1 + pick(r, 3);
	if (p->mkind == M_MEMBERS && n < 3)
		p->mkind = M_DEAD;
	p->mnodes = 1 + pick(r, 2);
	if (level < 2)
		p->mnodes = 1;
	for (k = 0; k < p->mnodes; k++) {
		i = pick(r, n);
		switch (p->mkind) {
		case M_DEAD:
			/* as in a rolling change of D: 3h <-> 10h */
			o->node_dead_h[i] = 3 + pick(r, 8);
			if (o->node_dead_h[i] == (o->dead_h ? o->dead_h : 3))
				o->node_dead_h[i]++;
			break;
		case M_MEMBERS:
			/* a node that has a smaller cluster (reloaded
			 * first), the first lo..n-1 nodes, itself in it */
			i = pick(r, n - 1);
			j = i + 1 > 2 ? i + 1 : 2;
			o->node_members[i] = j + pick(r, n - j);
			break;
		case M_VOTES:
			j = pick(r, n);
			o->node_votes[i][j] = (uint8_t)(1 + pick(r, 3));
			if (o->node_votes[i][j] == (o->votes[j] ? o->votes[j] : 1))
				o->node_votes[i][j]++;
			break;
		}
	}
	if (level < 2 && self_quorum(o, i, 1) && !self_quorum(o, i, 0)) {
		o->node_members[i] = 0;
		memset(o->node_votes[i], 0, sizeof(o->node_votes[i]));
		o->node_dead_h[i] = 3 + pick(r, 8);
		p->mkind = M_DEAD;
	}
}

/*
 * A push in a quarter of the plans without per-node files: grow by up to
 * two nodes (new ones start at the push, in C'), shrink by up to two,
 * other votes for one node, another dead_time.  Half of them have a node
 * down from just before the push until after its coordinator gave up: it
 * comes back in C.
 */
static void
plan_push(struct plan *p, uint64_t *r)
{
	struct opt *o = &p->o, *o2 = &p->o2;
	int i, n = o->n, k, both;

	*o2 = *o;
	p->push = 1 + pick(r, P_MAX - 1);
	if (p->push == P_GROW && n == 7)
		p->push = P_SHRINK;
	if (p->push == P_SHRINK && n <= 3)
		p->push = P_GROW;
	switch (p->push) {
	case P_GROW:
		k = n + 1 + pick(r, 2) > 7 ? 7 : n + 1 + pick(r, 2);
		o->n = o2->n = k;
		for (i = 0; i < n; i++)
			o->node_members[i] = n;
		for (i = n; i < k; i++) {
			o->down |= 1u << i;
			o->rate[i] = 1 + RHO * (2 * rng_unit(r) - 1);
		}
		/* a witness of C stays one; the new nodes are nodes */
		o2->witness = o->witness;
		break;
	case P_SHRINK:
		o2->n = n - 1 - pick(r, 2) < 2 ? 2 : n - 1 - pick(r, 2);
		break;
	case P_VOTES:
		i = pick(r, n);
		o2->votes[i] = (uint8_t)((o->votes[i] ? o->votes[i] : 1) %
		    3 + 1);
		break;
	case P_DEAD:
		o2->dead_h = 3 + pick(r, 8);
		if (o2->dead_h == (o->dead_h ? o->dead_h : 3))
			o2->dead_h++;
		break;
	}
	both = o2->n < o->n ? o2->n : o->n;
	if (p->push == P_GROW)
		both = n;
	p->push_at = VG_MS(200) + (vg_ns)(rng_unit(r) *
	    (double)(p->length / 2));
	p->push_coord = pick(r, both);
	p->stale = -1;
	if (pick(r, 2) == 0 && p->nf < MAXF) {
		struct fault *f = &p->f[p->nf++];

		memset(f, 0, sizeof(*f));
		f->kind = F_HOSTCRASH;
		f->a = (p->push_coord + 1 + pick(r, both - 1)) % both;
		f->at = p->push_at - VG_MS(5);
		f->dur = 60 * H + VG_MS(50) + (vg_ns)pick(r, 300) * VG_MS(1);
		f->restart = 1;
		p->stale = f->a;
	}
}

/*
 * VIP groups (docs/design.md, issue 15): 1 to groups_max of them, group
 * g's priorities group 0's rotated by g (g prefers node g mod n), in some
 * groups one other node of priority 0 there, preemption off in some; half
 * the faults on a node are aimed at a group's holder of the moment (its
 * node then), and a failing health check is one group's.
 */
static void
plan_groups(struct plan *p, uint64_t *r)
{
	struct opt *o = &p->o;
	int g, k, n = o->n;

	/* a quarter of the plans 2 or more (a plan of G groups costs about
	 * G/2 times one of one: make check's time stays within 20 %) */
	o->groups = groups_max == 1 || pick(r, 4) ? 1 : 2 + pick(r, groups_max - 1);
	if (o->groups == 1)
		return;
	for (g = 0; g < o->groups; g++) {
		o->gpreempt[g] = pick(r, 2) ? -1 : 0;
		if (pick(r, 4) == 0)	/* never the one it prefers */
			o->gnever[g] = 1u << ((g + 1 + pick(r, n - 1)) % n);
	}
	for (k = 0; k < p->nf; k++) {
		struct fault *f = &p->f[k];

		f->group = pick(r, o->groups);
		f->aim = pick(r, 2) && (f->kind == F_KILL ||
		    f->kind == F_HOSTCRASH || f->kind == F_FREEZE ||
		    f->kind == F_KFREEZE || f->kind == F_ISOLATE ||
		    f->kind == F_FAULT || f->kind == F_LOSS);
	}
}

static void
plan_make(struct plan *p, uint64_t seed, int mixed)
{
	uint64_t r = seed * 0xd1b54a32d192ed03ULL + 7;
	struct opt *o = &p->o;
	int i, k, n;

	memset(p, 0, sizeof(*p));
	p->seed = seed;
	p->mixed = mixed;
	o->seed = seed;
	o->replay = 1;
	n = o->n = 2 + pick(&r, 6);		/* 2..7 */
	o->dead_h = 3 + (pick(&r, 3) == 0 ? pick(&r, 6) : 0);
	if (n >= 3 && pick(&r, 3) == 0) {
		o->witness = 1u << (n - 1);	/* the last one */
		if (n >= 5 && pick(&r, 2) == 0)
			o->witness |= 1u << (n - 2);
	}
	if (pick(&r, 4) == 0)
		for (i = 0; i < n; i++)
			o->votes[i] = (uint8_t)(1 + pick(&r, 3));
	if (pick(&r, 4) == 0)
		for (i = 0; i < n; i++)	/* distinct, shuffled */
			o->prio[i] = (uint8_t)(200 - 20 * ((i + 3 * (int)seed) %
			    n) - pick(&r, 10));
	p->extreme = pick(&r, 2);
	for (i = 0; i < n; i++) {
		o->rate[i] = p->extreme ? (pick(&r, 2) ? 1 + RHO : 1 - RHO) :
		    1 + RHO * (2 * rng_unit(&r) - 1);
		if (pick(&r, 4) == 0)
			p->fsync[i] = span(&r, US(100), VG_MS(30));
	}
	p->preempt_delay = pick(&r, 3) == 0 ? VG_MS(pick(&r, 200)) : -1;
	o->stagger = pick(&r, 3) == 0 ? VG_MS(50) : 0;
	/* level 1 in a quarter of the plans: a node out of agreement stalls
	 * most of a small cluster, and the other rules need plans that move */
	if (mixed >= 2 || (mixed == 1 && pick(&r, 4) == 0))
		plan_mixed(p, &r, mixed);
	p->length = VG_MS(1500) + (vg_ns)pick(&r, 3000) * VG_MS(1);
	p->nf = 2 + pick(&r, MAXF - 1);
	for (k = 0; k < p->nf; k++) {
		struct fault *f = &p->f[k];

		f->kind = pick(&r, F_MAX);
		f->at = VG_MS(100) + (vg_ns)(rng_unit(&r) *
		    (double)(p->length * 7 / 10));
		f->dur = span(&r, VG_MS(1), VG_MS(400));
		f->a = pick(&r, n);
		f->b = (f->a + 1 + pick(&r, n - 1)) % n;
		f->mask = (unsigned)(1 + pick(&r, (1 << n) - 2));
		f->restart = pick(&r, 7) != 0;
		switch (f->kind) {
		case F_LOSS:
			f->level = 0.30 + 0.65 * rng_unit(&r);
			if (pick(&r, 2))
				f->mask = (1u << n) - 1;	/* every link */
			break;
		case F_SLOW:
			f->level = 3 + 37 * rng_unit(&r);
			break;
		case F_DUP:
			f->level = 0.05 + 0.45 * rng_unit(&r);
			break;
		case F_ONEWAY:
			f->b = pick(&r, 3);
			f->mask = (unsigned)((f->a + 1 + pick(&r, n - 1)) % n);
			break;
		}
	}
	/* from a stream of its own: the plans without a push stay the same */
	r = seed * 0x9fb21c651e98df25ULL + 11;
	if (p->mkind == M_NONE && pick(&r, 4) == 0)
		plan_push(p, &r);
	/* and the groups from another: the plans of one group stay the same */
	r = seed * 0xbf58476d1ce4e5b9ULL + 13;
	if (groups_max > 1)
		plan_groups(p, &r);
}

static void
plan_line(const struct plan *p, char *buf, size_t size)
{
	const struct opt *o = &p->o;
	size_t len;
	int i, k;

	len = (size_t)snprintf(buf, size, "n=%d D=%dh witness=0x%x votes=",
	    o->n, o->dead_h ? o->dead_h : 3, o->witness);
	for (i = 0; i < o->n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%d",
		    i ? "," : "", o->votes[i] ? o->votes[i] : 1);
	if (len < size)
		len += (size_t)snprintf(buf + len, size - len, " clocks=%s "
		    "preempt=%lld len=%lldms mixed=%s", p->extreme ? "+-rho" :
		    "random", p->preempt_delay < 0 ? -1LL :
		    (long long)ms_of(p->preempt_delay), (long long)ms_of(p->length),
		    mnames[p->mkind]);
	for (i = 0; i < o->n && len < size; i++)
		if (o->node_dead_h[i] || o->node_members[i])
			len += (size_t)snprintf(buf + len, size - len,
			    " n%d:D=%dh,members=%d", id_of(i),
			    o->node_dead_h[i] ? o->node_dead_h[i] : o->dead_h,
			    o->node_members[i] ? o->node_members[i] : o->n);
	for (i = 0; i < o->n && len < size; i++)
		for (k = 0; k < o->n && len < size; k++)
			if (o->node_votes[i][k])
				len += (size_t)snprintf(buf + len, size - len,
				    " n%d:votes(n%d)=%d", id_of(i), id_of(k),
				    o->node_votes[i][k]);
	if (p->push && len < size)
		len += (size_t)snprintf(buf + len, size - len, " push=%s "
		    "n'=%d D'=%dh at=%lldms coord=n%d stale=n%d", pnames[p->push],
		    p->o2.n, p->o2.dead_h ? p->o2.dead_h : 3,
		    (long long)ms_of(p->push_at), id_of(p->push_coord),
		    p->stale >= 0 ? id_of(p->stale) : 0);
	for (i = 0; i < o->n && len < size; i++)
		if (p->fsync[i] > 0)
			len += (size_t)snprintf(buf + len, size - len,
			    " n%d:fsync=%.1fms", id_of(i), msf(p->fsync[i]));
	if (o->groups > 1 && len < size) {
		len += (size_t)snprintf(buf + len, size - len, " groups=%d",
		    o->groups);
		for (i = 0; i < o->groups && len < size; i++)
			len += (size_t)snprintf(buf + len, size - len, "%s%s%s",
			    i ? "," : ":", o->gpreempt[i] < 0 ? "nopreempt" :
			    "preempt", o->gnever[i] ? "+prio0" : "");
	}
	if (len < size)
		len += (size_t)snprintf(buf + len, size - len, " faults=");
	for (k = 0; k < p->nf && len < size; k++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s%s",
		    k ? "," : "", fnames[p->f[k].kind], p->f[k].aim ?
		    "@holder" : "");
}

/* ---- carrying it out */

static void __attribute__((format(printf, 2, 3)))
trace(struct run *u, const char *fmt, ...)
{
	va_list ap;
	char *b = u->trace[u->ntrace++ % TRACE];
	int n;

	n = snprintf(b, sizeof(u->trace[0]), "%10.3f ms  ", msf(u->s->now));
	va_start(ap, fmt);
	vsnprintf(b + n, sizeof(u->trace[0]) - (size_t)n, fmt, ap);
	va_end(ap);
}

static void
links_apply(struct run *u)
{
	struct sim *s = u->s;
	int i, j;

	for (i = 0; i < s->n; i++)
		for (j = 0; j < s->n; j++) {
			s->ln[i][j].cut = u->l.cut[i][j] > 0;
			if (u->l.lossy[i][j] == 0)
				s->ln[i][j].loss = 0;
			if (u->l.slow[i][j] == 0)
				s->ln[i][j].delay = u->l.base[i][j];
			if (u->l.dup == 0)
				s->ln[i][j].dup = 0;
		}
}

/* the links that touch mask (both ends in it for a partition: none) */
static int
touches(unsigned mask, int i, int j)
{
	return ((mask >> i) & 1) || ((mask >> j) & 1);
}

static void
link_faults(struct run *u, const struct fault *f, int d)
{
	struct sim *s = u->s;
	int i, j;

	for (i = 0; i < s->n; i++)
		for (j = 0; j < s->n; j++) {
			if (i == j)
				continue;
			switch (f->kind) {
			case F_PARTITION:
				if (((f->mask >> i) & 1) != ((f->mask >> j) & 1))
					u->l.cut[i][j] += d;
				break;
			case F_ISOLATE:
				if (i == f->a || j == f->a)
					u->l.cut[i][j] += d;
				break;
			case F_ONEWAY:
				/* 0: a hears nobody; 1: nobody hears a;
				 * 2: one link from a */
				if ((f->b == 0 && j == f->a) ||
				    (f->b == 1 && i == f->a) ||
				    (f->b == 2 && i == f->a &&
				    j == (int)f->mask))
					u->l.cut[i][j] += d;
				break;
			case F_LOSS:
				if (touches(f->mask, i, j)) {
					u->l.lossy[i][j] += d;
					if (d > 0)
						s->ln[i][j].loss = f->level;
				}
				break;
			case F_SLOW:
				if (touches(f->mask, i, j)) {
					u->l.slow[i][j] += d;
					if (d > 0)
						s->ln[i][j].delay =
						    (vg_ns)(f->level *
						    VG_NS_PER_MS);
				}
				break;
			case F_DUP:
				if (d > 0)
					s->ln[i][j].dup = f->level;
				break;
			}
		}
	if (f->kind == F_DUP)
		u->l.dup += d;
	links_apply(u);
}

static int
can_stop(const struct sim *s, int i)
{
	/* an agent that runs, and a keeper that runs (agent and keeper
	 * frozen together is outside the design: docs/design.md) */
	return s->nd[i].agent == AG_UP && !s->nd[i].k.frozen;
}

static void
fault_start(struct run *u, struct fault *f)
{
	struct sim *s = u->s;
	struct vg_acts acts;
	struct snode *d;
	int fg = s->G > 1 ? f->group : 0;

	/* aimed at a group's holder: whichever node holds it now */
	if (f->aim && holder_g(s, f->group) >= 0) {
		f->a = holder_g(s, f->group);
		if (f->kind == F_LOSS)
			f->mask = 1u << f->a;
		trace(u, "aimed at g%d's holder n%d", f->group, id_of(f->a));
	}
	d = &s->nd[f->a];
	switch (f->kind) {
	case F_KILL:
		if (d->agent == AG_DOWN || d->k.frozen)
			return;
		node_crash(s, f->a, 1);
		break;
	case F_HOSTCRASH:
		if (d->agent == AG_DOWN)
			return;
		node_crash(s, f->a, 0);
		break;
	case F_FREEZE2:
		if (can_stop(s, f->b)) {
			node_freeze(s, f->b);
			f->applied |= 2;
		}
		/* FALLTHROUGH */
	case F_FREEZE:
		if (can_stop(s, f->a)) {
			node_freeze(s, f->a);
			f->applied |= 1;
		}
		trace(u, "%s n%d%s", fnames[f->kind], id_of(f->a),
		    f->kind == F_FREEZE2 ? " and the next" : "");
		return;
	case F_KFREEZE:
		/* a slow fsync of the agent would stop both */
		if (!can_stop(s, f->a) || u->p->fsync[f->a] > 0)
			return;
		keeper_freeze(s, f->a);
		break;
	case F_FAULT:
		if (d->agent != AG_UP || d->gel[fg].fault)
			return;
		acts.n = 0;
		vg_el_set_fault(&d->gel[fg], 1, lnow(s, f->a), &acts);
		agent_do_g(s, f->a, fg, &acts);
		agent_schedule(s, f->a);
		break;
	default:
		link_faults(u, f, 1);
		break;
	}
	f->applied = 1;
	trace(u, "%s n%d b=%d mask=0x%x level=%.2f for %.1f ms", fnames[f->kind],
	    id_of(f->a), f->b, f->mask, f->level, msf(f->dur));
}

static void
fault_end(struct run *u, struct fault *f)
{
	struct sim *s = u->s;
	struct vg_acts acts;
	struct snode *d = &s->nd[f->a];
	int fg = s->G > 1 ? f->group : 0;

	if (!f->applied)
		return;
	switch (f->kind) {
	case F_KILL:
	case F_HOSTCRASH:
		if (!f->restart || d->agent != AG_DOWN)
			return;
		node_start(s, f->a);
		trace(u, "restart n%d", id_of(f->a));
		return;
	case F_FREEZE2:
		if ((f->applied & 2) && s->nd[f->b].agent == AG_FROZEN)
			node_thaw(s, f->b);
		/* FALLTHROUGH */
	case F_FREEZE:
		if ((f->applied & 1) && d->agent == AG_FROZEN)
			node_thaw(s, f->a);
		break;
	case F_KFREEZE:
		if (d->k.frozen)
			keeper_thaw(s, f->a);
		break;
	case F_FAULT:
		if (d->agent != AG_UP || !d->gel[fg].fault)
			return;
		acts.n = 0;
		vg_el_set_fault(&d->gel[fg], 0, lnow(s, f->a), &acts);
		agent_do_g(s, f->a, fg, &acts);
		agent_schedule(s, f->a);
		break;
	default:
		link_faults(u, f, -1);
		break;
	}
	trace(u, "end of %s n%d", fnames[f->kind], id_of(f->a));
}

/*
 * Groups are independent (docs/design.md, issue 15), checked after a plan
 * without per-node files or a push: a holder X of group g whose own node
 * no fault touched, with a quorum (by X's file) of nodes no fault touched
 * whose links to X no fault touched, keeps g.  "Touched" over [t_on, t]
 * where a fault counts from its start to D + 2 h past its end (a kill not
 * restarted: for ever): kill, host crash, freeze, keeper freeze, isolation
 * and a failing check of g (of another group: not) touch their node;
 * partitions, one-way cuts, loss and slow links touch the links they
 * change (duplication touches nothing: replay drops the copies).  With
 * preemption on in g, only a holder that no node of g outranks; and a
 * holding of 2D at least (a younger one may lose to a candidacy of its
 * own election that started before it won); a quorum that has another
 * node in it (renewals come with echoes: a node that is a quorum by its
 * own votes and hears nobody lapses, as designed).  A node with a slow
 * fsync counts as touched all along (below).  A violation: g's VIPs left
 * such a holder (TL_OFF).  `kept` counts the
 * holdings that lasted to the end although a fault touched another node
 * meanwhile; `moves_excused` the changes a fault explains.
 *
 * A slow fsync is not a fault but couples the groups: a node's vote or
 * candidacy in group h blocks its agent for the fsync (and G of them in a
 * row when several groups persist), so it neither renews the group it is
 * active in nor echoes its peers' actives.  `fsync_moves` counts the
 * changes that only a slow fsync of the holder or of the quorum around it
 * explains: 0 in plans of one group (an active persists nothing), some in
 * plans of several.
 */
struct tally {
	uint64_t	schedules, violations, ended_active;
	uint64_t	by_groups[SIM_GMAX + 1];
	uint64_t	kept, moves_excused;
	uint64_t	fsync_moves[SIM_GMAX + 1];
	double		sim_s;
	uint64_t	applied[F_MAX];
	uint64_t	events;
	uint64_t	pushes, finals, push_active, stale_back;
	uint64_t	handovers, xfer_votes, xfer_wins;
};

static void on_violation(const struct sim *, const char *);

static int
touched(const struct run *u, int g, int x, vg_ns from, vg_ns to,
    int with_fsync, int *other)
{
	const struct plan *p = u->p;
	const struct sim *s = u->s;
	const struct vg_conf *c = s->nd[x].conf;
	const struct vg_conf_group *cg = c->groups_line ? &c->groups[g] : NULL;
	unsigned near = 1u << x, gone = 0;
	vg_ns tail = (vg_ns)(p->o.dead_h ? p->o.dead_h : 3) * H + 2 * H;
	unsigned v = 0;
	int k, j;

	*other = 0;
	/* preemption: a better node of g may take it at any time */
	if (cg == NULL ? c->preempt : cg->preempt)
		for (j = 0; j < (int)c->n_nodes; j++)
			if (c->nodes[j].role == VG_ROLE_NODE && (cg == NULL ?
			    c->nodes[j].priority > c->nodes[x].priority :
			    cg->priority[j] > cg->priority[x]))
				return 1;
	for (k = 0; k < p->nf; k++) {
		const struct fault *f = &p->f[k];
		vg_ns end = (f->kind == F_KILL || f->kind == F_HOSTCRASH) &&
		    !f->restart ? VG_NS_NEVER : f->at + f->dur + tail;
		unsigned hit = 0;

		if (!f->applied || f->at > to || end < from)
			continue;
		switch (f->kind) {
		case F_FREEZE2:
			hit = 1u << f->a | 1u << f->b;
			break;
		case F_FAULT:
			if ((s->G > 1 ? f->group : 0) == g)
				hit = 1u << f->a;
			break;
		case F_KILL: case F_HOSTCRASH: case F_FREEZE: case F_KFREEZE:
		case F_ISOLATE:
			hit = 1u << f->a;
			break;
		case F_PARTITION:
			for (j = 0; j < s->n; j++)
				if (((f->mask >> j) & 1) != ((f->mask >> x) & 1))
					hit |= 1u << j;
			break;
		case F_ONEWAY:
			/* a cut link from or to a: x's link to a, or x = a */
			hit = 1u << f->a;
			if (f->b == 2 && x != f->a)
				hit = x == (int)f->mask ? 1u << f->a : 0;
			if (f->b == 2 && x == f->a)
				hit = 1u << f->mask;
			break;
		case F_LOSS: case F_SLOW:
			/* the links that touch mask: x's own, or to mask */
			hit = (f->mask >> x) & 1 ? ((1u << s->n) - 1) :
			    f->mask;
			break;
		}
		if (hit & ~near)
			*other = 1;
		gone |= hit;
	}
	/* a slow fsync blocks the agent, every group's election with it */
	for (j = 0; j < s->n && with_fsync; j++)
		if (p->fsync[j] > 0)
			gone |= 1u << j;
	if (gone & near)
		return 1;
	/* renewals come with echoes: a quorum with another node in it */
	for (j = 0, k = 0; j < (int)c->n_nodes; j++)
		if (!((gone >> j) & 1)) {
			v += c->nodes[j].votes;
			k += j != x;
		}
	if (v < c->quorum || k == 0)
		return 1;
	*other = *other || gone != 0;
	return 0;
}

static void
check_groups(struct run *u, struct tally *t)
{
	const struct sim *s = u->s;
	vg_ns dead = (vg_ns)(u->p->o.dead_h ? u->p->o.dead_h : 3) * H;
	size_t i, k;
	int other;

	if (u->p->mkind != M_NONE || u->p->push)
		return;
	for (i = 0; i < s->ntl; i++) {
		const struct tl *on = &s->tl[i], *off = NULL;

		if (on->kind != TL_ON)
			continue;
		for (k = i + 1; k < s->ntl && off == NULL; k++)
			if (s->tl[k].kind == TL_OFF && s->tl[k].g == on->g &&
			    s->tl[k].node == on->node)
				off = &s->tl[k];
		/* a holding younger than 2D: a competing candidacy of that
		 * election may still win (its voters had not heard X yet) */
		if ((off != NULL && off->t < on->t + 2 * dead) ||
		    touched(u, on->g, on->node, on->t, off ? off->t : s->now,
		    0, &other)) {
			t->moves_excused += off != NULL;
			continue;
		}
		/* only a slow fsync explains it: counted, by groups */
		if (touched(u, on->g, on->node, on->t, off ? off->t : s->now,
		    1, &other)) {
			t->fsync_moves[s->G] += off != NULL;
			continue;
		}
		if (off != NULL) {
			char what[160];

			snprintf(what, sizeof(what), "g%d left n%d (holding "
			    "since %.3f ms) with no fault on it or on a quorum "
			    "around it", on->g, id_of(on->node), msf(on->t));
			printf("  the timeline of that holding:\n");
			for (k = 0; k < s->ntl; k++)
				if (s->tl[k].t >= on->t - VG_MS(20) &&
				    s->tl[k].t <= off->t)
					printf("    %10.3f ms  n%d  kind %d  g%d  "
					    "%s -> %s  term %llu\n",
					    msf(s->tl[k].t), id_of(s->tl[k].node),
					    s->tl[k].kind, s->tl[k].g,
					    vg_state_name(s->tl[k].a),
					    vg_state_name(s->tl[k].b),
					    (unsigned long long)s->tl[k].term);
			u->s->now = off->t;
			on_violation(s, what);
		}
		t->kept += other;
	}
}

static int
act_cmp(const void *a, const void *b)
{
	const struct act *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->f - y->f;
}

static void
on_violation(const struct sim *s, const char *what)
{
	struct run *u = cur;
	char line[1024];
	size_t i;

	(void)s;
	snprintf(u->what, sizeof(u->what), "%s", what);
	plan_line(u->p, line, sizeof(line));
	printf("VIOLATION at %.3f ms: %s\n", msf(u->s->now), what);
	printf("  reproduce: SCHED_SEED=%llu SCHED_MIXED=%d "
	    "build/tests/test_schedule  # %s\n", (unsigned long long)u->p->seed,
	    u->p->mixed, line);
	printf("  faults (last %zu):\n", u->ntrace < TRACE ? u->ntrace : TRACE);
	for (i = u->ntrace > TRACE ? u->ntrace - TRACE : 0; i < u->ntrace; i++)
		printf("    %s\n", u->trace[i % TRACE]);
	tl_dump(u->s, 30);
	el_dump(u->s);
	fflush(stdout);
	longjmp(u->jb, 1);
}


/* One schedule; 1 if it broke an invariant. */
static int
run_one(uint64_t seed, int mixed, int verbose, struct tally *t)
{
	struct plan p;
	struct run u;
	struct act acts[MAXACT];
	struct sim *volatile s;
	int i, j, k, na = 0;

	plan_make(&p, seed, mixed);
	memset(&u, 0, sizeof(u));
	u.p = &p;
	s = sim_new(&p.o);
	u.s = s;
	s->on_fail = on_violation;
	s->no_len_check = no_len_check;
	cur = &u;
	for (i = 0; i < s->n; i++) {
		s->nd[i].fsync = p.fsync[i];
		if (p.preempt_delay >= 0) {
			s->nd[i].conf->preempt_delay = p.preempt_delay;
			for (j = 0; j < s->G; j++)
				if (s->nd[i].conf->groups_line != 0)
					s->nd[i].conf->groups[j].preempt_delay =
					    p.preempt_delay;
		}
		for (j = 0; j < s->n; j++)
			u.l.base[i][j] = s->ln[i][j].delay;
	}
	for (k = 0; k < p.nf; k++) {
		acts[na++] = (struct act){ p.f[k].at, k, 0 };
		acts[na++] = (struct act){ p.f[k].at + p.f[k].dur, k, 1 };
	}
	if (p.push)
		acts[na++] = (struct act){ p.push_at, -1, 0 };
	qsort(acts, (size_t)na, sizeof(acts[0]), act_cmp);
	if (setjmp(u.jb) != 0) {
		t->violations++;
		t->schedules++;
		t->sim_s += (double)s->now / VG_NS_PER_S;
		sim_free(s);
		cur = NULL;
		return 1;
	}
	for (k = 0; k < na; k++) {
		struct fault *f = &p.f[acts[k].f < 0 ? 0 : acts[k].f];

		sim_run(s, acts[k].t);
		if (acts[k].f < 0) {
			sim_push(s, p.push_coord, &p.o2);
			s->push.early_final = early_final;
			trace(&u, "push %s from n%d", pnames[p.push],
			    id_of(p.push_coord));
			t->pushes++;
		} else if (acts[k].end)
			fault_end(&u, f);
		else {
			fault_start(&u, f);
			t->applied[f->kind] += f->applied != 0;
		}
	}
	sim_run(s, p.length);
	check_groups(&u, t);
	t->by_groups[s->G]++;
	t->schedules++;
	t->sim_s += (double)s->now / VG_NS_PER_S;
	t->events += s->events;
	t->ended_active += the_active(s) >= 0;
	for (i = 0; i < s->n; i++)
		for (k = 0; k < s->G; k++) {
			t->handovers += s->nd[i].gel[k].st.handovers;
			t->xfer_votes += s->nd[i].gel[k].st.transfer_votes;
			t->xfer_wins += s->nd[i].gel[k].st.transfer_vote_wins;
		}
	if (p.push) {
		t->finals += s->push.final_sent >= 0;
		t->push_active += the_active(s) >= 0;
		if (p.stale >= 0 && s->nd[p.stale].stage == 0 &&
		    s->nd[p.stale].agent == AG_UP)
			t->stale_back++;
	}
	if (verbose) {
		char line[1024];

		plan_line(&p, line, sizeof(line));
		printf("  seed %llu: %s\n", (unsigned long long)seed, line);
		for (i = u.ntrace > TRACE ? (int)(u.ntrace - TRACE) : 0;
		    i < (int)u.ntrace; i++)
			printf("    %s\n", u.trace[i % TRACE]);
		tl_dump(s, 40);
	}
	sim_free(s);
	cur = NULL;
	return 0;
}

static uint64_t
env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? strtoull(v, NULL, 10) : dflt;
}

static int mixed_arg = -1;

static void
test_schedules(void **state)
{
	struct tally t;
	uint64_t first = env_u64("SCHED_FIRST", 1);
	uint64_t n = env_u64("SCHEDULES", 1000), seed;
	int mixed = (int)env_u64("SCHED_MIXED", mixed_arg >= 0 ?
	    (uint64_t)mixed_arg : (uint64_t)mixed_default);
	int stop = (int)env_u64("SCHED_STOP", 0), verbose = 0, k;
	struct timespec a, b;
	double wall;

	(void)state;
	no_len_check = (int)env_u64("SCHED_NO_LEN", 0);
	groups_max = (int)env_u64("SCHED_GROUPS", 4);
	if (groups_max < 1 || groups_max > SIM_GMAX)
		fail_msg("SCHED_GROUPS: 1 to %d", SIM_GMAX);
	early_final = (int)env_u64("SCHED_EARLY_FINAL", 0);
	if (getenv("SCHED_SEED") != NULL) {
		first = env_u64("SCHED_SEED", 1);
		n = 1;
		verbose = 1;
	}
	if (n == 0)
		fail_msg("SCHEDULES=0: no schedule to run");
	memset(&t, 0, sizeof(t));
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (seed = first; seed < first + n; seed++)
		if (run_one(seed, mixed, verbose, &t) && stop)
			break;
	clock_gettime(CLOCK_MONOTONIC, &b);
	wall = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec -
	    a.tv_nsec) / 1e9;
	printf("  fault schedules: %llu (seeds %llu..%llu, per-node configs "
	    "%s), %.2f simulated hours, %llu violations; %.1f s, %.0f "
	    "schedules/s; %llu events; one active at the end of %llu\n",
	    (unsigned long long)t.schedules, (unsigned long long)first,
	    (unsigned long long)(first + t.schedules - 1),
	    mixed == 0 ? "off" : mixed == 1 ? "one node" : "all kinds",
	    t.sim_s / 3600, (unsigned long long)t.violations, wall,
	    wall > 0 ? (double)t.schedules / wall : 0,
	    (unsigned long long)t.events, (unsigned long long)t.ended_active);
	printf("  pushes: %llu (FINAL in %llu, one active at the end of %llu, "
	    "a node back in C in %llu)\n", (unsigned long long)t.pushes,
	    (unsigned long long)t.finals, (unsigned long long)t.push_active,
	    (unsigned long long)t.stale_back);
	printf("  groups: plans of 1/2/3/4 groups %llu/%llu/%llu/%llu; "
	    "holdings kept through another node's fault %llu, changes a "
	    "fault explains %llu\n", (unsigned long long)t.by_groups[1],
	    (unsigned long long)t.by_groups[2],
	    (unsigned long long)t.by_groups[3],
	    (unsigned long long)t.by_groups[4], (unsigned long long)t.kept,
	    (unsigned long long)t.moves_excused);
	printf("  changes of holder a slow fsync alone explains, in plans of "
	    "1/2/3/4 groups: %llu/%llu/%llu/%llu\n",
	    (unsigned long long)t.fsync_moves[1],
	    (unsigned long long)t.fsync_moves[2],
	    (unsigned long long)t.fsync_moves[3],
	    (unsigned long long)t.fsync_moves[4]);
	printf("  hand-overs: %llu; the vote in the TRANSFER given in %llu, "
	    "a win at once on it %llu\n", (unsigned long long)t.handovers,
	    (unsigned long long)t.xfer_votes, (unsigned long long)t.xfer_wins);
	printf("  faults applied:");
	for (k = 0; k < F_MAX; k++)
		printf(" %s %llu", fnames[k], (unsigned long long)t.applied[k]);
	printf("\n");
	assert_int_equal(t.violations, 0);
	assert_int_equal(t.schedules, n);	/* every one asked for ran */
}

/*
 * Not a test: availability against loss (make loss-table, LOSS_TABLE=1).
 * 3 nodes, symmetric loss on every link from the start of a settled
 * cluster, LOSS_MIN minutes per seed, 3 seeds a cell: the share of time a
 * VIP was held, and changes of active per hour.
 */
static void
loss_table(void)
{
	static const int deads[] = { 3, 4, 5, 8 };
	static const double losses[] = { 0.10, 0.20, 0.30, 0.40, 0.50 };
	vg_ns len = VG_MS(60000) * (vg_ns)env_u64("LOSS_MIN", 20);
	size_t a, b;
	uint64_t seed;

	printf("| loss each way |");
	for (a = 0; a < sizeof(deads) / sizeof(deads[0]); a++)
		printf(" D = %dh |", deads[a]);
	printf("\n| --- |");
	for (a = 0; a < sizeof(deads) / sizeof(deads[0]); a++)
		printf(" --- |");
	printf("\n");
	for (b = 0; b < sizeof(losses) / sizeof(losses[0]); b++) {
		printf("| %.0f %% |", 100 * losses[b]);
		for (a = 0; a < sizeof(deads) / sizeof(deads[0]); a++) {
			double held = 0, span_s = 0;
			int changes = 0;

			for (seed = 1; seed <= 3; seed++) {
				struct opt o = opt3(20000 + seed);
				struct sim *s;
				vg_ns t0, h0;
				int el, ch;

				o.dead_h = deads[a];
				s = sim_new(&o);
				stable(s);
				t0 = s->now;
				h0 = sim_held(s);
				set_loss(s, losses[b]);
				sim_run(s, t0 + len);
				tl_changes(s, t0, &el, &ch);
				held += (double)(sim_held(s) - h0);
				span_s += (double)(s->now - t0);
				changes += ch;
				sim_free(s);
			}
			printf(" %.2f %%, %.0f/h |", 100 * held / span_s,
			    changes / (span_s / VG_NS_PER_S / 3600));
		}
		printf("\n");
		fflush(stdout);
	}
}

static int
free_sims(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 8; i++)
		if (live_sims[i] != NULL)
			sim_free(live_sims[i]);
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_schedules, free_sims),
	};
	int i;

	for (i = 1; i < argc; i++)
		if (strncmp(argv[i], "--mixed-configs", 15) == 0)
			mixed_arg = argv[i][15] == '=' ? atoi(argv[i] + 16) : 1;
	if (env_u64("LOSS_TABLE", 0)) {
		loss_table();
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
