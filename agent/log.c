/*
 * log: formatting and delivery of every log line (stderr text, stderr JSON,
 * or the journal with structured fields) and the per-complaint rate limiter.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum vg_log_target	log_target = VG_LOG_STDERR;
static enum vg_log_format	log_format = VG_LOG_TEXT;
static enum vg_log_level	log_level = VG_LOG_INFO;
static char			log_node[64];
static char			log_state[16];
static unsigned long long	log_term;
static const char		*log_peer_name;	/* during log_peer only */
static int			err_kind = -1;	/* S_IFMT of stderr */
static char			err_rest[VG_LOG_LINE_MAX];
static size_t			err_rest_len;	/* a line's unsent tail */
static uint64_t			dropped;

static const char *const level_names[] = {
	[VG_LOG_ERR] = "error",
	[VG_LOG_WARNING] = "warning",
	[VG_LOG_INFO] = "info",
	[VG_LOG_DEBUG] = "debug",
};

static const int level_prio[] = {
	[VG_LOG_ERR] = LOG_ERR,
	[VG_LOG_WARNING] = LOG_WARNING,
	[VG_LOG_INFO] = LOG_INFO,
	[VG_LOG_DEBUG] = LOG_DEBUG,
};

/*
 * systemd sets JOURNAL_STREAM=dev:ino when stderr is connected to the journal;
 * only then does "auto" choose the journal.
 */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(enum vg_log_target target, enum vg_log_format format,
    enum vg_log_level level)
{
	if (target == VG_LOG_AUTO)
		target = stderr_is_journal() ? VG_LOG_JOURNAL : VG_LOG_STDERR;
	log_target = target;
	log_format = format;
	log_level = level;
	err_kind = -1;			/* stderr may be another file now */
	err_rest_len = 0;
}

void
log_set_node(const char *node)
{
	snprintf(log_node, sizeof(log_node), "%s", node ? node : "");
}

void
log_forked(void)
{
	err_rest_len = 0;		/* the parent's to finish, not ours */
	log_state[0] = '\0';
	log_term = 0;
}

void
log_set_state(const char *state, unsigned long long term)
{
	snprintf(log_state, sizeof(log_state), "%s", state);
	log_term = term;
}

void
log_set_level(enum vg_log_level level)
{
	log_level = level;
}

enum vg_log_level
log_get_level(void)
{
	return log_level;
}

int
log_level_parse(const char *s, enum vg_log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum vg_log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *
log_level_name(enum vg_log_level level)
{
	return level_names[level];
}

/* ---- a line is built whole, then handed over without blocking */

struct line {
	char	buf[VG_LOG_LINE_MAX];
	size_t	len;
};

static void
put(struct line *l, const char *s, size_t n)
{
	if (n > sizeof(l->buf) - 1 - l->len)
		n = sizeof(l->buf) - 1 - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void
puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

static void
json_escape(struct line *l, const char *s)
{
	char u[8];

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			put(l, "\\", 1);
			put(l, s, 1);
		} else if (c == '\n')
			puts_(l, "\\n");
		else if (c == '\t')
			puts_(l, "\\t");
		else if (c < 0x20) {
			snprintf(u, sizeof(u), "\\u%04x", c);
			puts_(l, u);
		} else
			put(l, s, 1);
	}
}

/*
 * stderr as the agent found it: a regular file takes a write at once; a
 * pipe, a terminal or a stream socket (the journal's stdout stream) may be
 * full, and then the line is dropped and counted, never waited for.  What a
 * stream took only in part is finished before the next line goes out.
 */
static ssize_t
err_write(const char *p, size_t n)
{
	struct pollfd pfd = { STDERR_FILENO, POLLOUT, 0 };
	ssize_t w;

	if (err_kind == -1) {
		struct stat st;

		err_kind = fstat(STDERR_FILENO, &st) == 0 ?
		    (int)(st.st_mode & S_IFMT) : 0;
	}
	if (err_kind == S_IFSOCK)
		w = send(STDERR_FILENO, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	else if (err_kind != S_IFREG && (poll(&pfd, 1, 0) != 1 ||
	    !(pfd.revents & POLLOUT)))
		return 0;		/* full: nothing goes */
	else
		w = write(STDERR_FILENO, p, n);
	if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return 0;
	return w;
}

static void
err_emit(const struct line *l)
{
	ssize_t w;

	if (err_rest_len > 0) {
		if ((w = err_write(err_rest, err_rest_len)) < 0) {
			err_rest_len = 0;	/* stderr is gone: nothing to finish */
			dropped++;		/* that line's tail */
		} else {
			memmove(err_rest, err_rest + w, err_rest_len - (size_t)w);
			err_rest_len -= (size_t)w;
		}
		if (err_rest_len > 0) {
			dropped++;
			return;
		}
	}
	if ((w = err_write(l->buf, l->len)) < 0) {
		dropped++;		/* EPIPE, ENOSPC, EIO: lost all the same */
		return;
	}
	if (w == 0) {
		dropped++;
		return;
	}
	if ((size_t)w < l->len) {
		memcpy(err_rest, l->buf + w, l->len - (size_t)w);
		err_rest_len = l->len - (size_t)w;
	}
}

/*
 * The journal's native protocol (one datagram of KEY=value lines), sent
 * with MSG_DONTWAIT: sd_journal_send() would wait while journald is busy.
 * The socket belongs to the process that opened it: a forked keeper, which
 * closes every inherited descriptor, opens its own.
 */
#define JOURNAL_SOCKET	"/run/systemd/journal/socket"

static int		jfd = -1;
static pid_t		jfd_pid;

static void
jfield(struct line *l, const char *key, const char *value)
{
	uint64_t n = strlen(value);
	unsigned char le[8];
	int i;

	puts_(l, key);
	if (strchr(value, '\n') == NULL) {
		puts_(l, "=");
		puts_(l, value);
	} else {
		/* KEY\n, the length as 64-bit little endian, the value */
		puts_(l, "\n");
		for (i = 0; i < 8; i++)
			le[i] = (unsigned char)(n >> (8 * i));
		put(l, (const char *)le, 8);
		put(l, value, (size_t)n);
	}
	puts_(l, "\n");
}

static void
journal_emit(enum vg_log_level level, const char *msg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct line l = { .len = 0 };
	char v[32];

	if (jfd == -1 || jfd_pid != getpid()) {
		jfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		jfd_pid = getpid();
		if (jfd == -1) {
			dropped++;
			return;
		}
	}
	jfield(&l, "MESSAGE", msg);
	snprintf(v, sizeof(v), "%d", level_prio[level]);
	jfield(&l, "PRIORITY", v);
	jfield(&l, "SYSLOG_IDENTIFIER", "vigild");
	jfield(&l, "VIGIL_NODE", log_node);
	jfield(&l, "VIGIL_STATE", log_state);
	snprintf(v, sizeof(v), "%llu", log_term);
	jfield(&l, "VIGIL_TERM", v);
	if (log_peer_name != NULL)
		jfield(&l, "VIGIL_PEER", log_peer_name);
	memcpy(sa.sun_path, JOURNAL_SOCKET, sizeof(JOURNAL_SOCKET));
	if (sendto(jfd, l.buf, l.len, MSG_DONTWAIT | MSG_NOSIGNAL,
	    (struct sockaddr *)&sa, sizeof(sa)) == -1)
		dropped++;
}

uint64_t
log_dropped(void)
{
	return dropped;
}

static void
log_emit(enum vg_log_level level, const char *msg)
{
	struct line l = { .len = 0 };
	struct timespec ts;
	struct tm tm;
	char when[96];

	if (log_target == VG_LOG_JOURNAL) {
		journal_emit(level, msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	if (log_format == VG_LOG_JSON) {
		puts_(&l, "{\"time\":\"");
		puts_(&l, when);
		puts_(&l, "\",\"level\":\"");
		puts_(&l, level_names[level]);
		puts_(&l, "\",\"node\":\"");
		json_escape(&l, log_node);
		puts_(&l, "\",\"state\":\"");
		puts_(&l, log_state);
		snprintf(when, sizeof(when), "\",\"term\":%llu", log_term);
		puts_(&l, when);
		if (log_peer_name != NULL) {
			puts_(&l, ",\"peer\":\"");
			json_escape(&l, log_peer_name);
			puts_(&l, "\"");
		}
		puts_(&l, ",\"msg\":\"");
		json_escape(&l, msg);
		puts_(&l, "\"}");
	} else {
		puts_(&l, when);
		puts_(&l, " ");
		puts_(&l, level_names[level]);
		puts_(&l, " ");
		puts_(&l, msg);
	}
	l.buf[l.len++] = '\n';		/* put() always leaves room for it */
	err_emit(&l);
}

static void vlog(enum vg_log_level, int, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
vlog(enum vg_log_level level, int with_errno, const char *fmt, va_list ap)
{
	char msg[1024];
	int saved = errno;
	int n;

	if (level > log_level)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno && n >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s",
		    strerror(saved));
	log_emit(level, msg);
	errno = saved;
}

void
log_peer(enum vg_log_level level, const char *peer, const char *fmt, ...)
{
	va_list ap;

	log_peer_name = peer;
	va_start(ap, fmt);
	vlog(level, 0, fmt, ap);
	va_end(ap);
	log_peer_name = NULL;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(VG_LOG_WARNING, 1, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(VG_LOG_WARNING, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(VG_LOG_INFO, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(VG_LOG_DEBUG, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(VG_LOG_ERR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(VG_LOG_ERR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

int
vg_ratelimit_ok(struct vg_ratelimit *rl, vg_ns now, uint64_t *suppressed)
{
	if (now >= rl->refill_at) {
		rl->tokens = rl->burst;
		rl->refill_at = now + rl->period;
	}
	if (rl->tokens == 0) {
		rl->suppressed++;
		return 0;
	}
	rl->tokens--;
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return 1;
}
