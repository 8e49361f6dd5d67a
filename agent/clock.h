/*
 * clock: the time type of the whole agent and the one place that reads the
 * clock.  Every timer, deadline and lease is a vg_ns on CLOCK_BOOTTIME: it
 * counts a suspend of the host (CLOCK_MONOTONIC stops then, and a lease
 * measured on it would look valid after a resume for as long as it had
 * left before).  The pure modules (peer, election) are handed "now" and
 * never call vg_now().
 */
#ifndef VG_CLOCK_H
#define VG_CLOCK_H

#include <stdint.h>
#include <time.h>

typedef int64_t vg_ns;			/* nanoseconds, CLOCK_MONOTONIC */

#define VG_NS_PER_US	1000LL
#define VG_NS_PER_MS	1000000LL
#define VG_NS_PER_S	1000000000LL
#define VG_MS(x)	((vg_ns)(x) * VG_NS_PER_MS)
#define VG_NS_NEVER	INT64_MAX

#define VG_CLOCK	CLOCK_BOOTTIME	/* of vg_now(), and the keeper's timer */

vg_ns		vg_now(void);		/* VG_CLOCK */
vg_ns		vg_monotonic(void);	/* CLOCK_MONOTONIC: for systemd only */
int64_t		vg_realtime_ms(void);	/* wall clock, for logs and incarnations */
int64_t		vg_realtime_ns(void);	/* wall clock, lastsend's second witness */

#endif
