/* vigilctl's side of the socket. */
#include "ctl_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define ANSWER_MAX (4 * 1024 * 1024)
#define TIMEOUT_MS 5000

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vigilctl: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		if (e == EACCES || e == EPERM)
			fprintf(stderr, "vigilctl: permission denied on %s: run as root or as a member of the group vigild's ctl.group names\n",
				path);
		else if (e == ENOENT || e == ECONNREFUSED)
			fprintf(stderr, "vigilctl: cannot reach vigild at %s: %s (is vigild running? -s PATH names another socket)\n",
				path, strerror(e));
		else
			fprintf(stderr, "vigilctl: %s: %s\n", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static char *read_answer(int fd)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap + 1);
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (buf && len < ANSWER_MAX) {
		ssize_t n;

		if (poll(&p, 1, TIMEOUT_MS) <= 0) {
			fprintf(stderr, "vigilctl: vigild did not answer within %d ms\n", TIMEOUT_MS);
			free(buf);
			return NULL;
		}
		if (len == cap) {
			char *nb = realloc(buf, cap * 2 + 1);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

int vg_ctl_request(const char *path, json_t *request, json_t **response)
{
	char *text = json_dumps(request, JSON_COMPACT), *answer = NULL;
	json_error_t err;
	int fd = -1, rc = 1;

	json_decref(request);
	if (!text)
		return 1;
	fd = connect_to(path);
	if (fd < 0)
		goto out;
	if (dprintf(fd, "%s\n", text) < 0) {
		fprintf(stderr, "vigilctl: sending to %s: %s\n", path, strerror(errno));
		goto out;
	}
	answer = read_answer(fd);
	if (!answer)
		goto out;
	*response = json_loads(answer, 0, &err);
	if (!*response) {
		fprintf(stderr, "vigilctl: unreadable answer from vigild: %s\n", err.text);
		goto out;
	}
	rc = 0;
out:
	free(answer);
	free(text);
	if (fd >= 0)
		close(fd);
	return rc;
}
