/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfio-reserve's reports on the host: run by the binder, as LIBDIR/reports,
 * with the options it was given (-c, --root, -q, -v) and the command, for
 * the commands it hands over (binder/main.c).  See vfio-reserve(8). */
#include <stdlib.h>
#include <string.h>

#include "reports.h"

/* The lines the binder's --help prints for these commands. */
static const char commands[] =
	"  check [--json] [--config-only]\n"
	"\t\t\t\tvalidate the config, then the host\n"
	"  list [--all] [--json]\t\tdisplay devices (or all functions) and their state\n"
	"  xml ADDR\t\t\tprint the libvirt <hostdev> element for ADDR\n"
	"  nfd [--write=DIR]\t\tNode Feature Discovery labels, or DIR/vfio-reserve\n"
	"  kubevirt [--json]\t\tKubeVirt's permittedHostDevices for the reserved IDs\n"
	"  proxmox [--json] [--check-mapping]\n"
	"\t\t\t\tProxmox VE's PCI mappings of what is reserved\n"
	"  metrics [--textfile-dir DIR]\tthe state for Prometheus, or into DIR/vfio-reserve.prom\n";

static struct host host;
static struct config conf;
static struct selection sel;

/* A command, the flags it takes, and how many words besides them it needs.
 * A flag written "--name=" takes a value, as --name VALUE or --name=VALUE:
 * one such flag a command, whose value the run function finds in
 * view.value (NULL when it was not given). */
struct command {
	const char *name, *flags;
	int words;
	const char *usage;	/* when the words are not `words` */
	bool config;		/* reads the config */
	int (*run)(struct view *v, char **words, const char *flags);
};

static int run_list(struct view *v, char **words, const char *flags)
{
	int status;

	(void)words;
	status = cmd_list(v->host, v->conf, contains(flags, " --all "),
	                  contains(flags, " --json "));
	return v->conf->errors ? EXIT_USAGE : status;
}

static int run_check(struct view *v, char **words, const char *flags)
{
	bool config_only = contains(flags, " --config-only ");

	(void)words;
	return cmd_check(config_only ? NULL : v->host, v->conf, v->sel,
	                 contains(flags, " --json "));
}

static int run_xml(struct view *v, char **words, const char *flags)
{
	(void)flags;
	return cmd_xml(v->host, words[0]);
}

static int run_nfd(struct view *v, char **words, const char *flags)
{
	const char *dir = v->value;
	int status;

	(void)words, (void)flags;
	if (dir && !dir[0])
		return usage_error("%s needs a directory", "--write=");
	status = cmd_nfd(v, dir);
	return status == EXIT_OK && v->conf->errors ? EXIT_USAGE : status;
}

static int run_kubevirt(struct view *v, char **words, const char *flags)
{
	int status;

	(void)words;
	status = cmd_kubevirt(v, contains(flags, " --json "));
	return status == EXIT_OK && v->conf->errors ? EXIT_USAGE : status;
}

static int run_proxmox(struct view *v, char **words, const char *flags)
{
	(void)words;
	if (contains(flags, " --check-mapping "))
		return contains(flags, " --json ") ? usage_error("%s", "--json and --check-mapping: one or the other")
		                                   : pve_check_mappings(v->host);
	return cmd_proxmox(v->host, v->conf, contains(flags, " --json "));
}

/* check's findings of the integrations, for the config check has loaded
 * (binder/check.c runs `reports --root ROOT report CONFIG`, as it runs
 * boot-setup). */
static int run_report(struct view *v, char **words, const char *flags)
{
	(void)flags;
	config_load(v->conf, words[0]);
	select_functions(v->host, v->conf, v->sel);
	return pve_check_mappings(v->host);
}

static int run_metrics(struct view *v, char **words, const char *flags)
{
	(void)words, (void)flags;
	return cmd_metrics(v, v->value);
}

static const struct command table[] = {
	{ "check", " --json --config-only ", 0, NULL, true, run_check },
	{ "list", " --all --json ", 0, NULL, true, run_list },
	{ "xml", " ", 1, "%s takes one address", false, run_xml },
	{ "nfd", " --write= ", 0, NULL, true, run_nfd },
	{ "kubevirt", " --json ", 0, NULL, true, run_kubevirt },
	{ "proxmox", " --json --check-mapping ", 0, NULL, true, run_proxmox },
	{ "report", " ", 1, "%s takes the config file", false, run_report },
	{ "metrics", " --textfile-dir= ", 0, NULL, true, run_metrics },
};

static int run(int argc, char **argv)
{
	char default_config[MAX_PATHLEN], given[64] = " ", *words[4];
	const char *config_arg = NULL, *root = getenv("VFIO_RESERVE_ROOT");
	const char *root_name = "VFIO_RESERVE_ROOT";
	const struct command *c = NULL;
	struct view v = { &host, &conf, &sel, NULL };
	int i, nwords = 0, status;
	size_t k;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--commands")) {
			out_str(commands);
			return EXIT_OK;
		} else if ((!strcmp(a, "-c") || !strcmp(a, "--root")) && i + 1 < argc) {
			if (a[1] == 'c')
				config_arg = argv[++i];
			else	/* '' is the running system, as check passes it */
				root = *argv[++i] ? argv[i] : "/", root_name = a;
		} else if (!strcmp(a, "-q") || !strcmp(a, "-v")) {
			verbosity = a[1] == 'q' ? -1 : 1;
		} else {
			return usage_error("unknown option '%s'", a);
		}
	}
	if (i == argc)
		return usage_error("no command%s", "");
	for (k = 0; k < sizeof(table) / sizeof(table[0]); k++)
		if (!strcmp(argv[i], table[k].name))
			c = &table[k];
	if (!c)
		return usage_error("unknown command '%s'", argv[i]);
	/* Each flag once, in the order given; the other words in theirs. */
	for (i++; i < argc; i++) {
		char flag[40], *value = strchr(argv[i], '='), *eq;

		/* " --name= ", to look the flag up as one with a value. */
		fmt(flag, sizeof(flag) - 2, " %s", argv[i]);
		eq = strchr(flag, '=');
		strcpy(eq ? eq : flag + strlen(flag), "= ");
		if (argv[i][0] == '-' && argv[i][1] == '-' && contains(c->flags, flag)) {
			if (v.value || (!value && i + 1 == argc))
				return usage_error(v.value ? "unexpected argument '%s'"
				                           : "%s needs a value", argv[i]);
			v.value = value ? value + 1 : argv[++i];
			continue;
		}
		fmt(flag, sizeof(flag), " %s ", argv[i]);
		if (argv[i][0] == '-' && argv[i][1] == '-') {
			if (!contains(c->flags, flag) || strlen(given) + strlen(argv[i]) + 2 > sizeof(given))
				return usage_error("unexpected argument '%s'", argv[i]);
			strcat(strcat(given, argv[i]), " ");
		} else if (nwords == c->words) {
			return c->words ? usage_error(c->usage, c->name)
			                : usage_error("unexpected argument '%s'", argv[i]);
		} else {
			words[nwords++] = argv[i];
		}
	}
	if (nwords < c->words)
		return usage_error(c->usage, c->name);
	if ((status = set_root(root, root_name)) != EXIT_OK)
		return status;
	if (!config_arg) {
		if (root_path(default_config, sizeof(default_config), "/etc/vfio-reserve.conf") != 0)
			return EXIT_USAGE;
		config_arg = default_config;
	}
	/* A broken config does not stop a report: it shows the host as it is,
	 * and what the good rules take of it (list exits 2 after it).  It stops
	 * check, which is about the config. */
	if (c->config && config_load(&conf, config_arg) != 0 && c->run == run_check)
		return EXIT_USAGE;
	/* --config-only: the config alone, without the host (a build chroot). */
	if (contains(given, " --config-only "))
		return c->run(&v, words, given);
	host.read_paths = true;
	if (host_scan(&host) != 0)
		return EXIT_FAIL;
	find_host_uses(&host);
	select_functions(&host, &conf, &sel);
	return c->run(&v, words, given);
}

int main(int argc, char **argv)
{
	int status = run(argc, argv);
	int closed = close_stdout();

	return status != EXIT_OK ? status : closed;
}
