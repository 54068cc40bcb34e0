/*
 * bench/scheduler, Pacemaker side: the benchmark's cluster written as a
 * CIB (configuration and status), and crm_simulate timed on it.
 *
 * The status says that every primitive was probed on every online node
 * (monitor_0 "not running", or start "ok" on its home node), so that
 * Pacemaker schedules no probes and the two schedulers plan the same
 * work: start elsewhere what ran on node1, which left cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHAIN 10
#define UUID "00000000-0000-4000-8000-000000000000"
/* what Pacemaker 2.1 records for a primitive without parameters */
#define DIGEST "f2317cad3d54cec5d7d7aa7d0bf35cf8"

int bench_write_cib(const char *path, size_t n_rsc, size_t n_nodes, int shape);
int bench_run_pcmk(const char *cib, double *ms, size_t *changes);

enum { FLAT, GROUPS, CHAINS }; /* as enum shape in scheduler.c */

static size_t home_of(size_t i, size_t n_nodes, int shape)
{
	return (shape == FLAT ? i : i / CHAIN) % n_nodes;
}

static void write_resources(FILE *f, size_t n_rsc, int shape)
{
	size_t i;

	fprintf(f, "    <resources>\n");
	for (i = 0; i < n_rsc; i++) {
		if (shape == GROUPS && i % CHAIN == 0)
			fprintf(f, "      <group id=\"g%zu\">\n", i / CHAIN);
		fprintf(f, "      <primitive id=\"r%zu\" class=\"ocf\" provider=\"heartbeat\" "
			"type=\"Dummy\"/>\n", i);
		if (shape == GROUPS && (i % CHAIN == CHAIN - 1 || i + 1 == n_rsc))
			fprintf(f, "      </group>\n");
	}
	fprintf(f, "    </resources>\n");
}

static void write_constraints(FILE *f, size_t n_rsc, size_t n_nodes, int shape)
{
	size_t i;

	fprintf(f, "    <constraints>\n");
	for (i = 0; i < n_rsc; i++) {
		if (shape == FLAT || i % CHAIN == 0)
			fprintf(f, "      <rsc_location id=\"loc-%zu\" rsc=\"%s%zu\" "
				"node=\"node%zu\" score=\"10\"/>\n", i,
				shape == GROUPS ? "g" : "r", shape == GROUPS ? i / CHAIN : i,
				home_of(i, n_nodes, shape) + 1);
		if (shape != CHAINS || i % CHAIN == 0)
			continue;
		fprintf(f, "      <rsc_colocation id=\"col-%zu\" rsc=\"r%zu\" with-rsc=\"r%zu\" "
			"score=\"INFINITY\"/>\n", i, i, i - 1);
		fprintf(f, "      <rsc_order id=\"ord-%zu\" first=\"r%zu\" then=\"r%zu\" "
			"kind=\"Mandatory\"/>\n", i, i - 1, i);
	}
	fprintf(f, "    </constraints>\n");
}

static void write_configuration(FILE *f, size_t n_rsc, size_t n_nodes, int shape)
{
	size_t n;

	fprintf(f, "  <configuration>\n    <crm_config>\n"
		"      <cluster_property_set id=\"cib-bootstrap-options\">\n"
		"        <nvpair id=\"opt-stonith\" name=\"stonith-enabled\" value=\"false\"/>\n"
		"        <nvpair id=\"opt-nq\" name=\"no-quorum-policy\" value=\"stop\"/>\n"
		"      </cluster_property_set>\n    </crm_config>\n    <nodes>\n");
	for (n = 1; n <= n_nodes; n++)
		fprintf(f, "      <node id=\"%zu\" uname=\"node%zu\"/>\n", n, n);
	fprintf(f, "    </nodes>\n");
	write_resources(f, n_rsc, shape);
	write_constraints(f, n_rsc, n_nodes, shape);
	fprintf(f, "    <rsc_defaults>\n      <meta_attributes id=\"rsc-options\">\n"
		"        <nvpair id=\"rsc-stickiness\" name=\"resource-stickiness\" value=\"100\"/>\n"
		"      </meta_attributes>\n    </rsc_defaults>\n  </configuration>\n");
}

/* One resource's history on one node: started there, or probed not running. */
static void write_lrm_resource(FILE *f, size_t i, size_t node, int running)
{
	const char *op = running ? "start" : "monitor";
	int rc = running ? 0 : 7;

	fprintf(f, "          <lrm_resource id=\"r%zu\" class=\"ocf\" provider=\"heartbeat\" "
		"type=\"Dummy\">\n", i);
	fprintf(f, "            <lrm_rsc_op id=\"r%zu_last_0\" operation_key=\"r%zu_%s_0\" "
		"operation=\"%s\" crm-debug-origin=\"do_update_resource\" "
		"crm_feature_set=\"3.16.1\" transition-key=\"%zu:1:%d:" UUID "\" "
		"transition-magic=\"0:%d;%zu:1:%d:" UUID "\" exit-reason=\"\" on_node=\"node%zu\" "
		"call-id=\"%zu\" rc-code=\"%d\" op-status=\"0\" interval=\"0\" "
		"last-rc-change=\"1700000000\" exec-time=\"10\" queue-time=\"0\" "
		"op-digest=\"" DIGEST "\"/>\n",
		i, i, op, op, i + 1, rc, rc, i + 1, rc, node, i + 2, rc);
	fprintf(f, "          </lrm_resource>\n");
}

static void write_status(FILE *f, size_t n_rsc, size_t n_nodes, int shape)
{
	size_t n, i;

	fprintf(f, "  <status>\n    <node_state id=\"1\" uname=\"node1\" in_ccm=\"false\" "
		"crmd=\"offline\" join=\"down\" expected=\"down\"/>\n");
	for (n = 2; n <= n_nodes; n++) {
		fprintf(f, "    <node_state id=\"%zu\" uname=\"node%zu\" in_ccm=\"true\" "
			"crmd=\"online\" join=\"member\" expected=\"member\">\n"
			"      <lrm id=\"%zu\">\n        <lrm_resources>\n", n, n, n);
		for (i = 0; i < n_rsc; i++)
			write_lrm_resource(f, i, n, home_of(i, n_nodes, shape) + 1 == n);
		fprintf(f, "        </lrm_resources>\n      </lrm>\n    </node_state>\n");
	}
	fprintf(f, "  </status>\n");
}

int bench_write_cib(const char *path, size_t n_rsc, size_t n_nodes, int shape)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -errno;
	fprintf(f, "<cib crm_feature_set=\"3.16.1\" validate-with=\"pacemaker-3.9\" "
		"epoch=\"1\" num_updates=\"0\" admin_epoch=\"0\" have-quorum=\"1\" "
		"dc-uuid=\"2\">\n");
	write_configuration(f, n_rsc, n_nodes, shape);
	write_status(f, n_rsc, n_nodes, shape);
	fprintf(f, "</cib>\n");
	ret = ferror(f) ? -EIO : 0;
	if (fclose(f) != 0 && ret == 0)
		ret = -errno;
	return ret;
}

/* Lines of crm_simulate's "Transition Summary": one per resource it changes. */
static size_t count_changes(const char *out)
{
	FILE *f = fopen(out, "r");
	char line[1024];
	size_t k = 0;
	int in_summary = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Transition Summary:", 19))
			in_summary = 1;
		else if (in_summary && !strncmp(line, "  * ", 4))
			k++;
		else if (in_summary && line[0] != ' ')
			in_summary = 0;
	}
	fclose(f);
	return k;
}

/*
 * crm_simulate -x CIB -R: parse and schedule only (-S would also simulate
 * the execution, rewriting the CIB after each action: minutes at 1,000
 * resources, and not scheduling work); its Transition Summary goes to
 * CIB.out and is counted.  Wall-clock ms of the whole process.
 */
int bench_run_pcmk(const char *cib, double *ms, size_t *changes)
{
	char out[4096];
	struct timespec t0, t1;
	int status, fd;
	pid_t pid;

	snprintf(out, sizeof(out), "%s.out", cib);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execlp("crm_simulate", "crm_simulate", "-x", cib, "-R", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	*changes = count_changes(out);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -EIO;
	return 0;
}
