/*
 * stage: a pushed file made this node's, checked, staged, installed; the
 * push's messages and its ctl command (stage.h).
 */
#include <errno.h>
#include <libconfig.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent.h"
#include "send.h"
#include "stage.h"
#include "statedir.h"

/* ---- the local settings, kept per node */

static const char *const local_names[] = {
	"state_dir", "state_file", "ctl", "log", "auth_key_file",
	"auth_key_next", "auth_key_previous", "realtime_priority", "metrics",
};

#define NLOCAL	(sizeof(local_names) / sizeof(local_names[0]))

/* A list of top-level names (NULL-terminated). */
static int
in_names(const char *name, const char *const *names)
{
	size_t i;

	for (i = 0; name != NULL && names[i] != NULL; i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* The local names but those of `but` (NULL-terminated), into out (at
 * least NLOCAL + 1 slots, NULL-terminated). */
static void
local_but(const char *const *but, const char **out)
{
	size_t i, n = 0;

	for (i = 0; i < NLOCAL; i++)
		if (!in_names(local_names[i], but))
			out[n++] = local_names[i];
	out[n] = NULL;
}

/* The key settings a key step of `vigilctl key rotate` sets (offer flag),
 * NULL-terminated: what the node's own file no longer gives. */
static const char *const no_names[] = { NULL };
static const char *const next_names[] = { "auth_key_next", NULL };
static const char *const send_names[] = {
	"auth_key_file", "auth_key_next", "auth_key_previous", NULL };
static const char *const drop_names[] = { "auth_key_previous", NULL };

static int	promise_at(const struct vg_agent *, uint32_t);


/* The line that starts at l (NULL: past the text's end) is blank or only
 * a comment. */
static int
line_is_comment(const char *l)
{
	if (l == NULL)
		return 1;
	l += strspn(l, " \t");
	return *l == '\n' || *l == '\0' || *l == '#' ||
	    (l[0] == '/' && (l[1] == '/' || l[1] == '*'));
}

/* Which of the text's lines (1-based, up to nlines) a setting of `names`
 * holds: mark[line] = 1.  0, 1 if libconfig cannot read it, -1 with err. */
static int
setting_lines(const char *text, const char *const *names, uint8_t *mark,
    size_t nlines, char *err, size_t errlen)
{
	config_t cfg;
	config_setting_t *root, *s;
	const char **start, *l;
	unsigned from[256], to;
	int local[256], i, j, n, rc = 0;
	size_t k;

	/* where each line starts, found once (looked up again for every
	 * line went quadratic in a file of many blank lines, on the loop) */
	if ((start = calloc(nlines + 1, sizeof(*start))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (k = 1, l = text; k <= nlines && l != NULL; k++) {
		start[k] = l;
		if ((l = strchr(l, '\n')) != NULL)
			l++;
	}
	config_init(&cfg);
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		config_destroy(&cfg);
		free(start);
		return 1;
	}
	root = config_root_setting(&cfg);
	n = config_setting_length(root);
	if (n > 256)
		n = 256;
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(root, (unsigned)i);
		from[i] = (unsigned)config_setting_source_line(s);
		local[i] = in_names(config_setting_name(s), names);
	}
	for (i = 0; i < n && rc == 0; i++) {
		if (!local[i])
			continue;
		/* it ends where the next one (by line) starts */
		to = (unsigned)nlines;
		for (j = 0; j < n; j++) {
			if (j == i)
				continue;
			if (from[j] == from[i]) {
				snprintf(err, errlen, "line %u holds two "
				    "settings, \"%s\" one of them: a push "
				    "needs each top-level setting on lines "
				    "of its own", from[i], config_setting_name(
				    config_setting_get_elem(root, (unsigned)i)));
				rc = -1;
				break;
			}
			if (from[j] > from[i] && from[j] - 1 < to)
				to = from[j] - 1;
		}
		/* the comments before the next setting are the next one's */
		while (rc == 0 && to > from[i] && (to > nlines ||
		    line_is_comment(start[to])))
			to--;
		for (j = (int)from[i]; rc == 0 && j <= (int)to && j >= 1 &&
		    (size_t)j <= nlines; j++)
			mark[j] = 1;
	}
	config_destroy(&cfg);
	free(start);
	return rc;
}

static size_t
count_lines(const char *t, size_t len)
{
	size_t i, n = 1;

	for (i = 0; i < len; i++)
		if (t[i] == '\n' && i + 1 < len)
			n++;
	return n;
}

/*
 * A top-level string setting of text: 1 with its value in buf, 0 if there
 * is none, -1 with err if it is not a plain path (a quote, a backslash or
 * a control character would not survive being written back as a line).
 */
static int
setting_path(const char *text, const char *name, char *buf, size_t len,
    char *err, size_t errlen)
{
	config_t cfg;
	const char *v;
	size_t i;
	int rc = 0;

	config_init(&cfg);
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		config_destroy(&cfg);
		snprintf(err, errlen, "cannot be read for %s", name);
		return -1;
	}
	if (config_lookup_string(&cfg, name, &v) == CONFIG_TRUE) {
		rc = 1;
		for (i = 0; v[i] != '\0'; i++)
			if (v[i] == '"' || v[i] == '\\' ||
			    (unsigned char)v[i] < 0x20)
				rc = -1;
		if (rc == -1 || i == 0 || i >= len) {
			snprintf(err, errlen, "%s: not a plain path", name);
			rc = -1;
		} else
			memcpy(buf, v, i + 1);
	}
	config_destroy(&cfg);
	return rc;
}

/*
 * A key step's rule for this node (design.md, "Key rotation"): which of
 * its own key settings it gives up (*names) and the key lines appended
 * instead.  The new key is the pushed file's auth_key_next (NEXT) or
 * auth_key_file (SEND, DROP).  By the node's own keys:
 *   NEXT: already sending with the new key: nothing changes; else
 *         auth_key_next = the new key;
 *   SEND: already sending with it: nothing changes; accepting it (its
 *         auth_key_next): auth_key_file = it, auth_key_previous = its
 *         own old auth_key_file, no next; not accepting it: refused;
 *   DROP: sending with it: no auth_key_previous; else refused.
 * So a step never leaves a node on a key the others no longer accept,
 * and running the three again from the start is always safe.
 */
static int
key_step_rule(const char *pushed, const char *own, uint16_t flags,
    const char *const **names, char *out, size_t outlen, char *err,
    size_t errlen)
{
	char v[VG_PATH_MAX], mine[VG_PATH_MAX], next[VG_PATH_MAX];
	const char *name = (flags & VG_PUSH_OFFER_KEY_NEXT) ?
	    "auth_key_next" : "auth_key_file";
	int rc;

	out[0] = '\0';
	*names = no_names;
	if (!(flags & VG_PUSH_OFFER_KEYS))
		return 0;
	switch (setting_path(pushed, name, v, sizeof(v), err, errlen)) {
	case -1:
		return -1;
	case 0:
		snprintf(err, errlen, "a key step without %s", name);
		return -1;
	}
	if (setting_path(own, "auth_key_file", mine, sizeof(mine), err,
	    errlen) != 1) {
		if (err[0] == '\0')
			snprintf(err, errlen, "this node's own file names no "
			    "auth_key_file");
		return -1;
	}
	if ((rc = setting_path(own, "auth_key_next", next, sizeof(next), err,
	    errlen)) == -1)
		return -1;
	if (rc == 0)
		next[0] = '\0';
	if (flags & VG_PUSH_OFFER_KEY_DROP) {
		if (strcmp(mine, v) != 0) {
			snprintf(err, errlen, "this node sends with %.60s, not "
			    "%.60s: the old key cannot be dropped yet", mine, v);
			return -1;
		}
		*names = drop_names;
		return 0;
	}
	if (strcmp(mine, v) == 0)
		return 0;		/* sending with it already */
	if (flags & VG_PUSH_OFFER_KEY_NEXT) {
		*names = next_names;
		snprintf(out, outlen, "auth_key_next = \"%s\";\n", v);
		return 0;
	}
	if (strcmp(next, v) != 0) {
		snprintf(err, errlen, "this node does not accept %.60s yet (its "
		    "auth_key_next): the first step is missing here", v);
		return -1;
	}
	*names = send_names;
	snprintf(out, outlen, "auth_key_file = \"%s\";\n"
	    "auth_key_previous = \"%s\";\n", v, mine);
	return 0;
}

/* The lines of text that start with one of the comments vigild writes
 * itself (a push's own-settings header, a key step's): mark[line] = 1, so
 * that a file pushed, served or rotated again does not grow by them. */
static void
mark_ours(const char *text, uint8_t *mark, size_t nlines)
{
	static const char *const ours[] = {
		"# this node's own settings, kept by config push",
		"# the key, by vigilctl key rotate",
		"# vigilctl key rotate, step ",
	};
	const char *l = text;
	size_t line, i;

	for (line = 1; l != NULL && line <= nlines; line++) {
		for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
			if (strncmp(l, ours[i], strlen(ours[i])) == 0)
				mark[line] = 1;
		if ((l = strchr(l, '\n')) != NULL)
			l++;
	}
}

int
vg_stage_localize(const char *pushed, size_t len, const char *own,
    uint16_t flags, char **out, size_t *outlen, char *err, size_t errlen)
{
	size_t np = count_lines(pushed, len), olen = strlen(own);
	size_t no = count_lines(own, olen), i, line, o = 0;
	const char *keep[NLOCAL + 1];
	const char *const *gone;
	uint8_t *mp = NULL, *mo = NULL;
	char *text = NULL, *p = NULL, keys[2 * VG_PATH_MAX + 64];
	int rc;

	*out = NULL;
	err[0] = '\0';
	if ((p = malloc(len + 1)) == NULL || (mp = calloc(np + 2, 1)) == NULL ||
	    (mo = calloc(no + 2, 1)) == NULL ||
	    (text = malloc(len + olen + sizeof(keys) + 128)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	memcpy(p, pushed, len);
	p[len] = '\0';
	local_but(no_names, keep);
	if ((rc = setting_lines(p, keep, mp, np, err, errlen)) == -1)
		goto fail;
	if (rc == 1 && (flags & VG_PUSH_OFFER_KEYS) == 0) {
		/* the check reports its errors */
		free(mp);
		free(mo);
		free(text);
		*out = p;
		*outlen = len;
		return 0;
	}
	if (rc == 1) {
		snprintf(err, errlen, "a key step's file cannot be read");
		goto fail;
	}
	/* this node's own local settings, but those the key step sets */
	if (key_step_rule(p, own, flags, &gone, keys, sizeof(keys), err,
	    errlen) == -1)
		goto fail;
	local_but(gone, keep);
	if (setting_lines(own, keep, mo, no, err, errlen) != 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "this node's own file cannot "
			    "be read again");
		goto fail;
	}
	/* the pushed file, its local lines (and vigild's own comments)
	 * blank, the blank lines at its end but one dropped */
	mark_ours(p, mp, np);
	for (i = 0, line = 1; i < len; i++) {
		if (!mp[line] || p[i] == '\n')
			text[o++] = p[i];
		if (p[i] == '\n')
			line++;
	}
	if (o > 0 && text[o - 1] != '\n')
		text[o++] = '\n';
	while (o > 1 && text[o - 1] == '\n' && text[o - 2] == '\n')
		o--;
	o += (size_t)snprintf(text + o, 96, "# this node's own settings, "
	    "kept by config push\n");
	for (i = 0, line = 1; i < olen; i++) {
		if (mo[line])
			text[o++] = own[i];
		if (own[i] == '\n')
			line++;
	}
	if (o > 0 && text[o - 1] != '\n')
		text[o++] = '\n';
	if (keys[0] != '\0')
		o += (size_t)snprintf(text + o, sizeof(keys) + 64,
		    "# the key, by vigilctl key rotate\n%s", keys);
	text[o] = '\0';
	free(p);
	free(mp);
	free(mo);
	*out = text;
	*outlen = o;
	return 0;
fail:
	free(p);
	free(mp);
	free(mo);
	free(text);
	return -1;
}

/* ---- files */

/* The whole of path, NUL-terminated (malloc'd), or NULL with err. */
static char *
slurp(const char *path, size_t *lenp, char *err, size_t errlen)
{
	FILE *f;
	char *t;
	long n;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == -1 || (n = ftell(f)) < 0 ||
	    n > VG_PUSH_MAX_SIZE || fseek(f, 0, SEEK_SET) == -1 ||
	    (t = malloc((size_t)n + 1)) == NULL) {
		snprintf(err, errlen, "%s: cannot read", path);
		fclose(f);
		return NULL;
	}
	if (fread(t, 1, (size_t)n, f) != (size_t)n) {
		snprintf(err, errlen, "%s: read error", path);
		free(t);
		fclose(f);
		return NULL;
	}
	fclose(f);
	t[n] = '\0';
	*lenp = (size_t)n;
	return t;
}

/*
 * Where an install of path writes: the file a symbolic link names (the
 * link stays, as vigil.conf(5) allows one; a rename over it made it a
 * plain file, and the file it named, managed elsewhere, stayed behind at
 * the old epoch).  Both were judged at start and reload (trust.c).
 */
static void
link_target(const char *path, char *out, size_t outlen)
{
	char real[PATH_MAX];
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) &&
	    realpath(path, real) != NULL)
		snprintf(out, outlen, "%s", real);
	else
		snprintf(out, outlen, "%s", path);
}

/* Over the configured path: temp in its directory, fsync, rename. */
static int
install(const char *path, const char *text, size_t len, char *err,
    size_t errlen)
{
	char d[PATH_MAX], b[PATH_MAX];

	link_target(path, d, sizeof(d));
	snprintf(b, sizeof(b), "%s", d);
	return vg_statedir_write(dirname(d), basename(b), text, len, err,
	    errlen);
}

/* Whether install() could write path's directory now: the temp file it
 * would make, made and removed.  A directory that is not writable (a
 * read-only ConfigMap, a mode this node's capabilities do not pass) is
 * said before STAGED, not found at the commit: a live push split the
 * cluster across epochs, a joint one stopped half-way.  0, or -1. */
static int
installable(const char *path, char *err, size_t errlen)
{
	char d[PATH_MAX], b[PATH_MAX], tmp[PATH_MAX + 8];
	int fd;

	link_target(path, d, sizeof(d));
	snprintf(b, sizeof(b), "%s", d);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dirname(d), basename(b));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "the configuration file's directory "
		    "cannot be written here (%s): a commit could not install "
		    "the file", strerror(errno));
		return -1;
	}
	close(fd);
	(void)unlink(tmp);
	return 0;
}

/*
 * A commit on this node: the file installed over the running one, then
 * applied through the reload path (final: a joint move's FINAL); a file
 * that does not apply puts the running one back, so that a restart reads
 * what runs.  0, or -1 with err.
 */
static int
install_apply(struct vg_agent *a, int final, const char *text, size_t len,
    char *err, size_t errlen)
{
	char *old, path[PATH_MAX], e2[256];
	size_t oldlen;

	snprintf(path, sizeof(path), "%s", a->conf->path);
	if ((old = slurp(path, &oldlen, err, errlen)) == NULL)
		return -1;
	if (install(path, text, len, err, errlen) == -1) {
		free(old);
		return -1;
	}
	if (a->apply(a, final, err, errlen) == -1) {
		if (install(path, old, oldlen, e2, sizeof(e2)) == -1)
			log_warnx("config push: %s could not be restored: %s",
			    path, e2);
		free(old);
		return -1;
	}
	free(old);
	return 0;
}

/* ---- the ops pushrun asks for */

static void
op_send(void *arg, uint16_t peer, uint8_t type, const uint8_t *body,
    size_t len)
{
	struct vg_agent *a = arg;
	size_t i;

	/* proto.c copies the type's length from body: an encoder that
	 * made less (0: it could not) must not send what is past it */
	if (len == 0 || len != vg_proto_body_len(type)) {
		log_warnx("config push: a message of type %u with a body of "
		    "%zu bytes (its type's: %zu): not sent", type, len,
		    vg_proto_body_len(type));
		return;
	}
	for (i = 0; i < a->peers.n; i++)
		if (a->peers.p[i].id == peer) {
			vg_send_push(a, &a->peers.p[i], type, body, vg_now());
			return;
		}
}

/* The first error of errs, or why, cut for an ACK. */
static void
first_error(const struct vg_errs *errs, const char *why, char *err,
    size_t errlen)
{
	snprintf(err, errlen, "%s", errs->n > 0 ? errs->msg[0] : why);
}

static int
op_check(void *arg, const uint8_t *file, size_t size, uint32_t epoch,
    uint16_t flags, char *err, size_t errlen)
{
	struct vg_agent *a = arg;
	struct vg_conf_diff *d = NULL;
	struct vg_conf *next = NULL;
	struct vg_errs *errs = NULL;
	char *own, *text = NULL, why[512];
	size_t ownlen, tlen;
	int pi, rc = -1;

	free(a->push_local);
	a->push_local = NULL;
	if (a->jconf != NULL) {
		uint8_t sha[VG_CONF_SHA256_LEN];
		uint32_t dg;

		/* in J nothing but the same move (its file again) */
		vg_conf_file_digest((const char *)file, size, sha, &dg);
		if (memcmp(sha, a->joint_sha, sizeof(sha)) != 0) {
			snprintf(err, errlen, "this node is in the joint move "
			    "to epoch %u until it ends", a->jconf->epoch);
			return -1;
		}
	}
	if ((own = slurp(a->conf->path, &ownlen, err, errlen)) == NULL)
		return -1;
	if (vg_stage_localize((const char *)file, size, own, flags, &text,
	    &tlen, err, errlen) == -1)
		goto out;
	if ((errs = malloc(sizeof(*errs))) == NULL ||
	    (d = malloc(sizeof(*d))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	vg_errs_init(errs);
	a->push_same = a->push_safety = 0;
	/* named in it, or left out: then it stages in order to leave */
	next = vg_conf_parse(text, "pushed file", NULL, errs);
	if (next != NULL && vg_conf_node_by_name(next, a->self->name) != NULL) {
		vg_conf_free(next);
		next = vg_conf_parse(text, "pushed file", a->self->name, errs);
	}
	if (next != NULL && vg_conf_trust(next, 0, errs) == -1) {
		vg_conf_free(next);
		next = NULL;
	}
	if (next == NULL) {
		first_error(errs, "invalid", err, errlen);
		goto out;
	}
	if (next->epoch != epoch) {
		snprintf(err, errlen, "the file says epoch %u, its offer %u",
		    next->epoch, epoch);
		goto out;
	}
	/* staging is a promise: a push with --allow-down may have gone LIVE
	 * without this node hearing it, so no other file at that epoch until
	 * its ABORT is heard (else two quorums could commit two files at
	 * one epoch, and catch-up, by higher epochs only, never heals it) */
	if ((pi = promise_at(a, next->epoch)) != -1 &&
	    next->digest != a->promise[pi].digest) {
		snprintf(err, errlen, "this node staged another file at epoch "
		    "%u and heard no decision on it: push at a higher epoch",
		    next->epoch);
		goto out;
	}
	/* a safety push too: its nodes take C' one by one.  Not a catch-up:
	 * its file is committed, each of its epochs checked against the one
	 * before by the cluster that committed it, and a node behind by the
	 * two steps of a move (out of one group, into another) saw them as
	 * one and refused it for ever, running its old group with the VIP */
	if (!(flags & VG_PUSH_OFFER_COMMITTED) &&
	    vg_conf_vip_moved(a->conf, next, err, errlen) == -1)
		goto out;
	/* a node that a safety push adds, started with the pushed file
	 * already: it runs C' and answers as one that staged it */
	if (next->self >= 0 && next->epoch == a->conf->epoch &&
	    next->digest == a->conf->digest && a->jconf == NULL &&
	    !(flags & VG_PUSH_OFFER_COMMITTED)) {
		a->push_same = 1;
		goto ok;
	}
	if (next->epoch <= a->conf->epoch) {
		snprintf(err, errlen, "epoch %u is not above the running "
		    "epoch %u", next->epoch, a->conf->epoch);
		goto out;
	}
	if (next->self < 0) {
		/* C' leaves this node out: a membership change */
		a->push_safety = 1;
		goto safety;
	}
	vg_conf_diff(a->conf, next, d);
	if (d->kind > VG_CHANGE_SAFETY) {
		for (size_t i = 0; i < d->n; i++)
			if (d->ch[i].kind > VG_CHANGE_SAFETY) {
				snprintf(err, errlen, "%s change (%s): only a "
				    "restart applies it",
				    vg_change_kind_name(d->ch[i].kind),
				    d->ch[i].what);
				goto out;
			}
		snprintf(err, errlen, "restart change: only a restart "
		    "applies it");
		goto out;
	}
	if (d->kind == VG_CHANGE_SAFETY) {
		a->push_safety = 1;
		goto safety;
	}
	if (vg_conf_reload_refusal_moves(a->conf, next,
	    (flags & VG_PUSH_OFFER_COMMITTED) != 0, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s", why);
		goto out;
	}
	goto ok;
safety:
	/* through the joint move (design.md, "joint quorum") */
	if (flags & VG_PUSH_OFFER_KEYS) {
		snprintf(err, errlen, "a key step carries no safety change");
		goto out;
	}
	if (a->jconf != NULL && next->epoch != a->jconf->epoch) {
		snprintf(err, errlen, "this node is in the joint move to epoch "
		    "%u until it ends", a->jconf->epoch);
		goto out;
	}
ok:
	vg_conf_free(a->push_conf);
	a->push_conf = next;
	next = NULL;
	a->push_local = text;
	a->push_local_len = tlen;
	text = NULL;
	rc = 0;
out:
	vg_conf_free(next);
	free(errs);
	free(d);
	free(text);
	free(own);
	return rc;
}

/* Where a promise at epoch is, or -1. */
static int
promise_at(const struct vg_agent *a, uint32_t epoch)
{
	size_t i;

	for (i = 0; i < a->n_promise; i++)
		if (a->promise[i].epoch == epoch)
			return (int)i;
	return -1;
}

/* Every promise, a line "EPOCH DIGEST" (hex) each, durably: a restart
 * keeps them too; none: no file. */
static int
promise_save(struct vg_agent *a, char *err, size_t errlen)
{
	char buf[VG_PROMISES * 24];
	size_t i, n = 0;

	if (a->n_promise == 0)
		return vg_statedir_remove(a->conf->state_dir, VG_STAGE_PROMISE,
		    err, errlen);
	for (i = 0; i < a->n_promise; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%u %08x\n",
		    a->promise[i].epoch, a->promise[i].digest);
	return vg_statedir_write(a->conf->state_dir, VG_STAGE_PROMISE, buf, n,
	    err, errlen);
}

/*
 * Staging the file of digest at epoch promises it: kept with any other
 * (a push at a higher epoch that is aborted leaves a lower one's promise
 * standing).  The caller has refused another file at that epoch.
 */
static int
promise_set(struct vg_agent *a, uint32_t epoch, uint32_t digest, char *err,
    size_t errlen)
{
	uint32_t lo = UINT32_MAX, hi = 0;
	size_t i;

	if (promise_at(a, epoch) != -1)
		return 0;
	if (a->n_promise == VG_PROMISES) {
		for (i = 0; i < a->n_promise; i++) {
			if (a->promise[i].epoch < lo)
				lo = a->promise[i].epoch;
			if (a->promise[i].epoch > hi)
				hi = a->promise[i].epoch;
		}
		snprintf(err, errlen, "%d pushes were staged here and no "
		    "decision on them was heard (epochs %u to %u): none more "
		    "until one is decided or the cluster runs an epoch above "
		    "them", VG_PROMISES, lo, hi);
		return -1;
	}
	a->promise[a->n_promise].epoch = epoch;
	a->promise[a->n_promise].digest = digest;
	a->n_promise++;
	if (promise_save(a, err, errlen) == -1) {
		a->n_promise--;
		return -1;
	}
	return 0;
}

/* The promises at epoch (its push aborted) or, with upto, at every epoch
 * up to it (running it: they are moot). */
static void
promise_drop(struct vg_agent *a, uint32_t epoch, int upto)
{
	char err[256];
	size_t i, n = 0;

	for (i = 0; i < a->n_promise; i++)
		if (upto ? a->promise[i].epoch > epoch :
		    a->promise[i].epoch != epoch)
			a->promise[n++] = a->promise[i];
	if (n == a->n_promise)
		return;
	a->n_promise = n;
	if (promise_save(a, err, sizeof(err)) == -1)
		log_warnx("config push: %s", err);
}

/* The promises from before a restart, but those the epoch has passed. */
static void
promise_load(struct vg_agent *a)
{
	char err[256], *t, *line, *next;
	unsigned epoch, digest;
	size_t len, kept = 0, seen = 0;
	char path[PATH_MAX];

	a->n_promise = 0;
	if (!vg_statedir_exists(a->conf->state_dir, VG_STAGE_PROMISE))
		return;
	snprintf(path, sizeof(path), "%s/%s", a->conf->state_dir,
	    VG_STAGE_PROMISE);
	if ((t = slurp(path, &len, err, sizeof(err))) == NULL) {
		log_warnx("config push: %s", err);
		return;
	}
	for (line = t; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (sscanf(line, "%u %x", &epoch, &digest) != 2 || epoch == 0)
			continue;
		seen++;
		if (epoch <= a->conf->epoch || a->n_promise == VG_PROMISES ||
		    promise_at(a, epoch) != -1)
			continue;
		a->promise[a->n_promise].epoch = epoch;
		a->promise[a->n_promise].digest = digest;
		a->n_promise++;
		kept++;
		log_info("config push: staged at epoch %u before the restart, "
		    "no decision heard: no other file at that epoch",
		    epoch);
	}
	free(t);
	if (kept != seen && promise_save(a, err, sizeof(err)) == -1)
		log_warnx("config push: %s", err);
}

static int
op_stage(void *arg, const uint8_t *file, size_t size, char *err,
    size_t errlen)
{
	struct vg_agent *a = arg;

	(void)file;
	(void)size;
	if (a->push_local == NULL) {
		snprintf(err, errlen, "nothing checked to stage");
		return -1;
	}
	if (a->push_same)
		return 0;		/* it runs the file already */
	if (installable(a->conf->path, err, errlen) == -1)
		return -1;
	/* durable before STAGED leaves (an fsync off the heartbeat's path:
	 * once per push), and so is the promise it makes */
	if (vg_statedir_write(a->conf->state_dir, VG_STAGE_FILE,
	    a->push_local, a->push_local_len, err, errlen) == -1)
		return -1;
	return promise_set(a, a->push_conf->epoch, a->push_conf->digest, err,
	    errlen);
}

/* The push staged here at epoch was aborted: what staging promised is
 * void. */
static void
op_aborted(void *arg, uint32_t epoch)
{
	promise_drop(arg, epoch, 0);
}

static void
op_discard(void *arg)
{
	struct vg_agent *a = arg;
	char err[256];

	/* the nodes a safety push added to the table stay (the election
	 * ignores them): their seq streams must not start again */
	free(a->push_local);
	a->push_local = NULL;
	vg_conf_free(a->push_conf);
	a->push_conf = NULL;
	a->push_same = a->push_safety = 0;
	if (a->jconf != NULL)
		return;		/* in J staged.conf is C' (joint_local) */
	if (vg_statedir_remove(a->conf->state_dir, VG_STAGE_FILE, err,
	    sizeof(err)) == -1)
		log_warnx("config push: %s", err);
}

/* ---- the joint move (design.md, "joint quorum") */

/* D_J: the longer dead_time of C and C'. */
static vg_ns
joint_dead(const struct vg_agent *a)
{
	const struct vg_conf *n = a->jconf != NULL ? a->jconf : a->push_conf;

	return n != NULL && n->dead_time > a->conf->dead_time ? n->dead_time :
	    a->conf->dead_time;
}

/* The marker that says this node is in J: the staged file's epoch and
 * the pushed file's SHA-256 (what a push of the same file continues). */
static int
joint_mark(struct vg_agent *a, char *err, size_t errlen)
{
	char line[128], hex[2 * VG_PUSH_SHA_LEN + 1];
	int n;

	sodium_bin2hex(hex, sizeof(hex), a->joint_sha, VG_PUSH_SHA_LEN);
	n = snprintf(line, sizeof(line), "epoch %u sha256 %s\n",
	    a->jconf->epoch, hex);
	return vg_statedir_write(a->conf->state_dir, VG_STAGE_JOINT, line,
	    (size_t)n, err, errlen);
}

/* Into J = (C, C'), C' the checked file (a->push_conf): the peer table of
 * both, the election's joint quorum; durably marked before it counts. */
static int
op_joint(void *arg, char *err, size_t errlen)
{
	struct vg_agent *a = arg;
	struct vg_peers next, old;
	size_t g;

	if (a->push_same)
		return 1;	/* in C' already: nothing to move, no promise */
	if (a->jconf != NULL)
		return 0;	/* in this move's J already */
	if (a->push_conf == NULL || !a->push_safety) {
		snprintf(err, errlen, "no safety change staged");
		return -1;
	}
	if (a->push.phase == VG_PR_IDLE)	/* a participant: the offer's */
		memcpy(a->joint_sha, a->push.rx.offer.sha256, VG_PUSH_SHA_LEN);
	a->jconf = a->push_conf;
	if (joint_mark(a, err, errlen) == -1 ||
	    vg_peers_join(&next, &a->peers, a->conf, a->jconf,
	    a->self->id) == -1) {
		if (err[0] == '\0')
			snprintf(err, errlen, "out of memory");
		a->jconf = NULL;
		return -1;
	}
	a->push_conf = NULL;
	/* J's own copy of C': another push's check cannot touch it */
	free(a->joint_local);
	a->joint_local = a->push_local;
	a->joint_local_len = a->push_local_len;
	a->push_local = NULL;
	old = a->peers;
	a->peers = next;		/* rx shares the table */
	vg_peers_free(&old);
	vg_send_size_buffer(a);
	for (g = 0; g < a->n_groups; g++)
		vg_el_joint(&a->el[g], a->jconf, vg_now());
	log_info("config push: joint configuration of epochs %u and %u "
	    "(%zu and %zu nodes, quorums %u and %u): every win and lease "
	    "needs both", a->conf->epoch, a->jconf->epoch, a->conf->n_nodes,
	    a->jconf->n_nodes, a->conf->quorum, a->jconf->quorum);
	vg_agent_event(a, VG_EV_CONFIG, "joint configuration: epochs %u and "
	    "%u", a->conf->epoch, a->jconf->epoch);
	return 0;
}

/* Out of J (or through it at once): C' installed and applied with
 * vg_el_final; a node C' leaves out releases and leaves instead. */
static int
joint_final(struct vg_agent *a, char *err, size_t errlen)
{
	struct vg_conf *jc = a->jconf != NULL ? a->jconf : a->push_conf;
	const char *text = a->jconf != NULL ? a->joint_local : a->push_local;
	size_t len = a->jconf != NULL ? a->joint_local_len :
	    a->push_local_len;
	char path[PATH_MAX], e2[256];
	uint32_t epoch = jc->epoch;

	if (text == NULL) {
		snprintf(err, errlen, "the joint move's file is gone");
		return -1;
	}
	snprintf(path, sizeof(path), "%s", a->conf->path);
	if (jc->self < 0) {
		/* removed, durably: its file (C', which leaves it out) is
		 * installed, so vigild refuses to start there again with it;
		 * a restart in C could count toward a quorum of C */
		(void)a->apply(a, 2, err, errlen);	/* vg_el_final: leave */
		if (install(path, text, len, err, errlen) == -1)
			log_warnx("config push: removed, but %s: restart it "
			    "only with a file that leaves it out", err);
		log_warnx("config push: epoch %u leaves this node out: it "
		    "released what it held and no longer votes; stop it (its "
		    "file now leaves it out)", epoch);
		vg_agent_event(a, VG_EV_CONFIG, "removed by epoch %u: stop "
		    "this node", epoch);
		goto done;
	}
	if (install_apply(a, 1, text, len, err, errlen) == -1)
		return -1;
	log_info("config push: epoch %u committed: the new configuration "
	    "alone (%zu nodes, quorum %u)", epoch, a->conf->n_nodes,
	    a->conf->quorum);
done:
	if (jc == a->jconf)
		a->jconf = NULL;
	else
		a->push_conf = NULL;
	vg_conf_free(jc);
	free(a->joint_local);
	a->joint_local = NULL;
	a->joint_final_at = 0;
	a->joint_final_failed = 0;
	(void)vg_statedir_remove(a->conf->state_dir, VG_STAGE_JOINT, e2,
	    sizeof(e2));
	op_discard(a);
	return 0;
}

static int
op_commit(void *arg, char *err, size_t errlen)
{
	struct vg_agent *a = arg;
	uint32_t epoch;
	int rc;

	if (a->push_local == NULL && a->jconf == NULL) {
		snprintf(err, errlen, "nothing staged");
		return -1;
	}
	if (a->push_same) {		/* it runs the file already */
		op_discard(a);
		return 0;
	}
	if (a->push_safety || a->jconf != NULL) {
		/* catch-up of a safety change: into J now, C' after D_J
		 * (design.md, "Catch-up"); else FINAL (through J at once if
		 * JOINT was missed) */
		if (a->jconf == NULL &&
		    (a->push.rx.offer.flags & VG_PUSH_OFFER_COMMITTED)) {
			if (op_joint(a, err, errlen) == -1)
				return -1;
			a->joint_final_at = vg_now() + joint_dead(a);
			return 0;
		}
		return joint_final(a, err, errlen);
	}
	a->commit_catch_up = (a->push.rx.offer.flags &
	    VG_PUSH_OFFER_COMMITTED) != 0;
	rc = install_apply(a, 0, a->push_local, a->push_local_len, err,
	    errlen);
	a->commit_catch_up = 0;
	if (rc == -1)
		return -1;
	epoch = a->conf->epoch;
	op_discard(a);
	promise_drop(a, epoch, 1);	/* kept: the epoch has passed them */
	log_info("config push: epoch %u committed", epoch);
	return 0;
}

/* The configuration file as this node runs it: what is on disk, if that
 * is what the last load read (an edit that no reload applied is not). */
static char *
slurp_running(struct vg_agent *a, size_t *len, char *err, size_t errlen)
{
	uint8_t sha[VG_CONF_SHA256_LEN];
	uint32_t digest;
	char *t;

	if ((t = slurp(a->conf->path, len, err, errlen)) == NULL)
		return NULL;
	vg_conf_file_digest(t, *len, sha, &digest);
	if (memcmp(sha, a->conf->file_sha256, sizeof(sha)) != 0) {
		snprintf(err, errlen, "%s is not the file this node runs: "
		    "reload it (or put it back) first", a->conf->path);
		free(t);
		return NULL;
	}
	return t;
}

/* Catch-up: the file this node runs, served as it is on disk (its own
 * local settings in it: the one who fetches replaces them with its own);
 * not an edit that no reload applied, which would go out under the
 * running epoch. */
static int
op_load(void *arg, uint8_t **file, uint32_t *size, uint32_t *epoch,
    char *err, size_t errlen)
{
	struct vg_agent *a = arg;
	size_t len;
	char *t;

	if ((t = slurp_running(a, &len, err, errlen)) == NULL)
		return -1;
	*file = (uint8_t *)t;
	*size = (uint32_t)len;
	*epoch = a->conf->epoch;
	return 0;
}

void
vg_stage_init(struct vg_agent *a)
{
	struct vg_pushrun_ops ops = {
		.arg = a,
		.send = op_send,
		.check = op_check,
		.stage = op_stage,
		.commit = op_commit,
		.discard = op_discard,
		.aborted = op_aborted,
		.joint = op_joint,
		.load = op_load,
	};

	vg_pushrun_init(&a->push, &ops);
	a->push.self = a->self->id;
	promise_load(a);
}

void
vg_stage_heard(struct vg_agent *a, const struct vg_peer *p,
    const struct vg_msg *m, vg_ns now)
{
	vg_ns at = a->push.fetch_at;

	if (m->version < 2 || m->epoch <= a->conf->epoch || a->el[0].removed)
		return;
	if (a->jconf != NULL) {
		/* a node of C that runs C' went through FINAL: so may we
		 * (a node that C' adds proves nothing: it started in C') */
		/* (a later epoch with C''s safety settings: a live push after
		 * FINAL; the move is done at the next round, not here: the
		 * reload frees the peer table the caller still reads) */
		if (m->epoch < a->jconf->epoch ||
		    m->config_digest != a->jconf->safety_digest ||
		    vg_conf_node_by_id(a->conf, p->id) == NULL ||
		    vg_pushrun_busy(&a->push))
			return;
		/* after a failed try, the next waits its D_J: a peer's every
		 * heartbeat would otherwise bring it at once, an install and
		 * a restore (each fsynced) on the loop each round */
		if (!a->joint_final_failed && (a->joint_final_at == 0 ||
		    a->joint_final_at > now)) {
			log_info("config: %s runs epoch %u: the joint move is "
			    "over", p->name, m->epoch);
			a->joint_final_at = now;
		}
		return;
	}
	/* only from a node of this node's own configuration: a node that a
	 * safety push adds (in the table after an aborted push) runs C'
	 * without having moved through J, and C' taken from it before FINAL
	 * would count for C' while C still holds */
	if (vg_conf_node_by_id(a->conf, p->id) == NULL)
		return;
	a->push.dead_time = a->conf->dead_time;
	vg_pushrun_heard(&a->push, p->id, m->epoch, a->conf->epoch, now);
	if (a->push.fetch_at != at) {
		if (at == 0 || now >= at + VG_MS(1000))
			log_info("config: peer %s runs epoch %u, this node %u: "
			    "fetching its file", p->name, m->epoch,
			    a->conf->epoch);
		vg_send_flush(a);
	}
}

int
vg_stage_restart(struct vg_agent *a, vg_ns now, char *err, size_t errlen)
{
	const char *dir = a->conf->state_dir;
	char path[PATH_MAX], *mark, hex[2 * VG_PUSH_SHA_LEN + 1];
	struct vg_errs *errs;
	struct vg_conf *jc;
	uint8_t sha[VG_PUSH_SHA_LEN];
	size_t len, tlen;
	unsigned epoch;
	char *text;

	(void)now;
	if (!vg_statedir_exists(dir, VG_STAGE_JOINT)) {
		/* a staging outlives no restart: its push was in memory */
		if (vg_statedir_exists(dir, VG_STAGE_FILE)) {
			log_info("config push: a staged file from before the "
			    "restart is discarded (no decision can reach it "
			    "now)");
			(void)vg_statedir_remove(dir, VG_STAGE_FILE, err,
			    errlen);
		}
		return 0;
	}
	/* in J before the restart: J again, or not at all (C alone would
	 * break the promises made in J) */
	snprintf(path, sizeof(path), "%s/%s", dir, VG_STAGE_JOINT);
	if ((mark = slurp(path, &len, err, errlen)) == NULL)
		return -1;
	if (sscanf(mark, "epoch %u sha256 %64s", &epoch, hex) != 2 ||
	    sodium_hex2bin(sha, sizeof(sha), hex, strlen(hex), NULL, NULL,
	    NULL) != 0) {
		snprintf(err, errlen, "%s: not a joint move's marker", path);
		free(mark);
		return -1;
	}
	free(mark);
	if (a->conf->epoch >= epoch) {
		/* FINAL was installed, the marker not yet removed: done */
		log_info("config push: the joint move to epoch %u was over "
		    "before the restart", epoch);
		(void)vg_statedir_remove(dir, VG_STAGE_JOINT, err, errlen);
		(void)vg_statedir_remove(dir, VG_STAGE_FILE, err, errlen);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, VG_STAGE_FILE);
	if ((text = slurp(path, &tlen, err, errlen)) == NULL)
		return -1;
	if ((errs = malloc(sizeof(*errs))) == NULL) {
		free(text);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	vg_errs_init(errs);
	jc = vg_conf_parse(text, path, NULL, errs);
	if (jc != NULL && vg_conf_node_by_name(jc, a->self->name) != NULL) {
		vg_conf_free(jc);
		jc = vg_conf_parse(text, path, a->self->name, errs);
	}
	if (jc == NULL || jc->epoch != epoch) {
		snprintf(err, errlen, "%s: %s", path, jc == NULL ? (errs->n ?
		    errs->msg[0] : "invalid") : "not the marker's epoch");
		vg_conf_free(jc);
		free(errs);
		free(text);
		return -1;
	}
	free(errs);
	a->push_local = text;
	a->push_local_len = tlen;
	a->push_conf = jc;
	a->push_safety = 1;
	vg_pushrun_resume_joint(&a->push, epoch, sha);
	if (op_joint(a, err, errlen) == -1)
		return -1;
	/* a peer of C' only heard after this start counts, as every peer */
	vg_peers_fresh_start(&a->peers, a->incarnation);
	log_info("config push: back in the joint move to epoch %u after the "
	    "restart", epoch);
	return 0;
}

/* ---- messages and rounds */

static const char *target_name(const struct vg_agent *, uint16_t);

static void push_taken(struct vg_agent *, vg_ns);

void
vg_stage_input(struct vg_agent *a, struct vg_peer *p, const struct vg_msg *m,
    vg_ns now)
{
	uint64_t done = a->push.done_id;
	uint8_t status = a->push.status;

	a->push.dead_time = a->conf->dead_time;
	vg_pushrun_input(&a->push, p->id, m->type, m->body,
	    vg_push_body_len(m->type), a->conf->epoch, now);
	vg_send_flush(a);		/* an answer that leaves at once */
	/* p may be gone now: a commit reloads, the peer table is new */
	if (a->push.status != status && (a->push.status == VG_PUSH_STAGED ||
	    a->push.status == VG_PUSH_REJECTED))
		vg_agent_event(a, VG_EV_CONFIG, "config push %016llx (epoch "
		    "%u): %s%s%s", (unsigned long long)a->push.rx.offer.push_id,
		    a->push.rx.offer.epoch, vg_push_status_name(
		    a->push.status), a->push.error[0] ? ": " : "",
		    a->push.error);
	if (a->push.done_id != done && a->push.done_catchup) {
		a->push.done_catchup = 0;
		if (a->push.done_error[0] != '\0')
			log_warnx("config: catch-up to epoch %u failed: %s",
			    a->push.done_epoch, a->push.done_error);
		else
			log_info("config: caught up to epoch %u from %s",
			    a->push.done_epoch, target_name(a, a->push.from));
		vg_agent_event(a, VG_EV_CONFIG, "catch-up to epoch %u: %s%s",
		    a->push.done_epoch, a->push.done_error[0] ? "failed: " :
		    "committed", a->push.done_error);
	} else if (a->push.done_id != done)
		vg_agent_event(a, VG_EV_CONFIG, "config push %016llx (epoch "
		    "%u): %s%s%s", (unsigned long long)a->push.done_id,
		    a->push.done_epoch, a->push.done_error[0] ? "failed" :
		    "decided", a->push.done_error[0] ? ": " : "",
		    a->push.done_error);
	/* the answer that ended this node's push: over now, not a round
	 * later */
	push_taken(a, now);
	vg_send_flush(a);
}

static const char *
target_name(const struct vg_agent *a, uint16_t id)
{
	const struct vg_conf_node *n = vg_conf_node_by_id(a->conf, id);
	size_t i;

	if (n != NULL)
		return n->name;
	for (i = 0; i < a->push.n; i++)	/* a node of C' or of C only */
		if (a->push.t[i].id == id && a->push_names[i][0] != '\0')
			return a->push_names[i];
	return "?";
}

static json_object *
push_answer(struct vg_agent *a, int committed)
{
	const struct vg_pushrun *pr = &a->push;
	json_object *r = json_object_new_object(), *l, *o;
	char msg[1024];
	size_t i, off, down;

	l = json_object_new_array();
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(
	    a->self->name));
	json_object_object_add(o, "status", json_object_new_string(
	    committed ? "done" : pr->step == VG_PUSH_JOINT_STEP ? "joint" :
	    pr->why[0] ? "rejected" : "staged"));
	json_object_object_add(o, "error", pr->why[0] ?
	    json_object_new_string(pr->why) : NULL);
	json_object_array_add(l, o);
	for (i = 0, down = 0; i < pr->n; i++)
		down += pr->t[i].down;
	if (committed && down > 0)
		off = (size_t)snprintf(msg, sizeof(msg), "epoch %u committed; "
		    "%zu node%s down (--allow-down) catch%s up when heard "
		    "again", pr->epoch, down, down == 1 ? "" : "s",
		    down == 1 ? "es" : "");
	else if (committed && pr->joint)
		off = (size_t)snprintf(msg, sizeof(msg), "epoch %u committed "
		    "through the joint configuration (a quorum of the old and "
		    "of the new membership in it, then D_J)%s%s", pr->epoch,
		    pr->why[0] ? "; " : "", pr->why);
	else if (committed)
		off = (size_t)snprintf(msg, sizeof(msg), "epoch %u committed "
		    "on every node", pr->epoch);
	else if (pr->step == VG_PUSH_JOINT_STEP)
		off = (size_t)snprintf(msg, sizeof(msg), "epoch %u not "
		    "committed: %s", pr->epoch, pr->why);
	else
		off = (size_t)snprintf(msg, sizeof(msg), "push of epoch %u "
		    "aborted, nothing changed%s%s%s%s", pr->epoch,
		    pr->why[0] ? "; " : "", pr->why,
		    pr->short_of[0] ? "; " : "", pr->short_of);
	for (i = 0; i < pr->n; i++) {
		const struct vg_pushrun_target *t = &pr->t[i];
		const char *st = committed ? (t->confirmed ? "done" :
		    t->down ? "down" : "unconfirmed") : t->in_joint ? "joint" :
		    vg_push_status_name(t->status);

		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(
		    target_name(a, t->id)));
		json_object_object_add(o, "status", json_object_new_string(
		    t->status == 0 && !t->down && !t->confirmed ? "silent" :
		    st));
		json_object_object_add(o, "error", t->error[0] ?
		    json_object_new_string(t->error) : NULL);
		json_object_array_add(l, o);
		if (t->error[0] && off < sizeof(msg))
			off += (size_t)snprintf(msg + off, sizeof(msg) - off,
			    "; %s: %s", target_name(a, t->id), t->error);
		else if (committed && !t->confirmed && !t->down &&
		    off < sizeof(msg))
			off += (size_t)snprintf(msg + off, sizeof(msg) - off,
			    "; %s: not confirmed yet (it applies the decision "
			    "when it hears it)", target_name(a, t->id));
	}
	json_object_object_add(r, "ok", json_object_new_boolean(committed));
	json_object_object_add(r, committed ? "message" : "error",
	    json_object_new_string(msg));
	json_object_object_add(r, "committed",
	    json_object_new_boolean(committed));
	json_object_object_add(r, "epoch", json_object_new_int64(pr->epoch));
	snprintf(msg, sizeof(msg), "%016llx", (unsigned long long)pr->push_id);
	json_object_object_add(r, "push_id", json_object_new_string(msg));
	json_object_object_add(r, "rounds", json_object_new_int64(pr->rounds));
	json_object_object_add(r, "joint", json_object_new_boolean(pr->joint));
	json_object_object_add(r, "nodes", l);
	return r;
}

static void key_step_over(struct vg_agent *, json_object *, int, vg_ns);

/*
 * The push's audit, on the coordinator (log line and event): who, the
 * push, its epoch and the file's digest, the outcome, and each node's
 * result ("n2 done, n3 down"; the errors are in the message).
 */
static void
push_audit(struct vg_agent *a, json_object *r, int committed)
{
	json_object *l = json_object_object_get(r, "nodes"), *n;
	char nodes[512];
	size_t i, off = 0;

	nodes[0] = '\0';
	for (i = 0; l != NULL && i < json_object_array_length(l) &&
	    off < sizeof(nodes); i++) {
		n = json_object_array_get_idx(l, i);
		off += (size_t)snprintf(nodes + off, sizeof(nodes) - off,
		    "%s%s %s", i ? ", " : "", json_object_get_string(
		    json_object_object_get(n, "name")), json_object_get_string(
		    json_object_object_get(n, "status")));
	}
	/* the results first: an event's text is short, the message long */
	log_info("ctl: uid %u pid %d: config push %016llx, epoch %u, file "
	    "digest %08x: %s [%s]: %s", (unsigned)a->push_uid,
	    (int)a->push_pid, (unsigned long long)a->push.push_id,
	    a->push.epoch, a->push_digest, committed ? "committed" :
	    "aborted", nodes, json_object_get_string(json_object_object_get(r,
	    committed ? "message" : "error")));
	vg_agent_event(a, VG_EV_CTL, "uid %u pid %d: config push %016llx, "
	    "epoch %u, file digest %08x: %s [%s]: %s", (unsigned)a->push_uid,
	    (int)a->push_pid, (unsigned long long)a->push.push_id,
	    a->push.epoch, a->push_digest, committed ? "committed" :
	    "aborted", nodes, json_object_get_string(json_object_object_get(r,
	    committed ? "message" : "error")));
}

void
vg_stage_round(struct vg_agent *a, vg_ns now)
{
	char err[256];

	/* catch-up of a safety change: C' once D_J has run in J */
	if (a->joint_final_at != 0 && now >= a->joint_final_at &&
	    a->jconf != NULL && (vg_pushrun_in_joint(&a->push) ?
	    vg_pushrun_final_seen(&a->push, err, sizeof(err)) :
	    joint_final(a, err, sizeof(err))) == -1) {
		log_warnx("config: catching up: %s", err);
		a->joint_final_at = now + joint_dead(a);
		a->joint_final_failed = 1;
	}
	a->push.dead_time = a->conf->dead_time;
	vg_pushrun_round(&a->push, now);
	vg_send_flush(a);
	push_taken(a, now);
}

/* This node's push over (at a round, or at the answer that ended it):
 * answered, audited, or the rotation's next step. */
static void
push_taken(struct vg_agent *a, vg_ns now)
{
	json_object *r;
	int committed;

	if (!vg_pushrun_take(&a->push, &committed))
		return;
	r = push_answer(a, committed);
	push_audit(a, r, committed);
	if (a->keyrot.step != 0)
		key_step_over(a, r, committed, now);
	else {
		if (a->push_client != 0)
			vg_control_answer(a->ctl, a->push_client, r);
		a->push_client = 0;
	}
	json_object_put(r);
}

/* A push cannot start now (one coordinated, or another's held): -1 with
 * err, prefixed by what. */
static int
push_refused(struct vg_agent *a, const char *what, char *err, size_t errlen)
{
	if (vg_pushrun_busy(&a->push)) {
		snprintf(err, errlen, "%s: push %016llx (epoch %u) is under "
		    "way", what, (unsigned long long)a->push.push_id,
		    a->push.epoch);
		return -1;
	}
	if (a->push.status == VG_PUSH_RECEIVING ||
	    a->push.status == VG_PUSH_STAGED) {
		snprintf(err, errlen, "%s: node %s's push %016llx (epoch %u) "
		    "is %s here", what, target_name(a, a->push.from),
		    (unsigned long long)a->push.rx.offer.push_id,
		    a->push.rx.offer.epoch, vg_push_status_name(a->push.status));
		return -1;
	}
	return 0;
}

/* C' of the push this node checked or is in J for. */
static const struct vg_conf *
push_new(const struct vg_agent *a)
{
	return a->push_conf != NULL ? a->push_conf : a->jconf;
}

/*
 * A safety change pushed from here: refused with --allow-down (every node
 * of C and C' must stage it) and when the nodes it adds hold a quorum of
 * C' among themselves (started with C', they could elect one of them
 * before the move: design.md); else the peer table takes the nodes of
 * C', so that they get the offer.
 */
static int
joint_start(struct vg_agent *a, const char *text, size_t len, int allow_down,
    char *err, size_t errlen)
{
	const struct vg_conf *cn = push_new(a);
	uint8_t sha[VG_CONF_SHA256_LEN];
	struct vg_peers next, old;
	unsigned added = 0;
	uint32_t digest;
	size_t i;

	vg_conf_file_digest(text, len, sha, &digest);
	if (a->jconf != NULL && memcmp(sha, a->joint_sha, sizeof(sha)) != 0) {
		snprintf(err, errlen, "config push: this node is in the joint "
		    "move to epoch %u: push that file again to continue it",
		    a->jconf->epoch);
		return -1;
	}
	if (allow_down) {
		snprintf(err, errlen, "config push: --allow-down applies to "
		    "live changes; a safety change needs every node of the old "
		    "and the new membership");
		return -1;
	}
	if (cn->self < 0) {
		snprintf(err, errlen, "config push: the file leaves this node "
		    "out: push it from a node that stays");
		return -1;
	}
	for (i = 0; i < cn->n_nodes; i++)
		if (vg_conf_node_by_id(a->conf, cn->nodes[i].id) == NULL)
			added += cn->nodes[i].votes;
	if (added >= cn->quorum) {
		snprintf(err, errlen, "config push: the nodes it adds hold %u "
		    "votes, a quorum of the new membership (%u) among "
		    "themselves: add fewer at a time", added, cn->quorum);
		return -1;
	}
	if (a->jconf != NULL)
		return 0;		/* the table of J already */
	if (vg_peers_join(&next, &a->peers, a->conf, cn, a->self->id) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	old = a->peers;
	a->peers = next;		/* rx shares the table */
	vg_peers_free(&old);
	vg_send_size_buffer(a);
	return 0;
}

/* A push started here, staged, then refused here before any offer. */
static void
refuse_staged(struct vg_agent *a, uint32_t epoch, int had)
{
	op_discard(a);
	if (!had)
		promise_drop(a, epoch, 0);
}

/*
 * The push of text at epoch started from this node: checked and staged
 * here (made this node's by the offer's flags), offered to every peer.
 * 0, or -1 with err (nothing staged is left).
 */
static int
start_push(struct vg_agent *a, const char *text, size_t len, uint32_t epoch,
    uint16_t flags, int allow_down, vg_ns now, char *err, size_t errlen)
{
	uint16_t ids[VG_MAX_NODES];
	unsigned votes[VG_MAX_NODES], votes_new[VG_MAX_NODES];
	uint8_t sha[VG_CONF_SHA256_LEN];
	uint64_t id = 0;
	size_t i;
	/* a refusal here, after the staging, takes back the promise it
	 * made: no offer went out (one made before by another push stays) */
	int had = promise_at(a, epoch) != -1;

	a->push.epoch = epoch;
	if (op_check(a, (const uint8_t *)text, len, epoch, flags, err,
	    errlen) == -1 || op_stage(a, NULL, 0, err, errlen) == -1) {
		char why[512];

		snprintf(why, sizeof(why), "config push refused here (%s): %s",
		    a->self->name, err);
		snprintf(err, errlen, "%s", why);
		free(a->push_local);
		a->push_local = NULL;
		return -1;
	}
	if (a->push_same) {	/* the running file itself: nothing to push */
		snprintf(err, errlen, "config push refused here (%s): epoch %u "
		    "is not above the running epoch %u", a->self->name, epoch,
		    a->conf->epoch);
		refuse_staged(a, epoch, had);
		return -1;
	}
	if (a->push_safety && joint_start(a, text, len, allow_down, err,
	    errlen) == -1) {
		refuse_staged(a, epoch, had);
		return -1;
	}
	memset(a->push_names, 0, sizeof(a->push_names));
	for (i = 0; i < a->peers.n; i++) {
		const struct vg_peer *p = &a->peers.p[i];
		const struct vg_conf_node *o, *n;

		/* a release before wire version 2 has no push types */
		if (p->ever_seen && p->last.version == 1) {
			snprintf(err, errlen, "config push: %s speaks wire "
			    "version 1 (an older release): upgrade it first",
			    p->name);
			refuse_staged(a, epoch, had);
			return -1;
		}
		ids[i] = p->id;
		/* a member's votes, as this node's configuration has them: a
		 * node in the table that is not one (left by a shrink, or
		 * added by an aborted safety push) counts for nothing, or with
		 * --allow-down one member and two such nodes made a quorum */
		o = vg_conf_node_by_id(a->conf, p->id);
		votes[i] = o != NULL ? o->votes : 0;
		snprintf(a->push_names[i], sizeof(a->push_names[i]), "%s",
		    p->name);
		if (!a->push_safety)
			continue;
		n = vg_conf_node_by_id(push_new(a), p->id);
		votes_new[i] = n != NULL ? n->votes : 0;
	}
	while (id == 0)
		randombytes_buf(&id, sizeof(id));
	if (vg_pushrun_start(&a->push, id, epoch, (const uint8_t *)text,
	    (uint32_t)len, ids, a->peers.n, now,
	    vg_pushrun_deadline(a->conf->dead_time, (uint32_t)len), err,
	    errlen) == -1) {
		refuse_staged(a, epoch, had);
		return -1;
	}
	vg_pushrun_offer_flags(&a->push, flags);
	if (a->push_safety) {
		const struct vg_conf *cn = push_new(a);
		const struct vg_conf_node *me = vg_conf_node_by_id(cn,
		    a->self->id);

		vg_pushrun_joint(&a->push, a->self->votes, me != NULL ?
		    me->votes : 0, votes, votes_new, a->conf->quorum,
		    cn->quorum, cn->dead_time > a->conf->dead_time ?
		    cn->dead_time : a->conf->dead_time);
		vg_conf_file_digest(text, len, a->joint_sha, &a->push_digest);
	} else if (allow_down)
		vg_pushrun_allow_down(&a->push, a->self->votes, votes,
		    a->conf->quorum);
	vg_conf_file_digest(text, len, sha, &a->push_digest);
	log_info("ctl: uid %u pid %d: config push: epoch %u, %zu bytes, push "
	    "%016llx to %zu peers%s%s", (unsigned)a->push_uid,
	    (int)a->push_pid, epoch, len, (unsigned long long)id, a->peers.n,
	    allow_down ? ", --allow-down" : "", flags ? ", a key step" : "");
	vg_agent_event(a, VG_EV_CTL, "uid %u pid %d: config push: epoch %u "
	    "started (push %016llx, file digest %08x%s%s)",
	    (unsigned)a->push_uid, (int)a->push_pid, epoch,
	    (unsigned long long)id, a->push_digest,
	    allow_down ? ", --allow-down" : "", flags ? ", a key step" : "");
	return 0;
}

json_object *
vg_stage_push_cmd(struct vg_agent *a, const char *text, size_t len,
    const char *name, int allow_down, struct vg_ctl_caller *caller,
    vg_ns now, char *err, size_t errlen)
{
	struct vg_conf *next;
	struct vg_errs *errs;
	json_object *r;
	uint32_t epoch;
	size_t i;

	if (a->keyrot.step != 0) {
		snprintf(err, errlen, "config push: a key rotation is under "
		    "way");
		return NULL;
	}
	if (push_refused(a, "config push", err, errlen) == -1)
		return NULL;
	if (len > VG_PUSH_MAX_SIZE) {
		snprintf(err, errlen, "config push: %zu bytes, at most %u",
		    len, VG_PUSH_MAX_SIZE);
		return NULL;
	}
	/* its epoch, from the file as it is (the check parses it again) */
	if ((errs = malloc(sizeof(*errs))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	vg_errs_init(errs);
	if ((next = vg_conf_parse(text, name, a->self->name, errs)) == NULL) {
		snprintf(err, errlen, "config push: %.160s is not a valid "
		    "configuration for %s", name, a->self->name);
		r = json_object_new_object();
		json_object_object_add(r, "ok", json_object_new_boolean(0));
		json_object_object_add(r, "error", json_object_new_string(err));
		if (errs->n > 0) {
			json_object *l = json_object_new_array();

			for (i = 0; i < errs->n; i++)
				json_object_array_add(l,
				    json_object_new_string(errs->msg[i]));
			json_object_object_add(r, "errors", l);
		}
		free(errs);
		return r;
	}
	free(errs);
	epoch = next->epoch;
	vg_conf_free(next);
	a->push_uid = caller->uid;
	a->push_pid = caller->pid;
	if (start_push(a, text, len, epoch, 0, allow_down, now, err,
	    errlen) == -1)
		return NULL;
	a->push_client = caller->client;
	caller->defer = 1;
	return NULL;
}

/* ---- vigilctl key rotate: three pushes, one key step each */

static const uint16_t key_flags[] = { 0, VG_PUSH_OFFER_KEY_NEXT,
	VG_PUSH_OFFER_KEY_SEND, VG_PUSH_OFFER_KEY_DROP };
static const char *const key_what[] = { "", "every node also accepts the "
	"new key", "every node sends with the new key and still accepts its "
	"old one", "the old key is dropped everywhere" };

/*
 * The file of key step `step`: this node's running file as it is on disk,
 * its epoch one above the running one, and the step's key setting
 * (auth_key_next for NEXT, auth_key_file for SEND: the new key; DROP
 * carries none); each node applies the step's rule to its own keys
 * (vg_stage_localize).  malloc'd, or NULL with err.
 */
static char *
key_step_file(struct vg_agent *a, int step, size_t *lenp, char *err,
    size_t errlen)
{
	static const char *const epoch_next[] = { "epoch", "auth_key_next",
		NULL };
	static const char *const epoch_file[] = { "epoch", "auth_key_file",
		NULL };
	const char *const *names = step == 1 ? epoch_next : epoch_file;
	uint8_t *mark;
	char *own, *text;
	size_t len, n, i, line, o = 0, room;

	if ((own = slurp_running(a, &len, err, errlen)) == NULL)
		return NULL;
	n = count_lines(own, len);
	room = len + 2 * VG_PATH_MAX + 128;
	if ((mark = calloc(n + 2, 1)) == NULL ||
	    (text = malloc(room)) == NULL) {
		free(mark);
		free(own);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (setting_lines(own, names, mark, n, err, errlen) != 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "%s cannot be read again",
			    a->conf->path);
		free(text);
		text = NULL;
		goto out;
	}
	/* a new file: vigild's own comments and runs of blank lines go */
	mark_ours(own, mark, n);
	for (i = 0, line = 1; i < len; i++) {
		if ((!mark[line] || own[i] == '\n') && !(own[i] == '\n' &&
		    o > 1 && text[o - 1] == '\n' && text[o - 2] == '\n'))
			text[o++] = own[i];
		if (own[i] == '\n')
			line++;
	}
	if (o > 0 && text[o - 1] != '\n')
		text[o++] = '\n';
	/* every step names the new key: NEXT as auth_key_next, SEND and
	 * DROP as auth_key_file (DROP: a node not sending with it refuses) */
	o += (size_t)snprintf(text + o, room - o, "# vigilctl key rotate, "
	    "step %d\nepoch = %u;\n%s = \"%s\";\n", step,
	    a->conf->epoch + 1, step == 1 ? "auth_key_next" :
	    "auth_key_file", a->keyrot.path);
	*lenp = o;
out:
	free(mark);
	free(own);
	return text;
}

/* The next key step started: 0, or -1 with err. */
static int
key_step(struct vg_agent *a, vg_ns now, char *err, size_t errlen)
{
	char *text;
	size_t len;
	int rc;

	err[0] = '\0';
	if ((text = key_step_file(a, a->keyrot.step, &len, err,
	    errlen)) == NULL)
		return -1;
	rc = start_push(a, text, len, a->conf->epoch + 1,
	    key_flags[a->keyrot.step], 0, now, err, errlen);
	free(text);
	return rc;
}

/*
 * The rotation's answer to its client (and its audit); the rotation over.
 * why: NULL when done; else the step under way stopped, and here says
 * whether that step was committed on this node (it runs it, though some
 * node may not).
 */
static void
key_answer(struct vg_agent *a, const char *why, int here)
{
	json_object *r = json_object_new_object();
	char msg[1024];
	int k = a->keyrot.step;

	if (why == NULL)
		snprintf(msg, sizeof(msg), "key rotated: every node sends with "
		    "%s and accepts no other key (epoch %u)", a->keyrot.path,
		    a->conf->epoch);
	else
		snprintf(msg, sizeof(msg), "key rotate stopped at step %d "
		    "(%s): %s; %s; run vigilctl key rotate %s again: every "
		    "step is safe to repeat", k, key_what[k], why, here ?
		    "this node runs that step" : k > 1 ? "the steps before "
		    "it are done" : "nothing changed", a->keyrot.path);
	json_object_object_add(r, "ok", json_object_new_boolean(why == NULL));
	json_object_object_add(r, why == NULL ? "message" : "error",
	    json_object_new_string(msg));
	json_object_object_add(r, "epoch", json_object_new_int64(
	    a->conf->epoch));
	json_object_object_add(r, "step", json_object_new_int64(
	    why == NULL ? 3 : k - 1));
	log_info("ctl: uid %u pid %d: %s", (unsigned)a->push_uid,
	    (int)a->push_pid, msg);
	vg_agent_event(a, VG_EV_CTL, "uid %u pid %d: %s", (unsigned)a->push_uid,
	    (int)a->push_pid, msg);
	if (a->push_client != 0)
		vg_control_answer(a->ctl, a->push_client, r);
	a->push_client = 0;
	a->keyrot.step = 0;
	json_object_put(r);
}

/*
 * A key step's push ended: the next step only once every node confirmed
 * this one (a node that has not applied it could drop what the next
 * step's senders send); otherwise the rotation stops where it is, which
 * is a state every node agrees on (design.md, "Key rotation").
 */
static void
key_step_over(struct vg_agent *a, json_object *r, int committed, vg_ns now)
{
	const char *why = NULL;
	char err[512];
	size_t i;

	if (!committed) {
		why = json_object_get_string(json_object_object_get(r,
		    "error"));
		snprintf(err, sizeof(err), "%s", why != NULL ? why : "aborted");
		key_answer(a, err, 0);
		return;
	}
	/* committed here: every node must have applied it (a DONE with an
	 * error is a node that did not: its commit failed, or it had lost
	 * its staging) */
	for (i = 0; i < a->push.n; i++) {
		const struct vg_pushrun_target *t = &a->push.t[i];

		if (t->confirmed && t->error[0] == '\0')
			continue;
		snprintf(err, sizeof(err), "committed here, but node %s %s%s",
		    target_name(a, t->id), t->confirmed ? "did not apply it: " :
		    "did not confirm it", t->confirmed ? t->error : "");
		key_answer(a, err, 1);
		return;
	}
	if (a->keyrot.step == 3) {
		key_answer(a, NULL, 1);
		return;
	}
	a->keyrot.step++;
	if (key_step(a, now, err, sizeof(err)) == -1)
		key_answer(a, err, 0);
}

json_object *
vg_stage_key_rotate_cmd(struct vg_agent *a, const char *path,
    struct vg_ctl_caller *caller, vg_ns now, char *err, size_t errlen)
{
	if (a->keyrot.step != 0) {
		snprintf(err, errlen, "key rotate: a key rotation is under way");
		return NULL;
	}
	if (push_refused(a, "key rotate", err, errlen) == -1)
		return NULL;
	if (path[0] != '/' || strlen(path) >= sizeof(a->keyrot.path) ||
	    strpbrk(path, "\"\\\n") != NULL) {
		snprintf(err, errlen, "key rotate: %s: not a plain absolute "
		    "path", path);
		return NULL;
	}
	if (a->conf->epoch + 3 < a->conf->epoch) {
		snprintf(err, errlen, "key rotate: no epoch left");
		return NULL;
	}
	snprintf(a->keyrot.path, sizeof(a->keyrot.path), "%s", path);
	/* always from step 1: each node's rule makes a step it has done a
	 * no-op there */
	a->keyrot.step = 1;
	a->push_uid = caller->uid;
	a->push_pid = caller->pid;
	if (key_step(a, now, err, errlen) == -1) {
		char why[512];

		snprintf(why, sizeof(why), "key rotate: %s", err);
		snprintf(err, errlen, "%s", why);
		a->keyrot.step = 0;
		return NULL;
	}
	a->push_client = caller->client;
	caller->defer = 1;
	return NULL;
}
