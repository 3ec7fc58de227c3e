#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The config parser: every error names file and line, parsing goes on to the
# end, the exit status is 2, and nothing is written anywhere.

load test_helper

setup() {
	two_cards
}

# apply must refuse the config: exit 2, the expected stderr, no write.
refuses() {
	local before
	before=$(snapshot)
	run -2 --separate-stderr vr apply
	assert_equal "$stderr" "$1"
	assert_equal "$output" ""
	assert_equal "$(snapshot)" "$before"
	assert_kernel_log
}

@test "an unknown option is named with file and line" {
	config <<-'EOF'
	# card 1
	01:00.0 1234:1111 forse
	EOF
	refuses "vfio-reserve: $CONF:2: unknown option 'forse'"
}

@test "an unknown key=value option names only the key" {
	config <<<'01:00.0 drvier=vfio-pci'
	refuses "vfio-reserve: $CONF:1: unknown option 'drvier'"
}

@test "malformed hex in an ID" {
	config <<<'01:00.0 1234:11g1'
	refuses "vfio-reserve: $CONF:1: malformed vendor:device ID '1234:11g1' (want VVVV:DDDD)"
}

@test "an ID with the wrong number of digits" {
	config <<<'123:1111'
	refuses "vfio-reserve: $CONF:1: malformed vendor:device ID '123:1111' (want VVVV:DDDD)"
}

@test "malformed addresses: bad device number, bad function, short domain" {
	config <<-'EOF'
	01:20.0
	01:00.8
	000:01:00.0
	EOF
	refuses "vfio-reserve: $CONF:1: malformed PCI address '01:20.0' (want DDDD:BB:DD.F)
vfio-reserve: $CONF:2: malformed PCI address '01:00.8' (want DDDD:BB:DD.F)
vfio-reserve: $CONF:3: malformed PCI address '000:01:00.0' (want DDDD:BB:DD.F)"
}

@test "a duplicate selector of each kind on one line" {
	config <<-'EOF'
	01:00.0 02:00.0
	1234:1111 1234:1111
	path=00:02.0/00.0 path=00:03.0/00.0
	slot=1 slot=2
	EOF
	refuses "vfio-reserve: $CONF:1: duplicate address '02:00.0'
vfio-reserve: $CONF:2: duplicate ID '1234:1111'
vfio-reserve: $CONF:3: duplicate path 'path=00:03.0/00.0'
vfio-reserve: $CONF:4: duplicate slot 'slot=2'"
}

@test "duplicate options" {
	config <<-'EOF'
	01:00.0 driver=vfio-pci driver=pci-stub
	01:00.0 force force
	01:00.0 single single
	EOF
	refuses "vfio-reserve: $CONF:1: duplicate option 'driver'
vfio-reserve: $CONF:2: duplicate option 'force'
vfio-reserve: $CONF:3: duplicate option 'single'"
}

@test "path= elements that do not parse" {
	config <<-'EOF'
	path=00:02.0/0.0
	path=00:02.0/00.0/
	path=
	path=02.0/00.0
	path=00:02.0//00.0
	path=/00:02.0/00.0
	path=00:02.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0
	EOF
	refuses "vfio-reserve: $CONF:1: malformed path '00:02.0/0.0' (want path=BB:DD.F/DD.F...)
vfio-reserve: $CONF:2: malformed path '00:02.0/00.0/' (want path=BB:DD.F/DD.F...)
vfio-reserve: $CONF:3: malformed path '' (want path=BB:DD.F/DD.F...)
vfio-reserve: $CONF:4: malformed path '02.0/00.0' (want path=BB:DD.F/DD.F...)
vfio-reserve: $CONF:5: malformed path '00:02.0//00.0' (want path=BB:DD.F/DD.F...)
vfio-reserve: $CONF:6: malformed path '/00:02.0/00.0' (want path=BB:DD.F/DD.F...)
vfio-reserve: $CONF:7: malformed path '00:02.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0/00.0' (want path=BB:DD.F/DD.F...)"
}

@test "bad driver and slot names" {
	config <<-'EOF'
	01:00.0 driver=
	01:00.0 driver=vfio/pci
	slot=
	EOF
	refuses "vfio-reserve: $CONF:1: malformed driver name ''
vfio-reserve: $CONF:2: malformed driver name 'vfio/pci'
vfio-reserve: $CONF:3: malformed slot name ''"
}

@test "a driver name may not start with '-': it would reach modprobe as an option" {
	config <<-'EOF'
	01:00.0 driver=-f
	02:00.0 driver=--dry-run
	EOF
	refuses "vfio-reserve: $CONF:1: malformed driver name '-f'
vfio-reserve: $CONF:2: malformed driver name '--dry-run'"
	run -2 --separate-stderr vr bind 01:00.0 driver=-v
	assert_equal "$stderr" "vfio-reserve: malformed driver name '-v'"
	assert_equal "$(kernel_log)" ""
}

@test "a rule of options only has no selector" {
	config <<<'force single driver=pci-stub'
	refuses "vfio-reserve: $CONF:1: rule has no selector (an address, ID, path= or slot=)"
}

@test "a line over the maximum length" {
	{ printf '01:00.0 1234:1111 # '; head -c 1100 /dev/zero | tr '\0' x; echo; } | config
	refuses "vfio-reserve: $CONF:1: line longer than 1023 characters"
}

@test "a line of exactly 1023 characters is fine" {
	{ printf '01:00.0 1234:1111 #'; head -c 1004 /dev/zero | tr '\0' x; echo; } | config
	[ "$(head -n1 "$CONF" | wc -c)" -eq 1024 ]
	run -0 vr check --config-only
	assert_output "OK   config: $CONF: 1 rule"
}

@test "a control character in a line" {
	printf '01:00.0\0331234:1111\n' | config
	refuses "vfio-reserve: $CONF:1: control character in line"
}

@test "every bad line is reported in one run, good lines in between are fine" {
	config <<-'EOF'
	# reserve card 1
	01:00.0 1234:1111 forse

	02:00.0 1234:1111
	path=00:03.0/zz.0   # typo
	1234:11111
	EOF
	refuses "vfio-reserve: $CONF:2: unknown option 'forse'
vfio-reserve: $CONF:5: malformed path '00:03.0/zz.0' (want path=BB:DD.F/DD.F...)
vfio-reserve: $CONF:6: malformed vendor:device ID '1234:11111' (want VVVV:DDDD)"
}

@test "comments, blank lines, tabs and CRLF line ends are accepted" {
	printf '# header\n\n\t01:00.0\t1234:1111 # card 1\r\n   # indented comment\n#02:00.0 1234:1111\n' | config
	run -0 vr check --config-only
	assert_output "OK   config: $CONF: 1 rule"
}

@test "upper-case hex is accepted in IDs and addresses" {
	config <<<'0000:01:00.0 1234:ABCD'
	run -0 vr check --config-only
	assert_output "OK   config: $CONF: 1 rule"
}

@test "check --config-only: exit 2 and every error" {
	config <<-'EOF'
	01:00.0 forse
	01:00.0 1234
	EOF
	run -2 --separate-stderr vr check --config-only
	assert_equal "$stderr" "vfio-reserve: $CONF:1: unknown option 'forse'
vfio-reserve: $CONF:2: unknown option '1234'"
	assert_equal "$output" ""
}

@test "a missing config is no error: nothing to do" {
	run -0 vr check --config-only
	assert_output "WARN config: $CONF does not exist: nothing is reserved"
	run -0 vr apply
	assert_output ""
	assert_kernel_log
}

@test "-c names another config file" {
	printf '01:00.0 forse\n' >"$BATS_TEST_TMPDIR/other.conf"
	run -2 --separate-stderr vr -c "$BATS_TEST_TMPDIR/other.conf" apply
	assert_equal "$stderr" "vfio-reserve: $BATS_TEST_TMPDIR/other.conf:1: unknown option 'forse'"
}

@test "a config writable by group or others is refused" {
	config <<<'01:00.0 1234:1111'
	chmod 0664 "$CONF"
	run -2 --separate-stderr vr check --config-only
	assert_equal "$stderr" "vfio-reserve: $CONF: writable by group or others (mode 0664): refusing to use it"
	chmod 0602 "$CONF"
	run -2 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF: writable by group or others (mode 0602): refusing to use it"
	assert_kernel_log
}

@test "a config owned by another user is refused" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to chown"
	config <<<'01:00.0 1234:1111'
	chown 65534 "$CONF"
	run -2 --separate-stderr vr check --config-only
	assert_equal "$stderr" "vfio-reserve: $CONF: owned by uid 65534, not root: refusing to use it"
}

@test "a config that cannot be read is an error, not an empty config" {
	mkdir -p "$BATS_TEST_TMPDIR/conf.d"
	run -2 --separate-stderr vr -c "$BATS_TEST_TMPDIR/conf.d" apply
	assert_equal "$stderr" "vfio-reserve: $BATS_TEST_TMPDIR/conf.d: not a regular file: refusing to use it"
}

@test "more than 256 rules" {
	for i in $(seq 1 257); do echo "1234:1111"; done | config
	refuses "vfio-reserve: $CONF:257: more than 256 rules"
}

# `modules` serves the image builds, which must never fail a kernel upgrade
# because of the config: bad lines are warned about and skipped, as at
# boot, and only a file that cannot be used at all is an error (exit 2).
@test "modules: bad lines are warned about with file and line, the good lines' modules printed, exit 0" {
	config <<-'EOF'
	# a typo on line 2
	01:00.0 1234:1111 forse
	02:00.0 1234:1111 driver=pci-stub
	EOF
	run -0 --separate-stderr vr modules
	assert_equal "$output" "pci-stub"
	assert_equal "$stderr" "vfio-reserve: $CONF:2: unknown option 'forse'
vfio-reserve: $CONF: lines with errors skipped: the initramfs reserves what the other lines say"
	# Every line bad: no module, still no error.
	config <<<'01:00.0 forse'
	run -0 --separate-stderr vr modules
	assert_equal "$output" ""
	# check and the other commands a person runs still refuse it.
	run -2 vr check --config-only
	run -2 vr cmdline
}

@test "modules: a config that cannot be used at all is exit 2 and no module" {
	config <<<'01:00.0 1234:1111'
	chmod 0664 "$CONF"
	run -2 --separate-stderr vr modules
	assert_equal "$output" ""
	assert_equal "$stderr" "vfio-reserve: $CONF: writable by group or others (mode 0664): refusing to use it"
	mkdir -p "$BATS_TEST_TMPDIR/conf.d"
	run -2 --separate-stderr vr -c "$BATS_TEST_TMPDIR/conf.d" modules
	assert_equal "$output" ""
	assert_equal "$stderr" "vfio-reserve: $BATS_TEST_TMPDIR/conf.d: not a regular file: refusing to use it"
	if [ "$(id -u)" -eq 0 ]; then
		chmod 0644 "$CONF"
		chown 65534 "$CONF"
		run -2 --separate-stderr vr modules
		assert_equal "$stderr" "vfio-reserve: $CONF: owned by uid 65534, not root: refusing to use it"
	fi
	# A missing config is no rule, not an error.
	rm "$CONF"
	run -0 --separate-stderr vr modules
	assert_equal "$output$stderr" ""
}

@test "a config that is a FIFO or a device is refused at once, exit 2" {
	local fifo=$BATS_TEST_TMPDIR/fifo.conf before
	mkfifo -m 0644 "$fifo"
	before=$(snapshot)
	# timeout: reading a FIFO without a writer would block for ever.
	run -2 --separate-stderr timeout 10 "$BIN" --root "$ROOT" -c "$fifo" apply
	assert_equal "$stderr" "vfio-reserve: $fifo: not a regular file: refusing to use it"
	run -2 --separate-stderr timeout 10 "$BIN" --root "$ROOT" -c /dev/zero check --config-only
	assert_equal "$stderr" "vfio-reserve: /dev/zero: not a regular file: refusing to use it"
	# Looked at before it is opened: open(2) on a socket fails otherwise.
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
		"$BATS_TEST_TMPDIR/sock.conf"
	run -2 --separate-stderr "$BIN" --root "$ROOT" -c "$BATS_TEST_TMPDIR/sock.conf" check --config-only
	assert_equal "$stderr" "vfio-reserve: $BATS_TEST_TMPDIR/sock.conf: not a regular file: refusing to use it"
	# The default config too.
	mkdir -p "$ROOT/etc"
	mkfifo -m 0644 "$CONF"
	run -2 --separate-stderr timeout 10 "$BIN" --root "$ROOT" apply
	assert_equal "$stderr" "vfio-reserve: $CONF: not a regular file: refusing to use it"
	assert_equal "$(snapshot)" "$before"
	assert_equal "$(kernel_log)" ""
}
