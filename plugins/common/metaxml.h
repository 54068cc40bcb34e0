/*
 * An agent's meta-data XML, scanned (plugins/common, used by the ocf and
 * agent plugins' validate): OCF resource agents and fence-agents write the
 * same flat, machine-written <resource-agent> document.  A small tolerant
 * scanner, not an XML library: it collects the <parameter> elements with
 * their <content> and <option>s, and the <action> names; comments and
 * CDATA are skipped, anything else is ignored.
 */
#ifndef VG_COMMON_METAXML_H
#define VG_COMMON_METAXML_H

#include <stddef.h>

/* One <parameter> of the meta-data.  Values too long for a field are cut. */
struct vgc_meta_param {
	char name[64];       /* never "": nameless parameters are dropped */
	char obsoletes[64];  /* the older name this one replaces, or "" */
	char type[16];       /* <content type=...>: "string", "integer", "boolean", "select", ... */
	char def[64];        /* <content default=...> */
	int required;        /* required="1", "true" or "yes" */
	int deprecated;      /* deprecated="1", "true" or "yes" */
	int has_default;     /* <content> has a default attribute */
	char *options;       /* <option value=...>s, "|a|b|c|" (owned, malloc'd), or NULL */
};

/* What the meta-data says.  Zero it before vgc_meta_parse(). */
struct vgc_meta {
	char agent[128];             /* <resource-agent name=...> */
	struct vgc_meta_param *p;    /* malloc'd, owned */
	size_t n;
	char actions[512];           /* the <action name=...> words, "|start|stop|"; cut to fit */
};

/*
 * Scan the NUL-terminated `xml` into `m` (zeroed by the caller).  0,
 * -EINVAL when there is no <resource-agent> in it, or -ENOMEM.  In every
 * case vgc_meta_free() releases what was collected.
 */
int vgc_meta_parse(const char *xml, struct vgc_meta *m);

/* Free what vgc_meta_parse() collected and zero the count; `m` may be reused. */
void vgc_meta_free(struct vgc_meta *m);

/* The parameter called `name`, or NULL; borrowed from `m` until vgc_meta_free(). */
const struct vgc_meta_param *vgc_meta_find(const struct vgc_meta *m, const char *name);

/* 1 when the meta-data lists action `name`, else 0. */
int vgc_meta_has_action(const struct vgc_meta *m, const char *name);

#endif
