# SPDX-License-Identifier: GPL-2.0-or-later
# The driver of the boot loaders' own tools (grubby, kernelstub,
# proxmox-boot-tool, kernel-install, rpm-ostree), and the trial boot's GRUB
# backend (trial-grub), which `vfio-reserve update` runs from $(LIBDIR).
install-bootloader-tools:
	install -d $(DESTDIR)$(LIBDIR)
	install -m 0755 bootloader-tools/bootloader bootloader-tools/trial-grub $(DESTDIR)$(LIBDIR)/

.PHONY: install-bootloader-tools
