/*
 * lastsend: when this node last sent a datagram, kept across a restart of
 * its agent (not of its host).  Every echo and every vote a node gives
 * leaves at or before its last send, so a restarted voter's rule (1) may
 * count from there (vg_el_started_after) instead of from its start: a
 * voter killed and restarted later than D votes at once.
 *
 * One small record in a POSIX shared memory object (/dev/shm: tmpfs, so
 * no writeback and no journal on the heartbeat path, and gone with the
 * host), named after the state directory, stamped before every sendmmsg
 * with CLOCK_BOOTTIME and CLOCK_REALTIME.  The time since the send is the
 * lesser of the two clocks': only both clocks running ahead at once could
 * make it too long (a record of an earlier boot, were one kept, reads as
 * less time since on CLOCK_BOOTTIME, or as ahead of it: nothing).
 *
 * It counts only as the record of the agent that ran just before: it
 * names its node and its incarnation, which must be the one the state
 * directory held before this start (a start that could not keep a record
 * and sent anyway, or a state directory on a reused inode, leaves one that
 * names another).  The object must be a regular file of this user, mode
 * 0600 (anyone may create names in /dev/shm): another is removed and made
 * anew, or nothing is kept.  A record that fails any of this, or is ahead
 * of either clock, gives nothing: the start counts, as before.  A clean
 * stop keeps it (its RELEASE was its last send).  systemd's
 * PrivateDevices= keeps the host's /dev/shm: a restart by systemd reads it.
 */
#ifndef VG_LASTSEND_H
#define VG_LASTSEND_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"

#define VG_LASTSEND_MAGIC	"vglsnd3"

struct vg_lastsend_rec {
	char		magic[8];
	uint64_t	incarnation;	/* the agent that wrote it */
	uint32_t	node_id;
	uint32_t	pad;
	int64_t		boot_ns;	/* CLOCK_BOOTTIME (vg_now) */
	int64_t		real_ns;	/* CLOCK_REALTIME */
};

struct vg_lastsend {
	struct vg_lastsend_rec	*rec;	/* mapped; NULL: none kept */
	char			 name[64];	/* the shm object's */
};

/*
 * Pure: the last send of record r in the clock of `now` (read at now and
 * real_now), or -1 when it gives nothing: a bad magic, another node or an
 * incarnation other than `prev` (the one before this start), no stamp, or
 * a stamp ahead of either clock.  The time since the send is the lesser of
 * the two clocks' (a clock of a time namespace with an offset, or a wall
 * clock set back, can only make it wait longer).
 */
vg_ns	vg_lastsend_since(const struct vg_lastsend_rec *r, uint32_t node_id,
	    uint64_t prev, vg_ns now, int64_t real_now);
/* The shm object's name for state_dir (its device and inode). */
int	vg_lastsend_name(const char *state_dir, char *out, size_t outlen);

/*
 * Opens (creates) and maps the record of state_dir for node node_id, whose
 * incarnation was prev before this start and is inc now; *last is the
 * previous agent's last send in this process's clock, or -1.  The record is
 * this agent's from here on (its incarnation written before any stamp).
 * On failure ls->rec is NULL (nothing is kept: the start counts, and the
 * next start too) and err says why; returns -1.
 */
int	vg_lastsend_open(struct vg_lastsend *ls, const char *state_dir,
	    uint32_t node_id, uint64_t prev, uint64_t inc, vg_ns *last,
	    char *err, size_t errlen);
/* Stamps now; called before every send.  Nothing when none is kept. */
void	vg_lastsend_mark(struct vg_lastsend *ls);

#endif
