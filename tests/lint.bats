#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Every shell script of the project is shellcheck clean: the POSIX sh glue
# (initramfs-tools, dracut's boot hook, grub, debian, demo, bench, CI, the
# VM harness) as sh, dracut's module-setup.sh and the bash test helpers as
# bash.  Scripts are found by their first line, so a new one is not missed.

load test_helper

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

# shell_scripts DIALECT: the project's files whose first line names DIALECT.
shell_scripts() {
	local dialect=$1 f first
	while IFS= read -r f; do
		IFS= read -r first <"$f" || continue
		case $first in
		"#!/bin/$dialect" | "#!/usr/bin/env $dialect" | "# shellcheck shell=$dialect"*)
			printf '%s\n' "$f"
			;;
		esac
	done < <(find "$TOP" \( -path "$TOP/.git" -o -path "$TOP/tests/vm/out" \
		-o -path "$TOP/tests/vm/cache" -o -path "$TOP/debian/vfio-reserve" \
		-o -path "$TOP/debian/.debhelper" \) -prune -o \
		-type f ! -name '*.bats' -print | sort)
}

@test "the POSIX sh scripts are shellcheck clean" {
	cd "$TOP"
	command -v shellcheck >/dev/null || fail "needs shellcheck: apt-get install shellcheck"
	mapfile -t scripts < <(shell_scripts sh)
	# The glue that runs at boot must be among them.
	printf '%s\n' "${scripts[@]}" | grep -qx "$TOP/initramfs-tools/hook"
	printf '%s\n' "${scripts[@]}" | grep -qx "$TOP/initramfs-tools/conf.d-vfio-reserve"
	printf '%s\n' "${scripts[@]}" | grep -qx "$TOP/dracut-module/vfio-reserve-boot.sh"
	printf '%s\n' "${scripts[@]}" | grep -qx "$TOP/update/update"
	printf '%s\n' "${scripts[@]}" | grep -qx "$TOP/mkinitcpio/hook"
	printf '%s\n' "${scripts[@]}" | grep -qx "$TOP/tests/lib/mkinitcpio-upstream"
	run shellcheck -x -P SCRIPTDIR -s sh "${scripts[@]}"
	assert_success
	assert_output ''
}

@test "the bash scripts are shellcheck clean" {
	cd "$TOP"
	command -v shellcheck >/dev/null || fail "needs shellcheck: apt-get install shellcheck"
	mapfile -t scripts < <(shell_scripts bash)
	printf '%s\n' "${scripts[@]}" | grep -qx "$TOP/dracut-module/module-setup.sh"
	printf '%s\n' "${scripts[@]}" | grep -qx "$TOP/mkinitcpio/install"
	printf '%s\n' "${scripts[@]}" | grep -qx "$TOP/mkinitcpio/install-sd"
	run shellcheck -x -P SCRIPTDIR -s bash "${scripts[@]}"
	assert_success
	assert_output ''
}

@test "every source file of the project names its license, GPL-2.0-or-later, in its first lines" {
	cd "$TOP"
	[ -f COPYING ] && grep -q 'GNU GENERAL PUBLIC LICENSE' COPYING
	grep -qx 'License: GPL-2+' debian/copyright
	missing=()
	while IFS= read -r file; do
		head -n 3 "$file" | grep -q 'SPDX-License-Identifier: GPL-2.0-or-later' || missing+=("$file")
	done < <(git ls-files 'binder/*' 'tests/fake/*' 'fuzz/*.c' 'man/*' 'bench/*' 'grub/*' 'update/*' 'bootloader-tools/*' \
		'hooks/*' 'initramfs-tools/*' 'dracut-module/*' 'demo/*' 'debian/p*' 'debian/rules' \
		'tests/*.bats' 'tests/*/*.bats' 'tests/*.bash' 'tests/*/*.bash' 'tests/vm/*' \
		'tests/run' 'tests/deps' 'tests/clean-debian' '.ci/run' Makefile \
		'mkinitcpio/*' 'tests/mkinitcpio/*' 'rpm/*' 'arch/*' | grep -v '\.md$')
	assert_equal "${missing[*]}" ""
}
