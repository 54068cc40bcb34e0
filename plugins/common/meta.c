/* OCF meta-data XML from a declaration table (see meta.h). */
#include "meta.h"

#include <stdio.h>
#include <stdlib.h>

static void xml_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* OCF content types: integer, boolean, string. */
static const char *ocf_type(uint32_t type)
{
	switch (type) {
	case VG_PARAM_BOOL:
		return "boolean";
	case VG_PARAM_INT:
	case VG_PARAM_DURATION_MS:
		return "integer";
	default:
		return "string";
	}
}

static void xml_param(FILE *f, const struct vg_param_decl *d)
{
	fprintf(f, "    <parameter name=\"%s\" required=\"%d\">\n", d->name,
		(d->flags & VG_PARAM_REQUIRED) ? 1 : 0);
	fputs("      <shortdesc lang=\"en\">", f);
	xml_text(f, d->help);
	fputs("</shortdesc>\n", f);
	fprintf(f, "      <content type=\"%s\"", ocf_type(d->type));
	if (d->def) {
		fputs(" default=\"", f);
		xml_text(f, d->def);
		fputc('"', f);
	}
	fputs("/>\n    </parameter>\n", f);
}

char *rsc_meta_build(const struct vg_plugin *plugin)
{
	static const char *const actions[] = { "start", "stop", "monitor", "meta-data",
					       "validate-all", NULL };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fprintf(f, "<?xml version=\"1.0\"?>\n<resource-agent name=\"%s\" version=\"%s\">\n",
		plugin->name, plugin->version);
	fputs("  <version>1.0</version>\n  <shortdesc lang=\"en\">", f);
	xml_text(f, plugin->description);
	fputs("</shortdesc>\n  <parameters>\n", f);
	for (const struct vg_param_decl *d = plugin->params; d && d->name; d++)
		xml_param(f, d);
	fputs("  </parameters>\n  <actions>\n", f);
	for (size_t i = 0; actions[i]; i++)
		fprintf(f, "    <action name=\"%s\"/>\n", actions[i]);
	fputs("  </actions>\n</resource-agent>\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
