#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve image FILE: the config an initramfs carries, written on the
# host the image is built on, for the three generators' hooks
# (hooks/image-content).  A rule that would take what the build host sits
# on is commented out in place, with a warning naming file and line; every
# other byte is the host's; the build never fails for it.

load test_helper

OUT=$BATS_TEST_TMPDIR/image.conf

nvme_root() {
	real_host nvme-twins | host
	block_device 03:00.0 nvme0n1p2 259:2
	mounted /dev/nvme0n1p2 259:2 /
}

@test "a rule for the root file system's drive is commented out in place, with a warning; the rest byte for byte, exit 0" {
	nvme_root
	printf '# guests\n03:00.0 144d:a808   # the fast one\n\n08:00.0 144d:a808 driver=pci-stub\n' >"$CONF"
	chmod 0644 "$CONF"
	run -0 --separate-stderr vr image "$OUT"
	assert_equal "$output" "pci-stub"
	assert_equal "$stderr" "vfio-reserve: $CONF:2: 0000:03:00.0 [144d:a808] holds the file system on /: the host needs it (add 'force' to take it anyway)
vfio-reserve: $CONF:2: left out of the initramfs: it reserves nothing at boot"
	printf '# guests\n#vfio-reserve image: left out, the host needs what it takes: 03:00.0 144d:a808   # the fast one\n\n08:00.0 144d:a808 driver=pci-stub\n' >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$OUT"
	run -0 stat -c %a "$OUT"
	assert_output 644
	# The image's copy reads as the boot reads it: one rule, line 4.
	run -0 --separate-stderr vr -c "$OUT" check --config-only
	assert_line --index 0 "OK   config: $OUT: 1 rule"
}

@test "'force' keeps the rule, with a warning; a config without a trailing newline is copied as it is" {
	nvme_root
	printf '03:00.0 144d:a808 force' >"$CONF"
	chmod 0644 "$CONF"
	run -0 --separate-stderr vr image "$OUT"
	assert_equal "$output" "vfio-pci
vfio_iommu_type1"
	assert_equal "$stderr" "vfio-reserve: $CONF:1: 0000:03:00.0 [144d:a808] holds the file system on /: taken anyway (force)"
	cmp "$CONF" "$OUT"
}

@test "every rule left out: nothing written, nothing printed, exit 0 (the image is built without vfio-reserve)" {
	nvme_root
	config <<<'144d:a808 driver=pci-stub
03:00.0 144d:a808'
	run -0 --separate-stderr vr image "$OUT"
	assert_equal "$output" ""
	assert_file_not_exists "$OUT"
	assert_equal "$stderr" "vfio-reserve: $CONF:1: 0000:03:00.0 [144d:a808] holds the file system on /: the host needs it (add 'force' to take it anyway)
vfio-reserve: $CONF:1: left out of the initramfs: it reserves nothing at boot
vfio-reserve: $CONF:2: 0000:03:00.0 [144d:a808] holds the file system on /: the host needs it (add 'force' to take it anyway)
vfio-reserve: $CONF:2: left out of the initramfs: it reserves nothing at boot"
}

@test "lines with errors are warned about and carried; an unusable config is exit 2 and nothing written" {
	nvme_root
	config <<<'08:00.0 144d:a808 forse
08:00.0 144d:a808'
	run -0 --separate-stderr vr image "$OUT"
	assert_equal "$output" "vfio-pci
vfio_iommu_type1"
	assert_equal "$stderr" "vfio-reserve: $CONF:1: unknown option 'forse'
vfio-reserve: $CONF: lines with errors skipped: the initramfs reserves what the other lines say"
	cmp "$CONF" "$OUT"
	rm "$OUT"
	chmod 0664 "$CONF"
	run -2 --separate-stderr vr image "$OUT"
	assert_equal "$output" ""
	assert_equal "$stderr" "vfio-reserve: $CONF: writable by group or others (mode 0664): refusing to use it"
	assert_file_not_exists "$OUT"
}

@test "no config, no active rule: nothing written, nothing printed, exit 0; image needs its file" {
	nvme_root
	run -0 --separate-stderr vr image "$OUT"
	assert_equal "$output$stderr" ""
	config <<<'# nothing yet'
	run -0 --separate-stderr vr image "$OUT"
	assert_equal "$output$stderr" ""
	assert_file_not_exists "$OUT"
	run -2 --separate-stderr vr image
	assert_equal "$stderr" "vfio-reserve: image takes one file: where to write the image's config (see 'vfio-reserve --help')"
}

@test "a build host without /sys (a chroot): the rules go into the image unchecked, the build goes on" {
	mkdir -p "$ROOT/etc"
	config <<<'03:00.0 144d:a808'
	run -0 --separate-stderr vr image "$OUT"
	assert_equal "$output" "vfio-pci
vfio_iommu_type1"
	assert_equal "$stderr" "vfio-reserve: $ROOT/sys/bus/pci/devices: No such file or directory"
	cmp "$CONF" "$OUT"
}

# The kernel as the oracle: this very machine's root file system, read by the
# shipped binder from the real /proc and /sys, without --root.  Nothing is
# written anywhere but $BATS_TEST_TMPDIR (check, cmdline, apply --dry-run).
@test "on this machine: a rule for the PCI function under / is refused by check, cmdline and apply, and left out by image" {
	local dev fn addr id conf=$BATS_TEST_TMPDIR/host.conf
	dev=$(mountpoint -d /) || skip "cannot read the device of /"
	fn=$(readlink -f "/sys/dev/block/$dev" | grep -o '/[0-9a-f]\{4\}:[0-9a-f]\{2\}:[0-9a-f]\{2\}\.[0-7]/' | tail -n 1 | tr -d /)
	[ -n "$fn" ] || skip "/ is not on a PCI function here ($(readlink -f "/sys/dev/block/$dev"))"
	addr=$fn
	id=$(sed 's/^0x//' "/sys/bus/pci/devices/$addr/vendor"):$(sed 's/^0x//' "/sys/bus/pci/devices/$addr/device")
	printf '%s %s\n' "$addr" "$id" >"$conf"
	chmod 0644 "$conf"
	local refused="vfio-reserve: $conf:1: $addr [$id] holds the file system on /: the host needs it (add 'force' to take it anyway)"
	run -1 --separate-stderr "$BIN" -c "$conf" cmdline
	assert_equal "${stderr_lines[0]}" "$refused"
	run -1 --separate-stderr "$BIN" -c "$conf" apply --dry-run
	assert_equal "$stderr" "$refused
vfio-reserve: nothing was changed"
	run -0 --separate-stderr "$BIN" -c "$conf" image "$OUT"
	assert_equal "${stderr_lines[0]}" "$refused"
	assert_equal "$output" ""
	assert_file_not_exists "$OUT"
	run -1 "$BIN" -c "$conf" check
	assert_line "FAIL line 1: $addr [$id] holds the file system on /: the host needs it (add 'force' to take it anyway)"
}
