/*
 * test_lastsend: the record of a node's last send, read by the next agent
 * (agent/lastsend.c).  vg_lastsend_since on made-up records and clocks;
 * then the shared memory object of a fresh directory: opened, stamped,
 * read back by a second open as the restarted agent would, and refused
 * when it names another incarnation or node, or is not ours alone.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lastsend.h"

#define NODE	2
#define INC	1796600000000ULL

static struct vg_lastsend_rec
rec(vg_ns boot, int64_t real)
{
	struct vg_lastsend_rec r;

	memset(&r, 0, sizeof(r));
	memcpy(r.magic, VG_LASTSEND_MAGIC, sizeof(r.magic));
	r.node_id = NODE;
	r.incarnation = INC;
	r.boot_ns = boot;
	r.real_ns = real;
	return r;
}

static void
test_since(void **state)
{
	struct vg_lastsend_rec r;
	vg_ns now = VG_MS(50000);
	int64_t real = (int64_t)1800000000 * VG_NS_PER_S;

	(void)state;
	/* both clocks 100 ms on: sent 100 ms ago */
	r = rec(now - VG_MS(100), real - VG_MS(100));
	assert_int_equal(vg_lastsend_since(&r, NODE, INC, now, real),
	    now - VG_MS(100));
	/* the wall clock says less (set back 60 ms): the lesser counts */
	r = rec(now - VG_MS(100), real - VG_MS(40));
	assert_int_equal(vg_lastsend_since(&r, NODE, INC, now, real),
	    now - VG_MS(40));
	/* the boot clock says less (a time namespace's offset): so */
	r = rec(now - VG_MS(10), real - VG_MS(100));
	assert_int_equal(vg_lastsend_since(&r, NODE, INC, now, real),
	    now - VG_MS(10));
	/* nothing: another incarnation (a start that kept no record came
	 * between), none before, another node, no magic, a stamp ahead of a
	 * clock, no stamp */
	r = rec(now - VG_MS(100), real - VG_MS(100));
	assert_int_equal(vg_lastsend_since(&r, NODE, INC + 1, now, real), -1);
	assert_int_equal(vg_lastsend_since(&r, NODE, 0, now, real), -1);
	assert_int_equal(vg_lastsend_since(&r, NODE + 1, INC, now, real), -1);
	r.magic[0] = 'x';
	assert_int_equal(vg_lastsend_since(&r, NODE, INC, now, real), -1);
	r = rec(now + 1, real - VG_MS(100));
	assert_int_equal(vg_lastsend_since(&r, NODE, INC, now, real), -1);
	r = rec(now - VG_MS(100), real + 1);
	assert_int_equal(vg_lastsend_since(&r, NODE, INC, now, real), -1);
	r = rec(0, 0);
	assert_int_equal(vg_lastsend_since(&r, NODE, INC, now, real), -1);
}

static void
test_restart(void **state)
{
	struct vg_lastsend a, b;
	char dir[] = "/tmp/vg-lastsend-XXXXXX", err[256], name[64];
	char path[128];
	vg_ns last, t0, t1;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(vg_lastsend_name(dir, name, sizeof(name)), 0);
	(void)shm_unlink(name);		/* an inode of an old run */
	/* the first agent (incarnation INC): nothing kept yet */
	if (vg_lastsend_open(&a, dir, NODE, 0, INC, &last, err,
	    sizeof(err)) == -1)
		fail_msg("open: %s", err);
	assert_int_equal(last, -1);
	assert_string_equal(a.name, name);
	t0 = vg_now();
	vg_lastsend_mark(&a);
	t1 = vg_now();
	/* killed; the next agent (INC + 1) reads the stamp */
	munmap(a.rec, sizeof(*a.rec));
	if (vg_lastsend_open(&b, dir, NODE, INC, INC + 1, &last, err,
	    sizeof(err)) == -1)
		fail_msg("restart: %s", err);
	assert_true(last >= t0 - VG_MS(1) && last <= t1 + VG_MS(1));
	munmap(b.rec, sizeof(*b.rec));
	/* it died before it sent: the one after it (INC + 2) reads the same
	 * stamp, still the node's last send */
	if (vg_lastsend_open(&b, dir, NODE, INC + 1, INC + 2, &last, err,
	    sizeof(err)) == -1)
		fail_msg("restart: %s", err);
	assert_true(last >= t0 - VG_MS(1) && last <= t1 + VG_MS(1));
	munmap(b.rec, sizeof(*b.rec));
	/* a start (INC + 3) that kept no record came between: the record
	 * names INC + 2, not INC + 3, and gives nothing to INC + 4 */
	if (vg_lastsend_open(&b, dir, NODE, INC + 3, INC + 4, &last, err,
	    sizeof(err)) == -1)
		fail_msg("restart: %s", err);
	assert_int_equal(last, -1);
	assert_int_equal(b.rec->boot_ns, 0);
	assert_int_equal(b.rec->incarnation, INC + 4);
	vg_lastsend_mark(&b);		/* INC + 5 would read this... */
	munmap(b.rec, sizeof(*b.rec));
	/* ...but not ours alone (mode 0644): removed and made anew, nothing
	 * read */
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	assert_int_equal(chmod(path, 0644), 0);
	if (vg_lastsend_open(&b, dir, NODE, INC + 4, INC + 5, &last, err,
	    sizeof(err)) == -1)
		fail_msg("mode: %s", err);
	assert_int_equal(last, -1);
	munmap(b.rec, sizeof(*b.rec));
	fd = shm_unlink(name);
	assert_int_equal(fd, 0);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_since),
		cmocka_unit_test(test_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
