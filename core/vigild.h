/* The daemon's one context: everything vigild owns hangs off struct vigild. */
#ifndef VG_CORE_VIGILD_H
#define VG_CORE_VIGILD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cstate.h"
#include "dc.h"
#include "executor.h"
#include "fencer.h"
#include "host.h"
#include "log.h"
#include "membership.h"
#include "net.h"
#include "plugin.h"
#include "replication.h"

struct vg_loop;
struct vg_config;
struct vg_ctl;

struct vigild_opts {
	const char *config_path;   /* -c FILE */
	const char *node_name;     /* --node NAME; default: by local address, then hostname */
	const char *plugin_dir;    /* --plugin-dir DIRS; default the built-in plugins dir */
	int list_plugins;          /* --list-plugins */
	int json;                  /* --json */
	const char *check_config;  /* --check-config FILE */
	const char *ctl_socket;    /* --socket PATH: overrides ctl.socket */
	int log_level;             /* -v / -q adjustments, -1: from the configuration */
};

struct vigild {
	struct vigild_opts opts;
	struct vg_logger log;
	struct vg_registry reg;
	struct vg_loop *loop;
	struct vg_config *cfg;
	struct vg_host_env env;
	uint32_t node_id;
	struct vg_plugin_inst **links;
	size_t n_links;
	struct vg_net net;
	int net_ready;
	struct vg_membership mship;
	struct vg_ctl *ctl;
	uint64_t started_ms;
	struct vg_executor ex;
	struct vg_cstate cs;
	struct vg_dc dc;
	struct vg_fencer fencer;
	struct vg_repl_set repl;
	int cluster_ready;
	int shutting_down;
	uint64_t shutdown_started_ms;
	struct vg_timer *shutdown_timer;
	int was_quorate;
};

/* An empty registry holding the core's built-in plugins ("replication"). */
void vigild_registry_init(struct vigild *vd);
/* Plugin search path: $VIGIL_PLUGIN_PATH, then opts.plugin_dir or the built-in dir. */
int vigild_load_plugins(struct vigild *vd, size_t *n_refused);
/* --list-plugins: print the registry, human or JSON.  Returns 0 or -errno. */
int vigild_list_plugins(const struct vigild *vd, int json);

/* vigilctl requests (commands.c) and the status they read (status.c). */
json_t *vigild_ctl_handle(void *arg, const json_t *request);
json_t *vigild_status_json(const struct vigild *vd);
json_t *vigild_status_resources(const struct vigild *vd);
json_t *vigild_status_replication(const struct vigild *vd);
/* The engine's input now, as a saved cluster state (for vigilctl simulate). */
json_t *vigild_cluster_state_json(struct vigild *vd);

/* cluster.c: the resource side (executor, cluster state, DC) and shutdown. */
int vigild_cluster_start(struct vigild *vd);
void vigild_cluster_stop(struct vigild *vd);
/* SIGTERM: let the DC move our resources away, then leave; a second one leaves now. */
void vigild_shutdown(struct vigild *vd);

/* Load the configuration, pick this node, create the loop, open the links. */
int vigild_setup(struct vigild *vd);
/* Run until SIGTERM/SIGINT. */
int vigild_run(struct vigild *vd);
void vigild_teardown(struct vigild *vd);

#endif
