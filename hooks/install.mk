# SPDX-License-Identifier: GPL-2.0-or-later
# Installed by the top-level Makefile; see README.md.
# What the image generators share: what an image gets (image-content,
# sourced by the initramfs-tools hook, the dracut module and the mkinitcpio
# install hooks from $(LIBDIR)/hooks), and the modprobe path's file
# (modprobe-conf, which `vfio-reserve update` runs from $(LIBDIR) and whose
# install line names the binder at $(SBINDIR)).
install-hooks:
	install -d $(DESTDIR)$(LIBDIR)/hooks
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' hooks/image-content \
		> $(DESTDIR)$(LIBDIR)/hooks/image-content
	chmod 0644 $(DESTDIR)$(LIBDIR)/hooks/image-content
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' hooks/modprobe-conf > $(DESTDIR)$(LIBDIR)/modprobe-conf
	chmod 0755 $(DESTDIR)$(LIBDIR)/modprobe-conf
.PHONY: install-hooks
