/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The branch the host sits on: the PCI functions behind its mounted file
 * systems, its swap and its network.  Selection (select.c) keeps them for
 * the host unless a rule says 'force', for every invocation but one: at boot
 * (apply --boot) nothing is mounted yet, so the boot never asks.  A
 * person's commands refuse to act on such a rule (check fails, cmdline and
 * so update, apply and bind write nothing); an image build leaves the rule
 * out of the image (image).
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
#include <stdlib.h>
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

static void mark_net(struct host *host, const char *name, uint8_t use, int depth);
static void mark_route_to(struct host *host, const char *ip, uint8_t use);

/* The component of `target` that is `prefix` and a number, copied to `buf`
 * ("nvme-subsys0", not "nvme-subsystem"). */
static bool component(const char *target, const char *prefix, char *buf, size_t size)
{
	size_t plen = strlen(prefix), len;
	const char *p;

	for (p = strstr(target, prefix); p; p = strstr(p + 1, prefix))
		if ((p == target || p[-1] == '/') && p[plen] >= '0' && p[plen] <= '9')
			break;
	if (!p)
		return false;
	len = strcspn(p, "/");
	if (len >= size)
		return false;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return true;
}

/* A disk with no PCI component in its path: an NVMe multipath head lives
 * under its subsystem (/sys/devices/virtual/nvme-subsystem/nvme-subsysN),
 * which links each of its controllers by name (nvme_init_subsystem() in
 * drivers/nvme/host/core.c); an iSCSI disk sits under its session, whose
 * connection names the target's address, reached through a NIC. */
static void mark_virtual_block(struct host *host, const char *path, uint8_t use)
{
	char target[MAX_PATHLEN], name[MAX_NAME], dir[MAX_PATHLEN], link[MAX_PATHLEN];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	struct dir_reader d;
	const char *entry;

	if (n <= 0)
		return;
	target[n] = '\0';
	if (component(target, "nvme-subsys", name, sizeof(name)) &&
	    root_path(dir, sizeof(dir), "/sys/class/nvme-subsystem/%s", name) == 0 &&
	    dir_open(&d, dir) == 0) {
		while ((entry = dir_next(&d)))
			if (strncmp(entry, "nvme", 4) == 0 &&
			    fmt(link, sizeof(link), "%s/%s", dir, entry) < (int)sizeof(link))
				mark_link(host, link, use);
		dir_close(&d);
	}
	if (component(target, "session", name, sizeof(name)) &&
	    root_path(dir, sizeof(dir), "/sys/class/iscsi_connection") == 0 &&
	    dir_open(&d, dir) == 0) {
		/* connectionSID:CID belongs to sessionSID. */
		size_t len = strlen(name + 7);

		while ((entry = dir_next(&d))) {
			char address[64];

			if (strncmp(entry, "connection", 10) != 0 ||
			    strncmp(entry + 10, name + 7, len) != 0 || entry[10 + len] != ':' ||
			    fmt(link, sizeof(link), "%s/%s/address", dir, entry) >= (int)sizeof(link) ||
			    read_attr(link, address, sizeof(address)) != 0)
				continue;
			mark_route_to(host, address, use);
		}
		dir_close(&d);
	}
}

static void mark_block(struct host *host, const char *name, uint8_t use, int depth)
{
	char path[MAX_PATHLEN], slaves[MAX_PATHLEN];

	if (root_path(path, sizeof(path), "/sys/class/block/%s", name) != 0 ||
	    mark_link(host, path, use))
		return;
	mark_virtual_block(host, path, use);
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

/* The interface the IPv4 routing table sends `ip` through: the matching
 * route with the longest mask.  /proc/net/route prints addresses as the
 * kernel holds them (network order, printed as a native number), so the
 * address is packed the same way. */
static void mark_route_to(struct host *host, const char *ip, uint8_t use)
{
	static struct line_reader in;
	char path[MAX_PATHLEN], line[256], best[MAX_NAME] = "";
	uint8_t bytes[4];
	uint32_t addr, best_mask = 0;
	const char *p = ip;
	int i;

	for (i = 0; i < 4; i++) {
		char part[4];
		size_t len = strspn(p, "0123456789");
		uint32_t v;

		if (len == 0 || len > 3 || p[len] != (i < 3 ? '.' : p[len]))
			return;
		memcpy(part, p, len);
		part[len] = '\0';
		if (!parse_number(part, 10, &v) || v > 255)
			return;
		bytes[i] = (uint8_t)v;
		p += len + (i < 3);
	}
	memcpy(&addr, bytes, 4);
	if (root_path(path, sizeof(path), "/proc/net/route") != 0 || reader_open(&in, path) != 0)
		return;
	while (reader_line(&in, line, sizeof(line)) >= 0) {
		char *f[8], *save = NULL;
		uint32_t dest, mask;
		int n = 0;

		for (f[n] = strtok_r(line, " \t", &save); f[n] && n < 7;)
			f[++n] = strtok_r(NULL, " \t", &save);
		if (n < 7 || !f[7] || !parse_hex(f[1], 8, &dest) || !parse_hex(f[7], 8, &mask))
			continue;
		if ((addr & mask) == dest && (!best[0] || __builtin_popcount(mask) >
		                                          __builtin_popcount(best_mask))) {
			fmt(best, sizeof(best), "%s", f[0]);
			best_mask = mask;
		}
	}
	reader_close(&in);
	if (best[0])
		mark_net(host, best, use, 0);
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

/* The member disks of ZFS pool `pool`: zpool where it is installed, else
 * what udev recorded of each disk (blkid names a member's pool as its
 * label).  Under --root only VFIO_RESERVE_ZPOOL is run, never the host's. */
static char last_pool[MAX_NAME];

static void mark_zfs_pool(struct host *host, const char *pool, uint8_t use)
{
	static struct line_reader in;
	const char *zpool = getenv("VFIO_RESERVE_ZPOOL");
	char *argv[] = { zpool ? (char *)zpool : "zpool", "list", "-vHP", (char *)pool, NULL };
	char text[8192], path[MAX_PATHLEN], line[256], label[MAX_NAME + 16];
	char *tok, *save = NULL;
	struct dir_reader d;
	const char *entry;

	/* Every dataset of a pool is a mount of its own: ask once a pool. */
	if (strcmp(pool, last_pool) == 0)
		return;
	fmt(last_pool, sizeof(last_pool), "%s", pool);
	if (zpool || !sys_root[0]) {
		program_output(argv, text, sizeof(text));
		for (tok = strtok_r(text, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save))
			mark_dev_path(host, tok, use);
	}
	fmt(label, sizeof(label), "E:ID_FS_LABEL=%s", pool);
	if (root_path(path, sizeof(path), "/run/udev/data") != 0 || dir_open(&d, path) != 0)
		return;
	while ((entry = dir_next(&d))) {
		char file[MAX_PATHLEN];
		bool member = false, named = false;

		if (entry[0] != 'b' ||
		    fmt(file, sizeof(file), "%s/%s", path, entry) >= (int)sizeof(file) ||
		    reader_open(&in, file) != 0)
			continue;
		while (reader_line(&in, line, sizeof(line)) >= 0) {
			member |= strcmp(line, "E:ID_FS_TYPE=zfs_member") == 0;
			named |= strcmp(line, label) == 0;
		}
		reader_close(&in);
		if (member && named &&
		    root_path(file, sizeof(file), "/sys/dev/block/%s", entry + 1) == 0 &&
		    read_link_name(file, line, sizeof(line)) == 0)
			mark_block(host, line, use, 0);
	}
	dir_close(&d);
}

/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE
 * SUPER-OPTIONS; a private mount has no optional field at all. */
static void mount_line(struct host *host, char **f, int n)
{
	char path[MAX_PATHLEN], name[MAX_NAME];
	const char *type, *source;
	uint8_t use;
	int i;

	for (i = 6; i < n - 2 && strcmp(f[i], "-") != 0; i++)
		;
	if (i >= n - 2 || !(use = next_use("holds the file system on %s", f[4])))
		return;
	type = f[i + 1];
	source = f[i + 2];
	if (strcmp(type, "zfs") == 0) {
		fmt(name, sizeof(name), "%s", source);
		name[strcspn(name, "/")] = '\0';
		mark_zfs_pool(host, name, use);
	} else if (strncmp(type, "nfs", 3) == 0 || strcmp(type, "cifs") == 0 ||
	           strcmp(type, "smb3") == 0) {
		/* The server's address, as the client resolved it (addr=). */
		const char *addr = i + 3 < n ? strstr(f[i + 3], "addr=") : NULL;

		while (addr && addr != f[i + 3] && addr[-1] != ',')
			addr = strstr(addr + 1, "addr=");
		if (addr) {
			fmt(name, sizeof(name), "%s", addr + 5);
			name[strcspn(name, ",")] = '\0';
			mark_route_to(host, name, use);
		}
	} else if (strncmp(f[2], "0:", 2) != 0 &&
	           root_path(path, sizeof(path), "/sys/dev/block/%s", f[2]) == 0 &&
	           read_link_name(path, name, sizeof(name)) == 0) {
		mark_block(host, name, use, 0);
	} else {
		mark_dev_path(host, source, use);
	}
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

/* Destination PrefixLen Source SrcPrefixLen NextHop Metric RefCnt Use
 * Flags Iface: the IPv6 default route is ::/0 (not the lo's reject one). */
static void route6_line(struct host *host, char **f, int n)
{
	uint8_t use;

	if (n > 9 && strspn(f[0], "0") == 32 && strcmp(f[1], "00") == 0 &&
	    strcmp(f[9], "lo") != 0 &&
	    (use = next_use("carries the default route (%s)", f[9])))
		mark_net(host, f[9], use, 0);
}

void find_host_uses(struct host *host)
{
	nuses = marked = 0;
	last_pool[0] = '\0';
	host->guarded = true;
	each_line(host, "/proc/self/mountinfo", mount_line);
	each_line(host, "/proc/swaps", swap_line);
	each_line(host, "/proc/net/route", route_line);
	each_line(host, "/proc/net/ipv6_route", route6_line);
}

/* Logs each function the guard kept from a rule (at `level`: an error for
 * a command, a warning for an image build), then `note` for that rule, and
 * each function a rule takes with 'force' although the host uses it (a
 * warning).  Returns how many were refused. */
int refuse_host_uses(const struct host *host, const struct config *conf,
                     const struct selection *sel, enum log_level level,
                     const char *note)
{
	char origin[MAX_PATHLEN + 16], addr[ADDR_STRLEN];
	int i, k;

	for (i = 0; i < conf->nrules; i++) {
		const struct rule_result *r = &sel->results[i];

		rule_origin(origin, sizeof(origin), conf, &conf->rules[i]);
		for (k = 0; k < r->refused && k < 8; k++) {
			const struct pci_func *f = &host->funcs[r->refused_funcs[k]];

			format_addr(addr, f->addr);
			logmsg(level, "%s: %s [%04x:%04x] %s: the host needs it (add "
			       "'force' to take it anyway)", origin, addr, f->vendor,
			       f->device, host_use_text(f));
		}
		if (r->refused > 8)
			logmsg(level, "%s: and %d more functions the host needs", origin,
			       r->refused - 8);
		if (r->refused && note)
			logmsg(level, "%s: %s", origin, note);
	}
	for (i = 0; i < host->nfuncs; i++) {
		const struct pci_func *f = &host->funcs[i];

		if (f->rule < 0 || !f->host_use)
			continue;
		rule_origin(origin, sizeof(origin), conf, &conf->rules[f->rule]);
		format_addr(addr, f->addr);
		logmsg(LOG_WARN, "%s: %s [%04x:%04x] %s: taken anyway (force)", origin,
		       addr, f->vendor, f->device, host_use_text(f));
	}
	return sel->refused;
}
