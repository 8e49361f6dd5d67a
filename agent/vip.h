/*
 * vip: the virtual addresses on this node's links.  rtnetlink through
 * libmnl: one batch of RTM_NEWADDR / RTM_DELADDR for all VIPs of a change,
 * every message acked and checked, idempotent (adding a present VIP renews
 * its lifetime; removing an absent one is not an error); the kernel lifetime
 * (valid_lft/preferred_lft) as the last backstop.  Also: the start-up sweep
 * of stale VIPs, link state from RTNLGRP_LINK, and gratuitous ARP (IPv4) /
 * unsolicited neighbour advertisements (IPv6) after a take-over.
 */
#ifndef VG_VIP_H
#define VG_VIP_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

struct vg_nl;

/* groups: 0, or RTMGRP_LINK to follow links on this socket. */
struct vg_nl	*vg_nl_open(unsigned groups, char *err, size_t errlen);
void		 vg_nl_close(struct vg_nl *);
int		 vg_nl_fd(const struct vg_nl *);
/* 1 if netlink seq s is one of first..last, a batch's, counted as serial
 * numbers (RFC 1982): a socket's seqs wrap after 2^32 messages, some
 * weeks of lifetime refreshes with thousands of VIPs. */
static inline int
vg_nl_seq_in(uint32_t s, uint32_t first, uint32_t last)
{
	return (uint32_t)(s - first) <= (uint32_t)(last - first);
}
/* Tests only: the socket's next seq is s + 1. */
void		 vg_nl_set_seq(struct vg_nl *, uint32_t s);

/*
 * Adds (with lifetime_s as valid and preferred lifetime) or removes every
 * VIP.  Returns the number of VIPs that failed (their errors logged), or -1
 * if the netlink socket itself failed.
 */
int	vg_vip_apply(struct vg_nl *, const struct vg_conf_vip *, size_t n,
	    int add, unsigned lifetime_s);
/* Removes every VIP of the config found on any link, whatever its prefix
 * length there.  Returns how many were removed, or -1. */
int	vg_vip_sweep(struct vg_nl *, const struct vg_conf_vip *, size_t n);

/*
 * Link state of the interfaces followed (conf->links: the VIPs' and
 * track_interfaces): vg_link_query dumps the links once; vg_link_read
 * drains the link-event socket.  Both return 1 if every one is up and
 * running, 0 if one is not (bad names it), -1 on error.
 */
int	vg_link_query(struct vg_nl *, const char (*names)[IF_NAMESIZE], size_t n,
	    char *bad, size_t badlen);
int	vg_link_read(struct vg_nl *, const char (*names)[IF_NAMESIZE], size_t n,
	    char *bad, size_t badlen);
/*
 * The interfaces, followed or not, that came up (running again, or new and
 * running) in what vg_link_read and vg_link_query read since the last
 * call: how many indexes were written to idx, 0 if none came up, -1 if
 * more did or some may have unseen (events lost).  The first dump, at
 * start, is the baseline: what is up then did not come up.
 */
#define VG_LINK_UP_MAX	8
int	vg_link_came_up(struct vg_nl *, int idx[VG_LINK_UP_MAX]);

/*
 * Gratuitous ARP / unsolicited NA.  The sockets stay open for the life of
 * the sender (a packet socket's close waits for an RCU grace period: 1 to
 * 17 ms here, too long for a loop that keeps leases), and receive nothing.
 * Each interface is looked up once per call (VIPs come grouped by it).
 */
struct vg_garp;

struct vg_garp	*vg_garp_open(void);
/* For vips[0..n); returns how many failed. */
int		 vg_garp_send(struct vg_garp *, const struct vg_conf_vip *,
		    size_t n);
void		 vg_garp_close(struct vg_garp *);

#endif
