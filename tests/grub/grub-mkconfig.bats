#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# What GRUB itself makes of the edited files: the real grub-mkconfig runs
# Debian's /etc/grub.d/10_linux on a fake /boot with one kernel.

load test_helper

setup() {
	require_mount_namespace
}

linux_line() {
	printf '%s\tlinux\t/boot/vmlinuz-6.1.0-test root=/dev/vfio-reserve-test-root ro %s\n' "$1" "$2"
}

@test "Debian: the normal entries get the arguments, the recovery entry none" {
	make_root debian-12 dropin
	run -0 kernel_cmdline set "${ARGS[@]}"
	run -0 grub_mkconfig_linux_lines
	assert_output - <<-EOF
	$(linux_line simple ' quiet intel_iommu=on iommu=pt vfio-pci.ids=10de:2204,10de:1aef')
	$(linux_line advanced ' quiet intel_iommu=on iommu=pt vfio-pci.ids=10de:2204,10de:1aef')
	$(linux_line recovery 'single ')
	EOF
}

@test "Arch, in place: the normal entries get the arguments" {
	make_root arch inplace
	run -0 kernel_cmdline set "${ARGS[@]}"
	run -0 grub_mkconfig_linux_lines
	# GRUB_DISABLE_RECOVERY=true: Arch has no recovery entry.
	assert_output - <<-EOF
	$(linux_line simple ' loglevel=3 quiet intel_iommu=on iommu=pt vfio-pci.ids=10de:2204,10de:1aef')
	$(linux_line advanced ' loglevel=3 quiet intel_iommu=on iommu=pt vfio-pci.ids=10de:2204,10de:1aef')
	EOF
}

# Each fixture once, the way its distribution takes it, and the tricky one
# both ways: a run of grub-mkconfig costs seconds here. Every fixture is
# read both ways in kernel-cmdline.bats, by sourcing as grub-mkconfig does.
FIXTURE_MODES=(debian-12:dropin ubuntu-22.04:dropin ubuntu-24.04:dropin
	fedora-40:inplace arch:inplace user-args:dropin tricky-quoting:dropin
	tricky-quoting:inplace no-default-line:inplace no-final-newline:inplace
	empty:dropin)

@test "every fixture: each normal entry has each argument once, the recovery entry has only the user's" {
	for fixture_mode in "${FIXTURE_MODES[@]}"; do
		fixture=${fixture_mode%:*}
		mode=${fixture_mode#*:}
		make_root "$fixture" "$mode"
		run -0 kernel_cmdline set "${ARGS[@]}"
		run -0 grub_mkconfig_linux_lines
		linux=$(expected_linux "$fixture")
		default=$(expected_default "$fixture")
		assert_line "$(linux_line advanced "$linux $default")" || fail "fixture $fixture, $mode"
		for line in "${lines[@]}"; do
			case $line in
			recovery*) assert_equal "$line" "$(linux_line recovery "single $linux")" ;;
			*)
				for arg in "${ARGS[@]}"; do
					assert_equal "$(tr -s " \t" "\n\n" <<<"$line" | grep -c -x -F -- "$arg")" 1 ||
						fail "fixture $fixture, $mode: $arg in $line"
				done ;;
			esac
		done
	done
}

@test "after remove grub-mkconfig makes what it made before" {
	for fixture_mode in debian-12:dropin arch:inplace; do
		make_root "${fixture_mode%:*}" "${fixture_mode#*:}"
		run -0 grub_mkconfig_linux_lines
		cp "$BATS_TEST_TMPDIR/grub.cfg" "$BATS_TEST_TMPDIR/grub.cfg.before"
		run -0 kernel_cmdline set "${ARGS[@]}"
		run -0 grub_mkconfig_linux_lines
		run -1 cmp -s "$BATS_TEST_TMPDIR/grub.cfg.before" "$BATS_TEST_TMPDIR/grub.cfg"
		run -0 kernel_cmdline remove
		run -0 grub_mkconfig_linux_lines
		cmp "$BATS_TEST_TMPDIR/grub.cfg.before" "$BATS_TEST_TMPDIR/grub.cfg" || fail "$fixture_mode"
	done
}

@test "the user's values win on the linux lines GRUB makes: intel_iommu=off, iommu=soft, their IDs in the last vfio-pci.ids" {
	for mode in dropin inplace; do
		make_root user-values "$mode"
		run -0 kernel_cmdline set "${ARGS[@]}"
		run -0 grub_mkconfig_linux_lines
		assert_output - <<-EOF || fail "$mode"
		$(linux_line simple 'iommu=soft quiet vfio-pci.ids=8086:1539 intel_iommu=off vfio-pci.ids=8086:1539,10de:2204,10de:1aef')
		$(linux_line advanced 'iommu=soft quiet vfio-pci.ids=8086:1539 intel_iommu=off vfio-pci.ids=8086:1539,10de:2204,10de:1aef')
		$(linux_line recovery 'single iommu=soft')
		EOF
	done
}
