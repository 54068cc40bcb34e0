/* The vigilctl socket server: non-blocking, one JSON request per connection. */
#include "ctl.h"
#include "log.h"
#include "loop.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define REQUEST_MAX (64 * 1024)
#define CLIENTS_MAX 32

struct vg_ctl_client {
	struct vg_ctl *ctl;
	int fd;
	struct vg_watch *w;
	char *buf;          /* request, then response */
	size_t len, off;
	int writing;
	int authorized;
	uid_t uid;
	struct vg_ctl_client *prev, *next;
};

struct vg_ctl {
	struct vg_loop *loop;
	const struct vg_logger *log;
	char *path;
	gid_t gid;          /* (gid_t)-1: root only */
	char *group;
	int fd;
	struct vg_watch *w;
	vg_ctl_handler handler;
	void *arg;
	struct vg_ctl_client *clients;
	size_t n_clients;
};

static void client_free(struct vg_ctl_client *c)
{
	struct vg_ctl *ctl = c->ctl;

	vg_loop_fd_unwatch(ctl->loop, c->w);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctl->n_clients--;
	free(c->buf);
	free(c);
}

/* Root, or the ctl group among the caller's groups (from /proc: never blocks). */
static int caller_authorized(const struct vg_ctl *ctl, const struct ucred *cred)
{
	char path[64], line[1024];
	FILE *f;
	int ok = 0;

	if (cred->uid == 0)
		return 1;
	if (ctl->gid == (gid_t)-1)
		return 0;
	if (cred->gid == ctl->gid)
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)cred->pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!ok && fgets(line, sizeof(line), f)) {
		char *save = NULL;

		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		for (char *t = strtok_r(line + 7, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save))
			if ((gid_t)strtoul(t, NULL, 10) == ctl->gid)
				ok = 1;
	}
	fclose(f);
	return ok;
}

static json_t *refusal(const struct vg_ctl *ctl, uid_t uid)
{
	char msg[256];

	if (ctl->group)
		snprintf(msg, sizeof(msg), "permission denied: uid %u is neither root nor in group \"%s\"",
			 (unsigned)uid, ctl->group);
	else
		snprintf(msg, sizeof(msg), "permission denied: uid %u is not root", (unsigned)uid);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static void respond(struct vg_ctl_client *c)
{
	struct vg_ctl *ctl = c->ctl;
	json_error_t jerr;
	json_t *req, *resp;
	char *text;

	c->buf[c->len] = '\0';
	req = json_loads(c->buf, JSON_REJECT_DUPLICATES, &jerr);
	if (!c->authorized)
		resp = refusal(ctl, c->uid);
	else if (!req || !json_is_object(req))
		resp = json_pack("{s:b, s:s+}", "ok", 0, "error", "bad request: ",
				 req ? "expected a JSON object" : jerr.text);
	else
		resp = ctl->handler(ctl->arg, req);
	json_decref(req);
	text = json_dumps(resp, JSON_COMPACT);
	json_decref(resp);
	free(c->buf);
	c->buf = NULL;
	if (!text) {
		client_free(c);
		return;
	}
	c->len = strlen(text);
	c->buf = malloc(c->len + 2);
	if (!c->buf) {
		free(text);
		client_free(c);
		return;
	}
	memcpy(c->buf, text, c->len);
	free(text);
	c->buf[c->len++] = '\n';
	c->off = 0;
	c->writing = 1;
	vg_loop_fd_modify(ctl->loop, c->w, VG_FD_WRITE);
}

static void client_write(struct vg_ctl_client *c)
{
	while (c->off < c->len) {
		ssize_t n = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		c->off += (size_t)n;
	}
	client_free(c);
}

static void client_cb(void *arg, int fd, uint32_t events)
{
	struct vg_ctl_client *c = arg;
	ssize_t n;

	if (c->writing) {
		client_write(c);
		return;
	}
	n = recv(fd, c->buf + c->len, REQUEST_MAX - c->len, 0);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		client_free(c);
		return;
	}
	c->len += (size_t)n;
	if (memchr(c->buf + c->len - n, '\n', (size_t)n) || c->len == REQUEST_MAX)
		respond(c);
}

static void accept_cb(void *arg, int fd, uint32_t events)
{
	struct vg_ctl *ctl = arg;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct vg_ctl_client *c;
	int cfd;

	while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		c = ctl->n_clients < CLIENTS_MAX ? calloc(1, sizeof(*c)) : NULL;
		if (c)
			c->buf = malloc(REQUEST_MAX + 1);
		if (!c || !c->buf ||
		    vg_loop_fd_watch(ctl->loop, cfd, VG_FD_READ, client_cb, c, NULL, &c->w) < 0) {
			if (c)
				free(c->buf);
			free(c);
			close(cfd);
			continue;
		}
		c->ctl = ctl;
		c->fd = cfd;
		if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0) {
			c->uid = cred.uid;
			c->authorized = caller_authorized(ctl, &cred);
		}
		c->next = ctl->clients;
		if (c->next)
			c->next->prev = c;
		ctl->clients = c;
		ctl->n_clients++;
	}
}

static int ctl_listen(struct vg_ctl *ctl)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int rc;

	if (strlen(ctl->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, ctl->path);
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0)
		return -errno;
	unlink(ctl->path); /* a stale socket of a previous run */
	old = umask(0117);
	rc = bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(ctl->fd, 16) < 0)
		return -errno;
	if (chown(ctl->path, 0, ctl->gid) < 0 || chmod(ctl->path, 0660) < 0)
		return -errno;
	return 0;
}

int vg_ctl_start(struct vg_loop *loop, const struct vg_logger *log, const char *path,
		 const char *group, vg_ctl_handler handler, void *arg, struct vg_ctl **out)
{
	struct vg_ctl *ctl = calloc(1, sizeof(*ctl));
	struct group *gr;
	int rc = -ENOMEM;

	if (!ctl)
		return -ENOMEM;
	*ctl = (struct vg_ctl){ .loop = loop, .log = log, .gid = (gid_t)-1, .fd = -1,
				.handler = handler, .arg = arg };
	ctl->path = strdup(path);
	ctl->group = group ? strdup(group) : NULL;
	if (!ctl->path || (group && !ctl->group))
		goto fail;
	if (group) {
		/* Looked up once at start-up, before the loop runs. */
		gr = getgrnam(group);
		if (!gr) {
			vg_logf(log, VG_LOG_ERR, "ctl", "ctl.group \"%s\": no such group", group);
			rc = -ENOENT;
			goto fail;
		}
		ctl->gid = gr->gr_gid;
	}
	rc = ctl_listen(ctl);
	if (rc == 0)
		rc = vg_loop_fd_watch(loop, ctl->fd, VG_FD_READ, accept_cb, ctl, NULL, &ctl->w);
	if (rc < 0) {
		vg_logf(log, VG_LOG_ERR, "ctl", "cannot listen on %s: %s", path, strerror(-rc));
		goto fail;
	}
	vg_logf(log, VG_LOG_INFO, "ctl", "listening on %s (mode 0660, group %s)", path,
		group ? group : "root");
	*out = ctl;
	return 0;
fail:
	vg_ctl_stop(ctl);
	return rc;
}

void vg_ctl_stop(struct vg_ctl *ctl)
{
	if (!ctl)
		return;
	while (ctl->clients)
		client_free(ctl->clients);
	vg_loop_fd_unwatch(ctl->loop, ctl->w);
	if (ctl->fd >= 0) {
		close(ctl->fd);
		unlink(ctl->path);
	}
	free(ctl->path);
	free(ctl->group);
	free(ctl);
}
