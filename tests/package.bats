#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package (debian/): it builds from a clean tree with
# `dpkg-buildpackage -us -uc -b`, lintian finds no error in it, and, as root
# on a disposable machine (CI), it does its job when installed the way a user
# installs it:
#
#   apt-get install ./vfio-reserve_*.deb, a rule in /etc/vfio-reserve.conf,
#   the kernel arguments set by the package's editor, an initramfs built by
#   the real mkinitramfs with the package's hook (tests/vm/lib.sh), booted in
#   qemu: card 1 on vfio-pci, card 2 and the boot VGA native; then
#   apt-get purge: /etc/default/grub, /etc/default/grub.d/* and
#   /etc/kernel/cmdline are byte for byte what they were before, and nothing
#   of the package is left.
#
# The root test changes the host as a user's install would, restores
# /etc/vfio-reserve.conf, /etc/default/grub and /etc/kernel/cmdline
# afterwards, and, as the VM suite does, leaves the test kernel's modules in
# /lib/modules and its config in /boot.  It needs qemu-system-x86,
# initramfs-tools-core, busybox, e2fsprogs, kmod, cpio, zstd, grub-common and
# the network to Debian's archive (the kernel is cached in tests/vm/cache).
#
# VFIO_RESERVE_DEB=FILE tests that .deb instead of building one.
# VFIO_RESERVE_VM=0 skips the boot.  tests/run runs the files of tests/ twice
# (static and sanitizer binder); what builds or boots runs in the first pass.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
BIN=${VFIO_RESERVE_BIN:-$TOP/binder/vfio-reserve}
EXAMPLE=$TOP/vfio-reserve.conf.example
# Where the first tests leave the .deb for the others.
DEB_NOTE=${BATS_RUN_TMPDIR:-/tmp}/vfio-reserve-package.deb-path

# What the boot and purge test saves and restores.
SAVED=/etc/vfio-reserve.conf:/etc/default/grub:/etc/kernel/cmdline

once() {
	case ${VFIO_RESERVE_BIN-} in
	*-san) skip "builds and boots once, in the static-binder pass" ;;
	esac
}

need() {
	local tool
	for tool; do
		command -v "$tool" >/dev/null || fail "$tool is not installed"
	done
}

deb() {
	[ -s "$DEB_NOTE" ] || fail "no .deb: the build test failed or did not run"
	cat "$DEB_NOTE"
}

# ---- the example config ---------------------------------------------------------

@test "vfio-reserve.conf.example: every line a comment, valid for check --config-only, no rule" {
	run ! grep -v '^#' "$EXAMPLE"
	[ -r "$EXAMPLE" ]
	# The binder refuses a config that others may write: use a copy.
	cp "$EXAMPLE" "$BATS_TEST_TMPDIR/conf"
	chmod 0644 "$BATS_TEST_TMPDIR/conf"
	run "$BIN" -c "$BATS_TEST_TMPDIR/conf" check --config-only
	assert_success
	assert_output --partial 'no active rule'
	run "$BIN" -c "$BATS_TEST_TMPDIR/conf" modules
	assert_success
	assert_output ''
	# Each example rule in it is one the parser takes, once uncommented.
	grep -E '^#[0-9a-f]{4}:|^#(path|slot)=' "$EXAMPLE" | sed 's/^#//' >"$BATS_TEST_TMPDIR/rules"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/rules")" -ge 4 ]
	while read -r line; do
		printf '%s\n' "$line" >"$BATS_TEST_TMPDIR/one"
		chmod 0644 "$BATS_TEST_TMPDIR/one"
		run "$BIN" -c "$BATS_TEST_TMPDIR/one" check --config-only
		assert_success
		assert_output --partial '1 rule'
	done <"$BATS_TEST_TMPDIR/rules"
}

@test "debian/changelog carries the Makefile's VERSION" {
	need dpkg-parsechangelog
	local want
	want=$(sed -n 's/^VERSION *:= *//p' "$TOP/Makefile")
	[ -n "$want" ]
	run dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version
	assert_success
	assert_output "$want"
}

@test "maintainer scripts and demo/run are shellcheck clean" {
	need shellcheck
	run shellcheck -s sh "$TOP/debian/postinst" "$TOP/debian/prerm" "$TOP/debian/postrm"
	assert_success
	run shellcheck -x -P "$TOP/demo" "$TOP/demo/run"
	assert_success
}

# prerm leaves the work to `vfio-reserve update --remove` and goes by its exit
# status alone, whatever it prints.
@test "prerm remove runs 'vfio-reserve update --remove' and fails the removal exactly when it fails" {
	mkdir "$BATS_TEST_TMPDIR/bin"
	cat >"$BATS_TEST_TMPDIR/bin/vfio-reserve" <<-'EOF'
	#!/bin/sh
	printf '%s\n' "$*" >>"$FAKE_LOG"
	echo "vfio-reserve: ${FAKE_SAYS-}"
	exit "$FAKE_STATUS"
	EOF
	chmod 0755 "$BATS_TEST_TMPDIR/bin/vfio-reserve"
	export FAKE_LOG=$BATS_TEST_TMPDIR/log PATH=$BATS_TEST_TMPDIR/bin:$PATH
	for says in 'removed /etc/default/grub.d/vfio-reserve.cfg' 'updated /etc/default/grub' ''; do
		FAKE_STATUS=0 FAKE_SAYS=$says run -0 --separate-stderr sh "$TOP/debian/prerm" remove
		assert_equal "$output" "vfio-reserve: $says"
		assert_equal "$stderr" ''
	done
	FAKE_STATUS=1 FAKE_SAYS='updated /etc/default/grub' run -1 --separate-stderr sh "$TOP/debian/prerm" remove
	assert_equal "$stderr" "vfio-reserve: 'vfio-reserve update --remove' failed (see above): fix that and remove the package again"
	run -0 sh "$TOP/debian/prerm" upgrade
	run -0 cat "$FAKE_LOG"
	assert_output - <<-'EOF'
	update --remove
	update --remove
	update --remove
	update --remove
	EOF
	# Without the binder (a half-removed package) there is nothing to run.
	rm "$BATS_TEST_TMPDIR/bin/vfio-reserve"
	PATH=$BATS_TEST_TMPDIR/bin:/nonexistent run -0 /bin/sh "$TOP/debian/prerm" remove
}

# ---- build and lintian --------------------------------------------------------

@test "dpkg-buildpackage -us -uc -b builds vfio-reserve_*.deb from a clean tree" {
	once
	rm -f "$DEB_NOTE"
	if [ -n "${VFIO_RESERVE_DEB-}" ]; then
		[ -s "$VFIO_RESERVE_DEB" ] || fail "VFIO_RESERVE_DEB=$VFIO_RESERVE_DEB: no such file"
		(cd "$(dirname "$VFIO_RESERVE_DEB")" && echo "$PWD/$(basename "$VFIO_RESERVE_DEB")") >"$DEB_NOTE"
		skip "testing $VFIO_RESERVE_DEB"
	fi
	need dpkg-buildpackage dh musl-gcc git readelf
	# What a clean checkout holds: the tracked files and the new ones git
	# does not ignore, none of the build products.
	local src=$BATS_RUN_TMPDIR/pkg/vfio-reserve
	rm -rf "$BATS_RUN_TMPDIR/pkg"
	mkdir -p "$src"
	(cd "$TOP" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 cp --parents -t "$src" 2>/dev/null) || true
	[ -f "$src/debian/control" ] && [ -f "$src/binder/main.c" ]
	[ ! -e "$src/binder/vfio-reserve" ]
	cd "$src"
	run -0 dpkg-buildpackage -us -uc -b
	local debs=("$BATS_RUN_TMPDIR"/pkg/vfio-reserve_*.deb)
	[ "${#debs[@]}" -eq 1 ] && [ -s "${debs[0]}" ] || fail "no single .deb: ${debs[*]}"
	printf '%s\n' "${debs[0]}" >"$DEB_NOTE"
	# No warnings of our own making: an undefined substvar, dwz.
	refute_output --partial 'substitution variable'
	refute_output --partial 'dwz:'
}

@test "lintian: no error and no warning" {
	once
	need lintian
	run lintian --fail-on error,warning "$(deb)"
	echo "$output"
	assert_success
	refute_output --regexp '^[EW]: '
}

@test "the .deb: contents, conffile, update-initramfs trigger, dependencies" {
	once
	local d
	d=$(deb)
	dpkg-deb -c "$d" | awk '{ print $1, $2, $6 }' >"$BATS_TEST_TMPDIR/contents"
	local f
	for f in ./usr/sbin/vfio-reserve \
		./usr/share/initramfs-tools/hooks/vfio-reserve \
		./usr/lib/vfio-reserve/initramfs-tools/conf.d-vfio-reserve \
		./usr/share/initramfs-tools/scripts/init-top/vfio-reserve-report \
		./usr/lib/udev/rules.d/70-vfio-reserve-sriov.rules \
		./usr/lib/dracut/modules.d/50vfio-reserve/module-setup.sh \
		./usr/lib/dracut/modules.d/50vfio-reserve/vfio-reserve-boot.sh \
		./usr/lib/dracut/modules.d/50vfio-reserve/vfio-reserve.service \
		./usr/lib/vfio-reserve/update ./usr/lib/vfio-reserve/kernel-cmdline \
		./usr/lib/vfio-reserve/bootloader ./usr/lib/vfio-reserve/boot-setup \
		./usr/lib/vfio-reserve/modprobe-conf ./usr/lib/vfio-reserve/hooks/image-content \
		./usr/lib/vfio-reserve/common ./usr/lib/vfio-reserve/trial-grub \
		./etc/grub.d/09_vfio-reserve ./etc/default/grub.d/vfio-reserve-trial.cfg \
		./usr/share/man/man8/vfio-reserve.8.gz ./usr/share/man/man5/vfio-reserve.conf.5.gz \
		./usr/share/doc/vfio-reserve/copyright ./etc/vfio-reserve.conf; do
		grep -q " $f\$" "$BATS_TEST_TMPDIR/contents" || fail "the .deb lacks $f"
	done
	grep -qx -- '-rwxr-xr-x root/root ./usr/sbin/vfio-reserve' "$BATS_TEST_TMPDIR/contents"
	grep -qx -- '-rw-r--r-- root/root ./etc/vfio-reserve.conf' "$BATS_TEST_TMPDIR/contents"
	# The shipped config is the example, as a conffile.
	run -0 sh -c "dpkg-deb --ctrl-tarfile '$d' | tar -xO ./conffiles"
	assert_output - <<-'EOF'
	/etc/default/grub.d/vfio-reserve-trial.cfg
	/etc/grub.d/09_vfio-reserve
	/etc/vfio-reserve.conf
	EOF
	run -0 sh -c "dpkg-deb --fsys-tarfile '$d' | tar -xO ./etc/vfio-reserve.conf"
	[ "$output" = "$(cat "$EXAMPLE")" ]
	run -0 sh -c "dpkg-deb --ctrl-tarfile '$d' | tar -xO ./triggers"
	grep -qx 'activate-noawait update-initramfs' <<<"$output"
	run -0 dpkg-deb -f "$d" Depends
	assert_output --partial 'initramfs-tools-core | dracut-core'
	assert_output --partial 'kmod'
	# The binary in it is the static musl binder.
	mkdir "$BATS_TEST_TMPDIR/x"
	dpkg-deb -x "$d" "$BATS_TEST_TMPDIR/x"
	run -0 readelf -lW "$BATS_TEST_TMPDIR/x/usr/sbin/vfio-reserve"
	refute_output --partial INTERP
	refute_output --partial DYNAMIC
	run -0 "$BATS_TEST_TMPDIR/x/usr/sbin/vfio-reserve" --help
}

# ---- installed, booted, purged ------------------------------------------------

# The host's files this test may change, saved (or noted as absent) so that
# teardown can put them back: the boot configuration, and the files of the
# package DEB that are there already (a developer's `make install`, the VM
# suite's), which are then taken away until teardown: the test starts from a
# host without the package, as a user's does, whose boot configuration the
# purge must give back (a GRUB drop-in left by `make install` would be in
# "before" and gone after the purge).
save_host() {
	local f
	mkdir -p "$BATS_RUN_TMPDIR/saved"
	: >"$BATS_RUN_TMPDIR/saved/absent"
	for f in ${SAVED//:/ }; do
		if [ -e "$f" ]; then
			cp -a "$f" "$BATS_RUN_TMPDIR/saved/${f//\//_}"
		else
			echo "$f" >>"$BATS_RUN_TMPDIR/saved/absent"
		fi
	done
	dpkg-deb -c "$1" | awk '$1 !~ /^d/ { sub("^\\./", "", $6); print $6 }' |
		while read -r f; do
			[ "$f" = etc/vfio-reserve.conf ] || [ ! -e "/$f" ] || echo "$f"
		done >"$BATS_RUN_TMPDIR/saved/installed"
	tar -C / -cpf "$BATS_RUN_TMPDIR/saved/installed.tar" -T "$BATS_RUN_TMPDIR/saved/installed"
	: >"$BATS_RUN_TMPDIR/saved/active"
	while read -r f; do
		rm -f "/$f"
	done <"$BATS_RUN_TMPDIR/saved/installed"
}

restore_host() {
	local f
	[ -e "$BATS_RUN_TMPDIR/saved/active" ] || return 0
	if dpkg-query -W -f='${db:Status-Abbrev}' vfio-reserve 2>/dev/null | grep -q '^[ic]'; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q vfio-reserve >/dev/null 2>&1 || true
	fi
	for f in ${SAVED//:/ }; do
		if grep -qx "$f" "$BATS_RUN_TMPDIR/saved/absent"; then
			rm -f "$f"
		else
			cp -a "$BATS_RUN_TMPDIR/saved/${f//\//_}" "$f"
		fi
	done
	tar -C / -xpf "$BATS_RUN_TMPDIR/saved/installed.tar"
	rm -f "$BATS_RUN_TMPDIR/saved/active"
}

teardown() {
	restore_host
}

# Checksums of what removal must give back: GRUB's defaults, its drop-ins,
# the kernel-install command line, and the names in grub.d.
boot_config_sums() {
	local f
	for f in /etc/default/grub /etc/default/grub.d/* /etc/kernel/cmdline; do
		[ -e "$f" ] && sha256sum "$f"
	done
	find /etc/default/grub.d -mindepth 1 -maxdepth 1 -printf '%M %p\n' 2>/dev/null | sort
	return 0
}

# field ADDR KEY: KEY= of ADDR's REPORT line in the guest's console log.
field() {
	tr -d '\r' <"$VM_OUT/package.log" | awk -v a="$1" -v k="$2=" '
		$1 == "REPORT" && $2 == a {
			for (i = 3; i <= NF; i++)
				if (index($i, k) == 1) print substr($i, length(k) + 1)
		}'
}

@test "apt-get install, a rule, the package's initramfs boots with card 1 reserved; purge restores GRUB and /etc/kernel/cmdline byte for byte" {
	once
	[ "$(id -u)" -eq 0 ] || skip "installs the package: root only (CI)"
	[ "${VFIO_RESERVE_VM:-1}" != 0 ] || skip "VFIO_RESERVE_VM=0"
	need apt-get qemu-system-x86_64 mkinitramfs lsinitramfs busybox mke2fs depmod
	local d f args
	d=$(deb)
	if dpkg-query -W -f='${db:Status-Abbrev}' vfio-reserve 2>/dev/null | grep -q '^[ic]'; then
		fail "vfio-reserve is installed on this host already: this test installs and purges it"
	fi
	save_host "$d"
	export DEBIAN_FRONTEND=noninteractive

	# A host as a user has it: GRUB's defaults and a kernel-install command
	# line, both ending without vfio-reserve; no config of ours.
	if [ ! -e /etc/default/grub ]; then
		mkdir -p /etc/default
		cat >/etc/default/grub <<-'EOF'
		# If you change this file, run 'update-grub' afterwards to update
		# /boot/grub/grub.cfg.
		# For full documentation of the options in this file, see:
		#   info -f grub -n 'Simple configuration'

		GRUB_DEFAULT=0
		GRUB_TIMEOUT=5
		GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`
		GRUB_CMDLINE_LINUX_DEFAULT="quiet"
		GRUB_CMDLINE_LINUX=""
		EOF
	fi
	if [ ! -e /etc/kernel/cmdline ]; then
		mkdir -p /etc/kernel
		echo 'root=UUID=3f1e2d4c-5b6a-4798-8a9b-0c1d2e3f4a5b ro quiet' >/etc/kernel/cmdline
	fi
	rm -f /etc/vfio-reserve.conf
	boot_config_sums >"$BATS_TEST_TMPDIR/before"

	# 1. Installed as a user installs it.
	run apt-get install -y "$d"
	echo "$output"
	assert_success
	[ "$(dpkg-query -W -f='${db:Status-Abbrev}' vfio-reserve)" = "ii " ]
	dpkg -L vfio-reserve >"$BATS_TEST_TMPDIR/files"
	cmp "$EXAMPLE" /etc/vfio-reserve.conf
	run dpkg-query -W -f='${Conffiles}' vfio-reserve
	assert_output --partial '/etc/vfio-reserve.conf '
	run -0 vfio-reserve check --config-only
	# Installing changed no boot configuration: the example has no rule.
	# The one new file is the package's own GRUB drop-in for the trial boot
	# (vfio-reserve(8), TRIAL BOOT), which puts only an empty GRUB variable
	# on the entries while no trial runs; purge takes it away (step 5).
	boot_config_sums | grep -v ' /etc/default/grub.d/vfio-reserve-trial.cfg$' |
		diff "$BATS_TEST_TMPDIR/before" -
	run -0 dpkg -S /etc/default/grub.d/vfio-reserve-trial.cfg
	assert_output 'vfio-reserve: /etc/default/grub.d/vfio-reserve-trial.cfg'
	# The exports' units are enabled, as Debian enables a package's services
	# (each runs only where its directory is).
	for f in vfio-reserve-metrics.service vfio-reserve-nfd.service; do
		[ "$(readlink "/etc/systemd/system/multi-user.target.wants/$f")" = "/lib/systemd/system/$f" ] ||
			fail "$f is not enabled"
		[ -e "/etc/systemd/system/multi-user.target.wants/$f" ] || fail "$f: the link leads nowhere"
	done

	# 2. One rule, and its kernel arguments through the package's editor
	# (step 2 of `vfio-reserve update`; steps 3 and 4 would rebuild this
	# host's own initramfs and GRUB menu).
	printf '%s\n' '# vfio-reserve package test: card 1 by address and ID' \
		'0000:01:00.0 1234:1111' >/etc/vfio-reserve.conf
	run -0 vfio-reserve check --config-only
	args=$(vfio-reserve cmdline)
	[ -n "$args" ]
	# shellcheck disable=SC2086
	run -0 /usr/lib/vfio-reserve/kernel-cmdline set $args
	echo "$output"
	if [ -e /etc/default/grub.d/vfio-reserve.cfg ]; then
		grep -qx "vfio_reserve_args='$args'" /etc/default/grub.d/vfio-reserve.cfg
	else
		grep -qx '# BEGIN vfio-reserve' /etc/default/grub
	fi
	grep -q " $args\$" /etc/kernel/cmdline
	run ! diff -q "$BATS_TEST_TMPDIR/before" <(boot_config_sums)

	# 3. The image, built by the real mkinitramfs with the hook and the
	# binder the package installed (tests/vm: the test configuration dir,
	# whose test-only hook forces the native drivers in).
	VM_LIB=$TOP/tests/vm/lib.sh
	# shellcheck source=vm/lib.sh
	. "$VM_LIB"
	VM_OUT=$BATS_TEST_TMPDIR/vm
	mkdir -p "$VM_OUT"
	vm_fetch_kernel 2>"$VM_OUT/kernel.log" || { cat "$VM_OUT/kernel.log"; false; }
	vm_install_kernel 2>>"$VM_OUT/kernel.log"
	vm_build_rootfs
	run vm_mkinitramfs "$VM_OUT/package.img"
	echo "$output"
	assert_success
	refute_output --regexp '[EW]: vfio-reserve'
	lsinitramfs "$VM_OUT/package.img" >"$VM_OUT/package.list"
	for f in usr/sbin/vfio-reserve etc/vfio-reserve.conf conf/conf.d/vfio-reserve; do
		grep -qx "$f" "$VM_OUT/package.list" || fail "the image lacks $f"
	done
	grep -q 'vfio-pci.ko' "$VM_OUT/package.list"

	# 4. Booted: card 1 on vfio-pci, card 2 and the boot VGA native.
	vm_boot package "$VM_OUT/package.img" intel || {
		tr -d '\r' <"$VM_OUT/package.log" | tail -n 30
		fail "qemu failed"
	}
	tr -d '\r' <"$VM_OUT/package.log" | grep -qa '^GUEST-DONE' || {
		tr -d '\r' <"$VM_OUT/package.log" | tail -n 30
		fail "the guest did not report"
	}
	tr -d '\r' <"$VM_OUT/package.log" | grep -a -e '^REPORT' -e 'vfio-reserve: '
	[ "$(field 0000:01:00.0 driver)" = vfio-pci ]
	[ "$(field 0000:01:00.1 driver)" = vfio-pci ]
	[ "$(field 0000:02:00.0 driver)" = bochs-drm ]
	[ "$(field 0000:02:00.1 driver)" = snd_hda_intel ]
	[ "$(field 0000:00:01.0 driver)" = bochs-drm ]
	tr -d '\r' <"$VM_OUT/package.log" |
		grep -qa 'vfio-reserve: 0000:01:00.0 \[1234:1111\] -> vfio-pci (rule line 2)'

	# 5. Purged: the boot configuration is what it was, byte for byte, and
	# nothing of the package is left, the config included.
	run apt-get purge -y vfio-reserve
	echo "$output"
	assert_success
	# dpkg forgets a purged package, or keeps it as "not installed".
	if f=$(dpkg-query -W -f='${db:Status-Abbrev}' vfio-reserve 2>/dev/null); then
		case $f in
		un* | pn*) ;;
		*) fail "vfio-reserve is still known to dpkg as '$f'" ;;
		esac
	fi
	boot_config_sums | diff -u "$BATS_TEST_TMPDIR/before" -
	[ ! -e /etc/default/grub.d/vfio-reserve.cfg ]
	[ ! -L /etc/systemd/system/multi-user.target.wants/vfio-reserve-metrics.service ]
	[ ! -L /etc/systemd/system/multi-user.target.wants/vfio-reserve-nfd.service ]
	[ ! -e /etc/vfio-reserve.conf ]
	[ ! -e /var/lib/vfio-reserve ]
	while read -r f; do
		[ -d "$f" ] || [ ! -e "$f" ] || fail "$f is still there"
	done <"$BATS_TEST_TMPDIR/files"
}

# In a private mount namespace, with /etc, /usr, /var and /boot overlays
# whose writes are thrown away: initramfs-tools (not the -core that CI has),
# an installed test kernel and its initramfs.  Installing, upgrading and
# removing vfio-reserve each make dpkg run update-initramfs through the
# trigger, and the image follows.
@test "the update-initramfs trigger: install, upgrade and remove rebuild the initramfs (initramfs-tools, in a throwaway mount namespace)" {
	once
	[ "$(id -u)" -eq 0 ] || skip "mounts overlays and installs packages: root only (CI)"
	[ "${VFIO_RESERVE_VM:-1}" != 0 ] || skip "VFIO_RESERVE_VM=0"
	need unshare apt-get lsinitramfs
	local d
	d=$(deb)
	VM_LIB=$TOP/tests/vm/lib.sh
	# shellcheck source=vm/lib.sh
	. "$VM_LIB"
	vm_fetch_kernel 2>/dev/null
	host_state() {
		dpkg-query -W -f='${Package}=${db:Status-Abbrev} ' initramfs-tools vfio-reserve 2>/dev/null
		ls /boot
	}
	local before
	before=$(host_state)
	cat >"$BATS_TEST_TMPDIR/trigger.sh" <<'SCRIPT'
#!/bin/bash
set -eu
deb=$1 work=$2 kroot=$3 kver=$4
for dir in etc usr var boot; do
	mkdir -p "$work/$dir.up" "$work/$dir.work"
	mount -t overlay "trigger-$dir" \
		-o "lowerdir=/$dir,upperdir=$work/$dir.up,workdir=$work/$dir.work" "/$dir"
done
mkdir -p "/usr/lib/modules/$kver"
mount --bind "$kroot/lib/modules/$kver" "/usr/lib/modules/$kver"
cp "$kroot/boot/vmlinuz-$kver" "$kroot/boot/config-$kver" /boot/
rm -f /etc/vfio-reserve.conf
export DEBIAN_FRONTEND=noninteractive
img=/boot/initrd.img-$kver
step() {
	echo "=== $1"
	stamp=$(stat -c %Y "$img" 2>/dev/null || echo none)
	sleep 1
}
image() {
	[ "$(stat -c %Y "$img")" != "$stamp" ] || { echo "$img: not rebuilt"; exit 1; }
	lsinitramfs "$img" | grep -E '^(usr/sbin/vfio-reserve|conf/conf.d/vfio-reserve)$' || echo "(no vfio-reserve)"
}
apt-get install -y -q --no-install-recommends initramfs-tools >/dev/null
sed -i 's/^MODULES=.*/MODULES=list/' /etc/initramfs-tools/initramfs.conf
[ -e "$img" ] || update-initramfs -c -k "$kver" >/dev/null 2>&1
step install
apt-get install -y -q "$deb"
image
step "upgrade, with a rule"
printf '0000:01:00.0 1234:1111\n' >/etc/vfio-reserve.conf
apt-get install -y -q --reinstall "$deb"
image
step remove
apt-get remove -y -q vfio-reserve
image
SCRIPT
	chmod 0755 "$BATS_TEST_TMPDIR/trigger.sh"
	mkdir "$BATS_TEST_TMPDIR/ns"
	run unshare --mount --propagation private "$BATS_TEST_TMPDIR/trigger.sh" \
		"$d" "$BATS_TEST_TMPDIR/ns" "$VM_KROOT" "$KVER"
	echo "$output"
	assert_success
	local log=$output
	# Each step: dpkg ran update-initramfs through the trigger, and the image
	# carries the binder exactly while a rule is there and the package is.
	awk '/^=== /{ step = $2 } /update-initramfs: Generating/ { n[step]++ }
		END { exit !(n["install"] && n["upgrade,"] && n["remove"]) }' <<<"$log" ||
		fail "update-initramfs did not run at each step"
	run sed -n '/^=== install/,/^=== upgrade/p' <<<"$log"
	assert_output --partial '(no vfio-reserve)'
	run sed -n '/^=== upgrade/,/^=== remove/p' <<<"$log"
	assert_output --partial 'usr/sbin/vfio-reserve'
	assert_output --partial 'conf/conf.d/vfio-reserve'
	run sed -n '/^=== remove/,$p' <<<"$log"
	assert_output --partial '(no vfio-reserve)'
	# Nothing of it reached the host.
	[ "$(host_state)" = "$before" ] || fail "the host changed: $before -> $(host_state)"
}
