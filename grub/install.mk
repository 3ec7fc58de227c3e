# SPDX-License-Identifier: GPL-2.0-or-later
# GRUB's: the editor of the kernel command line where GRUB's configuration
# (/etc/default/grub, grub.d) and /etc/kernel/cmdline keep it, which
# `vfio-reserve update` and the boot-loader tools' driver run from $(LIBDIR).
install-grub:
	install -d $(DESTDIR)$(LIBDIR)
	install -m 0755 grub/kernel-cmdline $(DESTDIR)$(LIBDIR)/

.PHONY: install-grub
