# SPDX-License-Identifier: GPL-2.0-or-later
# The metrics (reports: metrics) for node_exporter's textfile collector,
# written after each boot by a unit and after each driver change by a udev
# rule.  Packages enable the unit.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
UDEVRULESDIR ?= /usr/lib/udev/rules.d

install-prometheus:
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(UDEVRULESDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' prometheus/vfio-reserve-metrics.service \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/vfio-reserve-metrics.service
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' prometheus/vfio-reserve-metrics.rules \
		> $(DESTDIR)$(UDEVRULESDIR)/71-vfio-reserve-metrics.rules
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/vfio-reserve-metrics.service \
		$(DESTDIR)$(UDEVRULESDIR)/71-vfio-reserve-metrics.rules

.PHONY: install-prometheus
