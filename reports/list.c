/* SPDX-License-Identifier: GPL-2.0-or-later */
/* list: the host's PCI functions, their drivers and what the config says of
 * them, for the person writing a rule. */
#include <string.h>

#include "reports.h"

/* The text columns start this wide (PATH fits a device behind one switch:
 * root port, upstream and downstream port, device) and grow to their longest
 * value, so that a deep path or a long slot name does not shift the rest. */
#define LIST_FORMAT "%-12s  %-9s  %-9s  %-5s  %5s  %-*s  %-*s  %-4s  %-*s  %-*s  %-4s  "

struct list_row {
	char addr[ADDR_STRLEN], id[10], subsys[10], class[8], group[12], rule[12];
	char path[MAX_DEPTH * 6 + 8], name[192];
	const char *driver, *override, *slot;
};

static void list_row(struct list_row *r, const struct host *host,
                     const struct config *conf, struct pci_func *f)
{
	format_addr(r->addr, f->addr);
	fmt(r->id, sizeof(r->id), "%04x:%04x", f->vendor, f->device);
	subsystem_id(r->subsys, sizeof(r->subsys), f);
	fmt(r->class, sizeof(r->class), "%04x", f->class >> 8);
	if (f->group >= 0)
		fmt(r->group, sizeof(r->group), "%d", f->group);
	else
		strcpy(r->group, "-");
	if (f->rule >= 0)
		fmt(r->rule, sizeof(r->rule), "%d", conf->rules[f->rule].line);
	else
		strcpy(r->rule, "-");
	if (format_path(r->path, sizeof(r->path), f) != 0)
		strcpy(r->path, "?");
	function_name(r->name, sizeof(r->name), f);
	r->driver = f->driver[0] ? f->driver : "-";
	r->override = function_override(f)[0] ? f->override : "-";
	r->slot = f->slot >= 0 ? host->slots[f->slot].name : "-";
}

static void widen(int *width, const char *text)
{
	int len = (int)strlen(text);

	if (len > *width)
		*width = len;
}

int cmd_list(struct host *host, const struct config *conf, bool all, bool json)
{
	static struct list_row r;
	int i, driver_w = 14, override_w = 10, path_w = 22, slot_w = 4;

	load_names(host, all);
	attached_scan(host);
	if (json) {
		json_begin('[');
	} else {
		/* Only what can outgrow its column: every "-" fits. */
		for (i = 0; i < host->nfuncs; i++) {
			struct pci_func *f = &host->funcs[i];

			if (!all && !device_has_display(host, i))
				continue;
			widen(&driver_w, f->driver);
			widen(&override_w, function_override(f));
			if (f->slot >= 0)
				widen(&slot_w, host->slots[f->slot].name);
			if (format_path(r.path, sizeof(r.path), f) == 0)
				widen(&path_w, r.path);
		}
		out(LIST_FORMAT "NAME\n", "ADDRESS", "ID", "SUBSYSTEM", "CLASS", "GROUP", driver_w, "DRIVER",
		    override_w, "OVERRIDE", "BOOT", path_w, "PATH", slot_w, "SLOT", "RULE");
	}
	for (i = 0; i < host->nfuncs; i++) {
		struct pci_func *f = &host->funcs[i];

		if (!all && !device_has_display(host, i))
			continue;
		list_row(&r, host, conf, f);
		if (!json) {
			out(LIST_FORMAT "%s\n", r.addr, r.id, r.subsys[0] ? r.subsys : "-", r.class, r.group, driver_w, r.driver,
			    override_w, r.override, f->boot_vga == 1 ? "yes" : "-", path_w, r.path,
			    slot_w, r.slot, r.rule, r.name[0] ? r.name : "-");
			attached_text(host, i);
			continue;
		}
		json_key(NULL);
		json_begin('{');
		json_str("address", r.addr);
		json_str("id", r.id);
		if (r.subsys[0])
			json_str("subsystem_id", r.subsys);
		else
			json_null("subsystem_id");
		json_str("class", r.class);
		json_str("name", r.name);
		if (f->group >= 0)
			json_int("iommu_group", f->group);
		else
			json_null("iommu_group");
		if (f->driver[0])
			json_str("driver", f->driver);
		else
			json_null("driver");
		if (function_override(f)[0])
			json_str("driver_override", f->override);
		else
			json_null("driver_override");
		json_bool("boot_vga", f->boot_vga == 1);
		json_str("path", r.path);
		if (f->slot >= 0)
			json_str("slot", r.slot);
		else
			json_null("slot");
		if (f->rule >= 0) {
			json_int("rule_line", conf->rules[f->rule].line);
			json_str("target", target_driver(conf, f));
		} else {
			json_null("rule_line");
			json_null("target");
		}
		attached_json(host, i);
		json_end('}');
	}
	if (json)
		json_end(']');
	return EXIT_OK;
}
