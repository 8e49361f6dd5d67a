/*
 * lastsend: the record of this node's last send, kept in shared memory
 * across a restart of the agent (lastsend.h says why and what it holds).
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lastsend.h"

vg_ns
vg_lastsend_since(const struct vg_lastsend_rec *r, uint32_t node_id,
    uint64_t prev, vg_ns now, int64_t real_now)
{
	int64_t eb, er, e;

	if (memcmp(r->magic, VG_LASTSEND_MAGIC, sizeof(r->magic)) != 0 ||
	    r->node_id != node_id || prev == 0 || r->incarnation != prev ||
	    r->boot_ns <= 0 || r->real_ns <= 0 ||
	    r->boot_ns > now || r->real_ns > real_now)
		return -1;
	eb = now - r->boot_ns;
	er = real_now - r->real_ns;
	e = eb < er ? eb : er;
	return now - e;
}

int
vg_lastsend_name(const char *state_dir, char *out, size_t outlen)
{
	struct stat st;
	int n;

	if (stat(state_dir, &st) == -1)
		return -1;
	n = snprintf(out, outlen, "/vigild-lastsend-%llx-%llx",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* The object, ours alone: a regular file of this user, mode 0600 (or
 * none yet).  Another is removed and made anew; -1 if that fails too. */
static int
open_own(const char *name, struct stat *st, char *err, size_t errlen)
{
	int fd, tries;

	for (tries = 0; tries < 2; tries++) {
		fd = shm_open(name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0600);
		if (fd == -1) {
			snprintf(err, errlen, "shm_open %s: %s", name,
			    strerror(errno));
			return -1;
		}
		if (fstat(fd, st) == -1) {
			snprintf(err, errlen, "%s: %s", name, strerror(errno));
			close(fd);
			return -1;
		}
		if (S_ISREG(st->st_mode) && st->st_uid == geteuid() &&
		    (st->st_mode & 077) == 0)
			return fd;
		close(fd);
		if (shm_unlink(name) == -1) {
			snprintf(err, errlen, "%s is not this user's with mode "
			    "0600, and cannot be removed: %s", name,
			    strerror(errno));
			return -1;
		}
	}
	snprintf(err, errlen, "%s is not this user's with mode 0600", name);
	return -1;
}

int
vg_lastsend_open(struct vg_lastsend *ls, const char *state_dir,
    uint32_t node_id, uint64_t prev, uint64_t inc, vg_ns *last, char *err,
    size_t errlen)
{
	volatile struct vg_lastsend_rec *w;
	struct vg_lastsend_rec *r;
	struct stat st;
	int fd;

	ls->rec = NULL;
	*last = -1;
	if (vg_lastsend_name(state_dir, ls->name, sizeof(ls->name)) == -1) {
		snprintf(err, errlen, "%s: %s", state_dir, strerror(errno));
		return -1;
	}
	if ((fd = open_own(ls->name, &st, err, errlen)) == -1)
		return -1;
	if (st.st_size != sizeof(*r) && ftruncate(fd, sizeof(*r)) == -1) {
		snprintf(err, errlen, "%s: %s", ls->name, strerror(errno));
		close(fd);
		return -1;
	}
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (r == MAP_FAILED) {
		snprintf(err, errlen, "mmap %s: %s", ls->name, strerror(errno));
		return -1;
	}
	/* a fresh object (or one of another size) reads as zeros: nothing */
	if (st.st_size == sizeof(*r))
		*last = vg_lastsend_since(r, node_id, prev, vg_now(),
		    vg_realtime_ns());
	/*
	 * Ours from here on, before any send: this incarnation, and the
	 * previous stamps if they were the previous agent's (still the
	 * node's last send until ours), else none.  A kill in between
	 * leaves a record that names us with no stamp, or with the old ones:
	 * either way the node's last send.
	 */
	w = r;
	if (*last == -1) {
		w->boot_ns = 0;
		w->real_ns = 0;
	}
	w->node_id = node_id;
	w->incarnation = inc;
	memcpy(r->magic, VG_LASTSEND_MAGIC, sizeof(r->magic));
	ls->rec = r;
	return 0;
}

void
vg_lastsend_mark(struct vg_lastsend *ls)
{
	volatile struct vg_lastsend_rec *r = ls->rec;

	if (r == NULL)
		return;
	/* each an aligned 8-byte store: a kill between them leaves one
	 * stamp newer than the other, and the lesser time since wins */
	r->boot_ns = vg_now();
	r->real_ns = vg_realtime_ns();
}
