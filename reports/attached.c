/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What hangs off each function, for list: the disks behind a storage
 * controller and where their partitions are mounted, the network
 * interfaces of a NIC and their addresses, the USB devices behind a USB
 * controller, how the kernel can reset the function, and what the guard
 * (guard.c) keeps for the host.  A person sees what a rule would take from
 * the host before writing it.
 *
 * Everything is read under --root the way the kernel shows it: a disk, USB
 * device or interface belongs to the last PCI function in the path its
 * sysfs link resolves to (the controller: the root ports above it are
 * bridges, which no rule takes, and virtio puts its own device between);
 * an NVMe multipath disk lives under its subsystem, which links each
 * controller.  A partition has a `partition` attribute; its dev (MAJ:MIN),
 * and that of each device it holds (holders/), is matched against
 * /proc/self/mountinfo.
 * IPv6 addresses come from /proc/net/if_inet6; IPv4 addresses have no file
 * under /proc, so they are asked of the kernel (getifaddrs, netlink) only
 * on the real system, never under a --root tree.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reports.h"

#define MAX_ITEMS   1024  /* disks, interfaces or USB devices on one host */
#define MAX_MOUNTS  2048  /* mountinfo lines kept (a container host has many) */
#define MAX_PARTS   128   /* partitions of one disk (GPT's usual limit) */
#define MAX_HOLDING 6     /* LVM on LUKS on md on a partition, and so on */
#define MAX_HOLDERS 16    /* volumes on one partition, read in name order */

struct item {
	int func;                   /* index into host.funcs */
	char name[MAX_NAME];
};

struct mount {
	char dev[16];               /* MAJ:MIN */
	char source[MAX_NAME];      /* the /dev name, for btrfs's anonymous 0:N */
	char point[256];            /* as mountinfo escapes it (\040 a space), or
	                             * [SWAP] for a swap partition (dev "") */
};

static struct item disks[MAX_ITEMS], nets[MAX_ITEMS], usbs[MAX_ITEMS];
static int ndisks, nnets, nusbs;
static struct mount mounts[MAX_MOUNTS];
static int nmounts;

/* The host.funcs index of the last PCI function in the target of the link
 * at `path`, -1 without one. */
static int owner(struct host *host, const char *path)
{
	char target[MAX_PATHLEN], *part, *save = NULL;
	struct pci_func *f, *last = NULL;
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	pci_addr addr;

	if (n <= 0)
		return -1;
	target[n] = '\0';
	for (part = strtok_r(target, "/", &save); part; part = strtok_r(NULL, "/", &save))
		if (parse_addr(part, &addr) && (f = host_find(host, addr)))
			last = f;
	return last ? (int)(last - host->funcs) : -1;
}

static void add_item(struct item *items, int *n, int func, const char *name)
{
	if (func < 0 || *n == MAX_ITEMS)
		return;
	items[*n].func = func;
	fmt(items[*n].name, sizeof(items[0].name), "%s", name);
	(*n)++;
}

/* nvme0n1 before nvme1n1 and nvme10n1, 1-4 before 1-13. */
static int by_name(const void *a, const void *b)
{
	return strverscmp(((const struct item *)a)->name, ((const struct item *)b)->name);
}

static int by_string(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

static bool is_partition(const char *name)
{
	char path[MAX_PATHLEN];

	return root_path(path, sizeof(path), "/sys/class/block/%s/partition", name) == 0 &&
	       path_exists(path);
}

/* A multipath head's controllers: /sys/class/nvme-subsystem/nvme-subsysN/
 * links each of them as nvmeM (drivers/nvme/host/core.c). */
static void add_nvme_head(struct host *host, const char *name, const char *link)
{
	char target[MAX_PATHLEN], dir[MAX_PATHLEN], path[MAX_PATHLEN];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	struct dir_reader d;
	const char *entry;
	char *subsys;

	if (n <= 0)
		return;
	target[n] = '\0';
	if (!(subsys = strstr(target, "/nvme-subsystem/")))
		return;
	subsys += strlen("/nvme-subsystem/");
	target[subsys - target + strcspn(subsys, "/")] = '\0';
	if (root_path(dir, sizeof(dir), "/sys/class/nvme-subsystem/%s", subsys) != 0 ||
	    dir_open(&d, dir) != 0)
		return;
	while ((entry = dir_next(&d)))
		if (strncmp(entry, "nvme", 4) == 0 && entry[4] >= '0' && entry[4] <= '9' &&
		    fmt(path, sizeof(path), "%s/%s", dir, entry) < (int)sizeof(path))
			add_item(disks, &ndisks, owner(host, path), name);
	dir_close(&d);
}

static void scan_disks(struct host *host)
{
	char dir[MAX_PATHLEN], path[MAX_PATHLEN];
	struct dir_reader d;
	const char *name;

	if (root_path(dir, sizeof(dir), "/sys/class/block") != 0 || dir_open(&d, dir) != 0)
		return;
	while ((name = dir_next(&d))) {
		int func;

		if (is_partition(name) || fmt(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
			continue;
		func = owner(host, path);
		if (func >= 0)
			add_item(disks, &ndisks, func, name);
		else
			add_nvme_head(host, name, path);
	}
	dir_close(&d);
	qsort(disks, (size_t)ndisks, sizeof(disks[0]), by_name);
}

/* An interface's link leads to its function, through the virtio device
 * for virtio-net (0000:00:03.0/virtio2/net/eth0); a bridge, bond or VLAN
 * has none. */
static void scan_net(struct host *host)
{
	char dir[MAX_PATHLEN], path[MAX_PATHLEN];
	struct dir_reader d;
	const char *name;

	if (root_path(dir, sizeof(dir), "/sys/class/net") != 0 || dir_open(&d, dir) != 0)
		return;
	while ((name = dir_next(&d)))
		if (fmt(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path))
			add_item(nets, &nnets, owner(host, path), name);
	dir_close(&d);
	qsort(nets, (size_t)nnets, sizeof(nets[0]), by_name);
}

/* Devices only: not the root hubs (usbN, the controller itself) nor the
 * interfaces (1-8:1.0). */
static void scan_usb(struct host *host)
{
	char dir[MAX_PATHLEN], path[MAX_PATHLEN];
	struct dir_reader d;
	const char *name;

	if (root_path(dir, sizeof(dir), "/sys/bus/usb/devices") != 0 || dir_open(&d, dir) != 0)
		return;
	while ((name = dir_next(&d)))
		if (!strchr(name, ':') && strncmp(name, "usb", 3) != 0 &&
		    fmt(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path))
			add_item(usbs, &nusbs, owner(host, path), name);
	dir_close(&d);
	qsort(usbs, (size_t)nusbs, sizeof(usbs[0]), by_name);
}

/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE ... */
static void scan_mounts(void)
{
	static struct line_reader in;
	char path[MAX_PATHLEN], line[MAX_PATHLEN];

	if (root_path(path, sizeof(path), "/proc/self/mountinfo") != 0 || reader_open(&in, path) != 0)
		return;
	while (nmounts < MAX_MOUNTS && reader_line(&in, line, sizeof(line)) >= 0) {
		char *f[16], *save = NULL;
		struct mount *m = &mounts[nmounts];
		int n = 0, i;

		for (f[n] = strtok_r(line, " ", &save); f[n] && n < 15;)
			f[++n] = strtok_r(NULL, " ", &save);
		for (i = 6; i < n - 2 && strcmp(f[i], "-") != 0; i++)
			;
		if (i >= n - 2 || strlen(f[2]) >= sizeof(m->dev) || strlen(f[4]) >= sizeof(m->point))
			continue;
		strcpy(m->dev, f[2]);
		strcpy(m->point, f[4]);
		fmt(m->source, sizeof(m->source), "%s",
		    strncmp(f[i + 2], "/dev/", 5) == 0 ? strrchr(f[i + 2], '/') + 1 : "");
		nmounts++;
	}
	reader_close(&in);
	/* Filename Type ...: a swap partition is shown as lsblk shows it. */
	if (root_path(path, sizeof(path), "/proc/swaps") != 0 || reader_open(&in, path) != 0)
		return;
	while (nmounts < MAX_MOUNTS && reader_line(&in, line, sizeof(line)) >= 0) {
		char *file = strtok(line, " \t"), *type = strtok(NULL, " \t");

		if (!file || !type || strcmp(type, "partition") != 0 || strncmp(file, "/dev/", 5) != 0)
			continue;
		mounts[nmounts].dev[0] = '\0';
		fmt(mounts[nmounts].source, sizeof(mounts[0].source), "%s", strrchr(file, '/') + 1);
		strcpy(mounts[nmounts++].point, "[SWAP]");
	}
	reader_close(&in);
}

void attached_scan(struct host *host)
{
	ndisks = nnets = nusbs = nmounts = 0;
	scan_disks(host);
	scan_net(host);
	scan_usb(host);
	scan_mounts();
}

/* Where block device `name` is mounted: each mount point of it, in
 * mountinfo's order, as `say(name, point)`, then those of what it holds
 * (holders/: an LVM volume or LUKS mapping on a partition, an md array on a
 * disk), named as /dev/mapper names a device-mapper one (dm/name). */
static void each_mount(const char *name, void (*say)(const char *, const char *), int depth)
{
	char path[MAX_PATHLEN], dev[16], shown[MAX_NAME];
	char names[MAX_HOLDERS][MAX_NAME], *order[MAX_HOLDERS];
	struct dir_reader d;
	const char *entry;
	int i, n = 0;

	if (root_path(path, sizeof(path), "/sys/class/block/%s/dev", name) != 0 ||
	    read_attr(path, dev, sizeof(dev)) != 0)
		dev[0] = '\0';
	if (root_path(path, sizeof(path), "/sys/class/block/%s/dm/name", name) != 0 ||
	    read_attr(path, shown, sizeof(shown)) != 0 || !shown[0])
		fmt(shown, sizeof(shown), "%s", name);
	for (i = 0; i < nmounts; i++)
		if ((dev[0] && strcmp(mounts[i].dev, dev) == 0) ||
		    ((!mounts[i].dev[0] || strncmp(mounts[i].dev, "0:", 2) == 0) &&
		     (strcmp(mounts[i].source, shown) == 0 || strcmp(mounts[i].source, name) == 0)))
			say(shown, mounts[i].point);
	if (depth >= MAX_HOLDING ||
	    root_path(path, sizeof(path), "/sys/class/block/%s/holders", name) != 0 ||
	    dir_open(&d, path) != 0)
		return;
	while ((entry = dir_next(&d)) && n < MAX_HOLDERS)
		if (strlen(entry) < MAX_NAME) {
			strcpy(names[n], entry);
			order[n] = names[n];
			n++;
		}
	dir_close(&d);
	qsort(order, (size_t)n, sizeof(order[0]), by_string);
	for (i = 0; i < n; i++)
		each_mount(order[i], say, depth + 1);
}

/* The disk, then its partitions in order, each with `say` for its mounts. */
static void disk_mounts(const char *disk, void (*say)(const char *, const char *))
{
	static char names[MAX_PARTS][MAX_NAME];
	char *order[MAX_PARTS], dir[MAX_PATHLEN], path[MAX_PATHLEN];
	struct dir_reader d;
	const char *entry;
	int n = 0, i;

	each_mount(disk, say, 0);
	if (root_path(dir, sizeof(dir), "/sys/class/block/%s", disk) != 0 || dir_open(&d, dir) != 0)
		return;
	while ((entry = dir_next(&d)) && n < MAX_PARTS)
		if (strncmp(entry, disk, strlen(disk)) == 0 && strlen(entry) < MAX_NAME &&
		    fmt(path, sizeof(path), "%s/%s/partition", dir, entry) < (int)sizeof(path) &&
		    path_exists(path)) {
			strcpy(names[n], entry);
			order[n] = names[n];
			n++;
		}
	dir_close(&d);
	qsort(order, (size_t)n, sizeof(order[0]), by_string);
	for (i = 0; i < n; i++)
		each_mount(order[i], say, 0);
}

static void usb_attr(char *buf, size_t size, const char *name, const char *attr)
{
	char path[MAX_PATHLEN];

	if (root_path(path, sizeof(path), "/sys/bus/usb/devices/%s/%s", name, attr) != 0 ||
	    read_attr(path, buf, size) != 0)
		buf[0] = '\0';
}

/* The device's idVendor:idProduct, and its product string ("" if none). */
static void usb_id(char *id, size_t size, char *product, size_t product_size,
                   const char *name)
{
	char vendor[8], device[8];

	usb_attr(vendor, sizeof(vendor), name, "idVendor");
	usb_attr(device, sizeof(device), name, "idProduct");
	fmt(id, size, "%s:%s", vendor, device);
	usb_attr(product, product_size, name, "product");
}

/* The interface's addresses as ADDRESS/PREFIX, each handed to `say`. */
static void each_address(const char *iface, void (*say)(const char *))
{
	static struct line_reader in;
	char path[MAX_PATHLEN], line[256], text[INET6_ADDRSTRLEN + 4];

	if (!sys_root[0]) {
		struct ifaddrs *list, *a;

		if (getifaddrs(&list) == 0) {
			for (a = list; a; a = a->ifa_next) {
				const struct sockaddr_in *ip = (const void *)a->ifa_addr;
				const struct sockaddr_in *mask = (const void *)a->ifa_netmask;

				if (!ip || ip->sin_family != AF_INET || strcmp(a->ifa_name, iface) != 0 ||
				    !inet_ntop(AF_INET, &ip->sin_addr, text, sizeof(text)))
					continue;
				fmt(text + strlen(text), 4, "/%d",
				    mask ? __builtin_popcount(mask->sin_addr.s_addr) : 32);
				say(text);
			}
			freeifaddrs(list);
		}
	}
	/* ADDRESS(32 hex) IFINDEX PREFIX SCOPE FLAGS NAME, in hex; link-local
	 * addresses (scope 20) every interface has are left out. */
	if (root_path(path, sizeof(path), "/proc/net/if_inet6") != 0 || reader_open(&in, path) != 0)
		return;
	while (reader_line(&in, line, sizeof(line)) >= 0) {
		char *f[6], *save = NULL;
		unsigned char bytes[16];
		uint32_t word, prefix;
		int n = 0, i;

		for (f[n] = strtok_r(line, " \t", &save); f[n] && n < 5;)
			f[++n] = strtok_r(NULL, " \t", &save);
		if (n < 5 || !f[5] || strcmp(f[5], iface) != 0 || strlen(f[0]) != 32 ||
		    !strcmp(f[3], "20") || !parse_hex(f[2], 2, &prefix))
			continue;
		for (i = 0; i < 4; i++) {
			char hex[9];

			memcpy(hex, f[0] + 8 * i, 8);
			hex[8] = '\0';
			if (!parse_hex(hex, 8, &word))
				break;
			bytes[4 * i] = (unsigned char)(word >> 24);
			bytes[4 * i + 1] = (unsigned char)(word >> 16);
			bytes[4 * i + 2] = (unsigned char)(word >> 8);
			bytes[4 * i + 3] = (unsigned char)word;
		}
		if (i < 4 || !inet_ntop(AF_INET6, bytes, text, sizeof(text) - 4))
			continue;
		fmt(text + strlen(text), 5, "/%u", (unsigned)prefix);
		say(text);
	}
	reader_close(&in);
}

/* The network interfaces of function i, in order, each handed to `say`. */
static void each_interface(int i, void (*say)(const char *))
{
	int k;

	for (k = 0; k < nnets; k++)
		if (nets[k].func == i)
			say(nets[k].name);
}

/* How the kernel can reset function i (reset_check in actions.c): the
 * methods in `methods`, and the rest of what it says (a bus reset shared
 * with the functions beside it) in `note`.  False when it lists none: the
 * kernel cannot reset the function, or (`old`) it is older than 5.15 and
 * does not say. */
static bool reset_methods(const struct host *host, int i, char *methods, size_t size,
                          const char **note, bool *old)
{
	static char text[256];
	char path[MAX_PATHLEN], addr[ADDR_STRLEN];
	size_t len;

	format_addr(addr, host->funcs[i].addr);
	*old = false;
	*note = "";
	if (root_path(path, sizeof(path), "/sys/bus/pci/devices/%s/reset_method", addr) != 0)
		return false;
	if (reset_check(text, host, i, NULL) == RESET_NONE) {
		path[strlen(path) - 7] = '\0';
		*old = path_exists(path);
		return false;
	}
	/* "PATH: METHOD...[: NOTE]" */
	fmt(methods, size, "%s", text + strlen(path) + 2);
	len = strcspn(methods, ":");
	if (methods[len]) {
		*note = text + strlen(path) + 2 + len;
		methods[len] = '\0';
	}
	return true;
}

/* Whether function i's config space offers Function Level Reset: bit 28
 * of the PCI Express capability's Device Capabilities, or the Advanced
 * Features capability's TP and FLR bits (PCI_AF_CAP): 1 yes, 0 no, -1 when
 * the capability list cannot be read (no config file, or the 64 bytes
 * sysfs gives a user other than root). */
static int flr_capable(const struct host *host, int i)
{
	unsigned char cfg[256];
	char path[MAX_PATHLEN], addr[ADDR_STRLEN];
	unsigned ptr, hops;
	ssize_t n;
	int fd;

	format_addr(addr, host->funcs[i].addr);
	if (root_path(path, sizeof(path), "/sys/bus/pci/devices/%s/config", addr) != 0 ||
	    (fd = open(path, O_RDONLY)) < 0)
		return -1;
	n = read(fd, cfg, sizeof(cfg));
	close(fd);
	if (n < 64)
		return -1;
	if (!(cfg[0x06] & 0x10))        /* no capability list */
		return 0;
	for (ptr = cfg[0x34] & 0xfcu, hops = 0; ptr && hops < 48; ptr = cfg[ptr + 1] & 0xfcu, hops++) {
		if (ptr + 8 > (unsigned)n)
			return -1;
		if (cfg[ptr] == 0x10 && (cfg[ptr + 7] & 0x10))
			return 1;
		if (cfg[ptr] == 0x13 && (cfg[ptr + 3] & 0x03) == 0x03)
			return 1;
	}
	return 0;
}

/* What the capability adds to the kernel's methods: FLR where the kernel
 * does not say (older than 5.15), or does not use it (a quirk). */
static const char *flr_note(int flr, const char *methods, bool old)
{
	if (flr == 1 && !word_in("flr", methods) && !word_in("af_flr", methods))
		return old ? "; FLR capable" : "; FLR capable, which the kernel does not use";
	return old && flr == 0 ? "; no FLR" : "";
}

/* ---- text ------------------------------------------------------------ */

static bool first_mount;

static void say_mount(const char *dev, const char *point)
{
	out("%s%s on %s", first_mount ? ": " : ", ", dev, point);
	first_mount = false;
}

static void say_address(const char *text)
{
	out(" %s", text);
}

static void say_interface(const char *name)
{
	out("    net    %s", name);
	each_address(name, say_address);
	out_char('\n');
}

/* The lines under function i in list's text, indented, one a thing. */
void attached_text(const struct host *host, int i)
{
	char methods[128], id[16], product[128];
	const char *note;
	bool old;
	int k;

	if (is_bridge(&host->funcs[i]))
		return;
	if (host->funcs[i].host_use)
		out("    host   %s; a rule takes it only with 'force'\n",
		    host_use_text(&host->funcs[i]));
	for (k = 0; k < ndisks; k++)
		if (disks[k].func == i) {
			out("    block  %s", disks[k].name);
			first_mount = true;
			disk_mounts(disks[k].name, say_mount);
			out_char('\n');
		}
	each_interface(i, say_interface);
	for (k = 0; k < nusbs; k++)
		if (usbs[k].func == i) {
			usb_id(id, sizeof(id), product, sizeof(product), usbs[k].name);
			out("    usb    %s %s%s%s\n", usbs[k].name, id, product[0] ? " " : "", product);
		}
	if (!reset_methods(host, i, methods, sizeof(methods), &note, &old)) {
		fmt(methods, sizeof(methods), "%s", old ? "unknown (Linux older than 5.15 "
		                                          "does not list them)" : "none");
		note = "";
	}
	out("    reset  %s%s%s\n", methods, note, flr_note(flr_capable(host, i), methods, old));
}

/* ---- JSON ------------------------------------------------------------ */

static void json_mount(const char *dev, const char *point)
{
	json_key(NULL);
	json_begin('{');
	json_str("device", dev);
	json_str("mountpoint", point);
	json_end('}');
}

static void json_address(const char *text)
{
	json_str(NULL, text);
}

static void json_interface(const char *name)
{
	json_key(NULL);
	json_begin('{');
	json_str("name", name);
	json_key("addresses");
	json_begin('[');
	each_address(name, json_address);
	json_end(']');
	json_end('}');
}

/* The fields of function i in list --json: host_use, attached,
 * reset_methods (null where the kernel does not say), reset_alone and flr
 * (null where the config space cannot be read). */
void attached_json(const struct host *host, int i)
{
	char methods[128], id[16], product[128], *word, *save = NULL;
	const char *note;
	bool old;
	int k, flr;

	if (host->funcs[i].host_use)
		json_str("host_use", host_use_text(&host->funcs[i]));
	else
		json_null("host_use");
	json_key("attached");
	json_begin('{');
	json_key("block");
	json_begin('[');
	for (k = 0; k < ndisks; k++)
		if (disks[k].func == i) {
			json_key(NULL);
			json_begin('{');
			json_str("name", disks[k].name);
			json_key("mounts");
			json_begin('[');
			disk_mounts(disks[k].name, json_mount);
			json_end(']');
			json_end('}');
		}
	json_end(']');
	json_key("net");
	json_begin('[');
	each_interface(i, json_interface);
	json_end(']');
	json_key("usb");
	json_begin('[');
	for (k = 0; k < nusbs; k++)
		if (usbs[k].func == i) {
			usb_id(id, sizeof(id), product, sizeof(product), usbs[k].name);
			json_key(NULL);
			json_begin('{');
			json_str("port", usbs[k].name);
			json_str("id", id);
			if (product[0])
				json_str("product", product);
			else
				json_null("product");
			json_end('}');
		}
	json_end(']');
	json_end('}');
	if (reset_methods(host, i, methods, sizeof(methods), &note, &old)) {
		json_key("reset_methods");
		json_begin('[');
		for (word = strtok_r(methods, " ", &save); word; word = strtok_r(NULL, " ", &save))
			json_str(NULL, word);
		json_end(']');
		json_bool("reset_alone", !*note);
	} else if (old) {
		json_null("reset_methods");
		json_null("reset_alone");
	} else {
		json_key("reset_methods");
		json_begin('[');
		json_end(']');
		json_bool("reset_alone", false);
	}
	if ((flr = flr_capable(host, i)) < 0)
		json_null("flr");
	else
		json_bool("flr", flr == 1);
}
