/*
 * child: fork, set up, time out, reap; the output read line by line.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"

#define DRAIN_READS	64	/* at its exit: what is left in the pipe */

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
	if (c->killed == 0 && c->grace > 0) {
		kill(-c->pid, SIGTERM);
		c->killed = 1;
		ev_timer_set(w, (double)c->grace / 1e9, 0.);
		ev_timer_start(loop, w);
	} else {
		kill(-c->pid, SIGKILL);
		c->killed = 2;
	}
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
	/* anything it left in its process group goes with it */
	kill(-c->pid, SIGKILL);
	c->pid = 0;
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

/* In the child: everything but fn. */
static void
child_setup(int out)
{
	sigset_t none;
	int fd;

	setpgid(0, 0);		/* both sides: no race with kill(-pid) */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (out != -1 && out <= 2 && (out = fcntl(out, F_DUPFD, 3)) == -1)
		_exit(126);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, 0);
		if (out == -1)
			dup2(fd, 1);
		if (fd > 2)
			close(fd);
	}
	if (out != -1) {
		dup2(out, 1);
		dup2(out, 2);
	}
	(void)close_range(3, ~0U, 0);
	/* systemd's notify socket and watchdog are the agent's alone */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

int
vg_child_start(struct vg_child *c, void (*fn)(void *), void *fnarg,
    vg_ns timeout, vg_ns grace)
{
	int p[2] = { -1, -1 }, e;
	pid_t pid;

	if (c->ops->line != NULL && pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		e = errno;
		if (p[0] != -1) {
			close(p[0]);
			close(p[1]);
		}
		errno = e;
		return -1;
	}
	if (pid == 0) {
		child_setup(p[1]);
		fn(fnarg);
		_exit(127);
	}
	setpgid(pid, pid);
	c->pid = pid;
	c->killed = 0;
	c->grace = grace;
	c->linelen = 0;
	c->out_fd = p[0];
	ev_child_set(&c->cw, pid, 0);
	ev_child_start(c->loop, &c->cw);
	if (p[0] != -1) {
		close(p[1]);
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
		kill(-c->pid, SIGKILL);
		(void)waitpid(c->pid, NULL, 0);	/* ECHILD if reaped */
		c->pid = 0;
	}
	ev_child_stop(c->loop, &c->cw);
	ev_timer_stop(c->loop, &c->timer);
	if (c->out_fd != -1) {
		ev_io_stop(c->loop, &c->out);
		close(c->out_fd);
		c->out_fd = -1;
	}
}
