/* SPDX-License-Identifier: GPL-2.0-or-later */
/* metrics: the reservation in Prometheus's text exposition format, for
 * node_exporter's textfile collector: # HELP and # TYPE before each metric's
 * samples, no timestamps (the collector refuses them), every value as
 * `status --json` has it.  With --textfile-dir DIR it is written whole as
 * DIR/vfio-reserve.prom: a temporary file beside it, fsync, rename, as the
 * collector's documentation asks, so that a scrape never reads half of it.
 *
 * A rule's state is a state set, one sample per state, 1 for the one it is
 * in: the series stay the same when the state changes, so an alert or a
 * graph never loses one to staleness (client libraries' Enum, OpenMetrics'
 * StateSet, node_exporter's node_systemd_unit_state). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>   /* rename() only: a system call, no stdio */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports.h"

#define PROM_FILE "vfio-reserve.prom"

static const char *const states[] = {
	[RULE_MATCHED] = "matched", [RULE_NO_DEVICE] = "no-device",
	[RULE_MISMATCH] = "mismatch", [RULE_BOOT_VGA] = "boot-vga",
	[RULE_BRIDGE] = "bridge", [RULE_NO_GROUP] = "no-group",
};

/* As status --json's hardware_changes name them (enum fp_kind). */
static const char *const kinds[] = { "note", "warn", "stops", "verdict" };

static void family(const char *name, const char *help)
{
	out("# HELP vfio_reserve_%s %s\n# TYPE vfio_reserve_%s gauge\n", name, help, name);
}

/* A label value as the exposition format quotes it: backslash, double
 * quote and line feed escaped.  The config is the only source of anything
 * but hex digits and driver names here, and it is text. */
static void label(const char *name, const char *value, bool first)
{
	out("%s%s=\"", first ? "{" : ",", name);
	for (; *value; value++) {
		if (*value == '\\' || *value == '"')
			out_char('\\');
		if (*value == '\n')
			out_str("\\n");
		else
			out_char(*value);
	}
	out_char('"');
}

static void rule_line(const struct config *conf, int r, bool first)
{
	char line[12];

	fmt(line, sizeof(line), "%d", conf->rules[r].line);
	label("rule_line", line, first);
}

/* The functions the rules select, with the labels that name them; `group`:
 * the value is the group's viability, else whether it is reserved.  The
 * not-reserved count is status's: off its target, or its group not viable. */
static int functions(const struct view *v, bool group)
{
	int unreserved = 0, r, i;

	for (r = 0; r < v->conf->nrules; r++) {
		const struct rule *rule = &v->conf->rules[r];

		for (i = 0; i < v->host->nfuncs; i++) {
			const struct pci_func *f = &v->host->funcs[i];
			char addr[ADDR_STRLEN], id[10];
			bool reserved, viable;

			if (f->rule != r)
				continue;
			reserved = strcmp(f->driver, rule->driver) == 0;
			viable = status_blocker(v->host, v->conf, f) < 0;
			unreserved += !reserved || !viable;
			format_addr(addr, f->addr);
			fmt(id, sizeof(id), "%04x:%04x", f->vendor, f->device);
			out("vfio_reserve_function_%s", group ? "group_viable" : "reserved");
			label("address", addr, true);
			label("id", id, false);
			rule_line(v->conf, r, false);
			label("target", rule->driver, false);
			out("} %d\n", group ? viable : reserved);
		}
	}
	return unreserved;
}

static int counted[MAX_RULES][4];

static void count_change(const struct config *conf, int rule, enum fp_kind kind,
                         const char *text)
{
	(void)conf, (void)text;
	counted[rule][kind]++;
}

static void print_metrics(const struct view *v)
{
	struct boot_facts boot;
	bool recorded, reported;
	int r, k, unreserved;

	family("function_reserved", "Whether a function a rule selects is on the rule's "
	       "driver (1) or not (0).");
	unreserved = functions(v, false);
	family("function_group_viable", "Whether the IOMMU group of a function a rule "
	       "selects can go to vfio (1) or another function in it keeps it (0).");
	functions(v, true);
	family("functions_not_reserved", "Functions the rules select that are not on "
	       "their driver or whose group is not viable, as status counts them.");
	out("vfio_reserve_functions_not_reserved %d\n", unreserved);
	family("rule_state", "The state of each rule of the config: 1 for the state it is "
	       "in, 0 for the others.");
	for (r = 0; r < v->conf->nrules; r++)
		for (k = 0; k < (int)(sizeof(states) / sizeof(states[0])); k++) {
			out("vfio_reserve_rule_state");
			rule_line(v->conf, r, true);
			label("rule", v->conf->rules[r].text, false);
			label("state", states[k], false);
			out("} %d\n", v->sel->results[r].state == (enum rule_state)k);
		}
	memset(counted, 0, sizeof(counted));
	recorded = fingerprint_compare(v->host, v->conf, -1, count_change);
	family("hardware_record", "Whether the record of the hardware each rule takes "
	       "(FILE.fingerprint) is there to compare the host with.");
	out("vfio_reserve_hardware_record %d\n", recorded);
	if (recorded) {
		family("rule_hardware_changes", "What the comparison of the host with the "
		       "hardware record says of each rule, by kind (stops: the boot "
		       "reserves nothing for the rule).");
		for (r = 0; r < v->conf->nrules; r++)
			for (k = 0; k < 4; k++) {
				out("vfio_reserve_rule_hardware_changes");
				rule_line(v->conf, r, true);
				label("kind", kinds[k], false);
				out("} %d\n", counted[r][k]);
			}
	}
	reported = report_facts(&boot);
	family("boot_report", "Whether the last boot left a boot report.");
	out("vfio_reserve_boot_report %d\n", reported);
	if (!reported)
		return;
	family("boot_kill_switch", "Whether the kill switch (vfio_reserve=off) was on "
	       "at the last boot.");
	out("vfio_reserve_boot_kill_switch %d\n", boot.kill_switch);
	if (boot.binder_us >= 0) {
		family("boot_binder_seconds", "How long the binder took at the last boot.");
		out("vfio_reserve_boot_binder_seconds %ld.%06ld\n", boot.binder_us / 1000000,
		    boot.binder_us % 1000000);
	}
}

/* DIR/vfio-reserve.prom, whole or not at all: standard output goes to a
 * temporary file beside it for the time of the metrics. */
static int write_textfile(const struct view *v, const char *dir)
{
	char path[MAX_PATHLEN], tmp[MAX_PATHLEN + 16];
	int saved_stdout, fd, error = 0;

	if (!*dir || fmt(path, sizeof(path), "%s/" PROM_FILE, dir) >= (int)sizeof(path))
		return usage_error("--textfile-dir: '%s': not a usable directory", dir);
	fmt(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	out_flush();
	/* One a killed run of an earlier process with this PID left. */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		logmsg(LOG_ERR, "cannot write %s: %s", path, strerror(errno));
		return EXIT_FAIL;
	}
	saved_stdout = dup(STDOUT_FILENO);
	if (saved_stdout < 0 || dup2(fd, STDOUT_FILENO) < 0)
		error = errno;
	if (!error) {
		print_metrics(v);
		error = out_flush_error();
		dup2(saved_stdout, STDOUT_FILENO);
	}
	/* Readable by node_exporter's user whatever the umask. */
	if (!error && (fchmod(fd, 0644) != 0 || fsync(fd) != 0))
		error = errno;
	if (close(fd) != 0 && !error)
		error = errno;
	if (saved_stdout >= 0)
		close(saved_stdout);
	if (!error && rename(tmp, path) != 0)
		error = errno;
	if (error) {
		unlink(tmp);
		logmsg(LOG_ERR, "cannot write %s: %s", path, strerror(error));
		return EXIT_FAIL;
	}
	/* The rename itself on disk, as the file's contents are. */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	return EXIT_OK;
}

int cmd_metrics(struct view *v, const char *dir)
{
	/* As status: a config with errors is refused, nothing written. */
	if (v->conf->errors)
		return EXIT_USAGE;
	if (!dir) {
		print_metrics(v);
		return EXIT_OK;
	}
	return write_textfile(v, dir);
}
