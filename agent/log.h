/*
 * log: the agent's only way to say anything.  OpenBSD-style log_warn (appends
 * strerror), log_warnx, log_info, log_debug and noreturn fatal/fatalx, to
 * stderr (text or one JSON object per line) or to the journal with structured
 * fields.  The agent never opens a console or syslog, and never waits for
 * a sink: a line that cannot go out at once is dropped and counted.  vg_ratelimit keeps
 * per-packet complaints from flooding the log.
 */
#ifndef VG_LOG_H
#define VG_LOG_H

#include <stdarg.h>
#include <stdint.h>

#include "clock.h"

enum vg_log_level {
	VG_LOG_ERR,
	VG_LOG_WARNING,
	VG_LOG_INFO,
	VG_LOG_DEBUG,
};

enum vg_log_format {
	VG_LOG_TEXT,
	VG_LOG_JSON,
};

enum vg_log_target {
	VG_LOG_AUTO,		/* journal when stderr is the journal, else stderr */
	VG_LOG_STDERR,
	VG_LOG_JOURNAL,
};

#define VG_LOG_LINE_MAX	2048	/* a longer line is cut */

void	log_init(enum vg_log_target, enum vg_log_format, enum vg_log_level);
void	log_set_node(const char *);	/* VIGIL_NODE field / "node" key */
/* In a forked child (the keeper): a line the parent had half written is
 * its own to finish, and the state and term are the parent's */
void	log_forked(void);
/* VIGIL_STATE and VIGIL_TERM on every later line (journal and JSON) */
void	log_set_state(const char *state, unsigned long long term);
/* A line about one peer: VIGIL_PEER (journal) / "peer" (JSON) */
void	log_peer(enum vg_log_level, const char *peer, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	log_set_level(enum vg_log_level);
/* Lines dropped because their sink was full (never waited for). */
uint64_t log_dropped(void);
enum vg_log_level log_get_level(void);
int	log_level_parse(const char *, enum vg_log_level *);
const char *log_level_name(enum vg_log_level);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/*
 * A token bucket per complaint: at most `burst` lines, refilled at one per
 * `period`; what it swallows is counted and reported with the next line.
 */
struct vg_ratelimit {
	vg_ns		period;
	unsigned	burst;
	unsigned	tokens;
	vg_ns		refill_at;
	uint64_t	suppressed;
};

#define VG_RATELIMIT_INIT(period_ns, burst_n) \
	{ (period_ns), (burst_n), (burst_n), 0, 0 }

/* Returns 1 when a line may be logged now; *suppressed gets the count swallowed. */
int	vg_ratelimit_ok(struct vg_ratelimit *, vg_ns now, uint64_t *suppressed);

#endif
