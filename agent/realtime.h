/*
 * realtime: real-time scheduling for the agent and the keeper, as Corosync
 * does it: a real-time policy (the agent SCHED_RR, the keeper SCHED_FIFO
 * one step above it), memory locked, and RLIMIT_RTTIME as the guard
 * against a runaway loop (on a 2-core machine a real-time loop that never
 * sleeps freezes everything).  At the soft limit SIGXCPU drops the process
 * back to SCHED_OTHER and says so; at the hard limit the kernel kills it.
 * A refusal is never silent: the outcome is kept for logs and status.
 */
#ifndef VG_REALTIME_H
#define VG_REALTIME_H

#include <sched.h>		/* SCHED_RR, SCHED_FIFO */
#include <signal.h>

#define VG_RT_PRIO_MAX	98	/* the keeper runs at priority + 1 */
#define VG_RT_RTTIME_SOFT_US	200000	/* 200 ms without sleeping: SIGXCPU */
#define VG_RT_RTTIME_HARD_US	1000000	/* 1 s: the kernel's SIGKILL */

struct vg_rt {
	int		policy;		/* SCHED_RR, SCHED_FIFO; SCHED_OTHER if off */
	int		priority;	/* asked for; 0 = off */
	int		realtime;	/* granted */
	int		locked;		/* mlockall granted */
	char		why[128];	/* why not, for logs and status */
};

/*
 * Ask for `policy` at `priority` (0: stay SCHED_OTHER) with memory locked.
 * RLIMIT_RTTIME is set first, children do not inherit the policy
 * (SCHED_RESET_ON_FORK).  Returns 0 if everything asked for was granted,
 * -1 if not (s->why says what was refused); the process runs either way.
 */
int	vg_rt_setup(struct vg_rt *, int policy, int priority);

/* The runaway guard fired (SIGXCPU): the process is SCHED_OTHER now. */
int	vg_rt_demoted(void);

const char *vg_rt_policy_name(int policy);

#endif
