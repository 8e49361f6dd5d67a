/*
 * test_hooks: the pure part of the hooks.  The queue: one change queues
 * notify_<state> then notify; a burst pops in exact order with the right
 * script for each state; scripts not configured are skipped; past
 * VG_HOOKQ_MAX the oldest jobs go, counted as dropped.  The
 * state file: every KEY=value line, VIGIL_VIPS quoted, and /bin/sh can
 * source it.  The runner on a real loop: the writer thread writes the
 * file and reports back, the latest of two changes in a row stays, the
 * scripts see the file of their change or a later one; a write error and a
 * missing script are counted.  VIP groups: a file without groups gives
 * the text, path and environment it gave before groups (byte for byte);
 * with two groups (built by hand on a parsed one-group file), each group's
 * file is state_file.NAME with VIGIL_GROUP and its VIPs only, each
 * script's environment names its group, its file and its VIPs, and
 * changes of two groups in a row all reach their own files.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <ev.h>

#include "conf.h"
#include "hooks.h"
#include "proto.h"

#define BASE \
	"cluster = \"prod-1\";\n" \
	"auth = \"none\";\n" \
	"nodes = (\n" \
	"\t{ id = 1; name = \"n1\"; address = \"10.0.0.1\"; },\n" \
	"\t{ id = 7; name = \"n7\"; address = \"10.0.0.7\"; },\n" \
	"\t{ id = 3; name = \"n3\"; address = \"10.0.0.3\"; }\n" \
	");\n"

#define ALL_SCRIPTS \
	"notify = \"/etc/vigil/notify\";\n" \
	"notify_active = \"/etc/vigil/active\";\n" \
	"notify_standby = \"/etc/vigil/standby\";\n" \
	"notify_fault = \"/etc/vigil/fault\";\n" \
	"notify_maintenance = \"/etc/vigil/maintenance\";\n"

#define VIPS \
	"vips = (\n" \
	"\t{ address = \"198.51.100.10/24\"; interface = \"eth0\"; },\n" \
	"\t{ address = \"2001:db8::10/64\"; interface = \"eth1\"; }\n" \
	");\n"

#define VIPS3 \
	"vips = (\n" \
	"\t{ address = \"198.51.100.10/24\"; interface = \"eth0\"; },\n" \
	"\t{ address = \"2001:db8::10/64\"; interface = \"eth1\"; },\n" \
	"\t{ address = \"203.0.113.5/32\"; interface = \"eth2\"; }\n" \
	");\n"

/* VIPS3 in two groups: "web" the first two, "db" the third */
#define GROUPS2 \
	"groups = (\n" \
	"\t{ name = \"web\"; vips = (\n" \
	"\t  { address = \"198.51.100.10/24\"; interface = \"eth0\"; },\n" \
	"\t  { address = \"2001:db8::10/64\"; interface = \"eth1\"; } ); },\n" \
	"\t{ name = \"db\"; vips = (\n" \
	"\t  { address = \"203.0.113.5/32\"; interface = \"eth2\"; } ); }\n" \
	");\n"

static struct vg_conf *
conf_of(const char *text, const char *self)
{
	struct vg_errs errs;
	struct vg_conf *c;
	size_t i;

	vg_errs_init(&errs);
	c = vg_conf_parse(text, "t.conf", self, &errs);
	if (c == NULL) {
		for (i = 0; i < errs.n; i++)
			print_message("    error: %s\n", errs.msg[i]);
		fail_msg("a valid config was refused");
	}
	return c;
}

static struct vg_hookq *
hookq_new(void)
{
	struct vg_hookq *q = calloc(1, sizeof(*q));

	assert_non_null(q);
	return q;
}

static struct vg_hook_event
event(uint64_t seq, uint8_t state, uint8_t prev)
{
	struct vg_hook_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.seq = seq;
	ev.state = state;
	ev.prev = prev;
	ev.term = 40 + seq;
	return ev;
}

/* The script a state runs first (notify_<state>). */
static const char *
state_script(uint8_t st)
{
	switch (st) {
	case VG_ST_ACTIVE:	return "/etc/vigil/active";
	case VG_ST_FAULT:	return "/etc/vigil/fault";
	case VG_ST_MAINTENANCE:	return "/etc/vigil/maintenance";
	default:		return "/etc/vigil/standby";
	}
}

/* ---- the queue */

static void
test_one_change(void **state)
{
	struct vg_conf *c = conf_of(BASE ALL_SCRIPTS, "n1");
	struct vg_hookq *q = hookq_new();
	struct vg_hook_event ev = event(1, VG_ST_ACTIVE, VG_ST_CANDIDATE);
	struct vg_hook_job j;

	(void)state;
	assert_int_equal(vg_hookq_push(q, c, &ev), 2);
	assert_int_equal(q->n, 2);
	assert_int_equal(vg_hookq_pop(q, &j), 1);
	assert_int_equal(j.which, VG_HOOK_STATE);
	assert_int_equal(j.ev.seq, 1);
	assert_int_equal(j.ev.state, VG_ST_ACTIVE);
	assert_int_equal(j.ev.prev, VG_ST_CANDIDATE);
	assert_string_equal(vg_hook_path(c, &j), "/etc/vigil/active");
	assert_int_equal(vg_hookq_pop(q, &j), 1);
	assert_int_equal(j.which, VG_HOOK_ALL);
	assert_int_equal(j.ev.seq, 1);
	assert_int_equal(j.ev.term, 41);
	assert_string_equal(vg_hook_path(c, &j), "/etc/vigil/notify");
	assert_int_equal(vg_hookq_pop(q, &j), 0);
	assert_int_equal(q->dropped, 0);
	free(q);
	vg_conf_free(c);
}

static void
test_state_mapping(void **state)
{
	static const struct {
		uint8_t		st;
		const char	*path;
	} t[] = {
		{ VG_ST_ACTIVE, "/etc/vigil/active" },
		{ VG_ST_FAULT, "/etc/vigil/fault" },
		{ VG_ST_MAINTENANCE, "/etc/vigil/maintenance" },
		{ VG_ST_STANDBY, "/etc/vigil/standby" },
		{ VG_ST_CANDIDATE, "/etc/vigil/standby" },
		{ VG_ST_NO_QUORUM, "/etc/vigil/standby" },
	};
	struct vg_conf *c = conf_of(BASE ALL_SCRIPTS, "n1");
	struct vg_hook_job j;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&j, 0, sizeof(j));
		j.ev.state = t[i].st;
		j.which = VG_HOOK_STATE;
		assert_string_equal(vg_hook_path(c, &j), t[i].path);
		j.which = VG_HOOK_ALL;
		assert_string_equal(vg_hook_path(c, &j), "/etc/vigil/notify");
	}
	vg_conf_free(c);
}

static void
test_burst_order(void **state)
{
	static const uint8_t cycle[] = { VG_ST_STANDBY, VG_ST_CANDIDATE,
	    VG_ST_ACTIVE, VG_ST_NO_QUORUM, VG_ST_FAULT, VG_ST_MAINTENANCE,
	    VG_ST_ACTIVE };
	struct vg_conf *c = conf_of(BASE ALL_SCRIPTS, "n1");
	struct vg_hookq *q = hookq_new();
	struct vg_hook_job j;
	uint8_t prev = VG_ST_NO_QUORUM;
	uint64_t i;

	(void)state;
	for (i = 1; i <= 50; i++) {
		uint8_t st = cycle[i % sizeof(cycle)];
		struct vg_hook_event ev = event(i, st, prev);

		assert_int_equal(vg_hookq_push(q, c, &ev), 2);
		prev = st;
	}
	assert_int_equal(q->n, 100);
	prev = VG_ST_NO_QUORUM;
	for (i = 1; i <= 50; i++) {
		uint8_t st = cycle[i % sizeof(cycle)];

		assert_int_equal(vg_hookq_pop(q, &j), 1);
		assert_int_equal(j.ev.seq, i);
		assert_int_equal(j.ev.state, st);
		assert_int_equal(j.ev.prev, prev);
		assert_int_equal(j.which, VG_HOOK_STATE);
		assert_string_equal(vg_hook_path(c, &j), state_script(st));
		assert_int_equal(vg_hookq_pop(q, &j), 1);
		assert_int_equal(j.ev.seq, i);
		assert_int_equal(j.which, VG_HOOK_ALL);
		assert_string_equal(vg_hook_path(c, &j), "/etc/vigil/notify");
		prev = st;
	}
	assert_int_equal(vg_hookq_pop(q, &j), 0);
	assert_int_equal(q->n, 0);
	assert_int_equal(q->dropped, 0);
	free(q);
	vg_conf_free(c);
}

static void
test_unset_scripts_skipped(void **state)
{
	struct vg_conf *none = conf_of(BASE, "n1");
	struct vg_conf *only_all = conf_of(BASE
	    "notify = \"/etc/vigil/notify\";\n", "n1");
	struct vg_conf *only_active = conf_of(BASE
	    "notify_active = \"/etc/vigil/active\";\n", "n1");
	struct vg_hookq *q = hookq_new();
	struct vg_hook_event act = event(1, VG_ST_ACTIVE, VG_ST_CANDIDATE);
	struct vg_hook_event sby = event(2, VG_ST_STANDBY, VG_ST_ACTIVE);
	struct vg_hook_job j;

	(void)state;
	/* nothing configured: nothing queued */
	assert_int_equal(vg_hookq_push(q, none, &act), 0);
	assert_int_equal(q->n, 0);
	assert_int_equal(vg_hookq_pop(q, &j), 0);

	/* notify only: one job per change, the "every change" one */
	assert_int_equal(vg_hookq_push(q, only_all, &act), 1);
	assert_int_equal(vg_hookq_push(q, only_all, &sby), 1);
	assert_int_equal(vg_hookq_pop(q, &j), 1);
	assert_int_equal(j.which, VG_HOOK_ALL);
	assert_int_equal(j.ev.seq, 1);
	assert_int_equal(vg_hookq_pop(q, &j), 1);
	assert_int_equal(j.which, VG_HOOK_ALL);
	assert_int_equal(j.ev.seq, 2);
	assert_int_equal(vg_hookq_pop(q, &j), 0);

	/* notify_active only: standby queues nothing */
	assert_int_equal(vg_hookq_push(q, only_active, &sby), 0);
	assert_int_equal(vg_hookq_push(q, only_active, &act), 1);
	assert_int_equal(vg_hookq_pop(q, &j), 1);
	assert_int_equal(j.which, VG_HOOK_STATE);
	assert_int_equal(j.ev.state, VG_ST_ACTIVE);
	assert_string_equal(vg_hook_path(only_active, &j), "/etc/vigil/active");
	assert_int_equal(vg_hookq_pop(q, &j), 0);
	/* and the path of a script not configured is "" */
	j.which = VG_HOOK_ALL;
	assert_string_equal(vg_hook_path(only_active, &j), "");
	free(q);
	vg_conf_free(none);
	vg_conf_free(only_all);
	vg_conf_free(only_active);
}

static void
test_overflow(void **state)
{
	struct vg_conf *c = conf_of(BASE ALL_SCRIPTS, "n1");
	struct vg_hookq *q = hookq_new();
	struct vg_hook_job j;
	uint64_t i, changes = VG_HOOKQ_MAX / 2;
	size_t got;

	(void)state;
	/* fill it exactly: two jobs per change */
	for (i = 1; i <= changes; i++) {
		struct vg_hook_event ev = event(i, VG_ST_FAULT, VG_ST_STANDBY);

		assert_int_equal(vg_hookq_push(q, c, &ev), 2);
	}
	assert_int_equal(q->n, VG_HOOKQ_MAX);
	assert_int_equal(q->dropped, 0);
	/* three more changes: queued, the six oldest jobs dropped (kept,
	 * the newest went: a hung script and a flapping link left the last
	 * script run saying a state long gone) */
	for (i = changes + 1; i <= changes + 3; i++) {
		struct vg_hook_event ev = event(i, VG_ST_ACTIVE, VG_ST_FAULT);

		assert_int_equal(vg_hookq_push(q, c, &ev), 2);
	}
	assert_int_equal(q->n, VG_HOOKQ_MAX);
	assert_int_equal(q->dropped, 6);
	/* the newest are kept, in order, the last change's last */
	for (got = 0; vg_hookq_pop(q, &j); got++) {
		assert_int_equal(j.ev.seq, got / 2 + 4);
		assert_int_equal(j.which, got % 2 ? VG_HOOK_ALL : VG_HOOK_STATE);
		assert_int_equal(j.ev.state, j.ev.seq > changes ?
		    VG_ST_ACTIVE : VG_ST_FAULT);
	}
	assert_int_equal(got, VG_HOOKQ_MAX);
	assert_int_equal(j.ev.seq, changes + 3);
	assert_int_equal(q->dropped, 6);

	/* after draining, it takes new ones again, across the ring's end */
	{
		struct vg_hook_event ev = event(9000, VG_ST_ACTIVE, VG_ST_FAULT);

		assert_int_equal(vg_hookq_push(q, c, &ev), 2);
		assert_int_equal(vg_hookq_pop(q, &j), 1);
		assert_int_equal(j.ev.seq, 9000);
		assert_int_equal(j.which, VG_HOOK_STATE);
	}
	free(q);
	vg_conf_free(c);
}

static void
test_overflow_half_change(void **state)
{
	struct vg_conf *c = conf_of(BASE ALL_SCRIPTS, "n1");
	struct vg_hookq *q = hookq_new();
	struct vg_hook_event ev = event(1, VG_ST_STANDBY, VG_ST_ACTIVE);
	struct vg_hook_job j;

	(void)state;
	/* one slot left: notify_<state> fits, notify takes the oldest
	 * job's place (the change's two scripts both run, in order) */
	q->n = VG_HOOKQ_MAX - 1;
	q->head = 17;
	assert_int_equal(vg_hookq_push(q, c, &ev), 2);
	assert_int_equal(q->dropped, 1);
	assert_int_equal(q->n, VG_HOOKQ_MAX);
	assert_int_equal(q->head, 18);
	/* the new ones are last: at head + n - 2 and head + n - 1 */
	j = q->job[(q->head + VG_HOOKQ_MAX - 2) % VG_HOOKQ_MAX];
	assert_int_equal(j.ev.seq, 1);
	assert_int_equal(j.which, VG_HOOK_STATE);
	j = q->job[(q->head + VG_HOOKQ_MAX - 1) % VG_HOOKQ_MAX];
	assert_int_equal(j.ev.seq, 1);
	assert_int_equal(j.which, VG_HOOK_ALL);
	free(q);
	vg_conf_free(c);
}

/* ---- the state file */

/* The value of KEY= in text (the rest of its line), or NULL. */
static const char *
value_of(const char *text, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key);
	const char *p = text;

	for (;;) {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			const char *v = p + kl + 1, *e = strchr(v, '\n');
			size_t n;

			if (e == NULL)
				return NULL;	/* every line ends with \n */
			n = (size_t)(e - v);
			if (n >= outlen)
				n = outlen - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return out;
		}
		if ((p = strchr(p, '\n')) == NULL)
			return NULL;
		p++;
	}
}

static void
expect_kv(const char *text, const char *key, const char *want)
{
	char v[512];

	if (value_of(text, key, v, sizeof(v)) == NULL)
		fail_msg("no %s= line in:\n%s", key, text);
	if (strcmp(v, want) != 0)
		fail_msg("%s=%s, wanted %s", key, v, want);
}

static struct vg_hook_event
active_event(void)
{
	struct vg_hook_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.seq = 12;
	ev.state = VG_ST_ACTIVE;
	ev.prev = VG_ST_CANDIDATE;
	ev.term = 18446744073709551615ULL;	/* all of uint64 */
	ev.active_id = 7;
	snprintf(ev.active, sizeof(ev.active), "n7");
	snprintf(ev.reason, sizeof(ev.reason), "won the election");
	ev.time_ms = 1700000000123LL;		/* 2023-11-14T22:13:20.123Z */
	return ev;
}

static void
test_state_text_lines(void **state)
{
	static const char *const keys[] = { "VIGIL_CLUSTER", "VIGIL_NODE",
	    "VIGIL_NODE_ID", "VIGIL_STATE", "VIGIL_PREV_STATE", "VIGIL_TERM",
	    "VIGIL_ACTIVE", "VIGIL_ACTIVE_ID", "VIGIL_SEQ", "VIGIL_TIME",
	    "VIGIL_TIME_MS", "VIGIL_VIPS", NULL };
	struct vg_conf *c = conf_of(BASE VIPS, "n7");
	struct vg_hook_event ev = active_event();
	char buf[4096];
	size_t n, i;
	const char *p;

	(void)state;
	memset(buf, 'x', sizeof(buf));
	n = vg_hook_state_text(c, &ev, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(n, strlen(buf));
	assert_int_equal(buf[n - 1], '\n');
	expect_kv(buf, "VIGIL_CLUSTER", "prod-1");
	expect_kv(buf, "VIGIL_NODE", "n7");
	expect_kv(buf, "VIGIL_NODE_ID", "7");
	expect_kv(buf, "VIGIL_STATE", "active");
	expect_kv(buf, "VIGIL_PREV_STATE", "candidate");
	expect_kv(buf, "VIGIL_TERM", "18446744073709551615");
	expect_kv(buf, "VIGIL_ACTIVE", "n7");
	expect_kv(buf, "VIGIL_ACTIVE_ID", "7");
	expect_kv(buf, "VIGIL_SEQ", "12");
	expect_kv(buf, "VIGIL_TIME", "2023-11-14T22:13:20.123Z");
	expect_kv(buf, "VIGIL_TIME_MS", "1700000000123");
	expect_kv(buf, "VIGIL_VIPS",
	    "\"198.51.100.10/24@eth0 2001:db8::10/64@eth1\"");
	/* each key exactly once; every other line is a comment */
	for (i = 0; keys[i] != NULL; i++) {
		char pat[64];
		const char *first;

		snprintf(pat, sizeof(pat), "\n%s=", keys[i]);
		first = strstr(buf, pat);
		assert_non_null(first);
		assert_null(strstr(first + 1, pat));
	}
	for (p = buf; *p != '\0'; p = strchr(p, '\n') + 1) {
		if (*p == '#')
			continue;
		assert_true(strncmp(p, "VIGIL_", 6) == 0);
		assert_non_null(strchr(p, '='));
	}
	vg_conf_free(c);
}

static void
test_state_text_no_active_no_vips(void **state)
{
	struct vg_conf *c = conf_of(BASE, "n3");
	struct vg_hook_event ev;
	char buf[4096];

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.seq = 1;
	ev.state = VG_ST_NO_QUORUM;
	ev.prev = 0;
	ev.term = 0;
	ev.time_ms = 0;
	assert_true(vg_hook_state_text(c, &ev, buf, sizeof(buf)) > 0);
	expect_kv(buf, "VIGIL_NODE", "n3");
	expect_kv(buf, "VIGIL_NODE_ID", "3");
	expect_kv(buf, "VIGIL_STATE", "no-quorum");
	expect_kv(buf, "VIGIL_PREV_STATE", "unknown");
	expect_kv(buf, "VIGIL_TERM", "0");
	expect_kv(buf, "VIGIL_ACTIVE", "");
	expect_kv(buf, "VIGIL_ACTIVE_ID", "0");
	expect_kv(buf, "VIGIL_TIME", "1970-01-01T00:00:00.000Z");
	expect_kv(buf, "VIGIL_VIPS", "\"\"");
	vg_conf_free(c);
}

/* The length of the text up to and with VIGIL_VIPS=" */
static size_t
head_len(const char *text)
{
	const char *v = strstr(text, "VIGIL_VIPS=\"");

	assert_non_null(v);
	return (size_t)(v - text) + strlen("VIGIL_VIPS=\"");
}

static void
test_state_text_small_buffer(void **state)
{
	struct vg_conf *c = conf_of(BASE VIPS, "n7");
	struct vg_hook_event ev = active_event();
	char buf[4096], small[4096];
	size_t n, len, hl;

	(void)state;
	n = vg_hook_state_text(c, &ev, buf, sizeof(buf));
	assert_true(n > 0);
	hl = head_len(buf);
	/* exactly enough room (with the NUL) works, one byte less does not */
	assert_int_equal(vg_hook_state_text(c, &ev, small, n + 1), n);
	assert_memory_equal(small, buf, n + 1);
	assert_int_equal(vg_hook_state_text(c, &ev, small, n), 0);
	assert_int_equal(vg_hook_state_text(c, &ev, small, n - 1), 0);
	/* no room for the fixed lines: nothing */
	for (len = 1; len <= hl; len++)
		assert_int_equal(vg_hook_state_text(c, &ev, small, len), 0);
	vg_conf_free(c);
}

/*
 * A buffer too small for every VIP must not give a state file that lists
 * only some of them: 0, or the whole text.
 */
static void
test_state_text_vips_never_cut(void **state)
{
	struct vg_conf *c = conf_of(BASE VIPS, "n7");
	struct vg_hook_event ev = active_event();
	char buf[4096], small[4096];
	size_t n, len, got;

	(void)state;
	n = vg_hook_state_text(c, &ev, buf, sizeof(buf));
	assert_true(n > 0);
	for (len = head_len(buf) + 1; len <= n; len++) {
		got = vg_hook_state_text(c, &ev, small, len);
		if (got != 0) {
			vg_conf_free(c);
			fail_msg("a %zu-byte buffer gave %zu bytes, with "
			    "VIGIL_VIPS cut: %s", len, got,
			    strstr(small, "VIGIL_VIPS="));
		}
	}
	vg_conf_free(c);
}

/* The same with the state file writer's own 16384-byte buffer and 1000
 * VIPs (the config allows 4096). */
static void
test_state_text_many_vips(void **state)
{
	size_t cap = 4096 + 1000 * 64, off, i, n, count;
	char *text = malloc(cap), *buf = malloc(16384);
	struct vg_hook_event ev = active_event();
	struct vg_conf *c;
	const char *v;

	(void)state;
	assert_non_null(text);
	assert_non_null(buf);
	off = (size_t)snprintf(text, cap, "%svips = (\n", BASE);
	for (i = 0; i < 1000; i++)
		off += (size_t)snprintf(text + off, cap - off,
		    "\t{ address = \"10.1.%zu.%zu/16\"; interface = \"eth0\"; "
		    "}%s\n", i / 250, i % 250 + 1, i + 1 < 1000 ? "," : "");
	snprintf(text + off, cap - off, ");\n");
	c = conf_of(text, "n1");
	free(text);
	assert_int_equal(c->n_vips, 1000);
	n = vg_hook_state_text(c, &ev, buf, 16384);
	if (n != 0) {
		v = strstr(buf, "VIGIL_VIPS=\"");
		assert_non_null(v);
		for (count = 0; (v = strchr(v, '@')) != NULL; v++)
			count++;
		vg_conf_free(c);
		if (count != 1000) {
			free(buf);
			fail_msg("the state text lists %zu of the 1000 VIPs",
			    count);
		}
	} else
		vg_conf_free(c);
	free(buf);
}

/* Runs `sh -c '. file; echo "$VAR"'` and returns its output's first line. */
static void
sh_value(const char *file, const char *var, char *out, size_t outlen)
{
	char cmd[512];
	FILE *f;
	int st;

	snprintf(cmd, sizeof(cmd), "/bin/sh -c '. %s; printf \"%%s\\n\" "
	    "\"$%s\"'", file, var);
	f = popen(cmd, "r");
	assert_non_null(f);
	if (fgets(out, (int)outlen, f) == NULL)
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	st = pclose(f);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
test_state_text_sh_sources_it(void **state)
{
	struct vg_conf *c = conf_of(BASE VIPS, "n7");
	struct vg_hook_event ev = active_event();
	char dir[] = "/tmp/test_hooks.XXXXXX", file[128], buf[4096], v[512];
	size_t n;
	FILE *f;

	(void)state;
	n = vg_hook_state_text(c, &ev, buf, sizeof(buf));
	assert_true(n > 0);
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/state", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	assert_int_equal(fclose(f), 0);

	sh_value(file, "VIGIL_TERM", v, sizeof(v));
	assert_string_equal(v, "18446744073709551615");
	sh_value(file, "VIGIL_VIPS", v, sizeof(v));
	assert_string_equal(v, "198.51.100.10/24@eth0 2001:db8::10/64@eth1");
	sh_value(file, "VIGIL_STATE", v, sizeof(v));
	assert_string_equal(v, "active");
	sh_value(file, "VIGIL_CLUSTER", v, sizeof(v));
	assert_string_equal(v, "prod-1");
	sh_value(file, "VIGIL_TIME", v, sizeof(v));
	assert_string_equal(v, "2023-11-14T22:13:20.123Z");

	assert_int_equal(unlink(file), 0);
	assert_int_equal(rmdir(dir), 0);
	vg_conf_free(c);
}

/* ---- the runner: the writer thread and the scripts, on a real loop */

struct ran {
	int	runs, ok;
};

static void
ran_done(void *arg, const struct vg_hook_job *j, const char *path, int st,
    int timed_out)
{
	struct ran *r = arg;

	(void)j;
	(void)path;
	r->runs++;
	if (!timed_out && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		r->ok++;
}

static void
guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	fail_msg("the hooks did not finish within 5 s");
}

/* Runs the loop until nothing is pending (at most 5 s). */
static void
drain(struct ev_loop *loop, struct vg_hooks *h)
{
	ev_timer guard;
	int i;

	ev_timer_init(&guard, guard_cb, 5., 0.);
	ev_timer_start(loop, &guard);
	for (i = 0; i < 10000 && vg_hooks_pending(h) > 0; i++)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &guard);
	assert_int_equal(vg_hooks_pending(h), 0);
}

static void
file_value(const char *file, const char *var, char *out, size_t outlen)
{
	char line[512];
	size_t n = strlen(var);
	FILE *f = fopen(file, "r");

	assert_non_null(f);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, var, n) == 0 && line[n] == '=') {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, outlen, "%s", line + n + 1);
		}
	fclose(f);
}

/*
 * The state file is written by the writer thread, which reports back
 * through the loop (state_writes); two changes in a row leave the latest
 * text; and every script starts after the file says its change or a later
 * one (the notify script checks that and exits 1 if not).
 */
static void
test_writer_thread(void **state)
{
	char dir[] = "/tmp/test_hooks.XXXXXX", text[2048], sf[128], nf[128],
	    v[64];
	struct ev_loop *loop = ev_default_loop(0);
	const struct vg_hooks_stats *st;
	struct vg_hook_event ev;
	struct vg_hooks *h;
	struct vg_conf *c;
	struct ran r;
	FILE *f;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_non_null(mkdtemp(dir));
	snprintf(sf, sizeof(sf), "%s/sub/state", dir);	/* made by it */
	snprintf(nf, sizeof(nf), "%s/notify", dir);
	f = fopen(nf, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\nwant=$VIGIL_SEQ\n. \"$VIGIL_STATE_FILE\"\n"
	    "[ \"$VIGIL_SEQ\" -ge \"$want\" ]\n");
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(nf, 0700), 0);
	snprintf(text, sizeof(text), BASE VIPS "state_file = \"%s\";\n"
	    "notify = \"%s\";\n", sf, nf);
	c = conf_of(text, "n7");
	h = vg_hooks_new(loop, c, ran_done, &r);
	assert_non_null(h);
	st = vg_hooks_stats(h);

	ev = event(1, VG_ST_ACTIVE, VG_ST_STANDBY);
	vg_hooks_state_change(h, &ev);
	assert_true(vg_hooks_pending(h) > 0);
	/* handed to the thread: only the loop counts it, when it reports */
	assert_int_equal(st->state_writes, 0);
	drain(loop, h);
	assert_int_equal(st->state_writes, 1);
	assert_int_equal(st->state_write_errors, 0);
	file_value(sf, "VIGIL_SEQ", v, sizeof(v));
	assert_string_equal(v, "1");
	file_value(sf, "VIGIL_STATE", v, sizeof(v));
	assert_string_equal(v, "active");
	assert_int_equal(r.runs, 1);
	assert_int_equal(r.ok, 1);

	/* two in a row: the second waits for the thread, then the latest */
	ev = event(2, VG_ST_STANDBY, VG_ST_ACTIVE);
	vg_hooks_state_change(h, &ev);
	ev = event(3, VG_ST_FAULT, VG_ST_STANDBY);
	vg_hooks_state_change(h, &ev);
	drain(loop, h);
	assert_true(st->state_writes >= 2 && st->state_writes <= 3);
	assert_int_equal(st->state_write_errors, 0);
	file_value(sf, "VIGIL_SEQ", v, sizeof(v));
	assert_string_equal(v, "3");
	file_value(sf, "VIGIL_STATE", v, sizeof(v));
	assert_string_equal(v, "fault");
	assert_int_equal(r.runs, 3);
	assert_int_equal(r.ok, 3);
	assert_int_equal(st->runs, 3);
	assert_int_equal(st->failures, 0);

	vg_hooks_free(h);
	vg_conf_free(c);
	assert_int_equal(unlink(sf), 0);
	snprintf(sf, sizeof(sf), "%s/sub", dir);
	assert_int_equal(rmdir(sf), 0);
	assert_int_equal(unlink(nf), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* A file it cannot write is counted through the loop; the scripts run. */
static void
test_writer_error(void **state)
{
	struct ev_loop *loop = ev_default_loop(0);
	struct vg_hook_event ev = event(1, VG_ST_ACTIVE, VG_ST_STANDBY);
	const struct vg_hooks_stats *st;
	struct vg_hooks *h;
	struct vg_conf *c;
	struct ran r;

	(void)state;
	memset(&r, 0, sizeof(r));
	/* /dev/null is no directory: mkdir -p of it fails */
	c = conf_of(BASE "state_file = \"/dev/null/x/state\";\n"
	    "notify = \"/bin/true\";\n", "n7");
	h = vg_hooks_new(loop, c, ran_done, &r);
	assert_non_null(h);
	st = vg_hooks_stats(h);
	vg_hooks_state_change(h, &ev);
	drain(loop, h);
	assert_int_equal(st->state_writes, 0);
	assert_int_equal(st->state_write_errors, 1);
	assert_int_equal(r.runs, 1);
	assert_int_equal(r.ok, 1);
	vg_hooks_free(h);
	vg_conf_free(c);
}

/* A script that cannot be executed: a spawn error, reported as exit 127. */
static void
test_script_missing(void **state)
{
	struct ev_loop *loop = ev_default_loop(0);
	struct vg_hook_event ev = event(1, VG_ST_ACTIVE, VG_ST_STANDBY);
	const struct vg_hooks_stats *st;
	struct vg_hooks *h;
	struct vg_conf *c;
	struct ran r;

	(void)state;
	memset(&r, 0, sizeof(r));
	c = conf_of(BASE "state_file = \"/dev/null/x/state\";\n"
	    "notify = \"/nonexistent/vigil-notify\";\n", "n7");
	h = vg_hooks_new(loop, c, ran_done, &r);
	assert_non_null(h);
	st = vg_hooks_stats(h);
	vg_hooks_state_change(h, &ev);
	drain(loop, h);
	assert_int_equal(st->spawn_errors, 1);
	assert_int_equal(st->runs, 0);
	assert_int_equal(r.runs, 1);
	assert_int_equal(r.ok, 0);
	vg_hooks_free(h);
	vg_conf_free(c);
}

/* ---- VIP groups */

/*
 * The text a file without groups gave before groups, byte for byte (from
 * main at 88eb197, BASE VIPS on n7, active_event()).
 */
static const char before_groups[] =
    "# vigil state file: rewritten atomically on every state change.\n"
    "# VIGIL_TERM only grows: use it as a fencing token.\n"
    "VIGIL_CLUSTER=prod-1\n"
    "VIGIL_NODE=n7\n"
    "VIGIL_NODE_ID=7\n"
    "VIGIL_STATE=active\n"
    "VIGIL_PREV_STATE=candidate\n"
    "VIGIL_TERM=18446744073709551615\n"
    "VIGIL_ACTIVE=n7\n"
    "VIGIL_ACTIVE_ID=7\n"
    "VIGIL_SEQ=12\n"
    "VIGIL_TIME=2023-11-14T22:13:20.123Z\n"
    "VIGIL_TIME_MS=1700000000123\n"
    "VIGIL_VIPS=\"198.51.100.10/24@eth0 2001:db8::10/64@eth1\"\n";

/* A file of two groups over VIPS3's three VIPs (GROUPS2), parsed. */
static struct vg_conf *
conf_two_groups(const char *extra)
{
	char text[2048];
	struct vg_conf *c;

	snprintf(text, sizeof(text), "%s%s%s", BASE, GROUPS2, extra);
	c = conf_of(text, "n7");
	assert_int_equal(c->n_vips, 3);
	assert_int_equal(c->n_groups, 2);
	assert_int_equal(c->groups[1].vip_first, 2);
	return c;
}

/* The value of KEY in a NULL-terminated environment, or NULL. */
static const char *
env_value(char *const *v, const char *key)
{
	size_t kl = strlen(key);

	for (; *v != NULL; v++)
		if (strncmp(*v, key, kl) == 0 && (*v)[kl] == '=')
			return *v + kl + 1;
	return NULL;
}

static size_t
env_count(char *const *v)
{
	size_t n = 0;

	while (v[n] != NULL)
		n++;
	return n;
}

static void
expect_env(char *const *v, const char *key, const char *want)
{
	const char *got = env_value(v, key);

	if (got == NULL)
		fail_msg("no %s in the environment", key);
	if (strcmp(got, want) != 0)
		fail_msg("%s=%s, wanted %s", key, got, want);
}

/* A file without groups: the same path, the same text as before groups;
 * the environment as before, and VIGIL_GROUP=default. */
static void
test_no_groups_unchanged(void **state)
{
	static const char *const before[][2] = {
		{ "VIGIL_CLUSTER", "prod-1" }, { "VIGIL_NODE", "n7" },
		{ "VIGIL_NODE_ID", "7" }, { "VIGIL_STATE", "active" },
		{ "VIGIL_PREV_STATE", "candidate" },
		{ "VIGIL_TERM", "18446744073709551615" },
		{ "VIGIL_ACTIVE", "n7" }, { "VIGIL_ACTIVE_ID", "7" },
		{ "VIGIL_SEQ", "12" }, { "VIGIL_REASON", "won the election" },
		{ "VIGIL_TIME", "2023-11-14T22:13:20.123Z" },
		{ "VIGIL_STATE_FILE", "/run/vigil/st" },
		{ "VIGIL_VIPS", "198.51.100.10/24@eth0 2001:db8::10/64@eth1" },
	};
	struct vg_conf *c = conf_of(BASE VIPS
	    "state_file = \"/run/vigil/st\";\n", "n7");
	struct vg_hook_job j;
	struct vg_hook_env e;
	char buf[4096], path[VG_HOOK_PATH_MAX];
	size_t n, i;

	(void)state;
	assert_int_equal(c->groups_line, 0);
	memset(&j, 0, sizeof(j));
	j.ev = active_event();
	j.which = VG_HOOK_ALL;
	n = vg_hook_state_text(c, &j.ev, buf, sizeof(buf));
	assert_int_equal(n, sizeof(before_groups) - 1);
	assert_memory_equal(buf, before_groups, n + 1);
	assert_null(strstr(buf, "VIGIL_GROUP"));
	assert_int_equal(vg_hook_state_path(c, 0, path, sizeof(path)), 0);
	assert_string_equal(path, "/run/vigil/st");

	assert_int_equal(vg_hook_env(c, &j, &e), 0);
	assert_string_equal(e.term, "18446744073709551615");
	for (i = 0; i < sizeof(before) / sizeof(before[0]); i++)
		expect_env(e.v, before[i][0], before[i][1]);
	expect_env(e.v, "VIGIL_GROUP", "default");
	assert_int_equal(env_count(e.v), sizeof(before) / sizeof(before[0]) + 1);
	assert_int_equal(env_count(e.v), VG_HOOK_ENV);
	vg_hook_env_free(&e);
	vg_conf_free(c);
}

/* Each group's text: its name, its change, its VIPs only; an index not in
 * the config gives nothing. */
static void
test_group_state_text(void **state)
{
	static const char web[] =
	    "# vigil state file: rewritten atomically on every state change.\n"
	    "# VIGIL_TERM only grows: use it as a fencing token.\n"
	    "VIGIL_CLUSTER=prod-1\n"
	    "VIGIL_NODE=n7\n"
	    "VIGIL_NODE_ID=7\n"
	    "VIGIL_GROUP=web\n"
	    "VIGIL_STATE=active\n"
	    "VIGIL_PREV_STATE=candidate\n"
	    "VIGIL_TERM=18446744073709551615\n"
	    "VIGIL_ACTIVE=n7\n"
	    "VIGIL_ACTIVE_ID=7\n"
	    "VIGIL_SEQ=12\n"
	    "VIGIL_TIME=2023-11-14T22:13:20.123Z\n"
	    "VIGIL_TIME_MS=1700000000123\n"
	    "VIGIL_VIPS=\"198.51.100.10/24@eth0 2001:db8::10/64@eth1\"\n";
	struct vg_conf *c = conf_two_groups("");
	struct vg_hook_event ev = active_event();
	char buf[4096], path[VG_HOOK_PATH_MAX];
	size_t n;

	(void)state;
	n = vg_hook_state_text(c, &ev, buf, sizeof(buf));
	assert_int_equal(n, sizeof(web) - 1);
	assert_memory_equal(buf, web, n + 1);

	ev.group = 1;
	ev.seq = 13;
	ev.state = VG_ST_STANDBY;
	ev.prev = VG_ST_NO_QUORUM;
	ev.term = 5;
	ev.active_id = 1;
	snprintf(ev.active, sizeof(ev.active), "n1");
	n = vg_hook_state_text(c, &ev, buf, sizeof(buf));
	assert_true(n > 0);
	expect_kv(buf, "VIGIL_GROUP", "db");
	expect_kv(buf, "VIGIL_STATE", "standby");
	expect_kv(buf, "VIGIL_PREV_STATE", "no-quorum");
	expect_kv(buf, "VIGIL_TERM", "5");
	expect_kv(buf, "VIGIL_ACTIVE", "n1");
	expect_kv(buf, "VIGIL_ACTIVE_ID", "1");
	expect_kv(buf, "VIGIL_SEQ", "13");
	expect_kv(buf, "VIGIL_VIPS", "\"203.0.113.5/32@eth2\"");
	/* never cut: one byte short of the whole gives nothing */
	assert_int_equal(vg_hook_state_text(c, &ev, buf, n), 0);

	ev.group = 2;			/* not in the config */
	assert_int_equal(vg_hook_state_text(c, &ev, buf, sizeof(buf)), 0);
	ev.group = VG_MAX_GROUPS;
	assert_int_equal(vg_hook_state_text(c, &ev, buf, sizeof(buf)), 0);

	/* the default state_file, a suffix per group */
	assert_int_equal(vg_hook_state_path(c, 0, path, sizeof(path)), 0);
	assert_string_equal(path, VG_DEFAULT_STATE_FILE ".web");
	assert_int_equal(vg_hook_state_path(c, 1, path, sizeof(path)), 0);
	assert_string_equal(path, VG_DEFAULT_STATE_FILE ".db");
	assert_int_equal(vg_hook_state_path(c, 2, path, sizeof(path)), -1);
	assert_string_equal(path, "");
	/* a buffer one short: -1, and "" rather than a wrong path */
	assert_int_equal(vg_hook_state_path(c, 1, path,
	    strlen(VG_DEFAULT_STATE_FILE ".db")), -1);
	assert_string_equal(path, "");
	vg_conf_free(c);
}

/* The longest state_file a config takes still has room for any group. */
static void
test_group_state_path_longest(void **state)
{
	struct vg_conf *c = conf_two_groups("");
	char path[VG_HOOK_PATH_MAX];

	(void)state;
	memset(c->state_file, 'a', sizeof(c->state_file) - 1);
	c->state_file[0] = '/';
	c->state_file[sizeof(c->state_file) - 1] = '\0';
	memset(c->groups[1].name, 'z', sizeof(c->groups[1].name) - 1);
	c->groups[1].name[sizeof(c->groups[1].name) - 1] = '\0';
	assert_int_equal(vg_hook_state_path(c, 1, path, sizeof(path)), 0);
	assert_int_equal(strlen(path), VG_HOOK_PATH_MAX - 1);
	vg_conf_free(c);
}

/* Each group's script: its group's name, state file and VIPs. */
static void
test_group_env(void **state)
{
	struct vg_conf *c = conf_two_groups("state_file = \"/run/v/state\";\n");
	struct vg_hook_job j;
	struct vg_hook_env e;

	(void)state;
	memset(&j, 0, sizeof(j));
	j.ev = active_event();
	j.which = VG_HOOK_STATE;
	assert_int_equal(vg_hook_env(c, &j, &e), 0);
	assert_int_equal(env_count(e.v), VG_HOOK_ENV);
	expect_env(e.v, "VIGIL_GROUP", "web");
	expect_env(e.v, "VIGIL_STATE_FILE", "/run/v/state.web");
	expect_env(e.v, "VIGIL_VIPS",
	    "198.51.100.10/24@eth0 2001:db8::10/64@eth1");
	expect_env(e.v, "VIGIL_STATE", "active");
	expect_env(e.v, "VIGIL_SEQ", "12");
	vg_hook_env_free(&e);

	j.ev.group = 1;
	j.ev.seq = 13;
	j.ev.state = VG_ST_FAULT;
	j.ev.prev = VG_ST_ACTIVE;
	j.ev.term = 77;
	snprintf(j.ev.reason, sizeof(j.ev.reason), "track db-check");
	assert_int_equal(vg_hook_env(c, &j, &e), 0);
	assert_int_equal(env_count(e.v), VG_HOOK_ENV);
	expect_env(e.v, "VIGIL_GROUP", "db");
	expect_env(e.v, "VIGIL_STATE_FILE", "/run/v/state.db");
	expect_env(e.v, "VIGIL_VIPS", "203.0.113.5/32@eth2");
	expect_env(e.v, "VIGIL_STATE", "fault");
	expect_env(e.v, "VIGIL_PREV_STATE", "active");
	expect_env(e.v, "VIGIL_TERM", "77");
	expect_env(e.v, "VIGIL_REASON", "track db-check");
	expect_env(e.v, "VIGIL_NODE", "n7");
	assert_string_equal(e.term, "77");
	vg_hook_env_free(&e);

	j.ev.group = 2;			/* not in the config: no environment */
	assert_int_equal(vg_hook_env(c, &j, &e), -1);
	assert_null(e.buf);
	vg_hook_env_free(&e);
	vg_conf_free(c);
}

/*
 * On a real loop, two groups: changes of both in a row each reach their
 * own file (a db change never hides a web one), the file of a run without
 * groups is removed at start and never written, and every script finds
 * its own group's file saying its change or a later one.
 */
static void
test_group_writer(void **state)
{
	char dir[] = "/tmp/test_hooks.XXXXXX", extra[512], sf[128], nf[128],
	    web[160], db[160], v[128];
	struct ev_loop *loop = ev_default_loop(0);
	const struct vg_hooks_stats *st;
	struct vg_hook_event ev;
	struct vg_hooks *h;
	struct vg_conf *c;
	struct ran r;
	uint64_t seq, n;
	FILE *f;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_non_null(mkdtemp(dir));
	snprintf(sf, sizeof(sf), "%s/state", dir);
	snprintf(web, sizeof(web), "%s.web", sf);
	snprintf(db, sizeof(db), "%s.db", sf);
	snprintf(nf, sizeof(nf), "%s/notify", dir);
	f = fopen(nf, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\ng=$VIGIL_GROUP want=$VIGIL_SEQ vips=$VIGIL_VIPS\n"
	    "case $VIGIL_STATE_FILE in *.$g) ;; *) exit 2;; esac\n"
	    ". \"$VIGIL_STATE_FILE\"\n"
	    "[ \"$VIGIL_GROUP\" = \"$g\" ] && [ \"$VIGIL_VIPS\" = \"$vips\" ] "
	    "&& [ \"$VIGIL_SEQ\" -ge \"$want\" ]\n");
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(nf, 0700), 0);
	/* one left by a run without groups */
	f = fopen(sf, "w");
	assert_non_null(f);
	fprintf(f, "VIGIL_STATE=active\n");
	assert_int_equal(fclose(f), 0);
	snprintf(extra, sizeof(extra), "state_file = \"%s\";\nnotify = \"%s\";\n",
	    sf, nf);
	c = conf_two_groups(extra);
	h = vg_hooks_new(loop, c, ran_done, &r);
	assert_non_null(h);
	assert_int_equal(access(sf, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	st = vg_hooks_stats(h);

	/* web then db, in a row: the second waits for the thread */
	ev = event(1, VG_ST_ACTIVE, VG_ST_STANDBY);
	vg_hooks_state_change(h, &ev);
	ev = event(2, VG_ST_STANDBY, VG_ST_NO_QUORUM);
	ev.group = 1;
	vg_hooks_state_change(h, &ev);
	drain(loop, h);
	assert_int_equal(st->state_writes, 2);
	assert_int_equal(st->state_write_errors, 0);
	file_value(web, "VIGIL_SEQ", v, sizeof(v));
	assert_string_equal(v, "1");
	file_value(web, "VIGIL_STATE", v, sizeof(v));
	assert_string_equal(v, "active");
	file_value(web, "VIGIL_GROUP", v, sizeof(v));
	assert_string_equal(v, "web");
	file_value(web, "VIGIL_VIPS", v, sizeof(v));
	assert_string_equal(v, "\"198.51.100.10/24@eth0 2001:db8::10/64@eth1\"");
	file_value(db, "VIGIL_SEQ", v, sizeof(v));
	assert_string_equal(v, "2");
	file_value(db, "VIGIL_STATE", v, sizeof(v));
	assert_string_equal(v, "standby");
	file_value(db, "VIGIL_GROUP", v, sizeof(v));
	assert_string_equal(v, "db");
	file_value(db, "VIGIL_VIPS", v, sizeof(v));
	assert_string_equal(v, "\"203.0.113.5/32@eth2\"");
	assert_int_equal(r.runs, 2);
	assert_int_equal(r.ok, 2);

	/* a burst, the groups in turn: each file ends on its group's last */
	for (seq = 3; seq <= 12; seq++) {
		ev = event(seq, seq % 4 < 2 ? VG_ST_FAULT : VG_ST_ACTIVE,
		    VG_ST_STANDBY);
		ev.group = (uint8_t)(seq % 2);
		vg_hooks_state_change(h, &ev);
	}
	drain(loop, h);
	assert_true(st->state_writes >= 4 && st->state_writes <= 12);
	assert_int_equal(st->state_write_errors, 0);
	file_value(web, "VIGIL_SEQ", v, sizeof(v));
	assert_string_equal(v, "12");
	file_value(web, "VIGIL_STATE", v, sizeof(v));
	assert_string_equal(v, "fault");
	file_value(web, "VIGIL_TERM", v, sizeof(v));
	assert_string_equal(v, "52");
	file_value(db, "VIGIL_SEQ", v, sizeof(v));
	assert_string_equal(v, "11");
	file_value(db, "VIGIL_STATE", v, sizeof(v));
	assert_string_equal(v, "active");
	file_value(db, "VIGIL_TERM", v, sizeof(v));
	assert_string_equal(v, "51");
	assert_int_equal(r.runs, 12);
	assert_int_equal(r.ok, 12);
	assert_int_equal(st->failures, 0);
	/* state_file itself: never written with groups */
	assert_int_equal(access(sf, F_OK), -1);

	/* a change of a group not in the config: nothing, counted nowhere
	 * (the loop run: no script, no state file) */
	ev = event(13, VG_ST_ACTIVE, VG_ST_STANDBY);
	ev.group = 2;
	n = st->state_writes;
	vg_hooks_state_change(h, &ev);
	assert_int_equal(vg_hooks_pending(h), 0);
	drain(loop, h);
	assert_int_equal(r.runs, 12);
	assert_int_equal(st->state_writes, n);

	vg_hooks_free(h);
	vg_conf_free(c);
	assert_int_equal(unlink(web), 0);
	assert_int_equal(unlink(db), 0);
	assert_int_equal(unlink(nf), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_change),
		cmocka_unit_test(test_state_mapping),
		cmocka_unit_test(test_burst_order),
		cmocka_unit_test(test_unset_scripts_skipped),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_overflow_half_change),
		cmocka_unit_test(test_state_text_lines),
		cmocka_unit_test(test_state_text_no_active_no_vips),
		cmocka_unit_test(test_state_text_small_buffer),
		cmocka_unit_test(test_state_text_vips_never_cut),
		cmocka_unit_test(test_state_text_many_vips),
		cmocka_unit_test(test_state_text_sh_sources_it),
		cmocka_unit_test(test_writer_thread),
		cmocka_unit_test(test_writer_error),
		cmocka_unit_test(test_script_missing),
		cmocka_unit_test(test_no_groups_unchanged),
		cmocka_unit_test(test_group_state_text),
		cmocka_unit_test(test_group_state_path_longest),
		cmocka_unit_test(test_group_env),
		cmocka_unit_test(test_group_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
