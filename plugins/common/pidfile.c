/* The pidfile and /proc (see pidfile.h). */
#include "pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Read a small file whole, NUL-terminated.  Returns the length or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, len - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

int proc_pidfile_read(const char *path, struct proc_ident *id)
{
	char buf[128], *end;
	long pid;
	ssize_t n;

	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno || end == buf || pid <= 1 || pid > 0x3fffffff)
		return -EINVAL;
	id->pid = (pid_t)pid;
	id->start_time = strtoull(end, NULL, 10);
	return 0;
}

int proc_pidfile_write(const char *path, const struct proc_ident *id)
{
	char tmp[4096 + 8], line[64];
	int fd, len, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	len = snprintf(line, sizeof(line), "%d %llu\n", (int)id->pid, id->start_time);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, line, (size_t)len) != len)
		rc = errno ? -errno : -EIO;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int proc_pidfile_remove(const char *path)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int proc_stat_read(pid_t pid, char *state, unsigned long long *start_time)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	n = read_small(path, buf, sizeof(buf));
	if (n == -ENOENT)
		return -ESRCH;
	if (n < 0)
		return (int)n;
	/* comm (field 2) may hold spaces and parentheses: skip to the last ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EINVAL;
	p += 2;
	*state = *p;
	/* p is at field 3 (state); field 22 is starttime. */
	for (field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p)
		return -EINVAL;
	*start_time = strtoull(p, NULL, 10);
	return 0;
}

int proc_is_alive(const struct proc_ident *id)
{
	unsigned long long start;
	char state;
	int rc;

	rc = proc_stat_read(id->pid, &state, &start);
	if (rc == -ESRCH)
		return 0;
	if (rc < 0) /* no /proc to read: trust the pid alone */
		return kill(id->pid, 0) == 0 || errno == EPERM;
	/* A zombie whose parent does not reap it is gone for us. */
	if (state == 'Z' || state == 'X' || state == 'x')
		return 0;
	return id->start_time == 0 || id->start_time == start;
}

void proc_log_tail(const char *path, char *buf, size_t len)
{
	struct stat st;
	char *nl;
	off_t from;
	ssize_t n;
	int fd;

	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;
	from = st.st_size > (off_t)(len - 1) ? st.st_size - (off_t)(len - 1) : 0;
	n = pread(fd, buf, len - 1, from);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	/* Cut in the middle of a line: start at the next whole one. */
	nl = from > 0 ? strchr(buf, '\n') : NULL;
	if (nl)
		memmove(buf, nl + 1, strlen(nl + 1) + 1);
out:
	close(fd);
}
