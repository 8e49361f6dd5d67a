/*
 * fuzz_proto: the receive pipeline (rx.c over proto.c and auth.c) on
 * arbitrary datagrams.  Input byte 0 picks the source address (a peer's,
 * or a stranger's) and whether the rest is signed with the cluster key
 * first, so that the checks behind the HMAC (replay, peer state) are
 * reached too.  Datagrams up to the largest type's (a CONF_CHUNK, 1122
 * bytes), the push's bodies range-checked by proto.c; wire versions 1 to 3
 * (the seeds have version 3 heartbeats of 1, 4 and 16 groups, and each
 * group type with its group byte).  Every decoded message must re-encode
 * to the same bytes, and its group views (vg_msg_group_view) must be the
 * groups it carries: a heartbeat's 0..n_groups-1, another type's group.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "conf.h"
#include "peer.h"
#include "proto.h"
#include "rx.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* m's view of each group is there exactly for the groups m carries, and
 * says what decode put there. */
static void
check_views(const struct vg_msg *m)
{
	struct vg_msg v;
	size_t g;
	int has;

	for (g = 0; g < VG_MAX_GROUPS + 1; g++) {
		has = m->type == VG_MSG_HEARTBEAT ? g < m->n_groups :
		    g == m->group;
		if (vg_msg_group_view(m, g, &v) != (has ? 0 : -1))
			abort();
		if (!has)
			continue;
		if (v.group != g || v.seq != m->seq || v.sender != m->sender)
			abort();
		if (m->type != VG_MSG_HEARTBEAT || g == 0) {
			if (v.state != m->state || v.term != m->term ||
			    v.flags != m->flags || v.active != m->active ||
			    v.echo_seq != m->echo_seq)
				abort();
		} else if (v.state != m->grp[g - 1].state ||
		    v.priority != m->grp[g - 1].priority ||
		    v.term != m->grp[g - 1].term ||
		    v.active != m->grp[g - 1].active ||
		    v.echo_seq != m->grp[g - 1].echo_seq ||
		    (v.flags & (VG_FLAG_LAPSED | VG_FLAG_HOLDING)) !=
		    m->grp[g - 1].flags)
			abort();
	}
}

static const char conf_text[] =
    "cluster = \"fuzz\"; cluster_id = 7; auth_key_file = \"/k\";\n"
    "nodes = ( { id = 1; name = \"a\"; address = \"198.18.0.1\"; },\n"
    "  { id = 2; name = \"b\"; address = \"198.18.0.2\"; },\n"
    "  { id = 3; name = \"c\"; address = \"198.18.0.3\"; } );\n";

static struct vg_conf	*conf;
static struct vg_auth	auth;
static struct vg_peer	peers[2];
static struct vg_peers	table = { peers, 2, 0 };
static struct vg_rx	rx;

static void
setup(void)
{
	static const uint8_t key[32] = "fuzz-key-fuzz-key-fuzz-key-fuzz";
	struct vg_errs errs;

	vg_errs_init(&errs);
	if ((conf = vg_conf_parse(conf_text, "fuzz.conf", "a", &errs)) == NULL)
		abort();
	/* c at an IPv6 address: a configuration refuses two families (one
	 * socket sends to every peer); rx judges each source by its own */
	{
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&conf->nodes[2].sa;
		uint16_t port = ((struct sockaddr_in *)&conf->nodes[2].sa)->sin_port;

		memset(&conf->nodes[2].sa, 0, sizeof(conf->nodes[2].sa));
		s6->sin6_family = AF_INET6;
		s6->sin6_port = port;
		if (inet_pton(AF_INET6, "2001:db8::3", &s6->sin6_addr) != 1)
			abort();
		conf->nodes[2].salen = sizeof(*s6);
	}
	vg_auth_set_key(&auth, key, sizeof(key));
	vg_peer_init(&peers[0], &conf->nodes[1]);
	vg_peer_init(&peers[1], &conf->nodes[2]);
	rx.cluster_id = conf->cluster_id;
	rx.self_id = 1;
	rx.auth = &auth;
	rx.peers = &table;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pkt[VG_MAX_DGRAM + 16], again[VG_MAX_DGRAM + 16];
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct vg_rx_result res;
	struct vg_msg m;
	size_t len;
	static vg_ns now;

	if (conf == NULL)
		setup();
	if (size < 1 || size - 1 > sizeof(pkt))
		return 0;
	len = size - 1;
	memcpy(pkt, data + 1, len);
	memset(&ss, 0, sizeof(ss));
	switch (data[0] & 3) {
	case 0:
		ss = peers[0].sa;
		break;
	case 1:
		ss = peers[1].sa;
		break;
	default:
		sin->sin_family = AF_INET;
		inet_pton(AF_INET, "198.18.0.99", &sin->sin_addr);
	}
	if ((data[0] & 4) && len >= VG_MAC_LEN)
		vg_auth_sign(&auth, pkt, len);

	if (vg_proto_decode(pkt, len, &m) == VG_DROP_NONE) {
		size_t n = vg_proto_encode(&m, again, sizeof(again));

		/* bytes 18..19 are reserved (ignored); the MAC is not encoded */
		if (n != len || memcmp(again, pkt, 18) != 0 ||
		    memcmp(again + 20, pkt + 20, len - 20 - VG_MAC_LEN) != 0)
			abort();
		if (m.version < 3 && (m.n_groups != 1 || m.group != 0))
			abort();
		check_views(&m);
	}
	vg_rx_input(&rx, pkt, len, data[0] & 8, (struct sockaddr *)&ss,
	    sizeof(ss), &res);
	now += VG_MS(1);
	if (res.drop == VG_DROP_NONE) {
		if (res.peer == NULL)
			abort();
		(void)vg_peer_heard(res.peer, &res.msg, res.gap, now, now, VG_MS(500));
	}
	vg_peer_tick(&peers[0], now);
	return 0;
}
