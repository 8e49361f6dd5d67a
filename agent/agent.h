/*
 * agent: the running agent's state, shared by the wiring (vigild.c), the
 * views of it (status.c, metrics.c) and the ctl commands (command.c).  One
 * instance per process.
 */
#ifndef VG_AGENT_H
#define VG_AGENT_H

#include <ev.h>
#include <stdint.h>

#include "auth.h"
#include "clock.h"
#include "conf.h"
#include "control.h"
#include "election.h"
#include "events.h"
#include "hist.h"
#include "hold.h"
#include "hooks.h"
#include "lastsend.h"
#include "log.h"
#include "peer.h"
#include "pushrun.h"
#include "realtime.h"
#include "rx.h"
#include "track.h"
#include "vip.h"

struct vg_metrics_export;

#define VG_PROMISES	8	/* pushes staged here, no decision heard */

struct vg_agent {
	struct ev_loop		*loop;
	struct vg_conf		*conf;
	const struct vg_conf_node *self;
	struct vg_auth		auth;
	struct vg_peers		peers;		/* rx shares it */
	struct vg_rx		rx;
	struct vg_control	*ctl;
	struct vg_hooks		*hooks;
	struct vg_tracks	*tracks;
	struct vg_metrics_export *export;
	int			track_fault;
	struct vg_events	events;
	uint64_t		changes;	/* state changes, for the hooks */

	uint64_t		incarnation;
	/* one election per VIP group (conf->n_groups of them): state,
	 * term, active, lease; what groups share (membership, digests,
	 * timing, the joint move) is the same in every one, el[0] says it */
	struct vg_election	el[VG_MAX_GROUPS];
	size_t			n_groups;
	/* with `groups`: every group's term and vote as state_dir/votes
	 * holds them (one file, one fsync for one event's groups) */
	uint64_t		vote_term[VG_MAX_GROUPS];
	uint16_t		vote_for[VG_MAX_GROUPS];
	vg_ns			started;

	struct vg_hold		*hold;		/* the keeper, the VIPs */
	struct vg_nl		*nl;		/* link events and queries */
	struct vg_nl		*nl_vips;	/* VIPs when no keeper, the
						 * sweep: no events on it, so
						 * that an ack wait swallows
						 * none and is refused none */
	ev_io			nl_w;
	char			link_down[IF_NAMESIZE];
	vg_ns			last_failover;	/* metrics */
	struct {			/* a failover awaiting its end (command.c) */
		int		on;
		uint64_t	client;
		uint16_t	from, to;	/* active before; wanted (0 any) */
		size_t		group;		/* whose active */
		uint64_t	term;
		vg_ns		started, deadline;
	}			pending;
	uint64_t		reloads, reloads_failed;

	/* the configuration push (stage.c) */
	struct vg_pushrun	push;
	char			*push_local;	/* checked, made this node's */
	size_t			push_local_len;
	uint64_t		push_client;	/* the ctl client to answer */
	uid_t			push_uid;
	pid_t			push_pid;
	uint32_t		push_digest;	/* the pushed file's */
	struct {				/* vigilctl key rotate */
		int		step;	/* 0: none; 1..3 under way */
		char		path[VG_PATH_MAX];	/* the new key */
	}			keyrot;
	/* the reload path (vigild.c), which a commit applies through (1: a
	 * joint move's FINAL, vg_el_final) */
	int			(*apply)(struct vg_agent *, int, char *, size_t);
	/* a joint move (stage.c): in J while jconf is set (C', parsed for
	 * this node, or without self when C' leaves it out) */
	struct vg_conf		*jconf;
	struct vg_conf		*push_conf;	/* the checked file, parsed */
	char			*joint_local;	/* in J: C' as staged here */
	size_t			joint_local_len;
	uint8_t			joint_sha[32];	/* J's pushed file (SHA-256) */
	char			push_names[VG_MAX_NODES][VG_NAME_MAX];	/* targets */
	int			push_same;	/* the offered file runs here */
	int			push_safety;	/* the checked file: a safety change */
	vg_ns			joint_final_at;	/* catch-up: FINAL due (0 none) */
	int			joint_final_failed; /* the last try failed: the
						 * next at its own time, not
						 * at a peer's word */
	/* staged here, outcome not heard: no other file at that epoch
	 * (stage.c); one each, at most VG_PROMISES */
	struct {
		uint32_t	epoch;
		uint32_t	digest;		/* that file's settings */
	}			promise[VG_PROMISES];
	size_t			n_promise;
	int			commit_catch_up; /* the reload of a catch-up's
						  * commit (reload.h) */

	int			sock;
	int			lock_fd;
	struct vg_lastsend	lastsend;	/* our last send, for a restart */
	ev_io			sock_w;		/* watches rx_ep */
	int			rx_ep;		/* an epoll holding sock, or not */
	int			rx_wait;	/* sock out of rx_ep: read at each
						 * wake-up instead
						 * (vg_el_rx_may_wait) */
	vg_ns			hb_sent;	/* our latest heartbeat round */
	int			rx_more;	/* the last read stopped at
						 * RX_BURST: watch the socket */
	int			rx_read;	/* check_cb read some: schedule */
	vg_ns			rx_read_at;	/* the last read that emptied
						 * the socket began */
	int			lazy;		/* the socket of heartbeats that
						 * can wait (vg_proto_lazy_prog),
						 * read at each wake-up; -1 none */
	char			lazy_why[128];	/* why none */
	ev_io			lazy_w;		/* watches it while lazy_more */
	int			lazy_more;	/* its last read stopped at
						 * RX_BURST */
	vg_ns			lazy_read_at;	/* rx_read_at's for it */
	int			tfd;		/* timerfd on VG_CLOCK, absolute */
	vg_ns			tfd_at;		/* armed for; 0 fired or never */
	ev_io			timer;		/* armed for the earliest deadline */
	struct vg_net_rx	*rxb;		/* one recvmmsg's datagrams */
	struct vg_net_tx	*tx;		/* sends queued, one sendmmsg */
	ev_timer		watchdog;
	ev_signal		sig_term, sig_int, sig_hup;
	ev_prepare		prep;
	ev_check		check;
	vg_ns			next_hb;
	vg_ns			iter_start;
	vg_ns			timer_due;	/* what the timer was armed for */
	struct vg_rt		rt;		/* the agent's scheduling */

	struct {
		uint64_t	rx_packets, tx_packets, tx_errors;
		uint64_t	rx_waited;	/* read at a later wake-up */
		uint64_t	rx_lazy;	/* read from the lazy socket */
		uint64_t	hb_late;	/* heartbeat rounds skipped */
		uint64_t	slow_iterations;
		vg_ns		slowest_iteration;
		struct vg_hist	iteration;	/* one loop iteration's work */
		struct vg_hist	wakeup;		/* timer fired this late */
	}			stats;
	struct vg_ratelimit	rl_drop, rl_slow;
};

/* status.c: the agent as JSON, for `vigilctl status --json` */
json_object	*vg_status_json(const struct vg_agent *, vg_ns now);
json_object	*vg_event_json(const struct vg_event *, vg_ns now);
/* The events kept, oldest first: {"events": [...]} */
json_object	*vg_events_json(const struct vg_agent *, vg_ns now);
/* Records an event and streams it to `vigilctl events --follow` */
void		 vg_agent_event(struct vg_agent *, enum vg_event_kind,
		    const char *, ...) __attribute__((format(printf, 3, 4)));

#endif
