/*
 * agent: the running agent's state, shared by the wiring (vigild.c) and the
 * views of it (status.c).  One instance per process.
 */
#ifndef VG_AGENT_H
#define VG_AGENT_H

#include <ev.h>
#include <stdint.h>

#include "auth.h"
#include "clock.h"
#include "conf.h"
#include "control.h"
#include "log.h"
#include "peer.h"
#include "rx.h"

struct vg_agent {
	struct ev_loop		*loop;
	struct vg_conf		*conf;
	const struct vg_conf_node *self;
	struct vg_auth		auth;
	struct vg_peer		*peers;
	size_t			n_peers;
	struct vg_rx		rx;
	struct vg_control	*ctl;

	uint64_t		incarnation;
	uint8_t			state;		/* enum vg_state */
	uint64_t		term;
	uint16_t		active;		/* node id, 0: none known */
	vg_ns			started;

	int			sock;
	int			lock_fd;
	ev_io			sock_w;
	ev_timer		timer;		/* armed for the earliest deadline */
	ev_timer		watchdog;
	ev_signal		sig_term, sig_int, sig_hup;
	ev_prepare		prep;
	ev_check		check;
	vg_ns			next_hb;
	vg_ns			iter_start;

	struct {
		uint64_t	rx_packets, tx_packets, tx_errors;
		uint64_t	hb_late;	/* heartbeat rounds skipped */
		uint64_t	slow_iterations;
		vg_ns		slowest_iteration;
	}			stats;
	struct vg_ratelimit	rl_drop, rl_slow;
};

/* status.c: the agent as JSON, for `vigilctl status --json` */
json_object	*vg_status_json(const struct vg_agent *, vg_ns now);

#endif
