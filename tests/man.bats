#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The manual pages: mandoc finds nothing wrong with them, and they keep step
# with the binder.  vfio-reserve(8) has an entry for every command of
# `vfio-reserve --help`, spelled the same, and no other; vfio-reserve.conf(5)
# has one for every keyword the config parser takes, states its limits, and
# every example config in it is one the parser accepts.
#
# Needs mandoc (Debian package mandoc).
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
BIN=${VFIO_RESERVE_BIN:-$TOP/binder/vfio-reserve}
MAN8=$TOP/man/vfio-reserve.8
# --help lists the host's reports' commands too (reports/), from LIBDIR.
# shellcheck source=tests/lib/staged-scripts.bash
source "$BATS_TEST_DIRNAME/lib/staged-scripts.bash"
staged_scripts
export VFIO_RESERVE_LIBDIR=$REPLY
MAN5=$TOP/man/vfio-reserve.conf.5

setup() {
	command -v mandoc >/dev/null || fail "mandoc is not installed (apt-get install mandoc)"
	[ -x "$BIN" ] || fail "$BIN: not built (make)"
}

# The page as plain text: mandoc's ASCII output without the overstriking
# that makes bold and underline.
render() {
	mandoc -T ascii "$1" | sed -e 's/.\x08//g'
}

# The commands of --help, one a line, as "name [--flag] ARG": the text of the
# two-blank-indented lines of the "commands:" section up to the description.
help_commands() {
	sed -n '/^commands:/,/^$/s/^  \([a-z].*\)$/\1/p' <<<"$1" | sed -e 's/\t.*//'
}

# The heads of the entries of the command list in vfio-reserve(8), one a line.
page_commands() {
	render "$MAN8" | sed -n '/^     The commands are:/,/^[A-Z]/p' |
		sed -n 's/^     \([a-z].*\)$/\1/p'
}

@test "mandoc -T lint finds no warning in vfio-reserve.8" {
	run mandoc -T lint -W warning "$MAN8"
	assert_success
	assert_output ""
}

@test "mandoc -T lint finds no warning in vfio-reserve.conf.5" {
	run mandoc -T lint -W warning "$MAN5"
	assert_success
	assert_output ""
}

@test "vfio-reserve.8 has an entry for every command of --help, and no other" {
	run -0 "$BIN" --help
	# The page writes metavariables in lower case and ADDR as address.
	help=$(help_commands "$output" | tr 'A-Z' 'a-z' | sed -e 's/\baddr\b/address/g' | sort)
	page=$(page_commands | sort)
	[ "$(wc -l <<<"$help")" -ge 10 ] || fail "found too few commands in --help: $help"
	run diff -u --label "vfio-reserve --help" --label "vfio-reserve.8" \
		<(printf '%s\n' "$help") <(printf '%s\n' "$page")
	assert_success
}

@test "vfio-reserve.8 has an entry for every option of --help" {
	run -0 "$BIN" --help
	options=$(sed -n '/^options:/,/^$/s/^  \(-[^ ]*\(, -[^ ]*\)*\).*/\1/p' <<<"$output" | tr ',' '\n' | tr -d ' ')
	[ -n "$options" ] || fail "found no options in --help"
	text=$(render "$MAN8")
	for option in $options; do
		grep -q -E -e "^     $option( |,|\$)" <<<"$text" ||
			fail "vfio-reserve.8 has no entry for $option"
	done
}

@test "vfio-reserve.conf.5 has an entry for every keyword of the config parser" {
	# The keywords as the parser compares them, and those it must have.
	found=$(grep -o -E 'strn?cmp\(tok, "[a-z]+=?"' "$TOP/binder/config.c" | sed -E 's/.*"(.*)"/\1/')
	keywords=$(printf '%s\n' $found driver= force single path= slot= | sort -u)
	[ "$(wc -l <<<"$keywords")" -eq "$(printf '%s\n' $found | sort -u | wc -l)" ] ||
		fail "config.c no longer names a keyword as this test expects: found '$found'"
	text=$(render "$MAN5")
	for keyword in $keywords; do
		# An entry's head: "driver=name", "path=[dddd:]...", "force   Also..."
		case $keyword in
		*=) pattern="^     $keyword[a-z[]" ;;
		*) pattern="^     $keyword( |\$)" ;;
		esac
		grep -q -E -e "$pattern" <<<"$text" ||
			fail "vfio-reserve.conf.5 has no entry for $keyword"
	done
}

@test "the binder takes every keyword of vfio-reserve.conf.5, and no made-up one" {
	conf=$BATS_TEST_TMPDIR/vfio-reserve.conf
	echo '0a:00.0 10de:2206 path=00:03.1/00.0 slot=2 driver=vfio-pci reset=flr vfs=4 vf=2 force single' >"$conf"
	chmod 0644 "$conf"
	run -0 "$BIN" -c "$conf" check --config-only
	assert_output "OK   config: $conf: 1 rule"

	echo '0a:00.0 frobnicate=1' >"$conf"
	run -2 "$BIN" -c "$conf" check --config-only
	assert_output "vfio-reserve: $conf:1: unknown option 'frobnicate'"
}

@test "the limits in vfio-reserve.conf.5 are the binder's" {
	max_line=$(sed -n -E 's/^#define MAX_LINE +([0-9]+).*/\1/p' "$TOP/binder/vfio-reserve.h")
	max_rules=$(sed -n -E 's/^#define MAX_RULES +([0-9]+).*/\1/p' "$TOP/binder/vfio-reserve.h")
	[ -n "$max_line" ] && [ -n "$max_rules" ] || fail "no MAX_LINE or MAX_RULES in vfio-reserve.h"
	text=$(render "$MAN5" | tr -s ' \n' '  ')
	assert_regex "$text" "at most $((max_line - 1)) characters long"
	assert_regex "$text" "at most $max_rules rules"
}

@test "every example config in vfio-reserve.conf.5 is one the binder accepts" {
	examples=$BATS_TEST_TMPDIR/examples
	mkdir "$examples"
	# Each .Bd -literal block after .Sh EXAMPLES, roff escapes taken out.
	awk -v dir="$examples" '
		/^\.Sh / { in_examples = ($2 == "EXAMPLES") }
		in_examples && /^\.Bd -literal/ { n++; file = sprintf("%s/%02d.conf", dir, n); printf "" > file; next }
		/^\.Ed/ { file = ""; next }
		file != "" { gsub(/\\&/, ""); gsub(/\\e/, "\\"); print >> file }
	' "$MAN5"
	run ls "$examples"
	[ "${#lines[@]}" -ge 10 ] || fail "found only ${#lines[@]} example configs in vfio-reserve.conf.5"
	for conf in "$examples"/*.conf; do
		chmod 0644 "$conf"
		rules=$(sed -e 's/#.*//' "$conf" | grep -c '[^[:blank:]]' || true)
		[ "$rules" -eq 1 ] && noun=rule || noun=rules
		run "$BIN" -c "$conf" check --config-only
		[ "$status" -eq 0 ] || fail "example $(basename "$conf") is refused: $output
$(cat "$conf")"
		if [ "$rules" -eq 0 ]; then
			assert_line --index 0 "WARN config: $conf has no active rule: nothing is reserved"
		else
			assert_line --index 0 "OK   config: $conf: $rules $noun"
		fi
	done
}
