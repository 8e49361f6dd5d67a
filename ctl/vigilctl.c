/*
 * vigilctl: the operator's view of a vigild.  Sends one JSON request line to
 * the agent's ctl socket, reads the one-line JSON reply, and prints it as a
 * table or, with --json, as the agent sent it.  The protocol's types are in
 * agent/ctlproto.h; nothing here re-declares them.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlproto.h"

#define REPLY_MAX	(4 * 1024 * 1024)

static void
usage(void)
{
	fprintf(stderr,
	    "usage: vigilctl [-s socket] command [--json]\n"
	    "commands:\n"
	    "  status    the cluster, this node and every peer\n"
	    "options:\n"
	    "  -s socket the agent's ctl socket (default %s)\n"
	    "  --json    print the agent's JSON reply\n"
	    "exit: 0 ok, 1 refused or failed, 2 usage, 3 agent unreachable\n",
	    VG_CTL_SOCKET_DEFAULT);
	exit(VG_EXIT_USAGE);
}

/* Sends req, returns the reply line (malloc'd) or NULL: unreachable. */
static char *
roundtrip(const char *path, const char *req)
{
	struct sockaddr_un sun;
	struct timeval tv = { 5, 0 };
	size_t len = 0, cap = 4096;
	char *buf, *nl;
	ssize_t n = 0;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "vigilctl: socket path too long: %s\n", path);
		return NULL;
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
		return NULL;
	}
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
		fprintf(stderr, "vigilctl: send to %s: %s\n", path,
		    strerror(errno));
		close(fd);
		return NULL;
	}
	if ((buf = malloc(cap)) == NULL) {
		close(fd);
		return NULL;
	}
	for (;;) {
		if (len + 1 >= cap) {
			char *nb;

			if (cap >= REPLY_MAX || (nb = realloc(buf, cap * 2)) == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if ((nl = memchr(buf, '\n', len)) != NULL) {
			*nl = '\0';
			close(fd);
			return buf;
		}
	}
	fprintf(stderr, "vigilctl: no complete reply from %s%s%s\n", path,
	    n == -1 ? ": " : "", n == -1 ? strerror(errno) : "");
	free(buf);
	close(fd);
	return NULL;
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

static void
print_status(json_object *r)
{
	json_object *cl = get(r, "cluster"), *nd = get(r, "node");
	json_object *peers = get(r, "peers");
	size_t i, n;

	printf("cluster %s (id %s)  digest %s  quorum %s of %s votes  "
	    "interval %s ms  dead_time %s ms\n", str(cl, "name"), str(cl, "id"),
	    str(cl, "digest"), str(cl, "quorum"), str(cl, "total_votes"),
	    str(cl, "interval_ms"), str(cl, "dead_time_ms"));
	printf("node    %s (id %s, %s)  %s  state %s  priority %s  term %s\n",
	    str(nd, "name"), str(nd, "id"), str(nd, "role"), str(nd, "address"),
	    str(nd, "state"), str(nd, "priority"), str(nd, "term"));
	printf("\n%-16s %5s %-20s %-12s %-5s %-14s %-10s %8s %8s %6s %-6s\n",
	    "PEER", "ID", "ADDRESS", "STATE", "ALIVE", "LAST SEEN", "RTT",
	    "RX", "LOST", "DROPS", "DIGEST");
	n = peers ? json_object_array_length(peers) : 0;
	for (i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(peers, i);
		json_object *dm = get(p, "digest_match");
		char seen[32], rtt[32];

		fmt_ms(seen, sizeof(seen), get(p, "last_seen_ms"));
		fmt_us(rtt, sizeof(rtt), get(p, "rtt_us"));
		printf("%-16s %5s %-20s %-12s %-5s %-14s %-10s %8s %8s %6lld %-6s\n",
		    str(p, "name"), str(p, "id"), str(p, "address"),
		    str(p, "state"), json_object_get_boolean(get(p, "alive")) ?
		    "yes" : "no", seen, rtt, str(p, "rx"), str(p, "lost"),
		    drops_total(get(p, "drops")),
		    dm == NULL ? "-" : json_object_get_boolean(dm) ? "ok" :
		    "DIFFERS");
	}
	if (drops_total(get(r, "drops")) > 0) {
		printf("\n");
		drops_line(get(r, "drops"));
	}
}

int
main(int argc, char *argv[])
{
	const char *sock = VG_CTL_SOCKET_DEFAULT, *cmd = NULL;
	int i, json = 0, rc;
	char req[256], *reply;
	json_object *r, *ok;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			sock = argv[++i];
		else if (strcmp(argv[i], "--json") == 0 ||
		    strcmp(argv[i], "-j") == 0)
			json = 1;
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			usage();
		else if (argv[i][0] == '-' || cmd != NULL)
			usage();
		else
			cmd = argv[i];
	}
	if (cmd == NULL)
		usage();
	for (i = 0; i < VG_CTL_CMD_MAX; i++)
		if (strcmp(cmd, vg_ctl_cmds[i].name) == 0)
			break;
	if (i == VG_CTL_CMD_MAX) {
		fprintf(stderr, "vigilctl: unknown command \"%s\"\n", cmd);
		usage();
	}
	snprintf(req, sizeof(req), "{\"cmd\":\"%s\"}\n", vg_ctl_cmds[i].name);
	if ((reply = roundtrip(sock, req)) == NULL)
		return VG_EXIT_UNREACHABLE;
	if ((r = json_tokener_parse(reply)) == NULL) {
		fprintf(stderr, "vigilctl: the agent's reply is not JSON\n");
		free(reply);
		return VG_EXIT_REFUSED;
	}
	ok = get(r, "ok");
	rc = ok != NULL && json_object_get_boolean(ok) ? VG_EXIT_OK :
	    VG_EXIT_REFUSED;
	if (json)
		printf("%s\n", reply);
	else if (rc != VG_EXIT_OK)
		fprintf(stderr, "vigilctl: %s\n", str(r, "error"));
	else
		print_status(r);
	json_object_put(r);
	free(reply);
	return rc;
}
