# SPDX-License-Identifier: GPL-2.0-or-later
# The host's reports, which the binder runs from $(LIBDIR) for the commands
# it hands over (binder/main.c).
install-reports: reports/reports
	install -D -m 0755 reports/reports $(DESTDIR)$(LIBDIR)/reports

.PHONY: install-reports
