/*
 * test_keeper: the keeper's timing (pure) and the configuration check that
 * goes with it.  The VIPs must be off by the deadline d plus the margin m:
 * the removal starts a removal batch before d; an add is admitted only if
 * it, a removal and m fit before d; the batch times start at the plan for
 * the VIP count, rise to 1.5 times a slow batch at once and fall back
 * slowly; and a configuration whose VIPs cannot be added and removed with
 * two intervals of the lease to spare is refused with the dead_time it
 * needs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define FILE_NAME "keeper.conf"
#include "confcheck.h"
#include "keeper.h"

#define US(x)	((vg_ns)(x) * VG_NS_PER_US)

static void
test_plan_from_count(void **state)
{
	struct vg_ktime kt;

	(void)state;
	vg_ktime_init(&kt, VG_MS(10) / 4, 1000);
	assert_int_equal(kt.margin, US(2500));
	assert_int_equal(kt.add, VG_VIP_BATCH_NS + 1000 * VG_VIP_ADD_NS);
	assert_int_equal(kt.del, VG_VIP_BATCH_NS + 1000 * VG_VIP_DEL_NS);
	assert_int_equal(kt.add, vg_conf_batch(1000, 1));
	/* the removal starts a removal batch before the deadline */
	assert_int_equal(vg_ktime_remove_at(&kt, VG_MS(100)),
	    VG_MS(100) - kt.del);
}

static void
test_add_admitted_only_if_all_fits(void **state)
{
	struct vg_ktime kt;
	vg_ns d = VG_MS(100), last;

	(void)state;
	vg_ktime_init(&kt, US(2500), 1);
	last = d - kt.add - kt.del - kt.margin;	/* the last moment */
	assert_true(vg_ktime_may_add(&kt, d, last));
	assert_false(vg_ktime_may_add(&kt, d, last + 1));
	assert_false(vg_ktime_may_add(&kt, d, d - kt.margin));	/* the old rule's
								 * last moment */
	assert_false(vg_ktime_may_add(&kt, d, d));
	/* an add admitted at the last moment ends, and a removal after it
	 * ends, by d - m: before the deadline, with m to spare */
	assert_true(last + kt.add + kt.del <= d - kt.margin);
}

static void
test_slow_batch_raises_then_decays(void **state)
{
	struct vg_ktime kt;
	vg_ns plan, prev;
	int i;

	(void)state;
	vg_ktime_init(&kt, US(250), 100);
	plan = kt.del;
	/* a fast batch does not go below the plan */
	vg_ktime_measured(&kt, 0, US(10));
	assert_int_equal(kt.del, plan);
	/* a slow one raises it at once to 1.5 times what it took */
	vg_ktime_measured(&kt, 0, VG_MS(20));
	assert_int_equal(kt.del, VG_MS(30));
	assert_int_equal(kt.add, vg_conf_batch(100, 1));	/* the other stays */
	/* then fast ones bring it back, an eighth of the way each */
	prev = kt.del;
	vg_ktime_measured(&kt, 0, US(10));
	assert_int_equal(kt.del, prev - (prev - plan) / 8);
	for (i = 0; i < 200; i++) {
		prev = kt.del;
		vg_ktime_measured(&kt, 0, US(10));
		assert_true(kt.del <= prev && kt.del >= plan);
	}
	assert_true(kt.del - plan < US(10));
	/* a bigger batch raises the add's expectation, never the removal's */
	vg_ktime_measured(&kt, 1, VG_MS(8));
	assert_int_equal(kt.add, VG_MS(12));
}

/* A config with n VIPs on eth0 at interval h, dead_time d (ms). */
static char *
vips_conf(size_t n, int h, int d)
{
	size_t cap = 512 + n * 64, len;
	char *t = malloc(cap);
	size_t i;

	assert_non_null(t);
	len = (size_t)snprintf(t, cap, "cluster = \"k\";\ninterval = %d;\n"
	    "dead_time = %d;\nauth = \"none\";\nnodes = (\n"
	    "\t{ id = 1; name = \"n1\"; address = \"198.18.0.1\"; },\n"
	    "\t{ id = 2; name = \"n2\"; address = \"198.18.0.2\"; },\n"
	    "\t{ id = 3; name = \"n3\"; address = \"198.18.0.3\"; }\n);\n"
	    "vips = (\n", h, d);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(t + len, cap - len, "\t{ address = "
		    "\"198.18.%zu.%zu/16\"; interface = \"eth0\"; }%s\n",
		    10 + i / 250, 1 + i % 250, i + 1 < n ? "," : "");
	snprintf(t + len, cap - len, ");\n");
	return t;
}

static void
test_config_fits_batches(void **state)
{
	struct vg_conf *c;
	char *t;

	(void)state;
	/* 1 VIP at the shortest lease that is allowed at all: fits */
	t = vips_conf(1, 10, 30);
	c = parse_ok(t, "n1");
	vg_conf_free(c);
	free(t);
	/* 1000 VIPs at interval 10 ms and dead_time 30 ms (lease 26.9 ms):
	 * 35.4 ms of batches do not fit; the error says what would */
	t = vips_conf(1000, 10, 30);
	expect_one_error(t, "n1", 3, "1000 VIPs take about 35.4 ms to add "
	    "and remove");
	expect_one_error(t, "n1", 3, "dead_time must be at least 60 ms");
	free(t);
	/* ... and with that dead_time they do */
	t = vips_conf(1000, 10, 60);
	c = parse_ok(t, "n1");
	assert_true(c->lease - vg_conf_batch(1000, 1) -
	    vg_conf_batch(1000, 0) >= 2 * c->interval);
	vg_conf_free(c);
	free(t);
	t = vips_conf(1000, 10, 59);
	expect_one_error(t, "n1", 3, "dead_time must be at least 60 ms");
	free(t);
	/* at interval 100 ms, 1000 VIPs fit in the default dead_time */
	t = vips_conf(1000, 100, 500);
	c = parse_ok(t, "n1");
	vg_conf_free(c);
	free(t);
}

/* The shared page only ever raises the deadline of a lease the keeper
 * has; a keeper without a lease (term 0: dropped, or never given one)
 * ignores it, and the 0 the agent stores before a message changes
 * nothing. */
static void
test_share_only_raises(void **state)
{
	(void)state;
	assert_int_equal(vg_kshare_apply(7, VG_MS(100), VG_MS(130)),
	    VG_MS(130));
	assert_int_equal(vg_kshare_apply(7, VG_MS(100), VG_MS(90)),
	    VG_MS(100));
	assert_int_equal(vg_kshare_apply(7, VG_MS(100), 0), VG_MS(100));
	assert_int_equal(vg_kshare_apply(0, 0, VG_MS(130)), 0);
	assert_int_equal(vg_kshare_apply(0, VG_MS(100), VG_MS(130)),
	    VG_MS(100));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_from_count),
		cmocka_unit_test(test_add_admitted_only_if_all_fits),
		cmocka_unit_test(test_slow_batch_raises_then_decays),
		cmocka_unit_test(test_config_fits_batches),
		cmocka_unit_test(test_share_only_raises),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
