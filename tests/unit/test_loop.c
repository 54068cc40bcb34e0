/* The event loop: timers in order and on time, fd watches, children with timeouts. */
#include "cu_main.h"
#include "log.h"
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

struct rec {
	struct vg_loop *loop;
	int order[16];
	int n;
	uint64_t at_ms[16];
	struct vg_timer *self;
	struct vg_child_result res;
	char output[256];
	int done;
};

static struct vg_logger quiet(void)
{
	struct vg_logger lg;

	vg_logger_init(&lg);
	lg.level = VG_LOG_ERR;
	return lg;
}

/* Run the loop until `cond` holds or `limit_ms` passes; returns elapsed ms. */
static uint64_t run_until(struct vg_loop *loop, const int *cond, uint64_t limit_ms)
{
	uint64_t start = vg_loop_update_time(loop);

	while (!*cond && vg_loop_now_ms(loop) - start < limit_ms)
		vg_loop_run_once(loop, 10);
	return vg_loop_now_ms(loop) - start;
}

static void mark_cb(void *arg)
{
	struct rec **pp = arg;
	struct rec *r = pp[0];
	int id = (int)(intptr_t)pp[1];

	r->at_ms[r->n] = vg_loop_now_ms(r->loop);
	r->order[r->n++] = id;
	if (r->n == 3)
		r->done = 1;
}

static void test_timers_fire_in_due_order(void)
{
	struct vg_logger lg = quiet();
	struct vg_loop *loop;
	struct rec r = { 0 };
	struct vg_timer *t[3];
	void *args[3][2] = { { &r, (void *)1 }, { &r, (void *)2 }, { &r, (void *)3 } };
	uint64_t start;

	CU_ASSERT_FATAL(vg_loop_new(&lg, &loop) == 0);
	r.loop = loop;
	start = vg_loop_now_ms(loop);
	CU_ASSERT(vg_loop_timer_start(loop, 60, 0, mark_cb, args[0], NULL, &t[0]) == 0);
	CU_ASSERT(vg_loop_timer_start(loop, 20, 0, mark_cb, args[1], NULL, &t[1]) == 0);
	CU_ASSERT(vg_loop_timer_start(loop, 40, 0, mark_cb, args[2], NULL, &t[2]) == 0);
	run_until(loop, &r.done, 2000);
	CU_ASSERT_EQUAL(r.n, 3);
	CU_ASSERT_EQUAL(r.order[0], 2);
	CU_ASSERT_EQUAL(r.order[1], 3);
	CU_ASSERT_EQUAL(r.order[2], 1);
	/* Never early; late by at most a scheduling hiccup on a busy machine. */
	CU_ASSERT(r.at_ms[0] - start >= 20 && r.at_ms[0] - start < 20 + 50);
	CU_ASSERT(r.at_ms[2] - start >= 60 && r.at_ms[2] - start < 60 + 50);
	CU_ASSERT_EQUAL(vg_loop_timer_count(loop), 0);
	vg_loop_free(loop);
}

static void count_cb(void *arg)
{
	struct rec *r = arg;

	r->at_ms[r->n % 16] = vg_loop_now_ms(r->loop);
	if (++r->n == 5) {
		vg_loop_timer_stop(r->loop, r->self); /* stopping itself from its callback */
		r->done = 1;
	}
}

static void test_repeating_timer_stops_itself(void)
{
	struct vg_logger lg = quiet();
	struct vg_loop *loop;
	struct rec r = { 0 };
	uint64_t elapsed;

	CU_ASSERT_FATAL(vg_loop_new(&lg, &loop) == 0);
	r.loop = loop;
	CU_ASSERT(vg_loop_timer_start(loop, 10, 10, count_cb, &r, NULL, &r.self) == 0);
	elapsed = run_until(loop, &r.done, 2000);
	CU_ASSERT_EQUAL(r.n, 5);
	CU_ASSERT(elapsed >= 50);
	CU_ASSERT_EQUAL(vg_loop_timer_count(loop), 0);
	/* No sixth run after the stop. */
	vg_loop_run_once(loop, 30);
	CU_ASSERT_EQUAL(r.n, 5);
	vg_loop_free(loop);
}

static void never_cb(void *arg)
{
	int *fired = arg;

	*fired = 1;
}

static void test_stopped_timer_never_fires(void)
{
	struct vg_logger lg = quiet();
	struct vg_loop *loop;
	struct vg_timer *t, *others[50];
	int fired = 0, dummy = 0;

	CU_ASSERT_FATAL(vg_loop_new(&lg, &loop) == 0);
	/* Many timers so the stopped one sits inside the heap, not at its end. */
	for (int i = 0; i < 50; i++)
		CU_ASSERT(vg_loop_timer_start(loop, 5 + (i * 7) % 30, 0, never_cb, &dummy, NULL,
					      &others[i]) == 0);
	CU_ASSERT(vg_loop_timer_start(loop, 10, 0, never_cb, &fired, NULL, &t) == 0);
	vg_loop_timer_stop(loop, t);
	CU_ASSERT_EQUAL(vg_loop_timer_count(loop), 50);
	for (int i = 0; i < 200 && vg_loop_timer_count(loop) > 0; i++)
		vg_loop_run_once(loop, 5);
	CU_ASSERT_EQUAL(fired, 0);
	CU_ASSERT_EQUAL(dummy, 1);
	CU_ASSERT_EQUAL(vg_loop_timer_count(loop), 0);
	vg_loop_free(loop);
}

static void read_cb(void *arg, int fd, uint32_t events)
{
	struct rec *r = arg;
	ssize_t n = read(fd, r->output, sizeof(r->output) - 1);

	if (n > 0)
		r->output[n] = '\0';
	r->done = (events & VG_FD_READ) != 0;
}

static void test_fd_watch_reports_readable(void)
{
	struct vg_logger lg = quiet();
	struct vg_loop *loop;
	struct vg_watch *w;
	struct rec r = { 0 };
	int p[2];

	CU_ASSERT_FATAL(pipe(p) == 0);
	CU_ASSERT_FATAL(vg_loop_new(&lg, &loop) == 0);
	CU_ASSERT(vg_loop_fd_watch(loop, p[0], VG_FD_READ, read_cb, &r, NULL, &w) == 0);
	vg_loop_run_once(loop, 20);
	CU_ASSERT_EQUAL(r.done, 0);
	CU_ASSERT(write(p[1], "ping", 4) == 4);
	run_until(loop, &r.done, 1000);
	CU_ASSERT_STRING_EQUAL(r.output, "ping");
	vg_loop_fd_unwatch(loop, w);
	vg_loop_free(loop);
	close(p[0]);
	close(p[1]);
}

static void child_cb(void *arg, const struct vg_child_result *res)
{
	struct rec *r = arg;

	r->res = *res;
	snprintf(r->output, sizeof(r->output), "%s", res->output);
	r->res.output = r->output;
	r->done = 1;
}

static void run_child(struct vg_loop *loop, struct rec *r, char *const argv[], uint32_t timeout_ms,
		      uint32_t grace_ms, const char *in)
{
	struct vg_spawn req = { .path = argv[0], .argv = argv, .timeout_ms = timeout_ms,
				.kill_grace_ms = grace_ms, .stdin_data = in,
				.stdin_len = in ? strlen(in) : 0 };

	memset(r, 0, sizeof(*r));
	CU_ASSERT_FATAL(vg_loop_spawn(loop, &req, child_cb, r, NULL, NULL) == 0);
	run_until(loop, &r->done, 10000);
	CU_ASSERT_EQUAL(r->done, 1);
}

static void test_child_exit_code_and_output(void)
{
	struct vg_logger lg = quiet();
	struct vg_loop *loop;
	struct rec r;
	char *argv[] = { "/bin/sh", "-c", "read x; echo got $x; echo err >&2; exit 7", NULL };

	CU_ASSERT_FATAL(vg_loop_new(&lg, &loop) == 0);
	run_child(loop, &r, argv, 5000, 0, "hello\n");
	CU_ASSERT_EQUAL(r.res.exited, 1);
	CU_ASSERT_EQUAL(r.res.exit_code, 7);
	CU_ASSERT_EQUAL(r.res.timed_out, 0);
	CU_ASSERT_STRING_EQUAL(r.output, "got hello\nerr\n");
	CU_ASSERT_EQUAL(vg_loop_child_count(loop), 0);
	vg_loop_free(loop);
}

static void test_child_timeout_sends_term(void)
{
	struct vg_logger lg = quiet();
	struct vg_loop *loop;
	struct rec r;
	char *argv[] = { "/bin/sleep", "30", NULL };

	CU_ASSERT_FATAL(vg_loop_new(&lg, &loop) == 0);
	run_child(loop, &r, argv, 100, 2000, NULL);
	CU_ASSERT_EQUAL(r.res.timed_out, 1);
	CU_ASSERT_EQUAL(r.res.exited, 0);
	CU_ASSERT_EQUAL(r.res.signal, SIGTERM);
	CU_ASSERT(r.res.duration_ms >= 100 && r.res.duration_ms < 1500);
	vg_loop_free(loop);
}

static void test_child_ignoring_term_gets_kill(void)
{
	struct vg_logger lg = quiet();
	struct vg_loop *loop;
	struct rec r;
	/* The trap makes the shell ignore TERM; its sleep child is in the same group. */
	char *argv[] = { "/bin/sh", "-c", "trap '' TERM; sleep 30 & wait; sleep 30", NULL };

	CU_ASSERT_FATAL(vg_loop_new(&lg, &loop) == 0);
	run_child(loop, &r, argv, 100, 200, NULL);
	CU_ASSERT_EQUAL(r.res.timed_out, 1);
	CU_ASSERT_EQUAL(r.res.signal, SIGKILL);
	CU_ASSERT(r.res.duration_ms >= 300 && r.res.duration_ms < 2000);
	vg_loop_free(loop);
}

static void test_child_missing_program_exits_127(void)
{
	struct vg_logger lg = quiet();
	struct vg_loop *loop;
	struct rec r;
	char *argv[] = { "/nonexistent/vigil-test-program", NULL };

	CU_ASSERT_FATAL(vg_loop_new(&lg, &loop) == 0);
	run_child(loop, &r, argv, 1000, 0, NULL);
	CU_ASSERT_EQUAL(r.res.exited, 1);
	CU_ASSERT_EQUAL(r.res.exit_code, 127);
	vg_loop_free(loop);
}

static void test_timer_runs_while_child_is_slow(void)
{
	struct vg_logger lg = quiet();
	struct vg_loop *loop;
	struct rec r = { 0 }, t = { 0 };
	char *argv[] = { "/bin/sleep", "0.5", NULL };
	struct vg_spawn req = { .path = argv[0], .argv = argv, .timeout_ms = 5000 };

	CU_ASSERT_FATAL(vg_loop_new(&lg, &loop) == 0);
	t.loop = loop;
	CU_ASSERT_FATAL(vg_loop_spawn(loop, &req, child_cb, &r, NULL, NULL) == 0);
	CU_ASSERT(vg_loop_timer_start(loop, 10, 10, count_cb, &t, NULL, &t.self) == 0);
	run_until(loop, &t.done, 2000);
	/* Five 10 ms ticks came while the child still ran: nothing blocked. */
	CU_ASSERT_EQUAL(t.n, 5);
	CU_ASSERT_EQUAL(r.done, 0);
	run_until(loop, &r.done, 5000);
	CU_ASSERT_EQUAL(r.res.exit_code, 0);
	vg_loop_free(loop);
}

static void test_release_owner_drops_everything(void)
{
	struct vg_logger lg = quiet();
	struct vg_loop *loop;
	struct vg_timer *t1, *t2;
	struct rec r = { 0 };
	int fired = 0, owner;
	char *argv[] = { "/bin/sleep", "30", NULL };
	struct vg_spawn req = { .path = argv[0], .argv = argv };

	CU_ASSERT_FATAL(vg_loop_new(&lg, &loop) == 0);
	CU_ASSERT(vg_loop_timer_start(loop, 10, 0, never_cb, &fired, &owner, &t1) == 0);
	CU_ASSERT(vg_loop_timer_start(loop, 10, 10, never_cb, &fired, &owner, &t2) == 0);
	CU_ASSERT(vg_loop_spawn(loop, &req, child_cb, &r, &owner, NULL) == 0);
	vg_loop_release_owner(loop, &owner);
	CU_ASSERT_EQUAL(vg_loop_timer_count(loop), 0);
	for (int i = 0; i < 50 && vg_loop_child_count(loop) > 0; i++)
		vg_loop_run_once(loop, 20);
	CU_ASSERT_EQUAL(vg_loop_child_count(loop), 0); /* killed and reaped */
	CU_ASSERT_EQUAL(fired, 0);
	CU_ASSERT_EQUAL(r.done, 0);                    /* no callback after release */
	vg_loop_free(loop);
}

static CU_TestInfo tests[] = {
	{ "test_timers_fire_in_due_order", test_timers_fire_in_due_order },
	{ "test_repeating_timer_stops_itself", test_repeating_timer_stops_itself },
	{ "test_stopped_timer_never_fires", test_stopped_timer_never_fires },
	{ "test_fd_watch_reports_readable", test_fd_watch_reports_readable },
	{ "test_child_exit_code_and_output", test_child_exit_code_and_output },
	{ "test_child_timeout_sends_term", test_child_timeout_sends_term },
	{ "test_child_ignoring_term_gets_kill", test_child_ignoring_term_gets_kill },
	{ "test_child_missing_program_exits_127", test_child_missing_program_exits_127 },
	{ "test_timer_runs_while_child_is_slow", test_timer_runs_while_child_is_slow },
	{ "test_release_owner_drops_everything", test_release_owner_drops_everything },
	CU_TEST_INFO_NULL,
};

CU_MAIN("loop", tests)
