/*
 * test_proto: the wire format.  Every type's length, encode and decode
 * round trips, what encode refuses, the byte offsets of the diagram in
 * proto.h (and the mac over them), version 1 (no epoch, no file digest)
 * and version 2 (no groups) still read and written, version 3's heartbeat
 * sections and group bytes (every length, every field out of range, the
 * group views of what decodes), a decode that fails leaves the output
 * alone, and the names of drops, types and states.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/filter.h>
#include <sodium.h>

#include "rxfix.h"

/* ---- proto */

static uint64_t
be64_at(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}


static void
test_proto_len(void **state)
{
	uint8_t t;

	(void)state;
	assert_int_equal(VG_VERSION, 4);
	assert_int_equal(VG_VERSION_MIN, 1);
	/* version 4 is version 3's layout: only a TRANSFER's flag is new */
	for (t = 1; t <= VG_MSG_TYPE_MAX; t++)
		assert_int_equal(vg_proto_len_v(4, t), vg_proto_len_v(3, t));
	/* version 3: a count byte after echo_delay, a group byte elsewhere */
	assert_int_equal(vg_proto_len(VG_MSG_HEARTBEAT), 66 + 4 + 1 + 16);
	assert_int_equal(vg_proto_len(VG_MSG_VOTE_REQUEST), 66 + 1 + 16);
	assert_int_equal(vg_proto_len(VG_MSG_VOTE), 66 + 2 + 1 + 16);
	assert_int_equal(vg_proto_len(VG_MSG_RELEASE), 66 + 1 + 16);
	assert_int_equal(vg_proto_len(VG_MSG_TRANSFER), 66 + 1 + 16);
	assert_int_equal(vg_proto_len(0), 0);
	assert_int_equal(vg_proto_len(VG_MSG_TYPE_MAX + 1), 0);
	assert_int_equal(vg_proto_len(255), 0);
	/* the push types' bodies are version 2's */
	for (t = VG_MSG_CONF_OFFER; t <= VG_MSG_CONF_FETCH; t++) {
		assert_int_not_equal(vg_proto_len_v(2, t), 0);
		assert_int_equal(vg_proto_len_v(3, t), vg_proto_len_v(2, t));
		assert_int_equal(vg_proto_len_v(1, t), 0);
	}
	/* version 2: the 66-byte header, no group bytes */
	assert_int_equal(vg_proto_len_v(2, VG_MSG_HEARTBEAT), 66 + 4 + 16);
	assert_int_equal(vg_proto_len_v(2, VG_MSG_VOTE), 66 + 2 + 16);
	assert_int_equal(vg_proto_len_v(2, VG_MSG_RELEASE), 66 + 16);
	/* version 1: the 58-byte header */
	assert_int_equal(vg_proto_len_v(1, VG_MSG_HEARTBEAT), 58 + 4 + 16);
	assert_int_equal(vg_proto_len_v(1, VG_MSG_VOTE), 58 + 2 + 16);
	assert_int_equal(vg_proto_len_v(0, VG_MSG_VOTE), 0);
	assert_int_equal(vg_proto_len_v(VG_VERSION + 1, VG_MSG_VOTE), 0);
	assert_int_equal(vg_proto_len_v(1, 0), 0);

	/* heartbeats by groups: 22 bytes a section after the first */
	assert_int_equal(vg_proto_len_hb(3, 1), 87);
	assert_int_equal(vg_proto_len_hb(3, 2), 109);
	assert_int_equal(vg_proto_len_hb(3, 4), 153);
	assert_int_equal(vg_proto_len_hb(3, VG_MAX_GROUPS), 417);
	assert_int_equal(vg_proto_len_hb(3, VG_MAX_GROUPS + 1), 0);
	assert_int_equal(vg_proto_len_hb(3, 0), 0);
	assert_int_equal(vg_proto_len_hb(2, 1), 86);
	assert_int_equal(vg_proto_len_hb(2, 2), 0);
	assert_int_equal(vg_proto_len_hb(1, 1), 78);
	assert_int_equal(vg_proto_len_hb(1, 2), 0);
	assert_int_equal(vg_proto_len_hb(4, VG_MAX_GROUPS), 417);
	assert_int_equal(vg_proto_len_hb(VG_VERSION + 1, 1), 0);
	assert_int_equal(vg_proto_len_hb(0, 1), 0);
	/* the largest heartbeat; the largest datagram is still a chunk */
	assert_int_equal(VG_MAX_PKT, vg_proto_len_hb(VG_VERSION, VG_MAX_GROUPS));
	assert_int_equal(VG_MAX_DGRAM, vg_proto_len(VG_MSG_CONF_CHUNK));
	assert_true(VG_MAX_DGRAM >= VG_MAX_PKT);
}

/* What assert_msg_equal leaves out: the group, the heartbeat's groups. */
static void
assert_groups_equal(const struct vg_msg *a, const struct vg_msg *b)
{
	size_t i;

	assert_int_equal(a->group, b->group);
	assert_int_equal(a->n_groups, b->n_groups);
	for (i = 0; i + 1 < a->n_groups; i++) {
		assert_int_equal(a->grp[i].state, b->grp[i].state);
		assert_int_equal(a->grp[i].priority, b->grp[i].priority);
		assert_int_equal(a->grp[i].flags, b->grp[i].flags);
		assert_int_equal(a->grp[i].active, b->grp[i].active);
		assert_true(a->grp[i].term == b->grp[i].term);
		assert_true(a->grp[i].echo_seq == b->grp[i].echo_seq);
	}
}

static void
test_roundtrip_every_type(void **state)
{
	static const struct {
		uint8_t		type;
		uint16_t	flags;
	} types[] = {
		{ VG_MSG_HEARTBEAT, VG_FLAG_LAPSED },
		{ VG_MSG_HEARTBEAT, VG_FLAG_HOLDING },
		{ VG_MSG_VOTE_REQUEST, VG_FLAG_PRE },
		{ VG_MSG_VOTE, VG_FLAG_PRE | VG_FLAG_GRANTED },
		{ VG_MSG_RELEASE, 0 },
		{ VG_MSG_TRANSFER, 0 },
	};
	uint8_t buf[VG_MAX_PKT + 8], zero[VG_MAC_LEN];
	struct vg_msg m, d;
	size_t i, len;
	uint8_t v;

	(void)state;
	memset(zero, 0, sizeof(zero));
	for (v = VG_VERSION_MIN; v <= VG_VERSION; v++)
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		memset(&m, 0, sizeof(m));
		m.version = v;
		m.type = types[i].type;
		m.flags = types[i].flags;
		m.cluster_id = 0xf1e2d3c4u;
		m.sender = 0xfffe;
		m.target = 0x8182;
		m.state = VG_ST_NO_QUORUM;
		m.priority = 255;
		m.term = 0x0102030405060708ULL;
		m.incarnation = 0xf112131415161718ULL;
		m.seq = 0x2122232425262728ULL;
		m.echo_seq = 0xffffffffffffffffULL;
		m.active = 0x4142;
		m.config_digest = 0x51525354u;
		m.digest_parts = 0x9192;
		if (v >= 2) {
			m.epoch = 0xfffffffeu;
			m.conf_digest = 0xc1c2c3c4u;
		}
		m.n_groups = 1;
		if (m.type == VG_MSG_HEARTBEAT)
			m.u.hb.echo_delay_us = 0x91929394u;
		else {
			if (m.type == VG_MSG_VOTE)
				m.u.vote.reason = 0xa1a2;
			if (v >= 3)
				m.group = VG_MAX_GROUPS - 1;
		}
		memset(buf, 0xee, sizeof(buf));
		len = vg_proto_encode(&m, buf, sizeof(buf));
		assert_int_equal(len, vg_proto_len_v(v, m.type));
		/* the MAC is left zero for auth; nothing written past len */
		assert_memory_equal(buf + len - VG_MAC_LEN, zero, VG_MAC_LEN);
		assert_int_equal(buf[len], 0xee);
		memset(&d, 0x5a, sizeof(d));
		assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
		assert_msg_equal(&d, &m);
		assert_groups_equal(&d, &m);
		if (m.type != VG_MSG_HEARTBEAT && m.type != VG_MSG_VOTE)
			assert_int_equal(d.u.hb.echo_delay_us, 0);
	}
}

/* A heartbeat of n groups, each group's fields its own. */
static struct vg_msg
hb_groups(size_t n)
{
	struct vg_msg m;
	size_t i;

	memset(&m, 0, sizeof(m));
	m.version = VG_VERSION;
	m.type = VG_MSG_HEARTBEAT;
	m.flags = VG_FLAG_HOLDING;
	m.cluster_id = 0x0c0c0c0cu;
	m.sender = 2;
	m.target = 1;
	m.state = VG_ST_STANDBY;
	m.priority = 100;
	m.term = 7;
	m.incarnation = 0x1122334455667788ULL;
	m.seq = 42;
	m.echo_seq = 41;
	m.active = 3;
	m.config_digest = 0xabcdef01u;
	m.epoch = 5;
	m.conf_digest = 0x10203040u;
	m.u.hb.echo_delay_us = 1234;
	m.n_groups = (uint8_t)n;
	for (i = 0; i + 1 < n; i++) {
		struct vg_msg_group *g = &m.grp[i];

		g->state = (uint8_t)(1 + i % VG_ST_MAX);
		g->priority = (uint8_t)(200 - i);
		g->flags = i % 4 == 0 ? 0 : i % 4 == 1 ? VG_FLAG_LAPSED :
		    i % 4 == 2 ? VG_FLAG_HOLDING :
		    VG_FLAG_LAPSED | VG_FLAG_HOLDING;
		g->term = 0xa0a0a0a000000000ULL + i;
		g->active = (uint16_t)(0x100 + i);
		g->echo_seq = 0xe0e0e0e0e0e0e000ULL + i;
	}
	return m;
}

/* Version 3 heartbeats of 1, 2, 4 and 16 groups: lengths, the sections'
 * bytes as drawn in proto.h, decode and back. */
static void
test_roundtrip_groups(void **state)
{
	static const size_t ns[] = { 1, 2, 4, VG_MAX_GROUPS };
	uint8_t buf[VG_MAX_PKT + 8], again[VG_MAX_PKT + 8];
	struct vg_msg m, d;
	size_t k, i, len;

	(void)state;
	for (k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		m = hb_groups(ns[k]);
		memset(buf, 0xee, sizeof(buf));
		len = vg_proto_encode(&m, buf, sizeof(buf));
		assert_int_equal(len, 87 + 22 * (ns[k] - 1));
		assert_int_equal(len, vg_proto_len_hb(3, ns[k]));
		assert_int_equal(buf[len], 0xee);
		assert_int_equal(buf[4], VG_VERSION);
		assert_memory_equal(buf + 66, "\x00\x00\x04\xd2", 4);
		assert_int_equal(buf[70], ns[k] - 1);
		for (i = 1; i < ns[k]; i++) {
			const uint8_t *p = buf + 71 + 22 * (i - 1);
			const struct vg_msg_group *g = &m.grp[i - 1];

			assert_int_equal(p[0], i);
			assert_int_equal(p[1], g->state);
			assert_int_equal(p[2], g->priority);
			assert_int_equal(p[3],
			    (g->flags & VG_FLAG_LAPSED ? 1 : 0) |
			    (g->flags & VG_FLAG_HOLDING ? 2 : 0));
			assert_true(be64_at(p + 4) == g->term);
			assert_int_equal((p[12] << 8) | p[13], g->active);
			assert_true(be64_at(p + 14) == g->echo_seq);
		}
		memset(&d, 0x5a, sizeof(d));
		assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
		assert_msg_equal(&d, &m);
		assert_groups_equal(&d, &m);
		assert_int_equal(d.group, 0);
		assert_int_equal(vg_proto_encode(&d, again, sizeof(again)), len);
		assert_memory_equal(again, buf, len);
	}
	/* n_groups 0 is one group */
	m = hb_groups(1);
	m.n_groups = 0;
	assert_int_equal(vg_proto_encode(&m, buf, sizeof(buf)), 87);
	assert_int_equal(buf[70], 0);
	assert_int_equal(vg_proto_decode(buf, 87, &d), VG_DROP_NONE);
	assert_int_equal(d.n_groups, 1);
}

/*
 * VG_FLAG_GRANTED on a TRANSFER (the sender's vote in term + 1) is version
 * 4's: it goes through in 4; a version 3 peer is sent the TRANSFER without
 * it (it would refuse the bit), and refuses it on the wire; no other type
 * but VOTE takes the bit.
 */
static void
test_transfer_vote_flag(void **state)
{
	static const uint8_t others[] = { VG_MSG_HEARTBEAT,
	    VG_MSG_VOTE_REQUEST, VG_MSG_RELEASE };
	uint8_t buf[VG_MAX_PKT];
	struct vg_msg m, d;
	size_t len, i;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.version = VG_VERSION;
	m.type = VG_MSG_TRANSFER;
	m.flags = VG_FLAG_GRANTED;
	m.cluster_id = 1;
	m.sender = 1;
	m.target = 2;
	m.state = VG_ST_STANDBY;
	m.term = 9;
	m.incarnation = 5;
	m.seq = 77;
	m.echo_seq = 31;
	m.active = 2;
	m.group = 3;
	len = vg_proto_encode(&m, buf, sizeof(buf));
	assert_int_equal(len, 66 + 1 + 16);
	assert_int_equal(buf[4], 4);
	assert_int_equal((buf[6] << 8) | buf[7], VG_FLAG_GRANTED);
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
	assert_int_equal(d.flags, VG_FLAG_GRANTED);
	assert_int_equal(d.type, VG_MSG_TRANSFER);
	assert_true(d.echo_seq == 31 && d.term == 9 && d.group == 3);
	/* the same bytes said to be version 3: the bit is unknown there */
	buf[4] = 3;
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_MALFORMED);
	/* encoded for a version 3 peer: without it, and accepted */
	m.version = 3;
	assert_int_equal(vg_proto_encode(&m, buf, sizeof(buf)), len);
	assert_int_equal((buf[6] << 8) | buf[7], 0);
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
	assert_int_equal(d.flags, 0);
	/* GRANTED on another type, version 4: malformed */
	for (i = 0; i < sizeof(others); i++) {
		m.version = VG_VERSION;
		m.type = others[i];
		m.flags = 0;
		len = vg_proto_encode(&m, buf, sizeof(buf));
		assert_true(len > 0);
		buf[7] |= VG_FLAG_GRANTED;
		assert_int_equal(vg_proto_decode(buf, len, &d),
		    VG_DROP_MALFORMED);
	}
}

/* Every length of a version 3 heartbeat is `length` but the one its count
 * makes; a count above VG_MAX_GROUPS - 1 makes none. */
static void
test_v3_lengths(void **state)
{
	uint8_t full[VG_MAX_PKT + 64], buf[VG_MAX_PKT + 64];
	struct vg_msg m, d;
	size_t len, n;
	unsigned c;
	enum vg_drop r;

	(void)state;
	m = hb_groups(VG_MAX_GROUPS);
	memset(full, 0, sizeof(full));
	assert_int_equal(vg_proto_encode(&m, full, sizeof(full)), VG_MAX_PKT);
	for (c = 0; c <= 255; c++) {
		memcpy(buf, full, sizeof(buf));
		buf[70] = (uint8_t)c;
		for (len = 0; len <= sizeof(buf); len++) {
			r = vg_proto_decode(buf, len, &d);
			if (len < 58 + 16)
				assert_int_equal(r, VG_DROP_SHORT);
			else if (c < VG_MAX_GROUPS && len == 87 + 22 * c) {
				assert_int_equal(r, VG_DROP_NONE);
				assert_int_equal(d.n_groups, c + 1);
			} else
				assert_int_equal(r, VG_DROP_LENGTH);
		}
	}
	/* the group types' one byte: one more or one less is `length` */
	for (n = VG_MSG_VOTE_REQUEST; n <= VG_MSG_TRANSFER; n++) {
		m = hb_groups(1);
		m.type = (uint8_t)n;
		m.flags = 0;
		m.group = 1;
		len = vg_proto_encode(&m, buf, sizeof(buf));
		assert_int_equal(len, vg_proto_len_v(3, (uint8_t)n));
		assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
		assert_int_equal(vg_proto_decode(buf, len - 1, &d),
		    VG_DROP_LENGTH);
		assert_int_equal(vg_proto_decode(buf, len + 1, &d),
		    VG_DROP_LENGTH);
		/* and version 2's length in a version 3 header, and back */
		buf[4] = 2;
		assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_LENGTH);
		assert_int_equal(vg_proto_decode(buf, len - 1, &d),
		    VG_DROP_NONE);
	}
}

/* A section out of order, of a state or flags out of range, a group
 * byte out of range: `malformed`, and the output left alone. */
static void
test_v3_malformed(void **state)
{
	uint8_t buf[VG_MAX_PKT], good[VG_MAX_PKT];
	struct vg_msg m, d, ref;
	size_t len, i;
	uint8_t t;
	unsigned f;

	(void)state;
	m = hb_groups(4);
	len = vg_proto_encode(&m, good, sizeof(good));
	assert_int_equal(len, 153);
	memset(&ref, 0x5a, sizeof(ref));

#define SEC(i)	(buf + 71 + 22 * ((i) - 1))
#define BAD(what) do {							\
		memcpy(&d, &ref, sizeof(d));				\
		assert_int_equal(vg_proto_decode(buf, len, &d),		\
		    VG_DROP_MALFORMED);					\
		assert_memory_equal(&d, &ref, sizeof(d));		\
		(void)(what);						\
	} while (0)

	/* out of order: 2 before 1, 1 twice, a 0, one skipped */
	memcpy(buf, good, len);
	SEC(1)[0] = 2;
	SEC(2)[0] = 1;
	BAD("swapped");
	memcpy(buf, good, len);
	SEC(2)[0] = 1;
	BAD("1 twice");
	memcpy(buf, good, len);
	SEC(1)[0] = 0;
	BAD("group 0 in a section");
	memcpy(buf, good, len);
	SEC(3)[0] = 4;
	BAD("3 skipped");
	memcpy(buf, good, len);
	SEC(3)[0] = 255;
	BAD("255");
	/* states: 0 and above VG_ST_MAX, in the first and the last */
	for (i = 1; i <= 3; i += 2) {
		memcpy(buf, good, len);
		SEC(i)[1] = 0;
		BAD("state 0");
		SEC(i)[1] = VG_ST_MAX + 1;
		BAD("state 7");
		SEC(i)[1] = 255;
		BAD("state 255");
		SEC(i)[1] = VG_ST_MAX;
		assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
		assert_int_equal(d.grp[i - 1].state, VG_ST_MAX);
	}
	/* flags: bits 0 and 1 only */
	for (f = 0; f <= 255; f++) {
		memcpy(buf, good, len);
		SEC(2)[3] = (uint8_t)f;
		if (f > 3) {
			BAD("flags");
			continue;
		}
		assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
		assert_int_equal(d.grp[1].flags,
		    (f & 1 ? VG_FLAG_LAPSED : 0) | (f & 2 ? VG_FLAG_HOLDING : 0));
	}
	/* priority, term, active and echo_seq: any value (the term limit is
	 * the election's, as for the header's) */
	memcpy(buf, good, len);
	memset(SEC(3) + 2, 0xff, 1);
	memset(SEC(3) + 4, 0xff, 18);
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
	assert_true(d.grp[2].term == UINT64_MAX);
	assert_true(d.grp[2].echo_seq == UINT64_MAX);
	assert_int_equal(d.grp[2].active, 0xffff);
	assert_int_equal(d.grp[2].priority, 255);
#undef SEC

	/* a group byte at or above VG_MAX_GROUPS, in each group type */
	for (t = VG_MSG_VOTE_REQUEST; t <= VG_MSG_TRANSFER; t++) {
		m = hb_groups(1);
		m.type = t;
		m.flags = 0;
		m.group = VG_MAX_GROUPS - 1;
		len = vg_proto_encode(&m, buf, sizeof(buf));
		assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
		assert_int_equal(d.group, VG_MAX_GROUPS - 1);
		assert_int_equal(buf[len - VG_MAC_LEN - 1], VG_MAX_GROUPS - 1);
		buf[len - VG_MAC_LEN - 1] = VG_MAX_GROUPS;
		BAD("group 16");
		buf[len - VG_MAC_LEN - 1] = 255;
		BAD("group 255");
		buf[len - VG_MAC_LEN - 1] = 0;
		assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
		assert_int_equal(d.group, 0);
	}
#undef BAD
}

static void
test_encode_refuses(void **state)
{
	uint8_t buf[VG_MAX_PKT];
	struct vg_msg m;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = VG_MSG_HEARTBEAT;
	assert_int_equal(vg_proto_encode(&m, buf, 86), 0);
	assert_int_equal(vg_proto_encode(&m, buf, 87), 87);
	m.type = VG_MSG_VOTE_REQUEST;
	assert_int_equal(vg_proto_encode(&m, buf, 82), 0);
	assert_int_equal(vg_proto_encode(&m, buf, 83), 83);
	m.version = 2;
	assert_int_equal(vg_proto_encode(&m, buf, 81), 0);
	assert_int_equal(vg_proto_encode(&m, buf, 82), 82);
	m.version = 1;
	assert_int_equal(vg_proto_encode(&m, buf, 73), 0);
	assert_int_equal(vg_proto_encode(&m, buf, 74), 74);
	m.type = 0;
	assert_int_equal(vg_proto_encode(&m, buf, sizeof(buf)), 0);
	m.type = VG_MSG_TYPE_MAX + 1;
	assert_int_equal(vg_proto_encode(&m, buf, sizeof(buf)), 0);
}

/* What version 1 or 2 cannot say does not encode; version 3 refuses
 * more than VG_MAX_GROUPS groups and a group byte beyond them. */
static void
test_encode_refuses_groups(void **state)
{
	uint8_t buf[VG_MAX_PKT + 8];
	struct vg_msg m;
	uint8_t v, t;

	(void)state;
	for (v = 1; v <= 2; v++) {
		m = hb_groups(2);
		m.version = v;
		assert_int_equal(vg_proto_encode(&m, buf, sizeof(buf)), 0);
		m.n_groups = 1;
		assert_int_equal(vg_proto_encode(&m, buf, sizeof(buf)),
		    vg_proto_len_v(v, VG_MSG_HEARTBEAT));
		for (t = VG_MSG_VOTE_REQUEST; t <= VG_MSG_TRANSFER; t++) {
			m = hb_groups(1);
			m.version = v;
			m.type = t;
			m.flags = 0;
			m.group = 1;
			assert_int_equal(vg_proto_encode(&m, buf, sizeof(buf)),
			    0);
			m.group = 0;
			assert_int_equal(vg_proto_encode(&m, buf, sizeof(buf)),
			    vg_proto_len_v(v, t));
		}
	}
	m = hb_groups(1);
	m.n_groups = VG_MAX_GROUPS + 1;
	assert_int_equal(vg_proto_encode(&m, buf, sizeof(buf)), 0);
	m.n_groups = VG_MAX_GROUPS;
	assert_int_equal(vg_proto_encode(&m, buf, VG_MAX_PKT - 1), 0);
	assert_int_equal(vg_proto_encode(&m, buf, VG_MAX_PKT), VG_MAX_PKT);
	m.type = VG_MSG_VOTE;
	m.group = VG_MAX_GROUPS;
	assert_int_equal(vg_proto_encode(&m, buf, sizeof(buf)), 0);
	m.group = VG_MAX_GROUPS - 1;
	assert_int_equal(vg_proto_encode(&m, buf, sizeof(buf)), 85);
	/* an unknown version */
	m.version = VG_VERSION + 1;
	assert_int_equal(vg_proto_encode(&m, buf, sizeof(buf)), 0);
}

/* vg_msg_group_view over what decode gives: a heartbeat's sections, a
 * vote's group, and a version 2 heartbeat's group 0 only. */
static void
test_group_view_decoded(void **state)
{
	uint8_t buf[VG_MAX_PKT];
	struct vg_msg m, d, v;
	size_t len, g;

	(void)state;
	m = hb_groups(3);
	m.grp[0].flags = VG_FLAG_LAPSED;
	m.grp[1].flags = 0;
	len = vg_proto_encode(&m, buf, sizeof(buf));
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
	/* group 0: the header */
	assert_int_equal(vg_msg_group_view(&d, 0, &v), 0);
	assert_msg_equal(&v, &m);
	assert_int_equal(v.group, 0);
	for (g = 1; g < 3; g++) {
		assert_int_equal(vg_msg_group_view(&d, g, &v), 0);
		assert_int_equal(v.group, g);
		assert_int_equal(v.state, m.grp[g - 1].state);
		assert_int_equal(v.priority, m.grp[g - 1].priority);
		assert_int_equal(v.flags, m.grp[g - 1].flags);
		assert_true(v.term == m.grp[g - 1].term);
		assert_int_equal(v.active, m.grp[g - 1].active);
		assert_true(v.echo_seq == m.grp[g - 1].echo_seq);
		/* the common fields stay the header's */
		assert_true(v.seq == m.seq);
		assert_true(v.incarnation == m.incarnation);
		assert_int_equal(v.config_digest, m.config_digest);
		assert_int_equal(v.u.hb.echo_delay_us, m.u.hb.echo_delay_us);
	}
	/* the header's HOLDING is group 0's, not group 2's */
	assert_int_equal(vg_msg_group_view(&d, 2, &v), 0);
	assert_int_equal(v.flags & VG_FLAG_HOLDING, 0);
	assert_int_equal(vg_msg_group_view(&d, 3, &v), -1);
	assert_int_equal(vg_msg_group_view(&d, VG_MAX_GROUPS, &v), -1);

	/* a version 2 heartbeat carries group 0 only */
	m.version = 2;
	m.n_groups = 1;
	len = vg_proto_encode(&m, buf, sizeof(buf));
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
	assert_int_equal(d.n_groups, 1);
	assert_int_equal(vg_msg_group_view(&d, 0, &v), 0);
	assert_int_equal(vg_msg_group_view(&d, 1, &v), -1);

	/* a vote is about its group only */
	m = hb_groups(1);
	m.type = VG_MSG_VOTE;
	m.flags = VG_FLAG_GRANTED;
	m.group = 5;
	len = vg_proto_encode(&m, buf, sizeof(buf));
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
	assert_int_equal(vg_msg_group_view(&d, 5, &v), 0);
	assert_msg_equal(&v, &m);
	assert_int_equal(v.group, 5);
	assert_int_equal(vg_msg_group_view(&d, 0, &v), -1);
	assert_int_equal(vg_msg_group_view(&d, 4, &v), -1);
}

/* Offsets as drawn in proto.h, big-endian. */
static void
test_byte_offsets(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT], full[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	struct vg_msg m;
	size_t len;

	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 0x2122232425262728ULL);
	m.flags = VG_FLAG_LAPSED;
	m.cluster_id = 0x11223344u;
	m.sender = 0x0a0b;
	m.target = 0x0c0d;
	m.state = VG_ST_ACTIVE;
	m.priority = 0x9f;
	m.term = 0x0102030405060708ULL;
	m.incarnation = 0x1112131415161718ULL;
	m.echo_seq = 0x3132333435363738ULL;
	m.active = 0x4142;
	m.config_digest = 0x51525354u;
	m.digest_parts = 0x8a8b;
	m.u.hb.echo_delay_us = 0x61626364u;
	m.epoch = 0xe1e2e3e4u;
	m.conf_digest = 0xd1d2d3d4u;
	len = build(f, &m, buf, sizeof(buf));
	assert_int_equal(len, 66 + 4 + 1 + 16);

	assert_memory_equal(buf + 0, "VGL1", 4);
	assert_int_equal(buf[4], VG_VERSION);
	assert_int_equal(buf[5], VG_MSG_HEARTBEAT);
	assert_int_equal(buf[6], 0x00);
	assert_int_equal(buf[7], VG_FLAG_LAPSED);
	assert_memory_equal(buf + 8, "\x11\x22\x33\x44", 4);
	assert_memory_equal(buf + 12, "\x0a\x0b", 2);
	assert_memory_equal(buf + 14, "\x0c\x0d", 2);
	assert_int_equal(buf[16], VG_ST_ACTIVE);
	assert_int_equal(buf[17], 0x9f);
	assert_memory_equal(buf + 18, "\x8a\x8b", 2);
	assert_true(be64_at(buf + 20) == 0x0102030405060708ULL);
	assert_true(be64_at(buf + 28) == 0x1112131415161718ULL);
	assert_true(be64_at(buf + 36) == 0x2122232425262728ULL);
	assert_true(be64_at(buf + 44) == 0x3132333435363738ULL);
	assert_memory_equal(buf + 52, "\x41\x42", 2);
	assert_memory_equal(buf + 54, "\x51\x52\x53\x54", 4);
	assert_memory_equal(buf + 58, "\xe1\xe2\xe3\xe4", 4);
	assert_memory_equal(buf + 62, "\xd1\xd2\xd3\xd4", 4);
	assert_memory_equal(buf + 66, "\x61\x62\x63\x64", 4);
	assert_int_equal(buf[70], 0);		/* no sections */

	/* mac: HMAC-SHA256 over everything before it, first 16 bytes */
	crypto_auth_hmacsha256_init(&st, f->auth.key, f->auth.keylen);
	crypto_auth_hmacsha256_update(&st, buf, len - VG_MAC_LEN);
	crypto_auth_hmacsha256_final(&st, full);
	assert_memory_equal(buf + len - 16, full, 16);
	assert_int_equal(vg_auth_verify(&f->auth, buf, len), 1);

	/* VOTE: reason u16 at 66, group u8 at 68, then the mac */
	m.type = VG_MSG_VOTE;
	m.flags = 0;
	m.u.vote.reason = 0x7172;
	m.group = 0x0e;
	len = build(f, &m, buf, sizeof(buf));
	assert_int_equal(len, 66 + 2 + 1 + 16);
	assert_int_equal(buf[5], VG_MSG_VOTE);
	assert_memory_equal(buf + 66, "\x71\x72\x0e", 3);
	assert_int_equal(vg_auth_verify(&f->auth, buf, len), 1);

	/* RELEASE: group u8 at 66 */
	m.type = VG_MSG_RELEASE;
	len = build(f, &m, buf, sizeof(buf));
	assert_int_equal(len, 66 + 1 + 16);
	assert_int_equal(buf[66], 0x0e);

	/* version 2: the VOTE without its group byte */
	m.type = VG_MSG_VOTE;
	m.group = 0;
	m.version = 2;
	len = build(f, &m, buf, sizeof(buf));
	assert_int_equal(len, 66 + 2 + 16);
	assert_int_equal(buf[4], 2);
	assert_memory_equal(buf + 66, "\x71\x72", 2);
	assert_int_equal(vg_auth_verify(&f->auth, buf, len), 1);

	/* version 1: no epoch and no file digest, the body at 58 */
	m.version = 1;
	len = build(f, &m, buf, sizeof(buf));
	assert_int_equal(len, 58 + 2 + 16);
	assert_int_equal(buf[4], 1);
	assert_memory_equal(buf + 54, "\x51\x52\x53\x54", 4);
	assert_memory_equal(buf + 58, "\x71\x72", 2);
	assert_int_equal(vg_auth_verify(&f->auth, buf, len), 1);
}

/* A version 1 datagram decodes, with epoch and file digest 0 and its
 * version kept (send.c answers a peer in the version it spoke); a
 * version 1 length in a version 2 header, or the reverse, is `length`;
 * so are version 2's and 3's, either way. */
static void
test_version1_accepted(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT + 8];
	struct vg_msg m, d;
	size_t len;

	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 9);
	m.version = 1;
	m.epoch = 7;
	m.conf_digest = 0x01020304u;
	m.u.hb.echo_delay_us = 0x0a0b0c0du;
	len = build(f, &m, buf, sizeof(buf));
	assert_int_equal(len, 58 + 4 + 16);
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
	assert_int_equal(d.version, 1);
	assert_int_equal(d.epoch, 0);
	assert_int_equal(d.conf_digest, 0);
	assert_int_equal(d.u.hb.echo_delay_us, 0x0a0b0c0du);
	assert_int_equal(d.seq, 9);
	assert_int_equal(d.n_groups, 1);
	assert_int_equal(d.group, 0);
	/* the version byte says 2, the length is version 1's */
	buf[4] = 2;
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_LENGTH);
	/* and a version 2 datagram that claims version 1 */
	m.version = 2;
	len = build(f, &m, buf, sizeof(buf));
	assert_int_equal(len, 66 + 4 + 16);
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
	assert_int_equal(d.version, 2);
	assert_int_equal(d.epoch, 7);
	assert_int_equal(d.conf_digest, 0x01020304u);
	assert_int_equal(d.n_groups, 1);
	buf[4] = 1;
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_LENGTH);
	/* a version 2 heartbeat is one byte short of version 3's */
	buf[4] = 3;
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_LENGTH);
	buf[4] = VG_VERSION + 1;
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_VERSION);
	buf[4] = 0;
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_VERSION);
	/* and a version 3 one (no sections) that claims 2 */
	m.version = 3;
	len = build(f, &m, buf, sizeof(buf));
	assert_int_equal(len, 66 + 4 + 1 + 16);
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
	assert_int_equal(d.version, 3);
	assert_int_equal(d.n_groups, 1);
	buf[4] = 2;
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_LENGTH);
}

static void
test_decode_fills_only_on_success(void **state)
{
	struct fix *f = *state;
	uint8_t buf[VG_MAX_PKT];
	struct vg_msg m, d, ref;
	size_t len;

	m = msg_from(f, BETA, VG_MSG_HEARTBEAT, 5);
	m.state = 0;
	len = build(f, &m, buf, sizeof(buf));
	memset(&d, 0x5a, sizeof(d));
	memcpy(&ref, &d, sizeof(d));
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_MALFORMED);
	assert_memory_equal(&d, &ref, sizeof(d));
	assert_int_equal(vg_proto_decode(buf, 10, &d), VG_DROP_SHORT);
	assert_memory_equal(&d, &ref, sizeof(d));

	/* digest_parts (once reserved) is not checked: any value goes */
	m.state = VG_ST_STANDBY;
	len = build(f, &m, buf, sizeof(buf));
	buf[18] = 0xff;
	buf[19] = 0x01;
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
	assert_int_equal(d.digest_parts, 0xff01);
}

static void
test_names(void **state)
{
	uint8_t s;
	int d, e;

	(void)state;
	for (d = 0; d < VG_DROP_MAX; d++) {
		assert_non_null(vg_drop_name((enum vg_drop)d));
		assert_string_not_equal(vg_drop_name((enum vg_drop)d), "invalid");
		for (e = 0; e < d; e++)
			assert_string_not_equal(vg_drop_name((enum vg_drop)d),
			    vg_drop_name((enum vg_drop)e));
	}
	assert_string_equal(vg_drop_name(VG_DROP_STALE), "stale_incarnation");
	assert_string_equal(vg_drop_name(VG_DROP_UNKNOWN_PEER), "unknown_peer");
	assert_string_equal(vg_drop_name(VG_DROP_MAX), "invalid");
	assert_string_equal(vg_msg_type_name(VG_MSG_VOTE_REQUEST), "vote_request");
	assert_string_equal(vg_msg_type_name(VG_MSG_TYPE_MAX + 1), "invalid");
	for (s = 1; s <= VG_ST_MAX; s++) {
		uint8_t back = 0;

		assert_int_equal(vg_state_parse(vg_state_name(s), &back), 0);
		assert_int_equal(back, s);
	}
	assert_string_equal(vg_state_name(VG_ST_NO_QUORUM), "no-quorum");
	assert_int_equal(vg_state_parse("unknown", &s), -1);
	assert_int_equal(vg_state_parse("bogus", &s), -1);
	assert_string_equal(vg_state_name(VG_ST_MAX + 1), "invalid");
}

/* ---- the steering program */

/*
 * Runs a classic BPF program over pkt as the kernel runs a reuseport one
 * (the UDP payload at offset 0), for the instructions vg_proto_lazy_prog
 * may use; any other, a load past the end or a jump out of the program
 * fails the test.  Returns what the program returned.
 */
static uint32_t
cbpf_run(const struct sock_filter *f, size_t n, const uint8_t *pkt,
    size_t len)
{
	uint32_t A = 0, X = 0;
	size_t pc = 0, steps;

	for (steps = 0; steps < 1000; steps++) {
		const struct sock_filter *i;

		assert_true(pc < n);
		i = &f[pc++];
		switch (i->code) {
		case BPF_LD | BPF_W | BPF_LEN:
			A = (uint32_t)len;
			break;
		case BPF_LD | BPF_B | BPF_ABS:
			if (i->k >= len)
				return 0;	/* the kernel's answer too */
			A = pkt[i->k];
			break;
		case BPF_LD | BPF_H | BPF_ABS:
			if (i->k + 2 > len)
				return 0;
			A = (uint32_t)pkt[i->k] << 8 | pkt[i->k + 1];
			break;
		case BPF_MISC | BPF_TAX:
			X = A;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += A == i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JEQ | BPF_X:
			pc += A == X ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += A >= i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += A > i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (A & i->k) != 0 ? i->jt : i->jf;
			break;
		case BPF_RET | BPF_K:
			return i->k;
		default:
			fail_msg("instruction %zu: code 0x%x", pc - 1, i->code);
		}
	}
	fail_msg("the program did not end");
	return 0;
}

/* A heartbeat from node 2 (a standby that names node 1 active) to `to`. */
static size_t
lazy_hb(uint8_t *buf, size_t buflen, uint8_t version, uint16_t to)
{
	struct vg_msg m;

	memset(&m, 0, sizeof(m));
	m.version = version;
	m.type = VG_MSG_HEARTBEAT;
	m.cluster_id = 7;
	m.sender = 2;
	m.target = to;
	m.state = VG_ST_STANDBY;
	m.priority = 100;
	m.term = 5;
	m.incarnation = 9;
	m.seq = 11;
	m.echo_seq = 10;
	m.active = 1;
	m.n_groups = 1;
	return vg_proto_encode(&m, buf, buflen);
}

/* Only a standby's plain heartbeat of one group to a node other than the
 * active it names goes to socket 1; every other message, every flag,
 * every state, every other version or length, to 0. */
static void
test_lazy_prog(void **state)
{
	struct sock_filter f[VG_PROTO_LAZY_PROG_LEN];
	uint8_t buf[VG_MAX_DGRAM], t, st;
	struct vg_msg m;
	size_t n, len;
	uint16_t bit;

	(void)state;
	assert_int_equal(vg_proto_lazy_prog(f, VG_PROTO_LAZY_PROG_LEN - 1), 0);
	n = vg_proto_lazy_prog(f, VG_PROTO_LAZY_PROG_LEN);
	assert_int_equal(n, VG_PROTO_LAZY_PROG_LEN);
	/* the one that waits, in both versions of this layout */
	for (t = VG_VERSION_GROUPS; t <= VG_VERSION; t++) {
		len = lazy_hb(buf, sizeof(buf), t, 3);
		assert_int_equal(cbpf_run(f, n, buf, len), 1);
		/* to the active: its echo, at once */
		len = lazy_hb(buf, sizeof(buf), t, 1);
		assert_int_equal(cbpf_run(f, n, buf, len), 0);
	}
	/* versions 1 and 2 (other offsets and lengths) */
	for (t = 1; t < VG_VERSION_GROUPS; t++) {
		len = lazy_hb(buf, sizeof(buf), t, 3);
		assert_true(len > 0);
		assert_int_equal(cbpf_run(f, n, buf, len), 0);
	}
	/* a version byte it does not know, at the same length */
	len = lazy_hb(buf, sizeof(buf), VG_VERSION, 3);
	buf[4] = VG_VERSION + 1;
	assert_int_equal(cbpf_run(f, n, buf, len), 0);
	buf[4] = VG_VERSION_GROUPS - 1;
	assert_int_equal(cbpf_run(f, n, buf, len), 0);
	/* every other state of the sender */
	for (st = 0; st <= VG_ST_MAX + 1; st++) {
		len = lazy_hb(buf, sizeof(buf), VG_VERSION, 3);
		buf[16] = st;
		assert_int_equal(cbpf_run(f, n, buf, len),
		    st == VG_ST_STANDBY ? 1 : 0);
	}
	/* every flag bit, known or not */
	for (bit = 1; bit != 0; bit = (uint16_t)(bit << 1)) {
		len = lazy_hb(buf, sizeof(buf), VG_VERSION, 3);
		buf[6] = (uint8_t)(bit >> 8);
		buf[7] = (uint8_t)bit;
		assert_int_equal(cbpf_run(f, n, buf, len), 0);
	}
	/* no active named */
	len = lazy_hb(buf, sizeof(buf), VG_VERSION, 3);
	buf[52] = buf[53] = 0;
	assert_int_equal(cbpf_run(f, n, buf, len), 0);
	/* a heartbeat of two groups */
	memset(&m, 0, sizeof(m));
	m.type = VG_MSG_HEARTBEAT;
	m.sender = 2;
	m.target = 3;
	m.state = VG_ST_STANDBY;
	m.active = 1;
	m.n_groups = 2;
	m.grp[0].state = VG_ST_STANDBY;
	m.grp[0].active = 1;
	len = vg_proto_encode(&m, buf, sizeof(buf));
	assert_true(len > vg_proto_len(VG_MSG_HEARTBEAT));
	assert_int_equal(cbpf_run(f, n, buf, len), 0);
	/* every other type, even from a standby to a standby */
	for (t = 1; t <= VG_MSG_TYPE_MAX; t++) {
		if (t == VG_MSG_HEARTBEAT || VG_MSG_IS_PUSH(t))
			continue;
		memset(&m, 0, sizeof(m));
		m.type = t;
		m.sender = 2;
		m.target = 3;
		m.state = VG_ST_STANDBY;
		m.active = 1;
		len = vg_proto_encode(&m, buf, sizeof(buf));
		assert_true(len > 0);
		assert_int_equal(cbpf_run(f, n, buf, len), 0);
	}
	/* a push type at the heartbeat's length, and datagrams too short
	 * for the fields */
	len = lazy_hb(buf, sizeof(buf), VG_VERSION, 3);
	buf[5] = VG_MSG_CONF_ACK;
	assert_int_equal(cbpf_run(f, n, buf, len), 0);
	assert_int_equal(cbpf_run(f, n, buf, 3), 0);
	assert_int_equal(cbpf_run(f, n, buf, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto_len),
		cmocka_unit_test(test_roundtrip_every_type),
		cmocka_unit_test(test_roundtrip_groups),
		cmocka_unit_test(test_v3_lengths),
		cmocka_unit_test(test_v3_malformed),
		cmocka_unit_test(test_transfer_vote_flag),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_encode_refuses_groups),
		cmocka_unit_test(test_group_view_decoded),
		cmocka_unit_test_setup_teardown(test_byte_offsets, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_version1_accepted, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_decode_fills_only_on_success,
		    fix_setup, fix_teardown),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_lazy_prog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
