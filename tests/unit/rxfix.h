/*
 * rxfix: what the proto and rx tests share: a three-node config (this
 * node alpha, an IPv4 peer beta, an IPv6 peer gamma) with its peer table,
 * key and rx state; messages built and signed as a peer would; and the
 * accept and drop checks, which also check that nothing else moved.
 */
#ifndef VG_RXFIX_H
#define VG_RXFIX_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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
	"\t{ id = 3; name = \"gamma\"; address = \"192.0.2.3\"; }\n"
	");\n";

struct fix {
	struct vg_conf	*conf;
	struct vg_peer	 peers[VG_MAX_NODES];
	struct vg_peers	 table;		/* over peers[] */
	struct vg_auth	 auth;
	struct vg_rx	 rx;
};

static inline void
test_key(uint8_t key[32], uint8_t salt)
{
	int i;

	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)(i * 7 + salt);
}

static inline int
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
	/* gamma at an IPv6 address: a configuration refuses two families
	 * (one socket sends to every peer), but rx judges each source by
	 * its own family, which these tests cover */
	{
		struct vg_conf_node *g = &f->conf->nodes[2];
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&g->sa;
		uint16_t port = ((struct sockaddr_in *)&g->sa)->sin_port;

		memset(&g->sa, 0, sizeof(g->sa));
		s6->sin6_family = AF_INET6;
		s6->sin6_port = port;
		if (inet_pton(AF_INET6, "2001:db8::3", &s6->sin6_addr) != 1) {
			vg_conf_free(f->conf);
			free(f);
			return -1;
		}
		g->salen = sizeof(*s6);
		snprintf(g->address, sizeof(g->address), "2001:db8::3");
	}
	for (i = 0; i < f->conf->n_nodes; i++)
		if ((int)i != f->conf->self)
			vg_peer_init(&f->peers[f->table.n++], &f->conf->nodes[i]);
	test_key(key, 1);
	vg_auth_set_key(&f->auth, key, sizeof(key));
	f->rx.cluster_id = f->conf->cluster_id;
	f->rx.self_id = f->conf->nodes[f->conf->self].id;
	f->rx.auth = &f->auth;
	f->table.p = f->peers;
	f->rx.peers = &f->table;
	*state = f;
	return 0;
}

static inline int
fix_teardown(void **state)
{
	struct fix *f = *state;

	vg_conf_free(f->conf);
	free(f);
	return 0;
}

/* A valid message from `sender` to this node. */
static inline struct vg_msg
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
	m.config_digest = f->conf->safety_digest;
	m.digest_parts = vg_conf_parts_hint(f->conf);
	return m;
}

/* Encodes and signs with `a`. */
static inline size_t
build_with(const struct vg_auth *a, const struct vg_msg *m, uint8_t *buf,
    size_t buflen)
{
	size_t len = vg_proto_encode(m, buf, buflen);

	assert_int_not_equal(len, 0);
	vg_auth_sign(a, buf, len);
	return len;
}

static inline size_t
build(const struct fix *f, const struct vg_msg *m, uint8_t *buf, size_t buflen)
{
	return build_with(&f->auth, m, buf, buflen);
}

/* The configured address of node `id`, from an ephemeral port. */
static inline socklen_t
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

static inline struct vg_peer *
peer(struct fix *f, uint16_t id)
{
	struct vg_peer *p = vg_rx_peer_by_id(&f->rx, id);

	assert_non_null(p);
	return p;
}

static inline void
input(struct fix *f, const uint8_t *buf, size_t len, uint16_t from,
    struct vg_rx_result *res)
{
	struct sockaddr_storage ss;
	socklen_t sl = src_of(f, from, &ss);

	vg_rx_input(&f->rx, buf, len, 0, (struct sockaddr *)&ss, sl, res);
}

/* Accepted: counted as such, no drop counter moves anywhere. */
static inline void
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
	for (i = 0; i < f->table.n; i++)
		assert_memory_equal(f->peers[i].drops, pb[i].drops,
		    sizeof(pb[i].drops));
	assert_non_null(res->peer);
}

static inline void
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
static inline void
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
	for (i = 0; i < f->table.n; i++) {
		int mine = known == &f->peers[i];

		for (d = 0; d < VG_DROP_MAX; d++)
			assert_int_equal(f->peers[i].drops[d],
			    pb[i].drops[d] + (mine && d == (int)want));
		/* a dropped message never touches the replay window */
		assert_memory_equal(&f->peers[i].replay, &pb[i].replay,
		    sizeof(pb[i].replay));
	}
}

static inline void
expect_drop(struct fix *f, const uint8_t *buf, size_t len, uint16_t from,
    enum vg_drop want, struct vg_peer *known)
{
	struct sockaddr_storage ss;
	socklen_t sl = src_of(f, from, &ss);

	expect_drop_src(f, buf, len, 0, (struct sockaddr *)&ss, sl, want, known);
}


/* Every field the receiver uses is the same. */
static inline void
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
	assert_int_equal(a->digest_parts, b->digest_parts);
	assert_int_equal(a->epoch, b->epoch);
	assert_int_equal(a->conf_digest, b->conf_digest);
	if (a->type == VG_MSG_HEARTBEAT)
		assert_int_equal(a->u.hb.echo_delay_us, b->u.hb.echo_delay_us);
	else if (a->type == VG_MSG_VOTE)
		assert_int_equal(a->u.vote.reason, b->u.vote.reason);
}

#endif
