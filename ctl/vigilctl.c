/*
 * vigilctl: the operator's view of a vigild.  Sends one JSON request line to
 * the agent's ctl socket, reads the one-line JSON reply, and prints it as a
 * table or, with --json, as the agent sent it.  The protocol's types are in
 * agent/ctlproto.h; nothing here re-declares them.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctlproto.h"
#include "version.h"

#define REPLY_MAX	(4 * 1024 * 1024)

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: vigilctl [-s socket] command [args] [--json]\n"
	    "commands:\n"
	    "  status                  the cluster, this node and every peer\n"
	    "  events [--follow]       the last 1000 events; -f: and new ones\n"
	    "  metrics                 Prometheus text\n"
	    "  failover [--to NODE] [--group NAME]\n"
	    "                          hand the VIPs (of one group) over "
	    "(operator)\n"
	    "  maintenance on|off      drain this node, or put it back (operator)\n"
	    "  reload                  re-read the configuration (admin)\n"
	    "  config diff FILE        what FILE would change, and whether the\n"
	    "                          change is live or safety-relevant (operator)\n"
	    "  config push FILE [--allow-down]\n"
	    "                          FILE to every node, all or nothing; live\n"
	    "                          or safety changes (safety through a joint\n"
	    "                          configuration), at a higher epoch (admin);\n"
	    "                          --allow-down: nodes silent at the deadline\n"
	    "                          catch up later, if a quorum staged it\n"
	    "  key rotate FILE         every node to the key in FILE (the same\n"
	    "                          path on every node) in three pushes,\n"
	    "                          without a gap (admin)\n"
	    "options:\n"
	    "  -s socket the agent's ctl socket (default %s)\n"
	    "  --json    print the agent's JSON reply\n"
	    "  --help    this text; --version: vigilctl's version\n"
	    "exit: 0 ok, 1 refused or failed, 2 usage, 3 agent unreachable\n",
	    VG_CTL_SOCKET_DEFAULT);
}

/* A usage error: the reason, then the usage, on stderr; exit 2. */
static void __attribute__((format(printf, 1, 2), noreturn))
bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("vigilctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	exit(VG_EXIT_USAGE);
}

static int
ctl_connect(const char *path, int timeout_s)
{
	struct sockaddr_un sun;
	struct timeval tv = { timeout_s, 0 };
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "vigilctl: socket path too long: %s\n", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "vigilctl: cannot reach the agent at %s: %s\n",
		    path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/* One line from fd, buffered in buf (len bytes) across calls; NULL at EOF. */
static char *
read_line(int fd, char **buf, size_t *len, size_t *cap)
{
	char *nl, *line;
	ssize_t n;

	for (;;) {
		if (*buf != NULL && (nl = memchr(*buf, '\n', *len)) != NULL) {
			size_t l = (size_t)(nl - *buf);

			if ((line = malloc(l + 1)) == NULL)
				return NULL;
			memcpy(line, *buf, l);
			line[l] = '\0';
			memmove(*buf, nl + 1, *len - l - 1);
			*len -= l + 1;
			return line;
		}
		if (*len + 4096 > *cap) {
			char *nb;

			if (*cap >= REPLY_MAX ||
			    (nb = realloc(*buf, *cap ? *cap * 2 : 8192)) == NULL)
				return NULL;
			*buf = nb;
			*cap = *cap ? *cap * 2 : 8192;
		}
		n = recv(fd, *buf + *len, *cap - *len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0)
			errno = 0;	/* closed: not a timeout (EAGAIN) */
		if (n <= 0)
			return NULL;
		*len += (size_t)n;
	}
}

static json_object *
get(json_object *o, const char *k)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, k, &v);
	return v;
}

static const char *
str(json_object *o, const char *k)
{
	json_object *v = get(o, k);

	return v ? json_object_get_string(v) : "-";
}

static void
fmt_ms(char *buf, size_t len, json_object *v)
{
	if (v == NULL)
		snprintf(buf, len, "never");
	else
		snprintf(buf, len, "%lld ms ago", (long long)json_object_get_int64(v));
}

static void
fmt_us(char *buf, size_t len, json_object *v)
{
	if (v == NULL)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.3f ms", json_object_get_int64(v) / 1000.0);
}

static long long
drops_total(json_object *drops)
{
	long long t = 0;

	json_object_object_foreach(drops, k, v) {
		(void)k;
		t += json_object_get_int64(v);
	}
	return t;
}

static void
drops_line(json_object *drops)
{
	int any = 0;

	json_object_object_foreach(drops, k, v) {
		if (json_object_get_int64(v) == 0)
			continue;
		printf("%s%s %lld", any ? ", " : "  drops: ", k,
		    (long long)json_object_get_int64(v));
		any = 1;
	}
	if (any)
		printf("\n");
}

static int colour;

static const char *
state_colour(const char *st)
{
	if (!colour)
		return "";
	if (strcmp(st, "active") == 0)
		return "\033[1;32m";
	if (strcmp(st, "fault") == 0 || strcmp(st, "no-quorum") == 0)
		return "\033[1;31m";
	if (strcmp(st, "maintenance") == 0 || strcmp(st, "candidate") == 0)
		return "\033[1;33m";
	return "";
}

static const char *
reset(void)
{
	return colour ? "\033[0m" : "";
}

static const char *
peer_name(json_object *r, int id)
{
	json_object *nd = get(r, "node"), *peers = get(r, "peers");
	size_t i;

	if (id == 0)
		return "none";
	if (nd && json_object_get_int(get(nd, "id")) == id)
		return str(nd, "name");
	for (i = 0; peers && i < json_object_array_length(peers); i++) {
		json_object *p = json_object_array_get_idx(peers, i);

		if (json_object_get_int(get(p, "id")) == id)
			return str(p, "name");
	}
	return "?";
}

/* A line per VIP group, in a file with `groups` (the one implicit group
 * "default" is the node's line above): this node's state in it, its
 * term, its active, the lease when active here, its VIPs. */
static void
print_groups(json_object *r, json_object *groups)
{
	size_t i, j, n = groups ? json_object_array_length(groups) : 0;
	json_object *g, *v, *l;

	if (n == 1 && strcmp(str(json_object_array_get_idx(groups, 0),
	    "name"), "default") == 0)
		return;
	for (i = 0; i < n; i++) {
		g = json_object_array_get_idx(groups, i);
		printf("group   %-12s %s%-11s%s term %-6s active %-12s",
		    str(g, "name"), state_colour(str(g, "state")),
		    str(g, "state"), reset(), str(g, "term"),
		    peer_name(r, json_object_get_int(get(g, "active"))));
		if ((v = get(g, "lease_remaining_ms")) != NULL)
			printf(" lease %lld ms%s", (long long)
			    json_object_get_int64(v), json_object_get_boolean(
			    get(g, "lapsed")) ? " (lapsed)" : "");
		l = get(g, "vips");
		for (j = 0; l && j < json_object_array_length(l) && j < 4; j++)
			printf("%s%s", j ? " " : "  vips ", json_object_get_string(
			    json_object_array_get_idx(l, j)));
		if (l && json_object_array_length(l) > 4)
			printf(" ... (%zu)", json_object_array_length(l));
		printf("\n");
	}
}

static void
print_status(json_object *r)
{
	json_object *cl = get(r, "cluster"), *nd = get(r, "node");
	json_object *peers = get(r, "peers"), *vips = get(r, "vips");
	json_object *tracks = get(r, "tracks"), *v;
	size_t i, n;

	printf("cluster %s (id %s)  epoch %s  digest %s  safety %s  "
	    "interval %s ms  dead_time %s ms  lease %s ms\n", str(cl, "name"),
	    str(cl, "id"), str(cl, "epoch"),
	    str(cl, "digest"), str(cl, "safety_digest"), str(cl, "interval_ms"),
	    str(cl, "dead_time_ms"), str(cl, "lease_ms"));
	printf("term %s  quorum %s of %s votes seen (%s needed)  active %s",
	    str(nd, "term"), str(nd, "votes_seen"), str(cl, "total_votes"),
	    str(cl, "quorum"), peer_name(r, json_object_get_int(get(nd,
	    "active"))));
	if ((v = get(nd, "active_for_ms")) != NULL)
		printf(" for %.1f s", json_object_get_int64(v) / 1000.0);
	printf("\n");
	printf("node    %s (id %s, %s)  %s  %s%s%s  priority %s (configured %s)",
	    str(nd, "name"), str(nd, "id"), str(nd, "role"), str(nd, "address"),
	    state_colour(str(nd, "state")), str(nd, "state"), reset(),
	    str(nd, "priority"), str(nd, "config_priority"));
	if ((v = get(nd, "lease_remaining_ms")) != NULL)
		printf("  lease %lld ms%s", (long long)json_object_get_int64(v),
		    json_object_get_boolean(get(nd, "lapsed")) ? " (lapsed)" : "");
	if ((v = get(nd, "link_down")) != NULL)
		printf("  link %s down", json_object_get_string(v));
	if (json_object_get_boolean(get(nd, "preemption_held")))
		printf("  preemption held (flapping)");
	printf("\n");
	print_groups(r, get(r, "groups"));
	n = vips ? json_object_array_length(vips) : 0;
	for (i = 0; i < n && i < 8; i++) {
		json_object *x = json_object_array_get_idx(vips, i);

		printf("vip     %s on %s  holder %s%s\n", str(x, "address"),
		    str(x, "interface"), peer_name(r, json_object_get_int(get(x,
		    "holder"))), json_object_get_boolean(get(x, "held_here")) ?
		    " (here)" : "");
	}
	if (n > 8)
		printf("vip     ... and %zu more\n", n - 8);
	n = tracks ? json_object_array_length(tracks) : 0;
	for (i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(tracks, i);

		printf("track   %s  %s  weight %s  runs %s  failures %s\n",
		    str(t, "name"), json_object_get_boolean(get(t, "up")) ? "up" :
		    "DOWN", str(t, "weight"), str(t, "runs"), str(t, "failures"));
	}
	printf("\n%-16s %5s %-20s %-12s %4s %-5s %-14s %-10s %8s %8s %6s %-7s "
	    "%s\n", "PEER", "ID", "ADDRESS", "STATE", "PRIO", "ALIVE",
	    "LAST SEEN", "RTT", "RX", "LOST", "DROPS", "DIGEST", "EPOCH");
	n = peers ? json_object_array_length(peers) : 0;
	for (i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(peers, i);
		json_object *dm = get(p, "digest_match");
		char seen[32], rtt[32];

		fmt_ms(seen, sizeof(seen), get(p, "last_seen_ms"));
		fmt_us(rtt, sizeof(rtt), get(p, "rtt_us"));
		/* the epoch it runs, starred if it or the settings differ */
		printf("%-16s %5s %-20s %s%-12s%s %4s %-5s %-14s %-10s %8s %8s "
		    "%6lld %-7s %s%s\n", str(p, "name"), str(p, "id"),
		    str(p, "address"), state_colour(str(p, "state")),
		    str(p, "state"), reset(), str(p, "priority"),
		    json_object_get_boolean(get(p, "alive")) ? "yes" : "no", seen,
		    rtt, str(p, "rx"), str(p, "lost"),
		    drops_total(get(p, "drops")),
		    dm == NULL ? "-" : json_object_get_boolean(dm) ? "ok" :
		    "DIFFERS", str(p, "epoch"), get(p, "conf_agrees") != NULL &&
		    !json_object_get_boolean(get(p, "conf_agrees")) ? "*" : "");
	}
	/* which peer's safety configuration differs, and in what */
	for (i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(peers, i);
		json_object *d = get(p, "digest_differs");
		size_t j, nparts = d ? json_object_array_length(d) : 0;

		if (get(p, "agrees") == NULL ||
		    json_object_get_boolean(get(p, "agrees")))
			continue;
		printf("%s: configuration DIFFERS (", str(p, "name"));
		for (j = 0; j < nparts; j++)
			printf("%s%s", j ? ", " : "", json_object_get_string(
			    json_object_array_get_idx(d, j)));
		printf("%s) for %.1f s: its votes and echoes are not counted\n",
		    nparts ? "" : "which part: unknown", json_object_get_int64(get(p,
		    "disagree_since_ms")) / 1000.0);
	}
	/* which peer runs another epoch or settings: shown, not refused */
	for (i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(peers, i);
		json_object *ca = get(p, "conf_agrees");

		if (ca == NULL || json_object_get_boolean(ca))
			continue;
		printf("%s: epoch %s (this node %s), settings %s %s\n",
		    str(p, "name"), str(p, "epoch"), str(cl, "epoch"),
		    str(p, "conf_digest"), strcmp(str(p, "conf_digest"),
		    str(cl, "digest")) == 0 ? "the same" : "differ");
	}
	if (drops_total(get(r, "drops")) > 0) {
		printf("\n");
		drops_line(get(r, "drops"));
	}
}

static void
print_event(json_object *e)
{
	json_object *t = get(e, "time_ms");
	time_t secs = t ? (time_t)(json_object_get_int64(t) / 1000) : 0;
	struct tm tm;
	char when[64];

	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%s.%03lld  %-8s %s\n", when,
	    t ? (long long)(json_object_get_int64(t) % 1000) : 0LL,
	    str(e, "kind"), str(e, "text"));
}

/* Each node's answer to a push, after its message or error. */
static void
print_push(json_object *r)
{
	json_object *l = get(r, "nodes"), *n;
	size_t i;

	if (get(r, "message") != NULL)
		printf("%s\n", str(r, "message"));
	for (i = 0; l != NULL && i < json_object_array_length(l); i++) {
		n = json_object_array_get_idx(l, i);
		printf("  %-16s %s%s%s\n", str(n, "name"), str(n, "status"),
		    get(n, "error") != NULL ? ": " : "",
		    get(n, "error") != NULL ? str(n, "error") : "");
	}
}

/* config_diff: one line a change, then what the whole change is. */
static void
print_diff(json_object *r)
{
	json_object *l = get(r, "changes"), *rl = get(r, "reload");
	json_object *ep = get(r, "epoch"), *cd = get(r, "digest");
	size_t i, n = l ? json_object_array_length(l) : 0;

	printf("%s against the running configuration: epoch %s -> %s, "
	    "digest %s -> %s\n", str(r, "file"), str(ep, "running"),
	    str(ep, "file"), str(cd, "running"), str(cd, "file"));
	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(l, i);
		const char *kind = str(c, "kind");

		printf("  %-8s %s: %s -> %s\n", strcmp(kind, "live") == 0 ?
		    "live" : strcmp(kind, "safety") == 0 ? "SAFETY" :
		    "RESTART", str(c, "what"), str(c, "from"), str(c, "to"));
	}
	if (json_object_get_int64(get(r, "dropped")) > 0)
		printf("  ... and %s more\n", str(r, "dropped"));
	printf("change: %s\n", str(r, "says"));
	if (json_object_get_boolean(get(r, "new_election")))
		printf("election: a new one (no active, or the file leaves the "
		    "active out or makes it a witness)\n");
	else
		printf("election: the active stays active\n");
	if (rl != NULL)
		printf("reload: refused here: %s\n", json_object_get_string(rl));
}

static void
print_reply(const char *cmd, json_object *r)
{
	json_object *l;
	size_t i;

	if (strcmp(cmd, "status") == 0)
		print_status(r);
	else if (strcmp(cmd, "events") == 0 && (l = get(r, "events")) != NULL) {
		for (i = 0; i < json_object_array_length(l); i++)
			print_event(json_object_array_get_idx(l, i));
	} else if (strcmp(cmd, "metrics") == 0)
		fputs(str(r, "text"), stdout);
	else if (strcmp(cmd, "config_diff") == 0)
		print_diff(r);
	else if (strcmp(cmd, "config_push") == 0)
		print_push(r);
	else if (get(r, "message") != NULL)
		printf("%s\n", str(r, "message"));
}

/* FILE's bytes, NUL-terminated, for config diff and push; a usage error
 * exits. */
static char *
read_file(const char *path, size_t *lenp)
{
	FILE *f;
	char *text;
	size_t n;

	if ((f = fopen(path, "re")) == NULL)
		bad_usage("config: %s: %s", path, strerror(errno));
	if ((text = malloc(VG_CTL_MAX_LINE + 1)) == NULL) {
		fprintf(stderr, "vigilctl: out of memory\n");
		exit(VG_EXIT_REFUSED);
	}
	n = fread(text, 1, VG_CTL_MAX_LINE + 1, f);
	if (ferror(f) || n > VG_CTL_MAX_LINE || memchr(text, '\0', n)) {
		fprintf(stderr, "vigilctl: %s: %s\n", path, ferror(f) ?
		    "read error" : n > VG_CTL_MAX_LINE ? "larger than a ctl "
		    "request (64 KiB)" : "holds a NUL byte");
		exit(VG_EXIT_REFUSED);
	}
	fclose(f);
	text[n] = '\0';
	*lenp = n;
	return text;
}

/* FILE as an absolute path (malloc'd), symbolic links not resolved; a
 * file that is not there is a usage error. */
static char *
absolute(const char *path)
{
	char cwd[4096], *out;
	struct stat st;
	size_t n;

	if (stat(path, &st) == -1)
		bad_usage("key rotate: %s: %s", path, strerror(errno));
	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)) == NULL)
		bad_usage("key rotate: %s: the current directory: %s", path,
		    strerror(errno));
	n = strlen(path) + (path[0] == '/' ? 0 : strlen(cwd) + 1) + 1;
	if ((out = malloc(n)) == NULL) {
		fprintf(stderr, "vigilctl: out of memory\n");
		exit(VG_EXIT_REFUSED);
	}
	if (path[0] == '/')
		snprintf(out, n, "%s", path);
	else
		snprintf(out, n, "%s/%s", cwd, path);
	return out;
}

/* The request line (malloc'd) for the command and its arguments; a usage
 * error exits, naming what is wrong. */
static char *
build_request(const char *cmd, char **args, int nargs, const char *to,
    const char *group, int follow, int allow_down)
{
	json_object *o;
	const char *s;
	char *req, *text = NULL, *key = NULL;
	size_t len = 0;

	if (strcmp(cmd, "maintenance") == 0) {
		if (nargs == 0)
			bad_usage("maintenance needs on or off");
		if (strcmp(args[0], "on") != 0 && strcmp(args[0], "off") != 0)
			bad_usage("maintenance \"%s\": on or off", args[0]);
		if (nargs > 1)
			bad_usage("maintenance: unexpected \"%s\"", args[1]);
	} else if (strcmp(cmd, "config_diff") == 0 ||
	    strcmp(cmd, "config_push") == 0) {
		if (nargs != 1)
			bad_usage("config %s needs one FILE", cmd + 7);
		text = read_file(args[0], &len);
	} else if (strcmp(cmd, "key_rotate") == 0) {
		if (nargs != 1)
			bad_usage("key rotate needs one FILE");
		/* the agent's working directory is not ours; a symbolic
		 * link is kept as it is (the path must be the same on every
		 * node, not its target here) */
		key = absolute(args[0]);
	} else if (nargs != 0)
		bad_usage("%s takes no argument: unexpected \"%s\"", cmd,
		    args[0]);
	if (strcmp(cmd, "failover") != 0 && to != NULL)
		bad_usage("--to is for failover only");
	if (strcmp(cmd, "failover") != 0 && group != NULL)
		bad_usage("--group is for failover only");
	if (strcmp(cmd, "events") != 0 && follow)
		bad_usage("--follow is for events only");
	if (strcmp(cmd, "config_push") != 0 && allow_down)
		bad_usage("--allow-down is for config push only");
	o = json_object_new_object();
	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	if (strcmp(cmd, "events") == 0 && follow)
		json_object_object_add(o, "follow", json_object_new_boolean(1));
	if (strcmp(cmd, "failover") == 0 && to != NULL)
		json_object_object_add(o, "to", json_object_new_string(to));
	if (strcmp(cmd, "failover") == 0 && group != NULL)
		json_object_object_add(o, "group",
		    json_object_new_string(group));
	if (allow_down)
		json_object_object_add(o, "allow_down",
		    json_object_new_boolean(1));
	if (key != NULL) {
		json_object_object_add(o, "file", json_object_new_string(key));
		free(key);
	}
	if (strcmp(cmd, "maintenance") == 0)
		json_object_object_add(o, "on", json_object_new_boolean(
		    strcmp(args[0], "on") == 0));
	if (text != NULL) {
		json_object_object_add(o, "name", json_object_new_string_len(
		    args[0], (int)strnlen(args[0], VG_CTL_NAME_MAX - 1)));
		json_object_object_add(o, "text",
		    json_object_new_string_len(text, (int)len));
		free(text);
	}
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (strlen(s) > VG_CTL_MAX_LINE) {
		fprintf(stderr, "vigilctl: %s: the request would be %zu bytes, "
		    "more than a ctl request may be (%d)\n", cmd, strlen(s),
		    VG_CTL_MAX_LINE);
		exit(VG_EXIT_REFUSED);
	}
	if ((req = malloc(strlen(s) + 2)) == NULL) {
		fprintf(stderr, "vigilctl: out of memory\n");
		exit(VG_EXIT_REFUSED);
	}
	snprintf(req, strlen(s) + 2, "%s\n", s);
	json_object_put(o);
	return req;
}

int
main(int argc, char *argv[])
{
	const char *sock = VG_CTL_SOCKET_DEFAULT, *cmd = NULL, *to = NULL;
	const char *group = NULL;
	char *args[8], *req, *reply, *buf = NULL;
	size_t blen = 0, bcap = 0, reqlen;
	int i, nargs = 0, json = 0, follow = 0, allow_down = 0, rc, fd, serr;
	int wait_s;
	json_object *r, *ok;
	ssize_t n;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-s") == 0 || strcmp(argv[i], "--to") == 0 ||
		    strcmp(argv[i], "--group") == 0) {
			if (i + 1 == argc || argv[i + 1][0] == '\0' ||
			    (argv[i][1] == '-' && argv[i + 1][0] == '-'))
				bad_usage("%s needs %s", argv[i],
				    argv[i][1] == 's' ? "a socket path" :
				    argv[i][2] == 'g' ? "a group's name" :
				    "a node's name");
			if (argv[i][1] == 's')
				sock = argv[++i];
			else if (argv[i][2] == 'g')
				group = argv[++i];
			else
				to = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0 ||
		    strcmp(argv[i], "-j") == 0)
			json = 1;
		else if (strcmp(argv[i], "--follow") == 0 ||
		    strcmp(argv[i], "-f") == 0)
			follow = 1;
		else if (strcmp(argv[i], "--allow-down") == 0)
			allow_down = 1;
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return VG_EXIT_OK;
		} else if (strcmp(argv[i], "-V") == 0 ||
		    strcmp(argv[i], "--version") == 0) {
			printf("vigilctl %s\n", VG_RELEASE);
			return VG_EXIT_OK;
		} else if (argv[i][0] == '-')
			bad_usage("unknown option \"%s\"", argv[i]);
		else if (cmd == NULL)
			cmd = argv[i];
		else if (nargs < 8)
			args[nargs++] = argv[i];
		else
			bad_usage("too many arguments");
	}
	if (cmd == NULL)
		bad_usage("no command");
	/* "config diff FILE" is the agent's config_diff, "config push FILE"
	 * its config_push, "key rotate FILE" its key_rotate */
	if (strcmp(cmd, "key") == 0) {
		if (nargs == 0 || strcmp(args[0], "rotate") != 0)
			bad_usage("key: rotate FILE");
		cmd = "key_rotate";
		memmove(args, args + 1, (size_t)--nargs * sizeof(args[0]));
	} else if (strcmp(cmd, "key_rotate") == 0)
		bad_usage("unknown command \"%s\"", cmd);
	if (strcmp(cmd, "config") == 0) {
		if (nargs == 0 || (strcmp(args[0], "diff") != 0 &&
		    strcmp(args[0], "push") != 0))
			bad_usage("config: diff FILE or push FILE");
		cmd = strcmp(args[0], "diff") == 0 ? "config_diff" :
		    "config_push";
		memmove(args, args + 1, (size_t)--nargs * sizeof(args[0]));
	} else if (strcmp(cmd, "config_diff") == 0 ||
	    strcmp(cmd, "config_push") == 0)
		bad_usage("unknown command \"%s\"", cmd);
	colour = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	for (i = 0; i < VG_CTL_CMD_MAX; i++)
		if (strcmp(cmd, vg_ctl_cmds[i].name) == 0)
			break;
	if (i == VG_CTL_CMD_MAX)
		bad_usage("unknown command \"%s\"", cmd);
	req = build_request(cmd, args, nargs, to, group, follow, allow_down);
	/* a hand-over or a push may take a while (the agent answers a
	 * failover by 2 dead_time + 1 s, a push by its deadline); a
	 * follower waits forever */
	wait_s = strcmp(cmd, "config_push") == 0 ||
	    strcmp(cmd, "key_rotate") == 0 ? 120 :
	    strcmp(cmd, "failover") == 0 ? 60 : 10;
	if ((fd = ctl_connect(sock, wait_s)) == -1) {
		free(req);
		return VG_EXIT_UNREACHABLE;
	}
	/* a full agent answers at once and closes: its line may be there
	 * even when the send failed, so read before giving up */
	reqlen = strlen(req);
	n = send(fd, req, reqlen, MSG_NOSIGNAL);
	serr = errno;
	free(req);
	if ((reply = read_line(fd, &buf, &blen, &bcap)) == NULL) {
		int timed_out = errno == EAGAIN || errno == EWOULDBLOCK;

		close(fd);
		free(buf);
		if (n != (ssize_t)reqlen) {
			fprintf(stderr, "vigilctl: send to %s: %s\n", sock,
			    strerror(serr));
			return VG_EXIT_UNREACHABLE;
		}
		if (timed_out) {
			/* it took the request: what it does is not known */
			fprintf(stderr, "vigilctl: no answer from %s within "
			    "%d s; the agent took the request, which may still "
			    "complete (see vigilctl status)\n", sock, wait_s);
			return VG_EXIT_REFUSED;
		}
		fprintf(stderr, "vigilctl: no reply from %s\n", sock);
		return VG_EXIT_UNREACHABLE;
	}
	if ((r = json_tokener_parse(reply)) == NULL) {
		fprintf(stderr, "vigilctl: the agent's reply is not JSON\n");
		free(reply);
		free(buf);
		close(fd);
		return VG_EXIT_REFUSED;
	}
	ok = get(r, "ok");
	rc = ok != NULL && json_object_get_boolean(ok) ? VG_EXIT_OK :
	    VG_EXIT_REFUSED;
	if (json)
		printf("%s\n", reply);
	else if (rc != VG_EXIT_OK) {
		json_object *errs = get(r, "errors");
		size_t k;

		fprintf(stderr, "vigilctl: %s\n", str(r, "error"));
		for (k = 0; errs != NULL && k < json_object_array_length(errs); k++)
			fprintf(stderr, "  %s\n", json_object_get_string(
			    json_object_array_get_idx(errs, k)));
	} else
		print_reply(cmd, r);
	json_object_put(r);
	free(reply);
	if (follow && rc == VG_EXIT_OK) {
		struct timeval tv = { 0, 0 };	/* no timeout while following */

		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		fflush(stdout);
		while ((reply = read_line(fd, &buf, &blen, &bcap)) != NULL) {
			if (json)
				printf("%s\n", reply);
			else if ((r = json_tokener_parse(reply)) != NULL) {
				print_event(get(r, "event"));
				json_object_put(r);
			}
			fflush(stdout);
			free(reply);
		}
	}
	free(buf);
	close(fd);
	return rc;
}
