// SPDX-License-Identifier: GPL-2.0
/*
 * Output files; see check/outfile.h for the rules.  Like fopen(name, "w")
 * in what ends up where, except that a regular file is replaced whole, by
 * rename(2), only once its contents are on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check/outfile.h"

#define OUTFILE_MAX_LINKS 40	/* as the kernel's MAXSYMLINKS */

static int out_error(struct outfile *o, int e, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s: ", o->name[0] ? o->name : "''");

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
	return -e;
}

/* The directory part of path ("." for a bare name) into dir. */
static int dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return snprintf(dir, len, ".") >= (int)len ? -ENAMETOOLONG : 0;
	if (slash == path)
		return snprintf(dir, len, "/") >= (int)len ? -ENAMETOOLONG : 0;
	if ((size_t)(slash - path) >= len)
		return -ENAMETOOLONG;
	memcpy(dir, path, slash - path);
	dir[slash - path] = 0;
	return 0;
}

/*
 * Follow symlinks from o->path until it names something that is not a
 * link, or nothing (st->st_mode is then 0).  A relative link is taken
 * relative to the link's own directory, as the kernel does.
 */
static int follow_links(struct outfile *o, struct stat *st)
{
	char target[PATH_MAX], dir[PATH_MAX];

	for (int hops = 0; hops <= OUTFILE_MAX_LINKS; hops++) {
		ssize_t n;

		if (lstat(o->path, st)) {
			if (errno != ENOENT)
				return -errno;
			st->st_mode = 0;
			return 0;
		}
		if (!S_ISLNK(st->st_mode))
			return 0;
		n = readlink(o->path, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = 0;
		if (target[0] == '/') {
			memcpy(o->path, target, n + 1);
			continue;
		}
		if (dir_of(o->path, dir, sizeof(dir)) ||
		    snprintf(o->path, sizeof(o->path), "%s/%s", dir, target) >= (int)sizeof(o->path))
			return -ENAMETOOLONG;
	}
	return -ELOOP;
}

static mode_t current_umask(void)
{
	mode_t m = umask(0);

	umask(m);
	return m;
}

/* A temporary beside o->path, to be renamed onto it by outfile_close(). */
static int open_temporary(struct outfile *o)
{
	char dir[PATH_MAX];
	const char *base = strrchr(o->path, '/');
	struct stat st;
	int fd;

	base = base ? base + 1 : o->path;
	if (dir_of(o->path, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	if (stat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (!*base)
		return -EISDIR;	/* "dir/" */
	if (snprintf(o->tmp, sizeof(o->tmp), "%s/.%s.XXXXXX", dir, base) >= (int)sizeof(o->tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0) {
		o->tmp[0] = 0;
		return -errno;
	}
	o->f = fdopen(fd, "w");
	if (!o->f) {
		int e = errno;

		close(fd);
		unlink(o->tmp);
		o->tmp[0] = 0;
		return -e;
	}
	return 0;
}

/* Anything that is not replaced: written where it is, as fopen("w") would. */
static int open_in_place(struct outfile *o)
{
	int fd = open(o->path, O_WRONLY | O_TRUNC | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	o->f = fdopen(fd, "w");
	if (!o->f) {
		int e = errno;

		close(fd);
		return -e;
	}
	return 0;
}

int outfile_open(struct outfile *o, const char *name, char *err, size_t errlen)
{
	struct stat st;
	int r;

	memset(o, 0, sizeof(*o));
	if (snprintf(o->name, sizeof(o->name), "%s", name) >= (int)sizeof(o->name) ||
	    snprintf(o->path, sizeof(o->path), "%s", name) >= (int)sizeof(o->path))
		return out_error(o, ENAMETOOLONG, err, errlen, "%s", strerror(ENAMETOOLONG));
	if (!*name)
		return out_error(o, EINVAL, err, errlen, "empty file name");
	if (!strcmp(name, "-")) {
		int fd = dup(STDOUT_FILENO);

		if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
			r = errno;
			if (fd >= 0)
				close(fd);
			return out_error(o, r, err, errlen, "standard output: %s", strerror(r));
		}
		o->std = true;
		return 0;
	}
	r = follow_links(o, &st);
	if (r)
		return out_error(o, -r, err, errlen, "%s", strerror(-r));
	if (S_ISDIR(st.st_mode))
		return out_error(o, EISDIR, err, errlen, "is a directory");
	if (st.st_mode && (!S_ISREG(st.st_mode) || st.st_nlink > 1)) {
		r = open_in_place(o);
		if (r)
			return out_error(o, -r, err, errlen, "%s", strerror(-r));
		return 0;
	}
	if (!st.st_mode) {
		o->mode = 0666 & ~current_umask();
	} else {
		if (access(o->path, W_OK))	/* as fopen() would refuse */
			return out_error(o, errno, err, errlen, "%s", strerror(errno));
		o->mode = st.st_mode & 07777;
		o->uid = st.st_uid;
		o->gid = st.st_gid;
		o->keep_owner = true;
	}
	r = open_temporary(o);
	if (r) {
		char dir[PATH_MAX];

		dir_of(o->path, dir, sizeof(dir));
		return out_error(o, -r, err, errlen, "cannot create a file in '%s': %s", dir, strerror(-r));
	}
	return 0;
}

/* Make the rename itself durable. */
static void sync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	int fd;

	if (dir_of(path, dir, sizeof(dir)))
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int outfile_close(struct outfile *o, char *err, size_t errlen)
{
	int e = 0, fd;

	if (!o->f)
		return 0;
	fd = fileno(o->f);
	errno = 0;
	if (fflush(o->f) || ferror(o->f))
		e = errno ? errno : EIO;
	if (!e && o->tmp[0]) {
		if (fchmod(fd, o->mode))
			e = errno;
		/* Replacing someone else's file as root: it stays theirs. */
		else if (o->keep_owner && (o->uid != geteuid() || o->gid != getegid()) &&
			 fchown(fd, o->uid, o->gid) && errno != EPERM)
			e = errno;
		else if (fsync(fd))
			e = errno;
	}
	if (fclose(o->f) && !e)
		e = errno;
	o->f = NULL;
	if (o->tmp[0]) {
		if (!e && rename(o->tmp, o->path))
			e = errno;
		if (e)
			unlink(o->tmp);
		else
			sync_dir_of(o->path);
		o->tmp[0] = 0;
	}
	if (e)
		return out_error(o, e, err, errlen, "%s", strerror(e));
	return 0;
}

void outfile_abort(struct outfile *o)
{
	if (!o->f)
		return;
	fclose(o->f);
	o->f = NULL;
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = 0;
}
