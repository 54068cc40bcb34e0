/*
 * The plugin loader.  The only code that reads a plugin's descriptor: it
 * checks it once, copies it into a core-owned struct vg_plugin_info, and
 * refuses with one line naming the file and the reason.
 */
#include "plugin.h"
#include "config.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <ltdl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 32

static const char *const kind_names[] = {
	[VG_KIND_TRANSPORT] = "transport",
	[VG_KIND_RESOURCE] = "resource",
	[VG_KIND_FENCE] = "fence",
	[VG_KIND_REPLICATION] = "replication",
};

static const char *const type_names[] = {
	[VG_PARAM_BOOL] = "bool",
	[VG_PARAM_INT] = "int",
	[VG_PARAM_DURATION_MS] = "duration_ms",
	[VG_PARAM_STRING] = "string",
	[VG_PARAM_ENUM] = "enum",
	[VG_PARAM_PATH] = "path",
	[VG_PARAM_SECRET] = "secret",
};

const char *vg_kind_name(uint32_t kind)
{
	if (kind == 0 || kind >= sizeof(kind_names) / sizeof(kind_names[0]))
		return NULL;
	return kind_names[kind];
}

const char *vg_param_type_name(uint32_t type)
{
	if (type == 0 || type >= sizeof(type_names) / sizeof(type_names[0]))
		return NULL;
	return type_names[type];
}

void vg_registry_init(struct vg_registry *reg, const struct vg_logger *log)
{
	memset(reg, 0, sizeof(*reg));
	reg->log = log;
	lt_dlinit();
}

static void info_free(struct vg_plugin_info *pi)
{
	if (!pi)
		return;
	if (pi->handle)
		lt_dlclose(pi->handle);
	free(pi->file);
	free(pi->name);
	free(pi->version);
	free(pi->description);
	free(pi);
}

void vg_registry_free(struct vg_registry *reg)
{
	for (size_t i = 0; i < reg->n_plugins; i++)
		info_free(reg->plugins[i]);
	free(reg->plugins);
	reg->plugins = NULL;
	reg->n_plugins = 0;
	lt_dlexit();
}

void vg_registry_keep_only(struct vg_registry *reg,
			   int (*keep)(const struct vg_plugin_info *pi, void *arg), void *arg)
{
	size_t n = 0;

	for (size_t i = 0; i < reg->n_plugins; i++) {
		if (keep(reg->plugins[i], arg)) {
			reg->plugins[n++] = reg->plugins[i];
			continue;
		}
		vg_logf(reg->log, VG_LOG_DEBUG, "plugin", "unloading %s: not used by the configuration",
			reg->plugins[i]->name);
		info_free(reg->plugins[i]);
	}
	reg->n_plugins = n;
}

const struct vg_plugin_info *vg_registry_find(const struct vg_registry *reg, const char *name)
{
	for (size_t i = 0; i < reg->n_plugins; i++)
		if (strcmp(reg->plugins[i]->name, name) == 0)
			return reg->plugins[i];
	return NULL;
}

__attribute__((format(printf, 4, 5)))
static int refuse(char *errbuf, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

static int name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > NAME_MAX_LEN)
		return 0;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static int check_abi(const char *file, const struct vg_plugin *d, char *errbuf, size_t errlen)
{
	const char *name = d->name ? d->name : "?";

	if (d->abi_major != VG_ABI_MAJOR)
		return refuse(errbuf, errlen, -EPROTO,
			      "%s: plugin \"%s\" was built for ABI %u.%u; this vigild loads ABI %d.0 to %d.%d (major must be %d)",
			      file, name, d->abi_major, d->abi_minor, VG_ABI_MAJOR, VG_ABI_MAJOR,
			      VG_ABI_MINOR, VG_ABI_MAJOR);
	if (d->abi_minor > VG_ABI_MINOR)
		return refuse(errbuf, errlen, -EPROTO,
			      "%s: plugin \"%s\" was built for ABI %u.%u; this vigild loads ABI %d.0 to %d.%d (minor must be at most %d)",
			      file, name, d->abi_major, d->abi_minor, VG_ABI_MAJOR, VG_ABI_MAJOR,
			      VG_ABI_MINOR, VG_ABI_MINOR);
	return 0;
}

static const char *missing_repl_op(const struct vg_replication_ops *o)
{
	if (!o->promote)
		return "ops.promote";
	if (!o->demote)
		return "ops.demote";
	return o->status ? NULL : "ops.status";
}

/* The ops a kind cannot do without: named as the refusal names them. */
static const char *missing_kind_op(const struct vg_plugin *d)
{
	switch (d->kind) {
	case VG_KIND_TRANSPORT:
		return ((const struct vg_transport_ops *)d->ops)->send ? NULL : "ops.send";
	case VG_KIND_RESOURCE:
		return ((const struct vg_resource_ops *)d->ops)->exec ? NULL : "ops.exec";
	case VG_KIND_FENCE:
		return ((const struct vg_fence_ops *)d->ops)->exec ? NULL : "ops.exec";
	case VG_KIND_REPLICATION:
		return missing_repl_op(d->ops);
	default:
		return NULL;
	}
}

static int check_members(const char *file, const struct vg_plugin *d, char *errbuf, size_t errlen)
{
	const char *missing = NULL;

	if (!name_valid(d->name))
		return refuse(errbuf, errlen, -EINVAL,
			      "%s: plugin name \"%s\" is invalid (expected 1-%d of [a-z0-9-])", file,
			      d->name ? d->name : "", NAME_MAX_LEN);
	if (!vg_kind_name(d->kind))
		return refuse(errbuf, errlen, -EINVAL,
			      "%s: plugin \"%s\" has unknown kind %u (expected 1=transport, 2=resource, 3=fence, 4=replication)",
			      file, d->name, d->kind);
	if (!d->open)
		missing = "open";
	else if (!d->close)
		missing = "close";
	else if (!d->ops)
		missing = "ops";
	else
		missing = missing_kind_op(d);
	if (missing)
		return refuse(errbuf, errlen, -EINVAL, "%s: plugin \"%s\" lacks required member %s",
			      file, d->name, missing);
	return 0;
}

static int check_param(const char *file, const struct vg_plugin *d, size_t i, char *errbuf,
		       size_t errlen)
{
	const struct vg_param_decl *p = &d->params[i];
	struct vg_value v;
	char why[256];

	if (!vg_param_type_name(p->type))
		return refuse(errbuf, errlen, -EINVAL, "%s: plugin \"%s\": param \"%s\" has unknown type %u",
			      file, d->name, p->name, p->type);
	if (strspn(p->name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(p->name) ||
	    !p->name[0])
		return refuse(errbuf, errlen, -EINVAL,
			      "%s: plugin \"%s\": param name \"%s\" is invalid (expected [a-z0-9_]+)",
			      file, d->name, p->name);
	if (p->type == VG_PARAM_ENUM && (!p->choices || !p->choices[0]))
		return refuse(errbuf, errlen, -EINVAL,
			      "%s: plugin \"%s\": enum param \"%s\" has no choices", file, d->name,
			      p->name);
	for (size_t j = 0; j < i; j++)
		if (strcmp(d->params[j].name, p->name) == 0)
			return refuse(errbuf, errlen, -EINVAL,
				      "%s: plugin \"%s\": param \"%s\" is declared twice", file,
				      d->name, p->name);
	if (p->def && vg_param_parse(p, p->def, &v, why, sizeof(why)) == 0)
		free((char *)v.s);
	else if (p->def)
		return refuse(errbuf, errlen, -EINVAL,
			      "%s: plugin \"%s\": default \"%s\" of param \"%s\" is invalid: %s", file,
			      d->name, p->def, p->name, why);
	return 0;
}

static int check_params(const char *file, const struct vg_plugin *d, size_t *n_params,
			char *errbuf, size_t errlen)
{
	size_t n = 0;
	int rc;

	for (; d->params && d->params[n].name; n++) {
		rc = check_param(file, d, n, errbuf, errlen);
		if (rc < 0)
			return rc;
	}
	*n_params = n;
	return 0;
}

/* The one place that reads a kind's ops table: only members the plugin's minor has. */
static void copy_ops(struct vg_plugin_info *pi, const struct vg_plugin *d)
{
	switch (d->kind) {
	case VG_KIND_TRANSPORT: {
		const struct vg_transport_ops *o = d->ops;

		pi->ops.transport.send = o->send;
		pi->ops.transport.max_frame = o->max_frame;
		break;
	}
	case VG_KIND_RESOURCE: {
		const struct vg_resource_ops *o = d->ops;

		pi->ops.resource.exec = o->exec;
		pi->ops.resource.cancel = o->cancel;
		if (d->abi_minor >= 1)
			pi->ops.resource.validate = o->validate;
		break;
	}
	case VG_KIND_FENCE: {
		const struct vg_fence_ops *o = d->ops;

		pi->ops.fence.exec = o->exec;
		pi->ops.fence.cancel = o->cancel;
		if (d->abi_minor >= 1)
			pi->ops.fence.validate = o->validate;
		break;
	}
	case VG_KIND_REPLICATION: {
		const struct vg_replication_ops *o = d->ops;

		/* The kind exists since 1.3: every member of its first table. */
		pi->ops.replication.promote = o->promote;
		pi->ops.replication.demote = o->demote;
		pi->ops.replication.status = o->status;
		pi->ops.replication.verify = o->verify;
		break;
	}
	default:
		break;
	}
}

static int info_from_descriptor(const char *file, const struct vg_plugin *d, size_t n_params,
				lt_dlhandle handle, struct vg_plugin_info **out)
{
	struct vg_plugin_info *pi = calloc(1, sizeof(*pi));

	if (!pi)
		return -ENOMEM;
	/* Members of 1.0; a member appended in 1.N is copied only when d->abi_minor >= N. */
	pi->file = strdup(file);
	pi->abi_major = d->abi_major;
	pi->abi_minor = d->abi_minor;
	pi->kind = d->kind;
	pi->name = strdup(d->name);
	pi->version = strdup(d->version ? d->version : "");
	pi->description = strdup(d->description ? d->description : "");
	pi->params = d->params;
	pi->n_params = n_params;
	pi->flags = d->flags;
	pi->open = d->open;
	pi->close = d->close;
	copy_ops(pi, d);
	if (!pi->file || !pi->name || !pi->version || !pi->description) {
		info_free(pi);
		return -ENOMEM;
	}
	pi->handle = handle;
	*out = pi;
	return 0;
}

static int registry_add(struct vg_registry *reg, struct vg_plugin_info *pi)
{
	struct vg_plugin_info **v = realloc(reg->plugins, (reg->n_plugins + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	reg->plugins = v;
	reg->plugins[reg->n_plugins++] = pi;
	return 0;
}

static int check_descriptor(struct vg_registry *reg, const char *file, const struct vg_plugin *d,
			    size_t *n_params, char *errbuf, size_t errlen)
{
	const struct vg_plugin_info *other;
	int rc;

	rc = check_abi(file, d, errbuf, errlen);
	if (rc == 0)
		rc = check_members(file, d, errbuf, errlen);
	if (rc == 0)
		rc = check_params(file, d, n_params, errbuf, errlen);
	if (rc < 0)
		return rc;
	other = vg_registry_find(reg, d->name);
	if (other)
		return refuse(errbuf, errlen, -EEXIST,
			      "%s: duplicate plugin name \"%s\" (already loaded from %s)", file,
			      d->name, other->file);
	return 0;
}

int vg_registry_load_file(struct vg_registry *reg, const char *path, char *errbuf, size_t errlen)
{
	const struct vg_plugin *d;
	struct vg_plugin_info *pi = NULL;
	lt_dlhandle handle;
	size_t n_params = 0;
	int rc;

	handle = lt_dlopen(path);
	if (!handle) {
		rc = refuse(errbuf, errlen, -ENOEXEC, "%s: cannot load: %s", path, lt_dlerror());
		goto out_log;
	}
	d = lt_dlsym(handle, VG_PLUGIN_SYMBOL);
	if (!d) {
		rc = refuse(errbuf, errlen, -ENOEXEC, "%s: not a vigil plugin: no symbol %s", path,
			    VG_PLUGIN_SYMBOL);
		goto out_close;
	}
	rc = check_descriptor(reg, path, d, &n_params, errbuf, errlen);
	if (rc < 0)
		goto out_close;
	rc = info_from_descriptor(path, d, n_params, handle, &pi);
	if (rc < 0)
		goto out_close;
	rc = registry_add(reg, pi);
	if (rc < 0) {
		info_free(pi); /* closes the handle */
		return rc;
	}
	vg_logf(reg->log, VG_LOG_DEBUG, "plugin", "loaded %s %s (%s) from %s", vg_kind_name(pi->kind),
		pi->name, pi->version, path);
	return 0;
out_close:
	lt_dlclose(handle);
out_log:
	vg_logf(reg->log, VG_LOG_ERR, "plugin", "%s", errbuf);
	return rc;
}

int vg_registry_add_builtin(struct vg_registry *reg, const struct vg_plugin *d, char *errbuf,
			    size_t errlen)
{
	static const char file[] = "built-in";
	struct vg_plugin_info *pi = NULL;
	size_t n_params = 0;
	int rc;

	rc = check_descriptor(reg, file, d, &n_params, errbuf, errlen);
	if (rc == 0)
		rc = info_from_descriptor(file, d, n_params, NULL, &pi);
	if (rc == 0)
		rc = registry_add(reg, pi);
	if (rc == -ENOMEM)
		refuse(errbuf, errlen, rc, "%s: plugin \"%s\": out of memory", file, d->name);
	if (rc < 0) {
		info_free(pi);
		vg_logf(reg->log, VG_LOG_ERR, "plugin", "%s", errbuf);
	}
	return rc;
}

static int is_module(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 3 && strcmp(e->d_name + n - 3, ".so") == 0;
}

/* "udp_ucast.so" holds "udp-ucast" by convention (libtool names cannot have '-'). */
static int file_wanted(const char *file, char *const *names, size_t n_names)
{
	char base[256];
	size_t len = strlen(file) - 3;

	if (!names)
		return 1;
	if (len >= sizeof(base))
		return 0;
	for (size_t i = 0; i < len; i++)
		base[i] = file[i] == '_' ? '-' : file[i];
	base[len] = '\0';
	for (size_t i = 0; i < n_names; i++)
		if (names[i] && !strcmp(names[i], base))
			return 1;
	return 0;
}

static int load_dir(struct vg_registry *reg, const char *dir, char *const *wanted,
		    size_t n_wanted, size_t *n_refused)
{
	struct dirent **names;
	char path[4096], err[1024];
	int n, loaded = 0;

	n = scandir(dir, &names, is_module, alphasort);
	if (n < 0) {
		vg_logf(reg->log, VG_LOG_DEBUG, "plugin", "skipping plugin directory %s: %s", dir,
			strerror(errno));
		return 0;
	}
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (!file_wanted(names[i]->d_name, wanted, n_wanted))
			;
		else if (vg_registry_load_file(reg, path, err, sizeof(err)) == 0)
			loaded++;
		else if (n_refused)
			(*n_refused)++;
		free(names[i]);
	}
	free(names);
	return loaded;
}

int vg_registry_load_named(struct vg_registry *reg, const char *dirs, char *const *names,
			   size_t n_names, size_t *n_refused)
{
	char *copy = strdup(dirs ? dirs : ""), *save = NULL;
	int loaded = 0;

	if (!copy)
		return -ENOMEM;
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
		loaded += load_dir(reg, d, names, n_names, n_refused);
	free(copy);
	return loaded;
}

int vg_registry_load_path(struct vg_registry *reg, const char *dirs, size_t *n_refused)
{
	return vg_registry_load_named(reg, dirs, NULL, 0, n_refused);
}
