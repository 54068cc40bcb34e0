/*
 * Resource plugins' pidfile and /proc helpers (plugins/common, used by
 * process and repl).  The pidfile is how an instance
 * (and any later instance, after vigild restarts) finds its process; the
 * start time from /proc/PID/stat guards against a reused pid.  All of it
 * is fast local file I/O, fine on the event loop.
 */
#ifndef VG_COMMON_PIDFILE_H
#define VG_COMMON_PIDFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Who the process is: its pid and its start time in clock ticks since boot. */
struct proc_ident {
	pid_t pid;
	unsigned long long start_time; /* /proc/PID/stat field 22; 0: unknown */
};

/* Read "PID [START_TIME]\n".  0, -ENOENT (no file), -EINVAL (garbage), -errno. */
int proc_pidfile_read(const char *path, struct proc_ident *id);

/* Replace the pidfile atomically (PATH.tmp, then rename).  0 or -errno. */
int proc_pidfile_write(const char *path, const struct proc_ident *id);

/* Remove it; a missing file is fine.  0 or -errno. */
int proc_pidfile_remove(const char *path);

/*
 * State letter and start time of `pid` from /proc/PID/stat.
 * 0, -ESRCH when there is no such process, -errno.
 */
int proc_stat_read(pid_t pid, char *state, unsigned long long *start_time);

/*
 * 1 when the process exists, is not a zombie, and (when id->start_time is
 * known) started at that time; 0 otherwise.
 */
int proc_is_alive(const struct proc_ident *id);

/* The last lines of `path` (at most len - 1 bytes), NUL-terminated; "" if none. */
void proc_log_tail(const char *path, char *buf, size_t len);

#endif
