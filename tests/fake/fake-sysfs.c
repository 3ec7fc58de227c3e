/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-sysfs: drives tests/fake/kernel.c from the shell, for its self-tests
 * (tests/lib/fixture-selftest.bats), through the binder's own helpers, in one
 * process as the binder is (an asynchronous bind lives as long as it):
 *
 *   fake-sysfs ROOT OPERATION...
 *     write PATH VALUE    as the binder's write_attr
 *     readlink PATH       as its read_link_name: prints the last component
 *                         of the target, or an empty line for no link
 *
 * PATH is relative to ROOT.  The first operation that fails prints the
 * errno's name (ENODEV) and exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vfio-reserve.h"

static int failed(void)
{
	static const struct { const char *name; int value; } names[] = {
		{ "EACCES", EACCES }, { "EROFS", EROFS }, { "ENODEV", ENODEV },
		{ "ENOENT", ENOENT }, { "EBUSY", EBUSY }, { "EIO", EIO },
		{ "EINVAL", EINVAL }, { "EPERM", EPERM },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].value == errno) {
			printf("%s\n", names[i].name);
			return 1;
		}
	printf("errno %d\n", errno);
	return 1;
}

int main(int argc, char **argv)
{
	char path[MAX_PATHLEN], name[MAX_NAME];
	int i = 2;

	if (argc < 3)
		goto usage;
	sys_root = argv[1];
	while (i < argc) {
		if (strcmp(argv[i], "write") == 0 && i + 2 < argc) {
			snprintf(path, sizeof(path), "%s/%s", sys_root, argv[i + 1]);
			if (write_attr(path, argv[i + 2]) != 0)
				return failed();
			i += 3;
		} else if (strcmp(argv[i], "readlink") == 0 && i + 1 < argc) {
			snprintf(path, sizeof(path), "%s/%s", sys_root, argv[i + 1]);
			if (read_link_name(path, name, sizeof(name)) == 0)
				printf("%s\n", name);
			else if (errno == ENOENT)
				printf("\n");
			else
				return failed();
			i += 2;
		} else {
			goto usage;
		}
	}
	return 0;
usage:
	fprintf(stderr, "usage: fake-sysfs ROOT {write PATH VALUE | readlink PATH}...\n");
	return 2;
}
