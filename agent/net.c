/*
 * net: UDP socket set-up, receive with truncation detection, send.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net.h"

int
vg_net_open(const struct sockaddr *sa, socklen_t salen, char *err, size_t errlen)
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
	if (bind(fd, sa, salen) == -1) {
		snprintf(err, errlen, "bind %s: %s", where, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
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
