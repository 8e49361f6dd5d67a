/*
 * vigild: the agent.  Wiring only: options, start-up in a safe order, the
 * libev loop, and carrying out what the pure modules decide (send, log,
 * notify systemd).  The order at start: config -> key -> state_dir lock ->
 * incarnation -> UDP socket -> ctl socket -> READY=1.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "agent.h"
#include "net.h"
#include "statedir.h"

#define VG_VERSION_STRING	"0.1.0"
#define RX_BURST		64	/* datagrams per wake-up, then timers run */

static struct vg_agent	agent;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: vigild [-dt] [-f file] [-n name]\n"
	    "  -f file  configuration (default /etc/vigil/vigil.conf)\n"
	    "  -n name  this node's name in the configuration (default: hostname)\n"
	    "  -t       check the configuration and exit (0 valid, 1 not)\n"
	    "  -d       log at debug level\n"
	    "  -V       print the version\n");
	exit(2);
}

static void
notify_status(struct vg_agent *a)
{
	size_t i, alive = 0;

	for (i = 0; i < a->n_peers; i++)
		alive += a->peers[i].alive;
	sd_notifyf(0, "STATUS=%s, term %llu, %zu/%zu peers alive",
	    vg_state_name(a->state), (unsigned long long)a->term, alive,
	    a->n_peers);
}

/* ---- sending */

static void
send_msg(struct vg_agent *a, struct vg_peer *p, struct vg_msg *m, vg_ns now)
{
	uint8_t buf[VG_MAX_PKT];
	size_t len;
	int e;

	m->cluster_id = a->conf->cluster_id;
	m->sender = a->self->id;
	m->target = p->id;
	m->state = a->state;
	m->priority = a->self->priority;
	m->term = a->term;
	m->incarnation = a->incarnation;
	m->active = a->active;
	m->config_digest = a->conf->digest;
	m->seq = vg_peer_next_seq(p, now);
	if ((len = vg_proto_encode(m, buf, sizeof(buf))) == 0)
		fatalx("cannot encode a %s", vg_msg_type_name(m->type));
	vg_auth_sign(&a->auth, buf, len);
	e = vg_net_send(a->sock, buf, len, (struct sockaddr *)&p->sa, p->salen);
	p->tx++;
	a->stats.tx_packets++;
	if (e != 0) {
		/* ENOBUFS, EHOSTUNREACH...: transient, counted not logged */
		p->tx_errors++;
		a->stats.tx_errors++;
	}
}

static void
send_heartbeats(struct vg_agent *a, vg_ns now)
{
	struct vg_msg m;
	size_t i;

	for (i = 0; i < a->n_peers; i++) {
		struct vg_peer *p = &a->peers[i];

		memset(&m, 0, sizeof(m));
		m.type = VG_MSG_HEARTBEAT;
		m.echo_seq = vg_peer_echo_seq(p);
		m.u.hb.echo_delay_us = vg_peer_echo_delay_us(p, now);
		send_msg(a, p, &m, now);
	}
}

/* ---- timers: one libev timer, armed for the earliest deadline */

static void
peer_event(struct vg_agent *a, struct vg_peer *p, enum vg_peer_event ev,
    vg_ns now)
{
	switch (ev) {
	case VG_PEER_EV_UP:
		log_info("peer %s (id %u) is up", p->name, p->id);
		if (p->last.config_digest != a->conf->digest)
			log_warnx("peer %s has config digest %08x, this node "
			    "%08x: the configurations differ", p->name,
			    p->last.config_digest, a->conf->digest);
		break;
	case VG_PEER_EV_DOWN:
		log_info("peer %s (id %u) is dead: silent for %lld ms", p->name,
		    p->id, (long long)((now - p->last_seen) / VG_NS_PER_MS));
		break;
	case VG_PEER_EV_RESTART:
		log_info("peer %s (id %u) restarted (incarnation %llu)",
		    p->name, p->id, (unsigned long long)p->last.incarnation);
		break;
	default:
		return;
	}
	notify_status(a);
}

static void
schedule(struct vg_agent *a)
{
	vg_ns next = a->next_hb, d, now;
	size_t i;

	for (i = 0; i < a->n_peers; i++)
		if ((d = vg_peer_deadline(&a->peers[i])) < next)
			next = d;
	ev_now_update(a->loop);
	now = vg_now();
	ev_timer_stop(a->loop, &a->timer);
	ev_timer_set(&a->timer, next > now ? (double)(next - now) / 1e9 : 0., 0.);
	ev_timer_start(a->loop, &a->timer);
}

static void
run_deadlines(struct vg_agent *a, vg_ns now)
{
	size_t i;

	if (now >= a->next_hb) {
		send_heartbeats(a, now);
		/* On the grid, not "now + interval": no drift.  A loop that
		 * fell behind by whole intervals skips them, it does not burst. */
		a->next_hb += a->conf->interval;
		if (a->next_hb <= now) {
			vg_ns behind = now - a->next_hb;

			a->stats.hb_late += (uint64_t)(behind / a->conf->interval) + 1;
			a->next_hb += (behind / a->conf->interval + 1) *
			    a->conf->interval;
		}
	}
	for (i = 0; i < a->n_peers; i++)
		peer_event(a, &a->peers[i], vg_peer_tick(&a->peers[i], now), now);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vg_agent *a = w->data;

	(void)loop;
	(void)revents;
	run_deadlines(a, vg_now());
	schedule(a);
}

/* ---- receiving */

static void
log_drop(struct vg_agent *a, const struct vg_rx_result *r,
    const struct sockaddr *src, vg_ns now)
{
	char from[INET6_ADDRSTRLEN + 16];
	uint64_t sup;

	if (!vg_ratelimit_ok(&a->rl_drop, now, &sup))
		return;
	vg_sockaddr_fmt(src, from, sizeof(from));
	if (sup > 0)
		log_warnx("dropped a datagram from %s: %s (%llu more dropped "
		    "since the last line)", from, vg_drop_name(r->drop),
		    (unsigned long long)sup);
	else
		log_warnx("dropped a datagram from %s: %s", from,
		    vg_drop_name(r->drop));
}

static void
sock_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vg_agent *a = w->data;
	uint8_t buf[VG_MAX_PKT + 1];
	struct sockaddr_storage src;
	struct vg_rx_result r;
	socklen_t srclen;
	int i, trunc;
	ssize_t n;
	vg_ns now;

	(void)loop;
	(void)revents;
	for (i = 0; i < RX_BURST; i++) {
		n = vg_net_recv(a->sock, buf, sizeof(buf), &src, &srclen, &trunc);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("recv");
			break;
		}
		now = vg_now();
		a->stats.rx_packets++;
		vg_rx_input(&a->rx, buf, (size_t)n, trunc || (size_t)n > VG_MAX_PKT,
		    (struct sockaddr *)&src, srclen, &r);
		if (r.drop != VG_DROP_NONE) {
			log_drop(a, &r, (struct sockaddr *)&src, now);
			continue;
		}
		log_debug("rx %s from %s seq %llu", vg_msg_type_name(r.msg.type),
		    r.peer->name, (unsigned long long)r.msg.seq);
		peer_event(a, r.peer, vg_peer_heard(r.peer, &r.msg, r.gap, now,
		    a->conf->dead_time), now);
	}
	run_deadlines(a, vg_now());
	schedule(a);
}

/* ---- the loop's own health */

static void
prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct vg_agent *a = w->data;
	vg_ns took, now;
	uint64_t sup;

	(void)loop;
	(void)revents;
	if (a->iter_start == 0)
		return;
	now = vg_now();
	took = now - a->iter_start;
	if (took > a->stats.slowest_iteration)
		a->stats.slowest_iteration = took;
	if (took > a->conf->interval / 2) {
		a->stats.slow_iterations++;
		if (vg_ratelimit_ok(&a->rl_slow, now, &sup))
			log_warnx("one loop iteration took %.1f ms (interval "
			    "%lld ms)", (double)took / VG_NS_PER_MS,
			    (long long)(a->conf->interval / VG_NS_PER_MS));
	}
}

static void
check_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	(void)loop;
	(void)revents;
	((struct vg_agent *)w->data)->iter_start = vg_now();
}

static void
watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	sd_notify(0, "WATCHDOG=1");
}

/* ---- signals */

static void
sig_stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	log_info("signal %d: stopping", w->signum);
	sd_notify(0, "STOPPING=1");
	ev_break(loop, EVBREAK_ALL);
}

static void
sig_hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct vg_agent *a = w->data;
	struct vg_errs errs;
	struct vg_conf *nc;
	size_t i;

	(void)loop;
	(void)revents;
	vg_errs_init(&errs);
	nc = vg_conf_load(a->conf->path, a->self->name, &errs);
	if (nc == NULL) {
		for (i = 0; i < errs.n; i++)
			log_warnx("reload refused: %s", errs.msg[i]);
		log_warnx("reload refused: the running configuration is "
		    "unchanged");
		return;
	}
	/* Applying a new configuration as a diff comes with live reload;
	 * until then a valid file is checked and reported, nothing more. */
	log_info("SIGHUP: %s is valid (digest %08x); this version applies a "
	    "changed configuration only at restart", nc->path, nc->digest);
	vg_conf_free(nc);
}

/* ---- control requests */

static json_object *
ctl_handler(void *arg, const struct vg_ctl_request *req,
    const struct vg_ctl_caller *caller, char *err, size_t errlen)
{
	struct vg_agent *a = arg;

	(void)caller;
	switch (req->cmd) {
	case VG_CTL_STATUS:
		return vg_status_json(a, vg_now());
	default:
		snprintf(err, errlen, "command not handled");
		return NULL;
	}
}

/* ---- start-up */

static struct vg_conf *
load_conf(const char *path, const char *name)
{
	struct vg_errs errs;
	struct vg_conf *c;
	size_t i;

	vg_errs_init(&errs);
	c = vg_conf_load(path, name, &errs);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msg[i]);
	if (errs.dropped > 0)
		fprintf(stderr, "%s: %zu more errors not shown\n", path,
		    errs.dropped);
	return c;
}

static void
load_key(struct vg_agent *a)
{
	char err[512];

	if (a->conf->auth == VG_AUTH_NONE) {
		vg_auth_set_none(&a->auth);
		log_warnx("auth = \"none\": heartbeats and votes are not "
		    "authenticated; anyone on the network can take over the "
		    "VIPs (use only in a lab)");
		return;
	}
	if (vg_auth_load_key(&a->auth, a->conf->auth_key_file, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
}

static void
setup_peers(struct vg_agent *a)
{
	const struct vg_conf *c = a->conf;
	size_t i, k = 0;

	a->peers = calloc(c->n_nodes, sizeof(*a->peers));
	if (a->peers == NULL)
		fatal("calloc");
	for (i = 0; i < c->n_nodes; i++)
		if ((int)i != c->self)
			vg_peer_init(&a->peers[k++], &c->nodes[i]);
	a->n_peers = k;
	a->rx.cluster_id = c->cluster_id;
	a->rx.self_id = a->self->id;
	a->rx.auth = &a->auth;
	a->rx.peers = a->peers;
	a->rx.n_peers = a->n_peers;
}

int
main(int argc, char *argv[])
{
	const char *path = "/etc/vigil/vigil.conf", *name = NULL;
	char host[256], err[512];
	int ch, test = 0, debug = 0;
	uint64_t wd_usec;
	struct vg_agent *a = &agent;
	struct vg_conf *c;

	while ((ch = getopt(argc, argv, "df:hn:tV")) != -1) {
		switch (ch) {
		case 'd': debug = 1; break;
		case 'f': path = optarg; break;
		case 'n': name = optarg; break;
		case 't': test = 1; break;
		case 'V': printf("vigild %s\n", VG_VERSION_STRING); return 0;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	log_init(VG_LOG_STDERR, VG_LOG_TEXT, debug ? VG_LOG_DEBUG : VG_LOG_INFO);
	if (name == NULL) {
		if (gethostname(host, sizeof(host)) == -1)
			fatal("gethostname");
		host[sizeof(host) - 1] = '\0';
		name = host;
	}
	if ((c = load_conf(path, name)) == NULL) {
		if (!test)
			fatalx("%s: configuration invalid; not starting", path);
		return 1;
	}
	if (test) {
		if (c->auth == VG_AUTH_HMAC &&
		    vg_auth_load_key(&a->auth, c->auth_key_file, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "%s:%d: %s\n", path,
			    c->auth_key_file_line, err);
			vg_auth_wipe(&a->auth);
			vg_conf_free(c);
			return 1;
		}
		vg_auth_wipe(&a->auth);
		vg_conf_free(c);
		printf("configuration OK\n");
		return 0;
	}

	a->conf = c;
	a->self = &c->nodes[c->self];
	log_init(c->log.target, c->log.format, debug ? VG_LOG_DEBUG : c->log.level);
	log_set_node(a->self->name);
	log_info("vigild %s starting: node %s (id %u) of cluster %s, %zu nodes",
	    VG_VERSION_STRING, a->self->name, a->self->id, c->cluster,
	    c->n_nodes);
	load_key(a);

	if (vg_statedir_prepare(c->state_dir, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if ((a->lock_fd = vg_statedir_lock(c->state_dir, err, sizeof(err))) == -1)
		fatalx("%s", err);
	if (vg_statedir_next_incarnation(c->state_dir, vg_realtime_ms(),
	    &a->incarnation, err, sizeof(err)) == -1)
		fatalx("%s", err);

	a->state = VG_ST_STANDBY;
	a->started = vg_now();
	a->rl_drop = (struct vg_ratelimit)VG_RATELIMIT_INIT(VG_NS_PER_S, 10);
	a->rl_slow = (struct vg_ratelimit)VG_RATELIMIT_INIT(10 * VG_NS_PER_S, 1);
	setup_peers(a);

	a->sock = vg_net_open((const struct sockaddr *)&a->self->sa,
	    a->self->salen, err, sizeof(err));
	if (a->sock == -1)
		fatalx("%s", err);

	signal(SIGPIPE, SIG_IGN);
	if ((a->loop = ev_default_loop(EVFLAG_AUTO | EVFLAG_NOSIGMASK)) == NULL)
		fatalx("cannot start the event loop");
	a->ctl = vg_control_open(a->loop, c->ctl.socket, c->ctl.operator_group,
	    ctl_handler, a, err, sizeof(err));
	if (a->ctl == NULL)
		fatalx("%s", err);

	ev_io_init(&a->sock_w, sock_cb, a->sock, EV_READ);
	ev_init(&a->timer, timer_cb);
	ev_prepare_init(&a->prep, prepare_cb);
	ev_check_init(&a->check, check_cb);
	ev_signal_init(&a->sig_term, sig_stop_cb, SIGTERM);
	ev_signal_init(&a->sig_int, sig_stop_cb, SIGINT);
	ev_signal_init(&a->sig_hup, sig_hup_cb, SIGHUP);
	a->sock_w.data = a->timer.data = a->prep.data = a->check.data = a;
	a->sig_hup.data = a->watchdog.data = a;
	ev_io_start(a->loop, &a->sock_w);
	ev_prepare_start(a->loop, &a->prep);
	ev_check_start(a->loop, &a->check);
	ev_signal_start(a->loop, &a->sig_term);
	ev_signal_start(a->loop, &a->sig_int);
	ev_signal_start(a->loop, &a->sig_hup);
	if (sd_watchdog_enabled(0, &wd_usec) > 0) {
		ev_timer_init(&a->watchdog, watchdog_cb, 0.,
		    (double)wd_usec / 3e6);
		ev_timer_again(a->loop, &a->watchdog);
	}

	a->next_hb = vg_now();		/* the first heartbeat goes at once */
	schedule(a);
	sd_notify(0, "READY=1");
	notify_status(a);
	log_info("ready: listening on %s port %u, ctl %s, incarnation %llu",
	    a->self->address, a->self->port, c->ctl.socket,
	    (unsigned long long)a->incarnation);

	ev_run(a->loop, 0);

	vg_control_close(a->ctl);
	close(a->sock);
	vg_auth_wipe(&a->auth);
	free(a->peers);
	vg_conf_free(a->conf);
	log_info("stopped");
	return 0;
}
