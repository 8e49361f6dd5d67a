/*
 * test_command: what the ctl commands decide, on an agent whose node n1 is
 * elected through the real protocol on a fake clock (elfix.h).  command.c
 * runs nothing: the tests look at what it returns and what it changed.
 *
 * - failover refused: an unknown node, the active itself, no active known
 *   to ask; one already under way; each refusal audited (but the last),
 *   nothing pending, no action;
 * - failover deferred: the active hands over (VIPs off, RELEASE, TRANSFER
 *   returned, not carried out), the request waits; it is answered once a
 *   new active is seen in a newer term (not before, and not for the old
 *   term), naming it; a follower's request goes to the active it knows;
 * - failover timed out: at 2 dead_time + 1 s the answer is an error;
 * - maintenance is persisted before it is applied: when state_dir cannot
 *   be written (or the file cannot be removed) nothing changes;
 * - reload is left to the shell; its answer carries the errors.
 * - config_diff: the running configuration against a text, for this node:
 *   each change with its class, the whole one's, what a reload here would
 *   answer; an invalid text answers its errors; nothing changes, nothing
 *   is audited.
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
#include <unistd.h>

#include <cmocka.h>

#define FILE_NAME	"c.conf"
#include "confcheck.h"
#include "elfix.h"

#include "agent.h"
#include "command.h"

#define ERRLEN	512

struct fix {
	struct vg_agent		a;
	char			dir[64];
	vg_ns			now;
	struct vg_ctl_caller	caller;
	char			err[ERRLEN];
};

static struct fix *
fix_new(const char *state_dir)
{
	struct fix *f = calloc(1, sizeof(*f));
	char text[2048];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/vg_test_command.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(text, sizeof(text), EL3_CONF "state_dir = \"%s\";\n",
	    state_dir != NULL ? state_dir : f->dir);
	f->a.conf = parse_ok(text, "n1");
	f->a.self = &f->a.conf->nodes[f->a.conf->self];
	vg_events_init(&f->a.events);
	f->now = T0;
	vg_el_init(&f->a.el[0], f->a.conf, 7, 0, 42, T0);
	f->a.n_groups = 1;
	f->caller.uid = 0;
	f->caller.pid = 4242;
	f->caller.role = VG_ROLE_ADMIN;
	f->caller.client = 77;
	return f;
}

static void
fix_free(struct fix *f)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/maintenance", f->dir);
	(void)unlink(p);
	(void)rmdir(p);
	(void)rmdir(f->dir);
	vg_conf_free(f->a.conf);
	free(f);
}

static json_object *
run(struct fix *f, enum vg_ctl_cmd cmd, const char *to, int on,
    struct vg_cmd_out *out)
{
	struct vg_ctl_request req;

	memset(&req, 0, sizeof(req));
	req.cmd = cmd;
	req.on = on;
	snprintf(req.to, sizeof(req.to), "%s", to);
	f->caller.defer = 0;
	f->err[0] = '\0';
	return vg_cmd_run(&f->a, &req, &f->caller, f->now, out, f->err,
	    sizeof(f->err));
}

/* The newest event: a ctl audit line holding `text`. */
static void
audited(struct fix *f, size_t n_before, const char *text)
{
	const struct vg_event *e;

	assert_int_equal(f->a.events.n, n_before + 1);
	e = vg_events_get(&f->a.events, f->a.events.n - 1);
	assert_int_equal(e->kind, VG_EV_CTL);
	assert_non_null(strstr(e->text, "uid 0 pid 4242: "));
	if (strstr(e->text, text) == NULL)
		fail_msg("audit \"%s\" lacks \"%s\"", e->text, text);
}

static const char *
str(json_object *o, const char *key)
{
	json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_string(v);
}

/* Refused: NULL with err holding `want`, nothing pending, no action. */
static void
refused(struct fix *f, const char *to, const char *want, int is_audited)
{
	struct vg_cmd_out out;
	size_t n = f->a.events.n;
	int was_on = f->a.pending.on;

	assert_null(run(f, VG_CTL_FAILOVER, to, 0, &out));
	if (strstr(f->err, want) == NULL)
		fail_msg("refused with \"%s\", wanted \"%s\"", f->err, want);
	assert_false(f->caller.defer);
	assert_int_equal(out.acts.n, 0);
	assert_int_equal(f->a.pending.on, was_on);
	if (is_audited) {
		/* the audit names the command once: "failover: refused: ..." */
		const char *r = strncmp(f->err, "failover", 8) == 0 ?
		    f->err + 8 + (f->err[8] == ':') : f->err;

		audited(f, n, r + strspn(r, " "));
		assert_null(strstr(vg_events_get(&f->a.events,
		    f->a.events.n - 1)->text, "failover: failover"));
	}
	else
		assert_int_equal(f->a.events.n, n);
}

static void
test_failover_refused(void **state)
{
	struct fix *f = fix_new(NULL);
	struct vg_cmd_out out;
	uint64_t client;

	(void)state;
	/* no active known to ask */
	refused(f, "", "failover refused: ", 1);
	refused(f, "n2", "failover refused: ", 1);
	refused(f, "nx", "failover: no node \"nx\"", 1);
	el_elect(&f->a.el[0], &f->now);
	refused(f, "n1", "failover refused: ", 1);
	refused(f, "nx", "failover: no node \"nx\"", 1);
	assert_int_equal(f->a.el[0].state, VG_ST_ACTIVE);
	/* one at a time */
	assert_null(run(f, VG_CTL_FAILOVER, "", 0, &out));
	assert_true(f->caller.defer);
	f->caller.client = 78;
	refused(f, "n3", "failover: one is already under way", 0);
	assert_true(f->a.pending.on);
	assert_true(f->a.pending.client == 77);
	assert_null(vg_cmd_pending(&f->a, f->now, &client));
	fix_free(f);
}

static void
test_failover_answered_at_new_term(void **state)
{
	struct fix *f = fix_new(NULL);
	struct vg_cmd_out out;
	struct vg_acts acts = { .n = 0 };
	struct vg_msg m;
	json_object *r;
	uint64_t client = 0, term;
	size_t n, off = 0;

	(void)state;
	el_elect(&f->a.el[0], &f->now);
	term = f->a.el[0].term;
	n = f->a.events.n;
	assert_null(run(f, VG_CTL_FAILOVER, "n2", 0, &out));
	assert_true(f->caller.defer);
	audited(f, n, "failover: n2");
	/* returned, not carried out: VIPs off, then RELEASE and TRANSFER */
	assert_non_null(act_find(&out.acts, VG_ACT_VIPS_OFF, 0, 0, &off));
	assert_non_null(act_find(&out.acts, VG_ACT_SEND, VG_MSG_RELEASE,
	    off + 1, NULL));
	assert_int_equal(act_find(&out.acts, VG_ACT_SEND, VG_MSG_TRANSFER,
	    off + 1, NULL)->target, 2);
	assert_true(f->a.pending.on);
	assert_int_equal(f->a.pending.from, 1);
	assert_int_equal(f->a.pending.to, 2);

	/* nothing yet, also a heartbeat of n2 in the old term */
	f->now += H;
	assert_null(vg_cmd_pending(&f->a, f->now, &client));
	m = el_msg(2, VG_MSG_HEARTBEAT, 0, term, VG_ST_STANDBY);
	vg_el_input(&f->a.el[0], &m, VG_NS_NEVER, f->now, &acts);
	assert_null(vg_cmd_pending(&f->a, f->now, &client));
	/* n2 active in a newer term */
	f->now += H;
	m = el_msg(2, VG_MSG_HEARTBEAT, 0, term + 1, VG_ST_ACTIVE);
	m.active = 2;
	vg_el_input(&f->a.el[0], &m, VG_NS_NEVER, f->now, &acts);
	assert_int_equal(f->a.el[0].active_id, 2);
	r = vg_cmd_pending(&f->a, f->now, &client);
	assert_non_null(r);
	assert_true(client == 77);
	assert_non_null(strstr(str(r, "message"), "n2 is active (term"));
	assert_non_null(strstr(str(r, "message"), "200.0 ms after"));
	json_object_put(r);
	assert_false(f->a.pending.on);
	assert_null(vg_cmd_pending(&f->a, f->now + VG_MS(100000), &client));
	fix_free(f);
}

static void
test_failover_follower_asks(void **state)
{
	struct fix *f = fix_new(NULL);
	struct vg_cmd_out out;
	struct vg_acts acts = { .n = 0 };
	struct vg_msg m;
	const struct vg_act *t;

	(void)state;
	m = el_msg(2, VG_MSG_HEARTBEAT, 0, 9, VG_ST_ACTIVE);
	m.active = 2;
	vg_el_input(&f->a.el[0], &m, VG_NS_NEVER, f->now, &acts);
	m = el_msg(3, VG_MSG_HEARTBEAT, 0, 9, VG_ST_STANDBY);
	m.active = 2;
	vg_el_input(&f->a.el[0], &m, VG_NS_NEVER, f->now, &acts);
	assert_int_equal(f->a.el[0].active_id, 2);
	assert_null(run(f, VG_CTL_FAILOVER, "n3", 0, &out));
	assert_true(f->caller.defer);
	t = act_find(&out.acts, VG_ACT_SEND, VG_MSG_TRANSFER, 0, NULL);
	assert_non_null(t);
	assert_int_equal(t->target, 2);
	assert_int_equal(f->a.pending.from, 2);
	assert_int_equal(f->a.pending.to, 3);
	fix_free(f);
}

static void
test_failover_timed_out(void **state)
{
	struct fix *f = fix_new(NULL);
	struct vg_cmd_out out;
	json_object *r, *ok;
	uint64_t client = 0;
	vg_ns t0;

	(void)state;
	el_elect(&f->a.el[0], &f->now);
	t0 = f->now;
	assert_null(run(f, VG_CTL_FAILOVER, "", 0, &out));
	assert_int_equal(f->a.pending.deadline,
	    t0 + 2 * f->a.conf->dead_time + VG_MS(1000));
	assert_null(vg_cmd_pending(&f->a, f->a.pending.deadline - 1, &client));
	r = vg_cmd_pending(&f->a, f->a.pending.deadline, &client);
	assert_non_null(r);
	assert_true(client == 77);
	assert_true(json_object_object_get_ex(r, "ok", &ok));
	assert_false(json_object_get_boolean(ok));
	assert_non_null(strstr(str(r, "error"), "did not complete in time"));
	json_object_put(r);
	assert_false(f->a.pending.on);
	fix_free(f);
}

static int
maintenance_file(const struct fix *f)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/maintenance", f->dir);
	return access(p, F_OK) == 0;
}

static void
test_maintenance_persisted_then_applied(void **state)
{
	struct fix *f = fix_new(NULL);
	struct vg_cmd_out out;
	json_object *r;
	size_t n;

	(void)state;
	el_elect(&f->a.el[0], &f->now);
	n = f->a.events.n;
	r = run(f, VG_CTL_MAINTENANCE, "", 1, &out);
	assert_non_null(r);
	assert_string_equal(str(r, "message"),
	    "maintenance on: the VIPs were handed over");
	json_object_put(r);
	audited(f, n, "maintenance on: done");
	assert_true(maintenance_file(f));
	assert_true(f->a.el[0].maintenance);
	assert_non_null(act_find(&out.acts, VG_ACT_VIPS_OFF, 0, 0, NULL));
	assert_non_null(act_find(&out.acts, VG_ACT_SEND, VG_MSG_RELEASE, 0,
	    NULL));

	r = run(f, VG_CTL_MAINTENANCE, "", 0, &out);
	assert_non_null(r);
	assert_string_equal(str(r, "message"), "maintenance off");
	json_object_put(r);
	assert_false(maintenance_file(f));
	assert_false(f->a.el[0].maintenance);
	fix_free(f);
}

static void
test_maintenance_not_persisted_not_applied(void **state)
{
	struct fix *f = fix_new("/tmp/vg_test_command.no/such/dir");
	struct fix *g = fix_new(NULL);
	struct vg_cmd_out out;
	char p[128], q[160];
	size_t n;

	(void)state;
	el_elect(&f->a.el[0], &f->now);
	n = f->a.events.n;
	assert_null(run(f, VG_CTL_MAINTENANCE, "", 1, &out));
	assert_non_null(strstr(f->err, "No such file or directory"));
	audited(f, n, "maintenance on: open ");
	assert_false(f->a.el[0].maintenance);
	assert_int_equal(f->a.el[0].state, VG_ST_ACTIVE);
	assert_int_equal(out.acts.n, 0);

	/* in maintenance; its file cannot be removed: it stays drained */
	json_object_put(run(g, VG_CTL_MAINTENANCE, "", 1, &out));
	assert_true(g->a.el[0].maintenance);
	snprintf(p, sizeof(p), "%s/maintenance", g->dir);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(q, sizeof(q), "%s/keep", p);
	assert_int_equal(mkdir(q, 0700), 0);
	n = g->a.events.n;
	assert_null(run(g, VG_CTL_MAINTENANCE, "", 0, &out));
	assert_non_null(strstr(g->err, "remove "));
	audited(g, n, "maintenance off: remove ");
	assert_true(g->a.el[0].maintenance);
	assert_int_equal(g->a.el[0].state, VG_ST_MAINTENANCE);
	assert_int_equal(out.acts.n, 0);
	assert_int_equal(rmdir(q), 0);
	fix_free(f);
	fix_free(g);
}

static void
test_reload_left_to_the_shell(void **state)
{
	struct fix *f = fix_new(NULL);
	struct vg_cmd_out out;
	struct vg_errs errs;
	json_object *r, *l;
	size_t n = f->a.events.n;

	(void)state;
	assert_null(run(f, VG_CTL_RELOAD, "", 0, &out));
	assert_true(out.reload);
	assert_int_equal(out.acts.n, 0);
	assert_int_equal(f->a.events.n, n);

	r = vg_cmd_reloaded(&f->a, &f->caller, NULL, "");
	assert_non_null(strstr(str(r, "message"), "c.conf reloaded (digest "));
	json_object_put(r);
	audited(f, n, "reload: applied");

	vg_errs_init(&errs);
	vg_errs_add(&errs, "c.conf", 3, "bad thing");
	r = vg_cmd_reloaded(&f->a, &f->caller, &errs, "configuration invalid");
	assert_string_equal(str(r, "error"), "configuration invalid");
	assert_true(json_object_object_get_ex(r, "errors", &l));
	assert_int_equal(json_object_array_length(l), 1);
	assert_string_equal(json_object_get_string(
	    json_object_array_get_idx(l, 0)), "c.conf:3: bad thing");
	json_object_put(r);
	audited(f, n + 1, "reload: configuration invalid");
	fix_free(f);
}

/* config_diff on the fixture's agent (n1): the running file plus `tail`. */
static json_object *
diff(struct fix *f, const char *tail, const char *name)
{
	struct vg_ctl_request req;
	struct vg_cmd_out out;
	char text[4096];
	json_object *r;

	memset(&req, 0, sizeof(req));
	req.cmd = VG_CTL_CONFIG_DIFF;
	req.text_len = (size_t)snprintf(text, sizeof(text), EL3_CONF
	    "state_dir = \"%s\";\n%s", f->dir, tail);
	req.text = text;
	snprintf(req.name, sizeof(req.name), "%s", name);
	f->err[0] = '\0';
	r = vg_cmd_run(&f->a, &req, &f->caller, f->now, &out, f->err,
	    sizeof(f->err));
	assert_int_equal(out.acts.n, 0);
	assert_false(out.reload);
	assert_non_null(r);
	return r;
}

static json_object *
member(json_object *o, const char *key)
{
	json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

static void
test_config_diff(void **state)
{
	struct fix *f = fix_new(NULL);
	uint32_t safety = f->a.conf->safety_digest;
	size_t n = f->a.events.n, i;
	json_object *r, *l, *c;
	int seen = 0;

	(void)state;
	f->caller.role = VG_ROLE_OPERATOR;
	/* the same settings: nothing, the same digest; another file (the
	 * fixture's text was not the file's) */
	r = diff(f, "", "same.conf");
	assert_string_equal(str(r, "kind"), "none");
	assert_int_equal(json_object_array_length(member(r, "changes")), 0);
	assert_string_equal(str(member(r, "digest"), "running"),
	    str(member(r, "digest"), "file"));
	assert_non_null(member(member(r, "file_digest"), "file"));
	assert_null(member(r, "reload"));
	json_object_put(r);

	/* live: a raised epoch, a priority */
	r = diff(f, "epoch = 2;\npreempt = false;\n", "live.conf");
	assert_string_equal(str(r, "kind"), "live");
	assert_string_equal(str(r, "file"), "live.conf");
	assert_int_equal(json_object_get_int(member(member(r, "epoch"),
	    "running")), 0);
	assert_int_equal(json_object_get_int(member(member(r, "epoch"),
	    "file")), 2);
	/* the epoch is not in the digest; preempt is */
	assert_string_not_equal(str(member(r, "digest"), "running"),
	    str(member(r, "digest"), "file"));
	assert_non_null(strstr(str(r, "says"), "the VIPs that stay"));
	assert_null(member(r, "reload"));
	l = member(r, "changes");
	assert_int_equal(json_object_array_length(l), 2);
	for (i = 0; i < 2; i++) {
		c = json_object_array_get_idx(l, i);
		assert_string_equal(str(c, "kind"), "live");
		if (strcmp(str(c, "what"), "preempt") == 0) {
			assert_string_equal(str(c, "from"), "true");
			assert_string_equal(str(c, "to"), "false");
			seen++;
		}
	}
	assert_int_equal(seen, 1);
	json_object_put(r);

	/* safety: named, classed, and a reload here would be refused */
	r = diff(f, "dead_time = 900;\n", "safety.conf");
	assert_string_equal(str(r, "kind"), "safety");
	assert_non_null(strstr(str(r, "says"), "every node must change "
	    "together"));
	c = json_object_array_get_idx(member(r, "changes"), 0);
	assert_string_equal(str(c, "what"), "dead_time");
	assert_string_equal(str(c, "from"), "500 ms");
	assert_string_equal(str(c, "to"), "900 ms");
	assert_string_equal(str(c, "kind"), "safety");
	assert_non_null(strstr(str(r, "reload"), "(dead_time)"));
	json_object_put(r);

	/* invalid for this node: its errors, with the name and line */
	r = diff(f, "dead_time = 0;\n", "bad.conf");
	assert_false(json_object_get_boolean(member(r, "ok")));
	assert_string_equal(str(r, "error"), "bad.conf is not a valid "
	    "configuration for n1");
	l = member(r, "errors");
	assert_int_equal(json_object_array_length(l), 1);
	assert_non_null(strstr(json_object_get_string(
	    json_object_array_get_idx(l, 0)), "bad.conf:10: dead_time = 0"));
	json_object_put(r);

	/* read only: nothing changed, nothing audited */
	assert_int_equal(f->a.conf->safety_digest, safety);
	assert_int_equal(f->a.conf->dead_time, VG_MS(500));
	assert_int_equal(f->a.events.n, n);
	fix_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failover_refused),
		cmocka_unit_test(test_failover_answered_at_new_term),
		cmocka_unit_test(test_failover_follower_asks),
		cmocka_unit_test(test_failover_timed_out),
		cmocka_unit_test(test_maintenance_persisted_then_applied),
		cmocka_unit_test(test_maintenance_not_persisted_not_applied),
		cmocka_unit_test(test_reload_left_to_the_shell),
		cmocka_unit_test(test_config_diff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
