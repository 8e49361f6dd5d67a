/*
 * hooks: the state file, the notify-script queue and its runner.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"
#include "log.h"
#include "proto.h"
#include "statedir.h"
#include "track.h"

#define KILL_GRACE	1.0	/* s between SIGTERM and SIGKILL */
#define OUT_LINE	512

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
	/* the running script */
	pid_t			pid;
	struct vg_hook_job	cur;
	ev_child		child;
	ev_timer		timeout;
	ev_io			out;
	int			out_fd;
	char			line[OUT_LINE];
	size_t			linelen;
	int			killed;		/* 1 SIGTERM, 2 SIGKILL */
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
flush_line(struct vg_hooks *h)
{
	if (h->linelen == 0)
		return;
	h->line[h->linelen] = '\0';
	log_info("hook %s: %s", cur_name(h), h->line);
	h->linelen = 0;
}

static void
out_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vg_hooks *h = w->data;
	char buf[1024];
	ssize_t n, i;

	(void)revents;
	n = read(h->out_fd, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		flush_line(h);
		ev_io_stop(loop, w);
		close(h->out_fd);
		h->out_fd = -1;
		return;
	}
	for (i = 0; i < n; i++) {
		if (buf[i] == '\n' || h->linelen == OUT_LINE - 1) {
			flush_line(h);
			if (buf[i] == '\n')
				continue;
		}
		h->line[h->linelen++] = buf[i] == '\0' ? ' ' : buf[i];
	}
}

static void
timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vg_hooks *h = w->data;

	(void)revents;
	/* its exit may be in the same loop round, just not handled yet */
	if (h->pid <= 0 || vg_child_exited(h->pid))
		return;
	if (h->killed == 0) {
		log_warnx("hook %s (pid %d) ran past script_timeout (%lld ms): "
		    "SIGTERM", cur_name(h), (int)h->pid,
		    (long long)(h->conf->hooks.timeout / VG_NS_PER_MS));
		h->st.timeouts++;
		kill(-h->pid, SIGTERM);
		h->killed = 1;
		ev_timer_set(w, KILL_GRACE, 0.);
		ev_timer_start(loop, w);
	} else {
		kill(-h->pid, SIGKILL);
		h->killed = 2;
	}
}

static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct vg_hooks *h = w->data;
	int st = w->rstatus;

	(void)revents;
	ev_child_stop(loop, w);
	ev_timer_stop(loop, &h->timeout);
	if (h->out_fd != -1) {
		/* what it wrote before exiting is still in the pipe */
		out_cb(loop, &h->out, 0);
		if (h->out_fd != -1) {
			ev_io_stop(loop, &h->out);
			close(h->out_fd);
			h->out_fd = -1;
		}
		flush_line(h);
	}
	if (h->cur_is_file) {
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			h->st.state_writes++;
		else {
			h->st.state_write_errors++;
			log_warnx("state file %s was not written", cur_name(h));
		}
		kill(-h->pid, SIGKILL);
		h->pid = 0;
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
	/* anything it left in its process group goes with it */
	kill(-h->pid, SIGKILL);
	h->pid = 0;
	if (h->done != NULL)
		h->done(h->done_arg, &h->cur, vg_hook_path(h->conf, &h->cur), st,
		    h->killed != 0);
	run_next(h);
}

static void
setenv_u(const char *k, unsigned long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", v);
	setenv(k, buf, 1);
}

static void __attribute__((noreturn))
exec_script(const struct vg_conf *c, const struct vg_hook_job *j, int out)
{
	const struct vg_conf_node *self = &c->nodes[c->self];
	const char *path = vg_hook_path(c, j);
	char term[32], when[96], *vips;
	sigset_t none;
	int fd;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if ((fd = open("/dev/null", O_RDONLY)) != -1 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	dup2(out, 1);
	dup2(out, 2);
	(void)close_range(3, ~0U, 0);
	snprintf(term, sizeof(term), "%llu", (unsigned long long)j->ev.term);
	fmt_time(j->ev.time_ms, when, sizeof(when));
	if ((vips = malloc(text_room(c))) == NULL ||
	    vips_text(c, vips, text_room(c)) == (size_t)-1)
		_exit(126);
	/* systemd's notify socket and watchdog are the agent's alone */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
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

/* In a child: the state file, atomically and durably, off the loop. */
static void __attribute__((noreturn))
write_state_file(const struct vg_conf *c, const struct vg_hook_event *ev,
    int out)
{
	const char *sf = c->state_file;
	const char *slash = strrchr(sf, '/');
	char *text, dir[VG_PATH_MAX], err[256];
	size_t len;

	dup2(out, 2);
	if ((text = malloc(text_room(c))) == NULL)
		_exit(1);
	len = vg_hook_state_text(c, ev, text, text_room(c));
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
	int p[2], file;
	pid_t pid;

	for (;;) {
		const char *path;

		if (h->pid != 0)
			return;
		/* the state file goes before the scripts, and says the latest */
		if ((file = h->file_due) != 0)
			h->file_due = 0;
		else if (!vg_hookq_pop(&h->q, &h->cur))
			return;
		path = file ? h->conf->state_file : vg_hook_path(h->conf, &h->cur);
		if (path[0] == '\0')
			continue;
		if (pipe2(p, O_CLOEXEC) == -1) {
			h->st.spawn_errors++;
			log_warn("hook %s: pipe", path);
			continue;
		}
		if ((pid = fork()) == -1) {
			h->st.spawn_errors++;
			log_warn("hook %s: fork", path);
			close(p[0]);
			close(p[1]);
			continue;
		}
		if (pid == 0) {
			close(p[0]);
			if (file)
				write_state_file(h->conf, &h->file_ev, p[1]);
			exec_script(h->conf, &h->cur, p[1]);
		}
		close(p[1]);
		h->cur_is_file = file;
		setpgid(pid, pid);	/* both sides: no race with kill(-pid) */
		(void)fcntl(p[0], F_SETFL, O_NONBLOCK);
		h->pid = pid;
		h->killed = 0;
		h->out_fd = p[0];
		h->linelen = 0;
		if (!file)
			h->st.runs++;
		ev_child_set(&h->child, pid, 0);
		ev_child_start(h->loop, &h->child);
		ev_io_set(&h->out, p[0], EV_READ);
		ev_io_start(h->loop, &h->out);
		ev_timer_set(&h->timeout,
		    (double)h->conf->hooks.timeout / 1e9, 0.);
		ev_timer_start(h->loop, &h->timeout);
		log_debug("%s %s (pid %d)", file ? "state file" : "hook", path,
		    (int)pid);
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
	h->out_fd = -1;
	ev_child_init(&h->child, child_cb, 0, 0);
	ev_init(&h->timeout, timeout_cb);
	ev_init(&h->out, out_cb);
	h->child.data = h->timeout.data = h->out.data = h;
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
	return h->q.n + (h->pid > 0) + h->file_due;
}

void
vg_hooks_free(struct vg_hooks *h)
{
	if (h == NULL)
		return;
	if (h->pid > 0) {
		kill(-h->pid, SIGKILL);
		(void)waitpid(h->pid, NULL, 0);
	}
	ev_child_stop(h->loop, &h->child);
	ev_timer_stop(h->loop, &h->timeout);
	if (h->out_fd != -1) {
		ev_io_stop(h->loop, &h->out);
		close(h->out_fd);
	}
	free(h);
}
