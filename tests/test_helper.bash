# SPDX-License-Identifier: GPL-2.0-or-later
# Shared setup for the unit suites: a fixture root per test (lib/fixture.bash)
# and the binder under test, by default the unit-test build whose sysfs
# writes go to the fake kernel (tests/fake/kernel.c).  Tests tagged
# fake-kernel need that model; tests/run runs the others against the shipped
# binder too.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file
# shellcheck source=tests/lib/fixture.bash
source "$BATS_TEST_DIRNAME/lib/fixture.bash"
# shellcheck source=tests/lib/host-uses.bash
source "$BATS_TEST_DIRNAME/lib/host-uses.bash"

BIN=${VFIO_RESERVE_BIN:-$BATS_TEST_DIRNAME/../binder/vfio-reserve-fake}
# The scripts the binder runs (update, boot-setup) from this tree, as
# `make install-scripts` lays them out, never from an installed
# /usr/lib/vfio-reserve.
# shellcheck source=tests/lib/staged-scripts.bash
source "$BATS_TEST_DIRNAME/lib/staged-scripts.bash"
staged_scripts
export VFIO_RESERVE_LIBDIR=$REPLY
ROOT=$BATS_TEST_TMPDIR/root
CONF=$ROOT/etc/vfio-reserve.conf

# host < DESCRIPTION: builds the fixture sysfs tree, and the /run where the
# boot report goes (apply --boot).
host() {
	make_sysfs "$ROOT"
	mkdir -p "$ROOT/run"
	debian_boot
}

# How a Debian host with the package installed boots, which `check` reports
# (update/boot-setup): initramfs-tools with its kernel hook and ours, and GRUB
# on a plain ext4 /boot, where the trial boot's state can be kept (its
# backend, trial-grub, is tested with the real GRUB tools in tests/grub:
# here stand-ins say what grub-probe says of such a /boot, and there is no
# grubenv yet, so grub-editenv is not asked).
debian_boot() {
	mkdir -p "$ROOT/etc/kernel/postinst.d" "$ROOT/usr/sbin" "$ROOT/usr/bin" \
		"$ROOT/etc/default/grub.d" "$ROOT/etc/grub.d" "$ROOT/boot/grub" \
		"$ROOT/usr/share/initramfs-tools/hooks"
	: >"$ROOT/etc/kernel/postinst.d/initramfs-tools"
	: >"$ROOT/usr/share/initramfs-tools/hooks/vfio-reserve"
	: >"$ROOT/etc/default/grub"
	: >"$ROOT/usr/sbin/update-initramfs"
	printf '#!/bin/sh\n# sources /etc/default/grub.d/*.cfg\n' >"$ROOT/usr/sbin/grub-mkconfig"
	printf '#!/bin/sh\ncase $1 in --target=fs) echo ext2 ;; esac\n' >"$ROOT/usr/sbin/grub-probe"
	printf '#!/bin/sh\nexit 1\n' >"$ROOT/usr/bin/grub-editenv"
	: >"$ROOT/etc/grub.d/09_vfio-reserve"
	: >"$ROOT/etc/default/grub.d/vfio-reserve-trial.cfg"
	chmod 0755 "$ROOT/usr/sbin/update-initramfs" "$ROOT/usr/sbin/grub-mkconfig" \
		"$ROOT/usr/sbin/grub-probe" "$ROOT/usr/bin/grub-editenv" "$ROOT/etc/grub.d/09_vfio-reserve"
}

# The usual passthrough box, as QEMU models it in the boot tests: the boot
# VGA and two identical cards (display + HDA audio) behind root ports.
two_cards() {
	host <<-'DESC'
	# addr  id        class  group driver        vga parent
	00:00.0 8086:29c0 060000 0     -             -   -
	00:01.0 1234:1111 030000 1     bochs-drm     1   -
	00:02.0 1b36:000c 060400 2     pcieport      -   -
	00:03.0 1b36:000c 060400 3     pcieport      -   -
	01:00.0 1234:1111 038000 4     bochs-drm     -   00:02.0
	01:00.1 8086:2668 040300 4     snd_hda_intel -   00:02.0
	02:00.0 1234:1111 038000 5     bochs-drm     -   00:03.0
	02:00.1 8086:2668 040300 5     snd_hda_intel -   00:03.0
	driver vfio-pci
	DESC
	"$@"
}

# real_host NAME: the description of a real host in fixtures/real/ (each file
# names its public source), with vfio-pci and pci-stub registered, as on a
# host where they were loaded once; pipe it to host, or edit it first.
real_host() {
	cat "$BATS_TEST_DIRNAME/fixtures/real/$1.desc"
	printf 'driver vfio-pci\ndriver pci-stub\n'
}

P=sys/bus/pci
# The writes that move card 1 (01:00.0 display, 01:00.1 audio) of two_cards
# to vfio-pci, in the binder's order: both overrides, then both unbinds, then
# both probes.
CARD1_LOG=(
	"$P/devices/0000:01:00.0/driver_override vfio-pci"
	"$P/devices/0000:01:00.1/driver_override vfio-pci"
	"$P/drivers/bochs-drm/unbind 0000:01:00.0"
	"$P/drivers/snd_hda_intel/unbind 0000:01:00.1"
	"$P/drivers_probe 0000:01:00.0"
	"$P/drivers_probe 0000:01:00.1"
)

# config < TEXT: the host's /etc/vfio-reserve.conf.
config() {
	mkdir -p "$ROOT/etc"
	cat >"$CONF"
	chmod 0644 "$CONF"
}

vr() {
	"$BIN" --root "$ROOT" "$@"
}

# Everything a test could have written: file contents and link targets.
# /dev/kmsg is the boot-mode log and run/vfio-reserve.report the boot
# report, which tests read on their own; .fixture is the fixture's
# bookkeeping.
snapshot() {
	(cd "$ROOT" && {
		find . \( -path ./dev/kmsg -o -path ./run/vfio-reserve.report -o -path ./.fixture \) -prune \
			-o -type f -exec md5sum {} + | sort
		find . -type l -printf '%p -> %l\n' | sort
	})
}

# The driver a function is bound to now, or "none".
driver_of() {
	local link=$ROOT/sys/bus/pci/devices/$1/driver
	if [ -L "$link" ]; then basename "$(readlink "$link")"; else echo none; fi
}

override_of() {
	cat "$ROOT/sys/bus/pci/devices/$1/driver_override"
}

# Every write the binder made, in write order, as "PATH VALUE" (PATH relative
# to ROOT), a failed one ending " -> ENAME"; the fake modprobe adds
# "modprobe ARGS".
kernel_log() {
	cat "$ROOT/kernel.log" 2>/dev/null || true
}

# assert_kernel_log LINE...: exactly these writes, in this order.
assert_kernel_log() {
	assert_equal "$(kernel_log)" "$(printf '%s\n' "$@")"
}

# fault RULE...: see fixture_fault in lib/fixture.bash.
fault() {
	fixture_fault "$ROOT" "$@"
}
