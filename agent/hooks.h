/*
 * hooks: what the services behind the VIP follow.  On every state change the
 * state file is rewritten atomically (temp file, fsync, rename; KEY=value
 * lines a shell can source) by one long-lived writer thread, so that its
 * fsync never stalls the loop and no process is made for it: the loop
 * renders the text while the thread is idle and hears the result through
 * an eventfd.  The notify scripts are queued: notify_<state> first, then
 * notify (every change).  The write goes before the scripts and writes the
 * latest state (one running past script_timeout is logged, and the scripts
 * go on); then the scripts run one at a time, in order, spawned (never
 * forked), each with script_timeout (SIGTERM, then SIGKILL a second later),
 * never blocking the event loop (ev_child); their output goes to the log.
 *
 * The queue (vg_hookq) is pure, for the unit tests; the children run
 * through child.c.
 */
#ifndef VG_HOOKS_H
#define VG_HOOKS_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "clock.h"
#include "conf.h"

/* One state change, as the scripts and the state file see it. */
struct vg_hook_event {
	uint64_t	seq;		/* 1, 2, ...: every change of this agent */
	uint8_t		state, prev;	/* enum vg_state */
	uint64_t	term;
	uint16_t	active_id;
	char		active[VG_NAME_MAX];	/* "" when none */
	char		reason[64];
	int64_t		time_ms;	/* wall clock, for the scripts */
};

enum vg_hook_script {
	VG_HOOK_STATE,		/* notify_<state> */
	VG_HOOK_ALL,		/* notify */
};

struct vg_hook_job {
	struct vg_hook_event	ev;
	enum vg_hook_script	which;
};

#define VG_HOOKQ_MAX	4096

struct vg_hookq {
	struct vg_hook_job	job[VG_HOOKQ_MAX];
	size_t			head, n;
	uint64_t		dropped;	/* a burst beyond VG_HOOKQ_MAX */
};

/* Queues the scripts of one change in their order; returns how many. */
size_t	vg_hookq_push(struct vg_hookq *, const struct vg_conf *,
	    const struct vg_hook_event *);
int	vg_hookq_pop(struct vg_hookq *, struct vg_hook_job *);
/* The script path a job runs ("" if none is configured). */
const char *vg_hook_path(const struct vg_conf *, const struct vg_hook_job *);

/* The state file's text for an event (pure). */
size_t	vg_hook_state_text(const struct vg_conf *, const struct vg_hook_event *,
	    char *buf, size_t len);

struct vg_hooks_stats {
	uint64_t	runs, failures, timeouts, spawn_errors, state_writes,
			state_write_errors;
};

struct vg_hooks;

/* done(arg, job, path, wait status, timed out) after every script run */
typedef void (*vg_hooks_done)(void *, const struct vg_hook_job *, const char *,
    int, int);

struct vg_hooks	*vg_hooks_new(struct ev_loop *, const struct vg_conf *,
		    vg_hooks_done, void *arg);
/* After a reload: the new config (scripts, timeout, state file). */
void		 vg_hooks_set_conf(struct vg_hooks *, const struct vg_conf *);
/* Writes the state file, queues the scripts, starts the next if idle. */
void		 vg_hooks_state_change(struct vg_hooks *,
		    const struct vg_hook_event *);
const struct vg_hooks_stats *vg_hooks_stats(const struct vg_hooks *);
size_t		 vg_hooks_pending(const struct vg_hooks *);
/* Kills a running script (its process group), lets a write under way
 * finish, joins the writer thread and frees. */
void		 vg_hooks_free(struct vg_hooks *);

#endif
