/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The hardware each rule was set up for.  `update` keeps a record beside the
 * config (FILE.fingerprint, printed by `vfio-reserve fingerprint`): each rule
 * as "rule LINE TEXT", then each function it takes as
 *   ADDR VENDOR:DEVICE SUBVENDOR:SUBDEVICE CLASS REVISION PATH [serial=DSN] MEMBER...
 * where DSN is the PCIe Device Serial Number, where the function has one,
 * and a MEMBER is another function of its IOMMU group as PATH=ID: group
 * numbers are handed out anew at every boot, paths and IDs are not.  The
 * boot, check and status compare it with the host: a rule whose hardware
 * differs reserves nothing at boot.  A rule the record does not name (a new
 * or edited line) and a config without a record work as before. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "vfio-reserve.h"

#define RECORD_LINE 4096

/* The path of the sysfs file `name` of `f`: 0, or -1 when too long. */
static int attr_path(char *path, const struct pci_func *f, const char *name)
{
	char addr[ADDR_STRLEN];

	format_addr(addr, f->addr);
	return root_path(path, MAX_PATHLEN, "/sys/bus/pci/devices/%s/%s", addr, name);
}

static uint32_t attr_hex(const struct pci_func *f, const char *name)
{
	char path[MAX_PATHLEN], value[16];
	uint32_t v = 0;

	if (attr_path(path, f, name) == 0 && read_attr(path, value, sizeof(value)) == 0)
		parse_number(value, 16, &v);
	return v;
}

/* "SUBVENDOR:SUBDEVICE" of `f`, for the reports; false, and "", where
 * sysfs has no subsystem_vendor (Proxmox then expects no subsystem-id). */
bool subsystem_id(char *buf, size_t size, const struct pci_func *f)
{
	char path[MAX_PATHLEN];

	*buf = '\0';
	if (attr_path(path, f, "subsystem_vendor") != 0 || !path_exists(path))
		return false;
	fmt(buf, size, "%04x:%04x", attr_hex(f, "subsystem_vendor"),
	    attr_hex(f, "subsystem_device"));
	return true;
}

/* "ID SUBSYSTEM CLASS REVISION", as the record has them. */
static void hardware(char *buf, size_t size, const struct pci_func *f)
{
	fmt(buf, size, "%04x:%04x %04x:%04x %06x %02x", f->vendor, f->device,
	    attr_hex(f, "subsystem_vendor"), attr_hex(f, "subsystem_device"),
	    f->class, attr_hex(f, "revision"));
}

/* The PCIe Device Serial Number (extended capability 3) as lspci prints it,
 * or "" where the function has none or its extended configuration space
 * cannot be read (only root reads past the first 64 bytes). */
static void serial(char *buf, const struct pci_func *f)
{
	static uint8_t config[4096];
	char path[MAX_PATHLEN];
	unsigned at = 0x100, hops = 0, k;

	*buf = '\0';
	memset(config, 0, sizeof(config));
	if (attr_path(path, f, "config") == 0)
		read_file(path, (char *)config, sizeof(config));
	/* Each header: the ID in bits 0-15, the next one's offset in 20-31. */
	while (at >= 0x100 && at + 12 < sizeof(config) && hops++ < 1000) {
		if (config[at] == 3 && config[at + 1] == 0) {
			for (k = 11; k >= 4; k--)
				buf += fmt(buf, 4, "%02x-", config[at + k]);
			buf[-1] = '\0';
			return;
		}
		at = (config[at + 2] >> 4 | config[at + 3] << 4) & 0xffc;
	}
}

static void member(char *buf, size_t size, const struct pci_func *f)
{
	size_t n;

	format_path(buf, size, f);
	n = strlen(buf);
	fmt(buf + n, size - n, "=%04x:%04x", f->vendor, f->device);
}

bool record_exists(const struct config *conf)
{
	char path[MAX_PATHLEN];

	/* xml reads no config. */
	if (!conf->file)
		return false;
	record_path(path, sizeof(path), conf);
	return path_exists(path);
}

void record_path(char *buf, size_t size, const struct config *conf)
{
	fmt(buf, size, "%s.fingerprint", conf->file);
}

/* Opens the record, refused as the config is when others could have
 * written it: -1 then, and without one. */
int record_open(struct line_reader *in, const struct config *conf)
{
	char path[MAX_PATHLEN];
	struct stat st;

	record_path(path, sizeof(path), conf);
	if (reader_open(in, path) != 0)
		return -1;
	if (fstat(in->fd, &st) != 0 || refuse_unsafe(path, &st)) {
		reader_close(in);
		return -1;
	}
	return 0;
}

int cmd_fingerprint(const struct host *host, const struct config *conf)
{
	char text[MAX_PATHLEN], path[MAX_PATHLEN];
	int r, i, j;

	for (r = 0; r < conf->nrules; r++) {
		out("rule %d %s\n", conf->rules[r].line, conf->rules[r].text);
		for (i = 0; i < host->nfuncs; i++) {
			const struct pci_func *f = &host->funcs[i];

			if (f->rule != r)
				continue;
			format_addr(text, f->addr);
			out("%s ", text);
			hardware(text, sizeof(text), f);
			format_path(path, sizeof(path), f);
			out("%s %s", text, path);
			serial(text, f);
			if (*text)
				out(" serial=%s", text);
			/* "-": no group yet, as before the first boot with the
			 * IOMMU on, which `update` turns on. */
			if (f->group < 0)
				out(" -");
			for (j = f->group < 0 ? -1 : host->group_head[f->group]; j >= 0;
			     j = host->funcs[j].next_in_group) {
				if (j == i)
					continue;
				member(text, sizeof(text), &host->funcs[j]);
				out(" %s", text);
			}
			out_char('\n');
		}
	}
	return EXIT_OK;
}

/* "ADDR was ID subsystem SUB, is ID": the ID and the fields that changed,
 * the old subsystem always (it tells one vendor's card from another's). */
static void changed(char *buf, size_t size, const char *addr, char **was, char **is)
{
	static const char *const names[] = { "", " subsystem ", " class ", " revision " };
	size_t n = (size_t)fmt(buf, size, "%s was %s subsystem %s", addr, was[0], was[1]);
	int k;

	for (k = 2; k < 4 && is; k++)
		if (strcmp(was[k], is[k]) != 0)
			n += (size_t)fmt(buf + n, size - n, "%s%s", names[k], was[k]);
	n += (size_t)fmt(buf + n, size - n, is ? ", is %s" : ", is gone", is ? is[0] : "");
	for (k = 1; k < 4 && is; k++)
		if (strcmp(was[k], is[k]) != 0)
			n += (size_t)fmt(buf + n, size - n, "%s%s", names[k], is[k]);
}

/* Up to `max` blank-separated words of `line`, in place; the rest after. */
static int split(char *line, char **words, int max, char **rest)
{
	int n = 0;

	while (n < max && *line) {
		words[n++] = line;
		line += strcspn(line, " ");
		if (*line)
			*line++ = '\0';
	}
	*rest = line;
	return n;
}

/* A function the host may need, as far as the boot can tell: what the
 * guard found (check, status), or by its class a disk or network
 * controller (the guard's kinds: root file system, swap, network), unless
 * a rule takes it. */
static bool host_needs(const struct pci_func *m)
{
	uint32_t base = m->class >> 16;

	return m->rule < 0 && (m->host_use || base == 0x01 || base == 0x02);
}

struct compare {
	const struct host *host;
	const struct config *conf;
	fingerprint_say say;
	int rule;                   /* the rule the record's lines are about, or -1 */
	bool differs;
};

static void say(struct compare *c, enum fp_kind kind, const char *text)
{
	c->differs |= kind == FP_STOPS;
	c->say(c->conf, c->rule, kind, text);
}

static int found_by_path(const struct compare *c, const char *path)
{
	char here[MAX_PATHLEN];
	int i;

	for (i = 0; i < c->host->nfuncs; i++)
		if (c->host->funcs[i].rule == c->rule &&
		    format_path(here, sizeof(here), &c->host->funcs[i]) == 0 &&
		    strcmp(here, path) == 0)
			return i;
	return -1;
}

static bool seen[MAX_FUNCS];
static int gained[MAX_FUNCS];   /* the rule + 1 that reported it as new */

/* The fields of `f` as the record has them: ID, subsystem, class, revision,
 * in `buf`, split into `is`; true when they are the record's `was`. */
static bool same_hardware(char *buf, size_t size, const struct pci_func *f,
                          char **was, char **is)
{
	char *rest;
	int k;

	hardware(buf, size, f);
	split(buf, is, 4, &rest);
	for (k = 0; k < 4; k++)
		if (strcmp(was[k], is[k]) != 0)
			return false;
	return true;
}

/* One function line of the record against the host. */
static void compare_function(struct compare *c, char *line)
{
	const struct host *host = c->host;
	char *was[6], *members, text[MAX_PATHLEN], here[64], path[MAX_PATHLEN];
	char name[ADDR_STRLEN], *is[4], *dsn = NULL;
	const struct pci_func *f;
	pci_addr addr;
	int i, j;

	if (split(line, was, 6, &members) != 6 || !parse_addr(was[0], &addr))
		return;
	if (strncmp(members, "serial=", 7) == 0)
		split(members, &dsn, 1, &members);
	f = host_find((struct host *)host, addr);
	i = f && f->rule == c->rule ? (int)(f - host->funcs) : found_by_path(c, was[5]);
	if (i < 0) {
		/* Taking less is safe: a sibling its IOMMU group leaves out. */
		if (f && same_hardware(here, sizeof(here), f, was + 1, is)) {
			fmt(text, sizeof(text), "%s is not taken by the rule any more", was[0]);
			say(c, FP_WARN, text);
			return;
		}
		changed(text, sizeof(text), was[0], was + 1, f ? is : NULL);
		say(c, FP_STOPS, text);
		return;
	}
	f = &host->funcs[i];
	seen[i] = true;
	if (!same_hardware(here, sizeof(here), f, was + 1, is)) {
		changed(text, sizeof(text), was[0], was + 1, is);
		say(c, FP_STOPS, text);
	} else if (dsn) {
		/* Compared where both have one: a record from before serials
		 * were kept has none, and only root reads them. */
		serial(here, f);
		if (*here && strcmp(dsn + 7, here) != 0) {
			fmt(text, sizeof(text), "%s serial was %s, is %s", was[0], dsn + 7, here);
			say(c, FP_STOPS, text);
		}
	}
	format_addr(name, f->addr);
	format_path(path, sizeof(path), f);
	if (f->addr != addr) {
		fmt(text, sizeof(text), "%s is at %s now, found by its path", was[0], name);
		say(c, FP_NOTE, text);
	} else if (strcmp(was[5], path) != 0) {
		fmt(text, sizeof(text), "%s was at path %s, is at %s", was[0], was[5], path);
		say(c, FP_STOPS, text);
		/* Its group moved with it: the members' paths tell nothing new. */
		return;
	}
	for (j = f->group < 0 ? -1 : host->group_head[f->group]; j >= 0;
	     j = host->funcs[j].next_in_group) {
		const struct pci_func *m = &host->funcs[j];
		char other[ADDR_STRLEN];

		member(path, sizeof(path), m);
		/* Recorded without groups, every member is new: only what the
		 * host may need is told. */
		if (j == i || word_in(path, members) || gained[j] == c->rule + 1 ||
		    (!strcmp(members, "-") && !host_needs(m)))
			continue;
		gained[j] = c->rule + 1;
		format_addr(other, m->addr);
		fmt(text, sizeof(text), "the IOMMU group of %s gained %s [%04x:%04x] since the "
		    "record%s", name, other, m->vendor, m->device,
		    host_needs(m) ? ": a disk or network controller the host may need" : "");
		say(c, host_needs(m) ? FP_STOPS : FP_WARN, text);
	}
}

/* The end of a rule's lines: what it takes now that the record lacks. */
static void finish_rule(struct compare *c)
{
	char text[96], addr[ADDR_STRLEN];
	int i;

	for (i = 0; c->rule >= 0 && i < c->host->nfuncs; i++) {
		const struct pci_func *f = &c->host->funcs[i];

		if (f->rule != c->rule || seen[i])
			continue;
		format_addr(addr, f->addr);
		fmt(text, sizeof(text), "%s [%04x:%04x] is new since the record", addr,
		    f->vendor, f->device);
		say(c, FP_STOPS, text);
	}
	if (c->rule >= 0 && c->differs)
		c->say(c->conf, c->rule, FP_VERDICT, "the hardware is not what 'vfio-reserve update' "
		       "recorded: nothing reserved (run it again to accept the new hardware)");
	c->rule = -1;
	c->differs = false;
}

/* Compares the record with the host, for the rule `only` or (-1) every
 * rule; `say` gets each difference (enum fp_kind).  False without a usable
 * record. */
bool fingerprint_compare(const struct host *host, const struct config *conf,
                         int only, fingerprint_say sayer)
{
	static struct line_reader in;
	static char line[RECORD_LINE];
	static bool recorded[MAX_RULES];
	struct compare c = { host, conf, sayer, -1, false };
	char path[MAX_PATHLEN];
	int r;

	if (record_open(&in, conf) != 0)
		return false;
	memset(seen, 0, sizeof(seen));
	memset(gained, 0, sizeof(gained));
	memset(recorded, 0, sizeof(recorded));
	while (reader_line(&in, line, sizeof(line)) >= 0) {
		char *word[2], *text;
		uint32_t number;

		if (strncmp(line, "rule ", 5) != 0) {
			if (c.rule >= 0)
				compare_function(&c, line);
			continue;
		}
		finish_rule(&c);
		if (split(line + 5, word, 1, &text) != 1 || !parse_number(word[0], 10, &number))
			continue;
		for (r = 0; r < conf->nrules; r++)
			if (conf->rules[r].line == (int)number && strcmp(conf->rules[r].text, text) == 0 &&
			    (only < 0 || only == r))
				c.rule = r;
		if (c.rule >= 0)
			recorded[c.rule] = true;
	}
	finish_rule(&c);
	reader_close(&in);
	record_path(path, sizeof(path), conf);
	for (r = 0; r < conf->nrules; r++) {
		char text[MAX_PATHLEN + 96];

		if (recorded[r] || (only >= 0 && only != r))
			continue;
		fmt(text, sizeof(text), "not in %s: its hardware is not compared "
		    "(run 'vfio-reserve update')", path);
		sayer(conf, r, FP_WARN, text);
	}
	return true;
}

static struct selection *boot_sel;
static struct host *boot_host;

static void boot_say(const struct config *conf, int rule, enum fp_kind kind,
                     const char *text)
{
	int i;

	logmsg(kind == FP_VERDICT ? LOG_ERR : kind == FP_NOTE ? LOG_INFO : LOG_WARN, "%s:%d: %s", conf->file,
	       conf->rules[rule].line, text);
	for (i = 0; kind == FP_VERDICT && i < boot_host->nfuncs; i++)
		if (boot_host->funcs[i].rule == rule) {
			boot_host->funcs[i].rule = -1;
			boot_sel->nselected--;
			boot_sel->results[rule].nselected--;
		}
}

/* At boot, before anything is written: a rule whose hardware differs
 * takes nothing. */
void fingerprint_boot(struct host *host, const struct config *conf,
                      struct selection *sel)
{
	boot_host = host;
	boot_sel = sel;
	fingerprint_compare(host, conf, -1, boot_say);
}
