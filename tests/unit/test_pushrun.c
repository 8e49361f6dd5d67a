/*
 * test_pushrun: the agent's side of a configuration push (agent/pushrun.c,
 * and stage.c's vg_stage_localize), on a fake clock and a fake network:
 * three nodes, each a struct vg_pushrun whose ops record what it asked
 * for (check, stage, commit, discard) and queue what it sends; a round is
 * every node's vg_pushrun_round, then every queued message delivered (or
 * lost, by a seeded PRNG), then h = 50 ms.
 *
 * - a 1000-VIP file (54 chunks) pushed by node 1: committed, every peer
 *   checked, staged, committed it once with the coordinator's bytes and
 *   its epoch, in 3 rounds without loss (the last STAGED decides, the
 *   last DONE ends it, at once); under 30 % loss each way, over 20
 *   seeds, committed everywhere within the deadline (the rounds counted);
 * - a peer whose check fails: ABORT everywhere, nobody commits, the
 *   others discard their staging, the answer carries that peer's error;
 * - a silent peer: ABORT at the deadline, its error says so; with
 *   --allow-down and a quorum staged: committed, the silent peer named
 *   down and caught up once heard; short of a quorum, or a rejection:
 *   ABORT;
 * - a staging whose decision never comes is discarded once the
 *   coordinator's deadline and its decision's time are over;
 * - an offer not above the running epoch is REJECTED; a node that
 *   coordinates rejects another's offer; a node with a staging refuses
 *   to start its own push;
 * - one push at a time: a node that has staged a push refuses any other
 *   offer (answered REJECTED, its staging untouched) until the first is
 *   decided, so the first coordinator's commit reaches it;
 * - catch-up: a node behind fetches a peer's file and commits it, under
 *   loss too; not while it holds a staged push; a rejected file is asked
 *   for again only after the back-off;
 * - a key step's offer flag reaches every participant's check;
 * - the joint move of a safety change (C = {1, 2, 3} grown to C' =
 *   {1..5}): every node staged, then J (node 1 first), FINAL only after
 *   both quorums were in J and D_J more; a node cut off through the move
 *   commits with the FINAL it hears later; without a quorum of C in J
 *   the move stays in J (nothing committed, nothing aborted) until the
 *   same file pushed again continues it; a restart in J takes the same
 *   file's offer as JOINT, refuses another epoch's, and moves to C' at a
 *   FINAL of its epoch or one seen; a failed move to J here aborts; a
 *   node the push adds that misses FINAL forgets its JOINT in time;
 * - vg_stage_localize: the pushed file's local settings are blanked line
 *   for line and this node's are appended; two settings on a line are
 *   refused; a file libconfig cannot read is returned as it is; the key
 *   steps of `vigilctl key rotate` set each node's keys by their rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pushrun.h"
#include "stage.h"

#define N	3		/* the cluster of most tests */
#define NMAX	5		/* the joint move's: C' adds nodes 4 and 5 */
#define H	VG_MS(50)
#define QMAX	4096

struct node {
	struct vg_pushrun pr;
	uint16_t	id;
	uint32_t	epoch;		/* running */
	uint32_t	runs_epoch;	/* it runs the file of this epoch */
	int		reject;		/* its check fails */
	int		commit_fail;	/* its commit fails */
	int		checks, stages, commits, discards;
	int		joints;		/* moved to J (ops.joint) */
	int		joint_fail;	/* its move to J fails */
	vg_ns		joint_at, commit_at;	/* when (the fake clock) */
	uint16_t	flags;		/* of the last offer checked */
	uint8_t		*staged;	/* what it staged */
	size_t		staged_len;
	uint8_t		committed[VG_PUSH_MAX_SIZE / 16];
	size_t		committed_len;
	uint32_t	staged_epoch;
};

struct pkt {
	uint16_t	from, to;
	uint8_t		type;
	size_t		len;
	uint8_t		body[1040];
};

static struct node nodes[NMAX];
static struct pkt q[QMAX];
static size_t nq;
static uint32_t seed;
static unsigned loss_pct;	/* of every message, each way */
static int deaf;		/* node id whose messages are all lost */
static unsigned allow_need;	/* push_from_1 with --allow-down: quorum */
static uint16_t offer_flags;	/* push_from_1's offer: a key step */
static int hops_max;		/* round_at's hops; 0: 8 */
static vg_ns clock_now;		/* the round's time, for the ops */
static unsigned no_decide;	/* bit id: every CONF_DECIDE to it lost */
static unsigned no_final;	/* bit id: every FINAL to it lost */

static uint32_t
rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 17;
	seed ^= seed << 5;
	return seed;
}

static struct node *
node_of(void *arg)
{
	return arg;
}

static void
op_send(void *arg, uint16_t peer, uint8_t type, const uint8_t *body,
    size_t len)
{
	struct pkt *p;

	assert_true(nq < QMAX);
	assert_true(len == vg_push_body_len(type));
	p = &q[nq++];
	p->from = node_of(arg)->id;
	p->to = peer;
	p->type = type;
	p->len = len;
	memcpy(p->body, body, len);
}

static int
op_check(void *arg, const uint8_t *file, size_t size, uint32_t epoch,
    uint16_t flags, char *err, size_t errlen)
{
	struct node *n = node_of(arg);

	(void)file;
	(void)size;
	n->checks++;
	n->flags = flags;
	/* the shell's rule: above the running epoch, or the file it runs */
	if (epoch <= n->epoch && epoch != n->runs_epoch) {
		snprintf(err, errlen, "epoch %u is not above the running "
		    "epoch %u", epoch, n->epoch);
		return -1;
	}
	if (n->reject) {
		snprintf(err, errlen, "pushed file:3: no good on node %u",
		    n->id);
		return -1;
	}
	n->staged_epoch = epoch;
	return 0;
}

static int
op_stage(void *arg, const uint8_t *file, size_t size, char *err,
    size_t errlen)
{
	struct node *n = node_of(arg);

	(void)err;
	(void)errlen;
	n->stages++;
	free(n->staged);
	n->staged = malloc(size ? size : 1);
	assert_non_null(n->staged);
	memcpy(n->staged, file, size);
	n->staged_len = size;
	return 0;
}

static int
op_commit(void *arg, char *err, size_t errlen)
{
	struct node *n = node_of(arg);

	if (n->commit_fail) {
		snprintf(err, errlen, "reload refused");
		free(n->staged);
		n->staged = NULL;
		return -1;
	}
	assert_non_null(n->staged);
	assert_true(n->staged_len <= sizeof(n->committed));
	n->commits++;
	n->commit_at = clock_now;
	memcpy(n->committed, n->staged, n->staged_len);
	n->committed_len = n->staged_len;
	n->epoch = n->staged_epoch;
	free(n->staged);
	n->staged = NULL;
	return 0;
}

static void
op_discard(void *arg)
{
	struct node *n = node_of(arg);

	n->discards++;
	free(n->staged);
	n->staged = NULL;
}

static int
op_joint(void *arg, char *err, size_t errlen)
{
	struct node *n = node_of(arg);

	if (n->joint_fail) {
		snprintf(err, errlen, "disk full");
		return -1;
	}
	assert_non_null(n->staged);	/* J needs C' staged */
	n->joints++;
	n->joint_at = clock_now;
	/* a node the push adds runs C' already: nothing moved (stage.c) */
	return n->staged_epoch == n->runs_epoch && n->epoch == n->runs_epoch ?
	    1 : 0;
}

/* The file a node runs: what it committed last. */
static int
op_load(void *arg, uint8_t **file, uint32_t *size, uint32_t *epoch,
    char *err, size_t errlen)
{
	struct node *n = node_of(arg);

	(void)err;
	(void)errlen;
	*file = malloc(n->committed_len ? n->committed_len : 1);
	assert_non_null(*file);
	memcpy(*file, n->committed, n->committed_len);
	*size = (uint32_t)n->committed_len;
	*epoch = n->epoch;
	return 0;
}

static void
setup_nodes(void)
{
	struct vg_pushrun_ops ops = {
		.send = op_send, .check = op_check, .stage = op_stage,
		.commit = op_commit, .discard = op_discard, .load = op_load,
		.joint = op_joint,
	};
	int i;

	nq = 0;
	deaf = 0;
	no_decide = no_final = 0;
	loss_pct = 0;
	allow_need = 0;
	offer_flags = 0;
	hops_max = 0;
	for (i = 0; i < NMAX; i++) {
		memset(&nodes[i], 0, sizeof(nodes[i]));
		nodes[i].id = (uint16_t)(i + 1);
		ops.arg = &nodes[i];
		vg_pushrun_init(&nodes[i].pr, &ops);
		nodes[i].pr.self = nodes[i].id;
		nodes[i].pr.dead_time = VG_MS(250);
	}
}

static void
teardown_nodes(void)
{
	int i;

	for (i = 0; i < NMAX; i++) {
		vg_pushrun_free(&nodes[i].pr);
		free(nodes[i].staged);
		nodes[i].staged = NULL;
	}
}

/* One round at now: every node's round, then the network: what is sent
 * while a message is handled (an answer that leaves at once) arrives in
 * the same round (a round trip is much shorter than h), up to 8 hops. */
static void
round_at(vg_ns now)
{
	struct pkt *batch;
	size_t i, n;
	int k, hop;

	clock_now = now;
	for (k = 0; k < NMAX; k++)
		vg_pushrun_round(&nodes[k].pr, now);
	for (hop = 0; hop < (hops_max > 0 ? hops_max : 8) && nq > 0; hop++) {
		n = nq;
		batch = malloc(n * sizeof(*batch));
		assert_non_null(batch);
		memcpy(batch, q, n * sizeof(*batch));
		nq = 0;
		for (i = 0; i < n; i++) {
			struct pkt *p = &batch[i];
			struct node *to = &nodes[p->to - 1];

			if (p->to == deaf || p->from == deaf ||
			    (p->type == VG_MSG_CONF_DECIDE &&
			    ((no_decide >> p->to) & 1)) ||
			    (p->type == VG_MSG_CONF_DECIDE &&
			    p->body[12] == VG_PUSH_FINAL &&
			    ((no_final >> p->to) & 1)))
				continue;
			if (loss_pct > 0 && rnd() % 100 < loss_pct)
				continue;
			vg_pushrun_input(&to->pr, p->from, p->type, p->body,
			    p->len, to->epoch, now + H / 2);
		}
		free(batch);
	}
}

/* A file of `size` bytes, deterministic. */
static uint8_t *
file_of(size_t size)
{
	uint8_t *f = malloc(size);
	size_t i;

	assert_non_null(f);
	for (i = 0; i < size; i++)
		f[i] = (uint8_t)(i * 31 + i / 1024);
	return f;
}

/* Node 1 pushes file at epoch; rounds until it has a result (bounded).
 * Returns the rounds taken; *committed says how it ended. */
static unsigned
push_from_1(const uint8_t *file, uint32_t size, uint32_t epoch,
    int *committed)
{
	static const uint16_t peers[] = { 2, 3 };
	vg_ns now = VG_MS(1000), dl = vg_pushrun_deadline(VG_MS(250), size);
	char err[256];
	unsigned r;

	nodes[0].staged = malloc(size);
	assert_non_null(nodes[0].staged);
	memcpy(nodes[0].staged, file, size);
	nodes[0].staged_len = size;
	nodes[0].staged_epoch = epoch;
	static const unsigned votes[] = { 1, 1 };
	assert_int_equal(vg_pushrun_start(&nodes[0].pr, 0x1234, epoch, file,
	    size, peers, 2, now, dl, err, sizeof(err)), 0);
	if (allow_need > 0)
		vg_pushrun_allow_down(&nodes[0].pr, 1, votes, allow_need);
	if (offer_flags != 0)
		vg_pushrun_offer_flags(&nodes[0].pr, offer_flags);
	assert_true(vg_pushrun_busy(&nodes[0].pr));
	for (r = 1; r < 1000; r++) {
		round_at(now);
		if (vg_pushrun_take(&nodes[0].pr, committed))
			return r;
		now += H;
	}
	fail_msg("no result in 1000 rounds");
	return 0;
}

static void
test_push_commits_everywhere(void **state)
{
	uint32_t size = 54785;		/* test_push's 1000-VIP file */
	uint8_t *f = file_of(size);
	unsigned r;
	int committed = -1, i;

	(void)state;
	setup_nodes();
	r = push_from_1(f, size, 7, &committed);
	assert_int_equal(committed, 1);
	/* 54 chunks, 32 a round: round 1 offer and 0-31; round 2 the same
	 * again (its first ACK leaves in the peer's round, after ours);
	 * round 3 32-53, STAGED at once, and the last STAGED decides at once
	 * (LIVE, DONE at once, the result taken): 3 rounds, where a decision
	 * and a result at the next rounds took 5 */
	assert_int_equal(r, 3);
	for (i = 0; i < N; i++) {
		assert_int_equal(nodes[i].commits, 1);
		assert_int_equal(nodes[i].committed_len, size);
		assert_memory_equal(nodes[i].committed, f, size);
		assert_int_equal(nodes[i].epoch, 7);
	}
	for (i = 1; i < N; i++) {
		assert_int_equal(nodes[i].checks, 1);
		assert_int_equal(nodes[i].stages, 1);
		assert_int_equal(nodes[i].discards, 0);
		assert_int_equal(nodes[0].pr.t[i - 1].status, VG_PUSH_STAGED);
		assert_true(nodes[0].pr.t[i - 1].confirmed);
		assert_string_equal(nodes[0].pr.t[i - 1].error, "");
	}
	assert_false(vg_pushrun_busy(&nodes[0].pr));
	teardown_nodes();
	free(f);
}

static void
test_push_under_loss(void **state)
{
	uint32_t size = 54785;
	uint8_t *f = file_of(size);
	unsigned r, worst = 0, s;
	int committed, i;

	(void)state;
	for (s = 1; s <= 20; s++) {
		setup_nodes();
		seed = 0x9e3779b9u * s;
		loss_pct = 30;
		committed = -1;
		r = push_from_1(f, size, 3, &committed);
		assert_int_equal(committed, 1);
		assert_int_equal(nodes[0].commits, 1);
		for (i = 1; i < N; i++) {
			/* never twice; a confirmed one has committed */
			assert_true(nodes[i].commits <= 1);
			if (nodes[0].pr.t[i - 1].confirmed)
				assert_int_equal(nodes[i].commits, 1);
			if (nodes[i].commits == 1)
				assert_memory_equal(nodes[i].committed, f,
				    size);
		}
		if (r > worst)
			worst = r;
		teardown_nodes();
	}
	/* the deadline (3 s = 60 rounds) plus the decision's 2 s */
	assert_true(worst < 100);
	print_message("30 %% loss each way, 20 seeds: worst %u rounds\n",
	    worst);
	free(f);
}

static void
test_push_one_rejects(void **state)
{
	uint8_t *f = file_of(3000);
	int committed = -1;

	(void)state;
	setup_nodes();
	nodes[2].reject = 1;
	push_from_1(f, 3000, 2, &committed);
	assert_int_equal(committed, 0);
	assert_int_equal(nodes[0].commits + nodes[1].commits + nodes[2].commits,
	    0);
	assert_int_equal(nodes[0].discards, 1);
	assert_int_equal(nodes[1].stages, 1);
	assert_int_equal(nodes[1].discards, 1);	/* ABORT reached it */
	assert_int_equal(nodes[2].stages, 0);
	assert_int_equal(nodes[0].pr.t[0].status, VG_PUSH_STAGED);
	assert_int_equal(nodes[0].pr.t[1].status, VG_PUSH_REJECTED);
	assert_string_equal(nodes[0].pr.t[1].error,
	    "pushed file:3: no good on node 3");
	assert_int_equal(nodes[1].epoch, 0);
	teardown_nodes();
	free(f);
}

static void
test_push_silent_peer(void **state)
{
	uint8_t *f = file_of(100);
	int committed = -1;
	unsigned r;

	(void)state;
	setup_nodes();
	deaf = 3;
	r = push_from_1(f, 100, 2, &committed);
	assert_int_equal(committed, 0);
	/* the 3 s deadline, then the decision's 2 s (node 3 never confirms) */
	assert_true(r >= 60 && r <= 102);
	assert_int_equal(nodes[0].pr.t[1].status, 0);
	assert_string_equal(nodes[0].pr.t[1].error,
	    "no answer within the push's deadline");
	assert_int_equal(nodes[1].discards, 1);
	assert_int_equal(nodes[1].commits, 0);
	teardown_nodes();
	free(f);
}

/*
 * --allow-down: node 3 silent, nodes 1 and 2 (2 of 3 votes, a quorum)
 * staged: committed at the deadline without waiting for node 3's
 * confirmation, node 3 named down; it then hears node 1 at the new epoch
 * and catches up to the same file.  With a quorum of 3 the same push
 * aborts and says why; a rejection aborts whatever --allow-down says.
 */
static void
test_push_allow_down(void **state)
{
	uint8_t *f = file_of(100);
	vg_ns now = VG_MS(20000);
	int committed = -1;
	unsigned r;

	(void)state;
	setup_nodes();
	deaf = 3;
	allow_need = 2;
	r = push_from_1(f, 100, 2, &committed);
	assert_int_equal(committed, 1);
	/* the 3 s deadline and a round or two, not the decision's 2 s */
	assert_true(r >= 60 && r <= 64);
	assert_true(nodes[0].pr.t[1].down);
	assert_false(nodes[0].pr.t[0].down);
	assert_true(nodes[0].pr.t[0].confirmed);
	assert_non_null(strstr(nodes[0].pr.t[1].error, "catches up"));
	assert_int_equal(nodes[0].commits, 1);
	assert_int_equal(nodes[1].commits, 1);
	assert_int_equal(nodes[2].commits, 0);
	/* node 3 is heard again: it fetches epoch 2 and commits that file */
	deaf = 0;
	for (r = 0; r < 40 && nodes[2].epoch != 2; r++) {
		vg_pushrun_heard(&nodes[2].pr, 1, nodes[0].epoch,
		    nodes[2].epoch, now);
		round_at(now);
		now += H;
	}
	assert_int_equal(nodes[2].epoch, 2);
	assert_int_equal(nodes[2].committed_len, 100);
	assert_memory_equal(nodes[2].committed, f, 100);
	teardown_nodes();

	/* a quorum of 3 votes: 2 staged, not enough */
	setup_nodes();
	deaf = 3;
	allow_need = 3;
	push_from_1(f, 100, 2, &committed);
	assert_int_equal(committed, 0);
	assert_false(nodes[0].pr.t[1].down);
	assert_string_equal(nodes[0].pr.short_of, "with --allow-down the "
	    "nodes that staged hold 2 votes, a quorum is 3");
	assert_int_equal(nodes[1].commits, 0);
	assert_int_equal(nodes[1].discards, 1);
	teardown_nodes();

	/* the coordinator's own commit fails: aborted, nobody left down */
	setup_nodes();
	deaf = 3;
	allow_need = 2;
	nodes[0].commit_fail = 1;
	push_from_1(f, 100, 2, &committed);
	assert_int_equal(committed, 0);
	assert_false(nodes[0].pr.t[1].down);
	assert_string_equal(nodes[0].pr.t[1].error,
	    "no answer within the push's deadline");
	assert_int_equal(nodes[1].commits, 0);
	teardown_nodes();

	/* a rejection is not a node down */
	setup_nodes();
	nodes[2].reject = 1;
	allow_need = 2;
	push_from_1(f, 100, 2, &committed);
	assert_int_equal(committed, 0);
	assert_int_equal(nodes[1].commits, 0);
	teardown_nodes();
	free(f);
}

/* A key step's flag reaches every participant's check with the file. */
static void
test_push_offer_flags(void **state)
{
	uint8_t *f = file_of(3000);
	int committed = -1;

	(void)state;
	setup_nodes();
	offer_flags = VG_PUSH_OFFER_KEY_SEND;
	push_from_1(f, 3000, 2, &committed);
	assert_int_equal(committed, 1);
	assert_int_equal(nodes[1].flags, VG_PUSH_OFFER_KEY_SEND);
	assert_int_equal(nodes[2].flags, VG_PUSH_OFFER_KEY_SEND);
	assert_int_equal(nodes[2].commits, 1);
	teardown_nodes();

	/* a participant whose commit fails confirms with its error: what
	 * key rotate reads as "did not apply it" (stage.c key_step_over) */
	setup_nodes();
	offer_flags = VG_PUSH_OFFER_KEY_NEXT;
	nodes[2].commit_fail = 1;
	push_from_1(f, 3000, 2, &committed);
	assert_int_equal(committed, 1);
	assert_true(nodes[0].pr.t[1].confirmed);
	assert_string_equal(nodes[0].pr.t[1].error,
	    "commit failed: reload refused");
	assert_int_equal(nodes[0].pr.t[0].error[0], '\0');
	teardown_nodes();
	free(f);
}

static void
test_offer_refusals(void **state)
{
	static const uint16_t peers[] = { 1, 3 };
	uint8_t *f = file_of(100);
	char err[256];
	int committed = -1;

	(void)state;
	/* node 3 runs epoch 5: an epoch 5 push is not above it */
	setup_nodes();
	nodes[2].epoch = 5;
	push_from_1(f, 100, 5, &committed);
	assert_int_equal(committed, 0);
	assert_int_equal(nodes[0].pr.t[1].status, VG_PUSH_REJECTED);
	assert_string_equal(nodes[0].pr.t[1].error,
	    "epoch 5 is not above the running epoch 5");
	assert_int_equal(nodes[2].checks, 1);	/* the check refused it */
	assert_int_equal(nodes[2].stages, 0);
	teardown_nodes();

	/* node 2 coordinates its own: node 1's offer is rejected there */
	setup_nodes();
	assert_int_equal(vg_pushrun_start(&nodes[1].pr, 0x99, 4, f, 100, peers,
	    2, VG_MS(1000), VG_MS(3000), err, sizeof(err)), 0);
	assert_int_equal(vg_pushrun_start(&nodes[1].pr, 0x98, 4, f, 100, peers,
	    2, VG_MS(1000), VG_MS(3000), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "under way"));
	vg_pushrun_input(&nodes[1].pr, 1, VG_MSG_CONF_OFFER, NULL, 0, 0,
	    VG_MS(1000));		/* malformed: ignored */
	{
		struct vg_push_tx tx;
		uint8_t body[64];
		size_t len;

		assert_int_equal(vg_push_tx_init(&tx, 0x55, 4, f, 100), 0);
		len = vg_push_encode_offer(&tx.offer, body, sizeof(body));
		vg_pushrun_input(&nodes[1].pr, 1, VG_MSG_CONF_OFFER, body, len,
		    0, VG_MS(1000));
	}
	/* answered REJECTED at once, to node 1, for its push; nothing of it
	 * is kept here */
	assert_int_equal(nodes[1].pr.status, 0);
	assert_int_equal(nq, 1);
	{
		struct vg_push_ack a;

		assert_int_equal(q[0].type, VG_MSG_CONF_ACK);
		assert_int_equal(q[0].to, 1);
		assert_int_equal(vg_push_decode_ack(q[0].body, q[0].len, &a),
		    0);
		assert_int_equal(a.push_id, 0x55);
		assert_int_equal(a.status, VG_PUSH_REJECTED);
		assert_non_null(strstr(a.error, "this node coordinates "
		    "push 0000000000000099"));
	}
	teardown_nodes();

	/* node 2 holds node 1's staging: it cannot start its own */
	setup_nodes();
	loss_pct = 100;			/* node 1 never hears STAGED */
	seed = 1;
	{
		static const uint16_t p1[] = { 2 };

		assert_int_equal(vg_pushrun_start(&nodes[0].pr, 0x77, 2, f, 100,
		    p1, 1, VG_MS(1000), VG_MS(3000), err, sizeof(err)), 0);
		loss_pct = 0;
		hops_max = 1;		/* offer, chunk; STAGED never sent */
		round_at(VG_MS(1000));
		nq = 0;
		assert_int_equal(nodes[1].pr.status, VG_PUSH_STAGED);
		assert_int_equal(vg_pushrun_start(&nodes[1].pr, 0x66, 3, f, 100,
		    peers, 2, VG_MS(1000), VG_MS(3000), err, sizeof(err)), -1);
		assert_non_null(strstr(err, "is staged here"));
	}
	teardown_nodes();
	free(f);
}

/* The first queued message of type to node `to`, decoded as an ACK. */
static int
queued_ack(uint16_t to, struct vg_push_ack *a)
{
	size_t i;

	for (i = 0; i < nq; i++)
		if (q[i].to == to && q[i].type == VG_MSG_CONF_ACK)
			return vg_push_decode_ack(q[i].body, q[i].len, a) == 0;
	return 0;
}

/*
 * One push at a time: node 2 has staged node 1's push (epoch 4) when an
 * older offer of node 3's (push 0x55, also epoch 4: delayed in the
 * network, or node 3 racing) arrives.  Node 2 refuses it, answering node
 * 3 REJECTED with node 1's push named, and keeps node 1's staging; node
 * 3's decision for its push is confirmed to node 3 without touching it
 * either.  Node 1 then commits, and every node has node 1's file: had the
 * newer offer replaced the staging (as it did), node 1 would have
 * committed while node 2 did not.
 */
static void
test_one_push_at_a_time(void **state)
{
	static const uint16_t peers[] = { 2, 3 };
	uint8_t *f = file_of(100), *g = file_of(200);
	struct vg_push_tx tx;
	struct vg_push_decide x;
	struct vg_push_ack a;
	uint8_t body[64];
	size_t len;
	vg_ns now = VG_MS(1000);
	char err[256];
	int committed = -1, r, i;

	(void)state;
	setup_nodes();
	nodes[0].staged = malloc(100);
	assert_non_null(nodes[0].staged);
	memcpy(nodes[0].staged, f, 100);
	nodes[0].staged_len = 100;
	nodes[0].staged_epoch = 4;
	assert_int_equal(vg_pushrun_start(&nodes[0].pr, 0x1234, 4, f, 100,
	    peers, 2, now, VG_MS(3000), err, sizeof(err)), 0);
	/* offer, chunk; the STAGED answers lost (node 1 would decide on the
	 * last one at once) */
	hops_max = 1;
	round_at(now);
	hops_max = 0;
	nq = 0;
	assert_int_equal(nodes[1].pr.status, VG_PUSH_STAGED);
	assert_int_equal(nodes[2].pr.status, VG_PUSH_STAGED);

	/* node 3's own offer, for another file at the same epoch */
	assert_int_equal(vg_push_tx_init(&tx, 0x55, 4, g, 200), 0);
	len = vg_push_encode_offer(&tx.offer, body, sizeof(body));
	nq = 0;
	vg_pushrun_input(&nodes[1].pr, 3, VG_MSG_CONF_OFFER, body, len, 0,
	    now + H / 2);
	assert_int_equal(nodes[1].pr.status, VG_PUSH_STAGED);
	assert_int_equal(nodes[1].pr.rx.offer.push_id, 0x1234);
	assert_int_equal(nodes[1].pr.from, 1);
	assert_int_equal(nodes[1].discards, 0);
	assert_int_equal(nq, 1);
	assert_true(queued_ack(3, &a));
	assert_int_equal(a.push_id, 0x55);
	assert_int_equal(a.status, VG_PUSH_REJECTED);
	assert_non_null(strstr(a.error, "node 1's push 0000000000001234 "
	    "(epoch 4) is staged here"));

	/* and node 3's decision for it: confirmed, nothing changes here */
	memset(&x, 0, sizeof(x));
	x.push_id = 0x55;
	x.epoch = 4;
	x.step = VG_PUSH_LIVE;
	len = vg_push_encode_decide(&x, body, sizeof(body));
	nq = 0;
	vg_pushrun_input(&nodes[1].pr, 3, VG_MSG_CONF_DECIDE, body, len, 0,
	    now + H / 2);
	assert_int_equal(nodes[1].pr.status, VG_PUSH_STAGED);
	assert_int_equal(nodes[1].pr.from, 1);
	assert_int_equal(nodes[1].commits, 0);
	assert_true(queued_ack(3, &a));
	assert_int_equal(a.push_id, 0x55);
	assert_int_equal(a.status, VG_PUSH_DONE);
	assert_non_null(strstr(a.error, "refused here"));
	nq = 0;

	for (r = 0; r < 100; r++) {
		now += H;
		round_at(now);
		if (vg_pushrun_take(&nodes[0].pr, &committed))
			break;
	}
	assert_int_equal(committed, 1);
	for (i = 0; i < N; i++) {
		assert_int_equal(nodes[i].commits, 1);
		assert_int_equal(nodes[i].committed_len, 100);
		assert_memory_equal(nodes[i].committed, f, 100);
		assert_int_equal(nodes[i].epoch, 4);
	}
	for (i = 1; i < N; i++)
		assert_string_equal(nodes[0].pr.t[i - 1].error, "");
	teardown_nodes();
	free(f);
	free(g);
}

/* Nodes 1 and 2 run file f at epoch 4, node 3 an older one at 3. */
static void
setup_behind(const uint8_t *f, size_t size)
{
	int i;

	setup_nodes();
	for (i = 0; i < N; i++) {
		memcpy(nodes[i].committed, f, size);
		nodes[i].committed_len = size;
		nodes[i].epoch = 4;
	}
	nodes[2].committed[0] ^= 1;
	nodes[2].epoch = 3;
}

/* Rounds (bounded) in which node 3 hears node 1's heartbeat at its epoch
 * each round, until node 3 runs epoch 4: the rounds, or 0 if it did not. */
static unsigned
catch_up_rounds(vg_ns *now, unsigned max)
{
	unsigned r;

	for (r = 1; r <= max; r++) {
		if (loss_pct == 0 || rnd() % 100 >= loss_pct)
			vg_pushrun_heard(&nodes[2].pr, 1, nodes[0].epoch,
			    nodes[2].epoch, *now);
		round_at(*now);
		*now += H;
		if (nodes[2].epoch == 4 && nodes[0].pr.serve[0].id == 0)
			return r;
	}
	return 0;
}

/*
 * Catch-up: node 3, at epoch 3, hears node 1 at 4: it fetches node 1's
 * file, checks, stages and commits it (without a decision: it was
 * committed there) and answers DONE, which ends node 1's serving.  A
 * 54-chunk file without loss, then under 30 % loss each way over 10
 * seeds.  A node that holds a staged push does not fetch (the decision
 * comes); a node whose check rejects the served file answers REJECTED,
 * node 1 says so, and node 3 asks again only after the back-off.
 */
static void
test_catch_up(void **state)
{
	uint8_t *f = file_of(54 * 1024 + 7);
	vg_ns now = VG_MS(1000);
	unsigned r, worst = 0;
	uint32_t s;

	(void)state;
	setup_behind(f, 54 * 1024 + 7);
	r = catch_up_rounds(&now, 100);
	assert_int_not_equal(r, 0);
	assert_int_equal(nodes[2].commits, 1);
	assert_int_equal(nodes[2].committed_len, 54 * 1024 + 7);
	assert_memory_equal(nodes[2].committed, f, 54 * 1024 + 7);
	assert_int_equal(nodes[2].pr.fetched, 1);
	assert_int_equal(nodes[0].pr.served, 1);
	assert_int_equal(nodes[0].pr.serve_error[0], '\0');
	assert_int_equal(nodes[1].commits, 0);	/* not asked, not touched */
	assert_int_equal(nodes[2].pr.status, 0);
	assert_false(vg_pushrun_catching_up(&nodes[2].pr));
	/* at the same epoch now: no more fetches */
	nq = 0;
	vg_pushrun_heard(&nodes[2].pr, 1, 4, 4, now + VG_MS(10000));
	assert_int_equal(nq, 0);
	teardown_nodes();

	for (s = 1; s <= 10; s++) {
		setup_behind(f, 54 * 1024 + 7);
		seed = s;
		loss_pct = 30;
		now = VG_MS(1000);
		r = catch_up_rounds(&now, 400);
		assert_int_not_equal(r, 0);
		assert_memory_equal(nodes[2].committed, f, 54 * 1024 + 7);
		assert_int_equal(nodes[2].commits, 1);
		if (r > worst)
			worst = r;
		teardown_nodes();
	}
	print_message("catch-up of 55 chunks under 30%% loss: at most %u "
	    "rounds over 10 seeds\n", worst);

	/* a staged push: no fetch, its decision is awaited */
	setup_behind(f, 100);
	nodes[2].pr.status = VG_PUSH_STAGED;
	nq = 0;
	vg_pushrun_heard(&nodes[2].pr, 1, 4, 3, now);
	assert_int_equal(nq, 0);
	nodes[2].pr.status = 0;
	teardown_nodes();

	/* rejected by node 3's check */
	setup_behind(f, 100);
	nodes[2].reject = 1;
	now = VG_MS(1000);
	assert_int_equal(catch_up_rounds(&now, 20), 0);
	assert_int_equal(nodes[2].epoch, 3);
	assert_int_equal(nodes[2].commits, 0);
	assert_int_equal(nodes[2].pr.status, VG_PUSH_REJECTED);
	assert_non_null(strstr(nodes[0].pr.serve_error, "node 3: pushed "
	    "file:3: no good on node 3"));
	assert_int_equal(nodes[0].pr.serve[0].id, 0);
	assert_int_equal(nodes[0].pr.served, 1);	/* served once only */
	nq = 0;
	vg_pushrun_heard(&nodes[2].pr, 1, 4, 3, now);
	assert_int_equal(nq, 0);		/* backing off */
	vg_pushrun_heard(&nodes[2].pr, 1, 4, 3, now + VG_PUSHRUN_FETCH_BACKOFF);
	assert_int_equal(nq, 1);
	assert_int_equal(q[0].type, VG_MSG_CONF_FETCH);
	teardown_nodes();

	/* node 3's commit fails once (its key unreadable, say, then put
	 * right): served again after the back-off, the file is taken and
	 * committed, not answered from memory with the old error (the
	 * served push's id is the server's and the epoch's, the same each
	 * time: before, node 3 stayed behind until it restarted) */
	setup_behind(f, 100);
	nodes[2].commit_fail = 1;
	now = VG_MS(1000);
	assert_int_equal(catch_up_rounds(&now, 20), 0);
	assert_int_equal(nodes[2].epoch, 3);
	nodes[2].commit_fail = 0;
	now += VG_PUSHRUN_FETCH_BACKOFF;
	assert_int_not_equal(catch_up_rounds(&now, 40), 0);
	assert_int_equal(nodes[2].epoch, 4);
	assert_int_equal(nodes[2].commits, 1);
	teardown_nodes();
	free(f);
}

/*
 * Node 2 staged node 1's push, then hears nothing more (node 1 committed
 * and its decision is lost): node 1 answers committed with node 2
 * unconfirmed; node 2 keeps its staging until the offer's arrival plus
 * the deadline (its D: the coordinator's) plus the decision's 2 s plus
 * 1 s, then discards it and commits nothing.
 */
static void
test_stale_staging_forgotten(void **state)
{
	static const uint16_t p2[] = { 2 };
	uint8_t *f = file_of(100);
	vg_ns t0 = VG_MS(1000), forget, now;
	char err[256];
	int committed = -1, got = 0;

	(void)state;
	setup_nodes();
	nodes[0].pr.dead_time = nodes[1].pr.dead_time = VG_MS(250);
	nodes[0].staged = file_of(100);
	nodes[0].staged_len = 100;
	assert_int_equal(vg_pushrun_start(&nodes[0].pr, 0x42, 2, f, 100, p2, 1,
	    t0, vg_pushrun_deadline(VG_MS(250), 100), err, sizeof(err)), 0);
	/* offer and chunk, then STAGED: node 1 decides at once, and its
	 * decision is lost (the third hop never runs) */
	hops_max = 2;
	round_at(t0);
	hops_max = 0;
	nq = 0;
	assert_int_equal(nodes[1].pr.status, VG_PUSH_STAGED);
	assert_int_equal(nodes[0].pr.t[0].status, VG_PUSH_STAGED);
	deaf = 2;
	/* the offer arrived at t0 + H/2 */
	forget = t0 + H / 2 + vg_pushrun_deadline(VG_MS(250), 100) +
	    VG_PUSHRUN_DECIDE_FOR + VG_PUSHRUN_STAGE_SLACK;
	for (now = t0 + H; now < forget; now += H) {
		round_at(now);
		if (!got)
			got = vg_pushrun_take(&nodes[0].pr, &committed);
		assert_int_equal(nodes[1].pr.status, VG_PUSH_STAGED);
	}
	assert_true(got);
	assert_int_equal(committed, 1);
	assert_int_equal(nodes[0].commits, 1);
	assert_false(nodes[0].pr.t[0].confirmed);
	round_at(forget);
	assert_int_equal(nodes[1].pr.status, 0);
	assert_int_equal(nodes[1].discards, 1);
	assert_int_equal(nodes[1].commits, 0);
	teardown_nodes();
	free(f);
}

/* ---- vg_stage_localize */

static const char pushed[] =
	"cluster = \"c\";\n"			/* 1 */
	"state_dir = \"/n1/state\";\n"		/* 2 */
	"ctl = {\n"				/* 3 */
	"\tsocket = \"/n1/sock\";\n"		/* 4 */
	"};\n"					/* 5 */
	"# the nodes\n"				/* 6 */
	"nodes = ( { id = 1; name = \"n1\"; address = \"198.18.0.1\"; } );\n"
	"log = { level = \"debug\"; };\n"	/* 8 */
	"auth_key_next = \"/n1/next.key\";\n";	/* 9 */

static const char own[] =
	"cluster = \"c\";\n"
	"nodes = ( { id = 1; name = \"n1\"; address = \"198.18.0.1\"; } );\n"
	"state_dir = \"/n2/state\";\n"
	"ctl = { socket = \"/n2/sock\"; };\n"
	"auth_key_previous = \"/n2/old.key\";\n"
	"epoch = 0;\n";

static void
test_localize(void **state)
{
	char *out, err[256];
	const char *l;
	size_t len, line;

	(void)state;
	assert_int_equal(vg_stage_localize(pushed, strlen(pushed), own, 0,
	    &out, &len, err, sizeof(err)), 0);
	assert_int_equal(strlen(out), len);
	assert_null(strstr(out, "/n1/"));
	assert_null(strstr(out, "level"));	/* n2 has no log: none */
	assert_non_null(strstr(out, "state_dir = \"/n2/state\";\n"));
	assert_non_null(strstr(out, "ctl = { socket = \"/n2/sock\"; };\n"));
	assert_null(strstr(out, "epoch"));	/* not local: not taken */
	/* the rotation's keys are the node's own too */
	assert_null(strstr(out, "next.key"));
	assert_non_null(strstr(out, "auth_key_previous = \"/n2/old.key\";\n"));
	/* the pushed file's lines keep their numbers */
	for (l = out, line = 1; (l = strchr(l, '\n')) != NULL &&
	    strncmp(l + 1, "nodes", 5) != 0; l++)
		line++;
	assert_int_equal(line + 1, 7);
	assert_non_null(strstr(out, "# the nodes\nnodes"));
	free(out);

	/* two settings on one line: their spans would overlap */
	l = "cluster = \"c\"; state_dir = \"/x\";\n";
	assert_int_equal(vg_stage_localize(l, strlen(l), own, 0, &out, &len,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 1 holds two settings"));

	/* not libconfig: as it is, for the check to report */
	assert_int_equal(vg_stage_localize("cluster = ;\n", 12, own, 0, &out,
	    &len, err, sizeof(err)), 0);
	assert_string_equal(out, "cluster = ;\n");
	free(out);
}

/*
 * The key steps of `vigilctl key rotate`: each node's keys by the step's
 * rule and its own keys, whatever its own paths (the new key is at one
 * path everywhere).  NEXT: the new key accepted beside the node's own
 * sending key.  SEND: on a node that accepts it (its next), the new key
 * to send with and its own old one as previous, next gone; refused on a
 * node that does not accept it yet.  DROP: previous gone on a node that
 * sends with the new key; refused on one that does not (it would be cut
 * off).  NEXT and SEND change nothing on a node already sending with the
 * new key (a rotation run again).  A missing key or one that is not a
 * plain path is refused; so is a key step in a file libconfig cannot
 * read.
 */
static void
test_localize_key_steps(void **state)
{
	static const char mine[] =		/* before the rotation */
		"cluster = \"c\";\n"
		"auth_key_file = \"/n2/old.key\";\n"
		"auth_key_previous = \"/n2/older.key\";\n"
		"state_dir = \"/n2/state\";\n";
	static const char accepting[] =		/* after NEXT */
		"cluster = \"c\";\n"
		"auth_key_file = \"/n2/old.key\";\n"
		"auth_key_next = \"/etc/vigil/new.key\";\n"
		"state_dir = \"/n2/state\";\n";
	static const char sending[] =		/* after SEND */
		"cluster = \"c\";\n"
		"auth_key_file = \"/etc/vigil/new.key\";\n"
		"auth_key_previous = \"/n2/old.key\";\n"
		"state_dir = \"/n2/state\";\n";
	static const char next[] =
		"cluster = \"c\";\n"
		"auth_key_file = \"/n1/old.key\";\n"
		"epoch = 4;\n"
		"auth_key_next = \"/etc/vigil/new.key\";\n";
	static const char send[] =		/* SEND's and DROP's file */
		"cluster = \"c\";\n"
		"auth_key_next = \"/n1/new.key\";\n"
		"epoch = 5;\n"
		"auth_key_file = \"/etc/vigil/new.key\";\n";
	const char *l;
	char *out, err[256];
	size_t len;

	(void)state;
	/* NEXT */
	assert_int_equal(vg_stage_localize(next, strlen(next), mine,
	    VG_PUSH_OFFER_KEY_NEXT, &out, &len, err, sizeof(err)), 0);
	assert_non_null(strstr(out, "auth_key_file = \"/n2/old.key\";\n"));
	assert_non_null(strstr(out,
	    "auth_key_next = \"/etc/vigil/new.key\";\n"));
	assert_null(strstr(out, "/n1/"));
	assert_non_null(strstr(out, "auth_key_previous = \"/n2/older.key\""));
	assert_non_null(strstr(out, "state_dir = \"/n2/state\";\n"));
	assert_non_null(strstr(out, "epoch = 4;\n"));
	free(out);

	/* SEND: on a node that accepts the new key, and on one that not */
	assert_int_equal(vg_stage_localize(send, strlen(send), accepting,
	    VG_PUSH_OFFER_KEY_SEND, &out, &len, err, sizeof(err)), 0);
	assert_non_null(strstr(out,
	    "auth_key_file = \"/etc/vigil/new.key\";\n"));
	assert_non_null(strstr(out,
	    "auth_key_previous = \"/n2/old.key\";\n"));
	assert_null(strstr(out, "auth_key_next"));
	assert_null(strstr(out, "/n1/"));
	free(out);
	assert_int_equal(vg_stage_localize(send, strlen(send), mine,
	    VG_PUSH_OFFER_KEY_SEND, &out, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not accept /etc/vigil/new.key yet"));

	/* DROP: on a node that sends with it, and on one still on its old */
	assert_int_equal(vg_stage_localize(send, strlen(send), sending,
	    VG_PUSH_OFFER_KEY_DROP, &out, &len, err, sizeof(err)), 0);
	assert_null(strstr(out, "auth_key_previous"));
	assert_null(strstr(out, "old.key"));
	assert_non_null(strstr(out,
	    "auth_key_file = \"/etc/vigil/new.key\";\n"));
	free(out);
	assert_int_equal(vg_stage_localize(send, strlen(send), accepting,
	    VG_PUSH_OFFER_KEY_DROP, &out, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "this node sends with /n2/old.key"));

	/* run again on a node that sends with the new key: NEXT and SEND
	 * leave its keys as they are (previous stays until DROP) */
	assert_int_equal(vg_stage_localize(next, strlen(next), sending,
	    VG_PUSH_OFFER_KEY_NEXT, &out, &len, err, sizeof(err)), 0);
	assert_null(strstr(out, "auth_key_next"));
	assert_non_null(strstr(out,
	    "auth_key_file = \"/etc/vigil/new.key\";\n"));
	assert_non_null(strstr(out, "auth_key_previous = \"/n2/old.key\""));
	free(out);
	assert_int_equal(vg_stage_localize(send, strlen(send), sending,
	    VG_PUSH_OFFER_KEY_SEND, &out, &len, err, sizeof(err)), 0);
	assert_non_null(strstr(out, "auth_key_previous = \"/n2/old.key\""));
	assert_null(strstr(out, "auth_key_next"));
	free(out);

	/* refused: no new key, a path that is not plain, a file libconfig
	 * cannot read */
	assert_int_equal(vg_stage_localize("cluster = \"c\";\n", 15, mine,
	    VG_PUSH_OFFER_KEY_NEXT, &out, &len, err, sizeof(err)), -1);
	assert_string_equal(err, "a key step without auth_key_next");
	l = "auth_key_file = \"/a\\\"b\";\n";
	assert_int_equal(vg_stage_localize(l, strlen(l), accepting,
	    VG_PUSH_OFFER_KEY_SEND, &out, &len, err, sizeof(err)), -1);
	assert_string_equal(err, "auth_key_file: not a plain path");
	assert_int_equal(vg_stage_localize("cluster = ;\n", 12, mine,
	    VG_PUSH_OFFER_KEY_DROP, &out, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot be read"));
}

/* The own-settings header is in text once. */
static void
l_count_header(const char *text)
{
	const char *h = "# this node's own settings, kept by config push";
	const char *p = strstr(text, h);

	assert_non_null(p);
	assert_null(strstr(p + 1, h));
}

/*
 * A file pushed back again and again (catch-up serves the running file,
 * key rotate pushes it) does not grow: vigild's own comments and the blank
 * lines left at the end of the pushed part are dropped each time.
 */
static void
test_localize_does_not_grow(void **state)
{
	char *cur = strdup("cluster = \"c\";\n"
	    "epoch = 1;\n"
	    "nodes = ( );\n"
	    "auth_key_file = \"/n1/old.key\";\n"
	    "state_dir = \"/n1/state\";\n"
	    "ctl = { socket = \"/n1/ctl\"; };\n");
	char *out, err[256];
	size_t len, second = 0;
	int i;

	(void)state;
	assert_non_null(cur);
	for (i = 0; i < 30; i++) {
		assert_int_equal(vg_stage_localize(cur, strlen(cur), cur, 0,
		    &out, &len, err, sizeof(err)), 0);
		free(cur);
		cur = out;
		if (i == 1)
			second = strlen(cur);
	}
	assert_int_equal(strlen(cur), second);
	l_count_header(cur);
	free(cur);
}

/* ---- the joint move (design.md, "joint quorum") */

#define JDEAD	VG_MS(250)	/* D_J */

/*
 * Node 1 pushes a safety change that grows C = {1, 2, 3} (quorum 2) to
 * C' = {1..5} (quorum 3), staged by node 1 already; each round, `cut`
 * (if any) is called first (faults by round).  Returns the rounds taken.
 */
static unsigned
joint_push(const uint8_t *file, uint32_t size, uint32_t epoch,
    uint64_t id, int *committed, void (*cut)(unsigned, vg_ns))
{
	static const uint16_t peers[] = { 2, 3, 4, 5 };
	static const unsigned vo[] = { 1, 1, 0, 0 }, vn[] = { 1, 1, 1, 1 };
	vg_ns now = clock_now > 0 ? clock_now + H : VG_MS(1000);
	vg_ns dl = vg_pushrun_deadline(VG_MS(250), size);
	char err[256];
	unsigned r;

	free(nodes[0].staged);
	nodes[0].staged = malloc(size);
	assert_non_null(nodes[0].staged);
	memcpy(nodes[0].staged, file, size);
	nodes[0].staged_len = size;
	nodes[0].staged_epoch = epoch;
	assert_int_equal(vg_pushrun_start(&nodes[0].pr, id, epoch, file, size,
	    peers, 4, now, dl, err, sizeof(err)), 0);
	vg_pushrun_joint(&nodes[0].pr, 1, 1, vo, vn, 2, 3, JDEAD);
	for (r = 1; r < 2000; r++) {
		if (cut != NULL)
			cut(r, now);
		round_at(now);
		if (vg_pushrun_take(&nodes[0].pr, committed))
			return r;
		now += H;
	}
	fail_msg("no result in 2000 rounds");
	return 0;
}

/*
 * Every node stages, node 1 moves to J first and then every other node;
 * FINAL only once the nodes in J hold a quorum of C and of C' and D_J has
 * run after that on the coordinator's clock; every node commits once,
 * after its move to J.
 */
static void
test_joint_move(void **state)
{
	uint8_t *f = file_of(3000);
	int committed = -1, i;

	(void)state;
	setup_nodes();
	for (i = 0; i < NMAX; i++)
		nodes[i].epoch = nodes[i].runs_epoch = i < 3 ? 4 : 5;
	/* 4 and 5 were started with C' (epoch 5) */
	joint_push(f, 3000, 5, 0x51, &committed, NULL);
	assert_int_equal(committed, 1);
	assert_int_equal(nodes[0].pr.step, VG_PUSH_FINAL);
	assert_true(nodes[0].pr.joint_quorum_at > 0);
	for (i = 0; i < NMAX; i++) {
		assert_int_equal(nodes[i].joints, 1);
		assert_int_equal(nodes[i].commits, 1);
		assert_int_equal(nodes[i].discards, 0);
		assert_int_equal(nodes[i].epoch, 5);
		assert_memory_equal(nodes[i].committed, f, 3000);
		/* C' only after both quorums were in J and D_J more */
		assert_true(nodes[i].commit_at >= nodes[0].pr.joint_quorum_at +
		    JDEAD);
		assert_true(nodes[i].joint_at <= nodes[0].pr.joint_quorum_at);
	}
	for (i = 0; i < 4; i++) {
		assert_true(nodes[0].pr.t[i].in_joint);
		assert_true(nodes[0].pr.t[i].confirmed);
	}
	assert_false(vg_pushrun_in_joint(&nodes[1].pr));
	teardown_nodes();
	free(f);
}

/* Node 3 (the active, say) hears no decision once it staged: a quorum of
 * C (1, 2) and of C' (1, 2, 4, 5) are in J without it: FINAL; node 3 is
 * unconfirmed, never moved, and takes FINAL once it is heard again
 * within the decision's repeats (through J at once: a commit). */
static void
test_joint_move_without_one(void **state)
{
	uint8_t *f = file_of(3000);
	int committed = -1, i;
	vg_ns t;

	(void)state;
	setup_nodes();
	for (i = 0; i < NMAX; i++)
		nodes[i].epoch = nodes[i].runs_epoch = i < 3 ? 4 : 5;
	no_decide = 1u << 3;
	joint_push(f, 3000, 5, 0x52, &committed, NULL);
	assert_int_equal(committed, 1);
	assert_int_equal(nodes[2].joints, 0);
	assert_int_equal(nodes[2].commits, 0);
	assert_false(nodes[0].pr.t[1].in_joint);
	for (i = 0; i < NMAX; i++)
		if (i != 2)
			assert_int_equal(nodes[i].commits, 1);
	/* the result came at the decision's end (node 3 unconfirmed): its
	 * FINAL was repeated until then; heard again, a push of the same
	 * epoch reaches it through catch-up (not modelled here) */
	assert_false(nodes[0].pr.t[1].confirmed);
	assert_int_equal(nodes[2].pr.status, VG_PUSH_STAGED);
	/* a FINAL that does reach it (a coordinator still repeating) */
	no_decide = 0;
	t = clock_now + H;
	nodes[0].pr.phase = VG_PR_DECIDED;	/* repeating again */
	nodes[0].pr.decide_until = t + VG_MS(1000);
	round_at(t);
	assert_int_equal(nodes[2].commits, 1);
	assert_int_equal(nodes[2].epoch, 5);
	teardown_nodes();
	free(f);
}

/* Nodes 2 and 3 hear no decision once they staged: only node 1 of C in
 * J, no quorum of C: no FINAL ever, nobody commits, the result says the
 * move stays in J; node 1 is in J.  Healed, the same file pushed again
 * continues the move: every node in J, then C'. */
static void
test_joint_move_stays_in_j(void **state)
{
	uint8_t *f = file_of(3000);
	int committed = -1, i;

	(void)state;
	setup_nodes();
	for (i = 0; i < NMAX; i++)
		nodes[i].epoch = nodes[i].runs_epoch = i < 3 ? 4 : 5;
	no_decide = 1u << 2 | 1u << 3;
	joint_push(f, 3000, 5, 0x53, &committed, NULL);
	assert_int_equal(committed, 0);
	assert_int_equal(nodes[0].pr.step, VG_PUSH_JOINT_STEP);
	assert_non_null(strstr(nodes[0].pr.why, "stays there"));
	assert_int_equal(nodes[0].joints, 1);
	for (i = 0; i < NMAX; i++)
		assert_int_equal(nodes[i].commits, 0);
	/* no abort: node 1 never discards its C' (it is in J) */
	assert_int_equal(nodes[0].discards, 0);
	/* healed; what 2 and 3 staged is forgotten in time, and so is the
	 * JOINT of 4 and 5 (they run C' already: no promise to keep); node
	 * 1 is in J: the same push again continues the move */
	no_decide = 0;
	assert_true(vg_pushrun_in_joint(&nodes[3].pr));
	for (i = 0; i < 200; i++)
		round_at(clock_now + H);
	assert_int_equal(nodes[1].pr.status, 0);
	assert_false(vg_pushrun_in_joint(&nodes[3].pr));
	joint_push(f, 3000, 5, 0x54, &committed, NULL);
	assert_int_equal(committed, 1);
	for (i = 0; i < NMAX; i++) {
		assert_int_equal(nodes[i].commits, 1);
		assert_int_equal(nodes[i].epoch, 5);
	}
	teardown_nodes();
	free(f);
}

/* A restart in J (vg_pushrun_resume_joint): another epoch's offer is
 * refused; the same file's offer is answered JOINT; FINAL of its epoch
 * from any push moves it to C'; so does FINAL seen (a node of C in C'). */
static void
test_joint_resume(void **state)
{
	struct vg_push_offer o;
	struct vg_push_decide x;
	uint8_t body[64], sha[VG_PUSH_SHA_LEN];
	struct vg_push_ack a;
	char err[256];
	size_t len;

	(void)state;
	setup_nodes();
	memset(sha, 0x5a, sizeof(sha));
	nodes[1].staged = malloc(10);
	assert_non_null(nodes[1].staged);
	memset(nodes[1].staged, 'c', 10);
	nodes[1].staged_len = 10;
	nodes[1].staged_epoch = 9;
	vg_pushrun_resume_joint(&nodes[1].pr, 9, sha);
	assert_true(vg_pushrun_in_joint(&nodes[1].pr));
	/* an offer of epoch 10: REJECTED at once */
	memset(&o, 0, sizeof(o));
	o.push_id = 0x77;
	o.epoch = 10;
	o.size = 10;
	o.chunks = 1;
	memcpy(o.sha256, sha, sizeof(sha));
	len = vg_push_encode_offer(&o, body, sizeof(body));
	clock_now = VG_MS(100);
	vg_pushrun_input(&nodes[1].pr, 1, VG_MSG_CONF_OFFER, body, len, 8,
	    clock_now);
	assert_int_equal(nq, 1);
	assert_int_equal(vg_push_decode_ack(q[0].body, q[0].len, &a), 0);
	assert_int_equal(a.status, VG_PUSH_REJECTED);
	assert_non_null(strstr(a.error, "joint move to epoch 9"));
	nq = 0;
	/* the same file (epoch 9, its SHA-256): JOINT */
	o.epoch = 9;
	len = vg_push_encode_offer(&o, body, sizeof(body));
	vg_pushrun_input(&nodes[1].pr, 1, VG_MSG_CONF_OFFER, body, len, 8,
	    clock_now);
	assert_int_equal(nq, 1);
	assert_int_equal(vg_push_decode_ack(q[0].body, q[0].len, &a), 0);
	assert_int_equal(a.status, VG_PUSH_JOINT);
	assert_true(a.push_id == 0x77);
	nq = 0;
	/* FINAL of epoch 9 from another push: C' */
	memset(&x, 0, sizeof(x));
	x.push_id = 0x99;
	x.epoch = 9;
	x.step = VG_PUSH_FINAL;
	len = vg_push_encode_decide(&x, body, sizeof(body));
	vg_pushrun_input(&nodes[1].pr, 1, VG_MSG_CONF_DECIDE, body, len, 8,
	    clock_now);
	assert_int_equal(nodes[1].commits, 1);
	assert_false(vg_pushrun_in_joint(&nodes[1].pr));
	assert_int_equal(vg_push_decode_ack(q[0].body, q[0].len, &a), 0);
	assert_int_equal(a.status, VG_PUSH_DONE);
	/* seen: the same on node 3 */
	nodes[2].staged = malloc(10);
	assert_non_null(nodes[2].staged);
	nodes[2].staged_len = 10;
	vg_pushrun_resume_joint(&nodes[2].pr, 9, sha);
	assert_int_equal(vg_pushrun_final_seen(&nodes[2].pr, err,
	    sizeof(err)), 0);
	assert_int_equal(nodes[2].commits, 1);
	assert_false(vg_pushrun_in_joint(&nodes[2].pr));
	/* not in J: nothing to do */
	assert_int_equal(vg_pushrun_final_seen(&nodes[2].pr, err,
	    sizeof(err)), 0);
	assert_int_equal(nodes[2].commits, 1);
	teardown_nodes();
}

/* A node the push adds (it runs C' already) that never hears FINAL: its
 * JOINT holds no promise, so it is forgotten like a staging (it would
 * refuse every later push otherwise). */
static void
test_joint_light_forgotten(void **state)
{
	uint8_t *f = file_of(3000);
	int committed = -1, i;

	(void)state;
	setup_nodes();
	for (i = 0; i < NMAX; i++)
		nodes[i].epoch = nodes[i].runs_epoch = i < 3 ? 4 : 5;
	no_final = 1u << 5;
	joint_push(f, 3000, 5, 0x56, &committed, NULL);
	assert_int_equal(committed, 1);
	assert_false(nodes[0].pr.t[3].confirmed);
	assert_true(vg_pushrun_in_joint(&nodes[4].pr));
	assert_true(nodes[4].pr.joint_light);
	assert_false(nodes[1].pr.joint_light);
	for (i = 0; i < 200; i++)
		round_at(clock_now + H);
	assert_false(vg_pushrun_in_joint(&nodes[4].pr));
	assert_int_equal(nodes[4].discards, 1);
	teardown_nodes();
	free(f);
}

/* The coordinator's own move to J fails: ABORT, nobody moves. */
static void
test_joint_move_fails_here(void **state)
{
	uint8_t *f = file_of(3000);
	int committed = -1, i;

	(void)state;
	setup_nodes();
	for (i = 0; i < NMAX; i++)
		nodes[i].epoch = 4;
	nodes[0].joint_fail = 1;
	joint_push(f, 3000, 5, 0x55, &committed, NULL);
	assert_int_equal(committed, 0);
	assert_int_equal(nodes[0].pr.step, VG_PUSH_ABORT);
	assert_non_null(strstr(nodes[0].pr.why, "disk full"));
	for (i = 0; i < NMAX; i++) {
		assert_int_equal(nodes[i].joints, 0);
		assert_int_equal(nodes[i].commits, 0);
	}
	for (i = 1; i < NMAX; i++)
		assert_int_equal(nodes[i].discards, 1);
	teardown_nodes();
	free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_commits_everywhere),
		cmocka_unit_test(test_push_under_loss),
		cmocka_unit_test(test_push_one_rejects),
		cmocka_unit_test(test_push_silent_peer),
		cmocka_unit_test(test_push_allow_down),
		cmocka_unit_test(test_push_offer_flags),
		cmocka_unit_test(test_offer_refusals),
		cmocka_unit_test(test_one_push_at_a_time),
		cmocka_unit_test(test_catch_up),
		cmocka_unit_test(test_stale_staging_forgotten),
		cmocka_unit_test(test_localize),
		cmocka_unit_test(test_localize_key_steps),
		cmocka_unit_test(test_localize_does_not_grow),
		cmocka_unit_test(test_joint_move),
		cmocka_unit_test(test_joint_move_without_one),
		cmocka_unit_test(test_joint_move_stays_in_j),
		cmocka_unit_test(test_joint_resume),
		cmocka_unit_test(test_joint_move_fails_here),
		cmocka_unit_test(test_joint_light_forgotten),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
