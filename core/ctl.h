/*
 * The vigilctl socket: a UNIX stream socket (owner root, mode 0660, group
 * configurable).  One request per connection: a JSON object on one line;
 * one JSON object back, then the server closes.  Callers that are neither
 * root nor in the group are refused, by the file mode and again by their
 * credentials (SO_PEERCRED).
 */
#ifndef VG_CORE_CTL_H
#define VG_CORE_CTL_H

#include <jansson.h>
#include <sys/types.h>

struct vg_loop;
struct vg_logger;
struct vg_ctl;

/* Answer one authorised request; returns a new reference (never NULL). */
typedef json_t *(*vg_ctl_handler)(void *arg, const json_t *request);

int vg_ctl_start(struct vg_loop *loop, const struct vg_logger *log, const char *path,
		 const char *group, vg_ctl_handler handler, void *arg, struct vg_ctl **out);
void vg_ctl_stop(struct vg_ctl *ctl);

#endif
