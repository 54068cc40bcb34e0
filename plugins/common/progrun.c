/*
 * A program run synchronously with a deadline: see progrun.h.  The read
 * loop polls the pipe against the deadline; stderr, when kept apart, goes
 * to a memfd so the program cannot block on it and only its tail is read.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create, pipe2 */
#endif
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "progrun.h"

static uint64_t vgc_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int vgc_run_init(struct vgc_run *r, size_t out_max)
{
	r->out = calloc(1, out_max + 1);
	r->len = 0;
	r->out_max = r->out ? out_max : 0;
	return r->out ? 0 : -ENOMEM;
}

void vgc_run_free(struct vgc_run *r)
{
	free(r->out);
	r->out = NULL;
	r->len = 0;
	r->out_max = 0;
}

/* In the forked child: never returns.  Only async-signal-safe calls. */
static void vgc_run_child(const char *path, char *const argv[], char *const envp[],
			  int out_fd, int err_fd)
{
	sigset_t none;
	int nul;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	setpgid(0, 0);
	nul = open("/dev/null", O_RDONLY);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(127);
	execve(path, argv, envp);
	_exit(127);
}

/* Read the output to EOF or the deadline: 0, -ETIMEDOUT or a negative errno. */
static int vgc_run_read(int fd, uint64_t deadline_ms, struct vgc_run *r)
{
	char tmp[4096];

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = vgc_mono_ms();
		ssize_t n;
		int ready;

		if (now >= deadline_ms)
			return -ETIMEDOUT;
		ready = poll(&pfd, 1, (int)(deadline_ms - now));
		if (ready < 0 && errno != EINTR)
			return -errno;
		if (ready <= 0)
			continue; /* nothing to read: a blocking read() would outlast the deadline */
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		if (r->len + (size_t)n > r->out_max)
			n = (ssize_t)(r->out_max - r->len);
		memcpy(r->out + r->len, tmp, (size_t)n);
		r->len += (size_t)n;
		r->out[r->len] = '\0';
	}
}

/* Reap `pid` by the deadline, else kill its group and reap it anyway. */
static void vgc_run_wait(pid_t pid, uint64_t deadline_ms, struct vgc_run *r)
{
	const struct timespec nap = { .tv_nsec = 5 * 1000000 };

	while (!r->timed_out) {
		pid_t w = waitpid(pid, &r->wstatus, WNOHANG);

		if (w == pid || (w < 0 && errno != EINTR))
			return;
		if (vgc_mono_ms() >= deadline_ms)
			r->timed_out = 1;
		else
			nanosleep(&nap, NULL);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, &r->wstatus, 0) < 0 && errno == EINTR)
		;
}

/* The last non-empty line the program wrote to stderr (a memfd). */
static void vgc_run_last_err(int err_fd, struct vgc_run *r)
{
	char buf[4096];
	off_t size = lseek(err_fd, 0, SEEK_END);
	off_t from = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;
	ssize_t n = pread(err_fd, buf, sizeof(buf) - 1, from);
	char *end, *start;

	if (n <= 0)
		return;
	buf[n] = '\0';
	end = buf + n;
	while (end > buf && isspace((unsigned char)end[-1]))
		*--end = '\0';
	start = strrchr(buf, '\n');
	start = start ? start + 1 : buf;
	snprintf(r->last_err, sizeof(r->last_err), "%.*s", (int)sizeof(r->last_err) - 1, start);
}

int vgc_run_sync(struct vgc_run *r, const char *path, char *const argv[], char *const envp[],
		 uint32_t timeout_ms, unsigned int flags)
{
	int pipefd[2] = { -1, -1 }, err_fd = -1, rc = 0;
	uint64_t deadline_ms = vgc_mono_ms() + timeout_ms;
	pid_t pid;

	r->timeout_ms = timeout_ms;
	if (!(flags & VGC_RUN_MERGE_STDERR)) {
		err_fd = memfd_create("vgc-run-stderr", MFD_CLOEXEC);
		if (err_fd < 0) {
			rc = -errno;
			goto out;
		}
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out;
	}
	if (pid == 0)
		vgc_run_child(path, argv, envp, pipefd[1], err_fd >= 0 ? err_fd : pipefd[1]);
	close(pipefd[1]);
	pipefd[1] = -1;
	if (vgc_run_read(pipefd[0], deadline_ms, r) == -ETIMEDOUT)
		r->timed_out = 1;
	vgc_run_wait(pid, deadline_ms, r);
	if (err_fd >= 0)
		vgc_run_last_err(err_fd, r);
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (err_fd >= 0)
		close(err_fd);
	return rc;
}

int vgc_run_check(const struct vgc_run *r, int rc, const char *who, const char *what,
		  const char *detail, char *err, size_t errlen)
{
	if (!detail)
		detail = r->last_err;
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot run %s: %s", who, what, strerror(-rc));
		return rc;
	}
	if (r->timed_out) {
		snprintf(err, errlen, "%s: %s did not finish within %d s", who, what,
			 (int)(r->timeout_ms / 1000));
		return -ETIMEDOUT;
	}
	if (WIFEXITED(r->wstatus) && WEXITSTATUS(r->wstatus) == 0)
		return 0;
	if (WIFSIGNALED(r->wstatus))
		snprintf(err, errlen, "%s: %s killed by signal %d", who, what,
			 WTERMSIG(r->wstatus));
	else
		snprintf(err, errlen, "%s: %s failed with exit code %d%s%s", who, what,
			 WEXITSTATUS(r->wstatus), detail[0] ? ": " : "", detail);
	return -EINVAL;
}
