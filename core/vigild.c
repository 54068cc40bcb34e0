/* vigild: one per node.  main() parses options and hands over to daemon.c. */
#include "config.h"
#include "log.h"
#include "plugin.h"
#include "vigild.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigild [-c FILE] [--node NAME] [--socket PATH] [--plugin-dir DIRS] [-v|-q]\n"
		"       vigild --check-config FILE [--plugin-dir DIRS]\n"
		"       vigild --list-plugins [--json] [--plugin-dir DIRS]\n"
		"Plugins are searched in $VIGIL_PLUGIN_PATH, then DIRS (':'-separated).\n");
}

static int parse_opts(int argc, char **argv, struct vigild_opts *o)
{
	enum { OPT_LIST = 256, OPT_JSON, OPT_CHECK, OPT_NODE, OPT_PLUGIN_DIR, OPT_SOCKET };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "node", required_argument, NULL, OPT_NODE },
		{ "plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR },
		{ "list-plugins", no_argument, NULL, OPT_LIST },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "check-config", required_argument, NULL, OPT_CHECK },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct vigild_opts){ .config_path = "/etc/vigil/cluster.conf", .log_level = -1 };
	while ((c = getopt_long(argc, argv, "c:vqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config_path = optarg; break;
		case OPT_NODE: o->node_name = optarg; break;
		case OPT_PLUGIN_DIR: o->plugin_dir = optarg; break;
		case OPT_LIST: o->list_plugins = 1; break;
		case OPT_JSON: o->json = 1; break;
		case OPT_SOCKET: o->ctl_socket = optarg; break;
		case OPT_CHECK: o->check_config = optarg; break;
		case 'v': o->log_level = VG_LOG_DEBUG; break;
		case 'q': o->log_level = VG_LOG_WARNING; break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

static int check_config(struct vigild *vd)
{
	struct vg_config *cfg = NULL;
	char err[1024];
	int rc;

	rc = vg_config_load(vd->opts.check_config, &vd->reg, &cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("%s: configuration is valid (cluster \"%s\", %zu nodes, %zu links)\n", cfg->path,
	       cfg->cluster_name, cfg->n_nodes, cfg->n_links);
	vg_config_free(cfg);
	return 0;
}

int main(int argc, char **argv)
{
	struct vigild vd;
	int rc;

	memset(&vd, 0, sizeof(vd));
	if (parse_opts(argc, argv, &vd.opts) < 0) {
		usage(stderr);
		return 2;
	}
	vg_logger_init(&vd.log);
	if (vd.opts.log_level >= 0)
		vd.log.level = vd.opts.log_level;
	if (vd.opts.list_plugins || vd.opts.check_config)
		vd.log.level = vd.opts.log_level >= 0 ? vd.opts.log_level : VG_LOG_WARNING;
	vigild_registry_init(&vd);
	vigild_load_plugins(&vd, NULL);
	if (vd.opts.list_plugins)
		rc = vigild_list_plugins(&vd, vd.opts.json) < 0 ? 1 : 0;
	else if (vd.opts.check_config)
		rc = check_config(&vd);
	else
		rc = vigild_setup(&vd) < 0 ? 1 : (vigild_run(&vd) < 0 ? 1 : 0);
	if (vd.opts.list_plugins || vd.opts.check_config)
		vg_registry_free(&vd.reg);
	else
		vigild_teardown(&vd);
	return rc;
}
