# Installed by the top-level Makefile; see README.md.
install-dracut:
	@:
.PHONY: install-dracut
