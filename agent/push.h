/*
 * push: the cluster-wide configuration transfer of issue 14 (docs/design.md,
 * "Cluster-wide configuration"): the bodies of its five messages, the
 * sender's selective-repeat schedule (which chunks to send to a target
 * this round, from its acknowledgements) and the receiver's reassembly
 * (an offer, chunks in any order and any number of times, the SHA-256
 * over the whole).  Pure: no socket, no clock, no file; rounds are the
 * caller's.
 *
 * The types are proto.h's (VG_MSG_CONF_*); proto.c range-checks every
 * body with vg_push_body_check, so rx drops a bad one as `malformed`.
 * The agent's side (who sends what when, staging, commit) is pushrun.c.
 *
 * Bodies, network byte order, fixed length per type (as every type's):
 *
 *   CONF_OFFER   push_id u64, epoch u32, size u32, chunks u16, flags u16,
 *                sha256[32]                                    52 bytes
 *   CONF_CHUNK   push_id u64, epoch u32, index u16, used u16,
 *                data[1024] (used bytes, the rest zero)      1040 bytes
 *   CONF_ACK     push_id u64, epoch u32, status u8, 0 u8,
 *                first_missing u16, map u64, error[160]       184 bytes
 *   CONF_DECIDE  push_id u64, epoch u32, step u8, 0[3]         16 bytes
 *   CONF_FETCH   epoch u32                                      4 bytes
 *
 * A chunk datagram is 66 + 1040 + 16 = 1122 bytes: under IPv6's minimum
 * MTU less its headers (1232), so never fragmented.
 */
#ifndef VG_PUSH_H
#define VG_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define VG_PUSH_CHUNK		1024
#define VG_PUSH_MAX_SIZE	(1024 * 1024)	/* a file pushed: 1 MiB */
#define VG_PUSH_MAX_CHUNKS	(VG_PUSH_MAX_SIZE / VG_PUSH_CHUNK)
#define VG_PUSH_PER_ROUND	32	/* chunks to one target per round */
#define VG_PUSH_ERR_LEN		160
#define VG_PUSH_SHA_LEN		32
#define VG_PUSH_ACK_MAP		64	/* chunks after first_missing */

#define VG_PUSH_OFFER_COMMITTED	0x0001	/* served for catch-up */
/* A step of `vigilctl key rotate` (design.md "Key rotation"): the file's
 * key settings are made per node by the step's rule, not kept from the
 * node's own file (stage.h, vg_stage_localize).  At most one, never with
 * COMMITTED. */
#define VG_PUSH_OFFER_KEY_NEXT	0x0002	/* 1: also accept the new key */
#define VG_PUSH_OFFER_KEY_SEND	0x0004	/* 2: send with it, accept the old */
#define VG_PUSH_OFFER_KEY_DROP	0x0008	/* 3: the old key dropped */
#define VG_PUSH_OFFER_KEYS	(VG_PUSH_OFFER_KEY_NEXT | \
				 VG_PUSH_OFFER_KEY_SEND | VG_PUSH_OFFER_KEY_DROP)
#define VG_PUSH_OFFER_FLAGS	(VG_PUSH_OFFER_COMMITTED | VG_PUSH_OFFER_KEYS)

enum vg_push_status {
	VG_PUSH_RECEIVING = 1,
	VG_PUSH_STAGED = 2,
	VG_PUSH_REJECTED = 3,
	VG_PUSH_JOINT = 4,
	VG_PUSH_DONE = 5,
};

enum vg_push_step {
	VG_PUSH_ABORT = 1,
	VG_PUSH_LIVE = 2,
	VG_PUSH_JOINT_STEP = 3,
	VG_PUSH_FINAL = 4,
};

struct vg_push_offer {
	uint64_t	push_id;
	uint32_t	epoch;
	uint32_t	size;
	uint16_t	chunks;
	uint16_t	flags;
	uint8_t		sha256[VG_PUSH_SHA_LEN];
};

struct vg_push_chunk {
	uint64_t	push_id;
	uint32_t	epoch;
	uint16_t	index;
	uint16_t	used;
	const uint8_t	*data;		/* used bytes (into the datagram) */
};

struct vg_push_ack {
	uint64_t	push_id;
	uint32_t	epoch;
	uint8_t		status;
	uint16_t	first_missing;	/* == chunks: every one received */
	uint64_t	map;		/* bit i: first_missing + 1 + i received */
	char		error[VG_PUSH_ERR_LEN];	/* REJECTED: why */
};

struct vg_push_decide {
	uint64_t	push_id;
	uint32_t	epoch;
	uint8_t		step;
};

/* A body's length for a push type; 0 for any other type. */
size_t	vg_push_body_len(uint8_t type);
/* 0 if body (len bytes) is a well-formed body of a push type, else -1:
 * what proto.c's decode asks (the same decoders, the result dropped). */
int	vg_push_body_check(uint8_t type, const uint8_t *body, size_t len);

/* Each writes the body at buf and returns its length (0 if buflen is
 * short); each decode checks the exact length and every field's range,
 * and returns 0, or -1 (malformed) leaving the output alone. */
size_t	vg_push_encode_offer(const struct vg_push_offer *, uint8_t *buf,
	    size_t buflen);
int	vg_push_decode_offer(const uint8_t *body, size_t len,
	    struct vg_push_offer *);
size_t	vg_push_encode_chunk(const struct vg_push_chunk *, uint8_t *buf,
	    size_t buflen);
int	vg_push_decode_chunk(const uint8_t *body, size_t len,
	    struct vg_push_chunk *);
size_t	vg_push_encode_ack(const struct vg_push_ack *, uint8_t *buf,
	    size_t buflen);
int	vg_push_decode_ack(const uint8_t *body, size_t len,
	    struct vg_push_ack *);
size_t	vg_push_encode_decide(const struct vg_push_decide *, uint8_t *buf,
	    size_t buflen);
int	vg_push_decode_decide(const uint8_t *body, size_t len,
	    struct vg_push_decide *);

/* How many chunks a file of `size` bytes takes (an empty file: one). */
uint16_t vg_push_chunks(uint32_t size);

/*
 * The sender's side, one per target: the file (the caller's, kept alive
 * for the push), what the target acknowledged.
 */
struct vg_push_tx {
	const uint8_t	*file;
	struct vg_push_offer offer;
	uint8_t		acked[VG_PUSH_MAX_CHUNKS / 8];
	uint32_t	n_acked;
};

/* -1 if the file is larger than VG_PUSH_MAX_SIZE. */
int	vg_push_tx_init(struct vg_push_tx *, uint64_t push_id, uint32_t epoch,
	    const uint8_t *file, uint32_t size);
/* The chunks to send this round, at most max (and VG_PUSH_PER_ROUND): the
 * lowest that are not acknowledged.  A round is at least a round trip
 * (the caller's h), so what is not acknowledged by the next one is taken
 * for lost and sent again. */
size_t	vg_push_tx_round(const struct vg_push_tx *, uint16_t *idx, size_t max);
/* Chunk `index` of the file, to encode. */
void	vg_push_tx_chunk(const struct vg_push_tx *, uint16_t index,
	    struct vg_push_chunk *);
/* Takes an acknowledgement: 0, or -1 if it is not for this push. */
int	vg_push_tx_ack(struct vg_push_tx *, const struct vg_push_ack *);
int	vg_push_tx_done(const struct vg_push_tx *);

/*
 * The receiver's side: one offer at a time, its chunks into a buffer of
 * the offer's size.
 */
struct vg_push_rx {
	struct vg_push_offer offer;
	int		active;
	uint8_t		*buf;
	uint8_t		have[VG_PUSH_MAX_CHUNKS / 8];
	uint32_t	n_have;
};

/*
 * Takes an offer for a node running `running_epoch`: 0 (the same offer
 * again is no change), or -1 with err: not above the running epoch, another
 * file for an epoch already being received, sizes that do not add up,
 * out of memory.  A higher epoch's offer replaces a lower one's.
 */
int	vg_push_rx_offer(struct vg_push_rx *, const struct vg_push_offer *,
	    uint32_t running_epoch, char *err, size_t errlen);
/* A chunk: 0 (stored, or already had), -1 if it is not of this offer or
 * its length is not the one its index must have. */
int	vg_push_rx_chunk(struct vg_push_rx *, const struct vg_push_chunk *);
/* The acknowledgement to send (RECEIVING; first_missing == chunks once
 * every chunk is there). */
void	vg_push_rx_ack(const struct vg_push_rx *, struct vg_push_ack *);
/* 1 when every chunk is there and the SHA-256 matches (the file is then
 * buf, offer.size bytes), 0 while chunks are missing, -1 with err if the
 * digest does not match (the chunks are forgotten: they come again). */
int	vg_push_rx_complete(struct vg_push_rx *, char *err, size_t errlen);
void	vg_push_rx_free(struct vg_push_rx *);

#endif
