/*
 * ocf: the configuration check (vg_resource_ops.validate).  It runs before
 * any event loop, so it may block: the agent's meta-data is read with a
 * plain fork/exec and a 10 s deadline, then scanned for its <parameter>
 * elements (a small tolerant scanner, not an XML library: meta-data is
 * flat and machine-written).  Attributes the agent does not declare and
 * missing required ones are refused.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
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

#include "ocf.h"

#define OCF_META_MAX (1024 * 1024) /* bytes of meta-data kept; the rest is dropped */

/* One <parameter> of the agent's meta-data. */
struct ocf_meta_param {
	char name[64];
	int required;
	char type[16]; /* <content type=...>: "string", "integer", "boolean", ... */
};

struct ocf_meta {
	struct ocf_meta_param *p; /* malloc'd */
	size_t n;
};

/* What one synchronous meta-data run left. */
struct ocf_run {
	char *out;           /* stdout, NUL-terminated, malloc'd */
	size_t len;
	int wstatus;
	int timed_out;
	char last_err[256];  /* last non-empty stderr line */
};

static uint64_t ocf_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* In the forked child: never returns.  Only async-signal-safe calls. */
static void ocf_run_child(const struct ocf_agent *a, char *const *envp, int out_fd, int err_fd)
{
	char *argv[] = { (char *)a->path, "meta-data", NULL };
	sigset_t none;
	int nul;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	setpgid(0, 0);
	nul = open("/dev/null", O_RDONLY);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(127);
	execve(a->path, argv, envp);
	_exit(127);
}

/* Read stdout to EOF or the deadline: 0, -ETIMEDOUT or a negative errno. */
static int ocf_run_read(int fd, uint64_t deadline_ms, struct ocf_run *r)
{
	char tmp[4096];

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = ocf_mono_ms();
		ssize_t n;

		if (now >= deadline_ms)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)(deadline_ms - now)) < 0 && errno != EINTR)
			return -errno;
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		if (r->len + (size_t)n > OCF_META_MAX)
			n = (ssize_t)(OCF_META_MAX - r->len);
		memcpy(r->out + r->len, tmp, (size_t)n);
		r->len += (size_t)n;
		r->out[r->len] = '\0';
	}
}

/* Reap `pid` by the deadline, else kill its group and reap it anyway. */
static void ocf_run_wait(pid_t pid, uint64_t deadline_ms, struct ocf_run *r)
{
	const struct timespec nap = { .tv_nsec = 5 * 1000000 };

	while (!r->timed_out) {
		pid_t w = waitpid(pid, &r->wstatus, WNOHANG);

		if (w == pid || (w < 0 && errno != EINTR))
			return;
		if (ocf_mono_ms() >= deadline_ms)
			r->timed_out = 1;
		else
			nanosleep(&nap, NULL);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, &r->wstatus, 0) < 0 && errno == EINTR)
		;
}

/* The last non-empty line the agent wrote to stderr (a memfd). */
static void ocf_run_last_err(int err_fd, struct ocf_run *r)
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

static int ocf_run_fork(const struct ocf_agent *a, char *const *envp, struct ocf_run *r)
{
	int pipefd[2] = { -1, -1 }, err_fd = -1, rc = 0;
	uint64_t deadline_ms = ocf_mono_ms() + OCF_META_TIMEOUT_MS;
	pid_t pid;

	err_fd = memfd_create("ocf-meta-data-stderr", MFD_CLOEXEC);
	if (err_fd < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out;
	}
	if (pid == 0)
		ocf_run_child(a, envp, pipefd[1], err_fd);
	close(pipefd[1]);
	pipefd[1] = -1;
	if (ocf_run_read(pipefd[0], deadline_ms, r) == -ETIMEDOUT)
		r->timed_out = 1;
	ocf_run_wait(pid, deadline_ms, r);
	ocf_run_last_err(err_fd, r);
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (err_fd >= 0)
		close(err_fd);
	return rc;
}

/* Run `<agent> meta-data`; 0 with r->out the XML, or a line in err. */
static int ocf_meta_fetch(const struct ocf_agent *a, const struct vg_instance *inst,
			  struct ocf_run *r, char *err, size_t errlen)
{
	struct ocf_env env;
	int rc;

	r->out = calloc(1, OCF_META_MAX + 1);
	if (!r->out)
		return -ENOMEM;
	rc = ocf_env_build(&env, a, inst, NULL, OCF_META_TIMEOUT_MS);
	if (rc < 0)
		return rc;
	rc = ocf_run_fork(a, env.v, r);
	ocf_env_free(&env);
	if (rc < 0) {
		snprintf(err, errlen, "agent %s: cannot run meta-data: %s", a->spec, strerror(-rc));
		return rc;
	}
	if (r->timed_out) {
		snprintf(err, errlen, "agent %s: meta-data did not finish within %d s", a->spec,
			 OCF_META_TIMEOUT_MS / 1000);
		return -ETIMEDOUT;
	}
	if (WIFEXITED(r->wstatus) && WEXITSTATUS(r->wstatus) == 0)
		return 0;
	if (WIFSIGNALED(r->wstatus))
		snprintf(err, errlen, "agent %s: meta-data killed by signal %d", a->spec,
			 WTERMSIG(r->wstatus));
	else
		snprintf(err, errlen, "agent %s: meta-data failed with exit code %d%s%s", a->spec,
			 WEXITSTATUS(r->wstatus), r->last_err[0] ? ": " : "", r->last_err);
	return -EINVAL;
}

/* `p` starts the tag <name ...>, <name> or <name/>. */
static int ocf_tag_is(const char *p, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(p + 1, name, n) &&
	       (isspace((unsigned char)p[1 + n]) || p[1 + n] == '>' || p[1 + n] == '/');
}

/* Value of attribute `name` in the tag [tag, end): 1 and copied to val, or 0. */
static int ocf_xml_attr(const char *tag, const char *end, const char *name,
			char *val, size_t vallen)
{
	size_t n = strlen(name);

	for (const char *p = tag + 1; p + n < end; p++) {
		const char *q = p + n;
		size_t len = 0;
		char quote;

		if (!isspace((unsigned char)p[-1]) || strncmp(p, name, n))
			continue;
		while (q < end && isspace((unsigned char)*q))
			q++;
		if (q >= end || *q++ != '=')
			continue;
		while (q < end && isspace((unsigned char)*q))
			q++;
		if (q >= end || (*q != '"' && *q != '\''))
			continue;
		quote = *q++;
		while (q + len < end && q[len] != quote)
			len++;
		snprintf(val, vallen, "%.*s", (int)len, q);
		return 1;
	}
	return 0;
}

/* Add one <parameter ...> tag: 1 when added, 0 when it has no name. */
static int ocf_meta_add(struct ocf_meta *m, const char *tag, const char *end)
{
	struct ocf_meta_param *p, *grown;
	char req[16] = "";

	grown = realloc(m->p, (m->n + 1) * sizeof(*m->p));
	if (!grown)
		return -ENOMEM;
	m->p = grown;
	p = &m->p[m->n];
	memset(p, 0, sizeof(*p));
	if (!ocf_xml_attr(tag, end, "name", p->name, sizeof(p->name)) || !p->name[0])
		return 0; /* nameless: nothing anybody could set */
	ocf_xml_attr(tag, end, "required", req, sizeof(req));
	p->required = !strcmp(req, "1") || !strcasecmp(req, "true") || !strcasecmp(req, "yes");
	m->n++;
	return 1;
}

/* Collect the <parameter> elements; comments and CDATA are skipped. */
static int ocf_meta_parse(const char *xml, struct ocf_meta *m)
{
	struct ocf_meta_param *cur = NULL;
	const char *p = xml, *end;
	int rc;

	if (!strstr(xml, "<resource-agent"))
		return -EINVAL;
	while ((p = strchr(p, '<'))) {
		if (!strncmp(p, "<!--", 4) || !strncmp(p, "<![CDATA[", 9)) {
			end = strstr(p, p[2] == '-' ? "-->" : "]]>");
			if (!end)
				break;
			p = end + 1;
			continue;
		}
		end = strchr(p, '>');
		if (!end)
			break;
		if (ocf_tag_is(p, "parameter")) {
			rc = ocf_meta_add(m, p, end);
			if (rc < 0)
				return rc;
			cur = rc ? &m->p[m->n - 1] : NULL;
		} else if (ocf_tag_is(p, "/parameter")) {
			cur = NULL;
		} else if (cur && ocf_tag_is(p, "content")) {
			ocf_xml_attr(p, end, "type", cur->type, sizeof(cur->type));
		}
		p = end + 1;
	}
	return 0;
}

static const struct ocf_meta_param *ocf_meta_find(const struct ocf_meta *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->p[i].name, name))
			return &m->p[i];
	return NULL;
}

/* "(it has: a, b, c)" or "(it has no parameters)", cut to fit. */
static void ocf_meta_names(const struct ocf_meta *m, char *buf, size_t len)
{
	size_t off;

	if (m->n == 0) {
		snprintf(buf, len, "(it has no parameters)");
		return;
	}
	off = (size_t)snprintf(buf, len, "(it has:");
	for (size_t i = 0; i < m->n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s %s", i ? "," : "", m->p[i].name);
	if (off < len)
		snprintf(buf + off, len - off, ")");
}

/* Values of typed parameters, as agents (ocf_is_true, shell arithmetic) read them. */
static const char *ocf_value_problem(const struct ocf_meta_param *p, const char *v)
{
	static const char *const bools[] = {
		"1", "0", "true", "false", "yes", "no", "on", "off", "y", "n", NULL,
	};
	char *end;

	if (!strcmp(p->type, "integer")) {
		errno = 0;
		(void)strtoll(v, &end, 10);
		if (!*v || *end || errno)
			return "an integer";
	} else if (!strcmp(p->type, "boolean")) {
		for (size_t i = 0; bools[i]; i++)
			if (!strcasecmp(v, bools[i]))
				return NULL;
		return "a boolean (true/false, yes/no, 1/0)";
	}
	return NULL;
}

static int ocf_check_attrs(const struct vg_instance *inst, const struct ocf_agent *a,
			   const struct ocf_meta *m, char *err, size_t errlen)
{
	char names[400];

	for (size_t i = 0; i < inst->n_attrs; i++) {
		const struct vg_attr *at = &inst->attrs[i];
		const struct ocf_meta_param *p = ocf_meta_find(m, at->key);
		const char *want;

		if (!p) {
			ocf_meta_names(m, names, sizeof(names));
			snprintf(err, errlen, "attribute \"%s\" is not a parameter of %s %s",
				 at->key, a->spec, names);
			return -EINVAL;
		}
		want = ocf_value_problem(p, at->value);
		if (want) {
			snprintf(err, errlen, "attribute \"%s\" of %s must be %s, got \"%s\"",
				 at->key, a->spec, want, at->value);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < m->n; i++) {
		size_t j;

		for (j = 0; j < inst->n_attrs && strcmp(inst->attrs[j].key, m->p[i].name); j++)
			;
		if (m->p[i].required && j == inst->n_attrs) {
			snprintf(err, errlen, "attribute \"%s\" is required by %s and missing",
				 m->p[i].name, a->spec);
			return -EINVAL;
		}
	}
	return 0;
}

int ocf_validate(const struct vg_instance *inst, char *err, size_t errlen)
{
	struct ocf_agent a;
	struct ocf_meta m = { 0 };
	struct ocf_run r = { 0 };
	int rc;

	rc = ocf_agent_parse(inst->params[OCF_P_AGENT].s, inst->params[OCF_P_OCF_ROOT].s,
			     &a, err, errlen);
	if (!rc)
		rc = ocf_agent_check(&a, err, errlen);
	if (rc < 0)
		return rc;
	rc = ocf_meta_fetch(&a, inst, &r, err, errlen);
	if (rc < 0)
		goto out;
	rc = ocf_meta_parse(r.out, &m);
	if (rc == -EINVAL)
		snprintf(err, errlen, "agent %s: meta-data is not OCF XML (no <resource-agent>)",
			 a.spec);
	if (!rc)
		rc = ocf_check_attrs(inst, &a, &m, err, errlen);
out:
	free(m.p);
	free(r.out);
	return rc;
}
