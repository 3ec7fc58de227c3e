#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# SR-IOV (issue 18, point 1): vfs=N on a PF creates its VFs, vf=K selects VF K
# of a PF.  No VF meets its native driver first: sriov_drivers_autoprobe is 0
# before sriov_numvfs is written, the chosen VFs get their override and are
# probed, autoprobe is put back as it was, and only then are the others
# probed.  The fake kernel (tests/fake/kernel.c) creates the VFs and probes
# a new VF at once while autoprobe is on, as the kernel does.

load test_helper

# An NVMe PF with up to 7 VFs behind a root port; nvme is loaded and binds
# it.  Its VFs appear at 01:00.1, 01:00.2, ...
sriov_host() {
	host <<-DESC
	00:00.0 8086:29c0 060000 0 -        - -
	00:03.0 1b36:000c 060400 3 pcieport - -
	01:00.0 1b36:0010 010802 5 ${PF_DRIVER:-nvme} - 00:03.0 native=nvme sriov=7
	driver vfio-pci
	driver nvme
	DESC
	mkdir -p "$ROOT/dev"
	: >"$ROOT/dev/kmsg"
}

PF=$P/devices/0000:01:00.0

# The writes that give the PF 3 VFs and VF 1 (01:00.2) to vfio-pci.
VF1_LOG=(
	"$PF/sriov_drivers_autoprobe 0"
	"$PF/sriov_numvfs 3"
	"$P/devices/0000:01:00.2/driver_override vfio-pci"
	"$P/drivers_probe 0000:01:00.2"
	"$PF/sriov_drivers_autoprobe 1"
	"$P/drivers_probe 0000:01:00.1"
	"$P/drivers_probe 0000:01:00.3"
)

@test "vfs= and vf= are parsed; a malformed or repeated one names file and line" {
	config <<-'EOF'
	01:00.0 vfs=0
	01:00.0 vfs=x
	01:00.0 vf=65535
	01:00.0 vfs=2 vfs=3
	01:00.0 vfs=65535 vf=0
	EOF
	before=$(snapshot)
	run -2 --separate-stderr vr check --config-only
	assert_equal "$stderr" "vfio-reserve: $CONF:1: malformed vfs '0'
vfio-reserve: $CONF:2: malformed vfs 'x'
vfio-reserve: $CONF:3: malformed vf '65535'
vfio-reserve: $CONF:4: duplicate option 'vfs'"
	assert_equal "$(snapshot)" "$before"
}

@test "apply: autoprobe off before sriov_numvfs, the chosen VF on vfio-pci, the others on nvme, autoprobe back" {
	sriov_host
	config <<-'EOF'
	01:00.0 vfs=3
	01:00.0 vf=1
	EOF
	run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:01:00.2 [1b36:0010] -> vfio-pci (rule line 2)
vfio-reserve: 0000:01:00.1: VF 0: nvme
vfio-reserve: 0000:01:00.3: VF 2: nvme"
	assert_equal "$stderr" ""
	assert_kernel_log "${VF1_LOG[@]}"
	assert_equal "$(driver_of 0000:01:00.0)" nvme
	assert_equal "$(driver_of 0000:01:00.1)" nvme
	assert_equal "$(driver_of 0000:01:00.2)" vfio-pci
	assert_equal "$(driver_of 0000:01:00.3)" nvme
	assert_equal "$(cat "$ROOT/$PF/sriov_drivers_autoprobe")" 1
}

@test "one run at a time creates VFs: a second waits for the first's lock and writes nothing meanwhile, then acts on the host as it finds it" {
	sriov_host
	config <<-'EOF'
	01:00.0 vfs=3
	01:00.0 vf=1
	EOF
	# Another run (udev's, for the same PF) holds the lock.
	flock "$ROOT/run/vfio-reserve.sriov-lock" sh -c ': >"$1"; sleep 3' sh "$BATS_TEST_TMPDIR/held" &
	while [ ! -e "$BATS_TEST_TMPDIR/held" ]; do sleep 0.05; done
	run -124 timeout 1 "$BIN" --root "$ROOT" apply --boot --unbound
	assert_kernel_log
	assert_equal "$(cat "$ROOT/$PF/sriov_drivers_autoprobe")" 1
	wait
	run -0 vr apply
	assert_kernel_log "${VF1_LOG[@]}"
}

@test "a VF by its address, like any function, and vfs= with vf= on one rule" {
	sriov_host
	config <<-'EOF'
	01:00.0 vfs=3 vf=1
	0000:01:00.3
	EOF
	run -0 --separate-stderr vr apply
	assert_equal "$stderr" ""
	assert_kernel_log \
		"$PF/sriov_drivers_autoprobe 0" \
		"$PF/sriov_numvfs 3" \
		"$P/devices/0000:01:00.2/driver_override vfio-pci" \
		"$P/devices/0000:01:00.3/driver_override vfio-pci" \
		"$P/drivers_probe 0000:01:00.2" \
		"$P/drivers_probe 0000:01:00.3" \
		"$PF/sriov_drivers_autoprobe 1" \
		"$P/drivers_probe 0000:01:00.1"
	assert_equal "$(driver_of 0000:01:00.1)" nvme
	assert_equal "$(driver_of 0000:01:00.3)" vfio-pci
}

@test "autoprobe that was off stays off: the other VFs stay unbound, as without vfio-reserve" {
	sriov_host
	echo 0 >"$ROOT/$PF/sriov_drivers_autoprobe"
	config <<<'01:00.0 vfs=2 vf=0'
	run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:01:00.1 [1b36:0010] -> vfio-pci (rule line 1)
vfio-reserve: 0000:01:00.2: VF 1: unbound"
	assert_equal "$(cat "$ROOT/$PF/sriov_drivers_autoprobe")" 0
	assert_equal "$(driver_of 0000:01:00.2)" none
}

@test "--unbound (the udev rule on the PF's bind): the chosen VF is probed by the binder, then the rest" {
	sriov_host
	config <<<'01:00.0 vfs=3 vf=1'
	run -0 --separate-stderr vr apply --boot --unbound
	assert_equal "$output$stderr" ""
	assert_kernel_log "${VF1_LOG[@]}"
	# apply --unbound counts an override as done; the VF lines read back.
	run -0 sed 's/ in [0-9.]* ms$//' "$ROOT/dev/kmsg"
	assert_output "<6>vfio-reserve: 0000:01:00.2 [1b36:0010] -> vfio-pci (rule line 1)
<6>vfio-reserve: done (--unbound): 1 reserved, 0 already reserved, 0 failed
<6>vfio-reserve: 0000:01:00.2: VF 1: vfio-pci
<6>vfio-reserve: 0000:01:00.1: VF 0: nvme
<6>vfio-reserve: 0000:01:00.3: VF 2: nvme"
}

@test "--boot before the PF's driver binds creates nothing: a rule for a VF does not match yet" {
	PF_DRIVER=- sriov_host
	config <<-'EOF'
	01:00.0 vfs=3
	01:00.0 vf=1
	EOF
	run -0 --separate-stderr vr apply --boot
	assert_kernel_log
	run -0 head -n 1 "$ROOT/dev/kmsg"
	assert_output "<4>vfio-reserve: $CONF:2: no device matches '01:00.0 vf=1'"
}

@test "the kill switch: no VF is created" {
	sriov_host
	echo "root=/dev/sda1 vfio_reserve=off" >"$ROOT/proc/cmdline"
	config <<<'01:00.0 vfs=3 vf=1'
	run -0 --separate-stderr vr apply --boot --unbound
	assert_kernel_log
	assert_equal "$(cat "$ROOT/$PF/sriov_numvfs")" 0
}

@test "more VFs than sriov_totalvfs: a command names file and line and writes nothing; a boot warns" {
	sriov_host
	config <<-'EOF'
	01:00.0 vfs=8 vf=1
	EOF
	before=$(snapshot)
	run -1 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: $CONF:1: 0000:01:00.0 has 7 VFs at most, not vfs=8
vfio-reserve: nothing was changed"
	assert_equal "$output" ""
	assert_equal "$(snapshot)" "$before"
	run -0 --separate-stderr vr apply --boot
	run -0 head -n 1 "$ROOT/dev/kmsg"
	assert_output "<4>vfio-reserve: $CONF:1: 0000:01:00.0 has 7 VFs at most, not vfs=8"
	assert_kernel_log
}

@test "a PF with other VFs already keeps them; with as many, nothing is written again" {
	sriov_host
	config <<<'01:00.0 vfs=3 vf=1'
	run -0 vr apply
	: >"$ROOT/kernel.log"
	run -0 --separate-stderr vr apply
	assert_equal "$output" "vfio-reserve: 0000:01:00.2 [1b36:0010] already on vfio-pci (rule line 1)"
	assert_kernel_log
	config <<<'01:00.0 vfs=2'
	run -0 --separate-stderr vr apply
	assert_equal "$output$stderr" ""
	assert_kernel_log
	assert_equal "$(cat "$ROOT/$PF/sriov_numvfs")" 3
}

@test "dry-run creates nothing" {
	sriov_host
	config <<<'01:00.0 vfs=3 vf=1'
	run -0 --separate-stderr vr apply --dry-run
	assert_kernel_log
	assert_equal "$(cat "$ROOT/$PF/sriov_numvfs")" 0
}

@test "a failed sriov_numvfs write is reported, and autoprobe is put back" {
	sriov_host
	fault fail "$PF/sriov_numvfs" EACCES
	config <<<'01:00.0 vfs=3 vf=1'
	run -0 --separate-stderr vr apply
	assert_equal "$stderr" "vfio-reserve: cannot write '3' to $ROOT/$PF/sriov_numvfs: Permission denied"
	assert_kernel_log \
		"$PF/sriov_drivers_autoprobe 0" \
		"$PF/sriov_numvfs 3 -> EACCES" \
		"$PF/sriov_drivers_autoprobe 1"
}

@test "release gives a reserved VF to its native driver and leaves the VFs" {
	sriov_host
	config <<<'01:00.0 vfs=3 vf=1'
	run -0 vr apply
	run -0 --separate-stderr vr release all
	assert_equal "$output" "vfio-reserve: 0000:01:00.2 [1b36:0010] released from vfio-pci, now on nvme"
	assert_equal "$(driver_of 0000:01:00.2)" nvme
	assert_equal "$(cat "$ROOT/$PF/sriov_numvfs")" 3
}

@test "check: a vfs= beyond sriov_totalvfs fails with the line; without the udev rule, what the boot gets" {
	sriov_host
	config <<-'EOF'
	01:00.0 vfs=8
	01:00.0 vfs=3 vf=1
	EOF
	run -1 --separate-stderr vr check
	assert_line "FAIL line 1: 0000:01:00.0 has 7 VFs at most, not vfs=8"
	assert_line "WARN sriov: /usr/lib/udev/rules.d/70-vfio-reserve-sriov.rules is not installed: no VF is created at boot, and rules for VFs reserve nothing until 'vfio-reserve apply'"
	mkdir -p "$ROOT/usr/lib/udev/rules.d"
	: >"$ROOT/usr/lib/udev/rules.d/70-vfio-reserve-sriov.rules"
	run -1 --separate-stderr vr check
	assert_line "OK   sriov: VFs are created when the PF's driver binds, in the initramfs or later (/usr/lib/udev/rules.d/70-vfio-reserve-sriov.rules runs the binder)"
	config <<<'01:00.0 1b36:0010'
	run -0 --separate-stderr vr check
	refute_line --partial "sriov:"
}

@test "bind ADDR vf=K takes an existing VF; bind ADDR vfs=N vf=K creates the VFs first" {
	sriov_host
	run -0 --separate-stderr vr bind 0000:01:00.0 vfs=3 vf=1
	assert_equal "$stderr" ""
	assert_kernel_log "${VF1_LOG[@]}"
	run -0 --separate-stderr vr bind 0000:01:00.0 vf=2
	assert_equal "$output" "vfio-reserve: 0000:01:00.3 [1b36:0010] -> vfio-pci (command line)"
	assert_equal "$(driver_of 0000:01:00.3)" vfio-pci
	run -1 --separate-stderr vr bind 0000:01:00.0 vf=5
	assert_equal "$stderr" "vfio-reserve: command line: no device matches '0000:01:00.0 vf=5'"
}
