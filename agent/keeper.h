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
#include <sys/types.h>

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

struct vg_keeper {
	pid_t		pid;
	int		fd;		/* the agent's end */
	uint32_t	next_id;
};

/*
 * Forks the keeper.  It inherits the config (VIPs, peers), the key and the
 * incarnation; in the child every other descriptor is closed.  `successor`:
 * it takes the lease over from a running keeper (a reload), so the VIPs may
 * be on the links and must stay there.
 */
int	vg_keeper_start(struct vg_keeper *, const struct vg_conf *,
	    const struct vg_auth *, uint64_t incarnation, int successor,
	    char *err, size_t errlen);
/* Non-blocking; -1 if the keeper is gone. */
int	vg_keeper_hold(struct vg_keeper *, uint64_t term, vg_ns deadline);
/* Sends DROP and waits (at most timeout) for its REMOVED; other reports
 * that arrive meanwhile are passed to cb.  0, or -1: the keeper is gone or
 * did not answer in time (the caller removes the VIPs itself). */
int	vg_keeper_drop(struct vg_keeper *, vg_ns timeout,
	    void (*cb)(void *, const struct vg_keeper_rep *), void *arg);
/* Hands off to a successor keeper: this one exits without touching the VIPs. */
void	vg_keeper_detach(struct vg_keeper *);
/* Reads one report; 1 read, 0 nothing, -1 EOF or error (keeper gone). */
int	vg_keeper_read(struct vg_keeper *, struct vg_keeper_rep *);
/* SIGKILL, reaped, then the pair closed: it leaves the VIPs as they are. */
void	vg_keeper_kill(struct vg_keeper *);
/* Closes the pair (it removes its VIPs and exits), waits a little, then
 * kills: for shutdown after a final DROP. */
void	vg_keeper_stop(struct vg_keeper *);

#endif
