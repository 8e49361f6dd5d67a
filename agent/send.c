/*
 * send: the agent's datagrams out.  Each message is filled from the
 * agent's state (sender, state, priority, incarnation, active, the safety
 * digest and its hint, the epoch and the cluster-wide digest), given its seq, encoded, signed and queued; a batch
 * of actions or a heartbeat round leaves in one sendmmsg (vg_send_flush),
 * whose failures are counted per peer.  And the socket's send buffer,
 * sized for every peer's unresolved queue.
 */
#include <string.h>

#include "agent.h"
#include "net.h"
#include "send.h"

void
vg_send_flush(struct vg_agent *a)
{
	unsigned i;

	if (a->tx->n == 0)
		return;
	/* before the datagrams leave: a restart counts from here (lastsend.h) */
	vg_lastsend_mark(&a->lastsend);
	if (vg_net_tx_flush(a->sock, a->tx) == 0)
		return;
	/* ENOBUFS, EHOSTUNREACH...: transient, counted not logged */
	for (i = 0; i < a->tx->last; i++)
		if (a->tx->err[i] != 0) {
			a->stats.tx_errors++;
			if (a->tx->tag[i] < a->peers.n)
				a->peers.p[a->tx->tag[i]].tx_errors++;
		}
}

/*
 * Queued, not sent: the sends of one batch of actions, or of a heartbeat
 * round, leave in one sendmmsg, in order, when run_acts or the round ends
 * (vg_send_flush).  Nothing that must be durable first (the vote) is queued
 * before it is: run_acts persists before it reaches a send.
 */
static void
send_msg(struct vg_agent *a, struct vg_peer *p, struct vg_msg *m, vg_ns now)
{
	const struct vg_election *el = &a->el[m->group];
	uint8_t *buf;
	size_t len;

	/* the epoch and settings shown per peer; a peer is sent the version
	 * it spoke last (1 or 2: an older release, which reads only that;
	 * proto.h); before one of its datagrams was fresh here, the version
	 * of its authentic ones, if any; else VG_VERSION */
	m->version = p->ever_seen ? p->last.version :
	    p->spoke != 0 ? p->spoke : VG_VERSION;
	if (m->version == 1 && VG_MSG_IS_PUSH(m->type))
		m->version = VG_VERSION;
	/* a peer of an older version takes part in the first group only */
	if (m->version < VG_VERSION_GROUPS) {
		if (m->group != 0)
			return;
		if (m->n_groups > 1)
			m->n_groups = 1;
	}
	if ((buf = vg_net_tx_slot(a->tx)) == NULL) {
		vg_send_flush(a);
		buf = vg_net_tx_slot(a->tx);
	}
	m->cluster_id = a->conf->cluster_id;
	m->sender = a->self->id;
	m->target = p->id;
	/* the header's group fields: the message's group (a heartbeat's
	 * header is group 0's, the others in its sections) */
	m->state = el->state;
	m->priority = el->priority;
	m->incarnation = a->incarnation;
	/* RELEASE and TRANSFER name a successor there; the rest our active */
	if (m->type != VG_MSG_RELEASE && m->type != VG_MSG_TRANSFER)
		m->active = el->active_id;
	/* what the election's agreement rule compares, and which part */
	m->config_digest = el->digest;	/* J's in a joint move */
	m->digest_parts = vg_conf_parts_hint(a->conf);
	m->epoch = a->conf->epoch;
	m->conf_digest = a->conf->digest;
	m->seq = vg_peer_next_seq(p, now);
	if ((len = vg_proto_encode(m, buf, VG_NET_BUF)) == 0)
		fatalx("cannot encode a %s", vg_msg_type_name(m->type));
	vg_auth_sign(&a->auth, buf, len);
	vg_net_tx_queue(a->tx, len, (struct sockaddr *)&p->sa, p->salen,
	    (uint32_t)(p - a->peers.p));
	p->tx++;
	a->stats.tx_packets++;
}

void
vg_send_heartbeat(struct vg_agent *a, struct vg_peer *p, uint16_t flags,
    vg_ns now)
{
	struct vg_msg m;
	size_t g;

	memset(&m, 0, sizeof(m));
	m.type = VG_MSG_HEARTBEAT;
	m.flags = vg_el_hb_flags(&a->el[0]) | (flags & VG_FLAG_REPLY);
	m.term = a->el[0].term;
	m.echo_seq = vg_el_echo(&a->el[0], p->id, vg_peer_echo_seq(p));
	/* every other group in a section (version 3) */
	m.n_groups = (uint8_t)a->n_groups;
	for (g = 1; g < a->n_groups; g++) {
		const struct vg_election *el = &a->el[g];
		struct vg_msg_group *s = &m.grp[g - 1];

		s->state = el->state;
		s->priority = el->priority;
		s->flags = vg_el_hb_flags(el);
		s->active = el->active_id;
		s->term = el->term;
		s->echo_seq = vg_el_echo(el, p->id, vg_peer_echo_seq(p));
	}
	/* the hold time is known for the peer's newest seq only */
	m.u.hb.echo_delay_us = m.echo_seq == vg_peer_echo_seq(p) ?
	    vg_peer_echo_delay_us(p, now) : VG_ECHO_DELAY_UNKNOWN;
	send_msg(a, p, &m, now);
}

void
vg_send_push(struct vg_agent *a, struct vg_peer *p, uint8_t type,
    const uint8_t *body, vg_ns now)
{
	struct vg_msg m;

	/* a version 1 peer has no push types: it is not sent one */
	if (p->ever_seen && p->last.version == 1)
		return;
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.term = a->el[0].term;
	m.echo_seq = vg_peer_echo_seq(p);
	m.body = body;
	send_msg(a, p, &m, now);
}

void
vg_send_act(struct vg_agent *a, const struct vg_act *x, vg_ns now)
{
	struct vg_msg m;
	size_t i;

	for (i = 0; i < a->peers.n; i++) {
		struct vg_peer *p = &a->peers.p[i];

		if (x->target != 0 && x->target != p->id)
			continue;
		if (x->msg_type == VG_MSG_HEARTBEAT) {
			vg_send_heartbeat(a, p, x->flags, now);
			continue;
		}
		memset(&m, 0, sizeof(m));
		m.type = x->msg_type;
		m.group = x->group;
		m.flags = x->flags;
		m.term = x->term;
		m.active = x->successor;
		/* not an acknowledgement (only a heartbeat's is): it tells a
		 * restarted peer that we heard it (vg_peer_fresh) */
		m.echo_seq = vg_peer_echo_seq(p);
		if (m.type == VG_MSG_VOTE)
			m.u.vote.reason = x->reason;
		send_msg(a, p, &m, now);
	}
}

/* Room in the socket's send buffer for every peer's unresolved queue
 * (net.h): a peer down on the link must cost its own datagrams only. */
void
vg_send_size_buffer(struct vg_agent *a)
{
	size_t want = vg_net_sndbuf_for(a->peers.n, vg_net_unres_qlen()), got;

	if (vg_net_set_sndbuf(a->sock, want, &got) == -1)
		log_warn("send buffer of %zu bytes", want);
	else if (got < want)
		log_warnx("send buffer: %zu bytes wanted for %zu peers, the "
		    "kernel gave %zu (without CAP_NET_ADMIN it stops at "
		    "net.core.wmem_max): peers down on the link may delay "
		    "heartbeats to live ones", want, a->peers.n, got);
	else
		log_debug("send buffer %zu bytes for %zu peers", got,
		    a->peers.n);
}
