#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Self-tests for tests/lib/fixture.bash, the fake root builder (make_sysfs)
# and the fake modprobe, and for tests/fake/kernel.c, the fake kernel that the
# binder's unit-test builds write to, driven here by tests/fake/fake-sysfs
# (the binder's own write_attr and read_link_name over the fake table).

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

FAKE=$BATS_TEST_DIRNAME/../fake/fake-sysfs

setup() {
    source "$BATS_TEST_DIRNAME/fixture.bash"
    R=$BATS_TEST_TMPDIR/root
    PCI=$R/sys/bus/pci
    P=sys/bus/pci
    [[ -x $FAKE ]] || fail "$FAKE: not built (make tests/fake/fake-sysfs)"
}

# sysfs_write PATH VALUE, sysfs_readlink PATH: as the binder, PATH relative
# to the root; a failure prints the errno's name and exits 1.
sysfs_write() {
    "$FAKE" "$R" write "$@"
}

sysfs_readlink() {
    "$FAKE" "$R" readlink "$@"
}

# The example from the brief: an integrated card on the root bus and a
# two-function card behind a root port.
two_cards() {
    make_sysfs "$R" <<'EOF'
# addr     id        class   group driver        vga parent     [key=value ...]
00:01.0    1234:1111 030000  1     bochs-drm     1   -
00:02.0    8086:29c0 060400  2     pcieport      -   -
01:00.0    1234:1111 038000  3     -             -   00:02.0    native=bochs-drm
01:00.1    8086:293e 040300  3     snd_hda_intel -   00:02.0
driver vfio-pci
EOF
}

# Entries of one type below ROOT/DIR, sorted, symlinks with their targets.
list_tree() {
    local type=$1 dir=$2
    (cd "$R" && find "$dir" -mindepth 1 -type "$type" -printf '%p %l\n' | sed 's/ $//' | LC_ALL=C sort)
}

# --- make_sysfs: the tree ----------------------------------------------------

@test "device directories nest along the parent chain under pci0000:00" {
    two_cards
    run list_tree d sys/devices
    assert_output - <<'EOF'
sys/devices/pci0000:00
sys/devices/pci0000:00/0000:00:01.0
sys/devices/pci0000:00/0000:00:02.0
sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0
sys/devices/pci0000:00/0000:00:02.0/0000:01:00.1
sys/devices/virtual
sys/devices/virtual/iommu
sys/devices/virtual/iommu/dmar0
EOF
}

@test "every symlink is relative and spelled as sysfs spells it" {
    two_cards
    run list_tree l sys
    assert_output - <<'EOF'
sys/bus/pci/devices/0000:00:01.0 ../../../devices/pci0000:00/0000:00:01.0
sys/bus/pci/devices/0000:00:02.0 ../../../devices/pci0000:00/0000:00:02.0
sys/bus/pci/devices/0000:01:00.0 ../../../devices/pci0000:00/0000:00:02.0/0000:01:00.0
sys/bus/pci/devices/0000:01:00.1 ../../../devices/pci0000:00/0000:00:02.0/0000:01:00.1
sys/bus/pci/drivers/bochs-drm/0000:00:01.0 ../../../../devices/pci0000:00/0000:00:01.0
sys/bus/pci/drivers/pcieport/0000:00:02.0 ../../../../devices/pci0000:00/0000:00:02.0
sys/bus/pci/drivers/snd_hda_intel/0000:01:00.1 ../../../../devices/pci0000:00/0000:00:02.0/0000:01:00.1
sys/class/iommu/dmar0 ../../devices/virtual/iommu/dmar0
sys/devices/pci0000:00/0000:00:01.0/driver ../../../bus/pci/drivers/bochs-drm
sys/devices/pci0000:00/0000:00:01.0/iommu_group ../../../kernel/iommu_groups/1
sys/devices/pci0000:00/0000:00:01.0/subsystem ../../../bus/pci
sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/iommu_group ../../../../kernel/iommu_groups/3
sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/subsystem ../../../../bus/pci
sys/devices/pci0000:00/0000:00:02.0/0000:01:00.1/driver ../../../../bus/pci/drivers/snd_hda_intel
sys/devices/pci0000:00/0000:00:02.0/0000:01:00.1/iommu_group ../../../../kernel/iommu_groups/3
sys/devices/pci0000:00/0000:00:02.0/0000:01:00.1/subsystem ../../../../bus/pci
sys/devices/pci0000:00/0000:00:02.0/driver ../../../bus/pci/drivers/pcieport
sys/devices/pci0000:00/0000:00:02.0/iommu_group ../../../kernel/iommu_groups/2
sys/devices/pci0000:00/0000:00:02.0/subsystem ../../../bus/pci
sys/kernel/iommu_groups/1/devices/0000:00:01.0 ../../../../devices/pci0000:00/0000:00:01.0
sys/kernel/iommu_groups/2/devices/0000:00:02.0 ../../../../devices/pci0000:00/0000:00:02.0
sys/kernel/iommu_groups/3/devices/0000:01:00.0 ../../../../devices/pci0000:00/0000:00:02.0/0000:01:00.0
sys/kernel/iommu_groups/3/devices/0000:01:00.1 ../../../../devices/pci0000:00/0000:00:02.0/0000:01:00.1
EOF
}

@test "symlinks resolve to the right directories" {
    two_cards
    local dev=$R/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.1
    assert_equal "$(readlink -f "$PCI/devices/0000:01:00.1")" "$dev"
    assert_equal "$(readlink -f "$dev/driver")" "$PCI/drivers/snd_hda_intel"
    assert_equal "$(readlink -f "$dev/iommu_group")" "$R/sys/kernel/iommu_groups/3"
    assert_equal "$(readlink -f "$dev/subsystem")" "$PCI"
    assert_equal "$(readlink -f "$PCI/drivers/snd_hda_intel/0000:01:00.1")" "$dev"
    assert_equal "$(readlink -f "$R/sys/kernel/iommu_groups/3/devices/0000:01:00.0")" \
        "$R/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0"
    assert_equal "$(readlink -f "$PCI/devices/0000:00:01.0/driver")" "$PCI/drivers/bochs-drm"
    assert_equal "$(fixture_driver_of "$R" 0000:01:00.0)" ""
    assert_equal "$(fixture_driver_of "$R" 0000:00:01.0)" "bochs-drm"
}

@test "device attribute files hold what the kernel prints" {
    two_cards
    local dev=$R/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0
    run list_tree f sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0
    assert_output - <<'EOF'
sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/class
sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/device
sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/driver_override
sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/enable
sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/modalias
sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/numa_node
sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/revision
sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/subsystem_device
sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/subsystem_vendor
sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/uevent
sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/vendor
EOF
    assert_equal "$(cat "$dev/vendor")" 0x1234
    assert_equal "$(cat "$dev/device")" 0x1111
    assert_equal "$(cat "$dev/subsystem_vendor")" 0x1234
    assert_equal "$(cat "$dev/subsystem_device")" 0x1111
    assert_equal "$(cat "$dev/class")" 0x038000
    assert_equal "$(cat "$dev/revision")" 0x02
    assert_equal "$(cat "$dev/modalias")" pci:v00001234d00001111sv00001234sd00001111bc03sc80i00
    # As pci_uevent() prints it, less DRIVER= (see _fx_write_device_files).
    assert_equal "$(cat "$dev/uevent")" "PCI_CLASS=38000
PCI_ID=1234:1111
PCI_SUBSYS_ID=1234:1111
PCI_SLOT_NAME=0000:01:00.0
MODALIAS=pci:v00001234d00001111sv00001234sd00001111bc03sc80i00"
    assert_equal "$(cat "$dev/numa_node")" -1
    assert_equal "$(cat "$dev/enable")" 0
    assert_equal "$(cat "$PCI/devices/0000:00:01.0/enable")" 1
    assert_file_empty "$dev/driver_override"
    assert [ -f "$dev/driver_override" ] && assert [ ! -L "$dev/driver_override" ]
    # The file's bytes, newline included.
    assert_equal "$(od -An -c "$dev/class" | tr -s ' ')" " 0 x 0 3 8 0 0 0 \n"
}

@test "subsys= sets the subsystem ids and the modalias" {
    make_sysfs "$R" <<'EOF'
0a:00.0 10DE:1B80 030000 7 nouveau 1 - subsys=1043:85AA
EOF
    local dev=$PCI/devices/0000:0a:00.0
    assert_equal "$(cat "$dev/vendor") $(cat "$dev/device")" "0x10de 0x1b80"
    assert_equal "$(cat "$dev/subsystem_vendor") $(cat "$dev/subsystem_device")" "0x1043 0x85aa"
    assert_equal "$(cat "$dev/modalias")" pci:v000010DEd00001B80sv00001043sd000085AAbc03sc00i00
    assert_equal "$(readlink "$dev")" ../../../devices/pci0000:0a/0000:0a:00.0
}

@test "drivers have plain, empty action files; bus has drivers_probe; etc is empty" {
    two_cards
    run list_tree f sys/bus/pci
    assert_output - <<'EOF'
sys/bus/pci/drivers/bochs-drm/bind
sys/bus/pci/drivers/bochs-drm/new_id
sys/bus/pci/drivers/bochs-drm/remove_id
sys/bus/pci/drivers/bochs-drm/unbind
sys/bus/pci/drivers/pcieport/bind
sys/bus/pci/drivers/pcieport/new_id
sys/bus/pci/drivers/pcieport/remove_id
sys/bus/pci/drivers/pcieport/unbind
sys/bus/pci/drivers/snd_hda_intel/bind
sys/bus/pci/drivers/snd_hda_intel/new_id
sys/bus/pci/drivers/snd_hda_intel/remove_id
sys/bus/pci/drivers/snd_hda_intel/unbind
sys/bus/pci/drivers/vfio-pci/bind
sys/bus/pci/drivers/vfio-pci/new_id
sys/bus/pci/drivers/vfio-pci/remove_id
sys/bus/pci/drivers/vfio-pci/unbind
sys/bus/pci/drivers_autoprobe
sys/bus/pci/drivers_probe
EOF
    assert_file_empty "$PCI/drivers_probe"
    assert_file_empty "$PCI/drivers/vfio-pci/bind"
    run list_tree p .
    assert_output ""
    assert_dir_exist "$PCI/slots"
    assert_dir_exist "$R/etc"
    assert_equal "$(ls -A "$R/etc")" ""
    assert_not_exist "$R/usr/share/misc"
    assert_file_empty "$R/kernel.log"
    assert_equal "$(cat "$R/.fixture/devices/0000:01:00.0")" "sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0 bochs-drm"
    assert_equal "$(cat "$R/.fixture/devices/0000:01:00.1")" "sys/devices/pci0000:00/0000:00:02.0/0000:01:00.1 snd_hda_intel"
}

@test "boot_vga exists only where the vga column says 0 or 1" {
    make_sysfs "$R" <<'EOF'
00:01.0 1234:1111 030000 1 - 1 -
00:03.0 1002:67df 030000 2 - 0 -
00:04.0 8086:293e 040300 3 - - -
EOF
    assert_equal "$(cat "$PCI/devices/0000:00:01.0/boot_vga")" 1
    assert_equal "$(cat "$PCI/devices/0000:00:03.0/boot_vga")" 0
    assert_not_exist "$PCI/devices/0000:00:04.0/boot_vga"
}

@test "slots get an address file, short addresses get domain 0000" {
    make_sysfs "$R" <<'EOF'
slot 3 0000:01:00
slot 5-1 0A:1F
EOF
    assert_equal "$(ls "$PCI/slots")" "$(printf '3\n5-1')"
    assert_equal "$(cat "$PCI/slots/3/address")" 0000:01:00
    assert_equal "$(cat "$PCI/slots/5-1/address")" 0000:0a:1f
}

@test "addresses are normalised; domains and buses give the pciDDDD:BB root" {
    make_sysfs "$R" <<'EOF'
0001:00:1C.0 8086:a110 060400 - pcieport - -
0001:03:00.0 10de:1b80 030000 - - 1 0001:00:1c.0
EOF
    assert_equal "$(readlink "$PCI/devices/0001:03:00.0")" ../../../devices/pci0001:00/0001:00:1c.0/0001:03:00.0
    assert_dir_exist "$R/sys/devices/pci0001:00/0001:00:1c.0/0001:03:00.0"
    # group "-": no iommu_group link, no group directory
    assert_not_exist "$PCI/devices/0001:03:00.0/iommu_group"
    assert_equal "$(ls -A "$R/sys/kernel/iommu_groups")" ""
}

@test "parents may come after their children" {
    make_sysfs "$R" <<'EOF'
02:00.0 10de:1b80 030000 4 - - 00:1c.0
00:1c.0 8086:a110 060400 3 pcieport - -
EOF
    assert_equal "$(readlink "$PCI/devices/0000:02:00.0")" ../../../devices/pci0000:00/0000:00:1c.0/0000:02:00.0
    assert_file_exist "$R/sys/devices/pci0000:00/0000:00:1c.0/vendor"
    assert_file_exist "$R/sys/devices/pci0000:00/0000:00:1c.0/0000:02:00.0/vendor"
}

@test "cpu directive writes Intel, AMD or virtualisation-less cpuinfo" {
    local kind
    for kind in intel amd none; do
        make_sysfs "$R.$kind" <<<"cpu $kind"
    done
    run grep -c '^processor' "$R.intel/proc/cpuinfo"
    assert_output 2
    run grep -m1 '^vendor_id' "$R.intel/proc/cpuinfo"
    assert_output "$(printf 'vendor_id\t: GenuineIntel')"
    run grep -c '^flags.* vmx ' "$R.intel/proc/cpuinfo"
    assert_output 2
    run grep -c 'fpu .*sse2 .*lm ' "$R.intel/proc/cpuinfo"
    assert_output 2
    run grep -m1 '^vendor_id' "$R.amd/proc/cpuinfo"
    assert_output "$(printf 'vendor_id\t: AuthenticAMD')"
    run grep -c '^flags.* svm ' "$R.amd/proc/cpuinfo"
    assert_output 2
    run grep -c 'vmx' "$R.amd/proc/cpuinfo"
    assert_output 0
    run grep -m1 '^vendor_id' "$R.none/proc/cpuinfo"
    assert_output "$(printf 'vendor_id\t: GenuineIntel')"
    run grep -cw 'vmx\|svm' "$R.none/proc/cpuinfo"
    assert_output 0
}

@test "defaults: intel cpu and iommu, cmdline, osrelease, vfio modules" {
    make_sysfs "$R" <<<"00:01.0 1234:1111 030000 1 - 1 -"
    run grep -c '^flags.* vmx ' "$R/proc/cpuinfo"
    assert_output 2
    assert_dir_exist "$R/sys/class/iommu/dmar0"
    assert_equal "$(cat "$R/proc/cmdline")" "BOOT_IMAGE=/boot/vmlinuz-6.1.0-test root=/dev/sda1 ro quiet intel_iommu=on iommu=pt"
    assert_equal "$(cat "$R/proc/sys/kernel/osrelease")" 6.1.0-test
    run cat "$R/lib/modules/6.1.0-test/modules.dep"
    assert_output - <<'EOF'
kernel/drivers/vfio/vfio.ko:
kernel/drivers/vfio/vfio_iommu_type1.ko: kernel/drivers/vfio/vfio.ko
kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko kernel/drivers/vfio/vfio.ko kernel/virt/lib/irqbypass.ko
kernel/drivers/vfio/pci/vfio-pci-core.ko: kernel/drivers/vfio/vfio.ko kernel/virt/lib/irqbypass.ko
kernel/virt/lib/irqbypass.ko:
EOF
    assert_equal "$(cat "$R/lib/modules/6.1.0-test/modules.builtin")" kernel/drivers/pci/pci-stub.ko
}

@test "kernel, cmdline, module and builtin directives replace the defaults" {
    make_sysfs "$R" <<'EOF'
kernel 6.8.0-1-amd64
cmdline BOOT_IMAGE=/vmlinuz  intel_iommu=on  vfio-reserve.ids=1234:1111
builtin vfio_pci
module snd-hda-intel
module pci_stub
EOF
    local mods=$R/lib/modules/6.8.0-1-amd64
    assert_equal "$(cat "$R/proc/sys/kernel/osrelease")" 6.8.0-1-amd64
    assert_equal "$(cat "$R/proc/cmdline")" "BOOT_IMAGE=/vmlinuz intel_iommu=on vfio-reserve.ids=1234:1111"
    assert_equal "$(cat "$mods/modules.builtin")" kernel/drivers/vfio/pci/vfio-pci.ko
    run cat "$mods/modules.dep"
    assert_output - <<'EOF'
kernel/sound/pci/hda/snd-hda-intel.ko: kernel/sound/pci/hda/snd-hda-codec.ko kernel/sound/hda/snd-hda-core.ko kernel/sound/core/snd.ko
kernel/sound/pci/hda/snd-hda-codec.ko: kernel/sound/hda/snd-hda-core.ko kernel/sound/core/snd.ko
kernel/sound/hda/snd-hda-core.ko: kernel/sound/core/snd.ko
kernel/sound/core/snd.ko:
kernel/drivers/pci/pci-stub.ko:
EOF
    assert_not_exist "$R/lib/modules/6.1.0-test"
}

@test "iommu none: no iommu class entries, no groups, no group links" {
    make_sysfs "$R" <<'EOF'
iommu none
00:01.0 1234:1111 030000 1 bochs-drm 1 -
EOF
    assert_dir_exist "$R/sys/class/iommu"
    assert_equal "$(ls -A "$R/sys/class/iommu")" ""
    assert_not_exist "$R/sys/kernel/iommu_groups"
    assert_not_exist "$PCI/devices/0000:00:01.0/iommu_group"
    assert_file_exist "$PCI/devices/0000:00:01.0/vendor"
}

@test "iommu amd gives ivhd0" {
    make_sysfs "$R" <<<"iommu amd"
    assert_equal "$(ls "$R/sys/class/iommu")" ivhd0
    assert_dir_exist "$R/sys/class/iommu/ivhd0"
    assert_dir_exist "$R/sys/kernel/iommu_groups"
}

@test "malformed descriptions fail naming the line and build nothing" {
    local -a cases=(
        "00:01.0 1234:1111 030000 1 - 1|line 2: expected 7 columns"
        "00:1.0 1234:1111 030000 1 - 1 -|line 2: bad address 00:1.0"
        "00:20.0 1234:1111 030000 1 - 1 -|line 2: bad address 00:20.0"
        "00:01.0 1234-1111 030000 1 - 1 -|line 2: bad id 1234-1111"
        "00:01.0 1234:1111 0300 1 - 1 -|line 2: bad class 0300"
        "00:01.0 1234:1111 030000 x - 1 -|line 2: bad iommu group x"
        "00:01.0 1234:1111 030000 1 - yes -|line 2: bad vga yes"
        "00:01.0 1234:1111 030000 1 - 1 - colour=red|line 2: unknown option colour=red"
        "01:00.0 1234:1111 030000 1 - 1 00:09.0|line 2: unknown parent 0000:00:09.0"
        "00:02.0 1234:1111 030000 1 - 1 -|line 3: function 0000:00:02.0 declared twice"
        "cpu arm|line 2: cpu wants intel, amd or none"
        "iommu|line 2: iommu wants intel, amd or none"
        "slot 3 01:00.0|line 2: bad slot address 01:00.0"
        "module|line 2: module wants one NAME"
    )
    local case n=0
    for case in "${cases[@]}"; do
        n=$((n + 1))
        run make_sysfs "$R.$n" <<<"# first line is a comment
${case%%|*}
00:02.0 1234:1111 030000 1 - 1 -"
        assert_failure
        assert_output --partial "make_sysfs: ${case#*|}"
        assert_output --partial "'${case%%|*}'"
        assert_not_exist "$R.$n/sys"
    done
}

@test "a parent loop is reported" {
    run make_sysfs "$R" <<'EOF'
01:00.0 1234:1111 030000 1 - - 02:00.0
02:00.0 1234:1111 060400 1 - - 01:00.0
EOF
    assert_failure
    assert_output --partial "line 1: parent chain of 0000:01:00.0 loops"
}

@test "make_sysfs refuses a root that already has sys" {
    make_sysfs "$R" <<<""
    run make_sysfs "$R" <<<""
    assert_failure
    assert_output --partial "already exists"
}

# --- the fake kernel (tests/fake/kernel.c) -----------------------------------

@test "override, unbind, probe: each acts before the write returns, logged in order" {
    two_cards
    sysfs_write $P/devices/0000:00:01.0/driver_override vfio-pci
    # an override alone moves nothing
    assert_equal "$(fixture_driver_of "$R" 0000:00:01.0)" bochs-drm
    sysfs_write $P/drivers/bochs-drm/unbind 0000:00:01.0
    assert_equal "$(fixture_driver_of "$R" 0000:00:01.0)" ""
    assert_not_exist "$PCI/drivers/bochs-drm/0000:00:01.0"
    sysfs_write $P/drivers_probe 0000:00:01.0
    assert_equal "$(readlink "$PCI/devices/0000:00:01.0/driver")" ../../../bus/pci/drivers/vfio-pci
    assert_equal "$(readlink "$PCI/drivers/vfio-pci/0000:00:01.0")" ../../../../devices/pci0000:00/0000:00:01.0
    assert_equal "$(cat "$PCI/devices/0000:00:01.0/driver_override")" vfio-pci
    run cat "$R/kernel.log"
    assert_output - <<'EOF'
sys/bus/pci/devices/0000:00:01.0/driver_override vfio-pci
sys/bus/pci/drivers/bochs-drm/unbind 0000:00:01.0
sys/bus/pci/drivers_probe 0000:00:01.0
EOF
}

@test "links made by the fake are spelled like make_sysfs's, at any depth" {
    two_cards
    local before
    before=$(list_tree l sys)
    sysfs_write $P/drivers/snd_hda_intel/unbind 0000:01:00.1
    sysfs_write $P/drivers/bochs-drm/unbind 0000:00:01.0
    sysfs_write $P/drivers_probe 0000:01:00.1
    sysfs_write $P/drivers_probe 0000:00:01.0
    assert_equal "$(list_tree l sys)" "$before"
}

@test "probe binds only an unbound function: the native driver without an override" {
    two_cards
    # 01:00.0 is unbound, native=bochs-drm
    sysfs_write $P/drivers_probe 0000:01:00.0
    assert_equal "$(fixture_driver_of "$R" 0000:01:00.0)" bochs-drm
    assert_equal "$(readlink -f "$PCI/drivers/bochs-drm/0000:01:00.0")" \
        "$R/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0"
    # a probe of a bound function changes nothing and succeeds
    sysfs_write $P/devices/0000:01:00.0/driver_override vfio-pci
    run -0 sysfs_write $P/drivers_probe 0000:01:00.0
    assert_equal "$(fixture_driver_of "$R" 0000:01:00.0)" bochs-drm
    # a function without a native driver stays unbound, and that is no error
    sysfs_write $P/drivers/pcieport/unbind 0000:00:02.0
    : >"$PCI/devices/0000:00:02.0/driver_override"
    echo "sys/devices/pci0000:00/0000:00:02.0 -" >"$R/.fixture/devices/0000:00:02.0"
    run -0 sysfs_write $P/drivers_probe 0000:00:02.0
    assert_equal "$(fixture_driver_of "$R" 0000:00:02.0)" ""
}

@test "a bound function ignores a later override until it is unbound and probed" {
    two_cards
    sysfs_write $P/devices/0000:01:00.1/driver_override vfio-pci
    sysfs_write $P/drivers_probe 0000:01:00.1
    sysfs_write $P/drivers/vfio-pci/bind 0000:01:00.1 || true
    assert_equal "$(fixture_driver_of "$R" 0000:01:00.1)" snd_hda_intel
    # probing before unbinding: the probe finds it bound, the unbind leaves it unbound
    sysfs_write $P/drivers/snd_hda_intel/unbind 0000:01:00.1
    assert_equal "$(fixture_driver_of "$R" 0000:01:00.1)" ""
    sysfs_write $P/drivers_probe 0000:01:00.1
    assert_equal "$(fixture_driver_of "$R" 0000:01:00.1)" vfio-pci
}

@test "an override naming an unregistered driver leaves the function unbound until it appears" {
    make_sysfs "$R" <<<"00:01.0 1234:1111 030000 1 bochs-drm 1 -"
    sysfs_write $P/devices/0000:00:01.0/driver_override vfio-pci
    sysfs_write $P/drivers/bochs-drm/unbind 0000:00:01.0
    run -0 sysfs_write $P/drivers_probe 0000:00:01.0
    assert_equal "$(fixture_driver_of "$R" 0000:00:01.0)" ""
    # nor does the native driver take it: the override restricts binding
    run -1 sysfs_write $P/drivers/bochs-drm/bind 0000:00:01.0
    assert_output ENODEV
    fixture_add_driver "$R" vfio-pci
    sysfs_write $P/drivers_probe 0000:00:01.0
    assert_equal "$(fixture_driver_of "$R" 0000:00:01.0)" vfio-pci
}

@test "(null) and empty overrides mean no override" {
    make_sysfs "$R" <<'EOF'
00:01.0 1234:1111 030000 1 - 1 - native=bochs-drm
00:02.0 1234:1111 030000 2 - 0 - native=bochs-drm
driver bochs-drm
EOF
    sysfs_write $P/devices/0000:00:01.0/driver_override '(null)'
    sysfs_write $P/devices/0000:00:02.0/driver_override vfio-pci
    sysfs_write $P/devices/0000:00:02.0/driver_override ''
    sysfs_write $P/drivers_probe 0000:00:01.0
    sysfs_write $P/drivers_probe 0000:00:02.0
    assert_equal "$(fixture_driver_of "$R" 0000:00:01.0)" bochs-drm
    assert_equal "$(fixture_driver_of "$R" 0000:00:02.0)" bochs-drm
}

@test "bind obeys the override and, without one, takes only the native driver" {
    make_sysfs "$R" <<'EOF'
00:01.0 1234:1111 030000 1 - 1 - native=bochs-drm
driver bochs-drm
driver vfio-pci
EOF
    # no override: vfio-pci's ID table matches nothing
    run -1 sysfs_write $P/drivers/vfio-pci/bind 0000:00:01.0
    assert_output ENODEV
    sysfs_write $P/devices/0000:00:01.0/driver_override vfio-pci
    run -1 sysfs_write $P/drivers/bochs-drm/bind 0000:00:01.0
    assert_output ENODEV
    run -0 sysfs_write $P/drivers/vfio-pci/bind 0000:00:01.0
    assert_equal "$(fixture_driver_of "$R" 0000:00:01.0)" vfio-pci
    run -1 sysfs_write $P/drivers/vfio-pci/bind 0000:00:01.0
    assert_output EBUSY
    run cat "$R/kernel.log"
    assert_output - <<'EOF'
sys/bus/pci/drivers/vfio-pci/bind 0000:00:01.0 -> ENODEV
sys/bus/pci/devices/0000:00:01.0/driver_override vfio-pci
sys/bus/pci/drivers/bochs-drm/bind 0000:00:01.0 -> ENODEV
sys/bus/pci/drivers/vfio-pci/bind 0000:00:01.0
sys/bus/pci/drivers/vfio-pci/bind 0000:00:01.0 -> EBUSY
EOF
}

@test "unbind: ENODEV from a driver that does not hold it; through the driver link too" {
    two_cards
    run -1 sysfs_write $P/drivers/snd_hda_intel/unbind 0000:00:01.0
    assert_output ENODEV
    assert_equal "$(fixture_driver_of "$R" 0000:00:01.0)" bochs-drm
    run -0 sysfs_write $P/devices/0000:00:01.0/driver/unbind 0000:00:01.0
    assert_equal "$(fixture_driver_of "$R" 0000:00:01.0)" ""
    assert_not_exist "$PCI/drivers/bochs-drm/0000:00:01.0"
    # unbound: there is no driver link to write through
    run -1 sysfs_write $P/devices/0000:00:01.0/driver/unbind 0000:00:01.0
    assert_output ENOENT
    run -1 sysfs_write $P/drivers/bochs-drm/unbind 0000:00:01.0
    assert_output ENODEV
    run cat "$R/kernel.log"
    assert_output - <<'EOF'
sys/bus/pci/drivers/snd_hda_intel/unbind 0000:00:01.0 -> ENODEV
sys/bus/pci/drivers/bochs-drm/unbind 0000:00:01.0
sys/bus/pci/devices/0000:00:01.0/driver/unbind 0000:00:01.0 -> ENOENT
sys/bus/pci/drivers/bochs-drm/unbind 0000:00:01.0 -> ENODEV
EOF
}

@test "unknown addresses, unregistered drivers, new_id and remove_id" {
    two_cards
    run -1 sysfs_write $P/drivers_probe 0000:07:00.0
    assert_output ENODEV
    run -1 sysfs_write $P/drivers_probe ../../etc
    assert_output ENODEV
    run -1 sysfs_write $P/drivers/pci-stub/bind 0000:00:01.0
    assert_output ENOENT
    run -0 sysfs_write $P/drivers/vfio-pci/new_id "1234 1111"
    run -0 sysfs_write $P/drivers/vfio-pci/remove_id "1234 1111"
    assert_equal "$(fixture_driver_of "$R" 0000:00:01.0)" bochs-drm
    assert_file_empty "$PCI/drivers/vfio-pci/new_id"
    assert_file_empty "$PCI/drivers_probe"
    run cat "$R/kernel.log"
    assert_output - <<'EOF'
sys/bus/pci/drivers_probe 0000:07:00.0 -> ENODEV
sys/bus/pci/drivers_probe ../../etc -> ENODEV
sys/bus/pci/drivers/pci-stub/bind 0000:00:01.0 -> ENOENT
sys/bus/pci/drivers/vfio-pci/new_id 1234 1111
sys/bus/pci/drivers/vfio-pci/remove_id 1234 1111
EOF
}

@test "fault fail: the write fails with the errno named and changes nothing" {
    two_cards
    fixture_fault "$R" fail $P/devices/0000:00:01.0/driver_override EACCES
    fixture_fault "$R" fail $P/drivers/bochs-drm/unbind EROFS
    fixture_fault "$R" fail $P/drivers_probe ENODEV
    run -1 sysfs_write $P/devices/0000:00:01.0/driver_override vfio-pci
    assert_output EACCES
    assert_file_empty "$PCI/devices/0000:00:01.0/driver_override"
    run -1 sysfs_write $P/drivers/bochs-drm/unbind 0000:00:01.0
    assert_output EROFS
    assert_equal "$(fixture_driver_of "$R" 0000:00:01.0)" bochs-drm
    run -1 sysfs_write $P/drivers_probe 0000:01:00.0
    assert_output ENODEV
    assert_equal "$(fixture_driver_of "$R" 0000:01:00.0)" ""
    # other paths are untouched by the rules
    run -0 sysfs_write $P/devices/0000:01:00.1/driver_override vfio-pci
    run cat "$R/kernel.log"
    assert_output - <<'EOF'
sys/bus/pci/devices/0000:00:01.0/driver_override vfio-pci -> EACCES
sys/bus/pci/drivers/bochs-drm/unbind 0000:00:01.0 -> EROFS
sys/bus/pci/drivers_probe 0000:01:00.0 -> ENODEV
sys/bus/pci/devices/0000:01:00.1/driver_override vfio-pci
EOF
}

@test "fault vanish: the function is gone at the first write, as after a hot-unplug" {
    two_cards
    fixture_fault "$R" vanish 0000:01:00.1
    # reads before the first write still find it (the binder's scan)
    run -0 sysfs_readlink $P/devices/0000:01:00.1/driver
    assert_output snd_hda_intel
    run -1 sysfs_write $P/devices/0000:01:00.1/driver_override vfio-pci
    assert_output ENOENT
    run -1 sysfs_write $P/drivers/snd_hda_intel/unbind 0000:01:00.1
    assert_output ENODEV
    run -1 sysfs_write $P/drivers_probe 0000:01:00.1
    assert_output ENODEV
    assert_not_exist "$PCI/devices/0000:01:00.1"
    assert_not_exist "$PCI/drivers/snd_hda_intel/0000:01:00.1"
    assert_not_exist "$R/sys/kernel/iommu_groups/3/devices/0000:01:00.1"
    assert_not_exist "$R/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.1"
    # its sibling is still there
    assert_equal "$(fixture_driver_of "$R" 0000:01:00.0)" ""
    assert_file_exist "$PCI/devices/0000:01:00.0/vendor"
}

@test "fault async: the bind shows in the driver link after N reads of it" {
    two_cards
    fixture_fault "$R" async vfio-pci 3
    local link=$P/devices/0000:01:00.1/driver
    # one process, as the binder: unbind, override, probe, then poll
    run -0 "$FAKE" "$R" write $P/drivers/snd_hda_intel/unbind 0000:01:00.1 \
        write $P/devices/0000:01:00.1/driver_override vfio-pci \
        write $P/drivers_probe 0000:01:00.1 \
        readlink "$link" readlink "$link" readlink "$link" readlink "$link" readlink "$link"
    assert_output "$(printf '\n\n\nvfio-pci\nvfio-pci')"
    assert_equal "$(fixture_driver_of "$R" 0000:01:00.1)" vfio-pci
    # another driver binds at once; a probe while the bind is pending changes nothing
    run -0 "$FAKE" "$R" write $P/drivers/snd_hda_intel/unbind 0000:01:00.1 2>/dev/null || true
    run -0 "$FAKE" "$R" write $P/drivers/bochs-drm/unbind 0000:00:01.0 \
        write $P/drivers_probe 0000:00:01.0 readlink $P/devices/0000:00:01.0/driver
    assert_output bochs-drm
}

@test "fault rules are checked: fixture_fault and the fake refuse bad ones" {
    two_cards
    run -1 fixture_fault "$R" fail $P/drivers_probe
    assert_output --partial "fixture_fault: bad rule 'fail $P/drivers_probe'"
    run -1 fixture_fault "$R" async vfio-pci soon
    run -1 fixture_fault "$R" explode 0000:01:00.0
    assert_not_exist "$R/.fixture/faults"
    echo "fail $P/drivers_probe EWHATEVER" >"$R/.fixture/faults"
    run -99 --separate-stderr sysfs_write $P/drivers_probe 0000:01:00.0
    assert_equal "$stderr" "fake kernel: unknown errno name in .fixture/faults: EWHATEVER"
}

@test "kernel_start, kernel_settle and kernel_stop are harmless no-ops" {
    two_cards
    kernel_start "$R"
    kernel_settle "$R"
    kernel_stop "$R"
    kernel_stop "$R"
    sysfs_write $P/drivers/bochs-drm/unbind 0000:00:01.0
    assert_equal "$(fixture_driver_of "$R" 0000:00:01.0)" ""
}

# --- fake modprobe -----------------------------------------------------------

@test "fake modprobe logs, registers the module's driver, and models missing modules" {
    make_sysfs "$R" <<<"00:01.0 1234:1111 030000 1 - 1 -"
    local bin
    bin=$(fake_modprobe_dir "$R")
    assert_file_executable "$bin/modprobe"
    printf 'pci_stub\n' > "$R/.missing-modules"

    PATH=$bin:$PATH run modprobe vfio_pci
    assert_success
    assert_output ""
    assert_file_empty "$PCI/drivers/vfio-pci/bind"

    PATH=$bin:$PATH run modprobe -q vfio_iommu_type1
    assert_success
    PATH=$bin:$PATH run modprobe -a vfio vfio-pci
    assert_success
    run ls "$PCI/drivers"
    assert_output vfio-pci

    PATH=$bin:$PATH run --separate-stderr modprobe pci-stub
    assert_failure 1
    assert_equal "$stderr" "modprobe: FATAL: Module pci-stub not found."
    PATH=$bin:$PATH run --separate-stderr modprobe -q pci-stub
    assert_failure 1
    assert_equal "$stderr" ""
    assert_not_exist "$PCI/drivers/pci-stub"

    # The new driver binds: override + probe.
    sysfs_write $P/devices/0000:00:01.0/driver_override vfio-pci
    sysfs_write $P/drivers_probe 0000:00:01.0
    assert_equal "$(fixture_driver_of "$R" 0000:00:01.0)" vfio-pci
    run cat "$R/kernel.log"
    assert_output - <<'EOF'
modprobe vfio_pci
modprobe -q vfio_iommu_type1
modprobe -a vfio vfio-pci
modprobe pci-stub
modprobe -q pci-stub
sys/bus/pci/devices/0000:00:01.0/driver_override vfio-pci
sys/bus/pci/drivers_probe 0000:00:01.0
EOF
}

@test "fault no-driver: the module loads and registers no PCI driver" {
    make_sysfs "$R" <<<"00:01.0 1234:1111 030000 1 - 1 -"
    local bin
    bin=$(fake_modprobe_dir "$R")
    fixture_fault "$R" no-driver vfio_pci
    PATH=$bin:$PATH run -0 --separate-stderr modprobe vfio-pci
    assert_equal "$output" ""
    assert_equal "$stderr" ""
    assert_not_exist "$PCI/drivers/vfio-pci"
    PATH=$bin:$PATH run -0 modprobe pci-stub
    assert_dir_exist "$PCI/drivers/pci-stub"
}

@test "reset_method as reset_method_store takes it: an order of the function's methods, EINVAL for another, default, none" {
    make_sysfs "$R" <<'DESC'
00:03.0 1b36:000c 060400 3 pcieport - -
02:00.0 1b36:0010 010802 5 nvme - 00:03.0 reset=flr,bus
02:00.1 1b36:0010 010802 5 nvme - 00:03.0 reset=-
02:00.2 1b36:0010 010802 5 nvme - 00:03.0
DESC
    local dev=$PCI/devices/0000:02:00.0
    assert_equal "$(cat "$dev/reset_method")" "flr bus"
    assert_exist "$dev/reset" "$PCI/devices/0000:02:00.1/reset"
    assert_not_exist "$PCI/devices/0000:02:00.1/reset_method" "$PCI/devices/0000:02:00.2/reset"
    sysfs_write $P/devices/0000:02:00.0/reset_method "bus flr"
    assert_equal "$(cat "$dev/reset_method")" "bus flr"
    run -1 sysfs_write $P/devices/0000:02:00.0/reset_method pm
    assert_output EINVAL
    run -1 sysfs_write $P/devices/0000:02:00.0/reset_method "bus frob"
    assert_output EINVAL
    assert_equal "$(cat "$dev/reset_method")" "bus flr"
    sysfs_write $P/devices/0000:02:00.0/reset_method default
    assert_equal "$(cat "$dev/reset_method")" "flr bus"
    run -1 sysfs_write $P/devices/0000:02:00.1/reset_method flr
    assert_output ENOENT
    run cat "$R/kernel.log"
    assert_line --index 0 "$P/devices/0000:02:00.0/reset_method bus flr"
    assert_line --index 1 "$P/devices/0000:02:00.0/reset_method pm -> EINVAL"
}
