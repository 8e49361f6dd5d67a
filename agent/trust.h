/*
 * trust: whether a file that vigild reads as configuration or runs as root
 * could have been written by someone else (sshd's StrictModes).  The file
 * and every directory above it must belong to root or to the user vigild
 * runs as, and be writable by nobody else; a directory writable by others
 * is accepted only when it is root's and sticky (/tmp, /dev/shm: nobody
 * may rename or replace another's entry there).  A symbolic link is
 * followed, and both the path as written and the path it resolves to are
 * checked.  A path that does not exist is judged by its directories: only
 * someone trusted could create it later, so the nearest one that exists
 * must be writable by nobody else, sticky or not; a symbolic link to a
 * missing file is refused (whoever may create its target would decide).
 */
#ifndef VG_TRUST_H
#define VG_TRUST_H

#include <stddef.h>
#include <sys/types.h>

/* 0 trusted; -1 with the reason in why ("/x/y is writable by group or
 * others (mode 0777)", "/x is owned by uid 1000"). */
int	vg_trust_path(const char *path, uid_t self, char *why, size_t whylen);

/* The part of a shell command that names a file to run: its first word
 * if that is an absolute path, copied to out; 0 if there is none. */
int	vg_trust_command_path(const char *cmd, char *out, size_t outlen);

#endif
