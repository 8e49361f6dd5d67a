/*
 * rx: the receive pipeline, from a raw datagram to an accepted message, in
 * the order of STYLE.md: size -> magic and version -> exact length for the
 * type -> field ranges -> cluster id -> target -> known peer and its source
 * address -> HMAC (constant time; the current key, then the next, then the
 * previous, each only if configured) -> replay.  Nothing reaches the election
 * before every check has passed; each rejection is counted by reason, in
 * total and, once the sender is known and its address is the peer's,
 * against that peer.  A datagram that claims a peer from another address
 * is a stranger's: it is counted against its real source, in a small table
 * of the sources dropped most recently (VG_RX_SOURCES), not the peer.
 */
#ifndef VG_RX_H
#define VG_RX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "auth.h"
#include "peer.h"
#include "proto.h"

#define VG_RX_SOURCES	8

/* A source whose datagrams were dropped before the HMAC was checked, or
 * failed it: by address (the port ignored). */
struct vg_rx_source {
	struct sockaddr_storage	addr;
	socklen_t		addrlen;
	uint64_t		drops;
	enum vg_drop		last;		/* the reason of the last one */
	uint64_t		stamp;		/* of the last drop: LRU order */
};

struct vg_rx {
	uint32_t		cluster_id;
	uint16_t		self_id;
	const struct vg_auth	*auth;
	struct vg_peers		*peers;	/* the agent's table, shared */
	uint64_t		accepted;
	uint64_t		drops[VG_DROP_MAX];
	/* by the key slot that verified the MAC: accepted, and dropped by a
	 * later check (replay, stale, unfresh); a MAC that no key verifies is
	 * drops[VG_DROP_AUTH] */
	uint64_t		key_accepted[VG_KEY_SLOTS];
	uint64_t		key_drops[VG_KEY_SLOTS];
	struct vg_rx_source	src[VG_RX_SOURCES];
	uint64_t		src_stamp;
};

struct vg_rx_result {
	enum vg_drop		drop;
	struct vg_msg		msg;	/* decoded, when drop is NONE */
	struct vg_peer		*peer;	/* the sender, when known */
	int64_t			gap;	/* seqs skipped, for vg_peer_heard */
	int			key;	/* the slot that verified it, or -1 */
};

struct vg_peer	*vg_rx_peer_by_id(struct vg_rx *, uint16_t id);

/* Runs every check; on success the replay window has taken the message. */
void		 vg_rx_input(struct vg_rx *, const uint8_t *buf, size_t len,
		    int truncated, const struct sockaddr *src, socklen_t srclen,
		    struct vg_rx_result *);

/* Same address (and family), ignoring the port: peers are known by address. */
int		 vg_sockaddr_same_host(const struct sockaddr *, socklen_t,
		    const struct sockaddr *, socklen_t);

#endif
