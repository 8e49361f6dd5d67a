/*
 * test_events: the event ring.  Ids grow from 1; get(0) is the oldest kept;
 * past VG_EVENTS_MAX the oldest go; the text is cut to VG_EVENT_TEXT - 1
 * characters; the kinds have names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events.h"

static struct vg_events *
ring_new(void)
{
	struct vg_events *e = malloc(sizeof(*e));

	assert_non_null(e);
	memset(e, 0xa5, sizeof(*e));	/* init must clear everything it needs */
	vg_events_init(e);
	return e;
}

static void
test_empty(void **state)
{
	struct vg_events *e = ring_new();

	(void)state;
	assert_int_equal(e->n, 0);
	assert_null(vg_events_get(e, 0));
	assert_null(vg_events_get(e, 1));
	assert_null(vg_events_get(e, (size_t)-1));
	free(e);
}

static void
test_ids_and_fields(void **state)
{
	struct vg_events *e = ring_new();
	const struct vg_event *a, *b, *g;

	(void)state;
	a = vg_events_add(e, VG_EV_STATE, 111, 1700000000000LL,
	    "standby -> %s", "active");
	assert_non_null(a);
	assert_int_equal(a->id, 1);
	assert_int_equal(a->mono, 111);
	assert_int_equal(a->wall_ms, 1700000000000LL);
	assert_int_equal(a->kind, VG_EV_STATE);
	assert_string_equal(a->text, "standby -> active");
	b = vg_events_add(e, VG_EV_CTL, 222, 1700000000001LL, "failover to %s "
	    "by uid %d", "n2", 1000);
	assert_int_equal(b->id, 2);
	assert_string_equal(b->text, "failover to n2 by uid 1000");
	assert_int_equal(e->n, 2);
	g = vg_events_get(e, 0);
	assert_ptr_equal(g, a);
	assert_int_equal(g->id, 1);
	g = vg_events_get(e, 1);
	assert_int_equal(g->id, 2);
	assert_int_equal(g->kind, VG_EV_CTL);
	assert_int_equal(g->mono, 222);
	assert_null(vg_events_get(e, 2));
	free(e);
}

static void
test_ring_drops_oldest(void **state)
{
	struct vg_events *e = ring_new();
	const struct vg_event *ev;
	size_t i, extra = 537;

	(void)state;
	for (i = 1; i <= VG_EVENTS_MAX; i++) {
		ev = vg_events_add(e, VG_EV_PEER, (vg_ns)i, (int64_t)i, "ev %zu",
		    i);
		assert_int_equal(ev->id, i);
	}
	assert_int_equal(e->n, VG_EVENTS_MAX);
	assert_int_equal(vg_events_get(e, 0)->id, 1);
	assert_int_equal(vg_events_get(e, VG_EVENTS_MAX - 1)->id, VG_EVENTS_MAX);
	assert_null(vg_events_get(e, VG_EVENTS_MAX));

	/* one more: the first goes */
	ev = vg_events_add(e, VG_EV_PEER, 0, 0, "ev %d", VG_EVENTS_MAX + 1);
	assert_int_equal(ev->id, VG_EVENTS_MAX + 1);
	assert_int_equal(e->n, VG_EVENTS_MAX);
	assert_int_equal(vg_events_get(e, 0)->id, 2);
	assert_string_equal(vg_events_get(e, 0)->text, "ev 2");
	assert_int_equal(vg_events_get(e, VG_EVENTS_MAX - 1)->id,
	    VG_EVENTS_MAX + 1);

	/* many more, across the end of the ring more than once */
	for (i = 0; i < extra + 2 * VG_EVENTS_MAX; i++)
		vg_events_add(e, VG_EV_HOOK, 0, 0, "more %zu", i);
	assert_int_equal(e->n, VG_EVENTS_MAX);
	{
		uint64_t last = VG_EVENTS_MAX + 1 + extra + 2 * VG_EVENTS_MAX;

		for (i = 0; i < VG_EVENTS_MAX; i++) {
			ev = vg_events_get(e, i);
			assert_non_null(ev);
			assert_int_equal(ev->id, last - VG_EVENTS_MAX + 1 + i);
		}
		assert_int_equal(e->next_id, last + 1);
	}
	assert_null(vg_events_get(e, VG_EVENTS_MAX));
	free(e);
}

static void
test_get_order_partial(void **state)
{
	struct vg_events *e = ring_new();
	char want[32];
	size_t i;

	(void)state;
	for (i = 0; i < 10; i++)
		vg_events_add(e, (enum vg_event_kind)(i % VG_EV_KIND_MAX),
		    (vg_ns)(100 + i), 0, "n%zu", i);
	for (i = 0; i < 10; i++) {
		const struct vg_event *ev = vg_events_get(e, i);

		assert_non_null(ev);
		assert_int_equal(ev->id, i + 1);
		assert_int_equal(ev->mono, 100 + i);
		assert_int_equal(ev->kind, i % VG_EV_KIND_MAX);
		snprintf(want, sizeof(want), "n%zu", i);
		assert_string_equal(ev->text, want);
	}
	free(e);
}

static void
test_text_truncation(void **state)
{
	struct vg_events *e = ring_new();
	char longer[VG_EVENT_TEXT * 2], exact[VG_EVENT_TEXT];
	const struct vg_event *ev;

	(void)state;
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	ev = vg_events_add(e, VG_EV_CONFIG, 0, 0, "%s", longer);
	assert_int_equal(strlen(ev->text), VG_EVENT_TEXT - 1);
	assert_memory_equal(ev->text, longer, VG_EVENT_TEXT - 1);

	/* VG_EVENT_TEXT - 1 characters fit whole */
	memset(exact, 'y', sizeof(exact) - 1);
	exact[sizeof(exact) - 1] = '\0';
	ev = vg_events_add(e, VG_EV_CONFIG, 0, 0, "%s", exact);
	assert_string_equal(ev->text, exact);

	ev = vg_events_add(e, VG_EV_CONFIG, 0, 0, "%s", "");
	assert_string_equal(ev->text, "");
	/* the cut one is still intact in the ring */
	assert_int_equal(strlen(vg_events_get(e, 0)->text), VG_EVENT_TEXT - 1);
	free(e);
}

static void
test_init_resets(void **state)
{
	struct vg_events *e = ring_new();

	(void)state;
	vg_events_add(e, VG_EV_LEASE, 0, 0, "a");
	vg_events_add(e, VG_EV_LEASE, 0, 0, "b");
	vg_events_init(e);
	assert_int_equal(e->n, 0);
	assert_null(vg_events_get(e, 0));
	assert_int_equal(vg_events_add(e, VG_EV_LEASE, 0, 0, "c")->id, 1);
	free(e);
}

static void
test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(vg_event_kind_name(VG_EV_STATE), "state");
	assert_string_equal(vg_event_kind_name(VG_EV_ELECTION), "election");
	assert_string_equal(vg_event_kind_name(VG_EV_LEASE), "lease");
	assert_string_equal(vg_event_kind_name(VG_EV_VIPS), "vips");
	assert_string_equal(vg_event_kind_name(VG_EV_PEER), "peer");
	assert_string_equal(vg_event_kind_name(VG_EV_HOOK), "hook");
	assert_string_equal(vg_event_kind_name(VG_EV_CTL), "ctl");
	assert_string_equal(vg_event_kind_name(VG_EV_CONFIG), "config");
	assert_string_equal(vg_event_kind_name(VG_EV_KIND_MAX), "invalid");
	assert_string_equal(vg_event_kind_name((enum vg_event_kind)-1),
	    "invalid");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_ids_and_fields),
		cmocka_unit_test(test_ring_drops_oldest),
		cmocka_unit_test(test_get_order_partial),
		cmocka_unit_test(test_text_truncation),
		cmocka_unit_test(test_init_resets),
		cmocka_unit_test(test_kind_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
