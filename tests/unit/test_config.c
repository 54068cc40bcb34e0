/*
 * Configuration tests: each refusal is asserted with its whole message,
 * file name and line included; good files must load with their defaults.
 * Plugins come from a hand-made registry (no .so is loaded); lookups go
 * through the real vg_registry_find().
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <openssl/evp.h>

#include "config.h"
#include "plugin.h"

#ifndef TESTS_SRCDIR
#define TESTS_SRCDIR "."
#endif
#define EXAMPLES_DIR TESTS_SRCDIR "/../examples"

/* Lines 1 and 2 of most files below; what a test adds starts at line 3. */
#define HEAD \
	"cluster = { name = \"test\"; id = 7; key_file = \"/etc/vigil/authkey\"; };\n" \
	"nodes = ( { id = 1; name = \"n1\"; }, { id = 2; name = \"n2\"; } );\n"

static const struct vg_param_decl ucast_params[] = {
	{ .name = "port", .type = VG_PARAM_INT, .def = "5405", .min = 1, .max = 65535 },
	{ .name = "bind", .type = VG_PARAM_STRING },
	{ .name = NULL },
};
static const struct vg_param_decl mcast_params[] = {
	{ .name = "group", .type = VG_PARAM_STRING, .def = "239.192.77.1" },
	{ .name = "port", .type = VG_PARAM_INT, .def = "5406", .min = 1, .max = 65535 },
	{ .name = "ttl", .type = VG_PARAM_INT, .def = "1", .min = 1, .max = 255 },
	{ .name = "interface", .type = VG_PARAM_STRING },
	{ .name = "loop", .type = VG_PARAM_BOOL, .def = "false" },
	{ .name = NULL },
};
static const char *const ocf_modes[] = { "simple", "promotable", NULL };
static const struct vg_param_decl ocf_params[] = {
	{ .name = "agent", .type = VG_PARAM_STRING, .flags = VG_PARAM_REQUIRED },
	{ .name = "timeout_ms", .type = VG_PARAM_DURATION_MS, .def = "20000", .min = 1, .max = 600000 },
	{ .name = "mode", .type = VG_PARAM_ENUM, .def = "simple", .choices = ocf_modes },
	{ .name = NULL },
};
static const struct vg_param_decl dummy_params[] = {
	{ .name = "state", .type = VG_PARAM_PATH },
	{ .name = NULL },
};
static const struct vg_param_decl ipmi_params[] = {
	{ .name = "host", .type = VG_PARAM_STRING, .flags = VG_PARAM_REQUIRED },
	{ .name = "password", .type = VG_PARAM_SECRET, .flags = VG_PARAM_REQUIRED },
	{ .name = "lanplus", .type = VG_PARAM_BOOL, .def = "true" },
	{ .name = NULL },
};

static const struct vg_param_decl block_params[] = {
	{ .name = "store", .type = VG_PARAM_PATH, .flags = VG_PARAM_REQUIRED },
	{ .name = "addresses", .type = VG_PARAM_STRING },
	{ .name = "nbd", .type = VG_PARAM_STRING, .flags = VG_PARAM_REQUIRED },
	{ .name = NULL },
};
/* The core's built-in resource plugin "replication" (core/rsc_replication.c). */
static const struct vg_param_decl replication_rsc_params[] = {
	{ .name = "instance", .type = VG_PARAM_STRING, .flags = VG_PARAM_REQUIRED },
	{ .name = "initial_primary", .type = VG_PARAM_STRING },
	{ .name = NULL },
};

#define N_PLUGINS 7

/* A registry of plugin infos that live in the test's stack frame. */
struct fixture {
	struct vg_plugin_info info[N_PLUGINS];
	struct vg_plugin_info *ptrs[N_PLUGINS];
	struct vg_registry reg;
	char dir[64];
	char path[128];
	char err[1024];
	char want[1024];
	struct vg_config *cfg;
};

static void fixture_plugin(struct fixture *f, size_t i, uint32_t kind, const char *name,
			   const struct vg_param_decl *params, size_t n, uint32_t flags)
{
	f->info[i].kind = kind;
	f->info[i].name = (char *)name;
	f->info[i].params = params;
	f->info[i].n_params = n;
	f->info[i].flags = flags;
	f->ptrs[i] = &f->info[i];
}

static void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	fixture_plugin(f, 0, VG_KIND_TRANSPORT, "udp-mcast", mcast_params, 5, 0);
	fixture_plugin(f, 1, VG_KIND_TRANSPORT, "udp-ucast", ucast_params, 2, 0);
	fixture_plugin(f, 2, VG_KIND_RESOURCE, "ocf", ocf_params, 3, VG_PLUGIN_F_ATTRS);
	fixture_plugin(f, 3, VG_KIND_RESOURCE, "dummy", dummy_params, 1, 0);
	fixture_plugin(f, 4, VG_KIND_FENCE, "ipmi", ipmi_params, 3, 0);
	fixture_plugin(f, 5, VG_KIND_REPLICATION, "block", block_params, 3, 0);
	fixture_plugin(f, 6, VG_KIND_RESOURCE, VG_RSC_REPLICATION_PLUGIN, replication_rsc_params, 2, 0);
	f->reg.plugins = f->ptrs;
	f->reg.n_plugins = N_PLUGINS;
}

/* Write `text` as f->path (cluster.conf in a fresh mkdtemp directory) with `mode`. */
static int tmpfile_write(struct fixture *f, const char *name, const char *text, size_t len,
			 mode_t mode)
{
	int fd, rc = 0;

	snprintf(f->dir, sizeof(f->dir), "/tmp/vg-test-config.XXXXXX");
	if (!mkdtemp(f->dir))
		return -errno;
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
	fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || fchmod(fd, mode) < 0)
		rc = -EIO;
	close(fd);
	return rc;
}

static void tmpfile_remove(struct fixture *f)
{
	unlink(f->path);
	rmdir(f->dir);
}

static int load_text(struct fixture *f, const char *text)
{
	int rc = tmpfile_write(f, "cluster.conf", text, strlen(text), 0644);

	CU_ASSERT_EQUAL_FATAL(rc, 0);
	return vg_config_load(f->path, &f->reg, &f->cfg, f->err, sizeof(f->err));
}

/* `tmpl` with its first "%s" replaced by `path` (no printf: messages hold no other %). */
static void subst_path(char *out, size_t len, const char *tmpl, const char *path)
{
	const char *at = strstr(tmpl, "%s");

	if (!at) {
		snprintf(out, len, "%s", tmpl);
		return;
	}
	snprintf(out, len, "%.*s%s%s", (int)(at - tmpl), tmpl, path, at + 2);
}

/* Load `text`, expect a refusal whose message is `want_fmt` with %s = the file's path. */
static void expect_refusal(const char *text, const char *want_fmt)
{
	struct fixture f;
	int rc;

	fixture_init(&f);
	rc = load_text(&f, text);
	subst_path(f.want, sizeof(f.want), want_fmt, f.path);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NULL(f.cfg);
	CU_ASSERT_STRING_EQUAL(f.err, f.want);
	if (strcmp(f.err, f.want))
		fprintf(stderr, "\n  expected: %s\n  got:      %s\n", f.want, f.err);
	vg_config_free(f.cfg);
	tmpfile_remove(&f);
}

static void test_config_rejects_unknown_key_with_line(void)
{
	expect_refusal(HEAD "membership = {\n  intervall = 100;\n};\n",
		       "%s:4: unknown key \"intervall\" in membership "
		       "(expected one of: interval_ms, deadtime_ms)");
	expect_refusal(HEAD "\nclustre = { };\n",
		       "%s:4: unknown key \"clustre\" at top level (expected one of: cluster, "
		       "logging, plugin_dir, state_dir, ctl, membership, quorum, scheduling, nodes, links, "
		       "resources, fence_devices, replication, groups, clones, constraints, fencing)");
	expect_refusal(HEAD "resources = ( { id = \"db\"; plugin = \"ocf\";\n metas = { }; } );\n",
		       "%s:4: unknown key \"metas\" in resources[0] "
		       "(expected one of: meta, ops, id, plugin, params, attributes)");
}

static void test_config_rejects_missing_required_key(void)
{
	expect_refusal("cluster = {\n name = \"c\";\n id = 1;\n};\n" "nodes = ( { id = 1; name = \"n1\"; } );\n",
		       "%s:1: missing required key \"key_file\" in cluster (expected an absolute path)");
	expect_refusal("cluster = { name = \"c\"; id = 1; key_file = \"/k\"; };\n",
		       "%s: missing required key \"nodes\" at top level "
		       "(expected a list of groups ( { ... }, ... ))");
}

static void test_config_rejects_wrong_type_and_bad_name(void)
{
	expect_refusal(HEAD "logging = { stderr = \"yes\"; };\n",
		       "%s:3: logging.stderr must be a boolean (true or false), got \"yes\"");
	expect_refusal("cluster = { name = \"my cluster\"; id = 1; key_file = \"/k\"; };\n",
		       "%s:1: cluster.name must be 1..64 characters of [A-Za-z0-9_-], got \"my cluster\"");
	expect_refusal(HEAD "logging = { level = \"verbose\"; };\n",
		       "%s:3: logging.level must be one of err, warning, notice, info, debug, "
		       "got \"verbose\"");
}

static void test_config_rejects_out_of_range_deadtime(void)
{
	expect_refusal(HEAD "membership = { deadtime_ms = 5; };\n",
		       "%s:3: membership.deadtime_ms must be an integer 20..60000, got 5");
}

static void test_config_rejects_deadtime_below_two_intervals(void)
{
	expect_refusal(HEAD "membership = {\n  interval_ms = 200;\n  deadtime_ms = 300;\n};\n",
		       "%s:5: membership.deadtime_ms must be at least 2 * membership.interval_ms"
		       " = 400, got 300");
	/* the default deadtime (500) against a configured interval */
	expect_refusal(HEAD "membership = {\n  interval_ms = 300;\n};\n",
		       "%s:4: membership.deadtime_ms must be at least 2 * membership.interval_ms"
		       " = 600, got 500");
}

static void test_config_rejects_duplicate_node_id(void)
{
	expect_refusal("cluster = { name = \"c\"; id = 1; key_file = \"/k\"; };\n"
		       "nodes = (\n  { id = 1; name = \"n1\"; },\n  { id = 1; name = \"n2\"; }\n);\n",
		       "%s:4: nodes[1].id must be unique, got 1 again (node \"n1\" at line 3)");
	expect_refusal("cluster = { name = \"c\"; id = 1; key_file = \"/k\"; };\n"
		       "nodes = (\n  { id = 1; name = \"n1\"; },\n  { id = 2; name = \"n1\"; }\n);\n",
		       "%s:4: nodes[1].name must be unique, got \"n1\" again (line 3)");
}

static void test_config_rejects_two_node_with_three_nodes(void)
{
	expect_refusal("cluster = { name = \"c\"; id = 1; key_file = \"/k\"; };\n"
		       "nodes = ( { id = 1; name = \"a\"; }, { id = 2; name = \"b\"; },"
		       " { id = 3; name = \"c\"; } );\n"
		       "quorum = {\n  two_node = true;\n};\n",
		       "%s:4: quorum.two_node requires exactly 2 nodes, got 3");
}

static void test_config_rejects_more_addresses_than_links(void)
{
	expect_refusal("cluster = { name = \"c\"; id = 1; key_file = \"/k\"; };\n"
		       "nodes = ( { id = 1; name = \"n1\";\n"
		       "  addresses = [ \"198.18.0.1\", \"198.18.1.1\" ]; } );\n"
		       "links = ( { plugin = \"udp-ucast\"; } );\n",
		       "%s:3: node \"n1\" must have at most one address per link (1 links),"
		       " got 2 addresses");
}

static void test_config_rejects_unknown_plugin(void)
{
	expect_refusal(HEAD "links = (\n  { name = \"ring0\";\n    plugin = \"udp-mcst\"; }\n);\n",
		       "%s:5: link \"ring0\": no plugin named \"udp-mcst\" "
		       "(loaded: udp-mcast, udp-ucast, ocf, dummy, ipmi, block, replication)");
}

static void test_config_rejects_wrong_kind(void)
{
	expect_refusal(HEAD "resources = (\n  { id = \"db\"; plugin = \"udp-ucast\"; }\n);\n",
		       "%s:4: resource \"db\": plugin \"udp-ucast\" must be a resource plugin, "
		       "got a transport plugin");
}

static void test_config_rejects_unknown_param(void)
{
	expect_refusal(HEAD "links = ( { name = \"ring0\"; plugin = \"udp-mcast\";\n"
		       "  params = {\n    prot = 5405;\n  };\n} );\n",
		       "%s:5: link \"ring0\" (udp-mcast): unknown param \"prot\" "
		       "(declared: group, port, ttl, interface, loop)");
}

static void test_config_rejects_missing_required_param(void)
{
	expect_refusal(HEAD "resources = (\n  { id = \"db\"; plugin = \"ocf\"; }\n);\n",
		       "%s:4: resource \"db\" (ocf): missing required param \"agent\"");
}

static void test_config_rejects_param_wrong_type(void)
{
	expect_refusal(HEAD "links = ( { plugin = \"udp-mcast\";\n  params = { ttl = \"abc\"; }; } );\n",
		       "%s:4: link \"link0\" (udp-mcast): param ttl must be an integer 1..255, "
		       "got \"abc\"");
	expect_refusal(HEAD "resources = ( { id = \"db\"; plugin = \"ocf\";\n"
		       "  params = { agent = \"pgsql\";\n    timeout_ms = 0; }; } );\n",
		       "%s:5: resource \"db\" (ocf): param timeout_ms must be a duration 1..600000 ms, "
		       "got 0");
	expect_refusal(HEAD "links = ( { plugin = \"udp-ucast\";\n  params = { port = [ 1 ]; }; } );\n",
		       "%s:4: link \"link0\" (udp-ucast): param port must be a string, integer or "
		       "boolean, got an array");
}

static void test_config_rejects_bad_enum(void)
{
	expect_refusal(HEAD "resources = ( { id = \"db\"; plugin = \"ocf\";\n"
		       "  params = { agent = \"pgsql\"; mode = \"master\"; }; } );\n",
		       "%s:4: resource \"db\" (ocf): param mode must be one of simple, promotable, "
		       "got \"master\"");
}

static void test_config_rejects_attributes_without_flag(void)
{
	expect_refusal(HEAD "resources = ( { id = \"web\"; plugin = \"dummy\";\n"
		       "  attributes = { x = 1; }; } );\n",
		       "%s:4: resource \"web\" (dummy): plugin \"dummy\" takes no attributes group, "
		       "only params");
}

static void test_config_syntax_error_has_line(void)
{
	expect_refusal(HEAD "membership = { interval_ms = ; };\n", "%s:3: syntax error");
}

#define RSC2 "resources = ( { id = \"a\"; plugin = \"ocf\"; params = { agent = \"x:y\"; }; },\n" \
	"  { id = \"b\"; plugin = \"ocf\"; params = { agent = \"x:y\"; }; } );\n"

static void test_config_rejects_bad_resource_references(void)
{
	expect_refusal(HEAD RSC2 "groups = ( { id = \"g\"; resources = [ \"a\", \"c\" ]; } );\n",
		       "%s:5: group \"g\": no resource named \"c\"");
	expect_refusal(HEAD RSC2 "groups = ( { id = \"g\"; resources = [ \"a\" ]; },\n"
		       "  { id = \"h\"; resources = [ \"a\" ]; } );\n",
		       "%s:6: group \"h\": resource \"a\" already belongs to group \"g\" (line 5)");
	expect_refusal(HEAD RSC2 "clones = ( { id = \"a\"; resource = \"b\"; } );\n",
		       "%s:5: clone id \"a\" is already used by a resource, group or clone; expected a unique id");
	expect_refusal(HEAD RSC2 "constraints = { location = ( { resource = \"a\"; node = \"n9\"; score = 5; } ); };\n",
		       "%s:5: location constraint: no node named \"n9\"");
	expect_refusal(HEAD RSC2 "constraints = { colocation = ( { resource = \"a\"; with = \"b\"; with_role = \"promoted\"; } ); };\n",
		       "%s:5: colocation constraint: with_role = \"promoted\" needs \"b\" to be a promotable clone");
	expect_refusal(HEAD RSC2 "constraints = { order = ( { first = \"a\"; then = \"a\"; } ); };\n",
		       "%s:5: order constraint: \"a\" after itself");
}

static void test_config_scores_accept_infinity_words(void)
{
	struct fixture f;

	fixture_init(&f);
	CU_ASSERT_EQUAL_FATAL(load_text(&f, HEAD RSC2 "constraints = { location = (\n"
				       "  { resource = \"a\"; node = \"n1\"; score = \"INFINITY\"; },\n"
				       "  { resource = \"b\"; node = \"n2\"; score = \"-INFINITY\"; },\n"
				       "  { resource = \"b\"; node = \"n1\"; score = -250; } ); };\n"), 0);
	CU_ASSERT_EQUAL((int32_t)f.cfg->locations[0].score, 1000000);
	CU_ASSERT_EQUAL((int32_t)f.cfg->locations[1].score, -1000000);
	CU_ASSERT_EQUAL((int32_t)f.cfg->locations[2].score, -250);
	vg_config_free(f.cfg);
	tmpfile_remove(&f);
	expect_refusal(HEAD RSC2 "constraints = { location = ( { resource = \"a\"; node = \"n1\"; score = \"lots\"; } ); };\n",
		       "%s:5: constraints.location[0].score must be a score (an integer -1000000..1000000, \"INFINITY\" or \"-INFINITY\"), got \"lots\"");
}

static void test_config_rejects_fence_level_device_without_target(void)
{
	expect_refusal(HEAD "fence_devices = ( { name = \"f1\"; plugin = \"ipmi\"; targets = [ \"n2\" ];\n"
		       "  params = { host = \"h\"; password = \"p\"; }; } );\n"
		       "fencing = { levels = ( { node = \"n1\"; level = 1; devices = [ \"f1\" ]; } ); };\n",
		       "%s:5: fencing level 1 of n1: device \"f1\" cannot fence n1 (its targets do not list it)");
	expect_refusal(HEAD "fence_devices = ( { name = \"f1\"; plugin = \"ipmi\"; targets = [ \"n7\" ];\n"
		       "  params = { host = \"h\"; password = \"p\"; }; } );\n",
		       "%s:3: fence device \"f1\": target \"n7\" is not a node");
}

static void test_secret_not_echoed(void)
{
	expect_refusal(HEAD "fence_devices = ( { name = \"ipmi-n1\"; plugin = \"ipmi\"; targets = [ \"n1\" ];\n"
		       "  params = { host = \"10.0.0.1\"; password = 1.5; }; } );\n",
		       "%s:4: fence device \"ipmi-n1\" (ipmi): param password must be a string, "
		       "integer or boolean, got <secret>");
}

static void test_config_defaults_applied(void)
{
	struct fixture f;

	fixture_init(&f);
	CU_ASSERT_EQUAL_FATAL(load_text(&f, HEAD "links = ( { plugin = \"udp-ucast\"; } );\n"), 0);
	CU_ASSERT_EQUAL(f.cfg->log_level, VG_LOG_INFO);
	CU_ASSERT_EQUAL(f.cfg->log_stderr, 1);
	CU_ASSERT_EQUAL(f.cfg->log_syslog, 0);
	CU_ASSERT_STRING_EQUAL(f.cfg->log_facility, "daemon");
	CU_ASSERT_PTR_NOT_NULL(f.cfg->plugin_dir);
	CU_ASSERT_PTR_NOT_NULL(f.cfg->state_dir);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.cfg->ctl_socket, "/vigild.sock"));
	CU_ASSERT_PTR_NULL(f.cfg->ctl_group);
	CU_ASSERT_EQUAL(f.cfg->interval_ms, 100);
	CU_ASSERT_EQUAL(f.cfg->deadtime_ms, 500);
	CU_ASSERT_EQUAL(f.cfg->expected_votes, 0);
	CU_ASSERT_EQUAL(f.cfg->two_node, 0);
	CU_ASSERT_EQUAL(f.cfg->wait_for_all, 0);
	CU_ASSERT_EQUAL(f.cfg->no_quorum_policy, VG_NQP_STOP);
	CU_ASSERT_EQUAL(f.cfg->nodes[1].votes, 1);
	CU_ASSERT_EQUAL_FATAL(f.cfg->n_links, 1);
	CU_ASSERT_STRING_EQUAL(f.cfg->links[0].name, "link0");
	CU_ASSERT_EQUAL_FATAL(f.cfg->links[0].n_values, 2);
	CU_ASSERT_EQUAL(f.cfg->links[0].values[0].is_set, 1);
	CU_ASSERT_EQUAL(f.cfg->links[0].values[0].i, 5405);
	CU_ASSERT_EQUAL(f.cfg->links[0].values[1].is_set, 0);
	CU_ASSERT_PTR_NULL(f.cfg->links[0].values[1].s);
	vg_config_free(f.cfg);
	tmpfile_remove(&f);

	/* two_node brings wait_for_all with it unless told otherwise */
	fixture_init(&f);
	CU_ASSERT_EQUAL_FATAL(load_text(&f, HEAD "quorum = { two_node = true; };\n"), 0);
	CU_ASSERT_EQUAL(f.cfg->wait_for_all, 1);
	vg_config_free(f.cfg);
	tmpfile_remove(&f);
}

static void check_digest(const struct fixture *f, const char *text)
{
	unsigned char md[32];
	unsigned int n = 0;

	CU_ASSERT_FATAL(EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL) == 1);
	CU_ASSERT_EQUAL(memcmp(md, f->cfg->digest, sizeof(md)), 0);
}

static void test_config_good_file_loads(void)
{
	static const char text[] =
		"cluster = { name = \"prod_db-1\"; id = 4000000000L; key_file = \"/etc/vigil/authkey\"; };\n"
		"logging = { level = \"debug\"; syslog = true; facility = \"local3\"; };\n"
		"ctl = { group = \"haclient\"; };\n"
		"quorum = { no_quorum_policy = \"freeze\"; wait_for_all = false; two_node = true; };\n"
		"nodes = ( { id = 1; name = \"db1.example\"; addresses = [ \"198.18.0.1\", \"\" ]; votes = 2; },\n"
		"          { id = 2; name = \"db2\"; } );\n"
		"links = ( { name = \"ring0\"; plugin = \"udp-mcast\"; params = { loop = \"yes\"; ttl = 4; }; },\n"
		"          { plugin = \"udp-ucast\"; } );\n"
		"resources = ( { id = \"db\"; plugin = \"ocf\"; params = { agent = \"pgsql\"; timeout_ms = \"2s\"; };\n"
		"                attributes = { pgdata = \"/srv/pg\"; port = 5432; }; } );\n"
		"fence_devices = ( { name = \"ipmi-db1\"; plugin = \"ipmi\"; targets = [ \"db1.example\" ];\n"
		"                    params = { host = \"10.0.0.1\"; password = \"s3cret\"; }; } );\n";
	const struct vg_instance_conf *r;
	struct fixture f;

	fixture_init(&f);
	CU_ASSERT_EQUAL_FATAL(load_text(&f, text), 0);
	check_digest(&f, text);
	CU_ASSERT_EQUAL(f.cfg->cluster_id, 4000000000u);
	CU_ASSERT_EQUAL(f.cfg->log_level, VG_LOG_DEBUG);
	CU_ASSERT_STRING_EQUAL(f.cfg->ctl_group, "haclient");
	CU_ASSERT_EQUAL(f.cfg->no_quorum_policy, VG_NQP_FREEZE);
	CU_ASSERT_EQUAL(f.cfg->wait_for_all, 0);
	CU_ASSERT_EQUAL(vg_config_node_by_name(f.cfg, "db2"), vg_config_node_by_id(f.cfg, 2));
	CU_ASSERT_PTR_NULL(vg_config_node_by_id(f.cfg, 3));
	CU_ASSERT_EQUAL(f.cfg->nodes[0].votes, 2);
	CU_ASSERT_EQUAL(f.cfg->nodes[0].n_addrs, 2);
	CU_ASSERT_PTR_NULL(f.cfg->nodes[0].addrs[1]);
	CU_ASSERT_EQUAL(f.cfg->nodes[0].line, 5);
	CU_ASSERT_EQUAL(f.cfg->links[0].values[4].i, 1);   /* loop = "yes" */
	CU_ASSERT_EQUAL(f.cfg->links[0].values[2].i, 4);   /* ttl */
	CU_ASSERT_STRING_EQUAL(f.cfg->links[1].name, "link1");
	r = &f.cfg->resources[0];
	CU_ASSERT_EQUAL(r->values[1].i, 2000);
	CU_ASSERT_STRING_EQUAL(r->values[2].s, "simple");
	CU_ASSERT_EQUAL_FATAL(r->n_attrs, 2);
	CU_ASSERT_STRING_EQUAL(r->attrs[1].key, "port");
	CU_ASSERT_STRING_EQUAL(r->attrs[1].value, "5432");
	CU_ASSERT_STRING_EQUAL(f.cfg->fence_devices[0].values[1].s, "s3cret");
	vg_config_free(f.cfg);
	tmpfile_remove(&f);
}

/* One good replication instance at line 3: what the refusals below vary. */
#define REPL_R0 "replication = ( { name = \"r0\"; plugin = \"block\";\n" \
	"  params = { store = \"/srv/%n.store\"; nbd = \"unix:/run/r0\"; }; } );\n"

static void test_config_rejects_bad_replication_instances(void)
{
	expect_refusal(HEAD "replication = ( { name = \"r0\"; plugin = \"ocf\"; } );\n",
		       "%s:3: replication instance \"r0\": plugin \"ocf\" must be a replication plugin, "
		       "got a resource plugin");
	expect_refusal(HEAD "replication = ( { name = \"r0\"; plugin = \"blok\"; } );\n",
		       "%s:3: replication instance \"r0\": no plugin named \"blok\" (loaded: udp-mcast, "
		       "udp-ucast, ocf, dummy, ipmi, block, replication)");
	expect_refusal(HEAD "replication = ( { name = \"r0\"; plugin = \"block\";\n"
		       "  params = { store = \"/srv/r0\"; }; } );\n",
		       "%s:3: replication instance \"r0\" (block): missing required param \"nbd\"");
	expect_refusal(HEAD "replication = ( { name = \"r0\"; plugin = \"block\";\n"
		       "  params = { store = \"srv/r0\"; nbd = \"unix:/run/r0\"; }; } );\n",
		       "%s:4: replication instance \"r0\" (block): param store must be an absolute path, "
		       "got \"srv/r0\"");
	expect_refusal(HEAD "replication = ( { name = \"r0\"; plugin = \"block\";\n"
		       "  params = { store = \"/srv/r0\"; nbd = \"unix:/run/r0\";\n    peers = \"x\"; }; } );\n",
		       "%s:5: replication instance \"r0\" (block): unknown param \"peers\" "
		       "(declared: store, addresses, nbd)");
	expect_refusal(HEAD "replication = ( { plugin = \"block\"; } );\n",
		       "%s:3: missing required key \"name\" in replication[0] "
		       "(expected 1..64 characters of [A-Za-z0-9_.-])");
	expect_refusal(HEAD "replication = ( { name = \"r 0\"; plugin = \"block\"; } );\n",
		       "%s:3: replication[0].name must be 1..64 characters of [A-Za-z0-9_.-], got \"r 0\"");
}

static void test_config_rejects_duplicate_replication_name(void)
{
	expect_refusal(HEAD REPL_R0 "replication2 = 1;\n",
		       "%s:5: unknown key \"replication2\" at top level (expected one of: cluster, "
		       "logging, plugin_dir, state_dir, ctl, membership, quorum, scheduling, nodes, "
		       "links, resources, fence_devices, replication, groups, clones, constraints, "
		       "fencing)");
	expect_refusal(HEAD "replication = ( { name = \"r0\"; plugin = \"block\";\n"
		       "  params = { store = \"/srv/a\"; nbd = \"unix:/run/a\"; }; },\n"
		       "  { name = \"r0\"; plugin = \"block\";\n"
		       "  params = { store = \"/srv/b\"; nbd = \"unix:/run/b\"; }; } );\n",
		       "%s:5: replication instance \"r0\" is already defined at line 3; expected unique names");
}

static void test_config_rejects_bad_replication_nodes(void)
{
	static const char three[] =
		"cluster = { name = \"test\"; id = 7; key_file = \"/etc/vigil/authkey\"; };\n"
		"nodes = ( { id = 1; name = \"n1\"; }, { id = 2; name = \"n2\"; }, { id = 3; name = \"n3\"; } );\n"
		"replication = ( { name = \"r0\"; plugin = \"block\";\n"
		"  nodes = [ \"n1\", \"n2\", \"n3\" ];\n"
		"  params = { store = \"/srv/r0\"; nbd = \"unix:/run/r0\"; }; } );\n";

	expect_refusal(three, "%s:4: replication instance \"r0\": nodes must name 2 nodes "
		       "(one store replicated between two), got 3");
	expect_refusal(HEAD "replication = ( { name = \"r0\"; plugin = \"block\";\n"
		       "  nodes = [ \"n1\", \"n9\" ];\n"
		       "  params = { store = \"/srv/r0\"; nbd = \"unix:/run/r0\"; }; } );\n",
		       "%s:4: replication instance \"r0\": nodes must name nodes of the node list "
		       "(n1, n2), got \"n9\"");
	expect_refusal(HEAD "replication = ( { name = \"r0\"; plugin = \"block\";\n"
		       "  nodes = [ \"n2\", \"n2\" ];\n"
		       "  params = { store = \"/srv/r0\"; nbd = \"unix:/run/r0\"; }; } );\n",
		       "%s:4: replication instance \"r0\": nodes must name two different nodes, "
		       "got \"n2\" twice");
	expect_refusal(HEAD "replication = ( { name = \"r0\"; plugin = \"block\";\n"
		       "  nodes = \"n1 n2\";\n"
		       "  params = { store = \"/srv/r0\"; nbd = \"unix:/run/r0\"; }; } );\n",
		       "%s:4: replication[0].nodes must be an array of strings [ \"...\", ... ], "
		       "got \"n1 n2\"");
}

static void test_config_rejects_resource_of_unknown_replication_instance(void)
{
	expect_refusal(HEAD REPL_R0 "resources = ( { id = \"r\"; plugin = \"replication\";\n"
		       "  params = {\n    instance = \"r9\"; }; } );\n",
		       "%s:7: resource \"r\" (replication): param instance must name a replication "
		       "instance (configured: r0), got \"r9\"");
	expect_refusal(HEAD "resources = ( { id = \"r\"; plugin = \"replication\";\n"
		       "  params = { instance = \"r0\"; }; } );\n",
		       "%s:4: resource \"r\" (replication): param instance must name a replication "
		       "instance (configured: none), got \"r0\"");
	expect_refusal(HEAD REPL_R0 "resources = ( { id = \"r\"; plugin = \"replication\"; } );\n",
		       "%s:5: resource \"r\" (replication): missing required param \"instance\"");
}

static void test_config_replication_loads(void)
{
	struct fixture f;
	const struct vg_instance_conf *r;

	fixture_init(&f);
	CU_ASSERT_EQUAL_FATAL(load_text(&f, HEAD
		"replication = ( { name = \"r0\"; plugin = \"block\"; nodes = [ \"n2\", \"n1\" ];\n"
		"  params = { store = \"/srv/%n.store\"; nbd = \"unix:/run/r0\";\n"
		"             addresses = \"n1=198.18.0.1:7788 n2=198.18.0.2:7788\"; }; },\n"
		"  { name = \"r1\"; plugin = \"block\"; params = { store = \"/srv/r1\"; nbd = \"unix:/r1\"; }; } );\n"
		"resources = ( { id = \"r\"; plugin = \"replication\";\n"
		"  params = { instance = \"r0\"; initial_primary = \"n1\"; }; } );\n"
		"clones = ( { id = \"rc\"; resource = \"r\"; promotable = true; } );\n"), 0);
	CU_ASSERT_EQUAL_FATAL(f.cfg->n_replications, 2);
	r = &f.cfg->replications[0];
	CU_ASSERT_STRING_EQUAL(r->name, "r0");
	CU_ASSERT_PTR_EQUAL(r->info, &f.info[5]);
	CU_ASSERT_EQUAL(r->line, 3);
	CU_ASSERT_STRING_EQUAL(r->values[0].s, "/srv/%n.store"); /* %n is the plugin's to expand */
	CU_ASSERT_EQUAL_FATAL(r->n_nodes, 2);
	CU_ASSERT_TRUE(vg_config_repl_on_node(r, "n1"));
	CU_ASSERT_TRUE(vg_config_repl_on_node(r, "n2"));
	CU_ASSERT_FALSE(vg_config_repl_on_node(r, "n3"));
	/* without nodes: on every node */
	CU_ASSERT_TRUE(vg_config_repl_on_node(&f.cfg->replications[1], "n3"));
	CU_ASSERT_STRING_EQUAL(f.cfg->resources[0].values[0].s, "r0");
	CU_ASSERT_STRING_EQUAL(f.cfg->resources[0].values[1].s, "n1");
	vg_config_free(f.cfg);
	tmpfile_remove(&f);
}

static void test_config_examples_load(void)
{
	static const char *const files[] = { "three-node.conf", "two-node.conf" };
	struct fixture f;
	char path[512];

	for (size_t i = 0; i < 2; i++) {
		fixture_init(&f);
		snprintf(path, sizeof(path), "%s/%s", EXAMPLES_DIR, files[i]);
		CU_ASSERT_EQUAL(vg_config_load(path, &f.reg, &f.cfg, f.err, sizeof(f.err)), 0);
		if (!f.cfg)
			fprintf(stderr, "\n  %s\n", f.err);
		vg_config_free(f.cfg);
	}
}

static void expect_key_refusal(const char *text, size_t len, mode_t mode, int want_rc,
			       const char *want_fmt)
{
	unsigned char *key = NULL;
	struct fixture f;
	size_t n = 0;

	fixture_init(&f);
	CU_ASSERT_EQUAL_FATAL(tmpfile_write(&f, "authkey", text, len, mode), 0);
	subst_path(f.want, sizeof(f.want), want_fmt, f.path);
	CU_ASSERT_EQUAL(vg_keyfile_read(f.path, &key, &n, f.err, sizeof(f.err)), want_rc);
	CU_ASSERT_PTR_NULL(key);
	CU_ASSERT_STRING_EQUAL(f.err, f.want);
	tmpfile_remove(&f);
}

static void test_keyfile_refuses_group_readable(void)
{
	static const char k[64] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";

	expect_key_refusal(k, sizeof(k), 0644, -EPERM,
			   "%s: key file is readable by group or others (mode 0644); "
			   "expected mode 0600 or 0400");
	expect_key_refusal(k, sizeof(k), 0640, -EPERM,
			   "%s: key file is readable by group or others (mode 0640); "
			   "expected mode 0600 or 0400");
}

static void test_keyfile_refuses_short(void)
{
	expect_key_refusal("0123456789abcdef", 16, 0600, -EINVAL,
			   "%s: key file must be 32..4096 bytes, got 16 bytes");
}

static void test_keyfile_reads_0600(void)
{
	static const char k[64] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";
	unsigned char *key = NULL;
	struct fixture f;
	size_t n = 0;

	fixture_init(&f);
	CU_ASSERT_EQUAL_FATAL(tmpfile_write(&f, "authkey", k, sizeof(k), 0600), 0);
	CU_ASSERT_EQUAL(vg_keyfile_read(f.path, &key, &n, f.err, sizeof(f.err)), 0);
	CU_ASSERT_EQUAL(n, sizeof(k));
	CU_ASSERT(key && memcmp(key, k, sizeof(k)) == 0);
	free(key);
	tmpfile_remove(&f);
}

static void test_param_parse_duration_suffixes(void)
{
	const struct vg_param_decl d = { .name = "t", .type = VG_PARAM_DURATION_MS,
					 .min = 1, .max = 600000 };
	const struct vg_param_decl any = { .name = "n", .type = VG_PARAM_INT };
	const struct vg_param_decl b = { .name = "b", .type = VG_PARAM_BOOL };
	struct vg_value v;
	char err[256];

	CU_ASSERT(vg_param_parse(&d, "250", &v, err, sizeof(err)) == 0 && v.i == 250 && v.is_set);
	CU_ASSERT(vg_param_parse(&d, "250ms", &v, err, sizeof(err)) == 0 && v.i == 250);
	CU_ASSERT(vg_param_parse(&d, "2s", &v, err, sizeof(err)) == 0 && v.i == 2000);
	CU_ASSERT(vg_param_parse(&d, "2h", &v, err, sizeof(err)) == -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "must be a duration 1..600000 ms (optional suffix ms or s), got \"2h\"");
	CU_ASSERT(vg_param_parse(&d, "601s", &v, err, sizeof(err)) == -ERANGE);
	CU_ASSERT_STRING_EQUAL(err, "must be a duration 1..600000 ms, got 601s");
	CU_ASSERT(vg_param_parse(&d, " 5", &v, err, sizeof(err)) == -EINVAL);
	CU_ASSERT(vg_param_parse(&any, "-1", &v, err, sizeof(err)) == -ERANGE);
	CU_ASSERT_STRING_EQUAL(err, "must be an integer >= 0, got -1");
	CU_ASSERT(vg_param_parse(&any, "99999999999999999999", &v, err, sizeof(err)) == -ERANGE);
	CU_ASSERT(vg_param_parse(&b, "On", &v, err, sizeof(err)) == 0 && v.i == 1);
	CU_ASSERT(vg_param_parse(&b, "0", &v, err, sizeof(err)) == 0 && v.i == 0 && v.is_set);
	CU_ASSERT(vg_param_parse(&b, "maybe", &v, err, sizeof(err)) == -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "must be a boolean (true/false, yes/no, on/off, 1/0), got \"maybe\"");
}

static CU_TestInfo config_tests[] = {
	{ "test_config_rejects_unknown_key_with_line", test_config_rejects_unknown_key_with_line },
	{ "test_config_rejects_missing_required_key", test_config_rejects_missing_required_key },
	{ "test_config_rejects_wrong_type_and_bad_name", test_config_rejects_wrong_type_and_bad_name },
	{ "test_config_rejects_out_of_range_deadtime", test_config_rejects_out_of_range_deadtime },
	{ "test_config_rejects_deadtime_below_two_intervals",
	  test_config_rejects_deadtime_below_two_intervals },
	{ "test_config_rejects_duplicate_node_id", test_config_rejects_duplicate_node_id },
	{ "test_config_rejects_two_node_with_three_nodes",
	  test_config_rejects_two_node_with_three_nodes },
	{ "test_config_rejects_more_addresses_than_links",
	  test_config_rejects_more_addresses_than_links },
	{ "test_config_rejects_unknown_plugin", test_config_rejects_unknown_plugin },
	{ "test_config_rejects_wrong_kind", test_config_rejects_wrong_kind },
	{ "test_config_rejects_unknown_param", test_config_rejects_unknown_param },
	{ "test_config_rejects_missing_required_param", test_config_rejects_missing_required_param },
	{ "test_config_rejects_param_wrong_type", test_config_rejects_param_wrong_type },
	{ "test_config_rejects_bad_enum", test_config_rejects_bad_enum },
	{ "test_config_rejects_attributes_without_flag", test_config_rejects_attributes_without_flag },
	{ "test_config_syntax_error_has_line", test_config_syntax_error_has_line },
	{ "test_secret_not_echoed", test_secret_not_echoed },
	{ "test_config_rejects_bad_resource_references", test_config_rejects_bad_resource_references },
	{ "test_config_scores_accept_infinity_words", test_config_scores_accept_infinity_words },
	{ "test_config_rejects_fence_level_device_without_target",
	  test_config_rejects_fence_level_device_without_target },
	{ "test_config_defaults_applied", test_config_defaults_applied },
	{ "test_config_good_file_loads", test_config_good_file_loads },
	{ "test_config_rejects_bad_replication_instances",
	  test_config_rejects_bad_replication_instances },
	{ "test_config_rejects_duplicate_replication_name",
	  test_config_rejects_duplicate_replication_name },
	{ "test_config_rejects_bad_replication_nodes", test_config_rejects_bad_replication_nodes },
	{ "test_config_rejects_resource_of_unknown_replication_instance",
	  test_config_rejects_resource_of_unknown_replication_instance },
	{ "test_config_replication_loads", test_config_replication_loads },
	{ "test_config_examples_load", test_config_examples_load },
	{ "test_keyfile_refuses_group_readable", test_keyfile_refuses_group_readable },
	{ "test_keyfile_refuses_short", test_keyfile_refuses_short },
	{ "test_keyfile_reads_0600", test_keyfile_reads_0600 },
	{ "test_param_parse_duration_suffixes", test_param_parse_duration_suffixes },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "config", NULL, NULL, NULL, NULL, config_tests },
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (CU_register_suites(suites) != CUE_SUCCESS) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
