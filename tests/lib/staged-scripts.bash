# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# staged_scripts: the scripts the binder runs (update, boot-setup, trial-grub,
# bootloader, kernel-cmdline, modprobe-conf, common, hooks/image-content),
# as `make install-scripts` lays them out in LIBDIR, side by side, made once
# a bats run under $BATS_RUN_TMPDIR; their directory in REPLY.  The tests
# run them from there, as the binder runs them from /usr/lib/vfio-reserve:
# in the source tree they live in the folders of what they drive (update/,
# bootloader-tools/, grub/, hooks/).
staged_scripts() {
	local stage=$BATS_RUN_TMPDIR/staged-scripts
	local top
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	if mkdir "$stage.lock" 2>/dev/null; then
		make -s -C "$top" install-scripts DESTDIR="$stage" LIBDIR=/libdir >&2
		# The sanitizer pass (tests/run) runs the reports built so too.
		case ${VFIO_RESERVE_BIN-} in
		*-san) install -m 0755 "$top/reports/reports-san" "$stage/libdir/reports" ;;
		esac
		touch "$stage.done"
	fi
	while [ ! -e "$stage.done" ]; do
		sleep 0.1
	done
	REPLY=$stage/libdir
}
