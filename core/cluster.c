/*
 * vigild's resource side: the executor, the replicated cluster state and the
 * DC, wired to membership's hooks; and the shutdown that lets the DC move
 * this node's resources away before it leaves.
 */
#include "config.h"
#include "log.h"
#include "loop.h"
#include "vigild.h"
#include "wire.h"

#include <string.h>

#define SHUTDOWN_POLL_MS 100

static void on_frame(void *arg, struct vg_peer *p, const struct vg_wire_hdr *hdr,
		     const void *payload)
{
	struct vigild *vd = arg;

	if (hdr->type == VG_MSG_RSC_OP || hdr->type == VG_MSG_RSC_RESULT)
		vg_dc_frame(&vd->dc, p, hdr, payload);
	else
		vg_cstate_frame(&vd->cs, p, hdr, payload);
}

static void on_heartbeat(void *arg, struct vg_peer *p)
{
	struct vigild *vd = arg;

	vg_cstate_heartbeat(&vd->cs, p);
}

static size_t local_running(const struct vigild *vd)
{
	size_t n = 0;

	for (size_t i = 0; i < vd->ex.n_rsc; i++)
		n += vd->ex.rsc[i].role == VG_ROLE_STARTED || vd->ex.rsc[i].role == VG_ROLE_PROMOTED;
	return n;
}

/* Without quorum nobody may run resources here: the policy says what to do. */
static void stop_local_resources(struct vigild *vd, const char *why)
{
	size_t n = 0;

	for (size_t i = 0; i < vd->ex.n_rsc; i++) {
		const struct vg_rsc_local *r = &vd->ex.rsc[i];

		if ((r->role == VG_ROLE_STARTED || r->role == VG_ROLE_PROMOTED) &&
		    vg_executor_exec(&vd->ex, (uint32_t)i, VG_RSC_STOP, NULL, NULL) == 0)
			n++;
	}
	if (n)
		vg_logf(&vd->log, VG_LOG_WARNING, "executor", "%s: stopping %zu local resource(s)",
			why, n);
}

static void on_membership_change(void *arg)
{
	struct vigild *vd = arg;
	int quorate = vd->mship.q.quorate;

	if (!vd->cluster_ready)
		return;
	if (vd->was_quorate && !quorate && vd->cfg->no_quorum_policy == VG_NQP_STOP)
		stop_local_resources(vd, "partition without quorum (no_quorum_policy stop)");
	vd->was_quorate = quorate;
	vg_cstate_view_changed(&vd->cs);
	vg_fencer_view_changed(&vd->fencer);
	vg_dc_abort(&vd->dc, "the membership changed");
}

static void on_executor_change(void *arg)
{
	struct vigild *vd = arg;

	vg_cstate_local_changed(&vd->cs);
	if (!vd->mship.q.quorate && vd->cfg->no_quorum_policy == VG_NQP_STOP && vd->was_quorate == 0 &&
	    vg_executor_probed(&vd->ex) && local_running(vd) && !vg_executor_busy(&vd->ex) &&
	    vd->mship.views_installed)
		stop_local_resources(vd, "partition without quorum (no_quorum_policy stop)");
}

static void on_cstate_update(void *arg)
{
	struct vigild *vd = arg;

	vg_dc_kick(&vd->dc);
}

int vigild_cluster_start(struct vigild *vd)
{
	int rc;

	/* before the executor: the built-in "replication" resource finds them at open */
	rc = vg_repl_set_start(&vd->repl, vd->cfg, vd->log.ident, &vd->env);
	if (rc < 0)
		return rc;
	vd->env.repl = &vd->repl;
	rc = vg_executor_start(&vd->ex, vd->cfg, vd->log.ident, &vd->env);
	if (rc == 0)
		rc = vg_cstate_start(&vd->cs, vd->cfg, &vd->net, &vd->mship, &vd->ex, vd->loop,
				     &vd->log);
	if (rc == 0)
		rc = vg_dc_start(&vd->dc, vd->cfg, &vd->net, &vd->mship, &vd->cs, &vd->ex,
				 vd->loop, &vd->log);
	if (rc == 0)
		rc = vg_fencer_start(&vd->fencer, vd->cfg, &vd->env, &vd->cs, &vd->net);
	if (rc < 0)
		return rc;
	vd->dc.fencer = &vd->fencer;
	vd->ex.on_change = on_executor_change;
	vd->ex.arg = vd;
	vd->cs.on_update = on_cstate_update;
	vd->cs.arg = vd;
	vd->mship.on_frame = on_frame;
	vd->mship.on_heartbeat = on_heartbeat;
	vd->mship.hook_arg = vd;
	vd->mship.on_change = on_membership_change;
	vd->mship.arg = vd;
	vd->cluster_ready = 1;
	vg_cstate_local_changed(&vd->cs);
	if (!vd->cfg->fencing_enabled && vd->cfg->n_resources)
		vg_logf(&vd->log, VG_LOG_WARNING, "dc",
			"fencing is disabled in %s: a lost node's resources will be recovered without fencing it",
			vd->cfg->path);
	return 0;
}

void vigild_cluster_stop(struct vigild *vd)
{
	if (vd->cluster_ready) {
		vd->mship.on_frame = NULL;
		vd->mship.on_heartbeat = NULL;
		vd->mship.on_change = NULL;
		vg_loop_timer_stop(vd->loop, vd->shutdown_timer);
		vg_fencer_stop(&vd->fencer);
		vg_dc_stop(&vd->dc);
		vg_cstate_stop(&vd->cs);
		vg_executor_stop(&vd->ex);
		vd->cluster_ready = 0;
	}
	/* after the executor: no resource drives them any more; also after a failed start */
	vd->env.repl = NULL;
	vg_repl_set_stop(&vd->repl);
}

static void leave_now(struct vigild *vd)
{
	vg_membership_stop(&vd->mship);
	vg_loop_stop(vd->loop, 0);
}

/* Leave once nothing runs here; without a DC, stop what runs ourselves. */
static void shutdown_poll(void *arg)
{
	struct vigild *vd = arg;
	uint64_t waited = vg_loop_now_ms(vd->loop) - vd->shutdown_started_ms;
	uint64_t limit = 2ull * (vd->cfg->n_resources ? 30000 : 0);

	if (!local_running(vd) && !vg_executor_busy(&vd->ex)) {
		vg_logf(&vd->log, VG_LOG_NOTICE, "vigild", "nothing runs here any more: leaving the cluster");
		leave_now(vd);
		return;
	}
	if (!vd->mship.dc && !vg_executor_busy(&vd->ex))
		stop_local_resources(vd, "shutting down without a DC");
	if (waited > limit) {
		vg_logf(&vd->log, VG_LOG_ERR, "vigild",
			"resources still run here after %llu ms of shutdown: leaving anyway",
			(unsigned long long)waited);
		leave_now(vd);
	}
}

void vigild_shutdown(struct vigild *vd)
{
	if (vd->shutting_down || !vd->cluster_ready || !local_running(vd)) {
		leave_now(vd);
		return;
	}
	vd->shutting_down = 1;
	vd->shutdown_started_ms = vg_loop_now_ms(vd->loop);
	vd->mship.shutting_down = 1;
	vg_logf(&vd->log, VG_LOG_NOTICE, "vigild",
		"shutting down: %zu resource(s) run here; asking the DC to move them away",
		local_running(vd));
	vg_membership_announce(&vd->mship);
	vg_dc_abort(&vd->dc, "a node is shutting down");
	vg_loop_timer_start(vd->loop, SHUTDOWN_POLL_MS, SHUTDOWN_POLL_MS, shutdown_poll, vd, NULL,
			    &vd->shutdown_timer);
}
