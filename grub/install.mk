# SPDX-License-Identifier: GPL-2.0-or-later
# `vfio-reserve update`, the kernel command line editor, the driver of the
# boot loaders' own tools and what finds how the host boots (boot-setup),
# which the binder runs from $(LIBDIR).
GRUB_SCRIPTS := grub/kernel-cmdline grub/update grub/bootloader grub/boot-setup

install-grub:
	install -d $(DESTDIR)$(LIBDIR)
	install -m 0755 $(GRUB_SCRIPTS) $(DESTDIR)$(LIBDIR)/

.PHONY: install-grub
