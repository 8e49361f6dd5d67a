/*
 * rx: the ordered acceptance checks of every incoming datagram.
 */
#include <netinet/in.h>
#include <string.h>

#include "rx.h"

struct vg_peer *
vg_rx_peer_by_id(struct vg_rx *rx, uint16_t id)
{
	size_t i;

	for (i = 0; i < rx->peers->n; i++)
		if (rx->peers->p[i].id == id)
			return &rx->peers->p[i];
	return NULL;
}

int
vg_sockaddr_same_host(const struct sockaddr *a, socklen_t alen,
    const struct sockaddr *b, socklen_t blen)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)b;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)b;

	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET && alen >= sizeof(*a4) &&
	    blen >= sizeof(*b4))
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->sa_family == AF_INET6 && alen >= sizeof(*a6) &&
	    blen >= sizeof(*b6))
		return memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0;
	return 0;
}

static void
drop(struct vg_rx *rx, struct vg_rx_result *res, enum vg_drop why)
{
	res->drop = why;
	rx->drops[why]++;
	if (res->peer != NULL)
		res->peer->drops[why]++;
}

/* The real source of a dropped datagram, in the table: its entry, or the
 * least recently used one taken over. */
static void
by_source(struct vg_rx *rx, const struct sockaddr *src, socklen_t srclen,
    enum vg_drop why)
{
	struct vg_rx_source *s, *lru = &rx->src[0];
	size_t i;

	if (srclen > sizeof(lru->addr))
		return;
	for (i = 0; i < VG_RX_SOURCES; i++) {
		s = &rx->src[i];
		if (s->addrlen != 0 && vg_sockaddr_same_host(src, srclen,
		    (const struct sockaddr *)&s->addr, s->addrlen))
			break;
		if (s->stamp < lru->stamp)
			lru = s;
	}
	if (i == VG_RX_SOURCES) {
		s = lru;
		memset(s, 0, sizeof(*s));
		memcpy(&s->addr, src, srclen);
		s->addrlen = srclen;
	}
	s->drops++;
	s->last = why;
	s->stamp = ++rx->src_stamp;
}

void
vg_rx_input(struct vg_rx *rx, const uint8_t *buf, size_t len, int truncated,
    const struct sockaddr *src, socklen_t srclen, struct vg_rx_result *res)
{
	struct vg_msg *m = &res->msg;
	enum vg_drop d;
	int was_fresh;

	memset(res, 0, sizeof(*res));
	res->key = -1;
	if (truncated) {
		drop(rx, res, VG_DROP_TRUNCATED);
		by_source(rx, src, srclen, VG_DROP_TRUNCATED);
		return;
	}
	if ((d = vg_proto_decode(buf, len, m)) != VG_DROP_NONE) {
		drop(rx, res, d);
		by_source(rx, src, srclen, d);
		return;
	}
	if (m->cluster_id != rx->cluster_id) {
		drop(rx, res, VG_DROP_CLUSTER);
		by_source(rx, src, srclen, VG_DROP_CLUSTER);
		return;
	}
	if (m->target != rx->self_id) {
		drop(rx, res, VG_DROP_TARGET);
		by_source(rx, src, srclen, VG_DROP_TARGET);
		return;
	}
	if (m->sender == rx->self_id) {
		drop(rx, res, VG_DROP_SELF);
		by_source(rx, src, srclen, VG_DROP_SELF);
		return;
	}
	if ((res->peer = vg_rx_peer_by_id(rx, m->sender)) == NULL) {
		drop(rx, res, VG_DROP_UNKNOWN_PEER);
		by_source(rx, src, srclen, VG_DROP_UNKNOWN_PEER);
		return;
	}
	if (!vg_sockaddr_same_host(src, srclen,
	    (const struct sockaddr *)&res->peer->sa, res->peer->salen)) {
		/* a stranger's, whichever peer it names */
		res->peer = NULL;
		drop(rx, res, VG_DROP_ADDRESS);
		by_source(rx, src, srclen, VG_DROP_ADDRESS);
		return;
	}
	if ((res->key = vg_auth_verify_slot(rx->auth, buf, len)) < 0) {
		drop(rx, res, VG_DROP_AUTH);
		by_source(rx, src, srclen, VG_DROP_AUTH);
		return;
	}
	if ((d = vg_replay_check(&res->peer->replay, m->incarnation, m->seq)) !=
	    VG_DROP_NONE) {
		drop(rx, res, d);
		rx->key_drops[res->key]++;
		return;
	}
	/* after our restart: only once it has heard us (a replay of what it
	 * sent before would otherwise pass: our windows started empty) */
	was_fresh = vg_peer_fresh_already(res->peer);
	/* authentic, if not fresh yet: the version it speaks.  An older
	 * release drops what it cannot read, so it never echoes our new
	 * incarnation until it is sent its own version (a rolling upgrade
	 * left the restarted node and the old ones deaf to each other) */
	if (!was_fresh)
		res->peer->spoke = m->version;
	if (!vg_peer_fresh(res->peer, m)) {
		drop(rx, res, VG_DROP_UNFRESH);
		rx->key_drops[res->key]++;
		return;
	}
	res->gap = vg_replay_update(&res->peer->replay, m->incarnation, m->seq);
	/* the first fresh one: what the window holds below it is from
	 * before (dropped as unfresh, or a recording of it), never new */
	if (!was_fresh)
		vg_replay_close_below(&res->peer->replay);
	rx->accepted++;
	rx->key_accepted[res->key]++;
}
