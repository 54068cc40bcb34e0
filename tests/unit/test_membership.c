/*
 * Membership without a network: frames from fake peers are encoded with the
 * cluster key and handed to the frame layer as a transport would, while the
 * real loop runs the heartbeat timer.
 */
#include "config.h"
#include "cu_main.h"
#include "log.h"
#include "loop.h"
#include "membership.h"
#include "net.h"
#include "wire.h"

#include <string.h>

#define INTERVAL_MS 10
#define DEADTIME_MS 60

static const unsigned char key[32] = "0123456789abcdef0123456789abcdef";

struct fixture {
	struct vg_logger log;
	struct vg_loop *loop;
	struct vg_config cfg;
	struct vg_node_conf nodes[3];
	struct vg_net net;
	struct vg_membership m;
	uint64_t seq[4];
	uint64_t inc[4];
};

static void fixture_init(struct fixture *f, uint32_t self)
{
	static char *names[] = { "n1", "n2", "n3" };

	memset(f, 0, sizeof(*f));
	vg_logger_init(&f->log);
	f->log.level = VG_LOG_ERR;
	CU_ASSERT_FATAL(vg_loop_new(&f->log, &f->loop) == 0);
	for (int i = 0; i < 3; i++)
		f->nodes[i] = (struct vg_node_conf){ .id = (uint32_t)i + 1, .name = names[i],
						     .votes = 1 };
	f->cfg.cluster_id = 9;
	f->cfg.interval_ms = INTERVAL_MS;
	f->cfg.deadtime_ms = DEADTIME_MS;
	f->cfg.nodes = f->nodes;
	f->cfg.n_nodes = 3;
	memset(f->cfg.digest, 0xab, sizeof(f->cfg.digest));
	CU_ASSERT_FATAL(vg_net_init(&f->net, &f->cfg, self, key, sizeof(key), f->loop, &f->log) == 0);
	CU_ASSERT_FATAL(vg_membership_start(&f->m, &f->cfg, &f->net, f->loop, &f->log) == 0);
	for (int i = 1; i <= 3; i++)
		f->inc[i] = 1000 + (uint64_t)i;
}

static void fixture_free(struct fixture *f)
{
	vg_membership_stop(&f->m);
	vg_net_free(&f->net);
	vg_loop_free(f->loop);
}

/* A heartbeat from `from` announcing (view_id, owner, members), digest byte `d`. */
static void heartbeat(struct fixture *f, uint32_t from, uint64_t view_id, uint32_t owner,
		      const uint32_t *members, uint16_t n, unsigned char d, const unsigned char *k)
{
	struct vg_wire_hdr hdr = { .type = VG_MSG_HEARTBEAT, .cluster_id = 9, .node_id = from,
				   .incarnation = f->inc[from], .seq = ++f->seq[from] };
	uint8_t payload[256], frame[VG_WIRE_MAX_FRAME], digest[32];
	struct vg_wbuf w;
	size_t len;

	memset(digest, d, sizeof(digest));
	vg_wbuf_init(&w, payload, sizeof(payload));
	vg_wbuf_put_bytes(&w, digest, sizeof(digest));
	vg_wbuf_put_u64(&w, view_id);
	vg_wbuf_put_u32(&w, owner);
	vg_wbuf_put_u8(&w, 0);
	vg_wbuf_put_u8(&w, 0);
	vg_wbuf_put_u16(&w, n);
	for (uint16_t i = 0; i < n; i++)
		vg_wbuf_put_u32(&w, members[i]);
	struct vg_wire_key wk;

	CU_ASSERT_FATAL(vg_wire_key_init(&wk, k ? k : key, 32) == 0);
	CU_ASSERT_FATAL(vg_wire_encode(&wk, &hdr, payload, w.len, frame, sizeof(frame), &len) == 0);
	vg_wire_key_free(&wk);
	vg_net_frame_received(&f->net, 0, frame, len, 0);
}

/* Run the loop for `ms`, with plain heartbeats (empty view) from `senders` every interval. */
static void run_with(struct fixture *f, uint64_t ms, const uint32_t *senders, size_t n)
{
	uint64_t end = vg_loop_update_time(f->loop) + ms;

	while (vg_loop_now_ms(f->loop) < end) {
		for (size_t i = 0; i < n; i++)
			heartbeat(f, senders[i], 0, 0, NULL, 0, 0xab, NULL);
		vg_loop_run_once(f->loop, INTERVAL_MS);
	}
}

static int view_is(const struct fixture *f, const uint32_t *ids, uint16_t n)
{
	return f->m.view.n_members == n && memcmp(f->m.view.members, ids, n * sizeof(*ids)) == 0;
}

static void test_lowest_node_proposes_view_of_all_after_join_delay(void)
{
	struct fixture f;
	uint32_t peers[] = { 2, 3 }, all[] = { 1, 2, 3 };

	fixture_init(&f, 1);
	run_with(&f, DEADTIME_MS / 2, peers, 2);
	CU_ASSERT_EQUAL(f.m.view.id, 0); /* still in the join delay */
	run_with(&f, DEADTIME_MS, peers, 2);
	CU_ASSERT(view_is(&f, all, 3));
	CU_ASSERT_EQUAL(f.m.view.owner, 1);
	CU_ASSERT(f.m.q.quorate);
	CU_ASSERT_EQUAL(f.m.dc, 1);
	fixture_free(&f);
}

static void test_silent_node_is_lost_within_deadtime_plus_interval(void)
{
	struct fixture f;
	uint32_t peers[] = { 2, 3 }, only2[] = { 2 }, two[] = { 1, 2 };
	uint64_t view_before, t0, t_lost = 0;

	fixture_init(&f, 1);
	run_with(&f, 2 * DEADTIME_MS, peers, 2);
	view_before = f.m.view.id;
	t0 = vg_loop_now_ms(f.loop);
	for (int i = 0; i < 100 && !t_lost; i++) {
		run_with(&f, INTERVAL_MS / 2, only2, 1);
		if (view_is(&f, two, 2))
			t_lost = vg_loop_now_ms(f.loop);
	}
	CU_ASSERT(t_lost != 0);
	CU_ASSERT(t_lost - t0 >= DEADTIME_MS - INTERVAL_MS);
	CU_ASSERT(t_lost - t0 <= DEADTIME_MS + 2 * INTERVAL_MS);
	CU_ASSERT(f.m.view.id > view_before);
	CU_ASSERT(f.m.q.quorate); /* 2 of 3 */
	CU_ASSERT_EQUAL(vg_membership_node_state(&f.m, vg_net_peer(&f.net, 3)), VG_NODE_STATE_LOST);
	fixture_free(&f);
}

static void test_member_adopts_only_its_coordinators_view(void)
{
	struct fixture f;
	uint32_t all[] = { 1, 2, 3 }, bogus[] = { 2, 3 };

	fixture_init(&f, 3);
	/* Node 2 claims a view of its own: node 1 is reachable and lower, so no. */
	heartbeat(&f, 1, 0, 0, NULL, 0, 0xab, NULL);
	heartbeat(&f, 2, 9, 2, bogus, 2, 0xab, NULL);
	CU_ASSERT_EQUAL(f.m.view.id, 0);
	/* Node 1's view lists us: adopted at once. */
	heartbeat(&f, 1, 5, 1, all, 3, 0xab, NULL);
	CU_ASSERT(view_is(&f, all, 3));
	CU_ASSERT_EQUAL(f.m.view.id, 5);
	CU_ASSERT_EQUAL(f.m.view.owner, 1);
	/* An older view from the coordinator changes nothing. */
	heartbeat(&f, 1, 4, 1, all, 3, 0xab, NULL);
	CU_ASSERT_EQUAL(f.m.view.id, 5);
	fixture_free(&f);
}

static void test_forged_and_replayed_frames_change_nothing(void)
{
	struct fixture f;
	uint32_t all[] = { 1, 2, 3 }, small[] = { 1, 3 };
	static const unsigned char other_key[32] = "another key, another cluster...";

	fixture_init(&f, 3);
	heartbeat(&f, 1, 5, 1, all, 3, 0xab, NULL);
	CU_ASSERT_EQUAL(f.m.view.id, 5);
	/* Same view change, signed with another key: dropped as bad-mac. */
	heartbeat(&f, 1, 6, 1, small, 2, 0xab, other_key);
	CU_ASSERT_EQUAL(f.m.view.id, 5);
	CU_ASSERT_EQUAL(f.net.stats.dropped[VG_WIRE_DROP_BAD_MAC], 1);
	/* A replay of an old sequence on the same link: dropped as replayed, not acted on. */
	f.seq[1] = 0;
	heartbeat(&f, 1, 7, 1, small, 2, 0xab, NULL);
	CU_ASSERT_EQUAL(f.m.view.id, 5);
	CU_ASSERT_EQUAL(f.net.stats.dropped[VG_WIRE_DROP_REPLAYED], 1);
	CU_ASSERT_EQUAL(f.net.stats.dropped[VG_WIRE_DROP_DUPLICATE], 0);
	/* An older incarnation of node 1: dropped. */
	f.inc[1]--;
	f.seq[1] = 100;
	heartbeat(&f, 1, 8, 1, small, 2, 0xab, NULL);
	CU_ASSERT_EQUAL(f.m.view.id, 5);
	CU_ASSERT_EQUAL(f.net.stats.dropped[VG_WIRE_DROP_OLD_INCARNATION], 1);
	fixture_free(&f);
}

static void test_config_mismatch_is_not_admitted(void)
{
	struct fixture f;
	uint32_t two[] = { 1, 2 };
	uint64_t end;

	fixture_init(&f, 1);
	end = vg_loop_update_time(f.loop) + 2 * DEADTIME_MS;
	while (vg_loop_now_ms(f.loop) < end) {
		heartbeat(&f, 2, 0, 0, NULL, 0, 0xab, NULL);
		heartbeat(&f, 3, 0, 0, NULL, 0, 0xcd, NULL); /* another digest */
		vg_loop_run_once(f.loop, INTERVAL_MS);
	}
	CU_ASSERT(view_is(&f, two, 2));
	CU_ASSERT_EQUAL(vg_membership_node_state(&f.m, vg_net_peer(&f.net, 3)),
			VG_NODE_STATE_MISMATCH);
	fixture_free(&f);
}

static void test_leave_drops_node_at_once(void)
{
	struct fixture f;
	uint32_t peers[] = { 2, 3 }, two[] = { 1, 2 };
	struct vg_wire_hdr hdr = { .type = VG_MSG_LEAVE, .cluster_id = 9, .node_id = 3 };
	uint8_t frame[VG_WIRE_MAX_FRAME];
	size_t len;

	fixture_init(&f, 1);
	run_with(&f, 2 * DEADTIME_MS, peers, 2);
	hdr.incarnation = f.inc[3];
	hdr.seq = ++f.seq[3];
	CU_ASSERT_FATAL(vg_wire_encode(&f.net.key, &hdr, NULL, 0, frame, sizeof(frame), &len) == 0);
	vg_net_frame_received(&f.net, 0, frame, len, 0);
	CU_ASSERT(view_is(&f, two, 2));
	CU_ASSERT_EQUAL(vg_membership_node_state(&f.m, vg_net_peer(&f.net, 3)), VG_NODE_STATE_LEFT);
	fixture_free(&f);
}

static void test_partition_without_majority_has_no_dc(void)
{
	struct fixture f;

	fixture_init(&f, 3);
	run_with(&f, 2 * DEADTIME_MS, NULL, 0);
	CU_ASSERT_EQUAL(f.m.view.n_members, 1);
	CU_ASSERT_FALSE(f.m.q.quorate);
	CU_ASSERT_EQUAL(f.m.dc, 0);
	fixture_free(&f);
}

static CU_TestInfo tests[] = {
	{ "test_lowest_node_proposes_view_of_all_after_join_delay",
	  test_lowest_node_proposes_view_of_all_after_join_delay },
	{ "test_silent_node_is_lost_within_deadtime_plus_interval",
	  test_silent_node_is_lost_within_deadtime_plus_interval },
	{ "test_member_adopts_only_its_coordinators_view", test_member_adopts_only_its_coordinators_view },
	{ "test_forged_and_replayed_frames_change_nothing", test_forged_and_replayed_frames_change_nothing },
	{ "test_config_mismatch_is_not_admitted", test_config_mismatch_is_not_admitted },
	{ "test_leave_drops_node_at_once", test_leave_drops_node_at_once },
	{ "test_partition_without_majority_has_no_dc", test_partition_without_majority_has_no_dc },
	CU_TEST_INFO_NULL,
};

CU_MAIN("membership", tests)
