/*
 * stage: the agent's side of a configuration push (issue 14), around the
 * pure pushrun: a pushed file made this node's (vg_stage_localize), checked
 * as `vigild -t` checks it here, staged durably in state_dir/staged.conf,
 * installed over the configured path and applied through the reload path;
 * the push's messages in and out; `vigilctl config push` started and
 * answered.  vigild.c calls it; it calls the shell back only through
 * a->apply (the reload).
 */
#ifndef VG_STAGE_H
#define VG_STAGE_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "control.h"
#include "proto.h"

struct vg_agent;
struct vg_peer;

#define VG_STAGE_FILE	"staged.conf"
#define VG_STAGE_JOINT	"joint"		/* in J: epoch and SHA-256 */
#define VG_STAGE_PROMISE "promised"	/* staged: epoch and settings'
					 * digest, until the push's outcome */

/*
 * A pushed file made this node's: its local settings (state_dir,
 * state_file, ctl, log, auth_key_file, auth_key_next, auth_key_previous,
 * realtime_priority, metrics: the
 * ones that may differ between nodes, conf.h) are blanked, line for line
 * (the errors' line numbers stay the pushed file's), and this node's own,
 * from its file `own` (as it is on disk), are appended.  A top-level setting spans
 * from its first line to the line before the next one.  A key step of
 * `vigilctl key rotate` (flags: one of VG_PUSH_OFFER_KEYS) sets the key
 * settings by its rule instead: NEXT, auth_key_next as pushed; SEND,
 * auth_key_file as pushed and auth_key_previous = this node's own
 * auth_key_file; DROP, no auth_key_previous.  *out is malloc'd.
 * 0, or -1 with err (a file libconfig cannot read is returned as it is:
 * the check reports its errors; two top-level settings on one line are
 * refused: their spans would overlap).
 */
int	vg_stage_localize(const char *pushed, size_t len, const char *own,
	    uint16_t flags, char **out, size_t *outlen, char *err,
	    size_t errlen);

/* The push's state set up (the ops), at start-up. */
void	vg_stage_init(struct vg_agent *);
/* At start, after the election's init: a node that was in a joint move
 * (state_dir/joint) comes back in J; a staging without one is discarded.
 * 0, or -1 with err (the agent must not start: C alone is not safe). */
int	vg_stage_restart(struct vg_agent *, vg_ns now, char *err,
	    size_t errlen);
/* A push message that passed rx. */
void	vg_stage_input(struct vg_agent *, struct vg_peer *,
	    const struct vg_msg *, vg_ns now);
/* Any message that passed rx: a peer at a higher epoch starts catch-up
 * (docs/design.md "Catch-up"). */
void	vg_stage_heard(struct vg_agent *, const struct vg_peer *,
	    const struct vg_msg *, vg_ns now);
/* One round, after the heartbeats: sends, deadlines, a finished push's
 * answer to its ctl client. */
void	vg_stage_round(struct vg_agent *, vg_ns now);
/* `vigilctl config push [--allow-down]`: refused (NULL with err, or a
 * failure reply) or started (NULL, caller->defer set: answered by
 * vg_stage_round). */
json_object *vg_stage_push_cmd(struct vg_agent *, const char *text,
	    size_t len, const char *name, int allow_down,
	    struct vg_ctl_caller *, vg_ns now, char *err, size_t errlen);

/* `vigilctl key rotate FILE`: the three key steps (design.md, "Key
 * rotation") pushed one after the other, each only once every node
 * confirmed the one before; refused (NULL with err) or started (NULL,
 * caller->defer set: answered by vg_stage_round once over). */
json_object *vg_stage_key_rotate_cmd(struct vg_agent *, const char *path,
	    struct vg_ctl_caller *, vg_ns now, char *err, size_t errlen);

#endif
