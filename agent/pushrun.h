/*
 * pushrun: the agent's side of a configuration push (issue 14,
 * docs/design.md "Cluster-wide configuration"): the coordinator (the node
 * whose ctl asked: it offers the file to every peer, sends the chunks each
 * round, collects STAGED or REJECTED, decides LIVE or ABORT, and repeats
 * the decision until every peer confirmed it or its deadline) and the
 * participant (every node: reassembly, the check, staging, the decision
 * carried out, an ACK each round it has something to say).
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

struct vg_pushrun_ops {
	void	*arg;
	/* Queue one message of a push type, body of its length, to peer. */
	void	(*send)(void *arg, uint16_t peer, uint8_t type,
		    const uint8_t *body, size_t len);
	/* The file (size bytes) checked for this node as `vigild -t` does,
	 * at the offer's epoch, and as a change a push may make now: 0, or
	 * -1 with err. */
	int	(*check)(void *arg, const uint8_t *file, size_t size,
		    uint32_t epoch, char *err, size_t errlen);
	/* Written durably to the staging file: 0, or -1 with err. */
	int	(*stage)(void *arg, const uint8_t *file, size_t size,
		    char *err, size_t errlen);
	/* The staged file installed and applied: 0, or -1 with err. */
	int	(*commit)(void *arg, char *err, size_t errlen);
	/* The staging dropped (an abort, or its time ran out). */
	void	(*discard)(void *arg);
};

/* What became of one target of the coordinator's push. */
struct vg_pushrun_target {
	uint16_t		id;
	struct vg_push_tx	tx;
	uint8_t			status;	/* 0 silent, STAGED, REJECTED */
	int			heard;	/* any ACK of this push */
	int			confirmed;	/* the decision: DONE heard */
	char			error[VG_PUSH_ERR_LEN];
};

enum vg_pushrun_phase {
	VG_PR_IDLE = 0,
	VG_PR_TRANSFER,		/* offer and chunks, answers awaited */
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
	uint8_t			step;		/* LIVE or ABORT, once decided */
	char			why[256];	/* an abort's own reason */
	uint32_t		rounds;

	/* this node as a participant */
	struct vg_push_rx	rx;
	uint16_t		from;		/* the coordinator it answers */
	uint8_t			status;		/* 0, RECEIVING, STAGED, ... */
	char			error[VG_PUSH_ERR_LEN];
	int			ack_due;
	vg_ns			offered_at;	/* the push's forget-by: */
	vg_ns			forget_at;	/* offered_at + its time */
	uint64_t		done_id;	/* the last push decided here */
	uint32_t		done_epoch;
	uint8_t			done_status;	/* DONE, or REJECTED: failed */
	char			done_error[VG_PUSH_ERR_LEN];
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
/* 1 while this node coordinates a push (its result not taken yet). */
int	vg_pushrun_busy(const struct vg_pushrun *);

/* A push message from peer `from` that passed rx, for a node running
 * `epoch`. */
void	vg_pushrun_input(struct vg_pushrun *, uint16_t from, uint8_t type,
	    const uint8_t *body, size_t len, uint32_t epoch, vg_ns now);
/* One round: the coordinator's offers, chunks (VG_PUSH_PER_ROUND a target)
 * and decisions, the participant's ACK; the deadlines. */
void	vg_pushrun_round(struct vg_pushrun *, vg_ns now);

/*
 * The result of the coordinator's push, once (then it is idle again): 1
 * and *committed (LIVE) or not (ABORT), the targets in pr->t[] until the
 * next start; 0 while it goes on or when there is none.
 */
int	vg_pushrun_take(struct vg_pushrun *, int *committed);

const char *vg_push_status_name(uint8_t);

#endif
