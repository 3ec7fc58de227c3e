/* Read-only commands: list, check, status, cmdline, modules, xml. */
#include <errno.h>
#include <string.h>

#include "vfio-reserve.h"

/* ---- names from pci.ids ------------------------------------------------ */

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

static bool device_has_display(const struct host *host, int i)
{
	int j, end;

	for (device_functions(host, i, &j, &end); j < end; j++)
		if (is_display(&host->funcs[j]))
			return true;
	return false;
}

/* The text columns start this wide (PATH fits a device behind one switch:
 * root port, upstream and downstream port, device) and grow to their longest
 * value, so that a deep path or a long slot name does not shift the rest. */
#define LIST_FORMAT "%-12s  %-9s  %-5s  %5s  %-*s  %-*s  %-4s  %-*s  %-*s  %-4s  "

/* One pass over pci.ids, keeping only the names of IDs on this host. */
static void load_names(const struct host *host, bool all)
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

static void function_name(char *buf, size_t size, const struct pci_func *f)
{
	const struct id_name *n = find_id_name(f->vendor, f->device);

	buf[0] = '\0';
	if (n && n->vendor_name[0])
		fmt(buf, size, "%s %s", n->vendor_name,
		         n->device_name[0] ? n->device_name : "device");
}

/* ---- list ---------------------------------------------------------------- */

struct list_row {
	char addr[ADDR_STRLEN], id[10], class[8], group[12], rule[12];
	char path[MAX_DEPTH * 6 + 8], name[192];
	const char *driver, *override, *slot;
};

static void list_row(struct list_row *r, const struct host *host,
                     const struct config *conf, const struct pci_func *f)
{
	format_addr(r->addr, f->addr);
	fmt(r->id, sizeof(r->id), "%04x:%04x", f->vendor, f->device);
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
	r->override = f->override[0] ? f->override : "-";
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
	if (json) {
		json_begin('[');
	} else {
		/* Only what can outgrow its column: every "-" fits. */
		for (i = 0; i < host->nfuncs; i++) {
			const struct pci_func *f = &host->funcs[i];

			if (!all && !device_has_display(host, i))
				continue;
			widen(&driver_w, f->driver);
			widen(&override_w, f->override);
			if (f->slot >= 0)
				widen(&slot_w, host->slots[f->slot].name);
			if (format_path(r.path, sizeof(r.path), f) == 0)
				widen(&path_w, r.path);
		}
		out(LIST_FORMAT "NAME\n", "ADDRESS", "ID", "CLASS", "GROUP", driver_w, "DRIVER",
		    override_w, "OVERRIDE", "BOOT", path_w, "PATH", slot_w, "SLOT", "RULE");
	}
	for (i = 0; i < host->nfuncs; i++) {
		const struct pci_func *f = &host->funcs[i];

		if (!all && !device_has_display(host, i))
			continue;
		list_row(&r, host, conf, f);
		if (!json) {
			out(LIST_FORMAT "%s\n", r.addr, r.id, r.class, r.group, driver_w, r.driver,
			    override_w, r.override, f->boot_vga == 1 ? "yes" : "-", path_w, r.path,
			    slot_w, r.slot, r.rule, r.name[0] ? r.name : "-");
			continue;
		}
		json_key(NULL);
		json_begin('{');
		json_str("address", r.addr);
		json_str("id", r.id);
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
		if (f->override[0])
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
		json_end('}');
	}
	if (json)
		json_end(']');
	return EXIT_OK;
}

/* ---- check ----------------------------------------------------------------- */

struct findings {
	bool json;
	int failed;
};

static void finding(struct findings *out, const char *level, const char *topic,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void finding(struct findings *to, const char *level, const char *topic,
                    const char *format, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, format);
	fmt_v(text, sizeof(text), format, ap);
	va_end(ap);
	if (strcmp(level, "FAIL") == 0)
		to->failed++;
	if (!to->json) {
		/* -q keeps what needs the user's attention. */
		if (verbosity >= 0 || strcmp(level, "OK") != 0)
			out("%-4s %s: %s\n", level, topic, text);
		return;
	}
	json_key(NULL);
	json_begin('{');
	json_str("level", level);
	json_str("topic", topic);
	json_str("message", text);
	json_end('}');
}

enum cpu_vendor { CPU_UNKNOWN, CPU_INTEL, CPU_AMD };

struct cpu_info {
	bool readable;
	enum cpu_vendor vendor;
	bool vmx, svm;
};

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

static struct cpu_info read_cpu(void)
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

static int count_entries(const char *dirpath)
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
static bool module_listed(const char *list, const char *kernel, const char *module)
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

static void check_driver(struct findings *out, const char *driver)
{
	char path[MAX_PATHLEN], kernel[128] = "";

	if (root_path(path, sizeof(path), "/sys/bus/pci/drivers/%s", driver) == 0 &&
	    path_exists(path)) {
		finding(out, "OK", "driver", "%s is loaded", driver);
		return;
	}
	if (root_path(path, sizeof(path), "/proc/sys/kernel/osrelease") == 0)
		read_attr(path, kernel, sizeof(kernel));
	if (module_listed("modules.builtin", kernel, driver))
		finding(out, "OK", "driver", "%s is built into kernel %s", driver, kernel);
	else if (module_listed("modules.dep", kernel, driver))
		finding(out, "OK", "driver", "%s is a module of kernel %s", driver, kernel);
	else
		finding(out, "FAIL", "driver", "%s is neither loaded nor a module of kernel %s",
		        driver, kernel[0] ? kernel : "(unknown)");
}

static void list_selected(char *buf, size_t size, const struct host *host, int rule)
{
	size_t used = 0;
	int i, shown = 0, more = 0;

	buf[0] = '\0';
	for (i = 0; i < host->nfuncs; i++) {
		char addr[ADDR_STRLEN];
		if (host->funcs[i].rule != rule)
			continue;
		if (shown == 4) {
			more++;
			continue;
		}
		format_addr(addr, host->funcs[i].addr);
		used += (size_t)fmt(buf + used, size - used, "%s%s", shown ? ", " : "", addr);
		shown++;
	}
	if (more)
		fmt(buf + used, size - used, " and %d more", more);
}

static void check_rules(struct findings *out, const struct host *host,
                        const struct config *conf, const struct selection *sel)
{
	int i;

	for (i = 0; i < conf->nrules; i++) {
		const struct rule *rule = &conf->rules[i];
		const struct rule_result *r = &sel->results[i];
		char topic[24], addr[ADDR_STRLEN], list[128];

		fmt(topic, sizeof(topic), "line %d", rule->line);
		format_addr(addr, r->found_addr);
		switch (r->state) {
		case RULE_MATCHED:
			list_selected(list, sizeof(list), host, i);
			finding(out, "OK", topic, "reserves %s for %s",
			        r->nselected ? list : "nothing new", rule->driver);
			break;
		case RULE_NO_DEVICE:
			finding(out, "FAIL", topic, "no device matches '%s'", rule->text);
			break;
		case RULE_MISMATCH:
			finding(out, "FAIL", topic, "%s is %04x:%04x, not %04x:%04x "
			        "(did the buses move?)", addr, r->found_vendor,
			        r->found_device, rule->vendor, rule->device);
			break;
		case RULE_BOOT_VGA:
			finding(out, "WARN", topic, "%s is the boot VGA device: not reserved "
			        "without 'force'", addr);
			break;
		case RULE_BRIDGE:
			finding(out, "FAIL", topic, "%s is a bridge: bridges cannot be reserved",
			        addr);
			break;
		}
		if (r->conflicts) {
			format_addr(addr, r->conflict_addr);
			finding(out, "WARN", topic, "%s is already taken by line %d for %s",
			        addr, conf->rules[r->conflict_rule].line,
			        conf->rules[r->conflict_rule].driver);
		}
	}
}

/* vfio needs every endpoint of a group on vfio (or on no driver). */
static void check_groups(struct findings *out, const struct host *host,
                         const struct config *conf)
{
	int i, j;

	for (i = 0; i < host->nfuncs; i++) {
		const struct pci_func *f = &host->funcs[i];
		bool viable = true;

		/* Visit each group once, from its first selected member. */
		if (f->rule < 0 || f->group < 0)
			continue;
		for (j = host->group_head[f->group]; j != i; j = host->funcs[j].next_in_group)
			if (host->funcs[j].rule >= 0)
				break;
		if (j != i)
			continue;
		for (j = host->group_head[f->group]; j >= 0; j = host->funcs[j].next_in_group) {
			const struct pci_func *other = &host->funcs[j];
			char addr[ADDR_STRLEN];

			if (other->rule >= 0 || is_bridge(other) || !other->driver[0] ||
			    is_reservation_driver(conf, other->driver))
				continue;
			format_addr(addr, other->addr);
			finding(out, "WARN", "group", "%d: %s [%04x:%04x] stays on %s: the "
			        "group is not viable for passthrough", f->group, addr,
			        other->vendor, other->device, other->driver);
			viable = false;
		}
		if (viable)
			finding(out, "OK", "group", "%d is viable", f->group);
	}
}

static void check_display(struct findings *out, const struct host *host,
                          const struct config *conf, const struct selection *sel)
{
	int i, kept = 0, boot = -1;

	for (i = 0; i < host->nfuncs; i++) {
		if (!is_display(&host->funcs[i]))
			continue;
		if (host->funcs[i].rule < 0)
			kept++;
		if (host->funcs[i].boot_vga == 1)
			boot = i;
	}
	if (boot >= 0) {
		const struct pci_func *f = &host->funcs[boot];
		char addr[ADDR_STRLEN];
		int protecting = -1;

		format_addr(addr, f->addr);
		for (i = 0; i < conf->nrules && protecting < 0; i++)
			if (sel->results[i].state == RULE_BOOT_VGA &&
			    sel->results[i].found_addr == f->addr)
				protecting = conf->rules[i].line;
		if (f->rule >= 0)
			finding(out, "WARN", "boot VGA", "%s is reserved (force): the host "
			        "loses its console; 'vfio-reserve cmdline' adds "
			        "initcall_blacklist=sysfb_init", addr);
		else if (protecting >= 0)
			finding(out, "OK", "boot VGA", "%s stays with the host (protected "
			        "from line %d)", addr, protecting);
		else
			finding(out, "OK", "boot VGA", "%s stays with the host", addr);
	}
	if (kept)
		finding(out, "OK", "display", "the host keeps %d display device%s",
		        kept, kept == 1 ? "" : "s");
	else
		finding(out, "FAIL", "display", "the host keeps no display device");
}

/* A rule that locates a device without naming its ID takes whatever the
 * firmware puts there next boot. */
static void check_id_checks(struct findings *out, const struct config *conf)
{
	int i;

	for (i = 0; i < conf->nrules; i++) {
		char topic[24];

		if (conf->rules[i].selectors & SEL_ID)
			continue;
		fmt(topic, sizeof(topic), "line %d", conf->rules[i].line);
		finding(out, "WARN", topic, "no ID check: whatever sits there is reserved");
	}
}

/* With host == NULL only the config is checked (--config-only). */
int cmd_check(struct host *host, const struct config *conf,
              const struct selection *sel, bool json)
{
	struct findings out = { json, 0 };
	struct cpu_info cpu;
	int i, iommus, groups;

	if (json) {
		json_begin('{');
		json_key("findings");
		json_begin('[');
	}
	if (conf->missing)
		finding(&out, "WARN", "config", "%s does not exist: nothing is reserved",
		        conf->file);
	else if (conf->nrules == 0)
		finding(&out, "WARN", "config", "%s has no active rule: nothing is reserved",
		        conf->file);
	else
		finding(&out, "OK", "config", "%s: %d rule%s", conf->file, conf->nrules,
		        conf->nrules == 1 ? "" : "s");
	check_id_checks(&out, conf);
	if (!host)
		goto done;

	cpu = read_cpu();
	if (!cpu.readable)
		finding(&out, "WARN", "cpu", "cannot read /proc/cpuinfo");
	else if (cpu.vmx)
		finding(&out, "OK", "cpu", "Intel VT-x (vmx)");
	else if (cpu.svm)
		finding(&out, "OK", "cpu", "AMD-V (svm)");
	else
		finding(&out, "FAIL", "cpu", "no vmx or svm flag: turn on virtualization "
		        "(VT-x or AMD-V) in the firmware");

	iommus = count_entries("/sys/class/iommu");
	groups = count_entries("/sys/kernel/iommu_groups");
	if (iommus && groups)
		finding(&out, "OK", "iommu", "active, %d group%s", groups,
		        groups == 1 ? "" : "s");
	else
		finding(&out, "FAIL", "iommu", "not active: %s",
		        cpu.vendor == CPU_AMD ? "turn on the IOMMU (AMD-Vi) in the firmware"
		                              : "turn on VT-d in the firmware and boot with "
		                                "intel_iommu=on ('vfio-reserve update')");

	for (i = 0; i < conf->nrules; i++) {
		int j;
		for (j = 0; j < i; j++)
			if (strcmp(conf->rules[j].driver, conf->rules[i].driver) == 0)
				break;
		if (j == i)
			check_driver(&out, conf->rules[i].driver);
	}
	check_rules(&out, host, conf, sel);
	check_groups(&out, host, conf);
	check_display(&out, host, conf, sel);
done:
	if (json) {
		json_end(']');
		json_int("failed", out.failed);
		json_end('}');
	}
	return out.failed ? EXIT_FAIL : EXIT_OK;
}

/* ---- status ---------------------------------------------------------------- */

int cmd_status(struct host *host, const struct config *conf,
               const struct selection *sel, bool json)
{
	static const char *const states[] = {
		[RULE_MATCHED] = "matched", [RULE_NO_DEVICE] = "no-device",
		[RULE_MISMATCH] = "mismatch", [RULE_BOOT_VGA] = "boot-vga",
		[RULE_BRIDGE] = "bridge",
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
		const struct rule_result *res = &sel->results[r];
		char addr[ADDR_STRLEN];

		if (json) {
			json_key(NULL);
			json_begin('{');
			json_int("line", rule->line);
			json_str("rule", rule->text);
			json_str("state", states[res->state]);
			json_key("functions");
			json_begin('[');
		} else {
			out("line %d: %s\n", rule->line, rule->text);
		}
		for (i = 0; i < host->nfuncs; i++) {
			const struct pci_func *f = &host->funcs[i];
			char id[10];
			bool on_target;

			if (f->rule != r)
				continue;
			on_target = strcmp(f->driver, rule->driver) == 0;
			unreserved += !on_target;
			format_addr(addr, f->addr);
			fmt(id, sizeof(id), "%04x:%04x", f->vendor, f->device);
			if (!json) {
				out("  %s [%s] %-14s %s%s\n", addr, id,
				       f->driver[0] ? f->driver : "-",
				       on_target ? "reserved" : "NOT RESERVED, wants ",
				       on_target ? "" : rule->driver);
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
			json_end('}');
		}
		format_addr(addr, res->found_addr);
		if (json) {
			json_end(']');
			json_end('}');
		} else if (res->state == RULE_NO_DEVICE) {
			out("  no device matches\n");
		} else if (res->state == RULE_MISMATCH) {
			out("  nothing: %s is %04x:%04x, not %04x:%04x\n", addr,
			       res->found_vendor, res->found_device, rule->vendor, rule->device);
		} else if (res->state == RULE_BOOT_VGA) {
			out("  nothing: %s is the boot VGA device (needs 'force')\n", addr);
		} else if (res->state == RULE_BRIDGE) {
			out("  nothing: %s is a bridge\n", addr);
		}
	}
	if (json) {
		json_end(']');
		json_int("not_reserved", unreserved);
		json_end('}');
	}
	return unreserved ? EXIT_FAIL : EXIT_OK;
}

/* ---- cmdline ----------------------------------------------------------------- */

/* vfio-pci.ids= is only safe for an ID that no function left to the host
 * carries: it would take the host's twin card at boot. */
static bool id_fully_reserved(const struct host *host, const struct config *conf,
                              uint16_t vendor, uint16_t device)
{
	int i;

	for (i = 0; i < host->nfuncs; i++) {
		const struct pci_func *f = &host->funcs[i];
		if (f->vendor == vendor && f->device == device &&
		    (f->rule < 0 || strcmp(target_driver(conf, f), "vfio-pci") != 0))
			return false;
	}
	return true;
}

int cmd_cmdline(struct host *host, const struct config *conf, bool json)
{
	const char *args[4] = { NULL };
	char ids[MAX_LINE] = "";
	size_t used = 0;
	bool boot_vga = false;
	int nargs = 0, i, j;

	if (conf->nrules > 0) {
		/* AMD-Vi is on by default and amd_iommu=on is no valid option
		 * ("AMD-Vi: Unknown option - 'on'"), so AMD gets no switch. */
		if (read_cpu().vendor == CPU_INTEL)
			args[nargs++] = "intel_iommu=on";
		args[nargs++] = "iommu=pt";
	}
	for (i = 0; i < host->nfuncs; i++) {
		const struct pci_func *f = &host->funcs[i];
		char id[12];

		if (f->rule < 0)
			continue;
		boot_vga |= f->boot_vga == 1;
		if (!id_fully_reserved(host, conf, f->vendor, f->device))
			continue;
		for (j = 0; j < i; j++)
			if (host->funcs[j].rule >= 0 && host->funcs[j].vendor == f->vendor &&
			    host->funcs[j].device == f->device)
				break;
		if (j < i || used + 11 >= sizeof(ids))
			continue;
		fmt(id, sizeof(id), "%s%04x:%04x", used ? "," : "", f->vendor, f->device);
		strcpy(ids + used, id);
		used += strlen(id);
	}
	/* A reserved boot VGA is still claimed by the firmware framebuffer (sysfb),
	 * which makes vfio-pci fail with "BAR 0: can't reserve". */
	if (boot_vga)
		args[nargs++] = "initcall_blacklist=sysfb_init";

	if (json) {
		json_begin('{');
		json_key("args");
		json_begin('[');
		for (i = 0; i < nargs; i++)
			json_str(NULL, args[i]);
		if (used)
			json_key(NULL), out("\"vfio-pci.ids=%s\"", ids);
		json_end(']');
		json_end('}');
		return EXIT_OK;
	}
	for (i = 0; i < nargs; i++)
		out("%s%s", i ? " " : "", args[i]);
	if (used)
		out("%svfio-pci.ids=%s", nargs ? " " : "", ids);
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

int cmd_xml(struct host *host, const char *text)
{
	pci_addr addr;

	if (!parse_addr(text, &addr)) {
		logmsg(LOG_ERR, "xml: malformed PCI address '%s'", text);
		return EXIT_USAGE;
	}
	if (!host_find(host, addr)) {
		char name[ADDR_STRLEN];
		format_addr(name, addr);
		logmsg(LOG_ERR, "xml: no PCI function %s", name);
		return EXIT_FAIL;
	}
	out("<hostdev mode='subsystem' type='pci' managed='no'>\n"
	       "  <source>\n"
	       "    <address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n"
	       "  </source>\n"
	       "</hostdev>\n",
	       addr >> 16, (addr >> 8) & 0xff, (addr >> 3) & 0x1f, addr & 7);
	return EXIT_OK;
}
