/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Actions on sysfs: apply a selection, release a reservation.
 *
 * apply works in phases over all selected functions rather than one function
 * at a time: every override is written before anything is unbound or probed,
 * so that no driver loaded meanwhile (by modprobe, or by a sibling's unbind)
 * can take a function whose override is still unwritten.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vfio-reserve.h"

#define PROBE_WAIT_US  1000000L  /* a driver that binds asynchronously gets this long */
#define PROBE_POLL_MS  2
#ifndef UNBIND_WAIT_MS           /* the unit tests' build waits less */
#define UNBIND_WAIT_MS 10000     /* for a driver to let go of a function */
#endif

enum step { UNSELECTED, PENDING, ALREADY, DONE, FAILED };

static enum step steps[MAX_FUNCS];
static bool set_reset[MAX_FUNCS];   /* reset= is written to it */

static int function_path(char *buf, size_t size, const struct pci_func *f,
                         const char *attr)
{
	char addr[ADDR_STRLEN];

	format_addr(addr, f->addr);
	return root_path(buf, size, "/sys/bus/pci/devices/%s/%s", addr, attr);
}

static bool write_failed(const char *path, const char *value)
{
	logmsg(LOG_ERR, "cannot write '%s' to %s: %s", value, path, strerror(errno));
	return false;
}

bool write_or_warn(const char *path, const char *value)
{
	return write_attr(path, value) == 0 || write_failed(path, value);
}

static bool write_override(const struct pci_func *f, const char *driver)
{
	char path[MAX_PATHLEN];

	return function_path(path, sizeof(path), f, "driver_override") == 0 &&
	       write_or_warn(path, driver);
}

bool write_bus_attr(const char *attr, const struct pci_func *f)
{
	char path[MAX_PATHLEN], addr[ADDR_STRLEN];

	format_addr(addr, f->addr);
	return root_path(path, sizeof(path), "/sys/bus/pci/%s", attr) == 0 &&
	       write_or_warn(path, addr);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Through the device's own driver link, so the kernel unbinds whichever
 * driver holds it now.  One that let go since the scan is no error: no link
 * (ENOENT), or gone between the open and the write (ENODEV).
 * The write is a child's: a driver's remove may wait for the processes that
 * hold the device (vfio-pci for a VM) in a sleep no signal ends, and the
 * writer with it.  The child keeps none of our output open, and is left to
 * the kernel after UNBIND_WAIT_MS; its device is left alone then, since the
 * kernel holds the device's lock (a probe would wait too), and its driver
 * link, which the kernel removes before the driver's remove, says nothing. */
static bool unbind(const struct pci_func *f)
{
	char path[MAX_PATHLEN], addr[ADDR_STRLEN];
	long deadline = elapsed_us() + UNBIND_WAIT_MS * 1000L;
	int status = 0;
	pid_t pid;

	format_addr(addr, f->addr);
	if (function_path(path, sizeof(path), f, "driver/unbind") != 0)
		return false;
	/* fork() would bring musl's at-fork locks and signal masking (600
	 * bytes) to a program with one thread, whose child only writes. */
#ifdef SYS_fork
	pid = (pid_t)syscall(SYS_fork);
#else
	pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
#endif
	if (pid == 0) {
		close(1);
		close(2);
		_exit(write_attr(path, addr) == 0 ? 0 : errno);
	}
	while (pid > 0 && waitpid(pid, &status, WNOHANG) == 0) {
		if (elapsed_us() >= deadline) {
			logmsg(LOG_ERR, "%s: the kernel is still unbinding it from %s after %d s",
			       addr, f->driver, UNBIND_WAIT_MS / 1000);
			log_holders(f, LOG_ERR, "");
			return false;
		}
		sleep_ms(PROBE_POLL_MS);
	}
	errno = pid < 0 ? errno : WEXITSTATUS(status);
	return !errno || errno == ENOENT || errno == ENODEV || write_failed(path, addr);
}

static bool driver_registered(const char *driver)
{
	char path[MAX_PATHLEN];

	return root_path(path, sizeof(path), "/sys/bus/pci/drivers/%s", driver) == 0 &&
	       path_exists(path);
}

/* modprobe is the one program the binder runs: module loading needs
 * modules.dep, aliases and options, and reimplementing that is kmod's job. */
bool load_driver(const char *driver)
{
	const char *modprobe = getenv("VFIO_RESERVE_MODPROBE");
	/* --ignore-install: the install command of vfio-reserve's modprobe.d
	 * file runs this binder (apply --unbound), which must not run it again. */
	char *argv[] = { "modprobe", "--ignore-install", (char *)driver, NULL };
	int status;

	if (driver_registered(driver))
		return true;
	/* A fixture root has no kernel of its own: a module named there would
	 * be loaded into this machine's kernel. */
	if (!modprobe && sys_root[0]) {
		logmsg(LOG_ERR, "%s is not loaded, and modprobe is not run under --root "
		       "(set VFIO_RESERVE_MODPROBE)", driver);
		return false;
	}
	if (modprobe)
		argv[0] = (char *)modprobe;
	logmsg(LOG_DEBUG, "running modprobe %s", driver);
	status = run_program(argv, 1);
	if (status < 0) {
		logmsg(LOG_ERR, "cannot run modprobe %s: %s", driver, strerror(errno));
		return false;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		logmsg(LOG_ERR, "modprobe %s failed (%s %d)", driver,
		       WIFEXITED(status) ? "exit status" : "signal",
		       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return false;
	}
	if (!driver_registered(driver)) {
		logmsg(LOG_ERR, "modprobe %s succeeded but no PCI driver '%s' appeared",
		       driver, driver);
		return false;
	}
	return true;
}

void current_driver(const struct pci_func *f, char *buf, size_t size)
{
	char path[MAX_PATHLEN];

	if (function_path(path, sizeof(path), f, "driver") != 0 ||
	    read_link_name(path, buf, size) != 0)
		buf[0] = '\0';
}

/* Where a PENDING function counts as arrived: on its target for apply; for
 * release, on a driver that reserves nothing. */
static bool arrived(const struct config *conf, const struct pci_func *f,
                    const char *driver, bool released)
{
	return released ? driver[0] && !is_reservation_driver(conf, driver)
	                : strcmp(driver, target_driver(conf, f)) == 0;
}

/* The kernel probes synchronously for vfio-pci and pci-stub, but a driver
 * may ask for asynchronous probing: PENDING functions get PROBE_WAIT_US on
 * the monotonic clock, however many there are, then stay PENDING. */
static void wait_for_binding(struct host *host, const struct config *conf,
                             bool released)
{
	long deadline = elapsed_us() + PROBE_WAIT_US;
	char driver[MAX_NAME];
	int i;

	for (;;) {
		bool pending = false;

		for (i = 0; i < host->nfuncs; i++) {
			if (steps[i] != PENDING)
				continue;
			current_driver(&host->funcs[i], driver, sizeof(driver));
			if (arrived(conf, &host->funcs[i], driver, released))
				steps[i] = DONE;
			else
				pending = true;
		}
		if (!pending || elapsed_us() >= deadline)
			return;
		sleep_ms(PROBE_POLL_MS);
	}
}

static void describe(char *buf, size_t size, const struct pci_func *f)
{
	char addr[ADDR_STRLEN];

	format_addr(addr, f->addr);
	fmt(buf, size, "%s [%04x:%04x]", addr, f->vendor, f->device);
}

/* What reset_method (Linux 5.15+: the methods the kernel tries, in order)
 * says of function i, and of `method` (NULL: none asked for), in text.
 * Without reset_method, a `reset` attribute says the kernel is older than
 * 5.15; neither says the function cannot be reset (or the kernel is old).
 * The kernel probes "bus" as a device is found, before the functions after
 * it on its bus: function 0 of a multi-function device may list it, yet a
 * bus reset takes every function on the bus (pci_parent_bus_reset). */
enum reset_finding reset_check(char *text, const struct host *host, int i,
                               const char *method)
{
	static char path[MAX_PATHLEN];
	char list[128];
	const char *note = "";
	enum reset_finding found = RESET_OK;
	size_t len;
	int first, end;

	list[0] = '\0';
	function_path(path, sizeof(path), &host->funcs[i], "reset_method");
	len = strlen(path);
	if (read_attr(path, list, sizeof(list)) != 0) {
		if (!method)
			return RESET_NONE;
		path[len - 7] = '\0';
		if (path_exists(path)) {
			note = " (Linux older than 5.15): not set";
			found = RESET_OLD;
		}
		path[len - 7] = '_';
	}
	device_functions(host, i, &first, &end);
	if (found == RESET_OK && method && !word_in(method, list)) {
		note = ": not among them";
		found = RESET_LACKS;
	} else if (!strcmp(list, "bus") && end - first > 1) {
		note = ": no reset of its own ('bus' resets the functions beside it)";
		found = RESET_SHARED;
	}
	fmt(text, 256, "%s: %s%s%s%s", path, list[0] ? list : "none",
	    method ? ", reset=" : "", method ? method : "", note);
	return found;
}

/* Decided by reading it back: the kernel keeps the old order when it
 * refuses a method. */
static bool write_reset(const struct pci_func *f, const char *method)
{
	static char path[MAX_PATHLEN];
	char now[128];
	bool ok;

	now[0] = '\0';
	function_path(path, sizeof(path), f, "reset_method");
	write_or_warn(path, method);
	read_attr(path, now, sizeof(now));
	ok = strcmp(now, method) == 0;
	logmsg(ok ? LOG_INFO : LOG_ERR, "%s reads '%s'", path, now);
	return ok;
}

static void fail(struct pci_func *f, int i, const char *why)
{
	char what[40];

	describe(what, sizeof(what), f);
	logmsg(LOG_ERR, "%s: %s", what, why);
	steps[i] = FAILED;
}

/* A person's command names what holds each PENDING function it would
 * unbind (for release, only those on a reservation driver) and, unless
 * forced, stops there with nothing written. */
static bool refuse_held(const struct host *host, const struct config *conf,
                        bool force, bool releasing)
{
	int held = 0, i;

	for (i = 0; i < host->nfuncs; i++) {
		const struct pci_func *f = &host->funcs[i];

		if (steps[i] == PENDING && f->driver[0] &&
		    (!releasing || is_reservation_driver(conf, f->driver)))
			held += log_holders(f, force ? LOG_WARN : LOG_ERR,
			                    force ? ": unbinding anyway (--force)" : "");
	}
	if (held && !force)
		logmsg(LOG_ERR, "nothing was changed (--force unbinds anyway)");
	return held && !force;
}

int apply(struct host *host, const struct config *conf,
          const struct selection *sel, struct apply_opts opts)
{
	int reserved = 0, already = 0, failed = 0, skipped = 0, bad = 0, i, j;
	char what[40], label[24];

	/* Whatever asked: nothing is written while a rule would take what the
	 * running host sits on (the boot does not know it, see guard.c). */
	if (refuse_host_uses(host, conf, sel, LOG_ERR, NULL)) {
		logmsg(LOG_ERR, "nothing was changed");
		return EXIT_FAIL;
	}
	warn_rule_results(conf, sel);
	for (i = 0; i < host->nfuncs; i++) {
		struct pci_func *f = &host->funcs[i];
		const char *target = target_driver(conf, f), *reset;
		char addr[ADDR_STRLEN], why[256];
		static char origin[MAX_PATHLEN + 16];

		steps[i] = UNSELECTED;
		format_addr(addr, f->addr);
		/* vfio-pci cannot take a function without a group, and the host
		 * would lose it for nothing.  With the IOMMU on, selection left it
		 * out already (the rule's own warning names it when nothing else
		 * matched); with the IOMMU off no function has a group. */
		if ((f->left_by >= 0 && f->left_why == LEFT_NO_GROUP &&
		     sel->results[f->left_by].state == RULE_MATCHED) ||
		    (target && f->group < 0 && needs_group(target))) {
			no_group_text(why, sizeof(why), addr,
			              target ? target : conf->rules[f->left_by].driver);
			logmsg(LOG_WARN, "%s", why);
			skipped += target != NULL;
			continue;
		}
		if (!target)
			continue;
		/* reset= is for the functions the rule names, not those going
		 * along with them.  A boot warns and reserves without it. */
		reset = f->matched ? conf->rules[f->rule].reset : "";
		if (reset[0]) {
			enum reset_finding found = reset_check(why, host, i, reset);

			set_reset[i] = found <= RESET_SHARED;
			rule_origin(origin, sizeof(origin), conf, &conf->rules[f->rule]);
			if (found > RESET_OK)
				logmsg(found < RESET_LACKS || opts.boot ? LOG_WARN : LOG_ERR,
				       "%s: %s", origin, why);
			bad += found == RESET_LACKS;
		}
		describe(what, sizeof(what), f);
		if (strcmp(f->driver, target) == 0) {
			steps[i] = ALREADY;
			already++;
			logmsg(LOG_INFO, "%s already on %s (%s)", what, target,
			       rule_label(label, sizeof(label), &conf->rules[f->rule]));
		} else if (opts.unbound && f->driver[0]) {
			/* --unbound takes nothing from a driver. */
			skipped++;
			logmsg(LOG_WARN, "%s is on %s: left there (--unbound)", what, f->driver);
		} else {
			steps[i] = PENDING;
			if (opts.dry_run)
				logmsg(LOG_INFO, "dry-run: %s -> %s (%s)%s%s", what, target,
				       rule_label(label, sizeof(label), &conf->rules[f->rule]),
				       f->driver[0] ? ", unbinding " : "", f->driver);
		}
	}
	/* A person's command names the bad rule and writes nothing; nor does
	 * it take a function from a process, unless forced. */
	if (bad && !opts.boot) {
		logmsg(LOG_ERR, "nothing was changed");
		return EXIT_FAIL;
	}
	if (!opts.boot && refuse_held(host, conf, opts.force, false))
		return EXIT_FAIL;
	if (opts.dry_run) {
		logmsg(LOG_INFO, "dry-run: %d to reserve, %d already reserved, nothing written",
		       sel->nselected - already - skipped, already);
		return EXIT_OK;
	}

	/* 1. Overrides first, also for functions already on the target, so that
	 *    a later unbind and reprobe keeps them there.  The reset method
	 *    before its override: vfio-pci may bind as soon as that is set. */
	for (i = 0; i < host->nfuncs; i++) {
		struct pci_func *f = &host->funcs[i];
		const char *target = target_driver(conf, f);

		if (steps[i] != UNSELECTED && set_reset[i])
			bad += !write_reset(f, conf->rules[f->rule].reset);
		if (steps[i] != UNSELECTED && strcmp(function_override(f), target) != 0 &&
		    !write_override(f, target) && steps[i] == PENDING)
			steps[i] = FAILED;
	}
	/* --unbound (modprobe's install command for vfio_pci) stops here: the
	 * targets bind the overridden functions as they load. */
	for (i = 0; i < host->nfuncs && opts.unbound; i++)
		if (steps[i] == PENDING)
			steps[i] = DONE;
	/* 2. Load each target driver once, before anything is unbound, so that a
	 *    driver that cannot be loaded leaves the function where it was.
	 *    Loading binds unbound overridden functions already. */
	for (i = 0; i < host->nfuncs; i++) {
		const char *target;

		if (steps[i] != PENDING)
			continue;
		target = target_driver(conf, &host->funcs[i]);
		if (load_driver(target))
			continue;
		for (j = i; j < host->nfuncs; j++)
			if (steps[j] == PENDING &&
			    strcmp(target_driver(conf, &host->funcs[j]), target) == 0)
				fail(&host->funcs[j], j, "target driver not available");
	}
	/* 3. Take functions away from the drivers that hold them. */
	for (i = 0; i < host->nfuncs; i++)
		if (steps[i] == PENDING && host->funcs[i].driver[0] &&
		    !unbind(&host->funcs[i]))
			steps[i] = FAILED;
	/* 4. Ask the kernel to probe; driver_override decides who may bind. */
	for (i = 0; i < host->nfuncs; i++)
		if (steps[i] == PENDING && !write_bus_attr("drivers_probe", &host->funcs[i]))
			steps[i] = FAILED;
	/* 5. Believe the driver link, nothing else. */
	wait_for_binding(host, conf, false);

	for (i = 0; i < host->nfuncs; i++) {
		struct pci_func *f = &host->funcs[i];
		const char *target = target_driver(conf, f);
		char why[MAX_NAME + 48];

		if (steps[i] == UNSELECTED || steps[i] == ALREADY)
			continue;
		describe(what, sizeof(what), f);
		if (steps[i] == DONE) {
			reserved++;
			logmsg(LOG_INFO, "%s -> %s (%s)", what, target,
			       rule_label(label, sizeof(label), &conf->rules[f->rule]));
			continue;
		}
		if (steps[i] == PENDING) {
			current_driver(f, f->driver, sizeof(f->driver));
			fmt(why, sizeof(why), "not bound to %s after probe (driver: %s)",
			         target, f->driver[0] ? f->driver : "none");
			fail(f, i, why);
		}
		failed++;
	}
	{
		long us = elapsed_us();
		logmsg(opts.boot ? LOG_INFO : LOG_DEBUG,
		       "done%s: %d reserved, %d already reserved, %d failed in %ld.%03ld ms",
		       opts.unbound ? " (--unbound)" : "",
		       reserved, already, failed, us / 1000, us % 1000);
	}
	return failed || bad ? EXIT_FAIL : EXIT_OK;
}

static bool overridden_for_reservation(const struct config *conf, struct pci_func *f)
{
	return function_override(f)[0] && is_reservation_driver(conf, f->override);
}

static bool releasable(const struct config *conf, struct pci_func *f)
{
	return !is_bridge(f) && (overridden_for_reservation(conf, f) ||
	        (f->driver[0] && is_reservation_driver(conf, f->driver)));
}

/* Only a reservation driver is unbound: a function whose override was
 * written but which is still on its own driver (nvme under the root file
 * system, say) keeps that driver, and loses only the override. */
static bool release_one(const struct config *conf, struct pci_func *f)
{
	char path[MAX_PATHLEN];

	/* An empty write clears the override (the kernel's "(null)"). */
	if (function_path(path, sizeof(path), f, "driver_override") != 0 ||
	    !write_or_warn(path, ""))
		return false;
	if (f->driver[0] && !is_reservation_driver(conf, f->driver))
		return true;
	return (!f->driver[0] || unbind(f)) && write_bus_attr("drivers_probe", f);
}

/* `release all` releases every function overridden to a reservation driver;
 * `release ADDR` the reserved functions of the device at ADDR. */
int release(struct host *host, const struct config *conf, const char *what,
            bool force)
{
	int released = 0, failed = 0, i;
	bool all = strcmp(what, "all") == 0;
	char name[ADDR_STRLEN];
	pci_addr addr = 0;

	if (!all) {
		struct pci_func *f;

		if (!parse_addr(what, &addr)) {
			logmsg(LOG_ERR, "release: malformed PCI address '%s'", what);
			return EXIT_USAGE;
		}
		format_addr(name, addr);
		f = host_find(host, addr);
		if (!f) {
			logmsg(LOG_ERR, "release: no PCI function %s", name);
			return EXIT_FAIL;
		}
		if (!releasable(conf, f)) {
			logmsg(LOG_ERR, "release: %s is not reserved (driver %s, no override)",
			       name, f->driver[0] ? f->driver : "none");
			return EXIT_FAIL;
		}
	}
	for (i = 0; i < host->nfuncs; i++) {
		struct pci_func *f = &host->funcs[i];

		steps[i] = UNSELECTED;
		if (all ? overridden_for_reservation(conf, f)
		        : ADDR_DEVICE(f->addr) == ADDR_DEVICE(addr) && releasable(conf, f))
			steps[i] = PENDING;
	}
	if (refuse_held(host, conf, force, true))
		return EXIT_FAIL;
	for (i = 0; i < host->nfuncs; i++)
		if (steps[i] == PENDING && !release_one(conf, &host->funcs[i]))
			steps[i] = FAILED;
	/* Believe the driver link: a function still on a reservation driver
	 * (a new_id of vfio-pci matches it, say) is not released. */
	wait_for_binding(host, conf, true);
	for (i = 0; i < host->nfuncs; i++) {
		struct pci_func *f = &host->funcs[i];
		char desc[40], now[MAX_NAME];

		if (steps[i] == UNSELECTED)
			continue;
		describe(desc, sizeof(desc), f);
		current_driver(f, now, sizeof(now));
		if (steps[i] == FAILED)
			failed++;
		else if (now[0] && is_reservation_driver(conf, now)) {
			logmsg(LOG_ERR, "%s: still on %s after release", desc, now);
			failed++;
		} else {
			logmsg(LOG_INFO, "%s released%s%s, now %s%s", desc,
			       f->driver[0] ? " from " : "", f->driver,
			       now[0] ? "on " : "unbound", now);
			released++;
		}
	}
	if (all && released + failed == 0)
		logmsg(LOG_INFO, "nothing to release");
	return failed ? EXIT_FAIL : EXIT_OK;
}
