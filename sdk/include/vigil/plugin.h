/*
 * vigil plugin SDK — the umbrella header.
 *
 * A plugin is a shared object (a libtool module) that exports exactly one
 * symbol, `vigil_plugin`, a const struct vg_plugin written with
 * VG_PLUGIN_DEFINE().  vigild loads it with libltdl, checks the descriptor,
 * validates the instance parameters from the configuration against the
 * declared table, and only then calls open().
 *
 *     #include <vigil/plugin.h>
 *
 *     static const struct vg_param_decl params[] = {
 *         { .name = "port", .type = VG_PARAM_INT, .def = "5405",
 *           .min = 1, .max = 65535, .help = "UDP port" },
 *         { .name = NULL }
 *     };
 *     VG_PLUGIN_DEFINE(
 *         .kind = VG_KIND_TRANSPORT, .name = "udp-x", .version = "1.0",
 *         .description = "...", .params = params,
 *         .open = x_open, .close = x_close, .ops = &x_ops);
 *
 * See docs/plugin-guide.md.
 */
#ifndef VIGIL_PLUGIN_H
#define VIGIL_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <vigil/abi.h>
#include <vigil/host.h>

/* A declared parameter.  A table of them ends with an entry whose name is NULL. */
struct vg_param_decl {
	/* Key in the instance's `params` group: [a-z0-9_]+, unique in the table. */
	const char *name;
	/* enum vg_param_type. */
	uint32_t type;
	/* VG_PARAM_* flag bits. */
	uint32_t flags;
	/*
	 * Default, written as in the configuration file ("5405", "true",
	 * "250", "eth0"), parsed and checked by the core like a configured
	 * value.  NULL: no default (the value is unset unless required).
	 */
	const char *def;
	/* INT and DURATION_MS: inclusive range.  min == max == 0: any value >= 0. */
	int64_t min;
	int64_t max;
	/* ENUM: the allowed words, NULL-terminated.  Ignored for other types. */
	const char *const *choices;
	/* One line for `vigild --list-plugins` and the docs. */
	const char *help;
};

/*
 * A parameter's value, as the core checked it.  open() gets one per
 * declared parameter, in the order of the declaration table.  Owned by the
 * core, valid until close() returns.
 */
struct vg_value {
	/* 1 when the configuration gave it or a default applied; 0 when unset. */
	int is_set;
	/* BOOL (0/1), INT, DURATION_MS, and ENUM (index into choices). */
	int64_t i;
	/* STRING, PATH, SECRET, ENUM (the chosen word); NULL when unset. */
	const char *s;
};

/* A free-form key/value pair (resource agent attributes, environment). */
struct vg_attr {
	const char *key;
	const char *value;
};

/* What open() is told about the instance.  Owned by the core, valid until close() returns. */
struct vg_instance {
	/* Instance name from the configuration ("vip", "ring0", "ipmi-n1"). */
	const char *name;
	/* One value per declared parameter, same order as vg_plugin.params. */
	const struct vg_value *params;
	size_t n_params;
	/*
	 * The instance's `attributes` group, only for plugins with
	 * VG_PLUGIN_F_ATTRS (e.g. an adapter whose agent declares its own
	 * parameters).  Values are strings.  NULL/0 otherwise.
	 */
	const struct vg_attr *attrs;
	size_t n_attrs;
	/* Transports: index of the link this instance serves (0-based). */
	uint32_t link;
};

/* Plugin flags (vg_plugin.flags).  Bits, append-only. */
#define VG_PLUGIN_F_ATTRS (1u << 0) /* accepts a free-form `attributes` group */

/* The descriptor.  Members are never reordered, removed or retyped. */
struct vg_plugin {
	/* Filled by VG_PLUGIN_DEFINE from the headers the plugin was built with. */
	uint16_t abi_major;
	uint16_t abi_minor;
	/* enum vg_kind. */
	uint32_t kind;
	/* Unique plugin name: [a-z0-9-]+, e.g. "udp-mcast". */
	const char *name;
	/* The plugin's own version, free text ("1.0.2"). */
	const char *version;
	/* One line saying what it does. */
	const char *description;
	/* Declared parameters, ended by an entry with name == NULL.  NULL: none. */
	const struct vg_param_decl *params;
	/*
	 * Required.  Create an instance.  On success store its state in
	 * *state and return 0; on failure clean up everything, return a
	 * negative errno and log why (close() is not called then).
	 * `host` and `inst` stay valid until close() returns.
	 */
	int (*open)(const struct vg_host *host, const struct vg_instance *inst, void **state);
	/* Required.  Free an instance and everything it holds. */
	void (*close)(void *state);
	/*
	 * Required.  The kind's ops table: const struct vg_transport_ops *,
	 * vg_resource_ops *, vg_fence_ops * or (1.3) vg_replication_ops *.
	 */
	const void *ops;
	/* VG_PLUGIN_F_* bits. */
	uint32_t flags;
};

/* Name of the one symbol every plugin exports. */
#define VG_PLUGIN_SYMBOL "vigil_plugin"

/* Define the plugin's descriptor; arguments are designated initialisers. */
#define VG_PLUGIN_DEFINE(...)                                      \
	extern const struct vg_plugin vigil_plugin;                \
	__attribute__((visibility("default")))                     \
	const struct vg_plugin vigil_plugin = {                    \
		.abi_major = VG_ABI_MAJOR,                         \
		.abi_minor = VG_ABI_MINOR,                         \
		__VA_ARGS__                                        \
	}

#include <vigil/transport.h>
#include <vigil/resource.h>
#include <vigil/fence.h>
#include <vigil/replication.h>

#endif /* VIGIL_PLUGIN_H */
