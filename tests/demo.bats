#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# `make demo` (demo/run): as root, on a machine with the packages it needs
# (.ci/run installs them), it boots the VM twice and prints the before/after
# table with card 1 moved to vfio-pci; it leaves /etc and /boot exactly as
# they were (names, types, modes, owners, sizes, times, contents) and ends
# by telling how long it took.  Its budget (180 s on 2 cores, the kernel
# cached) is a measurement for README.md, not a test: a slow CI machine must
# not fail it.
#
# VFIO_RESERVE_VM=0 skips it.  tests/run runs the files of tests/ twice
# (static and sanitizer binder); the demo runs in the first pass.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

# Everything about /etc and /boot that a change would show.
snapshot() {
	find /etc /boot -xdev -printf '%y %M %u:%g %s %T@ %p -> %l\n' 2>/dev/null | sort -k6
	find /etc /boot -xdev -type f -exec sha256sum {} + 2>/dev/null | sort -k2
}

@test "make demo: card 1 to vfio-pci in the table, /etc and /boot untouched" {
	case ${VFIO_RESERVE_BIN-} in
	*-san) skip "boots once, in the static-binder pass" ;;
	esac
	[ "$(id -u)" -eq 0 ] || skip "the demo needs root (mount namespaces, qemu)"
	[ "${VFIO_RESERVE_VM:-1}" != 0 ] || skip "VFIO_RESERVE_VM=0"

	snapshot >"$BATS_TEST_TMPDIR/before"
	run "$TOP/demo/run"
	snapshot >"$BATS_TEST_TMPDIR/after"
	echo "$output"
	assert_success
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/demo.out"

	# The table: ADDRESS ID DEVICE BEFORE AFTER.
	row() {
		grep -E "^$1 +$2 +$3 +$4 +$5( |\$)" "$BATS_TEST_TMPDIR/demo.out" ||
			fail "no row '$*' in the table"
	}
	grep -qE '^ADDRESS +ID +DEVICE +BEFORE +AFTER' "$BATS_TEST_TMPDIR/demo.out"
	row 0000:00:01.0 1234:1111 'display, boot VGA' bochs-drm bochs-drm
	row 0000:01:00.0 1234:1111 'card 1 display' bochs-drm vfio-pci
	row 0000:01:00.1 8086:2668 'card 1 audio' snd_hda_intel vfio-pci
	row 0000:02:00.0 1234:1111 'card 2 display' bochs-drm bochs-drm
	row 0000:02:00.1 8086:2668 'card 2 audio' snd_hda_intel snd_hda_intel
	grep -q 'vfio-reserve: 0000:01:00.0 \[1234:1111\] -> vfio-pci' "$BATS_TEST_TMPDIR/demo.out"

	# The host's /etc and /boot, as they were.
	run diff -u "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	assert_success

	local t
	t=$(sed -n 's/^demo: \([0-9]*\) s$/\1/p' "$BATS_TEST_TMPDIR/demo.out")
	[ -n "$t" ] || fail "the demo did not say how long it took"
	echo "# the demo took $t s" >&3
}
