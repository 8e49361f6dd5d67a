/*
 * hooks: the state file (its writer thread), the notify-script queue and
 * its runner.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "hooks.h"
#include "log.h"
#include "proto.h"
#include "statedir.h"

#define KILL_GRACE	VG_MS(1000)	/* between SIGTERM and SIGKILL */

/* ---- the pure part: queue, paths, state text */

const char *
vg_hook_path(const struct vg_conf *c, const struct vg_hook_job *j)
{
	if (j->which == VG_HOOK_ALL)
		return c->hooks.notify;
	switch (j->ev.state) {
	case VG_ST_ACTIVE:		return c->hooks.notify_active;
	case VG_ST_FAULT:		return c->hooks.notify_fault;
	case VG_ST_MAINTENANCE:		return c->hooks.notify_maintenance;
	default:			return c->hooks.notify_standby;
	}
}

/* Full, the oldest job goes: the last script to run must say the latest
 * state (keeping the oldest, a hung script and a flapping link left
 * notify_standby last on an active node). */
static void
q_put(struct vg_hookq *q, const struct vg_hook_event *ev,
    enum vg_hook_script which)
{
	struct vg_hook_job *j;

	if (q->n == VG_HOOKQ_MAX) {
		q->dropped++;
		q->head = (q->head + 1) % VG_HOOKQ_MAX;
		q->n--;
	}
	j = &q->job[(q->head + q->n) % VG_HOOKQ_MAX];
	j->ev = *ev;
	j->which = which;
	q->n++;
}

size_t
vg_hookq_push(struct vg_hookq *q, const struct vg_conf *c,
    const struct vg_hook_event *ev)
{
	struct vg_hook_job j;
	size_t n = 0;

	j.ev = *ev;
	j.which = VG_HOOK_STATE;
	if (vg_hook_path(c, &j)[0] != '\0') {
		q_put(q, ev, VG_HOOK_STATE);
		n++;
	}
	if (c->hooks.notify[0] != '\0') {
		q_put(q, ev, VG_HOOK_ALL);
		n++;
	}
	return n;
}

int
vg_hookq_pop(struct vg_hookq *q, struct vg_hook_job *out)
{
	if (q->n == 0)
		return 0;
	*out = q->job[q->head];
	q->head = (q->head + 1) % VG_HOOKQ_MAX;
	q->n--;
	return 1;
}

static void
fmt_time(int64_t ms, char *buf, size_t len)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* Group g of the config, or NULL (its VIPs are checked to be there). */
static const struct vg_conf_group *
group_of(const struct vg_conf *c, size_t g)
{
	const struct vg_conf_group *gr;

	if (g >= c->n_groups)
		return NULL;
	gr = &c->groups[g];
	if (gr->vip_first > c->n_vips || gr->n_vips > c->n_vips - gr->vip_first)
		return NULL;
	return gr;
}

int
vg_hook_state_path(const struct vg_conf *c, size_t g, char *buf, size_t len)
{
	const struct vg_conf_group *gr = group_of(c, g);
	int n;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	if (gr == NULL || c->state_file[0] == '\0')
		return -1;
	if (c->groups_line == 0)	/* as before groups */
		n = snprintf(buf, len, "%s", c->state_file);
	else
		n = snprintf(buf, len, "%s.%s", c->state_file, gr->name);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

/* Room for the state file or the environment, whatever the VIPs. */
static size_t
text_room(const struct vg_conf *c)
{
	return 1024 + VG_GROUP_NAME_MAX +
	    c->n_vips * (INET6_ADDRSTRLEN + 8 + IF_NAMESIZE + 2);
}

/* "addr/len@if addr/len@if": the group's VIPs; (size_t)-1 if cut */
static size_t
vips_text(const struct vg_conf *c, const struct vg_conf_group *gr, char *buf,
    size_t len)
{
	const struct vg_conf_vip *v;
	size_t i, off = 0;
	int n;

	if (len == 0)
		return (size_t)-1;
	buf[0] = '\0';
	for (i = 0; i < gr->n_vips; i++) {
		v = &c->vips[gr->vip_first + i];
		n = snprintf(buf + off, len - off, "%s%s@%s", i ? " " : "",
		    v->text, v->ifname);
		if (n < 0 || (size_t)n >= len - off) {
			buf[off] = '\0';
			return (size_t)-1;
		}
		off += (size_t)n;
	}
	return off;
}

size_t
vg_hook_state_text(const struct vg_conf *c, const struct vg_hook_event *ev,
    char *buf, size_t len)
{
	const struct vg_conf_node *self = &c->nodes[c->self];
	const struct vg_conf_group *gr = group_of(c, ev->group);
	char when[96], gline[VG_GROUP_NAME_MAX + 16];
	size_t v;
	int n;

	if (gr == NULL)
		return 0;
	/* a file without groups: not a byte more than before groups */
	gline[0] = '\0';
	if (c->groups_line != 0)
		snprintf(gline, sizeof(gline), "VIGIL_GROUP=%s\n", gr->name);
	fmt_time(ev->time_ms, when, sizeof(when));
	n = snprintf(buf, len,
	    "# vigil state file: rewritten atomically on every state change.\n"
	    "# VIGIL_TERM only grows: use it as a fencing token.\n"
	    "VIGIL_CLUSTER=%s\n"
	    "VIGIL_NODE=%s\n"
	    "VIGIL_NODE_ID=%u\n"
	    "%s"
	    "VIGIL_STATE=%s\n"
	    "VIGIL_PREV_STATE=%s\n"
	    "VIGIL_TERM=%llu\n"
	    "VIGIL_ACTIVE=%s\n"
	    "VIGIL_ACTIVE_ID=%u\n"
	    "VIGIL_SEQ=%llu\n"
	    "VIGIL_TIME=%s\n"
	    "VIGIL_TIME_MS=%lld\n"
	    "VIGIL_VIPS=\"",
	    c->cluster, self->name, self->id, gline, vg_state_name(ev->state),
	    vg_state_name(ev->prev), (unsigned long long)ev->term, ev->active,
	    ev->active_id, (unsigned long long)ev->seq, when,
	    (long long)ev->time_ms);
	if (n < 0 || (size_t)n >= len)
		return 0;
	if ((v = vips_text(c, gr, buf + n, len - (size_t)n)) == (size_t)-1)
		return 0;		/* never a silently short list */
	n += (int)v;
	if ((size_t)n + 3 > len)
		return 0;
	memcpy(buf + n, "\"\n", 3);
	return (size_t)n + 2;
}

/*
 * A script's environment: every group's script gets VIGIL_GROUP (also
 * "default" in a file without groups, so that one script serves both),
 * its group's state file and VIPs.
 */
int
vg_hook_env(const struct vg_conf *c, const struct vg_hook_job *j,
    struct vg_hook_env *e)
{
	const struct vg_conf_node *self = &c->nodes[c->self];
	const struct vg_conf_group *gr = group_of(c, j->ev.group);
	size_t room = text_room(c) + 2 * VG_HOOK_PATH_MAX, off = 0, k = 0;
	char when[96], sf[VG_HOOK_PATH_MAX];
	int n;

#define ENV(...) do {							\
	n = snprintf(e->buf + off, room - off, __VA_ARGS__);		\
	if (n < 0 || (size_t)n >= room - off)				\
		goto cut;						\
	e->v[k++] = e->buf + off;					\
	off += (size_t)n + 1;						\
} while (0)

	e->buf = NULL;
	snprintf(e->term, sizeof(e->term), "%llu",
	    (unsigned long long)j->ev.term);
	if (gr == NULL) {
		errno = EINVAL;
		return -1;
	}
	/* "" when it has none (no state_file), as the file is not written */
	(void)vg_hook_state_path(c, j->ev.group, sf, sizeof(sf));
	fmt_time(j->ev.time_ms, when, sizeof(when));
	if ((e->buf = malloc(room)) == NULL)
		return -1;
	ENV("VIGIL_CLUSTER=%s", c->cluster);
	ENV("VIGIL_NODE=%s", self->name);
	ENV("VIGIL_NODE_ID=%u", self->id);
	ENV("VIGIL_GROUP=%s", gr->name);
	ENV("VIGIL_STATE=%s", vg_state_name(j->ev.state));
	ENV("VIGIL_PREV_STATE=%s", vg_state_name(j->ev.prev));
	ENV("VIGIL_TERM=%s", e->term);
	ENV("VIGIL_ACTIVE=%s", j->ev.active);
	ENV("VIGIL_ACTIVE_ID=%u", j->ev.active_id);
	ENV("VIGIL_SEQ=%llu", (unsigned long long)j->ev.seq);
	ENV("VIGIL_REASON=%s", j->ev.reason);
	ENV("VIGIL_TIME=%s", when);
	ENV("VIGIL_STATE_FILE=%s", sf);
	ENV("VIGIL_VIPS=");
	off--;			/* back onto its NUL: the list follows */
	if (vips_text(c, gr, e->buf + off, room - off) == (size_t)-1)
		goto cut;
	e->v[k] = NULL;
#undef ENV
	return 0;
cut:
	free(e->buf);
	e->buf = NULL;
	errno = ENAMETOOLONG;
	return -1;
}

void
vg_hook_env_free(struct vg_hook_env *e)
{
	free(e->buf);
	e->buf = NULL;
}

/* ---- the state-file writer: one thread, fed by the loop */

#define WRITER_STACK	(64 * 1024)	/* the agent locks all its memory */

/*
 * What the loop hands the thread: everything the thread touches is here,
 * filled by the loop while the thread is idle (go == 0), so the thread
 * never reads the config (a reload may free it) and never allocates.
 */
struct vg_writer {
	pthread_t		tid;
	pthread_mutex_t		mu;
	pthread_cond_t		cv;
	int			go, quit;	/* under mu */
	int			efd;		/* eventfd: one write done */
	int			started;	/* the thread exists */
	char			dir[VG_PATH_MAX], name[VG_HOOK_PATH_MAX];
	char			*text;
	size_t			room, len;
	int			result;		/* 0 or -1 (err says why) */
	char			err[256];
};

static void *
writer_main(void *arg)
{
	struct vg_writer *w = arg;
	uint64_t one = 1;
	int r;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->go && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->quit)
			break;
		pthread_mutex_unlock(&w->mu);
		w->err[0] = '\0';
		r = vg_statedir_prepare(w->dir, w->err, sizeof(w->err)) == -1 ||
		    vg_statedir_write(w->dir, w->name, w->text, w->len, w->err,
		    sizeof(w->err)) == -1 ? -1 : 0;
		pthread_mutex_lock(&w->mu);
		w->result = r;
		w->go = 0;
		pthread_mutex_unlock(&w->mu);
		while (write(w->efd, &one, sizeof(one)) == -1 && errno == EINTR)
			;
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* SCHED_OTHER whatever the agent's priority, every signal blocked (they
 * are the loop's), a small stack. */
static int
writer_start_thread(struct vg_writer *w)
{
	struct sched_param sp;
	pthread_attr_t at;
	sigset_t all, old;
	int e;

	if ((e = pthread_attr_init(&at)) != 0)
		return e;
	memset(&sp, 0, sizeof(sp));
	sigfillset(&all);
	if ((e = pthread_attr_setstacksize(&at, WRITER_STACK)) == 0 &&
	    (e = pthread_attr_setinheritsched(&at,
	    PTHREAD_EXPLICIT_SCHED)) == 0 &&
	    (e = pthread_attr_setschedpolicy(&at, SCHED_OTHER)) == 0 &&
	    (e = pthread_attr_setschedparam(&at, &sp)) == 0) {
		pthread_sigmask(SIG_SETMASK, &all, &old);
		e = pthread_create(&w->tid, &at, writer_main, w);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	pthread_attr_destroy(&at);
	if (e == 0)
		w->started = 1;
	return e;
}

/* ---- the runner */

struct vg_hooks {
	struct ev_loop		*loop;
	const struct vg_conf	*conf;
	struct vg_hookq		q;
	struct vg_hooks_stats	st;
	struct vg_child		child;		/* the running script */
	struct vg_hook_job	cur;
	char			cur_path[VG_PATH_MAX];	/* as it was spawned:
							 * a reload may name
							 * another */
	uint32_t		due;		/* bit g: g's state file is
						 * behind */
	struct vg_hook_event	file_ev[VG_MAX_GROUPS];	/* what it must say */
	size_t			w_group;	/* the group being written */
	size_t			w_next;		/* the next to look at */
	int			w_busy;		/* handed to the writer */
	int			w_late;		/* ... and past the timeout */
	struct vg_writer	w;
	ev_io			w_io;
	ev_timer		w_timer;
	vg_hooks_done		done;
	void			*done_arg;
};

_Static_assert(VG_MAX_GROUPS <= 32, "a group's due bit in a uint32_t");

static void	run_next(struct vg_hooks *);

static void
out_line(void *arg, const char *line)
{
	struct vg_hooks *h = arg;

	log_info("hook %s: %s", h->cur_path, line);
}

static void
expired(void *arg, pid_t pid)
{
	struct vg_hooks *h = arg;

	log_warnx("hook %s (pid %d) ran past script_timeout (%lld ms): "
	    "SIGTERM", h->cur_path, (int)pid,
	    (long long)(h->conf->hooks.timeout / VG_NS_PER_MS));
	h->st.timeouts++;
}

static void
exited(void *arg, int st, int killed)
{
	struct vg_hooks *h = arg;

	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		log_debug("hook %s: done", h->cur_path);
	else {
		h->st.failures++;
		if (WIFSIGNALED(st))
			log_warnx("hook %s: killed by signal %d",
			    h->cur_path, WTERMSIG(st));
		else
			log_warnx("hook %s: exit status %d",
			    h->cur_path, WEXITSTATUS(st));
	}
	if (h->done != NULL)
		h->done(h->done_arg, &h->cur, h->cur_path, st,
		    killed);
	run_next(h);
}

/* its exec failed (on the spawner thread): a spawn error, shown in the
 * event log as a failed exec is; the queue goes on */
static void
failed(void *arg, int err)
{
	struct vg_hooks *h = arg;
	const char *path = h->cur_path;

	h->st.spawn_errors++;
	h->st.runs--;		/* counted when it was queued */
	log_warnx("hook %s: cannot start it: %s", path, strerror(err));
	if (h->done != NULL)
		h->done(h->done_arg, &h->cur, path, 127 << 8, 0);
	run_next(h);
}

static const struct vg_child_ops hook_ops = {
	out_line, expired, exited, failed,
};

/* Hands the writer thread the latest state of the next group whose file
 * is behind, in turn from the last one written (the loop owns w: idle). */
static void
writer_go(struct vg_hooks *h)
{
	struct vg_writer *w = &h->w;
	char sf[VG_HOOK_PATH_MAX];
	const char *slash;
	size_t room = text_room(h->conf), g, i;
	char *t;

	for (i = 0; i < VG_MAX_GROUPS; i++) {
		g = (h->w_next + i) % VG_MAX_GROUPS;
		if (h->due & (UINT32_C(1) << g))
			break;
	}
	if (i == VG_MAX_GROUPS)
		return;
	h->due &= ~(UINT32_C(1) << g);
	h->w_next = (g + 1) % VG_MAX_GROUPS;
	if (vg_hook_state_path(h->conf, g, sf, sizeof(sf)) == -1)
		goto fail;
	slash = strrchr(sf, '/');
	if (w->room < room) {		/* a reload added VIPs */
		if ((t = realloc(w->text, room)) == NULL)
			goto fail;
		w->text = t;
		w->room = room;
	}
	w->len = vg_hook_state_text(h->conf, &h->file_ev[g], w->text, w->room);
	if (!w->started || slash == NULL || w->len == 0 ||
	    (size_t)(slash - sf) >= sizeof(w->dir))
		goto fail;
	memcpy(w->dir, sf, (size_t)(slash - sf));
	w->dir[slash - sf] = '\0';
	if (w->dir[0] == '\0')
		snprintf(w->dir, sizeof(w->dir), "/");
	snprintf(w->name, sizeof(w->name), "%s", slash + 1);
	pthread_mutex_lock(&w->mu);
	w->go = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	h->w_busy = 1;
	h->w_late = 0;
	h->w_group = g;
	ev_timer_set(&h->w_timer, (double)h->conf->hooks.timeout / 1e9, 0.);
	ev_timer_start(h->loop, &h->w_timer);
	log_debug("state file %s: handed to the writer", sf);
	return;
fail:
	h->st.state_write_errors++;
	log_warnx("state file %s was not written", sf[0] != '\0' ? sf :
	    h->conf->state_file);
}

/* Whether group g's state file is behind its latest change (a script of
 * g waits for it, unless the writer is late). */
static int
file_behind(const struct vg_hooks *h, size_t g)
{
	if (g < VG_MAX_GROUPS && (h->due & (UINT32_C(1) << g)))
		return 1;
	return h->w_busy && h->w_group == g;
}

/* The file just written, if a reload meanwhile named another (or none):
 * files_reconf removed it before this write put it back. */
static void
gone_meanwhile(struct vg_hooks *h)
{
	const struct vg_writer *w = &h->w;
	char now[VG_HOOK_PATH_MAX], was[VG_PATH_MAX + VG_HOOK_PATH_MAX + 2];

	snprintf(was, sizeof(was), "%s%s%s", w->dir,
	    strcmp(w->dir, "/") == 0 ? "" : "/", w->name);
	if (h->conf->state_file[0] != '\0' &&
	    h->w_group < h->conf->n_groups &&
	    vg_hook_state_path(h->conf, h->w_group, now, sizeof(now)) == 0 &&
	    strcmp(now, was) == 0)
		return;
	if (unlink(was) == -1 && errno != ENOENT)
		log_warn("state file %s: the configuration names another, or "
		    "none; cannot remove it", was);
}

static void
writer_done_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct vg_hooks *h = io->data;
	struct vg_writer *w = &h->w;
	uint64_t n;
	int busy, r;

	(void)revents;
	if (read(w->efd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;
	pthread_mutex_lock(&w->mu);
	busy = w->go;
	r = w->result;
	pthread_mutex_unlock(&w->mu);
	if (busy || !h->w_busy)
		return;
	h->w_busy = 0;
	ev_timer_stop(loop, &h->w_timer);
	if (r == 0)
		h->st.state_writes++;
	else {
		h->st.state_write_errors++;
		log_warnx("state file %s/%s was not written: %s", w->dir,
		    w->name, w->err);
	}
	if (h->w_late)
		log_info("state file %s/%s: the late write is done", w->dir,
		    w->name);
	gone_meanwhile(h);
	run_next(h);
}

static void
writer_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct vg_hooks *h = t->data;

	(void)loop;
	(void)revents;
	if (!h->w_busy)
		return;
	/* as the old writer's kill at the timeout did: the scripts go on,
	 * the file is behind until the thread is free again */
	log_warnx("state file %s/%s: the write ran past script_timeout "
	    "(%lld ms): the scripts go on without it", h->w.dir, h->w.name,
	    (long long)(h->conf->hooks.timeout / VG_NS_PER_MS));
	h->st.timeouts++;
	h->w_late = 1;
	run_next(h);
}

static void
run_next(struct vg_hooks *h)
{
	char *argv[5], *path;
	struct vg_hook_env e;

	/* the state files go before the scripts, and say the latest */
	while (h->due != 0 && !h->w_busy)
		writer_go(h);		/* each turn clears a bit */
	while (!vg_child_running(&h->child)) {
		if (h->q.n > 0 && !h->w_late &&
		    file_behind(h, h->q.job[h->q.head].ev.group))
			return;		/* its scripts wait for it */
		if (!vg_hookq_pop(&h->q, &h->cur))
			return;
		path = (char *)(uintptr_t)vg_hook_path(h->conf, &h->cur);
		if (path[0] == '\0')
			continue;
		snprintf(h->cur_path, sizeof(h->cur_path), "%s", path);
		argv[0] = path;
		argv[1] = (char *)(uintptr_t)vg_state_name(h->cur.ev.state);
		argv[2] = (char *)(uintptr_t)vg_state_name(h->cur.ev.prev);
		argv[3] = e.term;
		argv[4] = NULL;
		if (vg_hook_env(h->conf, &h->cur, &e) == -1 ||
		    vg_child_spawn(&h->child, path, argv, e.v,
		    h->conf->hooks.timeout, KILL_GRACE) == -1) {
			h->st.spawn_errors++;
			log_warn("hook %s: cannot start it", path);
			vg_hook_env_free(&e);
			/* the event log shows it as it did a failed exec */
			if (h->done != NULL)
				h->done(h->done_arg, &h->cur, path, 127 << 8, 0);
			continue;
		}
		vg_hook_env_free(&e);
		h->st.runs++;
		log_debug("hook %s: queued for the spawner", path);
	}
}

struct vg_hooks *
vg_hooks_new(struct ev_loop *loop, const struct vg_conf *c, vg_hooks_done done,
    void *arg)
{
	struct vg_hooks *h = calloc(1, sizeof(*h));
	int e;

	if (h == NULL)
		return NULL;
	h->done = done;
	h->done_arg = arg;
	h->loop = loop;
	h->conf = c;
	vg_child_init(&h->child, loop, &hook_ops, h);
	h->w.room = text_room(c);
	if ((h->w.text = malloc(h->w.room)) == NULL ||
	    (h->w.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		free(h->w.text);
		free(h);
		return NULL;
	}
	/* shared with a SCHED_OTHER thread: priority inheritance */
	if (vg_mutex_pi(&h->w.mu) != 0)
		pthread_mutex_init(&h->w.mu, NULL);
	pthread_cond_init(&h->w.cv, NULL);
	if ((e = writer_start_thread(&h->w)) != 0) {
		close(h->w.efd);
		free(h->w.text);
		free(h);
		errno = e;
		return NULL;
	}
	ev_io_init(&h->w_io, writer_done_cb, h->w.efd, EV_READ);
	ev_init(&h->w_timer, writer_timer_cb);
	h->w_io.data = h->w_timer.data = h;
	ev_io_start(loop, &h->w_io);
	/* with groups, state_file itself is no group's: one left by a run
	 * without groups would go on saying a state no longer true */
	if (c->groups_line != 0 && c->state_file[0] != '\0') {
		if (unlink(c->state_file) == 0)
			log_info("state file %s: removed (from a run without "
			    "groups; each group has its own, %s.NAME)",
			    c->state_file, c->state_file);
		else if (errno != ENOENT)
			log_warn("state file %s: cannot remove the one of a "
			    "run without groups", c->state_file);
	}
	return h;
}

/*
 * A reload's state files: the ones the old configuration named and the new
 * one does not are removed (state_file moved or emptied: the old file would
 * go on saying its last state for ever), and every group's file is written
 * again as the new one has it (VIGIL_VIPS: a reload that added a VIP).
 */
static void
files_reconf(struct vg_hooks *h, const struct vg_conf *old,
    const struct vg_conf *c)
{
	char op[VG_HOOK_PATH_MAX], np[VG_HOOK_PATH_MAX];
	size_t g, k;
	int kept;

	for (g = 0; g < old->n_groups && old->state_file[0] != '\0'; g++) {
		if (vg_hook_state_path(old, g, op, sizeof(op)) == -1)
			continue;
		for (k = 0, kept = 0; k < c->n_groups && !kept; k++)
			kept = c->state_file[0] != '\0' &&
			    vg_hook_state_path(c, k, np, sizeof(np)) == 0 &&
			    strcmp(op, np) == 0;
		if (kept)
			continue;
		if (unlink(op) == 0)
			log_info("state file %s: removed (the configuration "
			    "names another, or none)", op);
		else if (errno != ENOENT)
			log_warn("state file %s: the configuration names "
			    "another, or none; cannot remove it", op);
	}
	if (c->state_file[0] == '\0')
		return;
	for (g = 0; g < c->n_groups && g < VG_MAX_GROUPS; g++)
		if (h->file_ev[g].seq != 0)
			h->due |= UINT32_C(1) << g;
}

void
vg_hooks_set_conf(struct vg_hooks *h, const struct vg_conf *c)
{
	const struct vg_conf *old = h->conf;
	char *t;

	h->conf = c;
	files_reconf(h, old, c);
	/* the writer's buffer: re-sized here only while it is idle, else
	 * when the next write is handed to it */
	if (!h->w_busy && h->w.room < text_room(c) &&
	    (t = realloc(h->w.text, text_room(c))) != NULL) {
		h->w.text = t;
		h->w.room = text_room(c);
	}
	run_next(h);
}

void
vg_hooks_state_change(struct vg_hooks *h, const struct vg_hook_event *ev)
{
	if (ev->group >= h->conf->n_groups || ev->group >= VG_MAX_GROUPS) {
		log_warnx("hooks: a change of group %u, not in the config",
		    ev->group);
		return;
	}
	h->file_ev[ev->group] = *ev;
	if (h->conf->state_file[0] != '\0')
		h->due |= UINT32_C(1) << ev->group;
	vg_hookq_push(&h->q, h->conf, ev);
	if (h->q.dropped > 0 && h->q.dropped % 100 == 1)
		log_warnx("hooks: %llu script runs dropped (the oldest): "
		    "more than %d queued", (unsigned long long)h->q.dropped,
		    VG_HOOKQ_MAX);
	run_next(h);
}

const struct vg_hooks_stats *
vg_hooks_stats(const struct vg_hooks *h)
{
	return &h->st;
}

size_t
vg_hooks_pending(const struct vg_hooks *h)
{
	return h->q.n + (size_t)vg_child_running(&h->child) +
	    (size_t)__builtin_popcount(h->due) + (size_t)h->w_busy;
}

void
vg_hooks_free(struct vg_hooks *h)
{
	if (h == NULL)
		return;
	vg_child_stop(&h->child);
	/* a write under way is finished first: the file stays whole */
	pthread_mutex_lock(&h->w.mu);
	h->w.quit = 1;
	pthread_cond_signal(&h->w.cv);
	pthread_mutex_unlock(&h->w.mu);
	pthread_join(h->w.tid, NULL);
	ev_io_stop(h->loop, &h->w_io);
	ev_timer_stop(h->loop, &h->w_timer);
	close(h->w.efd);
	pthread_cond_destroy(&h->w.cv);
	pthread_mutex_destroy(&h->w.mu);
	free(h->w.text);
	free(h);
}
