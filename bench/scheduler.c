/*
 * bench/scheduler: how long the policy engine takes to recover from a node
 * loss, and how much memory it needs, beside Pacemaker's scheduler
 * (crm_simulate) on the same cluster.
 *
 * Clusters of 10 .. 100,000 primitives on 2 and 16 nodes, in three shapes:
 *   flat    independent primitives
 *   groups  groups of 10 primitives
 *   chains  chains of 10: each primitive colocated (INFINITY) with and
 *           ordered (mandatory) after the one before it
 * Everything ran spread over all nodes (stickiness 100, a location of 10
 * on its home node); node 1 has left cleanly (offline, not unclean), so
 * everything that ran there must start elsewhere.
 *
 * Each case runs in its own child process, so that the peak RSS reported
 * (getrusage of that child) is that case's alone.  ms is the median of 3
 * vg_pe_compute() runs (CLOCK_MONOTONIC), model building excluded.  When
 * crm_simulate is found, the same cluster is written as a CIB and
 * `crm_simulate -x CIB -R` is timed once (pcmk_ms: wall clock of the whole
 * process, CIB parsing included) and the resources its Transition Summary
 * changes are counted (pcmk_changes: must equal expected_starts, as our
 * starts must).  Large cases are skipped (--pcmk-max-cells, resources x
 * nodes, default 20000): pcmk_ms=skipped.
 *
 * Usage: bench/scheduler [--no-pcmk] [--pcmk-max-cells N] [--max-resources N]
 *                        [--keep DIR]
 * Prints: resources=R nodes=N shape=S ms=T rss_kb=K pcmk_ms=T pcmk_changes=P
 *         actions=A starts=S expected_starts=E
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vigil/abi.h>

#include "policy/policy.h"

enum shape { SHAPE_FLAT, SHAPE_GROUPS, SHAPE_CHAINS };
static const char *const shape_names[] = { "flat", "groups", "chains" };

#define CHAIN 10        /* group size and chain length */
#define STICKINESS 100
#define HOME_SCORE 10

struct opts {
	int pcmk;
	size_t pcmk_max_cells;  /* resources x nodes above which pcmk is skipped */
	size_t max_resources;
	const char *keep_dir;   /* keep the CIBs there; NULL: a temporary dir */
};

struct cluster {
	size_t n_rsc, n_nodes;
	enum shape shape;
	struct vg_pe_model m;
	struct vg_pe_input in;
	char *names;            /* "r%zu\0" and "node%zu\0" strings */
};

struct result {
	double ms;
	size_t actions;
	size_t starts;
};

/* Where primitive i ran before node 1 left: spread over all nodes. */
static size_t home_of(const struct cluster *c, size_t i)
{
	return (c->shape == SHAPE_FLAT ? i : i / CHAIN) % c->n_nodes;
}

static size_t expected_starts(size_t n_rsc, size_t n_nodes, enum shape shape)
{
	struct cluster c = { .n_rsc = n_rsc, .n_nodes = n_nodes, .shape = shape };
	size_t i, k = 0;

	for (i = 0; i < n_rsc; i++)
		k += home_of(&c, i) == 0;
	return k;
}

static int alloc_names(struct cluster *c)
{
	const char **node_names = calloc(c->n_nodes, sizeof(*node_names));
	size_t i, off = 0, sz = (c->n_rsc + c->n_nodes) * 16;

	c->names = malloc(sz);
	if (!c->names || !node_names) {
		free(node_names);
		return -ENOMEM;
	}
	for (i = 0; i < c->n_rsc; i++) {
		c->m.primitives[i].id = c->names + off;
		off += (size_t)snprintf(c->names + off, sz - off, "r%zu", i) + 1;
	}
	for (i = 0; i < c->n_nodes; i++) {
		node_names[i] = c->names + off;
		off += (size_t)snprintf(c->names + off, sz - off, "node%zu", i + 1) + 1;
	}
	c->m.node_names = node_names;
	return 0;
}

/* Groups (or chains) of CHAIN primitives, located on their home node. */
static int build_constraints(struct cluster *c)
{
	size_t i, n_sets = (c->n_rsc + CHAIN - 1) / CHAIN, n_links = 0;
	struct vg_pe_model *m = &c->m;

	m->locations = calloc(c->n_rsc + 1, sizeof(*m->locations));
	m->groups = calloc(n_sets + 1, sizeof(*m->groups));
	m->colocations = calloc(c->n_rsc + 1, sizeof(*m->colocations));
	m->orders = calloc(c->n_rsc + 1, sizeof(*m->orders));
	if (!m->locations || !m->groups || !m->colocations || !m->orders)
		return -ENOMEM;
	for (i = 0; i < c->n_rsc; i++) {
		struct vg_pe_ref r = { VG_PE_PRIMITIVE, (uint32_t)i };

		if (c->shape == SHAPE_GROUPS)
			r = (struct vg_pe_ref){ VG_PE_GROUP, (uint32_t)(i / CHAIN) };
		if (c->shape == SHAPE_FLAT || i % CHAIN == 0)
			m->locations[m->n_locations++] = (struct vg_pe_location){
				r, (uint32_t)home_of(c, i), HOME_SCORE };
		if (c->shape == SHAPE_CHAINS && i % CHAIN != 0) {
			struct vg_pe_ref prev = { VG_PE_PRIMITIVE, (uint32_t)i - 1 };
			struct vg_pe_ref me = { VG_PE_PRIMITIVE, (uint32_t)i };

			m->colocations[n_links] = (struct vg_pe_colocation){
				me, prev, VG_SCORE_INFINITY, VG_ROLE_STARTED, VG_ROLE_STARTED };
			m->orders[n_links++] = (struct vg_pe_order){
				prev, VG_RSC_START, me, VG_RSC_START, 1 };
		}
	}
	m->n_colocations = m->n_orders = n_links;
	return 0;
}

static int build_groups(struct cluster *c, uint32_t *members)
{
	size_t i, g;

	for (i = 0; i < c->n_rsc; i++) {
		g = i / CHAIN;
		members[i] = (uint32_t)i;
		c->m.primitives[i].group = (int32_t)g;
		if (i % CHAIN == 0) {
			c->m.groups[g].id = c->m.primitives[i].id;
			c->m.groups[g].members = members + i;
			c->m.n_groups = g + 1;
		}
		c->m.groups[g].n_members++;
	}
	return 0;
}

static void cluster_free(struct cluster *c)
{
	free(c->m.primitives);
	free(c->m.locations);
	if (c->m.n_groups)
		free(c->m.groups[0].members);
	free(c->m.groups);
	free(c->m.colocations);
	free(c->m.orders);
	free((void *)c->m.node_names);
	free(c->names);
	free(c->in.nodes);
	free(c->in.state);
}

static int cluster_build(struct cluster *c, size_t n_rsc, size_t n_nodes, enum shape shape)
{
	size_t i, n;

	memset(c, 0, sizeof(*c));
	c->n_rsc = n_rsc;
	c->n_nodes = n_nodes;
	c->shape = shape;
	c->m.n_primitives = n_rsc;
	c->m.n_nodes = n_nodes;
	c->m.primitives = calloc(n_rsc, sizeof(*c->m.primitives));
	c->in.nodes = calloc(n_nodes, sizeof(*c->in.nodes));
	c->in.state = calloc(n_rsc * n_nodes, sizeof(*c->in.state));
	if (!c->m.primitives || !c->in.nodes || !c->in.state || alloc_names(c) < 0 ||
	    build_constraints(c) < 0)
		return -ENOMEM;
	for (i = 0; i < n_rsc; i++)
		c->m.primitives[i] = (struct vg_pe_primitive){
			.id = c->m.primitives[i].id, .group = -1, .clone = -1,
			.stickiness = STICKINESS, .target_role = VG_TARGET_STARTED,
			.on_fail = VG_ON_FAIL_RESTART, .managed = 1 };
	if (shape == SHAPE_GROUPS) {
		uint32_t *members = malloc(n_rsc * sizeof(*members));

		if (!members)
			return -ENOMEM;
		build_groups(c, members);
	}
	for (n = 0; n < n_nodes; n++)
		c->in.nodes[n] = (struct vg_pe_node){ .id = (uint32_t)n + 1, .online = n != 0 };
	for (i = 0; i < n_rsc; i++)
		for (n = 0; n < n_nodes; n++)
			c->in.state[i * n_nodes + n].role =
				home_of(c, i) == n ? VG_ROLE_STARTED : VG_ROLE_STOPPED;
	c->in.model = &c->m;
	c->in.quorate = 1;
	c->in.no_quorum = VG_PE_NQ_STOP;
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* In the child: build the cluster, compute three times, report the median. */
static int measure(size_t n_rsc, size_t n_nodes, enum shape shape, struct result *r)
{
	struct cluster c;
	struct vg_pe_transition t;
	double ms[3], t0;
	size_t k, i;
	int ret = cluster_build(&c, n_rsc, n_nodes, shape);

	for (k = 0; k < 3 && ret == 0; k++) {
		t0 = now_ms();
		ret = vg_pe_compute(&c.in, &t);
		ms[k] = now_ms() - t0;
		if (ret < 0)
			break;
		r->actions = t.n_actions;
		for (r->starts = 0, i = 0; i < t.n_actions; i++)
			r->starts += t.actions[i].action == VG_RSC_START;
		vg_pe_transition_free(&t);
	}
	cluster_free(&c);
	if (ret < 0)
		return ret;
	qsort(ms, 3, sizeof(ms[0]), dbl_cmp);
	r->ms = ms[1];
	return 0;
}

/* Fork: the child measures, the parent gets its result and peak RSS. */
static int run_case(size_t n_rsc, size_t n_nodes, enum shape shape, struct result *r,
		    long *rss_kb)
{
	struct rusage ru;
	int fds[2], status;
	pid_t pid;
	ssize_t got;

	if (pipe(fds) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(fds[0]);
		if (measure(n_rsc, n_nodes, shape, r) < 0 ||
		    write(fds[1], r, sizeof(*r)) != (ssize_t)sizeof(*r))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	got = read(fds[0], r, sizeof(*r));
	close(fds[0]);
	if (wait4(pid, &status, 0, &ru) < 0)
		return -errno;
	if (got != (ssize_t)sizeof(*r) || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -EIO;
	*rss_kb = ru.ru_maxrss;
	return 0;
}

/* cib.c: the same cluster as a Pacemaker CIB, and crm_simulate on it */
int bench_write_cib(const char *path, size_t n_rsc, size_t n_nodes, int shape);
int bench_run_pcmk(const char *cib, double *ms, size_t *changes);

static int have_crm_simulate(void)
{
	return system("command -v crm_simulate >/dev/null 2>&1") == 0;
}

static void pcmk_case(const struct opts *o, const char *dir, size_t n_rsc, size_t n_nodes,
		      enum shape shape)
{
	char path[4096];
	double ms;
	size_t changes;

	if (!o->pcmk) {
		printf(" pcmk_ms=none");
		return;
	}
	if (n_rsc * n_nodes > o->pcmk_max_cells) {
		printf(" pcmk_ms=skipped");
		return;
	}
	snprintf(path, sizeof(path), "%s/cib-%zu-%zu-%s.xml", dir, n_rsc, n_nodes,
		 shape_names[shape]);
	if (bench_write_cib(path, n_rsc, n_nodes, shape) < 0 ||
	    bench_run_pcmk(path, &ms, &changes) < 0) {
		printf(" pcmk_ms=failed");
		return;
	}
	printf(" pcmk_ms=%.1f pcmk_changes=%zu", ms, changes);
	if (!o->keep_dir) {
		unlink(path);
		strncat(path, ".out", sizeof(path) - strlen(path) - 1);
		unlink(path);
	}
}

static int parse(int argc, char **argv, struct opts *o)
{
	int i;

	*o = (struct opts){ .pcmk = 1, .pcmk_max_cells = 20000, .max_resources = 100000 };
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-pcmk"))
			o->pcmk = 0;
		else if (!strcmp(argv[i], "--pcmk-max-cells") && i + 1 < argc)
			o->pcmk_max_cells = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--max-resources") && i + 1 < argc)
			o->max_resources = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--keep") && i + 1 < argc)
			o->keep_dir = argv[++i];
		else
			return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 10, 100, 1000, 10000, 100000 };
	static const size_t nodes[] = { 2, 16 };
	char tmp[] = "/tmp/vigil-bench-XXXXXX";
	const char *dir;
	struct opts o;
	size_t si, ni, sh;

	if (parse(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: %s [--no-pcmk] [--pcmk-max-cells N] "
			"[--max-resources N] [--keep DIR]\n", argv[0]);
		return 2;
	}
	o.pcmk = o.pcmk && have_crm_simulate();
	dir = o.keep_dir ? o.keep_dir : mkdtemp(tmp);
	if (!dir) {
		perror("scheduler: mkdtemp");
		return 1;
	}
	for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		for (ni = 0; ni < 2 && sizes[si] <= o.max_resources; ni++) {
			for (sh = 0; sh < 3; sh++) {
				struct result r = { 0 };
				long rss = 0;

				if (run_case(sizes[si], nodes[ni], sh, &r, &rss) < 0) {
					fprintf(stderr, "scheduler: case %zu x %zu %s failed\n",
						sizes[si], nodes[ni], shape_names[sh]);
					return 1;
				}
				printf("resources=%zu nodes=%zu shape=%s ms=%.2f rss_kb=%ld",
				       sizes[si], nodes[ni], shape_names[sh], r.ms, rss);
				pcmk_case(&o, dir, sizes[si], nodes[ni], sh);
				printf(" actions=%zu starts=%zu expected_starts=%zu\n", r.actions,
				       r.starts, expected_starts(sizes[si], nodes[ni], sh));
				fflush(stdout);
			}
		}
	}
	if (!o.keep_dir)
		rmdir(dir);
	return 0;
}
