#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The reservation unit and IOMMU groups, on layouts of real hosts
# (tests/fixtures/real/, each file names its public source): a rule takes the
# functions of a device that share the matched function's group, never a
# sibling in another group; a function without a group is never given to
# vfio; a group is viable as the kernel judges it.

load test_helper

# The Fujitsu TX1320 M3 of the dump, before any reservation: both I350 ports
# on igb (the dump shows them after one, on vfio-pci).
i350_host() {
	real_host dual-port-i350 | sed 's/vfio-pci   -   00:1d.0 native=igb/igb        -   00:1d.0          /' | host
}

@test "one port of a dual-port I350 takes only its own group; the other port stays on igb" {
	i350_host
	config <<<'0000:05:00.1 8086:1521'
	run -0 vr check
	assert_output "OK   config: $CONF: 1 rule
OK   cpu: Intel VT-x (vmx)
OK   iommu: active, 9 groups
OK   driver: vfio-pci is loaded
OK   line 1: reserves 0000:05:00.1 (Ethernet controller) for vfio-pci
WARN line 1: 0000:05:00.0 [8086:1521] stays with the host: it is in IOMMU group 13, 0000:05:00.1 in group 14
OK   group: 14 is viable
OK   boot VGA: 0000:02:00.0 stays with the host
OK   display: the host keeps 1 display device
WARN cmdline: the running kernel has no iommu=pt: run 'vfio-reserve update' and reboot
OK   initramfs: initramfs-tools builds it, at every kernel upgrade and 'vfio-reserve update'
OK   ordering: the early hook (initramfs-tools conf.d)
OK   boot loader: GRUB ('vfio-reserve update' writes its configuration)
OK   trial: none pending; 'vfio-reserve update' puts the next change on trial"
	# Port 0 carries the same ID and stays with the host: no vfio-pci.ids.
	run -0 vr cmdline
	assert_output "intel_iommu=on iommu=pt"
	kernel_start "$ROOT"
	run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:05:00.1 [8086:1521] -> vfio-pci (rule line 1)"
	assert_equal "$stderr" ""
	assert_equal "$(driver_of 0000:05:00.0)" igb
	assert_equal "$(override_of 0000:05:00.0)" ""
}

@test "an SR-IOV virtual function takes no other VF of its device: each has its own group" {
	real_host sriov-82599-vfs | host
	config <<<'0000:03:10.1 8086:10ed'
	run -0 vr check
	assert_line --index 4 "OK   line 1: reserves 0000:03:10.1 (Ethernet controller) for vfio-pci"
	assert_line --index 5 "WARN line 1: 0000:03:10.3 [8086:10ed] stays with the host: it is in IOMMU group 37, 0000:03:10.1 in group 36"
	# A headless server has no display to keep: no display finding.
	refute_output --partial display
	run -0 vr apply --dry-run
	assert_output "vfio-reserve: dry-run: 0000:03:10.1 [8086:10ed] -> vfio-pci (rule line 1), unbinding ixgbevf
vfio-reserve: dry-run: 1 to reserve, 0 already reserved, nothing written"
}

# The 5600G of the dump with its audio, PSP and USB controllers in one group
# and the iGPU in another, as Cezanne and Rembrandt boards without ACS
# between them group them (the dump itself has a group per function).
apu_host() {
	real_host ryzen-apu | sed -e 's/^07:00.2 1022:15df 108000 13 /07:00.2 1022:15df 108000 12 /' \
		-e 's/^07:00.3 1022:1639 0c0330 14    -       /07:00.3 1022:1639 0c0330 12    xhci_hcd/' \
		-e 's/^07:00.4 1022:1639 0c0330 15    -       /07:00.4 1022:1639 0c0330 12    xhci_hcd/' | host
}

@test "an APU's iGPU (force) leaves its HDMI audio, PSP and USB controllers, in another group, to the host" {
	apu_host
	config <<<'07:00.0 1002:1638 force'
	run -1 vr check
	assert_output "OK   config: $CONF: 1 rule
OK   cpu: AMD-V (svm)
OK   iommu: active, 4 groups
OK   driver: vfio-pci is loaded
OK   line 1: reserves 0000:07:00.0 (VGA compatible controller) for vfio-pci
WARN line 1: 0000:07:00.1 [1002:1637] stays with the host: it is in IOMMU group 12, 0000:07:00.0 in group 11
WARN line 1: 0000:07:00.2 [1022:15df] stays with the host: it is in IOMMU group 12, 0000:07:00.0 in group 11
WARN line 1: 0000:07:00.3 [1022:1639] stays with the host: it is in IOMMU group 12, 0000:07:00.0 in group 11
WARN line 1: 0000:07:00.4 [1022:1639] stays with the host: it is in IOMMU group 12, 0000:07:00.0 in group 11
OK   group: 11 is viable
WARN boot VGA: 0000:07:00.0 is reserved (force): the host loses its console; 'vfio-reserve cmdline' adds initcall_blacklist=sysfb_init
FAIL display: the host keeps no display device
OK   cmdline: the running kernel has what 'vfio-reserve update' writes
OK   initramfs: initramfs-tools builds it, at every kernel upgrade and 'vfio-reserve update'
OK   ordering: the early hook (initramfs-tools conf.d)
OK   boot loader: GRUB ('vfio-reserve update' writes its configuration)
OK   trial: none pending; 'vfio-reserve update' puts the next change on trial"
	run -0 vr apply --dry-run
	assert_output "vfio-reserve: dry-run: 0000:07:00.0 [1002:1638] -> vfio-pci (rule line 1), unbinding amdgpu
vfio-reserve: dry-run: 1 to reserve, 0 already reserved, nothing written"
}

@test "where the whole APU shares one group, the iGPU takes its display and audio functions, never the CPU's PSP and USB controllers" {
	real_host ryzen-apu-shared | host
	config <<<'04:00.0 1002:1638 force'
	run -0 vr list --all --json
	run -0 jq -r '.[] | select(.rule_line == 1) | .address' <<<"$output"
	assert_output "0000:04:00.0
0000:04:00.1
0000:04:00.5
0000:04:00.6"
	run -1 vr check
	assert_line --index 4 "OK   line 1: reserves 0000:04:00.0 (VGA compatible controller), 0000:04:00.1 (Audio device), 0000:04:00.5 (Multimedia controller), 0000:04:00.6 (Audio device) for vfio-pci"
	assert_line --index 5 "WARN line 1: 0000:04:00.2 [1022:15df] Encryption controller stays with the host: it shares the device and group of 0000:04:00.0 but is not part of the card (add 'siblings' to take it)"
	assert_line --index 6 "WARN line 1: 0000:04:00.3 [1022:1639] USB controller stays with the host: it shares the device and group of 0000:04:00.0 but is not part of the card (add 'siblings' to take it)"
	assert_line --index 7 "WARN line 1: 0000:04:00.4 [1022:1639] USB controller stays with the host: it shares the device and group of 0000:04:00.0 but is not part of the card (add 'siblings' to take it)"
	refute_output --partial "more"
	# 'siblings' takes the whole device's share of the group, as before.
	config <<<'04:00.0 1002:1638 force siblings'
	run -0 vr list --all --json
	run -0 jq -r '.[] | select(.rule_line == 1) | .address' <<<"$output"
	assert_output "0000:04:00.0
0000:04:00.1
0000:04:00.2
0000:04:00.3
0000:04:00.4
0000:04:00.5
0000:04:00.6"
}

@test "a rule for the PCH SATA controller leaves the SMBus and the LPC bridge of its device to the host (Z68 dump)" {
	real_host z68-pch-sata | host
	config <<<'00:1f.2 8086:1c02'
	run -0 vr check
	assert_line --index 4 "OK   line 1: reserves 0000:00:1f.2 (SATA controller) for vfio-pci"
	assert_line --index 5 "WARN line 1: 0000:00:1f.3 [8086:1c22] SMBus stays with the host: it shares the device and group of 0000:00:1f.2 but is not part of the card (add 'siblings' to take it)"
	assert_line --index 6 "WARN group: 12: 0000:00:1f.0 [8086:1c44] stays on lpc_ich: the group is not viable for passthrough"
	assert_line --index 7 "WARN group: 12: 0000:00:1f.3 [8086:1c22] stays on i801_smbus: the group is not viable for passthrough"
	kernel_start "$ROOT"
	run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:00:1f.2 [8086:1c02] -> vfio-pci (rule line 1)"
	assert_equal "$(driver_of 0000:00:1f.3)" i801_smbus
	assert_equal "$(override_of 0000:00:1f.3)" ""
	# Said so, the rule takes the SMBus too (never the bridge).
	config <<<'00:1f.2 8086:1c02 siblings'
	run -0 vr check
	assert_line --index 4 "OK   line 1: reserves 0000:00:1f.2 (SATA controller), 0000:00:1f.3 (SMBus) for vfio-pci"
	run -2 --separate-stderr vr -c /dev/stdin check --config-only <<<'00:1f.2 8086:1c02 single siblings'
}

@test "single takes the matched function alone, and check names no sibling" {
	apu_host
	config <<<'07:00.0 1002:1638 force single'
	run -1 vr check
	refute_output --partial "stays with the host"
	assert_line "OK   line 1: reserves 0000:07:00.0 (VGA compatible controller) for vfio-pci"
}

@test "before the IOMMU is on, the whole device is listed and check says the boot narrows it" {
	real_host bmc-two-t400 | host
	config <<<'17:00.0 10de:1ff2'
	run -1 vr check
	assert_line --index 2 "FAIL iommu: not active: turn on VT-d in the firmware and boot with intel_iommu=on ('vfio-reserve update')"
	assert_line --index 4 "OK   line 1: reserves 0000:17:00.0 (VGA compatible controller), 0000:17:00.1 (Audio device) for vfio-pci"
	assert_line --index 5 "WARN line 1: no IOMMU groups yet: this is the whole device; at boot only the functions in the group of the matched one are reserved"
}

@test "at boot without an IOMMU nothing goes to vfio-pci: one log line a function, and the host keeps them" {
	real_host bmc-two-t400 | sed 's/^17:00.0 10de:1ff2 030000 -     vfio-pci  0   -       native=nvidia/17:00.0 10de:1ff2 030000 -     nvidia    0   -      /' | host
	mkdir -p "$ROOT/dev"
	: >"$ROOT/dev/kmsg"
	config <<<'17:00.0 10de:1ff2'
	kernel_start "$ROOT"
	run -0 vr apply --boot
	run -0 cat "$ROOT/dev/kmsg"
	assert_line --index 0 "<4>vfio-reserve: 0000:17:00.0 is in no IOMMU group: not reserved (vfio-pci cannot use it)"
	assert_line --index 1 "<4>vfio-reserve: 0000:17:00.1 is in no IOMMU group: not reserved (vfio-pci cannot use it)"
	assert_line --index 2 --regexp '^<6>vfio-reserve: done: 0 reserved, 0 already reserved, 0 failed in [0-9.]+ ms$'
	assert_equal "$(kernel_log)" ""
	assert_equal "$(override_of 0000:17:00.0)" ""
	assert_equal "$(driver_of 0000:17:00.0)" nvidia
}

# The two cards of the VM, the second one's functions without a group (as
# behind a bridge the IOMMU does not translate for).
ungrouped_card() {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm     1 -
	00:02.0 1b36:000c 060400 2 pcieport      - -
	00:03.0 1b36:000c 060400 3 pcieport      - -
	01:00.0 1234:1111 038000 4 bochs-drm     - 00:02.0
	01:00.1 8086:2668 040300 4 snd_hda_intel - 00:02.0
	02:00.0 1234:1111 038000 - bochs-drm     - 00:03.0
	02:00.1 8086:2668 040300 - snd_hda_intel - 00:03.0
	driver vfio-pci
	driver pci-stub
	DESC
}

@test "a function without an IOMMU group: check fails naming it, the boot leaves it alone, bind refuses it" {
	ungrouped_card
	mkdir -p "$ROOT/dev"
	: >"$ROOT/dev/kmsg"
	config <<<'02:00.0 1234:1111'
	run -1 vr check
	assert_line "FAIL line 1: 0000:02:00.0 is in no IOMMU group: not reserved (vfio-pci cannot use it)"
	kernel_start "$ROOT"
	before=$(snapshot)
	run -0 vr apply --boot
	run -0 cat "$ROOT/dev/kmsg"
	assert_line --index 0 "<4>vfio-reserve: $CONF:1: 0000:02:00.0 is in no IOMMU group: not reserved (vfio-pci cannot use it)"
	run -1 --separate-stderr vr bind 02:00.0
	assert_equal "$stderr" "vfio-reserve: command line: 0000:02:00.0 is in no IOMMU group: not reserved (vfio-pci cannot use it)"
	assert_equal "$output" ""
	kernel_settle "$ROOT"
	assert_equal "$(kernel_log)" ""
	assert_equal "$(snapshot)" "$before"
	# pci-stub needs no group.
	run -0 --separate-stderr vr bind 02:00.0 driver=pci-stub
	assert_equal "$(driver_of 0000:02:00.0)" pci-stub
}

@test "a rule whose sibling has no group takes the grouped function and names the other" {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm     1 -
	01:00.0 1234:1111 038000 4 bochs-drm     - -
	01:00.1 8086:2668 040300 - snd_hda_intel - -
	driver vfio-pci
	DESC
	config <<<'01:00.0 1234:1111'
	run -0 vr check
	assert_line --index 4 "OK   line 1: reserves 0000:01:00.0 (Display controller) for vfio-pci"
	assert_line --index 5 "WARN line 1: 0000:01:00.1 [8086:2668] stays with the host: it is in IOMMU group -1, 0000:01:00.0 in group 4"
}

@test "viability: an LPC bridge on lpc_ich makes the group unviable, unbound it does not" {
	real_host intel-lpc-group | sed 's/^00:1f.0 8086:a2c9 060100 10    -            /00:1f.0 8086:a2c9 060100 10    lpc_ich      /' | host
	config <<<'00:1f.3 8086:a2f0'
	run -0 vr check
	assert_line --index 4 "OK   line 1: reserves 0000:00:1f.3 (Audio device) for vfio-pci"
	assert_line --index 5 "WARN line 1: 0000:00:1f.2 [8086:a2a1] Memory controller stays with the host: it shares the device and group of 0000:00:1f.3 but is not part of the card (add 'siblings' to take it)"
	assert_line --index 6 "WARN line 1: 0000:00:1f.4 [8086:a2a3] SMBus stays with the host: it shares the device and group of 0000:00:1f.3 but is not part of the card (add 'siblings' to take it)"
	assert_line --index 7 "WARN group: 10: 0000:00:1f.0 [8086:a2c9] stays on lpc_ich: the group is not viable for passthrough"
	kernel_stop "$ROOT"
	rm -rf "$ROOT"
	real_host intel-lpc-group | host
	config <<<'00:1f.3 8086:a2f0 siblings'
	run -0 vr check
	assert_line --index 5 "OK   group: 10 is viable"
}

@test "viability: a sibling left by 'single' on i801_smbus blocks the group; a root port on pcieport does not" {
	real_host intel-lpc-group | host
	config <<<'00:1f.3 8086:a2f0 single'
	run -0 vr check
	assert_line --index 4 "OK   line 1: reserves 0000:00:1f.3 (Audio device) for vfio-pci"
	assert_line --index 5 "WARN group: 10: 0000:00:1f.4 [8086:a2a3] stays on i801_smbus: the group is not viable for passthrough"
	config <<<'01:00.0 10de:1d01'
	run -0 vr check
	assert_line --index 5 "OK   group: 2 is viable"
}

@test "status names what keeps a reserved group from vfio, and --json says so per function" {
	real_host intel-lpc-group | sed 's/^00:1f.0 8086:a2c9 060100 10    -            /00:1f.0 8086:a2c9 060100 10    lpc_ich      /' | host
	config <<<'00:1f.3 8086:a2f0 siblings'
	kernel_start "$ROOT"
	run -0 vr apply
	run -1 vr status
	assert_output "line 1: 00:1f.3 8086:a2f0 siblings
  0000:00:1f.2 [8086:a2a1] vfio-pci       reserved
  0000:00:1f.3 [8086:a2f0] vfio-pci       reserved
  0000:00:1f.4 [8086:a2a3] vfio-pci       reserved
  group 10 is not viable: 0000:00:1f.0 [8086:a2c9] is on lpc_ich
last boot: no report in $ROOT/run/vfio-reserve.report (No such file or directory)"
	run -1 vr status --json
	run -0 jq -c '[.rules[0].functions[] | [.iommu_group, .group_viable]], .not_reserved' <<<"$output"
	assert_output '[[10,false],[10,false],[10,false]]
3'
}

@test "an ID-only rule over two identical cards on a BMC-console server warns, naming both" {
	real_host bmc-two-t400 | sed -e 's/^17:00.\([01]\) \(.........\) \(......\) -  /17:00.\1 \2 \3 20 /' \
		-e 's/^65:00.\([01]\) \(.........\) \(......\) -  /65:00.\1 \2 \3 40 /' \
		-e 's/^03:00.0 1a03:2000 030000 -  /03:00.0 1a03:2000 030000 10 /' | host
	config <<<'10de:1ff2'
	run -0 vr check
	assert_output "OK   config: $CONF: 1 rule
OK   cpu: Intel VT-x (vmx)
OK   iommu: active, 3 groups
OK   driver: vfio-pci is loaded
OK   line 1: reserves 0000:17:00.0 (VGA compatible controller), 0000:17:00.1 (Audio device), 0000:65:00.0 (VGA compatible controller), 0000:65:00.1 (Audio device) for vfio-pci
WARN line 1: 10de:1ff2 matches 2 devices: 0000:17:00.0, 0000:65:00.0 (name one by address, path= or slot=)
OK   group: 20 is viable
OK   group: 40 is viable
OK   boot VGA: 0000:03:00.0 stays with the host
OK   display: the host keeps 1 display device
OK   cmdline: the running kernel has what 'vfio-reserve update' writes
OK   initramfs: initramfs-tools builds it, at every kernel upgrade and 'vfio-reserve update'
OK   ordering: the early hook (initramfs-tools conf.d)
OK   boot loader: GRUB ('vfio-reserve update' writes its configuration)
OK   trial: none pending; 'vfio-reserve update' puts the next change on trial"
}
