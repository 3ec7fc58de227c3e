# SPDX-License-Identifier: GPL-2.0-or-later
# Installed by the top-level Makefile; see README.md.
# The build hook goes where initramfs-tools looks for package hooks; the
# boot-time fragment it copies into the image lives under $(LIBDIR).  The
# init-top script goes where mkinitramfs takes every package's boot scripts
# from (and orders them by their PREREQ), into every image: without the
# binder's report it does nothing.
install-initramfs-tools:
	install -d $(DESTDIR)/usr/share/initramfs-tools/hooks $(DESTDIR)$(LIBDIR)/initramfs-tools
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' initramfs-tools/hook \
		> $(DESTDIR)/usr/share/initramfs-tools/hooks/vfio-reserve
	chmod 0755 $(DESTDIR)/usr/share/initramfs-tools/hooks/vfio-reserve
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' initramfs-tools/conf.d-vfio-reserve \
		> $(DESTDIR)$(LIBDIR)/initramfs-tools/conf.d-vfio-reserve
	chmod 0644 $(DESTDIR)$(LIBDIR)/initramfs-tools/conf.d-vfio-reserve
	install -D -m 0755 initramfs-tools/init-top-vfio-reserve-report \
		$(DESTDIR)/usr/share/initramfs-tools/scripts/init-top/vfio-reserve-report
.PHONY: install-initramfs-tools
