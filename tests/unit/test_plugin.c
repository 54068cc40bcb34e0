/*
 * Loader tests: the plugins under tests/plugins/ (built by make check into
 * plugins/.libs) are loaded with vg_registry_load_file(); good ones must
 * load, each broken one must be refused with its exact one-line message
 * and return code.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "log.h"
#include "plugin.h"

#define PLUGINS_DIR TESTS_BUILDDIR "/plugins/.libs"
#define SO(name) PLUGINS_DIR "/" name ".so"

/* ABI range this core loads, as the loader writes it: "1.0 to 1.N". */
#define STR2(x) #x
#define STR(x) STR2(x)
#define CORE_ABI_RANGE STR(VG_ABI_MAJOR) ".0 to " STR(VG_ABI_MAJOR) "." STR(VG_ABI_MINOR)

/* A registry with a quiet logger; both live in the test's stack frame. */
struct fixture {
	struct vg_logger log;
	struct vg_registry reg;
};

static void fixture_init(struct fixture *f)
{
	vg_logger_init(&f->log);
	f->log.to_stderr = 0;
	f->log.to_syslog = 0;
	vg_registry_init(&f->reg, &f->log);
}

/*
 * Load `path` into a fresh registry (after `first`, if not NULL) and check
 * the refusal: return code and the whole message line.
 */
static void expect_refused(const char *first, const char *path, int want_rc, const char *want_msg)
{
	struct fixture f;
	char err[1024] = "";
	size_t before;
	int rc;

	fixture_init(&f);
	if (first)
		CU_ASSERT_EQUAL_FATAL(vg_registry_load_file(&f.reg, first, err, sizeof(err)), 0);
	before = f.reg.n_plugins;
	rc = vg_registry_load_file(&f.reg, path, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, want_rc);
	CU_ASSERT_STRING_EQUAL(err, want_msg);
	CU_ASSERT_EQUAL(f.reg.n_plugins, before);
	if (rc != want_rc || strcmp(err, want_msg) != 0)
		fprintf(stderr, "\n  expected %d \"%s\"\n  got      %d \"%s\"\n",
			want_rc, want_msg, rc, err);
	vg_registry_free(&f.reg);
}

static void test_loader_accepts_good_resource_with_every_param_type(void)
{
	const struct vg_plugin_info *p;
	struct fixture f;
	char err[1024] = "";

	fixture_init(&f);
	CU_ASSERT_EQUAL_FATAL(vg_registry_load_file(&f.reg, SO("good"), err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	p = vg_registry_find(&f.reg, "test-good");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_STRING_EQUAL(p->file, SO("good"));
	CU_ASSERT_EQUAL(p->kind, VG_KIND_RESOURCE);
	CU_ASSERT_EQUAL(p->abi_major, VG_ABI_MAJOR);
	CU_ASSERT_EQUAL(p->abi_minor, VG_ABI_MINOR);
	CU_ASSERT_STRING_EQUAL(p->version, "1.0");
	CU_ASSERT_STRING_EQUAL(p->description, "test: a resource declaring one parameter of each type");
	CU_ASSERT_EQUAL_FATAL(p->n_params, 7);
	CU_ASSERT_STRING_EQUAL(p->params[3].name, "label");
	CU_ASSERT(p->params[3].flags & VG_PARAM_REQUIRED);
	CU_ASSERT_EQUAL(p->params[4].type, VG_PARAM_ENUM);
	CU_ASSERT_PTR_NOT_NULL(p->open);
	CU_ASSERT_PTR_NOT_NULL(p->close);
	CU_ASSERT_PTR_NOT_NULL(p->ops.resource.exec);
	CU_ASSERT_PTR_NULL(vg_registry_find(&f.reg, "test-other"));
	vg_registry_free(&f.reg);
}

static void test_loader_accepts_transport(void)
{
	const struct vg_plugin_info *p;
	struct fixture f;
	char err[1024] = "";

	fixture_init(&f);
	CU_ASSERT_EQUAL_FATAL(vg_registry_load_file(&f.reg, SO("good2"), err, sizeof(err)), 0);
	p = vg_registry_find(&f.reg, "test-transport");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->kind, VG_KIND_TRANSPORT);
	CU_ASSERT_EQUAL(p->n_params, 0);
	vg_registry_free(&f.reg);
}

static void test_loader_accepts_plugin_built_from_frozen_1_0_headers(void)
{
	const struct vg_plugin_info *p;
	struct fixture f;
	char err[1024] = "";

	fixture_init(&f);
	CU_ASSERT_EQUAL_FATAL(vg_registry_load_file(&f.reg, SO("frozen10"), err, sizeof(err)), 0);
	p = vg_registry_find(&f.reg, "test-frozen10");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->abi_major, 1);
	CU_ASSERT_EQUAL(p->abi_minor, 0);
	CU_ASSERT_EQUAL(p->kind, VG_KIND_RESOURCE);
	CU_ASSERT_EQUAL_FATAL(p->n_params, 3);
	CU_ASSERT_STRING_EQUAL(p->params[0].name, "state_file");
	CU_ASSERT_STRING_EQUAL(p->params[2].choices[1], "high");
	CU_ASSERT_PTR_NOT_NULL(p->ops.resource.exec);
	CU_ASSERT_PTR_NOT_NULL(p->ops.resource.cancel);
	/* validate came in 1.1: never read from a 1.0 plugin (a canary sits there). */
	CU_ASSERT_PTR_NULL(p->ops.resource.validate);
	vg_registry_free(&f.reg);
}

/* Two registries are two loads of one plugin: the second outlives the first. */
static void test_loader_loads_one_plugin_into_two_registries(void)
{
	const struct vg_plugin_info *p1, *p2;
	struct fixture f1, f2;
	struct vg_instance inst = { .name = "x" };
	void *state = (void *)1;
	char err[1024] = "";

	fixture_init(&f1);
	fixture_init(&f2);
	CU_ASSERT_EQUAL_FATAL(vg_registry_load_file(&f1.reg, SO("good"), err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(vg_registry_load_file(&f2.reg, SO("good"), err, sizeof(err)), 0);
	p1 = vg_registry_find(&f1.reg, "test-good");
	p2 = vg_registry_find(&f2.reg, "test-good");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p2);
	CU_ASSERT_PTR_NOT_EQUAL(p1, p2);
	vg_registry_free(&f1.reg);
	/* Still mapped: calling into it must work after the other registry let go. */
	CU_ASSERT_EQUAL(p2->open(NULL, &inst, &state), 0);
	p2->close(state);
	vg_registry_free(&f2.reg);
}

static void test_loader_refuses_file_that_cannot_be_opened(void)
{
	char dir[] = "/tmp/vg-test-plugin-XXXXXX";
	char path[256], err[1024] = "", prefix[300];
	struct fixture f;
	FILE *fp;
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/garbage.so", dir);
	fp = fopen(path, "w");
	if (fp) {
		fputs("this is not an ELF object\n", fp);
		fclose(fp);
	}
	fixture_init(&f);
	rc = vg_registry_load_file(&f.reg, path, err, sizeof(err));
	vg_registry_free(&f.reg);
	unlink(path);
	rmdir(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	CU_ASSERT_EQUAL(rc, -ENOEXEC);
	/* The rest is lt_dlerror()'s text, which libltdl words as it likes. */
	snprintf(prefix, sizeof(prefix), "%s: cannot load: ", path);
	CU_ASSERT_NSTRING_EQUAL(err, prefix, strlen(prefix));
	CU_ASSERT(strlen(err) > strlen(prefix));
	CU_ASSERT_PTR_NULL(strchr(err, '\n'));
}

static void test_loader_refuses_object_without_descriptor(void)
{
	expect_refused(NULL, SO("nosymbol"), -ENOEXEC,
		       SO("nosymbol") ": not a vigil plugin: no symbol vigil_plugin");
}

static void test_loader_refuses_other_abi_major(void)
{
	expect_refused(NULL, SO("abi_major"), -EPROTO,
		       SO("abi_major") ": plugin \"test-abi-major\" was built for ABI 2.0; "
		       "this vigild loads ABI " CORE_ABI_RANGE " (major must be " STR(VG_ABI_MAJOR) ")");
}

static void test_loader_refuses_plugin_needing_newer_minor(void)
{
	char want[1024];

	snprintf(want, sizeof(want),
		 "%s: plugin \"test-abi-minor\" was built for ABI %d.%d; "
		 "this vigild loads ABI %s (minor must be at most %d)",
		 SO("abi_minor_newer"), VG_ABI_MAJOR, VG_ABI_MINOR + 1, CORE_ABI_RANGE, VG_ABI_MINOR);
	expect_refused(NULL, SO("abi_minor_newer"), -EPROTO, want);
}

static void test_loader_refuses_unknown_kind(void)
{
	expect_refused(NULL, SO("badkind"), -EINVAL,
		       SO("badkind") ": plugin \"test-badkind\" has unknown kind 99 "
		       "(expected 1=transport, 2=resource, 3=fence, 4=replication)");
}

static void test_loader_refuses_invalid_name(void)
{
	expect_refused(NULL, SO("badname"), -EINVAL,
		       SO("badname") ": plugin name \"Bad Name!\" is invalid "
		       "(expected 1-32 of [a-z0-9-])");
}

static void test_loader_refuses_missing_open(void)
{
	expect_refused(NULL, SO("noopen"), -EINVAL,
		       SO("noopen") ": plugin \"test-noopen\" lacks required member open");
}

static void test_loader_refuses_missing_close(void)
{
	expect_refused(NULL, SO("noclose"), -EINVAL,
		       SO("noclose") ": plugin \"test-noclose\" lacks required member close");
}

static void test_loader_refuses_missing_ops(void)
{
	expect_refused(NULL, SO("noops"), -EINVAL,
		       SO("noops") ": plugin \"test-noops\" lacks required member ops");
}

static void test_loader_refuses_resource_without_exec(void)
{
	expect_refused(NULL, SO("noexec"), -EINVAL,
		       SO("noexec") ": plugin \"test-noexec\" lacks required member ops.exec");
}

static void test_loader_refuses_transport_without_send(void)
{
	expect_refused(NULL, SO("nosend"), -EINVAL,
		       SO("nosend") ": plugin \"test-nosend\" lacks required member ops.send");
}

static void test_loader_refuses_param_of_unknown_type(void)
{
	expect_refused(NULL, SO("badparam"), -EINVAL,
		       SO("badparam") ": plugin \"test-badparam\": param \"p\" has unknown type 42");
}

/* The reason after "is invalid: " is vg_param_parse's wording: only its presence is checked. */
static void test_loader_refuses_invalid_default(void)
{
	static const char prefix[] = SO("baddefault")
		": plugin \"test-baddefault\": default \"abc\" of param \"count\" is invalid: ";
	struct fixture f;
	char err[1024] = "";
	int rc;

	fixture_init(&f);
	rc = vg_registry_load_file(&f.reg, SO("baddefault"), err, sizeof(err));
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_NSTRING_EQUAL(err, prefix, strlen(prefix));
	CU_ASSERT(strlen(err) > strlen(prefix));
	CU_ASSERT_PTR_NULL(strchr(err, '\n'));
	CU_ASSERT_EQUAL(f.reg.n_plugins, 0);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fprintf(stderr, "\n  expected \"%s...\"\n  got      \"%s\"\n", prefix, err);
	vg_registry_free(&f.reg);
}

static void test_loader_refuses_duplicate_name(void)
{
	expect_refused(SO("good"), SO("dup"), -EEXIST,
		       SO("dup") ": duplicate plugin name \"test-good\" (already loaded from "
		       SO("good") ")");
}

/* Same name, same file: the second load is a duplicate too, not a silent no-op. */
static void test_loader_refuses_same_file_twice_in_one_registry(void)
{
	expect_refused(SO("good"), SO("good"), -EEXIST,
		       SO("good") ": duplicate plugin name \"test-good\" (already loaded from "
		       SO("good") ")");
}

static int link_plugin(const char *dir, const char *name)
{
	char target[512], link[512];

	snprintf(target, sizeof(target), "%s/%s.so", PLUGINS_DIR, name);
	snprintf(link, sizeof(link), "%s/%s.so", dir, name);
	return symlink(target, link);
}

static const char *const path_plugins[] = { "good", "good2", "frozen10", "nosymbol", "badkind", NULL };

static void remove_path_dir(const char *dir)
{
	char path[512];
	size_t i;

	for (i = 0; path_plugins[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s.so", dir, path_plugins[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/README.txt", dir);
	unlink(path);
	rmdir(dir);
}

/* A directory of 3 good and 2 broken plugins, a non-.so file, and a missing directory. */
static void test_loader_path_loads_good_ones_and_counts_refusals(void)
{
	char dir[] = "/tmp/vg-test-plugin-XXXXXX";
	char dirs[256], readme[300];
	struct fixture f;
	size_t i, refused = 0;
	int ok = 1, n;
	FILE *fp;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	for (i = 0; path_plugins[i]; i++)
		ok &= link_plugin(dir, path_plugins[i]) == 0;
	snprintf(readme, sizeof(readme), "%s/README.txt", dir);
	fp = fopen(readme, "w");
	if (fp)
		fclose(fp);
	snprintf(dirs, sizeof(dirs), "%s/no-such-dir:%s", dir, dir);

	fixture_init(&f);
	n = vg_registry_load_path(&f.reg, dirs, &refused);
	CU_ASSERT(ok);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(refused, 2);
	CU_ASSERT_EQUAL(f.reg.n_plugins, 3);
	CU_ASSERT_PTR_NOT_NULL(vg_registry_find(&f.reg, "test-good"));
	CU_ASSERT_PTR_NOT_NULL(vg_registry_find(&f.reg, "test-transport"));
	CU_ASSERT_PTR_NOT_NULL(vg_registry_find(&f.reg, "test-frozen10"));
	CU_ASSERT_PTR_NULL(vg_registry_find(&f.reg, "test-badkind"));
	vg_registry_free(&f.reg);
	remove_path_dir(dir);
}

static void test_loader_path_accepts_null_refusal_counter(void)
{
	struct fixture f;

	fixture_init(&f);
	CU_ASSERT_EQUAL(vg_registry_load_path(&f.reg, "/nonexistent/vigil-plugins", NULL), 0);
	CU_ASSERT_EQUAL(f.reg.n_plugins, 0);
	vg_registry_free(&f.reg);
}

static void test_kind_and_param_type_names(void)
{
	CU_ASSERT_STRING_EQUAL(vg_kind_name(VG_KIND_TRANSPORT), "transport");
	CU_ASSERT_STRING_EQUAL(vg_kind_name(VG_KIND_RESOURCE), "resource");
	CU_ASSERT_STRING_EQUAL(vg_kind_name(VG_KIND_FENCE), "fence");
	CU_ASSERT_STRING_EQUAL(vg_kind_name(VG_KIND_REPLICATION), "replication");
	CU_ASSERT_EQUAL(VG_KIND_REPLICATION, 4);
	CU_ASSERT_EQUAL(VG_REPL_ROLE_PRIMARY, 2);
	CU_ASSERT_EQUAL(VG_REPL_DISK_UPTODATE, 4);
	CU_ASSERT_EQUAL(VG_REPL_CONN_SYNC_TARGET, 5);
	CU_ASSERT_PTR_NULL(vg_kind_name(VG_KIND_INVALID));
	CU_ASSERT_PTR_NULL(vg_kind_name(99));
	CU_ASSERT_STRING_EQUAL(vg_param_type_name(VG_PARAM_DURATION_MS), "duration_ms");
	CU_ASSERT_PTR_NULL(vg_param_type_name(42));
}

#define T(fn) { #fn, fn }
static CU_TestInfo loader_tests[] = {
	T(test_loader_accepts_good_resource_with_every_param_type),
	T(test_loader_accepts_transport),
	T(test_loader_accepts_plugin_built_from_frozen_1_0_headers),
	T(test_loader_loads_one_plugin_into_two_registries),
	T(test_loader_refuses_file_that_cannot_be_opened),
	T(test_loader_refuses_object_without_descriptor),
	T(test_loader_refuses_other_abi_major),
	T(test_loader_refuses_plugin_needing_newer_minor),
	T(test_loader_refuses_unknown_kind),
	T(test_loader_refuses_invalid_name),
	T(test_loader_refuses_missing_open),
	T(test_loader_refuses_missing_close),
	T(test_loader_refuses_missing_ops),
	T(test_loader_refuses_resource_without_exec),
	T(test_loader_refuses_transport_without_send),
	T(test_loader_refuses_param_of_unknown_type),
	T(test_loader_refuses_invalid_default),
	T(test_loader_refuses_duplicate_name),
	T(test_loader_refuses_same_file_twice_in_one_registry),
	T(test_loader_path_loads_good_ones_and_counts_refusals),
	T(test_loader_path_accepts_null_refusal_counter),
	T(test_kind_and_param_type_names),
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "loader", NULL, NULL, NULL, NULL, loader_tests },
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
