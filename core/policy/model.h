/* The policy engine's model, compiled from a checked configuration. */
#ifndef VG_CORE_POLICY_MODEL_H
#define VG_CORE_POLICY_MODEL_H

#include "policy.h"

struct vg_config;

/*
 * Build the model: primitives in configuration order (the index of
 * cfg->resources[i] is i), groups, clones, constraints with references
 * resolved, node indexes in cfg->nodes order.  Strings are borrowed from
 * `cfg`, which must outlive the model.  Returns 0 or -ENOMEM.
 */
int vg_pe_model_build(const struct vg_config *cfg, struct vg_pe_model *m);
void vg_pe_model_free(struct vg_pe_model *m);

/* Resolve a resource, group or clone id; 0 on success, -ENOENT otherwise. */
int vg_pe_model_ref(const struct vg_pe_model *m, const char *id, struct vg_pe_ref *out);
/* Index of a node name, or -1. */
int vg_pe_model_node(const struct vg_pe_model *m, const char *name);

#endif
