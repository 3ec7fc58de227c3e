#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The packages for the other families, all from one `make dist` tarball:
# the RPM (rpm/vfio-reserve.spec) built with rpmbuild and linted with
# rpmlint, the Arch package (arch/PKGBUILD) built with makepkg, and, from
# the same tarball, the .deb; the RPM and the Arch package must install the
# .deb's files, with its modes and contents, and take its maintainer
# actions.
#
# On Debian, rpmbuild runs with --nodeps: the spec's BuildRequires are
# Fedora's names (musl-gcc, musl-devel, musl-libc-static), which Debian's
# rpm database does not know, and the build uses Debian's musl-gcc
# (musl-tools).  makepkg refuses to run as root: it runs as nobody, with
# --nodeps (Debian has no pacman database with musl in it).
#
# The maintainer scripts run, as the package managers run them, in a
# throwaway root (tests/lib/throwaway-root.bash: root only) with stand-ins
# for the binder, the editor, dracut and mkinitcpio that record their
# arguments.  tests/run runs the files of tests/ twice; what builds runs in
# the first pass.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
# shellcheck source=tests/lib/throwaway-root.bash
source "$BATS_TEST_DIRNAME/lib/throwaway-root.bash"

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
VERSION=$(sed -n 's/^VERSION *:= *//p' "$TOP/Makefile")
# What the first tests build, for the others.
OUT=${BATS_RUN_TMPDIR:-/tmp}/dist
TARBALL=$OUT/vfio-reserve-$VERSION.tar.gz
RPM=$OUT/vfio-reserve-$VERSION-1.x86_64.rpm

once() {
	case ${VFIO_RESERVE_BIN-} in
	*-san) skip "builds once, in the static-binder pass" ;;
	esac
}

need() {
	local tool
	for tool; do
		command -v "$tool" >/dev/null || fail "$tool is not installed"
	done
}

built() {
	[ -s "$1" ] || fail "no $1: the test that builds it failed or did not run"
}

# contents DIR: one line per file and link below DIR, with the package
# managers' own files and the documentation left out: type and mode, path,
# and for a file its SHA-256.  Compressed manual pages are uncompressed.
contents() {
	(cd "$1" && find . -mindepth 1 \( -path ./usr/share/doc -o -path ./usr/share/licenses \
		-o -path ./usr/share/lintian -o -name '.[A-Z]*' \) -prune -o -print | LC_ALL=C sort |
		while read -r f; do
			if [ -d "$f" ]; then
				continue
			elif [ -L "$f" ]; then
				echo "link $f -> $(readlink "$f")"
			else
				case $f in
				*.gz) echo "$(stat -c %a "$f") ${f%.gz} $(gzip -dc "$f" | sha256sum | cut -c1-64)" ;;
				*) echo "$(stat -c %a "$f") $f $(sha256sum <"$f" | cut -c1-64)" ;;
				esac
			fi
		done)
}

# ---- the tarball ----------------------------------------------------------------

@test "make dist: the tracked files under vfio-reserve-VERSION/, the same bytes each time" {
	once
	need git tar gzip
	rm -rf "$OUT"
	mkdir -p "$OUT/again"
	run -0 make -s -C "$TOP" dist DISTDIR="$OUT"
	assert_output "$TARBALL"
	sleep 1
	run -0 make -s -C "$TOP" dist DISTDIR="$OUT/again"
	cmp "$TARBALL" "$OUT/again/vfio-reserve-$VERSION.tar.gz"
	diff -u <(cd "$TOP" && git ls-files | LC_ALL=C sort | sed "s|^|vfio-reserve-$VERSION/|") \
		<(tar -tzf "$TARBALL")
	# Owner root, one time stamp (the last commit's), no group or other write.
	run -0 bash -c "TZ=UTC tar -tvzf '$TARBALL' | awk '{ print \$2, \$4, \$5 }' | sort -u"
	assert_output "0/0 $(cd "$TOP" && TZ=UTC git log -1 --date=format-local:'%Y-%m-%d %H:%M' --format=%cd)"
	run -0 bash -c "tar -tvzf '$TARBALL' | cut -c1-10 | sort -u"
	assert_output - <<-'EOF'
	-rw-r--r--
	-rwxr-xr-x
	EOF
}

@test "the spec and the PKGBUILD carry the Makefile's VERSION, the license GPL-2.0-or-later and the tarball" {
	[ -n "$VERSION" ]
	run -0 grep -E '^(Version|License|Source0):' "$TOP/rpm/vfio-reserve.spec"
	assert_output - <<-EOF
	Version:        $VERSION
	License:        GPL-2.0-or-later
	Source0:        %{name}-%{version}.tar.gz
	EOF
	run -0 bash -c "source '$TOP/arch/PKGBUILD'; printf '%s\n' \"\$pkgver\" \"\${license[@]}\" \"\${source[@]}\" \"\${backup[@]}\" \"\$install\""
	assert_output - <<-EOF
	$VERSION
	GPL-2.0-or-later
	vfio-reserve-$VERSION.tar.gz
	etc/vfio-reserve.conf
	vfio-reserve.install
	EOF
	run -0 grep -x 'makedepends=(.musl. .make. .gcc.)' "$TOP/arch/PKGBUILD"
	run -0 grep -c -x -e 'BuildRequires:  musl-gcc' -e 'BuildRequires:  musl-devel' \
		-e 'BuildRequires:  musl-libc-static' "$TOP/rpm/vfio-reserve.spec"
	assert_output 3
	need shellcheck
	# A PKGBUILD sets variables for makepkg and uses its pkgdir.
	run shellcheck -s bash -e SC2034,SC2154 "$TOP/arch/PKGBUILD"
	assert_success
	assert_output ''
}

# ---- the three packages from the tarball ----------------------------------------

@test "rpmbuild builds the RPM from the tarball" {
	once
	need rpmbuild musl-gcc
	built "$TARBALL"
	local top=$OUT/rpmbuild
	mkdir -p "$top/SOURCES"
	cp "$TARBALL" "$top/SOURCES/"
	run rpmbuild -bb --nodeps --define "_topdir $top" "$TOP/rpm/vfio-reserve.spec"
	echo "$output" | tail -n 20
	assert_success
	assert_output --partial "binder/vfio-reserve: "
	[ -s "$top/RPMS/x86_64/vfio-reserve-$VERSION-1.x86_64.rpm" ]
	cp "$top/RPMS/x86_64/vfio-reserve-$VERSION-1.x86_64.rpm" "$RPM"
}

@test "rpmlint: no error and no warning (rpm/vfio-reserve.rpmlintrc says why each filter is there)" {
	once
	need rpmlint
	built "$RPM"
	run rpmlint -r "$TOP/rpm/vfio-reserve.rpmlintrc" "$RPM" "$TOP/rpm/vfio-reserve.spec"
	echo "$output"
	assert_success
	assert_line --regexp '^ 1 packages and 1 specfiles checked; 0 errors, 0 warnings, 0 badness; '
}

@test "makepkg builds the Arch package from the tarball, as an unprivileged user" {
	once
	need makepkg setpriv bsdtar
	[ "$(id -u)" -eq 0 ] || skip "runs makepkg as nobody: root only (CI)"
	built "$TARBALL"
	local dir
	# Below /tmp, where nobody can reach it (the bats directories are 0700).
	dir=$(mktemp -d /tmp/vfio-reserve-makepkg.XXXXXX)
	cp "$TOP/arch/PKGBUILD" "$TOP/arch/vfio-reserve.install" "$TARBALL" "$dir/"
	chown -R nobody:nogroup "$dir"
	run setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env -C "$dir" HOME="$dir" makepkg --nodeps --noconfirm
	echo "$output" | tail -n 20
	cp "$dir"/vfio-reserve-"$VERSION"-1-*.pkg.tar.* "$OUT/" 2>/dev/null || true
	rm -rf "$dir"
	assert_success
	assert_output --partial "==> Finished making: vfio-reserve $VERSION-1"
	# makepkg's own packaging checks (namcap is not in Debian) found
	# nothing; the one warning is --nodeps'.
	assert_equal "$(grep -e '==> WARNING:' -e '==> ERROR:' <<<"$output")" \
		'==> WARNING: Skipping dependency checks.'
	# makepkg would not run as root.
	run ! makepkg --nodeps --noconfirm -p /dev/null
	local pkgs=("$OUT"/vfio-reserve-"$VERSION"-1-*.pkg.tar.*)
	[ "${#pkgs[@]}" -eq 1 ] && [ -s "${pkgs[0]}" ]
	cp "${pkgs[0]}" "$OUT/vfio-reserve.pkg.tar"
	run -0 bsdtar -xOf "$OUT/vfio-reserve.pkg.tar" .PKGINFO
	assert_line "pkgver = $VERSION-1"
	assert_line 'license = GPL-2.0-or-later'
	assert_line 'backup = etc/vfio-reserve.conf'
	assert_line 'makedepend = musl'
}

@test "dpkg-buildpackage builds the .deb from the same tarball" {
	once
	need dpkg-buildpackage dh musl-gcc
	built "$TARBALL"
	mkdir -p "$OUT/deb"
	tar -C "$OUT/deb" -xzf "$TARBALL"
	cd "$OUT/deb/vfio-reserve-$VERSION"
	run dpkg-buildpackage -us -uc -b
	echo "$output" | tail -n 20
	assert_success
	cp "$OUT"/deb/vfio-reserve_"$VERSION"_*.deb "$OUT/vfio-reserve.deb"
}

# Paths, modes and contents, man pages uncompressed, documentation aside.
# The one difference: Arch's program is /usr/bin/vfio-reserve (/usr/sbin is
# a link to /usr/bin there), and the scripts that call it say so.
@test "the RPM and the Arch package install the .deb's files, with its modes and contents" {
	once
	need dpkg-deb rpm2cpio cpio bsdtar
	built "$OUT/vfio-reserve.deb"
	built "$RPM"
	built "$OUT/vfio-reserve.pkg.tar"
	local x=$BATS_TEST_TMPDIR
	mkdir -p "$x/deb" "$x/rpm" "$x/arch"
	dpkg-deb -x "$OUT/vfio-reserve.deb" "$x/deb"
	(cd "$x/rpm" && rpm2cpio "$RPM" | cpio -idm --quiet)
	bsdtar -C "$x/arch" -xf "$OUT/vfio-reserve.pkg.tar"
	contents "$x/deb" >"$x/deb.list"
	# Every file make install installs is there, and the conffile.
	run -0 cut -d' ' -f1,2 "$x/deb.list"
	assert_output - <<-'EOF'
	644 ./etc/default/grub.d/vfio-reserve-trial.cfg
	755 ./etc/grub.d/09_vfio-reserve
	644 ./etc/vfio-reserve.conf
	755 ./usr/lib/dracut/modules.d/50vfio-reserve/module-setup.sh
	755 ./usr/lib/dracut/modules.d/50vfio-reserve/vfio-reserve-boot.sh
	644 ./usr/lib/dracut/modules.d/50vfio-reserve/vfio-reserve.service
	644 ./usr/lib/initcpio/hooks/vfio-reserve
	644 ./usr/lib/initcpio/install/sd-vfio-reserve
	644 ./usr/lib/initcpio/install/vfio-reserve
	755 ./usr/lib/kernel/install.d/91-vfio-reserve-trial.install
	644 ./usr/lib/systemd/system/systemd-bless-boot.service.d/vfio-reserve-trial.conf
	644 ./usr/lib/systemd/system/vfio-reserve-metrics.service
	644 ./usr/lib/systemd/system/vfio-reserve-nfd.service
	644 ./usr/lib/udev/rules.d/70-vfio-reserve-sriov.rules
	644 ./usr/lib/udev/rules.d/71-vfio-reserve-metrics.rules
	644 ./usr/lib/udev/rules.d/71-vfio-reserve-nfd.rules
	755 ./usr/lib/vfio-reserve/boot-setup
	755 ./usr/lib/vfio-reserve/bootloader
	644 ./usr/lib/vfio-reserve/common
	644 ./usr/lib/vfio-reserve/hooks/image-content
	644 ./usr/lib/vfio-reserve/initramfs-tools/conf.d-vfio-reserve
	755 ./usr/lib/vfio-reserve/kernel-cmdline
	644 ./usr/lib/vfio-reserve/mkinitcpio/common
	644 ./usr/lib/vfio-reserve/mkinitcpio/vfio-reserve.service
	755 ./usr/lib/vfio-reserve/modprobe-conf
	755 ./usr/lib/vfio-reserve/reports
	755 ./usr/lib/vfio-reserve/trial
	755 ./usr/lib/vfio-reserve/trial-grub
	755 ./usr/lib/vfio-reserve/trial-systemd-boot
	755 ./usr/lib/vfio-reserve/update
	755 ./usr/sbin/vfio-reserve
	755 ./usr/share/initramfs-tools/hooks/vfio-reserve
	755 ./usr/share/initramfs-tools/scripts/init-top/vfio-reserve-report
	644 ./usr/share/man/man5/vfio-reserve.conf.5
	644 ./usr/share/man/man8/vfio-reserve.8
	EOF
	contents "$x/rpm" | diff -u "$x/deb.list" -
	# Arch: the program in /usr/bin, the files that name it.
	mkdir -p "$x/arch/usr/sbin"
	mv "$x/arch/usr/bin/vfio-reserve" "$x/arch/usr/sbin/vfio-reserve"
	rmdir "$x/arch/usr/bin"
	grep -rlF --exclude='.[A-Z]*' /usr/bin/vfio-reserve "$x/arch" | LC_ALL=C sort >"$x/named"
	run -0 sed "s|^$x/arch/||" "$x/named"
	assert_output - <<-'EOF'
	usr/lib/dracut/modules.d/50vfio-reserve/vfio-reserve-boot.sh
	usr/lib/dracut/modules.d/50vfio-reserve/vfio-reserve.service
	usr/lib/initcpio/hooks/vfio-reserve
	usr/lib/systemd/system/vfio-reserve-metrics.service
	usr/lib/systemd/system/vfio-reserve-nfd.service
	usr/lib/udev/rules.d/70-vfio-reserve-sriov.rules
	usr/lib/udev/rules.d/71-vfio-reserve-metrics.rules
	usr/lib/udev/rules.d/71-vfio-reserve-nfd.rules
	usr/lib/vfio-reserve/hooks/image-content
	usr/lib/vfio-reserve/initramfs-tools/conf.d-vfio-reserve
	usr/lib/vfio-reserve/mkinitcpio/vfio-reserve.service
	usr/lib/vfio-reserve/modprobe-conf
	EOF
	xargs sed -i 's|/usr/bin/vfio-reserve|/usr/sbin/vfio-reserve|g' <"$x/named"
	contents "$x/arch" | diff -u "$x/deb.list" -
	# The conffiles are the same in each: the config, and the trial boot's
	# two GRUB files, which grub-mkconfig runs and sources from /etc.
	conffiles="/etc/default/grub.d/vfio-reserve-trial.cfg
/etc/grub.d/09_vfio-reserve
/etc/vfio-reserve.conf"
	run -0 sh -c "dpkg-deb --ctrl-tarfile '$OUT/vfio-reserve.deb' | tar -xO ./conffiles"
	assert_output "$conffiles"
	run -0 rpm -qp --configfiles "$RPM"
	assert_output "$conffiles"
}

# ---- the maintainer scripts -----------------------------------------------------

# A throwaway root with stand-ins that record their arguments in $LOG:
# the binder (at BIN, answering `modules` with $MODULES and exit
# $MODULES_STATUS, `cmdline` with $ARGS, `update` with exit $UPDATE_STATUS),
# the editor (--check exits $CHECK_STATUS), dracut and mkinitcpio (exit
# $GEN_STATUS), and a config with a rule.
maint_root() {
	local bin=$1 tool
	W=$BATS_TEST_TMPDIR/root
	LOG=$BATS_TEST_TMPDIR/log
	mkdir -p "$W/usr.up/lib/vfio-reserve" "$W/usr.up/bin" "$W/usr.up/sbin" "$W/etc.up"
	cat >"$W/usr.up/${bin#/usr/}" <<-EOF
	#!/bin/sh
	echo "vfio-reserve \$*" >>'$LOG'
	case \$* in
	*modules) [ -z "\$MODULES" ] || echo "\$MODULES"; exit "\${MODULES_STATUS:-0}" ;;
	*cmdline) [ -z "\$ARGS" ] || echo "\$ARGS" ;;
	update*) exit "\${UPDATE_STATUS:-0}" ;;
	esac
	EOF
	cat >"$W/usr.up/lib/vfio-reserve/kernel-cmdline" <<-EOF
	#!/bin/sh
	echo "kernel-cmdline \$*" >>'$LOG'
	exit "\${CHECK_STATUS:-0}"
	EOF
	for tool in dracut mkinitcpio; do
		cat >"$W/usr.up/bin/$tool" <<-EOF
		#!/bin/sh
		echo "$tool \$*" >>'$LOG'
		exit "\${GEN_STATUS:-0}"
		EOF
	done
	chmod 0755 "$W/usr.up/${bin#/usr/}" "$W/usr.up/lib/vfio-reserve/kernel-cmdline" \
		"$W/usr.up/bin/dracut" "$W/usr.up/bin/mkinitcpio"
	echo '0000:01:00.0 1234:1111' >"$W/etc.up/vfio-reserve.conf"
	mkdir -p "$W/etc.up/mkinitcpio.d"
	printf '%s\n' /usr/sbin/dracut /usr/sbin/mkinitcpio /usr/local/bin/dracut \
		/usr/local/bin/mkinitcpio /usr/local/sbin/dracut /usr/local/sbin/mkinitcpio >"$W/absent"
	export MODULES='vfio-pci
vfio_iommu_type1' ARGS='intel_iommu=on iommu=pt' MODULES_STATUS=0 UPDATE_STATUS=0 CHECK_STATUS=0 GEN_STATUS=0
}

log() {
	cat "$LOG" 2>/dev/null
	rm -f "$LOG"
}

# scriptlet NAME ARG: the RPM's scriptlet, run as rpm runs it.
scriptlet() {
	rpm -qp --qf "%{$1}" "$RPM" >"$BATS_TEST_TMPDIR/$1"
	throwaway_root "$W" /bin/sh "$BATS_TEST_TMPDIR/$1" "$2"
}

@test "RPM scriptlets: the .deb's maintainer actions, by exit status" {
	once
	[ "$(id -u)" -eq 0 ] || skip "runs the scriptlets in a throwaway root: root only (CI)"
	built "$RPM"
	maint_root /usr/sbin/vfio-reserve
	# %post, install (1) or upgrade (2), a rule active, its arguments set.
	for n in 1 2; do
		run -0 --separate-stderr scriptlet POSTIN "$n"
		assert_equal "$output$stderr" ''
		run -0 log
		assert_output - <<-'EOF'
		vfio-reserve -c /etc/vfio-reserve.conf modules
		dracut -f --regenerate-all
		vfio-reserve -q cmdline
		kernel-cmdline --check set intel_iommu=on iommu=pt
		EOF
	done
	# No active rule: no rebuild; a config the binder refuses (exit 2): none.
	MODULES='' ARGS='' run -0 scriptlet POSTIN 1
	assert_equal "$(log)" 'vfio-reserve -c /etc/vfio-reserve.conf modules
vfio-reserve -q cmdline'
	MODULES_STATUS=2 ARGS='' run -0 scriptlet POSTIN 1
	assert_equal "$(log)" 'vfio-reserve -c /etc/vfio-reserve.conf modules
vfio-reserve -q cmdline'
	# dracut fails and the arguments are not set: both said, exit 0.
	GEN_STATUS=3 CHECK_STATUS=1 run -0 --separate-stderr scriptlet POSTIN 1
	assert_equal "$stderr" "vfio-reserve: dracut failed (exit 3): run 'dracut -f --regenerate-all'"
	assert_equal "$output" "vfio-reserve: /etc/vfio-reserve.conf has rules whose kernel arguments (intel_iommu=on iommu=pt) are not set: run 'vfio-reserve update'"
	log >/dev/null
	# %preun: on erase (0) update --remove, whose failure stops the erase;
	# nothing on upgrade (1).
	run -0 --separate-stderr scriptlet PREUN 0
	assert_equal "$output$stderr" ''
	assert_equal "$(log)" 'vfio-reserve update --remove'
	UPDATE_STATUS=1 run -1 --separate-stderr scriptlet PREUN 0
	assert_equal "$stderr" "vfio-reserve: 'vfio-reserve update --remove' failed (see above): fix that and remove the package again"
	assert_equal "$(log)" 'vfio-reserve update --remove'
	run -0 scriptlet PREUN 1
	assert_equal "$(log)" ''
	# %postun: after the erase the initramfs without the hook, and the
	# editor's state gone; nothing after an upgrade.
	run -0 scriptlet POSTUN 1
	assert_equal "$(log)" ''
	run -0 scriptlet POSTUN 0
	assert_equal "$(log)" 'dracut -f --regenerate-all'
}

# pacman sources the install script and calls the function, with /bin/sh.
@test "Arch install script: the .deb's maintainer actions, by exit status" {
	once
	[ "$(id -u)" -eq 0 ] || skip "runs the install script in a throwaway root: root only (CI)"
	built "$OUT/vfio-reserve.pkg.tar"
	bsdtar -xOf "$OUT/vfio-reserve.pkg.tar" .INSTALL >"$BATS_TEST_TMPDIR/install"
	cmp "$TOP/arch/vfio-reserve.install" "$BATS_TEST_TMPDIR/install"
	maint_root /usr/bin/vfio-reserve
	pacman_runs() {
		throwaway_root "$W" /bin/sh -c '. "$1"; "$2" "$3"' sh "$BATS_TEST_TMPDIR/install" "$1" "$VERSION-1"
	}
	# mkinitcpio set up: mkinitcpio -P; otherwise dracut.
	: >"$W/etc.up/mkinitcpio.conf"
	for fn in post_install post_upgrade; do
		run -0 --separate-stderr pacman_runs "$fn"
		assert_equal "$output$stderr" ''
		run -0 log
		assert_output - <<-'EOF'
		vfio-reserve -c /etc/vfio-reserve.conf modules
		mkinitcpio -P
		vfio-reserve -q cmdline
		kernel-cmdline --check set intel_iommu=on iommu=pt
		EOF
	done
	GEN_STATUS=4 CHECK_STATUS=1 run -0 --separate-stderr pacman_runs post_install
	assert_equal "$stderr" "vfio-reserve: mkinitcpio failed (exit 4): run 'mkinitcpio -P'"
	assert_equal "$output" "vfio-reserve: /etc/vfio-reserve.conf has rules whose kernel arguments (intel_iommu=on iommu=pt) are not set: run 'vfio-reserve update'"
	log >/dev/null
	MODULES='' ARGS='' run -0 pacman_runs post_install
	assert_equal "$(log)" 'vfio-reserve -c /etc/vfio-reserve.conf modules
vfio-reserve -q cmdline'
	rm "$W/etc.up/mkinitcpio.conf"
	echo /etc/mkinitcpio.conf >>"$W/absent"
	run -0 pacman_runs post_install
	run -0 log
	assert_line 'dracut -f --regenerate-all'
	# pre_remove: update --remove, its failure told and returned.
	run -0 --separate-stderr pacman_runs pre_remove
	assert_equal "$output$stderr" ''
	assert_equal "$(log)" 'vfio-reserve update --remove'
	UPDATE_STATUS=1 run -1 --separate-stderr pacman_runs pre_remove
	assert_equal "$stderr" "vfio-reserve: 'vfio-reserve update --remove' failed (see above): fix that and remove the package again"
	log >/dev/null
	run -0 pacman_runs post_remove
	assert_equal "$(log)" 'dracut -f --regenerate-all'
}
