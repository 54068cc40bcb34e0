/* vigild --list-plugins: the registry for humans and, with --json, scripts. */
#include "plugin.h"
#include "vigild.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

static void print_param(const struct vg_param_decl *p)
{
	printf("    %s %s", p->name, vg_param_type_name(p->type));
	if (p->flags & VG_PARAM_REQUIRED)
		printf(" required");
	if (p->def)
		printf(" default=%s", p->type == VG_PARAM_SECRET ? "<secret>" : p->def);
	if ((p->type == VG_PARAM_INT || p->type == VG_PARAM_DURATION_MS) && (p->min || p->max))
		printf(" range %" PRId64 "..%" PRId64, p->min, p->max);
	if (p->type == VG_PARAM_ENUM) {
		printf(" choices ");
		for (size_t i = 0; p->choices[i]; i++)
			printf("%s%s", i ? "|" : "", p->choices[i]);
	}
	printf(" — %s\n", p->help ? p->help : "");
}

static json_t *param_json(const struct vg_param_decl *p)
{
	json_t *o = json_object(), *choices = json_null();

	if (p->type == VG_PARAM_ENUM) {
		choices = json_array();
		for (size_t i = 0; p->choices[i]; i++)
			json_array_append_new(choices, json_string(p->choices[i]));
	}
	json_object_set_new(o, "name", json_string(p->name));
	json_object_set_new(o, "type", json_string(vg_param_type_name(p->type)));
	json_object_set_new(o, "required", json_boolean(p->flags & VG_PARAM_REQUIRED));
	json_object_set_new(o, "default", p->def && p->type != VG_PARAM_SECRET ?
				json_string(p->def) : json_null());
	json_object_set_new(o, "min", json_integer(p->min));
	json_object_set_new(o, "max", json_integer(p->max));
	json_object_set_new(o, "choices", choices);
	json_object_set_new(o, "help", json_string(p->help ? p->help : ""));
	return o;
}

static json_t *plugin_json(const struct vg_plugin_info *pi)
{
	json_t *o = json_object(), *params = json_array();
	char abi[32];

	snprintf(abi, sizeof(abi), "%u.%u", pi->abi_major, pi->abi_minor);
	for (size_t i = 0; i < pi->n_params; i++)
		json_array_append_new(params, param_json(&pi->params[i]));
	json_object_set_new(o, "name", json_string(pi->name));
	json_object_set_new(o, "kind", json_string(vg_kind_name(pi->kind)));
	json_object_set_new(o, "version", json_string(pi->version));
	json_object_set_new(o, "description", json_string(pi->description));
	json_object_set_new(o, "file", json_string(pi->file));
	json_object_set_new(o, "abi", json_string(abi));
	json_object_set_new(o, "params", params);
	return o;
}

int vigild_list_plugins(const struct vigild *vd, int json)
{
	const struct vg_registry *reg = &vd->reg;

	if (json) {
		json_t *arr = json_array();
		int rc;

		for (size_t i = 0; i < reg->n_plugins; i++)
			json_array_append_new(arr, plugin_json(reg->plugins[i]));
		rc = json_dumpf(arr, stdout, JSON_INDENT(2));
		json_decref(arr);
		printf("\n");
		return rc < 0 ? -EIO : 0;
	}
	for (size_t i = 0; i < reg->n_plugins; i++) {
		const struct vg_plugin_info *pi = reg->plugins[i];

		printf("%s (%s) %s — %s\n", pi->name, vg_kind_name(pi->kind), pi->version,
		       pi->description);
		for (size_t j = 0; j < pi->n_params; j++)
			print_param(&pi->params[j]);
	}
	if (reg->n_plugins == 0)
		printf("no plugins found\n");
	return 0;
}
