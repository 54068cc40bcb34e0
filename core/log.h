/* core logging: levels, a subsystem tag per line, stderr and/or syslog. */
#ifndef VG_CORE_LOG_H
#define VG_CORE_LOG_H

#include <stdarg.h>

#include <vigil/abi.h>

/* Where log lines go; owned by struct vigild (or a test), never global. */
struct vg_logger {
	int level;       /* lines above this level (VG_LOG_*) are dropped */
	int to_stderr;   /* 1: write "LEVEL subsys: message" lines to stderr */
	int to_syslog;   /* 1: syslog(3); openlog() is the caller's business */
	const char *ident; /* prefix on stderr lines (e.g. node name), may be NULL */
	/* Test hook: when set, every line that passes `level` is also given here. */
	void (*capture)(void *arg, int level, const char *line);
	void *capture_arg;
};

void vg_logger_init(struct vg_logger *lg);
void vg_logv(const struct vg_logger *lg, int level, const char *subsys, const char *fmt, va_list ap);
void vg_logf(const struct vg_logger *lg, int level, const char *subsys, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "err", "warning", "notice", "info", "debug" -> VG_LOG_*, or -1. */
int vg_log_level_parse(const char *word);
const char *vg_log_level_name(int level);

#endif
