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
CFLAGS     ?= -Os -pipe
WARNFLAGS  := -std=c99 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS   += -D_GNU_SOURCE -DVERSION='"$(VERSION)"' -DLIBDIR='"$(LIBDIR)"'
LDFLAGS    ?= -static -s -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,-z,norelro -Wl,--build-id=none
SANFLAGS   := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

BINDER_SRC := $(wildcard binder/*.c)
BINDER_HDR := $(wildcard binder/*.h)

all: binder/vfio-reserve size

binder/vfio-reserve: $(BINDER_SRC) $(BINDER_HDR)
	$(CC) $(WARNFLAGS) $(CPPFLAGS) $(CFLAGS) -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables \
		-o $@ $(BINDER_SRC) $(LDFLAGS)

# The sanitizer build cannot be static; it is only for the test suite.
binder/vfio-reserve-san: $(BINDER_SRC) $(BINDER_HDR)
	gcc $(WARNFLAGS) $(CPPFLAGS) $(SANFLAGS) -o $@ $(BINDER_SRC)

size: binder/vfio-reserve
	@bytes=$$(wc -c < binder/vfio-reserve); \
	echo "binder/vfio-reserve: $$bytes bytes stripped (budget 49152)"; \
	test $$bytes -le 49152

include initramfs-tools/install.mk
include dracut-module/install.mk
include hooks/install.mk
include grub/install.mk
include man/install.mk
include bench/bench.mk

install: binder/vfio-reserve install-initramfs-tools install-dracut install-hooks install-grub install-man
	install -D -m 0755 binder/vfio-reserve $(DESTDIR)$(SBINDIR)/vfio-reserve

# The packages first (tests/deps installs them as root, or names them and
# fails): the binders need musl-gcc, which a fresh machine does not have.
check:
	tests/deps
	$(MAKE) all binder/vfio-reserve-san
	tests/run

clean:
	rm -f binder/vfio-reserve binder/vfio-reserve-san

# The Debian package (debian/): vfio-reserve_*.deb, .buildinfo and .changes
# go to the parent directory, as dpkg-buildpackage puts them.
deb:
	dpkg-buildpackage -us -uc -b

# Two identical cards, before and after one rule, on a real kernel (root).
demo:
	demo/run

.PHONY: all size install check clean deb demo
