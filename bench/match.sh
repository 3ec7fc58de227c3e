#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The comparison for the scaling benchmark: the same address+ID matching as
# `vfio-reserve apply --dry-run`, written plainly the way the common recipes
# (wiki pages, forum posts, vfio-pci-override.sh) write it: walk
# /sys/bus/pci/devices, read vendor and device with cat, compare each rule.
#
#   bench/match.sh CONFIG SYSFS      e.g. bench/match.sh /etc/vfio-reserve.conf /sys
#
# A rule is the binder's syntax restricted to what such scripts handle: an
# address, an ID, or both, and driver=NAME.  Like a dry run it prints what it
# would write instead of writing it.  It does not do what the binder adds
# (sibling functions, boot VGA and bridge protection, IOMMU groups).
conf=${1:-/etc/vfio-reserve.conf}
sys=${2:-/sys}
for dev in "$sys"/bus/pci/devices/*; do
	addr=${dev##*/}
	vendor=$(cat "$dev/vendor")
	device=$(cat "$dev/device")
	id="${vendor#0x}:${device#0x}"
	while read -r line; do
		line=${line%%#*}
		[ -n "$line" ] || continue
		match=1
		driver=vfio-pci
		for tok in $line; do
			case $tok in
			driver=*) driver=${tok#driver=} ;;
			*.*) [ "$tok" = "$addr" ] || [ "0000:$tok" = "$addr" ] || match=0 ;;
			*:*) [ "$tok" = "$id" ] || match=0 ;;
			esac
		done
		if [ "$match" = 1 ]; then
			echo "dry-run: $addr -> $driver (would write $dev/driver_override)"
			break
		fi
	done <"$conf"
done
