#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# list shows what hangs off each function before a rule takes it: disks and
# where they are mounted, network interfaces and their addresses, USB
# devices, what the guard keeps for the host, and how the kernel can reset
# the function; in text and in --json.

load test_helper

# The Z370 "duo" of the dump (fixtures/real/z370-duo.desc), running from its
# NVMe drive, with what its other dumps show hanging off it.  Inferred, not
# read: the NVMe layout (an EFI partition and the root, 259:N as the kernel
# numbers them), the interface names (systemd's from the addresses), the
# default route through the onboard I219-V, the IPv6 address (invented, in
# the documentation prefix), and the USB product strings (lsusb prints
# usb.ids names; two devices are left without one).
duo() {
	real_host z370-duo | host
	block_device 05:00.0 nvme0n1 259:0
	partition nvme0n1 nvme0n1p1 259:1
	partition nvme0n1 nvme0n1p2 259:2
	mounted /dev/nvme0n1p2 259:2 /
	mounted /dev/nvme0n1p1 259:1 /boot/efi vfat
	block_device 00:17.0 sda 8:0
	block_device 00:17.0 sdb 8:16
	block_device 00:17.0 sdc 8:32
	block_device 00:17.0 sdd 8:48
	netdev 00:1f.6 enp0s31f6
	netdev 03:00.0 enp3s0
	netdev 04:00.0 wlp4s0
	default_route enp0s31f6
	inet6_addr enp0s31f6 fe80::6a1c:a2ff:fe12:3456/64
	inet6_addr enp0s31f6 2001:db8:0:1::20/64
	usb_device 00:14.0 1-4 05ac:024f 'Apple Keyboard'
	usb_device 00:14.0 1-8 0bda:5409 'USB2.1 Hub'
	usb_device 00:14.0 1-8.1 c0f4:08f5
	usb_device 00:14.0 1-8.2 1686:0575 'ZOOM P4'
	usb_device 00:14.0 1-8.4 046d:c52b 'USB Receiver'
	usb_device 00:14.0 1-8.5 0bda:1100
	usb_device 00:14.0 1-13 8087:0aa7
	usb_device 00:14.0 2-4 0bda:0409 'USB3.2 Hub'
	usb_device 00:14.0 2-6 328f:009b 'EMEET SmartCam S800'
}

@test "list --all shows what hangs off each function, under it" {
	duo
	run -0 vr list --all
	assert_output "ADDRESS       ID         SUBSYSTEM  CLASS  GROUP  DRIVER          OVERRIDE    BOOT  PATH                    SLOT  RULE  NAME
0000:00:00.0  8086:3ec2  1849:3ec2  0600       1  skl_uncore      -           -     00:00.0                 -     -     -
0000:00:01.0  8086:1901  1849:1901  0604       2  pcieport        -           -     00:01.0                 -     -     -
0000:00:02.0  8086:3e92  1849:3e92  0300       0  i915            -           -     00:02.0                 -     -     -
    reset  none
0000:00:14.0  8086:a2af  1849:a2af  0c03       3  xhci_hcd        -           -     00:14.0                 -     -     -
    usb    1-4 05ac:024f Apple Keyboard
    usb    1-8 0bda:5409 USB2.1 Hub
    usb    1-8.1 c0f4:08f5
    usb    1-8.2 1686:0575 ZOOM P4
    usb    1-8.4 046d:c52b USB Receiver
    usb    1-8.5 0bda:1100
    usb    1-13 8087:0aa7
    usb    2-4 0bda:0409 USB3.2 Hub
    usb    2-6 328f:009b EMEET SmartCam S800
    reset  pm
0000:00:14.2  8086:a2b1  1849:a2b1  1180       3  -               -           -     00:14.2                 -     -     -
    reset  none
0000:00:16.0  8086:a2ba  1849:a2ba  0780       4  mei_me          -           -     00:16.0                 -     -     -
    reset  none
0000:00:17.0  8086:a282  1849:a282  0106       5  ahci            -           -     00:17.0                 -     -     -
    block  sda
    block  sdb
    block  sdc
    block  sdd
    reset  none
0000:00:1c.0  8086:a290  1849:a290  0604       6  pcieport        -           -     00:1c.0                 -     -     -
0000:00:1c.5  8086:a295  1849:a295  0604       7  pcieport        -           -     00:1c.5                 -     -     -
0000:00:1c.6  8086:a296  1849:a296  0604       8  pcieport        -           -     00:1c.6                 -     -     -
0000:00:1d.0  8086:a298  1849:a298  0604       9  pcieport        -           -     00:1d.0                 -     -     -
0000:00:1f.0  8086:a2c9  1849:a2c9  0601      10  -               -           -     00:1f.0                 -     -     -
0000:00:1f.2  8086:a2a1  1849:a2a1  0580      10  -               -           -     00:1f.2                 -     -     -
    reset  none
0000:00:1f.3  8086:a2f0  1849:5892  0403      10  snd_hda_intel   -           -     00:1f.3                 -     -     -
    reset  none
0000:00:1f.4  8086:a2a3  1849:a2a3  0c05      10  i801_smbus      -           -     00:1f.4                 -     -     -
    reset  none
0000:00:1f.6  8086:15b8  1849:15b8  0200      11  e1000e          -           -     00:1f.6                 -     -     -
    host   carries the default route (enp0s31f6); a rule takes it only with 'force'
    net    enp0s31f6 2001:db8:0:1::20/64
    reset  flr
0000:01:00.0  10de:1d01  1462:8c98  0300       2  -               -           -     00:01.0/00.0            -     -     -
    reset  bus: no reset of its own ('bus' resets the functions beside it)
0000:01:00.1  10de:0fb8  1462:8c98  0403       2  snd_hda_intel   -           -     00:01.0/00.1            -     -     -
    reset  none
0000:03:00.0  8086:1539  1849:1539  0200      12  igb             -           -     00:1c.5/00.0            -     -     -
    net    enp3s0
    reset  flr bus
0000:04:00.0  8086:24fb  8086:2110  0280      13  iwlwifi         -           -     00:1c.6/00.0            -     -     -
    net    wlp4s0
    reset  none
0000:05:00.0  15b7:5009  15b7:5009  0108      14  nvme            -           -     00:1d.0/00.0            -     -     -
    host   holds the file system on /; a rule takes it only with 'force'
    block  nvme0n1: nvme0n1p1 on /boot/efi, nvme0n1p2 on /
    reset  flr bus"
}

@test "list --json carries the same: host_use, attached block, net and usb, reset_methods and reset_alone" {
	duo
	vr list --all --json >"$BATS_TEST_TMPDIR/list.json"
	run -0 jq -c '.[] | select(.address == "0000:05:00.0") | {host_use, attached, reset_methods, reset_alone, flr}' "$BATS_TEST_TMPDIR/list.json"
	assert_output '{"host_use":"holds the file system on /","attached":{"block":[{"name":"nvme0n1","mounts":[{"device":"nvme0n1p1","mountpoint":"/boot/efi"},{"device":"nvme0n1p2","mountpoint":"/"}]}],"net":[],"usb":[]},"reset_methods":["flr","bus"],"reset_alone":true,"flr":true}'
	run -0 jq -c '.[] | select(.address == "0000:00:1f.6") | {host_use, attached, reset_methods, reset_alone}' "$BATS_TEST_TMPDIR/list.json"
	assert_output '{"host_use":"carries the default route (enp0s31f6)","attached":{"block":[],"net":[{"name":"enp0s31f6","addresses":["2001:db8:0:1::20/64"]}],"usb":[]},"reset_methods":["flr"],"reset_alone":true}'
	run -0 jq -c '.[] | select(.address == "0000:00:14.0") | .attached.usb[0,2], (.attached.usb | length), .reset_methods' "$BATS_TEST_TMPDIR/list.json"
	assert_output '{"port":"1-4","id":"05ac:024f","product":"Apple Keyboard"}
{"port":"1-8.1","id":"c0f4:08f5","product":null}
9
["pm"]'
	run -0 jq -c '.[] | select(.address == "0000:00:17.0") | .attached.block' "$BATS_TEST_TMPDIR/list.json"
	assert_output '[{"name":"sda","mounts":[]},{"name":"sdb","mounts":[]},{"name":"sdc","mounts":[]},{"name":"sdd","mounts":[]}]'
	run -0 jq -c '.[] | select(.address | startswith("0000:01:00.")) | {address, host_use, attached, reset_methods, reset_alone, flr}' "$BATS_TEST_TMPDIR/list.json"
	assert_output '{"address":"0000:01:00.0","host_use":null,"attached":{"block":[],"net":[],"usb":[]},"reset_methods":["bus"],"reset_alone":false,"flr":false}
{"address":"0000:01:00.1","host_use":null,"attached":{"block":[],"net":[],"usb":[]},"reset_methods":[],"reset_alone":false,"flr":null}'
}

@test "list without --all: the display devices, each with its reset" {
	duo
	run -0 vr list
	assert_output "ADDRESS       ID         SUBSYSTEM  CLASS  GROUP  DRIVER          OVERRIDE    BOOT  PATH                    SLOT  RULE  NAME
0000:00:02.0  8086:3e92  1849:3e92  0300       0  i915            -           -     00:02.0                 -     -     -
    reset  none
0000:01:00.0  10de:1d01  1462:8c98  0300       2  -               -           -     00:01.0/00.0            -     -     -
    reset  bus: no reset of its own ('bus' resets the functions beside it)
0000:01:00.1  10de:0fb8  1462:8c98  0403       2  snd_hda_intel   -           -     00:01.0/00.1            -     -     -
    reset  none"
}

# An NVMe drive under native multipath (Debian's and Fedora's kernels): the
# disk lives under its subsystem, not its PCI function; a btrfs root
# (mountinfo's anonymous 0:N, matched by its source); a kernel older than
# 5.15 (a `reset` attribute, no reset_method); a virtio NIC, whose
# interface sits under the virtio device (0000:00:03.0/virtio2/net/eth0);
# an Intel 82579LM, whose FLR the kernel does not use (quirk_no_flr in
# drivers/pci/quirks.c).
@test "list follows an NVMe multipath disk to its controller, a btrfs mount to its partition, a virtio NIC to its interface, and says when the kernel does not list reset methods or use FLR" {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm  1 -
	00:03.0 1af4:1041 020000 4 virtio-pci - -
	00:1d.0 8086:a298 060400 2 pcieport   - -
	05:00.0 15b7:5009 010802 3 nvme       - 00:1d.0 reset=- flr=1
	00:19.0 8086:1502 020000 5 e1000e     - -       flr=1
	DESC
	mkdir -p "$ROOT/sys/devices/pci0000:00/0000:00:03.0/virtio2/net/eth0" "$ROOT/sys/class/net"
	ln -s ../../devices/pci0000:00/0000:00:03.0/virtio2/net/eth0 "$ROOT/sys/class/net/eth0"
	nvme_head 05:00.0 nvme0n1 259:0
	partition nvme0n1 nvme0n1p1 259:1
	mounted /dev/nvme0n1p1 0:31 / btrfs
	mounted /dev/nvme0n1p1 0:31 /home btrfs
	run -0 vr list --all
	assert_output "ADDRESS       ID         SUBSYSTEM  CLASS  GROUP  DRIVER          OVERRIDE    BOOT  PATH                    SLOT  RULE  NAME
0000:00:01.0  1234:1111  1234:1111  0300       1  bochs-drm       -           yes   00:01.0                 -     -     -
    reset  none
0000:00:03.0  1af4:1041  1af4:1041  0200       4  virtio-pci      -           -     00:03.0                 -     -     -
    net    eth0
    reset  none
0000:00:19.0  8086:1502  8086:1502  0200       5  e1000e          -           -     00:19.0                 -     -     -
    reset  none; FLR capable, which the kernel does not use
0000:00:1d.0  8086:a298  8086:a298  0604       2  pcieport        -           -     00:1d.0                 -     -     -
0000:05:00.0  15b7:5009  15b7:5009  0108       3  nvme            -           -     00:1d.0/00.0            -     -     -
    host   holds the file system on /; a rule takes it only with 'force'
    block  nvme0n1: nvme0n1p1 on /, nvme0n1p1 on /home
    reset  unknown (Linux older than 5.15 does not list them); FLR capable"
	run -0 vr list --all --json
	run -0 jq -c '.[4] | .attached.block, .reset_methods, .reset_alone, .flr' <<<"$output"
	assert_output '[{"name":"nvme0n1","mounts":[{"device":"nvme0n1p1","mountpoint":"/"},{"device":"nvme0n1p1","mountpoint":"/home"}]}]
null
null
true'
}

# IPv4 addresses have no file under /proc: on the real system list asks the
# kernel (getifaddrs), as `ip` does; under --root there are none.
@test "on the real system, list shows each PCI NIC's IPv4 addresses as ip does" {
	command -v ip >/dev/null || skip "no ip (iproute2)"
	# Not the host's own config, which may be anything.
	: >"$BATS_TEST_TMPDIR/empty.conf"
	"$BIN" -c "$BATS_TEST_TMPDIR/empty.conf" list --all --json >"$BATS_TEST_TMPDIR/list.json"
	run -0 jq -r '.[].attached.net[] | .name' "$BATS_TEST_TMPDIR/list.json"
	local iface want got n=0
	for iface in "${lines[@]}"; do
		want=$(ip -o -4 addr show dev "$iface" | awk '{ print $4 }')
		got=$(jq -r --arg i "$iface" '.[].attached.net[] | select(.name == $i) | .addresses[] | select(contains(":") | not)' "$BATS_TEST_TMPDIR/list.json")
		assert_equal "$got" "$want"
		[[ -z $want ]] || n=$((n + 1))
	done
	((n > 0)) || skip "no PCI network interface with an IPv4 address here"
}

# Proxmox VE's default layout: LVM on the NVMe drive's third partition, the
# root file system on the volume pve/root (/dev/mapper/pve-root), swap on
# pve/swap.
@test "list follows a partition to the LVM volumes it holds, named as /dev/mapper names them, swap included" {
	real_host nvme-twins | host
	block_device 03:00.0 nvme0n1 259:0
	partition nvme0n1 nvme0n1p2 259:2
	partition nvme0n1 nvme0n1p3 259:3
	dm_device dm-0 253:0 pve-swap nvme0n1p3
	dm_device dm-1 253:1 pve-root nvme0n1p3
	mounted /dev/mapper/pve-root 253:1 /
	mounted /dev/nvme0n1p2 259:2 /boot/efi vfat
	swap_on /dev/mapper/pve-swap
	block_device 08:00.0 nvme1n1 259:4
	run -0 vr list --all
	assert_output "ADDRESS       ID         SUBSYSTEM  CLASS  GROUP  DRIVER          OVERRIDE    BOOT  PATH                    SLOT  RULE  NAME
0000:00:1b.0  8086:a2e7  8086:a2e7  0604       5  pcieport        -           -     00:1b.0                 -     -     -
0000:00:1d.0  8086:a298  8086:a298  0604      10  pcieport        -           -     00:1d.0                 -     -     -
0000:03:00.0  144d:a808  144d:a808  0108      14  nvme            -           -     00:1b.0/00.0            -     -     -
    host   holds the file system on /; a rule takes it only with 'force'
    block  nvme0n1: nvme0n1p2 on /boot/efi, pve-swap on [SWAP], pve-root on /
    reset  none
0000:08:00.0  144d:a808  144d:a808  0108      17  nvme            -           -     00:1d.0/00.0            -     -     -
    block  nvme1n1
    reset  none"
	run -0 vr list --all --json
	run -0 jq -c '.[] | select(.attached.block != []) | [.address, .attached.block]' <<<"$output"
	assert_output '["0000:03:00.0",[{"name":"nvme0n1","mounts":[{"device":"nvme0n1p2","mountpoint":"/boot/efi"},{"device":"pve-swap","mountpoint":"[SWAP]"},{"device":"pve-root","mountpoint":"/"}]}]]
["0000:08:00.0",[{"name":"nvme1n1","mounts":[]}]]'
}
