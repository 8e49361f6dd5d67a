/*
 * test_child: the one child runner (hooks and tracks) on a real libev
 * loop and real children that exit at once; nothing here waits for a
 * timer (the timeout path is tests/integration/test_ops.py's hanging
 * script).  What is checked: the wait status reaches done; stdout and
 * stderr come back as lines, in order, a last line without a newline too,
 * an overlong line cut in pieces and a NUL shown as a space; in the child
 * stdin is /dev/null, it leads its own process group, every descriptor
 * above stderr is closed and systemd's variables are unset; without a line
 * callback stdout is /dev/null; vg_child_stop kills and reaps a running
 * child without calling done.  Every loop is bounded by a guard timer.
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "child.h"

#define MAX_LINES	16

struct seen {
	char	lines[MAX_LINES][VG_CHILD_LINE];
	size_t	n_lines;
	int	done, status, killed;
};

static void
on_line(void *arg, const char *l)
{
	struct seen *s = arg;

	assert_true(s->n_lines < MAX_LINES);
	snprintf(s->lines[s->n_lines++], VG_CHILD_LINE, "%s", l);
}

static void
on_done(void *arg, int status, int killed)
{
	struct seen *s = arg;

	s->done++;
	s->status = status;
	s->killed = killed;
}

static const struct vg_child_ops with_lines = { on_line, NULL, on_done };
static const struct vg_child_ops no_lines = { NULL, NULL, on_done };

static void
guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	fail_msg("the child did not finish within 5 s");
}

/* Runs fn in a child and the loop until done (at most 5 s). */
static void
run(const struct vg_child_ops *ops, void (*fn)(void *), struct seen *s)
{
	struct ev_loop *loop = ev_default_loop(0);
	struct vg_child c;
	ev_timer guard;
	int i;

	memset(s, 0, sizeof(*s));
	vg_child_init(&c, loop, ops, s);
	ev_timer_init(&guard, guard_cb, 5., 0.);
	ev_timer_start(loop, &guard);
	assert_int_equal(vg_child_start(&c, fn, NULL, VG_MS(5000), 0), 0);
	assert_true(vg_child_running(&c));
	for (i = 0; i < 10000 && !s->done; i++)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &guard);
	assert_int_equal(s->done, 1);
	assert_false(vg_child_running(&c));
	assert_int_equal(c.out_fd, -1);
}

static void
say(int fd, const char *text, size_t len)
{
	if (write(fd, text, len) != (ssize_t)len)
		_exit(100);
}

static void __attribute__((noreturn))
child_lines(void *arg)
{
	(void)arg;
	say(1, "one\ntwo\n", 8);
	say(2, "on stderr\n", 10);
	say(1, "a\0b\n", 4);
	say(1, "last", 4);
	_exit(3);
}

static void
test_lines_and_status(void **state)
{
	struct seen s;

	(void)state;
	run(&with_lines, child_lines, &s);
	assert_true(WIFEXITED(s.status));
	assert_int_equal(WEXITSTATUS(s.status), 3);
	assert_int_equal(s.killed, 0);
	assert_int_equal(s.n_lines, 5);
	assert_string_equal(s.lines[0], "one");
	assert_string_equal(s.lines[1], "two");
	assert_string_equal(s.lines[2], "on stderr");
	assert_string_equal(s.lines[3], "a b");
	assert_string_equal(s.lines[4], "last");
}

static void __attribute__((noreturn))
child_long_line(void *arg)
{
	char buf[1200];

	(void)arg;
	memset(buf, 'x', sizeof(buf));
	say(1, buf, sizeof(buf));
	say(1, "\n", 1);
	_exit(0);
}

static void
test_long_line_cut(void **state)
{
	struct seen s;
	size_t i, total = 0;

	(void)state;
	run(&with_lines, child_long_line, &s);
	assert_int_equal(WEXITSTATUS(s.status), 0);
	assert_int_equal(s.n_lines, 3);
	for (i = 0; i < s.n_lines; i++) {
		assert_true(strlen(s.lines[i]) <= VG_CHILD_LINE - 1);
		assert_int_equal(strspn(s.lines[i], "x"), strlen(s.lines[i]));
		total += strlen(s.lines[i]);
	}
	assert_int_equal(strlen(s.lines[0]), VG_CHILD_LINE - 1);
	assert_int_equal(total, 1200);
}

static int	leaked_fd = -1;

/* Exit status: one bit for each thing that is wrong in the child. */
static void __attribute__((noreturn))
child_setup_check(void *arg)
{
	char b;
	int bad = 0;

	(void)arg;
	if (read(0, &b, 1) != 0)
		bad |= 1;		/* stdin is not /dev/null */
	if (getpgrp() != getpid())
		bad |= 2;		/* not its own process group */
	if (fcntl(leaked_fd, F_GETFD) != -1 || errno != EBADF)
		bad |= 4;		/* a descriptor of the agent leaked */
	if (getenv("NOTIFY_SOCKET") != NULL || getenv("WATCHDOG_USEC") != NULL ||
	    getenv("WATCHDOG_PID") != NULL)
		bad |= 8;
	_exit(bad);
}

static void
test_child_setup(void **state)
{
	struct seen s;

	(void)state;
	leaked_fd = open("/dev/null", O_RDONLY);	/* no O_CLOEXEC */
	assert_true(leaked_fd > 2);
	setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
	setenv("WATCHDOG_USEC", "1000000", 1);
	setenv("WATCHDOG_PID", "1", 1);
	run(&with_lines, child_setup_check, &s);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	close(leaked_fd);
	assert_true(WIFEXITED(s.status));
	if (WEXITSTATUS(s.status) != 0)
		fail_msg("the child's set-up is wrong: %#x (1 stdin, 2 group, "
		    "4 fd leaked, 8 systemd variables)", WEXITSTATUS(s.status));
	assert_int_equal(s.n_lines, 0);
}

/* Without a line callback: stdout is /dev/null. */
static void __attribute__((noreturn))
child_stdout_null(void *arg)
{
	struct stat out, null;

	(void)arg;
	if (fstat(1, &out) == -1 || stat("/dev/null", &null) == -1)
		_exit(2);
	_exit(S_ISCHR(out.st_mode) && out.st_rdev == null.st_rdev ? 0 : 1);
}

static void
test_no_lines_stdout_null(void **state)
{
	struct seen s;

	(void)state;
	run(&no_lines, child_stdout_null, &s);
	assert_true(WIFEXITED(s.status));
	assert_int_equal(WEXITSTATUS(s.status), 0);
}

static void __attribute__((noreturn))
child_waits(void *arg)
{
	(void)arg;
	for (;;)
		pause();
}

static void
test_stop_kills_and_reaps(void **state)
{
	struct ev_loop *loop = ev_default_loop(0);
	struct vg_child c;
	struct seen s;
	pid_t pid;

	(void)state;
	memset(&s, 0, sizeof(s));
	vg_child_init(&c, loop, &with_lines, &s);
	assert_int_equal(vg_child_start(&c, child_waits, NULL, VG_MS(60000), 0),
	    0);
	pid = c.pid;
	assert_true(pid > 0);
	vg_child_stop(&c);
	assert_false(vg_child_running(&c));
	assert_int_equal(c.out_fd, -1);
	assert_int_equal(s.done, 0);
	/* reaped: it is no longer our child */
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	vg_child_stop(&c);		/* twice is harmless */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_and_status),
		cmocka_unit_test(test_long_line_cut),
		cmocka_unit_test(test_child_setup),
		cmocka_unit_test(test_no_lines_stdout_null),
		cmocka_unit_test(test_stop_kills_and_reaps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
