/* Quorum by votes: majority, expected votes, two-node mode, wait-for-all. */
#include "cu_main.h"
#include "quorum.h"

static void test_quorum_majority_of_three(void)
{
	struct vg_quorum_conf qc = { .total_votes = 3 };
	struct vg_quorum q;

	q = vg_quorum_compute(&qc, 3, 1);
	CU_ASSERT(q.quorate);
	CU_ASSERT_EQUAL(q.needed, 2);
	q = vg_quorum_compute(&qc, 2, 1);
	CU_ASSERT(q.quorate);
	q = vg_quorum_compute(&qc, 1, 1);
	CU_ASSERT_FALSE(q.quorate);
	CU_ASSERT_EQUAL(q.expected, 3);
}

static void test_quorum_even_split_has_no_quorum(void)
{
	struct vg_quorum_conf qc = { .total_votes = 4 };

	CU_ASSERT_FALSE(vg_quorum_compute(&qc, 2, 1).quorate);
	CU_ASSERT_EQUAL(vg_quorum_compute(&qc, 2, 1).needed, 3);
	CU_ASSERT(vg_quorum_compute(&qc, 3, 1).quorate);
}

static void test_quorum_expected_votes_override(void)
{
	struct vg_quorum_conf qc = { .total_votes = 3, .expected_votes = 5 };
	struct vg_quorum q = vg_quorum_compute(&qc, 3, 1);

	CU_ASSERT_EQUAL(q.expected, 5);
	CU_ASSERT_EQUAL(q.needed, 3);
	CU_ASSERT(q.quorate);
	CU_ASSERT_FALSE(vg_quorum_compute(&qc, 2, 1).quorate);
}

static void test_quorum_more_votes_than_expected_raise_expected(void)
{
	struct vg_quorum_conf qc = { .total_votes = 5, .expected_votes = 2 };
	struct vg_quorum q = vg_quorum_compute(&qc, 5, 1);

	CU_ASSERT_EQUAL(q.expected, 5);
	CU_ASSERT_EQUAL(q.needed, 3);
}

static void test_quorum_two_node_survivor_keeps_quorum(void)
{
	struct vg_quorum_conf qc = { .total_votes = 2, .two_node = 1 };

	CU_ASSERT(vg_quorum_compute(&qc, 1, 1).quorate);
	CU_ASSERT_EQUAL(vg_quorum_compute(&qc, 1, 1).needed, 1);
	qc.two_node = 0;
	CU_ASSERT_FALSE(vg_quorum_compute(&qc, 1, 1).quorate);
}

static void test_quorum_wait_for_all_holds_until_all_seen(void)
{
	struct vg_quorum_conf qc = { .total_votes = 2, .two_node = 1, .wait_for_all = 1 };
	struct vg_quorum q = vg_quorum_compute(&qc, 1, 0);

	CU_ASSERT_FALSE(q.quorate);
	CU_ASSERT(q.waiting_for_all);
	q = vg_quorum_compute(&qc, 1, 1);
	CU_ASSERT(q.quorate);
	CU_ASSERT_FALSE(q.waiting_for_all);
}

static void test_quorum_zero_vote_nodes_do_not_count(void)
{
	struct vg_quorum_conf qc = { .total_votes = 3 };

	/* three members, one of them with 0 votes: 2 of 3 */
	CU_ASSERT(vg_quorum_compute(&qc, 2, 1).quorate);
	CU_ASSERT_FALSE(vg_quorum_compute(&qc, 1, 1).quorate);
}

static CU_TestInfo tests[] = {
	{ "test_quorum_majority_of_three", test_quorum_majority_of_three },
	{ "test_quorum_even_split_has_no_quorum", test_quorum_even_split_has_no_quorum },
	{ "test_quorum_expected_votes_override", test_quorum_expected_votes_override },
	{ "test_quorum_more_votes_than_expected_raise_expected",
	  test_quorum_more_votes_than_expected_raise_expected },
	{ "test_quorum_two_node_survivor_keeps_quorum", test_quorum_two_node_survivor_keeps_quorum },
	{ "test_quorum_wait_for_all_holds_until_all_seen",
	  test_quorum_wait_for_all_holds_until_all_seen },
	{ "test_quorum_zero_vote_nodes_do_not_count", test_quorum_zero_vote_nodes_do_not_count },
	CU_TEST_INFO_NULL,
};

CU_MAIN("quorum", tests)
