/*
 * election: the quorum state machine with leases (DESIGN.md, "Election").
 * Pure: it is handed every authenticated message, every tick and "now", and
 * returns actions (remove the VIPs and wait for the ack, renew the lease,
 * persist term and vote, send a message, state changed) that vigild carries
 * out in order.  No syscalls, no clock reads, randomness from a seeded PRNG:
 * the unit tests run whole clusters of these on a fake clock.
 */
#ifndef VG_ELECTION_H
#define VG_ELECTION_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "conf.h"
#include "proto.h"

/* Why a vote was refused (VOTE body "reason"; counted, shown in status). */
enum vg_refusal {
	VG_REFUSE_NONE = 0,
	VG_REFUSE_ACTIVE,	/* (0) I am active, or my VIPs may be held */
	VG_REFUSE_TERM,		/* term not above mine, or already voted in it,
				 * or below one a node holds (the VOTE names
				 * the term to go above) */
	VG_REFUSE_RECENT,	/* (1) heard an active less than D ago */
	VG_REFUSE_INELIGIBLE,	/* (2) the candidate may not become active */
	VG_REFUSE_PRIORITY,	/* (3) a better eligible node is alive */
	VG_REFUSE_CONFIG,	/* its safety digest is not ours */
	VG_REFUSE_MAX
};

enum vg_act_type {
	VG_ACT_VIPS_OFF,	/* remove the VIPs now; wait for the ack */
	VG_ACT_LEASE,		/* keeper: hold the VIPs until deadline */
	VG_ACT_PERSIST,		/* term and vote, fsync'd, before what follows */
	VG_ACT_SEND,		/* a message; target 0 = every peer */
	VG_ACT_STATE,		/* the state changed (logs, hooks, status) */
};

struct vg_act {
	enum vg_act_type	type;
	uint8_t			group;		/* the election's (el->group) */
	uint8_t			msg_type;	/* SEND */
	uint16_t		target;		/* SEND */
	uint16_t		flags;		/* SEND */
	uint16_t		reason;		/* SEND VOTE */
	uint64_t		term;		/* SEND, PERSIST, LEASE */
	uint16_t		voted_for;	/* PERSIST */
	vg_ns			deadline;	/* LEASE */
	uint16_t		successor;	/* SEND RELEASE, TRANSFER: in the
						 * header's active field */
	uint8_t			old_state, new_state;	/* STATE */
	const char		*why;		/* STATE: a few words for the log */
};

/*
 * The actions of one entry point do not grow with the number of nodes (a
 * SEND to every peer is one action): at most 10 (a vote that wins, then a
 * preemption in the same tick; or a tick that stands, wins at once on its
 * own votes and renews).  The shell may gather into one list two entry
 * points, or one per VIP group (maintenance, a FINAL, the keeper lost):
 * 10 * (VG_MAX_GROUPS + 2) = 180 leaves room for that (tests/unit:
 * test_acts_bound drives 3- and 64-node elections with random input and
 * checks the 10).  A full list is a broken invariant (abort), never a
 * dropped action.  Only a[0..n) is ever read and act() clears each entry
 * it appends: a caller sets n = 0 and need not zero the rest (10 kB, once
 * a datagram).
 */
#define VG_ACTS_MAX	(10 * (VG_MAX_GROUPS + 2))

struct vg_acts {
	struct vg_act	a[VG_ACTS_MAX];
	size_t		n;
	uint8_t		group;	/* each entry point sets it: act() stamps it */
};

struct vg_el_node {
	uint16_t	id;
	uint8_t		votes;
	enum vg_role	role;
	int		self;
	/* what it last told us */
	int		heard;
	vg_ns		last_heard;
	uint8_t		state;
	int		holding;	/* its VIPs may still be in its kernel */
	uint8_t		priority;	/* effective */
	uint64_t	term;
	uint64_t	incarnation;
	vg_ns		released_at;	/* released or restarted at; -1 never */
	/* while we are active: send time of the newest heartbeat it echoed */
	vg_ns		ack_sent;
	/* while we are a candidate: its answer this round */
	int		granted;
	/* eligible (standby) and heard without a gap since; -1 not */
	vg_ns		healthy_since;
	/* when we heard it a standby again after no-quorum, fault or
	 * maintenance (its return, as heard); -1 never */
	vg_ns		back_heard;
	/* it sent RELEASE (its agent, or its keeper after a crash): no
	 * hand-over target until a heartbeat sent after that one */
	int		gone;
	uint64_t	gone_inc, gone_seq;
	/* incarnation hb_inc came up at up_at (0: none yet): when its first
	 * heartbeat came, or when its incarnation (the wall clock in ms at its
	 * start, as ours) says it started if that is earlier: it started, and
	 * its D began, no later than that */
	uint64_t	hb_inc;
	vg_ns		up_at;
	/* configuration agreement: its last message carried our safety
	 * digest (1 until it is heard); else since when it has not */
	int		agrees;
	vg_ns		disagree_since;	/* -1 while it agrees */
	uint64_t	echoes_ignored;	/* its echoes not counted to a lease */
	uint64_t	votes_ignored;	/* its granted votes not counted */
	uint64_t	requests_refused;	/* its vote requests refused so */
	/* a configuration move (docs/design.md, "joint quorum"): in J its
	 * votes in C' (votes: in C), and which digest it last sent:
	 * 1 ours, 2 the other one we agree with (J: C''s; C': J's), 0 none */
	uint8_t		votes_new;
	enum vg_role	role_new;
	int		cfg;
};

/* Why a hand-over cannot be done (vigilctl failover says so). */
enum vg_handover_err {
	VG_HO_OK = 0,
	VG_HO_NOT_ACTIVE,	/* this node is not the active */
	VG_HO_NO_ACTIVE,	/* no live active is known to ask */
	VG_HO_NO_TARGET,	/* no eligible node to hand over to */
	VG_HO_UNKNOWN,		/* no such node */
	VG_HO_SELF,		/* the target is the active itself */
	VG_HO_DEAD,		/* the target has not been heard within D */
	VG_HO_INELIGIBLE,	/* a witness, or not standby (fault, maintenance...) */
	VG_HO_NO_QUORUM,	/* a quorum is not in sight */
	VG_HO_GONE,		/* it released or stopped; not heard since */
	VG_HO_DISAGREES,	/* its safety configuration is not ours */
	VG_HO_MAX
};

#define VG_FLAP_MAX	64

struct vg_election {
	/* configuration */
	uint8_t		group;		/* index in conf->groups: its VIPs,
					 * priorities and preemption */
	uint32_t	digest;		/* our safety digest (conf.h) */
	uint16_t	self_id;
	size_t		self;		/* index in nodes[] */
	unsigned	quorum;
	vg_ns		h, dead, lease, margin;
	/* how long a VIP outlives its last add at most: vip_lifetime and
	 * the kernel's expiry check (VG_VIP_EXPIRY_SLACK) */
	vg_ns		vip_outlives;
	double		rho;
	/* a configuration move: in J = (C, C') every quorum is one of C (by
	 * votes, among peers that sent J's digest) and one of C' (by
	 * votes_new, among peers that sent J's or C''s); after FINAL, J's
	 * digest still agrees (digest_alt) */
	int		joint;
	int		removed;	/* C' leaves this node out */
	unsigned	quorum_new;	/* J: C''s */
	uint32_t	digest_alt;	/* J: C''s; C' after J: J's; 0 none */
	struct vg_el_node nodes[VG_MAX_NODES];
	size_t		n_nodes;

	/* persisted: term and the vote in it */
	uint64_t	term;
	uint16_t	voted_for;

	uint8_t		state;		/* enum vg_state */
	uint8_t		priority;	/* own effective priority */
	int		fault, maintenance;
	uint64_t	max_term;	/* highest term seen in any valid message */
	/* highest term another node's heartbeat carried: that node holds it,
	 * and would depose an active of a lower term when the two meet, so
	 * no vote or pre-vote goes below it (docs/design.md, "No vote below
	 * a term a node holds") */
	uint64_t	held_term;
	uint16_t	active_id;	/* the active of `term` we know; 0 none */
	vg_ns		active_since;	/* when active_id last changed */
	uint64_t	active_inc;	/* its incarnation */
	vg_ns		quiet_since;	/* rule (1): last active hb, real vote, step-down, start */
	/* our own start and incarnation (0: not told): a peer's incarnation
	 * says when it started, in our clock (heard_alive) */
	vg_ns		started_at;
	uint64_t	self_inc;
	vg_ns		last_active_hb;	/* rule (3)'s window */
	uint64_t	echo_seq;	/* newest seq of the active's heartbeats in term */
	uint16_t	term_active;	/* who was active in term_active_of, even */
	uint64_t	term_active_of;	/* after it stood down (active_id is 0) */
	uint64_t	conflict_term;	/* two actives were heard in it: neither
					 * is followed (0: none) */

	/* RELEASE / TRANSFER of `term` by its active */
	int		released;
	uint16_t	released_by;
	vg_ns		released_at;
	int		transfer_to_me;
	uint16_t	release_to;	/* the successor it named; 0 none */
	/* the TRANSFER carried its sender's vote for us in xfer_term
	 * (VG_FLAG_GRANTED, version 4), given after it heard our message
	 * sent at xfer_ack: an echo of it (0: none) */
	uint16_t	xfer_vote;
	uint64_t	xfer_term;
	vg_ns		xfer_ack;
	uint16_t	xfer_counted;	/* this round counts it (become_active) */

	/* preemption and flap damping */
	int		preempt;
	vg_ns		preempt_delay;
	unsigned	max_failovers;
	vg_ns		flap_window;
	vg_ns		failovers[VG_FLAP_MAX];	/* ring: changes of active seen */
	size_t		n_failovers, flap_head;

	/* as active */
	vg_ns		lease_deadline;
	int		lapsed;
	vg_ns		lapsed_at;
	vg_ns		lapse_quiet_at;	/* lapsed, first seen no quorum heard */
	int		holding;	/* LEASE hold sent and not taken back */
	uint64_t	released_own;	/* a term we released: never hold in it again */

	/* as voter: a request that rule (1) would refuse, its D ending
	 * within 2h, kept and answered then (defer_request) */
	int		deferred;
	vg_ns		deferred_at;
	struct vg_msg	deferred_req;

	/* as candidate */
	int		prevote;	/* phase: 1 pre-vote, 0 real */
	uint64_t	cand_term;
	vg_ns		round_end;
	vg_ns		req_sent;
	vg_ns		backoff_until;
	vg_ns		rtt_worst;	/* the worst of a recent window, capped at L */
	vg_ns		rtt_typ;	/* a typical one (srtt), capped at L */
	uint64_t	rng;
	vg_ns		back_at;	/* standby again after no-quorum, fault
					 * or maintenance: listen a round first */

	struct {
		uint64_t	elections_started, elections_won, rounds_failed;
		uint64_t	votes_granted, prevotes_granted;
		/* requests kept until rule (1) ended (defer_request) */
		uint64_t	requests_deferred;
		uint64_t	refused[VG_REFUSE_MAX];	/* by us */
		uint64_t	refusals[VG_REFUSE_MAX];	/* of our requests */
		uint64_t	lease_lapses, lease_renewals, step_downs;
		uint64_t	releases_accepted, releases_rejected;
		uint64_t	conflicts;	/* an active of our term that is not ours */
		uint64_t	handovers, handover_requests, preemptions;
		/* the vote in a TRANSFER: given (as the active that hands
		 * over), and counted to a win (as its successor) */
		uint64_t	transfer_votes, transfer_vote_wins;
		/* configuration agreement, and terms out of range */
		uint64_t	echoes_ignored, votes_ignored, terms_refused;
	}		st;
};

/* From the config: who we are, who votes, the timing; term/vote as persisted.
 * One election per VIP group (docs/design.md, "VIP groups"): the group's
 * priorities and preemption, a node of priority 0 in it taking part as a
 * witness; vg_el_init is group 0. */
void	vg_el_init(struct vg_election *, const struct vg_conf *, uint64_t term,
	    uint16_t voted_for, uint64_t seed, vg_ns now);
void	vg_el_init_group(struct vg_election *, const struct vg_conf *,
	    size_t group, uint64_t term, uint16_t voted_for, uint64_t seed,
	    vg_ns now);

/* An accepted message.  echo_sent is the send time of msg->echo_seq of
 * our stream to its sender (VG_NS_NEVER if unknown). */
void	vg_el_input(struct vg_election *, const struct vg_msg *,
	    vg_ns echo_sent, vg_ns now, struct vg_acts *);
/* The same for a message heard at `heard` (<= now), not at now: a
 * heartbeat read from the second socket counts as heard when it came
 * (docs/design.md, "Heartbeats that can wait"), as it would have read on
 * arrival, for rule (3), the rank, quorum visibility and preemption. */
void	vg_el_input_at(struct vg_election *, const struct vg_msg *,
	    vg_ns echo_sent, vg_ns heard, vg_ns now, struct vg_acts *);
/* Deadlines: lease, lapse, candidacy, round end, quorum visibility. */
void	vg_el_tick(struct vg_election *, vg_ns now, struct vg_acts *);
vg_ns	vg_el_deadline(const struct vg_election *, vg_ns now);
/* 1 if this group's datagrams may wait until `until` (the agent's next
 * wake-up) instead of waking it as they come: it is active, holds its
 * lease, the lease already runs from its latest heartbeat round (sent at
 * `sent`: a quorum's echo of it was read), and it outlasts `until` by
 * `del` (the keeper's removal batches, which start that long before the
 * deadline) and by how late that wake-up may come (VG_RX_LATE, or the
 * margin h/4 if longer).  Anything else (standby, candidate, lapsed, a
 * round not yet echoed, a thin lease) reads at once. */
#define VG_RX_LATE	VG_MS(4)
int	vg_el_rx_may_wait(const struct vg_election *, vg_ns until, vg_ns del,
	    vg_ns sent);

/* How long a standby that a RELEASE names as successor waits for the
 * TRANSFER behind it before it stands on the RELEASE alone: the lesser of
 * this and h/8, or half a typical round trip if that is longer. */
#define VG_XFER_GRACE	VG_MS(1)

/* After vg_el_init: this node's incarnation, the wall clock in ms at its
 * start (statedir.h), as its peers' are: when a peer came up, as far as a
 * candidacy waits for it (voters_quiet), is the earlier of when its first
 * heartbeat came and when its incarnation says it started. */
void	vg_el_set_incarnation(struct vg_election *, uint64_t inc);
/* After vg_el_init, at the first heartbeat (now): when this node last
 * sent before its start, from a record that outlived the agent
 * (lastsend.h); rule (1) counts from there, not from the start, but the
 * node listens 2h first. */
void	vg_el_started_after(struct vg_election *, vg_ns last_sent, vg_ns now);

/* The grid heartbeat: whether to send one to target now (every peer: a
 * follower echoes its active on arrival and on its grid too), and the echo
 * it carries.  vg_el_grid_done after each grid round (keeps nothing now). */
int	vg_el_hb_due(const struct vg_election *, uint16_t target);
uint64_t vg_el_echo(const struct vg_election *, uint16_t target,
	    uint64_t fallback);
uint16_t vg_el_hb_flags(const struct vg_election *);
void	vg_el_grid_done(struct vg_election *);

/* Local events */
void	vg_el_set_fault(struct vg_election *, int on, vg_ns now, struct vg_acts *);
void	vg_el_keeper_lost(struct vg_election *, vg_ns now, struct vg_acts *);
/*
 * The shell could not confirm a removal of the VIPs (VG_ACT_VIPS_OFF at
 * acts->a[from - 1]): they may still be held.  Rule (0) refuses every vote
 * until vg_el_vips_off, and what would let a peer act at once (RELEASE,
 * TRANSFER, a granted VOTE) of its group is struck from acts->a[from...].
 */
void	vg_el_vips_unconfirmed(struct vg_election *, struct vg_acts *,
	    size_t from);
/* A later removal was confirmed: the VIPs are off. */
void	vg_el_vips_off(struct vg_election *);
void	vg_el_set_rtt(struct vg_election *, vg_ns worst, vg_ns typical);
/* Graceful hand-over (to 0 = the best other node): VIPs off, RELEASE, TRANSFER.
 * Returns 0, or -1 if this node is not active. */
int	vg_el_handover(struct vg_election *, uint16_t to, vg_ns now,
	    struct vg_acts *);

/* Can this active hand over to `to` (0: the best other node)?  *target
 * gets the node chosen. */
enum vg_handover_err vg_el_handover_check(const struct vg_election *,
	    uint16_t to, vg_ns now, uint16_t *target);
/* A follower asks the active (TRANSFER to it, naming `to`, 0 = its choice). */
enum vg_handover_err vg_el_request_handover(struct vg_election *, uint16_t to,
	    vg_ns now, struct vg_acts *);
const char *vg_handover_err_text(enum vg_handover_err);

void	vg_el_set_maintenance(struct vg_election *, int on, vg_ns now,
	    struct vg_acts *);
/* The effective priority (config priority less failing track weights). */
void	vg_el_set_priority(struct vg_election *, uint8_t, vg_ns now,
	    struct vg_acts *);
/* A reloaded config: quorum, membership, own priority, preemption; nodes
 * by id keep what was heard of them; the term, the vote, the state, the
 * lease and the timing (a reload cannot change it) stay. */
void	vg_el_reconf(struct vg_election *, const struct vg_conf *, vg_ns now);
/*
 * A safety-relevant configuration move (docs/design.md, "Safety-relevant
 * changes: joint quorum").  vg_el_joint moves to J = (C, C'): the nodes of
 * both, J's digest (vg_el_joint_digest) on the wire, both quorums for a
 * renewal, a win and a quorum in sight, D_J = max(D, D'), L_J = min(L, L'),
 * h_J = min(h, h'), only a node of both may stand.  vg_el_final moves to C'
 * alone (from J, or from C when JOINT was missed); a node that C' leaves
 * out releases what it holds and never votes or stands again.  Term, vote,
 * quiet times and a running lease carry over both.  The coordinator sends
 * FINAL only after JOINT acks from a quorum of C and of C', and D_J more.
 * Both are idempotent; vg_el_final returns -1 if c does not name us.
 */
uint32_t vg_el_joint_digest(uint32_t old_digest, uint32_t new_digest);
void	vg_el_joint(struct vg_election *, const struct vg_conf *, vg_ns now);
int	vg_el_final(struct vg_election *, const struct vg_conf *, vg_ns now,
	    struct vg_acts *);

/* Automatic preemption is on hold: too many changes of active lately. */
int	vg_el_flapping(const struct vg_election *, vg_ns now);

/*
 * Configuration agreement (DESIGN.md): a message whose config_digest is
 * not our safety digest is heard (its sender is alive, an active among them
 * keeps us from voting, its term is taken), but its echo renews no lease,
 * its vote request is refused (VG_REFUSE_CONFIG), its vote is not counted,
 * and its sender counts toward no quorum in sight and is no candidate or
 * hand-over target of ours.  A message with a term at or above
 * VG_TERM_LIMIT is dropped whole (st.terms_refused).
 */
/* Peers heard within D whose last message disagreed. */
size_t	vg_el_disagreeing(const struct vg_election *, vg_ns now);
/* What the election keeps of node `id` (NULL: not in the config). */
const struct vg_el_node *vg_el_node_of(const struct vg_election *,
	    uint16_t id);

/* Votes of the nodes heard within D that agree with us (self included). */
int	vg_el_has_quorum(const struct vg_election *, vg_ns now);
unsigned vg_el_votes_seen(const struct vg_election *, vg_ns now);
const char *vg_refusal_name(enum vg_refusal);
/* Whether set_state may go from one state to the other (it asserts this). */
int	vg_el_transition_ok(uint8_t from, uint8_t to);

#endif
