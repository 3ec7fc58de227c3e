#!/usr/bin/env bats
# apply: selection by every selector and option, on identical cards, and what
# reaches sysfs: the override, the unbind and the probe request.

load test_helper

# The kernel log sorted: writes to different sysfs files are served by
# different readers, so only the order within one file is meaningful.
assert_kernel_log() {
	assert_equal "$(kernel_log | sort)" "$(printf '%s\n' "$@" | sort)"
}

@test "address+ID reserves card 1 and its audio function, card 2 stays" {
	two_cards
	config <<<'01:00.0 1234:1111'
	kernel_start "$ROOT"
	run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)
vfio-reserve: 0000:01:00.1 [8086:2668] -> vfio-pci (rule line 1)"
	assert_equal "$stderr" ""
	assert_kernel_log \
		"sys/bus/pci/drivers/bochs-drm/unbind 0000:01:00.0" \
		"sys/bus/pci/drivers/snd_hda_intel/unbind 0000:01:00.1" \
		"sys/bus/pci/drivers_probe 0000:01:00.0" \
		"sys/bus/pci/drivers_probe 0000:01:00.1"
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
	kernel_start "$ROOT"
	run -0 vr apply
	: >"$ROOT/kernel.log"
	run -0 vr apply
	assert_output "vfio-reserve: 0000:01:00.0 [1234:1111] already on vfio-pci (rule line 1)
vfio-reserve: 0000:01:00.1 [8086:2668] already on vfio-pci (rule line 1)"
	assert_equal "$(kernel_log)" ""
}

@test "single reserves only the matched function" {
	two_cards
	config <<<'0000:02:00.0 1234:1111 single'
	kernel_start "$ROOT"
	run -0 vr apply
	assert_output "vfio-reserve: 0000:02:00.0 [1234:1111] -> vfio-pci (rule line 1)"
	assert_equal "$(driver_of 0000:02:00.1)" snd_hda_intel
	assert_equal "$(override_of 0000:02:00.1)" ""
}

@test "an ID-only rule takes every identical card but never the boot VGA" {
	two_cards
	config <<<'1234:1111'
	kernel_start "$ROOT"
	run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)
vfio-reserve: 0000:01:00.1 [8086:2668] -> vfio-pci (rule line 1)
vfio-reserve: 0000:02:00.0 [1234:1111] -> vfio-pci (rule line 1)
vfio-reserve: 0000:02:00.1 [8086:2668] -> vfio-pci (rule line 1)"
	assert_equal "$stderr" ""
	assert_equal "$(driver_of 0000:00:01.0)" bochs-drm
	assert_equal "$(override_of 0000:00:01.0)" ""
}

@test "an address rule on the boot VGA is refused without force" {
	two_cards
	config <<<'00:01.0 1234:1111'
	kernel_start "$ROOT"
	run -0 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF:1: 0000:00:01.0 is the boot VGA device: not reserved (add 'force' to take it)"
	assert_equal "$output" ""
	assert_equal "$(kernel_log)" ""
	assert_equal "$(override_of 0000:00:01.0)" ""
}

@test "force takes the boot VGA" {
	two_cards
	config <<<'00:01.0 1234:1111 force'
	kernel_start "$ROOT"
	run -0 vr apply
	assert_output "vfio-reserve: 0000:00:01.0 [1234:1111] -> vfio-pci (rule line 1)"
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
	kernel_start "$ROOT"
	run -0 vr apply
	assert_output "vfio-reserve: 0000:02:00.0 [10de:2204] -> vfio-pci (rule line 1)
vfio-reserve: 0000:02:00.1 [10de:1aef] -> vfio-pci (rule line 1)"
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
	kernel_start "$ROOT"
	run -0 vr apply
	assert_output "vfio-reserve: 0000:01:00.0 [10de:1e87] -> vfio-pci (rule line 1)
vfio-reserve: 0000:01:00.1 [10de:10f8] -> vfio-pci (rule line 1)
vfio-reserve: 0000:01:00.2 [10de:1ad8] -> vfio-pci (rule line 1)
vfio-reserve: 0000:01:00.3 [10de:1ad9] -> vfio-pci (rule line 1)"
	assert_equal "$(driver_of 0000:00:01.1)" pcieport
	assert_equal "$(driver_of 0000:00:01.0)" i915
}

@test "path= names the card below a root port" {
	two_cards
	config <<<'path=00:03.0/00.0'
	kernel_start "$ROOT"
	run -0 vr apply
	assert_output "vfio-reserve: 0000:02:00.0 [1234:1111] -> vfio-pci (rule line 1)
vfio-reserve: 0000:02:00.1 [8086:2668] -> vfio-pci (rule line 1)"
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
	kernel_start "$ROOT"
	run -0 vr apply
	assert_output "vfio-reserve: 0000:02:00.0 [1234:1111] -> vfio-pci (rule line 1)"
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
	kernel_start "$ROOT"
	run -0 vr apply
	assert_output "vfio-reserve: 0000:04:00.0 [10de:2204] -> vfio-pci (rule line 1)"
	assert_equal "$(driver_of 0000:03:00.0)" nouveau
}

@test "slot= names the physical slot" {
	two_cards
	mkdir -p "$ROOT/sys/bus/pci/slots/2"
	echo 0000:02:00 >"$ROOT/sys/bus/pci/slots/2/address"
	config <<<'slot=2 1234:1111'
	kernel_start "$ROOT"
	run -0 vr apply
	assert_output "vfio-reserve: 0000:02:00.0 [1234:1111] -> vfio-pci (rule line 1)
vfio-reserve: 0000:02:00.1 [8086:2668] -> vfio-pci (rule line 1)"
}

@test "address/ID mismatch: nothing reserved, a warning says what is there" {
	two_cards
	config <<<'01:00.0 10de:2204'
	kernel_start "$ROOT"
	before=$(snapshot)
	run -0 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF:1: 0000:01:00.0 is 1234:1111, not 10de:2204: nothing reserved (did the buses move?)"
	assert_equal "$output" ""
	assert_equal "$(snapshot)" "$before"
}

@test "a rule that matches nothing warns; the other rules still apply" {
	two_cards
	config <<-'EOF'
	05:00.0 10de:2204
	02:00.0 1234:1111
	EOF
	kernel_start "$ROOT"
	run -0 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF:1: no device matches '05:00.0 10de:2204'"
	assert_equal "$output" "vfio-reserve: 0000:02:00.0 [1234:1111] -> vfio-pci (rule line 2)
vfio-reserve: 0000:02:00.1 [8086:2668] -> vfio-pci (rule line 2)"
}

@test "a rule naming a bridge reserves nothing" {
	two_cards
	config <<<'00:02.0'
	kernel_start "$ROOT"
	run -0 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF:1: 0000:00:02.0 is a bridge: not reserved"
	assert_equal "$(kernel_log)" ""
}

@test "driver=pci-stub, and the first rule wins over a later one" {
	two_cards
	config <<-'EOF'
	01:00.0 1234:1111 driver=pci-stub
	01:00.1 8086:2668
	EOF
	fixture_add_driver "$ROOT" pci-stub
	kernel_start "$ROOT"
	run -0 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF:2: 0000:01:00.1 is already taken by line 1 for pci-stub"
	assert_equal "$output" "vfio-reserve: 0000:01:00.0 [1234:1111] -> pci-stub (rule line 1)
vfio-reserve: 0000:01:00.1 [8086:2668] -> pci-stub (rule line 1)"
	assert_equal "$(override_of 0000:01:00.1)" pci-stub
}

@test "an unbound function is probed without an unbind" {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm 1 -
	00:02.0 1b36:000c 060400 2 pcieport  - -
	01:00.0 1234:1111 038000 3 -         - 00:02.0 native=bochs-drm
	driver vfio-pci
	DESC
	config <<<'01:00.0 1234:1111'
	kernel_start "$ROOT"
	run -0 vr apply
	assert_kernel_log "sys/bus/pci/drivers_probe 0000:01:00.0"
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
		"modprobe vfio-pci" \
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
	assert_kernel_log \
		"modprobe vfio-pci" \
		"sys/bus/pci/drivers_probe 0000:01:00.0"
	assert_equal "$(driver_of 0000:01:00.0)" vfio-pci
}

@test "an unbind the kernel refuses is an error naming the file, exit 1" {
	two_cards
	ln -sf /dev/full "$ROOT/sys/bus/pci/drivers/snd_hda_intel/unbind"
	config <<<'01:00.0 1234:1111'
	kernel_start "$ROOT"
	run -1 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
	assert_equal "$stderr" "vfio-reserve: cannot write '0000:01:00.1' to $ROOT/sys/bus/pci/devices/0000:01:00.1/driver/unbind: No space left on device"
	assert_equal "$(driver_of 0000:01:00.1)" snd_hda_intel
}

@test "vfio-pci not loaded yet: modprobe loads it once" {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm     1 -
	00:02.0 1b36:000c 060400 2 pcieport      - -
	01:00.0 1234:1111 038000 3 bochs-drm     - 00:02.0
	01:00.1 8086:2668 040300 3 snd_hda_intel - 00:02.0
	DESC
	config <<<'01:00.0 1234:1111'
	kernel_start "$ROOT"
	VFIO_RESERVE_MODPROBE=$(fake_modprobe_dir "$ROOT")/modprobe run -0 vr apply
	assert_output "vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)
vfio-reserve: 0000:01:00.1 [8086:2668] -> vfio-pci (rule line 1)"
	assert_equal "$(grep -c '^modprobe' "$ROOT/kernel.log")" 1
	assert_equal "$(grep '^modprobe' "$ROOT/kernel.log")" "modprobe vfio-pci"
}

@test "a target driver that cannot be loaded fails the functions, exit 1" {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm 1 -
	01:00.0 1234:1111 038000 3 bochs-drm - -
	DESC
	echo vfio-pci >"$ROOT/.missing-modules"
	config <<<'01:00.0 1234:1111'
	kernel_start "$ROOT"
	VFIO_RESERVE_MODPROBE=$(fake_modprobe_dir "$ROOT")/modprobe run -1 --separate-stderr vr apply
	assert_equal "$stderr" "modprobe: FATAL: Module vfio-pci not found.
vfio-reserve: modprobe vfio-pci failed (exit status 1)
vfio-reserve: 0000:01:00.0 [1234:1111]: target driver not available"
	assert_equal "$output" ""
	# The driver is loaded before anything is unbound: the card stays on
	# its native driver, and the override waits for vfio-pci to appear.
	assert_equal "$(driver_of 0000:01:00.0)" bochs-drm
	assert_equal "$(override_of 0000:01:00.0)" vfio-pci
	refute grep -q unbind "$ROOT/kernel.log"
}

@test "under --root the host's modprobe is never run" {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm 1 -
	01:00.0 1234:1111 038000 3 bochs-drm - -
	DESC
	config <<<'01:00.0 1234:1111'
	kernel_start "$ROOT"
	PATH=$(fake_modprobe_dir "$ROOT"):$PATH run -1 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: vfio-pci is not loaded, and modprobe is not run under --root (set VFIO_RESERVE_MODPROBE)
vfio-reserve: 0000:01:00.0 [1234:1111]: target driver not available"
	refute grep -q modprobe "$ROOT/kernel.log"
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
	kernel_start "$ROOT"
	run -0 vr apply
	assert_output "vfio-reserve: 0000:02:00.0 [10de:2204] -> vfio-pci (rule line 1)
vfio-reserve: 0000:02:00.1 [10de:1aef] -> vfio-pci (rule line 1)"
	assert_equal "$(driver_of 0000:01:00.1)" snd_hda_intel
}

@test "dry-run prints the plan and writes nothing" {
	two_cards
	config <<<'01:00.0 1234:1111'
	kernel_start "$ROOT"
	before=$(snapshot)
	run -0 vr apply --dry-run
	assert_output "vfio-reserve: dry-run: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1), unbinding bochs-drm
vfio-reserve: dry-run: 0000:01:00.1 [8086:2668] -> vfio-pci (rule line 1), unbinding snd_hda_intel
vfio-reserve: dry-run: 2 to reserve, 0 already reserved, nothing written"
	assert_equal "$(snapshot)" "$before"
	assert_equal "$(kernel_log)" ""
}

@test "bind reserves one device now without a config" {
	two_cards
	kernel_start "$ROOT"
	run -0 vr bind 02:00.0
	assert_output "vfio-reserve: 0000:02:00.0 [1234:1111] -> vfio-pci (command line)
vfio-reserve: 0000:02:00.1 [8086:2668] -> vfio-pci (command line)"
	assert [ ! -e "$CONF" ]
}

@test "bind takes rule options, and refuses bad ones with exit 2" {
	two_cards
	kernel_start "$ROOT"
	run -2 --separate-stderr vr bind 02:00.0 drvier=pci-stub
	assert_equal "$stderr" "vfio-reserve: unknown option 'drvier'"
	assert_equal "$(kernel_log)" ""
	fixture_add_driver "$ROOT" pci-stub
	run -0 vr bind 02:00.0 driver=pci-stub single
	assert_output "vfio-reserve: 0000:02:00.0 [1234:1111] -> pci-stub (command line)"
}

@test "bind refuses the boot VGA and an absent device with exit 1" {
	two_cards
	kernel_start "$ROOT"
	run -1 --separate-stderr vr bind 00:01.0
	assert_equal "$stderr" "vfio-reserve: command line: 0000:00:01.0 is the boot VGA device: not reserved (add 'force' to take it)"
	run -1 --separate-stderr vr bind 09:00.0
	assert_equal "$stderr" "vfio-reserve: command line: no device matches '09:00.0'"
	assert_equal "$(kernel_log)" ""
}

@test "release ADDR gives the card back to its native drivers" {
	two_cards
	config <<<'01:00.0 1234:1111'
	kernel_start "$ROOT"
	run -0 vr apply
	: >"$ROOT/kernel.log"
	run -0 vr release 01:00.0
	assert_output "vfio-reserve: 0000:01:00.0 [1234:1111] released from vfio-pci, now on bochs-drm
vfio-reserve: 0000:01:00.1 [8086:2668] released from vfio-pci, now on snd_hda_intel"
	kernel_settle "$ROOT"
	assert_kernel_log \
		"sys/bus/pci/drivers/vfio-pci/unbind 0000:01:00.0" \
		"sys/bus/pci/drivers/vfio-pci/unbind 0000:01:00.1" \
		"sys/bus/pci/drivers_probe 0000:01:00.0" \
		"sys/bus/pci/drivers_probe 0000:01:00.1"
	assert_equal "$(override_of 0000:01:00.0)" ""
	assert_equal "$(driver_of 0000:01:00.0)" bochs-drm
	assert_equal "$(driver_of 0000:01:00.1)" snd_hda_intel
}

@test "release all, and release of a device that is not reserved" {
	two_cards
	config <<<'1234:1111'
	kernel_start "$ROOT"
	run -0 vr apply
	run -0 vr release all
	assert_output "vfio-reserve: 0000:01:00.0 [1234:1111] released from vfio-pci, now on bochs-drm
vfio-reserve: 0000:01:00.1 [8086:2668] released from vfio-pci, now on snd_hda_intel
vfio-reserve: 0000:02:00.0 [1234:1111] released from vfio-pci, now on bochs-drm
vfio-reserve: 0000:02:00.1 [8086:2668] released from vfio-pci, now on snd_hda_intel"
	run -1 --separate-stderr vr release 00:01.0
	assert_equal "$stderr" "vfio-reserve: release: 0000:00:01.0 is not reserved (driver bochs-drm, no override)"
	run -1 --separate-stderr vr release 07:00.0
	assert_equal "$stderr" "vfio-reserve: release: no PCI function 0000:07:00.0"
	run -2 --separate-stderr vr release 7:0
	assert_equal "$stderr" "vfio-reserve: release: malformed PCI address '7:0'"
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
