/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What holds a PCI function on the running host, asked before a person's
 * command (bind, release, apply; never apply --boot, before anything runs)
 * unbinds it: a driver's remove may wait as long as a process has the
 * device open (vfio-pci under a VM, nvidia), and one that does not wait
 * leaves the process with a dead file.  actions.c refuses, naming each
 * holder, unless forced.
 *
 * Everything is found the way the kernel exposes it, under --root: the
 * device nodes of the function's DRM devices, sound card and VFIO device
 * (Linux 6.6+) are the entries of its drm/, sound/cardN/ and vfio-dev/
 * that have a `dev` attribute, named in /dev/dri, /dev/snd and
 * /dev/vfio/devices as in sysfs; its IOMMU group is /dev/vfio/N.  An NVIDIA
 * GPU's node is /dev/nvidiaN, N its "Device Minor:" in
 * /proc/driver/nvidia/gpus/ADDR/information; nvidiactl, nvidia-uvm,
 * nvidia-modeset and the rest serve every NVIDIA GPU, so they count only
 * for the host's one NVIDIA GPU.  /proc/PID/fd/N names what each process
 * has open.  The console is fbcon's on one framebuffer: the boot VGA's
 * (fbcon's primary) or, without one, fb0 (fbcon=map: moves it, and is not
 * read); a frame buffer vtconsole with bind 1 says fbcon is on.
 */
#include <string.h>
#include <unistd.h>

#include "vfio-reserve.h"

#define MAX_NODES 32    /* device nodes of one function: a sound card has ~20 */

static char nodes[MAX_NODES][40];
static int nnodes;

static void add_node(const char *dir, const char *name)
{
	if (nnodes < MAX_NODES)
		fmt(nodes[nnodes++], sizeof(nodes[0]), "%s%s", dir, name);
}

/* The entries of `dir` with a device number are nodes in `devdir`; a sound
 * card (cardN, which has none) holds its own. */
static void add_nodes(char *dir, const char *devdir, bool top)
{
	struct dir_reader d;
	const char *name;
	size_t len = strlen(dir);

	if (dir_open(&d, dir) != 0)
		return;
	while ((name = dir_next(&d))) {
		/* Cut short, the path names nothing. */
		fmt(dir + len, MAX_PATHLEN - len, "/%s/dev", name);
		if (path_exists(dir))
			add_node(devdir, name);
		else if (top && !strncmp(name, "card", 4)) {
			dir[strlen(dir) - 4] = '\0';
			add_nodes(dir, devdir, false);
		}
	}
	dir[len] = '\0';
	dir_close(&d);
}

/* The processes that have one of the nodes open, each node once a process. */
static int log_processes(const char *addr, enum log_level level, const char *tail)
{
	static struct dir_reader procs, fds;
	static char path[MAX_PATHLEN], target[MAX_PATHLEN];
	char comm[64];
	const char *pid, *fd;
	int found = 0, k;
	size_t len;

	if (root_path(path, sizeof(path), "/proc") != 0 || dir_open(&procs, path) != 0)
		return 0;
	while ((pid = dir_next(&procs))) {
		uint32_t seen = 0;

		if (*pid < '1' || *pid > '9' ||
		    root_path(path, sizeof(path), "/proc/%s/fd/", pid) != 0 ||
		    dir_open(&fds, path) != 0)
			continue;
		len = strlen(path);
		while ((fd = dir_next(&fds))) {
			ssize_t n;

			fmt(path + len, sizeof(path) - len, "%s", fd);
			n = readlink(path, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			for (k = 0; k < nnodes; k++) {
				if (strcmp(nodes[k], target) != 0 || seen & 1u << k)
					continue;
				seen |= 1u << k;
				/* PID/fd/ becomes PID/comm for this read only. */
				strcpy(path + len - 3, "comm");
				if (read_attr(path, comm, sizeof(comm)) != 0)
					comm[0] = '\0';
				memcpy(path + len - 4, "/fd/", 4);
				logmsg(level, "%s is in use: PID %s (%s) has %s open%s", addr,
				       pid, comm, target, tail);
				found++;
			}
		}
		dir_close(&fds);
	}
	dir_close(&procs);
	return found;
}

int log_holders(const struct pci_func *f, enum log_level level, const char *tail)
{
	static const char *const classes[] = {
		"drm", "/dev/dri/", "sound", "/dev/snd/", "vfio-dev", "/dev/vfio/devices/",
	};
	char addr[ADDR_STRLEN], path[MAX_PATHLEN], text[2048], *minor;
	int found = 0, n;

	format_addr(addr, f->addr);
	nnodes = 0;
	if (f->group >= 0)
		fmt(nodes[nnodes++], sizeof(nodes[0]), "/dev/vfio/%d", f->group);
	for (n = 0; n < 6; n += 2)
		if (root_path(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", addr, classes[n]) == 0)
			add_nodes(path, classes[n + 1], true);
	if (root_path(path, sizeof(path), "%s/%s/information", "/proc/driver/nvidia/gpus", addr) == 0 &&
	    read_file(path, text, sizeof(text)) == 0 && (minor = strstr(text, "Device Minor:"))) {
		minor += 13;
		minor += strspn(minor, " \t");
		minor[strspn(minor, "0123456789")] = '\0';
		add_node("/dev/nvidia", minor);
		if (count_entries("/proc/driver/nvidia/gpus") == 1) {
			add_node("/dev/nvidia", "ctl");
			add_node("/dev/nvidia", "-modeset");
			add_node("/dev/nvidia", "-uvm");
			add_node("/dev/nvidia", "-uvm-tools");
		}
	}
	found = log_processes(addr, level, tail);
	/* fbcon on the function's framebuffer, on one of the first vtconsoles
	 * (MAX_NR_CON_DRIVER is 16). */
	if (root_path(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", addr,
	              f->boot_vga == 1 ? "graphics" : "graphics/fb0") != 0 || !path_exists(path))
		return found;
	for (n = 0; n < 16; n++) {
		if (root_path(path, sizeof(path), "/sys/class/vtconsole/vtcon%d/name", n) != 0 ||
		    read_attr(path, text, 64) != 0 || !contains(text, "frame buffer"))
			continue;
		strcpy(path + strlen(path) - 4, "bind");
		if (read_attr(path, text, 64) == 0 && text[0] == '1') {
			logmsg(level, "%s is in use: the console (vtcon%d) is on its framebuffer%s",
			       addr, n, tail);
			found++;
		}
	}
	return found;
}
