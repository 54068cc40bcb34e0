/*
 * agent fence plugin, internal: where an agent lives, what it is told on
 * stdin, how its answer maps to a vigil result, and the configuration check
 * against its metadata (scanned by plugins/common/metaxml.c).  Shared by
 * agent.c (requests), agent_io.c and agent_validate.c; never installed.
 */
#ifndef VG_PLUGIN_FENCE_AGENT_H
#define VG_PLUGIN_FENCE_AGENT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <vigil/plugin.h>

/* Indexes into the declaration table: open() gets the values in this order. */
enum {
	AG_P_AGENT,
	AG_P_AGENT_DIR,
	AG_P_PLUG,
	AG_P_VERBOSE,
};

/* What the agent may take for its metadata at configuration load. */
#define AG_META_TIMEOUT_MS 10000

/* Bytes of an agent's output kept (a long plug list, metadata). */
#define AG_OUTPUT_MAX (256 * 1024)

/* An agent, resolved from the `agent` and `agent_dir` parameters. */
struct ag_agent {
	char path[PATH_MAX]; /* absolute path of the program */
	char name[128];      /* its base name, for messages: "fence_ipmilan" */
};

/*
 * Resolve `spec` (a name looked up in `dir`, or an absolute path).
 * Returns 0, or -EINVAL with one line in err saying what was expected.
 */
int ag_agent_resolve(const char *spec, const char *dir, struct ag_agent *a,
		     char *err, size_t errlen);

/* The file is a regular executable file: 0, or -ENOENT/-EACCES and a line in err. */
int ag_agent_check(const struct ag_agent *a, char *err, size_t errlen);

/* fence-agents' name of an action ("off", "status"), or NULL for an unknown one. */
const char *ag_action_name(uint32_t action);

/*
 * Attributes vigil writes itself: `action` for every request, `plug` and
 * `port` for the target.  An instance may not set them.
 */
int ag_attr_reserved(const char *name);

/*
 * The agent's stdin for one request: "action=...\n", "plug=...\nport=...\n"
 * when `plug` is not NULL, one "name=value\n" per attribute, "verbose=1\n"
 * when asked.  Returns a malloc'd NUL-terminated string (the caller frees
 * it) with its length in *len, or NULL when out of memory.
 */
char *ag_stdin_build(const char *action, const char *plug, const struct vg_instance *inst,
		     int verbose, size_t *len);

/* What one agent run means to vigil. */
struct ag_outcome {
	int status;   /* 0 or a negative errno */
	int power;    /* enum vg_power */
	char *detail; /* malloc'd: one line, or for LIST the plug names one per line */
};

/*
 * Map one finished run of `action` (exit code, signal, timeout and its
 * output) to a status, a power state and a detail line.  `out` is the
 * merged stdout+stderr.  Returns 0 or -ENOMEM.
 */
int ag_outcome_map(uint32_t action, const struct vg_child_result *res, struct ag_outcome *o);

/*
 * The last line of `out` that is not noise (Python warnings, blank lines),
 * with a logging prefix ("2024-.. ERROR: ") removed, copied into buf.
 */
void ag_last_line(const char *out, char *buf, size_t len);

/* vg_fence_ops.validate: the agent exists, attributes match its metadata. */
int ag_validate(const struct vg_instance *inst, char *errbuf, size_t errlen);

#endif
