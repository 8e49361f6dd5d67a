/*
 * child: spawn (posix_spawn, never fork, on the spawner thread), time out,
 * reap, the output read line by line; every descendant of a script killed
 * with it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "child.h"
#include "log.h"

#define DRAIN_READS	64	/* at its exit: what is left in the pipe */
#define TREE_MAX	1024	/* descendants followed per round */
#define KILL_ROUNDS	8	/* rounds of a sweep, each one new pid at least */
#define SPAWNER_STACK	(64 * 1024)
#define UNCLAIMED	64	/* exits reaped before their spawn was heard */

int
vg_mutex_pi(pthread_mutex_t *mu)
{
	pthread_mutexattr_t at;
	int e;

	if ((e = pthread_mutexattr_init(&at)) != 0)
		return e;
	if ((e = pthread_mutexattr_setprotocol(&at,
	    PTHREAD_PRIO_INHERIT)) == 0)
		e = pthread_mutex_init(mu, &at);
	pthread_mutexattr_destroy(&at);
	return e;
}

/* ---- the spawner thread (see child.h) */

static struct {
	pthread_mutex_t	mu;
	pthread_cond_t	cv;		/* a job queued; a job done */
	pthread_t	tid;
	pid_t		task;		/* its thread id: its children are scripts */
	int		started, quit;
	int		caps;		/* its own drop: 0, or -1 (spawns none) */
	char		caps_err[128];
	int		efd;		/* done jobs: the loop hears it */
	struct vg_child	*queue, **qtail;	/* for the thread */
	struct vg_child	*done;		/* for the loop */
	struct ev_loop	*loop;
	ev_io		io;
	ev_child	any;		/* every exit libev reaps */
	unsigned	inflight;	/* queued, spawning or done, not heard */
	struct {
		pid_t	pid;
		int	status;
	}		unclaimed[UNCLAIMED];
	unsigned	un_next;
} sp = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.cv = PTHREAD_COND_INITIALIZER,
	.efd = -1,
};

static int	spawner_start(struct ev_loop *);

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
		/* the spawner's children are scripts, maybe not yet known
		 * to the loop (a spawn under way): never strays */
		if (strays && sp.task != 0 && atoi(de->d_name) == (int)sp.task)
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

/* Its exit, as libev reaped it: the output drained, what it left killed,
 * then done. */
static void
exited(struct vg_child *c, int st)
{
	int i;

	ev_timer_stop(c->loop, &c->timer);
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

/*
 * Every exit libev reaps (its SIGCHLD handler's waitpid(-1)), the
 * keeper's too (hold.c's own ev_child gets that one as well): a running
 * script's goes to it; while a spawn is under way, one that no running
 * script claims is kept: it may be that spawn's, reaped before the loop
 * heard its pid.
 */
static void
any_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct vg_child *c;

	(void)loop;
	(void)revents;
	for (c = running; c != NULL; c = c->next)
		if (c->pid == w->rpid) {
			exited(c, w->rstatus);
			return;
		}
	if (sp.inflight > 0) {
		sp.unclaimed[sp.un_next % UNCLAIMED].pid = w->rpid;
		sp.unclaimed[sp.un_next % UNCLAIMED].status = w->rstatus;
		sp.un_next++;
	}
}

static int
claim(pid_t pid, int *st)
{
	unsigned i;

	for (i = 0; i < UNCLAIMED; i++)
		if (sp.unclaimed[i].pid == pid) {
			*st = sp.unclaimed[i].status;
			sp.unclaimed[i].pid = 0;
			return 1;
		}
	return 0;
}

/* A job heard (or taken back): one fewer under way. */
static void
job_end(struct vg_child *c)
{
	c->jstate = VG_CHILD_IDLE;	/* the thread is done with c */
	c->queued = 0;
	free(c->jpath);
	free(c->jargv);
	free(c->jenvp);
	c->jpath = NULL;
	c->jargv = c->jenvp = NULL;
	if (c->jout != -1)
		close(c->jout);
	c->jout = -1;
	/* nothing under way: what was kept cannot be claimed any more */
	if (--sp.inflight == 0)
		memset(sp.unclaimed, 0, sizeof(sp.unclaimed));
}

/* The spawner's answer for c, on the loop. */
static void
heard(struct vg_child *c)
{
	int st, err = c->jerr, gone;

	c->pid = err == 0 ? c->jpid : 0;
	if (c->pid > 0)
		live_add(c);
	/* before job_end, which forgets what was kept */
	gone = c->pid > 0 && claim(c->pid, &st);
	job_end(c);
	if (err != 0) {
		if (c->out_fd != -1)
			close(c->out_fd);
		c->out_fd = -1;
		if (c->ops->failed != NULL)
			c->ops->failed(c->arg, err);
		else
			c->ops->done(c->arg, 127 << 8, 0);
		return;
	}
	if (c->out_fd != -1) {
		ev_io_set(&c->out, c->out_fd, EV_READ);
		ev_io_start(c->loop, &c->out);
	}
	if (gone) {		/* reaped before the loop heard it */
		exited(c, st);
		return;
	}
	ev_timer_set(&c->timer, (double)c->timeout / 1e9, 0.);
	ev_timer_start(c->loop, &c->timer);
}

static void
heard_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vg_child *list, *c, *fifo = NULL;
	uint64_t n;

	(void)loop;
	(void)w;
	(void)revents;
	while (read(sp.efd, &n, sizeof(n)) == -1 && errno == EINTR)
		;
	pthread_mutex_lock(&sp.mu);
	list = sp.done;
	sp.done = NULL;
	pthread_mutex_unlock(&sp.mu);
	while ((c = list) != NULL) {		/* in the order spawned */
		list = c->jnext;
		c->jnext = fifo;
		fifo = c;
	}
	while ((c = fifo) != NULL) {
		fifo = c->jnext;
		c->jnext = NULL;
		heard(c);	/* may spawn again: c is off the list */
	}
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
	c->jout = -1;
	ev_init(&c->timer, timer_cb);
	ev_init(&c->out, out_cb);
	c->timer.data = c->out.data = c;
	(void)spawner_start(loop);	/* else at the first spawn */
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

/* A NULL-terminated vector and its strings, copied into one block that
 * one free() releases: the spawner thread's own copy. */
static char **
vec_copy(char *const v[])
{
	size_t n = 0, room = 0, i, l;
	char **out, *p;

	for (i = 0; v != NULL && v[i] != NULL; i++, n++)
		room += strlen(v[i]) + 1;
	if ((out = malloc((n + 1) * sizeof(*out) + room)) == NULL)
		return NULL;
	p = (char *)(out + n + 1);
	for (i = 0; i < n; i++) {
		l = strlen(v[i]) + 1;
		memcpy(p, v[i], l);
		out[i] = p;
		p += l;
	}
	out[n] = NULL;
	return out;
}

/*
 * The thread: takes a job, spawns (its wait for the child's exec is its
 * own, not the loop's), puts the answer on the done list and tells the
 * loop through the eventfd.  The children it spawns are its own in
 * /proc/self/task/TID/children, which keeps a sweep off a spawn under way.
 */
static void *
spawner_main(void *arg)
{
	struct vg_child *c;
	uint64_t one = 1;
	pid_t pid;
	int e;

	(void)arg;
	/*
	 * Capabilities are a thread's own: the agent drops its own once its
	 * set-up is done, after this thread was started, and what a script
	 * may have comes from the thread that spawns it.  A script that runs
	 * as root gets this thread's bounding set by exec.
	 */
	sp.caps = vg_caps_drop(sp.caps_err, sizeof(sp.caps_err));
	pthread_mutex_lock(&sp.mu);
	sp.task = gettid();
	pthread_cond_broadcast(&sp.cv);
	for (;;) {
		while (sp.queue == NULL && !sp.quit)
			pthread_cond_wait(&sp.cv, &sp.mu);
		if (sp.quit)
			break;
		c = sp.queue;
		if ((sp.queue = c->jnext) == NULL)
			sp.qtail = &sp.queue;
		c->jstate = VG_CHILD_SPAWNING;
		pthread_mutex_unlock(&sp.mu);
		pid = 0;
		/* an exec that fails comes back here (glibc reaps that
		 * child, or libev did: any_cb keeps it, unclaimed) */
		if (sp.caps == -1)
			e = EPERM;
		else
			e = spawn(&pid, c->jpath, c->jargv, c->jenvp, c->jout);
		if (e == 0)	/* both sides: no race with kill(-pid) */
			(void)setpgid(pid, pid);
		pthread_mutex_lock(&sp.mu);
		c->jpid = pid;
		c->jerr = e;
		c->jstate = VG_CHILD_SPAWNED;
		c->jnext = sp.done;
		sp.done = c;
		pthread_cond_broadcast(&sp.cv);		/* vg_child_stop */
		pthread_mutex_unlock(&sp.mu);
		while (write(sp.efd, &one, sizeof(one)) == -1 && errno == EINTR)
			;
		pthread_mutex_lock(&sp.mu);
	}
	pthread_mutex_unlock(&sp.mu);
	return NULL;
}

/* The thread (SCHED_OTHER whatever the agent's priority, every signal
 * blocked: they are the loop's), its eventfd and the loop's watchers;
 * once.  0, or an errno. */
static int
spawner_start(struct ev_loop *loop)
{
	struct sched_param prm;
	pthread_attr_t at;
	sigset_t all, old;
	int e;

	if (sp.started)
		return 0;
	/* shared with a SCHED_OTHER thread: the loop, real-time, must not
	 * wait a CFS slice behind it (no thread uses it yet) */
	(void)pthread_mutex_destroy(&sp.mu);
	if (vg_mutex_pi(&sp.mu) != 0) {
		(void)pthread_mutex_init(&sp.mu, NULL);
		log_warnx("scripts: no priority inheritance on the spawner's "
		    "lock");
	}
	if ((sp.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		return errno;
	if ((e = pthread_attr_init(&at)) != 0) {
		close(sp.efd);
		sp.efd = -1;
		return e;
	}
	memset(&prm, 0, sizeof(prm));
	sigfillset(&all);
	sp.qtail = &sp.queue;
	sp.quit = 0;
	if ((e = pthread_attr_setstacksize(&at, SPAWNER_STACK)) == 0 &&
	    (e = pthread_attr_setinheritsched(&at,
	    PTHREAD_EXPLICIT_SCHED)) == 0 &&
	    (e = pthread_attr_setschedpolicy(&at, SCHED_OTHER)) == 0 &&
	    (e = pthread_attr_setschedparam(&at, &prm)) == 0) {
		pthread_sigmask(SIG_SETMASK, &all, &old);
		e = pthread_create(&sp.tid, &at, spawner_main, NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	pthread_attr_destroy(&at);
	if (e != 0) {
		close(sp.efd);
		sp.efd = -1;
		return e;
	}
	/* its thread id before anything is spawned (the sweep skips it) */
	pthread_mutex_lock(&sp.mu);
	while (sp.task == 0)
		pthread_cond_wait(&sp.cv, &sp.mu);
	pthread_mutex_unlock(&sp.mu);
	if (sp.caps == -1)
		log_warnx("scripts: the thread that starts them could not drop "
		    "its capabilities (%s): no notify or track script will run",
		    sp.caps_err);
	sp.loop = loop;
	ev_io_init(&sp.io, heard_cb, sp.efd, EV_READ);
	ev_io_start(loop, &sp.io);
	ev_child_init(&sp.any, any_cb, 0, 0);
	ev_child_start(loop, &sp.any);
	sp.started = 1;
	return 0;
}

void
vg_child_shutdown(void)
{
	if (!sp.started)
		return;
	pthread_mutex_lock(&sp.mu);
	sp.quit = 1;
	pthread_cond_broadcast(&sp.cv);
	pthread_mutex_unlock(&sp.mu);
	pthread_join(sp.tid, NULL);
	ev_io_stop(sp.loop, &sp.io);
	ev_child_stop(sp.loop, &sp.any);
	close(sp.efd);
	sp.efd = -1;
	sp.task = 0;
	sp.started = 0;
}

/* Both ends of its output pipe above 2 (the child replaces 0-2). */
static int
out_pipe(int p[2])
{
	int i, fd;

	if (pipe2(p, O_CLOEXEC) == -1)
		return errno;
	for (i = 0; i < 2; i++)
		if (p[i] <= 2) {
			if ((fd = fcntl(p[i], F_DUPFD_CLOEXEC, 3)) == -1) {
				fd = errno;
				close(p[0]);
				close(p[1]);
				p[0] = p[1] = -1;
				return fd;
			}
			close(p[i]);
			p[i] = fd;
		}
	return 0;
}

int
vg_child_spawn(struct vg_child *c, const char *path, char *const argv[],
    char *const env_extra[], vg_ns timeout, vg_ns grace)
{
	int p[2] = { -1, -1 }, e;
	char **envp;

	if (vg_child_running(c)) {
		errno = EBUSY;
		return -1;
	}
	if ((e = spawner_start(c->loop)) != 0) {
		errno = e;
		return -1;
	}
	if ((envp = env_build(env_extra)) == NULL)
		return -1;
	c->jenvp = vec_copy(envp);
	free(envp);
	c->jargv = vec_copy(argv);
	c->jpath = strdup(path);
	e = c->jenvp == NULL || c->jargv == NULL || c->jpath == NULL ? ENOMEM :
	    c->ops->line != NULL ? out_pipe(p) : 0;
	if (e != 0) {
		free(c->jpath);
		free(c->jargv);
		free(c->jenvp);
		c->jpath = NULL;
		c->jargv = c->jenvp = NULL;
		errno = e;
		return -1;
	}
	c->jout = p[1];
	c->out_fd = p[0];
	if (p[0] != -1)
		(void)fcntl(p[0], F_SETFL, O_NONBLOCK);
	c->killed = 0;
	c->grace = grace;
	c->timeout = timeout;
	c->linelen = 0;
	c->jerr = 0;
	c->jpid = 0;
	sp.inflight++;
	c->queued = 1;
	pthread_mutex_lock(&sp.mu);
	c->jstate = VG_CHILD_QUEUED;
	c->jnext = NULL;
	*sp.qtail = c;
	sp.qtail = &c->jnext;
	pthread_cond_signal(&sp.cv);
	pthread_mutex_unlock(&sp.mu);
	return 0;
}

int
vg_child_running(const struct vg_child *c)
{
	return c->pid > 0 || c->queued;
}

/* Takes c's job back from the spawner (waiting out a spawn under way);
 * its pid if it was spawned, else 0. */
static pid_t
job_cancel(struct vg_child *c)
{
	struct vg_child **q;
	pid_t pid = 0;

	pthread_mutex_lock(&sp.mu);
	while (c->jstate == VG_CHILD_SPAWNING)
		pthread_cond_wait(&sp.cv, &sp.mu);
	q = c->jstate == VG_CHILD_QUEUED ? &sp.queue : &sp.done;
	for (; *q != NULL; q = &(*q)->jnext)
		if (*q == c) {
			*q = c->jnext;
			break;
		}
	if (c->jstate == VG_CHILD_QUEUED) {
		sp.qtail = &sp.queue;
		while (*sp.qtail != NULL)
			sp.qtail = &(*sp.qtail)->jnext;
	} else if (c->jerr == 0)
		pid = c->jpid;
	c->jnext = NULL;
	pthread_mutex_unlock(&sp.mu);
	job_end(c);
	return pid;
}

void
vg_child_stop(struct vg_child *c)
{
	if (c->queued)
		c->pid = job_cancel(c);
	if (c->pid > 0) {
		(void)vg_child_kill_tree(c->pid, SIGKILL);
		/* reaped if it is gone already, else not waited for: a child
		 * stuck in the kernel (a check on a dead NFS mount) outlives
		 * SIGKILL as long as it likes, and a reload's wait for it held
		 * the loop, heartbeats and all; any_cb reaps it when it goes,
		 * an exit nobody claims */
		(void)waitpid(c->pid, NULL, WNOHANG);
		live_del(c);
		c->pid = 0;
		(void)vg_child_sweep();
	}
	ev_timer_stop(c->loop, &c->timer);
	if (c->out_fd != -1) {
		ev_io_stop(c->loop, &c->out);
		close(c->out_fd);
		c->out_fd = -1;
	}
}
