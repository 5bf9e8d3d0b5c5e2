/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Output files (--json, --trace): opened before the work starts, so that a
 * bad path is an input error and nothing is explored, and written so that a
 * reader never sees half a file and nothing but the named file is touched.
 *
 *   "-"                          standard output
 *   a regular file, or a name    a temporary in the same directory, fsynced,
 *   that does not exist yet      then renamed onto the name, with the mode
 *                                (and owner) the file had, or for a new file
 *                                the mode fopen() gives under the umask
 *   a symlink                    followed; its final target is what is written
 *   a device, FIFO or socket,    opened and written in place, never replaced
 *   or a regular file with
 *   other hard links
 *   a directory, an empty name   an error
 */
#ifndef KVMLAB_CHECK_OUTFILE_H
#define KVMLAB_CHECK_OUTFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct outfile {
	FILE *f;		/* write here; NULL when not open */
	char name[PATH_MAX];	/* as given, for messages */
	char path[PATH_MAX];	/* the file written: symlinks followed */
	char tmp[PATH_MAX];	/* temporary renamed onto path; "" when written in place */
	mode_t mode;		/* path's mode after the rename */
	uid_t uid;		/* path's owner after the rename (an existing file's) */
	gid_t gid;
	bool keep_owner;	/* replacing an existing file: give it its owner back */
	bool std;		/* standard output */
};

/*
 * Open 'name' for writing as described above.  0, or -errno with one line
 * "NAME: reason" in err (nothing is left behind).
 */
int outfile_open(struct outfile *o, const char *name, char *err, size_t errlen);
/*
 * Finish: flush, fsync and rename into place (or flush a file written in
 * place).  0, or -errno with "NAME: reason" in err; on error the temporary
 * is removed and the file named is as it was.
 */
int outfile_close(struct outfile *o, char *err, size_t errlen);
/* Give up: close and remove the temporary; the file named is as it was. */
void outfile_abort(struct outfile *o);

#endif
