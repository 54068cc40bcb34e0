/* vigilctl output for people. */
#include "ctl_print.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int vg_ctl_print(const json_t *resp, int json, int watch, vg_ctl_printer printer)
{
	int ok = json_is_true(json_object_get(resp, "ok"));

	if (watch && !json)
		printf("\033[H\033[2J");
	if (json || !printer) {
		json_dumpf(resp, stdout, JSON_INDENT(2));
		printf("\n");
	} else if (ok) {
		printer(resp);
	}
	if (!ok)
		fprintf(stderr, "vigilctl: vigild refused: %s\n",
			json_string_value(json_object_get(resp, "error")) ?: "no reason given");
	fflush(stdout);
	return ok ? 0 : 1;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static long long num(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static void print_links(const json_t *links)
{
	size_t i;
	json_t *l;

	json_array_foreach(links, i, l) {
		json_t *ago = json_object_get(l, "last_heard_ms_ago");

		printf("  %s:%s", str(l, "name"), str(l, "state"));
		if (json_is_integer(ago))
			printf("(%lldms,loss %lld%%)", (long long)json_integer_value(ago),
			       num(l, "loss_pct"));
	}
}

static void print_nodes(const json_t *nodes)
{
	size_t i;
	json_t *n;

	printf("Nodes:\n");
	json_array_foreach(nodes, i, n) {
		printf("  %-4lld %-12s %-15s", num(n, "id"), str(n, "name"), str(n, "state"));
		if (json_is_true(json_object_get(n, "local")))
			printf(" (this node)");
		if (json_is_true(json_object_get(n, "dc")))
			printf(" DC");
		print_links(json_object_get(n, "links"));
		printf("\n");
	}
}

static void print_drops(const json_t *frames)
{
	const json_t *dropped = json_object_get(frames, "dropped");
	const char *key;
	json_t *v;
	int any = 0;

	printf("Frames: %lld accepted, %lld copies from redundant links", num(frames, "accepted"),
	       num(frames, "link_copies"));
	json_object_foreach((json_t *)dropped, key, v) {
		if (json_integer_value(v) == 0)
			continue;
		printf("%s %s %lld", any ? "," : "; dropped:", key, (long long)json_integer_value(v));
		any = 1;
	}
	printf("\n");
}

void vg_ctl_print_message(const json_t *resp)
{
	printf("%s\n", str(resp, "message"));
}

static void print_fence_event(const json_t *e)
{
	time_t at = (time_t)(num(e, "at_ms") / 1000);
	struct tm tm;
	char when[32];

	localtime_r(&at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("  %s  %-7s %-8s %-6s by %-8s via %-12s %lld ms  %s\n", when, str(e, "action"),
	       str(e, "target"), str(e, "result"), str(e, "by"), str(e, "device"),
	       num(e, "duration_ms"), strcmp(str(e, "result"), "ok") ? str(e, "detail") : "");
}

void vg_ctl_print_fence_history(const json_t *resp)
{
	const json_t *h = json_object_get(resp, "history"), *e;
	size_t i;

	if (!json_array_size(h))
		printf("no fencing so far\n");
	json_array_foreach(h, i, e)
		print_fence_event(e);
}

static void print_fencing(const json_t *resp)
{
	const json_t *f = json_object_get(resp, "fencing"), *h = json_object_get(f, "history"), *e;
	size_t i, n = json_array_size(h);

	json_array_foreach(json_object_get(f, "pending"), i, e)
		printf("FENCING %s (%s): level %lld, %lld ms so far, last error: %s\n",
		       str(e, "target"), str(e, "action"), num(e, "level"), num(e, "ms"),
		       str(e, "last_error"));
	if (num(f, "consecutive_failures"))
		printf("FENCING FAILED %lld time(s) in a row: nothing is recovered until it succeeds\n",
		       num(f, "consecutive_failures"));
	if (n) {
		printf("Fence history (last %zu):\n", n < 3 ? n : 3);
		for (i = n > 3 ? n - 3 : 0; i < n; i++)
			print_fence_event(json_array_get(h, i));
	}
}

static void print_resource(const json_t *r)
{
	const json_t *on = json_object_get(r, "running_on"), *nodes = json_object_get(r, "nodes"), *n;
	size_t i;

	printf("  %-16s %-8s", str(r, "id"), str(r, "plugin"));
	if (json_array_size(on) == 0)
		printf(" stopped");
	json_array_foreach(nodes, i, n) {
		const json_t *last = json_object_get(n, "last_op");

		if (!json_is_true(json_object_get(n, "current")))
			continue;
		if (strcmp(str(n, "role"), "stopped") && strcmp(str(n, "role"), "unknown"))
			printf(" %s on %s", str(n, "role"), str(n, "node"));
		if (json_is_true(json_object_get(n, "failed")))
			printf(" FAILED on %s", str(n, "node"));
		if (num(n, "fail_count"))
			printf(" (failures on %s: %lld)", str(n, "node"), num(n, "fail_count"));
		if (json_is_object(last) && strcmp(str(n, "role"), "stopped"))
			printf(" [last: %s rc %lld, %llds ago]", str(last, "action"), num(last, "rc"),
			       num(last, "ms_ago") / 1000);
	}
	if (json_is_string(json_object_get(r, "in")))
		printf("  (%s %s)", str(r, "in_kind"), str(r, "in"));
	printf("\n");
}

static void print_resources(const json_t *resp)
{
	const json_t *rscs = json_object_get(resp, "resources"), *r;
	const json_t *ca = json_object_get(resp, "cluster_attrs"), *tr;
	size_t i;

	if (json_array_size(rscs) == 0)
		return;
	printf("Resources:%s%s\n",
	       json_is_true(json_object_get(ca, "maintenance")) ? " MAINTENANCE MODE (nothing is managed)" : "",
	       json_is_true(json_object_get(ca, "fencing")) ? "" : " (fencing disabled)");
	json_array_foreach(rscs, i, r)
		print_resource(r);
	tr = json_object_get(ca, "transition");
	if (json_is_object(tr) && json_is_true(json_object_get(tr, "active")))
		printf("Transition %lld: %lld of %lld actions done, %lld running\n", num(tr, "id"),
		       num(tr, "done"), num(tr, "actions"), num(tr, "running"));
	if (json_array_size(json_object_get(ca, "standby"))) {
		printf("Standby:");
		json_array_foreach(json_object_get(ca, "standby"), i, r)
			printf(" %s", json_string_value(r));
		printf("\n");
	}
}

/* "256.0 MiB": sizes of stores and resyncs, for people (JSON has the bytes). */
static const char *mib(long long bytes, char *buf, size_t len)
{
	snprintf(buf, len, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
	return buf;
}

static void print_repl(const json_t *r)
{
	const json_t *sync = json_object_get(r, "sync");
	char a[32], b[32];

	printf("  %-12s %-8s", str(r, "name"), str(r, "plugin"));
	if (strcmp(str(r, "state"), "open")) {
		printf(" %s\n", !strcmp(str(r, "state"), "failed") ? "FAILED to open" : "not on this node");
		return;
	}
	if (json_is_string(json_object_get(r, "error"))) {
		printf(" no state: %s\n", str(r, "error"));
		return;
	}
	printf(" %s/%s, disk %s/%s, %s%s\n", str(r, "role"), str(r, "peer_role"), str(r, "disk"),
	       str(r, "peer_disk"), str(r, "conn"),
	       json_is_true(json_object_get(r, "split_brain")) ? ", SPLIT BRAIN" : "");
	printf("  %-21s size %s, out of sync %lld bytes (%s)", "", mib(num(r, "size_bytes"), a, sizeof(a)),
	       num(r, "out_of_sync_bytes"), mib(num(r, "out_of_sync_bytes"), b, sizeof(b)));
	if (json_is_object(sync))
		printf("\n  %-21s resync %s: %lld of %lld bytes (%lld%%)", "", str(sync, "direction"),
		       num(sync, "done_bytes"), num(sync, "total_bytes"), num(sync, "percent"));
	printf("\n");
}

static void print_replication(const json_t *resp)
{
	const json_t *v = json_object_get(resp, "replication"), *r;
	size_t i;

	if (json_array_size(v) == 0)
		return;
	printf("Replication (this node):\n");
	json_array_foreach(v, i, r)
		print_repl(r);
}

void vg_ctl_print_status(const json_t *resp)
{
	const json_t *cl = json_object_get(resp, "cluster"), *me = json_object_get(resp, "node");
	const json_t *q = json_object_get(resp, "quorum"), *dc = json_object_get(resp, "dc");
	const json_t *view = json_object_get(resp, "view");

	printf("Cluster %s (id %lld), seen from node %s (%lld)\n", str(cl, "name"), num(cl, "id"),
	       str(me, "name"), num(me, "id"));
	printf("Quorum: %s, %lld of %lld votes, %lld needed%s\n",
	       json_is_true(json_object_get(q, "quorate")) ? "yes" : "NO", num(q, "votes"),
	       num(q, "expected"), num(q, "needed"),
	       json_is_true(json_object_get(json_object_get(q, "wait_for_all"), "satisfied")) ||
	       !json_is_true(json_object_get(json_object_get(q, "wait_for_all"), "enabled")) ?
	       "" : " (waiting for all nodes)");
	if (json_is_object(dc))
		printf("DC: %s (%lld)\n", str(dc, "name"), num(dc, "id"));
	else
		printf("DC: none\n");
	printf("View: %lld from node %lld, heartbeat %lld ms, dead time %lld ms\n", num(view, "id"),
	       num(view, "owner"), num(resp, "interval_ms"), num(resp, "deadtime_ms"));
	print_nodes(json_object_get(resp, "nodes"));
	print_resources(resp);
	print_replication(resp);
	print_fencing(resp);
	print_drops(json_object_get(resp, "frames"));
}
