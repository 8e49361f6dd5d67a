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

#include <stdatomic.h>
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
	VG_KEEPER_GARP,		/* a round of GARP/NA went out (failed: how
				 * many VIPs it could not announce) */
};

struct vg_keeper_req {
	uint32_t	op;
	uint32_t	id;
	uint64_t	term;
	int64_t		deadline;	/* VG_CLOCK ns */
};

struct vg_keeper_rep {
	uint32_t	ev;
	uint32_t	id;
	uint64_t	term;
	int32_t		failed;		/* VIPs that failed */
};

/*
 * The lease's deadline, shared with the keeper (one MAP_SHARED page made
 * before the fork).  A renewal of a lease that the keeper has already
 * acted on (same term, VIPs added) is one store here: no message, no
 * wake-up of the keeper, which reads it whenever it is about to act on
 * its deadline (a removal, a GARP round, an add).  Rules that keep it
 * safe (hold.c writes, the keeper reads):
 *  - the agent stores only the deadline of a lease it holds now, and 0
 *    before every message that changes the lease (HOLD, DROP, DETACH);
 *  - the keeper only ever raises the deadline of the lease it has, and
 *    ignores the page while it has none.
 * So the keeper never holds the VIPs past a deadline the agent did not
 * give, and a lease taken back is not extended by the page.
 */
struct vg_kshare {
	_Atomic int64_t	deadline;	/* VG_CLOCK ns; 0: nothing to add */
};

/* The deadline a keeper with a lease of `term` until `deadline` keeps
 * after reading `shared` from the page (pure). */
vg_ns	vg_kshare_apply(uint64_t term, vg_ns deadline, vg_ns shared);

/*
 * The keeper's main, in the child that hold.c forked: `fd` is its end of
 * the pair (every other descriptor closed), the config, key and
 * incarnation are the agent's at the fork.  `successor`: it takes the
 * lease over from a running keeper (a reload), so the VIPs may be on the
 * links and must stay there.  Never returns.
 */
/*
 * The keeper's timing, pure (unit-tested).  The VIPs must be off by the
 * deadline d plus the margin m (the lease formula leaves m for the keeper
 * to wake).  A removal takes a netlink batch: the keeper starts it `del`
 * before d.  An add admitted at t ends at t + add and may hold up a
 * removal that long: it is admitted only while t + add + del + m <= d.
 * add and del start at the plan for the VIP count (vg_conf_batch) and are
 * raised to 1.5 times the slowest batch measured, decaying back towards
 * the plan by an eighth of the difference a batch.
 */
struct vg_ktime {
	vg_ns	margin;
	vg_ns	add_plan, del_plan;	/* the floor */
	vg_ns	add, del;		/* what is expected now */
};

void	vg_ktime_init(struct vg_ktime *, vg_ns margin, size_t n_vips);
/* A batch of all the VIPs (an add when add) took `took`. */
void	vg_ktime_measured(struct vg_ktime *, int add, vg_ns took);
vg_ns	vg_ktime_remove_at(const struct vg_ktime *, vg_ns deadline);
int	vg_ktime_may_add(const struct vg_ktime *, vg_ns deadline, vg_ns now);

/* Adds go in chunks of this many VIPs, each announced once it is acked. */
#define VG_KEEPER_CHUNK	64

/* lock_fd: the agent's instance lock, kept open by the keeper (or -1). */
void	vg_keeper_main(int fd, int lock_fd, struct vg_kshare *,
	    const struct vg_conf *, const struct vg_auth *,
	    uint64_t incarnation, int successor)
	    __attribute__((noreturn));

#endif
