# SPDX-License-Identifier: GPL-2.0-or-later
# The kernel command line editor and `vfio-reserve update`, which the binder
# runs from $(LIBDIR).
GRUB_SCRIPTS := grub/kernel-cmdline grub/update grub/modprobe-conf

install-grub:
	install -d $(DESTDIR)$(LIBDIR)
	install -m 0755 $(GRUB_SCRIPTS) $(DESTDIR)$(LIBDIR)/

.PHONY: install-grub
