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
