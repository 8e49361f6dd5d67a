/*
 * track: fall/rise counting and the track-script runner.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "track.h"

int
vg_child_exited(pid_t pid)
{
	siginfo_t si;

	/* WNOWAIT: look, do not reap; ev_child still gets its exit */
	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == pid;
}

int
vg_track_note(struct vg_track_state *t, int success, unsigned fall,
    unsigned rise)
{
	t->runs++;
	if (success) {
		t->fails = 0;
		t->oks++;
		if (!t->up && t->oks >= rise) {
			t->up = 1;
			return 1;
		}
		return 0;
	}
	t->failures++;
	t->oks = 0;
	t->fails++;
	if (t->up && t->fails >= fall) {
		t->up = 0;
		return 1;
	}
	return 0;
}

uint8_t
vg_track_priority(const struct vg_conf *c, const struct vg_track_state *st,
    int *fault)
{
	int p = c->nodes[c->self].priority;
	size_t i;

	*fault = 0;
	for (i = 0; i < c->n_tracks; i++) {
		if (st[i].up)
			continue;
		if (c->tracks[i].weight == 0)
			*fault = 1;
		else
			p -= c->tracks[i].weight;
	}
	return (uint8_t)(p < 1 ? 1 : p);
}

struct runner {
	struct vg_tracks	*owner;
	size_t			idx;
	pid_t			pid;
	int			timed_out;
	ev_timer		every, timeout;
	ev_child		child;
};

struct vg_tracks {
	struct ev_loop		*loop;
	const struct vg_conf	*conf;
	struct vg_track_state	st[VG_MAX_TRACKS];
	struct runner		r[VG_MAX_TRACKS];
	void			(*changed)(void *);
	void			*arg;
};

static void
run_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct runner *r = w->data;
	const struct vg_conf_track *t = &r->owner->conf->tracks[r->idx];
	pid_t pid;
	int fd;

	(void)revents;
	if (r->pid > 0)
		return;			/* the last one is still running */
	if ((pid = fork()) == -1) {
		log_warn("track %s: fork", t->name);
		return;
	}
	if (pid == 0) {
		setpgid(0, 0);
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, 0);
			dup2(fd, 1);
			if (fd > 1)
				close(fd);
		}
		(void)close_range(3, ~0U, 0);
		unsetenv("NOTIFY_SOCKET");
		unsetenv("WATCHDOG_USEC");
		unsetenv("WATCHDOG_PID");
		execl("/bin/sh", "sh", "-c", t->command, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	r->pid = pid;
	r->timed_out = 0;
	ev_child_set(&r->child, pid, 0);
	ev_child_start(loop, &r->child);
	ev_timer_set(&r->timeout, (double)t->timeout / 1e9, 0.);
	ev_timer_start(loop, &r->timeout);
}

static void
timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct runner *r = w->data;

	(void)loop;
	(void)revents;
	/* its exit may be in the same loop round, just not handled yet */
	if (r->pid > 0 && !vg_child_exited(r->pid)) {
		r->timed_out = 1;
		kill(-r->pid, SIGKILL);
	}
}

static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct runner *r = w->data;
	struct vg_tracks *ts = r->owner;
	const struct vg_conf_track *t = &ts->conf->tracks[r->idx];
	struct vg_track_state *st = &ts->st[r->idx];
	int ok = !r->timed_out && WIFEXITED(w->rstatus) &&
	    WEXITSTATUS(w->rstatus) == 0;

	(void)revents;
	ev_child_stop(loop, w);
	ev_timer_stop(loop, &r->timeout);
	kill(-r->pid, SIGKILL);		/* what it left behind */
	r->pid = 0;
	if (r->timed_out)
		st->timeouts++;
	if (vg_track_note(st, ok, t->fall, t->rise)) {
		log_info("track %s is %s%s", t->name, st->up ? "up" : "down",
		    st->up ? "" : t->weight == 0 ? ": this node is not eligible" :
		    ": the effective priority goes down");
		ts->changed(ts->arg);
	}
}

struct vg_tracks *
vg_tracks_new(struct ev_loop *loop, const struct vg_conf *c,
    void (*changed)(void *), void *arg)
{
	struct vg_tracks *ts = calloc(1, sizeof(*ts));
	size_t i;

	if (ts == NULL)
		return NULL;
	ts->loop = loop;
	ts->conf = c;
	ts->changed = changed;
	ts->arg = arg;
	for (i = 0; i < c->n_tracks; i++) {
		struct runner *r = &ts->r[i];

		ts->st[i].up = 1;	/* innocent until fall failures */
		r->owner = ts;
		r->idx = i;
		ev_timer_init(&r->every, run_cb, 0.,
		    (double)c->tracks[i].interval / 1e9);
		ev_init(&r->timeout, timeout_cb);
		ev_child_init(&r->child, child_cb, 0, 0);
		r->every.data = r->timeout.data = r->child.data = r;
		ev_timer_start(loop, &r->every);
	}
	return ts;
}

void
vg_tracks_free(struct vg_tracks *ts)
{
	size_t i;

	if (ts == NULL)
		return;
	for (i = 0; i < ts->conf->n_tracks; i++) {
		struct runner *r = &ts->r[i];

		ev_timer_stop(ts->loop, &r->every);
		ev_timer_stop(ts->loop, &r->timeout);
		ev_child_stop(ts->loop, &r->child);
		if (r->pid > 0) {
			kill(-r->pid, SIGKILL);
			(void)waitpid(r->pid, NULL, 0);
		}
	}
	free(ts);
}

const struct vg_track_state *
vg_tracks_state(const struct vg_tracks *ts)
{
	return ts->st;
}
