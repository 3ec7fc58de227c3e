#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve VM test, scenario 10 (vfio_test=uefi): an OVMF boot whose
# firmware framebuffer (efifb) sits in BAR 0 of the boot VGA, 0000:00:01.0.
# Prints what holds the display: the framebuffers and their devices, the
# kernel's framebuffer and console messages, /proc/iomem; the kernel
# arguments `vfio-reserve cmdline` gives for the forced rule (no
# initcall_blacklist=sysfb_init with only Linux >= 6.0 installed); and, when
# vfio-pci has the boot VGA, opens it through VFIO (/test/vfio-bar): BAR 0
# mapped, written and read back, a BAR 2 register read, /proc/iomem while
# it is open.

vga=0000:00:01.0
dev=/sys/bus/pci/devices/$vga

status=0
args=$(/usr/sbin/vfio-reserve -c /test/uefi-force.conf cmdline) || status=$?
printf 'CMDLINE-STATUS %s\n' "$status"
printf 'CMDLINE-ARGS %s\n' "$args"

printf 'BOOT-VGA %s\n' "$(cat "$dev/boot_vga")"
read -r start end _ <"$dev/resource"
printf 'BAR0 %s %s\n' "$start" "$end"
for fb in /sys/class/graphics/fb[0-9]*; do
	[ -e "$fb" ] || continue
	printf 'FB %s name=%s device=%s\n' "${fb##*/}" "$(cat "$fb/name")" \
		"$(basename "$(readlink "$fb/device")")"
done
dmesg | grep -E 'efifb|EFI VGA|fb[0-9]+: |fbcon|Console: |vgaarb' |
	busybox sed 's/^\[ *[0-9.]*\] /FBLOG /'
busybox sed 's/^/IOMEM /' /proc/iomem

driver=none
[ -e "$dev/driver" ] && driver=$(basename "$(readlink "$dev/driver")")
if [ "$driver" = vfio-pci ]; then
	/test/vfio-bar "$vga" || status=1
fi
exit "$status"
