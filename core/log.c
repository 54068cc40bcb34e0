/* core logging: one line per event, "LEVEL subsys: message". */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static const char *const level_names[] = {
	[VG_LOG_ERR] = "err",
	[VG_LOG_WARNING] = "warning",
	[VG_LOG_NOTICE] = "notice",
	[VG_LOG_INFO] = "info",
	[VG_LOG_DEBUG] = "debug",
};

void vg_logger_init(struct vg_logger *lg)
{
	memset(lg, 0, sizeof(*lg));
	lg->level = VG_LOG_INFO;
	lg->to_stderr = 1;
}

int vg_log_level_parse(const char *word)
{
	for (int i = VG_LOG_ERR; i <= VG_LOG_DEBUG; i++)
		if (strcmp(word, level_names[i]) == 0)
			return i;
	return -1;
}

const char *vg_log_level_name(int level)
{
	if (level < VG_LOG_ERR || level > VG_LOG_DEBUG)
		return "?";
	return level_names[level];
}

void vg_logv(const struct vg_logger *lg, int level, const char *subsys, const char *fmt, va_list ap)
{
	char msg[1024];
	struct timespec ts;
	struct tm tm;

	if (!lg || level > lg->level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (lg->capture)
		lg->capture(lg->capture_arg, level, msg);
	if (lg->to_syslog)
		syslog(level, "%s: %s", subsys, msg);
	if (lg->to_stderr) {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s%s%-7s %s: %s\n", tm.tm_hour, tm.tm_min,
			tm.tm_sec, ts.tv_nsec / 1000000, lg->ident ? lg->ident : "",
			lg->ident ? " " : "", vg_log_level_name(level), subsys, msg);
	}
}

void vg_logf(const struct vg_logger *lg, int level, const char *subsys, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vg_logv(lg, level, subsys, fmt, ap);
	va_end(ap);
}
