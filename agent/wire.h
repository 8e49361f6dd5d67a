/*
 * wire: what every body codec of the wire shares: the message types
 * (proto.h's header names them, push.h's bodies are five of them) and
 * big-endian fields.  Below proto and push, so that proto (which checks
 * every body) may call push without push reaching back up.
 */
#ifndef VG_WIRE_H
#define VG_WIRE_H

#include <stdint.h>

enum vg_msg_type {
	VG_MSG_HEARTBEAT = 1,
	VG_MSG_VOTE_REQUEST = 2,
	VG_MSG_VOTE = 3,
	VG_MSG_RELEASE = 4,
	VG_MSG_TRANSFER = 5,
	/* the configuration push (push.h): version 2 only */
	VG_MSG_CONF_OFFER = 6,
	VG_MSG_CONF_CHUNK = 7,
	VG_MSG_CONF_ACK = 8,
	VG_MSG_CONF_DECIDE = 9,
	VG_MSG_CONF_FETCH = 10,
};
#define VG_MSG_TYPE_MAX	VG_MSG_CONF_FETCH

/* VIP groups (docs/design.md, "VIP groups"): at most this many in one
 * cluster, each its own election; a heartbeat carries every one. */
#define VG_MAX_GROUPS	16
#define VG_MSG_IS_PUSH(t)	((t) >= VG_MSG_CONF_OFFER && \
				 (t) <= VG_MSG_CONF_FETCH)

/* Big-endian fields, for every body on the wire (proto.c, push.c). */
static inline void
vg_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
vg_put32(uint8_t *p, uint32_t v)
{
	vg_put16(p, (uint16_t)(v >> 16));
	vg_put16(p + 2, (uint16_t)v);
}

static inline void
vg_put64(uint8_t *p, uint64_t v)
{
	vg_put32(p, (uint32_t)(v >> 32));
	vg_put32(p + 4, (uint32_t)v);
}

static inline uint16_t
vg_get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
vg_get32(const uint8_t *p)
{
	return ((uint32_t)vg_get16(p) << 16) | vg_get16(p + 2);
}

static inline uint64_t
vg_get64(const uint8_t *p)
{
	return ((uint64_t)vg_get32(p) << 32) | vg_get32(p + 4);
}

#endif
