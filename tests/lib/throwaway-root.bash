# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# throwaway_root W COMMAND...: runs COMMAND in a private mount namespace
# whose /etc, /usr and /var are overlays on the host's: W/etc.up, W/usr.up
# and W/var.up,
# which the caller fills beforehand, lie on top, every write goes to them,
# and the mounts end with the namespace.  Each path named in the file
# W/absent (one a line) is removed there, so that a host file of the same
# name (a developer's `make install`, a VM suite's config) is hidden.  With
# THROWAWAY_CMDLINE set, /proc/cmdline reads that line.  Root only.
throwaway_root() {
	local w=$1
	shift
	mkdir -p "$w/etc.up" "$w/usr.up" "$w/var.up" "$w/etc.work" "$w/usr.work" "$w/var.work"
	[ -e "$w/absent" ] || : >"$w/absent"
	# shellcheck disable=SC2016 # the script expands its own arguments
	unshare --mount --propagation private bash -c '
		set -e
		w=$1
		shift
		for d in etc usr var; do
			mount -t overlay "throwaway-$d" \
				-o "lowerdir=/$d,upperdir=$w/$d.up,workdir=$w/$d.work" "/$d"
		done
		while IFS= read -r path; do
			rm -rf -- "$path"
		done <"$w/absent"
		if [ -n "${THROWAWAY_CMDLINE-}" ]; then
			printf "%s\n" "$THROWAWAY_CMDLINE" >"$w/cmdline"
			mount --bind "$w/cmdline" /proc/cmdline
		fi
		set +e
		"$@"' sh "$w" "$@"
}
