#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# bootloader-tools/trial-grub, the trial boot's GRUB side, with the real
# grub-editenv and grub-probe on a real /boot: an ext4 (or btrfs) image
# loop-mounted in a private mount namespace; and what the real grub-mkconfig
# makes of 09_vfio-reserve and the drop-in. What GRUB itself does with the
# block at boot is tests/vm's (the GRUB trial boots).

load test_helper

setup() {
	unshare -m true 2>/dev/null || skip "needs root and mount namespaces to mount a /boot"
	ROOT=$BATS_TEST_TMPDIR/root
	mkdir -p "$ROOT"/usr/bin "$ROOT"/usr/sbin "$ROOT"/boot "$ROOT"/run \
		"$ROOT"/etc/grub.d "$ROOT"/etc/default/grub.d
	cp /usr/bin/grub-editenv "$ROOT/usr/bin/"
	cp /usr/sbin/grub-probe /usr/sbin/grub-mkconfig "$ROOT/usr/sbin/"
	install_grub_files
	boot_image ext4
}

# The package's two GRUB files as `make install` lays them out, naming the
# staged scripts' directory as LIBDIR.
install_grub_files() {
	sed "s|@LIBDIR@|$GRUB_SCRIPTS|g" "$REPO/grub/09_vfio-reserve" >"$ROOT/etc/grub.d/09_vfio-reserve"
	chmod 0755 "$ROOT/etc/grub.d/09_vfio-reserve"
	sed "s|@LIBDIR@|$GRUB_SCRIPTS|g" "$REPO/grub/vfio-reserve-trial.cfg" \
		>"$ROOT/etc/default/grub.d/vfio-reserve-trial.cfg"
}

# boot_image FS: $BOOT_IMG, a FS file system holding grub/, the /boot that
# trial runs with.
boot_image() {
	BOOT_IMG=$BATS_TEST_TMPDIR/boot.$1
	rm -f "$BOOT_IMG"
	case $1 in
	ext4)
		mkdir -p "$BATS_TEST_TMPDIR/boot.d/grub"
		truncate -s 16M "$BOOT_IMG"
		mkfs.ext4 -q -d "$BATS_TEST_TMPDIR/boot.d" "$BOOT_IMG"
		;;
	btrfs)
		command -v mkfs.btrfs >/dev/null || fail "needs mkfs.btrfs: apt-get install btrfs-progs"
		mkdir -p "$BATS_TEST_TMPDIR/boot.d/grub"
		truncate -s 128M "$BOOT_IMG"
		mkfs.btrfs -q -r "$BATS_TEST_TMPDIR/boot.d" "$BOOT_IMG" >/dev/null 2>&1
		;;
	esac
}

# on_boot COMMAND...: COMMAND with $BOOT_IMG mounted on $ROOT/boot.
on_boot() {
	unshare -m sh -ec 'mount -o loop "$1" "$2/boot"; shift 2; exec "$@"' \
		sh "$BOOT_IMG" "$ROOT" "$@"
}

trial() {
	on_boot "$GRUB_SCRIPTS/trial-grub" --root "$ROOT" "$@"
}

# grub-editenv's own listing of the image's grubenv.
grubenv_list() {
	on_boot grub-editenv "$ROOT/boot/grub/grubenv" list
}

# A grub.cfg with the trial block, as `update` leaves it before it arms.
grub_cfg_with_block() {
	on_boot sh -c '"$1" --root "$2" grub-script >"$2/boot/grub/grub.cfg"' \
		sh "$GRUB_SCRIPTS/trial-grub" "$ROOT"
}

@test "probe: a plain ext4 /boot, read by the real grub-probe, takes a trial" {
	run -0 --separate-stderr trial probe
	assert_output ''
	assert_equal "$stderr" ''
}

@test "probe: btrfs, which GRUB cannot write at boot, says so on one line" {
	boot_image btrfs
	run -0 on_boot "$ROOT/usr/sbin/grub-probe" --target=fs "$ROOT/boot/grub"
	assert_output btrfs
	run -1 --separate-stderr trial probe
	assert_output "GRUB cannot write its environment block on btrfs ($ROOT/boot/grub/grubenv)"
	assert_equal "$stderr" ''
}

# LVM, mdraid and LUKS need device-mapper and md devices this container
# cannot make: a stand-in grub-probe says what the real one prints there.
@test "probe: /boot/grub on an abstraction (stand-in grub-probe: lvm, cryptodisk luks)" {
	for abstraction in lvm 'cryptodisk luks' diskfilter; do
		printf '#!/bin/sh\ncase "$1" in --target=abstraction) printf "%%s\\n" %s ;; *) echo ext2 ;; esac\n' \
			"'$abstraction'" >"$ROOT/usr/sbin/grub-probe"
		run -1 trial probe
		assert_output "GRUB cannot write its environment block on $abstraction ($ROOT/boot/grub/grubenv)"
	done
}

@test "probe: each missing piece is named" {
	mv "$ROOT/usr/bin/grub-editenv" "$BATS_TEST_TMPDIR/"
	run -1 trial probe
	assert_output "grub-editenv is not installed"
	mv "$BATS_TEST_TMPDIR/grub-editenv" "$ROOT/usr/bin/"

	upstream_grub_mkconfig >"$ROOT/usr/sbin/grub-mkconfig"
	run -1 trial probe
	assert_output "$ROOT/usr/sbin/grub-mkconfig does not read /etc/default/grub.d, where the trial's kernel argument goes"
	cp /usr/sbin/grub-mkconfig "$ROOT/usr/sbin/"

	chmod 0644 "$ROOT/etc/grub.d/09_vfio-reserve"
	run -1 trial probe
	assert_output "$ROOT/etc/grub.d/09_vfio-reserve is missing or not executable: GRUB's menu has no trial block"
	chmod 0755 "$ROOT/etc/grub.d/09_vfio-reserve"

	rm "$ROOT/etc/default/grub.d/vfio-reserve-trial.cfg"
	run -1 trial probe
	assert_output "$ROOT/etc/default/grub.d/vfio-reserve-trial.cfg is missing: GRUB's entries do not carry the trial's kernel argument"
	install_grub_files

	# This container's own / is on a disk grub-probe cannot open.
	run -1 "$GRUB_SCRIPTS/trial-grub" --root "$ROOT" probe
	assert_output "$ROOT/boot/grub is not there: GRUB is not installed on this host"

	printf 'not an environment block\n' >"$BATS_TEST_TMPDIR/boot.d/grub/grubenv"
	boot_image ext4
	run -1 trial probe
	assert_output "$ROOT/boot/grub/grubenv is not a GRUB environment block that grub-editenv can read"
}

@test "arm, state, clear: read back from grubenv with the real grub-editenv" {
	run -0 trial state
	assert_output none
	# No grub.cfg with the block yet: nothing is armed.
	run -1 --separate-stderr trial arm
	assert_equal "$stderr" "vfio-reserve: $ROOT/boot/grub/grub.cfg has no trial block of /etc/grub.d/09_vfio-reserve: regenerate it (update-grub) and run again; nothing was changed"
	run -0 on_boot test ! -e "$ROOT/boot/grub/grubenv"

	grub_cfg_with_block
	run -0 trial --dry-run arm
	assert_output "vfio-reserve: would set vfio_reserve_trial=armed in $ROOT/boot/grub/grubenv"
	run -0 on_boot test ! -e "$ROOT/boot/grub/grubenv"

	run -0 --separate-stderr trial arm
	assert_output ''
	assert_equal "$stderr" ''
	run -0 grubenv_list
	assert_output vfio_reserve_trial=armed
	run -0 trial state
	assert_output armed

	# What GRUB's block writes at boot, by grub-editenv here.
	for value in trying reverted; do
		run -0 on_boot grub-editenv "$ROOT/boot/grub/grubenv" set "vfio_reserve_trial=$value"
		run -0 trial state
		assert_output "$value"
	done

	run -0 trial --dry-run clear
	assert_output "vfio-reserve: would unset vfio_reserve_trial (reverted) in $ROOT/boot/grub/grubenv"
	run -0 trial state
	assert_output reverted

	run -0 trial clear
	assert_output ''
	run -0 grubenv_list
	assert_output ''
	run -0 trial state
	assert_output none
	run -0 trial clear
	assert_output ''
	run -0 grubenv_list
	assert_output ''
}

@test "arm keeps the other variables of grubenv (GRUB's saved_entry)" {
	mkdir -p "$BATS_TEST_TMPDIR/boot.d/grub"
	grub-editenv "$BATS_TEST_TMPDIR/boot.d/grub/grubenv" set saved_entry=gnulinux-simple
	boot_image ext4
	grub_cfg_with_block
	run -0 trial -q arm
	assert_output ''
	run -0 grubenv_list
	assert_output - <<-'EOF'
	saved_entry=gnulinux-simple
	vfio_reserve_trial=armed
	EOF
	run -0 trial -q clear
	run -0 grubenv_list
	assert_output saved_entry=gnulinux-simple
}

@test "arm on btrfs: refused with the reason, nothing written" {
	boot_image btrfs
	run -1 --separate-stderr trial arm
	assert_output ''
	assert_equal "$stderr" "vfio-reserve: no trial boot: GRUB cannot write its environment block on btrfs ($ROOT/boot/grub/grubenv)"
	run -0 on_boot test ! -e "$ROOT/boot/grub/grubenv"
}

@test "state: a value GRUB's block does not know is no trial, and said" {
	mkdir -p "$BATS_TEST_TMPDIR/boot.d/grub"
	grub-editenv "$BATS_TEST_TMPDIR/boot.d/grub/grubenv" set vfio_reserve_trial=maybe
	boot_image ext4
	run -0 --separate-stderr trial state
	assert_output none
	assert_equal "$stderr" "vfio-reserve: $ROOT/boot/grub/grubenv: vfio_reserve_trial has the unknown value 'maybe': taken as no trial"
}

@test "grub-script: the block where GRUB can write grubenv, a comment where it cannot" {
	run -0 trial grub-script
	assert_line 'if [ "${vfio_reserve_trial}" = armed ]; then'
	assert_line '  save_env vfio_reserve_trial'
	assert_line 'export vfio_reserve_arg'
	boot_image btrfs
	run -0 trial grub-script
	assert_output "# vfio-reserve: no trial boot: GRUB cannot write its environment block on btrfs ($ROOT/boot/grub/grubenv)"
}

# --- the real grub-mkconfig ---------------------------------------------------

# grub_mkconfig_linux_lines (test_helper) runs Debian's grub-mkconfig with
# 10_linux and $ROOT/etc/grub.d, its grub-probe a stand-in saying ext2.
mkconfig_root() {
	make_root debian-12 dropin
	mkdir -p "$ROOT/etc/grub.d"
	install_grub_files
}

@test "grub-mkconfig: our block after the header, \${vfio_reserve_arg} on every linux line, recovery included" {
	mkconfig_root
	run -0 kernel_cmdline set "${ARGS[@]}"
	run -0 grub_mkconfig_linux_lines
	local ids=vfio-pci.ids=10de:2204,10de:1aef
	assert_output - <<-EOF
	simple	linux	/boot/vmlinuz-6.1.0-test root=/dev/vfio-reserve-test-root ro \${vfio_reserve_arg} quiet intel_iommu=on iommu=pt $ids
	advanced	linux	/boot/vmlinuz-6.1.0-test root=/dev/vfio-reserve-test-root ro \${vfio_reserve_arg} quiet intel_iommu=on iommu=pt $ids
	recovery	linux	/boot/vmlinuz-6.1.0-test root=/dev/vfio-reserve-test-root ro single \${vfio_reserve_arg}
	EOF
	# The block, whole, between grub-mkconfig's markers, before the entries.
	sed -n '/^### BEGIN \/etc\/grub.d\/09_vfio-reserve ###$/,/^### END \/etc\/grub.d\/09_vfio-reserve ###$/p' \
		"$BATS_TEST_TMPDIR/grub.cfg" | sed '1d;$d' >"$BATS_TEST_TMPDIR/block"
	run -1 grep -F 'no trial boot' "$BATS_TEST_TMPDIR/block"
	run -0 grep -c -x -F '  save_env vfio_reserve_trial' "$BATS_TEST_TMPDIR/block"
	assert_output 2
	run -0 grep -c -x -e '  load_env vfio_reserve_trial' -e 'export vfio_reserve_arg' "$BATS_TEST_TMPDIR/block"
	assert_output 3
	run -0 awk '/^### BEGIN \/etc\/grub.d\/09_vfio-reserve/ { b = NR } /^menuentry / && !m { m = NR } END { print (b && b < m) }' \
		"$BATS_TEST_TMPDIR/grub.cfg"
	assert_output 1
}

@test "grub-mkconfig where GRUB cannot write grubenv: a comment instead of the block" {
	mkconfig_root
	printf 'not an environment block\n' >"$ROOT/boot/grub/grubenv"
	run -0 grub_mkconfig_linux_lines
	run -0 sed -n '/^### BEGIN \/etc\/grub.d\/09_vfio-reserve ###$/,/^### END/p' "$BATS_TEST_TMPDIR/grub.cfg"
	assert_output - <<-'EOF'
	### BEGIN /etc/grub.d/09_vfio-reserve ###
	# vfio-reserve: no trial boot: /boot/grub/grubenv is not a GRUB environment block that grub-editenv can read
	### END /etc/grub.d/09_vfio-reserve ###
	EOF
}

@test "grub-mkconfig with the package removed (its conffiles kept): an empty block, the entries as without them" {
	make_root debian-12 dropin
	run -0 grub_mkconfig_linux_lines
	cp "$BATS_TEST_TMPDIR/grub.cfg" "$BATS_TEST_TMPDIR/grub.cfg.without"
	mkdir -p "$ROOT/etc/grub.d"
	sed "s|@LIBDIR@|$BATS_TEST_TMPDIR/removed|g" "$REPO/grub/09_vfio-reserve" >"$ROOT/etc/grub.d/09_vfio-reserve"
	chmod 0755 "$ROOT/etc/grub.d/09_vfio-reserve"
	sed "s|@LIBDIR@|$BATS_TEST_TMPDIR/removed|g" "$REPO/grub/vfio-reserve-trial.cfg" \
		>"$ROOT/etc/default/grub.d/vfio-reserve-trial.cfg"
	run -0 grub_mkconfig_linux_lines
	refute_output --partial vfio_reserve_arg
	run -0 grep -A1 -x '### BEGIN /etc/grub.d/09_vfio-reserve ###' "$BATS_TEST_TMPDIR/grub.cfg"
	assert_output - <<-'EOF'
	### BEGIN /etc/grub.d/09_vfio-reserve ###
	### END /etc/grub.d/09_vfio-reserve ###
	EOF
	# grub-mkconfig's two markers and the blank line after each script.
	diff -u "$BATS_TEST_TMPDIR/grub.cfg.without" \
		<(sed '/^### BEGIN \/etc\/grub.d\/09_vfio-reserve ###$/,/^$/d' "$BATS_TEST_TMPDIR/grub.cfg")
}

# --- with the core, update/trial -----------------------------------------------

@test "trial begin, confirm and check's report with this backend: grubenv armed, then cleared by confirm during the trial boot" {
	mkdir -p "$ROOT/etc" "$ROOT/var/lib"
	printf '0000:01:00.0 10de:2204\n' >"$ROOT/etc/vfio-reserve.conf"
	grub_cfg_with_block
	run -0 --separate-stderr on_boot "$GRUB_SCRIPTS/trial" --root "$ROOT" begin
	assert_equal "$stderr" ''
	run -0 grubenv_list
	assert_output vfio_reserve_trial=armed
	run -0 on_boot "$GRUB_SCRIPTS/trial" --root "$ROOT" report
	assert_output "OK trial: the next boot is a trial of the new reservation; run 'vfio-reserve confirm' once it is up"
	# The trial boot, as GRUB's block leaves grubenv.
	on_boot grub-editenv "$ROOT/boot/grub/grubenv" set vfio_reserve_trial=trying
	run -0 --separate-stderr on_boot "$GRUB_SCRIPTS/trial" --root "$ROOT" confirm
	assert_equal "$stderr" ''
	run -0 grubenv_list
	assert_output ''
	cmp "$ROOT/etc/vfio-reserve.conf" "$ROOT/var/lib/vfio-reserve/confirmed.conf"
}

@test "trial begin where /boot is on btrfs: no trial, the reason from this backend, the change accepted" {
	boot_image btrfs
	mkdir -p "$ROOT/etc" "$ROOT/var/lib"
	printf '0000:01:00.0 10de:2204\n' >"$ROOT/etc/vfio-reserve.conf"
	run -0 --separate-stderr on_boot "$GRUB_SCRIPTS/trial" --root "$ROOT" begin
	assert_equal "$stderr" "vfio-reserve: no trial boot: GRUB cannot write its environment block on btrfs ($ROOT/boot/grub/grubenv); the change takes effect at every boot without one"
	run -0 on_boot test ! -e "$ROOT/boot/grub/grubenv"
	cmp "$ROOT/etc/vfio-reserve.conf" "$ROOT/var/lib/vfio-reserve/confirmed.conf"
}
