/*
 * keeper: the lease-enforcing child process, and the agent's handle on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "keeper.h"
#include "log.h"
#include "net.h"
#include "proto.h"
#include "realtime.h"
#include "vip.h"

/* ---- the child */

struct kstate {
	const struct vg_conf	*conf;
	const struct vg_auth	*auth;
	uint64_t		incarnation;
	int			fd;
	struct vg_nl		*nl;
	int			held;		/* the VIPs are on the links */
	int			add_failed;	/* redo the add at the next HOLD */
	int			swept;		/* removed all once since the last add */
	uint64_t		lease_term;	/* a lease of this term was given */
	vg_ns			deadline;
	vg_ns			last_add;
	vg_ns			margin, refresh;
	unsigned		lifetime_s;
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
	int failed = vg_vip_apply(k->nl, k->conf->vips, k->conf->n_vips, 0, 0);

	k->held = 0;
	return failed;
}

static void
k_add(struct kstate *k, vg_ns now)
{
	int failed = vg_vip_apply(k->nl, k->conf->vips, k->conf->n_vips, 1,
	    k->lifetime_s);
	int was = k->held;

	k->last_add = now;
	k->swept = 0;
	k->add_failed = failed != 0;
	k->held = 1;		/* even a partial add must be taken back */
	if (!was)
		report(k, failed ? VG_KEEPER_FAILED : VG_KEEPER_ADDED, 0,
		    failed < 0 ? (int)k->conf->n_vips : failed);
}

/* Takes a HOLD's lease; the add itself waits until the queue is drained. */
static void
k_hold(struct kstate *k, const struct vg_keeper_req *q, vg_ns now)
{
	int other_term = q->term != k->lease_term;

	if (other_term && k->held) {
		/* a lease of another term: never carry VIPs across */
		report(k, VG_KEEPER_REMOVED, 0, k_remove(k));
	}
	k->lease_term = q->term;
	if (q->deadline > k->deadline || other_term)
		k->deadline = q->deadline;
	(void)now;
}

/* After the whole queue: add (or refresh) if the lease still allows it. */
static void
k_apply(struct kstate *k, vg_ns now)
{
	if (k->lease_term == 0 || k->deadline == 0)
		return;
	/* only while now < deadline - m: an add can never come late; and a
	 * keeper that took over from another makes sure nothing is left */
	if (now >= k->deadline - k->margin) {
		if (!k->held && !k->swept) {
			(void)k_remove(k);
			k->swept = 1;
		}
		return;
	}
	if (!k->held || k->add_failed || now - k->last_add >= k->refresh)
		k_add(k, now);
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
			m.config_digest = c->digest;
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

static void __attribute__((noreturn))
keeper_main(int fd, const struct vg_conf *c, const struct vg_auth *a,
    uint64_t inc, int successor)
{
	struct kstate k;
	struct vg_keeper_req q;
	struct pollfd pfd;
	struct timespec ts, *tsp;
	sigset_t none;
	char err[256];
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

	memset(&k, 0, sizeof(k));
	k.conf = c;
	k.auth = a;
	k.incarnation = inc;
	k.fd = fd;
	k.margin = c->interval / 4;
	k.lifetime_s = c->vip_lifetime;
	k.refresh = (vg_ns)c->vip_lifetime * VG_NS_PER_S / 4;
	if ((k.nl = vg_nl_open(0, err, sizeof(err))) == NULL) {
		log_warnx("keeper: %s", err);
		_exit(1);
	}
	k_realtime(c);
	if (vg_caps_drop(err, sizeof(err)) == -1)
		log_warnx("keeper: %s", err);
	/* The removal path, once, now: nothing is there yet (the agent swept
	 * the links), and the pages it needs are then resident and locked.
	 * A successor holds what its predecessor held: it touches nothing. */
	if (!successor)
		(void)k_remove(&k);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		now = vg_now();
		tsp = NULL;
		if (k.held) {
			vg_ns left = k.deadline - now;

			if (left < 0)
				left = 0;
			ts.tv_sec = left / VG_NS_PER_S;
			ts.tv_nsec = left % VG_NS_PER_S;
			tsp = &ts;
		}
		if (ppoll(&pfd, 1, tsp, NULL) == -1 && errno != EINTR)
			break;
		now = vg_now();
		if (k.held && now >= k.deadline)
			report(&k, VG_KEEPER_REMOVED, 0, k_remove(&k));
		if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
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
				k_hold(&k, &q, now);
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
		if (hold)
			k_apply(&k, vg_now());
	}
gone:
	k_release(&k);
	vg_nl_close(k.nl);
	_exit(0);
}

/* ---- the agent's side */

int
vg_keeper_start(struct vg_keeper *kp, const struct vg_conf *c,
    const struct vg_auth *a, uint64_t inc, int successor, char *err,
    size_t errlen)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "keeper socketpair: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "keeper fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		/* only its end of the pair (as fd 3) and stdio stay open */
		close(sv[0]);
		if (sv[1] != 3) {
			if (dup2(sv[1], 3) == -1)
				_exit(1);
		}
		(void)close_range(4, ~0U, 0);
		keeper_main(3, c, a, inc, successor);
	}
	close(sv[1]);
	(void)fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	kp->pid = pid;
	kp->fd = sv[0];
	kp->next_id = 1;
	return 0;
}

static int
k_send(struct vg_keeper *kp, const struct vg_keeper_req *q)
{
	ssize_t n;

	if (kp->fd == -1)
		return -1;
	do {
		n = send(kp->fd, q, sizeof(*q), MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	return n == (ssize_t)sizeof(*q) ? 0 : -1;
}

int
vg_keeper_hold(struct vg_keeper *kp, uint64_t term, vg_ns deadline)
{
	struct vg_keeper_req q;

	memset(&q, 0, sizeof(q));
	q.op = VG_KEEPER_HOLD;
	q.term = term;
	q.deadline = deadline;
	return k_send(kp, &q);
}

int
vg_keeper_read(struct vg_keeper *kp, struct vg_keeper_rep *r)
{
	ssize_t n;

	if (kp->fd == -1)
		return -1;
	do {
		n = recv(kp->fd, r, sizeof(*r), MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		return 0;
	if (n != (ssize_t)sizeof(*r))
		return -1;
	return 1;
}

int
vg_keeper_drop(struct vg_keeper *kp, vg_ns timeout,
    void (*cb)(void *, const struct vg_keeper_rep *), void *arg)
{
	struct vg_keeper_req q;
	struct vg_keeper_rep r;
	struct pollfd pfd;
	vg_ns end = vg_now() + timeout, left;
	int rc;

	memset(&q, 0, sizeof(q));
	q.op = VG_KEEPER_DROP;
	q.id = kp->next_id++;
	if (kp->next_id == 0)
		kp->next_id = 1;
	if (k_send(kp, &q) == -1)
		return -1;
	pfd.fd = kp->fd;
	pfd.events = POLLIN;
	for (;;) {
		while ((rc = vg_keeper_read(kp, &r)) == 1) {
			if (r.ev == VG_KEEPER_REMOVED && r.id == q.id)
				return r.failed == 0 ? 0 : -1;
			if (cb != NULL)
				cb(arg, &r);
		}
		if (rc == -1)
			return -1;
		if ((left = end - vg_now()) <= 0)
			return -1;
		(void)poll(&pfd, 1, (int)(left / VG_NS_PER_MS) + 1);
	}
}

void
vg_keeper_detach(struct vg_keeper *kp)
{
	struct vg_keeper_req q;

	/* DETACH, and then make sure: killed and reaped before its end of the
	 * pair can see EOF, so that it never removes or RELEASEs anything */
	memset(&q, 0, sizeof(q));
	q.op = VG_KEEPER_DETACH;
	(void)k_send(kp, &q);
	vg_keeper_kill(kp);
}

void
vg_keeper_kill(struct vg_keeper *kp)
{
	if (kp->pid > 0) {
		kill(kp->pid, SIGKILL);
		(void)waitpid(kp->pid, NULL, 0);	/* ECHILD if reaped */
		kp->pid = 0;
	}
	if (kp->fd != -1) {
		close(kp->fd);
		kp->fd = -1;
	}
}

void
vg_keeper_stop(struct vg_keeper *kp)
{
	int i;

	if (kp->fd != -1) {
		close(kp->fd);
		kp->fd = -1;
	}
	if (kp->pid <= 0)
		return;
	/* it removes what it holds and exits on EOF; wait a little for that */
	for (i = 0; i < 100; i++) {
		pid_t r = waitpid(kp->pid, NULL, WNOHANG);

		/* ECHILD: the loop's SIGCHLD handler reaped it already */
		if (r == kp->pid || (r == -1 && errno == ECHILD)) {
			kp->pid = 0;
			return;
		}
		usleep(10000);
	}
	kill(kp->pid, SIGKILL);
	(void)waitpid(kp->pid, NULL, 0);
	kp->pid = 0;
}
