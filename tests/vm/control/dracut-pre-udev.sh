#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve VM tests, control only: the binder run from a dracut pre-udev
# hook, put into a shell-init image whose 50vfio-reserve module is left out.
# With --force-drivers (rd.driver.pre), kernel-modules' cmdline hook 01 loads
# the native driver before pre-udev: boot.bats shows the card is probed
# natively first, which is why the module runs the binder at cmdline 00.
echo "vfio-test: pre-udev/00-vfio-reserve (the control)" >/dev/kmsg
/usr/sbin/vfio-reserve apply --boot
