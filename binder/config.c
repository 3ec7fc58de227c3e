/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The config parser: one rule per line, tokens separated by blanks.
 *
 * Like doas and kmod, every bad line goes through one error path that names
 * the file and line, and parsing goes on to the end so that one run shows
 * every mistake.  The same token parser reads `bind` arguments.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfio-reserve.h"

#define MAX_TOKENS (MAX_LINE / 2)

static void config_error(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void config_error(const char *file, int line, const char *format, ...)
{
	char text[MAX_LINE + 128];
	va_list ap;

	va_start(ap, format);
	fmt_v(text, sizeof(text), format, ap);
	va_end(ap);
	if (file)
		logmsg(LOG_ERR, "%s:%d: %s", file, line, text);
	else
		logmsg(LOG_ERR, "%s", text);
}

static bool valid_name(const char *s, bool allow_dot)
{
	size_t len = strlen(s);

	if (len == 0 || len >= MAX_NAME)
		return false;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      (allow_dot && (c == '.' || c == '+'))))
			return false;
	}
	return true;
}

static bool parse_id(const char *s, uint16_t *vendor, uint16_t *device)
{
	char part[5];
	uint32_t v, d;

	if (strlen(s) != 9 || s[4] != ':')
		return false;
	memcpy(part, s, 4);
	part[4] = '\0';
	if (!parse_hex(part, 4, &v) || !parse_hex(s + 5, 4, &d))
		return false;
	*vendor = (uint16_t)v;
	*device = (uint16_t)d;
	return true;
}

/* path=[DDDD:]BB:DD.F/DD.F/...: the first element is a full address on a
 * root bus, each further one a device.function on the bus below. */
static bool parse_path(char *spec, struct rule *rule)
{
	char *element, *save = NULL;
	uint32_t dev, fn;

	rule->path_len = 0;
	if (*spec == '\0' || *spec == '/' || spec[strlen(spec) - 1] == '/' ||
	    contains(spec, "//"))
		return false;
	for (element = strtok_r(spec, "/", &save); element;
	     element = strtok_r(NULL, "/", &save)) {
		pci_addr *out;
		char part[3];

		if (rule->path_len == MAX_DEPTH)
			return false;
		out = &rule->path[rule->path_len++];
		if (rule->path_len == 1) {
			if (!parse_addr(element, out))
				return false;
			continue;
		}
		if (strlen(element) != 4 || element[2] != '.')
			return false;
		memcpy(part, element, 2);
		part[2] = '\0';
		if (!parse_hex(part, 2, &dev) || dev > 0x1f ||
		    !parse_hex(element + 3, 1, &fn) || fn > 7)
			return false;
		*out = dev << 3 | fn;
	}
	return rule->path_len > 0;
}

static void remember_text(struct rule *rule, char **tokens, int ntokens)
{
	size_t used = 0;
	int i;

	rule->text[0] = '\0';
	for (i = 0; i < ntokens && used < sizeof(rule->text) - 1; i++) {
		int n = fmt(rule->text + used, sizeof(rule->text) - used,
		                 "%s%s", i ? " " : "", tokens[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	if (used >= sizeof(rule->text) - 1)
		memcpy(rule->text + sizeof(rule->text) - 4, "...", 4);
}

/* Parses one rule from its tokens; returns the number of errors reported.
 * `file` is NULL for command-line arguments. */
int parse_rule(struct rule *rule, char **tokens, int ntokens,
               const char *file, int line)
{
	static const struct { unsigned bit; const char *name; } kinds[] = {
		{ SEL_ADDR, "address" }, { SEL_ID, "ID" },
		{ SEL_PATH, "path" }, { SEL_SLOT, "slot" },
	};
	unsigned seen = 0;          /* the options with a value, by kind */
	int errors = 0, i;

	memset(rule, 0, sizeof(*rule));
	rule->line = line;
	strcpy(rule->driver, "vfio-pci");
	remember_text(rule, tokens, ntokens);

#define FAIL(...) do { config_error(file, line, __VA_ARGS__); errors++; } while (0)
	for (i = 0; i < ntokens; i++) {
		char *tok = tokens[i];
		unsigned kind = 0;
		bool ok = true;

		if (strncmp(tok, "driver=", 7) == 0 || strncmp(tok, "reset=", 6) == 0 ||
		    strncmp(tok, "vfs=", 4) == 0 || strncmp(tok, "vf=", 3) == 0) {
			/* 0 driver=, 1 reset=, 2 vfs=, 3 vf=: VFs are counted in 16
			 * bits (sriov_totalvfs), and vf=K is kept as K + 1. */
			int option = tok[0] == 'd' ? 0 : tok[0] == 'r' ? 1 : tok[2] == 's' ? 2 : 3;
			char *value = strchr(tok, '=') + 1;
			uint32_t n;

			value[-1] = '\0';
			if (seen & 1u << option)
				FAIL("duplicate option '%s'", tok);
			else if (option < 2 ? !valid_name(value, false) || *value == '-'
			                  : !parse_number(value, 10, &n) || n + (uint32_t)option - 3 >= 0xffff)
				FAIL("malformed %s '%s'", option == 0 ? "driver name" :
				     option == 1 ? "reset method" : tok, value);
			else if (option < 2)
				strcpy(option ? rule->reset : rule->driver, value);
			else
				*(option == 2 ? &rule->vfs : &rule->vf) = (uint16_t)(n + (uint32_t)option - 2);
			seen |= 1u << option;
			continue;
		} else if (strcmp(tok, "force") == 0 || strcmp(tok, "single") == 0 ||
		           strcmp(tok, "siblings") == 0) {
			bool *flag = tok[0] == 'f' ? &rule->force :
			             tok[1] == 'i' && tok[2] == 'n' ? &rule->single : &rule->siblings;
			if (*flag)
				FAIL("duplicate option '%s'", tok);
			else if (rule->single && rule->siblings)
				FAIL("'single' and 'siblings' contradict each other");
			*flag = true;
			continue;
		} else if (strncmp(tok, "path=", 5) == 0) {
			char spec[MAX_LINE];

			kind = SEL_PATH;
			if (!(rule->selectors & kind)) {
				fmt(spec, sizeof(spec), "%s", tok + 5);
				ok = parse_path(spec, rule);
				if (!ok)
					FAIL("malformed path '%s' (want path=BB:DD.F/DD.F...)",
					     tok + 5);
			}
		} else if (strncmp(tok, "slot=", 5) == 0) {
			kind = SEL_SLOT;
			if (!(rule->selectors & kind)) {
				ok = valid_name(tok + 5, true);
				if (ok)
					strcpy(rule->slot, tok + 5);
				else
					FAIL("malformed slot name '%s'", tok + 5);
			}
		} else if (strchr(tok, '.')) {
			kind = SEL_ADDR;
			if (!(rule->selectors & kind)) {
				ok = parse_addr(tok, &rule->addr);
				if (!ok)
					FAIL("malformed PCI address '%s' (want DDDD:BB:DD.F)", tok);
			}
		} else if (strchr(tok, ':')) {
			kind = SEL_ID;
			if (!(rule->selectors & kind)) {
				ok = parse_id(tok, &rule->vendor, &rule->device);
				if (!ok)
					FAIL("malformed vendor:device ID '%s' (want VVVV:DDDD)", tok);
			}
		} else {
			char *eq = strchr(tok, '=');
			if (eq)
				*eq = '\0';
			FAIL("unknown option '%s'", tok);
			continue;
		}

		if (rule->selectors & kind) {
			size_t k;
			for (k = 0; kinds[k].bit != kind; k++)
				;
			FAIL("duplicate %s '%s'", kinds[k].name, tok);
		}
		rule->selectors |= kind;
	}
	if (errors == 0 && rule->selectors == 0)
		FAIL("rule has no selector (an address, ID, path= or slot=)");
#undef FAIL
	return errors;
}

/* Splits a line into blank-separated tokens, stopping at '#'.  A carriage
 * return counts as a blank so that a file saved with CRLF still reads. */
static int tokenize(char *line, char **tokens)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p == '\0' || *p == '#')
			return n;
		tokens[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '#')
			p++;
		if (*p == '#') {
			*p = '\0';
			return n;
		}
		if (*p)
			*p++ = '\0';
	}
}

/* Reads one line into buf.  Returns its length, -1 at end of file, or
 * -2 when it is longer than the buffer (the rest is skipped) and -3 when it
 * holds a NUL or another control byte that no config has a use for. */
static int read_line(struct line_reader *in, char *buf, size_t size)
{
	size_t len = 0;
	bool too_long = false, binary = false;
	int c;

	while ((c = reader_getc(in)) != READER_EOF && c != '\n') {
		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			binary = true;
		if (len + 1 < size)
			buf[len++] = (char)c;
		else
			too_long = true;
	}
	buf[len] = '\0';
	if (c == READER_EOF && len == 0 && !too_long)
		return -1;
	if (too_long)
		return -2;
	return binary ? -3 : (int)len;
}

/* Before the open and again on the open file (it may have been swapped):
 * a FIFO or a device would block the read, or act on the open. */
int refuse_unsafe(const char *file, const struct stat *st)
{
	if (!S_ISREG(st->st_mode)) {
		logmsg(LOG_ERR, "%s: not a regular file: refusing to use it", file);
		return 1;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		logmsg(LOG_ERR, "%s: owned by uid %u, not root: refusing to use it",
		       file, (unsigned)st->st_uid);
		return 1;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		logmsg(LOG_ERR, "%s: writable by group or others (mode %04o): "
		       "refusing to use it", file, (unsigned)(st->st_mode & 07777));
		return 1;
	}
	return 0;
}

/* Loads the whole file; returns the number of errors.  A missing file is no
 * error: it means no rule, and `missing` says so. */
int config_load(struct config *conf, const char *file)
{
	static struct line_reader in;
	char buf[MAX_LINE];
	char *tokens[MAX_TOKENS];
	struct stat st;
	int line = 0, len;

	conf->file = file;
	conf->missing = false;
	conf->unusable = false;
	conf->errors = 0;
	conf->nrules = 0;
	if (stat(file, &st) == 0 && refuse_unsafe(file, &st)) {
		conf->unusable = true;
		return ++conf->errors;
	}
	if (reader_open(&in, file) != 0) {
		if (errno == ENOENT) {
			conf->missing = true;
			return 0;
		}
		logmsg(LOG_ERR, "%s: %s", file, strerror(errno));
		conf->unusable = true;
		return ++conf->errors;
	}
	if (fstat(in.fd, &st) == 0 && refuse_unsafe(file, &st)) {
		reader_close(&in);
		conf->unusable = true;
		return ++conf->errors;
	}
	while ((len = read_line(&in, buf, sizeof(buf))) != -1) {
		struct rule *rule;
		int ntokens, errors;

		line++;
		if (len == -2) {
			config_error(file, line, "line longer than %d characters",
			             MAX_LINE - 1);
			conf->errors++;
			continue;
		}
		if (len == -3) {
			config_error(file, line, "control character in line");
			conf->errors++;
			continue;
		}
		ntokens = tokenize(buf, tokens);
		if (ntokens == 0)
			continue;
		if (conf->nrules == MAX_RULES) {
			config_error(file, line, "more than %d rules", MAX_RULES);
			conf->errors++;
			break;
		}
		rule = &conf->rules[conf->nrules];
		errors = parse_rule(rule, tokens, ntokens, file, line);
		conf->errors += errors;
		if (errors == 0)
			conf->nrules++;
	}
	if (in.error) {
		logmsg(LOG_ERR, "%s: %s", file, strerror(in.error));
		conf->errors++;
		conf->unusable = true;
	}
	reader_close(&in);
	return conf->errors;
}
