# SPDX-License-Identifier: GPL-2.0-or-later
# Node Feature Discovery's local feature file (reports: nfd), written after
# each boot by a unit and after each driver change by a udev rule.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
UDEVRULESDIR ?= /usr/lib/udev/rules.d

install-kubernetes:
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(UDEVRULESDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' kubernetes/vfio-reserve-nfd.service \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/vfio-reserve-nfd.service
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' kubernetes/vfio-reserve-nfd.rules \
		> $(DESTDIR)$(UDEVRULESDIR)/71-vfio-reserve-nfd.rules
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/vfio-reserve-nfd.service \
		$(DESTDIR)$(UDEVRULESDIR)/71-vfio-reserve-nfd.rules

.PHONY: install-kubernetes
