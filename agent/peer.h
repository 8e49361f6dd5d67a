/*
 * peer: what this node knows of each other node: liveness against
 * dead_time, what the peer last said (state, term, active, digest), loss
 * from seq gaps, and the round trip measured from echoes.  Pure: every
 * function is handed "now" and nothing here reads a clock or touches a socket.
 *
 * Each peer has its own outgoing seq stream (so that a gap in what a peer
 * receives is a loss) and a ring of the send times of the last seqs, which an
 * echo_seq coming back turns into a round-trip sample.
 *
 * Liveness has two views, and the election's is the authoritative one: a
 * node is heard when it was heard within dead_time (election.c,
 * heard_within), and that decides votes, quorum, ranks and candidacy.
 * `alive` here is set from the same message at the same `now` with the same
 * dead_time, but goes false only when vg_peer_tick runs after dead_at;
 * what is shown (status, metrics) asks vg_peer_alive(p, now), which is
 * never true where the election treats the peer as unheard.
 */
#ifndef VG_PEER_H
#define VG_PEER_H

#include <stdint.h>
#include <sys/socket.h>

#include "auth.h"
#include "clock.h"
#include "conf.h"
#include "proto.h"

#define VG_PEER_RING	64
/*
 * The worst round trip is kept for a window of VG_RTT_WINDOW (or four
 * dead_times, if longer) in VG_RTT_SLOTS - 1 to VG_RTT_SLOTS slots: one slow
 * moment is forgotten, but not before the next few failovers.
 */
#define VG_RTT_WINDOW	VG_MS(10000)
#define VG_RTT_SLOTS	5
#define VG_ECHO_DELAY_UNKNOWN	UINT32_MAX	/* echo_delay: not measured */

enum vg_peer_event {
	VG_PEER_EV_NONE = 0,
	VG_PEER_EV_UP,		/* first heard, or heard again after death */
	VG_PEER_EV_DOWN,	/* silent for dead_time */
	VG_PEER_EV_RESTART,	/* heard with a newer incarnation while up */
};

struct vg_peer {
	/* identity, from the config */
	uint16_t		id;
	char			name[VG_NAME_MAX];
	char			address[INET6_ADDRSTRLEN];
	struct sockaddr_storage	sa;
	socklen_t		salen;
	uint8_t			votes;
	enum vg_role		role;

	/* liveness */
	int			alive;
	int			ever_seen;
	uint8_t			spoke;		/* the version of its authentic
						 * datagrams before one is fresh
						 * here (0: none): what it is
						 * sent until then */
	vg_ns			last_seen;
	vg_ns			up_since;
	vg_ns			dead_at;	/* last_seen + dead_time */
	uint64_t		ups, downs, restarts;

	/* what it last said */
	struct vg_msg		last;		/* its newest accepted message */
	struct vg_replay	replay;

	/* accounting */
	uint64_t		rx, lost, tx, tx_errors;
	uint64_t		drops[VG_DROP_MAX];

	/* our stream to it: seqs above seq_base (vg_peers_fresh_start) */
	uint64_t		tx_seq;
	uint64_t		seq_base;	/* 0: no freshness check */
	int			fresh;		/* it echoed a seq above seq_base */
	uint64_t		unfresh_seq;	/* newest of it dropped as unfresh:
						 * echoed so that it can prove */
	struct {
		uint64_t	seq;
		vg_ns		sent;
	}			ring[VG_PEER_RING];

	/* echo of its stream, and the round trip */
	uint64_t		rx_high;	/* newest seq heard from it */
	vg_ns			rx_high_at;
	int			rtt_valid;
	vg_ns			rtt_last, srtt, rttvar;
	vg_ns			rtt_max;	/* the worst of the last window */
	/* rtt_max's window: VG_RTT_SLOTS slots of rtt_slot_len, the current
	 * one began at rtt_slot_at */
	vg_ns			rtt_slot[VG_RTT_SLOTS];
	size_t			rtt_slot_cur;
	vg_ns			rtt_slot_at, rtt_slot_len;
	/* after it came up or a silence: sent before rtt_resume, or before
	 * the first echo since (rtt_from) came back, is no sample */
	vg_ns			rtt_resume, rtt_from;
	uint64_t		rtt_skipped;	/* samples left out so */
};

void		vg_peer_init(struct vg_peer *, const struct vg_conf_node *);

/* Heard within dead_time at `now`: the view to show (see above). */
int		vg_peer_alive(const struct vg_peer *, vg_ns now);

/* The next seq of our stream to it, its send time recorded as `now`. */
uint64_t	vg_peer_next_seq(struct vg_peer *, vg_ns now);

/* What our next message to it echoes: its newest seq and how long we held it. */
uint64_t	vg_peer_echo_seq(const struct vg_peer *);
uint32_t	vg_peer_echo_delay_us(const struct vg_peer *, vg_ns now);

/* An accepted message (rx.c has run every check).  `gap` is what
 * vg_replay_update returned for it.  now: when it is heard (its liveness:
 * when it is handled, or when it came for a heartbeat read from the
 * second socket; never earlier than a message of the peer's heard
 * before); came: when it arrived, the same unless it waited in the
 * socket (an active reads its echoes at its next wake-up): the round-trip
 * sample and the hold time our echo of it reports count from then. */
enum vg_peer_event vg_peer_heard(struct vg_peer *, const struct vg_msg *,
		    int64_t gap, vg_ns now, vg_ns came, vg_ns dead_time);

/* Liveness at `now`: VG_PEER_EV_DOWN the first time dead_at has passed. */
enum vg_peer_event vg_peer_tick(struct vg_peer *, vg_ns now);

/* The worst round trip of the last window (rtt_max; srtt if the window
 * has no sample), 0 without any: what the election adds to its waits. */
vg_ns		vg_peer_rtt_bound(const struct vg_peer *);

/* When we sent seq of our stream to it; VG_NS_NEVER if not in the ring. */
vg_ns		vg_peer_sent_at(const struct vg_peer *, uint64_t seq);

/* When vg_peer_tick next has something to say; VG_NS_NEVER if nothing. */
vg_ns		vg_peer_deadline(const struct vg_peer *);

const char	*vg_peer_event_name(enum vg_peer_event);



/*
 * The peer table: every node of the config but this one, in config order.
 * One per agent, shared, never copied: rx.c finds senders in it (and moves
 * their replay windows), the shell sends, times and shows from it.
 */
struct vg_peers {
	struct vg_peer	*p;
	size_t		n;
	uint64_t	seq_base;	/* vg_peers_fresh_start's, kept by
					 * reconf and join: a node new to the
					 * table proves itself as well */
};

/*
 * Freshness after a restart (issue 12).  This node's replay windows start
 * empty, so a peer's datagrams captured before the restart would be taken
 * once more.  Our seqs of this incarnation start above a base that no seq
 * of an earlier one reached (the incarnation, milliseconds of the wall
 * clock at start at least, shifted by VG_SEQ_BASE_SHIFT: 2^20 seqs per
 * millisecond that the earlier one ran), and a peer's message counts only
 * once one of its messages echoes a seq we sent above it: it heard us after
 * we started.  vg_peers_fresh_start sets that base for every peer.
 */
#define VG_SEQ_BASE_SHIFT	20
void		vg_peers_fresh_start(struct vg_peers *, uint64_t incarnation);
/* Whether msg (accepted by every other check) may count: it proves, or an
 * earlier one did, that the peer heard this node after it started. */
int		vg_peer_fresh(struct vg_peer *, const struct vg_msg *);
/* 1 if p needs no proof (no restart to prove, or proved already). */
int		vg_peer_fresh_already(const struct vg_peer *);

/*
 * Builds in `next` the table for config `c` from `cur` (empty at start): a
 * node whose id `cur` has keeps everything heard of it (liveness, replay
 * window, round trip, counters, our seq stream to it) and takes its
 * identity (name, address, votes, role) from `c`; a new one starts clean.
 * `cur` is not touched.  0, or -1 (out of memory: `next` is empty).
 */
int		vg_peers_reconf(struct vg_peers *next, const struct vg_peers *cur,
		    const struct vg_conf *c);
/* The table of a joint configuration (design.md, "joint quorum"): the
 * nodes of c, then those of c2 that c does not have, but self_id; what
 * `cur` heard of each stays, as in vg_peers_reconf. */
int		vg_peers_join(struct vg_peers *next, const struct vg_peers *cur,
		    const struct vg_conf *c, const struct vg_conf *c2,
		    uint16_t self_id);
void		vg_peers_free(struct vg_peers *);

#endif
