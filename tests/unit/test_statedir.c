/*
 * test_statedir: the state directory's files are never reached through a
 * symbolic link (issue 12, item 4): a user who can write the directory
 * must not make vigild overwrite another file.  On real files in a fresh
 * directory under /tmp; the link's target is a file of the test's own.
 * A directory fsync that fails is an error (the vote must not leave); a
 * published file (the metrics textfile) never blocks on a FIFO and is
 * readable by all.
 */
#include <errno.h>
#include <limits.h>
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
#include <sys/syscall.h>

#include "statedir.h"

/*
 * fsync as the test wants it: this program's own definition, which the
 * agent's objects linked into it call.  fail_dir_fsync: a directory's
 * fails with EIO (a disk error), everything else goes to the kernel.
 */
static int fail_dir_fsync;

int
fsync(int fd)
{
	struct stat st;

	if (fail_dir_fsync && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

static char dir[64], target[PATH_MAX];

static int
setup(void **state)
{
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vg-statedir-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	/* the file an attacker would point the link at */
	snprintf(target, sizeof(target), "%s/precious", dir);
	if ((f = fopen(target, "w")) == NULL)
		return -1;
	fputs("keep me\n", f);
	fclose(f);
	return 0;
}

static int
teardown(void **state)
{
	const char *names[] = { "precious", "state", ".state.tmp", "vote",
	    ".vote.tmp", "votes", ".votes.tmp", "lock", "m.prom",
	    ".m.prom.tmp" };
	char p[PATH_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		(void)unlink(p);
	}
	return rmdir(dir);
}

static void
link_to_target(const char *name)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	(void)unlink(p);
	assert_int_equal(symlink(target, p), 0);
}

static void
assert_target_untouched(void)
{
	char buf[64] = "";
	FILE *f = fopen(target, "r");

	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "keep me\n");
}

/* A link planted where the new copy is written first: refused, named. */
static void
test_link_at_temp_refused(void **state)
{
	char err[256] = "";

	(void)state;
	link_to_target(".state.tmp");
	assert_int_equal(vg_statedir_write(dir, "state", "x\n", 2, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, ".state.tmp"));
	assert_non_null(strstr(err, strerror(ELOOP)));
	assert_target_untouched();
}

/* A link planted at the file's own name: the rename replaces the link
 * itself; what it pointed at is not written. */
static void
test_link_at_name_replaced(void **state)
{
	char err[256] = "", p[PATH_MAX];
	struct stat st;

	(void)state;
	link_to_target("state");
	assert_int_equal(vg_statedir_write(dir, "state", "x\n", 2, err,
	    sizeof(err)), 0);
	snprintf(p, sizeof(p), "%s/state", dir);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_target_untouched();
}

/* A vote whose rename could not be made durable (the directory's fsync
 * failed) is an error: the vote must not leave (a power loss would bring
 * the old one back, and with it a second vote in the term).  Before, the
 * directory's fsync was not checked. */
static void
test_dir_fsync_failure_is_an_error(void **state)
{
	char err[256] = "";

	(void)state;
	fail_dir_fsync = 1;
	assert_int_equal(vg_statedir_write_vote(dir, "vote", 7, 2, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, strerror(EIO)));
	assert_int_equal(vg_statedir_remove(dir, "vote", err, sizeof(err)),
	    -1);
	fail_dir_fsync = 0;
	assert_int_equal(vg_statedir_write_vote(dir, "vote", 7, 2, err,
	    sizeof(err)), 0);
}

/* A FIFO left at the temp path fails the write at once, never blocks the
 * caller (the loop, for the metrics textfile); a published file is
 * readable by all whatever the umask, and needs no fsync. */
static void
test_publish(void **state)
{
	char err[256] = "", p[PATH_MAX];
	struct stat st;
	mode_t was;

	(void)state;
	snprintf(p, sizeof(p), "%s/.m.prom.tmp", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(vg_statedir_publish(dir, "m.prom", "x 1\n", 4, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, ".m.prom.tmp"));
	assert_int_equal(unlink(p), 0);
	was = umask(077);
	fail_dir_fsync = 1;		/* not asked for */
	assert_int_equal(vg_statedir_publish(dir, "m.prom", "x 1\n", 4, err,
	    sizeof(err)), 0);
	fail_dir_fsync = 0;
	umask(was);
	snprintf(p, sizeof(p), "%s/m.prom", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
}

/* The vote and the lock are opened in place: through a link, refused. */
static void
test_vote_and_lock_links_refused(void **state)
{
	char err[256] = "";
	uint64_t term;
	uint16_t voted;

	(void)state;
	link_to_target("vote");
	assert_int_equal(vg_statedir_read_vote(dir, "vote", &term, &voted, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, strerror(ELOOP)));
	link_to_target("lock");
	err[0] = '\0';
	assert_int_equal(vg_statedir_lock(dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, strerror(ELOOP)));
	assert_target_untouched();
}

/* Every group's term and vote in one file: a round trip; a line of a
 * group not named passed over; a group without a line not found; a
 * corrupt line or a term out of range refused; no file: none found. */
static void
test_votes(void **state)
{
	const char *names[] = { "web", "db", "new" };
	const char *two[] = { "web", "db" };
	uint64_t t[3] = { 7, 12, 0 }, rt[3];
	uint16_t v[3] = { 2, 0, 0 }, rv[3];
	int found[3];
	uint64_t mx;
	char err[256] = "", p[PATH_MAX];
	FILE *f;

	(void)state;
	assert_int_equal(vg_statedir_read_votes(dir, names, 3, rt, rv, found,
	    &mx, err, sizeof(err)), 0);
	assert_false(found[0] || found[1] || found[2]);
	assert_int_equal(vg_statedir_write_votes(dir, two, 2, t, v, err,
	    sizeof(err)), 0);
	assert_int_equal(vg_statedir_read_votes(dir, names, 3, rt, rv, found,
	    &mx, err, sizeof(err)), 0);
	assert_true(found[0] && found[1] && !found[2]);
	assert_int_equal(rt[0], 7);
	assert_int_equal(rv[0], 2);
	assert_int_equal(rt[1], 12);
	assert_int_equal(rv[1], 0);
	/* "db" is not named: passed over */
	assert_int_equal(vg_statedir_read_votes(dir, names + 2, 1, rt, rv,
	    found, &mx, err, sizeof(err)), 0);
	assert_false(found[0]);
	assert_int_equal(mx, 12);	/* db's, though not named */
	snprintf(p, sizeof(p), "%s/votes", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("web 7 2\ndb -1 0\n", f);
	fclose(f);
	assert_int_equal(vg_statedir_read_votes(dir, names, 3, rt, rv, found,
	    &mx, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "corrupt"));
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("web 7 2\ndb 12 0", f);		/* cut short */
	fclose(f);
	assert_int_equal(vg_statedir_read_votes(dir, names, 3, rt, rv, found,
	    &mx, err, sizeof(err)), -1);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("web 9223372036854775807 2\n", f);
	fclose(f);
	assert_int_equal(vg_statedir_read_votes(dir, names, 3, rt, rv, found,
	    &mx, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "2^63-1"));
	unlink(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_link_at_temp_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_at_name_replaced,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_vote_and_lock_links_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_votes, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_dir_fsync_failure_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
