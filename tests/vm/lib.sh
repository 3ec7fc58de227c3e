# shellcheck shell=sh disable=SC2034 # VM_TOP, VM_CONF, KVER... are for the callers
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve VM tests: shared functions (POSIX sh), sourced by
# tests/vm/boot-all.  They fetch Debian's current amd64 kernel, build a small
# root file system, build initramfs images with the real mkinitramfs and
# dracut, and boot them in qemu (TCG).
#
# Host side effects (the test machine is meant to be disposable, as CI is):
#   /lib/modules/$KVER, /boot/config-$KVER and /boot/System.map-$KVER of the
#   downloaded kernel are installed (mkinitramfs builds only for an
#   installed kernel) and left there as a cache; boot-all runs
#   `make install`; /etc/vfio-reserve.conf is written for each image and
#   restored (or removed) at the end.

VM_DIR=$(cd "$(dirname "${VM_LIB:-$0}")" && pwd)
VM_TOP=$(cd "$VM_DIR/../.." && pwd)
VM_CACHE=${VM_CACHE:-$VM_DIR/cache}
VM_OUT=${VM_OUT:-$VM_DIR/out}
VM_TIMEOUT=${VM_TIMEOUT:-300}
VM_CONF=/etc/vfio-reserve.conf

vm_log() {
	printf 'vm: %s\n' "$*" >&2
}

vm_die() {
	printf 'vm: error: %s\n' "$*" >&2
	exit 1
}

# ---- kernel ---------------------------------------------------------------

# The package linux-image-amd64 depends on, e.g. linux-image-6.1.0-56-amd64.
vm_kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: *\(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
}

# Sets KVER, downloads (once) and unpacks (once) the kernel package into
# $VM_CACHE/$KVER/root, with modules.dep.
vm_fetch_kernel() {
	mkdir -p "$VM_CACHE"
	pkg=$(vm_kernel_package)
	if [ -z "$pkg" ]; then
		vm_log "apt lists know no linux-image-amd64: running apt-get update"
		apt-get update -qq >&2 || true
		pkg=$(vm_kernel_package)
	fi
	if [ -n "$pkg" ]; then
		ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null |
			sed -n 's/^Version: //p' | head -n 1)
		deb="$VM_CACHE/${pkg}_${ver}_amd64.deb"
		if [ ! -s "$deb" ]; then
			vm_log "downloading $pkg $ver"
			(cd "$VM_CACHE" && apt-get download -q "$pkg=$ver" 2>&1) >&2 ||
				vm_die "apt-get download $pkg failed"
		fi
	else
		# Offline: fall back on the newest kernel already cached.
		deb=
		for f in "$VM_CACHE"/linux-image-*_amd64.deb; do
			[ -e "$f" ] && deb=$f
		done
		[ -n "$deb" ] || vm_die "no linux-image-amd64 in apt and no cached kernel"
		pkg=$(basename "$deb")
		pkg=${pkg%%_*}
		vm_log "apt unavailable: using cached $pkg"
	fi
	KVER=${pkg#linux-image-}
	export KVER
	VM_KROOT="$VM_CACHE/$KVER/root"
	VM_KERNEL="$VM_KROOT/boot/vmlinuz-$KVER"
	if [ "$(cat "$VM_CACHE/$KVER/unpacked" 2>/dev/null)" != "$(basename "$deb")" ]; then
		rm -rf "${VM_CACHE:?}/${KVER:?}"
		mkdir -p "$VM_KROOT"
		dpkg -x "$deb" "$VM_KROOT"
		depmod -b "$VM_KROOT" "$KVER"
		basename "$deb" >"$VM_CACHE/$KVER/unpacked"
	fi
	[ -r "$VM_KERNEL" ] || vm_die "no $VM_KERNEL in $deb"
}

# mkinitramfs builds only for a kernel under /lib/modules, with its config
# in /boot.  Installs them from the unpacked package unless already there.
vm_install_kernel() {
	if [ ! -e "/lib/modules/$KVER/modules.dep" ]; then
		vm_log "installing /lib/modules/$KVER and /boot/config-$KVER on this host"
		mkdir -p /lib/modules
		cp -a "$VM_KROOT/lib/modules/$KVER" /lib/modules/
	fi
	for f in config System.map; do
		if [ ! -e "/boot/$f-$KVER" ]; then
			mkdir -p /boot
			cp "$VM_KROOT/boot/$f-$KVER" "/boot/$f-$KVER"
		fi
	done
}

# ---- root filesystem ------------------------------------------------------

# Copies a dynamically linked program and the libraries it needs.
vm_copy_program() {
	prog=$1 dest=$2
	mkdir -p "$dest$(dirname "$prog")"
	cp -L "$prog" "$dest$prog"
	ldd "$prog" 2>/dev/null | sed -n 's/.*[[:space:]]\(\/[^[:space:]]*\) (0x.*/\1/p' |
		while read -r lib; do
			mkdir -p "$dest$(dirname "$lib")"
			cp -L "$lib" "$dest$lib"
		done
}

# vm_build_rootfs [--tests]: $VM_OUT/rootfs.ext2: busybox, kmod's modprobe,
# the guest init and the native and vfio drivers (with their dependencies)
# for the kernel; with --tests, what the test scenarios need too
# (vm_test_extras). Every VM boots it with snapshot=on.
vm_build_rootfs() {
	img="$VM_OUT/rootfs.ext2"
	dir="$VM_OUT/rootfs.d"
	rm -rf "$dir"
	mkdir -p "$dir/bin" "$dir/sbin" "$dir/proc" "$dir/sys" "$dir/dev" \
		"$dir/lib/modules/$KVER" "$dir/tmp" "$dir/root" "$dir/run"
	vm_copy_program "$(command -v busybox)" "$dir"
	bb="$(command -v busybox)"
	[ "$bb" = /bin/busybox ] || ln -s "$bb" "$dir/bin/busybox"
	for applet in sh cat basename readlink sleep dmesg poweroff sync \
		mount printf uname ls echo grep; do
		ln -s busybox "$dir/bin/$applet"
	done
	# kmod's modprobe, not busybox's: the modprobe path needs softdep,
	# install commands and --ignore-install (vfio-reserve(8)).  Called by
	# its path: busybox's sh runs its own applet for a bare "modprobe".
	kmod=$(command -v kmod)
	vm_copy_program "$kmod" "$dir"
	ln -s "$kmod" "$dir/sbin/modprobe"
	install -m 0755 "$VM_DIR/guest/init" "$dir/sbin/init"
	mkdir -p "$dir/etc"
	# systemd's switch-root wants an OS tree.
	printf '%s\n' 'NAME="vfio-reserve test guest"' ID=vfio-reserve-test \
		>"$dir/etc/os-release"
	# efivarfs and vfat: the systemd-boot scenario reads what the boot
	# loader left in the EFI variables and on the ESP (guest/sdtrial.sh).
	modprobe -d "$VM_KROOT" -S "$KVER" --show-depends -a bochs snd-hda-intel \
		vfio-pci vfio_iommu_type1 efivarfs vfat nls_cp437 nls_ascii |
		sed -n 's/^insmod //p' | while read -r ko _; do
			rel=${ko#"$VM_KROOT"}
			mkdir -p "$dir$(dirname "$rel")"
			cp "$ko" "$dir$rel"
		done
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		cp "$VM_KROOT/lib/modules/$KVER/$f" "$dir/lib/modules/$KVER/"
	done
	depmod -b "$dir" "$KVER"
	[ "${1-}" != --tests ] || vm_test_extras "$dir"
	rm -f "$img"
	mke2fs -q -t ext2 -L vmroot -d "$dir" "$img" 160M >/dev/null
}

# vm_test_extras DIR: what the test scenarios add to the root file system
# (the demo boots without): their scripts and configs, the binder `make
# install` put on this host, the modprobe path's /etc, and qemu.
vm_test_extras() {
	dir=$1
	# The scenarios' own steps (vfio_test=NAME runs /test/NAME.sh) and the
	# binder `make install` put on this host, for the run-time tests.
	mkdir -p "$dir/test" "$dir/usr/sbin"
	for script in "$VM_DIR"/guest/*.sh; do
		[ -e "$script" ] || continue
		install -m 0755 "$script" "$dir/test/"
	done
	install -m 0755 /usr/sbin/vfio-reserve "$dir/usr/sbin/vfio-reserve"
	# The host's reports, which the binder runs for check (scenario 13).
	install -D -m 0755 /usr/lib/vfio-reserve/reports "$dir/usr/lib/vfio-reserve/reports"
	vm_guest_extras "$dir"
	# vfio_test_etc=modprobe: the /etc of a host where `vfio-reserve
	# update` wrote the card 1 rule's modprobe file (vm_modprobe_host).
	vm_modprobe_host
	mkdir -p "$dir/test/modprobe.etc/modprobe.d"
	config_text card1 >"$dir/test/modprobe.etc/vfio-reserve.conf"
	chmod 0644 "$dir/test/modprobe.etc/vfio-reserve.conf"
	cp "$VM_MODPROBE_CONF" "$dir/test/modprobe.etc/modprobe.d/"
	printf '%s\n' 'NAME="vfio-reserve test guest"' ID=vfio-reserve-test \
		>"$dir/test/modprobe.etc/os-release"
	vm_copy_qemu "$dir"
}

# vm_guest_extras DIR: the scenarios' configs (guest/*.conf, also the configs
# their images are built from: see config_text in boot-all) in /test, and
# /test/vfio-bar (guest/vfio-bar.c), a minimal VFIO user, static.
vm_guest_extras() {
	for conf in "$VM_DIR"/guest/*.conf; do
		[ -e "$conf" ] || continue
		install -m 0644 "$conf" "$1/test/"
	done
	${CC:-cc} -static -O2 -Wall -o "$1/test/vfio-bar" "$VM_DIR/guest/vfio-bar.c"
}

# The modprobe path's file for the VM: `vfio-reserve update --root` (the
# installed binder and update) on a fixture of the VM's PCI functions
# (tests/lib/fixture.bash; QEMU gives them subsystem 1af4:1100) and the
# kernel's real module indexes, with the card 1 rule.  Sets
# VM_MODPROBE_CONF; the update's output goes to modprobe-host.log.
vm_modprobe_host() {
	host="$VM_OUT/modprobe-host"
	rm -rf "$host"
	bash -c '. "$1" && make_sysfs "$2"' _ "$VM_TOP/tests/lib/fixture.bash" "$host" <<-EOF
	00:00.0 8086:29c0 060000 0 - - -
	00:01.0 1234:1111 030000 1 bochs-drm 1 - subsys=1af4:1100
	00:04.0 1b36:000c 060400 2 pcieport - -
	00:05.0 1b36:000c 060400 3 pcieport - -
	01:00.0 1234:1111 038000 4 bochs-drm - 00:04.0 subsys=1af4:1100
	01:00.1 8086:2668 040300 4 snd_hda_intel - 00:04.0 subsys=1af4:1100
	02:00.0 1234:1111 038000 5 bochs-drm - 00:05.0 subsys=1af4:1100
	02:00.1 8086:2668 040300 5 snd_hda_intel - 00:05.0 subsys=1af4:1100
	kernel $KVER
	driver vfio-pci
	EOF
	cp "$VM_KROOT/lib/modules/$KVER"/modules.* "$host/lib/modules/$KVER/"
	config_text card1 >"$host/etc/vfio-reserve.conf"
	chmod 0644 "$host/etc/vfio-reserve.conf"
	/usr/sbin/vfio-reserve --root "$host" update >"$VM_OUT/modprobe-host.log" 2>&1 ||
		vm_die "vfio-reserve update --root $host failed: see $VM_OUT/modprobe-host.log"
	VM_MODPROBE_CONF="$host/etc/modprobe.d/00-vfio-reserve.conf"
	[ -s "$VM_MODPROBE_CONF" ] || vm_die "update wrote no $VM_MODPROBE_CONF"
}

# ---- the build host's root disk ---------------------------------------------

# vm_host_root: the PCI function behind the block device of the mount of /
# on this host (the one images are built on; tests/lib/host-root), as "ADDR
# VENDOR:DEVICE" in $VM_OUT/host-root; when there is none, the reason in
# $VM_OUT/host-root.skip instead.
vm_host_root() {
	rm -f "$VM_OUT/host-root" "$VM_OUT/host-root.skip"
	if ! "$VM_TOP/tests/lib/host-root" >"$VM_OUT/host-root"; then
		mv "$VM_OUT/host-root" "$VM_OUT/host-root.skip"
	fi
}

# vm_guest_root: the qemu -device option of a root disk at the build host's
# root disk's address with its ID ($VM_OUT/host-root), for vm_boot's
# --root-as-host, in $VM_OUT/guest-root; where qemu cannot make that on
# this machine (not a virtio-blk, not on bus 0, or a slot the machine
# uses), the reason in $VM_OUT/guest-root.skip.
vm_guest_root() {
	rm -f "$VM_OUT/guest-root" "$VM_OUT/guest-root.skip"
	if [ ! -e "$VM_OUT/host-root" ]; then
		cp "$VM_OUT/host-root.skip" "$VM_OUT/guest-root.skip"
		return 0
	fi
	read -r addr id <"$VM_OUT/host-root"
	case $id in
	1af4:1042) legacy=on ;;  # virtio 1.0 only: non-transitional
	1af4:1001) legacy=off ;; # transitional
	*)
		echo "the build host's root disk $addr is $id, not a virtio-blk qemu makes" \
			>"$VM_OUT/guest-root.skip"
		return 0
		;;
	esac
	slot=${addr#0000:00:}
	case $addr in
	0000:00:0[1457].0 | 0000:00:1f.0 | 0000:00:00.0)
		echo "the build host's root disk is at $addr, a slot the test machine uses" \
			>"$VM_OUT/guest-root.skip"
		return 0
		;;
	0000:00:[01][0-9a-f].0) ;;
	*)
		echo "the build host's root disk is at $addr: not function 0 of a slot on bus 0" \
			>"$VM_OUT/guest-root.skip"
		return 0
		;;
	esac
	echo "virtio-blk-pci,drive=root,bus=pcie.0,addr=$slot,disable-legacy=$legacy" \
		>"$VM_OUT/guest-root"
}

# ---- qemu -----------------------------------------------------------------

# vm_boot NAME INITRD [iommu] [machine options...] [extra kernel arguments...]
# iommu is "intel" (default) or "amd".  Boots the kernel with INITRD and the
# root filesystem on a q35 machine with the test hardware, under a hard
# timeout; the serial console goes to $VM_OUT/NAME.log.  Returns qemu's
# status (124 on timeout).  Machine options, before the kernel arguments:
#   --card3           a third card, identical to cards 1 and 2, fitted
#   --nvme            an NVMe drive (1b36:0010, no native driver in the
#                     guest; reset_method "flr bus") behind a fourth root port
#   --nvme-sriov      the same place, an SR-IOV NVMe controller instead
#                     (QEMU 7.2: up to 3 VFs, at 03:00.1-3 once the nvme
#                     driver enables them; an NVMe subsystem, which SR-IOV
#                     needs, and the queues and interrupts QEMU asks for
#                     them: 2 queues and 1 interrupt per VF); the VFs'
#                     secondary controllers stay offline, so nvme binds a
#                     VF and gives it up when its controller does not start
#   --intel-cpu       a CPU that says GenuineIntel (TCG's default says AMD)
#   --no-iommu-args   no IOMMU arguments of vm_boot's own: the extra kernel
#                     arguments are all there is beyond console, root, debug
#   --uefi            OVMF firmware (pflash) instead of SeaBIOS: the kernel
#                     boots through its EFI stub and gets an EFI framebuffer
#   --root-as-host    the root disk at the build host's root disk's address,
#                     with its ID ($VM_OUT/guest-root), instead of 00:06.0
#   --esp IMG         OVMF boots the disk image IMG (00:08.0, virtio-blk,
#                     first in the boot order): its boot loader picks the
#                     kernel, initrd and arguments (INITRD is ignored; the
#                     entries' options are vm_kernel_args and their own);
#                     not with --hw, whose NIC is at 00:08.0 too
#   --hw=MACHINE      the hardware record's machines (boot-all's h*
#                     scenarios), all with a NIC behind a fourth root port:
#                     old, as `vfio-reserve fingerprint` recorded it; swap,
#                     card 1 swapped for another NIC; moved, card 1 moved to
#                     a new root port at 00:03.0, its old one left empty;
#                     group, a NIC as function 2 of card 1's slot (its IOMMU
#                     group); serial, the NIC swapped for one of its model
#                     with another serial number (MAC address)
#   --grub-disk FILE  SeaBIOS boots the disk image FILE (tests/vm/grub.sh),
#                     on the machine's own AHCI controller (00:1f.2): its
#                     boot loader loads the kernel and INITRD (give -) with
#                     the command line of its own configuration; no kernel
#                     arguments here then
#
# The hardware, bus numbers as the firmware assigns them:
#   00:01.0  VGA (1234:1111, class 0300): the boot VGA
#   00:02.0  amd-iommu only: its PCI function takes the first free slot
#   00:04.0  pcie-root-port -> 01:00.0 secondary-vga (1234:1111, class 0380)
#                              01:00.1 intel-hda  (card 1)
#   00:05.0  pcie-root-port -> 02:00.0 secondary-vga, 02:00.1 intel-hda (card 2)
#   00:06.0  virtio-blk: the root file system (snapshot=on: shared by the VMs,
#            whose writes are thrown away); with --root-as-host where the
#            build host's root disk is (00:02.0 on this project's machines)
#   00:07.0  --card3 only: pcie-root-port -> 03:00.0 secondary-vga,
#                              03:00.1 intel-hda (card 3)
#   00:08.0  --hw only: pcie-root-port -> 03:00.0 e1000e (8086:10d3), whose
#            PCIe Device Serial Number QEMU makes from its MAC address;
#            --nvme only: pcie-root-port -> 03:00.0 nvme (never both, nor
#            with --esp's disk there)
# With --hw=moved, 00:03.0 is a root port with card 1 (bus 01); 00:04.0,
# empty, gets bus 02, card 2 bus 03 and the NIC bus 04.
vm_boot() {
	name=$1 initrd=$2
	shift 2
	iommu=intel
	case ${1-} in
	intel | amd)
		iommu=$1
		shift
		;;
	esac
	card3='' nvme='' cpu='' own_iommu_args=1 firmware='' esp='' hw='' grub_disk=''
	root_disk=virtio-blk-pci,drive=root,bus=pcie.0,addr=06.0
	card1="-device pcie-root-port,id=rp1,bus=pcie.0,addr=04.0,chassis=1,slot=1
-device secondary-vga,bus=rp1,addr=00.0,multifunction=on
-device intel-hda,bus=rp1,addr=00.1"
	while :; do
		case ${1-} in
		--hw=*) hw=${1#--hw=} ;;
		--card3)
			card3="-device pcie-root-port,id=rp3,bus=pcie.0,addr=07.0,chassis=3,slot=3
-device secondary-vga,bus=rp3,addr=00.0,multifunction=on
-device intel-hda,bus=rp3,addr=00.1"
			;;
		--nvme)
			nvme="-device pcie-root-port,id=rp4,bus=pcie.0,addr=08.0,chassis=4,slot=4
-device nvme,bus=rp4,serial=vfio-reserve-test"
			;;
		--nvme-sriov)
			nvme="-device pcie-root-port,id=rp4,bus=pcie.0,addr=08.0,chassis=4,slot=4
-device nvme-subsys,id=nvmes0
-device nvme,bus=rp4,serial=vfio-reserve-test,subsys=nvmes0,sriov_max_vfs=3,sriov_vq_flexible=6,sriov_vi_flexible=3,max_ioqpairs=8,msix_qsize=4"
			;;
		--intel-cpu) cpu="-cpu qemu64,vendor=GenuineIntel" ;;
		--no-iommu-args) own_iommu_args= ;;
		--root-as-host) root_disk=$(cat "$VM_OUT/guest-root") ;;
		--esp)
			esp=$2
			shift 2
			set -- --uefi "$@"
			continue
			;;
		--grub-disk)
			grub_disk=$2
			shift
			;;
		--uefi)
			# A copy of the variable store for each VM: OVMF writes it.
			cp /usr/share/OVMF/OVMF_VARS_4M.fd "$VM_OUT/$name.vars.fd"
			firmware="-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
-drive if=pflash,format=raw,unit=1,file=$VM_OUT/$name.vars.fd"
			;;
		*) break ;;
		esac
		shift
	done
	nic=''
	nic_mac=52:54:00:12:34:56
	case $hw in
	'' | old) ;;
	swap)
		card1="-device pcie-root-port,id=rp1,bus=pcie.0,addr=04.0,chassis=1,slot=1
-device e1000e,bus=rp1,addr=00.0,mac=52:54:00:12:34:60"
		;;
	moved)
		card1="-device pcie-root-port,id=rp0,bus=pcie.0,addr=03.0,chassis=5,slot=5
-device secondary-vga,bus=rp0,addr=00.0,multifunction=on
-device intel-hda,bus=rp0,addr=00.1
-device pcie-root-port,id=rp1,bus=pcie.0,addr=04.0,chassis=1,slot=1"
		;;
	group)
		card1="$card1
-device e1000e,bus=rp1,addr=00.2,mac=52:54:00:12:34:58"
		;;
	serial) nic_mac=52:54:00:12:34:57 ;;
	*) vm_die "vm_boot: unknown --hw=$hw" ;;
	esac
	[ -z "$hw" ] || nic="-device pcie-root-port,id=rp4,bus=pcie.0,addr=08.0,chassis=4,slot=4
-device e1000e,bus=rp4,addr=00.0,mac=$nic_mac"
	log="$VM_OUT/$name.log"
	case $iommu in
	intel)
		iommu_dev="intel-iommu,intremap=on,caching-mode=on"
		# With iommu=pt below: what 'vfio-reserve update' writes, so the
		# binder's command-line findings stay out of the boot log.
		iommu_arg="intel_iommu=on"
		;;
	amd)
		iommu_dev="amd-iommu,intremap=on"
		iommu_arg=""  # the kernel enables AMD-Vi by itself
		;;
	esac
	iommu_args=
	[ -z "$own_iommu_args" ] || iommu_args="$iommu_arg iommu=pt"
	if [ -n "$esp" ]; then
		set -- -drive "file=$esp,format=raw,if=none,id=esp" \
			-device virtio-blk-pci,drive=esp,bus=pcie.0,addr=08.0,bootindex=0
	elif [ -n "$grub_disk" ]; then
		set -- -drive "file=$grub_disk,format=raw,if=none,id=grubdisk" \
			-device ide-hd,drive=grubdisk,bus=ide.0,bootindex=0
	else
		set -- -kernel "$VM_KERNEL" -initrd "$initrd" \
			-append "$(vm_kernel_args "$iommu_args") $*"
	fi
	rm -f "$log"
	boot_start=$(date +%s)
	set +e
	# shellcheck disable=SC2086 # $cpu, $firmware, $card1, $card3, $nic, $nvme: qemu options
	timeout "$VM_TIMEOUT" qemu-system-x86_64 \
		-accel tcg -M q35,kernel-irqchip=split -m 1024 -smp 1 $cpu $firmware \
		-nodefaults -no-reboot -display none -monitor none \
		-serial "file:$log" \
		-device VGA,bus=pcie.0,addr=01.0 \
		-device "$iommu_dev" \
		$card1 \
		-device pcie-root-port,id=rp2,bus=pcie.0,addr=05.0,chassis=2,slot=2 \
		-device secondary-vga,bus=rp2,addr=00.0,multifunction=on \
		-device intel-hda,bus=rp2,addr=00.1 \
		$card3 $nic $nvme \
		-drive "file=$VM_OUT/rootfs.ext2,format=raw,if=none,id=root,snapshot=on" \
		-device "$root_disk" \
		"$@"
	rc=$?
	set -e
	vm_log "$name: qemu exited $rc after $(($(date +%s) - boot_start)) s"
	return "$rc"
}

# vm_kernel_args IOMMU-ARGS: the kernel arguments every boot has, before
# its own: the serial console, the root disk, power off on panic, the
# IOMMU's (intel_iommu=on iommu=pt for the Intel machine, as `vfio-reserve
# update` writes them), the driver core's probe messages.
vm_kernel_args() {
	printf '%s\n' "console=ttyS0 root=/dev/vda ro panic=-1 rd.shell=0 rd.emergency=poweroff $1 dyndbg=\"file drivers/base/dd.c +p\" log_buf_len=4M"
}

# ---- images ---------------------------------------------------------------

# vm_mkinitramfs IMG [CONFDIR]: the real mkinitramfs, for $KVER, with the test
# configuration directory: MODULES=list (the root disk's modules), the
# test-only hook hooks/vfio-test that forces the native drivers in
# ($VFIO_TEST_NATIVE, by default "bochs snd-hda-intel"; VFIO_TEST_NAIVE=1 for
# the control image) and init-top/00load-gpu, which loads bochs before udev.
# The project's own hook comes from `make install`.
vm_mkinitramfs() {
	vm_log "mkinitramfs $(basename "$1") (native: ${VFIO_TEST_NATIVE-bochs snd-hda-intel}${VFIO_TEST_NAIVE:+, naive})"
	mkinitramfs -d "${2:-$VM_DIR/itools-confdir}" -o "$1" "$KVER"
}

# vm_dracut IMG systemd|shell [dracut arguments...]: the real dracut, for
# $KVER, not hostonly (the VM is not this host), with only the root disk's
# drivers plus the native ones.  bochs is a --force-drivers (rd.driver.pre)
# driver: dracut loads it before udev, as users do with nvidia.  "shell"
# leaves the systemd modules out: dracut's own shell init runs the hooks.
vm_dracut() {
	img=$1 flavour=$2
	shift 2
	omit="crypt dm dmraid lvm mdraid nvdimm i18n console-setup resume"
	omit="$omit kernel-modules-extra overlay-root qemu lunmask virtiofs"
	omit="$omit terminfo usrmount"
	if [ "$flavour" = shell ]; then
		omit="$omit systemd systemd-initrd dracut-systemd"
	fi
	vm_log "dracut $(basename "$img") ($flavour)"
	# VFIO_TEST_UDEV_GPU=1: bochs is in the image, udev loads it.
	if [ "${VFIO_TEST_UDEV_GPU-}" != 1 ]; then
		set -- --force-drivers bochs "$@"
	fi
	dracut --force --no-hostonly --no-early-microcode --kver "$KVER" \
		--drivers "virtio_pci virtio_blk ext4" \
		--add-drivers "snd-hda-intel bochs" \
		--omit "$omit" "$@" "$img"
}

# ---- a VFIO client in the guest ---------------------------------------------

# vm_copy_qemu DIR: Debian's qemu-system-x86_64 in the root file system DIR,
# for the guest's VFIO client (tests/vm/guest/client.sh): the program with
# its libraries, its TCG accelerator module (with -S the guest CPU never
# runs, but the accelerator is set up) and the firmware a paused x86 machine
# loads: SeaBIOS and kvmvapic.bin.  Nothing else (no display, no NIC ROMs:
# the client runs with -nodefaults -display none).
vm_copy_qemu() {
	vm_copy_program "$(command -v qemu-system-x86_64)" "$1"
	for f in /usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so \
		/usr/share/seabios/bios-256k.bin /usr/share/qemu/kvmvapic.bin; do
		[ -r "$f" ] || vm_die "qemu's $f is missing"
		mkdir -p "$1$(dirname "$f")"
		cp -L "$f" "$1$f"
	done
}

# ---- mkinitcpio -----------------------------------------------------------

# vm_mkinitcpio IMG HOOK...: the real mkinitcpio v41 (../shared/upstream,
# laid out by tests/lib/mkinitcpio-upstream with Debian's dynamic busybox,
# fetched once into $VM_CACHE: the static one runs its own modprobe), for
# $KVER from $VM_KROOT (-r), HOOKS=(HOOK...) and MODULES=() with the root
# disk's drivers and bochs and snd_hda_intel, which /init loads right after
# the early hooks.  Run in a private mount namespace where its library is
# /usr/lib/initcpio, beside the hooks `make install` put there.  The
# systemd hook reports files Debian lacks (Arch-only units and programs)
# as build errors and still writes the image: an image that exists is used.
vm_mkinitcpio() {
	img=$1
	shift
	up=$VM_DIR/../../../shared/upstream/mkinitcpio
	[ -f "$up/mkinitcpio" ] || vm_die "no ../shared/upstream/mkinitcpio"
	if [ ! -x "$VM_CACHE/busybox/bin/busybox" ]; then
		(cd "$VM_CACHE" && rm -f busybox_*.deb && apt-get download -q busybox 2>&1) >&2 ||
			vm_die "apt-get download busybox failed"
		dpkg-deb -x "$VM_CACHE"/busybox_*.deb "$VM_CACHE/busybox"
	fi
	prep=$VM_OUT/mkinitcpio
	rm -rf "$prep"
	"$VM_TOP/tests/lib/mkinitcpio-upstream" "$up" "$prep" "$VM_CACHE/busybox/bin/busybox"
	cp /usr/lib/initcpio/install/*vfio-reserve "$prep/usr/lib/initcpio/install/"
	cp /usr/lib/initcpio/hooks/vfio-reserve "$prep/usr/lib/initcpio/hooks/"
	printf '%s\n' 'MODULES=(virtio_pci virtio_blk ext4 bochs snd_hda_intel)' \
		"HOOKS=($*)" >"$prep/mkinitcpio.conf"
	vm_log "mkinitcpio $(basename "$img") (HOOKS=($*))"
	rm -f "$img"
	# shellcheck disable=SC2016 # expanded by the namespace's shell
	unshare --mount --propagation private sh -c '
		mount --bind "$1/usr/lib/initcpio" /usr/lib/initcpio &&
		"$1/usr/bin/mkinitcpio" -c "$1/mkinitcpio.conf" -k "$2" -r "$3" -g "$4"' \
		sh "$prep" "$KVER" "$VM_KROOT" "$img" || :
	[ -s "$img" ]
}
