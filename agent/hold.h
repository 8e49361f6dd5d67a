/*
 * hold: the agent's side of holding the VIPs (DESIGN.md, "The keeper owns
 * the VIPs"), a lease per VIP group (docs/design.md, "VIP groups").  It
 * forks the keeper and keeps the handle on it, hands it each group's
 * lease, asks it to remove a group's VIPs and waits (bounded) for the ack,
 * follows its reports (the keeper itself sends GARP/NA as the VIPs
 * arrive).  A keeper that is gone, or does not ack a removal in time, is
 * killed and reaped; then the VIPs are removed with the agent's own
 * netlink socket and a new keeper starts.  It decides nothing of the election: what happens is reported up
 * through the callback, and the shell turns it into election inputs (a
 * lost keeper into vg_el_keeper_lost, an unconfirmed removal into
 * vg_el_vips_unconfirmed).
 */
#ifndef VG_HOLD_H
#define VG_HOLD_H

#include <ev.h>
#include <stdint.h>
#include <sys/types.h>

#include "auth.h"
#include "clock.h"
#include "conf.h"
#include "vip.h"

enum vg_hold_ev {
	VG_HOLD_ADDED,		/* the keeper added the group's VIPs (term) */
	VG_HOLD_ADD_FAILED,	/* it could not add `failed` of them */
	VG_HOLD_REMOVED,	/* it removed them: asked, or the lease ended */
	VG_HOLD_KEEPER_LOST,	/* it died; every group's VIPs were removed if
				 * they could be, every lease forgotten (group
				 * 0 here: it is about all); a new keeper
				 * starts after the callback */
};

struct vg_hold_event {
	enum vg_hold_ev	type;
	size_t		group;		/* index in conf->groups */
	uint64_t	term;
	int		failed;		/* ADD_FAILED: how many */
	int		was_held;	/* REMOVED: they were on the links */
	int		lease_out;	/* REMOVED: at the deadline, not asked */
	const char	*why;		/* KEEPER_LOST */
};

typedef void (*vg_hold_cb)(void *arg, const struct vg_hold_event *);

struct vg_hold_stats {
	int		held;		/* some group's VIPs, as the keeper last
					 * said */
	uint32_t	held_groups;	/* bit g: group g's */
	pid_t		keeper_pid;	/* 0 between keepers */
	uint64_t	keeper_starts;	/* 1 + restarts */
	uint64_t	garps_sent;	/* rounds of GARP/NA */
	uint64_t	renewals_sent;	/* leases handed over by a message */
	uint64_t	renewals_shared; /* renewals stored in the shared page */
};

struct vg_hold;

/* Forks the first keeper (fatal if it cannot).  nl: the agent's own
 * netlink socket, for removals when the keeper is gone; lock_fd: the
 * instance lock, which every keeper keeps open (-1: none). */
struct vg_hold	*vg_hold_new(struct ev_loop *, const struct vg_conf *,
		    const struct vg_auth *, uint64_t incarnation,
		    struct vg_nl *, int lock_fd, vg_hold_cb, void *arg);
/* The keeper holds group's VIPs until deadline (VG_CLOCK) in term.
 * 0, or -1 if the keeper is gone (logged). */
int		 vg_hold_lease(struct vg_hold *, size_t group, uint64_t term,
		    vg_ns deadline);
/*
 * The group's VIPs off now, and its lease forgotten: 0 once acked (or
 * removed by the agent itself between keepers), -1 if that cannot be said
 * (they may still be held: vg_hold_unconfirmed stays true for the group
 * until a later 0).  The other groups' leases go on.
 */
int		 vg_hold_off(struct vg_hold *, size_t group);
int		 vg_hold_unconfirmed(const struct vg_hold *, size_t group);
/*
 * Whether the kernel has removed the group's VIPs by now on its own,
 * whatever the removal said: their lifetime ran out (vg_conf_vip_outlives
 * after the later of the failed removal and the group's last lease
 * deadline; the keeper adds nothing after that deadline).  Then they
 * count as confirmed off.
 */
int		 vg_hold_expired(struct vg_hold *, size_t group, vg_ns now);
/* How long the keeper's removals of every group take, one after the other,
 * as it measured them (its page); twice the plan for a group it has not
 * said yet. */
vg_ns		 vg_hold_del(const struct vg_hold *);
/*
 * A reload: the new config (and the key behind the pointer given at
 * vg_hold_new, already replaced).  If the VIPs or the key changed
 * (new_keeper), a new keeper with the new set and key takes every running
 * lease over (each group's VIPs that stay, stay), the old one leaves
 * without touching anything, and the VIPs in `gone` are removed.  A group
 * the new config does not have any more is forgotten.  (A keeper with the old key would sign its
 * RELEASE with it after a crash: the peers would drop it.)
 */
void		 vg_hold_reconf(struct vg_hold *, const struct vg_conf *,
		    int new_keeper, const struct vg_conf_vip *gone,
		    size_t n_gone);
/* Shutting down: a keeper lost from now on is not replaced. */
void		 vg_hold_stop(struct vg_hold *);
/* EOF to the keeper (it removes what it holds and exits), reaped, freed. */
void		 vg_hold_free(struct vg_hold *);
struct vg_hold_stats vg_hold_stats(const struct vg_hold *);

#endif
