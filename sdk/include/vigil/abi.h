/*
 * vigil plugin SDK — ABI numbers.
 *
 * Every number that crosses the plugin ABI lives in this header with an
 * explicit value.  0 is always invalid.  Values are append-only: never
 * renumbered, never reused.  tests/unit/test_abi.c pins them.
 */
#ifndef VIGIL_ABI_H
#define VIGIL_ABI_H

#include <stdint.h>

/*
 * ABI version of the headers a plugin is built with.  The core loads a
 * plugin whose major equals its own and whose minor is <= its own.
 * A minor bump only appends members at the end of structs.
 */
#define VG_ABI_MAJOR 1
#define VG_ABI_MINOR 3

/*
 * History of minors (what each appended):
 *   1.0  the first ABI
 *   1.1  vg_resource_ops.validate, vg_fence_ops.validate
 *   1.2  vg_host.inner_open/inner_send/inner_max_frame/inner_close:
 *        a transport may wrap another transport (e.g. chaos)
 *   1.3  VG_KIND_REPLICATION and vigil/replication.h (struct
 *        vg_replication_ops, struct vg_repl_status, VG_REPL_* numbers)
 */

/* Plugin kinds (struct vg_plugin.kind).  Append-only. */
enum vg_kind {
	VG_KIND_INVALID = 0,
	VG_KIND_TRANSPORT = 1,   /* moves opaque frames between nodes: vigil/transport.h */
	VG_KIND_RESOURCE = 2,    /* starts/stops/monitors a service: vigil/resource.h */
	VG_KIND_FENCE = 3,       /* powers a node off/on: vigil/fence.h */
	VG_KIND_REPLICATION = 4, /* replicates a block store between nodes: vigil/replication.h (1.3) */
};

/* Parameter types (struct vg_param_decl.type).  Append-only. */
enum vg_param_type {
	VG_PARAM_INVALID = 0,
	VG_PARAM_BOOL = 1,        /* true/false; read vg_value.i (0 or 1) */
	VG_PARAM_INT = 2,         /* 64-bit integer within [min, max]; read .i */
	VG_PARAM_DURATION_MS = 3, /* milliseconds, integer within [min, max]; read .i */
	VG_PARAM_STRING = 4,      /* free text; read .s */
	VG_PARAM_ENUM = 5,        /* one of choices; read .s, and .i = index in choices */
	VG_PARAM_PATH = 6,        /* absolute file system path; read .s */
	VG_PARAM_SECRET = 7,      /* text never logged nor shown by vigild; read .s */
};

/* Parameter flags (struct vg_param_decl.flags).  Bits, append-only. */
#define VG_PARAM_REQUIRED  (1u << 0) /* the configuration must give it */

/* Log levels for vg_log().  Same order as syslog, append-only. */
enum vg_log_level {
	VG_LOG_ERR = 3,
	VG_LOG_WARNING = 4,
	VG_LOG_NOTICE = 5,
	VG_LOG_INFO = 6,
	VG_LOG_DEBUG = 7,
};

/* fd watch events (vg_host.fd_watch).  Bits, append-only. */
#define VG_FD_READ   (1u << 0)
#define VG_FD_WRITE  (1u << 1)
#define VG_FD_ERROR  (1u << 2) /* only reported, never requested */

/* Node id 0 is invalid; as a destination it means every node. */
#define VG_NODE_NONE 0u
#define VG_NODE_ALL  0u

/* Resource actions (struct vg_rsc_request.action), OCF names.  Append-only. */
enum vg_rsc_action {
	VG_RSC_INVALID = 0,
	VG_RSC_START = 1,
	VG_RSC_STOP = 2,
	VG_RSC_MONITOR = 3,      /* interval 0 is a probe */
	VG_RSC_PROMOTE = 4,
	VG_RSC_DEMOTE = 5,
	VG_RSC_NOTIFY = 6,
	VG_RSC_META_DATA = 7,
	VG_RSC_VALIDATE_ALL = 8,
};

/* OCF exit codes, as resource plugins report them (rc of vg_rsc_done_cb). */
enum vg_ocf_rc {
	VG_OCF_SUCCESS = 0,
	VG_OCF_ERR_GENERIC = 1,
	VG_OCF_ERR_ARGS = 2,
	VG_OCF_ERR_UNIMPLEMENTED = 3,
	VG_OCF_ERR_PERM = 4,
	VG_OCF_ERR_INSTALLED = 5,
	VG_OCF_ERR_CONFIGURED = 6,
	VG_OCF_NOT_RUNNING = 7,
	VG_OCF_RUNNING_PROMOTED = 8,
	VG_OCF_FAILED_PROMOTED = 9,
};

/* Fence actions (struct vg_fence_request.action), fence-agents names.  Append-only. */
enum vg_fence_action {
	VG_FENCE_INVALID = 0,
	VG_FENCE_OFF = 1,
	VG_FENCE_ON = 2,
	VG_FENCE_REBOOT = 3,
	VG_FENCE_STATUS = 4,
	VG_FENCE_LIST = 5,
	VG_FENCE_MONITOR = 6,   /* is the device itself reachable */
};

/* Power state a fence plugin reports.  Append-only. */
enum vg_power {
	VG_POWER_INVALID = 0,
	VG_POWER_UNKNOWN = 1,
	VG_POWER_ON = 2,
	VG_POWER_OFF = 3,
};

/*
 * Replication (ABI 1.3): the state every replication backend reports in
 * struct vg_repl_status.  Modelled on DRBD's roles, disk and connection
 * states.  Append-only.
 */

/* Role of a replica: only the primary serves the data to applications. */
enum vg_repl_role {
	VG_REPL_ROLE_INVALID = 0,
	VG_REPL_ROLE_SECONDARY = 1,
	VG_REPL_ROLE_PRIMARY = 2,
	VG_REPL_ROLE_UNKNOWN = 3,      /* the peer's, while not connected */
};

/* What a replica's local disk holds. */
enum vg_repl_disk {
	VG_REPL_DISK_INVALID = 0,
	VG_REPL_DISK_DISKLESS = 1,     /* no store attached (helper down, I/O error) */
	VG_REPL_DISK_INCONSISTENT = 2, /* partly written: never created, or a resync target mid-way */
	VG_REPL_DISK_OUTDATED = 3,     /* consistent but known older than the peer's */
	VG_REPL_DISK_UPTODATE = 4,     /* the newest data as far as this node knows */
	VG_REPL_DISK_UNKNOWN = 5,      /* the peer's, while not connected */
};

/* State of the replication link to the peer. */
enum vg_repl_conn {
	VG_REPL_CONN_INVALID = 0,
	VG_REPL_CONN_STANDALONE = 1,   /* not trying (disconnected by request, or after split brain) */
	VG_REPL_CONN_CONNECTING = 2,   /* trying to reach the peer */
	VG_REPL_CONN_CONNECTED = 3,    /* in sync, replicating writes */
	VG_REPL_CONN_SYNC_SOURCE = 4,  /* resynchronising: this node sends */
	VG_REPL_CONN_SYNC_TARGET = 5,  /* resynchronising: this node receives */
};

/* Flags of vg_replication_ops.promote.  Bits, append-only. */
#define VG_REPL_PROMOTE_FORCE (1u << 0) /* declare an inconsistent disk up-to-date (initial sync) */

#endif /* VIGIL_ABI_H */
