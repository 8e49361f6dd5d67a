/*
 * auth: key loading, HMAC sign/verify in constant time, replay window.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"

void
vg_auth_set_key(struct vg_auth *a, const uint8_t *key, size_t len)
{
	if (len > VG_KEY_MAX)
		len = VG_KEY_MAX;
	a->mode = VG_AUTH_HMAC;
	memcpy(a->key, key, len);
	a->keylen = len;
	crypto_auth_hmacsha256_init(&a->keyed, a->key, a->keylen);
}

static const char *const slot_names[VG_KEY_SLOTS] = {
	"current", "next", "previous"
};
static const char *const slot_settings[VG_KEY_SLOTS] = {
	"auth_key_file", "auth_key_next", "auth_key_previous"
};

const char *
vg_key_slot_name(enum vg_key_slot s)
{
	return (unsigned)s < VG_KEY_SLOTS ? slot_names[s] : "?";
}

void
vg_auth_set_slot(struct vg_auth *a, enum vg_key_slot s, const uint8_t *key,
    size_t len)
{
	struct vg_auth_key *k;

	if (s == VG_KEY_CURRENT) {
		vg_auth_set_key(a, key, len);
		return;
	}
	if ((unsigned)s >= VG_KEY_SLOTS)
		return;
	k = &a->alt[s - 1];
	if (len > VG_KEY_MAX)
		len = VG_KEY_MAX;
	memcpy(k->key, key, len);
	k->keylen = len;
	crypto_auth_hmacsha256_init(&k->keyed, k->key, k->keylen);
}

int
vg_auth_has(const struct vg_auth *a, enum vg_key_slot s)
{
	if (s == VG_KEY_CURRENT)
		return a->mode == VG_AUTH_HMAC && a->keylen > 0;
	return (unsigned)s < VG_KEY_SLOTS && a->mode == VG_AUTH_HMAC &&
	    a->alt[s - 1].keylen > 0;
}

void
vg_auth_set_none(struct vg_auth *a)
{
	vg_auth_wipe(a);
	a->mode = VG_AUTH_NONE;
}

void
vg_auth_wipe(struct vg_auth *a)
{
	sodium_memzero(a->key, sizeof(a->key));
	sodium_memzero(&a->keyed, sizeof(a->keyed));
	a->keylen = 0;
	sodium_memzero(a->alt, sizeof(a->alt));
}

int
vg_auth_load_key(struct vg_auth *a, const char *path, char *err, size_t errlen)
{
	return vg_auth_load_slot(a, VG_KEY_CURRENT, path, err, errlen);
}

int
vg_auth_load_slot(struct vg_auth *a, enum vg_key_slot slot, const char *path,
    char *err, size_t errlen)
{
	const char *what = slot_settings[(unsigned)slot < VG_KEY_SLOTS ?
	    slot : 0];
	uint8_t buf[VG_KEY_MAX + 1];
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd;

	/* not through a link; O_NONBLOCK: a FIFO put there fails below at
	 * once, it does not hold the open until a writer comes */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1) {
		snprintf(err, errlen, "%s %s: %s", what, path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s: not a regular file",
		    what, path);
		close(fd);
		return -1;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(err, errlen, "%s %s: mode %04o lets group "
		    "or others read it; chmod 600 it", what, path,
		    (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s %s: %s", what, path,
			    strerror(errno));
			close(fd);
			sodium_memzero(buf, sizeof(buf));
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len < VG_KEY_MIN || len > VG_KEY_MAX) {
		snprintf(err, errlen, "%s %s: %zu%s bytes; a key is "
		    "%d..%d bytes (make one with: head -c 32 /dev/urandom)",
		    what, path, len, len > VG_KEY_MAX ? " or more" : "", VG_KEY_MIN,
		    VG_KEY_MAX);
		sodium_memzero(buf, sizeof(buf));
		return -1;
	}
	vg_auth_set_slot(a, slot, buf, len);
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

int
vg_auth_load(struct vg_auth *a, const struct vg_conf *c, int *line,
    char *err, size_t errlen)
{
	vg_auth_wipe(a);
	*line = 0;
	if (c->auth == VG_AUTH_NONE) {
		vg_auth_set_none(a);
		return 0;
	}
	a->mode = VG_AUTH_HMAC;
	if (vg_auth_load_slot(a, VG_KEY_CURRENT, c->auth_key_file, err,
	    errlen) == -1) {
		*line = c->auth_key_file_line;
		goto fail;
	}
	if (c->auth_key_next[0] != '\0' && vg_auth_load_slot(a, VG_KEY_NEXT,
	    c->auth_key_next, err, errlen) == -1) {
		*line = c->auth_key_next_line;
		goto fail;
	}
	if (c->auth_key_previous[0] != '\0' && vg_auth_load_slot(a,
	    VG_KEY_PREVIOUS, c->auth_key_previous, err, errlen) == -1) {
		*line = c->auth_key_previous_line;
		goto fail;
	}
	return 0;
fail:
	vg_auth_wipe(a);
	return -1;
}

static void
mac(const crypto_auth_hmacsha256_state *keyed, const uint8_t *data,
    size_t len, uint8_t out[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st = *keyed;

	crypto_auth_hmacsha256_update(&st, data, len);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

void
vg_auth_sign(const struct vg_auth *a, uint8_t *pkt, size_t len)
{
	uint8_t full[crypto_auth_hmacsha256_BYTES];

	if (len < VG_MAC_LEN)
		return;
	if (a->mode == VG_AUTH_NONE) {
		memset(pkt + len - VG_MAC_LEN, 0, VG_MAC_LEN);
		return;
	}
	mac(&a->keyed, pkt, len - VG_MAC_LEN, full);
	memcpy(pkt + len - VG_MAC_LEN, full, VG_MAC_LEN);
}

static int
mac_ok(const crypto_auth_hmacsha256_state *keyed, const uint8_t *pkt,
    size_t len)
{
	uint8_t full[crypto_auth_hmacsha256_BYTES];
	int ok;

	mac(keyed, pkt, len - VG_MAC_LEN, full);
	ok = sodium_memcmp(full, pkt + len - VG_MAC_LEN, VG_MAC_LEN) == 0;
	sodium_memzero(full, sizeof(full));
	return ok;
}

int
vg_auth_verify_slot(const struct vg_auth *a, const uint8_t *pkt, size_t len)
{
	size_t i;

	if (len < VG_MAC_LEN)
		return -1;
	if (a->mode == VG_AUTH_NONE)
		return VG_KEY_CURRENT;
	if (mac_ok(&a->keyed, pkt, len))
		return VG_KEY_CURRENT;
	for (i = 0; i < VG_KEY_SLOTS - 1; i++)
		if (a->alt[i].keylen > 0 && mac_ok(&a->alt[i].keyed, pkt, len))
			return (int)i + 1;
	return -1;
}

int
vg_auth_verify(const struct vg_auth *a, const uint8_t *pkt, size_t len)
{
	return vg_auth_verify_slot(a, pkt, len) >= 0;
}

enum vg_drop
vg_replay_check(const struct vg_replay *r, uint64_t incarnation, uint64_t seq)
{
	uint64_t behind;

	if (r->incarnation == 0 || incarnation > r->incarnation)
		return VG_DROP_NONE;
	if (incarnation < r->incarnation)
		return VG_DROP_STALE;
	if (seq > r->high)
		return VG_DROP_NONE;
	behind = r->high - seq;
	if (behind >= VG_REPLAY_WINDOW)
		return VG_DROP_REPLAY;
	if (r->bitmap & (1ULL << behind))
		return VG_DROP_REPLAY;
	return VG_DROP_NONE;
}

int64_t
vg_replay_update(struct vg_replay *r, uint64_t incarnation, uint64_t seq)
{
	uint64_t shift;
	int64_t gap;

	if (r->incarnation == 0 || incarnation > r->incarnation) {
		r->incarnation = incarnation;
		r->high = seq;
		r->bitmap = 1;
		return 0;
	}
	if (seq > r->high) {
		shift = seq - r->high;
		/* a forged jump cannot be authentic, but keep the count sane */
		gap = shift - 1 > (uint64_t)INT32_MAX ? INT32_MAX :
		    (int64_t)(shift - 1);
		r->bitmap = shift >= VG_REPLAY_WINDOW ? 1 : (r->bitmap << shift) | 1;
		r->high = seq;
		return gap;
	}
	r->bitmap |= 1ULL << (r->high - seq);
	return -1;
}

void
vg_replay_close_below(struct vg_replay *r)
{
	r->bitmap = ~UINT64_C(0);
}

int
vg_auth_same(const struct vg_auth *a, const struct vg_auth *b)
{
	return a->mode == b->mode && a->keylen == b->keylen &&
	    (a->keylen == 0 || sodium_memcmp(a->key, b->key, a->keylen) == 0);
}
