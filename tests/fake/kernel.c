/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake_kernel: a synchronous model of the kernel's PCI sysfs stores, for the
 * unit tests.  The unit-test binder links it in place of the real table
 * (binder/util.c, -DKERNEL_OPS=fake_kernel), so every write the binder makes
 * to a fixture tree under --root (tests/lib/fixture.bash) has had its effect
 * by the time write() returns, as on the kernel:
 *
 *   devices/ADDR/driver_override  a plain file: the value lands in it, and
 *                                 binds nothing by itself
 *   drivers_probe ADDR            binds an unbound function: to the override's
 *                                 driver if one is set (nothing if that driver
 *                                 is not registered), else to its native driver
 *                                 (.fixture/devices/ADDR); success either way,
 *                                 ENODEV for an unknown address
 *   drivers/NAME/bind ADDR        binds if NAME matches (the override, or
 *                                 without one the native driver): else ENODEV,
 *                                 EBUSY if the function is bound
 *   drivers/NAME/unbind ADDR      ENODEV unless NAME holds the function
 *   devices/ADDR/driver/unbind    the same through the driver link: ENOENT
 *                                 when the function is unbound
 *   devices/ADDR/reset_method     as reset_method_store (Linux 5.15+): names
 *                                 separated by blanks set that order, each a
 *                                 method of the kernel's and of the function
 *                                 (.fixture/reset_method/ADDR, the fixture's
 *                                 reset=), else EINVAL and nothing changes;
 *                                 "default" restores the function's own list,
 *                                 "" empties it; ENOENT without the file
 *   devices/ADDR/sriov_numvfs N   as sriov_numvfs_store: ENOENT while the PF
 *                                 is unbound, ERANGE above sriov_totalvfs,
 *                                 EBUSY for another count while it has VFs;
 *                                 else VF k appears at the PF's address + 1
 *                                 + k beside it (physfn, virtfnK, its own
 *                                 IOMMU group, the PF's native driver), and
 *                                 is probed at once only while the PF's
 *                                 sriov_drivers_autoprobe (a plain file) is
 *                                 not 0; 0 is not modelled
 *   drivers_probe (a VF)          binds nothing while its PF's autoprobe is 0
 *                                 and it has no override (pci_device_can_probe)
 *
 * A bound function ignores a later override until it is unbound and probed
 * again.  Every write is appended to ROOT/kernel.log as "PATH VALUE", PATH
 * relative to ROOT, in write order (a write through devices/ADDR/driver/
 * as the bound driver's own file, drivers/NAME/, which it is); a write that
 * fails ends with " -> ENAME".
 *
 * Faults, one rule a line in ROOT/.fixture/faults (fixture_fault writes it):
 *   fail PATH ENAME    a write to PATH fails with ENAME and changes nothing
 *   vanish ADDR        the function is hot-unplugged after the scan, just
 *                      before the binder's first write
 *   async DRIVER N     DRIVER probes asynchronously: a bind to it shows in
 *                      the function's driver link only after the binder has
 *                      read that link N times
 *   no-driver MODULE   for the fake modprobe (fixture.bash) only
 *   hang PATH          a write to PATH never returns, as an unbind does while
 *                      the driver's remove waits for a process that holds
 *                      the device: logged as "PATH VALUE -> blocked", the
 *                      writer's PID in ROOT/.fixture/blocked, then it sleeps
 *                      (60 s at most) until the test kills it
 *
 * Test code: it may use stdio and is not bound by the binder's size budget.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfio-reserve.h"

#define PCI "sys/bus/pci"
#define MAX_FAULTS 64
#define MAX_PENDING 64

struct fault {
	char kind[16];
	char arg[MAX_PATHLEN];
	char arg2[32];
};

static struct fault faults[MAX_FAULTS];
static int nfaults = -1;      /* -1: not read yet */
static bool unplugged;

/* Binds that an asynchronous driver has not finished yet. */
static struct pending {
	char addr[ADDR_STRLEN];
	char driver[MAX_NAME];
	long polls_left;
} pending[MAX_PENDING];
static int npending;

static const struct {
	const char *name;
	int value;
} errnos[] = {
	{ "EACCES", EACCES }, { "EROFS", EROFS }, { "ENODEV", ENODEV },
	{ "ENOENT", ENOENT }, { "EBUSY", EBUSY }, { "EIO", EIO },
	{ "EINVAL", EINVAL }, { "EPERM", EPERM }, { "ENOSPC", ENOSPC },
	{ "EEXIST", EEXIST }, { "ENXIO", ENXIO }, { "EAGAIN", EAGAIN },
	{ "ERANGE", ERANGE },
};

static void __attribute__((noreturn)) fake_die(const char *what, const char *detail)
{
	fprintf(stderr, "fake kernel: %s: %s\n", what, detail);
	exit(99);
}

static const char *errno_name(int value)
{
	size_t i;

	for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].value == value)
			return errnos[i].name;
	return "E?";
}

static int errno_value(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (strcmp(errnos[i].name, name) == 0)
			return errnos[i].value;
	fake_die("unknown errno name in .fixture/faults", name);
	return 0;
}

/* ROOT/..., or a test bug. */
static void __attribute__((format(printf, 2, 3)))
root_file(char *buf, const char *format, ...)
{
	char rel[MAX_PATHLEN];
	va_list ap;
	int n;

	va_start(ap, format);
	n = vsnprintf(rel, sizeof(rel), format, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(rel) ||
	    (size_t)snprintf(buf, MAX_PATHLEN, "%s/%s", sys_root, rel) >= MAX_PATHLEN)
		fake_die("path too long", format);
}

static void load_faults(void)
{
	char path[MAX_PATHLEN], line[MAX_PATHLEN + 64];
	FILE *file;

	if (nfaults >= 0)
		return;
	nfaults = 0;
	root_file(path, ".fixture/faults");
	file = fopen(path, "r");
	if (!file)
		return;
	while (fgets(line, sizeof(line), file)) {
		struct fault *f = &faults[nfaults];
		char *hash = strchr(line, '#');
		int n;

		if (hash)
			*hash = '\0';
		n = sscanf(line, "%15s %4095s %31s", f->kind, f->arg, f->arg2);
		if (n <= 0)
			continue;
		if (nfaults == MAX_FAULTS - 1)
			fake_die("too many rules in", path);
		if ((strcmp(f->kind, "fail") == 0 && n == 3) ||
		    (strcmp(f->kind, "async") == 0 && n == 3) ||
		    (strcmp(f->kind, "vanish") == 0 && n == 2) ||
		    (strcmp(f->kind, "hang") == 0 && n == 2) ||
		    (strcmp(f->kind, "no-driver") == 0 && n == 2))
			nfaults++;
		else
			fake_die("bad rule in .fixture/faults", line);
		if (strcmp(f->kind, "fail") == 0)
			errno_value(f->arg2);
	}
	fclose(file);
}

static const struct fault *find_fault(const char *kind, const char *arg)
{
	int i;

	for (i = 0; i < nfaults; i++)
		if (strcmp(faults[i].kind, kind) == 0 && strcmp(faults[i].arg, arg) == 0)
			return &faults[i];
	return NULL;
}

/* The path as the log spells it: relative to ROOT. */
static const char *relative(const char *path)
{
	size_t len = strlen(sys_root);

	if (strncmp(path, sys_root, len) == 0)
		path += len;
	while (*path == '/')
		path++;
	return path;
}

static void log_write(const char *rel, const char *value, int error)
{
	char path[MAX_PATHLEN], line[MAX_PATHLEN + MAX_NAME + 32];
	int fd, n;

	n = snprintf(line, sizeof(line), "%s %s%s%s\n", rel, value,
	             error ? " -> " : "", error < 0 ? "blocked" : error ? errno_name(error) : "");
	root_file(path, "kernel.log");
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, (size_t)n) != n)
		fake_die("cannot append to", path);
	close(fd);
}

/* A function from the fixture's description: its device directory
 * (relative to ROOT) and native driver ("-" for none). */
struct function {
	char addr[ADDR_STRLEN];
	char dir[MAX_PATHLEN];
	char native[MAX_NAME];
};

static bool find_function(const char *addr, struct function *fn)
{
	char path[MAX_PATHLEN], line[MAX_PATHLEN + MAX_NAME];
	pci_addr a;

	if (strlen(addr) != ADDR_STRLEN - 1 || !parse_addr(addr, &a))
		return false;
	snprintf(fn->addr, sizeof(fn->addr), "%s", addr);
	root_file(path, ".fixture/devices/%s", addr);
	if (read_attr(path, line, sizeof(line)) != 0)
		return false;
	if (sscanf(line, "%4095s %63s", fn->dir, fn->native) != 2)
		fake_die("bad line in", path);
	return true;
}

static bool is_dir(const char *rel)
{
	char path[MAX_PATHLEN];
	struct stat st;

	root_file(path, "%s", rel);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool driver_registered(const char *driver)
{
	char rel[MAX_PATHLEN];

	snprintf(rel, sizeof(rel), PCI "/drivers/%s", driver);
	return driver[0] && strchr(driver, '/') == NULL && is_dir(rel);
}

/* The driver the function is bound to, "" if none. */
static void bound_driver(const struct function *fn, char *buf, size_t size)
{
	char path[MAX_PATHLEN];

	root_file(path, "%s/driver", fn->dir);
	if (sysfs_kernel.read_link(path, buf, size) != 0)
		buf[0] = '\0';
}

static void override_of(const struct function *fn, char *buf, size_t size)
{
	char path[MAX_PATHLEN];

	root_file(path, "%s/driver_override", fn->dir);
	if (read_attr(path, buf, size) != 0 || strcmp(buf, "(null)") == 0)
		buf[0] = '\0';
}

static struct pending *find_pending(const char *addr)
{
	int i;

	for (i = 0; i < npending; i++)
		if (strcmp(pending[i].addr, addr) == 0)
			return &pending[i];
	return NULL;
}

/* The two links of a binding, spelled as sysfs spells them (shortest
 * relative path), the device's own link last: it is what the binder polls. */
static void link_now(const struct function *fn, const char *driver)
{
	const char *below_sys = fn->dir + strlen("sys/"), *p;
	char link[MAX_PATHLEN], target[MAX_PATHLEN] = "";

	/* from sys/bus/pci/drivers/NAME, four levels up to sys */
	root_file(link, PCI "/drivers/%s/%s", driver, fn->addr);
	snprintf(target, sizeof(target), "../../../../%s", below_sys);
	if (symlink(target, link) != 0)
		fake_die("cannot link", link);
	/* from the device directory, one level up per component below sys */
	target[0] = '\0';
	for (p = below_sys; *p; p++)
		if (*p == '/')
			strcat(target, "../");
	strcat(target, "../bus/pci/drivers/");
	strcat(target, driver);
	root_file(link, "%s/driver", fn->dir);
	if (symlink(target, link) != 0)
		fake_die("cannot link", link);
}

static void attach(const struct function *fn, const char *driver)
{
	const struct fault *async = find_fault("async", driver);
	struct pending *p;

	if (async && atol(async->arg2) > 0) {
		if (npending == MAX_PENDING)
			fake_die("too many pending binds for", driver);
		p = &pending[npending++];
		snprintf(p->addr, sizeof(p->addr), "%s", fn->addr);
		snprintf(p->driver, sizeof(p->driver), "%s", driver);
		p->polls_left = atol(async->arg2);
		return;
	}
	link_now(fn, driver);
}

static void detach(const struct function *fn, const char *driver)
{
	char path[MAX_PATHLEN];

	root_file(path, PCI "/drivers/%s/%s", driver, fn->addr);
	unlink(path);
	root_file(path, "%s/driver", fn->dir);
	unlink(path);
}

/* pci_bus_match: an override restricts binding to the driver it names;
 * without one only a driver whose ID table matches, here the native one. */
static bool matches(const struct function *fn, const char *driver)
{
	char override[MAX_NAME];

	override_of(fn, override, sizeof(override));
	if (override[0])
		return strcmp(override, driver) == 0;
	return strcmp(fn->native, driver) == 0;
}

/* A VF (physfn link) whose PF's sriov_drivers_autoprobe is 0. */
static bool autoprobe_off(const struct function *fn)
{
	char path[MAX_PATHLEN], value[8];

	root_file(path, "%s/physfn/sriov_drivers_autoprobe", fn->dir);
	return read_attr(path, value, sizeof(value)) == 0 && strcmp(value, "0") == 0;
}

static int probe(const char *value)
{
	struct function fn;
	char driver[MAX_NAME], override[MAX_NAME];

	if (!find_function(value, &fn))
		return ENODEV;
	bound_driver(&fn, driver, sizeof(driver));
	if (driver[0] || find_pending(fn.addr))
		return 0;
	override_of(&fn, override, sizeof(override));
	if (!override[0] && autoprobe_off(&fn))
		return 0;
	if (override[0]) {
		if (driver_registered(override))
			attach(&fn, override);
	} else if (driver_registered(fn.native)) {
		attach(&fn, fn.native);
	}
	return 0;
}

static int driver_store(const char *driver, const char *action, const char *value)
{
	struct function fn;
	char bound[MAX_NAME];

	if (!driver_registered(driver))
		return ENOENT;
	if (strcmp(action, "new_id") == 0 || strcmp(action, "remove_id") == 0)
		return 0;
	if (strcmp(action, "bind") != 0 && strcmp(action, "unbind") != 0)
		return ENOENT;
	if (!find_function(value, &fn))
		return ENODEV;
	bound_driver(&fn, bound, sizeof(bound));
	if (strcmp(action, "unbind") == 0) {
		if (strcmp(bound, driver) != 0)
			return ENODEV;
		detach(&fn, driver);
		return 0;
	}
	if (!matches(&fn, driver))
		return ENODEV;
	if (bound[0] || find_pending(fn.addr))
		return EBUSY;
	attach(&fn, driver);
	return 0;
}

/* Hot-unplug: the device directory and every link to it go; the fixture
 * forgets the address, so the bus answers ENODEV for it. */
static void unplug(const char *addr)
{
	struct function fn;
	char path[MAX_PATHLEN], gone[MAX_PATHLEN], name[MAX_NAME];

	if (!find_function(addr, &fn))
		return;
	bound_driver(&fn, name, sizeof(name));
	if (name[0])
		detach(&fn, name);
	root_file(path, "%s/iommu_group", fn.dir);
	if (sysfs_kernel.read_link(path, name, sizeof(name)) == 0) {
		root_file(path, "sys/kernel/iommu_groups/%s/devices/%s", name, addr);
		unlink(path);
	}
	root_file(path, PCI "/devices/%s", addr);
	unlink(path);
	root_file(path, "%s", fn.dir);
	root_file(gone, ".fixture/unplugged-%s", addr);
	if (rename(path, gone) != 0)
		fake_die("cannot unplug", path);
	root_file(path, ".fixture/devices/%s", addr);
	unlink(path);
}

/* The methods of pci_reset_fn_methods[] (drivers/pci/pci.c, 6.1). */
static bool kernel_reset_method(const char *name)
{
	static const char *const names[] = {
		"device_specific", "acpi", "flr", "af_flr", "pm", "bus", "cxl_bus",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

static int reset_method_store(const char *path, const char *addr, const char *value)
{
	char own[256] = "", order[256] = "", copy[256], *name, *save = NULL;
	char file[MAX_PATHLEN];
	struct stat st;

	if (stat(path, &st) != 0)
		return ENOENT;
	root_file(file, ".fixture/reset_method/%s", addr);
	read_attr(file, own, sizeof(own));
	if (strcmp(value, "default") == 0)
		return sysfs_kernel.write_attr(path, own) == 0 ? 0 : errno;
	snprintf(copy, sizeof(copy), "%s", value);
	for (name = strtok_r(copy, " ", &save); name; name = strtok_r(NULL, " ", &save)) {
		char padded[300];

		snprintf(padded, sizeof(padded), " %s ", own);
		if (!kernel_reset_method(name))
			return EINVAL;      /* "Invalid reset method" */
		{
			char word[64];

			snprintf(word, sizeof(word), " %s ", name);
			if (!strstr(padded, word))
				return EINVAL;  /* "Unsupported reset method" */
		}
		if (order[0])
			strcat(order, " ");
		strncat(order, name, sizeof(order) - strlen(order) - 1);
	}
	return sysfs_kernel.write_attr(path, order) == 0 ? 0 : errno;
}

static void put_file(const char *path, const char *text)
{
	FILE *file = fopen(path, "w");

	if (!file || fputs(text, file) < 0 || fclose(file) != 0)
		fake_die("cannot write", path);
}

static void put_link(const char *target, const char *path)
{
	if (symlink(target, path) != 0)
		fake_die("cannot link", path);
}

/* VF k: the PF's uevent (the binder reads its class and ID), an empty
 * override, group 100 + the VF's function number and device. */
static void add_vf(const struct function *pf, int k, int *vf_addr)
{
	char dir[MAX_PATHLEN], path[MAX_PATHLEN + 32], target[MAX_PATHLEN], text[512];
	char addr[ADDR_STRLEN], *slash;
	pci_addr a;
	int group;

	parse_addr(pf->addr, &a);
	a += 1 + (pci_addr)k;
	format_addr(addr, a);
	*vf_addr = (int)a;
	group = 100 + (int)(a & 0xff);
	root_file(dir, "%s", pf->dir);
	slash = strrchr(dir, '/');
	snprintf(slash + 1, ADDR_STRLEN, "%s", addr);
	if (mkdir(dir, 0755) != 0)
		fake_die("cannot make", dir);
	root_file(path, "%s/uevent", pf->dir);
	if (read_file(path, text, sizeof(text)) != 0)
		fake_die("cannot read", path);
	snprintf(path, sizeof(path), "%s/uevent", dir);
	put_file(path, text);
	snprintf(path, sizeof(path), "%s/driver_override", dir);
	put_file(path, "");
	root_file(target, "%s", pf->dir);
	snprintf(path, sizeof(path), "%s/physfn", dir);
	put_link(target, path);
	root_file(path, "%s/virtfn%d", pf->dir, k);
	put_link(dir, path);
	root_file(target, "sys/kernel/iommu_groups/%d", group);
	mkdir(target, 0755);
	snprintf(path, sizeof(path), "%s/iommu_group", dir);
	put_link(target, path);
	root_file(path, PCI "/devices/%s", addr);
	put_link(dir, path);
	root_file(path, ".fixture/devices/%s", addr);
	snprintf(text, sizeof(text), "%s %s\n", relative(dir), pf->native);
	put_file(path, text);
}

static int sriov_numvfs_store(const char *path, const char *addr, const char *value)
{
	char text[16], driver[MAX_NAME], total_path[MAX_PATHLEN];
	struct function pf;
	long want = atol(value), now, total;
	int k, vf;

	if (!find_function(addr, &pf))
		return ENOENT;
	root_file(total_path, "%s/sriov_totalvfs", pf.dir);
	if (read_attr(total_path, text, sizeof(text)) != 0)
		return ENOENT;
	total = atol(text);
	if (read_attr(path, text, sizeof(text)) != 0)
		fake_die("no sriov_numvfs beside sriov_totalvfs", path);
	now = atol(text);
	if (want == now)
		return 0;
	bound_driver(&pf, driver, sizeof(driver));
	if (!driver[0])
		return ENOENT;
	if (want > total)
		return ERANGE;
	if (now)
		return EBUSY;
	if (want == 0)
		fake_die("removing VFs is not modelled", path);
	put_file(path, value);
	for (k = 0; k < want; k++) {
		char name[ADDR_STRLEN];

		add_vf(&pf, k, &vf);
		format_addr(name, (pci_addr)vf);
		/* The new function's own probe: pci_bus_add_device. */
		probe(name);
	}
	return 0;
}

static int store(const char *path, const char *rel, const char *value)
{
	const struct fault *fail = find_fault("fail", rel);
	char driver[MAX_NAME], addr[ADDR_STRLEN], action[16];
	int n;

	if (fail)
		return errno_value(fail->arg2);
	if (strcmp(rel, PCI "/drivers_probe") == 0)
		return probe(value);
	n = 0;
	if (sscanf(rel, PCI "/drivers/%63[^/]/%15[^/]%n", driver, action, &n) == 2 &&
	    rel[n] == '\0')
		return driver_store(driver, action, value);
	n = 0;
	if (sscanf(rel, PCI "/devices/%12[^/]/driver/%15[^/]%n", addr, action, &n) == 2 &&
	    rel[n] == '\0') {
		struct function fn;

		if (!find_function(addr, &fn))
			return ENOENT;
		bound_driver(&fn, driver, sizeof(driver));
		if (!driver[0])
			return ENOENT;
		return driver_store(driver, action, value);
	}
	n = 0;
	if (sscanf(rel, PCI "/devices/%12[^/]/reset_method%n", addr, &n) == 1 &&
	    rel[n] == '\0')
		return reset_method_store(path, addr, value);
	n = 0;
	if (sscanf(rel, PCI "/devices/%12[^/]/sriov_numvfs%n", addr, &n) == 1 &&
	    rel[n] == '\0')
		return sriov_numvfs_store(path, addr, value);
	/* Anything else, driver_override among it, is a plain attribute. */
	return sysfs_kernel.write_attr(path, value) == 0 ? 0 : errno;
}

/* devices/ADDR/driver/ACTION is the bound driver's own file, reached
 * through the driver link: the log names that file, drivers/NAME/ACTION,
 * as the kernel resolves it, so that it says which driver let go. */
static const char *canonical(const char *rel, char *buf, size_t size)
{
	char driver[MAX_NAME], addr[ADDR_STRLEN], action[16];
	struct function fn;
	int n = 0;

	if (sscanf(rel, PCI "/devices/%12[^/]/driver/%15[^/]%n", addr, action, &n) == 2 &&
	    rel[n] == '\0' && find_function(addr, &fn)) {
		bound_driver(&fn, driver, sizeof(driver));
		if (driver[0]) {
			snprintf(buf, size, PCI "/drivers/%s/%s", driver, action);
			return buf;
		}
	}
	return rel;
}

static int fake_write_attr(const char *path, const char *value)
{
	char resolved[MAX_PATHLEN];
	const char *rel = relative(path), *logged;
	int i, error;

	/* Without --root the model would write to the live /sys. */
	if (!sys_root[0])
		fake_die("the unit-test build writes only under --root", path);
	load_faults();
	/* The binder writes only after its scan: unplug now. */
	if (!unplugged) {
		unplugged = true;
		for (i = 0; i < nfaults; i++)
			if (strcmp(faults[i].kind, "vanish") == 0)
				unplug(faults[i].arg);
	}
	logged = canonical(rel, resolved, sizeof(resolved));
	if (find_fault("hang", rel)) {
		char blocked[MAX_PATHLEN], pid[16];

		log_write(logged, value, -1);
		root_file(blocked, ".fixture/blocked");
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		sysfs_kernel.write_attr(blocked, pid);
		sleep(60);
		_exit(0);
	}
	error = store(path, rel, value);
	log_write(logged, value, error);
	if (error) {
		errno = error;
		return -1;
	}
	return 0;
}

static int fake_read_link(const char *path, char *buf, size_t size)
{
	const char *rel = relative(path);
	char addr[ADDR_STRLEN];
	struct pending *p;
	struct function fn;
	int n = 0;

	load_faults();
	if (sscanf(rel, PCI "/devices/%12[^/]/driver%n", addr, &n) == 1 && rel[n] == '\0' &&
	    (p = find_pending(addr)) && --p->polls_left < 0) {
		if (find_function(addr, &fn))
			link_now(&fn, p->driver);
		*p = pending[--npending];
	}
	return sysfs_kernel.read_link(path, buf, size);
}

const struct kernel_ops fake_kernel = { fake_write_attr, fake_read_link };
