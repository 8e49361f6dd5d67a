/*
 * auth: the cluster key, the HMAC-SHA256 (truncated to 16 bytes) that every
 * message carries, and the per-sender anti-replay window: the sender's
 * incarnation, its highest seq and a 64-seq bitmap (IPsec's window), so a
 * message overtaken by the next one from the same sender still counts once.
 */
#ifndef VG_AUTH_H
#define VG_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "conf.h"
#include "proto.h"

#define VG_KEY_MIN	32
#define VG_KEY_MAX	1024
#define VG_REPLAY_WINDOW 64

/*
 * The key slots of a rotation (docs/design.md, "Key rotation without a
 * gap"): the current key (auth_key_file) signs and is accepted; the next
 * (auth_key_next) and the previous (auth_key_previous) are accepted only.
 * A MAC is tried in this order, so the common case costs one HMAC.
 */
enum vg_key_slot {
	VG_KEY_CURRENT,
	VG_KEY_NEXT,
	VG_KEY_PREVIOUS,
	VG_KEY_SLOTS
};

struct vg_auth_key {
	uint8_t			key[VG_KEY_MAX];
	size_t			keylen;		/* 0: the slot is empty */
	crypto_auth_hmacsha256_state keyed;
};

struct vg_auth {
	enum vg_auth_mode	mode;
	uint8_t			key[VG_KEY_MAX];	/* the current key */
	size_t			keylen;
	/* HMAC's keyed inner and outer hash states, computed once when the key
	 * is set: each message then costs its own blocks only (two of the six
	 * SHA-256 compressions of a heartbeat's HMAC are the key's) */
	crypto_auth_hmacsha256_state keyed;
	/* accepted, never sent with: VG_KEY_NEXT and VG_KEY_PREVIOUS, at
	 * alt[slot - 1] */
	struct vg_auth_key	alt[VG_KEY_SLOTS - 1];
};

/* The same mode and sending key (a reload that keeps the sending key keeps
 * the keeper, whatever it does to the next and previous keys). */
int	vg_auth_same(const struct vg_auth *, const struct vg_auth *);

/* Reads the key file: owned by anyone, not group/world readable, 32..1024
 * bytes (taken as they are).  -1 with a message in err on any problem. */
int	vg_auth_load_key(struct vg_auth *, const char *path, char *err,
	    size_t errlen);
/* The same for a slot (VG_KEY_CURRENT is vg_auth_load_key). */
int	vg_auth_load_slot(struct vg_auth *, enum vg_key_slot, const char *path,
	    char *err, size_t errlen);
/* Every key the config names (none for auth = "none"): -1 with err, and
 * the config line of the setting at fault in *line, on any problem. */
int	vg_auth_load(struct vg_auth *, const struct vg_conf *, int *line,
	    char *err, size_t errlen);
void	vg_auth_set_key(struct vg_auth *, const uint8_t *key, size_t len);
void	vg_auth_set_slot(struct vg_auth *, enum vg_key_slot,
	    const uint8_t *key, size_t len);
void	vg_auth_set_none(struct vg_auth *);
void	vg_auth_wipe(struct vg_auth *);
/* The slot holds a key. */
int	vg_auth_has(const struct vg_auth *, enum vg_key_slot);
const char *vg_key_slot_name(enum vg_key_slot);

/* pkt is a whole encoded message of len bytes; the MAC is its last 16.
 * Signed with the current key. */
void	vg_auth_sign(const struct vg_auth *, uint8_t *pkt, size_t len);
/* The slot whose key verifies the MAC (current, next, previous: the first
 * that does), or -1; VG_KEY_CURRENT for auth = "none". */
int	vg_auth_verify_slot(const struct vg_auth *, const uint8_t *pkt,
	    size_t len);
int	vg_auth_verify(const struct vg_auth *, const uint8_t *pkt, size_t len);

struct vg_replay {
	uint64_t	incarnation;	/* 0: nothing seen yet */
	uint64_t	high;		/* highest seq seen in that incarnation */
	uint64_t	bitmap;		/* bit i: seq high - i seen */
};

/* VG_DROP_NONE, VG_DROP_STALE or VG_DROP_REPLAY; changes nothing. */
enum vg_drop vg_replay_check(const struct vg_replay *, uint64_t incarnation,
	    uint64_t seq);
/* Records an accepted (incarnation, seq).  Returns the change in the count
 * of missing seqs: the gap skipped when seq moves past high, -1 when a late
 * one fills a hole, 0 otherwise (a new incarnation starts afresh). */
int64_t	vg_replay_update(struct vg_replay *, uint64_t incarnation,
	    uint64_t seq);
/* Every seq below the highest (within the window) counts as seen. */
void	vg_replay_close_below(struct vg_replay *);

#endif
