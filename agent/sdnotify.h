/*
 * sdnotify: systemd's notify protocol without blocking.  libsystemd's
 * sd_notify sends on a blocking socket: when PID 1's queue is full (a long
 * daemon-reload, a hung PID 1) the send waits, and the agent's loop with
 * it, heartbeats and all.  Here a datagram that does not fit at once is
 * dropped and counted, as log lines are.
 */
#ifndef VG_SDNOTIFY_H
#define VG_SDNOTIFY_H

#include <stdint.h>

/* Sends "fmt..." to $NOTIFY_SOCKET, if set; 0 sent (or no socket to send
 * to), -1 dropped (counted) or failed. */
int		vg_sd_notifyf(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
uint64_t	vg_sd_notify_dropped(void);

#endif
