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
 * (udev/vfio-reserve-sriov.rules).
 */
#include <string.h>

#include "vfio-reserve.h"

#define MAX_PFS 64   /* PFs given VFs in one run */

static struct created {
	pci_addr pf;
	uint16_t vfs;
	char autoprobe[8];          /* sriov_drivers_autoprobe before we wrote 0 */
} created[MAX_PFS];
static int ncreated;

static void pf_path(char *buf, pci_addr pf, const char *attr)
{
	char addr[ADDR_STRLEN];

	format_addr(addr, pf);
	root_path(buf, MAX_PATHLEN, "/sys/bus/pci/devices/%s/%s", addr, attr);
}

/* The address of VF k of the PF, from its virtfnK link. */
bool virtfn(const struct pci_func *pf, int k, pci_addr *vf)
{
	char path[MAX_PATHLEN], attr[16], name[MAX_NAME];

	fmt(attr, sizeof(attr), "virtfn%d", k);
	pf_path(path, pf->addr, attr);
	return read_link_name(path, name, sizeof(name)) == 0 && parse_addr(name, vf);
}

static int pf_read(char *path, pci_addr pf, const char *attr, char *text)
{
	uint32_t n = 0;

	pf_path(path, pf, attr);
	if (read_attr(path, text, 8) == 0)
		parse_number(text, 10, &n);
	return (int)n;
}

/* Returns how many PFs got VFs (the caller scans and selects again), or
 * -1 for a person's command that must write nothing.  A
 * vfs= beyond the PF's sriov_totalvfs stops a person's command before
 * anything is written; a boot warns and creates the others.  A PF that has
 * another number of VFs keeps them: changing it takes every VF away. */
int sriov_create(const struct host *host, const struct config *conf,
                 struct apply_opts opts)
{
	char path[MAX_PATHLEN], text[8], addr[ADDR_STRLEN], origin[MAX_PATHLEN + 16];
	int i, bad = 0, pass, total, now;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < host->nfuncs; i++) {
			const struct pci_func *f = &host->funcs[i];
			const struct rule *rule = &conf->rules[f->vfs_rule - 1];
			struct created *c = &created[ncreated];

			if (!f->vfs_rule)
				continue;
			format_addr(addr, f->addr);
			total = pf_read(path, f->addr, "sriov_totalvfs", text);
			now = pf_read(path, f->addr, "sriov_numvfs", text);
			if (total < rule->vfs) {
				rule_origin(origin, sizeof(origin), conf, rule);
				if (!pass)
					logmsg(opts.boot ? LOG_WARN : LOG_ERR, "%s: %s has %d VFs "
					       "at most, not vfs=%d", origin, addr, total, rule->vfs);
				bad += !pass;
			} else if (pass && now != rule->vfs) {
				/* Without a driver, when it binds (udev). */
				if (now || !f->driver[0] || opts.dry_run || ncreated == MAX_PFS) {
					logmsg(LOG_INFO, "%s: %d VFs for now, vfs=%d", addr, now,
					       rule->vfs);
					continue;
				}
				pf_read(path, f->addr, "sriov_drivers_autoprobe", c->autoprobe);
				if (!write_or_warn(path, "0"))
					continue;
				c->pf = f->addr;
				c->vfs = rule->vfs;
				ncreated++;
				fmt(text, sizeof(text), "%d", rule->vfs);
				pf_path(path, f->addr, "sriov_numvfs");
				c->vfs *= write_or_warn(path, text);
			}
		}
	if (bad && !opts.boot) {
		logmsg(LOG_ERR, "nothing was changed");
		return -1;
	}
	return ncreated;
}

/* After apply: the chosen VFs first (apply probed them, but for
 * --unbound), then the others, with autoprobe as it was; what each VF is
 * on is read back from its driver link. */
void sriov_finish(struct host *host, const struct config *conf, bool unbound)
{
	char path[MAX_PATHLEN], text[8], addr[ADDR_STRLEN], driver[MAX_NAME];
	int c, k, pass;

	for (pass = !unbound; pass < 3; pass++)
		for (c = 0; c < ncreated; c++) {
			struct pci_func pf = { .addr = created[c].pf }, *f;
			pci_addr vf;

			if (pass == 1) {
				pf_read(path, pf.addr, "sriov_drivers_autoprobe", text);
				write_or_warn(path, created[c].autoprobe);
			}
			for (k = 0; pass != 1 && k < created[c].vfs; k++) {
				if (!virtfn(&pf, k, &vf) || !(f = host_find(host, vf)) ||
				    (f->rule < 0) == !pass ||
				    (!pass && !load_driver(target_driver(conf, f))))
					continue;
				write_bus_attr("drivers_probe", f);
				format_addr(addr, vf);
				pf_path(path, vf, "driver");
				driver[0] = '\0';
				read_link_name(path, driver, sizeof(driver));
				logmsg(LOG_INFO, "%s: VF %d, %s%s", addr, k,
				       driver[0] ? "on " : "unbound", driver);
			}
		}
}
