/*
 * plugins/common/progrun.c: a program run synchronously with a deadline,
 * on /bin/sh scripts: output and its cap, stderr kept apart or merged,
 * exit codes, signals, and the deadline against a program that neither
 * writes nor exits.
 */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "cu_main.h"
#include "progrun.h"

static char *envp[] = { "PATH=/usr/bin:/bin", NULL };

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run `sh -c script` into r (initialised with out_max): vgc_run_sync's result. */
static int run_sh(struct vgc_run *r, size_t out_max, const char *script, uint32_t timeout_ms,
		  unsigned int flags)
{
	char *argv[] = { "sh", "-c", (char *)script, NULL };

	CU_ASSERT_EQUAL_FATAL(vgc_run_init(r, out_max), 0);
	return vgc_run_sync(r, "/bin/sh", argv, envp, timeout_ms, flags);
}

static void test_progrun_keeps_stdout_and_last_stderr_line(void)
{
	struct vgc_run r = { 0 };
	char err[256] = "";

	CU_ASSERT_EQUAL(run_sh(&r, 64, "echo out; echo first >&2; echo ' last ' >&2; echo >&2",
			       5000, 0), 0);
	CU_ASSERT_STRING_EQUAL(r.out, "out\n");
	CU_ASSERT_STRING_EQUAL(r.last_err, " last");
	CU_ASSERT_EQUAL(vgc_run_check(&r, 0, "agent x", "meta-data", NULL, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	vgc_run_free(&r);
}

static void test_progrun_merges_stderr_when_asked(void)
{
	struct vgc_run r = { 0 };

	CU_ASSERT_EQUAL(run_sh(&r, 64, "echo out; echo err >&2", 5000, VGC_RUN_MERGE_STDERR), 0);
	CU_ASSERT_STRING_EQUAL(r.out, "out\nerr\n");
	CU_ASSERT_STRING_EQUAL(r.last_err, "");
	vgc_run_free(&r);
}

static void test_progrun_drops_output_beyond_the_cap(void)
{
	struct vgc_run r = { 0 };

	CU_ASSERT_EQUAL(run_sh(&r, 5, "echo 0123456789; echo more", 5000, 0), 0);
	CU_ASSERT_EQUAL(r.len, 5);
	CU_ASSERT_STRING_EQUAL(r.out, "01234");
	CU_ASSERT(WIFEXITED(r.wstatus) && WEXITSTATUS(r.wstatus) == 0);
	vgc_run_free(&r);
}

static void test_progrun_check_names_exit_code_and_signal(void)
{
	struct vgc_run r = { 0 };
	char err[256];

	CU_ASSERT_EQUAL(run_sh(&r, 64, "echo 'no shellfuncs' >&2; exit 5", 5000, 0), 0);
	CU_ASSERT_EQUAL(vgc_run_check(&r, 0, "agent x", "meta-data", NULL, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "agent x: meta-data failed with exit code 5: no shellfuncs");
	CU_ASSERT_EQUAL(vgc_run_check(&r, 0, "agent x", "metadata", "", err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "agent x: metadata failed with exit code 5");
	vgc_run_free(&r);

	CU_ASSERT_EQUAL(run_sh(&r, 64, "kill -TERM $$", 5000, 0), 0);
	CU_ASSERT_EQUAL(vgc_run_check(&r, 0, "agent x", "meta-data", NULL, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "agent x: meta-data killed by signal 15");
	CU_ASSERT_EQUAL(vgc_run_check(&r, -EMFILE, "agent x", "meta-data", NULL, err,
				      sizeof(err)), -EMFILE);
	CU_ASSERT_STRING_EQUAL(err, "agent x: cannot run meta-data: Too many open files");
	vgc_run_free(&r);
}

/* A program that writes nothing and does not exit, with a child holding the
 * pipe too: the deadline ends the run, not the program. */
static void test_progrun_deadline_ends_a_silent_program(void)
{
	struct vgc_run r = { 0 };
	uint64_t t0 = mono_ms(), took;
	char err[256];

	CU_ASSERT_EQUAL(run_sh(&r, 64, "sleep 30 & sleep 30", 1000, 0), 0);
	took = mono_ms() - t0;
	CU_ASSERT(r.timed_out);
	CU_ASSERT(took >= 1000 && took < 5000);
	CU_ASSERT(WIFSIGNALED(r.wstatus) && WTERMSIG(r.wstatus) == SIGKILL);
	CU_ASSERT_EQUAL(vgc_run_check(&r, 0, "agent x", "meta-data", NULL, err, sizeof(err)),
			-ETIMEDOUT);
	CU_ASSERT_STRING_EQUAL(err, "agent x: meta-data did not finish within 1 s");
	vgc_run_free(&r);
}

static CU_TestInfo tests[] = {
	{ "progrun_keeps_stdout_and_last_stderr_line",
	  test_progrun_keeps_stdout_and_last_stderr_line },
	{ "progrun_merges_stderr_when_asked", test_progrun_merges_stderr_when_asked },
	{ "progrun_drops_output_beyond_the_cap", test_progrun_drops_output_beyond_the_cap },
	{ "progrun_check_names_exit_code_and_signal",
	  test_progrun_check_names_exit_code_and_signal },
	{ "progrun_deadline_ends_a_silent_program", test_progrun_deadline_ends_a_silent_program },
	CU_TEST_INFO_NULL,
};

CU_MAIN("progrun", tests)
