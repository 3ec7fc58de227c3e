#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# hooks/modprobe-conf, run by `vfio-reserve update`: /etc/modprobe.d/
# 00-vfio-reserve.conf from the real binder's modaliases, resolved by kmod's
# modprobe through the module indexes of every installed kernel.  The
# kernels are tiny: .ko files holding only a .modinfo section (made with
# objcopy), indexed by the real depmod, so that `modprobe -d ROOT -S KVER -R`
# reads real modules.alias.bin files.

load test_helper

setup() {
	[ -x "$REPO/binder/vfio-reserve" ] || skip "binder/vfio-reserve is not built"
	BINDER=$(realpath "$REPO/binder/vfio-reserve")
	make_root debian-12 dropin
	# shellcheck source=tests/lib/fixture.bash
	source "$REPO/tests/lib/fixture.bash"
	make_sysfs "$ROOT" <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm     1 -       subsys=1af4:1100
	00:02.0 1b36:000c 060400 2 pcieport      - -
	00:03.0 1b36:000c 060400 3 pcieport      - -
	01:00.0 1234:1111 038000 4 bochs-drm     - 00:02.0 subsys=1af4:1100
	01:00.1 8086:2668 040300 4 snd_hda_intel - 00:02.0 subsys=1af4:1100
	02:00.0 10de:2204 030000 5 nouveau       - 00:03.0
	02:00.1 10de:1aef 040300 5 snd_hda_intel - 00:03.0
	driver vfio-pci
	DESC
	rm -rf "$ROOT/lib/modules"
	# 6.1: bochs and snd_hda_intel.  6.12 adds a second driver for the
	# card (tiny_gpu) and vfio_pci, whose vfio_pci: alias matches no
	# function.  6.0.0-old was removed but left a directory, no index.
	kernel 6.1.0-test \
		bochs 'pci:v00001234d00001111sv*sd*bc03sc*i*' \
		snd_hda_intel 'pci:v00008086d00002668sv*sd*bc*sc*i*' \
		nouveau 'pci:v000010DEd*sv*sd*bc03sc*i*'
	kernel 6.12.0-new \
		bochs 'pci:v00001234d00001111sv*sd*bc03sc*i*' \
		tiny_gpu 'pci:v00001234d*sv00001AF4sd*bc03sc80i*' \
		snd_hda_intel 'pci:v00008086d00002668sv*sd*bc*sc*i*' \
		vfio_pci 'vfio_pci:v*d*sv*sd*bc*sc*i*'
	mkdir -p "$ROOT/lib/modules/6.0.0-old/updates" "$ROOT/etc/modprobe.d"
	FILE=$ROOT/etc/modprobe.d/00-vfio-reserve.conf
	OLD_FILE=$ROOT/etc/modprobe.d/vfio-reserve.conf
}

# kernel KVER [MODULE ALIAS]...: a kernel with these modules, indexed; a
# module in SOFTDEP has that MODULE_SOFTDEP.
declare -gA SOFTDEP=()
kernel() {
	local kver=$1 dir=$ROOT/lib/modules/$1
	shift
	mkdir -p "$dir/kernel"
	while [ $# -gt 0 ]; do
		printf 'alias=%s\0name=%s\0depends=\0vermagic=%s SMP mod_unload \0%s' \
			"$2" "$1" "$kver" "${SOFTDEP[$1]:+softdep=${SOFTDEP[$1]}}" >"$BATS_TEST_TMPDIR/modinfo"
		[ -z "${SOFTDEP[$1]-}" ] || printf '\0' >>"$BATS_TEST_TMPDIR/modinfo"
		objcopy -I binary -O elf64-x86-64 -B i386:x86-64 \
			--rename-section .data=.modinfo,contents,alloc,load,readonly,data \
			"$BATS_TEST_TMPDIR/modinfo" "$dir/kernel/$1.ko"
		shift 2
	done
	touch "$dir/modules.order" "$dir/modules.builtin" "$dir/modules.builtin.modinfo"
	depmod -b "$ROOT" "$kver"
}

rules() {
	printf '%s\n' "$@" >"$ROOT/etc/vfio-reserve.conf"
	chmod 0644 "$ROOT/etc/vfio-reserve.conf"
}

modprobe_conf() {
	VFIO_RESERVE=$BINDER "$GRUB_SCRIPTS/modprobe-conf" --root "$ROOT" "$@"
}

real_update() {
	unset VFIO_RESERVE
	VFIO_RESERVE_LIBDIR=$GRUB_SCRIPTS "$BINDER" --root "$ROOT" update "$@"
}

HEADER="# /etc/modprobe.d/00-vfio-reserve.conf: written by 'vfio-reserve update'
# from /etc/vfio-reserve.conf; do not edit (see vfio-reserve(8)).
# Each module below would bind a function the config reserves: vfio_pci
# loads before it, and loading vfio_pci first writes the overrides.
# Its name sorts first, so kmod takes these lines: each carries what the
# module's own softdep and the other files said for it."

# The binder by its installed path, whichever binder ran update.
install_line() {
	printf 'install vfio_pci %s apply --boot --unbound; /sbin/modprobe --ignore-install vfio_pci $CMDLINE_OPTS\n' "${1:-/usr/sbin/vfio-reserve}"
}

@test "kmod resolves the fixture kernels' aliases (the fixture is what the tests think it is)" {
	run -0 modprobe -d "$ROOT" -S 6.12.0-new -R pci:v00001234d00001111sv00001AF4sd00001100bc03sc80i00
	assert_equal "$(sort <<<"$output")" $'bochs\ntiny_gpu'
	run -0 modprobe -d "$ROOT" -S 6.1.0-test -R pci:v00001234d00001111sv00001AF4sd00001100bc03sc80i00
	assert_output bochs
}

@test "update writes a softdep for each module of every installed kernel that would bind card 1, and the install command" {
	rules '0000:01:00.0 1234:1111'
	run -0 real_update
	# Before the initramfs that carries it, and the kernel arguments last;
	# what kmod takes of it, read back.
	assert_line --index 2 "vfio-reserve: wrote $FILE"
	assert_line --index 3 "vfio-reserve: modprobe takes 'softdep bochs pre: vfio_pci'"
	assert_line --index 4 "vfio-reserve: modprobe takes 'softdep snd_hda_intel pre: vfio_pci'"
	assert_line --index 5 "vfio-reserve: modprobe takes 'softdep tiny_gpu pre: vfio_pci'"
	assert_line --index 6 "vfio-reserve: modprobe takes '$(install_line)'"
	assert_line --index 7 "vfio-reserve: found neither initramfs-tools, mkinitcpio nor dracut set up to build the initramfs; rebuild it by hand"
	assert_line --index 8 "vfio-reserve: wrote $ROOT/etc/default/grub.d/vfio-reserve.cfg"
	run -0 cat "$FILE"
	assert_output "$HEADER
softdep bochs pre: vfio_pci
softdep snd_hda_intel pre: vfio_pci
softdep tiny_gpu pre: vfio_pci
$(install_line)"
	assert_equal "$(stat -c %a "$FILE")" 644
}

@test "two cards, each with its own drivers: one softdep a module, sorted, none for vfio_pci" {
	rules '0000:01:00.0 1234:1111' '0000:02:00.0 10de:2204'
	run -0 modprobe_conf -q
	run -0 grep -v '^#' "$FILE"
	assert_output "softdep bochs pre: vfio_pci
softdep nouveau pre: vfio_pci
softdep snd_hda_intel pre: vfio_pci
softdep tiny_gpu pre: vfio_pci
$(install_line)"
}

@test "a function no kernel has a driver for: no softdep, the install command still" {
	rules '0000:02:00.1 10de:1aef single'
	run -0 modprobe_conf
	run -0 grep -v '^#' "$FILE"
	assert_output "$(install_line)"
}

@test "a second run is byte for byte idempotent and says so; a changed rule rewrites the file" {
	rules '0000:01:00.0 1234:1111'
	run -0 modprobe_conf
	before=$(snapshot)
	run -0 modprobe_conf
	assert_output "vfio-reserve: $FILE: up to date"
	assert_equal "$(snapshot)" "$before"
	rules '0000:02:00.0 10de:2204'
	run -0 modprobe_conf
	assert_line --index 0 "vfio-reserve: updated $FILE"
	run -0 grep -v '^#' "$FILE"
	assert_output "softdep nouveau pre: vfio_pci
$(install_line)"
	# A file edited by hand is put back.
	echo 'softdep nouveau pre: vfio_pci' >>"$FILE"
	run -0 modprobe_conf
	assert_line --index 0 "vfio-reserve: updated $FILE"
	[ "$(grep -c nouveau "$FILE")" = 1 ]
}

@test "--dry-run says what it would do and writes nothing" {
	rules '0000:01:00.0 1234:1111'
	before=$(snapshot)
	run -0 modprobe_conf --dry-run
	assert_output "vfio-reserve: would write $FILE"
	assert_equal "$(snapshot)" "$before"
	run -0 modprobe_conf
	rules '# 0000:01:00.0 1234:1111'
	before=$(snapshot)
	run -0 modprobe_conf --dry-run
	assert_output "vfio-reserve: would remove $FILE"
	assert_equal "$(snapshot)" "$before"
}

@test "no active rule, and update --remove: the file goes; nothing to remove is silent" {
	rules '0000:01:00.0 1234:1111'
	run -0 real_update
	assert_file_exist "$FILE"
	rules '# 0000:01:00.0 1234:1111'
	run -0 real_update
	assert_line "vfio-reserve: removed $FILE"
	assert_file_not_exist "$FILE"
	run -0 modprobe_conf
	assert_output ""

	rules '0000:01:00.0 1234:1111'
	run -0 real_update
	assert_file_exist "$FILE"
	run -0 real_update --remove
	assert_line "vfio-reserve: removed $FILE"
	assert_file_not_exist "$FILE"
	# Everything update wrote is gone again.
	cmp "$FIXTURES/default-grub/debian-12" "$ROOT/etc/default/grub"
	assert_file_not_exist "$ROOT/etc/default/grub.d/vfio-reserve.cfg"
}

@test "-q: written in silence" {
	rules '0000:01:00.0 1234:1111'
	run -0 --separate-stderr modprobe_conf -q
	assert_output ""
	assert_equal "$stderr" ""
	assert_file_exist "$FILE"
}

@test "a binder that fails stops it with the binder's status, the file untouched" {
	rules '0000:01:00.0 1234:1111'
	run -0 modprobe_conf
	rm "$ROOT/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.1/modalias"
	before=$(snapshot)
	run -1 --separate-stderr modprobe_conf
	assert_equal "$stderr" "vfio-reserve: $ROOT/sys/bus/pci/devices/0000:01:00.1/modalias: No such file or directory"
	assert_equal "$(snapshot)" "$before"
}

@test "the install command loads vfio_pci after the binder, never itself again (modprobe --dry-run -v)" {
	rules '0000:01:00.0 1234:1111'
	run -0 modprobe_conf
	# What kmod does with the file: loading bochs runs the install command
	# of vfio_pci first; modprobe --ignore-install vfio_pci skips it.
	run -0 modprobe -C "$ROOT/etc/modprobe.d" -d "$ROOT" -S 6.1.0-test --dry-run -v bochs
	# (kmod prints the command unexpanded, and a blank for no options)
	assert_line --index 0 "install /usr/sbin/vfio-reserve apply --boot --unbound; /sbin/modprobe --ignore-install vfio_pci \$CMDLINE_OPTS "
	run -0 modprobe -C "$ROOT/etc/modprobe.d" -d "$ROOT" -S 6.12.0-new --dry-run -v --ignore-install vfio_pci
	assert_output "insmod $ROOT/lib/modules/6.12.0-new/kernel/vfio_pci.ko "
}

@test "the install command names the binder where make install put it (SBINDIR), quoted for the shell modprobe runs it with" {
	rules '0000:01:00.0 1234:1111'
	dest=$BATS_TEST_TMPDIR/dest
	run -0 make -s -C "$REPO" install-scripts DESTDIR="$dest" SBINDIR="/opt/my tools/sbin"
	VFIO_RESERVE=$BINDER run -0 "$dest/usr/lib/vfio-reserve/modprobe-conf" --root "$ROOT"
	run -0 grep '^install' "$FILE"
	assert_output "$(install_line "'/opt/my tools/sbin/vfio-reserve'")"
	# What kmod runs (it prints the command as sh will get it).
	run -0 modprobe -C "$ROOT/etc/modprobe.d" -d "$ROOT" -S 6.1.0-test --dry-run -v bochs
	assert_line --index 0 "install '/opt/my tools/sbin/vfio-reserve' apply --boot --unbound; /sbin/modprobe --ignore-install vfio_pci \$CMDLINE_OPTS "
	# sh takes the path as one word.
	binder_command=${lines[0]#install }
	run -0 sh -c "set -- ${binder_command%%;*}; printf '%s\n' \"\$1\""
	assert_output "/opt/my tools/sbin/vfio-reserve"
}

# kmod_loads KVER MODULE: what loading MODULE does in the kernel KVER, as
# kmod tells it (--dry-run -v): "install COMMAND" or "insmod MODULE", one
# a line, in order.  BINDER_FIRST: our install command so told.
BINDER_FIRST="install /usr/sbin/vfio-reserve apply --boot --unbound; /sbin/modprobe --ignore-install vfio_pci \$CMDLINE_OPTS"
kmod_loads() {
	modprobe -C "$ROOT/etc/modprobe.d" -d "$ROOT" -S "$1" --dry-run -v "$2" |
		sed -e 's|^insmod .*/\([^/]*\)\.ko $|insmod \1|' -e 's|^install \(.*\) $|install \1|'
}

@test "the file's name sorts before modules.softdep and a user's files: kmod takes our lines (measured with modprobe -c)" {
	rules '0000:01:00.0 1234:1111'
	# A user's lines for the same modules in the usual places.
	for name in vfio local blacklist 50-user 01-early modules; do
		echo "softdep tiny_gpu post: $name" >"$ROOT/etc/modprobe.d/$name.conf"
	done
	mkdir -p "$ROOT/lib/modprobe.d"
	echo 'softdep tiny_gpu post: lib' >"$ROOT/lib/modprobe.d/0a.conf"
	run -0 modprobe_conf -q
	# Ours carries the line kmod took without it (the first by name).
	run -0 grep '^softdep tiny_gpu' "$FILE"
	assert_output 'softdep tiny_gpu pre: vfio_pci post: 01-early'
	# kmod takes ours (kmod 30 prints no blank before "post:").
	run -0 modprobe -C "$ROOT/etc/modprobe.d" -C "$ROOT/lib/modprobe.d" -d "$ROOT" -S 6.12.0-new -c
	assert_equal "$(grep -m1 '^softdep tiny_gpu' <<<"$output")" \
		'softdep tiny_gpu pre: vfio_pcipost: 01-early'
}

@test "a module with its own MODULE_SOFTDEP: vfio_pci first, then its own pre: and post: (kmod takes our line)" {
	rules '0000:01:00.0 1234:1111'
	SOFTDEP[bochs]='pre: drm_helper post: fb_helper'
	kernel 6.14.0-softdep bochs 'pci:v00001234d00001111sv*sd*bc03sc*i*' \
		drm_helper 'test:drm_helper' fb_helper 'test:fb_helper'
	run -0 --separate-stderr modprobe_conf
	assert_output "vfio-reserve: wrote $FILE
vfio-reserve: modprobe takes 'softdep bochs pre: vfio_pci drm_helper post: fb_helper'
vfio-reserve: modprobe takes 'softdep snd_hda_intel pre: vfio_pci'
vfio-reserve: modprobe takes 'softdep tiny_gpu pre: vfio_pci'
vfio-reserve: modprobe takes '$(install_line)'"
	assert_equal "$stderr" ""
	run -0 grep '^softdep bochs' "$FILE"
	assert_output 'softdep bochs pre: vfio_pci drm_helper post: fb_helper'
	# What loading bochs does: the binder and vfio_pci, the module's own
	# pre:, the module, its own post:.
	run -0 kmod_loads 6.14.0-softdep bochs
	assert_output "$BINDER_FIRST
insmod drm_helper
insmod bochs
insmod fb_helper"
	# A kernel without that softdep loses nothing by it.
	run -0 kmod_loads 6.1.0-test bochs
	assert_output "$BINDER_FIRST
insmod bochs"
}

@test "a user's softdep (local.conf) for a module is merged into ours: both kernels, their order, vfio-pci named once" {
	rules '0000:01:00.0 1234:1111'
	SOFTDEP[bochs]='pre: drm_helper'
	kernel 6.14.0-softdep bochs 'pci:v00001234d00001111sv*sd*bc03sc*i*' \
		drm_helper 'test:drm_helper' fb_helper 'test:fb_helper'
	# local.conf sorts before modules.softdep: kmod would take it, not the
	# module's own, for bochs in every kernel.
	printf '%s\n' 'softdep bochs pre: fb_helper vfio-pci post: drm_helper' \
		'softdep tiny_gpu post: fb_helper' >"$ROOT/etc/modprobe.d/local.conf"
	# The distribution's file of that name, which the user's overrides:
	# kmod never reads it.
	mkdir -p "$ROOT/lib/modprobe.d"
	echo 'softdep bochs pre: drm_helper' >"$ROOT/lib/modprobe.d/local.conf"
	run -0 modprobe_conf -q
	run -0 grep '^softdep' "$FILE"
	assert_output 'softdep bochs pre: vfio_pci fb_helper post: drm_helper
softdep snd_hda_intel pre: vfio_pci
softdep tiny_gpu pre: vfio_pci post: fb_helper'
	run -0 kmod_loads 6.14.0-softdep bochs
	assert_output "$BINDER_FIRST
insmod fb_helper
insmod bochs
insmod drm_helper"
	# The user changes their line: ours follows at the next update.
	echo 'softdep bochs pre: drm_helper' >"$ROOT/etc/modprobe.d/local.conf"
	run -0 modprobe_conf -q
	run -0 grep '^softdep bochs' "$FILE"
	assert_output 'softdep bochs pre: vfio_pci drm_helper'
}

@test "a user's install command for vfio-pci still runs, after the binder, as the user wrote it" {
	rules '0000:01:00.0 1234:1111'
	log=$BATS_TEST_TMPDIR/log
	# Quotes, a backslash (kmod hands sh 'a\b') and the options.
	printf '%s\n' "install vfio-pci printf '%s|' \"it's\" 'a\\\\b' >>$log; echo \"opts \$CMDLINE_OPTS\" >>$log" \
		>"$ROOT/etc/modprobe.d/vfio.conf"
	run -0 modprobe -C "$ROOT/etc/modprobe.d" -d "$ROOT" -S 6.12.0-new -c
	theirs=$(grep -m1 '^install vfio_pci ' <<<"$output")
	run -0 modprobe_conf -q
	run -0 grep '^install' "$FILE"
	assert_output "install vfio_pci /usr/sbin/vfio-reserve apply --boot --unbound; /bin/sh -c 'printf '\"'\"'%s|'\"'\"' \"it'\"'\"'s\" '\"'\"'a\\\\b'\"'\"' >>$log; echo \"opts \$CMDLINE_OPTS\" >>$log'"
	# kmod takes ours, and runs the user's command after the binder (a
	# stand-in that logs) with the options: what theirs alone does.
	run -0 modprobe -C "$ROOT/etc/modprobe.d" -d "$ROOT" -S 6.12.0-new -c
	ours=$(grep -m1 '^install vfio_pci ' <<<"$output")
	command=${ours#install vfio_pci /usr/sbin/vfio-reserve}
	sh -c "echo binder >>$log; :${command//\$CMDLINE_OPTS/ids=1234:1111}"
	mv "$log" "$log.ours"
	theirs=${theirs#install vfio_pci }
	sh -c "echo binder >>$log; ${theirs//\$CMDLINE_OPTS/ids=1234:1111}"
	cmp "$log" "$log.ours"
	run -0 cat "$log.ours"
	assert_output "binder
it's|a\\b|opts ids=1234:1111"
}

@test "upgrade: the file's earlier name (vfio-reserve.conf) goes when update writes this one, and is not taken for a user's; --remove removes both" {
	rules '0000:01:00.0 1234:1111'
	mkdir -p "$ROOT/etc/modprobe.d"
	printf '%s\n' 'softdep bochs pre: vfio_pci' "$(install_line)" >"$OLD_FILE"
	run -0 modprobe_conf
	assert_line --index 0 "vfio-reserve: wrote $FILE"
	assert_line --index 1 "vfio-reserve: removed $OLD_FILE"
	assert_file_not_exist "$OLD_FILE"
	run -0 grep -v '^#' "$FILE"
	assert_output "softdep bochs pre: vfio_pci
softdep snd_hda_intel pre: vfio_pci
softdep tiny_gpu pre: vfio_pci
$(install_line)"
	# Left behind beside an up-to-date file (an update cut short): it goes.
	printf '%s\n' 'softdep bochs pre: vfio_pci' >"$OLD_FILE"
	run -0 modprobe_conf
	assert_output "vfio-reserve: $FILE: up to date
vfio-reserve: removed $OLD_FILE"
	printf '%s\n' 'softdep bochs pre: vfio_pci' >"$OLD_FILE"
	run -0 real_update --remove
	assert_line "vfio-reserve: removed $FILE"
	assert_line "vfio-reserve: removed $OLD_FILE"
	assert_file_not_exist "$FILE"
	assert_file_not_exist "$OLD_FILE"
}

@test "a file whose name sorts before ours: update says which of its lines kmod takes instead; --report and check's WARN; OK when ours win" {
	rules '0000:01:00.0 1234:1111'
	run -0 modprobe_conf -q
	# check (boot-setup's report, which check shows): kmod takes ours.
	run -0 "$GRUB_SCRIPTS/boot-setup" --root "$ROOT" report
	assert_line "OK modprobe: kmod takes every line of /etc/modprobe.d/00-vfio-reserve.conf, in every installed kernel"
	run -0 modprobe_conf --report
	assert_output ""
	printf '%s\n' 'softdep tiny_gpu post: snd_hda_intel' 'install vfio-pci /bin/true' \
		>"$ROOT/etc/modprobe.d/00-a-mine.conf"
	run -0 modprobe_conf -q
	run -0 --separate-stderr modprobe_conf
	assert_output "vfio-reserve: $FILE: up to date"
	assert_equal "$stderr" "vfio-reserve: 6.1.0-test: modprobe takes 'install vfio_pci /bin/true' (read before $FILE): loading vfio_pci does not run vfio-reserve
vfio-reserve: 6.12.0-new: modprobe takes 'softdep tiny_gpu post: snd_hda_intel' (read before $FILE): vfio_pci does not load before tiny_gpu
vfio-reserve: 6.12.0-new: modprobe takes 'install vfio_pci /bin/true' (read before $FILE): loading vfio_pci does not run vfio-reserve"
	run -1 modprobe_conf --report
	assert_output "6.1.0-test: modprobe takes 'install vfio_pci /bin/true' (read before $FILE): loading vfio_pci does not run vfio-reserve
6.12.0-new: modprobe takes 'softdep tiny_gpu post: snd_hda_intel' (read before $FILE): vfio_pci does not load before tiny_gpu
6.12.0-new: modprobe takes 'install vfio_pci /bin/true' (read before $FILE): loading vfio_pci does not run vfio-reserve"
	run -0 "$GRUB_SCRIPTS/boot-setup" --root "$ROOT" report
	refute_line --partial "OK modprobe:"
	assert_line "WARN modprobe: 6.12.0-new: modprobe takes 'softdep tiny_gpu post: snd_hda_intel' (read before $FILE): vfio_pci does not load before tiny_gpu"
	assert_line "WARN modprobe: 6.1.0-test: modprobe takes 'install vfio_pci /bin/true' (read before $FILE): loading vfio_pci does not run vfio-reserve"
	assert_line "WARN modprobe: 6.12.0-new: modprobe takes 'install vfio_pci /bin/true' (read before $FILE): loading vfio_pci does not run vfio-reserve"
	# And so check says, through the binder (--json: one finding a line).
	VFIO_RESERVE_LIBDIR=$GRUB_SCRIPTS run "$BINDER" --root "$ROOT" check --json
	assert_line --partial '{"level":"WARN","topic":"modprobe","message":"6.1.0-test: modprobe takes '"'install vfio_pci /bin/true'"
	assert_line --partial '{"level":"WARN","topic":"modprobe","message":"6.12.0-new: modprobe takes '"'softdep tiny_gpu post: snd_hda_intel'"
	assert_line --partial '{"level":"WARN","topic":"modprobe","message":"6.12.0-new: modprobe takes '"'install vfio_pci /bin/true'"
	# A line before ours that loads vfio_pci first anyway is no loss.
	echo 'softdep tiny_gpu pre: vfio-pci' >"$ROOT/etc/modprobe.d/00-a-mine.conf"
	run -0 modprobe_conf --report
	assert_output ""
	# No file, no finding.
	run -0 modprobe_conf --remove
	run -0 "$GRUB_SCRIPTS/boot-setup" --root "$ROOT" report
	refute_line --partial "modprobe:"
}

@test "modprobe-conf is shellcheck clean POSIX sh" {
	cd "$REPO" && shellcheck -x -s sh hooks/modprobe-conf
}
