# SPDX-License-Identifier: GPL-2.0-or-later
# Installed by the top-level Makefile; see README.md.
#
# hooks/ would hold a safety net shared by both generators (a udev rule
# PROGRAM, a modprobe softdep/install line for the GPU drivers) for the case
# where a native driver can load before the binder runs.  There is none: the
# binder runs before anything in the initramfs can load a driver (a conf.d
# file under initramfs-tools, a unit ordered before systemd-modules-load and
# udevd, or cmdline hook 00, under dracut), and the driver_override it writes
# stays in sysfs, so a driver loaded later from the root file system does not
# take the device either.  tests/vm/boot.bats proves each of these on a real
# kernel.  A driver built into the kernel probes before any initramfs code
# runs; no hook of this kind could stop it.
install-hooks:
	@:
.PHONY: install-hooks
