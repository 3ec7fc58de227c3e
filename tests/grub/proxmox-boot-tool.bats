#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# bootloader-tools/bootloader through update/update with the REAL proxmox-boot-tool, its
# functions and its kernel hooks zz-proxmox-boot and proxmox-auto-removal
# (proxmox-kernel-helper, from ../shared/upstream) on a Proxmox VE host made
# in a mount namespace (on_host): ZFS root booted by systemd-boot under UEFI from two ESPs that
# proxmox-boot-tool keeps, each an ext4 image (the container's kernel mounts
# no vfat) found as /dev/disk/by-uuid/UUID, which mount(8) sets up on a loop
# device. One stand-in: systemd-detect-virt, which decides whether the hook
# acts (it does nothing in a container, which this test machine may be).

load test_helper

KERNEL=6.8.12-4-pve
FIRST='root=ZFS=rpool/ROOT/pve-1 boot=zfs'

setup() {
	export FAKE_LOG=$BATS_TEST_TMPDIR/binder.log
	export FAKE_CMDLINE="${ARGS[*]}"
	export VFIO_RESERVE=$FIXTURES/bin/fake-vfio-reserve
	export UEFI=1
	local helper=$UPSTREAM/proxmox-kernel-helper/src
	require_upstream proxmox-kernel-helper/src/bin/proxmox-boot-tool
	command -v mkfs.ext4 >/dev/null || fail "needs mkfs.ext4: apt-get install e2fsprogs"
	make_host_root
	cp -a /etc/apt "$ROOT/etc/"
	mkdir -p "$ROOT/etc/kernel/postinst.d" "$ROOT/usr/share/proxmox-kernel-helper/scripts" \
		"$ROOT/var/tmp" "$ROOT/dev/disk/by-uuid"
	cp "$helper/bin/proxmox-boot-tool" "$ROOT/usr/sbin/"
	cp "$helper/proxmox-boot/functions" "$ROOT/usr/share/proxmox-kernel-helper/scripts/"
	cp "$helper/proxmox-boot/zz-proxmox-boot" "$helper/proxmox-boot/proxmox-auto-removal" "$ROOT/etc/kernel/postinst.d/"
	echo "$KERNEL" > "$ROOT/etc/kernel/proxmox-boot-manual-kernels"
	echo kernel > "$ROOT/boot/vmlinuz-$KERNEL"
	echo initrd > "$ROOT/boot/initrd.img-$KERNEL"
	not_a_container
	: > "$ROOT/etc/kernel/proxmox-boot-uuids"
	ESPS=()
	for esp in 1 2; do
		local image=$BATS_TEST_TMPDIR/esp$esp.img uuid
		truncate -s 8M "$image"
		mkfs.ext4 -q "$image"
		uuid=$(blkid -s UUID -o value "$image")
		ln -s "$image" "$ROOT/dev/disk/by-uuid/$uuid"
		echo "$uuid" >> "$ROOT/etc/kernel/proxmox-boot-uuids"
		# As `proxmox-boot-tool init` leaves it.
		unshare -m sh -ec 'mount "$1" /mnt; mkdir -p /mnt/loader/entries /mnt/EFI/proxmox
			echo "timeout 3" > /mnt/loader/loader.conf' sh "$image"
		ESPS+=("$uuid")
	done
	printf '%s\n' "$FIRST" 'quiet' > "$ROOT/etc/kernel/cmdline"
	on_host proxmox-boot-tool refresh >/dev/null 2>&1
	NOT_APPLIED="the boot entries on this ESP do not have the first line of /etc/kernel/cmdline"
}

# systemd-detect-virt --container, as on a host (false) or in a container.
not_a_container() { printf '#!/bin/sh\nexit 1\n' > "$ROOT/usr/sbin/systemd-detect-virt"; chmod 0755 "$ROOT/usr/sbin/systemd-detect-virt"; }
in_a_container() { printf '#!/bin/sh\nexit 0\n' > "$ROOT/usr/sbin/systemd-detect-virt"; }

# stderr_has LINE: the last run's stderr has LINE, among the tool's own.
stderr_has() {
	printf '%s\n' "$stderr" | grep -Fxq -- "$1" || fail "stderr lacks: $1
stderr: $stderr"
}

# The options lines of the entries on every ESP, each after its ESP's UUID.
esp_options() {
	on_host sh -c 'for uuid; do
		mount -o ro "/dev/disk/by-uuid/$uuid" /mnt
		sed -n "s/^options[[:space:]]*/$uuid /p" /mnt/loader/entries/*.conf
		umount /mnt
	done' sh "${ESPS[@]}"
}

# Every file of the root and of the ESPs, with its content.
state() {
	snapshot_content
	on_host sh -c 'for uuid; do
		mount -o ro "/dev/disk/by-uuid/$uuid" /mnt
		(cd /mnt && find . -path ./lost+found -prune -o -type f -exec cksum {} + | sort)
		umount /mnt
	done' sh "${ESPS[@]}"
}

@test "proxmox-boot-tool (real): the arguments go on the first line of /etc/kernel/cmdline and reach every ESP; a second update changes nothing; --remove gives everything back" {
	original=$(state)
	run -0 --separate-stderr host_update
	assert_line 'vfio-reserve: running: proxmox-boot-tool refresh'
	run -0 cat "$ROOT/etc/kernel/cmdline"
	assert_output - <<-EOF
	$FIRST ${ARGS[*]}
	quiet
	EOF
	run -0 esp_options
	assert_output - <<-EOF
	${ESPS[0]} $FIRST ${ARGS[*]}
	${ESPS[1]} $FIRST ${ARGS[*]}
	EOF
	updated=$(state)
	run -0 --separate-stderr host_update
	assert_line 'vfio-reserve: /etc/kernel/cmdline: up to date'
	assert_equal "$(state)" "$updated"
	run -0 --separate-stderr host_update --remove
	assert_equal "$(state)" "$original"
}

@test "proxmox-boot-tool (real) in a container does nothing and exits 0: update says so, exit 1; the next update on the host repairs it" {
	in_a_container
	run -1 --separate-stderr host_update
	assert_line 'vfio-reserve: running: proxmox-boot-tool refresh'
	stderr_has "vfio-reserve: /dev/disk/by-uuid/${ESPS[0]}: $NOT_APPLIED ('$FIRST ${ARGS[*]}'): proxmox-boot-tool refresh did not apply it (in a container its kernel hook does nothing)"
	stderr_has "vfio-reserve: the kernel arguments did not reach every boot entry; run 'vfio-reserve update' again where proxmox-boot-tool can act"
	assert_equal "${stderr_lines[-1]}" "vfio-reserve: the boot entries were not made again: the kernel arguments are written but not yet in the boot entries; fix that and run 'vfio-reserve update' again"
	run -0 esp_options
	assert_line --index 0 "${ESPS[0]} $FIRST"
	not_a_container
	run -0 --separate-stderr host_update
	run -0 esp_options
	assert_output - <<-EOF
	${ESPS[0]} $FIRST ${ARGS[*]}
	${ESPS[1]} $FIRST ${ARGS[*]}
	EOF
}

@test "proxmox-boot-tool (real) skips an ESP it cannot mount and exits 0: update names it, exit 1" {
	head -c 1M /dev/zero > "$BATS_TEST_TMPDIR/esp2.img"
	run -1 --separate-stderr host_update
	stderr_has "vfio-reserve: /dev/disk/by-uuid/${ESPS[1]}: this ESP, which proxmox-boot-tool keeps, cannot be mounted: its boot entries were not made again"
	run -0 on_host sh -c 'mount -o ro "/dev/disk/by-uuid/$1" /mnt && sed -n "s/^options[[:space:]]*//p" /mnt/loader/entries/*.conf' sh "${ESPS[0]}"
	assert_output "$FIRST ${ARGS[*]}"
}
