#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# bootloader-tools/bootloader through update/update with the REAL grubby (grubby-bls as
# Fedora ships it, from ../shared/upstream) on a Fedora 40 host made in a
# mount namespace (on_host): BLS entries in /boot/loader/entries, grubenv,
# /etc/default/grub, /etc/kernel/cmdline. The invariant of every boot-loader
# tool: each entry carries the arguments of `vfio-reserve cmdline` once; the
# user's values win and survive, in their order, wherever grubby keeps them;
# a second update changes nothing; --remove gives every file back; a kernel
# installed later (Fedora's 20-grub.install) gets what the entries have; what
# was applied is read back from grubby, never assumed.

load test_helper

setup() {
	export FAKE_LOG=$BATS_TEST_TMPDIR/binder.log
	export FAKE_CMDLINE="${ARGS[*]}"
	export VFIO_RESERVE=$FIXTURES/bin/fake-vfio-reserve
	IDS=vfio-pci.ids=10de:2204,10de:1aef
	NO_INITRAMFS='vfio-reserve: found neither initramfs-tools, mkinitcpio nor dracut set up to build the initramfs; rebuild it by hand'
	require_upstream grubby/grubby-bls fedora-grub2/20-grub.install
	command -v grub-editenv >/dev/null || fail "needs grub-editenv (grubby's grub2-editenv): apt-get install grub-common"
	make_host_root
	cp "$UPSTREAM/grubby/grubby-bls" "$ROOT/usr/sbin/grubby"
	ln -s "$(command -v grub-editenv)" "$ROOT/usr/sbin/grub2-editenv"
	rm -f "$ROOT/etc/os-release"
	cat > "$ROOT/etc/os-release" <<-'EOF'
	NAME="Fedora Linux"
	VERSION="40 (Workstation Edition)"
	ID=fedora
	VERSION_ID=40
	PRETTY_NAME="Fedora Linux 40 (Workstation Edition)"
	EOF
	echo 'Fedora release 40 (Forty)' > "$ROOT/etc/system-release"
	# Fedora's /etc/default/grub, with a _DEFAULT line a user added.
	{
		cat "$FIXTURES/default-grub/fedora-40"
		echo 'GRUB_CMDLINE_LINUX_DEFAULT="mitigations=off"'
	} > "$ROOT/etc/default/grub"
	mkdir -p "$ROOT/boot/grub2"
	grub-editenv "$ROOT/boot/grub2/grubenv" create
	grub-editenv "$ROOT/boot/grub2/grubenv" set saved_entry=0123456789abcdef0123456789abcdef-6.9.7-200.fc40.x86_64
	ENTRY_OPTIONS='root=UUID=0e3b5a3c ro rhgb quiet'
	for version in 6.8.5-301.fc40.x86_64 6.9.7-200.fc40.x86_64; do
		bls_entry "$version" "$ENTRY_OPTIONS"
	done
	printf '%s\n' "$ENTRY_OPTIONS" 'console=tty0 console=ttyS0,115200' > "$ROOT/etc/kernel/cmdline"
}

entries_options() { options_lines "$ROOT/boot/loader/entries"; }

@test "grubby (real): every entry gets the arguments once; a second update changes nothing; --remove gives every file back byte for byte" {
	original=$(snapshot_content)
	run -0 --separate-stderr host_update
	assert_output - <<-EOF
	vfio-reserve: kernel arguments: ${ARGS[*]}
	vfio-reserve: running: grubby --update-kernel=ALL --args="${ARGS[*]}" --no-etc-grub-update
	vfio-reserve: updated /etc/kernel/cmdline
	vfio-reserve: updated /etc/default/grub
	vfio-reserve: done; reboot for the change to take effect
	EOF
	assert_equal "$stderr" "$NO_INITRAMFS"
	run -0 entries_options
	assert_output - <<-EOF
	$ENTRY_OPTIONS ${ARGS[*]}
	$ENTRY_OPTIONS ${ARGS[*]}
	EOF
	# The user's lines stay as they were, their _DEFAULT line a _DEFAULT
	# line; ours come after them, on the first line of /etc/kernel/cmdline.
	run -0 cat "$ROOT/etc/kernel/cmdline"
	assert_output - <<-EOF
	$ENTRY_OPTIONS ${ARGS[*]}
	console=tty0 console=ttyS0,115200
	EOF
	run -0 grep '^GRUB_CMDLINE' "$ROOT/etc/default/grub"
	assert_output - <<-'EOF'
	GRUB_CMDLINE_LINUX="rhgb quiet"
	GRUB_CMDLINE_LINUX_DEFAULT="mitigations=off"
	EOF
	grep -qx '# BEGIN vfio-reserve' "$ROOT/etc/default/grub"
	assert_equal "$(cat "$ROOT/var/lib/vfio-reserve/grubby.added")" "${ARGS[*]}"

	updated=$(snapshot)
	run -0 --separate-stderr host_update
	assert_line 'vfio-reserve: grubby: up to date'
	assert_equal "$(snapshot)" "$updated"

	run -0 --separate-stderr host_update --remove
	assert_line "vfio-reserve: running: grubby --update-kernel=ALL --remove-args=\"${ARGS[*]}\" --no-etc-grub-update"
	assert_equal "$(snapshot_content)" "$original"
}

@test "grubby (real): the user's values in /etc/default/grub, grubenv and /etc/kernel/cmdline win and survive update and --remove" {
	sed -i 's/^GRUB_CMDLINE_LINUX="rhgb quiet"$/GRUB_CMDLINE_LINUX="rhgb quiet iommu=soft"/' "$ROOT/etc/default/grub"
	printf '%s\n' "$ENTRY_OPTIONS" 'console=tty0 intel_iommu=off' > "$ROOT/etc/kernel/cmdline"
	grub-editenv "$ROOT/boot/grub2/grubenv" set "kernelopts=$ENTRY_OPTIONS vfio_pci.ids=8086:1539"
	original=$(snapshot_content)
	run -0 --separate-stderr host_update
	# Nothing is given for intel_iommu, iommu or vfio-pci.ids: all three
	# are the user's somewhere.
	assert_output - <<-EOF
	vfio-reserve: kernel arguments: ${ARGS[*]}
	vfio-reserve: grubby: up to date
	vfio-reserve: /etc/kernel/cmdline: up to date
	vfio-reserve: /etc/default/grub: up to date
	vfio-reserve: done; reboot for the change to take effect
	EOF
	assert_equal "$(snapshot_content)" "$original"
	run -0 --separate-stderr host_update --remove
	assert_equal "$(snapshot_content)" "$original"

	# Only iommu=soft is theirs: ours for the others go everywhere, theirs stays.
	printf '%s\n' "$ENTRY_OPTIONS" 'console=tty0' > "$ROOT/etc/kernel/cmdline"
	grub-editenv "$ROOT/boot/grub2/grubenv" unset kernelopts
	original=$(snapshot_content)
	run -0 --separate-stderr host_update
	run -0 entries_options
	assert_output - <<-EOF
	$ENTRY_OPTIONS intel_iommu=on $IDS
	$ENTRY_OPTIONS intel_iommu=on $IDS
	EOF
	run -0 grep '^GRUB_CMDLINE_LINUX=' "$ROOT/etc/default/grub"
	assert_output 'GRUB_CMDLINE_LINUX="rhgb quiet iommu=soft"'
	run -0 cat "$ROOT/etc/kernel/cmdline"
	assert_output - <<-EOF
	$ENTRY_OPTIONS intel_iommu=on $IDS
	console=tty0
	EOF
	run -0 --separate-stderr host_update --remove
	assert_equal "$(snapshot_content)" "$original"
}

@test "grubby (real) collapses blanks in the entries' options: the user's words and their order survive update and --remove" {
	bls_entry 6.9.7-200.fc40.x86_64 "root=UUID=0e3b5a3c  ro	rhgb quiet  console=ttyS0 console=tty0"
	run -0 --separate-stderr host_update
	run -0 --separate-stderr host_update --remove
	run -0 entries_options
	assert_output - <<-EOF
	$ENTRY_OPTIONS
	root=UUID=0e3b5a3c ro rhgb quiet console=ttyS0 console=tty0
	EOF
}

@test "grubby (real): without /etc/kernel/cmdline none is made, by grubby or by us" {
	rm "$ROOT/etc/kernel/cmdline"
	original=$(snapshot_content)
	run -0 --separate-stderr host_update
	assert_file_not_exist "$ROOT/etc/kernel/cmdline"
	run -0 entries_options
	assert_line --index 0 "$ENTRY_OPTIONS ${ARGS[*]}"
	run -0 --separate-stderr host_update --remove
	assert_equal "$(snapshot_content)" "$original"
}

@test "grubby (real) on a read-only /boot exits 0 having changed nothing: update says so, exit 1, no record; the next update repairs it" {
	original=$(snapshot_content)
	RO_BOOT=1 run -1 --separate-stderr host_update
	assert_equal "${stderr_lines[-1]}" "vfio-reserve: grubby exited 0 but a boot entry lacks '${ARGS[*]}': it did not apply them; run 'vfio-reserve update' again"
	assert_file_not_exist "$ROOT/var/lib/vfio-reserve/grubby.added"
	assert_equal "$(snapshot_content)" "$original"
	run -0 --separate-stderr host_update
	run -0 entries_options
	assert_output - <<-EOF
	$ENTRY_OPTIONS ${ARGS[*]}
	$ENTRY_OPTIONS ${ARGS[*]}
	EOF
	assert_equal "$(cat "$ROOT/var/lib/vfio-reserve/grubby.added")" "${ARGS[*]}"
	# A --remove that grubby does not carry out keeps the record.
	RO_BOOT=1 run -1 --separate-stderr host_update --remove
	assert_equal "$(cat "$ROOT/var/lib/vfio-reserve/grubby.added")" "${ARGS[*]}"
}

@test "grubby (real): a kernel installed later (Fedora's 20-grub.install) gets exactly what the entries have" {
	# 20-grub.install reads every line; a second line would be the user's
	# own difference between old and new kernels.
	printf '%s\n' "$ENTRY_OPTIONS" > "$ROOT/etc/kernel/cmdline"
	run -0 --separate-stderr host_update
	version=6.10.3-200.fc40.x86_64
	echo kernel > "$ROOT/boot/vmlinuz-$version"
	KERNEL_INSTALL_MACHINE_ID=0123456789abcdef0123456789abcdef on_host \
		bash "$UPSTREAM/fedora-grub2/20-grub.install" add "$version" \
		"/boot/0123456789abcdef0123456789abcdef/$version" "/boot/vmlinuz-$version" 2>/dev/null
	run -0 entries_options
	assert_output - <<-EOF
	$ENTRY_OPTIONS ${ARGS[*]}
	$ENTRY_OPTIONS ${ARGS[*]}
	$ENTRY_OPTIONS ${ARGS[*]}
	EOF
}

@test "grubby (real): --dry-run only reads (grubby --info=ALL) and says what it would run" {
	before=$(snapshot)
	run -0 --separate-stderr host_update --dry-run
	assert_output - <<-EOF
	vfio-reserve: kernel arguments: ${ARGS[*]}
	vfio-reserve: would run: grubby --update-kernel=ALL --args="${ARGS[*]}" --no-etc-grub-update
	vfio-reserve: would update /etc/kernel/cmdline
	vfio-reserve: would update /etc/default/grub
	vfio-reserve: dry run: nothing was changed
	EOF
	assert_equal "$(snapshot)" "$before"
}

@test "grubby (real): the staged record of a run killed before renaming it goes at the next run; a dry run leaves it" {
	mkdir "$ROOT/var/lib/vfio-reserve"
	stale=$ROOT/var/lib/vfio-reserve/.grubby.added.vfio-reserve.Xy12Zw
	echo half > "$stale"
	run -0 --separate-stderr host_update --dry-run
	assert_file_exist "$stale"
	run -0 --separate-stderr host_update
	assert_file_not_exist "$stale"
	assert_equal "$(ls -A "$ROOT/var/lib/vfio-reserve")" "grubby.added
kernel-cmdline.added"
}

@test "grubby (real): a GRUB block an earlier vfio-reserve wrote is the one update keeps; --remove then leaves /etc/default/grub as it was" {
	cp "$ROOT/etc/default/grub" "$BATS_TEST_TMPDIR/grub.orig"
	"$GRUB_SCRIPTS/kernel-cmdline" --root "$ROOT" -q set "${ARGS[@]}"
	grep -qx '# BEGIN vfio-reserve' "$ROOT/etc/default/grub"
	run -0 --separate-stderr host_update
	assert_line 'vfio-reserve: /etc/default/grub: up to date'
	run -0 --separate-stderr host_update --remove
	cmp "$BATS_TEST_TMPDIR/grub.orig" "$ROOT/etc/default/grub"
}

@test "grubby (real): with the rule commented out, update takes out all of ours: every file as before" {
	original=$(snapshot_content)
	run -0 --separate-stderr host_update
	FAKE_CMDLINE='' run -0 --separate-stderr host_update
	assert_line --index 1 "vfio-reserve: running: grubby --update-kernel=ALL --remove-args=\"${ARGS[*]}\" --no-etc-grub-update"
	assert_equal "$(snapshot_content)" "$original"
}

@test "grubby (real), RHEL 8 style: entries with \$kernelopts get ours through grubenv's kernelopts; --remove gives grubenv and the entries back" {
	for version in 6.8.5-301.fc40.x86_64 6.9.7-200.fc40.x86_64; do
		bls_entry "$version" '$kernelopts'
	done
	grub-editenv "$ROOT/boot/grub2/grubenv" set "kernelopts=$ENTRY_OPTIONS"
	original=$(snapshot_content)
	run -0 --separate-stderr host_update
	run -0 grub-editenv "$ROOT/boot/grub2/grubenv" list
	assert_line "kernelopts=$ENTRY_OPTIONS ${ARGS[*]}"
	run -0 entries_options
	assert_output - <<-'EOF'
	$kernelopts
	$kernelopts
	EOF
	assert_equal "$(cat "$ROOT/var/lib/vfio-reserve/grubby.added")" "${ARGS[*]}"
	updated=$(snapshot_content)
	run -0 --separate-stderr host_update
	assert_line 'vfio-reserve: grubby: up to date'
	assert_equal "$(snapshot_content)" "$updated"
	run -0 --separate-stderr host_update --remove
	assert_equal "$(snapshot_content)" "$original"
}
