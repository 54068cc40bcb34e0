/*
 * vigil plugin SDK — transport plugins (VG_KIND_TRANSPORT).
 *
 * A transport moves opaque frames between the nodes of the cluster on one
 * link.  The core does framing, authentication and replay protection; the
 * transport never looks inside a frame.  One instance serves one link; a
 * node may run several links (redundant rings), each its own instance.
 *
 * Receiving: the transport watches its fds with vg_fd_watch() and hands each
 * whole frame to vg_frame_received().  Stream and byte-line transports keep
 * frame boundaries themselves (length prefix, framing bytes).
 *
 * Nothing may block: sockets are non-blocking; a send that cannot complete
 * now is either queued (bounded) or dropped with -EAGAIN.
 */
#ifndef VIGIL_TRANSPORT_H
#define VIGIL_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

/* Members are only appended; a plugin built for 1.0 fills the 1.0 ones. */
struct vg_transport_ops {
	/*
	 * Required.  Send one frame to node `to_node`, or to every other node
	 * when to_node == VG_NODE_ALL.  `frame` is borrowed for the call.
	 * Returns 0 when sent or queued, -EAGAIN when dropped because the
	 * medium is busy, -EMSGSIZE when len > max_frame, -ENOTCONN when no
	 * path to that node exists now, another negative errno otherwise.
	 */
	int (*send)(void *state, uint32_t to_node, const void *frame, size_t len);
	/*
	 * Largest frame this instance carries, in bytes.  NULL means 1400
	 * (fits one Ethernet datagram with IPv6 and UDP headers).
	 */
	size_t (*max_frame)(void *state);
};

#endif /* VIGIL_TRANSPORT_H */
