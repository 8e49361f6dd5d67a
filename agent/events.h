/*
 * events: the last VG_EVENTS_MAX things that happened (state changes,
 * elections, lease losses, hook runs, ctl actions, peers), each with its
 * monotonic and wall time, for `vigilctl events [--follow]`.  A ring: the
 * oldest goes when it is full.  Pure.
 */
#ifndef VG_EVENTS_H
#define VG_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"

#define VG_EVENTS_MAX	1000
#define VG_EVENT_TEXT	200

enum vg_event_kind {
	VG_EV_STATE,		/* this node's state changed */
	VG_EV_ELECTION,		/* won, lost, started */
	VG_EV_LEASE,		/* lapsed, renewed after a lapse */
	VG_EV_VIPS,		/* added, removed */
	VG_EV_PEER,		/* up, down, restarted */
	VG_EV_HOOK,		/* a script failed or timed out */
	VG_EV_CTL,		/* an operator's command */
	VG_EV_CONFIG,		/* reload */
	VG_EV_KIND_MAX
};

struct vg_event {
	uint64_t		id;		/* 1, 2, ... */
	vg_ns			mono;
	int64_t			wall_ms;
	enum vg_event_kind	kind;
	char			text[VG_EVENT_TEXT];
};

struct vg_events {
	struct vg_event		ring[VG_EVENTS_MAX];
	size_t			head, n;	/* oldest at head */
	uint64_t		next_id;
};

void		 vg_events_init(struct vg_events *);
const struct vg_event *vg_events_add(struct vg_events *, enum vg_event_kind,
		    vg_ns mono, int64_t wall_ms, const char *fmt, ...)
		    __attribute__((format(printf, 5, 6)));
/* i = 0 is the oldest kept; NULL past the end. */
const struct vg_event *vg_events_get(const struct vg_events *, size_t i);
const char	*vg_event_kind_name(enum vg_event_kind);

#endif
