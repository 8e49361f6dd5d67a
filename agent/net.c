/*
 * net: UDP socket set-up, receive with truncation detection, send.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net.h"

#define UNRES_QLEN_DEFAULT	(212992)	/* the kernel's, SK_WMEM_MAX */
#define SNDBUF_ROUND		(256 * 1024)	/* a round, votes, a burst */

size_t
vg_net_sndbuf_for(size_t n_peers, size_t unres)
{
	if (unres == 0)
		unres = UNRES_QLEN_DEFAULT;
	return n_peers * unres + SNDBUF_ROUND;
}

/* The largest unres_qlen_bytes of any interface (and the defaults new ones
 * take), IPv4 and IPv6, in this network namespace. */
size_t
vg_net_unres_qlen(void)
{
	static const char *const pat[] = {
		"/proc/sys/net/ipv4/neigh/*/unres_qlen_bytes",
		"/proc/sys/net/ipv6/neigh/*/unres_qlen_bytes",
	};
	unsigned long long v, best = 0;
	size_t i, k;
	glob_t g;
	FILE *f;

	for (i = 0; i < sizeof(pat) / sizeof(pat[0]); i++) {
		if (glob(pat[i], 0, NULL, &g) != 0)
			continue;
		for (k = 0; k < g.gl_pathc; k++) {
			if ((f = fopen(g.gl_pathv[k], "re")) == NULL)
				continue;
			if (fscanf(f, "%llu", &v) == 1 && v > best)
				best = v;
			fclose(f);
		}
		globfree(&g);
	}
	if (best > INT_MAX / 2)
		best = INT_MAX / 2;
	return (size_t)best;
}

int
vg_net_set_sndbuf(int fd, size_t bytes, size_t *got)
{
	int v = bytes > INT_MAX / 2 ? INT_MAX / 2 : (int)bytes, r = 0;
	socklen_t len = sizeof(r);

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) == -1 &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) == -1)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &r, &len) == -1)
		return -1;
	*got = (size_t)r;
	return 0;
}

int
vg_net_addr_local(const struct sockaddr *sa, socklen_t salen)
{
	struct sockaddr_storage ss;
	int fd, rc, e;

	if (salen > sizeof(ss))
		return -1;
	memcpy(&ss, sa, salen);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	if ((fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	rc = bind(fd, (struct sockaddr *)&ss, salen);
	e = errno;
	close(fd);
	if (rc == 0)
		return 1;
	return e == EADDRNOTAVAIL ? 0 : -1;
}

static int
open_one(const struct sockaddr *sa, socklen_t salen, int reuse, char *err,
    size_t errlen)
{
	int fd, on = 1, tos = IPTOS_CLASS_CS6;
	char where[INET6_ADDRSTRLEN + 16];

	vg_sockaddr_fmt(sa, where, sizeof(where));
	fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (sa->sa_family == AF_INET) {
		(void)setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &on, sizeof(on));
		(void)setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	} else {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &on, sizeof(on));
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	}
	if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on,
	    sizeof(on)) == -1) {
		snprintf(err, errlen, "SO_REUSEPORT: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, sa, salen) == -1) {
		snprintf(err, errlen, "bind %s: %s", where, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
vg_net_open(const struct sockaddr *sa, socklen_t salen, char *err, size_t errlen)
{
	return open_one(sa, salen, 0, err, errlen);
}

int
vg_net_open_pair(const struct sockaddr *sa, socklen_t salen,
    const struct sock_fprog *prog, int *second, char *err, size_t errlen,
    char *why, size_t whylen)
{
	int fd;

	*second = -1;
	/* first alone, as vg_net_open: a port bound by anyone (another
	 * vigild's pair included) is refused here, never joined */
	if ((fd = open_one(sa, salen, 0, err, errlen)) == -1)
		return -1;
	close(fd);
	if ((fd = open_one(sa, salen, 1, why, whylen)) == -1)
		return open_one(sa, salen, 0, err, errlen);
	/* the program before the second socket joins: until then its
	 * "1" is out of range, which the kernel answers by its hash over
	 * the group: the only socket */
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, prog,
	    sizeof(*prog)) == -1)
		snprintf(why, whylen, "SO_ATTACH_REUSEPORT_CBPF: %s",
		    strerror(errno));
	else if ((*second = open_one(sa, salen, 1, why, whylen)) != -1)
		return fd;
	/* one socket, as vg_net_open's: not in a group that a stranger
	 * with SO_REUSEPORT could join and take datagrams from */
	close(fd);
	return open_one(sa, salen, 0, err, errlen);
}

ssize_t
vg_net_recv(int fd, uint8_t *buf, size_t buflen, struct sockaddr_storage *src,
    socklen_t *srclen, int *truncated)
{
	struct iovec iov = { buf, buflen };
	struct msghdr msg;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_name = src;
	msg.msg_namelen = sizeof(*src);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	do {
		n = recvmsg(fd, &msg, 0);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	*srclen = msg.msg_namelen;
	*truncated = (msg.msg_flags & MSG_TRUNC) != 0;
	return n;
}

int
vg_net_send(int fd, const uint8_t *buf, size_t len, const struct sockaddr *sa,
    socklen_t salen)
{
	ssize_t n;

	do {
		n = sendto(fd, buf, len, 0, sa, salen);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno;
	return 0;
}

int
vg_net_recv_batch(int fd, struct vg_net_rx *rx, unsigned max)
{
	unsigned i;
	int n;

	if (max > VG_NET_BATCH)
		max = VG_NET_BATCH;
	/* the pointers once; then only what the kernel writes back (the
	 * length, the source's length, the flags) is set again: a whole
	 * batch's headers at every wake-up cost more than the datagram */
	for (; rx->ready < max; rx->ready++) {
		i = rx->ready;
		rx->iov[i].iov_base = rx->buf[i];
		rx->iov[i].iov_len = sizeof(rx->buf[i]);
		memset(&rx->msg[i], 0, sizeof(rx->msg[i]));
		rx->msg[i].msg_hdr.msg_name = &rx->src[i];
		rx->msg[i].msg_hdr.msg_namelen = sizeof(rx->src[i]);
		rx->msg[i].msg_hdr.msg_iov = &rx->iov[i];
		rx->msg[i].msg_hdr.msg_iovlen = 1;
		rx->msg[i].msg_hdr.msg_control = rx->ctl[i].b;
		rx->msg[i].msg_hdr.msg_controllen = sizeof(rx->ctl[i].b);
	}
	for (i = 0; i < rx->dirty; i++) {
		rx->msg[i].msg_len = 0;
		rx->msg[i].msg_hdr.msg_namelen = sizeof(rx->src[i]);
		rx->msg[i].msg_hdr.msg_controllen = sizeof(rx->ctl[i].b);
		rx->msg[i].msg_hdr.msg_flags = 0;
	}
	do {
		n = recvmmsg(fd, rx->msg, max, MSG_DONTWAIT, NULL);
	} while (n == -1 && errno == EINTR);
	/* the kernel writes back to the datagrams it returns (none when
	 * nothing waits); after another error take it that it may have
	 * written to any */
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		rx->dirty = 0;
		return 0;
	}
	rx->dirty = n >= 0 ? (unsigned)n : max;
	return n;
}

int
vg_net_rx_trunc(const struct vg_net_rx *rx, unsigned i)
{
	return (rx->msg[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
}

int
vg_net_stamp_on(int fd)
{
	int on = 1;

	return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
}

int64_t
vg_net_rx_stamp(struct vg_net_rx *rx, unsigned i)
{
	struct msghdr *h = &rx->msg[i].msg_hdr;
	struct cmsghdr *c;
	struct timespec ts;

	for (c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_TIMESTAMPNS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(ts))) {
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
		}
	return -1;
}

uint8_t *
vg_net_tx_slot(struct vg_net_tx *tx)
{
	return tx->n < VG_NET_BATCH ? tx->buf[tx->n] : NULL;
}

void
vg_net_tx_queue(struct vg_net_tx *tx, size_t len, const struct sockaddr *sa,
    socklen_t salen, uint32_t tag)
{
	unsigned i = tx->n;

	if (i >= VG_NET_BATCH || len > sizeof(tx->buf[i]) ||
	    salen > sizeof(tx->dst[i]))
		return;
	memcpy(&tx->dst[i], sa, salen);
	tx->iov[i].iov_base = tx->buf[i];
	tx->iov[i].iov_len = len;
	memset(&tx->msg[i], 0, sizeof(tx->msg[i]));
	tx->msg[i].msg_hdr.msg_name = &tx->dst[i];
	tx->msg[i].msg_hdr.msg_namelen = salen;
	tx->msg[i].msg_hdr.msg_iov = &tx->iov[i];
	tx->msg[i].msg_hdr.msg_iovlen = 1;
	tx->err[i] = 0;
	tx->tag[i] = tag;
	tx->n++;
}

unsigned
vg_net_tx_flush(int fd, struct vg_net_tx *tx)
{
	unsigned i = 0, failed = 0;
	int r;

	while (i < tx->n) {
		r = sendmmsg(fd, tx->msg + i, tx->n - i, MSG_DONTWAIT);
		if (r == -1 && errno == EINTR)
			continue;
		if (r > 0) {
			i += (unsigned)r;
			continue;
		}
		/* this one failed (ENOBUFS, EHOSTUNREACH...): the rest go on */
		tx->err[i] = r == -1 ? errno : EIO;
		failed++;
		i++;
	}
	tx->last = tx->n;
	tx->n = 0;
	return failed;
}

void
vg_sockaddr_fmt(const struct sockaddr *sa, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(out, outlen, "%s:%u", a, ntohs(s->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(out, outlen, "[%s]:%u", a, ntohs(s->sin6_port));
	} else
		snprintf(out, outlen, "(family %d)", sa->sa_family);
}
