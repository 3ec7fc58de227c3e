#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# reset=METHOD: the rule's reset_method, written before the function's
# override (so before anything can bind it), read back; what `check` says of
# each function's methods; a method the function lacks refused by a person's
# command and only warned about at boot; a kernel without reset_method.  The
# fake kernel takes reset_method writes as reset_method_store does.

load test_helper

# Card 1: its display function lists only "bus" (function 0, probed before
# its audio was found), the audio none; 02:00.0 a lone NVMe behind its port.
reset_host() {
	host <<-'DESC'
	00:00.0 8086:29c0 060000 0 -             - -
	00:01.0 1234:1111 030000 1 bochs-drm     1 -
	00:02.0 1b36:000c 060400 2 pcieport      - -
	00:03.0 1b36:000c 060400 3 pcieport      - -
	01:00.0 1234:1111 038000 4 bochs-drm     - 00:02.0 reset=bus
	01:00.1 8086:2668 040300 4 snd_hda_intel - 00:02.0
	02:00.0 1b36:0010 010802 5 nvme          - 00:03.0 reset=flr,bus
	driver vfio-pci
	DESC
	mkdir -p "$ROOT/dev"
	: >"$ROOT/dev/kmsg"
}

NVME=sys/bus/pci/devices/0000:02:00.0

reset_method_of() {
	cat "$ROOT/$NVME/reset_method"
}

@test "reset=: a malformed or repeated one is an error naming file and line" {
	config <<-'EOF'
	01:00.0 reset=
	01:00.0 reset=flr/bus
	01:00.0 reset=flr reset=bus
	EOF
	before=$(snapshot)
	run -2 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF:1: malformed reset method ''
vfio-reserve: $CONF:2: malformed reset method 'flr/bus'
vfio-reserve: $CONF:3: duplicate option 'reset'"
	assert_equal "$(snapshot)" "$before"
}

@test "apply writes reset_method before the override, reads it back, then binds" {
	reset_host
	config <<<'02:00.0 1b36:0010 reset=bus'
	run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: $ROOT/$NVME/reset_method reads 'bus'
vfio-reserve: 0000:02:00.0 [1b36:0010] -> vfio-pci (rule line 1)"
	assert_equal "$stderr" ""
	assert_kernel_log \
		"$NVME/reset_method bus" \
		"$NVME/driver_override vfio-pci" \
		"$P/drivers/nvme/unbind 0000:02:00.0" \
		"$P/drivers_probe 0000:02:00.0"
	assert_equal "$(reset_method_of)" bus
	assert_equal "$(driver_of 0000:02:00.0)" vfio-pci
}

@test "bind takes reset= too; an order of several methods is the kernel's list" {
	reset_host
	run -0 --separate-stderr vr bind 0000:02:00.0 reset=flr
	assert_line --index 0 "vfio-reserve: $ROOT/$NVME/reset_method reads 'flr'"
	assert_equal "$(reset_method_of)" flr
	assert_equal "$(head -n 1 "$ROOT/kernel.log")" "$NVME/reset_method flr"
}

@test "a method the function lacks: apply names file and line and writes nothing" {
	reset_host
	config <<-'EOF'
	01:00.0 1234:1111
	02:00.0 1b36:0010 reset=pm
	EOF
	before=$(snapshot)
	run -1 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF:2: $ROOT/$NVME/reset_method: flr bus, reset=pm: not among them
vfio-reserve: nothing was changed"
	assert_equal "$output" ""
	assert_equal "$(snapshot)" "$before"
	assert_kernel_log
}

@test "--boot writes reset_method before vfio-pci binds, and logs the read-back first" {
	reset_host
	config <<<'02:00.0 1b36:0010 reset=bus'
	run -0 --separate-stderr vr apply --boot
	assert_equal "$output$stderr" ""
	run -0 cat "$ROOT/dev/kmsg"
	assert_line --index 0 "<6>vfio-reserve: $ROOT/$NVME/reset_method reads 'bus'"
	assert_line --index 1 "<6>vfio-reserve: 0000:02:00.0 [1b36:0010] -> vfio-pci (rule line 1)"
	assert_equal "$(head -n 1 "$ROOT/kernel.log")" "$NVME/reset_method bus"
	assert_equal "$(reset_method_of)" bus
}

@test "--boot with a method the function lacks warns with file and line and reserves it anyway" {
	reset_host
	config <<<'02:00.0 1b36:0010 reset=device_specific'
	run -0 --separate-stderr vr apply --boot
	run -0 cat "$ROOT/dev/kmsg"
	assert_line --index 0 "<4>vfio-reserve: $CONF:1: $ROOT/$NVME/reset_method: flr bus, reset=device_specific: not among them"
	assert_line --index 1 "<6>vfio-reserve: 0000:02:00.0 [1b36:0010] -> vfio-pci (rule line 1)"
	assert_equal "$(reset_method_of)" "flr bus"
	assert_equal "$(driver_of 0000:02:00.0)" vfio-pci
	refute grep -q reset_method "$ROOT/kernel.log"
}

@test "reset= is for the matched function: the card's audio, without a reset, is no error" {
	reset_host
	config <<<'01:00.0 1234:1111 reset=bus'
	run -0 --separate-stderr vr apply
	# a warning only: "bus" is the function's, but not its own
	assert_equal "$stderr" "vfio-reserve: $CONF:1: $ROOT/$P/devices/0000:01:00.0/reset_method: bus, reset=bus: no reset of its own ('bus' resets the functions beside it)"
	assert_kernel_log \
		"$P/devices/0000:01:00.0/reset_method bus" \
		"${CARD1_LOG[@]}"
}

@test "a later rule naming the audio another rule took along does not give it that rule's reset=" {
	reset_host
	config <<-'EOF'
	01:00.0 1234:1111 reset=bus
	01:00.1 8086:2668
	EOF
	run -0 --separate-stderr vr check
	refute_line --partial "0000:01:00.1/reset_method"
	run -0 --separate-stderr vr apply --dry-run
}

@test "a kernel without reset_method (older than 5.15): a warning, and the reservation goes on" {
	host <<-'DESC'
	00:00.0 8086:29c0 060000 0 -    - -
	00:03.0 1b36:000c 060400 3 pcieport - -
	02:00.0 1b36:0010 010802 5 nvme - 00:03.0 reset=-
	driver vfio-pci
	DESC
	config <<<'02:00.0 1b36:0010 reset=flr'
	run -0 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF:1: $ROOT/$NVME/reset_method: none, reset=flr (Linux older than 5.15): not set"
	assert_equal "$output" "vfio-reserve: 0000:02:00.0 [1b36:0010] -> vfio-pci (rule line 1)"
	assert_equal "$(driver_of 0000:02:00.0)" vfio-pci
	run -0 --separate-stderr vr check
	assert_line "WARN line 1: $ROOT/$NVME/reset_method: none, reset=flr (Linux older than 5.15): not set"
}

@test "check lists each taken function's methods, warns where only a shared bus reset is left, fails a lacking method" {
	reset_host
	config <<-'EOF'
	01:00.0 1234:1111
	02:00.0 1b36:0010 reset=acpi
	EOF
	run -1 --separate-stderr vr check
	assert_line "WARN line 1: $ROOT/$P/devices/0000:01:00.0/reset_method: bus: no reset of its own ('bus' resets the functions beside it)"
	refute_line --partial "0000:01:00.1/reset_method"
	assert_line "FAIL line 2: $ROOT/$NVME/reset_method: flr bus, reset=acpi: not among them"
	config <<<'02:00.0 1b36:0010 reset=flr'
	run -0 --separate-stderr vr check
	assert_line "OK   line 1: $ROOT/$NVME/reset_method: flr bus, reset=flr"
	assert_kernel_log
}
