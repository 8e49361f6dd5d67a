/*
 * trust: StrictModes for what vigild reads as configuration or runs as
 * root (see trust.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "trust.h"

/* One path element: the file itself (dir = 0) or a directory above it;
 * `creatable`: something below it is missing, to be created in it later
 * (then a sticky directory is no shelter: anyone may add an entry). */
static int
judge(const char *p, const struct stat *st, int dir, int creatable,
    uid_t self, char *why, size_t whylen)
{
	if (st->st_uid != 0 && st->st_uid != self) {
		snprintf(why, whylen, "%s is owned by uid %u, not root",
		    p, (unsigned)st->st_uid);
		return -1;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) == 0)
		return 0;
	if (dir && !creatable && st->st_uid == 0 && (st->st_mode & S_ISVTX))
		return 0;		/* /tmp: sticky, root's */
	snprintf(why, whylen, "%s is writable by group or others (mode %04o)%s",
	    p, (unsigned)(st->st_mode & 07777), creatable ?
	    ", and what is missing below it anyone could create there" : "");
	return -1;
}

/* path (absolute) and each directory above it up to "/". */
static int
chain(const char *path, uid_t self, char *why, size_t whylen)
{
	char p[PATH_MAX], *slash;
	struct stat st;
	int dir = 0, missing = 0;

	if (path[0] != '/') {
		snprintf(why, whylen, "%s is not an absolute path", path);
		return -1;
	}
	if (strlen(path) >= sizeof(p)) {
		snprintf(why, whylen, "%s: path too long", path);
		return -1;
	}
	strcpy(p, path);
	for (;;) {
		if (stat(p, &st) == 0) {
			if (judge(p, &st, dir, missing, self, why, whylen) == -1)
				return -1;
			missing = 0;
		} else if (errno != ENOENT) {
			snprintf(why, whylen, "%s: %s", p, strerror(errno));
			return -1;
		} else if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode)) {
			/* where it points is not there: whoever may create
			 * that would decide what this path is */
			snprintf(why, whylen, "%s is a symbolic link to a "
			    "missing file", p);
			return -1;
		} else
			missing = 1;
		if (strcmp(p, "/") == 0)
			return 0;
		if ((slash = strrchr(p, '/')) == NULL)
			return 0;
		if (slash == p)
			slash[1] = '\0';	/* "/x" -> "/" */
		else
			*slash = '\0';
		dir = 1;
	}
}

int
vg_trust_path(const char *path, uid_t self, char *why, size_t whylen)
{
	char real[PATH_MAX];

	if (chain(path, self, why, whylen) == -1)
		return -1;
	if (realpath(path, real) == NULL)
		return 0;		/* missing: its directories were judged */
	if (strcmp(real, path) == 0)
		return 0;
	return chain(real, self, why, whylen);
}

int
vg_trust_command_path(const char *cmd, char *out, size_t outlen)
{
	size_t n;

	while (*cmd == ' ' || *cmd == '\t')
		cmd++;
	if (*cmd != '/')
		return 0;
	n = strcspn(cmd, " \t;&|<>()$`'\"\n");
	if (n == 0 || n >= outlen)
		return 0;
	memcpy(out, cmd, n);
	out[n] = '\0';
	return 1;
}
