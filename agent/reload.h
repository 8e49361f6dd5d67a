/*
 * reload: a new configuration in two steps, as ospfd and BIRD do it.
 * vg_reload_prepare loads and checks the file, loads the key, builds the
 * next peer table (vg_peers_reconf: what was heard of a surviving node
 * stays) and the VIP diff, and touches nothing of the running agent; if
 * anything is wrong, it refuses and nothing has changed.  The commit is
 * the shell's: pointer swaps (config, key, peer table) and each module
 * told of the new config.  vg_reload_done then frees whichever side the
 * plan holds: the old one after a commit, the new one otherwise.
 *
 * Refused here, before anything is touched: an invalid file, what
 * vg_conf_reload_refusal says a reload cannot change (the safety-relevant
 * configuration, which every node must agree on, and what only a restart
 * applies), an unreadable key.
 */
#ifndef VG_RELOAD_H
#define VG_RELOAD_H

#include <stddef.h>

#include "auth.h"
#include "conf.h"
#include "peer.h"

struct vg_reload {
	struct vg_conf		*conf;		/* the next config */
	struct vg_auth		auth;		/* its key */
	struct vg_peers		peers;		/* the next peer table */
	int			vips_changed;	/* the keeper must be handed over */
	int			timing_changed;	/* interval, dead_time, drift */
	int			garp_changed;	/* garp_*: the keeper's copy */
	int			nodes_changed;	/* who the keeper's RELEASE
						 * goes to */
	struct vg_conf_vip	*gone;		/* VIPs that left the config */
	size_t			n_gone;
	struct vg_errs		errs;		/* the config's errors, if refused */
};

/*
 * Prepares a reload of cur->path for node `self` over the running config
 * and peer table (read only).  0, or -1 with err (and r->errs when the
 * file itself is invalid): nothing was changed, and r holds nothing.
 * `final`: the FINAL step of a joint move (design.md, "joint quorum"):
 * the safety-relevant settings may change (the election moves with
 * vg_el_final), the file's epoch must be above cur's, and what only a
 * restart applies is still refused.
 */
int	vg_reload_prepare(struct vg_reload *, const struct vg_conf *cur,
	    const char *self, const struct vg_peers *peers, int final,
	    char *err, size_t errlen);
/* The same; moves_ok: a VIP in another group is no refusal (a catch-up's
 * commit of a file the cluster committed, each of its epochs checked
 * against the one before). */
int	vg_reload_prepare_moves(struct vg_reload *, const struct vg_conf *cur,
	    const char *self, const struct vg_peers *peers, int final,
	    int moves_ok, char *err, size_t errlen);
/*
 * Commits a prepared reload into the running pointers: *conf, *auth and
 * *peers take the next ones, and r takes the old ones (for vg_reload_done,
 * once nothing uses them).
 */
void	vg_reload_swap(struct vg_reload *, struct vg_conf **conf,
	    struct vg_auth *auth, struct vg_peers *peers);
/* Frees what r holds (the key is wiped). */
void	vg_reload_done(struct vg_reload *);

#endif
