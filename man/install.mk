# SPDX-License-Identifier: GPL-2.0-or-later
# The manual pages, uncompressed: packaging compresses them.
install-man:
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	install -m 0644 man/vfio-reserve.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/vfio-reserve.conf.5 $(DESTDIR)$(MANDIR)/man5/

.PHONY: install-man
