/* SPDX-License-Identifier: GPL-2.0-or-later */
/* proxmox: what vfio-reserve reserves, as Proxmox VE resource mappings, as
 * `pvesh create /cluster/mapping/pci` lines or as JSON. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>

#include "proxmox.h"

void pve_values(struct pve_values *v, const struct pci_func *f)
{
	fmt(v->id, sizeof(v->id), "%04x:%04x", f->vendor, f->device);
	subsystem_id(v->subsystem, sizeof(v->subsystem), f);
	v->group[0] = '\0';
	if (f->group >= 0)
		fmt(v->group, sizeof(v->group), "%d", f->group);
}

/* The node name as Proxmox takes it (PVE::INotify::nodename): the host name
 * up to its first dot; under --root, from ROOT/etc/hostname.  It must be a
 * node name Proxmox accepts (pve-node: letters, digits and inner '-'). */
int pve_node(char *buf, size_t size)
{
	char path[MAX_PATHLEN];
	struct utsname uts;
	size_t len, k;

	if (!sys_root[0]) {
		if (uname(&uts) != 0)
			return logmsg(LOG_ERR, "uname: %s", strerror(errno)), -1;
		fmt(buf, size, "%s", uts.nodename);
	} else if (root_path(path, sizeof(path), "/etc/hostname") != 0 ||
	           read_attr(path, buf, size) != 0) {
		return logmsg(LOG_ERR, "%s: cannot read the node name: %s", path,
		              strerror(errno)), -1;
	}
	buf[strcspn(buf, ".")] = '\0';
	len = strlen(buf);
	for (k = 0; k < len; k++)
		if (!isalnum((unsigned char)buf[k]) && (buf[k] != '-' || k == 0 || k == len - 1))
			break;
	if (len == 0 || k < len)
		return logmsg(LOG_ERR, "'%s' is not a node name Proxmox accepts", buf), -1;
	return 0;
}

/* Is the function at `i` the first of a device whose every function is
 * reserved, and one of several?  Proxmox then maps the device without its
 * function ("All Functions"): the VM gets them all, as one multifunction
 * device, and the entry carries the values of function 0. */
bool pve_whole_device(const struct host *host, int i)
{
	int first, end, j;

	device_functions(host, i, &first, &end);
	if (first != i || end - first < 2 || (host->funcs[i].addr & 7) != 0)
		return false;
	for (j = first; j < end; j++)
		if (host->funcs[j].rule < 0)
			return false;
	return true;
}

/* The mapping's ID: a pve-configid (a letter, then letters, digits and '_';
 * newer versions take '-' too, older ones not: only '_' here), unique in the
 * cluster by its node and address: vfio_NODE_DDDD_BB_DD[_F]. */
static void mapping_id(char *buf, size_t size, const char *node, const char *path)
{
	size_t n = (size_t)fmt(buf, size, "vfio_%s_%s", node, path), k;

	for (k = 0; k < n && k < size; k++)
		buf[k] = buf[k] == '-' || buf[k] == ':' || buf[k] == '.' ? '_' : (char)tolower(buf[k]);
}

int cmd_proxmox(struct host *host, const struct config *conf, bool json)
{
	char node[MAX_NAME], path[ADDR_STRLEN], id[MAX_NAME + 32];
	struct pve_values v;
	int i;

	if (pve_node(node, sizeof(node)) != 0)
		return EXIT_FAIL;
	if (json)
		json_begin('[');
	for (i = 0; i < host->nfuncs; i++) {
		const struct pci_func *f = &host->funcs[i];
		bool whole = pve_whole_device(host, i);
		int first, end;

		/* A device mapped whole was printed with its function 0. */
		device_functions(host, i, &first, &end);
		if (f->rule < 0 || (first != i && pve_whole_device(host, first)))
			continue;
		format_addr(path, f->addr);
		if (whole)
			path[strlen(path) - 2] = '\0';
		mapping_id(id, sizeof(id), node, path);
		pve_values(&v, f);
		if (!json) {
			/* The keys in the order Proxmox writes them to pci.cfg. */
			out("pvesh create /cluster/mapping/pci --id %s --map id=%s%s%s,node=%s,path=%s%s%s\n",
			    id, v.id, v.group[0] ? ",iommugroup=" : "", v.group, node, path,
			    v.subsystem[0] ? ",subsystem-id=" : "", v.subsystem);
			continue;
		}
		json_key(NULL);
		json_begin('{');
		json_str("id", id);
		json_key("map");
		json_begin('[');
		json_key(NULL);
		json_begin('{');
		json_str("node", node);
		json_str("path", path);
		json_str("id", v.id);
		if (v.subsystem[0])
			json_str("subsystem-id", v.subsystem);
		if (f->group >= 0)
			json_int("iommugroup", f->group);
		json_end('}');
		json_end(']');
		json_end('}');
	}
	if (json)
		json_end(']');
	return conf->errors ? EXIT_USAGE : EXIT_OK;
}
