/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The selection engine: which function goes to which driver, and why a rule
 * took nothing.  It only reads the host and writes `rule` into functions. */
#include <string.h>

#include "vfio-reserve.h"

static bool path_matches(const struct rule *rule, const struct pci_func *f)
{
	int i;

	if (f->depth != rule->path_len || f->chain[0] != rule->path[0])
		return false;
	for (i = 1; i < f->depth; i++)
		if ((f->chain[i] & 0xff) != rule->path[i])
			return false;
	return true;
}

static bool located(const struct host *host, const struct rule *rule,
                    const struct pci_func *f)
{
	if ((rule->selectors & SEL_ADDR) && f->addr != rule->addr)
		return false;
	if ((rule->selectors & SEL_PATH) && !path_matches(rule, f))
		return false;
	if ((rule->selectors & SEL_SLOT) &&
	    (f->slot < 0 || strcmp(host->slots[f->slot].name, rule->slot) != 0))
		return false;
	return true;
}

static bool protected_vga(const struct rule *rule, const struct pci_func *f)
{
	return f->boot_device && !rule->force;
}

static void leave(struct pci_func *f, int index, enum left_reason why)
{
	if (f->rule < 0 && f->left_by < 0) {
		f->left_by = index;
		f->left_why = why;
	}
}

/* The guard: where the running host's uses are known (find_host_uses), a
 * function it needs stays with it unless the rule says 'force'.  The boot
 * has nothing mounted yet and does not look. */
static void take(struct host *host, const struct config *conf,
                 struct pci_func *f, int index, struct rule_result *result,
                 struct selection *sel)
{
	if (host->guarded && f->host_use && !conf->rules[index].force) {
		int k, i = (int)(f - host->funcs);

		for (k = 0; k < result->refused && k < 8; k++)
			if (result->refused_funcs[k] == i)
				return;     /* seen from another function of the rule */
		if (result->refused < 8)
			result->refused_funcs[result->refused] = i;
		result->refused++;
		sel->refused++;
		leave(f, index, LEFT_HOST_USE);
		return;
	}
	if (f->rule < 0) {
		f->rule = index;
		f->left_by = -1;
		result->nselected++;
		sel->nselected++;
	} else if (f->rule != index &&
	           strcmp(conf->rules[f->rule].driver, conf->rules[index].driver) != 0) {
		if (result->conflicts++ == 0) {
			result->conflict_addr = f->addr;
			result->conflict_rule = f->rule;
		}
	}
}

/* vfio-pci and its variant drivers (mlx5_vfio_pci, ...) work only on a
 * function in an IOMMU group; pci-stub and other drivers do not care. */
bool needs_group(const char *driver)
{
	return contains(driver, "vfio");
}

/* A located device with the wrong ID, a bridge or the protected boot VGA
 * explains an empty rule.  The protected boot VGA is the most telling reason,
 * then the first mismatch or bridge found. */
static int state_rank(enum rule_state state)
{
	switch (state) {
	case RULE_MATCHED:
		return 4;
	case RULE_BOOT_VGA:
		return 3;
	case RULE_NO_GROUP:
		return 2;
	case RULE_MISMATCH:
	case RULE_BRIDGE:
	case RULE_VFS:
		return 1;
	case RULE_NO_DEVICE:
		break;
	}
	return 0;
}

static void note(struct rule_result *result, enum rule_state state,
                 const struct pci_func *f)
{
	if (state_rank(state) <= state_rank(result->state))
		return;
	result->state = state;
	result->found_addr = f->addr;
	result->found_vendor = f->vendor;
	result->found_device = f->device;
}

/* What a graphics card carries beside its display function: audio and
 * other multimedia functions, and its own USB and USB-C (UCSI, class 0c80)
 * controllers, which come from the card's vendor.  An APU's USB
 * controllers share the device with its graphics but come from the CPU's
 * vendor (1022 beside 1002): they are not the card's. */
static bool card_function(const struct host *host, int first, int end,
                          const struct pci_func *f)
{
	uint32_t base = f->class >> 16, sub = f->class >> 8;
	int j;

	for (j = first; j < end; j++) {
		const struct pci_func *display = &host->funcs[j];

		if (!is_display(display))
			continue;
		if (base == 0x03 || base == 0x04)
			return true;
		if ((sub == 0x0c03 || sub == 0x0c80) && f->vendor == display->vendor)
			return true;
	}
	return false;
}

/* A sibling goes along with the matched function `f` where both are part
 * of one card, or where they come from one vendor and do the same kind of
 * work (the ports of a NIC): an Intel PCH's SMBus, LPC and SATA functions
 * share a device and a group without being one thing. */
static bool same_card(const struct host *host, int first, int end,
                      const struct pci_func *f, const struct pci_func *sibling)
{
	if (sibling->vendor == f->vendor && sibling->class >> 16 == f->class >> 16)
		return true;
	return card_function(host, first, end, f) &&
	       card_function(host, first, end, sibling);
}

static void select_rule(struct host *host, const struct config *conf, int index,
                        struct selection *sel)
{
	const struct rule *rule = &conf->rules[index];
	struct rule_result *result = &sel->results[index];
	bool has_locator = rule->selectors & SEL_LOCATORS;
	int i, j, first, end;

	memset(result, 0, sizeof(*result));
	result->state = RULE_NO_DEVICE;
	for (i = 0; i < host->nfuncs; i++) {
		struct pci_func *f = &host->funcs[i];

		if (!located(host, rule, f))
			continue;
		if ((rule->selectors & SEL_ID) &&
		    (f->vendor != rule->vendor || f->device != rule->device)) {
			if (has_locator)
				note(result, RULE_MISMATCH, f);
			continue;
		}
		if (is_bridge(f)) {
			note(result, RULE_BRIDGE, f);
			continue;
		}
		/* vfs=: the PF is the VFs' to come, not the rule's to take;
		 * vf=K: the rule takes VF K of the PF, once it exists. */
		if (rule->vfs) {
			int total = pf_number(f->addr, "sriov_totalvfs");

			if (total < rule->vfs) {
				note(result, RULE_VFS, f);
				result->found_vfs = total;
				continue;
			}
			f->vfs_rule = (int16_t)(index + 1);
			result->state = RULE_MATCHED;
		}
		if (rule->vf) {
			pci_addr vf;

			if (!virtfn(f->addr, rule->vf - 1, &vf) || !(f = host_find(host, vf)))
				continue;
		} else if (rule->vfs)
			continue;
		if (protected_vga(rule, f)) {
			note(result, RULE_BOOT_VGA, f);
			continue;
		}
		if (host->has_groups && f->group < 0 && needs_group(rule->driver)) {
			note(result, RULE_NO_GROUP, f);
			leave(f, index, LEFT_NO_GROUP);
			continue;
		}
		result->state = RULE_MATCHED;
		take(host, conf, f, index, result, sel);
		f->matched |= f->rule == index;
		if (rule->single || rule->vf)
			continue;
		/* The device's other functions go along only where they share the
		 * group: vfio hands out whole groups, and a sibling in a group of
		 * its own (a NIC port, an APU's audio beside its USB controllers)
		 * is the host's.  Before the IOMMU is on there are no groups to go
		 * by; the boot narrows the set once they exist.  And only where
		 * they are part of the same card: a chipset's SATA, SMBus and LPC
		 * functions share a device and a group without being one thing. */
		device_functions(host, i, &first, &end);
		for (j = first; j < end; j++) {
			struct pci_func *sibling = &host->funcs[j];

			if (j == i || is_bridge(sibling) || protected_vga(rule, sibling))
				continue;
			if (host->has_groups && sibling->group != f->group)
				leave(sibling, index, LEFT_OTHER_GROUP);
			else if (!rule->siblings && !same_card(host, first, end, f, sibling))
				leave(sibling, index, LEFT_NOT_CARD);
			else {
				take(host, conf, sibling, index, result, sel);
				result->ungrouped_siblings |= !host->has_groups;
			}
		}
	}
}

void select_functions(struct host *host, const struct config *conf,
                      struct selection *sel)
{
	int i;

	sel->nselected = sel->refused = 0;
	for (i = 0; i < host->nfuncs; i++) {
		host->funcs[i].rule = host->funcs[i].left_by = -1;
		host->funcs[i].matched = false;
		host->funcs[i].vfs_rule = 0;
	}
	/* Earlier lines win: a function goes to the first rule that takes it. */
	for (i = 0; i < conf->nrules; i++)
		select_rule(host, conf, i, sel);
}

/* "FILE:LINE" for a config rule, "command line" for a bind argument. */
void rule_origin(char *buf, size_t size, const struct config *conf,
                 const struct rule *rule)
{
	if (rule->line > 0)
		fmt(buf, size, "%s:%d", conf->file, rule->line);
	else
		fmt(buf, size, "%s", conf->file);
}

/* How apply's log names a rule: "rule line 3" or "command line". */
const char *rule_label(char *buf, size_t size, const struct rule *rule)
{
	if (rule->line > 0)
		fmt(buf, size, "rule line %d", rule->line);
	else
		fmt(buf, size, "command line");
	return buf;
}

/* Why a rule reserves nothing: one wording for the boot log, check and
 * status.  Empty for a rule that matched. */
void rule_problem(char *buf, size_t size, const struct config *conf,
                  const struct selection *sel, int index)
{
	const struct rule *rule = &conf->rules[index];
	const struct rule_result *r = &sel->results[index];
	char addr[ADDR_STRLEN];

	format_addr(addr, r->found_addr);
	buf[0] = '\0';
	switch (r->state) {
	case RULE_MATCHED:
		break;
	case RULE_NO_DEVICE:
		fmt(buf, size, "no device matches '%s'", rule->text);
		break;
	case RULE_MISMATCH:
		fmt(buf, size, "%s is %04x:%04x, not %04x:%04x: nothing reserved "
		    "(did the buses move?)", addr, r->found_vendor, r->found_device,
		    rule->vendor, rule->device);
		break;
	case RULE_BOOT_VGA:
		fmt(buf, size, "%s is the boot VGA device: not reserved "
		    "(add 'force' to take it)", addr);
		break;
	case RULE_BRIDGE:
		fmt(buf, size, "%s is a bridge: not reserved", addr);
		break;
	case RULE_NO_GROUP:
		no_group_text(buf, size, addr, rule->driver);
		break;
	case RULE_VFS:
		fmt(buf, size, "%s has %d VFs at most, not vfs=%d", addr, r->found_vfs,
		    rule->vfs);
		break;
	}
}

void no_group_text(char *buf, size_t size, const char *addr, const char *driver)
{
	fmt(buf, size, "%s is in no IOMMU group: not reserved (%s cannot use it)",
	    addr, driver);
}

void warn_rule_results(const struct config *conf, const struct selection *sel)
{
	int i;

	for (i = 0; i < conf->nrules; i++) {
		const struct rule *rule = &conf->rules[i];
		const struct rule_result *r = &sel->results[i];
		char addr[ADDR_STRLEN], origin[MAX_PATHLEN + 16], text[MAX_LINE + 128];

		rule_origin(origin, sizeof(origin), conf, rule);
		rule_problem(text, sizeof(text), conf, sel, i);
		if (text[0])
			logmsg(LOG_WARN, "%s: %s", origin, text);
		if (r->conflicts) {
			format_addr(addr, r->conflict_addr);
			logmsg(LOG_WARN, "%s: %s is already taken by line %d for %s",
			       origin, addr, conf->rules[r->conflict_rule].line,
			       conf->rules[r->conflict_rule].driver);
		}
	}
}

/* A driver that leaves the group's DMA to its owner.  Since Linux 5.19 vfio
 * claims a group's DMA ownership (iommu_group_claim_dma_owner() in
 * drivers/iommu/iommu.c), which fails while any function of the group is
 * bound to a driver that uses the kernel's DMA API: pci_dma_configure() in
 * drivers/pci/pci-driver.c takes ownership for every driver without
 * driver_managed_dma.  The PCI drivers that set it are vfio-pci and its
 * variants, pci-stub and pcieport.  An unbound function is fine; a bridge
 * is no exception by itself: an ISA/LPC bridge on lpc_ich blocks the group,
 * a root port on pcieport does not. */
static bool leaves_dma_to_vfio(const char *driver)
{
	return !driver[0] || needs_group(driver) || strcmp(driver, "pci-stub") == 0 ||
	       strcmp(driver, "pcieport") == 0;
}

/* The first function of `group`, from index `from` on along the group's
 * list, that keeps vfio from taking the group, or -1.  `planned`: a
 * selected function counts as bound to its target driver already. */
int group_blocker(const struct host *host, const struct config *conf, int group,
                  int from, bool planned)
{
	int j;

	for (j = from; j >= 0; j = host->funcs[j].next_in_group) {
		const struct pci_func *f = &host->funcs[j];
		const char *driver = planned && f->rule >= 0 ? target_driver(conf, f) : f->driver;

		if (f->group == group && !leaves_dma_to_vfio(driver))
			return j;
	}
	return -1;
}

const char *target_driver(const struct config *conf, const struct pci_func *f)
{
	return f->rule >= 0 ? conf->rules[f->rule].driver : NULL;
}

bool is_reservation_driver(const struct config *conf, const char *driver)
{
	int i;

	if (strcmp(driver, "vfio-pci") == 0 || strcmp(driver, "pci-stub") == 0)
		return true;
	for (i = 0; i < conf->nrules; i++)
		if (strcmp(conf->rules[i].driver, driver) == 0)
			return true;
	return false;
}
