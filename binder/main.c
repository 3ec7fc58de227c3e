/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfio-reserve: keep chosen PCI devices away from host drivers at boot and
 * hand them to vfio-pci, by writing driver_override.  See vfio-reserve(8). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfio-reserve.h"

/* The binder's commands; the host's reports (reports/main.c) print theirs
 * between these and the options. */
static const char usage[] =
	"usage: vfio-reserve [-c FILE] [--root DIR] [-q|-v] COMMAND [ARGS]\n"
	"\n"
	"commands:\n"
	"  apply [--dry-run] [--boot] [--unbound] [--force]\n"
	"\t\t\t\treserve the configured devices\n"
	"  status [--json]\t\teach rule's devices and whether they are reserved\n"
	"  release ADDR|all [--force]\tgive reserved devices back to their host drivers\n"
	"  bind ADDR [ID] [driver=NAME] [single|siblings] [force|--force]\n"
	"\t\t\t\treserve one device now, without the config\n"
	"  cmdline [--json]\t\tkernel arguments the config needs\n"
	"  modules\t\t\tkernel modules the initramfs needs\n"
	"  image FILE\t\t\twrite the initramfs's config, print its modules\n"
	"  modaliases\t\t\tmodaliases of the functions the config selects\n"
	"  fingerprint\t\t\tprint the hardware each rule takes, as update records it\n"
	"  update [--dry-run] [--remove] [--no-trial] [--json]\n"
	"\t\t\t\tmake a config change effective for the next boot\n"
	"  confirm [--dry-run]\t\tkeep the reservation this trial boot made\n";
static const char options[] =
	"\n"
	"options:\n"
	"  -c FILE\tconfig file (default /etc/vfio-reserve.conf)\n"
	"  --root DIR\tread /sys, /proc and /etc under DIR (also VFIO_RESERVE_ROOT)\n"
	"  -q, -v\tfewer or more messages\n";

/* Both are large and static: the bounds live in vfio-reserve.h. */
static struct host host;
static struct config conf;
static struct selection sel;

enum boot_mode { BOOT_ON, BOOT_OFF, BOOT_DRY_RUN, BOOT_PREVIOUS };

/* What the last `vfio-reserve confirm` (update/trial) kept: the boot
 * reserves it instead of the config when the boot loader says that a trial
 * of the config went unconfirmed (vfio_reserve=previous). */
#define CONFIRMED_CONFIG "/var/lib/vfio-reserve/confirmed.conf"

/* The kill switch: vfio_reserve=, vfio-reserve=, and the same with dracut's
 * rd. prefix (the kernel takes - and _ in a parameter name alike), its value
 * in any case and quoted or not, the words split as the kernel splits them
 * (kcmdline.c).  The last one wins, as the kernel's own parameters do; an
 * unknown value is taken as off, since whoever typed it at a black screen
 * wanted out. */
static enum boot_mode boot_mode_from_cmdline(char *why, size_t size)
{
	enum boot_mode mode = BOOT_ON;
	const struct kernel_param *params;
	int n = kernel_params(&params), i;

	for (i = 0; i < n; i++) {
		const char *name = params[i].name, *value = params[i].value;

		if (!param_is(strncmp(name, "rd.", 3) == 0 ? name + 3 : name, "vfio_reserve"))
			continue;
		fmt(why, size, value ? "%s=%s" : "%s", name, value);
		if (!value)
			value = "";
		if (word_in(value, "off 0 no false"))
			mode = BOOT_OFF;
		else if (word_in(value, "dry-run dry_run"))
			mode = BOOT_DRY_RUN;
		else if (word_in(value, "on 1 yes true"))
			mode = BOOT_ON;
		else if (word_in(value, "previous"))
			mode = BOOT_PREVIOUS;
		else {
			logmsg(LOG_WARN, "unknown value in '%s' on the kernel command line: "
			       "taken as off", why);
			mode = BOOT_OFF;
		}
	}
	return mode;
}

struct flags {
	bool json, dry_run, boot, unbound, force;
};

/* Each command names the flags it takes; anything else is a usage error. */
static int parse_flags(int argc, char **argv, const char *allowed, struct flags *fl)
{
	int i;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool *flag = NULL;

		if (!strcmp(a, "--json"))
			flag = &fl->json;
		else if (!strcmp(a, "--dry-run"))
			flag = &fl->dry_run;
		else if (!strcmp(a, "--boot"))
			flag = &fl->boot;
		else if (!strcmp(a, "--unbound"))
			flag = &fl->unbound;
		else if (!strcmp(a, "--force"))
			flag = &fl->force;
		if (!flag || !contains(allowed, a))
			return usage_error("unexpected argument '%s'", a);
		*flag = true;
	}
	return EXIT_OK;
}

extern char **environ;

/* update and confirm are scripts in LIBDIR (update/update, update/trial),
 * run with the options this binary was given. */
static int run_script(const char *name, const char *config_arg, char **argv, int argc)
{
	static char *env[512];
	static char self[MAX_PATHLEN + 16];
	char *args[20], script[MAX_PATHLEN];
	size_t prefix = (size_t)fmt(self, sizeof(self), "VFIO_RESERVE=");
	int nenv = 0;
	int n = 0, i;
	ssize_t len;

	if (argc > 8)
		return usage_error("%s: too many arguments", name);
	lib_script(script, sizeof(script), name);
	args[n++] = script;
	if (config_arg) {
		args[n++] = "-c";
		args[n++] = (char *)config_arg;
	}
	if (sys_root[0]) {
		args[n++] = "--root";
		args[n++] = (char *)sys_root;
	}
	if (verbosity)
		args[n++] = verbosity < 0 ? "-q" : "-v";
	for (i = 0; i < argc; i++)
		args[n++] = argv[i];
	if (*name == 't')
		args[n++] = "confirm";
	args[n] = NULL;
	/* The script calls back into this very binary, wherever it lives. */
	for (i = 0; environ[i] && nenv < 510; i++)
		env[nenv++] = environ[i];
	len = readlink("/proc/self/exe", self + prefix, MAX_PATHLEN - 1);
	if (len > 0 && !getenv("VFIO_RESERVE")) {
		self[prefix + (size_t)len] = '\0';
		env[nenv++] = self;
	}
	env[nenv] = NULL;
	out_flush();
	execve(script, args, env);
	logmsg(LOG_ERR, "cannot run %s: %s", script, strerror(errno));
	return EXIT_FAIL;
}

/* A command the binder does not have is one of the host's reports
 * (reports/), run with the command's words; they are not in the initramfs,
 * where it stays an unknown command. */
static int run_reports(const char *config_arg, const char *cmd, char **argv, int argc)
{
	char script[MAX_PATHLEN];

	lib_script(script, sizeof(script), "reports");
	if (access(script, X_OK) != 0)
		return usage_error("unknown command '%s'", cmd);
	return run_script("reports", config_arg, argv - 1, argc + 1);
}

/* The usage on fd 1 or 2, with the reports' commands where they are. */
static void print_usage(int fd)
{
	char script[MAX_PATHLEN];
	char *argv[] = { script, "--commands", NULL };
	void (*say)(const char *) = fd == 1 ? out_str : err_str;

	say(usage);
	out_flush();
	lib_script(script, sizeof(script), "reports");
	if (access(script, X_OK) == 0)
		run_program(argv, fd);
	say(options);
}

/* The scan reads each function's topology path only for the hardware
 * record and for rules that select by it: one system call a function less. */
static void want_paths(bool always)
{
	int i;

	host.read_paths = always || record_exists(&conf);
	for (i = 0; i < conf.nrules; i++)
		host.read_paths |= (conf.rules[i].selectors & SEL_PATH) != 0;
}

/* The host as this invocation sees it, and what the config takes of it.
 * The guard (guard.c) is part of what an invocation may take, for every
 * command but the early boot, where nothing is mounted yet. */
static int scan_and_select(bool early_boot)
{
	if (host_scan(&host) != 0)
		return EXIT_FAIL;
	if (!early_boot)
		find_host_uses(&host);
	select_functions(&host, &conf, &sel);
	return EXIT_OK;
}

/* apply, after the VFs that vfs= rules ask for, which it may then take
 * (sriov.c): the host is scanned and selected again once they exist. */
static int apply_vfs(struct apply_opts opts)
{
	char path[MAX_PATHLEN];
	int status, i, fd;

	/* A person's command writes nothing for a vfs= the PF cannot have. */
	for (i = 0; i < conf.nrules && !opts.boot; i++)
		if (sel.results[i].state == RULE_VFS) {
			warn_rule_results(&conf, &sel);
			logmsg(LOG_ERR, "nothing was changed");
			return EXIT_FAIL;
		}
	/* One run at a time creates VFs: udev runs the binder for each PF a
	 * driver binds, and two runs on one PF would each read the autoprobe
	 * the other turned off, and one put that back.  Held to the exit; a
	 * run that waited reads the host again. */
	for (i = 0; i < conf.nrules && !opts.dry_run; i++)
		if (conf.rules[i].vfs && root_path(path, sizeof(path), "/run/vfio-reserve.sriov-lock") == 0 &&
		    (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) >= 0) {
			if (flock(fd, LOCK_EX | LOCK_NB) != 0 && flock(fd, LOCK_EX) == 0 &&
			    scan_and_select(opts.boot) != EXIT_OK)
				return EXIT_FAIL;
			break;
		}
	if (sriov_create(&host, &conf, opts.dry_run) && scan_and_select(opts.boot) != EXIT_OK)
		return EXIT_FAIL;
	status = apply(&host, &conf, &sel, opts);
	sriov_finish(&host, &conf, opts.unbound);
	return status;
}

/* bind ADDR [VENDOR:DEVICE] [driver=NAME] [single|siblings] [force|--force]:
 * one device by its address, as vfio-reserve(8) documents; an ID only
 * checks what is there.  An ID, path= or slot= alone could take any number
 * of cards. */
static int bind_now(char **argv, int argc)
{
	struct apply_opts opts = { false, false, false, false };
	char *tokens[8];
	bool force = false;
	int n = 0, i;

	/* --force, like the rule's own 'force', anywhere among the words. */
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0)
			force = true;
		else if (n == 8)
			return usage_error("bind: too many arguments%s", "");
		else
			tokens[n++] = argv[i];
	}
	if (n == 0)
		return usage_error("bind needs an address%s", "");
	if (parse_rule(&conf.rules[0], tokens, n, NULL, 0) != 0)
		return EXIT_USAGE;
	if ((conf.rules[0].selectors & ~SEL_ID) != SEL_ADDR)
		return usage_error("bind takes one PCI address (and optionally its "
		                   "vendor:device ID), not '%s'", conf.rules[0].text);
	opts.force = conf.rules[0].force |= force;
	conf.nrules = 1;
	conf.file = "command line";
	want_paths(false);
	if (scan_and_select(false) != EXIT_OK)
		return EXIT_FAIL;
	/* vfs=: what it selects exists only once the VFs are created. */
	if (sel.nselected == 0 && !sel.refused && !conf.rules[0].vfs) {
		warn_rule_results(&conf, &sel);
		return EXIT_FAIL;
	}
	return apply_vfs(opts);
}

static int boot_apply(const struct flags *fl, enum boot_mode mode, const char *why)
{
	struct apply_opts opts = { fl->dry_run, true, fl->unbound, false };

	switch (mode) {
	case BOOT_OFF:
		report_kill_switch(why);
		logmsg(LOG_INFO, "disabled by '%s' on the kernel command line: "
		       "nothing reserved", why);
		return EXIT_OK;
	case BOOT_DRY_RUN:
		opts.dry_run = true;
		break;
	case BOOT_PREVIOUS:
		logmsg(LOG_WARN, "'%s': the trial boot of a new reservation went unconfirmed: "
		       "this boot reserves what was last confirmed (%s)", why, conf.file);
		break;
	case BOOT_ON:
		break;
	}
	if (conf.missing || conf.nrules == 0) {
		logmsg(LOG_INFO, "%s: no active rule: nothing to reserve", conf.file);
		return EXIT_OK;
	}
	want_paths(false);
	if (scan_and_select(true) != EXIT_OK)
		return EXIT_OK;
	fingerprint_boot(&host, &conf, &sel);
	log_cmdline_drift(&host, &conf);
	apply_vfs(opts);
	/* Never stop a boot: every failure is in the kernel log already. */
	return EXIT_OK;
}

/* `apply --boot` exits 0 whatever happens, a failed write on stdout too. */
static bool boot;

static int run(int argc, char **argv)
{
	char default_config[MAX_PATHLEN], why[64] = "";
	const char *config_arg = NULL, *root = getenv("VFIO_RESERVE_ROOT");
	const char *root_name = "VFIO_RESERVE_ROOT";
	struct flags fl = { false, false, false, false, false };
	const char *cmd;
	enum boot_mode mode = BOOT_ON;
	bool image, fingerprint;
	int i, status;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-c") || !strcmp(a, "--root")) {
			if (i + 1 >= argc)
				return usage_error("%s needs an argument", a);
			if (a[1] == 'c')
				config_arg = argv[++i];
			else {
				root = argv[++i];
				root_name = a;
			}
		} else if (!strcmp(a, "-q")) {
			verbosity = -1;
		} else if (!strcmp(a, "-v")) {
			verbosity = 1;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			print_usage(1);
			return EXIT_OK;
		} else if (!strcmp(a, "--version")) {
			out_str("vfio-reserve " VERSION "\n");
			return EXIT_OK;
		} else {
			return usage_error("unknown option '%s'", a);
		}
	}
	if (i == argc) {
		print_usage(2);
		return EXIT_USAGE;
	}
	cmd = argv[i++];
	argc -= i;
	argv += i;
	for (i = 0; i < argc; i++)
		boot |= !strcmp(cmd, "apply") && !strcmp(argv[i], "--boot");
	if ((status = set_root(root, root_name)) != EXIT_OK)
		return status;

	if (!strcmp(cmd, "update"))
		return run_script("update", config_arg, argv, argc);
	if (!strcmp(cmd, "confirm"))
		return run_script("trial", config_arg, argv, argc);
	if (!strcmp(cmd, "bind"))
		return bind_now(argv, argc);
	if (!strcmp(cmd, "image")) {
		if (argc != 1)
			return usage_error("image takes one file: where to write the "
			                   "image's config%s", "");
	} else if (!strcmp(cmd, "release")) {
		if (!argc)
			return usage_error("%s takes one address", cmd);
		/* release ADDR|all [--force] */
		if ((status = parse_flags(argc - 1, argv + 1, "--force", &fl)) != EXIT_OK)
			return status;
	} else {
		static const struct { const char *name, *flags; } commands[] = {
			{ "apply", "--dry-run --boot --unbound --force" }, { "status", "--json" },
			{ "cmdline", "--json" }, { "modules", "" }, { "modaliases", "" },
			{ "fingerprint", "" },
		};
		size_t k;

		for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
			if (!strcmp(cmd, commands[k].name))
				break;
		if (k == sizeof(commands) / sizeof(commands[0]))
			return run_reports(config_arg, cmd, argv, argc);
		if ((status = parse_flags(argc, argv, commands[k].flags, &fl)) != EXIT_OK)
			return status;
	}

	if (fl.boot) {
		log_to_kmsg();
		report_start();
		mode = boot_mode_from_cmdline(why, sizeof(why));
	}
	elapsed_us();
	if (!config_arg) {
		if (root_path(default_config, sizeof(default_config),
		              mode == BOOT_PREVIOUS ? CONFIRMED_CONFIG
		                                    : "/etc/vfio-reserve.conf") != 0)
			return EXIT_USAGE;
		config_arg = default_config;
	}
	/* A broken config stops every command that acts on its rules, but not
	 * the ones that help to repair it or the host: release, and apply
	 * --boot (which applies the good rules; so does list, a report).  Nor
	 * modules, which the image builds run: they carry the good rules, as
	 * the boot applies them, unless the file cannot be used at all. */
	image = !strcmp(cmd, "modules") || !strcmp(cmd, "image");
	if (config_load(&conf, config_arg) != 0 &&
	    !fl.boot && strcmp(cmd, "release") != 0 &&
	    (!image || conf.unusable))
		return EXIT_USAGE;

	if (!strcmp(cmd, "apply") && fl.boot) {
		boot_apply(&fl, mode, why);
		report_write(!fl.unbound);
		return EXIT_OK;
	}
	if (image && conf.errors)
		logmsg(LOG_WARN, "%s: lines with errors skipped: the initramfs "
		       "reserves what the other lines say", conf.file);
	if (!strcmp(cmd, "modules"))
		return cmd_modules(&conf);
	if (!strcmp(cmd, "image"))
		return cmd_image(&host, &conf, &sel, argv[0]);

	/* The record is of what the boot takes, which has no guard. */
	fingerprint = !strcmp(cmd, "fingerprint");
	want_paths(fingerprint);
	if (scan_and_select(fingerprint) != EXIT_OK)
		return EXIT_FAIL;
	if (fingerprint)
		return cmd_fingerprint(&host, &conf);
	if (!strcmp(cmd, "status"))
		return cmd_status(&host, &conf, &sel, fl.json);
	if (!strcmp(cmd, "cmdline"))
		return cmd_cmdline(&host, &conf, &sel, fl.json);
	if (!strcmp(cmd, "modaliases"))
		return cmd_modaliases(&host);
	if (!strcmp(cmd, "release"))
		return release(&host, &conf, argv[0], fl.force);
	return apply_vfs((struct apply_opts){ fl.dry_run, false, fl.unbound, fl.force });
}

int main(int argc, char **argv)
{
	int status = run(argc, argv);
	int closed = close_stdout();

	return boot ? EXIT_OK : status != EXIT_OK ? status : closed;
}
