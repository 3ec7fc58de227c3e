#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The libFuzzer smoke run of the config parser and the rule parser, as a test
# so that `make check` (and so CI) runs it.  fuzz/run fails on any crash,
# sanitizer report, leak, hang or OOM and keeps the input in fuzz/artifacts/.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

@test "fuzz smoke run: ${FUZZ_SECONDS:-60} s per parser, no crash, leak or hang" {
	cd "$BATS_TEST_DIRNAME/../.."
	run -0 make -s fuzz-smoke FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
	assert_output --partial "config"
	assert_output --partial "rule"
}
