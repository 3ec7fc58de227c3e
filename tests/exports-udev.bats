#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# What keeps the exports up to date: the udev rules that write the metrics
# (prometheus/) and the node labels (kubernetes/) again whenever a driver
# binds a PCI function or leaves it, as `make install` installs them, run
# by the real `udevadm test` (systemd's udev; it lists what a rule would
# RUN and runs none of it) against a PCI function of this machine.  In a
# throwaway root (tests/lib/throwaway-root.bash): /etc/udev/rules.d gets
# the rule, the project's rules installed on the host are hidden, the
# collector's and NFD's directories are made or hidden, and
# /run/udev, where udevadm test writes the device's database, is a tmpfs:
# the host is untouched.  The NFD boot unit passes systemd-analyze verify
# (the metrics unit is tested in tests/metrics.bats).  Root only.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
# shellcheck source=tests/lib/throwaway-root.bash
source "$BATS_TEST_DIRNAME/lib/throwaway-root.bash"

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
METRICS_DIR=/var/lib/prometheus/node-exporter
NFD_DIR=/etc/kubernetes/node-feature-discovery/features.d

setup() {
	[ "$(id -u)" -eq 0 ] || skip "udevadm test in a private mount namespace: root only (CI)"
	command -v udevadm >/dev/null || fail "udevadm is not installed (apt-get install udev)"
	DEV=$(find /sys/bus/pci/devices -mindepth 1 -maxdepth 1 | sort | head -n 1)
	[ -n "$DEV" ] || skip "this machine has no PCI function for udev to test against"
	make -s -C "$TOP" install-prometheus install-kubernetes DESTDIR="$BATS_TEST_TMPDIR/dest" \
		PREFIX=/usr SBINDIR=/usr/sbin
	W=$BATS_TEST_TMPDIR/w
	mkdir -p "$W/etc.up/udev/rules.d"
	# The project's rules a package or `make install` (the VM suite's) put
	# on this host: hidden, so that only the rule under test can run.
	printf '%s\n' /usr/lib/udev/rules.d/70-vfio-reserve-sriov.rules \
		/usr/lib/udev/rules.d/71-vfio-reserve-metrics.rules \
		/usr/lib/udev/rules.d/71-vfio-reserve-nfd.rules >"$W/absent"
}

# rule NAME: the installed rule NAME in the throwaway /etc/udev/rules.d.
rule() {
	cp "$BATS_TEST_TMPDIR/dest/usr/lib/udev/rules.d/$1" "$W/etc.up/udev/rules.d/"
}

# runs ACTION: what udev would RUN for the event ACTION of $DEV, only ours.
runs() {
	throwaway_root "$W" sh -c 'mount -t tmpfs tmpfs /run/udev && exec udevadm test --action="$1" "$2"' \
		sh "$1" "$DEV" 2>&1 | grep -F "run: '/usr/sbin/vfio-reserve" || true
}

@test "metrics: a driver binding or leaving a PCI function writes them again, where node_exporter's directory is; nothing else does" {
	rule 71-vfio-reserve-metrics.rules
	mkdir -p "$W/var.up/${METRICS_DIR#/var/}"
	for action in bind unbind; do
		run -0 runs "$action"
		assert_output "run: '/usr/sbin/vfio-reserve -q metrics --textfile-dir $METRICS_DIR'"
	done
	for action in add change remove; do
		run -0 runs "$action"
		assert_output ''
	done
	# Without the collector's directory, nothing.
	rm -r "$W/var.up/${METRICS_DIR#/var/}"
	echo "$METRICS_DIR" >>"$W/absent"
	run -0 runs bind
	assert_output ''
}

@test "NFD: a driver binding or leaving a PCI function writes the node labels again, where features.d is; nothing else does" {
	rule 71-vfio-reserve-nfd.rules
	mkdir -p "$W/etc.up/${NFD_DIR#/etc/}"
	for action in bind unbind; do
		run -0 runs "$action"
		assert_output "run: '/usr/sbin/vfio-reserve -q nfd --write=$NFD_DIR'"
	done
	run -0 runs add
	assert_output ''
	rm -r "$W/etc.up/kubernetes"
	echo "$NFD_DIR" >>"$W/absent"
	run -0 runs unbind
	assert_output ''
}

@test "NFD's boot unit: after local-fs, only where features.d is, writing there alone; systemd-analyze verify accepts it" {
	command -v systemd-analyze >/dev/null || fail "systemd-analyze is not installed (apt-get install systemd)"
	unit=$BATS_TEST_TMPDIR/dest/usr/lib/systemd/system/vfio-reserve-nfd.service
	[ "$(stat -c %a "$unit")" = 644 ]
	run -0 grep -E '^(After|Condition[A-Za-z]+|ExecStart|ReadWritePaths|WantedBy)=' "$unit"
	assert_output "After=local-fs.target
ConditionPathIsDirectory=$NFD_DIR
ExecStart=/usr/sbin/vfio-reserve nfd --write=$NFD_DIR
ReadWritePaths=$NFD_DIR
WantedBy=multi-user.target"
	# verify wants the program: the one built here, in a copy of the unit.
	sed "s|^ExecStart=/usr/sbin/vfio-reserve |ExecStart=$TOP/binder/vfio-reserve |" "$unit" \
		>"$BATS_TEST_TMPDIR/vfio-reserve-nfd.service"
	run -0 --separate-stderr systemd-analyze verify "$BATS_TEST_TMPDIR/vfio-reserve-nfd.service"
	assert_equal "$stderr" ''
}
