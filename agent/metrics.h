/*
 * metrics: the agent's counters and gauges in the Prometheus text format
 * (version 0.0.4), for `vigilctl metrics` and, later, an HTTP listener and
 * node_exporter's textfile collector.
 */
#ifndef VG_METRICS_H
#define VG_METRICS_H

#include "agent.h"

/* Returns a malloc'd NUL-terminated text, or NULL. */
char	*vg_metrics_text(const struct vg_agent *, vg_ns now);

#endif
