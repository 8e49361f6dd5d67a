/*
 * statedir: instance lock, incarnation, atomic durable writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto.h"
#include "statedir.h"
#include "trust.h"

/* A rename or unlink is durable once its directory is: 0, or -1 (errno)
 * if that could not be made so. */
static int
fsync_dir(const char *dir)
{
	int dfd, rc, e;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(dfd);
	e = errno;
	close(dfd);
	errno = e;
	return rc;
}

int
vg_statedir_prepare(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX], why[PATH_MAX + 64];
	size_t i, len = strlen(dir);
	struct stat st;

	if (len == 0 || len >= sizeof(path)) {
		snprintf(err, errlen, "state_dir \"%s\" is not a usable path", dir);
		return -1;
	}
	memcpy(path, dir, len + 1);
	for (i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0750) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "state_dir: mkdir %s: %s", path,
			    strerror(errno));
			return -1;
		}
		path[i] = dir[i];
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "state_dir %s is not a directory", dir);
		return -1;
	}
	/* whoever may write here could plant a link to any root file */
	if (vg_trust_path(dir, geteuid(), why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: not trusted: %s", dir, why);
		return -1;
	}
	return 0;
}

int
vg_statedir_lock(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX], pid[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd == -1) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		snprintf(err, errlen, "another vigild (pid %s), or its keeper "
		    "still removing the VIPs, holds %s", pid[0] ? pid : "unknown",
		    path);
		close(fd);
		return -1;
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 ||
	    pwrite(fd, pid, strlen(pid), 0) != (ssize_t)strlen(pid)) {
		snprintf(err, errlen, "write %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* dir/name replaced whole by data, through a temp file and a rename;
 * durable: the file and the rename on disk before it returns 0. */
static int
write_file(const char *dir, const char *name, const char *data, size_t len,
    mode_t mode, int durable, char *err, size_t errlen)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	/* O_NONBLOCK: a FIFO left at the temp path fails, never blocks */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK, mode);
	if (fd == -1) {
		snprintf(err, errlen, "open %s: %s", tmp, strerror(errno));
		return -1;
	}
	/* published: readable by all whatever the umask */
	if (write(fd, data, len) != (ssize_t)len ||
	    (durable && fsync(fd) == -1) || (!durable && fchmod(fd, mode) == -1)) {
		snprintf(err, errlen, "write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "rename %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	/* the new file is in place but perhaps not on disk: a vote must not
	 * leave on it (a power loss would bring the old one back) */
	if (durable && fsync_dir(dir) == -1) {
		snprintf(err, errlen, "fsync %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int
vg_statedir_write(const char *dir, const char *name, const char *data,
    size_t len, char *err, size_t errlen)
{
	return write_file(dir, name, data, len, 0640, 1, err, errlen);
}

int
vg_statedir_publish(const char *dir, const char *name, const char *data,
    size_t len, char *err, size_t errlen)
{
	return write_file(dir, name, data, len, 0644, 0, err, errlen);
}

int
vg_statedir_next_incarnation(const char *dir, int64_t realtime_ms,
    uint64_t *out, uint64_t *prev, char *err, size_t errlen)
{
	char path[PATH_MAX], buf[64], *end;
	uint64_t last = 0, next;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/incarnation", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) != -1) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		errno = 0;
		last = strtoull(buf, &end, 10);
		if (n <= 0 || errno != 0 || (*end != '\n' && *end != '\0')) {
			snprintf(err, errlen, "%s is corrupt; the incarnation "
			    "must never go back, so it is not guessed: remove "
			    "the file only if the clock is right", path);
			return -1;
		}
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return -1;
	}
	next = last + 1;
	if (realtime_ms > 0 && (uint64_t)realtime_ms > next)
		next = (uint64_t)realtime_ms;
	snprintf(buf, sizeof(buf), "%" PRIu64 "\n", next);
	if (vg_statedir_write(dir, "incarnation", buf, strlen(buf), err,
	    errlen) == -1)
		return -1;
	*out = next;
	if (prev != NULL)
		*prev = last;
	return 0;
}

int
vg_statedir_read_vote(const char *dir, const char *name, uint64_t *term,
    uint16_t *voted_for, char *err, size_t errlen)
{
	char path[PATH_MAX], buf[64];
	unsigned long long t;
	unsigned v;
	ssize_t n;
	int fd;

	*term = 0;
	*voted_for = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	/* digits only (sscanf's %llu takes "-1" and saturates an overflow) */
	if (n <= 0 || strspn(buf, "0123456789") == 0 ||
	    buf[strspn(buf, "0123456789")] != ' ' ||
	    sscanf(buf, "%llu %u", &t, &v) != 2 || v > 65535 ||
	    strspn(buf, "0123456789") > 19) {
		/* a vote must never be forgotten: refuse to guess */
		snprintf(err, errlen, "%s is corrupt; it holds this node's "
		    "term and vote, which must never go back", path);
		return -1;
	}
	if (t >= VG_TERM_LIMIT) {
		/* the next term would wrap: no node counts this high */
		snprintf(err, errlen, "%s holds term %llu, at or above 2^63-1: "
		    "corrupt; refusing to start (a term must never go back or "
		    "wrap)", path, t);
		return -1;
	}
	*term = t;
	*voted_for = (uint16_t)v;
	return 0;
}

int
vg_statedir_write_vote(const char *dir, const char *name, uint64_t term,
    uint16_t voted_for, char *err, size_t errlen)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%" PRIu64 " %u\n", term, voted_for);
	return vg_statedir_write(dir, name, buf, strlen(buf), err, errlen);
}

/* One line of votes: "name term voted_for"; 0, or -1 if corrupt. */
static int
votes_line(char *ln, char **name, unsigned long long *t, unsigned *v)
{
	char *sp, *num;
	size_t d;

	if ((sp = strchr(ln, ' ')) == NULL || sp == ln || sp - ln > 32)
		return -1;
	*sp = '\0';
	*name = ln;
	num = sp + 1;
	/* digits only (sscanf's %llu takes "-1" and saturates an overflow) */
	if ((d = strspn(num, "0123456789")) == 0 || d > 19 || num[d] != ' ' ||
	    strspn(num + d + 1, "0123456789") == 0 ||
	    num[d + 1 + strspn(num + d + 1, "0123456789")] != '\0' ||
	    sscanf(num, "%llu %u", t, v) != 2 || *v > 65535)
		return -1;
	return 0;
}

int
vg_statedir_read_votes(const char *dir, const char *const *names, size_t n,
    uint64_t *term, uint16_t *voted_for, int *found, uint64_t *max_term,
    char *err, size_t errlen)
{
	char path[PATH_MAX], buf[4096], *ln, *next, *name;
	unsigned long long t;
	unsigned v;
	ssize_t got;
	size_t g;
	int fd;

	for (g = 0; g < n; g++) {
		term[g] = 0;
		voted_for[g] = 0;
		found[g] = 0;
	}
	*max_term = 0;
	snprintf(path, sizeof(path), "%s/votes", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return -1;
	}
	got = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (got < 0 || (size_t)got == sizeof(buf) - 1)
		goto corrupt;
	buf[got] = '\0';
	for (ln = buf; *ln != '\0'; ln = next) {
		if ((next = strchr(ln, '\n')) == NULL)
			goto corrupt;	/* every line ends: none cut short */
		*next++ = '\0';
		if (votes_line(ln, &name, &t, &v) == -1)
			goto corrupt;
		if (t >= VG_TERM_LIMIT) {
			snprintf(err, errlen, "%s holds term %llu for group %s, "
			    "at or above 2^63-1: corrupt; refusing to start (a "
			    "term must never go back or wrap)", path, t, name);
			return -1;
		}
		if (t > *max_term)
			*max_term = t;
		for (g = 0; g < n; g++)
			if (strcmp(names[g], name) == 0) {
				term[g] = t;
				voted_for[g] = (uint16_t)v;
				found[g] = 1;
			}
	}
	return 0;
corrupt:
	/* a vote must never be forgotten: refuse to guess */
	snprintf(err, errlen, "%s is corrupt; it holds this node's terms and "
	    "votes, which must never go back", path);
	return -1;
}

int
vg_statedir_write_votes(const char *dir, const char *const *names, size_t n,
    const uint64_t *term, const uint16_t *voted_for, char *err, size_t errlen)
{
	char buf[4096];
	size_t g, off = 0;
	int k;

	for (g = 0; g < n; g++) {
		k = snprintf(buf + off, sizeof(buf) - off, "%s %" PRIu64 " %u\n",
		    names[g], term[g], voted_for[g]);
		if (k < 0 || (size_t)k >= sizeof(buf) - off) {
			snprintf(err, errlen, "votes: %zu groups do not fit",
			    n);
			return -1;
		}
		off += (size_t)k;
	}
	return vg_statedir_write(dir, "votes", buf, off, err, errlen);
}

int
vg_statedir_remove(const char *dir, const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (unlink(path) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "remove %s: %s", path, strerror(errno));
		return -1;
	}
	if (fsync_dir(dir) == -1) {
		snprintf(err, errlen, "fsync %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int
vg_statedir_exists(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}
