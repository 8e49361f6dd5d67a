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
	/* a peer whose messages wait for its proof of freshness still gets
	 * its newest echoed, or two nodes started together would each wait
	 * for the other's echo for good */
	return p->alive ? p->rx_high : p->unfresh_seq;
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

/* Moves the window of rtt_max on to `now`: slots that ended are emptied. */
static void
rtt_window(struct vg_peer *p, vg_ns now)
{
	size_t i, k;

	if (p->rtt_slot_len <= 0)
		return;
	for (k = 0; k < VG_RTT_SLOTS && now - p->rtt_slot_at >= p->rtt_slot_len;
	    k++) {
		p->rtt_slot_cur = (p->rtt_slot_cur + 1) % VG_RTT_SLOTS;
		p->rtt_slot[p->rtt_slot_cur] = 0;
		p->rtt_slot_at += p->rtt_slot_len;
	}
	if (now - p->rtt_slot_at >= p->rtt_slot_len)
		p->rtt_slot_at = now;	/* silent for the whole window */
	p->rtt_max = 0;
	for (i = 0; i < VG_RTT_SLOTS; i++)
		if (p->rtt_slot[i] > p->rtt_max)
			p->rtt_max = p->rtt_slot[i];
}

/* A fresh estimate (it came up): nothing measured, the window empty. */
static void
rtt_reset(struct vg_peer *p, vg_ns now, vg_ns dead_time)
{
	vg_ns win = 4 * dead_time > VG_RTT_WINDOW ? 4 * dead_time :
	    VG_RTT_WINDOW;

	p->rtt_valid = 0;
	p->rtt_max = 0;
	memset(p->rtt_slot, 0, sizeof(p->rtt_slot));
	p->rtt_slot_cur = 0;
	p->rtt_slot_len = win / (VG_RTT_SLOTS - 1);
	p->rtt_slot_at = now;
}

/*
 * After it came up, or after a silence of half of dead_time, what we sent
 * may have waited behind neighbour resolution (400-1770 ms was seen after
 * a link flap): no sample until an echo of something sent since has come
 * back, and then only of what was sent after that echo arrived.
 */
static void
rtt_resume(struct vg_peer *p, vg_ns now)
{
	p->rtt_resume = now;
	p->rtt_from = VG_NS_NEVER;
}

static void
rtt_sample(struct vg_peer *p, const struct vg_msg *m, vg_ns now)
{
	uint64_t e = m->echo_seq;
	vg_ns sample, sent;

	if (m->type != VG_MSG_HEARTBEAT || e == 0 ||
	    m->u.hb.echo_delay_us == VG_ECHO_DELAY_UNKNOWN ||
	    p->ring[e % VG_PEER_RING].seq != e)
		return;
	sent = p->ring[e % VG_PEER_RING].sent;
	if (sent < p->rtt_resume) {
		p->rtt_skipped++;	/* sent while it was silent */
		return;
	}
	if (p->rtt_from == VG_NS_NEVER) {
		p->rtt_from = now;	/* the way is open from here on */
		p->rtt_skipped++;
		return;
	}
	if (sent < p->rtt_from) {
		p->rtt_skipped++;
		return;
	}
	sample = now - sent - (vg_ns)m->u.hb.echo_delay_us * VG_NS_PER_US;
	if (sample < 0)		/* its delay rounds up: never below zero */
		sample = 0;
	p->rtt_last = sample;
	rtt_window(p, now);
	if (sample > p->rtt_slot[p->rtt_slot_cur])
		p->rtt_slot[p->rtt_slot_cur] = sample;
	if (sample > p->rtt_max)
		p->rtt_max = sample;
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
    vg_ns now, vg_ns came, vg_ns dead_time)
{
	enum vg_peer_event ev = VG_PEER_EV_NONE;
	int restarted = p->ever_seen && m->incarnation > p->last.incarnation;

	if (!p->alive) {
		ev = VG_PEER_EV_UP;
		p->alive = 1;
		p->up_since = now;
		p->ups++;
		rtt_reset(p, now, dead_time);
		rtt_resume(p, now);
	} else if (restarted) {
		ev = VG_PEER_EV_RESTART;
		p->restarts++;
	}
	if (ev != VG_PEER_EV_UP && now - p->last_seen >= dead_time / 2)
		rtt_resume(p, now);	/* a long silence, but alive */
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
		p->rx_high_at = came;
	}
	/* A late (reordered) message is counted but does not roll state back. */
	if (m->incarnation > p->last.incarnation || m->seq >= p->last.seq) {
		p->last = *m;
		p->last.body = NULL;	/* in the receive buffer, reused */
	}
	/* a datagram from the second socket is dated when it came: never
	 * before one of this peer's that was read already */
	if (now > p->last_seen || ev == VG_PEER_EV_UP) {
		p->last_seen = now;
		p->dead_at = now + dead_time;
	}
	rtt_sample(p, m, came);
	return ev;
}

enum vg_peer_event
vg_peer_tick(struct vg_peer *p, vg_ns now)
{
	rtt_window(p, now);	/* the worst of a window: it ages */
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
	if (!p->rtt_valid)
		return 0;
	/* a window without a sample: the typical one, until one comes */
	return p->rtt_max > p->srtt ? p->rtt_max : p->srtt;
}

int
vg_peer_alive(const struct vg_peer *p, vg_ns now)
{
	return p->alive && now < p->dead_at;
}

/* ---- the peer table */

/* The base for a node new to the table: above every seq sent to the
 * peers there, by as much as a restart 1 ms later would start above
 * (seqs to one peer and another grow alike: a node removed earlier was
 * sent no more than those still there). */
static uint64_t
gate_of(const struct vg_peers *cur)
{
	uint64_t b = cur->seq_base;
	size_t j;

	for (j = 0; j < cur->n; j++)
		if (cur->p[j].tx_seq > b)
			b = cur->p[j].tx_seq;
	return b + (UINT64_C(1) << VG_SEQ_BASE_SHIFT);
}

/* Node n's entry of a new table: what cur heard of it stays (a node new to
 * the table starts unheard), its configured identity is n's. */
static void
take(struct vg_peer *p, const struct vg_peers *cur,
    const struct vg_conf_node *n)
{
	size_t j;

	for (j = 0; j < cur->n && cur->p[j].id != n->id; j++)
		;
	if (j == cur->n) {
		vg_peer_init(p, n);
		/* after our start as at it: only what it sends once it has
		 * heard us counts (a recording of its earlier traffic, or of
		 * before it was a member, would otherwise pass: its window
		 * starts empty); our seqs to it start above every seq this
		 * run has sent (to it too, if it was a member before) */
		if (cur->seq_base != 0)
			p->seq_base = p->tx_seq = gate_of(cur);
		return;
	}
	*p = cur->p[j];
	identity(p, n);
}

int
vg_peers_reconf(struct vg_peers *next, const struct vg_peers *cur,
    const struct vg_conf *c)
{
	size_t i;

	next->n = 0;
	next->seq_base = cur->seq_base;
	if ((next->p = calloc(c->n_nodes, sizeof(*next->p))) == NULL)
		return -1;
	for (i = 0; i < c->n_nodes; i++) {
		if ((int)i == c->self)
			continue;
		take(&next->p[next->n++], cur, &c->nodes[i]);
	}
	return 0;
}

int
vg_peers_join(struct vg_peers *next, const struct vg_peers *cur,
    const struct vg_conf *c, const struct vg_conf *c2, uint16_t self_id)
{
	const struct vg_conf_node *n;
	struct vg_peer *p;
	size_t i;

	if (vg_peers_reconf(next, cur, c) == -1)
		return -1;
	if ((p = realloc(next->p, (c->n_nodes + c2->n_nodes) *
	    sizeof(*p))) == NULL) {
		vg_peers_free(next);
		return -1;
	}
	next->p = p;
	for (i = 0; i < c2->n_nodes; i++) {
		n = &c2->nodes[i];
		if (n->id == self_id || vg_conf_node_by_id(c, n->id) != NULL)
			continue;
		take(&next->p[next->n++], cur, n);
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

void
vg_peers_fresh_start(struct vg_peers *ps, uint64_t incarnation)
{
	uint64_t base = incarnation << VG_SEQ_BASE_SHIFT;
	size_t i;

	/* below the keeper's seqs (proto.h), whatever the incarnation */
	if (incarnation >= VG_SEQ_KEEPER_BASE >> VG_SEQ_BASE_SHIFT)
		base = VG_SEQ_KEEPER_BASE >> 1;
	ps->seq_base = base;
	for (i = 0; i < ps->n; i++) {
		ps->p[i].seq_base = base;
		if (ps->p[i].tx_seq < base)
			ps->p[i].tx_seq = base;
		ps->p[i].fresh = 0;
	}
}

int
vg_peer_fresh_already(const struct vg_peer *p)
{
	return p->seq_base == 0 || p->fresh;
}

int
vg_peer_fresh(struct vg_peer *p, const struct vg_msg *m)
{
	if (vg_peer_fresh_already(p))
		return 1;
	if (m->echo_seq > p->seq_base && m->echo_seq <= p->tx_seq)
		p->fresh = 1;
	else if (m->seq > p->unfresh_seq && m->seq < VG_SEQ_KEEPER_BASE)
		p->unfresh_seq = m->seq;	/* a keeper's: never echoed */
	return p->fresh;
}
