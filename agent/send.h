/*
 * send: the agent's datagrams out (send.c): queued in a->tx, flushed in one
 * sendmmsg.  The shell (vigild.c) calls it; it calls nothing back.
 */
#ifndef VG_SEND_H
#define VG_SEND_H

#include "agent.h"

/* A SEND action of the election: to its target, or to every peer. */
void	vg_send_act(struct vg_agent *, const struct vg_act *, vg_ns now);
/* This node's heartbeat to p, with its echo and flags. */
/* A heartbeat of every group; flags: VG_FLAG_REPLY for an answer. */
void	vg_send_heartbeat(struct vg_agent *, struct vg_peer *, uint16_t flags,
	    vg_ns now);
/* A message of a push type (proto.h) to p, its body of the type's length. */
void	vg_send_push(struct vg_agent *, struct vg_peer *, uint8_t type,
	    const uint8_t *body, vg_ns now);
/* What is queued leaves now, in order; failures are counted. */
void	vg_send_flush(struct vg_agent *);
/* Room in the send buffer for every peer's unresolved queue (net.h). */
void	vg_send_size_buffer(struct vg_agent *);

#endif
