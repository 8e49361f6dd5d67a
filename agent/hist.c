/*
 * hist: durations into buckets from 10 us to 250 ms.
 */
#include "hist.h"

#define US(x)	((vg_ns)(x) * VG_NS_PER_US)

const vg_ns vg_hist_bounds[VG_HIST_BUCKETS] = {
	US(10), US(25), US(50), US(100), US(250), US(500), US(1000),
	US(2500), US(5000), US(10000), US(25000), US(50000), US(100000),
	US(250000),
};

void
vg_hist_add(struct vg_hist *h, vg_ns d)
{
	size_t i;

	if (d < 0)
		d = 0;
	for (i = 0; i < VG_HIST_BUCKETS && d > vg_hist_bounds[i]; i++)
		;
	h->count[i]++;
	h->n++;
	h->sum += d;
	if (d > h->max)
		h->max = d;
}

uint64_t
vg_hist_cumulative(const struct vg_hist *h, size_t i)
{
	uint64_t c = 0;
	size_t j;

	for (j = 0; j <= i && j <= VG_HIST_BUCKETS; j++)
		c += h->count[j];
	return c;
}
