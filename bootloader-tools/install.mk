# SPDX-License-Identifier: GPL-2.0-or-later
# The driver of the boot loaders' own tools (grubby, kernelstub,
# proxmox-boot-tool, kernel-install, rpm-ostree), the trial boot's GRUB
# backend (trial-grub), and the trial boot on systemd-boot
# (trial-systemd-boot, with the drop-in that keeps systemd-bless-boot
# from blessing a trial entry by itself and the
# kernel-install plugin that puts entries made during a trial on it),
# which `vfio-reserve update` runs from $(LIBDIR).
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
KERNELINSTALLDIR ?= $(PREFIX)/lib/kernel/install.d

install-bootloader-tools:
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(SYSTEMDUNITDIR)/systemd-bless-boot.service.d
	install -m 0755 bootloader-tools/bootloader bootloader-tools/trial-grub \
		bootloader-tools/trial-systemd-boot $(DESTDIR)$(LIBDIR)/
	sed -e 's|@LIBDIR@|$(LIBDIR)|g' bootloader-tools/systemd-bless-boot-vfio-reserve-trial.conf \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/systemd-bless-boot.service.d/vfio-reserve-trial.conf
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/systemd-bless-boot.service.d/vfio-reserve-trial.conf
	install -d $(DESTDIR)$(KERNELINSTALLDIR)
	sed -e 's|@LIBDIR@|$(LIBDIR)|g' bootloader-tools/91-vfio-reserve-trial.install \
		> $(DESTDIR)$(KERNELINSTALLDIR)/91-vfio-reserve-trial.install
	chmod 0755 $(DESTDIR)$(KERNELINSTALLDIR)/91-vfio-reserve-trial.install

.PHONY: install-bootloader-tools
