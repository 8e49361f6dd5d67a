/*
 * reload: prepare (load, check, build) apart from the commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reload.h"

int
vg_reload_prepare(struct vg_reload *r, const struct vg_conf *cur,
    const char *self, const struct vg_peers *peers, int final, char *err,
    size_t errlen)
{
	return vg_reload_prepare_moves(r, cur, self, peers, final, 0, err,
	    errlen);
}

int
vg_reload_prepare_moves(struct vg_reload *r, const struct vg_conf *cur,
    const char *self, const struct vg_peers *peers, int final, int moves_ok,
    char *err, size_t errlen)
{
	const char *fixed;
	size_t n;
	int line;

	memset(r, 0, sizeof(*r));
	vg_errs_init(&r->errs);
	if ((r->conf = vg_conf_load(cur->path, self, &r->errs)) == NULL) {
		n = r->errs.n + r->errs.dropped;
		snprintf(err, errlen, "configuration invalid; nothing changed "
		    "(%zu error%s)", n, n == 1 ? "" : "s");
		return -1;
	}
	/* what every node must agree on, and what needs a restart; at a
	 * joint move's FINAL only the latter */
	if (!final && vg_conf_reload_refusal_moves(cur, r->conf, moves_ok,
	    err, errlen) == -1)
		goto refuse;
	if (final && r->conf->epoch <= cur->epoch) {
		snprintf(err, errlen, "epoch %u is not above the running epoch "
		    "%u; nothing changed", r->conf->epoch, cur->epoch);
		goto refuse;
	}
	if (final && (fixed = vg_conf_fixed_changed(cur, r->conf)) != NULL) {
		snprintf(err, errlen, "%s cannot change but by a restart; "
		    "nothing changed", fixed);
		goto refuse;
	}
	if (final && !moves_ok &&
	    vg_conf_vip_moved(cur, r->conf, err, errlen) == -1)
		goto refuse;
	/* the keeper announces the VIPs with the settings it was forked
	 * with: a change of them needs a new keeper */
	/* the keeper sends its RELEASE to the nodes it was forked with,
	 * signed with the safety digest it knows (another reads as a node
	 * that disagrees): the digest covers every node's id, address and
	 * port */
	r->nodes_changed = cur->safety_digest != r->conf->safety_digest;
	r->garp_changed = cur->garp_count != r->conf->garp_count ||
	    cur->garp_interval != r->conf->garp_interval ||
	    cur->garp_refresh != r->conf->garp_refresh;
	r->timing_changed = cur->interval != r->conf->interval ||
	    cur->dead_time != r->conf->dead_time ||
	    cur->max_drift != r->conf->max_drift;
	if (r->conf->auth == VG_AUTH_NONE)
		log_warnx("reload: auth = \"none\": heartbeats and votes are "
		    "not authenticated; for a lab only");
	/* every key it names: current, and the rotation's next and previous */
	if (vg_auth_load(&r->auth, r->conf, &line, err, errlen) == -1)
		goto refuse;
	/* at FINAL the nodes C' leaves out stay in the table (the election
	 * has none of them): they hear FINAL and the new epoch, and leave */
	if ((final ? vg_peers_join(&r->peers, peers, r->conf, cur,
	    r->conf->nodes[r->conf->self].id) :
	    vg_peers_reconf(&r->peers, peers, r->conf)) == -1 ||
	    (r->gone = calloc(cur->n_vips + 1, sizeof(*r->gone))) == NULL) {
		snprintf(err, errlen, "out of memory; nothing changed");
		goto refuse;
	}
	r->vips_changed = !vg_conf_vips_same(cur, r->conf);
	if (r->vips_changed)
		r->n_gone = vg_conf_vips_gone(cur, r->conf, r->gone);
	return 0;
refuse:
	vg_reload_done(r);
	return -1;
}

void
vg_reload_swap(struct vg_reload *r, struct vg_conf **conf,
    struct vg_auth *auth, struct vg_peers *peers)
{
	struct vg_conf *c = *conf;
	struct vg_auth a = *auth;
	struct vg_peers p = *peers;

	*conf = r->conf;
	*auth = r->auth;
	*peers = r->peers;
	r->conf = c;
	r->auth = a;
	r->peers = p;
}

void
vg_reload_done(struct vg_reload *r)
{
	vg_conf_free(r->conf);
	r->conf = NULL;
	vg_auth_wipe(&r->auth);
	vg_peers_free(&r->peers);
	free(r->gone);
	r->gone = NULL;
	r->n_gone = 0;
}
