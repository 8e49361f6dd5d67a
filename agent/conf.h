/*
 * conf: the cluster configuration, one libconfig file shared by every node,
 * parsed into a fresh struct vg_conf and validated completely (every range,
 * every cross-field rule) before anything uses it.  Errors are collected as
 * "file:line: message", all of them, not only the first.
 */
#ifndef VG_CONF_H
#define VG_CONF_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "clock.h"
#include "log.h"
#include "wire.h"

#define VG_MAX_NODES		64
#define VG_MAX_VIPS		4096
#define VG_NAME_MAX		64
#define VG_PATH_MAX		256
#define VG_SOCK_PATH_MAX	108	/* sun_path */

#define VG_DEFAULT_PORT		5405
#define VG_FLAP_LIMIT		63	/* max_failovers at most */
#define VG_DEFAULT_INTERVAL_MS	100
#define VG_DEFAULT_DEAD_FACTOR	5	/* dead_time = 5 intervals */
#define VG_DEFAULT_MAX_DRIFT	0.01
#define VG_DEFAULT_VIP_LIFETIME	2
#define VG_DEFAULT_GARP_COUNT	3
#define VG_DEFAULT_GARP_INTERVAL_MS 10
#define VG_DEFAULT_GARP_REFRESH_MS 30000
#define VG_DEFAULT_SCRIPT_TIMEOUT_MS 10000
#define VG_DEFAULT_PREEMPT_DELAY_MS 30000
#define VG_DEFAULT_MAX_FAILOVERS 3
#define VG_DEFAULT_FLAP_WINDOW_MS 60000
/*
 * What a netlink batch of VIP changes is planned to cost (1000 VIPs were
 * measured at 13 ms to add and 9 ms to remove on a 2-core VM, with an ack
 * for each message; with one ack a batch, 8.6 and 5.1 ms in a namespace of
 * their own: vip.c; these leave room): the keeper starts removing that
 * long before the lease deadline,
 * and admits an add only if the add and the removal both fit before it.
 * vg_conf_batch() is the plan for n VIPs; the keeper raises it to what it
 * measures.
 */
#define VG_VIP_ADD_NS		(20 * 1000LL)	/* a VIP */
#define VG_VIP_DEL_NS		(15 * 1000LL)
#define VG_VIP_BATCH_NS		(200 * 1000LL)	/* a batch, whatever its size */
#define VG_DEFAULT_RT_PRIORITY	20	/* the keeper runs one above */
#define VG_DEFAULT_STATE_DIR	"/var/lib/vigil"
#define VG_DEFAULT_STATE_FILE	"/run/vigil/state"
#define VG_DEFAULT_CTL_SOCKET	"/run/vigil/vigil.sock"

enum vg_role {
	VG_ROLE_NODE,		/* may become active */
	VG_ROLE_WITNESS,	/* votes, never holds VIPs */
};

enum vg_auth_mode {
	VG_AUTH_HMAC,		/* HMAC-SHA256 truncated to 16 bytes */
	VG_AUTH_NONE,		/* labs only: warned about at every start */
};

struct vg_conf_node {
	uint16_t		id;
	char			name[VG_NAME_MAX];
	char			address[INET6_ADDRSTRLEN];
	struct sockaddr_storage	sa;		/* address and port */
	socklen_t		salen;
	uint16_t		port;
	uint8_t			priority;
	uint8_t			votes;
	enum vg_role		role;
	int			line;
};

struct vg_conf_vip {
	int			family;		/* AF_INET or AF_INET6 */
	uint8_t			addr[16];
	uint8_t			prefixlen;
	char			ifname[IF_NAMESIZE];
	char			text[INET6_ADDRSTRLEN + 8];	/* "addr/len" */
	uint8_t			group;		/* index in conf->groups */
	int			line;
};

#define VG_MAX_TRACKS	32
#define VG_GROUP_NAME_MAX	33	/* [a-z0-9_-]{1,32} */

/*
 * A VIP group (docs/design.md, "VIP groups"): its own election, its VIPs
 * moving together.  A file without `groups` has one, "default": every VIP,
 * every track, the nodes' priorities and the top-level preemption.
 */
struct vg_conf_group {
	char			name[VG_GROUP_NAME_MAX];
	size_t			vip_first, n_vips;	/* conf->vips[first..] */
	uint8_t			priority[VG_MAX_NODES];	/* by node index;
							 * 0: never holds it */
	uint32_t		tracks;		/* bit i: tracks[i] counts */
	int			preempt;
	vg_ns			preempt_delay;
	int			line;		/* 0: the implicit one */
};
#define VG_CONF_SHA256_LEN	32
#define VG_MAX_LINKS	64

/*
 * The safety-relevant configuration, in three parts, each with its own
 * digest (so that a mismatch can say which part differs).  Every node of a
 * cluster must agree on all three at all times: the election counts an
 * echo, grants a vote or counts a vote only between equal safety digests
 * (DESIGN.md, "Configuration agreement"), and a reload may not change them.
 */
enum vg_conf_part {
	VG_PART_MEMBERSHIP,	/* every node's id, name, address and port */
	VG_PART_VOTES,		/* every node's votes and role; the quorum */
	VG_PART_TIMING,		/* interval, dead_time, max_drift */
	VG_PART_MAX
};

struct vg_conf_track {
	char			name[VG_NAME_MAX];
	char			command[1024];	/* run with /bin/sh -c */
	vg_ns			interval, timeout;
	unsigned		fall, rise;
	uint8_t			weight;		/* 0: failing means fault */
	int			line;
};

struct vg_conf {
	char			path[VG_PATH_MAX];
	char			cluster[VG_NAME_MAX];
	uint32_t		cluster_id;
	/* the configuration epoch (docs/design.md, "Cluster-wide
	 * configuration"): one file per epoch, cluster-wide; never lower */
	uint32_t		epoch;
	vg_ns			interval;	/* h */
	vg_ns			dead_time;	/* D */
	double			max_drift;	/* rho */
	vg_ns			lease;		/* L, derived */
	uint16_t		port;
	enum vg_auth_mode	auth;
	char			auth_key_file[VG_PATH_MAX];
	int			auth_key_file_line;
	/* a rotation's keys, accepted and never sent with; local, live */
	char			auth_key_next[VG_PATH_MAX];
	int			auth_key_next_line;
	char			auth_key_previous[VG_PATH_MAX];
	int			auth_key_previous_line;
	char			state_dir[VG_PATH_MAX];
	char			state_file[VG_PATH_MAX];
	unsigned		vip_lifetime;	/* s: kernel valid/preferred lft */
	unsigned		garp_count;
	vg_ns			garp_interval;
	vg_ns			garp_refresh;	/* 0: never */
	int			preempt;
	vg_ns			preempt_delay;
	unsigned		max_failovers;	/* in flap_window: preemption held */
	vg_ns			flap_window;
	int			rt_priority;	/* SCHED_RR of the agent; 0 off */
	unsigned		quorum;		/* votes needed */
	unsigned		total_votes;
	struct {
		char		socket[VG_SOCK_PATH_MAX];
		char		operator_group[VG_NAME_MAX];
		char		admin_group[VG_NAME_MAX];
		int		viewers;	/* socket 0666: anyone may view */
	} ctl;
	struct {
		enum vg_log_level	level;
		enum vg_log_format	format;
		enum vg_log_target	target;
	} log;
	struct {
		char		notify[VG_PATH_MAX];
		char		notify_active[VG_PATH_MAX];
		char		notify_standby[VG_PATH_MAX];
		char		notify_fault[VG_PATH_MAX];
		char		notify_maintenance[VG_PATH_MAX];
		vg_ns		timeout;	/* script_timeout */
	} hooks;
	struct {
		char		listen[INET6_ADDRSTRLEN + 16];	/* "" off */
		char		textfile[VG_PATH_MAX];		/* "" off */
		vg_ns		textfile_interval;
	} metrics;
	struct vg_conf_track	tracks[VG_MAX_TRACKS];
	size_t			n_tracks;
	/* the links followed: every VIP's interface and track_interfaces */
	char			links[VG_MAX_LINKS][IF_NAMESIZE];
	size_t			n_links;
	struct vg_conf_node	nodes[VG_MAX_NODES];
	size_t			n_nodes;
	struct vg_conf_vip	*vips;		/* a group's contiguous */
	size_t			n_vips;
	struct vg_conf_group	groups[VG_MAX_GROUPS];
	size_t			n_groups;	/* 1 at least */
	int			groups_line;	/* the file's `groups`; 0 none */
	int			self;		/* index in nodes[], -1 if unresolved */
	/* of every cluster-wide setting (not the local ones, not the epoch):
	 * what the wire's conf_digest carries */
	uint32_t		digest;
	/* of the file's bytes: the SHA-256 (what a push will name the file
	 * by) and its first 32 bits */
	uint8_t			file_sha256[VG_CONF_SHA256_LEN];
	uint32_t		file_digest;
	/* of the safety-relevant part (what the wire's config_digest
	 * carries), and of each of its parts */
	uint32_t		safety_digest;
	uint32_t		part_digest[VG_PART_MAX];
};

#define VG_ERRS_MAX	64
#define VG_ERR_LEN	320

struct vg_errs {
	char		msg[VG_ERRS_MAX][VG_ERR_LEN];
	int		line[VG_ERRS_MAX];	/* kept in line order */
	size_t		n;
	size_t		dropped;	/* errors past VG_ERRS_MAX */
};

void	vg_errs_init(struct vg_errs *);
void	vg_errs_add(struct vg_errs *, const char *file, int line,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Parse and validate.  `self` names this node (NULL: do not resolve, as for
 * a syntax check of a file meant for any node).  Returns NULL with errs
 * filled on any error; the struct returned is complete and valid.
 */
struct vg_conf	*vg_conf_load(const char *path, const char *self,
		    struct vg_errs *);
struct vg_conf	*vg_conf_parse(const char *text, const char *filename,
		    const char *self, struct vg_errs *);
void		 vg_conf_free(struct vg_conf *);
/*
 * What vg_conf_load adds to vg_conf_parse: the file (with_file) and every
 * path it names (key, state, scripts, track programs) must be root's and
 * writable by nobody else (trust.h).  0, or -1 with errs added.
 */
int		 vg_conf_trust(const struct vg_conf *, int with_file,
		    struct vg_errs *);

const struct vg_conf_node *vg_conf_node_by_id(const struct vg_conf *, uint16_t);
const struct vg_conf_node *vg_conf_node_by_name(const struct vg_conf *,
		    const char *);
const char	*vg_role_name(enum vg_role);

/* Reload: the same VIPs (and what the keeper was given with them)? */
int		 vg_conf_vips_same(const struct vg_conf *, const struct vg_conf *);
/* The VIPs of `from` that `to` does not have, into out (from->n_vips room). */
size_t		 vg_conf_vips_gone(const struct vg_conf *from,
		    const struct vg_conf *to, struct vg_conf_vip *out);
/* What changed that a reload cannot apply locally (this node's id,
 * address or port, state_dir, ctl.socket, the cluster id, the group list:
 * "groups", its count, names or order, or a file gaining or losing
 * `groups`; NULL: nothing). */
const char	*vg_conf_fixed_changed(const struct vg_conf *old,
		    const struct vg_conf *new);
/*
 * Whether a reload from cur to next must be refused: a safety-relevant
 * field changed (every one named: "dead_time", "node n4 added", "votes of
 * n2"...; a node-by-node change is not safe: stop every node, change,
 * start), or one that only a restart applies.  0: it may go ahead; -1 with
 * the message in err.  Pure.
 */
int		 vg_conf_reload_refusal(const struct vg_conf *cur,
		    const struct vg_conf *next, char *err, size_t errlen);
/* The same; moves_ok: a VIP in another group is no refusal (a catch-up to
 * a committed file, whose every epoch the cluster checked against the one
 * before it). */
int		 vg_conf_reload_refusal_moves(const struct vg_conf *cur,
		    const struct vg_conf *next, int moves_ok, char *err,
		    size_t errlen);

/*
 * Whether a VIP of cur is in another group in next (by address): refused
 * by every reload, a joint move's FINAL and a push too, as two groups'
 * holders could hold it at once while the nodes change one by one.  It is
 * removed in one change and added in the next.  0, or -1 with the reason.
 */
int		 vg_conf_vip_moved(const struct vg_conf *cur,
		    const struct vg_conf *next, char *err, size_t errlen);

/*
 * What a new file would change over the running one, field by field (what
 * `vigilctl config diff` shows), each change classed; `kind` is the
 * gravest.  The safety-relevant fields are the ones vg_conf_reload_refusal
 * refuses (one list, in conf.c), the restart ones vg_conf_fixed_changed's;
 * everything else is live.  Pure.
 */
enum vg_change_kind {		/* in order of gravity */
	VG_CHANGE_NONE,
	VG_CHANGE_LIVE,		/* a reload applies it; the VIPs that stay stay */
	VG_CHANGE_SAFETY,	/* the cluster must change together */
	VG_CHANGE_RESTART,	/* only a restart of this node applies it */
};
#define VG_DIFF_MAX	64

struct vg_conf_change {
	enum vg_change_kind	kind;
	char			what[VG_NAME_MAX + 40];	/* "votes of n2" */
	char			from[160], to[160];	/* "" for none */
};

struct vg_conf_diff {
	enum vg_change_kind	kind;
	size_t			n, dropped;	/* past VG_DIFF_MAX */
	struct vg_conf_change	ch[VG_DIFF_MAX];
};

/* 1 if two tracks run the same check the same way (name aside). */
int		 vg_conf_track_same(const struct vg_conf_track *,
		    const struct vg_conf_track *);
void		 vg_conf_diff(const struct vg_conf *cur,
		    const struct vg_conf *next, struct vg_conf_diff *);
const char	*vg_change_kind_name(enum vg_change_kind);

/* The SHA-256 of a file's text and its first 32 bits (big-endian). */
void		 vg_conf_file_digest(const char *text, size_t len,
		    uint8_t sha256[VG_CONF_SHA256_LEN], uint32_t *digest);

/* "membership", "votes", "timing". */
const char	*vg_conf_part_name(enum vg_conf_part);
/*
 * The parts' hint that travels in the header (proto.h, digest_parts): a
 * 5-bit fold of each part digest and VG_PARTS_PRESENT.  It only tells
 * which part differs; agreement is decided on the whole safety digest.
 */
#define VG_PARTS_PRESENT	0x8000
uint16_t	 vg_conf_parts_hint(const struct vg_conf *);
/* The parts (bit 1 << part) that a peer's hint shows different from ours;
 * 0 if it sent none or none shows (a 1 in 32 chance per part). */
unsigned	 vg_conf_parts_differ(const struct vg_conf *, uint16_t hint);
/* "membership, timing" for a mask of parts, "unknown" for none. */
const char	*vg_conf_parts_str(unsigned mask, char *buf, size_t len);

/* "198.18.0.1:9465" or "[2001:db8::1]:9465" (literal addresses). */
int		 vg_conf_parse_hostport(const char *, struct sockaddr_storage *,
		    socklen_t *);

/* The planned time of a netlink batch that adds (add) or removes n VIPs. */
vg_ns		 vg_conf_batch(size_t n, int add);

/*
 * How long a VIP can outlive its last add when nothing removes it: the
 * kernel deletes it once vip_lifetime has passed, but checks lifetimes on
 * a coarse timer (whole seconds, rounded up): VG_VIP_EXPIRY_SLACK more.
 */
#define VG_VIP_EXPIRY_SLACK	(3 * 1000000000LL)
vg_ns		 vg_conf_vip_outlives(const struct vg_conf *);

/* L = D(1-rho)/(1+rho) - h/4, as in DESIGN.md; may be negative. */
vg_ns		 vg_conf_lease(vg_ns interval, vg_ns dead_time, double max_drift);

#endif
