/*
 * sdnotify: systemd's notify protocol without blocking (see sdnotify.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sdnotify.h"

static int		fd = -1;
static struct sockaddr_un sa;
static socklen_t	salen;
static int		tried;
static uint64_t		dropped;

/* The socket named by $NOTIFY_SOCKET ("/path" or "@abstract"), once. */
static int
open_once(void)
{
	const char *e;
	size_t n;

	if (tried)
		return fd;
	tried = 1;
	if ((e = getenv("NOTIFY_SOCKET")) == NULL || (e[0] != '/' &&
	    e[0] != '@') || (n = strlen(e)) >= sizeof(sa.sun_path))
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, e, n);
	if (e[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract: no NUL at the end */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (e[0] == '@' ? 0 : 1));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	return fd;
}

int
vg_sd_notifyf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (open_once() == -1)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	if (sendto(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL,
	    (struct sockaddr *)&sa, salen) == -1) {
		dropped++;
		return -1;
	}
	return 0;
}

uint64_t
vg_sd_notify_dropped(void)
{
	return dropped;
}
