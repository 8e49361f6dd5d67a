/*
 * test_log: a log line never waits for its sink.  A full pipe or stream
 * socket on stderr (even one in blocking mode) drops the line and counts
 * it; once there is room again lines arrive whole.  JSON lines escape what
 * they carry.  And the duration histogram the loop keeps: its buckets.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "hist.h"
#include "log.h"

static int saved_stderr = -1;

/* stderr onto fd `w`, which is left in blocking mode */
static void
stderr_to(int w)
{
	if (saved_stderr == -1)
		saved_stderr = dup(STDERR_FILENO);
	assert_true(saved_stderr >= 0);
	assert_int_equal(dup2(w, STDERR_FILENO), STDERR_FILENO);
	log_init(VG_LOG_STDERR, VG_LOG_TEXT, VG_LOG_INFO);
}

static void
stderr_back(void)
{
	assert_int_equal(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
	log_init(VG_LOG_STDERR, VG_LOG_TEXT, VG_LOG_INFO);
}

/* fills fd (made non-blocking only for that), then makes it blocking again */
static size_t
fill(int fd)
{
	char junk[512];
	size_t total = 0;
	int fl = fcntl(fd, F_GETFL), i;

	memset(junk, 'j', sizeof(junk));
	assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
	for (i = 0; i < 100000; i++) {
		ssize_t n = write(fd, junk, sizeof(junk));

		if (n <= 0)
			break;
		total += (size_t)n;
	}
	assert_true(i < 100000);
	assert_int_equal(fcntl(fd, F_SETFL, fl & ~O_NONBLOCK), 0);
	return total;
}

static void
drain(int fd, size_t n)
{
	char buf[4096];

	while (n > 0) {
		ssize_t r = read(fd, buf, n < sizeof(buf) ? n : sizeof(buf));

		assert_true(r > 0);
		n -= (size_t)r;
	}
}

/* reads what is there (non-blocking) into buf */
static size_t
slurp(int fd, char *buf, size_t len)
{
	int fl = fcntl(fd, F_GETFL);
	ssize_t n;

	assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
	n = read(fd, buf, len - 1);
	assert_int_equal(fcntl(fd, F_SETFL, fl), 0);
	buf[n > 0 ? n : 0] = '\0';
	return n > 0 ? (size_t)n : 0;
}

static void
full_sink(int rd, int wr)
{
	char buf[4096];
	uint64_t before;
	size_t filled;

	stderr_to(wr);
	filled = fill(wr);
	before = log_dropped();
	alarm(10);		/* a blocked write would hang here: fail instead */
	log_info("this line finds the sink full");
	log_warnx("and so does this one");
	alarm(0);
	stderr_back();
	assert_int_equal(log_dropped(), before + 2);

	drain(rd, filled);
	stderr_to(wr);
	log_info("room again: %d", 42);
	stderr_back();
	assert_int_equal(log_dropped(), before + 2);
	assert_true(slurp(rd, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, " info room again: 42\n"));
	assert_null(strstr(buf, "sink full"));
}

static void
test_full_pipe(void **state)
{
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	full_sink(p[0], p[1]);
	close(p[0]);
	close(p[1]);
}

/* A sink that is gone (a pipe whose reader closed: EPIPE) loses lines
 * as surely as a full one: they are counted (before, not). */
static void
test_gone_sink_counts(void **state)
{
	uint64_t before;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	stderr_to(p[1]);
	before = log_dropped();
	log_info("nobody reads this");
	log_warnx("nor this");
	stderr_back();
	close(p[1]);
	assert_int_equal(log_dropped(), before + 2);
}

static void
test_full_stream_socket(void **state)
{
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	full_sink(sv[0], sv[1]);
	close(sv[0]);
	close(sv[1]);
}

static void
test_json_escapes(void **state)
{
	char buf[4096];
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	stderr_to(p[1]);
	log_init(VG_LOG_STDERR, VG_LOG_JSON, VG_LOG_INFO);
	log_set_node("n\"1");
	log_peer(VG_LOG_WARNING, "p\\2", "a \"quoted\"\nline\t%s", "x");
	log_set_node("");
	stderr_back();
	assert_true(slurp(p[0], buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"level\":\"warning\""));
	assert_non_null(strstr(buf, "\"node\":\"n\\\"1\""));
	assert_non_null(strstr(buf, "\"peer\":\"p\\\\2\""));
	assert_non_null(strstr(buf, "\"msg\":\"a \\\"quoted\\\"\\nline\\tx\"}\n"));
	close(p[0]);
	close(p[1]);
}

static void
test_long_line_cut(void **state)
{
	char big[3 * VG_LOG_LINE_MAX], buf[2 * VG_LOG_LINE_MAX];
	int p[2];
	size_t n;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(pipe(p), 0);
	stderr_to(p[1]);
	log_info("%s", big);
	stderr_back();
	n = slurp(p[0], buf, sizeof(buf));
	assert_true(n > 0 && n <= VG_LOG_LINE_MAX);
	assert_int_equal(buf[n - 1], '\n');
	close(p[0]);
	close(p[1]);
}

static void
test_hist_buckets(void **state)
{
	struct vg_hist h;
	size_t i;

	(void)state;
	memset(&h, 0, sizeof(h));
	vg_hist_add(&h, -5);				/* a clock step back: 0 */
	vg_hist_add(&h, vg_hist_bounds[0]);		/* on the bound: in it */
	vg_hist_add(&h, vg_hist_bounds[0] + 1);		/* just above: next */
	vg_hist_add(&h, VG_MS(3));			/* 2.5 < 3 <= 5 ms */
	vg_hist_add(&h, 10 * VG_NS_PER_S);		/* past the last: +Inf */
	assert_int_equal(h.n, 5);
	assert_int_equal(h.max, 10 * VG_NS_PER_S);
	assert_int_equal(vg_hist_cumulative(&h, 0), 2);
	assert_int_equal(vg_hist_cumulative(&h, 1), 3);
	for (i = 0; i < VG_HIST_BUCKETS; i++)
		if (vg_hist_bounds[i] == VG_MS(5))
			break;
	assert_true(i < VG_HIST_BUCKETS);
	assert_int_equal(vg_hist_cumulative(&h, i - 1), 3);
	assert_int_equal(vg_hist_cumulative(&h, i), 4);
	assert_int_equal(vg_hist_cumulative(&h, VG_HIST_BUCKETS - 1), 4);
	assert_int_equal(vg_hist_cumulative(&h, VG_HIST_BUCKETS), 5);
	assert_int_equal(h.sum, vg_hist_bounds[0] * 2 + 1 + VG_MS(3) +
	    10 * VG_NS_PER_S);
	/* the bounds grow */
	for (i = 1; i < VG_HIST_BUCKETS; i++)
		assert_true(vg_hist_bounds[i] > vg_hist_bounds[i - 1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_pipe),
		cmocka_unit_test(test_gone_sink_counts),
		cmocka_unit_test(test_full_stream_socket),
		cmocka_unit_test(test_json_escapes),
		cmocka_unit_test(test_long_line_cut),
		cmocka_unit_test(test_hist_buckets),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
