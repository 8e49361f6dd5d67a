/*
 * vip: rtnetlink batches for the VIPs, the stale-VIP sweep, link state,
 * gratuitous ARP and unsolicited NA.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "vip.h"

#define BATCH_BYTES	(64 * 1024)
#define RCVBUF_BYTES	(4 * 1024 * 1024)

struct vg_nl {
	struct mnl_socket	*sock;
	unsigned		portid;
	uint32_t		seq;
	/* link state of the VIPs' interfaces, by name */
	struct {
		char		name[IF_NAMESIZE];
		int		index;
		int		up;
	}			links[64];
	size_t			n_links;
	/* every interface's last running state, by index: what tells a
	 * link that comes back (vg_link_came_up) */
	struct {
		int		index;
		int		running;
		int		dumped;	/* in the dump under way */
	}			seen[128];
	size_t			n_seen;
	int			baseline;	/* a dump has filled seen[] */
	int			up[VG_LINK_UP_MAX];	/* came up, by index */
	int			n_up;	/* -1: more, or unknown */
};

struct vg_nl *
vg_nl_open(unsigned groups, char *err, size_t errlen)
{
	struct vg_nl *nl = calloc(1, sizeof(*nl));
	int one = 1, rcv = RCVBUF_BYTES;

	if (nl == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (nl->sock == NULL || mnl_socket_bind(nl->sock, groups,
	    MNL_SOCKET_AUTOPID) == -1) {
		snprintf(err, errlen, "netlink: %s", strerror(errno));
		if (nl->sock != NULL)
			mnl_socket_close(nl->sock);
		free(nl);
		return NULL;
	}
	/* acks without the request copied back; room for a thousand of them */
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	if (setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVBUFFORCE,
	    &rcv, sizeof(rcv)) == -1)
		(void)setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET,
		    SO_RCVBUF, &rcv, sizeof(rcv));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	return nl;
}

void
vg_nl_close(struct vg_nl *nl)
{
	if (nl == NULL)
		return;
	mnl_socket_close(nl->sock);
	free(nl);
}

int
vg_nl_fd(const struct vg_nl *nl)
{
	return mnl_socket_get_fd(nl->sock);
}

void
vg_nl_set_seq(struct vg_nl *nl, uint32_t s)
{
	nl->seq = s;
}

/* Waits (bounded) for the socket to be readable: it is non-blocking. */
static ssize_t
nl_recv(struct vg_nl *nl, void *buf, size_t len)
{
	struct timeval tv = { 2, 0 };
	fd_set rf;
	ssize_t n;
	int fd = vg_nl_fd(nl);

	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, buf, len);
		if (n >= 0 || (errno != EAGAIN && errno != EINTR))
			return n;
		FD_ZERO(&rf);
		FD_SET(fd, &rf);
		if (select(fd + 1, &rf, NULL, NULL, &tv) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
}

/* ---- acked batches */

/*
 * Only a batch's last message asks for an ack (NLM_F_ACK): the kernel
 * answers a failed request whatever its flags, in order, so the last
 * message's ack comes after every failure before it.  An ack for each
 * message cost 1000 VIPs 10.5 ms to add and 7.0 ms to remove here,
 * against 8.6 and 5.1 with one (medians of 10).
 */
struct batch_ack {
	uint32_t	first, last;	/* seqs of this batch */
	uint32_t	acked_seq;	/* the message that asked for the ack */
	int		done;		/* its ack came */
	int		add;
	const struct vg_conf_vip *vips;	/* vips[seq - first] */
	int		failed;
};

/* At most 10 failure lines, then one a minute. */
static struct vg_ratelimit fail_rl = VG_RATELIMIT_INIT(60 * VG_NS_PER_S, 10);

static int
ack_cb(const struct nlmsghdr *nlh, void *data)
{
	struct batch_ack *b = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	uint64_t sup;
	int error;

	/* seqs are serial numbers: a batch may span their wrap */
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)) ||
	    !vg_nl_seq_in(nlh->nlmsg_seq, b->first, b->last))
		return MNL_CB_OK;	/* not ours: ignored */
	if (nlh->nlmsg_seq == b->acked_seq)
		b->done = 1;
	error = -e->error;
	if (error == 0)
		return MNL_CB_OK;
	/* removing what is not there is what we wanted */
	if (!b->add && (error == EADDRNOTAVAIL || error == ENOENT ||
	    error == ENODEV || error == ESRCH))
		return MNL_CB_OK;
	b->failed++;
	/* a VIP the kernel keeps refusing is tried again (the keeper, every
	 * VG_KEEPER_RETRY): its warning not each time */
	if (!vg_ratelimit_ok(&fail_rl, vg_now(), &sup))
		return MNL_CB_OK;
	if (sup != 0)
		log_warnx("vip: %llu failures not logged",
		    (unsigned long long)sup);
	log_warnx("vip %s on %s: %s failed: %s",
	    b->vips[nlh->nlmsg_seq - b->first].text,
	    b->vips[nlh->nlmsg_seq - b->first].ifname,
	    b->add ? "add" : "remove", strerror(error));
	return MNL_CB_OK;
}

static void
put_addr(struct nlmsghdr *nlh, const struct vg_conf_vip *v)
{
	size_t alen = v->family == AF_INET ? 4 : 16;

	if (v->family == AF_INET)
		mnl_attr_put(nlh, IFA_LOCAL, alen, v->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, v->addr);
}

/* The link's index; 0: there is no such link; -1: the lookup itself
 * failed (if_nametoindex opens a socket: EMFILE, ENOMEM), which says
 * nothing of the link. */
static int
ifindex_of(const char *name, const char **cache_name, int *cache_idx)
{
	if (*cache_name == NULL || strcmp(*cache_name, name) != 0) {
		errno = 0;
		*cache_idx = (int)if_nametoindex(name);
		if (*cache_idx == 0 && errno != ENODEV && errno != 0)
			return -1;	/* not cached: asked again */
		*cache_name = name;
	}
	return *cache_idx;
}

/*
 * Fills one batch with the messages for vips[*i...n), as many as fit, and
 * moves *i past them; a VIP whose link is missing takes a seq but no
 * message (an add of it counts as failed).  The last message put in asks
 * for the ack (*acked_seq: its seq).  Returns the messages put in.
 */
static size_t
batch_fill(struct vg_nl *nl, struct mnl_nlmsg_batch *b,
    const struct vg_conf_vip *vips, size_t *i, size_t n, int add,
    unsigned lifetime_s, int *failed, uint32_t *acked_seq)
{
	const char *cname = NULL;
	struct nlmsghdr *last = NULL;
	int cidx = 0;
	size_t count = 0;

	for (; *i < n; (*i)++) {
		const struct vg_conf_vip *v = &vips[*i];
		struct nlmsghdr *nlh;
		struct ifaddrmsg *ifa;
		int idx = ifindex_of(v->ifname, &cname, &cidx);

		if (idx == -1) {
			/* not known: a removal is not confirmed either */
			log_warn("vip %s: looking up interface %s failed",
			    v->text, v->ifname);
			(*failed)++;
			nl->seq++;	/* keep seq == first + index */
			continue;
		}
		if (idx == 0) {
			/* no such link: nothing to remove, cannot add */
			if (add) {
				log_warnx("vip %s: no interface %s", v->text,
				    v->ifname);
				(*failed)++;
			}
			nl->seq++;	/* keep seq == first + index */
			continue;
		}
		nlh = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(b));
		nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
		nlh->nlmsg_flags = NLM_F_REQUEST |
		    (add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
		nlh->nlmsg_seq = ++nl->seq;
		ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
		ifa->ifa_family = (uint8_t)v->family;
		ifa->ifa_prefixlen = v->prefixlen;
		ifa->ifa_scope = RT_SCOPE_UNIVERSE;
		ifa->ifa_index = (unsigned)idx;
		put_addr(nlh, v);
		if (add) {
			struct ifa_cacheinfo ci;

			memset(&ci, 0, sizeof(ci));
			ci.ifa_prefered = lifetime_s;
			ci.ifa_valid = lifetime_s;
			mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
			if (v->family == AF_INET6)
				mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
		}
		if (!mnl_nlmsg_batch_next(b)) {
			/* full: this message goes in the next batch */
			nl->seq--;
			break;
		}
		last = nlh;
		count++;
	}
	if (last != NULL) {
		last->nlmsg_flags |= NLM_F_ACK;
		*acked_seq = last->nlmsg_seq;
	}
	return count;
}

/* Waits for the ack of a sent batch's last message (each failure before
 * it logged by ack_cb on the way); 0, or -1 if the socket failed. */
static int
batch_acks(struct vg_nl *nl, struct batch_ack *ack)
{
	char rbuf[MNL_SOCKET_BUFFER_SIZE * 4];

	while (!ack->done) {
		mnl_cb_t ctl[NLMSG_MIN_TYPE] = { 0 };
		ssize_t r = nl_recv(nl, rbuf, sizeof(rbuf));

		ctl[NLMSG_ERROR] = ack_cb;
		if (r < 0) {
			log_warn("netlink: waiting for the ack of seq %u",
			    ack->acked_seq);
			return -1;
		}
		if (mnl_cb_run2(rbuf, (size_t)r, 0, nl->portid, NULL, ack, ctl,
		    NLMSG_MIN_TYPE) == MNL_CB_ERROR) {
			log_warn("netlink reply");
			return -1;
		}
	}
	return 0;
}

int
vg_vip_apply(struct vg_nl *nl, const struct vg_conf_vip *vips, size_t n,
    int add, unsigned lifetime_s)
{
	static char buf[BATCH_BYTES + 4096];
	int failed = 0;
	size_t i = 0;

	while (i < n) {
		struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, BATCH_BYTES);
		struct batch_ack ack;
		size_t count;

		memset(&ack, 0, sizeof(ack));
		ack.add = add;
		ack.vips = vips + i;
		ack.first = nl->seq + 1;
		count = batch_fill(nl, b, vips, &i, n, add, lifetime_s, &failed,
		    &ack.acked_seq);
		ack.last = nl->seq;
		if (count > 0 && mnl_socket_sendto(nl->sock,
		    mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0) {
			log_warn("netlink send");
			mnl_nlmsg_batch_stop(b);
			return -1;
		}
		mnl_nlmsg_batch_stop(b);
		if (count > 0 && batch_acks(nl, &ack) == -1)
			return -1;
		failed += ack.failed;
	}
	return failed;
}

/* ---- the start-up sweep: dump every address, remove the VIPs found */

struct sweep {
	const struct vg_conf_vip	*vips;
	size_t				n;
	struct vg_conf_vip		*found;
	size_t				n_found, cap;
};

static int
sweep_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sweep *s = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct nlattr *a;
	const void *addr = NULL;
	size_t i;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		int t = mnl_attr_get_type(a);

		if ((t == IFA_LOCAL || (t == IFA_ADDRESS && addr == NULL)) &&
		    mnl_attr_get_payload_len(a) == (ifa->ifa_family == AF_INET ?
		    4u : 16u))
			addr = mnl_attr_get_payload(a);
	}
	if (addr == NULL)
		return MNL_CB_OK;
	for (i = 0; i < s->n; i++) {
		const struct vg_conf_vip *v = &s->vips[i];

		if (v->family != ifa->ifa_family || memcmp(v->addr, addr,
		    v->family == AF_INET ? 4 : 16) != 0)
			continue;
		if (s->n_found == s->cap) {
			size_t nc = s->cap ? s->cap * 2 : 16;
			struct vg_conf_vip *f = realloc(s->found, nc * sizeof(*f));

			if (f == NULL)
				return MNL_CB_ERROR;
			s->found = f;
			s->cap = nc;
		}
		s->found[s->n_found] = *v;
		s->found[s->n_found].prefixlen = ifa->ifa_prefixlen;
		if (if_indextoname(ifa->ifa_index, s->found[s->n_found].ifname) ==
		    NULL)
			continue;
		s->n_found++;
	}
	return MNL_CB_OK;
}

static int
dump(struct vg_nl *nl, int type, int family, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 4];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtgenmsg *g;
	uint32_t seq = ++nl->seq;
	ssize_t r;
	int rc;

	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->rtgen_family = (uint8_t)family;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		if ((r = nl_recv(nl, buf, sizeof(buf))) < 0)
			return -1;
		rc = mnl_cb_run(buf, (size_t)r, seq, nl->portid, cb, data);
		if (rc == MNL_CB_STOP)
			return 0;
		if (rc == MNL_CB_ERROR)
			return -1;
	}
}

int
vg_vip_sweep(struct vg_nl *nl, const struct vg_conf_vip *vips, size_t n)
{
	struct sweep s = { vips, n, NULL, 0, 0 };
	int rc;

	if (n == 0)
		return 0;
	if (dump(nl, RTM_GETADDR, AF_UNSPEC, sweep_cb, &s) == -1) {
		free(s.found);
		return -1;
	}
	rc = (int)s.n_found;
	if (s.n_found > 0 && vg_vip_apply(nl, s.found, s.n_found, 0, 0) != 0)
		rc = -1;
	free(s.found);
	return rc;
}

/* ---- link state */

static int
running(unsigned flags)
{
	return (flags & IFF_UP) && (flags & IFF_RUNNING);
}

static void
note_up(struct vg_nl *nl, int index)
{
	int i;

	for (i = 0; i < nl->n_up; i++)
		if (nl->up[i] == index)
			return;
	if (nl->n_up >= 0 && nl->n_up < VG_LINK_UP_MAX)
		nl->up[nl->n_up++] = index;
	else
		nl->n_up = -1;
}

/* run: 1 running, 0 not, -1 removed.  A link that is new and running, or
 * running again, has come up; one that the full table cannot hold comes
 * up with every message that says it runs (a renewal finds its entries
 * valid and stops there). */
static void
seen_update(struct vg_nl *nl, int index, int run)
{
	size_t i;

	for (i = 0; i < nl->n_seen; i++)
		if (nl->seen[i].index == index)
			break;
	if (run == -1) {
		if (i < nl->n_seen)
			nl->seen[i] = nl->seen[--nl->n_seen];
		return;
	}
	if (run && (i == nl->n_seen || !nl->seen[i].running))
		note_up(nl, index);
	if (i == nl->n_seen) {
		if (nl->n_seen == sizeof(nl->seen) / sizeof(nl->seen[0]))
			return;
		nl->n_seen++;
	}
	nl->seen[i].index = index;
	nl->seen[i].running = run;
	nl->seen[i].dumped = 1;
}

int
vg_link_came_up(struct vg_nl *nl, int idx[VG_LINK_UP_MAX])
{
	int n = nl->n_up;

	if (n > 0)
		memcpy(idx, nl->up, (size_t)n * sizeof(idx[0]));
	nl->n_up = 0;
	return n;
}

static int
link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vg_nl *nl = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct nlattr *a;
	const char *name = NULL;
	size_t i;

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return MNL_CB_OK;
	/* the bridge's own messages for its ports (a port that leaves it is
	 * an RTM_DELLINK) say nothing of the link: the plain ones do */
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi) ||
	    ifi->ifi_family == AF_BRIDGE)
		return MNL_CB_OK;
	seen_update(nl, ifi->ifi_index, nlh->nlmsg_type == RTM_NEWLINK ?
	    running(ifi->ifi_flags) : -1);
	mnl_attr_for_each(a, nlh, sizeof(*ifi))
		if (mnl_attr_get_type(a) == IFLA_IFNAME &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			name = mnl_attr_get_str(a);
	for (i = 0; i < nl->n_links; i++) {
		if ((name != NULL && strcmp(nl->links[i].name, name) == 0) ||
		    nl->links[i].index == ifi->ifi_index) {
			nl->links[i].index = ifi->ifi_index;
			nl->links[i].up = nlh->nlmsg_type == RTM_NEWLINK &&
			    running(ifi->ifi_flags);
			if (nlh->nlmsg_type == RTM_DELLINK)
				nl->links[i].index = 0;
		}
	}
	return MNL_CB_OK;
}

static void
links_init(struct vg_nl *nl, const char (*names)[IF_NAMESIZE], size_t n)
{
	size_t i;

	nl->n_links = 0;
	for (i = 0; i < n && i < 64; i++) {
		memcpy(nl->links[i].name, names[i], IF_NAMESIZE);
		nl->links[i].index = 0;
		nl->links[i].up = 0;
		nl->n_links++;
	}
}

static int
links_verdict(const struct vg_nl *nl, char *bad, size_t badlen)
{
	size_t i;

	for (i = 0; i < nl->n_links; i++) {
		if (!nl->links[i].up) {
			snprintf(bad, badlen, "%s", nl->links[i].name);
			return 0;
		}
	}
	return 1;
}

int
vg_link_query(struct vg_nl *nl, const char (*names)[IF_NAMESIZE], size_t n,
    char *bad, size_t badlen)
{
	size_t i;

	links_init(nl, names, n);
	for (i = 0; i < nl->n_seen; i++)
		nl->seen[i].dumped = 0;
	if (dump(nl, RTM_GETLINK, AF_UNSPEC, link_cb, nl) == -1)
		return -1;
	/* what the dump did not list is gone (its removal was missed) */
	for (i = nl->n_seen; i-- > 0; )
		if (!nl->seen[i].dumped)
			nl->seen[i] = nl->seen[--nl->n_seen];
	if (!nl->baseline) {	/* at start: what is up, not what came up */
		nl->baseline = 1;
		nl->n_up = 0;
	}
	return links_verdict(nl, bad, badlen);
}

int
vg_link_read(struct vg_nl *nl, const char (*names)[IF_NAMESIZE], size_t n,
    char *bad, size_t badlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 4];
	ssize_t r;
	int i;

	for (i = 0; i < 64; i++) {
		r = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			if (errno == ENOBUFS) {	/* missed events: ask again */
				r = vg_link_query(nl, names, n, bad, badlen);
				nl->n_up = -1;	/* one may have, unseen */
				return (int)r;
			}
			return -1;
		}
		(void)mnl_cb_run(buf, (size_t)r, 0, 0, link_cb, nl);
	}
	return links_verdict(nl, bad, badlen);
}

/* ---- gratuitous ARP and unsolicited NA */

/*
 * The announcements go out by sendmmsg, up to GARP_BATCH a call, one batch
 * per family and interface: 1000 GARPs took 5.1 ms one sendto each and 2.6
 * ms in batches of 64 (a bridge with three listeners, this VM), time that
 * the last of 1000 VIPs waits for.
 */
#define GARP_BATCH	64
#define GARP_LEN	(sizeof(struct nd_neighbor_advert) + 8)

struct vg_garp {
	int	pfd;		/* AF_PACKET: ARP out, nothing in */
	int	ifd;		/* raw ICMPv6: NA out, every type filtered */
	/* the batch being filled: one family, one interface */
	int	fd;
	union {
		struct sockaddr_ll	ll;
		struct sockaddr_in6	in6;
	}	to;
	socklen_t tolen;
	size_t	n;
	uint8_t	pkt[GARP_BATCH][GARP_LEN];
	struct iovec iov[GARP_BATCH];
	struct mmsghdr mm[GARP_BATCH];
};

static int
hwaddr(int fd, const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == -1)
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

/* ARP request, sender = target = the VIP: the gratuitous form every
 * neighbour updates its cache from */
static size_t
garp4(uint8_t *p, const struct vg_conf_vip *v, const uint8_t mac[6])
{
	p[0] = 0; p[1] = 1;			/* Ethernet */
	p[2] = 0x08; p[3] = 0x00;		/* IPv4 */
	p[4] = 6; p[5] = 4;
	p[6] = 0; p[7] = 1;			/* request */
	memcpy(p + 8, mac, 6);
	memcpy(p + 14, v->addr, 4);
	memset(p + 18, 0, 6);
	memcpy(p + 24, v->addr, 4);
	return 28;
}

/* unsolicited NA, override set, with our link-layer address */
static size_t
na6(uint8_t *p, const struct vg_conf_vip *v, const uint8_t mac[6])
{
	struct nd_neighbor_advert na;

	memset(&na, 0, sizeof(na));
	na.nd_na_type = ND_NEIGHBOR_ADVERT;
	na.nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE;
	memcpy(&na.nd_na_target, v->addr, 16);
	memcpy(p, &na, sizeof(na));
	p[sizeof(na)] = ND_OPT_TARGET_LINKADDR;
	p[sizeof(na) + 1] = 1;			/* 8 bytes */
	memcpy(p + sizeof(na) + 2, mac, 6);
	return GARP_LEN;
}

/* The destination of the next batch: broadcast ARP or ff02::1 on idx. */
static int
garp_to(struct vg_garp *g, int family, int idx)
{
	memset(&g->to, 0, sizeof(g->to));
	if (family == AF_INET) {
		g->fd = g->pfd;
		g->to.ll.sll_family = AF_PACKET;
		g->to.ll.sll_protocol = htons(ETH_P_ARP);
		g->to.ll.sll_ifindex = idx;
		g->to.ll.sll_halen = 6;
		memset(g->to.ll.sll_addr, 0xff, 6);
		g->tolen = sizeof(g->to.ll);
		return 0;
	}
	g->fd = g->ifd;
	g->to.in6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "ff02::1", &g->to.in6.sin6_addr);
	g->to.in6.sin6_scope_id = (uint32_t)idx;
	g->tolen = sizeof(g->to.in6);
	return setsockopt(g->ifd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx,
	    sizeof(idx));
}

/* Sends the batch; returns how many of it failed. */
static int
garp_flush(struct vg_garp *g)
{
	size_t i = 0;
	int r, failed = 0;

	while (i < g->n) {
		r = sendmmsg(g->fd, g->mm + i, (unsigned)(g->n - i), 0);
		if (r <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			failed++;	/* the first one failed: skip it */
			i++;
		} else
			i += (size_t)r;
	}
	g->n = 0;
	return failed;
}

struct vg_garp *
vg_garp_open(void)
{
	struct vg_garp *g = calloc(1, sizeof(*g));
	struct icmp6_filter f;
	int hops = 255;		/* an NA with any other hop limit is dropped */
	size_t i;

	if (g == NULL)
		return NULL;
	/* protocol 0: a packet socket that is handed nothing to read */
	g->pfd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	g->ifd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (g->ifd != -1) {
		ICMP6_FILTER_SETBLOCKALL(&f);
		(void)setsockopt(g->ifd, IPPROTO_ICMPV6, ICMP6_FILTER, &f,
		    sizeof(f));
		if (setsockopt(g->ifd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS,
		    &hops, sizeof(hops)) == -1) {
			close(g->ifd);
			g->ifd = -1;
		}
	}
	for (i = 0; i < GARP_BATCH; i++) {
		g->iov[i].iov_base = g->pkt[i];
		g->mm[i].msg_hdr.msg_iov = &g->iov[i];
		g->mm[i].msg_hdr.msg_iovlen = 1;
		g->mm[i].msg_hdr.msg_name = &g->to;
	}
	return g;
}

void
vg_garp_close(struct vg_garp *g)
{
	if (g == NULL)
		return;
	if (g->pfd != -1)
		close(g->pfd);
	if (g->ifd != -1)
		close(g->ifd);
	free(g);
}

int
vg_garp_send(struct vg_garp *g, const struct vg_conf_vip *vips, size_t n)
{
	int failed = 0, idx = 0, family = 0, have_mac = 0, to_ok = 0;
	const char *ifname = NULL;
	uint8_t mac[6];
	size_t i;

	if (g == NULL)			/* vg_garp_open failed: none sent */
		return (int)n;
	g->n = 0;
	for (i = 0; i < n; i++) {
		const struct vg_conf_vip *v = &vips[i];
		int fd = v->family == AF_INET ? g->pfd : g->ifd;

		/* VIPs come grouped by interface: look each one up once */
		if (ifname == NULL || strcmp(ifname, v->ifname) != 0) {
			failed += garp_flush(g);
			ifname = v->ifname;
			idx = (int)if_nametoindex(v->ifname);
			have_mac = 0;
			family = 0;
		}
		if (idx == 0 || fd == -1) {
			failed++;
			continue;
		}
		if (!have_mac)
			have_mac = hwaddr(fd, v->ifname, mac) == 0;
		if (!have_mac) {
			failed++;
			continue;
		}
		if (v->family != family || g->n == GARP_BATCH) {
			failed += garp_flush(g);
			if (v->family != family)
				to_ok = garp_to(g, v->family, idx) == 0;
			family = v->family;
		}
		if (!to_ok) {
			failed++;
			continue;
		}
		g->iov[g->n].iov_len = v->family == AF_INET ?
		    garp4(g->pkt[g->n], v, mac) : na6(g->pkt[g->n], v, mac);
		g->mm[g->n].msg_hdr.msg_namelen = g->tolen;
		g->n++;
	}
	return failed + garp_flush(g);
}
