/*
 * clock: reads CLOCK_BOOTTIME (timers, deadlines, leases), CLOCK_MONOTONIC
 * (only what systemd wants in it) and CLOCK_REALTIME (logs, the floor of
 * the incarnation number, lastsend's second witness).  Nothing else in the
 * agent reads a clock.
 */
#include <time.h>

#include "clock.h"

vg_ns
vg_now(void)
{
	struct timespec ts;

	clock_gettime(VG_CLOCK, &ts);
	return (vg_ns)ts.tv_sec * VG_NS_PER_S + ts.tv_nsec;
}

vg_ns
vg_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (vg_ns)ts.tv_sec * VG_NS_PER_S + ts.tv_nsec;
}

int64_t
vg_realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
vg_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * VG_NS_PER_S + ts.tv_nsec;
}
