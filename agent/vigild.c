/*
 * vigild: the agent.  Wiring only: options, start-up in a safe order, the
 * libev loop, and carrying out what the pure modules decide (send, persist,
 * hand the lease to the keeper, log, notify systemd).  Start-up order:
 * config -> key -> state_dir lock -> incarnation, term and vote -> UDP
 * socket -> netlink: sweep stale VIPs, read link state -> keeper -> ctl
 * socket -> READY=1.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/rtnetlink.h>
#include <systemd/sd-daemon.h>

#include "agent.h"
#include "caps.h"
#include "child.h"
#include "command.h"
#include "metrics.h"
#include "neigh.h"
#include "net.h"
#include "reload.h"
#include "sdnotify.h"
#include "send.h"
#include "stage.h"
#include "statedir.h"
#include "version.h"

#define RX_BURST		64	/* datagrams per wake-up, then timers run */

static struct vg_agent	agent;
static struct vg_net_rx	rx_batch;
static struct vg_net_tx	tx_batch;

static void	run_acts(struct vg_agent *, struct vg_acts *, vg_ns);
static void	schedule(struct vg_agent *);
static int	reload(struct vg_agent *, int, struct vg_errs *, char *, size_t);

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: vigild [-dt] [--release] [-f file] [-n name]\n"
	    "  -f file    configuration (default /etc/vigil/vigil.conf)\n"
	    "  -n name    this node's name in the configuration (default: hostname)\n"
	    "  -t         check the configuration and exit (0 valid, 1 not)\n"
	    "  --release  remove this configuration's VIPs from every link, exit\n"
	    "  -d         log at debug level\n"
	    "  -V, --version  print the version\n"
	    "  -h, --help     this text\n");
	exit(status);
}

/*
 * The votes of the actions from `from` on, durable before any of them
 * leaves: "vote" for a file without groups (as before groups); with, every
 * group's in state_dir/votes, the list's later votes written with the
 * first (earlier than their turn, never later: a term only grows), so that
 * one event's votes in several groups cost one fsync.
 */
static void
persist_votes(struct vg_agent *a, const struct vg_acts *acts, size_t from)
{
	const struct vg_conf *c = a->conf;
	const char *names[VG_MAX_GROUPS];
	char err[256];
	const struct vg_act *x = &acts->a[from];
	size_t i, g;

	if (c->groups_line == 0) {
		if (vg_statedir_write_vote(c->state_dir, "vote", x->term,
		    x->voted_for, err, sizeof(err)) == -1)
			fatalx("cannot persist term %llu and vote: %s",
			    (unsigned long long)x->term, err);
		return;
	}
	for (i = from; i < acts->n; i++)
		if (acts->a[i].type == VG_ACT_PERSIST) {
			a->vote_term[acts->a[i].group] = acts->a[i].term;
			a->vote_for[acts->a[i].group] = acts->a[i].voted_for;
		}
	for (g = 0; g < a->n_groups; g++)
		names[g] = c->groups[g].name;
	if (vg_statedir_write_votes(c->state_dir, names, a->n_groups,
	    a->vote_term, a->vote_for, err, sizeof(err)) == -1)
		fatalx("cannot persist the groups' terms and votes: %s", err);
}

/* "group web: " for a log line, "" in a file without groups. */
static void
group_label(const struct vg_agent *a, size_t g, char *buf, size_t len)
{
	if (a->conf->groups_line == 0)
		buf[0] = '\0';
	else
		snprintf(buf, len, "group %s: ", a->conf->groups[g].name);
}

static void
notify_status(struct vg_agent *a)
{
	size_t i, alive = 0;

	log_set_state(vg_state_name(a->el[0].state),
	    (unsigned long long)a->el[0].term);
	for (i = 0; i < a->peers.n; i++)
		alive += (size_t)vg_peer_alive(&a->peers.p[i], vg_now());
	vg_sd_notifyf("STATUS=%s, term %llu, active %u, %zu/%zu peers alive%s",
	    vg_state_name(a->el[0].state), (unsigned long long)a->el[0].term,
	    a->el[0].active_id, alive, a->peers.n,
	    vg_hold_stats(a->hold).held ? ", VIPs held" : "");
}

/* ---- the VIPs: hold.c reports, the election hears of it */

static void
hold_event(void *arg, const struct vg_hold_event *e)
{
	struct vg_agent *a = arg;
	struct vg_acts acts = { .n = 0 };
	char label[VG_GROUP_NAME_MAX + 12];
	vg_ns now = vg_now();
	size_t g;

	switch (e->type) {
	case VG_HOLD_ADDED:
		a->last_failover = now - a->el[e->group].last_active_hb;
		group_label(a, e->group, label, sizeof(label));
		vg_agent_event(a, VG_EV_VIPS, "%sVIPs added (term %llu)",
		    label, (unsigned long long)e->term);
		break;
	case VG_HOLD_ADD_FAILED:
		break;
	case VG_HOLD_REMOVED:
		group_label(a, e->group, label, sizeof(label));
		if (e->was_held)
			vg_agent_event(a, e->lease_out ? VG_EV_LEASE :
			    VG_EV_VIPS, "%sVIPs removed%s", label, e->lease_out ?
			    ": the lease ran out" : "");
		break;
	case VG_HOLD_KEEPER_LOST:
		/* the VIPs are off (or could not be): step down, RELEASE */
		for (g = 0; g < a->n_groups; g++)
			vg_el_keeper_lost(&a->el[g], now, &acts);
		run_acts(a, &acts, now);
		return;
	}
	notify_status(a);
}

static void
hook_done(void *arg, const struct vg_hook_job *j, const char *path, int st,
    int timed_out)
{
	struct vg_agent *a = arg;

	if (timed_out)
		vg_agent_event(a, VG_EV_HOOK, "%s %s: killed after script_timeout",
		    path, vg_state_name(j->ev.state));
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		vg_agent_event(a, VG_EV_HOOK, "%s %s: ok", path,
		    vg_state_name(j->ev.state));
	else
		vg_agent_event(a, VG_EV_HOOK, "%s %s: failed (%s %d)", path,
		    vg_state_name(j->ev.state), WIFEXITED(st) ? "exit" : "signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

/* The keeper: the one child of the agent that no script sweep may kill. */
static int
is_keeper(void *arg, pid_t pid)
{
	struct vg_agent *a = arg;

	return a->hold != NULL && pid == vg_hold_stats(a->hold).keeper_pid;
}

/* ---- hooks: the state file and the notify scripts follow every change */

static void
state_changed(struct vg_agent *a, size_t g, uint8_t prev, uint8_t state,
    const char *why)
{
	struct vg_hook_event ev;
	const struct vg_conf_node *n;

	memset(&ev, 0, sizeof(ev));
	ev.seq = ++a->changes;
	ev.state = state;
	ev.prev = prev;
	ev.term = a->el[g].term;
	ev.active_id = a->el[g].active_id;
	if ((n = vg_conf_node_by_id(a->conf, ev.active_id)) != NULL)
		snprintf(ev.active, sizeof(ev.active), "%s", n->name);
	snprintf(ev.reason, sizeof(ev.reason), "%s", why);
	ev.time_ms = vg_realtime_ms();
	ev.group = (uint8_t)g;
	vg_hooks_state_change(a->hooks, &ev);
}

/* ---- carrying out the election's decisions, in order */

static void
run_acts(struct vg_agent *a, struct vg_acts *acts, vg_ns now)
{
	char label[VG_GROUP_NAME_MAX + 12];
	size_t i, pass;
	int persisted = 0;

	/*
	 * Two passes: what the protocol needs (VIPs, lease, persist, send)
	 * in order first; then the state changes, whose state file is
	 * fsync'd and whose scripts are forked: they follow, they must not
	 * hold up a vote or a take-over.
	 */
	for (pass = 0; pass < 2; pass++)
	for (i = 0; i <= acts->n; i++) {
		const struct vg_act *x = &acts->a[i];

		/* the protocol's sends leave before the state changes' work */
		if (i == acts->n) {
			vg_send_flush(a);
			break;
		}
		if ((x->type == VG_ACT_STATE) != (pass == 1))
			continue;

		switch (x->type) {
		case VG_ACT_VIPS_OFF:
			/* not acked: nothing that lets the peers act may leave
			 * (RELEASE, TRANSFER, a vote); rule (0) refuses votes
			 * until a later removal succeeds */
			if (vg_hold_off(a->hold, x->group) == -1)
				vg_el_vips_unconfirmed(&a->el[x->group], acts,
				    i + 1);
			break;
		case VG_ACT_LEASE:
			(void)vg_hold_lease(a->hold, x->group, x->term,
			    x->deadline);
			break;
		case VG_ACT_PERSIST:
			/* durable before the VOTE (or anything else) leaves;
			 * with groups, the list's every vote at the first */
			if (a->conf->groups_line == 0 || !persisted) {
				persist_votes(a, acts, i);
				persisted = 1;
			}
			break;
		case VG_ACT_SEND:
			vg_send_act(a, x, now);
			break;
		case VG_ACT_STATE:
			group_label(a, x->group, label, sizeof(label));
			log_info("%sstate %s -> %s: %s (term %llu)", label,
			    vg_state_name(x->old_state),
			    vg_state_name(x->new_state), x->why,
			    (unsigned long long)a->el[x->group].term);
			vg_agent_event(a, x->new_state == VG_ST_ACTIVE ||
			    x->old_state == VG_ST_ACTIVE ? VG_EV_ELECTION :
			    VG_EV_STATE, "%s%s -> %s: %s (term %llu)", label,
			    vg_state_name(x->old_state),
			    vg_state_name(x->new_state), x->why,
			    (unsigned long long)a->el[x->group].term);
			state_changed(a, x->group, x->old_state, x->new_state,
			    x->why);
			notify_status(a);
			break;
		}
	}
	vg_send_flush(a);
	acts->n = 0;
}

/* ---- timers: one libev timer, armed for the earliest deadline */

/* A peer's safety digest is not ours: say which parts differ, if its hint
 * tells, and what that costs. */
/* A peer's safety digest counts (ours; in a joint move J's and C''s). */
static int
agrees(const struct vg_agent *a, uint32_t digest)
{
	return digest == a->el[0].digest ||
	    (a->el[0].digest_alt != 0 && digest == a->el[0].digest_alt);
}

static void
disagree_log(struct vg_agent *a, const struct vg_peer *p, const char *verb)
{
	char parts[64];

	log_peer(VG_LOG_WARNING, p->name, "peer %s %s safety digest %08x, this "
	    "node %08x: the configurations differ (%s); its votes and echoes "
	    "are not counted until they agree", p->name, verb,
	    p->last.config_digest, a->el[0].digest,
	    vg_conf_parts_str(vg_conf_parts_differ(a->conf,
	    p->last.digest_parts), parts, sizeof(parts)));
	vg_agent_event(a, VG_EV_PEER, "peer %s: configuration differs (%s)",
	    p->name, parts);
}

static void
peer_event(struct vg_agent *a, struct vg_peer *p, enum vg_peer_event ev,
    vg_ns now)
{
	switch (ev) {
	case VG_PEER_EV_UP:
		log_peer(VG_LOG_INFO, p->name, "peer %s (id %u) is up", p->name,
		    p->id);
		vg_agent_event(a, VG_EV_PEER, "peer %s is up", p->name);
		if (!agrees(a, p->last.config_digest))
			disagree_log(a, p, "has");
		break;
	case VG_PEER_EV_DOWN:
		log_peer(VG_LOG_INFO, p->name, "peer %s (id %u) is dead: silent "
		    "for %lld ms", p->name, p->id,
		    (long long)((now - p->last_seen) / VG_NS_PER_MS));
		vg_agent_event(a, VG_EV_PEER, "peer %s is dead", p->name);
		break;
	case VG_PEER_EV_RESTART:
		log_peer(VG_LOG_INFO, p->name, "peer %s (id %u) restarted "
		    "(incarnation %llu)", p->name, p->id,
		    (unsigned long long)p->last.incarnation);
		vg_agent_event(a, VG_EV_PEER, "peer %s restarted", p->name);
		break;
	default:
		return;
	}
	notify_status(a);
}

/*
 * The deadline timer is a timerfd on VG_CLOCK, armed at an absolute time:
 * the kernel's high-resolution timer wakes epoll when it is due.  An
 * ev_timer would wait in epoll_wait's milliseconds, rounded up, and never
 * less than one: at h = 5 ms a heartbeat or a lease check up to a fifth
 * of an interval late.
 */
static void
arm(struct vg_agent *a, vg_ns at)
{
	struct itimerspec its;

	if (at == VG_NS_NEVER)
		at = vg_now() + 3600 * VG_NS_PER_S;	/* re-armed long before */
	if (at <= 0)
		at = 1;			/* 0 would disarm it */
	if (at == a->tfd_at)
		return;		/* armed for it already: no system call */
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(at / VG_NS_PER_S);
	its.it_value.tv_nsec = (long)(at % VG_NS_PER_S);
	if (timerfd_settime(a->tfd, TFD_TIMER_ABSTIME, &its, NULL) == -1)
		fatal("timerfd_settime");
	a->tfd_at = at;
}

/*
 * Whether datagrams may wait for the wake-up at `next` (every group's
 * election says so, vg_el_rx_may_wait, given the keeper's removal times,
 * and nothing else this node runs wants its answers at once: a command, a
 * push, a joint move, a key rotation, or a read that stopped at RX_BURST).
 */
static int
rx_may_wait(const struct vg_agent *a, vg_ns next)
{
	vg_ns del;
	size_t g;

	if (a->rx_more || a->pending.on || a->jconf != NULL ||
	    a->keyrot.step != 0 || vg_pushrun_busy(&a->push) ||
	    vg_pushrun_catching_up(&a->push) || next == VG_NS_NEVER)
		return 0;
	del = vg_hold_del(a->hold);
	for (g = 0; g < a->n_groups; g++)
		if (!vg_el_rx_may_wait(&a->el[g], next, del, a->hb_sent))
			return 0;
	return 1;
}

/*
 * Before the loop sleeps, whatever ran: the socket leaves the set that
 * wakes the loop while datagrams may wait for the timer, and is back in
 * it otherwise.  The set is an epoll of its own (rx_ep), which sock_w
 * watches: ev_io_stop would leave the socket in libev's epoll until it
 * next woke it for nothing, and this changes twice an interval.
 */
static void
rx_watch(struct vg_agent *a)
{
	struct epoll_event ev;
	int wait = rx_may_wait(a, a->timer_due);

	if (wait == a->rx_wait)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	if (epoll_ctl(a->rx_ep, wait ? EPOLL_CTL_DEL : EPOLL_CTL_ADD, a->sock,
	    &ev) == -1) {
		log_warn("epoll_ctl");
		return;		/* as it was: tried again next time */
	}
	a->rx_wait = wait;
}

static void
schedule(struct vg_agent *a)
{
	vg_ns next = a->next_hb, d, now = vg_now();
	size_t i;

	if (a->pending.on && a->pending.deadline < next)
		next = a->pending.deadline;
	for (i = 0; i < a->peers.n; i++)
		if ((d = vg_peer_deadline(&a->peers.p[i])) < next)
			next = d;
	for (i = 0; i < a->n_groups; i++)
		if ((d = vg_el_deadline(&a->el[i], now)) < next)
			next = d;
	a->timer_due = next;
	arm(a, next > now ? next : now);
}

static void
run_deadlines(struct vg_agent *a, vg_ns now)
{
	struct vg_acts acts;	/* not zeroed: 10 kB a wake-up; act() fills */
	json_object *r;
	uint64_t client;
	size_t i, g;

	acts.n = 0;

	/* a removal that could not be confirmed is tried again; until it
	 * succeeds (or the kernel's lifetime ran out on them) our heartbeats
	 * say so, and the peers give no vote to another candidate */
	for (g = 0; g < a->n_groups; g++) {
		if (vg_hold_unconfirmed(a->hold, g) &&
		    a->el[g].state != VG_ST_ACTIVE &&
		    (vg_hold_off(a->hold, g) == 0 ||
		    vg_hold_expired(a->hold, g, now)))
			vg_el_vips_off(&a->el[g]);
		vg_el_tick(&a->el[g], now, &acts);
		run_acts(a, &acts, now);
	}
	if ((r = vg_cmd_pending(a, now, &client)) != NULL) {
		vg_control_answer(a->ctl, client, r);
		json_object_put(r);
	}
	if (now >= a->next_hb) {
		a->hb_sent = now;	/* the lease of a round echoed: t_q */
		/* one heartbeat to a peer carries every group */
		for (i = 0; i < a->peers.n; i++)
			for (g = 0; g < a->n_groups; g++)
				if (vg_el_hb_due(&a->el[g], a->peers.p[i].id)) {
					vg_send_heartbeat(a, &a->peers.p[i],
					    0, now);
					break;
				}
		vg_send_flush(a);
		for (g = 0; g < a->n_groups; g++)
			vg_el_grid_done(&a->el[g]);
		/* a push's sends after the heartbeats, bounded a round */
		vg_stage_round(a, now);
		/* On the grid, not "now + interval": no drift.  A loop that
		 * fell behind by whole intervals skips them, it does not burst. */
		a->next_hb += a->el[0].h;	/* J: the shorter of C's and C''s */
		if (a->next_hb <= now) {
			vg_ns behind = now - a->next_hb, h = a->el[0].h;

			a->stats.hb_late += (uint64_t)(behind / h) + 1;
			a->next_hb += (behind / h + 1) * h;
		}
	}
	for (i = 0; i < a->peers.n; i++)
		peer_event(a, &a->peers.p[i], vg_peer_tick(&a->peers.p[i], now), now);
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
update_rtt(struct vg_agent *a)
{
	vg_ns worst = 0, typ = 0;
	size_t i;

	/* the worst round trip of the last window (peer.c): not the largest
	 * sample ever, which one stalled moment would keep high for good */
	for (i = 0; i < a->peers.n; i++)
		if (a->peers.p[i].alive && a->peers.p[i].rtt_valid) {
			if (vg_peer_rtt_bound(&a->peers.p[i]) > worst)
				worst = vg_peer_rtt_bound(&a->peers.p[i]);
			if (a->peers.p[i].srtt > typ)
				typ = a->peers.p[i].srtt;
		}
	for (i = 0; i < a->n_groups; i++)
		vg_el_set_rtt(&a->el[i], worst, typ);
}

/*
 * A heartbeat carries every group's part: when several groups answer one
 * datagram at once (each its echo to the same active), one heartbeat to
 * that peer says it for each (it carries every group's newest echo).  The
 * last one that covers the others stays (a heartbeat to every peer covers
 * one to a peer), after everything the groups persisted; REPLY only if
 * every one is.
 */
static void
one_heartbeat_each(struct vg_acts *acts)
{
	size_t i, j, n = 0;

	for (i = 0; i < acts->n; i++) {
		struct vg_act *x = &acts->a[i];

		if (x->type == VG_ACT_SEND && x->msg_type == VG_MSG_HEARTBEAT) {
			for (j = i + 1; j < acts->n; j++)
				if (acts->a[j].type == VG_ACT_SEND &&
				    acts->a[j].msg_type == VG_MSG_HEARTBEAT &&
				    (acts->a[j].target == x->target ||
				    acts->a[j].target == 0)) {
					/* an answer only if both are: one
					 * that is not gets answered, once */
					if (!(x->flags & VG_FLAG_REPLY))
						acts->a[j].flags &=
						    (uint16_t)~VG_FLAG_REPLY;
					break;
				}
			if (j < acts->n)
				continue;	/* a later one says it */
		}
		acts->a[n++] = *x;
	}
	acts->n = n;
}

/* One datagram through the ordered checks, then to the peer table and
 * the election.  came: when it arrived (the kernel's stamp); heard: when
 * it counts as heard, now, or came for the second socket's (a standby's
 * heartbeat dated as if read on arrival: docs/design.md, "Heartbeats that
 * can wait"). */
static void
rx_one(struct vg_agent *a, const uint8_t *buf, size_t n, int trunc,
    const struct sockaddr *src, socklen_t srclen, vg_ns now, vg_ns came,
    vg_ns heard)
{
	struct vg_rx_result r;
	struct vg_acts acts;	/* not zeroed: 10 kB a datagram; act() fills */
	const struct vg_conf_node *node;
	struct vg_msg v;
	char label[VG_GROUP_NAME_MAX + 12];
	uint32_t digest;
	uint16_t was[VG_MAX_GROUPS];
	size_t g;

	acts.n = 0;
	a->stats.rx_packets++;
	vg_rx_input(&a->rx, buf, n, trunc || n > VG_MAX_DGRAM, src, srclen, &r);
	if (r.drop != VG_DROP_NONE) {
		log_drop(a, &r, src, now);
		return;
	}
	log_debug("rx %s from %s seq %llu term %llu",
	    vg_msg_type_name(r.msg.type), r.peer->name,
	    (unsigned long long)r.msg.seq, (unsigned long long)r.msg.term);
	/* never seen: its "up" says whether it disagrees */
	digest = r.peer->ever_seen ? r.peer->last.config_digest :
	    r.msg.config_digest;
	peer_event(a, r.peer, vg_peer_heard(r.peer, &r.msg, r.gap, heard,
	    came, a->conf->dead_time), now);
	if (r.peer->last.config_digest != digest) {
		if (!agrees(a, r.peer->last.config_digest))
			disagree_log(a, r.peer, "now has");
		else if (agrees(a, digest))
			;	/* J's and C''s during a joint move: both agree */
		else {
			log_peer(VG_LOG_INFO, r.peer->name, "peer %s agrees "
			    "again (safety digest %08x)", r.peer->name,
			    r.peer->last.config_digest);
			vg_agent_event(a, VG_EV_PEER, "peer %s: configuration "
			    "agrees", r.peer->name);
		}
	}
	/* a peer at a higher epoch: this node fetches its file (catch-up) */
	vg_stage_heard(a, r.peer, &r.msg, now);
	/* the push's messages are the push's; the election never sees them */
	if (VG_MSG_IS_PUSH(r.msg.type)) {
		vg_stage_input(a, r.peer, &r.msg, now);
		return;
	}
	update_rtt(a);
	/* each group's election takes its part of the message: a
	 * heartbeat's section, or a vote's, a RELEASE's, a TRANSFER's group;
	 * their actions go in one list (at most 10 each), run once */
	for (g = 0; g < a->n_groups; g++) {
		was[g] = a->el[g].active_id;
		if (vg_msg_group_view(&r.msg, g, &v) == 0)
			vg_el_input_at(&a->el[g], &v,
			    vg_peer_sent_at(r.peer, v.echo_seq), heard, now,
			    &acts);
	}
	one_heartbeat_each(&acts);
	run_acts(a, &acts, now);
	/* on a standby too, the events say who became active */
	for (g = 0; g < a->n_groups; g++) {
		const struct vg_election *el = &a->el[g];

		if (el->active_id == was[g] || el->active_id == 0 ||
		    el->active_id == a->self->id ||
		    (node = vg_conf_node_by_id(a->conf, el->active_id)) == NULL)
			continue;
		group_label(a, g, label, sizeof(label));
		vg_agent_event(a, VG_EV_ELECTION, "%s%s is active (term %llu)",
		    label, node->name, (unsigned long long)el->term);
	}
}

/*
 * When datagram i came, by the kernel's stamp (realtime; off: VG_CLOCK
 * minus it): no earlier than the last read that emptied the socket (a
 * clock step would say otherwise), no later than now.
 */
static vg_ns
came_at(const struct vg_agent *a, unsigned i, vg_ns now, vg_ns off,
    vg_ns read_at)
{
	int64_t st = vg_net_rx_stamp(a->rxb, i);
	vg_ns t;

	if (st < 0)
		return now;
	t = st + off;
	return t > now ? now : t < read_at ? read_at : t;
}

/*
 * Every datagram waiting, a recvmmsg at a time (no closing read that says
 * EAGAIN), up to RX_BURST.  Each is handled at the time it is read (not
 * the time the batch was read): the election's and the peer table's view
 * of who was heard agree.  Its round trip and the echo delay we report
 * count from when it came, by the kernel's stamp: the same on arrival, and
 * true when it waited for a wake-up (rx_wait).  Returns how many.  RX_BURST
 * of them: there may be more, and the socket's watcher runs (rx_may_wait)
 * until a read finds fewer.
 */
static int
rx_drain_fd(struct vg_agent *a, int fd, vg_ns *read_at, int *more)
{
	struct vg_net_rx *rx = a->rxb;
	struct timespec rt;
	vg_ns now, came, off = 0, before, emptied = *read_at;
	int i, n, got = 0, stamped, lazy = fd == a->lazy;

	while (got < RX_BURST) {
		before = vg_now();
		if ((n = vg_net_recv_batch(fd, rx, VG_NET_BATCH)) <= 0) {
			if (n == -1)
				log_warn("recvmmsg");
			else
				emptied = before;
			break;
		}
		if ((stamped = clock_gettime(CLOCK_REALTIME, &rt) == 0))
			off = vg_now() - ((vg_ns)rt.tv_sec * VG_NS_PER_S +
			    rt.tv_nsec);
		for (i = 0; i < n; i++) {
			now = vg_now();
			came = stamped ? came_at(a, (unsigned)i, now, off,
			    *read_at) : now;
			rx_one(a, rx->buf[i], rx->msg[i].msg_len,
			    vg_net_rx_trunc(rx, (unsigned)i),
			    (struct sockaddr *)&rx->src[i],
			    rx->msg[i].msg_hdr.msg_namelen, now, came,
			    lazy ? came : now);
		}
		got += n;
		if (n < VG_NET_BATCH) {
			emptied = before;
			break;
		}
	}
	*read_at = emptied;
	*more = got >= RX_BURST;
	return got;
}

/* The node's socket. */
static int
rx_drain(struct vg_agent *a)
{
	int late = a->rx_wait, got;

	got = rx_drain_fd(a, a->sock, &a->rx_read_at, &a->rx_more);
	if (late)
		a->stats.rx_waited += (uint64_t)got;
	return got;
}

/*
 * The socket of heartbeats that can wait (docs/design.md, "Heartbeats that
 * can wait"), at every wake-up, before the node's own: of one sender's
 * datagrams, an older one may wait here while a newer one came there.
 * While a read stops at RX_BURST (a flood steered here), lazy_w wakes the
 * loop until one finds fewer.
 */
static int
rx_drain_lazy(struct vg_agent *a)
{
	int got;

	if (a->lazy == -1)
		return 0;
	got = rx_drain_fd(a, a->lazy, &a->lazy_read_at, &a->lazy_more);
	a->stats.rx_lazy += (uint64_t)got;
	if (a->lazy_more != ev_is_active(&a->lazy_w)) {
		if (a->lazy_more)
			ev_io_start(a->loop, &a->lazy_w);
		else
			ev_io_stop(a->loop, &a->lazy_w);
	}
	return got;
}

/* Woken while a flood waits in the lazy socket: check_cb read it. */
static void
lazy_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vg_agent *a = w->data;

	(void)loop;
	(void)revents;
	run_deadlines(a, vg_now());
	schedule(a);
}

/* Datagrams, then the deadlines. */
static void
sock_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vg_agent *a = w->data;

	(void)loop;
	(void)revents;
	rx_drain(a);
	run_deadlines(a, vg_now());
	schedule(a);
}

static void
timer_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vg_agent *a = w->data;
	vg_ns now = vg_now();

	(void)loop;
	(void)revents;
	/* no read of the expiry count: schedule() below arms it again, and
	 * timerfd_settime clears the count (the fd is no longer readable) */
	a->tfd_at = 0;
	if (a->timer_due != VG_NS_NEVER && now >= a->timer_due)
		vg_hist_add(&a->stats.wakeup, now - a->timer_due);
	run_deadlines(a, now);
	schedule(a);
}

/* ---- links */

/* Links and tracks decide fault and the effective priority. */
static void
health(struct vg_agent *a)
{
	struct vg_acts acts = { .n = 0 };
	const struct vg_conf *c = a->conf;
	char label[VG_GROUP_NAME_MAX + 12];
	vg_ns now = vg_now();
	int track_fault, any = 0;
	uint8_t prio;
	size_t g;

	/* a track counts in the groups that name it; a link down, in all */
	for (g = 0; g < a->n_groups; g++) {
		struct vg_election *el = &a->el[g];

		prio = vg_track_priority(c, g, a->tracks != NULL ?
		    vg_tracks_state(a->tracks) : NULL, &track_fault);
		any |= track_fault;
		vg_el_set_fault(el, a->link_down[0] != '\0' || track_fault,
		    now, &acts);
		if (prio != el->priority) {
			group_label(a, g, label, sizeof(label));
			log_info("%seffective priority %u -> %u", label,
			    el->priority, prio);
			vg_el_set_priority(el, prio, now, &acts);
		}
		run_acts(a, &acts, now);
	}
	a->track_fault = any;
	schedule(a);
}

static void
tracks_changed(void *arg)
{
	health(arg);
}

static void
link_verdict(struct vg_agent *a, int up, const char *bad)
{
	int was = a->link_down[0] != '\0';

	if (up < 0)
		return;
	if (!up)
		snprintf(a->link_down, sizeof(a->link_down), "%s", bad);
	else
		a->link_down[0] = '\0';
	if (was != !up) {
		log_info("interface %s is %s", up ? "(every one followed)" : bad,
		    up ? "up again" : "down: this node is not eligible");
		vg_agent_event(a, VG_EV_STATE, "interface %s is %s",
		    up ? "(every one followed)" : bad, up ? "up" : "down");
	}
	health(a);
}

static void
nl_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vg_agent *a = w->data;
	char bad[IF_NAMESIZE] = "";
	int up[VG_LINK_UP_MAX], n;

	(void)loop;
	(void)revents;
	link_verdict(a, vg_link_read(a->nl, a->conf->links, a->conf->n_links,
	    bad, sizeof(bad)), bad);
	/* the peers' next hops left unresolved while a link was down: probed
	 * now, not at the kernel's next retry up to a second away (neigh.h) */
	if ((n = vg_link_came_up(a->nl, up)) != 0)
		(void)vg_neigh_reprime(a->conf->nodes, a->conf->n_nodes,
		    a->conf->self, up, n < 0 ? 0 : (size_t)n);
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
	if (a->rx_read) {	/* check_cb read: its deadlines */
		a->rx_read = 0;
		schedule(a);
	}
	rx_watch(a);
	if (a->iter_start == 0)
		return;
	now = vg_now();
	took = now - a->iter_start;
	vg_hist_add(&a->stats.iteration, took);
	if (vg_rt_demoted() && a->rt.realtime) {
		a->rt.realtime = 0;
		snprintf(a->rt.why, sizeof(a->rt.why), "RLIMIT_RTTIME: a loop "
		    "iteration ran %d ms without sleeping",
		    VG_RT_RTTIME_SOFT_US / 1000);
		log_warnx("real-time scheduling dropped: %s", a->rt.why);
	}
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

/*
 * After the loop woke, before any callback (EV_MAXPRI): the start of the
 * iteration, and what waited in the socket (rx_wait), whatever woke it: the
 * timer's lease check, a ctl command, a keeper event, a link change or a
 * reload then act on the cluster as it is (an echo that renews the lease
 * due now, a peer's last heartbeat, its maintenance, datagrams signed with
 * a key a reload replaces).
 */
static void
check_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	struct vg_agent *a = w->data;

	(void)loop;
	(void)revents;
	a->iter_start = vg_now();
	if (rx_drain_lazy(a) > 0)
		a->rx_read = 1;		/* prepare_cb re-arms, once */
	if (a->rx_wait && rx_drain(a) > 0)
		a->rx_read = 1;
}

static void
watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	(void)vg_sd_notifyf("WATCHDOG=1");
}

/* ---- signals */

static void
sig_stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct vg_agent *a = w->data;
	struct vg_acts acts = { .n = 0 };
	char label[VG_GROUP_NAME_MAX + 12];
	vg_ns now = vg_now();
	size_t g;

	(void)revents;
	log_info("signal %d: stopping", w->signum);
	(void)vg_sd_notifyf("STOPPING=1");
	/* an active hands over: VIPs off (acked), then RELEASE */
	for (g = 0; g < a->n_groups; g++) {
		if (vg_el_handover(&a->el[g], 0, now, &acts) == 0) {
			group_label(a, g, label, sizeof(label));
			log_info("%shanding over: the VIPs go, RELEASE(%llu) "
			    "is sent", label, (unsigned long long)a->el[g].term);
		}
		run_acts(a, &acts, now);
	}
	vg_hold_stop(a->hold);
	ev_break(loop, EVBREAK_ALL);
}

static void
sig_hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct vg_agent *a = w->data;
	struct vg_errs errs;
	char err[512];

	(void)loop;
	(void)revents;
	if (reload(a, 0, &errs, err, sizeof(err)) == -1)
		log_warnx("SIGHUP: %s", err);
	else
		log_info("SIGHUP: %s reloaded (epoch %u, digest %08x, safety "
		    "digest %08x)", a->conf->path, a->conf->epoch,
		    a->conf->digest, a->conf->safety_digest);
}

/* ---- reload: prepare (reload.c), then commit here: pointer swaps */

static int
reload(struct vg_agent *a, int final, struct vg_errs *errs, char *err,
    size_t errlen)
{
	struct vg_acts acts = { .n = 0 };
	struct vg_reload r;
	struct vg_conf *nc;
	struct vg_tracks *tn;
	vg_ns now = vg_now();
	char bad[IF_NAMESIZE];
	size_t i;
	int new_key;

	/* systemd hears of every reload, through SIGHUP or the ctl socket */
	vg_sd_notifyf("RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)(vg_monotonic() / VG_NS_PER_US));
	if (!final && a->jconf != NULL) {
		/* J's peer table and election are the move's until FINAL */
		vg_errs_init(&r.errs);
		snprintf(err, errlen, "this node is in the joint move to epoch "
		    "%u: a reload waits for its end; nothing changed",
		    a->jconf->epoch);
		goto refused;
	}
	if (vg_reload_prepare_moves(&r, a->conf, a->self->name, &a->peers,
	    final, a->commit_catch_up, err, errlen) == -1)
		goto refused;
	/* a new key: the keeper signs its RELEASE with the key it was
	 * forked with, which the peers would drop; a new one takes over */
	new_key = !vg_auth_same(&a->auth, &r.auth);
	/* the checks start again; one that has not changed keeps its state
	 * (the old config lives until vg_reload_done).  Made before the
	 * commit: a reload that cannot make them keeps the old ones (they
	 * were freed, and every check counted up, a node in fault by one
	 * eligible again) */
	if ((tn = vg_tracks_new(a->loop, r.conf, tracks_changed, a,
	    a->tracks)) == NULL) {
		snprintf(err, errlen, "the track checks: out of memory; "
		    "nothing changed");
		vg_reload_done(&r);
		goto refused;
	}
	/* the commit: nothing below can fail; peers keep what was heard */
	vg_reload_swap(&r, &a->conf, &a->auth, &a->peers);	/* rx shares */
	nc = a->conf;
	a->self = &nc->nodes[nc->self];
	vg_send_size_buffer(a);
	for (i = 0; i < a->n_groups; i++)
		if (final)	/* a joint move's end: C' alone (it names us) */
			(void)vg_el_final(&a->el[i], nc, now, &acts);
		else
			vg_el_reconf(&a->el[i], nc, now);
	vg_hooks_set_conf(a->hooks, nc);
	vg_tracks_free(a->tracks);
	a->tracks = tn;
	vg_metrics_export_stop(a->export);
	a->export = vg_metrics_export_start(a->loop, a, err, errlen);
	if (a->export == NULL && (nc->metrics.listen[0] || nc->metrics.textfile[0]))
		log_warnx("reload: %s; metrics not exported", err);
	vg_control_set_groups(a->ctl, nc->ctl.operator_group,
	    nc->ctl.admin_group);
	(void)vg_control_set_viewers(a->ctl, nc->ctl.viewers);
	/* the log as the new config says (target and format too: a reload
	 * that changed them applied nothing, though diff calls them live) */
	log_init(nc->log.target, nc->log.format, nc->log.level);
	vg_hold_reconf(a->hold, nc, r.vips_changed || new_key ||
	    r.timing_changed || r.garp_changed || r.nodes_changed, r.gone,
	    r.n_gone);
	run_acts(a, &acts, now);
	/* the links followed as the new config names them (VIPs' and
	 * track_interfaces), judged afresh: one no longer followed takes
	 * its fault with it, a new one that is down brings one */
	bad[0] = '\0';
	link_verdict(a, vg_link_query(a->nl, nc->links, nc->n_links, bad,
	    sizeof(bad)), bad);
	health(a);
	a->reloads++;
	vg_agent_event(a, VG_EV_CONFIG, "reloaded: epoch %u, digest %08x, "
	    "%zu nodes, %zu VIPs%s", nc->epoch, nc->digest, nc->n_nodes,
	    nc->n_vips, r.vips_changed ?
	    " (VIPs changed: keeper handed over)" : new_key ?
	    " (new key: keeper handed over)" : "");
	vg_reload_done(&r);		/* the old config, key and peers */
	schedule(a);
	(void)vg_sd_notifyf("READY=1");
	notify_status(a);
	return 0;
refused:
	for (i = 0; i < r.errs.n; i++)
		log_warnx("reload: %s", r.errs.msg[i]);
	*errs = r.errs;
	a->reloads_failed++;
	vg_agent_event(a, VG_EV_CONFIG, "reload refused: %s", err);
	(void)vg_sd_notifyf("READY=1");
	notify_status(a);
	return -1;
}

/* A push's commit applies the installed file through the reload path
 * (final: a joint move's FINAL). */
static int
apply_push(struct vg_agent *a, int final, char *err, size_t errlen)
{
	struct vg_acts acts = { .n = 0 };
	struct vg_errs errs;
	vg_ns now = vg_now();
	size_t g;

	if (final == 2) {	/* C' leaves this node out: it releases */
		for (g = 0; g < a->n_groups; g++) {
			(void)vg_el_final(&a->el[g], a->jconf != NULL ?
			    a->jconf : a->push_conf, now, &acts);
			run_acts(a, &acts, now);
		}
		schedule(a);
		return 0;
	}
	return reload(a, final, &errs, err, errlen);
}

/* ---- control requests: command.c decides, the shell carries out */

static json_object *
ctl_handler(void *arg, const struct vg_ctl_request *req,
    struct vg_ctl_caller *caller, char *err, size_t errlen)
{
	struct vg_agent *a = arg;
	struct vg_cmd_out out;
	struct vg_errs errs;
	json_object *r;
	vg_ns now = vg_now();

	r = vg_cmd_run(a, req, caller, now, &out, err, errlen);
	if (out.reload)
		r = vg_cmd_reloaded(a, caller, reload(a, 0, &errs, err, errlen) == 0 ?
		    NULL : &errs, err);
	if (out.acts.n > 0 || caller->defer) {
		run_acts(a, &out.acts, now);
		schedule(a);
	}
	return r;
}

/* ---- start-up */

/*
 * One election per group, each from its term and vote.  A group that
 * state_dir/votes has no line for (a file that just gained `groups`, a
 * group renamed or added, every node stopped) starts one term above any
 * this node kept, in either file, without a vote: it never voted there,
 * and a term never goes back whatever file it is kept in.  So does a file
 * without `groups` when votes holds a higher term than vote (a file that
 * lost `groups`).
 */
static void
init_groups(struct vg_agent *a)
{
	const struct vg_conf *c = a->conf;
	const char *names[VG_MAX_GROUPS];
	char err[512];
	uint64_t term, top;
	uint16_t voted_for;
	int found[VG_MAX_GROUPS];
	size_t g;

	a->n_groups = c->n_groups;
	if (vg_statedir_read_vote(c->state_dir, "vote", &term, &voted_for,
	    err, sizeof(err)) == -1)
		fatalx("%s", err);
	for (g = 0; g < c->n_groups; g++)
		names[g] = c->groups[g].name;
	if (vg_statedir_read_votes(c->state_dir, names, c->n_groups,
	    a->vote_term, a->vote_for, found, &top, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (term > top)
		top = term;
	if (top + 1 >= VG_TERM_LIMIT)
		fatalx("%s: terms as high as %llu: corrupt; refusing to start",
		    c->state_dir, (unsigned long long)top);
	for (g = 0; g < c->n_groups; g++) {
		if (c->groups_line == 0) {
			/* as before groups, unless votes went further */
			a->vote_term[g] = term < top ? top + 1 : term;
			a->vote_for[g] = term < top ? 0 : voted_for;
		} else if (!found[g]) {
			a->vote_term[g] = top + 1;
			a->vote_for[g] = 0;
		}
		vg_el_init_group(&a->el[g], c, g, a->vote_term[g],
		    a->vote_for[g], a->incarnation ^
		    ((uint64_t)getpid() << 32) ^ g, a->started);
		vg_el_set_incarnation(&a->el[g], a->incarnation);
	}
}

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
	int line;

	if (a->conf->auth == VG_AUTH_NONE) {
		vg_auth_set_none(&a->auth);
		log_warnx("auth = \"none\": heartbeats and votes are not "
		    "authenticated; anyone on the network can take over the "
		    "VIPs (use only in a lab)");
		return;
	}
	if (vg_auth_load(&a->auth, a->conf, &line, err, sizeof(err)) == -1)
		fatalx("%s", err);
}

static void
setup_peers(struct vg_agent *a)
{
	const struct vg_conf *c = a->conf;
	const struct vg_peers none = { NULL, 0, 0 };

	if (vg_peers_reconf(&a->peers, &none, c) == -1)
		fatal("calloc");
	a->rx.cluster_id = c->cluster_id;
	a->rx.self_id = a->self->id;
	a->rx.auth = &a->auth;
	a->rx.peers = &a->peers;
}

/* vigild --release: every VIP of the config off every link, then exit. */
static int
release_only(const struct vg_conf *c)
{
	char err[256];
	struct vg_nl *nl = vg_nl_open(0, err, sizeof(err));
	int n;

	if (nl == NULL) {
		fprintf(stderr, "vigild: %s\n", err);
		return 1;
	}
	n = vg_vip_sweep(nl, c->vips, c->n_vips);
	vg_nl_close(nl);
	if (n < 0) {
		fprintf(stderr, "vigild: could not remove every VIP\n");
		return 1;
	}
	printf("removed %d VIP(s)\n", n);
	return 0;
}

/* The agent's own watchers: the socket, links, the deadline timer, the
 * loop's health, signals, systemd's watchdog. */
static void
start_watchers(struct vg_agent *a)
{
	struct epoll_event ev;
	uint64_t wd_usec;

	/* the socket in an epoll of its own, which rx_watch takes it out of
	 * while datagrams may wait (sock_w watches that) */
	if ((a->rx_ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	if (epoll_ctl(a->rx_ep, EPOLL_CTL_ADD, a->sock, &ev) == -1)
		fatal("epoll_ctl");
	ev_io_init(&a->sock_w, sock_cb, a->rx_ep, EV_READ);
	ev_io_init(&a->nl_w, nl_cb, vg_nl_fd(a->nl), EV_READ);
	ev_io_init(&a->lazy_w, lazy_cb, a->lazy, EV_READ);
	a->lazy_w.data = a;
	if ((a->tfd = timerfd_create(VG_CLOCK, TFD_NONBLOCK | TFD_CLOEXEC)) == -1)
		fatal("timerfd_create");
	ev_io_init(&a->timer, timer_cb, a->tfd, EV_READ);
	ev_prepare_init(&a->prep, prepare_cb);
	ev_check_init(&a->check, check_cb);
	ev_set_priority(&a->check, EV_MAXPRI);	/* before every callback */
	ev_signal_init(&a->sig_term, sig_stop_cb, SIGTERM);
	ev_signal_init(&a->sig_int, sig_stop_cb, SIGINT);
	ev_signal_init(&a->sig_hup, sig_hup_cb, SIGHUP);
	a->sock_w.data = a->timer.data = a->prep.data = a->check.data = a;
	a->nl_w.data = a;
	a->sig_term.data = a->sig_int.data = a->sig_hup.data = a;
	a->watchdog.data = a;
	ev_io_start(a->loop, &a->sock_w);
	ev_io_start(a->loop, &a->timer);
	ev_io_start(a->loop, &a->nl_w);
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
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "release", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = "/etc/vigil/vigil.conf", *name = NULL;
	char host[256], err[512], bad[IF_NAMESIZE] = "";
	int ch, test = 0, debug = 0, release = 0, n, up;
	struct vg_agent *a = &agent;
	struct vg_acts acts = { .n = 0 };
	struct sock_filter lazy_insns[VG_PROTO_LAZY_PROG_LEN];
	struct sock_fprog lazy_prog;
	struct vg_conf *c;
	vg_ns last_sent = -1;
	uint64_t prev_inc = 0;
	size_t g;

	while ((ch = getopt_long(argc, argv, "df:hn:tV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': debug = 1; break;
		case 'f': path = optarg; break;
		case 'n': name = optarg; break;
		case 't': test = 1; break;
		case 'R': release = 1; break;
		case 'V': printf("vigild %s\n", VG_RELEASE); return 0;
		case 'h': usage(0);
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	log_init(VG_LOG_STDERR, VG_LOG_TEXT, debug ? VG_LOG_DEBUG : VG_LOG_INFO);
	if (name == NULL) {
		if (gethostname(host, sizeof(host)) == -1)
			fatal("gethostname");
		host[sizeof(host) - 1] = '\0';
		name = host;
	}
	if ((c = load_conf(path, release ? NULL : name)) == NULL) {
		if (!test)
			fatalx("%s: configuration invalid; not starting", path);
		return 1;
	}
	if (release) {
		n = release_only(c);
		vg_conf_free(c);
		return n;
	}
	if (test) {
		if (vg_auth_load(&a->auth, c, &n, err, sizeof(err)) == -1) {
			fprintf(stderr, "%s:%d: %s\n", path, n, err);
			vg_auth_wipe(&a->auth);
			vg_conf_free(c);
			return 1;
		}
		vg_auth_wipe(&a->auth);
		if (c->auth == VG_AUTH_NONE)
			fprintf(stderr, "%s: warning: auth = \"none\": anyone "
			    "who can send to port %u can vote, take the VIPs "
			    "or hold them off; for a lab only\n", path,
			    c->nodes[c->self].port);
		vg_conf_free(c);
		printf("configuration OK\n");
		return 0;
	}

	a->conf = c;
	a->self = &c->nodes[c->self];
	log_init(c->log.target, c->log.format, debug ? VG_LOG_DEBUG : c->log.level);
	log_set_node(a->self->name);
	log_info("vigild %s starting: node %s (id %u, %s) of cluster %s, %zu "
	    "nodes, %zu VIPs", VG_RELEASE, a->self->name, a->self->id,
	    vg_role_name(a->self->role), c->cluster, c->n_nodes, c->n_vips);
	load_key(a);

	if (vg_statedir_prepare(c->state_dir, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if ((a->lock_fd = vg_statedir_lock(c->state_dir, err, sizeof(err))) == -1)
		fatalx("%s", err);
	if (vg_statedir_next_incarnation(c->state_dir, vg_realtime_ms(),
	    &a->incarnation, &prev_inc, err, sizeof(err)) == -1)
		fatalx("%s", err);

	a->started = vg_now();
	if (vg_lastsend_open(&a->lastsend, c->state_dir, a->self->id, prev_inc,
	    a->incarnation, &last_sent, err, sizeof(err)) == -1)
		log_warnx("the last send is not kept across a restart (%s): "
		    "a restart waits dead_time before it votes", err);
	vg_events_init(&a->events);
	a->rl_drop = (struct vg_ratelimit)VG_RATELIMIT_INIT(VG_NS_PER_S, 10);
	a->rl_slow = (struct vg_ratelimit)VG_RATELIMIT_INIT(10 * VG_NS_PER_S, 1);
	setup_peers(a);
	/* a peer counts once it has echoed a seq of this incarnation */
	vg_peers_fresh_start(&a->peers, a->incarnation);
	init_groups(a);

	/* the kernel copies the program: on the stack will do */
	lazy_prog.filter = lazy_insns;
	lazy_prog.len = (unsigned short)vg_proto_lazy_prog(lazy_insns,
	    VG_PROTO_LAZY_PROG_LEN);
	a->sock = vg_net_open_pair((const struct sockaddr *)&a->self->sa,
	    a->self->salen, &lazy_prog, &a->lazy, err, sizeof(err),
	    a->lazy_why, sizeof(a->lazy_why));
	if (a->sock == -1)
		fatalx("%s", err);
	/* bound all the same (IP_FREEBIND: an address that comes later, with
	 * its link), but said: until it is there nothing reaches this node */
	if (vg_net_addr_local((const struct sockaddr *)&a->self->sa,
	    a->self->salen) == 0)
		log_warnx("this node's address %s is on none of this host's "
		    "links (yet): its peers' datagrams reach it only once it "
		    "is", a->self->address);
	if (a->lazy == -1)
		log_warnx("heartbeats that can wait: no second socket (%s): "
		    "every datagram wakes the agent", a->lazy_why);
	/* an active reads its echoes at its next wake-up, a node the
	 * heartbeats that can wait at its next: when they came is the
	 * kernel's stamp (without one, the time they are read) */
	if (vg_net_stamp_on(a->sock) == -1 ||
	    (a->lazy != -1 && vg_net_stamp_on(a->lazy) == -1))
		log_warn("SO_TIMESTAMPNS");
	a->rxb = &rx_batch;
	a->tx = &tx_batch;
	vg_send_size_buffer(a);

	/* Before anything is sent: no VIP of ours may be left on a link. */
	if ((a->nl = vg_nl_open(RTMGRP_LINK, err, sizeof(err))) == NULL ||
	    (a->nl_vips = vg_nl_open(0, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((n = vg_vip_sweep(a->nl_vips, c->vips, c->n_vips)) < 0)
		fatalx("could not remove stale VIPs; not starting");
	if (n > 0)
		log_info("removed %d stale VIP(s) found on the links", n);
	up = vg_link_query(a->nl, c->links, c->n_links, bad, sizeof(bad));
	if (up < 0)
		fatalx("cannot read the link state");

	signal(SIGPIPE, SIG_IGN);
	if ((a->loop = ev_default_loop(EVFLAG_AUTO | EVFLAG_NOSIGMASK)) == NULL)
		fatalx("cannot start the event loop");
	/* a script's descendants that lose their parent come back here, to
	 * be killed with the script (child.c) */
	if (vg_child_subreaper(is_keeper, a) == -1)
		log_warn("PR_SET_CHILD_SUBREAPER: a script's descendant that "
		    "leaves its process group may outlive it");
	a->hold = vg_hold_new(a->loop, c, &a->auth, a->incarnation, a->nl_vips,
	    a->lock_fd, hold_event, a);
	if ((a->hooks = vg_hooks_new(a->loop, c, hook_done, a)) == NULL)
		fatal("hooks");
	a->ctl = vg_control_open(a->loop, c->ctl.socket, c->ctl.operator_group,
	    ctl_handler, a, err, sizeof(err));
	if (a->ctl == NULL)
		fatalx("%s", err);
	vg_control_set_groups(a->ctl, c->ctl.operator_group, c->ctl.admin_group);
	(void)vg_control_set_viewers(a->ctl, c->ctl.viewers);
	a->export = vg_metrics_export_start(a->loop, a, err, sizeof(err));
	if (a->export == NULL && (c->metrics.listen[0] || c->metrics.textfile[0]))
		fatalx("%s", err);

	start_watchers(a);
	vg_stage_init(a);
	a->apply = apply_push;
	/* a staging outlives no restart (its push's state was in memory),
	 * but a joint move's does: the node comes back in J */
	if (vg_stage_restart(a, a->started, err, sizeof(err)) == -1)
		fatalx("config push: the joint move cannot go on: %s (the "
		    "node must not run C alone: put state_dir's staged.conf "
		    "and joint right, or follow docs/operations.md)", err);
	/* set-up is done: from here on only what the agent needs */
	if (vg_caps_drop(err, sizeof(err)) == -1)
		fatalx("%s", err);

	/* the state file and the scripts start from the state at start */
	for (g = 0; g < a->n_groups; g++)
		state_changed(a, g, 0, a->el[g].state, "started");
	if ((a->tracks = vg_tracks_new(a->loop, c, tracks_changed, a,
	    NULL)) == NULL)
		fatal("tracks");
	if (!up) {
		log_info("interface %s is down: this node is not eligible", bad);
		snprintf(a->link_down, sizeof(a->link_down), "%s", bad);
		health(a);
	}
	if (vg_statedir_exists(c->state_dir, "maintenance")) {
		log_info("in maintenance (vigilctl maintenance off to end it)");
		for (g = 0; g < a->n_groups; g++) {
			vg_el_set_maintenance(&a->el[g], 1, a->started, &acts);
			run_acts(a, &acts, a->started);
		}
	}

	/* real-time from here on: the heartbeat path must not wait behind
	 * other work (Corosync's way); the keeper runs one step above */
	if (vg_rt_setup(&a->rt, SCHED_RR, c->rt_priority) == -1)
		log_warnx("real-time scheduling refused (%s): heartbeats may be "
		    "late on a busy machine; see realtime_priority in "
		    "vigil.conf(5)", a->rt.why);
	else if (a->rt.realtime)
		log_info("real-time: SCHED_RR priority %d, memory locked",
		    c->rt_priority);

	a->next_hb = vg_now();		/* the first heartbeat goes at once */
	if (last_sent != -1) {
		for (g = 0; g < a->n_groups; g++)
			vg_el_started_after(&a->el[g], last_sent, a->next_hb);
		log_info("this node last sent %lld ms before this start",
		    (long long)((a->started - last_sent) / VG_NS_PER_MS));
	}
	schedule(a);
	(void)vg_sd_notifyf("READY=1");
	notify_status(a);
	log_info("ready: listening on %s port %u, ctl %s, incarnation %llu, "
	    "term %llu", a->self->address, a->self->port, c->ctl.socket,
	    (unsigned long long)a->incarnation,
	    (unsigned long long)a->el[0].term);

	ev_run(a->loop, 0);

	/* the VIPs were dropped in sig_stop_cb; EOF tells the keeper to go */
	vg_hold_free(a->hold);
	a->hold = NULL;		/* is_keeper: no keeper from here on */
	vg_pushrun_free(&a->push);
	free(a->push_local);
	vg_hooks_free(a->hooks);
	vg_tracks_free(a->tracks);
	vg_child_shutdown();
	vg_metrics_export_stop(a->export);
	vg_control_close(a->ctl);
	close(a->sock);
	if (a->lazy != -1)
		close(a->lazy);
	close(a->tfd);
	vg_nl_close(a->nl);
	vg_nl_close(a->nl_vips);
	vg_auth_wipe(&a->auth);
	vg_peers_free(&a->peers);
	vg_conf_free(a->conf);
	log_info("stopped");
	return 0;
}
