/*
 * test_rx: the receive pipeline in rx.c: accepted messages, and every drop
 * reason in carp's order, counted in total and against the peer once the
 * sender is known, with nothing else moving; a one-bit flip anywhere is
 * never accepted; replays and stale incarnations per sender; auth = none;
 * peers are known by address, not port.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "push.h"
#include "rxfix.h"

/* ---- rx: accepted */

static void
test_rx_accepts(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT];
	struct vg_rx_result res;
	struct vg_msg m;
	size_t len;

	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	m.echo_seq = 9;
	m.u.hb.echo_delay_us = 250;
	m.epoch = 12;
	m.conf_digest = 0xfeedf00du;
	len = build(f, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, BETA, &res);
	assert_int_equal(f->rx.accepted, 1);
	assert_ptr_equal(res.peer, peer(f, BETA));
	assert_msg_equal(&res.msg, &m);
	assert_int_equal(res.gap, 0);
	assert_true(peer(f, BETA)->replay.incarnation == INC);
	assert_true(peer(f, BETA)->replay.high == 1);

	/* version 1, from a node of the previous release: accepted, its
	 * version kept, no epoch and no file digest */
	m.seq = 2;
	m.version = 1;
	len = build(f, &m, buf, sizeof(buf));
	assert_int_equal(len, vg_proto_len_v(1, VG_MSG_HEARTBEAT));
	expect_accept(f, buf, len, BETA, &res);
	assert_int_equal(res.msg.version, 1);
	assert_int_equal(res.msg.epoch, 0);
	assert_int_equal(res.msg.conf_digest, 0);
	assert_int_equal(res.msg.u.hb.echo_delay_us, 250);
	assert_int_equal(f->rx.accepted, 2);
	m.version = VG_VERSION;

	/* an IPv6 peer, and every type */
	m = msg_from(f, GAMMA, VG_MSG_VOTE, 1);
	m.flags = VG_FLAG_PRE | VG_FLAG_GRANTED;
	len = build(f, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, GAMMA, &res);
	assert_ptr_equal(res.peer, peer(f, GAMMA));
	m = msg_from(f, GAMMA, VG_MSG_VOTE_REQUEST, 2);
	len = build(f, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, GAMMA, &res);
	m = msg_from(f, GAMMA, VG_MSG_RELEASE, 3);
	len = build(f, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, GAMMA, &res);
	m = msg_from(f, GAMMA, VG_MSG_TRANSFER, 4);
	len = build(f, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, GAMMA, &res);
	assert_int_equal(f->rx.accepted, 6);
	assert_int_equal(res.gap, 0);

	/* gaps are reported for vg_peer_heard (BETA's 1 and 2 were seen) */
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 5);
	len = build(f, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, BETA, &res);
	assert_int_equal(res.gap, 2);
}

static void
test_rx_source_port_ignored(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT];
	struct vg_rx_result res;
	struct sockaddr_in sin;
	struct vg_msg m;
	size_t len;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(1);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.2", &sin.sin_addr), 1);
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	len = build(f, &m, buf, sizeof(buf));
	expect_accept_src(f, buf, len, (struct sockaddr *)&sin, sizeof(sin), &res);
}

/* ---- rx: every drop, in order */

static void
test_rx_drop_truncated(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT];
	struct sockaddr_storage ss;
	socklen_t sl = src_of(f, BETA, &ss);
	struct vg_msg m;
	size_t len;

	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	len = build(f, &m, buf, sizeof(buf));
	/* even a packet that would be valid */
	expect_drop_src(f, buf, len, 1, (struct sockaddr *)&ss, sl,
	    VG_DROP_TRUNCATED, NULL);
	/* and nothing was recorded: the same seq is still fresh */
	expect_accept(f, buf, len, BETA, &(struct vg_rx_result){ 0 });
}

static void
test_rx_drop_short(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT];
	struct vg_msg m;

	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	build(f, &m, buf, sizeof(buf));
	/* short of the shortest header accepted (version 1's) */
	expect_drop(f, buf, VG_HDR_LEN_V1 + VG_MAC_LEN - 1, BETA,
	    VG_DROP_SHORT, NULL);
	expect_drop(f, buf, 1, BETA, VG_DROP_SHORT, NULL);
	expect_drop(f, buf, 0, BETA, VG_DROP_SHORT, NULL);
}

static void
test_rx_drop_magic(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT];
	struct vg_msg m;
	size_t len;

	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	len = build(f, &m, buf, sizeof(buf));
	memcpy(buf, "VGL2", 4);
	vg_auth_sign(&f->auth, buf, len);
	expect_drop(f, buf, len, BETA, VG_DROP_MAGIC, NULL);
	memcpy(buf, "1LGV", 4);
	vg_auth_sign(&f->auth, buf, len);
	expect_drop(f, buf, len, BETA, VG_DROP_MAGIC, NULL);
}

static void
test_rx_drop_version(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT];
	struct vg_msg m;
	size_t len;

	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	len = build(f, &m, buf, sizeof(buf));
	buf[4] = VG_VERSION + 1;
	vg_auth_sign(&f->auth, buf, len);
	expect_drop(f, buf, len, BETA, VG_DROP_VERSION, NULL);
	buf[4] = 0;
	vg_auth_sign(&f->auth, buf, len);
	expect_drop(f, buf, len, BETA, VG_DROP_VERSION, NULL);
}

static void
test_rx_drop_type(void **state)
{
	static const uint8_t bad[] = { 0, VG_MSG_TYPE_MAX + 1, 0x80, 0xff };
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT];
	struct vg_msg m;
	size_t len, i;

	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	len = build(f, &m, buf, sizeof(buf));
	for (i = 0; i < sizeof(bad); i++) {
		buf[5] = bad[i];
		vg_auth_sign(&f->auth, buf, len);
		expect_drop(f, buf, len, BETA, VG_DROP_TYPE, NULL);
	}
}

static void
test_rx_drop_length(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT + 16];
	struct vg_msg m;
	size_t len;

	/* HEARTBEAT is 87 (version 3, one group): 86 and 88 are not */
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	len = build(f, &m, buf, sizeof(buf));
	buf[len] = 0;
	expect_drop(f, buf, len + 1, BETA, VG_DROP_LENGTH, NULL);
	expect_drop(f, buf, len - 1, BETA, VG_DROP_LENGTH, NULL);
	/* VOTE is 85 */
	m = msg_from(f, BETA, VG_MSG_VOTE, 1);
	len = build(f, &m, buf, sizeof(buf));
	assert_int_equal(len, 85);
	buf[len] = 0;
	expect_drop(f, buf, len + 1, BETA, VG_DROP_LENGTH, NULL);
	expect_drop(f, buf, len - 1, BETA, VG_DROP_LENGTH, NULL);
	/* the group-only ones are 83, and 74 in version 1: one more is a
	 * length error, one less too, and short below version 1's */
	m = msg_from(f, BETA, VG_MSG_RELEASE, 1);
	len = build(f, &m, buf, sizeof(buf));
	assert_int_equal(len, 83);
	buf[len] = 0;
	expect_drop(f, buf, len + 1, BETA, VG_DROP_LENGTH, NULL);
	expect_drop(f, buf, len - 1, BETA, VG_DROP_LENGTH, NULL);
	m.version = 1;
	len = build(f, &m, buf, sizeof(buf));
	assert_int_equal(len, 74);
	expect_drop(f, buf, len - 1, BETA, VG_DROP_SHORT, NULL);
	/* a HEARTBEAT header with a VOTE's length */
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	len = build(f, &m, buf, sizeof(buf));
	expect_drop(f, buf, vg_proto_len(VG_MSG_VOTE), BETA, VG_DROP_LENGTH, NULL);
}

static void
malformed(struct fix *f, const struct vg_msg *m)
{
	uint8_t buf[VG_MAX_PKT];
	size_t len = build(f, m, buf, sizeof(buf));

	expect_drop(f, buf, len, BETA, VG_DROP_MALFORMED, NULL);
}

static void
test_rx_drop_malformed(void **state)
{
	struct fix *f = *state;
	struct vg_msg m;

	/* state out of range */
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	m.state = 0;
	malformed(f, &m);
	m.state = VG_ST_MAX + 1;
	malformed(f, &m);
	m.state = 0xff;
	malformed(f, &m);
	/* a flag the type may not carry */
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	m.flags = VG_FLAG_GRANTED;
	malformed(f, &m);
	m.flags = VG_FLAG_PRE;
	malformed(f, &m);
	m = msg_from(f, BETA, VG_MSG_VOTE_REQUEST, 1);
	m.flags = VG_FLAG_GRANTED;
	malformed(f, &m);
	m = msg_from(f, BETA, VG_MSG_VOTE, 1);
	m.flags = VG_FLAG_LAPSED;
	malformed(f, &m);
	m.flags = VG_FLAG_HOLDING;
	malformed(f, &m);
	m = msg_from(f, BETA, VG_MSG_VOTE_REQUEST, 1);
	m.flags = VG_FLAG_HOLDING;
	malformed(f, &m);
	m = msg_from(f, BETA, VG_MSG_RELEASE, 1);
	m.flags = VG_FLAG_PRE;
	malformed(f, &m);
	m = msg_from(f, BETA, VG_MSG_TRANSFER, 1);
	m.flags = VG_FLAG_LAPSED;
	malformed(f, &m);
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	m.flags = VG_FLAG_LAPSED | 0x0020;
	malformed(f, &m);
	m.flags = 0x8000;
	malformed(f, &m);
	/* REPLY is a heartbeat's only */
	m = msg_from(f, BETA, VG_MSG_VOTE, 1);
	m.flags = VG_FLAG_REPLY;
	malformed(f, &m);
	/* sender 0, seq 0, incarnation 0 */
	m = msg_from(f, 0, VG_MSG_HEARTBEAT, 1);
	malformed(f, &m);
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 0);
	malformed(f, &m);
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	m.incarnation = 0;
	malformed(f, &m);
	assert_int_equal(f->rx.drops[VG_DROP_MALFORMED], 17);
}

static void
test_rx_drop_cluster(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT];
	struct vg_msg m;
	size_t len;

	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	m.cluster_id = f->rx.cluster_id ^ 1;
	len = build(f, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_CLUSTER, NULL);
}

static void
test_rx_drop_target(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT];
	struct vg_msg m;
	size_t len;

	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	m.target = GAMMA;
	len = build(f, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_TARGET, NULL);
	m.target = 0;
	len = build(f, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_TARGET, NULL);
}

static void
test_rx_drop_self(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT];
	struct vg_msg m;
	size_t len;

	m = msg_from(f, ALPHA, VG_MSG_HEARTBEAT, 1);
	len = build(f, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_SELF, NULL);
	expect_drop(f, buf, len, ALPHA, VG_DROP_SELF, NULL);
}

static void
test_rx_drop_unknown_peer(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT];
	struct vg_msg m;
	size_t len;

	m = msg_from(f, 9, VG_MSG_HEARTBEAT, 1);
	len = build(f, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_UNKNOWN_PEER, NULL);
	m = msg_from(f, 0xffff, VG_MSG_HEARTBEAT, 1);
	len = build(f, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_UNKNOWN_PEER, NULL);
}

static void
test_rx_drop_address(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT];
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct vg_msg m;
	size_t len;

	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	len = build(f, &m, buf, sizeof(buf));
	/* beta's id from gamma's address (another family): a stranger's,
	 * not counted against beta */
	expect_drop(f, buf, len, GAMMA, VG_DROP_ADDRESS, NULL);
	/* from a host next door */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(5405);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.3", &sin.sin_addr), 1);
	expect_drop_src(f, buf, len, 0, (struct sockaddr *)&sin, sizeof(sin),
	    VG_DROP_ADDRESS, NULL);
	sin.sin_port = htons(40000);	/* the same host, another port */
	expect_drop_src(f, buf, len, 0, (struct sockaddr *)&sin, sizeof(sin),
	    VG_DROP_ADDRESS, NULL);
	/* gamma from a neighbour of its IPv6 address */
	m = msg_from(f, GAMMA, VG_MSG_HEARTBEAT, 1);
	len = build(f, &m, buf, sizeof(buf));
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::4", &sin6.sin6_addr), 1);
	expect_drop_src(f, buf, len, 0, (struct sockaddr *)&sin6, sizeof(sin6),
	    VG_DROP_ADDRESS, NULL);
	assert_int_equal(peer(f, BETA)->drops[VG_DROP_ADDRESS], 0);
	assert_int_equal(peer(f, GAMMA)->drops[VG_DROP_ADDRESS], 0);
	/* each real source, by address: 192.0.2.3 twice, most recent last */
	{
		size_t i, n = 0, by_next_door = 0;

		for (i = 0; i < VG_RX_SOURCES; i++) {
			const struct vg_rx_source *s = &f->rx.src[i];

			if (s->addrlen == 0)
				continue;
			n++;
			assert_int_equal(s->last, VG_DROP_ADDRESS);
			if (vg_sockaddr_same_host((struct sockaddr *)&sin,
			    sizeof(sin), (const struct sockaddr *)&s->addr,
			    s->addrlen))
				by_next_door = s->drops;
		}
		assert_int_equal(n, 3);
		assert_int_equal(by_next_door, 2);
	}
}

/*
 * Freshness after a restart: once vg_peers_fresh_start has set the base,
 * a peer's message counts only when it (or an earlier one) echoes a seq we
 * sent above the base; before, it is dropped as "unfresh", counted against
 * the peer, and leaves its replay window as it was.  A forged echo of a
 * seq not yet sent does not count.  The message that proves it fresh
 * closes the window below itself: before, a recording of what the peer
 * sent just before our restart passed once it was fresh.
 */
static void
test_rx_unfresh(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT];
	struct vg_rx_result res;
	struct vg_msg m;
	uint64_t base = 1000ULL << VG_SEQ_BASE_SHIFT, ours;
	size_t len;

	vg_peers_fresh_start(&f->table, 1000);
	assert_int_equal(peer(f, BETA)->seq_base, base);
	assert_int_equal(peer(f, BETA)->tx_seq, base);
	/* a replay from before our start: echoes nothing of ours */
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 7);
	m.echo_seq = 0;
	len = build(f, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_UNFRESH, peer(f, BETA));
	/* echoes a seq of our earlier run (below the base) */
	m.echo_seq = base - 5;
	len = build(f, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_UNFRESH, peer(f, BETA));
	/* echoes one we have not sent yet: not proof either */
	m.echo_seq = base + 1;
	len = build(f, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_UNFRESH, peer(f, BETA));
	assert_false(peer(f, BETA)->fresh);
	/* we send it our first seq of this run; it echoes it: taken, and
	 * seq 7, never accepted, is still new to the window */
	ours = vg_peer_next_seq(peer(f, BETA), 5);
	assert_int_equal(ours, base + 1);
	m.echo_seq = ours;
	len = build(f, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, BETA, &res);
	assert_true(peer(f, BETA)->fresh);
	/* what it sent before it heard us (a recording of the time before
	 * our restart, seqs 1-6 of the same incarnation) stays out: the
	 * window is closed below the seq that proved it fresh */
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 6);
	m.echo_seq = 0;
	len = build(f, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_REPLAY, peer(f, BETA));
	m = msg_from(f, BETA, VG_MSG_VOTE_REQUEST, 1);
	m.echo_seq = 0;
	len = build(f, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_REPLAY, peer(f, BETA));
	/* from then on, with or without an echo */
	m = msg_from(f, BETA, VG_MSG_VOTE, 8);
	m.echo_seq = 0;
	len = build(f, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, BETA, &res);
	assert_int_equal(peer(f, BETA)->drops[VG_DROP_UNFRESH], 3);
	/* gamma: another peer, still to prove it */
	m = msg_from(f, GAMMA, VG_MSG_HEARTBEAT, 1);
	m.echo_seq = ours;		/* beta's seq, not one sent to gamma */
	len = build(f, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, GAMMA, VG_DROP_UNFRESH, peer(f, GAMMA));
}

/* The source table keeps the VG_RX_SOURCES most recent strangers. */
static void
test_rx_sources_lru(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT];
	struct sockaddr_in sin;
	struct vg_msg m;
	size_t len, i;
	char a[32];

	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	len = build(f, &m, buf, sizeof(buf));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	for (i = 0; i < VG_RX_SOURCES + 3; i++) {
		snprintf(a, sizeof(a), "192.0.2.%zu", 10 + i);
		assert_int_equal(inet_pton(AF_INET, a, &sin.sin_addr), 1);
		expect_drop_src(f, buf, len, 0, (struct sockaddr *)&sin,
		    sizeof(sin), VG_DROP_ADDRESS, NULL);
	}
	/* the first three were taken over; the last VG_RX_SOURCES stay */
	for (i = 0; i < VG_RX_SOURCES; i++) {
		const struct sockaddr_in *s =
		    (const struct sockaddr_in *)&f->rx.src[i].addr;
		unsigned last = ntohl(s->sin_addr.s_addr) & 0xff;

		assert_true(last >= 13 && last < 10 + VG_RX_SOURCES + 3);
		assert_int_equal(f->rx.src[i].drops, 1);
	}
}

static void
test_rx_drop_auth(void **state)
{
	struct fix *f = *state;
	struct vg_auth other, none;
	uint8_t buf[VG_MAX_PKT], key[32];
	struct vg_msg m;
	size_t len;

	memset(&other, 0, sizeof(other));
	test_key(key, 2);
	vg_auth_set_key(&other, key, sizeof(key));
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	len = build_with(&other, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_AUTH, peer(f, BETA));
	/* the key, one byte shorter */
	test_key(key, 1);
	vg_auth_set_key(&other, key, 31);
	len = build_with(&other, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_AUTH, peer(f, BETA));
	/* no MAC at all (a sender with auth = none) */
	memset(&none, 0, sizeof(none));
	vg_auth_set_none(&none);
	len = build_with(&none, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_AUTH, peer(f, BETA));
	assert_int_equal(peer(f, BETA)->drops[VG_DROP_AUTH], 3);
	/* the replay window saw nothing: the seq is still fresh */
	len = build(f, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, BETA, &(struct vg_rx_result){ 0 });
}

/*
 * A rotation: a datagram signed with the next or the previous key passes
 * only while that slot holds it, and is counted against the slot that
 * verified it; one that no key verifies is an auth drop as before.
 */
static void
test_rx_key_slots(void **state)
{
	struct fix *f = *state;
	struct vg_auth nxt, prev;
	struct vg_rx_result res;
	uint8_t buf[VG_MAX_PKT], key[32];
	struct vg_msg m;
	size_t len;

	memset(&nxt, 0, sizeof(nxt));
	test_key(key, 2);
	vg_auth_set_key(&nxt, key, sizeof(key));
	memset(&prev, 0, sizeof(prev));
	test_key(key, 3);
	vg_auth_set_key(&prev, key, sizeof(key));

	/* not configured: both refused as "auth" */
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	len = build_with(&nxt, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_AUTH, peer(f, BETA));
	len = build_with(&prev, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_AUTH, peer(f, BETA));

	/* next configured: next passes, previous still does not */
	test_key(key, 2);
	vg_auth_set_slot(&f->auth, VG_KEY_NEXT, key, sizeof(key));
	len = build_with(&nxt, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, BETA, &res);
	assert_int_equal(res.key, VG_KEY_NEXT);
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 2);
	len = build_with(&prev, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_AUTH, peer(f, BETA));

	/* previous configured too */
	test_key(key, 3);
	vg_auth_set_slot(&f->auth, VG_KEY_PREVIOUS, key, sizeof(key));
	expect_accept(f, buf, len, BETA, &res);
	assert_int_equal(res.key, VG_KEY_PREVIOUS);
	/* and the current key first */
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 3);
	len = build(f, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, BETA, &res);
	assert_int_equal(res.key, VG_KEY_CURRENT);
	/* a replay of a message verified by next: dropped, and counted
	 * against next */
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	len = build_with(&nxt, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_REPLAY, peer(f, BETA));

	assert_int_equal(f->rx.key_accepted[VG_KEY_CURRENT], 1);
	assert_int_equal(f->rx.key_accepted[VG_KEY_NEXT], 1);
	assert_int_equal(f->rx.key_accepted[VG_KEY_PREVIOUS], 1);
	assert_int_equal(f->rx.key_drops[VG_KEY_CURRENT], 0);
	assert_int_equal(f->rx.key_drops[VG_KEY_NEXT], 1);
	assert_int_equal(f->rx.key_drops[VG_KEY_PREVIOUS], 0);
	assert_int_equal(f->rx.drops[VG_DROP_AUTH], 3);
	assert_int_equal(f->rx.accepted, 3);

	/* the previous key dropped (step 3): its datagrams are refused */
	memset(f->auth.alt, 0, sizeof(f->auth.alt));
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 4);
	len = build_with(&prev, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_AUTH, peer(f, BETA));
	assert_int_equal(f->rx.key_accepted[VG_KEY_PREVIOUS], 1);
	assert_int_equal(f->rx.drops[VG_DROP_AUTH], 4);
}

/* Every single-bit change of a valid packet is rejected, never accepted. */
static void
test_rx_bit_flips(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT], pkt[VG_MAX_PKT];
	struct vg_peer saved_peers[VG_MAX_NODES];
	struct vg_rx saved_rx;
	struct vg_rx_result res;
	uint64_t reasons[VG_DROP_MAX];
	struct vg_msg m;
	size_t len, i;
	int bit;

	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 77);
	m.flags = VG_FLAG_LAPSED;
	m.state = VG_ST_ACTIVE;
	m.echo_seq = 0x123456;
	m.active = BETA;
	m.u.hb.echo_delay_us = 0xabcdef;
	len = build(f, &m, pkt, sizeof(pkt));
	/* a window that has seen seq 70, so that replay would pass most seqs */
	m.seq = 70;
	len = build(f, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, BETA, &res);
	saved_rx = f->rx;
	memcpy(saved_peers, f->peers, sizeof(saved_peers));
	memset(reasons, 0, sizeof(reasons));

	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			f->rx = saved_rx;
			memcpy(f->peers, saved_peers, sizeof(saved_peers));
			memcpy(buf, pkt, len);
			buf[i] ^= (uint8_t)(1u << bit);
			input(f, buf, len, BETA, &res);
			if (res.drop == VG_DROP_NONE)
				fail_msg("byte %zu bit %d flipped: accepted", i, bit);
			assert_int_equal(f->rx.accepted, saved_rx.accepted);
			reasons[res.drop]++;
			if (i < 4)
				assert_int_equal(res.drop, VG_DROP_MAGIC);
			else if (i == 4)	/* 3 to 2 or 1: another length */
				assert_true(res.drop == VG_DROP_VERSION ||
				    res.drop == VG_DROP_LENGTH);
			else if (i >= 8 && i < 12)
				assert_int_equal(res.drop, VG_DROP_CLUSTER);
			else if (i >= 14 && i < 16)
				assert_int_equal(res.drop, VG_DROP_TARGET);
			else if (i == VG_HDR_LEN + 4)	/* n_sections */
				assert_int_equal(res.drop, VG_DROP_LENGTH);
			else if (i >= 18)	/* reserved, term..body, mac */
				assert_int_equal(res.drop, VG_DROP_AUTH);
		}
	}
	assert_true(reasons[VG_DROP_AUTH] >= (len - 18 - 1) * 8);
	assert_true(reasons[VG_DROP_MALFORMED] > 0);
	/* and the packet itself, unchanged, is fine */
	f->rx = saved_rx;
	memcpy(f->peers, saved_peers, sizeof(saved_peers));
	expect_accept(f, pkt, len, BETA, &res);
	assert_true(res.msg.seq == 77);
}

static void
test_rx_drop_stale_incarnation(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT];
	struct vg_rx_result res;
	struct vg_msg m;
	size_t len;

	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 5);
	len = build(f, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, BETA, &res);
	/* the previous life of beta, however high its seq */
	m.incarnation = INC - 1;
	m.seq = 1000000;
	len = build(f, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_STALE, peer(f, BETA));
	/* a newer one starts afresh, seq 1 included */
	m.incarnation = INC + 1;
	m.seq = 1;
	len = build(f, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, BETA, &res);
	assert_int_equal(res.gap, 0);
	/* and now INC itself is stale */
	m.incarnation = INC;
	m.seq = 6;
	len = build(f, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_STALE, peer(f, BETA));
	assert_int_equal(peer(f, BETA)->drops[VG_DROP_STALE], 2);
}

static void
send_seq(struct fix *f, uint64_t seq, enum vg_drop want, int64_t gap)
{
	uint8_t buf[VG_MAX_PKT];
	struct vg_rx_result res;
	struct vg_msg m;
	size_t len;

	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, seq);
	len = build(f, &m, buf, sizeof(buf));
	if (want == VG_DROP_NONE) {
		expect_accept(f, buf, len, BETA, &res);
		if (res.gap != gap)
			fail_msg("seq %llu: gap %lld, wanted %lld",
			    (unsigned long long)seq, (long long)res.gap,
			    (long long)gap);
	} else
		expect_drop(f, buf, len, BETA, want, peer(f, BETA));
}

static void
test_rx_drop_replay(void **state)
{
	struct fix *f = *state;

	/* the same seq twice */
	send_seq(f, 100, VG_DROP_NONE, 0);
	send_seq(f, 100, VG_DROP_REPLAY, 0);
	/* older than the 64-seq window: even never seen, it is refused */
	send_seq(f, 100 - VG_REPLAY_WINDOW, VG_DROP_REPLAY, 0);
	send_seq(f, 1, VG_DROP_REPLAY, 0);
	/* the oldest seq inside the window, not seen: accepted, then not */
	send_seq(f, 100 - VG_REPLAY_WINDOW + 1, VG_DROP_NONE, -1);
	send_seq(f, 100 - VG_REPLAY_WINDOW + 1, VG_DROP_REPLAY, 0);
	/* reordered: 101, 104, then the late 103 and 102, each once */
	send_seq(f, 101, VG_DROP_NONE, 0);
	send_seq(f, 104, VG_DROP_NONE, 2);
	send_seq(f, 103, VG_DROP_NONE, -1);
	send_seq(f, 103, VG_DROP_REPLAY, 0);
	send_seq(f, 102, VG_DROP_NONE, -1);
	send_seq(f, 102, VG_DROP_REPLAY, 0);
	send_seq(f, 104, VG_DROP_REPLAY, 0);
	send_seq(f, 101, VG_DROP_REPLAY, 0);
	/* a jump past the whole window forgets it */
	send_seq(f, 1000, VG_DROP_NONE, 895);
	send_seq(f, 999, VG_DROP_NONE, -1);
	send_seq(f, 1000 - VG_REPLAY_WINDOW, VG_DROP_REPLAY, 0);
	send_seq(f, 104, VG_DROP_REPLAY, 0);
	assert_int_equal(peer(f, BETA)->drops[VG_DROP_REPLAY], 10);
	assert_int_equal(f->rx.drops[VG_DROP_REPLAY], 10);
	assert_int_equal(f->rx.accepted, 8);
}

/* A replay window is per sender. */
static void
test_rx_replay_per_sender(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT];
	struct vg_rx_result res;
	struct vg_msg m;
	size_t len;

	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 10);
	len = build(f, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, BETA, &res);
	m = msg_from(f, GAMMA, VG_MSG_HEARTBEAT, 10);
	len = build(f, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, GAMMA, &res);
	assert_int_equal(f->rx.accepted, 2);
}

static void
test_rx_auth_none(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT], zero[VG_MAC_LEN];
	struct vg_rx_result res;
	struct vg_msg m;
	size_t len;

	memset(zero, 0, sizeof(zero));
	vg_auth_set_none(&f->auth);
	assert_int_equal(f->auth.mode, VG_AUTH_NONE);
	assert_int_equal(f->auth.keylen, 0);
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	len = build(f, &m, buf, sizeof(buf));
	/* sign leaves a zero MAC */
	assert_memory_equal(buf + len - VG_MAC_LEN, zero, VG_MAC_LEN);
	expect_accept(f, buf, len, BETA, &res);
	/* no MAC check: anything in the MAC bytes passes */
	m.seq = 2;
	len = build(f, &m, buf, sizeof(buf));
	memset(buf + len - VG_MAC_LEN, 0xa5, VG_MAC_LEN);
	expect_accept(f, buf, len, BETA, &res);
	/* the other checks still run */
	m.seq = 3;
	len = build(f, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, GAMMA, VG_DROP_ADDRESS, NULL);
	m.seq = 2;
	len = build(f, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_REPLAY, peer(f, BETA));
	assert_int_equal(f->rx.accepted, 2);
}

static void
test_sockaddr_same_host(void **state)
{
	struct sockaddr_in a, b;
	struct sockaddr_in6 c, d;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(1);
	inet_pton(AF_INET, "192.0.2.2", &a.sin_addr);
	b = a;
	b.sin_port = htons(2);
	memset(&c, 0, sizeof(c));
	c.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::3", &c.sin6_addr);
	d = c;
	d.sin6_port = htons(9);
	assert_true(vg_sockaddr_same_host((struct sockaddr *)&a, sizeof(a),
	    (struct sockaddr *)&b, sizeof(b)));
	assert_true(vg_sockaddr_same_host((struct sockaddr *)&c, sizeof(c),
	    (struct sockaddr *)&d, sizeof(d)));
	assert_false(vg_sockaddr_same_host((struct sockaddr *)&a, sizeof(a),
	    (struct sockaddr *)&c, sizeof(c)));
	/* a short sockaddr is nobody */
	assert_false(vg_sockaddr_same_host((struct sockaddr *)&a, 4,
	    (struct sockaddr *)&b, sizeof(b)));
	b.sin_addr.s_addr ^= htonl(1);
	assert_false(vg_sockaddr_same_host((struct sockaddr *)&a, sizeof(a),
	    (struct sockaddr *)&b, sizeof(b)));
	d.sin6_addr.s6_addr[15] ^= 1;
	assert_false(vg_sockaddr_same_host((struct sockaddr *)&c, sizeof(c),
	    (struct sockaddr *)&d, sizeof(d)));
}

/*
 * The push's five types (issue 14) pass the same checks as every type:
 * a signed chunk (the largest datagram, VG_MAX_DGRAM) and an offer are
 * accepted with their bodies; a chunk whose padding is not zero, an ack
 * of an unknown status, are `malformed`; a push type in wire version 1
 * is `type` (it has none); a chunk signed with another key is `auth`, and
 * the same chunk twice is a replay.
 */
static void
test_rx_push_types(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_DGRAM + 8], body[1040], file[1500];
	struct vg_push_offer o, od;
	struct vg_push_chunk c, cd;
	struct vg_push_ack ak;
	struct vg_push_tx tx;
	struct vg_rx_result res;
	struct vg_auth other;
	struct vg_msg m;
	uint8_t key[32];
	size_t len, i;

	for (i = 0; i < sizeof(file); i++)
		file[i] = (uint8_t)(i * 13);
	assert_int_equal(vg_push_tx_init(&tx, 77, 5, file, sizeof(file)), 0);
	o = tx.offer;
	m = msg_from(f, BETA, VG_MSG_CONF_OFFER, 1);
	assert_int_equal(vg_push_encode_offer(&o, body, sizeof(body)), 52);
	m.body = body;
	len = build(f, &m, buf, sizeof(buf));
	assert_int_equal(len, VG_HDR_LEN + 52 + VG_MAC_LEN);
	expect_accept(f, buf, len, BETA, &res);
	assert_int_equal(res.msg.type, VG_MSG_CONF_OFFER);
	assert_int_equal(vg_push_decode_offer(res.msg.body, 52, &od), 0);
	assert_true(od.push_id == 77 && od.epoch == 5 && od.size == 1500);

	/* the last chunk: 476 bytes used, the rest zero */
	vg_push_tx_chunk(&tx, 1, &c);
	assert_int_equal(vg_push_encode_chunk(&c, body, sizeof(body)), 1040);
	m = msg_from(f, BETA, VG_MSG_CONF_CHUNK, 2);
	m.body = body;
	len = build(f, &m, buf, sizeof(buf));
	assert_int_equal(len, VG_MAX_DGRAM);
	expect_accept(f, buf, len, BETA, &res);
	assert_int_equal(vg_push_decode_chunk(res.msg.body, 1040, &cd), 0);
	assert_int_equal(cd.used, 476);
	assert_memory_equal(cd.data, file + 1024, 476);
	expect_drop(f, buf, len, BETA, VG_DROP_REPLAY, peer(f, BETA));

	/* a byte past `used` set: one datagram, one meaning */
	body[16 + 476] = 1;
	m = msg_from(f, BETA, VG_MSG_CONF_CHUNK, 3);
	m.body = body;
	len = build(f, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_MALFORMED, NULL);
	body[16 + 476] = 0;

	memset(&ak, 0, sizeof(ak));
	ak.push_id = 77;
	ak.epoch = 5;
	ak.status = VG_PUSH_STAGED;
	assert_int_equal(vg_push_encode_ack(&ak, body, sizeof(body)), 184);
	body[12] = 9;			/* no such status */
	m = msg_from(f, GAMMA, VG_MSG_CONF_ACK, 1);
	m.body = body;
	len = build(f, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, GAMMA, VG_DROP_MALFORMED, NULL);
	body[12] = VG_PUSH_STAGED;
	len = build(f, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, GAMMA, &res);

	/* version 1 has no push types */
	m = msg_from(f, BETA, VG_MSG_CONF_DECIDE, 4);
	m.version = 1;
	m.body = body;
	assert_int_equal(vg_proto_encode(&m, buf, sizeof(buf)), 0);
	m.version = VG_VERSION;
	memset(body, 0, 16);
	body[7] = 77;
	body[12] = VG_PUSH_LIVE;
	len = build(f, &m, buf, sizeof(buf));
	buf[4] = 1;
	expect_drop(f, buf, len, BETA, VG_DROP_TYPE, NULL);

	/* another key: the MAC */
	test_key(key, 9);
	vg_auth_set_key(&other, key, sizeof(key));
	len = build_with(&other, &m, buf, sizeof(buf));
	expect_drop(f, buf, len, BETA, VG_DROP_AUTH, peer(f, BETA));
	len = build(f, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, BETA, &res);
	assert_int_equal(res.msg.body[12], VG_PUSH_LIVE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rx_accepts, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_source_port_ignored,
		    fix_setup, fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_drop_truncated, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_drop_short, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_drop_magic, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_drop_version, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_drop_type, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_drop_length, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_drop_malformed, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_drop_cluster, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_drop_target, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_drop_self, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_drop_unknown_peer,
		    fix_setup, fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_unfresh, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_sources_lru, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_drop_address, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_key_slots, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_drop_auth, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_bit_flips, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_drop_stale_incarnation,
		    fix_setup, fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_drop_replay, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_replay_per_sender,
		    fix_setup, fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_auth_none, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_rx_push_types, fix_setup,
		    fix_teardown),
		cmocka_unit_test(test_sockaddr_same_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
