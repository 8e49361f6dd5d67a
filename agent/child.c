/*
 * child: spawn (posix_spawn, never fork), time out, reap; the output read
 * line by line.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"

#define DRAIN_READS	64	/* at its exit: what is left in the pipe */
#define TREE_MAX	1024	/* descendants followed per round */
#define KILL_ROUNDS	8	/* rounds of a sweep, each one new pid at least */

/* ---- every descendant: the agent as their subreaper */

static struct vg_child	*running;	/* the live scripts, linked */
static int		(*spare_fn)(void *, pid_t);
static void		*spare_arg;
static int		subreaper;

int
vg_child_subreaper(int (*spare)(void *, pid_t), void *arg)
{
	spare_fn = spare;
	spare_arg = arg;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		return -1;
	subreaper = 1;
	return 0;
}

static void
live_add(struct vg_child *c)
{
	c->next = running;
	running = c;
}

static void
live_del(struct vg_child *c)
{
	struct vg_child **p;

	for (p = &running; *p != NULL; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	c->next = NULL;
}

/* One of the agent's own children that no sweep may touch? */
static int
ours(pid_t pid)
{
	const struct vg_child *c;

	for (c = running; c != NULL; c = c->next)
		if (c->pid == pid)
			return 1;
	return spare_fn != NULL && spare_fn(spare_arg, pid);
}

static int
seen(const pid_t *v, size_t n, pid_t pid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == pid)
			return 1;
	return 0;
}

/*
 * Appends the children of pid (every thread's, from
 * /proc/PID/task/TID/children) to v; returns the new count.  A process
 * that is gone has none.
 */
static size_t
children_of(pid_t pid, int strays, pid_t *v, size_t n, size_t max)
{
	char path[64], buf[32], *end;
	struct dirent *de;
	DIR *d;
	FILE *f;
	long k;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return n;
	while (n < max && (de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.20s/children",
		    (int)pid, de->d_name);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		while (n < max && fscanf(f, "%31s", buf) == 1) {
			k = strtol(buf, &end, 10);
			if (*end != '\0' || k <= 0)
				continue;
			if ((strays && ours((pid_t)k)) || seen(v, n, (pid_t)k))
				continue;
			v[n++] = (pid_t)k;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

/* v[from..n) and all their descendants: the tree under them. */
static size_t
descend(pid_t *v, size_t from, size_t n, size_t max)
{
	size_t i;

	for (i = from; i < n && n < max; i++)
		n = children_of(v[i], 0, v, n, max);
	return n;
}

size_t
vg_child_kill_tree(pid_t pid, int sig)
{
	pid_t v[TREE_MAX];
	size_t n, i;

	if (pid <= 0)
		return 0;
	(void)kill(-pid, sig);		/* its group, as before */
	v[0] = pid;
	n = descend(v, 0, 1, TREE_MAX);
	for (i = 1; i < n; i++)
		(void)kill(v[i], sig);
	return n - 1;
}

size_t
vg_child_sweep(void)
{
	pid_t v[TREE_MAX], done[TREE_MAX];
	size_t n, i, nd = 0, fresh;
	int round;

	if (!subreaper)
		return 0;
	/*
	 * A stray is a child of the agent that is neither a script that
	 * runs nor spared (the keeper): a script's descendant whose parent
	 * died came back to the agent.  It goes with everything under it,
	 * SIGKILL, in rounds until a round finds nothing new (what a killed
	 * process had under it comes back to the agent as well); libev's
	 * SIGCHLD handler reaps them.
	 */
	for (round = 0; round < KILL_ROUNDS; round++) {
		n = children_of(getpid(), 1, v, 0, TREE_MAX);
		n = descend(v, 0, n, TREE_MAX);
		for (i = 0, fresh = 0; i < n; i++) {
			(void)kill(v[i], SIGKILL);
			if (!seen(done, nd, v[i]) && nd < TREE_MAX) {
				done[nd++] = v[i];
				fresh++;
			}
		}
		if (fresh == 0)
			break;
	}
	return nd;
}

int
vg_child_exited(pid_t pid)
{
	siginfo_t si;

	/* WNOWAIT: look, do not reap; ev_child still gets its exit */
	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == pid;
}

static void
flush_line(struct vg_child *c)
{
	if (c->linelen == 0)
		return;
	c->line[c->linelen] = '\0';
	c->linelen = 0;
	c->ops->line(c->arg, c->line);
}

static void
out_close(struct vg_child *c)
{
	flush_line(c);
	ev_io_stop(c->loop, &c->out);
	close(c->out_fd);
	c->out_fd = -1;
}

/* One read of its output; 0 when nothing more is there for now. */
static int
out_read(struct vg_child *c)
{
	char buf[1024];
	ssize_t n, i;

	n = read(c->out_fd, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		out_close(c);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (buf[i] == '\n' || c->linelen == VG_CHILD_LINE - 1) {
			flush_line(c);
			if (buf[i] == '\n')
				continue;
		}
		c->line[c->linelen++] = buf[i] == '\0' ? ' ' : buf[i];
	}
	return 1;
}

static void
out_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	(void)out_read(w->data);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct vg_child *c = w->data;

	(void)revents;
	/* its exit may be in the same loop round, just not handled yet */
	if (c->pid <= 0 || vg_child_exited(c->pid))
		return;
	if (c->killed == 0 && c->ops->expired != NULL)
		c->ops->expired(c->arg, c->pid);
	/* the whole tree: its group and whatever left the group */
	if (c->killed == 0 && c->grace > 0) {
		(void)vg_child_kill_tree(c->pid, SIGTERM);
		c->killed = 1;
		ev_timer_set(w, (double)c->grace / 1e9, 0.);
		ev_timer_start(loop, w);
	} else {
		(void)vg_child_kill_tree(c->pid, SIGKILL);
		c->killed = 2;
	}
	(void)vg_child_sweep();
}

static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct vg_child *c = w->data;
	int st = w->rstatus, i;

	(void)revents;
	ev_child_stop(loop, w);
	ev_timer_stop(loop, &c->timer);
	/* what it wrote before exiting is still in the pipe */
	for (i = 0; c->out_fd != -1 && i < DRAIN_READS; i++)
		if (!out_read(c))
			break;
	if (c->out_fd != -1)
		out_close(c);
	/* anything it left in its process group goes with it, and what
	 * left the group came back to the agent: the sweep finds it */
	kill(-c->pid, SIGKILL);
	live_del(c);
	c->pid = 0;
	(void)vg_child_sweep();
	c->ops->done(c->arg, st, c->killed != 0);
}

void
vg_child_init(struct vg_child *c, struct ev_loop *loop,
    const struct vg_child_ops *ops, void *arg)
{
	memset(c, 0, sizeof(*c));
	c->loop = loop;
	c->ops = ops;
	c->arg = arg;
	c->out_fd = -1;
	ev_child_init(&c->cw, child_cb, 0, 0);
	ev_init(&c->timer, timer_cb);
	ev_init(&c->out, out_cb);
	c->cw.data = c->timer.data = c->out.data = c;
}

/* systemd's notify socket and watchdog are the agent's alone */
static int
env_private(const char *kv)
{
	static const char *const name[] = {
		"NOTIFY_SOCKET=", "WATCHDOG_USEC=", "WATCHDOG_PID=",
	};
	size_t i;

	for (i = 0; i < sizeof(name) / sizeof(name[0]); i++)
		if (strncmp(kv, name[i], strlen(name[i])) == 0)
			return 1;
	return 0;
}

/* The child's environment: the agent's minus systemd's, plus extra. */
static char **
env_build(char *const extra[])
{
	size_t n = 0, i, k = 0;
	char **env;

	for (i = 0; environ != NULL && environ[i] != NULL; i++)
		n++;
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		n++;
	if ((env = calloc(n + 1, sizeof(*env))) == NULL)
		return NULL;
	for (i = 0; environ != NULL && environ[i] != NULL; i++)
		if (!env_private(environ[i]))
			env[k++] = environ[i];
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		env[k++] = extra[i];
	env[k] = NULL;
	return env;
}

/*
 * The set-up of the child as spawn attributes and file actions: glibc
 * carries them out between its clone(CLONE_VM|CLONE_VFORK) and the exec,
 * so the agent's (locked) memory is never copied or write-protected.
 */
static int
spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
    int out)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int e;

	if ((e = posix_spawnattr_init(&at)) != 0)
		return e;
	if ((e = posix_spawn_file_actions_init(&fa)) != 0) {
		posix_spawnattr_destroy(&at);
		return e;
	}
	sigemptyset(&none);
	sigfillset(&all);
	if ((e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) != 0 ||
	    (e = posix_spawnattr_setpgroup(&at, 0)) != 0 ||
	    (e = posix_spawnattr_setsigmask(&at, &none)) != 0 ||
	    (e = posix_spawnattr_setsigdefault(&at, &all)) != 0 ||
	    (e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
	    O_RDONLY, 0)) != 0)
		goto out;
	if (out == -1)
		e = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null",
		    O_WRONLY, 0);
	else if ((e = posix_spawn_file_actions_adddup2(&fa, out, 1)) == 0)
		e = posix_spawn_file_actions_adddup2(&fa, out, 2);
	if (e != 0 ||
	    (e = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) != 0)
		goto out;
	e = posix_spawn(pid, path, &fa, &at, argv, envp);
out:
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return e;
}

int
vg_child_spawn(struct vg_child *c, const char *path, char *const argv[],
    char *const env_extra[], vg_ns timeout, vg_ns grace)
{
	int p[2] = { -1, -1 }, e = 0, fd;
	char **envp;
	pid_t pid;

	if ((envp = env_build(env_extra)) == NULL)
		return -1;
	if (c->ops->line != NULL) {
		if (pipe2(p, O_CLOEXEC) == -1)
			e = errno;
		/* its ends must not land on 0-2, which the child replaces */
		else if (p[1] <= 2) {
			if ((fd = fcntl(p[1], F_DUPFD_CLOEXEC, 3)) == -1)
				e = errno;
			else {
				close(p[1]);
				p[1] = fd;
			}
		}
		if (e == 0 && p[0] <= 2) {
			if ((fd = fcntl(p[0], F_DUPFD_CLOEXEC, 3)) == -1)
				e = errno;
			else {
				close(p[0]);
				p[0] = fd;
			}
		}
	}
	/* an exec that fails comes back here (glibc reaps that child) */
	if (e == 0)
		e = spawn(&pid, path, argv, envp, p[1]);
	free(envp);
	if (p[1] != -1)
		close(p[1]);
	if (e != 0) {
		if (p[0] != -1)
			close(p[0]);
		errno = e;
		return -1;
	}
	(void)setpgid(pid, pid);	/* both sides: no race with kill(-pid) */
	c->pid = pid;
	live_add(c);
	c->killed = 0;
	c->grace = grace;
	c->linelen = 0;
	c->out_fd = p[0];
	ev_child_set(&c->cw, pid, 0);
	ev_child_start(c->loop, &c->cw);
	if (p[0] != -1) {
		(void)fcntl(p[0], F_SETFL, O_NONBLOCK);
		ev_io_set(&c->out, p[0], EV_READ);
		ev_io_start(c->loop, &c->out);
	}
	ev_timer_set(&c->timer, (double)timeout / 1e9, 0.);
	ev_timer_start(c->loop, &c->timer);
	return 0;
}

int
vg_child_running(const struct vg_child *c)
{
	return c->pid > 0;
}

void
vg_child_stop(struct vg_child *c)
{
	if (c->pid > 0) {
		(void)vg_child_kill_tree(c->pid, SIGKILL);
		(void)waitpid(c->pid, NULL, 0);	/* ECHILD if reaped */
		live_del(c);
		c->pid = 0;
		(void)vg_child_sweep();
	}
	ev_child_stop(c->loop, &c->cw);
	ev_timer_stop(c->loop, &c->timer);
	if (c->out_fd != -1) {
		ev_io_stop(c->loop, &c->out);
		close(c->out_fd);
		c->out_fd = -1;
	}
}
