#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# grub/kernel-cmdline: the editor of /etc/default/grub, its drop-in and
# /etc/kernel/cmdline.

load test_helper

# --- where the arguments go ------------------------------------------------

@test "Debian: the arguments go to a drop-in and /etc/default/grub is not touched" {
	make_root debian-12 dropin
	run -0 kernel_cmdline set "${ARGS[@]}"
	assert_output "vfio-reserve: wrote $ROOT/etc/default/grub.d/vfio-reserve.cfg"
	cmp "$FIXTURES/default-grub/debian-12" "$ROOT/etc/default/grub"
	assert_file_permission 644 "$ROOT/etc/default/grub.d/vfio-reserve.cfg"
	assert_file_owner root "$ROOT/etc/default/grub.d/vfio-reserve.cfg"
}

@test "the drop-in appends to GRUB_CMDLINE_LINUX_DEFAULT what is not given yet" {
	make_root debian-12 dropin
	run -0 kernel_cmdline set "${ARGS[@]}"
	cmp "$FIXTURES/expected/vfio-reserve.cfg" "$ROOT/etc/default/grub.d/vfio-reserve.cfg"
}

@test "the drop-in sorts after Ubuntu's cloud drop-in, which sets GRUB_CMDLINE_LINUX_DEFAULT outright" {
	make_root ubuntu-24.04 dropin
	cp "$FIXTURES/grub.d/50-cloudimg-settings.cfg" "$ROOT/etc/default/grub.d/"
	run -0 kernel_cmdline set "${ARGS[@]}"
	run -0 grub_values
	assert_output - <<-'EOF'
	LINUX=
	DEFAULT=console=tty1 console=ttyS0 intel_iommu=on iommu=pt vfio-pci.ids=10de:2204,10de:1aef
	EOF
}

@test "without grub.d support the arguments go between markers at the end of /etc/default/grub" {
	make_root arch inplace
	run -0 kernel_cmdline set "${ARGS[@]}"
	assert_output "vfio-reserve: updated $ROOT/etc/default/grub"
	assert_file_not_exist "$ROOT/etc/default/grub.d/vfio-reserve.cfg"
	size=$(wc -c < "$FIXTURES/default-grub/arch")
	cmp -n "$size" "$FIXTURES/default-grub/arch" "$ROOT/etc/default/grub"
	run -0 tail -n +"$(($(wc -l < "$FIXTURES/default-grub/arch") + 1))" "$ROOT/etc/default/grub"
	assert_line --index 0 '# BEGIN vfio-reserve'
	assert_line --index -1 '# END vfio-reserve'
	# The block is the drop-in's code between the markers.
	assert_equal "$(printf '%s\n' "${lines[@]:1:${#lines[@]}-2}")" "$(cat "$FIXTURES/expected/vfio-reserve.cfg")"
}

@test "grub-mkconfig is found where Fedora (grub2-mkconfig) and Arch (/usr/bin) put it" {
	make_root fedora-40 inplace
	mv "$ROOT/usr/sbin/grub-mkconfig" "$ROOT/usr/sbin/grub2-mkconfig"
	run -0 kernel_cmdline set "${ARGS[@]}"
	assert_output "vfio-reserve: updated $ROOT/etc/default/grub"

	make_root debian-12 dropin
	mkdir -p "$ROOT/usr/bin"
	mv "$ROOT/usr/sbin/grub-mkconfig" "$ROOT/usr/bin/grub-mkconfig"
	run -0 kernel_cmdline set "${ARGS[@]}"
	assert_output "vfio-reserve: wrote $ROOT/etc/default/grub.d/vfio-reserve.cfg"
}

@test "with /etc/default/grub and no grub-mkconfig to read, the edit is in place" {
	make_root debian-12 inplace
	rm "$ROOT/usr/sbin/grub-mkconfig"
	run -0 kernel_cmdline set "${ARGS[@]}"
	assert_output "vfio-reserve: updated $ROOT/etc/default/grub"
}

@test "with neither GRUB nor /etc/kernel/cmdline it says what to add by hand" {
	ROOT=$BATS_TEST_TMPDIR/root
	mkdir -p "$ROOT/etc"
	run -0 --separate-stderr kernel_cmdline set "${ARGS[@]}"
	assert_output ''
	assert_equal "$stderr" "vfio-reserve: found neither GRUB ($ROOT/etc/default/grub) nor $ROOT/etc/kernel/cmdline; add these kernel arguments by hand: intel_iommu=on iommu=pt vfio-pci.ids=10de:2204,10de:1aef"
	run -0 find "$ROOT" -mindepth 1 -not -path "$ROOT/etc" -not -path "$ROOT/run*"
	assert_output ''
}

# --- what GRUB reads ---------------------------------------------------------

@test "every fixture, both ways: GRUB reads the arguments on GRUB_CMDLINE_LINUX_DEFAULT, the user's values kept" {
	for mode in dropin inplace; do
		for fixture in "${GRUB_FIXTURES[@]}"; do
			make_root "$fixture" "$mode"
			run -0 kernel_cmdline set "${ARGS[@]}"
			run -0 grub_values
			assert_output "LINUX=$(expected_linux "$fixture")
DEFAULT=$(expected_default "$fixture")" || fail "fixture $fixture, $mode"
		done
	done
}

@test "an argument the user has on either variable is not added again, and still comes back byte for byte" {
	for mode in dropin inplace; do
		make_root user-args "$mode"
		run -0 kernel_cmdline set "${ARGS[@]}"
		run -0 grub_values
		assert_line 'LINUX=console=tty0 console=ttyS0,115200n8 intel_iommu=on'
		assert_line 'DEFAULT=quiet iommu=pt mitigations=off vfio-pci.ids=10de:2204,10de:1aef'
		run -0 kernel_cmdline remove
		cmp "$FIXTURES/default-grub/user-args" "$ROOT/etc/default/grub"
	done
}

@test "an argument the user adds after the update is not doubled either" {
	make_root debian-12 dropin
	run -0 kernel_cmdline set "${ARGS[@]}"
	sed -i 's/^GRUB_CMDLINE_LINUX=""/GRUB_CMDLINE_LINUX="iommu=pt"/' "$ROOT/etc/default/grub"
	run -0 grub_values
	assert_line 'LINUX=iommu=pt'
	assert_line 'DEFAULT=quiet intel_iommu=on vfio-pci.ids=10de:2204,10de:1aef'
}

# --- idempotent, reversible --------------------------------------------------

@test "every fixture: a second run changes no byte and no mtime" {
	for case in "${EDIT_CASES[@]}"; do
		fixture=${case%:*}
		mode=${case#*:}
		make_root "$fixture" "$mode"
		add_kernel_cmdline fedora
		run -0 kernel_cmdline set "${ARGS[@]}"
		before=$(snapshot)
		run -0 kernel_cmdline set "${ARGS[@]}"
		assert_equal "$(snapshot)" "$before" || fail "fixture $fixture, $mode"
		if [ "$mode" = dropin ]; then
			changed=$ROOT/etc/default/grub.d/vfio-reserve.cfg
		else
			changed=$ROOT/etc/default/grub
		fi
		assert_output "vfio-reserve: $ROOT/etc/kernel/cmdline: up to date
vfio-reserve: $changed: up to date"
	done
}

@test "every fixture: remove restores every file byte for byte, also after two different sets" {
	for case in "${EDIT_CASES[@]}"; do
		fixture=${case%:*}
		mode=${case#*:}
		make_root "$fixture" "$mode"
		add_kernel_cmdline fedora
		before=$(snapshot_content)
		run -0 kernel_cmdline set "${ARGS[@]}"
		run -0 kernel_cmdline set amd_iommu=pgtbl_v2 iommu=pt video=efifb:off
		run -0 kernel_cmdline remove
		cmp "$FIXTURES/default-grub/$fixture" "$ROOT/etc/default/grub" || fail "fixture $fixture, $mode"
		cmp "$FIXTURES/kernel-cmdline/fedora" "$ROOT/etc/kernel/cmdline"
		assert_file_not_exist "$ROOT/etc/default/grub.d/vfio-reserve.cfg"
		assert_file_not_exist "$ROOT/var/lib/vfio-reserve"
		assert_equal "$(snapshot_content)" "$before" || fail "fixture $fixture, $mode"
	done
}

@test "set with no argument (no active rule) is remove" {
	for mode in dropin inplace; do
		make_root no-final-newline "$mode"
		run -0 kernel_cmdline set "${ARGS[@]}"
		run -0 kernel_cmdline set
		cmp "$FIXTURES/default-grub/no-final-newline" "$ROOT/etc/default/grub"
		assert_file_not_exist "$ROOT/etc/default/grub.d/vfio-reserve.cfg"
	done
}

@test "a file that ended without a newline gets one before the block, and loses it again" {
	make_root no-final-newline inplace
	run -0 kernel_cmdline set "${ARGS[@]}"
	run -0 tail -c 60 "$ROOT/etc/default/grub"
	assert_output --partial "unset vfio_reserve_args vfio_reserve_add
# END vfio-reserve"
	run -0 tail -c 1 "$ROOT/etc/default/grub"
	assert_output 'e'
	run -0 grep -c -x '# The last line has no newline.' "$ROOT/etc/default/grub"
	run -0 kernel_cmdline remove
	cmp "$FIXTURES/default-grub/no-final-newline" "$ROOT/etc/default/grub"
}

@test "lines the user added after the block are kept; the block moves to the end" {
	make_root arch inplace
	run -0 kernel_cmdline set "${ARGS[@]}"
	echo 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT nowatchdog"' >> "$ROOT/etc/default/grub"
	run -0 kernel_cmdline set "${ARGS[@]}"
	assert_output "vfio-reserve: updated $ROOT/etc/default/grub"
	run -0 tail -n 1 "$ROOT/etc/default/grub"
	assert_output '# END vfio-reserve'
	run -0 kernel_cmdline remove
	{ cat "$FIXTURES/default-grub/arch"
	  echo 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT nowatchdog"'; } > "$BATS_TEST_TMPDIR/expected"
	cmp "$BATS_TEST_TMPDIR/expected" "$ROOT/etc/default/grub"
}

@test "moving to a grub-mkconfig with grub.d support takes the block out and writes the drop-in" {
	make_root debian-12 inplace
	run -0 kernel_cmdline set "${ARGS[@]}"
	cp /usr/sbin/grub-mkconfig "$ROOT/usr/sbin/grub-mkconfig"
	run -0 kernel_cmdline set "${ARGS[@]}"
	assert_output "vfio-reserve: updated $ROOT/etc/default/grub
vfio-reserve: wrote $ROOT/etc/default/grub.d/vfio-reserve.cfg"
	cmp "$FIXTURES/default-grub/debian-12" "$ROOT/etc/default/grub"
}

# --- refusals ----------------------------------------------------------------

@test "an unparsable /etc/default/grub is refused with file and line, and nothing is written" {
	for mode in dropin inplace; do
		make_root unbalanced-quote "$mode"
		add_kernel_cmdline fedora
		before=$(snapshot)
		run -1 --separate-stderr kernel_cmdline set "${ARGS[@]}"
		assert_output ''
		assert_equal "$stderr" "vfio-reserve: $ROOT/etc/default/grub:7: not valid shell (Syntax error: Unterminated quoted string); nothing was changed"
		assert_equal "$(snapshot)" "$before"
	done
}

@test "a broken block of markers is refused" {
	make_root debian-12 inplace
	echo '# BEGIN vfio-reserve' >> "$ROOT/etc/default/grub"
	before=$(snapshot)
	run -1 --separate-stderr kernel_cmdline set "${ARGS[@]}"
	assert_equal "$stderr" "vfio-reserve: $ROOT/etc/default/grub:40: the lines '# BEGIN vfio-reserve' and '# END vfio-reserve' do not make one block; fix them by hand; nothing was changed"
	run -1 --separate-stderr kernel_cmdline remove
	assert_equal "$(snapshot)" "$before"
}

@test "a symbolic link is refused, not replaced by a file" {
	make_root debian-12 inplace
	mv "$ROOT/etc/default/grub" "$ROOT/etc/default/grub.real"
	ln -s grub.real "$ROOT/etc/default/grub"
	before=$(snapshot)
	run -1 --separate-stderr kernel_cmdline set "${ARGS[@]}"
	assert_equal "$stderr" "vfio-reserve: $ROOT/etc/default/grub: is a symbolic link; edit its target and run again; nothing was changed"
	assert_equal "$(snapshot)" "$before"
}

@test "an argument that is not a plain kernel argument is refused" {
	make_root debian-12 inplace
	before=$(snapshot)
	for bad in 'a b' '$(reboot)' 'x;y' "it's" '' '-x' 'a*'; do
		run -2 --separate-stderr kernel_cmdline set iommu=pt "$bad"
		assert_equal "$stderr" "vfio-reserve: refusing kernel argument '$bad': only letters, digits and _.,:=+/- are allowed"
	done
	assert_equal "$(snapshot)" "$before"
}

@test "usage errors exit 2" {
	make_root debian-12 inplace
	run -2 kernel_cmdline
	run -2 kernel_cmdline frobnicate
	run -2 kernel_cmdline remove iommu=pt
	run -2 kernel_cmdline --bogus set
	run -2 "$GRUB_SCRIPTS/kernel-cmdline" --root
}

# --- mode, owner, atomic, dry run -------------------------------------------

@test "mode and owner of each edited file are kept" {
	make_root fedora-40 inplace
	add_kernel_cmdline fedora
	chmod 600 "$ROOT/etc/default/grub" "$ROOT/etc/kernel/cmdline"
	chown 1234:5678 "$ROOT/etc/default/grub" "$ROOT/etc/kernel/cmdline"
	for step in set remove; do
		if [ "$step" = set ]; then
			run -0 kernel_cmdline set "${ARGS[@]}"
		else
			run -0 kernel_cmdline remove
		fi
		for file in "$ROOT/etc/default/grub" "$ROOT/etc/kernel/cmdline"; do
			assert_equal "$(stat -c '%a %u:%g %F' "$file")" '600 1234:5678 regular file'
		done
	done
}

@test "no temporary file is left beside the targets" {
	make_root debian-12 dropin
	add_kernel_cmdline fedora
	run -0 kernel_cmdline set "${ARGS[@]}"
	run -0 find "$ROOT" -name '.*.??????'
	assert_output ''
}

@test "--dry-run says what it would do and writes nothing" {
	make_root debian-12 dropin
	add_kernel_cmdline fedora
	before=$(snapshot)
	run -0 kernel_cmdline --dry-run set "${ARGS[@]}"
	assert_output "vfio-reserve: would update $ROOT/etc/kernel/cmdline
vfio-reserve: would write $ROOT/etc/default/grub.d/vfio-reserve.cfg"
	assert_equal "$(snapshot)" "$before"

	run -0 kernel_cmdline set "${ARGS[@]}"
	before=$(snapshot)
	run -0 kernel_cmdline --dry-run remove
	assert_output "vfio-reserve: would update $ROOT/etc/kernel/cmdline
vfio-reserve: would remove $ROOT/etc/default/grub.d/vfio-reserve.cfg"
	assert_equal "$(snapshot)" "$before"
}

@test "--check answers by its exit status alone: 0 when every file is as set would leave it, 1 when not" {
	make_root debian-12 dropin
	add_kernel_cmdline fedora
	before=$(snapshot)
	run -1 --separate-stderr kernel_cmdline --check set "${ARGS[@]}"
	assert_equal "$output$stderr" ''
	assert_equal "$(snapshot)" "$before"
	run -0 kernel_cmdline set "${ARGS[@]}"
	run -0 --separate-stderr kernel_cmdline --check set "${ARGS[@]}"
	assert_equal "$output$stderr" ''
	run -1 kernel_cmdline --check set iommu=pt
	run -1 kernel_cmdline --check remove
	rm "$ROOT/etc/default/grub.d/vfio-reserve.cfg"
	run -1 kernel_cmdline --check set "${ARGS[@]}"
}

# --- /etc/kernel/cmdline -----------------------------------------------------

@test "/etc/kernel/cmdline: the arguments end its first line, the one proxmox-boot-tool reads; remove restores it byte for byte" {
	ids=vfio-pci.ids=10de:2204,10de:1aef
	for fixture in fedora no-final-newline trailing-space-and-blank-line two-lines empty user-args; do
		make_root debian-12 dropin
		add_kernel_cmdline "$fixture"
		run -0 kernel_cmdline set "${ARGS[@]}"
		case $fixture in
		fedora) expected="root=UUID=0e3b5a3c-6c3e-4d0e-9d52-1f3c1b0c7a11 ro rhgb quiet intel_iommu=on iommu=pt $ids\n" ;;
		no-final-newline) expected="root=/dev/nvme0n1p2 rw quiet intel_iommu=on iommu=pt $ids" ;;
		trailing-space-and-blank-line) expected="root=/dev/sda2 ro quiet intel_iommu=on iommu=pt $ids\n\n" ;;
		two-lines) expected="root=/dev/sda2 ro intel_iommu=on iommu=pt $ids\nquiet splash\n" ;;
		empty) expected="intel_iommu=on iommu=pt $ids" ;;
		user-args) expected="root=/dev/sda2 ro iommu=pt\tquiet intel_iommu=on $ids\n" ;;
		esac
		# shellcheck disable=SC2059
		printf "$expected" > "$BATS_TEST_TMPDIR/expected"
		cmp "$BATS_TEST_TMPDIR/expected" "$ROOT/etc/kernel/cmdline" || fail "fixture $fixture"

		run -0 kernel_cmdline set "${ARGS[@]}"
		cmp "$BATS_TEST_TMPDIR/expected" "$ROOT/etc/kernel/cmdline"
		run -0 kernel_cmdline set iommu=pt
		run -0 kernel_cmdline remove
		cmp "$FIXTURES/kernel-cmdline/$fixture" "$ROOT/etc/kernel/cmdline" || fail "fixture $fixture"
		assert_file_not_exist "$ROOT/var/lib/vfio-reserve"
	done
}

@test "/etc/kernel/cmdline is not created when it is not there" {
	make_root debian-12 dropin
	run -0 kernel_cmdline set "${ARGS[@]}"
	assert_file_not_exist "$ROOT/etc/kernel/cmdline"
	assert_file_not_exist "$ROOT/var/lib/vfio-reserve"
}

@test "/etc/kernel/cmdline: what the user adds after ours is kept when ours goes" {
	make_root debian-12 dropin
	add_kernel_cmdline fedora
	run -0 kernel_cmdline set "${ARGS[@]}"
	sed -i 's/$/ nowatchdog/' "$ROOT/etc/kernel/cmdline"
	run -0 kernel_cmdline remove
	run -0 cat "$ROOT/etc/kernel/cmdline"
	assert_output 'root=UUID=0e3b5a3c-6c3e-4d0e-9d52-1f3c1b0c7a11 ro rhgb quiet nowatchdog'
}

@test "/etc/kernel/cmdline: arguments of ours edited by hand are taken as the user's, with a warning" {
	make_root debian-12 dropin
	add_kernel_cmdline fedora
	run -0 kernel_cmdline set "${ARGS[@]}"
	sed -i 's/ iommu=pt//' "$ROOT/etc/kernel/cmdline"
	run -0 --separate-stderr kernel_cmdline set "${ARGS[@]}"
	assert_equal "$stderr" "vfio-reserve: $ROOT/etc/kernel/cmdline: the arguments vfio-reserve added ('intel_iommu=on iommu=pt vfio-pci.ids=10de:2204,10de:1aef') were edited by hand; taking the file as it is now"
	run -0 cat "$ROOT/etc/kernel/cmdline"
	assert_output 'root=UUID=0e3b5a3c-6c3e-4d0e-9d52-1f3c1b0c7a11 ro rhgb quiet intel_iommu=on vfio-pci.ids=10de:2204,10de:1aef iommu=pt'
	run -0 kernel_cmdline remove
	run -0 cat "$ROOT/etc/kernel/cmdline"
	assert_output 'root=UUID=0e3b5a3c-6c3e-4d0e-9d52-1f3c1b0c7a11 ro rhgb quiet intel_iommu=on vfio-pci.ids=10de:2204,10de:1aef'
}

@test "/etc/kernel/cmdline with an unclosed quote is refused, and nothing is written" {
	make_root debian-12 dropin
	add_kernel_cmdline unbalanced-quote
	before=$(snapshot)
	run -1 --separate-stderr kernel_cmdline set "${ARGS[@]}"
	assert_equal "$stderr" "vfio-reserve: $ROOT/etc/kernel/cmdline: unbalanced double quote; nothing was changed"
	assert_equal "$(snapshot)" "$before"
	# Nothing to take out: it is left alone, not refused.
	run -0 kernel_cmdline remove
	assert_equal "$(snapshot)" "$before"
}

# --- the user's values win ------------------------------------------------------

# The values the kernel ends up with for the parameters the user set, from
# the words of a command line: the same whatever update wrote.
user_values_of() {
	local param
	for param in intel_iommu iommu amd_iommu vfio-pci.ids; do
		printf '%s=%s\n' "$param" "$(effective "$param" "$@")"
	done
}

@test "the user's values win in the drop-in and the marked block: intel_iommu=off, iommu=soft, their vfio-pci.ids" {
	for mode in dropin inplace; do
		make_root user-values "$mode"
		run -0 kernel_cmdline set "${ARGS[@]}"
		run -0 grub_values
		linux=${lines[0]#LINUX=} default=${lines[1]#DEFAULT=}
		run -0 user_values_of $linux $default
		assert_output - <<-'EOF' || fail "$mode"
		intel_iommu=off
		iommu=soft
		amd_iommu=(unset)
		vfio-pci.ids=8086:1539,10de:2204,10de:1aef
		EOF
		run -0 kernel_cmdline remove
		cmp "$FIXTURES/default-grub/user-values" "$ROOT/etc/default/grub"
		assert_file_not_exist "$ROOT/etc/default/grub.d/vfio-reserve.cfg"
	done
}

@test "the user's values win in /etc/kernel/cmdline, and come back byte for byte" {
	make_root debian-12 dropin
	add_kernel_cmdline user-values
	run -0 kernel_cmdline set "${ARGS[@]}"
	run -0 cat "$ROOT/etc/kernel/cmdline"
	assert_output 'root=/dev/sda2 ro vfio_pci.ids=8086:1539 intel_iommu=off iommu=soft quiet vfio-pci.ids=8086:1539,10de:2204,10de:1aef'
	run -0 user_values_of $(cat "$ROOT/etc/kernel/cmdline")
	assert_output - <<-'EOF'
	intel_iommu=off
	iommu=soft
	amd_iommu=(unset)
	vfio-pci.ids=8086:1539,10de:2204,10de:1aef
	EOF
	run -0 kernel_cmdline set "${ARGS[@]}"
	assert_line "vfio-reserve: $ROOT/etc/kernel/cmdline: up to date"
	run -0 kernel_cmdline remove
	cmp "$FIXTURES/kernel-cmdline/user-values" "$ROOT/etc/kernel/cmdline"
	assert_file_not_exist "$ROOT/var/lib/vfio-reserve"
}

@test "user IDs that hold ours already, in any case and spelling, get no vfio-pci.ids of ours" {
	for mode in dropin inplace; do
		make_root debian-12 "$mode"
		sed -i 's/^GRUB_CMDLINE_LINUX=""/GRUB_CMDLINE_LINUX="vfio_pci.ids=10DE:1AEF,8086:1539,10de:2204"/' "$ROOT/etc/default/grub"
		run -0 kernel_cmdline set "${ARGS[@]}"
		run -0 grub_values
		assert_line 'DEFAULT=quiet intel_iommu=on iommu=pt'
	done
	make_root debian-12 dropin
	mkdir -p "$ROOT/etc/kernel"
	printf 'root=/dev/sda2 "vfio-pci.ids=10de:2204,10de:1aef" amd_iommu=on\n' > "$ROOT/etc/kernel/cmdline"
	run -0 kernel_cmdline set "${ARGS[@]}"
	run -0 cat "$ROOT/etc/kernel/cmdline"
	assert_output 'root=/dev/sda2 "vfio-pci.ids=10de:2204,10de:1aef" amd_iommu=on intel_iommu=on iommu=pt'
}

@test "a user's value set after the update wins too: grub-mkconfig decides" {
	make_root debian-12 dropin
	run -0 kernel_cmdline set "${ARGS[@]}"
	sed -i 's/^GRUB_CMDLINE_LINUX=""/GRUB_CMDLINE_LINUX="intel-iommu=off vfio-pci.ids=1b21:0612"/' "$ROOT/etc/default/grub"
	run -0 grub_values
	assert_line 'DEFAULT=quiet iommu=pt vfio-pci.ids=1b21:0612,10de:2204,10de:1aef'
}

@test "a parameter the user set inside a quoted value is not theirs; other parameters keep the same-word rule" {
	make_root debian-12 dropin
	sed -i "s/^GRUB_CMDLINE_LINUX=\"\"/GRUB_CMDLINE_LINUX='acpi_osi=\"x iommu=soft\" initcall_blacklist=foo'/" "$ROOT/etc/default/grub"
	run -0 kernel_cmdline set "${ARGS[@]}" initcall_blacklist=sysfb_init
	run -0 grub_values
	assert_line 'DEFAULT=quiet intel_iommu=on iommu=pt vfio-pci.ids=10de:2204,10de:1aef initcall_blacklist=sysfb_init'
}
