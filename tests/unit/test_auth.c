/*
 * test_auth: auth.c on its own: the anti-replay window (gaps, late
 * messages, new incarnations, jumps) and the key file (sizes, modes, a
 * missing file, a directory, a symlink), and a rotation's key slots
 * (the order a MAC is tried in, each slot loaded from its setting).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth.h"
#include "proto.h"

/* ---- auth: the replay window itself */

static void
test_replay_update(void **state)
{
	struct vg_replay r;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(vg_replay_check(&r, 5, 10), VG_DROP_NONE);
	/* the first of an incarnation starts afresh, whatever its seq */
	assert_int_equal(vg_replay_update(&r, 5, 10), 0);
	assert_true(r.incarnation == 5 && r.high == 10 && r.bitmap == 1);
	assert_int_equal(vg_replay_check(&r, 5, 10), VG_DROP_REPLAY);
	assert_int_equal(vg_replay_check(&r, 4, 11), VG_DROP_STALE);
	/* the next one: no gap */
	assert_int_equal(vg_replay_update(&r, 5, 11), 0);
	assert_true(r.bitmap == 3);
	/* 12, 13, 14 skipped */
	assert_int_equal(vg_replay_check(&r, 5, 15), VG_DROP_NONE);
	assert_int_equal(vg_replay_update(&r, 5, 15), 3);
	assert_true(r.high == 15 && r.bitmap == ((3ULL << 4) | 1));
	/* a late one fills a hole */
	assert_int_equal(vg_replay_check(&r, 5, 13), VG_DROP_NONE);
	assert_int_equal(vg_replay_update(&r, 5, 13), -1);
	assert_int_equal(vg_replay_check(&r, 5, 13), VG_DROP_REPLAY);
	assert_int_equal(vg_replay_check(&r, 5, 12), VG_DROP_NONE);
	assert_int_equal(vg_replay_check(&r, 5, 14), VG_DROP_NONE);
	/* a new incarnation: 0, window reset */
	assert_int_equal(vg_replay_update(&r, 6, 1), 0);
	assert_true(r.incarnation == 6 && r.high == 1 && r.bitmap == 1);
	assert_int_equal(vg_replay_check(&r, 5, 100), VG_DROP_STALE);
	/* a jump of exactly the window */
	assert_int_equal(vg_replay_update(&r, 6, 1 + VG_REPLAY_WINDOW), 63);
	assert_true(r.bitmap == 1);
	assert_int_equal(vg_replay_check(&r, 6, 1), VG_DROP_REPLAY);
	assert_int_equal(vg_replay_check(&r, 6, 2), VG_DROP_NONE);
	/* a jump of 63 keeps the old high at the window's last bit */
	memset(&r, 0, sizeof(r));
	vg_replay_update(&r, 7, 1);
	assert_int_equal(vg_replay_update(&r, 7, 64), 62);
	assert_true(r.bitmap == ((1ULL << 63) | 1));
	assert_int_equal(vg_replay_check(&r, 7, 1), VG_DROP_REPLAY);
	/* an absurd jump is clamped */
	assert_int_equal(vg_replay_update(&r, 7, 64 + (1ULL << 40)), INT32_MAX);
	assert_true(r.bitmap == 1);
}

/* ---- auth: key files */

struct keydir {
	char	dir[64];
	char	path[128];
};

static int
keydir_setup(void **state)
{
	struct keydir *k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return -1;
	snprintf(k->dir, sizeof(k->dir), "/tmp/vg_test_auth.XXXXXX");
	if (mkdtemp(k->dir) == NULL) {
		free(k);
		return -1;
	}
	*state = k;
	return 0;
}

static const char *const key_files[] = { "key", "key.0644", "key.0640",
    "key.31", "key.1024", "key.1025", "link", "dir", "cur", "new", "old",
    "new.0644", "fifo", NULL };

static int
keydir_teardown(void **state)
{
	struct keydir *k = *state;
	char p[192];
	int i;

	for (i = 0; key_files[i] != NULL; i++) {
		snprintf(p, sizeof(p), "%s/%s", k->dir, key_files[i]);
		if (unlink(p) == -1 && errno != ENOENT)
			rmdir(p);
	}
	rmdir(k->dir);
	free(k);
	return 0;
}

static const char *
write_key(struct keydir *k, const char *name, size_t len, mode_t mode)
{
	uint8_t data[2048];
	size_t i;
	int fd;

	assert_true(len <= sizeof(data));
	for (i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 13 + 1);
	snprintf(k->path, sizeof(k->path), "%s/%s", k->dir, name);
	fd = open(k->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return k->path;
}

static void
test_load_key_ok(void **state)
{
	struct keydir *k = *state;
	struct vg_auth a;
	char err[256];
	uint8_t want[32];
	size_t i;

	for (i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(i * 13 + 1);
	memset(&a, 0, sizeof(a));
	err[0] = '\0';
	assert_int_equal(vg_auth_load_key(&a, write_key(k, "key", 32, 0600), err,
	    sizeof(err)), 0);
	assert_int_equal(a.mode, VG_AUTH_HMAC);
	assert_int_equal(a.keylen, 32);
	assert_memory_equal(a.key, want, 32);
	/* 0400 is stricter still */
	assert_int_equal(chmod(k->path, 0400), 0);
	assert_int_equal(vg_auth_load_key(&a, k->path, err, sizeof(err)), 0);
	/* the largest key */
	assert_int_equal(vg_auth_load_key(&a, write_key(k, "key.1024", 1024,
	    0600), err, sizeof(err)), 0);
	assert_int_equal(a.keylen, 1024);
	vg_auth_wipe(&a);
	assert_int_equal(a.keylen, 0);
}

static void
test_load_key_mode_refused(void **state)
{
	struct keydir *k = *state;
	struct vg_auth a;
	char err[256];

	memset(&a, 0, sizeof(a));
	err[0] = '\0';
	assert_int_equal(vg_auth_load_key(&a, write_key(k, "key.0644", 32, 0644),
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "0644"));
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(a.keylen, 0);
	err[0] = '\0';
	assert_int_equal(vg_auth_load_key(&a, write_key(k, "key.0640", 32, 0640),
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "0640"));
	assert_int_equal(a.keylen, 0);
}

static void
test_load_key_size_refused(void **state)
{
	struct keydir *k = *state;
	struct vg_auth a;
	char err[256];

	memset(&a, 0, sizeof(a));
	err[0] = '\0';
	assert_int_equal(vg_auth_load_key(&a, write_key(k, "key.31", 31, 0600),
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "31 bytes"));
	assert_int_equal(a.keylen, 0);
	err[0] = '\0';
	assert_int_equal(vg_auth_load_key(&a, write_key(k, "key.1025", 1025,
	    0600), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "or more bytes"));
	assert_int_equal(a.keylen, 0);
}

static void
test_load_key_missing_refused(void **state)
{
	struct keydir *k = *state;
	struct vg_auth a;
	char err[256], p[192];

	memset(&a, 0, sizeof(a));
	snprintf(p, sizeof(p), "%s/no-such-key", k->dir);
	err[0] = '\0';
	assert_int_equal(vg_auth_load_key(&a, p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no-such-key"));
	assert_non_null(strstr(err, strerror(ENOENT)));
	/* a directory, a symlink to a good key */
	snprintf(p, sizeof(p), "%s/dir", k->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(vg_auth_load_key(&a, p, err, sizeof(err)), -1);
	write_key(k, "key", 32, 0600);
	snprintf(p, sizeof(p), "%s/link", k->dir);
	assert_int_equal(symlink(k->path, p), 0);
	assert_int_equal(vg_auth_load_key(&a, p, err, sizeof(err)), -1);
	assert_int_equal(a.keylen, 0);
	/* a FIFO: refused at once (it held the open, a reload's on the
	 * loop, until a writer came); alarm: a hang fails the test */
	snprintf(p, sizeof(p), "%s/fifo", k->dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	alarm(5);
	assert_int_equal(vg_auth_load_key(&a, p, err, sizeof(err)), -1);
	alarm(0);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(a.keylen, 0);
}

/* ---- auth: a rotation's key slots */

static void
key_bytes(uint8_t key[32], uint8_t salt)
{
	int i;

	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)(i * 5 + salt);
}

/* A signed heartbeat-sized packet. */
static size_t
signed_pkt(const struct vg_auth *a, uint8_t *pkt, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		pkt[i] = (uint8_t)i;
	vg_auth_sign(a, pkt, len);
	return len;
}

/* Tried current, then next, then previous: only the slots that hold a key;
 * signing is always with the current. */
static void
test_verify_slots(void **state)
{
	struct vg_auth a, cur, nxt, prev, stranger;
	uint8_t k[32], pkt[64];
	size_t len;

	(void)state;
	memset(&a, 0, sizeof(a));
	key_bytes(k, 1);
	vg_auth_set_key(&a, k, sizeof(k));
	memset(&cur, 0, sizeof(cur));
	vg_auth_set_key(&cur, k, sizeof(k));
	memset(&nxt, 0, sizeof(nxt));
	key_bytes(k, 2);
	vg_auth_set_key(&nxt, k, sizeof(k));
	memset(&prev, 0, sizeof(prev));
	key_bytes(k, 3);
	vg_auth_set_key(&prev, k, sizeof(k));
	memset(&stranger, 0, sizeof(stranger));
	key_bytes(k, 4);
	vg_auth_set_key(&stranger, k, sizeof(k));

	/* the current key only: next and previous are refused */
	len = signed_pkt(&cur, pkt, sizeof(pkt));
	assert_int_equal(vg_auth_verify_slot(&a, pkt, len), VG_KEY_CURRENT);
	len = signed_pkt(&nxt, pkt, sizeof(pkt));
	assert_int_equal(vg_auth_verify_slot(&a, pkt, len), -1);
	assert_false(vg_auth_verify(&a, pkt, len));
	len = signed_pkt(&prev, pkt, sizeof(pkt));
	assert_int_equal(vg_auth_verify_slot(&a, pkt, len), -1);
	assert_false(vg_auth_has(&a, VG_KEY_NEXT));
	assert_false(vg_auth_has(&a, VG_KEY_PREVIOUS));

	/* with next */
	key_bytes(k, 2);
	vg_auth_set_slot(&a, VG_KEY_NEXT, k, sizeof(k));
	assert_true(vg_auth_has(&a, VG_KEY_NEXT));
	len = signed_pkt(&nxt, pkt, sizeof(pkt));
	assert_int_equal(vg_auth_verify_slot(&a, pkt, len), VG_KEY_NEXT);
	assert_true(vg_auth_verify(&a, pkt, len));
	len = signed_pkt(&prev, pkt, sizeof(pkt));
	assert_int_equal(vg_auth_verify_slot(&a, pkt, len), -1);

	/* and previous */
	key_bytes(k, 3);
	vg_auth_set_slot(&a, VG_KEY_PREVIOUS, k, sizeof(k));
	len = signed_pkt(&prev, pkt, sizeof(pkt));
	assert_int_equal(vg_auth_verify_slot(&a, pkt, len), VG_KEY_PREVIOUS);
	len = signed_pkt(&cur, pkt, sizeof(pkt));
	assert_int_equal(vg_auth_verify_slot(&a, pkt, len), VG_KEY_CURRENT);
	len = signed_pkt(&stranger, pkt, sizeof(pkt));
	assert_int_equal(vg_auth_verify_slot(&a, pkt, len), -1);

	/* signing is with the current key whatever else is held */
	len = signed_pkt(&a, pkt, sizeof(pkt));
	assert_int_equal(vg_auth_verify_slot(&cur, pkt, len), VG_KEY_CURRENT);
	assert_int_equal(vg_auth_verify_slot(&nxt, pkt, len), -1);

	/* the same sending key: the same as far as the keeper cares */
	assert_true(vg_auth_same(&a, &cur));
	assert_false(vg_auth_same(&a, &nxt));

	/* the same key in two slots: the first wins (current before next) */
	key_bytes(k, 1);
	vg_auth_set_slot(&a, VG_KEY_NEXT, k, sizeof(k));
	len = signed_pkt(&cur, pkt, sizeof(pkt));
	assert_int_equal(vg_auth_verify_slot(&a, pkt, len), VG_KEY_CURRENT);

	vg_auth_wipe(&a);
	assert_false(vg_auth_has(&a, VG_KEY_NEXT));
	assert_false(vg_auth_has(&a, VG_KEY_PREVIOUS));
	assert_string_equal(vg_key_slot_name(VG_KEY_PREVIOUS), "previous");
}

static const char *
write_salted(struct keydir *k, const char *name, uint8_t salt, mode_t mode)
{
	uint8_t data[32];
	int fd;

	key_bytes(data, salt);
	snprintf(k->path, sizeof(k->path), "%s/%s", k->dir, name);
	fd = open(k->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return k->path;
}

/* vg_auth_load: every key the config names, each with its own checks; a
 * bad one names its setting and line, and leaves no key behind. */
static void
test_load_rotation(void **state)
{
	struct keydir *k = *state;
	struct vg_conf *c = calloc(1, sizeof(*c));
	struct vg_auth a, nxt;
	uint8_t kb[32], pkt[64];
	char err[256];
	size_t len;
	int line;

	assert_non_null(c);
	c->auth = VG_AUTH_HMAC;
	snprintf(c->auth_key_file, sizeof(c->auth_key_file), "%s",
	    write_salted(k, "cur", 1, 0600));
	c->auth_key_file_line = 3;
	snprintf(c->auth_key_next, sizeof(c->auth_key_next), "%s",
	    write_salted(k, "new", 2, 0600));
	c->auth_key_next_line = 4;
	snprintf(c->auth_key_previous, sizeof(c->auth_key_previous), "%s",
	    write_salted(k, "old", 3, 0600));
	c->auth_key_previous_line = 5;
	memset(&a, 0, sizeof(a));
	assert_int_equal(vg_auth_load(&a, c, &line, err, sizeof(err)), 0);
	assert_true(vg_auth_has(&a, VG_KEY_CURRENT));
	assert_true(vg_auth_has(&a, VG_KEY_NEXT));
	assert_true(vg_auth_has(&a, VG_KEY_PREVIOUS));
	memset(&nxt, 0, sizeof(nxt));
	key_bytes(kb, 2);
	vg_auth_set_key(&nxt, kb, sizeof(kb));
	len = signed_pkt(&nxt, pkt, sizeof(pkt));
	assert_int_equal(vg_auth_verify_slot(&a, pkt, len), VG_KEY_NEXT);

	/* a next key readable by others: refused, at its line */
	snprintf(c->auth_key_next, sizeof(c->auth_key_next), "%s",
	    write_salted(k, "new.0644", 2, 0644));
	err[0] = '\0';
	assert_int_equal(vg_auth_load(&a, c, &line, err, sizeof(err)), -1);
	assert_int_equal(line, 4);
	assert_non_null(strstr(err, "auth_key_next"));
	assert_non_null(strstr(err, "chmod 600"));
	assert_false(vg_auth_has(&a, VG_KEY_CURRENT));
	assert_int_equal(a.keylen, 0);

	/* a missing previous key */
	c->auth_key_next[0] = '\0';
	snprintf(c->auth_key_previous, sizeof(c->auth_key_previous),
	    "%s/no-such-key", k->dir);
	assert_int_equal(vg_auth_load(&a, c, &line, err, sizeof(err)), -1);
	assert_int_equal(line, 5);
	assert_non_null(strstr(err, "auth_key_previous"));

	/* none configured: current only */
	c->auth_key_previous[0] = '\0';
	assert_int_equal(vg_auth_load(&a, c, &line, err, sizeof(err)), 0);
	assert_true(vg_auth_has(&a, VG_KEY_CURRENT));
	assert_false(vg_auth_has(&a, VG_KEY_NEXT));
	assert_false(vg_auth_has(&a, VG_KEY_PREVIOUS));
	assert_int_equal(vg_auth_verify_slot(&a, pkt, len), -1);
	vg_auth_wipe(&a);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_update),
		cmocka_unit_test_setup_teardown(test_load_key_ok, keydir_setup,
		    keydir_teardown),
		cmocka_unit_test_setup_teardown(test_load_key_mode_refused,
		    keydir_setup, keydir_teardown),
		cmocka_unit_test_setup_teardown(test_load_key_size_refused,
		    keydir_setup, keydir_teardown),
		cmocka_unit_test_setup_teardown(test_load_key_missing_refused,
		    keydir_setup, keydir_teardown),
		cmocka_unit_test(test_verify_slots),
		cmocka_unit_test_setup_teardown(test_load_rotation,
		    keydir_setup, keydir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
