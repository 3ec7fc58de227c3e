# SPDX-License-Identifier: GPL-2.0-or-later
# Installed by the top-level Makefile; see README.md.
# The build hook goes where initramfs-tools looks for package hooks; the
# boot-time fragment it copies into the image lives under $(LIBDIR).
install-initramfs-tools:
	install -d $(DESTDIR)/usr/share/initramfs-tools/hooks $(DESTDIR)$(LIBDIR)/initramfs-tools
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' initramfs-tools/hook \
		> $(DESTDIR)/usr/share/initramfs-tools/hooks/vfio-reserve
	chmod 0755 $(DESTDIR)/usr/share/initramfs-tools/hooks/vfio-reserve
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' initramfs-tools/conf.d-vfio-reserve \
		> $(DESTDIR)$(LIBDIR)/initramfs-tools/conf.d-vfio-reserve
	chmod 0644 $(DESTDIR)$(LIBDIR)/initramfs-tools/conf.d-vfio-reserve
	install -m 0755 initramfs-tools/init-top-vfio-reserve-report $(DESTDIR)$(LIBDIR)/initramfs-tools/
.PHONY: install-initramfs-tools
