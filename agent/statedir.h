/*
 * statedir: what this node keeps in state_dir across restarts.  The instance
 * lock (flock on state_dir/lock, holding the owner's pid) and the
 * incarnation, which never goes back: max(last persisted + 1, realtime ms).
 * Every file is written atomically: temp file, fsync, rename, fsync the dir.
 */
#ifndef VG_STATEDIR_H
#define VG_STATEDIR_H

#include <stddef.h>
#include <stdint.h>

/* mkdir -p (0750).  -1 with a message in err. */
int	vg_statedir_prepare(const char *dir, char *err, size_t errlen);
/* Returns the lock fd (kept open for the process's life), or -1: err says
 * which pid holds it when another agent does. */
int	vg_statedir_lock(const char *dir, char *err, size_t errlen);
/* Reads, advances and persists the incarnation; *prev is the one before
 * (0: none), if prev is not NULL.  0, or -1 with err. */
int	vg_statedir_next_incarnation(const char *dir, int64_t realtime_ms,
	    uint64_t *out, uint64_t *prev, char *err, size_t errlen);
/* Atomic replace of dir/name with data. */
int	vg_statedir_write(const char *dir, const char *name, const char *data,
	    size_t len, char *err, size_t errlen);
/* The same, whole but not durable (no fsync: a file others read, written
 * on the loop, such as the metrics textfile), readable by all (0644). */
int	vg_statedir_publish(const char *dir, const char *name,
	    const char *data, size_t len, char *err, size_t errlen);

/* Removes dir/name (absent is fine). */
int	vg_statedir_remove(const char *dir, const char *name, char *err,
	    size_t errlen);
/* 1 if dir/name exists, 0 if not. */
int	vg_statedir_exists(const char *dir, const char *name);

/* The persisted term and vote (state_dir/NAME: "term voted_for\n"; NAME
 * is "vote").  A missing file is term 0, no vote; a corrupt one is an
 * error, and so is a term at or above VG_TERM_LIMIT (the next one would
 * wrap). */
int	vg_statedir_read_vote(const char *dir, const char *name,
	    uint64_t *term, uint16_t *voted_for, char *err, size_t errlen);
int	vg_statedir_write_vote(const char *dir, const char *name,
	    uint64_t term, uint16_t voted_for, char *err, size_t errlen);

/*
 * Every VIP group's term and vote in one file (state_dir/votes: a line
 * "GROUP term voted_for" each), so that the votes of one event in several
 * groups cost one fsync.  Read: found[g] says whether names[g] had a
 * line (a line of a group not named is passed over, but counts in
 * *max_term, the highest term of any line, 0 for none); a missing file
 * finds none; a corrupt line, or a term at or above VG_TERM_LIMIT, is an
 * error.
 */
int	vg_statedir_read_votes(const char *dir, const char *const *names,
	    size_t n, uint64_t *term, uint16_t *voted_for, int *found,
	    uint64_t *max_term, char *err, size_t errlen);
int	vg_statedir_write_votes(const char *dir, const char *const *names,
	    size_t n, const uint64_t *term, const uint16_t *voted_for,
	    char *err, size_t errlen);

#endif
