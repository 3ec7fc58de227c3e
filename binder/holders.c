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
static void add_nodes(const char *dir, const char *devdir, bool top)
{
	struct dir_reader d;
	char path[MAX_PATHLEN];
	const char *name;

	if (dir_open(&d, dir) != 0)
		return;
	while ((name = dir_next(&d))) {
		int len = fmt(path, sizeof(path), "%s/%s/dev", dir, name);

		if (len >= (int)sizeof(path))
			continue;
		if (path_exists(path))
			add_node(devdir, name);
		else if (top && !strncmp(name, "card", 4)) {
			path[len - 4] = '\0';
			add_nodes(path, devdir, false);
		}
	}
	dir_close(&d);
}

static void add_class_nodes(const char *addr, const char *class, const char *devdir)
{
	char dir[MAX_PATHLEN];

	if (root_path(dir, sizeof(dir), "/sys/bus/pci/devices/%s/%s", addr, class) == 0)
		add_nodes(dir, devdir, true);
}

static void add_nvidia_nodes(const char *addr)
{
	char path[MAX_PATHLEN], info[2048], *minor;

	if (root_path(path, sizeof(path), "/proc/driver/nvidia/gpus/%s/information", addr) != 0 ||
	    read_file(path, info, sizeof(info)) != 0 ||
	    !(minor = strstr(info, "Device Minor:")))
		return;
	minor += 13;
	minor += strspn(minor, " \t");
	minor[strcspn(minor, "\n")] = '\0';
	add_node("/dev/nvidia", minor);
	if (count_entries("/proc/driver/nvidia/gpus") == 1) {
		add_node("/dev/nvidia", "ctl");
		add_node("/dev/nvidia", "-modeset");
		add_node("/dev/nvidia", "-uvm");
		add_node("/dev/nvidia", "-uvm-tools");
	}
}

/* The processes that have one of the nodes open, each node once a process. */
static int log_processes(const char *addr, enum log_level level, const char *tail)
{
	static struct dir_reader procs, fds;
	char proc[MAX_PATHLEN], path[MAX_PATHLEN], target[MAX_PATHLEN], comm[64];
	const char *pid, *fd;
	int found = 0, k;

	if (root_path(proc, sizeof(proc), "/proc") != 0 || dir_open(&procs, proc) != 0)
		return 0;
	while ((pid = dir_next(&procs))) {
		uint32_t seen = 0;

		if (*pid < '1' || *pid > '9' ||
		    fmt(path, sizeof(path), "%s/%s/fd", proc, pid) >= (int)sizeof(path) ||
		    dir_open(&fds, path) != 0)
			continue;
		while ((fd = dir_next(&fds))) {
			ssize_t n;

			fmt(path, sizeof(path), "%s/%s/fd/%s", proc, pid, fd);
			n = readlink(path, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			for (k = 0; k < nnodes; k++) {
				if (strcmp(nodes[k], target) != 0 || seen & 1u << k)
					continue;
				seen |= 1u << k;
				fmt(path, sizeof(path), "%s/%s/comm", proc, pid);
				if (read_attr(path, comm, sizeof(comm)) != 0)
					comm[0] = '\0';
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

/* fbcon on the function's framebuffer (see above), one of the first
 * vtconsoles (MAX_NR_CON_DRIVER is 16). */
static int log_console(const char *addr, const struct pci_func *f,
                       enum log_level level, const char *tail)
{
	char path[MAX_PATHLEN], text[64];
	int found = 0, n;

	if (root_path(path, sizeof(path), f->boot_vga == 1 ? "/sys/bus/pci/devices/%s/graphics"
	                                                   : "/sys/bus/pci/devices/%s/graphics/fb0",
	              addr) != 0 || !path_exists(path))
		return 0;
	for (n = 0; n < 16; n++) {
		if (root_path(path, sizeof(path), "/sys/class/vtconsole/vtcon%d/name", n) != 0 ||
		    read_attr(path, text, sizeof(text)) != 0 || !contains(text, "frame buffer"))
			continue;
		strcpy(path + strlen(path) - 4, "bind");
		if (read_attr(path, text, sizeof(text)) == 0 && text[0] == '1') {
			logmsg(level, "%s is in use: the console (vtcon%d) is on its framebuffer%s",
			       addr, n, tail);
			found++;
		}
	}
	return found;
}

int log_holders(const struct pci_func *f, enum log_level level, const char *tail)
{
	char addr[ADDR_STRLEN], group[16];

	format_addr(addr, f->addr);
	nnodes = 0;
	add_class_nodes(addr, "drm", "/dev/dri/");
	add_class_nodes(addr, "sound", "/dev/snd/");
	add_class_nodes(addr, "vfio-dev", "/dev/vfio/devices/");
	add_nvidia_nodes(addr);
	if (f->group >= 0) {
		fmt(group, sizeof(group), "%d", f->group);
		add_node("/dev/vfio/", group);
	}
	return log_processes(addr, level, tail) + log_console(addr, f, level, tail);
}
