/*
 * stallprobe: how long this machine's CPUs go without running anything.
 * One thread pinned to each online CPU, SCHED_FIFO at a high priority
 * (so only the kernel or the host can hold it up), wakes on an absolute
 * CLOCK_MONOTONIC timer every period and records how late it woke.  A
 * stretch where every CPU woke late at once is a stop of the whole
 * machine (on a VM: the host ran none of its virtual CPUs); one CPU late
 * alone is that CPU's stop.  The bench (issue9.py) reads the output and
 * sets each lease lapse beside the stalls around it.
 *
 *	stallprobe SECONDS PERIOD_US PRIORITY OUTFILE
 *
 * Ends by itself after SECONDS, or at SIGTERM/SIGINT; then writes
 * OUTFILE: one "hist CPU n..." line per CPU (lateness buckets, see
 * bucket_ms), one "stall CPU FROM_NS TO_NS" line per wake-up late by 1 ms
 * or more (CLOCK_MONOTONIC: when it should have woken, when it did), and
 * "offset NS" (CLOCK_REALTIME minus CLOCK_MONOTONIC, to place log lines).
 * A benchmark tool, not part of vigil; RLIMIT_RTTIME guards the real-time
 * threads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_CPUS	64
#define MAX_STALLS	200000
#define NBUCKETS	10

static const double bucket_ms[NBUCKETS - 1] = {
	0.1, 0.5, 1, 2, 5, 10, 20, 50, 100
};

struct stall {
	int64_t	from, to;
};

struct probe {
	int		cpu;
	int		prio;
	int		rt;		/* SCHED_FIFO granted */
	uint64_t	hist[NBUCKETS];
	struct stall	*stalls;
	size_t		nstalls;
	pthread_t	tid;
};

static volatile sig_atomic_t stop;
static int64_t end_at, period_ns;

static int64_t
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void *
run(void *arg)
{
	struct probe *p = arg;
	struct sched_param sp = { .sched_priority = p->prio };
	struct timespec ts;
	cpu_set_t set;
	int64_t next, late;
	int b;

	CPU_ZERO(&set);
	CPU_SET(p->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		fprintf(stderr, "stallprobe: cpu %d: affinity refused\n",
		    p->cpu);
	p->rt = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
	next = mono();
	while (!stop && next < end_at) {
		next += period_ns;
		ts.tv_sec = next / 1000000000;
		ts.tv_nsec = next % 1000000000;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
		    NULL) == EINTR && !stop)
			;
		late = mono() - next;
		for (b = 0; b < NBUCKETS - 1; b++)
			if (late < (int64_t)(bucket_ms[b] * 1e6))
				break;
		p->hist[b]++;
		if (late >= 1000000 && p->nstalls < MAX_STALLS) {
			p->stalls[p->nstalls].from = next;
			p->stalls[p->nstalls].to = next + late;
			p->nstalls++;
		}
		if (late >= period_ns)		/* no burst of catch-up wakes */
			next += late / period_ns * period_ns;
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	static struct probe probes[MAX_CPUS];
	struct rlimit rl = { .rlim_cur = 50000, .rlim_max = 50000 };
	struct timespec rt, mt;
	struct sigaction sa;
	long ncpu;
	FILE *out;
	int i, j;

	if (argc != 5) {
		fprintf(stderr, "usage: stallprobe SECONDS PERIOD_US PRIORITY "
		    "OUTFILE\n");
		return 2;
	}
	period_ns = atol(argv[2]) * 1000;
	if (atof(argv[1]) <= 0 || period_ns < 100000 || atoi(argv[3]) < 1 ||
	    atoi(argv[3]) > 99) {
		fprintf(stderr, "stallprobe: bad arguments\n");
		return 2;
	}
	if (setrlimit(RLIMIT_RTTIME, &rl) != 0) {
		perror("stallprobe: RLIMIT_RTTIME");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 1 || ncpu > MAX_CPUS)
		ncpu = ncpu < 1 ? 1 : MAX_CPUS;
	end_at = mono() + (int64_t)(atof(argv[1]) * 1e9);
	for (i = 0; i < ncpu; i++) {
		probes[i].cpu = i;
		probes[i].prio = atoi(argv[3]);
		probes[i].stalls = calloc(MAX_STALLS, sizeof(struct stall));
		if (probes[i].stalls == NULL ||
		    pthread_create(&probes[i].tid, NULL, run, &probes[i]) != 0) {
			fprintf(stderr, "stallprobe: cannot start cpu %d\n", i);
			return 1;
		}
	}
	for (i = 0; i < ncpu; i++)
		pthread_join(probes[i].tid, NULL);
	out = fopen(argv[4], "w");
	if (out == NULL) {
		perror(argv[4]);
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	fprintf(out, "offset %lld\n", (long long)(((int64_t)rt.tv_sec -
	    mt.tv_sec) * 1000000000 + rt.tv_nsec - mt.tv_nsec));
	fprintf(out, "buckets_ms");
	for (j = 0; j < NBUCKETS - 1; j++)
		fprintf(out, " %g", bucket_ms[j]);
	fprintf(out, "\n");
	for (i = 0; i < ncpu; i++) {
		fprintf(out, "hist %d %s", i, probes[i].rt ? "fifo" : "other");
		for (j = 0; j < NBUCKETS; j++)
			fprintf(out, " %llu", (unsigned long long)probes[i].hist[j]);
		fprintf(out, "\n");
	}
	for (i = 0; i < ncpu; i++)
		for (size_t k = 0; k < probes[i].nstalls; k++)
			fprintf(out, "stall %d %lld %lld\n", i,
			    (long long)probes[i].stalls[k].from,
			    (long long)probes[i].stalls[k].to);
	return fclose(out) == 0 ? 0 : 1;
}
