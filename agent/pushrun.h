/*
 * pushrun: the agent's side of a configuration push (issue 14,
 * docs/design.md "Cluster-wide configuration"): the coordinator (the node
 * whose ctl asked: it offers the file to every peer, sends the chunks each
 * round, collects STAGED or REJECTED, decides LIVE or ABORT, and repeats
 * the decision until every peer confirmed it or its deadline) and the
 * participant (every node: reassembly, the check, staging, the decision
 * carried out, an ACK each round it has something to say).
 *
 * Catch-up (design.md "Catch-up"): a node that hears a peer at a higher
 * epoch, holding no push of its own, asks that peer for its file with
 * CONF_FETCH (again after D while nothing comes); the peer serves the file
 * it runs as an OFFER flagged COMMITTED and its chunks; the node checks it
 * as a pushed file, stages it and commits it at once (it was committed
 * where it came from), and answers DONE, or REJECTED (then it asks again
 * only after VG_PUSHRUN_FETCH_BACKOFF).
 *
 * Pure: no socket, no clock, no file.  What it needs done (send one
 * message, check a file for this node, stage it durably, commit it,
 * discard it) it asks through the ops the shell gives; rounds and times
 * are the caller's (one round per heartbeat round, after the heartbeats).
 */
#ifndef VG_PUSHRUN_H
#define VG_PUSHRUN_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "conf.h"
#include "push.h"

/* A push that no DECIDE ends is forgotten (its staging discarded) this
 * long after the coordinator's decision could have come: the offer's
 * arrival, plus vg_pushrun_deadline for its size and this node's D (a
 * safety setting: the coordinator's own), plus VG_PUSHRUN_DECIDE_FOR. */
#define VG_PUSHRUN_STAGE_SLACK	VG_MS(1000)
/* After the decision: how long it is repeated to peers that did not
 * confirm it. */
#define VG_PUSHRUN_DECIDE_FOR	VG_MS(2000)
/* Catch-up: files served at once (one per asking peer), and how long a
 * node waits before it asks again for a file it rejected. */
#define VG_PUSHRUN_SERVES	4
#define VG_PUSHRUN_FETCH_BACKOFF VG_MS(30000)
/* A served file's push id: this tag, the server's id, the epoch. */
#define VG_PUSHRUN_SERVE_TAG	0xC0A7ULL

struct vg_pushrun_ops {
	void	*arg;
	/* Queue one message of a push type, body of its length, to peer. */
	void	(*send)(void *arg, uint16_t peer, uint8_t type,
		    const uint8_t *body, size_t len);
	/* The file (size bytes) checked for this node as `vigild -t` does,
	 * at the offer's epoch, made this node's by the offer's flags (a key
	 * step), and as a change a push may make now: 0, or -1 with err. */
	int	(*check)(void *arg, const uint8_t *file, size_t size,
		    uint32_t epoch, uint16_t flags, char *err, size_t errlen);
	/* Written durably to the staging file: 0, or -1 with err. */
	int	(*stage)(void *arg, const uint8_t *file, size_t size,
		    char *err, size_t errlen);
	/* The staged file installed and applied: 0, or -1 with err. */
	int	(*commit)(void *arg, char *err, size_t errlen);
	/* The staging dropped (an abort, or its time ran out). */
	void	(*discard)(void *arg);
	/* The push this node staged, at epoch, was aborted (heard, or
	 * decided here): what it promised by staging is void.  May be
	 * NULL. */
	void	(*aborted)(void *arg, uint32_t epoch);
	/* A safety change's JOINT step: this node moved to J = (C, C'), the
	 * staged file C', durably (a restart comes back in J): 0; 1 if it
	 * runs C' already (nothing moved, nothing to keep: its JOINT is
	 * forgotten in time like a staging); -1 with err.  Its FINAL step is
	 * commit. */
	int	(*joint)(void *arg, char *err, size_t errlen);
	/* Catch-up: the file this node runs, to serve (*file malloc'd,
	 * *epoch the running epoch): 0, or -1 with err. */
	int	(*load)(void *arg, uint8_t **file, uint32_t *size,
		    uint32_t *epoch, char *err, size_t errlen);
};

/* A file this node serves to a peer catching up. */
struct vg_pushrun_serve {
	uint16_t		id;	/* 0: a free slot */
	struct vg_push_tx	tx;
	uint8_t			*file;
	int			heard;
	vg_ns			until;
};

/* What became of one target of the coordinator's push. */
struct vg_pushrun_target {
	uint16_t		id;
	struct vg_push_tx	tx;
	uint8_t			status;	/* 0 silent, STAGED, REJECTED */
	int			heard;	/* any ACK of this push */
	int			confirmed;	/* the decision: DONE heard */
	int			down;	/* silent at a LIVE decision taken
					 * with --allow-down: catches up */
	unsigned		votes;	/* its votes (--allow-down; in C) */
	unsigned		votes_new;	/* a joint move: in C' */
	int			in_joint;	/* it said it is in J */
	char			error[VG_PUSH_ERR_LEN];
};

enum vg_pushrun_phase {
	VG_PR_IDLE = 0,
	VG_PR_TRANSFER,		/* offer and chunks, answers awaited */
	VG_PR_JOINT,		/* JOINT until a quorum of C and of C' is
				 * in J, then D_J, then FINAL */
	VG_PR_DECIDED,		/* the decision repeated until confirmed */
	VG_PR_FINISHED,		/* the result waits for the shell */
};

struct vg_pushrun {
	struct vg_pushrun_ops	ops;
	vg_ns			dead_time;	/* the caller's D, kept current */

	/* the coordinator's push */
	enum vg_pushrun_phase	phase;
	uint64_t		push_id;
	uint32_t		epoch;
	uint8_t			*file;	/* its copy */
	uint32_t		size;
	struct vg_pushrun_target t[VG_MAX_NODES];
	size_t			n;
	vg_ns			deadline;	/* for the answers */
	vg_ns			decide_until;
	uint8_t			step;		/* LIVE, ABORT, JOINT, FINAL */
	char			why[256];	/* an abort's own reason */
	uint32_t		rounds;
	int			allow_down;	/* vg_pushrun_allow_down */
	unsigned		self_votes, need;
	char			short_of[128];	/* --allow-down, no quorum */
	int			joint;		/* a safety change: vg_pushrun_joint */
	unsigned		self_new, q_old, q_new;
	vg_ns			dead_j, final_at;	/* final_at 0: no quorum yet */
	vg_ns			joint_quorum_at;	/* when both were in J */

	/* this node as a participant */
	struct vg_push_rx	rx;
	uint16_t		from;		/* the coordinator it answers */
	uint8_t			status;		/* 0, RECEIVING, STAGED, ... */
	int			joint_light;	/* JOINT, but it runs C' already */
	char			error[VG_PUSH_ERR_LEN];
	int			ack_due;
	vg_ns			offered_at;	/* the push's forget-by: */
	vg_ns			forget_at;	/* offered_at + its time */
	uint64_t		done_id;	/* the last push decided here */
	uint32_t		done_epoch;
	uint8_t			done_status;	/* DONE, or REJECTED: failed */
	char			done_error[VG_PUSH_ERR_LEN];
	int			done_catchup;	/* that one was a catch-up */

	/* catch-up: this node's fetch, and the files it serves */
	vg_ns			fetch_at;	/* the next FETCH no sooner */
	uint16_t		self;		/* this node's id (serve ids) */
	struct vg_pushrun_serve	serve[VG_PUSHRUN_SERVES];
	uint64_t		served, fetched;	/* counters */
	char			serve_error[VG_PUSH_ERR_LEN + 64];
};

void	vg_pushrun_init(struct vg_pushrun *, const struct vg_pushrun_ops *);
void	vg_pushrun_free(struct vg_pushrun *);

/* How long a coordinator waits for every answer: 3 s and 10·D at least,
 * and 20 ms more per chunk (a 1000-VIP file: about 1 s more). */
vg_ns	vg_pushrun_deadline(vg_ns dead_time, uint32_t size);

/*
 * Starts a push of file (copied) at epoch to the peers (ids), this node
 * having checked and staged it already: 0, or -1 with err (one is under
 * way, the file is too large, out of memory).
 */
int	vg_pushrun_start(struct vg_pushrun *, uint64_t push_id, uint32_t epoch,
	    const uint8_t *file, uint32_t size, const uint16_t *peers,
	    size_t n, vg_ns now, vg_ns deadline, char *err, size_t errlen);
/*
 * `config push --allow-down` (design.md "Commit"), called right after
 * vg_pushrun_start: targets silent at the deadline no longer stop a LIVE
 * decision when the nodes that staged, this one included (self_votes),
 * hold at least `need` votes; votes[i] are the votes of peers[i] given to
 * vg_pushrun_start.  A rejection still aborts.  The silent ones are left
 * to catch up (their decision is still sent; none is waited for).
 */
void	vg_pushrun_allow_down(struct vg_pushrun *, unsigned self_votes,
	    const unsigned *votes, unsigned need);
/*
 * A safety-relevant change (design.md, "joint quorum"), called right after
 * vg_pushrun_start with the targets being every node of C and C' but this
 * one: once every target staged, the decision is JOINT (this node moves
 * first, ops.joint), repeated until the nodes in J hold a quorum of C
 * (votes_old, q_old) and one of C' (votes_new, q_new), this node's own
 * votes (self_old, self_new) included; then D_J = dead_j more on this
 * node's clock; then FINAL (this node first, ops.commit), repeated as a
 * LIVE decision is.  No abort after JOINT: without both quorums the move
 * stays in J (safe), the result says so, and a push of the same file
 * continues it.
 */
void	vg_pushrun_joint(struct vg_pushrun *, unsigned self_old,
	    unsigned self_new, const unsigned *votes_old,
	    const unsigned *votes_new, unsigned q_old, unsigned q_new,
	    vg_ns dead_j);
/* A restart in J: this node holds the move to the staged file of epoch
 * (sha256), as if it had said JOINT: a FINAL of that epoch, or a push of
 * the same file, continues it. */
void	vg_pushrun_resume_joint(struct vg_pushrun *, uint32_t epoch,
	    const uint8_t sha256[VG_PUSH_SHA_LEN]);
/* 1 while this node is in J (it said JOINT, or resumed). */
int	vg_pushrun_in_joint(const struct vg_pushrun *);
/* A node in J saw that FINAL was decided (a node of C runs C'): it moves
 * to C' (ops.commit) as if FINAL had come.  0, or -1 with err. */
int	vg_pushrun_final_seen(struct vg_pushrun *, char *err, size_t errlen);
/* The offer's flags (a key step of `vigilctl key rotate`), called right
 * after vg_pushrun_start. */
void	vg_pushrun_offer_flags(struct vg_pushrun *, uint16_t flags);
/* 1 while this node coordinates a push (its result not taken yet). */
int	vg_pushrun_busy(const struct vg_pushrun *);

/* A push message from peer `from` that passed rx, for a node running
 * `epoch`. */
void	vg_pushrun_input(struct vg_pushrun *, uint16_t from, uint8_t type,
	    const uint8_t *body, size_t len, uint32_t epoch, vg_ns now);
/* Any message that passed rx from peer `from`, which runs peer_epoch,
 * for a node running `epoch`: a higher one starts (or repeats) catch-up. */
void	vg_pushrun_heard(struct vg_pushrun *, uint16_t from,
	    uint32_t peer_epoch, uint32_t epoch, vg_ns now);
/* 1 while this node catches up (a served file being received). */
int	vg_pushrun_catching_up(const struct vg_pushrun *);

/* One round: the coordinator's offers, chunks (VG_PUSH_PER_ROUND a target)
 * and decisions, the participant's ACK; the deadlines. */
void	vg_pushrun_round(struct vg_pushrun *, vg_ns now);

/*
 * The result of the coordinator's push, once (then it is idle again): 1
 * and *committed (LIVE or FINAL) or not (ABORT, or a move left in J:
 * pr->step JOINT), the targets in pr->t[] until the next start; 0 while
 * it goes on or when there is none.
 */
int	vg_pushrun_take(struct vg_pushrun *, int *committed);

const char *vg_push_status_name(uint8_t);

#endif
