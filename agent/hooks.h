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
 * A change is one VIP group's.  A file without `groups` (one implicit
 * group, "default") has one state file, state_file, as before groups.
 * With groups, each group has its own, state_file.NAME, with its name, its
 * state and its VIPs only; the writer keeps the latest pending state of
 * each group and writes them in turn, so that one group's change never
 * hides another's; a script waits for its own group's file only.
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
	uint8_t		group;		/* index in conf->groups */
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
	uint64_t		dropped;	/* a burst beyond VG_HOOKQ_MAX:
						 * the oldest jobs */
};

/* Queues the scripts of one change in their order; returns how many. */
size_t	vg_hookq_push(struct vg_hookq *, const struct vg_conf *,
	    const struct vg_hook_event *);
int	vg_hookq_pop(struct vg_hookq *, struct vg_hook_job *);
/* The script path a job runs ("" if none is configured). */
const char *vg_hook_path(const struct vg_conf *, const struct vg_hook_job *);

/* The state file's text for an event (pure): its group's; 0 if it does
 * not fit or the group is not in the config. */
size_t	vg_hook_state_text(const struct vg_conf *, const struct vg_hook_event *,
	    char *buf, size_t len);
/* Group g's state file: state_file without groups, state_file.NAME with;
 * -1 if it does not fit (or g is not in the config, or no state_file). */
int	vg_hook_state_path(const struct vg_conf *, size_t g, char *buf,
	    size_t len);
/* Room for any state file path of a valid config: state_file, '.', the
 * longest name, the NUL (each of the two sizes counts its own NUL). */
#define VG_HOOK_PATH_MAX	(VG_PATH_MAX + VG_GROUP_NAME_MAX)

#define VG_HOOK_ENV	14

/* A script's VIGIL_* variables ("KEY=value" each, NULL-terminated), built
 * in the agent from its job (pure); vg_hook_env_free frees them. */
struct vg_hook_env {
	char	*v[VG_HOOK_ENV + 1];
	char	term[32];	/* the third argument */
	char	*buf;
};
int	vg_hook_env(const struct vg_conf *, const struct vg_hook_job *,
	    struct vg_hook_env *);
void	vg_hook_env_free(struct vg_hook_env *);

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
