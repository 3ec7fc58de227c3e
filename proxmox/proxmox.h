/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Proxmox VE's PCI resource mappings (/cluster/mapping/pci, stored in the
 * cluster file /etc/pve/mapping/pci.cfg).  A mapping has an ID and a `map`
 * entry per node: node, path (an address, or a device without its function
 * for all its functions), id (vendor:device), subsystem-id and iommugroup.
 * When a VM starts with a mapping, Proxmox compares the entry of its node
 * with the host (PVE::Mapping::PCI, assert_valid) and refuses to start it
 * where they differ. */
#ifndef VFIO_RESERVE_PROXMOX_H
#define VFIO_RESERVE_PROXMOX_H

#include "reports.h"

/* A function's values as a map entry has them, "" where the host has none:
 * Proxmox then wants the key absent. */
struct pve_values {
	char id[10], subsystem[10], group[12];
};

void pve_values(struct pve_values *v, const struct pci_func *f);
int pve_node(char *buf, size_t size);
bool pve_whole_device(const struct host *host, int i);

#endif
