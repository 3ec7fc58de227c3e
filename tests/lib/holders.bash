# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What may hold a PCI function on a running host, for the binder's holders
# check (binder/holders.c): processes with device nodes open, the nodes the
# kernel names below the function, the console.  Laid out in the fixture
# root the way the kernel shows them; every function works on $ROOT, after
# make_sysfs.  Sourced by tests/holders.bats.
#
#   process PID COMM NODE...    /proc/PID: comm, and fd/3, fd/4, ... linking
#                               to each NODE (a path as the process opened
#                               it, e.g. /dev/dri/card1; never followed)
#   dev_nodes ADDR CLASS NAME...  ADDR's CLASS/NAME/dev (drm, vfio-dev)
#   sound_card ADDR N NAME...   ADDR's sound/cardN/NAME/dev
#   nvidia_gpu ADDR MINOR       /proc/driver/nvidia/gpus/ADDR/information
#   framebuffer ADDR NAME       ADDR's graphics/NAME (fb0, fb1, ...)
#   vtconsole N NAME BIND       /sys/class/vtconsole/vtconN

_ho_dev() {
	REPLY=$ROOT/sys/bus/pci/devices/$1
	[[ $1 == ????:* ]] || REPLY=$ROOT/sys/bus/pci/devices/0000:$1
}

process() {
	local pid=$1 comm=$2 fd=3 node
	shift 2
	mkdir -p "$ROOT/proc/$pid/fd"
	printf '%s\n' "$comm" >"$ROOT/proc/$pid/comm"
	for node in "$@"; do
		ln -s "$node" "$ROOT/proc/$pid/fd/$fd"
		fd=$((fd + 1))
	done
}

dev_nodes() {
	local class=$2 name REPLY
	_ho_dev "$1"
	shift 2
	for name in "$@"; do
		mkdir -p "$REPLY/$class/$name"
		echo 226:0 >"$REPLY/$class/$name/dev"
	done
}

sound_card() {
	local card=card$2 name REPLY
	_ho_dev "$1"
	shift 2
	mkdir -p "$REPLY/sound/$card"
	echo "$card" >"$REPLY/sound/$card/id"
	for name in "$@"; do
		mkdir -p "$REPLY/sound/$card/$name"
		echo 116:0 >"$REPLY/sound/$card/$name/dev"
	done
}

nvidia_gpu() {
	local dir=$ROOT/proc/driver/nvidia/gpus/$1
	mkdir -p "$dir"
	printf 'Model: \t\t NVIDIA GeForce RTX 3080\nIRQ:   \t\t 159\nBus Location: \t %s\nDevice Minor: \t %s\nGPU Excluded:\t No\n' \
		"$1" "$2" >"$dir/information"
}

framebuffer() {
	local REPLY
	_ho_dev "$1"
	mkdir -p "$REPLY/graphics/$2"
}

vtconsole() {
	local dir=$ROOT/sys/class/vtconsole/vtcon$1
	mkdir -p "$dir"
	printf '%s\n' "$2" >"$dir/name"
	printf '%s\n' "$3" >"$dir/bind"
}
