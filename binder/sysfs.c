/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sysfs PCI model: every function under /sys/bus/pci/devices, in address
 * order, with what selection and reports need.  The root is a parameter
 * (--root), as in pciutils' lib/sysfs.c, so tests run on fixture trees. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vfio-reserve.h"

/* Each function has one static temporary for sorting; see sort_by_addr. */
static struct pci_func sort_tmp[MAX_FUNCS];

static int attr_path(char *buf, size_t size, const char *dir, const char *name)
{
	int n = fmt(buf, size, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* The chain of PCI addresses in the device's canonical path, e.g.
 * ../../../devices/pci0000:00/0000:00:02.0/0000:01:00.0 gives two. */
static void read_chain(const char *link, struct pci_func *f)
{
	char target[MAX_PATHLEN], *part, *save = NULL;
	ssize_t n;

	f->depth = 0;
	n = readlink(link, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = '\0';
		for (part = strtok_r(target, "/", &save); part;
		     part = strtok_r(NULL, "/", &save)) {
			pci_addr a;
			if (parse_addr(part, &a) && f->depth < MAX_DEPTH)
				f->chain[f->depth++] = a;
		}
	}
	/* Without a readable link the device still has itself as its path. */
	if (f->depth == 0 || f->chain[f->depth - 1] != f->addr) {
		f->depth = 1;
		f->chain[0] = f->addr;
	}
}

/* "KEY=hex" from a uevent line, e.g. PCI_CLASS=30000, PCI_ID=10DE:2206. */
static bool uevent_hex(const char *line, const char *key, uint32_t *out)
{
	size_t len = strlen(key);

	return strncmp(line, key, len) == 0 && parse_number(line + len, 16, out);
}

/* The kernel's uevent attribute (pci_uevent() in drivers/pci/pci-driver.c)
 * gives the class and the vendor:device ID in one read, where the vendor,
 * device and class attributes take three opens. */
static int read_uevent(const char *dir, struct pci_func *f)
{
	char path[MAX_PATHLEN], text[512], *line, *save = NULL;
	uint32_t class = 0, vendor = 0, device = 0;
	bool have_class = false, have_id = false;

	if (attr_path(path, sizeof(path), dir, "uevent") != 0 ||
	    read_file(path, text, sizeof(text)) != 0)
		return -1;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon;

		if (uevent_hex(line, "PCI_CLASS=", &class))
			have_class = true;
		else if (strncmp(line, "PCI_ID=", 7) == 0 && (colon = strchr(line, ':'))) {
			*colon = '\0';
			have_id = parse_number(line + 7, 16, &vendor) &&
			          parse_number(colon + 1, 16, &device);
		}
	}
	if (!have_class || !have_id) {
		errno = EINVAL;
		return -1;
	}
	f->vendor = (uint16_t)vendor;
	f->device = (uint16_t)device;
	f->class = class & 0xffffff;
	return 0;
}

/* Five system calls a function: open, read and close of uevent, and the
 * driver and iommu_group links; a sixth, the device's own link, where the
 * topology path is wanted (host->read_paths).  driver_override is read when
 * a command needs it (function_override), boot_vga only for displays. */
static int read_function(const struct host *host, const char *devices,
                         const char *name, struct pci_func *f)
{
	char dir[MAX_PATHLEN], path[MAX_PATHLEN], group[16];
	uint32_t g;

	if (attr_path(dir, sizeof(dir), devices, name) != 0)
		return -1;
	if (read_uevent(dir, f) != 0) {
		logmsg(LOG_WARN, "%s: cannot read its uevent: %s", dir, strerror(errno));
		return -1;
	}
	f->boot_vga = -1;
	if (is_display(f) && attr_path(path, sizeof(path), dir, "boot_vga") == 0 &&
	    read_attr(path, group, sizeof(group)) == 0)
		f->boot_vga = group[0] == '1';

	if (attr_path(path, sizeof(path), dir, "driver") != 0 ||
	    read_link_name(path, f->driver, sizeof(f->driver)) != 0)
		f->driver[0] = '\0';

	f->group = -1;
	if (attr_path(path, sizeof(path), dir, "iommu_group") == 0 &&
	    read_link_name(path, group, sizeof(group)) == 0 &&
	    parse_number(group, 10, &g) && g < MAX_GROUPS)
		f->group = (int)g;
	if (host->read_paths)
		read_chain(dir, f);
	else {
		f->depth = 1;
		f->chain[0] = f->addr;
	}
	f->slot = -1;
	f->rule = -1;
	f->left_by = -1;
	f->next_in_group = -1;
	return 0;
}

/* driver_override as the kernel shows it, "" for none ("(null)"). */
const char *function_override(struct pci_func *f)
{
	char path[MAX_PATHLEN], addr[ADDR_STRLEN];

	if (!f->override_read) {
		format_addr(addr, f->addr);
		if (root_path(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		              addr) != 0 ||
		    read_attr(path, f->override, sizeof(f->override)) != 0 ||
		    strcmp(f->override, "(null)") == 0)
			f->override[0] = '\0';
		f->override_read = true;
	}
	return f->override;
}

/* LSD radix sort on the 32-bit address: linear, so that the cost per
 * function stays flat from a laptop to a rack of SR-IOV cards. */
static void sort_by_addr(struct host *host)
{
	struct pci_func *from = host->funcs, *to = sort_tmp;
	int shift, i;

	for (shift = 0; shift < 32; shift += 8) {
		int count[257] = { 0 };

		for (i = 0; i < host->nfuncs; i++)
			count[((from[i].addr >> shift) & 0xff) + 1]++;
		for (i = 1; i < 257; i++)
			count[i] += count[i - 1];
		for (i = 0; i < host->nfuncs; i++)
			to[count[(from[i].addr >> shift) & 0xff]++] = from[i];
		from = from == host->funcs ? sort_tmp : host->funcs;
		to = to == host->funcs ? sort_tmp : host->funcs;
	}
	/* Four passes end in host->funcs again. */
}

static void scan_slots(struct host *host)
{
	static struct dir_reader dir;
	char dirpath[MAX_PATHLEN], path[MAX_PATHLEN], value[32];
	const char *name;

	host->nslots = 0;
	if (root_path(dirpath, sizeof(dirpath), "/sys/bus/pci/slots") != 0 ||
	    dir_open(&dir, dirpath) != 0)
		return;
	while ((name = dir_next(&dir))) {
		struct slot *slot;
		pci_addr addr;

		if (strlen(name) >= MAX_NAME)
			continue;
		if (fmt(path, sizeof(path), "%s/%s/address", dirpath,
		             name) >= (int)sizeof(path))
			continue;
		/* "dddd:bb:dd" names a device; append a function to parse it. */
		if (read_attr(path, value, sizeof(value) - 3) != 0)
			continue;
		strcat(value, ".0");
		if (!parse_addr(value, &addr))
			continue;
		if (host->nslots == MAX_SLOTS) {
			logmsg(LOG_WARN, "more than %d PCI slots: ignoring the rest",
			       MAX_SLOTS);
			break;
		}
		slot = &host->slots[host->nslots++];
		strcpy(slot->name, name);
		slot->device = ADDR_DEVICE(addr);
	}
	dir_close(&dir);
}

static int first_at_or_after(const struct host *host, pci_addr addr)
{
	int lo = 0, hi = host->nfuncs;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (host->funcs[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The functions of funcs[i]'s device, [*first, *end): in address order
 * they are neighbours. */
void device_functions(const struct host *host, int i, int *first, int *end)
{
	uint32_t device = ADDR_DEVICE(host->funcs[i].addr);
	int j;

	for (j = i; j > 0 && ADDR_DEVICE(host->funcs[j - 1].addr) == device; j--)
		;
	*first = j;
	for (j = i + 1; j < host->nfuncs && ADDR_DEVICE(host->funcs[j].addr) == device; j++)
		;
	*end = j;
}

/* The boot VGA's audio and USB functions belong to the host's console card
 * as much as its display function does. */
static void mark_boot_devices(struct host *host)
{
	int i, j, end;

	for (i = 0; i < host->nfuncs; i++) {
		if (host->funcs[i].boot_vga != 1)
			continue;
		for (device_functions(host, i, &j, &end); j < end; j++)
			host->funcs[j].boot_device = true;
	}
}

static void link_slots(struct host *host)
{
	int s, i;

	for (s = 0; s < host->nslots; s++) {
		uint32_t device = host->slots[s].device;
		for (i = first_at_or_after(host, device << 3);
		     i < host->nfuncs && ADDR_DEVICE(host->funcs[i].addr) == device; i++)
			host->funcs[i].slot = s;
	}
}

/* Lists of functions per IOMMU group, in address order. */
static void link_groups(struct host *host)
{
	int i;

	host->has_groups = false;
	for (i = 0; i < host->nfuncs; i++)
		if (host->funcs[i].group >= 0) {
			host->group_head[host->funcs[i].group] = -1;
			host->has_groups = true;
		}
	for (i = host->nfuncs - 1; i >= 0; i--) {
		struct pci_func *f = &host->funcs[i];
		if (f->group >= 0) {
			f->next_in_group = host->group_head[f->group];
			host->group_head[f->group] = i;
		}
	}
}

int host_scan(struct host *host)
{
	static struct dir_reader dir;
	char devices[MAX_PATHLEN];
	const char *name;

	host->nfuncs = 0;
	if (root_path(devices, sizeof(devices), "/sys/bus/pci/devices") != 0)
		return -1;
	if (dir_open(&dir, devices) != 0) {
		logmsg(LOG_ERR, "%s: %s", devices, strerror(errno));
		return -1;
	}
	while ((name = dir_next(&dir))) {
		struct pci_func *f;
		pci_addr addr;

		if (strlen(name) != 12 || !parse_addr(name, &addr))
			continue;
		if (host->nfuncs == MAX_FUNCS) {
			logmsg(LOG_ERR, "more than %d PCI functions: not supported",
			       MAX_FUNCS);
			dir_close(&dir);
			return -1;
		}
		f = &host->funcs[host->nfuncs];
		memset(f, 0, sizeof(*f));
		f->addr = addr;
		if (read_function(host, devices, name, f) == 0)
			host->nfuncs++;
	}
	dir_close(&dir);
	sort_by_addr(host);
	mark_boot_devices(host);
	scan_slots(host);
	link_slots(host);
	link_groups(host);
	return 0;
}

struct pci_func *host_find(struct host *host, pci_addr addr)
{
	int i = first_at_or_after(host, addr);

	return i < host->nfuncs && host->funcs[i].addr == addr ? &host->funcs[i] : NULL;
}

bool device_has_display(const struct host *host, int i)
{
	int j, end;

	for (device_functions(host, i, &j, &end); j < end; j++)
		if (is_display(&host->funcs[j]))
			return true;
	return false;
}

bool is_bridge(const struct pci_func *f)
{
	return f->class >> 16 == 0x06;
}

bool is_display(const struct pci_func *f)
{
	return f->class >> 16 == 0x03;
}

/* Formats the topology path as the config's path= takes it. */
int format_path(char *buf, size_t size, const struct pci_func *f)
{
	char first[ADDR_STRLEN];
	size_t used;
	int i, n;

	format_addr(first, f->chain[0]);
	n = fmt(buf, size, "%s", f->chain[0] >> 16 ? first : first + 5);
	if (n < 0 || (size_t)n >= size)
		return -1;
	used = (size_t)n;
	for (i = 1; i < f->depth; i++) {
		n = fmt(buf + used, size - used, "/%02x.%x",
		             (f->chain[i] >> 3) & 0x1f, f->chain[i] & 7);
		if (n < 0 || (size_t)n >= size - used)
			return -1;
		used += (size_t)n;
	}
	return 0;
}
