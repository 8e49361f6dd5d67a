/*
 * metrics: Prometheus text rendering of struct vg_agent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "statedir.h"

char *
vg_metrics_seconds(char *buf, size_t len, vg_ns ns)
{
	/* via uint64_t: INT64_MIN has no positive int64_t */
	uint64_t mag = ns < 0 ? 0 - (uint64_t)ns : (uint64_t)ns;
	unsigned long long sec = mag / 1000000000u;
	unsigned frac = (unsigned)(mag % 1000000000u);
	char f[16];
	int n;

	if (frac == 0) {
		snprintf(buf, len, "%s%llu", ns < 0 ? "-" : "", sec);
		return buf;
	}
	n = snprintf(f, sizeof(f), "%09u", frac);
	while (n > 0 && f[n - 1] == '0')
		f[--n] = '\0';
	snprintf(buf, len, "%s%llu.%s", ns < 0 ? "-" : "", sec, f);
	return buf;
}

char *
vg_metrics_number(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "NaN");
	else if (isinf(v))
		snprintf(buf, len, "%s", v < 0 ? "-Inf" : "+Inf");
	else if (v == trunc(v) && fabs(v) < 9007199254740992.0)	/* 2^53 */
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.9g", v);
	return buf;
}

static void
head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
hist(FILE *f, const char *name, const char *help, const struct vg_hist *h)
{
	char v[32];
	size_t i;

	head(f, name, "histogram", help);
	for (i = 0; i < VG_HIST_BUCKETS; i++)
		fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name,
		    (double)vg_hist_bounds[i] / 1e9,
		    (unsigned long long)vg_hist_cumulative(h, i));
	fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", name,
	    (unsigned long long)h->n);
	fprintf(f, "%s_sum %s\n%s_count %llu\n", name,
	    vg_metrics_seconds(v, sizeof(v), h->sum), name,
	    (unsigned long long)h->n);
}

static void
one(FILE *f, const char *name, const char *type, const char *help, double v)
{
	char b[32];

	head(f, name, type, help);
	fprintf(f, "%s %s\n", name, vg_metrics_number(b, sizeof(b), v));
}

/* a gauge in seconds, from ns */
static void
secs(FILE *f, const char *name, const char *help, vg_ns ns)
{
	char b[32];

	head(f, name, "gauge", help);
	fprintf(f, "%s %s\n", name, vg_metrics_seconds(b, sizeof(b), ns));
}

char *
vg_metrics_text(const struct vg_agent *a, vg_ns now)
{
	/* the node's series are group 0's, as before groups; the vigil_group_
	 * ones have a row per group */
	const struct vg_election *el = &a->el[0];
	const struct vg_hooks_stats *hs = vg_hooks_stats(a->hooks);
	const struct vg_control_stats *cs = vg_control_stats(a->ctl);
	char *buf = NULL, v[32];
	size_t len = 0, i, alive = 0;
	FILE *f = open_memstream(&buf, &len);
	uint8_t s;
	int r;

	if (f == NULL)
		return NULL;
	for (i = 0; i < a->peers.n; i++)
		alive += vg_peer_alive(&a->peers.p[i], now);
	head(f, "vigil_node_state", "gauge",
	    "1 for the state this node is in, 0 for the others.");
	for (s = 1; s <= VG_ST_MAX; s++)
		fprintf(f, "vigil_node_state{state=\"%s\"} %d\n",
		    vg_state_name(s), el->state == s);
	one(f, "vigil_term", "gauge", "The current term.", (double)el->term);
	one(f, "vigil_active_node_id", "gauge",
	    "The id of the active node as this node knows it; 0 for none.",
	    el->active_id);
	head(f, "vigil_group_state", "gauge",
	    "1 for the state this node is in for the VIP group, 0 for the "
	    "others.");
	for (i = 0; i < a->n_groups; i++)
		for (s = 1; s <= VG_ST_MAX; s++)
			fprintf(f, "vigil_group_state{group=\"%s\",state=\"%s\"} "
			    "%d\n", a->conf->groups[i].name, vg_state_name(s),
			    a->el[i].state == s);
	head(f, "vigil_group_term", "gauge", "The VIP group's current term.");
	for (i = 0; i < a->n_groups; i++)
		fprintf(f, "vigil_group_term{group=\"%s\"} %llu\n",
		    a->conf->groups[i].name,
		    (unsigned long long)a->el[i].term);
	head(f, "vigil_group_active_node_id", "gauge",
	    "The id of the VIP group's active node as this node knows it; 0 "
	    "for none.");
	for (i = 0; i < a->n_groups; i++)
		fprintf(f, "vigil_group_active_node_id{group=\"%s\"} %u\n",
		    a->conf->groups[i].name, a->el[i].active_id);
	one(f, "vigil_vips_held", "gauge",
	    "1 if the keeper reports the VIPs on this node's links.",
	    vg_hold_stats(a->hold).held);
	secs(f, "vigil_lease_remaining_seconds",
	    "Seconds the active's lease has to run; 0 if not active.",
	    el->state == VG_ST_ACTIVE && el->lease_deadline > now ?
	    el->lease_deadline - now : 0);
	one(f, "vigil_quorum_votes_needed", "gauge", "Votes needed for a quorum.",
	    el->quorum);
	one(f, "vigil_quorum_votes_seen", "gauge",
	    "Votes of the nodes heard within dead_time, this one included.",
	    vg_el_votes_seen(el, now));
	one(f, "vigil_peers_alive", "gauge", "Peers heard within dead_time.",
	    (double)alive);
	head(f, "vigil_peer_up", "gauge", "1 if the peer is alive.");
	for (i = 0; i < a->peers.n; i++)
		fprintf(f, "vigil_peer_up{peer=\"%s\"} %d\n", a->peers.p[i].name,
		    vg_peer_alive(&a->peers.p[i], now));
	head(f, "vigil_peer_config_agrees", "gauge",
	    "1 if the peer's last message carried this node's safety digest "
	    "(its votes and echoes count); 1 until it is heard.");
	for (i = 0; i < a->peers.n; i++) {
		const struct vg_el_node *en = vg_el_node_of(el,
		    a->peers.p[i].id);

		fprintf(f, "vigil_peer_config_agrees{peer=\"%s\"} %d\n",
		    a->peers.p[i].name, en == NULL || en->agrees);
	}
	one(f, "vigil_config_epoch", "gauge",
	    "The epoch of the configuration this node runs.",
	    (double)a->conf->epoch);
	head(f, "vigil_peer_config_epoch", "gauge",
	    "The configuration epoch in the peer's last message (peers heard "
	    "in wire version 2 only).");
	for (i = 0; i < a->peers.n; i++) {
		const struct vg_peer *p = &a->peers.p[i];

		if (p->ever_seen && p->last.version >= 2)
			fprintf(f, "vigil_peer_config_epoch{peer=\"%s\"} %u\n",
			    p->name, p->last.epoch);
	}
	head(f, "vigil_peer_config_same", "gauge",
	    "1 if the peer runs this node's epoch and cluster-wide settings "
	    "(the same digest); peers heard in wire version 2 only.");
	for (i = 0; i < a->peers.n; i++) {
		const struct vg_peer *p = &a->peers.p[i];

		if (p->ever_seen && p->last.version >= 2)
			fprintf(f, "vigil_peer_config_same{peer=\"%s\"} %d\n",
			    p->name, p->last.epoch == a->conf->epoch &&
			    p->last.conf_digest == a->conf->digest);
	}
	head(f, "vigil_peer_rtt_seconds", "gauge",
	    "Smoothed round trip to the peer.");
	for (i = 0; i < a->peers.n; i++)
		if (a->peers.p[i].rtt_valid)
			fprintf(f, "vigil_peer_rtt_seconds{peer=\"%s\"} %s\n",
			    a->peers.p[i].name, vg_metrics_seconds(v, sizeof(v),
			    a->peers.p[i].srtt));
	head(f, "vigil_peer_lost_total", "counter",
	    "Messages from the peer that never arrived (seq gaps).");
	for (i = 0; i < a->peers.n; i++)
		fprintf(f, "vigil_peer_lost_total{peer=\"%s\"} %llu\n",
		    a->peers.p[i].name, (unsigned long long)a->peers.p[i].lost);
	one(f, "vigil_packets_sent_total", "counter", "Datagrams sent.",
	    (double)a->stats.tx_packets);
	one(f, "vigil_send_errors_total", "counter", "Datagrams that failed to go.",
	    (double)a->stats.tx_errors);
	one(f, "vigil_packets_received_total", "counter", "Datagrams received.",
	    (double)a->stats.rx_packets);
	one(f, "vigil_packets_accepted_total", "counter",
	    "Datagrams that passed every check.", (double)a->rx.accepted);
	one(f, "vigil_packets_waited_total", "counter",
	    "Datagrams an active read at its next wake-up, not on arrival.",
	    (double)a->stats.rx_waited);
	one(f, "vigil_packets_lazy_total", "counter",
	    "Datagrams read from the socket of heartbeats that can wait.",
	    (double)a->stats.rx_lazy);
	head(f, "vigil_packets_dropped_total", "counter",
	    "Datagrams dropped, by reason.");
	for (r = 1; r < VG_DROP_MAX; r++)
		fprintf(f, "vigil_packets_dropped_total{reason=\"%s\"} %llu\n",
		    vg_drop_name((enum vg_drop)r),
		    (unsigned long long)a->rx.drops[r]);
	head(f, "vigil_auth_accepted_total", "counter",
	    "Datagrams accepted, by the key that verified their MAC.");
	for (r = 0; r < VG_KEY_SLOTS; r++)
		fprintf(f, "vigil_auth_accepted_total{key=\"%s\"} %llu\n",
		    vg_key_slot_name((enum vg_key_slot)r),
		    (unsigned long long)a->rx.key_accepted[r]);
	head(f, "vigil_auth_dropped_total", "counter",
	    "Datagrams whose MAC a key verified, dropped by a later check "
	    "(replay), by that key.");
	for (r = 0; r < VG_KEY_SLOTS; r++)
		fprintf(f, "vigil_auth_dropped_total{key=\"%s\"} %llu\n",
		    vg_key_slot_name((enum vg_key_slot)r),
		    (unsigned long long)a->rx.key_drops[r]);
	head(f, "vigil_auth_key_configured", "gauge",
	    "1 for each key slot that holds a key.");
	for (r = 0; r < VG_KEY_SLOTS; r++)
		fprintf(f, "vigil_auth_key_configured{key=\"%s\"} %d\n",
		    vg_key_slot_name((enum vg_key_slot)r),
		    vg_auth_has(&a->auth, (enum vg_key_slot)r));
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
	one(f, "vigil_election_echoes_ignored_total", "counter",
	    "Echoes not counted toward this node's lease: the peer's safety "
	    "digest differs.", (double)el->st.echoes_ignored);
	one(f, "vigil_election_votes_ignored_total", "counter",
	    "Granted votes not counted: the voter's safety digest differs.",
	    (double)el->st.votes_ignored);
	one(f, "vigil_terms_refused_total", "counter",
	    "Messages dropped for a term at or above 2^63-1.",
	    (double)el->st.terms_refused);
	one(f, "vigil_lease_lapses_total", "counter",
	    "Times this node's lease ran out while active.",
	    (double)el->st.lease_lapses);
	one(f, "vigil_step_downs_total", "counter",
	    "Times this node left the active state.", (double)el->st.step_downs);
	secs(f, "vigil_last_failover_seconds",
	    "From the last heartbeat of the previous active to this node "
	    "holding the VIPs, at its last take-over.", a->last_failover);
	one(f, "vigil_keeper_starts_total", "counter",
	    "Keeper processes started (1 + restarts).", (double)vg_hold_stats(a->hold).keeper_starts);
	one(f, "vigil_keeper_lease_messages_total", "counter",
	    "Leases handed to the keeper by a message (a new lease, or one "
	    "whose VIPs it has not added yet).",
	    (double)vg_hold_stats(a->hold).renewals_sent);
	one(f, "vigil_keeper_lease_stores_total", "counter",
	    "Lease renewals stored in the page shared with the keeper (no "
	    "message, no wake-up).", (double)vg_hold_stats(a->hold).renewals_shared);
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
	one(f, "vigil_realtime", "gauge",
	    "1 if the agent runs at its real-time priority (realtime_priority).",
	    a->rt.realtime);
	one(f, "vigil_log_lines_dropped_total", "counter",
	    "Log lines dropped because their sink was full (never waited for).",
	    (double)log_dropped());
	one(f, "vigil_heartbeats_late_total", "counter",
	    "Heartbeat rounds skipped because the loop fell behind.",
	    (double)a->stats.hb_late);
	hist(f, "vigil_loop_iteration_seconds",
	    "Time one event-loop iteration took (its work, not its wait).",
	    &a->stats.iteration);
	hist(f, "vigil_timer_wakeup_late_seconds",
	    "How late the loop's timer fired after its deadline.",
	    &a->stats.wakeup);
	secs(f, "vigil_uptime_seconds", "Seconds since this agent started.",
	    now - a->started);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- exporters */

/*
 * At most this many connections a second are accepted; past it the
 * listener is not looked at for a second (the kernel's backlog waits, or
 * refuses).  The endpoint runs on the agent's real-time loop: a flood of
 * short connections kept it from sleeping until RLIMIT_RTTIME demoted it
 * for good.  A scrape is one connection every few seconds.
 */
#define METRICS_ACCEPTS_PER_S	50

struct vg_metrics_export {
	struct ev_loop		*loop;
	struct vg_agent		*agent;
	struct MHD_Daemon	*mhd;
	ev_io			mhd_io;
	ev_timer		mhd_timer;
	ev_timer		textfile;
	ev_timer		pause;		/* not listening, after a flood */
	uint64_t		requests;
	vg_ns			window;		/* this second's start */
	unsigned		accepts;	/* in it */
	int			flooded;	/* one was refused: pause */
	uint64_t		refused;
	struct vg_ratelimit	rl;		/* its warning: once a minute */
	char			textfile_path[VG_PATH_MAX];	/* removed at
						 * the stop: no stale values
						 * for a stopped agent */
};

static enum MHD_Result
accept_policy(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct vg_metrics_export *x = cls;
	vg_ns now = vg_now();

	(void)addr;
	(void)len;
	if (now - x->window >= VG_NS_PER_S) {
		x->window = now;
		x->accepts = 0;
	}
	if (++x->accepts <= METRICS_ACCEPTS_PER_S)
		return MHD_YES;
	x->flooded = 1;
	x->refused++;
	return MHD_NO;
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **con_cls)
{
	struct vg_metrics_export *x = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	unsigned code = MHD_HTTP_OK;
	char *text = NULL;
	static char not_found[] = "not found: try /metrics\n";
	static char bad_method[] = "only GET\n";

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)con_cls;
	x->requests++;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
		r = MHD_create_response_from_buffer(strlen(bad_method),
		    bad_method, MHD_RESPMEM_PERSISTENT);
	} else if (strcmp(url, "/metrics") != 0) {
		code = MHD_HTTP_NOT_FOUND;
		r = MHD_create_response_from_buffer(strlen(not_found),
		    not_found, MHD_RESPMEM_PERSISTENT);
	} else {
		if ((text = vg_metrics_text(x->agent, vg_now())) == NULL)
			return MHD_NO;
		r = MHD_create_response_from_buffer(strlen(text), text,
		    MHD_RESPMEM_MUST_FREE);
		if (r != NULL)
			MHD_add_response_header(r, "Content-Type",
			    "text/plain; version=0.0.4; charset=utf-8");
	}
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static void
mhd_arm(struct vg_metrics_export *x)
{
	MHD_UNSIGNED_LONG_LONG ms;

	ev_timer_stop(x->loop, &x->mhd_timer);
	if (MHD_get_timeout(x->mhd, &ms) == MHD_YES) {
		ev_timer_set(&x->mhd_timer, (double)ms / 1000.0, 0.);
		ev_timer_start(x->loop, &x->mhd_timer);
	}
}

/* readable or its timeout: either way MHD does what is due, then re-arm */
static void
mhd_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vg_metrics_export *x = w->data;
	uint64_t sup;

	(void)revents;
	MHD_run(x->mhd);
	if (x->flooded) {
		x->flooded = 0;
		ev_io_stop(loop, &x->mhd_io);
		ev_timer_stop(loop, &x->mhd_timer);
		ev_timer_set(&x->pause, 1., 0.);
		ev_timer_start(loop, &x->pause);
		if (vg_ratelimit_ok(&x->rl, vg_now(), &sup))
			log_warnx("metrics: more than %d connections in a "
			    "second (%llu refused so far); the listener rests "
			    "a second at a time", METRICS_ACCEPTS_PER_S,
			    (unsigned long long)x->refused);
		return;
	}
	mhd_arm(x);
}

static void
pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vg_metrics_export *x = w->data;

	(void)revents;
	ev_io_start(loop, &x->mhd_io);
	mhd_arm(x);
}

static void
mhd_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	mhd_io_cb(loop, &((struct vg_metrics_export *)w->data)->mhd_io, revents);
}

static void
textfile_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vg_metrics_export *x = w->data;
	const char *path = x->agent->conf->metrics.textfile;
	const char *slash = strrchr(path, '/');
	char dir[VG_PATH_MAX], err[256], *text;

	(void)loop;
	(void)revents;
	if (slash == NULL || (size_t)(slash - path) >= sizeof(dir))
		return;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if ((text = vg_metrics_text(x->agent, vg_now())) == NULL)
		return;
	/* node_exporter reads *.prom: the temp file is a dot file; whole
	 * but not fsynced (on the loop: an fsync under a busy disk took
	 * longer than dead_time), readable by node_exporter's user */
	if (vg_statedir_publish(dir[0] ? dir : "/", slash + 1, text,
	    strlen(text), err, sizeof(err)) == -1)
		log_warnx("metrics textfile: %s", err);
	free(text);
}

struct vg_metrics_export *
vg_metrics_export_start(struct ev_loop *loop, struct vg_agent *a, char *err,
    size_t errlen)
{
	const struct vg_conf *c = a->conf;
	struct vg_metrics_export *x;
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	socklen_t sl;

	if (c->metrics.listen[0] == '\0' && c->metrics.textfile[0] == '\0')
		return NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x->loop = loop;
	x->agent = a;
	x->rl = (struct vg_ratelimit)VG_RATELIMIT_INIT(60 * VG_NS_PER_S, 1);
	if (c->metrics.listen[0] != '\0') {
		if (vg_conf_parse_hostport(c->metrics.listen, &ss, &sl) == -1) {
			snprintf(err, errlen, "metrics.listen \"%s\" is not "
			    "address:port", c->metrics.listen);
			free(x);
			return NULL;
		}
		x->mhd = MHD_start_daemon(MHD_USE_EPOLL |
		    (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		    0, accept_policy, x, answer, x,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
		    /* one source cannot hold every connection open: 20
		     * half-open ones blocked real scrapes for good */
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)4,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)5,
		    MHD_OPTION_END);
		if (x->mhd == NULL || (info = MHD_get_daemon_info(x->mhd,
		    MHD_DAEMON_INFO_EPOLL_FD)) == NULL) {
			snprintf(err, errlen, "metrics: cannot listen on %s: %s",
			    c->metrics.listen, strerror(errno));
			if (x->mhd != NULL)
				MHD_stop_daemon(x->mhd);
			free(x);
			return NULL;
		}
		ev_io_init(&x->mhd_io, mhd_io_cb, info->epoll_fd, EV_READ);
		ev_init(&x->mhd_timer, mhd_timer_cb);
		ev_init(&x->pause, pause_cb);
		x->mhd_io.data = x->mhd_timer.data = x->pause.data = x;
		ev_io_start(loop, &x->mhd_io);
		mhd_arm(x);
	}
	if (c->metrics.textfile[0] != '\0') {
		snprintf(x->textfile_path, sizeof(x->textfile_path), "%s",
		    c->metrics.textfile);
		ev_timer_init(&x->textfile, textfile_cb, 0.,
		    (double)c->metrics.textfile_interval / 1e9);
		x->textfile.data = x;
		ev_timer_start(loop, &x->textfile);
	}
	return x;
}

void
vg_metrics_export_stop(struct vg_metrics_export *x)
{
	if (x == NULL)
		return;
	if (x->mhd != NULL) {
		ev_io_stop(x->loop, &x->mhd_io);
		ev_timer_stop(x->loop, &x->mhd_timer);
		ev_timer_stop(x->loop, &x->pause);
		MHD_stop_daemon(x->mhd);
	}
	ev_timer_stop(x->loop, &x->textfile);
	/* node_exporter would go on reporting a stopped agent as it was
	 * (active, say); a reload's new exporter writes it again at once */
	if (x->textfile_path[0] != '\0' && unlink(x->textfile_path) == -1 &&
	    errno != ENOENT)
		log_warn("metrics textfile: unlink %s", x->textfile_path);
	free(x);
}
