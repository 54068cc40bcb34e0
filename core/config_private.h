/*
 * Shared by config.c (schema walker) and config_instance.c (plugin
 * instances); nothing else includes it.
 */
#ifndef VG_CORE_CONFIG_PRIVATE_H
#define VG_CORE_CONFIG_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "config.h"

struct vg_config_ctx;

enum cfg_type {
	CT_STRING = 1, /* char * at off; optional charset or choices */
	CT_INT,        /* uint32_t at off, within [min, max] */
	CT_BOOL,       /* int at off */
	CT_ENUM,       /* int at off: min + index in choices */
	CT_GROUP,      /* sub-schema, stored in the same target */
	CT_LIST,       /* list of groups: array at off, count at off_n */
	CT_STRINGS,    /* array of strings: char ** at off, count at off_n */
	CT_PARAMS,     /* free group, checked against a plugin's table later */
	CT_SCORE,      /* int32 score stored as uint32_t bits: an integer, or "INFINITY"/"-INFINITY" */
};

#define CF_REQUIRED (1u << 0)
#define CF_ABSPATH  (1u << 1)

struct cfg_group;

struct cfg_key {
	const char *name;
	enum cfg_type type;
	unsigned int flags;
	int64_t min, max;            /* CT_INT range; CT_ENUM base; CT_LIST min entries */
	const char *const *choices;  /* CT_ENUM, CT_STRING */
	const char *charset;         /* CT_STRING: 1..64 of [A-Za-z0-9] and these */
	const char *def;             /* applied when absent; NULL: left as is */
	const struct cfg_group *sub; /* CT_GROUP, CT_LIST */
	size_t off, off_n;
};

/* After the keys of list element `idx` are read: what a table cannot say. */
typedef int (*cfg_check_fn)(struct vg_config_ctx *c, const config_setting_t *e, void *base, size_t idx);

struct cfg_group {
	const struct cfg_key *keys; /* ended by name == NULL */
	size_t elem_size;           /* CT_LIST element size */
	cfg_check_fn check;         /* CT_LIST element check, may be NULL */
};

#define VG_CFG_SCORE_INFINITY 1000000

/* Cross-references of resources, groups, clones and constraints (config_rsc.c). */
int vg_config_rsc_check(struct vg_config_ctx *c, const config_t *lc, struct vg_config *cfg);
void vg_config_rsc_free(struct vg_config *cfg);

/*
 * Replication instances (config_repl.c): their nodes exist, and every
 * resource of the built-in "replication" plugin names one of them.
 */
int vg_config_repl_check(struct vg_config_ctx *c, const config_t *lc, struct vg_config *cfg);

/* The root of the schema (config_schema.c). */
extern const struct cfg_group vg_cfg_root;

/* One load: where refusals go.  Lives on vg_config_load()'s stack. */
struct vg_config_ctx {
	const char *path;              /* file name for messages */
	const struct vg_registry *reg; /* loaded plugins; may be NULL */
	char *err;                     /* caller's errbuf, may be NULL */
	size_t errlen;
};

/* Write "FILE:LINE: message" (line of `s`; "FILE: " when s is NULL); returns -EINVAL. */
int vg_config_fail(struct vg_config_ctx *c, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* What `s` holds, for "got ...": a number, a quoted string, "a group"... */
const char *vg_config_describe(const config_setting_t *s, char *buf, size_t len);

/*
 * Check instance `idx` of `all` (its keys already read from `e`): unique
 * name, plugin found and of `kind`, params and attributes.  `noun` names
 * the section in messages ("link", "resource", "fence device").
 */
int vg_config_instance_check(struct vg_config_ctx *c, const config_setting_t *e,
			     struct vg_instance_conf *all, size_t idx, uint32_t kind, const char *noun);

#endif
