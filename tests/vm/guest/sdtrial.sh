#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve VM test, the systemd-boot trial (vfio_test=sdtrial): what
# systemd-boot told this boot, read back in the guest. The kernel command
# line (SDBOOT-CMDLINE); systemd-boot's EFI variables (efivarfs), each as
# SDBOOT-VAR NAME=VALUE: LoaderEntrySelected (the entry it booted, its file
# name as it was before it counted the try) and LoaderBootCountPath (the
# name it renamed a counted entry to), "-" when unset; and the entry files
# on the ESP (/dev/vdb1, mounted read-only), one SDBOOT-ENTRY line each.

status=0
printf 'SDBOOT-CMDLINE %s\n' "$(cat /proc/cmdline)"

vars=/sys/firmware/efi/efivars
/sbin/modprobe efivarfs && mount -t efivarfs efivarfs "$vars" || status=1
for name in LoaderEntrySelected LoaderBootCountPath; do
	file=$vars/$name-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f
	value=-
	# Four bytes of attributes, then UTF-16LE (ASCII here).
	[ -f "$file" ] && value=$(busybox tail -c +5 "$file" | busybox tr -d '\000')
	printf 'SDBOOT-VAR %s=%s\n' "$name" "$value"
done

/sbin/modprobe vfat && /sbin/modprobe nls_cp437 && /sbin/modprobe nls_ascii &&
	mount -t vfat -o ro /dev/vdb1 /tmp || status=1
for entry in /tmp/loader/entries/*.conf; do
	[ -e "$entry" ] && printf 'SDBOOT-ENTRY %s\n' "${entry##*/}"
done
exit "$status"
