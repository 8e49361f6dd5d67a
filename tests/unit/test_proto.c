/*
 * test_proto: the wire format.  Every type's length, encode and decode
 * round trips, what encode refuses, the byte offsets of the diagram in
 * proto.h (and the mac over them), version 1 (no epoch, no file digest)
 * still read and written, a decode that fails leaves the output alone, and
 * the names of drops, types and states.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "rxfix.h"

/* ---- proto */

static void
test_proto_len(void **state)
{
	(void)state;
	assert_int_equal(VG_VERSION, 2);
	assert_int_equal(vg_proto_len(VG_MSG_HEARTBEAT), 66 + 4 + 16);
	assert_int_equal(vg_proto_len(VG_MSG_VOTE_REQUEST), 66 + 16);
	assert_int_equal(vg_proto_len(VG_MSG_VOTE), 66 + 2 + 16);
	assert_int_equal(vg_proto_len(VG_MSG_RELEASE), 66 + 16);
	assert_int_equal(vg_proto_len(VG_MSG_TRANSFER), 66 + 16);
	assert_int_equal(vg_proto_len(0), 0);
	assert_int_equal(vg_proto_len(VG_MSG_TYPE_MAX + 1), 0);
	assert_int_equal(vg_proto_len(255), 0);
	assert_int_equal(VG_MAX_PKT, vg_proto_len(VG_MSG_HEARTBEAT));
	/* version 1: the 58-byte header */
	assert_int_equal(vg_proto_len_v(1, VG_MSG_HEARTBEAT), 58 + 4 + 16);
	assert_int_equal(vg_proto_len_v(1, VG_MSG_VOTE), 58 + 2 + 16);
	assert_int_equal(vg_proto_len_v(2, VG_MSG_VOTE), 66 + 2 + 16);
	assert_int_equal(vg_proto_len_v(0, VG_MSG_VOTE), 0);
	assert_int_equal(vg_proto_len_v(3, VG_MSG_VOTE), 0);
	assert_int_equal(vg_proto_len_v(1, 0), 0);
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

	(void)state;
	memset(zero, 0, sizeof(zero));
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		memset(&m, 0, sizeof(m));
		m.version = VG_VERSION;
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
		m.epoch = 0xfffffffeu;
		m.conf_digest = 0xc1c2c3c4u;
		if (m.type == VG_MSG_HEARTBEAT)
			m.u.hb.echo_delay_us = 0x91929394u;
		else if (m.type == VG_MSG_VOTE)
			m.u.vote.reason = 0xa1a2;
		memset(buf, 0xee, sizeof(buf));
		len = vg_proto_encode(&m, buf, sizeof(buf));
		assert_int_equal(len, vg_proto_len(m.type));
		/* the MAC is left zero for auth; nothing written past len */
		assert_memory_equal(buf + len - VG_MAC_LEN, zero, VG_MAC_LEN);
		assert_int_equal(buf[len], 0xee);
		memset(&d, 0x5a, sizeof(d));
		assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_NONE);
		assert_msg_equal(&d, &m);
		if (m.type != VG_MSG_HEARTBEAT && m.type != VG_MSG_VOTE)
			assert_int_equal(d.u.hb.echo_delay_us, 0);
	}
}

static void
test_encode_refuses(void **state)
{
	uint8_t buf[VG_MAX_PKT];
	struct vg_msg m;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = VG_MSG_HEARTBEAT;
	assert_int_equal(vg_proto_encode(&m, buf, VG_MAX_PKT - 1), 0);
	assert_int_equal(vg_proto_encode(&m, buf, VG_MAX_PKT), VG_MAX_PKT);
	m.type = VG_MSG_VOTE_REQUEST;
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

static uint64_t
be64_at(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
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
	assert_int_equal(len, 66 + 4 + 16);

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

	/* mac: HMAC-SHA256 over everything before it, first 16 bytes */
	crypto_auth_hmacsha256_init(&st, f->auth.key, f->auth.keylen);
	crypto_auth_hmacsha256_update(&st, buf, len - VG_MAC_LEN);
	crypto_auth_hmacsha256_final(&st, full);
	assert_memory_equal(buf + len - 16, full, 16);
	assert_int_equal(vg_auth_verify(&f->auth, buf, len), 1);

	/* VOTE: reason u16 at 66, then the mac */
	m.type = VG_MSG_VOTE;
	m.flags = 0;
	m.u.vote.reason = 0x7172;
	len = build(f, &m, buf, sizeof(buf));
	assert_int_equal(len, 66 + 2 + 16);
	assert_int_equal(buf[5], VG_MSG_VOTE);
	assert_memory_equal(buf + 66, "\x71\x72", 2);

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
 * version 1 length in a version 2 header, or the reverse, is `length`. */
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
	buf[4] = 1;
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_LENGTH);
	buf[4] = 3;
	assert_int_equal(vg_proto_decode(buf, len, &d), VG_DROP_VERSION);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto_len),
		cmocka_unit_test(test_roundtrip_every_type),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test_setup_teardown(test_byte_offsets, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_version1_accepted, fix_setup,
		    fix_teardown),
		cmocka_unit_test_setup_teardown(test_decode_fills_only_on_success,
		    fix_setup, fix_teardown),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
