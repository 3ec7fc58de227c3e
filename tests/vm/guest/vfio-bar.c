// SPDX-License-Identifier: GPL-2.0-or-later
/* vfio-reserve VM tests: a minimal VFIO user for the guest (built static
 * into the root file system as /test/vfio-bar).
 *
 *   vfio-bar ADDRESS
 *   vfio-bar --hold ADDRESS
 *
 * Opens the device at ADDRESS through VFIO as a VMM does (container, type 1
 * IOMMU, group, device), turns memory decoding on in its config space, then
 *   - maps BAR 0 and writes a pattern to its first and last page, reading it
 *     back through the mapping: the mapping needs the BAR's region, which
 *     vfio-pci requests for itself ("vfio-pci" in /proc/iomem), so a driver
 *     still holding part of it (a firmware framebuffer) makes the mmap fail;
 *   - reads a 16-bit register at offset 0x500 of BAR 2 through the device
 *     file (on the Bochs/QEMU VGA: the DISPI ID register, 0xb0c0..0xb0c5);
 *   - prints /proc/iomem while the device is open.
 * With --hold it stops once the device is open, and holds it (group,
 * container and device) until it is killed, as a running VM does.
 * Every line starts with "VFIO-BAR " or "IOMEM-OPEN "; the first failing
 * step prints "VFIO-BAR error: STEP: REASON" and exits 1. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int fail(const char *step)
{
	printf("VFIO-BAR error: %s: %s\n", step, strerror(errno));
	return 1;
}

static int region(int dev, unsigned int index, struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, info);
}

static int rw_bar0(int dev)
{
	struct vfio_region_info info;
	volatile uint32_t *map;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), words = page / 4, i, n;
	size_t offsets[2];
	int bad = 0;

	if (region(dev, VFIO_PCI_BAR0_REGION_INDEX, &info) != 0)
		return fail("BAR 0 region info");
	printf("VFIO-BAR bar0 size=0x%llx mmap=%s\n", (unsigned long long)info.size,
	       (info.flags & VFIO_REGION_INFO_FLAG_MMAP) ? "yes" : "no");
	if (info.size < page)
		return errno = EINVAL, fail("BAR 0 size");
	map = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, dev,
		   (off_t)info.offset);
	if (map == MAP_FAILED)
		return fail("BAR 0 mmap");
	offsets[0] = 0;
	offsets[1] = (info.size - page) / 4;
	for (n = 0; n < 2; n++)
		for (i = 0; i < words; i++)
			map[offsets[n] + i] = 0x5a000000u ^ (uint32_t)(n << 20 | i);
	for (n = 0; n < 2; n++)
		for (i = 0; i < words; i++)
			if (map[offsets[n] + i] != (0x5a000000u ^ (uint32_t)(n << 20 | i)))
				bad++;
	munmap((void *)map, info.size);
	if (bad) {
		printf("VFIO-BAR error: BAR 0: %d words read back wrong\n", bad);
		return 1;
	}
	printf("VFIO-BAR bar0 mmap: %zu bytes written and read back\n", 2 * page);
	return 0;
}

static int read_bar2(int dev)
{
	struct vfio_region_info info;
	uint16_t id;

	if (region(dev, VFIO_PCI_BAR2_REGION_INDEX, &info) != 0)
		return fail("BAR 2 region info");
	if (info.size < 0x502)
		return errno = EINVAL, fail("BAR 2 size");
	if (pread(dev, &id, sizeof(id), (off_t)(info.offset + 0x500)) != sizeof(id))
		return fail("BAR 2 read");
	printf("VFIO-BAR bar2 0x500=0x%04x\n", id);
	return 0;
}

static int memory_on(int dev)
{
	struct vfio_region_info info;
	uint16_t cmd;

	if (region(dev, VFIO_PCI_CONFIG_REGION_INDEX, &info) != 0)
		return fail("config region info");
	if (pread(dev, &cmd, sizeof(cmd), (off_t)(info.offset + PCI_COMMAND)) != sizeof(cmd))
		return fail("config read");
	cmd |= PCI_COMMAND_MEMORY;
	if (pwrite(dev, &cmd, sizeof(cmd), (off_t)(info.offset + PCI_COMMAND)) != sizeof(cmd))
		return fail("config write");
	return 0;
}

int main(int argc, char **argv)
{
	char path[PATH_MAX], link[PATH_MAX], line[512];
	struct vfio_group_status status = { .argsz = sizeof(status) };
	const char *group_nr;
	int container, group, dev, rc, hold;
	ssize_t len;
	FILE *iomem;

	setvbuf(stdout, NULL, _IOLBF, 0);
	hold = argc == 3 && strcmp(argv[1], "--hold") == 0;
	argv += hold;
	argc -= hold;
	if (argc != 2) {
		fprintf(stderr, "usage: vfio-bar [--hold] ADDRESS\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", argv[1]);
	len = readlink(path, link, sizeof(link) - 1);
	if (len < 0)
		return fail("iommu_group");
	link[len] = '\0';
	group_nr = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;

	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0)
		return fail("/dev/vfio/vfio");
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1)
		return errno = ENOTSUP, fail("VFIO type 1 v2");
	snprintf(path, sizeof(path), "/dev/vfio/%.32s", group_nr);
	group = open(path, O_RDWR);
	if (group < 0)
		return fail(path);
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &status) != 0)
		return fail("group status");
	printf("VFIO-BAR group %s viable=%s\n", group_nr,
	       (status.flags & VFIO_GROUP_FLAGS_VIABLE) ? "yes" : "no");
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) != 0)
		return fail("set container");
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) != 0)
		return fail("set IOMMU");
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[1]);
	if (dev < 0)
		return fail("device");
	printf("VFIO-BAR device %s open\n", argv[1]);
	while (hold)
		pause();
	rc = memory_on(dev);
	if (rc == 0)
		rc = rw_bar0(dev);
	if (rc == 0)
		rc = read_bar2(dev);
	/* While the device is open (and BAR 0 was mapped once). */
	iomem = fopen("/proc/iomem", "r");
	if (iomem) {
		while (fgets(line, sizeof(line), iomem))
			printf("IOMEM-OPEN %s", line);
		fclose(iomem);
	}
	close(dev);
	close(group);
	close(container);
	return rc;
}
