/*
 * test_control: the ctl socket server on a real Unix socket and event loop
 * (control.c), with a handler of the test's own.  A request whose answer
 * is deferred (failover, config_push) holds back the client's next lines
 * until the answer: the loop sleeps meanwhile (a 0 s timer armed again
 * and again used to spin it, which at the agent's real-time priority ran
 * into RLIMIT_RTTIME), and both answers come, in order.  A client that
 * shuts its writing side still gets its answers, then is closed.  No
 * sleeps: the loop runs one iteration at a time until it is quiet (nothing
 * pending; a spinning loop never is), bounded in iterations and by a guard
 * timer.
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
#include <sys/stat.h>
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
quiet_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)loop;
	(void)revents;
	*(int *)w->data = 1;
}

static void
guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	fail_msg("the loop was not quiet within 5 s");
}

/*
 * Runs the loop one iteration at a time until it has nothing left to do:
 * an ev_idle watcher of the lowest priority is invoked only in an
 * iteration where no other event is pending.  A loop that spins (a 0 s
 * timer armed again and again) is never quiet and fails here.  Bounded:
 * 1000 iterations (a few are enough) and a 5 s guard timer.
 */
static void
run_until_quiet(struct ev_loop *loop)
{
	ev_idle idle;
	ev_timer guard;
	int quiet = 0;
	unsigned i;

	ev_idle_init(&idle, quiet_cb);
	ev_set_priority(&idle, EV_MINPRI);
	idle.data = &quiet;
	ev_idle_start(loop, &idle);
	ev_timer_init(&guard, guard_cb, 5., 0.);
	ev_timer_start(loop, &guard);
	for (i = 0; i < 1000 && !quiet; i++)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &guard);
	ev_idle_stop(loop, &idle);
	if (!quiet)
		fail_msg("the loop had an event pending at each of %u "
		    "iterations: it spins", i);
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

/* A server on a socket of its own, with one client connected to it. */
struct cfix {
	char			dir[40], path[64];
	struct ev_loop		*loop;
	struct vg_control	*ctl;
	struct hfix		h;
	int			fd;		/* the client */
};

static int
cfix_setup(void **state)
{
	struct cfix *x = calloc(1, sizeof(*x));
	struct sockaddr_un sa;
	char err[256];

	assert_non_null(x);
	snprintf(x->dir, sizeof(x->dir), "/tmp/vigil-test-control-XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->path, sizeof(x->path), "%s/ctl.sock", x->dir);
	x->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(x->loop);
	x->ctl = vg_control_open(x->loop, x->path, "", handler, &x->h, err,
	    sizeof(err));
	if (x->ctl == NULL)
		fail_msg("vg_control_open: %s", err);
	x->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(x->fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(x->path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, x->path, strlen(x->path) + 1);
	assert_int_equal(connect(x->fd, (struct sockaddr *)&sa, sizeof(sa)),
	    0);
	*state = x;
	return 0;
}

static int
cfix_teardown(void **state)
{
	struct cfix *x = *state;

	close(x->fd);
	vg_control_close(x->ctl);
	ev_loop_destroy(x->loop);
	(void)unlink(x->path);
	assert_int_equal(rmdir(x->dir), 0);
	free(x);
	return 0;
}

static void
send_all(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* The answer the handler deferred, given now. */
static void
answer_deferred(struct cfix *x)
{
	json_object *ans = json_object_new_object();

	json_object_object_add(ans, "deferred", json_object_new_boolean(1));
	assert_int_equal(vg_control_answer(x->ctl, x->h.deferred, ans), 1);
	json_object_put(ans);
}

static void
test_deferred_answer_holds_next_lines_without_spinning(void **state)
{
	struct cfix *x = *state;
	char got[4096];
	size_t have = 0;

	assert_int_equal(fcntl(x->fd, F_SETFL, O_NONBLOCK), 0);
	/* two requests in one write: the first is deferred */
	send_all(x->fd, "{\"cmd\":\"status\"}\n{\"cmd\":\"status\"}\n");
	/* the loop until it is quiet: the client accepted, the first
	 * request handed to the handler, the second held back; and quiet
	 * while the answer is owed (it fails if the loop spins) */
	run_until_quiet(x->loop);
	assert_int_equal(x->h.n_deferred, 1);
	assert_int_equal(x->h.n_calls, 1);
	have = drain(x->fd, got, sizeof(got), have);
	assert_int_equal(have, 0);		/* nothing answered yet */
	/* the answer: it goes out, then the held line is handled */
	answer_deferred(x);
	run_until_quiet(x->loop);
	assert_int_equal(x->h.n_calls, 2);
	have = drain(x->fd, got, sizeof(got), have);
	if (strstr(got, "\"deferred\"") == NULL || strstr(got, "\"n\"") ==
	    NULL || strstr(got, "\"deferred\"") > strstr(got, "\"n\""))
		fail_msg("wanted the deferred answer, then the second: %s",
		    got);
}

/* A client that shuts its writing side after its request (socat, nc at
 * the end of their input) still gets the answer owed to it, and then the
 * connection closes.  Before, its EOF closed it at once and a deferred
 * answer (a failover's) was lost. */
static void
test_answers_after_client_eof(void **state)
{
	struct cfix *x = *state;
	char got[4096];
	size_t have = 0;

	send_all(x->fd, "{\"cmd\":\"status\"}\n");
	assert_int_equal(shutdown(x->fd, SHUT_WR), 0);
	run_until_quiet(x->loop);
	assert_int_equal(x->h.n_deferred, 1);
	answer_deferred(x);
	run_until_quiet(x->loop);
	assert_int_equal(x->h.n_calls, 1);
	assert_int_equal(fcntl(x->fd, F_SETFL, O_NONBLOCK), 0);
	have = drain(x->fd, got, sizeof(got), have);
	if (strstr(got, "\"deferred\"") == NULL)
		fail_msg("wanted the deferred answer: %s", got);
	/* and then the agent closed it */
	assert_int_equal(read(x->fd, got, sizeof(got)), 0);
	assert_int_equal(vg_control_stats(x->ctl)->clients, 0);
}

/* A link put where the socket was is not followed by the chmod of a
 * reload (viewers): the file it points at keeps its mode (before, it was
 * made 0666). */
static void
test_viewers_chmod_follows_no_link(void **state)
{
	struct cfix *x = *state;
	char target[80];
	struct stat st;
	int fd;

	snprintf(target, sizeof(target), "%s/precious", x->dir);
	fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(unlink(x->path), 0);
	assert_int_equal(symlink(target, x->path), 0);
	assert_int_equal(vg_control_set_viewers(x->ctl, 1), -1);
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(unlink(target), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_deferred_answer_holds_next_lines_without_spinning,
		    cfix_setup, cfix_teardown),
		cmocka_unit_test_setup_teardown(test_answers_after_client_eof,
		    cfix_setup, cfix_teardown),
		cmocka_unit_test_setup_teardown(
		    test_viewers_chmod_follows_no_link, cfix_setup,
		    cfix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
