/*
 * vigil plugin SDK — replication plugins (VG_KIND_REPLICATION, ABI 1.3).
 *
 * One instance is one replicated store between this node and one peer (a
 * "volume" in DRBD's words).  The backend keeps both copies in step, tracks
 * what differs while they are apart, resynchronises after a disconnect and
 * refuses to overwrite data that diverged (split brain).  The core only
 * drives it: promote the replica that may serve the data, demote it, read
 * its state.  A promotable resource in the cluster configuration decides
 * where the primary runs (docs/replication.md).
 *
 * Disk and network I/O never run on vigild's loop: a backend does them in a
 * helper process or thread and talks to it without blocking.  status() is
 * answered from what the backend already knows; promote, demote and verify
 * are requests with a completion callback.
 *
 * Numbers (roles, disk and connection states, flags) are in vigil/abi.h.
 */
#ifndef VIGIL_REPLICATION_H
#define VIGIL_REPLICATION_H

#include <stddef.h>
#include <stdint.h>

/*
 * The state of one replica, as the backend last knew it.  Filled by
 * status(); the core zeroes it before the call, so members appended in a
 * later minor read 0 from an older plugin.  Members are only appended.
 */
struct vg_repl_status {
	/* enum vg_repl_role of this node and of the peer (UNKNOWN when not connected). */
	uint32_t role;
	uint32_t peer_role;
	/* enum vg_repl_disk of this node's store and of the peer's (UNKNOWN when not connected). */
	uint32_t disk;
	uint32_t peer_disk;
	/* enum vg_repl_conn. */
	uint32_t conn;
	/*
	 * 1 when the last handshake found that both sides changed the data
	 * since they last agreed: the backend stays STANDALONE and modifies
	 * neither copy until an operator (or a later recovery policy) decides.
	 */
	uint32_t split_brain;
	/* Size of the replicated store in bytes. */
	uint64_t size_bytes;
	/* Bytes this node knows differ from the peer (dirty regions), in bytes. */
	uint64_t out_of_sync_bytes;
	/* During a resync (SYNC_SOURCE/SYNC_TARGET): bytes to move and bytes moved so far. */
	uint64_t sync_total_bytes;
	uint64_t sync_done_bytes;
	/*
	 * Generation identifiers (DRBD's UUIDs): `current` names the data
	 * generation this disk holds; `bitmap` the generation the peer had
	 * when this node started recording differences (0 when none);
	 * `history` the two previous generations.  0 means none.
	 */
	uint64_t gen_current;
	uint64_t gen_bitmap;
	uint64_t gen_history[2];
};

/*
 * Completion of promote, demote and verify.  `status` is 0 on success or a
 * negative errno (-EPERM: the local disk is not up-to-date; -EBUSY: the peer
 * is primary, or the store is in use; -ETIMEDOUT; -EIO).  `detail` is one
 * human line (for verify: what was found), borrowed until the callback
 * returns.  Called exactly once per accepted request, never from inside the
 * call that made it.
 */
typedef void (*vg_repl_done_cb)(void *arg, int status, const char *detail);

/* Members are only appended. */
struct vg_replication_ops {
	/*
	 * Required.  Make this replica primary: it serves the store to
	 * applications and replicates their writes.  Refused with -EPERM
	 * unless the local disk is up-to-date (flags may hold
	 * VG_REPL_PROMOTE_FORCE: the operator declares this copy good, e.g.
	 * for the initial sync); -EBUSY when the connected peer is primary.
	 * Returns 0 when accepted (the callback follows) or a negative errno
	 * when refused at once (no callback).
	 */
	int (*promote)(void *state, uint32_t flags, vg_repl_done_cb cb, void *arg);
	/*
	 * Required.  Make this replica secondary: stop serving; -EBUSY while
	 * an application still has the store open.  As promote.
	 */
	int (*demote)(void *state, vg_repl_done_cb cb, void *arg);
	/*
	 * Required.  Copy the last known state into *out; synchronous and
	 * cheap (no I/O, no waiting).  Returns 0, or a negative errno when
	 * the backend knows nothing yet (*out then says DISKLESS).
	 */
	int (*status)(void *state, struct vg_repl_status *out);
	/*
	 * Compare both copies online (checksums of every region) while
	 * connected; regions that differ are counted as out of sync, not
	 * repaired.  Completion's detail says how many bytes differ.  NULL
	 * means the backend cannot verify.
	 */
	int (*verify)(void *state, vg_repl_done_cb cb, void *arg);
};

#endif /* VIGIL_REPLICATION_H */
