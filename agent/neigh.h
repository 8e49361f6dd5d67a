/*
 * neigh: the peers' next hops in the kernel's neighbour table (ARP, NDP),
 * re-resolved at once when a link comes back.
 *
 * While a link is down, every heartbeat to a peer leaves an entry for its
 * next hop INCOMPLETE (or FAILED) and queues behind it; the kernel probes
 * again only on its own timer (retrans_time, 1 s by default), not when
 * carrier returns.  So after a flap the node hears its peers at once but
 * they hear it only at the next probe, 0 to 1 s later, and then as a burst
 * of stale datagrams that they drop as replays.  Measured here: the first
 * datagram through 89-717 ms after the link came back, behind bursts of 100
 * to 200; deleting the entry and asking for a fresh one, 6-11 ms.
 */
#ifndef VG_NEIGH_H
#define VG_NEIGH_H

#include <stddef.h>

#include "conf.h"

/*
 * For each node of nodes[0..n) but self: the route's next hop (the node,
 * or its gateway); if the kernel's entry for it is INCOMPLETE or FAILED, it
 * is deleted (with the datagrams queued behind it) and asked for again, so
 * that a probe leaves now.  Valid entries are left alone.  Returns how many
 * entries were renewed, or -1 (err says why) if rtnetlink failed.
 */
int	vg_neigh_reprime(const struct vg_conf_node *nodes, size_t n, int self,
	    char *err, size_t errlen);

#endif
