# Installed by the top-level Makefile; see README.md.
install-grub:
	@:
.PHONY: install-grub
