#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# update/boot-setup: the initramfs generator, the ordering before the native
# drivers and the boot-loader tool, as `update` acts on them and `check`
# reports them, on throwaway roots laid out as each distribution has them.

load test_helper

setup() {
	ROOT=$BATS_TEST_TMPDIR/root
	mkdir -p "$ROOT"
}

add_file() {
	mkdir -p "$(dirname "$ROOT/$1")"
	: >"$ROOT/$1"
}

add_program() {
	add_file "$1"
	chmod 0755 "$ROOT/$1"
}

setup_of() {
	"$GRUB_SCRIPTS/boot-setup" --root "$ROOT" "$@"
}

# Debian or Ubuntu with initramfs-tools and GRUB, vfio-reserve installed.
debian_host() {
	add_file etc/kernel/postinst.d/initramfs-tools
	add_program usr/sbin/update-initramfs
	add_file usr/share/initramfs-tools/hooks/vfio-reserve
	add_file etc/default/grub
	add_program usr/sbin/grub-mkconfig
}

# Arch: mkinitcpio with its pacman hook, HOOKS=() as given.
arch_host() {
	add_file etc/mkinitcpio.conf
	printf '%s\n' '# mkinitcpio.conf' 'MODULES=(nvidia)' "$1" >"$ROOT/etc/mkinitcpio.conf"
	add_program usr/bin/mkinitcpio
	add_file usr/share/libalpm/hooks/90-mkinitcpio-install.hook
	add_file usr/lib/initcpio/install/vfio-reserve
	add_file etc/default/grub
	add_program usr/bin/grub-mkconfig
}

@test "Debian: initramfs-tools with the early hook and the modprobe path, GRUB" {
	debian_host
	add_file etc/modprobe.d/00-vfio-reserve.conf
	run -0 setup_of generator
	assert_output initramfs-tools
	run -0 setup_of report
	assert_output - <<-'EOF'
	OK initramfs: initramfs-tools builds it, at every kernel upgrade and 'vfio-reserve update'
	OK ordering: the early hook (initramfs-tools conf.d) and the modprobe path (/etc/modprobe.d/00-vfio-reserve.conf)
	OK boot loader: GRUB ('vfio-reserve update' writes its configuration)
	WARN trial: no trial boot: grub-editenv is not installed; a change takes effect at every boot without one
	EOF
}

@test "initramfs-tools-core without its kernel hook is no generator; a leftover hook without update-initramfs neither" {
	add_program usr/sbin/update-initramfs
	run -1 setup_of generator
	assert_output ''
	rm "$ROOT/usr/sbin/update-initramfs"
	add_file etc/kernel/postinst.d/initramfs-tools
	run -1 setup_of generator
	run -0 setup_of report
	assert_output - <<-'EOF'
	WARN initramfs: found neither initramfs-tools, mkinitcpio nor dracut set up: nothing carries the config into the boot
	WARN boot loader: found none that 'vfio-reserve update' supports: put the arguments of 'vfio-reserve cmdline' on the kernel command line by hand
	WARN trial: no trial boot: grub-editenv is not installed; a change takes effect at every boot without one
	EOF
}

@test "the early hook not installed and no modprobe path: WARN" {
	debian_host
	rm "$ROOT/usr/share/initramfs-tools/hooks/vfio-reserve"
	run -0 setup_of report
	assert_line -n 1 "WARN ordering: initramfs-tools: the vfio-reserve hook is not installed, and no modprobe path: nothing runs the binder before the native drivers"
}

@test "Fedora: dracut through kernel-install, grubby keeps the command line" {
	add_file usr/lib/kernel/install.d/50-dracut.install
	add_program usr/bin/dracut
	add_file usr/lib/dracut/modules.d/50vfio-reserve/module-setup.sh
	add_program usr/sbin/grubby
	add_file etc/default/grub
	run -0 setup_of generator
	assert_output dracut
	run -0 setup_of report
	assert_output - <<-'EOF'
	OK initramfs: dracut builds it, at every kernel upgrade and 'vfio-reserve update'
	OK ordering: the early hook (the dracut module)
	OK boot loader: grubby ('vfio-reserve update' hands it the kernel arguments)
	WARN trial: no trial boot: grubby keeps no trial state that vfio-reserve drives; a change takes effect at every boot without one
	EOF
}

@test "Fedora Atomic: rpm-ostree is reported as refused" {
	add_file usr/lib/kernel/install.d/50-dracut.install
	add_program usr/bin/dracut
	add_file usr/lib/dracut/modules.d/50vfio-reserve/module-setup.sh
	add_program usr/sbin/grubby
	add_file run/ostree-booted
	run -0 setup_of report
	assert_line -n 2 "WARN boot loader: rpm-ostree: its initramfs comes with the image, and 'vfio-reserve update' refuses to set kernel arguments there"
}

@test "Arch: mkinitcpio comes before dracut's kernel-install plugin; vfio-reserve before udev is the early hook" {
	arch_host 'HOOKS=(base vfio-reserve udev autodetect microcode modconf kms keyboard block filesystems fsck)'
	add_file usr/lib/kernel/install.d/50-dracut.install
	add_program usr/bin/dracut
	run -0 setup_of generator
	assert_output mkinitcpio
	run -0 setup_of report
	assert_output - <<-'EOF'
	OK initramfs: mkinitcpio builds it, at every kernel upgrade and 'vfio-reserve update'
	OK ordering: the early hook (vfio-reserve in HOOKS)
	OK boot loader: GRUB ('vfio-reserve update' writes its configuration)
	WARN trial: no trial boot: grub-editenv is not installed; a change takes effect at every boot without one
	EOF
}

# The verdicts follow mkinitcpio v41's /init (../shared/upstream/mkinitcpio/init):
# every run_earlyhook, in HOOKS=() order (line 33), before MODULES=() is
# loaded (35-39) and before any run_hook (43), where udev's coldplug runs
# (hooks/udev run_hook); udev's early hook only starts udevd.  kms adds
# modules and no runtime hook.  The systemd hook makes /init a link to
# systemd (install/systemd: add_symlink /init), which runs no runtime hook;
# base, when it comes later, puts its own /init back (install/base:
# add_initcpio_binary init).  tests/mkinitcpio builds each with the real tool.
BUSYBOX_EARLY='OK ordering: the early hook (vfio-reserve in HOOKS)'

@test "Arch, busybox /init: vfio-reserve anywhere in HOOKS=() runs before MODULES=() and udev's coldplug" {
	for hooks in 'base vfio-reserve udev autodetect kms block filesystems' \
		'base udev vfio-reserve autodetect kms block filesystems' \
		'base udev autodetect modconf kms block filesystems fsck vfio-reserve' \
		'base autodetect vfio-reserve block filesystems'; do
		arch_host "HOOKS=($hooks)"
		run -0 setup_of report
		assert_line -n 1 "$BUSYBOX_EARLY"
	done
}

@test "Arch, systemd /init: vfio-reserve in HOOKS=() never runs, before or after systemd; sd-vfio-reserve anywhere does" {
	local why="WARN ordering: mkinitcpio: vfio-reserve in HOOKS=() (/etc/mkinitcpio.conf) never runs: with the systemd hook /init is systemd, which runs no runtime hook (use sd-vfio-reserve)"
	for hooks in 'base vfio-reserve systemd autodetect modconf kms block filesystems' \
		'base systemd vfio-reserve autodetect modconf kms block filesystems' \
		'base systemd autodetect kms block filesystems vfio-reserve'; do
		arch_host "HOOKS=($hooks)"
		run -0 setup_of report
		assert_line -n 1 "$why, and no modprobe path: nothing runs the binder before the native drivers; see vfio-reserve(8)"
	done
	for hooks in 'base systemd sd-vfio-reserve autodetect modconf kms block filesystems' \
		'base sd-vfio-reserve systemd autodetect kms' 'base systemd autodetect kms block filesystems sd-vfio-reserve'; do
		arch_host "HOOKS=($hooks)"
		run -0 setup_of report
		assert_line -n 1 'OK ordering: the early hook (sd-vfio-reserve)'
	done
}

@test "Arch: sd-vfio-reserve without systemd, and systemd before base, reserve nothing by the early hook" {
	arch_host 'HOOKS=(base udev sd-vfio-reserve autodetect modconf kms block filesystems)'
	run -0 setup_of report
	assert_line -n 1 "WARN ordering: mkinitcpio: sd-vfio-reserve in HOOKS=() (/etc/mkinitcpio.conf) never runs: without the systemd hook /init is busybox's, which starts no unit (use vfio-reserve), and no modprobe path: nothing runs the binder before the native drivers; see vfio-reserve(8)"
	arch_host 'HOOKS=(systemd base vfio-reserve sd-vfio-reserve udev autodetect kms)'
	run -0 setup_of report
	assert_line -n 1 "WARN ordering: mkinitcpio: systemd comes before base in HOOKS=() (/etc/mkinitcpio.conf): base's /init replaces systemd's, so the systemd hook's units never run (put base first), and no modprobe path: nothing runs the binder before the native drivers; see vfio-reserve(8)"
	arch_host 'HOOKS=(autodetect vfio-reserve udev kms)'
	run -0 setup_of report
	assert_line -n 1 "WARN ordering: mkinitcpio: neither base nor systemd in HOOKS=() (/etc/mkinitcpio.conf): the image has no /init, and no modprobe path: nothing runs the binder before the native drivers; see vfio-reserve(8)"
}

@test "Arch: the modprobe path counts only with modconf and a hook that puts the binder in the image" {
	add_file etc/modprobe.d/00-vfio-reserve.conf
	arch_host 'HOOKS=(base udev autodetect modconf kms block filesystems)'
	run -0 setup_of report
	assert_line -n 1 "WARN ordering: mkinitcpio: neither vfio-reserve nor sd-vfio-reserve in HOOKS=() (/etc/mkinitcpio.conf), and the modprobe path has no binder: modconf adds /etc/modprobe.d/00-vfio-reserve.conf, whose install command runs /usr/sbin/vfio-reserve, which only those hooks put in the image: nothing runs the binder before the native drivers; see vfio-reserve(8)"
	arch_host 'HOOKS=(base systemd autodetect modconf kms block filesystems)'
	run -0 setup_of report
	assert_line -n 1 "WARN ordering: mkinitcpio: neither vfio-reserve nor sd-vfio-reserve in HOOKS=() (/etc/mkinitcpio.conf), and the modprobe path has no binder: modconf adds /etc/modprobe.d/00-vfio-reserve.conf, whose install command runs /usr/sbin/vfio-reserve, which only those hooks put in the image: nothing runs the binder before the native drivers; see vfio-reserve(8)"
	arch_host 'HOOKS=(base systemd vfio-reserve autodetect modconf kms block filesystems)'
	run -0 setup_of report
	assert_line -n 1 "WARN ordering: mkinitcpio: vfio-reserve in HOOKS=() (/etc/mkinitcpio.conf) never runs: with the systemd hook /init is systemd, which runs no runtime hook (use sd-vfio-reserve); only the modprobe path (/etc/modprobe.d/00-vfio-reserve.conf) runs the binder, when a native driver's module loads"
	arch_host 'HOOKS=(base udev vfio-reserve autodetect kms block filesystems)'
	run -0 setup_of report
	assert_line -n 1 "$BUSYBOX_EARLY"
	arch_host 'HOOKS=(base udev vfio-reserve autodetect modconf kms block filesystems)'
	run -0 setup_of report
	assert_line -n 1 "OK ordering: the early hook (vfio-reserve in HOOKS) and the modprobe path (/etc/modprobe.d/00-vfio-reserve.conf)"
}

@test "Arch: the last HOOKS=() wins, a drop-in over the file, over several lines, comments left out" {
	arch_host 'HOOKS=(base vfio-reserve udev)'
	mkdir -p "$ROOT/etc/mkinitcpio.conf.d"
	printf '%s\n' '# systemd-based image' 'HOOKS=(base systemd # vfio-reserve' \
		'  sd-vfio-reserve autodetect modconf)' >"$ROOT/etc/mkinitcpio.conf.d/10-sd.conf"
	add_file etc/modprobe.d/00-vfio-reserve.conf
	run -0 setup_of report
	assert_line -n 1 "OK ordering: the early hook (sd-vfio-reserve) and the modprobe path (/etc/modprobe.d/00-vfio-reserve.conf)"
}

@test "Proxmox VE and systemd-boot: the tool that remakes the entries from /etc/kernel/cmdline" {
	debian_host
	add_file etc/kernel/cmdline
	add_program usr/bin/kernel-install
	run -0 setup_of report
	assert_line -n 2 "OK boot loader: kernel-install ('vfio-reserve update' hands it the kernel arguments)"
	add_file etc/kernel/proxmox-boot-uuids
	add_program usr/sbin/proxmox-boot-tool
	run -0 setup_of report
	assert_line -n 2 "OK boot loader: proxmox-boot-tool ('vfio-reserve update' hands it the kernel arguments)"
}

@test "boot-setup: bad usage is exit 2" {
	run -2 "$GRUB_SCRIPTS/boot-setup"
	assert_output 'usage: boot-setup [--root DIR] generator | report [--vfs]'
	run -2 "$GRUB_SCRIPTS/boot-setup" --root "$ROOT" report extra
	run -2 "$GRUB_SCRIPTS/boot-setup" --root "$ROOT" generator --vfs
	run -2 "$GRUB_SCRIPTS/boot-setup" guess
}

# vfs= rules (vfio-reserve.conf(5)): the PF's driver binding must run the
# binder; an image carries the udev rule through our initramfs-tools hook,
# dracut module or mkinitcpio install hooks, and needs a udevd to run it.
@test "boot-setup report --vfs: the udev rule, in the images our hook or module builds; without it, or without a udevd, what the boot gets" {
	local rules=usr/lib/udev/rules.d/70-vfio-reserve-sriov.rules
	local ok="OK sriov: VFs are created when the PF's driver binds, in the initramfs or later (/$rules runs the binder)"
	local later="a PF whose driver binds in the initramfs gets its VFs, and rules for them reserve them, only at 'vfio-reserve apply'; one whose driver loads later gets them when it binds"
	debian_host
	run -0 setup_of report --vfs
	assert_line "WARN sriov: /$rules is not installed: no VF is created at boot, and rules for VFs reserve nothing until 'vfio-reserve apply'"
	add_file "$rules"
	run -0 setup_of report --vfs
	assert_line "$ok"
	run -0 setup_of report
	refute_line --partial "sriov:"
	rm "$ROOT/usr/share/initramfs-tools/hooks/vfio-reserve"
	run -0 setup_of report --vfs
	assert_line "WARN sriov: initramfs-tools: the image has no udev rule of ours: $later"
	rm "$ROOT/etc/kernel/postinst.d/initramfs-tools"
	add_file usr/lib/kernel/install.d/50-dracut.install
	add_program usr/bin/dracut
	run -0 setup_of report --vfs
	assert_line "WARN sriov: dracut: the image has no udev rule of ours: $later"
	add_file usr/lib/dracut/modules.d/50vfio-reserve/module-setup.sh
	run -0 setup_of report --vfs
	assert_line "$ok"
}

# mkinitcpio: our install hooks carry the rule wherever HOOKS=() names them;
# udevd runs in the image under systemd (systemd-udevd.service), under
# busybox's /init only with the udev hook.
@test "boot-setup report --vfs under mkinitcpio: OK where HOOKS=() carries the rule and runs a udevd" {
	local rules=usr/lib/udev/rules.d/70-vfio-reserve-sriov.rules hooks verdict
	local ok="OK sriov: VFs are created when the PF's driver binds, in the initramfs or later (/$rules runs the binder)"
	local later="a PF whose driver binds in the initramfs gets its VFs, and rules for them reserve them, only at 'vfio-reserve apply'; one whose driver loads later gets them when it binds"
	local norule="WARN sriov: mkinitcpio: the image has no udev rule of ours: $later"
	local noudevd="WARN sriov: mkinitcpio: the image has our udev rule but no udevd to run it (add udev to HOOKS=() in /etc/mkinitcpio.conf, or use systemd and sd-vfio-reserve): $later"
	arch_host 'HOOKS=(base udev autodetect modconf)'
	add_file "$rules"
	while IFS='|' read -r hooks verdict; do
		printf '%s\n' "HOOKS=($hooks)" >"$ROOT/etc/mkinitcpio.conf"
		run -0 setup_of report --vfs
		assert_line "${!verdict}"
		assert_equal "$(grep -c " sriov: " <<<"$output")" 1
	done <<-'EOF'
	base vfio-reserve udev autodetect modconf|ok
	base udev sd-vfio-reserve kms|ok
	base systemd autodetect sd-vfio-reserve|ok
	base systemd vfio-reserve autodetect|ok
	base vfio-reserve autodetect modconf|noudevd
	systemd base udev vfio-reserve|noudevd
	base udev autodetect modconf|norule
	base systemd autodetect modconf|norule
	EOF
}
