#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve VM tests, guest step vfio_test=runtime: the commands a person
# runs on a live host, on a real kernel.  Card 1 was reserved at boot; card 2
# is on its native drivers.  In order:
#   bind 0000:02:00.0 while a process holds card 2's DRM node (refused),
#   bind 0000:02:00.0 with the holder gone, release 0000:02:00.0, then
#   `-c FILE apply` with a config (a root-owned 0644 regular file) whose
#   rule is card 2,
# with `-c FILE status --json` before the first step and after each one;
# then what holds a function (issue 18, point 3): release 0000:02:00.0,
# bind 0000:02:00.0 --force while a process holds card 2's DRM node again,
# and, while a VFIO user (/test/vfio-bar --hold, as a VM) has card 1 open,
# release 0000:01:00.0 (refused), release 0000:01:00.0 --force (the kernel
# waits for the user, the binder 10 s), then card 1 once the user is gone.
# "RT HOLDER STEP PID COMM NODE" tells, before such a step, each process
# that has NODE open as the guest's /proc shows it.
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

# links STEP [ADDR...]: card 2's functions unless ADDRs are given.
links() {
	step=$1
	shift
	[ "$#" -gt 0 ] || set -- 0000:02:00.0 0000:02:00.1
	for addr in "$@"; do
		dev=/sys/bus/pci/devices/$addr
		printf 'RT LINK %s %s driver=%s override=%s\n' "$step" "$addr" \
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

# holders STEP NODE: each process with NODE open, or with the file that was
# NODE ("NODE (deleted)": its device is gone), as /proc/PID/fd says.
holders() {
	for fd in /proc/[0-9]*/fd/*; do
		target=$(readlink "$fd" 2>/dev/null)
		case $target in
		"$2" | "$2 (deleted)") ;;
		*) continue ;;
		esac
		pid=${fd#/proc/}
		pid=${pid%%/*}
		printf 'RT HOLDER %s %s %s %s\n' "$1" "$pid" "$(cat "/proc/$pid/comm")" "$target"
	done | sort -u
}

# hold_card2 STEP: a process holds card 2's DRM node (its driver's).
hold_card2() {
	node=/dev/dri/$(basename /sys/bus/pci/devices/0000:02:00.0/drm/card*)
	# shellcheck disable=SC2217 # what it holds open is the point
	sleep 1000 <"$node" &
	holders "$1" "$node"
}

# unhold STEP: every process that holds $node (told) ends.
unhold() {
	holders "$1" "$node" >/tmp/holders
	cat /tmp/holders
	while read -r _ _ _ pid _; do
		kill "$pid"
	done </tmp/holders
	sleep 0.5
}

links before
step status-before vfio-reserve -c "$conf" status --json
hold_card2 bind-held
step bind-held vfio-reserve bind 0000:02:00.0
unhold bind-held-after
step bind vfio-reserve bind 0000:02:00.0
step status-bound vfio-reserve -c "$conf" status --json
step release vfio-reserve release 0000:02:00.0
step status-released vfio-reserve -c "$conf" status --json
step apply vfio-reserve -c "$conf" apply
step status-applied vfio-reserve -c "$conf" status --json

step release-again vfio-reserve release 0000:02:00.0
hold_card2 bind-forced
step bind-forced vfio-reserve bind 0000:02:00.0 --force
unhold bind-forced-after

/test/vfio-bar --hold 0000:01:00.0 >/tmp/vfio-bar.out 2>&1 &
user=$!
i=0
while ! grep -q '^VFIO-BAR device .* open$' /tmp/vfio-bar.out && [ "$i" -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
group=$(basename "$(readlink /sys/bus/pci/devices/0000:01:00.0/iommu_group)")
holders release-held "/dev/vfio/$group"
step release-held vfio-reserve release 0000:01:00.0
links release-held 0000:01:00.0 0000:01:00.1
start=$(cut -d. -f1 /proc/uptime)
step release-forced vfio-reserve release 0000:01:00.0 --force
printf 'RT release-forced seconds=%s\n' "$(($(cut -d. -f1 /proc/uptime) - start))"
# Only the driver links while the kernel waits: reading driver_override
# takes the device's lock, which the waiting unbind holds.
for addr in 0000:01:00.0 0000:01:00.1; do
	printf 'RT LINK release-forced %s driver=%s\n' "$addr" \
		"$(link_name "/sys/bus/pci/devices/$addr/driver")"
done
printf 'vfio-test: runtime: user gone\n' >/dev/kmsg
kill "$user"
wait "$user"
sleep 1
links user-gone 0000:01:00.0 0000:01:00.1
printf 'vfio-test: runtime: end\n' >/dev/kmsg
