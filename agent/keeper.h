/*
 * keeper: the small process that owns the VIPs (DESIGN.md, "The keeper owns
 * the VIPs").  Forked at start, it shares a SOCK_SEQPACKET socketpair with
 * the agent and has its own netlink socket.  It adds the VIPs only while
 * now < deadline - m, removes them the moment the lease deadline passes
 * unrenewed, when told to, or when the agent is gone (EOF), and reports
 * every add and removal back.  After an EOF, if it held VIPs or a lease of
 * term T, it sends RELEASE(T) to every peer in the node's name, from a seq
 * range the agent never uses, so that peers fail over at once.
 */
#ifndef VG_KEEPER_H
#define VG_KEEPER_H

#include <stdint.h>

#include "auth.h"
#include "clock.h"
#include "conf.h"

#define VG_KEEPER_SEQ_BASE	VG_SEQ_KEEPER_BASE	/* the keeper's own seqs */

enum vg_keeper_op {
	VG_KEEPER_HOLD = 1,	/* term, deadline */
	VG_KEEPER_DROP,		/* remove now; answered with REMOVED(id) */
	VG_KEEPER_DETACH,	/* forget the VIPs (a successor keeper holds
				 * them now) and exit: no removal, no RELEASE */
};

enum vg_keeper_ev {
	VG_KEEPER_ADDED = 1,	/* term: the VIPs are on the links */
	VG_KEEPER_REMOVED,	/* id: of the DROP, 0 when the deadline passed */
	VG_KEEPER_FAILED,	/* err: a netlink change failed */
};

struct vg_keeper_req {
	uint32_t	op;
	uint32_t	id;
	uint64_t	term;
	int64_t		deadline;	/* CLOCK_MONOTONIC ns */
};

struct vg_keeper_rep {
	uint32_t	ev;
	uint32_t	id;
	uint64_t	term;
	int32_t		failed;		/* VIPs that failed */
};

/*
 * The keeper's main, in the child that hold.c forked: `fd` is its end of
 * the pair (every other descriptor closed), the config, key and
 * incarnation are the agent's at the fork.  `successor`: it takes the
 * lease over from a running keeper (a reload), so the VIPs may be on the
 * links and must stay there.  Never returns.
 */
void	vg_keeper_main(int fd, const struct vg_conf *, const struct vg_auth *,
	    uint64_t incarnation, int successor) __attribute__((noreturn));

#endif
