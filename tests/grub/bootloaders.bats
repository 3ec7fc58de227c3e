#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# bootloader-tools/bootloader through update/update: which boot loader's tool `update`
# finds (and in which order), the exact arguments each gets, a second run
# that gives nothing new, --remove that brings every file back byte for
# byte and keeps the user's own arguments, --dry-run and --root.
#
# The real grubby, kernelstub and proxmox-boot-tool are tested in
# grubby.bats, kernelstub.bats and proxmox-boot-tool.bats (from
# ../shared/upstream). Here, where a tool is only
# shown (--root, --dry-run), an empty program stands for it; rpm-ostree,
# which must never run, is a stand-in (fixtures/standins/rpm-ostree) that
# logs each call to $STANDIN_LOG and fails. kernel-install is Debian's own
# (package systemd, with its loader-entry plugin): it runs for real and
# writes real BLS entries. The runs that act, without --root, go in a mount namespace
# (on_host) where the test's root is the running system's /etc, /boot,
# /var/lib and /run/lock.

load test_helper

setup() {
	export FAKE_LOG=$BATS_TEST_TMPDIR/binder.log
	export FAKE_CMDLINE="${ARGS[*]}"
	export VFIO_RESERVE=$FIXTURES/bin/fake-vfio-reserve
	export STANDIN_LOG=$BATS_TEST_TMPDIR/standins.log
	: > "$STANDIN_LOG"
	IDS=vfio-pci.ids=10de:2204,10de:1aef
	NO_INITRAMFS='vfio-reserve: found neither initramfs-tools, mkinitcpio nor dracut set up to build the initramfs; rebuild it by hand'
	make_host_root
}

# The stand-in NAME in the root's /usr/sbin (on_host puts that directory
# over the machine's).
add_standin() {
	cp "$FIXTURES/standins/$1" "$ROOT/usr/sbin/$1"
}

# An empty program NAME in the root's /usr/sbin, for --root: never run.
add_program() {
	: > "$ROOT/usr/sbin/$1"
	chmod 0755 "$ROOT/usr/sbin/$1"
}

bootloader() {
	"$GRUB_SCRIPTS/bootloader" --root "$ROOT" "$@"
}

update() {
	"$GRUB_SCRIPTS/update" --root "$ROOT" "$@"
}

# --- detection -------------------------------------------------------------------

@test "detection order: rpm-ostree, grubby, kernelstub, proxmox-boot-tool, kernel-install, else GRUB" {
	: > "$ROOT/run/ostree-booted"
	for tool in grubby kernelstub proxmox-boot-tool kernel-install; do
		add_program "$tool"
	done
	: > "$ROOT/etc/kernel/proxmox-boot-uuids"
	: > "$ROOT/etc/kernel/cmdline"
	run -0 bootloader detect
	assert_output rpm-ostree
	rm "$ROOT/run/ostree-booted"
	run -0 bootloader detect
	assert_output grubby
	rm "$ROOT/usr/sbin/grubby"
	run -0 bootloader detect
	assert_output kernelstub
	rm "$ROOT/usr/sbin/kernelstub"
	run -0 bootloader detect
	assert_output proxmox-boot-tool
	# The UUIDs without the tool, or the tool without them, is not Proxmox's
	# sync of the ESPs.
	rm "$ROOT/usr/sbin/proxmox-boot-tool"
	run -0 bootloader detect
	assert_output kernel-install
	add_program proxmox-boot-tool
	rm "$ROOT/etc/kernel/proxmox-boot-uuids"
	run -0 bootloader detect
	assert_output kernel-install
	# /etc/kernel/cmdline without kernel-install, or kernel-install without
	# it (Debian's systemd has kernel-install on every host), is GRUB.
	rm "$ROOT/usr/sbin/kernel-install"
	run -0 bootloader detect
	assert_output grub
	add_program kernel-install
	rm "$ROOT/etc/kernel/cmdline"
	run -0 bootloader detect
	assert_output grub
}

@test "bad usage of bootloader is exit 2; an argument that is not a kernel argument is refused" {
	run -2 bootloader
	run -2 bootloader frob set
	run -2 bootloader grubby refresh
	run -2 bootloader kernel-install set iommu=pt
	run -2 bootloader grubby remove iommu=pt
	run -2 bootloader detect now
	run -2 --separate-stderr bootloader grubby set 'iommu=pt"'
	assert_equal "$stderr" "vfio-reserve: refusing kernel argument 'iommu=pt\"': only letters, digits and _.,:=+/- are allowed"
}

# --- rpm-ostree: refused ---------------------------------------------------------

@test "rpm-ostree: /run/ostree-booted wins over grubby; update refuses with exit 1, runs nothing and writes nothing" {
	: > "$ROOT/run/ostree-booted"
	add_standin rpm-ostree
	add_program grubby
	cp "$FIXTURES/default-grub/fedora-40" "$ROOT/etc/default/grub"
	before=$(snapshot)
	for dry_run in '' --dry-run; do
		run -1 --separate-stderr update $dry_run
		assert_equal "$output" "vfio-reserve: kernel arguments: ${ARGS[*]}"
		assert_equal "$stderr" "vfio-reserve: $ROOT/run/ostree-booted: this is an rpm-ostree system (Fedora Atomic): its initramfs comes with the image, and 'vfio-reserve update' cannot put vfio-reserve into it; nothing was changed
vfio-reserve: build an image with vfio-reserve installed (its dracut module goes into the image's initramfs), and set the kernel arguments of 'vfio-reserve cmdline' with 'rpm-ostree kargs --append-if-missing=ARG'"
	done
	assert_equal "$(snapshot)" "$before"
	assert_equal "$(cat "$STANDIN_LOG")" ''
}

@test "rpm-ostree: update --remove has nothing to take out, exit 0, nothing run" {
	: > "$ROOT/run/ostree-booted"
	add_standin rpm-ostree
	before=$(snapshot)
	run -0 --separate-stderr update --remove
	assert_equal "$output" "vfio-reserve: $ROOT/run/ostree-booted: an rpm-ostree system: 'vfio-reserve update' adds no kernel arguments there; nothing to remove"
	assert_equal "$stderr" ''
	assert_equal "$(snapshot)" "$before"
	assert_equal "$(cat "$STANDIN_LOG")" ''
}

# --- grubby ----------------------------------------------------------------------

fedora_host() {
	add_program grubby
	cp "$FIXTURES/default-grub/fedora-40" "$ROOT/etc/default/grub"
	bls_entry 6.8.5-301.fc40.x86_64 "root=UUID=0e3b5a3c ro rhgb quiet${1:+ $1}"
	bls_entry 6.9.7-200.fc40.x86_64 "root=UUID=0e3b5a3c ro rhgb quiet${1:+ $1}"
}

@test "grubby under --root: nothing is run, not even grubby --info=ALL; the commands are shown, the editor's files written" {
	fedora_host
	run -0 --separate-stderr update
	assert_output - <<-EOF
	vfio-reserve: kernel arguments: ${ARGS[*]}
	vfio-reserve: skipped under --root: grubby --info=ALL
	vfio-reserve: skipped under --root: grubby --update-kernel=ALL --args="${ARGS[*]}" --no-etc-grub-update
	vfio-reserve: updated $ROOT/etc/default/grub
	vfio-reserve: done; reboot for the change to take effect
	EOF
	# The editor's files are below the root: written, as on a GRUB host.
	grep -qx '# BEGIN vfio-reserve' "$ROOT/etc/default/grub"
	cp "$FIXTURES/default-grub/fedora-40" "$ROOT/etc/default/grub"
	assert_equal "$(cat "$STANDIN_LOG")" ''
	# What --remove would take out is the record's.
	mkdir "$ROOT/var/lib/vfio-reserve"
	echo "intel_iommu=on" > "$ROOT/var/lib/vfio-reserve/grubby.added"
	before=$(snapshot)
	run -0 --separate-stderr update --remove
	assert_line 'vfio-reserve: skipped under --root: grubby --update-kernel=ALL --remove-args=intel_iommu=on --no-etc-grub-update'
	assert_equal "$(snapshot)" "$before"
	assert_equal "$(cat "$STANDIN_LOG")" ''
}

# --- kernelstub ------------------------------------------------------------------

# kernelstub's configuration, as it writes it (JSON, indent 2, no final
# newline), with the user's kernel options OPTIONS (JSON strings).
pop_host() {
	add_program kernelstub
	mkdir -p "$ROOT/etc/kernelstub" "$ROOT/boot/efi/loader/entries"
	python3 - "$ROOT/etc/kernelstub/configuration" "$@" <<-'EOF'
	import json, sys
	default = {"kernel_options": ["quiet", "splash"], "esp_path": "/boot/efi",
	           "setup_loader": False, "manage_mode": False,
	           "force_update": False, "live_mode": False, "config_rev": 3}
	user = dict(default, kernel_options=["quiet", "loglevel=0", "systemd.show_status=false", "splash"] + sys.argv[2:])
	with open(sys.argv[1], "w") as f:
	    json.dump({"default": default, "user": user}, f, indent=2)
	EOF
	cat > "$ROOT/boot/efi/loader/entries/Pop_OS-current.conf" <<-EOF
	title Pop!_OS
	linux /EFI/Pop_OS-f18aecac-b409-4946-8b59-4d7210f60060/vmlinuz.efi
	initrd /EFI/Pop_OS-f18aecac-b409-4946-8b59-4d7210f60060/initrd.img
	options root=UUID=f18aecac-b409-4946-8b59-4d7210f60060 ro quiet loglevel=0 systemd.show_status=false splash${2:+ $*}
	EOF
}

@test "kernelstub under --root and --dry-run: its configuration is read, nothing is run or written" {
	pop_host iommu=pt
	before=$(snapshot)
	run -0 --separate-stderr update
	assert_output - <<-EOF
	vfio-reserve: kernel arguments: ${ARGS[*]}
	vfio-reserve: skipped under --root: kernelstub -a "intel_iommu=on $IDS"
	vfio-reserve: done; reboot for the change to take effect
	EOF
	run -0 --separate-stderr host_update --dry-run
	assert_line --index 1 "vfio-reserve: would run: kernelstub -a \"intel_iommu=on $IDS\""
	assert_equal "$(snapshot)" "$before"
	assert_equal "$(cat "$STANDIN_LOG")" ''
}

# --- proxmox-boot-tool -----------------------------------------------------------

# Proxmox VE on ZFS with systemd-boot: two ESPs that proxmox-boot-tool
# keeps, one entry on each; kernel-install is there too (Debian's systemd),
# and must not be the one that runs.
proxmox_host() {
	add_program proxmox-boot-tool
	printf '%s\n' 5A1B-7C2D 5A1B-7C2E > "$ROOT/etc/kernel/proxmox-boot-uuids"
	echo 'root=ZFS=rpool/ROOT/pve-1 boot=zfs' > "$ROOT/etc/kernel/cmdline"
}

@test "proxmox-boot-tool under --root and --dry-run: shown, not run" {
	proxmox_host
	before=$(snapshot)
	run -0 --separate-stderr update --dry-run
	assert_output - <<-EOF
	vfio-reserve: kernel arguments: ${ARGS[*]}
	vfio-reserve: would update $ROOT/etc/kernel/cmdline
	vfio-reserve: skipped under --root: proxmox-boot-tool refresh
	vfio-reserve: dry run: nothing was changed
	EOF
	run -0 --separate-stderr host_update --dry-run
	assert_line 'vfio-reserve: would run: proxmox-boot-tool refresh'
	assert_equal "$(snapshot)" "$before"
	assert_equal "$(cat "$STANDIN_LOG")" ''
}

# --- kernel-install, for real -------------------------------------------------------

# A systemd-boot host as Debian 12 makes one: an ESP at /boot/efi with
# loader/entries.srel "type1" and the entry-token directory, the token in
# /etc/kernel/entry-token, two kernels with their images in /boot and
# modules directories, and their entries made by kernel-install, as the
# kernel packages make them. One kernel has no image: it is told.
systemd_boot_host() {
	command -v kernel-install >/dev/null || fail "needs kernel-install: apt-get install systemd"
	[ -x /usr/lib/kernel/install.d/90-loaderentry.install ] ||
		fail "needs kernel-install's loader-entry plugin: apt-get install systemd"
	cp "$FIXTURES/kernel-cmdline/fedora" "$ROOT/etc/kernel/cmdline"
	echo debian > "$ROOT/etc/kernel/entry-token"
	mkdir -p "$ROOT/boot/efi/loader/entries" "$ROOT/boot/efi/debian"
	echo type1 > "$ROOT/boot/efi/loader/entries.srel"
	for version in 6.1.0-27-amd64 6.1.0-28-amd64; do
		mkdir -p "$ROOT/usr/lib/modules/$version"
		echo "kernel $version" > "$ROOT/boot/vmlinuz-$version"
		echo "initramfs $version" > "$ROOT/boot/initrd.img-$version"
		on_host kernel-install add "$version" "/boot/vmlinuz-$version"
	done
	mkdir -p "$ROOT/usr/lib/modules/6.1.0-9-amd64"
}

@test "kernel-install, for real: the BLS entries get the arguments, a second run changes nothing, --remove: every file as before" {
	systemd_boot_host
	entries=$ROOT/boot/efi/loader/entries
	original=$(snapshot_content)
	run -0 --separate-stderr host_update
	assert_output - <<-EOF
	vfio-reserve: kernel arguments: ${ARGS[*]}
	vfio-reserve: updated /etc/kernel/cmdline
	vfio-reserve: running: kernel-install add 6.1.0-27-amd64 /boot/vmlinuz-6.1.0-27-amd64
	vfio-reserve: running: kernel-install add 6.1.0-28-amd64 /boot/vmlinuz-6.1.0-28-amd64
	vfio-reserve: done; reboot for the change to take effect
	EOF
	assert_equal "$stderr" "$NO_INITRAMFS
vfio-reserve: 6.1.0-9-amd64: found no kernel image (/usr/lib/modules/6.1.0-9-amd64/vmlinuz or /boot/vmlinuz-6.1.0-9-amd64): its boot entry is left as it is"
	# The entries kernel-install wrote, whole. The ESP is a directory of the
	# test's file system, not a file system of its own: kernel-install names
	# the files from / then.
	. /etc/os-release
	for version in 6.1.0-27-amd64 6.1.0-28-amd64; do
		run -0 cat "$entries/debian-$version.conf"
		assert_output - <<-EOF
		title      $PRETTY_NAME
		version    $version
		sort-key   $ID
		options    root=UUID=0e3b5a3c-6c3e-4d0e-9d52-1f3c1b0c7a11 ro rhgb quiet ${ARGS[*]}
		linux      /boot/efi/debian/$version/linux
		initrd     /boot/efi/debian/$version/initrd.img-$version
		EOF
		cmp "$ROOT/boot/vmlinuz-$version" "$ROOT/boot/efi/debian/$version/linux"
	done
	updated=$(snapshot_content)
	run -0 --separate-stderr host_update
	assert_line 'vfio-reserve: /etc/kernel/cmdline: up to date'
	assert_equal "$(snapshot_content)" "$updated"
	run -0 --separate-stderr host_update --remove
	run -0 options_lines "$entries"
	assert_output - <<-EOF
	root=UUID=0e3b5a3c-6c3e-4d0e-9d52-1f3c1b0c7a11 ro rhgb quiet
	root=UUID=0e3b5a3c-6c3e-4d0e-9d52-1f3c1b0c7a11 ro rhgb quiet
	EOF
	assert_equal "$(snapshot_content)" "$original"
}

@test "kernel-install, for real: the user's equal argument in /etc/kernel/cmdline stays in the entries after --remove" {
	systemd_boot_host
	echo 'root=/dev/sda2 ro iommu=pt quiet' > "$ROOT/etc/kernel/cmdline"
	run -0 --separate-stderr host_update --remove
	original=$(snapshot_content)
	run -0 --separate-stderr host_update
	run -0 options_lines "$ROOT/boot/efi/loader/entries"
	assert_output - <<-EOF
	root=/dev/sda2 ro iommu=pt quiet intel_iommu=on $IDS
	root=/dev/sda2 ro iommu=pt quiet intel_iommu=on $IDS
	EOF
	run -0 --separate-stderr host_update --remove
	assert_equal "$(snapshot_content)" "$original"
}

@test "kernel-install under --root and --dry-run: each kernel's command is shown, with the image the kernel packages give" {
	systemd_boot_host
	# A kernel packaged the Fedora and Arch way: its image beside its modules.
	mkdir -p "$ROOT/usr/lib/modules/6.10.3-arch1-1"
	echo kernel > "$ROOT/usr/lib/modules/6.10.3-arch1-1/vmlinuz"
	add_program kernel-install
	before=$(snapshot)
	run -0 --separate-stderr update --dry-run
	assert_output - <<-EOF
	vfio-reserve: kernel arguments: ${ARGS[*]}
	vfio-reserve: would update $ROOT/etc/kernel/cmdline
	vfio-reserve: skipped under --root: kernel-install add 6.1.0-27-amd64 /boot/vmlinuz-6.1.0-27-amd64
	vfio-reserve: skipped under --root: kernel-install add 6.1.0-28-amd64 /boot/vmlinuz-6.1.0-28-amd64
	vfio-reserve: skipped under --root: kernel-install add 6.10.3-arch1-1 /usr/lib/modules/6.10.3-arch1-1/vmlinuz
	vfio-reserve: dry run: nothing was changed
	EOF
	assert_equal "$(snapshot)" "$before"
	# Without --root, Debian's own kernel-install.
	rm "$ROOT/usr/sbin/kernel-install"
	before=$(snapshot)
	run -0 --separate-stderr host_update --dry-run
	assert_line 'vfio-reserve: would run: kernel-install add 6.10.3-arch1-1 /usr/lib/modules/6.10.3-arch1-1/vmlinuz'
	assert_equal "$(snapshot)" "$before"
}

@test "kernel-install with no installed kernel: told, nothing run" {
	echo 'root=/dev/sda2 ro' > "$ROOT/etc/kernel/cmdline"
	add_program kernel-install
	run -0 --separate-stderr update
	assert_equal "${stderr_lines[1]}" "vfio-reserve: found no installed kernel in /lib/modules: no boot entry made again; run 'kernel-install add VERSION IMAGE' for each kernel"
}

@test "the stand-ins are shellcheck clean POSIX sh, and say what they are written from" {
	command -v shellcheck >/dev/null || fail "needs shellcheck: apt-get install shellcheck"
	shellcheck -s sh "$FIXTURES/standins/rpm-ostree"
	for standin in rpm-ostree; do
		head -n 12 "$FIXTURES/standins/$standin" | grep -q "A stand-in for $standin"
	done
}
