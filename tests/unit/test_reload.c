/*
 * test_reload: what a reload compares, the config rules of the settings that
 * came with it, and the hand-over and flap checks of an election built from
 * a parsed config.
 *
 * - vg_conf_vips_same: the same list; a changed prefix, an added VIP, a
 *   changed interface, a changed vip_lifetime are not the same.
 * - vg_conf_vips_gone: exactly the VIPs that left.
 * - vg_conf_fixed_changed: this node's id, address, port, state_dir,
 *   ctl.socket, ctl.operator_group and the cluster id need a restart; a priority or a new peer
 *   does not.
 * - vg_conf_reload_refusal: every safety-relevant change (timing, a node
 *   added, removed, moved or renamed, votes, roles, quorum) is refused,
 *   each named, pointing to the stop-all procedure; priorities, the list's
 *   order, preemption, VIPs, hooks, tracks and local settings are not;
 *   what needs a restart is still refused.
 * - notify*, script_timeout, preempt*, max_failovers, flap_window, track,
 *   track_interfaces, vip_lifetime, garp_*: defaults, values, ranges, and
 *   errors with their lines.
 * - vg_el_handover_check, vg_el_flapping, vg_el_set_maintenance.
 * - vg_peers_reconf: a peer whose id stays keeps its replay window, round
 *   trip, liveness and counters (its name and address follow the config);
 *   a new one starts clean; the current table is not touched.  What is
 *   shown as alive goes false at dead_at, before vg_peer_tick runs.
 * - vg_conf_diff: each change named with its values and classed (live,
 *   safety, restart); safety exactly when vg_conf_reload_refusal refuses
 *   a safety change (one list); comments alone change nothing.
 * - vg_reload_prepare: an invalid file, a timing or membership change, a
 *   missing key are
 *   refused with the running config and peer table untouched and nothing
 *   held; a good one brings the next peer table (survivors keep their
 *   replay window, round trip and liveness; a new node is clean) and the
 *   VIP diff; vg_reload_swap is the commit, vg_reload_done frees the rest.
 * - vg_reload_prepare at a joint move's FINAL: membership and timing taken,
 *   the nodes left out kept in the table, a lower epoch or a restart
 *   change refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "election.h"
#include "peer.h"
#include "proto.h"
#include "reload.h"

#define FILE_NAME	"r.conf"
#include "confcheck.h"

/* Lines 1-2 */
#define HEAD \
	"cluster = \"r\";\n" \
	"auth = \"none\";\n"

/* Lines 3-7 */
#define NODES \
	"nodes = (\n" \
	"\t{ id = 1; name = \"n1\"; address = \"10.0.0.1\"; priority = 150; },\n" \
	"\t{ id = 2; name = \"n2\"; address = \"10.0.0.2\"; priority = 120; },\n" \
	"\t{ id = 3; name = \"n3\"; address = \"10.0.0.3\"; role = \"witness\"; }\n" \
	");\n"

/* HEAD NODES then `tail` (from line 8), for node n1. */
static struct vg_conf *
with_tail(const char *tail)
{
	char text[8192];

	snprintf(text, sizeof(text), "%s%s%s", HEAD, NODES, tail);
	return parse_ok(text, "n1");
}

/* Exactly one error, at line, holding substr. */
static void
expect_one(const char *tail, int line, const char *substr)
{
	char text[8192];

	snprintf(text, sizeof(text), "%s%s%s", HEAD, NODES, tail);
	expect_one_error(text, "n1", line, substr);
}

/* ---- the VIPs of a reload */

#define VIPS_ABC \
	"vips = (\n" \
	"\t{ address = \"198.51.100.1/24\"; interface = \"eth0\"; },\n" \
	"\t{ address = \"198.51.100.2/24\"; interface = \"eth0\"; },\n" \
	"\t{ address = \"2001:db8::3/64\"; interface = \"eth1\"; }\n" \
	");\n"

static void
test_vips_same(void **state)
{
	struct vg_conf *a = with_tail(VIPS_ABC);
	struct vg_conf *b = with_tail(VIPS_ABC "preempt = false;\n"
	    "max_failovers = 5;\nnotify = \"/bin/true\";\n");
	struct vg_conf *none1 = with_tail("");
	struct vg_conf *none2 = with_tail("vips = ();\n");

	(void)state;
	assert_true(vg_conf_vips_same(a, a));
	/* other settings do not matter */
	assert_true(vg_conf_vips_same(a, b));
	assert_true(vg_conf_vips_same(b, a));
	assert_true(vg_conf_vips_same(none1, none2));
	assert_false(vg_conf_vips_same(a, none1));
	assert_false(vg_conf_vips_same(none1, a));
	vg_conf_free(a);
	vg_conf_free(b);
	vg_conf_free(none1);
	vg_conf_free(none2);
}

static void
test_vips_changed(void **state)
{
	struct vg_conf *a = with_tail(VIPS_ABC);
	struct vg_conf *prefix = with_tail("vips = (\n"
	    "\t{ address = \"198.51.100.1/25\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"198.51.100.2/24\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"2001:db8::3/64\"; interface = \"eth1\"; }\n"
	    ");\n");
	struct vg_conf *added = with_tail("vips = (\n"
	    "\t{ address = \"198.51.100.1/24\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"198.51.100.2/24\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"2001:db8::3/64\"; interface = \"eth1\"; },\n"
	    "\t{ address = \"198.51.100.4/24\"; interface = \"eth0\"; }\n"
	    ");\n");
	struct vg_conf *iface = with_tail("vips = (\n"
	    "\t{ address = \"198.51.100.1/24\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"198.51.100.2/24\"; interface = \"eth2\"; },\n"
	    "\t{ address = \"2001:db8::3/64\"; interface = \"eth1\"; }\n"
	    ");\n");
	struct vg_conf *lifetime = with_tail(VIPS_ABC "vip_lifetime = 10;\n");
	struct vg_conf *addr = with_tail("vips = (\n"
	    "\t{ address = \"198.51.100.1/24\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"198.51.100.9/24\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"2001:db8::3/64\"; interface = \"eth1\"; }\n"
	    ");\n");

	(void)state;
	assert_int_equal(lifetime->vip_lifetime, 10);
	assert_int_equal(a->vip_lifetime, VG_DEFAULT_VIP_LIFETIME);
	assert_false(vg_conf_vips_same(a, prefix));
	assert_false(vg_conf_vips_same(a, added));
	assert_false(vg_conf_vips_same(added, a));
	assert_false(vg_conf_vips_same(a, iface));
	assert_false(vg_conf_vips_same(a, lifetime));
	assert_false(vg_conf_vips_same(lifetime, a));
	assert_false(vg_conf_vips_same(a, addr));
	vg_conf_free(a);
	vg_conf_free(prefix);
	vg_conf_free(added);
	vg_conf_free(iface);
	vg_conf_free(lifetime);
	vg_conf_free(addr);
}

static void
test_vips_gone(void **state)
{
	struct vg_conf *a = with_tail(VIPS_ABC);
	struct vg_conf *b = with_tail("vips = (\n"
	    "\t{ address = \"2001:db8::3/64\"; interface = \"eth1\"; },\n"
	    "\t{ address = \"198.51.100.4/24\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"198.51.100.1/24\"; interface = \"eth0\"; }\n"
	    ");\n");
	struct vg_conf *moved = with_tail("vips = (\n"
	    "\t{ address = \"198.51.100.1/24\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"198.51.100.2/24\"; interface = \"eth3\"; },\n"
	    "\t{ address = \"2001:db8::3/48\"; interface = \"eth1\"; }\n"
	    ");\n");
	struct vg_conf *none = with_tail("");
	struct vg_conf_vip out[8];
	size_t n;

	(void)state;
	/* the same: nothing gone, also in another order */
	memset(out, 0, sizeof(out));
	assert_int_equal(vg_conf_vips_gone(a, a, out), 0);
	/* a -> b: .2 left (.4 came, order changed) */
	n = vg_conf_vips_gone(a, b, out);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].text, "198.51.100.2/24");
	assert_string_equal(out[0].ifname, "eth0");
	assert_int_equal(out[0].family, AF_INET);
	assert_int_equal(out[0].prefixlen, 24);
	/* b -> a: .4 left */
	n = vg_conf_vips_gone(b, a, out);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].text, "198.51.100.4/24");
	/* a -> none: all, in their order */
	n = vg_conf_vips_gone(a, none, out);
	assert_int_equal(n, 3);
	assert_string_equal(out[0].text, "198.51.100.1/24");
	assert_string_equal(out[1].text, "198.51.100.2/24");
	assert_string_equal(out[2].text, "2001:db8::3/64");
	assert_int_equal(vg_conf_vips_gone(none, a, out), 0);
	/* another interface or prefix: the old one is gone */
	n = vg_conf_vips_gone(a, moved, out);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].text, "198.51.100.2/24");
	assert_string_equal(out[0].ifname, "eth0");
	assert_string_equal(out[1].text, "2001:db8::3/64");
	vg_conf_free(a);
	vg_conf_free(b);
	vg_conf_free(moved);
	vg_conf_free(none);
}

/*
 * The same IPv6 address written another way is the same VIP: a reload must
 * not count it as gone (vigild removes the gone ones after the new keeper
 * has added the new list, so the active would lose it).
 */
static void
test_vips_gone_v6_spelling(void **state)
{
	struct vg_conf *a = with_tail("vips = (\n"
	    "\t{ address = \"2001:db8::10/64\"; interface = \"eth1\"; }\n"
	    ");\n");
	struct vg_conf *b = with_tail("vips = (\n"
	    "\t{ address = \"2001:DB8:0:0::10/64\"; interface = \"eth1\"; }\n"
	    ");\n");
	struct vg_conf_vip out[2];
	size_t n;

	(void)state;
	assert_memory_equal(a->vips[0].addr, b->vips[0].addr, 16);
	n = vg_conf_vips_gone(a, b, out);
	vg_conf_free(a);
	vg_conf_free(b);
	if (n != 0)
		fail_msg("the same address, written differently, counted as "
		    "gone: it would be removed from the active node");
}

/* ---- what a reload cannot change */

struct spec {
	int		id1;		/* 0: 1 */
	const char	*addr1;		/* NULL: 10.0.0.1 */
	int		port1;		/* 0: none given */
	int		prio1;		/* 0: 150 */
	const char	*front;		/* a node before n1, or NULL */
	const char	*tail;		/* more settings, or NULL */
};

static struct vg_conf *
conf_of(const struct spec *s)
{
	char text[4096], port[32] = "";

	if (s->port1)
		snprintf(port, sizeof(port), " port = %d;", s->port1);
	snprintf(text, sizeof(text), HEAD
	    "nodes = (\n%s"
	    "\t{ id = %d; name = \"n1\"; address = \"%s\";%s priority = %d; },\n"
	    "\t{ id = 2; name = \"n2\"; address = \"10.0.0.2\"; },\n"
	    "\t{ id = 3; name = \"n3\"; address = \"10.0.0.3\"; }\n"
	    ");\n%s",
	    s->front ? s->front : "", s->id1 ? s->id1 : 1,
	    s->addr1 ? s->addr1 : "10.0.0.1", port, s->prio1 ? s->prio1 : 150,
	    s->tail ? s->tail : "");
	return parse_ok(text, "n1");
}

static void
expect_fixed(const struct spec *o, const struct spec *n, const char *what)
{
	struct vg_conf *a = conf_of(o), *b = conf_of(n);
	const char *r = vg_conf_fixed_changed(a, b);
	const char *back = vg_conf_fixed_changed(b, a);

	vg_conf_free(a);
	vg_conf_free(b);
	if (what == NULL) {
		if (r != NULL || back != NULL)
			fail_msg("a reload change was refused: %s",
			    r ? r : back);
		return;
	}
	if (r == NULL || strcmp(r, what) != 0)
		fail_msg("wanted \"%s\", got \"%s\"", what, r ? r : "(null)");
	if (back == NULL || strcmp(back, what) != 0)
		fail_msg("back: wanted \"%s\", got \"%s\"", what,
		    back ? back : "(null)");
}

static void
test_fixed_nothing(void **state)
{
	struct spec base = { 0 };

	(void)state;
	expect_fixed(&base, &base, NULL);
}

static void
test_fixed_self_id(void **state)
{
	struct spec base = { 0 }, s = { 0 };

	(void)state;
	s.id1 = 9;
	expect_fixed(&base, &s, "this node's id");
}

static void
test_fixed_self_address_port(void **state)
{
	struct spec base = { 0 }, s = { 0 };

	(void)state;
	s.addr1 = "10.0.0.11";
	expect_fixed(&base, &s, "this node's address or port");
	memset(&s, 0, sizeof(s));
	s.port1 = 5406;
	expect_fixed(&base, &s, "this node's address or port");
	/* the global port moves this node's port too */
	memset(&s, 0, sizeof(s));
	s.tail = "port = 6000;\n";
	expect_fixed(&base, &s, "this node's address or port");
	/* the same port spelled out is no change */
	memset(&s, 0, sizeof(s));
	s.port1 = VG_DEFAULT_PORT;
	expect_fixed(&base, &s, NULL);
	/* (v4 -> v6 of this node alone is no configuration at all now: every
	 * node's address is of one family; test_conf's unusable_addresses) */
}

static void
test_fixed_paths_and_cluster(void **state)
{
	struct spec base = { 0 }, s = { 0 };

	(void)state;
	s.tail = "state_dir = \"/var/lib/vigil2\";\n";
	expect_fixed(&base, &s, "state_dir");
	s.tail = "ctl = { socket = \"/run/vigil/other.sock\"; };\n";
	expect_fixed(&base, &s, "ctl.socket");
	s.tail = "cluster_id = 77;\n";
	expect_fixed(&base, &s, "the cluster id");
	/* the socket's group cannot follow without CAP_CHOWN */
	s.tail = "ctl = { operator_group = \"staff\"; };\n";
	expect_fixed(&base, &s, "ctl.operator_group");
	/* the admin group is the agent's own mapping: it may change */
	s.tail = "ctl = { admin_group = \"adm\"; };\n";
	expect_fixed(&base, &s, NULL);
	/* the default state_dir spelled out is no change */
	s.tail = "state_dir = \"/var/lib/vigil\";\n";
	expect_fixed(&base, &s, NULL);
	/* the scheduling is set at start: a restart (it was called live,
	 * and a reload applied it to a new keeper at most) */
	s.tail = "realtime_priority = 5;\n";
	expect_fixed(&base, &s, "realtime_priority");
}

static void
test_fixed_cluster_name_moves_id(void **state)
{
	static const char other[] = "cluster = \"other\";\nauth = \"none\";\n"
	    NODES;
	struct vg_conf *a = with_tail("");
	struct vg_conf *b;
	const char *r;

	(void)state;
	b = parse_ok(other, "n1");
	assert_int_not_equal(a->cluster_id, b->cluster_id);
	r = vg_conf_fixed_changed(a, b);
	assert_non_null(r);
	assert_string_equal(r, "the cluster id");
	vg_conf_free(a);
	vg_conf_free(b);
}

static void
test_not_fixed(void **state)
{
	struct spec base = { 0 }, s = { 0 };

	(void)state;
	/* priority */
	s.prio1 = 200;
	expect_fixed(&base, &s, NULL);
	/* a new peer, also before this node in the list */
	memset(&s, 0, sizeof(s));
	s.front = "\t{ id = 4; name = \"n4\"; address = \"10.0.0.4\"; },\n";
	expect_fixed(&base, &s, NULL);
	/* preemption, hooks, tracks, vips, local paths that may */
	memset(&s, 0, sizeof(s));
	s.tail = "preempt = false;\nmax_failovers = 9;\n"
	    "notify = \"/bin/true\";\nstate_file = \"/run/vigil/st\";\n"
	    "vips = ( { address = \"198.51.100.1\"; interface = \"eth0\"; } );\n"
	    "track = ( { name = \"t\"; command = \"true\"; } );\n"
	    "ctl = { admin_group = \"wheel\"; };\n";
	expect_fixed(&base, &s, NULL);
}

/* vg_conf_reload_refusal(a, b) and back: refused naming every one of
 * `want` (NULL: allowed). */
static void
expect_refusal(const char *ta, const char *tb, const char *const *want)
{
	struct vg_conf *a = parse_ok(ta, "n1"), *b = parse_ok(tb, "n1");
	char err[1024];
	int r, back;
	size_t i;

	memset(err, 0, sizeof(err));
	r = vg_conf_reload_refusal(a, b, err, sizeof(err));
	back = vg_conf_reload_refusal(b, a, err + 512, 512);
	if (want == NULL) {
		if (r != 0 || back != 0)
			fail_msg("refused: \"%s\" / \"%s\"", err, err + 512);
		assert_int_equal(a->safety_digest, b->safety_digest);
	} else {
		assert_int_equal(r, -1);
		assert_int_equal(back, -1);
		for (i = 0; want[i] != NULL; i++)
			if (strstr(err, want[i]) == NULL)
				fail_msg("\"%s\" does not name \"%s\"", err,
				    want[i]);
		assert_non_null(strstr(err, "stop every node"));
		assert_non_null(strstr(err, "nothing changed"));
		assert_int_not_equal(a->safety_digest, b->safety_digest);
	}
	vg_conf_free(a);
	vg_conf_free(b);
}

#define N3(x1, x2, x3) "nodes = (\n" x1 x2 x3 ");\n"
#define A1 "\t{ id = 1; name = \"n1\"; address = \"10.0.0.1\"; priority = 150; },\n"
#define A2 "\t{ id = 2; name = \"n2\"; address = \"10.0.0.2\"; priority = 120; },\n"
#define A3 "\t{ id = 3; name = \"n3\"; address = \"10.0.0.3\"; role = \"witness\"; }\n"

static void
test_timing_fixed(void **state)
{
	static const char *const iv[] = { "interval", NULL };
	static const char *const dt[] = { "dead_time", NULL };
	static const char *const md[] = { "max_drift", NULL };
	static const char *const both[] = { "interval", "dead_time", NULL };

	(void)state;
	/* the running lease and the voters' quiet times are in the old D;
	 * a node-by-node change mixes them: refused, named */
	expect_refusal(HEAD NODES, HEAD NODES "interval = 50;\n", iv);
	expect_refusal(HEAD NODES, HEAD NODES "dead_time = 600;\n", dt);
	expect_refusal(HEAD NODES, HEAD NODES "max_drift = 0.05;\n", md);
	/* the default interval spelled out is no change; D follows h */
	expect_refusal(HEAD NODES, HEAD NODES "interval = 100;\n", NULL);
	expect_refusal(HEAD NODES, HEAD NODES "interval = 50;\n"
	    "dead_time = 1000;\n", both);
}

static void
test_safety_refused(void **state)
{
	static const char *const add[] = { "node n4 (id 4) added", NULL };
	static const char *const mv[] = { "address or port of n2", NULL };
	static const char *const vo[] = { "votes of n2", "quorum", NULL };
	static const char *const ro[] = { "role of n3", NULL };
	static const char *const nm[] = { "name of node id 2", NULL };
	static const char *const qu[] = { "quorum", NULL };
	static const char *const many[] = { "dead_time", "node n3 (id 3) "
	    "removed", "votes of n2", NULL };

	(void)state;
	expect_refusal(HEAD NODES, HEAD "nodes = (\n" A1 A2
	    "\t{ id = 3; name = \"n3\"; address = \"10.0.0.3\"; role = "
	    "\"witness\"; },\n"
	    "\t{ id = 4; name = \"n4\"; address = \"10.0.0.4\"; }\n);\n", add);
	expect_refusal(HEAD NODES, HEAD N3(A1, "\t{ id = 2; name = \"n2\"; "
	    "address = \"10.0.0.12\"; priority = 120; },\n", A3), mv);
	expect_refusal(HEAD NODES, HEAD N3(A1, "\t{ id = 2; name = \"n2\"; "
	    "address = \"10.0.0.2\"; port = 5999; priority = 120; },\n", A3),
	    mv);
	expect_refusal(HEAD NODES, HEAD N3(A1, "\t{ id = 2; name = \"n2\"; "
	    "address = \"10.0.0.2\"; votes = 2; priority = 120; },\n", A3),
	    vo);
	/* the witness becomes a node: the active a witness is refused too */
	expect_refusal(HEAD NODES, HEAD N3(A1, A2, "\t{ id = 3; name = \"n3\"; "
	    "address = \"10.0.0.3\"; }\n"), ro);
	expect_refusal(HEAD NODES, HEAD N3(A1, "\t{ id = 2; name = \"m2\"; "
	    "address = \"10.0.0.2\"; priority = 120; },\n", A3), nm);
	expect_refusal(HEAD NODES, HEAD NODES "quorum = 3;\n", qu);
	expect_refusal(HEAD NODES, HEAD "dead_time = 900;\nnodes = (\n" A1
	    "\t{ id = 2; name = \"n2\"; address = \"10.0.0.2\"; votes = 3; "
	    "priority = 120; }\n);\n", many);
}

static void
test_safety_allowed(void **state)
{
	(void)state;
	/* priorities, the order of the list, preemption, VIPs, hooks,
	 * tracks, local settings: a reload */
	expect_refusal(HEAD NODES, HEAD N3(
	    "\t{ id = 1; name = \"n1\"; address = \"10.0.0.1\"; priority = 10; },\n",
	    "\t{ id = 2; name = \"n2\"; address = \"10.0.0.2\"; priority = 250; },\n",
	    A3), NULL);
	expect_refusal(HEAD NODES, HEAD "nodes = (\n"
	    "\t{ id = 3; name = \"n3\"; address = \"10.0.0.3\"; role = \"witness\"; },\n"
	    A2 "\t{ id = 1; name = \"n1\"; address = \"10.0.0.1\"; priority = 150; }\n"
	    ");\n", NULL);
	expect_refusal(HEAD NODES, HEAD NODES "preempt = false;\n"
	    "max_failovers = 9;\nnotify = \"/bin/true\";\n"
	    "vip_lifetime = 30;\n" VIPS_ABC
	    "track = ( { name = \"t\"; command = \"true\"; } );\n"
	    "log = { level = \"debug\"; };\n", NULL);
}

/* Many changes: the list is cut, the way out fits a ctl error (256). */
static void
test_refusal_fits(void **state)
{
	struct vg_conf *a = with_tail(""), *b;
	char err[256];

	(void)state;
	b = parse_ok("cluster = \"r\";\nauth = \"none\";\ninterval = 50;\n"
	    "dead_time = 900;\nmax_drift = 0.05;\nquorum = 3;\nnodes = (\n"
	    "\t{ id = 1; name = \"n1\"; address = \"10.0.0.1\"; votes = 2; },\n"
	    "\t{ id = 12; name = \"a-rather-long-node-name-12\"; address = "
	    "\"10.0.0.12\"; },\n"
	    "\t{ id = 13; name = \"a-rather-long-node-name-13\"; address = "
	    "\"10.0.0.13\"; }\n);\n", "n1");
	assert_int_equal(vg_conf_reload_refusal(a, b, err, sizeof(err)), -1);
	assert_true(strlen(err) < sizeof(err) - 1);
	assert_non_null(strstr(err, "(interval, dead_time, max_drift"));
	assert_non_null(strstr(err, "stop every node, change every file, "
	    "start them (docs/operations.md)"));
	vg_conf_free(b);
	vg_conf_free(a);
}

static void
test_refusal_fixed_too(void **state)
{
	struct vg_conf *a = with_tail(""), *b;
	char err[512];

	(void)state;
	b = with_tail("state_dir = \"/var/lib/vigil2\";\n");
	assert_int_equal(vg_conf_reload_refusal(a, b, err, sizeof(err)), -1);
	assert_string_equal(err, "state_dir cannot change in a reload "
	    "(restart the agent); nothing changed");
	vg_conf_free(b);
	b = with_tail("notify = \"/bin/true\";\n");
	assert_int_equal(vg_conf_reload_refusal(a, b, err, sizeof(err)), 0);
	vg_conf_free(b);
	vg_conf_free(a);
}

/* An epoch names one file cluster-wide: a reload may keep it or raise it,
 * never lower it (the message says so, and that nothing changed); the
 * epoch check comes before the safety list. */
static void
test_refusal_epoch(void **state)
{
	struct vg_conf *a = with_tail("epoch = 4;\n"), *b;
	char err[256];

	(void)state;
	b = with_tail("epoch = 3;\n");
	assert_int_equal(vg_conf_reload_refusal(a, b, err, sizeof(err)), -1);
	assert_string_equal(err, "epoch 3 is lower than the running epoch 4: "
	    "a configuration never goes back to an older epoch; nothing "
	    "changed");
	vg_conf_free(b);
	b = with_tail("epoch = 0;\ndead_time = 900;\n");
	assert_int_equal(vg_conf_reload_refusal(a, b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "epoch 0 is lower"));
	vg_conf_free(b);
	b = with_tail("epoch = 4;\nnotify = \"/bin/true\";\n");
	assert_int_equal(vg_conf_reload_refusal(a, b, err, sizeof(err)), 0);
	vg_conf_free(b);
	b = with_tail("epoch = 5;\n");
	assert_int_equal(vg_conf_reload_refusal(a, b, err, sizeof(err)), 0);
	vg_conf_free(b);
	/* a higher epoch does not make a safety change a reload's */
	b = with_tail("epoch = 5;\ndead_time = 900;\n");
	assert_int_equal(vg_conf_reload_refusal(a, b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "(dead_time)"));
	vg_conf_free(b);
	vg_conf_free(a);
}

/* ---- vg_conf_diff: what `vigilctl config diff` shows */

/* The change named `what` in d, or fail. */
static const struct vg_conf_change *
change_of(const struct vg_conf_diff *d, const char *what)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->ch[i].what, what) == 0)
			return &d->ch[i];
	fail_msg("no change \"%s\" among %zu", what, d->n);
	return NULL;
}

/* diff(a, b): its kind; and it is SAFETY exactly when the reload's
 * refusal is the safety one, RESTART or LIVE/NONE otherwise. */
static enum vg_change_kind
diff_of(const char *ta, const char *tb, struct vg_conf_diff *d)
{
	struct vg_conf *a = parse_ok(ta, "n1"), *b = parse_ok(tb, "n1");
	char err[512];
	int r;

	vg_conf_diff(a, b, d);
	r = vg_conf_reload_refusal(a, b, err, sizeof(err));
	if (d->kind == VG_CHANGE_SAFETY)
		assert_non_null(strstr(err, "stop every node"));
	else if (d->kind == VG_CHANGE_RESTART)
		assert_non_null(strstr(err, "cannot change in a reload"));
	else if (b->epoch >= a->epoch)
		assert_int_equal(r, 0);
	vg_conf_free(a);
	vg_conf_free(b);
	return d->kind;
}

/* The rotation's keys are live: a reload applies them, nothing is refused. */
static void
test_diff_key_rotation(void **state)
{
	struct vg_conf_diff *d = malloc(sizeof(*d));
	const struct vg_conf_change *c;
#define KH(rest) "cluster = \"r\";\nauth_key_file = \"/k/cur\";\n" rest

	(void)state;
	assert_non_null(d);
	/* 1: add next */
	assert_int_equal(diff_of(KH("") NODES,
	    KH("auth_key_next = \"/k/new\";\n") NODES, d), VG_CHANGE_LIVE);
	c = change_of(d, "auth_key_next");
	assert_string_equal(c->from, "");
	assert_string_equal(c->to, "/k/new");
	assert_int_equal(d->n, 1);
	/* 2: send with the new, accept the old */
	assert_int_equal(diff_of(KH("auth_key_next = \"/k/new\";\n") NODES,
	    "cluster = \"r\";\nauth_key_file = \"/k/new\";\n"
	    "auth_key_previous = \"/k/cur\";\n" NODES, d), VG_CHANGE_LIVE);
	assert_string_equal(change_of(d, "auth_key_file")->to, "/k/new");
	assert_string_equal(change_of(d, "auth_key_next")->to, "");
	assert_string_equal(change_of(d, "auth_key_previous")->to, "/k/cur");
	assert_int_equal(d->n, 3);
	/* 3: drop the old */
	assert_int_equal(diff_of(KH("auth_key_previous = \"/k/old\";\n") NODES,
	    KH("") NODES, d), VG_CHANGE_LIVE);
	c = change_of(d, "auth_key_previous");
	assert_string_equal(c->from, "/k/old");
	assert_string_equal(c->to, "");
	assert_int_equal(d->n, 1);
#undef KH
	free(d);
}

static void
test_diff_classes(void **state)
{
	struct vg_conf_diff *d = malloc(sizeof(*d));
	const struct vg_conf_change *c;

	(void)state;
	assert_non_null(d);
	/* a comment: no setting, nothing listed */
	assert_int_equal(diff_of(HEAD NODES, HEAD "# new\n" NODES, d),
	    VG_CHANGE_NONE);
	assert_int_equal(d->n, 0);

	/* live: epoch, a priority, a VIP, a track, preemption, log */
	assert_int_equal(diff_of(HEAD NODES VIPS_ABC, HEAD N3(
	    "\t{ id = 1; name = \"n1\"; address = \"10.0.0.1\"; priority = 10; },\n",
	    A2, A3) "epoch = 3;\npreempt = false;\n"
	    "vips = ( { address = \"198.51.100.9/24\"; interface = \"eth0\"; } );\n"
	    "track = ( { name = \"t\"; command = \"true\"; } );\n"
	    "log = { level = \"debug\"; };\n", d), VG_CHANGE_LIVE);
	c = change_of(d, "epoch");
	assert_string_equal(c->from, "0");
	assert_string_equal(c->to, "3");
	assert_int_equal(c->kind, VG_CHANGE_LIVE);
	c = change_of(d, "priority of n1");
	assert_string_equal(c->from, "150");
	assert_string_equal(c->to, "10");
	c = change_of(d, "preempt");
	assert_string_equal(c->to, "false");
	c = change_of(d, "vip 198.51.100.9/24 added");
	assert_string_equal(c->from, "");
	assert_string_equal(c->to, "198.51.100.9/24 dev eth0");
	c = change_of(d, "vip 2001:db8::3/64 removed");
	assert_string_equal(c->from, "2001:db8::3/64 dev eth1");
	assert_string_equal(c->to, "");
	c = change_of(d, "link eth1 no longer followed");
	assert_int_equal(c->kind, VG_CHANGE_LIVE);
	c = change_of(d, "track t added");
	assert_string_equal(c->to, "true");
	c = change_of(d, "log.level");
	assert_string_equal(c->to, "debug");
	/* epoch, priority, preempt, log, 3 VIPs gone and 1 added, a track,
	 * a link */
	assert_int_equal(d->n, 10);

	/* safety: each field named, with its values; the live ones kept */
	assert_int_equal(diff_of(HEAD NODES, HEAD "dead_time = 900;\n"
	    "nodes = (\n" A1 "\t{ id = 2; name = \"n2\"; address = "
	    "\"10.0.0.2\"; votes = 3; priority = 99; }\n);\n", d),
	    VG_CHANGE_SAFETY);
	c = change_of(d, "dead_time");
	assert_string_equal(c->from, "500 ms");
	assert_string_equal(c->to, "900 ms");
	assert_int_equal(c->kind, VG_CHANGE_SAFETY);
	c = change_of(d, "votes of n2");
	assert_string_equal(c->from, "1");
	assert_string_equal(c->to, "3");
	c = change_of(d, "node n3 (id 3) removed");
	assert_string_equal(c->from, "10.0.0.3 port 5405");
	assert_string_equal(c->to, "");
	assert_int_equal(c->kind, VG_CHANGE_SAFETY);
	c = change_of(d, "priority of n2");
	assert_int_equal(c->kind, VG_CHANGE_LIVE);

	/* the same VIPs in another order: no VIP change; one moved to
	 * another interface: removed there, added here */
	assert_int_equal(diff_of(HEAD NODES VIPS_ABC, HEAD NODES "vips = (\n"
	    "\t{ address = \"2001:db8::3/64\"; interface = \"eth1\"; },\n"
	    "\t{ address = \"198.51.100.2/24\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"198.51.100.1/24\"; interface = \"eth0\"; }\n"
	    ");\n", d), VG_CHANGE_NONE);
	assert_int_equal(d->n, 0);
	assert_int_equal(diff_of(HEAD NODES VIPS_ABC, HEAD NODES "vips = (\n"
	    "\t{ address = \"198.51.100.1/24\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"198.51.100.2/24\"; interface = \"eth1\"; },\n"
	    "\t{ address = \"2001:db8::3/64\"; interface = \"eth1\"; }\n"
	    ");\n", d), VG_CHANGE_LIVE);
	assert_int_equal(d->n, 2);
	assert_string_equal(change_of(d, "vip 198.51.100.2/24 removed")->from,
	    "198.51.100.2/24 dev eth0");
	assert_string_equal(change_of(d, "vip 198.51.100.2/24 added")->to,
	    "198.51.100.2/24 dev eth1");

	/* restart: the gravest wins over a live change */
	assert_int_equal(diff_of(HEAD NODES, HEAD NODES
	    "state_dir = \"/var/lib/vigil2\";\npreempt = false;\n", d),
	    VG_CHANGE_RESTART);
	c = change_of(d, "state_dir");
	assert_string_equal(c->from, "/var/lib/vigil");
	assert_string_equal(c->to, "/var/lib/vigil2");
	assert_int_equal(c->kind, VG_CHANGE_RESTART);
	/* a lower epoch is a live change that a reload refuses */
	assert_int_equal(diff_of(HEAD NODES "epoch = 5;\n", HEAD NODES
	    "epoch = 4;\n", d), VG_CHANGE_LIVE);
	free(d);
}

/* More changes than the diff keeps: counted, the kind still the gravest. */
static void
test_diff_overflow(void **state)
{
	struct vg_conf_diff *d = malloc(sizeof(*d));
	char tail[16384];
	size_t at = 0;
	int i;

	(void)state;
	assert_non_null(d);
	at += (size_t)snprintf(tail + at, sizeof(tail) - at, "vips = (\n");
	for (i = 0; i < 100; i++)
		at += (size_t)snprintf(tail + at, sizeof(tail) - at,
		    "\t{ address = \"198.51.100.%d/24\"; interface = "
		    "\"eth0\"; }%s\n", i + 1, i < 99 ? "," : "");
	snprintf(tail + at, sizeof(tail) - at, ");\ninterval = 50;\n");
	{
		char text[20000];

		snprintf(text, sizeof(text), "%s%s%s", HEAD, NODES, tail);
		assert_int_equal(diff_of(HEAD NODES, text, d),
		    VG_CHANGE_SAFETY);
	}
	/* interval, dead_time (it follows h), 100 VIPs, link eth0 */
	assert_int_equal(d->n, VG_DIFF_MAX);
	assert_int_equal(d->dropped, 2 + 100 + 1 - VG_DIFF_MAX);
	/* the safety fields come first: never the ones cut */
	assert_string_equal(d->ch[0].what, "interval");
	free(d);
}

/* ---- the new settings: defaults and values */

static void
test_new_defaults(void **state)
{
	struct vg_conf *c = with_tail("");

	(void)state;
	assert_string_equal(c->hooks.notify, "");
	assert_string_equal(c->hooks.notify_active, "");
	assert_string_equal(c->hooks.notify_standby, "");
	assert_string_equal(c->hooks.notify_fault, "");
	assert_string_equal(c->hooks.notify_maintenance, "");
	assert_int_equal(c->hooks.timeout, VG_MS(10000));
	assert_int_equal(c->preempt, 1);
	assert_int_equal(c->preempt_delay, VG_MS(30000));
	assert_int_equal(c->max_failovers, 3);
	assert_int_equal(c->flap_window, VG_MS(60000));
	assert_int_equal(c->vip_lifetime, 2);
	assert_int_equal(c->garp_count, 3);
	assert_int_equal(c->garp_interval, VG_MS(10));
	assert_int_equal(c->garp_refresh, VG_MS(30000));
	assert_int_equal(c->n_tracks, 0);
	assert_int_equal(c->n_links, 0);
	vg_conf_free(c);
}

static void
test_new_values(void **state)
{
	struct vg_conf *c = with_tail(
	    "notify = \"/etc/vigil/n\";\n"
	    "notify_active = \"/etc/vigil/a\";\n"
	    "notify_standby = \"/etc/vigil/s\";\n"
	    "notify_fault = \"/etc/vigil/f\";\n"
	    "notify_maintenance = \"/etc/vigil/m\";\n"
	    "script_timeout = 2500;\n"
	    "preempt = false;\n"
	    "preempt_delay = 0;\n"
	    "max_failovers = 63;\n"
	    "flap_window = 86400000;\n"
	    "vip_lifetime = 86400;\n"
	    "garp_count = 0;\n"
	    "garp_interval = 10000;\n"
	    "garp_refresh = 0;\n"
	    "vips = ( { address = \"198.51.100.1\"; interface = \"eth0\"; },\n"
	    "  { address = \"198.51.100.2\"; interface = \"eth0\"; } );\n"
	    "track_interfaces = [ \"bond0\", \"eth0\", \"bond0\" ];\n");

	(void)state;
	assert_string_equal(c->hooks.notify, "/etc/vigil/n");
	assert_string_equal(c->hooks.notify_active, "/etc/vigil/a");
	assert_string_equal(c->hooks.notify_standby, "/etc/vigil/s");
	assert_string_equal(c->hooks.notify_fault, "/etc/vigil/f");
	assert_string_equal(c->hooks.notify_maintenance, "/etc/vigil/m");
	assert_int_equal(c->hooks.timeout, VG_MS(2500));
	assert_int_equal(c->preempt, 0);
	assert_int_equal(c->preempt_delay, 0);
	assert_int_equal(c->max_failovers, 63);
	assert_int_equal(c->flap_window, VG_MS(86400000));
	assert_int_equal(c->vip_lifetime, 86400);
	assert_int_equal(c->garp_count, 0);
	assert_int_equal(c->garp_interval, VG_MS(10000));
	assert_int_equal(c->garp_refresh, 0);
	/* the links: the VIPs' interface first, then the others, once each */
	assert_int_equal(c->n_links, 2);
	assert_string_equal(c->links[0], "eth0");
	assert_string_equal(c->links[1], "bond0");
	vg_conf_free(c);

	/* a list ( ... ) does as well as an array [ ... ]; [] is none */
	c = with_tail("track_interfaces = ( \"eth5\" );\n");
	assert_int_equal(c->n_links, 1);
	assert_string_equal(c->links[0], "eth5");
	vg_conf_free(c);
	c = with_tail("track_interfaces = [ ];\n");
	assert_int_equal(c->n_links, 0);
	vg_conf_free(c);
}

/* ---- the new settings: errors, each with its line */

static void
test_track_timeout_longer_than_interval(void **state)
{
	struct vg_conf *c;

	(void)state;
	expect_one("track = (\n"
	    "\t{ name = \"web\"; command = \"true\"; interval = 100; "
	    "timeout = 200; }\n"
	    ");\n", 9, "track web: timeout 200 ms is longer than its interval "
	    "100 ms");
	/* the default timeout (1000) is longer than a short interval */
	expect_one("track = (\n"
	    "\t{ name = \"a\"; command = \"true\"; },\n"
	    "\t{ name = \"b\"; command = \"true\"; interval = 500; }\n"
	    ");\n", 10, "timeout 1000 ms is longer than its interval 500 ms");
	/* equal is fine */
	c = with_tail("track = ( { name = \"web\"; command = \"true\"; "
	    "interval = 300; timeout = 300; } );\n");
	assert_int_equal(c->tracks[0].timeout, c->tracks[0].interval);
	vg_conf_free(c);
}

static void
test_track_duplicate_names(void **state)
{
	(void)state;
	expect_one("track = (\n"
	    "\t{ name = \"web\"; command = \"true\"; },\n"
	    "\t{ name = \"db\"; command = \"true\"; },\n"
	    "\t{ name = \"web\"; command = \"false\"; }\n"
	    ");\n", 11, "track name \"web\" is used twice (first at line 9)");
}

static void
test_track_other_rules(void **state)
{
	(void)state;
	expect_one("track = (\n\t{ name = \"a\"; }\n);\n", 9,
	    "track has no command");
	expect_one("track = (\n\t{ command = \"true\"; }\n);\n", 9,
	    "track has no name");
	expect_one("track = (\n\t{ name = \"a b\"; command = \"true\"; }\n);\n",
	    9, "track name \"a b\" may hold only");
	expect_one("track = (\n\t{ name = \"a\"; command = \"true\";\n"
	    "\t  fall = 0; }\n);\n", 10, "fall = 0 is out of range (1..1000)");
	expect_one("track = (\n\t{ name = \"a\"; command = \"true\";\n"
	    "\t  rise = 1001; }\n);\n", 10,
	    "rise = 1001 is out of range (1..1000)");
	expect_one("track = (\n\t{ name = \"a\"; command = \"true\";\n"
	    "\t  weight = 255; }\n);\n", 10,
	    "weight = 255 is out of range (0..254)");
	expect_one("track = (\n\t{ name = \"a\"; command = \"true\";\n"
	    "\t  interval = 9; timeout = 5; }\n);\n", 10,
	    "interval = 9 is out of range (10..3600000)");
	expect_one("track = (\n\t{ name = \"a\"; command = \"true\";\n"
	    "\t  retries = 3; }\n);\n", 10,
	    "unknown setting 'retries' in a track");
	expect_one("track = ( \"true\" );\n", 8,
	    "each entry of track must be a group");
	expect_one("track = { name = \"a\"; command = \"true\"; };\n", 8,
	    "track must be a list, not a group");
}

static void
test_track_interfaces_not_a_list(void **state)
{
	(void)state;
	expect_one("track_interfaces = \"eth0\";\n", 8,
	    "track_interfaces must be a list of names");
	expect_one("vip_lifetime = 5;\ntrack_interfaces = { eth0 = 1; };\n", 9,
	    "track_interfaces must be a list of names");
	expect_one("track_interfaces = [ 1 ];\n", 8,
	    "track_interfaces: each entry must be an interface name");
	expect_one("track_interfaces = [ \"eth0\", \"no/slash\" ];\n", 8,
	    "track_interfaces: each entry must be an interface name");
	expect_one("track_interfaces = [ \"a-very-long-ifname0\" ];\n", 8,
	    "track_interfaces: each entry must be an interface name");
}

static void
test_max_failovers_range(void **state)
{
	(void)state;
	expect_one("max_failovers = 0;\n", 8,
	    "max_failovers = 0 is out of range (1..63)");
	expect_one("\nmax_failovers = 64;\n", 9,
	    "max_failovers = 64 is out of range (1..63)");
	expect_one("max_failovers = 2.5;\n", 8,
	    "max_failovers must be an integer, not a number");
	expect_one("flap_window = 0;\n", 8,
	    "flap_window = 0 is out of range (1..86400000)");
	expect_one("preempt_delay = -1;\n", 8,
	    "preempt_delay = -1 is out of range (0..86400000)");
}

static void
test_preempt_not_a_bool(void **state)
{
	(void)state;
	expect_one("preempt = 1;\n", 8,
	    "preempt must be true or false, not an integer");
	expect_one("preempt = \"yes\";\n", 8,
	    "preempt must be true or false, not a string");
}

static void
test_other_new_ranges(void **state)
{
	(void)state;
	expect_one("script_timeout = 0;\n", 8,
	    "script_timeout = 0 is out of range (1..600000)");
	expect_one("script_timeout = 600001;\n", 8,
	    "script_timeout = 600001 is out of range (1..600000)");
	expect_one("vip_lifetime = 0;\n", 8,
	    "vip_lifetime = 0 is out of range (1..86400)");
	expect_one("vip_lifetime = 86401;\n", 8,
	    "vip_lifetime = 86401 is out of range (1..86400)");
	expect_one("garp_count = 101;\n", 8,
	    "garp_count = 101 is out of range (0..100)");
	expect_one("garp_interval = 0;\n", 8,
	    "garp_interval = 0 is out of range (1..10000)");
	expect_one("garp_refresh = -1;\n", 8,
	    "garp_refresh = -1 is out of range (0..86400000)");
	expect_one("notify = \"notify.sh\";\n", 8,
	    "notify must be an absolute path, not \"notify.sh\"");
	expect_one("notify_fault = 5;\n", 8,
	    "notify_fault must be a string, not an integer");
	expect_one("notify_everything = \"/bin/true\";\n", 8,
	    "unknown setting 'notify_everything'");
}

/* ---- the election: hand-over and flap checks */

#define EL_CONF \
	HEAD \
	"interval = 100;\n" \
	"nodes = (\n" \
	"\t{ id = 1; name = \"n1\"; address = \"10.0.0.1\"; priority = 150; },\n" \
	"\t{ id = 2; name = \"n2\"; address = \"10.0.0.2\"; priority = 120; },\n" \
	"\t{ id = 3; name = \"n3\"; address = \"10.0.0.3\"; role = \"witness\"; },\n" \
	"\t{ id = 4; name = \"n4\"; address = \"10.0.0.4\"; priority = 130; }\n" \
	");\n" \
	"max_failovers = 3;\n" \
	"flap_window = 60000;\n"

#define T0	VG_MS(1000000)

struct fixture {
	struct vg_conf		*conf;
	struct vg_election	el;
};

static struct fixture *
fixture_new(const char *self)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->conf = parse_ok(EL_CONF, self);
	vg_el_init(&f->el, f->conf, 7, 0, 42, T0);
	return f;
}

static void
fixture_free(struct fixture *f)
{
	vg_conf_free(f->conf);
	free(f);
}

static struct vg_el_node *
el_node(struct vg_election *el, uint16_t id)
{
	size_t i;

	for (i = 0; i < el->n_nodes; i++)
		if (el->nodes[i].id == id)
			return &el->nodes[i];
	fail_msg("no node %u", id);
	return NULL;
}

/* What the node told us last, at `at`. */
static void
hear(struct vg_election *el, uint16_t id, uint8_t st, uint8_t prio, vg_ns at)
{
	struct vg_el_node *n = el_node(el, id);

	n->heard = 1;
	n->last_heard = at;
	n->state = st;
	n->priority = prio;
	n->term = el->term;
	n->healthy_since = at;
}

/* Everyone heard as standby just now, and self active holding a lease. */
static void
make_active(struct vg_election *el, vg_ns now)
{
	hear(el, 2, VG_ST_STANDBY, 120, now);
	hear(el, 3, VG_ST_STANDBY, 100, now);
	hear(el, 4, VG_ST_STANDBY, 130, now);
	el->state = VG_ST_ACTIVE;
	el->active_id = el->self_id;
	el->active_since = now;
	el->lease_deadline = now + el->lease;
	el->holding = 1;
}

static void
test_handover_not_active(void **state)
{
	struct fixture *f = fixture_new("n1");
	uint16_t target = 0xbeef;

	(void)state;
	assert_int_equal(f->el.n_nodes, 4);
	assert_int_equal(f->el.quorum, 3);
	assert_int_not_equal(f->el.state, VG_ST_ACTIVE);
	assert_int_equal(vg_el_handover_check(&f->el, 0, T0, &target),
	    VG_HO_NOT_ACTIVE);
	assert_int_equal(vg_el_handover_check(&f->el, 2, T0, &target),
	    VG_HO_NOT_ACTIVE);
	assert_int_equal(target, 0xbeef);
	/* a standby with a quorum in sight is not active either */
	hear(&f->el, 2, VG_ST_ACTIVE, 120, T0);
	hear(&f->el, 4, VG_ST_STANDBY, 130, T0);
	f->el.state = VG_ST_STANDBY;
	assert_int_equal(vg_el_handover_check(&f->el, 4, T0, &target),
	    VG_HO_NOT_ACTIVE);
	f->el.state = VG_ST_CANDIDATE;
	assert_int_equal(vg_el_handover_check(&f->el, 0, T0, &target),
	    VG_HO_NOT_ACTIVE);
	assert_string_equal(vg_handover_err_text(VG_HO_NOT_ACTIVE),
	    "this node is not the active");
	fixture_free(f);
}

static void
test_handover_checks_as_active(void **state)
{
	struct fixture *f = fixture_new("n1");
	struct vg_election *el = &f->el;
	vg_ns now = T0 + VG_MS(10);
	uint16_t target = 0;

	(void)state;
	make_active(el, now);
	/* the best other eligible node: n4 (130) over n2 (120), not n3 */
	assert_int_equal(vg_el_handover_check(el, 0, now, &target), VG_HO_OK);
	assert_int_equal(target, 4);
	target = 0;
	assert_int_equal(vg_el_handover_check(el, 2, now, &target), VG_HO_OK);
	assert_int_equal(target, 2);
	assert_int_equal(vg_el_handover_check(el, 1, now, &target),
	    VG_HO_SELF);
	assert_int_equal(vg_el_handover_check(el, 3, now, &target),
	    VG_HO_INELIGIBLE);
	assert_int_equal(vg_el_handover_check(el, 99, now, &target),
	    VG_HO_UNKNOWN);
	/* effective priorities, as heard: n2 now better */
	hear(el, 4, VG_ST_STANDBY, 110, now);
	assert_int_equal(vg_el_handover_check(el, 0, now, &target), VG_HO_OK);
	assert_int_equal(target, 2);
	/* a tie goes to the lower id */
	hear(el, 4, VG_ST_STANDBY, 120, now);
	assert_int_equal(vg_el_handover_check(el, 0, now, &target), VG_HO_OK);
	assert_int_equal(target, 2);
	/* n4 in fault: not eligible */
	hear(el, 4, VG_ST_FAULT, 130, now);
	assert_int_equal(vg_el_handover_check(el, 4, now, &target),
	    VG_HO_INELIGIBLE);
	hear(el, 4, VG_ST_MAINTENANCE, 130, now);
	assert_int_equal(vg_el_handover_check(el, 4, now, &target),
	    VG_HO_INELIGIBLE);
	assert_int_equal(vg_el_handover_check(el, 0, now, &target), VG_HO_OK);
	assert_int_equal(target, 2);
	/* n2 fault too: nobody */
	hear(el, 2, VG_ST_FAULT, 120, now);
	assert_int_equal(vg_el_handover_check(el, 0, now, &target),
	    VG_HO_NO_TARGET);
	fixture_free(f);
}

static void
test_handover_dead_and_quorum(void **state)
{
	struct fixture *f = fixture_new("n1");
	struct vg_election *el = &f->el;
	uint16_t target = 0;
	vg_ns now;

	(void)state;
	make_active(el, T0);
	now = T0 + el->dead / 2;
	el->lease_deadline = now + el->lease;
	/* n4 last heard D ago: dead; n2 fresh */
	el_node(el, 4)->last_heard = now - el->dead;
	hear(el, 2, VG_ST_STANDBY, 120, now);
	hear(el, 3, VG_ST_STANDBY, 100, now);
	assert_int_equal(vg_el_handover_check(el, 4, now, &target),
	    VG_HO_DEAD);
	assert_int_equal(vg_el_handover_check(el, 0, now, &target), VG_HO_OK);
	assert_int_equal(target, 2);
	/* just within D: alive again */
	el_node(el, 4)->last_heard = now - el->dead + 1;
	assert_int_equal(vg_el_handover_check(el, 4, now, &target), VG_HO_OK);
	/* only self and the witness in sight: 2 of 4 votes, quorum 3 */
	el_node(el, 2)->last_heard = now - el->dead;
	el_node(el, 4)->last_heard = now - el->dead;
	assert_int_equal(vg_el_handover_check(el, 0, now, &target),
	    VG_HO_NO_QUORUM);
	assert_int_equal(vg_el_handover_check(el, 1, now, &target),
	    VG_HO_NO_QUORUM);
	fixture_free(f);
}

static void
set_failovers(struct vg_election *el, const vg_ns *t, size_t n)
{
	size_t i;

	memset(el->failovers, 0, sizeof(el->failovers));
	for (i = 0; i < n; i++)
		el->failovers[i] = t[i];
	el->n_failovers = n;
	el->flap_head = n % VG_FLAP_MAX;
}

static void
test_flapping(void **state)
{
	struct fixture *f = fixture_new("n1");
	struct vg_election *el = &f->el;
	vg_ns t[VG_FLAP_MAX];
	size_t i;

	(void)state;
	/* from the config */
	assert_int_equal(el->max_failovers, 3);
	assert_int_equal(el->flap_window, VG_MS(60000));
	assert_false(vg_el_flapping(el, T0));

	/* 3 changes within the window: at the limit, not more */
	for (i = 0; i < 4; i++)
		t[i] = T0 + VG_MS(10000) * (vg_ns)i;
	set_failovers(el, t, 3);
	assert_false(vg_el_flapping(el, T0 + VG_MS(30000)));
	/* a 4th: more than max_failovers */
	set_failovers(el, t, 4);
	assert_true(vg_el_flapping(el, T0 + VG_MS(30000)));
	assert_true(vg_el_flapping(el, T0 + VG_MS(59999)));
	/* the first one leaves the window at T0 + 60 s exactly */
	assert_false(vg_el_flapping(el, T0 + VG_MS(60000)));
	assert_false(vg_el_flapping(el, T0 + VG_MS(200000)));

	/* a smaller limit, a shorter window */
	el->max_failovers = 1;
	el->flap_window = VG_MS(5000);
	t[0] = T0;
	t[1] = T0 + VG_MS(4000);
	set_failovers(el, t, 2);
	assert_true(vg_el_flapping(el, T0 + VG_MS(4500)));
	assert_false(vg_el_flapping(el, T0 + VG_MS(5000)));
	fixture_free(f);
}

static void
test_flapping_full_ring(void **state)
{
	struct fixture *f = fixture_new("n1");
	struct vg_election *el = &f->el;
	vg_ns t[VG_FLAP_MAX];
	size_t i;

	(void)state;
	el->max_failovers = VG_FLAP_LIMIT;	/* 63: the largest allowed */
	el->flap_window = VG_MS(86400000);
	for (i = 0; i < VG_FLAP_MAX; i++)
		t[i] = T0 + VG_MS(100) * (vg_ns)i;
	set_failovers(el, t, VG_FLAP_MAX - 1);
	assert_false(vg_el_flapping(el, T0 + VG_MS(10000)));
	/* 64 in the ring: more than 63 */
	set_failovers(el, t, VG_FLAP_MAX);
	assert_true(vg_el_flapping(el, T0 + VG_MS(10000)));
	/* a wrapped ring, the head in the middle: order does not matter */
	for (i = 0; i < VG_FLAP_MAX; i++)
		el->failovers[i] = T0 + VG_MS(100) * (vg_ns)((i + 17) %
		    VG_FLAP_MAX);
	el->flap_head = 47;
	assert_true(vg_el_flapping(el, T0 + VG_MS(10000)));
	/* at T0 + 6.3 s, the newest: 300 ms hold 6.1, 6.2, 6.3 (3); 301 ms
	 * take 6.0 in too (4) */
	el->max_failovers = 3;
	el->flap_window = VG_MS(300);
	assert_false(vg_el_flapping(el, T0 + VG_MS(6300)));
	el->flap_window = VG_MS(300) + 1;
	assert_true(vg_el_flapping(el, T0 + VG_MS(6300)));
	fixture_free(f);
}

static size_t
count_acts(const struct vg_acts *a, enum vg_act_type t)
{
	size_t i, n = 0;

	for (i = 0; i < a->n; i++)
		n += a->a[i].type == t;
	return n;
}

static const struct vg_act *
find_act(const struct vg_acts *a, enum vg_act_type t, uint8_t msg)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (a->a[i].type == t && (t != VG_ACT_SEND ||
		    a->a[i].msg_type == msg))
			return &a->a[i];
	return NULL;
}

static void
test_maintenance_standby(void **state)
{
	struct fixture *f = fixture_new("n2");
	struct vg_election *el = &f->el;
	struct vg_acts acts;
	const struct vg_act *a;
	uint16_t target;
	vg_ns now = T0 + VG_MS(5);

	(void)state;
	hear(el, 1, VG_ST_ACTIVE, 150, now);
	hear(el, 3, VG_ST_STANDBY, 100, now);
	el->state = VG_ST_STANDBY;

	memset(&acts, 0, sizeof(acts));
	vg_el_set_maintenance(el, 1, now, &acts);
	assert_int_equal(el->maintenance, 1);
	assert_int_equal(el->state, VG_ST_MAINTENANCE);
	assert_int_equal(acts.n, 1);
	a = find_act(&acts, VG_ACT_STATE, 0);
	assert_non_null(a);
	assert_int_equal(a->old_state, VG_ST_STANDBY);
	assert_int_equal(a->new_state, VG_ST_MAINTENANCE);
	assert_int_equal(vg_el_handover_check(el, 0, now, &target),
	    VG_HO_NOT_ACTIVE);

	/* again: nothing */
	memset(&acts, 0, sizeof(acts));
	vg_el_set_maintenance(el, 1, now, &acts);
	assert_int_equal(acts.n, 0);
	assert_int_equal(el->state, VG_ST_MAINTENANCE);

	/* off: back to standby (a quorum is in sight) */
	memset(&acts, 0, sizeof(acts));
	vg_el_set_maintenance(el, 0, now, &acts);
	assert_int_equal(el->maintenance, 0);
	assert_int_equal(el->state, VG_ST_STANDBY);
	a = find_act(&acts, VG_ACT_STATE, 0);
	assert_non_null(a);
	assert_int_equal(a->old_state, VG_ST_MAINTENANCE);
	assert_int_equal(a->new_state, VG_ST_STANDBY);

	/* on and off with nobody in sight: off lands in no-quorum */
	memset(&acts, 0, sizeof(acts));
	vg_el_set_maintenance(el, 1, now, &acts);
	assert_int_equal(el->state, VG_ST_MAINTENANCE);
	now += el->dead;
	memset(&acts, 0, sizeof(acts));
	vg_el_set_maintenance(el, 0, now, &acts);
	assert_int_equal(el->state, VG_ST_NO_QUORUM);
	assert_int_equal(count_acts(&acts, VG_ACT_STATE), 1);
	fixture_free(f);
}

static void
test_maintenance_active_hands_over(void **state)
{
	struct fixture *f = fixture_new("n1");
	struct vg_election *el = &f->el;
	struct vg_acts acts;
	const struct vg_act *a, *off, *rel, *tr;
	vg_ns now = T0 + VG_MS(20);
	uint64_t term;

	(void)state;
	make_active(el, now);
	term = el->term;
	memset(&acts, 0, sizeof(acts));
	vg_el_set_maintenance(el, 1, now, &acts);
	assert_int_equal(el->maintenance, 1);
	assert_int_equal(el->state, VG_ST_MAINTENANCE);
	assert_int_equal(el->st.handovers, 1);
	assert_int_equal(el->holding, 0);
	/* the VIPs go first, then RELEASE and TRANSFER to the best (n4) */
	off = find_act(&acts, VG_ACT_VIPS_OFF, 0);
	rel = find_act(&acts, VG_ACT_SEND, VG_MSG_RELEASE);
	tr = find_act(&acts, VG_ACT_SEND, VG_MSG_TRANSFER);
	assert_non_null(off);
	assert_non_null(rel);
	assert_non_null(tr);
	assert_true(off < rel);
	assert_int_equal(rel->term, term);
	assert_int_equal(rel->successor, 4);
	assert_int_equal(tr->target, 4);
	assert_int_equal(tr->successor, 4);
	a = find_act(&acts, VG_ACT_STATE, 0);
	assert_non_null(a);
	assert_int_equal(a->old_state, VG_ST_ACTIVE);
	assert_int_equal(a->new_state, VG_ST_MAINTENANCE);
	/* the same term is never held again */
	assert_int_equal(el->released_own, term);
	fixture_free(f);
}

/* ---- the peer table across a reload (vg_peers_reconf) */

/* n1 with n2 and n3 (HEAD NODES) */
#define NODES_AFTER \
	"cluster = \"r\";\n" \
	"auth = \"none\";\n" \
	"nodes = (\n" \
	"\t{ id = 4; name = \"n4\"; address = \"10.0.0.4\"; },\n" \
	"\t{ id = 3; name = \"n3b\"; address = \"10.0.0.33\"; votes = 2; },\n" \
	"\t{ id = 1; name = \"n1\"; address = \"10.0.0.1\"; priority = 150; }\n" \
	");\n"

/* What a peer has been through: heard, its replay window, a round trip. */
static void
hear_peer(struct vg_peer *p, uint64_t inc, uint64_t seq, vg_ns now)
{
	struct vg_msg m;
	int64_t gap;

	memset(&m, 0, sizeof(m));
	m.type = VG_MSG_HEARTBEAT;
	m.sender = p->id;
	m.state = VG_ST_STANDBY;
	m.incarnation = inc;
	m.seq = seq;
	m.echo_seq = vg_peer_next_seq(p, now - VG_MS(3));
	m.u.hb.echo_delay_us = 500;
	assert_int_equal(vg_replay_check(&p->replay, inc, seq), VG_DROP_NONE);
	gap = vg_replay_update(&p->replay, inc, seq);
	(void)vg_peer_heard(p, &m, gap, now, now, VG_MS(500));
}

static void
test_peers_reconf_keeps_survivors(void **state)
{
	struct vg_conf *before = with_tail(""), *after;
	struct vg_peers none = { NULL, 0, 0 }, cur, next, copy;
	struct vg_peer fresh, *p3;
	vg_ns now = VG_MS(50000);
	size_t i;

	(void)state;
	after = parse_ok(NODES_AFTER, "n1");
	assert_int_equal(vg_peers_reconf(&cur, &none, before), 0);
	assert_int_equal(cur.n, 2);
	assert_int_equal(cur.p[0].id, 2);
	assert_int_equal(cur.p[1].id, 3);
	for (i = 0; i < cur.n; i++) {
		hear_peer(&cur.p[i], 900, 10, now - VG_MS(20));
		hear_peer(&cur.p[i], 900, 13, now - VG_MS(10));	/* 11, 12 lost */
		hear_peer(&cur.p[i], 900, 11, now);		/* late */
	}
	p3 = &cur.p[1];
	assert_true(p3->rtt_valid && p3->alive && p3->lost == 1);
	copy.n = cur.n;
	copy.p = malloc(cur.n * sizeof(*cur.p));
	assert_non_null(copy.p);
	memcpy(copy.p, cur.p, cur.n * sizeof(*cur.p));

	assert_int_equal(vg_peers_reconf(&next, &cur, after), 0);
	/* the current table is not touched */
	assert_memory_equal(cur.p, copy.p, cur.n * sizeof(*cur.p));
	/* n2 left; n4 is new (first in the file), n3 survives */
	assert_int_equal(next.n, 2);
	assert_int_equal(next.p[0].id, 4);
	assert_int_equal(next.p[1].id, 3);
	vg_peer_init(&fresh, &after->nodes[0]);
	assert_memory_equal(&next.p[0], &fresh, sizeof(fresh));
	assert_false(vg_peer_alive(&next.p[0], now));
	assert_int_equal(next.p[0].replay.incarnation, 0);
	assert_false(next.p[0].rtt_valid);
	/* n3: its identity from the new config, everything heard kept */
	assert_string_equal(next.p[1].name, "n3b");
	assert_string_equal(next.p[1].address, "10.0.0.33");
	assert_int_equal(next.p[1].votes, 2);
	assert_memory_equal(&next.p[1].sa, &after->nodes[1].sa,
	    after->nodes[1].salen);
	assert_memory_equal(&next.p[1].replay, &p3->replay, sizeof(p3->replay));
	assert_int_equal(vg_replay_check(&next.p[1].replay, 900, 11),
	    VG_DROP_REPLAY);
	assert_int_equal(vg_replay_check(&next.p[1].replay, 900, 12),
	    VG_DROP_NONE);
	assert_true(next.p[1].rtt_valid);
	assert_int_equal(next.p[1].srtt, p3->srtt);
	assert_int_equal(next.p[1].rttvar, p3->rttvar);
	assert_int_equal(next.p[1].rtt_max, p3->rtt_max);
	assert_true(vg_peer_alive(&next.p[1], now));
	assert_int_equal(next.p[1].last_seen, p3->last_seen);
	assert_int_equal(next.p[1].dead_at, p3->dead_at);
	assert_int_equal(next.p[1].up_since, p3->up_since);
	assert_int_equal(next.p[1].tx_seq, p3->tx_seq);
	assert_int_equal(next.p[1].rx, p3->rx);
	assert_int_equal(next.p[1].lost, p3->lost);
	assert_memory_equal(&next.p[1].last, &p3->last, sizeof(p3->last));
	vg_peers_free(&next);
	assert_null(next.p);
	assert_int_equal(next.n, 0);
	vg_peers_free(&cur);
	free(copy.p);
	vg_conf_free(before);
	vg_conf_free(after);
}

/*
 * A node new to the table in a running agent proves itself as every peer
 * does after our start: its messages count once one echoes a seq we sent
 * it, above every seq this run has sent anyone (a recording of its
 * traffic from an earlier membership echoes those).  Before, its entry
 * had no gate at all.
 */
static void
test_peers_reconf_gates_new_node(void **state)
{
	struct vg_conf *before = with_tail(""), *after;
	struct vg_peers none = { NULL, 0, 0 }, cur, next;
	struct vg_peer *p4;
	struct vg_msg m;
	uint64_t high = 0, ours;
	size_t i, k;

	(void)state;
	after = parse_ok(NODES_AFTER, "n1");
	assert_int_equal(vg_peers_reconf(&cur, &none, before), 0);
	vg_peers_fresh_start(&cur, 900);
	for (i = 0; i < cur.n; i++) {
		for (k = 0; k < 5 + i; k++)
			high = vg_peer_next_seq(&cur.p[i], VG_MS(1));
		cur.p[i].fresh = 1;		/* proved long ago */
	}
	assert_int_equal(vg_peers_reconf(&next, &cur, after), 0);
	assert_int_equal(next.seq_base, cur.seq_base);
	p4 = &next.p[0];
	assert_int_equal(p4->id, 4);
	assert_true(p4->seq_base > high);
	assert_int_equal(p4->tx_seq, p4->seq_base);
	assert_false(vg_peer_fresh_already(p4));
	assert_true(vg_peer_fresh_already(&next.p[1]));	/* n3 kept */
	memset(&m, 0, sizeof(m));
	m.type = VG_MSG_HEARTBEAT;
	m.sender = 4;
	m.incarnation = 77;
	m.seq = 3;
	assert_false(vg_peer_fresh(p4, &m));		/* echoes nothing */
	m.echo_seq = high;		/* a seq of this run, sent to another */
	assert_false(vg_peer_fresh(p4, &m));
	ours = vg_peer_next_seq(p4, VG_MS(2));
	m.echo_seq = ours;
	assert_true(vg_peer_fresh(p4, &m));
	vg_peers_free(&next);
	vg_peers_free(&cur);
	vg_conf_free(before);
	vg_conf_free(after);
}

/* What is shown as alive is what the election counts as heard (within D). */
static void
test_peer_alive_as_shown(void **state)
{
	struct vg_conf *c = with_tail("");
	struct vg_peers none = { NULL, 0, 0 }, t;
	vg_ns now = VG_MS(50000);

	(void)state;
	assert_int_equal(vg_peers_reconf(&t, &none, c), 0);
	assert_false(vg_peer_alive(&t.p[0], now));
	hear_peer(&t.p[0], 5, 1, now);
	assert_true(vg_peer_alive(&t.p[0], now + VG_MS(499)));
	/* dead_time has run out, vg_peer_tick has not run yet */
	assert_true(t.p[0].alive);
	assert_false(vg_peer_alive(&t.p[0], now + VG_MS(500)));
	assert_int_equal(vg_peer_tick(&t.p[0], now + VG_MS(500)),
	    VG_PEER_EV_DOWN);
	assert_false(vg_peer_alive(&t.p[0], now + VG_MS(500)));
	vg_peers_free(&t);
	vg_conf_free(c);
}

/* ---- reload.c: prepare touches nothing; the commit is a swap */

struct rdir {
	char	dir[64];
	char	path[128];
};

static void
rdir_write(struct rdir *d, const char *text)
{
	FILE *f = fopen(d->path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static struct rdir *
rdir_new(void)
{
	struct rdir *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	snprintf(d->dir, sizeof(d->dir), "/tmp/vg_test_reload.XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	snprintf(d->path, sizeof(d->path), "%s/vigil.conf", d->dir);
	return d;
}

static void
rdir_free(struct rdir *d)
{
	(void)unlink(d->path);
	(void)rmdir(d->dir);
	free(d);
}

static struct vg_conf *
load_ok(const struct rdir *d)
{
	struct vg_errs errs;
	struct vg_conf *c;

	vg_errs_init(&errs);
	c = vg_conf_load(d->path, "n1", &errs);
	if (c == NULL) {
		dump_errs(&errs);
		fail_msg("%s was refused", d->path);
	}
	return c;
}

/* The running agent's view of itself, as prepare must leave it. */
struct running {
	struct vg_conf	*conf;
	struct vg_conf	conf_copy;
	struct vg_peers	peers;
	struct vg_peer	peers_copy[VG_MAX_NODES];
};

static void
running_new(struct running *r, const struct rdir *d, vg_ns now)
{
	struct vg_peers none = { NULL, 0, 0 };
	size_t i;

	r->conf = load_ok(d);
	assert_int_equal(vg_peers_reconf(&r->peers, &none, r->conf), 0);
	/* three exchanges: it comes up; the echo of something sent since
	 * opens the way; only what was sent after that gives a round trip
	 * (the first may have waited behind neighbour resolution) */
	for (i = 0; i < r->peers.n; i++) {
		hear_peer(&r->peers.p[i], 700, 3, now - VG_MS(20));
		hear_peer(&r->peers.p[i], 700, 4, now - VG_MS(10));
		hear_peer(&r->peers.p[i], 700, 5, now);
	}
	r->conf_copy = *r->conf;
	memcpy(r->peers_copy, r->peers.p, r->peers.n * sizeof(*r->peers.p));
}

static void
running_unchanged(const struct running *r)
{
	assert_memory_equal(r->conf, &r->conf_copy, sizeof(*r->conf));
	assert_memory_equal(r->peers.p, r->peers_copy,
	    r->peers.n * sizeof(*r->peers.p));
}

static void
running_free(struct running *r)
{
	vg_peers_free(&r->peers);
	vg_conf_free(r->conf);
}

/* Refused: -1, err holding want, nothing held, the running side as it was. */
static void
expect_refused(struct rdir *d, struct running *run, const char *text,
    const char *want, size_t n_errs)
{
	struct vg_reload r;
	char err[512] = "";

	rdir_write(d, text);
	memset(&r, 0x5a, sizeof(r));
	assert_int_equal(vg_reload_prepare(&r, run->conf, "n1", &run->peers, 0, err,
	    sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		fail_msg("refused with \"%s\", wanted \"%s\"", err, want);
	assert_int_equal(r.errs.n, n_errs);
	assert_null(r.conf);
	assert_null(r.peers.p);
	assert_null(r.gone);
	assert_int_equal(r.auth.keylen, 0);
	running_unchanged(run);
}

static void
test_prepare_refuses_changes_nothing(void **state)
{
	struct rdir *d = rdir_new();
	struct running run;
	char text[2048];

	(void)state;
	rdir_write(d, HEAD NODES VIPS_ABC);
	running_new(&run, d, VG_MS(50000));
	expect_refused(d, &run, HEAD NODES "interval = 0;\nbogus = 1;\n",
	    "configuration invalid; nothing changed (2 errors)", 2);
	expect_refused(d, &run, HEAD NODES "dead_time = 900;\n",
	    "nothing changed: a reload cannot change what every node must "
	    "agree on (dead_time), and node by node is not safe: stop every "
	    "node, change every file, start them (docs/operations.md)", 0);
	/* membership: a node-by-node change could make two quorums */
	expect_refused(d, &run, HEAD "nodes = (\n"
	    "\t{ id = 4; name = \"n4\"; address = \"10.0.0.4\"; },\n"
	    "\t{ id = 1; name = \"n1\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 3; name = \"n3\"; address = \"10.0.0.13\"; }\n"
	    ");\n", "node n2 (id 2) removed, address or port of n3, "
	    "role of n3, node n4 (id 4) added", 0);
	snprintf(text, sizeof(text), "cluster = \"r\";\n"
	    "auth_key_file = \"%s/no-such-key\";\n" NODES, d->dir);
	expect_refused(d, &run, text, "no-such-key", 0);
	running_free(&run);
	rdir_free(d);
}

/* A joint move's FINAL (final = 1): the safety settings may change (a node
 * added, dead_time), the epoch must rise, a restart change is refused;
 * the peer table keeps the nodes the file leaves out (they hear FINAL),
 * the timing change is flagged for the keeper's hand-over. */
static void
test_prepare_final(void **state)
{
	struct rdir *d = rdir_new();
	struct running run;
	struct vg_reload r;
	char err[512] = "";
	size_t i, found;

	(void)state;
	rdir_write(d, HEAD NODES "epoch = 3;\n");
	running_new(&run, d, VG_MS(50000));
	/* n2 out, n4 in, dead_time: taken at FINAL, not by a reload */
	rdir_write(d, HEAD "nodes = (\n"
	    "\t{ id = 1; name = \"n1\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 4; name = \"n4\"; address = \"10.0.0.4\"; },\n"
	    "\t{ id = 3; name = \"n3\"; address = \"10.0.0.3\"; "
	    "role = \"witness\"; }\n);\ndead_time = 900;\nepoch = 4;\n");
	assert_int_equal(vg_reload_prepare(&r, run.conf, "n1", &run.peers, 0,
	    err, sizeof(err)), -1);
	assert_int_equal(vg_reload_prepare(&r, run.conf, "n1", &run.peers, 1,
	    err, sizeof(err)), 0);
	assert_true(r.timing_changed);
	for (i = 0, found = 0; i < r.peers.n; i++)
		found |= 1u << r.peers.p[i].id;
	assert_int_equal(found, 1u << 2 | 1u << 3 | 1u << 4);
	/* n2's heard state stays (the same table entry, moved) */
	for (i = 0; i < r.peers.n; i++)
		if (r.peers.p[i].id == 2)
			assert_true(r.peers.p[i].ever_seen);
	vg_reload_done(&r);
	running_unchanged(&run);
	/* not above the running epoch */
	rdir_write(d, HEAD NODES "dead_time = 900;\nepoch = 3;\n");
	assert_int_equal(vg_reload_prepare(&r, run.conf, "n1", &run.peers, 1,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not above the running epoch 3"));
	/* this node's address: only a restart */
	rdir_write(d, HEAD "nodes = (\n"
	    "\t{ id = 1; name = \"n1\"; address = \"10.0.0.11\"; },\n"
	    "\t{ id = 2; name = \"n2\"; address = \"10.0.0.2\"; }\n"
	    ");\nepoch = 5;\n");
	assert_int_equal(vg_reload_prepare(&r, run.conf, "n1", &run.peers, 1,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot change but by a restart"));
	running_unchanged(&run);
	running_free(&run);
	rdir_free(d);
}

/* A rotation's keys are loaded by prepare, each checked as the sending key
 * is: a previous key readable by others refuses the reload, nothing held. */
static void
test_prepare_rotation_keys(void **state)
{
	static const char *const names[] = { "cur", "new", "new.0644" };
	static const mode_t modes[] = { 0600, 0600, 0644 };
	struct rdir *d = rdir_new();
	struct running run;
	struct vg_reload r;
	char text[2048], err[512] = "", p[192];
	uint8_t key[32];
	size_t i;
	int fd;

	(void)state;
	for (i = 0; i < 3; i++) {
		memset(key, (int)i + 1, sizeof(key));
		snprintf(p, sizeof(p), "%s/%s", d->dir, names[i]);
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, key, sizeof(key)), (ssize_t)sizeof(key));
		assert_int_equal(fchmod(fd, modes[i]), 0);
		close(fd);
	}
	rdir_write(d, HEAD NODES);
	running_new(&run, d, VG_MS(50000));
	snprintf(text, sizeof(text), "cluster = \"r\";\n"
	    "auth_key_file = \"%s/cur\";\nauth_key_next = \"%s/new\";\n"
	    NODES, d->dir, d->dir);
	rdir_write(d, text);
	assert_int_equal(vg_reload_prepare(&r, run.conf, "n1", &run.peers, 0, err,
	    sizeof(err)), 0);
	assert_true(vg_auth_has(&r.auth, VG_KEY_CURRENT));
	assert_true(vg_auth_has(&r.auth, VG_KEY_NEXT));
	assert_false(vg_auth_has(&r.auth, VG_KEY_PREVIOUS));
	assert_int_equal(r.auth.key[0], 1);
	assert_int_equal(r.auth.alt[VG_KEY_NEXT - 1].key[0], 2);
	vg_reload_done(&r);
	assert_false(vg_auth_has(&r.auth, VG_KEY_NEXT));
	snprintf(text, sizeof(text), "cluster = \"r\";\n"
	    "auth_key_file = \"%s/cur\";\nauth_key_previous = "
	    "\"%s/new.0644\";\n" NODES, d->dir, d->dir);
	expect_refused(d, &run, text, "auth_key_previous", 0);
	running_free(&run);
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", d->dir, names[i]);
		(void)unlink(p);
	}
	rdir_free(d);
}

/* A reload to auth = "none" is taken (a lab may want it) but said, as
 * `vigild -t` says it: a warning on the log (issue 12, item 9). */
static void
test_prepare_warns_auth_none(void **state)
{
	struct rdir *d = rdir_new();
	struct running run;
	struct vg_reload r;
	char err[512] = "", out[4096];
	int pfd[2], saved;
	ssize_t n;

	(void)state;
	rdir_write(d, HEAD NODES VIPS_ABC);
	running_new(&run, d, VG_MS(50000));
	assert_int_equal(pipe2(pfd, O_NONBLOCK | O_CLOEXEC), 0);
	assert_true((saved = dup(STDERR_FILENO)) >= 0);
	assert_int_equal(dup2(pfd[1], STDERR_FILENO), STDERR_FILENO);
	assert_int_equal(vg_reload_prepare(&r, run.conf, "n1", &run.peers, 0, err,
	    sizeof(err)), 0);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	close(pfd[1]);
	n = read(pfd[0], out, sizeof(out) - 1);
	close(pfd[0]);
	out[n > 0 ? n : 0] = '\0';
	if (strstr(out, "auth = \"none\"") == NULL ||
	    strstr(out, "not authenticated") == NULL)
		fail_msg("no warning of auth = \"none\" on the log: \"%s\"", out);
	assert_int_equal(r.auth.mode, VG_AUTH_NONE);
	vg_reload_done(&r);
	running_free(&run);
	rdir_free(d);
}

static void
test_prepare_then_swap(void **state)
{
	struct rdir *d = rdir_new();
	struct running run;
	struct vg_reload r;
	struct vg_conf *before;
	struct vg_auth auth;
	struct vg_peer old2, old3;
	char err[512] = "";

	(void)state;
	rdir_write(d, HEAD NODES VIPS_ABC);
	running_new(&run, d, VG_MS(50000));
	before = run.conf;
	old2 = run.peers.p[0];
	old3 = run.peers.p[1];
	assert_int_equal(old2.id, 2);
	assert_int_equal(old3.id, 3);
	/* priorities move, the list is in another order (membership is
	 * not a reload: test_prepare_refuses_changes_nothing); a VIP goes,
	 * one comes */
	rdir_write(d, HEAD "nodes = (\n"
	    "\t{ id = 3; name = \"n3\"; address = \"10.0.0.3\"; role = \"witness\"; },\n"
	    "\t{ id = 1; name = \"n1\"; address = \"10.0.0.1\"; priority = 90; },\n"
	    "\t{ id = 2; name = \"n2\"; address = \"10.0.0.2\"; priority = 200; }\n"
	    ");\nvips = (\n"
	    "\t{ address = \"198.51.100.1/24\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"198.51.100.7/24\"; interface = \"eth0\"; }\n"
	    ");\n");
	assert_int_equal(vg_reload_prepare(&r, run.conf, "n1", &run.peers, 0, err,
	    sizeof(err)), 0);
	running_unchanged(&run);
	assert_true(r.vips_changed);
	assert_int_equal(r.n_gone, 2);
	assert_string_equal(r.gone[0].text, "198.51.100.2/24");
	assert_string_equal(r.gone[1].text, "2001:db8::3/64");
	assert_int_equal(r.auth.mode, VG_AUTH_NONE);

	/* the commit: pointer swaps; the old side is left to free */
	memset(&auth, 0, sizeof(auth));
	auth.mode = VG_AUTH_HMAC;
	auth.keylen = 32;
	vg_reload_swap(&r, &run.conf, &auth, &run.peers);
	assert_ptr_equal(r.conf, before);
	assert_int_equal(r.auth.keylen, 32);
	assert_int_equal(auth.mode, VG_AUTH_NONE);
	assert_int_equal(run.conf->n_nodes, 3);
	assert_int_equal(run.peers.n, 2);
	/* in the new order; both survivors keep what was heard of them */
	assert_int_equal(run.peers.p[0].id, 3);
	assert_memory_equal(&run.peers.p[0].replay, &old3.replay,
	    sizeof(old3.replay));
	assert_true(run.peers.p[0].rtt_valid);
	assert_int_equal(run.peers.p[0].srtt, old3.srtt);
	assert_true(vg_peer_alive(&run.peers.p[0], VG_MS(50000)));
	assert_int_equal(run.peers.p[0].dead_at, old3.dead_at);
	assert_int_equal(run.peers.p[1].id, 2);
	assert_memory_equal(&run.peers.p[1].replay, &old2.replay,
	    sizeof(old2.replay));
	assert_true(vg_peer_alive(&run.peers.p[1], VG_MS(50000)));
	assert_int_equal(run.conf->nodes[2].priority, 200);
	assert_int_equal(run.conf->safety_digest, r.conf->safety_digest);
	vg_reload_done(&r);
	assert_null(r.conf);
	assert_null(r.peers.p);
	assert_int_equal(r.auth.keylen, 0);
	running_free(&run);
	rdir_free(d);
}

/* A reload that changes nothing still builds a table: the same peers. */
static void
test_prepare_same_file(void **state)
{
	struct rdir *d = rdir_new();
	struct running run;
	struct vg_reload r;
	char err[512] = "";

	(void)state;
	rdir_write(d, HEAD NODES VIPS_ABC);
	running_new(&run, d, VG_MS(50000));
	assert_int_equal(vg_reload_prepare(&r, run.conf, "n1", &run.peers, 0, err,
	    sizeof(err)), 0);
	assert_false(r.vips_changed);
	assert_int_equal(r.n_gone, 0);
	assert_int_equal(r.conf->digest, run.conf->digest);
	assert_int_equal(r.peers.n, run.peers.n);
	assert_memory_equal(r.peers.p, run.peers.p,
	    run.peers.n * sizeof(*run.peers.p));
	vg_reload_done(&r);
	running_free(&run);
	rdir_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vips_same),
		cmocka_unit_test(test_vips_changed),
		cmocka_unit_test(test_vips_gone),
		cmocka_unit_test(test_vips_gone_v6_spelling),
		cmocka_unit_test(test_fixed_nothing),
		cmocka_unit_test(test_fixed_self_id),
		cmocka_unit_test(test_fixed_self_address_port),
		cmocka_unit_test(test_fixed_paths_and_cluster),
		cmocka_unit_test(test_fixed_cluster_name_moves_id),
		cmocka_unit_test(test_not_fixed),
		cmocka_unit_test(test_timing_fixed),
		cmocka_unit_test(test_safety_refused),
		cmocka_unit_test(test_safety_allowed),
		cmocka_unit_test(test_refusal_fits),
		cmocka_unit_test(test_refusal_fixed_too),
		cmocka_unit_test(test_refusal_epoch),
		cmocka_unit_test(test_diff_classes),
		cmocka_unit_test(test_diff_key_rotation),
		cmocka_unit_test(test_prepare_rotation_keys),
		cmocka_unit_test(test_diff_overflow),
		cmocka_unit_test(test_new_defaults),
		cmocka_unit_test(test_new_values),
		cmocka_unit_test(test_track_timeout_longer_than_interval),
		cmocka_unit_test(test_track_duplicate_names),
		cmocka_unit_test(test_track_other_rules),
		cmocka_unit_test(test_track_interfaces_not_a_list),
		cmocka_unit_test(test_max_failovers_range),
		cmocka_unit_test(test_preempt_not_a_bool),
		cmocka_unit_test(test_other_new_ranges),
		cmocka_unit_test(test_handover_not_active),
		cmocka_unit_test(test_handover_checks_as_active),
		cmocka_unit_test(test_handover_dead_and_quorum),
		cmocka_unit_test(test_flapping),
		cmocka_unit_test(test_flapping_full_ring),
		cmocka_unit_test(test_maintenance_standby),
		cmocka_unit_test(test_maintenance_active_hands_over),
		cmocka_unit_test(test_peers_reconf_keeps_survivors),
		cmocka_unit_test(test_peers_reconf_gates_new_node),
		cmocka_unit_test(test_peer_alive_as_shown),
		cmocka_unit_test(test_prepare_refuses_changes_nothing),
		cmocka_unit_test(test_prepare_final),
		cmocka_unit_test(test_prepare_warns_auth_none),
		cmocka_unit_test(test_prepare_then_swap),
		cmocka_unit_test(test_prepare_same_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
