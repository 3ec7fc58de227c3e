# SPDX-License-Identifier: GPL-2.0-or-later
# Installed by the top-level Makefile: the udev rule that runs the binder
# when a driver binds an SR-IOV PF (vfs= rules), where udev reads the
# packages' rules; the initramfs-tools hook copies it into the image.
UDEVRULESDIR ?= /usr/lib/udev/rules.d

install-udev:
	install -d $(DESTDIR)$(UDEVRULESDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' udev/vfio-reserve-sriov.rules \
		> $(DESTDIR)$(UDEVRULESDIR)/70-vfio-reserve-sriov.rules
	chmod 0644 $(DESTDIR)$(UDEVRULESDIR)/70-vfio-reserve-sriov.rules
.PHONY: install-udev
