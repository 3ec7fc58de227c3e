#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve VM test, the trial boots through GRUB (vfio_test=grub, from
# the grub.cfg tests/vm/grub.sh makes): the command line GRUB gave this
# boot, on a marked line.
read -r proc_cmdline </proc/cmdline
printf 'PROC-CMDLINE %s\n' "$proc_cmdline"
