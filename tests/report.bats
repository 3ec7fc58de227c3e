#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# list, check, status, cmdline, modules, xml: exact text, and JSON that parses.

load test_helper

@test "list shows display devices and their sibling functions" {
	two_cards
	config <<<'01:00.0 1234:1111'
	run -0 vr list
	assert_output "ADDRESS       ID         SUBSYSTEM  CLASS  GROUP  DRIVER          OVERRIDE    BOOT  PATH                    SLOT  RULE  NAME
0000:00:01.0  1234:1111  1234:1111  0300       1  bochs-drm       -           yes   00:01.0                 -     -     -
    reset  none
0000:01:00.0  1234:1111  1234:1111  0380       4  bochs-drm       -           -     00:02.0/00.0            -     1     -
    reset  none
0000:01:00.1  8086:2668  8086:2668  0403       4  snd_hda_intel   -           -     00:02.0/00.1            -     1     -
    reset  none
0000:02:00.0  1234:1111  1234:1111  0380       5  bochs-drm       -           -     00:03.0/00.0            -     -     -
    reset  none
0000:02:00.1  8086:2668  8086:2668  0403       5  snd_hda_intel   -           -     00:03.0/00.1            -     -     -
    reset  none"
}

@test "list widens a column for a deep path or a long slot name, so the rest stays aligned" {
	host <<-'DESC'
	# a GPU behind two PCIe switches, in a slot with a long name
	00:01.0 1234:1111 030000 1 bochs-drm - -
	00:02.0 1b36:000c 060400 2 pcieport  - -
	01:00.0 10b5:8747 060400 2 pcieport  - 00:02.0
	02:08.0 10b5:8747 060400 2 pcieport  - 01:00.0
	03:00.0 10b5:8747 060400 2 pcieport  - 02:08.0
	04:10.0 10b5:8747 060400 2 pcieport  - 03:00.0
	05:00.0 10de:2204 030000 2 nouveau   - 04:10.0
	slot PCIe-x16-Slot-7 0000:05:00
	DESC
	run -0 vr list
	assert_output "ADDRESS       ID         SUBSYSTEM  CLASS  GROUP  DRIVER          OVERRIDE    BOOT  PATH                              SLOT             RULE  NAME
0000:00:01.0  1234:1111  1234:1111  0300       1  bochs-drm       -           -     00:01.0                           -                -     -
    reset  none
0000:05:00.0  10de:2204  10de:2204  0300       2  nouveau         -           -     00:02.0/00.0/08.0/00.0/10.0/00.0  PCIe-x16-Slot-7  -     -
    reset  none"
}

@test "list names devices from pci.ids when it is there" {
	two_cards
	mkdir -p "$ROOT/usr/share/hwdata"
	printf '# pci.ids\n1234  Technical Corp.\n\t1111  QEMU Virtual Video Controller\n8086  Intel Corporation\n\t2668  82801FB/FBM/FR/FW/FRW (ICH6 Family) High Definition Audio Controller\nC 03  Display controller\n' \
		>"$ROOT/usr/share/hwdata/pci.ids"
	run -0 vr list
	assert_line --index 1 --regexp ' Technical Corp\. QEMU Virtual Video Controller$'
	assert_line --index 3 --regexp ' Technical Corp\. QEMU Virtual Video Controller$'
	assert_line --index 5 --regexp ' Intel Corporation 82801FB/FBM/FR/FW/FRW \(ICH6 Family\) High Definition Audio Controller$'
}

@test "list --all --json parses and carries every field" {
	two_cards
	config <<<'01:00.0 1234:1111'
	vr list --all --json >"$BATS_TEST_TMPDIR/list.json"
	run -0 jq -r 'length' "$BATS_TEST_TMPDIR/list.json"
	assert_output 8
	run -0 jq -c '.[] | select(.address == "0000:01:00.1")' "$BATS_TEST_TMPDIR/list.json"
	assert_output '{"address":"0000:01:00.1","id":"8086:2668","subsystem_id":"8086:2668","class":"0403","name":"","iommu_group":4,"driver":"snd_hda_intel","driver_override":null,"boot_vga":false,"path":"00:02.0/00.1","slot":null,"rule_line":1,"target":"vfio-pci","host_use":null,"attached":{"block":[],"net":[],"usb":[]},"reset_methods":[],"reset_alone":false,"flr":null}'
	run -0 jq -r '.[] | select(.boot_vga) | .address' "$BATS_TEST_TMPDIR/list.json"
	assert_output 0000:00:01.0
}

@test "check on a good host and config" {
	two_cards
	config <<<'01:00.0 1234:1111'
	run -0 vr check
	assert_output "OK   config: $CONF: 1 rule
OK   cpu: Intel VT-x (vmx)
OK   iommu: active, 6 groups
OK   driver: vfio-pci is loaded
OK   line 1: reserves 0000:01:00.0 (Display controller), 0000:01:00.1 (Audio device) for vfio-pci
OK   group: 4 is viable
OK   boot VGA: 0000:00:01.0 stays with the host
OK   display: the host keeps 2 display devices
OK   cmdline: the running kernel has what 'vfio-reserve update' writes
OK   initramfs: initramfs-tools builds it, at every kernel upgrade and 'vfio-reserve update'
OK   ordering: the early hook (initramfs-tools conf.d)
OK   boot loader: GRUB ('vfio-reserve update' writes its configuration)
OK   trial: none pending; 'vfio-reserve update' puts the next change on trial"
}

@test "check fails without IOMMU, virtualization or a target driver" {
	host <<-'DESC'
	cpu none
	iommu none
	kernel 6.1.0-27-amd64
	module vfio
	00:01.0 1234:1111 030000 - bochs-drm 1 -
	01:00.0 1234:1111 038000 - bochs-drm - -
	DESC
	config <<<'01:00.0 1234:1111 driver=pci-stub'
	run -1 vr check
	assert_output "OK   config: $CONF: 1 rule
FAIL cpu: no vmx or svm flag: turn on virtualization (VT-x or AMD-V) in the firmware
FAIL iommu: not active: turn on VT-d in the firmware and boot with intel_iommu=on ('vfio-reserve update')
FAIL driver: pci-stub is neither loaded nor a module of kernel 6.1.0-27-amd64
OK   line 1: reserves 0000:01:00.0 (Display controller) for pci-stub
OK   boot VGA: 0000:00:01.0 stays with the host
OK   display: the host keeps 1 display device
OK   cmdline: the running kernel has what 'vfio-reserve update' writes
OK   initramfs: initramfs-tools builds it, at every kernel upgrade and 'vfio-reserve update'
OK   ordering: the early hook (initramfs-tools conf.d)
OK   boot loader: GRUB ('vfio-reserve update' writes its configuration)
OK   trial: none pending; 'vfio-reserve update' puts the next change on trial"
}

@test "check finds the target driver as a module or built in" {
	host <<-'DESC'
	kernel 6.1.0-27-amd64
	module vfio-pci
	builtin pci-stub
	00:01.0 1234:1111 030000 1 bochs-drm 1 -
	01:00.0 1234:1111 038000 2 bochs-drm - -
	02:00.0 1234:1111 038000 3 bochs-drm - -
	DESC
	config <<-'EOF'
	01:00.0 1234:1111
	02:00.0 1234:1111 driver=pci-stub
	EOF
	run -0 vr check
	assert_line "OK   driver: vfio-pci is a module of kernel 6.1.0-27-amd64"
	assert_line "OK   driver: pci-stub is built into kernel 6.1.0-27-amd64"
}

@test "check: mismatch, no device, address without ID, protected boot VGA" {
	two_cards
	config <<-'EOF'
	01:00.0 10de:2204
	07:00.0 1234:1111
	02:00.0
	00:01.0 1234:1111
	EOF
	run -1 vr check
	assert_output "OK   config: $CONF: 4 rules
WARN line 3: no ID check: whatever sits there is reserved
OK   cpu: Intel VT-x (vmx)
OK   iommu: active, 6 groups
OK   driver: vfio-pci is loaded
FAIL line 1: 0000:01:00.0 is 1234:1111, not 10de:2204: nothing reserved (did the buses move?)
FAIL line 2: no device matches '07:00.0 1234:1111'
OK   line 3: reserves 0000:02:00.0 (Display controller), 0000:02:00.1 (Audio device) for vfio-pci
WARN line 4: 0000:00:01.0 is the boot VGA device: not reserved (add 'force' to take it)
OK   group: 5 is viable
OK   boot VGA: 0000:00:01.0 stays with the host (protected from line 4)
OK   display: the host keeps 2 display devices
OK   cmdline: the running kernel has what 'vfio-reserve update' writes
OK   initramfs: initramfs-tools builds it, at every kernel upgrade and 'vfio-reserve update'
OK   ordering: the early hook (initramfs-tools conf.d)
OK   boot loader: GRUB ('vfio-reserve update' writes its configuration)
OK   trial: none pending; 'vfio-reserve update' puts the next change on trial"
}

@test "check -q prints only what needs attention; nothing on a good host" {
	two_cards
	config <<<'01:00.0 1234:1111'
	run -0 vr -q check
	assert_output ''
	config <<-'EOF'
	01:00.0 1234:1111
	02:00.0
	EOF
	run -0 vr -q check
	assert_output "WARN line 2: no ID check: whatever sits there is reserved"
}

@test "check: reserving every display device leaves the host without one" {
	two_cards
	config <<<'1234:1111 force'
	run -1 vr check
	assert_line "WARN boot VGA: 0000:00:01.0 is reserved (force): the host loses its console; 'vfio-reserve cmdline' adds initcall_blacklist=sysfb_init"
	assert_line "FAIL display: the host keeps no display device"
}

@test "check on a real X570 layout: the chipset group is not viable" {
	host <"$BATS_TEST_DIRNAME/fixtures/x570-two-nvidia.desc"
	config <<-'EOF'
	# RTX 3080 for the guest, by slot
	slot=2 10de:2206
	# a USB controller behind the chipset: shares group 12
	05:00.1 1022:149c
	EOF
	# Warnings do not fail the check: the user decides about the group.
	run -0 vr check
	assert_output "OK   config: $CONF: 2 rules
OK   cpu: AMD-V (svm)
OK   iommu: active, 16 groups
OK   driver: vfio-pci is loaded
OK   line 2: reserves 0000:0a:00.0 (VGA compatible controller), 0000:0a:00.1 (Audio device) for vfio-pci
OK   line 4: reserves 0000:05:00.1 (USB controller) for vfio-pci
WARN line 4: 0000:05:00.0 [1022:1485] Non-Essential Instrumentation stays with the host: it shares the device and group of 0000:05:00.1 but is not part of the card (add 'siblings' to take it)
WARN group: 12: 0000:04:00.0 [8086:1539] stays on igb: the group is not viable for passthrough
WARN group: 12: 0000:06:00.0 [1022:7901] stays on ahci: the group is not viable for passthrough
OK   group: 13 is viable
OK   boot VGA: 0000:0b:00.0 stays with the host
OK   display: the host keeps 1 display device
OK   cmdline: the running kernel has what 'vfio-reserve update' writes
OK   initramfs: initramfs-tools builds it, at every kernel upgrade and 'vfio-reserve update'
OK   ordering: the early hook (initramfs-tools conf.d)
OK   boot loader: GRUB ('vfio-reserve update' writes its configuration)
OK   trial: none pending; 'vfio-reserve update' puts the next change on trial"
}

@test "check says how the host boots: generator, ordering and boot loader, in text, -q and --json" {
	two_cards
	config <<<'01:00.0 1234:1111'
	# An Arch host: mkinitcpio's systemd hook with vfio-reserve (whose
	# runtime hook systemd never runs), no modprobe path, systemd-boot with
	# /etc/kernel/cmdline.
	rm -r "$ROOT/etc/kernel/postinst.d" "$ROOT/etc/default"
	mkdir -p "$ROOT/usr/share/libalpm/hooks" "$ROOT/usr/bin" "$ROOT/etc/kernel"
	printf 'HOOKS=(base vfio-reserve systemd autodetect kms)\n' >"$ROOT/etc/mkinitcpio.conf"
	: >"$ROOT/usr/share/libalpm/hooks/90-mkinitcpio-install.hook"
	: >"$ROOT/etc/kernel/cmdline"
	for program in mkinitcpio kernel-install; do
		: >"$ROOT/usr/bin/$program"
		chmod 0755 "$ROOT/usr/bin/$program"
	done
	run -0 vr check
	assert_line -n 9 "OK   initramfs: mkinitcpio builds it, at every kernel upgrade and 'vfio-reserve update'"
	assert_line -n 10 "WARN ordering: mkinitcpio: vfio-reserve in HOOKS=() (/etc/mkinitcpio.conf) never runs: with the systemd hook /init is systemd, which runs no runtime hook (use sd-vfio-reserve), and no modprobe path: nothing runs the binder before the native drivers; see vfio-reserve(8)"
	assert_line -n 11 "OK   boot loader: kernel-install ('vfio-reserve update' hands it the kernel arguments)"
	# No systemd-boot entries in this root: no trial, said.
	assert_line -n 12 "WARN trial: no trial boot: kernel-install has no loader/entries in /efi, /boot or /boot/efi; a change takes effect at every boot without one"
	[ "${#lines[@]}" = 13 ]
	run -0 vr -q check
	assert_output "WARN ordering: mkinitcpio: vfio-reserve in HOOKS=() (/etc/mkinitcpio.conf) never runs: with the systemd hook /init is systemd, which runs no runtime hook (use sd-vfio-reserve), and no modprobe path: nothing runs the binder before the native drivers; see vfio-reserve(8)
WARN trial: no trial boot: kernel-install has no loader/entries in /efi, /boot or /boot/efi; a change takes effect at every boot without one"
	run -0 vr check --json
	run -0 jq -c '.findings[] | select(.topic == "ordering" or .topic == "boot loader")' <<<"$output"
	assert_output '{"level":"WARN","topic":"ordering","message":"mkinitcpio: vfio-reserve in HOOKS=() (/etc/mkinitcpio.conf) never runs: with the systemd hook /init is systemd, which runs no runtime hook (use sd-vfio-reserve), and no modprobe path: nothing runs the binder before the native drivers; see vfio-reserve(8)"}
{"level":"OK","topic":"boot loader","message":"kernel-install ('"'"'vfio-reserve update'"'"' hands it the kernel arguments)"}'
}

@test "check --json parses and counts failures" {
	two_cards
	config <<<'07:00.0 1234:1111'
	run -1 vr check --json
	run -0 jq -r '.failed, (.findings[] | select(.level == "FAIL") | .message)' <<<"$output"
	assert_output "1
no device matches '07:00.0 1234:1111'"
}

# bats test_tags=fake-kernel
@test "status: each rule's devices and whether they are reserved" {
	two_cards
	config <<-'EOF'
	01:00.0 1234:1111
	03:00.0 1234:1111
	EOF
	run -1 vr status
	assert_output "line 1: 01:00.0 1234:1111
  0000:01:00.0 [1234:1111] bochs-drm      NOT RESERVED, wants vfio-pci
  0000:01:00.1 [8086:2668] snd_hda_intel  NOT RESERVED, wants vfio-pci
line 2: 03:00.0 1234:1111
  no device matches '03:00.0 1234:1111'
last boot: no report in $ROOT/run/vfio-reserve.report (No such file or directory)"
	assert_kernel_log
	run -0 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF:2: no device matches '03:00.0 1234:1111'"
	assert_kernel_log \
		"sys/bus/pci/devices/0000:01:00.0/driver_override vfio-pci" \
		"sys/bus/pci/devices/0000:01:00.1/driver_override vfio-pci" \
		"sys/bus/pci/drivers/bochs-drm/unbind 0000:01:00.0" \
		"sys/bus/pci/drivers/snd_hda_intel/unbind 0000:01:00.1" \
		"sys/bus/pci/drivers_probe 0000:01:00.0" \
		"sys/bus/pci/drivers_probe 0000:01:00.1"
	: >"$ROOT/kernel.log"
	run -0 vr status
	assert_output "line 1: 01:00.0 1234:1111
  0000:01:00.0 [1234:1111] vfio-pci       reserved
  0000:01:00.1 [8086:2668] vfio-pci       reserved
line 2: 03:00.0 1234:1111
  no device matches '03:00.0 1234:1111'
last boot: no report in $ROOT/run/vfio-reserve.report (No such file or directory)"
	run -0 vr status --json
	run -0 jq -c '.not_reserved, [.rules[] | .state], [.rules[0].functions[] | .reserved]' <<<"$output"
	assert_output '0
["matched","no-device"]
[true,true]'
	assert_kernel_log
}

@test "cmdline on Intel: IOMMU switch, passthrough mode, no ID shared with the host" {
	two_cards
	config <<<'01:00.0 1234:1111'
	run -0 vr cmdline
	assert_output "intel_iommu=on iommu=pt"
}

@test "cmdline never puts vfio-pci.ids= on the command line, even for an ID only the guest's card carries" {
	host <"$BATS_TEST_DIRNAME/fixtures/x570-two-nvidia.desc"
	config <<<'0a:00.0 10de:2206'
	run -0 vr cmdline
	assert_output "iommu=pt"
	run -0 vr cmdline --json
	run -0 jq -c . <<<"$output"
	assert_output '{"args":["iommu=pt"]}'
	# Every function of the ID reserved: still none, a card fitted later
	# would be taken by it, and vfio_reserve=off could not give it back.
	config <<<'10de:2206'
	run -0 vr cmdline
	assert_output "iommu=pt"
}

@test "cmdline: a reserved boot VGA keeps sysfb off it only where a kernel older than 6.0 is installed" {
	two_cards
	config <<<'00:01.0 1234:1111 force'
	# 6.1: vfio-pci removes the firmware framebuffer itself.
	run -0 vr cmdline
	assert_output "intel_iommu=on iommu=pt"
	mkdir -p "$ROOT/lib/modules/5.15.0-91-generic"
	run -0 vr cmdline
	assert_output "intel_iommu=on iommu=pt initcall_blacklist=sysfb_init"
	config <<<'01:00.0 1234:1111'
	run -0 vr cmdline
	assert_output "intel_iommu=on iommu=pt"
	config <<<'# 1234:1111 force'
	run -0 vr cmdline
	assert_output ""
}

@test "check compares the running command line: missing arguments, an IOMMU turned off, vfio-pci.ids taking an unreserved card" {
	host <<-'DESC'
	cmdline BOOT_IMAGE=/boot/vmlinuz-6.1.0-test root=/dev/sda1 ro quiet intel_iommu=off vfio_pci.ids=1234:1111,8086:2668
	00:01.0 1234:1111 030000 1 bochs-drm     1 -
	01:00.0 1234:1111 038000 4 bochs-drm     - -
	01:00.1 8086:2668 040300 4 snd_hda_intel - -
	02:00.0 1234:1111 038000 5 bochs-drm     - -
	02:00.1 8086:2668 040300 5 snd_hda_intel - -
	driver vfio-pci
	DESC
	config <<<'01:00.0 1234:1111'
	run -1 vr check
	assert_output --partial "OK   display: the host keeps 2 display devices
FAIL cmdline: intel_iommu=off turns the IOMMU off: vfio cannot work (your value; 'vfio-reserve update' leaves it)
WARN cmdline: the running kernel has no iommu=pt: run 'vfio-reserve update' and reboot
WARN cmdline: vfio-pci.ids=1234:1111,8086:2668 takes 0000:00:01.0 [1234:1111], which no rule reserves: run 'vfio-reserve update', or take the ID out where it was set
WARN cmdline: vfio-pci.ids=1234:1111,8086:2668 takes 0000:02:00.0 [1234:1111], which no rule reserves: run 'vfio-reserve update', or take the ID out where it was set
WARN cmdline: vfio-pci.ids=1234:1111,8086:2668 takes 0000:02:00.1 [8086:2668], which no rule reserves: run 'vfio-reserve update', or take the ID out where it was set"
	refute_output --partial "takes 0000:01:00"
}

@test "the command line is read as the kernel keeps it: the last of a parameter given twice wins, in - and _ spellings alike" {
	host <<-'DESC'
	cmdline BOOT_IMAGE=/boot/vmlinuz-6.1.0-test root=/dev/sda1 ro intel_iommu=off iommu=pt intel-iommu=on vfio_pci.ids=1234:1111 vfio-pci.ids=8086:2668
	00:01.0 1234:1111 030000 1 bochs-drm     1 -
	01:00.0 1234:1111 038000 4 bochs-drm     - -
	01:00.1 8086:2668 040300 4 snd_hda_intel - -
	02:00.0 1234:1111 038000 5 bochs-drm     - -
	02:00.1 8086:2668 040300 5 snd_hda_intel - -
	driver vfio-pci
	DESC
	config <<<'01:00.0 1234:1111'
	run -0 vr check
	refute_output --partial "turns the IOMMU off"
	refute_output --partial "takes 0000:00:01.0"
	assert_line "WARN cmdline: vfio-pci.ids=8086:2668 takes 0000:02:00.1 [8086:2668], which no rule reserves: run 'vfio-reserve update', or take the ID out where it was set"
	printf 'BOOT_IMAGE=/boot/vmlinuz ro intel_iommu=on iommu=pt intel_iommu=off\n' >"$ROOT/proc/cmdline"
	run -1 vr check
	assert_line "FAIL cmdline: intel_iommu=off turns the IOMMU off: vfio cannot work (your value; 'vfio-reserve update' leaves it)"
}

# bats test_tags=fake-kernel
@test "check: a command line with what update writes is OK; the boot log reports drift too" {
	host <<-'DESC'
	cmdline BOOT_IMAGE=/boot/vmlinuz-6.1.0-test root=/dev/sda1 ro "quiet" intel_iommu=on,sm_on iommu=pt
	00:01.0 1234:1111 030000 1 bochs-drm     1 -
	01:00.0 1234:1111 038000 4 bochs-drm     - -
	02:00.0 1234:1111 038000 5 bochs-drm     - -
	driver vfio-pci
	DESC
	config <<<'01:00.0 1234:1111'
	run -0 vr check
	assert_line --index 8 "OK   cmdline: the running kernel has what 'vfio-reserve update' writes"
	printf 'BOOT_IMAGE=/boot/vmlinuz ro vfio-pci.ids="1234:1111"\n' >"$ROOT/proc/cmdline"
	mkdir -p "$ROOT/dev"
	: >"$ROOT/dev/kmsg"
	kernel_start "$ROOT"
	run -0 vr apply --boot
	run -0 cat "$ROOT/dev/kmsg"
	assert_line --index 0 "<4>vfio-reserve: cmdline: the running kernel has no intel_iommu=on: run 'vfio-reserve update' and reboot"
	assert_line --index 1 "<4>vfio-reserve: cmdline: the running kernel has no iommu=pt: run 'vfio-reserve update' and reboot"
	assert_line --index 2 "<4>vfio-reserve: cmdline: vfio-pci.ids=1234:1111 takes 0000:00:01.0 [1234:1111], which no rule reserves: run 'vfio-reserve update', or take the ID out where it was set"
	assert_line --index 3 "<4>vfio-reserve: cmdline: vfio-pci.ids=1234:1111 takes 0000:02:00.0 [1234:1111], which no rule reserves: run 'vfio-reserve update', or take the ID out where it was set"
	assert_line --index 4 "<6>vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
}

@test "modules: what the image needs for the active rules" {
	two_cards
	run -0 vr modules
	assert_output ""
	config <<-'EOF'
	01:00.0 1234:1111
	02:00.0 1234:1111 driver=pci-stub
	#03:00.0 driver=vfio-pci
	EOF
	run -0 vr modules
	assert_output "vfio-pci
vfio_iommu_type1
pci-stub"
}

@test "list still lists with a broken config, and exits 2" {
	two_cards
	config <<<'01:00.0 forse'
	run -2 --separate-stderr vr list
	assert_equal "$stderr" "vfio-reserve: $CONF:1: unknown option 'forse'"
	assert_equal "${#lines[@]}" 11
}

@test "check --config-only --json" {
	two_cards
	config <<<'path=00:02.0/00.0'
	run -0 vr check --config-only --json
	run -0 jq -c . <<<"$output"
	assert_output '{"findings":[{"level":"OK","topic":"config","message":"'"$CONF"': 1 rule"},{"level":"WARN","topic":"line 1","message":"no ID check: whatever sits there is reserved"}],"failed":0}'
}

@test "xml prints a hostdev element for each function reserved together, one multifunction device in the guest" {
	two_cards
	run -0 vr xml 02:00.1
	assert_output "<hostdev mode='subsystem' type='pci' managed='no'>
  <source>
    <address domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>
  </source>
  <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0' multifunction='on'/>
</hostdev>
<hostdev mode='subsystem' type='pci' managed='no'>
  <source>
    <address domain='0x0000' bus='0x02' slot='0x00' function='0x1'/>
  </source>
  <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x1'/>
</hostdev>"
	run -1 --separate-stderr vr xml 09:00.0
	assert_equal "$stderr" "vfio-reserve: xml: no PCI function 0000:09:00.0"
}

@test "usage: --help, --version, unknown command or flag, missing argument" {
	two_cards
	run -0 "$BIN" --help
	assert_line --index 0 "usage: vfio-reserve [-c FILE] [--root DIR] [-q|-v] COMMAND [ARGS]"
	run -0 "$BIN" --version
	assert_output --regexp '^vfio-reserve [0-9]+\.[0-9]+\.[0-9]+$'
	run -2 --separate-stderr vr frobnicate
	assert_equal "$stderr" "vfio-reserve: unknown command 'frobnicate' (see 'vfio-reserve --help')"
	run -2 --separate-stderr vr list --dry-run
	assert_equal "$stderr" "vfio-reserve: unexpected argument '--dry-run' (see 'vfio-reserve --help')"
	run -2 --separate-stderr vr release
	assert_equal "$stderr" "vfio-reserve: release takes one address (see 'vfio-reserve --help')"
	run -2 --separate-stderr "$BIN" -c
	assert_equal "$stderr" "vfio-reserve: -c needs an argument (see 'vfio-reserve --help')"
	run -2 "$BIN"
}

@test "VFIO_RESERVE_ROOT works like --root" {
	two_cards
	VFIO_RESERVE_ROOT=$ROOT run -0 "$BIN" cmdline
	assert_output ""
}

@test "--root and VFIO_RESERVE_ROOT must name a directory; empty is refused, not the live system" {
	two_cards
	: >"$BATS_TEST_TMPDIR/file"
	run -2 --separate-stderr "$BIN" --root '' list
	assert_equal "$stderr" "vfio-reserve: --root: empty path (see 'vfio-reserve --help')"
	assert_equal "$output" ""
	run -2 --separate-stderr "$BIN" --root "$BATS_TEST_TMPDIR/none" list
	assert_equal "$stderr" "vfio-reserve: --root: $BATS_TEST_TMPDIR/none: No such file or directory (see 'vfio-reserve --help')"
	run -2 --separate-stderr "$BIN" --root "$BATS_TEST_TMPDIR/file" list
	assert_equal "$stderr" "vfio-reserve: --root: $BATS_TEST_TMPDIR/file: not a directory (see 'vfio-reserve --help')"
	VFIO_RESERVE_ROOT='' run -2 --separate-stderr "$BIN" list
	assert_equal "$stderr" "vfio-reserve: VFIO_RESERVE_ROOT: empty path (see 'vfio-reserve --help')"
	# --root wins over the variable, as before.
	VFIO_RESERVE_ROOT='' run -0 "$BIN" --root "$ROOT/" cmdline
	assert_output ""
}

@test "a write error on stdout is an error, not exit 0" {
	two_cards
	[ -w /dev/full ] || skip "no /dev/full"
	run -1 --separate-stderr bash -c '"$0" --root "$1" list >/dev/full' "$BIN" "$ROOT"
	assert_equal "$stderr" "vfio-reserve: write error: No space left on device"
}

# A minimal libvirt domain around what `xml` prints.
xml_domain() {
	printf "<domain type='kvm'>\n  <name>guest</name>\n  <memory unit='MiB'>1024</memory>\n  <os><type arch='x86_64' machine='q35'>hvm</type></os>\n  <devices>\n"
	cat
	printf "  </devices>\n</domain>\n"
}

@test "xml: libvirt's own schema accepts the elements; a GPU with its HDMI audio is one multifunction device" {
	host <"$BATS_TEST_DIRNAME/fixtures/x570-two-nvidia.desc"
	run -0 vr xml 0a:00.1
	assert_equal "$(grep -c '<hostdev ' <<<"$output")" 2
	assert_line --index 4 "  <address type='pci' domain='0x0000' bus='0x0a' slot='0x00' function='0x0' multifunction='on'/>"
	assert_line --index 10 "  <address type='pci' domain='0x0000' bus='0x0a' slot='0x00' function='0x1'/>"
	xml_domain <<<"$output" >"$BATS_TEST_TMPDIR/domain.xml"
	run -0 virt-xml-validate "$BATS_TEST_TMPDIR/domain.xml" domain
	# The validator is not a rubber stamp: a function number out of range fails.
	sed "s/function='0x1'/function='0x9'/" "$BATS_TEST_TMPDIR/domain.xml" >"$BATS_TEST_TMPDIR/bad.xml"
	run -3 virt-xml-validate "$BATS_TEST_TMPDIR/bad.xml" domain
}

@test "xml: an APU's iGPU alone in its group is one plain hostdev; a bridge is refused" {
	sed -e 's/^07:00.1 1002:1637 040300 12/07:00.1 1002:1637 040300 13/' \
		"$BATS_TEST_DIRNAME/fixtures/real/ryzen-apu.desc" | host
	run -0 vr xml 07:00.0
	assert_output "<hostdev mode='subsystem' type='pci' managed='no'>
  <source>
    <address domain='0x0000' bus='0x07' slot='0x00' function='0x0'/>
  </source>
  <address type='pci' domain='0x0000' bus='0x07' slot='0x00' function='0x0'/>
</hostdev>"
	xml_domain <<<"$output" >"$BATS_TEST_TMPDIR/domain.xml"
	run -0 virt-xml-validate "$BATS_TEST_TMPDIR/domain.xml" domain
	run -1 --separate-stderr vr xml 00:08.1
	assert_equal "$stderr" "vfio-reserve: xml: 0000:00:08.1 is a bridge"
}

@test "--json is valid JSON when slot and pci.ids names hold bytes that are not UTF-8" {
	two_cards
	mkdir -p "$ROOT/usr/share/hwdata" "$ROOT/sys/bus/pci/slots/s"$'\xff'"1"
	echo 0000:01:00 >"$ROOT/sys/bus/pci/slots/s"$'\xff'"1/address"
	# Latin-1 é, a lone continuation byte, an overlong '/', a surrogate, then
	# well-formed UTF-8 of two, three and four bytes that must stay as is.
	printf '1234  Caf\xe9 \x80 \xc0\xaf \xed\xa0\x80 Corp.\n\t1111  Vid\xc3\xa9o \xe2\x9c\x93 \xf0\x9d\x84\x9e\n' \
		>"$ROOT/usr/share/hwdata/pci.ids"
	vr list --all --json >"$BATS_TEST_TMPDIR/list.json"
	run -0 jq -r '.[] | select(.address == "0000:01:00.0") | .name, .slot' "$BATS_TEST_TMPDIR/list.json"
	assert_equal "${lines[0]}" "Caf� � �� ��� Corp. Vidéo ✓ 𝄞"
	assert_equal "${lines[1]}" "s�1"
	run -0 iconv -f UTF-8 -t UTF-8 "$BATS_TEST_TMPDIR/list.json"
}
