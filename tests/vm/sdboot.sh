# shellcheck shell=sh disable=SC2034 # sourced by boot-all
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve VM tests: the trial boot on systemd-boot, sourced by
# tests/vm/boot-all after lib.sh. OVMF boots a GPT disk image whose one
# partition is an ESP made without mounting anything (mkfs.vfat, mtools):
# Debian's systemd-boot (systemd-boot-efi) as EFI/BOOT/BOOTX64.EFI and
# EFI/systemd/systemd-bootx64.efi, loader/loader.conf (timeout 0),
# loader/entries.srel, the kernel and the itools-trial image (card 1's
# rule: the new reservation; card 2's the confirmed one, which
# vfio_reserve=previous boots) in debian/KVER/, and the entry kernel-install
# 252 writes for them, debian-KVER.conf, with vm_kernel_args and
# vfio_test=sdtrial (guest/sdtrial.sh). The trial is armed and ended by the
# installed trial-systemd-boot (`make install`), run with --root on a tree
# that holds the ESP's files; between boots the entries go from the image
# into the tree and back with mtools. The boots, in order:
#   sd-armed     after `arm`: systemd-boot boots the trial entry, counting
#                the try in its name;
#   sd-reverted  nothing confirmed: the next boot takes the fallback
#                (vfio_reserve=previous: card 2, the confirmed reservation);
#   sd-cleared   after `clear` (what confirm and accept run): the entry
#                without its counter;
#   sd-notrial   after `arm` and `clear` with no boot between (`update
#                --no-trial`): the entry without its counter.
# For each, besides NAME.log and NAME.rc: NAME.entries, the entry files on
# the image after the boot (mdir), and NAME.state, what `state` says of
# them on the host (which has none of the guest's EFI variables). The
# steps on the host leave sd-arm, sd-clear, sd-rearm and sd-noboot-clear
# .log and .rc.

SD_BACKEND=/usr/lib/vfio-reserve/trial-systemd-boot
SD_EFI=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
SD_DIR=$VM_OUT/sdboot
SD_TREE=$SD_DIR/root
SD_ESP=$SD_TREE/boot/efi
SD_IMAGE=$SD_DIR/disk.img
# The partition starts at 1 MiB: mtools reaches it as IMAGE@@OFFSET.
SD_PART=$SD_IMAGE@@1048576
# The ESP's UEFI partition type.
SD_ESP_TYPE=C12A7328-F81F-11D2-BA4B-00A0C93EC93B

sd_mtools() {
	MTOOLS_SKIP_CHECK=1 "$@"
}

# sd_tree INITRD: the host root for --root, with the ESP's files.
sd_tree() {
	rm -rf "$SD_DIR"
	mkdir -p "$SD_TREE/etc/kernel" "$SD_TREE/usr/bin" "$SD_ESP/loader/entries" \
		"$SD_ESP/EFI/BOOT" "$SD_ESP/EFI/systemd" "$SD_ESP/debian/$KVER"
	echo debian >"$SD_TREE/etc/kernel/entry-token"
	# What the backend looks for: a kernel-install host.
	cp /usr/bin/kernel-install "$SD_TREE/usr/bin/"
	cp "$SD_EFI" "$SD_ESP/EFI/BOOT/BOOTX64.EFI"
	cp "$SD_EFI" "$SD_ESP/EFI/systemd/"
	printf 'timeout 0\n' >"$SD_ESP/loader/loader.conf"
	echo type1 >"$SD_ESP/loader/entries.srel"
	cp "$VM_KERNEL" "$SD_ESP/debian/$KVER/linux"
	cp "$1" "$SD_ESP/debian/$KVER/initrd.img-$KVER"
	printf 'title      %s\nversion    %s\nsort-key   %s\noptions    %s\nlinux      %s\ninitrd     %s\n' \
		'vfio-reserve test guest' "$KVER" debian \
		"$(vm_kernel_args 'intel_iommu=on iommu=pt') vfio_test=sdtrial" \
		"/debian/$KVER/linux" "/debian/$KVER/initrd.img-$KVER" \
		>"$SD_ESP/loader/entries/debian-$KVER.conf"
}

# The disk image: GPT, one ESP from 1 MiB holding the tree's ESP files.
sd_image() {
	part=$SD_DIR/part.img
	mib=$(($(du -sm "$SD_ESP" | cut -f1) + 16))
	rm -f "$part" "$SD_IMAGE"
	truncate -s "${mib}M" "$part"
	mkfs.vfat -n ESP "$part" >/dev/null
	sd_mtools mcopy -s -i "$part" "$SD_ESP"/* ::/
	truncate -s "$((mib + 2))M" "$SD_IMAGE"
	printf 'label: gpt\nstart=2048, size=%sMiB, type=%s\n' "$mib" "$SD_ESP_TYPE" | sfdisk -q "$SD_IMAGE"
	dd if="$part" of="$SD_IMAGE" bs=1M seek=1 conv=notrunc status=none
	rm -f "$part"
}

# The entries from the image into the tree, and back.
sd_pull() {
	rm -f "$SD_ESP"/loader/entries/*.conf
	sd_mtools mcopy -n -i "$SD_PART" '::/loader/entries/*.conf' "$SD_ESP/loader/entries/"
}

sd_push() {
	sd_mtools mdel -i "$SD_PART" '::/loader/entries/*.conf'
	sd_mtools mcopy -i "$SD_PART" "$SD_ESP"/loader/entries/*.conf ::/loader/entries/
}

# sd_step NAME ACTION: the backend's ACTION on the tree; NAME.log, NAME.rc.
sd_step() {
	rc=0
	"$SD_BACKEND" --root "$SD_TREE" "$2" >"$VM_OUT/$1.log" 2>&1 || rc=$?
	echo "$rc" >"$VM_OUT/$1.rc"
}

# sd_boot NAME: OVMF boots the image; then NAME.entries and NAME.state.
sd_boot() {
	start=$(date +%s)
	rc=0
	vm_boot "$1" '' intel --esp "$SD_IMAGE" || rc=$?
	echo "$rc" >"$VM_OUT/$1.rc"
	note_time "boot:$1" "$(elapsed "$start")"
	sd_mtools mdir -b -i "$SD_PART" ::/loader/entries | sed 's|.*/||' | sort >"$VM_OUT/$1.entries"
	sd_pull
	"$SD_BACKEND" --root "$SD_TREE" state >"$VM_OUT/$1.state" 2>&1 || :
}

sdboot_sequence() {
	if ! wait_image itools-trial; then
		for name in sd-armed sd-reverted sd-cleared sd-notrial; do
			echo "IMAGE-BUILD-FAILED itools-trial" >"$VM_OUT/$name.log"
			echo 1 >"$VM_OUT/$name.rc"
		done
		return 0
	fi
	sd_tree "$VM_OUT/itools-trial.img"
	sd_step sd-arm arm
	sd_image
	sd_boot sd-armed
	sd_boot sd-reverted
	sd_step sd-clear clear
	sd_push
	sd_boot sd-cleared
	sd_step sd-rearm arm
	sd_step sd-noboot-clear clear
	sd_push
	sd_boot sd-notrial
}
