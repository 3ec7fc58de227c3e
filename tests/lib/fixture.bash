# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Test fixture library for vfio-reserve: builds a fake root file system
# (sysfs, procfs, /lib/modules) from a compact description, for the binder's
# unit-test builds, whose sysfs writes are served by tests/fake/kernel.c, a
# synchronous model of the kernel's PCI core (the driver links change, and
# ROOT/kernel.log records the write, before the binder's write() returns).
# Sourced by tests/test_helper.bash.
#
# Public functions
#   make_sysfs ROOT < DESCRIPTION      build the fake root (format below)
#   fixture_fault ROOT RULE...         inject a fault (tests/fake/kernel.c says
#                                      what each does): fail PATH ENAME |
#                                      vanish ADDR | async DRIVER N |
#                                      no-driver MODULE | hang PATH
#   fixture_add_driver ROOT NAME       register a PCI driver later (like modprobe)
#   fixture_driver_of ROOT ADDR        print the driver ADDR is bound to, or nothing
#   fake_modprobe_dir ROOT             print a directory holding a fake `modprobe`
#   kernel_start, kernel_settle, kernel_stop ROOT
#                                      no-ops, left from the asynchronous
#                                      simulator for tests not yet rewritten
#
# The driver directories hold bind, unbind, new_id and remove_id, and the bus
# drivers_probe, as empty plain files: only the fake kernel gives writes to
# them a meaning (the shipped binder would just fill them).
#
# Description format: one item per line, `#` starts a comment, columns are
# separated by whitespace.
#   Function line:
#     ADDR ID CLASS GROUP DRIVER VGA PARENT [native=NAME] [subsys=VVVV:DDDD]
#          [rev=RR] [serial=XX-XX-XX-XX-XX-XX-XX-XX] [flr=1|0]
#          [reset=METHOD,...|reset=-] [sriov=N]
#     ADDR    BB:DD.F or DDDD:BB:DD.F (domain 0000 implied), any case
#     ID      VVVV:DDDD      CLASS  6 hex digits
#     GROUP   IOMMU group number, or - for no iommu_group link
#     DRIVER  bound driver, or -    (named drivers are registered)
#     VGA     0 or 1 writes boot_vga, - writes none
#     PARENT  address of the bridge above it, or - for a root-bus device;
#             parents may be declared before or after their children
#     native= driver a probe binds when no override is set (default: DRIVER);
#             naming it does not register it
#     rev=    the revision, 2 hex digits (default 02)
#     sriov=  an SR-IOV PF with that many VFs at most (sriov_totalvfs); the
#             fake kernel creates them when sriov_numvfs is written
#     serial= a PCIe Device Serial Number, as lspci prints it: the function
#             gets a 4096-byte config file whose extended capabilities are
#             AER at 0x100 and the serial number at 0x140 (without it, no
#             config file)
#     flr=    1 or 0: the config file (as with serial=) gets the PCI Express
#             capability, with or without Function Level Reset
#     reset=  the reset methods the function supports, in the kernel's order
#             (reset_method, Linux 5.15+, shows them space-separated, and
#             `reset` exists); reset=- a kernel older than 5.15: `reset`
#             alone.  Without it neither: the function cannot be reset.
#   Directives:
#     slot NAME [DDDD:]BB:DD     driver NAME        cpu intel|amd|none
#     iommu intel|amd|none       cmdline TEXT...    kernel VERSION
#     module NAME                builtin NAME
#   Defaults: cpu intel, iommu intel, the cmdline and kernel below, and (only
#   when no module/builtin line is given) modules vfio, vfio_iommu_type1 and
#   vfio-pci with their dependencies, pci-stub built in.
#
# Fixture bookkeeping lives in ROOT/.fixture, which the binder never reads
# (the fake kernel and the fake modprobe do):
#   devices/ADDR   "DEVICE-DIR NATIVE-DRIVER" of each function
#   faults         fixture_fault's rules, one a line
#   bin/           the fake modprobe
#
# Speed: starting a process costs ~20 ms on the project's machines, so this
# file avoids them. Helpers return values in REPLY instead of printing into
# $(...), and make_sysfs creates the whole tree with one perl process
# (perl-base is Essential on Debian).

_FX_LIB=$(realpath "${BASH_SOURCE[0]}")
_FX_DEFAULT_CMDLINE='BOOT_IMAGE=/boot/vmlinuz-6.1.0-test root=/dev/sda1 ro quiet intel_iommu=on iommu=pt'
_FX_DEFAULT_KERNEL='6.1.0-test'
# Files of a driver directory the binder may write to.
_FX_DRIVER_ACTIONS=(unbind new_id remove_id bind)

# Module catalogue: canonical name (underscores) -> path below
# /lib/modules/VERSION, and its dependencies. Unknown names go to
# kernel/drivers/misc/NAME.ko.
declare -gA _FX_MODULE_PATH=(
    [vfio]=kernel/drivers/vfio/vfio.ko
    [vfio_iommu_type1]=kernel/drivers/vfio/vfio_iommu_type1.ko
    [vfio_pci_core]=kernel/drivers/vfio/pci/vfio-pci-core.ko
    [vfio_pci]=kernel/drivers/vfio/pci/vfio-pci.ko
    [irqbypass]=kernel/virt/lib/irqbypass.ko
    [pci_stub]=kernel/drivers/pci/pci-stub.ko
    [bochs]=kernel/drivers/gpu/drm/tiny/bochs.ko
    [amdgpu]=kernel/drivers/gpu/drm/amd/amdgpu/amdgpu.ko
    [nouveau]=kernel/drivers/gpu/drm/nouveau/nouveau.ko
    [i915]=kernel/drivers/gpu/drm/i915/i915.ko
    [snd_hda_intel]=kernel/sound/pci/hda/snd-hda-intel.ko
    [snd_hda_codec]=kernel/sound/pci/hda/snd-hda-codec.ko
    [snd_hda_core]=kernel/sound/hda/snd-hda-core.ko
    [snd]=kernel/sound/core/snd.ko
    [xhci_pci]=kernel/drivers/usb/host/xhci-pci.ko
)
declare -gA _FX_MODULE_DEPS=(
    [vfio_iommu_type1]="vfio"
    [vfio_pci_core]="vfio irqbypass"
    [vfio_pci]="vfio_pci_core vfio irqbypass"
    [snd_hda_intel]="snd_hda_codec snd_hda_core snd"
    [snd_hda_codec]="snd_hda_core snd"
    [snd_hda_core]="snd"
)

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

_fx_die() {
    printf '%s\n' "$*" >&2
    return 1
}

# REPLY = ADDR as dddd:bb:dd.f; fail if it is not a PCI function address.
_fx_normalise_addr() {
    REPLY=${1,,}
    [[ $REPLY =~ ^[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$ ]] && REPLY=0000:$REPLY
    [[ $REPLY =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$ ]]
}

# REPLY = slot address (no function number) as dddd:bb:dd.
_fx_normalise_slot_addr() {
    REPLY=${1,,}
    [[ $REPLY =~ ^[0-9a-f]{2}:[01][0-9a-f]$ ]] && REPLY=0000:$REPLY
    [[ $REPLY =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[01][0-9a-f]$ ]]
}

_fx_is_name() {
    [[ $1 =~ ^[A-Za-z0-9_.+-]+$ ]]
}

# REPLY = the relative target that makes symlink LINK point at TARGET, both
# relative to the fixture root, spelled the way sysfs spells its links
# (shortest ../ path, e.g. ../../../devices/pci0000:00/0000:00:01.0).
_fx_relpath() {
    local -a from to
    local i=0 j
    IFS=/ read -r -a from <<< "${1%/*}"
    IFS=/ read -r -a to <<< "$2"
    while ((i < ${#from[@]} && i < ${#to[@]})) && [[ ${from[i]} == "${to[i]}" ]]; do
        i=$((i + 1))
    done
    REPLY=""
    for ((j = i; j < ${#from[@]}; j++)); do
        REPLY+=../
    done
    local IFS=/
    REPLY+="${to[*]:i}"
}

# Apply a batch of file-system operations with a single perl process. Reads
# tab-separated lines from stdin:
#   mkdir PATH            make PATH and its parents
#   file PATH             make an empty file
#   symlink TARGET PATH   make a symlink
#   rename FROM TO        rename
_fx_apply_fs_ops() {
    perl -e '
        use strict;
        use warnings;
        use File::Path qw(make_path);
        while (my $line = <STDIN>) {
            chomp $line;
            my ($op, $a, $b) = split /\t/, $line;
            if ($op eq "mkdir") {
                make_path($a);
            } elsif ($op eq "symlink") {
                symlink($a, $b) or die "symlink $b: $!\n";
            } elsif ($op eq "file") {
                open(my $fh, ">", $a) or die "create $a: $!\n";
                close($fh);
            } elsif ($op eq "rename") {
                rename($a, $b) or die "rename $a: $!\n";
            } else {
                die "unknown operation: $line\n";
            }
        }'
}

# Queue (in the caller's fs_ops array) a symlink ROOT/LINK -> ROOT/TARGET,
# written relative.
_fx_queue_link() {
    local root=$1 link=$2 target=$3
    _fx_relpath "$link" "$target"
    fs_ops+=("symlink	$REPLY	$root/$link")
}

# Queue (in the caller's fs_ops array) a driver directory and its action
# files.
_fx_queue_driver() {
    local dir=$1 action
    fs_ops+=("mkdir	$dir")
    for action in "${_FX_DRIVER_ACTIONS[@]}"; do
        fs_ops+=("file	$dir/$action")
    done
}

# ---------------------------------------------------------------------------
# make_sysfs
# ---------------------------------------------------------------------------

# REPLY = "PATH DEP-NAME..." of module NAME (- and _ are the same).
_fx_module_entry() {
    local name=${1//-/_}
    REPLY="${_FX_MODULE_PATH[$name]:-kernel/drivers/misc/$1.ko} ${_FX_MODULE_DEPS[$name]:-}"
}

# Append modules.dep lines for NAME and, recursively, its dependencies to
# the caller's dep_lines; the caller's modules_seen keeps them unique.
_fx_queue_module_dep_lines() {
    local name=${1//-/_} path deps dep line
    [[ -z ${modules_seen[$name]:-} ]] || return 0
    modules_seen[$name]=1
    _fx_module_entry "$name"
    read -r path deps <<< "$REPLY"
    line="$path:"
    for dep in $deps; do
        _fx_module_entry "$dep"
        line+=" ${REPLY%% *}"
    done
    dep_lines+=("$line")
    for dep in $deps; do
        _fx_queue_module_dep_lines "$dep"
    done
}

# Two processors, formatted like the real file (tab before the colon). The
# vmx or svm flag sits in the middle of the flags, as the kernel orders them;
# "none" is an Intel CPU without vmx.
_fx_write_cpuinfo() {
    local file=$1 kind=$2 vendor family model_no model more_flags cpu
    local flags="fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx lm constant_tsc rep_good nopl pni"
    if [[ $kind == amd ]]; then
        vendor=AuthenticAMD family=23 model_no=113 model='AMD Ryzen 7 3700X 8-Core Processor'
        more_flags="monitor ssse3 cx16 sse4_1 sse4_2 popcnt aes xsave avx lahf_lm cmp_legacy svm extapic"
    else
        vendor=GenuineIntel family=6 model_no=158 model='Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz'
        more_flags="monitor vmx est ssse3 cx16 sse4_1 sse4_2 popcnt aes xsave avx"
        [[ $kind == none ]] && more_flags=${more_flags/vmx /}
    fi
    : > "$file"
    for cpu in 0 1; do
        printf 'processor\t: %s\nvendor_id\t: %s\ncpu family\t: %s\nmodel\t\t: %s\nmodel name\t: %s\nstepping\t: 10\ncpu MHz\t\t: 3200.000\ncache size\t: 12288 KB\nphysical id\t: 0\nsiblings\t: 2\ncore id\t\t: %s\ncpu cores\t: 2\nfpu\t\t: yes\nflags\t\t: %s %s\nbogomips\t: 6399.96\n\n' \
            "$cpu" "$vendor" "$family" "$model_no" "$model" "$cpu" "$flags" "$more_flags" >> "$file"
    done
}

# Record why the current description line is malformed; always fails.
_fx_bad() {
    parse_error=$*
    return 1
}

# Validate one function line and store it in the caller's dev_* arrays
# (dynamic scope); on a malformed line set parse_error and fail.
_fx_parse_function_line() {
    local -a col=("$@")
    ((${#col[@]} >= 7)) || _fx_bad "expected 7 columns (addr id class group driver vga parent), got ${#col[@]}" || return 1
    local addr id class group driver vga parent native="" subsys="" rev=02 serial="" flr="" reset="" sriov="" option
    _fx_normalise_addr "${col[0]}" || _fx_bad "bad address ${col[0]} (want BB:DD.F or DDDD:BB:DD.F)" || return 1
    addr=$REPLY
    [[ -z ${dev_id[$addr]:-} ]] || _fx_bad "function $addr declared twice" || return 1
    id=${col[1],,}
    [[ $id =~ ^[0-9a-f]{4}:[0-9a-f]{4}$ ]] || _fx_bad "bad id ${col[1]} (want vvvv:dddd)" || return 1
    class=${col[2],,}
    [[ $class =~ ^[0-9a-f]{6}$ ]] || _fx_bad "bad class ${col[2]} (want 6 hex digits)" || return 1
    group=${col[3]}
    [[ $group == - || $group =~ ^[0-9]+$ ]] || _fx_bad "bad iommu group $group (want a number or -)" || return 1
    driver=${col[4]}
    [[ $driver == - ]] || _fx_is_name "$driver" || _fx_bad "bad driver name $driver" || return 1
    vga=${col[5]}
    [[ $vga == 0 || $vga == 1 || $vga == - ]] || _fx_bad "bad vga $vga (want 0, 1 or -)" || return 1
    parent=${col[6]}
    if [[ $parent != - ]]; then
        _fx_normalise_addr "$parent" || _fx_bad "bad parent address ${col[6]}" || return 1
        parent=$REPLY
        [[ $parent != "$addr" ]] || _fx_bad "function $addr is its own parent" || return 1
    fi
    for option in "${col[@]:7}"; do
        case $option in
            native=*)
                native=${option#native=}
                _fx_is_name "$native" || _fx_bad "bad native driver $native" || return 1
                ;;
            subsys=*)
                subsys=${option#subsys=}
                subsys=${subsys,,}
                [[ $subsys =~ ^[0-9a-f]{4}:[0-9a-f]{4}$ ]] || _fx_bad "bad subsys ${option#subsys=} (want vvvv:dddd)" || return 1
                ;;
            rev=*)
                rev=${option#rev=}
                rev=${rev,,}
                [[ $rev =~ ^[0-9a-f]{2}$ ]] || _fx_bad "bad rev ${option#rev=} (want 2 hex digits)" || return 1
                ;;
            serial=*)
                serial=${option#serial=}
                serial=${serial,,}
                [[ $serial =~ ^[0-9a-f]{2}(-[0-9a-f]{2}){7}$ ]] || _fx_bad "bad serial ${option#serial=} (want XX-XX-XX-XX-XX-XX-XX-XX)" || return 1
                ;;
            flr=*)
                flr=${option#flr=}
                [[ $flr == [01] ]] || _fx_bad "bad flr $flr (want 1 or 0)" || return 1
                ;;
            sriov=*)
                sriov=${option#sriov=}
                [[ $sriov =~ ^[1-9][0-9]*$ ]] || _fx_bad "bad sriov ${option#sriov=} (want a number of VFs)" || return 1
                ;;
            reset=*)
                reset=${option#reset=}
                [[ $reset =~ ^(-|[a-z_]+(,[a-z_]+)*)$ ]] || _fx_bad "bad reset ${option#reset=} (want METHOD,... or -)" || return 1
                ;;
            *) _fx_bad "unknown option $option (want native=NAME, subsys=VVVV:DDDD, rev=RR, serial=XX-...-XX, flr=1|0, reset=METHOD,... or sriov=N)" || return 1 ;;
        esac
    done
    dev_order+=("$addr")
    dev_id[$addr]=$id
    dev_class[$addr]=$class
    dev_group[$addr]=$group
    dev_driver[$addr]=$driver
    dev_vga[$addr]=$vga
    dev_parent[$addr]=$parent
    dev_native[$addr]=${native:-$driver}
    dev_subsys[$addr]=${subsys:-$id}
    dev_rev[$addr]=$rev
    dev_serial[$addr]=$serial
    dev_flr[$addr]=$flr
    dev_reset[$addr]=$reset
    dev_sriov[$addr]=$sriov
}

_fx_is_directive() {
    case $1 in
        slot | driver | cpu | iommu | cmdline | kernel | module | builtin) return 0 ;;
    esac
    return 1
}

# Validate one directive line and record it in the caller's settings
# (dynamic scope); on a malformed line set parse_error and fail.
_fx_parse_directive() {
    local word=$1
    shift
    case $word in
        slot)
            (($# == 2)) || _fx_bad "slot wants NAME ADDRESS" || return 1
            _fx_is_name "$1" || _fx_bad "bad slot name $1" || return 1
            [[ -z ${slots[$1]:-} ]] || _fx_bad "slot $1 declared twice" || return 1
            _fx_normalise_slot_addr "$2" || _fx_bad "bad slot address $2 (want DDDD:BB:DD)" || return 1
            slots[$1]=$REPLY
            ;;
        driver)
            (($# == 1)) && _fx_is_name "$1" || _fx_bad "driver wants one NAME" || return 1
            extra_drivers+=("$1")
            ;;
        cpu | iommu)
            (($# == 1)) && [[ $1 == intel || $1 == amd || $1 == none ]] ||
                _fx_bad "$word wants intel, amd or none" || return 1
            if [[ $word == cpu ]]; then cpu_kind=$1; else iommu_kind=$1; fi
            ;;
        cmdline)
            (($# >= 1)) || _fx_bad "cmdline wants some text" || return 1
            cmdline="$*"
            ;;
        kernel)
            (($# == 1)) && _fx_is_name "$1" || _fx_bad "kernel wants one VERSION" || return 1
            kernel_version=$1
            ;;
        module | builtin)
            (($# == 1)) && _fx_is_name "$1" || _fx_bad "$word wants one NAME" || return 1
            if [[ $word == module ]]; then modules+=("$1"); else builtins+=("$1"); fi
            custom_modules=1
            ;;
    esac
}

# REPLY = the device directory (relative to ROOT) of ADDR, nested along its
# parent chain under pciDDDD:BB of the root bus. Fails on a parent loop.
_fx_device_dir() {
    local addr=$1 path=$1 depth=0
    while [[ ${dev_parent[$addr]} != - ]]; do
        addr=${dev_parent[$addr]}
        path=$addr/$path
        depth=$((depth + 1))
        ((depth < 64)) || return 1
    done
    REPLY="sys/devices/pci${addr%:*}/$path"
}

_fx_write_device_files() {
    local dir=$1 addr=$2
    local vendor=${dev_id[$addr]%:*} device=${dev_id[$addr]#*:}
    local sub_vendor=${dev_subsys[$addr]%:*} sub_device=${dev_subsys[$addr]#*:}
    local class=${dev_class[$addr]} enable=1
    [[ ${dev_driver[$addr]} == - ]] && enable=0
    printf '0x%s\n' "$vendor" > "$dir/vendor"
    printf '0x%s\n' "$device" > "$dir/device"
    printf '0x%s\n' "$sub_vendor" > "$dir/subsystem_vendor"
    printf '0x%s\n' "$sub_device" > "$dir/subsystem_device"
    printf '0x%s\n' "$class" > "$dir/class"
    printf '0x%s\n' "${dev_rev[$addr]}" > "$dir/revision"
    local modalias
    printf -v modalias 'pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X' \
        "0x$vendor" "0x$device" "0x$sub_vendor" "0x$sub_device" \
        "0x${class:0:2}" "0x${class:2:2}" "0x${class:4:2}"
    printf '%s\n' "$modalias" > "$dir/modalias"
    # As pci_uevent() formats it. The kernel adds DRIVER= while the function
    # is bound; the binder reads the driver link instead, so it is left out
    # here rather than go stale when a test binds or unbinds.
    printf 'PCI_CLASS=%04X\nPCI_ID=%s:%s\nPCI_SUBSYS_ID=%s:%s\nPCI_SLOT_NAME=%s\nMODALIAS=%s\n' \
        "0x$class" "${vendor^^}" "${device^^}" "${sub_vendor^^}" "${sub_device^^}" "$addr" \
        "$modalias" > "$dir/uevent"
    printf '%s\n' "$enable" > "$dir/enable"
    printf -- '-1\n' > "$dir/numa_node"
    # Empty; the kernel would show "(null)". The binder treats both alike.
    : > "$dir/driver_override"
    if [[ ${dev_vga[$addr]} != - ]]; then
        printf '%s\n' "${dev_vga[$addr]}" > "$dir/boot_vga"
    fi
    # The fake kernel restores "default" from .fixture/reset_method/ADDR.
    local reset=${dev_reset[$addr]}
    if [[ -n $reset ]]; then
        : > "$dir/reset"
    fi
    if [[ -n $reset && $reset != - ]]; then
        printf '%s\n' "${reset//,/ }" > "$dir/reset_method"
        printf '%s\n' "${reset//,/ }" > "$root/.fixture/reset_method/$addr"
    fi
    # An SR-IOV PF: the fake kernel creates its VFs (sriov_numvfs).
    if [[ -n ${dev_sriov[$addr]} ]]; then
        printf '%s\n' "${dev_sriov[$addr]}" > "$dir/sriov_totalvfs"
        printf '0\n' > "$dir/sriov_numvfs"
        printf '1\n' > "$dir/sriov_drivers_autoprobe"
    fi
    [[ -z ${dev_serial[$addr]}${dev_flr[$addr]} ]] ||
        _fx_write_config "$dir/config" "$vendor" "$device" "${dev_serial[$addr]}" "${dev_flr[$addr]}"
}

# FILE VENDOR DEVICE SERIAL [FLR]: a PCIe function's configuration space
# (4096 bytes, little-endian) with its ID; with a SERIAL, two extended
# capabilities: AER (ID 1) at 0x100, whose next pointer is 0x140, and the
# Device Serial Number (ID 3) there, its 8 bytes the lowest first (lspci
# prints the highest first); with FLR (1 or 0), a capability list (status
# bit 4, pointer at 0x34) holding the PCI Express capability (ID 0x10) at
# 0x40, whose Device Capabilities (0x44) has bit 28, Function Level Reset,
# set or clear.
_fx_write_config() {
    perl -e '
        my ($file, $vendor, $device, $serial, $flr) = @ARGV;
        my $space = pack("v v", hex $vendor, hex $device) . "\0" x 4092;
        if ($serial ne "") {
            my @bytes = reverse map { hex } split /-/, $serial;
            substr($space, 0x100, 16) = pack("V", 0x14020001) . "\0" x 12;
            substr($space, 0x140, 12) = pack("V", 0x00010003) . pack("C8", @bytes);
        }
        if (defined $flr && $flr ne "") {
            substr($space, 0x06, 2) = pack("v", 0x10);
            substr($space, 0x34, 1) = pack("C", 0x40);
            substr($space, 0x40, 8) = pack("C C v V", 0x10, 0, 2, $flr ? 1 << 28 : 0);
        }
        open(my $fh, ">", $file) or die "$file: $!\n";
        print $fh $space;
        close($fh);' "$@"
}

_fx_write_modules() {
    local dir=$1 name
    if ((!custom_modules)); then
        modules=(vfio vfio_iommu_type1 vfio-pci)
        builtins=(pci-stub)
    fi
    local -A modules_seen=()
    local -a dep_lines=()
    for name in "${modules[@]}"; do
        _fx_queue_module_dep_lines "$name"
    done
    printf '%s' "${dep_lines[@]/%/$'\n'}" > "$dir/modules.dep"
    : > "$dir/modules.builtin"
    for name in "${builtins[@]}"; do
        _fx_module_entry "$name"
        printf '%s\n' "${REPLY%% *}" >> "$dir/modules.builtin"
    done
}

make_sysfs() {
    local root=${1:?usage: make_sysfs ROOT < description}
    if [[ -e $root/sys ]]; then
        _fx_die "make_sysfs: $root/sys already exists; use a fresh ROOT"
        return 1
    fi

    # Settings the parse helpers fill in (dynamic scope).
    local -a dev_order=() extra_drivers=() modules=() builtins=()
    local -A dev_id=() dev_class=() dev_group=() dev_driver=() dev_vga=() \
        dev_parent=() dev_native=() dev_subsys=() dev_rev=() dev_serial=() dev_flr=() dev_reset=() dev_sriov=() dev_line=() slots=()
    local cpu_kind=intel iommu_kind=intel custom_modules=0
    local cmdline=$_FX_DEFAULT_CMDLINE kernel_version=$_FX_DEFAULT_KERNEL

    # Pass 1: parse and validate everything, so a bad description builds nothing.
    local line number=0 parse_error="" REPLY
    local -a col
    while IFS= read -r line || [[ -n $line ]]; do
        number=$((number + 1))
        read -r -a col <<< "${line%%#*}"
        ((${#col[@]} > 0)) || continue
        if _fx_is_directive "${col[0]}"; then
            _fx_parse_directive "${col[@]}" || { _fx_die "make_sysfs: line $number: $parse_error: '$line'"; return 1; }
        else
            _fx_parse_function_line "${col[@]}" || { _fx_die "make_sysfs: line $number: $parse_error: '$line'"; return 1; }
            dev_line[${dev_order[-1]}]="$number: '$line'"
        fi
    done

    local addr parent
    local -A dev_dir=()
    for addr in "${dev_order[@]}"; do
        parent=${dev_parent[$addr]}
        if [[ $parent != - && -z ${dev_id[$parent]:-} ]]; then
            _fx_die "make_sysfs: line ${dev_line[$addr]%%:*}: unknown parent $parent (declare it on a function line): ${dev_line[$addr]#*: }"
            return 1
        fi
    done
    for addr in "${dev_order[@]}"; do
        _fx_device_dir "$addr" || {
            _fx_die "make_sysfs: line ${dev_line[$addr]%%:*}: parent chain of $addr loops: ${dev_line[$addr]#*: }"
            return 1
        }
        dev_dir[$addr]=$REPLY
    done

    # Pass 2: directories, action files and symlinks in one batch, then the files.
    local pci=sys/bus/pci name dir group driver
    local -a fs_ops=()
    local -A driver_names=()
    for name in .fixture/devices .fixture/reset_method "$pci/devices" "$pci/drivers" "$pci/slots" sys/class/iommu \
        etc proc/sys/kernel "lib/modules/$kernel_version"; do
        fs_ops+=("mkdir	$root/$name")
    done
    fs_ops+=("file	$root/$pci/drivers_probe")

    for name in "${extra_drivers[@]}"; do
        driver_names[$name]=1
    done
    for addr in "${dev_order[@]}"; do
        [[ ${dev_driver[$addr]} == - ]] || driver_names[${dev_driver[$addr]}]=1
    done
    for name in "${!driver_names[@]}"; do
        _fx_queue_driver "$root/$pci/drivers/$name"
    done

    if [[ $iommu_kind != none ]]; then
        local unit=dmar0
        [[ $iommu_kind == amd ]] && unit=ivhd0
        fs_ops+=("mkdir	$root/sys/kernel/iommu_groups" "mkdir	$root/sys/devices/virtual/iommu/$unit")
        _fx_queue_link "$root" "sys/class/iommu/$unit" "sys/devices/virtual/iommu/$unit"
    fi

    for addr in "${dev_order[@]}"; do
        dir=${dev_dir[$addr]}
        fs_ops+=("mkdir	$root/$dir")
        _fx_queue_link "$root" "$pci/devices/$addr" "$dir"
        _fx_queue_link "$root" "$dir/subsystem" "$pci"
        group=${dev_group[$addr]}
        if [[ $group != - && $iommu_kind != none ]]; then
            fs_ops+=("mkdir	$root/sys/kernel/iommu_groups/$group/devices")
            _fx_queue_link "$root" "sys/kernel/iommu_groups/$group/devices/$addr" "$dir"
            _fx_queue_link "$root" "$dir/iommu_group" "sys/kernel/iommu_groups/$group"
        fi
        driver=${dev_driver[$addr]}
        if [[ $driver != - ]]; then
            _fx_queue_link "$root" "$pci/drivers/$driver/$addr" "$dir"
            _fx_queue_link "$root" "$dir/driver" "$pci/drivers/$driver"
        fi
    done
    for name in "${!slots[@]}"; do
        fs_ops+=("mkdir	$root/$pci/slots/$name")
    done

    printf '%s\n' "${fs_ops[@]}" | _fx_apply_fs_ops || {
        _fx_die "make_sysfs: could not create the tree under $root"
        return 1
    }

    : > "$root/kernel.log"
    printf '1\n' > "$root/$pci/drivers_autoprobe"
    for addr in "${dev_order[@]}"; do
        _fx_write_device_files "$root/${dev_dir[$addr]}" "$addr"
        printf '%s %s\n' "${dev_dir[$addr]}" "${dev_native[$addr]}" > "$root/.fixture/devices/$addr"
    done
    for name in "${!slots[@]}"; do
        printf '%s\n' "${slots[$name]}" > "$root/$pci/slots/$name/address"
    done
    _fx_write_cpuinfo "$root/proc/cpuinfo" "$cpu_kind"
    printf '%s\n' "$cmdline" > "$root/proc/cmdline"
    printf '%s\n' "$kernel_version" > "$root/proc/sys/kernel/osrelease"
    _fx_write_modules "$root/lib/modules/$kernel_version"
}

# ---------------------------------------------------------------------------
# The kernel's side
# ---------------------------------------------------------------------------
#
# The binder's writes are served by tests/fake/kernel.c, linked into its
# unit-test builds; what is left here reads the state and changes it the way
# the kernel would on its own (a module registering its driver).

# REPLY = the driver ADDR is bound to, or "" when it is unbound.
_fx_bound_driver() {
    local root=$1 addr=$2 dir
    local dev=$root/sys/bus/pci/devices/$addr
    REPLY=""
    [[ -L $dev/driver ]] || return 0
    for dir in "$root"/sys/bus/pci/drivers/*; do
        if [[ $dev/driver -ef $dir ]]; then
            REPLY=${dir##*/}
            return 0
        fi
    done
}

fixture_driver_of() {
    local REPLY
    _fx_bound_driver "${1:?usage: fixture_driver_of ROOT ADDR}" "${2:?usage: fixture_driver_of ROOT ADDR}"
    [[ -z $REPLY ]] || printf '%s\n' "$REPLY"
}

fixture_add_driver() {
    local root=${1:?usage: fixture_add_driver ROOT NAME} name=${2:?usage: fixture_add_driver ROOT NAME}
    _fx_is_name "$name" || { _fx_die "fixture_add_driver: bad driver name '$name'"; return 1; }
    local final=$root/sys/bus/pci/drivers/$name
    [[ -d $final ]] && return 0
    local -a fs_ops=()
    _fx_queue_driver "$final"
    printf '%s\n' "${fs_ops[@]}" | _fx_apply_fs_ops
}

# Append one rule to ROOT/.fixture/faults; the fake kernel reads them when
# the binder starts, and refuses a malformed one.
fixture_fault() {
    local root=${1:?usage: fixture_fault ROOT RULE...}
    shift
    case ${1-} in
        fail) (($# == 3)) ;;
        async) (($# == 3)) && [[ $3 =~ ^[0-9]+$ ]] ;;
        vanish | no-driver | hang) (($# == 2)) ;;
        *) false ;;
    esac || { _fx_die "fixture_fault: bad rule '$*' (want fail PATH ENAME, vanish ADDR, async DRIVER N, no-driver MODULE or hang PATH)"; return 1; }
    printf '%s\n' "$*" >> "$root/.fixture/faults"
}

# The asynchronous simulator's entry points, kept as no-ops so that tests
# written for it still run: the fake kernel needs no starting or settling.
kernel_start() { :; }
kernel_settle() { :; }
kernel_stop() { :; }

# ---------------------------------------------------------------------------
# Fake modprobe
# ---------------------------------------------------------------------------

# REPLY = the PCI driver a module registers, or "" for modules that
# register none (the vfio core, irqbypass, kvm).
_fx_module_driver() {
    case ${1//-/_} in
        vfio_pci) REPLY='vfio-pci' ;;
        pci_stub) REPLY='pci-stub' ;;
        vfio | vfio_iommu_type1 | vfio_pci_core | vfio_virqfd | irqbypass | kvm | kvm_intel | kvm_amd) REPLY="" ;;
        *) REPLY=$1 ;;
    esac
}

_fx_module_is_missing() {
    local root=$1 want=${2//-/_} name
    [[ -f $root/.missing-modules ]] || return 1
    while read -r name || [[ -n $name ]]; do
        [[ ${name//-/_} == "$want" ]] && return 0
    done < "$root/.missing-modules"
    return 1
}

# True when a `no-driver MODULE` fault says the module loads but registers
# no PCI driver (a module built without the device's IDs, say).
_fx_module_registers_nothing() {
    local root=$1 want=${2//-/_} kind name
    [[ -f $root/.fixture/faults ]] || return 1
    while read -r kind name _ || [[ -n $kind ]]; do
        [[ $kind == no-driver && ${name//-/_} == "$want" ]] && return 0
    done < "$root/.fixture/faults"
    return 1
}

# Body of the fake modprobe: log, then fail for missing modules (listed in
# ROOT/.missing-modules) or register the module's driver. Without -a only the first name is a module; the rest
# are module parameters, as with the real modprobe.
_fx_fake_modprobe() {
    local root=$1
    shift
    printf 'modprobe %s\n' "$*" >> "$root/kernel.log"
    local quiet=0 all=0 remove=0 arg name REPLY
    local -a names=()
    for arg in "$@"; do
        case $arg in
            -q | --quiet) quiet=1 ;;
            -a | --all) all=1 ;;
            -r | --remove) remove=1 ;;
            -*) ;;
            *) names+=("$arg") ;;
        esac
    done
    ((all)) || names=("${names[@]:0:1}")
    ((remove)) && return 0
    for name in "${names[@]}"; do
        if _fx_module_is_missing "$root" "$name"; then
            ((quiet)) || printf 'modprobe: FATAL: Module %s not found.\n' "$name" >&2
            return 1
        fi
        _fx_module_registers_nothing "$root" "$name" && continue
        _fx_module_driver "$name"
        [[ -z $REPLY ]] || fixture_add_driver "$root" "$REPLY" || return 1
    done
    return 0
}

# Create ROOT/.fixture/bin/modprobe and print its directory, for PATH.
fake_modprobe_dir() {
    local root=${1:?usage: fake_modprobe_dir ROOT}
    local bin=$root/.fixture/bin
    [[ -d $bin ]] || mkdir "$bin"
    printf '#!/usr/bin/env bash\n# Fake modprobe made by fake_modprobe_dir (tests/lib/fixture.bash).\nsource %q\n_fx_fake_modprobe %q "$@"\n' \
        "$_FX_LIB" "$(realpath "$root")" > "$bin/modprobe"
    chmod +x "$bin/modprobe"
    printf '%s\n' "$bin"
}
