/*
 * status: the agent's state as the JSON of `vigilctl status --json`, and
 * the event stream: each event kept in the ring for `vigilctl events` and
 * sent to every client that follows it.  The keys are the documented,
 * stable interface (docs/vigilctl.8).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "net.h"
#include "sdnotify.h"

static json_object *
ms_or_null(vg_ns v, int valid)
{
	return valid ? json_object_new_int64(v / VG_NS_PER_MS) : NULL;
}

static json_object *
us_or_null(vg_ns v, int valid)
{
	return valid ? json_object_new_int64(v / VG_NS_PER_US) : NULL;
}

static json_object *
digest_str(uint32_t d)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%08x", d);
	return json_object_new_string(buf);
}

static json_object *
drops_json(const uint64_t *drops)
{
	json_object *o = json_object_new_object();
	int i;

	for (i = 1; i < VG_DROP_MAX; i++)
		json_object_object_add(o, vg_drop_name((enum vg_drop)i),
		    json_object_new_int64((int64_t)drops[i]));
	return o;
}

/* The parts of the safety configuration that the peer's hint shows
 * different (an empty list: its hint shows none, or it sent none). */
static json_object *
differs_json(const struct vg_conf *c, uint16_t hint)
{
	json_object *l = json_object_new_array();
	unsigned mask = vg_conf_parts_differ(c, hint);
	int i;

	for (i = 0; i < VG_PART_MAX; i++)
		if (mask & (1u << i))
			json_object_array_add(l, json_object_new_string(
			    vg_conf_part_name((enum vg_conf_part)i)));
	return l;
}

static json_object *
peer_json(const struct vg_agent *a, const struct vg_peer *p, vg_ns now)
{
	json_object *o = json_object_new_object();
	const struct vg_msg *m = &p->last;
	const struct vg_el_node *en = vg_el_node_of(&a->el[0], p->id);
	int disagrees = p->ever_seen && en != NULL && !en->agrees;

#define ADD(k, v) json_object_object_add(o, (k), (v))
	ADD("id", json_object_new_int(p->id));
	ADD("name", json_object_new_string(p->name));
	ADD("address", json_object_new_string(p->address));
	/* a node of a joint move's other configuration is not in a->conf */
	ADD("port", json_object_new_int(ntohs(p->sa.ss_family == AF_INET6 ?
	    ((const struct sockaddr_in6 *)&p->sa)->sin6_port :
	    ((const struct sockaddr_in *)&p->sa)->sin_port)));
	ADD("member", json_object_new_boolean(vg_conf_node_by_id(a->conf,
	    p->id) != NULL));
	ADD("role", json_object_new_string(vg_role_name(p->role)));
	ADD("votes", json_object_new_int(p->votes));
	ADD("alive", json_object_new_boolean(vg_peer_alive(p, now)));
	ADD("state", json_object_new_string(p->ever_seen ?
	    vg_state_name(m->state) : "unknown"));
	ADD("term", json_object_new_int64((int64_t)m->term));
	ADD("active", json_object_new_int(m->active));
	ADD("priority", p->ever_seen ? json_object_new_int(m->priority) : NULL);
	ADD("incarnation", json_object_new_int64((int64_t)m->incarnation));
	ADD("last_seen_ms", ms_or_null(now - p->last_seen, p->ever_seen));
	ADD("up_for_ms", ms_or_null(now - p->up_since, vg_peer_alive(p, now)));
	ADD("rtt_us", us_or_null(p->srtt, p->rtt_valid));
	ADD("rtt_last_us", us_or_null(p->rtt_last, p->rtt_valid));
	ADD("rtt_max_us", us_or_null(p->rtt_max, p->rtt_valid));
	ADD("rx", json_object_new_int64((int64_t)p->rx));
	ADD("tx", json_object_new_int64((int64_t)p->tx));
	ADD("lost", json_object_new_int64((int64_t)p->lost));
	ADD("tx_errors", json_object_new_int64((int64_t)p->tx_errors));
	ADD("ups", json_object_new_int64((int64_t)p->ups));
	ADD("downs", json_object_new_int64((int64_t)p->downs));
	ADD("restarts", json_object_new_int64((int64_t)p->restarts));
	ADD("fresh", json_object_new_boolean(p->seq_base == 0 || p->fresh));
	/* the epoch and cluster-wide settings it runs (version 2 on):
	 * shown, never decisive */
	ADD("epoch", p->ever_seen && m->version >= 2 ?
	    json_object_new_int64(m->epoch) : NULL);
	ADD("conf_digest", p->ever_seen && m->version >= 2 ?
	    digest_str(m->conf_digest) : NULL);
	ADD("conf_agrees", p->ever_seen && m->version >= 2 ?
	    json_object_new_boolean(m->epoch == a->conf->epoch &&
	    m->conf_digest == a->conf->digest) : NULL);
	ADD("wire_version", p->ever_seen ? json_object_new_int(m->version) :
	    NULL);
	ADD("config_digest", p->ever_seen ? digest_str(m->config_digest) : NULL);
	ADD("digest_match", p->ever_seen ? json_object_new_boolean(
	    m->config_digest == a->conf->safety_digest) : NULL);
	/* the election's view: whether its votes and echoes count */
	ADD("agrees", p->ever_seen && en != NULL ?
	    json_object_new_boolean(en->agrees) : NULL);
	ADD("disagree_since_ms", ms_or_null(disagrees ? now -
	    en->disagree_since : 0, disagrees));
	ADD("digest_differs", disagrees ? differs_json(a->conf,
	    m->digest_parts) : NULL);
	ADD("echoes_ignored", json_object_new_int64(en ?
	    (int64_t)en->echoes_ignored : 0));
	ADD("votes_ignored", json_object_new_int64(en ?
	    (int64_t)en->votes_ignored : 0));
	ADD("requests_refused", json_object_new_int64(en ?
	    (int64_t)en->requests_refused : 0));
	ADD("drops", drops_json(p->drops));
#undef ADD
	return o;
}

static json_object *
tracks_json(const struct vg_agent *a)
{
	const struct vg_track_state *st = a->tracks ?
	    vg_tracks_state(a->tracks) : NULL;
	json_object *l = json_object_new_array();
	size_t i;

	for (i = 0; st != NULL && i < a->conf->n_tracks; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name",
		    json_object_new_string(a->conf->tracks[i].name));
		json_object_object_add(o, "up", json_object_new_boolean(st[i].up));
		json_object_object_add(o, "weight",
		    json_object_new_int(a->conf->tracks[i].weight));
		json_object_object_add(o, "runs",
		    json_object_new_int64((int64_t)st[i].runs));
		json_object_object_add(o, "failures",
		    json_object_new_int64((int64_t)st[i].failures));
		json_object_object_add(o, "timeouts",
		    json_object_new_int64((int64_t)st[i].timeouts));
		json_object_array_add(l, o);
	}
	return l;
}

static json_object *
refusals_json(const uint64_t *r)
{
	json_object *o = json_object_new_object();
	int i;

	for (i = 1; i < VG_REFUSE_MAX; i++)
		json_object_object_add(o, vg_refusal_name((enum vg_refusal)i),
		    json_object_new_int64((int64_t)r[i]));
	return o;
}

static json_object *
election_json(const struct vg_election *el, vg_ns now)
{
	json_object *o = json_object_new_object();

#define ADD(k, v) json_object_object_add(o, (k), json_object_new_int64( \
	    (int64_t)(v)))
	ADD("started", el->st.elections_started);
	ADD("won", el->st.elections_won);
	ADD("rounds_failed", el->st.rounds_failed);
	ADD("votes_granted", el->st.votes_granted);
	ADD("prevotes_granted", el->st.prevotes_granted);
	ADD("requests_deferred", el->st.requests_deferred);
	ADD("lease_lapses", el->st.lease_lapses);
	ADD("lease_renewals", el->st.lease_renewals);
	ADD("step_downs", el->st.step_downs);
	ADD("releases_accepted", el->st.releases_accepted);
	ADD("releases_rejected", el->st.releases_rejected);
	ADD("conflicts", el->st.conflicts);
	ADD("handovers", el->st.handovers);
	ADD("handover_requests", el->st.handover_requests);
	ADD("preemptions", el->st.preemptions);
	ADD("transfer_votes", el->st.transfer_votes);
	ADD("transfer_vote_wins", el->st.transfer_vote_wins);
	ADD("echoes_ignored", el->st.echoes_ignored);
	ADD("votes_ignored", el->st.votes_ignored);
	ADD("terms_refused", el->st.terms_refused);
	ADD("peers_disagreeing", vg_el_disagreeing(el, now));
#undef ADD
	json_object_object_add(o, "refused", refusals_json(el->st.refused));
	json_object_object_add(o, "refusals", refusals_json(el->st.refusals));
	return o;
}

static json_object *
realtime_json(const struct vg_rt *rt)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "policy",
	    json_object_new_string(vg_rt_policy_name(rt->policy)));
	json_object_object_add(o, "priority", json_object_new_int(rt->priority));
	json_object_object_add(o, "granted",
	    json_object_new_boolean(rt->realtime));
	json_object_object_add(o, "memory_locked",
	    json_object_new_boolean(rt->locked));
	if (rt->why[0] != '\0')
		json_object_object_add(o, "refused",
		    json_object_new_string(rt->why));
	return o;
}

/* Who sent what was dropped before (or at) the HMAC, most recent first. */
/* The key slots of a rotation: which are configured, and what each
 * verified (accepted, or dropped by a later check). */
static json_object *
keys_json(const struct vg_agent *a)
{
	json_object *r = json_object_new_object(), *k;
	int s;

	for (s = 0; s < VG_KEY_SLOTS; s++) {
		k = json_object_new_object();
		json_object_object_add(k, "configured", json_object_new_boolean(
		    vg_auth_has(&a->auth, (enum vg_key_slot)s)));
		json_object_object_add(k, "accepted", json_object_new_int64(
		    (int64_t)a->rx.key_accepted[s]));
		json_object_object_add(k, "dropped", json_object_new_int64(
		    (int64_t)a->rx.key_drops[s]));
		json_object_object_add(r, vg_key_slot_name((enum vg_key_slot)s),
		    k);
	}
	return r;
}

static json_object *
sources_json(const struct vg_rx *rx)
{
	json_object *arr = json_object_new_array(), *o;
	const struct vg_rx_source *s, *order[VG_RX_SOURCES];
	char addr[INET6_ADDRSTRLEN + 16], *colon;
	size_t i, j, n = 0;

	for (i = 0; i < VG_RX_SOURCES; i++) {
		if (rx->src[i].addrlen == 0)
			continue;
		for (j = n; j > 0 && order[j - 1]->stamp < rx->src[i].stamp; j--)
			order[j] = order[j - 1];
		order[j] = &rx->src[i];
		n++;
	}
	for (i = 0; i < n; i++) {
		s = order[i];
		vg_sockaddr_fmt((const struct sockaddr *)&s->addr, addr,
		    sizeof(addr));
		/* by address: the port of the last one says little */
		if ((colon = strrchr(addr, ':')) != NULL)
			*colon = '\0';
		o = json_object_new_object();
		json_object_object_add(o, "address",
		    json_object_new_string(addr));
		json_object_object_add(o, "drops",
		    json_object_new_int64((int64_t)s->drops));
		json_object_object_add(o, "last",
		    json_object_new_string(vg_drop_name(s->last)));
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *
push_id_str(uint64_t id)
{
	char b[24];

	snprintf(b, sizeof(b), "%016llx", (unsigned long long)id);
	return json_object_new_string(b);
}

/* A configuration push under way here: as its coordinator, and as a
 * participant (stage.c); null members when none. */
static json_object *
push_json(const struct vg_agent *a)
{
	static const char *const phases[] = {
		[VG_PR_IDLE] = "idle", [VG_PR_TRANSFER] = "transfer",
		[VG_PR_JOINT] = "joint", [VG_PR_DECIDED] = "decided",
		[VG_PR_FINISHED] = "finished",
	};
	const struct vg_pushrun *pr = &a->push;
	const struct vg_conf_node *n;
	json_object *o = json_object_new_object(), *x = NULL;

	if (pr->phase != VG_PR_IDLE) {
		x = json_object_new_object();
		json_object_object_add(x, "push_id", push_id_str(pr->push_id));
		json_object_object_add(x, "epoch",
		    json_object_new_int64(pr->epoch));
		json_object_object_add(x, "phase",
		    json_object_new_string(phases[pr->phase]));
	}
	json_object_object_add(o, "coordinating", x);
	x = NULL;
	if (pr->status != 0) {
		x = json_object_new_object();
		json_object_object_add(x, "push_id",
		    push_id_str(pr->rx.offer.push_id));
		json_object_object_add(x, "epoch",
		    json_object_new_int64(pr->rx.offer.epoch));
		json_object_object_add(x, "status", json_object_new_string(
		    vg_push_status_name(pr->status)));
		n = vg_conf_node_by_id(a->conf, pr->from);
		json_object_object_add(x, "from", n != NULL ?
		    json_object_new_string(n->name) : NULL);
		json_object_object_add(x, "error", pr->error[0] ?
		    json_object_new_string(pr->error) : NULL);
	}
	json_object_object_add(o, "here", x);
	/* a joint move (design.md, "joint quorum"): this node in J, every
	 * win and lease needing a quorum of both; removed: C' left it out */
	x = NULL;
	if (a->jconf != NULL) {
		x = json_object_new_object();
		json_object_object_add(x, "epoch",
		    json_object_new_int64(a->jconf->epoch));
		json_object_object_add(x, "nodes",
		    json_object_new_int64((int64_t)a->jconf->n_nodes));
		json_object_object_add(x, "quorum",
		    json_object_new_int64(a->jconf->quorum));
		json_object_object_add(x, "final_due", json_object_new_boolean(
		    a->joint_final_at != 0));
	}
	json_object_object_add(o, "joint", x);
	json_object_object_add(o, "removed",
	    json_object_new_boolean(a->el[0].removed));
	/* catch-up: files fetched here and served to peers, the last
	 * serving error */
	json_object_object_add(o, "caught_up", json_object_new_int64(
	    (int64_t)pr->fetched));
	json_object_object_add(o, "served", json_object_new_int64(
	    (int64_t)pr->served));
	json_object_object_add(o, "serve_error", pr->serve_error[0] ?
	    json_object_new_string(pr->serve_error) : NULL);
	return o;
}

/* the loop's own timeliness: percentiles are for metrics; here the worst */
static json_object *
loop_json(const struct vg_agent *a)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "iterations",
	    json_object_new_int64((int64_t)a->stats.iteration.n));
	json_object_object_add(o, "slowest_iteration_us",
	    json_object_new_int64(a->stats.iteration.max / VG_NS_PER_US));
	json_object_object_add(o, "latest_wakeup_us",
	    json_object_new_int64(a->stats.wakeup.max / VG_NS_PER_US));
	return o;
}

/* A row per VIP group: its election as this node sees it. */
static json_object *
groups_json(const struct vg_agent *a, vg_ns now)
{
	const struct vg_conf *c = a->conf;
	json_object *l = json_object_new_array();
	const struct vg_conf_node *n;
	size_t g, i;

	for (g = 0; g < a->n_groups; g++) {
		const struct vg_election *el = &a->el[g];
		const struct vg_conf_group *cg = &c->groups[g];
		json_object *o = json_object_new_object(), *v;

		json_object_object_add(o, "name",
		    json_object_new_string(cg->name));
		json_object_object_add(o, "state",
		    json_object_new_string(vg_state_name(el->state)));
		json_object_object_add(o, "term",
		    json_object_new_int64((int64_t)el->term));
		json_object_object_add(o, "active",
		    json_object_new_int(el->active_id));
		n = vg_conf_node_by_id(c, el->active_id);
		json_object_object_add(o, "active_name", n != NULL ?
		    json_object_new_string(n->name) : NULL);
		json_object_object_add(o, "priority",
		    json_object_new_int(el->priority));
		json_object_object_add(o, "preempt",
		    json_object_new_boolean(el->preempt));
		json_object_object_add(o, "fault",
		    json_object_new_boolean(el->fault));
		json_object_object_add(o, "lease_remaining_ms",
		    el->state == VG_ST_ACTIVE ? json_object_new_int64(
		    (el->lease_deadline - now) / VG_NS_PER_MS) : NULL);
		json_object_object_add(o, "lapsed", json_object_new_boolean(
		    el->state == VG_ST_ACTIVE && el->lapsed));
		v = json_object_new_array();
		for (i = 0; i < cg->n_vips; i++)
			json_object_array_add(v, json_object_new_string(
			    c->vips[cg->vip_first + i].text));
		json_object_object_add(o, "vips", v);
		json_object_array_add(l, o);
	}
	return l;
}

json_object *
vg_status_json(const struct vg_agent *a, vg_ns now)
{
	const struct vg_conf *c = a->conf;
	json_object *r = json_object_new_object();
	json_object *cl = json_object_new_object();
	json_object *nd = json_object_new_object();
	json_object *peers = json_object_new_array();
	json_object *cnt = json_object_new_object(), *lazy;
	json_object *vips = json_object_new_array();
	json_object *sp;
	/* the node's fields are group 0's, as before groups; "groups" has
	 * a row for each */
	const struct vg_election *el = &a->el[0];
	size_t i;

	json_object_object_add(cl, "name", json_object_new_string(c->cluster));
	json_object_object_add(cl, "id", json_object_new_int64(c->cluster_id));
	json_object_object_add(cl, "digest", digest_str(c->digest));
	json_object_object_add(cl, "epoch", json_object_new_int64(c->epoch));
	json_object_object_add(cl, "file_digest", digest_str(c->file_digest));
	json_object_object_add(cl, "push", push_json(a));
	json_object_object_add(cl, "safety_digest",
	    digest_str(c->safety_digest));
	sp = json_object_new_object();
	for (i = 0; i < VG_PART_MAX; i++)
		json_object_object_add(sp, vg_conf_part_name(
		    (enum vg_conf_part)i), digest_str(c->part_digest[i]));
	json_object_object_add(cl, "safety_parts", sp);
	json_object_object_add(cl, "quorum", json_object_new_int((int)c->quorum));
	json_object_object_add(cl, "total_votes",
	    json_object_new_int((int)c->total_votes));
	json_object_object_add(cl, "interval_ms",
	    json_object_new_int64(c->interval / VG_NS_PER_MS));
	json_object_object_add(cl, "dead_time_ms",
	    json_object_new_int64(c->dead_time / VG_NS_PER_MS));
	json_object_object_add(cl, "lease_ms",
	    json_object_new_int64(c->lease / VG_NS_PER_MS));
	json_object_object_add(r, "cluster", cl);

	json_object_object_add(nd, "id", json_object_new_int(a->self->id));
	json_object_object_add(nd, "name", json_object_new_string(a->self->name));
	json_object_object_add(nd, "address",
	    json_object_new_string(a->self->address));
	json_object_object_add(nd, "port", json_object_new_int(a->self->port));
	json_object_object_add(nd, "role",
	    json_object_new_string(vg_role_name(a->self->role)));
	json_object_object_add(nd, "state",
	    json_object_new_string(vg_state_name(el->state)));
	json_object_object_add(nd, "priority", json_object_new_int(el->priority));
	json_object_object_add(nd, "config_priority",
	    json_object_new_int(a->self->priority));
	json_object_object_add(nd, "maintenance",
	    json_object_new_boolean(el->maintenance));
	json_object_object_add(nd, "track_fault",
	    json_object_new_boolean(a->track_fault));
	json_object_object_add(nd, "preempt", json_object_new_boolean(el->preempt));
	json_object_object_add(nd, "preemption_held", json_object_new_boolean(
	    el->preempt && vg_el_flapping(el, now)));
	json_object_object_add(nd, "active_for_ms", el->active_id != 0 ?
	    json_object_new_int64((now - el->active_since) / VG_NS_PER_MS) :
	    NULL);
	json_object_object_add(nd, "term", json_object_new_int64((int64_t)el->term));
	json_object_object_add(nd, "voted_for", json_object_new_int(el->voted_for));
	json_object_object_add(nd, "active", json_object_new_int(el->active_id));
	json_object_object_add(nd, "votes_seen",
	    json_object_new_int((int)vg_el_votes_seen(el, now)));
	json_object_object_add(nd, "fault", json_object_new_boolean(el->fault));
	json_object_object_add(nd, "link_down", a->link_down[0] ?
	    json_object_new_string(a->link_down) : NULL);
	json_object_object_add(nd, "lease_remaining_ms",
	    el->state == VG_ST_ACTIVE ? json_object_new_int64(
	    (el->lease_deadline - now) / VG_NS_PER_MS) : NULL);
	json_object_object_add(nd, "lapsed", json_object_new_boolean(
	    el->state == VG_ST_ACTIVE && el->lapsed));
	json_object_object_add(nd, "vips_held", json_object_new_boolean(
	    vg_hold_stats(a->hold).held));
	json_object_object_add(nd, "keeper_pid", json_object_new_int(
	    (int)vg_hold_stats(a->hold).keeper_pid));
	json_object_object_add(nd, "keeper_starts", json_object_new_int64(
	    (int64_t)vg_hold_stats(a->hold).keeper_starts));
	json_object_object_add(nd, "keeper_lease_messages",
	    json_object_new_int64((int64_t)
	    vg_hold_stats(a->hold).renewals_sent));
	json_object_object_add(nd, "keeper_lease_stores",
	    json_object_new_int64((int64_t)
	    vg_hold_stats(a->hold).renewals_shared));
	json_object_object_add(nd, "incarnation",
	    json_object_new_int64((int64_t)a->incarnation));
	json_object_object_add(nd, "uptime_ms",
	    json_object_new_int64((now - a->started) / VG_NS_PER_MS));
	json_object_object_add(r, "node", nd);

	for (i = 0; i < a->peers.n; i++)
		json_object_array_add(peers, peer_json(a, &a->peers.p[i], now));
	json_object_object_add(r, "peers", peers);
	json_object_object_add(r, "drops", drops_json(a->rx.drops));
	json_object_object_add(r, "drop_sources", sources_json(&a->rx));
	json_object_object_add(r, "auth_keys", keys_json(a));
	for (i = 0; i < c->n_vips; i++) {
		json_object *v = json_object_new_object();

		json_object_object_add(v, "address",
		    json_object_new_string(c->vips[i].text));
		json_object_object_add(v, "interface",
		    json_object_new_string(c->vips[i].ifname));
		json_object_object_add(v, "group", json_object_new_string(
		    c->groups[c->vips[i].group].name));
		json_object_object_add(v, "holder", json_object_new_int(
		    a->el[c->vips[i].group].active_id));
		json_object_object_add(v, "held_here", json_object_new_boolean(
		    (vg_hold_stats(a->hold).held_groups >>
		    c->vips[i].group) & 1));
		json_object_array_add(vips, v);
	}
	json_object_object_add(r, "vips", vips);
	json_object_object_add(r, "groups", groups_json(a, now));
	json_object_object_add(r, "election", election_json(el, now));
	json_object_object_add(r, "tracks", tracks_json(a));

	json_object_object_add(cnt, "rx_packets",
	    json_object_new_int64((int64_t)a->stats.rx_packets));
	json_object_object_add(cnt, "rx_accepted",
	    json_object_new_int64((int64_t)a->rx.accepted));
	json_object_object_add(cnt, "rx_lazy",
	    json_object_new_int64((int64_t)a->stats.rx_lazy));
	json_object_object_add(cnt, "rx_waited",
	    json_object_new_int64((int64_t)a->stats.rx_waited));
	json_object_object_add(cnt, "tx_packets",
	    json_object_new_int64((int64_t)a->stats.tx_packets));
	json_object_object_add(cnt, "tx_errors",
	    json_object_new_int64((int64_t)a->stats.tx_errors));
	json_object_object_add(cnt, "heartbeats_late",
	    json_object_new_int64((int64_t)a->stats.hb_late));
	json_object_object_add(cnt, "slow_iterations",
	    json_object_new_int64((int64_t)a->stats.slow_iterations));
	json_object_object_add(cnt, "log_lines_dropped",
	    json_object_new_int64((int64_t)log_dropped()));
	json_object_object_add(cnt, "notify_dropped",
	    json_object_new_int64((int64_t)vg_sd_notify_dropped()));
	json_object_object_add(r, "counters", cnt);
	json_object_object_add(r, "realtime", realtime_json(&a->rt));
	lazy = json_object_new_object();
	json_object_object_add(lazy, "on", json_object_new_boolean(
	    a->lazy != -1));
	if (a->lazy == -1)
		json_object_object_add(lazy, "why",
		    json_object_new_string(a->lazy_why));
	json_object_object_add(r, "lazy_socket", lazy);
	json_object_object_add(r, "loop", loop_json(a));
	return r;
}

json_object *
vg_event_json(const struct vg_event *e, vg_ns now)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64((int64_t)e->id));
	json_object_object_add(o, "kind",
	    json_object_new_string(vg_event_kind_name(e->kind)));
	json_object_object_add(o, "mono_ms",
	    json_object_new_int64(e->mono / VG_NS_PER_MS));
	json_object_object_add(o, "age_ms",
	    json_object_new_int64((now - e->mono) / VG_NS_PER_MS));
	json_object_object_add(o, "time_ms", json_object_new_int64(e->wall_ms));
	json_object_object_add(o, "text", json_object_new_string(e->text));
	return o;
}

json_object *
vg_events_json(const struct vg_agent *a, vg_ns now)
{
	json_object *r = json_object_new_object(), *l = json_object_new_array();
	const struct vg_event *e;
	size_t i;

	for (i = 0; (e = vg_events_get(&a->events, i)) != NULL; i++)
		json_object_array_add(l, vg_event_json(e, now));
	json_object_object_add(r, "events", l);
	return r;
}

void
vg_agent_event(struct vg_agent *a, enum vg_event_kind kind, const char *fmt, ...)
{
	const struct vg_event *e;
	json_object *w;
	char text[VG_EVENT_TEXT];
	va_list ap;
	vg_ns now = vg_now();

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	e = vg_events_add(&a->events, kind, now, vg_realtime_ms(), "%s", text);
	if (a->ctl == NULL)
		return;
	w = json_object_new_object();
	json_object_object_add(w, "event", vg_event_json(e, now));
	vg_control_broadcast(a->ctl, w);
	json_object_put(w);
}
