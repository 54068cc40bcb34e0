/* vigilctl: the operator's CLI.  A client of vigild's socket; it decides nothing. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_client.h"
#include "ctl_print.h"

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
		"usage: vigilctl [-s SOCKET] [--json] status [--watch [--interval MS] [--count N]]\n"
		"  -s, --socket PATH   vigild's socket (default $VIGIL_SOCKET or " DEFAULT_SOCKET ")\n"
		"  --json              print what vigild answered, as JSON\n"
		"  --watch             redraw the status every --interval ms (default 1000)\n");
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

	*o = (struct vigilctl_opts){ .socket = getenv("VIGIL_SOCKET"), .interval_ms = 1000 };
	if (!o->socket || !*o->socket)
		o->socket = DEFAULT_SOCKET;
	/* '+': options after the command word belong to it too, parsed below. */
	while ((c = getopt_long(argc, argv, "s:h", longopts, NULL)) != -1) {
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

int main(int argc, char **argv)
{
	struct vigilctl_opts o;
	const char *cmd;

	if (parse_opts(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	cmd = optind < argc ? argv[optind] : "status";
	if (strcmp(cmd, "status") == 0 && optind + 1 >= argc)
		return cmd_status(&o);
	fprintf(stderr, "vigilctl: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}
