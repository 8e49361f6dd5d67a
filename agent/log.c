/*
 * log: formatting and delivery of every log line (stderr text, stderr JSON,
 * or the journal with structured fields) and the per-complaint rate limiter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "log.h"

static enum vg_log_target	log_target = VG_LOG_STDERR;
static enum vg_log_format	log_format = VG_LOG_TEXT;
static enum vg_log_level	log_level = VG_LOG_INFO;
static char			log_node[64];
static char			log_state[16];
static unsigned long long	log_term;
static const char		*log_peer_name;	/* during log_peer only */

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
}

void
log_set_node(const char *node)
{
	snprintf(log_node, sizeof(log_node), "%s", node ? node : "");
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

static void
json_escape(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

static void
log_emit(enum vg_log_level level, const char *msg)
{
	struct timespec ts;
	struct tm tm;
	char when[96];

	if (log_target == VG_LOG_JOURNAL) {
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", level_prio[level],
		    "SYSLOG_IDENTIFIER=vigild", "VIGIL_NODE=%s", log_node,
		    "VIGIL_STATE=%s", log_state, "VIGIL_TERM=%llu", log_term,
		    log_peer_name ? "VIGIL_PEER=%s" : NULL, log_peer_name, NULL);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	if (log_format == VG_LOG_JSON) {
		fprintf(stderr, "{\"time\":\"%s\",\"level\":\"%s\",\"node\":\"",
		    when, level_names[level]);
		json_escape(stderr, log_node);
		fprintf(stderr, "\",\"state\":\"%s\",\"term\":%llu", log_state,
		    log_term);
		if (log_peer_name != NULL) {
			fputs(",\"peer\":\"", stderr);
			json_escape(stderr, log_peer_name);
			fputs("\"", stderr);
		}
		fputs(",\"msg\":\"", stderr);
		json_escape(stderr, msg);
		fputs("\"}\n", stderr);
	} else {
		fprintf(stderr, "%s %s %s\n", when, level_names[level], msg);
	}
	fflush(stderr);
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
