/*
 * test_vip: the VIPs' rtnetlink batches against a real kernel, in a
 * network namespace of the test process's own (unshare: it has only
 * `lo`, sends nothing, and goes with the process).  A socket's netlink
 * seqs wrap after 2^32 messages (some weeks of lifetime refreshes with
 * thousands of VIPs): a batch across the wrap is acked and counted like
 * any other (it used to wait out its 2 s and fail, the keeper blind
 * meanwhile).  A lookup of the link that fails for a reason other than
 * "no such link" is a failure, not a removal.
 *
 * Needs root (CAP_SYS_ADMIN for the namespace); without it the test says
 * so and skips, and under CI=true it fails instead.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "net.h"
#include "vip.h"

#define NVIPS	300

static struct vg_conf_vip vips[NVIPS];

static int
own_netns(void **state)
{
	const char *ci = getenv("CI");

	(void)state;
	if (unshare(CLONE_NEWNET) == 0)
		return 0;
	if (ci != NULL && strcmp(ci, "true") == 0) {
		fprintf(stderr, "test_vip: unshare(CLONE_NEWNET): %s; CI=true "
		    "needs these tests\n", strerror(errno));
		return -1;
	}
	fprintf(stderr, "test_vip: SKIPPED, unshare(CLONE_NEWNET): %s (run "
	    "as root)\n", strerror(errno));
	return 1;
}

static void
fill_vips(const char *ifname)
{
	size_t i;

	memset(vips, 0, sizeof(vips));
	for (i = 0; i < NVIPS; i++) {
		struct vg_conf_vip *v = &vips[i];

		v->family = AF_INET;
		v->prefixlen = 32;
		snprintf(v->ifname, sizeof(v->ifname), "%s", ifname);
		snprintf(v->text, sizeof(v->text), "198.18.%zu.%zu/32",
		    20 + i / 250, 1 + i % 250);
		*strchr(v->text, '/') = '\0';
		assert_int_equal(inet_pton(AF_INET, v->text, v->addr), 1);
		v->text[strlen(v->text)] = '/';
	}
}

static struct vg_nl *
nl_open(void)
{
	char err[256];
	struct vg_nl *nl = vg_nl_open(0, err, sizeof(err));

	if (nl == NULL)
		fail_msg("vg_nl_open: %s", err);
	return nl;
}

static void
test_batch_across_seq_wrap(void **state)
{
	struct vg_nl *nl;
	vg_ns t0, took;

	(void)state;
	fill_vips("lo");
	nl = nl_open();
	/* the first batch's seqs run from 2^32 - 2 over 0 */
	vg_nl_set_seq(nl, UINT32_MAX - 3);
	t0 = vg_now();
	assert_int_equal(vg_vip_apply(nl, vips, NVIPS, 1, 60), 0);
	took = vg_now() - t0;
	if (took > VG_MS(1000))
		fail_msg("the add took %lld ms", (long long)(took / VG_MS(1)));
	/* they are there: the sweep finds and removes every one */
	assert_int_equal(vg_vip_sweep(nl, vips, NVIPS), NVIPS);
	assert_int_equal(vg_vip_sweep(nl, vips, NVIPS), 0);
	/* a removal across the wrap too */
	assert_int_equal(vg_vip_apply(nl, vips, NVIPS, 1, 60), 0);
	vg_nl_set_seq(nl, UINT32_MAX - 1);
	assert_int_equal(vg_vip_apply(nl, vips, NVIPS, 0, 0), 0);
	assert_int_equal(vg_vip_sweep(nl, vips, NVIPS), 0);
	vg_nl_close(nl);
}

/* No such link: nothing to remove (0 failed), an add fails.  A lookup
 * that cannot even be made (no file descriptor for its socket) says
 * nothing of the link: a removal then fails too. */
static void
test_link_lookup(void **state)
{
	struct vg_nl *nl;
	struct rlimit was, low;
	int fd, failed;

	(void)state;
	fill_vips("vgnone0");
	nl = nl_open();
	assert_int_equal(vg_vip_apply(nl, vips, 4, 0, 0), 0);
	assert_int_equal(vg_vip_apply(nl, vips, 4, 1, 60), 4);

	fill_vips("lo");
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &was), 0);
	/* the limit at the lowest free descriptor: if_nametoindex's socket
	 * gets EMFILE */
	fd = dup(0);
	assert_true(fd >= 0);
	close(fd);		/* the lowest free one: at the limit now */
	low = was;
	low.rlim_cur = (rlim_t)fd;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	failed = vg_vip_apply(nl, vips, 4, 0, 0);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &was), 0);
	assert_int_equal(failed, 4);
	vg_nl_close(nl);
}

/* Whether an address is on a link now (vigild warns at start when its
 * own is not): one of the VIPs added to lo is, the next one is not. */
static void
test_addr_local(void **state)
{
	struct sockaddr_in sin;
	struct vg_nl *nl;

	(void)state;
	fill_vips("lo");
	nl = nl_open();
	assert_int_equal(vg_vip_apply(nl, vips, 1, 1, 60), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(5405);
	memcpy(&sin.sin_addr, vips[0].addr, 4);
	assert_int_equal(vg_net_addr_local((struct sockaddr *)&sin,
	    sizeof(sin)), 1);
	memcpy(&sin.sin_addr, vips[1].addr, 4);
	assert_int_equal(vg_net_addr_local((struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	assert_int_equal(vg_vip_apply(nl, vips, 1, 0, 0), 0);
	vg_nl_close(nl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_across_seq_wrap),
		cmocka_unit_test(test_link_lookup),
		cmocka_unit_test(test_addr_local),
	};
	int r = own_netns(NULL);

	if (r == -1)
		return 1;
	if (r == 1)
		return 0;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
