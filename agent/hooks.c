/*
 * hooks: the state file, the notify-script queue and its runner.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "hooks.h"
#include "log.h"
#include "proto.h"
#include "statedir.h"

#define KILL_GRACE	VG_MS(1000)	/* between SIGTERM and SIGKILL */

/* ---- the pure part: queue, paths, state text */

const char *
vg_hook_path(const struct vg_conf *c, const struct vg_hook_job *j)
{
	if (j->which == VG_HOOK_ALL)
		return c->hooks.notify;
	switch (j->ev.state) {
	case VG_ST_ACTIVE:		return c->hooks.notify_active;
	case VG_ST_FAULT:		return c->hooks.notify_fault;
	case VG_ST_MAINTENANCE:		return c->hooks.notify_maintenance;
	default:			return c->hooks.notify_standby;
	}
}

static void
q_put(struct vg_hookq *q, const struct vg_hook_event *ev,
    enum vg_hook_script which)
{
	struct vg_hook_job *j;

	if (q->n == VG_HOOKQ_MAX) {
		q->dropped++;
		return;
	}
	j = &q->job[(q->head + q->n) % VG_HOOKQ_MAX];
	j->ev = *ev;
	j->which = which;
	q->n++;
}

size_t
vg_hookq_push(struct vg_hookq *q, const struct vg_conf *c,
    const struct vg_hook_event *ev)
{
	struct vg_hook_job j;
	size_t before = q->n;

	j.ev = *ev;
	j.which = VG_HOOK_STATE;
	if (vg_hook_path(c, &j)[0] != '\0')
		q_put(q, ev, VG_HOOK_STATE);
	if (c->hooks.notify[0] != '\0')
		q_put(q, ev, VG_HOOK_ALL);
	return q->n - before;
}

int
vg_hookq_pop(struct vg_hookq *q, struct vg_hook_job *out)
{
	if (q->n == 0)
		return 0;
	*out = q->job[q->head];
	q->head = (q->head + 1) % VG_HOOKQ_MAX;
	q->n--;
	return 1;
}

static void
fmt_time(int64_t ms, char *buf, size_t len)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* Room for the state file or the environment, whatever the VIPs. */
static size_t
text_room(const struct vg_conf *c)
{
	return 1024 + c->n_vips * (INET6_ADDRSTRLEN + 8 + IF_NAMESIZE + 2);
}

/* "addr/len@if addr/len@if": the VIPs of the config; (size_t)-1 if cut */
static size_t
vips_text(const struct vg_conf *c, char *buf, size_t len)
{
	size_t i, off = 0;
	int n;

	if (len == 0)
		return (size_t)-1;
	buf[0] = '\0';
	for (i = 0; i < c->n_vips; i++) {
		n = snprintf(buf + off, len - off, "%s%s@%s", i ? " " : "",
		    c->vips[i].text, c->vips[i].ifname);
		if (n < 0 || (size_t)n >= len - off) {
			buf[off] = '\0';
			return (size_t)-1;
		}
		off += (size_t)n;
	}
	return off;
}

size_t
vg_hook_state_text(const struct vg_conf *c, const struct vg_hook_event *ev,
    char *buf, size_t len)
{
	const struct vg_conf_node *self = &c->nodes[c->self];
	char when[96];
	size_t v;
	int n;

	fmt_time(ev->time_ms, when, sizeof(when));
	n = snprintf(buf, len,
	    "# vigil state file: rewritten atomically on every state change.\n"
	    "# VIGIL_TERM only grows: use it as a fencing token.\n"
	    "VIGIL_CLUSTER=%s\n"
	    "VIGIL_NODE=%s\n"
	    "VIGIL_NODE_ID=%u\n"
	    "VIGIL_STATE=%s\n"
	    "VIGIL_PREV_STATE=%s\n"
	    "VIGIL_TERM=%llu\n"
	    "VIGIL_ACTIVE=%s\n"
	    "VIGIL_ACTIVE_ID=%u\n"
	    "VIGIL_SEQ=%llu\n"
	    "VIGIL_TIME=%s\n"
	    "VIGIL_TIME_MS=%lld\n"
	    "VIGIL_VIPS=\"",
	    c->cluster, self->name, self->id, vg_state_name(ev->state),
	    vg_state_name(ev->prev), (unsigned long long)ev->term, ev->active,
	    ev->active_id, (unsigned long long)ev->seq, when,
	    (long long)ev->time_ms);
	if (n < 0 || (size_t)n >= len)
		return 0;
	if ((v = vips_text(c, buf + n, len - (size_t)n)) == (size_t)-1)
		return 0;		/* never a silently short list */
	n += (int)v;
	if ((size_t)n + 3 > len)
		return 0;
	memcpy(buf + n, "\"\n", 3);
	return (size_t)n + 2;
}

/* ---- the runner */

struct vg_hooks {
	struct ev_loop		*loop;
	const struct vg_conf	*conf;
	struct vg_hookq		q;
	struct vg_hooks_stats	st;
	struct vg_child		child;		/* the running script or writer */
	struct vg_hook_job	cur;
	int			cur_is_file;	/* the running child writes the file */
	int			file_due;	/* the state file is behind */
	struct vg_hook_event	file_ev;	/* what it must say */
	vg_hooks_done		done;
	void			*done_arg;
};

static void	run_next(struct vg_hooks *);

static const char *
cur_name(const struct vg_hooks *h)
{
	return h->cur_is_file ? h->conf->state_file :
	    vg_hook_path(h->conf, &h->cur);
}

static void
out_line(void *arg, const char *line)
{
	log_info("hook %s: %s", cur_name(arg), line);
}

static void
expired(void *arg, pid_t pid)
{
	struct vg_hooks *h = arg;

	log_warnx("hook %s (pid %d) ran past script_timeout (%lld ms): "
	    "SIGTERM", cur_name(h), (int)pid,
	    (long long)(h->conf->hooks.timeout / VG_NS_PER_MS));
	h->st.timeouts++;
}

static void
exited(void *arg, int st, int killed)
{
	struct vg_hooks *h = arg;

	if (h->cur_is_file) {
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			h->st.state_writes++;
		else {
			h->st.state_write_errors++;
			log_warnx("state file %s was not written", cur_name(h));
		}
		h->cur_is_file = 0;
		run_next(h);
		return;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		log_debug("hook %s: done", vg_hook_path(h->conf, &h->cur));
	else {
		h->st.failures++;
		if (WIFSIGNALED(st))
			log_warnx("hook %s: killed by signal %d",
			    vg_hook_path(h->conf, &h->cur), WTERMSIG(st));
		else
			log_warnx("hook %s: exit status %d",
			    vg_hook_path(h->conf, &h->cur), WEXITSTATUS(st));
	}
	if (h->done != NULL)
		h->done(h->done_arg, &h->cur, vg_hook_path(h->conf, &h->cur), st,
		    killed);
	run_next(h);
}

static const struct vg_child_ops hook_ops = { out_line, expired, exited };

static void
setenv_u(const char *k, unsigned long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", v);
	setenv(k, buf, 1);
}

/* In the child (vg_child_start has set it up): the script, with its
 * arguments and VIGIL_* environment. */
static void __attribute__((noreturn))
exec_script(void *arg)
{
	const struct vg_hooks *h = arg;
	const struct vg_conf *c = h->conf;
	const struct vg_hook_job *j = &h->cur;
	const struct vg_conf_node *self = &c->nodes[c->self];
	const char *path = vg_hook_path(c, j);
	char term[32], when[96], *vips;

	snprintf(term, sizeof(term), "%llu", (unsigned long long)j->ev.term);
	fmt_time(j->ev.time_ms, when, sizeof(when));
	if ((vips = malloc(text_room(c))) == NULL ||
	    vips_text(c, vips, text_room(c)) == (size_t)-1)
		_exit(126);
	setenv("VIGIL_CLUSTER", c->cluster, 1);
	setenv("VIGIL_NODE", self->name, 1);
	setenv_u("VIGIL_NODE_ID", self->id);
	setenv("VIGIL_STATE", vg_state_name(j->ev.state), 1);
	setenv("VIGIL_PREV_STATE", vg_state_name(j->ev.prev), 1);
	setenv("VIGIL_TERM", term, 1);
	setenv("VIGIL_ACTIVE", j->ev.active, 1);
	setenv_u("VIGIL_ACTIVE_ID", j->ev.active_id);
	setenv_u("VIGIL_SEQ", j->ev.seq);
	setenv("VIGIL_REASON", j->ev.reason, 1);
	setenv("VIGIL_TIME", when, 1);
	setenv("VIGIL_VIPS", vips, 1);
	setenv("VIGIL_STATE_FILE", c->state_file, 1);
	execl(path, path, vg_state_name(j->ev.state), vg_state_name(j->ev.prev),
	    term, (char *)NULL);
	fprintf(stderr, "cannot run %s: %s\n", path, strerror(errno));
	_exit(127);
}

/* In the child: the state file, atomically and durably, off the loop. */
static void __attribute__((noreturn))
write_state_file(void *arg)
{
	const struct vg_hooks *h = arg;
	const struct vg_conf *c = h->conf;
	const char *sf = c->state_file;
	const char *slash = strrchr(sf, '/');
	char *text, dir[VG_PATH_MAX], err[256];
	size_t len;

	if ((text = malloc(text_room(c))) == NULL)
		_exit(1);
	len = vg_hook_state_text(c, &h->file_ev, text, text_room(c));
	if (slash == NULL || len == 0 || (size_t)(slash - sf) >= sizeof(dir))
		_exit(1);
	memcpy(dir, sf, (size_t)(slash - sf));
	dir[slash - sf] = '\0';
	if (dir[0] == '\0')
		snprintf(dir, sizeof(dir), "/");
	if (vg_statedir_prepare(dir, err, sizeof(err)) == -1 ||
	    vg_statedir_write(dir, slash + 1, text, len, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		_exit(1);
	}
	_exit(0);
}

static void
run_next(struct vg_hooks *h)
{
	const char *path;
	int file;

	while (!vg_child_running(&h->child)) {
		/* the state file goes before the scripts, and says the latest */
		if ((file = h->file_due) != 0)
			h->file_due = 0;
		else if (!vg_hookq_pop(&h->q, &h->cur))
			return;
		path = file ? h->conf->state_file : vg_hook_path(h->conf, &h->cur);
		if (path[0] == '\0')
			continue;
		h->cur_is_file = file;
		if (vg_child_start(&h->child, file ? write_state_file :
		    exec_script, h, h->conf->hooks.timeout, KILL_GRACE) == -1) {
			h->st.spawn_errors++;
			log_warn("hook %s: cannot start it", path);
			h->cur_is_file = 0;
			continue;
		}
		if (!file)
			h->st.runs++;
		log_debug("%s %s (pid %d)", file ? "state file" : "hook", path,
		    (int)h->child.pid);
	}
}

struct vg_hooks *
vg_hooks_new(struct ev_loop *loop, const struct vg_conf *c, vg_hooks_done done,
    void *arg)
{
	struct vg_hooks *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->done = done;
	h->done_arg = arg;
	h->loop = loop;
	h->conf = c;
	vg_child_init(&h->child, loop, &hook_ops, h);
	return h;
}

void
vg_hooks_set_conf(struct vg_hooks *h, const struct vg_conf *c)
{
	h->conf = c;
}

void
vg_hooks_state_change(struct vg_hooks *h, const struct vg_hook_event *ev)
{
	h->file_ev = *ev;
	h->file_due = 1;
	vg_hookq_push(&h->q, h->conf, ev);
	if (h->q.dropped > 0 && h->q.dropped % 100 == 1)
		log_warnx("hooks: %llu script runs dropped: more than %d queued",
		    (unsigned long long)h->q.dropped, VG_HOOKQ_MAX);
	run_next(h);
}

const struct vg_hooks_stats *
vg_hooks_stats(const struct vg_hooks *h)
{
	return &h->st;
}

size_t
vg_hooks_pending(const struct vg_hooks *h)
{
	return h->q.n + (size_t)vg_child_running(&h->child) + (size_t)h->file_due;
}

void
vg_hooks_free(struct vg_hooks *h)
{
	if (h == NULL)
		return;
	vg_child_stop(&h->child);
	free(h);
}
