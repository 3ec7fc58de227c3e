#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve VM tests, guest step vfio_test=runtime: the commands a person
# runs on a live host, on a real kernel.  Card 1 was reserved at boot; card 2
# is on its native drivers.  In order:
#   bind 0000:02:00.0, release 0000:02:00.0, then `-c FILE apply` with a
#   config (a root-owned 0644 regular file) whose rule is card 2,
# with `-c FILE status --json` before the first step and after each one.
# Each command's output is printed as "RT STEP out: LINE" (stdout) and
# "RT STEP err: LINE" (stderr), then "RT STEP status=N"; after each step,
# "RT LINK STEP ADDR driver=D override=O" for card 2's two functions.  A
# "vfio-test: runtime: STEP" record in the kernel log opens each step, so
# the driver core's debug lines can be told apart by step.

PATH=/usr/sbin:/usr/bin:$PATH
export PATH
mount -t tmpfs tmpfs /tmp || exit 1
conf=/tmp/card2.conf

link_name() {
	if [ -e "$1" ]; then
		basename "$(readlink "$1")"
	else
		printf '%s\n' none
	fi
}

links() {
	for addr in 0000:02:00.0 0000:02:00.1; do
		dev=/sys/bus/pci/devices/$addr
		printf 'RT LINK %s %s driver=%s override=%s\n' "$1" "$addr" \
			"$(link_name "$dev/driver")" "$(cat "$dev/driver_override")"
	done
}

# step NAME COMMAND...: runs COMMAND, prints its output and status.
step() {
	name=$1
	shift
	printf 'vfio-test: runtime: %s\n' "$name" >/dev/kmsg
	rc=0
	"$@" >/tmp/out 2>/tmp/err || rc=$?
	busybox awk -v p="RT $name out: " '{ print p $0 }' /tmp/out
	busybox awk -v p="RT $name err: " '{ print p $0 }' /tmp/err
	printf 'RT %s status=%s\n' "$name" "$rc"
	links "$name"
}

umask 022
printf '%s\n' '# vfio-reserve VM test: card 2, reserved at run time' \
	'0000:02:00.0 1234:1111' >"$conf"
chmod 0644 "$conf"
printf 'RT config %s\n' "$(busybox stat -c '%A %u:%g %F' "$conf")"

links before
step status-before vfio-reserve -c "$conf" status --json
step bind vfio-reserve bind 0000:02:00.0
step status-bound vfio-reserve -c "$conf" status --json
step release vfio-reserve release 0000:02:00.0
step status-released vfio-reserve -c "$conf" status --json
step apply vfio-reserve -c "$conf" apply
step status-applied vfio-reserve -c "$conf" status --json
printf 'vfio-test: runtime: end\n' >/dev/kmsg
