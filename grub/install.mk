# SPDX-License-Identifier: GPL-2.0-or-later
# GRUB's: the editor of the kernel command line where GRUB's configuration
# (/etc/default/grub, grub.d) and /etc/kernel/cmdline keep it, which
# `vfio-reserve update` and the boot-loader tools' driver run from $(LIBDIR);
# and the trial boot's two files that grub-mkconfig reads, the block of
# /etc/grub.d/09_vfio-reserve and the drop-in that puts its kernel argument
# on every entry (see bootloader-tools/trial-grub).
install-grub:
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)/etc/grub.d $(DESTDIR)/etc/default/grub.d
	install -m 0755 grub/kernel-cmdline $(DESTDIR)$(LIBDIR)/
	sed -e 's|@LIBDIR@|$(LIBDIR)|g' grub/09_vfio-reserve > $(DESTDIR)/etc/grub.d/09_vfio-reserve
	chmod 0755 $(DESTDIR)/etc/grub.d/09_vfio-reserve
	sed -e 's|@LIBDIR@|$(LIBDIR)|g' grub/vfio-reserve-trial.cfg \
		> $(DESTDIR)/etc/default/grub.d/vfio-reserve-trial.cfg
	chmod 0644 $(DESTDIR)/etc/default/grub.d/vfio-reserve-trial.cfg

.PHONY: install-grub
