/*
 * vigilctl simulate: what the policy engine would do for a saved cluster
 * state (vigilctl cluster-state > FILE), without a cluster, as crm_simulate
 * does for Pacemaker.  Loads the configuration (and so the plugins that
 * check it) exactly as vigild does.
 */
#include "config.h"
#include "log.h"
#include "plugin.h"
#include "policy/model.h"
#include "policy/pe_json.h"
#include "simulate.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef VG_PLUGINS_DIR
#define VG_PLUGINS_DIR "/usr/local/lib/vigil/plugins"
#endif

struct sim_opts {
	const char *config, *state;
	const char *down[16], *standby[16];
	size_t n_down, n_standby;
	int json;
};

static int sim_parse(int argc, char **argv, struct sim_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state", required_argument, NULL, 's' },
		{ "node-down", required_argument, NULL, 'd' },
		{ "standby", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:s:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 's': o->state = optarg; break;
		case 'd':
			if (o->n_down < 16)
				o->down[o->n_down++] = optarg;
			break;
		case 'b':
			if (o->n_standby < 16)
				o->standby[o->n_standby++] = optarg;
			break;
		case 'j': o->json = 1; break;
		default: return -1;
		}
	}
	if (!o->config || !o->state) {
		fprintf(stderr, "usage: vigilctl simulate --config FILE --state STATE.json [--node-down NODE]... [--standby NODE]... [--json]\n");
		return -1;
	}
	return 0;
}

/* What-if: a node lost (unclean when fencing is on), or put in standby. */
static int sim_inject(const struct sim_opts *o, const struct vg_pe_model *m, struct vg_pe_input *in)
{
	for (size_t i = 0; i < o->n_down + o->n_standby; i++) {
		const char *name = i < o->n_down ? o->down[i] : o->standby[i - o->n_down];
		int n = vg_pe_model_node(m, name);

		if (n < 0) {
			fprintf(stderr, "vigilctl simulate: no node named \"%s\" in the configuration\n", name);
			return -1;
		}
		if (i < o->n_down) {
			in->nodes[n].online = 0;
			in->nodes[n].unclean = in->fencing_enabled;
		} else {
			in->nodes[n].standby = 1;
		}
	}
	return 0;
}

static int sim_run(const struct sim_opts *o, const struct vg_config *cfg)
{
	struct vg_pe_model model;
	struct vg_pe_input in;
	struct vg_pe_transition tr;
	json_error_t jerr;
	json_t *state = json_load_file(o->state, 0, &jerr);
	char err[512];
	int rc = 1;

	if (!state) {
		fprintf(stderr, "vigilctl simulate: %s:%d: %s\n", o->state, jerr.line, jerr.text);
		return 1;
	}
	if (vg_pe_model_build(cfg, &model) < 0)
		goto out_state;
	if (vg_pe_input_from_json(state, &model, &in, err, sizeof(err)) < 0) {
		fprintf(stderr, "vigilctl simulate: %s: %s\n", o->state, err);
		goto out_model;
	}
	if (sim_inject(o, &model, &in) == 0 && vg_pe_compute(&in, &tr) == 0) {
		if (o->json) {
			json_t *j = vg_pe_transition_to_json(&tr, &model);

			json_dumpf(j, stdout, JSON_INDENT(2));
			printf("\n");
			json_decref(j);
		} else {
			vg_pe_transition_print(stdout, &tr, &model);
		}
		vg_pe_transition_free(&tr);
		rc = 0;
	}
	vg_pe_input_json_free(&in);
out_model:
	vg_pe_model_free(&model);
out_state:
	json_decref(state);
	return rc;
}

int vg_simulate_main(int argc, char **argv)
{
	struct sim_opts o = { 0 };
	struct vg_logger log;
	struct vg_registry reg;
	struct vg_config *cfg = NULL;
	const char *path = getenv("VIGIL_PLUGIN_PATH");
	char err[1024];
	int rc = 2;

	if (sim_parse(argc, argv, &o) < 0)
		return 2;
	vg_logger_init(&log);
	log.level = VG_LOG_ERR;
	vg_registry_init(&reg, &log);
	if (path && *path)
		vg_registry_load_path(&reg, path, NULL);
	vg_registry_load_path(&reg, VG_PLUGINS_DIR, NULL);
	if (vg_config_load(o.config, &reg, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "vigilctl simulate: %s\n", err);
		rc = 1;
	} else {
		rc = sim_run(&o, cfg);
	}
	vg_config_free(cfg);
	vg_registry_free(&reg);
	return rc;
}
