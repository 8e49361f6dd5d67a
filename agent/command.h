/*
 * command: what each ctl command does (status, events, metrics, failover,
 * maintenance, reload).  Given the agent and a parsed, role-checked
 * request, it decides, changes the election through its entry points,
 * audits (log line and event, with the caller's uid and pid), and returns
 * the reply and what the shell must carry out: the election's actions, a
 * reload.  It carries out none of them.  A failover is answered when it
 * ends: the request waits in the agent's `pending` until vg_cmd_pending
 * sees a new active or its deadline.
 */
#ifndef VG_COMMAND_H
#define VG_COMMAND_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "conf.h"
#include "control.h"
#include "election.h"

struct vg_agent;

struct vg_cmd_out {
	struct vg_acts	acts;		/* the election's: carry out in order */
	int		reload;		/* reload, then answer vg_cmd_reloaded */
};

/* The reply (NULL: refused with err, or deferred: caller->defer). */
json_object	*vg_cmd_run(struct vg_agent *, const struct vg_ctl_request *,
		    struct vg_ctl_caller *, vg_ns now, struct vg_cmd_out *,
		    char *err, size_t errlen);
/* The reply to a reload the shell ran: errs NULL if it was applied, else
 * the config's errors (may be empty) and err why it was refused. */
json_object	*vg_cmd_reloaded(struct vg_agent *, const struct vg_ctl_caller *,
		    const struct vg_errs *errs, const char *err);
/* A failover under way that has ended (a new active in a newer term, or
 * its deadline): the answer, for *client; NULL while it goes on. */
json_object	*vg_cmd_pending(struct vg_agent *, vg_ns now, uint64_t *client);

#endif
