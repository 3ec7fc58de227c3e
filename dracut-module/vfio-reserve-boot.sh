#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve: cmdline hook 00 for dracut's shell init (the systemd-based
# initrd runs vfio-reserve.service instead), sourced by dracut: no exit
# here.  It runs before kernel-modules' parse-kernel.sh (cmdline 01) loads
# the rd.driver.pre modules, and so before udevd.  The binder
# reads the kernel command line itself (vfio_reserve=off in every spelling:
# see vfio-reserve(8)), logs to /dev/kmsg and always exits 0; nothing here
# parses the command line.
if [ -x @SBINDIR@/vfio-reserve ]; then
    @SBINDIR@/vfio-reserve apply --boot || :
fi
