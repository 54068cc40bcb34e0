/*
 * Saved cluster states and transitions as JSON: what `vigilctl
 * cluster-state` saves from a running cluster and `vigilctl simulate` (and
 * the scenario tests) feed to the policy engine without a cluster.
 */
#ifndef VG_CORE_PE_JSON_H
#define VG_CORE_PE_JSON_H

#include <jansson.h>
#include <stdio.h>

#include "policy.h"

/* The engine's input as JSON ("format": "vigil-cluster-state/1"). */
json_t *vg_pe_input_to_json(const struct vg_pe_input *in);

/*
 * Rebuild an input for `model` from saved JSON.  Unknown node or resource
 * names are errors (the saved state must match the configuration).  Runtime
 * locations are kept in `*locs` (caller frees).  On error writes why to
 * errbuf and returns -EINVAL.  Free with vg_pe_input_json_free().
 */
int vg_pe_input_from_json(const json_t *j, const struct vg_pe_model *model,
			  struct vg_pe_input *in, char *errbuf, size_t errlen);
void vg_pe_input_json_free(struct vg_pe_input *in);

json_t *vg_pe_transition_to_json(const struct vg_pe_transition *tr, const struct vg_pe_model *m);
/* Human text, as `vigilctl simulate` shows it. */
void vg_pe_transition_print(FILE *f, const struct vg_pe_transition *tr, const struct vg_pe_model *m);

const char *vg_pe_role_name(uint32_t role);
int vg_pe_role_parse(const char *name);

#endif
