/*
 * net: the UDP socket the heartbeats and votes travel on.  Bound to this
 * node's own address and port (IP_FREEBIND, so the agent can start before
 * the address is up), non-blocking, close-on-exec, DSCP CS6.
 */
#ifndef VG_NET_H
#define VG_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

int	vg_net_open(const struct sockaddr *, socklen_t, char *err, size_t errlen);
/* Returns the datagram's length, or -1 with errno (EAGAIN when drained).
 * *truncated is set when the datagram was larger than buflen. */
ssize_t	vg_net_recv(int fd, uint8_t *buf, size_t buflen,
	    struct sockaddr_storage *src, socklen_t *srclen, int *truncated);
/* 0, or the errno of a failed send (counted by the caller, not logged). */
int	vg_net_send(int fd, const uint8_t *buf, size_t len,
	    const struct sockaddr *, socklen_t);
/* "198.18.0.1:5405" or "[2001:db8::1]:5405" */
void	vg_sockaddr_fmt(const struct sockaddr *, char *out, size_t outlen);

#endif
