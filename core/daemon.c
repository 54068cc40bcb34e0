/* vigild's life: load plugins and configuration, open the links, run the loop. */
#include "config.h"
#include "ctl.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"
#include "rsc_replication.h"
#include "vigild.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#ifndef VG_PLUGINS_DIR
#define VG_PLUGINS_DIR "/usr/local/lib/vigil/plugins"
#endif

static int load_dirs(struct vigild *vd, char *const *names, size_t n_names, size_t *n_refused)
{
	const char *env = getenv("VIGIL_PLUGIN_PATH");
	const char *dir = vd->opts.plugin_dir ? vd->opts.plugin_dir : VG_PLUGINS_DIR;
	int n = 0, rc;

	if (env && *env) {
		rc = vg_registry_load_named(&vd->reg, env, names, n_names, n_refused);
		if (rc < 0)
			return rc;
		n += rc;
	}
	rc = vg_registry_load_named(&vd->reg, dir, names, n_names, n_refused);
	return rc < 0 ? rc : n + rc;
}

void vigild_registry_init(struct vigild *vd)
{
	char err[512];

	vg_registry_init(&vd->reg, &vd->log);
	/* cannot fail but by a bug or no memory; logged by the registry, vigild runs without */
	vg_registry_add_builtin(&vd->reg, &vg_rsc_replication_plugin, err, sizeof(err));
}

/*
 * Running a cluster, load only the plugins its configuration names; if one
 * of them is not found that way (a file named otherwise), load them all,
 * and let the configuration's check say what is missing.
 */
int vigild_load_plugins(struct vigild *vd, size_t *n_refused)
{
	char **names = NULL;
	size_t n = 0, n_named = 0, found = 0;
	int rc;

	if (vd->opts.list_plugins || vd->opts.check_config ||
	    vg_config_plugin_names(vd->opts.config_path, &names, &n, &n_named) < 0)
		return load_dirs(vd, NULL, 0, n_refused);
	rc = load_dirs(vd, names, n, n_refused);
	for (size_t i = 0; i < n_named; i++)
		found += vg_registry_find(&vd->reg, names[i]) != NULL;
	vg_config_names_free(names);
	if (rc < 0 || found == n_named)
		return rc;
	vg_registry_free(&vd->reg);
	vigild_registry_init(vd);
	return load_dirs(vd, NULL, 0, n_refused);
}

static int pick_node(struct vigild *vd)
{
	const struct vg_node_conf *nc = NULL;
	char host[256] = "";

	if (vd->opts.node_name) {
		nc = vg_config_node_by_name(vd->cfg, vd->opts.node_name);
		if (!nc) {
			vg_logf(&vd->log, VG_LOG_ERR, "config", "%s: no node named \"%s\" in nodes",
				vd->cfg->path, vd->opts.node_name);
			return -ENOENT;
		}
	} else {
		gethostname(host, sizeof(host) - 1);
		nc = vg_config_node_by_name(vd->cfg, host);
		if (!nc) {
			vg_logf(&vd->log, VG_LOG_ERR, "config",
				"%s: this host's name \"%s\" is not a node name; start with --node NAME",
				vd->cfg->path, host);
			return -ENOENT;
		}
	}
	vd->node_id = nc->id;
	vd->log.ident = nc->name;
	return 0;
}

static void on_stop_signal(void *arg, int signo)
{
	struct vigild *vd = arg;

	vg_logf(&vd->log, VG_LOG_NOTICE, "vigild", "%s received: shutting down", strsignal(signo));
	vigild_shutdown(vd);
}

static int open_links(struct vigild *vd)
{
	int rc;

	vd->links = calloc(vd->cfg->n_links ? vd->cfg->n_links : 1, sizeof(*vd->links));
	if (!vd->links)
		return -ENOMEM;
	for (size_t i = 0; i < vd->cfg->n_links; i++) {
		rc = vg_plugin_inst_open(&vd->env, &vd->cfg->links[i], (uint32_t)i, &vd->links[i]);
		if (rc < 0)
			return rc;
		vd->n_links++;
	}
	vg_net_set_links(&vd->net, vd->links, vd->n_links);
	return 0;
}

static int start_net(struct vigild *vd)
{
	unsigned char *key = NULL;
	size_t key_len = 0;
	char err[512];
	int rc;

	rc = vg_keyfile_read(vd->cfg->key_file, &key, &key_len, err, sizeof(err));
	if (rc < 0) {
		vg_logf(&vd->log, VG_LOG_ERR, "config", "%s", err);
		return rc;
	}
	rc = vg_net_init(&vd->net, vd->cfg, vd->node_id, key, key_len, vd->loop, &vd->log);
	explicit_bzero(key, key_len);
	free(key);
	if (rc < 0)
		return rc;
	vd->net_ready = 1;
	vd->env.frame_received = vg_net_frame_received;
	vd->env.link_state = vg_net_link_state;
	vd->env.arg = &vd->net;
	return 0;
}

/* The socket's directory is created when missing (e.g. /run/vigil after a reboot). */
static int start_ctl(struct vigild *vd)
{
	const char *path = vd->opts.ctl_socket ? vd->opts.ctl_socket : vd->cfg->ctl_socket;
	char dir[4096];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			vg_logf(&vd->log, VG_LOG_WARNING, "ctl", "cannot create %s: %s", dir,
				strerror(errno));
	}
	return vg_ctl_start(vd->loop, &vd->log, path, vd->cfg->ctl_group, vigild_ctl_handle, vd,
			    &vd->ctl);
}

static int syslog_facility(const char *name)
{
	static const struct { const char *name; int facility; } map[] = {
		{ "daemon", LOG_DAEMON }, { "user", LOG_USER }, { "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 },
	};

	for (size_t i = 0; name && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].name, name))
			return map[i].facility;
	return LOG_DAEMON; /* the schema allows nothing else */
}

static void apply_logging(struct vigild *vd)
{
	if (vd->opts.log_level < 0)
		vd->log.level = vd->cfg->log_level;
	vd->log.to_stderr = vd->cfg->log_stderr;
	if (vd->cfg->log_syslog) {
		openlog("vigild", LOG_PID, syslog_facility(vd->cfg->log_facility));
		vd->log.to_syslog = 1;
	}
}

static int named_by(const struct vg_instance_conf *v, size_t n, const struct vg_plugin_info *pi)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].info == pi)
			return 1;
		/* a wrapper (chaos) names the transport it opens in a string param */
		for (size_t j = 0; pi->kind == VG_KIND_TRANSPORT && j < v[i].n_values; j++)
			if (v[i].values[j].s && !strcmp(v[i].values[j].s, pi->name))
				return 1;
	}
	return 0;
}

static int plugin_used(const struct vg_plugin_info *pi, void *arg)
{
	const struct vg_config *cfg = arg;

	return named_by(cfg->links, cfg->n_links, pi) ||
	       named_by(cfg->resources, cfg->n_resources, pi) ||
	       named_by(cfg->fence_devices, cfg->n_fence_devices, pi) ||
	       named_by(cfg->replications, cfg->n_replications, pi);
}

/* Realtime priority and locked memory keep heartbeats on time under load. */
static void apply_scheduling(struct vigild *vd)
{
	struct sched_param sp = { .sched_priority = (int)vd->cfg->rt_priority };

	if (vd->cfg->rt_priority) {
		if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) < 0)
			vg_logf(&vd->log, VG_LOG_WARNING, "vigild",
				"scheduling.realtime_priority %u: %s: running with normal priority",
				vd->cfg->rt_priority, strerror(errno));
		else
			vg_logf(&vd->log, VG_LOG_INFO, "vigild", "running SCHED_FIFO priority %u",
				vd->cfg->rt_priority);
	}
	if (vd->cfg->mlockall && mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		vg_logf(&vd->log, VG_LOG_WARNING, "vigild", "scheduling.mlockall: %s",
			strerror(errno));
}

int vigild_setup(struct vigild *vd)
{
	char err[1024];
	int rc;

	rc = vg_config_load(vd->opts.config_path, &vd->reg, &vd->cfg, err, sizeof(err));
	if (rc < 0) {
		vg_logf(&vd->log, VG_LOG_ERR, "config", "%s", err);
		return rc;
	}
	apply_logging(vd);
	/* unused plugins go before mlockall: their libraries (OpenSSL...) stay unmapped */
	vg_registry_keep_only(&vd->reg, plugin_used, vd->cfg);
	apply_scheduling(vd);
	rc = pick_node(vd);
	if (rc < 0)
		return rc;
	rc = vg_loop_new(&vd->log, &vd->loop);
	if (rc < 0)
		return rc;
	vg_loop_signal(vd->loop, SIGTERM, on_stop_signal, vd);
	vg_loop_signal(vd->loop, SIGINT, on_stop_signal, vd);
	signal(SIGPIPE, SIG_IGN);
	vd->env = (struct vg_host_env){ .loop = vd->loop, .log = &vd->log, .cfg = vd->cfg,
					.reg = &vd->reg, .local_node_id = vd->node_id };
	vd->started_ms = vg_loop_now_ms(vd->loop);
	rc = start_net(vd);
	if (rc == 0)
		rc = open_links(vd);
	if (rc == 0)
		rc = vg_membership_start(&vd->mship, vd->cfg, &vd->net, vd->loop, &vd->log);
	if (rc == 0)
		rc = vigild_cluster_start(vd);
	if (rc == 0)
		rc = start_ctl(vd);
	return rc;
}

int vigild_run(struct vigild *vd)
{
	vg_logf(&vd->log, VG_LOG_NOTICE, "vigild", "node %u of cluster \"%s\" running with %zu link(s)",
		vd->node_id, vd->cfg->cluster_name, vd->n_links);
	return vg_loop_run(vd->loop);
}

void vigild_teardown(struct vigild *vd)
{
	vg_ctl_stop(vd->ctl);
	vigild_cluster_stop(vd);
	if (vd->net_ready)
		vg_membership_stop(&vd->mship);
	for (size_t i = vd->n_links; i-- > 0;)
		vg_plugin_inst_close(vd->links[i]);
	free(vd->links);
	if (vd->net_ready)
		vg_net_free(&vd->net);
	vg_loop_free(vd->loop);
	vg_config_free(vd->cfg);
	vg_registry_free(&vd->reg);
}
