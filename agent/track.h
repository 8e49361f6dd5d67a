/*
 * track: health checks.  Each track script runs every `interval`, is killed
 * after `timeout` (a failure), and changes state only after `fall`
 * consecutive failures or `rise` consecutive successes.  A failing track of
 * weight 0 makes the node `fault`; any other lowers its effective priority
 * by its weight.  The fall/rise counting is pure (vg_track_note); the
 * checks run through child.c and never block the loop.
 */
#ifndef VG_TRACK_H
#define VG_TRACK_H

#include <ev.h>
#include <stddef.h>
#include <sys/types.h>

#include "clock.h"
#include "conf.h"

struct vg_track_state {
	int		up;		/* as counted: starts up */
	unsigned	fails, oks;	/* consecutive */
	uint64_t	runs, failures, timeouts;
};

/* One result; returns 1 if `up` changed. */
int	vg_track_note(struct vg_track_state *, int success, unsigned fall,
	    unsigned rise);

/* Effective priority and fault in group g from the tracks' states: the
 * node's priority there less the weights of the group's failing tracks
 * (1 at least; 0 stays 0: it never holds the group); st NULL: none has
 * run yet, all count as up.  Pure. */
uint8_t	vg_track_priority(const struct vg_conf *, size_t g,
	    const struct vg_track_state *, int *fault);

struct vg_tracks;

/* changed(arg): a track went up or down; the caller recomputes.  prev
 * (a reload's: NULL at start): a track of the same name that runs the
 * same check keeps its state (a failing one stays down), the others
 * start up. */
struct vg_tracks *vg_tracks_new(struct ev_loop *, const struct vg_conf *,
		    void (*changed)(void *), void *arg,
		    const struct vg_tracks *prev);
void		 vg_tracks_free(struct vg_tracks *);
const struct vg_track_state *vg_tracks_state(const struct vg_tracks *);

#endif
