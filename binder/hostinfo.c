/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Facts about the host that are not in the PCI model: device names from
 * pci.ids, the CPU from /proc/cpuinfo, the kernel's module lists and the
 * IOMMU's sysfs entries. */
#include <string.h>

#include "vfio-reserve.h"

#define MAX_NAMED_IDS 512

struct id_name {
	uint16_t vendor, device;
	char vendor_name[64];
	char device_name[96];
};

static struct id_name id_names[MAX_NAMED_IDS];
static int nid_names;

static struct id_name *find_id_name(uint16_t vendor, uint16_t device)
{
	int i;

	for (i = 0; i < nid_names; i++)
		if (id_names[i].vendor == vendor && id_names[i].device == device)
			return &id_names[i];
	return NULL;
}

static void copy_name(char *dst, size_t size, const char *src)
{
	size_t len = strcspn(src, "\n");

	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}


/* One pass over pci.ids, keeping only the names of IDs on this host. */
void load_names(const struct host *host, bool all)
{
	static const char *const files[] = {
		"/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids",
	};
	static struct line_reader in;
	char path[MAX_PATHLEN], line[512];
	uint32_t vendor = 0x10000, id;
	bool opened = false;
	size_t k;
	int i;

	nid_names = 0;
	for (i = 0; i < host->nfuncs && nid_names < MAX_NAMED_IDS; i++) {
		const struct pci_func *f = &host->funcs[i];
		if ((all || device_has_display(host, i)) && !find_id_name(f->vendor, f->device)) {
			memset(&id_names[nid_names], 0, sizeof(id_names[0]));
			id_names[nid_names].vendor = f->vendor;
			id_names[nid_names++].device = f->device;
		}
	}
	for (k = 0; k < sizeof(files) / sizeof(files[0]) && !opened; k++)
		opened = root_path(path, sizeof(path), "%s", files[k]) == 0 &&
		         reader_open(&in, path) == 0;
	if (!opened)
		return;
	while (reader_line(&in, line, sizeof(line)) >= 0) {
		if (line[0] == 'C' && line[1] == ' ')
			break;  /* the class section: no more vendors */
		if (line[0] != '\t' && line[0] != '#' && strlen(line) > 6 && line[4] == ' ') {
			line[4] = '\0';
			vendor = parse_hex(line, 4, &id) ? id : 0x10000;
			if (vendor <= 0xffff)
				for (i = 0; i < nid_names; i++)
					if (id_names[i].vendor == vendor)
						copy_name(id_names[i].vendor_name,
						          sizeof(id_names[i].vendor_name), line + 6);
		} else if (line[0] == '\t' && line[1] != '\t' && strlen(line) > 7 &&
		           line[5] == ' ' && vendor <= 0xffff) {
			struct id_name *n;
			line[5] = '\0';
			if (parse_hex(line + 1, 4, &id) &&
			    (n = find_id_name((uint16_t)vendor, (uint16_t)id)))
				copy_name(n->device_name, sizeof(n->device_name), line + 7);
		}
	}
	reader_close(&in);
}

void function_name(char *buf, size_t size, const struct pci_func *f)
{
	const struct id_name *n = find_id_name(f->vendor, f->device);

	buf[0] = '\0';
	if (n && n->vendor_name[0])
		fmt(buf, size, "%s %s", n->vendor_name,
		         n->device_name[0] ? n->device_name : "device");
}

/* lspci's names for the classes a passthrough host shows (pci.ids' class
 * section), so that check can say what a function is without pci.ids. */
const char *class_name(char *buf, size_t size, uint32_t class)
{
	static const struct { uint16_t class; const char *name; } names[] = {
		{ 0x0100, "SCSI storage controller" }, { 0x0101, "IDE interface" },
		{ 0x0104, "RAID bus controller" }, { 0x0106, "SATA controller" },
		{ 0x0107, "Serial Attached SCSI controller" },
		{ 0x0108, "Non-Volatile memory controller" },
		{ 0x0200, "Ethernet controller" }, { 0x0207, "Infiniband controller" },
		{ 0x0280, "Network controller" }, { 0x0300, "VGA compatible controller" },
		{ 0x0302, "3D controller" }, { 0x0380, "Display controller" },
		{ 0x0401, "Multimedia audio controller" }, { 0x0403, "Audio device" },
		{ 0x0480, "Multimedia controller" }, { 0x0580, "Memory controller" },
		{ 0x0600, "Host bridge" }, { 0x0601, "ISA bridge" }, { 0x0604, "PCI bridge" },
		{ 0x0780, "Communication controller" }, { 0x0880, "System peripheral" },
		{ 0x0c03, "USB controller" }, { 0x0c05, "SMBus" },
		{ 0x0c80, "Serial bus controller" }, { 0x1080, "Encryption controller" },
		{ 0x1180, "Signal processing controller" },
		{ 0x1200, "Processing accelerators" },
		{ 0x1300, "Non-Essential Instrumentation" },
	};
	size_t k;

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (names[k].class == class >> 8)
			return names[k].name;
	fmt(buf, size, "class %04x", (unsigned)(class >> 8));
	return buf;
}

static bool has_word(const char *line, const char *word)
{
	size_t len = strlen(word);
	const char *p;

	for (p = line; *p; p++)
		if ((p == line || p[-1] == ' ' || p[-1] == '\t') &&
		    strncmp(p, word, len) == 0 &&
		    (p[len] == ' ' || p[len] == '\t' || p[len] == '\0'))
			return true;
	return false;
}

struct cpu_info read_cpu(void)
{
	struct cpu_info cpu = { false, CPU_UNKNOWN, false, false };
	static struct line_reader in;
	char path[MAX_PATHLEN], line[4096];

	if (root_path(path, sizeof(path), "/proc/cpuinfo") != 0 ||
	    reader_open(&in, path) != 0)
		return cpu;
	cpu.readable = true;
	/* The first processor's entry speaks for all. */
	while (reader_line(&in, line, sizeof(line)) >= 0) {
		if (strncmp(line, "vendor_id", 9) == 0) {
			if (contains(line, "GenuineIntel"))
				cpu.vendor = CPU_INTEL;
			else if (contains(line, "AuthenticAMD") || contains(line, "HygonGenuine"))
				cpu.vendor = CPU_AMD;
		} else if (strncmp(line, "flags", 5) == 0) {
			cpu.vmx = has_word(line, "vmx");
			cpu.svm = has_word(line, "svm");
			break;
		}
	}
	reader_close(&in);
	return cpu;
}

int count_entries(const char *dirpath)
{
	static struct dir_reader dir;
	char path[MAX_PATHLEN];
	int n = 0;

	if (root_path(path, sizeof(path), "%s", dirpath) != 0 || dir_open(&dir, path) != 0)
		return 0;
	while (dir_next(&dir))
		n++;
	dir_close(&dir);
	return n;
}

/* Exact, not with modprobe's '-'/'_' folding: driver_override takes the PCI
 * driver's own name, which for vfio-pci and pci-stub is the module file's. */
static bool same_module_name(const char *a, const char *b, size_t blen)
{
	return strncmp(a, b, blen) == 0 && a[blen] == '\0';
}

/* Is `module` listed in modules.dep or modules.builtin of the running kernel? */
bool module_listed(const char *list, const char *kernel, const char *module)
{
	static struct line_reader in;
	char path[MAX_PATHLEN], line[1024];
	bool found = false;

	if (root_path(path, sizeof(path), "/lib/modules/%s/%s", kernel, list) != 0 ||
	    reader_open(&in, path) != 0)
		return false;
	while (!found && reader_line(&in, line, sizeof(line)) >= 0) {
		char *name;
		line[strcspn(line, ":")] = '\0';
		name = strrchr(line, '/');
		name = name ? name + 1 : line;
		found = same_module_name(module, name, strcspn(name, "."));
	}
	reader_close(&in);
	return found;
}


/* The lowest major version among the kernels in /lib/modules, each of
 * which the boot menu may start; 99 when there is none. */
int oldest_kernel_major(void)
{
	struct dir_reader d;
	char path[MAX_PATHLEN];
	const char *name;
	int oldest = 99;

	if (root_path(path, sizeof(path), "/lib/modules") != 0 || dir_open(&d, path) != 0)
		return oldest;
	while ((name = dir_next(&d))) {
		int major = 0;

		for (; *name >= '0' && *name <= '9' && major < 99; name++)
			major = major * 10 + (*name - '0');
		if (*name == '.' && major < oldest)
			oldest = major;
	}
	dir_close(&d);
	return oldest;
}
