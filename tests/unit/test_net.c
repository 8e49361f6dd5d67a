/*
 * test_net: the batched receive and send, over unix datagram sockets bound
 * to abstract names (no IP traffic at all).  A batch goes out in order and
 * comes in whole in one call; an empty socket reads as 0, not an error; a
 * datagram too big for a buffer is flagged as cut; a failed destination
 * in the middle of a batch costs that datagram only, with its errno and tag;
 * the kernel's receive stamp comes only when asked for, and is true.
 * The socket pair of vg_net_open_pair is bound on 127.0.0.1 and sent
 * nothing: who else may bind its port, with and without its program.
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
#include <linux/filter.h>
#include <netinet/in.h>

#include "net.h"
#include "proto.h"

struct pair {
	int			tx_fd, rx_fd;
	struct sockaddr_un	rx_sa, nobody;
	socklen_t		rx_len, nobody_len;
};

static socklen_t
abstract(struct sockaddr_un *sa, const char *what)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1,
	    "vigil-test-net-%d-%s", (int)getpid(), what);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static int
setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->tx_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	p->rx_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(p->tx_fd >= 0 && p->rx_fd >= 0);
	p->rx_len = abstract(&p->rx_sa, "rx");
	p->nobody_len = abstract(&p->nobody, "nobody");
	assert_int_equal(bind(p->rx_fd, (struct sockaddr *)&p->rx_sa,
	    p->rx_len), 0);
	*state = p;
	return 0;
}

static int
teardown(void **state)
{
	struct pair *p = *state;

	close(p->tx_fd);
	close(p->rx_fd);
	free(p);
	return 0;
}

static void
queue(struct vg_net_tx *tx, const struct sockaddr_un *to, socklen_t len,
    char fill, size_t n, uint32_t tag)
{
	uint8_t *b = vg_net_tx_slot(tx);

	assert_non_null(b);
	memset(b, fill, n);
	vg_net_tx_queue(tx, n, (const struct sockaddr *)to, len, tag);
}

static void
test_batch_in_order(void **state)
{
	struct pair *p = *state;
	struct vg_net_tx *tx = calloc(1, sizeof(*tx));
	struct vg_net_rx *rx = calloc(1, sizeof(*rx));
	int n, i;

	assert_non_null(tx);
	assert_non_null(rx);
	assert_int_equal(vg_net_recv_batch(p->rx_fd, rx, VG_NET_BATCH), 0);
	queue(tx, &p->rx_sa, p->rx_len, 'a', 10, 1);
	queue(tx, &p->rx_sa, p->rx_len, 'b', 100, 2);
	queue(tx, &p->rx_sa, p->rx_len, 'c', VG_NET_BUF, 3);
	assert_int_equal(vg_net_tx_flush(p->tx_fd, tx), 0);
	assert_int_equal(tx->n, 0);
	assert_int_equal(tx->last, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(tx->err[i], 0);
		assert_int_equal(tx->tag[i], (uint32_t)i + 1);
	}
	n = vg_net_recv_batch(p->rx_fd, rx, VG_NET_BATCH);
	assert_int_equal(n, 3);
	assert_int_equal(rx->msg[0].msg_len, 10);
	assert_int_equal(rx->msg[1].msg_len, 100);
	assert_int_equal(rx->msg[2].msg_len, VG_NET_BUF);
	assert_int_equal(rx->buf[0][9], 'a');
	assert_int_equal(rx->buf[1][99], 'b');
	assert_int_equal(rx->buf[2][VG_NET_BUF - 1], 'c');
	for (i = 0; i < 3; i++)
		assert_false(vg_net_rx_trunc(rx, (unsigned)i));
	/* drained: 0, not -1 */
	assert_int_equal(vg_net_recv_batch(p->rx_fd, rx, VG_NET_BATCH), 0);
	free(tx);
	free(rx);
}

static void
test_full_batch_and_max(void **state)
{
	struct pair *p = *state;
	struct vg_net_tx *tx = calloc(1, sizeof(*tx));
	struct vg_net_rx *rx = calloc(1, sizeof(*rx));
	unsigned i;

	assert_non_null(tx);
	assert_non_null(rx);
	/* a full batch: no slot until it is flushed; every one of them
	 * failing (nobody listens) is counted, and the flush still ends */
	for (i = 0; i < VG_NET_BATCH; i++)
		queue(tx, &p->nobody, p->nobody_len, 'x', 20, i);
	assert_null(vg_net_tx_slot(tx));
	assert_int_equal(vg_net_tx_flush(p->tx_fd, tx), VG_NET_BATCH);
	for (i = 0; i < VG_NET_BATCH; i++)
		assert_int_not_equal(tx->err[i], 0);
	assert_non_null(vg_net_tx_slot(tx));
	/* at most `max` per read; the rest stay for the next (8: a unix
	 * socket queues 10 datagrams by default) */
	for (i = 0; i < 8; i++)
		queue(tx, &p->rx_sa, p->rx_len, (char)('A' + i), 20, i);
	assert_int_equal(vg_net_tx_flush(p->tx_fd, tx), 0);
	assert_int_equal(vg_net_recv_batch(p->rx_fd, rx, 5), 5);
	assert_int_equal(rx->buf[4][0], 'A' + 4);
	assert_int_equal(vg_net_recv_batch(p->rx_fd, rx, 1000), 3);
	assert_int_equal(rx->buf[0][0], 'A' + 5);
	free(tx);
	free(rx);
}

static void
test_truncated_flagged(void **state)
{
	struct pair *p = *state;
	struct vg_net_rx *rx = calloc(1, sizeof(*rx));
	uint8_t big[VG_NET_BUF + 100];

	assert_non_null(rx);
	memset(big, 'z', sizeof(big));
	assert_int_equal(sendto(p->tx_fd, big, sizeof(big), 0,
	    (struct sockaddr *)&p->rx_sa, p->rx_len), (ssize_t)sizeof(big));
	assert_int_equal(vg_net_recv_batch(p->rx_fd, rx, VG_NET_BATCH), 1);
	assert_true(vg_net_rx_trunc(rx, 0));
	free(rx);
}

/* The batch is set up once and reused: what the kernel wrote back for one
 * datagram (its truncation, the length of a short source address) must not
 * stick to the next one in the same slot. */
static void
test_reuse_resets_slot(void **state)
{
	struct pair *p = *state;
	struct vg_net_rx *rx = calloc(1, sizeof(*rx));
	uint8_t big[VG_NET_BUF + 100];
	struct sockaddr_un named;
	socklen_t named_len;
	int fd, round;

	assert_non_null(rx);
	memset(big, 'z', sizeof(big));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	named_len = abstract(&named, "named");
	assert_int_equal(bind(fd, (struct sockaddr *)&named, named_len), 0);
	/* nothing waits: 0, and the slots stay as they were */
	assert_int_equal(vg_net_recv_batch(p->rx_fd, rx, VG_NET_BATCH), 0);
	for (round = 0; round < 2; round++) {
		/* a whole datagram from a named sender (the first into a
		 * fresh batch, then after a cut one), its whole address
		 * written again */
		memset(&rx->src[0], 0, sizeof(rx->src[0]));
		assert_int_equal(sendto(fd, big, 20, 0,
		    (struct sockaddr *)&p->rx_sa, p->rx_len), 20);
		assert_int_equal(vg_net_recv_batch(p->rx_fd, rx,
		    VG_NET_BATCH), 1);
		assert_false(vg_net_rx_trunc(rx, 0));
		assert_int_equal(rx->msg[0].msg_len, 20);
		assert_int_equal(rx->msg[0].msg_hdr.msg_namelen, named_len);
		assert_memory_equal(&rx->src[0], &named, named_len);
		/* a cut one from an unbound sender: its source is short */
		assert_int_equal(sendto(p->tx_fd, big, sizeof(big), 0,
		    (struct sockaddr *)&p->rx_sa, p->rx_len),
		    (ssize_t)sizeof(big));
		assert_int_equal(vg_net_recv_batch(p->rx_fd, rx,
		    VG_NET_BATCH), 1);
		assert_true(vg_net_rx_trunc(rx, 0));
		assert_true(rx->msg[0].msg_hdr.msg_namelen < named_len);
	}
	close(fd);
	free(rx);
}

static void
test_failure_costs_its_own(void **state)
{
	struct pair *p = *state;
	struct vg_net_tx *tx = calloc(1, sizeof(*tx));
	struct vg_net_rx *rx = calloc(1, sizeof(*rx));

	assert_non_null(tx);
	assert_non_null(rx);
	queue(tx, &p->rx_sa, p->rx_len, '1', 8, 11);
	queue(tx, &p->nobody, p->nobody_len, '2', 8, 22);	/* no such socket */
	queue(tx, &p->rx_sa, p->rx_len, '3', 8, 33);
	assert_int_equal(vg_net_tx_flush(p->tx_fd, tx), 1);
	assert_int_equal(tx->last, 3);
	assert_int_equal(tx->err[0], 0);
	assert_int_not_equal(tx->err[1], 0);
	assert_int_equal(tx->tag[1], 22);
	assert_int_equal(tx->err[2], 0);
	assert_int_equal(vg_net_recv_batch(p->rx_fd, rx, VG_NET_BATCH), 2);
	assert_int_equal(rx->buf[0][0], '1');
	assert_int_equal(rx->buf[1][0], '3');
	free(tx);
	free(rx);
}

static int64_t
real_ns(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The kernel's receive stamp: none unless asked for; when asked, between
 * the send and the read, on every read of a reused slot. */
static void
test_receive_stamp(void **state)
{
	struct pair *p = *state;
	struct vg_net_tx *tx = calloc(1, sizeof(*tx));
	struct vg_net_rx *rx = calloc(1, sizeof(*rx));
	int64_t before, after, st;
	int round, i;

	assert_non_null(tx);
	assert_non_null(rx);
	queue(tx, &p->rx_sa, p->rx_len, 'a', 10, 1);
	assert_int_equal(vg_net_tx_flush(p->tx_fd, tx), 0);
	assert_int_equal(vg_net_recv_batch(p->rx_fd, rx, VG_NET_BATCH), 1);
	assert_true(vg_net_rx_stamp(rx, 0) == -1);
	assert_int_equal(vg_net_stamp_on(p->rx_fd), 0);
	for (round = 0; round < 3; round++) {
		before = real_ns();
		for (i = 0; i <= round; i++)
			queue(tx, &p->rx_sa, p->rx_len, 'b', 20, 2);
		assert_int_equal(vg_net_tx_flush(p->tx_fd, tx), 0);
		assert_int_equal(vg_net_recv_batch(p->rx_fd, rx,
		    VG_NET_BATCH), round + 1);
		after = real_ns();
		for (i = 0; i <= round; i++) {
			st = vg_net_rx_stamp(rx, (unsigned)i);
			assert_true(st >= before && st <= after);
			assert_int_equal(rx->msg[i].msg_len, 20);
		}
	}
	free(tx);
	free(rx);
}

/* A UDP socket on 127.0.0.1:port, with SO_REUSEPORT or not: its fd, or
 * -1 and errno. */
static int
bind_lo(uint16_t port, int reuse)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), on = 1, e;

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	if (reuse)
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on,
		    sizeof(on)), 0);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* A port of 127.0.0.1 that was free a moment ago. */
static uint16_t
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = bind_lo(0, 0);

	assert_true(fd >= 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/*
 * The pair: a port in use is refused; with the program, a plain socket
 * cannot bind the port and one with SO_REUSEPORT joins (the program never
 * picks it: test_heartbeat.py shows that); when the kernel refuses the
 * program, one socket alone on the port, which no SO_REUSEPORT socket can
 * join either.
 */
static void
test_open_pair(void **state)
{
	struct sock_filter insns[VG_PROTO_LAZY_PROG_LEN];
	struct sock_fprog good = { 0, insns }, bad = { 0, insns };
	struct sockaddr_in sa;
	char err[128], why[128];
	uint16_t port;
	int fd, second, other, busy;

	(void)state;
	good.len = (unsigned short)vg_proto_lazy_prog(insns,
	    VG_PROTO_LAZY_PROG_LEN);
	port = free_port();
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);

	why[0] = '\0';
	fd = vg_net_open_pair((struct sockaddr *)&sa, sizeof(sa), &good,
	    &second, err, sizeof(err), why, sizeof(why));
	assert_true(fd >= 0);
	assert_true(second >= 0);
	assert_string_equal(why, "");
	assert_int_equal(bind_lo(port, 0), -1);
	assert_int_equal(errno, EADDRINUSE);
	other = bind_lo(port, 1);
	assert_true(other >= 0);
	close(other);
	/* a second pair on the same port: refused, as vg_net_open is */
	busy = vg_net_open_pair((struct sockaddr *)&sa, sizeof(sa), &good,
	    &other, err, sizeof(err), why, sizeof(why));
	assert_int_equal(busy, -1);
	assert_int_equal(other, -1);
	assert_non_null(strstr(err, "Address already in use"));
	close(second);
	close(fd);

	/* an empty program: the kernel refuses it */
	fd = vg_net_open_pair((struct sockaddr *)&sa, sizeof(sa), &bad,
	    &second, err, sizeof(err), why, sizeof(why));
	assert_true(fd >= 0);
	assert_int_equal(second, -1);
	assert_non_null(strstr(why, "SO_ATTACH_REUSEPORT_CBPF"));
	assert_int_equal(bind_lo(port, 1), -1);
	assert_int_equal(errno, EADDRINUSE);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batch_in_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_full_batch_and_max, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_truncated_flagged, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reuse_resets_slot, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_failure_costs_its_own,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_stamp, setup,
		    teardown),
		cmocka_unit_test(test_open_pair),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
