/*
 * test_proto: the receive pipeline.  proto (encode/decode, byte offsets of
 * the diagram in proto.h), auth (key files, HMAC, the replay window) and rx
 * (every drop reason, in order, counted in total and against the peer once
 * the sender is known; a one-bit flip anywhere is never accepted).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "auth.h"
#include "conf.h"
#include "peer.h"
#include "proto.h"
#include "rx.h"

#define ALPHA	1		/* this node */
#define BETA	2		/* an IPv4 peer */
#define GAMMA	3		/* an IPv6 peer */
#define INC	1000		/* the peers' incarnation */

static const char fixture_conf[] =
	"cluster = \"ut\";\n"
	"auth = \"none\";\n"
	"nodes = (\n"
	"\t{ id = 1; name = \"alpha\"; address = \"192.0.2.1\"; },\n"
	"\t{ id = 2; name = \"beta\"; address = \"192.0.2.2\"; },\n"
	"\t{ id = 3; name = \"gamma\"; address = \"2001:db8::3\"; }\n"
	");\n";

struct fix {
	struct vg_conf	*conf;
	struct vg_peer	 peers[VG_MAX_NODES];
	struct vg_auth	 auth;
	struct vg_rx	 rx;
};

static void
test_key(uint8_t key[32], uint8_t salt)
{
	int i;

	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)(i * 7 + salt);
}

static int
fix_setup(void **state)
{
	struct vg_errs errs;
	struct fix *f;
	uint8_t key[32];
	size_t i;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	vg_errs_init(&errs);
	f->conf = vg_conf_parse(fixture_conf, "fixture.conf", "alpha", &errs);
	if (f->conf == NULL) {
		free(f);
		return -1;
	}
	for (i = 0; i < f->conf->n_nodes; i++)
		if ((int)i != f->conf->self)
			vg_peer_init(&f->peers[f->rx.n_peers++], &f->conf->nodes[i]);
	test_key(key, 1);
	vg_auth_set_key(&f->auth, key, sizeof(key));
	f->rx.cluster_id = f->conf->cluster_id;
	f->rx.self_id = f->conf->nodes[f->conf->self].id;
	f->rx.auth = &f->auth;
	f->rx.peers = f->peers;
	*state = f;
	return 0;
}

static int
fix_teardown(void **state)
{
	struct fix *f = *state;

	vg_conf_free(f->conf);
	free(f);
	return 0;
}

/* A valid message from `sender` to this node. */
static struct vg_msg
msg_from(const struct fix *f, uint16_t sender, uint8_t type, uint64_t seq)
{
	struct vg_msg m;

	memset(&m, 0, sizeof(m));
	m.version = VG_VERSION;
	m.type = type;
	m.cluster_id = f->rx.cluster_id;
	m.sender = sender;
	m.target = ALPHA;
	m.state = VG_ST_STANDBY;
	m.priority = 100;
	m.term = 7;
	m.incarnation = INC;
	m.seq = seq;
	m.config_digest = f->conf->digest;
	return m;
}

/* Encodes and signs with `a`. */
static size_t
build_with(const struct vg_auth *a, const struct vg_msg *m, uint8_t *buf,
    size_t buflen)
{
	size_t len = vg_proto_encode(m, buf, buflen);

	assert_int_not_equal(len, 0);
	vg_auth_sign(a, buf, len);
	return len;
}

static size_t
build(const struct fix *f, const struct vg_msg *m, uint8_t *buf, size_t buflen)
{
	return build_with(&f->auth, m, buf, buflen);
}

/* The configured address of node `id`, from an ephemeral port. */
static socklen_t
src_of(const struct fix *f, uint16_t id, struct sockaddr_storage *ss)
{
	const struct vg_conf_node *n = vg_conf_node_by_id(f->conf, id);

	assert_non_null(n);
	*ss = n->sa;
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(40001);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(40001);
	return n->salen;
}

static struct vg_peer *
peer(struct fix *f, uint16_t id)
{
	struct vg_peer *p = vg_rx_peer_by_id(&f->rx, id);

	assert_non_null(p);
	return p;
}

static void
input(struct fix *f, const uint8_t *buf, size_t len, uint16_t from,
    struct vg_rx_result *res)
{
	struct sockaddr_storage ss;
	socklen_t sl = src_of(f, from, &ss);

	vg_rx_input(&f->rx, buf, len, 0, (struct sockaddr *)&ss, sl, res);
}

/* Accepted: counted as such, no drop counter moves anywhere. */
static void
expect_accept_src(struct fix *f, const uint8_t *buf, size_t len,
    const struct sockaddr *src, socklen_t srclen, struct vg_rx_result *res)
{
	struct vg_rx before = f->rx;
	struct vg_peer pb[VG_MAX_NODES];
	size_t i;

	memcpy(pb, f->peers, sizeof(pb));
	vg_rx_input(&f->rx, buf, len, 0, src, srclen, res);
	if (res->drop != VG_DROP_NONE)
		fail_msg("dropped (%s), wanted accepted", vg_drop_name(res->drop));
	assert_int_equal(f->rx.accepted, before.accepted + 1);
	assert_memory_equal(f->rx.drops, before.drops, sizeof(before.drops));
	for (i = 0; i < f->rx.n_peers; i++)
		assert_memory_equal(f->peers[i].drops, pb[i].drops,
		    sizeof(pb[i].drops));
	assert_non_null(res->peer);
}

static void
expect_accept(struct fix *f, const uint8_t *buf, size_t len, uint16_t from,
    struct vg_rx_result *res)
{
	struct sockaddr_storage ss;
	socklen_t sl = src_of(f, from, &ss);

	expect_accept_src(f, buf, len, (struct sockaddr *)&ss, sl, res);
}

/*
 * Dropped for `want`: rx->drops[want] moves by one and nothing else does;
 * the peer's own counter moves too when the sender is known (`known`).
 */
static void
expect_drop_src(struct fix *f, const uint8_t *buf, size_t len, int truncated,
    const struct sockaddr *src, socklen_t srclen, enum vg_drop want,
    struct vg_peer *known)
{
	struct vg_rx before = f->rx;
	struct vg_peer pb[VG_MAX_NODES];
	struct vg_rx_result res;
	size_t i;
	int d;

	memcpy(pb, f->peers, sizeof(pb));
	vg_rx_input(&f->rx, buf, len, truncated, src, srclen, &res);
	if (res.drop != want)
		fail_msg("drop reason %s, wanted %s", vg_drop_name(res.drop),
		    vg_drop_name(want));
	assert_int_equal(f->rx.accepted, before.accepted);
	for (d = 0; d < VG_DROP_MAX; d++)
		assert_int_equal(f->rx.drops[d], before.drops[d] + (d == (int)want));
	assert_ptr_equal(res.peer, known);
	for (i = 0; i < f->rx.n_peers; i++) {
		int mine = known == &f->peers[i];

		for (d = 0; d < VG_DROP_MAX; d++)
			assert_int_equal(f->peers[i].drops[d],
			    pb[i].drops[d] + (mine && d == (int)want));
		/* a dropped message never touches the replay window */
		assert_memory_equal(&f->peers[i].replay, &pb[i].replay,
		    sizeof(pb[i].replay));
	}
}

static void
expect_drop(struct fix *f, const uint8_t *buf, size_t len, uint16_t from,
    enum vg_drop want, struct vg_peer *known)
{
	struct sockaddr_storage ss;
	socklen_t sl = src_of(f, from, &ss);

	expect_drop_src(f, buf, len, 0, (struct sockaddr *)&ss, sl, want, known);
}

/* ---- proto */

static void
test_proto_len(void **state)
{
	(void)state;
	assert_int_equal(vg_proto_len(VG_MSG_HEARTBEAT), 58 + 4 + 16);
	assert_int_equal(vg_proto_len(VG_MSG_VOTE_REQUEST), 58 + 16);
	assert_int_equal(vg_proto_len(VG_MSG_VOTE), 58 + 2 + 16);
	assert_int_equal(vg_proto_len(VG_MSG_RELEASE), 58 + 16);
	assert_int_equal(vg_proto_len(VG_MSG_TRANSFER), 58 + 16);
	assert_int_equal(vg_proto_len(0), 0);
	assert_int_equal(vg_proto_len(VG_MSG_TYPE_MAX + 1), 0);
	assert_int_equal(vg_proto_len(255), 0);
	assert_int_equal(VG_MAX_PKT, vg_proto_len(VG_MSG_HEARTBEAT));
}

static void
assert_msg_equal(const struct vg_msg *a, const struct vg_msg *b)
{
	assert_int_equal(a->version, b->version);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->cluster_id, b->cluster_id);
	assert_int_equal(a->sender, b->sender);
	assert_int_equal(a->target, b->target);
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->priority, b->priority);
	assert_true(a->term == b->term);
	assert_true(a->incarnation == b->incarnation);
	assert_true(a->seq == b->seq);
	assert_true(a->echo_seq == b->echo_seq);
	assert_int_equal(a->active, b->active);
	assert_int_equal(a->config_digest, b->config_digest);
	if (a->type == VG_MSG_HEARTBEAT)
		assert_int_equal(a->u.hb.echo_delay_us, b->u.hb.echo_delay_us);
	else if (a->type == VG_MSG_VOTE)
		assert_int_equal(a->u.vote.reason, b->u.vote.reason);
}

static void
test_roundtrip_every_type(void **state)
{
	static const struct {
		uint8_t		type;
		uint16_t	flags;
	} types[] = {
		{ VG_MSG_HEARTBEAT, VG_FLAG_LAPSED },
		{ VG_MSG_VOTE_REQUEST, VG_FLAG_PRE },
		{ VG_MSG_VOTE, VG_FLAG_PRE | VG_FLAG_GRANTED },
		{ VG_MSG_RELEASE, 0 },
		{ VG_MSG_TRANSFER, 0 },
	};
	uint8_t buf[VG_MAX_PKT + 8], zero[VG_MAC_LEN];
	struct vg_msg m, d;
	size_t i, len;

	(void)state;
	memset(zero, 0, sizeof(zero));
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		memset(&m, 0, sizeof(m));
		m.version = VG_VERSION;
		m.type = types[i].type;
		m.flags = types[i].flags;
		m.cluster_id = 0xf1e2d3c4u;
		m.sender = 0xfffe;
		m.target = 0x8182;
		m.state = VG_ST_NO_QUORUM;
		m.priority = 255;
		m.term = 0x0102030405060708ULL;
		m.incarnation = 0xf112131415161718ULL;
		m.seq = 0x2122232425262728ULL;
		m.echo_seq = 0xffffffffffffffffULL;
		m.active = 0x4142;
		m.config_digest = 0x51525354u;
		if (m.type == VG_MSG_HEARTBEAT)
			m.u.hb.echo_delay_us = 0x91929394u;
		else if (m.type == VG_MSG_VOTE)
			m.u.vote.reason = 0xa1a2;
		memset(buf, 0xee, sizeof(buf));
		len = vg_proto_encode(&m, buf, sizeof(buf));
		assert_int_equal(len, vg_proto_len(m.type));
		/* the MAC is left zero for auth; nothing written past len */
		assert_memory_equal(buf + len - VG_MAC_LEN, zero, VG_MAC_LEN);
		assert_int_equal(buf[len], 0xee);
		memset(&d, 0x5a, sizeof(d));
		assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
		assert_msg_equal(&d, &m);
		if (m.type != VG_MSG_HEARTBEAT && m.type != VG_MSG_VOTE)
			assert_int_equal(d.u.hb.echo_delay_us, 0);
	}
}

static void
test_encode_refuses(void **state)
{
	uint8_t buf[VG_MAX_PKT];
	struct vg_msg m;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = VG_MSG_HEARTBEAT;
	assert_int_equal(vg_proto_encode(&m, buf, VG_MAX_PKT - 1), 0);
	assert_int_equal(vg_proto_encode(&m, buf, VG_MAX_PKT), VG_MAX_PKT);
	m.type = VG_MSG_VOTE_REQUEST;
	assert_int_equal(vg_proto_encode(&m, buf, 73), 0);
	assert_int_equal(vg_proto_encode(&m, buf, 74), 74);
	m.type = 0;
	assert_int_equal(vg_proto_encode(&m, buf, sizeof(buf)), 0);
	m.type = VG_MSG_TYPE_MAX + 1;
	assert_int_equal(vg_proto_encode(&m, buf, sizeof(buf)), 0);
}

static uint64_t
be64_at(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Offsets as drawn in proto.h, big-endian. */
static void
test_byte_offsets(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT], full[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	struct vg_msg m;
	size_t len;

	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 0x2122232425262728ULL);
	m.flags = VG_FLAG_LAPSED;
	m.cluster_id = 0x11223344u;
	m.sender = 0x0a0b;
	m.target = 0x0c0d;
	m.state = VG_ST_ACTIVE;
	m.priority = 0x9f;
	m.term = 0x0102030405060708ULL;
	m.incarnation = 0x1112131415161718ULL;
	m.echo_seq = 0x3132333435363738ULL;
	m.active = 0x4142;
	m.config_digest = 0x51525354u;
	m.u.hb.echo_delay_us = 0x61626364u;
	len = build(f, &m, buf, sizeof(buf));
	assert_int_equal(len, 58 + 4 + 16);

	assert_memory_equal(buf + 0, "VGL1", 4);
	assert_int_equal(buf[4], VG_VERSION);
	assert_int_equal(buf[5], VG_MSG_HEARTBEAT);
	assert_int_equal(buf[6], 0x00);
	assert_int_equal(buf[7], VG_FLAG_LAPSED);
	assert_memory_equal(buf + 8, "\x11\x22\x33\x44", 4);
	assert_memory_equal(buf + 12, "\x0a\x0b", 2);
	assert_memory_equal(buf + 14, "\x0c\x0d", 2);
	assert_int_equal(buf[16], VG_ST_ACTIVE);
	assert_int_equal(buf[17], 0x9f);
	assert_memory_equal(buf + 18, "\0\0", 2);
	assert_true(be64_at(buf + 20) == 0x0102030405060708ULL);
	assert_true(be64_at(buf + 28) == 0x1112131415161718ULL);
	assert_true(be64_at(buf + 36) == 0x2122232425262728ULL);
	assert_true(be64_at(buf + 44) == 0x3132333435363738ULL);
	assert_memory_equal(buf + 52, "\x41\x42", 2);
	assert_memory_equal(buf + 54, "\x51\x52\x53\x54", 4);
	assert_memory_equal(buf + 58, "\x61\x62\x63\x64", 4);

	/* mac: HMAC-SHA256 over everything before it, first 16 bytes */
	crypto_auth_hmacsha256_init(&st, f->auth.key, f->auth.keylen);
	crypto_auth_hmacsha256_update(&st, buf, len - VG_MAC_LEN);
	crypto_auth_hmacsha256_final(&st, full);
	assert_memory_equal(buf + len - 16, full, 16);
	assert_int_equal(vg_auth_verify(&f->auth, buf, len), 1);

	/* VOTE: reason u16 at 58, then the mac */
	m.type = VG_MSG_VOTE;
	m.flags = 0;
	m.u.vote.reason = 0x7172;
	len = build(f, &m, buf, sizeof(buf));
	assert_int_equal(len, 58 + 2 + 16);
	assert_int_equal(buf[5], VG_MSG_VOTE);
	assert_memory_equal(buf + 58, "\x71\x72", 2);
}

static void
test_decode_fills_only_on_success(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT];
	struct vg_msg m, d, ref;
	size_t len;

	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 5);
	m.state = 0;
	len = build(f, &m, buf, sizeof(buf));
	memset(&d, 0x5a, sizeof(d));
	memcpy(&ref, &d, sizeof(d));
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_MALFORMED);
	assert_memory_equal(&d, &ref, sizeof(d));
	assert_int_equal(vg_proto_decode(buf, 10, &d), VG_DROP_SHORT);
	assert_memory_equal(&d, &ref, sizeof(d));

	/* the reserved bytes are not checked (a later version may use them) */
	m.state = VG_ST_STANDBY;
	len = build(f, &m, buf, sizeof(buf));
	buf[18] = 0xff;
	buf[19] = 0x01;
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
}

static void
test_names(void **state)
{
	uint8_t s;
	int d, e;

	(void)state;
	for (d = 0; d < VG_DROP_MAX; d++) {
		assert_non_null(vg_drop_name((enum vg_drop)d));
		assert_string_not_equal(vg_drop_name((enum vg_drop)d), "invalid");
		for (e = 0; e < d; e++)
			assert_string_not_equal(vg_drop_name((enum vg_drop)d),
			    vg_drop_name((enum vg_drop)e));
	}
	assert_string_equal(vg_drop_name(VG_DROP_STALE), "stale_incarnation");
	assert_string_equal(vg_drop_name(VG_DROP_UNKNOWN_PEER), "unknown_peer");
	assert_string_equal(vg_drop_name(VG_DROP_MAX), "invalid");
	assert_string_equal(vg_msg_type_name(VG_MSG_VOTE_REQUEST), "vote_request");
	assert_string_equal(vg_msg_type_name(VG_MSG_TYPE_MAX + 1), "invalid");
	for (s = 1; s <= VG_ST_MAX; s++) {
		uint8_t back = 0;

		assert_int_equal(vg_state_parse(vg_state_name(s), &back), 0);
		assert_int_equal(back, s);
	}
	assert_string_equal(vg_state_name(VG_ST_NO_QUORUM), "no-quorum");
	assert_int_equal(vg_state_parse("unknown", &s), -1);
	assert_int_equal(vg_state_parse("bogus", &s), -1);
	assert_string_equal(vg_state_name(VG_ST_MAX + 1), "invalid");
}

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
	len = build(f, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, BETA, &res);
	assert_int_equal(f->rx.accepted, 1);
	assert_ptr_equal(res.peer, peer(f, BETA));
	assert_msg_equal(&res.msg, &m);
	assert_int_equal(res.gap, 0);
	assert_true(peer(f, BETA)->replay.incarnation == INC);
	assert_true(peer(f, BETA)->replay.high == 1);

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
	assert_int_equal(f->rx.accepted, 5);
	assert_int_equal(res.gap, 0);

	/* gaps are reported for vg_peer_heard */
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 5);
	len = build(f, &m, buf, sizeof(buf));
	expect_accept(f, buf, len, BETA, &res);
	assert_int_equal(res.gap, 3);
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
	expect_drop(f, buf, VG_HDR_LEN + VG_MAC_LEN - 1, BETA, VG_DROP_SHORT,
	    NULL);
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

	/* HEARTBEAT is 78: 77 and 79 are not */
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	len = build(f, &m, buf, sizeof(buf));
	buf[len] = 0;
	expect_drop(f, buf, len + 1, BETA, VG_DROP_LENGTH, NULL);
	expect_drop(f, buf, len - 1, BETA, VG_DROP_LENGTH, NULL);
	/* VOTE is 76 */
	m = msg_from(f, BETA, VG_MSG_VOTE, 1);
	len = build(f, &m, buf, sizeof(buf));
	assert_int_equal(len, 76);
	buf[len] = 0;
	expect_drop(f, buf, len + 1, BETA, VG_DROP_LENGTH, NULL);
	expect_drop(f, buf, len - 1, BETA, VG_DROP_LENGTH, NULL);
	/* the body-less ones are 74: one more is a length error, one less short */
	m = msg_from(f, BETA, VG_MSG_RELEASE, 1);
	len = build(f, &m, buf, sizeof(buf));
	buf[len] = 0;
	expect_drop(f, buf, len + 1, BETA, VG_DROP_LENGTH, NULL);
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
	m = msg_from(f, BETA, VG_MSG_RELEASE, 1);
	m.flags = VG_FLAG_PRE;
	malformed(f, &m);
	m = msg_from(f, BETA, VG_MSG_TRANSFER, 1);
	m.flags = VG_FLAG_LAPSED;
	malformed(f, &m);
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	m.flags = VG_FLAG_LAPSED | 0x0008;
	malformed(f, &m);
	m.flags = 0x8000;
	malformed(f, &m);
	/* sender 0, seq 0, incarnation 0 */
	m = msg_from(f, 0, VG_MSG_HEARTBEAT, 1);
	malformed(f, &m);
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 0);
	malformed(f, &m);
	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 1);
	m.incarnation = 0;
	malformed(f, &m);
	assert_int_equal(f->rx.drops[VG_DROP_MALFORMED], 14);
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
	/* beta's id from gamma's address (another family) */
	expect_drop(f, buf, len, GAMMA, VG_DROP_ADDRESS, peer(f, BETA));
	/* from a host next door */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(5405);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.3", &sin.sin_addr), 1);
	expect_drop_src(f, buf, len, 0, (struct sockaddr *)&sin, sizeof(sin),
	    VG_DROP_ADDRESS, peer(f, BETA));
	/* gamma from a neighbour of its IPv6 address */
	m = msg_from(f, GAMMA, VG_MSG_HEARTBEAT, 1);
	len = build(f, &m, buf, sizeof(buf));
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::4", &sin6.sin6_addr), 1);
	expect_drop_src(f, buf, len, 0, (struct sockaddr *)&sin6, sizeof(sin6),
	    VG_DROP_ADDRESS, peer(f, GAMMA));
	assert_int_equal(peer(f, BETA)->drops[VG_DROP_ADDRESS], 2);
	assert_int_equal(peer(f, GAMMA)->drops[VG_DROP_ADDRESS], 1);
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
			else if (i == 4)
				assert_int_equal(res.drop, VG_DROP_VERSION);
			else if (i >= 8 && i < 12)
				assert_int_equal(res.drop, VG_DROP_CLUSTER);
			else if (i >= 14 && i < 16)
				assert_int_equal(res.drop, VG_DROP_TARGET);
			else if (i >= 18)	/* reserved, term..body, mac */
				assert_int_equal(res.drop, VG_DROP_AUTH);
		}
	}
	assert_true(reasons[VG_DROP_AUTH] >= (len - 18) * 8);
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
	expect_drop(f, buf, len, GAMMA, VG_DROP_ADDRESS, peer(f, BETA));
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

/* ---- auth: the replay window itself */

static void
test_replay_update(void **state)
{
	struct vg_replay r;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(vg_replay_check(&r, 5, 10), VG_DROP_NONE);
	/* the first of an incarnation starts afresh, whatever its seq */
	assert_int_equal(vg_replay_update(&r, 5, 10), 0);
	assert_true(r.incarnation == 5 && r.high == 10 && r.bitmap == 1);
	assert_int_equal(vg_replay_check(&r, 5, 10), VG_DROP_REPLAY);
	assert_int_equal(vg_replay_check(&r, 4, 11), VG_DROP_STALE);
	/* the next one: no gap */
	assert_int_equal(vg_replay_update(&r, 5, 11), 0);
	assert_true(r.bitmap == 3);
	/* 12, 13, 14 skipped */
	assert_int_equal(vg_replay_check(&r, 5, 15), VG_DROP_NONE);
	assert_int_equal(vg_replay_update(&r, 5, 15), 3);
	assert_true(r.high == 15 && r.bitmap == ((3ULL << 4) | 1));
	/* a late one fills a hole */
	assert_int_equal(vg_replay_check(&r, 5, 13), VG_DROP_NONE);
	assert_int_equal(vg_replay_update(&r, 5, 13), -1);
	assert_int_equal(vg_replay_check(&r, 5, 13), VG_DROP_REPLAY);
	assert_int_equal(vg_replay_check(&r, 5, 12), VG_DROP_NONE);
	assert_int_equal(vg_replay_check(&r, 5, 14), VG_DROP_NONE);
	/* a new incarnation: 0, window reset */
	assert_int_equal(vg_replay_update(&r, 6, 1), 0);
	assert_true(r.incarnation == 6 && r.high == 1 && r.bitmap == 1);
	assert_int_equal(vg_replay_check(&r, 5, 100), VG_DROP_STALE);
	/* a jump of exactly the window */
	assert_int_equal(vg_replay_update(&r, 6, 1 + VG_REPLAY_WINDOW), 63);
	assert_true(r.bitmap == 1);
	assert_int_equal(vg_replay_check(&r, 6, 1), VG_DROP_REPLAY);
	assert_int_equal(vg_replay_check(&r, 6, 2), VG_DROP_NONE);
	/* a jump of 63 keeps the old high at the window's last bit */
	memset(&r, 0, sizeof(r));
	vg_replay_update(&r, 7, 1);
	assert_int_equal(vg_replay_update(&r, 7, 64), 62);
	assert_true(r.bitmap == ((1ULL << 63) | 1));
	assert_int_equal(vg_replay_check(&r, 7, 1), VG_DROP_REPLAY);
	/* an absurd jump is clamped */
	assert_int_equal(vg_replay_update(&r, 7, 64 + (1ULL << 40)), INT32_MAX);
	assert_true(r.bitmap == 1);
}

/* ---- auth: key files */

struct keydir {
	char	dir[64];
	char	path[128];
};

static int
keydir_setup(void **state)
{
	struct keydir *k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return -1;
	snprintf(k->dir, sizeof(k->dir), "/tmp/vg_test_proto.XXXXXX");
	if (mkdtemp(k->dir) == NULL) {
		free(k);
		return -1;
	}
	*state = k;
	return 0;
}

static const char *const key_files[] = { "key", "key.0644", "key.0640",
    "key.31", "key.1024", "key.1025", "link", "dir", NULL };

static int
keydir_teardown(void **state)
{
	struct keydir *k = *state;
	char p[192];
	int i;

	for (i = 0; key_files[i] != NULL; i++) {
		snprintf(p, sizeof(p), "%s/%s", k->dir, key_files[i]);
		if (unlink(p) == -1 && errno != ENOENT)
			rmdir(p);
	}
	rmdir(k->dir);
	free(k);
	return 0;
}

static const char *
write_key(struct keydir *k, const char *name, size_t len, mode_t mode)
{
	uint8_t data[2048];
	size_t i;
	int fd;

	assert_true(len <= sizeof(data));
	for (i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 13 + 1);
	snprintf(k->path, sizeof(k->path), "%s/%s", k->dir, name);
	fd = open(k->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return k->path;
}

static void
test_load_key_ok(void **state)
{
	struct keydir *k = *state;
	struct vg_auth a;
	char err[256];
	uint8_t want[32];
	size_t i;

	for (i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(i * 13 + 1);
	memset(&a, 0, sizeof(a));
	err[0] = '\0';
	assert_int_equal(vg_auth_load_key(&a, write_key(k, "key", 32, 0600), err,
	    sizeof(err)), 0);
	assert_int_equal(a.mode, VG_AUTH_HMAC);
	assert_int_equal(a.keylen, 32);
	assert_memory_equal(a.key, want, 32);
	/* 0400 is stricter still */
	assert_int_equal(chmod(k->path, 0400), 0);
	assert_int_equal(vg_auth_load_key(&a, k->path, err, sizeof(err)), 0);
	/* the largest key */
	assert_int_equal(vg_auth_load_key(&a, write_key(k, "key.1024", 1024,
	    0600), err, sizeof(err)), 0);
	assert_int_equal(a.keylen, 1024);
	vg_auth_wipe(&a);
	assert_int_equal(a.keylen, 0);
}

static void
test_load_key_mode_refused(void **state)
{
	struct keydir *k = *state;
	struct vg_auth a;
	char err[256];

	memset(&a, 0, sizeof(a));
	err[0] = '\0';
	assert_int_equal(vg_auth_load_key(&a, write_key(k, "key.0644", 32, 0644),
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "0644"));
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(a.keylen, 0);
	err[0] = '\0';
	assert_int_equal(vg_auth_load_key(&a, write_key(k, "key.0640", 32, 0640),
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "0640"));
	assert_int_equal(a.keylen, 0);
}

static void
test_load_key_size_refused(void **state)
{
	struct keydir *k = *state;
	struct vg_auth a;
	char err[256];

	memset(&a, 0, sizeof(a));
	err[0] = '\0';
	assert_int_equal(vg_auth_load_key(&a, write_key(k, "key.31", 31, 0600),
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "31 bytes"));
	assert_int_equal(a.keylen, 0);
	err[0] = '\0';
	assert_int_equal(vg_auth_load_key(&a, write_key(k, "key.1025", 1025,
	    0600), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "or more bytes"));
	assert_int_equal(a.keylen, 0);
}

static void
test_load_key_missing_refused(void **state)
{
	struct keydir *k = *state;
	struct vg_auth a;
	char err[256], p[192];

	memset(&a, 0, sizeof(a));
	snprintf(p, sizeof(p), "%s/no-such-key", k->dir);
	err[0] = '\0';
	assert_int_equal(vg_auth_load_key(&a, p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no-such-key"));
	assert_non_null(strstr(err, strerror(ENOENT)));
	/* a directory, a symlink to a good key */
	snprintf(p, sizeof(p), "%s/dir", k->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(vg_auth_load_key(&a, p, err, sizeof(err)), -1);
	write_key(k, "key", 32, 0600);
	snprintf(p, sizeof(p), "%s/link", k->dir);
	assert_int_equal(symlink(k->path, p), 0);
	assert_int_equal(vg_auth_load_key(&a, p, err, sizeof(err)), -1);
	assert_int_equal(a.keylen, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto_len),
		cmocka_unit_test(test_roundtrip_every_type),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test_setup_teardown(test_byte_offsets, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_decode_fills_only_on_success,
		    fix_setup, fix_teardown),
		cmocka_unit_test(test_names),
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
		cmocka_unit_test_setup_teardown(test_rx_drop_address, fix_setup,
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
		cmocka_unit_test(test_sockaddr_same_host),
		cmocka_unit_test(test_replay_update),
		cmocka_unit_test_setup_teardown(test_load_key_ok, keydir_setup,
		    keydir_teardown),
		cmocka_unit_test_setup_teardown(test_load_key_mode_refused,
		    keydir_setup, keydir_teardown),
		cmocka_unit_test_setup_teardown(test_load_key_size_refused,
		    keydir_setup, keydir_teardown),
		cmocka_unit_test_setup_teardown(test_load_key_missing_refused,
		    keydir_setup, keydir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
