/* vigilctl output: JSON as vigild sent it, or text for people. */
#ifndef VG_TOOLS_CTL_PRINT_H
#define VG_TOOLS_CTL_PRINT_H

#include <jansson.h>

typedef void (*vg_ctl_printer)(const json_t *resp);

/*
 * Print an answer: raw JSON with `json`, else through `printer`; an answer
 * with "ok": false prints its error on stderr.  `watch` clears the screen
 * first.  Returns 0, or 1 when vigild refused.
 */
int vg_ctl_print(const json_t *resp, int json, int watch, vg_ctl_printer printer);

void vg_ctl_print_status(const json_t *resp);
/* "message" of an answer that says what was done. */
void vg_ctl_print_message(const json_t *resp);
/* vigilctl fence history */
void vg_ctl_print_fence_history(const json_t *resp);

#endif
