/*
 * test_conf: the config loader.  The example file is valid; every rule of
 * conf.c fails on its own, with its message and its line ("file:line: ");
 * several errors are all reported; defaults, the derived lease, the default
 * cluster id and the digest of the cluster-wide part.
 */
#include <arpa/inet.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "conf.h"

#ifndef VG_SRCDIR
#define VG_SRCDIR "."
#endif

#define FILE_NAME	"t.conf"
#include "confcheck.h"

/* Lines 1-2. */
#define HEAD \
	"cluster = \"t\";\n" \
	"auth = \"none\";\n"

/* Five lines: "nodes = (" then one node a line, then ");". */
#define NODES3 \
	"nodes = (\n" \
	"\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n" \
	"\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; },\n" \
	"\t{ id = 3; name = \"gamma\"; address = \"10.0.0.3\"; }\n" \
	");\n"

/* ---- the example */

static void
test_example_is_valid(void **state)
{
	struct vg_errs errs;
	struct vg_conf *c;

	(void)state;
	vg_errs_init(&errs);
	c = vg_conf_load(VG_SRCDIR "/conf/vigil.conf", "alpha", &errs);
	if (c == NULL)
		dump_errs(&errs);
	assert_non_null(c);
	assert_int_equal(errs.n, 0);
	assert_int_equal(c->self, 0);
	assert_string_equal(c->nodes[c->self].name, "alpha");
	assert_int_equal(c->nodes[c->self].id, 1);
	assert_string_equal(c->cluster, "example");
	assert_int_equal(c->n_nodes, 3);
	assert_int_equal(c->nodes[2].role, VG_ROLE_WITNESS);
	assert_int_equal(c->interval, VG_MS(100));
	assert_int_equal(c->dead_time, VG_MS(500));
	assert_int_equal(c->auth, VG_AUTH_HMAC);
	assert_string_equal(c->auth_key_file, "/etc/vigil/auth.key");
	assert_int_equal(c->total_votes, 3);
	assert_int_equal(c->quorum, 2);
	assert_true(c->lease >= 2 * c->interval);
	assert_int_equal(c->n_vips, 1);
	assert_int_equal(c->vips[0].family, AF_INET);
	assert_int_equal(c->vips[0].prefixlen, 24);
	assert_string_equal(c->vips[0].ifname, "eth0");
	assert_string_equal(c->vips[0].text, "198.18.0.100/24");
	vg_conf_free(c);

	/* The same file resolves every node of it. */
	vg_errs_init(&errs);
	c = vg_conf_load(VG_SRCDIR "/conf/vigil.conf", "gamma", &errs);
	assert_non_null(c);
	assert_int_equal(c->self, 2);
	vg_conf_free(c);
}

static void
test_load_missing_file(void **state)
{
	struct vg_errs errs;
	struct vg_conf *c;

	(void)state;
	vg_errs_init(&errs);
	c = vg_conf_load(VG_SRCDIR "/conf/no-such-file.conf", NULL, &errs);
	assert_null(c);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.msg[0], "no-such-file.conf: cannot open"));
}

/* ---- one test per rule */

static void
test_syntax_error(void **state)
{
	(void)state;
	/* libconfig's own message and line */
	expect_one_error(HEAD "interval = ;\n" NODES3, NULL, 3, "syntax error");
	expect_one_error(HEAD NODES3 "vips = ( { address = \"10.0.0.9\" };\n", NULL, 8,
	    "syntax error");
}

static void
test_unknown_setting_root(void **state)
{
	(void)state;
	expect_one_error(HEAD "intervall = 100;\n" NODES3, NULL, 3,
	    "unknown setting 'intervall'");
}

static void
test_unknown_setting_in_node(void **state)
{
	(void)state;
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; prio = 5; }\n"
	    ");\n", NULL, 5, "unknown setting 'prio' in a node");
}

static void
test_unknown_setting_in_sections(void **state)
{
	(void)state;
	expect_one_error(HEAD "ctl = { sockett = \"/run/x.sock\"; };\n" NODES3, NULL, 3,
	    "unknown setting 'sockett' in ctl");
	expect_one_error(HEAD "log = {\n\tlevel = \"info\";\n\tcolour = \"red\";\n};\n"
	    NODES3, NULL, 5, "unknown setting 'colour' in log");
	expect_one_error(HEAD NODES3
	    "vips = ( { address = \"10.0.0.9\"; interface = \"eth0\"; "
	    "mask = 24; } );\n", NULL, 8, "unknown setting 'mask' in a vip");
}

static void
test_wrong_type(void **state)
{
	(void)state;
	expect_one_error(HEAD "interval = \"100\";\n" NODES3, NULL, 3,
	    "interval must be an integer, not a string");
	expect_one_error(HEAD "max_drift = \"0.01\";\n" NODES3, NULL, 3,
	    "max_drift must be a number, not a string");
	expect_one_error(HEAD "state_dir = 5;\n" NODES3, NULL, 3,
	    "state_dir must be a string, not an integer");
	expect_one_error(HEAD "ctl = \"/run/vigil.sock\";\n" NODES3, NULL, 3,
	    "ctl must be a group, not a string");
	expect_one_error(HEAD "nodes = 5;\n", NULL, 3,
	    "nodes must be a list, not an integer");
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2.5; name = \"beta\"; address = \"10.0.0.2\"; }\n"
	    ");\n", NULL, 5, "id must be an integer, not a number");
}

/* The cluster-wide digest (the wire's conf_digest): every cluster-wide
 * setting moves it; the local ones, the epoch, the order of the nodes and
 * comments do not. */
static void
test_digest_covers(void **state)
{
	static const char *const moves[] = {
		"garp_count = 5;\n", "notify = \"/bin/true\";\n",
		"script_timeout = 999;\n", "max_failovers = 9;\n",
		"flap_window = 1234;\n", "preempt = false;\n",
		"track = ( { name = \"t\"; command = \"true\"; } );\n",
		"track_interfaces = [ \"eth1\" ];\n", "vip_lifetime = 30;\n",
		"dead_time = 900;\n",
	};
	static const char *const stays[] = {
		"epoch = 9;\n", "# a comment\n",
		"state_dir = \"/var/lib/other\";\n",
		"state_file = \"/run/other\";\n",
		"ctl = { socket = \"/run/o.sock\"; admin_group = \"wheel\"; };\n",
		"log = { level = \"debug\"; };\n", "realtime_priority = 0;\n",
		"metrics = { listen = \"127.0.0.1:9465\"; };\n",
	};
	struct vg_conf *a, *b;
	char text[2048];
	size_t i;

	(void)state;
	a = parse_ok(HEAD NODES3, "alpha");
	for (i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
		snprintf(text, sizeof(text), "%s%s%s", HEAD, NODES3, moves[i]);
		b = parse_ok(text, "alpha");
		if (a->digest == b->digest)
			fail_msg("%s does not move the digest", moves[i]);
		vg_conf_free(b);
	}
	for (i = 0; i < sizeof(stays) / sizeof(stays[0]); i++) {
		snprintf(text, sizeof(text), "%s%s%s", HEAD, NODES3, stays[i]);
		b = parse_ok(text, "alpha");
		if (a->digest != b->digest)
			fail_msg("%s moves the digest", stays[i]);
		vg_conf_free(b);
	}
	b = parse_ok(HEAD "nodes = (\n"
	    "\t{ id = 3; name = \"gamma\"; address = \"10.0.0.3\"; },\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; }\n"
	    ");\n", "alpha");
	assert_int_equal(a->digest, b->digest);
	vg_conf_free(b);
	vg_conf_free(a);
}

/* epoch: an integer 0..2^31-1, 0 by default */
static void
test_epoch(void **state)
{
	struct vg_conf *c;

	(void)state;
	c = parse_ok(HEAD NODES3, NULL);
	assert_int_equal(c->epoch, 0);
	vg_conf_free(c);
	c = parse_ok(HEAD "epoch = 2147483647;\n" NODES3, NULL);
	assert_true(c->epoch == 2147483647u);
	vg_conf_free(c);
	c = parse_ok(HEAD "epoch = 7;\n" NODES3, NULL);
	assert_int_equal(c->epoch, 7);
	vg_conf_free(c);
	expect_one_error(HEAD "epoch = -1;\n" NODES3, NULL, 3,
	    "epoch = -1 is out of range (0..2147483647)");
	expect_one_error(HEAD "epoch = 2147483648L;\n" NODES3, NULL, 3,
	    "epoch = 2147483648 is out of range (0..2147483647)");
	expect_one_error(HEAD "epoch = \"3\";\n" NODES3, NULL, 3,
	    "epoch must be an integer, not a string");
}

/* The file digest is of the bytes: a comment changes it, this node's name
 * does not; it is the SHA-256's first 32 bits. */
static void
test_file_digest(void **state)
{
	static const char text[] = HEAD NODES3;
	struct vg_conf *a, *b, *c;
	uint8_t sha[32];
	uint32_t d;

	(void)state;
	a = parse_ok(text, "alpha");
	b = parse_ok(text, "beta");
	c = parse_ok(HEAD "# a comment\n" NODES3, "alpha");
	assert_int_equal(a->file_digest, b->file_digest);
	assert_memory_equal(a->file_sha256, b->file_sha256, 32);
	assert_int_not_equal(a->file_digest, c->file_digest);
	/* the settings are the same: the other digests do not move */
	assert_int_equal(a->digest, c->digest);
	assert_int_equal(a->safety_digest, c->safety_digest);
	crypto_hash_sha256(sha, (const unsigned char *)text, strlen(text));
	assert_memory_equal(a->file_sha256, sha, 32);
	d = (uint32_t)sha[0] << 24 | (uint32_t)sha[1] << 16 |
	    (uint32_t)sha[2] << 8 | sha[3];
	assert_int_equal(a->file_digest, d);
	vg_conf_free(a);
	vg_conf_free(b);
	vg_conf_free(c);
}

static void
test_interval_range(void **state)
{
	struct vg_conf *c;

	(void)state;
	expect_one_error(HEAD "interval = 0;\n" NODES3, NULL, 3,
	    "interval = 0 is out of range (1..10000)");
	expect_one_error(HEAD "interval = 10001;\n" NODES3, NULL, 3,
	    "interval = 10001 is out of range (1..10000)");
	c = parse_ok(HEAD "interval = 1;\n" NODES3, NULL);
	assert_int_equal(c->interval, VG_MS(1));
	vg_conf_free(c);
	c = parse_ok(HEAD "interval = 10000;\n" NODES3, NULL);
	assert_int_equal(c->interval, VG_MS(10000));
	vg_conf_free(c);
}

static void
test_dead_time_range(void **state)
{
	(void)state;
	expect_one_error(HEAD "dead_time = 0;\n" NODES3, NULL, 3,
	    "dead_time = 0 is out of range (1..600000)");
	expect_one_error(HEAD "dead_time = 600001;\n" NODES3, NULL, 3,
	    "dead_time = 600001 is out of range (1..600000)");
}

static void
test_max_drift_range(void **state)
{
	struct vg_conf *c;

	(void)state;
	expect_one_error(HEAD "max_drift = 0.2;\n" NODES3, NULL, 3,
	    "max_drift = 0.2 is out of range (0..0.1)");
	expect_one_error(HEAD "max_drift = -0.01;\n" NODES3, NULL, 3,
	    "max_drift = -0.01 is out of range (0..0.1)");
	c = parse_ok(HEAD "max_drift = 0;\n" NODES3, NULL);
	assert_true(c->max_drift == 0.0);
	vg_conf_free(c);
	c = parse_ok(HEAD "max_drift = 0.1;\n" NODES3, NULL);
	assert_true(c->max_drift == 0.1);
	vg_conf_free(c);
}

static void
test_port_range(void **state)
{
	(void)state;
	expect_one_error(HEAD "port = 0;\n" NODES3, NULL, 3,
	    "port = 0 is out of range (1..65535)");
	expect_one_error(HEAD "port = 65536;\n" NODES3, NULL, 3,
	    "port = 65536 is out of range (1..65535)");
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; port = 0; }\n"
	    ");\n", NULL, 5, "port = 0 is out of range (1..65535)");
}

static void
test_node_id_range(void **state)
{
	struct vg_conf *c;

	(void)state;
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 0; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; }\n"
	    ");\n", NULL, 4, "id = 0 is out of range (1..65535)");
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 65536; name = \"beta\"; address = \"10.0.0.2\"; }\n"
	    ");\n", NULL, 5, "id = 65536 is out of range (1..65535)");
	c = parse_ok(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 65535; name = \"beta\"; address = \"10.0.0.2\"; }\n"
	    ");\n", NULL);
	assert_int_equal(c->nodes[1].id, 65535);
	vg_conf_free(c);
}

static void
test_priority_range(void **state)
{
	(void)state;
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; priority = 0; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; }\n"
	    ");\n", NULL, 4, "priority = 0 is out of range (1..255)");
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; priority = 256; }\n"
	    ");\n", NULL, 5, "priority = 256 is out of range (1..255)");
}

static void
test_votes_range(void **state)
{
	(void)state;
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; votes = 256; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; }\n"
	    ");\n", NULL, 4, "votes = 256 is out of range (0..255)");
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; votes = -1; }\n"
	    ");\n", NULL, 5, "votes = -1 is out of range (0..255)");
}

static void
test_quorum_range(void **state)
{
	(void)state;
	expect_one_error(HEAD "quorum = 0;\n" NODES3, NULL, 3,
	    "quorum = 0 is out of range");
}

static void
test_cluster_id_range(void **state)
{
	struct vg_conf *c;

	(void)state;
	expect_one_error(HEAD "cluster_id = 0;\n" NODES3, NULL, 3,
	    "cluster_id = 0 is out of range (1..4294967295)");
	expect_one_error(HEAD "cluster_id = 4294967296L;\n" NODES3, NULL, 3,
	    "cluster_id = 4294967296 is out of range (1..4294967295)");
	c = parse_ok(HEAD "cluster_id = 4294967295L;\n" NODES3, NULL);
	assert_int_equal(c->cluster_id, UINT32_MAX);
	vg_conf_free(c);
	/* past 32 bits without L: libconfig 1.5 wraps it (4294967796 read
	 * as 500, 4294967295 as -1), so it is refused, with the remedy;
	 * strings, comments and floats are not read as integers */
	expect_one_error(HEAD "cluster_id = 4294967295;\n" NODES3, NULL, 3,
	    "4294967295 does not fit 32 bits: libconfig would read it wrong "
	    "without the L suffix (4294967295L)");
	expect_one_error(HEAD NODES3 "\n\ndead_time = 4294967796;\n", NULL,
	    10, "4294967796 does not fit 32 bits");
	expect_one_error(HEAD NODES3 "epoch = 0x100000000;\n", NULL, 8,
	    "0x100000000 does not fit 32 bits");
	c = parse_ok(HEAD "# 99999999999 in a comment\n/* 88888888888 */\n"
	    "max_drift = 0.00000000001;\n" NODES3, NULL);
	vg_conf_free(c);
}

static void
test_duplicate_node_id(void **state)
{
	(void)state;
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; },\n"
	    "\t{ id = 1; name = \"gamma\"; address = \"10.0.0.3\"; }\n"
	    ");\n", NULL, 6, "node id 1 is used twice (first at line 4)");
}

static void
test_duplicate_node_name(void **state)
{
	(void)state;
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; },\n"
	    "\t{ id = 3; name = \"beta\"; address = \"10.0.0.3\"; }\n"
	    ");\n", NULL, 6, "node name \"beta\" is used twice (first at line 5)");
}

static void
test_duplicate_node_address(void **state)
{
	struct vg_conf *c;

	(void)state;
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; },\n"
	    "\t{ id = 3; name = \"gamma\"; address = \"10.0.0.1\"; }\n"
	    ");\n", NULL, 6,
	    "node address 10.0.0.1 port 5405 is used twice (first at line 4)");
	/* an explicit port equal to the default is the same socket */
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.1\"; port = 5405; }\n"
	    ");\n", NULL, 5, "node address 10.0.0.1 port 5405 is used twice");
	/* the same host on another port is another node (a lab on one host) */
	c = parse_ok(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.1\"; port = 5406; }\n"
	    ");\n", NULL);
	vg_conf_free(c);
}

/* The same IPv6 address spelled two ways is still the same address. */
static void
test_duplicate_node_address_v6_spelling(void **state)
{
	(void)state;
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"2001:db8::1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"2001:DB8:0::1\"; }\n"
	    ");\n", NULL, 5, "is used twice (first at line 4)");
}

static void
test_lease_too_short(void **state)
{
	struct vg_conf *c;

	(void)state;
	/* L = 200(0.99/1.01) - 25 = 171.04 ms < 2h */
	expect_one_error(HEAD "interval = 100;\ndead_time = 200;\n" NODES3, NULL, 4,
	    "dead_time = 200 ms is too short for interval = 100 ms");
	/* the minimum it suggests is exact: 229 fails, 230 passes */
	expect_one_error(HEAD "interval = 100;\ndead_time = 229;\n" NODES3, NULL, 4,
	    "dead_time must be at least 230 ms");
	c = parse_ok(HEAD "interval = 100;\ndead_time = 230;\n" NODES3, NULL);
	vg_conf_free(c);
	/* D = 3h is valid (DESIGN.md), even at the largest drift */
	c = parse_ok(HEAD "interval = 100;\ndead_time = 300;\n" NODES3, NULL);
	assert_int_equal(c->dead_time, VG_MS(300));
	assert_true(c->lease >= 2 * c->interval);
	vg_conf_free(c);
	c = parse_ok(HEAD "interval = 100;\ndead_time = 300;\nmax_drift = 0.1;\n"
	    NODES3, NULL);
	vg_conf_free(c);
	c = parse_ok(HEAD "interval = 1;\ndead_time = 3;\n" NODES3, NULL);
	vg_conf_free(c);
	/* without drift the bound is D >= 2.25h exactly: L = 2h passes */
	c = parse_ok(HEAD "interval = 100;\ndead_time = 225;\nmax_drift = 0;\n"
	    NODES3, NULL);
	assert_int_equal(c->lease, 2 * c->interval);
	vg_conf_free(c);
	expect_one_error(HEAD "interval = 100;\ndead_time = 224;\nmax_drift = 0;\n"
	    NODES3, NULL, 4, "less than 2 intervals");
	/* drift makes the same D too short */
	expect_one_error(HEAD "interval = 100;\ndead_time = 250;\nmax_drift = 0.1;\n"
	    NODES3, NULL, 4, "too short");
}

static void
test_quorum_not_majority(void **state)
{
	struct vg_conf *c;

	(void)state;
	expect_one_error(HEAD "quorum = 1;\n" NODES3, NULL, 3,
	    "quorum = 1 must be more than half of all 3 votes");
	expect_one_error(HEAD "quorum = 4;\n" NODES3, NULL, 3,
	    "quorum = 4 must be more than half of all 3 votes and at most all "
	    "of them (2..3)");
	c = parse_ok(HEAD "quorum = 3;\n" NODES3, NULL);
	assert_int_equal(c->quorum, 3);
	vg_conf_free(c);
	/* weighted: 2+1+1 = 4 votes, half of them is not a quorum */
	expect_one_error(HEAD "quorum = 2;\n"
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; votes = 2; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; },\n"
	    "\t{ id = 3; name = \"gamma\"; address = \"10.0.0.3\"; }\n"
	    ");\n", NULL, 3, "quorum = 2 must be more than half of all 4 votes");
}

static void
test_no_eligible_node(void **state)
{
	(void)state;
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; role = \"witness\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; role = \"witness\"; }\n"
	    ");\n", NULL, 3, "no node has role \"node\"");
}

static void
test_witness_without_votes(void **state)
{
	(void)state;
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; },\n"
	    "\t{ id = 3; name = \"gamma\"; address = \"10.0.0.3\"; "
	    "role = \"witness\"; votes = 0; }\n"
	    ");\n", NULL, 6, "witness \"gamma\" has no votes");
}

static void
test_no_votes_at_all(void **state)
{
	(void)state;
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; votes = 0; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; votes = 0; }\n"
	    ");\n", NULL, 3, "no node has a vote");
}

static void
test_bad_role(void **state)
{
	(void)state;
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; role = \"judge\"; }\n"
	    ");\n", NULL, 5, "role = \"judge\" is not one of the accepted values");
}

static void
test_node_missing_fields(void **state)
{
	(void)state;
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ name = \"beta\"; address = \"10.0.0.2\"; }\n"
	    ");\n", NULL, 5, "node has no id");
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; address = \"10.0.0.2\"; }\n"
	    ");\n", NULL, 5, "node has no name");
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; }\n"
	    ");\n", NULL, 5, "node has no address");
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"beta.example\"; }\n"
	    ");\n", NULL, 5,
	    "address \"beta.example\" is not an IPv4 or IPv6 address");
	expect_one_error(HEAD "nodes = ();\n", NULL, 3, "nodes is empty");
	expect_one_error(HEAD, NULL, 0, "no nodes list");
}

static void
test_invalid_names(void **state)
{
	(void)state;
	expect_one_error("cluster = \"my cluster\";\nauth = \"none\";\n" NODES3, NULL, 1,
	    "cluster name \"my cluster\" may hold only letters");
	expect_one_error("auth = \"none\";\n" NODES3, NULL, 0, "no cluster name");
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"be/ta\"; address = \"10.0.0.2\"; }\n"
	    ");\n", NULL, 5, "node name \"be/ta\" may hold only letters");
}

static void
test_missing_auth_key_file(void **state)
{
	struct vg_conf *c;

	(void)state;
	/* the default is hmac-sha256: a key is needed (there is no line) */
	expect_one_error("cluster = \"t\";\n" NODES3, NULL, 0, "no auth_key_file");
	expect_one_error("cluster = \"t\";\nauth = \"hmac-sha256\";\n" NODES3, NULL, 0,
	    "no auth_key_file: set one, or auth = \"none\"");
	expect_one_error("cluster = \"t\";\nauth = \"md5\";\n"
	    "auth_key_file = \"/etc/vigil/auth.key\";\n" NODES3, NULL, 2,
	    "auth = \"md5\" is not one of the accepted values");
	c = parse_ok("cluster = \"t\";\nauth_key_file = \"/etc/vigil/k\";\n"
	    NODES3, NULL);
	assert_int_equal(c->auth, VG_AUTH_HMAC);
	assert_string_equal(c->auth_key_file, "/etc/vigil/k");
	assert_int_equal(c->auth_key_file_line, 2);
	vg_conf_free(c);
	c = parse_ok(HEAD NODES3, NULL);
	assert_int_equal(c->auth, VG_AUTH_NONE);
	assert_string_equal(c->auth_key_file, "");
	vg_conf_free(c);
}

static void
test_relative_paths(void **state)
{
	(void)state;
	expect_one_error("cluster = \"t\";\nauth_key_file = \"auth.key\";\n" NODES3,
	    NULL, 2, "auth_key_file must be an absolute path, not \"auth.key\"");
	expect_one_error(HEAD "state_dir = \"var/lib/vigil\";\n" NODES3, NULL, 3,
	    "state_dir must be an absolute path, not \"var/lib/vigil\"");
	expect_one_error(HEAD "state_file = \"./state\";\n" NODES3, NULL, 3,
	    "state_file must be an absolute path");
	expect_one_error(HEAD "ctl = {\n\tsocket = \"vigil.sock\";\n};\n" NODES3, NULL,
	    4, "socket must be an absolute path, not \"vigil.sock\"");
}

static void
test_vip_invalid_address(void **state)
{
	(void)state;
	expect_one_error(HEAD NODES3
	    "vips = (\n"
	    "\t{ address = \"10.0.0.100/24\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"300.0.0.1/24\"; interface = \"eth0\"; }\n"
	    ");\n", NULL, 10,
	    "vip address \"300.0.0.1\" is not an IPv4 or IPv6 address");
	expect_one_error(HEAD NODES3
	    "vips = ( { interface = \"eth0\"; } );\n", NULL, 8,
	    "vip has no address");
}

static void
test_vip_prefix_range(void **state)
{
	struct vg_conf *c;

	(void)state;
	expect_one_error(HEAD NODES3
	    "vips = ( { address = \"10.0.0.100/33\"; interface = \"eth0\"; } );\n",
	    NULL, 8, "vip prefix length \"/33\" is not in 1..32");
	expect_one_error(HEAD NODES3
	    "vips = ( { address = \"10.0.0.100/0\"; interface = \"eth0\"; } );\n",
	    NULL, 8, "vip prefix length \"/0\" is not in 1..32");
	expect_one_error(HEAD NODES3
	    "vips = ( { address = \"2001:db8::100/129\"; interface = \"eth0\"; } );\n",
	    NULL, 8, "vip prefix length \"/129\" is not in 1..128");
	expect_one_error(HEAD NODES3
	    "vips = ( { address = \"10.0.0.100/\"; interface = \"eth0\"; } );\n",
	    NULL, 8, "vip prefix length \"/\" is not in 1..32");
	expect_one_error(HEAD NODES3
	    "vips = ( { address = \"10.0.0.100/2x\"; interface = \"eth0\"; } );\n",
	    NULL, 8, "vip prefix length \"/2x\" is not in 1..32");
	c = parse_ok(HEAD NODES3
	    "vips = (\n"
	    "\t{ address = \"10.0.0.100/32\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"10.0.0.101/1\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"2001:db8::100/128\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"10.0.0.102\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"2001:db8::102\"; interface = \"eth1\"; }\n"
	    ");\n", NULL);
	assert_int_equal(c->n_vips, 5);
	assert_int_equal(c->vips[0].prefixlen, 32);
	assert_int_equal(c->vips[1].prefixlen, 1);
	assert_int_equal(c->vips[2].prefixlen, 128);
	/* no prefix: a host address */
	assert_int_equal(c->vips[3].prefixlen, 32);
	assert_string_equal(c->vips[3].text, "10.0.0.102/32");
	assert_int_equal(c->vips[4].prefixlen, 128);
	assert_string_equal(c->vips[4].text, "2001:db8::102/128");
	vg_conf_free(c);
}

static void
test_vip_duplicate(void **state)
{
	(void)state;
	expect_one_error(HEAD NODES3
	    "vips = (\n"
	    "\t{ address = \"10.0.0.100/24\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"10.0.0.101/24\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"10.0.0.100/32\"; interface = \"eth1\"; }\n"
	    ");\n", NULL, 11, "vip 10.0.0.100/32 is listed twice (first at line 9)");
	/* compared as addresses, not as text */
	expect_one_error(HEAD NODES3
	    "vips = (\n"
	    "\t{ address = \"2001:db8::100\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"2001:DB8:0:0::100\"; interface = \"eth0\"; }\n"
	    ");\n", NULL, 10, "is listed twice (first at line 9)");
}

static void
test_vip_is_node_address(void **state)
{
	(void)state;
	expect_one_error(HEAD NODES3
	    "vips = ( { address = \"10.0.0.2/24\"; interface = \"eth0\"; } );\n",
	    NULL, 8, "vip 10.0.0.2/24 is the address of node \"beta\"");
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"2001:db8::1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"2001:db8::2\"; }\n"
	    ");\n"
	    "vips = ( { address = \"2001:db8:0::2/64\"; interface = \"eth0\"; } );\n",
	    NULL, 7, "is the address of node \"beta\"");
}

static void
test_vip_without_interface(void **state)
{
	(void)state;
	expect_one_error(HEAD NODES3
	    "vips = (\n"
	    "\t{ address = \"10.0.0.100/24\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"10.0.0.101/24\"; }\n"
	    ");\n", NULL, 10, "vip has no interface");
	expect_one_error(HEAD NODES3
	    "vips = ( { address = \"10.0.0.100/24\"; interface = \"eth 0\"; } );\n",
	    NULL, 8, "interface name \"eth 0\" is not valid");
}

static void
test_self_not_found(void **state)
{
	(void)state;
	expect_one_error(HEAD NODES3, "zeta", 3, "this node \"zeta\" is not in nodes");
}

static void
test_self_resolution(void **state)
{
	struct vg_conf *c;

	(void)state;
	c = parse_ok(HEAD NODES3, NULL);
	assert_int_equal(c->self, -1);
	vg_conf_free(c);
	c = parse_ok(HEAD NODES3, "beta");
	assert_int_equal(c->self, 1);
	assert_int_equal(c->nodes[c->self].id, 2);
	vg_conf_free(c);
}

static void
test_include_rejected(void **state)
{
	(void)state;
	expect_one_error(HEAD "@include \"/etc/vigil/more.conf\"\n" NODES3, NULL, 3,
	    "@include is not supported");
}

static void
test_several_errors(void **state)
{
	struct vg_errs errs;
	struct vg_conf *c;

	(void)state;
	vg_errs_init(&errs);
	c = vg_conf_parse(HEAD
	    "interval = 0;\n"					/* 3 */
	    "colour = \"red\";\n"				/* 4 */
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; priority = 0; }\n"
	    ");\n", FILE_NAME, NULL, &errs);			/* 7 */
	if (errs.n != 3)
		dump_errs(&errs);
	assert_null(c);
	assert_int_equal(errs.n, 3);
	assert_true(err_matches(errs.msg[0], 3, "interval = 0 is out of range"));
	assert_true(err_matches(errs.msg[1], 4, "unknown setting 'colour'"));
	assert_true(err_matches(errs.msg[2], 7, "priority = 0 is out of range"));
}

static void
test_too_many_nodes(void **state)
{
	char text[16384];
	struct vg_conf *c;
	size_t off;
	int i, n;

	(void)state;
	for (n = VG_MAX_NODES; n <= VG_MAX_NODES + 1; n++) {
		off = (size_t)snprintf(text, sizeof(text), HEAD "nodes = (\n");
		for (i = 1; i <= n; i++)
			off += (size_t)snprintf(text + off, sizeof(text) - off,
			    "\t{ id = %d; name = \"n%d\"; address = \"10.0.%d.%d\"; "
			    "}%s\n", i, i, i / 200, i % 200 + 1, i < n ? "," : "");
		snprintf(text + off, sizeof(text) - off, ");\n");
		assert_true(off < sizeof(text) - 8);
		if (n == VG_MAX_NODES) {
			c = parse_ok(text, "n64");
			assert_int_equal(c->n_nodes, VG_MAX_NODES);
			assert_int_equal(c->self, VG_MAX_NODES - 1);
			vg_conf_free(c);
		} else
			expect_one_error(text, NULL, 3, "65 nodes, at most 64 are supported");
	}
}

/* Past VG_ERRS_MAX errors are counted, not stored; the config is refused. */
static void
test_error_overflow(void **state)
{
	char text[8192];
	struct vg_errs errs;
	struct vg_conf *c;
	size_t off;
	int i;

	(void)state;
	off = (size_t)snprintf(text, sizeof(text), HEAD NODES3);
	for (i = 0; i < VG_ERRS_MAX + 6; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "bogus%d = 1;\n", i);
	assert_true(off < sizeof(text) - 1);
	vg_errs_init(&errs);
	c = vg_conf_parse(text, FILE_NAME, NULL, &errs);
	assert_null(c);
	assert_int_equal(errs.n, VG_ERRS_MAX);
	assert_int_equal(errs.dropped, 6);
	assert_true(err_matches(errs.msg[0], 8, "unknown setting 'bogus0'"));
	assert_true(err_matches(errs.msg[VG_ERRS_MAX - 1], 8 + VG_ERRS_MAX - 1,
	    "unknown setting 'bogus63'"));
}

static void
test_defaults(void **state)
{
	struct vg_conf *c;
	const struct sockaddr_in *sin;

	(void)state;
	c = parse_ok(HEAD NODES3, NULL);
	assert_int_equal(c->interval, VG_MS(VG_DEFAULT_INTERVAL_MS));
	assert_int_equal(c->dead_time, VG_MS(5 * VG_DEFAULT_INTERVAL_MS));
	assert_true(c->max_drift == VG_DEFAULT_MAX_DRIFT);
	assert_int_equal(c->port, VG_DEFAULT_PORT);
	assert_string_equal(c->state_dir, VG_DEFAULT_STATE_DIR);
	assert_string_equal(c->state_file, VG_DEFAULT_STATE_FILE);
	assert_string_equal(c->ctl.socket, VG_DEFAULT_CTL_SOCKET);
	assert_int_equal(c->log.level, VG_LOG_INFO);
	assert_int_equal(c->n_vips, 0);
	assert_null(c->vips);
	assert_int_equal(c->total_votes, 3);
	assert_int_equal(c->quorum, 2);
	assert_int_equal(c->nodes[0].priority, 100);
	assert_int_equal(c->nodes[0].votes, 1);
	assert_int_equal(c->nodes[0].role, VG_ROLE_NODE);
	assert_int_equal(c->nodes[0].port, VG_DEFAULT_PORT);
	sin = (const struct sockaddr_in *)&c->nodes[0].sa;
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), VG_DEFAULT_PORT);
	assert_int_equal(c->nodes[0].salen, sizeof(struct sockaddr_in));
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x0a000001);
	vg_conf_free(c);

	/* dead_time follows the interval */
	c = parse_ok(HEAD "interval = 200;\n" NODES3, NULL);
	assert_int_equal(c->dead_time, VG_MS(1000));
	vg_conf_free(c);

	/* quorum = floor(votes/2)+1 over weighted votes: 3+1+1 = 5 -> 3 */
	c = parse_ok(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; votes = 3; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; },\n"
	    "\t{ id = 3; name = \"gamma\"; address = \"10.0.0.3\"; }\n"
	    ");\n", NULL);
	assert_int_equal(c->total_votes, 5);
	assert_int_equal(c->quorum, 3);
	vg_conf_free(c);
	/* 2+2 = 4 -> 3; a 0-vote node counts for nothing */
	c = parse_ok(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; votes = 2; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; votes = 2; },\n"
	    "\t{ id = 3; name = \"gamma\"; address = \"10.0.0.3\"; votes = 0; }\n"
	    ");\n", NULL);
	assert_int_equal(c->total_votes, 4);
	assert_int_equal(c->quorum, 3);
	vg_conf_free(c);

	/* the root port is every node's default; a node may override it */
	c = parse_ok(HEAD "port = 6000;\n"
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; port = 7000; }\n"
	    ");\n", NULL);
	assert_int_equal(c->port, 6000);
	assert_int_equal(c->nodes[0].port, 6000);
	assert_int_equal(c->nodes[1].port, 7000);
	sin = (const struct sockaddr_in *)&c->nodes[0].sa;
	assert_int_equal(ntohs(sin->sin_port), 6000);
	sin = (const struct sockaddr_in *)&c->nodes[1].sa;
	assert_int_equal(ntohs(sin->sin_port), 7000);
	assert_ptr_equal(vg_conf_node_by_id(c, 2), &c->nodes[1]);
	assert_null(vg_conf_node_by_id(c, 3));
	vg_conf_free(c);
}

static void
test_lease_formula(void **state)
{
	struct vg_conf *c;
	double want;

	(void)state;
	c = parse_ok(HEAD "interval = 100;\ndead_time = 500;\nmax_drift = 0.01;\n"
	    NODES3, NULL);
	/* L = D(1-rho)/(1+rho) - h/4 = 490.0990099 - 25 ms */
	want = 500e6 * 0.99 / 1.01 - 100e6 / 4;
	assert_true(fabs((double)c->lease - want) < 1.0);
	assert_int_equal(c->lease, 465099009);
	assert_int_equal(c->lease, vg_conf_lease(c->interval, c->dead_time,
	    c->max_drift));
	vg_conf_free(c);

	assert_int_equal(vg_conf_lease(VG_MS(100), VG_MS(300), 0.0), VG_MS(275));
	assert_int_equal(vg_conf_lease(VG_MS(10000), VG_MS(600000), 0.1),
	    (vg_ns)floor(600000e6 * 0.9 / 1.1 - 2500e6));
	/* may be negative */
	assert_int_equal(vg_conf_lease(VG_MS(100), 0, 0.01), -VG_MS(25));
}

static void
test_cluster_id_default(void **state)
{
	struct vg_conf *a, *b, *d, *e;

	(void)state;
	a = parse_ok(HEAD NODES3, NULL);
	b = parse_ok(HEAD "interval = 50;\n" NODES3, "alpha");
	d = parse_ok("cluster = \"u\";\nauth = \"none\";\n" NODES3, NULL);
	e = parse_ok(HEAD "cluster_id = 1234;\n" NODES3, NULL);
	assert_int_not_equal(a->cluster_id, 0);
	/* from the name alone: the same on every node, every time */
	assert_int_equal(a->cluster_id, b->cluster_id);
	assert_int_not_equal(a->cluster_id, d->cluster_id);
	/* FNV-1a 32 of the name: pinned, nodes of two versions must agree */
	assert_int_equal(a->cluster_id, 0xf10c3da3u);
	assert_int_equal(d->cluster_id, 0xf00c3c10u);
	assert_int_equal(e->cluster_id, 1234);
	vg_conf_free(a);
	vg_conf_free(b);
	vg_conf_free(d);
	vg_conf_free(e);
}

/* The safety digest and its parts: what changes which. */
static void
expect_parts(const struct vg_conf *a, const char *text, unsigned parts)
{
	struct vg_conf *b = parse_ok(text, "alpha");
	char buf[64];
	int i;

	for (i = 0; i < VG_PART_MAX; i++)
		if (((a->part_digest[i] != b->part_digest[i]) ? 1u : 0u) !=
		    ((parts >> i) & 1u))
			fail_msg("part %s: %08x / %08x, wanted %s",
			    vg_conf_part_name((enum vg_conf_part)i),
			    a->part_digest[i], b->part_digest[i],
			    parts >> i & 1 ? "different" : "the same");
	if (parts == 0)
		assert_int_equal(a->safety_digest, b->safety_digest);
	else
		assert_int_not_equal(a->safety_digest, b->safety_digest);
	/* the hint on the wire shows the same parts (these inputs do not hit
	 * its 1-in-32 collision) */
	assert_int_equal(vg_conf_parts_differ(a, vg_conf_parts_hint(b)), parts);
	assert_int_equal(vg_conf_parts_differ(b, vg_conf_parts_hint(a)), parts);
	print_message("    %-30s %s\n", vg_conf_parts_str(parts, buf,
	    sizeof(buf)), text + strlen(HEAD));
	vg_conf_free(b);
}

/* ---- key rotation: auth_key_next, auth_key_previous */

/* Lines 1-4: a sending key, then the rotation's two. */
#define ROT(next, prev) \
	"cluster = \"t\";\n" \
	"auth_key_file = \"/k/cur\";\n" \
	next prev

static void
test_key_rotation_settings(void **state)
{
	struct vg_conf *a, *b;

	(void)state;
	a = parse_ok(ROT("auth_key_next = \"/k/new\";\n",
	    "auth_key_previous = \"/k/old\";\n") NODES3, "alpha");
	assert_string_equal(a->auth_key_next, "/k/new");
	assert_int_equal(a->auth_key_next_line, 3);
	assert_string_equal(a->auth_key_previous, "/k/old");
	assert_int_equal(a->auth_key_previous_line, 4);
	/* local settings: neither digest moves */
	b = parse_ok(ROT("", "") NODES3, "alpha");
	assert_string_equal(b->auth_key_next, "");
	assert_string_equal(b->auth_key_previous, "");
	assert_int_equal(a->digest, b->digest);
	assert_int_equal(a->safety_digest, b->safety_digest);
	vg_conf_free(a);
	vg_conf_free(b);
	/* each alone */
	vg_conf_free(parse_ok(ROT("auth_key_next = \"/k/new\";\n", "") NODES3,
	    "alpha"));
	vg_conf_free(parse_ok(ROT("", "auth_key_previous = \"/k/old\";\n")
	    NODES3, "alpha"));
	/* the sending key again, or the same file twice */
	expect_one_error(ROT("auth_key_next = \"/k/cur\";\n", "") NODES3,
	    "alpha", 3, "auth_key_next is auth_key_file");
	expect_one_error(ROT("", "auth_key_previous = \"/k/cur\";\n") NODES3,
	    "alpha", 3, "auth_key_previous is auth_key_file");
	expect_one_error(ROT("auth_key_next = \"/k/x\";\n",
	    "auth_key_previous = \"/k/x\";\n") NODES3, "alpha", 4,
	    "auth_key_previous is auth_key_next");
	/* a relative path, as for auth_key_file */
	expect_one_error(ROT("auth_key_next = \"k/new\";\n", "") NODES3,
	    "alpha", 3, "auth_key_next");
	/* without authentication there is nothing to rotate */
	expect_one_error(HEAD "auth_key_next = \"/k/new\";\n" NODES3, "alpha", 3,
	    "auth_key_next without auth");
	expect_one_error(HEAD "auth_key_previous = \"/k/old\";\n" NODES3,
	    "alpha", 3, "auth_key_previous without auth");
}

static void
test_safety_digest(void **state)
{
	struct vg_conf *a;
	char buf[64];

	(void)state;
	a = parse_ok(HEAD NODES3, "alpha");
	assert_true((vg_conf_parts_hint(a) & VG_PARTS_PRESENT) != 0);
	assert_int_equal(vg_conf_parts_differ(a, vg_conf_parts_hint(a)), 0);
	assert_int_equal(vg_conf_parts_differ(a, 0), 0);	/* none sent */
	/* not safety-relevant: local settings, priorities, VIPs, preemption,
	 * the list's order, explicit defaults */
	expect_parts(a, HEAD "state_dir = \"/srv/v\";\nlog = { level = "
	    "\"debug\"; };\npreempt = false;\nvip_lifetime = 9;\n"
	    "interval = 100;\nquorum = 2;\n"
	    "vips = ( { address = \"10.0.0.100/24\"; interface = \"eth0\"; } );\n"
	    "nodes = (\n"
	    "\t{ id = 3; name = \"gamma\"; address = \"10.0.0.3\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; priority = 7; },\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; votes = 1; }\n"
	    ");\n", 0);
	/* membership: an address, a port, a name, an id */
	expect_parts(a, HEAD "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.12\"; },\n"
	    "\t{ id = 3; name = \"gamma\"; address = \"10.0.0.3\"; }\n"
	    ");\n", 1u << VG_PART_MEMBERSHIP);
	expect_parts(a, HEAD "port = 5999;\n" NODES3, 1u << VG_PART_MEMBERSHIP);
	expect_parts(a, HEAD "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"bravo\"; address = \"10.0.0.2\"; },\n"
	    "\t{ id = 3; name = \"gamma\"; address = \"10.0.0.3\"; }\n"
	    ");\n", 1u << VG_PART_MEMBERSHIP);
	/* an id changes both (votes are counted by id) */
	expect_parts(a, HEAD "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; },\n"
	    "\t{ id = 4; name = \"gamma\"; address = \"10.0.0.3\"; }\n"
	    ");\n", 1u << VG_PART_MEMBERSHIP | 1u << VG_PART_VOTES);
	/* votes: a node's votes, a witness, the quorum */
	expect_parts(a, HEAD "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; },\n"
	    "\t{ id = 3; name = \"gamma\"; address = \"10.0.0.3\"; role = \"witness\"; }\n"
	    ");\n", 1u << VG_PART_VOTES);
	expect_parts(a, HEAD "quorum = 3;\n" NODES3, 1u << VG_PART_VOTES);
	/* timing */
	expect_parts(a, HEAD "dead_time = 600;\n" NODES3, 1u << VG_PART_TIMING);
	expect_parts(a, HEAD "max_drift = 0.02;\n" NODES3, 1u << VG_PART_TIMING);
	expect_parts(a, HEAD "interval = 50;\ndead_time = 500;\n" NODES3,
	    1u << VG_PART_TIMING);
	/* a node more: membership and votes (and the quorum with them) */
	expect_parts(a, HEAD "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; },\n"
	    "\t{ id = 3; name = \"gamma\"; address = \"10.0.0.3\"; },\n"
	    "\t{ id = 4; name = \"delta\"; address = \"10.0.0.4\"; }\n"
	    ");\n", 1u << VG_PART_MEMBERSHIP | 1u << VG_PART_VOTES);
	assert_string_equal(vg_conf_parts_str(0, buf, sizeof(buf)), "unknown");
	assert_string_equal(vg_conf_parts_str(5, buf, sizeof(buf)),
	    "membership, timing");
	assert_string_equal(vg_conf_parts_str(7, buf, 12), "membership");
	vg_conf_free(a);
}

static void
test_digest(void **state)
{
	struct vg_conf *a, *b, *p, *v, *i;

	(void)state;
	a = parse_ok(HEAD NODES3
	    "vips = ( { address = \"10.0.0.100/24\"; interface = \"eth0\"; } );\n",
	    "alpha");
	/* local settings only: another node's file */
	b = parse_ok(HEAD
	    "state_dir = \"/srv/vigil\";\n"
	    "state_file = \"/srv/vigil/state\";\n"
	    "ctl = { socket = \"/srv/vigil.sock\"; operator_group = \"ops\"; "
	    "admin_group = \"wheel\"; };\n"
	    "log = { level = \"debug\"; format = \"json\"; target = \"stderr\"; };\n"
	    NODES3
	    "vips = ( { address = \"10.0.0.100/24\"; interface = \"eth0\"; } );\n",
	    "beta");
	p = parse_ok(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; priority = 101; },\n"
	    "\t{ id = 3; name = \"gamma\"; address = \"10.0.0.3\"; }\n"
	    ");\n"
	    "vips = ( { address = \"10.0.0.100/24\"; interface = \"eth0\"; } );\n",
	    "alpha");
	v = parse_ok(HEAD NODES3
	    "vips = ( { address = \"10.0.0.100/25\"; interface = \"eth0\"; } );\n",
	    "alpha");
	i = parse_ok(HEAD "interval = 99;\n" NODES3
	    "vips = ( { address = \"10.0.0.100/24\"; interface = \"eth0\"; } );\n",
	    "alpha");
	assert_int_equal(a->digest, b->digest);
	assert_int_not_equal(a->digest, p->digest);
	assert_int_not_equal(a->digest, v->digest);
	assert_int_not_equal(a->digest, i->digest);
	vg_conf_free(a);
	vg_conf_free(b);
	vg_conf_free(p);
	vg_conf_free(v);
	vg_conf_free(i);
}

/*
 * A file without `groups` keeps every digest it had before groups were
 * parsed: these are the values main computed for this text at be4fb11
 * (the implicit group "default" adds nothing).  A change here is a wire
 * change for every running cluster.
 */
#define PIN_TEXT \
	"cluster = \"pin\";\n" \
	"auth = \"none\";\n" \
	"interval = 50;\n" \
	"dead_time = 400;\n" \
	"preempt = false;\n" \
	"preempt_delay = 2500;\n" \
	"nodes = (\n" \
	"\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; priority = 150; },\n" \
	"\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; },\n" \
	"\t{ id = 3; name = \"gamma\"; address = \"10.0.0.3\"; role = \"witness\"; }\n" \
	");\n" \
	"vips = (\n" \
	"\t{ address = \"10.0.0.100/24\"; interface = \"eth0\"; },\n" \
	"\t{ address = \"2001:db8::100/64\"; interface = \"eth1\"; }\n" \
	");\n" \
	"track = ( { name = \"chk\"; command = \"/bin/true\"; weight = 10; } );\n" \
	"track_interfaces = [ \"eth2\" ];\n"

static void
test_digests_pinned(void **state)
{
	struct vg_conf *c;

	(void)state;
	c = parse_ok(PIN_TEXT, "alpha");
	assert_int_equal(c->n_groups, 1);
	assert_int_equal(c->groups_line, 0);
	assert_int_equal(c->digest, 0xab9f5ac9u);
	assert_int_equal(c->safety_digest, 0x4e4e0f3au);
	assert_int_equal(c->part_digest[VG_PART_MEMBERSHIP], 0xf739d221u);
	assert_int_equal(c->part_digest[VG_PART_VOTES], 0xa8a9893du);
	assert_int_equal(c->part_digest[VG_PART_TIMING], 0xee2bcbc9u);
	vg_conf_free(c);
}

/* Three IPv6 nodes, alpha's address as given; VIPs of both families. */
static struct vg_conf *
v6_conf(const char *alpha)
{
	char text[1024];

	snprintf(text, sizeof(text), HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"%s\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"2001:db8::2\"; port = 7000; },\n"
	    "\t{ id = 3; name = \"gamma\"; address = \"2001:db8::3\"; }\n"
	    ");\n"
	    "vips = (\n"
	    "\t{ address = \"2001:db8::100/64\"; interface = \"eth0\"; },\n"
	    "\t{ address = \"10.0.0.100/24\"; interface = \"eth0\"; }\n"
	    ");\n", alpha);
	return parse_ok(text, "beta");
}

static void
test_ipv6(void **state)
{
	struct vg_conf *c;
	const struct sockaddr_in6 *sin6;
	struct in6_addr want;

	(void)state;
	c = v6_conf("2001:db8::1");
	assert_int_equal(c->self, 1);
	sin6 = (const struct sockaddr_in6 *)&c->nodes[1].sa;
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(c->nodes[1].salen, sizeof(struct sockaddr_in6));
	assert_int_equal(ntohs(sin6->sin6_port), 7000);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::2", &want), 1);
	assert_memory_equal(&sin6->sin6_addr, &want, sizeof(want));
	assert_int_equal(c->nodes[2].sa.ss_family, AF_INET6);
	/* addresses canonical: another spelling, the same digests */
	{
		struct vg_conf *d = v6_conf("2001:DB8:0::1");

		assert_string_equal(d->nodes[0].address, "2001:db8::1");
		assert_int_equal(d->safety_digest, c->safety_digest);
		assert_int_equal(d->digest, c->digest);
		vg_conf_free(d);
	}
	assert_int_equal(c->vips[0].family, AF_INET6);
	assert_int_equal(c->vips[0].prefixlen, 64);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::100", &want), 1);
	assert_memory_equal(c->vips[0].addr, &want, sizeof(want));
	assert_string_equal(c->vips[0].text, "2001:db8::100/64");
	assert_int_equal(c->vips[1].family, AF_INET);
	vg_conf_free(c);
}

/*
 * Addresses that cannot work are refused (a reviewer's read; before, each
 * passed `vigild -t`): nodes of two families (one socket talks to every
 * peer: sendto failed), a node at a link-local IPv6 address (no scope),
 * the unspecified or a multicast address; a VIP on loopback (the start-up
 * sweep removed lo's 127.0.0.1), multicast, unspecified or broadcast.
 */
static void
test_unusable_addresses(void **state)
{
	static const char n3v6[] = HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"2001:db8::1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"2001:db8::2\"; },\n"
	    "\t{ id = 3; name = \"gamma\"; address = \"10.0.0.3\"; }\n"
	    ");\n";
	static const char ll[] = HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"fe80::1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"2001:db8::2\"; },\n"
	    "\t{ id = 3; name = \"gamma\"; address = \"2001:db8::3\"; }\n"
	    ");\n";
	static const char *const bad_vips[][2] = {
		{ "127.0.0.1/8", "is a loopback address" },
		{ "::1/128", "is the loopback address" },
		{ "224.0.0.18/32", "is a multicast address" },
		{ "ff02::5/128", "is a multicast address" },
		{ "0.0.0.0/32", "is the unspecified address" },
		{ "::/128", "is the unspecified address" },
		{ "255.255.255.255/32", "is the broadcast address" },
	};
	char text[1024];
	size_t i;

	(void)state;
	expect_one_error(n3v6, "alpha", 6, "node address 10.0.0.3 is IPv4 "
	    "and alpha's (line 4) IPv6: every node's address must be of one "
	    "family");
	expect_one_error(ll, "beta", 4, "node address \"fe80::1\" is "
	    "link-local (a node's address has no scope)");
	for (i = 0; i < sizeof(bad_vips) / sizeof(bad_vips[0]); i++) {
		snprintf(text, sizeof(text), HEAD NODES3 "vips = (\n"
		    "\t{ address = \"%s\"; interface = \"lo\"; }\n);\n",
		    bad_vips[i][0]);
		expect_one_error(text, "alpha", 9, bad_vips[i][1]);
	}
}

/* A group whose VIPs would make VIGIL_VIPS longer than the kernel passes
 * to a script (128 KiB) is refused when notify scripts are set: every
 * one of them failed to start (E2BIG).  Without scripts it is fine. */
static void
test_vips_env_too_long(void **state)
{
	size_t cap = 300000, len, i;
	char *t = malloc(cap), *u;
	struct vg_conf *c;

	(void)state;
	assert_non_null(t);
	len = (size_t)snprintf(t, cap, HEAD "interval = 100;\n"
	    "dead_time = 2000;\n" NODES3 "vips = (\n");
	for (i = 0; i < 3000; i++)
		len += (size_t)snprintf(t + len, cap - len, "\t{ address = "
		    "\"2001:db8:1234:5678:9abc:def0:1234:%04zx/128\"; "
		    "interface = \"eth0\"; }%s\n", i + 1, i + 1 < 3000 ?
		    "," : "");
	snprintf(t + len, cap - len, ");\n");
	c = parse_ok(t, "alpha");
	vg_conf_free(c);
	assert_non_null(u = malloc(cap + 64));
	snprintf(u, cap + 64, "notify = \"/bin/true\";\n%s", t);
	expect_one_error(u, "alpha", 12, "the VIPs make VIGIL_VIPS 140742 "
	    "bytes, more than the kernel passes to a notify script (131072)");
	free(u);
	free(t);
}

/*
 * The configuration reached through a link: the directory the link is in
 * is judged too, not only where it leads (a link in a directory anyone
 * may write could point at another file by the next reload).  Before,
 * only the resolved path was.
 */
static void
test_conf_link_in_open_dir(void **state)
{
	char dir[] = "/tmp/vg-conf-XXXXXX", real[128], open_[128], link_[128];
	char cmd[160];
	struct vg_errs errs;
	struct vg_conf *c;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(real, sizeof(real), "%s/real.conf", dir);
	snprintf(open_, sizeof(open_), "%s/open", dir);
	snprintf(link_, sizeof(link_), "%s/open/link.conf", dir);
	assert_non_null(f = fopen(real, "w"));
	fputs(HEAD NODES3, f);
	fclose(f);
	assert_int_equal(mkdir(open_, 0700), 0);
	assert_int_equal(chmod(open_, 0777), 0);
	assert_int_equal(symlink(real, link_), 0);
	vg_errs_init(&errs);
	c = vg_conf_load(real, "alpha", &errs);
	assert_non_null(c);
	vg_conf_free(c);
	vg_errs_init(&errs);
	c = vg_conf_load(link_, "alpha", &errs);
	assert_null(c);
	assert_true(errs.n >= 1);
	assert_non_null(strstr(errs.msg[0], "/open is writable by group or "
	    "others"));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* ---- VIP groups (issue 15) */

/* Line 8: one track; groups from line 9 on. */
#define TRK "track = ( { name = \"chk\"; command = \"/bin/true\"; } );\n"
#define G_HEAD HEAD NODES3 TRK

/* Lines 9-21: two groups, "web" (two VIPs, its own priorities, track and
 * preemption) and "db" (one VIP, every default). */
#define GROUPS2 \
	"groups = (\n" \
	"\t{\n" \
	"\t\tname = \"web\";\n" \
	"\t\tvips = ( { address = \"10.0.0.100/24\"; interface = \"eth0\"; },\n" \
	"\t\t\t{ address = \"10.0.0.101/24\"; interface = \"eth0\"; } );\n" \
	"\t\tpriorities = { alpha = 150; beta = 0; };\n" \
	"\t\ttracks = ( \"chk\" );\n" \
	"\t\tpreempt = false;\n" \
	"\t\tpreempt_delay = 3000;\n" \
	"\t},\n" \
	"\t{ name = \"db\"; tracks = [];\n" \
	"\t  vips = ( { address = \"10.0.1.100/24\"; interface = \"eth1\"; } ); }\n" \
	");\n"

static void
test_groups_parsed(void **state)
{
	struct vg_conf *c;
	const struct vg_conf_group *w, *d;

	(void)state;
	c = parse_ok(G_HEAD "preempt_delay = 7000;\n" GROUPS2, "alpha");
	assert_int_equal(c->groups_line, 10);
	assert_int_equal(c->n_groups, 2);
	w = &c->groups[0];
	d = &c->groups[1];
	assert_string_equal(w->name, "web");
	assert_string_equal(d->name, "db");
	assert_int_equal(w->line, 11);
	assert_int_equal(c->n_vips, 3);
	assert_int_equal(w->vip_first, 0);
	assert_int_equal(w->n_vips, 2);
	assert_int_equal(d->vip_first, 2);
	assert_int_equal(d->n_vips, 1);
	assert_int_equal(c->vips[0].group, 0);
	assert_int_equal(c->vips[1].group, 0);
	assert_int_equal(c->vips[2].group, 1);
	assert_string_equal(c->vips[2].text, "10.0.1.100/24");
	/* named: their priority there (0 too); not named: the node's */
	assert_int_equal(w->priority[0], 150);
	assert_int_equal(w->priority[1], 0);
	assert_int_equal(w->priority[2], 100);
	assert_int_equal(d->priority[0], 100);
	/* its own preemption; the top-level one by default */
	assert_false(w->preempt);
	assert_int_equal(w->preempt_delay, VG_MS(3000));
	assert_true(d->preempt);
	assert_int_equal(d->preempt_delay, VG_MS(7000));
	/* tracks named; an empty list counts none */
	assert_int_equal(w->tracks, 1);
	assert_int_equal(d->tracks, 0);
	/* every group's interface is followed */
	assert_int_equal(c->n_links, 2);
	assert_string_equal(c->links[0], "eth0");
	assert_string_equal(c->links[1], "eth1");
	vg_conf_free(c);

	/* without tracks, a group counts every track */
	c = parse_ok(G_HEAD "track_interfaces = [ \"eth7\" ];\n"
	    "groups = ( { name = \"a\"; } );\n", "alpha");
	assert_int_equal(c->n_groups, 1);
	assert_int_equal(c->groups[0].tracks, 1);
	assert_int_equal(c->groups[0].n_vips, 0);
	assert_int_equal(c->groups_line, 10);
	vg_conf_free(c);

	/* without groups: the implicit "default", every VIP and track */
	c = parse_ok(G_HEAD
	    "vips = ( { address = \"10.0.0.100/24\"; interface = \"eth0\"; } );\n",
	    "alpha");
	assert_int_equal(c->groups_line, 0);
	assert_int_equal(c->n_groups, 1);
	assert_string_equal(c->groups[0].name, "default");
	assert_int_equal(c->groups[0].n_vips, 1);
	assert_int_equal(c->groups[0].tracks, 1);
	assert_int_equal(c->groups[0].priority[1], 100);
	vg_conf_free(c);
}

static void
test_groups_and_top_vips(void **state)
{
	(void)state;
	expect_one_error(G_HEAD
	    "vips = ( { address = \"10.0.0.100/24\"; interface = \"eth0\"; } );\n"
	    "groups = ( { name = \"web\"; } );\n", NULL, 9,
	    "with groups every VIP is in a group: move these into one");
	/* an empty one too: with groups, vips has no place */
	expect_one_error(G_HEAD "groups = ( { name = \"web\"; } );\nvips = ();\n",
	    NULL, 10, "with groups every VIP is in a group");
}

static void
test_group_vip_twice(void **state)
{
	(void)state;
	/* in two groups: both named (today's duplicate check, told) */
	expect_one_error(G_HEAD "groups = (\n"
	    "\t{ name = \"web\"; vips = ( { address = \"10.0.0.100/24\"; "
	    "interface = \"eth0\"; } ); },\n"
	    "\t{ name = \"db\"; vips = ( { address = \"10.0.0.100/32\"; "
	    "interface = \"eth1\"; } ); }\n"
	    ");\n", NULL, 11, "vip 10.0.0.100/32 is in two groups, \"web\" and "
	    "\"db\" (first at line 10)");
	/* twice in one group */
	expect_one_error(G_HEAD "groups = (\n"
	    "\t{ name = \"web\"; vips = (\n"
	    "\t\t{ address = \"10.0.0.100/24\"; interface = \"eth0\"; },\n"
	    "\t\t{ address = \"10.0.0.100/24\"; interface = \"eth0\"; } ); }\n"
	    ");\n", NULL, 12, "vip 10.0.0.100/24 is listed twice in group "
	    "\"web\" (first at line 11)");
}

static void
test_group_without_holder(void **state)
{
	struct vg_conf *c;

	(void)state;
	/* every node priority 0 there */
	expect_one_error(G_HEAD "groups = (\n"
	    "\t{ name = \"web\"; },\n"
	    "\t{ name = \"db\"; priorities = { alpha = 0; beta = 0; gamma = 0; }; }\n"
	    ");\n", NULL, 11, "group \"db\": no node may hold it");
	/* the one node of priority > 0 is a witness */
	expect_one_error(HEAD
	    "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; },\n"
	    "\t{ id = 3; name = \"gamma\"; address = \"10.0.0.3\"; role = \"witness\"; }\n"
	    ");\n"
	    "groups = ( { name = \"web\";\n"
	    "\tpriorities = { alpha = 0; beta = 0; }; } );\n", NULL, 8,
	    "(every node has priority 0 in it or is a witness)");
	/* one node left is enough */
	c = parse_ok(G_HEAD "groups = ( { name = \"web\";\n"
	    "\tpriorities = { alpha = 0; beta = 0; gamma = 1; }; } );\n", NULL);
	assert_int_equal(c->groups[0].priority[2], 1);
	vg_conf_free(c);
}

static void
test_group_name(void **state)
{
	static const char *const bad[] = { "Web", "", "w.b", "w b", "web!",
	    "abcdefghijklmnopqrstuvwxyz0123456" /* 33 */ };
	struct vg_conf *c;
	char text[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%sgroups = (\n\t{ name = \"%s\"; }\n"
		    ");\n", G_HEAD, bad[i]);
		expect_one_error(text, NULL, 10, "must be 1 to 32 of a-z, 0-9, "
		    "'_' and '-'");
	}
	c = parse_ok(G_HEAD "groups = ( { name = \"a_b-9\"; },\n"
	    "\t{ name = \"abcdefghijklmnopqrstuvwxyz012345\"; } );\n", NULL);
	assert_string_equal(c->groups[1].name,
	    "abcdefghijklmnopqrstuvwxyz012345");
	vg_conf_free(c);
	expect_one_error(G_HEAD "groups = (\n\t{ name = \"web\"; },\n"
	    "\t{ name = \"web\"; }\n);\n", NULL, 11,
	    "group name \"web\" is used twice (first at line 10)");
	expect_one_error(G_HEAD "groups = (\n\t{ priorities = { alpha = 1; }; }\n"
	    ");\n", NULL, 10, "group has no name");
	expect_one_error(G_HEAD "groups = ( \"web\" );\n", NULL, 9,
	    "each entry of groups must be a group { ... }");
}

static void
test_group_tracks(void **state)
{
	struct vg_conf *c;

	(void)state;
	expect_one_error(G_HEAD "groups = ( { name = \"web\";\n"
	    "\ttracks = ( \"chk\", \"chk_web\" ); } );\n", NULL, 10,
	    "group \"web\" names track \"chk_web\", which is not defined in track");
	/* no track at all */
	expect_one_error(HEAD NODES3 "groups = ( { name = \"web\";\n"
	    "\ttracks = ( \"chk\" ); } );\n", NULL, 9, "names track \"chk\"");
	expect_one_error(G_HEAD "groups = ( { name = \"web\";\n"
	    "\ttracks = ( 5 ); } );\n", NULL, 10, "each entry must be a "
	    "track's name");
	/* the bit of the track named, in track's order */
	c = parse_ok(HEAD NODES3 "track = ( { name = \"a\"; command = \"x\"; },\n"
	    "\t{ name = \"b\"; command = \"y\"; } );\n"
	    "groups = ( { name = \"g1\"; tracks = ( \"b\" ); },\n"
	    "\t{ name = \"g2\"; } );\n", NULL);
	assert_int_equal(c->groups[0].tracks, 2);
	assert_int_equal(c->groups[1].tracks, 3);
	vg_conf_free(c);
}

static void
test_group_priorities(void **state)
{
	(void)state;
	expect_one_error(G_HEAD "groups = ( { name = \"web\";\n"
	    "\tpriorities = { alpha = 10;\n\t\tdelta = 5; }; } );\n", NULL, 11,
	    "priorities of group \"web\": no node is named \"delta\"");
	expect_one_error(G_HEAD "groups = ( { name = \"web\";\n"
	    "\tpriorities = { alpha = 256; }; } );\n", NULL, 10,
	    "alpha = 256 is out of range (0..255)");
	expect_one_error(G_HEAD "groups = ( { name = \"web\";\n"
	    "\tpriorities = { alpha = \"high\"; }; } );\n", NULL, 10,
	    "alpha must be an integer, not a string");
	expect_one_error(G_HEAD "groups = ( { name = \"web\";\n"
	    "\tpriorities = ( 1, 2 ); } );\n", NULL, 10,
	    "priorities must be a group, not a list");
}

static void
test_group_count(void **state)
{
	struct vg_conf *c;
	char text[4096];
	size_t at, i;

	(void)state;
	at = (size_t)snprintf(text, sizeof(text), "%sgroups = (\n", G_HEAD);
	for (i = 0; i < VG_MAX_GROUPS; i++)
		at += (size_t)snprintf(text + at, sizeof(text) - at,
		    "\t{ name = \"g%zu\"; },\n", i);
	snprintf(text + at, sizeof(text) - at, "\t{ name = \"g16\"; }\n);\n");
	expect_one_error(text, NULL, 9, "17 groups, at most 16 are supported");
	/* sixteen is fine */
	snprintf(text + at - 2, sizeof(text) - at + 2, "\n);\n");
	c = parse_ok(text, NULL);
	assert_int_equal(c->n_groups, VG_MAX_GROUPS);
	assert_string_equal(c->groups[15].name, "g15");
	vg_conf_free(c);
	expect_one_error(G_HEAD "groups = ();\n", NULL, 9, "groups is empty");
	expect_one_error(G_HEAD "groups = 5;\n", NULL, 9,
	    "groups must be a list, not an integer");
}

/* A group without VIPs is a group: it is how a group is added before
 * its VIPs (the group list is a stop-all change, its VIPs live ones). */
static void
test_group_empty(void **state)
{
	struct vg_conf *c;

	(void)state;
	c = parse_ok(G_HEAD "groups = (\n"
	    "\t{ name = \"web\"; vips = (); },\n"
	    "\t{ name = \"db\"; vips = ( { address = \"10.0.1.1/24\"; "
	    "interface = \"eth1\"; } ); },\n"
	    "\t{ name = \"spare\"; }\n);\n", "alpha");
	assert_int_equal(c->n_groups, 3);
	assert_int_equal(c->groups[0].n_vips, 0);
	assert_int_equal(c->groups[1].vip_first, 0);
	assert_int_equal(c->groups[1].n_vips, 1);
	assert_int_equal(c->groups[2].vip_first, 1);
	assert_int_equal(c->groups[2].n_vips, 0);
	assert_int_equal(c->vips[0].group, 1);
	vg_conf_free(c);
}

static void
test_group_unknown_key(void **state)
{
	(void)state;
	expect_one_error(G_HEAD "groups = ( { name = \"web\";\n"
	    "\tpriority = 5; } );\n", NULL, 10,
	    "unknown setting 'priority' in a group");
	expect_one_error(G_HEAD "groups = ( { name = \"web\";\n"
	    "\tvips = ( { address = \"10.0.0.100/24\"; interface = \"eth0\";\n"
	    "\t\tmask = 24; } ); } );\n", NULL, 11,
	    "unknown setting 'mask' in a vip");
	expect_one_error(G_HEAD "groups = ( { name = \"web\";\n"
	    "\tpreempt = 1; } );\n", NULL, 10, "preempt must be true or false");
	expect_one_error(G_HEAD "groups = ( { name = \"web\";\n"
	    "\tpreempt_delay = -1; } );\n", NULL, 10,
	    "preempt_delay = -1 is out of range");
}

/* Lines 3-5: h = 1 ms, D = 3 ms, rho = 0.05: the lease is 2.464 ms, and
 * 0.464 ms of it is left for the netlink batches past two intervals. */
#define FIT_HEAD HEAD "interval = 1;\ndead_time = 3;\nmax_drift = 0.05;\n" NODES3
#define VIP_AT(a, ifn) "{ address = \"" a "\"; interface = \"" ifn "\"; }"

static void
test_group_vip_fit(void **state)
{
	(void)state;
	/* two groups of one VIP: 0.435 ms the largest, 0.430 ms the removals */
	vg_conf_free(parse_ok(FIT_HEAD "groups = (\n"
	    "\t{ name = \"a\"; vips = ( " VIP_AT("10.0.1.1", "eth0") " ); },\n"
	    "\t{ name = \"b\"; vips = ( " VIP_AT("10.0.2.1", "eth0") " ); }\n"
	    ");\n", NULL));
	/* the largest group: two VIPs add and remove in 0.470 ms */
	expect_one_error(FIT_HEAD "groups = (\n"
	    "\t{ name = \"a\"; vips = ( " VIP_AT("10.0.1.1", "eth0") ",\n"
	    "\t\t" VIP_AT("10.0.1.2", "eth0") " ); },\n"
	    "\t{ name = \"b\"; vips = ( " VIP_AT("10.0.2.1", "eth0") " ); }\n"
	    ");\n", NULL, 4, "group \"a\": its 2 VIPs take about 0.5 ms to add "
	    "and remove (netlink batches); the lease at interval = 1 ms and "
	    "dead_time = 3 ms is 2.5 ms and must exceed that by 2 intervals: "
	    "dead_time must be at least 4 ms");
	/* three groups' removals in turn: 0.645 ms, each group fitting */
	expect_one_error(FIT_HEAD "groups = (\n"
	    "\t{ name = \"a\"; vips = ( " VIP_AT("10.0.1.1", "eth0") " ); },\n"
	    "\t{ name = \"b\"; vips = ( " VIP_AT("10.0.2.1", "eth0") " ); },\n"
	    "\t{ name = \"c\"; vips = ( " VIP_AT("10.0.3.1", "eth0") " ); }\n"
	    ");\n", NULL, 4, "the removals of all 3 groups take about 0.6 ms in "
	    "turn (every lease lapsing at once); the lease at interval = 1 ms");
	/* empty groups remove nothing */
	vg_conf_free(parse_ok(FIT_HEAD "groups = (\n"
	    "\t{ name = \"a\"; vips = ( " VIP_AT("10.0.1.1", "eth0") " ); },\n"
	    "\t{ name = \"b\"; }, { name = \"c\"; }, { name = \"d\"; }\n"
	    ");\n", NULL));
	/* without groups: as before, every VIP one batch */
	expect_one_error(FIT_HEAD "vips = ( " VIP_AT("10.0.1.1", "eth0") ",\n"
	    "\t" VIP_AT("10.0.1.2", "eth0") " );\n", NULL, 4,
	    "2 VIPs take about 0.5 ms to add and remove (netlink batches); "
	    "the lease at");
}

/* Two groups (lines 9-12), their bodies given. */
#define GRP2(w, d) \
	"groups = (\n" \
	"\t{ name = \"web\"; " w " },\n" \
	"\t{ name = \"db\"; " d " }\n" \
	");\n"
#define W0 "vips = ( " VIP_AT("10.0.0.100/24", "eth0") " );"
#define D0 "vips = ( " VIP_AT("10.0.1.100/24", "eth1") " );"

/*
 * With groups, the safety digest's membership part covers how many and
 * their names in order, nothing else of them; the cluster-wide digest
 * covers each group's name, VIPs, priorities, tracks and preemption.
 */
static void
test_group_digests(void **state)
{
	static const char *const live[] = {
		GRP2(W0 " priorities = { alpha = 7; };", D0),
		GRP2(W0 " priorities = { beta = 0; };", D0),
		GRP2(W0 " tracks = ();", D0),
		GRP2(W0 " preempt = false;", D0),
		GRP2(W0 " preempt_delay = 1;", D0),
		GRP2("vips = ( " VIP_AT("10.0.0.100/24", "eth0") ", "
		    VIP_AT("10.0.0.101/24", "eth0") " );", D0),
		GRP2("", D0),
		/* a VIP in the other group */
		GRP2("", "vips = ( " VIP_AT("10.0.0.100/24", "eth0") ", "
		    VIP_AT("10.0.1.100/24", "eth1") " );"),
	};
	struct vg_conf *a, *b, *c;
	size_t i;

	(void)state;
	a = parse_ok(G_HEAD GRP2(W0, D0), "alpha");
	for (i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
		char text[1024];

		snprintf(text, sizeof(text), "%s%s", G_HEAD, live[i]);
		b = parse_ok(text, "alpha");
		if (a->digest == b->digest)
			fail_msg("does not move the digest:\n%s", live[i]);
		if (a->safety_digest != b->safety_digest)
			fail_msg("moves the safety digest:\n%s", live[i]);
		vg_conf_free(b);
	}
	/* the node's priority is the default of a group that names none */
	b = parse_ok(HEAD "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; priority = 9; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; },\n"
	    "\t{ id = 3; name = \"gamma\"; address = \"10.0.0.3\"; }\n"
	    ");\n" TRK GRP2(W0 " priorities = { alpha = 100; };", D0), "alpha");
	c = parse_ok(HEAD "nodes = (\n"
	    "\t{ id = 1; name = \"alpha\"; address = \"10.0.0.1\"; priority = 9; },\n"
	    "\t{ id = 2; name = \"beta\"; address = \"10.0.0.2\"; },\n"
	    "\t{ id = 3; name = \"gamma\"; address = \"10.0.0.3\"; }\n"
	    ");\n" TRK GRP2(W0, D0), "alpha");
	assert_int_not_equal(b->digest, c->digest);
	assert_int_equal(b->safety_digest, c->safety_digest);
	vg_conf_free(b);
	vg_conf_free(c);
	/* the group list: membership */
	expect_parts(a, G_HEAD GRP2(W0, D0 " } , { name = \"extra\";"),
	    1u << VG_PART_MEMBERSHIP);
	/* (the order: its hint folds to a's, the 1-in-32 case) */
	b = parse_ok(G_HEAD "groups = (\n"
	    "\t{ name = \"db\"; " D0 " },\n"
	    "\t{ name = \"web\"; " W0 " }\n"
	    ");\n", "alpha");
	assert_int_not_equal(a->part_digest[VG_PART_MEMBERSHIP],
	    b->part_digest[VG_PART_MEMBERSHIP]);
	assert_int_equal(a->part_digest[VG_PART_VOTES],
	    b->part_digest[VG_PART_VOTES]);
	assert_int_equal(a->part_digest[VG_PART_TIMING],
	    b->part_digest[VG_PART_TIMING]);
	assert_int_not_equal(a->safety_digest, b->safety_digest);
	vg_conf_free(b);
	expect_parts(a, G_HEAD "groups = (\n"
	    "\t{ name = \"www\"; " W0 " },\n"
	    "\t{ name = \"db\"; " D0 " }\n"
	    ");\n", 1u << VG_PART_MEMBERSHIP);
	vg_conf_free(a);
	/* one explicit group "default" is not the implicit one */
	a = parse_ok(G_HEAD "vips = ( " VIP_AT("10.0.0.100/24", "eth0") " );\n",
	    "alpha");
	expect_parts(a, G_HEAD "groups = ( { name = \"default\"; " W0 " } );\n",
	    1u << VG_PART_MEMBERSHIP);
	vg_conf_free(a);
}

/* The change named `what` in d, or NULL; fails if it is there twice. */
static const struct vg_conf_change *
change_named(const struct vg_conf_diff *d, const char *what)
{
	const struct vg_conf_change *ch = NULL;
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->ch[i].what, what) == 0) {
			if (ch != NULL)
				fail_msg("\"%s\" listed twice", what);
			ch = &d->ch[i];
		}
	return ch;
}

static void
dump_diff(const struct vg_conf_diff *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		print_message("    %-8s %s: \"%s\" -> \"%s\"\n",
		    vg_change_kind_name(d->ch[i].kind), d->ch[i].what,
		    d->ch[i].from, d->ch[i].to);
}

/*
 * The group list (count, names, order; a file gaining or losing groups)
 * is restart-class and safety: vg_conf_fixed_changed names it (a push and
 * a joint move's FINAL refuse it), a reload refuses it as a stop-all
 * change, config diff lists it once, as restart.
 */
static void
test_group_list_change(void **state)
{
	static const struct {
		const char	*text, *to;
	} cases[] = {
		{ G_HEAD "groups = (\n\t{ name = \"db\"; " D0 " },\n"
		    "\t{ name = \"web\"; " W0 " }\n);\n", "db, web" },
		{ G_HEAD "groups = (\n\t{ name = \"www\"; " W0 " },\n"
		    "\t{ name = \"db\"; " D0 " }\n);\n", "www, db" },
		{ G_HEAD GRP2(W0, D0 " }, { name = \"x\";"), "web, db, x" },
		{ G_HEAD "groups = ( { name = \"web\"; " W0 " } );\n", "web" },
		{ G_HEAD "vips = ( " VIP_AT("10.0.0.100/24", "eth0") " );\n",
		    "" },
	};
	struct vg_conf_diff *d = malloc(sizeof(*d));
	const struct vg_conf_change *ch;
	struct vg_conf *a, *b;
	const char *f;
	char err[512];
	size_t i;

	(void)state;
	assert_non_null(d);
	a = parse_ok(G_HEAD GRP2(W0, D0), "alpha");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = parse_ok(cases[i].text, "alpha");
		f = vg_conf_fixed_changed(a, b);
		assert_non_null(f);
		assert_string_equal(f, "groups");
		f = vg_conf_fixed_changed(b, a);
		assert_non_null(f);
		assert_string_equal(f, "groups");
		assert_int_equal(vg_conf_reload_refusal(a, b, err, sizeof(err)),
		    -1);
		if (strstr(err, "(groups)") == NULL ||
		    strstr(err, "stop every node") == NULL)
			fail_msg("refused as: %s", err);
		vg_conf_diff(a, b, d);
		dump_diff(d);
		assert_int_equal(d->kind, VG_CHANGE_RESTART);
		ch = change_named(d, "groups");
		assert_non_null(ch);
		assert_int_equal(ch->kind, VG_CHANGE_RESTART);
		assert_string_equal(ch->from, "web, db");
		assert_string_equal(ch->to, cases[i].to);
		vg_conf_free(b);
	}
	/* without groups on both sides: nothing about groups */
	vg_conf_free(a);
	a = parse_ok(G_HEAD, "alpha");
	b = parse_ok(G_HEAD "vips = ( " VIP_AT("10.0.0.100/24", "eth0") " );\n",
	    "alpha");
	assert_null(vg_conf_fixed_changed(a, b));
	assert_int_equal(vg_conf_reload_refusal(a, b, err, sizeof(err)), 0);
	vg_conf_diff(a, b, d);
	assert_int_equal(d->kind, VG_CHANGE_LIVE);
	assert_non_null(change_named(d, "vip 10.0.0.100/24 added"));
	vg_conf_free(a);
	vg_conf_free(b);
	free(d);
}

/* A VIP from one group to another: refused, in two changes it goes. */
static void
test_group_vip_moves(void **state)
{
	struct vg_conf_diff *d = malloc(sizeof(*d));
	const struct vg_conf_change *ch;
	struct vg_conf *a, *b, *c;
	char err[512];

	(void)state;
	assert_non_null(d);
	a = parse_ok(G_HEAD GRP2(W0, D0), "alpha");
	b = parse_ok(G_HEAD GRP2("", "vips = ( " VIP_AT("10.0.1.100/24", "eth1")
	    ", " VIP_AT("10.0.0.100/24", "eth0") " );"), "alpha");
	assert_null(vg_conf_fixed_changed(a, b));
	assert_int_equal(vg_conf_reload_refusal(a, b, err, sizeof(err)), -1);
	assert_string_equal(err, "VIP 10.0.0.100/24 moves from group web to "
	    "db: remove it in one change, add it in the next; nothing changed");
	assert_int_equal(vg_conf_vip_moved(a, b, err, sizeof(err)), -1);
	/* the diff shows both halves (the reload's answer says why not) */
	vg_conf_diff(a, b, d);
	dump_diff(d);
	assert_int_equal(d->kind, VG_CHANGE_LIVE);
	ch = change_named(d, "vip 10.0.0.100/24 removed from web");
	assert_non_null(ch);
	assert_string_equal(ch->from, "10.0.0.100/24 dev eth0");
	assert_non_null(change_named(d, "vip 10.0.0.100/24 added to db"));
	assert_int_equal(d->n, 2);
	vg_conf_free(b);
	/* the same address with another prefix and interface: one VIP */
	b = parse_ok(G_HEAD GRP2("", "vips = ( " VIP_AT("10.0.1.100/24", "eth1")
	    ", " VIP_AT("10.0.0.100/32", "eth1") " );"), "alpha");
	assert_int_equal(vg_conf_reload_refusal(a, b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "VIP 10.0.0.100/32 moves from group web "
	    "to db"));
	vg_conf_free(b);
	/* removed in one change, added in the next: each is a reload */
	b = parse_ok(G_HEAD GRP2("", D0), "alpha");
	c = parse_ok(G_HEAD GRP2("", "vips = ( " VIP_AT("10.0.1.100/24", "eth1")
	    ", " VIP_AT("10.0.0.100/24", "eth0") " );"), "alpha");
	assert_int_equal(vg_conf_reload_refusal(a, b, err, sizeof(err)), 0);
	assert_int_equal(vg_conf_reload_refusal(b, c, err, sizeof(err)), 0);
	assert_int_equal(vg_conf_vip_moved(b, c, err, sizeof(err)), 0);
	vg_conf_free(a);
	vg_conf_free(b);
	vg_conf_free(c);
	free(d);
}

/* A group's priorities, tracks, preemption and VIPs: live, each listed. */
static void
test_group_live_changes(void **state)
{
	struct vg_conf_diff *d = malloc(sizeof(*d));
	const struct vg_conf_change *ch;
	struct vg_conf *a, *b;
	char err[512];

	(void)state;
	assert_non_null(d);
	a = parse_ok(G_HEAD GRP2(W0 " priorities = { beta = 50; };", D0),
	    "alpha");
	b = parse_ok(G_HEAD GRP2("vips = ( " VIP_AT("10.0.0.100/24", "eth0") ", "
	    VIP_AT("10.0.0.101/24", "eth0") " );\n"
	    "\t\tpriorities = { alpha = 7; }; tracks = (); preempt = false;\n"
	    "\t\tpreempt_delay = 1500;", "vips = ();"), "alpha");
	assert_null(vg_conf_fixed_changed(a, b));
	assert_int_equal(vg_conf_reload_refusal(a, b, err, sizeof(err)), 0);
	assert_int_equal(a->safety_digest, b->safety_digest);
	vg_conf_diff(a, b, d);
	dump_diff(d);
	assert_int_equal(d->kind, VG_CHANGE_LIVE);
	ch = change_named(d, "priority of alpha in web");
	assert_non_null(ch);
	assert_string_equal(ch->from, "100");
	assert_string_equal(ch->to, "7");
	ch = change_named(d, "priority of beta in web");
	assert_non_null(ch);
	assert_string_equal(ch->from, "50");
	assert_string_equal(ch->to, "100");
	ch = change_named(d, "tracks of web");
	assert_non_null(ch);
	assert_string_equal(ch->from, "chk");
	assert_string_equal(ch->to, "");
	ch = change_named(d, "preempt of web");
	assert_non_null(ch);
	assert_string_equal(ch->to, "false");
	ch = change_named(d, "preempt_delay of web");
	assert_non_null(ch);
	assert_string_equal(ch->from, "30000 ms");
	assert_string_equal(ch->to, "1500 ms");
	assert_non_null(change_named(d, "vip 10.0.0.101/24 added to web"));
	assert_non_null(change_named(d, "vip 10.0.1.100/24 removed from db"));
	assert_non_null(change_named(d, "link eth1 no longer followed"));
	assert_null(change_named(d, "priority of alpha in db"));
	assert_int_equal(d->n, 8);
	vg_conf_free(a);
	vg_conf_free(b);
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_is_valid),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_unknown_setting_root),
		cmocka_unit_test(test_unknown_setting_in_node),
		cmocka_unit_test(test_unknown_setting_in_sections),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_interval_range),
		cmocka_unit_test(test_dead_time_range),
		cmocka_unit_test(test_max_drift_range),
		cmocka_unit_test(test_port_range),
		cmocka_unit_test(test_node_id_range),
		cmocka_unit_test(test_priority_range),
		cmocka_unit_test(test_votes_range),
		cmocka_unit_test(test_quorum_range),
		cmocka_unit_test(test_cluster_id_range),
		cmocka_unit_test(test_duplicate_node_id),
		cmocka_unit_test(test_duplicate_node_name),
		cmocka_unit_test(test_duplicate_node_address),
		cmocka_unit_test(test_duplicate_node_address_v6_spelling),
		cmocka_unit_test(test_lease_too_short),
		cmocka_unit_test(test_quorum_not_majority),
		cmocka_unit_test(test_no_eligible_node),
		cmocka_unit_test(test_witness_without_votes),
		cmocka_unit_test(test_no_votes_at_all),
		cmocka_unit_test(test_bad_role),
		cmocka_unit_test(test_node_missing_fields),
		cmocka_unit_test(test_invalid_names),
		cmocka_unit_test(test_missing_auth_key_file),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_vip_invalid_address),
		cmocka_unit_test(test_vip_prefix_range),
		cmocka_unit_test(test_vip_duplicate),
		cmocka_unit_test(test_vip_is_node_address),
		cmocka_unit_test(test_vip_without_interface),
		cmocka_unit_test(test_self_not_found),
		cmocka_unit_test(test_self_resolution),
		cmocka_unit_test(test_include_rejected),
		cmocka_unit_test(test_several_errors),
		cmocka_unit_test(test_too_many_nodes),
		cmocka_unit_test(test_error_overflow),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_lease_formula),
		cmocka_unit_test(test_cluster_id_default),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_digest_covers),
		cmocka_unit_test(test_epoch),
		cmocka_unit_test(test_file_digest),
		cmocka_unit_test(test_key_rotation_settings),
		cmocka_unit_test(test_safety_digest),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_unusable_addresses),
		cmocka_unit_test(test_vips_env_too_long),
		cmocka_unit_test(test_conf_link_in_open_dir),
		cmocka_unit_test(test_digests_pinned),
		cmocka_unit_test(test_groups_parsed),
		cmocka_unit_test(test_groups_and_top_vips),
		cmocka_unit_test(test_group_vip_twice),
		cmocka_unit_test(test_group_without_holder),
		cmocka_unit_test(test_group_name),
		cmocka_unit_test(test_group_tracks),
		cmocka_unit_test(test_group_priorities),
		cmocka_unit_test(test_group_count),
		cmocka_unit_test(test_group_empty),
		cmocka_unit_test(test_group_unknown_key),
		cmocka_unit_test(test_group_vip_fit),
		cmocka_unit_test(test_group_digests),
		cmocka_unit_test(test_group_list_change),
		cmocka_unit_test(test_group_vip_moves),
		cmocka_unit_test(test_group_live_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
