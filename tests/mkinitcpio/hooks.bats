#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The mkinitcpio hooks (mkinitcpio/), which Debian cannot run for real:
# mkinitcpio-standin, beside this file, implements the install-hook and
# runtime-hook interface of mkinitcpio(8) and records what the hooks add.
#
# Each test runs the hooks as `make install` puts them, unchanged, in a
# private mount namespace whose /etc and /usr are overlays that throw their
# writes away: /usr/sbin/vfio-reserve (the shipped binder, or a fake that
# records its arguments), /etc/vfio-reserve.conf and a kernel's module tree
# (two stand-in modules for kmod's modinfo) are the test's; the host's are
# hidden.  A stand-in 'base' and 'udev' hook in /etc/initcpio (where
# mkinitcpio looks for local hooks) show the boot order: udev starts udevd in
# its early hook.  Root only (CI): it mounts.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BIN=${VFIO_RESERVE_BIN:-$TOP/binder/vfio-reserve}
STANDIN=$BATS_TEST_DIRNAME/mkinitcpio-standin
# shellcheck source=tests/lib/throwaway-root.bash
source "$BATS_TEST_DIRNAME/../lib/throwaway-root.bash"
KVER=9.9.9-standin

setup_file() {
	[ "$(id -u)" -eq 0 ] || skip "mounts overlays in a private namespace: root only (CI)"
	local src=$BATS_FILE_TMPDIR
	# The hooks as installed.
	make -s -C "$TOP" install-mkinitcpio DESTDIR="$src/dest" PREFIX=/usr
	# Two modules kmod can read: ELF objects with a .modinfo section.
	mkdir -p "$src/modules/lib/modules/$KVER/kernel/drivers/vfio/pci"
	printf '%s\n' 'static const char m[] __attribute__((section(".modinfo"), used)) = "license=GPL";' >"$src/m.c"
	gcc -c -o "$src/modules/lib/modules/$KVER/kernel/drivers/vfio/pci/vfio-pci.ko" "$src/m.c"
	gcc -c -o "$src/modules/lib/modules/$KVER/kernel/drivers/vfio/vfio_iommu_type1.ko" "$src/m.c"
	depmod -b "$src/modules" "$KVER" 2>/dev/null
}

setup() {
	W=$BATS_TEST_TMPDIR/root
	IMG=$BATS_TEST_TMPDIR/image
	ARGV=$BATS_TEST_TMPDIR/argv
	mkdir -p "$W/usr.up/sbin" "$W/etc.up/initcpio/install" "$W/etc.up/initcpio/hooks"
	cp -a "$BATS_FILE_TMPDIR/dest/usr/." "$W/usr.up/"
	cp -a "$BATS_FILE_TMPDIR/modules/lib" "$W/usr.up/"
	install -m 0755 "$BIN" "$W/usr.up/sbin/vfio-reserve"
	# Stand-ins for mkinitcpio's base and udev hooks.
	printf '%s\n' 'build() { add_binary busybox /usr/bin/busybox; }' >"$W/etc.up/initcpio/install/base"
	printf '%s\n' 'build() { add_runscript; }' >"$W/etc.up/initcpio/install/udev"
	printf '%s\n' 'run_earlyhook() { echo "udev: udevd started"; }' \
		'run_hook() { echo "udev: coldplug (udevadm trigger)"; }' >"$W/etc.up/initcpio/hooks/udev"
}

# config MODE < TEXT: /etc/vfio-reserve.conf of the throwaway root.
config() {
	rm -f "$W/etc.up/vfio-reserve.conf"
	cat >"$W/etc.up/vfio-reserve.conf"
	chmod "$1" "$W/etc.up/vfio-reserve.conf"
}

# fake_binder [STATUS]: a binder that records its arguments, names the vfio
# modules, and exits STATUS on apply.
fake_binder() {
	rm -f "$W/usr.up/sbin/vfio-reserve"
	cat >"$W/usr.up/sbin/vfio-reserve" <<-EOF
	#!/bin/sh
	printf '%s\n' "\$*" >>'$ARGV'
	case \$* in
	*modules) printf 'vfio-pci\nvfio_iommu_type1\n' ;;
	apply*) echo 'vfio-reserve: fake says this on stderr' >&2; exit ${1:-0} ;;
	esac
	EOF
	chmod 0755 "$W/usr.up/sbin/vfio-reserve"
}

# in_root COMMAND...: COMMAND in the throwaway root.  The config, the
# modprobe file and the binder are those the test wrote, or none; CMDLINE,
# when set, is the kernel command line (/proc/cmdline).
in_root() {
	local path
	: >"$W/absent"
	for path in /etc/vfio-reserve.conf /etc/modprobe.d/vfio-reserve.conf /usr/sbin/vfio-reserve; do
		[ -e "$W/${path:1:3}.up/${path#/*/}" ] || echo "$path" >>"$W/absent"
	done
	# mkinitcpio's own base and udev, where installed, would hide ours.
	printf '%s\n' /usr/lib/initcpio/install/base /usr/lib/initcpio/install/udev >>"$W/absent"
	THROWAWAY_CMDLINE=${CMDLINE-} throwaway_root "$W" "$@"
}

build() {
	in_root "$STANDIN" build "$IMG" "$KVER" "$@"
}

boot() {
	in_root "$STANDIN" boot "$IMG"
}

# ---- the install hooks ----------------------------------------------------------

@test "vfio-reserve, an active rule: the binder, the config, the vfio modules and the early hook" {
	config 0644 <<<'0000:01:00.0 1234:1111'
	run -0 --separate-stderr build vfio-reserve
	assert_equal "$output" ''
	assert_equal "$stderr" ''
	run -0 cat "$IMG.list"
	assert_output - <<-'EOF'
	module vfio-pci
	module vfio_iommu_type1
	binary /usr/sbin/vfio-reserve
	file /etc/vfio-reserve.conf
	runscript vfio-reserve
	EOF
	cmp "$BIN" "$IMG/usr/sbin/vfio-reserve"
	cmp "$W/etc.up/vfio-reserve.conf" "$IMG/etc/vfio-reserve.conf"
	cmp "$BATS_FILE_TMPDIR/dest/usr/lib/initcpio/hooks/vfio-reserve" "$IMG/hooks/vfio-reserve"
	[ -f "$IMG/lib/modules/$KVER/kernel/drivers/vfio/pci/vfio-pci.ko" ]
}

@test "the modprobe file that update wrote goes into the image with the rest" {
	config 0644 <<<'0000:01:00.0 1234:1111'
	mkdir -p "$W/etc.up/modprobe.d"
	printf '%s\n' 'softdep bochs pre: vfio_pci' >"$W/etc.up/modprobe.d/vfio-reserve.conf"
	run -0 --separate-stderr build vfio-reserve
	assert_equal "$stderr" ''
	run -0 cat "$IMG.list"
	assert_output - <<-'EOF'
	module vfio-pci
	module vfio_iommu_type1
	binary /usr/sbin/vfio-reserve
	file /etc/vfio-reserve.conf
	file /etc/modprobe.d/vfio-reserve.conf
	runscript vfio-reserve
	EOF
	cmp "$W/etc.up/modprobe.d/vfio-reserve.conf" "$IMG/etc/modprobe.d/vfio-reserve.conf"
}

@test "no active rule, no config, no binder: nothing is added, nothing said" {
	config 0644 <<-'EOF'
	# 0000:01:00.0 1234:1111
	EOF
	mkdir -p "$W/etc.up/modprobe.d"
	: >"$W/etc.up/modprobe.d/vfio-reserve.conf"
	for hook in vfio-reserve sd-vfio-reserve; do
		run -0 --separate-stderr build "$hook"
		assert_equal "$output$stderr" ''
		run -0 cat "$IMG.list"
		assert_output ''
	done
	rm "$W/etc.up/vfio-reserve.conf"
	run -0 --separate-stderr build vfio-reserve sd-vfio-reserve
	assert_equal "$output$stderr" ''
	assert_equal "$(cat "$IMG.list")" ''
	config 0644 <<<'0000:01:00.0 1234:1111'
	rm "$W/usr.up/sbin/vfio-reserve"
	run -0 --separate-stderr build vfio-reserve sd-vfio-reserve
	assert_equal "$output$stderr" ''
	assert_equal "$(cat "$IMG.list")" ''
}

@test "a config with a bad line: the binder warns with file and line, the image carries the config" {
	config 0644 <<-'EOF'
	0000:01:00.0 1234:1111
	0000:02:00.0 1234:1111 forse
	EOF
	run -0 --separate-stderr build vfio-reserve
	assert_equal "$output" ''
	assert_equal "$stderr" "vfio-reserve: /etc/vfio-reserve.conf:2: unknown option 'forse'
vfio-reserve: /etc/vfio-reserve.conf: lines with errors skipped: the initramfs reserves what the other lines say"
	run -0 cat "$IMG.list"
	assert_line 'file /etc/vfio-reserve.conf'
	assert_line 'binary /usr/sbin/vfio-reserve'
	assert_line 'runscript vfio-reserve'
	cmp "$W/etc.up/vfio-reserve.conf" "$IMG/etc/vfio-reserve.conf"
}

@test "an unusable config (writable by others) is left out with a warning, and the build does not fail" {
	config 0666 <<<'0000:01:00.0 1234:1111'
	for hook in vfio-reserve sd-vfio-reserve; do
		run -0 --separate-stderr build "$hook"
		assert_equal "$output" ''
		assert_equal "$stderr" "vfio-reserve: /etc/vfio-reserve.conf: writable by group or others (mode 0666): refusing to use it
==> WARNING: vfio-reserve: /etc/vfio-reserve.conf left out of the initramfs (see above): it reserves nothing at boot"
		run -0 cat "$IMG.list"
		assert_output ''
	done
}

@test "a module the image's kernel lacks is warned about, not a build error" {
	config 0644 <<<'0000:01:00.0 1234:1111'
	rm "$W/usr.up/lib/modules/$KVER/kernel/drivers/vfio/vfio_iommu_type1.ko"
	depmod -b "$W/usr.up" "$KVER" 2>/dev/null
	run -0 --separate-stderr build vfio-reserve
	assert_equal "$stderr" "==> WARNING: vfio-reserve: kernel $KVER has no module vfio_iommu_type1: devices reserved for it will stay unbound"
	run -0 cat "$IMG.list"
	assert_output - <<-'EOF'
	module vfio-pci
	binary /usr/sbin/vfio-reserve
	file /etc/vfio-reserve.conf
	runscript vfio-reserve
	EOF
	# Which the stand-in's add_module counts, as mkinitcpio does.
	printf '%s\n' 'build() { add_module vfio_iommu_type1 || return 0; }' >"$W/etc.up/initcpio/install/plain"
	run -1 --separate-stderr build plain
	assert_equal "$stderr" "==> ERROR: module not found: 'vfio_iommu_type1'
mkinitcpio-standin: 1 build errors"
}

@test "an image without modules (-k none): the binder, the config and the early hook, no module" {
	config 0644 <<<'0000:01:00.0 1234:1111'
	run -0 --separate-stderr in_root "$STANDIN" build "$IMG" none vfio-reserve
	assert_equal "$output$stderr" ''
	run -0 cat "$IMG.list"
	assert_output - <<-'EOF'
	binary /usr/sbin/vfio-reserve
	file /etc/vfio-reserve.conf
	runscript vfio-reserve
	EOF
}

@test "sd-vfio-reserve: the binder, the config, the modules and the unit, enabled in the image only; no runtime hook" {
	config 0644 <<<'0000:01:00.0 1234:1111'
	run -0 --separate-stderr build sd-vfio-reserve
	assert_equal "$output$stderr" ''
	run -0 cat "$IMG.list"
	assert_output - <<-'EOF'
	module vfio-pci
	module vfio_iommu_type1
	binary /usr/sbin/vfio-reserve
	file /etc/vfio-reserve.conf
	file /usr/lib/systemd/system/vfio-reserve.service
	symlink /usr/lib/systemd/system/sysinit.target.wants/vfio-reserve.service -> /usr/lib/systemd/system/vfio-reserve.service
	EOF
	cmp "$BATS_FILE_TMPDIR/dest/usr/lib/vfio-reserve/mkinitcpio/vfio-reserve.service" \
		"$IMG/usr/lib/systemd/system/vfio-reserve.service"
	[ ! -e "$IMG/hooks/sd-vfio-reserve" ]
	run -0 grep -x 'ExecStart=/usr/sbin/vfio-reserve apply --boot' "$IMG/usr/lib/systemd/system/vfio-reserve.service"
}

# The dracut unit's order, less dracut's own units: before udevd and its
# coldplug, and before systemd-modules-load, which loads MODULES=() in
# mkinitcpio's systemd image.
@test "the sd- unit is ordered as the dracut module's, without dracut's units" {
	local ours theirs
	ours=$(sed -n 's/^Before=//p' "$TOP/mkinitcpio/vfio-reserve.service" | tr ' ' '\n' | sort)
	theirs=$(sed -n 's/^Before=//p' "$TOP/dracut-module/vfio-reserve.service" | tr ' ' '\n' | grep -v '^dracut-' | sort)
	assert_equal "$ours" "$theirs"
	run -0 grep -c -x -e 'DefaultDependencies=no' -e 'Type=oneshot' -e 'RemainAfterExit=yes' \
		-e 'WantedBy=sysinit.target' -e 'Conflicts=shutdown.target' "$TOP/mkinitcpio/vfio-reserve.service"
	assert_output 5
	command -v systemd-analyze >/dev/null || fail "needs systemd-analyze (systemd)"
	# verify checks that ExecStart's program exists: the binder under test
	# there, not whatever /usr/sbin/vfio-reserve this machine has or lacks.
	mkdir -p "$BATS_TEST_TMPDIR/sbin"
	install -m 0755 "$BIN" "$BATS_TEST_TMPDIR/sbin/vfio-reserve"
	sed "s|@SBINDIR@|$BATS_TEST_TMPDIR/sbin|" "$TOP/mkinitcpio/vfio-reserve.service" >"$BATS_TEST_TMPDIR/vfio-reserve.service"
	run systemd-analyze verify --man=no "$BATS_TEST_TMPDIR/vfio-reserve.service"
	refute_output --partial 'vfio-reserve.service:'
}

@test "mkinitcpio -H: each hook says where it goes in HOOKS=()" {
	run -0 in_root "$STANDIN" help vfio-reserve
	assert_line '    HOOKS=(base vfio-reserve udev autodetect microcode modconf kms ...)'
	assert_line "With an image built with the 'systemd' hook use 'sd-vfio-reserve' instead."
	run -0 in_root "$STANDIN" help sd-vfio-reserve
	assert_line '    HOOKS=(base systemd sd-vfio-reserve autodetect microcode modconf kms ...)'
}

# ---- the runtime hook -----------------------------------------------------------

# What the stand-in's boot prints for HOOKS=(base vfio-reserve udev): the
# early hooks in order, udev's early hook starting udevd, then MODULES=(),
# then the hooks.
BOOT_ORDER='early vfio-reserve
early udev
udev: udevd started
modules
hook udev
udev: coldplug (udevadm trigger)'

@test "boot: the early hook runs 'vfio-reserve apply --boot' before udev starts and before MODULES=() loads" {
	config 0644 <<<'0000:01:00.0 1234:1111'
	fake_binder 0
	run -0 --separate-stderr build base vfio-reserve udev
	assert_equal "$stderr" ''
	run -0 --separate-stderr boot
	assert_output "$BOOT_ORDER"
	assert_equal "$stderr" 'vfio-reserve: fake says this on stderr'
	run -0 cat "$ARGV"
	assert_output - <<-'EOF'
	-c /etc/vfio-reserve.conf modules
	apply --boot
	EOF
}

@test "boot: a binder that fails, or is missing, never fails the hook" {
	config 0644 <<<'0000:01:00.0 1234:1111'
	for status in 1 2 139; do
		fake_binder "$status"
		run -0 build base vfio-reserve udev
		rm -f "$ARGV"
		run -0 --separate-stderr boot
		assert_output "$BOOT_ORDER"
		assert_equal "$(cat "$ARGV")" 'apply --boot'
	done
	rm "$W/usr.up/sbin/vfio-reserve"
	run -0 --separate-stderr boot
	assert_line --index 0 'early vfio-reserve'
	refute_output --partial 'exit'
}

# The kill switch is the binder's: it reads /proc/cmdline itself.  The hook
# calls it the same way whatever the command line says.
@test "boot: the hook leaves the kill switch to the binder (same call with vfio_reserve=off)" {
	config 0644 <<<'0000:01:00.0 1234:1111'
	fake_binder 0
	run -0 build base vfio-reserve udev
	rm -f "$ARGV"
	for cmdline in 'root=/dev/sda1 vfio_reserve=off' 'root=/dev/sda1 rd.vfio-reserve=0' 'root=/dev/sda1'; do
		CMDLINE=$cmdline run -0 boot
		assert_line --index 0 'early vfio-reserve'
	done
	run -0 cat "$ARGV"
	assert_output - <<-'EOF'
	apply --boot
	apply --boot
	apply --boot
	EOF
}
