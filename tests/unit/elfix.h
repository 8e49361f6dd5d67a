/*
 * elfix: what the tests that need an elected node share: a three-node
 * config (n1 priority 150, n2 120, n3 110, every one a node with one
 * vote), messages from the peers to n1, finding an action in a list, and
 * el_elect: n1 elected through the real protocol on a fake clock
 * (heartbeats of two standbys, their pre-votes and votes granted), and
 * el_fix: n1's election with its config and clock.
 * Include after cmocka.h.
 */
#ifndef VG_ELFIX_H
#define VG_ELFIX_H

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "election.h"
#include "proto.h"

#define EL3_CONF \
	"cluster = \"h\";\n" \
	"auth = \"none\";\n" \
	"interval = 100;\n" \
	"nodes = (\n" \
	"\t{ id = 1; name = \"n1\"; address = \"10.0.0.1\"; priority = 150; },\n" \
	"\t{ id = 2; name = \"n2\"; address = \"10.0.0.2\"; priority = 120; },\n" \
	"\t{ id = 3; name = \"n3\"; address = \"10.0.0.3\"; priority = 110; }\n" \
	");\n"

#define T0	VG_MS(1000000)
#define H	VG_MS(100)

/* The safety digest of EL3_CONF: what its nodes' messages carry. */
static inline uint32_t
el3_digest(void)
{
	static uint32_t d;
	static int done;
	struct vg_errs errs;
	struct vg_conf *c;

	if (!done) {
		vg_errs_init(&errs);
		c = vg_conf_parse(EL3_CONF, "el3.conf", "n1", &errs);
		assert_non_null(c);
		d = c->safety_digest;
		vg_conf_free(c);
		done = 1;
	}
	return d;
}

/* A message of peer `from` (2 or 3) to n1. */
static inline struct vg_msg
el_msg(uint16_t from, uint8_t type, uint16_t flags, uint64_t term, uint8_t st)
{
	struct vg_msg m;

	memset(&m, 0, sizeof(m));
	m.version = VG_VERSION;
	m.type = type;
	m.flags = flags;
	m.sender = from;
	m.target = 1;
	m.state = st;
	m.priority = from == 2 ? 120 : 110;
	m.term = term;
	m.incarnation = 500;
	m.config_digest = el3_digest();
	return m;
}

/* The first act of this type (and message type, for SEND) from index
 * `from` on; *at gets its index. */
static inline const struct vg_act *
act_find(const struct vg_acts *acts, enum vg_act_type t, uint8_t msg_type,
    size_t from, size_t *at)
{
	size_t i;

	for (i = from; i < acts->n; i++)
		if (acts->a[i].type == t && (t != VG_ACT_SEND ||
		    acts->a[i].msg_type == msg_type)) {
			if (at != NULL)
				*at = i;
			return &acts->a[i];
		}
	return NULL;
}

/* Heartbeats from the standbys, pre-votes and votes granted by both, every
 * h/2, until n1 is active (bounded); *now moves on. */
static inline void
el_elect(struct vg_election *el, vg_ns *now)
{
	struct vg_acts acts;
	struct vg_msg m;
	const struct vg_act *rq;
	uint16_t p;
	int i;

	for (i = 0; i < 2000 && el->state != VG_ST_ACTIVE; i++) {
		*now += H / 2;
		acts.n = 0;
		for (p = 2; p <= 3; p++) {
			m = el_msg(p, VG_MSG_HEARTBEAT, 0, el->term,
			    VG_ST_STANDBY);
			vg_el_input(el, &m, VG_NS_NEVER, *now, &acts);
		}
		vg_el_tick(el, *now, &acts);
		while ((rq = act_find(&acts, VG_ACT_SEND, VG_MSG_VOTE_REQUEST,
		    0, NULL)) != NULL) {
			struct vg_act q = *rq;
			struct vg_acts more = { .n = 0 };

			for (p = 2; p <= 3; p++) {
				m = el_msg(p, VG_MSG_VOTE, (q.flags &
				    VG_FLAG_PRE) | VG_FLAG_GRANTED, q.term,
				    VG_ST_STANDBY);
				vg_el_input(el, &m, VG_NS_NEVER, *now, &more);
			}
			acts = more;
		}
	}
	assert_int_equal(el->state, VG_ST_ACTIVE);
	assert_true(el->holding);
}

/* n1 of EL3_CONF, term 7, no vote, at T0 (elfix.h's tests' fixture). */
struct el_fix {
	struct vg_conf		*conf;
	struct vg_election	el;
	vg_ns			now;
};

static inline struct el_fix *
el_fix_new(void)
{
	struct el_fix *f = calloc(1, sizeof(*f));
	struct vg_errs errs;

	assert_non_null(f);
	vg_errs_init(&errs);
	f->conf = vg_conf_parse(EL3_CONF, "el3.conf", "n1", &errs);
	assert_non_null(f->conf);
	f->now = T0;
	vg_el_init(&f->el, f->conf, 7, 0, 42, T0);
	return f;
}

static inline void
el_fix_free(struct el_fix *f)
{
	vg_conf_free(f->conf);
	free(f);
}

#endif
