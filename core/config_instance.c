/*
 * Plugin instances in the configuration (links, resources, fence
 * devices): the plugin is looked up in the registry, its kind checked,
 * and each `params` value checked and typed against the plugin's
 * declared table by vg_param_parse(), the one place that does it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_private.h"
#include "plugin.h"

static void cfg_plugin_names(const struct vg_registry *reg, char *buf, size_t len)
{
	size_t used = 0;

	snprintf(buf, len, "none");
	for (size_t i = 0; reg && i < reg->n_plugins && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
				 reg->plugins[i]->name);
}

static int cfg_instance_plugin(struct vg_config_ctx *c, const config_setting_t *e,
			       struct vg_instance_conf *in, uint32_t kind, const char *noun)
{
	const config_setting_t *s = config_setting_get_member(e, "plugin");
	const struct vg_plugin_info *info = c->reg ? vg_registry_find(c->reg, in->plugin) : NULL;
	const char *have, *want = vg_kind_name(kind);
	char names[512];

	if (!info) {
		cfg_plugin_names(c->reg, names, sizeof(names));
		return vg_config_fail(c, s, "%s \"%s\": no plugin named \"%s\" (loaded: %s)", noun,
				      in->name, in->plugin, names);
	}
	if (info->kind != kind) {
		have = vg_kind_name(info->kind);
		return vg_config_fail(c, s, "%s \"%s\": plugin \"%s\" must be a %s plugin, got a %s plugin",
				      noun, in->name, in->plugin, want ? want : "?", have ? have : "?");
	}
	in->info = info;
	return 0;
}

/*
 * A libconfig scalar as text: the value as the user would have quoted it.
 * Floats are refused for params (no param type takes one).
 */
static int cfg_scalar_text(const config_setting_t *s, int floats, char *buf, size_t len,
			   const char **text)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		*text = config_setting_get_string(s);
		return 0;
	case CONFIG_TYPE_BOOL:
		*text = config_setting_get_bool(s) ? "true" : "false";
		return 0;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		snprintf(buf, len, "%lld", config_setting_get_int64(s));
		*text = buf;
		return 0;
	case CONFIG_TYPE_FLOAT:
		if (!floats)
			return -EINVAL;
		snprintf(buf, len, "%g", config_setting_get_float(s));
		*text = buf;
		return 0;
	default:
		return -EINVAL;
	}
}

static int cfg_param_unknown(struct vg_config_ctx *c, const config_setting_t *params,
			     const struct vg_instance_conf *in, const char *noun)
{
	const struct vg_plugin_info *info = in->info;
	char list[512];
	size_t used;

	for (int i = 0; params && i < config_setting_length(params); i++) {
		const config_setting_t *s = config_setting_get_elem(params, i);
		size_t j;

		for (j = 0; j < info->n_params; j++)
			if (!strcmp(info->params[j].name, config_setting_name(s)))
				break;
		if (j < info->n_params)
			continue;
		snprintf(list, sizeof(list), "none");
		for (j = 0, used = 0; j < info->n_params && used < sizeof(list); j++)
			used += snprintf(list + used, sizeof(list) - used, "%s%s", j ? ", " : "",
					 info->params[j].name);
		return vg_config_fail(c, s, "%s \"%s\" (%s): unknown param \"%s\" (declared: %s)", noun,
				      in->name, in->plugin, config_setting_name(s), list);
	}
	return 0;
}

static int cfg_param_one(struct vg_config_ctx *c, const config_setting_t *e, const config_setting_t *s,
			 const struct vg_param_decl *d, struct vg_instance_conf *in,
			 const char *noun, struct vg_value *out)
{
	char buf[64], got[160], msg[512];
	const char *text;
	int secret = d->type == VG_PARAM_SECRET;

	if (!s && (d->flags & VG_PARAM_REQUIRED))
		return vg_config_fail(c, e, "%s \"%s\" (%s): missing required param \"%s\"", noun,
				      in->name, in->plugin, d->name);
	if (!s && !d->def)
		return 0;
	if (!s) {
		if (vg_param_parse(d, d->def, out, msg, sizeof(msg)) < 0)
			return vg_config_fail(c, e, "%s \"%s\" (%s): default of param %s %s (plugin bug)",
					      noun, in->name, in->plugin, d->name, msg);
		return 0;
	}
	if (cfg_scalar_text(s, 0, buf, sizeof(buf), &text) < 0)
		return vg_config_fail(c, s, "%s \"%s\" (%s): param %s must be a string, integer or boolean, got %s",
				      noun, in->name, in->plugin, d->name,
				      secret ? "<secret>" : vg_config_describe(s, got, sizeof(got)));
	if (vg_param_parse(d, text, out, msg, sizeof(msg)) < 0)
		return vg_config_fail(c, s, "%s \"%s\" (%s): param %s %s", noun, in->name, in->plugin,
				      d->name, msg);
	return 0;
}

static int cfg_instance_params(struct vg_config_ctx *c, const config_setting_t *e,
			       struct vg_instance_conf *in, const char *noun)
{
	const config_setting_t *params = config_setting_get_member(e, "params");
	const struct vg_plugin_info *info = in->info;
	int rc = cfg_param_unknown(c, params, in, noun);

	if (rc)
		return rc;
	in->values = calloc(info->n_params ? info->n_params : 1, sizeof(*in->values));
	if (!in->values)
		return -ENOMEM;
	in->n_values = info->n_params;
	for (size_t i = 0; i < info->n_params && !rc; i++) {
		const struct vg_param_decl *d = &info->params[i];

		rc = cfg_param_one(c, e, params ? config_setting_get_member(params, d->name) : NULL,
				   d, in, noun, &in->values[i]);
	}
	return rc;
}

static int cfg_instance_attrs(struct vg_config_ctx *c, const config_setting_t *e,
			      struct vg_instance_conf *in, const char *noun)
{
	const config_setting_t *g = config_setting_get_member(e, "attributes");
	char buf[64], got[160];
	const char *text;
	int n;

	if (!g)
		return 0;
	if (!(in->info->flags & VG_PLUGIN_F_ATTRS))
		return vg_config_fail(c, g, "%s \"%s\" (%s): plugin \"%s\" takes no attributes group, only params",
				      noun, in->name, in->plugin, in->plugin);
	n = config_setting_length(g);
	in->attrs = calloc(n ? n : 1, sizeof(*in->attrs));
	if (!in->attrs)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);

		if (cfg_scalar_text(s, 1, buf, sizeof(buf), &text) < 0)
			return vg_config_fail(c, s, "%s \"%s\" (%s): attribute %s must be a string, number or boolean, got %s",
					      noun, in->name, in->plugin, config_setting_name(s),
					      vg_config_describe(s, got, sizeof(got)));
		in->attrs[i].key = strdup(config_setting_name(s));
		in->attrs[i].value = strdup(text);
		in->n_attrs = i + 1;
		if (!in->attrs[i].key || !in->attrs[i].value)
			return -ENOMEM;
	}
	return 0;
}

/* The plugin's own check (1.1), e.g. attributes against an agent's meta-data. */
static int cfg_instance_validate(struct vg_config_ctx *c, const config_setting_t *e,
				 struct vg_instance_conf *in, const char *noun)
{
	int (*validate)(const struct vg_instance *, char *, size_t) = NULL;
	struct vg_instance inst = { .name = in->name, .params = in->values,
				    .n_params = in->n_values, .attrs = in->attrs,
				    .n_attrs = in->n_attrs };
	char msg[512] = "";

	if (in->info->kind == VG_KIND_RESOURCE)
		validate = in->info->ops.resource.validate;
	else if (in->info->kind == VG_KIND_FENCE)
		validate = in->info->ops.fence.validate;
	if (!validate || validate(&inst, msg, sizeof(msg)) == 0)
		return 0;
	return vg_config_fail(c, e, "%s \"%s\" (%s): %s", noun, in->name, in->plugin,
			      msg[0] ? msg : "refused by the plugin's validate");
}

int vg_config_instance_check(struct vg_config_ctx *c, const config_setting_t *e,
			      struct vg_instance_conf *all, size_t idx, uint32_t kind,
			      const char *noun)
{
	struct vg_instance_conf *in = &all[idx];
	int rc;

	in->line = config_setting_source_line(e);
	for (size_t j = 0; j < idx; j++)
		if (!strcmp(all[j].name, in->name))
			return vg_config_fail(c, e, "%s \"%s\" is already defined at line %d; expected unique names",
					      noun, in->name, all[j].line);
	rc = cfg_instance_plugin(c, e, in, kind, noun);
	if (!rc)
		rc = cfg_instance_params(c, e, in, noun);
	if (!rc)
		rc = cfg_instance_attrs(c, e, in, noun);
	if (!rc)
		rc = cfg_instance_validate(c, e, in, noun);
	return rc;
}

static const char *const param_true[] = { "true", "yes", "on", "1", NULL };
static const char *const param_false[] = { "false", "no", "off", "0", NULL };

static int param_word(const char *const *words, const char *w)
{
	for (size_t i = 0; words[i]; i++)
		if (!strcasecmp(words[i], w))
			return 1;
	return 0;
}

/* "1..600000", or ">= 0" for min == max == 0 */
static void param_range(const struct vg_param_decl *d, char *buf, size_t len)
{
	if (d->min == 0 && d->max == 0)
		snprintf(buf, len, ">= 0");
	else
		snprintf(buf, len, "%" PRId64 "..%" PRId64, d->min, d->max);
}

/* INT, and DURATION_MS with an optional "ms" or "s" suffix. */
static int param_parse_number(const struct vg_param_decl *d, const char *text,
			      struct vg_value *out, char *errbuf, size_t errlen)
{
	int ms = d->type == VG_PARAM_DURATION_MS;
	int64_t lo = d->min, hi = d->max, scale = 1;
	char range[64], *end;
	long long v;

	if (lo == 0 && hi == 0)
		hi = INT64_MAX;
	param_range(d, range, sizeof(range));
	errno = 0;
	v = strtoll(text, &end, 10);
	if (ms && !strcmp(end, "s"))
		scale = 1000;
	else if (ms && !strcmp(end, "ms"))
		end += 2;
	else if (*end)
		end = (char *)text; /* trailing junk: not a number */
	if (end == text || isspace((unsigned char)text[0])) {
		snprintf(errbuf, errlen, ms ? "must be a duration %s ms (optional suffix ms or s), got \"%s\""
				       : "must be an integer %s, got \"%s\"", range, text);
		return -EINVAL;
	}
	if (errno == ERANGE || v > INT64_MAX / scale || v < INT64_MIN / scale ||
	    v * scale < lo || v * scale > hi) {
		snprintf(errbuf, errlen, ms ? "must be a duration %s ms, got %s"
				       : "must be an integer %s, got %s", range, text);
		return -ERANGE;
	}
	out->i = v * scale;
	return 0;
}

static int param_parse_word(const struct vg_param_decl *d, const char *text,
			    struct vg_value *out, char *errbuf, size_t errlen)
{
	size_t used = 0;
	char list[512];

	for (size_t i = 0; d->choices && d->choices[i]; i++)
		if (!strcmp(d->choices[i], text)) {
			out->i = i;
			return 0;
		}
	list[0] = '\0';
	for (size_t i = 0; d->choices && d->choices[i] && used < sizeof(list); i++)
		used += snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
				 d->choices[i]);
	snprintf(errbuf, errlen, "must be one of %s, got \"%s\"", list, text);
	return -EINVAL;
}

int vg_param_parse(const struct vg_param_decl *decl, const char *text, struct vg_value *out,
		   char *errbuf, size_t errlen)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	switch (decl->type) {
	case VG_PARAM_BOOL:
		out->i = param_word(param_true, text);
		if (!out->i && !param_word(param_false, text)) {
			snprintf(errbuf, errlen, "must be a boolean (true/false, yes/no, on/off, 1/0), got \"%s\"",
				 text);
			rc = -EINVAL;
		}
		break;
	case VG_PARAM_INT:
	case VG_PARAM_DURATION_MS:
		rc = param_parse_number(decl, text, out, errbuf, errlen);
		break;
	case VG_PARAM_ENUM:
		rc = param_parse_word(decl, text, out, errbuf, errlen);
		break;
	case VG_PARAM_PATH:
		if (text[0] != '/') {
			snprintf(errbuf, errlen, "must be an absolute path, got \"%s\"", text);
			rc = -EINVAL;
		}
		break;
	case VG_PARAM_STRING:
	case VG_PARAM_SECRET:
		break;
	default:
		snprintf(errbuf, errlen, "has type %" PRIu32 ", expected a known param type", decl->type);
		rc = -EINVAL;
	}
	if (rc)
		return rc;
	if (decl->type != VG_PARAM_BOOL && decl->type != VG_PARAM_INT &&
	    decl->type != VG_PARAM_DURATION_MS && !(out->s = strdup(text))) {
		snprintf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	out->is_set = 1;
	return 0;
}

static const struct vg_attr *attr_find(const struct vg_attr *attrs, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(attrs[i].key, key))
			return &attrs[i];
	return NULL;
}

/* Inner transports: the same rules as a configured instance's params. */
static int values_check_keys(const struct vg_plugin_info *info, const struct vg_attr *attrs,
			     size_t n_attrs, char *errbuf, size_t errlen)
{
	for (size_t a = 0; a < n_attrs; a++) {
		size_t i = 0;

		while (i < info->n_params && strcmp(info->params[i].name, attrs[a].key))
			i++;
		if (i == info->n_params) {
			snprintf(errbuf, errlen, "plugin %s has no param \"%s\"", info->name,
				 attrs[a].key);
			return -EINVAL;
		}
	}
	return 0;
}

int vg_config_values_from_attrs(const struct vg_plugin_info *info, const struct vg_attr *attrs,
				size_t n_attrs, struct vg_value **values, char *errbuf, size_t errlen)
{
	struct vg_value *v = calloc(info->n_params + 1, sizeof(*v));
	char msg[256];
	int rc = values_check_keys(info, attrs, n_attrs, errbuf, errlen);

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; !rc && i < info->n_params; i++) {
		const struct vg_param_decl *d = &info->params[i];
		const struct vg_attr *a = attr_find(attrs, n_attrs, d->name);
		const char *text = a ? a->value : d->def;

		if (!text && (d->flags & VG_PARAM_REQUIRED)) {
			snprintf(errbuf, errlen, "plugin %s: missing required param \"%s\"", info->name,
				 d->name);
			rc = -EINVAL;
		} else if (text && vg_param_parse(d, text, &v[i], msg, sizeof(msg)) < 0) {
			snprintf(errbuf, errlen, "plugin %s: param %s %s", info->name, d->name, msg);
			rc = -EINVAL;
		}
	}
	if (rc) {
		vg_config_values_free(v, info->n_params);
		return rc;
	}
	*values = v;
	return 0;
}

void vg_config_values_free(struct vg_value *values, size_t n)
{
	for (size_t i = 0; values && i < n; i++) {
		char *s = (char *)values[i].s;

		if (s)
			explicit_bzero(s, strlen(s));
		free(s);
	}
	free(values);
}
