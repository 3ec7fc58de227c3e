#!/bin/sh
# vfio-reserve: cmdline hook 00 for dracut's shell init (the systemd-based
# initrd runs vfio-reserve.service instead), sourced by dracut: no exit
# here.  It runs before kernel-modules' parse-kernel.sh (cmdline 01) loads
# the rd.driver.pre modules, and so before udevd.  The binder
# reads the kernel command line itself (rd.vfio_reserve=0, vfio_reserve=off,
# vfio_reserve=dry-run), logs to /dev/kmsg and always exits 0.
if [ -x @SBINDIR@/vfio-reserve ]; then
    @SBINDIR@/vfio-reserve apply --boot || :
fi
