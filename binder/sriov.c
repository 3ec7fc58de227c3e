/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SR-IOV: the VFs a vfs= rule asks of a PF, created so that none meets its
 * native driver before the rules have had their say.
 *
 * The kernel probes a new VF at once unless its PF's sriov_drivers_autoprobe
 * is 0, and then only a VF with a driver_override (pci_device_can_probe() in
 * drivers/pci/pci-driver.c).  So: autoprobe off, then sriov_numvfs; the
 * host is scanned and selected again and apply writes the chosen VFs'
 * overrides; sriov_finish probes them, puts autoprobe back as it was, and
 * only then probes the other VFs, which get their native driver as on a
 * host without vfio-reserve.  Only the PF's driver can enable VFs (its
 * sriov_configure), so this runs again when that driver binds the PF
 * (udev/vfio-reserve-sriov.rules).  Selection (select.c) marks the PFs of
 * vfs= rules, those that can have that many VFs.
 */
#include "vfio-reserve.h"

static struct created {
	pci_addr pf;
	uint16_t vfs;
	char autoprobe[8];          /* sriov_drivers_autoprobe before we wrote 0 */
} created[MAX_FUNCS];       /* every PF of the host, at most */
static int ncreated;
static char path[MAX_PATHLEN];

static void pf_path(pci_addr pf, const char *attr)
{
	char addr[ADDR_STRLEN];

	format_addr(addr, pf);
	root_path(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", addr, attr);
}

/* The address of VF k of the PF, from its virtfnK link. */
bool virtfn(pci_addr pf, int k, pci_addr *vf)
{
	char attr[16], name[MAX_NAME];

	fmt(attr, sizeof(attr), "virtfn%d", k);
	pf_path(pf, attr);
	return read_link_name(path, name, sizeof(name)) == 0 && parse_addr(name, vf);
}

static int pf_read(pci_addr pf, const char *attr, char *text)
{
	uint32_t n = 0;

	pf_path(pf, attr);
	if (read_attr(path, text, 8) == 0)
		parse_number(text, 10, &n);
	return (int)n;
}

/* A number the PF shows, 0 where it shows none. */
int pf_number(pci_addr pf, const char *attr)
{
	char text[8];

	return pf_read(pf, attr, text);
}

/* Returns how many PFs got VFs: the caller scans and selects again.  A PF
 * that has another number of VFs keeps them: changing it takes every VF
 * away, from a guest too. */
int sriov_create(const struct host *host, const struct config *conf, bool dry_run)
{
	char text[8];
	int i, now;

	for (i = 0; i < host->nfuncs; i++) {
		const struct pci_func *f = &host->funcs[i];
		struct created *c = &created[ncreated];
		int vfs;

		if (!f->vfs_rule)
			continue;
		vfs = conf->rules[f->vfs_rule - 1].vfs;
		if ((now = pf_number(f->addr, "sriov_numvfs")) == vfs)
			continue;
		/* Without a driver, when it binds (udev). */
		if (now || !f->driver[0] || dry_run)
			continue;
		pf_read(f->addr, "sriov_drivers_autoprobe", c->autoprobe);
		if (!write_or_warn(path, "0"))
			continue;
		c->pf = f->addr;
		c->vfs = (uint16_t)vfs;
		ncreated++;
		fmt(text, sizeof(text), "%d", vfs);
		pf_path(f->addr, "sriov_numvfs");
		c->vfs *= write_or_warn(path, text);
	}
	return ncreated;
}

/* After apply: the chosen VFs first (apply probed them, but for
 * --unbound), then the others, with autoprobe as it was; what each VF is
 * on is read back from its driver link. */
void sriov_finish(struct host *host, const struct config *conf, bool unbound)
{
	char addr[ADDR_STRLEN], driver[MAX_NAME];
	int c, k, pass;

	for (pass = !unbound; pass < 3; pass++)
		for (c = 0; c < ncreated; c++) {
			pci_addr pf = created[c].pf, vf;
			struct pci_func *f;

			if (pass == 1) {
				pf_path(pf, "sriov_drivers_autoprobe");
				write_or_warn(path, created[c].autoprobe);
			}
			for (k = 0; pass != 1 && k < created[c].vfs; k++) {
				if (!virtfn(pf, k, &vf) || !(f = host_find(host, vf)) ||
				    (f->rule < 0) == !pass ||
				    (!pass && !load_driver(target_driver(conf, f))))
					continue;
				write_bus_attr("drivers_probe", f);
				format_addr(addr, vf);
				current_driver(f, driver, sizeof(driver));
				logmsg(LOG_INFO, "%s: VF %d: %s", addr, k, driver[0] ? driver : "unbound");
			}
		}
}
