/*
 * push: the configuration transfer's bodies, the sender's chunk schedule
 * and the receiver's reassembly; pure (push.h).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "push.h"
#include "wire.h"

#define OFFER_LEN	52
#define CHUNK_LEN	(16 + VG_PUSH_CHUNK)
#define ACK_LEN		(24 + VG_PUSH_ERR_LEN)
#define DECIDE_LEN	16
#define FETCH_LEN	4

size_t
vg_push_body_len(uint8_t type)
{
	switch (type) {
	case VG_MSG_CONF_OFFER:		return OFFER_LEN;
	case VG_MSG_CONF_CHUNK:		return CHUNK_LEN;
	case VG_MSG_CONF_ACK:		return ACK_LEN;
	case VG_MSG_CONF_DECIDE:	return DECIDE_LEN;
	case VG_MSG_CONF_FETCH:		return FETCH_LEN;
	}
	return 0;
}

int
vg_push_body_check(uint8_t type, const uint8_t *body, size_t len)
{
	struct vg_push_offer o;
	struct vg_push_chunk c;
	struct vg_push_ack a;
	struct vg_push_decide x;

	switch (type) {
	case VG_MSG_CONF_OFFER:
		return vg_push_decode_offer(body, len, &o);
	case VG_MSG_CONF_CHUNK:
		return vg_push_decode_chunk(body, len, &c);
	case VG_MSG_CONF_ACK:
		return vg_push_decode_ack(body, len, &a);
	case VG_MSG_CONF_DECIDE:
		return vg_push_decode_decide(body, len, &x);
	case VG_MSG_CONF_FETCH:
		return len == FETCH_LEN ? 0 : -1;
	}
	return -1;
}

uint16_t
vg_push_chunks(uint32_t size)
{
	return size == 0 ? 1 :
	    (uint16_t)((size + VG_PUSH_CHUNK - 1) / VG_PUSH_CHUNK);
}

/* How many bytes chunk `index` of a file of `size` holds. */
static uint16_t
chunk_used(uint32_t size, uint16_t index)
{
	uint32_t at = (uint32_t)index * VG_PUSH_CHUNK;

	if (at >= size)
		return 0;
	return (uint16_t)(size - at < VG_PUSH_CHUNK ? size - at :
	    VG_PUSH_CHUNK);
}

/* ---- bodies */

size_t
vg_push_encode_offer(const struct vg_push_offer *o, uint8_t *buf,
    size_t buflen)
{
	if (buflen < OFFER_LEN)
		return 0;
	vg_put64(buf, o->push_id);
	vg_put32(buf + 8, o->epoch);
	vg_put32(buf + 12, o->size);
	vg_put16(buf + 16, o->chunks);
	vg_put16(buf + 18, o->flags);
	memcpy(buf + 20, o->sha256, VG_PUSH_SHA_LEN);
	return OFFER_LEN;
}

int
vg_push_decode_offer(const uint8_t *b, size_t len, struct vg_push_offer *o)
{
	struct vg_push_offer d;
	uint16_t keys;

	if (len != OFFER_LEN)
		return -1;
	d.push_id = vg_get64(b);
	d.epoch = vg_get32(b + 8);
	d.size = vg_get32(b + 12);
	d.chunks = vg_get16(b + 16);
	d.flags = vg_get16(b + 18);
	memcpy(d.sha256, b + 20, VG_PUSH_SHA_LEN);
	if (d.push_id == 0 || d.size > VG_PUSH_MAX_SIZE ||
	    d.chunks != vg_push_chunks(d.size) ||
	    (d.flags & ~VG_PUSH_OFFER_FLAGS) != 0)
		return -1;
	/* one key step at most, and never in a served file */
	keys = d.flags & VG_PUSH_OFFER_KEYS;
	if ((keys & (keys - 1)) != 0 ||
	    (keys != 0 && (d.flags & VG_PUSH_OFFER_COMMITTED)))
		return -1;
	*o = d;
	return 0;
}

size_t
vg_push_encode_chunk(const struct vg_push_chunk *c, uint8_t *buf,
    size_t buflen)
{
	if (buflen < CHUNK_LEN || c->used > VG_PUSH_CHUNK)
		return 0;
	memset(buf, 0, CHUNK_LEN);
	vg_put64(buf, c->push_id);
	vg_put32(buf + 8, c->epoch);
	vg_put16(buf + 12, c->index);
	vg_put16(buf + 14, c->used);
	if (c->used > 0)
		memcpy(buf + 16, c->data, c->used);
	return CHUNK_LEN;
}

int
vg_push_decode_chunk(const uint8_t *b, size_t len, struct vg_push_chunk *c)
{
	struct vg_push_chunk d;
	size_t i;

	if (len != CHUNK_LEN)
		return -1;
	d.push_id = vg_get64(b);
	d.epoch = vg_get32(b + 8);
	d.index = vg_get16(b + 12);
	d.used = vg_get16(b + 14);
	d.data = b + 16;
	if (d.push_id == 0 || d.used > VG_PUSH_CHUNK ||
	    d.index >= VG_PUSH_MAX_CHUNKS)
		return -1;
	/* the padding is zero: one datagram, one meaning */
	for (i = 16 + (size_t)d.used; i < CHUNK_LEN; i++)
		if (b[i] != 0)
			return -1;
	*c = d;
	return 0;
}

size_t
vg_push_encode_ack(const struct vg_push_ack *a, uint8_t *buf, size_t buflen)
{
	if (buflen < ACK_LEN)
		return 0;
	memset(buf, 0, ACK_LEN);
	vg_put64(buf, a->push_id);
	vg_put32(buf + 8, a->epoch);
	buf[12] = a->status;
	vg_put16(buf + 14, a->first_missing);
	vg_put64(buf + 16, a->map);
	/* NUL-padded, the last byte always NUL */
	memcpy(buf + 24, a->error, strnlen(a->error, VG_PUSH_ERR_LEN - 1));
	return ACK_LEN;
}

int
vg_push_decode_ack(const uint8_t *b, size_t len, struct vg_push_ack *a)
{
	struct vg_push_ack d;
	size_t n;

	if (len != ACK_LEN)
		return -1;
	d.push_id = vg_get64(b);
	d.epoch = vg_get32(b + 8);
	d.status = b[12];
	d.first_missing = vg_get16(b + 14);
	d.map = vg_get64(b + 16);
	if (d.push_id == 0 || b[13] != 0 || d.status < VG_PUSH_RECEIVING ||
	    d.status > VG_PUSH_DONE || d.first_missing > VG_PUSH_MAX_CHUNKS)
		return -1;
	n = strnlen((const char *)b + 24, VG_PUSH_ERR_LEN);
	if (n == VG_PUSH_ERR_LEN)		/* not NUL-terminated */
		return -1;
	memcpy(d.error, b + 24, n);
	d.error[n] = '\0';
	*a = d;
	return 0;
}

size_t
vg_push_encode_decide(const struct vg_push_decide *x, uint8_t *buf,
    size_t buflen)
{
	if (buflen < DECIDE_LEN)
		return 0;
	memset(buf, 0, DECIDE_LEN);
	vg_put64(buf, x->push_id);
	vg_put32(buf + 8, x->epoch);
	buf[12] = x->step;
	return DECIDE_LEN;
}

int
vg_push_decode_decide(const uint8_t *b, size_t len, struct vg_push_decide *x)
{
	struct vg_push_decide d;

	if (len != DECIDE_LEN)
		return -1;
	d.push_id = vg_get64(b);
	d.epoch = vg_get32(b + 8);
	d.step = b[12];
	if (d.push_id == 0 || d.step < VG_PUSH_ABORT || d.step > VG_PUSH_FINAL ||
	    b[13] != 0 || b[14] != 0 || b[15] != 0)
		return -1;
	*x = d;
	return 0;
}

/* ---- the sender */

static int
bit(const uint8_t *set, uint32_t i)
{
	return set[i / 8] >> (i % 8) & 1;
}

static void
set_bit(uint8_t *set, uint32_t i)
{
	set[i / 8] |= (uint8_t)(1u << (i % 8));
}

int
vg_push_tx_init(struct vg_push_tx *t, uint64_t push_id, uint32_t epoch,
    const uint8_t *file, uint32_t size)
{
	memset(t, 0, sizeof(*t));
	if (size > VG_PUSH_MAX_SIZE || push_id == 0)
		return -1;
	t->file = file;
	t->offer.push_id = push_id;
	t->offer.epoch = epoch;
	t->offer.size = size;
	t->offer.chunks = vg_push_chunks(size);
	crypto_hash_sha256(t->offer.sha256, file, size);
	return 0;
}

size_t
vg_push_tx_round(const struct vg_push_tx *t, uint16_t *idx, size_t max)
{
	size_t n = 0;
	uint32_t i;

	if (max > VG_PUSH_PER_ROUND)
		max = VG_PUSH_PER_ROUND;
	for (i = 0; i < t->offer.chunks && n < max; i++)
		if (!bit(t->acked, i))
			idx[n++] = (uint16_t)i;
	return n;
}

void
vg_push_tx_chunk(const struct vg_push_tx *t, uint16_t index,
    struct vg_push_chunk *c)
{
	c->push_id = t->offer.push_id;
	c->epoch = t->offer.epoch;
	c->index = index;
	c->used = chunk_used(t->offer.size, index);
	c->data = t->file + (size_t)index * VG_PUSH_CHUNK;
}

static void
tx_mark(struct vg_push_tx *t, uint32_t i)
{
	if (i < t->offer.chunks && !bit(t->acked, i)) {
		set_bit(t->acked, i);
		t->n_acked++;
	}
}

int
vg_push_tx_ack(struct vg_push_tx *t, const struct vg_push_ack *a)
{
	uint32_t i;

	if (a->push_id != t->offer.push_id || a->epoch != t->offer.epoch ||
	    a->first_missing > t->offer.chunks)
		return -1;
	for (i = 0; i < a->first_missing; i++)
		tx_mark(t, i);
	for (i = 0; i < VG_PUSH_ACK_MAP; i++)
		if (a->map >> i & 1)
			tx_mark(t, (uint32_t)a->first_missing + 1 + i);
	return 0;
}

int
vg_push_tx_done(const struct vg_push_tx *t)
{
	return t->n_acked == t->offer.chunks;
}

/* ---- the receiver */

void
vg_push_rx_free(struct vg_push_rx *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

static int
offer_same(const struct vg_push_offer *x, const struct vg_push_offer *y)
{
	return x->push_id == y->push_id && x->epoch == y->epoch &&
	    x->size == y->size && x->chunks == y->chunks &&
	    x->flags == y->flags &&
	    memcmp(x->sha256, y->sha256, VG_PUSH_SHA_LEN) == 0;
}

int
vg_push_rx_offer(struct vg_push_rx *r, const struct vg_push_offer *o,
    uint32_t running_epoch, char *err, size_t errlen)
{
	uint8_t *buf;

	if (r->active && offer_same(o, &r->offer))
		return 0;			/* the same offer again */
	/* the running epoch itself goes to the check: a node that a safety
	 * push adds runs the pushed file already (stage.c) */
	if (o->epoch < running_epoch ||
	    (o->epoch == running_epoch && (o->flags & VG_PUSH_OFFER_COMMITTED))) {
		snprintf(err, errlen, "epoch %u is not above the running "
		    "epoch %u", o->epoch, running_epoch);
		return -1;
	}
	if (r->active && o->epoch < r->offer.epoch) {
		snprintf(err, errlen, "epoch %u is below epoch %u, being "
		    "received", o->epoch, r->offer.epoch);
		return -1;
	}
	if (r->active && o->epoch == r->offer.epoch) {
		/* one file per epoch: the first offer holds it */
		snprintf(err, errlen, "epoch %u is being received from push "
		    "%016llx, another file", o->epoch,
		    (unsigned long long)r->offer.push_id);
		return -1;
	}
	if (o->size > VG_PUSH_MAX_SIZE || o->chunks != vg_push_chunks(o->size)) {
		snprintf(err, errlen, "%u bytes in %u chunks do not add up",
		    o->size, o->chunks);
		return -1;
	}
	if ((buf = malloc(o->size ? o->size : 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	vg_push_rx_free(r);
	r->offer = *o;
	r->buf = buf;
	r->active = 1;
	return 0;
}

int
vg_push_rx_chunk(struct vg_push_rx *r, const struct vg_push_chunk *c)
{
	if (!r->active || c->push_id != r->offer.push_id ||
	    c->epoch != r->offer.epoch || c->index >= r->offer.chunks ||
	    c->used != chunk_used(r->offer.size, c->index))
		return -1;
	if (bit(r->have, c->index))
		return 0;
	if (c->used > 0)
		memcpy(r->buf + (size_t)c->index * VG_PUSH_CHUNK, c->data,
		    c->used);
	set_bit(r->have, c->index);
	r->n_have++;
	return 0;
}

void
vg_push_rx_ack(const struct vg_push_rx *r, struct vg_push_ack *a)
{
	uint32_t first = 0, i;

	memset(a, 0, sizeof(*a));
	a->push_id = r->offer.push_id;
	a->epoch = r->offer.epoch;
	a->status = VG_PUSH_RECEIVING;
	while (first < r->offer.chunks && bit(r->have, first))
		first++;
	a->first_missing = (uint16_t)first;
	for (i = 0; i < VG_PUSH_ACK_MAP; i++)
		if (first + 1 + i < r->offer.chunks &&
		    bit(r->have, first + 1 + i))
			a->map |= 1ULL << i;
}

int
vg_push_rx_complete(struct vg_push_rx *r, char *err, size_t errlen)
{
	uint8_t sha[VG_PUSH_SHA_LEN];

	if (!r->active || r->n_have < r->offer.chunks)
		return 0;
	crypto_hash_sha256(sha, r->buf, r->offer.size);
	if (sodium_memcmp(sha, r->offer.sha256, sizeof(sha)) != 0) {
		snprintf(err, errlen, "the %u bytes received do not match the "
		    "offer's SHA-256", r->offer.size);
		memset(r->have, 0, sizeof(r->have));
		r->n_have = 0;
		return -1;
	}
	return 1;
}
