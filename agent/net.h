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
#include <sys/uio.h>
#include <sys/types.h>
#include <time.h>

int	vg_net_open(const struct sockaddr *, socklen_t, char *err, size_t errlen);
/* 1 if the address is on one of this host's links now (a bind to it
 * works without IP_FREEBIND), 0 if not, -1 if that cannot be told. */
int	vg_net_addr_local(const struct sockaddr *, socklen_t);
/*
 * The same socket (returned; -1 and err as vg_net_open), in a
 * SO_REUSEPORT group with a second one (*second) that prog, a classic
 * BPF program run on each datagram's UDP payload, picks by returning 1
 * (0: the first).  The port must be free, as for vg_net_open.  When the
 * kernel refuses the group, the program or the second socket, *second is
 * -1, why says why, and the socket returned is vg_net_open's, alone on
 * the port.
 */
struct sock_fprog;
int	vg_net_open_pair(const struct sockaddr *, socklen_t,
	    const struct sock_fprog *prog, int *second, char *err,
	    size_t errlen, char *why, size_t whylen);
/* Returns the datagram's length, or -1 with errno (EAGAIN when drained).
 * *truncated is set when the datagram was larger than buflen. */
ssize_t	vg_net_recv(int fd, uint8_t *buf, size_t buflen,
	    struct sockaddr_storage *src, socklen_t *srclen, int *truncated);
/* 0, or the errno of a failed send (counted by the caller, not logged). */
int	vg_net_send(int fd, const uint8_t *buf, size_t len,
	    const struct sockaddr *, socklen_t);
/*
 * Batches: one recvmmsg takes every datagram that is waiting (up to
 * VG_NET_BATCH) without a last read that says EAGAIN; one sendmmsg sends
 * what a heartbeat round or a batch of actions queued, in order.
 */
#define VG_NET_BATCH	32
#define VG_NET_BUF	1536		/* a datagram larger is truncated */

struct vg_net_rx {
	struct mmsghdr		msg[VG_NET_BATCH];
	struct iovec		iov[VG_NET_BATCH];
	struct sockaddr_storage	src[VG_NET_BATCH];
	uint8_t			buf[VG_NET_BATCH][VG_NET_BUF];
	union {				/* the kernel's receive time stamp */
		struct cmsghdr	align;
		char		b[CMSG_SPACE(sizeof(struct timespec))];
	}			ctl[VG_NET_BATCH];
	unsigned		ready;	/* msg[0..ready) point at their iov,
					 * src and buf (zeroed: none yet) */
	unsigned		dirty;	/* msg[0..dirty) the last read may
					 * have written back to */
};

/* Datagrams read (0 when none waits), or -1 with errno.  Datagram i is
 * rx->buf[i], rx->msg[i].msg_len bytes, from rx->src[i]; vg_net_rx_trunc
 * says whether it was cut. */
int	vg_net_recv_batch(int fd, struct vg_net_rx *rx, unsigned max);
int	vg_net_rx_trunc(const struct vg_net_rx *rx, unsigned i);
/* Asks the kernel to stamp each datagram with the time it came
 * (SO_TIMESTAMPNS, CLOCK_REALTIME): 0, or -1 with errno. */
int	vg_net_stamp_on(int fd);
/* Datagram i's stamp, CLOCK_REALTIME ns; -1 if it has none. */
int64_t	vg_net_rx_stamp(struct vg_net_rx *rx, unsigned i);

struct vg_net_tx {
	struct mmsghdr		msg[VG_NET_BATCH];
	struct iovec		iov[VG_NET_BATCH];
	struct sockaddr_storage	dst[VG_NET_BATCH];
	uint8_t			buf[VG_NET_BATCH][VG_NET_BUF];
	uint32_t		tag[VG_NET_BATCH];	/* the caller's, per datagram */
	int			err[VG_NET_BATCH];	/* errno of each, 0 sent */
	unsigned		n;		/* queued */
	unsigned		last;		/* in the last flush: err[], tag[] */
};

/* A slot for the next datagram (NULL when the batch is full: flush first). */
uint8_t	*vg_net_tx_slot(struct vg_net_tx *);
/* Queues the slot's len bytes for dst, with the caller's tag. */
void	vg_net_tx_queue(struct vg_net_tx *, size_t len, const struct sockaddr *,
	    socklen_t, uint32_t tag);
/* Sends what is queued, in order.  Returns how many failed; the batch is
 * empty after it, and err[i], tag[i] for i < last say what became of each. */
unsigned vg_net_tx_flush(int fd, struct vg_net_tx *);

/*
 * Every peer's datagrams leave through the one socket.  What is sent to a
 * peer whose address does not resolve (it is down on the link) waits in
 * its neighbour entry, up to unres_qlen_bytes, counted against the
 * socket's send buffer until resolution fails: with the default buffer a
 * few such peers filled it and the sends to live peers failed (EAGAIN).
 * The buffer is sized so that every peer's queue fits beside a heartbeat
 * round: vg_net_sndbuf_for is that size for n peers and the largest
 * unres_qlen_bytes of the namespace (0 read: the kernel's default);
 * vg_net_set_sndbuf sets it (SO_SNDBUFFORCE: CAP_NET_ADMIN, else
 * SO_SNDBUF up to wmem_max), and returns the size the kernel took.
 */
size_t	vg_net_sndbuf_for(size_t n_peers, size_t unres_qlen_bytes);
size_t	vg_net_unres_qlen(void);
int	vg_net_set_sndbuf(int fd, size_t bytes, size_t *got);

/* "198.18.0.1:5405" or "[2001:db8::1]:5405" */
void	vg_sockaddr_fmt(const struct sockaddr *, char *out, size_t outlen);

#endif
