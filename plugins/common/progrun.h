/*
 * One program run synchronously with a deadline (plugins/common, used by
 * the ocf and agent plugins' validate to read an agent's meta-data).  It
 * blocks until the program ends or the deadline passes: only for work done
 * before any event loop runs, never on the loop, where runs go through the
 * host's child API instead.
 *
 * The program is fork/exec'd (no shell) in its own process group, with
 * stdin from /dev/null and the signal mask and SIGPIPE reset.  Its stdout
 * is kept up to a cap (the rest is read and dropped, so the program never
 * blocks on a full pipe); its stderr is either merged into stdout or kept
 * apart, of which only the last non-empty line is kept.  At the deadline
 * the whole group is killed; the child is always reaped.
 */
#ifndef VG_COMMON_PROGRUN_H
#define VG_COMMON_PROGRUN_H

#include <stddef.h>
#include <stdint.h>

/* What one run left.  Zero it, then vgc_run_init(); vgc_run_free() when done. */
struct vgc_run {
	char *out;           /* stdout (and stderr when merged), NUL-terminated; owned */
	size_t len;          /* bytes in out, at most out_max */
	size_t out_max;      /* the cap set by vgc_run_init */
	uint32_t timeout_ms; /* the deadline of the last vgc_run_sync, for messages */
	int wstatus;         /* waitpid() status, once vgc_run_sync returned 0 */
	int timed_out;       /* 1 when the deadline passed and the group was killed */
	char last_err[256];  /* last non-empty stderr line; "" when stderr is merged */
};

/* vgc_run_sync flags. */
enum {
	VGC_RUN_MERGE_STDERR = 1 << 0, /* stderr goes to out too; last_err stays "" */
};

/*
 * Allocate r->out for up to `out_max` bytes of output (plus the NUL).
 * 0 or -ENOMEM; either way vgc_run_free() may be called.
 */
int vgc_run_init(struct vgc_run *r, size_t out_max);

/* Free r->out; r may then be initialised again. */
void vgc_run_free(struct vgc_run *r);

/*
 * Run `path` with `argv` and `envp` (NULL-terminated, borrowed for the
 * call) and wait for it at most `timeout_ms`, filling `r` (see above).
 * Returns 0 when the program was started and reaped, whatever its exit
 * (see wstatus and timed_out), or a negative errno when it could not be
 * started (pipe, memfd or fork failed).  A failing exec shows as exit
 * code 127.  Blocks; async-signal-safe calls only in the child.
 */
int vgc_run_sync(struct vgc_run *r, const char *path, char *const argv[], char *const envp[],
		 uint32_t timeout_ms, unsigned int flags);

/*
 * Judge a run: `rc` is what vgc_run_sync returned.  0 when the program
 * exited with 0; otherwise a negative errno and one line in err, naming
 * `who` ("agent heartbeat:Dummy") and `what` the run is ("meta-data"):
 *   "<who>: cannot run <what>: <strerror>"                 (rc)
 *   "<who>: <what> did not finish within <N> s"           -ETIMEDOUT
 *   "<who>: <what> killed by signal <N>"                  -EINVAL
 *   "<who>: <what> failed with exit code <N>[: <detail>]" -EINVAL
 * `detail` is the line that says why, or NULL for r->last_err.
 */
int vgc_run_check(const struct vgc_run *r, int rc, const char *who, const char *what,
		  const char *detail, char *err, size_t errlen);

#endif
