/* SPDX-License-Identifier: GPL-2.0-or-later */
/* check: the config, then the host, as OK, WARN and FAIL findings. */
#include <string.h>
#include <unistd.h>

#include "vfio-reserve.h"

struct findings {
	bool json;
	int failed;
	bool log;                   /* to the log instead, WARN and FAIL only */
};

static void finding(struct findings *out, const char *level, const char *topic,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void finding(struct findings *to, const char *level, const char *topic,
                    const char *format, ...)
{
	char text[2048];
	va_list ap;

	va_start(ap, format);
	fmt_v(text, sizeof(text), format, ap);
	va_end(ap);
	if (strcmp(level, "FAIL") == 0)
		to->failed++;
	if (to->log) {
		if (level[0] != 'O')
			logmsg(level[0] == 'F' ? LOG_ERR : LOG_WARN, "%s: %s", topic, text);
		return;
	}
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

/* Every function `rule` takes, with its class; `devices`: one address a
 * device instead, without.  Returns how many. */
static int list_taken(char *buf, size_t size, const struct host *host, int rule,
                      bool devices)
{
	size_t used = 0;
	int i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < host->nfuncs; i++) {
		const struct pci_func *f = &host->funcs[i];
		char addr[ADDR_STRLEN], class[16];

		if (f->rule != rule || (devices && i > 0 && host->funcs[i - 1].rule == rule &&
		                        ADDR_DEVICE(host->funcs[i - 1].addr) == ADDR_DEVICE(f->addr)))
			continue;
		format_addr(addr, f->addr);
		if (used < size)
			used += (size_t)fmt(buf + used, size - used, devices ? "%s%s" : "%s%s (%s)",
			                    n ? ", " : "", addr,
			                    class_name(class, sizeof(class), f->class));
		n++;
	}
	return n;
}

static void describe_function(char *buf, const struct pci_func *f)
{
	char addr[ADDR_STRLEN];

	format_addr(addr, f->addr);
	fmt(buf, 32, "%s [%04x:%04x]", addr, f->vendor, f->device);
}

/* The functions a rule leaves to the host, and why. */
static void check_left(struct findings *out, const char *topic, const struct host *host,
                       const struct config *conf, const struct selection *sel, int rule)
{
	int i, j, end;

	for (i = 0; i < host->nfuncs; i++) {
		const struct pci_func *f = &host->funcs[i];
		char what[32], addr[ADDR_STRLEN], text[128], class[16];

		if (f->left_by != rule)
			continue;
		describe_function(what, f);
		if (f->left_why == LEFT_NO_GROUP) {
			/* An empty rule says so in its state already. */
			if (sel->results[rule].state == RULE_MATCHED) {
				format_addr(addr, f->addr);
				no_group_text(text, sizeof(text), addr, conf->rules[rule].driver);
				finding(out, "FAIL", topic, "%s", text);
			}
			continue;
		}
		if (f->left_why == LEFT_HOST_USE)
			continue;   /* check_host_uses */
		for (device_functions(host, i, &j, &end); j < end; j++)
			if (host->funcs[j].rule == rule)
				break;
		if (j == end)
			continue;   /* nothing of the device taken: nothing to compare */
		format_addr(addr, host->funcs[j].addr);
		if (f->left_why == LEFT_NOT_CARD)
			finding(out, "WARN", topic, "%s %s stays with the host: it shares "
			        "the device and group of %s but is not part of the card "
			        "(add 'siblings' to take it)", what,
			        class_name(class, sizeof(class), f->class), addr);
		else
			finding(out, "WARN", topic, "%s stays with the host: it is in IOMMU "
			        "group %d, %s in group %d", what, f->group, addr,
			        host->funcs[j].group);
	}
}

static void check_host_uses(struct findings *out, const char *topic,
                            const struct host *host, const struct rule_result *r,
                            int rule)
{
	char what[32];
	int i;

	for (i = 0; i < r->refused && i < 8; i++) {
		const struct pci_func *f = &host->funcs[r->refused_funcs[i]];

		describe_function(what, f);
		finding(out, "FAIL", topic, "%s %s: the host needs it (add 'force' to take "
		        "it anyway)", what, host_use_text(f));
	}
	if (r->refused > 8)
		finding(out, "FAIL", topic, "and %d more functions the host needs",
		        r->refused - 8);
	for (i = 0; i < host->nfuncs; i++) {
		const struct pci_func *f = &host->funcs[i];

		if (f->rule != rule || !f->host_use)
			continue;
		describe_function(what, f);
		finding(out, "WARN", topic, "%s %s: taken anyway (force)", what,
		        host_use_text(f));
	}
}

/* How each function the rule takes can be reset, and whether it can take
 * the rule's reset= (actions.c). */
static void check_resets(struct findings *out, const char *topic,
                         const struct host *host, const struct rule *rule, int index)
{
	char text[256];
	int i;

	for (i = 0; i < host->nfuncs; i++) {
		const struct pci_func *f = &host->funcs[i];
		enum reset_finding found;

		if (f->rule != index)
			continue;
		found = reset_check(text, host, i, f->matched && rule->reset[0] ? rule->reset : NULL);
		if (found != RESET_NONE)
			finding(out, found == RESET_OK ? "OK" : found == RESET_LACKS ? "FAIL" : "WARN",
			        topic, "%s", text);
	}
}

static void check_rules(struct findings *out, const struct host *host,
                        const struct config *conf, const struct selection *sel)
{
	int i;

	for (i = 0; i < conf->nrules; i++) {
		const struct rule *rule = &conf->rules[i];
		const struct rule_result *r = &sel->results[i];
		char topic[24], addr[ADDR_STRLEN], text[2048];

		fmt(topic, sizeof(topic), "line %d", rule->line);
		rule_problem(text, sizeof(text), conf, sel, i);
		if (r->state == RULE_MATCHED && r->refused && !r->nselected) {
			/* check_host_uses says why. */
		} else if (r->state == RULE_MATCHED) {
			list_taken(text, sizeof(text), host, i, false);
			finding(out, "OK", topic, "reserves %s for %s",
			        r->nselected ? text : "nothing new", rule->driver);
			if (r->ungrouped_siblings)
				finding(out, "WARN", topic, "no IOMMU groups yet: this is the "
				        "whole device; at boot only the functions in the group of "
				        "the matched one are reserved");
		} else {
			finding(out, r->state == RULE_BOOT_VGA ? "WARN" : "FAIL", topic, "%s", text);
		}
		if (r->conflicts) {
			format_addr(addr, r->conflict_addr);
			finding(out, "WARN", topic, "%s is already taken by line %d for %s",
			        addr, conf->rules[r->conflict_rule].line,
			        conf->rules[r->conflict_rule].driver);
		}
		check_left(out, topic, host, conf, sel, i);
		check_host_uses(out, topic, host, r, i);
		check_resets(out, topic, host, rule, i);
		/* An ID alone takes every card that carries it: the user probably
		 * meant one (the TrueNAS bug of two identical cards). */
		if (!(rule->selectors & SEL_LOCATORS) && list_taken(text, sizeof(text), host, i, true) > 1)
			finding(out, "WARN", topic, "%04x:%04x matches %d devices: %s (name one "
			        "by address, path= or slot=)", rule->vendor, rule->device,
			        list_taken(text, sizeof(text), host, i, true), text);
	}
}

/* vfio takes a whole group or nothing: is each group a rule touches viable
 * once the rules are applied? */
static void check_groups(struct findings *out, const struct host *host,
                         const struct config *conf)
{
	int i, j;

	for (i = 0; i < host->nfuncs; i++) {
		const struct pci_func *f = &host->funcs[i];

		/* Visit each group once, from its first selected member. */
		if (f->rule < 0 || f->group < 0)
			continue;
		for (j = host->group_head[f->group]; host->funcs[j].rule < 0;
		     j = host->funcs[j].next_in_group)
			;
		if (j != i)
			continue;
		j = group_blocker(host, conf, f->group, host->group_head[f->group], true);
		if (j < 0)
			finding(out, "OK", "group", "%d is viable", f->group);
		for (; j >= 0; j = group_blocker(host, conf, f->group,
		                                 host->funcs[j].next_in_group, true)) {
			const struct pci_func *other = &host->funcs[j];
			char what[32];

			describe_function(what, other);
			finding(out, "WARN", "group", "%d: %s %s %s: the group is not viable "
			        "for passthrough", f->group, what,
			        other->rule >= 0 ? "goes to" : "stays on",
			        other->rule >= 0 ? target_driver(conf, other) : other->driver);
		}
	}
}

static void check_display(struct findings *out, const struct host *host,
                          const struct config *conf, const struct selection *sel)
{
	int i, kept = 0, taken = 0, boot = -1;

	for (i = 0; i < host->nfuncs; i++) {
		if (!is_display(&host->funcs[i]))
			continue;
		if (host->funcs[i].rule < 0)
			kept++;
		else
			taken++;
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
	/* A headless server has no display to keep. */
	if (kept)
		finding(out, "OK", "display", "the host keeps %d display device%s",
		        kept, kept == 1 ? "" : "s");
	else if (taken)
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

/* Does vfio-pci.ids= (the last one, as the kernel keeps it) name this ID?
 * Entries are vendor:device[:subvendor:...], in hex, comma-separated. */
static bool ids_name(const char *ids, uint16_t vendor, uint16_t device)
{
	while (*ids) {
		char entry[64];
		size_t len = strcspn(ids, ",");
		char *colon;
		uint32_t v, d;

		fmt(entry, sizeof(entry), "%s", ids);
		entry[len < sizeof(entry) ? len : sizeof(entry) - 1] = '\0';
		ids += len + (ids[len] == ',');
		if (!(colon = strchr(entry, ':')))
			continue;
		*colon = '\0';
		colon[strcspn(colon + 1, ":") + 1] = '\0';
		if (parse_number(entry, 16, &v) && parse_number(colon + 1, 16, &d) &&
		    v == vendor && d == device)
			return true;
	}
	return false;
}

/* The running kernel's command line against the host and the config: what
 * 'vfio-reserve update' would write and the kernel did not get, an IOMMU
 * the user turned off, and vfio-pci.ids= taking a function no rule
 * reserves (a card fitted later, or IDs set elsewhere). */
static void check_cmdline(struct findings *out, const struct host *host,
                          const struct config *conf)
{
	static const char *const switches[] = { "intel_iommu", "amd_iommu" };
	const char *args[4], *ids = kernel_param("vfio-pci.ids"), *value;
	int n = cmdline_args(host, conf, args), i, drift = 0;
	size_t k;

	for (k = 0; k < 2; k++)
		if ((value = kernel_param(switches[k])) && contains(value, "off")) {
			finding(out, "FAIL", "cmdline", "%s=%s turns the IOMMU off: vfio cannot "
			        "work (your value; 'vfio-reserve update' leaves it)", switches[k], value);
			drift++;
		}
	for (i = 0; i < n; i++) {
		char name[32];

		fmt(name, sizeof(name), "%s", args[i]);
		name[strcspn(name, "=")] = '\0';
		/* A value of the user's own for the parameter wins. */
		if (!kernel_param(name)) {
			finding(out, "WARN", "cmdline", "the running kernel has no %s: run "
			        "'vfio-reserve update' and reboot", args[i]);
			drift++;
		}
	}
	for (i = 0; ids && i < host->nfuncs; i++) {
		const struct pci_func *f = &host->funcs[i];
		char what[32];

		if (!ids_name(ids, f->vendor, f->device) ||
		    (f->rule >= 0 && strcmp(target_driver(conf, f), "vfio-pci") == 0))
			continue;
		describe_function(what, f);
		finding(out, "WARN", "cmdline", "vfio-pci.ids=%s takes %s, which no rule "
		        "reserves: run 'vfio-reserve update', or take the ID out where it "
		        "was set", ids, what);
		drift++;
	}
	if (n && !drift)
		finding(out, "OK", "cmdline", "the running kernel has what 'vfio-reserve "
		        "update' writes");
}

/* The same comparison at boot, into the kernel log. */
void log_cmdline_drift(const struct host *host, const struct config *conf)
{
	struct findings to_log = { false, 0, true };

	check_cmdline(&to_log, host, conf);
}

/* The "LEVEL TOPIC: TEXT" lines of two programs in LIBDIR, as findings.
 * boot-setup, beside update, says how the host boots: the initramfs
 * generator, what orders the binder before the native drivers (with
 * --vfs, for vfs= rules: whether a PF's driver binding runs the binder),
 * the boot loader's tool (a "modprobe" WARN for each kernel and line
 * another file wins, so room for a few dozen).  The reports, given the
 * config, compare what other systems say of the host's devices
 * (proxmox/pcicfg.c). */
static void check_programs(struct findings *out, const struct config *conf)
{
	char script[MAX_PATHLEN], text[8192], *line, *end, *topic, *colon;
	/* --root '' is the running system, for both as for update. */
	char *argv[] = { script, "--root", (char *)sys_root, "report", NULL, NULL };
	int k;

	for (k = 0; k < conf->nrules; k++)
		if (conf->rules[k].vfs)
			argv[4] = "--vfs";

	for (k = 0; k < 2; k++) {
		lib_script(script, sizeof(script), k ? "reports" : "boot-setup");
		program_output(argv, text, sizeof(text));
		for (line = text; (end = strchr(line, '\n')); line = end + 1) {
			*end = '\0';
			topic = strchr(line, ' ');
			colon = topic ? strchr(topic, ':') : NULL;
			if (!colon || colon[1] != ' ')
				break;
			*topic++ = *colon = '\0';
			finding(out, line, topic, "%s", colon + 2);
		}
		argv[4] = (char *)conf->file;
	}
}

static struct findings *record_findings;

static void check_record(const struct config *conf, int rule, enum fp_kind kind,
                         const char *text)
{
	char topic[24];

	fmt(topic, sizeof(topic), "line %d", conf->rules[rule].line);
	finding(record_findings, kind == FP_NOTE ? "OK" : kind == FP_WARN ? "WARN" : "FAIL",
	        topic, "%s", text);
}

/* With host == NULL only the config is checked (--config-only). */
int cmd_check(struct host *host, const struct config *conf,
              const struct selection *sel, bool json)
{
	struct findings out = { json, 0, false };
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
	record_findings = &out;
	fingerprint_compare(host, conf, -1, check_record);
	check_groups(&out, host, conf);
	check_display(&out, host, conf, sel);
	check_cmdline(&out, host, conf);
	check_programs(&out, conf);
done:
	if (json) {
		json_end(']');
		json_int("failed", out.failed);
		json_end('}');
	}
	return out.failed ? EXIT_FAIL : EXIT_OK;
}

