/* vigilctl requests: {"command": NAME, ...} -> one JSON answer. */
#include "vigild.h"

#include <jansson.h>
#include <string.h>

json_t *vigild_ctl_handle(void *arg, const json_t *request)
{
	struct vigild *vd = arg;
	const char *cmd = json_string_value(json_object_get(request, "command"));

	if (!cmd)
		return json_pack("{s:b, s:s}", "ok", 0, "error", "bad request: no \"command\" string");
	if (strcmp(cmd, "status") == 0)
		return vigild_status_json(vd);
	return json_pack("{s:b, s:s+}", "ok", 0, "error", "unknown command: ", cmd);
}
