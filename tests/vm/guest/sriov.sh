#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve VM test, scenario 14 (vfio_test=sriov): what the kernel says of
# the SR-IOV NVMe controller (03:00.0) after the boot: "SRIOV numvfs N",
# "SRIOV autoprobe A" (its sriov_drivers_autoprobe) and one "SRIOV-VF ADDR
# physfn=PF driver=D" line per VF.

pf=/sys/bus/pci/devices/0000:03:00.0
printf 'SRIOV numvfs %s\n' "$(cat "$pf/sriov_numvfs")"
printf 'SRIOV autoprobe %s\n' "$(cat "$pf/sriov_drivers_autoprobe")"
for link in "$pf"/virtfn*; do
	[ -e "$link" ] || continue
	vf=$(readlink "$link")
	vf=${vf##*/}
	driver=-
	[ ! -e "/sys/bus/pci/devices/$vf/driver" ] ||
		driver=$(basename "$(readlink "/sys/bus/pci/devices/$vf/driver")")
	physfn=$(readlink "/sys/bus/pci/devices/$vf/physfn")
	printf 'SRIOV-VF %s physfn=%s driver=%s\n' "$vf" "${physfn##*/}" "$driver"
done
