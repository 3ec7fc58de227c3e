# SPDX-License-Identifier: GPL-2.0-or-later
# Installed by the top-level Makefile; see README.md.
DRACUT_MODDIR := /usr/lib/dracut/modules.d/50vfio-reserve

install-dracut:
	install -d $(DESTDIR)$(DRACUT_MODDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' dracut-module/module-setup.sh \
		> $(DESTDIR)$(DRACUT_MODDIR)/module-setup.sh
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' dracut-module/vfio-reserve-boot.sh \
		> $(DESTDIR)$(DRACUT_MODDIR)/vfio-reserve-boot.sh
	chmod 0755 $(DESTDIR)$(DRACUT_MODDIR)/module-setup.sh \
		$(DESTDIR)$(DRACUT_MODDIR)/vfio-reserve-boot.sh
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' dracut-module/vfio-reserve.service \
		> $(DESTDIR)$(DRACUT_MODDIR)/vfio-reserve.service
	chmod 0644 $(DESTDIR)$(DRACUT_MODDIR)/vfio-reserve.service
.PHONY: install-dracut
