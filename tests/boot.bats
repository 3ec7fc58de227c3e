#!/usr/bin/env bats
# apply --boot: the initramfs mode.  Messages go to /dev/kmsg, the kernel
# command line is honoured, and the exit status is always 0.

load test_helper

P=sys/bus/pci
# The writes that move card 1 of two_cards to vfio-pci, in the binder's order.
CARD1_LOG=(
	"$P/devices/0000:01:00.0/driver_override vfio-pci"
	"$P/devices/0000:01:00.1/driver_override vfio-pci"
	"$P/drivers/bochs-drm/unbind 0000:01:00.0"
	"$P/drivers/snd_hda_intel/unbind 0000:01:00.1"
	"$P/drivers_probe 0000:01:00.0"
	"$P/drivers_probe 0000:01:00.1"
)

setup() {
	two_cards
	mkdir -p "$ROOT/dev"
	: >"$ROOT/dev/kmsg"
}

kmsg() {
	cat "$ROOT/dev/kmsg"
}

boot_with() {
	echo "BOOT_IMAGE=/boot/vmlinuz-6.1.0-test root=/dev/sda1 ro $*" >"$ROOT/proc/cmdline"
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

@test "vfio_reserve=off, =0, =no and rd.vfio_reserve=0 reserve nothing and say so" {
	config <<<'01:00.0 1234:1111'
	for arg in vfio_reserve=off vfio_reserve=0 vfio_reserve=no rd.vfio_reserve=0; do
		: >"$ROOT/dev/kmsg"
		boot_with quiet "$arg"
		before=$(snapshot)
		run -0 vr apply --boot
		assert_equal "$(kmsg)" "<6>vfio-reserve: disabled by '$arg' on the kernel command line: nothing reserved"
		assert_equal "$(snapshot)" "$before"
		assert_kernel_log
	done
}

@test "the last vfio_reserve= on the command line wins" {
	config <<<'01:00.0 1234:1111'
	boot_with vfio_reserve=off vfio_reserve=on
	run -0 --separate-stderr vr apply --boot
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	assert_kernel_log "${CARD1_LOG[@]}"
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
}

@test "vfio_reserve=dry-run logs the plan only" {
	config <<<'01:00.0 1234:1111'
	boot_with vfio_reserve=dry-run
	run -0 vr apply --boot
	assert_equal "$(kmsg)" "<6>vfio-reserve: dry-run: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1), unbinding bochs-drm
<6>vfio-reserve: dry-run: 0000:01:00.1 [8086:2668] -> vfio-pci (rule line 1), unbinding snd_hda_intel
<6>vfio-reserve: dry-run: 2 to reserve, 0 already reserved, nothing written"
	assert_kernel_log
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
	assert_kernel_log "${CARD1_LOG[@]:0:2}" "modprobe vfio-pci"
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
