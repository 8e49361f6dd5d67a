/*
 * track: fall/rise counting and the schedule of the checks.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "track.h"

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
vg_track_priority(const struct vg_conf *c, size_t g,
    const struct vg_track_state *st, int *fault)
{
	int p = c->nodes[c->self].priority;
	uint32_t mask = UINT32_MAX;
	size_t i;

	*fault = 0;
	if (c->groups_line != 0 && g < c->n_groups) {
		if ((p = c->groups[g].priority[c->self]) == 0)
			return 0;
		mask = c->groups[g].tracks;
	}
	for (i = 0; i < c->n_tracks; i++) {
		if (st == NULL || st[i].up || (mask & (UINT32_C(1) << i)) == 0)
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
	ev_timer		every;
	struct vg_child		child;
};

struct vg_tracks {
	struct ev_loop		*loop;
	const struct vg_conf	*conf;
	struct vg_track_state	st[VG_MAX_TRACKS];
	struct runner		r[VG_MAX_TRACKS];
	void			(*changed)(void *);
	void			*arg;
};

static void	exited(void *, int, int);

static void
run_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct runner *r = w->data;
	const struct vg_conf_track *t = &r->owner->conf->tracks[r->idx];
	char *argv[] = { "sh", "-c", (char *)(uintptr_t)t->command, NULL };

	(void)loop;
	(void)revents;
	if (vg_child_running(&r->child))
		return;			/* the last one is still running */
	/* killed (SIGKILL, its group) at its timeout: a failure */
	if (vg_child_spawn(&r->child, "/bin/sh", argv, NULL, t->timeout,
	    0) == -1) {
		log_warn("track %s: cannot start /bin/sh", t->name);
		/* a failed exec is a failed check (exit 127, as it was);
		 * no memory or processes for now is not the check's fault */
		if (errno != EAGAIN && errno != ENOMEM)
			exited(r, 127 << 8, 0);
	}
}

static void
exited(void *arg, int status, int timed_out)
{
	struct runner *r = arg;
	struct vg_tracks *ts = r->owner;
	const struct vg_conf_track *t = &ts->conf->tracks[r->idx];
	struct vg_track_state *st = &ts->st[r->idx];
	int ok = !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;

	if (timed_out)
		st->timeouts++;
	if (vg_track_note(st, ok, t->fall, t->rise)) {
		log_info("track %s is %s%s", t->name, st->up ? "up" : "down",
		    st->up ? "" : t->weight == 0 ? ": this node is not eligible" :
		    ": the effective priority goes down");
		ts->changed(ts->arg);
	}
}

/* its exec failed on the spawner thread: as a failed spawn above */
static void
failed(void *arg, int err)
{
	struct runner *r = arg;

	log_warnx("track %s: cannot start /bin/sh: %s",
	    r->owner->conf->tracks[r->idx].name, strerror(err));
	if (err != EAGAIN && err != ENOMEM)
		exited(r, 127 << 8, 0);
}

/* stdout to /dev/null, stderr the agent's: a check's output is not read */
static const struct vg_child_ops check_ops = { NULL, NULL, exited, failed };

struct vg_tracks *
vg_tracks_new(struct ev_loop *loop, const struct vg_conf *c,
    void (*changed)(void *), void *arg, const struct vg_tracks *prev)
{
	struct vg_tracks *ts = calloc(1, sizeof(*ts));
	size_t i, j;

	if (ts == NULL)
		return NULL;
	ts->loop = loop;
	ts->conf = c;
	ts->changed = changed;
	ts->arg = arg;
	for (i = 0; i < c->n_tracks; i++) {
		struct runner *r = &ts->r[i];

		ts->st[i].up = 1;	/* innocent until fall failures */
		/* ... unless it was found guilty before a reload: a node in
		 * fault by a check left fault at every reload until the check
		 * had failed `fall` times again */
		for (j = 0; prev != NULL && j < prev->conf->n_tracks; j++)
			if (strcmp(prev->conf->tracks[j].name,
			    c->tracks[i].name) == 0 && vg_conf_track_same(
			    &prev->conf->tracks[j], &c->tracks[i]))
				ts->st[i] = prev->st[j];
		r->owner = ts;
		r->idx = i;
		ev_timer_init(&r->every, run_cb, 0.,
		    (double)c->tracks[i].interval / 1e9);
		vg_child_init(&r->child, loop, &check_ops, r);
		r->every.data = r;
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
		vg_child_stop(&r->child);
	}
	free(ts);
}

const struct vg_track_state *
vg_tracks_state(const struct vg_tracks *ts)
{
	return ts->st;
}
