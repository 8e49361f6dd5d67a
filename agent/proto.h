/*
 * proto: the vigil wire format.  One UDP datagram per message, a fixed
 * header in network byte order with no padding, a body whose length is fixed
 * by the type (a version 3 heartbeat's by the count of sections it
 * declares), and a 16-byte MAC over everything before it.  Encoding and
 * decoding are pure functions; the MAC is auth's, the ordered checks rx's.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     magic "VGL1" (0x56474c31)                 |  0
 * +---------------+---------------+-------------------------------+
 * |   version     |     type      |             flags             |  4
 * +---------------+---------------+-------------------------------+
 * |                          cluster_id                           |  8
 * +-------------------------------+-------------------------------+
 * |            sender             |            target             | 12
 * +---------------+---------------+-------------------------------+
 * |    state      |   priority    |         digest_parts          | 16
 * +---------------+---------------+-------------------------------+
 * |                         term (64 bits)                        | 20
 * +                                                               +
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                      incarnation (64 bits)                    | 28
 * +                                                               +
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                         seq (64 bits)                         | 36
 * +                                                               +
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                       echo_seq (64 bits)                      | 44
 * +                                                               +
 * |                                                               |
 * +-------------------------------+-------------------------------+
 * |            active             |     config_digest (high)      | 52
 * +-------------------------------+-------------------------------+
 * |     config_digest (low)       |         epoch (high)          | 56
 * +-------------------------------+-------------------------------+
 * |          epoch (low)          |      conf_digest (high)       | 60
 * +-------------------------------+-------------------------------+
 * |       conf_digest (low)       |  body (0..n bytes, by type)   | 64
 * +-------------------------------+                               +
 * |                                                               |
 * +---------------------------------------------------------------+
 * |             mac: HMAC-SHA256 over bytes 0..end of body,       |
 * |                  truncated to 16 bytes                        |
 * +---------------------------------------------------------------+
 *
 * config_digest is the sender's safety digest (conf.h: membership, votes,
 * timing); the election counts an echo or a vote only between equal ones.
 * digest_parts, in what were reserved bytes (a version 1 node sends zero
 * and ignores them), is a hint of which part differs: bit 15 set, then 5
 * bits of each part's digest (vg_conf_parts_hint).  Terms at or above
 * VG_TERM_LIMIT are refused wherever they come from.
 *
 * Version 2 (issue 14) added epoch and conf_digest: the sender's
 * configuration epoch and the digest of its cluster-wide settings (conf.h,
 * digest); they decide nothing in the election, they show whether the
 * cluster runs one configuration.  A version 1 datagram has neither (its body
 * starts at 58) and is still accepted: m.version says which it was, and
 * the agent sends each peer the version it last accepted from it
 * (docs/design.md, "Cluster-wide configuration").
 *
 * Version 3 (issue 15, VIP groups) keeps version 2's header, whose state,
 * priority, flags LAPSED and HOLDING, term, active and echo_seq are group
 * 0's, and adds a byte to the body of each of the first five types: a
 * heartbeat's count of sections (one per group after 0), the others' group.
 *
 * Bodies:  HEARTBEAT     echo_delay u32: microseconds between the arrival
 *                        of echo_seq and this send (for the RTT estimate);
 *                        version 3: then n_sections u8 and the sections
 *          VOTE          reason u16: why a vote was refused (0 if granted);
 *                        version 3: then group u8
 *          VOTE_REQUEST, RELEASE, TRANSFER: empty; version 3: group u8
 *          CONF_OFFER, CONF_CHUNK, CONF_ACK, CONF_DECIDE, CONF_FETCH:
 *                        the configuration push's (push.h), version 2
 *                        on (the same in 3); each body's fields are
 *                        range-checked here too (vg_push_body_check), so a
 *                        bad one is `malformed` like any other field out of
 *                        range
 *
 * A version 3 heartbeat's body, at 66 (n_sections = n_groups - 1, at most
 * VG_MAX_GROUPS - 1; a section per group 1..n_groups-1, in order):
 *
 * +---------------------------------------------------------------+
 * |                          echo_delay                           | 66
 * +---------------+-----------------------------------------------+
 * |  n_sections   |  sections, 22 bytes each, from 71 ...         | 70
 * +---------------+                                               +
 *
 * A section, at 71 + 22 * (g - 1) for group g:
 *
 * +---------------+---------------+---------------+---------------+
 * |   group (g)   |    state      |   priority    |   flags       |  0
 * +---------------+---------------+---------------+---------------+
 * |                         term (64 bits)                        |  4
 * +                                                               +
 * |                                                               |
 * +-------------------------------+-------------------------------+
 * |            active             |      echo_seq (64 bits)       | 12
 * +-------------------------------+                               +
 * |                                                               | 16
 * +                               +-------------------------------+
 * |                               |                                 20
 * +-------------------------------+
 *
 * No padding: nothing on this wire is aligned.  A section's flags: bit 0
 * LAPSED, bit 1 HOLDING, any other set is `malformed`, as are a group
 * other than the next one (1, 2, ...) and a state outside 1..VG_ST_MAX;
 * a length other than the one n_sections makes (n_sections above
 * VG_MAX_GROUPS - 1 makes none) is `length`.  A heartbeat of n groups is
 * 87 + 22 (n - 1) bytes: 87 for one, 153 for 4, 417 for 16.  A group byte
 * at or above VG_MAX_GROUPS is `malformed`.  A message that version 1 or
 * 2 cannot say (a group other than 0, a heartbeat of several) does not
 * encode in it.
 */
#ifndef VG_PROTO_H
#define VG_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define VG_MAGIC		0x56474c31u	/* "VGL1" */
#define VG_VERSION		4	/* what this node speaks */
#define VG_VERSION_MIN		1	/* the oldest it still accepts */
#define VG_VERSION_GROUPS	3	/* the first with VIP groups: sections,
					 * a group byte, VG_FLAG_REPLY */
#define VG_VERSION_XFER_VOTE	4	/* the first whose TRANSFER may carry
					 * VG_FLAG_GRANTED (the layout is
					 * version 3's) */
#define VG_HDR_LEN		66
#define VG_HDR_LEN_V1		58
#define VG_MAC_LEN		16
#define VG_HB_SECTION_LEN	22	/* a heartbeat's section (version 3) */
/* The largest heartbeat (VG_MAX_GROUPS groups, version 3), 417 bytes */
#define VG_MAX_PKT		(VG_HDR_LEN + 4 + 1 + \
				 (VG_MAX_GROUPS - 1) * VG_HB_SECTION_LEN + \
				 VG_MAC_LEN)
/* The largest datagram of any type: a CONF_CHUNK (push.h), 1122 bytes */
#define VG_MAX_DGRAM		(VG_HDR_LEN + 1040 + VG_MAC_LEN)
/* Seqs from here on are the keeper's (its RELEASE after the agent died):
 * the agent never gets there, and a jump into them is not a loss. */
#define VG_SEQ_KEEPER_BASE	(1ULL << 62)
/* No term is this high by counting (one per election): a message or a vote
 * file that says so is corrupt or hostile, and taking it would make the
 * next term wrap.  Refused, counted. */
#define VG_TERM_LIMIT		((1ULL << 63) - 1)


#define VG_FLAG_PRE	0x0001		/* VOTE_REQUEST / VOTE: pre-vote */
#define VG_FLAG_GRANTED	0x0002		/* VOTE: granted; TRANSFER, version
					 * 4: and the sender's vote for the
					 * target in term + 1 */
#define VG_FLAG_LAPSED	0x0004		/* HEARTBEAT of an active: lease lapsed */
#define VG_FLAG_HOLDING	0x0008		/* HEARTBEAT of a non-active: a removal
					 * of its VIPs was not confirmed */
#define VG_FLAG_REPLY	0x0010		/* HEARTBEAT, version 3: sent as an
					 * answer (an echo on arrival, a
					 * newer term told); answered on the
					 * grid only, never at once: with
					 * groups, an active of one group is a
					 * follower of another, and two
					 * answers would answer each other */
#define VG_FLAG_MASK	0x001f

/* Node states as they travel on the wire (never 0). */
enum vg_state {
	VG_ST_STANDBY = 1,
	VG_ST_CANDIDATE = 2,
	VG_ST_ACTIVE = 3,
	VG_ST_FAULT = 4,
	VG_ST_MAINTENANCE = 5,
	VG_ST_NO_QUORUM = 6,
};
#define VG_ST_MAX	VG_ST_NO_QUORUM

/* One group's part of a heartbeat (version 3, docs/design.md "VIP groups"):
 * group 0's is in the header (state, priority, the flags LAPSED and
 * HOLDING, term, active, echo_seq), every other group's in a section
 * (flags here as in the header, VG_FLAG_*; bits 0 and 1 on the wire). */
struct vg_msg_group {
	uint8_t		state;
	uint8_t		priority;
	uint16_t	flags;		/* VG_FLAG_LAPSED, VG_FLAG_HOLDING */
	uint16_t	active;
	uint64_t	term;
	uint64_t	echo_seq;
};

struct vg_msg {
	uint8_t		version;	/* encode: 1 to VG_VERSION (0: that) */
	uint8_t		type;
	uint16_t	flags;
	uint32_t	cluster_id;
	uint16_t	sender;
	uint16_t	target;
	uint8_t		state;
	uint8_t		priority;
	uint16_t	digest_parts;	/* 0: none sent */
	uint64_t	term;
	uint64_t	incarnation;
	uint64_t	seq;
	uint64_t	echo_seq;
	uint16_t	active;		/* the sender's active node id, 0: none */
	uint32_t	config_digest;
	uint32_t	epoch;		/* version 2 on; 0 in a version 1 one */
	uint32_t	conf_digest;	/* version 2 on; 0 in a version 1 one */
	/* VOTE_REQUEST, VOTE, RELEASE, TRANSFER: the group it is about
	 * (version 3 on; 0 before) */
	uint8_t		group;
	/* HEARTBEAT: the groups it carries (1 before version 3; encode
	 * takes 0 for 1); groups 1..n_groups-1 in grp[0..n_groups-2] */
	uint8_t		n_groups;
	struct vg_msg_group grp[VG_MAX_GROUPS - 1];
	union {
		struct { uint32_t echo_delay_us; } hb;
		struct { uint16_t reason; } vote;
	} u;
	/* A push type's body (vg_push_body_len bytes): on decode, into the
	 * datagram (valid while it is); on encode, copied from here. */
	const uint8_t	*body;
};

/*
 * Why a datagram was dropped, in the order the checks run (rx.c).  Each has
 * its own counter, shown by `vigilctl status --json` and in metrics.
 */
enum vg_drop {
	VG_DROP_NONE = 0,
	VG_DROP_TRUNCATED,	/* larger than any message: MSG_TRUNC */
	VG_DROP_SHORT,		/* shorter than a header and a MAC */
	VG_DROP_MAGIC,
	VG_DROP_VERSION,
	VG_DROP_TYPE,		/* unknown message type */
	VG_DROP_LENGTH,		/* not the exact length of its type */
	VG_DROP_MALFORMED,	/* a field out of range */
	VG_DROP_CLUSTER,	/* another cluster's id */
	VG_DROP_TARGET,		/* addressed to another node */
	VG_DROP_SELF,		/* claims to come from this node */
	VG_DROP_UNKNOWN_PEER,	/* sender id not in the config */
	VG_DROP_ADDRESS,	/* not from the sender's configured address */
	VG_DROP_AUTH,		/* MAC does not verify */
	VG_DROP_STALE,		/* older incarnation than one already seen */
	VG_DROP_REPLAY,		/* seq already seen, or below the window */
	VG_DROP_UNFRESH,	/* since this node started, the sender has
				 * not yet echoed one of its seqs */
	VG_DROP_MAX
};


const char	*vg_drop_name(enum vg_drop);
const char	*vg_msg_type_name(uint8_t);
const char	*vg_state_name(uint8_t);
int		 vg_state_parse(const char *, uint8_t *);

/*
 * Group g's view of a message: a copy of m whose group fields are g's (a
 * heartbeat's section g, or the header's for g = 0) and whose group is g,
 * which is what that group's election takes.  -1 if m does not carry g (a
 * heartbeat of fewer groups; another type about another group).
 */
int		 vg_msg_group_view(const struct vg_msg *m, size_t g,
		    struct vg_msg *out);

/* Length on the wire of a message of this type (header, body, MAC; a
 * heartbeat's of one group); 0 if unknown. */
size_t		 vg_proto_len(uint8_t type);
/* The same in a given version; 0 if the version or type is unknown. */
size_t		 vg_proto_len_v(uint8_t version, uint8_t type);
/* The length of a type's body (what vg_msg's body points at); 0 if the
 * type is unknown. */
size_t		 vg_proto_body_len(uint8_t type);
/* A heartbeat of n_groups groups in a given version; 0 if the version
 * cannot say that many (more than 1 before version 3, more than
 * VG_MAX_GROUPS, or 0). */
size_t		 vg_proto_len_hb(uint8_t version, size_t n_groups);

/* Writes m at buf in m->version (1 to VG_VERSION; 0 means VG_VERSION);
 * the MAC bytes are zeroed for auth to fill.  Returns the length, or 0 if
 * buflen is too small, the type or version unknown, or m cannot be said
 * in that version (vg_proto_len_hb; a group other than 0 before version
 * 3, or one at or above VG_MAX_GROUPS): the caller does not send it. */
size_t		 vg_proto_encode(const struct vg_msg *m, uint8_t *buf,
		    size_t buflen);

/* Size, magic, version, type, exact length, field ranges.  Fills *m only
 * when it returns VG_DROP_NONE. */
enum vg_drop	 vg_proto_decode(const uint8_t *buf, size_t len,
		    struct vg_msg *m);

/*
 * The classic BPF program that steers each datagram arriving at a node
 * between its two sockets (docs/design.md, "Heartbeats that can wait"):
 * 1, the socket read only when the agent wakes anyway, for a heartbeat
 * of one group (version 3 or 4), no flag, from a standby, to a node that
 * is not the active the sender names (one standby's grid round to
 * another); 0, the socket that wakes the agent, for everything else,
 * whatever it is (a bad one is dropped there as ever).  The program sees
 * the UDP payload from offset 0 and decides on unauthenticated bytes:
 * a forged one can only choose when it is read.  Writes at most max
 * instructions at f and returns how many, 0 if max is too small.
 */
#define VG_PROTO_LAZY_PROG_LEN	18
struct sock_filter;
size_t		 vg_proto_lazy_prog(struct sock_filter *f, size_t max);

#endif
