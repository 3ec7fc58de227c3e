/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Read-only commands the binder keeps: status, cmdline, modules, modaliases
 * (list and xml are the host's reports, reports/). */
#include <errno.h>
#include <string.h>

#include "vfio-reserve.h"

/* ---- status ---------------------------------------------------------------- */

/* The first function that keeps vfio from taking f's group, or -1.  A
 * reserved function not on its target yet is NOT RESERVED on its own line:
 * the group's verdict is about the others.  The metrics (reports) say the
 * same. */
int status_blocker(const struct host *host, const struct config *conf,
                          const struct pci_func *f)
{
	return f->group < 0 ? -1 : group_blocker(host, conf, f->group,
	                                         host->group_head[f->group], true);
}

/* Reserved as `status` counts it: on the rule's driver, and nothing keeps
 * vfio from taking its IOMMU group (for the reports' counts). */
bool function_reserved(const struct host *host, const struct config *conf,
                       const struct pci_func *f)
{
	return f->rule >= 0 && strcmp(f->driver, conf->rules[f->rule].driver) == 0 &&
	       status_blocker(host, conf, f) < 0;
}

static bool status_json;

static void status_record(const struct config *conf, int rule, enum fp_kind kind,
                          const char *text)
{
	static const char *const kinds[] = { "note", "warn", "stops", "verdict" };

	(void)conf, (void)rule;
	if (!status_json) {
		out("  %s\n", text);
		return;
	}
	json_key(NULL);
	json_begin('{');
	json_str("kind", kinds[kind]);
	json_str("message", text);
	json_end('}');
}

int cmd_status(struct host *host, const struct config *conf,
               const struct selection *sel, bool json)
{
	static const char *const states[] = {
		[RULE_MATCHED] = "matched", [RULE_NO_DEVICE] = "no-device",
		[RULE_MISMATCH] = "mismatch", [RULE_BOOT_VGA] = "boot-vga",
		[RULE_BRIDGE] = "bridge", [RULE_NO_GROUP] = "no-group",
	};
	int unreserved = 0, r, i;

	if (json) {
		json_begin('{');
		json_key("rules");
		json_begin('[');
	} else if (conf->nrules == 0) {
		out("no active rule in %s\n", conf->file);
	}
	for (r = 0; r < conf->nrules; r++) {
		const struct rule *rule = &conf->rules[r];
		char text[MAX_LINE + 128];

		if (json) {
			json_key(NULL);
			json_begin('{');
			json_int("line", rule->line);
			json_str("rule", rule->text);
			json_str("state", states[sel->results[r].state]);
			json_key("functions");
			json_begin('[');
		} else {
			out("line %d: %s\n", rule->line, rule->text);
		}
		for (i = 0; i < host->nfuncs; i++) {
			const struct pci_func *f = &host->funcs[i];
			char id[10], addr[ADDR_STRLEN];
			int blocker, k;
			bool on_target;

			if (f->rule != r)
				continue;
			on_target = strcmp(f->driver, rule->driver) == 0;
			blocker = status_blocker(host, conf, f);
			unreserved += !on_target || blocker >= 0;
			format_addr(addr, f->addr);
			fmt(id, sizeof(id), "%04x:%04x", f->vendor, f->device);
			if (!json) {
				out("  %s [%s] %-14s %s%s\n", addr, id,
				       f->driver[0] ? f->driver : "-",
				       on_target ? "reserved" : "NOT RESERVED, wants ",
				       on_target ? "" : rule->driver);
				/* After the rule's last function in the group. */
				for (k = i + 1; k < host->nfuncs && host->funcs[k].rule != r; k++)
					;
				if (blocker >= 0 && (k == host->nfuncs || host->funcs[k].group != f->group)) {
					const struct pci_func *b = &host->funcs[blocker];
					format_addr(addr, b->addr);
					out("  group %d is not viable: %s [%04x:%04x] is on %s\n", f->group,
					    addr, b->vendor, b->device, b->driver);
				}
				continue;
			}
			json_key(NULL);
			json_begin('{');
			json_str("address", addr);
			json_str("id", id);
			if (f->driver[0])
				json_str("driver", f->driver);
			else
				json_null("driver");
			json_str("target", rule->driver);
			json_bool("reserved", on_target);
			if (f->group >= 0)
				json_int("iommu_group", f->group);
			else
				json_null("iommu_group");
			json_bool("group_viable", blocker < 0);
			json_end('}');
		}
		if (json) {
			json_end(']');
			json_key("kept_for_host");
			json_begin('[');
		}
		/* What the guard kept from the rule: the running host needs it. */
		for (i = 0; i < sel->results[r].refused && i < 8; i++) {
			const struct pci_func *f = &host->funcs[sel->results[r].refused_funcs[i]];
			char addr[ADDR_STRLEN];

			format_addr(addr, f->addr);
			if (!json) {
				out("  %s [%04x:%04x] %-14s kept for the host: %s\n", addr, f->vendor,
				    f->device, f->driver[0] ? f->driver : "-", host_use_text(f));
				continue;
			}
			json_key(NULL);
			json_begin('{');
			json_str("address", addr);
			json_str("why", host_use_text(f));
			json_end('}');
		}
		rule_problem(text, sizeof(text), conf, sel, r);
		if (json) {
			json_end(']');
			json_key("hardware_changes");
			json_begin('[');
		} else if (text[0]) {
			out("  %s\n", text);
		}
		status_json = json;
		fingerprint_compare(host, conf, r, status_record);
		if (json) {
			json_end(']');
			json_end('}');
		}
	}
	if (json) {
		json_end(']');
		json_int("not_reserved", unreserved);
	}
	/* Beside the state, what the last boot did: a function NOT RESERVED
	 * after a boot with the kill switch is what the switch asked for, and
	 * the report says so; the exit status stays the state's. */
	report_show(json);
	if (json)
		json_end('}');
	return unreserved ? EXIT_FAIL : EXIT_OK;
}

/* ---- cmdline ----------------------------------------------------------------- */

/* The kernel arguments the rules need.  Never vfio-pci.ids=: the binder
 * writes every override before vfio-pci loads (it loads it itself) and
 * before any native driver can, so the IDs add nothing at any boot, while
 * they would take an identical card fitted later for the host, and the
 * kill switch vfio_reserve=off could not give back what they took.  See
 * vfio-reserve(8). */
int cmdline_args(const struct host *host, const struct config *conf, const char **args)
{
	int n = 0, i;

	if (conf->nrules == 0)
		return 0;
	/* AMD-Vi is on by default and amd_iommu=on is no valid option
	 * ("AMD-Vi: Unknown option - 'on'"), so AMD gets no switch. */
	if (read_cpu().vendor == CPU_INTEL)
		args[n++] = "intel_iommu=on";
	args[n++] = "iommu=pt";
	/* A reserved boot VGA is held by the firmware framebuffer (sysfb):
	 * vfio-pci fails with "BAR 0: can't reserve" before Linux 6.0, whose
	 * vfio-pci removes conflicting framebuffers itself when it takes a VGA
	 * device (aperture_remove_conflicting_pci_devices() in
	 * vfio_pci_core_register_device()).  Any kernel on the boot menu counts. */
	for (i = 0; i < host->nfuncs; i++)
		if (host->funcs[i].rule >= 0 && host->funcs[i].boot_vga == 1 &&
		    oldest_kernel_major() < 6) {
			args[n++] = "initcall_blacklist=sysfb_init";
			break;
		}
	return n;
}

int cmd_cmdline(struct host *host, const struct config *conf,
                const struct selection *sel, bool json)
{
	const char *args[4];
	int nargs, i;

	/* update takes its arguments from here: nothing is written when a rule
	 * would cut the branch the host sits on. */
	if (refuse_host_uses(host, conf, sel, LOG_ERR, "the rule stays in the config: "
	                     "every initramfs built on this host leaves it out, with "
	                     "a warning, until it is changed or says 'force'"))
		return EXIT_FAIL;
	nargs = cmdline_args(host, conf, args);
	if (json) {
		json_begin('{');
		json_key("args");
		json_begin('[');
		for (i = 0; i < nargs; i++)
			json_str(NULL, args[i]);
		json_end(']');
		json_end('}');
		return EXIT_OK;
	}
	for (i = 0; i < nargs; i++)
		out("%s%s", i ? " " : "", args[i]);
	out_char('\n');
	return EXIT_OK;
}

/* ---- modules, xml --------------------------------------------------------------- */

int cmd_modules(const struct config *conf)
{
	int i, j;

	for (i = 0; i < conf->nrules; i++) {
		const char *driver = conf->rules[i].driver;
		for (j = 0; j < i; j++)
			if (strcmp(conf->rules[j].driver, driver) == 0)
				break;
		if (j < i)
			continue;
		out("%s\n", driver);
		/* QEMU needs the type1 IOMMU backend to use a vfio-pci device. */
		if (strcmp(driver, "vfio-pci") == 0)
			out("vfio_iommu_type1\n");
	}
	return EXIT_OK;
}

/* The modalias of each function the config selects, one a line, in address
 * order: `vfio-reserve update` resolves them with modprobe to the modules
 * that would bind them (modprobe/modprobe-conf). */
int cmd_modaliases(struct host *host)
{
	char path[MAX_PATHLEN], addr[ADDR_STRLEN], alias[128];
	int i;

	for (i = 0; i < host->nfuncs; i++) {
		if (host->funcs[i].rule < 0)
			continue;
		format_addr(addr, host->funcs[i].addr);
		if (root_path(path, sizeof(path), "/sys/bus/pci/devices/%s/modalias", addr) != 0 ||
		    read_attr(path, alias, sizeof(alias)) != 0) {
			logmsg(LOG_ERR, "%s: %s", path, strerror(errno));
			return EXIT_FAIL;
		}
		out("%s\n", alias);
	}
	return EXIT_OK;
}
