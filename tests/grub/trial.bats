#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# update/trial, the trial boot's core (vfio-reserve(8), TRIAL BOOT): what
# `update` puts on trial, what `confirm` keeps and when it refuses, what
# `check` reports.  The boot loaders' own state is their backends' (the
# real GRUB and systemd-boot are tested in trial-grub.bats,
# trial-systemd-boot.bats and the VM suite); here a stand-in backend keeps
# it in a file, so that every state, and a backend that fails, can be set
# up and read back.

load test_helper

setup() {
	ROOT=$BATS_TEST_TMPDIR/root
	LIB=$BATS_TEST_TMPDIR/lib
	cp -a "$GRUB_SCRIPTS" "$LIB"
	rm -f "$LIB/trial-grub" "$LIB/trial-systemd-boot"
	# The stand-in: its state in $ROOT/backend.state, every call logged.
	cat >"$LIB/trial-grub" <<-'SH'
	#!/bin/sh
	root=
	[ "$1" != --root ] || { root=$2; shift 2; }
	dry=
	[ "$1" != --dry-run ] || { dry=1; shift; }
	echo "$*${dry:+ (dry run)}" >>"$root/backend.log"
	case $1 in
	probe) [ -z "${FAKE_PROBE-}" ] || { echo "$FAKE_PROBE"; exit 1; } ;;
	arm) [ -z "${FAKE_ARM_FAILS-}" ] || { echo "grub-editenv: error: cannot write" >&2; exit 1; }
		[ -n "$dry" ] || echo armed >"$root/backend.state" ;;
	state) cat "$root/backend.state" 2>/dev/null || echo none ;;
	clear) [ -n "$dry" ] || rm -f "$root/backend.state" ;;
	esac
	SH
	chmod 0755 "$LIB/trial-grub"
	mkdir -p "$ROOT/etc" "$ROOT/var/lib"
	: >"$ROOT/backend.log"
	printf '01:00.0 10de:2204\n' >"$ROOT/etc/vfio-reserve.conf"
	printf 'rule 1 01:00.0 10de:2204\n' >"$ROOT/etc/vfio-reserve.conf.fingerprint"
}

trial() {
	"$LIB/trial" --root "$ROOT" "$@"
}

backend_state() {
	cat "$ROOT/backend.state" 2>/dev/null || echo none
}

CONFIRMED=var/lib/vfio-reserve/confirmed.conf

@test "begin: a config that is not the confirmed one is put on trial; nothing is confirmed yet" {
	run -0 --separate-stderr trial begin
	assert_equal "$stderr" ""
	assert_output "vfio-reserve: the next boot is a trial of the new reservation: once the host is up, run 'vfio-reserve confirm' (a shell or SSH will do); until then every later boot reserves what was confirmed last"
	assert_equal "$(backend_state)" armed
	assert_file_not_exists "$ROOT/$CONFIRMED"
	run -0 cat "$ROOT/backend.log"
	assert_output "probe
arm"
}

@test "confirm before the trial boot, and after a trial that went unconfirmed, is refused: exit 1, nothing changed" {
	run -0 trial begin
	run -1 --separate-stderr trial confirm
	assert_output ""
	assert_equal "$stderr" "vfio-reserve: the new reservation has not been booted yet: reboot, and run 'vfio-reserve confirm' once the host is up; nothing was changed"
	echo reverted >"$ROOT/backend.state"
	run -1 --separate-stderr trial confirm
	assert_equal "$stderr" "vfio-reserve: this boot runs the reservation confirmed last, not the new one: its trial boot went unconfirmed; run 'vfio-reserve update' to try it again, and confirm during that boot; nothing was changed"
	assert_equal "$(backend_state)" reverted
	assert_file_not_exists "$ROOT/$CONFIRMED"
}

@test "confirm during the trial boot keeps the config and its record as confirmed and ends the trial" {
	run -0 trial begin
	echo trying >"$ROOT/backend.state"
	run -0 trial confirm
	assert_output "vfio-reserve: confirmed: every boot reserves what $ROOT/etc/vfio-reserve.conf says"
	cmp "$ROOT/etc/vfio-reserve.conf" "$ROOT/$CONFIRMED"
	cmp "$ROOT/etc/vfio-reserve.conf.fingerprint" "$ROOT/$CONFIRMED.fingerprint"
	run -0 stat -c %a "$ROOT/$CONFIRMED"
	assert_output 644
	assert_equal "$(backend_state)" none
	# Nothing left to confirm; the next update with the same config is no trial.
	run -0 trial confirm
	assert_output "vfio-reserve: nothing to confirm: the reservation is the one confirmed last"
	: >"$ROOT/backend.log"
	run -0 trial begin
	assert_output ""
	assert_equal "$(backend_state)" none
	# A changed record alone (new hardware accepted by update) is a change.
	printf 'rule 1 01:00.0 10de:2204 moved\n' >"$ROOT/etc/vfio-reserve.conf.fingerprint"
	run -0 trial begin
	assert_equal "$(backend_state)" armed
}

@test "update again during a trial that went unconfirmed tries it again; the same config as confirmed ends it" {
	run -0 trial begin
	echo reverted >"$ROOT/backend.state"
	run -0 trial begin
	assert_equal "$(backend_state)" armed
	mkdir -p "$ROOT/var/lib/vfio-reserve"
	cp "$ROOT/etc/vfio-reserve.conf" "$ROOT/$CONFIRMED"
	cp "$ROOT/etc/vfio-reserve.conf.fingerprint" "$ROOT/$CONFIRMED.fingerprint"
	run -0 trial begin
	assert_output ""
	assert_equal "$(backend_state)" none
}

@test "a boot loader that cannot keep a trial: update says why and the change is confirmed at once" {
	FAKE_PROBE="GRUB cannot write its environment block on btrfs (/boot/grub/grubenv)" run -0 --separate-stderr trial begin
	assert_output ""
	assert_equal "$stderr" "vfio-reserve: no trial boot: GRUB cannot write its environment block on btrfs (/boot/grub/grubenv); the change takes effect at every boot without one"
	cmp "$ROOT/etc/vfio-reserve.conf" "$ROOT/$CONFIRMED"
	assert_equal "$(backend_state)" none
	FAKE_PROBE="GRUB cannot write its environment block on btrfs (/boot/grub/grubenv)" run -0 trial report
	assert_output "WARN trial: no trial boot: GRUB cannot write its environment block on btrfs (/boot/grub/grubenv); a change takes effect at every boot without one"
}

@test "a backend that fails to arm: said, and the change is confirmed at once" {
	FAKE_ARM_FAILS=1 run -0 --separate-stderr trial begin
	assert_equal "$stderr" "grub-editenv: error: cannot write
vfio-reserve: no trial boot: the boot loader's trial state cannot be set; the change takes effect at every boot without one"
	cmp "$ROOT/etc/vfio-reserve.conf" "$ROOT/$CONFIRMED"
}

@test "a tool without a trial backend (grubby): said in update and check" {
	mkdir -p "$ROOT/usr/bin"
	printf '#!/bin/sh\n' >"$ROOT/usr/bin/grubby"
	chmod 0755 "$ROOT/usr/bin/grubby"
	run -0 --separate-stderr trial begin
	assert_equal "$stderr" "vfio-reserve: no trial boot: grubby keeps no trial state that vfio-reserve drives; the change takes effect at every boot without one"
	run -0 trial report
	assert_output "WARN trial: no trial boot: grubby keeps no trial state that vfio-reserve drives; a change takes effect at every boot without one"
	run -0 cat "$ROOT/backend.log"
	assert_output ""
}

@test "report: one line for each state" {
	run -0 trial report
	assert_output "OK trial: none pending; 'vfio-reserve update' puts the next change on trial"
	echo armed >"$ROOT/backend.state"
	run -0 trial report
	assert_output "OK trial: the next boot is a trial of the new reservation; run 'vfio-reserve confirm' once it is up"
	echo trying >"$ROOT/backend.state"
	run -0 trial report
	assert_output "WARN trial: this boot is the trial of the new reservation: run 'vfio-reserve confirm' to keep it, or the next boot reserves what was confirmed last"
	echo reverted >"$ROOT/backend.state"
	run -0 trial report
	assert_output "WARN trial: the trial boot of the new reservation went unconfirmed: every boot reserves what was confirmed last ($ROOT/$CONFIRMED) until 'vfio-reserve update' tries it again"
}

@test "end: the confirmed copy and its directory go, the trial ends; --dry-run changes nothing" {
	run -0 trial accept
	echo reverted >"$ROOT/backend.state"
	run -0 trial --dry-run end
	assert_file_exists "$ROOT/$CONFIRMED"
	assert_equal "$(backend_state)" reverted
	run -0 trial end
	assert_file_not_exists "$ROOT/$CONFIRMED"
	assert_file_not_exists "$ROOT/$CONFIRMED.fingerprint"
	assert_file_not_exists "$ROOT/var/lib/vfio-reserve"
	assert_equal "$(backend_state)" none
}

@test "accept --dry-run says what it would keep and changes nothing; -c is refused" {
	run -0 trial --dry-run accept
	assert_output "vfio-reserve: would keep $ROOT/etc/vfio-reserve.conf as the confirmed reservation ($ROOT/$CONFIRMED)"
	assert_file_not_exists "$ROOT/var/lib/vfio-reserve"
	run -2 "$LIB/trial" -c /etc/other.conf confirm
}

@test "real binder: vfio-reserve confirm runs the trial's confirm with --root and -q" {
	[ -x "$REPO/binder/vfio-reserve" ] || skip "binder/vfio-reserve is not built"
	run -0 trial begin
	echo trying >"$ROOT/backend.state"
	VFIO_RESERVE_LIBDIR=$LIB run -0 --separate-stderr "$REPO/binder/vfio-reserve" --root "$ROOT" -q confirm
	assert_output ""
	assert_equal "$stderr" ""
	cmp "$ROOT/etc/vfio-reserve.conf" "$ROOT/$CONFIRMED"
	VFIO_RESERVE_LIBDIR=$LIB run -2 "$REPO/binder/vfio-reserve" --root "$ROOT" confirm now
}
