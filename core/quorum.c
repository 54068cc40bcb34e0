/* Quorum: majority of expected votes, with two-node mode and wait-for-all. */
#include "quorum.h"

struct vg_quorum vg_quorum_compute(const struct vg_quorum_conf *qc, uint32_t member_votes,
				   int all_seen)
{
	struct vg_quorum q = { .votes = member_votes };

	q.expected = qc->expected_votes ? qc->expected_votes : qc->total_votes;
	/* Votes seen above the expectation raise it, as votequorum does. */
	if (member_votes > q.expected)
		q.expected = member_votes;
	q.needed = q.expected / 2 + 1;
	/* Two nodes cannot have a majority of one: fencing settles who stays. */
	if (qc->two_node && q.expected == 2)
		q.needed = 1;
	q.quorate = member_votes >= q.needed;
	if (qc->wait_for_all && !all_seen) {
		q.waiting_for_all = 1;
		q.quorate = 0;
	}
	return q;
}
