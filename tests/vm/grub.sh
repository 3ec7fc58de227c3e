# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve VM tests: the trial boot through real GRUB (issue 20), sourced
# by tests/vm/boot-all after lib.sh. A BIOS disk image, built without
# mounting anything: an MBR (sfdisk) with GRUB's boot.img, GRUB's core.img
# (grub-mkimage -O i386-pc) in the sectors after it, and one ext4 /boot
# partition (mkfs.ext4 -d) with the kernel, the initramfs, GRUB's modules,
# a grubenv (grub-editenv) and a grub.cfg that the real grub-mkconfig made
# with the 09_vfio-reserve and the drop-in `make install` put on this host.
# The root file system stays the virtio disk every VM boots (vm_boot); the
# GRUB disk is on the q35 machine's own AHCI controller, which SeaBIOS boots
# from (--grub-disk) and the guest kernel has no driver for.

VM_GRUB_UUID=0c0ffee0-2026-4d20-a000-00000000b007

# The stand-in for grub-probe that grub-mkconfig runs: the real one cannot
# see a disk image that is not mounted. It says what the real one says on
# the VM: / is the root disk (no UUID: root=/dev/vda), /boot the disk's
# first partition, ext4 (GRUB's ext2 module) in an MBR, on no abstraction.
# With an argument FS, the file system of /boot/grub, which only
# trial-grub's probe asks for, is FS instead.
vm_grub_probe_standin() {
	cat <<EOF
#!/bin/sh
target= arg= device=
for a; do
	case \$a in
	--target=*) target=\${a#--target=} ;;
	-d | --device) device=1 ;;
	-*) ;;
	*) arg=\$a ;;
	esac
done
if [ -n "${1-}" ] && [ "\$target:\$arg" = fs:/boot/grub ]; then
	echo ${1-}
	exit 0
fi
if [ -z "\$device" ]; then
	case \$arg in
	/) arg=/dev/vda ;;
	*) arg=/dev/sda1 ;;
	esac
fi
case \$target:\$arg in
device:*) echo "\$arg" ;;
fs:*) echo ext2 ;;
fs_uuid:/dev/sda1) echo $VM_GRUB_UUID ;;
partmap:/dev/sda1) echo msdos ;;
drive:/dev/sda1) echo '(hd0,msdos1)' ;;
compatibility_hint:/dev/sda1) echo hd0,msdos1 ;;
hints_string:/dev/sda1) echo '--hint-bios=hd0,msdos1' ;;
esac
exit 0
EOF
}

# vm_grub_mkconfig BOOTDIR [FS]: BOOTDIR/grub/grub.cfg by the real grub-mkconfig,
# in a mount namespace where BOOTDIR is /boot, /etc/default holds the VM's
# settings and the installed drop-in (/etc/default/grub.d/
# vfio-reserve-trial.cfg), and /etc/grub.d GRUB's 00_header and 10_linux
# with the installed 09_vfio-reserve; grub-probe is the stand-in above and
# grub-mkrelpath says where a file is on /boot's own file system.
vm_grub_mkconfig() {
	boot=$1 grubdir_fs=${2-}
	w=$VM_OUT/grub-mkconfig
	rm -rf "$w"
	mkdir -p "$w/default/grub.d" "$w/grub.d"
	for f in /etc/default/grub.d/vfio-reserve-trial.cfg /etc/grub.d/09_vfio-reserve; do
		[ -e "$f" ] || vm_die "$f is missing: make install puts it there"
	done
	cp /etc/default/grub.d/vfio-reserve-trial.cfg "$w/default/grub.d/"
	cp -p /etc/grub.d/00_header /etc/grub.d/10_linux /etc/grub.d/09_vfio-reserve "$w/grub.d/"
	# The kernel arguments vm_boot gives (but dyndbg's quoted value, which
	# GRUB's parser would split), the serial console for GRUB too, no menu
	# to wait at, and vfio_test=grub (guest/grub.sh).
	cat >"$w/default/grub" <<-'EOF'
	GRUB_DEFAULT=0
	GRUB_TIMEOUT=0
	GRUB_TIMEOUT_STYLE=hidden
	GRUB_DISTRIBUTOR="vfio-reserve test guest"
	GRUB_TERMINAL=serial
	GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
	GRUB_DISABLE_LINUX_UUID=true
	GRUB_DISABLE_RECOVERY=true
	GRUB_DISABLE_OS_PROBER=true
	GRUB_CMDLINE_LINUX="console=ttyS0 panic=-1 intel_iommu=on iommu=pt log_buf_len=4M"
	GRUB_CMDLINE_LINUX_DEFAULT="vfio_test=grub"
	EOF
	vm_grub_probe_standin "$grubdir_fs" >"$w/grub-probe"
	# shellcheck disable=SC2016 # the stand-in's own code
	printf '#!/bin/sh\nprintf "%%s\\n" "${1#/boot}"\n' >"$w/grub-mkrelpath"
	chmod 0755 "$w/grub-probe" "$w/grub-mkrelpath"
	# shellcheck disable=SC2016 # expanded by the namespace's shell
	unshare --mount --propagation private sh -ec '
		mount --bind "$1/default" /etc/default
		mount --bind "$1/grub.d" /etc/grub.d
		mount --bind "$2" /boot
		mount --bind "$1/grub-probe" /usr/sbin/grub-probe
		mount --bind "$1/grub-mkrelpath" /usr/bin/grub-mkrelpath
		grub-mkconfig -o /boot/grub/grub.cfg' sh "$w" "$boot" >"$w.log" 2>&1 ||
		vm_die "grub-mkconfig failed: see $w.log"
}

# vm_grub_disk DISK INITRD [FS]: the BIOS disk image DISK booting $VM_KERNEL
# with INITRD through GRUB, its grub.cfg made where grub-probe says /boot/grub
# is on FS (vm_grub_probe_standin). Sets VM_GRUBENV_OFFSET, the byte offset
# in DISK of the 1024 bytes of /boot/grub/grubenv. The partition's files
# stay in $VM_OUT/grub-boot.d.
vm_grub_disk() {
	disk=$1 initrd=$2
	boot=$VM_OUT/grub-boot.d
	part=$VM_OUT/grub-boot.ext4
	rm -rf "$boot" "$part" "$disk"
	mkdir -p "$boot/grub/i386-pc"
	cp "$VM_KERNEL" "$boot/vmlinuz-$KVER"
	cp "$initrd" "$boot/initrd.img-$KVER"
	# What grub-install copies: the modules normal.mod loads at boot.
	cp /usr/lib/grub/i386-pc/*.mod /usr/lib/grub/i386-pc/*.lst "$boot/grub/i386-pc/"
	grub-editenv "$boot/grub/grubenv" create
	vm_grub_mkconfig "$boot" "${3-}"
	# 4 KiB blocks: grubenv is one extent GRUB reads and writes in place.
	mke2fs -q -t ext4 -b 4096 -U "$VM_GRUB_UUID" -L boot -d "$boot" "$part" 96M ||
		vm_die "mke2fs of the /boot partition failed"
	block=$(debugfs -R 'bmap /grub/grubenv 0' "$part" 2>/dev/null)
	case $block in
	'' | *[!0-9]*) vm_die "debugfs found no block of /grub/grubenv: '$block'" ;;
	esac
	# The partition starts at 1 MiB, after the MBR and core.img.
	VM_GRUBENV_OFFSET=$((1048576 + block * 4096))
	core=$VM_OUT/grub-core.img
	grub-mkimage -O i386-pc -o "$core" -p '(hd0,msdos1)/grub' biosdisk part_msdos ext2 ||
		vm_die "grub-mkimage failed"
	sectors=$((($(stat -c %s "$core") + 511) / 512))
	[ "$sectors" -lt 2047 ] || vm_die "core.img has $sectors sectors: more than the gap before the partition"
	vm_grub_check_core "$core" "$sectors"
	truncate -s $((1048576 + 96 * 1048576)) "$disk"
	printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$disk" >/dev/null ||
		vm_die "sfdisk failed"
	dd if="$part" of="$disk" bs=1M seek=1 conv=notrunc status=none
	# boot.img's code only: the partition table after it stays.
	dd if=/usr/lib/grub/i386-pc/boot.img of="$disk" bs=440 count=1 conv=notrunc status=none
	dd if="$core" of="$disk" bs=512 seek=1 conv=notrunc status=none
	rm -f "$part"
}

# The two pointers a BIOS boot follows, which grub-bios-setup would write and
# this disk takes as grub-mkimage and boot.img have them: boot.img reads the
# sector at its offset 0x5c (1: core.img's first, diskboot.img), and
# diskboot.img's block list (its last 12 bytes: start, 8 bytes; length, 2
# bytes) loads the rest of core.img from sector 2 on.
vm_grub_check_core() {
	core=$1 sectors=$2
	kernel_sector=$(od -A n -t u8 -j $((0x5c)) -N 8 /usr/lib/grub/i386-pc/boot.img | tr -d ' ')
	list_start=$(od -A n -t u8 -j 500 -N 8 "$core" | tr -d ' ')
	list_len=$(od -A n -t u2 -j 508 -N 2 "$core" | tr -d ' ')
	[ "$kernel_sector" = 1 ] || vm_die "boot.img loads sector $kernel_sector, not 1"
	if [ "$list_start" != 2 ] || [ "$list_len" != $((sectors - 1)) ]; then
		vm_die "core.img's block list is sectors $list_start+$list_len, not 2+$((sectors - 1))"
	fi
}

# vm_grubenv DISK list | set NAME=VALUE | unset NAME: the real grub-editenv
# on the disk's grubenv, copied out of the image and, when changed, back.
vm_grubenv() {
	disk=$1
	shift
	env=$VM_OUT/grubenv.tmp
	dd if="$disk" of="$env" bs=1 skip="$VM_GRUBENV_OFFSET" count=1024 status=none
	grub-editenv "$env" "$@" || vm_die "grub-editenv $* failed"
	[ "$1" = list ] || dd if="$env" of="$disk" bs=1 seek="$VM_GRUBENV_OFFSET" count=1024 conv=notrunc status=none
	rm -f "$env"
}

# vm_grub_trial NAME INITRD: the trial boots, each NAME-STEP.log (serial
# console, GRUB's included), NAME-STEP.rc, and the grubenv after it in
# NAME-STEP.grubenv (NAME-STEP.before: before it); grub.cfg in NAME.grub.cfg
# (NAME-e.grub.cfg: e's):
#   a   vfio_reserve_trial=armed, as `update` leaves it: the trial boot;
#   b   the next boot, unconfirmed: GRUB reverts;
#   b2  one more: it stays reverted;
#   c   the trial confirmed: a's grubenv (trying) with the variable unset,
#       as `vfio-reserve confirm` leaves it during the trial boot;
#   d   a grubenv never armed, as `update --no-trial` leaves it;
#   e   the disk made again where grub-probe says /boot/grub is on btrfs
#       (the stand-in: the real one says so of a btrfs /boot, see
#       tests/grub/trial-grub.bats), armed: no trial block, a boot as
#       without the trial.
# NAME.rc is 0 when every boot's qemu exited 0.
vm_grub_trial() {
	# vm_boot and boot-all have their own name and status.
	trial=$1
	trial_disk=$VM_OUT/$trial.disk
	vm_grub_disk "$trial_disk" "$2"
	cp "$VM_OUT/grub-boot.d/grub/grub.cfg" "$VM_OUT/$trial.grub.cfg"
	trial_status=0
	for step in a b b2 c d e; do
		case $step in
		a) vm_grubenv "$trial_disk" set vfio_reserve_trial=armed ;;
		c)
			dd if="$VM_OUT/$trial-a.grubenv.bytes" of="$trial_disk" bs=1 seek="$VM_GRUBENV_OFFSET" \
				count=1024 conv=notrunc status=none
			vm_grubenv "$trial_disk" unset vfio_reserve_trial
			;;
		d)
			grub-editenv "$VM_OUT/grubenv.fresh" create
			dd if="$VM_OUT/grubenv.fresh" of="$trial_disk" bs=1 seek="$VM_GRUBENV_OFFSET" \
				count=1024 conv=notrunc status=none
			rm -f "$VM_OUT/grubenv.fresh"
			;;
		e)
			vm_grub_disk "$trial_disk" "$2" btrfs
			cp "$VM_OUT/grub-boot.d/grub/grub.cfg" "$VM_OUT/$trial-e.grub.cfg"
			vm_grubenv "$trial_disk" set vfio_reserve_trial=armed
			;;
		esac
		vm_grubenv "$trial_disk" list >"$VM_OUT/$trial-$step.before"
		rc=0
		vm_boot "$trial-$step" - intel --no-iommu-args --grub-disk "$trial_disk" || rc=$?
		echo "$rc" >"$VM_OUT/$trial-$step.rc"
		[ "$rc" = 0 ] || trial_status=1
		vm_grubenv "$trial_disk" list >"$VM_OUT/$trial-$step.grubenv"
		dd if="$trial_disk" of="$VM_OUT/$trial-$step.grubenv.bytes" bs=1 skip="$VM_GRUBENV_OFFSET" \
			count=1024 status=none
	done
	echo "$trial_status" >"$VM_OUT/$trial.rc"
}
