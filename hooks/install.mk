# SPDX-License-Identifier: GPL-2.0-or-later
# Installed by the top-level Makefile; see README.md.
# What the three image generators share (hooks/image-content), sourced by
# the initramfs-tools hook, the dracut module and the mkinitcpio install
# hooks from $(LIBDIR)/hooks.
install-hooks:
	install -d $(DESTDIR)$(LIBDIR)/hooks
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' hooks/image-content \
		> $(DESTDIR)$(LIBDIR)/hooks/image-content
	chmod 0644 $(DESTDIR)$(LIBDIR)/hooks/image-content
.PHONY: install-hooks
