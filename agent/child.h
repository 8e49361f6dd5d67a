/*
 * child: the one runner of the agent's short-lived children (the notify
 * scripts, the track scripts), through posix_spawn(3): the agent runs
 * mlockall'd at real-time priority, and a fork() of it cost 0.55-0.7 ms
 * plus a ~50 us copy-on-write fault for every page it wrote afterwards.
 * One child at a time per struct vg_child.  In the child, before exec: its own
 * process group, signals unblocked, stdin from /dev/null, stdout and stderr
 * into a pipe that the loop reads line by line (or stdout to /dev/null and
 * stderr the agent's, when no line callback is given), every other
 * descriptor closed, systemd's variables unset, SCHED_OTHER (the agent's
 * SCHED_RESET_ON_FORK applies to posix_spawn's clone too).  At its timeout its
 * whole tree gets SIGTERM and, `grace` later, SIGKILL (grace 0: SIGKILL at
 * once): its process group and every descendant, also one that left the
 * group (setsid, setpgid), found through /proc/PID/task/TID/children.  Its
 * exit is seen through ev_child, never by blocking the loop; whatever it
 * left behind is killed with it: its group, and (with the agent a child
 * subreaper, vg_child_subreaper) every descendant that lost its parent and
 * so came back to the agent.
 *
 * The spawn itself runs on one long-lived spawner thread (SCHED_OTHER,
 * every signal blocked): posix_spawn's clone(CLONE_VFORK) makes its caller
 * wait until the child has exec'd (0.5 ms on a quiet machine, 5-10 ms under
 * load), and that wait is the thread's, not the loop's.  The loop only
 * copies the job and queues it; the thread spawns, puts the pid on a done
 * list and tells the loop through an eventfd; the loop then starts the
 * timeout and the output watcher.  A child counts as running from the
 * queueing on, so one-at-a-time users (hooks) keep their order.  libev's
 * SIGCHLD handler reaps every child on the loop; an exit reaped before the
 * loop heard the pid is kept (any_cb) and claimed when it does.
 */
#ifndef VG_CHILD_H
#define VG_CHILD_H

#include <ev.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

#include "clock.h"

#define VG_CHILD_LINE	512	/* a longer output line is cut in pieces */

struct vg_child_ops {
	/* a line of its output (no newline); NULL: output not read */
	void	(*line)(void *arg, const char *);
	/* the timeout passed and it has not exited: it is being killed */
	void	(*expired)(void *arg, pid_t);
	/* it exited and was reaped (wait status); killed: after a timeout */
	void	(*done)(void *arg, int status, int killed);
	/* it could not be started (exec's errno: a missing path, no
	 * permission; EAGAIN...); NULL: done with exit status 127 instead */
	void	(*failed)(void *arg, int err);
};

enum vg_child_job {
	VG_CHILD_IDLE,		/* no spawn under way */
	VG_CHILD_QUEUED,	/* for the spawner thread */
	VG_CHILD_SPAWNING,	/* the thread is in posix_spawn */
	VG_CHILD_SPAWNED,	/* its answer waits for the loop */
};

struct vg_child {
	struct vg_child		*next;		/* the running ones, linked */
	struct ev_loop		*loop;
	const struct vg_child_ops *ops;
	void			*arg;
	pid_t			pid;		/* 0: none running (yet) */
	int			killed;		/* 1 SIGTERM sent, 2 SIGKILL */
	vg_ns			grace, timeout;
	ev_timer		timer;
	ev_io			out;
	int			out_fd;
	char			line[VG_CHILD_LINE];
	size_t			linelen;
	int			queued;		/* the loop's: a job out */
	/* the spawner thread's job: under its mutex while queued */
	enum vg_child_job	jstate;
	struct vg_child		*jnext;		/* in its queue or done list */
	char			*jpath, **jargv, **jenvp;	/* copies */
	int			jout;		/* the pipe's write end, or -1 */
	pid_t			jpid;
	int			jerr;
};

/*
 * Makes the agent a child subreaper (PR_SET_CHILD_SUBREAPER): a script's
 * descendant whose parent dies comes back to the agent instead of init,
 * so that it can be found and killed (libev's SIGCHLD handler reaps it).
 * spare(arg, pid): is pid one of the agent's other children (the keeper),
 * never to be killed?  Without this call nothing is swept.  0, or -1 with
 * errno.
 */
int	vg_child_subreaper(int (*spare)(void *, pid_t), void *arg);
/*
 * Kills every child of the agent that is neither a running script nor
 * spared, and everything under it (SIGKILL, in rounds until no new pid
 * shows); returns how many pids it signalled.  Called at every script's
 * exit, timeout and stop.
 */
size_t	vg_child_sweep(void);
/* sig to pid's group and every descendant of pid (not pid itself unless
 * it leads the group); returns how many descendants it signalled. */
size_t	vg_child_kill_tree(pid_t, int sig);

/* Has this child exited (not yet reaped)?  A timeout that fires in the
 * same loop round as the exit must not count as one. */
int	vg_child_exited(pid_t);

void	vg_child_init(struct vg_child *, struct ev_loop *,
	    const struct vg_child_ops *, void *arg);
/*
 * Runs path with argv, in an environment of the agent's (minus systemd's
 * variables) plus env_extra ("KEY=value", NULL-terminated; NULL: none),
 * through posix_spawn on the spawner thread: no fork, so no copy of the
 * agent's page tables and no copy-on-write faults in the agent
 * afterwards, and no wait for the exec on the loop.  Everything is copied:
 * the caller's strings may go at once.  0 (queued: running from now on,
 * pid still 0 until the loop hears it), or -1 with errno (nothing is
 * running then: no memory, no pipe, busy).  An exec that fails (a missing
 * path, no permission) comes later, as ops->failed with exec's errno.
 * The timeout counts from the spawn.
 */
int	vg_child_spawn(struct vg_child *, const char *path, char *const argv[],
	    char *const env_extra[], vg_ns timeout, vg_ns grace);
int	vg_child_running(const struct vg_child *);
/* Kills a running child's tree and reaps it (a spawn under way is waited
 * out first, a queued one dropped); done and failed are not called. */
void	vg_child_stop(struct vg_child *);
/* Joins the spawner thread (at exit, after every vg_child_stop). */
void	vg_child_shutdown(void);

/* A mutex that the loop (real-time) shares with a SCHED_OTHER thread,
 * initialised with priority inheritance: 0, or an errno. */
int	vg_mutex_pi(pthread_mutex_t *);

#endif
