#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# apply: selection by every selector and option, on identical cards, and what
# reaches sysfs: the override, the unbind and the probe request, in the order
# the binder wrote them.  The fake kernel (tests/fake/kernel.c) acts on each
# write before write() returns, as the PCI core does, so an override written
# late or a probe before the unbind shows in the log and in the driver links.
# Its faults (`fault`, see fixture_fault in tests/lib/fixture.bash) model what
# a live host does: a refused write, a function unplugged after the scan, a
# driver that binds asynchronously, a module that registers no driver.

load test_helper


CARD2_LOG=("${CARD1_LOG[@]//01:00/02:00}")
CARD1_OUT="vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)
vfio-reserve: 0000:01:00.1 [8086:2668] -> vfio-pci (rule line 1)"
CARD2_OUT=${CARD1_OUT//01:00/02:00}

@test "address+ID reserves card 1 and its audio function, card 2 stays" {
	two_cards
	config <<<'01:00.0 1234:1111'
	run -0 --separate-stderr vr apply
	assert_equal "$output" "$CARD1_OUT"
	assert_equal "$stderr" ""
	assert_kernel_log "${CARD1_LOG[@]}"
	assert_equal "$(override_of 0000:01:00.0)" vfio-pci
	assert_equal "$(override_of 0000:01:00.1)" vfio-pci
	assert_equal "$(override_of 0000:02:00.0)" ""
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
	assert_equal "$(driver_of 0000:01:00.1)" vfio-pci
	assert_equal "$(driver_of 0000:02:00.0)" bochs-drm
	assert_equal "$(driver_of 0000:02:00.1)" snd_hda_intel
	assert_equal "$(driver_of 0000:00:01.0)" bochs-drm
}

@test "a second apply finds everything in place and writes nothing" {
	two_cards
	config <<<'01:00.0 1234:1111'
	run -0 vr apply
	: >"$ROOT/kernel.log"
	run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:01:00.0 [1234:1111] already on vfio-pci (rule line 1)
vfio-reserve: 0000:01:00.1 [8086:2668] already on vfio-pci (rule line 1)"
	assert_equal "$stderr" ""
	assert_kernel_log
}

@test "a function already on vfio-pci gets the override only, not a reprobe" {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm 1 -
	01:00.0 1234:1111 038000 3 vfio-pci  - - native=bochs-drm
	01:00.1 8086:2668 040300 3 vfio-pci  - - native=snd_hda_intel
	DESC
	config <<<'01:00.0 1234:1111'
	run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:01:00.0 [1234:1111] already on vfio-pci (rule line 1)
vfio-reserve: 0000:01:00.1 [8086:2668] already on vfio-pci (rule line 1)"
	assert_equal "$stderr" ""
	# so that a later unbind and reprobe keeps it there
	assert_kernel_log "${CARD1_LOG[@]:0:2}"
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
}

@test "single reserves only the matched function" {
	two_cards
	config <<<'0000:02:00.0 1234:1111 single'
	run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:02:00.0 [1234:1111] -> vfio-pci (rule line 1)"
	assert_equal "$stderr" ""
	assert_kernel_log \
		"$P/devices/0000:02:00.0/driver_override vfio-pci" \
		"$P/drivers/bochs-drm/unbind 0000:02:00.0" \
		"$P/drivers_probe 0000:02:00.0"
	assert_equal "$(driver_of 0000:02:00.1)" snd_hda_intel
	assert_equal "$(override_of 0000:02:00.1)" ""
}

@test "an ID-only rule takes every identical card but never the boot VGA" {
	two_cards
	config <<<'1234:1111'
	run -0 --separate-stderr vr apply
	assert_equal "$output" "$CARD1_OUT
$CARD2_OUT"
	assert_equal "$stderr" ""
	assert_kernel_log "${CARD1_LOG[@]:0:2}" "${CARD2_LOG[@]:0:2}" \
		"${CARD1_LOG[@]:2:2}" "${CARD2_LOG[@]:2:2}" \
		"${CARD1_LOG[@]:4:2}" "${CARD2_LOG[@]:4:2}"
	assert_equal "$(driver_of 0000:00:01.0)" bochs-drm
	assert_equal "$(override_of 0000:00:01.0)" ""
}

@test "an address rule on the boot VGA is refused without force" {
	two_cards
	config <<<'00:01.0 1234:1111'
	run -0 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF:1: 0000:00:01.0 is the boot VGA device: not reserved (add 'force' to take it)"
	assert_equal "$output" ""
	assert_kernel_log
	assert_equal "$(override_of 0000:00:01.0)" ""
}

@test "force takes the boot VGA" {
	two_cards
	config <<<'00:01.0 1234:1111 force'
	run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:00:01.0 [1234:1111] -> vfio-pci (rule line 1)"
	assert_equal "$stderr" ""
	assert_kernel_log \
		"$P/devices/0000:00:01.0/driver_override vfio-pci" \
		"$P/drivers/bochs-drm/unbind 0000:00:01.0" \
		"$P/drivers_probe 0000:00:01.0"
	assert_equal "$(driver_of 0000:00:01.0)" vfio-pci
}

@test "three identical cards: the middle one by address" {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm     1 -
	00:02.0 1b36:000c 060400 2 pcieport      - -
	00:03.0 1b36:000c 060400 3 pcieport      - -
	00:04.0 1b36:000c 060400 4 pcieport      - -
	01:00.0 10de:2204 030000 5 nouveau       0 00:02.0
	01:00.1 10de:1aef 040300 5 snd_hda_intel - 00:02.0
	02:00.0 10de:2204 030000 6 nouveau       0 00:03.0
	02:00.1 10de:1aef 040300 6 snd_hda_intel - 00:03.0
	03:00.0 10de:2204 030000 7 nouveau       0 00:04.0
	03:00.1 10de:1aef 040300 7 snd_hda_intel - 00:04.0
	driver vfio-pci
	DESC
	config <<<'02:00.0 10de:2204'
	run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:02:00.0 [10de:2204] -> vfio-pci (rule line 1)
vfio-reserve: 0000:02:00.1 [10de:1aef] -> vfio-pci (rule line 1)"
	assert_equal "$stderr" ""
	assert_kernel_log "${CARD2_LOG[@]/bochs-drm/nouveau}"
	for a in 01:00.0 03:00.0; do assert_equal "$(driver_of 0000:$a)" nouveau; done
	for a in 01:00.1 03:00.1; do assert_equal "$(driver_of 0000:$a)" snd_hda_intel; done
}

@test "GPU, audio, USB and UCSI functions all come along; the bridge does not" {
	host <<-'DESC'
	00:01.0 8086:3e92 030000 0 i915          1 -
	00:01.1 8086:1901 060400 1 pcieport      - -
	01:00.0 10de:1e87 030000 2 nouveau       0 00:01.1
	01:00.1 10de:10f8 040300 2 snd_hda_intel - 00:01.1
	01:00.2 10de:1ad8 0c0330 2 xhci_hcd      - 00:01.1
	01:00.3 10de:1ad9 0c8000 2 nvidia-gpu    - 00:01.1
	driver vfio-pci
	DESC
	config <<<'01:00.0 10de:1e87'
	run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:01:00.0 [10de:1e87] -> vfio-pci (rule line 1)
vfio-reserve: 0000:01:00.1 [10de:10f8] -> vfio-pci (rule line 1)
vfio-reserve: 0000:01:00.2 [10de:1ad8] -> vfio-pci (rule line 1)
vfio-reserve: 0000:01:00.3 [10de:1ad9] -> vfio-pci (rule line 1)"
	assert_equal "$stderr" ""
	assert_kernel_log \
		"$P/devices/0000:01:00.0/driver_override vfio-pci" \
		"$P/devices/0000:01:00.1/driver_override vfio-pci" \
		"$P/devices/0000:01:00.2/driver_override vfio-pci" \
		"$P/devices/0000:01:00.3/driver_override vfio-pci" \
		"$P/drivers/nouveau/unbind 0000:01:00.0" \
		"$P/drivers/snd_hda_intel/unbind 0000:01:00.1" \
		"$P/drivers/xhci_hcd/unbind 0000:01:00.2" \
		"$P/drivers/nvidia-gpu/unbind 0000:01:00.3" \
		"$P/drivers_probe 0000:01:00.0" \
		"$P/drivers_probe 0000:01:00.1" \
		"$P/drivers_probe 0000:01:00.2" \
		"$P/drivers_probe 0000:01:00.3"
	for a in 01:00.0 01:00.1 01:00.2 01:00.3; do assert_equal "$(driver_of 0000:$a)" vfio-pci; done
	assert_equal "$(driver_of 0000:00:01.1)" pcieport
	assert_equal "$(driver_of 0000:00:01.0)" i915
}

@test "path= names the card below a root port" {
	two_cards
	config <<<'path=00:03.0/00.0'
	run -0 --separate-stderr vr apply
	assert_equal "$output" "$CARD2_OUT"
	assert_equal "$stderr" ""
	assert_kernel_log "${CARD2_LOG[@]}"
}

@test "path= follows the card when the buses are renumbered" {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm 1 -
	00:02.0 1b36:000c 060400 2 pcieport  - -
	00:03.0 1b36:000c 060400 3 pcieport  - -
	01:00.0 8086:10d3 020000 4 e1000e    - 00:02.0
	02:00.0 1234:1111 038000 5 bochs-drm - 00:03.0
	driver vfio-pci
	DESC
	config <<<'path=00:03.0/00.0 1234:1111'
	run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:02:00.0 [1234:1111] -> vfio-pci (rule line 1)"
	assert_equal "$stderr" ""
	assert_kernel_log \
		"$P/devices/0000:02:00.0/driver_override vfio-pci" \
		"$P/drivers/bochs-drm/unbind 0000:02:00.0" \
		"$P/drivers_probe 0000:02:00.0"
	assert_equal "$(driver_of 0000:01:00.0)" e1000e
}

@test "path= through a switch: root port, upstream and downstream ports" {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm 1 -
	00:1c.0 8086:a110 060400 2 pcieport  - -
	01:00.0 10b5:8747 060400 2 pcieport  - 00:1c.0
	02:08.0 10b5:8747 060400 2 pcieport  - 01:00.0
	02:10.0 10b5:8747 060400 2 pcieport  - 01:00.0
	03:00.0 10de:2204 030000 2 nouveau   0 02:08.0
	04:00.0 10de:2204 030000 2 nouveau   0 02:10.0
	driver vfio-pci
	DESC
	config <<<'path=00:1c.0/00.0/10.0/00.0 10de:2204'
	run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:04:00.0 [10de:2204] -> vfio-pci (rule line 1)"
	assert_equal "$stderr" ""
	assert_kernel_log \
		"$P/devices/0000:04:00.0/driver_override vfio-pci" \
		"$P/drivers/nouveau/unbind 0000:04:00.0" \
		"$P/drivers_probe 0000:04:00.0"
	assert_equal "$(driver_of 0000:03:00.0)" nouveau
}

@test "slot= names the physical slot" {
	two_cards
	mkdir -p "$ROOT/sys/bus/pci/slots/2"
	echo 0000:02:00 >"$ROOT/sys/bus/pci/slots/2/address"
	config <<<'slot=2 1234:1111'
	run -0 --separate-stderr vr apply
	assert_equal "$output" "$CARD2_OUT"
	assert_equal "$stderr" ""
	assert_kernel_log "${CARD2_LOG[@]}"
}

@test "address/ID mismatch: nothing reserved, a warning says what is there" {
	two_cards
	config <<<'01:00.0 10de:2204'
	before=$(snapshot)
	run -0 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF:1: 0000:01:00.0 is 1234:1111, not 10de:2204: nothing reserved (did the buses move?)"
	assert_equal "$output" ""
	assert_kernel_log
	assert_equal "$(snapshot)" "$before"
}

@test "a located device with the wrong ID is not taken even when its ID is elsewhere" {
	# An address and a path locate card 2's display; the rule's ID is the
	# audio function's, on the host but not where the rules point.
	two_cards
	config <<-'EOF'
	path=00:03.0/00.0 8086:2668
	02:00.0 8086:2668
	EOF
	run -0 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF:1: 0000:02:00.0 is 1234:1111, not 8086:2668: nothing reserved (did the buses move?)
vfio-reserve: $CONF:2: 0000:02:00.0 is 1234:1111, not 8086:2668: nothing reserved (did the buses move?)"
	assert_equal "$output" ""
	assert_kernel_log
}

@test "a rule that matches nothing warns; the other rules still apply" {
	two_cards
	config <<-'EOF'
	05:00.0 10de:2204
	02:00.0 1234:1111
	EOF
	run -0 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF:1: no device matches '05:00.0 10de:2204'"
	assert_equal "$output" "${CARD2_OUT//line 1/line 2}"
	assert_kernel_log "${CARD2_LOG[@]}"
}

@test "a rule naming a bridge reserves nothing" {
	two_cards
	config <<<'00:02.0'
	run -0 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF:1: 0000:00:02.0 is a bridge: not reserved"
	assert_equal "$output" ""
	assert_kernel_log
}

@test "driver=pci-stub, and the first rule wins over a later one" {
	two_cards
	config <<-'EOF'
	01:00.0 1234:1111 driver=pci-stub
	01:00.1 8086:2668
	EOF
	fixture_add_driver "$ROOT" pci-stub
	run -0 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF:2: 0000:01:00.1 is already taken by line 1 for pci-stub"
	assert_equal "$output" "${CARD1_OUT//vfio-pci/pci-stub}"
	assert_kernel_log "${CARD1_LOG[@]//vfio-pci/pci-stub}"
	assert_equal "$(override_of 0000:01:00.1)" pci-stub
	assert_equal "$(driver_of 0000:01:00.1)" pci-stub
}

@test "an unbound function is probed without an unbind" {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm 1 -
	00:02.0 1b36:000c 060400 2 pcieport  - -
	01:00.0 1234:1111 038000 3 -         - 00:02.0 native=bochs-drm
	driver vfio-pci
	DESC
	config <<<'01:00.0 1234:1111'
	run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
	assert_equal "$stderr" ""
	assert_kernel_log \
		"$P/devices/0000:01:00.0/driver_override vfio-pci" \
		"$P/drivers_probe 0000:01:00.0"
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
}

# modprobe_doing SNIPPET: prints the path of a modprobe that runs SNIPPET
# (bash, with ROOT set) and then loads like the fixture's: a way to change
# the host between the binder's scan and its unbind.
modprobe_doing() {
	local bin=$BATS_TEST_TMPDIR/bin
	mkdir -p "$bin"
	printf '#!/usr/bin/env bash\nROOT=%q\n%s\nexec %q "$@"\n' "$ROOT" "$1" \
		"$(fake_modprobe_dir "$ROOT")/modprobe" >"$bin/modprobe"
	chmod +x "$bin/modprobe"
	echo "$bin/modprobe"
}

# Card 1 on bochs-drm, vfio-pci not loaded yet, and a driver "other".
card_and_other() {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm 1 -
	00:02.0 1b36:000c 060400 2 pcieport  - -
	01:00.0 1234:1111 038000 3 bochs-drm - 00:02.0
	driver other
	DESC
	config <<<'01:00.0 1234:1111 single'
}

@test "a function another driver took since the scan is unbound from that driver" {
	card_and_other
	kernel_start "$ROOT"
	# While vfio-pci loads, card 1 moves from bochs-drm to "other".
	VFIO_RESERVE_MODPROBE=$(modprobe_doing '
		dev=$ROOT/sys/bus/pci/devices/0000:01:00.0 drivers=$ROOT/sys/bus/pci/drivers
		rm "$dev/driver" "$drivers/bochs-drm/0000:01:00.0"
		ln -s "$drivers/other" "$dev/driver"
		ln -s "$(realpath "$dev")" "$drivers/other/0000:01:00.0"') \
		run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
	assert_equal "$stderr" ""
	assert_kernel_log \
		"sys/bus/pci/devices/0000:01:00.0/driver_override vfio-pci" \
		"modprobe --ignore-install vfio-pci" \
		"sys/bus/pci/drivers/other/unbind 0000:01:00.0" \
		"sys/bus/pci/drivers_probe 0000:01:00.0"
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
}

@test "a function whose driver let go since the scan is probed, no error" {
	card_and_other
	kernel_start "$ROOT"
	VFIO_RESERVE_MODPROBE=$(modprobe_doing '
		rm "$ROOT/sys/bus/pci/devices/0000:01:00.0/driver" \
			"$ROOT/sys/bus/pci/drivers/bochs-drm/0000:01:00.0"') \
		run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
	assert_equal "$stderr" ""
	# The driver link is gone: the unbind file is not there (ENOENT).
	assert_kernel_log \
		"sys/bus/pci/devices/0000:01:00.0/driver_override vfio-pci" \
		"modprobe --ignore-install vfio-pci" \
		"sys/bus/pci/devices/0000:01:00.0/driver/unbind 0000:01:00.0 -> ENOENT" \
		"sys/bus/pci/drivers_probe 0000:01:00.0"
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
}

# strerror(EBUSY): musl and glibc (the sanitizer build) word it differently.
busy_text() {
	case $BIN in
	*-san) echo "Device or resource busy" ;;
	*) echo "Resource busy" ;;
	esac
}

@test "an unbind the kernel refuses is an error naming the file, exit 1" {
	two_cards
	fault fail "$P/devices/0000:01:00.1/driver/unbind" EBUSY
	config <<<'01:00.0 1234:1111'
	run -1 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
	assert_equal "$stderr" "vfio-reserve: cannot write '0000:01:00.1' to $ROOT/sys/bus/pci/devices/0000:01:00.1/driver/unbind: $(busy_text)"
	assert_equal "$(driver_of 0000:01:00.1)" snd_hda_intel
}

@test "vfio-pci not loaded yet: modprobe loads it once, before any unbind" {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm     1 -
	00:02.0 1b36:000c 060400 2 pcieport      - -
	01:00.0 1234:1111 038000 3 bochs-drm     - 00:02.0
	01:00.1 8086:2668 040300 3 snd_hda_intel - 00:02.0
	DESC
	config <<<'01:00.0 1234:1111'
	VFIO_RESERVE_MODPROBE=$(fake_modprobe_dir "$ROOT")/modprobe run -0 --separate-stderr vr apply
	assert_equal "$output" "$CARD1_OUT"
	assert_equal "$stderr" ""
	assert_kernel_log "${CARD1_LOG[@]:0:2}" "modprobe --ignore-install vfio-pci" "${CARD1_LOG[@]:2}"
}

@test "a target driver that cannot be loaded fails the functions, exit 1" {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm 1 -
	01:00.0 1234:1111 038000 3 bochs-drm - -
	DESC
	echo vfio-pci >"$ROOT/.missing-modules"
	config <<<'01:00.0 1234:1111'
	VFIO_RESERVE_MODPROBE=$(fake_modprobe_dir "$ROOT")/modprobe run -1 --separate-stderr vr apply
	assert_equal "$stderr" "modprobe: FATAL: Module vfio-pci not found.
vfio-reserve: modprobe vfio-pci failed (exit status 1)
vfio-reserve: 0000:01:00.0 [1234:1111]: target driver not available"
	assert_equal "$output" ""
	# The driver is loaded before anything is unbound: the card stays on
	# its native driver, and the override waits for vfio-pci to appear.
	assert_kernel_log "$P/devices/0000:01:00.0/driver_override vfio-pci" "modprobe --ignore-install vfio-pci"
	assert_equal "$(driver_of 0000:01:00.0)" bochs-drm
	assert_equal "$(override_of 0000:01:00.0)" vfio-pci
}

@test "a module that loads but registers no PCI driver fails the functions, exit 1" {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm 1 -
	01:00.0 1234:1111 038000 3 bochs-drm - -
	DESC
	fault no-driver vfio_pci
	config <<<'01:00.0 1234:1111'
	VFIO_RESERVE_MODPROBE=$(fake_modprobe_dir "$ROOT")/modprobe run -1 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: modprobe vfio-pci succeeded but no PCI driver 'vfio-pci' appeared
vfio-reserve: 0000:01:00.0 [1234:1111]: target driver not available"
	assert_equal "$output" ""
	assert_kernel_log "$P/devices/0000:01:00.0/driver_override vfio-pci" "modprobe --ignore-install vfio-pci"
	assert_equal "$(driver_of 0000:01:00.0)" bochs-drm
}

@test "under --root the host's modprobe is never run" {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm 1 -
	01:00.0 1234:1111 038000 3 bochs-drm - -
	DESC
	config <<<'01:00.0 1234:1111'
	PATH=$(fake_modprobe_dir "$ROOT"):$PATH run -1 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: vfio-pci is not loaded, and modprobe is not run under --root (set VFIO_RESERVE_MODPROBE)
vfio-reserve: 0000:01:00.0 [1234:1111]: target driver not available"
	assert_equal "$output" ""
	assert_kernel_log "$P/devices/0000:01:00.0/driver_override vfio-pci"
}

@test "the boot VGA card's other functions are protected too" {
	host <<-'DESC'
	00:01.0 8086:1901 060400 1 pcieport      - -
	00:01.1 8086:1905 060400 2 pcieport      - -
	01:00.0 10de:2204 030000 3 nouveau       1 00:01.0
	01:00.1 10de:1aef 040300 3 snd_hda_intel - 00:01.0
	02:00.0 10de:2204 030000 4 nouveau       0 00:01.1
	02:00.1 10de:1aef 040300 4 snd_hda_intel - 00:01.1
	driver vfio-pci
	DESC
	config <<<'10de:1aef'
	run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:02:00.0 [10de:2204] -> vfio-pci (rule line 1)
vfio-reserve: 0000:02:00.1 [10de:1aef] -> vfio-pci (rule line 1)"
	assert_equal "$stderr" ""
	assert_kernel_log "${CARD2_LOG[@]/bochs-drm/nouveau}"
	assert_equal "$(driver_of 0000:01:00.1)" snd_hda_intel
}

@test "dry-run prints the plan and writes nothing" {
	two_cards
	config <<<'01:00.0 1234:1111'
	before=$(snapshot)
	run -0 --separate-stderr vr apply --dry-run
	assert_equal "$output" "vfio-reserve: dry-run: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1), unbinding bochs-drm
vfio-reserve: dry-run: 0000:01:00.1 [8086:2668] -> vfio-pci (rule line 1), unbinding snd_hda_intel
vfio-reserve: dry-run: 2 to reserve, 0 already reserved, nothing written"
	assert_equal "$stderr" ""
	assert_equal "$(snapshot)" "$before"
	assert_kernel_log
}

@test "bind reserves one device now without a config" {
	two_cards
	run -0 --separate-stderr vr bind 02:00.0
	assert_equal "$output" "${CARD2_OUT//rule line 1/command line}"
	assert_equal "$stderr" ""
	assert_kernel_log "${CARD2_LOG[@]}"
	assert [ ! -e "$CONF" ]
}

@test "bind takes rule options, and refuses bad ones with exit 2" {
	two_cards
	run -2 --separate-stderr vr bind 02:00.0 drvier=pci-stub
	assert_equal "$stderr" "vfio-reserve: unknown option 'drvier'"
	assert_equal "$output" ""
	assert_kernel_log
	fixture_add_driver "$ROOT" pci-stub
	run -0 --separate-stderr vr bind 02:00.0 driver=pci-stub single
	assert_equal "$output" "vfio-reserve: 0000:02:00.0 [1234:1111] -> pci-stub (command line)"
	assert_equal "$stderr" ""
	assert_kernel_log \
		"$P/devices/0000:02:00.0/driver_override pci-stub" \
		"$P/drivers/bochs-drm/unbind 0000:02:00.0" \
		"$P/drivers_probe 0000:02:00.0"
}

@test "bind refuses the boot VGA and an absent device with exit 1" {
	two_cards
	run -1 --separate-stderr vr bind 00:01.0
	assert_equal "$stderr" "vfio-reserve: command line: 0000:00:01.0 is the boot VGA device: not reserved (add 'force' to take it)"
	assert_equal "$output" ""
	run -1 --separate-stderr vr bind 09:00.0
	assert_equal "$stderr" "vfio-reserve: command line: no device matches '09:00.0'"
	assert_equal "$output" ""
	assert_kernel_log
}

@test "release ADDR gives the card back to its native drivers" {
	two_cards
	config <<<'01:00.0 1234:1111'
	run -0 vr apply
	: >"$ROOT/kernel.log"
	run -0 --separate-stderr vr release 01:00.0
	assert_equal "$output" "vfio-reserve: 0000:01:00.0 [1234:1111] released from vfio-pci, now on bochs-drm
vfio-reserve: 0000:01:00.1 [8086:2668] released from vfio-pci, now on snd_hda_intel"
	assert_equal "$stderr" ""
	assert_kernel_log \
		"$P/devices/0000:01:00.0/driver_override " \
		"$P/drivers/vfio-pci/unbind 0000:01:00.0" \
		"$P/drivers_probe 0000:01:00.0" \
		"$P/devices/0000:01:00.1/driver_override " \
		"$P/drivers/vfio-pci/unbind 0000:01:00.1" \
		"$P/drivers_probe 0000:01:00.1"
	assert_equal "$(override_of 0000:01:00.0)" ""
	assert_equal "$(driver_of 0000:01:00.0)" bochs-drm
	assert_equal "$(driver_of 0000:01:00.1)" snd_hda_intel
}

@test "release all, and release of a device that is not reserved" {
	two_cards
	config <<<'1234:1111'
	run -0 vr apply
	run -0 --separate-stderr vr release all
	assert_equal "$output" "vfio-reserve: 0000:01:00.0 [1234:1111] released from vfio-pci, now on bochs-drm
vfio-reserve: 0000:01:00.1 [8086:2668] released from vfio-pci, now on snd_hda_intel
vfio-reserve: 0000:02:00.0 [1234:1111] released from vfio-pci, now on bochs-drm
vfio-reserve: 0000:02:00.1 [8086:2668] released from vfio-pci, now on snd_hda_intel"
	assert_equal "$stderr" ""
	for a in 01:00.0 02:00.0; do assert_equal "$(driver_of 0000:$a)" bochs-drm; done
	for a in 01:00.1 02:00.1; do assert_equal "$(driver_of 0000:$a)" snd_hda_intel; done
	: >"$ROOT/kernel.log"
	run -1 --separate-stderr vr release 00:01.0
	assert_equal "$stderr" "vfio-reserve: release: 0000:00:01.0 is not reserved (driver bochs-drm, no override)"
	assert_equal "$output" ""
	run -1 --separate-stderr vr release 07:00.0
	assert_equal "$stderr" "vfio-reserve: release: no PCI function 0000:07:00.0"
	assert_equal "$output" ""
	run -2 --separate-stderr vr release 7:0
	assert_equal "$stderr" "vfio-reserve: release: malformed PCI address '7:0'"
	assert_equal "$output" ""
	assert_kernel_log
}

# --- what a live host does to the writes ------------------------------------

@test "an override the kernel refuses (EACCES) leaves that function alone, exit 1" {
	two_cards
	fault fail "$P/devices/0000:01:00.1/driver_override" EACCES
	config <<<'01:00.0 1234:1111'
	run -1 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
	assert_equal "$stderr" "vfio-reserve: cannot write 'vfio-pci' to $ROOT/$P/devices/0000:01:00.1/driver_override: Permission denied"
	assert_kernel_log \
		"$P/devices/0000:01:00.0/driver_override vfio-pci" \
		"$P/devices/0000:01:00.1/driver_override vfio-pci -> EACCES" \
		"$P/drivers/bochs-drm/unbind 0000:01:00.0" \
		"$P/drivers_probe 0000:01:00.0"
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
	assert_equal "$(driver_of 0000:01:00.1)" snd_hda_intel
	assert_equal "$(override_of 0000:01:00.1)" ""
}

@test "a read-only sysfs (EROFS) fails every function and unbinds nothing, exit 1" {
	two_cards
	fault fail "$P/devices/0000:01:00.0/driver_override" EROFS
	fault fail "$P/devices/0000:01:00.1/driver_override" EROFS
	config <<<'01:00.0 1234:1111'
	run -1 --separate-stderr vr apply
	assert_equal "$output" ""
	assert_equal "$stderr" "vfio-reserve: cannot write 'vfio-pci' to $ROOT/$P/devices/0000:01:00.0/driver_override: Read-only file system
vfio-reserve: cannot write 'vfio-pci' to $ROOT/$P/devices/0000:01:00.1/driver_override: Read-only file system"
	assert_kernel_log \
		"$P/devices/0000:01:00.0/driver_override vfio-pci -> EROFS" \
		"$P/devices/0000:01:00.1/driver_override vfio-pci -> EROFS"
	assert_equal "$(driver_of 0000:01:00.0)" bochs-drm
	assert_equal "$(driver_of 0000:01:00.1)" snd_hda_intel
}

@test "a probe the kernel refuses (ENODEV) is reported, the sibling still moves, exit 1" {
	two_cards
	fault fail "$P/drivers_probe" ENODEV
	config <<<'01:00.0 1234:1111'
	run -1 --separate-stderr vr apply
	assert_equal "$output" ""
	assert_equal "$stderr" "vfio-reserve: cannot write '0000:01:00.0' to $ROOT/$P/drivers_probe: No such device
vfio-reserve: cannot write '0000:01:00.1' to $ROOT/$P/drivers_probe: No such device"
	assert_kernel_log "${CARD1_LOG[@]:0:4}" \
		"$P/drivers_probe 0000:01:00.0 -> ENODEV" \
		"$P/drivers_probe 0000:01:00.1 -> ENODEV"
	# unbound, and left so: nothing else may take them with the override set
	assert_equal "$(driver_of 0000:01:00.0)" none
	assert_equal "$(driver_of 0000:01:00.1)" none
}

@test "a function unplugged between the scan and the writes fails alone, exit 1" {
	two_cards
	fault vanish 0000:01:00.1
	config <<<'01:00.0 1234:1111'
	run -1 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
	assert_equal "$stderr" "vfio-reserve: cannot write 'vfio-pci' to $ROOT/$P/devices/0000:01:00.1/driver_override: No such file or directory"
	assert_kernel_log \
		"$P/devices/0000:01:00.0/driver_override vfio-pci" \
		"$P/devices/0000:01:00.1/driver_override vfio-pci -> ENOENT" \
		"$P/drivers/bochs-drm/unbind 0000:01:00.0" \
		"$P/drivers_probe 0000:01:00.0"
	assert_not_exist "$ROOT/$P/devices/0000:01:00.1"
	assert_not_exist "$ROOT/$P/drivers/snd_hda_intel/0000:01:00.1"
}

@test "a driver that binds asynchronously is waited for" {
	two_cards
	fault async vfio-pci 5
	config <<<'01:00.0 1234:1111'
	run -0 --separate-stderr vr apply
	assert_equal "$output" "$CARD1_OUT"
	assert_equal "$stderr" ""
	assert_kernel_log "${CARD1_LOG[@]}"
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
	assert_equal "$(driver_of 0000:01:00.1)" vfio-pci
}

@test "a driver that never binds fails the functions after the wait, exit 1" {
	two_cards
	fault async vfio-pci 1000000
	config <<<'01:00.0 1234:1111'
	run -1 --separate-stderr vr apply
	assert_equal "$output" ""
	assert_equal "$stderr" "vfio-reserve: 0000:01:00.0 [1234:1111]: not bound to vfio-pci after probe (driver: none)
vfio-reserve: 0000:01:00.1 [8086:2668]: not bound to vfio-pci after probe (driver: none)"
	assert_kernel_log "${CARD1_LOG[@]}"
}

@test "release: a function the kernel puts back on vfio-pci is not released, exit 1" {
	# As when a new_id of vfio-pci matches it: a probe binds vfio-pci again.
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm     1 -
	00:02.0 1b36:000c 060400 2 pcieport      - -
	01:00.0 1234:1111 038000 3 vfio-pci      - 00:02.0 native=vfio-pci
	01:00.1 8086:2668 040300 3 vfio-pci      - 00:02.0 native=snd_hda_intel
	driver snd_hda_intel
	DESC
	echo vfio-pci >"$ROOT/sys/bus/pci/devices/0000:01:00.0/driver_override"
	echo vfio-pci >"$ROOT/sys/bus/pci/devices/0000:01:00.1/driver_override"
	kernel_start "$ROOT"
	run -1 --separate-stderr vr release 01:00.0
	assert_equal "$output" "vfio-reserve: 0000:01:00.1 [8086:2668] released from vfio-pci, now on snd_hda_intel"
	assert_equal "$stderr" "vfio-reserve: 0000:01:00.0 [1234:1111]: still on vfio-pci after release"
	assert_equal "$(override_of 0000:01:00.0)" ""
	assert_equal "$(driver_of 0000:01:00.1)" snd_hda_intel
}

@test "release: a function no host driver takes is released and left unbound" {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm 1 -
	01:00.0 10de:2206 030000 3 vfio-pci  - - native=nouveau
	DESC
	echo vfio-pci >"$ROOT/sys/bus/pci/devices/0000:01:00.0/driver_override"
	kernel_start "$ROOT"
	run -0 --separate-stderr vr release all
	assert_equal "$output" "vfio-reserve: 0000:01:00.0 [10de:2206] released from vfio-pci, now unbound"
	assert_equal "$stderr" ""
	assert_equal "$(driver_of 0000:01:00.0)" none
}
