/* vigilctl's side of the socket: one JSON request, one JSON answer. */
#ifndef VG_TOOLS_CTL_CLIENT_H
#define VG_TOOLS_CTL_CLIENT_H

#include <jansson.h>

/*
 * Send `request` (reference stolen) to vigild at `path`; *response gets
 * the answer (caller decrefs).  Returns 0, or 1 after printing why to
 * stderr (socket missing, permission denied, no answer).
 */
int vg_ctl_request(const char *path, json_t *request, json_t **response);

#endif
