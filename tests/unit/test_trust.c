/*
 * test_trust: StrictModes (trust.h) on real files in a temporary directory
 * under /tmp (root's and sticky, which is accepted): a file of root's,
 * writable by nobody else, is trusted; group- or other-writable, or another
 * user's, is not; so is a file under a directory writable by others that is
 * not sticky, or one reached through a symbolic link into such a directory;
 * a missing file is judged by its directories (a sticky one shelters no
 * missing entry), a link to a missing file is refused; a relative path is
 * refused.
 * And the file a track command runs, when its first word names one.
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

#include "trust.h"

static char base[64];

static void
path_of(char *out, const char *name)
{
	snprintf(out, PATH_MAX, "%s/%s", base, name);
}

static void
make_file(const char *name, mode_t mode)
{
	char p[PATH_MAX];
	FILE *f;

	path_of(p, name);
	assert_non_null(f = fopen(p, "w"));
	fputs("#!/bin/sh\n", f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
}

static void
make_dir(const char *name, mode_t mode)
{
	char p[PATH_MAX];

	path_of(p, name);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(chmod(p, mode), 0);
}

/* name, in base, a link to base/to */
static void
make_link(const char *name, const char *to)
{
	char from[PATH_MAX], target[PATH_MAX];

	path_of(from, name);
	path_of(target, to);
	assert_int_equal(symlink(target, from), 0);
}

static int
judged(const char *name, char *why)
{
	char p[PATH_MAX];

	path_of(p, name);
	why[0] = '\0';
	return vg_trust_path(p, geteuid(), why, 256);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/vg-trust-XXXXXX");
	assert_non_null(mkdtemp(base));
	return 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void
test_modes(void **state)
{
	char why[256];

	(void)state;
	make_file("ok", 0755);
	assert_int_equal(judged("ok", why), 0);
	make_file("gw", 0775);
	assert_int_equal(judged("gw", why), -1);
	assert_non_null(strstr(why, "gw is writable by group or others "
	    "(mode 0775)"));
	make_file("ow", 0757);
	assert_int_equal(judged("ow", why), -1);
	/* a directory writable by others, not sticky: what is in it is not */
	make_dir("open", 0777);
	make_file("open/s", 0755);
	assert_int_equal(judged("open/s", why), -1);
	assert_non_null(strstr(why, "/open is writable by group or others "
	    "(mode 0777)"));
	/* the same, sticky and root's: as /tmp */
	make_dir("sticky", 01777);
	make_file("sticky/s", 0755);
	assert_int_equal(judged("sticky/s", why), geteuid() == 0 ? 0 : -1);
	/* missing: its directories decide */
	assert_int_equal(judged("nothing-here", why), 0);
	assert_int_equal(judged("open/nothing-here", why), -1);
	/* ... and a sticky one is no shelter for what is not there yet:
	 * anyone may create it (before, accepted) */
	assert_int_equal(judged("sticky/nothing-here", why), -1);
	assert_non_null(strstr(why, "/sticky is writable by group or others "
	    "(mode 1777), and what is missing below it anyone could create "
	    "there"));
	assert_int_equal(judged("sticky/no-dir/nothing-here", why), -1);
	/* a link to a missing file (before, judged by the link's own
	 * directories only, and accepted) */
	make_link("dangling", "open/not-yet");
	assert_int_equal(judged("dangling", why), -1);
	assert_non_null(strstr(why, "dangling is a symbolic link to a "
	    "missing file"));
	assert_int_equal(judged("dangling/x", why), -1);
	/* a link in a trusted place into an untrusted one */
	make_link("link", "open/s");
	assert_int_equal(judged("link", why), -1);
	assert_non_null(strstr(why, "open"));
	assert_int_equal(vg_trust_path("relative/x", 0, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not an absolute path"));
}

static void
test_owner(void **state)
{
	char why[256], p[PATH_MAX];

	(void)state;
	if (geteuid() != 0) {
		/* chown needs root; CI runs the unit tests as root */
		print_message("test_owner: not root, ownership not tested\n");
		return;
	}
	make_file("theirs", 0755);
	path_of(p, "theirs");
	assert_int_equal(chown(p, 65534, 65534), 0);
	assert_int_equal(judged("theirs", why), -1);
	assert_non_null(strstr(why, "theirs is owned by uid 65534, not root"));
	/* the user vigild runs as may own it */
	why[0] = '\0';
	assert_int_equal(vg_trust_path(p, 65534, why, sizeof(why)), 0);
	make_dir("theirdir", 0755);
	path_of(p, "theirdir");
	assert_int_equal(chown(p, 65534, 65534), 0);
	make_file("theirdir/s", 0755);
	assert_int_equal(judged("theirdir/s", why), -1);
	assert_non_null(strstr(why, "theirdir is owned by uid 65534"));
}

static void
test_command_path(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(vg_trust_command_path("/usr/bin/check --x 1", out,
	    sizeof(out)), 1);
	assert_string_equal(out, "/usr/bin/check");
	assert_int_equal(vg_trust_command_path("  /bin/true;echo", out,
	    sizeof(out)), 1);
	assert_string_equal(out, "/bin/true");
	assert_int_equal(vg_trust_command_path("pidof haproxy", out,
	    sizeof(out)), 0);
	assert_int_equal(vg_trust_command_path("", out, sizeof(out)), 0);
	assert_int_equal(vg_trust_command_path("/a/very/long/path/that/does/"
	    "not/fit/in/the/buffer/given/here/x", out, 16), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner, setup, teardown),
		cmocka_unit_test(test_command_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
