/*
 * hold: the keeper's handle, the lease of each VIP group given to it,
 * acked removals, and what the agent does when the keeper is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hold.h"
#include "keeper.h"
#include "log.h"

/* One group's lease and VIPs, as the agent has them. */
struct hgroup {
	uint64_t		k_term;		/* of the last HOLD it was sent */
	int			k_added;	/* and it has added the VIPs */
	int			held;		/* as the keeper last reported */
	int			unconfirmed;	/* the last removal: not acked */
	vg_ns			gone_by;	/* then the kernel's lifetime */
	int			leased;		/* a lease given, not taken off */
	uint64_t		term;
	vg_ns			deadline;
};

struct vg_hold {
	struct ev_loop		*loop;
	const struct vg_conf	*conf;
	const struct vg_auth	*auth;
	uint64_t		incarnation;
	struct vg_nl		*nl;
	vg_hold_cb		cb;
	void			*arg;

	pid_t			pid;		/* the keeper; 0: none, reaped */
	int			fd;		/* our end of the pair, or -1 */
	struct vg_kshare	*share;		/* this keeper's page */
	uint32_t		next_id;	/* of the next DROP */
	ev_io			io;
	ev_child		child;

	struct hgroup		g[VG_MAX_GROUPS];
	int			stopping;
	int			lock_fd;	/* kept open by every keeper */
	struct vg_hold_stats	st;
};

static void	keeper_lost(struct vg_hold *, const char *);

static size_t
n_groups(const struct vg_hold *h)
{
	return h->conf->n_groups < VG_MAX_GROUPS ? h->conf->n_groups :
	    VG_MAX_GROUPS;
}

static struct hgroup *
grp(struct vg_hold *h, size_t g)
{
	if (g >= n_groups(h))
		fatalx("hold: group %zu of %zu", g, n_groups(h));
	return &h->g[g];
}

/* " of group NAME" when there is more than one: a one-group node logs
 * what it always did. */
static const char *
gname(const struct vg_hold *h, size_t g, char *buf, size_t len)
{
	if (h->conf->n_groups <= 1)
		return "";
	snprintf(buf, len, " of group %s", h->conf->groups[g].name);
	return buf;
}

/* ---- the keeper's handle */

/* The page's `alive` mutex, locked by this (the main) thread for as long
 * as the page is the keeper's; 0 if it could not be (the keeper then
 * sees the agent's death by the pair's EOF alone). */
static int
share_hold(struct vg_kshare *s)
{
	pthread_mutexattr_t at;
	int ok;

	if (pthread_mutexattr_init(&at) != 0)
		return 0;
	ok = pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED) == 0 &&
	    pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST) == 0 &&
	    pthread_mutex_init(&s->alive, &at) == 0;
	pthread_mutexattr_destroy(&at);
	if (ok && pthread_mutex_lock(&s->alive) != 0) {
		pthread_mutex_destroy(&s->alive);
		ok = 0;
	}
	if (!ok)
		log_warnx("keeper: no robust mutex; the agent's death is seen "
		    "by its socket's EOF alone");
	return ok;
}

static struct vg_kshare *
share_new(void)
{
	struct vg_kshare *s;
	size_t g;

	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		fatal("keeper: mmap");
	for (g = 0; g < VG_MAX_GROUPS; g++)
		atomic_store(&s->deadline[g], 0);
	s->alive_ok = share_hold(s);
	return s;
}

static void
share_free(struct vg_kshare *s)
{
	int e;

	if (s == NULL)
		return;
	/* off this thread's robust list before the page goes: the kernel
	 * walks that list at the thread's exit.  If it cannot come off (not
	 * the thread that locked it: a bug), the page stays mapped, one page
	 * lost, rather than a dangling entry on the list */
	if (s->alive_ok && (e = pthread_mutex_unlock(&s->alive)) != 0) {
		log_warnx("keeper: its page kept (unlock: %s)", strerror(e));
		return;
	}
	(void)munmap(s, sizeof(*s));
}

static void
share_set(struct vg_kshare *s, size_t g, vg_ns deadline)
{
	if (s != NULL)
		atomic_store_explicit(&s->deadline[g], deadline,
		    memory_order_release);
}

/* keep: the groups whose leases the new keeper takes over (their VIPs
 * stay as they are); it removes every other group's once at start. */
static void
keeper_start(struct vg_hold *h, uint32_t keep)
{
	struct vg_kshare *share = share_new();
	int sv[2];
	pid_t pid;
	size_t g;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("keeper socketpair");
	if ((pid = fork()) == -1)
		fatal("keeper fork");
	if (pid == 0) {
		/* only its end of the pair (as fd 3), the instance lock (as
		 * fd 4: a restarted agent cannot run beside a keeper that is
		 * still alive) and stdio stay open */
		int lk = h->lock_fd;

		close(sv[0]);
		/* out of the way first: the lock may be fd 3 or 4 itself */
		if (lk != -1 && (lk = fcntl(lk, F_DUPFD, 10)) == -1)
			_exit(1);
		if (sv[1] != 3 && dup2(sv[1], 3) == -1)
			_exit(1);
		if (lk != -1 && dup2(lk, 4) == -1)
			_exit(1);
		/* without close_range (a kernel before 5.9, a seccomp
		 * profile that refuses it): one by one, to the limit */
		if (close_range(h->lock_fd != -1 ? 5 : 4, ~0U, 0) == -1) {
			struct rlimit rl;
			int fd, top = 65536;

			if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
			    rl.rlim_cur < (rlim_t)top)
				top = (int)rl.rlim_cur;
			for (fd = h->lock_fd != -1 ? 5 : 4; fd < top; fd++)
				(void)close(fd);
		}
		vg_keeper_main(3, h->lock_fd != -1 ? 4 : -1, share, h->conf,
		    h->auth, h->incarnation, keep);
	}
	close(sv[1]);
	(void)fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	h->pid = pid;
	h->fd = sv[0];
	h->share = share;
	for (g = 0; g < VG_MAX_GROUPS; g++) {
		h->g[g].k_term = 0;
		h->g[g].k_added = 0;
	}
	h->next_id = 1;
	h->st.keeper_starts++;
	ev_io_set(&h->io, h->fd, EV_READ);
	ev_io_start(h->loop, &h->io);
	ev_child_set(&h->child, h->pid, 0);
	ev_child_start(h->loop, &h->child);
	log_info("keeper started (pid %d)", (int)h->pid);
}

static int
k_send(int fd, uint32_t op, size_t g, uint32_t id, uint64_t term,
    vg_ns deadline)
{
	struct vg_keeper_req q;
	ssize_t n;

	if (fd == -1)
		return -1;
	memset(&q, 0, sizeof(q));
	q.op = op;
	q.id = id;
	q.term = term;
	q.deadline = deadline;
	q.group = (uint32_t)g;
	do {
		n = send(fd, &q, sizeof(q), MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	return n == (ssize_t)sizeof(q) ? 0 : -1;
}

/*
 * A message that changes group g's lease (HOLD, DROP): g's slot of the
 * page is cleared first, so that nothing stored for the lease before it
 * can extend what the message sets up (keeper.h).
 */
static int
k_tell(struct vg_hold *h, uint32_t op, size_t g, uint32_t id, uint64_t term,
    vg_ns deadline)
{
	share_set(h->share, g, 0);
	h->g[g].k_added = 0;
	h->g[g].k_term = op == VG_KEEPER_HOLD ? term : 0;
	return k_send(h->fd, op, g, id, term, deadline);
}

/* The groups whose leases are valid now: a successor takes them over. */
static uint32_t
leases_now(const struct vg_hold *h, vg_ns now)
{
	uint32_t keep = 0;
	size_t g;

	for (g = 0; g < n_groups(h); g++)
		if (h->g[g].leased && h->g[g].deadline > now)
			keep |= UINT32_C(1) << g;
	return keep;
}

/* Those leases handed to a keeper that has just started. */
static void
leases_handed(struct vg_hold *h, uint32_t keep)
{
	size_t g;

	for (g = 0; g < n_groups(h); g++)
		if (keep & (UINT32_C(1) << g))
			(void)k_tell(h, VG_KEEPER_HOLD, g, 0, h->g[g].term,
			    h->g[g].deadline);
}

/* One report; 1 read, 0 nothing, -1 EOF or error (the keeper is gone). */
static int
k_read(struct vg_hold *h, struct vg_keeper_rep *r)
{
	ssize_t n;

	if (h->fd == -1)
		return -1;
	do {
		n = recv(h->fd, r, sizeof(*r), MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		return 0;
	return n == (ssize_t)sizeof(*r) ? 1 : -1;
}

/* SIGKILL and reaped (pid 0: libev reaped it), then the pair closed:
 * whatever it held stays as it is. */
static void
k_reap(pid_t pid, int fd)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);	/* ECHILD if reaped */
	}
	if (fd != -1)
		close(fd);
}

/* The handle forgotten: its watchers stopped, the keeper reaped. */
static void
k_kill(struct vg_hold *h)
{
	ev_io_stop(h->loop, &h->io);
	ev_child_stop(h->loop, &h->child);
	k_reap(h->pid, h->fd);
	share_free(h->share);
	h->share = NULL;
	h->pid = 0;
	h->fd = -1;
}

/* ---- reports */

static void
report(struct vg_hold *h, const struct vg_keeper_rep *r)
{
	struct vg_hold_event e;
	struct hgroup *x;
	char gb[64];

	if (r->group >= n_groups(h))
		return;
	x = &h->g[r->group];
	memset(&e, 0, sizeof(e));
	e.group = r->group;
	e.term = r->term;
	switch (r->ev) {
	case VG_KEEPER_ADDED:
		x->held = 1;
		/* renewals of this lease may go through the page now */
		if (r->term == x->k_term && x->k_term != 0)
			x->k_added = 1;
		e.type = VG_HOLD_ADDED;
		log_info("VIPs%s added (term %llu)",
		    gname(h, r->group, gb, sizeof(gb)),
		    (unsigned long long)r->term);
		break;
	case VG_KEEPER_GARP:
		h->st.garps_sent++;	/* the keeper announces them */
		return;
	case VG_KEEPER_FAILED:
		x->held = 1;	/* partly: they must be taken back */
		x->k_added = 0;	/* the next HOLD tries the add again */
		e.type = VG_HOLD_ADD_FAILED;
		e.failed = r->failed;
		log_warnx("the keeper could not add %d VIP(s)%s (term %llu)",
		    r->failed, gname(h, r->group, gb, sizeof(gb)),
		    (unsigned long long)r->term);
		break;
	case VG_KEEPER_REMOVED:
		x->k_added = 0;
		e.type = VG_HOLD_REMOVED;
		e.was_held = x->held;
		e.lease_out = r->id == 0;
		if (x->held)
			log_info("VIPs%s removed%s",
			    gname(h, r->group, gb, sizeof(gb)), r->id == 0 ?
			    ": the lease ran out" : "");
		x->held = 0;
		break;
	default:
		return;
	}
	h->cb(h->arg, &e);
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vg_hold *h = w->data;
	struct vg_keeper_rep r;
	int rc, i;

	(void)loop;
	(void)revents;
	for (i = 0; i < 16; i++) {
		if ((rc = k_read(h, &r)) == 1)
			report(h, &r);
		else if (rc == 0)
			return;
		else {
			keeper_lost(h, "its socket closed");
			return;
		}
	}
}

static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct vg_hold *h = w->data;

	(void)loop;
	(void)revents;
	if (w->rpid != h->pid)
		return;
	h->pid = 0;		/* reaped by libev */
	keeper_lost(h, WIFSIGNALED(w->rstatus) ?
	    strsignal(WTERMSIG(w->rstatus)) : "it exited");
}

/* ---- removals */

/* Group g's, with the agent's own netlink socket: the keeper is gone.
 * 0, or -1 if one could not be removed (then they may still be held). */
static int
off_self(struct vg_hold *h, size_t g)
{
	const struct vg_conf_group *cg = &h->conf->groups[g];
	char gb[64];

	if (vg_vip_apply(h->nl, h->conf->vips + cg->vip_first, cg->n_vips,
	    0, 0) != 0) {
		log_warnx("could not remove every VIP%s; the kernel lifetime "
		    "(%u s) is the backstop", gname(h, g, gb, sizeof(gb)),
		    h->conf->vip_lifetime);
		return -1;
	}
	h->g[g].held = 0;
	return 0;
}

static void
keeper_lost(struct vg_hold *h, const char *why)
{
	struct vg_hold_event e;
	size_t g;

	if (h->fd == -1 || h->stopping)
		return;
	log_warnx("the keeper (pid %d) is gone: %s; removing the VIPs, "
	    "stepping down, starting a new keeper", (int)h->pid, why);
	k_kill(h);
	for (g = 0; g < n_groups(h); g++) {
		h->g[g].leased = 0;
		(void)off_self(h, g);
	}
	/* between keepers: what the shell does now (steps down, removes the
	 * VIPs again) goes through the agent's own socket */
	memset(&e, 0, sizeof(e));
	e.type = VG_HOLD_KEEPER_LOST;
	e.why = why;
	h->cb(h->arg, &e);
	keeper_start(h, 0);
}

/*
 * How long a removal may wait for the keeper's ack: half the margin m,
 * and the time netlink batches take (about 13 us a VIP, measured with
 * 1000): a big batch is not a stuck keeper.  Every group's VIPs, not only
 * the dropped group's: the DROP may wait behind another group's add or
 * removal, and a healthy keeper killed for it took every group's VIPs
 * down.
 */
static vg_ns
ack_timeout(const struct vg_hold *h)
{
	vg_ns t = h->conf->interval / 8;

	if (t < VG_MS(1))
		t = VG_MS(1);
	return t + (vg_ns)h->conf->n_vips * 20 * VG_NS_PER_US;
}

static uint32_t
drop_id(struct vg_hold *h)
{
	uint32_t id = h->next_id++;

	if (h->next_id == 0)
		h->next_id = 1;
	return id;
}

/* DROP(g), then wait (at most the timeout) for its REMOVED; reports that
 * come meanwhile are handled.  0, or -1: gone or not in time. */
static int
k_drop(struct vg_hold *h, size_t g, vg_ns timeout)
{
	struct vg_keeper_rep r;
	struct pollfd pfd;
	vg_ns end = vg_now() + timeout, left;
	uint32_t id = drop_id(h);
	int rc;

	if (k_tell(h, VG_KEEPER_DROP, g, id, 0, 0) == -1)
		return -1;
	pfd.fd = h->fd;
	pfd.events = POLLIN;
	for (;;) {
		while ((rc = k_read(h, &r)) == 1) {
			if (r.ev == VG_KEEPER_REMOVED && r.id == id &&
			    r.group == g) {
				if (r.failed != 0)
					return -1;
				h->g[g].held = 0;
				return 0;
			}
			report(h, &r);
		}
		if (rc == -1 || (left = end - vg_now()) <= 0)
			return -1;
		(void)poll(&pfd, 1, (int)(left / VG_NS_PER_MS) + 1);
	}
}

static int
off(struct vg_hold *h, size_t g)
{
	char gb[64];
	uint32_t keep;
	size_t x;
	int rc;

	if (h->fd == -1)			/* between keepers */
		return off_self(h, g);
	if (k_drop(h, g, ack_timeout(h)) == 0)
		return 0;
	/*
	 * Not acked in time (a frozen or overloaded keeper, or a gone one
	 * whose EOF is still queued).  A keeper that is not answering must
	 * not be left with HOLDs it might carry out later: it is killed and
	 * reaped first, then the agent removes the group's VIPs itself, now,
	 * and every other group's too: a new keeper could not guard their
	 * leases from its first instant (it learns them from their HOLDs,
	 * after it has started), and one about to run out would outlive its
	 * deadline by the start-up.  The new keeper gets the valid leases
	 * and adds their VIPs again as its admission allows (a blip in those
	 * groups, in a case that should not happen).
	 */
	log_warnx("the keeper (pid %d) did not confirm the removal of the VIPs"
	    "%s within %lld us: killing it, removing them directly",
	    (int)h->pid, gname(h, g, gb, sizeof(gb)),
	    (long long)(ack_timeout(h) / VG_NS_PER_US));
	k_kill(h);
	rc = off_self(h, g);
	for (x = 0; x < n_groups(h); x++)
		if (x != g)
			(void)off_self(h, x);	/* failed: logged; lifetime */
	if (!h->stopping) {
		keep = leases_now(h, vg_now()) & ~(UINT32_C(1) << g);
		keeper_start(h, 0);
		leases_handed(h, keep);
	}
	return rc;
}

/*
 * g's lease has run out (a lapse): the keeper has removed its VIPs at the
 * deadline already, unless it is frozen; waiting for its ack (at least
 * 1 ms) would then pass d + m for a short interval (m = h/4).  The agent
 * removes them itself at once, with its own socket, and tells the keeper
 * to forget the lease: its REMOVED comes later, as a report.  A keeper
 * that thaws finds the DROP behind its old HOLDs and adds nothing.
 */
static int
off_expired(struct vg_hold *h, size_t g)
{
	if (off_self(h, g) == -1)
		return -1;
	(void)k_tell(h, VG_KEEPER_DROP, g, drop_id(h), 0, 0);
	return 0;
}

int
vg_hold_off(struct vg_hold *h, size_t g)
{
	struct hgroup *x = grp(h, g);
	int expired = x->leased && h->fd != -1 && vg_now() >= x->deadline, rc;

	x->leased = 0;
	if (expired && off_expired(h, g) == 0)
		rc = 0;
	else
		rc = off(h, g);
	if (rc == -1 && !x->unconfirmed) {
		vg_ns now = vg_now();

		x->gone_by = (x->deadline > now ? x->deadline : now) +
		    vg_conf_vip_outlives(h->conf);
	}
	x->unconfirmed = rc == -1;
	return rc;
}

int
vg_hold_expired(struct vg_hold *h, size_t g, vg_ns now)
{
	struct hgroup *x;
	char gb[64];

	if (g >= n_groups(h))
		return 0;
	x = &h->g[g];
	if (!x->unconfirmed || now < x->gone_by)
		return 0;
	log_warnx("the VIPs'%s removal was never confirmed; their lifetime "
	    "(vip_lifetime %u s) has run out: the kernel has removed them",
	    gname(h, g, gb, sizeof(gb)), h->conf->vip_lifetime);
	x->unconfirmed = 0;
	return 1;
}

int
vg_hold_unconfirmed(const struct vg_hold *h, size_t g)
{
	return g < n_groups(h) && h->g[g].unconfirmed;
}

/* ---- leases */

int
vg_hold_lease(struct vg_hold *h, size_t g, uint64_t term, vg_ns deadline)
{
	struct hgroup *x = grp(h, g);

	if (!x->leased || term != x->term || deadline > x->deadline) {
		x->term = term;
		x->deadline = deadline;
	}
	x->leased = 1;
	if (x->k_added && term == x->k_term && h->fd != -1) {
		/* the keeper has this lease's VIPs on: one store */
		share_set(h->share, g, x->deadline);
		h->st.renewals_shared++;
		return 0;
	}
	h->st.renewals_sent++;
	if (k_tell(h, VG_KEEPER_HOLD, g, 0, term, x->deadline) == -1) {
		log_warnx("could not hand the lease to the keeper");
		return -1;
	}
	return 0;
}

struct vg_hold *
vg_hold_new(struct ev_loop *loop, const struct vg_conf *c,
    const struct vg_auth *auth, uint64_t incarnation, struct vg_nl *nl,
    int lock_fd, vg_hold_cb cb, void *arg)
{
	struct vg_hold *h = calloc(1, sizeof(*h));

	if (h == NULL)
		fatal("calloc");
	h->loop = loop;
	h->conf = c;
	h->auth = auth;
	h->incarnation = incarnation;
	h->nl = nl;
	h->lock_fd = lock_fd;
	h->cb = cb;
	h->arg = arg;
	h->fd = -1;
	ev_io_init(&h->io, io_cb, -1, EV_READ);
	ev_child_init(&h->child, child_cb, 0, 0);
	h->io.data = h->child.data = h;
	keeper_start(h, 0);
	return h;
}

void
vg_hold_reconf(struct vg_hold *h, const struct vg_conf *c, int new_keeper,
    const struct vg_conf_vip *gone, size_t n_gone)
{
	struct vg_kshare *old_share = h->share;
	pid_t old_pid = h->pid;
	int old_fd = h->fd;
	size_t g;

	h->conf = c;
	/* a group the new config does not have: forgotten (its VIPs are in
	 * `gone`, or in another group now) */
	for (g = n_groups(h); g < VG_MAX_GROUPS; g++)
		memset(&h->g[g], 0, sizeof(h->g[g]));
	if (!new_keeper)
		return;
	/* a new keeper with the new VIPs and key takes over: it touches no
	 * group's VIPs (those that stay, stay) and gets every valid lease */
	ev_io_stop(h->loop, &h->io);
	ev_child_stop(h->loop, &h->child);
	keeper_start(h, (uint32_t)((UINT64_C(1) << n_groups(h)) - 1));
	leases_handed(h, leases_now(h, vg_now()));
	/* the old one leaves without touching anything: DETACH, and then
	 * SIGKILLed before its end of the pair is closed, so that it never
	 * sees EOF (on which it would remove and RELEASE): once kill(2) has
	 * returned, the signal is pending and no system call of its returns
	 * to its code again.  It is not waited for here: waiting for its
	 * exit (the teardown of its locked memory) held the loop 1.1-2.6 ms
	 * at each VIP change, the kill alone 0.03-1.2 ms (tests/bench/push.py,
	 * 3 nodes); libev's SIGCHLD handler reaps it (child.c's watcher of
	 * every exit). */
	(void)k_send(old_fd, VG_KEEPER_DETACH, 0, 0, 0, 0);
	if (old_pid > 0)
		(void)kill(old_pid, SIGKILL);
	if (old_fd != -1)
		close(old_fd);
	share_free(old_share);
	/* the VIPs no longer in the config */
	if (n_gone > 0 && vg_vip_apply(h->nl, gone, n_gone, 0, 0) != 0)
		log_warnx("reload: could not remove every VIP that left the "
		    "configuration");
}

void
vg_hold_stop(struct vg_hold *h)
{
	h->stopping = 1;
}

void
vg_hold_free(struct vg_hold *h)
{
	int i;

	if (h == NULL)
		return;
	ev_io_stop(h->loop, &h->io);
	ev_child_stop(h->loop, &h->child);
	if (h->fd != -1)
		close(h->fd);
	/* it removes what it holds and exits on EOF; wait a little for that */
	for (i = 0; h->pid > 0 && i < 100; i++) {
		pid_t r = waitpid(h->pid, NULL, WNOHANG);

		/* ECHILD: the loop's SIGCHLD handler reaped it already */
		if (r == h->pid || (r == -1 && errno == ECHILD))
			h->pid = 0;
		else
			usleep(10000);
	}
	k_reap(h->pid, -1);
	share_free(h->share);
	free(h);
}

vg_ns
vg_hold_del(const struct vg_hold *h)
{
	vg_ns sum = 0, d;
	size_t g;

	for (g = 0; g < n_groups(h); g++) {
		d = h->share == NULL ? 0 : atomic_load_explicit(
		    &h->share->del[g], memory_order_relaxed);
		sum += d > 0 ? d :
		    2 * vg_conf_batch(h->conf->groups[g].n_vips, 0);
	}
	return sum;
}

struct vg_hold_stats
vg_hold_stats(const struct vg_hold *h)
{
	struct vg_hold_stats s = h->st;
	size_t g;

	s.held_groups = 0;
	for (g = 0; g < n_groups(h); g++)
		if (h->g[g].held)
			s.held_groups |= UINT32_C(1) << g;
	s.held = s.held_groups != 0;
	s.keeper_pid = h->pid;
	return s;
}
