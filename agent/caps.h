/*
 * caps: once set-up is done, the agent keeps only the capabilities it
 * needs: CAP_NET_ADMIN (VIPs, links), CAP_NET_RAW (GARP/NA), and for a
 * keeper it may have to fork again CAP_SYS_NICE (SCHED_FIFO) and
 * CAP_IPC_LOCK (mlockall).  Everything else leaves the bounding set too,
 * so that notify scripts cannot get it back by exec.
 */
#ifndef VG_CAPS_H
#define VG_CAPS_H

#include <stddef.h>

/* 0, or -1 with err; a process without those capabilities is left alone. */
int	vg_caps_drop(char *err, size_t errlen);

#endif
