# SPDX-License-Identifier: GPL-2.0-or-later
# The scripts behind `vfio-reserve update` and check's findings of how the
# host boots (boot-setup), and what every script the binder runs from
# $(LIBDIR) sources there (common).
install-update:
	install -d $(DESTDIR)$(LIBDIR)
	install -m 0755 update/update update/boot-setup update/trial $(DESTDIR)$(LIBDIR)/
	sed -e 's|@LIBDIR@|$(LIBDIR)|g' update/common > $(DESTDIR)$(LIBDIR)/common
	chmod 0644 $(DESTDIR)$(LIBDIR)/common

.PHONY: install-update
