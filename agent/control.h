/*
 * control: the ctl socket server.  Accepts vigilctl clients on a Unix stream
 * socket, reads one JSON request per line, finds the caller's role from
 * SO_PEERCRED, and answers each request with one JSON line.  Every client is
 * non-blocking with a bounded buffer and an idle timeout, and the number of
 * clients is capped, so that no client can stall the heartbeat path.
 */
#ifndef VG_CONTROL_H
#define VG_CONTROL_H

#include <ev.h>
#include <json-c/json.h>
#include <sys/types.h>

#include "ctlproto.h"

struct vg_ctl_caller {
	pid_t			pid;
	uid_t			uid;
	gid_t			gid;
	enum vg_ctl_role	role;
	int			subscribe;	/* set by the handler: stream events */
	int			defer;		/* set by the handler: answer later */
	/* the request needs a higher role: the handler is called only to
	 * record it (audit), must return NULL, and the client is refused */
	const char		*denied;	/* why, or NULL */
	uint64_t		client;		/* for vg_control_answer */
};

/*
 * Answers a parsed, role-checked request: returns the reply object (its
 * "ok" is added if missing), or NULL with a message in err.
 */
typedef json_object *(*vg_ctl_handler)(void *arg,
    const struct vg_ctl_request *, struct vg_ctl_caller *,
    char *err, size_t errlen);

struct vg_control;

/* Creates the socket (0660, group `group` if it names one).  A stale socket
 * file is replaced; a live agent on it is an error. */
struct vg_control *vg_control_open(struct ev_loop *, const char *path,
		    const char *group, vg_ctl_handler, void *arg, char *err,
		    size_t errlen);
void		 vg_control_close(struct vg_control *);
/* Group names of the operator and admin roles ("" or unknown: none). */
/* The socket's mode: 0666 when anyone may view (status, events, metrics:
 * the roles still guard the rest), else 0660.  0, or -1 (logged). */
int		 vg_control_set_viewers(struct vg_control *, int anyone);
void		 vg_control_set_groups(struct vg_control *, const char *operator,
		    const char *admin);
/* The deferred answer to a client's request (it may have gone: then 0). */
int		 vg_control_answer(struct vg_control *, uint64_t client,
		    json_object *);
/* Sends one JSON line to every subscribed client (events --follow). */
void		 vg_control_broadcast(struct vg_control *, json_object *);
/* The role of a caller (pure, given its groups); for the unit tests. */
enum vg_ctl_role vg_ctl_role_of(uid_t uid, gid_t gid, const gid_t *groups,
		    size_t n_groups, int operator_gid, int admin_gid);

struct vg_control_stats {
	unsigned	clients;
	uint64_t	accepted, refused_full, requests, bad_requests,
			denied, overlong, idle_closed;
	uint64_t	refused_uid;	/* its uid holds VG_CTL_MAX_PER_UID */
	uint64_t	stalled_closed;	/* replies unread VG_CTL_STALL_MS */
};
const struct vg_control_stats *vg_control_stats(const struct vg_control *);

#define VG_CTL_FULL	"too many clients"
#define VG_CTL_UID_FULL	"too many clients of this user"
/* NULL: admitted; else the refusal (pure: control.c's admission rule). */
const char	*vg_ctl_admit(enum vg_ctl_role, size_t clients, size_t of_uid);

#endif
