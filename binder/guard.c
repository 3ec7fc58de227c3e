/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The branch the host sits on: the PCI functions behind its mounted file
 * systems, its swap and its default route.  A person's commands (check,
 * cmdline and so update, bind) refuse to take them without 'force'.  At
 * boot nothing is mounted yet, so the boot never asks.
 *
 * Everything is found the way the kernel exposes it, under --root:
 * /proc/self/mountinfo gives each mount's major:minor (and its source, for
 * file systems such as btrfs that report an anonymous device),
 * /sys/dev/block/MAJ:MIN and /sys/class/block/NAME link into
 * /sys/devices/..., whose PCI components are the functions to keep; a
 * device-mapper or md device names what it sits on in slaves/.
 * /proc/net/route gives the default route's interface, and
 * /sys/class/net/IFACE links to its device, or, for a bridge, bond or VLAN,
 * names the interfaces below it as lower_NAME.
 */
#include <string.h>
#include <unistd.h>

#include "vfio-reserve.h"

#define MAX_USES   32
#define MAX_NESTING 6   /* dm on md on a partition, a VLAN on a bond, ... */

static char uses[MAX_USES][64];
static int nuses;
static int marked;              /* functions marked so far */

const char *host_use_text(const struct pci_func *f)
{
	return uses[f->host_use - 1];
}

/* Marks every PCI function named in the target of the link at `path`;
 * false when there is none (a virtual device). */
static bool mark_link(struct host *host, const char *path, uint8_t use)
{
	char target[MAX_PATHLEN], *part, *save = NULL;
	bool found = false;
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	if (n <= 0)
		return false;
	target[n] = '\0';
	for (part = strtok_r(target, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
		struct pci_func *f;
		pci_addr addr;

		if (parse_addr(part, &addr) && (f = host_find(host, addr))) {
			found = true;
			if (!f->host_use) {
				f->host_use = use;
				marked++;
			}
		}
	}
	return found;
}

/* The entries of `dir` that start with `prefix`, each marked by `mark`. */
static void mark_entries(struct host *host, const char *dir, const char *prefix,
                         uint8_t use, int depth,
                         void (*mark)(struct host *, const char *, uint8_t, int))
{
	struct dir_reader d;
	size_t len = strlen(prefix);
	const char *name;

	if (depth >= MAX_NESTING || dir_open(&d, dir) != 0)
		return;
	while ((name = dir_next(&d)))
		if (strncmp(name, prefix, len) == 0)
			mark(host, name + len, use, depth + 1);
	dir_close(&d);
}

static void mark_block(struct host *host, const char *name, uint8_t use, int depth)
{
	char path[MAX_PATHLEN], slaves[MAX_PATHLEN];

	if (root_path(path, sizeof(path), "/sys/class/block/%s", name) != 0 ||
	    mark_link(host, path, use))
		return;
	/* A partition of a dm or md device: the disk above it has slaves/. */
	if (fmt(slaves, sizeof(slaves), "%s/slaves", path) < (int)sizeof(slaves))
		mark_entries(host, slaves, "", use, depth, mark_block);
	if (fmt(slaves, sizeof(slaves), "%s/../slaves", path) < (int)sizeof(slaves))
		mark_entries(host, slaves, "", use, depth, mark_block);
}

static void mark_net(struct host *host, const char *name, uint8_t use, int depth)
{
	char path[MAX_PATHLEN];

	if (root_path(path, sizeof(path), "/sys/class/net/%s", name) == 0 &&
	    !mark_link(host, path, use))
		mark_entries(host, path, "lower_", use, depth, mark_net);
}

/* The block device's name in /sys/class/block for a /dev path: the file
 * itself, or what a link such as /dev/mapper/vg-root points to. */
static void mark_dev_path(struct host *host, const char *dev, uint8_t use)
{
	char path[MAX_PATHLEN], name[MAX_NAME];
	const char *base = strrchr(dev, '/');

	if (strncmp(dev, "/dev/", 5) != 0 || !base)
		return;
	if (root_path(path, sizeof(path), "%s", dev) == 0 &&
	    read_link_name(path, name, sizeof(name)) == 0)
		base = name;
	else
		base++;
	mark_block(host, base, use, 0);
}

/* A use is kept once it marks a function (proc, tmpfs and the like mark
 * none): start it with next_use(), end it with keep_use(). */
static uint8_t next_use(const char *format, const char *what)
{
	if (nuses == MAX_USES)
		return 0;
	fmt(uses[nuses], sizeof(uses[0]), format, what);
	return (uint8_t)(nuses + 1);
}

static void keep_use(int marked_before)
{
	if (marked > marked_before)
		nuses++;
}

/* Splits `line` in place at blanks into at most `max` fields. */
static int split(char *line, char **fields, int max)
{
	char *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(line, " \t", &save); tok && n < max; tok = strtok_r(NULL, " \t", &save))
		fields[n++] = tok;
	return n;
}

/* Reads `file` line by line into fields, handing each line to `use_line`. */
static void each_line(struct host *host, const char *file,
                      void (*use_line)(struct host *, char **, int))
{
	static struct line_reader in;
	char path[MAX_PATHLEN], line[MAX_PATHLEN], *fields[16];

	if (root_path(path, sizeof(path), "%s", file) != 0 || reader_open(&in, path) != 0)
		return;
	while (reader_line(&in, line, sizeof(line)) >= 0) {
		int before = marked;

		use_line(host, fields, split(line, fields, 16));
		keep_use(before);
	}
	reader_close(&in);
}

/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE ... */
static void mount_line(struct host *host, char **f, int n)
{
	char path[MAX_PATHLEN], name[MAX_NAME];
	uint8_t use;
	int i;

	for (i = 6; i < n - 2 && strcmp(f[i], "-") != 0; i++)
		;
	if (i >= n - 2 || !(use = next_use("holds the file system on %s", f[4])))
		return;
	if (strncmp(f[2], "0:", 2) != 0 &&
	    root_path(path, sizeof(path), "/sys/dev/block/%s", f[2]) == 0 &&
	    read_link_name(path, name, sizeof(name)) == 0)
		mark_block(host, name, use, 0);
	else
		mark_dev_path(host, f[i + 2], use);
}

/* Filename Type Size Used Priority; a swap file is on a mount already. */
static void swap_line(struct host *host, char **f, int n)
{
	uint8_t use;

	if (n > 1 && strcmp(f[1], "partition") == 0 && (use = next_use("holds swap on %s", f[0])))
		mark_dev_path(host, f[0], use);
}

/* Iface Destination Gateway Flags RefCnt Use Metric Mask ..., in hex. */
static void route_line(struct host *host, char **f, int n)
{
	uint8_t use;

	if (n > 7 && strcmp(f[1], "00000000") == 0 && strcmp(f[7], "00000000") == 0 &&
	    (use = next_use("carries the default route (%s)", f[0])))
		mark_net(host, f[0], use, 0);
}

void find_host_uses(struct host *host)
{
	nuses = marked = 0;
	each_line(host, "/proc/self/mountinfo", mount_line);
	each_line(host, "/proc/swaps", swap_line);
	each_line(host, "/proc/net/route", route_line);
}

/* Logs each function a rule takes that the running host uses: an error, or
 * a warning where the rule says 'force'.  Returns how many were refused. */
int refuse_host_uses(const struct host *host, const struct config *conf)
{
	int refused = 0, i;

	for (i = 0; i < host->nfuncs; i++) {
		const struct pci_func *f = &host->funcs[i];
		const struct rule *rule;
		char origin[MAX_PATHLEN + 16], addr[ADDR_STRLEN];

		if (f->rule < 0 || !f->host_use)
			continue;
		rule = &conf->rules[f->rule];
		rule_origin(origin, sizeof(origin), conf, rule);
		format_addr(addr, f->addr);
		logmsg(rule->force ? LOG_WARN : LOG_ERR, "%s: %s [%04x:%04x] %s: %s", origin,
		       addr, f->vendor, f->device, host_use_text(f),
		       rule->force ? "taken anyway (force)"
		                   : "the host needs it (add 'force' to take it anyway)");
		refused += !rule->force;
	}
	return refused;
}
