/*
 * pushrun: the coordinator and the participant of a configuration push;
 * pure (pushrun.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pushrun.h"

static const char *const status_names[] = {
	[0] = "none",
	[VG_PUSH_RECEIVING] = "receiving",
	[VG_PUSH_STAGED] = "staged",
	[VG_PUSH_REJECTED] = "rejected",
	[VG_PUSH_JOINT] = "joint",
	[VG_PUSH_DONE] = "done",
};

const char *
vg_push_status_name(uint8_t s)
{
	return s <= VG_PUSH_DONE ? status_names[s] : "invalid";
}

void
vg_pushrun_init(struct vg_pushrun *pr, const struct vg_pushrun_ops *ops)
{
	memset(pr, 0, sizeof(*pr));
	pr->ops = *ops;
}

void
vg_pushrun_free(struct vg_pushrun *pr)
{
	size_t i;

	free(pr->file);
	pr->file = NULL;
	vg_push_rx_free(&pr->rx);
	for (i = 0; i < VG_PUSHRUN_SERVES; i++) {
		free(pr->serve[i].file);
		memset(&pr->serve[i], 0, sizeof(pr->serve[i]));
	}
}

vg_ns
vg_pushrun_deadline(vg_ns dead_time, uint32_t size)
{
	vg_ns d = VG_MS(3000);

	if (10 * dead_time > d)
		d = 10 * dead_time;
	return d + (vg_ns)vg_push_chunks(size) * VG_MS(20);
}

int
vg_pushrun_busy(const struct vg_pushrun *pr)
{
	return pr->phase != VG_PR_IDLE;
}

int
vg_pushrun_start(struct vg_pushrun *pr, uint64_t push_id, uint32_t epoch,
    const uint8_t *file, uint32_t size, const uint16_t *peers, size_t n,
    vg_ns now, vg_ns deadline, char *err, size_t errlen)
{
	size_t i;
	uint8_t *copy;

	if (pr->phase != VG_PR_IDLE) {
		snprintf(err, errlen, "push %016llx (epoch %u) is under way",
		    (unsigned long long)pr->push_id, pr->epoch);
		return -1;
	}
	if (pr->status == VG_PUSH_RECEIVING || pr->status == VG_PUSH_STAGED) {
		snprintf(err, errlen, "node %u's push %016llx (epoch %u) is %s "
		    "here", pr->from, (unsigned long long)pr->rx.offer.push_id,
		    pr->rx.offer.epoch, vg_push_status_name(pr->status));
		return -1;
	}
	if (size > VG_PUSH_MAX_SIZE || n > VG_MAX_NODES || push_id == 0) {
		snprintf(err, errlen, "a file of %u bytes cannot be pushed "
		    "(at most %u)", size, VG_PUSH_MAX_SIZE);
		return -1;
	}
	if ((copy = malloc(size ? size : 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(copy, file, size);
	free(pr->file);
	pr->file = copy;
	pr->size = size;
	pr->push_id = push_id;
	pr->epoch = epoch;
	pr->n = n;
	pr->step = 0;
	pr->why[0] = '\0';
	pr->rounds = 0;
	pr->allow_down = 0;
	pr->self_votes = 0;
	pr->need = 0;
	pr->short_of[0] = '\0';
	pr->joint = 0;
	pr->final_at = pr->joint_quorum_at = 0;
	memset(pr->t, 0, sizeof(pr->t));
	for (i = 0; i < n; i++) {
		pr->t[i].id = peers[i];
		(void)vg_push_tx_init(&pr->t[i].tx, push_id, epoch, copy, size);
	}
	pr->deadline = now + deadline;
	pr->phase = VG_PR_TRANSFER;
	return 0;
}

void
vg_pushrun_allow_down(struct vg_pushrun *pr, unsigned self_votes,
    const unsigned *votes, unsigned need)
{
	size_t i;

	pr->allow_down = 1;
	pr->self_votes = self_votes;
	pr->need = need;
	for (i = 0; i < pr->n; i++)
		pr->t[i].votes = votes[i];
}

void
vg_pushrun_joint(struct vg_pushrun *pr, unsigned self_old, unsigned self_new,
    const unsigned *votes_old, const unsigned *votes_new, unsigned q_old,
    unsigned q_new, vg_ns dead_j)
{
	size_t i;

	pr->joint = 1;
	pr->self_votes = self_old;
	pr->self_new = self_new;
	pr->q_old = q_old;
	pr->q_new = q_new;
	pr->dead_j = dead_j;
	for (i = 0; i < pr->n; i++) {
		pr->t[i].votes = votes_old[i];
		pr->t[i].votes_new = votes_new[i];
	}
}

void
vg_pushrun_offer_flags(struct vg_pushrun *pr, uint16_t flags)
{
	size_t i;

	for (i = 0; i < pr->n; i++)
		pr->t[i].tx.offer.flags = flags;
}

static struct vg_pushrun_target *
target(struct vg_pushrun *pr, uint16_t id)
{
	size_t i;

	for (i = 0; i < pr->n; i++)
		if (pr->t[i].id == id)
			return &pr->t[i];
	return NULL;
}

/* ---- the coordinator */

static void
send_offer(struct vg_pushrun *pr, const struct vg_pushrun_target *t)
{
	uint8_t body[64];
	size_t len = vg_push_encode_offer(&t->tx.offer, body, sizeof(body));

	pr->ops.send(pr->ops.arg, t->id, VG_MSG_CONF_OFFER, body, len);
}

static void
send_chunks(struct vg_pushrun *pr, const struct vg_pushrun_target *t)
{
	uint16_t idx[VG_PUSH_PER_ROUND];
	uint8_t body[16 + VG_PUSH_CHUNK];
	struct vg_push_chunk c;
	size_t n, i, len;

	n = vg_push_tx_round(&t->tx, idx, VG_PUSH_PER_ROUND);
	for (i = 0; i < n; i++) {
		vg_push_tx_chunk(&t->tx, idx[i], &c);
		len = vg_push_encode_chunk(&c, body, sizeof(body));
		pr->ops.send(pr->ops.arg, t->id, VG_MSG_CONF_CHUNK, body, len);
	}
}

static void
send_decide(struct vg_pushrun *pr, const struct vg_pushrun_target *t)
{
	struct vg_push_decide x;
	uint8_t body[16];
	size_t len;

	memset(&x, 0, sizeof(x));
	x.push_id = pr->push_id;
	x.epoch = pr->epoch;
	x.step = pr->step;
	len = vg_push_encode_decide(&x, body, sizeof(body));
	pr->ops.send(pr->ops.arg, t->id, VG_MSG_CONF_DECIDE, body, len);
}

/*
 * Every target answered, or the deadline passed: LIVE only if every one
 * staged (or, with --allow-down, none rejected and the nodes that staged
 * hold a quorum's votes: the silent ones catch up) and this node's own
 * commit succeeds (it commits first: it is the source of truth for the
 * peers that confirm late); ABORT otherwise.
 */
static void
decide(struct vg_pushrun *pr, vg_ns now)
{
	char err[200];
	size_t i, silent = 0, rejected = 0;
	unsigned staged = pr->self_votes;
	int all;

	for (i = 0; i < pr->n; i++) {
		if (pr->t[i].status == 0)
			silent++;
		else if (pr->t[i].status == VG_PUSH_STAGED)
			staged += pr->t[i].votes;
		else
			rejected++;
	}
	all = silent == 0 && rejected == 0;
	if (!all && rejected == 0 && pr->allow_down && !pr->joint) {
		if (staged >= pr->need)
			all = 1;
		else
			snprintf(pr->short_of, sizeof(pr->short_of),
			    "with --allow-down the nodes that staged hold %u "
			    "votes, a quorum is %u", staged, pr->need);
	}
	if (all && pr->joint) {
		/* this node moves first; it never aborts after this */
		if (pr->ops.joint(pr->ops.arg, err, sizeof(err)) >= 0) {
			pr->step = VG_PUSH_JOINT_STEP;
			pr->phase = VG_PR_JOINT;
			pr->final_at = 0;
			pr->deadline = now + vg_pushrun_deadline(pr->dead_time,
			    0);
			return;
		}
		snprintf(pr->why, sizeof(pr->why), "this node could not "
		    "move to the joint configuration: %s", err);
		all = 0;
	}
	pr->step = all ? VG_PUSH_LIVE : VG_PUSH_ABORT;
	if (pr->step == VG_PUSH_LIVE &&
	    pr->ops.commit(pr->ops.arg, err, sizeof(err)) == -1) {
		snprintf(pr->why, sizeof(pr->why), "this node could not "
		    "commit: %s", err);
		pr->step = VG_PUSH_ABORT;
	}
	/* the silent ones: left down to catch up only if it is LIVE */
	for (i = 0; i < pr->n; i++) {
		if (pr->t[i].status != 0)
			continue;
		pr->t[i].down = pr->step == VG_PUSH_LIVE;
		snprintf(pr->t[i].error, sizeof(pr->t[i].error), "%s",
		    pr->t[i].down ? "no answer within the push's deadline: it "
		    "catches up when it is heard again" :
		    "no answer within the push's deadline");
	}
	if (pr->step == VG_PUSH_ABORT) {
		pr->ops.discard(pr->ops.arg);
		if (pr->ops.aborted != NULL)
			pr->ops.aborted(pr->ops.arg, pr->epoch);
	}
	pr->phase = VG_PR_DECIDED;
	pr->decide_until = now + VG_PUSHRUN_DECIDE_FOR;
}

/* Every target answered STAGED or REJECTED. */
static int
all_answered(const struct vg_pushrun *pr)
{
	size_t i;

	for (i = 0; i < pr->n; i++)
		if (pr->t[i].status == 0)
			return 0;
	return 1;
}

/* Every target confirmed the decision (or was left down). */
static int
all_confirmed(const struct vg_pushrun *pr)
{
	size_t i;

	for (i = 0; i < pr->n; i++)
		if (!pr->t[i].confirmed && !pr->t[i].down)
			return 0;
	return 1;
}

/* The nodes in J, this one included, hold a quorum of C and one of C'. */
static int
joint_quorum(const struct vg_pushrun *pr)
{
	unsigned o = pr->self_votes, n = pr->self_new;
	size_t i;

	for (i = 0; i < pr->n; i++)
		if (pr->t[i].in_joint) {
			o += pr->t[i].votes;
			n += pr->t[i].votes_new;
		}
	return o >= pr->q_old && n >= pr->q_new;
}

/* FINAL: this node moves to C' first (a failure here is reported; the
 * others move all the same: the quorums are in J and D_J has run). */
static void
final_decide(struct vg_pushrun *pr, vg_ns now)
{
	char err[200];

	pr->step = VG_PUSH_FINAL;
	if (pr->ops.commit(pr->ops.arg, err, sizeof(err)) == -1)
		snprintf(pr->why, sizeof(pr->why), "this node could not move "
		    "to the new configuration: %s", err);
	if (pr->status == VG_PUSH_JOINT) {	/* a move it continued */
		pr->status = 0;
		vg_push_rx_free(&pr->rx);
	}
	pr->phase = VG_PR_DECIDED;
	pr->decide_until = now + VG_PUSHRUN_DECIDE_FOR;
}

/* The move: JOINT to the nodes not in J yet; D_J once both quorums are;
 * then FINAL.  Without both quorums by the deadline it stops, in J. */
static void
joint_round(struct vg_pushrun *pr, vg_ns now)
{
	size_t i;

	if (pr->final_at == 0 && joint_quorum(pr)) {
		pr->joint_quorum_at = now;
		pr->final_at = now + pr->dead_j;
	}
	if (pr->final_at != 0 && now >= pr->final_at) {
		final_decide(pr, now);
		for (i = 0; i < pr->n; i++)
			send_decide(pr, &pr->t[i]);
		return;
	}
	if (pr->final_at == 0 && now >= pr->deadline) {
		snprintf(pr->why, sizeof(pr->why), "the nodes in the joint "
		    "configuration do not hold a quorum of the old and of the "
		    "new membership: the move stays there (safe) until the "
		    "same file is pushed again");
		pr->phase = VG_PR_FINISHED;
		return;
	}
	for (i = 0; i < pr->n; i++)
		if (!pr->t[i].in_joint)
			send_decide(pr, &pr->t[i]);
}

static void
coordinate(struct vg_pushrun *pr, vg_ns now)
{
	struct vg_pushrun_target *t;
	size_t i;

	if (pr->phase == VG_PR_JOINT) {
		joint_round(pr, now);
		return;
	}
	if (pr->phase == VG_PR_TRANSFER &&
	    (all_answered(pr) || now >= pr->deadline))
		decide(pr, now);
	if (pr->phase == VG_PR_TRANSFER) {
		pr->rounds++;
		for (i = 0; i < pr->n; i++) {
			t = &pr->t[i];
			if (t->status != 0)
				continue;
			/* the offer until it is heard, and again once every
			 * chunk is acknowledged: it asks for the answer */
			if (!t->heard || vg_push_tx_done(&t->tx))
				send_offer(pr, t);
			send_chunks(pr, t);
		}
		return;
	}
	if (pr->phase != VG_PR_DECIDED)
		return;
	/* a node left down is not waited for (it catches up) */
	if (all_confirmed(pr) || now >= pr->decide_until) {
		pr->phase = VG_PR_FINISHED;
		return;
	}
	for (i = 0; i < pr->n; i++)
		if (!pr->t[i].confirmed)
			send_decide(pr, &pr->t[i]);
}

/*
 * The last answer decides at once, and the last confirmation ends the
 * push at once, instead of at the next round (a round is h: a push was
 * paced by them, tests/bench/push.py): the decision leaves now, to every
 * target, and the shell takes the result after this input.
 */
static void
coordinator_ack_done(struct vg_pushrun *pr, vg_ns now)
{
	size_t i;

	if (pr->phase == VG_PR_TRANSFER && all_answered(pr)) {
		decide(pr, now);
		for (i = 0; i < pr->n; i++)
			if (!pr->t[i].confirmed)
				send_decide(pr, &pr->t[i]);
	}
	if (pr->phase == VG_PR_JOINT && pr->final_at == 0 &&
	    joint_quorum(pr)) {
		pr->joint_quorum_at = now;
		pr->final_at = now + pr->dead_j;
	}
	if (pr->phase == VG_PR_DECIDED && all_confirmed(pr))
		pr->phase = VG_PR_FINISHED;
}

static void
coordinator_ack(struct vg_pushrun *pr, uint16_t from,
    const struct vg_push_ack *a)
{
	struct vg_pushrun_target *t;

	if (pr->phase == VG_PR_IDLE || a->push_id != pr->push_id ||
	    a->epoch != pr->epoch || (t = target(pr, from)) == NULL)
		return;
	t->heard = 1;
	if (pr->phase == VG_PR_TRANSFER) {
		switch (a->status) {
		case VG_PUSH_RECEIVING:
			(void)vg_push_tx_ack(&t->tx, a);
			break;
		case VG_PUSH_JOINT:		/* in J already: a move continued */
			t->in_joint = 1;
			/* FALLTHROUGH */
		case VG_PUSH_STAGED:
			t->status = VG_PUSH_STAGED;
			break;
		case VG_PUSH_REJECTED:
			t->status = VG_PUSH_REJECTED;
			snprintf(t->error, sizeof(t->error), "%s", a->error);
			break;
		}
		return;
	}
	if (pr->phase == VG_PR_JOINT) {
		if (a->status == VG_PUSH_JOINT)
			t->in_joint = 1;
		return;
	}
	/* decided: DONE confirms it, with an error if it failed there */
	if (a->status == VG_PUSH_DONE && !t->confirmed) {
		t->confirmed = 1;
		if (a->error[0] != '\0')
			snprintf(t->error, sizeof(t->error), "%s", a->error);
	}
}

int
vg_pushrun_take(struct vg_pushrun *pr, int *committed)
{
	if (pr->phase != VG_PR_FINISHED)
		return 0;
	*committed = pr->step == VG_PUSH_LIVE || pr->step == VG_PUSH_FINAL;
	pr->phase = VG_PR_IDLE;
	free(pr->file);
	pr->file = NULL;
	return 1;
}

/* ---- the participant */

static void send_ack(struct vg_pushrun *);

static void
reject(struct vg_pushrun *pr, const char *err)
{
	pr->status = VG_PUSH_REJECTED;
	snprintf(pr->error, sizeof(pr->error), "%s", err);
}

/* An answer that ends a phase (STAGED, REJECTED, DONE) leaves at once,
 * not at the next round: it saves the coordinator a round trip. */
static void
answer_now(struct vg_pushrun *pr)
{
	send_ack(pr);
	pr->ack_due = 0;
}

/* A new push replaces what this node holds of an older one. */
static void
forget(struct vg_pushrun *pr)
{
	if (pr->status == VG_PUSH_STAGED ||
	    (pr->status == VG_PUSH_JOINT && pr->joint_light))
		pr->ops.discard(pr->ops.arg);
	vg_push_rx_free(&pr->rx);
	pr->status = 0;
	pr->joint_light = 0;
	pr->error[0] = '\0';
}

/*
 * An answer about a push this node does not hold (an offer it refuses, a
 * decision for such an offer), sent at once to that push's coordinator,
 * without touching the push this node holds (its coordinator, answers
 * and staging stay as they are).
 */
static void
answer_other(struct vg_pushrun *pr, uint16_t from, uint64_t push_id,
    uint32_t epoch, uint8_t status, const char *why)
{
	struct vg_push_ack a;
	uint8_t body[VG_PUSH_ERR_LEN + 32];
	size_t len;

	memset(&a, 0, sizeof(a));
	a.push_id = push_id;
	a.epoch = epoch;
	a.status = status;
	snprintf(a.error, sizeof(a.error), "%s", why);
	len = vg_push_encode_ack(&a, body, sizeof(body));
	pr->ops.send(pr->ops.arg, from, VG_MSG_CONF_ACK, body, len);
}

/* 1 if this node receives or has staged a push other than push_id, or
 * is in J for another epoch than `epoch`. */
static int
holds_other(const struct vg_pushrun *pr, uint64_t push_id, uint32_t epoch)
{
	if (pr->status == VG_PUSH_JOINT)
		return pr->rx.offer.epoch != epoch;
	return (pr->status == VG_PUSH_RECEIVING ||
	    pr->status == VG_PUSH_STAGED) && pr->rx.offer.push_id != push_id;
}

/* FINAL here (from the coordinator, or seen): C' committed (ops.commit),
 * DONE with the error if it failed. */
static int
final_commit(struct vg_pushrun *pr, uint64_t push_id, uint32_t epoch,
    char *err, size_t errlen)
{
	int rc;

	pr->done_id = push_id;
	pr->done_epoch = epoch;
	pr->done_status = VG_PUSH_DONE;
	pr->done_error[0] = '\0';
	pr->done_catchup = 0;
	if ((rc = pr->ops.commit(pr->ops.arg, err, errlen)) == -1)
		snprintf(pr->done_error, sizeof(pr->done_error),
		    "commit failed: %.140s", err);
	pr->status = 0;			/* committed: nothing staged */
	forget(pr);
	return rc;
}

void
vg_pushrun_resume_joint(struct vg_pushrun *pr, uint32_t epoch,
    const uint8_t sha256[VG_PUSH_SHA_LEN])
{
	vg_push_rx_free(&pr->rx);
	memset(&pr->rx.offer, 0, sizeof(pr->rx.offer));
	pr->rx.offer.epoch = epoch;
	memcpy(pr->rx.offer.sha256, sha256, VG_PUSH_SHA_LEN);
	pr->status = VG_PUSH_JOINT;
	pr->error[0] = '\0';
	pr->offered_at = 0;
}

int
vg_pushrun_in_joint(const struct vg_pushrun *pr)
{
	return pr->status == VG_PUSH_JOINT;
}

int
vg_pushrun_final_seen(struct vg_pushrun *pr, char *err, size_t errlen)
{
	if (pr->status != VG_PUSH_JOINT)
		return 0;
	return final_commit(pr, pr->rx.offer.push_id, pr->rx.offer.epoch,
	    err, errlen);
}

/* The last decided push's outcome, to its coordinator asking again. */
static void
answer_done(struct vg_pushrun *pr, uint16_t from)
{
	answer_other(pr, from, pr->done_id, pr->done_epoch, pr->done_status,
	    pr->done_error);
}

/*
 * One push at a time on a node: an offer that comes while this node
 * coordinates a push, or receives or has staged another's, is refused
 * (answered at once, returns 1) and changes nothing here.  Were the newer
 * one to replace the staging, the first coordinator, which counted this
 * node's STAGED, could commit while this node does not: all or nothing
 * would be lost, and two coordinators racing for one epoch could each
 * commit a different file at it.  A holder that never hears a decision
 * lets its push go at forget_at, and the next offer is taken then.
 */
static int
on_offer(struct vg_pushrun *pr, uint16_t from, const struct vg_push_offer *o,
    uint32_t epoch, vg_ns now)
{
	char err[VG_PUSH_ERR_LEN];

	/* in J: a push of the same file continues the move */
	if (pr->status == VG_PUSH_JOINT && o->epoch == pr->rx.offer.epoch &&
	    memcmp(o->sha256, pr->rx.offer.sha256, VG_PUSH_SHA_LEN) == 0) {
		pr->rx.offer.push_id = o->push_id;
		pr->ack_due = 1;
		pr->from = from;
		return 0;
	}
	if (pr->status == VG_PUSH_JOINT) {
		snprintf(err, sizeof(err), "this node is in the joint move to "
		    "epoch %u until it ends", pr->rx.offer.epoch);
		answer_other(pr, from, o->push_id, o->epoch, VG_PUSH_REJECTED,
		    err);
		return 1;
	}
	/* a catch-up whose commit failed here is taken again when it is
	 * served again (its id is the server's and the epoch's, the same
	 * each time), not answered from memory: the cause may be gone */
	if ((o->flags & VG_PUSH_OFFER_COMMITTED) && o->push_id == pr->done_id &&
	    pr->done_catchup && pr->done_error[0] != '\0')
		pr->done_id = 0;
	if (holds_other(pr, o->push_id, o->epoch) &&
	    o->push_id == pr->done_id) {
		answer_done(pr, from);
		return 1;
	}
	if (o->push_id == pr->done_id) {
		pr->ack_due = 1;		/* decided: answered as such */
		pr->from = from;
		return 0;
	}
	if (pr->status != 0 && pr->rx.offer.push_id == o->push_id) {
		pr->ack_due = 1;		/* the same push again */
		pr->from = from;
		return 0;
	}
	if (pr->phase != VG_PR_IDLE) {
		snprintf(err, sizeof(err), "this node coordinates push "
		    "%016llx (epoch %u)", (unsigned long long)pr->push_id,
		    pr->epoch);
		answer_other(pr, from, o->push_id, o->epoch, VG_PUSH_REJECTED,
		    err);
		return 1;
	}
	if (holds_other(pr, o->push_id, o->epoch)) {
		snprintf(err, sizeof(err), "node %u's push %016llx (epoch %u) "
		    "is %s here until it is decided", pr->from,
		    (unsigned long long)pr->rx.offer.push_id,
		    pr->rx.offer.epoch, vg_push_status_name(pr->status));
		answer_other(pr, from, o->push_id, o->epoch, VG_PUSH_REJECTED,
		    err);
		return 1;
	}
	pr->ack_due = 1;
	pr->from = from;
	forget(pr);
	if (vg_push_rx_offer(&pr->rx, o, epoch, err, sizeof(err)) == -1) {
		pr->rx.offer = *o;
		reject(pr, err);
		pr->offered_at = now;
		pr->forget_at = now + vg_pushrun_deadline(pr->dead_time, 0);
		return 0;
	}
	pr->status = VG_PUSH_RECEIVING;
	pr->offered_at = now;
	pr->forget_at = now + vg_pushrun_deadline(pr->dead_time, o->size) +
	    VG_PUSHRUN_DECIDE_FOR + VG_PUSHRUN_STAGE_SLACK;
	return 0;
}

static void
on_offer_answer(struct vg_pushrun *pr, uint16_t from,
    const struct vg_push_offer *o, uint32_t epoch, vg_ns now)
{
	if (on_offer(pr, from, o, epoch, now) == 0 &&
	    pr->status != VG_PUSH_RECEIVING)
		answer_now(pr);
}

/*
 * A served file (catch-up) checked and staged: it was committed where it
 * came from, so it is committed here at once, and DONE (with the error if
 * the commit failed) is the answer.
 */
static void
catch_up_commit(struct vg_pushrun *pr, vg_ns now)
{
	char err[VG_PUSH_ERR_LEN];

	pr->done_id = pr->rx.offer.push_id;
	pr->done_epoch = pr->rx.offer.epoch;
	pr->done_status = VG_PUSH_DONE;
	pr->done_error[0] = '\0';
	pr->done_catchup = 1;
	pr->fetched++;
	if (pr->ops.commit(pr->ops.arg, err, sizeof(err)) == -1) {
		snprintf(pr->done_error, sizeof(pr->done_error),
		    "commit failed: %.140s", err);
		pr->fetch_at = now + VG_PUSHRUN_FETCH_BACKOFF;
	}
	pr->status = 0;			/* committed: nothing staged */
	forget(pr);
	answer_now(pr);
}

static void
on_chunk(struct vg_pushrun *pr, uint16_t from, const struct vg_push_chunk *c,
    vg_ns now)
{
	char err[VG_PUSH_ERR_LEN];

	if (c->push_id != pr->rx.offer.push_id || pr->status == 0)
		return;
	pr->ack_due = 1;
	pr->from = from;
	if (pr->status != VG_PUSH_RECEIVING ||
	    vg_push_rx_chunk(&pr->rx, c) == -1)
		return;
	switch (vg_push_rx_complete(&pr->rx, err, sizeof(err))) {
	case 0:
		return;
	case -1:
		return;			/* forgotten: the chunks come again */
	}
	if (pr->ops.check(pr->ops.arg, pr->rx.buf, pr->rx.offer.size,
	    pr->rx.offer.epoch, pr->rx.offer.flags, err, sizeof(err)) == -1 ||
	    pr->ops.stage(pr->ops.arg, pr->rx.buf, pr->rx.offer.size, err,
	    sizeof(err)) == -1) {
		reject(pr, err);
		if (pr->rx.offer.flags & VG_PUSH_OFFER_COMMITTED) {
			/* said: nothing else shows why a node stays behind */
			log_warnx("config: catching up to epoch %u: the "
			    "cluster's file is refused here: %s; asked again "
			    "in %lld s", pr->rx.offer.epoch, err,
			    (long long)(VG_PUSHRUN_FETCH_BACKOFF /
			    VG_NS_PER_S));
			pr->fetch_at = now + VG_PUSHRUN_FETCH_BACKOFF;
		}
		answer_now(pr);
		return;
	}
	pr->status = VG_PUSH_STAGED;
	if (pr->rx.offer.flags & VG_PUSH_OFFER_COMMITTED) {
		catch_up_commit(pr, now);
		return;
	}
	answer_now(pr);
}

static int
on_decide(struct vg_pushrun *pr, uint16_t from, const struct vg_push_decide *x)
{
	char err[VG_PUSH_ERR_LEN];

	/* in J (a JOINT taken, or a restart in J): JOINT again is answered
	 * JOINT; FINAL of its epoch, whoever's push, moves it to C' */
	if (pr->status == VG_PUSH_JOINT && x->epoch == pr->rx.offer.epoch) {
		pr->ack_due = 1;
		pr->from = from;
		if (x->step == VG_PUSH_FINAL)
			(void)final_commit(pr, x->push_id, x->epoch, err,
			    sizeof(err));
		return 0;
	}
	if (holds_other(pr, x->push_id, x->epoch)) {
		if (x->push_id == pr->done_id)
			answer_done(pr, from);
		else			/* the decision of an offer refused */
			answer_other(pr, from, x->push_id, x->epoch,
			    VG_PUSH_DONE, x->step == VG_PUSH_LIVE ? "refused "
			    "here: another push was staged" : "");
		return 1;
	}
	pr->ack_due = 1;
	pr->from = from;
	if (x->push_id == pr->done_id)
		return 0;
	if (x->step == VG_PUSH_JOINT_STEP) {
		/* the staged file's move: J, durably, then JOINT */
		if (pr->status == VG_PUSH_STAGED &&
		    pr->rx.offer.push_id == x->push_id) {
			int rc = pr->ops.joint(pr->ops.arg, err, sizeof(err));

			if (rc >= 0) {
				/* 1: it runs C' already (a node the push adds):
				 * no promise of J to keep, forgotten in time */
				pr->status = VG_PUSH_JOINT;
				pr->joint_light = rc == 1;
				pr->error[0] = '\0';
			} else
				snprintf(pr->error, sizeof(pr->error),
				    "could not move to J: %.130s", err);
		}
		return 0;
	}
	pr->done_id = x->push_id;
	pr->done_epoch = x->epoch;
	pr->done_status = VG_PUSH_DONE;
	pr->done_error[0] = '\0';
	if (pr->status == 0 || pr->rx.offer.push_id != x->push_id) {
		if (x->step == VG_PUSH_LIVE || x->step == VG_PUSH_FINAL)
			snprintf(pr->done_error, sizeof(pr->done_error),
			    "push %016llx is not staged here",
			    (unsigned long long)x->push_id);
		return 0;
	}
	/* FINAL on a node that missed JOINT: it moves through J at once
	 * (the shell's commit of a safety change) */
	if ((x->step == VG_PUSH_LIVE || x->step == VG_PUSH_FINAL) &&
	    pr->status == VG_PUSH_STAGED) {
		if (pr->ops.commit(pr->ops.arg, err, sizeof(err)) == -1)
			snprintf(pr->done_error, sizeof(pr->done_error),
			    "commit failed: %.140s", err);
		pr->status = 0;		/* committed: nothing staged */
	} else if (x->step == VG_PUSH_LIVE || x->step == VG_PUSH_FINAL)
		snprintf(pr->done_error, sizeof(pr->done_error), "not "
		    "staged here (%s)", vg_push_status_name(pr->status));
	else if (x->step == VG_PUSH_ABORT && pr->status == VG_PUSH_STAGED &&
	    pr->ops.aborted != NULL)
		pr->ops.aborted(pr->ops.arg, pr->rx.offer.epoch);
	forget(pr);
	return 0;
}

/* ---- catch-up */

static struct vg_pushrun_serve *
serving(struct vg_pushrun *pr, uint16_t id)
{
	size_t i;

	for (i = 0; i < VG_PUSHRUN_SERVES; i++)
		if (pr->serve[i].id == id)
			return &pr->serve[i];
	return NULL;
}

static void
serve_end(struct vg_pushrun *pr, struct vg_pushrun_serve *s, const char *why)
{
	if (why != NULL)
		snprintf(pr->serve_error, sizeof(pr->serve_error), "node %u: "
		    "%s", s->id, why);
	free(s->file);
	memset(s, 0, sizeof(*s));
}

/*
 * A peer asks for the file of epoch `want` (the one it heard from this
 * node): served if this node runs it or a later one, one file per peer,
 * VG_PUSHRUN_SERVES peers at once (a peer left out asks again after D).
 */
static void
on_fetch(struct vg_pushrun *pr, uint16_t from, uint32_t want, uint32_t epoch,
    vg_ns now)
{
	struct vg_pushrun_serve *s;
	uint8_t *file = NULL;
	uint32_t size = 0, e = 0;
	uint64_t id;

	if (from == 0 || want == 0 || want > epoch || pr->ops.load == NULL ||
	    serving(pr, from) != NULL || (s = serving(pr, 0)) == NULL)
		return;
	if (pr->ops.load(pr->ops.arg, &file, &size, &e, pr->serve_error,
	    sizeof(pr->serve_error)) == -1)
		return;
	id = VG_PUSHRUN_SERVE_TAG << 48 | (uint64_t)pr->self << 32 | e;
	if (e < want || vg_push_tx_init(&s->tx, id, e, file, size) == -1) {
		free(file);
		return;
	}
	s->tx.offer.flags = VG_PUSH_OFFER_COMMITTED;
	s->id = from;
	s->file = file;
	s->heard = 0;
	s->until = now + vg_pushrun_deadline(pr->dead_time, size);
	pr->served++;
}

/* An ACK of a served file: 1 if it was one (taken), 0 if not. */
static int
serve_ack(struct vg_pushrun *pr, uint16_t from, const struct vg_push_ack *a)
{
	struct vg_pushrun_serve *s = serving(pr, from);

	if (from == 0 || s == NULL || a->push_id != s->tx.offer.push_id)
		return 0;
	s->heard = 1;
	switch (a->status) {
	case VG_PUSH_RECEIVING:
		(void)vg_push_tx_ack(&s->tx, a);
		break;
	case VG_PUSH_DONE:
		serve_end(pr, s, a->error[0] != '\0' ? a->error : NULL);
		break;
	case VG_PUSH_REJECTED:
		serve_end(pr, s, a->error);
		break;
	}
	return 1;
}

static void
serve_round(struct vg_pushrun *pr, vg_ns now)
{
	struct vg_pushrun_serve *s;
	uint16_t idx[VG_PUSH_PER_ROUND];
	uint8_t body[16 + VG_PUSH_CHUNK];
	struct vg_push_chunk c;
	size_t i, j, n, len;

	for (i = 0; i < VG_PUSHRUN_SERVES; i++) {
		s = &pr->serve[i];
		if (s->id == 0)
			continue;
		if (now >= s->until) {
			serve_end(pr, s, "no answer to the file served");
			continue;
		}
		if (!s->heard || vg_push_tx_done(&s->tx)) {
			len = vg_push_encode_offer(&s->tx.offer, body,
			    sizeof(body));
			pr->ops.send(pr->ops.arg, s->id, VG_MSG_CONF_OFFER,
			    body, len);
		}
		n = vg_push_tx_round(&s->tx, idx, VG_PUSH_PER_ROUND);
		for (j = 0; j < n; j++) {
			vg_push_tx_chunk(&s->tx, idx[j], &c);
			len = vg_push_encode_chunk(&c, body, sizeof(body));
			pr->ops.send(pr->ops.arg, s->id, VG_MSG_CONF_CHUNK,
			    body, len);
		}
	}
}

int
vg_pushrun_catching_up(const struct vg_pushrun *pr)
{
	return pr->status == VG_PUSH_RECEIVING &&
	    (pr->rx.offer.flags & VG_PUSH_OFFER_COMMITTED) != 0;
}

void
vg_pushrun_heard(struct vg_pushrun *pr, uint16_t from, uint32_t peer_epoch,
    uint32_t epoch, vg_ns now)
{
	uint8_t body[4];
	vg_ns again = pr->dead_time > VG_MS(50) ? pr->dead_time : VG_MS(50);

	/* nothing newer there, or a push of this node's own under way (a
	 * staged one waits for its decision: the coordinator commits, and
	 * its heartbeats say so, before the decision reaches us) */
	if (peer_epoch <= epoch || pr->phase != VG_PR_IDLE ||
	    pr->status == VG_PUSH_RECEIVING || pr->status == VG_PUSH_STAGED ||
	    pr->status == VG_PUSH_JOINT || now < pr->fetch_at)
		return;
	vg_put32(body, peer_epoch);
	pr->ops.send(pr->ops.arg, from, VG_MSG_CONF_FETCH, body, sizeof(body));
	pr->fetch_at = now + again;
}

void
vg_pushrun_input(struct vg_pushrun *pr, uint16_t from, uint8_t type,
    const uint8_t *body, size_t len, uint32_t epoch, vg_ns now)
{
	struct vg_push_offer o;
	struct vg_push_chunk c;
	struct vg_push_ack a;
	struct vg_push_decide x;

	switch (type) {
	case VG_MSG_CONF_OFFER:
		if (vg_push_decode_offer(body, len, &o) == 0)
			on_offer_answer(pr, from, &o, epoch, now);
		break;
	case VG_MSG_CONF_CHUNK:
		if (vg_push_decode_chunk(body, len, &c) == 0)
			on_chunk(pr, from, &c, now);
		break;
	case VG_MSG_CONF_ACK:
		if (vg_push_decode_ack(body, len, &a) == 0 &&
		    serve_ack(pr, from, &a) == 0) {
			coordinator_ack(pr, from, &a);
			coordinator_ack_done(pr, now);
		}
		break;
	case VG_MSG_CONF_DECIDE:
		if (vg_push_decode_decide(body, len, &x) == 0) {
			if (on_decide(pr, from, &x) == 0)
				answer_now(pr);
		}
		break;
	case VG_MSG_CONF_FETCH:
		if (len == 4)
			on_fetch(pr, from, vg_get32(body), epoch, now);
		break;
	}
}

static void
send_ack(struct vg_pushrun *pr)
{
	struct vg_push_ack a;
	uint8_t body[VG_PUSH_ERR_LEN + 32];
	size_t len;

	if (pr->status == VG_PUSH_RECEIVING)
		vg_push_rx_ack(&pr->rx, &a);
	else {
		memset(&a, 0, sizeof(a));
		if (pr->status == 0) {		/* decided */
			a.push_id = pr->done_id;
			a.epoch = pr->done_epoch;
			a.status = pr->done_status;
			snprintf(a.error, sizeof(a.error), "%s", pr->done_error);
		} else {
			a.push_id = pr->rx.offer.push_id;
			a.epoch = pr->rx.offer.epoch;
			a.status = pr->status;
			a.first_missing = pr->status == VG_PUSH_STAGED ?
			    pr->rx.offer.chunks : 0;
			snprintf(a.error, sizeof(a.error), "%s", pr->error);
		}
		if (a.push_id == 0)
			return;
	}
	len = vg_push_encode_ack(&a, body, sizeof(body));
	pr->ops.send(pr->ops.arg, pr->from, VG_MSG_CONF_ACK, body, len);
}

void
vg_pushrun_round(struct vg_pushrun *pr, vg_ns now)
{
	/* no decision came: dropped (a REJECTED answer is kept as long,
	 * for the coordinator's repeated offers) */
	if (pr->status != 0 && (pr->status != VG_PUSH_JOINT ||
	    pr->joint_light) && pr->offered_at != 0 && now >= pr->forget_at)
		forget(pr);
	if (pr->ack_due) {
		send_ack(pr);
		pr->ack_due = 0;
	}
	coordinate(pr, now);
	serve_round(pr, now);
}
