# Installed by the top-level Makefile; see README.md.
install-initramfs-tools:
	@:
.PHONY: install-initramfs-tools
