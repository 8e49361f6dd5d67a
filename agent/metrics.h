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

/*
 * The optional exporters: an HTTP listener serving /metrics (libmicrohttpd
 * in its epoll mode, driven from the libev loop: no thread of its own) and
 * node_exporter's textfile (written atomically every textfile_interval).
 */
struct vg_metrics_export;

struct vg_metrics_export *vg_metrics_export_start(struct ev_loop *,
		    struct vg_agent *, char *err, size_t errlen);
void		 vg_metrics_export_stop(struct vg_metrics_export *);

#endif
