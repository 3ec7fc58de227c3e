#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Don't cut the branch the host sits on: selection keeps a function behind a
# mounted file system, swap or the host's network for the host unless the
# rule says 'force', for every command but the early boot: check FAILs;
# cmdline (and so update), apply and bind write nothing; an image build
# leaves the rule out of the image.  The mounts, block devices and routes are
# laid out as the kernel shows them (tests/lib/host-uses.bash), on layouts
# of real hosts.

load test_helper

# The i7-8086K desktop of the dump: two identical Samsung NVMe drives; the
# root file system on the first one's second partition.
nvme_root() {
	real_host nvme-twins | host
	block_device 03:00.0 nvme0n1p2 259:2
	block_device 08:00.0 nvme1n1p1 259:5
	mounted /dev/nvme0n1p2 259:2 /
}

@test "an ID rule over twin NVMe drives: check fails for the root file system's drive and reserves only its twin" {
	nvme_root
	config <<<'144d:a808'
	run -1 vr check
	assert_output "OK   config: $CONF: 1 rule
OK   cpu: Intel VT-x (vmx)
OK   iommu: active, 4 groups
OK   driver: vfio-pci is loaded
OK   line 1: reserves 0000:08:00.0 (Non-Volatile memory controller) for vfio-pci
FAIL line 1: 0000:03:00.0 [144d:a808] holds the file system on /: the host needs it (add 'force' to take it anyway)
OK   group: 17 is viable
OK   cmdline: the running kernel has what 'vfio-reserve update' writes
OK   initramfs: initramfs-tools builds it, at every kernel upgrade and 'vfio-reserve update'
OK   ordering: the early hook (initramfs-tools conf.d)
OK   boot loader: GRUB ('vfio-reserve update' writes its configuration)
OK   trial: none pending; 'vfio-reserve update' puts the next change on trial"
}

@test "cmdline, and so update, refuses a rule that takes the root file system's drive, naming file and line" {
	nvme_root
	config <<-'EOF'
	# the guest's disk
	144d:a808
	EOF
	run -1 --separate-stderr vr cmdline
	assert_equal "$stderr" "vfio-reserve: $CONF:2: 0000:03:00.0 [144d:a808] holds the file system on /: the host needs it (add 'force' to take it anyway)
vfio-reserve: $CONF:2: the rule stays in the config: every initramfs built on this host leaves it out, with a warning, until it is changed or says 'force'"
	assert_equal "$output" ""
}

@test "status names what the guard kept for the host, in text and --json" {
	nvme_root
	config <<<'144d:a808'
	run -1 vr status
	assert_output "line 1: 144d:a808
  0000:08:00.0 [144d:a808] nvme           NOT RESERVED, wants vfio-pci
  0000:03:00.0 [144d:a808] nvme           kept for the host: holds the file system on /
last boot: no report in $ROOT/run/vfio-reserve.report (No such file or directory)"
	run -1 vr status --json
	run -0 jq -c '.rules[0].kept_for_host, [.rules[0].functions[].address]' <<<"$output"
	assert_output '[{"address":"0000:03:00.0","why":"holds the file system on /"}]
["0000:08:00.0"]'
}

@test "the twin that holds nothing is fine by address; 'force' takes the root drive with a warning" {
	nvme_root
	config <<<'08:00.0 144d:a808'
	run -0 vr check
	refute_output --partial FAIL
	run -0 --separate-stderr vr cmdline
	assert_equal "$output" "intel_iommu=on iommu=pt"
	config <<<'03:00.0 144d:a808 force'
	run -0 vr check
	assert_line --index 4 "OK   line 1: reserves 0000:03:00.0 (Non-Volatile memory controller) for vfio-pci"
	assert_line --index 5 "WARN line 1: 0000:03:00.0 [144d:a808] holds the file system on /: taken anyway (force)"
	run -0 --separate-stderr vr cmdline
	assert_equal "$stderr" "vfio-reserve: $CONF:1: 0000:03:00.0 [144d:a808] holds the file system on /: taken anyway (force)"
}

@test "a root on LVM and swap on device-mapper are traced through slaves/ to the drive" {
	real_host nvme-twins | host
	block_device 08:00.0 nvme1n1p3 259:7
	dm_device dm-0 253:0 vg-root nvme1n1p3
	dm_device dm-1 253:1 vg-swap nvme1n1p3
	mounted /dev/mapper/vg-root 253:0 /
	swap_on /dev/dm-1
	config <<<'08:00.0 144d:a808'
	run -1 vr check
	assert_line --index 4 "FAIL line 1: 0000:08:00.0 [144d:a808] holds the file system on /: the host needs it (add 'force' to take it anyway)"
	# Swap alone protects the drive too.
	: >"$ROOT/proc/self/mountinfo"
	run -1 vr check
	assert_line --index 4 "FAIL line 1: 0000:08:00.0 [144d:a808] holds swap on /dev/dm-1: the host needs it (add 'force' to take it anyway)"
}

@test "btrfs reports an anonymous device: the mount's source names the drive" {
	real_host nvme-twins | host
	block_device 03:00.0 nvme0n1p2 259:2
	mounted /dev/nvme0n1p2 0:31 /home btrfs
	config <<<'03:00.0 144d:a808'
	run -1 vr check
	assert_line --index 4 "FAIL line 1: 0000:03:00.0 [144d:a808] holds the file system on /home: the host needs it (add 'force' to take it anyway)"
}

@test "the NIC of the default route, directly or under a Proxmox bridge, is refused; bind --force takes it" {
	real_host dual-port-i350 | host
	netdev 03:00.0 eno1
	netdev 05:00.0 enp5s0f0
	default_route eno1
	config <<<'03:00.0 8086:1533'
	run -1 vr check
	assert_line --index 4 "FAIL line 1: 0000:03:00.0 [8086:1533] carries the default route (eno1): the host needs it (add 'force' to take it anyway)"
	: >"$ROOT/proc/net/route"
	net_bridge vmbr0 eno1
	default_route vmbr0
	run -1 vr check
	assert_line --index 4 "FAIL line 1: 0000:03:00.0 [8086:1533] carries the default route (vmbr0): the host needs it (add 'force' to take it anyway)"
	kernel_start "$ROOT"
	before=$(snapshot)
	run -1 --separate-stderr vr bind 03:00.0
	assert_equal "$stderr" "vfio-reserve: command line: 0000:03:00.0 [8086:1533] carries the default route (vmbr0): the host needs it (add 'force' to take it anyway)
vfio-reserve: nothing was changed"
	assert_equal "$output" ""
	kernel_settle "$ROOT"
	assert_equal "$(snapshot)" "$before"
	assert_equal "$(kernel_log)" ""
	run -0 --separate-stderr vr bind 03:00.0 --force
	assert_equal "$stderr" "vfio-reserve: command line: 0000:03:00.0 [8086:1533] carries the default route (vmbr0): taken anyway (force)"
	assert_equal "$(driver_of 0000:03:00.0)" vfio-pci
	# The port that carries nothing is free to take.
	run -0 --separate-stderr vr bind 05:00.1
	assert_equal "$stderr" ""
}

@test "at boot nothing is mounted: the guard does not run, and a forced rule is not needed" {
	nvme_root
	mkdir -p "$ROOT/dev"
	: >"$ROOT/dev/kmsg"
	config <<<'08:00.0 144d:a808'
	kernel_start "$ROOT"
	run -0 vr apply --boot
	assert_equal "$(driver_of 0000:08:00.0)" vfio-pci
	assert_equal "$(driver_of 0000:03:00.0)" nvme
}

# The guard is part of what every command may take, not of a list of
# command names: apply (the man page's "take it again"), bind and release.
@test "apply refuses a rule for the root file system's controller and one for the default-route NIC: exit 1, nothing written" {
	nvme_root
	config <<<'03:00.0 144d:a808'
	before=$(snapshot)
	run -1 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF:1: 0000:03:00.0 [144d:a808] holds the file system on /: the host needs it (add 'force' to take it anyway)
vfio-reserve: nothing was changed"
	assert_equal "$output" ""
	assert_equal "$(snapshot)" "$before"
	assert_equal "$(kernel_log)" ""
	run -1 --separate-stderr vr apply --dry-run
	assert_equal "$output" ""
	# One refused rule stops the others too: a person's command is all or nothing.
	config <<-'EOF2'
	08:00.0 144d:a808
	03:00.0 144d:a808
	EOF2
	run -1 --separate-stderr vr apply
	assert_equal "$(kernel_log)" ""
	assert_equal "$(driver_of 0000:08:00.0)" nvme

	rm -rf "$ROOT"
	real_host dual-port-i350 | host
	netdev 03:00.0 eno1
	default_route eno1
	config <<<'03:00.0 8086:1533'
	run -1 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF:1: 0000:03:00.0 [8086:1533] carries the default route (eno1): the host needs it (add 'force' to take it anyway)
vfio-reserve: nothing was changed"
	assert_equal "$(kernel_log)" ""
	assert_equal "$(driver_of 0000:03:00.0)" igb
	config <<<'03:00.0 8086:1533 force'
	run -0 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF:1: 0000:03:00.0 [8086:1533] carries the default route (eno1): taken anyway (force)"
	assert_equal "$(driver_of 0000:03:00.0)" vfio-pci
}

@test "release never unbinds a function from its own driver: an override written under a mounted root is cleared, nvme stays" {
	nvme_root
	echo vfio-pci >"$ROOT/sys/bus/pci/devices/0000:03:00.0/driver_override"
	config <<<''
	run -0 --separate-stderr vr release all
	assert_equal "$(override_of 0000:03:00.0)" ""
	assert_equal "$(driver_of 0000:03:00.0)" nvme
	assert_kernel_log "$P/devices/0000:03:00.0/driver_override "
}

@test "bind takes one address, as vfio-reserve(8) says: an ID, path= or slot= alone is a usage error" {
	two_cards
	for args in 1234:1111 path=00:02.0/00.0 slot=3 "1234:1111 driver=pci-stub"; do
		# shellcheck disable=SC2086 # the words of a bind
		run -2 --separate-stderr vr bind $args
		assert_equal "$stderr" "vfio-reserve: bind takes one PCI address (and optionally its vendor:device ID), not '$args' (see 'vfio-reserve --help')"
	done
	assert_equal "$(kernel_log)" ""
	run -0 --separate-stderr vr bind 02:00.0 1234:1111
	assert_equal "$(driver_of 0000:02:00.0)" vfio-pci
	assert_equal "$(driver_of 0000:01:00.0)" bochs-drm
}

# The host's branch as the kernel shows it, beyond a disk under a PCI function.
@test "a mount without optional fields (a private mount, a container) is read like any other" {
	real_host nvme-twins | host
	block_device 08:00.0 nvme1n1p2 259:6
	mounted /dev/nvme1n1p2 259:6 / ext4 rw -
	run -0 grep -c ' / rw,relatime - ext4 ' "$ROOT/proc/self/mountinfo"
	config <<<'08:00.0 144d:a808'
	run -1 vr check
	assert_line --index 4 "FAIL line 1: 0000:08:00.0 [144d:a808] holds the file system on /: the host needs it (add 'force' to take it anyway)"
	# Several optional fields, as a shared mount that is also a slave has.
	: >"$ROOT/proc/self/mountinfo"
	mounted /dev/nvme1n1p2 259:6 /srv ext4 rw "shared:5 master:1"
	run -1 vr check
	assert_line --index 4 "FAIL line 1: 0000:08:00.0 [144d:a808] holds the file system on /srv: the host needs it (add 'force' to take it anyway)"
}

@test "a partition of an md array (Intel RST's /dev/md126p2) is traced through the array's slaves to the SATA controller" {
	real_host z68-pch-sata | host
	block_device 00:1f.2 sda 8:0
	block_device 00:1f.2 sdb 8:16
	md_device md126 9:126 sda sdb
	partition md126 md126p2 259:1
	mounted /dev/md126p2 259:1 /
	config <<<'00:1f.2 8086:1c02'
	run -1 vr check
	assert_line --index 4 "FAIL line 1: 0000:00:1f.2 [8086:1c02] holds the file system on /: the host needs it (add 'force' to take it anyway)"
	# The same through the mount's source when the device number says nothing.
	: >"$ROOT/proc/self/mountinfo"
	mounted /dev/md126p2 0:33 /
	run -1 vr check
	assert_line --index 4 "FAIL line 1: 0000:00:1f.2 [8086:1c02] holds the file system on /: the host needs it (add 'force' to take it anyway)"
}

@test "an NVMe multipath head (CONFIG_NVME_MULTIPATH) is traced through its subsystem to every controller" {
	real_host nvme-twins | host
	nvme_head 03:00.0 08:00.0 nvme0n1 259:0
	partition nvme0n1 nvme0n1p2 259:2
	mounted /dev/nvme0n1p2 259:2 /
	config <<<'08:00.0 144d:a808'
	run -1 vr check
	assert_line --index 4 "FAIL line 1: 0000:08:00.0 [144d:a808] holds the file system on /: the host needs it (add 'force' to take it anyway)"
	config <<<'03:00.0 144d:a808'
	run -1 vr check
	assert_line --index 4 "FAIL line 1: 0000:03:00.0 [144d:a808] holds the file system on /: the host needs it (add 'force' to take it anyway)"
}

@test "a ZFS root (Proxmox VE's rpool) is traced to its member disks, by zpool and by udev's record without it" {
	real_host nvme-twins | host
	block_device 03:00.0 nvme0n1p3 259:3
	block_device 08:00.0 nvme1n1p3 259:7
	mkdir -p "$ROOT/dev/disk/by-id"
	ln -s ../../nvme0n1p3 "$ROOT/dev/disk/by-id/nvme-Samsung_SSD_970_EVO_1TB_S1-part3"
	ln -s ../../nvme1n1p3 "$ROOT/dev/disk/by-id/nvme-Samsung_SSD_970_EVO_1TB_S2-part3"
	mounted rpool/ROOT/pve-1 0:25 / zfs rw,xattr,noacl
	mounted rpool/data 0:26 /rpool/data zfs rw,xattr,noacl
	zpool_says rpool /dev/disk/by-id/nvme-Samsung_SSD_970_EVO_1TB_S1-part3 /dev/disk/by-id/nvme-Samsung_SSD_970_EVO_1TB_S2-part3
	config <<<'144d:a808'
	run -1 vr check
	assert_line --index 4 "FAIL line 1: 0000:03:00.0 [144d:a808] holds the file system on /: the host needs it (add 'force' to take it anyway)"
	assert_line --index 5 "FAIL line 1: 0000:08:00.0 [144d:a808] holds the file system on /: the host needs it (add 'force' to take it anyway)"
	# No zpool (an image build in a chroot, a host without zfsutils): udev's
	# record of each member names the pool.
	unset VFIO_RESERVE_ZPOOL
	udev_fs 259:7 zfs_member rpool
	udev_fs 259:3 zfs_member tank
	config <<<'144d:a808'
	run -1 vr check
	assert_line --index 4 "OK   line 1: reserves 0000:03:00.0 (Non-Volatile memory controller) for vfio-pci"
	assert_line --index 5 "FAIL line 1: 0000:08:00.0 [144d:a808] holds the file system on /: the host needs it (add 'force' to take it anyway)"
}

@test "an NFS root and an iSCSI disk are traced to the NIC their server's route leaves by, not only the default route's" {
	real_host dual-port-i350 | host
	netdev 03:00.0 eno1
	netdev 05:00.1 enp5s0f1
	default_route eno1
	route enp5s0f1 10.40.0.0 255.255.0.0
	mounted 10.40.1.5:/export/root 0:52 / nfs4 rw,vers=4.2,rsize=1048576,proto=tcp,timeo=600,sec=sys,clientaddr=10.40.1.20,local_lock=none,addr=10.40.1.5
	config <<<'05:00.1 8086:1521'
	run -1 vr check
	assert_line --index 4 "FAIL line 1: 0000:05:00.1 [8086:1521] holds the file system on /: the host needs it (add 'force' to take it anyway)"
	: >"$ROOT/proc/self/mountinfo"
	iscsi_disk 1 sdb 8:16 10.40.7.9
	mounted /dev/sdb 8:16 /var/lib/vz
	run -1 vr check
	assert_line --index 4 "FAIL line 1: 0000:05:00.1 [8086:1521] holds the file system on /var/lib/vz: the host needs it (add 'force' to take it anyway)"
}

@test "the NIC of the IPv6 default route is refused too" {
	real_host dual-port-i350 | host
	netdev 05:00.1 enp5s0f1
	default_route6 enp5s0f1
	config <<<'05:00.1 8086:1521'
	run -1 vr check
	assert_line --index 4 "FAIL line 1: 0000:05:00.1 [8086:1521] carries the default route (enp5s0f1): the host needs it (add 'force' to take it anyway)"
}

@test "a program the binder reads (zpool here) that prints more than a pipe holds does not hang it: the rest is read and dropped" {
	real_host nvme-twins | host
	block_device 03:00.0 nvme0n1p3 259:3
	mounted rpool/ROOT/pve-1 0:25 / zfs rw,xattr,noacl
	mkdir -p "$ROOT/.fixture/bin"
	printf '#!/bin/sh\necho /dev/nvme0n1p3\nhead -c 1000000 /dev/zero | tr "\\\\0" x\n' >"$ROOT/.fixture/bin/zpool"
	chmod +x "$ROOT/.fixture/bin/zpool"
	config <<<'03:00.0 144d:a808'
	VFIO_RESERVE_ZPOOL=$ROOT/.fixture/bin/zpool run -1 timeout 30 "$BIN" --root "$ROOT" check
	assert_line --index 4 "FAIL line 1: 0000:03:00.0 [144d:a808] holds the file system on /: the host needs it (add 'force' to take it anyway)"
}
