/*
 * metrics: Prometheus text rendering of struct vg_agent.
 */
#include <stdio.h>
#include <stdlib.h>

#include "metrics.h"

static void
head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
one(FILE *f, const char *name, const char *type, const char *help, double v)
{
	head(f, name, type, help);
	fprintf(f, "%s %.17g\n", name, v);
}

char *
vg_metrics_text(const struct vg_agent *a, vg_ns now)
{
	const struct vg_election *el = &a->el;
	const struct vg_hooks_stats *hs = vg_hooks_stats(a->hooks);
	const struct vg_control_stats *cs = vg_control_stats(a->ctl);
	char *buf = NULL;
	size_t len = 0, i, alive = 0;
	FILE *f = open_memstream(&buf, &len);
	uint8_t s;
	int r;

	if (f == NULL)
		return NULL;
	for (i = 0; i < a->n_peers; i++)
		alive += a->peers[i].alive;
	head(f, "vigil_node_state", "gauge",
	    "1 for the state this node is in, 0 for the others.");
	for (s = 1; s <= VG_ST_MAX; s++)
		fprintf(f, "vigil_node_state{state=\"%s\"} %d\n",
		    vg_state_name(s), el->state == s);
	one(f, "vigil_term", "gauge", "The current term.", (double)el->term);
	one(f, "vigil_active_node_id", "gauge",
	    "The id of the active node as this node knows it; 0 for none.",
	    el->active_id);
	one(f, "vigil_vips_held", "gauge",
	    "1 if the keeper reports the VIPs on this node's links.",
	    a->vips_held);
	one(f, "vigil_lease_remaining_seconds", "gauge",
	    "Seconds the active's lease has to run; 0 if not active.",
	    el->state == VG_ST_ACTIVE && el->lease_deadline > now ?
	    (double)(el->lease_deadline - now) / 1e9 : 0);
	one(f, "vigil_quorum_votes_needed", "gauge", "Votes needed for a quorum.",
	    el->quorum);
	one(f, "vigil_quorum_votes_seen", "gauge",
	    "Votes of the nodes heard within dead_time, this one included.",
	    vg_el_votes_seen(el, now));
	one(f, "vigil_peers_alive", "gauge", "Peers heard within dead_time.",
	    (double)alive);
	head(f, "vigil_peer_up", "gauge", "1 if the peer is alive.");
	for (i = 0; i < a->n_peers; i++)
		fprintf(f, "vigil_peer_up{peer=\"%s\"} %d\n", a->peers[i].name,
		    a->peers[i].alive);
	head(f, "vigil_peer_rtt_seconds", "gauge",
	    "Smoothed round trip to the peer.");
	for (i = 0; i < a->n_peers; i++)
		if (a->peers[i].rtt_valid)
			fprintf(f, "vigil_peer_rtt_seconds{peer=\"%s\"} %.9f\n",
			    a->peers[i].name, (double)a->peers[i].srtt / 1e9);
	head(f, "vigil_peer_lost_total", "counter",
	    "Messages from the peer that never arrived (seq gaps).");
	for (i = 0; i < a->n_peers; i++)
		fprintf(f, "vigil_peer_lost_total{peer=\"%s\"} %llu\n",
		    a->peers[i].name, (unsigned long long)a->peers[i].lost);
	one(f, "vigil_packets_sent_total", "counter", "Datagrams sent.",
	    (double)a->stats.tx_packets);
	one(f, "vigil_send_errors_total", "counter", "Datagrams that failed to go.",
	    (double)a->stats.tx_errors);
	one(f, "vigil_packets_received_total", "counter", "Datagrams received.",
	    (double)a->stats.rx_packets);
	one(f, "vigil_packets_accepted_total", "counter",
	    "Datagrams that passed every check.", (double)a->rx.accepted);
	head(f, "vigil_packets_dropped_total", "counter",
	    "Datagrams dropped, by reason.");
	for (r = 1; r < VG_DROP_MAX; r++)
		fprintf(f, "vigil_packets_dropped_total{reason=\"%s\"} %llu\n",
		    vg_drop_name((enum vg_drop)r),
		    (unsigned long long)a->rx.drops[r]);
	one(f, "vigil_elections_started_total", "counter",
	    "Candidacies this node started.", (double)el->st.elections_started);
	one(f, "vigil_elections_won_total", "counter",
	    "Elections this node won (it became active).",
	    (double)el->st.elections_won);
	one(f, "vigil_election_rounds_failed_total", "counter",
	    "Candidacies that timed out.", (double)el->st.rounds_failed);
	head(f, "vigil_votes_refused_total", "counter",
	    "Vote requests this node refused, by reason.");
	for (r = 1; r < VG_REFUSE_MAX; r++)
		fprintf(f, "vigil_votes_refused_total{reason=\"%s\"} %llu\n",
		    vg_refusal_name((enum vg_refusal)r),
		    (unsigned long long)el->st.refused[r]);
	one(f, "vigil_lease_lapses_total", "counter",
	    "Times this node's lease ran out while active.",
	    (double)el->st.lease_lapses);
	one(f, "vigil_step_downs_total", "counter",
	    "Times this node left the active state.", (double)el->st.step_downs);
	one(f, "vigil_last_failover_seconds", "gauge",
	    "From the last heartbeat of the previous active to this node "
	    "holding the VIPs, at its last take-over.",
	    (double)a->last_failover / 1e9);
	one(f, "vigil_keeper_starts_total", "counter",
	    "Keeper processes started (1 + restarts).", (double)a->keeper_starts);
	one(f, "vigil_hook_runs_total", "counter", "Notify scripts run.",
	    (double)hs->runs);
	one(f, "vigil_hook_failures_total", "counter",
	    "Notify scripts that failed (non-zero exit or killed).",
	    (double)hs->failures);
	one(f, "vigil_hook_timeouts_total", "counter",
	    "Notify scripts killed after script_timeout.", (double)hs->timeouts);
	one(f, "vigil_ctl_requests_total", "counter", "Control requests.",
	    (double)cs->requests);
	one(f, "vigil_ctl_denied_total", "counter",
	    "Control requests refused for the caller's role.", (double)cs->denied);
	one(f, "vigil_uptime_seconds", "gauge", "Seconds since this agent started.",
	    (double)(now - a->started) / 1e9);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
