/*
 * test_push: the configuration transfer's pure parts (agent/push.c; the
 * agent's side of a push is test_pushrun's).
 *
 * - bodies: each type round-trips at its fixed length; a wrong length, a
 *   field out of range, a non-zero pad or an unterminated error is
 *   malformed and leaves the output alone;
 * - a 1000-VIP configuration carried over a channel that loses 30 % of
 *   the chunks and 30 % of the acknowledgements each way (a fixed seed,
 *   rounds counted, no clock): it arrives whole in a bounded number of
 *   rounds, never more than VG_PUSH_PER_ROUND chunks a round, parses, and
 *   has the sender's digest; without loss it takes exactly
 *   ceil(chunks / VG_PUSH_PER_ROUND) rounds;
 * - the receiver refuses an offer not above its epoch, a second file for
 *   the epoch it receives, a lower epoch than it receives, sizes that do
 *   not add up; takes a higher epoch's offer in place of the one under
 *   way; refuses chunks of another push or epoch, out of range, or of the
 *   wrong length; a corrupted chunk fails the SHA-256 and the chunks come
 *   again.
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
#include "push.h"

/* ---- bodies */

static void
test_body_lengths(void **state)
{
	(void)state;
	assert_int_equal(vg_push_body_len(VG_MSG_CONF_OFFER), 52);
	assert_int_equal(vg_push_body_len(VG_MSG_CONF_CHUNK), 1040);
	assert_int_equal(vg_push_body_len(VG_MSG_CONF_ACK), 184);
	assert_int_equal(vg_push_body_len(VG_MSG_CONF_DECIDE), 16);
	assert_int_equal(vg_push_body_len(VG_MSG_CONF_FETCH), 4);
	assert_int_equal(vg_push_body_len(1), 0);
	assert_int_equal(vg_push_body_len(11), 0);
	/* a chunk datagram (version 2 header, body, MAC) is not fragmented
	 * on IPv6's minimum MTU less 40 + 8 bytes of headers */
	assert_true(66 + vg_push_body_len(VG_MSG_CONF_CHUNK) + 16 <= 1232);
	assert_int_equal(vg_push_chunks(0), 1);
	assert_int_equal(vg_push_chunks(1), 1);
	assert_int_equal(vg_push_chunks(1024), 1);
	assert_int_equal(vg_push_chunks(1025), 2);
	assert_int_equal(vg_push_chunks(VG_PUSH_MAX_SIZE), VG_PUSH_MAX_CHUNKS);
}

static void
test_offer_roundtrip(void **state)
{
	struct vg_push_offer o, d, ref;
	uint8_t buf[64];
	size_t len;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.push_id = 0x0102030405060708ULL;
	o.epoch = 0xa1a2a3a4u;
	o.size = 70000;
	o.chunks = vg_push_chunks(70000);
	o.flags = VG_PUSH_OFFER_COMMITTED;
	memset(o.sha256, 0x5c, sizeof(o.sha256));
	assert_int_equal(vg_push_encode_offer(&o, buf, 51), 0);
	len = vg_push_encode_offer(&o, buf, sizeof(buf));
	assert_int_equal(len, 52);
	assert_memory_equal(buf, "\x01\x02\x03\x04\x05\x06\x07\x08"
	    "\xa1\xa2\xa3\xa4", 12);
	assert_int_equal(vg_push_decode_offer(buf, len, &d), 0);
	assert_true(d.push_id == o.push_id);
	assert_int_equal(d.epoch, o.epoch);
	assert_int_equal(d.size, 70000);
	assert_int_equal(d.chunks, 69);
	assert_int_equal(d.flags, VG_PUSH_OFFER_COMMITTED);
	assert_memory_equal(d.sha256, o.sha256, 32);

	memset(&d, 0x77, sizeof(d));
	ref = d;
	assert_int_equal(vg_push_decode_offer(buf, len - 1, &d), -1);
	buf[17] ^= 1;			/* chunks no longer add up */
	assert_int_equal(vg_push_decode_offer(buf, len, &d), -1);
	buf[17] ^= 1;
	buf[19] = 0x10;			/* an unknown flag */
	assert_int_equal(vg_push_decode_offer(buf, len, &d), -1);
	buf[19] = 0x03;			/* a key step in a served file */
	assert_int_equal(vg_push_decode_offer(buf, len, &d), -1);
	buf[19] = 0x06;			/* two key steps */
	assert_int_equal(vg_push_decode_offer(buf, len, &d), -1);
	buf[19] = 0x04;			/* one key step */
	assert_int_equal(vg_push_decode_offer(buf, len, &d), 0);
	assert_int_equal(d.flags, VG_PUSH_OFFER_KEY_SEND);
	d = ref;
	buf[19] = 0x01;
	buf[12] = 0x7f;			/* larger than 1 MiB */
	assert_int_equal(vg_push_decode_offer(buf, len, &d), -1);
	assert_memory_equal(&d, &ref, sizeof(d));
}

static void
test_chunk_and_ack_roundtrip(void **state)
{
	uint8_t data[VG_PUSH_CHUNK], buf[1100];
	struct vg_push_chunk c, dc;
	struct vg_push_ack a, da;
	struct vg_push_decide x, dx;
	size_t len;

	(void)state;
	memset(data, 0xab, sizeof(data));
	c.push_id = 9;
	c.epoch = 4;
	c.index = 68;
	c.used = 368;
	c.data = data;
	len = vg_push_encode_chunk(&c, buf, sizeof(buf));
	assert_int_equal(len, 1040);
	assert_int_equal(vg_push_decode_chunk(buf, len, &dc), 0);
	assert_int_equal(dc.index, 68);
	assert_int_equal(dc.used, 368);
	assert_ptr_equal(dc.data, buf + 16);
	assert_memory_equal(dc.data, data, 368);
	buf[16 + 368] = 1;		/* a byte in the padding */
	assert_int_equal(vg_push_decode_chunk(buf, len, &dc), -1);
	buf[16 + 368] = 0;
	buf[14] = 0x04;			/* used 1024 + 368 */
	assert_int_equal(vg_push_decode_chunk(buf, len, &dc), -1);
	c.used = VG_PUSH_CHUNK + 1;
	assert_int_equal(vg_push_encode_chunk(&c, buf, sizeof(buf)), 0);

	memset(&a, 0, sizeof(a));
	a.push_id = 9;
	a.epoch = 4;
	a.status = VG_PUSH_REJECTED;
	a.first_missing = 3;
	a.map = 0x8000000000000001ULL;
	snprintf(a.error, sizeof(a.error), "new.conf:12: dead_time = 0 is "
	    "out of range (1..600000)");
	len = vg_push_encode_ack(&a, buf, sizeof(buf));
	assert_int_equal(len, 184);
	assert_int_equal(vg_push_decode_ack(buf, len, &da), 0);
	assert_int_equal(da.status, VG_PUSH_REJECTED);
	assert_int_equal(da.first_missing, 3);
	assert_true(da.map == a.map);
	assert_string_equal(da.error, a.error);
	/* an error that fills the field is cut, never unterminated */
	memset(a.error, 'e', sizeof(a.error));
	a.error[sizeof(a.error) - 1] = '\0';
	len = vg_push_encode_ack(&a, buf, sizeof(buf));
	assert_int_equal(vg_push_decode_ack(buf, len, &da), 0);
	assert_int_equal(strlen(da.error), VG_PUSH_ERR_LEN - 1);
	buf[24 + VG_PUSH_ERR_LEN - 1] = 'x';
	assert_int_equal(vg_push_decode_ack(buf, len, &da), -1);
	buf[24 + VG_PUSH_ERR_LEN - 1] = '\0';
	buf[12] = 0;			/* no status */
	assert_int_equal(vg_push_decode_ack(buf, len, &da), -1);
	buf[12] = VG_PUSH_DONE + 1;
	assert_int_equal(vg_push_decode_ack(buf, len, &da), -1);

	x.push_id = 9;
	x.epoch = 4;
	x.step = VG_PUSH_FINAL;
	len = vg_push_encode_decide(&x, buf, sizeof(buf));
	assert_int_equal(len, 16);
	assert_int_equal(vg_push_decode_decide(buf, len, &dx), 0);
	assert_int_equal(dx.step, VG_PUSH_FINAL);
	buf[12] = 0;
	assert_int_equal(vg_push_decode_decide(buf, len, &dx), -1);
	buf[12] = VG_PUSH_ABORT;
	buf[15] = 1;
	assert_int_equal(vg_push_decode_decide(buf, len, &dx), -1);
}

/* ---- a 1000-VIP file over a lossy channel */

/* A configuration with n VIPs (text, malloc'd). */
static char *
big_config(unsigned n, uint32_t epoch)
{
	size_t cap = 256 + (size_t)n * 80, at;
	char *t = malloc(cap);
	unsigned i;

	assert_non_null(t);
	at = (size_t)snprintf(t, cap, "cluster = \"p\";\nauth = \"none\";\n"
	    "epoch = %u;\nnodes = (\n"
	    "\t{ id = 1; name = \"n1\"; address = \"198.18.0.1\"; },\n"
	    "\t{ id = 2; name = \"n2\"; address = \"198.18.0.2\"; },\n"
	    "\t{ id = 3; name = \"n3\"; address = \"198.18.0.3\"; }\n);\n"
	    "vips = (\n", epoch);
	for (i = 0; i < n; i++)
		at += (size_t)snprintf(t + at, cap - at, "\t{ address = "
		    "\"198.19.%u.%u/16\"; interface = \"eth0\"; }%s\n",
		    (i + 1) / 250, (i + 1) % 250 + 1, i + 1 < n ? "," : "");
	snprintf(t + at, cap - at, ");\n");
	return t;
}

/* xorshift: the channel's loss, the same every run */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Carries the file through encode, a channel that drops `loss_pct` of
 * the datagrams each way, and decode; returns the rounds it took (fails
 * past max_rounds). */
static unsigned
carry(const char *text, unsigned loss_pct, unsigned max_rounds,
    uint32_t seed, struct vg_push_rx *r)
{
	struct vg_push_tx *t = malloc(sizeof(*t));
	uint8_t body[1100];
	uint16_t idx[64];
	struct vg_push_offer o;
	struct vg_push_chunk c, dc;
	struct vg_push_ack a, da;
	char err[256];
	unsigned round;
	size_t n, i, len;
	int offered = 0;

	assert_non_null(t);
	assert_int_equal(vg_push_tx_init(t, 0x1234, 1, (const uint8_t *)text,
	    (uint32_t)strlen(text)), 0);
	for (round = 1; round <= max_rounds; round++) {
		/* the offer until the target has it, then chunks */
		if (!offered) {
			len = vg_push_encode_offer(&t->offer, body,
			    sizeof(body));
			if (rnd(&seed) % 100 >= loss_pct) {
				assert_int_equal(vg_push_decode_offer(body, len,
				    &o), 0);
				assert_int_equal(vg_push_rx_offer(r, &o, 0, err,
				    sizeof(err)), 0);
				offered = 1;
			}
			continue;
		}
		n = vg_push_tx_round(t, idx, 64);
		assert_true(n <= VG_PUSH_PER_ROUND);
		for (i = 0; i < n; i++) {
			vg_push_tx_chunk(t, idx[i], &c);
			len = vg_push_encode_chunk(&c, body, sizeof(body));
			if (rnd(&seed) % 100 < loss_pct)
				continue;
			assert_int_equal(vg_push_decode_chunk(body, len, &dc),
			    0);
			assert_int_equal(vg_push_rx_chunk(r, &dc), 0);
		}
		vg_push_rx_ack(r, &a);
		if (rnd(&seed) % 100 >= loss_pct) {
			len = vg_push_encode_ack(&a, body, sizeof(body));
			assert_int_equal(vg_push_decode_ack(body, len, &da), 0);
			assert_int_equal(vg_push_tx_ack(t, &da), 0);
		}
		if (vg_push_tx_done(t))
			break;
	}
	if (round > max_rounds)
		fail_msg("not across in %u rounds: %u of %u chunks", max_rounds,
		    t->n_acked, t->offer.chunks);
	assert_int_equal(vg_push_rx_complete(r, err, sizeof(err)), 1);
	free(t);
	return round;
}

static void
test_1000_vips_over_loss(void **state)
{
	char *text = big_config(1000, 1), err[256];
	struct vg_push_rx r;
	struct vg_conf *sent, *got;
	struct vg_errs errs;
	unsigned rounds, chunks, lo = ~0u, hi = 0;
	uint32_t seed;
	char *copy;

	(void)state;
	chunks = vg_push_chunks((uint32_t)strlen(text));
	assert_true(chunks > 40 && chunks < 100);	/* ~60 KB */
	vg_errs_init(&errs);
	sent = vg_conf_parse(text, "p.conf", "n2", &errs);
	assert_non_null(sent);
	assert_int_equal(sent->n_vips, 1000);

	/* no loss: the offer, then 32 chunks a round */
	memset(&r, 0, sizeof(r));
	rounds = carry(text, 0, 100, 1, &r);
	assert_int_equal(rounds, 1 + (chunks + VG_PUSH_PER_ROUND - 1) /
	    VG_PUSH_PER_ROUND);
	vg_push_rx_free(&r);

	/* 30 % each way, several seeds: across, whole, the same file */
	for (seed = 1; seed <= 20; seed++) {
		memset(&r, 0, sizeof(r));
		rounds = carry(text, 30, 60, seed * 2654435761u, &r);
		assert_true(rounds > 1 + (chunks + 31) / 32);
		lo = rounds < lo ? rounds : lo;
		hi = rounds > hi ? rounds : hi;
		assert_int_equal(r.offer.size, strlen(text));
		assert_memory_equal(r.buf, text, strlen(text));
		copy = malloc(r.offer.size + 1);
		assert_non_null(copy);
		memcpy(copy, r.buf, r.offer.size);
		copy[r.offer.size] = '\0';
		got = vg_conf_parse(copy, "p.conf", "n2", &errs);
		assert_non_null(got);
		assert_int_equal(got->digest, sent->digest);
		assert_int_equal(got->file_digest, sent->file_digest);
		assert_int_equal(got->epoch, 1);
		vg_conf_free(got);
		free(copy);
		assert_int_equal(vg_push_rx_complete(&r, err, sizeof(err)), 1);
		vg_push_rx_free(&r);
	}
	print_message("%zu bytes, %u chunks; at 30 %% loss each way: %u..%u "
	    "rounds over 20 seeds\n", strlen(text), chunks, lo, hi);
	vg_conf_free(sent);
	free(text);
}

/* ---- what the receiver refuses */

static void
offer_of(struct vg_push_tx *t, uint64_t id, uint32_t epoch, const char *text)
{
	assert_int_equal(vg_push_tx_init(t, id, epoch, (const uint8_t *)text,
	    (uint32_t)strlen(text)), 0);
}

static void
test_rx_refusals(void **state)
{
	static char a[3000], b[3000];
	struct vg_push_tx *ta = malloc(sizeof(*ta)), *tb = malloc(sizeof(*tb));
	struct vg_push_rx r;
	struct vg_push_offer o;
	struct vg_push_chunk c;
	char err[256];

	(void)state;
	assert_non_null(ta);
	assert_non_null(tb);
	memset(a, 'a', sizeof(a) - 1);
	memset(b, 'b', sizeof(b) - 1);
	memset(&r, 0, sizeof(r));
	offer_of(ta, 1, 5, a);
	/* below the running epoch; the running one goes to the check (a
	 * node a safety push adds runs the file already) */
	assert_int_equal(vg_push_rx_offer(&r, &ta->offer, 6, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "epoch 5 is not above the running epoch 6");
	assert_int_equal(vg_push_rx_offer(&r, &ta->offer, 5, err, sizeof(err)),
	    0);
	vg_push_rx_free(&r);
	memset(&r, 0, sizeof(r));
	assert_int_equal(vg_push_rx_offer(&r, &ta->offer, 4, err, sizeof(err)),
	    0);
	/* the same offer again: no change; another file for epoch 5: no */
	assert_int_equal(vg_push_rx_offer(&r, &ta->offer, 4, err, sizeof(err)),
	    0);
	offer_of(tb, 2, 5, b);
	assert_int_equal(vg_push_rx_offer(&r, &tb->offer, 4, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "epoch 5 is being received from push "
	    "0000000000000001, another file"));
	/* a lower epoch than the one under way: no */
	offer_of(tb, 3, 4, b);
	assert_int_equal(vg_push_rx_offer(&r, &tb->offer, 3, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "below epoch 5"));
	/* sizes that do not add up */
	o = ta->offer;
	o.epoch = 9;
	o.chunks = 1;
	assert_int_equal(vg_push_rx_offer(&r, &o, 4, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "do not add up"));

	/* chunks: of another push, another epoch, out of range, the wrong
	 * length; the right one, twice */
	vg_push_tx_chunk(ta, 1, &c);
	c.push_id = 2;
	assert_int_equal(vg_push_rx_chunk(&r, &c), -1);
	vg_push_tx_chunk(ta, 1, &c);
	c.epoch = 6;
	assert_int_equal(vg_push_rx_chunk(&r, &c), -1);
	vg_push_tx_chunk(ta, 1, &c);
	c.index = 3;
	assert_int_equal(vg_push_rx_chunk(&r, &c), -1);
	vg_push_tx_chunk(ta, 2, &c);
	assert_int_equal(c.used, 951);	/* the last of 2999 bytes */
	c.used = 1024;
	assert_int_equal(vg_push_rx_chunk(&r, &c), -1);
	vg_push_tx_chunk(ta, 1, &c);
	c.used = 1000;			/* a middle one holds 1024 */
	assert_int_equal(vg_push_rx_chunk(&r, &c), -1);
	assert_int_equal(r.n_have, 0);
	vg_push_tx_chunk(ta, 1, &c);
	assert_int_equal(vg_push_rx_chunk(&r, &c), 0);
	assert_int_equal(vg_push_rx_chunk(&r, &c), 0);
	assert_int_equal(r.n_have, 1);
	assert_int_equal(vg_push_rx_complete(&r, err, sizeof(err)), 0);

	/* a corrupted chunk: the SHA-256 fails, the chunks come again */
	vg_push_tx_chunk(ta, 0, &c);
	assert_int_equal(vg_push_rx_chunk(&r, &c), 0);
	r.buf[5] ^= 1;			/* as if chunk 0 had come wrong */
	vg_push_tx_chunk(ta, 2, &c);
	assert_int_equal(vg_push_rx_chunk(&r, &c), 0);
	assert_int_equal(vg_push_rx_complete(&r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "do not match the offer's SHA-256"));
	assert_int_equal(r.n_have, 0);
	{
		struct vg_push_ack k;

		vg_push_rx_ack(&r, &k);
		assert_int_equal(k.first_missing, 0);
		assert_true(k.map == 0);
	}
	for (c.index = 0; c.index < 3; c.index++) {
		vg_push_tx_chunk(ta, c.index, &c);
		assert_int_equal(vg_push_rx_chunk(&r, &c), 0);
	}
	assert_int_equal(vg_push_rx_complete(&r, err, sizeof(err)), 1);
	assert_memory_equal(r.buf, a, strlen(a));

	/* a higher epoch's offer replaces the one under way */
	offer_of(tb, 4, 6, b);
	assert_int_equal(vg_push_rx_offer(&r, &tb->offer, 4, err, sizeof(err)),
	    0);
	assert_int_equal(r.offer.epoch, 6);
	assert_int_equal(r.n_have, 0);
	vg_push_rx_free(&r);
	free(ta);
	free(tb);
}

/* The sender takes an acknowledgement's first-missing and map, and only
 * one of its own push. */
static void
test_tx_ack(void **state)
{
	static char text[10 * 1024 + 1];
	struct vg_push_tx *t = malloc(sizeof(*t));
	struct vg_push_ack a;
	uint16_t idx[64];
	size_t n;

	(void)state;
	assert_non_null(t);
	memset(text, 'x', sizeof(text) - 1);
	offer_of(t, 7, 2, text);
	assert_int_equal(t->offer.chunks, 10);
	n = vg_push_tx_round(t, idx, 64);
	assert_int_equal(n, 10);
	assert_int_equal(vg_push_tx_round(t, idx, 3), 3);
	memset(&a, 0, sizeof(a));
	a.push_id = 7;
	a.epoch = 2;
	a.status = VG_PUSH_RECEIVING;
	a.first_missing = 2;		/* 0, 1 */
	a.map = 0x5;			/* 3 and 5 */
	assert_int_equal(vg_push_tx_ack(t, &a), 0);
	assert_int_equal(t->n_acked, 4);
	n = vg_push_tx_round(t, idx, 64);
	assert_int_equal(n, 6);
	assert_int_equal(idx[0], 2);
	assert_int_equal(idx[1], 4);
	assert_int_equal(idx[2], 6);
	/* another push, or past the file: not taken */
	a.push_id = 8;
	assert_int_equal(vg_push_tx_ack(t, &a), -1);
	a.push_id = 7;
	a.first_missing = 11;
	assert_int_equal(vg_push_tx_ack(t, &a), -1);
	a.first_missing = 10;
	a.map = ~0ULL;			/* bits past the file are ignored */
	assert_int_equal(vg_push_tx_ack(t, &a), 0);
	assert_true(vg_push_tx_done(t));
	assert_int_equal(vg_push_tx_round(t, idx, 64), 0);
	/* too large a file */
	assert_int_equal(vg_push_tx_init(t, 7, 2, (const uint8_t *)text,
	    VG_PUSH_MAX_SIZE + 1), -1);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_lengths),
		cmocka_unit_test(test_offer_roundtrip),
		cmocka_unit_test(test_chunk_and_ack_roundtrip),
		cmocka_unit_test(test_1000_vips_over_loss),
		cmocka_unit_test(test_rx_refusals),
		cmocka_unit_test(test_tx_ack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
