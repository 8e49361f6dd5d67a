/*
 * keeper: the lease-enforcing child process (its main and what it does);
 * the agent's handle on it is in hold.c.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
}

void
vg_ktime_measured(struct vg_ktime *kt, int add, vg_ns took)
{
	vg_ns *cur = add ? &kt->add : &kt->del;
	vg_ns plan = add ? kt->add_plan : kt->del_plan;
	vg_ns want = took + took / 2, floor = want > plan ? want : plan;

	if (want > *cur)
		*cur = want;
	else
		*cur -= (*cur - floor) / 8;
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

vg_ns
vg_kshare_apply(uint64_t term, vg_ns deadline, vg_ns shared)
{
	if (term == 0 || shared <= deadline)
		return deadline;
	return shared;
}

/* ---- the child */

struct kstate {
	const struct vg_conf	*conf;
	const struct vg_auth	*auth;
	uint64_t		incarnation;
	int			fd;		/* the agent's socket */
	struct vg_kshare	*share;		/* renewals without a message */
	int			tfd;		/* timerfd on VG_CLOCK */
	struct vg_nl		*nl;
	struct vg_garp		*garp;
	int			held;		/* the VIPs are on the links */
	int			add_failed;	/* redo the add at the next HOLD */
	int			swept;		/* removed all once since the last add */
	uint64_t		lease_term;	/* a lease of this term was given */
	vg_ns			deadline;
	vg_ns			last_add;
	vg_ns			refresh;	/* re-add (lifetimes) this often */
	unsigned		lifetime_s;
	struct vg_ktime		kt;
	vg_ns			garp_at;	/* the next round; NEVER: none */
	unsigned		garp_left;	/* repeats at garp_interval */
};

static void
report(struct kstate *k, uint32_t ev, uint32_t id, int failed)
{
	struct vg_keeper_rep r;

	memset(&r, 0, sizeof(r));
	r.ev = ev;
	r.id = id;
	r.term = k->lease_term;
	r.failed = failed;
	(void)send(k->fd, &r, sizeof(r), MSG_NOSIGNAL | MSG_DONTWAIT);
}

static int
k_remove(struct kstate *k)
{
	vg_ns t0 = vg_now();
	int failed = vg_vip_apply(k->nl, k->conf->vips, k->conf->n_vips, 0, 0);

	if (failed == 0 && k->conf->n_vips > 0)
		vg_ktime_measured(&k->kt, 0, vg_now() - t0);
	k->held = 0;
	k->garp_at = VG_NS_NEVER;
	return failed;
}

/* Renewals the agent made through the page since the last look. */
static void
k_sync(struct kstate *k)
{
	k->deadline = vg_kshare_apply(k->lease_term, k->deadline,
	    atomic_load_explicit(&k->share->deadline, memory_order_acquire));
}

static int
lease_valid(const struct kstate *k, vg_ns now)
{
	return k->lease_term != 0 && now < k->deadline;
}

/* After an add: the repeats at garp_interval, then every garp_refresh. */
static void
garp_next(struct kstate *k, vg_ns now)
{
	const struct vg_conf *c = k->conf;

	if (k->garp_left > 0) {
		k->garp_left--;
		k->garp_at = now + c->garp_interval;
	} else if (c->garp_refresh > 0)
		k->garp_at = now + c->garp_refresh;
	else
		k->garp_at = VG_NS_NEVER;
}

/* A round for every VIP, only under a lease that is valid now: a keeper
 * (or agent) that was frozen must not pull traffic to a node that has
 * lost the VIPs to another. */
static void
garp_round(struct kstate *k, vg_ns now)
{
	if (!k->held || !lease_valid(k, now)) {
		k->garp_at = VG_NS_NEVER;
		return;
	}
	report(k, VG_KEEPER_GARP, 0, vg_garp_send(k->garp, k->conf->vips,
	    k->conf->n_vips));
	garp_next(k, now);
}

/*
 * Adds (or refreshes the lifetimes of) every VIP, in chunks; a first add
 * announces each chunk once the kernel has acked it, so that the first
 * VIPs answer while the last are still being added.  Before each chunk
 * the add must still fit before the lease's deadline (vg_ktime_may_add
 * for what is left); if it does not, the rest waits and the removal at
 * the deadline takes back what is there.
 */
static void
k_add(struct kstate *k, vg_ns now)
{
	const struct vg_conf *c = k->conf;
	size_t i, n = c->n_vips, m;
	int failed = 0, was = k->held, r, cut = 0, announced = 0;
	vg_ns t0 = vg_now(), t;

	k->held = 1;		/* even a partial add must be taken back */
	for (i = 0; i < n; i += m) {
		m = n - i < VG_KEEPER_CHUNK ? n - i : VG_KEEPER_CHUNK;
		t = vg_now();
		/* what is left of the add, a removal and m still fit */
		if (i > 0 && !vg_ktime_may_add(&k->kt, k->deadline +
		    (vg_ns)((double)k->kt.add * (double)i / (double)n), t)) {
			cut = 1;
			break;
		}
		r = vg_vip_apply(k->nl, c->vips + i, m, 1, k->lifetime_s);
		failed += r < 0 ? (int)m : r;
		if (r == 0 && !was && c->garp_count > 0) {
			(void)vg_garp_send(k->garp, c->vips + i, m);
			announced = 1;
		}
	}
	t = vg_now();
	if (!cut && failed == 0)
		vg_ktime_measured(&k->kt, 1, t - t0);
	k->last_add = now;
	k->swept = 0;
	k->add_failed = failed != 0 || cut;
	if (was)
		return;
	report(k, failed || cut ? VG_KEEPER_FAILED : VG_KEEPER_ADDED, 0,
	    cut ? (int)(n - i) + failed : failed);
	if (announced) {
		report(k, VG_KEEPER_GARP, 0, 0);
		k->garp_left = c->garp_count - 1;
		garp_next(k, t);
	} else if (c->garp_refresh > 0)
		k->garp_at = t + c->garp_refresh;
}

/* Takes a HOLD's lease; the add itself waits until the queue is drained. */
static void
k_hold(struct kstate *k, const struct vg_keeper_req *q)
{
	int other_term = q->term != k->lease_term;

	if (other_term && k->held) {
		/* a lease of another term: never carry VIPs across */
		report(k, VG_KEEPER_REMOVED, 0, k_remove(k));
	}
	k->lease_term = q->term;
	if (q->deadline > k->deadline || other_term)
		k->deadline = q->deadline;
}

/* After the whole queue, and on the refresh timer: add (or refresh) if
 * the lease still allows it. */
static void
k_apply(struct kstate *k, vg_ns now)
{
	if (k->lease_term == 0 || k->deadline == 0)
		return;
	/* only while the add and a removal fit before the deadline; and a
	 * keeper that took over from another makes sure nothing is left */
	if (!vg_ktime_may_add(&k->kt, k->deadline, now)) {
		if (!k->held && !k->swept) {
			(void)k_remove(k);
			k->swept = 1;
		}
		return;
	}
	if (!k->held || k->add_failed || now - k->last_add >= k->refresh)
		k_add(k, now);
}

/* What the keeper waits for next: the removal, a refresh, a GARP round. */
static vg_ns
k_next(const struct kstate *k)
{
	vg_ns t = VG_NS_NEVER, r;

	if (!k->held)
		return t;
	t = vg_ktime_remove_at(&k->kt, k->deadline);
	if ((r = k->last_add + k->refresh) < t)
		t = r;
	if (k->garp_at < t)
		t = k->garp_at;
	return t;
}

static void
k_arm(int tfd, vg_ns at)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));	/* NEVER: disarmed */
	if (at != VG_NS_NEVER) {
		if (at <= 0)
			at = 1;		/* 0 would disarm: at once instead */
		its.it_value.tv_sec = at / VG_NS_PER_S;
		its.it_value.tv_nsec = at % VG_NS_PER_S;
	}
	(void)timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* The agent is gone: VIPs off, acked; then RELEASE(T) in its name. */
static void
k_release(struct kstate *k)
{
	const struct vg_conf *c = k->conf;
	const struct vg_conf_node *self = &c->nodes[c->self];
	struct sockaddr_storage sa = self->sa;
	uint64_t seq = VG_KEEPER_SEQ_BASE;
	uint8_t buf[VG_MAX_PKT];
	char err[256];
	struct vg_msg m;
	size_t i, len;
	int fd, copy;

	if (k->held && k_remove(k) != 0) {
		/* not acked: a RELEASE now could make two holders */
		log_warnx("keeper: the VIPs could not all be removed; no RELEASE");
		return;
	}
	if (k->lease_term == 0)
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
	for (copy = 0; copy < 2; copy++) {
		for (i = 0; i < c->n_nodes; i++) {
			const struct vg_conf_node *p = &c->nodes[i];

			if ((int)i == c->self)
				continue;
			memset(&m, 0, sizeof(m));
			m.type = VG_MSG_RELEASE;
			m.cluster_id = c->cluster_id;
			m.sender = self->id;
			m.target = p->id;
			m.state = VG_ST_STANDBY;
			m.priority = self->priority;
			m.term = k->lease_term;
			m.incarnation = k->incarnation;
			m.seq = ++seq;
			m.config_digest = c->safety_digest;
			m.digest_parts = vg_conf_parts_hint(c);
			m.epoch = c->epoch;
			m.conf_digest = c->digest;
			len = vg_proto_encode(&m, buf, sizeof(buf));
			vg_auth_sign(k->auth, buf, len);
			(void)vg_net_send(fd, buf, len,
			    (const struct sockaddr *)&p->sa, p->salen);
		}
	}
	close(fd);
	log_info("keeper: the agent is gone; VIPs removed, RELEASE(%llu) sent",
	    (unsigned long long)k->lease_term);
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

/* Deadlines passed, GARP rounds due, lifetimes to refresh. */
static void
k_timers(struct kstate *k, vg_ns now)
{
	vg_ns was;

	k_sync(k);
	if (k->held && now >= vg_ktime_remove_at(&k->kt, k->deadline)) {
		was = k->deadline;
		report(k, VG_KEEPER_REMOVED, 0, k_remove(k));
		/* a renewal stored while the batch ran: added back at once, as
		 * a HOLD queued behind the deadline is */
		k_sync(k);
		if (k->deadline > was)
			k_apply(k, vg_now());
	}
	if (k->held && now >= k->garp_at)
		garp_round(k, now);
	if (k->held && now - k->last_add >= k->refresh)
		k_apply(k, now);
}

void
vg_keeper_main(int fd, int lock_fd, struct vg_kshare *share,
    const struct vg_conf *c, const struct vg_auth *a, uint64_t inc,
    int successor)
{
	struct kstate k;
	struct vg_keeper_req q;
	struct pollfd pfd[2];
	sigset_t none;
	char err[256];
	uint64_t ticks;
	ssize_t n;
	vg_ns now;
	int i, hold;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Stopped only by the agent's EOF, so that the VIPs always go first. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	(void)prctl(PR_SET_NAME, "vigild-keeper", 0, 0, 0);
	/* lock_fd stays open: the instance lock is held while this keeper
	 * lives, so that a restarted agent cannot run beside it */
	(void)lock_fd;

	memset(&k, 0, sizeof(k));
	k.conf = c;
	k.auth = a;
	k.incarnation = inc;
	k.fd = fd;
	k.share = share;
	k.lifetime_s = c->vip_lifetime;
	k.refresh = (vg_ns)c->vip_lifetime * VG_NS_PER_S / 4;
	k.garp_at = VG_NS_NEVER;
	vg_ktime_init(&k.kt, c->interval / 4, c->n_vips);
	/* CLOCK_BOOTTIME, absolute: after a suspend it fires at once */
	if ((k.tfd = timerfd_create(VG_CLOCK, TFD_CLOEXEC | TFD_NONBLOCK)) == -1) {
		log_warn("keeper: timerfd_create");
		_exit(1);
	}
	if ((k.nl = vg_nl_open(0, err, sizeof(err))) == NULL) {
		log_warnx("keeper: %s", err);
		_exit(1);
	}
	k.garp = vg_garp_open();
	k_realtime(c);
	if (vg_caps_drop(err, sizeof(err)) == -1)
		log_warnx("keeper: %s", err);
	/* The removal path, once, now: nothing is there yet (the agent swept
	 * the links), and the pages it needs are then resident and locked.
	 * A successor holds what its predecessor held: it touches nothing. */
	if (!successor)
		(void)k_remove(&k);
	pfd[0].fd = fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = k.tfd;
	pfd[1].events = POLLIN;
	for (;;) {
		k_arm(k.tfd, k_next(&k));
		if (ppoll(pfd, 2, NULL, NULL) == -1 && errno != EINTR)
			break;
		if ((pfd[1].revents & POLLIN) &&
		    read(k.tfd, &ticks, sizeof(ticks)) == -1)
			ticks = 0;	/* EAGAIN: it was read already */
		now = vg_now();
		k_timers(&k, now);
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		/*
		 * The whole queue first, then act: a HOLD that a later DROP,
		 * DETACH or EOF took back must never add (a keeper that was
		 * stopped for a while finds them all at once).
		 */
		hold = 0;
		for (i = 0; i < 4096; i++) {
			n = recv(fd, &q, sizeof(q), MSG_DONTWAIT);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1)
				break;			/* EAGAIN: drained */
			if (n == 0)
				goto gone;		/* EOF: the agent is gone */
			if (n != (ssize_t)sizeof(q))
				continue;
			switch (q.op) {
			case VG_KEEPER_HOLD:
				k_hold(&k, &q);
				hold = 1;
				break;
			case VG_KEEPER_DROP:
				k.deadline = 0;
				k.lease_term = 0;
				hold = 0;
				report(&k, VG_KEEPER_REMOVED, q.id, k_remove(&k));
				break;
			case VG_KEEPER_DETACH:
				k.held = 0;
				k.lease_term = 0;
				vg_nl_close(k.nl);
				_exit(0);
			}
		}
		if (hold) {
			k_sync(&k);
			k_apply(&k, vg_now());
		}
	}
gone:
	k_release(&k);
	vg_nl_close(k.nl);
	vg_garp_close(k.garp);
	_exit(0);
}
