#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve VM test, scenario 9 (vfio_test=cards): the kernel arguments
# the project's own `vfio-reserve cmdline` prints for this machine and the
# config the image was built from (/test/cards12.conf), on a marked line:
# boot-all takes them from the boot of the two-card machine (s9-update, the
# host when `vfio-reserve update` runs) and boots the same image with them
# on the machine with card 3 fitted.  Also the command line this boot got.

read -r proc_cmdline </proc/cmdline
printf 'PROC-CMDLINE %s\n' "$proc_cmdline"
status=0
args=$(/usr/sbin/vfio-reserve -c /test/cards12.conf cmdline) || status=$?
printf 'CMDLINE-STATUS %s\n' "$status"
printf 'CMDLINE-ARGS %s\n' "$args"
exit "$status"
