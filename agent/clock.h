/*
 * clock: the time type of the whole agent and the one place that reads the
 * clock.  Every timer, deadline and lease is a vg_ns on CLOCK_MONOTONIC; the
 * pure modules (peer, election) are handed "now" and never call vg_now().
 */
#ifndef VG_CLOCK_H
#define VG_CLOCK_H

#include <stdint.h>

typedef int64_t vg_ns;			/* nanoseconds, CLOCK_MONOTONIC */

#define VG_NS_PER_US	1000LL
#define VG_NS_PER_MS	1000000LL
#define VG_NS_PER_S	1000000000LL
#define VG_MS(x)	((vg_ns)(x) * VG_NS_PER_MS)
#define VG_NS_NEVER	INT64_MAX

vg_ns		vg_now(void);		/* CLOCK_MONOTONIC */
int64_t		vg_realtime_ms(void);	/* wall clock, for logs and incarnations */

#endif
