/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kubevirt: the permittedHostDevices.pciHostDevices entries of the KubeVirt
 * CR (KubeVirt user guide, "Host Devices Assignment"; API V1PciHostDevice:
 * pciVendorSelector "vendor_id:product_id", resourceName,
 * externalResourceProvider) for the IDs the rules reserve for vfio-pci.
 *
 * KubeVirt's own device plugin serves each entry: virt-handler offers
 * every function on this node that carries the selector's ID and is bound
 * to vfio-pci (pkg/virt-handler/device-manager/pci_device.go), so
 * externalResourceProvider is false.  It tells functions apart by ID alone:
 * where an ID also fits a function the rules leave to the host, the
 * cluster cannot tell the two cards apart, and would offer the host's as
 * soon as anything put it on vfio-pci (a vfio-pci.ids= argument, an
 * operator that binds by ID).  That is warned of, by address.
 *
 * The resource name comes from the ID, not from pci.ids: one KubeVirt CR
 * serves the whole cluster, and pci.ids differs between nodes and
 * releases.  Its prefix is KubeVirt's own, which its guide gives to a
 * device its plugin serves (devices.kubevirt.io/nvme). */
#include <string.h>

#include "kubernetes.h"

#define RESOURCE_PREFIX "devices.kubevirt.io/"
#define LISTED_MAX 8   /* addresses named in one warning */

static struct taken_id ids[MAX_FUNCS];

/* The functions with id's ID that the rules do not reserve for vfio-pci. */
static void warn_unreserved(const struct host *host, const struct config *conf,
                            const struct taken_id *id)
{
	char list[LISTED_MAX * (ADDR_STRLEN + 2) + 32], addr[ADDR_STRLEN];
	size_t used = 0;
	int n = 0, i;

	for (i = 0; i < host->nfuncs; i++) {
		const struct pci_func *f = &host->funcs[i];

		if (f->vendor != id->vendor || f->device != id->device ||
		    (f->rule >= 0 && strcmp(conf->rules[f->rule].driver, "vfio-pci") == 0))
			continue;
		if (n++ < LISTED_MAX) {
			format_addr(addr, f->addr);
			used += (size_t)fmt(list + used, sizeof(list) - used, "%s%s",
			                    used ? ", " : "", addr);
		}
	}
	if (n == 0)
		return;
	if (n > LISTED_MAX)
		fmt(list + used, sizeof(list) - used, " and %d more", n - LISTED_MAX);
	logmsg(LOG_WARN, "kubevirt: %04x:%04x also fits %s, which the rules do not "
	       "reserve: KubeVirt tells devices apart by vendor:device alone, and "
	       "offers any of them that is on vfio-pci as " RESOURCE_PREFIX "pci-%04x-%04x",
	       id->vendor, id->device, list, id->vendor, id->device);
}

int cmd_kubevirt(struct view *v, bool json)
{
	int nids = taken_ids(v->host, v->conf, ids), listed = 0, k;

	if (json) {
		json_begin('{');
		json_key("spec");
		json_begin('{');
		json_key("configuration");
		json_begin('{');
		json_key("permittedHostDevices");
		json_begin('{');
		json_key("pciHostDevices");
		json_begin('[');
	} else {
		out("# vfio-reserve(8) kubevirt: the IDs %s reserves for vfio-pci\n"
		    "spec:\n  configuration:\n    permittedHostDevices:\n"
		    "      pciHostDevices:", v->conf->file);
	}
	for (k = 0; k < nids; k++) {
		char selector[10], resource[sizeof(RESOURCE_PREFIX) + 16];

		/* KubeVirt assigns vfio-pci functions only. */
		if (ids[k].for_vfio == 0)
			continue;
		listed++;
		fmt(selector, sizeof(selector), "%04x:%04x", ids[k].vendor, ids[k].device);
		fmt(resource, sizeof(resource), RESOURCE_PREFIX "pci-%04x-%04x",
		    ids[k].vendor, ids[k].device);
		if (json) {
			json_key(NULL);
			json_begin('{');
			json_str("pciVendorSelector", selector);
			json_str("resourceName", resource);
			json_bool("externalResourceProvider", false);
			json_end('}');
		} else {
			/* Quoted, as KubeVirt's guide writes it: a string
			 * to any YAML reader (1.1 takes 1234:12 for base 60). */
			out("\n      - pciVendorSelector: \"%s\"\n"
			    "        resourceName: %s\n"
			    "        externalResourceProvider: false", selector, resource);
		}
		warn_unreserved(v->host, v->conf, &ids[k]);
	}
	if (json) {
		json_end(']');
		json_end('}');
		json_end('}');
		json_end('}');
		json_end('}');
	} else {
		out("%s\n", listed ? "" : " []");
	}
	return EXIT_OK;
}
