# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What a running host sits on, for the guard of `check`, `cmdline` and
# `bind`: block devices under a PCI function, device-mapper volumes, mounts,
# swap, network interfaces and the default route, laid out in the fixture
# root the way the kernel shows them (relative links, as sysfs has them).
# Sourced by tests/test_helper.bash; every function works on $ROOT, after
# make_sysfs.
#
#   block_device ADDR NAME MAJ:MIN      a disk or partition of function ADDR
#   dm_device NAME MAJ:MIN ALIAS SLAVE...  a device-mapper volume on SLAVEs,
#                                       /dev/mapper/ALIAS pointing at it
#   mounted DEVICE MAJ:MIN MOUNTPOINT [FSTYPE]   a mountinfo line; DEVICE is
#                                       the source, e.g. /dev/nvme0n1p2
#   swap_on DEVICE                      a /proc/swaps line for a partition
#   netdev ADDR IFACE                   a network interface of function ADDR
#   net_bridge NAME PORT...             a bridge (or bond) over PORTs
#   default_route IFACE                 the IPv4 default route

_hu_function_dir() {
    local addr=$1
    [[ $addr == ????:* ]] || addr=0000:$addr
    REPLY=$(readlink -f "$ROOT/sys/bus/pci/devices/$addr")
}

_hu_link() {
    mkdir -p "$(dirname "$2")"
    ln -sr "$1" "$2"
}

block_device() {
    local addr=$1 name=$2 majmin=$3 REPLY
    _hu_function_dir "$addr"
    mkdir -p "$REPLY/block/$name"
    printf '%s\n' "$majmin" > "$REPLY/block/$name/dev"
    _hu_link "$REPLY/block/$name" "$ROOT/sys/class/block/$name"
    _hu_link "$REPLY/block/$name" "$ROOT/sys/dev/block/$majmin"
}

dm_device() {
    local name=$1 majmin=$2 alias=$3 slave
    shift 3
    local dir=$ROOT/sys/devices/virtual/block/$name
    mkdir -p "$dir/slaves"
    for slave in "$@"; do
        _hu_link "$(readlink -f "$ROOT/sys/class/block/$slave")" "$dir/slaves/$slave"
    done
    _hu_link "$dir" "$ROOT/sys/class/block/$name"
    _hu_link "$dir" "$ROOT/sys/dev/block/$majmin"
    mkdir -p "$ROOT/dev/mapper"
    ln -s "../$name" "$ROOT/dev/mapper/$alias"
}

mounted() {
    local source=$1 majmin=$2 point=$3 type=${4:-ext4} file=$ROOT/proc/self/mountinfo
    local -a lines=()
    mkdir -p "$ROOT/proc/self"
    [[ -f $file ]] || printf '21 1 0:20 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n' > "$file"
    mapfile -t lines < "$file"
    printf '%d 1 %s / %s rw,relatime shared:1 - %s %s rw\n' \
        "$((${#lines[@]} + 21))" "$majmin" "$point" "$type" "$source" >> "$file"
}

swap_on() {
    local file=$ROOT/proc/swaps
    [[ -f $file ]] || printf 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n' > "$file"
    printf '%s                               partition\t8388604\t\t0\t\t-2\n' "$1" >> "$file"
}

netdev() {
    local addr=$1 iface=$2 REPLY
    _hu_function_dir "$addr"
    mkdir -p "$REPLY/net/$iface"
    _hu_link "$REPLY/net/$iface" "$ROOT/sys/class/net/$iface"
}

net_bridge() {
    local name=$1 port
    shift
    local dir=$ROOT/sys/devices/virtual/net/$name
    mkdir -p "$dir"
    for port in "$@"; do
        _hu_link "$(readlink -f "$ROOT/sys/class/net/$port")" "$dir/lower_$port"
    done
    _hu_link "$dir" "$ROOT/sys/class/net/$name"
}

default_route() {
    local file=$ROOT/proc/net/route
    mkdir -p "$ROOT/proc/net"
    [[ -f $file ]] || printf 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' > "$file"
    printf '%s\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n' "$1" >> "$file"
    printf '%s\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n' "$1" >> "$file"
}
