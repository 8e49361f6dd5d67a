/*
 * control: ctl socket, clients, request lines, roles.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "control.h"
#include "log.h"

struct client {
	struct vg_control	*ctl;
	int			fd;
	ev_io			rio, wio;
	ev_timer		idle;
	ev_timer		stall;		/* replies waiting to be read */
	struct vg_ctl_caller	caller;
	char			*in;
	size_t			inlen;
	char			*out;
	size_t			outlen, outoff;
	int			closing;	/* close once out is flushed */
	int			eof;		/* it sends no more: close once
						 * what it sent is answered */
	int			subscribed;	/* events --follow */
	ev_timer		more;		/* lines left for the next round */
	int			deferred;	/* an answer is owed */
	uint64_t		id;
	struct client		*next;
};

#define ROLE_NAME_MAX	256	/* a group's name, as the config may have it */

struct vg_control {
	struct ev_loop		*loop;
	int			fd;
	ev_io			aio;
	char			path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	vg_ctl_handler		handler;
	void			*arg;
	struct client		*clients;
	struct vg_control_stats	st;
	struct vg_ratelimit	rl;
	int			operator_gid, admin_gid;
	/* the names those were looked up for (a reload with the same names
	 * asks NSS nothing: no lookup, perhaps of a hung directory, on the
	 * loop that sends the heartbeats) */
	char			operator_name[ROLE_NAME_MAX];
	char			admin_name[ROLE_NAME_MAX];
	uint64_t		next_id;
};

static void	client_free(struct client *);

enum vg_ctl_role
vg_ctl_role_of(uid_t uid, gid_t gid, const gid_t *groups, size_t n,
    int operator_gid, int admin_gid)
{
	int in_op = 0, in_admin = 0;
	size_t i;

	if (uid == 0)
		return VG_ROLE_ADMIN;
	for (i = 0; i <= n; i++) {
		gid_t g = i == n ? gid : groups[i];

		in_admin |= admin_gid >= 0 && g == (gid_t)admin_gid;
		in_op |= operator_gid >= 0 && g == (gid_t)operator_gid;
	}
	if (in_admin)
		return VG_ROLE_ADMIN;
	return in_op ? VG_ROLE_OPERATOR : VG_ROLE_VIEWER;
}

/*
 * Who may have one more client: VG_CTL_MAX_CLIENTS in all, of which
 * VG_CTL_ADMIN_SLOTS only root and admins may take, and at most
 * VG_CTL_MAX_PER_UID of any one other uid: no number of clients of the
 * operator group (subscribers that never read, say) locks root out.
 */
const char *
vg_ctl_admit(enum vg_ctl_role role, size_t clients, size_t of_uid)
{
	if (clients >= VG_CTL_MAX_CLIENTS)
		return VG_CTL_FULL;
	if (role == VG_ROLE_ADMIN)
		return NULL;
	if (clients >= VG_CTL_MAX_CLIENTS - VG_CTL_ADMIN_SLOTS)
		return VG_CTL_FULL;
	if (of_uid >= VG_CTL_MAX_PER_UID)
		return VG_CTL_UID_FULL;
	return NULL;
}

static size_t
count_uid(const struct vg_control *ctl, uid_t uid)
{
	const struct client *c;
	size_t n = 0;

	for (c = ctl->clients; c != NULL; c = c->next)
		n += c->caller.uid == uid;
	return n;
}

/* The caller's supplementary groups, from /proc: no NSS on the loop (a
 * kernel without SO_PEERGROUPS). */
static size_t
proc_groups(pid_t pid, gid_t *out, size_t max)
{
	char path[64], line[4096], *p, *end;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		for (p = line + 7; n < max; p = end) {
			unsigned long g = strtoul(p, &end, 10);

			if (end == p)
				break;
			out[n++] = (gid_t)g;
		}
		break;
	}
	fclose(f);
	return n;
}

/*
 * The caller's supplementary groups as the kernel took them at its
 * connect (SO_PEERGROUPS, Linux 4.13): not what /proc shows of whatever
 * process has its pid by the accept, and not hidden by hidepid.  /proc
 * only where the kernel has no SO_PEERGROUPS.  *out is buf, or a larger
 * array the caller frees.
 */
static size_t
peer_groups(int fd, pid_t pid, gid_t *buf, size_t max, gid_t **out)
{
	socklen_t len = (socklen_t)(max * sizeof(gid_t));
	gid_t *big;

	*out = buf;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, buf, &len) == 0)
		return len / sizeof(gid_t);
	if (errno == ERANGE && (big = malloc(len)) != NULL) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, big, &len) == 0) {
			*out = big;
			return len / sizeof(gid_t);
		}
		free(big);
	}
	if (errno == ENOPROTOOPT)
		return proc_groups(pid, buf, max);
	return 0;
}

static int
gid_of(const char *name)
{
	struct group *gr;

	if (name == NULL || name[0] == '\0' || (gr = getgrnam(name)) == NULL)
		return -1;
	return (int)gr->gr_gid;
}

static void
client_queue(struct client *c, const char *s, size_t len)
{
	char *n;

	if (c->outlen + len + 1 > 16 * VG_CTL_MAX_LINE) {
		/* A client that never reads its replies is not kept. */
		c->closing = 1;
		c->outlen = c->outoff;
		return;
	}
	if ((n = realloc(c->out, c->outlen + len + 1)) == NULL) {
		c->closing = 1;
		return;
	}
	c->out = n;
	memcpy(c->out + c->outlen, s, len);
	c->outlen += len;
	c->out[c->outlen++] = '\n';
}

static void
client_reply(struct client *c, json_object *reply)
{
	const char *s = json_object_to_json_string_ext(reply,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	client_queue(c, s, strlen(s));
}

static void
client_error(struct client *c, const char *msg)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(0));
	json_object_object_add(r, "error", json_object_new_string(msg));
	client_reply(c, r);
	json_object_put(r);
}

static void
complain(struct vg_control *ctl, const struct client *c, const char *what)
{
	uint64_t sup;

	if (vg_ratelimit_ok(&ctl->rl, vg_now(), &sup))
		log_warnx("ctl: client pid %d uid %u: %s%s", (int)c->caller.pid,
		    (unsigned)c->caller.uid, what,
		    sup ? " (and earlier complaints suppressed)" : "");
}

/* A parsed request: the role check, the handler, the reply. */
static void
client_handle(struct client *c, const struct vg_ctl_request *r)
{
	struct vg_control *ctl = c->ctl;
	const struct vg_ctl_request req = *r;
	const struct vg_ctl_cmd_info *ci;
	char err[256], scratch[64];
	json_object *reply;

	ci = &vg_ctl_cmds[req.cmd];
	if (c->caller.role < ci->role) {
		ctl->st.denied++;
		snprintf(err, sizeof(err), "permission denied: %s needs the %s "
		    "role", ci->name, vg_ctl_role_name(ci->role));
		log_warnx("ctl: denied %s to pid %d uid %u (%s)", ci->name,
		    (int)c->caller.pid, (unsigned)c->caller.uid,
		    vg_ctl_role_name(c->caller.role));
		/* into the audit list too (the handler records it) */
		c->caller.denied = err;
		c->caller.client = c->id;
		reply = ctl->handler(ctl->arg, &req, &c->caller, scratch,
		    sizeof(scratch));
		if (reply != NULL)
			json_object_put(reply);
		c->caller.denied = NULL;
		client_error(c, err);
		return;
	}
	c->caller.subscribe = 0;
	c->caller.defer = 0;
	c->caller.client = c->id;
	err[0] = '\0';
	reply = ctl->handler(ctl->arg, &req, &c->caller, err, sizeof(err));
	if (reply == NULL && c->caller.defer) {
		c->deferred = 1;
		ev_timer_stop(ctl->loop, &c->idle);	/* the agent answers */
		return;
	}
	if (reply == NULL) {
		client_error(c, err);
		return;
	}
	if (c->caller.subscribe) {
		c->subscribed = 1;
		ev_timer_stop(ctl->loop, &c->idle);	/* it only listens now */
	}
	if (!json_object_object_get_ex(reply, "ok", NULL))
		json_object_object_add(reply, "ok", json_object_new_boolean(1));
	client_reply(c, reply);
	json_object_put(reply);
}

static void
client_request(struct client *c, const char *line, size_t len)
{
	struct vg_control *ctl = c->ctl;
	struct vg_ctl_request req;
	char err[256];

	ctl->st.requests++;
	while (len > 0 && line[len - 1] == '\r')
		len--;
	if (vg_ctl_parse_request(line, len, &req, err, sizeof(err)) == -1) {
		ctl->st.bad_requests++;
		complain(ctl, c, err);
		client_error(c, err);
		return;
	}
	client_handle(c, &req);
	vg_ctl_request_clear(&req);
}

static void
client_flush(struct client *c)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			ev_io_start(c->ctl->loop, &c->wio);
			/* a client (a subscriber, say) that does not read
			 * its replies keeps its slot for VG_CTL_STALL_MS */
			if (!ev_is_active(&c->stall))
				ev_timer_start(c->ctl->loop, &c->stall);
			return;
		}
		if (n == -1) {		/* EPIPE: gone mid-reply */
			client_free(c);
			return;
		}
		c->outoff += (size_t)n;
	}
	c->outoff = c->outlen = 0;
	ev_io_stop(c->ctl->loop, &c->wio);
	ev_timer_stop(c->ctl->loop, &c->stall);
	if (c->closing || (c->eof && !c->deferred &&
	    memchr(c->in, '\n', c->inlen) == NULL)) {
		client_free(c);
		return;
	}
	/* drained: lines held back by the flood limit may go on (not while
	 * an answer is owed: vg_control_answer flushes, and then they do) */
	if (!c->deferred && !ev_is_active(&c->more) &&
	    memchr(c->in, '\n', c->inlen) != NULL)
		ev_timer_start(c->ctl->loop, &c->more);
}

/*
 * A few lines per loop round, and none while replies pile up unread: a
 * client that floods requests gets them answered at the pace it reads,
 * and the heartbeat path never waits for it.
 */
#define LINES_PER_ROUND	8
#define OUT_HIGH	(4 * VG_CTL_MAX_LINE)

static void
client_process(struct client *c)
{
	char *nl, *start = c->in;
	int lines = 0;

	while (!c->closing && !c->deferred && c->outlen - c->outoff < OUT_HIGH &&
	    lines < LINES_PER_ROUND && (nl = memchr(start, '\n',
	    c->inlen - (size_t)(start - c->in))) != NULL) {
		client_request(c, start, (size_t)(nl - start));
		start = nl + 1;
		lines++;
	}
	c->inlen -= (size_t)(start - c->in);
	memmove(c->in, start, c->inlen);
	/* more complete lines: go on next round (after the flush); while
	 * an answer is owed they wait for it (a 0 s timer armed again and
	 * again would spin the loop until then) */
	if (!c->closing && memchr(c->in, '\n', c->inlen) != NULL) {
		ev_io_stop(c->ctl->loop, &c->rio);
		if (!c->deferred && c->outlen - c->outoff < OUT_HIGH)
			ev_timer_start(c->ctl->loop, &c->more);
	} else if (!c->closing && !c->eof && !ev_is_active(&c->rio))
		ev_io_start(c->ctl->loop, &c->rio);
}

static void
client_more_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *c = w->data;

	(void)loop;
	(void)revents;
	client_process(c);
	client_flush(c);
}

static void
client_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c = w->data;
	ssize_t n;

	(void)loop;
	(void)revents;
	if (c->inlen > VG_CTL_MAX_LINE) {
		/* full of whole lines that wait for their turn: read on once
		 * client_process has taken them (it starts rio again) */
		ev_io_stop(c->ctl->loop, &c->rio);
		return;
	}
	n = read(c->fd, c->in + c->inlen, VG_CTL_MAX_LINE + 1 - c->inlen);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n == 0 && !c->subscribed) {
		/* it sends no more (a shutdown: socat or nc at the end of
		 * their input): its complete lines are still answered, the
		 * deferred one too, and then it is closed (client_flush); a
		 * line it left unfinished is not a request */
		c->eof = 1;
		ev_io_stop(c->ctl->loop, &c->rio);
		client_process(c);
		client_flush(c);
		return;
	}
	if (n <= 0) {
		client_free(c);
		return;
	}
	if (!c->subscribed)
		ev_timer_again(c->ctl->loop, &c->idle);
	c->inlen += (size_t)n;
	client_process(c);
	/* too long only if no line ends in it: a client that sends many
	 * short requests at once (and reads slowly) just waits */
	if (c->inlen > VG_CTL_MAX_LINE && memchr(c->in, '\n', c->inlen) ==
	    NULL) {
		c->ctl->st.overlong++;
		complain(c->ctl, c, "request line too long; closing");
		client_error(c, "request line too long (at most 65536 bytes)");
		c->closing = 1;
		ev_io_stop(c->ctl->loop, &c->rio);
	}
	client_flush(c);
}

static void
client_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	client_flush(w->data);
}

static void
client_idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *c = w->data;

	(void)loop;
	(void)revents;
	c->ctl->st.idle_closed++;
	client_free(c);
}

static void
client_stall_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *c = w->data;

	(void)loop;
	(void)revents;
	c->ctl->st.stalled_closed++;
	complain(c->ctl, c, "has not read its replies for 5 s; closing");
	client_free(c);
}

static void
client_free(struct client *c)
{
	struct vg_control *ctl = c->ctl;
	struct client **pp;

	for (pp = &ctl->clients; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	ev_io_stop(ctl->loop, &c->rio);
	ev_io_stop(ctl->loop, &c->wio);
	ev_timer_stop(ctl->loop, &c->idle);
	ev_timer_stop(ctl->loop, &c->more);
	ev_timer_stop(ctl->loop, &c->stall);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
	ctl->st.clients--;
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vg_control *ctl = w->data;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	gid_t groups[256], *gl = groups;
	enum vg_ctl_role role;
	const char *refusal;
	size_t ng;
	int fd;

	(void)revents;
	fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		close(fd);
		return;
	}
	ng = cred.uid == 0 ? 0 : peer_groups(fd, cred.pid, groups, 256, &gl);
	role = vg_ctl_role_of(cred.uid, cred.gid, gl, ng,
	    ctl->operator_gid, ctl->admin_gid);
	if (gl != groups)
		free(gl);
	if ((refusal = vg_ctl_admit(role, ctl->st.clients, count_uid(ctl,
	    cred.uid))) != NULL) {
		char line[128];
		int n = snprintf(line, sizeof(line),
		    "{\"ok\":false,\"error\":\"%s\"}\n", refusal);

		if (strcmp(refusal, VG_CTL_FULL) == 0)
			ctl->st.refused_full++;
		else
			ctl->st.refused_uid++;
		(void)!send(fd, line, (size_t)n, MSG_NOSIGNAL);
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	if ((c->in = malloc(VG_CTL_MAX_LINE + 1)) == NULL) {
		free(c);
		close(fd);
		return;
	}
	c->ctl = ctl;
	c->fd = fd;
	c->id = ++ctl->next_id;
	c->caller.pid = cred.pid;
	c->caller.uid = cred.uid;
	c->caller.gid = cred.gid;
	c->caller.role = role;
	ev_io_init(&c->rio, client_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, client_write_cb, fd, EV_WRITE);
	ev_init(&c->idle, client_idle_cb);
	c->idle.repeat = VG_CTL_IDLE_MS / 1000.0;
	ev_timer_init(&c->more, client_more_cb, 0., 0.);
	ev_timer_init(&c->stall, client_stall_cb, VG_CTL_STALL_MS / 1000.0, 0.);
	c->rio.data = c->wio.data = c->idle.data = c->more.data = c;
	c->stall.data = c;
	ev_io_start(loop, &c->rio);
	ev_timer_again(loop, &c->idle);
	c->next = ctl->clients;
	ctl->clients = c;
	ctl->st.clients++;
	ctl->st.accepted++;
}

/* Is an agent answering on this path?  Then we must not take it over. */
static int
socket_alive(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	if (fd == -1)
		return 0;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	return r == 0;
}

struct vg_control *
vg_control_open(struct ev_loop *loop, const char *path, const char *group,
    vg_ctl_handler handler, void *arg, char *err, size_t errlen)
{
	struct vg_control *ctl;
	struct sockaddr_un sun;
	struct group *gr;
	mode_t old;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "ctl socket path %s is too long", path);
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (socket_alive(&sun)) {
		snprintf(err, errlen, "another agent is answering on %s", path);
		return NULL;
	}
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		free(ctl);
		return NULL;
	}
	(void)unlink(path);		/* stale: nobody answered on it */
	old = umask(0117);
	if (bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(ctl->fd, 16) == -1) {
		snprintf(err, errlen, "ctl socket %s: %s", path, strerror(errno));
		umask(old);
		close(ctl->fd);
		free(ctl);
		return NULL;
	}
	umask(old);
	/* lchown, and fchmodat below without following: whoever could put
	 * a link at the path must not have a root file's owner or mode
	 * changed */
	if (group != NULL && group[0] != '\0' && (gr = getgrnam(group)) != NULL)
		if (lchown(path, (uid_t)-1, gr->gr_gid) == -1)
			log_warn("ctl: chown %s to group %s", path, group);
	memcpy(ctl->path, path, strlen(path) + 1);
	ctl->operator_gid = ctl->admin_gid = -1;
	ctl->loop = loop;
	ctl->handler = handler;
	ctl->arg = arg;
	ctl->rl = (struct vg_ratelimit)VG_RATELIMIT_INIT(VG_NS_PER_S, 5);
	ev_io_init(&ctl->aio, accept_cb, ctl->fd, EV_READ);
	ctl->aio.data = ctl;
	ev_io_start(loop, &ctl->aio);
	return ctl;
}

void
vg_control_close(struct vg_control *ctl)
{
	if (ctl == NULL)
		return;
	while (ctl->clients != NULL)
		client_free(ctl->clients);
	ev_io_stop(ctl->loop, &ctl->aio);
	close(ctl->fd);
	(void)unlink(ctl->path);
	free(ctl);
}

int
vg_control_set_viewers(struct vg_control *ctl, int anyone)
{
	/* the agent owns the file: no capability needed; a link put in
	 * its place is not followed (fails: logged) */
	if (fchmodat(AT_FDCWD, ctl->path, anyone ? 0666 : 0660,
	    AT_SYMLINK_NOFOLLOW) == -1) {
		log_warn("ctl: chmod %s", ctl->path);
		return -1;
	}
	return 0;
}

/* *gid for group `name` (NULL, "": none): looked up only when the name
 * changed or the last lookup failed; an unknown name is said. */
static void
role_gid(int *gid, char cur[ROLE_NAME_MAX], const char *name, const char *what)
{
	if (name == NULL)
		name = "";
	if (strcmp(cur, name) == 0 && (*gid != -1 || name[0] == '\0'))
		return;
	snprintf(cur, ROLE_NAME_MAX, "%s", name);
	*gid = gid_of(name);
	if (*gid == -1 && name[0] != '\0')
		log_warnx("ctl: %s \"%s\": no such group; nobody has its role "
		    "by group", what, name);
}

void
vg_control_set_groups(struct vg_control *ctl, const char *operator,
    const char *admin)
{
	role_gid(&ctl->operator_gid, ctl->operator_name, operator,
	    "operator_group");
	role_gid(&ctl->admin_gid, ctl->admin_name, admin, "admin_group");
}

int
vg_control_answer(struct vg_control *ctl, uint64_t id, json_object *reply)
{
	struct client *c;

	for (c = ctl->clients; c != NULL; c = c->next) {
		if (c->id != id || !c->deferred)
			continue;
		c->deferred = 0;
		if (!json_object_object_get_ex(reply, "ok", NULL))
			json_object_object_add(reply, "ok",
			    json_object_new_boolean(1));
		client_reply(c, reply);
		ev_timer_again(ctl->loop, &c->idle);
		ev_io_start(ctl->loop, &c->wio);	/* as in broadcast */
		return 1;
	}
	return 0;
}

void
vg_control_broadcast(struct vg_control *ctl, json_object *obj)
{
	struct client *c, *next;

	for (c = ctl->clients; c != NULL; c = next) {
		next = c->next;		/* a flush may free c */
		if (!c->subscribed || c->closing)
			continue;
		/* flushed from its own write callback, never from here: the
		 * broadcast may come from inside this very client's request */
		client_reply(c, obj);
		ev_io_start(ctl->loop, &c->wio);
	}
}

const struct vg_control_stats *
vg_control_stats(const struct vg_control *ctl)
{
	return &ctl->st;
}
