#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# bootloader-tools/bootloader through update/update with the REAL kernelstub (Pop!_OS's,
# from ../shared/upstream, run by Debian's python3 with python3-debian) on a
# Pop!_OS host made in a mount namespace (on_host): its configuration in
# /etc/kernelstub (or only /etc/default/kernelstub), a kernel and initrd in
# /boot, and the ESP, an ext4 image on a loop device (the container's kernel
# mounts no vfat; kernelstub wants only a block device), at /boot/efi.
# The invariant: the entry carries the arguments once, the user's options
# keep their values, order and duplicates, a second update changes nothing,
# --remove gives every file back, and a kernelstub that did nothing is told.

load test_helper

setup() {
	export FAKE_LOG=$BATS_TEST_TMPDIR/binder.log
	export FAKE_CMDLINE="${ARGS[*]}"
	export VFIO_RESERVE=$FIXTURES/bin/fake-vfio-reserve
	IDS=vfio-pci.ids=10de:2204,10de:1aef
	require_upstream kernelstub/bin/kernelstub
	/usr/bin/python3 -c 'import debian.changelog' 2>/dev/null ||
		fail "needs python3-debian for kernelstub: apt-get install python3-debian"
	command -v mkfs.ext4 >/dev/null || fail "needs mkfs.ext4: apt-get install e2fsprogs"
	make_host_root
	printf '#!/bin/sh\nPYTHONPATH=%s exec /usr/bin/python3 %s/bin/kernelstub "$@"\n' \
		"$UPSTREAM/kernelstub" "$UPSTREAM/kernelstub" > "$ROOT/usr/sbin/kernelstub"
	chmod 0755 "$ROOT/usr/sbin/kernelstub"
	rm -f "$ROOT/etc/os-release"
	printf '%s\n' 'NAME="Pop!_OS"' 'VERSION="22.04 LTS"' ID=pop 'VERSION_ID="22.04"' \
		'PRETTY_NAME="Pop!_OS 22.04 LTS"' > "$ROOT/etc/os-release"
	mkdir -p "$ROOT/boot/efi"
	echo kernel > "$ROOT/boot/vmlinuz-6.9.3-76060903-generic"
	echo initrd > "$ROOT/boot/initrd.img-6.9.3-76060903-generic"
	ln -s vmlinuz-6.9.3-76060903-generic "$ROOT/boot/vmlinuz"
	ln -s initrd.img-6.9.3-76060903-generic "$ROOT/boot/initrd.img"
	export ESP_IMAGE=$BATS_TEST_TMPDIR/esp.img
	truncate -s 8M "$ESP_IMAGE"
	mkfs.ext4 -q "$ESP_IMAGE"
}

# kernelstub's configuration as it writes it, the user's options OPTIONS.
configure() {
	mkdir -p "$ROOT/etc/kernelstub"
	/usr/bin/python3 - "$ROOT/etc/kernelstub/configuration" "$@" <<-'PYTHON'
	import json, sys
	default = {"kernel_options": ["quiet", "splash"], "esp_path": "/boot/efi",
	           "setup_loader": False, "manage_mode": False,
	           "force_update": False, "live_mode": False, "config_rev": 3}
	user = dict(default, kernel_options=sys.argv[2:], setup_loader=True, manage_mode=True)
	with open(sys.argv[1], "w") as f:
	    json.dump({"default": default, "user": user}, f, indent=2)
	PYTHON
}

# The ESP's loader entry, as kernelstub wrote it.
esp_entry() {
	on_host cat /boot/efi/loader/entries/Pop_OS-current.conf
}

# Every file of the root and of the ESP, with its content.
state() {
	snapshot_content
	on_host sh -c 'cd /boot/efi && find . -path ./lost+found -prune -o -type f -exec cksum {} + | sort'
}

USER_OPTIONS=(quiet console=tty0 loglevel=0 console=ttyS0,115200 splash console=tty0)

@test "kernelstub (real): the entry gets the arguments once; a second update changes nothing; --remove gives back the user's options in order, duplicates kept" {
	configure "${USER_OPTIONS[@]}"
	on_host kernelstub 2>/dev/null
	original=$(state)
	run -0 --separate-stderr host_update
	assert_line --index 1 "vfio-reserve: running: kernelstub -a \"${ARGS[*]}\""
	run -0 esp_entry
	assert_line "options root=UUID= ro ${USER_OPTIONS[*]} ${ARGS[*]}"
	assert_equal "$(cat "$ROOT/var/lib/vfio-reserve/kernelstub.added")" "${ARGS[*]}"
	updated=$(state)
	run -0 --separate-stderr host_update
	assert_line 'vfio-reserve: kernelstub: up to date'
	assert_equal "$(state)" "$updated"
	run -0 --separate-stderr host_update --remove
	shown=$(printf '%s\n' "${lines[@]}" | grep '^vfio-reserve: running: kernelstub')
	run -0 esp_entry
	assert_line "options root=UUID= ro ${USER_OPTIONS[*]}"
	assert_equal "$(state)" "$original"
	# Not -d, whose set drops the second console=tty0 and reorders.
	assert_equal "$shown" "vfio-reserve: running: kernelstub -o \"${USER_OPTIONS[*]}\""
}

@test "kernelstub (real): without its configuration it reads /etc/default/kernelstub, and so does update: the user's intel_iommu=off wins, their iommu=pt stays" {
	configure quiet splash intel_iommu=off iommu=pt
	mv "$ROOT/etc/kernelstub/configuration" "$ROOT/etc/default/kernelstub"
	rmdir "$ROOT/etc/kernelstub"
	run -0 --separate-stderr host_update
	shown=${lines[1]}
	run -0 esp_entry
	assert_line "options root=UUID= ro quiet splash intel_iommu=off iommu=pt $IDS"
	assert_equal "$shown" "vfio-reserve: running: kernelstub -a $IDS"
	run -0 --separate-stderr host_update --remove
	run -0 esp_entry
	assert_line "options root=UUID= ro quiet splash intel_iommu=off iommu=pt"
}

@test "kernelstub (real) without a kernel image exits 0 having done nothing: update says so, exit 1, no record; the next update repairs it" {
	configure quiet splash
	on_host kernelstub 2>/dev/null
	mv "$ROOT/boot/vmlinuz-6.9.3-76060903-generic" "$ROOT/boot/vmlinuz.away"
	original=$(state)
	run -1 --separate-stderr host_update
	assert_equal "${stderr_lines[-1]}" "vfio-reserve: kernelstub exited 0 but a boot entry lacks '${ARGS[*]}': it did not apply them; run 'vfio-reserve update' again"
	assert_file_not_exist "$ROOT/var/lib/vfio-reserve/kernelstub.added"
	assert_equal "$(state)" "$original"
	mv "$ROOT/boot/vmlinuz.away" "$ROOT/boot/vmlinuz-6.9.3-76060903-generic"
	run -0 --separate-stderr host_update
	run -0 esp_entry
	assert_line "options root=UUID= ro quiet splash ${ARGS[*]}"
	assert_equal "$(cat "$ROOT/var/lib/vfio-reserve/kernelstub.added")" "${ARGS[*]}"
}

@test "kernelstub (real): a kernel installed later (its zz-kernelstub hook runs kernelstub) gets exactly what the entry has; the rule commented out gives its configuration back" {
	configure "${USER_OPTIONS[@]}"
	on_host kernelstub 2>/dev/null
	cp "$ROOT/etc/kernelstub/configuration" "$BATS_TEST_TMPDIR/configuration"
	run -0 --separate-stderr host_update
	run -0 esp_entry
	entry_options=$(printf '%s\n' "$output" | grep '^options ')
	assert_equal "$entry_options" "options root=UUID= ro ${USER_OPTIONS[*]} ${ARGS[*]}"
	echo newer > "$ROOT/boot/vmlinuz-6.10.0-76061003-generic"
	echo newer > "$ROOT/boot/initrd.img-6.10.0-76061003-generic"
	ln -sf vmlinuz-6.10.0-76061003-generic "$ROOT/boot/vmlinuz"
	ln -sf initrd.img-6.10.0-76061003-generic "$ROOT/boot/initrd.img"
	on_host kernelstub 2>/dev/null
	run -0 on_host cat /boot/efi/EFI/Pop_OS-/vmlinuz.efi
	assert_output newer
	run -0 esp_entry
	assert_line "$entry_options"
	# No active rule: the configuration as before, the entry without ours.
	FAKE_CMDLINE='' run -0 --separate-stderr host_update
	cmp "$BATS_TEST_TMPDIR/configuration" "$ROOT/etc/kernelstub/configuration"
	run -0 esp_entry
	assert_line "options root=UUID= ro ${USER_OPTIONS[*]}"
	assert_file_not_exist "$ROOT/var/lib/vfio-reserve"
}
