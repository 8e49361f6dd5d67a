/*
 * test_sdnotify: systemd's notify protocol without blocking.  A socket
 * that nobody reads (PID 1 busy: its queue full) makes a send fail at
 * once, counted, never wait (libsystemd's sd_notify blocked here: the
 * agent's loop with it); what fits arrives as sent.  An abstract socket
 * name ("@...") as systemd may give it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdnotify.h"

static void
test_full_queue_never_blocks(void **state)
{
	struct sockaddr_un sa;
	struct timespec t0, t1;
	char name[64], got[128];
	ssize_t n;
	double ms;
	int fd, i, failed = 0;

	(void)state;
	snprintf(name, sizeof(name), "@vigil-test-notify-%d", (int)getpid());
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path + 1, name + 1, strlen(name) - 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(name))), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);

	assert_int_equal(vg_sd_notifyf("READY=1"), 0);
	n = recv(fd, got, sizeof(got) - 1, MSG_DONTWAIT);
	assert_int_equal(n, 7);
	got[n] = '\0';
	assert_string_equal(got, "READY=1");

	/* nobody reads from here on: the queue fills, sends fail at once */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	alarm(10);			/* a blocked send fails the test */
	for (i = 0; i < 5000; i++)
		failed += vg_sd_notifyf("STATUS=round %d", i) == -1;
	alarm(0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("  5000 notifications to a socket nobody reads: %d dropped, "
	    "%.1f ms\n", failed, ms);
	assert_true(failed > 0);
	assert_int_equal((int)vg_sd_notify_dropped(), failed);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_queue_never_blocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
