/*
 * core plugin loader: finds plugins on disk with libltdl, checks their
 * descriptors and keeps a registry.  Only this file and config.c read
 * plugin structs; everything else uses struct vg_plugin_info.
 */
#ifndef VG_CORE_PLUGIN_H
#define VG_CORE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <vigil/plugin.h>

struct vg_logger;

/* One loaded plugin: a core-owned copy of its descriptor. */
struct vg_plugin_info {
	char *file;            /* path it was loaded from */
	uint16_t abi_major, abi_minor;
	uint32_t kind;         /* enum vg_kind */
	char *name, *version, *description;
	const struct vg_param_decl *params; /* borrowed from the plugin; valid while loaded */
	size_t n_params;
	uint32_t flags;
	int (*open)(const struct vg_host *, const struct vg_instance *, void **);
	void (*close)(void *);
	/*
	 * The kind's ops, copied member by member: a member appended in 1.N is
	 * copied only from a plugin built for 1.N or later, else left NULL.
	 */
	union {
		struct vg_transport_ops transport;
		struct vg_resource_ops resource;
		struct vg_fence_ops fence;
		struct vg_replication_ops replication;
	} ops;
	void *handle;          /* lt_dlhandle */
};

struct vg_registry {
	struct vg_plugin_info **plugins;
	size_t n_plugins;
	const struct vg_logger *log;
};

void vg_registry_init(struct vg_registry *reg, const struct vg_logger *log);
void vg_registry_free(struct vg_registry *reg);

/*
 * Load one file.  0 on success; a negative errno on refusal, with one
 * line naming the file and the reason written to errbuf (and logged).
 */
int vg_registry_load_file(struct vg_registry *reg, const char *path, char *errbuf, size_t errlen);

/*
 * Register a descriptor compiled into vigild itself (file "built-in"),
 * checked as a loaded one would be; `d` must outlive the registry.  Done
 * before any file is loaded, so that no plugin file can take its name.
 */
int vg_registry_add_builtin(struct vg_registry *reg, const struct vg_plugin *d, char *errbuf,
			    size_t errlen);

/*
 * Load every *.so in each directory of a ':'-separated list (missing
 * directories are skipped with a debug line).  Refused files are logged
 * and counted in *n_refused (may be NULL); returns the number loaded.
 */
int vg_registry_load_path(struct vg_registry *reg, const char *dirs, size_t *n_refused);

/*
 * Unload the plugins `keep` says no to (vigild, once its configuration is
 * loaded: a plugin no instance uses should not map its libraries).
 * Pointers to the kept ones stay valid.
 */
void vg_registry_keep_only(struct vg_registry *reg,
			   int (*keep)(const struct vg_plugin_info *pi, void *arg), void *arg);

/*
 * As vg_registry_load_path, but only the files whose name says they hold
 * one of `names` (plugin "udp-ucast" in udp_ucast.so): vigild loads what
 * its configuration uses and nothing else, so that the libraries of unused
 * plugins (OpenSSL, which cannot be unloaded) are never mapped.
 */
int vg_registry_load_named(struct vg_registry *reg, const char *dirs, char *const *names,
			   size_t n_names, size_t *n_refused);

const struct vg_plugin_info *vg_registry_find(const struct vg_registry *reg, const char *name);
const char *vg_kind_name(uint32_t kind);       /* "transport", ..., or NULL */
const char *vg_param_type_name(uint32_t type); /* "int", "duration_ms", ..., or NULL */

#endif
