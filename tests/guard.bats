#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Don't cut the branch the host sits on: check FAILs, cmdline (and so
# update) and bind refuse a function behind a mounted file system, swap or
# the default route, unless the rule says 'force'.  The mounts, block
# devices and routes are laid out as the kernel shows them
# (tests/lib/host-uses.bash), on layouts of real hosts.

load test_helper

# The i7-8086K desktop of the dump: two identical Samsung NVMe drives; the
# root file system on the first one's second partition.
nvme_root() {
	real_host nvme-twins | host
	block_device 03:00.0 nvme0n1p2 259:2
	block_device 08:00.0 nvme1n1p1 259:5
	mounted /dev/nvme0n1p2 259:2 /
}

@test "an ID rule over twin NVMe drives: check fails for the root file system's drive and warns for the ID" {
	nvme_root
	config <<<'144d:a808'
	run -1 vr check
	assert_output "OK   config: $CONF: 1 rule
OK   cpu: Intel VT-x (vmx)
OK   iommu: active, 4 groups
OK   driver: vfio-pci is loaded
OK   line 1: reserves 0000:03:00.0, 0000:08:00.0 for vfio-pci
FAIL line 1: 0000:03:00.0 [144d:a808] holds the file system on /: the host needs it (add 'force' to take it anyway)
WARN line 1: 144d:a808 matches 2 devices: 0000:03:00.0, 0000:08:00.0 (name one by address, path= or slot=)
OK   group: 14 is viable
OK   group: 17 is viable
OK   cmdline: the running kernel has what 'vfio-reserve update' writes
OK   initramfs: initramfs-tools builds it, at every kernel upgrade and 'vfio-reserve update'
OK   ordering: the early hook (initramfs-tools conf.d)
OK   boot loader: GRUB ('vfio-reserve update' writes its configuration)"
}

@test "cmdline, and so update, refuses a rule that takes the root file system's drive, naming file and line" {
	nvme_root
	config <<-'EOF'
	# the guest's disk
	144d:a808
	EOF
	run -1 --separate-stderr vr cmdline
	assert_equal "$stderr" "vfio-reserve: $CONF:2: 0000:03:00.0 [144d:a808] holds the file system on /: the host needs it (add 'force' to take it anyway)"
	assert_equal "$output" ""
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
	assert_line --index 5 "FAIL line 1: 0000:08:00.0 [144d:a808] holds the file system on /: the host needs it (add 'force' to take it anyway)"
	# Swap alone protects the drive too.
	: >"$ROOT/proc/self/mountinfo"
	run -1 vr check
	assert_line --index 5 "FAIL line 1: 0000:08:00.0 [144d:a808] holds swap on /dev/dm-1: the host needs it (add 'force' to take it anyway)"
}

@test "btrfs reports an anonymous device: the mount's source names the drive" {
	real_host nvme-twins | host
	block_device 03:00.0 nvme0n1p2 259:2
	mounted /dev/nvme0n1p2 0:31 /home btrfs
	config <<<'03:00.0 144d:a808'
	run -1 vr check
	assert_line --index 5 "FAIL line 1: 0000:03:00.0 [144d:a808] holds the file system on /home: the host needs it (add 'force' to take it anyway)"
}

@test "the NIC of the default route, directly or under a Proxmox bridge, is refused; bind --force takes it" {
	real_host dual-port-i350 | host
	netdev 03:00.0 eno1
	netdev 05:00.0 enp5s0f0
	default_route eno1
	config <<<'03:00.0 8086:1533'
	run -1 vr check
	assert_line --index 5 "FAIL line 1: 0000:03:00.0 [8086:1533] carries the default route (eno1): the host needs it (add 'force' to take it anyway)"
	: >"$ROOT/proc/net/route"
	net_bridge vmbr0 eno1
	default_route vmbr0
	run -1 vr check
	assert_line --index 5 "FAIL line 1: 0000:03:00.0 [8086:1533] carries the default route (vmbr0): the host needs it (add 'force' to take it anyway)"
	kernel_start "$ROOT"
	before=$(snapshot)
	run -1 --separate-stderr vr bind 03:00.0
	assert_equal "$stderr" "vfio-reserve: command line: 0000:03:00.0 [8086:1533] carries the default route (vmbr0): the host needs it (add 'force' to take it anyway)"
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
