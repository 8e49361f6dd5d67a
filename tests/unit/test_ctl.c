/*
 * test_ctl: the control protocol's request parser (every command, the
 * arguments each takes and refuses, every kind of malformed line, with the
 * error text the client gets) and the roles: who a caller is from its uid,
 * gid and groups, and the least role each command needs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#include "control.h"
#include "ctlproto.h"

#define ERRLEN	256

/* Parses a request that must be accepted; returns it. */
static struct vg_ctl_request
parse_ok(const char *line)
{
	struct vg_ctl_request req;
	char err[ERRLEN] = "";

	memset(&req, 0x5a, sizeof(req));	/* the parser must set every field */
	if (vg_ctl_parse_request(line, strlen(line), &req, err,
	    sizeof(err)) != 0)
		fail_msg("refused %s: %s", line, err);
	return req;
}

/* The request (of len bytes) must be refused with an error holding want. */
static void
refused_len(const char *line, size_t len, const char *want)
{
	struct vg_ctl_request req;
	char err[ERRLEN] = "";

	memset(&req, 0, sizeof(req));
	if (vg_ctl_parse_request(line, len, &req, err, sizeof(err)) != -1)
		fail_msg("accepted %.80s", line);
	if (err[0] == '\0')
		fail_msg("refused %.80s without a message", line);
	if (strstr(err, want) == NULL)
		fail_msg("refused %.80s with \"%s\", wanted \"%s\"", line, err,
		    want);
}

static void
refused(const char *line, const char *want)
{
	refused_len(line, strlen(line), want);
}

/* ---- every command */

static void
test_every_command(void **state)
{
	static const struct {
		const char	*line;
		enum vg_ctl_cmd	cmd;
	} t[] = {
		{ "{\"cmd\":\"status\"}", VG_CTL_STATUS },
		{ "{\"cmd\":\"events\"}", VG_CTL_EVENTS },
		{ "{\"cmd\":\"metrics\"}", VG_CTL_METRICS },
		{ "{\"cmd\":\"failover\"}", VG_CTL_FAILOVER },
		{ "{\"cmd\":\"maintenance\",\"on\":true}", VG_CTL_MAINTENANCE },
		{ "{\"cmd\":\"reload\"}", VG_CTL_RELOAD },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct vg_ctl_request r = parse_ok(t[i].line);

		assert_int_equal(r.cmd, t[i].cmd);
		assert_string_equal(vg_ctl_cmds[r.cmd].name,
		    t[i].cmd == VG_CTL_STATUS ? "status" :
		    t[i].cmd == VG_CTL_EVENTS ? "events" :
		    t[i].cmd == VG_CTL_METRICS ? "metrics" :
		    t[i].cmd == VG_CTL_FAILOVER ? "failover" :
		    t[i].cmd == VG_CTL_MAINTENANCE ? "maintenance" : "reload");
		/* the defaults of the arguments not given */
		assert_int_equal(r.follow, 0);
		if (t[i].cmd != VG_CTL_MAINTENANCE)
			assert_int_equal(r.on, 0);
		assert_string_equal(r.to, "");
		assert_null(r.text);
		assert_string_equal(r.name, "");
	}
	/* every entry of the table has a name, and they are all different */
	for (i = 0; i < VG_CTL_CMD_MAX; i++) {
		size_t j;

		assert_non_null(vg_ctl_cmds[i].name);
		for (j = 0; j < i; j++)
			assert_string_not_equal(vg_ctl_cmds[i].name,
			    vg_ctl_cmds[j].name);
	}
}

/* config_diff: the text (required, a string without an escaped NUL, once)
 * and an optional name; another command may carry neither. */
static void
test_config_diff(void **state)
{
	struct vg_ctl_request r;
	char big[8192];
	size_t i;

	(void)state;
	r = parse_ok("{\"cmd\":\"config_diff\",\"text\":\"cluster = "
	    "\\\"x\\\";\\nepoch = 2;\\n\",\"name\":\"/etc/vigil/new.conf\"}");
	assert_int_equal(r.cmd, VG_CTL_CONFIG_DIFF);
	assert_string_equal(r.text, "cluster = \"x\";\nepoch = 2;\n");
	assert_int_equal(r.text_len, strlen(r.text));
	assert_string_equal(r.name, "/etc/vigil/new.conf");
	vg_ctl_request_clear(&r);
	assert_null(r.text);
	vg_ctl_request_clear(&r);	/* twice is harmless */
	r = parse_ok("{\"cmd\":\"config_diff\",\"text\":\"\"}");
	assert_string_equal(r.text, "");
	assert_string_equal(r.name, "");
	vg_ctl_request_clear(&r);
	refused("{\"cmd\":\"config_diff\"}", "config_diff needs \"text\"");
	refused("{\"cmd\":\"config_diff\",\"name\":\"x\"}",
	    "config_diff needs \"text\"");
	refused("{\"cmd\":\"config_diff\",\"text\":\"a\\u0000b\"}",
	    "invalid argument \"text\"");
	refused("{\"cmd\":\"config_diff\",\"text\":3}",
	    "invalid argument \"text\"");
	/* the text parsed, then a bad argument: refused, nothing kept (ASan
	 * would see a leak) */
	refused("{\"cmd\":\"config_diff\",\"text\":\"x\",\"bogus\":1}",
	    "invalid argument \"bogus\"");
	refused("{\"cmd\":\"status\",\"text\":\"x\"}",
	    "invalid argument \"text\"");
	/* a name as long as the limit is refused, one shorter kept */
	i = (size_t)snprintf(big, sizeof(big), "{\"cmd\":\"config_diff\","
	    "\"text\":\"x\",\"name\":\"");
	memset(big + i, 'n', VG_CTL_NAME_MAX);
	snprintf(big + i + VG_CTL_NAME_MAX, sizeof(big) - i - VG_CTL_NAME_MAX,
	    "\"}");
	refused(big, "invalid argument \"name\"");
	snprintf(big + i + VG_CTL_NAME_MAX - 1,
	    sizeof(big) - i - VG_CTL_NAME_MAX + 1, "\"}");
	r = parse_ok(big);
	assert_int_equal(strlen(r.name), VG_CTL_NAME_MAX - 1);
	vg_ctl_request_clear(&r);
	/* config_push's allow_down: a boolean, for config_push alone */
	r = parse_ok("{\"cmd\":\"config_push\",\"text\":\"x\","
	    "\"allow_down\":true}");
	assert_int_equal(r.cmd, VG_CTL_CONFIG_PUSH);
	assert_int_equal(r.allow_down, 1);
	vg_ctl_request_clear(&r);
	r = parse_ok("{\"cmd\":\"config_push\",\"text\":\"x\"}");
	assert_int_equal(r.allow_down, 0);
	vg_ctl_request_clear(&r);
	refused("{\"cmd\":\"config_push\",\"text\":\"x\","
	    "\"allow_down\":1}", "invalid argument \"allow_down\"");
	refused("{\"cmd\":\"config_diff\",\"text\":\"x\","
	    "\"allow_down\":true}", "invalid argument \"allow_down\"");
	/* key_rotate: "file", an absolute path, required */
	r = parse_ok("{\"cmd\":\"key_rotate\",\"file\":"
	    "\"/etc/vigil/n.key\"}");
	assert_int_equal(r.cmd, VG_CTL_KEY_ROTATE);
	assert_string_equal(r.name, "/etc/vigil/n.key");
	vg_ctl_request_clear(&r);
	refused("{\"cmd\":\"key_rotate\"}", "key_rotate needs \"file\"");
	refused("{\"cmd\":\"key_rotate\",\"file\":\"n.key\"}",
	    "invalid argument \"file\"");
	refused("{\"cmd\":\"key_rotate\",\"file\":\"/a\\u0000b\"}",
	    "invalid argument \"file\"");
	refused("{\"cmd\":\"status\",\"file\":\"/x\"}",
	    "invalid argument \"file\"");
}

static void
test_key_order_and_spacing(void **state)
{
	struct vg_ctl_request r;

	(void)state;
	r = parse_ok("  { \"on\" : false , \"cmd\" : \"maintenance\" }  ");
	assert_int_equal(r.cmd, VG_CTL_MAINTENANCE);
	assert_int_equal(r.on, 0);
	r = parse_ok("{\"to\":\"n3\",\"cmd\":\"failover\"}");
	assert_int_equal(r.cmd, VG_CTL_FAILOVER);
	assert_string_equal(r.to, "n3");
}

/* ---- arguments */

static void
test_events_follow(void **state)
{
	struct vg_ctl_request r;

	(void)state;
	r = parse_ok("{\"cmd\":\"events\",\"follow\":true}");
	assert_int_equal(r.cmd, VG_CTL_EVENTS);
	assert_int_equal(r.follow, 1);
	r = parse_ok("{\"cmd\":\"events\",\"follow\":false}");
	assert_int_equal(r.follow, 0);
	refused("{\"cmd\":\"events\",\"follow\":1}",
	    "events: unknown or invalid argument \"follow\"");
	refused("{\"cmd\":\"events\",\"follow\":\"yes\"}",
	    "events: unknown or invalid argument \"follow\"");
	/* follow is an argument of events only */
	refused("{\"cmd\":\"status\",\"follow\":true}",
	    "status: unknown or invalid argument \"follow\"");
}

static void
test_maintenance_on(void **state)
{
	struct vg_ctl_request r;

	(void)state;
	r = parse_ok("{\"cmd\":\"maintenance\",\"on\":true}");
	assert_int_equal(r.cmd, VG_CTL_MAINTENANCE);
	assert_int_equal(r.on, 1);
	r = parse_ok("{\"cmd\":\"maintenance\",\"on\":false}");
	assert_int_equal(r.cmd, VG_CTL_MAINTENANCE);
	assert_int_equal(r.on, 0);
	/* required */
	refused("{\"cmd\":\"maintenance\"}",
	    "maintenance needs \"on\": true or false");
	/* a boolean, not a number, a string or null */
	refused("{\"cmd\":\"maintenance\",\"on\":1}",
	    "maintenance: unknown or invalid argument \"on\"");
	refused("{\"cmd\":\"maintenance\",\"on\":\"true\"}",
	    "maintenance: unknown or invalid argument \"on\"");
	refused("{\"cmd\":\"maintenance\",\"on\":null}",
	    "maintenance: unknown or invalid argument \"on\"");
	refused("{\"cmd\":\"reload\",\"on\":true}",
	    "reload: unknown or invalid argument \"on\"");
}

static void
test_failover_to(void **state)
{
	struct vg_ctl_request r;
	char line[256], name[80];

	(void)state;
	r = parse_ok("{\"cmd\":\"failover\",\"to\":\"n2\"}");
	assert_int_equal(r.cmd, VG_CTL_FAILOVER);
	assert_string_equal(r.to, "n2");
	r = parse_ok("{\"cmd\":\"failover\",\"to\":\"\"}");
	assert_string_equal(r.to, "");	/* "" = the best other */
	refused("{\"cmd\":\"failover\",\"to\":2}",
	    "failover: unknown or invalid argument \"to\"");
	refused("{\"cmd\":\"failover\",\"to\":null}",
	    "failover: unknown or invalid argument \"to\"");
	refused("{\"cmd\":\"failover\",\"to\":[\"n2\"]}",
	    "failover: unknown or invalid argument \"to\"");
	refused("{\"cmd\":\"maintenance\",\"on\":true,\"to\":\"n2\"}",
	    "maintenance: unknown or invalid argument \"to\"");

	/* 63 characters fit in to[64], 64 do not */
	memset(name, 'a', 63);
	name[63] = '\0';
	snprintf(line, sizeof(line), "{\"cmd\":\"failover\",\"to\":\"%s\"}",
	    name);
	r = parse_ok(line);
	assert_int_equal(strlen(r.to), 63);
	assert_string_equal(r.to, name);
	memset(name, 'a', 64);
	name[64] = '\0';
	snprintf(line, sizeof(line), "{\"cmd\":\"failover\",\"to\":\"%s\"}",
	    name);
	refused(line, "failover: unknown or invalid argument \"to\"");
}

/*
 * A name with an escaped NUL is not the name before the NUL: the parser
 * must refuse it rather than hand over to node "n2".
 */
static void
test_failover_to_escaped_nul(void **state)
{
	(void)state;
	refused("{\"cmd\":\"failover\",\"to\":\"n2\\u0000x\"}",
	    "failover: unknown or invalid argument \"to\"");
}

/* failover's group: a name, like to; refused elsewhere and when not one. */
static void
test_failover_group(void **state)
{
	struct vg_ctl_request r;
	char line[256], name[80];

	(void)state;
	r = parse_ok("{\"cmd\":\"failover\",\"group\":\"db\",\"to\":\"n2\"}");
	assert_string_equal(r.group, "db");
	assert_string_equal(r.to, "n2");
	r = parse_ok("{\"cmd\":\"failover\"}");
	assert_string_equal(r.group, "");	/* "" = the first */
	refused("{\"cmd\":\"failover\",\"group\":7}",
	    "failover: unknown or invalid argument \"group\"");
	refused("{\"cmd\":\"failover\",\"group\":\"db\\u0000x\"}",
	    "failover: unknown or invalid argument \"group\"");
	refused("{\"cmd\":\"maintenance\",\"on\":true,\"group\":\"db\"}",
	    "maintenance: unknown or invalid argument \"group\"");
	memset(name, 'g', 64);
	name[64] = '\0';
	snprintf(line, sizeof(line),
	    "{\"cmd\":\"failover\",\"group\":\"%s\"}", name);
	refused(line, "failover: unknown or invalid argument \"group\"");
}

static void
test_unknown_argument(void **state)
{
	(void)state;
	refused("{\"cmd\":\"status\",\"verbose\":true}",
	    "status: unknown or invalid argument \"verbose\"");
	refused("{\"cmd\":\"reload\",\"x\":1}",
	    "reload: unknown or invalid argument \"x\"");
	refused("{\"cmd\":\"metrics\",\"to\":\"n2\"}",
	    "metrics: unknown or invalid argument \"to\"");
	refused("{\"cmd\":\"events\",\"follow\":true,\"since\":3}",
	    "events: unknown or invalid argument \"since\"");
}

static void
test_long_argument_name_is_cut(void **state)
{
	struct vg_ctl_request req;
	char line[512], err[ERRLEN];
	char key[201];

	(void)state;
	memset(key, 'k', 200);
	key[200] = '\0';
	snprintf(line, sizeof(line), "{\"cmd\":\"status\",\"%s\":1}", key);
	assert_int_equal(vg_ctl_parse_request(line, strlen(line), &req, err,
	    sizeof(err)), -1);
	/* the name is quoted to 64 characters in the message */
	assert_non_null(strstr(err, "\"kkkk"));
	assert_true(strlen(err) < 64 + 64);
}

/* ---- malformed requests */

static void
test_cmd_missing_or_wrong_type(void **state)
{
	(void)state;
	refused("{}", "a request needs \"cmd\": a string");
	refused("{\"command\":\"status\"}", "a request needs \"cmd\": a string");
	refused("{\"cmd\":5}", "a request needs \"cmd\": a string");
	refused("{\"cmd\":true}", "a request needs \"cmd\": a string");
	refused("{\"cmd\":null}", "a request needs \"cmd\": a string");
	refused("{\"cmd\":[\"status\"]}", "a request needs \"cmd\": a string");
}

static void
test_unknown_command(void **state)
{
	(void)state;
	refused("{\"cmd\":\"shutdown\"}", "unknown command \"shutdown\"");
	refused("{\"cmd\":\"\"}", "unknown command \"\"");
	refused("{\"cmd\":\"STATUS\"}", "unknown command \"STATUS\"");
	refused("{\"cmd\":\"status \"}", "unknown command \"status \"");
	refused("{\"cmd\":\"stat\\u0000us\"}", "unknown command");
}

static void
test_not_an_object(void **state)
{
	(void)state;
	refused("[\"status\"]", "a request is a JSON object");
	refused("[]", "a request is a JSON object");
	refused("\"status\"", "a request is a JSON object");
	/* json-c waits for more after a bare literal: refused as invalid */
	refused("42", "invalid JSON");
	refused("null", "invalid JSON");
	refused("true", "invalid JSON");
}

static void
test_invalid_json(void **state)
{
	(void)state;
	refused("{cmd}", "invalid JSON");
	refused("{\"cmd\" \"status\"}", "invalid JSON");
	refused("{\"cmd\":\"status\"]", "invalid JSON");
	refused("}", "invalid JSON");
	refused("{\"cmd\":\"stat", "invalid JSON");
	refused("{\"cmd\":\"\\x\"}", "invalid JSON");
}

static void
test_incomplete_object(void **state)
{
	(void)state;
	refused("{\"cmd\":\"status\"", "invalid JSON: incomplete object");
	refused("{", "invalid JSON: incomplete object");
	refused("{\"cmd\":", "invalid JSON: incomplete object");
	refused("", "invalid JSON: incomplete object");
	refused("   ", "invalid JSON: incomplete object");
}

static void
test_trailing_garbage(void **state)
{
	(void)state;
	/* strict json-c stops at the stray byte itself; either way refused */
	refused("{\"cmd\":\"status\"} x", "invalid JSON");
	refused("{\"cmd\":\"status\"}x", "invalid JSON");
	refused("{\"cmd\":\"status\"}{\"cmd\":\"reload\"}", "invalid JSON");
	refused("{\"cmd\":\"status\"},", "invalid JSON");
	refused("{\"cmd\":\"status\"}}", "invalid JSON");
}

static void
test_not_strict_json(void **state)
{
	(void)state;
	refused("{'cmd':'status'}", "invalid JSON");
	refused("{\"cmd\":\"status\",}", "invalid JSON");
	refused("{\"cmd\":\"status\"/* c */}", "invalid JSON");
}

static void
test_trailing_whitespace_ok(void **state)
{
	struct vg_ctl_request r;

	(void)state;
	r = parse_ok("{\"cmd\":\"reload\"}   ");
	assert_int_equal(r.cmd, VG_CTL_RELOAD);
	r = parse_ok("{\"cmd\":\"metrics\"}\t\r");
	assert_int_equal(r.cmd, VG_CTL_METRICS);
	r = parse_ok("{\"cmd\":\"status\"}\r");
	assert_int_equal(r.cmd, VG_CTL_STATUS);
	r = parse_ok("\t {\"cmd\":\"status\"}");
	assert_int_equal(r.cmd, VG_CTL_STATUS);
}

static void
test_nul_byte(void **state)
{
	static const char line[] = "{\"cmd\":\"status\"}\0garbage";
	static const char mid[] = "{\"cmd\":\"sta\0tus\"}";
	struct vg_ctl_request req;
	char err[ERRLEN] = "";

	(void)state;
	refused_len(line, sizeof(line) - 1, "request holds a NUL byte");
	refused_len(mid, sizeof(mid) - 1, "request holds a NUL byte");
	refused_len("\0", 1, "request holds a NUL byte");
	/* but the length given is what counts: without the NUL it is fine */
	assert_int_equal(vg_ctl_parse_request(line, strlen(line), &req, err,
	    sizeof(err)), 0);
	assert_int_equal(req.cmd, VG_CTL_STATUS);
}

static void
test_length_limit(void **state)
{
	static const char obj[] = "{\"cmd\":\"status\"}";
	struct vg_ctl_request req;
	char err[ERRLEN] = "";
	char *line;

	(void)state;
	line = malloc(VG_CTL_MAX_LINE + 2);
	assert_non_null(line);
	/* exactly VG_CTL_MAX_LINE bytes (padded with blanks) is accepted */
	memset(line, ' ', VG_CTL_MAX_LINE + 1);
	memcpy(line, obj, sizeof(obj) - 1);
	line[VG_CTL_MAX_LINE + 1] = '\0';
	assert_int_equal(vg_ctl_parse_request(line, VG_CTL_MAX_LINE, &req, err,
	    sizeof(err)), 0);
	assert_int_equal(req.cmd, VG_CTL_STATUS);
	/* one more is refused before any parsing */
	refused_len(line, VG_CTL_MAX_LINE + 1, "request longer than 65536 bytes");
	free(line);
}

static void
test_depth_limit(void **state)
{
	char line[512];
	size_t n = 0;
	int i;

	(void)state;
	n += (size_t)snprintf(line + n, sizeof(line) - n,
	    "{\"cmd\":\"status\",\"x\":");
	for (i = 0; i < 40; i++)
		line[n++] = '[';
	for (i = 0; i < 40; i++)
		line[n++] = ']';
	line[n++] = '}';
	line[n] = '\0';
	refused(line, "invalid JSON");
}

static void
test_small_error_buffer(void **state)
{
	struct vg_ctl_request req;
	char err[8];

	(void)state;
	memset(err, 'x', sizeof(err));
	assert_int_equal(vg_ctl_parse_request("{\"cmd\":\"nope\"}", 14, &req,
	    err, sizeof(err)), -1);
	assert_int_equal(err[sizeof(err) - 1], '\0');
	assert_string_equal(err, "unknown");
}

/* ---- roles */

static void
test_role_root(void **state)
{
	gid_t g[] = { 1000 };

	(void)state;
	assert_int_equal(vg_ctl_role_of(0, 0, NULL, 0, -1, -1), VG_ROLE_ADMIN);
	assert_int_equal(vg_ctl_role_of(0, 1000, g, 1, 50, 60), VG_ROLE_ADMIN);
	/* gid 0 alone is not root */
	assert_int_equal(vg_ctl_role_of(1000, 0, NULL, 0, -1, -1),
	    VG_ROLE_VIEWER);
}

static void
test_role_admin_group(void **state)
{
	gid_t g[] = { 10, 60, 20 };
	gid_t other[] = { 10, 20 };

	(void)state;
	/* by primary gid */
	assert_int_equal(vg_ctl_role_of(1000, 60, NULL, 0, 50, 60),
	    VG_ROLE_ADMIN);
	/* by a supplementary group */
	assert_int_equal(vg_ctl_role_of(1000, 1000, g, 3, 50, 60),
	    VG_ROLE_ADMIN);
	/* in neither */
	assert_int_equal(vg_ctl_role_of(1000, 1000, other, 2, 50, 60),
	    VG_ROLE_VIEWER);
	/* admin without an operator group configured */
	assert_int_equal(vg_ctl_role_of(1000, 60, NULL, 0, -1, 60),
	    VG_ROLE_ADMIN);
}

static void
test_role_operator(void **state)
{
	gid_t g[] = { 10, 50 };

	(void)state;
	assert_int_equal(vg_ctl_role_of(1000, 50, NULL, 0, 50, 60),
	    VG_ROLE_OPERATOR);
	assert_int_equal(vg_ctl_role_of(1000, 1000, g, 2, 50, 60),
	    VG_ROLE_OPERATOR);
	assert_int_equal(vg_ctl_role_of(1000, 1000, g, 2, 50, -1),
	    VG_ROLE_OPERATOR);
	/* only the first n groups count */
	assert_int_equal(vg_ctl_role_of(1000, 1000, g, 1, 50, 60),
	    VG_ROLE_VIEWER);
}

static void
test_role_admin_wins(void **state)
{
	gid_t op_then_admin[] = { 50, 60 };
	gid_t admin_then_op[] = { 60, 50 };

	(void)state;
	assert_int_equal(vg_ctl_role_of(1000, 1000, op_then_admin, 2, 50, 60),
	    VG_ROLE_ADMIN);
	assert_int_equal(vg_ctl_role_of(1000, 1000, admin_then_op, 2, 50, 60),
	    VG_ROLE_ADMIN);
	/* operator by primary gid, admin by a supplementary group */
	assert_int_equal(vg_ctl_role_of(1000, 50, &op_then_admin[1], 1, 50, 60),
	    VG_ROLE_ADMIN);
	/* the same group for both */
	assert_int_equal(vg_ctl_role_of(1000, 70, NULL, 0, 70, 70),
	    VG_ROLE_ADMIN);
}

static void
test_role_none_configured(void **state)
{
	gid_t g[] = { 0, 1, (gid_t)-1 };

	(void)state;
	assert_int_equal(vg_ctl_role_of(1000, 1000, NULL, 0, -1, -1),
	    VG_ROLE_VIEWER);
	/* gid (gid_t)-1 and group 0 match no "-1 = none" setting */
	assert_int_equal(vg_ctl_role_of(1000, (gid_t)-1, g, 3, -1, -1),
	    VG_ROLE_VIEWER);
	assert_int_equal(vg_ctl_role_of(65534, 0, g, 3, -1, -1),
	    VG_ROLE_VIEWER);
	/* group 0 configured is a real group */
	assert_int_equal(vg_ctl_role_of(1000, 0, NULL, 0, 0, -1),
	    VG_ROLE_OPERATOR);
}

static void
test_role_each_command_needs(void **state)
{
	(void)state;
	assert_int_equal(vg_ctl_cmds[VG_CTL_STATUS].role, VG_ROLE_VIEWER);
	assert_int_equal(vg_ctl_cmds[VG_CTL_EVENTS].role, VG_ROLE_VIEWER);
	assert_int_equal(vg_ctl_cmds[VG_CTL_METRICS].role, VG_ROLE_VIEWER);
	assert_int_equal(vg_ctl_cmds[VG_CTL_FAILOVER].role, VG_ROLE_OPERATOR);
	assert_int_equal(vg_ctl_cmds[VG_CTL_MAINTENANCE].role,
	    VG_ROLE_OPERATOR);
	assert_int_equal(vg_ctl_cmds[VG_CTL_RELOAD].role, VG_ROLE_ADMIN);
	/* read only, but the agent parses the text as root */
	assert_int_equal(vg_ctl_cmds[VG_CTL_CONFIG_DIFF].role,
	    VG_ROLE_OPERATOR);
	assert_int_equal(vg_ctl_cmds[VG_CTL_CONFIG_PUSH].role, VG_ROLE_ADMIN);
	assert_int_equal(vg_ctl_cmds[VG_CTL_KEY_ROTATE].role, VG_ROLE_ADMIN);
	/* the roles are ordered: a higher one may do what a lower one may */
	assert_true(VG_ROLE_VIEWER < VG_ROLE_OPERATOR);
	assert_true(VG_ROLE_OPERATOR < VG_ROLE_ADMIN);
	/* an operator may fail over but not reload */
	assert_true(vg_ctl_role_of(1000, 50, NULL, 0, 50, 60) >=
	    vg_ctl_cmds[VG_CTL_FAILOVER].role);
	assert_false(vg_ctl_role_of(1000, 50, NULL, 0, 50, 60) >=
	    vg_ctl_cmds[VG_CTL_RELOAD].role);
	assert_string_equal(vg_ctl_role_name(VG_ROLE_VIEWER), "viewer");
	assert_string_equal(vg_ctl_role_name(VG_ROLE_OPERATOR), "operator");
	assert_string_equal(vg_ctl_role_name(VG_ROLE_ADMIN), "admin");
}

/* No number of clients of the operator group locks root or an admin out;
 * one uid holds at most VG_CTL_MAX_PER_UID; the total is bounded. */
static void
test_admission(void **state)
{
	size_t n;

	(void)state;
	for (n = 0; n < VG_CTL_MAX_CLIENTS - VG_CTL_ADMIN_SLOTS; n++) {
		assert_null(vg_ctl_admit(VG_ROLE_OPERATOR, n, 0));
		assert_null(vg_ctl_admit(VG_ROLE_VIEWER, n, 0));
	}
	/* the last slots are kept for root and admins */
	for (; n < VG_CTL_MAX_CLIENTS; n++) {
		assert_string_equal(vg_ctl_admit(VG_ROLE_OPERATOR, n, 0),
		    VG_CTL_FULL);
		assert_string_equal(vg_ctl_admit(VG_ROLE_VIEWER, n, 0),
		    VG_CTL_FULL);
		assert_null(vg_ctl_admit(VG_ROLE_ADMIN, n, n));
	}
	assert_string_equal(vg_ctl_admit(VG_ROLE_ADMIN, VG_CTL_MAX_CLIENTS, 0),
	    VG_CTL_FULL);
	/* one user: at most VG_CTL_MAX_PER_UID, however many slots are free */
	assert_null(vg_ctl_admit(VG_ROLE_OPERATOR, 3, VG_CTL_MAX_PER_UID - 1));
	assert_string_equal(vg_ctl_admit(VG_ROLE_OPERATOR, 3,
	    VG_CTL_MAX_PER_UID), VG_CTL_UID_FULL);
	assert_string_equal(vg_ctl_admit(VG_ROLE_VIEWER, 0,
	    VG_CTL_MAX_PER_UID), VG_CTL_UID_FULL);
	assert_null(vg_ctl_admit(VG_ROLE_ADMIN, 3, VG_CTL_MAX_PER_UID + 5));
	assert_true(VG_CTL_ADMIN_SLOTS > 0 &&
	    VG_CTL_ADMIN_SLOTS < VG_CTL_MAX_CLIENTS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admission),
		cmocka_unit_test(test_every_command),
		cmocka_unit_test(test_config_diff),
		cmocka_unit_test(test_key_order_and_spacing),
		cmocka_unit_test(test_events_follow),
		cmocka_unit_test(test_maintenance_on),
		cmocka_unit_test(test_failover_to),
		cmocka_unit_test(test_failover_to_escaped_nul),
		cmocka_unit_test(test_failover_group),
		cmocka_unit_test(test_unknown_argument),
		cmocka_unit_test(test_long_argument_name_is_cut),
		cmocka_unit_test(test_cmd_missing_or_wrong_type),
		cmocka_unit_test(test_unknown_command),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_incomplete_object),
		cmocka_unit_test(test_trailing_garbage),
		cmocka_unit_test(test_not_strict_json),
		cmocka_unit_test(test_trailing_whitespace_ok),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_length_limit),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_small_error_buffer),
		cmocka_unit_test(test_role_root),
		cmocka_unit_test(test_role_admin_group),
		cmocka_unit_test(test_role_operator),
		cmocka_unit_test(test_role_admin_wins),
		cmocka_unit_test(test_role_none_configured),
		cmocka_unit_test(test_role_each_command_needs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
