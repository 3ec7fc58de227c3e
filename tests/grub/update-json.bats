#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# `vfio-reserve update --json` (update/update): what a run changed, read back,
# as one JSON object on standard output; --dry-run --json says what it would
# change and changes nothing; /run/reboot-required and .pkgs as Debian's
# packages write them. First with the stand-in binder, then the real one.

load test_helper

setup() {
	export FAKE_LOG=$BATS_TEST_TMPDIR/binder.log
	export FAKE_CMDLINE="${ARGS[*]}"
	export VFIO_RESERVE=$FIXTURES/bin/fake-vfio-reserve
	ALL_ARGS='intel_iommu=on iommu=pt vfio-pci.ids=10de:2204,10de:1aef'
}

# A Debian host: drop-in GRUB, initramfs-tools, update-grub; ROOT may be
# given (a name with quotes and backslashes).
debian_host() {
	make_root debian-12 dropin
	if [ -n "${1-}" ]; then
		rm -rf "$1"
		mv "$ROOT" "$1"
		ROOT=$1
	fi
	mkdir -p "$ROOT/etc/kernel/postinst.d"
	: >"$ROOT/etc/kernel/postinst.d/initramfs-tools"
	printf '#!/bin/sh\n' >"$ROOT/usr/sbin/update-initramfs"
	printf '#!/bin/sh\n' >"$ROOT/usr/sbin/update-grub"
	chmod 0755 "$ROOT/usr/sbin/update-initramfs" "$ROOT/usr/sbin/update-grub"
}

update() {
	"$GRUB_SCRIPTS/update" --root "$ROOT" "$@"
}

# The JSON object update prints when it changes nothing on the Debian host
# set up, with $1 as the arguments before and after.
json_unchanged() {
	jq -cn --arg grub "$ROOT/etc/default/grub" --arg args "$1" --argjson reboot "$2" '{
		changed: false, reboot_required: $reboot, dry_run: false,
		files: {written: [], removed: []},
		kernel_arguments: {before: [{where: $grub, arguments: $args}], after: [{where: $grub, arguments: $args}]},
		initramfs_rebuilt: false, trial: {before: "none", after: "none", armed: false}}'
}

@test "--dry-run --json: one JSON object on stdout saying what would change, the messages on stderr; nothing written" {
	debian_host
	before=$(snapshot)
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir "$TMPDIR"
	run -0 --separate-stderr update --dry-run --json
	# Its scratch files are gone.
	assert_equal "$(find "$TMPDIR" -mindepth 1)" ''
	assert_equal "$(jq -c . <<<"$output")" "$(jq -cn --arg root "$ROOT" --arg args "$ALL_ARGS" '{
		changed: true, reboot_required: true, dry_run: true,
		files: {written: [$root + "/etc/default/grub.d/vfio-reserve.cfg"], removed: []},
		kernel_arguments: {
			before: [{where: ($root + "/etc/default/grub"), arguments: "quiet"}],
			after: [{where: ($root + "/etc/default/grub"), arguments: ("quiet " + $args)}]},
		initramfs_rebuilt: false, trial: {before: "none", after: "none", armed: false}}')"
	# One line, the object alone.
	assert_equal "${#lines[@]}" 1
	assert_equal "$stderr" "vfio-reserve: kernel arguments: $ALL_ARGS
vfio-reserve: skipped under --root: update-initramfs -u -k all
vfio-reserve: would write $ROOT/etc/default/grub.d/vfio-reserve.cfg
vfio-reserve: skipped under --root: update-grub
vfio-reserve: dry run: nothing was changed"
	assert_equal "$(snapshot)" "$before"
	assert_file_not_exist "$ROOT/run/reboot-required"
	assert_file_not_exist "$ROOT/run/reboot-required.pkgs"
}

@test "--json: what the run changed, read back; the same as the dry run said; reboot-required as Debian writes it" {
	debian_host
	add_kernel_cmdline fedora
	run -0 --separate-stderr update --dry-run --json
	dry=$output
	run -0 --separate-stderr update --json
	local expected
	expected=$(jq -cn --arg root "$ROOT" --arg args "$ALL_ARGS" --arg cmdline "$(head -n 1 "$FIXTURES/kernel-cmdline/fedora")" '{
		changed: true, reboot_required: true, dry_run: false,
		files: {written: [$root + "/etc/default/grub.d/vfio-reserve.cfg", $root + "/etc/kernel/cmdline",
			$root + "/var/lib/vfio-reserve/kernel-cmdline.added"], removed: []},
		kernel_arguments: {
			before: [{where: ($root + "/etc/default/grub"), arguments: "quiet"},
				{where: ($root + "/etc/kernel/cmdline"), arguments: $cmdline}],
			after: [{where: ($root + "/etc/default/grub"), arguments: ("quiet " + $args)},
				{where: ($root + "/etc/kernel/cmdline"), arguments: ($cmdline + " " + $args)}]},
		initramfs_rebuilt: false, trial: {before: "none", after: "none", armed: false}}')
	assert_equal "$(jq -c '.files.written |= sort' <<<"$output")" "$expected"
	assert_equal "$stderr" "vfio-reserve: kernel arguments: $ALL_ARGS
vfio-reserve: skipped under --root: update-initramfs -u -k all
vfio-reserve: updated $ROOT/etc/kernel/cmdline
vfio-reserve: wrote $ROOT/etc/default/grub.d/vfio-reserve.cfg
vfio-reserve: skipped under --root: update-grub
vfio-reserve: done; reboot for the change to take effect"
	# The dry run named the files vfio-reserve writes itself (the state
	# file is no news to the user) and the same arguments.
	assert_equal "$(jq -c '.files.written |= sort | .dry_run = false' <<<"$dry")" \
		"$(jq -c '.files.written |= map(select(endswith(".added") | not))' <<<"$expected")"
	run -0 cat "$ROOT/run/reboot-required"
	assert_output '*** System restart required ***'
	run -0 cat "$ROOT/run/reboot-required.pkgs"
	assert_output 'vfio-reserve'
}

@test "a second run changes nothing: changed false, exit 0; reboot_required until the reboot; vfio-reserve once in .pkgs" {
	debian_host
	run -0 update -q
	# Another package asked for the reboot too, and wrote the flag its way.
	echo linux-image-6.1.0-test-amd64 >>"$ROOT/run/reboot-required.pkgs"
	: >"$ROOT/run/reboot-required"
	run -0 --separate-stderr update --json
	assert_equal "$(jq -c . <<<"$output")" "$(json_unchanged "quiet $ALL_ARGS" true)"
	run -0 cat "$ROOT/run/reboot-required.pkgs"
	assert_output "vfio-reserve
linux-image-6.1.0-test-amd64"
	assert_equal "$(cat "$ROOT/run/reboot-required")" ''
	# After the reboot (/run is a tmpfs): nothing is required, nothing written.
	rm "$ROOT/run/reboot-required" "$ROOT/run/reboot-required.pkgs"
	run -0 --separate-stderr update --json
	assert_equal "$(jq -c . <<<"$output")" "$(json_unchanged "quiet $ALL_ARGS" false)"
	run -0 --separate-stderr update --dry-run --json
	assert_equal "$(jq -c '.dry_run = false' <<<"$output")" "$(json_unchanged "quiet $ALL_ARGS" false)"
	assert_file_not_exist "$ROOT/run/reboot-required"
	assert_file_not_exist "$ROOT/run/reboot-required.pkgs"
}

@test "--remove --json: the files removed and the arguments taken out" {
	debian_host
	run -0 update -q
	rm "$ROOT/run/reboot-required" "$ROOT/run/reboot-required.pkgs"
	run -0 --separate-stderr update --remove --json
	assert_equal "$(jq -c . <<<"$output")" "$(jq -cn --arg root "$ROOT" --arg args "$ALL_ARGS" '{
		changed: true, reboot_required: true, dry_run: false,
		files: {written: [], removed: [$root + "/etc/default/grub.d/vfio-reserve.cfg"]},
		kernel_arguments: {
			before: [{where: ($root + "/etc/default/grub"), arguments: ("quiet " + $args)}],
			after: [{where: ($root + "/etc/default/grub"), arguments: "quiet"}]},
		initramfs_rebuilt: false, trial: {before: "none", after: "none", armed: false}}')"
	assert_file_exist "$ROOT/run/reboot-required"
}

@test "paths and arguments with quotes, backslashes and tabs are escaped as JSON strings" {
	debian_host "$BATS_TEST_TMPDIR/a \"quoted\" \\root\\"
	cp "$FIXTURES/default-grub/tricky-quoting" "$ROOT/etc/default/grub"
	run -0 --separate-stderr update --json
	# jq reads it back to the very bytes.
	run -0 jq -r '.files.written[0], .kernel_arguments.before[0].where, .kernel_arguments.before[0].arguments' <<<"$output"
	assert_equal "${lines[0]}" "$ROOT/etc/default/grub.d/vfio-reserve.cfg"
	assert_equal "${lines[1]}" "$ROOT/etc/default/grub"
	assert_equal "${lines[2]}" "$(expected_linux tricky-quoting) quiet splash acpi_osi=\"Windows 2020\""
}

@test "errors under --json keep their text and exit status, on stderr; stdout stays empty" {
	debian_host
	before=$(snapshot)
	FAKE_CHECK_ERROR="vfio-reserve: /etc/vfio-reserve.conf:3: unknown token 'frob'" run -2 --separate-stderr update --json
	assert_output ''
	assert_equal "$stderr" "vfio-reserve: /etc/vfio-reserve.conf:3: unknown token 'frob'
vfio-reserve: the config has errors; nothing was changed"
	run -2 --separate-stderr update --json --bogus
	assert_output ''
	assert_equal "$(snapshot)" "$before"
}

# The trial's backend: a stand-in that keeps its state in a file (as in
# trial.bats; the real GRUB backend is tested in trial-grub.bats).
stand_in_backend() {
	LIB=$BATS_TEST_TMPDIR/lib
	cp -a "$GRUB_SCRIPTS" "$LIB"
	cat >"$LIB/trial-grub" <<-'SH'
	#!/bin/sh
	root=
	[ "$1" != --root ] || { root=$2; shift 2; }
	dry=
	[ "$1" != --dry-run ] || { dry=1; shift; }
	case $1 in
	arm) [ -n "$dry" ] || echo armed >"$root/backend.state" ;;
	state) cat "$root/backend.state" 2>/dev/null || echo none ;;
	clear) [ -n "$dry" ] || rm -f "$root/backend.state" ;;
	esac
	SH
	chmod 0755 "$LIB/trial-grub"
}

@test "a change put on trial: trial armed, read back from the boot loader's state; the dry run says it would" {
	debian_host
	stand_in_backend
	echo '01:00.0 10de:2204' >"$ROOT/etc/vfio-reserve.conf"
	before=$(snapshot)
	run -0 --separate-stderr "$LIB/update" --root "$ROOT" --dry-run --json
	assert_equal "$(jq -c '[.changed, .trial]' <<<"$output")" '[true,{"before":"none","after":"armed","armed":true}]'
	assert_equal "$(snapshot)" "$before"
	run -0 --separate-stderr "$LIB/update" --root "$ROOT" --json
	assert_equal "$(jq -c '[.changed, .reboot_required, .trial]' <<<"$output")" '[true,true,{"before":"none","after":"armed","armed":true}]'
	assert_equal "$(cat "$ROOT/backend.state")" armed
	# Again: still armed, nothing new.
	run -0 --separate-stderr "$LIB/update" --root "$ROOT" --json
	assert_equal "$(jq -c '[.changed, .files, .trial]' <<<"$output")" '[false,{"written":[],"removed":[]},{"before":"armed","after":"armed","armed":true}]'
	# --no-trial confirms at once: the trial ends, the confirmed copy is written.
	run -0 --separate-stderr "$LIB/update" --root "$ROOT" --no-trial --dry-run --json
	dry=$output
	run -0 --separate-stderr "$LIB/update" --root "$ROOT" --no-trial --json
	assert_equal "$(jq -c '[.changed, .files, .trial]' <<<"$output")" "[true,{\"written\":[\"$ROOT/var/lib/vfio-reserve/confirmed.conf\"],\"removed\":[]},{\"before\":\"armed\",\"after\":\"none\",\"armed\":false}]"
	assert_equal "$(jq -c '.dry_run = false' <<<"$dry")" "$(jq -c . <<<"$output")"
}

@test "scripts are shellcheck clean POSIX sh" {
	command -v shellcheck >/dev/null || fail "needs shellcheck: apt-get install shellcheck"
	cd "$REPO" && shellcheck -x -s sh update/update update/trial update/common grub/kernel-cmdline \
		bootloader-tools/bootloader hooks/modprobe-conf
}

# --- with the real binder ----------------------------------------------------

@test "real binder: vfio-reserve update --json and --dry-run --json reach the script; the config and its record are written and confirmed" {
	[ -x "$REPO/binder/vfio-reserve" ] || skip "binder/vfio-reserve is not built"
	debian_host
	one_card_sysfs
	echo '01:00.0 10de:2204' >"$ROOT/etc/vfio-reserve.conf"
	chmod 0644 "$ROOT/etc/vfio-reserve.conf"
	unset VFIO_RESERVE
	real() { VFIO_RESERVE_LIBDIR=$GRUB_SCRIPTS "$REPO/binder/vfio-reserve" --root "$ROOT" update "$@"; }
	before=$(snapshot)
	run -0 --separate-stderr real --dry-run --no-trial --json
	dry=$output
	assert_equal "$(snapshot)" "$before"
	run -0 --separate-stderr real --json
	assert_equal "$(jq -c '.files.written |= sort' <<<"$output")" "$(jq -cn --arg root "$ROOT" '{
		changed: true, reboot_required: true, dry_run: false,
		files: {written: [$root + "/etc/default/grub.d/vfio-reserve.cfg", $root + "/etc/modprobe.d/00-vfio-reserve.conf",
			$root + "/etc/vfio-reserve.conf.fingerprint",
			$root + "/var/lib/vfio-reserve/confirmed.conf", $root + "/var/lib/vfio-reserve/confirmed.conf.fingerprint"], removed: []},
		kernel_arguments: {
			before: [{where: ($root + "/etc/default/grub"), arguments: "quiet"}],
			after: [{where: ($root + "/etc/default/grub"), arguments: "quiet intel_iommu=on iommu=pt"}]},
		initramfs_rebuilt: false, trial: {before: "none", after: "none", armed: false}}')"
	assert_equal "$(jq -c '.files.written |= sort | .dry_run = false' <<<"$dry")" "$(jq -c '.files.written |= sort' <<<"$output")"
	assert_equal "${stderr_lines[-1]}" "vfio-reserve: done; reboot for the change to take effect"
	run -0 --separate-stderr real --json
	assert_equal "$(jq -c '[.changed, .reboot_required, .files]' <<<"$output")" '[false,true,{"written":[],"removed":[]}]'
	# Every option of update at once: the four arguments the binder hands on.
	before=$(snapshot)
	run -0 --separate-stderr real --remove --dry-run --no-trial --json
	assert_equal "$(jq -c '[.dry_run, .changed, (.files.removed | sort)]' <<<"$output")" "$(jq -cn --arg root "$ROOT" '[true, true, [
		$root + "/etc/default/grub.d/vfio-reserve.cfg", $root + "/etc/modprobe.d/00-vfio-reserve.conf",
		$root + "/var/lib/vfio-reserve/confirmed.conf", $root + "/var/lib/vfio-reserve/confirmed.conf.fingerprint"]]')"
	assert_equal "$(snapshot)" "$before"
	dry=$output
	run -0 --separate-stderr real --remove --no-trial --json
	assert_equal "$(jq -c '.files.removed | sort' <<<"$output")" "$(jq -c '.files.removed | sort' <<<"$dry")"
}

@test "kernelstub: its configuration's options are read back; a dry run, which cannot run it, says null" {
	debian_host
	mkdir -p "$ROOT/usr/bin" "$ROOT/etc/kernelstub"
	printf '#!/bin/sh\n' >"$ROOT/usr/bin/kernelstub"
	chmod 0755 "$ROOT/usr/bin/kernelstub"
	echo '{"default": {"kernel_options": ["quiet"]}, "user": {"kernel_options": ["quiet", "splash", "iommu=pt"]}}' \
		>"$ROOT/etc/kernelstub/configuration"
	config=$ROOT/etc/kernelstub/configuration
	run -0 --separate-stderr update --dry-run --json
	assert_equal "$(jq -c '.kernel_arguments' <<<"$output")" "$(jq -cn --arg grub "$ROOT/etc/default/grub" --arg config "$config" '{
		before: [{where: $grub, arguments: "quiet"}, {where: $config, arguments: "quiet splash iommu=pt"}],
		after: [{where: $grub, arguments: "quiet"}, {where: $config, arguments: null}]}')"
	# Under --root kernelstub is shown, not run: its options stay.
	run -0 --separate-stderr update --json
	assert_equal "$(jq -c '[.changed, .kernel_arguments.after[1]]' <<<"$output")" \
		"$(jq -cn --arg config "$config" '[false, {where: $config, arguments: "quiet splash iommu=pt"}]')"
}

@test "on a host (not under --root): the initramfs generator ran, read from its exit; a rebuild alone is no change" {
	debian_host
	cp -a /etc/alternatives /etc/passwd /etc/group /etc/nsswitch.conf "$ROOT/etc/"
	printf '#!/bin/sh\necho "update-initramfs $*" >>/run/generator.log\n' >"$ROOT/usr/sbin/update-initramfs"
	run -0 --separate-stderr on_host "$GRUB_SCRIPTS/update" --dry-run --json
	assert_equal "$(jq -c '[.changed, .initramfs_rebuilt]' <<<"$output")" '[true,true]'
	assert_file_not_exist "$ROOT/run/generator.log"
	run -0 --separate-stderr on_host "$GRUB_SCRIPTS/update" --json
	assert_equal "$(jq -c '[.changed, .initramfs_rebuilt]' <<<"$output")" '[true,true]'
	run -0 --separate-stderr on_host "$GRUB_SCRIPTS/update" --json
	assert_equal "$(jq -c '[.changed, .initramfs_rebuilt, .files]' <<<"$output")" '[false,true,{"written":[],"removed":[]}]'
	run -0 cat "$ROOT/run/generator.log"
	assert_output "update-initramfs -u -k all
update-initramfs -u -k all"
}
