/*
 * test_track: the pure part of the health checks.  fall/rise counting
 * (a check starts up; it goes down only at the fall-th failure in a row,
 * up again only at the rise-th success in a row; the counters) and the
 * effective priority (weights subtract, never below 1; a failing check of
 * weight 0 is a fault).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "track.h"

/* As the runner starts each check: up, no history. */
static struct vg_track_state
fresh(void)
{
	struct vg_track_state t;

	memset(&t, 0, sizeof(t));
	t.up = 1;
	return t;
}

/* ---- fall and rise */

static void
test_fall_3(void **state)
{
	struct vg_track_state t = fresh();

	(void)state;
	assert_int_equal(vg_track_note(&t, 0, 3, 2), 0);
	assert_int_equal(t.up, 1);
	assert_int_equal(t.fails, 1);
	assert_int_equal(vg_track_note(&t, 0, 3, 2), 0);
	assert_int_equal(t.up, 1);
	assert_int_equal(t.fails, 2);
	/* the third in a row: down, and reported as a change */
	assert_int_equal(vg_track_note(&t, 0, 3, 2), 1);
	assert_int_equal(t.up, 0);
	assert_int_equal(t.fails, 3);
	/* more failures change nothing more */
	assert_int_equal(vg_track_note(&t, 0, 3, 2), 0);
	assert_int_equal(t.up, 0);
	assert_int_equal(t.runs, 4);
	assert_int_equal(t.failures, 4);
	assert_int_equal(t.oks, 0);
}

static void
test_success_resets_fall(void **state)
{
	struct vg_track_state t = fresh();
	int i;

	(void)state;
	/* fail, fail, ok, fail, fail, ok ...: never three in a row */
	for (i = 0; i < 10; i++) {
		assert_int_equal(vg_track_note(&t, 0, 3, 2), 0);
		assert_int_equal(vg_track_note(&t, 0, 3, 2), 0);
		assert_int_equal(t.fails, 2);
		assert_int_equal(vg_track_note(&t, 1, 3, 2), 0);
		assert_int_equal(t.fails, 0);
		assert_int_equal(t.oks, 1);
		assert_int_equal(t.up, 1);
	}
	assert_int_equal(t.runs, 30);
	assert_int_equal(t.failures, 20);
	/* and then three in a row do it */
	assert_int_equal(vg_track_note(&t, 0, 3, 2), 0);
	assert_int_equal(vg_track_note(&t, 0, 3, 2), 0);
	assert_int_equal(vg_track_note(&t, 0, 3, 2), 1);
	assert_int_equal(t.up, 0);
}

static void
test_rise_2(void **state)
{
	struct vg_track_state t = fresh();

	(void)state;
	assert_int_equal(vg_track_note(&t, 0, 1, 2), 1);	/* fall = 1 */
	assert_int_equal(t.up, 0);
	assert_int_equal(vg_track_note(&t, 1, 1, 2), 0);
	assert_int_equal(t.up, 0);
	assert_int_equal(t.oks, 1);
	assert_int_equal(t.fails, 0);
	/* a failure in between: the count starts again */
	assert_int_equal(vg_track_note(&t, 0, 1, 2), 0);
	assert_int_equal(t.up, 0);
	assert_int_equal(t.oks, 0);
	assert_int_equal(vg_track_note(&t, 1, 1, 2), 0);
	assert_int_equal(t.up, 0);
	/* the second success in a row: up */
	assert_int_equal(vg_track_note(&t, 1, 1, 2), 1);
	assert_int_equal(t.up, 1);
	assert_int_equal(t.oks, 2);
	assert_int_equal(vg_track_note(&t, 1, 1, 2), 0);
	assert_int_equal(t.up, 1);
	assert_int_equal(t.runs, 6);
	assert_int_equal(t.failures, 2);
}

static void
test_fall_rise_1(void **state)
{
	struct vg_track_state t = fresh();
	int i;

	(void)state;
	/* the defaults: every result counts at once */
	for (i = 0; i < 5; i++) {
		assert_int_equal(vg_track_note(&t, 0, 1, 1), 1);
		assert_int_equal(t.up, 0);
		assert_int_equal(vg_track_note(&t, 1, 1, 1), 1);
		assert_int_equal(t.up, 1);
	}
	/* a success while up is no change */
	assert_int_equal(vg_track_note(&t, 1, 1, 1), 0);
	assert_int_equal(t.runs, 11);
	assert_int_equal(t.failures, 5);
}

static void
test_large_fall(void **state)
{
	struct vg_track_state t = fresh();
	unsigned i;

	(void)state;
	for (i = 1; i < 1000; i++)
		assert_int_equal(vg_track_note(&t, 0, 1000, 1000), 0);
	assert_int_equal(t.up, 1);
	assert_int_equal(vg_track_note(&t, 0, 1000, 1000), 1);
	assert_int_equal(t.up, 0);
	for (i = 1; i < 1000; i++)
		assert_int_equal(vg_track_note(&t, 1, 1000, 1000), 0);
	assert_int_equal(t.up, 0);
	assert_int_equal(vg_track_note(&t, 1, 1000, 1000), 1);
	assert_int_equal(t.up, 1);
}

/* ---- the effective priority */

#define CONF_HEAD \
	"cluster = \"t\";\n" \
	"auth = \"none\";\n" \
	"nodes = (\n" \
	"\t{ id = 1; name = \"a\"; address = \"10.0.0.1\"; priority = %d; },\n" \
	"\t{ id = 2; name = \"b\"; address = \"10.0.0.2\"; }\n" \
	");\n" \
	"track = (\n" \
	"\t{ name = \"w10\"; command = \"true\"; weight = 10; },\n" \
	"\t{ name = \"w25\"; command = \"true\"; weight = 25; },\n" \
	"\t{ name = \"crit\"; command = \"true\"; weight = 0; },\n" \
	"\t{ name = \"w254\"; command = \"true\"; weight = 254; }\n" \
	");\n"

static struct vg_conf *
conf_prio(int prio)
{
	struct vg_errs errs;
	struct vg_conf *c;
	char text[2048];
	size_t i;

	snprintf(text, sizeof(text), CONF_HEAD, prio);
	vg_errs_init(&errs);
	c = vg_conf_parse(text, "t.conf", "a", &errs);
	if (c == NULL) {
		for (i = 0; i < errs.n; i++)
			print_message("    error: %s\n", errs.msg[i]);
		fail_msg("a valid config was refused");
	}
	assert_int_equal(c->n_tracks, 4);
	assert_int_equal(c->tracks[0].weight, 10);
	assert_int_equal(c->tracks[2].weight, 0);
	return c;
}

static void
states(struct vg_track_state st[4], int up0, int up1, int up2, int up3)
{
	memset(st, 0, 4 * sizeof(st[0]));
	st[0].up = up0;
	st[1].up = up1;
	st[2].up = up2;
	st[3].up = up3;
}

static void
test_priority_all_up(void **state)
{
	struct vg_conf *c = conf_prio(150);
	struct vg_track_state st[4];
	int fault = -1;

	(void)state;
	states(st, 1, 1, 1, 1);
	assert_int_equal(vg_track_priority(c, 0, st, &fault), 150);
	assert_int_equal(fault, 0);
	vg_conf_free(c);
}

static void
test_priority_weights_subtract(void **state)
{
	struct vg_conf *c = conf_prio(150);
	struct vg_track_state st[4];
	int fault = -1;

	(void)state;
	states(st, 0, 1, 1, 1);
	assert_int_equal(vg_track_priority(c, 0, st, &fault), 140);
	assert_int_equal(fault, 0);
	states(st, 1, 0, 1, 1);
	assert_int_equal(vg_track_priority(c, 0, st, &fault), 125);
	assert_int_equal(fault, 0);
	states(st, 0, 0, 1, 1);
	assert_int_equal(vg_track_priority(c, 0, st, &fault), 115);
	assert_int_equal(fault, 0);
	vg_conf_free(c);
}

static void
test_priority_clamps_at_1(void **state)
{
	struct vg_conf *c = conf_prio(150);
	struct vg_conf *c30 = conf_prio(36);
	struct vg_track_state st[4];
	int fault = -1;

	(void)state;
	states(st, 1, 1, 1, 0);		/* 150 - 254 */
	assert_int_equal(vg_track_priority(c, 0, st, &fault), 1);
	assert_int_equal(fault, 0);
	states(st, 0, 0, 1, 0);		/* 150 - 289 */
	assert_int_equal(vg_track_priority(c, 0, st, &fault), 1);
	/* 36 - 35 = 1 exactly, 36 - 25 = 11 */
	states(st, 0, 0, 1, 1);
	assert_int_equal(vg_track_priority(c30, 0, st, &fault), 1);
	states(st, 1, 0, 1, 1);
	assert_int_equal(vg_track_priority(c30, 0, st, &fault), 11);
	vg_conf_free(c);
	vg_conf_free(c30);
}

static void
test_priority_weight0_is_fault(void **state)
{
	struct vg_conf *c = conf_prio(150);
	struct vg_track_state st[4];
	int fault = 0;

	(void)state;
	states(st, 1, 1, 0, 1);
	/* a fault leaves the priority as it is */
	assert_int_equal(vg_track_priority(c, 0, st, &fault), 150);
	assert_int_equal(fault, 1);
	states(st, 0, 1, 0, 1);
	assert_int_equal(vg_track_priority(c, 0, st, &fault), 140);
	assert_int_equal(fault, 1);
	/* back up: no fault, *fault is reset */
	states(st, 1, 1, 1, 1);
	assert_int_equal(vg_track_priority(c, 0, st, &fault), 150);
	assert_int_equal(fault, 0);
	vg_conf_free(c);
}

static void
test_priority_no_tracks(void **state)
{
	static const char text[] =
	    "cluster = \"t\";\nauth = \"none\";\nnodes = (\n"
	    "\t{ id = 1; name = \"a\"; address = \"10.0.0.1\"; priority = 255; }\n"
	    ");\n";
	struct vg_errs errs;
	struct vg_conf *c;
	int fault = 1;

	(void)state;
	vg_errs_init(&errs);
	c = vg_conf_parse(text, "t.conf", "a", &errs);
	assert_non_null(c);
	assert_int_equal(c->n_tracks, 0);
	assert_int_equal(vg_track_priority(c, 0, NULL, &fault), 255);
	assert_int_equal(fault, 0);
	vg_conf_free(c);
}

/* The config side of a check: the defaults and what the settings give. */
static void
test_track_conf(void **state)
{
	static const char text[] =
	    "cluster = \"t\";\nauth = \"none\";\nnodes = (\n"
	    "\t{ id = 1; name = \"a\"; address = \"10.0.0.1\"; }\n"
	    ");\n"
	    "track = (\n"
	    "\t{ name = \"d\"; command = \"true\"; },\n"
	    "\t{ name = \"x\"; command = \"curl -fs http://127.0.0.1/\"; "
	    "interval = 2000; timeout = 1500; fall = 3; rise = 2; weight = 20; }\n"
	    ");\n";
	struct vg_errs errs;
	struct vg_conf *c;

	(void)state;
	vg_errs_init(&errs);
	c = vg_conf_parse(text, "t.conf", "a", &errs);
	assert_non_null(c);
	assert_int_equal(c->n_tracks, 2);
	assert_string_equal(c->tracks[0].name, "d");
	assert_int_equal(c->tracks[0].interval, VG_MS(1000));
	assert_int_equal(c->tracks[0].timeout, VG_MS(1000));
	assert_int_equal(c->tracks[0].fall, 1);
	assert_int_equal(c->tracks[0].rise, 1);
	assert_int_equal(c->tracks[0].weight, 0);
	assert_string_equal(c->tracks[1].command, "curl -fs http://127.0.0.1/");
	assert_int_equal(c->tracks[1].interval, VG_MS(2000));
	assert_int_equal(c->tracks[1].timeout, VG_MS(1500));
	assert_int_equal(c->tracks[1].fall, 3);
	assert_int_equal(c->tracks[1].rise, 2);
	assert_int_equal(c->tracks[1].weight, 20);
	assert_int_equal(c->tracks[1].line, 8);
	vg_conf_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fall_3),
		cmocka_unit_test(test_success_resets_fall),
		cmocka_unit_test(test_rise_2),
		cmocka_unit_test(test_fall_rise_1),
		cmocka_unit_test(test_large_fall),
		cmocka_unit_test(test_priority_all_up),
		cmocka_unit_test(test_priority_weights_subtract),
		cmocka_unit_test(test_priority_clamps_at_1),
		cmocka_unit_test(test_priority_weight0_is_fault),
		cmocka_unit_test(test_priority_no_tracks),
		cmocka_unit_test(test_track_conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
