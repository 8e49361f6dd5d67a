/*
 * wakecost: what one wake-up and one system call cost on this machine, the
 * floor under an idle agent's CPU (docs/performance.md, "Idle wake-ups per
 * process").  Not built by make:
 *
 *	cc -O2 -o /tmp/wakecost tests/bench/wakecost.c && /tmp/wakecost [rt]
 *
 * For each period it sleeps in epoll_wait on a periodic timerfd (a
 * wake-up, then the read that clears it, as a bare event loop does) for
 * 3 s and prints its own CPU time per wake-up (schedstat); then the cost
 * of a few system calls that return at once, 200,000 each.  With an
 * argument the wake-ups run at SCHED_RR of that priority (RLIMIT_RTTIME
 * 10 ms first, as vigild does; the system calls, which never sleep, at
 * SCHED_OTHER), otherwise all at SCHED_OTHER.  Each figure is
 * this process's own; run it on a quiet machine, and say the load.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define CALLS	200000

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* This thread's run time so far, in ns (schedstat's first field). */
static unsigned long long
run_ns(void)
{
	unsigned long long ns = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

static void
wakeups(long period_us, double secs)
{
	struct itimerspec its;
	struct epoll_event ev, out[4];
	unsigned long long r0, r1;
	uint64_t ticks;
	long i, n = (long)(secs * 1e6 / (double)period_us);
	int tfd, ep;

	tfd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (tfd == -1 || ep == -1) {
		perror("timerfd/epoll");
		exit(1);
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) == -1) {
		perror("epoll_ctl");
		exit(1);
	}
	memset(&its, 0, sizeof(its));
	its.it_interval.tv_sec = period_us / 1000000;
	its.it_interval.tv_nsec = (period_us % 1000000) * 1000;
	its.it_value = its.it_interval;
	timerfd_settime(tfd, 0, &its, NULL);
	r0 = run_ns();
	for (i = 0; i < n; i++) {
		if (epoll_wait(ep, out, 4, 1000) < 1)
			break;
		if (read(tfd, &ticks, sizeof(ticks)) == -1)
			ticks = 0;
	}
	r1 = run_ns();
	close(ep);
	close(tfd);
	printf("wake-up every %5ld us: %6.1f us of CPU per wake-up "
	    "(%.2f %% of a CPU, %ld wake-ups)\n", period_us,
	    (double)(r1 - r0) / 1e3 / (double)(i ? i : 1),
	    (double)(r1 - r0) / 1e9 / secs * 100, i);
}

static void
syscalls(void)
{
	struct itimerspec its;
	struct epoll_event out[4];
	struct timespec ts;
	uint64_t ticks;
	double t0;
	int i, tfd, ep;

	tfd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	memset(&its, 0, sizeof(its));

	t0 = mono();
	for (i = 0; i < CALLS; i++)
		(void)syscall(SYS_getppid);
	printf("getppid:                   %5.2f us a call\n",
	    (mono() - t0) / CALLS * 1e6);
	t0 = mono();
	for (i = 0; i < CALLS; i++) {
		its.it_value.tv_sec = 1000000 + i;	/* never due */
		(void)timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
	}
	printf("timerfd_settime:           %5.2f us a call\n",
	    (mono() - t0) / CALLS * 1e6);
	t0 = mono();
	for (i = 0; i < CALLS; i++)
		if (read(tfd, &ticks, sizeof(ticks)) == -1)
			ticks = 0;
	printf("read of a timerfd (EAGAIN): %5.2f us a call\n",
	    (mono() - t0) / CALLS * 1e6);
	t0 = mono();
	for (i = 0; i < CALLS; i++)
		(void)epoll_wait(ep, out, 4, 0);
	printf("epoll_wait, nothing ready:  %5.2f us a call\n",
	    (mono() - t0) / CALLS * 1e6);
	t0 = mono();
	for (i = 0; i < CALLS; i++)
		clock_gettime(CLOCK_BOOTTIME, &ts);
	printf("clock_gettime (vDSO):       %5.3f us a call\n",
	    (mono() - t0) / CALLS * 1e6);
	close(ep);
	close(tfd);
}

int
main(int argc, char *argv[])
{
	static const long periods[] = { 20000, 10000, 5000, 3333, 1000 };
	struct sched_param sp;
	struct rlimit rl = { 10000, 10000 };	/* us: as vigild's agent */
	size_t i;

	if (argc > 1) {
		memset(&sp, 0, sizeof(sp));
		sp.sched_priority = atoi(argv[1]);
		if (setrlimit(RLIMIT_RTTIME, &rl) == -1 ||
		    sched_setscheduler(0, SCHED_RR, &sp) == -1) {
			perror("SCHED_RR");
			return 1;
		}
	}
	for (i = 0; i < sizeof(periods) / sizeof(periods[0]); i++)
		wakeups(periods[i], 3.0);
	/* the calls in a row never sleep: RLIMIT_RTTIME would end them */
	memset(&sp, 0, sizeof(sp));
	(void)sched_setscheduler(0, SCHED_OTHER, &sp);
	syscalls();
	return 0;
}
