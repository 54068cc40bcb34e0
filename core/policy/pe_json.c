/* Saved cluster states and transitions as JSON (jansson, never hand-built). */
#include "pe_json.h"

#include <vigil/abi.h>

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const role_names[] = {
	[VG_ROLE_UNKNOWN] = "unknown",
	[VG_ROLE_STOPPED] = "stopped",
	[VG_ROLE_STARTED] = "started",
	[VG_ROLE_PROMOTED] = "promoted",
};

const char *vg_pe_role_name(uint32_t role)
{
	return role >= VG_ROLE_UNKNOWN && role <= VG_ROLE_PROMOTED ? role_names[role] : "?";
}

int vg_pe_role_parse(const char *name)
{
	for (int r = VG_ROLE_UNKNOWN; name && r <= VG_ROLE_PROMOTED; r++)
		if (!strcmp(role_names[r], name))
			return r;
	return -1;
}

static const char *action_name(uint32_t a)
{
	switch (a) {
	case VG_RSC_START: return "start";
	case VG_RSC_STOP: return "stop";
	case VG_RSC_PROMOTE: return "promote";
	case VG_RSC_DEMOTE: return "demote";
	default: return "?";
	}
}

static json_t *state_json(const struct vg_pe_rsc_state *st, uint64_t now)
{
	return json_pack("{s:s, s:b, s:i, s:o}", "role", vg_pe_role_name(st->role),
			 "failed", st->failed, "fail_count", (int)st->fail_count,
			 "failure_age_ms", st->last_failure_ms ?
			 json_integer((json_int_t)(now - st->last_failure_ms)) : json_null());
}

json_t *vg_pe_input_to_json(const struct vg_pe_input *in)
{
	const struct vg_pe_model *m = in->model;
	json_t *nodes = json_array(), *rscs = json_object(), *locs = json_array();

	for (size_t n = 0; n < m->n_nodes; n++)
		json_array_append_new(nodes, json_pack("{s:s, s:i, s:b, s:b, s:b}",
			"name", m->node_names[n], "id", (int)in->nodes[n].id,
			"online", in->nodes[n].online, "standby", in->nodes[n].standby,
			"unclean", in->nodes[n].unclean));
	for (size_t r = 0; r < m->n_primitives; r++) {
		json_t *per = json_object();

		for (size_t n = 0; n < m->n_nodes; n++)
			json_object_set_new(per, m->node_names[n],
					    state_json(&in->state[r * m->n_nodes + n], in->now_ms));
		json_object_set_new(rscs, m->primitives[r].id, per);
	}
	for (size_t i = 0; i < in->n_runtime_locations; i++) {
		const struct vg_pe_location *l = &in->runtime_locations[i];
		const char *id = l->rsc.kind == VG_PE_PRIMITIVE ? m->primitives[l->rsc.index].id :
				 l->rsc.kind == VG_PE_GROUP ? m->groups[l->rsc.index].id :
				 m->clones[l->rsc.index].id;

		json_array_append_new(locs, json_pack("{s:s, s:s, s:i}", "resource", id, "node",
						      m->node_names[l->node], "score", (int)l->score));
	}
	return json_pack("{s:s, s:b, s:s, s:b, s:b, s:o, s:o, s:o}",
			 "format", "vigil-cluster-state/1", "quorate", in->quorate,
			 "no_quorum_policy", in->no_quorum == VG_PE_NQ_FREEZE ? "freeze" :
			 in->no_quorum == VG_PE_NQ_IGNORE ? "ignore" : "stop",
			 "fencing_enabled", in->fencing_enabled, "maintenance", in->maintenance,
			 "nodes", nodes, "resources", rscs, "locations", locs);
}

__attribute__((format(printf, 3, 4)))
static int bad(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int node_of(const struct vg_pe_model *m, const char *name)
{
	for (size_t n = 0; name && n < m->n_nodes; n++)
		if (!strcmp(m->node_names[n], name))
			return (int)n;
	return -1;
}

static int rsc_of(const struct vg_pe_model *m, const char *id, struct vg_pe_ref *ref)
{
	for (size_t i = 0; id && i < m->n_primitives; i++)
		if (!strcmp(m->primitives[i].id, id)) {
			*ref = (struct vg_pe_ref){ VG_PE_PRIMITIVE, (uint32_t)i };
			return 0;
		}
	for (size_t i = 0; id && i < m->n_groups; i++)
		if (!strcmp(m->groups[i].id, id)) {
			*ref = (struct vg_pe_ref){ VG_PE_GROUP, (uint32_t)i };
			return 0;
		}
	for (size_t i = 0; id && i < m->n_clones; i++)
		if (!strcmp(m->clones[i].id, id)) {
			*ref = (struct vg_pe_ref){ VG_PE_CLONE, (uint32_t)i };
			return 0;
		}
	return -1;
}

/* A fixed clock for saved states: failure ages are relative to it. */
#define SAVED_NOW_MS 1000000000000ull

static int nodes_from_json(const json_t *arr, const struct vg_pe_model *m,
			   struct vg_pe_input *in, char *errbuf, size_t errlen)
{
	json_t *o;
	size_t i;

	for (size_t n = 0; n < m->n_nodes; n++)
		in->nodes[n] = (struct vg_pe_node){ .id = (uint32_t)n + 1 };
	json_array_foreach(arr, i, o) {
		const char *name = json_string_value(json_object_get(o, "name"));
		int n = node_of(m, name);

		if (n < 0)
			return bad(errbuf, errlen, "nodes[%zu]: no node named \"%s\" in the configuration",
				   i, name ? name : "");
		if (json_is_integer(json_object_get(o, "id")))
			in->nodes[n].id = (uint32_t)json_integer_value(json_object_get(o, "id"));
		in->nodes[n].online = json_is_true(json_object_get(o, "online"));
		in->nodes[n].standby = json_is_true(json_object_get(o, "standby"));
		in->nodes[n].unclean = json_is_true(json_object_get(o, "unclean"));
	}
	return 0;
}

static int one_state(const json_t *o, struct vg_pe_rsc_state *st, const char *rsc,
		     const char *node, char *errbuf, size_t errlen)
{
	const char *role = json_string_value(json_object_get(o, "role"));
	json_t *age = json_object_get(o, "failure_age_ms");
	int r = vg_pe_role_parse(role ? role : "stopped");

	if (r < 0)
		return bad(errbuf, errlen, "resources.%s.%s.role: expected unknown, stopped, started or promoted, got \"%s\"",
			   rsc, node, role);
	st->role = (uint32_t)r;
	st->failed = json_is_true(json_object_get(o, "failed"));
	st->fail_count = (uint32_t)json_integer_value(json_object_get(o, "fail_count"));
	st->last_failure_ms = json_is_integer(age) ?
		SAVED_NOW_MS - (uint64_t)json_integer_value(age) : 0;
	return 0;
}

static int states_from_json(const json_t *rscs, const struct vg_pe_model *m,
			    struct vg_pe_input *in, char *errbuf, size_t errlen)
{
	const char *id, *node;
	json_t *per, *o;

	for (size_t i = 0; i < m->n_primitives * m->n_nodes; i++)
		in->state[i].role = VG_ROLE_STOPPED;
	json_object_foreach((json_t *)rscs, id, per) {
		struct vg_pe_ref ref;

		if (rsc_of(m, id, &ref) < 0 || ref.kind != VG_PE_PRIMITIVE)
			return bad(errbuf, errlen, "resources: no resource named \"%s\" in the configuration", id);
		json_object_foreach(per, node, o) {
			int n = node_of(m, node);

			if (n < 0)
				return bad(errbuf, errlen, "resources.%s: no node named \"%s\"", id, node);
			if (one_state(o, &in->state[ref.index * m->n_nodes + (size_t)n], id, node,
				      errbuf, errlen) < 0)
				return -EINVAL;
		}
	}
	return 0;
}

static int locations_from_json(const json_t *arr, const struct vg_pe_model *m,
			       struct vg_pe_location *locs, size_t *n_locs, char *errbuf,
			       size_t errlen)
{
	json_t *o;
	size_t i;

	json_array_foreach(arr, i, o) {
		const char *rsc = json_string_value(json_object_get(o, "resource"));
		int n = node_of(m, json_string_value(json_object_get(o, "node")));

		if (rsc_of(m, rsc, &locs[*n_locs].rsc) < 0 || n < 0)
			return bad(errbuf, errlen, "locations[%zu]: unknown resource or node", i);
		locs[*n_locs].node = (uint32_t)n;
		locs[*n_locs].score = (vg_score)json_integer_value(json_object_get(o, "score"));
		(*n_locs)++;
	}
	return 0;
}

int vg_pe_input_from_json(const json_t *j, const struct vg_pe_model *m,
			  struct vg_pe_input *in, char *errbuf, size_t errlen)
{
	const char *fmt = json_string_value(json_object_get(j, "format"));
	const char *nq = json_string_value(json_object_get(j, "no_quorum_policy"));
	json_t *locs_j = json_object_get(j, "locations");
	struct vg_pe_location *locs;
	int rc;

	memset(in, 0, sizeof(*in));
	if (!fmt || strcmp(fmt, "vigil-cluster-state/1"))
		return bad(errbuf, errlen, "format: expected \"vigil-cluster-state/1\", got \"%s\"",
			   fmt ? fmt : "");
	in->model = m;
	in->nodes = calloc(m->n_nodes + 1, sizeof(*in->nodes));
	in->state = calloc(m->n_nodes * m->n_primitives + 1, sizeof(*in->state));
	locs = calloc(json_array_size(locs_j) + 1, sizeof(*locs));
	in->runtime_locations = locs;
	if (!in->nodes || !in->state || !locs) {
		vg_pe_input_json_free(in);
		return -ENOMEM;
	}
	in->quorate = !json_is_false(json_object_get(j, "quorate"));
	in->no_quorum = nq && !strcmp(nq, "freeze") ? VG_PE_NQ_FREEZE :
			nq && !strcmp(nq, "ignore") ? VG_PE_NQ_IGNORE : VG_PE_NQ_STOP;
	in->fencing_enabled = !json_is_false(json_object_get(j, "fencing_enabled"));
	in->maintenance = json_is_true(json_object_get(j, "maintenance"));
	in->now_ms = SAVED_NOW_MS;
	rc = nodes_from_json(json_object_get(j, "nodes"), m, in, errbuf, errlen);
	if (!rc)
		rc = states_from_json(json_object_get(j, "resources"), m, in, errbuf, errlen);
	if (!rc)
		rc = locations_from_json(locs_j, m, locs, &in->n_runtime_locations, errbuf, errlen);
	if (rc)
		vg_pe_input_json_free(in);
	return rc;
}

void vg_pe_input_json_free(struct vg_pe_input *in)
{
	free(in->nodes);
	free(in->state);
	free((void *)in->runtime_locations);
	memset(in, 0, sizeof(*in));
}

json_t *vg_pe_transition_to_json(const struct vg_pe_transition *tr, const struct vg_pe_model *m)
{
	json_t *acts = json_array(), *place = json_object(), *notes = json_array();

	for (size_t i = 0; i < tr->n_actions; i++) {
		const struct vg_pe_action *a = &tr->actions[i];
		json_t *deps = json_array();

		for (size_t d = 0; d < a->n_deps; d++)
			json_array_append_new(deps, json_integer(a->deps[d]));
		if (a->kind == VG_PE_ACT_FENCE)
			json_array_append_new(acts, json_pack("{s:i, s:s, s:s, s:o}", "id", (int)i,
				"action", "fence", "node", m->node_names[a->node], "after", deps));
		else
			json_array_append_new(acts, json_pack("{s:i, s:s, s:s, s:s, s:o}", "id", (int)i,
				"action", action_name(a->action), "resource", m->primitives[a->primitive].id,
				"node", m->node_names[a->node], "after", deps));
	}
	for (size_t r = 0; tr->placement && r < m->n_primitives; r++) {
		const struct vg_pe_placement *p = &tr->placement[r];
		json_t *on = json_array();

		if (p->clone_nodes)
			for (size_t k = 0; k < p->n_clone_nodes; k++)
				json_array_append_new(on, json_pack("{s:s, s:s}", "node",
					m->node_names[p->clone_nodes[k]], "role",
					vg_pe_role_name(p->clone_roles[k])));
		else if (p->node >= 0)
			json_array_append_new(on, json_pack("{s:s, s:s}", "node", m->node_names[p->node],
							    "role", vg_pe_role_name(p->role)));
		json_object_set_new(place, m->primitives[r].id, on);
	}
	for (size_t i = 0; i < tr->n_notes; i++)
		json_array_append_new(notes, json_string(tr->notes[i]));
	return json_pack("{s:o, s:o, s:o}", "actions", acts, "placement", place, "notes", notes);
}

void vg_pe_transition_print(FILE *f, const struct vg_pe_transition *tr, const struct vg_pe_model *m)
{
	fprintf(f, "Transition: %zu action(s)\n", tr->n_actions);
	for (size_t i = 0; i < tr->n_actions; i++) {
		const struct vg_pe_action *a = &tr->actions[i];

		if (a->kind == VG_PE_ACT_FENCE)
			fprintf(f, "  %3zu  fence %s", i, m->node_names[a->node]);
		else
			fprintf(f, "  %3zu  %-7s %s on %s", i, action_name(a->action),
				m->primitives[a->primitive].id, m->node_names[a->node]);
		for (size_t d = 0; d < a->n_deps; d++)
			fprintf(f, "%s%u", d ? "," : "   after ", a->deps[d]);
		fputc('\n', f);
	}
	fprintf(f, "Placement:\n");
	for (size_t r = 0; tr->placement && r < m->n_primitives; r++) {
		const struct vg_pe_placement *p = &tr->placement[r];

		fprintf(f, "  %-20s", m->primitives[r].id);
		if (p->clone_nodes) {
			for (size_t k = 0; k < p->n_clone_nodes; k++)
				fprintf(f, " %s(%s)", m->node_names[p->clone_nodes[k]],
					vg_pe_role_name(p->clone_roles[k]));
			if (!p->n_clone_nodes)
				fprintf(f, " stopped");
		} else if (p->node >= 0) {
			fprintf(f, " %s (%s)", m->node_names[p->node], vg_pe_role_name(p->role));
		} else {
			fprintf(f, " stopped");
		}
		fputc('\n', f);
	}
	for (size_t i = 0; i < tr->n_notes; i++)
		fprintf(f, "Note: %s\n", tr->notes[i]);
}
