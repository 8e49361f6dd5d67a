/*
 * events: the event ring; pure.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "events.h"

static const char *const kind_names[VG_EV_KIND_MAX] = {
	[VG_EV_STATE] = "state",
	[VG_EV_ELECTION] = "election",
	[VG_EV_LEASE] = "lease",
	[VG_EV_VIPS] = "vips",
	[VG_EV_PEER] = "peer",
	[VG_EV_HOOK] = "hook",
	[VG_EV_CTL] = "ctl",
	[VG_EV_CONFIG] = "config",
};

const char *
vg_event_kind_name(enum vg_event_kind k)
{
	return (unsigned)k < VG_EV_KIND_MAX ? kind_names[k] : "invalid";
}

void
vg_events_init(struct vg_events *e)
{
	memset(e, 0, sizeof(*e));
	e->next_id = 1;
}

const struct vg_event *
vg_events_add(struct vg_events *e, enum vg_event_kind kind, vg_ns mono,
    int64_t wall_ms, const char *fmt, ...)
{
	struct vg_event *ev;
	va_list ap;

	if (e->n == VG_EVENTS_MAX) {
		e->head = (e->head + 1) % VG_EVENTS_MAX;
		e->n--;
	}
	ev = &e->ring[(e->head + e->n) % VG_EVENTS_MAX];
	e->n++;
	ev->id = e->next_id++;
	ev->mono = mono;
	ev->wall_ms = wall_ms;
	ev->kind = kind;
	va_start(ap, fmt);
	vsnprintf(ev->text, sizeof(ev->text), fmt, ap);
	va_end(ap);
	return ev;
}

const struct vg_event *
vg_events_get(const struct vg_events *e, size_t i)
{
	if (i >= e->n)
		return NULL;
	return &e->ring[(e->head + i) % VG_EVENTS_MAX];
}
