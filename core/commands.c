/*
 * vigilctl requests: {"command": NAME, ...} -> one JSON answer.  Changes
 * are made to the cluster attributes here and replicated to every node
 * (cstate.c); every answer says what was done, or why nothing was.
 */
#include "config.h"
#include "cstate.h"
#include "policy/model.h"
#include "vigild.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 2, 0)))
static json_t *answer(int ok, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return json_pack("{s:b, s:s}", "ok", ok, ok ? "message" : "error", msg);
}

__attribute__((format(printf, 1, 2)))
static json_t *refuse(const char *fmt, ...)
{
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	j = answer(0, fmt, ap);
	va_end(ap);
	return j;
}

__attribute__((format(printf, 1, 2)))
static json_t *did(const char *fmt, ...)
{
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	j = answer(1, fmt, ap);
	va_end(ap);
	return j;
}

static const char *arg(const json_t *req, const char *key)
{
	return json_string_value(json_object_get(req, key));
}

/* A copy of the attributes to change; committed with commit(). */
static json_t *attrs_copy(struct vigild *vd)
{
	return json_deep_copy(vd->cs.attrs);
}

static void commit(struct vigild *vd, json_t *doc)
{
	vg_cstate_attrs_set(&vd->cs, doc);
}

static void gen_bump(struct vigild *vd, const char *key, const char *rsc)
{
	json_t *doc = attrs_copy(vd), *o = json_object_get(doc, key);

	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(doc, key, o);
	}
	json_object_set_new(o, rsc, json_integer(json_integer_value(json_object_get(o, rsc)) + 1));
	commit(vd, doc);
}

/* Drop the operator's location entries of `rsc`; how many went. */
static size_t locations_clear(json_t *doc, const char *rsc)
{
	json_t *locs = json_object_get(doc, "locations");
	size_t n = 0;

	for (size_t i = json_array_size(locs); i-- > 0;)
		if (!strcmp(json_string_value(json_object_get(json_array_get(locs, i), "resource")) ?: "", rsc)) {
			json_array_remove(locs, i);
			n++;
		}
	return n;
}

static json_t *location_set(struct vigild *vd, const char *rsc, const char *node, int ban)
{
	json_t *doc = attrs_copy(vd), *locs;

	locations_clear(doc, rsc);
	locs = json_object_get(doc, "locations");
	if (!json_is_array(locs)) {
		locs = json_array();
		json_object_set_new(doc, "locations", locs);
	}
	json_array_append_new(locs, json_pack("{s:s, s:s, s:i, s:s}", "resource", rsc, "node", node,
					      "score", ban ? -VG_SCORE_INFINITY : VG_SCORE_INFINITY,
					      "kind", ban ? "ban" : "move"));
	commit(vd, doc);
	return ban ? did("%s banned from %s (a -INFINITY location; undo with: vigilctl resource clear it)", rsc, node)
		   : did("%s moves to %s (an INFINITY location; undo with: vigilctl resource clear it)", rsc, node);
}

static json_t *cmd_resource(struct vigild *vd, const json_t *req)
{
	const char *verb = arg(req, "verb"), *rsc = arg(req, "resource"), *node = arg(req, "node");
	struct vg_pe_ref ref;
	json_t *doc;

	if (!verb || !rsc)
		return refuse("resource: expected a verb and a resource");
	if (vg_pe_model_ref(&vd->dc.model, rsc, &ref) < 0)
		return refuse("resource: no resource, group or clone named \"%s\"", rsc);
	if (!strcmp(verb, "move") || !strcmp(verb, "ban")) {
		if (!node || vg_pe_model_node(&vd->dc.model, node) < 0)
			return refuse("resource %s: no node named \"%s\"", verb, node ? node : "");
		return location_set(vd, rsc, node, !strcmp(verb, "ban"));
	}
	if (!strcmp(verb, "clear")) {
		size_t n;

		doc = attrs_copy(vd);
		n = locations_clear(doc, rsc);
		if (!n) {
			json_decref(doc);
			return did("%s: no move or ban to clear", rsc);
		}
		commit(vd, doc);
		return did("%s: moves and bans cleared; it may go back where it belongs", rsc);
	}
	if (ref.kind != VG_PE_PRIMITIVE)
		return refuse("resource %s: \"%s\" is a group or clone; name one of its resources", verb, rsc);
	if (!strcmp(verb, "cleanup")) {
		gen_bump(vd, "cleanup", rsc);
		return did("%s: failures forgotten on every node; it is probed again", rsc);
	}
	if (!strcmp(verb, "restart")) {
		gen_bump(vd, "restart", rsc);
		return did("%s: restart requested where it runs (stop, then start in place)", rsc);
	}
	return refuse("resource: unknown verb \"%s\" (expected move, ban, clear, cleanup, restart)",
		      verb);
}

static json_t *cmd_node(struct vigild *vd, const json_t *req)
{
	const char *verb = arg(req, "verb"), *node = arg(req, "node");
	json_t *doc, *standby;
	int on;

	if (!verb || (strcmp(verb, "standby") && strcmp(verb, "online")))
		return refuse("node: unknown verb \"%s\" (expected standby or online)", verb ? verb : "");
	if (!node || vg_pe_model_node(&vd->dc.model, node) < 0)
		return refuse("node %s: no node named \"%s\"", verb, node ? node : "");
	on = !strcmp(verb, "standby");
	doc = attrs_copy(vd);
	standby = json_object_get(doc, "standby");
	if (!json_is_object(standby)) {
		standby = json_object();
		json_object_set_new(doc, "standby", standby);
	}
	json_object_set_new(standby, node, json_boolean(on));
	commit(vd, doc);
	return on ? did("%s is in standby: its resources move away", node)
		  : did("%s is online: it may run resources again", node);
}

static json_t *cmd_maintenance(struct vigild *vd, const json_t *req)
{
	const char *verb = arg(req, "verb");
	json_t *doc;

	if (!verb || (strcmp(verb, "on") && strcmp(verb, "off")))
		return refuse("maintenance: expected on or off, got \"%s\"", verb ? verb : "");
	doc = attrs_copy(vd);
	json_object_set_new(doc, "maintenance", json_boolean(!strcmp(verb, "on")));
	commit(vd, doc);
	return !strcmp(verb, "on") ?
		did("maintenance mode on: vigil starts, stops and moves nothing until it is off") :
		did("maintenance mode off: vigil manages resources again");
}

static void operator_fence_done(void *arg, uint32_t node, int status, const char *detail)
{
	/* the outcome is in the log, the fence history and the alert */
}

static json_t *cmd_fence(struct vigild *vd, const json_t *req)
{
	const char *node = arg(req, "node"), *action = arg(req, "action");
	const struct vg_node_conf *nc = node ? vg_config_node_by_name(vd->cfg, node) : NULL;
	int act = VG_FENCE_REBOOT, rc;

	if (node && !strcmp(node, "history"))
		return json_pack("{s:b, s:O}", "ok", 1, "history",
				 json_object_get(vd->cs.attrs, "fence_history") ?: json_array());
	if (!nc)
		return refuse("fence: no node named \"%s\"", node ? node : "");
	if (nc->id == vd->node_id)
		return refuse("fence: %s is this node; run the command on another node", node);
	if (action && !strcmp(action, "off"))
		act = VG_FENCE_OFF;
	else if (action && strcmp(action, "reboot"))
		return refuse("fence: action must be off or reboot, got \"%s\"", action);
	rc = vg_fencer_fence(&vd->fencer, (uint32_t)(nc - vd->cfg->nodes), act, "operator",
			     operator_fence_done, vd);
	if (rc == -EALREADY)
		return refuse("fence: %s is being fenced already", node);
	if (rc < 0)
		return refuse("fence: no fence device lists %s in its targets", node);
	return did("fencing %s (%s) started; follow it with vigilctl fence history or the log",
		   node, act == VG_FENCE_OFF ? "off" : "reboot");
}

json_t *vigild_ctl_handle(void *arg, const json_t *request)
{
	struct vigild *vd = arg;
	const char *cmd = json_string_value(json_object_get(request, "command"));

	if (!cmd)
		return json_pack("{s:b, s:s}", "ok", 0, "error", "bad request: no \"command\" string");
	if (strcmp(cmd, "status") == 0)
		return vigild_status_json(vd);
	if (strcmp(cmd, "cluster-state") == 0)
		return vigild_cluster_state_json(vd);
	if (!strcmp(cmd, "resource") || !strcmp(cmd, "node") || !strcmp(cmd, "maintenance") ||
	    !strcmp(cmd, "fence")) {
		if (!vd->cluster_ready)
			return refuse("%s: vigild is still starting", cmd);
		if (!vd->mship.q.quorate)
			return refuse("%s: refused: this node's partition has no quorum, so its changes could undo the quorate partition's",
				      cmd);
		if (!strcmp(cmd, "resource"))
			return cmd_resource(vd, request);
		if (!strcmp(cmd, "node"))
			return cmd_node(vd, request);
		if (!strcmp(cmd, "fence"))
			return cmd_fence(vd, request);
		return cmd_maintenance(vd, request);
	}
	return json_pack("{s:b, s:s+}", "ok", 0, "error", "unknown command: ", cmd);
}
