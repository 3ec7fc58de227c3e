#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve VM test, scenario 13 (vfio_test=reset): what the kernel says
# of the reset methods after the boot's binder set reset=bus on the NVMe
# drive (03:00.0) and left card 1 alone: one "RESET ADDR METHODS" line per
# function of card 1 and the drive ("-" for no reset_method), then what
# `vfio-reserve check` says of them with the image's config, each line after
# "RESET-CHECK ".

for addr in 0000:01:00.0 0000:01:00.1 0000:03:00.0; do
	methods=$(cat "/sys/bus/pci/devices/$addr/reset_method" 2>/dev/null) || methods=-
	printf 'RESET %s %s\n' "$addr" "$methods"
done
# The root file system is read-only; /run is the init's tmpfs.
status=0
/usr/sbin/vfio-reserve -c /test/reset.conf check >/run/reset-check 2>&1 || status=$?
grep -a 'reset_method' /run/reset-check | sed 's/^/RESET-CHECK /'
printf 'RESET-CHECK-STATUS %s\n' "$status"
