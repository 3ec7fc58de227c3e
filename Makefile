# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve: top-level build. `make` builds the static binder, `make check`
# installs what the tests need (tests/deps), runs every test and ends with
# one "N passed, N failed" line.

PREFIX     ?= /usr
SBINDIR    ?= $(PREFIX)/sbin
LIBDIR     ?= $(PREFIX)/lib/vfio-reserve
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=
VERSION    := 0.1.0

CC         ?= cc
ifeq ($(origin CC),default)
CC         := musl-gcc
endif
CFLAGS     ?= -Oz -pipe
WARNFLAGS  := -std=c99 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS   += -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -DLIBDIR='"$(LIBDIR)"'
# -fno-pie with -no-pie: the binder is a static executable at a fixed
# address, and Debian's gcc would otherwise compile position-independent
# code for it anyway (1.5 KB).  -Oz: GCC 12's size-first optimisation
# (0.5 KB); the scan's cost is its system calls, not its instructions.
# common-page-size=64: the data segment starts right after the text in the
# file (at the same offset modulo the 4 KiB max-page-size, as the kernel's
# loader needs) instead of at the next page boundary: up to 4 KiB of padding
# less, and text and data stay separate R-X and RW- segments.
# -flto: the whole binder optimised as one unit (0.5 KB; bench/results.md).
# -mgeneral-regs-only: the binder has no floating point, and without the
# vector registers GCC zeroes and copies its structs with smaller code
# (0.5 KB); where the compiler has no such option it is left out.
GPRFLAGS   := $(shell $(CC) -mgeneral-regs-only -E -x c /dev/null >/dev/null 2>&1 && echo -mgeneral-regs-only)
LDFLAGS    ?= -static -no-pie -s -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,-z,norelro -Wl,--build-id=none \
              -Wl,-z,common-page-size=64
SANFLAGS   := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

BINDER_SRC := $(wildcard binder/*.c)
BINDER_HDR := $(wildcard binder/*.h)

all: binder/vfio-reserve reports/reports size

binder/vfio-reserve: $(BINDER_SRC) $(BINDER_HDR)
	$(CC) $(WARNFLAGS) $(CPPFLAGS) $(CFLAGS) -flto $(GPRFLAGS) -fno-pie -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables \
		-o $@ $(BINDER_SRC) $(LDFLAGS)
	objcopy -R .comment $@

# The host's reports (reports/): the commands the binder hands over, never
# needed at boot, over the same config parser, sysfs model and selection
# engine (every binder source but its front end, main.c), and the formats
# of the integrations that read them.  Static like the binder, with no
# budget of its own: it is not in the initramfs.
REPORTS_SRC := $(wildcard reports/*.c kubernetes/*.c proxmox/*.c prometheus/*.c) $(filter-out binder/main.c,$(BINDER_SRC))
REPORTS_HDR := $(wildcard reports/*.h kubernetes/*.h proxmox/*.h) $(BINDER_HDR)

reports/reports: $(REPORTS_SRC) $(REPORTS_HDR)
	$(CC) $(WARNFLAGS) $(CPPFLAGS) -Ibinder -Ireports $(CFLAGS) -fno-pie -ffunction-sections -fdata-sections \
		-o $@ $(REPORTS_SRC) $(LDFLAGS)
	objcopy -R .comment $@

# The unit-test builds: the same sources, with the sysfs stores served by
# tests/fake/kernel.c, a synchronous model of the PCI core, instead of the
# kernel (see struct kernel_ops in binder/vfio-reserve.h).  One static like
# the program, one with ASan+UBSan (which cannot be static).
FAKE_SRC   := $(BINDER_SRC) tests/fake/kernel.c
FAKEFLAGS  := -DKERNEL_OPS=fake_kernel -DUNBIND_WAIT_MS=1000 -Ibinder

binder/vfio-reserve-fake: $(FAKE_SRC) $(BINDER_HDR)
	$(CC) $(WARNFLAGS) $(CPPFLAGS) $(FAKEFLAGS) $(CFLAGS) -o $@ $(FAKE_SRC) $(LDFLAGS)

binder/vfio-reserve-fake-san: $(FAKE_SRC) $(BINDER_HDR)
	gcc $(WARNFLAGS) $(CPPFLAGS) $(FAKEFLAGS) $(SANFLAGS) -o $@ $(FAKE_SRC)

# The reports with ASan+UBSan, for the sanitizer pass of the unit suites
# (tests/lib/staged-scripts.bash puts it in their LIBDIR then).
reports/reports-san: $(REPORTS_SRC) $(REPORTS_HDR)
	gcc $(WARNFLAGS) $(CPPFLAGS) -Ibinder -Ireports $(SANFLAGS) -o $@ $(REPORTS_SRC)

# The fake kernel alone, driven from the shell by its self-tests.
tests/fake/fake-sysfs: tests/fake/fake-sysfs.c tests/fake/kernel.c binder/util.c binder/fmt.c binder/bootreport.c binder/json.c $(BINDER_HDR)
	gcc $(WARNFLAGS) $(CPPFLAGS) $(FAKEFLAGS) $(SANFLAGS) -o $@ $(filter %.c,$^)

TEST_BINS  := binder/vfio-reserve-fake binder/vfio-reserve-fake-san reports/reports-san tests/fake/fake-sysfs

size: binder/vfio-reserve
	@bytes=$$(wc -c < binder/vfio-reserve); \
	echo "binder/vfio-reserve: $$bytes bytes stripped (budget 65536)"; \
	test $$bytes -le 65536

include initramfs-tools/install.mk
include udev/install.mk
include dracut-module/install.mk
include hooks/install.mk
include mkinitcpio/install.mk
include grub/install.mk
include bootloader-tools/install.mk
include update/install.mk
include reports/install.mk
include prometheus/install.mk
include kubernetes/install.mk
include man/install.mk
include bench/bench.mk

# The scripts the binder runs from $(LIBDIR), and what they source.
install-scripts: install-update install-bootloader-tools install-grub install-hooks install-reports

install: binder/vfio-reserve install-initramfs-tools install-udev install-dracut install-mkinitcpio install-scripts install-man \
	install-prometheus install-kubernetes
	install -D -m 0755 binder/vfio-reserve $(DESTDIR)$(SBINDIR)/vfio-reserve

# The packages first (tests/deps installs them as root, or names them and
# fails): the binders need musl-gcc, which a fresh machine does not have.
check:
	tests/deps
	$(MAKE) all $(TEST_BINS)
	tests/run

clean:
	rm -f binder/vfio-reserve reports/reports $(TEST_BINS)

# The Debian package (debian/): vfio-reserve_*.deb, .buildinfo and .changes
# go to the parent directory, as dpkg-buildpackage puts them.
deb:
	dpkg-buildpackage -us -uc -b

# The source tarball the RPM spec (rpm/) and the Arch PKGBUILD (arch/) build
# from: the files git tracks, as they are in the tree, under
# vfio-reserve-VERSION/.  Reproducible: names sorted, owner root, modes
# without group or other write, every mtime the last commit's, gzip without
# name or time stamp.  DISTDIR=DIR puts it there.
DIST       := vfio-reserve-$(VERSION)
DISTDIR    ?= .
dist:
	@git rev-parse --git-dir >/dev/null 2>&1 || { echo "make dist: needs the git tree" >&2; exit 1; }
	git ls-files -z | LC_ALL=C tar --null -T - --sort=name --transform 's,^,$(DIST)/,' \
		--owner=0 --group=0 --numeric-owner --mode=go-w \
		--mtime=@$$(git log -1 --format=%ct 2>/dev/null || echo 0) -cf - | gzip -9n > $(DISTDIR)/$(DIST).tar.gz.tmp
	mv $(DISTDIR)/$(DIST).tar.gz.tmp $(DISTDIR)/$(DIST).tar.gz
	@echo "$(DISTDIR)/$(DIST).tar.gz"

# Two identical cards, before and after one rule, on a real kernel (root).
demo:
	demo/run

.PHONY: all size install install-scripts check clean deb dist demo
