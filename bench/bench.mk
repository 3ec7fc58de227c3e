# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmarks and fuzzing (issue 6).  Included by the top-level Makefile:
#   include bench/bench.mk
# Paths are relative to the top of the tree.
#
#   make bench        Markdown table on stdout and in bench/results.md
#   make fuzz-smoke   both libFuzzer targets for FUZZ_SECONDS (60) each, in
#                     parallel; fails on any crash, leak, timeout or OOM
#   make fuzz FUZZ_SECONDS=300   a longer run, corpus kept in fuzz/work/

FUZZ_CC      ?= clang
FUZZ_FLAGS   := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -D_GNU_SOURCE -DVERSION='"fuzz"' -DLIBDIR='"/x"'
FUZZ_SRC     := $(filter-out binder/main.c,$(wildcard binder/*.c))
FUZZ_TARGETS := fuzz/config_fuzz fuzz/rule_fuzz
FUZZ_SECONDS ?= 60

fuzz/config_fuzz: fuzz/config_fuzz.c $(FUZZ_SRC) $(wildcard binder/*.h)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ fuzz/config_fuzz.c $(FUZZ_SRC)

fuzz/rule_fuzz: fuzz/rule_fuzz.c $(FUZZ_SRC) $(wildcard binder/*.h)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ fuzz/rule_fuzz.c $(FUZZ_SRC)

fuzz-build: $(FUZZ_TARGETS)

fuzz-smoke: $(FUZZ_TARGETS)
	fuzz/run $(FUZZ_SECONDS)

fuzz: $(FUZZ_TARGETS)
	FUZZ_KEEP=1 fuzz/run $(FUZZ_SECONDS)

bench: binder/vfio-reserve
	@bench/run

bench-clean:
	rm -rf $(FUZZ_TARGETS) fuzz/work bench/work

.PHONY: fuzz-build fuzz-smoke fuzz bench bench-clean
