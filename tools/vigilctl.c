/* vigilctl: the operator's CLI.  A client of vigild's socket; it decides nothing. */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_client.h"
#include "ctl_print.h"
#include "simulate.h"

#define DEFAULT_SOCKET "/run/vigil/vigild.sock"

struct vigilctl_opts {
	const char *socket;
	int json;
	int watch;
	int count;          /* --watch: stop after this many refreshes (0: until interrupted) */
	int interval_ms;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigilctl [-s SOCKET] [--json] COMMAND ...\n"
		"  status [--watch [--interval MS] [--count N]]   the cluster as this node sees it\n"
		"  resource move RSC NODE       run RSC (resource, group or clone) on NODE\n"
		"  resource ban RSC NODE        never run RSC on NODE\n"
		"  resource clear RSC           drop moves and bans of RSC\n"
		"  resource cleanup RSC         forget RSC's failures and probe it again\n"
		"  resource restart RSC         stop and start RSC where it runs\n"
		"  node standby NODE | node online NODE\n"
		"  maintenance on | maintenance off\n"
		"  fence NODE [off|reboot]      fence NODE now through its fence devices\n"
		"  fence history                who was fenced, when, by which device, with what result\n"
		"  cluster-state                the policy engine's input now, as JSON (save it for simulate)\n"
		"  simulate --config FILE --state STATE.json [--node-down NODE] [--standby NODE] [--json]\n"
		"Options: -s, --socket PATH  vigild's socket (default $VIGIL_SOCKET or " DEFAULT_SOCKET ")\n"
		"         --json             print vigild's answer as JSON\n");
}

static int parse_opts(int argc, char **argv, struct vigilctl_opts *o)
{
	enum { OPT_JSON = 256, OPT_WATCH, OPT_COUNT, OPT_INTERVAL };
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "watch", no_argument, NULL, OPT_WATCH },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case OPT_JSON: o->json = 1; break;
		case OPT_WATCH: o->watch = 1; break;
		case OPT_COUNT: o->count = atoi(optarg); break;
		case OPT_INTERVAL: o->interval_ms = atoi(optarg); break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (o->interval_ms < 50)
		o->interval_ms = 50;
	return 0;
}

static void opts_init(struct vigilctl_opts *o)
{
	*o = (struct vigilctl_opts){ .socket = getenv("VIGIL_SOCKET"), .interval_ms = 1000 };
	if (!o->socket || !*o->socket)
		o->socket = DEFAULT_SOCKET;
}

static int request_print(const struct vigilctl_opts *o, json_t *req, vg_ctl_printer printer)
{
	json_t *resp = NULL;
	int rc = vg_ctl_request(o->socket, req, &resp);

	if (rc == 0)
		rc = vg_ctl_print(resp, o->json, 0, printer);
	json_decref(resp);
	return rc;
}

static int cmd_status(const struct vigilctl_opts *o)
{
	json_t *resp = NULL;
	int rc;

	for (int n = 0;; n++) {
		rc = vg_ctl_request(o->socket, json_pack("{s:s}", "command", "status"), &resp);
		if (rc == 0)
			rc = vg_ctl_print(resp, o->json, o->watch, vg_ctl_print_status);
		json_decref(resp);
		resp = NULL;
		if (rc != 0 || !o->watch || (o->count && n + 1 >= o->count))
			return rc;
		usleep((useconds_t)o->interval_ms * 1000);
	}
}

/* resource VERB RSC [NODE], node VERB NODE, maintenance on|off */
static int cmd_admin(const struct vigilctl_opts *o, int argc, char **argv)
{
	const char *cmd = argv[0], *verb = argc > 1 ? argv[1] : NULL;
	json_t *req;
	int want;

	if (!strcmp(cmd, "maintenance"))
		want = 2;
	else if (!strcmp(cmd, "node"))
		want = 3;
	else
		want = verb && (!strcmp(verb, "move") || !strcmp(verb, "ban")) ? 4 : 3;
	if (argc != want) {
		fprintf(stderr, "vigilctl %s: expected %d argument(s), got %d\n", cmd, want - 1, argc - 1);
		usage(stderr);
		return 2;
	}
	req = json_pack("{s:s, s:s}", "command", cmd, "verb", verb);
	if (!strcmp(cmd, "resource")) {
		json_object_set_new(req, "resource", json_string(argv[2]));
		if (want == 4)
			json_object_set_new(req, "node", json_string(argv[3]));
	} else if (!strcmp(cmd, "node")) {
		json_object_set_new(req, "node", json_string(argv[2]));
	}
	return request_print(o, req, vg_ctl_print_message);
}

int main(int argc, char **argv)
{
	struct vigilctl_opts o;
	const char *cmd;
	int first;

	opts_init(&o);
	if (parse_opts(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	first = optind;
	cmd = first < argc ? argv[first] : "status";
	if (!strcmp(cmd, "simulate"))
		return vg_simulate_main(argc - first, argv + first);
	if (!strcmp(cmd, "status")) {
		/* options may follow the command word too: status --watch */
		if (first + 1 < argc && (parse_opts(argc - first, argv + first, &o) < 0 ||
					 optind != argc - first)) {
			usage(stderr);
			return 2;
		}
		return cmd_status(&o);
	}
	if (!strcmp(cmd, "resource") || !strcmp(cmd, "node") || !strcmp(cmd, "maintenance"))
		return cmd_admin(&o, argc - first, argv + first);
	if (!strcmp(cmd, "fence")) {
		json_t *req;

		if (argc - first < 2 || argc - first > 3) {
			usage(stderr);
			return 2;
		}
		req = json_pack("{s:s, s:s}", "command", "fence", "node", argv[first + 1]);
		if (argc - first == 3)
			json_object_set_new(req, "action", json_string(argv[first + 2]));
		return request_print(&o, req, strcmp(argv[first + 1], "history") ?
				     vg_ctl_print_message : vg_ctl_print_fence_history);
	}
	if (!strcmp(cmd, "cluster-state")) {
		o.json = 1;
		return request_print(&o, json_pack("{s:s}", "command", "cluster-state"), NULL);
	}
	fprintf(stderr, "vigilctl: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}
