/*
 * vigildump: vigil's wire diagnostics.  Captures live with libpcap or reads
 * a pcap file, decodes vigil frames found in UDP payloads (verified with
 * the cluster key when given), prints one line per frame and a summary of
 * per-sender and per-link loss, duplicates and heartbeat jitter.
 * It decides nothing.  Usage: vigildump -h; docs/vigildump.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "config.h"
#include "dump.h"

#define EXIT_USAGE	2
#define SNAPLEN		65535
#define POLL_MS		200
#define FILTER_MAX	4096

static void usage(FILE *f)
{
	fputs(
"NAME\n"
"    vigildump - decode vigil cluster frames from a live capture or a pcap file\n"
"\n"
"SYNOPSIS\n"
"    vigildump -i IFACE [OPTIONS] [BPF FILTER...]\n"
"    vigildump -r FILE.pcap [OPTIONS] [BPF FILTER...]\n"
"\n"
"DESCRIPTION\n"
"    Finds vigil frames by their magic (\"VGL1\") in UDP payloads, whatever\n"
"    the port, prints one line per frame and, on exit, a summary per sender\n"
"    (node, incarnation) and per link (sender, source ip, destination ip or\n"
"    group): frames, MAC ok/bad, sequence loss, duplicates, restarts and\n"
"    heartbeat interval mean/min/max/jitter/p99.  The filter is the\n"
"    remaining arguments joined with spaces (default: udp or ip6).\n"
"\n"
"OPTIONS\n"
"    -i IFACE        capture live on IFACE (\"any\" for all); stops on\n"
"                    SIGINT/SIGTERM, -n or -t\n"
"    -r FILE         read FILE (pcap or pcapng)\n"
"    -k KEYFILE      cluster key file (mode 0600): verify each frame's MAC\n"
"    -c CLUSTER_ID   expected cluster id; frames of others: other-cluster\n"
"    -p PORTS        only these UDP ports, comma-separated (5405,5406)\n"
"    -n COUNT        stop after COUNT vigil frames\n"
"    -t SECONDS      stop after SECONDS (with -r: of capture time)\n"
"    -q              no per-frame lines, only the summary\n"
"    --json          summary as one JSON object on stdout; per-frame\n"
"                    lines then go to stderr\n"
"    -h, --help      this text\n"
"\n"
"EXIT STATUS\n"
"    0 success, 1 error (file, interface, filter, key), 2 usage error.\n"
"\n"
"SEE ALSO\n"
"    docs/vigildump.md, docs/protocol.md, tcpdump(8), pcap-filter(7)\n", f);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* The remaining arguments joined with spaces, as tcpdump does; NULL none. */
static int join_args(struct dump_opts *o, int argc, char **argv)
{
	size_t len = 0;
	int i;

	if (argc == 0)
		return 0;
	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if (len > FILTER_MAX)
		return -E2BIG;
	o->filter = calloc(1, len);
	if (!o->filter)
		return -ENOMEM;
	for (i = 0; i < argc; i++) {
		if (i)
			strcat(o->filter, " ");
		strcat(o->filter, argv[i]);
	}
	return 0;
}

/* -p "5405,5406" into o->port[]. */
static int parse_ports(struct dump_opts *o, const char *arg)
{
	const char *p = arg;
	uint64_t port;
	char tok[8];
	size_t n;

	o->n_ports = 0;
	while (*p) {
		n = strcspn(p, ",");
		if (n == 0 || n >= sizeof(tok) || o->n_ports >= DUMP_MAX_PORTS)
			return -EINVAL;
		memcpy(tok, p, n);
		tok[n] = '\0';
		if (parse_u64(tok, 65535, &port) < 0 || !port)
			return -EINVAL;
		o->port[o->n_ports++] = (uint16_t)port;
		p += n;
		if (*p == ',' && !*++p)
			return -EINVAL;
	}
	return o->n_ports ? 0 : -EINVAL;
}

static int parse_opt(struct dump_opts *o, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case 'i': o->iface = arg; return 0;
	case 'r': o->file = arg; return 0;
	case 'k': o->keyfile = arg; return 0;
	case 'p':
		if (parse_ports(o, arg) == 0)
			return 0;
		fprintf(stderr, "vigildump: -p: expected up to %d ports 1..65535 separated by commas, got \"%s\"\n",
			DUMP_MAX_PORTS, arg);
		return -EINVAL;
	case 'q': o->quiet = 1; return 0;
	case 'j': o->json = 1; return 0;
	case 'c':
		if (parse_u64(arg, UINT32_MAX, &v) < 0)
			goto bad;
		o->cluster_id = (uint32_t)v;
		o->have_cluster = 1;
		return 0;
	case 'n':
		if (parse_u64(arg, UINT64_MAX, &v) < 0 || !v)
			goto bad;
		o->count = v;
		return 0;
	case 't':
		if (parse_u64(arg, INT_MAX, &v) < 0 || !v)
			goto bad;
		o->seconds = (unsigned int)v;
		return 0;
	default:
		return -EINVAL;
	}
bad:
	fprintf(stderr, "vigildump: -%c: expected a positive number, got \"%s\"\n",
		c, arg);
	return -EINVAL;
}

/* 0, 1 for -h (done), or -EINVAL (message printed). */
static int parse_args(struct dump_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	while ((c = getopt_long(argc, argv, "i:r:k:c:p:n:t:qh", longopts,
				NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (parse_opt(o, c, optarg) < 0)
			goto bad;
	}
	if (!o->iface == !o->file) {
		fprintf(stderr, "vigildump: give exactly one of -i IFACE and -r FILE\n");
		goto bad;
	}
	rc = join_args(o, argc - optind, argv + optind);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		fprintf(stderr, "vigildump: filter longer than %d bytes\n",
			FILTER_MAX);
		goto bad;
	}
	return 0;
bad:
	fprintf(stderr, "Try 'vigildump -h' for more information.\n");
	return -EINVAL;
}

static int load_key(struct vigildump *d)
{
	unsigned char *key = NULL;
	char err[512];
	size_t len = 0;
	int rc;

	rc = vg_keyfile_read(d->opt.keyfile, &key, &len, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "vigildump: %s\n", err);
		return rc;
	}
	rc = vg_wire_key_init(&d->key, key, len);
	explicit_bzero(key, len);
	free(key);
	if (rc < 0) {
		fprintf(stderr, "vigildump: %s: cannot prepare the key: %s\n",
			d->opt.keyfile, strerror(-rc));
		return rc;
	}
	d->have_key = 1;
	return 0;
}

static pcap_t *open_live(const char *iface)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p;
	int rc;

	p = pcap_create(iface, err);
	if (!p) {
		fprintf(stderr, "vigildump: %s: %s\n", iface, err);
		return NULL;
	}
	pcap_set_snaplen(p, SNAPLEN);
	pcap_set_promisc(p, 1);
	pcap_set_timeout(p, POLL_MS);
	pcap_set_immediate_mode(p, 1);
	rc = pcap_activate(p);
	if (rc > 0)
		fprintf(stderr, "vigildump: %s: warning: %s\n", iface,
			pcap_geterr(p)[0] ? pcap_geterr(p) : pcap_statustostr(rc));
	if (rc < 0) {
		fprintf(stderr, "vigildump: %s: %s%s%s\n", iface,
			pcap_statustostr(rc), pcap_geterr(p)[0] ? ": " : "",
			pcap_geterr(p));
		goto fail;
	}
	if (pcap_setnonblock(p, 1, err) < 0) {
		fprintf(stderr, "vigildump: %s: %s\n", iface, err);
		goto fail;
	}
	return p;
fail:
	pcap_close(p);
	return NULL;
}

/*
 * The expression compiled: the user's, or by default UDP, tagged or not.
 * Any IPv6 too: BPF "udp" does not look behind IPv6 extension headers;
 * dump_packet() does.  -p is checked there for the same reason.
 */
static void filter_expr(const struct vigildump *d, char *expr, size_t len)
{
	if (d->opt.filter)
		snprintf(expr, len, "%s", d->opt.filter);
	else if (d->dlt == DLT_EN10MB)
		snprintf(expr, len, "udp or ip6 or (vlan and (udp or ip6))");
	else
		snprintf(expr, len, "udp or ip6");
}

static int set_filter(struct vigildump *d)
{
	char expr[FILTER_MAX + 1];
	struct bpf_program prog;
	int rc;

	filter_expr(d, expr, sizeof(expr));
	if (pcap_compile(d->pcap, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		fprintf(stderr, "vigildump: bad filter \"%s\": %s\n", expr,
			pcap_geterr(d->pcap));
		return -EINVAL;
	}
	rc = pcap_setfilter(d->pcap, &prog);
	if (rc < 0)
		fprintf(stderr, "vigildump: cannot set filter \"%s\": %s\n",
			expr, pcap_geterr(d->pcap));
	pcap_freecode(&prog);
	return rc < 0 ? -EINVAL : 0;
}

static int open_capture(struct vigildump *d)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	const char *name;

	if (d->opt.file) {
		d->pcap = pcap_open_offline(d->opt.file, err);
		if (!d->pcap) {
			fprintf(stderr, "vigildump: %s\n", err);
			return -EINVAL;
		}
	} else {
		d->pcap = open_live(d->opt.iface);
		if (!d->pcap)
			return -EINVAL;
	}
	d->dlt = pcap_datalink(d->pcap);
	if (!dump_dlt_supported(d->dlt)) {
		name = pcap_datalink_val_to_name(d->dlt);
		fprintf(stderr, "vigildump: %s: link type %s (%d) not supported; expected EN10MB, LINUX_SLL, LINUX_SLL2 or RAW\n",
			d->opt.file ? d->opt.file : d->opt.iface,
			name ? name : "?", d->dlt);
		return -EPROTONOSUPPORT;
	}
	return set_filter(d);
}

static int block_signals(struct vigildump *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return d->sigfd < 0 ? -errno : 0;
}

static int signalled(const struct vigildump *d)
{
	struct signalfd_siginfo si;

	return read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si);
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h,
		      const u_char *bytes)
{
	struct vigildump *d = (struct vigildump *)user;

	if (d->stop)
		return;
	if (!d->first_ts.tv_sec && !d->first_ts.tv_usec)
		d->first_ts = h->ts;
	if (d->opt.file && d->opt.seconds &&
	    h->ts.tv_sec - d->first_ts.tv_sec -
	    (h->ts.tv_usec < d->first_ts.tv_usec) >= (time_t)d->opt.seconds) {
		d->stop = 1;
		pcap_breakloop(d->pcap);
		return;
	}
	dump_packet(d, &h->ts, bytes, h->caplen);
	if (d->opt.count && d->st.vigil >= d->opt.count) {
		d->stop = 1;
		pcap_breakloop(d->pcap);
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Until a signal, -n, -t, the end of the file, or an error. */
static int run(struct vigildump *d)
{
	int64_t deadline = 0, left;
	struct pollfd pfd[2];
	int n, timeout;

	if (d->opt.iface && d->opt.seconds)
		deadline = now_ms() + (int64_t)d->opt.seconds * 1000;
	pfd[0].fd = d->opt.iface ? pcap_get_selectable_fd(d->pcap) : -1;
	pfd[0].events = POLLIN;
	pfd[1].fd = d->sigfd;
	pfd[1].events = POLLIN;
	while (!d->stop && !signalled(d)) {
		if (d->opt.iface) {
			timeout = POLL_MS;
			left = deadline ? deadline - now_ms() : POLL_MS;
			if (left <= 0)
				break;
			if (left < timeout)
				timeout = (int)left;
			if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
				return -errno;
		}
		n = pcap_dispatch(d->pcap, d->opt.iface ? -1 : 1024, on_packet,
				  (u_char *)d);
		if (n == PCAP_ERROR) {
			fprintf(stderr, "vigildump: %s: %s\n", d->opt.file ?
				d->opt.file : d->opt.iface, pcap_geterr(d->pcap));
			return -EIO;
		}
		if (n == 0 && d->opt.file)
			break;		/* end of file */
	}
	return 0;
}

static void report_kernel_drops(struct vigildump *d)
{
	struct pcap_stat ps;

	if (d->opt.iface && pcap_stats(d->pcap, &ps) == 0 && ps.ps_drop)
		fprintf(stderr, "vigildump: %s: %u packets dropped by the kernel\n",
			d->opt.iface, ps.ps_drop);
}

static int dump_main(struct vigildump *d)
{
	int rc;

	d->lines = d->opt.json ? stderr : stdout;
	if (d->opt.keyfile) {
		rc = load_key(d);
		if (rc < 0)
			return rc;
	}
	rc = block_signals(d);
	if (rc < 0) {
		fprintf(stderr, "vigildump: signals: %s\n", strerror(-rc));
		return rc;
	}
	rc = open_capture(d);
	if (rc < 0)
		return rc;
	rc = run(d);
	report_kernel_drops(d);
	if (rc < 0)
		return rc;
	fflush(d->lines);
	rc = d->opt.json ? dump_summary_json(d, stdout) :
	     dump_summary_text(d, stdout);
	if (rc < 0)
		fprintf(stderr, "vigildump: cannot write the summary: %s\n",
			strerror(-rc));
	return rc;
}

int main(int argc, char **argv)
{
	struct vigildump d;
	int rc, status;

	memset(&d, 0, sizeof(d));
	d.sigfd = -1;
	rc = parse_args(&d.opt, argc, argv);
	if (rc == 1)
		status = 0;			/* -h */
	else if (rc == -EINVAL)
		status = EXIT_USAGE;
	else if (rc < 0)
		status = 1;
	else
		status = dump_main(&d) < 0 ? 1 : 0;
	if (rc == -ENOMEM)
		fprintf(stderr, "vigildump: out of memory\n");
	if (d.pcap)
		pcap_close(d.pcap);
	if (d.sigfd >= 0)
		close(d.sigfd);
	if (d.have_key)
		vg_wire_key_free(&d.key);
	dump_stats_free(&d.st);
	free(d.opt.filter);
	if (fflush(stdout) != 0)
		status = 1;
	return status;
}
