#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The hardware each rule was set up for (issue 20, point 1): `fingerprint`
# prints the record `update` keeps beside the config; `apply --boot`, check
# and status compare it with what is there now, and a rule whose hardware
# differs reserves nothing.  Each test records on one host and boots, or
# checks, on another: the fixture root is built again in between.

load test_helper

RECORD=$CONF.fingerprint

# record RULES < DESCRIPTION: the host as `update` saw it, its config and
# the record; then the fixture root is gone, for the host of the boot.
record() {
	host
	config <<<"$1"
	vr fingerprint >"$BATS_TEST_TMPDIR/record"
	rm -rf "$ROOT"
}

# now < DESCRIPTION: the host at the boot, with the config and record of
# `record`.
now() {
	host
	cp "$BATS_TEST_TMPDIR/config" "$CONF"
	cp "$BATS_TEST_TMPDIR/record" "$RECORD"
	chmod 0644 "$CONF" "$RECORD"
	mkdir -p "$ROOT/dev"
	: >"$ROOT/dev/kmsg"
}

# The boot's kernel log but its timing line.
kmsg() {
	grep -v '^<6>vfio-reserve: done: ' "$ROOT/dev/kmsg"
}

TWO_CARDS='00:00.0 8086:29c0 060000 0     -             -   -
00:01.0 1234:1111 030000 1     bochs-drm     1   -
00:02.0 1b36:000c 060400 2     pcieport      -   -
00:03.0 1b36:000c 060400 3     pcieport      -   -
01:00.0 1234:1111 038000 4     bochs-drm     -   00:02.0 subsys=1043:87b3
01:00.1 8086:2668 040300 4     snd_hda_intel -   00:02.0
02:00.0 1234:1111 038000 5     bochs-drm     -   00:03.0
02:00.1 8086:2668 040300 5     snd_hda_intel -   00:03.0
driver vfio-pci'

setup() {
	printf '%s\n' "$TWO_CARDS" >"$BATS_TEST_TMPDIR/old"
}

config() {
	mkdir -p "$ROOT/etc"
	tee "$BATS_TEST_TMPDIR/config" >"$CONF"
	chmod 0644 "$CONF"
}

@test "fingerprint: each rule, then each function it takes: ID, subsystem, class, revision, path, the group's other members by path and ID" {
	record "$(printf '01:00.0 1234:1111\npath=00:03.0/00.0')" <"$BATS_TEST_TMPDIR/old"
	run -0 --separate-stderr cat "$BATS_TEST_TMPDIR/record"
	assert_output - <<-'EOF'
	rule 1 01:00.0 1234:1111
	0000:01:00.0 1234:1111 1043:87b3 038000 02 00:02.0/00.0 00:02.0/00.1=8086:2668
	0000:01:00.1 8086:2668 8086:2668 040300 02 00:02.0/00.1 00:02.0/00.0=1234:1111
	rule 2 path=00:03.0/00.0
	0000:02:00.0 1234:1111 1234:1111 038000 02 00:03.0/00.0 00:03.0/00.1=8086:2668
	0000:02:00.1 8086:2668 8086:2668 040300 02 00:03.0/00.1 00:03.0/00.0=1234:1111
	EOF
}

@test "the same hardware at boot: reserved as without a record, nothing said about it" {
	record '01:00.0 1234:1111' <"$BATS_TEST_TMPDIR/old"
	now <"$BATS_TEST_TMPDIR/old"
	run -0 vr apply --boot
	run -0 kmsg
	assert_line --index 0 "<6>vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
	assert_kernel_log "${CARD1_LOG[@]}"
}

@test "a card swapped for another at the same address: the address rule reserves nothing and says what changed; boot, check and status" {
	record '01:00.0' <"$BATS_TEST_TMPDIR/old"
	sed -e 's/^01:00.0 .*/01:00.0 8086:15b8 020000 4 igb - 00:02.0/' -e '/^01:00.1/d' \
		"$BATS_TEST_TMPDIR/old" | now
	run -0 vr apply --boot
	run -0 kmsg
	assert_output - <<-EOF
	<4>vfio-reserve: $CONF:1: 0000:01:00.0 was 1234:1111 subsystem 1043:87b3 class 038000, is 8086:15b8 subsystem 8086:15b8 class 020000
	<4>vfio-reserve: $CONF:1: 0000:01:00.1 was 8086:2668 subsystem 8086:2668, is gone
	<3>vfio-reserve: $CONF:1: the hardware is not what 'vfio-reserve update' recorded: nothing reserved (run it again to accept the new hardware)
	EOF
	assert_kernel_log
	assert_equal "$(driver_of 0000:01:00.0)" igb

	run -1 vr check
	assert_line "FAIL line 1: 0000:01:00.0 was 1234:1111 subsystem 1043:87b3 class 038000, is 8086:15b8 subsystem 8086:15b8 class 020000"
	assert_line "FAIL line 1: 0000:01:00.1 was 8086:2668 subsystem 8086:2668, is gone"
	run -1 vr status
	assert_line "  0000:01:00.0 was 1234:1111 subsystem 1043:87b3 class 038000, is 8086:15b8 subsystem 8086:15b8 class 020000"
	assert_line "  0000:01:00.1 was 8086:2668 subsystem 8086:2668, is gone"
	run -1 vr status --json
	run -0 jq -c '.rules[0].hardware_changes | map(.kind)' <<<"$output"
	assert_output '["stops","stops","verdict"]'
}

@test "the same ID with another subsystem (another vendor's card): nothing reserved" {
	record '01:00.0 1234:1111' <"$BATS_TEST_TMPDIR/old"
	sed 's/subsys=1043:87b3/subsys=1458:4000/' "$BATS_TEST_TMPDIR/old" | now
	run -0 vr apply --boot
	run -0 kmsg
	assert_line --index 0 "<4>vfio-reserve: $CONF:1: 0000:01:00.0 was 1234:1111 subsystem 1043:87b3, is 1234:1111 subsystem 1458:4000"
	assert_kernel_log
}

@test "the same card in another revision (a firmware that changed it): nothing reserved" {
	record '01:00.0 1234:1111' <"$BATS_TEST_TMPDIR/old"
	sed 's/subsys=1043:87b3/& rev=a1/' "$BATS_TEST_TMPDIR/old" | now
	run -0 vr apply --boot
	run -0 kmsg
	assert_line --index 0 "<4>vfio-reserve: $CONF:1: 0000:01:00.0 was 1234:1111 subsystem 1043:87b3 revision 02, is 1234:1111 revision a1"
	assert_kernel_log
}

@test "a card moved to another slot, the buses renumbered: the address rule reserves nothing, said; the path= rule follows its card" {
	record "$(printf '01:00.0 1234:1111\npath=00:03.0/00.0')" <"$BATS_TEST_TMPDIR/old"
	now <<-'DESC'
	00:00.0 8086:29c0 060000 0     -             -   -
	00:01.0 1234:1111 030000 1     bochs-drm     1   -
	00:02.0 1b36:000c 060400 2     pcieport      -   -
	00:03.0 1b36:000c 060400 3     pcieport      -   -
	00:04.0 1b36:000c 060400 6     pcieport      -   -
	03:00.0 1234:1111 038000 5     bochs-drm     -   00:03.0
	03:00.1 8086:2668 040300 5     snd_hda_intel -   00:03.0
	04:00.0 1234:1111 038000 7     bochs-drm     -   00:04.0 subsys=1043:87b3
	04:00.1 8086:2668 040300 7     snd_hda_intel -   00:04.0
	driver vfio-pci
	DESC
	run -0 vr apply --boot
	run -0 kmsg
	assert_line --index 0 "<4>vfio-reserve: $CONF:1: 0000:01:00.0 was 1234:1111 subsystem 1043:87b3, is gone"
	assert_line --index 1 "<4>vfio-reserve: $CONF:1: 0000:01:00.1 was 8086:2668 subsystem 8086:2668, is gone"
	assert_line --index 2 "<3>vfio-reserve: $CONF:1: the hardware is not what 'vfio-reserve update' recorded: nothing reserved (run it again to accept the new hardware)"
	assert_line --index 3 "<6>vfio-reserve: $CONF:2: 0000:02:00.0 is at 0000:03:00.0 now, found by its path"
	assert_line --index 4 "<6>vfio-reserve: $CONF:2: 0000:02:00.1 is at 0000:03:00.1 now, found by its path"
	assert_line "<6>vfio-reserve: 0000:03:00.0 [1234:1111] -> vfio-pci (rule line 2)"
	assert_line "<6>vfio-reserve: 0000:03:00.1 [8086:2668] -> vfio-pci (rule line 2)"
	assert_equal "$(driver_of 0000:04:00.0)" bochs-drm
	assert_equal "$(driver_of 0000:03:00.0)" vfio-pci
}

@test "the group gained a disk controller: reported, and the rule stops; a USB controller: reported, the rule goes on" {
	record '01:00.0 1234:1111' <"$BATS_TEST_TMPDIR/old"
	printf '%s\n' "$TWO_CARDS" '01:01.0 144d:a808 010802 4 nvme - 00:02.0' | now
	run -0 vr apply --boot
	run -0 kmsg
	assert_output - <<-EOF
	<4>vfio-reserve: $CONF:1: the IOMMU group of 0000:01:00.0 gained 0000:01:01.0 [144d:a808] since the record: a disk or network controller the host may need
	<3>vfio-reserve: $CONF:1: the hardware is not what 'vfio-reserve update' recorded: nothing reserved (run it again to accept the new hardware)
	EOF
	assert_kernel_log
	run -1 vr check
	assert_line "FAIL line 1: the IOMMU group of 0000:01:00.0 gained 0000:01:01.0 [144d:a808] since the record: a disk or network controller the host may need"

	rm -rf "$ROOT"
	printf '%s\n' "$TWO_CARDS" '01:01.0 1b21:1242 0c0330 4 xhci_hcd - 00:02.0' | now
	run -0 vr apply --boot
	run -0 kmsg
	assert_line --index 0 "<4>vfio-reserve: $CONF:1: the IOMMU group of 0000:01:00.0 gained 0000:01:01.0 [1b21:1242] since the record"
	assert_line --index 1 "<6>vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
}

@test "a new rule, or one edited since the record, is not compared: check says to run update" {
	record '01:00.0 1234:1111' <"$BATS_TEST_TMPDIR/old"
	now <"$BATS_TEST_TMPDIR/old"
	printf '01:00.0 1234:1111 single\n' >"$CONF"
	run -0 vr apply --boot
	run -0 kmsg
	assert_line --index 0 "<4>vfio-reserve: $CONF:1: not in $RECORD: its hardware is not compared (run 'vfio-reserve update')"
	assert_line --index 1 "<6>vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
}

@test "a record that others can write is refused like the config, and the boot goes on as without one" {
	record '01:00.0' <"$BATS_TEST_TMPDIR/old"
	sed -e 's/^01:00.0 .*/01:00.0 8086:15b8 020000 4 igb - 00:02.0/' "$BATS_TEST_TMPDIR/old" | now
	chmod 0664 "$RECORD"
	run -0 vr apply --boot
	run -0 kmsg
	assert_line --index 0 "<3>vfio-reserve: $RECORD: writable by group or others (mode 0664): refusing to use it"
	assert_line "<6>vfio-reserve: 0000:01:00.0 [8086:15b8] -> vfio-pci (rule line 1)"
}

@test "image writes the record beside the image's config" {
	record '01:00.0 1234:1111' <"$BATS_TEST_TMPDIR/old"
	now <"$BATS_TEST_TMPDIR/old"
	run -0 vr image "$BATS_TEST_TMPDIR/image.conf"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/image.conf.fingerprint")" "$(cat "$RECORD")"
	assert_equal "$(stat -c %a "$BATS_TEST_TMPDIR/image.conf.fingerprint")" 644
	rm "$RECORD" "$BATS_TEST_TMPDIR/image.conf.fingerprint"
	run -0 vr image "$BATS_TEST_TMPDIR/image.conf"
	assert_file_not_exists "$BATS_TEST_TMPDIR/image.conf.fingerprint"
}

@test "recorded before the IOMMU was on (update turns it on): the first boot with groups takes what its group allows, and says so" {
	printf '%s\niommu none\n' "$TWO_CARDS" >"$BATS_TEST_TMPDIR/no-iommu"
	record '01:00.0 1234:1111' <"$BATS_TEST_TMPDIR/no-iommu"
	run -0 grep '^0000:01:00.0 ' "$BATS_TEST_TMPDIR/record"
	assert_output '0000:01:00.0 1234:1111 1043:87b3 038000 02 00:02.0/00.0 -'
	sed 's/^\(01:00.1 8086:2668 040300\) 4/\1 6/' "$BATS_TEST_TMPDIR/old" | now
	run -0 vr apply --boot
	run -0 kmsg
	assert_output - <<-EOF
	<4>vfio-reserve: $CONF:1: 0000:01:00.1 is not taken by the rule any more
	<6>vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)
	EOF
}

# The PCIe Device Serial Number: the fixture writes a config file with the
# capability (tests/lib/fixture.bash, serial=).
@test "fingerprint: a function with a PCIe Device Serial Number has it after its path, as lspci prints it" {
	sed -i 's/^\(01:00.0 .*\)$/\1 serial=00-1b-21-ff-fe-aa-bb-cc/' "$BATS_TEST_TMPDIR/old"
	record '01:00.0 1234:1111' <"$BATS_TEST_TMPDIR/old"
	run -0 cat "$BATS_TEST_TMPDIR/record"
	assert_output - <<-'EOF'
	rule 1 01:00.0 1234:1111
	0000:01:00.0 1234:1111 1043:87b3 038000 02 00:02.0/00.0 serial=00-1b-21-ff-fe-aa-bb-cc 00:02.0/00.1=8086:2668
	0000:01:00.1 8086:2668 8086:2668 040300 02 00:02.0/00.1 00:02.0/00.0=1234:1111
	EOF
}

@test "the same model with another serial number (another card): nothing reserved, boot, check and status say which serial" {
	sed -i 's/^\(01:00.0 .*\)$/\1 serial=00-1b-21-ff-fe-aa-bb-cc/' "$BATS_TEST_TMPDIR/old"
	record '01:00.0 1234:1111' <"$BATS_TEST_TMPDIR/old"
	sed 's/serial=00-1b-21-ff-fe-aa-bb-cc/serial=00-1b-21-ff-fe-aa-bb-cd/' "$BATS_TEST_TMPDIR/old" | now
	run -0 vr apply --boot
	run -0 kmsg
	assert_output - <<-EOF
	<4>vfio-reserve: $CONF:1: 0000:01:00.0 serial was 00-1b-21-ff-fe-aa-bb-cc, is 00-1b-21-ff-fe-aa-bb-cd
	<3>vfio-reserve: $CONF:1: the hardware is not what 'vfio-reserve update' recorded: nothing reserved (run it again to accept the new hardware)
	EOF
	assert_kernel_log
	assert_equal "$(driver_of 0000:01:00.0)" bochs-drm
	run -1 vr check
	assert_line "FAIL line 1: 0000:01:00.0 serial was 00-1b-21-ff-fe-aa-bb-cc, is 00-1b-21-ff-fe-aa-bb-cd"
	run -1 vr status
	assert_line "  0000:01:00.0 serial was 00-1b-21-ff-fe-aa-bb-cc, is 00-1b-21-ff-fe-aa-bb-cd"
}

@test "the same serial number: reserved; a record without serials (an older one), or a serial that cannot be read now: not compared" {
	sed -i 's/^\(01:00.0 .*\)$/\1 serial=00-1b-21-ff-fe-aa-bb-cc/' "$BATS_TEST_TMPDIR/old"
	record '01:00.0 1234:1111' <"$BATS_TEST_TMPDIR/old"
	now <"$BATS_TEST_TMPDIR/old"
	run -0 vr apply --boot
	run -0 kmsg
	assert_output "<6>vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)
<6>vfio-reserve: 0000:01:00.1 [8086:2668] -> vfio-pci (rule line 1)"
	assert_kernel_log "${CARD1_LOG[@]}"

	# Recorded before serials were kept; the card has one now.
	sed -i 's/ serial=[^ ]*//' "$BATS_TEST_TMPDIR/record"
	rm -rf "$ROOT"
	now <"$BATS_TEST_TMPDIR/old"
	run -0 vr apply --boot
	run -0 kmsg
	assert_line --index 0 "<6>vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
	assert_kernel_log "${CARD1_LOG[@]}"

	rm -rf "$ROOT"
	# Recorded with a serial, unreadable now (the first 64 bytes only, as
	# a user other than root reads them).
	record '01:00.0 1234:1111' <"$BATS_TEST_TMPDIR/old"
	now <"$BATS_TEST_TMPDIR/old"
	head -c 64 "$ROOT/sys/bus/pci/devices/0000:01:00.0/config" >"$BATS_TEST_TMPDIR/config64"
	cp "$BATS_TEST_TMPDIR/config64" "$ROOT/sys/bus/pci/devices/0000:01:00.0/config"
	run -0 vr apply --boot
	run -0 kmsg
	assert_line --index 0 "<6>vfio-reserve: 0000:01:00.0 [1234:1111] -> vfio-pci (rule line 1)"
}

@test "a card moved to a new root port that took its bus number: the address rule says its path changed, not that its own functions joined its group" {
	record '01:00.0 1234:1111' <"$BATS_TEST_TMPDIR/old"
	sed -e 's/ 00:02.0\( subsys=1043:87b3\)*$/ 00:01.1\1/' -e '/^00:03.0/a 00:01.1 1b36:000c 060400 6 pcieport - -' \
		"$BATS_TEST_TMPDIR/old" | now
	run -0 vr apply --boot
	run -0 kmsg
	assert_output - <<-EOF
	<4>vfio-reserve: $CONF:1: 0000:01:00.0 was at path 00:02.0/00.0, is at 00:01.1/00.0
	<4>vfio-reserve: $CONF:1: 0000:01:00.1 was at path 00:02.0/00.1, is at 00:01.1/00.1
	<3>vfio-reserve: $CONF:1: the hardware is not what 'vfio-reserve update' recorded: nothing reserved (run it again to accept the new hardware)
	EOF
	assert_kernel_log
}
