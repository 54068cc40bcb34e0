/*
 * Policy engine driver: (model, state) -> transition, pure.  The steps:
 * read the nodes and the state (what runs, what failed, what must be
 * fenced), decide the mode (maintenance, no quorum), place every unit
 * (alloc.c, clone.c), list the actions (actions.c), link and sort them
 * (deps.c), and say where everything ends up.  See docs/policy.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* vasprintf */
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pe_internal.h"

void pe_note(struct pe_ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *s, **n;

	if (c->n_notes == c->cap_notes) {
		size_t cap = c->cap_notes ? 2 * c->cap_notes : 16;

		n = realloc(c->notes, cap * sizeof(*n));
		if (!n) {
			c->err = -ENOMEM;
			return;
		}
		c->notes = n;
		c->cap_notes = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		c->err = -ENOMEM;
	else
		c->notes[c->n_notes++] = s;
	va_end(ap);
}

const char *pe_node_name(const struct pe_ctx *c, size_t n)
{
	if (c->m->node_names && n < c->n_nodes && c->m->node_names[n])
		return c->m->node_names[n];
	return "(unnamed node)";
}

const char *pe_prim_name(const struct pe_ctx *c, size_t p)
{
	if (p < c->n_prims && c->m->primitives[p].id)
		return c->m->primitives[p].id;
	return "(unnamed resource)";
}

static int ctx_alloc(struct pe_ctx *c)
{
	size_t nn = c->n_nodes + 1, np = c->n_prims + 1, cells = c->n_prims * c->n_nodes + 1;

	c->node_ok = calloc(nn, 1);
	c->node_up = calloc(nn, 1);
	c->node_fence = calloc(nn, 1);
	c->node_load = calloc(nn, sizeof(*c->node_load));
	c->fence_act = calloc(nn, sizeof(*c->fence_act));
	c->cur = calloc(cells, 1);
	c->failed = calloc(cells, 1);
	c->lost = calloc(cells, 1);
	c->want = malloc(cells);
	c->frozen = calloc(np, 1);
	c->stop_only = calloc(np, 1);
	c->restart = calloc(np, 1);
	c->unit_of = calloc(np, sizeof(*c->unit_of));
	c->act_first = calloc(np, sizeof(*c->act_first));
	c->act_count = calloc(np, sizeof(*c->act_count));
	if (!c->node_ok || !c->node_up || !c->node_fence || !c->node_load ||
	    !c->fence_act || !c->cur || !c->failed || !c->lost || !c->want ||
	    !c->frozen || !c->stop_only || !c->restart || !c->unit_of ||
	    !c->act_first || !c->act_count)
		return -ENOMEM;
	memset(c->want, VG_ROLE_STOPPED, cells);
	return 0;
}

static void ctx_free(struct pe_ctx *c)
{
	size_t i;

	pe_index_free(c);
	free(c->node_ok);
	free(c->node_up);
	free(c->node_fence);
	free(c->node_load);
	free(c->fence_act);
	free(c->cur);
	free(c->failed);
	free(c->lost);
	free(c->want);
	free(c->frozen);
	free(c->stop_only);
	free(c->restart);
	free(c->unit_of);
	free(c->act_first);
	free(c->act_count);
	free(c->acts);
	free(c->edges);
	for (i = 0; i < c->n_notes; i++)
		free(c->notes[i]);
	free(c->notes);
}

static int active_role(uint32_t role)
{
	return role == VG_ROLE_STARTED || role == VG_ROLE_PROMOTED || role == VG_ROLE_UNKNOWN;
}

/*
 * A node is "bad" when it is unclean, or when a resource with
 * on-fail=fence failed there: what ran there is lost until it is fenced.
 */
static void read_nodes(struct pe_ctx *c, uint8_t *bad)
{
	const struct vg_pe_input *in = c->in;
	size_t n, p, at;

	for (n = 0; n < c->n_nodes; n++)
		bad[n] = in->nodes[n].unclean != 0;
	for (p = 0; p < c->n_prims && in->fencing_enabled; p++) {
		if (c->m->primitives[p].on_fail != VG_ON_FAIL_FENCE)
			continue;
		for (n = 0; n < c->n_nodes; n++) {
			at = pe_at(c, p, n);
			if (in->state[at].failed && active_role(in->state[at].role) &&
			    in->nodes[n].online && !bad[n]) {
				bad[n] = 1;
				pe_note(c, "%s: failed on %s with on-fail=fence: %s will be fenced",
					pe_prim_name(c, p), pe_node_name(c, n), pe_node_name(c, n));
			}
		}
	}
	for (n = 0; n < c->n_nodes; n++) {
		c->node_up[n] = in->nodes[n].online && !bad[n];
		c->node_ok[n] = c->node_up[n] && !in->nodes[n].standby;
		/*
		 * An unclean node is fenced whether or not it ran anything, as
		 * Pacemaker does: in a two-node split both sides race to fence,
		 * and the fencing delays decide the winner.
		 */
		if (in->nodes[n].unclean && in->fencing_enabled)
			c->node_fence[n] = 1;
	}
}

/* What runs where, as far as the engine may act on it. */
static void read_cell(struct pe_ctx *c, size_t p, size_t n, const uint8_t *bad)
{
	const struct vg_pe_input *in = c->in;
	const struct vg_pe_primitive *pr = &c->m->primitives[p];
	size_t at = pe_at(c, p, n);
	uint32_t role = in->state[at].role;

	c->cur[at] = VG_ROLE_STOPPED;
	if (bad[n]) {
		if (active_role(role) && in->fencing_enabled) {
			c->lost[at] = 1;
			c->node_fence[n] = 1;
		}
		return;
	}
	if (!in->nodes[n].online)
		return;
	if (role == VG_ROLE_UNKNOWN) {
		pe_note(c, "%s: not probed on %s yet: taken as stopped there",
			pe_prim_name(c, p), pe_node_name(c, n));
		return;
	}
	if (pe_running((uint8_t)role))
		c->cur[at] = (uint8_t)role;
	if (!in->state[at].failed || !pe_running(c->cur[at]) ||
	    pr->on_fail == VG_ON_FAIL_IGNORE)
		return;
	c->failed[at] = 1;
	if (pr->on_fail == VG_ON_FAIL_BLOCK && !c->frozen[p]) {
		c->frozen[p] = 1;
		pe_note(c, "%s: failed on %s with on-fail=block: left as it is",
			pe_prim_name(c, p), pe_node_name(c, n));
	} else if (pr->on_fail == VG_ON_FAIL_STOP) {
		if (pr->clone < 0)
			c->stop_only[p] = 1;
		pe_note(c, "%s: failed on %s with on-fail=stop: stopped%s", pe_prim_name(c, p),
			pe_node_name(c, n), pr->clone < 0 ? "" : " there");
	} else if (pr->on_fail == VG_ON_FAIL_FENCE) {
		pe_note(c, "%s: failed on %s with on-fail=fence but fencing is disabled: "
			"recovered by a restart", pe_prim_name(c, p), pe_node_name(c, n));
	}
}

static void read_state(struct pe_ctx *c, const uint8_t *bad)
{
	const struct vg_pe_input *in = c->in;
	size_t p, n;

	for (p = 0; p < c->n_prims; p++) {
		const struct vg_pe_primitive *pr = &c->m->primitives[p];

		if (!pr->managed)
			c->frozen[p] = 1;
		if (pr->target_role == VG_TARGET_STOPPED)
			c->stop_only[p] = 1;
		for (n = 0; n < c->n_nodes; n++) {
			read_cell(c, p, n, bad);
			if (c->node_ok[n] && pe_banned(c, p, n))
				pe_note(c, "%s: banned from %s after %u failure(s) "
					"(migration_threshold %u)", pe_prim_name(c, p),
					pe_node_name(c, n), in->state[pe_at(c, p, n)].fail_count,
					pr->migration_threshold);
		}
	}
	for (n = 0; n < c->n_nodes; n++) {
		if (!in->nodes[n].unclean || in->fencing_enabled)
			continue;
		for (p = 0; p < c->n_prims; p++)
			if (active_role(in->state[pe_at(c, p, n)].role))
				break;
		if (p < c->n_prims)
			pe_note(c, "%s is unclean and fencing is disabled: "
				"its resources are assumed stopped", pe_node_name(c, n));
	}
}

/* Maintenance and no quorum decide placement without the allocator. */
static int place(struct pe_ctx *c)
{
	const struct vg_pe_input *in = c->in;
	size_t p, i;

	if (in->maintenance) {
		pe_note(c, "maintenance mode: no action on any resource");
		memset(c->frozen, 1, c->n_prims);
		for (p = 0; p < c->n_prims; p++)
			pe_fix_to_current(c, p);
		return 0;
	}
	if (in->quorate || in->no_quorum == VG_PE_NQ_IGNORE)
		return pe_allocate(c);
	c->no_fencing = 1;
	if (in->no_quorum == VG_PE_NQ_FREEZE) {
		c->no_starts = 1;
		pe_note(c, "no quorum (no-quorum-policy=freeze): "
			"nothing starts, only failed resources stop");
		for (p = 0; p < c->n_prims; p++)
			pe_fix_to_current(c, p);
		for (i = 0; i < c->n_prims * c->n_nodes; i++)
			if (c->failed[i] && !c->frozen[i / c->n_nodes])
				c->want[i] = VG_ROLE_STOPPED;
		return 0;
	}
	pe_note(c, "no quorum (no-quorum-policy=stop): every resource stops");
	for (p = 0; p < c->n_prims; p++)
		if (c->frozen[p])
			pe_fix_to_current(c, p);
	return 0;
}

/* One block holds placements and clone instance lists: free(placement). */
static int emit_placement(struct pe_ctx *c, struct vg_pe_transition *out)
{
	size_t p, n, k = 0, n_inst = 0, sz;
	struct vg_pe_placement *pl;
	int32_t *nodes;
	uint32_t *roles;

	for (p = 0; p < c->n_prims; p++)
		for (n = 0; n < c->n_nodes && c->m->primitives[p].clone >= 0; n++)
			n_inst += pe_running(c->want[pe_at(c, p, n)]);
	sz = (c->n_prims + 1) * sizeof(*pl) + (n_inst + 1) * (sizeof(*nodes) + sizeof(*roles));
	pl = calloc(1, sz);
	if (!pl)
		return -ENOMEM;
	nodes = (int32_t *)(pl + c->n_prims + 1);
	roles = (uint32_t *)(nodes + n_inst + 1);
	for (p = 0; p < c->n_prims; p++) {
		int is_clone = c->m->primitives[p].clone >= 0;

		pl[p] = (struct vg_pe_placement){ .node = -1, .role = VG_ROLE_STOPPED };
		if (is_clone) {
			pl[p].clone_nodes = nodes + k;
			pl[p].clone_roles = roles + k;
		}
		for (n = 0; n < c->n_nodes; n++) {
			uint8_t r = c->want[pe_at(c, p, n)];

			if (!pe_running(r))
				continue;
			if (pl[p].node < 0)
				pl[p].node = (int32_t)n;
			if (pl[p].role != VG_ROLE_PROMOTED)
				pl[p].role = r;
			if (is_clone) {
				nodes[k] = (int32_t)n;
				roles[k++] = r;
				pl[p].n_clone_nodes++;
			}
		}
	}
	out->placement = pl;
	return 0;
}

static int compute(struct pe_ctx *c, struct vg_pe_transition *out)
{
	uint8_t *bad = calloc(c->n_nodes + 1, 1);
	int ret = -ENOMEM;

	if (!bad)
		goto out;
	ret = ctx_alloc(c);
	if (ret == 0)
		ret = pe_index_build(c);
	if (ret < 0)
		goto out;
	read_nodes(c, bad);
	read_state(c, bad);
	ret = place(c);
	if (ret == 0)
		ret = pe_actions_build(c);
	if (ret == 0)
		ret = pe_deps_build(c);
	if (ret == 0)
		ret = pe_emit(c, out);
	if (ret == 0)
		ret = emit_placement(c, out);
	if (ret == 0 && c->err)
		ret = c->err;
out:
	free(bad);
	return ret;
}

int vg_pe_compute(const struct vg_pe_input *in, struct vg_pe_transition *out)
{
	struct pe_ctx c = { .in = in, .m = in->model };
	int ret;

	memset(out, 0, sizeof(*out));
	c.n_nodes = in->model->n_nodes;
	c.n_prims = in->model->n_primitives;
	ret = compute(&c, out);
	if (ret == 0) {
		out->notes = c.notes;
		out->n_notes = c.n_notes;
		c.notes = NULL;
		c.n_notes = 0;
	} else {
		vg_pe_transition_free(out);
	}
	ctx_free(&c);
	return ret;
}

void vg_pe_transition_free(struct vg_pe_transition *t)
{
	size_t i;

	if (!t)
		return;
	free(t->actions);
	free(t->placement);
	for (i = 0; i < t->n_notes; i++)
		free(t->notes[i]);
	free(t->notes);
	memset(t, 0, sizeof(*t));
}
