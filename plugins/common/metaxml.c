/*
 * The meta-data scanner: see metaxml.h.  Tags are found with strchr('<')
 * and strchr('>'); attribute values may be quoted with ' or ".
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "metaxml.h"

/* `p` starts the tag <name ...>, <name> or <name/>. */
static int vgc_tag_is(const char *p, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(p + 1, name, n) &&
	       (isspace((unsigned char)p[1 + n]) || p[1 + n] == '>' || p[1 + n] == '/');
}

/* Value of attribute `name` in the tag [tag, end): 1 and copied to val, or 0. */
static int vgc_xml_attr(const char *tag, const char *end, const char *name,
			char *val, size_t vallen)
{
	size_t n = strlen(name);

	for (const char *p = tag + 1; p + n < end; p++) {
		const char *q = p + n;
		size_t len = 0;
		char quote;

		if (!isspace((unsigned char)p[-1]) || strncmp(p, name, n))
			continue;
		while (q < end && isspace((unsigned char)*q))
			q++;
		if (q >= end || *q++ != '=')
			continue;
		while (q < end && isspace((unsigned char)*q))
			q++;
		if (q >= end || (*q != '"' && *q != '\''))
			continue;
		quote = *q++;
		while (q + len < end && q[len] != quote)
			len++;
		snprintf(val, vallen, "%.*s", (int)len, q);
		return 1;
	}
	return 0;
}

static int vgc_xml_true(const char *tag, const char *end, const char *name)
{
	char v[16] = "";

	vgc_xml_attr(tag, end, name, v, sizeof(v));
	return !strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes");
}

/* Add one <parameter ...> tag: 1 when added, 0 when it has no name, -ENOMEM. */
static int vgc_meta_add(struct vgc_meta *m, const char *tag, const char *end)
{
	struct vgc_meta_param *p, *grown;

	grown = realloc(m->p, (m->n + 1) * sizeof(*m->p));
	if (!grown)
		return -ENOMEM;
	m->p = grown;
	p = &m->p[m->n];
	memset(p, 0, sizeof(*p));
	if (!vgc_xml_attr(tag, end, "name", p->name, sizeof(p->name)) || !p->name[0])
		return 0; /* nameless: nothing anybody could set */
	vgc_xml_attr(tag, end, "obsoletes", p->obsoletes, sizeof(p->obsoletes));
	p->required = vgc_xml_true(tag, end, "required");
	p->deprecated = vgc_xml_true(tag, end, "deprecated");
	m->n++;
	return 1;
}

/* Append `word` to a "|a|b|" set kept in a malloc'd string. */
static int vgc_set_add(char **set, const char *word)
{
	size_t old = *set ? strlen(*set) : 0;
	char *grown = realloc(*set, old + strlen(word) + 3);

	if (!grown)
		return -ENOMEM;
	if (!old)
		strcpy(grown, "|");
	strcat(grown, word);
	strcat(grown, "|");
	*set = grown;
	return 0;
}

static void vgc_content(struct vgc_meta_param *p, const char *tag, const char *end)
{
	vgc_xml_attr(tag, end, "type", p->type, sizeof(p->type));
	p->has_default = vgc_xml_attr(tag, end, "default", p->def, sizeof(p->def));
}

static int vgc_option(struct vgc_meta_param *p, const char *tag, const char *end)
{
	char v[64];

	if (!vgc_xml_attr(tag, end, "value", v, sizeof(v)))
		return 0;
	return vgc_set_add(&p->options, v);
}

static void vgc_action(struct vgc_meta *m, const char *tag, const char *end)
{
	char v[32];
	size_t len = strlen(m->actions);

	if (!vgc_xml_attr(tag, end, "name", v, sizeof(v)) || !v[0])
		return;
	if (!len)
		len = (size_t)snprintf(m->actions, sizeof(m->actions), "|");
	if (len + strlen(v) + 2 < sizeof(m->actions))
		snprintf(m->actions + len, sizeof(m->actions) - len, "%s|", v);
}

/* One tag [p, end]; `cur` is the <parameter> we are inside, or NULL. */
static int vgc_meta_tag(struct vgc_meta *m, const char *p, const char *end,
			struct vgc_meta_param **cur)
{
	int rc = 0;

	if (vgc_tag_is(p, "resource-agent")) {
		vgc_xml_attr(p, end, "name", m->agent, sizeof(m->agent));
	} else if (vgc_tag_is(p, "parameter")) {
		rc = vgc_meta_add(m, p, end);
		*cur = rc > 0 ? &m->p[m->n - 1] : NULL;
	} else if (vgc_tag_is(p, "/parameter")) {
		*cur = NULL;
	} else if (*cur && vgc_tag_is(p, "content")) {
		vgc_content(*cur, p, end);
	} else if (*cur && vgc_tag_is(p, "option")) {
		rc = vgc_option(*cur, p, end);
	} else if (vgc_tag_is(p, "action")) {
		vgc_action(m, p, end);
	}
	return rc < 0 ? rc : 0;
}

int vgc_meta_parse(const char *xml, struct vgc_meta *m)
{
	struct vgc_meta_param *cur = NULL;
	const char *p = xml, *end;
	int rc;

	if (!strstr(xml, "<resource-agent"))
		return -EINVAL;
	while ((p = strchr(p, '<'))) {
		if (!strncmp(p, "<!--", 4) || !strncmp(p, "<![CDATA[", 9)) {
			end = strstr(p, p[2] == '-' ? "-->" : "]]>");
			if (!end)
				break;
			p = end + 1;
			continue;
		}
		end = strchr(p, '>');
		if (!end)
			break;
		rc = vgc_meta_tag(m, p, end, &cur);
		if (rc < 0)
			return rc;
		p = end + 1;
	}
	return 0;
}

void vgc_meta_free(struct vgc_meta *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->p[i].options);
	free(m->p);
	m->p = NULL;
	m->n = 0;
}

const struct vgc_meta_param *vgc_meta_find(const struct vgc_meta *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->p[i].name, name))
			return &m->p[i];
	return NULL;
}

int vgc_meta_has_action(const struct vgc_meta *m, const char *name)
{
	char word[40];

	snprintf(word, sizeof(word), "|%s|", name);
	return strstr(m->actions, word) != NULL;
}
