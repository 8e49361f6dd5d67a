/*
 * metrics: the agent's counters and gauges in the Prometheus text format
 * (version 0.0.4), for `vigilctl metrics` and, later, an HTTP listener and
 * node_exporter's textfile collector.
 */
#ifndef VG_METRICS_H
#define VG_METRICS_H

#include "agent.h"

/*
 * A sample's value as the text format has it, short and exact: ns as
 * seconds in decimal ("0.445477969", "12", "-0.5"; no trailing zeros, no
 * binary-float noise such as 0.44547796899999997), and any other number
 * as an integer when it is one, else with 9 significant digits.  Both
 * write at most len - 1 characters and a NUL; they return buf.
 */
char	*vg_metrics_seconds(char *buf, size_t len, vg_ns ns);
char	*vg_metrics_number(char *buf, size_t len, double v);

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
