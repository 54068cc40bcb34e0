/*
 * The core's built-in resource plugin "replication" (rsc_replication.c):
 * drives a replication instance of the configuration as a promotable
 * resource.  Registered with vg_registry_add_builtin() before any plugin
 * file is loaded; the executor finds the instances through
 * vg_host_env.repl.
 */
#ifndef VG_CORE_RSC_REPLICATION_H
#define VG_CORE_RSC_REPLICATION_H

#include <vigil/plugin.h>

extern const struct vg_plugin vg_rsc_replication_plugin;

#endif
