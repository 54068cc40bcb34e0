/*
 * OCF meta-data XML generated from a plugin's declaration table, so the
 * meta-data action can never disagree with the parameters vigild checks.
 */
#ifndef VG_RSC_META_H
#define VG_RSC_META_H

#include <vigil/plugin.h>

/*
 * The <resource-agent> document for `plugin` (name, version, description,
 * params).  malloc'd, the caller frees; NULL when out of memory.
 */
char *rsc_meta_build(const struct vg_plugin *plugin);

#endif
