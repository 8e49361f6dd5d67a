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
 * For each node of nodes[0..n) but self: the next hop of the heartbeats to
 * it (the node, or its gateway; looked up from self's address); if that is
 * on one of the interfaces oifs[0..n_oifs) (any, if n_oifs is 0) and the
 * kernel's entry for it is INCOMPLETE or FAILED, it is probed again now
 * (an INCOMPLETE one deleted first, with the datagrams queued behind it).
 * Valid entries are left alone, and so are those another program manages.
 * Logs what it renewed and the first failure (rate-limited).  Returns how
 * many entries were renewed, or -1 if any could not be (the others were
 * still tried).
 */
int	vg_neigh_reprime(const struct vg_conf_node *nodes, size_t n, int self,
	    const int *oifs, size_t n_oifs);

#endif
