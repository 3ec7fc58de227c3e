/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What both front ends, the binder (main.c) and the host's reports
 * (reports/main.c), do with their command line alike. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "vfio-reserve.h"

int usage_error(const char *format, const char *arg)
{
	char text[256];

	fmt(text, sizeof(text), format, arg);
	logmsg(LOG_ERR, "%s (see 'vfio-reserve --help')", text);
	return EXIT_USAGE;
}

/* --root DIR or VFIO_RESERVE_ROOT (`name`): a directory.  An empty one is
 * refused, not taken for the running system. */
int set_root(const char *root, const char *name)
{
	static char root_buf[MAX_PATHLEN];
	char why[MAX_PATHLEN + 64];
	struct stat st;
	size_t len;

	if (!root)
		return EXIT_OK;
	len = strlen(root);
	if (len == 0)
		fmt(why, sizeof(why), "%s: empty path", name);
	else if (stat(root, &st) != 0)
		fmt(why, sizeof(why), "%s: %s: %s", name, root, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		fmt(why, sizeof(why), "%s: %s: not a directory", name, root);
	else if (len >= sizeof(root_buf))
		fmt(why, sizeof(why), "%s: path too long", name);
	else {
		while (len > 1 && root[len - 1] == '/')
			len--;
		memcpy(root_buf, root, len);
		root_buf[len] = '\0';
		sys_root = strcmp(root_buf, "/") == 0 ? "" : root_buf;
		return EXIT_OK;
	}
	return usage_error("%s", why);
}
