#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# apply --boot: the initramfs mode.  Messages go to /dev/kmsg, the kernel
# command line is honoured, and the exit status is always 0.

load test_helper


setup() {
	two_cards
	mkdir -p "$ROOT/dev"
	: >"$ROOT/dev/kmsg"
}

kmsg() {
	cat "$ROOT/dev/kmsg"
}

# A command line with what `update` writes, and the words given.
boot_with() {
	echo "BOOT_IMAGE=/boot/vmlinuz-6.1.0-test root=/dev/sda1 ro intel_iommu=on iommu=pt $*" >"$ROOT/proc/cmdline"
}

@test "--boot logs to /dev/kmsg, one record per line, with a timing line" {
	config <<<'01:00.0 1234:1111'
	run -0 --separate-stderr vr apply --boot
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	run -0 kmsg
	assert_line --index 0 "<6>vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
	assert_line --index 1 "<6>vfio-reserve: 0000:01:00.1 [8086:2668] -> vfio-pci (rule line 1)"
	assert_line --index 2 --regexp '^<6>vfio-reserve: done: 2 reserved, 0 already reserved, 0 failed in [0-9]+\.[0-9]{3} ms$'
	assert_equal "${#lines[@]}" 3
	assert_kernel_log "${CARD1_LOG[@]}"
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
}

# Every spelling of the kill switch: both names (the kernel takes - and _ in
# a parameter name alike), with and without dracut's rd., each value in any
# case, bare or quoted as the kernel allows.  The log names the argument
# without its quotes.
@test "the kill switch: every name, every off value in any case, quoted or not, reserves nothing and says so" {
	config <<<'01:00.0 1234:1111'
	kernel_start "$ROOT"
	for name in vfio_reserve vfio-reserve rd.vfio_reserve rd.vfio-reserve; do
		for value in off OFF Off 0 no NO false False; do
			for spelling in "$name=$value" "$name=\"$value\"" "\"$name=$value\""; do
				: >"$ROOT/dev/kmsg"
				boot_with quiet "$spelling" splash
				before=$(snapshot)
				run -0 --separate-stderr vr apply --boot
				assert_equal "$output$stderr" ""
				assert_equal "$(kmsg)" "<6>vfio-reserve: disabled by '$name=$value' on the kernel command line: nothing reserved" ||
					fail "$spelling"
				assert_equal "$(snapshot)" "$before"
			done
		done
	done
	assert_equal "$(kernel_log)" ""
}

@test "an unknown value of the kill switch is logged and taken as off" {
	config <<<'01:00.0 1234:1111'
	kernel_start "$ROOT"
	for spelling in vfio_reserve=of rd.vfio-reserve=disable 'vfio_reserve=""' vfio_reserve= vfio-reserve; do
		: >"$ROOT/dev/kmsg"
		boot_with "$spelling"
		before=$(snapshot)
		run -0 vr apply --boot
		arg=${spelling//\"/}
		assert_equal "$(kmsg)" "<4>vfio-reserve: unknown value in '$arg' on the kernel command line: taken as off
<6>vfio-reserve: disabled by '$arg' on the kernel command line: nothing reserved" || fail "$spelling"
		assert_equal "$(snapshot)" "$before"
	done
}

@test "names that only look like the kill switch, and a quoted value holding it, are not the switch" {
	config <<<'01:00.0 1234:1111'
	kernel_start "$ROOT"
	boot_with vfio_reserved=off vfio.reserve=off xvfio_reserve=off rd.rd.vfio_reserve=off 'acpi_osi="Linux vfio_reserve=off"'
	run -0 vr apply --boot
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
	run -0 kmsg
	refute_output --partial 'disabled'
	refute_output --partial 'unknown'
}

@test "the last kill switch on the command line wins, whatever its spelling" {
	config <<<'01:00.0 1234:1111'
	kernel_start "$ROOT"
	boot_with vfio_reserve=off rd.vfio-reserve=ON
	run -0 vr apply --boot
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
	for on in 1 yes True '"on"'; do
		: >"$ROOT/dev/kmsg"
		boot_with vfio-reserve=no "vfio_reserve=$on"
		run -0 vr apply --boot
		run -0 kmsg
		assert_line --index 0 "<6>vfio-reserve: 0000:01:00.0 [1234:1111] already on vfio-pci (rule line 1)" || fail "$on"
	done
	boot_with vfio_reserve=on rd.vfio_reserve=0
	: >"$ROOT/dev/kmsg"
	run -0 vr apply --boot
	assert_equal "$(kmsg)" "<6>vfio-reserve: disabled by 'rd.vfio_reserve=0' on the kernel command line: nothing reserved"
}

@test "dry-run in every spelling logs the plan only" {
	config <<<'01:00.0 1234:1111'
	kernel_start "$ROOT"
	for spelling in vfio_reserve=dry-run vfio-reserve=DRY-RUN rd.vfio_reserve=Dry_Run 'rd.vfio-reserve="dry-run"'; do
		: >"$ROOT/dev/kmsg"
		boot_with "$spelling"
		run -0 vr apply --boot
		assert_equal "$(kmsg)" "<6>vfio-reserve: dry-run: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1), unbinding bochs-drm
<6>vfio-reserve: dry-run: 0000:01:00.1 [8086:2668] -> vfio-pci (rule line 1), unbinding snd_hda_intel
<6>vfio-reserve: dry-run: 2 to reserve, 0 already reserved, nothing written" || fail "$spelling"
	done
	assert_equal "$(kernel_log)" ""
}

@test "a bad rule is logged and the good rules are still applied, exit 0" {
	config <<-'EOF'
	01:00.0 1234:1111 forse
	02:00.0 1234:1111
	EOF
	run -0 --separate-stderr vr apply --boot
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	run -0 kmsg
	assert_line --index 0 "<3>vfio-reserve: $CONF:1: unknown option 'forse'"
	assert_line --index 1 "<6>vfio-reserve: 0000:02:00.0 [1234:1111] -> vfio-pci (rule line 2)"
	assert_kernel_log "${CARD1_LOG[@]//01:00/02:00}"
	assert_equal "$(driver_of 0000:01:00.0)" bochs-drm
	assert_equal "$(driver_of 0000:02:00.0)" vfio-pci
}

@test "a mismatch is a kernel-log warning and the boot goes on" {
	config <<<'01:00.0 10de:2204'
	run -0 vr apply --boot
	run -0 kmsg
	assert_line --index 0 "<4>vfio-reserve: $CONF:1: 0000:01:00.0 is 1234:1111, not 10de:2204: nothing reserved (did the buses move?)"
	assert_kernel_log
}

@test "a failure to load vfio-pci still exits 0" {
	rm -rf "$ROOT/sys/bus/pci/drivers/vfio-pci"
	echo vfio-pci >"$ROOT/.missing-modules"
	config <<<'01:00.0 1234:1111'
	VFIO_RESERVE_MODPROBE=$(fake_modprobe_dir "$ROOT")/modprobe run -0 --separate-stderr vr apply --boot
	assert_equal "$output" ""
	assert_equal "$stderr" "modprobe: FATAL: Module vfio-pci not found."
	run -0 kmsg
	assert_line "<3>vfio-reserve: modprobe vfio-pci failed (exit status 1)"
	assert_line --regexp '^<6>vfio-reserve: done: 0 reserved, 0 already reserved, 2 failed in '
	assert_kernel_log "${CARD1_LOG[@]:0:2}" "modprobe --ignore-install vfio-pci"
	assert_equal "$(driver_of 0000:01:00.0)" bochs-drm
}

@test "no config, or only commented-out rules: nothing to do" {
	run -0 vr apply --boot
	assert_equal "$(kmsg)" "<6>vfio-reserve: $CONF: no active rule: nothing to reserve"
	: >"$ROOT/dev/kmsg"
	config <<<'# 01:00.0 1234:1111'
	run -0 vr apply --boot
	assert_equal "$(kmsg)" "<6>vfio-reserve: $CONF: no active rule: nothing to reserve"
	assert_kernel_log
}

@test "without a writable /dev/kmsg the messages go to stdout and stderr" {
	rm "$ROOT/dev/kmsg"
	config <<<'01:00.0 1234:1111'
	run -0 --separate-stderr vr apply --boot
	assert_equal "$stderr" ""
	assert_line --index 0 "vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
	assert_line --index 1 "vfio-reserve: 0000:01:00.1 [8086:2668] -> vfio-pci (rule line 1)"
	assert_line --index 2 --regexp '^vfio-reserve: done: 2 reserved, 0 already reserved, 0 failed in [0-9]+\.[0-9]{3} ms$'
	assert_equal "${#lines[@]}" 3
	assert_kernel_log "${CARD1_LOG[@]}"
}

@test "exit 0 without /dev/kmsg and with a stdout that cannot be written" {
	[ -w /dev/full ] || skip "no /dev/full"
	rm "$ROOT/dev/kmsg"
	config <<<'01:00.0 1234:1111'
	kernel_start "$ROOT"
	run -0 --separate-stderr bash -c '"$0" --root "$1" apply --boot >/dev/full' "$BIN" "$ROOT"
	assert_equal "$stderr" "vfio-reserve: write error: No space left on device"
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
}

@test "exit 0 with a config that is a FIFO, and with a bad --root" {
	mkdir -p "$ROOT/etc"
	mkfifo -m 0644 "$CONF"
	kernel_start "$ROOT"
	run -0 timeout 10 "$BIN" --root "$ROOT" apply --boot
	assert_equal "$(kmsg)" "<3>vfio-reserve: $CONF: not a regular file: refusing to use it
<6>vfio-reserve: $CONF: no active rule: nothing to reserve"
	assert_equal "$(kernel_log)" ""
	run -0 --separate-stderr "$BIN" --root "$ROOT/none" apply --boot
	assert_equal "$stderr" "vfio-reserve: --root: $ROOT/none: No such file or directory (see 'vfio-reserve --help')"
}

@test "more than 10 records all reach /dev/kmsg, in order (the kernel limits 10 per open file)" {
	local i want=()
	{
		echo '01:00.0 1234:1111'
		for i in 10 11 12 13 14 15 16 17 18 19 1a 1b; do
			echo "0000:$i:00.0 1234:1111"
		done
	} | config
	for i in 10 11 12 13 14 15 16 17 18 19 1a 1b; do
		want+=("<4>vfio-reserve: $CONF:$((0x$i - 14)): no device matches '0000:$i:00.0 1234:1111'")
	done
	want+=("<6>vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
		"<6>vfio-reserve: 0000:01:00.1 [8086:2668] -> vfio-pci (rule line 1)")
	kernel_start "$ROOT"
	run -0 --separate-stderr vr apply --boot
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	run -0 kmsg
	assert_equal "${#lines[@]}" 15
	assert_equal "$(printf '%s\n' "${lines[@]:0:14}")" "$(printf '%s\n' "${want[@]}")"
	assert_line --index 14 --regexp '^<6>vfio-reserve: done: 2 reserved, 0 already reserved, 0 failed in [0-9]+\.[0-9]{3} ms$'
}

# ---- the boot report (/run/vfio-reserve.report), read back by status ------

report() {
	cat "$ROOT/run/vfio-reserve.report"
}

@test "the boot report: every record of the boot, an error too, in /run; status shows it after the state, exit 0" {
	config <<-'EOF'
	01:00.0 1234:1111 forse
	02:00.0 1234:1111
	EOF
	run -0 vr apply --boot
	run -0 report
	assert_line --index 0 "vfio-reserve boot report 1"
	assert_line --index 1 "<3>$CONF:1: unknown option 'forse'"
	assert_line --index 2 "<6>0000:02:00.0 [1234:1111] -> vfio-pci (rule line 2)"
	assert_line --index 3 "<6>0000:02:00.1 [8086:2668] -> vfio-pci (rule line 2)"
	assert_line --index 4 --regexp '^<6>done: 2 reserved, 0 already reserved, 0 failed in [0-9]+\.[0-9]{3} ms$'
	assert_equal "${#lines[@]}" 5
	done_line=${lines[4]#<6>}
	# No temporary file left beside it.
	assert_equal "$(ls "$ROOT/run")" vfio-reserve.report
	config <<<'02:00.0 1234:1111'
	run -0 --separate-stderr vr status
	assert_equal "$stderr" ""
	assert_output "line 1: 02:00.0 1234:1111
  0000:02:00.0 [1234:1111] vfio-pci       reserved
  0000:02:00.1 [8086:2668] vfio-pci       reserved
last boot ($ROOT/run/vfio-reserve.report):
  error: $CONF:1: unknown option 'forse'
  0000:02:00.0 [1234:1111] -> vfio-pci (rule line 2)
  0000:02:00.1 [8086:2668] -> vfio-pci (rule line 2)
  $done_line"
	run -0 vr status --json
	run -0 jq -c '.not_reserved, .boot.report, .boot.kill_switch, (.boot.records[] | [.level, .message])' <<<"$output"
	assert_output "0
\"$ROOT/run/vfio-reserve.report\"
null
[\"error\",\"$CONF:1: unknown option 'forse'\"]
[\"info\",\"0000:02:00.0 [1234:1111] -> vfio-pci (rule line 2)\"]
[\"info\",\"0000:02:00.1 [8086:2668] -> vfio-pci (rule line 2)\"]
[\"info\",\"$done_line\"]"
}

@test "a boot with the kill switch: the report says so; status names the switch beside NOT RESERVED, exit 1" {
	config <<<'01:00.0 1234:1111'
	boot_with 'rd.vfio-reserve="OFF"'
	run -0 vr apply --boot
	assert_equal "$(report)" "vfio-reserve boot report 1
off rd.vfio-reserve=OFF
<6>disabled by 'rd.vfio-reserve=OFF' on the kernel command line: nothing reserved"
	run -1 vr status
	assert_output "line 1: 01:00.0 1234:1111
  0000:01:00.0 [1234:1111] bochs-drm      NOT RESERVED, wants vfio-pci
  0000:01:00.1 [8086:2668] snd_hda_intel  NOT RESERVED, wants vfio-pci
last boot: the kill switch 'rd.vfio-reserve=OFF' was on: it reserved nothing ($ROOT/run/vfio-reserve.report)
  disabled by 'rd.vfio-reserve=OFF' on the kernel command line: nothing reserved"
	run -1 vr status --json
	run -0 jq -c '.not_reserved, .boot.kill_switch, [.boot.records[].message]' <<<"$output"
	assert_output "2
\"rd.vfio-reserve=OFF\"
[\"disabled by 'rd.vfio-reserve=OFF' on the kernel command line: nothing reserved\"]"
	# An unknown value is off too, and its warning comes before the switch
	# in the log but after it in the report.
	boot_with vfio_reserve=of
	run -0 vr apply --boot
	assert_equal "$(report)" "vfio-reserve boot report 1
off vfio_reserve=of
<4>unknown value in 'vfio_reserve=of' on the kernel command line: taken as off
<6>disabled by 'vfio_reserve=of' on the kernel command line: nothing reserved"
}

@test "no /run, or one that is not a directory: one warning in the kernel log, the boot goes on" {
	config <<<'01:00.0 1234:1111'
	rmdir "$ROOT/run"
	run -0 --separate-stderr vr apply --boot
	assert_equal "$output$stderr" ""
	run -0 kmsg
	assert_line --index 3 "<4>vfio-reserve: cannot write the boot report $ROOT/run/vfio-reserve.report: No such file or directory"
	assert_equal "${#lines[@]}" 4
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
	: >"$ROOT/run"
	: >"$ROOT/dev/kmsg"
	run -0 vr apply --boot
	assert_equal "$(kmsg)" "<6>vfio-reserve: 0000:01:00.0 [1234:1111] already on vfio-pci (rule line 1)
<6>vfio-reserve: 0000:01:00.1 [8086:2668] already on vfio-pci (rule line 1)
<6>vfio-reserve: done: 0 reserved, 2 already reserved, 0 failed in $(kmsg | sed -n '3s/.* in //p')
<4>vfio-reserve: cannot write the boot report $ROOT/run/vfio-reserve.report: Not a directory"
	run -0 vr status
	assert_line "last boot: no report in $ROOT/run/vfio-reserve.report (Not a directory)"
	run -0 vr status --json
	run -0 jq -c .boot <<<"$output"
	assert_output null
}

@test "--unbound (modprobe's install command) writes a report only where there is none; the full run replaces it" {
	config <<<'01:00.0 1234:1111'
	run -0 vr apply --boot
	full=$(report)
	run -0 vr apply --boot --unbound
	run -0 vr apply --boot --unbound
	assert_equal "$(report)" "$full"
	rm "$ROOT/run/vfio-reserve.report"
	run -0 vr apply --boot --unbound
	run -0 report
	assert_line --index 0 "vfio-reserve boot report 1"
	assert_line --index 3 --regexp '^<6>done \(--unbound\): 0 reserved, 2 already reserved, 0 failed in '
	run -0 vr apply --boot
	run -0 report
	assert_line --index 1 "<6>0000:01:00.0 [1234:1111] already on vfio-pci (rule line 1)"
	assert_equal "$(ls "$ROOT/run")" vfio-reserve.report
}

@test "status without a boot report, or with a file that is none, says so; --json has boot null" {
	config <<<'01:00.0 1234:1111'
	run -1 vr status
	assert_line --index 3 "last boot: no report in $ROOT/run/vfio-reserve.report (No such file or directory)"
	echo 'something else' >"$ROOT/run/vfio-reserve.report"
	run -1 vr status
	assert_line --index 3 "last boot: no report in $ROOT/run/vfio-reserve.report (not a boot report)"
	assert_equal "${#lines[@]}" 4
	run -1 vr status --json
	run -0 jq -c .boot <<<"$output"
	assert_output null
}

@test "the boot report carries the kernel command line's missing arguments, as warnings" {
	config <<<'01:00.0 1234:1111'
	echo "BOOT_IMAGE=/boot/vmlinuz-6.1.0-test root=/dev/sda1 ro" >"$ROOT/proc/cmdline"
	run -0 vr apply --boot
	run -0 vr status
	assert_line --index 3 "last boot ($ROOT/run/vfio-reserve.report):"
	assert_line --index 4 "  warning: cmdline: the running kernel has no intel_iommu=on: run 'vfio-reserve update' and reboot"
	assert_line --index 5 "  warning: cmdline: the running kernel has no iommu=pt: run 'vfio-reserve update' and reboot"
	assert_line --index 6 "  0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
}

# The trial boot (vfio-reserve(8), TRIAL BOOT): the boot loader adds
# vfio_reserve=previous when a trial of the config went unconfirmed, and the
# boot reserves what `confirm` last kept instead of the config.
confirmed() {
	mkdir -p "$ROOT/var/lib/vfio-reserve"
	cat >"$ROOT/var/lib/vfio-reserve/confirmed.conf"
	chmod 0644 "$ROOT/var/lib/vfio-reserve/confirmed.conf"
}

@test "vfio_reserve=previous: the last confirmed config is reserved, not the new one; the log, the report and status say so" {
	config <<-'EOF'
	01:00.0 1234:1111
	02:00.0 1234:1111
	EOF
	confirmed <<<'01:00.0 1234:1111'
	boot_with quiet vfio_reserve=previous
	run -0 --separate-stderr vr apply --boot
	assert_equal "$output$stderr" ""
	run -0 kmsg
	assert_line --index 0 "<4>vfio-reserve: 'vfio_reserve=previous': the trial boot of a new reservation went unconfirmed: this boot reserves what was last confirmed ($ROOT/var/lib/vfio-reserve/confirmed.conf)"
	assert_line --index 1 "<6>vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
	assert_line --index 2 "<6>vfio-reserve: 0000:01:00.1 [8086:2668] -> vfio-pci (rule line 1)"
	assert_equal "${#lines[@]}" 4
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
	assert_equal "$(driver_of 0000:02:00.0)" bochs-drm
	run -1 vr status
	assert_line --index 4 "  0000:02:00.0 [1234:1111] bochs-drm      NOT RESERVED, wants vfio-pci"
	assert_line --index 7 "  warning: 'vfio_reserve=previous': the trial boot of a new reservation went unconfirmed: this boot reserves what was last confirmed ($ROOT/var/lib/vfio-reserve/confirmed.conf)"
}

@test "vfio_reserve=previous with nothing confirmed reserves nothing; the kill switch after it still wins, and on after it takes the config" {
	config <<<'01:00.0 1234:1111'
	kernel_start "$ROOT"
	boot_with vfio_reserve=previous
	before=$(snapshot)
	run -0 vr apply --boot
	assert_equal "$(kmsg)" "<4>vfio-reserve: 'vfio_reserve=previous': the trial boot of a new reservation went unconfirmed: this boot reserves what was last confirmed ($ROOT/var/lib/vfio-reserve/confirmed.conf)
<6>vfio-reserve: $ROOT/var/lib/vfio-reserve/confirmed.conf: no active rule: nothing to reserve"
	assert_equal "$(snapshot)" "$before"
	confirmed <<<'01:00.0 1234:1111'
	: >"$ROOT/dev/kmsg"
	boot_with vfio_reserve=previous rd.vfio-reserve=off
	before=$(snapshot)
	run -0 vr apply --boot
	assert_equal "$(kmsg)" "<6>vfio-reserve: disabled by 'rd.vfio-reserve=off' on the kernel command line: nothing reserved"
	assert_equal "$(snapshot)" "$before"
	boot_with vfio_reserve=previous vfio_reserve=on
	: >"$ROOT/dev/kmsg"
	config <<<'02:00.0 1234:1111'
	run -0 vr apply --boot
	assert_equal "$(driver_of 0000:02:00.0)" vfio-pci
	assert_equal "$(driver_of 0000:01:00.0)" bochs-drm
}

@test "vfio_reserve=previous: a confirmed record that differs from the hardware stops its rule, as the config's own does" {
	confirmed <<<'01:00.0 1234:1111'
	config <<<'01:00.0 1234:1111'
	run -0 vr -c "$ROOT/var/lib/vfio-reserve/confirmed.conf" fingerprint
	sed '/^0000:01:00.0 /s/ 1234:1111 / 10de:1aef /' <<<"$output" >"$ROOT/var/lib/vfio-reserve/confirmed.conf.fingerprint"
	boot_with vfio_reserve=previous
	run -0 vr apply --boot
	assert_equal "$(driver_of 0000:01:00.0)" bochs-drm
	run -0 grep -c 'was 10de:1aef' "$ROOT/dev/kmsg"
	# Without the switch the config's own record is read: none, no comparison.
	boot_with
	run -0 vr apply --boot
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
}
