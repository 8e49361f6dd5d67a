/*
 * keeper: the small process that owns the VIPs (DESIGN.md, "The keeper owns
 * the VIPs").  Forked at start, it shares a SOCK_SEQPACKET socketpair with
 * the agent and has its own netlink socket.  It holds one lease per VIP
 * group (docs/design.md, "VIP groups"): it adds a group's VIPs only while
 * the add and every removal it may hold up still fit before their
 * deadlines, removes them the moment that group's lease deadline passes
 * unrenewed, when told to, or when the agent is gone (EOF), and reports
 * every add and removal back, with its group.  After an EOF it sends, for
 * each group of which it held VIPs or a lease of term T, RELEASE(group, T)
 * to every peer in the node's name, from a seq range the agent never
 * uses, so that peers fail over at once.
 */
#ifndef VG_KEEPER_H
#define VG_KEEPER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "auth.h"
#include "clock.h"
#include "conf.h"
#include "wire.h"

#define VG_KEEPER_SEQ_BASE	VG_SEQ_KEEPER_BASE	/* the keeper's own seqs */

enum vg_keeper_op {
	VG_KEEPER_HOLD = 1,	/* group, term, deadline */
	VG_KEEPER_DROP,		/* group: remove now; answered with
				 * REMOVED(group, id) */
	VG_KEEPER_DETACH,	/* forget every group's VIPs (a successor
				 * keeper holds them now) and exit: no
				 * removal, no RELEASE */
};

enum vg_keeper_ev {
	VG_KEEPER_ADDED = 1,	/* group, term: its VIPs are on the links */
	VG_KEEPER_REMOVED,	/* group, id: of the DROP, 0 when the deadline
				 * passed (or a HOLD of another term came) */
	VG_KEEPER_FAILED,	/* group, failed: a netlink change failed */
	VG_KEEPER_GARP,		/* group: a round of GARP/NA went out (failed:
				 * how many VIPs it could not announce) */
};

struct vg_keeper_req {
	uint32_t	op;
	uint32_t	id;
	uint64_t	term;
	int64_t		deadline;	/* VG_CLOCK ns */
	uint32_t	group;		/* index in conf->groups */
	uint32_t	pad;
};

struct vg_keeper_rep {
	uint32_t	ev;
	uint32_t	id;
	uint64_t	term;
	int32_t		failed;		/* VIPs that failed */
	uint32_t	group;
};

/*
 * Each group's lease deadline, shared with the keeper (one MAP_SHARED page
 * made before the fork), a slot per group.  A renewal of a lease that the
 * keeper has already acted on (same term, the group's VIPs added) is one
 * store in the group's slot: no message, no wake-up of the keeper, which
 * reads the slot whenever it is about to act on that group's deadline (a
 * removal, a GARP round, an add).  Rules that keep it safe, per group
 * (hold.c writes, the keeper reads):
 *  - the agent stores in g's slot only the deadline of a lease of g it
 *    holds now, and 0 before every message that changes g's lease (HOLD,
 *    DROP of g; DETACH, for every group);
 *  - the keeper only ever raises the deadline of the lease of g it has,
 *    and ignores g's slot while it has no lease of g.
 * So the keeper never holds a group's VIPs past a deadline the agent did
 * not give for that group, and a lease taken back is not extended by the
 * page.
 */
struct vg_kshare {
	_Atomic int64_t	deadline[VG_MAX_GROUPS];	/* VG_CLOCK ns; 0:
							 * nothing to add */
	/*
	 * Held by the agent's main thread while it lives (robust, process-
	 * shared), so that its death wakes the keeper's watcher at once:
	 * the kernel marks the mutex (EOWNERDEAD) as that thread exits,
	 * before the agent's memory is torn down and its end of the pair
	 * closes.  alive_ok: the agent holds it.
	 */
	pthread_mutex_t	alive;
	int		alive_ok;
	/* the keeper's removal batch time per group (its vg_ktime del, as
	 * measured): an active waits for its echoes only while the lease
	 * outlasts its next wake-up by this and more (vg_el_rx_may_wait) */
	_Atomic int64_t	del[VG_MAX_GROUPS];
};

/* The deadline a keeper with a lease of `term` until `deadline` keeps
 * after reading `shared` from the group's slot (pure). */
vg_ns	vg_kshare_apply(uint64_t term, vg_ns deadline, vg_ns shared);

/*
 * The keeper's timing, pure (unit-tested).  The VIPs must be off by the
 * deadline d plus the margin m (the lease formula leaves m for the keeper
 * to wake).  A removal takes a netlink batch: the keeper starts it `del`
 * before d.  An add admitted at t ends at t + add and may hold up a
 * removal that long: it is admitted only while t + add + del + m <= d.
 * add and del start at the plan for the VIP count (vg_conf_batch) and are
 * raised to 1.5 times the slowest batch measured, decaying back towards
 * the plan by an eighth of the difference a batch.  Each group has its
 * own (its VIP count, its batches).
 */
struct vg_ktime {
	vg_ns	margin;
	vg_ns	add_plan, del_plan;	/* the floor */
	vg_ns	add, del;		/* what is expected now */
	vg_ns	at;			/* of the last batch, or relax step */
};

void	vg_ktime_init(struct vg_ktime *, vg_ns margin, size_t n_vips);
/* A batch of all the VIPs (an add when add) took `took`, ending at now. */
void	vg_ktime_measured(struct vg_ktime *, int add, vg_ns took, vg_ns now);
/*
 * A raised expectation also falls back with time, an eighth of the way to
 * the plan every VG_KTIME_RELAX since the last batch: with the group not
 * held no batch runs to bring it down, and a lease that cannot fit it
 * would refuse the add at every HOLD for ever.
 */
#define VG_KTIME_RELAX	VG_MS(125)
void	vg_ktime_relax(struct vg_ktime *, vg_ns now);
vg_ns	vg_ktime_remove_at(const struct vg_ktime *, vg_ns deadline);
int	vg_ktime_may_add(const struct vg_ktime *, vg_ns deadline, vg_ns now);
/*
 * Several groups: one process does their batches in turn.  Removals: when
 * several are due together (a node active in several groups is renewed by
 * the same echoes, so their deadlines are equal), the last would end the
 * sum of the others' batches late.  vg_ktime_schedule gives each group in
 * in[] (n, indexed by group) the latest time its removal may start so that
 * every one, done in deadline order, ends by its deadline and before the
 * next one's start: from the latest deadline back, start = min(deadline,
 * the next start) - del (ties: the higher index later).  Adds: an add for
 * group g that takes `add` (a whole one: kt[g].add; what is left of one
 * cut in chunks: less) at `now` holds up every removal due while it runs;
 * it is admitted only while now + add + kt[h].margin <= start[h] over that
 * schedule of g and every group h with VIPs on the links (held[h]).  With
 * one group both are the single rules above: start = deadline - del, and
 * now + add + del + m <= deadline.
 */
void	vg_ktime_schedule(const struct vg_ktime *kt, const vg_ns *deadline,
	    const int *in, size_t n, vg_ns *start);
int	vg_ktime_admit(const struct vg_ktime *kt, const vg_ns *deadline,
	    const int *held, size_t n, size_t g, vg_ns add, vg_ns now);

/* Adds go in chunks of this many VIPs, each announced once it is acked. */
#define VG_KEEPER_CHUNK	64
/* A VIP the kernel refused is tried again this long after (with the whole
 * add: the adds are idempotent); at every renewal it cost a re-add of the
 * group each interval, and a warning each. */
#define VG_KEEPER_RETRY	VG_MS(1000)

/*
 * The keeper's decisions, apart from its process (test_keeper drives them
 * on a fake clock): what it does to the links, the clock and the agent's
 * socket goes through these.
 */
struct vg_keeper_ops {
	vg_ns	(*now)(void *arg);
	/* vg_vip_apply: how many failed, -1 if the socket did */
	int	(*apply)(void *arg, const struct vg_conf_vip *, size_t n,
		    int add, unsigned lifetime_s);
	/* vg_garp_send: how many failed */
	int	(*garp)(void *arg, const struct vg_conf_vip *, size_t n);
	void	(*report)(void *arg, const struct vg_keeper_rep *);
};

/* One group's lease, as the keeper has it. */
struct vg_kgroup {
	int		held;		/* its VIPs are on the links */
	int		stale;		/* they may be there although not
					 * held: a group taken over (keep)
					 * before its first add, or one whose
					 * last removal failed */
	int		add_failed;	/* redo the add: at the next HOLD if
					 * it was cut short, from retry_at if
					 * the kernel refused a VIP */
	vg_ns		retry_at;
	int		swept;		/* removed all once since the last add */
	int		refresh_held;	/* a refresh due was not admitted: not
					 * a wake-up of its own until then */
	uint64_t	lease_term;	/* a lease of this term was given */
	vg_ns		deadline;
	vg_ns		last_add;
	vg_ns		garp_at;	/* the next round; NEVER: none */
	unsigned	garp_left;	/* repeats at garp_interval */
	struct vg_ktime	kt;
};

struct vg_keeper {
	const struct vg_conf	*conf;
	const struct vg_keeper_ops *ops;
	void			*arg;
	struct vg_kshare	*share;		/* renewals without a message */
	vg_ns			refresh;	/* re-add (lifetimes) this often */
	unsigned		lifetime_s;
	size_t			n_groups;
	struct vg_kgroup	g[VG_MAX_GROUPS];
};

/*
 * Sets k up for conf's groups.  keep: the groups (bit g) whose VIPs may be
 * on the links and must stay there (a successor takes their leases over);
 * every other group's VIPs are removed once now (nothing should be there,
 * and the pages of the removal path are then resident and locked).
 */
void	vg_keeper_init(struct vg_keeper *, const struct vg_conf *,
	    struct vg_kshare *, const struct vg_keeper_ops *, void *arg,
	    uint32_t keep);
/* One request of the queue (HOLD, DROP); DETACH is the process's. */
void	vg_keeper_request(struct vg_keeper *, const struct vg_keeper_req *);
/* After the whole queue: the groups in `mask` (those a HOLD came for)
 * add, or refresh, what their leases allow now. */
void	vg_keeper_apply(struct vg_keeper *, uint32_t mask, vg_ns now);
/* Deadlines passed (earliest first), GARP rounds due, lifetimes to refresh. */
void	vg_keeper_timers(struct vg_keeper *, vg_ns now);
/* When the keeper must wake next (VG_NS_NEVER: not before a request). */
vg_ns	vg_keeper_next(const struct vg_keeper *);
/*
 * The agent is gone: every group's VIPs off, those held and those that
 * may be there (stale).  Returns the groups (bit g) to send RELEASE(g,
 * term[g]) for: those of which it held a lease and whose removal (if VIPs
 * were or may have been there) was acked; a removal that failed keeps
 * its group's RELEASE back (it could make two holders).
 */
uint32_t vg_keeper_gone(struct vg_keeper *, uint64_t term[VG_MAX_GROUPS]);

/*
 * RELEASE(group, term) from this node to nodes[target], the keeper's seq
 * `seq`, encoded into buf (MAC bytes zeroed, for vg_auth_sign).  Group 0's
 * is version 2 (a node of the release before groups reads it); another
 * group's is version 3, with the group in it.  0 if it cannot be encoded.
 */
size_t	vg_keeper_release_encode(const struct vg_conf *, size_t target,
	    size_t group, uint64_t term, uint64_t incarnation, uint64_t seq,
	    uint8_t *buf, size_t buflen);

/*
 * The keeper's main, in the child that hold.c forked: `fd` is its end of
 * the pair (every other descriptor closed), the config, key and
 * incarnation are the agent's at the fork.  `keep`: the groups whose
 * leases it takes over from a running keeper (a reload, or one killed for
 * not answering): their VIPs may be on the links and must stay there.
 * lock_fd: the agent's instance lock, kept open by the keeper (or -1).
 * Never returns.
 */
void	vg_keeper_main(int fd, int lock_fd, struct vg_kshare *,
	    const struct vg_conf *, const struct vg_auth *,
	    uint64_t incarnation, uint32_t keep)
	    __attribute__((noreturn));

#endif
