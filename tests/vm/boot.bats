#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve: early-boot integration proven on a real kernel.
#
# setup_file runs tests/vm/boot-all: `make install`, Debian's current amd64
# kernel, images built by the real mkinitramfs and dracut, every scenario
# booted under qemu (TCG).  The tests read what the guest printed on its
# serial console (tests/vm/guest/init): one REPORT line per PCI function
# after switch_root, REPROBE lines, and the kernel log with the driver
# core's probe messages (dyndbg on drivers/base/dd.c).
#
# VM_REUSE=1 reads the logs of the previous run instead of booting again.
#
# The machine: the boot VGA (1234:1111) at 00:01.0, card 1 and card 2
# behind PCIe root ports, each a secondary-vga (1234:1111, class 0380) at
# function 0 and an intel-hda at function 1.

VGA=0000:00:01.0
C1V=0000:01:00.0
C1A=0000:01:00.1
C2V=0000:02:00.0
C2A=0000:02:00.1

setup_file() {
	export VM_OUT="${VM_OUT:-$BATS_TEST_DIRNAME/out}"
	if [ -z "${VM_REUSE-}" ]; then
		if ! "$BATS_TEST_DIRNAME/boot-all" >"$BATS_FILE_TMPDIR/boot-all.log" 2>&1; then
			sed 's/^/# /' "$BATS_FILE_TMPDIR/boot-all.log" >&3
			return 1
		fi
	fi
	[ -s "$VM_OUT/times.log" ] || {
		echo "# no VM results in $VM_OUT" >&3
		return 1
	}
	echo "# kernel $(cat "$VM_OUT/kernel-version");" \
		"VM suite $(awk '$1 == "suite" { print $2 }' "$VM_OUT/times.log") s" >&3
}

# ---- helpers ----------------------------------------------------------------

# refute COMMAND...: fails when COMMAND succeeds (a bare `! cmd` never fails
# a bats test).
refute() {
	if "$@"; then
		return 1
	fi
}

log_of() {
	printf '%s\n' "$VM_OUT/$1.log"
}

# The serial console ends lines with CR LF.
lines() {
	tr -d '\r' <"$(log_of "$1")"
}

# field SCENARIO ADDR KEY: the KEY= value of ADDR's REPORT line.
field() {
	lines "$1" | awk -v a="$2" -v k="$3=" '
		$1 == "REPORT" && $2 == a {
			for (i = 3; i <= NF; i++)
				if (index($i, k) == 1) print substr($i, length(k) + 1)
		}'
}

show_report() {
	echo "--- $1: REPORT lines"
	lines "$1" | grep -a '^REPORT' || echo "(none: the guest never reported)"
	echo "--- $1: vfio-reserve kernel log"
	lines "$1" | grep -a 'vfio-reserve: ' | sort -u || true
	echo "--- $1: end of console"
	lines "$1" | tail -n 15
}

booted() {
	local rc
	rc=$(cat "$VM_OUT/$1.rc" 2>/dev/null || echo missing)
	if [ "$rc" != 0 ] || ! lines "$1" | grep -qa '^GUEST-DONE'; then
		echo "$1: the guest did not finish its report (qemu status $rc)"
		show_report "$1"
		return 1
	fi
}

# drivers SCENARIO VGA C1V C1A C2V C2A: the final driver of each function.
drivers() {
	local name=$1 addr want got bad=0
	shift
	for addr in "$VGA" "$C1V" "$C1A" "$C2V" "$C2A"; do
		want=$1
		shift
		got=$(field "$name" "$addr" driver)
		if [ "$got" != "$want" ]; then
			echo "$name: $addr is on '${got:-?}', expected '$want'"
			bad=1
		fi
	done
	if [ "$bad" != 0 ]; then
		show_report "$name"
		return 1
	fi
}

all_native() {
	drivers "$1" bochs-drm bochs-drm snd_hda_intel bochs-drm snd_hda_intel
}

card1_reserved() {
	drivers "$1" bochs-drm vfio-pci vfio-pci bochs-drm snd_hda_intel
}

kmsg() {
	lines "$1" | grep -a "$2" | sort -u
}

# Card N was never probed by a native driver: the driver core's own debug
# messages show every probe; vfio-pci's is the positive control.
never_native() {
	local name=$1 bus=$2 hits
	hits=$(kmsg "$name" "probing driver [a-z_-]* with device 0000:$bus:00\.[01]" |
		grep -v 'probing driver vfio-pci' || true)
	if [ -n "$hits" ]; then
		echo "$name: a native driver probed card on bus $bus:"
		echo "$hits"
		return 1
	fi
	kmsg "$name" "probing driver vfio-pci with device 0000:$bus:00.0" | grep -q . || {
		echo "$name: no driver-core probe messages for vfio-pci: dyndbg not working?"
		return 1
	}
}

reserved_log() {
	local name=$1 addr=$2 id=$3
	kmsg "$name" "vfio-reserve: $addr \[$id\] -> vfio-pci (rule line 2)" | grep -q . &&
		kmsg "$name" 'vfio-reserve: done: ' | grep -q . || {
		echo "$name: no 'vfio-reserve: $addr [$id] -> vfio-pci' and 'done:' in the kernel log"
		show_report "$name"
		return 1
	}
}

image_has() {
	lsinitramfs "$VM_OUT/$1.img" | grep -q -- "$2"
}

scenario1() {
	booted "$1"
	card1_reserved "$1"
	never_native "$1" 01
	reserved_log "$1" "$C1V" 1234:1111
	reserved_log "$1" "$C1A" 8086:2668
}

# What `vfio-reserve status` and `status --json` printed in the guest (init,
# card 1's rule as line 2), the time of the done line as N.
guest_status() {
	lines "$1" | sed -n -e 's/^STATUS //p' | sed -E 's/ in [0-9]+\.[0-9]{3} ms$/ in N ms/'
}

guest_status_json() {
	lines "$1" | sed -n 's/^STATUS-JSON {/{/p' |
		jq -c '.not_reserved, .boot.report, .boot.kill_switch, [.boot.records[] | [.level, .message]]' |
		sed -E 's/ in [0-9]+\.[0-9]{3} ms"/ in N ms"/'
}

# boot_report NAME [RUN]: the report the initramfs's binder left in /run,
# read in the real root by the root file system's binder: card 1 reserved;
# RUN " (--unbound)" for the modprobe path's.
boot_report() {
	same "$1: status" "line 2: 0000:01:00.0 1234:1111
  $C1V [1234:1111] vfio-pci       reserved
  $C1A [8086:2668] vfio-pci       reserved
last boot (/run/vfio-reserve.report):
  $C1V [1234:1111] -> vfio-pci (rule line 2)
  $C1A [8086:2668] -> vfio-pci (rule line 2)
  done${2-}: 2 reserved, 0 already reserved, 0 failed in N ms
rc=0" "$(guest_status "$1")" &&
	same "$1: status --json" '0
"/run/vfio-reserve.report"
null
[["info","'"$C1V"' [1234:1111] -> vfio-pci (rule line 2)"],["info","'"$C1A"' [8086:2668] -> vfio-pci (rule line 2)"],["info","done'"${2-}"': 2 reserved, 0 already reserved, 0 failed in N ms"]]' \
		"$(guest_status_json "$1")"
}

# boot_report_off NAME SWITCH: the report of a boot with the kill switch.
boot_report_off() {
	same "$1: status" "line 2: 0000:01:00.0 1234:1111
  $C1V [1234:1111] bochs-drm      NOT RESERVED, wants vfio-pci
  $C1A [8086:2668] snd_hda_intel  NOT RESERVED, wants vfio-pci
last boot: the kill switch '$2' was on: it reserved nothing (/run/vfio-reserve.report)
  disabled by '$2' on the kernel command line: nothing reserved
rc=1" "$(guest_status "$1")" &&
	same "$1: status --json" '2
"/run/vfio-reserve.report"
"'"$2"'"
[["info","disabled by '"'$2'"' on the kernel command line: nothing reserved"]]' \
		"$(guest_status_json "$1")"
}

# ---- the images ------------------------------------------------------------------

@test "initramfs-tools image: binder, config, vfio modules and the conf.d boot piece" {
	for f in usr/sbin/vfio-reserve etc/vfio-reserve.conf conf/conf.d/vfio-reserve \
		vfio/pci/vfio-pci.ko vfio/vfio_iommu_type1.ko vfio/vfio.ko; do
		image_has itools-card1 "$f" || { echo "itools-card1.img lacks $f"; return 1; }
	done
	# 6.1 still has vfio_virqfd (folded into vfio in 6.2): modprobe brought it.
	image_has itools-card1 vfio/vfio_virqfd.ko
	# The test-only pieces: native drivers inside, a GPU-loading init-top.
	image_has itools-card1 scripts/init-top/00load-gpu
	image_has itools-card1 gpu/drm/tiny/bochs.ko
	image_has itools-card1 snd-hda-intel.ko
	refute grep -a 'W: vfio-reserve' "$VM_OUT/itools-card1.build.log"
}

# init-top scripts in the order the image's /init runs them.
init_top_order() {
	sed -n 's|^/scripts/init-top/\([^ ]*\) .*|\1|p' "$VM_OUT/$1.init-top.ORDER" | tr '\n' ' '
}

@test "initramfs-tools /init sources conf.d before init-top; 00load-gpu runs first, udev after it" {
	local conf top order
	conf=$(grep -n 'conf/conf.d/\*' "$VM_OUT/itools-card1.init" | cut -d: -f1)
	top=$(grep -n 'run_scripts /scripts/init-top' "$VM_OUT/itools-card1.init" | cut -d: -f1)
	echo "conf.d sourced at line $conf, init-top run at line $top"
	[ -n "$conf" ]
	[ -n "$top" ]
	[ "$conf" -lt "$top" ]
	order=$(init_top_order itools-card1)
	echo "init-top order: $order"
	case $order in
	"00load-gpu "*udev*) ;;
	*) return 1 ;;
	esac
	# The common recipe's script, named after udev, runs after it.
	order=$(init_top_order itools-naive)
	echo "control image init-top order: $order"
	case $order in
	*" udev "*"vfio-reserve "*) ;;
	*) return 1 ;;
	esac
}

@test "dracut images: binder, config, vfio modules; systemd unit or cmdline 00 hook" {
	for img in dracut-systemd dracut-shell; do
		for f in usr/sbin/vfio-reserve etc/vfio-reserve.conf \
			vfio/pci/vfio-pci.ko vfio/vfio_iommu_type1.ko; do
			image_has "$img" "$f" || { echo "$img.img lacks $f"; return 1; }
		done
	done
	image_has dracut-systemd 'sysinit.target.wants/vfio-reserve.service'
	refute image_has dracut-systemd 'hooks/cmdline/00-vfio-reserve'
	image_has dracut-shell 'hooks/cmdline/00-vfio-reserve-boot.sh'
	refute image_has dracut-shell 'vfio-reserve.service'
}

@test "dracut hostonly image still carries the binder, the config and the vfio modules" {
	[ "$(cat "$VM_OUT/check-hostonly-dracut.rc")" = 0 ] || {
		tail -n 20 "$VM_OUT/check-hostonly-dracut.log"
		return 1
	}
	for f in usr/sbin/vfio-reserve etc/vfio-reserve.conf vfio/pci/vfio-pci.ko \
		vfio/vfio_iommu_type1.ko; do
		grep -q -- "$f" "$VM_OUT/check-hostonly-dracut.log" ||
			{ echo "hostonly image lacks $f"; return 1; }
	done
}

# A kernel upgrade never fails because of our config.
@test "a config with a bad line: mkinitramfs and dracut build, warn with file:line, carry the config" {
	local img
	for img in broken-itools broken-dracut; do
		[ -e "$VM_OUT/$img.ready" ] || { tail -n 20 "$VM_OUT/$img.build.log"; return 1; }
		grep -a "vfio-reserve: /etc/vfio-reserve.conf:3: unknown option 'forse'" \
			"$VM_OUT/$img.build.log"
		grep -a "vfio-reserve: /etc/vfio-reserve.conf: lines with errors skipped: the initramfs reserves what the other lines say" \
			"$VM_OUT/$img.build.log"
		refute grep -a 'left out of the initramfs' "$VM_OUT/$img.build.log"
		for f in usr/sbin/vfio-reserve etc/vfio-reserve.conf vfio/pci/vfio-pci.ko; do
			image_has "$img" "$f" || { echo "$img.img lacks $f"; return 1; }
		done
	done
}

@test "a config writable by group: mkinitramfs and dracut build, warn, and leave binder and config out" {
	local g
	for g in itools dracut; do
		[ "$(cat "$VM_OUT/check-unsafe-$g.rc")" = 0 ] ||
			{ tail -n 20 "$VM_OUT/check-unsafe-$g.log"; return 1; }
		grep -a "vfio-reserve: /etc/vfio-reserve.conf: writable by group or others (mode 0664): refusing to use it" \
			"$VM_OUT/check-unsafe-$g.log"
		grep -a "vfio-reserve: /etc/vfio-reserve.conf left out of the initramfs (see above): it reserves nothing at boot" \
			"$VM_OUT/check-unsafe-$g.log"
		[ -s "$VM_OUT/unsafe-$g.img" ]
		refute image_has "unsafe-$g" usr/sbin/vfio-reserve
		refute image_has "unsafe-$g" etc/vfio-reserve.conf
	done
}

# ---- scenario 1: card 1 by address and ID --------------------------------------

@test "1. initramfs-tools: card 1 on vfio-pci before init-top/00load-gpu loads bochs; card 2, boot VGA native" {
	scenario1 s1-itools
	boot_report s1-itools
	# The test-only init-top script sorted first and loaded bochs itself.
	kmsg s1-itools 'vfio-test: init-top/00load-gpu: modprobe bochs' | grep -q .
}

@test "1. dracut, systemd initrd (rd.modules-load=bochs): card 1 on vfio-pci, never probed natively" {
	scenario1 s1-dracut-systemd
	boot_report s1-dracut-systemd
	kmsg s1-dracut-systemd 'Starting vfio-reserve.service' | grep -q .
}

@test "1. dracut, shell init (--force-drivers bochs): card 1 on vfio-pci, never probed natively" {
	scenario1 s1-dracut-shell
	boot_report s1-dracut-shell
}

# The real mkinitcpio's images, for each layout `check` calls OK
# (update/boot-setup): bochs is in MODULES=(), which /init loads right after
# the early hooks (init line 38) and systemd-modules-load in the systemd one.
@test "1. mkinitcpio, busybox /init, vfio-reserve after udev and kms: card 1 on vfio-pci, never probed natively" {
	scenario1 k1-mkinitcpio-busybox
	boot_report k1-mkinitcpio-busybox
	lines k1-mkinitcpio-busybox | grep -qa '^:: running early hook \[vfio-reserve\]'
}

@test "1. mkinitcpio, systemd hook, sd-vfio-reserve last in HOOKS=(): card 1 on vfio-pci, never probed natively" {
	scenario1 k1-mkinitcpio-systemd
	boot_report k1-mkinitcpio-systemd
}

@test "1. a driver loaded from the root file system after switch_root leaves card 1 alone" {
	# snd-hda-intel is not in this image: the guest loads it from /lib/modules.
	refute image_has itools-late snd-hda-intel.ko
	scenario1 s1-late
	[ "$(field s1-late "$C2A" driver)" = snd_hda_intel ]
}

@test "1. the override persists in sysfs: re-probed after switch_root, card 1 goes back to vfio-pci" {
	local name addr line
	for name in s1-itools s1-dracut-systemd s1-dracut-shell s1-late; do
		for addr in "$C1V" "$C1A"; do
			[ "$(field "$name" "$addr" override)" = vfio-pci ] || {
				echo "$name: $addr driver_override is not vfio-pci"
				return 1
			}
			line=$(lines "$name" | grep -a "^REPROBE $addr ")
			[ "$line" = "REPROBE $addr override=vfio-pci driver=vfio-pci" ] || {
				echo "$name: $line"
				return 1
			}
		done
		# Nothing else carries an override.
		[ "$(lines "$name" | grep -ac '^REPROBE ')" = 2 ]
	done
}

@test "1. IOMMU groups (intel-iommu): each card's functions share a group of their own" {
	local g1 g2
	g1=$(field s1-itools "$C1V" group)
	g2=$(field s1-itools "$C2V" group)
	[ -n "$g1" ]
	[ "$g1" != none ]
	[ -n "$g2" ]
	[ "$g2" != none ]
	[ "$(field s1-itools "$C1A" group)" = "$g1" ]
	[ "$(field s1-itools "$C2A" group)" = "$g2" ]
	[ "$g1" != "$g2" ]
	[ "$(lines s1-itools | awk -v g="group=$g1" '$1 == "REPORT" && $5 == g' | wc -l)" = 2 ]
}

@test "control: the common recipe (init-top/vfio-reserve, no PREREQ) runs after udev: card 1 probed natively first" {
	# The harness must see the bug the design avoids: the same binder run
	# from an init-top script named after udev, as the usual recipe does.
	refute image_has itools-naive conf/conf.d/vfio-reserve
	image_has itools-naive scripts/init-top/vfio-reserve
	booted c0-naive
	kmsg c0-naive 'vfio-test: init-top/vfio-reserve (the common recipe)' | grep -q .
	refute never_native c0-naive 01
}

@test "control: the binder in a dracut pre-udev hook runs after rd.driver.pre loads bochs: card 1 probed natively first" {
	# Why the module runs the binder at cmdline 00 in dracut's shell init.
	refute image_has dracut-preudev 'hooks/cmdline/00-vfio-reserve'
	image_has dracut-preudev 'hooks/pre-udev/00-vfio-reserve.sh'
	booted c1-dracut-preudev
	kmsg c1-dracut-preudev 'vfio-test: pre-udev/00-vfio-reserve (the control)' | grep -q .
	refute never_native c1-dracut-preudev 01
}

# ---- scenario 2: disabled on the kernel command line ---------------------------

@test "2. initramfs-tools, vfio_reserve=off: everything native" {
	booted s2-itools
	all_native s2-itools
	boot_report_off s2-itools vfio_reserve=off
	kmsg s2-itools "vfio-reserve: disabled by 'vfio_reserve=off'" | grep -q .
}

@test "2. dracut, systemd initrd, rd.vfio_reserve=0: everything native" {
	booted s2-dracut-systemd
	all_native s2-dracut-systemd
	boot_report_off s2-dracut-systemd rd.vfio_reserve=0
	kmsg s2-dracut-systemd "vfio-reserve: disabled by 'rd.vfio_reserve=0'" | grep -q .
}

@test "2. dracut, shell init, vfio_reserve=off: everything native" {
	booted s2-dracut-shell
	all_native s2-dracut-shell
	boot_report_off s2-dracut-shell vfio_reserve=off
	kmsg s2-dracut-shell "vfio-reserve: disabled by 'vfio_reserve=off'" | grep -q .
}

# ---- scenario 3: the rule reverted, the image rebuilt ---------------------------

@test "3. rule commented out, image rebuilt: nothing added to the image, everything native" {
	local f
	for f in usr/sbin/vfio-reserve conf/conf.d/vfio-reserve etc/vfio-reserve.conf \
		vfio-pci.ko; do
		refute image_has itools-revert "$f" || { echo "itools-revert.img has $f"; return 1; }
	done
	booted s3-revert
	all_native s3-revert
	[ -z "$(kmsg s3-revert 'vfio-reserve: ')" ]
}

# ---- scenario 4: right address, wrong ID ------------------------------------------

@test "4. ID mismatch: everything native, a warning in the kernel log, boot completes" {
	booted s4-mismatch
	all_native s4-mismatch
	kmsg s4-mismatch "vfio-reserve: .*$C1V.*1234:1111" | grep -q . || {
		echo "no vfio-reserve warning naming $C1V and its real ID"
		show_report s4-mismatch
		return 1
	}
	kmsg s4-mismatch "vfio-reserve: .*10de:1b80" | grep -q .
}

# ---- scenario 5: path= selects card 2 ------------------------------------------

@test "5. path=00:05.0/00.0: card 2 reserved, card 1 and the boot VGA native" {
	booted s5-path
	drivers s5-path bochs-drm bochs-drm snd_hda_intel vfio-pci vfio-pci
	never_native s5-path 02
}

# ---- scenario 6: amd-iommu ------------------------------------------------------

@test "6. amd-iommu, scenario 1's image: card 1 on vfio-pci, card 2 and boot VGA native" {
	scenario1 s6-amd
	kmsg s6-amd 'AMD-Vi' | grep -q .
	[ "$(field s6-amd "$C1A" group)" = "$(field s6-amd "$C1V" group)" ]
}

# ---- scenario 7: a bad line and a good one ------------------------------------------

scenario7() {
	booted "$1"
	drivers "$1" bochs-drm bochs-drm snd_hda_intel vfio-pci vfio-pci
	never_native "$1" 02
	kmsg "$1" "vfio-reserve: /etc/vfio-reserve.conf:3: unknown option 'forse'" | grep -q . || {
		echo "$1: the bad line is not in the kernel log"
		show_report "$1"
		return 1
	}
	kmsg "$1" "vfio-reserve: $C2V \[1234:1111\] -> vfio-pci (rule line 4)" | grep -q .
}

@test "7. initramfs-tools, bad line 3 and good line 4: card 2 reserved, card 1 native" {
	scenario7 s7-broken-itools
}

@test "7. dracut, systemd initrd, bad line 3 and good line 4: card 2 reserved, card 1 native" {
	scenario7 s7-broken-dracut
}

# ---- scenario 8: more boot messages than one open /dev/kmsg lets through ------

# dmesg_lines SCENARIO PATTERN: the guest's dmesg dump, in order, timestamps
# cut, the lines matching PATTERN.
dmesg_lines() {
	lines "$1" | sed -n '/^DMESG-BEGIN/,/^DMESG-END/p' |
		sed 's/^\[ *[0-9.]*\] //' | grep -a -- "$2"
}

@test "8. 15 boot messages in well under 5 s: every one in dmesg, in order, none suppressed" {
	local bus line=3 want got
	booted s7-kmsg
	card1_reserved s7-kmsg
	want=$(
		for bus in 10 11 12 13 14 15 16 17 18 19 1a 1b; do
			echo "vfio-reserve: /etc/vfio-reserve.conf:$line: no device matches '0000:$bus:00.0 1234:1111'"
			line=$((line + 1))
		done
		echo "vfio-reserve: $C1V [1234:1111] -> vfio-pci (rule line 2)"
		echo "vfio-reserve: $C1A [8086:2668] -> vfio-pci (rule line 2)"
	)
	got=$(dmesg_lines s7-kmsg 'vfio-reserve: ' | head -n 14)
	[ "$got" = "$want" ] || {
		diff <(echo "$want") <(echo "$got")
		return 1
	}
	dmesg_lines s7-kmsg 'vfio-reserve: ' | sed -n 15p |
		grep -qE '^vfio-reserve: done: 2 reserved, 0 already reserved, 0 failed in [0-9]+\.[0-9]{3} ms$'
	[ "$(dmesg_lines s7-kmsg 'vfio-reserve: ' | wc -l)" = 15 ]
	# The control: the guest's 15 records through one open /dev/kmsg.
	[ "$(dmesg_lines s7-kmsg 'vfio-test: kmsg control ' | wc -l)" = 10 ]
	dmesg_lines s7-kmsg ': 5 output lines suppressed due to ratelimiting' | grep -q .
	[ "$(dmesg_lines s7-kmsg 'suppressed due to ratelimiting' | wc -l)" = 1 ]
}

# ---- scenario 9: bind, status, release and apply on a running system ---------

# tests/vm/guest/runtime.sh, after the boot reserved card 1: each command's
# lines ("out: ...", "err: ...", "status=N") and card 2's driver links
# ("ADDR driver=D override=O") after each step.
rt() {
	lines s9-runtime | grep -a "^RT $1 " | sed "s/^RT $1 //"
}

rt_links() {
	lines s9-runtime | grep -a "^RT LINK $1 " | sed "s/^RT LINK $1 //"
}

# rt_dd STEP: the driver core's messages about PCI devices while STEP ran
# (between its "vfio-test: runtime: STEP" record and the next one).
rt_dd() {
	dmesg_lines s9-runtime '' |
		sed -n "/^vfio-test: runtime: $1\$/,/^vfio-test: runtime: /p" |
		grep -aE "^(bus: 'pci': |driver: '[^']*': driver_bound: bound to device '0000:)"
}

# dd_moved DRIVER0 DRIVER1: the driver core's lines for card 2's display
# function binding DRIVER0 and its audio function binding DRIVER1.
dd_moved() {
	local addr=$C2V drv=$1
	for addr in "$C2V" "$C2A"; do
		echo "bus: 'pci': __driver_probe_device: matched device $addr with driver $drv"
		echo "bus: 'pci': really_probe: probing driver $drv with device $addr"
		echo "driver: '$drv': driver_bound: bound to device '$addr'"
		echo "bus: 'pci': really_probe: bound device $addr to driver $drv"
		drv=$2
	done
}

# same NAME WANT GOT: WANT and GOT are equal, or a diff of them.
same() {
	[ "$2" = "$3" ] || {
		echo "$1 differs (- expected, + got):"
		diff <(echo "$2") <(echo "$3")
		return 1
	}
}

# rt_status_json DRIVER0 DRIVER1 RESERVED NOT_RESERVED: what `status --json`
# says of the guest's config (one rule, line 2: card 2 by address and ID).
rt_status_json() {
	jq -cn --arg d0 "$1" --arg d1 "$2" --argjson r "$3" --argjson n "$4" \
		--argjson g "$(field s9-runtime "$C2V" group)" \
		'{rules: [{line: 2, rule: "0000:02:00.0 1234:1111", state: "matched",
		functions: [
		{address: "0000:02:00.0", id: "1234:1111", driver: $d0, target: "vfio-pci",
		 reserved: $r, iommu_group: $g, group_viable: true},
		{address: "0000:02:00.1", id: "8086:2668", driver: $d1, target: "vfio-pci",
		 reserved: $r, iommu_group: $g, group_viable: true}],
		kept_for_host: [], hardware_changes: []}],
		not_reserved: $n}'
}

card2_native="$C2V driver=bochs-drm override=(null)
$C2A driver=snd_hda_intel override=(null)"
card2_vfio="$C2V driver=vfio-pci override=vfio-pci
$C2A driver=vfio-pci override=vfio-pci"

@test "9. run time, bind $C2V: card 2's display and audio move from bochs-drm and snd_hda_intel to vfio-pci" {
	booted s9-runtime
	card1_reserved s9-runtime
	same "card 2 before" "$card2_native" "$(rt_links before)"
	same "bind's output and status" "out: vfio-reserve: $C2V [1234:1111] -> vfio-pci (command line)
out: vfio-reserve: $C2A [8086:2668] -> vfio-pci (command line)
status=0" "$(rt bind)"
	same "card 2 after bind" "$card2_vfio" "$(rt_links bind)"
	same "driver core during bind" "$(dd_moved vfio-pci vfio-pci)" "$(rt_dd bind)"
}

# rt_status STEP: what `status --json` printed at STEP, without the boot
# report (the same at every step: boot_report checks it), and its status.
rt_status() {
	rt "$1" | while IFS= read -r line; do
		case $line in
		"out: "*) printf 'out: %s\n' "$(jq -c 'del(.boot)' <<<"${line#out: }")" ;;
		*) printf '%s\n' "$line" ;;
		esac
	done
}

@test "9. run time, status --json: card 2 not reserved (exit 1), reserved after bind and apply (exit 0)" {
	booted s9-runtime
	same "status before bind" "out: $(rt_status_json bochs-drm snd_hda_intel false 2)
status=1" "$(rt_status status-before)"
	same "status after bind" "out: $(rt_status_json vfio-pci vfio-pci true 0)
status=0" "$(rt_status status-bound)"
	same "status after release" "out: $(rt_status_json bochs-drm snd_hda_intel false 2)
status=1" "$(rt_status status-released)"
	same "status after apply" "out: $(rt_status_json vfio-pci vfio-pci true 0)
status=0" "$(rt_status status-applied)"
	# The boot's report stays what the boot did, whatever ran since.
	same "the boot report after apply" "[\"$C1V [1234:1111] -> vfio-pci (rule line 2)\",\"$C1A [8086:2668] -> vfio-pci (rule line 2)\"]" \
		"$(rt status-applied | sed -n 's/^out: //p' | jq -c '[.boot.records[].message][:2]')"
}

@test "9. run time, release $C2V: display back on bochs-drm, audio on snd_hda_intel, overrides cleared" {
	booted s9-runtime
	same "release's output and status" "out: vfio-reserve: $C2V [1234:1111] released from vfio-pci, now on bochs-drm
out: vfio-reserve: $C2A [8086:2668] released from vfio-pci, now on snd_hda_intel
status=0" "$(rt release)"
	same "card 2 after release" "$card2_native" "$(rt_links release)"
	same "driver core during release" "$(dd_moved bochs-drm snd_hda_intel)" "$(rt_dd release)"
}

@test "9. run time, -c FILE apply (root-owned 0644 file, a rule for card 2): card 2 reserved" {
	booted s9-runtime
	[ "$(rt config)" = "-rw-r--r-- 0:0 regular file" ]
	same "apply's output and status" "out: vfio-reserve: $C2V [1234:1111] -> vfio-pci (rule line 2)
out: vfio-reserve: $C2A [8086:2668] -> vfio-pci (rule line 2)
status=0" "$(rt apply)"
	same "card 2 after apply" "$card2_vfio" "$(rt_links apply)"
	same "driver core during apply" "$(dd_moved vfio-pci vfio-pci)" "$(rt_dd apply)"
	# Nothing touched a PCI device while status ran.
	[ -z "$(rt_dd status-applied)" ]
}

# ---- scenario 9: what holds a function, on the real kernel (issue 18, point 3) ---

# rt_holders STEP: "PID COMM FILE" of each process the guest's own /proc
# showed holding the node of STEP (runtime.sh's holders), the oracle the
# binder's lines are held to.
rt_holders() {
	lines s9-runtime | grep -a "^RT HOLDER $1 " | sed "s/^RT HOLDER $1 //"
}

@test "9. run time, bind $C2V while a process holds card 2's DRM node: refused, naming it, nothing moved; with it gone, bind works" {
	booted s9-runtime
	local pid comm node
	[ "$(rt_holders bind-held | wc -l)" = 1 ]
	read -r pid comm node <<<"$(rt_holders bind-held)"
	[[ $node == /dev/dri/card* ]]
	same "bind's refusal" "err: vfio-reserve: $C2V is in use: PID $pid ($comm) has $node open
err: vfio-reserve: nothing was changed (--force unbinds anyway)
status=1" "$(rt bind-held)"
	same "card 2 after the refusal" "$card2_native" "$(rt_links bind-held)"
	same "driver core during the refusal" "" "$(rt_dd bind-held)"
	# The holder ended before the bind of the test above, which moved card 2.
	same "the holder that ended" "$pid $comm $node" "$(rt_holders bind-held-after)"
	same "card 2 after bind" "$card2_vfio" "$(rt_links bind)"
}

@test "9. run time, bind $C2V --force while a process holds its DRM node: a warning naming it, card 2 moves, the process keeps a deleted file" {
	booted s9-runtime
	local pid comm node
	[ "$(rt_holders bind-forced | wc -l)" = 1 ]
	read -r pid comm node <<<"$(rt_holders bind-forced)"
	same "bind --force" "out: vfio-reserve: $C2V [1234:1111] -> vfio-pci (command line)
out: vfio-reserve: $C2A [8086:2668] -> vfio-pci (command line)
err: vfio-reserve: $C2V is in use: PID $pid ($comm) has $node open: unbinding anyway (--force)
status=0" "$(rt bind-forced)"
	same "card 2 after bind --force" "$card2_vfio" "$(rt_links bind-forced)"
	same "driver core during bind --force" "$(dd_moved vfio-pci vfio-pci)" "$(rt_dd bind-forced)"
	# bochs-drm let go under it: the DRM device, and its node, are gone.
	same "the holder after" "$pid $comm $node (deleted)" "$(rt_holders bind-forced-after)"
}

@test "9. run time, release $C1V while a VFIO user holds it: refused; --force: the kernel waits for the user, the binder 10 s, and says so" {
	booted s9-runtime
	local pid comm node seconds
	[ "$(rt_holders release-held | wc -l)" = 1 ]
	read -r pid comm node <<<"$(rt_holders release-held)"
	same "the user" "vfio-bar /dev/vfio/$(field s9-runtime "$C1V" group)" "$comm $node"
	same "release's refusal" "err: vfio-reserve: $C1V is in use: PID $pid ($comm) has $node open
err: vfio-reserve: $C1A is in use: PID $pid ($comm) has $node open
err: vfio-reserve: nothing was changed (--force unbinds anyway)
status=1" "$(rt release-held)"
	same "card 1 after the refusal" "$C1V driver=vfio-pci override=vfio-pci
$C1A driver=vfio-pci override=vfio-pci" "$(rt_links release-held | grep "^$C1V\|^$C1A")"
	# The audio function's unbind finishes; its probe fails while the
	# user owns the group's DMA.
	same "release --force" "err: vfio-reserve: $C1V is in use: PID $pid ($comm) has $node open: unbinding anyway (--force)
err: vfio-reserve: $C1A is in use: PID $pid ($comm) has $node open: unbinding anyway (--force)
err: vfio-reserve: $C1V: the kernel is still unbinding it from vfio-pci after 10 s
err: vfio-reserve: $C1V is in use: PID $pid ($comm) has $node open
err: vfio-reserve: cannot write '$C1A' to /sys/bus/pci/drivers_probe: Invalid argument
status=1" "$(rt release-forced | grep -v '^seconds=')"
	seconds=$(rt release-forced | sed -n 's/^seconds=//p')
	((seconds >= 10 && seconds <= 12)) || fail "release --force took $seconds s"
	# The kernel's own word that it waits, and its driver link, gone before
	# the driver's remove returned, which is why the binder does not read it.
	same "vfio-pci waiting" "vfio-pci $C1V: No device request channel registered, blocked until released by user" \
		"$(dmesg_lines s9-runtime 'blocked until released by user')"
	same "card 1 while the kernel waits" "$C1V driver=none
$C1A driver=none" "$(rt_links release-forced | grep "^$C1V\|^$C1A")"
	same "card 1 once the user is gone" "$C1V driver=none override=(null)
$C1A driver=none override=(null)" "$(rt_links user-gone)"
}

# ---- scenario 10: a real VFIO client takes the card the boot reserved ----------

# tests/vm/guest/client.sh: Debian's qemu-system-x86_64 in the guest.
client() {
	lines "$1" | grep -a "^CLIENT $2 " | sed "s/^CLIENT $2 //"
}

scenario10() {
	local name=$1 g1 g2 pci
	booted "$name"
	# qemu's verdict first: no error, no warning (none about the option
	# ROM either: rombar=0 is not needed), a clean quit.
	same "$name: qemu on card 1" status=0 \
		"$(client "$name" reserved | grep -a -e '^err: ' -e '^status=')"
	card1_reserved "$name"
	g1=$(field "$name" "$C1V" group)
	g2=$(field "$name" "$C2V" group)
	# qemu holds the container, card 1's group and a device file open.
	same "$name: qemu's vfio files" "fd: /dev/vfio/$g1
fd: /dev/vfio/vfio
fd: anon_inode:[vfio-device]" "$(client "$name" reserved | grep -a '^fd: ')"
	# info pci, the last device: card 1's display function with its BARs.
	pci=$(client "$name" reserved | grep -a '^out: ' | grep -av '(qemu)' | tail -n 6)
	same "$name: info pci" 'out:   Bus  0, device   2, function 0:
out:     Display controller: PCI device 1234:1111
out:       PCI subsystem 1af4:1100
out:       BAR0: 32 bit prefetchable memory at 0xffffffffffffffff [0x00fffffe].
out:       BAR2: 32 bit memory at 0xffffffffffffffff [0x00000ffe].
out:       id "card1"' "$pci"
	# The twin, left to the host: its group has no vfio device file.
	same "$name: qemu on the twin" "err: qemu-system-x86_64: -device vfio-pci,host=$C2V,id=twin: vfio $C2V: failed to open /dev/vfio/$g2: No such file or directory
status=1" "$(client "$name" twin | grep -a -e '^err: ' -e '^status=')"
}

@test "10. VFIO client, initramfs-tools: qemu in the guest takes card 1 through /dev/vfio; the twin is refused" {
	scenario10 s10-client-itools
}

@test "10. VFIO client, dracut systemd initrd: qemu in the guest takes card 1 through /dev/vfio; the twin is refused" {
	scenario10 s10-client-dracut-systemd
}

@test "10. VFIO client, dracut shell init: qemu in the guest takes card 1 through /dev/vfio; the twin is refused" {
	scenario10 s10-client-dracut-shell
}

# ---- scenario 11: the arguments `vfio-reserve cmdline` prints; card 3 fitted after update

C3V=0000:03:00.0
C3A=0000:03:00.1

# tagged SCENARIO TAG: what follows "TAG " on the guest's console lines.
tagged() {
	lines "$1" | grep -a "^$2 " | cut -d' ' -f2-
}

# count_arg CMDLINE NAME: how many arguments of CMDLINE set parameter NAME.
count_arg() {
	local arg n=0
	for arg in $1; do
		[[ $arg =~ ^$2= ]] && n=$((n + 1))
	done
	echo "$n"
}

card3_native() {
	local v a
	v=$(field "$1" "$C3V" driver)
	a=$(field "$1" "$C3A" driver)
	if [ "$v" != bochs-drm ] || [ "$a" != snd_hda_intel ]; then
		echo "$1: card 3 is on '${v:-?}' and '${a:-?}', expected bochs-drm and snd_hda_intel"
		show_report "$1"
		return 1
	fi
}

# card3_boot SCENARIO TAIL: booted with the arguments s11-update's guest got
# from `vfio-reserve cmdline`, then TAIL; the harness added no IOMMU
# argument of its own, and none set vfio-pci.ids.
card3_boot() {
	local name=$1 tail=$2 args proc
	booted "$name"
	args=$(tagged s11-update CMDLINE-ARGS)
	[ -n "$args" ]
	[ "$(cat "$VM_OUT/$name.args")" = "--card3 --intel-cpu --no-iommu-args $args $tail" ]
	proc=$(tagged "$name" PROC-CMDLINE)
	case $proc in
	*" $args $tail") ;;
	*)
		echo "$name: /proc/cmdline does not end with '$args $tail': $proc"
		return 1
		;;
	esac
	[ "$(count_arg "$proc" intel_iommu)" = 1 ]
	[ "$(count_arg "$proc" iommu)" = 1 ]
	[ "$(count_arg "$proc" 'vfio[-_]pci\.ids')" = 0 ]
	# Card 3 is there, with an IOMMU group of its own.
	[ "$(field "$name" "$C3V" group)" = "$(field "$name" "$C3A" group)" ]
	[ "$(field "$name" "$C3V" group)" != "$(field "$name" "$C1V" group)" ]
	[ "$(field "$name" "$C3V" group)" != "$(field "$name" "$C2V" group)" ]
}

@test "11. vfio-reserve cmdline, run in the guest on cards 1 and 2 with the image's config: the IOMMU switches only" {
	booted s11-update
	[ "$(tagged s11-update CMDLINE-STATUS)" = 0 ]
	[ "$(tagged s11-update CMDLINE-ARGS)" = "intel_iommu=on iommu=pt" ]
	# The image was built from the same file the guest's cmdline read.
	cmp "$BATS_TEST_DIRNAME/guest/cards12.conf" "$VM_OUT/rootfs.d/test/cards12.conf"
	# The harness gave this boot no IOMMU argument, and it had no card 3.
	refute grep -q iommu < <(tagged s11-update PROC-CMDLINE)
	[ -z "$(field s11-update "$C3V" driver)" ]
}

@test "11. card 3 fitted after update, booted with cmdline's arguments: cards 1 and 2 on vfio-pci, card 3 and the boot VGA native" {
	booted s11-card3
	drivers s11-card3 bochs-drm vfio-pci vfio-pci vfio-pci vfio-pci
	card3_native s11-card3
	card3_boot s11-card3 vfio_test=cards
	never_native s11-card3 01
	never_native s11-card3 02
	kmsg s11-card3 "vfio-reserve: $C1V \[1234:1111\] -> vfio-pci (rule line 4)" | grep -q .
	kmsg s11-card3 "vfio-reserve: $C1A \[8086:2668\] -> vfio-pci (rule line 4)" | grep -q .
	kmsg s11-card3 "vfio-reserve: $C2V \[1234:1111\] -> vfio-pci (rule line 5)" | grep -q .
	kmsg s11-card3 "vfio-reserve: $C2A \[8086:2668\] -> vfio-pci (rule line 5)" | grep -q .
	[ -z "$(kmsg s11-card3 "vfio-reserve: $C3V")" ]
	[ -z "$(kmsg s11-card3 "vfio-reserve: $C3A")" ]
}

@test "11. card 3 fitted, the same image and arguments with vfio_reserve=off: every function native" {
	booted s11-card3-off
	all_native s11-card3-off
	card3_native s11-card3-off
	card3_boot s11-card3-off "vfio_reserve=off vfio_test=cards"
	kmsg s11-card3-off "vfio-reserve: disabled by 'vfio_reserve=off'" | grep -q .
}

# ---- scenario 12: UEFI (OVMF), the boot VGA forced ---------------------------------

# bar0_iomem SCENARIO: BAR 0 of the boot VGA as /proc/iomem writes it.
bar0_iomem() {
	local start end
	read -r start end < <(tagged "$1" BAR0)
	printf '%08x-%08x\n' "$((start))" "$((end))"
}

# iomem_below SCENARIO TAG RANGE OWNER: the line after "RANGE : OWNER" in
# the guest's TAG lines (/proc/iomem), that is what claimed it, if anything.
iomem_below() {
	lines "$1" | awk -v tag="$2" -v want="$3 : $4" '
		$1 != tag { next }
		found { sub(/^[^ ]* /, ""); print; exit }
		{ line = $0; sub(/^[^ ]* +/, "", line) }
		line == want { found = 1 }'
}

# The firmware framebuffer had the boot VGA at boot: efifb, in its BAR 0.
efifb_at_boot() {
	local start
	read -r start _ < <(tagged "$1" BAR0)
	tagged "$1" FBLOG | grep -qx "efifb: framebuffer at 0x$(printf '%x' "$((start))"), using .*"
	tagged "$1" FBLOG | grep -qx 'fb0: EFI VGA frame buffer device'
	[ "$(tagged "$1" BOOT-VGA)" = 1 ]
}

@test "12. UEFI, boot VGA forced: vfio-pci holds it and removed the firmware framebuffer (efifb) that had it" {
	local bar0 after below
	booted s12-uefi-force
	efifb_at_boot s12-uefi-force
	drivers s12-uefi-force vfio-pci bochs-drm snd_hda_intel bochs-drm snd_hda_intel
	kmsg s12-uefi-force "vfio-reserve: $VGA \[1234:1111\] -> vfio-pci (rule line 3)" | grep -q .
	# vfio-pci's probe (aperture_remove_conflicting_pci_devices): efifb
	# goes, fbcon falls back to the dummy console, then the VGA console.
	after=$(tagged s12-uefi-force FBLOG | grep -A2 -x 'fb0: EFI VGA frame buffer device')
	[ "$after" = "fb0: EFI VGA frame buffer device
Console: switching to colour dummy device 80x25
vfio-pci $VGA: vgaarb: deactivate vga console" ]
	# No framebuffer left on the boot VGA, none from the firmware, and
	# nothing claims its BAR 0 until a VFIO user opens it.
	refute grep -a "^FB .*device=$VGA\$" < <(lines s12-uefi-force)
	refute grep -a '^FB .*name=EFI VGA' < <(lines s12-uefi-force)
	bar0=$(bar0_iomem s12-uefi-force)
	below=$(iomem_below s12-uefi-force IOMEM "$bar0" "$VGA")
	echo "below BAR 0 ($bar0) in /proc/iomem: '$below'"
	[ -n "$below" ]
	[[ $below =~ ^\ \ [0-9a-f] ]]
	refute grep -a 'efifb\|BOOTFB' < <(tagged s12-uefi-force IOMEM)
}

@test "12. UEFI, boot VGA forced: its BARs are usable through VFIO (BAR 0 mapped, written, read back; BAR 2 read)" {
	local bar0
	booted s12-uefi-force
	[ "$(field s12-uefi-force "$VGA" driver)" = vfio-pci ]
	tagged s12-uefi-force VFIO-BAR | grep -qx 'group [0-9]* viable=yes'
	tagged s12-uefi-force VFIO-BAR | grep -qx "device $VGA open"
	tagged s12-uefi-force VFIO-BAR | grep -qx 'bar0 size=0x1000000 mmap=yes'
	tagged s12-uefi-force VFIO-BAR | grep -qx 'bar0 mmap: 8192 bytes written and read back'
	# The Bochs DISPI ID register, read from the device through vfio-pci.
	tagged s12-uefi-force VFIO-BAR | grep -qx 'bar2 0x500=0xb0c[0-5]'
	refute grep -a error < <(tagged s12-uefi-force VFIO-BAR)
	[ "$(tagged s12-uefi-force TEST-END)" = "uefi 0" ]
	# While open: vfio-pci has BAR 0 (the mapping requested it), whole.
	bar0=$(bar0_iomem s12-uefi-force)
	[ "$(iomem_below s12-uefi-force IOMEM-OPEN "$bar0" "$VGA")" = "    $bar0 : vfio-pci" ]
}

@test "12. UEFI, the same image with vfio_reserve=off: the console driver (bochs-drm, fbcon's primary) has the boot VGA" {
	local bar0
	booted s12-uefi-off
	efifb_at_boot s12-uefi-off
	all_native s12-uefi-off
	kmsg s12-uefi-off "vfio-reserve: disabled by 'vfio_reserve=off'" | grep -q .
	lines s12-uefi-off | grep -aqx "FB fb0 name=bochs-drmdrmfb device=$VGA"
	tagged s12-uefi-off FBLOG | grep -qx 'fbcon: bochs-drmdrmfb (fb0) is primary device'
	bar0=$(bar0_iomem s12-uefi-off)
	[ "$(iomem_below s12-uefi-off IOMEM "$bar0" "$VGA")" = "    $bar0 : bochs-drm" ]
	refute grep -a '^VFIO-BAR' < <(lines s12-uefi-off)
}

@test "12. vfio-reserve cmdline for the forced boot VGA, Linux 6.1 the only kernel: no initcall_blacklist=sysfb_init" {
	booted s12-uefi-force
	lines s12-uefi-force | grep -aq '^GUEST-INIT rootfs 6\.1\.'
	[ "$(ls "$VM_OUT/rootfs.d/lib/modules")" = "$(cat "$VM_OUT/kernel-version")" ]
	[ "$(tagged s12-uefi-force CMDLINE-STATUS)" = 0 ]
	[ "$(tagged s12-uefi-force CMDLINE-ARGS)" = "intel_iommu=on iommu=pt" ]
}

# ---- scenario 13: reset=METHOD, set before vfio-pci binds --------------------

NVME=0000:03:00.0

# methods SCENARIO ADDR: what the guest read from ADDR's reset_method.
methods() {
	tagged "$1" RESET | awk -v a="$2" '$1 == a { $1 = ""; sub(/^ /, ""); print }'
}

# The kernel's default for the NVMe drive (QEMU's has FLR, and it is alone
# behind its root port) is "flr bus": "bus" alone is the rule's doing.
@test "13. reset=bus: the NVMe drive's reset_method reads 'bus' in the guest, and it is on vfio-pci" {
	booted r13-reset
	[ "$(methods r13-reset "$NVME")" = bus ]
	[ "$(field r13-reset "$NVME" driver)" = vfio-pci ]
	# card 1 has no reset=: its methods are the kernel's
	[ "$(methods r13-reset "$C1V")" = bus ]
	[ "$(methods r13-reset "$C1A")" = - ]
}

@test "13. reset=bus: the binder read 'bus' back before the driver core first probed vfio-pci with the drive" {
	local set probe
	booted r13-reset
	set=$(dmesg_lines r13-reset '' | grep -an "vfio-reserve: /sys/bus/pci/devices/$NVME/reset_method reads 'bus'" |
		head -n 1 | cut -d: -f1)
	probe=$(dmesg_lines r13-reset '' | grep -an "probing driver vfio-pci with device $NVME" |
		head -n 1 | cut -d: -f1)
	[ -n "$set" ] || { echo "no read-back line in the kernel log"; show_report r13-reset; return 1; }
	[ -n "$probe" ] || { echo "no vfio-pci probe of $NVME: dyndbg not working?"; return 1; }
	[ "$set" -lt "$probe" ] || { echo "reset_method set at line $set, vfio-pci probed at $probe"; return 1; }
	kmsg r13-reset "vfio-reserve: $NVME \[1b36:0010\] -> vfio-pci (rule line 6)" | grep -q .
}

@test "13. check in the guest: card 1's display function can only be reset with its audio; the drive takes reset=bus" {
	booted r13-reset
	local check
	check=$(tagged r13-reset RESET-CHECK)
	grep -qxF "WARN line 5: /sys/bus/pci/devices/$C1V/reset_method: bus: no reset of its own ('bus' resets the functions beside it)" <<<"$check" &&
		grep -qxF "OK   line 6: /sys/bus/pci/devices/$NVME/reset_method: bus, reset=bus" <<<"$check" &&
		refute grep -qF "$C1A/" <<<"$check" || {
		echo "check said:"
		echo "$check"
		return 1
	}
}

# ---- scenario 14: SR-IOV VFs at boot, one reserved before nvme sees it --------

# QEMU's SR-IOV NVMe controller (--nvme-sriov) at 03:00.0, its VFs at
# 03:00.1-3; the image's config (guest/sriov.conf) says vfs=3 vf=1.  nvme,
# in the image, binds the PF after the binder's early run; udev's bind event
# runs the binder again (udev/vfio-reserve-sriov.rules).
PF=0000:03:00.0
VF0=0000:03:00.1
VF1=0000:03:00.2
VF2=0000:03:00.3

@test "14. vfs=3 vf=1: the PF on nvme has 3 VFs, VF 1 is on vfio-pci, autoprobe is back on" {
	booted v14-sriov
	[ "$(field v14-sriov "$PF" driver)" = nvme ] || { show_report v14-sriov; return 1; }
	[ "$(tagged v14-sriov SRIOV)" = "numvfs 3
autoprobe 1" ] || { tagged v14-sriov SRIOV; show_report v14-sriov; return 1; }
	[ "$(tagged v14-sriov SRIOV-VF | grep -c "physfn=$PF")" = 3 ]
	tagged v14-sriov SRIOV-VF | grep -qxF "$VF1 physfn=$PF driver=vfio-pci"
	# The binder's read-back, from the run udev started on the PF's bind.
	kmsg v14-sriov "vfio-reserve: $VF1: VF 1: vfio-pci" | grep -q .
}

# nvme's probe says "nvme nvmeN: pci function ADDR" for each function it
# takes on.  The driver core matches nvme with every new VF (dd.c's "probing
# driver nvme" lines), but the PCI core refuses the probe of a VF whose PF
# has autoprobe 0 and which has no override (pci_device_can_probe), before
# nvme's probe runs: only the nvme lines say what nvme saw.
@test "14. nvme never saw VF 1; it took VFs 0 and 2 after VF 1 was on vfio-pci" {
	local reserved first_native
	booted v14-sriov
	[ -z "$(kmsg v14-sriov "nvme nvme[0-9]*: pci function $VF1")" ] || {
		echo "nvme probed $VF1:"
		kmsg v14-sriov "$VF1"
		return 1
	}
	dmesg_lines v14-sriov "probing driver vfio-pci with device $VF1" | grep -q . || {
		echo "no vfio-pci probe of $VF1: dyndbg not working?"
		return 1
	}
	kmsg v14-sriov "nvme nvme[0-9]*: pci function $VF0" | grep -q .
	kmsg v14-sriov "nvme nvme[0-9]*: pci function $VF2" | grep -q .
	reserved=$(lines v14-sriov | grep -an "vfio-reserve: $VF1: VF 1: vfio-pci" | head -n 1 | cut -d: -f1)
	first_native=$(lines v14-sriov | grep -anE "nvme nvme[0-9]+: pci function ($VF0|$VF2)" |
		head -n 1 | cut -d: -f1)
	[ -n "$reserved" ] && [ "$reserved" -lt "$first_native" ] || {
		echo "VF 1 on vfio-pci at console line '$reserved', nvme took a VF at $first_native"
		return 1
	}
	kmsg v14-sriov "vfio-reserve: $VF0: VF 0: nvme" | grep -q .
}

@test "14. the kill switch: no VF is created, the PF is nvme's as on a host without vfio-reserve" {
	booted v14-sriov-off
	[ "$(field v14-sriov-off "$PF" driver)" = nvme ]
	[ "$(tagged v14-sriov-off SRIOV)" = "numvfs 0
autoprobe 1" ]
	[ -z "$(tagged v14-sriov-off SRIOV-VF)" ]
	refute dmesg_lines v14-sriov-off "probing driver [a-z_-]* with device 0000:03:00\.[1-7]"
	[ "$(field v14-sriov-off "$C1V" driver)" = bochs-drm ]
}

# ---- the modprobe path, the early hooks left out (issue 12) ------------------

MODPROBE_FILE=etc/modprobe.d/00-vfio-reserve.conf

# What `vfio-reserve update` wrote for the VM (vm_modprobe_host): bochs and
# snd_hda_intel, resolved from card 1's modaliases through the kernel's own
# modules.alias, and the install command.
@test "modprobe path: update --root on the VM's functions writes softdeps for bochs and snd_hda_intel" {
	cat "$VM_OUT/modprobe-host.log"
	grep -a "vfio-reserve: wrote $VM_OUT/modprobe-host/$MODPROBE_FILE" \
		"$VM_OUT/modprobe-host.log"
	[ "$(grep -v '^#' "$VM_OUT/modprobe-host/$MODPROBE_FILE")" = 'softdep bochs pre: vfio_pci
softdep snd_hda_intel pre: vfio_pci
install vfio_pci /usr/sbin/vfio-reserve apply --boot --unbound; /sbin/modprobe --ignore-install vfio_pci $CMDLINE_OPTS' ]
}

@test "modprobe path images: binder, config, modprobe file and vfio-pci; no early hook, no 00load-gpu" {
	local img f
	for img in itools-modprobe itools-modprobe-late dracut-modprobe itools-both; do
		for f in usr/sbin/vfio-reserve etc/vfio-reserve.conf "$MODPROBE_FILE" \
			vfio/pci/vfio-pci.ko; do
			image_has "$img" "$f" || { echo "$img.img lacks $f"; return 1; }
		done
	done
	for img in itools-modprobe itools-modprobe-late; do
		refute image_has "$img" conf/conf.d/vfio-reserve
		refute image_has "$img" scripts/init-top/00load-gpu
	done
	image_has itools-modprobe gpu/drm/tiny/bochs.ko
	image_has itools-modprobe snd-hda-intel.ko
	refute image_has itools-modprobe-late gpu/drm/tiny/bochs.ko
	refute image_has itools-modprobe-late snd-hda-intel.ko
	refute image_has dracut-modprobe vfio-reserve.service
	refute image_has dracut-modprobe 'hooks/cmdline/00-vfio-reserve'
	image_has dracut-modprobe gpu/drm/tiny/bochs.ko
	# The images with both paths: the early hook is there too; dracut,
	# not hostonly, has the modprobe file from the module alone.
	image_has itools-both conf/conf.d/vfio-reserve
	image_has dracut-both "$MODPROBE_FILE"
	image_has dracut-both 'sysinit.target.wants/vfio-reserve.service'
	# Without the file on the host, the images have none.
	refute image_has itools-card1 "$MODPROBE_FILE"
	refute image_has dracut-systemd "$MODPROBE_FILE"
}

# modprobe_first SCENARIO: the binder's --unbound runs (the install command)
# wrote card 1's overrides before any native driver probed anything.  udev
# loads drivers from several workers at once: each one that finds vfio_pci
# not loaded yet runs the install command, so there may be several runs,
# each one --unbound, none failing.
modprobe_first() {
	local name=$1 done_at probe_at runs
	dmesg_lines "$name" "vfio-reserve: $C1V \[1234:1111\] -> vfio-pci (rule line 2)" | grep -q . &&
		dmesg_lines "$name" "vfio-reserve: $C1A \[8086:2668\] -> vfio-pci (rule line 2)" | grep -q . || {
		echo "$name: the binder reserved nothing"
		show_report "$name"
		return 1
	}
	runs=$(dmesg_lines "$name" 'vfio-reserve: done' | wc -l)
	echo "$name: $runs runs of the binder"
	[ "$runs" -ge 1 ]
	[ "$(dmesg_lines "$name" 'vfio-reserve: done' | grep -cE \
		'^vfio-reserve: done \(--unbound\): [0-9]+ reserved, [0-9]+ already reserved, 0 failed in ')" = "$runs" ]
	done_at=$(dmesg_lines "$name" . | grep -an 'vfio-reserve: done (--unbound)' | head -n 1 | cut -d: -f1)
	probe_at=$(dmesg_lines "$name" . |
		grep -anE 'probing driver (bochs-drm|snd_hda_intel) with device' | head -n 1 | cut -d: -f1)
	echo "$name: binder done at dmesg line $done_at, first native probe at line $probe_at"
	[ -n "$done_at" ] && [ -n "$probe_at" ] && [ "$done_at" -lt "$probe_at" ]
}

@test "modprobe path, initramfs-tools without conf.d: udev loading bochs runs the binder first, card 1 never reaches bochs" {
	booted m1-itools
	card1_reserved m1-itools
	never_native m1-itools 01
	modprobe_first m1-itools
	boot_report m1-itools " (--unbound)"
	# Nothing of the early path ran: no conf.d piece, no 00load-gpu.
	[ -z "$(kmsg m1-itools 'vfio-test: init-top/00load-gpu')" ]
}

@test "modprobe path, dracut systemd initrd without the module's unit: udev loading bochs runs the binder first, card 1 never reaches bochs" {
	booted m1-dracut
	card1_reserved m1-dracut
	never_native m1-dracut 01
	modprobe_first m1-dracut
	boot_report m1-dracut " (--unbound)"
	[ -z "$(kmsg m1-dracut 'Starting vfio-reserve.service')" ]
}

@test "modprobe path, after switch_root: bochs and snd-hda-intel loaded from the root file system leave card 1 alone" {
	local mark_at done_at
	booted m1-late
	card1_reserved m1-late
	never_native m1-late 01
	modprobe_first m1-late
	# No binder in the initramfs: the report is the install command's.
	boot_report m1-late " (--unbound)"
	# The binder ran from the root file system's modprobe.d, after the
	# guest's init started loading the drivers.
	mark_at=$(dmesg_lines m1-late . | grep -an 'vfio-test: rootfs init: loading native drivers' |
		cut -d: -f1)
	done_at=$(dmesg_lines m1-late . | grep -an 'vfio-reserve: done (--unbound)' | head -n 1 |
		cut -d: -f1)
	echo "rootfs init mark at $mark_at, binder done at $done_at"
	[ -n "$mark_at" ] && [ "$mark_at" -lt "$done_at" ]
}

@test "modprobe path, vfio_reserve=off: the install command reserves nothing, everything native" {
	booted m2-itools
	all_native m2-itools
	kmsg m2-itools "vfio-reserve: disabled by 'vfio_reserve=off'" | grep -q .
	[ -z "$(kmsg m2-itools 'vfio-reserve: done')" ]
	boot_report_off m2-itools vfio_reserve=off
}

@test "both paths: the early binder loads vfio-pci with --ignore-install, the install command never runs" {
	local name
	for name in m3-both m3-dracut-both; do
		scenario1 "$name"
		boot_report "$name"
		[ "$(dmesg_lines "$name" 'vfio-reserve: done' | wc -l)" = 1 ] || {
			echo "$name: more than one run of the binder:"
			dmesg_lines "$name" 'vfio-reserve: done'
			return 1
		}
		[ -z "$(dmesg_lines "$name" 'vfio-reserve: done (--unbound)')" ]
	done
	kmsg m3-dracut-both 'Starting vfio-reserve.service' | grep -q .
}

# ---- the build host's own root disk (issue 16) -------------------------------
#
# The hostroot images (and dracut-systemd's, to spare a dracut run) are built
# from a config whose line 3 is a rule for the PCI function that holds / on
# the machine they are built on (this project's machines and CI's: /dev/vda,
# a virtio-blk at 0000:00:02.0, 1af4:1042); line 2 is card 1's rule.  The guests boot with their root disk at that
# address with that ID (vm_boot --root-as-host).

LEFT_OUT='#vfio-reserve image: left out, the host needs what it takes: '

# host_root: sets ROOT_ADDR and ROOT_ID to the build host's root disk
# function, or skips (with the reason) where / is not on a PCI function.
host_root() {
	if [ -e "$VM_OUT/itools-hostroot.skipped" ]; then
		skip "$(cat "$VM_OUT/itools-hostroot.skipped")"
	fi
	read -r ROOT_ADDR ROOT_ID <"$VM_OUT/host-root"
	[ -n "$ROOT_ID" ]
}

# guest_root SCENARIO: host_root, and skips where qemu could not put the
# guest's root disk at that address with that ID.
guest_root() {
	host_root
	if [ -e "$VM_OUT/$1.skipped" ]; then
		skip "$(cat "$VM_OUT/$1.skipped")"
	fi
}

@test "image builds with a rule for the build host's root disk: mkinitramfs and dracut exit 0, warn with file and line, the image's config has only that line commented out" {
	local img
	host_root
	for img in itools-hostroot dracut-systemd; do
		[ -e "$VM_OUT/$img.ready" ] || { tail -n 20 "$VM_OUT/$img.build.log"; return 1; }
		grep -aFx "vfio-reserve: /etc/vfio-reserve.conf:3: $ROOT_ADDR [$ROOT_ID] holds the file system on /: the host needs it (add 'force' to take it anyway)" \
			"$VM_OUT/$img.build.log"
		grep -aFx "vfio-reserve: /etc/vfio-reserve.conf:3: left out of the initramfs: it reserves nothing at boot" \
			"$VM_OUT/$img.build.log"
		# The host's config is left as it was.
		[ "$(sed -n 3p "$VM_OUT/$img.host.conf")" = "$ROOT_ADDR $ROOT_ID" ]
		diff <(sed "3s/^/$LEFT_OUT/" "$VM_OUT/$img.host.conf") "$VM_OUT/$img.conf"
		for f in usr/sbin/vfio-reserve vfio/pci/vfio-pci.ko; do
			image_has "$img" "$f" || { echo "$img.img lacks $f"; return 1; }
		done
	done
}

@test "image build with the build host's root disk rule saying 'force': the image carries it as it is" {
	host_root
	[ -e "$VM_OUT/itools-hostroot-force.ready" ]
	[ "$(sed -n 3p "$VM_OUT/itools-hostroot-force.host.conf")" = "$ROOT_ADDR $ROOT_ID force" ]
	cmp "$VM_OUT/itools-hostroot-force.host.conf" "$VM_OUT/itools-hostroot-force.conf"
	[ "$(grep -a 'vfio-reserve: ' "$VM_OUT/itools-hostroot-force.build.log")" = "vfio-reserve: /etc/vfio-reserve.conf:3: $ROOT_ADDR [$ROOT_ID] holds the file system on /: taken anyway (force)" ]
}

@test "vfio-reserve cmdline (update's first step) refuses the same config: exit 1, the rule stays in the config" {
	host_root
	[ "$(cat "$VM_OUT/check-hostroot-cmdline.rc")" = 1 ]
	[ "$(cat "$VM_OUT/check-hostroot-cmdline.log")" = "vfio-reserve: /etc/vfio-reserve.conf:3: $ROOT_ADDR [$ROOT_ID] holds the file system on /: the host needs it (add 'force' to take it anyway)
vfio-reserve: /etc/vfio-reserve.conf:3: the rule stays in the config: every initramfs built on this host leaves it out, with a warning, until it is changed or says 'force'" ]
}

@test "boot: the image built with the build host's root disk rule, on a guest whose root disk is that function: root mounted, the disk on virtio-pci, card 1 on vfio-pci" {
	guest_root g1-hostroot
	booted g1-hostroot
	lines g1-hostroot | grep -aq 'EXT4-fs (vda): mounted filesystem'
	lines g1-hostroot | grep -aqx "REPORT $ROOT_ADDR $ROOT_ID 010000 group=[0-9]* driver=virtio-pci override=(null)"
	card1_reserved g1-hostroot
	never_native g1-hostroot 01
	reserved_log g1-hostroot "$C1V" 1234:1111
	[ -z "$(kmsg g1-hostroot "vfio-reserve: .*$ROOT_ADDR")" ]
}

# The control: without the guard's work at build time, the boot takes the
# root disk.  initramfs-tools waits at least 30 s for the root device
# (scripts/local: max(30, rootdelay)); panic=-1 then ends the VM.
@test "control, boot: the same rule with 'force' in the image: the binder takes the root disk, the root never appears" {
	guest_root g2-hostroot-force
	[ "$(cat "$VM_OUT/g2-hostroot-force.rc")" = 0 ]
	lines g2-hostroot-force | grep -aq "vfio-reserve: $ROOT_ADDR \[$ROOT_ID\] -> vfio-pci (rule line 3)"
	lines g2-hostroot-force | grep -aq "bus: 'pci': really_probe: bound device $ROOT_ADDR to driver vfio-pci"
	lines g2-hostroot-force | grep -aqx 'Gave up waiting for root file system device.  Common problems:'
	lines g2-hostroot-force | grep -aqx 'ALERT!  /dev/vda does not exist.  Dropping to a shell!'
	refute grep -aq "probing driver virtio-pci with device $ROOT_ADDR" < <(lines g2-hostroot-force)
	refute grep -aq '^GUEST-INIT' < <(lines g2-hostroot-force)
}

# ---- 13. the trial boot through real GRUB ------------------------------------------
# One BIOS disk image (tests/vm/grub.sh): GRUB's boot.img and core.img, an
# ext4 /boot with the initramfs built with card 1's rule as the config and
# card 2's as the last confirmed one, and a grub.cfg the real grub-mkconfig
# made with the installed 09_vfio-reserve and drop-in. Booted in turn
# (t1-grub-trial-STEP), the grubenv read back with grub-editenv between boots.

T=t1-grub-trial

# grubenv_of STEP before|after: the grubenv variables before the boot or after it.
grubenv_of() {
	case $2 in
	before) cat "$VM_OUT/$T-$1.before" ;;
	after) cat "$VM_OUT/$T-$1.grubenv" ;;
	esac
}

# The command line GRUB gave the boot (guest/grub.sh).
proc_cmdline() {
	lines "$T-$1" | sed -n 's/^PROC-CMDLINE //p'
}

# The command line of grub.cfg's first entry (tests/vm/grub.sh) up to the
# trial's argument.
trial_cmdline() {
	echo "BOOT_IMAGE=/vmlinuz-$(cat "$VM_OUT/kernel-version") root=/dev/vda ro console=ttyS0 panic=-1 intel_iommu=on iommu=pt log_buf_len=4M"
}

card2_reserved() {
	drivers "$1" bochs-drm bochs-drm snd_hda_intel vfio-pci vfio-pci
}

@test "13. GRUB's grub.cfg from the real grub-mkconfig: the trial block before the entries, \${vfio_reserve_arg} on each linux line" {
	local cfg=$VM_OUT/$T.grub.cfg
	grep -qx '  save_env vfio_reserve_trial' "$cfg"
	run awk '$1 == "linux" && !/ \$\{vfio_reserve_arg\} / { print }' "$cfg"
	[ -z "$output" ] || { echo "linux lines without the argument: $output"; return 1; }
	[ "$(grep -c '^[[:space:]]*linux[[:space:]]' "$cfg")" -ge 1 ]
}

@test "13a. GRUB trial boot (grubenv armed, as update leaves it): the new reservation, card 1; GRUB recorded trying" {
	booted "$T-a"
	same "$T-a: grubenv before" vfio_reserve_trial=armed "$(grubenv_of a before)"
	same "$T-a: /proc/cmdline" "$(trial_cmdline) vfio_test=grub" "$(proc_cmdline a)"
	card1_reserved "$T-a"
	same "$T-a: grubenv after" vfio_reserve_trial=trying "$(grubenv_of a after)"
}

@test "13b. the boot after an unconfirmed trial: GRUB adds vfio_reserve=previous, the confirmed reservation (card 2) and not card 1; grubenv reverted" {
	booted "$T-b"
	same "$T-b: /proc/cmdline" "$(trial_cmdline) vfio_reserve=previous vfio_test=grub" "$(proc_cmdline b)"
	card2_reserved "$T-b"
	kmsg "$T-b" "vfio-reserve: 'vfio_reserve=previous': the trial boot of a new reservation went unconfirmed" | grep -q .
	same "$T-b: grubenv after" vfio_reserve_trial=reverted "$(grubenv_of b after)"
}

@test "13b. and every boot after it, until confirmed or updated: still vfio_reserve=previous, still reverted" {
	booted "$T-b2"
	same "$T-b2: /proc/cmdline" "$(trial_cmdline) vfio_reserve=previous vfio_test=grub" "$(proc_cmdline b2)"
	card2_reserved "$T-b2"
	same "$T-b2: grubenv after" vfio_reserve_trial=reverted "$(grubenv_of b2 after)"
}

@test "13c. the trial confirmed (its grubenv with the variable unset, as confirm leaves it): the new reservation stays" {
	booted "$T-c"
	same "$T-c: grubenv before" '' "$(grubenv_of c before)"
	same "$T-c: /proc/cmdline" "$(trial_cmdline) vfio_test=grub" "$(proc_cmdline c)"
	card1_reserved "$T-c"
	same "$T-c: grubenv after" '' "$(grubenv_of c after)"
}

@test "13d. no trial (a grubenv never armed, as update --no-trial leaves it): the new reservation stays" {
	booted "$T-d"
	same "$T-d: /proc/cmdline" "$(trial_cmdline) vfio_test=grub" "$(proc_cmdline d)"
	card1_reserved "$T-d"
	same "$T-d: grubenv after" '' "$(grubenv_of d after)"
}

@test "13e. /boot/grub where GRUB cannot write grubenv (grub-probe says btrfs): no trial block, the boot is as without the trial, grubenv untouched" {
	run sed -n '/^### BEGIN \/etc\/grub.d\/09_vfio-reserve ###$/,/^### END/p' "$VM_OUT/$T-e.grub.cfg"
	same "$T-e: grub.cfg's block" "### BEGIN /etc/grub.d/09_vfio-reserve ###
# vfio-reserve: no trial boot: GRUB cannot write its environment block on btrfs (/boot/grub/grubenv)
### END /etc/grub.d/09_vfio-reserve ###" "$output"
	booted "$T-e"
	same "$T-e: /proc/cmdline" "$(trial_cmdline) vfio_test=grub" "$(proc_cmdline e)"
	card1_reserved "$T-e"
	same "$T-e: grubenv after" vfio_reserve_trial=armed "$(grubenv_of e after)"
}

# ---- 13. the trial boot on systemd-boot --------------------------------------
#
# tests/vm/sdboot.sh: OVMF boots Debian's systemd-boot from a FAT ESP that
# holds the kernel, the itools-trial image (card 1's rule: the new
# reservation; card 2's rule the last confirmed one) and kernel-install's
# entry for them; the
# installed trial-systemd-boot arms and ends the trial on it, and the boots
# follow each other on the same disk image. The guest reads back what
# systemd-boot told it (guest/sdtrial.sh): the kernel command line, the EFI
# variables LoaderEntrySelected and LoaderBootCountPath, the entry files on
# the ESP; the host reads the file names on the image after each boot
# (mdir).

# sd_booted SCENARIO SELECTED COUNT-PATH: the boot finished, systemd-boot
# booted the entry SELECTED (its file name when it started; lower case) and
# counted a try in COUNT-PATH (- for none).
sd_booted() {
	booted "$1"
	[ "$(tagged "$1" TEST-END)" = "sdtrial 0" ] || { tagged "$1" TEST-END; return 1; }
	[ "$(tagged "$1" SDBOOT-VAR)" = "LoaderEntrySelected=$2
LoaderBootCountPath=$3" ] || { tagged "$1" SDBOOT-VAR; return 1; }
}

# sd_cmdline SCENARIO: the vfio_reserve= words of the kernel command line
# the guest booted with, one a line.
sd_cmdline() {
	tagged "$1" SDBOOT-CMDLINE | tr ' ' '\n' | grep -a '^vfio_reserve=' || :
}

# sd_entries SCENARIO ENTRY...: the entry files on the ESP, as the guest saw
# them after systemd-boot started it and as the host reads them on the
# image after the boot.
sd_entries() {
	local name=$1 want
	shift
	want=$(printf '%s\n' "$@")
	[ "$(tagged "$name" SDBOOT-ENTRY)" = "$want" ] || { echo "guest:"; tagged "$name" SDBOOT-ENTRY; return 1; }
	[ "$(cat "$VM_OUT/$name.entries")" = "$want" ] || { echo "host:"; cat "$VM_OUT/$name.entries"; return 1; }
}

@test "13. systemd-boot, trial armed: it boots the trial entry once, counting the try in its name; the new reservation (card 1 on vfio-pci)" {
	local kver
	kver=$(cat "$VM_OUT/kernel-version")
	[ "$(cat "$VM_OUT/sd-arm.rc")" = 0 ] || { cat "$VM_OUT/sd-arm.log"; return 1; }
	[ "$(cat "$VM_OUT/sd-arm.log")" = "vfio-reserve: trial boot armed in /boot/efi/loader/entries: debian-$kver+1.conf" ]
	sd_booted sd-armed "debian-$kver+1.conf" "\\loader\\entries\\debian-$kver+0-1.conf"
	[ -z "$(sd_cmdline sd-armed)" ]
	sd_entries sd-armed "debian-$kver+0-1.conf" "debian-$kver-vfio-reserve-previous.conf"
	[ "$(cat "$VM_OUT/sd-armed.state")" = reverted ]
	card1_reserved sd-armed
	reserved_log sd-armed "$C1V" 1234:1111
}

@test "13. systemd-boot, trial not confirmed: the next boot takes the fallback, vfio_reserve=previous: the confirmed reservation (card 2), card 1 native" {
	local kver
	kver=$(cat "$VM_OUT/kernel-version")
	sd_booted sd-reverted "debian-$kver-vfio-reserve-previous.conf" -
	[ "$(sd_cmdline sd-reverted)" = vfio_reserve=previous ]
	sd_entries sd-reverted "debian-$kver+0-1.conf" "debian-$kver-vfio-reserve-previous.conf"
	[ "$(cat "$VM_OUT/sd-reverted.state")" = reverted ]
	drivers sd-reverted bochs-drm bochs-drm snd_hda_intel vfio-pci vfio-pci
	kmsg sd-reverted "vfio-reserve: 'vfio_reserve=previous': the trial boot of a new reservation went unconfirmed" | grep -q .
	kmsg sd-reverted "vfio-reserve: $C2V \[1234:1111\] -> vfio-pci (rule line 2)" | grep -q .
}

@test "13. systemd-boot, trial ended (clear, as confirm runs it): the entry without its counter, the new reservation kept" {
	local kver
	kver=$(cat "$VM_OUT/kernel-version")
	[ "$(cat "$VM_OUT/sd-clear.rc")" = 0 ] || { cat "$VM_OUT/sd-clear.log"; return 1; }
	sd_booted sd-cleared "debian-$kver.conf" -
	[ -z "$(sd_cmdline sd-cleared)" ]
	sd_entries sd-cleared "debian-$kver.conf"
	[ "$(cat "$VM_OUT/sd-cleared.state")" = none ]
	card1_reserved sd-cleared
}

@test "13. systemd-boot, no trial (armed, then cleared before any boot, as update --no-trial does): the new reservation kept" {
	local kver
	kver=$(cat "$VM_OUT/kernel-version")
	[ "$(cat "$VM_OUT/sd-rearm.rc")" = 0 ] || { cat "$VM_OUT/sd-rearm.log"; return 1; }
	[ "$(cat "$VM_OUT/sd-noboot-clear.rc")" = 0 ] || { cat "$VM_OUT/sd-noboot-clear.log"; return 1; }
	sd_booted sd-notrial "debian-$kver.conf" -
	[ -z "$(sd_cmdline sd-notrial)" ]
	sd_entries sd-notrial "debian-$kver.conf"
	[ "$(cat "$VM_OUT/sd-notrial.state")" = none ]
	card1_reserved sd-notrial
}

# ---- the hardware record (issue 20): booted on other hardware than update saw

# The image itools-hw is built, as `vfio-reserve update` builds it, with the
# record `vfio-reserve fingerprint` printed in the guest of the old machine
# (h0-record; vm_boot --hw=old: cards 1 and 2, and a NIC, an e1000e with a
# PCIe Device Serial Number, behind a root port at 00:08.0) beside its
# config, tests/vm/guest/hw.conf: line 2 card 1 by address alone, line 3
# card 2 by path, line 4 the NIC by path.  Then it boots on that machine and
# on four others (vm_boot --hw=...).  guest/hw.sh prints what `fingerprint`
# and `status` say there.

NIC=0000:03:00.0

# hw_status SCENARIO: what `vfio-reserve status` said in the guest with the
# image's rules, the boot report among it, the time of the done line as N.
hw_status() {
	tagged "$1" HW-STATUS | sed -E 's/ in [0-9]+\.[0-9]{3} ms$/ in N ms/'
}

# hw_kmsg SCENARIO: the binder's kernel log lines, in order, but its done
# line.
hw_kmsg() {
	dmesg_lines "$1" 'vfio-reserve: ' | grep -av 'vfio-reserve: done: '
}

# hw_drivers SCENARIO ADDR=DRIVER...: each function's driver after the boot.
hw_drivers() {
	local name=$1 pair got bad=0
	shift
	for pair in "$@"; do
		got=$(field "$name" "${pair%%=*}" driver)
		if [ "$got" != "${pair#*=}" ]; then
			echo "$name: ${pair%%=*} is on '${got:-?}', expected '${pair#*=}'"
			bad=1
		fi
	done
	if [ "$bad" != 0 ]; then
		show_report "$name"
		return 1
	fi
}

HW_CONF=/etc/vfio-reserve.conf
STOPPED="the hardware is not what 'vfio-reserve update' recorded: nothing reserved (run it again to accept the new hardware)"

@test "hardware record: what fingerprint printed on the old machine is in the image beside its config; the same machine records the same" {
	booted h0-record
	[ "$(tagged h0-record FINGERPRINT)" = "rule 2 0000:01:00.0
$C1V 1234:1111 1af4:1100 038000 02 00:04.0/00.0 00:04.0/00.1=8086:2668
$C1A 8086:2668 1af4:1100 040300 01 00:04.0/00.1 00:04.0/00.0=1234:1111
rule 3 path=00:05.0/00.0
$C2V 1234:1111 1af4:1100 038000 02 00:05.0/00.0 00:05.0/00.1=8086:2668
$C2A 8086:2668 1af4:1100 040300 01 00:05.0/00.1 00:05.0/00.0=1234:1111
rule 4 path=00:08.0/00.0
$NIC 8086:10d3 8086:0000 020000 00 00:08.0/00.0 serial=52-54-00-ff-ff-12-34-56
rc=0" ]
	[ -z "$(tagged h0-record FINGERPRINT-ERR)" ]
	diff <(tagged h0-record FINGERPRINT | grep -v '^rc=') "$VM_OUT/itools-hw.fingerprint"
	cmp "$VM_OUT/itools-hw.host.fingerprint" "$VM_OUT/itools-hw.fingerprint"
	cmp "$BATS_TEST_DIRNAME/guest/hw.conf" "$VM_OUT/itools-hw.conf"
	booted h0-same
	diff <(tagged h0-record FINGERPRINT) <(tagged h0-same FINGERPRINT)
}

@test "hardware record, the old machine: every rule reserves its functions, nothing said about the hardware" {
	booted h0-same
	hw_drivers h0-same "$C1V=vfio-pci" "$C1A=vfio-pci" "$C2V=vfio-pci" "$C2A=vfio-pci" "$NIC=vfio-pci"
	never_native h0-same 01
	never_native h0-same 02
	same "h0-same: status" "line 2: 0000:01:00.0
  $C1V [1234:1111] vfio-pci       reserved
  $C1A [8086:2668] vfio-pci       reserved
line 3: path=00:05.0/00.0
  $C2V [1234:1111] vfio-pci       reserved
  $C2A [8086:2668] vfio-pci       reserved
line 4: path=00:08.0/00.0
  $NIC [8086:10d3] vfio-pci       reserved
last boot (/run/vfio-reserve.report):
  $C1V [1234:1111] -> vfio-pci (rule line 2)
  $C1A [8086:2668] -> vfio-pci (rule line 2)
  $C2V [1234:1111] -> vfio-pci (rule line 3)
  $C2A [8086:2668] -> vfio-pci (rule line 3)
  $NIC [8086:10d3] -> vfio-pci (rule line 4)
  done: 5 reserved, 0 already reserved, 0 failed in N ms
rc=0" "$(hw_status h0-same)"
	[ "$(hw_kmsg h0-same | wc -l)" = 5 ]
}

@test "hardware record, card 1 swapped for a NIC at its address: the address rule reserves nothing, says what changed; the NIC on e1000e" {
	booted h1-swap
	hw_drivers h1-swap "$C1V=e1000e" "$C2V=vfio-pci" "$C2A=vfio-pci" "$NIC=vfio-pci"
	[ "$(field h1-swap "$C1V" override)" = "(null)" ]
	same "h1-swap: kernel log" "vfio-reserve: $HW_CONF:2: $C1V was 1234:1111 subsystem 1af4:1100 class 038000 revision 02, is 8086:10d3 subsystem 8086:0000 class 020000 revision 00
vfio-reserve: $HW_CONF:2: $C1A was 8086:2668 subsystem 1af4:1100, is gone
vfio-reserve: $HW_CONF:2: $STOPPED
vfio-reserve: $C2V [1234:1111] -> vfio-pci (rule line 3)
vfio-reserve: $C2A [8086:2668] -> vfio-pci (rule line 3)
vfio-reserve: $NIC [8086:10d3] -> vfio-pci (rule line 4)" "$(hw_kmsg h1-swap)"
	same "h1-swap: status" "line 2: 0000:01:00.0
  $C1V [8086:10d3] e1000e         NOT RESERVED, wants vfio-pci
line 3: path=00:05.0/00.0
  $C2V [1234:1111] vfio-pci       reserved
  $C2A [8086:2668] vfio-pci       reserved
line 4: path=00:08.0/00.0
  $NIC [8086:10d3] vfio-pci       reserved
last boot (/run/vfio-reserve.report):
  warning: $HW_CONF:2: $C1V was 1234:1111 subsystem 1af4:1100 class 038000 revision 02, is 8086:10d3 subsystem 8086:0000 class 020000 revision 00
  warning: $HW_CONF:2: $C1A was 8086:2668 subsystem 1af4:1100, is gone
  error: $HW_CONF:2: $STOPPED
  $C2V [1234:1111] -> vfio-pci (rule line 3)
  $C2A [8086:2668] -> vfio-pci (rule line 3)
  $NIC [8086:10d3] -> vfio-pci (rule line 4)
  done: 3 reserved, 0 already reserved, 0 failed in N ms
rc=1" "$(hw_status h1-swap)"
}

@test "hardware record, card 1 moved to a new root port, the buses renumbered: the address rule reserves nothing, says so; the path= rules follow card 2 and the NIC" {
	booted h2-moved
	# Card 1 at 00:03.0 took bus 01; its old root port, empty, bus 02.
	hw_drivers h2-moved "$C1V=bochs-drm" "$C1A=snd_hda_intel" 0000:03:00.0=vfio-pci \
		0000:03:00.1=vfio-pci 0000:04:00.0=vfio-pci
	[ -z "$(field h2-moved "$C2V" driver)" ]
	never_native h2-moved 03
	same "h2-moved: kernel log" "vfio-reserve: $HW_CONF:2: $C1V was at path 00:04.0/00.0, is at 00:03.0/00.0
vfio-reserve: $HW_CONF:2: $C1A was at path 00:04.0/00.1, is at 00:03.0/00.1
vfio-reserve: $HW_CONF:2: $STOPPED
vfio-reserve: $HW_CONF:3: $C2V is at 0000:03:00.0 now, found by its path
vfio-reserve: $HW_CONF:3: $C2A is at 0000:03:00.1 now, found by its path
vfio-reserve: $HW_CONF:4: $NIC is at 0000:04:00.0 now, found by its path
vfio-reserve: 0000:03:00.0 [1234:1111] -> vfio-pci (rule line 3)
vfio-reserve: 0000:03:00.1 [8086:2668] -> vfio-pci (rule line 3)
vfio-reserve: 0000:04:00.0 [8086:10d3] -> vfio-pci (rule line 4)" "$(hw_kmsg h2-moved)"
	same "h2-moved: status" "line 2: 0000:01:00.0
  $C1V [1234:1111] bochs-drm      NOT RESERVED, wants vfio-pci
  $C1A [8086:2668] snd_hda_intel  NOT RESERVED, wants vfio-pci
line 3: path=00:05.0/00.0
  0000:03:00.0 [1234:1111] vfio-pci       reserved
  0000:03:00.1 [8086:2668] vfio-pci       reserved
line 4: path=00:08.0/00.0
  0000:04:00.0 [8086:10d3] vfio-pci       reserved
last boot (/run/vfio-reserve.report):
  warning: $HW_CONF:2: $C1V was at path 00:04.0/00.0, is at 00:03.0/00.0
  warning: $HW_CONF:2: $C1A was at path 00:04.0/00.1, is at 00:03.0/00.1
  error: $HW_CONF:2: $STOPPED
  $HW_CONF:3: $C2V is at 0000:03:00.0 now, found by its path
  $HW_CONF:3: $C2A is at 0000:03:00.1 now, found by its path
  $HW_CONF:4: $NIC is at 0000:04:00.0 now, found by its path
  0000:03:00.0 [1234:1111] -> vfio-pci (rule line 3)
  0000:03:00.1 [8086:2668] -> vfio-pci (rule line 3)
  0000:04:00.0 [8086:10d3] -> vfio-pci (rule line 4)
  done: 3 reserved, 0 already reserved, 0 failed in N ms
rc=1" "$(hw_status h2-moved)"
}

@test "hardware record, a NIC joined card 1's IOMMU group (function 2 of its slot): the rule reserves nothing, says so; the NIC on e1000e" {
	booted h3-group
	hw_drivers h3-group "$C1V=bochs-drm" "$C1A=snd_hda_intel" 0000:01:00.2=e1000e \
		"$C2V=vfio-pci" "$C2A=vfio-pci" "$NIC=vfio-pci"
	[ "$(field h3-group 0000:01:00.2 group)" = "$(field h3-group "$C1V" group)" ]
	never_native h3-group 02
	same "h3-group: kernel log" "vfio-reserve: $HW_CONF:2: the IOMMU group of $C1V gained 0000:01:00.2 [8086:10d3] since the record: a disk or network controller the host may need
vfio-reserve: $HW_CONF:2: $STOPPED
vfio-reserve: $C2V [1234:1111] -> vfio-pci (rule line 3)
vfio-reserve: $C2A [8086:2668] -> vfio-pci (rule line 3)
vfio-reserve: $NIC [8086:10d3] -> vfio-pci (rule line 4)" "$(hw_kmsg h3-group)"
	same "h3-group: status" "line 2: 0000:01:00.0
  $C1V [1234:1111] bochs-drm      NOT RESERVED, wants vfio-pci
  $C1A [8086:2668] snd_hda_intel  NOT RESERVED, wants vfio-pci
  group $(field h3-group "$C1V" group) is not viable: 0000:01:00.2 [8086:10d3] is on e1000e
line 3: path=00:05.0/00.0
  $C2V [1234:1111] vfio-pci       reserved
  $C2A [8086:2668] vfio-pci       reserved
line 4: path=00:08.0/00.0
  $NIC [8086:10d3] vfio-pci       reserved
last boot (/run/vfio-reserve.report):
  warning: $HW_CONF:2: the IOMMU group of $C1V gained 0000:01:00.2 [8086:10d3] since the record: a disk or network controller the host may need
  error: $HW_CONF:2: $STOPPED
  $C2V [1234:1111] -> vfio-pci (rule line 3)
  $C2A [8086:2668] -> vfio-pci (rule line 3)
  $NIC [8086:10d3] -> vfio-pci (rule line 4)
  done: 3 reserved, 0 already reserved, 0 failed in N ms
rc=1" "$(hw_status h3-group)"
}

@test "hardware record, the NIC swapped for one of its model with another serial number: its rule reserves nothing, says which serial; the NIC on e1000e" {
	booted h4-serial
	hw_drivers h4-serial "$C1V=vfio-pci" "$C1A=vfio-pci" "$C2V=vfio-pci" "$C2A=vfio-pci" "$NIC=e1000e"
	[ "$(tagged h4-serial FINGERPRINT | grep "^$NIC ")" = "$NIC 8086:10d3 8086:0000 020000 00 00:08.0/00.0 serial=52-54-00-ff-ff-12-34-57" ]
	same "h4-serial: kernel log" "vfio-reserve: $HW_CONF:4: $NIC serial was 52-54-00-ff-ff-12-34-56, is 52-54-00-ff-ff-12-34-57
vfio-reserve: $HW_CONF:4: $STOPPED
vfio-reserve: $C1V [1234:1111] -> vfio-pci (rule line 2)
vfio-reserve: $C1A [8086:2668] -> vfio-pci (rule line 2)
vfio-reserve: $C2V [1234:1111] -> vfio-pci (rule line 3)
vfio-reserve: $C2A [8086:2668] -> vfio-pci (rule line 3)" "$(hw_kmsg h4-serial)"
	same "h4-serial: status" "line 2: 0000:01:00.0
  $C1V [1234:1111] vfio-pci       reserved
  $C1A [8086:2668] vfio-pci       reserved
line 3: path=00:05.0/00.0
  $C2V [1234:1111] vfio-pci       reserved
  $C2A [8086:2668] vfio-pci       reserved
line 4: path=00:08.0/00.0
  $NIC [8086:10d3] e1000e         NOT RESERVED, wants vfio-pci
last boot (/run/vfio-reserve.report):
  warning: $HW_CONF:4: $NIC serial was 52-54-00-ff-ff-12-34-56, is 52-54-00-ff-ff-12-34-57
  error: $HW_CONF:4: $STOPPED
  $C1V [1234:1111] -> vfio-pci (rule line 2)
  $C1A [8086:2668] -> vfio-pci (rule line 2)
  $C2V [1234:1111] -> vfio-pci (rule line 3)
  $C2A [8086:2668] -> vfio-pci (rule line 3)
  done: 4 reserved, 0 already reserved, 0 failed in N ms
rc=1" "$(hw_status h4-serial)"
}
