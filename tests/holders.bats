#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# What holds a function before a person's command unbinds it (issue 18,
# point 3): bind, release and a live apply name every process that has one
# of the function's device nodes open (DRM, sound, VFIO group and device,
# NVIDIA) and the console on its framebuffer, and refuse, exit 1 with
# nothing written, unless forced; apply --boot does not ask.  The unbind is
# bounded in time: a write the fake kernel never finishes (hang PATH) is
# given up after the unit-test build's 1 s, and said so.  Processes, nodes
# and consoles are laid out as the kernel shows them (lib/holders.bash).

load test_helper
# shellcheck source=tests/lib/holders.bash
source "$BATS_TEST_DIRNAME/lib/holders.bash"

teardown() {
	# The writer the fake kernel keeps blocked (hang): it was ours.
	if [ -s "$ROOT/.fixture/blocked" ]; then
		kill "$(cat "$ROOT/.fixture/blocked")" 2>/dev/null || true
	fi
}

REFUSED="vfio-reserve: nothing was changed (--force unbinds anyway)"

# assert_refused LINE...: stderr is these lines, in any order (the order of
# /proc's directories), then the refusal; nothing on stdout, nothing written.
assert_refused() {
	assert_equal "$(sed '$d' <<<"$stderr" | sort)" "$(printf 'vfio-reserve: %s\n' "$@" | sort)"
	assert_equal "$(tail -n 1 <<<"$stderr")" "$REFUSED"
	assert_equal "$output" ""
	assert_equal "$(kernel_log)" ""
}

# assert_stderr_lines LINE...: stderr is these lines, in any order.
assert_stderr_lines() {
	assert_equal "$(sort <<<"$stderr")" "$(printf 'vfio-reserve: %s\n' "$@" | sort)"
}

# Card 2 of two_cards as a desktop uses it: its display's DRM nodes open in
# the compositor and a render client, its HDMI audio in the sound server;
# nodes of the other cards, and a sound card whose number starts with 1,
# held too.
card2_in_use() {
	two_cards
	dev_nodes 00:01.0 drm card0 renderD128
	dev_nodes 01:00.0 drm card2 renderD130
	dev_nodes 02:00.0 drm card1 renderD129
	sound_card 01:00.1 0 controlC0 pcmC0D3p hwC0D0
	sound_card 02:00.1 1 controlC1 pcmC1D3p hwC1D0
	process 1234 Xorg /dev/dri/card0 /dev/dri/card1 /dev/dri/card1 /dev/null
	process 1300 firefox-bin /dev/dri/renderD129 'socket:[4031]' /dev/dri/renderD128
	process 2000 pipewire /dev/snd/controlC1 /dev/snd/pcmC1D3p /dev/snd/controlC0
	process 2100 alsamixer /dev/snd/controlC10 /dev/snd/pcmC0D3p
}

CARD2_HOLDERS=(
	"0000:02:00.0 is in use: PID 1234 (Xorg) has /dev/dri/card1 open"
	"0000:02:00.0 is in use: PID 1300 (firefox-bin) has /dev/dri/renderD129 open"
	"0000:02:00.1 is in use: PID 2000 (pipewire) has /dev/snd/controlC1 open"
	"0000:02:00.1 is in use: PID 2000 (pipewire) has /dev/snd/pcmC1D3p open"
)

@test "bind refuses a card whose DRM and sound nodes processes have open, naming each once: exit 1, nothing written" {
	card2_in_use
	before=$(snapshot)
	run -1 --separate-stderr vr bind 02:00.0
	assert_refused "${CARD2_HOLDERS[@]}"
	assert_equal "$(snapshot)" "$before"
	# The same for any driver; with its holders gone, the card is free.
	run -1 --separate-stderr vr bind 02:00.0 driver=pci-stub
	assert_refused "${CARD2_HOLDERS[@]}"
	rm -r "$ROOT/proc/1234" "$ROOT/proc/1300" "$ROOT/proc/2000"
	run -0 --separate-stderr vr bind 02:00.0
	assert_equal "$stderr" ""
	assert_equal "$(driver_of 0000:02:00.0)" vfio-pci
}

@test "bind force or --force unbinds anyway, each holder a warning" {
	card2_in_use
	for force in force --force; do
		run -0 --separate-stderr vr bind 02:00.0 "$force"
		assert_stderr_lines "${CARD2_HOLDERS[@]/%/: unbinding anyway (--force)}"
		assert_equal "$(driver_of 0000:02:00.0)" vfio-pci
		assert_equal "$(driver_of 0000:02:00.1)" vfio-pci
		run -0 vr release 02:00.0 --force
	done
}

# Card 1 given to a guest: on vfio-pci, the VMM holding its IOMMU group
# (and the container, which is no card's).
card1_in_a_guest() {
	host <<-'DESC'
	00:00.0 8086:29c0 060000 0     -        -   -
	00:01.0 1234:1111 030000 1     bochs-drm 1  -
	00:02.0 1b36:000c 060400 2     pcieport -   -
	01:00.0 1234:1111 038000 4     vfio-pci -   00:02.0 native=bochs-drm
	01:00.1 8086:2668 040300 4     vfio-pci -   00:02.0 native=snd_hda_intel
	driver bochs-drm
	driver snd_hda_intel
	DESC
	echo vfio-pci >"$ROOT/sys/bus/pci/devices/0000:01:00.0/driver_override"
	echo vfio-pci >"$ROOT/sys/bus/pci/devices/0000:01:00.1/driver_override"
	process 4321 qemu-system-x86 /dev/vfio/vfio /dev/vfio/4 /dev/kvm
	config <<<''
}

@test "release refuses a card whose IOMMU group a running guest holds, by address and with all; --force releases it" {
	card1_in_a_guest
	for what in 01:00.0 all; do
		run -1 --separate-stderr vr release "$what"
		assert_refused "0000:01:00.0 is in use: PID 4321 (qemu-system-x86) has /dev/vfio/4 open" \
			"0000:01:00.1 is in use: PID 4321 (qemu-system-x86) has /dev/vfio/4 open"
		assert_equal "$(override_of 0000:01:00.0)" vfio-pci
	done
	run -0 --separate-stderr vr release 01:00.0 --force
	assert_stderr_lines "0000:01:00.0 is in use: PID 4321 (qemu-system-x86) has /dev/vfio/4 open: unbinding anyway (--force)" \
		"0000:01:00.1 is in use: PID 4321 (qemu-system-x86) has /dev/vfio/4 open: unbinding anyway (--force)"
	assert_equal "$output" "vfio-reserve: 0000:01:00.0 [1234:1111] released from vfio-pci, now on bochs-drm
vfio-reserve: 0000:01:00.1 [8086:2668] released from vfio-pci, now on snd_hda_intel"
}

@test "release: a VFIO device file (Linux 6.6's vfio-dev) is the function's alone; usage errors exit 2" {
	card1_in_a_guest
	rm -r "$ROOT/proc/4321"
	dev_nodes 01:00.1 vfio-dev vfio0
	process 77 cloud-hypervisor /dev/vfio/devices/vfio0 /dev/iommu
	run -1 --separate-stderr vr release all
	assert_refused "0000:01:00.1 is in use: PID 77 (cloud-hypervisor) has /dev/vfio/devices/vfio0 open"
	run -2 --separate-stderr vr release 01:00.0 --force extra
	assert_equal "$stderr" "vfio-reserve: unexpected argument 'extra' (see 'vfio-reserve --help')"
	run -2 --separate-stderr vr release --force 01:00.0
	assert_equal "$stderr" "vfio-reserve: unexpected argument '01:00.0' (see 'vfio-reserve --help')"
	run -2 --separate-stderr vr release
	assert_equal "$stderr" "vfio-reserve: release takes one address (see 'vfio-reserve --help')"
	run -0 --separate-stderr vr release all --force
	assert_equal "$(driver_of 0000:01:00.1)" snd_hda_intel
}

@test "release leaves a function on its own driver alone, so what holds it there does not count" {
	card1_in_a_guest
	rm -r "$ROOT/proc/4321"
	# An override under a driver of the host's (written, never probed).
	echo vfio-pci >"$ROOT/sys/bus/pci/devices/0000:00:01.0/driver_override"
	dev_nodes 00:01.0 drm card0
	process 1234 Xorg /dev/dri/card0
	run -0 --separate-stderr vr release all
	assert_equal "$(driver_of 0000:00:01.0)" bochs-drm
	assert_equal "$(override_of 0000:00:01.0)" ""
}

@test "apply refuses like bind, --dry-run too; apply --force takes it; apply --boot never asks" {
	card2_in_use
	config <<<'02:00.0 1234:1111'
	run -1 --separate-stderr vr apply
	assert_refused "${CARD2_HOLDERS[@]}"
	# A dry run says what it would do, then that it would not.
	run -1 --separate-stderr vr apply --dry-run
	assert_equal "$(sed '$d' <<<"$stderr" | sort)" "$(printf 'vfio-reserve: %s\n' "${CARD2_HOLDERS[@]}" | sort)"
	assert_equal "$(tail -n 1 <<<"$stderr")" "$REFUSED"
	assert_equal "$output" "vfio-reserve: dry-run: 0000:02:00.0 [1234:1111] -> vfio-pci (rule line 1), unbinding bochs-drm
vfio-reserve: dry-run: 0000:02:00.1 [8086:2668] -> vfio-pci (rule line 1), unbinding snd_hda_intel"
	assert_equal "$(kernel_log)" ""
	mkdir -p "$ROOT/dev"
	: >"$ROOT/dev/kmsg"
	run -0 --separate-stderr vr apply --boot
	assert_equal "$(driver_of 0000:02:00.0)" vfio-pci
	grep -q 'is in use' "$ROOT/dev/kmsg" && fail "apply --boot asked what holds the card"
	run -0 vr release all --force
	run -0 --separate-stderr vr apply --force
	assert_stderr_lines "${CARD2_HOLDERS[@]/%/: unbinding anyway (--force)}"
	assert_equal "$(driver_of 0000:02:00.0)" vfio-pci
	# A function already on its target is not unbound: nothing to ask.
	run -0 --separate-stderr vr apply
	assert_equal "$stderr" ""
}

@test "the console: fbcon bound and on the function's fb0, or on the boot VGA's framebuffer, whatever its number" {
	card2_in_use
	rm -r "$ROOT"/proc/[0-9]*
	framebuffer 00:01.0 fb1
	framebuffer 01:00.0 fb2
	framebuffer 02:00.0 fb0
	vtconsole 0 '(S) dummy device' 0
	vtconsole 1 '(M) frame buffer device' 1
	run -1 --separate-stderr vr bind 02:00.0
	assert_refused "0000:02:00.0 is in use: the console (vtcon1) is on its framebuffer"
	config <<<'00:01.0 force'
	run -1 --separate-stderr vr apply
	assert_refused "0000:00:01.0 is in use: the console (vtcon1) is on its framebuffer"
	# fbcon is on one framebuffer: not on fb2 of a card that is neither.
	run -0 --separate-stderr vr bind 01:00.0
	assert_equal "$stderr" ""
	# Unbound from its vtconsole, fbcon holds nothing.
	echo 0 >"$ROOT/sys/class/vtconsole/vtcon1/bind"
	run -0 --separate-stderr vr bind 02:00.0
	assert_equal "$stderr" ""
}

# The host's NVIDIA GPUs as the driver lists them; nvidia-persistenced holds
# every GPU's node, the desktop the first GPU's and the shared ones.
two_nvidia_gpus() {
	host <<-'DESC'
	00:00.0 8086:3e30 060000 0  -        -  -
	00:01.0 8086:1901 060400 1  pcieport -  -
	00:01.1 8086:1905 060400 2  pcieport -  -
	01:00.0 10de:2206 030000 3  nvidia   1  00:01.0
	02:00.0 10de:2206 030000 4  nvidia   0  00:01.1
	driver vfio-pci
	DESC
	nvidia_gpu 0000:01:00.0 0
	nvidia_gpu 0000:02:00.0 1
	process 900 nvidia-persiste /dev/nvidiactl /dev/nvidia0 /dev/nvidia1
	process 1234 Xorg /dev/nvidiactl /dev/nvidia-modeset /dev/nvidia0
}

@test "NVIDIA: /dev/nvidiaN by the GPU's Device Minor; nvidiactl and the other shared nodes only for the one NVIDIA GPU" {
	two_nvidia_gpus
	run -1 --separate-stderr vr bind 02:00.0
	assert_refused "0000:02:00.0 is in use: PID 900 (nvidia-persiste) has /dev/nvidia1 open"
	# The host's one NVIDIA GPU (the other one's driver gone): the shared
	# nodes are its own; another GPU's /dev/nvidia0 is still not.
	rm -r "$ROOT/proc/driver/nvidia/gpus/0000:01:00.0"
	process 1500 cuda-app /dev/nvidia-uvm /dev/nvidia-uvm-tools /dev/nvidia-caps
	run -1 --separate-stderr vr bind 02:00.0
	assert_refused "0000:02:00.0 is in use: PID 900 (nvidia-persiste) has /dev/nvidiactl open" \
		"0000:02:00.0 is in use: PID 900 (nvidia-persiste) has /dev/nvidia1 open" \
		"0000:02:00.0 is in use: PID 1234 (Xorg) has /dev/nvidiactl open" \
		"0000:02:00.0 is in use: PID 1234 (Xorg) has /dev/nvidia-modeset open" \
		"0000:02:00.0 is in use: PID 1500 (cuda-app) has /dev/nvidia-uvm open" \
		"0000:02:00.0 is in use: PID 1500 (cuda-app) has /dev/nvidia-uvm-tools open"
}

@test "an unbind the kernel never finishes is given up after the wait, said, and its function left alone: exit 1, no hang" {
	two_cards
	fault hang "$P/devices/0000:02:00.0/driver/unbind"
	start=$SECONDS
	run -1 --separate-stderr vr bind 02:00.0
	((SECONDS - start < 10)) || fail "bind took $((SECONDS - start)) s"
	assert_equal "$stderr" "vfio-reserve: 0000:02:00.0: the kernel is still unbinding it from bochs-drm after 1 s"
	assert_equal "$output" "vfio-reserve: 0000:02:00.1 [8086:2668] -> vfio-pci (command line)"
	# No probe for the function the kernel still has locked.
	assert_kernel_log "$P/devices/0000:02:00.0/driver_override vfio-pci" \
		"$P/devices/0000:02:00.1/driver_override vfio-pci" \
		"$P/drivers/bochs-drm/unbind 0000:02:00.0 -> blocked" \
		"$P/drivers/snd_hda_intel/unbind 0000:02:00.1" \
		"$P/drivers_probe 0000:02:00.1"
}

@test "a holder found when the unbind does not finish is named with it" {
	card1_in_a_guest
	fault hang "$P/devices/0000:01:00.0/driver/unbind"
	run -1 --separate-stderr vr release 01:00.0 --force
	assert_equal "$(sed -n 3,4p <<<"$stderr")" "vfio-reserve: 0000:01:00.0: the kernel is still unbinding it from vfio-pci after 1 s
vfio-reserve: 0000:01:00.0 is in use: PID 4321 (qemu-system-x86) has /dev/vfio/4 open"
}
