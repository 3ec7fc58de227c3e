/* SPDX-License-Identifier: GPL-2.0-or-later */
/* proxmox --check-mapping: the maps of this node in the cluster's
 * /etc/pve/mapping/pci.cfg against the host, as Proxmox compares them when
 * a VM starts (PVE::Mapping::PCI::assert_valid), and against what
 * vfio-reserve reserves.  Printed as the "LEVEL TOPIC: TEXT" lines that
 * `check` turns into findings (binder/check.c).  Proxmox alone writes
 * pci.cfg, under the cluster's lock: it is only read here.
 *
 * The file is a section config: a line with a mapping's ID, then its
 * properties indented, `map` once for each node's entry, a property string
 * "key=value,..." of node, path, id, subsystem-id, iommugroup and
 * description (quoted where it holds a comma).  path is one address or
 * several separated by ';', each with or without its function. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "proxmox.h"

#define PCI_CFG "/etc/pve/mapping/pci.cfg"

static int failed, warned;

static void say(const char *level, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

static void say(const char *level, const char *format, ...)
{
	char text[2048];
	va_list ap;

	va_start(ap, format);
	fmt_v(text, sizeof(text), format, ap);
	va_end(ap);
	failed += level[0] == 'F';
	warned += level[0] == 'W';
	out("%s proxmox: %s\n", level, text);
}

/* One map entry: NULL where a key is absent. */
struct map_entry {
	char *node, *path, *id, *subsystem, *group;
};

/* Splits the property string `s` into `e`; false, with why, for one
 * Proxmox does not parse either (it warns and ignores the entry). */
static bool parse_map(char *s, struct map_entry *e, const char **why)
{
	memset(e, 0, sizeof(*e));
	while (*s) {
		char *key = s, *value, **slot;

		s += strcspn(s, "=,");
		if (*s != '=')
			return *why = "a part without '='", false;
		*s++ = '\0';
		value = s;
		if (*s == '"') {
			char *to = ++value;

			for (s++; *s && *s != '"'; *to++ = *s++)
				if (*s == '\\' && s[1])
					s++;
			if (*s != '"')
				return *why = "a quote without its end", false;
			*to = '\0';
			s++;
		} else {
			s += strcspn(s, ",");
		}
		if (*s)
			*s++ = '\0';
		if (!strcmp(key, "description"))
			continue;
		slot = !strcmp(key, "node") ? &e->node : !strcmp(key, "path") ? &e->path :
		       !strcmp(key, "id") ? &e->id : !strcmp(key, "subsystem-id") ? &e->subsystem :
		       !strcmp(key, "iommugroup") ? &e->group : NULL;
		if (!slot)
			return *why = "a key Proxmox does not know", false;
		if (*slot)
			return *why = "a key given twice", false;
		*slot = value;
	}
	if (!e->node || !e->path || !e->id)
		return *why = "no node, path or id", false;
	return true;
}

/* Proxmox compares the values as strings, with every "0x" taken out. */
static void strip_0x(char *to, size_t size, const char *from)
{
	size_t n = 0;

	for (; *from && n + 1 < size; from++)
		if (from[0] == '0' && from[1] == 'x')
			from++;
		else
			to[n++] = *from;
	to[n] = '\0';
}

/* One key: the host's value ("" for none) against the map's (NULL). */
static void compare(const char *where, const char *addr, const char *key,
                    const char *host_value, const char *map_value)
{
	char want[64], have[64];

	if (!host_value[0] && !map_value)
		return;
	if (host_value[0] && map_value) {
		strip_0x(want, sizeof(want), host_value);
		strip_0x(have, sizeof(have), map_value);
		if (!strcmp(want, have))
			return;
	}
	say("FAIL", "%s: %s has %s %s, the map %s: Proxmox refuses to start a VM with it",
	    where, addr, key, host_value[0] ? host_value : "none", map_value ? map_value : "none");
}

/* What a VM started with the map takes: the function, or every function of
 * the device for a path without one.  Each should be reserved. */
static void check_reserved(const char *where, const struct host *host, int i, bool whole)
{
	int first = i, end = i + 1;
	char addr[ADDR_STRLEN];

	if (whole)
		device_functions(host, i, &first, &end);
	for (; first < end; first++) {
		const struct pci_func *f = &host->funcs[first];

		if (f->rule >= 0)
			continue;
		format_addr(addr, f->addr);
		if (f->host_use)
			say("FAIL", "%s: %s %s and no rule reserves it: a VM started with "
			    "the map takes it from the host", where, addr, host_use_text(f));
		else
			say("WARN", "%s: %s is not reserved: %s has it until a VM starts "
			    "with the map (add a rule for it)", where, addr,
			    f->driver[0] ? f->driver : "no driver");
	}
}

static void check_map(struct host *host, const char *name, int line, struct map_entry *e)
{
	char where[160], *part, *save = NULL;
	int first = 1;

	fmt(where, sizeof(where), "mapping '%s' (pci.cfg line %d)", name, line);
	for (part = strtok_r(e->path, ";", &save); part;
	     part = strtok_r(NULL, ";", &save), first = 0) {
		char addr[ADDR_STRLEN + 4];
		bool whole = !strchr(part, '.');
		struct pve_values v;
		struct pci_func *f;
		pci_addr at;

		/* A device without its function: its function 0's values. */
		fmt(addr, sizeof(addr), whole ? "%s.0" : "%s", part);
		if (!parse_addr(addr, &at)) {
			say("WARN", "%s: '%s' is not a PCI address", where, part);
			continue;
		}
		format_addr(addr, at);
		if (!(f = host_find(host, at))) {
			say("FAIL", "%s: there is no %s on this host: Proxmox refuses to "
			    "start a VM with it", where, addr);
			continue;
		}
		pve_values(&v, f);
		compare(where, addr, "id", v.id, e->id);
		/* Proxmox checks the group of the first path only. */
		if (first)
			compare(where, addr, "iommugroup", v.group, e->group);
		compare(where, addr, "subsystem-id", v.subsystem, e->subsystem);
		check_reserved(where, host, (int)(f - host->funcs), whole);
	}
}

int pve_check_mappings(struct host *host)
{
	static struct line_reader in;
	static char line[8192];
	char path[MAX_PATHLEN], node[MAX_NAME], name[128] = "";
	struct map_entry e;
	const char *why;
	int number = 0, maps = 0;

	if (root_path(path, sizeof(path), PCI_CFG) != 0)
		return EXIT_FAIL;
	/* Not a Proxmox host, or not yet a mapping: nothing to say. */
	if (reader_open(&in, path) != 0) {
		if (errno != ENOENT)
			say("WARN", "%s: %s", PCI_CFG, strerror(errno));
		return EXIT_OK;
	}
	if (pve_node(node, sizeof(node)) != 0) {
		reader_close(&in);
		say("WARN", "cannot tell this node's name: its maps in %s go unchecked", PCI_CFG);
		return EXIT_OK;
	}
	while (reader_line(&in, line, sizeof(line)) >= 0) {
		char *key = line, *value;

		number++;
		if (line[0] == '#' || !line[strspn(line, " \t")])
			continue;
		if (!isspace((unsigned char)line[0])) {
			fmt(name, sizeof(name), "%s", line);
			name[strcspn(name, " \t")] = '\0';
			continue;
		}
		key += strspn(key, " \t");
		value = key + strcspn(key, " \t");
		if (value - key != 3 || strncmp(key, "map", 3) != 0)
			continue;
		value += strspn(value, " \t");
		if (!parse_map(value, &e, &why)) {
			say("WARN", "mapping '%s' (pci.cfg line %d): %s: Proxmox ignores the map",
			    name, number, why);
			continue;
		}
		if (strcmp(e.node, node) != 0)
			continue;
		maps++;
		check_map(host, name, number, &e);
	}
	reader_close(&in);
	if (!maps && !warned)
		say("OK", "%s maps nothing on node %s", PCI_CFG, node);
	else if (!failed && !warned)
		say("OK", "%s: %d map%s of node %s, as the host has them and reserved",
		    PCI_CFG, maps, maps == 1 ? "" : "s", node);
	return failed ? EXIT_FAIL : EXIT_OK;
}
