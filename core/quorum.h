/* Quorum by votes: a pure function of the configuration and the member set. */
#ifndef VG_CORE_QUORUM_H
#define VG_CORE_QUORUM_H

#include <stdint.h>

struct vg_quorum_conf {
	uint32_t expected_votes;   /* 0: the sum of every configured node's votes */
	uint32_t total_votes;      /* sum of every configured node's votes */
	int two_node;              /* two nodes, one vote each: one is enough */
	int wait_for_all;          /* not quorate until every node was a member once */
};

struct vg_quorum {
	uint32_t votes;            /* of the current members */
	uint32_t expected;         /* expected votes in force */
	uint32_t needed;           /* votes for quorum */
	int quorate;
	int waiting_for_all;       /* wait_for_all holds quorum back */
};

/*
 * `member_votes`: sum of the members' votes; `all_seen`: every configured
 * node has been a member at once since this node started.
 */
struct vg_quorum vg_quorum_compute(const struct vg_quorum_conf *qc, uint32_t member_votes,
				   int all_seen);

#endif
