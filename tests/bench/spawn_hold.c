/*
 * spawn_hold: how long one vg_child_spawn() holds the agent's loop (issue 9,
 * item 1), the figure of docs/performance.md ("Spawning a script").  Runs
 * N children (/bin/true) one after the other through agent/child.c on a
 * libev loop, as the agent does: SCHED_RR|SCHED_RESET_ON_FORK priority 20
 * (RLIMIT_RTTIME 200 ms soft) when allowed, so that the child runs
 * SCHED_OTHER; prints the percentiles of the time the call took on the
 * loop's thread.  Not built by make; the command is in performance.md:
 *
 *   cc -std=c11 -D_GNU_SOURCE -O2 -Iagent tests/bench/spawn_hold.c \
 *       agent/child.c -lev -lpthread -o /tmp/spawn_hold
 *   /tmp/spawn_hold 300
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "child.h"

#define MAX_RUNS	10000

static int	finished;

static void
on_done(void *arg, int status, int killed)
{
	(void)arg;
	(void)status;
	(void)killed;
	finished = 1;
}

static const struct vg_child_ops ops = { .done = on_done };

static double
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	char *cargv[] = { "true", NULL };
	struct sched_param sp = { .sched_priority = 20 };
	struct ev_loop *loop = ev_default_loop(0);
	struct rlimit rt = { 200000, 1000000 };
	static double held[MAX_RUNS];
	struct vg_child c;
	int n = argc > 1 ? atoi(argv[1]) : 300, i, k, rr;
	double t0;

	if (n < 1 || n > MAX_RUNS)
		n = 300;
	rr = setrlimit(RLIMIT_RTTIME, &rt) == 0 &&
	    sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp) == 0;
	vg_child_init(&c, loop, &ops, NULL);
	for (i = 0; i < n; i++) {
		finished = 0;
		t0 = mono_us();
		if (vg_child_spawn(&c, "/bin/true", cargv, NULL, VG_MS(5000),
		    0) == -1) {
			perror("vg_child_spawn");
			return 1;
		}
		held[i] = mono_us() - t0;
		for (k = 0; k < 100000 && !finished; k++)
			ev_run(loop, EVRUN_ONCE);
	}
	qsort(held, (size_t)n, sizeof(held[0]), cmp);
	printf("%d spawns (%s): the call held the loop median %.1f us, "
	    "p90 %.1f us, p99 %.1f us, max %.1f us\n", n,
	    rr ? "SCHED_RR 20" : "SCHED_OTHER", held[n / 2],
	    held[n * 9 / 10], held[n * 99 / 100], held[n - 1]);
	return 0;
}
