# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by tests/grub/*.bats: fake roots made from fixtures, and GRUB's
# own way of reading them.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

# shellcheck source=tests/lib/staged-scripts.bash
source "$BATS_TEST_DIRNAME/../lib/staged-scripts.bash"
staged_scripts
GRUB_SCRIPTS=$REPLY
FIXTURES=$BATS_TEST_DIRNAME/fixtures
REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

# What `vfio-reserve cmdline` prints for an Intel host with one card.
ARGS=(intel_iommu=on iommu=pt vfio-pci.ids=10de:2204,10de:1aef)

# Every /etc/default/grub fixture but the broken one.
GRUB_FIXTURES=(debian-12 ubuntu-22.04 ubuntu-24.04 fedora-40 arch user-args
	tricky-quoting no-default-line no-final-newline empty user-values
	user-values-underscore)

# FIXTURE:MODE pairs for the tests of idempotence and revert: every fixture
# where it is edited in place, and drop-ins beside the Debian and Ubuntu
# files, which a drop-in leaves as they are whatever they hold.
EDIT_CASES=("${GRUB_FIXTURES[@]/%/:inplace}" debian-12:dropin ubuntu-24.04:dropin
	user-values:dropin user-values-underscore:dropin)

# GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT after `set "${ARGS[@]}"`,
# as grub-mkconfig ends up with them: the user's own values, and on
# _DEFAULT the arguments they do not have yet.
expected_linux() {
	case $1 in
	fedora-40) echo 'rhgb quiet' ;;
	user-args) echo 'console=tty0 console=ttyS0,115200n8 intel_iommu=on' ;;
	tricky-quoting) printf '%s\n' 'console=ttyS1,115200 "dyndbg=file drivers/pci/* +p" 	iommu=pt apparmor=1' ;;
	no-default-line) echo 'net.ifnames=0' ;;
	user-values) echo 'iommu=soft' ;;
	user-values-underscore) echo 'vfio_pci.ids=10DE:2204,8086:1539 amd_iommu=off iommu=pt' ;;
	*) echo '' ;;
	esac
}

expected_default() {
	local ids=vfio-pci.ids=10de:2204,10de:1aef
	case $1 in
	debian-12 | no-final-newline) echo "quiet intel_iommu=on iommu=pt $ids" ;;
	ubuntu-22.04 | ubuntu-24.04) echo "quiet splash intel_iommu=on iommu=pt $ids" ;;
	arch) echo "loglevel=3 quiet intel_iommu=on iommu=pt $ids" ;;
	user-args) echo "quiet iommu=pt mitigations=off $ids" ;;
	tricky-quoting) echo "quiet splash acpi_osi=\"Windows 2020\" intel_iommu=on $ids" ;;
	fedora-40 | no-default-line | empty) echo "intel_iommu=on iommu=pt $ids" ;;
	# The user's values win: theirs for intel_iommu and iommu; their IDs
	# first in the last vfio-pci.ids, which the kernel keeps.
	user-values) echo "quiet vfio-pci.ids=8086:1539 intel_iommu=off vfio-pci.ids=8086:1539,10de:2204,10de:1aef" ;;
	user-values-underscore) echo "quiet intel_iommu=on vfio-pci.ids=10DE:2204,8086:1539,10de:1aef" ;;
	esac
}

# effective PARAM [WORD...]: the value the kernel takes for PARAM from a
# command line of these words: its last occurrence, - and _ alike in the
# name; "(unset)" without one.
effective() {
	local param=${1//-/_} word name value='(unset)'
	shift
	for word in $*; do
		name=${word%%=*}
		if [ "${name//-/_}" = "$param" ]; then
			value=${word#*=}
		fi
	done
	printf '%s\n' "$value"
}

# Debian's grub-mkconfig without its grub.d loop: upstream's, as on Fedora
# and Arch, which read /etc/default/grub only.
upstream_grub_mkconfig() {
	sed '/^for x in ${sysconfdir}\/default\/grub\.d\/\*\.cfg ; do$/,/^done$/d' \
		/usr/sbin/grub-mkconfig
}

# make_root FIXTURE MODE: $ROOT with FIXTURE as /etc/default/grub and the
# grub-mkconfig of MODE: dropin (Debian's, which sources grub.d, with
# Debian's own drop-in beside ours) or inplace (upstream's).
make_root() {
	local fixture=$1 mode=$2
	ROOT=$BATS_TEST_TMPDIR/root
	MODE=$mode
	rm -rf "$ROOT"
	mkdir -p "$ROOT"/etc/default "$ROOT"/usr/sbin "$ROOT"/var/lib "$ROOT"/boot/grub "$ROOT"/run
	cp "$FIXTURES/default-grub/$fixture" "$ROOT/etc/default/grub"
	case $mode in
	dropin)
		cp /usr/sbin/grub-mkconfig "$ROOT/usr/sbin/grub-mkconfig"
		mkdir "$ROOT/etc/default/grub.d"
		cp "$FIXTURES/grub.d/init-select.cfg" "$ROOT/etc/default/grub.d/"
		;;
	inplace)
		upstream_grub_mkconfig > "$ROOT/usr/sbin/grub-mkconfig"
		chmod 0755 "$ROOT/usr/sbin/grub-mkconfig"
		;;
	esac
	# Fedora's GRUB_DISTRIBUTOR reads it, under grub-mkconfig's set -e.
	echo 'Fedora release 40 (Forty)' > "$ROOT/etc/system-release"
	: > "$ROOT/boot/grub/grub.cfg"
	: > "$ROOT/boot/vmlinuz-6.1.0-test"
	: > "$ROOT/boot/initrd.img-6.1.0-test"
}

# Put the /etc/kernel/cmdline fixture NAME into $ROOT.
add_kernel_cmdline() {
	mkdir -p "$ROOT/etc/kernel"
	cp "$FIXTURES/kernel-cmdline/$1" "$ROOT/etc/kernel/cmdline"
}

kernel_cmdline() {
	"$GRUB_SCRIPTS/kernel-cmdline" --root "$ROOT" "$@"
}

# GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT as grub-mkconfig sources
# them: /etc/default/grub, then /etc/default/grub.d/*.cfg in glob order
# where its grub-mkconfig does that. Prints them as LINUX=... DEFAULT=...
grub_values() {
	sh -c '
		. "$1/etc/default/grub"
		if [ "$2" = dropin ]; then
			for x in "$1"/etc/default/grub.d/*.cfg; do
				if [ -e "$x" ]; then . "$x"; fi
			done
		fi
		printf "LINUX=%s\nDEFAULT=%s\n" "${GRUB_CMDLINE_LINUX-}" "${GRUB_CMDLINE_LINUX_DEFAULT-}"
	' sh "$ROOT" "$MODE" 2>/dev/null
}

# Every file of $ROOT with its type, mode, owner, size, mtime and checksum:
# two equal snapshots mean nothing was written. /run is left out: every
# run opens (and the first makes) the lock there, which holds nothing.
snapshot() {
	(cd "$ROOT" && find . -path ./run -prune -o -printf '%p %y %m %U:%G %s %T@\n' | sort &&
		find . -path ./run -prune -o -type f -exec cksum {} + | sort)
}

# The same without mtimes: which files there are, and what they hold.
snapshot_content() {
	(cd "$ROOT" && find . -path ./run -prune -o -printf '%p %y %m %U:%G %s\n' | sort &&
		find . -path ./run -prune -o -type f -exec cksum {} + | sort)
}

require_mount_namespace() {
	unshare -m sh -c 'mount -t tmpfs vfio-reserve-test /mnt' 2>/dev/null ||
		skip "needs root and mount namespaces to give grub-mkconfig a fake /etc and /boot"
	[ -x /etc/grub.d/10_linux ] && [ -f /usr/share/grub/grub-mkconfig_lib ] ||
		fail "needs GRUB's /etc/grub.d/10_linux: apt-get install grub2-common"
}

# Run $ROOT/usr/sbin/grub-mkconfig, the real script, in a mount namespace
# where $ROOT/etc lies over /etc, /etc/default is $ROOT's alone, /boot is
# $ROOT/boot, and grub-probe says / is /dev/vfio-reserve-test-root. It runs
# GRUB's own /etc/grub.d/10_linux. Leaves the whole output in
# $BATS_TEST_TMPDIR/grub.cfg and prints the linux lines, each after its
# entry's kind: simple, advanced or recovery.
grub_mkconfig_linux_lines() {
	local stubs=$BATS_TEST_TMPDIR/stubs
	mkdir -p "$stubs"
	cat > "$stubs/grub-probe" <<-'EOF'
	#!/bin/sh
	# / and /boot: one ext2 file system without a UUID.
	case " $* " in
	*" --target=device "*) echo /dev/vfio-reserve-test-root ;;
	*" --target=fs "*) echo ext2 ;;
	esac
	EOF
	printf '#!/bin/sh\nprintf "%%s\\n" "$1"\n' > "$stubs/grub-mkrelpath"
	chmod 0755 "$stubs/grub-probe" "$stubs/grub-mkrelpath"
	# Of GRUB's scripts only 10_linux makes Linux entries; the others only
	# cost time. Those of $ROOT/etc/grub.d (ours) run beside it.
	mkdir -p "$stubs/grub.d"
	cp /etc/grub.d/10_linux "$stubs/grub.d/"
	if [ -d "$ROOT/etc/grub.d" ]; then cp -p "$ROOT"/etc/grub.d/* "$stubs/grub.d/"; fi
	unshare -m sh -ec '
		mount -t overlay vfio-reserve-test -o "lowerdir=$1/etc:/etc" /etc
		mount --bind "$1/etc/default" /etc/default
		mount --bind "$1/boot" /boot
		mount --bind "$2/grub.d" /etc/grub.d
		mount --bind "$2/grub-probe" /usr/sbin/grub-probe
		mount --bind "$2/grub-mkrelpath" /usr/bin/grub-mkrelpath
		exec sh "$1/usr/sbin/grub-mkconfig"
	' sh "$ROOT" "$stubs" > "$BATS_TEST_TMPDIR/grub.cfg" 2> "$BATS_TEST_TMPDIR/grub-mkconfig.err" || {
		cat "$BATS_TEST_TMPDIR/grub-mkconfig.err" >&2
		return 1
	}
	awk '
		/^### BEGIN \/etc\/grub.d\/10_linux ###$/ { in_linux = 1; next }
		/^### END / { in_linux = 0 }
		!in_linux { next }
		$1 == "menuentry" {
			kind = "advanced"
			if (/gnulinux-simple-/) kind = "simple"
			if (/-recovery-/) kind = "recovery"
		}
		$1 == "linux" { sub(/^[ \t]*/, ""); print kind "\t" $0 }
	' "$BATS_TEST_TMPDIR/grub.cfg"
}

# --- throwaway hosts ---------------------------------------------------------

# The unmodified upstream tools (../shared/upstream from the project root).
UPSTREAM=$(cd "$REPO/.." && pwd)/shared/upstream

# require_upstream FILE...: skip, saying why, where the upstream tools are
# not there (a user's own clone); CI has them.
require_upstream() {
	local file
	for file; do
		[ -e "$UPSTREAM/$file" ] ||
			skip "needs the real upstream tools in $UPSTREAM (not in this clone): $file"
	done
}

# make_host_root: an empty $ROOT for on_host, with what the programs run
# there need of /etc.
make_host_root() {
	ROOT=$BATS_TEST_TMPDIR/root
	rm -rf "$ROOT"
	mkdir -p "$ROOT"/etc/default "$ROOT"/etc/kernel "$ROOT"/boot "$ROOT"/var/lib \
		"$ROOT"/run/lock "$ROOT"/usr/sbin
	cp -a /etc/alternatives /etc/passwd /etc/group /etc/nsswitch.conf /etc/os-release "$ROOT/etc/"
	echo 0123456789abcdef0123456789abcdef > "$ROOT/etc/machine-id"
}

# on_host COMMAND...: run COMMAND as on a host whose /etc, /boot, /var/lib
# and /run are those of $ROOT, whose /usr/sbin has $ROOT/usr/sbin (the
# stand-ins) over its own, and whose /usr/lib/modules is $ROOT's when that
# has one: a mount namespace, with /usr and the rest the machine's. GRUB's
# grub-mkconfig and update-grub are hidden (/dev/null over them): these
# hosts boot without GRUB. RO_BOOT=1: /boot is read-only. ESP_IMAGE=FILE:
# the file system image FILE, a block device, is mounted at /boot/efi.
# $ROOT/usr/share and $ROOT/dev, where they exist, lie over the machine's
# (/dev/disk/by-uuid for ESPs); $ROOT/var/tmp is /var/tmp. UEFI=1: the host
# booted with UEFI (/sys/firmware/efi).
on_host() {
	unshare -m true 2>/dev/null || skip "needs root and mount namespaces to make a throwaway host"
	unshare -m sh -ec '
		root=$1
		shift
		mount -t overlay vfio-reserve-test -o "lowerdir=$root/usr/sbin:/usr/sbin" /usr/sbin
		for grub in /usr/sbin/grub-mkconfig /usr/sbin/update-grub; do
			if [ -e "$grub" ]; then mount --bind /dev/null "$grub"; fi
		done
		if [ -d "$root/usr/lib/modules" ]; then mount --bind "$root/usr/lib/modules" /usr/lib/modules; fi
		mount --bind "$root/boot" /boot
		if [ -n "${RO_BOOT-}" ]; then mount -o remount,bind,ro /boot; fi
		if [ -n "${ESP_IMAGE-}" ]; then mount -o loop "$ESP_IMAGE" /boot/efi; fi
		if [ -d "$root/usr/share" ]; then mount -t overlay vfio-reserve-test -o "lowerdir=$root/usr/share:/usr/share" /usr/share; fi
		if [ -d "$root/dev" ]; then mount -t overlay vfio-reserve-test -o "lowerdir=$root/dev:/dev" /dev; fi
		if [ -n "${UEFI-}" ]; then mount -t tmpfs vfio-reserve-test /sys/firmware; mkdir /sys/firmware/efi; fi
		if [ -d "$root/var/tmp" ]; then mount --bind "$root/var/tmp" /var/tmp; fi
		mount --bind "$root/var/lib" /var/lib
		mount --bind "$root/run" /run
		mount --bind "$root/etc" /etc
		exec "$@"
	' sh "$ROOT" "$@"
}

host_update() {
	on_host "$GRUB_SCRIPTS/update" "$@"
}

# bls_entry VERSION OPTIONS: a Fedora BLS entry in /boot/loader/entries.
bls_entry() {
	mkdir -p "$ROOT/boot/loader/entries"
	cat > "$ROOT/boot/loader/entries/0123456789abcdef0123456789abcdef-$1.conf" <<-EOF
	title Fedora Linux ($1) 40 (Workstation Edition)
	version $1
	linux /vmlinuz-$1
	initrd /initramfs-$1.img
	options $2
	grub_users \$grub_users
	grub_arg --unrestricted
	grub_class fedora
	EOF
}

# The options lines of the BLS entries under DIR, one a line.
options_lines() {
	cat "$1"/*.conf | sed -n 's/^options[ \t]*//p'
}


# one_card_sysfs: $ROOT/sys for the tests that run the real binder: the
# boot VGA and one card (10de:2204 with its HDMI audio) behind a root port.
one_card_sysfs() {
	# shellcheck source=tests/lib/fixture.bash
	source "$REPO/tests/lib/fixture.bash"
	make_sysfs "$ROOT" <<-'DESC'
	# addr  id        class  group driver        vga parent
	00:00.0 8086:29c0 060000 0     -             -   -
	00:01.0 1234:1111 030000 1     bochs-drm     1   -
	00:02.0 1b36:000c 060400 2     pcieport      -   -
	01:00.0 10de:2204 030000 4     nouveau       -   00:02.0
	01:00.1 10de:1aef 040300 4     snd_hda_intel -   00:02.0
	driver vfio-pci
	DESC
}
