#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/deps: what `make check` and .ci/run install.  dpkg-query, id and
# apt-get are stand-ins on a PATH that holds nothing else (and tr), so the
# tests see the same machine everywhere and install nothing.

load test_helper

DEPS=$BATS_TEST_DIRNAME/deps

# stubs UID [apt-get]: the stand-ins; dpkg-query calls every package
# installed but those in $NOT_INSTALLED.
stubs() {
	local bin=$BATS_TEST_TMPDIR/bin
	mkdir -p "$bin"
	ln -sf "$(command -v tr)" "$bin/tr"
	printf '#!/bin/sh\necho %s\n' "$1" >"$bin/id"
	cat >"$bin/dpkg-query" <<-'STUB'
	#!/bin/bash
	shift 3
	for p; do
		case " $NOT_INSTALLED " in
		*" $p "*) printf '%s:unknown ok not-installed ' "$p" ;;
		*) printf '%s:install ok installed ' "$p" ;;
		esac
	done
	STUB
	if [ "${2-}" = apt-get ]; then
		printf '#!/bin/sh\necho "apt-get $*" >>"%s"\n' "$BATS_TEST_TMPDIR/apt.log" >"$bin/apt-get"
	fi
	chmod +x "$bin"/*
	PATH_STUBS=$bin
}

# VFIO_RESERVE_DEPS emptied: a run of the suite with it set to 0 must not
# turn these tests into no-ops.
deps() {
	PATH=$PATH_STUBS VFIO_RESERVE_DEPS=${VFIO_RESERVE_DEPS_TEST-} "$DEPS"
}

@test "nothing missing: silent, exit 0" {
	stubs 0 apt-get
	NOT_INSTALLED='' run -0 --separate-stderr deps
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	assert_file_not_exists "$BATS_TEST_TMPDIR/apt.log"
}

@test "not root: names exactly the missing packages, exit 2, installs nothing" {
	stubs 1000 apt-get
	NOT_INSTALLED='jq mandoc' run -2 --separate-stderr deps
	assert_equal "$output" ""
	assert_equal "$stderr" "tests/deps: missing Debian packages: jq mandoc
tests/deps: as root: apt-get install --no-install-recommends jq mandoc"
	assert_file_not_exists "$BATS_TEST_TMPDIR/apt.log"
}

@test "root without apt-get: the same, exit 2" {
	stubs 0
	NOT_INSTALLED='musl-tools' run -2 --separate-stderr deps
	assert_equal "$stderr" "tests/deps: missing Debian packages: musl-tools
tests/deps: as root: apt-get install --no-install-recommends musl-tools"
}

@test "root with apt-get: installs the missing ones, busybox-static for busybox" {
	stubs 0 apt-get
	NOT_INSTALLED='musl-tools bats busybox busybox-static' run -0 --separate-stderr deps
	assert_equal "$output" "tests/deps: installing: musl-tools bats busybox-static"
	assert_equal "$stderr" ""
	assert_equal "$(cat "$BATS_TEST_TMPDIR/apt.log")" "apt-get update -qq
apt-get install -y -qq --no-install-recommends musl-tools bats busybox-static"
}

@test "busybox instead of busybox-static will do" {
	stubs 1000
	NOT_INSTALLED='busybox-static' run -0 --separate-stderr deps
	assert_equal "$stderr" ""
}

@test "VFIO_RESERVE_DEPS=0 skips the check" {
	stubs 1000
	NOT_INSTALLED='jq' VFIO_RESERVE_DEPS_TEST=0 run -0 --separate-stderr deps
	assert_equal "$stderr" ""
}

@test "make check installs the packages before it builds anything" {
	run -0 make -s -n -B -C "$BATS_TEST_DIRNAME/.." check
	assert_equal "${lines[0]}" "tests/deps"
	assert_line --partial "-o binder/vfio-reserve "
	assert_line --partial "-o binder/vfio-reserve-fake "
	assert_line --partial "-o binder/vfio-reserve-fake-san "
}
