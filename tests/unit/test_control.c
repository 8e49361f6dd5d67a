/*
 * test_control: the ctl socket server on a real Unix socket and event loop
 * (control.c), with a handler of the test's own.  A request whose answer
 * is deferred (failover, config_push) holds back the client's next lines
 * until the answer: the loop sleeps meanwhile (a 0 s timer armed again
 * and again used to spin it, which at the agent's real-time priority ran
 * into RLIMIT_RTTIME), and both answers come, in order.  A client that
 * shuts its writing side still gets its answers, then is closed.  No
 * sleeps: the loop itself runs for a bounded time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.h"

struct hfix {
	int		n_calls;
	uint64_t	deferred;	/* the client owed an answer */
	int		n_deferred;
};

/* Defers the first request it sees (a status: any role may send it, so
 * the test does not depend on who runs it); answers the others at once. */
static json_object *
handler(void *arg, const struct vg_ctl_request *req,
    struct vg_ctl_caller *caller, char *err, size_t errlen)
{
	struct hfix *h = arg;
	json_object *o;

	(void)req;
	(void)err;
	(void)errlen;
	if (caller->denied != NULL)
		return NULL;
	if (h->n_calls++ == 0) {
		caller->defer = 1;
		h->deferred = caller->client;
		h->n_deferred++;
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "n", json_object_new_int(h->n_calls));
	return o;
}

static void
stop_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Runs the loop for `ms` of its own time; returns its iterations. */
static unsigned
run_for(struct ev_loop *loop, double ms)
{
	ev_timer t;
	unsigned before = ev_iteration(loop);

	ev_timer_init(&t, stop_cb, ms / 1000.0, 0.);
	ev_timer_start(loop, &t);
	ev_run(loop, 0);
	ev_timer_stop(loop, &t);
	return ev_iteration(loop) - before;
}

/* Whatever the client can read now (non-blocking), appended to buf. */
static size_t
drain(int fd, char *buf, size_t len, size_t have)
{
	ssize_t n;

	while (have < len - 1 &&
	    (n = read(fd, buf + have, len - 1 - have)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	return have;
}

static void
test_deferred_answer_holds_next_lines_without_spinning(void **state)
{
	char dir[] = "/tmp/vigil-test-control-XXXXXX", path[64], err[256];
	char got[4096];
	static const char two[] = "{\"cmd\":\"status\"}\n{\"cmd\":\"status\"}\n";
	struct sockaddr_un sa;
	struct ev_loop *loop;
	struct vg_control *ctl;
	struct hfix h;
	size_t have = 0;
	unsigned iters;
	json_object *ans;
	int fd;

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
	loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(loop);
	ctl = vg_control_open(loop, path, "", handler, &h, err, sizeof(err));
	if (ctl == NULL)
		fail_msg("vg_control_open: %s", err);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	/* two requests in one write: the first is deferred */
	assert_int_equal(write(fd, two, sizeof(two) - 1),
	    (ssize_t)sizeof(two) - 1);

	/* 100 ms of the loop: the client accepted, the first request handed
	 * to the handler, the second held back; the loop sleeps (a handful
	 * of iterations, not hundreds of thousands) */
	iters = run_for(loop, 100);
	assert_int_equal(h.n_deferred, 1);
	assert_int_equal(h.n_calls, 1);
	if (iters > 50)
		fail_msg("the loop ran %u iterations in 100 ms while an answer "
		    "was owed", iters);
	have = drain(fd, got, sizeof(got), have);
	assert_int_equal(have, 0);		/* nothing answered yet */

	/* the answer: it goes out, then the held line is handled */
	ans = json_object_new_object();
	json_object_object_add(ans, "deferred", json_object_new_boolean(1));
	assert_int_equal(vg_control_answer(ctl, h.deferred, ans), 1);
	json_object_put(ans);
	(void)run_for(loop, 50);
	assert_int_equal(h.n_calls, 2);
	have = drain(fd, got, sizeof(got), have);
	if (strstr(got, "\"deferred\"") == NULL || strstr(got, "\"n\"") ==
	    NULL || strstr(got, "\"deferred\"") > strstr(got, "\"n\""))
		fail_msg("wanted the deferred answer, then the second: %s",
		    got);

	close(fd);
	vg_control_close(ctl);
	ev_loop_destroy(loop);
	(void)unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

/* A client that shuts its writing side after its request (socat, nc at
 * the end of their input) still gets the answer owed to it, and then the
 * connection closes.  Before, its EOF closed it at once and a deferred
 * answer (a failover's) was lost. */
static void
test_answers_after_client_eof(void **state)
{
	char dir[] = "/tmp/vigil-test-control-XXXXXX", path[64], err[256];
	char got[4096];
	static const char one[] = "{\"cmd\":\"status\"}\n";
	struct sockaddr_un sa;
	struct ev_loop *loop;
	struct vg_control *ctl;
	struct hfix h;
	size_t have = 0;
	json_object *ans;
	ssize_t n;
	int fd;

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
	loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(loop);
	ctl = vg_control_open(loop, path, "", handler, &h, err, sizeof(err));
	if (ctl == NULL)
		fail_msg("vg_control_open: %s", err);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, one, sizeof(one) - 1),
	    (ssize_t)sizeof(one) - 1);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	(void)run_for(loop, 50);
	assert_int_equal(h.n_deferred, 1);
	ans = json_object_new_object();
	json_object_object_add(ans, "deferred", json_object_new_boolean(1));
	assert_int_equal(vg_control_answer(ctl, h.deferred, ans), 1);
	json_object_put(ans);
	(void)run_for(loop, 50);
	assert_int_equal(h.n_calls, 1);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	have = drain(fd, got, sizeof(got), have);
	if (strstr(got, "\"deferred\"") == NULL)
		fail_msg("wanted the deferred answer: %s", got);
	/* and then the agent closed it */
	n = read(fd, got, sizeof(got));
	assert_int_equal(n, 0);
	assert_int_equal(vg_control_stats(ctl)->clients, 0);

	close(fd);
	vg_control_close(ctl);
	ev_loop_destroy(loop);
	(void)unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_deferred_answer_holds_next_lines_without_spinning),
		cmocka_unit_test(test_answers_after_client_eof),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
