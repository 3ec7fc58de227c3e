#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve VM tests, guest step vfio_test=client: a real VFIO client.
# Debian's qemu-system-x86_64 (copied into the root file system by
# vm_copy_qemu) runs in the guest, TCG, paused (-S), with no devices of its
# own, and takes a card through vfio-pci:
#   reserved: card 1's display function, which the boot reserved.  While
#     qemu waits on its monitor (a FIFO), the files it holds open under
#     /dev/vfio and vfio's anonymous inodes are printed as "CLIENT reserved
#     fd: TARGET"; then the monitor gets `info pci` and `quit`.
#   twin: card 2's display function, left to the host (bochs-drm): qemu
#     must refuse it; its monitor is fed by a here-document.
# Each run prints "CLIENT WHICH out: LINE", "CLIENT WHICH err: LINE" and
# "CLIENT WHICH status=N".

PATH=/usr/sbin:/usr/bin:$PATH
export PATH
mount -t tmpfs tmpfs /tmp || exit 1

show() {
	busybox awk -v p="CLIENT $1 out: " '{ print p $0 }' /tmp/out
	busybox awk -v p="CLIENT $1 err: " '{ print p $0 }' /tmp/err
	printf 'CLIENT %s status=%s\n' "$1" "$2"
}

# The reserved card.  qemu prints its monitor's banner before it creates
# the devices: wait until it holds vfio's device file (or has exited).
busybox mkfifo /tmp/monitor
qemu-system-x86_64 -accel tcg -S -nodefaults -display none -m 32 -monitor stdio \
	-device vfio-pci,host=0000:01:00.0,id=card1 </tmp/monitor >/tmp/out 2>/tmp/err &
pid=$!
exec 3>/tmp/monitor
vfio_fds() {
	for fd in /proc/"$pid"/fd/*; do
		target=$(readlink "$fd") || continue
		case $target in
		*vfio*) printf '%s\n' "$target" ;;
		esac
	done | busybox sort -u
}
i=0
while [ "$i" -lt 240 ] && kill -0 "$pid" 2>/dev/null &&
	! vfio_fds | grep -q 'vfio-device'; do
	sleep 0.5
	i=$((i + 1))
done
vfio_fds | busybox awk '{ print "CLIENT reserved fd: " $0 }'
# A qemu that refused the card has closed the FIFO: no SIGPIPE for us.
trap '' PIPE
printf '%s\n' 'info pci' quit >&3 2>/dev/null
exec 3>&-
trap - PIPE
rc=0
wait "$pid" || rc=$?
show reserved "$rc"

# The twin on the host's driver.
rc=0
qemu-system-x86_64 -accel tcg -S -nodefaults -display none -m 32 -monitor stdio \
	-device vfio-pci,host=0000:02:00.0,id=twin >/tmp/out 2>/tmp/err <<'MONITOR' || rc=$?
info pci
quit
MONITOR
show twin "$rc"
