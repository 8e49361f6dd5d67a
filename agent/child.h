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
 */
#ifndef VG_CHILD_H
#define VG_CHILD_H

#include <ev.h>
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
};

struct vg_child {
	struct vg_child		*next;		/* the running ones, linked */
	struct ev_loop		*loop;
	const struct vg_child_ops *ops;
	void			*arg;
	pid_t			pid;		/* 0: none running */
	int			killed;		/* 1 SIGTERM sent, 2 SIGKILL */
	vg_ns			grace;
	ev_child		cw;
	ev_timer		timer;
	ev_io			out;
	int			out_fd;
	char			line[VG_CHILD_LINE];
	size_t			linelen;
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
 * through posix_spawn: no fork, so no copy of the agent's page tables and
 * no copy-on-write faults in the agent afterwards.  0, or -1 with errno
 * (nothing is running then); an exec that fails (a missing path, no
 * permission) is such a -1, with exec's errno.
 */
int	vg_child_spawn(struct vg_child *, const char *path, char *const argv[],
	    char *const env_extra[], vg_ns timeout, vg_ns grace);
int	vg_child_running(const struct vg_child *);
/* Kills a running child's tree and reaps it; done is not called. */
void	vg_child_stop(struct vg_child *);

#endif
