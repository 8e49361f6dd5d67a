/*
 * hist: a fixed-bucket histogram of durations (how long one loop iteration
 * took, how late a timer fired), kept as counts and rendered in the
 * Prometheus histogram form.  Pure: it is handed the durations.
 */
#ifndef VG_HIST_H
#define VG_HIST_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"

#define VG_HIST_BUCKETS	14	/* upper bounds below, then +Inf */

struct vg_hist {
	uint64_t	count[VG_HIST_BUCKETS + 1];	/* not cumulative */
	uint64_t	n;
	vg_ns		sum, max;
};

extern const vg_ns vg_hist_bounds[VG_HIST_BUCKETS];

void		vg_hist_add(struct vg_hist *, vg_ns);
/* Observations at or below vg_hist_bounds[i] (i = VG_HIST_BUCKETS: all). */
uint64_t	vg_hist_cumulative(const struct vg_hist *, size_t i);

#endif
