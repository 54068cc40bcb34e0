/*
 * The policy engine (core/policy): models built by hand, one scenario per
 * test.  Every computation goes through fx_run(), which also checks that
 * every action's dependencies have lower indexes.
 */
#include "cu_main.h"
#include "pe_fixture.h"

#define AT(f, p) ((f)->t.placement[p].node)

static void test_score_add_saturates(void)
{
	static const struct { vg_score a, b, sum; } cases[] = {
		{ 1, 2, 3 },
		{ INF, 5, INF },
		{ -INF, 5, -INF },
		{ INF, -INF, -INF },
		{ 900000, 900000, INF },
		{ -900000, -900000, -INF },
		{ INF - 1, 1, INF },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT_EQUAL(vg_score_add(cases[i].a, cases[i].b), cases[i].sum);
}

static void test_location_score_places_on_highest_node(void)
{
	struct fx f;

	fx_init(&f, 3, 1);
	fx_loc(&f, P, A, N1, 10);
	fx_loc(&f, P, A, N3, 50);
	fx_loc(&f, P, A, N2, -20);
	fx_run(&f);
	CU_ASSERT_EQUAL(AT(&f, A), N3);
	CU_ASSERT_EQUAL(f.t.n_actions, 1);
	CU_ASSERT(fx_find(&f, A, N3, START) >= 0);
	fx_done(&f);
}

static void test_negative_score_everywhere_stays_stopped_with_note(void)
{
	struct fx f;

	fx_init(&f, 2, 1);
	fx_loc(&f, P, A, N1, -10);
	fx_loc(&f, P, A, N2, -INF);
	fx_run(&f);
	CU_ASSERT_EQUAL(AT(&f, A), -1);
	CU_ASSERT_EQUAL(f.t.n_actions, 0);
	CU_ASSERT(fx_has_note(&f, "A: stopped"));
	fx_done(&f);
}

static void test_stickiness_against_preference(void)
{
	static const struct { vg_score stickiness, pref; int node; } cases[] = {
		{ 100, 50, N1 },  /* weaker preference: stays */
		{ 100, 200, N2 }, /* stronger preference: moves */
		{ 0, 1, N2 },
	};
	struct fx f;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fx_init(&f, 2, 1);
		f.prims[A].stickiness = cases[i].stickiness;
		fx_run_on(&f, A, N1, VG_ROLE_STARTED);
		fx_loc(&f, P, A, N2, cases[i].pref);
		fx_run(&f);
		CU_ASSERT_EQUAL(AT(&f, A), cases[i].node);
		if (cases[i].node == N1) {
			CU_ASSERT_EQUAL(f.t.n_actions, 0);
		} else {
			CU_ASSERT(fx_waits_for(&f, fx_find(&f, A, N2, START), fx_find(&f, A, N1, STOP)));
		}
		fx_done(&f);
	}
}

static void test_tie_broken_by_spread_then_lowest_id(void)
{
	struct fx f;

	fx_init(&f, 2, 3);
	fx_run(&f);
	CU_ASSERT_EQUAL(AT(&f, A), N1);
	CU_ASSERT_EQUAL(AT(&f, B), N2);
	CU_ASSERT_EQUAL(AT(&f, C), N1);
	/* the lowest node id, not the lowest index */
	fx_done(&f);
	fx_init(&f, 2, 1);
	f.nodes[N1].id = 7;
	f.nodes[N2].id = 3;
	fx_run(&f);
	CU_ASSERT_EQUAL(AT(&f, A), N2);
	fx_done(&f);
}

static void test_group_starts_in_order_and_stops_in_reverse(void)
{
	static const uint32_t m[] = { A, B, C };
	struct fx f;

	fx_init(&f, 2, 3);
	fx_group(&f, m, 3);
	fx_loc(&f, G, 0, N2, 10);
	fx_run(&f);
	CU_ASSERT(AT(&f, A) == N2 && AT(&f, B) == N2 && AT(&f, C) == N2);
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, B, N2, START), fx_find(&f, A, N2, START)));
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, C, N2, START), fx_find(&f, B, N2, START)));
	/* running on n2, n2 goes standby: stop C, B, A, then start A, B, C on n1 */
	fx_done(&f);
	fx_init(&f, 2, 3);
	fx_group(&f, m, 3);
	fx_run_on(&f, A, N2, VG_ROLE_STARTED);
	fx_run_on(&f, B, N2, VG_ROLE_STARTED);
	fx_run_on(&f, C, N2, VG_ROLE_STARTED);
	f.nodes[N2].standby = 1;
	fx_run(&f);
	CU_ASSERT_EQUAL(f.t.n_actions, 6);
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, B, N2, STOP), fx_find(&f, C, N2, STOP)));
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, A, N2, STOP), fx_find(&f, B, N2, STOP)));
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, A, N1, START), fx_find(&f, A, N2, STOP)));
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, C, N1, START), fx_find(&f, B, N1, START)));
	fx_done(&f);
}

static void test_group_member_banned_stops_the_members_after_it(void)
{
	static const uint32_t m[] = { A, B, C };
	struct fx f;

	fx_init(&f, 2, 3);
	fx_group(&f, m, 3);
	fx_loc(&f, P, B, N1, -INF);
	fx_loc(&f, P, B, N2, -INF);
	fx_run(&f);
	CU_ASSERT_EQUAL(AT(&f, A), N1);
	CU_ASSERT_EQUAL(AT(&f, B), -1);
	CU_ASSERT_EQUAL(AT(&f, C), -1);
	CU_ASSERT_EQUAL(f.t.n_actions, 1);
	CU_ASSERT(fx_has_note(&f, "B cannot run on n1"));
	fx_done(&f);
}

static void test_group_moves_whole_when_member_reaches_migration_threshold(void)
{
	static const uint32_t m[] = { A, B, C };
	struct fx f;
	size_t p;

	fx_init(&f, 2, 3);
	fx_group(&f, m, 3);
	for (p = A; p <= C; p++) {
		f.prims[p].stickiness = 100;
		f.prims[p].migration_threshold = 3;
		fx_run_on(&f, p, N1, VG_ROLE_STARTED);
	}
	fx_st(&f, C, N1)->failed = 1;
	fx_st(&f, C, N1)->fail_count = 3;
	fx_run(&f);
	for (p = A; p <= C; p++) {
		CU_ASSERT_EQUAL(AT(&f, p), N2);
		CU_ASSERT(fx_find(&f, p, N1, STOP) >= 0);
	}
	CU_ASSERT(fx_has_note(&f, "C: banned from n1 after 3"));
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, A, N1, STOP), fx_find(&f, C, N1, STOP)));
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, C, N2, START), fx_find(&f, A, N2, START)));
	fx_done(&f);
}

static void test_colocation_infinity_chain_follows_the_last_target(void)
{
	struct fx f;

	fx_init(&f, 3, 3);
	fx_coloc(&f, P, A, VG_ROLE_STARTED, P, B, VG_ROLE_STARTED, INF);
	fx_coloc(&f, P, B, VG_ROLE_STARTED, P, C, VG_ROLE_STARTED, INF);
	fx_loc(&f, P, C, N3, 10);
	fx_run(&f);
	CU_ASSERT(AT(&f, A) == N3 && AT(&f, B) == N3 && AT(&f, C) == N3);
	/* the chain's target cannot run: nothing of the chain does */
	f.prims[C].target_role = VG_TARGET_STOPPED;
	fx_run(&f);
	CU_ASSERT(AT(&f, A) == -1 && AT(&f, B) == -1 && AT(&f, C) == -1);
	CU_ASSERT(fx_has_note(&f, "B: stopped: colocated (INFINITY) with C"));
	fx_done(&f);
}

static void test_colocation_dependent_pulls_its_target(void)
{
	struct fx f;

	fx_init(&f, 3, 2);
	fx_coloc(&f, P, A, VG_ROLE_STARTED, P, B, VG_ROLE_STARTED, INF);
	fx_loc(&f, P, A, N2, 10);
	fx_run(&f);
	CU_ASSERT(AT(&f, A) == N2 && AT(&f, B) == N2);
	fx_done(&f);
}

static void test_colocation_minus_infinity_keeps_apart(void)
{
	struct fx f;

	fx_init(&f, 2, 2);
	fx_coloc(&f, P, A, VG_ROLE_STARTED, P, B, VG_ROLE_STARTED, -INF);
	fx_loc(&f, P, A, N1, 100);
	fx_loc(&f, P, B, N1, 50);
	fx_run(&f);
	CU_ASSERT_EQUAL(AT(&f, B), N1);
	CU_ASSERT_EQUAL(AT(&f, A), N2);
	/* and with one node only, A cannot run */
	f.nodes[N2].online = 0;
	fx_run(&f);
	CU_ASSERT_EQUAL(AT(&f, A), -1);
	fx_done(&f);
}

static void test_colocation_cycle_is_broken_deterministically(void)
{
	struct fx f;

	fx_init(&f, 2, 2);
	fx_coloc(&f, P, A, VG_ROLE_STARTED, P, B, VG_ROLE_STARTED, INF);
	fx_coloc(&f, P, B, VG_ROLE_STARTED, P, A, VG_ROLE_STARTED, INF);
	fx_run(&f);
	CU_ASSERT(AT(&f, A) >= 0 && AT(&f, A) == AT(&f, B));
	CU_ASSERT(fx_has_note(&f, "closes a cycle"));
	fx_done(&f);
}

/* D (a promotable clone on 3 nodes) and A colocated with its promoted role */
static void promotable_fixture(struct fx *f)
{
	fx_init(f, 3, 4);
	f->prims[B].target_role = VG_TARGET_STOPPED;
	f->prims[C].target_role = VG_TARGET_STOPPED;
	fx_clone(f, D, 0, 1);
	fx_coloc(f, P, A, VG_ROLE_STARTED, K, 0, VG_ROLE_PROMOTED, INF);
	fx_order(f, K, 0, PROMOTE, P, A, START, 1);
}

static void test_colocation_with_promoted_role(void)
{
	struct fx f;

	promotable_fixture(&f);
	fx_loc(&f, K, 0, N2, 10);
	fx_run(&f);
	CU_ASSERT_EQUAL(f.t.placement[D].n_clone_nodes, 3);
	CU_ASSERT_EQUAL(f.t.placement[D].role, VG_ROLE_PROMOTED);
	CU_ASSERT(fx_find(&f, D, N2, PROMOTE) >= 0);
	CU_ASSERT(fx_find(&f, D, N1, PROMOTE) < 0 && fx_find(&f, D, N3, PROMOTE) < 0);
	CU_ASSERT_EQUAL(AT(&f, A), N2);
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, D, N2, PROMOTE), fx_find(&f, D, N2, START)));
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, A, N2, START), fx_find(&f, D, N2, PROMOTE)));
	/* A's preference decides where the clone is promoted */
	fx_done(&f);
	promotable_fixture(&f);
	fx_loc(&f, P, A, N3, 10);
	fx_run(&f);
	CU_ASSERT(fx_find(&f, D, N3, PROMOTE) >= 0);
	CU_ASSERT_EQUAL(AT(&f, A), N3);
	fx_done(&f);
}

static void test_promotable_clone_promoted_instance_is_sticky(void)
{
	struct fx f;
	size_t n;

	promotable_fixture(&f);
	f.prims[D].stickiness = 50;
	for (n = N1; n <= N3; n++)
		fx_run_on(&f, D, n, VG_ROLE_STARTED);
	fx_run_on(&f, D, N2, VG_ROLE_PROMOTED);
	fx_run_on(&f, A, N2, VG_ROLE_STARTED);
	fx_loc(&f, K, 0, N1, 20);
	fx_run(&f);
	CU_ASSERT_EQUAL(f.t.n_actions, 0);
	CU_ASSERT_EQUAL(AT(&f, A), N2);
	fx_done(&f);
}

static void test_promotable_clone_demotes_before_promoting_elsewhere(void)
{
	struct fx f;
	size_t n;
	int demote, promote;

	promotable_fixture(&f);
	for (n = N1; n <= N3; n++)
		fx_run_on(&f, D, n, VG_ROLE_STARTED);
	fx_run_on(&f, D, N2, VG_ROLE_PROMOTED);
	fx_run_on(&f, A, N2, VG_ROLE_STARTED);
	f.nodes[N2].standby = 1;
	fx_run(&f);
	demote = fx_find(&f, D, N2, DEMOTE);
	promote = fx_find(&f, D, N1, PROMOTE);
	CU_ASSERT(demote >= 0 && promote >= 0);
	CU_ASSERT(fx_waits_for(&f, promote, demote));
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, D, N2, STOP), demote));
	/* A stops before the demote it is colocated with and ordered after */
	CU_ASSERT(fx_waits_for(&f, demote, fx_find(&f, A, N2, STOP)));
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, A, N1, START), promote));
	CU_ASSERT_EQUAL(f.t.placement[D].n_clone_nodes, 2);
	fx_done(&f);
}

static void test_promotable_clone_target_unpromoted_never_promotes(void)
{
	struct fx f;

	promotable_fixture(&f);
	f.prims[D].target_role = VG_TARGET_UNPROMOTED;
	fx_run(&f);
	CU_ASSERT_EQUAL(f.t.placement[D].role, VG_ROLE_STARTED);
	CU_ASSERT_EQUAL(AT(&f, A), -1);
	fx_done(&f);
}

static void test_clone_max_places_one_instance_per_node_and_sticks(void)
{
	struct fx f;

	fx_init(&f, 4, 1);
	fx_clone(&f, A, 2, 0);
	fx_run_on(&f, A, N3, VG_ROLE_STARTED);
	fx_run_on(&f, A, N4, VG_ROLE_STARTED);
	fx_run(&f);
	CU_ASSERT_EQUAL(f.t.placement[A].n_clone_nodes, 2);
	CU_ASSERT_EQUAL(f.t.n_actions, 0);
	/* one of them fails over: a new instance on the least loaded node */
	f.nodes[N4].online = 0;
	fx_run(&f);
	CU_ASSERT_EQUAL(f.t.n_actions, 1);
	CU_ASSERT(fx_find(&f, A, N1, START) >= 0);
	fx_done(&f);
}

static void test_order_mandatory_restarts_then_and_stops_in_reverse(void)
{
	struct fx f;

	fx_init(&f, 2, 2);
	fx_order(&f, P, A, START, P, B, START, 1);
	fx_run_on(&f, A, N1, VG_ROLE_STARTED);
	fx_run_on(&f, B, N2, VG_ROLE_STARTED);
	fx_st(&f, A, N1)->failed = 1;
	fx_st(&f, A, N1)->fail_count = 1;
	fx_run(&f);
	CU_ASSERT_EQUAL(f.t.n_actions, 4);
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, A, N1, STOP), fx_find(&f, B, N2, STOP)));
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, A, N1, START), fx_find(&f, A, N1, STOP)));
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, B, N2, START), fx_find(&f, A, N1, START)));
	/* first cannot run: then stops too */
	fx_done(&f);
	fx_init(&f, 2, 2);
	fx_order(&f, P, A, START, P, B, START, 1);
	f.prims[A].target_role = VG_TARGET_STOPPED;
	fx_run(&f);
	CU_ASSERT_EQUAL(AT(&f, B), -1);
	fx_done(&f);
}

static void test_order_optional_only_orders_what_is_in_the_transition(void)
{
	struct fx f;

	fx_init(&f, 2, 2);
	fx_order(&f, P, A, START, P, B, START, 0);
	fx_run(&f);
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, B, N2, START), fx_find(&f, A, N1, START)));
	/* A restarts: B is neither restarted nor ordered */
	fx_run_on(&f, A, N1, VG_ROLE_STARTED);
	fx_run_on(&f, B, N2, VG_ROLE_STARTED);
	fx_st(&f, A, N1)->failed = 1;
	fx_run(&f);
	CU_ASSERT_EQUAL(f.t.n_actions, 2);
	CU_ASSERT(fx_find(&f, B, N2, STOP) < 0);
	/* first cannot run: then runs anyway */
	f.prims[A].target_role = VG_TARGET_STOPPED;
	fx_run(&f);
	CU_ASSERT_EQUAL(AT(&f, B), N2);
	fx_done(&f);
}

static void test_migration_threshold_bans_after_n_failures(void)
{
	static const struct { uint32_t fails; int node; int actions; } cases[] = {
		{ 1, N1, 2 },  /* below threshold: restart in place */
		{ 3, N2, 2 },  /* at threshold: moves */
	};
	struct fx f;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fx_init(&f, 2, 1);
		f.prims[A].migration_threshold = 3;
		fx_loc(&f, P, A, N1, 100);
		fx_run_on(&f, A, N1, VG_ROLE_STARTED);
		fx_st(&f, A, N1)->failed = 1;
		fx_st(&f, A, N1)->fail_count = cases[i].fails;
		fx_run(&f);
		CU_ASSERT_EQUAL(AT(&f, A), cases[i].node);
		CU_ASSERT_EQUAL(f.t.n_actions, (size_t)cases[i].actions);
		CU_ASSERT(fx_waits_for(&f, fx_find(&f, A, (size_t)cases[i].node, START),
				    fx_find(&f, A, N1, STOP)));
		fx_done(&f);
	}
}

/* A failed start sets the fail count to INFINITY: banned even without a threshold. */
static void test_failed_start_bans_node_without_threshold(void)
{
	struct fx f;

	fx_init(&f, 2, 1);
	fx_loc(&f, P, A, N1, 100);
	fx_run_on(&f, A, N1, VG_ROLE_STARTED);
	fx_st(&f, A, N1)->failed = 1;
	fx_st(&f, A, N1)->fail_count = VG_SCORE_INFINITY;
	fx_run(&f);
	CU_ASSERT_EQUAL(AT(&f, A), N2);
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, A, N2, START), fx_find(&f, A, N1, STOP)));
	fx_done(&f);
}

static void test_failure_timeout_expiry_lets_it_come_back(void)
{
	static const struct { uint64_t now_ms; int node; } cases[] = {
		{ 30000, N2 },  /* 29 s after the failure: still banned */
		{ 61000, N1 },  /* 60 s: forgotten */
	};
	struct fx f;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fx_init(&f, 2, 1);
		f.prims[A].migration_threshold = 1;
		f.prims[A].failure_timeout_ms = 60000;
		f.in.now_ms = cases[i].now_ms;
		fx_loc(&f, P, A, N1, 100);
		fx_run_on(&f, A, N2, VG_ROLE_STARTED);
		fx_st(&f, A, N1)->fail_count = 1;
		fx_st(&f, A, N1)->last_failure_ms = 1000;
		fx_run(&f);
		CU_ASSERT_EQUAL(AT(&f, A), cases[i].node);
		fx_done(&f);
	}
}

static void test_standby_and_offline_nodes_run_nothing(void)
{
	struct fx f;

	fx_init(&f, 3, 2);
	fx_run_on(&f, A, N1, VG_ROLE_STARTED);
	fx_run_on(&f, B, N2, VG_ROLE_STARTED);
	f.nodes[N1].standby = 1;
	f.nodes[N2].online = 0;
	fx_run(&f);
	CU_ASSERT(AT(&f, A) == N3 && AT(&f, B) == N3);
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, A, N3, START), fx_find(&f, A, N1, STOP)));
	/* the offline node's resource is stopped there: no stop, no fence */
	CU_ASSERT(fx_find(&f, B, N2, STOP) < 0 && fx_find_fence(&f, N2) < 0);
	CU_ASSERT_EQUAL(f.t.n_actions, 3);
	fx_done(&f);
}

static void test_unclean_node_is_fenced_before_recovery(void)
{
	struct fx f;
	int fence;

	fx_init(&f, 2, 2);
	fx_run_on(&f, A, N1, VG_ROLE_STARTED);
	fx_run_on(&f, B, N1, VG_ROLE_UNKNOWN);
	f.nodes[N1].online = 0;
	f.nodes[N1].unclean = 1;
	fx_run(&f);
	fence = fx_find_fence(&f, N1);
	CU_ASSERT(fence >= 0);
	CU_ASSERT(fx_find(&f, A, N1, STOP) < 0);
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, A, N2, START), fence));
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, B, N2, START), fence));
	fx_done(&f);
}

static void test_unclean_node_without_fencing_starts_immediately(void)
{
	struct fx f;

	fx_init(&f, 2, 1);
	f.in.fencing_enabled = 0;
	fx_run_on(&f, A, N1, VG_ROLE_STARTED);
	f.nodes[N1].online = 0;
	f.nodes[N1].unclean = 1;
	fx_run(&f);
	CU_ASSERT_EQUAL(f.t.n_actions, 1);
	CU_ASSERT(fx_find(&f, A, N2, START) == 0);
	CU_ASSERT_EQUAL(f.t.actions[0].n_deps, 0);
	CU_ASSERT(fx_has_note(&f, "n1 is unclean and fencing is disabled"));
	fx_done(&f);
}

static void test_no_quorum_stop_and_freeze(void)
{
	struct fx f;

	fx_init(&f, 3, 3);
	f.in.quorate = 0;
	fx_run_on(&f, A, N1, VG_ROLE_STARTED);
	fx_run_on(&f, B, N2, VG_ROLE_STARTED);
	fx_st(&f, B, N2)->failed = 1;
	f.nodes[N3].online = 0;
	f.nodes[N3].unclean = 1;
	fx_run_on(&f, C, N3, VG_ROLE_STARTED);
	fx_run(&f);
	CU_ASSERT_EQUAL(f.t.n_actions, 2);
	CU_ASSERT(fx_find(&f, A, N1, STOP) >= 0 && fx_find(&f, B, N2, STOP) >= 0);
	CU_ASSERT(AT(&f, A) == -1 && AT(&f, C) == -1);
	/* freeze: A stays, failed B stops and does not come back, C not started */
	f.in.no_quorum = VG_PE_NQ_FREEZE;
	fx_run(&f);
	CU_ASSERT_EQUAL(f.t.n_actions, 1);
	CU_ASSERT(fx_find(&f, B, N2, STOP) >= 0);
	CU_ASSERT(AT(&f, A) == N1 && AT(&f, B) == -1);
	/* ignore: as if quorate (the unclean node is fenced) */
	f.in.no_quorum = VG_PE_NQ_IGNORE;
	fx_run(&f);
	CU_ASSERT(fx_find_fence(&f, N3) >= 0);
	CU_ASSERT(fx_find(&f, B, N2, START) >= 0 || fx_find(&f, B, N1, START) >= 0);
	fx_done(&f);
}

static void test_no_quorum_freeze_keeps_dependents_of_failed_running(void)
{
	struct fx f;

	fx_init(&f, 2, 2);
	f.in.quorate = 0;
	f.in.no_quorum = VG_PE_NQ_FREEZE;
	fx_order(&f, P, A, START, P, B, START, 1);
	fx_run_on(&f, A, N1, VG_ROLE_STARTED);
	fx_run_on(&f, B, N1, VG_ROLE_STARTED);
	fx_st(&f, A, N1)->failed = 1;
	fx_run(&f);
	CU_ASSERT_EQUAL(f.t.n_actions, 1);
	CU_ASSERT(fx_find(&f, A, N1, STOP) >= 0);
	CU_ASSERT_EQUAL(AT(&f, B), N1);
	fx_done(&f);
}

static void test_maintenance_and_unmanaged_take_no_action(void)
{
	struct fx f;

	fx_init(&f, 2, 2);
	fx_run_on(&f, A, N1, VG_ROLE_STARTED);
	fx_st(&f, A, N1)->failed = 1;
	f.nodes[N1].standby = 1;
	f.in.maintenance = 1;
	fx_run(&f);
	CU_ASSERT_EQUAL(f.t.n_actions, 0);
	CU_ASSERT_EQUAL(AT(&f, A), N1);
	CU_ASSERT(fx_has_note(&f, "maintenance"));
	f.in.maintenance = 0;
	f.prims[A].managed = 0;
	fx_run(&f);
	CU_ASSERT_EQUAL(f.t.n_actions, 1);
	CU_ASSERT(fx_find(&f, B, N2, START) >= 0);
	CU_ASSERT_EQUAL(AT(&f, A), N1);
	fx_done(&f);
}

static void test_multiple_active_stops_all_but_one(void)
{
	struct fx f;

	fx_init(&f, 3, 1);
	fx_run_on(&f, A, N1, VG_ROLE_STARTED);
	fx_run_on(&f, A, N2, VG_ROLE_STARTED);
	fx_run_on(&f, A, N3, VG_ROLE_STARTED);
	fx_loc(&f, P, A, N2, 10);
	fx_run(&f);
	CU_ASSERT_EQUAL(AT(&f, A), N2);
	CU_ASSERT_EQUAL(f.t.n_actions, 2);
	CU_ASSERT(fx_find(&f, A, N1, STOP) >= 0 && fx_find(&f, A, N3, STOP) >= 0);
	fx_done(&f);
}

static void test_on_fail_policies(void)
{
	static const struct {
		uint32_t on_fail;
		int node;          /* placement */
		int stop, start;   /* stop on n1, start on n1 */
		const char *note;
	} cases[] = {
		{ VG_ON_FAIL_RESTART, N1, 1, 1, NULL },
		{ VG_ON_FAIL_STOP, -1, 1, 0, "on-fail=stop" },
		{ VG_ON_FAIL_BLOCK, N1, 0, 0, "on-fail=block" },
		{ VG_ON_FAIL_IGNORE, N1, 0, 0, NULL },
	};
	struct fx f;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fx_init(&f, 2, 1);
		f.prims[A].on_fail = cases[i].on_fail;
		f.prims[A].migration_threshold = 1;
		fx_loc(&f, P, A, N1, 10);
		fx_run_on(&f, A, N1, VG_ROLE_STARTED);
		fx_st(&f, A, N1)->failed = 1;
		fx_run(&f);
		CU_ASSERT_EQUAL(AT(&f, A), cases[i].node);
		CU_ASSERT_EQUAL(fx_find(&f, A, N1, STOP) >= 0, cases[i].stop);
		CU_ASSERT_EQUAL(fx_find(&f, A, N1, START) >= 0, cases[i].start);
		CU_ASSERT_EQUAL(f.t.n_actions, (size_t)(cases[i].stop + cases[i].start));
		if (cases[i].note)
			CU_ASSERT(fx_has_note(&f, cases[i].note));
		fx_done(&f);
	}
}

static void test_on_fail_fence_fences_the_node(void)
{
	struct fx f;
	int fence;

	fx_init(&f, 2, 2);
	f.prims[A].on_fail = VG_ON_FAIL_FENCE;
	fx_run_on(&f, A, N1, VG_ROLE_STARTED);
	fx_run_on(&f, B, N1, VG_ROLE_STARTED);
	fx_st(&f, A, N1)->failed = 1;
	fx_run(&f);
	fence = fx_find_fence(&f, N1);
	CU_ASSERT(fence >= 0);
	CU_ASSERT(AT(&f, A) == N2 && AT(&f, B) == N2);
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, A, N2, START), fence));
	CU_ASSERT(fx_waits_for(&f, fx_find(&f, B, N2, START), fence));
	fx_done(&f);
}

static void test_unknown_role_is_taken_as_stopped_with_note(void)
{
	struct fx f;

	fx_init(&f, 2, 1);
	fx_run_on(&f, A, N1, VG_ROLE_UNKNOWN);
	fx_run(&f);
	CU_ASSERT(fx_has_note(&f, "A: not probed on n1"));
	CU_ASSERT_EQUAL(f.t.n_actions, 1);
	fx_done(&f);
}

static void test_identical_inputs_give_identical_transitions(void)
{
	static const uint32_t m[] = { A, B, C };
	struct fx f;
	struct vg_pe_transition t2;
	size_t i;

	fx_init(&f, 3, 5);
	fx_group(&f, m, 3);
	fx_coloc(&f, P, D, VG_ROLE_STARTED, G, 0, VG_ROLE_STARTED, INF);
	fx_order(&f, G, 0, START, P, D, START, 1);
	fx_run_on(&f, A, N1, VG_ROLE_STARTED);
	fx_run_on(&f, B, N1, VG_ROLE_STARTED);
	fx_run_on(&f, C, N1, VG_ROLE_STARTED);
	fx_run_on(&f, D, N1, VG_ROLE_STARTED);
	f.nodes[N1].online = 0;
	f.nodes[N1].unclean = 1;
	fx_run(&f);
	CU_ASSERT_EQUAL_FATAL(vg_pe_compute(&f.in, &t2), 0);
	CU_ASSERT_EQUAL_FATAL(t2.n_actions, f.t.n_actions);
	for (i = 0; i < t2.n_actions; i++) {
		CU_ASSERT_EQUAL(t2.actions[i].primitive, f.t.actions[i].primitive);
		CU_ASSERT_EQUAL(t2.actions[i].node, f.t.actions[i].node);
		CU_ASSERT_EQUAL(t2.actions[i].action, f.t.actions[i].action);
		CU_ASSERT_EQUAL(t2.actions[i].n_deps, f.t.actions[i].n_deps);
	}
	CU_ASSERT_EQUAL(f.t.n_actions, 6); /* fence + 5 starts */
	vg_pe_transition_free(&t2);
	fx_done(&f);
}

#define T(name) { #name, test_##name }

static CU_TestInfo tests[] = {
	T(score_add_saturates),
	T(failed_start_bans_node_without_threshold),
	T(location_score_places_on_highest_node),
	T(negative_score_everywhere_stays_stopped_with_note),
	T(stickiness_against_preference),
	T(tie_broken_by_spread_then_lowest_id),
	T(group_starts_in_order_and_stops_in_reverse),
	T(group_member_banned_stops_the_members_after_it),
	T(group_moves_whole_when_member_reaches_migration_threshold),
	T(colocation_infinity_chain_follows_the_last_target),
	T(colocation_dependent_pulls_its_target),
	T(colocation_minus_infinity_keeps_apart),
	T(colocation_cycle_is_broken_deterministically),
	T(colocation_with_promoted_role),
	T(promotable_clone_promoted_instance_is_sticky),
	T(promotable_clone_demotes_before_promoting_elsewhere),
	T(promotable_clone_target_unpromoted_never_promotes),
	T(clone_max_places_one_instance_per_node_and_sticks),
	T(order_mandatory_restarts_then_and_stops_in_reverse),
	T(order_optional_only_orders_what_is_in_the_transition),
	T(migration_threshold_bans_after_n_failures),
	T(failure_timeout_expiry_lets_it_come_back),
	T(standby_and_offline_nodes_run_nothing),
	T(unclean_node_is_fenced_before_recovery),
	T(unclean_node_without_fencing_starts_immediately),
	T(no_quorum_stop_and_freeze),
	T(no_quorum_freeze_keeps_dependents_of_failed_running),
	T(maintenance_and_unmanaged_take_no_action),
	T(multiple_active_stops_all_but_one),
	T(on_fail_policies),
	T(on_fail_fence_fences_the_node),
	T(unknown_role_is_taken_as_stopped_with_note),
	T(identical_inputs_give_identical_transitions),
	CU_TEST_INFO_NULL,
};

CU_MAIN("policy", tests)
