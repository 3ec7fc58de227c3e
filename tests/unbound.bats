#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# apply --unbound, the modprobe path's binder (the install command for
# vfio_pci in /etc/modprobe.d/00-vfio-reserve.conf runs `apply --boot
# --unbound`): overrides for the selected functions that no driver holds,
# and nothing else; and modaliases, which update resolves to the modules
# that would bind the selected functions.

load test_helper

setup() {
	mkdir -p "$ROOT/dev"
	: >"$ROOT/dev/kmsg"
}

kmsg() {
	cat "$ROOT/dev/kmsg"
}

# Card 1 unbound (its drivers not loaded yet), card 2 on its native drivers,
# both selected.
card1_unbound() {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm     1 -
	00:02.0 1b36:000c 060400 2 pcieport      - -
	00:03.0 1b36:000c 060400 3 pcieport      - -
	01:00.0 1234:1111 038000 4 -             - 00:02.0 native=bochs-drm
	01:00.1 8086:2668 040300 4 -             - 00:02.0 native=snd_hda_intel
	02:00.0 1234:1111 038000 5 bochs-drm     - 00:03.0
	02:00.1 8086:2668 040300 5 snd_hda_intel - 00:03.0
	DESC
	config <<-'CONF'
	01:00.0 1234:1111
	02:00.0 1234:1111
	CONF
}

@test "--unbound writes the overrides of unbound functions only: no unbind, no probe, no modprobe" {
	card1_unbound
	VFIO_RESERVE_MODPROBE=$(fake_modprobe_dir "$ROOT")/modprobe run -0 --separate-stderr vr apply --boot --unbound
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	assert_kernel_log "${CARD1_LOG[@]:0:2}"
	run -0 kmsg
	assert_line --index 0 "<4>vfio-reserve: 0000:02:00.0 [1234:1111] is on bochs-drm: left there (--unbound)"
	assert_line --index 1 "<4>vfio-reserve: 0000:02:00.1 [8086:2668] is on snd_hda_intel: left there (--unbound)"
	assert_line --index 2 "<6>vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
	assert_line --index 3 "<6>vfio-reserve: 0000:01:00.1 [8086:2668] -> vfio-pci (rule line 1)"
	assert_line --index 4 --regexp '^<6>vfio-reserve: done \(--unbound\): 2 reserved, 0 already reserved, 0 failed in [0-9]+\.[0-9]{3} ms$'
	assert_equal "${#lines[@]}" 5
	# Card 1 waits for vfio-pci, card 2 stays where it is.
	assert_equal "$(driver_of 0000:01:00.0)" none
	assert_equal "$(override_of 0000:01:00.0)" vfio-pci
	assert_equal "$(override_of 0000:01:00.1)" vfio-pci
	assert_equal "$(driver_of 0000:02:00.0)" bochs-drm
	assert_equal "$(driver_of 0000:02:00.1)" snd_hda_intel
	assert_equal "$(override_of 0000:02:00.0)" ""
}

@test "--unbound: a native driver probing later finds the override; vfio-pci, once loaded, takes card 1" {
	card1_unbound
	run -0 vr apply --boot --unbound
	# As the kernel does when snd_hda_intel, then vfio-pci, registers.
	fixture_add_driver "$ROOT" snd_hda_intel
	"$BATS_TEST_DIRNAME/fake/fake-sysfs" "$ROOT" write "$P/drivers_probe" 0000:01:00.1
	assert_equal "$(driver_of 0000:01:00.1)" none
	fixture_add_driver "$ROOT" vfio-pci
	"$BATS_TEST_DIRNAME/fake/fake-sysfs" "$ROOT" write "$P/drivers_probe" 0000:01:00.1
	assert_equal "$(driver_of 0000:01:00.1)" vfio-pci
}

@test "--unbound: a function already on vfio-pci gets its override, counted as already reserved" {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm 1 -
	01:00.0 1234:1111 038000 3 vfio-pci  - - native=bochs-drm
	01:00.1 8086:2668 040300 3 -         - - native=snd_hda_intel
	DESC
	config <<<'01:00.0 1234:1111'
	run -0 --separate-stderr vr apply --boot --unbound
	assert_equal "$stderr" ""
	assert_kernel_log "${CARD1_LOG[@]:0:2}"
	run -0 kmsg
	assert_line --index 0 "<6>vfio-reserve: 0000:01:00.0 [1234:1111] already on vfio-pci (rule line 1)"
	assert_line --index 1 "<6>vfio-reserve: 0000:01:00.1 [8086:2668] -> vfio-pci (rule line 1)"
	assert_line --index 2 --regexp '^<6>vfio-reserve: done \(--unbound\): 1 reserved, 1 already reserved, 0 failed in '
	assert_equal "${#lines[@]}" 3
}

@test "--unbound honours the kill switch: nothing written, exit 0" {
	card1_unbound
	echo "BOOT_IMAGE=/boot/vmlinuz-6.1.0-test root=/dev/sda1 ro intel_iommu=on iommu=pt rd.vfio_reserve=0" >"$ROOT/proc/cmdline"
	run -0 --separate-stderr vr apply --boot --unbound
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	assert_kernel_log
	run -0 kmsg
	assert_output "<6>vfio-reserve: disabled by 'rd.vfio_reserve=0' on the kernel command line: nothing reserved"
	assert_equal "$(override_of 0000:01:00.0)" ""
}

@test "--unbound exit statuses: a refused override is exit 0 with --boot, exit 1 without" {
	card1_unbound
	fault fail "$P/devices/0000:01:00.1/driver_override" EACCES
	run -0 --separate-stderr vr apply --boot --unbound
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	run -0 kmsg
	assert_line "<3>vfio-reserve: cannot write 'vfio-pci' to $ROOT/$P/devices/0000:01:00.1/driver_override: Permission denied"
	assert_line --regexp '^<6>vfio-reserve: done \(--unbound\): 1 reserved, 0 already reserved, 1 failed in '
	assert_kernel_log "${CARD1_LOG[0]}" "${CARD1_LOG[1]} -> EACCES"

	rm "$ROOT/dev/kmsg"
	: >"$ROOT/kernel.log"
	run -1 --separate-stderr vr apply --unbound
	assert_equal "$output" "vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
	assert_equal "$stderr" "vfio-reserve: 0000:02:00.0 [1234:1111] is on bochs-drm: left there (--unbound)
vfio-reserve: 0000:02:00.1 [8086:2668] is on snd_hda_intel: left there (--unbound)
vfio-reserve: cannot write 'vfio-pci' to $ROOT/$P/devices/0000:01:00.1/driver_override: Permission denied"
	assert_kernel_log "${CARD1_LOG[1]} -> EACCES"
}

@test "--unbound --dry-run: the plan, nothing written" {
	card1_unbound
	run -0 --separate-stderr vr apply --unbound --dry-run
	assert_equal "$output" "vfio-reserve: dry-run: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)
vfio-reserve: dry-run: 0000:01:00.1 [8086:2668] -> vfio-pci (rule line 1)
vfio-reserve: dry-run: 2 to reserve, 0 already reserved, nothing written"
	assert_equal "$stderr" "vfio-reserve: 0000:02:00.0 [1234:1111] is on bochs-drm: left there (--unbound)
vfio-reserve: 0000:02:00.1 [8086:2668] is on snd_hda_intel: left there (--unbound)"
	assert_kernel_log
}

@test "--unbound belongs to apply: elsewhere it is a usage error, exit 2" {
	card1_unbound
	run -2 --separate-stderr vr status --unbound
	assert_equal "$stderr" "vfio-reserve: unexpected argument '--unbound' (see 'vfio-reserve --help')"
}

@test "modaliases: the selected functions' modaliases in address order; none without a rule" {
	card1_unbound
	run -0 --separate-stderr vr modaliases
	assert_equal "$stderr" ""
	assert_equal "$output" "pci:v00001234d00001111sv00001234sd00001111bc03sc80i00
pci:v00008086d00002668sv00008086sd00002668bc04sc03i00
pci:v00001234d00001111sv00001234sd00001111bc03sc80i00
pci:v00008086d00002668sv00008086sd00002668bc04sc03i00"
	config <<<'# 01:00.0 1234:1111'
	run -0 --separate-stderr vr modaliases
	assert_equal "$output" ""
	assert_equal "$stderr" ""
}

@test "modaliases: an unreadable modalias is an error naming the file, exit 1" {
	card1_unbound
	rm "$ROOT/sys/devices/pci0000:00/0000:00:03.0/0000:02:00.1/modalias"
	run -1 --separate-stderr vr modaliases
	assert_equal "$stderr" "vfio-reserve: $ROOT/sys/bus/pci/devices/0000:02:00.1/modalias: No such file or directory"
}
