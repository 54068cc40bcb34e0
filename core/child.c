/*
 * Children: fork/exec in a new process group, stdin fed and output captured
 * through non-blocking pipes on the loop, reaped on SIGCHLD (signalfd),
 * killed after their timeout: SIGTERM to the group, then SIGKILL.
 */
#include "loop.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_GRACE_MS 2000
#define DEFAULT_OUTPUT_MAX (64 * 1024)

struct vg_child {
	struct vg_loop *loop;
	struct vg_child *prev, *next;
	pid_t pid;
	const void *owner;
	vg_child_cb cb;
	void *arg;
	int in_fd, out_fd;
	struct vg_watch *in_watch, *out_watch;
	unsigned char *in_buf;
	size_t in_len, in_off;
	char *out_buf;
	size_t out_len, out_max;
	struct vg_timer *timeout_timer, *kill_timer;
	uint32_t grace_ms;
	uint64_t start_ms;
	int timed_out;
	int released;   /* owner closed: reap silently */
	int reaped;
	int wstatus;
};

static void list_add(struct vg_loop *loop, struct vg_child *c)
{
	struct vg_child **head = vg_loop_children_head(loop);

	c->next = *head;
	if (c->next)
		c->next->prev = c;
	*head = c;
}

static void list_del(struct vg_loop *loop, struct vg_child *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*vg_loop_children_head(loop) = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

static void close_in(struct vg_child *c)
{
	vg_loop_fd_unwatch(c->loop, c->in_watch);
	c->in_watch = NULL;
	if (c->in_fd >= 0)
		close(c->in_fd);
	c->in_fd = -1;
}

static void close_out(struct vg_child *c)
{
	vg_loop_fd_unwatch(c->loop, c->out_watch);
	c->out_watch = NULL;
	if (c->out_fd >= 0)
		close(c->out_fd);
	c->out_fd = -1;
}

static void stop_timers(struct vg_child *c)
{
	vg_loop_timer_stop(c->loop, c->timeout_timer);
	vg_loop_timer_stop(c->loop, c->kill_timer);
	c->timeout_timer = c->kill_timer = NULL;
}

static void child_free(struct vg_child *c)
{
	close_in(c);
	close_out(c);
	stop_timers(c);
	free(c->in_buf);
	free(c->out_buf);
	free(c);
}

/* Read what the pipe holds now; returns 1 at EOF or error. */
static int drain_output(struct vg_child *c)
{
	char tmp[4096];

	while (c->out_fd >= 0) {
		ssize_t n = read(c->out_fd, tmp, sizeof(tmp));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return 1;
		size_t keep = c->out_max - c->out_len;

		if ((size_t)n < keep)
			keep = (size_t)n;
		memcpy(c->out_buf + c->out_len, tmp, keep);
		c->out_len += keep;
	}
	return 1;
}

static void finish(struct vg_child *c)
{
	struct vg_child_result res = {
		.pid = c->pid,
		.exited = WIFEXITED(c->wstatus),
		.exit_code = WIFEXITED(c->wstatus) ? WEXITSTATUS(c->wstatus) : 0,
		.signal = WIFSIGNALED(c->wstatus) ? WTERMSIG(c->wstatus) : 0,
		.timed_out = c->timed_out,
		.duration_ms = vg_loop_update_time(c->loop) - c->start_ms,
	};

	drain_output(c);
	c->out_buf[c->out_len] = '\0';
	res.output = c->out_buf;
	res.output_len = c->out_len;
	list_del(c->loop, c);
	close_in(c);
	close_out(c);
	stop_timers(c);
	if (!c->released)
		c->cb(c->arg, &res);
	child_free(c);
}

static void output_cb(void *arg, int fd, uint32_t events)
{
	struct vg_child *c = arg;

	if (drain_output(c))
		close_out(c);
}

static void input_cb(void *arg, int fd, uint32_t events)
{
	struct vg_child *c = arg;

	while (c->in_off < c->in_len) {
		ssize_t n = write(fd, c->in_buf + c->in_off, c->in_len - c->in_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0)
			break; /* EPIPE: the child does not read its stdin */
		c->in_off += (size_t)n;
	}
	close_in(c);
}

static void kill_cb(void *arg)
{
	struct vg_child *c = arg;

	c->kill_timer = NULL;
	vg_logf(vg_loop_log(c->loop), VG_LOG_WARNING, "child",
		"pid %d still running %u ms after SIGTERM: sending SIGKILL", (int)c->pid, c->grace_ms);
	killpg(c->pid, SIGKILL);
}

static void terminate(struct vg_child *c)
{
	if (c->reaped || c->kill_timer)
		return;
	killpg(c->pid, SIGTERM);
	if (vg_loop_timer_start(c->loop, c->grace_ms, 0, kill_cb, c, NULL, &c->kill_timer) < 0)
		killpg(c->pid, SIGKILL);
}

static void timeout_cb(void *arg)
{
	struct vg_child *c = arg;

	c->timeout_timer = NULL;
	c->timed_out = 1;
	vg_logf(vg_loop_log(c->loop), VG_LOG_WARNING, "child",
		"pid %d timed out after %llu ms: sending SIGTERM", (int)c->pid,
		(unsigned long long)(vg_loop_now_ms(c->loop) - c->start_ms));
	terminate(c);
}

/* In the forked child: never returns. Only async-signal-safe calls. */
static void exec_child(const struct vg_spawn *req, int in_r, int out_w)
{
	sigset_t none;
	static const char msg[] = "vigild: exec failed\n";

	struct sigaction dfl = { .sa_handler = SIG_DFL };

	/* Nothing of vigild's signal handling is inherited: not the mask, no SIG_IGN. */
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	if (dup2(in_r, 0) < 0 || dup2(out_w, 1) < 0 || dup2(out_w, 2) < 0)
		_exit(127);
	closefrom(3);
	if (req->envp)
		execvpe(req->path, req->argv, req->envp);
	else
		execvp(req->path, req->argv);
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(127);
	_exit(127);
}

static int child_setup(struct vg_loop *loop, struct vg_child *c, const struct vg_spawn *req)
{
	int rc;

	if (req->stdin_len > 0) {
		c->in_buf = malloc(req->stdin_len);
		if (!c->in_buf)
			return -ENOMEM;
		memcpy(c->in_buf, req->stdin_data, req->stdin_len);
		c->in_len = req->stdin_len;
		rc = vg_loop_fd_watch(loop, c->in_fd, VG_FD_WRITE, input_cb, c, NULL, &c->in_watch);
		if (rc < 0)
			return rc;
	} else {
		close_in(c);
	}
	rc = vg_loop_fd_watch(loop, c->out_fd, VG_FD_READ, output_cb, c, NULL, &c->out_watch);
	if (rc < 0)
		return rc;
	if (req->timeout_ms > 0)
		rc = vg_loop_timer_start(loop, req->timeout_ms, 0, timeout_cb, c, NULL,
					 &c->timeout_timer);
	return rc;
}

int vg_loop_spawn(struct vg_loop *loop, const struct vg_spawn *req, vg_child_cb cb, void *arg,
		  const void *owner, struct vg_child **out)
{
	int in[2] = { -1, -1 }, outp[2] = { -1, -1 };
	struct vg_child *c;
	int rc = -ENOMEM;

	if (!req || !req->path || !req->argv || !req->argv[0] || !cb)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = (struct vg_child){ .loop = loop, .owner = owner, .cb = cb, .arg = arg, .in_fd = -1,
				.out_fd = -1,
				.out_max = req->output_max ? req->output_max : DEFAULT_OUTPUT_MAX,
				.grace_ms = req->kill_grace_ms ? req->kill_grace_ms : DEFAULT_GRACE_MS,
				.start_ms = vg_loop_update_time(loop) };
	c->out_buf = malloc(c->out_max + 1);
	if (!c->out_buf)
		goto fail;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0) {
		rc = -errno;
		goto fail;
	}
	c->pid = fork();
	if (c->pid < 0) {
		rc = -errno;
		goto fail;
	}
	if (c->pid == 0)
		exec_child(req, in[0], outp[1]);
	setpgid(c->pid, c->pid); /* also done by the child: whichever runs first */
	close(in[0]);
	close(outp[1]);
	c->in_fd = in[1];
	c->out_fd = outp[0];
	fcntl(c->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(c->out_fd, F_SETFL, O_NONBLOCK);
	list_add(loop, c);
	rc = child_setup(loop, c, req);
	if (rc < 0) {
		/* Already running: kill it and let the reaper free it silently. */
		c->released = 1;
		killpg(c->pid, SIGKILL);
		return rc;
	}
	if (out)
		*out = c;
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (outp[i] >= 0)
			close(outp[i]);
	}
	free(c->out_buf);
	free(c);
	return rc;
}

void vg_loop_child_cancel(struct vg_loop *loop, struct vg_child *c)
{
	if (!c)
		return;
	vg_loop_timer_stop(loop, c->timeout_timer);
	c->timeout_timer = NULL;
	terminate(c);
}

size_t vg_loop_child_count(const struct vg_loop *loop)
{
	size_t n = 0;

	for (struct vg_child *c = *vg_loop_children_head((struct vg_loop *)loop); c; c = c->next)
		n++;
	return n;
}

/* Find one exited child, finish it, start again: callbacks may change the list. */
void vg_children_reap(struct vg_loop *loop)
{
	int more = 1;

	while (more) {
		more = 0;
		for (struct vg_child *c = *vg_loop_children_head(loop); c; c = c->next) {
			pid_t r = waitpid(c->pid, &c->wstatus, WNOHANG);

			if (r == c->pid || (r < 0 && errno == ECHILD)) {
				c->reaped = 1;
				finish(c);
				more = 1;
				break;
			}
		}
	}
}

void vg_loop_release_children(struct vg_loop *loop, const void *owner)
{
	for (struct vg_child *c = *vg_loop_children_head(loop); c; c = c->next) {
		if (c->owner != owner || c->released)
			continue;
		c->released = 1;
		stop_timers(c);
		killpg(c->pid, SIGKILL);
	}
}

void vg_children_free(struct vg_loop *loop)
{
	struct vg_child *c;

	while ((c = *vg_loop_children_head(loop)) != NULL) {
		killpg(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		list_del(loop, c);
		child_free(c);
	}
}
