/*
 * ocf: the configuration check (vg_resource_ops.validate).  It runs before
 * any event loop, so it may block: the agent's meta-data is read with a
 * plain fork/exec and a 10 s deadline (plugins/common/progrun.c), then
 * scanned for its <parameter> elements (plugins/common/metaxml.c).
 * Attributes the agent does not declare and missing required ones are
 * refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "metaxml.h"
#include "ocf.h"
#include "progrun.h"

#define OCF_META_MAX (1024 * 1024) /* bytes of meta-data kept; the rest is dropped */

/* Run `<agent> meta-data`; 0 with r->out the XML, or a line in err. */
static int ocf_meta_fetch(const struct ocf_agent *a, const struct vg_instance *inst,
			  struct vgc_run *r, char *err, size_t errlen)
{
	char *argv[] = { (char *)a->path, "meta-data", NULL };
	char who[sizeof(a->spec) + 8];
	struct ocf_env env;
	int rc;

	rc = vgc_run_init(r, OCF_META_MAX);
	if (rc < 0)
		return rc;
	rc = ocf_env_build(&env, a, inst, NULL, OCF_META_TIMEOUT_MS);
	if (rc < 0)
		return rc;
	/* stderr apart: the XML stays clean, and its last line says why it failed */
	rc = vgc_run_sync(r, a->path, argv, env.v, OCF_META_TIMEOUT_MS, 0);
	ocf_env_free(&env);
	snprintf(who, sizeof(who), "agent %s", a->spec);
	return vgc_run_check(r, rc, who, "meta-data", NULL, err, errlen);
}

/* "(it has: a, b, c)" or "(it has no parameters)", cut to fit. */
static void ocf_meta_names(const struct vgc_meta *m, char *buf, size_t len)
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
static const char *ocf_value_problem(const struct vgc_meta_param *p, const char *v)
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
			   const struct vgc_meta *m, char *err, size_t errlen)
{
	char names[400];

	for (size_t i = 0; i < inst->n_attrs; i++) {
		const struct vg_attr *at = &inst->attrs[i];
		const struct vgc_meta_param *p = vgc_meta_find(m, at->key);
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
	struct vgc_meta m = { 0 };
	struct vgc_run r = { 0 };
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
	rc = vgc_meta_parse(r.out, &m);
	if (rc == -EINVAL)
		snprintf(err, errlen, "agent %s: meta-data is not OCF XML (no <resource-agent>)",
			 a.spec);
	if (!rc)
		rc = ocf_check_attrs(inst, &a, &m, err, errlen);
out:
	vgc_meta_free(&m);
	vgc_run_free(&r);
	return rc;
}
