/*
 * vigil-repld control socket: a UNIX stream socket, one command per line,
 * one reply line per command: "ok ..." or "err <errno> <message>".
 *
 *   status            ok role=.. peer_role=.. disk=.. peer_disk=.. conn=..
 *                     split_brain=0|1 size=N oos=N sync_total=N sync_done=N
 *                     resynced=N gen=C:B:H0:H1 clients=N
 *   promote [force]   refused with -EPERM unless the disk is up-to-date
 *   demote            refused with -EBUSY while an NBD client is connected
 *   connect           (re)start connecting; clears a reported split brain
 *   disconnect        standalone until connect
 *   verify            start an online verify: ok verify_id=N; its progress
 *                     and result are in status (verify=none|running|done|
 *                     failed verify_id verify_total verify_done verify_diff
 *                     verify_regions verify_offsets=OFF,OFF,...|-)
 */
#include "repl.h"
#include "repl_wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CTL_LINE_MAX 256

static const char *const verify_names[] = { "none", "running", "done", "failed" };

/* " verify=... verify_offsets=..." (called with r->lock held). */
static void verify_fields(struct repl *r, char *buf, size_t len)
{
	size_t n;

	n = (size_t)snprintf(buf, len, " verify=%s verify_id=%llu verify_total=%llu verify_done=%llu "
			     "verify_diff=%llu verify_regions=%llu verify_offsets=",
			     verify_names[r->verify_state], (unsigned long long)r->verify_id,
			     (unsigned long long)r->verify_total, (unsigned long long)r->verify_done,
			     (unsigned long long)r->verify_diff, (unsigned long long)r->verify_regions);
	for (uint64_t i = 0; i < r->verify_regions && i < REPL_VERIFY_LIST && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%llu", i ? "," : "",
				      (unsigned long long)r->verify_offs[i]);
	if (r->verify_regions == 0 && n < len)
		snprintf(buf + n, len - n, "-");
}

void repl_status_line(struct repl *r, char *buf, size_t len)
{
	const uint64_t *g = r->md.gen;
	char vf[320];

	pthread_mutex_lock(&r->lock);
	verify_fields(r, vf, sizeof(vf));
	snprintf(buf, len,
		 "ok role=%s peer_role=%s disk=%s peer_disk=%s conn=%s split_brain=%d size=%llu "
		 "oos=%llu sync_total=%llu sync_done=%llu resynced=%llu "
		 "gen=%016llx:%016llx:%016llx:%016llx clients=%d protocol=%c after_sb=%s crashed=%d%s\n",
		 repl_role_name(r->role), repl_role_name(r->peer_role), repl_disk_name(r->md.disk),
		 repl_disk_name(r->peer_disk), repl_conn_name(r->conn), r->split_brain,
		 (unsigned long long)r->md.size,
		 (unsigned long long)(r->dirty_bits * REPL_REGION_SIZE),
		 (unsigned long long)r->sync_total, (unsigned long long)r->sync_done,
		 (unsigned long long)r->resynced_total, (unsigned long long)g[0],
		 (unsigned long long)g[1], (unsigned long long)g[2], (unsigned long long)g[3],
		 r->nbd_clients, r->conf.protocol, repl_sb_policy_name(r->conf.after_sb),
		 !!(r->md.flags & REPL_MF_CRASHED), vf);
	pthread_mutex_unlock(&r->lock);
}

static void send_state(struct repl *r)
{
	uint64_t v;
	int up;

	pthread_mutex_lock(&r->lock);
	v = (uint64_t)r->role << 32 | r->md.disk;
	up = r->session_up;
	pthread_mutex_unlock(&r->lock);
	if (up && repl_send(r, REPL_MSG_STATE, 0, v, NULL, 0) < 0)
		repl_session_fail(r, "send failed");
}

/* Called with r->lock held.  *rehandshake: the peer must learn our new generation. */
static int promote_locked(struct repl *r, int force, const char **why, int *rehandshake)
{
	struct timespec now;

	if (r->role == VG_REPL_ROLE_PRIMARY)
		return 0;
	if (force && r->md.disk != VG_REPL_DISK_UPTODATE) {
		repl_log(r, "ctl: forced promotion: declaring the %s disk up-to-date",
			 repl_disk_name(r->md.disk));
		r->md.disk = VG_REPL_DISK_UPTODATE;
		if (r->md.gen[REPL_GEN_CURRENT] == REPL_GEN_JUST_CREATED)
			r->md.gen[REPL_GEN_CURRENT] = repl_gen_new();
		*rehandshake = r->session_up;
	}
	if (r->md.disk != VG_REPL_DISK_UPTODATE) {
		*why = "the local disk is not up-to-date";
		return -EPERM;
	}
	if (r->session_up && r->peer_role == VG_REPL_ROLE_PRIMARY) {
		*why = "the peer is primary";
		return -EBUSY;
	}
	r->role = VG_REPL_ROLE_PRIMARY;
	r->md.flags |= REPL_MF_PRIMARY;
	r->md.flags &= ~REPL_MF_CRASHED; /* what it writes now is acknowledged: keep it */
	clock_gettime(CLOCK_REALTIME, &now);
	r->md.promoted_ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
	repl_log(r, "ctl: role primary");
	return repl_meta_save(r);
}

static int cmd_promote(struct repl *r, int force, const char **why)
{
	int rc, rehandshake = 0;

	pthread_mutex_lock(&r->lock);
	rc = promote_locked(r, force, why, &rehandshake);
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	if (rehandshake)
		repl_session_fail(r, "forced promotion: handshake again");
	else if (rc == 0)
		send_state(r);
	return rc;
}

static int cmd_demote(struct repl *r, const char **why)
{
	int rc = 0;

	pthread_mutex_lock(&r->lock);
	if (r->role == VG_REPL_ROLE_PRIMARY && r->nbd_clients > 0) {
		*why = "an NBD client has the store open";
		rc = -EBUSY;
	} else if (r->role == VG_REPL_ROLE_PRIMARY) {
		r->role = VG_REPL_ROLE_SECONDARY;
		r->md.flags &= ~REPL_MF_PRIMARY;
		rc = repl_meta_save(r);
		repl_log(r, "ctl: role secondary");
	}
	pthread_mutex_unlock(&r->lock);
	if (rc == 0)
		send_state(r);
	return rc;
}

static void cmd_connect(struct repl *r, int on)
{
	pthread_mutex_lock(&r->lock);
	r->want_connect = on;
	if (on)
		r->split_brain = 0;
	r->conn = on ? VG_REPL_CONN_CONNECTING : VG_REPL_CONN_STANDALONE;
	repl_log(r, "ctl: %s", on ? "connect" : "disconnect: standalone");
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	if (!on)
		repl_session_fail(r, "disconnect requested");
}

static void ctl_command(struct repl *r, char *line, char *out, size_t len)
{
	const char *why = "";
	int rc = 0;

	line[strcspn(line, "\r\n")] = '\0';
	if (strcmp(line, "status") == 0) {
		repl_status_line(r, out, len);
		return;
	} else if (strcmp(line, "promote") == 0 || strcmp(line, "promote force") == 0) {
		rc = cmd_promote(r, line[7] != '\0', &why);
	} else if (strcmp(line, "demote") == 0) {
		rc = cmd_demote(r, &why);
	} else if (strcmp(line, "connect") == 0 || strcmp(line, "disconnect") == 0) {
		cmd_connect(r, line[0] == 'c');
	} else if (strcmp(line, "verify") == 0) {
		uint64_t id = 0;

		rc = repl_verify_start(r, &id, &why);
		if (rc == 0) {
			snprintf(out, len, "ok verify_id=%llu\n", (unsigned long long)id);
			return;
		}
	} else {
		rc = -EINVAL;
		why = "unknown command (status, promote [force], demote, connect, disconnect, verify)";
	}
	if (rc < 0)
		snprintf(out, len, "err %d %s\n", rc, why[0] ? why : strerror(-rc));
	else
		snprintf(out, len, "ok\n");
}

static void *ctl_client(void *arg)
{
	struct repl *r = *(struct repl **)arg;
	int fd = *(int *)((struct repl **)arg + 1);
	char line[CTL_LINE_MAX], out[1024];
	size_t n = 0;
	ssize_t got;

	free(arg);
	for (;;) {
		got = read(fd, line + n, 1);
		if (got <= 0)
			break;
		if (line[n] != '\n' && ++n < sizeof(line) - 1)
			continue;
		line[n + (line[n] == '\n')] = '\0';
		ctl_command(r, line, out, sizeof(out));
		if (repl_full_write(fd, out, strlen(out)) < 0)
			break;
		n = 0;
	}
	close(fd);
	return NULL;
}

static int ctl_listen(struct repl *r)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(r->conf.ctl) >= sizeof(un.sun_path))
		return -ENAMETOOLONG;
	strcpy(un.sun_path, r->conf.ctl);
	unlink(un.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0 || chmod(un.sun_path, 0600) < 0 ||
	    listen(fd, 8) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

/* Serve the control socket forever, one thread per client. */
int repl_ctl_serve(struct repl *r)
{
	int lfd = ctl_listen(r), fd;
	pthread_t t;
	void **arg;

	if (lfd < 0) {
		repl_log(r, "ctl: cannot listen on %s: %s", r->conf.ctl, strerror(-lfd));
		return lfd;
	}
	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		arg = malloc(2 * sizeof(void *));
		if (!arg) {
			close(fd);
			continue;
		}
		arg[0] = r;
		*(int *)(arg + 1) = fd;
		if (pthread_create(&t, NULL, ctl_client, arg) != 0) {
			free(arg);
			close(fd);
			continue;
		}
		pthread_detach(t);
	}
	return 0;
}
