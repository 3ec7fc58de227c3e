#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# bootloader-tools/trial-systemd-boot: the trial boot on systemd-boot, on
# a host made in a mount namespace (on_host) whose ESP, at /boot/efi, holds
# the entries Debian's own kernel-install (package systemd) writes for two
# kernels. What it did is read back with Debian's bootctl (package
# systemd-boot), whose `list` sorts the entries and picks the default the
# way systemd-boot does (tries left, sort-key, version, name), and with
# Debian's systemd-bless-boot, which blesses a trial entry for real against
# EFI variables in a tmpfs over /sys/firmware. The machine's kernel mounts
# no vfat here: the ESP is a directory bound on itself (a mount point, as
# bootctl wants one; kernel-install still names the files from /, since
# stat(1) gives /boot as its mount); tests/vm boots systemd-boot itself on
# a FAT ESP under OVMF.

load test_helper

OLD=6.1.0-27-amd64
NEW=6.1.0-28-amd64
LOADER=4a67b082-0a4c-41cf-b6c7-440b29bb8c4f
CMDLINE='root=UUID=0e3b5a3c-6c3e-4d0e-9d52-1f3c1b0c7a11 ro quiet intel_iommu=on iommu=pt'
# kernel-install's own plugins, without ours (KERNEL_INSTALL_PLUGINS): where
# `make install` put ours on this machine (tests/vm), kernel-install runs
# it too.
ENTRY_PLUGIN=$(ls /usr/lib/kernel/install.d/*.install | grep -v vfio-reserve | tr '\n' ' ')

setup() {
	command -v kernel-install >/dev/null || fail "needs kernel-install: apt-get install systemd"
	command -v bootctl >/dev/null || fail "needs bootctl: apt-get install systemd-boot"
	make_host_root
	ENTRIES=$ROOT/boot/efi/loader/entries
	echo debian > "$ROOT/etc/kernel/entry-token"
	echo "$CMDLINE" > "$ROOT/etc/kernel/cmdline"
	mkdir -p "$ENTRIES" "$ROOT/boot/efi/debian" "$ROOT/boot/efi/EFI/systemd" "$ROOT/usr/bin"
	echo type1 > "$ROOT/boot/efi/loader/entries.srel"
	cp /usr/lib/systemd/boot/efi/systemd-bootx64.efi "$ROOT/boot/efi/EFI/systemd/"
	# kernel-install below the root, for probe (find_program); the real one
	# runs from the machine's /usr/bin.
	printf '#!/bin/sh\nexec /usr/bin/kernel-install "$@"\n' > "$ROOT/usr/bin/kernel-install"
	chmod 0755 "$ROOT/usr/bin/kernel-install"
	for version in "$OLD" "$NEW"; do
		mkdir -p "$ROOT/usr/lib/modules/$version"
		echo "kernel $version" > "$ROOT/boot/vmlinuz-$version"
		echo "initramfs $version" > "$ROOT/boot/initrd.img-$version"
		on_esp kernel-install add "$version" "/boot/vmlinuz-$version"
	done
}

# on_esp COMMAND...: on_host, with /boot/efi a mount point of its own.
on_esp() {
	on_host sh -c 'mount --bind /boot/efi /boot/efi && exec "$@"' sh "$@"
}

trial() {
	"$GRUB_SCRIPTS/trial-systemd-boot" --root "$ROOT" "$@"
}

# The entries as bootctl lists them, in its order (systemd-boot's): one a
# line, the file name, the tries left where counted, and (default) on the
# one systemd-boot boots.
listed() {
	on_esp env SYSTEMD_RELAX_ESP_CHECKS=1 bootctl --esp-path=/boot/efi --no-pager list 2>&1 | awk '
		$1 == "title:" { default = / \(default\)/ }
		$1 == "source:" { n = split($2, p, "/"); name = p[n] }
		$1 == "tries:" { name = name " " $2 " left" }
		$1 == "options:" { print name (default ? " (default)" : "") }'
}

# set_efi_variable NAME VALUE: as systemd-boot leaves it in efivarfs.
set_efi_variable() {
	mkdir -p "$ROOT/sys/firmware/efi/efivars"
	{
		printf '\006\000\000\000'
		printf '%s\0' "$2" | iconv -t UTF-16LE
	} > "$ROOT/sys/firmware/efi/efivars/$1-$LOADER"
}

# What systemd-boot does when it boots NAME+1.conf: counts the try in the
# file's name and tells the OS so (LoaderEntrySelected, the name as it
# was, lower case; LoaderBootCountPath, the new one).
boot_trial_entry() {
	mv "$ENTRIES/$1+1.conf" "$ENTRIES/$1+0-1.conf"
	set_efi_variable LoaderEntrySelected "$1+1.conf"
	set_efi_variable LoaderBootCountPath "\\loader\\entries\\$1+0-1.conf"
}

boot_entry() {
	set_efi_variable LoaderEntrySelected "$1"
	rm -f "$ROOT/sys/firmware/efi/efivars/LoaderBootCountPath-$LOADER"
}

@test "probe: a kernel-install host with systemd-boot can have a trial" {
	run -0 --separate-stderr trial probe
	assert_output ''
	assert_equal "$stderr" ''
}

@test "probe: each reason why not is one line, exit 1" {
	rm "$ROOT/boot/efi/EFI/systemd/systemd-bootx64.efi"
	run -1 --separate-stderr trial probe
	assert_output 'systemd-boot is not installed in the ESP (no EFI/systemd/systemd-boot*.efi in /efi, /boot or /boot/efi)'
	cp /usr/lib/systemd/boot/efi/systemd-bootx64.efi "$ROOT/boot/efi/EFI/systemd/"
	echo other > "$ROOT/boot/efi/loader/entries.srel"
	run -1 trial probe
	assert_output '/boot/efi/loader/entries.srel is not type1: those entries are not the Boot Loader Specification'"'"'s'
	echo type1 > "$ROOT/boot/efi/loader/entries.srel"
	echo fedora > "$ROOT/etc/kernel/entry-token"
	run -1 trial probe
	assert_output '/boot/efi/loader/entries has no entry of kernel-install'"'"'s (fedora-*.conf)'
	echo debian > "$ROOT/etc/kernel/entry-token"
	# Debian's systemd-boot blesses every counted entry by itself, unless
	# the drop-in skips it.
	mkdir -p "$ROOT/lib/systemd"
	cp /lib/systemd/systemd-bless-boot "$ROOT/lib/systemd/"
	run -1 trial probe
	assert_output 'systemd-bless-boot would mark a trial boot good by itself: /usr/lib/systemd/system/systemd-bless-boot.service.d/vfio-reserve-trial.conf is missing'
	mkdir -p "$ROOT/usr/lib/systemd/system/systemd-bless-boot.service.d"
	: > "$ROOT/usr/lib/systemd/system/systemd-bless-boot.service.d/vfio-reserve-trial.conf"
	run -0 trial probe
	rm -r "$ROOT/boot/efi"
	run -1 trial probe
	assert_output 'kernel-install has no loader/entries in /efi, /boot or /boot/efi'
	rm "$ROOT/usr/bin/kernel-install"
	run -1 trial probe
	assert_output 'kernel-install is not installed'
}

@test "probe: an ESP mounted read-only cannot have a trial" {
	run -1 on_host sh -c 'mount --bind -o ro /boot/efi /boot/efi && mount -o remount,bind,ro /boot/efi && exec "$@"' \
		sh "$GRUB_SCRIPTS/trial-systemd-boot" probe
	assert_output '/boot/efi/loader/entries cannot be written'
}

@test "arm: every entry counted once, a fallback with vfio_reserve=previous sorted right after it; bootctl's default is the new kernel's trial entry, then its fallback once the try is spent" {
	run -0 listed
	assert_output - <<-EOF
	debian-$NEW.conf (default)
	debian-$OLD.conf
	EOF
	run -0 --separate-stderr trial arm
	assert_output "vfio-reserve: trial boot armed in /boot/efi/loader/entries: debian-$OLD+1.conf debian-$NEW+1.conf"
	assert_equal "$stderr" ''
	run -0 trial state
	assert_output armed
	run -0 listed
	assert_output - <<-EOF
	debian-$NEW+1.conf 1 left (default)
	debian-$NEW-vfio-reserve-previous.conf
	debian-$OLD+1.conf 1 left
	debian-$OLD-vfio-reserve-previous.conf
	EOF
	. /etc/os-release
	run -0 cat "$ENTRIES/debian-$NEW-vfio-reserve-previous.conf"
	assert_output - <<-EOF
	title      $PRETTY_NAME (vfio-reserve: last confirmed)
	version    $NEW
	sort-key   $ID
	options    $CMDLINE
	linux      /boot/efi/debian/$NEW/linux
	initrd     /boot/efi/debian/$NEW/initrd.img-$NEW
	options    vfio_reserve=previous
	EOF
	# The trial entry is kernel-install's, renamed (as kernel-install
	# writes it without our plugin, which would put it on the trial).
	KERNEL_INSTALL_PLUGINS=$ENTRY_PLUGIN on_esp sh -c "kernel-install add $NEW /boot/vmlinuz-$NEW && cat /boot/efi/loader/entries/debian-$NEW.conf" > "$BATS_TEST_TMPDIR/made"
	rm "$ENTRIES/debian-$NEW.conf"
	cmp "$BATS_TEST_TMPDIR/made" "$ENTRIES/debian-$NEW+1.conf"
	boot_trial_entry "debian-$NEW"
	run -0 trial state
	assert_output trying
	run -0 listed
	assert_output - <<-EOF
	debian-$NEW-vfio-reserve-previous.conf (default)
	debian-$OLD+1.conf 1 left
	debian-$OLD-vfio-reserve-previous.conf
	debian-$NEW+0-1.conf 0 left
	EOF
	boot_entry "debian-$NEW-vfio-reserve-previous.conf"
	run -0 trial state
	assert_output reverted
}

@test "state: none, armed, trying (this boot is a trial entry's), reverted (a try is spent, this boot is not a trial entry's)" {
	run -0 trial state
	assert_output none
	boot_entry "debian-$NEW.conf"
	run -0 trial state
	assert_output none
	trial -q arm
	run -0 trial state
	assert_output armed
	# The fallback booted by hand: nothing spent yet.
	boot_entry "debian-$NEW-vfio-reserve-previous.conf"
	run -0 trial state
	assert_output armed
	boot_trial_entry "debian-$NEW"
	run -0 trial state
	assert_output trying
	boot_entry "debian-$NEW-vfio-reserve-previous.conf"
	run -0 trial state
	assert_output reverted
	# The older kernel's trial entry chosen in the menu: that boot is a
	# trial boot too.
	boot_trial_entry "debian-$OLD"
	run -0 trial state
	assert_output trying
}

@test "clear after the trial boot: systemd-bless-boot is asked to bless the entry it booted, the others lose their counter, the fallbacks go" {
	trial -q arm
	boot_trial_entry "debian-$NEW"
	mkdir -p "$ROOT/var/tmp/efivars"
	cp "$ROOT"/sys/firmware/efi/efivars/* "$ROOT/var/tmp/efivars/"
	# The running system's: /sys/firmware/efi/efivars in a tmpfs.
	export UEFI=1
	run -0 --separate-stderr on_esp sh -c '
		mkdir /sys/firmware/efi/efivars && cp /var/tmp/efivars/* /sys/firmware/efi/efivars/ &&
		SYSTEMD_RELAX_ESP_CHECKS=1 exec "$@"' sh "$GRUB_SCRIPTS/trial-systemd-boot" clear
	unset UEFI
	assert_output - <<-EOF
	vfio-reserve: running: /lib/systemd/systemd-bless-boot good
	vfio-reserve: trial boot ended in /boot/efi/loader/entries
	EOF
	# In a container (this test machine may be one: /.dockerenv) the tool
	# refuses, and the entry is renamed as it would have renamed it.
	if systemd-detect-virt -q -c; then
		assert_equal "$stderr" "Marking a boot is not supported in containers.
vfio-reserve: /lib/systemd/systemd-bless-boot good did not bless /boot/efi/loader/entries/debian-$NEW+0-1.conf: renaming it"
	else
		assert_equal "$stderr" ''
	fi
	run -0 listed
	assert_output - <<-EOF
	debian-$NEW.conf (default)
	debian-$OLD.conf
	EOF
	run -0 trial state
	assert_output none
}

@test "clear without a trial boot (update --no-trial, or the trial accepted): counters out, fallbacks gone, as kernel-install made them" {
	original=$(snapshot_content)
	trial -q arm
	run -0 --separate-stderr trial clear
	assert_output 'vfio-reserve: trial boot ended in /boot/efi/loader/entries'
	assert_equal "$(snapshot_content)" "$original"
	run -0 trial clear
	assert_output 'vfio-reserve: no trial boot in /boot/efi/loader/entries'
}

@test "clear after kernel-install made an entry again during the trial (without our plugin): its counted one goes" {
	trial -q arm
	boot_trial_entry "debian-$NEW"
	KERNEL_INSTALL_PLUGINS=$ENTRY_PLUGIN on_esp kernel-install add "$NEW" "/boot/vmlinuz-$NEW"
	trial -q clear
	run -0 listed
	assert_output - <<-EOF
	debian-$NEW.conf (default)
	debian-$OLD.conf
	EOF
}

@test "arm again (update run twice, or after a reverted trial): one fresh trial, nothing left of the last" {
	trial -q arm
	armed=$(snapshot_content)
	trial -q arm
	assert_equal "$(snapshot_content)" "$armed"
	boot_trial_entry "debian-$NEW"
	boot_entry "debian-$NEW-vfio-reserve-previous.conf"
	trial -q arm
	run -0 trial state
	assert_output armed
	run -0 listed
	assert_output - <<-EOF
	debian-$NEW+1.conf 1 left (default)
	debian-$NEW-vfio-reserve-previous.conf
	debian-$OLD+1.conf 1 left
	debian-$OLD-vfio-reserve-previous.conf
	EOF
}

@test "arm: the user's own vfio_reserve= in an entry wins: its fallback adds none" {
	echo "$CMDLINE vfio_reserve=off" > "$ROOT/etc/kernel/cmdline"
	on_esp kernel-install add "$NEW" "/boot/vmlinuz-$NEW"
	trial -q arm
	run -0 grep '^options' "$ENTRIES/debian-$NEW-vfio-reserve-previous.conf"
	assert_output "options    $CMDLINE vfio_reserve=off"
	run -0 grep '^options' "$ENTRIES/debian-$OLD-vfio-reserve-previous.conf"
	assert_output - <<-EOF
	options    $CMDLINE
	options    vfio_reserve=previous
	EOF
}

@test "--dry-run: arm and clear say what they would do and change nothing" {
	before=$(snapshot)
	run -0 --separate-stderr trial --dry-run arm
	assert_output - <<-EOF
	vfio-reserve: would write /boot/efi/loader/entries/debian-$OLD-vfio-reserve-previous.conf
	vfio-reserve: would rename /boot/efi/loader/entries/debian-$OLD.conf to debian-$OLD+1.conf
	vfio-reserve: would write /boot/efi/loader/entries/debian-$NEW-vfio-reserve-previous.conf
	vfio-reserve: would rename /boot/efi/loader/entries/debian-$NEW.conf to debian-$NEW+1.conf
	EOF
	assert_equal "$(snapshot)" "$before"
	trial -q arm
	before=$(snapshot)
	run -0 --separate-stderr trial --dry-run clear
	assert_output - <<-EOF
	vfio-reserve: would rename /boot/efi/loader/entries/debian-$OLD+1.conf to debian-$OLD.conf
	vfio-reserve: would remove /boot/efi/loader/entries/debian-$OLD-vfio-reserve-previous.conf
	vfio-reserve: would rename /boot/efi/loader/entries/debian-$NEW+1.conf to debian-$NEW.conf
	vfio-reserve: would remove /boot/efi/loader/entries/debian-$NEW-vfio-reserve-previous.conf
	EOF
	assert_equal "$(snapshot)" "$before"
}

@test "arm where no trial is possible: the reason, exit 1, nothing changed" {
	rm "$ROOT/boot/efi/EFI/systemd/systemd-bootx64.efi"
	before=$(snapshot)
	run -1 --separate-stderr trial arm
	assert_output ''
	assert_equal "$stderr" 'vfio-reserve: no trial boot: systemd-boot is not installed in the ESP (no EFI/systemd/systemd-boot*.efi in /efi, /boot or /boot/efi)'
	assert_equal "$(snapshot)" "$before"
}

@test "the drop-in's ExecCondition, as systemd runs it: skips systemd-bless-boot while this boot is a trial entry's, not otherwise" {
	local dropin=$GRUB_SCRIPTS/../usr/lib/systemd/system/systemd-bless-boot.service.d/vfio-reserve-trial.conf
	[ -f "$dropin" ]
	run -0 grep -c '^ExecCondition=' "$dropin"
	assert_output 1
	# systemd takes it: Debian's unit with the drop-in, verified by
	# systemd-analyze (which names every key it does not know).
	local units=$BATS_TEST_TMPDIR/units
	mkdir -p "$units/systemd-bless-boot.service.d"
	cp /lib/systemd/system/systemd-bless-boot.service "$units/"
	cp "$dropin" "$units/systemd-bless-boot.service.d/"
	run -0 env SYSTEMD_UNIT_PATH="$units:" systemd-analyze verify "$units/systemd-bless-boot.service"
	assert_output ''
	# systemd's unquoting: the two words after /bin/sh, $$ for $; the
	# staged script stands at its LIBDIR.
	condition=$(sed -n "s/^ExecCondition=\/bin\/sh -c '\(.*\)'\$/\1/p" "$dropin" | sed 's/\$\$/$/g')
	condition=${condition//\/libdir\/trial-systemd-boot/$GRUB_SCRIPTS/trial-systemd-boot --root $ROOT}
	trial -q arm
	run -0 sh -c "$condition"
	boot_trial_entry "debian-$NEW"
	run -1 sh -c "$condition"
	boot_entry "debian-$NEW-vfio-reserve-previous.conf"
	run -0 sh -c "$condition"
	# Without vfio-reserve the service runs.
	run -0 sh -c "${condition//$GRUB_SCRIPTS/$BATS_TEST_TMPDIR/gone}"
}

# --- through update/trial, the real one ----------------------------------------

core() {
	"$GRUB_SCRIPTS/trial" --root "$ROOT" "$@"
}

@test "update/trial on this host: begin arms it here, confirm is refused before the trial boot, keeps it during it (the entry blessed), and check reports each state" {
	printf '01:00.0 10de:2204\n' > "$ROOT/etc/vfio-reserve.conf"
	run -0 --separate-stderr core begin
	assert_line -n 0 "vfio-reserve: trial boot armed in /boot/efi/loader/entries: debian-$OLD+1.conf debian-$NEW+1.conf"
	run -0 core report
	assert_output "OK trial: the next boot is a trial of the new reservation; run 'vfio-reserve confirm' once it is up"
	run -1 --separate-stderr core confirm
	assert_equal "$stderr" "vfio-reserve: the new reservation has not been booted yet: reboot, and run 'vfio-reserve confirm' once the host is up; nothing was changed"
	boot_trial_entry "debian-$NEW"
	run -0 core report
	assert_output "WARN trial: this boot is the trial of the new reservation: run 'vfio-reserve confirm' to keep it, or the next boot reserves what was confirmed last"
	run -0 --separate-stderr core confirm
	assert_line "vfio-reserve: confirmed: every boot reserves what $ROOT/etc/vfio-reserve.conf says"
	cmp "$ROOT/etc/vfio-reserve.conf" "$ROOT/var/lib/vfio-reserve/confirmed.conf"
	run -0 listed
	assert_output - <<-EOF
	debian-$NEW.conf (default)
	debian-$OLD.conf
	EOF
}

@test "update/trial on this host: a trial boot that went unconfirmed: confirm refused, nothing confirmed; update tries it again" {
	printf '01:00.0 10de:2204\n' > "$ROOT/etc/vfio-reserve.conf"
	core -q begin
	boot_trial_entry "debian-$NEW"
	boot_entry "debian-$NEW-vfio-reserve-previous.conf"
	run -0 core report
	assert_output "WARN trial: the trial boot of the new reservation went unconfirmed: every boot reserves what was confirmed last ($ROOT/var/lib/vfio-reserve/confirmed.conf) until 'vfio-reserve update' tries it again"
	run -1 --separate-stderr core confirm
	assert_equal "$stderr" "vfio-reserve: this boot runs the reservation confirmed last, not the new one: its trial boot went unconfirmed; run 'vfio-reserve update' to try it again, and confirm during that boot; nothing was changed"
	assert_file_not_exists "$ROOT/var/lib/vfio-reserve/confirmed.conf"
	core -q begin
	run -0 trial state
	assert_output armed
	# update --no-trial: accepted, the entries as kernel-install made them.
	core -q accept
	run -0 listed
	assert_output - <<-EOF
	debian-$NEW.conf (default)
	debian-$OLD.conf
	EOF
}

# --- kernel-install during a trial: its plugin -----------------------------------

# The plugin, as make install puts it into /usr/lib/kernel/install.d,
# naming the staged backend; in the root's /etc/kernel/install.d, where
# kernel-install finds it too.
add_plugin() {
	mkdir -p "$ROOT/etc/kernel/install.d"
	sed "s|/libdir/|$GRUB_SCRIPTS/|" "$GRUB_SCRIPTS/../usr/lib/kernel/install.d/91-vfio-reserve-trial.install" \
		> "$ROOT/etc/kernel/install.d/91-vfio-reserve-trial.install"
	chmod 0755 "$ROOT/etc/kernel/install.d/91-vfio-reserve-trial.install"
}

@test "kernel-install during a trial: an entry made again keeps its count, a new kernel joins the trial (no try left once it went unconfirmed), a removed kernel's fallback goes" {
	add_plugin
	trial -q arm
	# The initramfs rebuilt: kernel-install writes the entry anew.
	echo "$CMDLINE mitigations=off" > "$ROOT/etc/kernel/cmdline"
	on_esp kernel-install add "$NEW" "/boot/vmlinuz-$NEW"
	run -0 listed
	assert_output - <<-EOF
	debian-$NEW+1.conf 1 left (default)
	debian-$NEW-vfio-reserve-previous.conf
	debian-$OLD+1.conf 1 left
	debian-$OLD-vfio-reserve-previous.conf
	EOF
	run -0 grep -h '^options' "$ENTRIES/debian-$NEW+1.conf" "$ENTRIES/debian-$NEW-vfio-reserve-previous.conf"
	assert_output - <<-EOF
	options    $CMDLINE mitigations=off
	options    $CMDLINE mitigations=off
	options    vfio_reserve=previous
	EOF
	boot_trial_entry "debian-$NEW"
	on_esp kernel-install add "$NEW" "/boot/vmlinuz-$NEW"
	assert_file_exists "$ENTRIES/debian-$NEW+0-1.conf"
	assert_file_not_exists "$ENTRIES/debian-$NEW.conf"
	boot_entry "debian-$NEW-vfio-reserve-previous.conf"
	# A newer kernel after the trial went unconfirmed: its fallback boots.
	local newer=6.1.0-29-amd64
	mkdir -p "$ROOT/usr/lib/modules/$newer"
	echo "kernel $newer" > "$ROOT/boot/vmlinuz-$newer"
	on_esp kernel-install add "$newer" "/boot/vmlinuz-$newer"
	run -0 listed
	assert_output - <<-EOF
	debian-$newer-vfio-reserve-previous.conf (default)
	debian-$NEW-vfio-reserve-previous.conf
	debian-$OLD+1.conf 1 left
	debian-$OLD-vfio-reserve-previous.conf
	debian-$newer+0.conf 0 left
	debian-$NEW+0-1.conf 0 left
	EOF
	run -0 trial state
	assert_output reverted
	on_esp kernel-install remove "$OLD"
	run -0 ls "$ENTRIES"
	assert_output - <<-EOF
	debian-$NEW+0-1.conf
	debian-$NEW-vfio-reserve-previous.conf
	debian-$newer+0.conf
	debian-$newer-vfio-reserve-previous.conf
	EOF
}

@test "kernel-install without a trial: the plugin changes nothing" {
	add_plugin
	before=$(snapshot_content)
	on_esp kernel-install add "$NEW" "/boot/vmlinuz-$NEW"
	assert_equal "$(snapshot_content)" "$before"
}
