/*
 * realtime: real-time policy, locked memory and the RLIMIT_RTTIME guard.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "realtime.h"

static volatile sig_atomic_t demoted;

/* SIGXCPU: RLIMIT_RTTIME's soft limit, a loop that did not sleep for
 * 200 ms.  Back to SCHED_OTHER at once, from the handler: the loop that
 * ran away would never get to an ev_signal watcher. */
static void
on_xcpu(int sig)
{
	struct sched_param sp;
	int saved = errno;

	(void)sig;
	memset(&sp, 0, sizeof(sp));
	(void)sched_setscheduler(0, SCHED_OTHER, &sp);
	demoted = 1;
	errno = saved;
}

int
vg_rt_demoted(void)
{
	return demoted != 0;
}

const char *
vg_rt_policy_name(int policy)
{
	switch (policy) {
	case SCHED_FIFO:
		return "fifo";
	case SCHED_RR:
		return "rr";
	default:
		return "other";
	}
}

static void
why(struct vg_rt *s, const char *what, int e)
{
	size_t n = strlen(s->why);

	snprintf(s->why + n, sizeof(s->why) - n, "%s%s: %s", n ? "; " : "",
	    what, strerror(e));
}

int
vg_rt_setup(struct vg_rt *s, int policy, int priority)
{
	struct sched_param sp;
	struct sigaction sa;
	struct rlimit rl;

	memset(s, 0, sizeof(*s));
	s->policy = SCHED_OTHER;
	s->priority = priority;
	if (priority <= 0)
		return 0;
	if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0)
		s->locked = 1;
	else
		why(s, "mlockall", errno);

	/* the guard first: never real-time without it */
	if (getrlimit(RLIMIT_RTTIME, &rl) == -1) {
		why(s, "getrlimit(RLIMIT_RTTIME)", errno);
		return -1;
	}
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > VG_RT_RTTIME_HARD_US)
		rl.rlim_max = VG_RT_RTTIME_HARD_US;
	/* the soft limit below the hard one, always: at the same value the
	 * kernel's SIGKILL comes with the SIGXCPU that would have demoted us
	 * (an inherited LimitRTTIME= of 200 ms or less) */
	rl.rlim_cur = rl.rlim_max <= VG_RT_RTTIME_SOFT_US ? rl.rlim_max / 2 :
	    VG_RT_RTTIME_SOFT_US;
	if (rl.rlim_cur < 1000) {
		why(s, "RLIMIT_RTTIME's hard limit: too low for a guard",
		    EINVAL);
		return -1;
	}
	if (setrlimit(RLIMIT_RTTIME, &rl) == -1) {
		why(s, "setrlimit(RLIMIT_RTTIME)", errno);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_xcpu;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGXCPU, &sa, NULL) == -1) {
		why(s, "sigaction(SIGXCPU)", errno);
		return -1;
	}

	memset(&sp, 0, sizeof(sp));
	sp.sched_priority = priority;
	if (sched_setscheduler(0, policy | SCHED_RESET_ON_FORK, &sp) == -1) {
		why(s, vg_rt_policy_name(policy), errno);
		return -1;
	}
	s->policy = policy;
	s->realtime = 1;
	return s->locked ? 0 : -1;
}
