#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The dracut module (dracut-module/) run by this machine's real dracut
# (Debian's dracut-core), as `make install` puts it, with the rest of the
# package's files it reads, in a private mount namespace whose /etc, /usr
# and /var are overlays that throw their writes away
# (tests/lib/throwaway-root.bash): the module, the binder, the config and
# the udev rule are the test's; what a developer's `make install` left on
# the host is hidden.  Images are built without a kernel (--no-kernel:
# the question is what the module adds) and read back with lsinitrd.
# Root only (CI): it mounts.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BIN=${VFIO_RESERVE_BIN:-$TOP/binder/vfio-reserve}
RULES=usr/lib/udev/rules.d/70-vfio-reserve-sriov.rules
# shellcheck source=tests/lib/throwaway-root.bash
source "$BATS_TEST_DIRNAME/../lib/throwaway-root.bash"

setup_file() {
	[ "$(id -u)" -eq 0 ] || skip "mounts overlays in a private namespace: root only (CI)"
	command -v dracut >/dev/null || fail "needs dracut (dracut-core, tests/deps)"
	make -s -C "$TOP" install-dracut install-hooks install-udev \
		DESTDIR="$BATS_FILE_TMPDIR/dest" PREFIX=/usr
}

setup() {
	W=$BATS_TEST_TMPDIR/root
	IMG=$BATS_TEST_TMPDIR/initrd.img
	mkdir -p "$W/usr.up/sbin" "$W/etc.up"
	cp -a "$BATS_FILE_TMPDIR/dest/usr/." "$W/usr.up/"
	install -m 0755 "$BIN" "$W/usr.up/sbin/vfio-reserve"
	printf '%s\n' '0000:01:00.0 1234:1111 vfs=2' >"$W/etc.up/vfio-reserve.conf"
	chmod 0644 "$W/etc.up/vfio-reserve.conf"
	printf '%s\n' /etc/modprobe.d/00-vfio-reserve.conf /var/lib/vfio-reserve/confirmed.conf >"$W/absent"
}

# build [DRACUT OPTION...]: the real dracut, not hostonly, without a kernel,
# its work directory under the test's.
build() {
	throwaway_root "$W" dracut --force --no-hostonly --no-kernel --no-early-microcode \
		--kver 0.0.0-none --tmpdir "$BATS_TEST_TMPDIR" "$@" "$IMG"
}

# in_image PATH: whether the image has PATH (a file, not a directory).
in_image() {
	lsinitrd "$IMG" | grep -q " $1\$"
}

@test "systemd initrd: the image carries the SR-IOV udev rule, run by systemd-udevd.service, and the binder it runs" {
	run -0 build
	in_image "$RULES"
	run -0 lsinitrd -f "$RULES" "$IMG"
	assert_output "$(cat "$BATS_FILE_TMPDIR/dest/$RULES")"
	assert_line 'ACTION=="bind", SUBSYSTEM=="pci", ATTR{sriov_totalvfs}=="?*", ENV{DRIVER}!="vfio-pci", RUN+="/usr/sbin/vfio-reserve apply --boot --unbound"'
	cmp "$BIN" <(lsinitrd -f usr/sbin/vfio-reserve "$IMG")
	# udevd there is systemd's unit, which the rule's RUN runs under.
	in_image usr/lib/systemd/system/systemd-udevd.service
	in_image usr/lib/systemd/system/vfio-reserve.service
}

@test "dracut's shell init, the rule not installed: the build succeeds without it, with the rest" {
	rm "$W/usr.up/${RULES#usr/}"
	echo "/$RULES" >>"$W/absent"
	run -0 build --omit "systemd systemd-initrd dracut-systemd"
	run -1 in_image "$RULES"
	run -1 in_image usr/lib/systemd/system/systemd-udevd.service
	cmp "$BIN" <(lsinitrd -f usr/sbin/vfio-reserve "$IMG")
	in_image usr/lib/dracut/hooks/cmdline/00-vfio-reserve-boot.sh
}
