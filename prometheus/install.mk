# SPDX-License-Identifier: GPL-2.0-or-later
# The unit that writes the metrics (reports: metrics) after each boot,
# for node_exporter's textfile collector.  Packages enable it.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system

install-prometheus:
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' prometheus/vfio-reserve-metrics.service \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/vfio-reserve-metrics.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/vfio-reserve-metrics.service

.PHONY: install-prometheus
