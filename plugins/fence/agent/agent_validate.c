/*
 * agent: the configuration check (vg_fence_ops.validate).  It runs before
 * any event loop, so it may block: `<agent> -o metadata` is run with a
 * plain fork/exec (no shell) and a 10 s deadline (plugins/common/progrun.c),
 * its XML scanned (plugins/common/metaxml.c), and the instance's attributes
 * checked against it: unknown names, values of typed parameters, missing
 * required ones, and the actions vigil needs.  fence-agents ignore an
 * unknown option with a mere warning, so a typo would otherwise surface
 * only when fencing fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent.h"
#include "metaxml.h"
#include "progrun.h"

#define AG_NAMES_LISTED 20 /* parameter names shown when refusing an unknown one */

/* Run `<agent> -o metadata`; 0 with r->out the XML, or a line in err. */
static int ag_meta_fetch(const struct ag_agent *a, struct vgc_run *r, char *err, size_t errlen)
{
	char *argv[] = { (char *)a->path, "-o", "metadata", NULL };
	char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
			 "PYTHONWARNINGS=ignore", NULL };
	char who[sizeof(a->name) + 8], line[256];
	int rc;

	rc = vgc_run_init(r, AG_OUTPUT_MAX);
	if (rc < 0)
		return rc;
	/* fence-agents write errors among their output: one stream, and its
	 * last line that is not noise says why */
	rc = vgc_run_sync(r, a->path, argv, envp, AG_META_TIMEOUT_MS, VGC_RUN_MERGE_STDERR);
	ag_last_line(r->out, line, sizeof(line));
	snprintf(who, sizeof(who), "agent %s", a->name);
	return vgc_run_check(r, rc, who, "metadata", line, err, errlen);
}

/* "(it has: a, b, c, ...)": current names only, the first AG_NAMES_LISTED. */
static void ag_meta_names(const struct vgc_meta *m, char *buf, size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "(it has:"), shown = 0;

	for (size_t i = 0; i < m->n && off < len; i++) {
		const struct vgc_meta_param *p = &m->p[i];

		if (p->deprecated || ag_attr_reserved(p->name))
			continue;
		if (shown++ == AG_NAMES_LISTED) {
			off += (size_t)snprintf(buf + off, len - off, ", ...");
			break;
		}
		off += (size_t)snprintf(buf + off, len - off, "%s %s", shown > 1 ? "," : "",
					p->name);
	}
	if (off < len)
		snprintf(buf + off, len - off, ")");
}

/* What a typed value must look like, as fencing.py reads it; NULL when fine. */
static const char *ag_value_problem(const struct vgc_meta_param *p, const char *v)
{
	static const char *const bools[] = {
		"1", "0", "true", "false", "yes", "no", "on", "off", NULL,
	};
	char *end, word[80];

	if (!strcmp(p->type, "integer")) {
		errno = 0;
		(void)strtoll(v, &end, 10);
		if (!*v || *end || errno)
			return "an integer";
	} else if (!strcmp(p->type, "second")) {
		errno = 0;
		if (!*v || strtod(v, &end) < 0 || *end || errno)
			return "a number of seconds";
	} else if (!strcmp(p->type, "boolean")) {
		for (size_t i = 0; bools[i]; i++)
			if (!strcasecmp(v, bools[i]))
				return NULL;
		return "a boolean (1/0, true/false, yes/no, on/off)";
	} else if (!strcmp(p->type, "select") && p->options) {
		snprintf(word, sizeof(word), "|%s|", v);
		if (!strstr(p->options, word))
			return "one of its options";
	}
	return NULL;
}

/* A "|a|b|" set as "a, b". */
static void ag_set_text(const char *set, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (const char *p = set; *p && off + 3 < len; p++) {
		if (*p != '|')
			buf[off++] = *p;
		else if (off > 0 && p[1])
			off += (size_t)snprintf(buf + off, len - off, ", ");
	}
	buf[off < len ? off : len - 1] = '\0';
}

static int ag_check_one(const struct vg_attr *at, const struct ag_agent *a,
			const struct vgc_meta *m, char *err, size_t errlen)
{
	const struct vgc_meta_param *p = vgc_meta_find(m, at->key);
	const char *want;
	char names[400];

	if (ag_attr_reserved(at->key)) {
		snprintf(err, errlen, "attribute \"%s\" is set by vigil for each request%s",
			 at->key, strcmp(at->key, "action") && strcmp(at->key, "option") ?
			 ": use the plug parameter" : "");
		return -EINVAL;
	}
	if (strchr(at->value, '\n')) {
		snprintf(err, errlen, "attribute \"%s\" must be one line (the agent reads "
			 "name=value lines)", at->key);
		return -EINVAL;
	}
	if (!p) {
		ag_meta_names(m, names, sizeof(names));
		snprintf(err, errlen, "attribute \"%s\" is not a parameter of %s %s",
			 at->key, a->name, names);
		return -EINVAL;
	}
	want = ag_value_problem(p, at->value);
	if (want && p->options) {
		ag_set_text(p->options, names, sizeof(names));
		snprintf(err, errlen, "attribute \"%s\" of %s must be one of %s, got \"%s\"",
			 at->key, a->name, names, at->value);
		return -EINVAL;
	}
	if (want) {
		snprintf(err, errlen, "attribute \"%s\" of %s must be %s, got \"%s\"",
			 at->key, a->name, want, at->value);
		return -EINVAL;
	}
	return 0;
}

static int ag_attr_given(const struct vg_instance *inst, const char *name)
{
	for (size_t i = 0; name[0] && i < inst->n_attrs; i++)
		if (!strcmp(inst->attrs[i].key, name))
			return 1;
	return 0;
}

/*
 * A required parameter is missing only when nothing stands for it: it is
 * not given, nor the older name it obsoletes, nor a newer name obsoleting
 * it; it has no default; vigil does not write it (action, plug); and it is
 * not itself a deprecated alias (its successor carries the requirement).
 */
static int ag_required_missing(const struct vg_instance *inst, const struct vgc_meta *m,
			       const struct vgc_meta_param *p)
{
	if (!p->required || p->deprecated || p->has_default || ag_attr_reserved(p->name))
		return 0;
	if (ag_attr_given(inst, p->name) || ag_attr_given(inst, p->obsoletes))
		return 0;
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->p[i].obsoletes, p->name) && ag_attr_given(inst, m->p[i].name))
			return 0;
	return 1;
}

static int ag_check_attrs(const struct vg_instance *inst, const struct ag_agent *a,
			  const struct vgc_meta *m, char *err, size_t errlen)
{
	static const char *const needed[] = { "off", "on", "status", NULL };
	char actions[sizeof(m->actions) * 2];
	int rc;

	for (size_t i = 0; i < inst->n_attrs; i++) {
		rc = ag_check_one(&inst->attrs[i], a, m, err, errlen);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < m->n; i++) {
		if (ag_required_missing(inst, m, &m->p[i])) {
			snprintf(err, errlen, "attribute \"%s\" is required by %s and missing",
				 m->p[i].name, a->name);
			return -EINVAL;
		}
	}
	for (size_t i = 0; needed[i]; i++) {
		if (!vgc_meta_has_action(m, needed[i])) {
			ag_set_text(m->actions, actions, sizeof(actions));
			snprintf(err, errlen, "agent %s has no action \"%s\" (it has: %s); vigil "
				 "needs off, on and status", a->name, needed[i], actions);
			return -EINVAL;
		}
	}
	return 0;
}

int ag_validate(const struct vg_instance *inst, char *err, size_t errlen)
{
	struct ag_agent a;
	struct vgc_meta m = { 0 };
	struct vgc_run r = { 0 };
	int rc;

	rc = ag_agent_resolve(inst->params[AG_P_AGENT].s, inst->params[AG_P_AGENT_DIR].s,
			      &a, err, errlen);
	if (!rc)
		rc = ag_agent_check(&a, err, errlen);
	if (rc < 0)
		return rc;
	rc = ag_meta_fetch(&a, &r, err, errlen);
	if (rc < 0)
		goto out;
	rc = vgc_meta_parse(r.out, &m);
	if (rc == -EINVAL)
		snprintf(err, errlen, "agent %s: metadata is not fence agent XML "
			 "(no <resource-agent>)", a.name);
	if (!rc)
		rc = ag_check_attrs(inst, &a, &m, err, errlen);
out:
	vgc_meta_free(&m);
	vgc_run_free(&r);
	return rc;
}
