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
#   dm_device NAME MAJ:MIN ALIAS SLAVE...  a device-mapper volume on SLAVEs
#                                       (each SLAVE's holders/ links it),
#                                       /dev/mapper/ALIAS pointing at it
#   mounted DEVICE MAJ:MIN MOUNTPOINT [FSTYPE [SUPER-OPTIONS [TAGS]]]
#                                       a mountinfo line; DEVICE is the
#                                       source, e.g. /dev/nvme0n1p2; TAGS the
#                                       optional fields (default shared:1,
#                                       - for none: a private mount)
#   md_device NAME MAJ:MIN SLAVE...     an md array on SLAVEs (Intel RST's
#                                       md126 on whole disks)
#   partition DISK NAME MAJ:MIN         a partition of a virtual disk (md, dm)
#   nvme_head ADDR... NAME MAJ:MIN      an NVMe multipath head disk of the
#                                       controllers of functions ADDR...
#   iscsi_disk SID NAME MAJ:MIN TARGET-IP   a disk of iSCSI session SID
#   udev_fs MAJ:MIN TYPE LABEL          udev's record of a disk's file system
#   zpool_says POOL DEVICE...           a `zpool list -vHP` for the binder
#                                       (VFIO_RESERVE_ZPOOL)
#   route IFACE DEST MASK               an IPv4 route, addresses dotted
#   default_route6 IFACE                the IPv6 default route
#   swap_on DEVICE                      a /proc/swaps line for a partition
#   netdev ADDR IFACE                   a network interface of function ADDR
#   net_bridge NAME PORT...             a bridge (or bond) over PORTs
#   default_route IFACE                 the IPv4 default route
#   inet6_addr IFACE ADDRESS/PREFIX     an IPv6 address of IFACE
#                                       (/proc/net/if_inet6; fe80:: link-local)
#   usb_device ADDR PORT VVVV:PPPP [PRODUCT]
#                                       a USB device behind controller ADDR
#                                       (PORT as the kernel names it: 1-8,
#                                       then 1-8.4 behind the hub on 1-8),
#                                       with its interface PORT:1.0

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
    mkdir -p "$dir/slaves" "$dir/dm"
    printf '%s\n' "$majmin" > "$dir/dev"
    printf '%s\n' "$alias" > "$dir/dm/name"
    for slave in "$@"; do
        _hu_link "$(readlink -f "$ROOT/sys/class/block/$slave")" "$dir/slaves/$slave"
        _hu_link "$dir" "$(readlink -f "$ROOT/sys/class/block/$slave")/holders/$name"
    done
    _hu_link "$dir" "$ROOT/sys/class/block/$name"
    _hu_link "$dir" "$ROOT/sys/dev/block/$majmin"
    mkdir -p "$ROOT/dev/mapper"
    ln -s "../$name" "$ROOT/dev/mapper/$alias"
}

mounted() {
    local source=$1 majmin=$2 point=$3 type=${4:-ext4} super=${5:-rw} tags=${6:-shared:1}
    local file=$ROOT/proc/self/mountinfo
    local -a lines=()
    mkdir -p "$ROOT/proc/self"
    [[ -f $file ]] || printf '21 1 0:20 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n' > "$file"
    mapfile -t lines < "$file"
    [[ $tags == - ]] && tags= || tags="$tags "
    printf '%d 1 %s / %s rw,relatime %s- %s %s %s\n' \
        "$((${#lines[@]} + 21))" "$majmin" "$point" "$tags" "$type" "$source" "$super" >> "$file"
}

_hu_virtual_disk() {
    local dir=$1 name=$2 majmin=$3
    mkdir -p "$dir"
    printf '%s\n' "$majmin" > "$dir/dev"
    _hu_link "$dir" "$ROOT/sys/class/block/$name"
    _hu_link "$dir" "$ROOT/sys/dev/block/$majmin"
    mkdir -p "$ROOT/dev"
    : > "$ROOT/dev/$name"
}

md_device() {
    local name=$1 majmin=$2 slave
    shift 2
    local dir=$ROOT/sys/devices/virtual/block/$name
    _hu_virtual_disk "$dir" "$name" "$majmin"
    mkdir -p "$dir/slaves" "$dir/md"
    for slave in "$@"; do
        _hu_link "$(readlink -f "$ROOT/sys/class/block/$slave")" "$dir/slaves/$slave"
        _hu_link "$dir" "$(readlink -f "$ROOT/sys/class/block/$slave")/holders/$name"
    done
}

partition() {
    local disk=$1 name=$2 majmin=$3 dir
    dir=$(readlink -f "$ROOT/sys/class/block/$disk")/$name
    _hu_virtual_disk "$dir" "$name" "$majmin"
    printf '%s\n' "${name##*[!0-9]}" > "$dir/partition"
}

# As drivers/nvme/host/multipath.c and core.c lay it out: the head disk is a
# child of the subsystem device, which links each controller by its name;
# the controllers sit under their PCI functions (ADDR/nvme/nvmeN).
nvme_head() {
    local -a addrs=("${@:1:$#-2}")
    local name=${*: -2:1} majmin=${*: -1} sub=$ROOT/sys/devices/virtual/nvme-subsystem/nvme-subsys0
    local addr i=0 REPLY
    _hu_virtual_disk "$sub/$name" "$name" "$majmin"
    _hu_link "$sub" "$ROOT/sys/class/nvme-subsystem/nvme-subsys0"
    for addr in "${addrs[@]}"; do
        _hu_function_dir "$addr"
        mkdir -p "$REPLY/nvme/nvme$i/nvme0c${i}n1"
        _hu_link "$REPLY/nvme/nvme$i" "$sub/nvme$i"
        i=$((i + 1))
    done
}

# drivers/scsi/scsi_transport_iscsi.c: the disk under its session's target,
# the connection (class iscsi_connection) with the target's address.
iscsi_disk() {
    local sid=$1 name=$2 majmin=$3 ip=$4
    local host=host$((sid + 2))
    local dir=$ROOT/sys/devices/platform/$host/session$sid
    _hu_virtual_disk "$dir/target$((sid + 2)):0:0/$((sid + 2)):0:0:0/block/$name" "$name" "$majmin"
    mkdir -p "$dir/connection$sid:0/iscsi_connection/connection$sid:0"
    printf '%s\n' "$ip" > "$dir/connection$sid:0/iscsi_connection/connection$sid:0/address"
    _hu_link "$dir/connection$sid:0/iscsi_connection/connection$sid:0" \
        "$ROOT/sys/class/iscsi_connection/connection$sid:0"
}

udev_fs() {
    mkdir -p "$ROOT/run/udev/data"
    printf 'S:disk/by-id/fixture\nE:ID_FS_TYPE=%s\nE:ID_FS_LABEL=%s\nE:ID_FS_USAGE=filesystem\n' \
        "$2" "$3" > "$ROOT/run/udev/data/b$1"
}

# The scripted output of OpenZFS's zpool_main.c print_list_stats(): the pool
# line, then each vdev with one leading tab, fields tab-separated.
zpool_says() {
    local pool=$1 dev
    shift
    mkdir -p "$ROOT/.fixture/bin"
    {
        printf '#!/bin/sh\n[ "$*" = "list -vHP %s" ] || exit 1\ncat <<EOF\n' "$pool"
        printf '%s\t1992864825344\t1200000000\t1990000000000\t-\t-\t0%%\t0%%\t1.00x\tONLINE\t-\n' "$pool"
        printf '\tmirror-0\t1992864825344\t1200000000\t1990000000000\t-\t-\t0%%\t0%%\t-\tONLINE\n'
        for dev; do
            printf '\t%s\t-\t-\t-\t-\t-\t-\t-\t-\tONLINE\n' "$dev"
        done
        printf 'EOF\n'
    } > "$ROOT/.fixture/bin/zpool"
    chmod +x "$ROOT/.fixture/bin/zpool"
    export VFIO_RESERVE_ZPOOL=$ROOT/.fixture/bin/zpool
}

_hu_hex_ip() {
    local IFS=. a b c d
    read -r a b c d <<<"$1"
    printf '%02X%02X%02X%02X' "$d" "$c" "$b" "$a"
}

route() {
    local file=$ROOT/proc/net/route
    mkdir -p "$ROOT/proc/net"
    [[ -f $file ]] || printf 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' > "$file"
    printf '%s\t%s\t00000000\t0001\t0\t0\t0\t%s\t0\t0\t0\n' "$1" "$(_hu_hex_ip "$2")" "$(_hu_hex_ip "$3")" >> "$file"
}

default_route6() {
    local file=$ROOT/proc/net/ipv6_route
    mkdir -p "$ROOT/proc/net"
    printf '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003 %8s\n' "$1" >> "$file"
    printf '00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n' >> "$file"
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

inet6_addr() {
    local iface=$1 addr=${2%/*} prefix=${2#*/} scope=00
    [[ ${addr,,} != fe80:* ]] || scope=20
    mkdir -p "$ROOT/proc/net"
    perl -MSocket=inet_pton,AF_INET6 -e \
        'printf "%s %02x %02x %s 80 %8s\n", unpack("H*", inet_pton(AF_INET6, $ARGV[0])), 2, $ARGV[1], $ARGV[2], $ARGV[3]' \
        "$addr" "$prefix" "$scope" "$iface" >> "$ROOT/proc/net/if_inet6"
}

# As drivers/usb/core lays it out: the root hub usbN under the controller,
# each device under the hub port it is on, its interfaces beside it.
usb_device() {
    local addr=$1 port=$2 id=$3 product=${4-} REPLY dir
    _hu_function_dir "$addr"
    local bus=${port%%-*}
    if [[ $port == *.* ]]; then
        dir=$(readlink -f "$ROOT/sys/bus/usb/devices/${port%.*}")/$port
    else
        dir=$REPLY/usb$bus/$port
        if [[ ! -e $ROOT/sys/bus/usb/devices/usb$bus ]]; then
            mkdir -p "$REPLY/usb$bus"
            printf '1d6b\n' > "$REPLY/usb$bus/idVendor"
            _hu_link "$REPLY/usb$bus" "$ROOT/sys/bus/usb/devices/usb$bus"
        fi
    fi
    mkdir -p "$dir/$port:1.0"
    printf '%s\n' "${id%:*}" > "$dir/idVendor"
    printf '%s\n' "${id#*:}" > "$dir/idProduct"
    [[ -z $product ]] || printf '%s\n' "$product" > "$dir/product"
    _hu_link "$dir" "$ROOT/sys/bus/usb/devices/$port"
    _hu_link "$dir/$port:1.0" "$ROOT/sys/bus/usb/devices/$port:1.0"
}
