/* What the conformance programs share: see conformance.h. */
#include "config.h"
#include "conformance.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

void conf_check(struct conf_tally *t, int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (ok)
		t->passed++;
	else
		t->failed++;
}

int conf_load(const char *prog, const char *so, uint32_t kind, int verbose, struct vg_logger *log,
	      struct vg_loop **loop, struct vg_registry *reg, const struct vg_plugin_info **info)
{
	char err[512];

	vg_logger_init(log);
	log->to_stderr = verbose;
	log->to_syslog = 0;
	log->level = verbose ? VG_LOG_DEBUG : VG_LOG_ERR;
	if (vg_loop_new(log, loop) < 0)
		return -ENOMEM;
	vg_registry_init(reg, log);
	if (vg_registry_load_file(reg, so, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return -EINVAL;
	}
	*info = reg->plugins[0];
	if ((*info)->kind != kind) {
		fprintf(stderr, "%s: %s: plugin \"%s\" is a %s plugin, expected a %s plugin\n", prog,
			so, (*info)->name, vg_kind_name((*info)->kind) ? vg_kind_name((*info)->kind) : "?",
			vg_kind_name(kind));
		return -EINVAL;
	}
	return 0;
}
