/*
 * peer: liveness deadlines, loss and round-trip accounting; pure.
 */
#include <stdlib.h>
#include <string.h>

#include "peer.h"

/* Who it is, from the config. */
static void
identity(struct vg_peer *p, const struct vg_conf_node *n)
{
	p->id = n->id;
	memcpy(p->name, n->name, sizeof(p->name));
	memcpy(p->address, n->address, sizeof(p->address));
	p->sa = n->sa;
	p->salen = n->salen;
	p->votes = n->votes;
	p->role = n->role;
}

void
vg_peer_init(struct vg_peer *p, const struct vg_conf_node *n)
{
	memset(p, 0, sizeof(*p));
	identity(p, n);
	p->dead_at = VG_NS_NEVER;
}

uint64_t
vg_peer_next_seq(struct vg_peer *p, vg_ns now)
{
	uint64_t seq = ++p->tx_seq;

	p->ring[seq % VG_PEER_RING].seq = seq;
	p->ring[seq % VG_PEER_RING].sent = now;
	return seq;
}

uint64_t
vg_peer_echo_seq(const struct vg_peer *p)
{
	return p->alive ? p->rx_high : 0;
}

uint32_t
vg_peer_echo_delay_us(const struct vg_peer *p, vg_ns now)
{
	vg_ns held;

	if (!p->alive || p->rx_high == 0)
		return 0;
	held = (now - p->rx_high_at) / VG_NS_PER_US;
	if (held < 0)
		return 0;
	return held > UINT32_MAX ? UINT32_MAX : (uint32_t)held;
}

static void
rtt_sample(struct vg_peer *p, const struct vg_msg *m, vg_ns now,
    vg_ns dead_time)
{
	uint64_t e = m->echo_seq;
	vg_ns sample;

	if (m->type != VG_MSG_HEARTBEAT || e == 0 ||
	    m->u.hb.echo_delay_us == VG_ECHO_DELAY_UNKNOWN ||
	    p->ring[e % VG_PEER_RING].seq != e)
		return;
	sample = now - p->ring[e % VG_PEER_RING].sent -
	    (vg_ns)m->u.hb.echo_delay_us * VG_NS_PER_US;
	if (sample < 0)		/* its delay rounds up: never below zero */
		sample = 0;
	p->rtt_last = sample;
	if (sample > p->rtt_max)
		p->rtt_max = sample;
	/* an echo held up for half of dead_time (a neighbour resolution after
	 * a link flap, a stalled peer) says nothing of the path's round trip:
	 * shown as the worst, kept out of the estimate */
	if (sample > dead_time / 2)
		return;
	if (!p->rtt_valid) {
		p->srtt = sample;
		p->rttvar = sample / 2;
		p->rtt_valid = 1;
	} else {
		vg_ns dev = sample > p->srtt ? sample - p->srtt : p->srtt - sample;

		/* RFC 6298: beta 1/4 (computed before srtt moves), alpha 1/8 */
		p->rttvar += (dev - p->rttvar) / 4;
		p->srtt += (sample - p->srtt) / 8;
	}
}

enum vg_peer_event
vg_peer_heard(struct vg_peer *p, const struct vg_msg *m, int64_t gap,
    vg_ns now, vg_ns dead_time)
{
	enum vg_peer_event ev = VG_PEER_EV_NONE;
	int restarted = p->ever_seen && m->incarnation > p->last.incarnation;

	if (!p->alive) {
		ev = VG_PEER_EV_UP;
		p->alive = 1;
		p->up_since = now;
		p->ups++;
		p->rtt_valid = 0;
		p->rtt_max = 0;		/* the worst since it came up */
	} else if (restarted) {
		ev = VG_PEER_EV_RESTART;
		p->restarts++;
	}
	if (restarted || !p->ever_seen)
		p->rx_high = 0;
	p->ever_seen = 1;
	p->rx++;
	if (gap > 0 && m->seq < VG_SEQ_KEEPER_BASE)
		p->lost += (uint64_t)gap;
	else if (gap < 0 && p->lost > 0)
		p->lost--;		/* a late one: reordered, not lost */
	if (m->seq > p->rx_high) {
		p->rx_high = m->seq;
		p->rx_high_at = now;
	}
	/* A late (reordered) message is counted but does not roll state back. */
	if (m->incarnation > p->last.incarnation || m->seq >= p->last.seq)
		p->last = *m;
	p->last_seen = now;
	p->dead_at = now + dead_time;
	rtt_sample(p, m, now, dead_time);
	return ev;
}

enum vg_peer_event
vg_peer_tick(struct vg_peer *p, vg_ns now)
{
	if (!p->alive || now < p->dead_at)
		return VG_PEER_EV_NONE;
	p->alive = 0;
	p->downs++;
	p->dead_at = VG_NS_NEVER;
	return VG_PEER_EV_DOWN;
}

vg_ns
vg_peer_sent_at(const struct vg_peer *p, uint64_t seq)
{
	if (seq == 0 || p->ring[seq % VG_PEER_RING].seq != seq)
		return VG_NS_NEVER;
	return p->ring[seq % VG_PEER_RING].sent;
}

vg_ns
vg_peer_deadline(const struct vg_peer *p)
{
	return p->alive ? p->dead_at : VG_NS_NEVER;
}

const char *
vg_peer_event_name(enum vg_peer_event ev)
{
	switch (ev) {
	case VG_PEER_EV_UP:		return "up";
	case VG_PEER_EV_DOWN:		return "down";
	case VG_PEER_EV_RESTART:	return "restart";
	default:			return "none";
	}
}

vg_ns
vg_peer_rtt_bound(const struct vg_peer *p)
{
	return p->rtt_valid ? p->srtt + 4 * p->rttvar : 0;
}

int
vg_peer_alive(const struct vg_peer *p, vg_ns now)
{
	return p->alive && now < p->dead_at;
}

/* ---- the peer table */

int
vg_peers_reconf(struct vg_peers *next, const struct vg_peers *cur,
    const struct vg_conf *c)
{
	const struct vg_conf_node *n;
	struct vg_peer *p;
	size_t i, j;

	next->n = 0;
	if ((next->p = calloc(c->n_nodes, sizeof(*next->p))) == NULL)
		return -1;
	for (i = 0; i < c->n_nodes; i++) {
		if ((int)i == c->self)
			continue;
		n = &c->nodes[i];
		p = &next->p[next->n++];
		for (j = 0; j < cur->n && cur->p[j].id != n->id; j++)
			;
		if (j == cur->n) {
			vg_peer_init(p, n);
			continue;
		}
		*p = cur->p[j];		/* what was heard of it stays */
		identity(p, n);
	}
	return 0;
}

void
vg_peers_free(struct vg_peers *t)
{
	free(t->p);
	t->p = NULL;
	t->n = 0;
}
