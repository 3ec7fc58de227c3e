#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# metrics (issue 17, point 1): the reservation in Prometheus's text format
# for node_exporter's textfile collector; the same values as status --json;
# DIR/vfio-reserve.prom written whole; read by the real node_exporter and
# promtool (Debian's prometheus-node-exporter and prometheus, tests/deps).

load test_helper

DIR=$BATS_TEST_TMPDIR/textfile

# A boot report as `apply --boot` leaves it: a boot with the kill switch.
kill_switch_boot() {
	printf 'vfio-reserve boot report 1\noff vfio_reserve=off\n<6>disabled by %s\n' \
		"'vfio_reserve=off' on the kernel command line: nothing reserved" >"$ROOT/run/vfio-reserve.report"
}

# The samples alone, without # HELP and # TYPE.
samples() {
	grep -v '^#' "$@"
}

@test "metrics: HELP and TYPE before each metric's samples, no timestamps, the state of a small host" {
	two_cards
	config <<<'01:00.0 1234:1111'
	kill_switch_boot
	run -0 --separate-stderr vr metrics
	assert_equal "$stderr" ""
	assert_output '# HELP vfio_reserve_function_reserved Whether a function a rule selects is on the rule'"'"'s driver (1) or not (0).
# TYPE vfio_reserve_function_reserved gauge
vfio_reserve_function_reserved{address="0000:01:00.0",id="1234:1111",rule_line="1",target="vfio-pci"} 0
vfio_reserve_function_reserved{address="0000:01:00.1",id="8086:2668",rule_line="1",target="vfio-pci"} 0
# HELP vfio_reserve_function_group_viable Whether the IOMMU group of a function a rule selects can go to vfio (1) or another function in it keeps it (0).
# TYPE vfio_reserve_function_group_viable gauge
vfio_reserve_function_group_viable{address="0000:01:00.0",id="1234:1111",rule_line="1",target="vfio-pci"} 1
vfio_reserve_function_group_viable{address="0000:01:00.1",id="8086:2668",rule_line="1",target="vfio-pci"} 1
# HELP vfio_reserve_functions_not_reserved Functions the rules select that are not on their driver or whose group is not viable, as status counts them.
# TYPE vfio_reserve_functions_not_reserved gauge
vfio_reserve_functions_not_reserved 2
# HELP vfio_reserve_rule_state The state of each rule of the config: 1 for the state it is in, 0 for the others.
# TYPE vfio_reserve_rule_state gauge
vfio_reserve_rule_state{rule_line="1",rule="01:00.0 1234:1111",state="matched"} 1
vfio_reserve_rule_state{rule_line="1",rule="01:00.0 1234:1111",state="no-device"} 0
vfio_reserve_rule_state{rule_line="1",rule="01:00.0 1234:1111",state="mismatch"} 0
vfio_reserve_rule_state{rule_line="1",rule="01:00.0 1234:1111",state="boot-vga"} 0
vfio_reserve_rule_state{rule_line="1",rule="01:00.0 1234:1111",state="bridge"} 0
vfio_reserve_rule_state{rule_line="1",rule="01:00.0 1234:1111",state="no-group"} 0
# HELP vfio_reserve_hardware_record Whether the record of the hardware each rule takes (FILE.fingerprint) is there to compare the host with.
# TYPE vfio_reserve_hardware_record gauge
vfio_reserve_hardware_record 0
# HELP vfio_reserve_boot_report Whether the last boot left a boot report.
# TYPE vfio_reserve_boot_report gauge
vfio_reserve_boot_report 1
# HELP vfio_reserve_boot_kill_switch Whether the kill switch (vfio_reserve=off) was on at the last boot.
# TYPE vfio_reserve_boot_kill_switch gauge
vfio_reserve_boot_kill_switch 1'
	# Without a boot report, nothing said of a boot.
	rm "$ROOT/run/vfio-reserve.report"
	run -0 vr metrics
	assert_equal "$(samples <<<"$output" | tail -1)" "vfio_reserve_boot_report 0"
}

# status --json's values, as the sample lines metrics prints in its order;
# the hardware record's presence ($1), which status does not say, given.
expected_from_status() {
	jq -r --argjson record "$1" '
		def bit: if . then 1 else 0 end;
		def fn($name; $value): .rules[] as $r | $r.functions[] |
			"vfio_reserve_function_\($name){address=\"\(.address)\",id=\"\(.id)\",rule_line=\"\($r.line)\",target=\"\(.target)\"} \(.[$value] | bit)";
		fn("reserved"; "reserved"),
		fn("group_viable"; "group_viable"),
		"vfio_reserve_functions_not_reserved \(.not_reserved)",
		(.rules[] as $r | ("matched", "no-device", "mismatch", "boot-vga", "bridge", "no-group") as $s |
			"vfio_reserve_rule_state{rule_line=\"\($r.line)\",rule=\"\($r.rule)\",state=\"\($s)\"} \($r.state == $s | bit)"),
		"vfio_reserve_hardware_record \($record)",
		(select($record == 1) | .rules[] as $r | ("note", "warn", "stops", "verdict") as $k |
			"vfio_reserve_rule_hardware_changes{rule_line=\"\($r.line)\",kind=\"\($k)\"} \([$r.hardware_changes[] | select(.kind == $k)] | length)"),
		"vfio_reserve_boot_report \(.boot != null | bit)",
		(.boot | select(.) | "vfio_reserve_boot_kill_switch \(.kill_switch != null | bit)"),
		(.boot.records[]?.message | capture(" failed in (?<ms>[0-9]+)[.](?<us>[0-9]{3}) ms$") |
			((.ms | tonumber) * 1000 + (.us | tonumber)) as $us |
			"vfio_reserve_boot_binder_seconds \($us / 1000000 | floor).\("00000\($us % 1000000)"[-6:])")'
}

# Three cards: card 1 reserved by a boot; card 2's display taken alone
# ('single') by it too, its group kept by its audio function; card 3 in the
# config since, not reserved; a rule for nothing; a hardware record that
# says card 1 was another card and lacks rule 2.
mixed_host() {
	host <<-'DESC'
	# addr  id        class  group driver        vga parent
	00:00.0 8086:29c0 060000 0     -             -   -
	00:01.0 1234:1111 030000 1     bochs-drm     1   -
	00:02.0 1b36:000c 060400 2     pcieport      -   -
	00:03.0 1b36:000c 060400 3     pcieport      -   -
	00:04.0 1b36:000c 060400 6     pcieport      -   -
	01:00.0 1234:1111 038000 4     bochs-drm     -   00:02.0
	01:00.1 8086:2668 040300 4     snd_hda_intel -   00:02.0
	02:00.0 1234:1111 038000 5     bochs-drm     -   00:03.0
	02:00.1 8086:2668 040300 5     snd_hda_intel -   00:03.0
	03:00.0 1234:1111 038000 7     bochs-drm     -   00:04.0
	03:00.1 8086:2668 040300 7     snd_hda_intel -   00:04.0
	driver vfio-pci
	DESC
	config <<-'EOF'
	01:00.0 1234:1111
	02:00.0 1234:1111 single
	EOF
	vr apply --boot >/dev/null
	config <<-'EOF'
	01:00.0 1234:1111
	02:00.0 1234:1111 single
	03:00.0 1234:1111
	05:00.0 1234:1111
	EOF
	vr fingerprint | sed -e '/^0000:01:00.0 /s/ 1234:1111 / 10de:1aef /' -e '/^rule 2 /,/^rule 3 /{/^rule 3 /!d}' >"$CONF.fingerprint"
}

@test "metrics: the values of status --json, on reserved, not reserved and non-viable functions, hardware changes and a boot" {
	mixed_host
	run -1 vr status --json
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/status.json"
	# The fixture has each case the comparison is about.
	run -0 jq -c '[.rules[].functions[] | [.address, .reserved, .group_viable]], .not_reserved,
		[.rules[].state], [.rules[].hardware_changes[].kind], (.boot.records | length)' "$BATS_TEST_TMPDIR/status.json"
	assert_output '[["0000:01:00.0",true,true],["0000:01:00.1",true,true],["0000:02:00.0",true,false],["0000:03:00.0",false,true],["0000:03:00.1",false,true]]
3
["matched","matched","matched","no-device"]
["stops","verdict","warn"]
4'
	run -0 expected_from_status 1 <"$BATS_TEST_TMPDIR/status.json"
	expected=$output
	run -0 vr metrics
	assert_equal "$(samples <<<"$output")" "$expected"
	# And without a record or a boot report.
	rm "$CONF.fingerprint" "$ROOT/run/vfio-reserve.report"
	run -1 vr status --json
	run -0 expected_from_status 0 <<<"$output"
	expected=$output
	run -0 vr metrics
	assert_equal "$(samples <<<"$output")" "$expected"
}

@test "metrics --textfile-dir DIR: DIR/vfio-reserve.prom, what stdout has, 0644 whatever the umask, nothing else; a new file replaces the old one" {
	two_cards
	config <<<'01:00.0 1234:1111'
	mkdir "$DIR"
	vr metrics >"$BATS_TEST_TMPDIR/stdout"
	# An old file, and a second name for it: rewritten in place, the old
	# name would show the new text (and a reader half of it).
	echo old >"$DIR/vfio-reserve.prom"
	ln "$DIR/vfio-reserve.prom" "$BATS_TEST_TMPDIR/old"
	run -0 --separate-stderr bash -c 'umask 077 && "$@"' - "$BIN" --root "$ROOT" metrics --textfile-dir "$DIR"
	assert_equal "$output$stderr" ""
	assert_equal "$(ls -A "$DIR")" vfio-reserve.prom
	assert_equal "$(cat "$DIR/vfio-reserve.prom")" "$(cat "$BATS_TEST_TMPDIR/stdout")"
	assert_equal "$(stat -c %a "$DIR/vfio-reserve.prom")" 644
	assert_equal "$(cat "$BATS_TEST_TMPDIR/old")" old
	run -0 vr metrics --textfile-dir="$DIR"
	assert_equal "$(cat "$DIR/vfio-reserve.prom")" "$(cat "$BATS_TEST_TMPDIR/stdout")"
}

@test "metrics --textfile-dir: a file that cannot be put in place is an error naming it, exit 1, its temporary file removed" {
	two_cards
	config <<<'01:00.0 1234:1111'
	mkdir -p "$DIR/vfio-reserve.prom/in-the-way"
	run -1 --separate-stderr vr metrics --textfile-dir "$DIR"
	assert_equal "$output" ""
	assert_equal "$stderr" "vfio-reserve: cannot write $DIR/vfio-reserve.prom: Is a directory"
	assert_equal "$(find "$DIR" | sort)" "$DIR
$DIR/vfio-reserve.prom
$DIR/vfio-reserve.prom/in-the-way"
}

@test "metrics --textfile-dir: a directory that is not there, or not one, is an error naming it, exit 1, nothing written" {
	two_cards
	config <<<'01:00.0 1234:1111'
	before=$(snapshot)
	run -1 --separate-stderr vr metrics --textfile-dir "$ROOT/none"
	assert_equal "$output" ""
	assert_equal "$stderr" "vfio-reserve: cannot write $ROOT/none/vfio-reserve.prom: No such file or directory"
	run -1 --separate-stderr vr metrics --textfile-dir "$CONF"
	assert_equal "$stderr" "vfio-reserve: cannot write $CONF/vfio-reserve.prom: Not a directory"
	run -2 --separate-stderr vr metrics --textfile-dir
	assert_equal "$stderr" "vfio-reserve: --textfile-dir needs a value (see 'vfio-reserve --help')"
	run -2 --separate-stderr vr metrics --textfile-dir=
	assert_equal "$stderr" "vfio-reserve: --textfile-dir: '': not a usable directory (see 'vfio-reserve --help')"
	run -2 --separate-stderr vr metrics --textfile-dir "$ROOT" --textfile-dir "$ROOT"
	assert_equal "$stderr" "vfio-reserve: unexpected argument '--textfile-dir' (see 'vfio-reserve --help')"
	assert_equal "$(snapshot)" "$before"
}

@test "metrics: a config with errors is refused as status refuses it, exit 2, nothing written" {
	two_cards
	config <<<'01:00.0 1234:1111 forse'
	mkdir "$DIR"
	run -2 --separate-stderr vr metrics --textfile-dir "$DIR"
	assert_equal "$stderr" "vfio-reserve: $CONF:1: unknown option 'forse'"
	assert_equal "$(ls -A "$DIR")" ""
}

# ---- the real consumers ---------------------------------------------------

@test "promtool check metrics accepts the output, with no warning" {
	mixed_host
	vr metrics >"$BATS_TEST_TMPDIR/metrics"
	run -0 --separate-stderr promtool check metrics <"$BATS_TEST_TMPDIR/metrics"
	assert_equal "$output$stderr" ""
}

# A free TCP port on 127.0.0.1, in REPLY.
free_port() {
	REPLY=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
}

teardown() {
	if [ -n "${exporter_pid-}" ]; then
		kill "$exporter_pid" 2>/dev/null || true
		wait "$exporter_pid" 2>/dev/null || true
	fi
}

@test "node_exporter's textfile collector serves the written file: every vfio_reserve series, with its value" {
	mixed_host
	mkdir "$DIR"
	run -0 vr metrics --textfile-dir "$DIR"
	free_port
	prometheus-node-exporter --web.listen-address="127.0.0.1:$REPLY" --collector.disable-defaults \
		--collector.textfile --collector.textfile.directory="$DIR" >"$BATS_TEST_TMPDIR/exporter.log" 2>&1 &
	exporter_pid=$!
	for _ in $(seq 50); do
		curl -fsS "http://127.0.0.1:$REPLY/metrics" >"$BATS_TEST_TMPDIR/scrape" 2>/dev/null && break
		sleep 0.1
	done
	run -0 grep -E '^node_textfile_scrape_error ' "$BATS_TEST_TMPDIR/scrape"
	assert_output "node_textfile_scrape_error 0"
	# node_exporter sorts the labels by name, and prints its floats its way.
	run -0 grep -E '^vfio_reserve_(functions_not_reserved|boot_|function_reserved.*02:00)|^vfio_reserve_rule_state.*matched.*1$' "$BATS_TEST_TMPDIR/scrape"
	seconds=$(grep '^vfio_reserve_boot_binder_seconds ' "$DIR/vfio-reserve.prom" | cut -d' ' -f2)
	assert_output "vfio_reserve_boot_binder_seconds $(awk -v s="$seconds" 'BEGIN { printf "%.10g", s }')
vfio_reserve_boot_kill_switch 0
vfio_reserve_boot_report 1
vfio_reserve_function_reserved{address=\"0000:02:00.0\",id=\"1234:1111\",rule_line=\"2\",target=\"vfio-pci\"} 1
vfio_reserve_functions_not_reserved 3
vfio_reserve_rule_state{rule=\"01:00.0 1234:1111\",rule_line=\"1\",state=\"matched\"} 1
vfio_reserve_rule_state{rule=\"02:00.0 1234:1111 single\",rule_line=\"2\",state=\"matched\"} 1
vfio_reserve_rule_state{rule=\"03:00.0 1234:1111\",rule_line=\"3\",state=\"matched\"} 1"
	# As many series as the file has samples.
	assert_equal "$(grep -c '^vfio_reserve_' "$BATS_TEST_TMPDIR/scrape")" "$(samples -c "$DIR/vfio-reserve.prom")"
}

# ---- after each boot ------------------------------------------------------

@test "the boot's unit: installed to /usr/lib/systemd/system, only where the collector's directory is, after local-fs; systemd-analyze verify accepts it" {
	top=$BATS_TEST_DIRNAME/..
	make -s -C "$top" install-prometheus DESTDIR="$BATS_TEST_TMPDIR/dest" PREFIX=/usr SBINDIR=/usr/sbin
	unit=$BATS_TEST_TMPDIR/dest/usr/lib/systemd/system/vfio-reserve-metrics.service
	assert_equal "$(stat -c %a "$unit")" 644
	run -0 grep -E '^(After|Condition[A-Za-z]+|ExecStart|ReadWritePaths)=' "$unit"
	assert_output "After=local-fs.target
ConditionPathIsDirectory=/var/lib/prometheus/node-exporter
ExecStart=/usr/sbin/vfio-reserve metrics --textfile-dir /var/lib/prometheus/node-exporter
ReadWritePaths=/var/lib/prometheus/node-exporter"
	# verify wants the program: the one built here, in a copy of the unit.
	sed "s|^ExecStart=/usr/sbin/vfio-reserve |ExecStart=$(realpath "$top/binder/vfio-reserve") |" "$unit" \
		>"$BATS_TEST_TMPDIR/vfio-reserve-metrics.service"
	run -0 --separate-stderr systemd-analyze verify "$BATS_TEST_TMPDIR/vfio-reserve-metrics.service"
	assert_equal "$output$stderr" ""
}
