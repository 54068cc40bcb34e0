/*
 * The cluster key file: the secret every frame's HMAC is keyed with.
 * Refused unless only its owner can read it, like ssh refuses a private
 * key that others can read.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define KEYFILE_MIN_BYTES 32   /* 256 bits, the HMAC-SHA-256 block of entropy */
#define KEYFILE_MAX_BYTES 4096

static int keyfile_check(const char *path, const struct stat *st, char *errbuf, size_t errlen)
{
	if (!S_ISREG(st->st_mode)) {
		snprintf(errbuf, errlen, "%s: key file must be a regular file, got %s", path,
			 S_ISDIR(st->st_mode) ? "a directory" : "a special file");
		return -EINVAL;
	}
	if (st->st_mode & 077) {
		snprintf(errbuf, errlen,
			 "%s: key file is readable by group or others (mode 0%03o); expected mode 0600 or 0400",
			 path, (unsigned int)(st->st_mode & 0777));
		return -EPERM;
	}
	if (st->st_size < KEYFILE_MIN_BYTES || st->st_size > KEYFILE_MAX_BYTES) {
		snprintf(errbuf, errlen, "%s: key file must be %d..%d bytes, got %lld bytes", path,
			 KEYFILE_MIN_BYTES, KEYFILE_MAX_BYTES, (long long)st->st_size);
		return -EINVAL;
	}
	return 0;
}

static int keyfile_read_all(int fd, unsigned char *buf, size_t len)
{
	size_t done = 0;
	ssize_t got;

	while (done < len) {
		got = read(fd, buf + done, len - done);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			return -EIO; /* shrank while read */
		done += got;
	}
	return 0;
}

int vg_keyfile_read(const char *path, unsigned char **key, size_t *len, char *errbuf, size_t errlen)
{
	unsigned char *buf = NULL;
	struct stat st;
	int fd, rc;

	*key = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		rc = -errno;
		snprintf(errbuf, errlen, "%s: cannot open key file: %s%s", path, strerror(-rc),
			 rc == -ELOOP ? " (symbolic links are refused)" : "");
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(errbuf, errlen, "%s: cannot stat key file: %s", path, strerror(-rc));
		goto out;
	}
	rc = keyfile_check(path, &st, errbuf, errlen);
	if (rc)
		goto out;
	buf = malloc(st.st_size);
	rc = buf ? keyfile_read_all(fd, buf, st.st_size) : -ENOMEM;
	if (rc) {
		snprintf(errbuf, errlen, "%s: cannot read key file: %s", path, strerror(-rc));
		goto out;
	}
	*key = buf;
	*len = st.st_size;
	buf = NULL;
out:
	if (buf)
		explicit_bzero(buf, st.st_size);
	free(buf);
	close(fd);
	return rc;
}
