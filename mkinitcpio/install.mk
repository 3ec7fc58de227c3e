# SPDX-License-Identifier: GPL-2.0-or-later
# Installed by the top-level Makefile; see README.md.
# The install and runtime hooks go where mkinitcpio(8) looks for them; what
# they share and the unit of the sd- variant live under $(LIBDIR), out of
# the host's own systemd unit path.
INITCPIO_DIR := /usr/lib/initcpio

install-mkinitcpio:
	install -d $(DESTDIR)$(INITCPIO_DIR)/install $(DESTDIR)$(INITCPIO_DIR)/hooks \
		$(DESTDIR)$(LIBDIR)/mkinitcpio
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' mkinitcpio/install \
		> $(DESTDIR)$(INITCPIO_DIR)/install/vfio-reserve
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' mkinitcpio/install-sd \
		> $(DESTDIR)$(INITCPIO_DIR)/install/sd-vfio-reserve
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' mkinitcpio/hook \
		> $(DESTDIR)$(INITCPIO_DIR)/hooks/vfio-reserve
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' mkinitcpio/common \
		> $(DESTDIR)$(LIBDIR)/mkinitcpio/common
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' mkinitcpio/vfio-reserve.service \
		> $(DESTDIR)$(LIBDIR)/mkinitcpio/vfio-reserve.service
	chmod 0644 $(DESTDIR)$(INITCPIO_DIR)/install/vfio-reserve \
		$(DESTDIR)$(INITCPIO_DIR)/install/sd-vfio-reserve \
		$(DESTDIR)$(INITCPIO_DIR)/hooks/vfio-reserve \
		$(DESTDIR)$(LIBDIR)/mkinitcpio/common \
		$(DESTDIR)$(LIBDIR)/mkinitcpio/vfio-reserve.service
.PHONY: install-mkinitcpio
