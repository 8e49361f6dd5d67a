/*
 * ctlproto: the control protocol shared by vigild and vigilctl (ctl/
 * includes this header and re-declares nothing).  A Unix stream socket; the
 * client writes one JSON object per line, {"cmd": "status", ...}; the agent
 * answers each with one JSON object on one line, {"ok": true, ...} or
 * {"ok": false, "error": "..."}.  The caller's role comes from SO_PEERCRED.
 */
#ifndef VG_CTLPROTO_H
#define VG_CTLPROTO_H

#include <stddef.h>

#define VG_CTL_SOCKET_DEFAULT	"/run/vigil/vigil.sock"
#define VG_CTL_MAX_LINE		65536	/* a longer request is refused */
#define VG_CTL_MAX_CLIENTS	16
#define VG_CTL_ADMIN_SLOTS	4	/* of those, kept for root and admins */
#define VG_CTL_MAX_PER_UID	4	/* clients of one uid, but root and admins */
#define VG_CTL_IDLE_MS		5000	/* a silent client is closed */
#define VG_CTL_STALL_MS		5000	/* one that does not read its replies */

/* vigilctl exit codes */
#define VG_EXIT_OK		0
#define VG_EXIT_REFUSED		1	/* the agent refused or the command failed */
#define VG_EXIT_USAGE		2
#define VG_EXIT_UNREACHABLE	3	/* no agent on the socket */

enum vg_ctl_role {
	VG_ROLE_VIEWER,		/* anyone allowed on the socket */
	VG_ROLE_OPERATOR,	/* uid 0 or ctl.operator_group */
	VG_ROLE_ADMIN,		/* uid 0 or ctl.admin_group */
};

enum vg_ctl_cmd {
	VG_CTL_STATUS,		/* viewer */
	VG_CTL_EVENTS,		/* viewer: {"follow": bool} streams new ones */
	VG_CTL_METRICS,		/* viewer: Prometheus text in "text" */
	VG_CTL_FAILOVER,	/* operator: {"to": "name"} optional */
	VG_CTL_MAINTENANCE,	/* operator: {"on": bool} */
	VG_CTL_RELOAD,		/* admin */
	VG_CTL_CONFIG_DIFF,	/* operator, read only: {"text": the file,
				 * "name": its name for the errors} */
	VG_CTL_CONFIG_PUSH,	/* admin: {"text", "name"} as config_diff,
				 * "allow_down": true optional;
				 * answered when the push ends */
	VG_CTL_KEY_ROTATE,	/* admin: {"file": the new key's absolute
				 * path on every node}; answered when the
				 * rotation's pushes end */
	VG_CTL_CMD_MAX
};

struct vg_ctl_cmd_info {
	const char		*name;
	enum vg_ctl_role	role;	/* the least role allowed to run it */
};

extern const struct vg_ctl_cmd_info vg_ctl_cmds[VG_CTL_CMD_MAX];

#define VG_CTL_NAME_MAX		256	/* config_diff's "name" */

struct vg_ctl_request {
	enum vg_ctl_cmd		cmd;
	int			follow;		/* events */
	int			on;		/* maintenance */
	char			to[64];		/* failover: "" = the best other */
	char			group[64];	/* failover: "" = the first */
	char			*text;		/* config_diff: the file, no NUL */
	size_t			text_len;
	char			name[VG_CTL_NAME_MAX];	/* config_diff; the
						 * key_rotate's file */
	int			allow_down;	/* config_push */
};

/*
 * Parses one request line (without its newline).  Pure.  Returns 0, or -1
 * with a message for the client in err (and nothing to clear).  A request
 * parsed is cleared with vg_ctl_request_clear once handled.
 */
int		 vg_ctl_parse_request(const char *line, size_t len,
		    struct vg_ctl_request *, char *err, size_t errlen);
void		 vg_ctl_request_clear(struct vg_ctl_request *);
const char	*vg_ctl_role_name(enum vg_ctl_role);

#endif
