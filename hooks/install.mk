# Installed by the top-level Makefile; see README.md.
install-hooks:
	@:
.PHONY: install-hooks
