/*
 * test_metrics: a sample's value in the Prometheus text, short and exact
 * (issue 13: metrics printed 0.44547796899999997 for 445477969 ns).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static void
test_seconds(void **state)
{
	static const struct {
		vg_ns ns;
		const char *want;
	} t[] = {
		{ 445477969, "0.445477969" },
		{ 0, "0" },
		{ 1, "0.000000001" },
		{ 1000000000, "1" },
		{ 1500000000, "1.5" },
		{ 12000100000, "12.0001" },
		{ -500000000, "-0.5" },
		{ -1, "-0.000000001" },
		/* a year of uptime: every ns digit, none invented */
		{ 31536000123456789, "31536000.123456789" },
		{ INT64_MAX, "9223372036.854775807" },
		{ INT64_MIN, "-9223372036.854775808" },
	};
	char b[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(b, 'x', sizeof(b));
		assert_string_equal(vg_metrics_seconds(b, sizeof(b), t[i].ns),
		    t[i].want);
	}
	/* truncated, never overrun */
	memset(b, 'x', sizeof(b));
	assert_string_equal(vg_metrics_seconds(b, 5, 445477969), "0.44");
	assert_int_equal(b[5], 'x');
}

static void
test_number(void **state)
{
	static const struct {
		double v;
		const char *want;
	} t[] = {
		{ 0, "0" },
		{ 3, "3" },
		{ 18446744073709549568.0, "1.84467441e+19" },	/* > 2^53 */
		{ 9007199254740991.0, "9007199254740991" },	/* 2^53 - 1 */
		{ 445477969 / 1e9, "0.445477969" },
		{ 0.1 + 0.2, "0.3" },
		{ -2.5, "-2.5" },
	};
	char b[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(vg_metrics_number(b, sizeof(b), t[i].v),
		    t[i].want);
	assert_string_equal(vg_metrics_number(b, sizeof(b), NAN), "NaN");
	assert_string_equal(vg_metrics_number(b, sizeof(b), INFINITY), "+Inf");
	assert_string_equal(vg_metrics_number(b, sizeof(b), -INFINITY), "-Inf");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seconds),
		cmocka_unit_test(test_number),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
