/*
 * keeper: the lease-enforcing child process: its decisions (a lease per
 * VIP group, on the clock and links behind vg_keeper_ops) and its main;
 * the agent's handle on it is in hold.c.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "keeper.h"
#include "log.h"
#include "net.h"
#include "proto.h"
#include "realtime.h"
#include "vip.h"

/* ---- timing, pure */

void
vg_ktime_init(struct vg_ktime *kt, vg_ns margin, size_t n_vips)
{
	kt->margin = margin;
	kt->add = kt->add_plan = vg_conf_batch(n_vips, 1);
	kt->del = kt->del_plan = vg_conf_batch(n_vips, 0);
	kt->at = 0;
}

/* The removal batch times, where the agent reads them (struct vg_kshare). */
static void
k_publish(struct vg_keeper *k)
{
	size_t g;

	if (k->share == NULL)
		return;
	for (g = 0; g < k->n_groups; g++)
		atomic_store_explicit(&k->share->del[g], k->g[g].kt.del,
		    memory_order_relaxed);
}

void
vg_ktime_measured(struct vg_ktime *kt, int add, vg_ns took, vg_ns now)
{
	vg_ns *cur = add ? &kt->add : &kt->del;
	vg_ns plan = add ? kt->add_plan : kt->del_plan;
	vg_ns want = took + took / 2, floor = want > plan ? want : plan;

	if (want > *cur)
		*cur = want;
	else
		*cur -= (*cur - floor) / 8;
	kt->at = now;
}

void
vg_ktime_relax(struct vg_ktime *kt, vg_ns now)
{
	vg_ns steps = now > kt->at ? (now - kt->at) / VG_KTIME_RELAX : 0, i;

	/* 40 steps (5 s) leave less than half a per cent of any excess */
	if (steps >= 40) {
		kt->add = kt->add_plan;
		kt->del = kt->del_plan;
		kt->at = now;
		return;
	}
	for (i = 0; i < steps; i++) {
		kt->add -= (kt->add - kt->add_plan) / 8;
		kt->del -= (kt->del - kt->del_plan) / 8;
	}
	kt->at += steps * VG_KTIME_RELAX;
}

vg_ns
vg_ktime_remove_at(const struct vg_ktime *kt, vg_ns deadline)
{
	return deadline - kt->del;
}

int
vg_ktime_may_add(const struct vg_ktime *kt, vg_ns deadline, vg_ns now)
{
	return now + kt->add + kt->del + kt->margin <= deadline;
}

void
vg_ktime_schedule(const struct vg_ktime *kt, const vg_ns *deadline,
    const int *in, size_t n, vg_ns *start)
{
	vg_ns next = VG_NS_NEVER, finish;
	size_t i, h, done = 0;
	int best;

	/* from the latest deadline back: each ends by its deadline and
	 * before the next one starts (ties: the higher index later) */
	for (i = 0; i < n; i++) {
		best = -1;
		for (h = 0; h < n; h++)
			if (in[h] && !(done & ((size_t)1 << h)) && (best == -1 ||
			    deadline[h] > deadline[best] ||
			    (deadline[h] == deadline[best] && (int)h > best)))
				best = (int)h;
		if (best == -1)
			break;
		done |= (size_t)1 << best;
		finish = deadline[best] < next ? deadline[best] : next;
		start[best] = vg_ktime_remove_at(&kt[best], finish);
		next = start[best];
	}
}

int
vg_ktime_admit(const struct vg_ktime *kt, const vg_ns *deadline,
    const int *held, size_t n, size_t g, vg_ns add, vg_ns now)
{
	vg_ns start[VG_MAX_GROUPS] = { 0 };
	int in[VG_MAX_GROUPS] = { 0 };
	size_t h;

	if (g >= n || n > VG_MAX_GROUPS)
		return 0;
	for (h = 0; h < n; h++)
		in[h] = h == g || held[h];
	vg_ktime_schedule(kt, deadline, in, n, start);
	for (h = 0; h < n; h++) {
		if (!in[h])
			continue;
		/* the add, then m, before h's removal must start */
		if (now + add + kt[h].margin > start[h])
			return 0;
	}
	return 1;
}

vg_ns
vg_kshare_apply(uint64_t term, vg_ns deadline, vg_ns shared)
{
	if (term == 0 || shared <= deadline)
		return deadline;
	return shared;
}

/* ---- the keeper's decisions, over vg_keeper_ops */

static vg_ns
k_now(const struct vg_keeper *k)
{
	return k->ops->now(k->arg);
}

/* " of group NAME" when there is more than one, so that a one-group
 * node logs what it always did. */
static const char *
gname(const struct vg_conf *c, size_t g, char *buf, size_t len)
{
	if (c->n_groups <= 1)
		return "";
	snprintf(buf, len, " of group %s", c->groups[g].name);
	return buf;
}

static const struct vg_conf_vip *
gvips(const struct vg_keeper *k, size_t g, size_t *n)
{
	const struct vg_conf_group *cg = &k->conf->groups[g];

	*n = cg->n_vips;
	return k->conf->vips + cg->vip_first;
}

static void
report(struct vg_keeper *k, size_t g, uint32_t ev, uint32_t id, int failed)
{
	struct vg_keeper_rep r;

	memset(&r, 0, sizeof(r));
	r.ev = ev;
	r.id = id;
	r.term = k->g[g].lease_term;
	r.failed = failed;
	r.group = (uint32_t)g;
	k->ops->report(k->arg, &r);
}

static int
k_remove(struct vg_keeper *k, size_t g)
{
	struct vg_kgroup *kg = &k->g[g];
	const struct vg_conf_vip *v;
	size_t n;
	vg_ns t0 = k_now(k), t1;
	int failed;

	v = gvips(k, g, &n);
	failed = k->ops->apply(k->arg, v, n, 0, 0);
	t1 = k_now(k);
	if (failed == 0 && n > 0) {
		vg_ktime_measured(&kg->kt, 0, t1 - t0, t1);
		k_publish(k);
	}
	kg->held = 0;
	/* a removal that failed may have left some: the EOF's removal
	 * tries again before any RELEASE (not the timers: the agent that
	 * hears of it removes them itself, with a new keeper) */
	kg->stale = failed != 0;
	kg->garp_at = VG_NS_NEVER;
	return failed;
}

/* Renewals of g the agent made through the page since the last look. */
static void
k_sync(struct vg_keeper *k, size_t g)
{
	struct vg_kgroup *kg = &k->g[g];

	if (k->share == NULL)
		return;
	kg->deadline = vg_kshare_apply(kg->lease_term, kg->deadline,
	    atomic_load_explicit(&k->share->deadline[g],
	    memory_order_acquire));
}

static int
lease_valid(const struct vg_kgroup *kg, vg_ns now)
{
	return kg->lease_term != 0 && now < kg->deadline;
}

/* An add of g that takes `add` from now: it and every removal it may
 * hold up still fit (vg_ktime_admit, over the deadlines as the page has
 * them now: a renewal only makes room). */
static int
k_admit(struct vg_keeper *k, size_t g, vg_ns add, vg_ns now)
{
	struct vg_ktime kt[VG_MAX_GROUPS];
	vg_ns d[VG_MAX_GROUPS];
	int held[VG_MAX_GROUPS];
	size_t h;

	for (h = 0; h < k->n_groups; h++) {
		k_sync(k, h);
		kt[h] = k->g[h].kt;
		d[h] = k->g[h].deadline;
		held[h] = k->g[h].held;
	}
	return vg_ktime_admit(kt, d, held, k->n_groups, g, add, now);
}

/* After an add: the repeats at garp_interval, then every garp_refresh. */
static void
garp_next(struct vg_keeper *k, size_t g, vg_ns now)
{
	const struct vg_conf *c = k->conf;
	struct vg_kgroup *kg = &k->g[g];

	if (kg->garp_left > 0) {
		kg->garp_left--;
		kg->garp_at = now + c->garp_interval;
	} else if (c->garp_refresh > 0)
		kg->garp_at = now + c->garp_refresh;
	else
		kg->garp_at = VG_NS_NEVER;
}

/* A round for every VIP of g, only under a lease of g that is valid now:
 * a keeper (or agent) that was frozen must not pull traffic to a node
 * that has lost the VIPs to another. */
static void
garp_round(struct vg_keeper *k, size_t g, vg_ns now)
{
	struct vg_kgroup *kg = &k->g[g];
	const struct vg_conf_vip *v;
	size_t n;

	if (!kg->held || !lease_valid(kg, now)) {
		kg->garp_at = VG_NS_NEVER;
		return;
	}
	v = gvips(k, g, &n);
	report(k, g, VG_KEEPER_GARP, 0, k->ops->garp(k->arg, v, n));
	garp_next(k, g, now);
}

/*
 * Adds (or refreshes the lifetimes of) every VIP of g, in chunks; a first
 * add announces each chunk once the kernel has acked it, so that the
 * first VIPs answer while the last are still being added.  Before each
 * chunk what is left of the add must still fit (k_admit); if it does not,
 * the rest waits and the removal at the deadline takes back what is there.
 */
static void
k_add(struct vg_keeper *k, size_t g, vg_ns now)
{
	const struct vg_conf *c = k->conf;
	struct vg_kgroup *kg = &k->g[g];
	const struct vg_conf_vip *v;
	size_t i, n, m;
	int failed = 0, was = kg->held, retry = kg->add_failed, r, cut = 0;
	int announced = 0;
	vg_ns t0 = k_now(k), t;

	v = gvips(k, g, &n);
	kg->held = 1;		/* even a partial add must be taken back */
	for (i = 0; i < n; i += m) {
		m = n - i < VG_KEEPER_CHUNK ? n - i : VG_KEEPER_CHUNK;
		t = k_now(k);
		/* what is left of the add, the removals and m still fit */
		if (i > 0 && !k_admit(k, g, (vg_ns)((double)kg->kt.add *
		    (double)(n - i) / (double)n), t)) {
			cut = 1;
			break;
		}
		r = k->ops->apply(k->arg, v + i, m, 1, k->lifetime_s);
		failed += r < 0 ? (int)m : r;
		if (r == 0 && (!was || retry) && c->garp_count > 0) {
			(void)k->ops->garp(k->arg, v + i, m);
			announced = 1;
		}
	}
	t = k_now(k);
	if (!cut && failed == 0) {
		vg_ktime_measured(&kg->kt, 1, t - t0, t);
		k_publish(k);
	}
	kg->last_add = now;
	kg->swept = 0;
	kg->add_failed = failed != 0 || cut;
	kg->retry_at = failed != 0 ? t + VG_KEEPER_RETRY : t;
	/* the agent hears of the first add, and of a retry that took: it
	 * renews through the page again only once the VIPs are all there */
	if (was && !(retry && !kg->add_failed))
		return;
	report(k, g, failed || cut ? VG_KEEPER_FAILED : VG_KEEPER_ADDED, 0,
	    cut ? (int)(n - i) + failed : failed);
	if (announced) {
		report(k, g, VG_KEEPER_GARP, 0, 0);
		kg->garp_left = c->garp_count - 1;
		garp_next(k, g, t);
	} else if (c->garp_refresh > 0)
		kg->garp_at = t + c->garp_refresh;
}

/* Takes a HOLD's lease; the add itself waits until the queue is drained. */
static void
k_hold(struct vg_keeper *k, const struct vg_keeper_req *q)
{
	struct vg_kgroup *kg = &k->g[q->group];
	int other_term = q->term != kg->lease_term;

	if (other_term && kg->held) {
		/* a lease of another term: never carry VIPs across */
		report(k, q->group, VG_KEEPER_REMOVED, 0, k_remove(k, q->group));
	}
	kg->lease_term = q->term;
	if (q->deadline > kg->deadline || other_term)
		kg->deadline = q->deadline;
}

/* After the queue, and on the refresh timer: add (or refresh) g if its
 * lease still allows it. */
static void
k_apply(struct vg_keeper *k, size_t g, vg_ns now)
{
	struct vg_kgroup *kg = &k->g[g];
	size_t h;

	if (kg->lease_term == 0 || kg->deadline == 0)
		return;
	/* only while the add and the removals fit before their deadlines;
	 * and a keeper that took over from another makes sure nothing is
	 * left */
	if (!k_admit(k, g, kg->kt.add, now)) {
		/* a raised batch time of any group may be what refuses it:
		 * they fall back with time too (vg_ktime_relax) */
		for (h = 0; h < k->n_groups; h++)
			vg_ktime_relax(&k->g[h].kt, now);
		k_publish(k);
		/* a refresh waits for the next wake-up (a removal, a GARP
		 * round, a HOLD), not spinning on its own due time */
		kg->refresh_held = kg->held;
		/* a removal too holds up the others: only when it fits */
		if (!kg->held && !kg->swept && k_admit(k, g, kg->kt.del, now)) {
			(void)k_remove(k, g);
			kg->swept = 1;
		}
		return;
	}
	kg->refresh_held = 0;
	if (!kg->held || (kg->add_failed && now >= kg->retry_at) ||
	    now - kg->last_add >= k->refresh)
		k_add(k, g, now);
}

void
vg_keeper_init(struct vg_keeper *k, const struct vg_conf *c,
    struct vg_kshare *share, const struct vg_keeper_ops *ops, void *arg,
    uint32_t keep)
{
	size_t g;

	memset(k, 0, sizeof(*k));
	k->conf = c;
	k->ops = ops;
	k->arg = arg;
	k->share = share;
	k->lifetime_s = c->vip_lifetime;
	k->refresh = (vg_ns)c->vip_lifetime * VG_NS_PER_S / 4;
	k->n_groups = c->n_groups < VG_MAX_GROUPS ? c->n_groups :
	    VG_MAX_GROUPS;
	for (g = 0; g < k->n_groups; g++) {
		k->g[g].garp_at = VG_NS_NEVER;
		vg_ktime_init(&k->g[g].kt, c->interval / 4,
		    c->groups[g].n_vips);
	}
	k_publish(k);
	/* The removal path, once, now: nothing is there yet (the agent swept
	 * the links), and the pages it needs are then resident and locked.
	 * The groups a successor takes over stay as they are. */
	for (g = 0; g < k->n_groups; g++)
		if (!(keep & (UINT32_C(1) << g)))
			(void)k_remove(k, g);
		else
			k->g[g].stale = 1;	/* on the links, not yet ours */
}

void
vg_keeper_request(struct vg_keeper *k, const struct vg_keeper_req *q)
{
	struct vg_kgroup *kg;

	if (q->group >= k->n_groups)
		return;
	kg = &k->g[q->group];
	switch (q->op) {
	case VG_KEEPER_HOLD:
		k_hold(k, q);
		break;
	case VG_KEEPER_DROP:
		kg->deadline = 0;
		kg->lease_term = 0;
		report(k, q->group, VG_KEEPER_REMOVED, q->id,
		    k_remove(k, q->group));
		break;
	}
}

void
vg_keeper_apply(struct vg_keeper *k, uint32_t mask, vg_ns now)
{
	size_t g;
	int first = 1;

	for (g = 0; g < k->n_groups; g++) {
		if (!(mask & (UINT32_C(1) << g)))
			continue;
		/* one group's add took time: the next one sees it */
		if (!first)
			now = k_now(k);
		first = 0;
		k_sync(k, g);
		k_apply(k, g, now);
	}
}

/* When each held group's removal starts: one keeper does the batches in
 * turn, so a removal starts early enough for every one due before it too
 * (vg_ktime_schedule); start[] of a group not held is left as it is. */
static void
k_schedule(const struct vg_keeper *k, vg_ns *start)
{
	struct vg_ktime kt[VG_MAX_GROUPS];
	vg_ns d[VG_MAX_GROUPS];
	int held[VG_MAX_GROUPS];
	size_t h;

	for (h = 0; h < k->n_groups; h++) {
		kt[h] = k->g[h].kt;
		/* with the page's renewals (as k_sync takes them) */
		d[h] = k->share == NULL ? k->g[h].deadline :
		    vg_kshare_apply(k->g[h].lease_term, k->g[h].deadline,
		    atomic_load_explicit(&k->share->deadline[h],
		    memory_order_acquire));
		held[h] = k->g[h].held;
		start[h] = VG_NS_NEVER;
	}
	vg_ktime_schedule(kt, d, held, k->n_groups, start);
}

/* The held group whose removal is due first by now, or -1. */
static int
due_first(struct vg_keeper *k, vg_ns now)
{
	vg_ns start[VG_MAX_GROUPS];
	size_t g;
	int best = -1;

	for (g = 0; g < k->n_groups; g++)
		if (k->g[g].held)
			k_sync(k, g);
	k_schedule(k, start);
	for (g = 0; g < k->n_groups; g++) {
		const struct vg_kgroup *kg = &k->g[g];

		if (kg->held && now >= start[g] &&
		    (best == -1 || kg->deadline < k->g[best].deadline))
			best = (int)g;
	}
	return best;
}

void
vg_keeper_timers(struct vg_keeper *k, vg_ns now)
{
	struct vg_kgroup *kg;
	size_t g, i;
	vg_ns was, t;
	int d;

	/* every removal due, the earliest deadline first */
	for (i = 0; i < k->n_groups && (d = due_first(k, now)) != -1; i++) {
		kg = &k->g[d];
		was = kg->deadline;
		report(k, (size_t)d, VG_KEEPER_REMOVED, 0, k_remove(k, (size_t)d));
		/* a renewal stored while the batch ran: added back at once, as
		 * a HOLD queued behind the deadline is */
		k_sync(k, (size_t)d);
		if (kg->deadline > was)
			k_apply(k, (size_t)d, k_now(k));
		/* the batch took time: another group may be due by now */
		if ((t = k_now(k)) > now)
			now = t;
	}
	/* each decision on the clock as it is then: a GARP round or an add
	 * before it took time that an admission must not count as left */
	for (g = 0; g < k->n_groups; g++) {
		kg = &k->g[g];
		if (kg->held && now >= kg->garp_at) {
			k_sync(k, g);
			garp_round(k, g, now);
			if ((t = k_now(k)) > now)
				now = t;
		}
	}
	for (g = 0; g < k->n_groups; g++) {
		kg = &k->g[g];
		if (kg->held && now - kg->last_add >= k->refresh) {
			k_sync(k, g);
			k_apply(k, g, now);
			if ((t = k_now(k)) > now)
				now = t;
		}
	}
}

vg_ns
vg_keeper_next(const struct vg_keeper *k)
{
	vg_ns t = VG_NS_NEVER, r, start[VG_MAX_GROUPS];
	size_t g;

	k_schedule(k, start);
	for (g = 0; g < k->n_groups; g++) {
		const struct vg_kgroup *kg = &k->g[g];

		if (!kg->held)
			continue;
		if ((r = start[g]) < t)
			t = r;
		if (!kg->refresh_held && (r = kg->last_add + k->refresh) < t)
			t = r;
		if (kg->garp_at < t)
			t = kg->garp_at;
	}
	return t;
}

uint32_t
vg_keeper_gone(struct vg_keeper *k, uint64_t term[VG_MAX_GROUPS])
{
	uint32_t failed = 0, rel = 0;
	char gb[64];
	size_t g, i;
	int d;

	/* every group held or maybe there (stale), the earliest deadline
	 * first; each once (k_remove clears held, and stale if it took) */
	for (i = 0; i < k->n_groups; i++) {
		d = -1;
		for (g = 0; g < k->n_groups; g++)
			if ((k->g[g].held || k->g[g].stale) &&
			    !(failed & (UINT32_C(1) << g)) && (d == -1 ||
			    k->g[g].deadline < k->g[d].deadline))
				d = (int)g;
		if (d == -1)
			break;
		if (k_remove(k, (size_t)d) != 0)
			failed |= UINT32_C(1) << d;
	}
	for (g = 0; g < VG_MAX_GROUPS; g++)
		term[g] = g < k->n_groups ? k->g[g].lease_term : 0;
	for (g = 0; g < k->n_groups; g++) {
		if (failed & (UINT32_C(1) << g)) {
			/* not acked: a RELEASE now could make two holders */
			log_warnx("keeper: the VIPs%s could not all be removed; "
			    "no RELEASE", gname(k->conf, g, gb, sizeof(gb)));
			continue;
		}
		if (term[g] != 0)
			rel |= UINT32_C(1) << g;
	}
	return rel;
}

size_t
vg_keeper_release_encode(const struct vg_conf *c, size_t target,
    size_t group, uint64_t term, uint64_t incarnation, uint64_t seq,
    uint8_t *buf, size_t buflen)
{
	const struct vg_conf_node *self = &c->nodes[c->self];
	struct vg_msg m;

	memset(&m, 0, sizeof(m));
	m.type = VG_MSG_RELEASE;
	m.cluster_id = c->cluster_id;
	m.sender = self->id;
	m.target = c->nodes[target].id;
	m.state = VG_ST_STANDBY;
	m.priority = self->priority;
	m.term = term;
	m.incarnation = incarnation;
	m.seq = seq;
	m.config_digest = c->safety_digest;
	m.digest_parts = vg_conf_parts_hint(c);
	m.epoch = c->epoch;
	m.conf_digest = c->digest;
	if (group > 0) {
		/* another group's says its group */
		m.group = (uint8_t)group;
		m.version = VG_VERSION_GROUPS;
	} else
		m.version = 2;	/* group 0's: what a node of the release
				 * before groups reads too (a rolling
				 * upgrade), and every later one */
	return vg_proto_encode(&m, buf, buflen);
}

/* ---- the child */

struct kproc {
	int		fd;		/* the agent's socket */
	struct vg_nl	*nl;
	struct vg_garp	*garp;
};

static vg_ns
ko_now(void *arg)
{
	(void)arg;
	return vg_now();
}

static int
ko_apply(void *arg, const struct vg_conf_vip *v, size_t n, int add,
    unsigned lifetime_s)
{
	struct kproc *p = arg;

	return vg_vip_apply(p->nl, v, n, add, lifetime_s);
}

static int
ko_garp(void *arg, const struct vg_conf_vip *v, size_t n)
{
	struct kproc *p = arg;

	return vg_garp_send(p->garp, v, n);
}

static void
ko_report(void *arg, const struct vg_keeper_rep *r)
{
	struct kproc *p = arg;

	(void)send(p->fd, r, sizeof(*r), MSG_NOSIGNAL | MSG_DONTWAIT);
}

static const struct vg_keeper_ops kproc_ops = {
	ko_now, ko_apply, ko_garp, ko_report,
};

/*
 * The timer for `at` (NEVER: disarmed), unless it is armed for it already
 * and has not fired (*armed: what it is armed for; 0 once it fired).  A
 * timer that fired is always set again: timerfd_settime clears its
 * expiry count, so it is never read (on this VM each system call of a
 * wake-up costs about 2 us).
 */
static void
k_arm(int tfd, vg_ns at, vg_ns *armed)
{
	struct itimerspec its;
	uint64_t ticks;

	if (at != VG_NS_NEVER && at <= 0)
		at = 1;			/* 0 would disarm: at once instead */
	if (at == *armed)
		return;
	memset(&its, 0, sizeof(its));	/* NEVER: disarmed */
	if (at != VG_NS_NEVER) {
		its.it_value.tv_sec = at / VG_NS_PER_S;
		its.it_value.tv_nsec = at % VG_NS_PER_S;
	}
	if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) == -1) {
		/* not set: cleared at least, and tried again next time */
		if (read(tfd, &ticks, sizeof(ticks)) == -1)
			ticks = 0;	/* EAGAIN: it had not fired */
		*armed = 0;
		return;
	}
	*armed = at;
}

/*
 * The agent's death, seen at once.  The pair's EOF comes only once the
 * agent's last thread has gone and its locked memory is torn down: after
 * a SIGKILL that took 1.1-1.5 ms here, done by whichever thread exits
 * last, a SCHED_OTHER one (the writer, the spawner) that any busy
 * process delays further.  The watcher blocks on the page's `alive`
 * mutex, which the agent's main thread holds; the kernel marks it
 * EOWNERDEAD and wakes the watcher as that thread exits, within tens of
 * microseconds of the kill, and the watcher writes `efd`, which the
 * keeper polls.  A mutex the agent unlocked (it has a new keeper, or it
 * stops and closes the pair) says nothing.
 */
struct kwatch {
	struct vg_kshare	*share;
	int			 efd;
};

static void *
k_watch_main(void *arg)
{
	struct kwatch *w = arg;
	uint64_t one = 1;
	int e;

	(void)prctl(PR_SET_NAME, "vigild-kwatch", 0, 0, 0);
	e = pthread_mutex_lock(&w->share->alive);
	/* an eventfd write of 1 does not fail; if it did, the EOF still
	 * comes (no log here: log.c is the main thread's) */
	if (e == EOWNERDEAD) {
		ssize_t r = write(w->efd, &one, sizeof(one));

		(void)r;
	}
	/* unlocked without pthread_mutex_consistent: nobody locks it again
	 * (the agent that made it is gone, or let it go in share_free) */
	if (e == 0 || e == EOWNERDEAD)
		(void)pthread_mutex_unlock(&w->share->alive);
	return NULL;
}

/* The watcher's eventfd, or -1 (none: the EOF alone).  Started after the
 * keeper's real-time set-up, with its policy and priority, named: a new
 * thread would not inherit them (SCHED_RESET_ON_FORK). */
static int
k_watch_start(struct vg_kshare *share)
{
	static struct kwatch w;
	struct sched_param prm;
	pthread_attr_t at;
	pthread_t tid;
	sigset_t all, old;
	int e, pol;

	if (share == NULL || !share->alive_ok)
		return -1;
	if ((w.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		return -1;
	w.share = share;
	if ((e = pthread_attr_init(&at)) != 0) {
		log_warnx("keeper: no watcher thread (%s); the agent's death "
		    "is seen by its socket's EOF alone", strerror(e));
		close(w.efd);
		return -1;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);	/* signals: not its */
	/* the policy from the kernel, not pthread_getschedparam: glibc may
	 * answer that from a cache the fork copied from the agent's thread */
	e = (pol = sched_getscheduler(0)) == -1 || sched_getparam(0, &prm) == -1 ?
	    errno : 0;
	if (e == 0 &&
	    (e = pthread_attr_setinheritsched(&at,
	    PTHREAD_EXPLICIT_SCHED)) == 0 &&
	    (e = pthread_attr_setschedpolicy(&at,
	    pol & ~SCHED_RESET_ON_FORK)) == 0 &&
	    (e = pthread_attr_setschedparam(&at, &prm)) == 0 &&
	    (e = pthread_attr_setstacksize(&at, 64 * 1024)) == 0 &&
	    (e = pthread_attr_setdetachstate(&at,
	    PTHREAD_CREATE_DETACHED)) == 0)
		e = pthread_create(&tid, &at, k_watch_main, &w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&at);
	if (e != 0) {
		log_warnx("keeper: no watcher thread (%s); the agent's death "
		    "is seen by its socket's EOF alone", strerror(e));
		close(w.efd);
		return -1;
	}
	return w.efd;
}

/* The agent is gone: every group's VIPs off, acked; then RELEASE(g, T_g)
 * in its name for each group it held. */
static void
k_release(struct vg_keeper *k, const struct vg_auth *auth,
    uint64_t incarnation, size_t sndbuf, const char *how)
{
	const struct vg_conf *c = k->conf;
	const struct vg_conf_node *self = &c->nodes[c->self];
	struct sockaddr_storage sa = self->sa;
	uint64_t seq = VG_KEEPER_SEQ_BASE, term[VG_MAX_GROUPS];
	unsigned unsent[VG_MAX_GROUPS], refused[VG_MAX_GROUPS];
	uint8_t buf[VG_MAX_PKT];
	char err[256], gb[64];
	uint32_t rel;
	size_t g, i, len, got;
	int fd, copy, e, last_e = 0;

	if ((rel = vg_keeper_gone(k, term)) == 0)
		return;
	if (sa.ss_family == AF_INET)
		((struct sockaddr_in *)&sa)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&sa)->sin6_port = 0;
	if ((fd = vg_net_open((struct sockaddr *)&sa, self->salen, err,
	    sizeof(err))) == -1) {
		log_warnx("keeper: %s; no RELEASE", err);
		return;
	}
	/* as the agent's socket (net.h): what waits for a peer down on the
	 * link must not crowd out the RELEASEs to the live ones */
	if (vg_net_set_sndbuf(fd, sndbuf, &got) == -1)
		log_warn("keeper: send buffer of %zu bytes", sndbuf);
	memset(unsent, 0, sizeof(unsent));
	memset(refused, 0, sizeof(refused));
	for (copy = 0; copy < 2; copy++) {
		for (g = 0; g < k->n_groups; g++) {
			if (!(rel & (UINT32_C(1) << g)))
				continue;
			for (i = 0; i < c->n_nodes; i++) {
				const struct vg_conf_node *p = &c->nodes[i];

				if ((int)i == c->self)
					continue;
				len = vg_keeper_release_encode(c, i, g, term[g],
				    incarnation, ++seq, buf, sizeof(buf));
				if (len == 0) {
					unsent[g]++;
					continue;
				}
				vg_auth_sign(auth, buf, len);
				if ((e = vg_net_send(fd, buf, len,
				    (const struct sockaddr *)&p->sa,
				    p->salen)) != 0) {
					refused[g]++;
					last_e = e;
				}
			}
		}
	}
	close(fd);
	for (g = 0; g < k->n_groups; g++) {
		if (!(rel & (UINT32_C(1) << g)))
			continue;
		if (unsent[g] != 0)
			log_warnx("keeper: the agent is gone (%s); VIPs%s "
			    "removed, RELEASE(%llu) not sent: %u datagram(s) "
			    "could not be encoded with the group", how,
			    gname(c, g, gb, sizeof(gb)),
			    (unsigned long long)term[g], unsent[g]);
		else if (refused[g] != 0)
			log_warnx("keeper: the agent is gone (%s); VIPs%s "
			    "removed, RELEASE(%llu) sent, but %u of its %zu "
			    "datagrams refused by the kernel (%s): a peer that "
			    "missed both copies takes over after dead_time",
			    how, gname(c, g, gb, sizeof(gb)),
			    (unsigned long long)term[g], refused[g],
			    2 * (c->n_nodes - 1), strerror(last_e));
		else
			log_info("keeper: the agent is gone (%s); VIPs%s "
			    "removed, RELEASE(%llu) sent", how,
			    gname(c, g, gb, sizeof(gb)),
			    (unsigned long long)term[g]);
	}
}

static void
k_realtime(const struct vg_conf *c)
{
	struct vg_rt rt;

	/* The margin m assumes the keeper wakes within h/4 of a deadline:
	 * SCHED_FIFO one step above the agent, memory locked (MCL_ONFAULT:
	 * what it touches; the paths it needs are touched once at start). */
	if (c->rt_priority > 0 &&
	    vg_rt_setup(&rt, SCHED_FIFO, c->rt_priority + 1) == -1)
		log_warnx("keeper: real-time scheduling refused (%s): a VIP may "
		    "outlive its lease by more than the margin on a busy "
		    "machine", rt.why);
}

void
vg_keeper_main(int fd, int lock_fd, struct vg_kshare *share,
    const struct vg_conf *c, const struct vg_auth *a, uint64_t inc,
    uint32_t keep)
{
	struct vg_keeper k;
	struct kproc p;
	struct vg_keeper_req q;
	struct pollfd pfd[3];
	sigset_t none;
	char err[256];
	const char *how;
	vg_ns armed = 0;		/* 0: fired, or never set */
	size_t sndbuf;
	uint32_t hold;
	ssize_t n;
	int i, tfd, died;

	log_forked();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Stopped only by the agent's death or EOF, so that the VIPs always go
	 * first. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	(void)prctl(PR_SET_NAME, "vigild-keeper", 0, 0, 0);
	/* lock_fd stays open: the instance lock is held while this keeper
	 * lives, so that a restarted agent cannot run beside it */
	(void)lock_fd;

	memset(&p, 0, sizeof(p));
	p.fd = fd;
	/* CLOCK_BOOTTIME, absolute: after a suspend it fires at once */
	if ((tfd = timerfd_create(VG_CLOCK, TFD_CLOEXEC | TFD_NONBLOCK)) == -1) {
		log_warn("keeper: timerfd_create");
		_exit(1);
	}
	if ((p.nl = vg_nl_open(0, err, sizeof(err))) == NULL) {
		log_warnx("keeper: %s", err);
		_exit(1);
	}
	p.garp = vg_garp_open();
	/* the RELEASE's send buffer, read now (/proc), not at the agent's
	 * death: every peer's unresolved queue and two copies for each
	 * group and peer (a datagram's skb, about 2 KiB) */
	sndbuf = vg_net_sndbuf_for(c->n_nodes, vg_net_unres_qlen()) +
	    2 * (size_t)c->n_groups * c->n_nodes * 2048;
	k_realtime(c);
	if (vg_caps_drop(err, sizeof(err)) == -1)
		log_warnx("keeper: %s", err);
	/* the groups not taken over: their removal path touched once */
	vg_keeper_init(&k, c, share, &kproc_ops, &p, keep);
	pfd[0].fd = fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = tfd;
	pfd[1].events = POLLIN;
	pfd[2].fd = k_watch_start(share);	/* -1: ignored by ppoll */
	pfd[2].events = POLLIN;
	for (;;) {
		k_arm(tfd, vg_keeper_next(&k), &armed);
		pfd[0].revents = pfd[1].revents = pfd[2].revents = 0;
		if (ppoll(pfd, 3, NULL, NULL) == -1 && errno != EINTR)
			break;
		/* fired: set again at the top of the loop, which clears it */
		if (pfd[1].revents & POLLIN)
			armed = 0;
		vg_keeper_timers(&k, vg_now());
		died = pfd[2].revents != 0;
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) && !died)
			continue;
		/*
		 * The whole queue first, then act: a HOLD that a later DROP,
		 * DETACH, EOF or the agent's death took back must never add
		 * (a keeper that was stopped for a while finds them all at
		 * once).  What the agent sent before it died is read first: a
		 * DETACH in it still leaves everything as it is.
		 */
		how = "its main thread died";
		hold = 0;
		for (i = 0; i < 4096; i++) {
			n = recv(fd, &q, sizeof(q), MSG_DONTWAIT);
			/* ECONNRESET: the agent closed with our reports unread;
			 * said once, and its queue is still there to read */
			if (n == -1 && (errno == EINTR || errno == ECONNRESET))
				continue;
			if (n == -1)
				break;			/* EAGAIN: drained */
			if (n == 0) {			/* EOF: the agent is gone */
				how = "its socket closed";
				goto gone;
			}
			if (n != (ssize_t)sizeof(q) || q.group >= VG_MAX_GROUPS)
				continue;
			switch (q.op) {
			case VG_KEEPER_HOLD:
				vg_keeper_request(&k, &q);
				hold |= UINT32_C(1) << q.group;
				break;
			case VG_KEEPER_DROP:
				vg_keeper_request(&k, &q);
				hold &= ~(UINT32_C(1) << q.group);
				break;
			case VG_KEEPER_DETACH:
				vg_nl_close(p.nl);
				_exit(0);
			}
		}
		if (died) {
			if (i < 4096)
				goto gone;
			continue;	/* more queued: the eventfd stays
					 * readable, the next turn reads on */
		}
		if (hold != 0)
			vg_keeper_apply(&k, hold, vg_now());
	}
	how = "the keeper's poll failed";
gone:
	k_release(&k, a, inc, sndbuf, how);
	vg_nl_close(p.nl);
	vg_garp_close(p.garp);
	_exit(0);
}
