#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# update/update, the script behind `vfio-reserve update`: first with a stand-in
# binder that says what the test wants, then with the real one.

load test_helper

setup() {
	export FAKE_LOG=$BATS_TEST_TMPDIR/binder.log
	export FAKE_CMDLINE="${ARGS[*]}"
	export VFIO_RESERVE=$FIXTURES/bin/fake-vfio-reserve
	CONF=/etc/vfio-reserve.conf
}

# A Debian host: drop-in GRUB, initramfs-tools, update-grub.
debian_host() {
	make_root debian-12 dropin
	add_file etc/kernel/postinst.d/initramfs-tools
	add_program usr/sbin/update-initramfs
	add_program usr/sbin/update-grub
}

add_file() {
	mkdir -p "$(dirname "$ROOT/$1")"
	: > "$ROOT/$1"
}

add_program() {
	add_file "$1"
	chmod 0755 "$ROOT/$1"
}

update() {
	"$GRUB_SCRIPTS/update" --root "$ROOT" "$@"
}

# The process groups a test started in the background.
holders=()
teardown() {
	local holder
	for holder in "${holders[@]}"; do
		kill -- "-$holder" 2>/dev/null || :
	done
}

@test "--dry-run shows the plan, writes nothing and runs nothing" {
	debian_host
	before=$(snapshot)
	run -0 update --dry-run
	assert_output - <<-EOF
	vfio-reserve: kernel arguments: intel_iommu=on iommu=pt vfio-pci.ids=10de:2204,10de:1aef
	vfio-reserve: skipped under --root: update-initramfs -u -k all
	vfio-reserve: would write $ROOT/etc/default/grub.d/vfio-reserve.cfg
	vfio-reserve: skipped under --root: update-grub
	vfio-reserve: dry run: nothing was changed
	EOF
	assert_equal "$(snapshot)" "$before"
	run -0 cat "$FAKE_LOG"
	assert_output - <<-EOF
	--root $ROOT check --config-only
	--root $ROOT cmdline
	--root $ROOT modules
	EOF
}

@test "update writes the arguments, says what it skipped under --root and what is left to do" {
	debian_host
	run -0 update
	assert_output - <<-EOF
	vfio-reserve: kernel arguments: intel_iommu=on iommu=pt vfio-pci.ids=10de:2204,10de:1aef
	vfio-reserve: skipped under --root: update-initramfs -u -k all
	vfio-reserve: wrote $ROOT/etc/default/grub.d/vfio-reserve.cfg
	vfio-reserve: skipped under --root: update-grub
	vfio-reserve: done; reboot for the change to take effect
	EOF
	run -0 grub_values
	assert_line 'DEFAULT=quiet intel_iommu=on iommu=pt vfio-pci.ids=10de:2204,10de:1aef'

	before=$(snapshot)
	run -0 update
	assert_line --index 2 "vfio-reserve: $ROOT/etc/default/grub.d/vfio-reserve.cfg: up to date"
	assert_equal "$(snapshot)" "$before"
}

@test "-q: the same work in silence, -q handed to the binder; -v handed to it too" {
	debian_host
	run -0 --separate-stderr update -q
	assert_output ''
	assert_equal "$stderr" ''
	run -0 grub_values
	assert_line 'DEFAULT=quiet intel_iommu=on iommu=pt vfio-pci.ids=10de:2204,10de:1aef'
	run -0 cat "$FAKE_LOG"
	assert_output - <<-EOF
	--root $ROOT -q check --config-only
	--root $ROOT -q cmdline
	--root $ROOT -q modules
	--root $ROOT -q fingerprint
	EOF
	: > "$FAKE_LOG"
	run -0 update -v --dry-run
	assert_line "vfio-reserve: $ROOT/etc/default/grub.d/vfio-reserve.cfg: up to date"
	run -0 cat "$FAKE_LOG"
	assert_output - <<-EOF
	--root $ROOT -v check --config-only
	--root $ROOT -v cmdline
	--root $ROOT -v modules
	EOF
}

@test "where node_exporter's textfile collector is set up, update writes the metrics last; not on --dry-run or --remove" {
	debian_host
	mkdir -p "$ROOT/var/lib/prometheus/node-exporter"
	run -0 update --dry-run
	run -1 grep -F metrics "$FAKE_LOG"
	run -0 update
	assert_equal "$(tail -n 1 "$FAKE_LOG")" "--root $ROOT metrics --textfile-dir $ROOT/var/lib/prometheus/node-exporter"
	: >"$FAKE_LOG"
	run -0 update --remove
	run -1 grep -F metrics "$FAKE_LOG"
	# Without the directory, no metrics.
	rmdir "$ROOT/var/lib/prometheus/node-exporter"
	run -0 update
	run -1 grep -F metrics "$FAKE_LOG"
}

@test "metrics that cannot be written are a warning: the update is done, exit 0" {
	debian_host
	mkdir -p "$ROOT/var/lib/prometheus/node-exporter"
	FAKE_METRICS_ERROR="vfio-reserve: cannot write $ROOT/var/lib/prometheus/node-exporter/vfio-reserve.prom: No space left on device" \
		run -0 --separate-stderr update
	assert_equal "$stderr" "vfio-reserve: cannot write $ROOT/var/lib/prometheus/node-exporter/vfio-reserve.prom: No space left on device
vfio-reserve: the metrics for Prometheus were not written (exit 1); the update itself is done"
	assert_line --index 4 "vfio-reserve: done; reboot for the change to take effect"
}

@test "where Node Feature Discovery's features.d is, update writes the node labels last, after the metrics; not on --dry-run or --remove" {
	debian_host
	mkdir -p "$ROOT/var/lib/prometheus/node-exporter" "$ROOT/etc/kubernetes/node-feature-discovery/features.d"
	run -0 update --dry-run
	run -1 grep -F nfd "$FAKE_LOG"
	run -0 update
	run -0 tail -n 2 "$FAKE_LOG"
	assert_output "--root $ROOT metrics --textfile-dir $ROOT/var/lib/prometheus/node-exporter
--root $ROOT nfd --write=$ROOT/etc/kubernetes/node-feature-discovery/features.d"
	: >"$FAKE_LOG"
	run -0 update --remove
	run -1 grep -F nfd "$FAKE_LOG"
	# Without the directory, no labels.
	rmdir "$ROOT/etc/kubernetes/node-feature-discovery/features.d"
	run -0 update
	run -1 grep -F nfd "$FAKE_LOG"
}

@test "node labels that cannot be written are a warning: the update is done, exit 0" {
	debian_host
	mkdir -p "$ROOT/etc/kubernetes/node-feature-discovery/features.d"
	FAKE_NFD_ERROR="vfio-reserve: nfd: $ROOT/etc/kubernetes/node-feature-discovery/features.d/.vfio-reserve: No space left on device" \
		run -0 --separate-stderr update
	assert_equal "$stderr" "vfio-reserve: nfd: $ROOT/etc/kubernetes/node-feature-discovery/features.d/.vfio-reserve: No space left on device
vfio-reserve: the node labels for Node Feature Discovery were not written (exit 1); the update itself is done"
	assert_line --index 4 "vfio-reserve: done; reboot for the change to take effect"
}

@test "a config with errors stops update before anything is written" {
	debian_host
	before=$(snapshot)
	FAKE_CHECK_ERROR="vfio-reserve: $CONF:3: unknown token 'frob'" run -2 --separate-stderr update
	assert_output ''
	assert_equal "$stderr" "vfio-reserve: $CONF:3: unknown token 'frob'
vfio-reserve: the config has errors; nothing was changed"
	assert_equal "$(snapshot)" "$before"
	run -0 cat "$FAKE_LOG"
	assert_output "--root $ROOT check --config-only"
}

@test "no active rule left: the files come back as they were" {
	debian_host
	add_kernel_cmdline fedora
	before=$(snapshot_content)
	run -0 update
	FAKE_CMDLINE='' run -0 update
	assert_output - <<-EOF
	vfio-reserve: no active rule: no kernel arguments
	vfio-reserve: skipped under --root: update-initramfs -u -k all
	vfio-reserve: updated $ROOT/etc/kernel/cmdline
	vfio-reserve: removed $ROOT/etc/default/grub.d/vfio-reserve.cfg
	vfio-reserve: skipped under --root: update-grub
	vfio-reserve: done; reboot for the change to take effect
	EOF
	assert_equal "$(snapshot_content)" "$before"
}

@test "--remove needs neither the binder nor a config, and leaves the initramfs alone" {
	debian_host
	before=$(snapshot_content)
	run -0 update
	VFIO_RESERVE=/nonexistent run -0 "$GRUB_SCRIPTS/update" --root "$ROOT" --remove
	assert_output - <<-EOF
	vfio-reserve: initramfs not rebuilt (--remove): until it is, it reserves at boot what the config names
	vfio-reserve: removed $ROOT/etc/default/grub.d/vfio-reserve.cfg
	vfio-reserve: skipped under --root: update-grub
	vfio-reserve: done; reboot for the change to take effect
	EOF
	assert_equal "$(snapshot_content)" "$before"
}

@test "the initramfs generator is the one whose kernel hook is installed" {
	make_root debian-12 dropin
	add_program usr/sbin/update-grub
	# Debian's -core packages alone: both tools, neither hook.
	add_program usr/sbin/mkinitramfs
	add_program usr/bin/dracut
	run -0 --separate-stderr update --dry-run
	assert_equal "$stderr" 'vfio-reserve: found neither initramfs-tools, mkinitcpio nor dracut set up to build the initramfs; rebuild it by hand'

	# Debian's dracut package, with the conffile hook of a removed
	# initramfs-tools left behind.
	add_file etc/kernel/postinst.d/initramfs-tools
	add_file etc/kernel/postinst.d/dracut
	run -0 update --dry-run
	assert_line 'vfio-reserve: skipped under --root: dracut -f --regenerate-all'

	# Debian's initramfs-tools package.
	rm "$ROOT/etc/kernel/postinst.d/dracut"
	add_program usr/sbin/update-initramfs
	run -0 update --dry-run
	assert_line 'vfio-reserve: skipped under --root: update-initramfs -u -k all'

	# kernel-install with dracut's plugin, as on Fedora.
	rm -r "$ROOT/etc/kernel/postinst.d" "$ROOT/usr/sbin/update-initramfs"
	add_file usr/lib/kernel/install.d/50-dracut.install
	run -0 update --dry-run
	assert_line 'vfio-reserve: skipped under --root: dracut -f --regenerate-all'
}

# Arch: mkinitcpio's pacman hook runs at every kernel upgrade; Arch's dracut
# package ships 50-dracut.install, which only kernel-install runs.
@test "mkinitcpio -P where mkinitcpio is set up: its config, its pacman hook or kernel-install plugin, the program; before dracut" {
	make_root arch inplace
	add_program usr/bin/mkinitcpio
	add_file etc/mkinitcpio.conf
	# The program and its config, but no hook that a kernel upgrade runs.
	run -0 --separate-stderr update --dry-run
	assert_equal "$stderr" 'vfio-reserve: found neither initramfs-tools, mkinitcpio nor dracut set up to build the initramfs; rebuild it by hand'
	refute_output --partial 'mkinitcpio'

	add_file usr/share/libalpm/hooks/90-mkinitcpio-install.hook
	run -0 update --dry-run
	assert_line 'vfio-reserve: skipped under --root: mkinitcpio -P'

	# dracut installed beside it, with its kernel-install plugin.
	add_file usr/lib/kernel/install.d/50-dracut.install
	add_program usr/bin/dracut
	run -0 update --dry-run
	assert_line 'vfio-reserve: skipped under --root: mkinitcpio -P'
	refute_line --partial 'dracut -f'

	# mkinitcpio through kernel-install only.
	rm "$ROOT/usr/share/libalpm/hooks/90-mkinitcpio-install.hook"
	add_file usr/lib/kernel/install.d/50-mkinitcpio.install
	run -0 update --dry-run
	assert_line 'vfio-reserve: skipped under --root: mkinitcpio -P'

	# No configuration: not set up; dracut is.
	rm "$ROOT/etc/mkinitcpio.conf"
	run -0 update --dry-run
	assert_line 'vfio-reserve: skipped under --root: dracut -f --regenerate-all'
	refute_line --partial 'mkinitcpio'

	# The program gone, its config and hook left behind.
	add_file etc/mkinitcpio.conf
	rm "$ROOT/usr/bin/mkinitcpio"
	run -0 update --dry-run
	assert_line 'vfio-reserve: skipped under --root: dracut -f --regenerate-all'

	# initramfs-tools first, as on Debian.
	add_program usr/bin/mkinitcpio
	add_file etc/kernel/postinst.d/initramfs-tools
	add_program usr/sbin/update-initramfs
	run -0 update --dry-run
	assert_line 'vfio-reserve: skipped under --root: update-initramfs -u -k all'
	refute_line --partial 'mkinitcpio'
}

@test "GRUB's menu is made with update-grub, else with grub-mkconfig for the grub.cfg that is there" {
	make_root arch inplace
	add_file etc/kernel/postinst.d/dracut
	add_program usr/bin/dracut
	rm -r "$ROOT/boot/grub"
	run -0 --separate-stderr update --dry-run
	assert_equal "$stderr" "vfio-reserve: found no grub-mkconfig and grub.cfg to regenerate; regenerate GRUB's menu by hand"

	add_file boot/grub/grub.cfg
	run -0 update --dry-run
	assert_line 'vfio-reserve: skipped under --root: grub-mkconfig -o /boot/grub/grub.cfg'

	add_program usr/sbin/update-grub
	run -0 update --dry-run
	assert_line 'vfio-reserve: skipped under --root: update-grub'
}

@test "Fedora: grub2-mkconfig, told to update the BLS entries when it can" {
	make_root fedora-40 inplace
	add_file usr/lib/kernel/install.d/50-dracut.install
	add_program usr/bin/dracut
	mv "$ROOT/usr/sbin/grub-mkconfig" "$ROOT/usr/sbin/grub2-mkconfig"
	add_file boot/grub2/grub.cfg
	run -0 update --dry-run
	assert_line 'vfio-reserve: skipped under --root: grub2-mkconfig -o /boot/grub2/grub.cfg'
	echo '    --update-bls-cmdline)' >> "$ROOT/usr/sbin/grub2-mkconfig"
	run -0 update --dry-run
	assert_line 'vfio-reserve: skipped under --root: grub2-mkconfig --update-bls-cmdline -o /boot/grub2/grub.cfg'
}

@test "a missing binder and bad usage are told" {
	debian_host
	VFIO_RESERVE=/nonexistent run -1 --separate-stderr update
	assert_equal "$stderr" 'vfio-reserve: /nonexistent: not found or not executable (set VFIO_RESERVE)'
	run -2 update --bogus
	run -2 update -c
	run -2 "$GRUB_SCRIPTS/update" --root
}

# --- one transaction ------------------------------------------------------------

# Staged files of the editor, wherever they are.
staged_files() {
	find "$ROOT" -name '.*.vfio-reserve.??????'
}

@test "-c FILE that does not exist is a usage error, never \"no rule\": nothing is run or written" {
	debian_host
	run -0 update -q
	before=$(snapshot)
	: > "$FAKE_LOG"
	run -2 --separate-stderr update -c "$ROOT/etc/vfio-reserve.cnof"
	assert_equal "$stderr" "vfio-reserve: $ROOT/etc/vfio-reserve.cnof: no such file; nothing was changed"
	run -2 update -c "$ROOT/etc/vfio-reserve.cnof" --remove
	assert_equal "$(snapshot)" "$before"
	assert_equal "$(cat "$FAKE_LOG")" ''
}

@test "-c FILE other than the config is refused: the initramfs is built from the config" {
	debian_host
	echo '01:00.0 10de:2204' > "$BATS_TEST_TMPDIR/other.conf"
	before=$(snapshot)
	run -2 --separate-stderr update -c "$BATS_TEST_TMPDIR/other.conf"
	assert_equal "$stderr" "vfio-reserve: update -c $BATS_TEST_TMPDIR/other.conf: the initramfs is built from $ROOT/etc/vfio-reserve.conf, now and at every kernel upgrade; copy $BATS_TEST_TMPDIR/other.conf there and run 'vfio-reserve update'; nothing was changed"
	assert_equal "$(snapshot)" "$before"
	assert_equal "$(cat "$FAKE_LOG" 2>/dev/null)" ''
	# The config itself, by any name, is fine.
	echo '01:00.0 10de:2204' > "$ROOT/etc/vfio-reserve.conf"
	ln -s ../etc/vfio-reserve.conf "$ROOT/usr/vfio-reserve.conf"
	run -0 update -q -c "$ROOT/usr/vfio-reserve.conf"
	assert_file_exist "$ROOT/etc/default/grub.d/vfio-reserve.cfg"
}

@test "30 concurrent pairs of update with different arguments: --remove then restores every file" {
	for pair in $(seq 30); do
		debian_host
		add_kernel_cmdline fedora
		before=$(snapshot_content)
		FAKE_CMDLINE="${ARGS[*]}" update -q 2>/dev/null &
		first=$!
		FAKE_CMDLINE='iommu=pt video=efifb:off' update -q 2>/dev/null &
		second=$!
		wait "$first"
		wait "$second"
		run -0 update -q --remove
		assert_equal "$(snapshot_content)" "$before" || fail "pair $pair"
		assert_equal "$(staged_files)" ''
	done
}

# The lock as another root process holds it: in its directory, made as
# update makes it.
hold_lock() {
	mkdir -p -m 0700 "$ROOT/run/vfio-reserve"
	exec {held}>>"$ROOT/run/vfio-reserve/lock"
	flock "$held"
}

@test "a run waits for the lock that another holds, and says so" {
	debian_host
	hold_lock
	flock "$held"
	update -q 2>"$BATS_TEST_TMPDIR/stderr" &
	waiting=$!
	sleep 1
	kill -0 "$waiting"
	assert_file_not_exist "$ROOT/etc/default/grub.d/vfio-reserve.cfg"
	# The editor alone takes the same lock.
	run -124 timeout 1 "$GRUB_SCRIPTS/kernel-cmdline" --root "$ROOT" set iommu=pt
	flock -u "$held"
	exec {held}>&-
	wait "$waiting"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/stderr")" 'vfio-reserve: waiting for another vfio-reserve update to finish'
	assert_file_exist "$ROOT/etc/default/grub.d/vfio-reserve.cfg"
}

@test "no other user can hold the lock: it is in a directory only root enters" {
	debian_host
	run -0 update -q
	# Let user nobody reach the root, as on a host, where /run is open.
	dir=$ROOT
	while [ "$dir" != "${BATS_RUN_TMPDIR%/*}" ] && [ -n "$dir" ]; do
		chmod o+x "$dir"
		dir=${dir%/*}
	done
	# nobody takes every file of /run it can open, as flock(1) opens it,
	# and keeps it.
	: > "$BATS_TEST_TMPDIR/taken"
	chmod 0666 "$BATS_TEST_TMPDIR/taken"
	# (/run/reboot-required and .pkgs are for all to read, as on Debian.)
	for file in $(find "$ROOT/run" -type f ! -name 'reboot-required*'); do
		setsid setpriv --reuid=nobody --regid=nogroup --clear-groups \
			flock -n "$file" sh -c 'echo "$1" >>"$2"; exec sleep 20' sh "$file" "$BATS_TEST_TMPDIR/taken" \
			2>/dev/null 3>&- &
		holders+=($!)
	done
	sleep 0.5
	assert_equal "$(cat "$BATS_TEST_TMPDIR/taken")" ''
	FAKE_CMDLINE='iommu=pt' run -0 timeout 10 "$GRUB_SCRIPTS/update" --root "$ROOT" -q
	run -0 grub_values
	assert_line 'DEFAULT=quiet iommu=pt'
	assert_equal "$(stat -c '%U %a' "$ROOT/run/vfio-reserve")" 'root 700'
}

@test "a lock directory that is a link, or that another user owns or can enter, is refused; nothing changed" {
	debian_host
	mkdir -p "$ROOT/run" "$BATS_TEST_TMPDIR/elsewhere"
	chmod 1777 "$BATS_TEST_TMPDIR/elsewhere"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$ROOT/run/vfio-reserve"
	before=$(snapshot)
	run -1 --separate-stderr update -q
	assert_equal "$stderr" "vfio-reserve: $ROOT/run/vfio-reserve: not a directory of mode 0700 owned by root; remove it and run again; nothing was changed"
	assert_equal "$(snapshot)" "$before"
	assert_equal "$(ls -A "$BATS_TEST_TMPDIR/elsewhere")" ''
	rm "$ROOT/run/vfio-reserve"
	mkdir -m 0755 "$ROOT/run/vfio-reserve"
	run -1 --separate-stderr update -q
	assert_equal "$stderr" "vfio-reserve: $ROOT/run/vfio-reserve: not a directory of mode 0700 owned by root; remove it and run again; nothing was changed"
	chmod 0700 "$ROOT/run/vfio-reserve"
	chown nobody "$ROOT/run/vfio-reserve"
	run -1 --separate-stderr "$GRUB_SCRIPTS/kernel-cmdline" --root "$ROOT" -q set iommu=pt
	assert_equal "$stderr" "vfio-reserve: $ROOT/run/vfio-reserve: not a directory of mode 0700 owned by root; remove it and run again; nothing was changed"
	run -1 --separate-stderr "$GRUB_SCRIPTS/bootloader" --root "$ROOT" -q grubby set iommu=pt
	assert_equal "$stderr" "vfio-reserve: $ROOT/run/vfio-reserve: not a directory of mode 0700 owned by root; remove it and run again; nothing was changed"
	assert_equal "$(snapshot)" "$before"
}

@test "a lock held too long: update, the editor and the boot loader tool give up after VFIO_RESERVE_LOCK_WAIT seconds; nothing changed" {
	debian_host
	hold_lock
	before=$(snapshot)
	export VFIO_RESERVE_LOCK_WAIT=1
	message="vfio-reserve: $ROOT/run/vfio-reserve/lock: another vfio-reserve update has held it for 1 seconds; try again when it is done; nothing was changed"
	run -1 --separate-stderr timeout 20 "$GRUB_SCRIPTS/update" --root "$ROOT" -q
	assert_equal "$stderr" "vfio-reserve: waiting for another vfio-reserve update to finish
$message"
	run -1 --separate-stderr timeout 20 "$GRUB_SCRIPTS/kernel-cmdline" --root "$ROOT" -q set iommu=pt
	assert_equal "$stderr" "vfio-reserve: waiting for another vfio-reserve update to finish
$message"
	run -1 --separate-stderr timeout 20 "$GRUB_SCRIPTS/bootloader" --root "$ROOT" -q grubby set iommu=pt
	assert_equal "$stderr" "vfio-reserve: waiting for another vfio-reserve update to finish
$message"
	assert_equal "$(snapshot)" "$before"
	flock -u "$held"
	exec {held}>&-
}

@test "kill -9 at random moments: no file is left behind once the next run is done, and it converges" {
	debian_host
	add_kernel_cmdline fedora
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir "$TMPDIR"
	original=$(snapshot_content)
	run -0 update -q
	updated=$(snapshot_content)
	killed_staged=0
	for round in $(seq 40); do
		remove=
		[ $((round % 2)) -eq 0 ] || remove=--remove
		# Its own process group: the kill takes the editor and awk too.
		setsid "$GRUB_SCRIPTS/update" --root "$ROOT" -q $remove 2>/dev/null &
		victim=$!
		sleep "0.0$((RANDOM % 10))"
		kill -9 -- "-$victim" 2>/dev/null || :
		wait "$victim" || :
		# Only staged files may be left, and nothing in $TMPDIR.
		assert_equal "$(find "$TMPDIR" -mindepth 1)" ''
		[ -z "$(staged_files)" ] || killed_staged=$((killed_staged + 1))
		run -0 update -q $remove
		assert_equal "$(staged_files)" '' || fail "round $round"
		if [ -n "$remove" ]; then
			assert_equal "$(snapshot_content)" "$original" || fail "round $round"
		else
			assert_equal "$(snapshot_content)" "$updated" || fail "round $round"
		fi
	done
	echo "# runs killed with staged files left: $killed_staged of 40" >&3
}

@test "the staged files of a run killed between staging and renaming go at the next run" {
	debian_host
	add_kernel_cmdline fedora
	run -0 update -q
	updated=$(snapshot_content)
	# What a kill -9 after staging leaves: staged files beside each target.
	for file in etc/default/grub.d/vfio-reserve.cfg etc/default/grub etc/kernel/cmdline \
		var/lib/vfio-reserve/kernel-cmdline.added; do
		echo 'half' > "$ROOT/${file%/*}/.${file##*/}.vfio-reserve.Xy12Zw"
	done
	run -0 --separate-stderr update -q
	assert_equal "$(staged_files)" ''
	assert_equal "$(snapshot_content)" "$updated"
	# A dry run writes nothing, not even that.
	echo 'half' > "$ROOT/etc/default/grub.d/.vfio-reserve.cfg.vfio-reserve.Xy12Zw"
	run -0 update -q --dry-run
	assert_equal "$(staged_files)" "$ROOT/etc/default/grub.d/.vfio-reserve.cfg.vfio-reserve.Xy12Zw"
}

@test "a run killed after it made the state directory, before the state file: the next run removes the empty directory" {
	debian_host
	original=$(snapshot_content)
	mkdir -p "$ROOT/var/lib/vfio-reserve"
	run -0 update -q --remove
	assert_file_not_exist "$ROOT/var/lib/vfio-reserve"
	assert_equal "$(snapshot_content)" "$original"
}

@test "a target that cannot be written refuses the whole run: a read-only grub.d leaves /etc/kernel/cmdline as it was" {
	unshare -m true 2>/dev/null || skip "needs root and mount namespaces for a read-only grub.d"
	debian_host
	add_kernel_cmdline fedora
	ro_grub_d() {
		unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' \
			sh "$ROOT/etc/default/grub.d" "$GRUB_SCRIPTS/update" --root "$ROOT" -q "$@"
	}
	before=$(snapshot)
	run -1 --separate-stderr ro_grub_d
	assert_equal "$stderr" "vfio-reserve: $ROOT/etc/default/grub.d: cannot be written; nothing was changed"
	assert_equal "$(snapshot)" "$before"

	run -0 update -q
	before=$(snapshot)
	run -1 --separate-stderr ro_grub_d --remove
	assert_equal "$stderr" "vfio-reserve: $ROOT/etc/default/grub.d/vfio-reserve.cfg: cannot be written; nothing was changed"
	assert_equal "$(snapshot)" "$before"
}

@test "a read-only /etc/modprobe.d stops update before anything is written: exit 1, a clear message" {
	unshare -m true 2>/dev/null || skip "needs root and mount namespaces for a read-only /etc/modprobe.d"
	debian_host
	add_kernel_cmdline fedora
	mkdir -p "$ROOT/etc/modprobe.d"
	export FAKE_MODULES='vfio vfio_pci'
	ro_modprobe_d() {
		unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' \
			sh "$ROOT/etc/modprobe.d" "$GRUB_SCRIPTS/update" --root "$ROOT" -q "$@"
	}
	before=$(snapshot)
	run -1 --separate-stderr ro_modprobe_d
	assert_equal "$stderr" "vfio-reserve: $ROOT/etc/modprobe.d: cannot be written; nothing was changed"
	assert_equal "$(snapshot)" "$before"

	# And the other way round: what update wrote cannot be removed.
	run -0 update -q
	before=$(snapshot)
	run -1 --separate-stderr ro_modprobe_d --remove
	assert_equal "$stderr" "vfio-reserve: $ROOT/etc/modprobe.d/00-vfio-reserve.conf: cannot be removed; nothing was changed"
	assert_equal "$(snapshot)" "$before"
}

# on_host COMMAND...: COMMAND in a mount namespace whose /etc, /boot,
# /var/lib and /run are $ROOT's and whose /usr/sbin has $ROOT/usr/sbin (the
# stand-ins) over the machine's: update runs the commands it only shows
# under --root. The machine's /etc/alternatives is copied in: awk is there.
on_host() {
	unshare -m true 2>/dev/null || skip "needs root and mount namespaces to make a throwaway host"
	[ -e "$ROOT/etc/alternatives" ] || cp -a /etc/alternatives "$ROOT/etc/"
	unshare -m sh -ec '
		root=$1
		shift
		mount -t overlay vfio-reserve-test -o "lowerdir=$root/usr/sbin:/usr/sbin" /usr/sbin
		mount --bind "$root/boot" /boot
		mount --bind "$root/var/lib" /var/lib
		mount --bind "$root/run" /run
		mount --bind "$root/etc" /etc
		exec "$@"
	' sh "$ROOT" "$@"
}

@test "a failing initramfs build: exit 1, the kernel arguments and the modprobe.d file as they were" {
	debian_host
	add_kernel_cmdline fedora
	mkdir -p "$ROOT/etc/modprobe.d"
	printf '#!/bin/sh\necho "update-initramfs: no space left on /boot" >&2\nexit 3\n' \
		>"$ROOT/usr/sbin/update-initramfs"
	printf '#!/bin/sh\necho update-grub ran\n' >"$ROOT/usr/sbin/update-grub"
	export FAKE_MODULES='vfio vfio_pci'
	cp -a /etc/alternatives "$ROOT/etc/"
	before=$(snapshot_content)
	run -1 --separate-stderr on_host "$GRUB_SCRIPTS/update" -q
	assert_equal "$stderr" "update-initramfs: no space left on /boot
vfio-reserve: update-initramfs failed (exit 3): the kernel arguments and /etc/modprobe.d/00-vfio-reserve.conf are as they were; fix that and run 'vfio-reserve update' again"
	assert_output ''
	assert_equal "$(snapshot_content)" "$before"

	# An earlier file comes back byte for byte.
	printf '#!/bin/sh\nexit 0\n' >"$ROOT/usr/sbin/update-initramfs"
	run -0 on_host "$GRUB_SCRIPTS/update" -q
	assert_file_exist "$ROOT/etc/modprobe.d/00-vfio-reserve.conf"
	printf '#!/bin/sh\nexit 3\n' >"$ROOT/usr/sbin/update-initramfs"
	before=$(snapshot_content)
	FAKE_MODULES='vfio vfio_pci vfio_iommu_type1' FAKE_CMDLINE='iommu=pt' run -1 on_host "$GRUB_SCRIPTS/update" -q
	assert_equal "$(snapshot_content)" "$before"

	# The file's earlier name, which update removes, comes back too.
	echo 'softdep bochs pre: vfio_pci' >"$ROOT/etc/modprobe.d/vfio-reserve.conf"
	before=$(snapshot_content)
	FAKE_MODULES='vfio vfio_pci vfio_iommu_type1' FAKE_CMDLINE='iommu=pt' run -1 on_host "$GRUB_SCRIPTS/update" -q
	assert_equal "$(snapshot_content)" "$before"
}

@test "a symlinked /etc/default/grub is fine in drop-in mode, which only reads it" {
	debian_host
	add_kernel_cmdline fedora
	mv "$ROOT/etc/default/grub" "$ROOT/etc/default/grub.real"
	ln -s grub.real "$ROOT/etc/default/grub"
	before=$(snapshot_content)
	run -0 update
	assert_line "vfio-reserve: wrote $ROOT/etc/default/grub.d/vfio-reserve.cfg"
	run -0 grub_values
	assert_line 'DEFAULT=quiet intel_iommu=on iommu=pt vfio-pci.ids=10de:2204,10de:1aef'
	run -0 update --remove
	assert_equal "$(snapshot_content)" "$before"
	assert_equal "$(readlink "$ROOT/etc/default/grub")" grub.real
}

@test "scripts are shellcheck clean POSIX sh" {
	command -v shellcheck >/dev/null || fail "needs shellcheck: apt-get install shellcheck"
	cd "$REPO" && shellcheck -x -s sh grub/kernel-cmdline update/update update/boot-setup bootloader-tools/bootloader hooks/modprobe-conf tests/grub/fixtures/bin/fake-vfio-reserve
}

@test "install-scripts puts the scripts side by side into LIBDIR, mode 0755, and what they source, 0644" {
	run -0 make -s -C "$REPO" install-scripts DESTDIR="$BATS_TEST_TMPDIR/dest"
	local lib=$BATS_TEST_TMPDIR/dest/usr/lib/vfio-reserve script
	for script in update/update update/boot-setup bootloader-tools/bootloader grub/kernel-cmdline; do
		assert_equal "$(stat -c %a "$lib/${script#*/}")" 755
		cmp "$REPO/$script" "$lib/${script#*/}"
	done
	assert_equal "$(stat -c %a "$lib/modprobe-conf")" 755
	assert_equal "$(stat -c %a "$lib/common")" 644
	assert_equal "$(stat -c %a "$lib/hooks/image-content")" 644
	# Each script works from there alone: the lock, the messages and
	# find_program come from the one common file beside it.
	run -0 grep -l '^take_lock$' "$lib/update" "$lib/bootloader" "$lib/kernel-cmdline"
	run -1 grep -l '^find_program() {' "$lib/update" "$lib/bootloader" "$lib/boot-setup" "$lib/kernel-cmdline" "$lib/modprobe-conf"
}

# --- with the real binder ----------------------------------------------------

# `vfio-reserve update` as a user runs it: the binder execs our script from
# $VFIO_RESERVE_LIBDIR and tells it where the binder is.
real_update() {
	[ -x "$REPO/binder/vfio-reserve" ] || skip "binder/vfio-reserve is not built"
	unset VFIO_RESERVE
	VFIO_RESERVE_LIBDIR=$GRUB_SCRIPTS "$REPO/binder/vfio-reserve" --root "$ROOT" update "$@"
}

real_update_quiet() {
	[ -x "$REPO/binder/vfio-reserve" ] || skip "binder/vfio-reserve is not built"
	unset VFIO_RESERVE
	VFIO_RESERVE_LIBDIR=$GRUB_SCRIPTS "$REPO/binder/vfio-reserve" --root "$ROOT" -q update
}

# Debian host with the boot VGA and one card to pass through.
real_host() {
	debian_host
	one_card_sysfs
	printf '# reserve the card behind 00:02.0\n%s\n' "$1" > "$ROOT/etc/vfio-reserve.conf"
	chmod 0644 "$ROOT/etc/vfio-reserve.conf"
}

@test "real binder: vfio-reserve update puts what vfio-reserve cmdline says into GRUB" {
	real_host '01:00.0 10de:2204'
	run -0 real_update --dry-run
	assert_line "vfio-reserve: would write $ROOT/etc/default/grub.d/vfio-reserve.cfg"
	run -0 real_update
	# Never vfio-pci.ids=, although the host has no other card with the ID.
	assert_line 'vfio-reserve: kernel arguments: intel_iommu=on iommu=pt'
	assert_line "vfio-reserve: wrote $ROOT/etc/default/grub.d/vfio-reserve.cfg"
	run -0 grub_values
	assert_line 'DEFAULT=quiet intel_iommu=on iommu=pt'
}

@test "real binder: update writes the metrics, with the record it made, where node_exporter's collector is" {
	real_host '01:00.0 10de:2204'
	mkdir -p "$ROOT/var/lib/prometheus/node-exporter"
	run -0 real_update
	run -0 grep -E '^vfio_reserve_(functions_not_reserved|hardware_record) ' "$ROOT/var/lib/prometheus/node-exporter/vfio-reserve.prom"
	assert_output "vfio_reserve_functions_not_reserved 2
vfio_reserve_hardware_record 1"
}

@test "real binder: commenting the rule out and updating restores the files byte for byte" {
	real_host '01:00.0 10de:2204'
	add_kernel_cmdline fedora
	run -0 real_update
	run -1 cmp -s "$FIXTURES/kernel-cmdline/fedora" "$ROOT/etc/kernel/cmdline"
	sed -i 's/^01:00.0/# 01:00.0/' "$ROOT/etc/vfio-reserve.conf"
	run -0 real_update
	assert_line 'vfio-reserve: no active rule: no kernel arguments'
	cmp "$FIXTURES/default-grub/debian-12" "$ROOT/etc/default/grub"
	cmp "$FIXTURES/kernel-cmdline/fedora" "$ROOT/etc/kernel/cmdline"
	assert_file_not_exist "$ROOT/etc/default/grub.d/vfio-reserve.cfg"
	assert_file_not_exist "$ROOT/var/lib/vfio-reserve"
}

@test "real binder: vfio-reserve -q update says nothing but why there is no trial boot, and does the work" {
	real_host '01:00.0 10de:2204'
	run -0 --separate-stderr real_update_quiet
	assert_output ''
	# A warning, which -q keeps: this fake host has no grub-editenv.
	assert_equal "$stderr" 'vfio-reserve: no trial boot: grub-editenv is not installed; the change takes effect at every boot without one'
	run -0 grub_values
	assert_line 'DEFAULT=quiet intel_iommu=on iommu=pt'
}

@test "real binder: a config error stops update with exit 2 and nothing written" {
	real_host '01:00.0 10de:2204 frob'
	before=$(snapshot)
	run -2 --separate-stderr real_update
	assert_equal "${stderr##*$'\n'}" 'vfio-reserve: the config has errors; nothing was changed'
	assert_regex "$stderr" "^vfio-reserve: $ROOT/etc/vfio-reserve.conf:2: "
	assert_equal "$(snapshot)" "$before"
}

@test "real binder: update refuses a rule that takes the drive of the root file system, nothing written" {
	real_host '01:00.0 10de:2204'
	# shellcheck source=tests/lib/host-uses.bash
	source "$REPO/tests/lib/host-uses.bash"
	block_device 01:00.0 nvme0n1p2 259:2
	mounted /dev/nvme0n1p2 259:2 /
	before=$(find "$ROOT/etc" -type f -exec md5sum {} + | sort)
	run -1 --separate-stderr real_update
	assert_equal "${stderr_lines[0]}" "vfio-reserve: $ROOT/etc/vfio-reserve.conf:2: 0000:01:00.0 [10de:2204] holds the file system on /: the host needs it (add 'force' to take it anyway)"
	assert_equal "$(find "$ROOT/etc" -type f -exec md5sum {} + | sort)" "$before"
	assert_file_not_exist "$ROOT/etc/default/grub.d/vfio-reserve.cfg"
}

@test "real binder: update records the hardware the rules take beside the config, root's and 0644; none without an active rule" {
	real_host '01:00.0 10de:2204'
	record=$ROOT/etc/vfio-reserve.conf.fingerprint
	run -0 real_update --dry-run
	assert_file_not_exist "$record"
	run -0 real_update
	run -0 cat "$record"
	assert_output - <<-'EOF'
	rule 2 01:00.0 10de:2204
	0000:01:00.0 10de:2204 10de:2204 030000 02 00:02.0/00.0 00:02.0/00.1=10de:1aef
	0000:01:00.1 10de:1aef 10de:1aef 040300 02 00:02.0/00.1 00:02.0/00.0=10de:2204
	EOF
	assert_equal "$(stat -c '%a %u' "$record")" '644 0'
	sed -i 's/^01:00.0/# 01:00.0/' "$ROOT/etc/vfio-reserve.conf"
	run -0 real_update
	assert_file_not_exist "$record"
}
