/*
 * What the conformance programs (transport-, fence-, replication-
 * conformance) share: the "ok - ..." / "not ok - ..." lines with their
 * tally, and loading the one plugin under test through the real registry.
 */
#ifndef VIGIL_TESTS_CONFORMANCE_H
#define VIGIL_TESTS_CONFORMANCE_H

#include "log.h"
#include "loop.h"
#include "plugin.h"

struct conf_tally {
	int passed, failed;
};

/* Print one check's line and count it. */
void conf_check(struct conf_tally *t, int ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Set up the logger (debug to stderr when `verbose`, errors only
 * otherwise) and a loop, and load the plugin file `so` into `reg`.
 * Refuses, with one line on stderr prefixed by `prog`, a file the loader
 * refuses or a plugin of another kind than `kind`.  Returns 0 and the
 * plugin in *info, or a negative errno.
 */
int conf_load(const char *prog, const char *so, uint32_t kind, int verbose, struct vg_logger *log,
	      struct vg_loop **loop, struct vg_registry *reg, const struct vg_plugin_info **info);

#endif /* VIGIL_TESTS_CONFORMANCE_H */
