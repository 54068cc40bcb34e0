/* The host-services table: thin forwards to the loop, one table per instance. */
#include "host.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct vg_plugin_inst *inst_of(const struct vg_host *h)
{
	return h->core;
}

const struct vg_host_env *vg_host_env_of(const struct vg_host *h)
{
	return inst_of(h)->env;
}

static void host_log(const struct vg_host *h, int level, const char *msg)
{
	struct vg_plugin_inst *pi = inst_of(h);

	if (level < VG_LOG_ERR || level > VG_LOG_DEBUG)
		level = VG_LOG_ERR;
	vg_logf(pi->env->log, level, pi->tag, "%s", msg);
}

static uint64_t host_now_ms(const struct vg_host *h)
{
	return vg_loop_now_ms(inst_of(h)->env->loop);
}

static int host_timer_start(const struct vg_host *h, uint64_t after_ms, uint64_t repeat_ms,
			    vg_timer_cb cb, void *arg, struct vg_timer **out)
{
	struct vg_plugin_inst *pi = inst_of(h);

	return vg_loop_timer_start(pi->env->loop, after_ms, repeat_ms, cb, arg, pi, out);
}

static void host_timer_stop(const struct vg_host *h, struct vg_timer *t)
{
	vg_loop_timer_stop(inst_of(h)->env->loop, t);
}

static int host_fd_watch(const struct vg_host *h, int fd, uint32_t events, vg_fd_cb cb, void *arg,
			 struct vg_watch **out)
{
	struct vg_plugin_inst *pi = inst_of(h);

	return vg_loop_fd_watch(pi->env->loop, fd, events, cb, arg, pi, out);
}

static int host_fd_modify(const struct vg_host *h, struct vg_watch *w, uint32_t events)
{
	return vg_loop_fd_modify(inst_of(h)->env->loop, w, events);
}

static void host_fd_unwatch(const struct vg_host *h, struct vg_watch *w)
{
	vg_loop_fd_unwatch(inst_of(h)->env->loop, w);
}

static int host_spawn(const struct vg_host *h, const struct vg_spawn *req, vg_child_cb cb,
		      void *arg, struct vg_child **out)
{
	struct vg_plugin_inst *pi = inst_of(h);

	return vg_loop_spawn(pi->env->loop, req, cb, arg, pi, out);
}

static void host_child_cancel(const struct vg_host *h, struct vg_child *c)
{
	vg_loop_child_cancel(inst_of(h)->env->loop, c);
}

static size_t host_node_count(const struct vg_host *h)
{
	return inst_of(h)->n_nodes;
}

static const struct vg_node *host_node_at(const struct vg_host *h, size_t i)
{
	struct vg_plugin_inst *pi = inst_of(h);

	return i < pi->n_nodes ? &pi->nodes[i] : NULL;
}

static const struct vg_node *host_node_by_id(const struct vg_host *h, uint32_t id)
{
	struct vg_plugin_inst *pi = inst_of(h);

	for (size_t i = 0; i < pi->n_nodes; i++)
		if (pi->nodes[i].id == id)
			return &pi->nodes[i];
	return NULL;
}

static uint32_t host_local_node_id(const struct vg_host *h)
{
	return inst_of(h)->env->local_node_id;
}

static void host_frame_received(const struct vg_host *h, const void *frame, size_t len,
				uint32_t from_node)
{
	struct vg_plugin_inst *pi = inst_of(h);

	if (pi->env->frame_received)
		pi->env->frame_received(pi->env->arg, pi->inst.link, frame, len, from_node);
}

static void host_link_state(const struct vg_host *h, uint32_t node_id, int up)
{
	struct vg_plugin_inst *pi = inst_of(h);

	if (pi->env->link_state)
		pi->env->link_state(pi->env->arg, pi->inst.link, node_id, up);
}

/* --- inner transports (ABI 1.2): a wrapper's own transport instance --- */

struct vg_inner {
	struct vg_plugin_inst *outer;
	struct vg_host_env env;          /* the inner's: its events come back here */
	struct vg_instance_conf ic;
	struct vg_plugin_inst *pi;
	struct vg_inner_cbs cbs;
	void *arg;
	struct vg_inner *next;
};

static void inner_rx(void *arg, uint32_t link, const void *frame, size_t len, uint32_t from)
{
	struct vg_inner *in = arg;

	if (in->cbs.frame_received)
		in->cbs.frame_received(in->arg, frame, len, from);
}

static void inner_link(void *arg, uint32_t link, uint32_t node, int up)
{
	struct vg_inner *in = arg;

	if (in->cbs.link_state)
		in->cbs.link_state(in->arg, node, up);
}

static void inner_free(struct vg_inner *in)
{
	vg_plugin_inst_close(in->pi);
	vg_config_values_free(in->ic.values, in->ic.n_values);
	free(in->ic.name);
	free(in);
}

static int host_inner_open(const struct vg_host *h, const char *plugin, const struct vg_attr *params,
			   size_t n_params, const struct vg_inner_cbs *cbs, void *arg,
			   struct vg_inner **out)
{
	struct vg_plugin_inst *pi = inst_of(h);
	const struct vg_plugin_info *info = pi->env->reg ? vg_registry_find(pi->env->reg, plugin) : NULL;
	struct vg_inner *in;
	char err[512];
	int rc;

	if (!info || info->kind != VG_KIND_TRANSPORT || !cbs) {
		vg_logf(pi->env->log, VG_LOG_ERR, pi->tag, "inner transport \"%s\": %s", plugin,
			info ? "not a transport plugin" : "no such plugin loaded");
		return -ENOENT;
	}
	in = calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	*in = (struct vg_inner){ .outer = pi, .env = *pi->env, .cbs = *cbs, .arg = arg };
	in->env.frame_received = inner_rx;
	in->env.link_state = inner_link;
	in->env.arg = in;
	in->ic.info = info;
	in->ic.plugin = (char *)info->name;
	in->ic.n_values = info->n_params;
	rc = vg_config_values_from_attrs(info, params, n_params, &in->ic.values, err, sizeof(err));
	if (rc == 0 && asprintf(&in->ic.name, "%s/%s", pi->inst.name, plugin) < 0) {
		in->ic.name = NULL;
		rc = -ENOMEM;
	}
	if (rc == 0)
		rc = vg_plugin_inst_open(&in->env, &in->ic, pi->inst.link, &in->pi);
	else
		vg_logf(pi->env->log, VG_LOG_ERR, pi->tag, "inner transport: %s", err);
	if (rc < 0) {
		in->pi = NULL;
		inner_free(in);
		return rc;
	}
	in->next = pi->inners;
	pi->inners = in;
	*out = in;
	return 0;
}

static int host_inner_send(const struct vg_host *h, struct vg_inner *in, uint32_t to_node,
			   const void *frame, size_t len)
{
	return in ? vg_plugin_inst_send(in->pi, to_node, frame, len) : -EINVAL;
}

static size_t host_inner_max_frame(const struct vg_host *h, struct vg_inner *in)
{
	return in ? vg_plugin_inst_max_frame(in->pi) : 0;
}

static void host_inner_close(const struct vg_host *h, struct vg_inner *in)
{
	struct vg_plugin_inst *pi = inst_of(h);
	struct vg_inner **pp = &pi->inners;

	if (!in)
		return;
	while (*pp && *pp != in)
		pp = &(*pp)->next;
	if (*pp)
		*pp = in->next;
	inner_free(in);
}

static const struct vg_host host_template = {
	.minor = VG_ABI_MINOR,
	.log = host_log,
	.now_ms = host_now_ms,
	.timer_start = host_timer_start,
	.timer_stop = host_timer_stop,
	.fd_watch = host_fd_watch,
	.fd_modify = host_fd_modify,
	.fd_unwatch = host_fd_unwatch,
	.spawn = host_spawn,
	.child_cancel = host_child_cancel,
	.node_count = host_node_count,
	.node_at = host_node_at,
	.node_by_id = host_node_by_id,
	.local_node_id = host_local_node_id,
	.frame_received = host_frame_received,
	.link_state = host_link_state,
	.inner_open = host_inner_open,
	.inner_send = host_inner_send,
	.inner_max_frame = host_inner_max_frame,
	.inner_close = host_inner_close,
};

static int nodes_build(struct vg_plugin_inst *pi, uint32_t link)
{
	const struct vg_config *cfg = pi->env->cfg;
	int is_transport = pi->info->kind == VG_KIND_TRANSPORT;

	if (!cfg || cfg->n_nodes == 0)
		return 0;
	pi->nodes = calloc(cfg->n_nodes, sizeof(*pi->nodes));
	if (!pi->nodes)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_nodes; i++) {
		const struct vg_node_conf *nc = &cfg->nodes[i];

		pi->nodes[i] = (struct vg_node){
			.id = nc->id,
			.name = nc->name,
			.addr = is_transport && link < nc->n_addrs ? nc->addrs[link] : NULL,
			.is_local = nc->id == pi->env->local_node_id,
		};
	}
	pi->n_nodes = cfg->n_nodes;
	return 0;
}

int vg_plugin_inst_open(const struct vg_host_env *env, const struct vg_instance_conf *ic,
			uint32_t link, struct vg_plugin_inst **out)
{
	struct vg_plugin_inst *pi;
	int rc = -ENOMEM;

	pi = calloc(1, sizeof(*pi));
	if (!pi)
		return -ENOMEM;
	pi->env = env;
	pi->info = ic->info;
	pi->host = host_template;
	pi->host.core = pi;
	pi->inst = (struct vg_instance){ .name = ic->name, .params = ic->values,
					 .n_params = ic->n_values, .attrs = ic->attrs,
					 .n_attrs = ic->n_attrs, .link = link };
	if (asprintf(&pi->tag, "%s(%s)", ic->name, ic->info->name) < 0) {
		pi->tag = NULL;
		goto fail;
	}
	rc = nodes_build(pi, link);
	if (rc < 0)
		goto fail;
	rc = pi->info->open(&pi->host, &pi->inst, &pi->state);
	if (rc < 0) {
		vg_logf(env->log, VG_LOG_ERR, pi->tag, "open failed: %s", strerror(-rc));
		/* The plugin cleaned up; drop anything it left on the loop. */
		vg_loop_release_owner(env->loop, pi);
		goto fail;
	}
	*out = pi;
	return 0;
fail:
	free(pi->nodes);
	free(pi->tag);
	free(pi);
	return rc;
}

void vg_plugin_inst_close(struct vg_plugin_inst *pi)
{
	if (!pi)
		return;
	pi->info->close(pi->state);
	/* inner transports the wrapper left open */
	while (pi->inners) {
		struct vg_inner *in = pi->inners;

		pi->inners = in->next;
		inner_free(in);
	}
	vg_loop_release_owner(pi->env->loop, pi);
	free(pi->nodes);
	free(pi->tag);
	free(pi);
}

int vg_plugin_inst_send(struct vg_plugin_inst *pi, uint32_t to_node, const void *frame, size_t len)
{
	return pi->info->ops.transport.send(pi->state, to_node, frame, len);
}

size_t vg_plugin_inst_max_frame(struct vg_plugin_inst *pi)
{
	const struct vg_transport_ops *ops = &pi->info->ops.transport;

	return ops->max_frame ? ops->max_frame(pi->state) : 1400;
}
