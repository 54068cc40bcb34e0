/*
 * The executor's history on disk: failures and the last operations of
 * every resource, in <state_dir>/<node>/resources.json, so that a restarted
 * vigild still knows them.  Read once at start-up (before the loop runs);
 * written by a child process, at most every SAVE_DELAY_MS, so that disk I/O
 * never runs on the event loop.
 */
#include "config.h"
#include "executor.h"
#include "log.h"
#include "loop.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SAVE_DELAY_MS 200

static void load_one(struct vg_rsc_local *r, json_t *o)
{
	json_t *ops = json_object_get(o, "ops"), *op;
	size_t i;

	r->fail_count = (uint32_t)json_integer_value(json_object_get(o, "fail_count"));
	r->last_failure_wall_ms = (uint64_t)json_integer_value(json_object_get(o, "last_failure_ms"));
	r->cleanup_gen = (uint64_t)json_integer_value(json_object_get(o, "cleanup_gen"));
	r->restart_gen = (uint64_t)json_integer_value(json_object_get(o, "restart_gen"));
	json_array_foreach(ops, i, op) {
		if (r->n_hist == VG_EXEC_HISTORY)
			break;
		r->hist[r->n_hist++] = (struct vg_op_record){
			.action = (uint32_t)json_integer_value(json_object_get(op, "action")),
			.interval_ms = (uint32_t)json_integer_value(json_object_get(op, "interval_ms")),
			.status = (int)json_integer_value(json_object_get(op, "status")),
			.rc = (int)json_integer_value(json_object_get(op, "rc")),
			.wall_ms = (uint64_t)json_integer_value(json_object_get(op, "at_ms")),
			.duration_ms = (uint32_t)json_integer_value(json_object_get(op, "duration_ms")),
		};
	}
}

void vg_executor_history_load(struct vg_executor *ex)
{
	char path[4096];
	json_error_t err;
	json_t *root, *rscs;

	snprintf(path, sizeof(path), "%s/resources.json", ex->state_path);
	root = json_load_file(path, 0, &err);
	if (!root) {
		vg_logf(ex->log, VG_LOG_DEBUG, "executor", "no history in %s: %s", path, err.text);
		return;
	}
	rscs = json_object_get(root, "resources");
	for (size_t i = 0; i < ex->n_rsc; i++) {
		json_t *o = json_object_get(rscs, ex->rsc[i].conf->name);

		if (json_is_object(o))
			load_one(&ex->rsc[i], o);
	}
	vg_logf(ex->log, VG_LOG_INFO, "executor", "history read from %s", path);
	json_decref(root);
}

static json_t *dump_one(const struct vg_rsc_local *r)
{
	json_t *ops = json_array();

	for (size_t i = 0; i < r->n_hist; i++) {
		const struct vg_op_record *h = &r->hist[i];

		json_array_append_new(ops, json_pack("{s:i, s:i, s:i, s:i, s:I, s:i}",
			"action", (int)h->action, "interval_ms", (int)h->interval_ms,
			"status", h->status, "rc", h->rc, "at_ms", (json_int_t)h->wall_ms,
			"duration_ms", (int)h->duration_ms));
	}
	return json_pack("{s:i, s:I, s:I, s:I, s:o}", "fail_count", (int)r->fail_count,
			 "last_failure_ms", (json_int_t)r->last_failure_wall_ms,
			 "cleanup_gen", (json_int_t)r->cleanup_gen,
			 "restart_gen", (json_int_t)r->restart_gen, "ops", ops);
}

static void saved_cb(void *arg, const struct vg_child_result *res)
{
	struct vg_executor *ex = arg;

	ex->save_running = 0;
	if (!res->exited || res->exit_code != 0)
		vg_logf(ex->log, VG_LOG_ERR, "executor", "writing the history in %s failed: %s",
			ex->state_path, res->output);
	if (ex->save_pending)
		vg_executor_history_save(ex);
}

static void save_now(void *arg)
{
	struct vg_executor *ex = arg;
	json_t *root = json_object(), *rscs = json_object();
	char *text;
	char *argv[] = { "/bin/sh", "-c",
			 "mkdir -p \"$1\" && cat > \"$1/resources.json.tmp\" && "
			 "mv \"$1/resources.json.tmp\" \"$1/resources.json\"",
			 "vigild-history", ex->state_path, NULL };
	struct vg_spawn req = { .path = argv[0], .argv = argv, .timeout_ms = 10000 };

	ex->save_timer = NULL;
	ex->save_pending = 0;
	for (size_t i = 0; i < ex->n_rsc; i++)
		json_object_set_new(rscs, ex->rsc[i].conf->name, dump_one(&ex->rsc[i]));
	json_object_set_new(root, "resources", rscs);
	text = json_dumps(root, JSON_INDENT(1));
	json_decref(root);
	if (!text)
		return;
	req.stdin_data = text;
	req.stdin_len = strlen(text);
	if (vg_loop_spawn(ex->loop, &req, saved_cb, ex, NULL, NULL) == 0)
		ex->save_running = 1;
	free(text);
}

void vg_executor_history_save(struct vg_executor *ex)
{
	ex->save_pending = 1;
	if (ex->save_timer || ex->save_running || !ex->n_rsc)
		return;
	vg_loop_timer_start(ex->loop, SAVE_DELAY_MS, 0, save_now, ex, NULL, &ex->save_timer);
}
