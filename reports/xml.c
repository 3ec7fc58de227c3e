/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xml: the libvirt <hostdev> elements for a reserved device. */
#include "reports.h"

/* One <hostdev> for each function reserved together with `text`'s (its
 * device's functions in its group), kept one multifunction device in the
 * guest as passthrough guides do for a GPU and its HDMI audio.  The guest
 * address keeps the host's bus and slot, to be moved to a free root port of
 * the guest where that bus is taken. */
int cmd_xml(struct host *host, const char *text)
{
	struct pci_func *f;
	char name[ADDR_STRLEN];
	int i, j, end, n = 0, guest_fn = 0;
	pci_addr addr;

	if (!parse_addr(text, &addr)) {
		logmsg(LOG_ERR, "xml: malformed PCI address '%s'", text);
		return EXIT_USAGE;
	}
	format_addr(name, addr);
	f = host_find(host, addr);
	if (!f || is_bridge(f)) {
		logmsg(LOG_ERR, f ? "xml: %s is a bridge" : "xml: no PCI function %s", name);
		return EXIT_FAIL;
	}
	device_functions(host, (int)(f - host->funcs), &i, &end);
	for (j = i; j < end; j++)
		n += !is_bridge(&host->funcs[j]) && host->funcs[j].group == f->group;
	for (; i < end; i++) {
		const struct pci_func *g = &host->funcs[i];
		unsigned bus = (g->addr >> 8) & 0xff, slot = (g->addr >> 3) & 0x1f;

		if (is_bridge(g) || g->group != f->group)
			continue;
		out("<hostdev mode='subsystem' type='pci' managed='no'>\n"
		    "  <source>\n"
		    "    <address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n"
		    "  </source>\n"
		    "  <address type='pci' domain='0x0000' bus='0x%02x' slot='0x%02x' "
		    "function='0x%x'%s/>\n"
		    "</hostdev>\n",
		    g->addr >> 16, bus, slot, g->addr & 7, bus, slot, guest_fn,
		    n > 1 && guest_fn == 0 ? " multifunction='on'" : "");
		guest_fn++;
	}
	return EXIT_OK;
}
