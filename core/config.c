/*
 * vigild configuration: one libconfig file, checked against the schema
 * tables below; every plugin instance is then checked against the table
 * of params its plugin declared (config_instance.c).  Every refusal is one line
 * "FILE:LINE: what was expected, got what" in the caller's errbuf.
 *
 * The schema is data: a group is a table of keys, each with its type,
 * flags, range or choices, default (as text) and where it is stored.
 * One walker reads every group the same way; what cannot be said in a
 * table (uniqueness, plugin lookup, cross-key rules) is a check function.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>


#include "config_private.h"
#include "sha256.h"
#include "plugin.h"

#ifndef VG_PLUGINS_DIR
#define VG_PLUGINS_DIR "/usr/local/lib/vigil/plugins"
#endif
#ifndef VG_STATE_DIR
#define VG_STATE_DIR "/var/lib/vigil"
#endif
#ifndef VG_RUN_DIR
#define VG_RUN_DIR "/run/vigil"
#endif

/* A configuration file larger than this is a mistake, not a cluster. */
#define CFG_FILE_MAX_BYTES (16u * 1024 * 1024)
#define CFG_NAME_MAX 64



int vg_config_fail(struct vg_config_ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = s ? config_setting_source_file(s) : NULL;
	int line = s ? config_setting_source_line(s) : 0;
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!file)
		file = c->path;
	if (c->err && c->errlen && line > 0)
		snprintf(c->err, c->errlen, "%s:%d: %s", file, line, msg);
	else if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s: %s", file, msg);
	return -EINVAL;
}

static void *cfg_at(void *target, size_t off)
{
	return (char *)target + off;
}

/* What a setting holds, for "got ..." (string values quoted). */
const char *vg_config_describe(const config_setting_t *s, char *buf, size_t len)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_LIST: return "a list";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_BOOL: return config_setting_get_bool(s) ? "true" : "false";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		snprintf(buf, len, "%lld", config_setting_get_int64(s));
		return buf;
	case CONFIG_TYPE_FLOAT:
		snprintf(buf, len, "%g", config_setting_get_float(s));
		return buf;
	case CONFIG_TYPE_STRING:
		snprintf(buf, len, "\"%s\"", config_setting_get_string(s));
		return buf;
	default:
		return "nothing";
	}
}

static void cfg_join(const char *const *words, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; words[i] && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s", i ? ", " : "", words[i]);
}

/* What a key must be, for "must be ...". */
static const char *cfg_expect(const struct cfg_key *k, char *buf, size_t len)
{
	char list[256];

	switch (k->type) {
	case CT_STRING:
		if (k->choices) {
			cfg_join(k->choices, list, sizeof(list));
			snprintf(buf, len, "one of %s", list);
		} else if (k->charset) {
			snprintf(buf, len, "1..%d characters of [A-Za-z0-9%s]", CFG_NAME_MAX, k->charset);
		} else {
			return k->flags & CF_ABSPATH ? "an absolute path" : "a string";
		}
		return buf;
	case CT_INT:
		snprintf(buf, len, "an integer %" PRId64 "..%" PRId64, k->min, k->max);
		return buf;
	case CT_ENUM:
		cfg_join(k->choices, list, sizeof(list));
		snprintf(buf, len, "one of %s", list);
		return buf;
	case CT_BOOL: return "a boolean (true or false)";
	case CT_GROUP:
	case CT_PARAMS: return "a group { ... }";
	case CT_LIST: return "a list of groups ( { ... }, ... )";
	case CT_SCORE: return "a score (an integer -1000000..1000000, \"INFINITY\" or \"-INFINITY\")";
	case CT_STRINGS: return "an array of strings [ \"...\", ... ]";
	}
	return "?";
}

static int cfg_word_index(const char *const *words, const char *w)
{
	for (int i = 0; words[i]; i++)
		if (!strcmp(words[i], w))
			return i;
	return -1;
}

static int cfg_name_ok(const char *s, const char *extra)
{
	size_t n = strlen(s);

	if (n < 1 || n > CFG_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
			return 0;
	return 1;
}

static int cfg_set_string(void *target, size_t off, const char *v)
{
	char **p = cfg_at(target, off);
	char *copy = strdup(v);

	if (!copy)
		return -ENOMEM;
	free(*p);
	*p = copy;
	return 0;
}

/* "INFINITY", "+INFINITY", "-INFINITY" (any case), or 0 when not a word. */
static int cfg_score_word(const char *w, int32_t *score)
{
	int neg = *w == '-';

	if (*w == '-' || *w == '+')
		w++;
	if (strcasecmp(w, "INFINITY") && strcasecmp(w, "INF"))
		return 0;
	*score = neg ? -VG_CFG_SCORE_INFINITY : VG_CFG_SCORE_INFINITY;
	return 1;
}

/* Store a scalar given as text: a default from the table, or a checked string. */
static int cfg_store_text(const struct cfg_key *k, void *target, const char *text)
{
	switch (k->type) {
	case CT_STRING:
		return cfg_set_string(target, k->off, text);
	case CT_INT:
		*(uint32_t *)cfg_at(target, k->off) = (uint32_t)strtoull(text, NULL, 10);
		return 0;
	case CT_BOOL:
		*(int *)cfg_at(target, k->off) = !strcmp(text, "true");
		return 0;
	case CT_ENUM:
		*(int *)cfg_at(target, k->off) = (int)k->min + cfg_word_index(k->choices, text);
		return 0;
	case CT_SCORE: {
		int32_t v;

		if (!cfg_score_word(text, &v))
			v = (int32_t)strtol(text, NULL, 10);
		*(uint32_t *)cfg_at(target, k->off) = (uint32_t)v;
		return 0;
	}
	default:
		return -EINVAL;
	}
}

static int cfg_group_walk(struct vg_config_ctx *c, const config_setting_t *g, const struct cfg_group *grp,
			  const char *path, void *target);

static int cfg_read_strings(struct vg_config_ctx *c, const config_setting_t *s, const struct cfg_key *k,
			    const char *kpath, void *target)
{
	int n = config_setting_length(s);
	char **v = calloc(n ? n : 1, sizeof(*v));
	char got[160];

	if (!v)
		return -ENOMEM;
	*(char ***)cfg_at(target, k->off) = v;
	*(size_t *)cfg_at(target, k->off_n) = n;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return vg_config_fail(c, e, "%s[%d] must be a string, got %s", kpath, i,
					      vg_config_describe(e, got, sizeof(got)));
		/* "" leaves the node without an address on that link */
		if (*config_setting_get_string(e) && !(v[i] = strdup(config_setting_get_string(e))))
			return -ENOMEM;
	}
	return 0;
}

static int cfg_read_list(struct vg_config_ctx *c, const config_setting_t *s, const struct cfg_key *k,
			 const char *kpath, void *target)
{
	int n = config_setting_length(s);
	char *base, epath[192], got[160];
	int rc;

	if (n < k->min)
		return vg_config_fail(c, s, "%s must have at least %" PRId64 " %s, got %d",
				      kpath, k->min, k->min == 1 ? "entry" : "entries", n);
	base = calloc(n ? n : 1, k->sub->elem_size);
	if (!base)
		return -ENOMEM;
	/* stored at once so that vg_config_free() sees what was read so far */
	*(void **)cfg_at(target, k->off) = base;
	*(size_t *)cfg_at(target, k->off_n) = n;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);

		snprintf(epath, sizeof(epath), "%s[%d]", kpath, i);
		if (config_setting_type(e) != CONFIG_TYPE_GROUP)
			return vg_config_fail(c, e, "%s must be a group { ... }, got %s", epath,
					      vg_config_describe(e, got, sizeof(got)));
		rc = cfg_group_walk(c, e, k->sub, epath, base + i * k->sub->elem_size);
		if (!rc && k->sub->check)
			rc = k->sub->check(c, e, base, i);
		if (rc)
			return rc;
	}
	return 0;
}

/* Does the setting's libconfig type fit the key's type? */
static int cfg_type_fits(const struct cfg_key *k, const config_setting_t *s)
{
	int t = config_setting_type(s);

	switch (k->type) {
	case CT_STRING:
	case CT_ENUM: return t == CONFIG_TYPE_STRING;
	case CT_INT: return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
	case CT_BOOL: return t == CONFIG_TYPE_BOOL;
	case CT_GROUP:
	case CT_PARAMS: return t == CONFIG_TYPE_GROUP;
	case CT_LIST: return t == CONFIG_TYPE_LIST;
	case CT_STRINGS: return t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST;
	case CT_SCORE: return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_STRING;
	}
	return 0;
}

/* Is the (type-checked) scalar value within what the key allows? */
static int cfg_value_fits(const struct cfg_key *k, const config_setting_t *s)
{
	const char *v;
	long long i;

	switch (k->type) {
	case CT_INT:
		i = config_setting_get_int64(s);
		return i >= k->min && i <= k->max;
	case CT_SCORE: {
		int32_t score;

		if (config_setting_type(s) == CONFIG_TYPE_STRING)
			return cfg_score_word(config_setting_get_string(s), &score);
		i = config_setting_get_int64(s);
		return i >= -VG_CFG_SCORE_INFINITY && i <= VG_CFG_SCORE_INFINITY;
	}
	case CT_ENUM:
		return cfg_word_index(k->choices, config_setting_get_string(s)) >= 0;
	case CT_STRING:
		v = config_setting_get_string(s);
		if (k->choices)
			return cfg_word_index(k->choices, v) >= 0;
		if (k->charset)
			return cfg_name_ok(v, k->charset);
		return !(k->flags & CF_ABSPATH) || v[0] == '/';
	default:
		return 1;
	}
}

static int cfg_key_read(struct vg_config_ctx *c, const config_setting_t *s, const struct cfg_key *k,
			const char *kpath, void *target)
{
	char want[320], got[160];

	if (!cfg_type_fits(k, s) || !cfg_value_fits(k, s))
		return vg_config_fail(c, s, "%s must be %s, got %s", kpath, cfg_expect(k, want, sizeof(want)),
				      vg_config_describe(s, got, sizeof(got)));
	switch (k->type) {
	case CT_STRING:
		return cfg_set_string(target, k->off, config_setting_get_string(s));
	case CT_INT:
		*(uint32_t *)cfg_at(target, k->off) = (uint32_t)config_setting_get_int64(s);
		return 0;
	case CT_BOOL:
		*(int *)cfg_at(target, k->off) = config_setting_get_bool(s);
		return 0;
	case CT_ENUM:
		return cfg_store_text(k, target, config_setting_get_string(s));
	case CT_GROUP:
		return cfg_group_walk(c, s, k->sub, kpath, target);
	case CT_LIST:
		return cfg_read_list(c, s, k, kpath, target);
	case CT_STRINGS:
		return cfg_read_strings(c, s, k, kpath, target);
	case CT_PARAMS:
		return 0;
	case CT_SCORE:
		if (config_setting_type(s) == CONFIG_TYPE_STRING)
			return cfg_store_text(k, target, config_setting_get_string(s));
		*(uint32_t *)cfg_at(target, k->off) = (uint32_t)(int32_t)config_setting_get_int64(s);
		return 0;
	}
	return -EINVAL;
}

static int cfg_key_absent(struct vg_config_ctx *c, const config_setting_t *g, const struct cfg_key *k,
			  const char *path, void *target)
{
	char want[320];

	if (k->flags & CF_REQUIRED)
		return vg_config_fail(c, g, "missing required key \"%s\" %s%s (expected %s)", k->name,
				      *path ? "in " : "at top level", path, cfg_expect(k, want, sizeof(want)));
	if (k->type == CT_GROUP)
		return cfg_group_walk(c, NULL, k->sub, k->name, target);
	return k->def ? cfg_store_text(k, target, k->def) : 0;
}

static int cfg_unknown_keys(struct vg_config_ctx *c, const config_setting_t *g,
			    const struct cfg_group *grp, const char *path)
{
	char list[512];
	size_t used = 0;

	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const struct cfg_key *k;

		for (k = grp->keys; k->name && strcmp(k->name, config_setting_name(s)); k++)
			;
		if (k->name)
			continue;
		for (k = grp->keys; k->name && used < sizeof(list); k++)
			used += snprintf(list + used, sizeof(list) - used, "%s%s",
					 k == grp->keys ? "" : ", ", k->name);
		return vg_config_fail(c, s, "unknown key \"%s\" %s%s (expected one of: %s)",
				      config_setting_name(s), *path ? "in " : "at top level", path, list);
	}
	return 0;
}

/* g == NULL: the group is absent; apply its defaults. */
static int cfg_group_walk(struct vg_config_ctx *c, const config_setting_t *g, const struct cfg_group *grp,
			  const char *path, void *target)
{
	char kpath[160];
	int rc = g ? cfg_unknown_keys(c, g, grp, path) : 0;

	for (const struct cfg_key *k = grp->keys; !rc && k->name; k++) {
		const config_setting_t *s = g ? config_setting_get_member(g, k->name) : NULL;

		snprintf(kpath, sizeof(kpath), "%s%s%s", path, *path ? "." : "", k->name);
		if (s)
			rc = cfg_key_read(c, s, k, kpath, target);
		else
			rc = cfg_key_absent(c, g, k, path, target);
	}
	return rc;
}

/* Line of the first of `paths` present in the file, for cross-key refusals. */
static const config_setting_t *cfg_first(const config_t *lc, const char *a, const char *b,
					 const char *d)
{
	const config_setting_t *s = config_lookup(lc, a);

	if (!s && b)
		s = config_lookup(lc, b);
	if (!s && d)
		s = config_lookup(lc, d);
	return s;
}

static int cfg_check_cross(struct vg_config_ctx *c, const config_t *lc, struct vg_config *cfg)
{
	const config_setting_t *nodes = config_lookup(lc, "nodes"), *at;

	if (cfg->deadtime_ms < 2 * cfg->interval_ms) {
		at = cfg_first(lc, "membership.deadtime_ms", "membership.interval_ms", "membership");
		return vg_config_fail(c, at, "membership.deadtime_ms must be at least "
				      "2 * membership.interval_ms = %" PRIu32 ", got %" PRIu32,
				      2 * cfg->interval_ms, cfg->deadtime_ms);
	}
	if (cfg->two_node && cfg->n_nodes != 2)
		return vg_config_fail(c, config_lookup(lc, "quorum.two_node"),
				      "quorum.two_node requires exactly 2 nodes, got %zu", cfg->n_nodes);
	if (cfg->wait_for_all < 0)
		cfg->wait_for_all = cfg->two_node;
	for (size_t i = 0; i < cfg->n_nodes; i++) {
		const struct vg_node_conf *n = &cfg->nodes[i];

		if (n->n_addrs <= cfg->n_links)
			continue;
		at = config_setting_get_member(config_setting_get_elem(nodes, i), "addresses");
		return vg_config_fail(c, at, "node \"%s\" must have at most one address per link "
				      "(%zu links), got %zu addresses",
				      n->name, cfg->n_links, n->n_addrs);
	}
	return 0;
}

static int cfg_read_all(int fd, char *buf, size_t len)
{
	size_t done = 0;
	ssize_t got;

	while (done < len) {
		got = read(fd, buf + done, len - done);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			return -EIO; /* shrank while read */
		done += got;
	}
	return 0;
}

/* Whole file into a NUL-terminated buffer: the digest covers exactly what is parsed. */
static int cfg_file_read(struct vg_config_ctx *c, char **text, size_t *len)
{
	struct stat st;
	const char *nul;
	int fd, rc;

	*text = NULL;
	fd = open(c->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		vg_config_fail(c, NULL, "cannot open: %s", strerror(-rc));
		return rc;
	}
	rc = fstat(fd, &st) < 0 ? -errno : 0;
	if (rc)
		goto out;
	if (!S_ISREG(st.st_mode))
		rc = vg_config_fail(c, NULL, "must be a regular file, got %s",
				    S_ISDIR(st.st_mode) ? "a directory" : "a special file");
	else if ((uint64_t)st.st_size > CFG_FILE_MAX_BYTES)
		rc = vg_config_fail(c, NULL, "must be at most %u bytes, got %lld bytes",
				    CFG_FILE_MAX_BYTES, (long long)st.st_size);
	if (rc)
		goto out;
	*text = malloc(st.st_size + 1);
	rc = *text ? cfg_read_all(fd, *text, st.st_size) : -ENOMEM;
	if (rc)
		goto out;
	(*text)[st.st_size] = '\0';
	*len = st.st_size;
	nul = memchr(*text, '\0', *len);
	if (nul)
		rc = vg_config_fail(c, NULL, "must be text, got a NUL byte at offset %zu",
				    (size_t)(nul - *text));
out:
	if (rc && rc != -EINVAL && rc != -ENOMEM)
		vg_config_fail(c, NULL, "cannot read: %s", strerror(-rc));
	close(fd);
	return rc;
}

static int cfg_digest(const char *text, size_t len, unsigned char digest[32])
{
	vg_sha256(text, len, digest);
	return 0;
}

int vg_config_load(const char *path, const struct vg_registry *reg,
		   struct vg_config **out, char *errbuf, size_t errlen)
{
	struct vg_config_ctx c = { .path = path, .reg = reg, .err = errbuf, .errlen = errlen };
	struct vg_config *cfg = calloc(1, sizeof(*cfg));
	char *text = NULL;
	size_t len = 0;
	config_t lc;
	int rc = -ENOMEM;

	config_init(&lc);
	*out = NULL;
	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!cfg || !(cfg->path = strdup(path)))
		goto out;
	cfg->wait_for_all = -1;
	rc = cfg_file_read(&c, &text, &len);
	if (!rc)
		rc = cfg_digest(text, len, cfg->digest);
	if (rc)
		goto out;
	if (!config_read_string(&lc, text)) {
		c.path = config_error_file(&lc) ? config_error_file(&lc) : path;
		snprintf(errbuf, errlen, "%s:%d: %s", c.path, config_error_line(&lc),
			 config_error_text(&lc));
		rc = -EINVAL;
		goto out;
	}
	rc = cfg_group_walk(&c, config_root_setting(&lc), &vg_cfg_root, "", cfg);
	if (!rc)
		rc = cfg_check_cross(&c, &lc, cfg);
	if (!rc)
		rc = vg_config_rsc_check(&c, &lc, cfg);
	if (!rc)
		rc = vg_config_repl_check(&c, &lc, cfg);
	if (!rc) {
		*out = cfg;
		cfg = NULL;
	}
out:
	if (rc == -ENOMEM && errbuf && errlen && !errbuf[0])
		snprintf(errbuf, errlen, "%s: out of memory", path);
	config_destroy(&lc);
	free(text);
	vg_config_free(cfg);
	return rc;
}

static void cfg_instances_free(struct vg_instance_conf *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		for (size_t j = 0; v[i].values && j < v[i].n_values; j++) {
			char *s = (char *)v[i].values[j].s;

			/* secrets among them: do not leave them in freed memory */
			if (s)
				explicit_bzero(s, strlen(s));
			free(s);
		}
		for (size_t j = 0; j < v[i].n_attrs; j++) {
			free((char *)v[i].attrs[j].key);
			free((char *)v[i].attrs[j].value);
		}
		for (size_t j = 0; v[i].nodes && j < v[i].n_nodes; j++)
			free(v[i].nodes[j]);
		free(v[i].nodes);
		free(v[i].values);
		free(v[i].attrs);
		free(v[i].name);
		free(v[i].plugin);
	}
	free(v);
}

void vg_config_free(struct vg_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; cfg->nodes && i < cfg->n_nodes; i++) {
		for (size_t j = 0; cfg->nodes[i].addrs && j < cfg->nodes[i].n_addrs; j++)
			free(cfg->nodes[i].addrs[j]);
		free(cfg->nodes[i].addrs);
		free(cfg->nodes[i].name);
	}
	free(cfg->nodes);
	cfg_instances_free(cfg->links, cfg->n_links);
	cfg_instances_free(cfg->resources, cfg->n_resources);
	vg_config_rsc_free(cfg); /* before the instances: it frees their targets */
	cfg_instances_free(cfg->fence_devices, cfg->n_fence_devices);
	cfg_instances_free(cfg->replications, cfg->n_replications);
	free(cfg->path);
	free(cfg->cluster_name);
	free(cfg->key_file);
	free(cfg->log_facility);
	free(cfg->plugin_dir);
	free(cfg->state_dir);
	free(cfg->ctl_socket);
	free(cfg->ctl_group);
	free(cfg);
}

const struct vg_node_conf *vg_config_node_by_name(const struct vg_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_nodes; i++)
		if (!strcmp(cfg->nodes[i].name, name))
			return &cfg->nodes[i];
	return NULL;
}

const struct vg_node_conf *vg_config_node_by_id(const struct vg_config *cfg, uint32_t id)
{
	for (size_t i = 0; i < cfg->n_nodes; i++)
		if (cfg->nodes[i].id == id)
			return &cfg->nodes[i];
	return NULL;
}

static int names_add(char ***names, size_t *n, const char *name)
{
	char **v;

	if (!name)
		return 0;
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*names)[i], name))
			return 0;
	v = realloc(*names, (*n + 2) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	*names = v;
	v[*n] = strdup(name);
	if (!v[*n])
		return -ENOMEM;
	v[++*n] = NULL;
	return 0;
}

static int names_of_list(const config_t *lc, const char *list, int params, char ***names, size_t *n)
{
	const config_setting_t *l = config_lookup(lc, list);
	int rc = 0;

	for (int i = 0; l && !rc && i < config_setting_length(l); i++) {
		const config_setting_t *e = config_setting_get_elem(l, i), *p;
		const char *name = NULL;

		if (config_setting_lookup_string(e, "plugin", &name))
			rc = names_add(names, n, name);
		p = params ? config_setting_get_member(e, "params") : NULL;
		for (int j = 0; p && !rc && j < config_setting_length(p); j++) {
			const char *v = config_setting_get_string(config_setting_get_elem(p, j));

			rc = names_add(names, n, v);
		}
	}
	return rc;
}

int vg_config_plugin_names(const char *path, char ***names, size_t *n, size_t *n_named)
{
	config_t lc;
	int rc = 0;

	*names = NULL;
	*n = 0;
	config_init(&lc);
	if (!config_read_file(&lc, path)) {
		config_destroy(&lc);
		return -EINVAL;
	}
	/* first the plugins named as such, then the links' string params */
	rc = names_of_list(&lc, "links", 0, names, n);
	if (!rc)
		rc = names_of_list(&lc, "resources", 0, names, n);
	if (!rc)
		rc = names_of_list(&lc, "fence_devices", 0, names, n);
	if (!rc)
		rc = names_of_list(&lc, "replication", 0, names, n);
	*n_named = *n;
	if (!rc)
		rc = names_of_list(&lc, "links", 1, names, n);
	config_destroy(&lc);
	return rc;
}

void vg_config_names_free(char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
}
