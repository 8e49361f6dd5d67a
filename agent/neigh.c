/*
 * neigh: the peers' next hops in the kernel's neighbour table, re-resolved
 * when a link comes back (neigh.h says why).  rtnetlink through libmnl, on
 * a socket of its own for the one call (the link-event socket's messages
 * must not be read here), each request acked: a route lookup per peer, a
 * get of the next hop's entry, and for an unresolved one a delete and an
 * RTM_NEWNEIGH with NTF_USE, which makes the kernel probe at once.  The
 * kernel answers within the sendmsg; the receive timeout is only a guard
 * (a request may still wait for the rtnl lock).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "clock.h"
#include "log.h"
#include "neigh.h"

#define NL_WAIT_US	50000	/* the kernel answers at once: only a guard */
#define NL_MSG_MAX	256	/* one request: header, ndmsg/rtmsg, two attrs */

struct hop {
	int		family;
	int		ifindex;
	uint8_t		addr[16];
};

struct nl {
	struct mnl_socket *sock;
	unsigned	portid;
	uint32_t	seq;
};

static size_t
alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* One request, acked; cb sees the answers.  0, or -1 with errno (the
 * kernel's own, such as ENOENT, or the socket's). */
static int
talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	alignas(struct nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t r;
	int i, rc;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (i = 0; i < 8; i++) {
		if ((r = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf))) < 0)
			return -1;
		rc = mnl_cb_run(buf, (size_t)r, nl->seq, nl->portid, cb, data);
		if (rc == MNL_CB_STOP)
			return 0;
		if (rc == MNL_CB_ERROR)
			return -1;
	}
	errno = EPROTO;
	return -1;
}

static int
route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct hop *h = data;
	const struct rtmsg *rt = mnl_nlmsg_get_payload(nlh);
	struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rt) ||
	    rt->rtm_family != h->family)
		return MNL_CB_OK;
	if (rt->rtm_type != RTN_UNICAST) {	/* local, unreachable: none */
		h->ifindex = 0;
		return MNL_CB_OK;
	}
	mnl_attr_for_each(a, nlh, sizeof(*rt)) {
		if (mnl_attr_get_type(a) == RTA_OIF &&
		    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			h->ifindex = (int)mnl_attr_get_u32(a);
		else if (mnl_attr_get_type(a) == RTA_GATEWAY &&
		    mnl_attr_get_payload_len(a) == alen(h->family))
			memcpy(h->addr, mnl_attr_get_payload(a),
			    alen(h->family));
	}
	return MNL_CB_OK;
}

/* A node's address, as the route lookup and the neighbour table take it;
 * its length, or 0 for a family other than IPv4 and IPv6. */
static size_t
node_addr(const struct vg_conf_node *node, uint8_t addr[16])
{
	const struct sockaddr_in *s4 = (const void *)&node->sa;
	const struct sockaddr_in6 *s6 = (const void *)&node->sa;

	if (node->sa.ss_family == AF_INET)
		memcpy(addr, &s4->sin_addr, 4);
	else if (node->sa.ss_family == AF_INET6)
		memcpy(addr, &s6->sin6_addr, 16);
	else
		return 0;
	return alen(node->sa.ss_family);
}

/* The next hop of the heartbeats to node (from src, the address they are
 * sent from): node itself on a link, or its gateway.  0, or -1 if there is
 * none (no route, a local address).  An IPv4 route through an IPv6
 * gateway (RTA_VIA) leaves the node's own address, which has no entry. */
static int
next_hop(struct nl *nl, const struct vg_conf_node *node,
    const struct vg_conf_node *src, struct hop *h)
{
	alignas(struct nlmsghdr) char buf[NL_MSG_MAX];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	uint8_t from[16];
	struct rtmsg *rt;

	memset(h, 0, sizeof(*h));
	h->family = node->sa.ss_family;
	if (node_addr(node, h->addr) == 0)
		return -1;
	nlh->nlmsg_type = RTM_GETROUTE;
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtm_family = (uint8_t)h->family;
	rt->rtm_dst_len = (uint8_t)(alen(h->family) * 8);
	mnl_attr_put(nlh, RTA_DST, alen(h->family), h->addr);
	if (src != NULL && src->sa.ss_family == h->family &&
	    node_addr(src, from) != 0) {
		rt->rtm_src_len = rt->rtm_dst_len;
		mnl_attr_put(nlh, RTA_SRC, alen(h->family), from);
	}
	if (talk(nl, nlh, route_cb, h) == -1 || h->ifindex == 0)
		return -1;
	return 0;
}

static struct nlmsghdr *
neigh_msg(char *buf, int type, const struct hop *h, uint8_t ndm_flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *nd;

	nlh->nlmsg_type = (uint16_t)type;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = (uint8_t)h->family;
	nd->ndm_ifindex = h->ifindex;
	nd->ndm_flags = ndm_flags;
	mnl_attr_put(nlh, NDA_DST, alen(h->family), h->addr);
	return nlh;
}

struct entry {
	int		state;	/* NUD_*; NUD_NONE if none came */
	int		other;	/* learned from outside, or kernel-managed */
};

static int
entry_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
	struct entry *e = data;
	struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWNEIGH ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*nd))
		return MNL_CB_OK;
	e->state = nd->ndm_state;
	e->other = (nd->ndm_flags & NTF_EXT_LEARNED) != 0;
	mnl_attr_for_each(a, nlh, sizeof(*nd))
		if (mnl_attr_get_type(a) == NDA_FLAGS_EXT &&
		    mnl_attr_validate(a, MNL_TYPE_U32) == 0 &&
		    (mnl_attr_get_u32(a) & NTF_EXT_MANAGED))
			e->other = 1;
	return MNL_CB_OK;
}

/*
 * 1 if h's entry was unresolved and is now probed afresh; 0 if it was
 * valid, absent (the next datagram probes at once) or another's (managed,
 * or learned from outside the kernel); -1 on error.  An INCOMPLETE entry
 * is deleted first, with what is queued behind it (stale heartbeats): on
 * one that is still INCOMPLETE the kernel's neigh_event_send only queues,
 * and probes at its timer.  A FAILED one needs no delete: NTF_USE on it
 * probes at once.  A reply that comes between the get and the delete
 * costs the entry one more probe, no more.
 */
static int
renew(struct nl *nl, const struct hop *h)
{
	alignas(struct nlmsghdr) char buf[NL_MSG_MAX];
	struct entry e = { NUD_NONE, 0 };
	struct nlmsghdr *nlh;

	if (talk(nl, neigh_msg(buf, RTM_GETNEIGH, h, 0), entry_cb, &e) == -1)
		return errno == ENOENT ? 0 : -1;
	if ((e.state & (NUD_INCOMPLETE | NUD_FAILED)) == 0 || e.other)
		return 0;
	if ((e.state & NUD_INCOMPLETE) && talk(nl, neigh_msg(buf,
	    RTM_DELNEIGH, h, 0), NULL, NULL) == -1 && errno != ENOENT)
		return -1;
	/* NTF_USE: the kernel's neigh_event_send on the entry, which sends
	 * the first probe now rather than with the next datagram */
	nlh = neigh_msg(buf, RTM_NEWNEIGH, h, NTF_USE);
	nlh->nlmsg_flags = NLM_F_CREATE;
	if (talk(nl, nlh, NULL, NULL) == -1)
		return -1;
	return 1;
}

static int
oif_listed(int ifindex, const int *oifs, size_t n_oifs)
{
	size_t i;

	for (i = 0; i < n_oifs; i++)
		if (oifs[i] == ifindex)
			return 1;
	return n_oifs == 0;
}

/* At most 10 lines (renewals and failures), then one a minute: links of
 * containers come and go on a busy host. */
static struct vg_ratelimit log_rl = VG_RATELIMIT_INIT(60 * VG_NS_PER_S, 10);

int
vg_neigh_reprime(const struct vg_conf_node *nodes, size_t n, int self,
    const int *oifs, size_t n_oifs)
{
	const struct vg_conf_node *src = self >= 0 && (size_t)self < n ?
	    &nodes[self] : NULL;
	struct hop hops[VG_MAX_NODES], h;
	struct timeval tv = { 0, NL_WAIT_US };
	struct nl nl = { NULL, 0, 0 };
	char a[INET6_ADDRSTRLEN], err[160] = "";
	size_t i, k, nh = 0;
	int rc, renewed = 0, failed = 0;
	uint64_t sup;

	nl.sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nl.sock == NULL || mnl_socket_bind(nl.sock, 0,
	    MNL_SOCKET_AUTOPID) == -1 || setsockopt(mnl_socket_get_fd(nl.sock),
	    SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1) {
		snprintf(err, sizeof(err), "netlink: %s", strerror(errno));
		failed = 1;
		goto out;
	}
	nl.portid = mnl_socket_get_portid(nl.sock);
	for (i = 0; i < n; i++) {
		if ((int)i == self || next_hop(&nl, &nodes[i], src, &h) == -1 ||
		    !oif_listed(h.ifindex, oifs, n_oifs))
			continue;
		for (k = 0; k < nh; k++)
			if (memcmp(&hops[k], &h, sizeof(h)) == 0)
				break;
		if (k == nh && nh < VG_MAX_NODES)
			hops[nh++] = h;
	}
	/* one entry that cannot be renewed (a full table, say) is named and
	 * the others still are */
	for (k = 0; k < nh; k++) {
		if ((rc = renew(&nl, &hops[k])) >= 0) {
			renewed += rc;
			continue;
		}
		if (failed++ == 0)
			snprintf(err, sizeof(err), "neighbour %s (interface %d): "
			    "%s", inet_ntop(hops[k].family, hops[k].addr, a,
			    sizeof(a)) ? a : "?", hops[k].ifindex,
			    strerror(errno));
	}
out:
	if (nl.sock != NULL)
		mnl_socket_close(nl.sock);
	if ((failed || renewed) && vg_ratelimit_ok(&log_rl, vg_now(), &sup)) {
		if (sup != 0)
			log_info("neigh: %llu lines not logged",
			    (unsigned long long)sup);
		if (failed)
			log_warnx("a link came up; renewing the peers' "
			    "neighbour entries: %s", err);
		if (renewed)
			log_info("a link came up: %d peer next hop(s) "
			    "unresolved, probed again", renewed);
	}
	return failed ? -1 : renewed;
}
