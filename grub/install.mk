# SPDX-License-Identifier: GPL-2.0-or-later
# `vfio-reserve update`, the kernel command line editor, the driver of the
# boot loaders' own tools, what finds how the host boots (boot-setup) and
# the writer of the modprobe path's file (modprobe-conf), which the binder runs from $(LIBDIR).
GRUB_SCRIPTS := grub/kernel-cmdline grub/update grub/bootloader grub/boot-setup grub/modprobe-conf

install-grub:
	install -d $(DESTDIR)$(LIBDIR)
	install -m 0755 $(GRUB_SCRIPTS) $(DESTDIR)$(LIBDIR)/
	sed -i 's|@SBINDIR@|$(SBINDIR)|g' $(DESTDIR)$(LIBDIR)/modprobe-conf

.PHONY: install-grub
