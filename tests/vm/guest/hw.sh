#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve VM tests, guest step vfio_test=hw: the hardware record's
# machines (vm_boot --hw=...).  Prints, each line after its tag:
#   FINGERPRINT  what `vfio-reserve fingerprint` records for this machine
#                with /test/hw.conf (the config of the image itools-hw),
#                as `update` writes it: boot-all builds that image with the
#                record the old machine's guest printed here;
#   HW-STATUS    what `vfio-reserve status` says of those rules, with the
#                boot report the initramfs's binder left in /run;
# each command's standard error after TAG-ERR, and its exit status as
# "TAG rc=N".

conf=/test/hw.conf

# tagged TAG FILE: FILE's lines, each after TAG.
tagged() {
	while IFS= read -r line || [ -n "$line" ]; do
		printf '%s %s\n' "$1" "$line"
	done <"$2"
}

for how in FINGERPRINT HW-STATUS; do
	cmd=fingerprint
	[ "$how" = FINGERPRINT ] || cmd=status
	rc=0
	/usr/sbin/vfio-reserve -c "$conf" "$cmd" >/run/vfio-test-out 2>/run/vfio-test-err || rc=$?
	tagged "$how" /run/vfio-test-out
	tagged "$how-ERR" /run/vfio-test-err
	printf '%s rc=%s\n' "$how" "$rc"
done
