/*
 * ocf: where an agent lives and the environment it runs in.  vigild's own
 * environment is never passed on: an agent sees the same variables on
 * every node, whatever vigild was started with.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocf.h"

/* Indexed by enum vg_rsc_action. */
static const char *const ocf_action_names[] = {
	[VG_RSC_START] = "start",
	[VG_RSC_STOP] = "stop",
	[VG_RSC_MONITOR] = "monitor",
	[VG_RSC_PROMOTE] = "promote",
	[VG_RSC_DEMOTE] = "demote",
	[VG_RSC_NOTIFY] = "notify",
	[VG_RSC_META_DATA] = "meta-data",
	[VG_RSC_VALIDATE_ALL] = "validate-all",
};

const char *ocf_action_name(uint32_t action)
{
	if (action >= sizeof(ocf_action_names) / sizeof(ocf_action_names[0]))
		return NULL;
	return ocf_action_names[action];
}

/* A provider or type: a plain file name, so it cannot leave resource.d. */
static int ocf_name_ok(const char *s, size_t len, size_t max)
{
	if (len == 0 || len >= max || s[0] == '.')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == ':' || s[i] <= ' ')
			return 0;
	return 1;
}

int ocf_agent_parse(const char *spec, const char *root, struct ocf_agent *a,
		    char *err, size_t errlen)
{
	const char *p = spec, *colon;
	int n;

	memset(a, 0, sizeof(*a));
	if (!strncmp(p, "ocf:", 4))
		p += 4;
	colon = strchr(p, ':');
	if (!colon || !ocf_name_ok(p, (size_t)(colon - p), sizeof(a->provider)) ||
	    !ocf_name_ok(colon + 1, strlen(colon + 1), sizeof(a->type))) {
		snprintf(err, errlen, "agent must be \"provider:type\" or \"ocf:provider:type\" "
			 "(e.g. \"heartbeat:Dummy\"), got \"%s\"", spec);
		return -EINVAL;
	}
	memcpy(a->provider, p, (size_t)(colon - p));
	strcpy(a->type, colon + 1);
	snprintf(a->spec, sizeof(a->spec), "%s:%s", a->provider, a->type);
	n = snprintf(a->root, sizeof(a->root), "%s", root);
	if (n < 0 || (size_t)n >= sizeof(a->root))
		goto too_long;
	n = snprintf(a->path, sizeof(a->path), "%s/resource.d/%s/%s", root, a->provider, a->type);
	if (n < 0 || (size_t)n >= sizeof(a->path))
		goto too_long;
	return 0;
too_long:
	snprintf(err, errlen, "ocf_root \"%s\" is too long", root);
	return -EINVAL;
}

int ocf_agent_check(const struct ocf_agent *a, char *err, size_t errlen)
{
	struct stat st;

	if (stat(a->path, &st) < 0) {
		snprintf(err, errlen, "agent %s not found: %s: %s", a->spec, a->path,
			 strerror(errno));
		return -ENOENT;
	}
	if (!S_ISREG(st.st_mode) || access(a->path, X_OK) < 0) {
		snprintf(err, errlen, "agent %s: %s is not an executable file", a->spec, a->path);
		return -EACCES;
	}
	return 0;
}

void ocf_env_free(struct ocf_env *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
	*e = (struct ocf_env){ 0 };
}

/*
 * Set `prefix``key`=`value`, replacing an earlier value of the same name:
 * the request's variables override the attributes and the defaults.
 */
static int ocf_env_set(struct ocf_env *e, const char *prefix, const char *key, const char *value)
{
	size_t namelen = strlen(prefix) + strlen(key);
	char *s;

	if (asprintf(&s, "%s%s=%s", prefix, key, value ? value : "") < 0)
		return -ENOMEM;
	for (size_t i = 0; i < e->n; i++) {
		if (!strncmp(e->v[i], s, namelen + 1)) {
			free(e->v[i]);
			e->v[i] = s;
			return 0;
		}
	}
	if (e->n + 2 > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 32;
		char **v = realloc(e->v, cap * sizeof(*v));

		if (!v) {
			free(s);
			return -ENOMEM;
		}
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = s;
	e->v[e->n] = NULL;
	return 0;
}

static int ocf_env_fixed(struct ocf_env *e, const struct ocf_agent *a, const char *inst_name)
{
	char dir[PATH_MAX + 32];
	int rc = 0;

	snprintf(dir, sizeof(dir), "%s/lib/heartbeat", a->root);
	rc |= ocf_env_set(e, "", "PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
	rc |= ocf_env_set(e, "", "LANG", "C");
	rc |= ocf_env_set(e, "", "OCF_ROOT", a->root);
	rc |= ocf_env_set(e, "", "OCF_FUNCTIONS_DIR", dir);
	rc |= ocf_env_set(e, "", "OCF_RA_VERSION_MAJOR", "1");
	rc |= ocf_env_set(e, "", "OCF_RA_VERSION_MINOR", "1");
	rc |= ocf_env_set(e, "", "OCF_RESOURCE_INSTANCE", inst_name);
	rc |= ocf_env_set(e, "", "OCF_RESOURCE_TYPE", a->type);
	rc |= ocf_env_set(e, "", "OCF_RESOURCE_PROVIDER", a->provider);
	/* ocf-shellfuncs: "none" sends ocf_log lines to stderr, which we capture. */
	rc |= ocf_env_set(e, "", "HA_LOGFACILITY", "none");
	rc |= ocf_env_set(e, "", "HA_debug", "0");
	return rc ? -ENOMEM : 0;
}

int ocf_env_build(struct ocf_env *e, const struct ocf_agent *a, const struct vg_instance *inst,
		  const struct vg_rsc_request *req, uint32_t timeout_ms)
{
	char num[24];
	int rc;

	*e = (struct ocf_env){ 0 };
	rc = ocf_env_fixed(e, a, inst->name);
	for (size_t i = 0; !rc && i < inst->n_attrs; i++)
		rc = ocf_env_set(e, "OCF_RESKEY_", inst->attrs[i].key, inst->attrs[i].value);
	snprintf(num, sizeof(num), "%u", timeout_ms);
	if (!rc)
		rc = ocf_env_set(e, "OCF_RESKEY_", "CRM_meta_timeout", num);
	snprintf(num, sizeof(num), "%u",
		 req && req->action == VG_RSC_MONITOR ? req->interval_ms : 0);
	if (!rc)
		rc = ocf_env_set(e, "OCF_RESKEY_", "CRM_meta_interval", num);
	for (size_t i = 0; !rc && req && i < req->n_env; i++)
		rc = ocf_env_set(e, "OCF_RESKEY_", req->env[i].key, req->env[i].value);
	if (rc < 0)
		ocf_env_free(e);
	return rc;
}
