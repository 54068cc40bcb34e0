/*
 * agent: what goes into a fence agent and what comes out of it, following
 * the fence-agents API (FenceAgentAPI.md): name=value lines on stdin; exit
 * 0 for success; for status 0 = on, 2 = off, anything else an error.
 * Errors are one line on stderr, which vigil captures with stdout.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"

/* Indexed by enum vg_fence_action. */
static const char *const ag_action_names[] = {
	[VG_FENCE_OFF] = "off",
	[VG_FENCE_ON] = "on",
	[VG_FENCE_REBOOT] = "reboot",
	[VG_FENCE_STATUS] = "status",
	[VG_FENCE_LIST] = "list",
	[VG_FENCE_MONITOR] = "monitor",
};

const char *ag_action_name(uint32_t action)
{
	if (action >= sizeof(ag_action_names) / sizeof(ag_action_names[0]))
		return NULL;
	return ag_action_names[action];
}

int ag_attr_reserved(const char *name)
{
	return !strcmp(name, "action") || !strcmp(name, "plug") || !strcmp(name, "port") ||
	       !strcmp(name, "option");
}

/* A plain file name: it cannot leave agent_dir. */
static int ag_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= sizeof(((struct ag_agent *)0)->name) || s[0] == '.')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || s[i] <= ' ')
			return 0;
	return 1;
}

int ag_agent_resolve(const char *spec, const char *dir, struct ag_agent *a,
		     char *err, size_t errlen)
{
	const char *base;
	int n;

	memset(a, 0, sizeof(*a));
	if (spec[0] == '/') {
		n = snprintf(a->path, sizeof(a->path), "%s", spec);
	} else if (ag_name_ok(spec)) {
		n = snprintf(a->path, sizeof(a->path), "%s/%s", dir, spec);
	} else {
		snprintf(err, errlen, "agent must be a program name in agent_dir (e.g. "
			 "\"fence_ipmilan\") or an absolute path, got \"%s\"", spec);
		return -EINVAL;
	}
	if (n < 0 || (size_t)n >= sizeof(a->path)) {
		snprintf(err, errlen, "path of agent \"%s\" is too long", spec);
		return -EINVAL;
	}
	base = strrchr(a->path, '/');
	base = base ? base + 1 : a->path;
	if (strlen(base) >= sizeof(a->name)) {
		snprintf(err, errlen, "agent name \"%.64s...\" is too long", base);
		return -EINVAL;
	}
	memcpy(a->name, base, strlen(base) + 1);
	return 0;
}

int ag_agent_check(const struct ag_agent *a, char *err, size_t errlen)
{
	struct stat st;

	if (stat(a->path, &st) < 0) {
		int e = errno;

		snprintf(err, errlen, "agent %s not found: %s: %s", a->name, a->path, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode) || access(a->path, X_OK) < 0) {
		snprintf(err, errlen, "agent %s: %s is not an executable file", a->name, a->path);
		return -EACCES;
	}
	return 0;
}

/* Append "name=value\n"; a newline inside would start another option. */
static int ag_line_add(char **buf, size_t *len, size_t *cap, const char *k, const char *v)
{
	size_t need = strlen(k) + strlen(v) + 3;
	char *p;

	if (strchr(k, '\n') || strchr(v, '\n'))
		return -EINVAL;
	if (*len + need > *cap) {
		size_t ncap = (*cap + need) * 2;
		char *grown = realloc(*buf, ncap);

		if (!grown)
			return -ENOMEM;
		*buf = grown;
		*cap = ncap;
	}
	p = *buf + *len;
	*len += (size_t)sprintf(p, "%s=%s\n", k, v);
	return 0;
}

char *ag_stdin_build(const char *action, const char *plug, const struct vg_instance *inst,
		     int verbose, size_t *len)
{
	size_t cap = 256, n = 0;
	char *buf = malloc(cap);
	int rc;

	if (!buf)
		return NULL;
	rc = ag_line_add(&buf, &n, &cap, "action", action);
	/* plug for current agents, port for those older than the rename */
	if (!rc && plug)
		rc = ag_line_add(&buf, &n, &cap, "plug", plug);
	if (!rc && plug)
		rc = ag_line_add(&buf, &n, &cap, "port", plug);
	for (size_t i = 0; !rc && i < inst->n_attrs; i++)
		if (!ag_attr_reserved(inst->attrs[i].key))
			rc = ag_line_add(&buf, &n, &cap, inst->attrs[i].key, inst->attrs[i].value);
	if (!rc && verbose)
		rc = ag_line_add(&buf, &n, &cap, "verbose", "1");
	if (rc < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Lines that say nothing about the fencing: Python's warnings about itself. */
static int ag_line_noise(const char *s, size_t len)
{
	char tmp[160];

	if (len == 0 || isspace((unsigned char)s[0]))
		return 1;
	snprintf(tmp, sizeof(tmp), "%.*s", (int)len, s);
	return strstr(tmp, "Warning: ") != NULL || !strncmp(tmp, "WARNING:root:", 13);
}

/* Drop a logging prefix: "2024-01-02 03:04:05,678 ERROR: x" -> "x". */
static const char *ag_line_strip(const char *s, size_t *len)
{
	static const char *const tags[] = { "ERROR: ", "CRITICAL: ", NULL };
	char tmp[512];

	snprintf(tmp, sizeof(tmp), "%.*s", (int)*len, s);
	for (size_t i = 0; tags[i]; i++) {
		char *t = strstr(tmp, tags[i]);

		if (t) {
			size_t skip = (size_t)(t - tmp) + strlen(tags[i]);

			*len -= skip;
			return s + skip;
		}
	}
	return s;
}

void ag_last_line(const char *out, char *buf, size_t len)
{
	const char *line = out, *last = NULL, *nl;
	size_t last_len = 0;

	buf[0] = '\0';
	for (; *line; line = nl + 1) {
		size_t n;

		nl = strchr(line, '\n');
		n = nl ? (size_t)(nl - line) : strlen(line);
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			n--;
		if (!ag_line_noise(line, n)) {
			last = line;
			last_len = n;
		}
		if (!nl)
			break;
	}
	if (!last)
		return;
	last = ag_line_strip(last, &last_len);
	snprintf(buf, len, "%.*s", (int)last_len, last);
}

/* fence-agents exit 1 for every failure; its message tells which (fencing.py fail()). */
static int ag_errno_of(const char *line)
{
	static const struct { const char *text; int err; } map[] = {
		{ "Unable to connect/login", -EACCES },
		{ "privileges", -EPERM },
		{ "timed out", -ETIMEDOUT },
		{ "Timed out", -ETIMEDOUT },
		{ "Connection lost", -ECONNRESET },
		{ "Connection refused", -ECONNREFUSED },
		{ "No route to host", -EHOSTUNREACH },
		{ "set login password", -EINVAL },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strstr(line, map[i].text))
			return map[i].err;
	return -EIO;
}

/*
 * A plug line of `list`: "plug" or "plug,alias".  Everything else an agent
 * prints there (notices, warnings, logging) has a ':' or a space before
 * any ','.
 */
static int ag_plug_line(const char *s, size_t n)
{
	size_t i;

	if (ag_line_noise(s, n))
		return 0;
	for (i = 0; i < n && s[i] != ','; i++)
		if (s[i] == ':' || isspace((unsigned char)s[i]))
			return 0;
	return i > 0;
}

static char *ag_plug_list(const char *out)
{
	size_t cap = strlen(out) + 1, n = 0;
	char *list = malloc(cap);
	const char *line = out, *nl;

	if (!list)
		return NULL;
	for (; *line; line = nl + 1) {
		size_t len, plug;

		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		if (ag_plug_line(line, len)) {
			for (plug = 0; plug < len && line[plug] != ','; plug++)
				;
			n += (size_t)sprintf(list + n, "%s%.*s", n ? "\n" : "", (int)plug, line);
		}
		if (!nl)
			break;
	}
	list[n] = '\0';
	return list;
}

static int ag_power_after(uint32_t action)
{
	switch (action) {
	case VG_FENCE_OFF:
		return VG_POWER_OFF;
	case VG_FENCE_ON:
	case VG_FENCE_REBOOT:
	case VG_FENCE_STATUS:
		return VG_POWER_ON;
	default:
		return VG_POWER_UNKNOWN;
	}
}

int ag_outcome_map(uint32_t action, const struct vg_child_result *res, struct ag_outcome *o)
{
	const char *out = res->output ? res->output : "";
	char line[512];

	ag_last_line(out, line, sizeof(line));
	o->power = VG_POWER_UNKNOWN;
	o->status = 0;
	if (res->timed_out) {
		o->status = -ETIMEDOUT;
		snprintf(line, sizeof(line), "timed out after %llu ms",
			 (unsigned long long)res->duration_ms);
	} else if (!res->exited) {
		o->status = -EINTR;
		snprintf(line, sizeof(line), "killed by signal %d", res->signal);
	} else if (res->exit_code == 0) {
		o->power = ag_power_after(action);
	} else if (action == VG_FENCE_STATUS && res->exit_code == 2) {
		o->power = VG_POWER_OFF;
	} else if (res->exit_code == 126 || res->exit_code == 127) {
		o->status = res->exit_code == 126 ? -EACCES : -ENOENT;
	} else {
		o->status = ag_errno_of(line);
		if (!line[0])
			snprintf(line, sizeof(line), "exit code %d", res->exit_code);
	}
	if (action == VG_FENCE_LIST && o->status == 0)
		o->detail = ag_plug_list(out);
	else
		o->detail = strdup(line);
	return o->detail ? 0 : -ENOMEM;
}
