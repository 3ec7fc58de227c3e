# shellcheck shell=bash
#
# Test fixture library for vfio-reserve: builds a fake root file system
# (sysfs, procfs, /lib/modules) from a compact description and runs a small
# "kernel simulator" that reacts to the binder's writes the way the PCI core
# would. Sourced by tests/test_helper.bash.
#
# Public functions
#   make_sysfs ROOT < DESCRIPTION      build the fake root (format below)
#   kernel_start ROOT                  start the simulator (serving on return)
#   kernel_settle ROOT                 wait until every write made so far is handled
#   kernel_stop ROOT                   stop it; safe twice and when never started
#   fixture_add_driver ROOT NAME       register a PCI driver later (like modprobe)
#   fixture_driver_of ROOT ADDR        print the driver ADDR is bound to, or nothing
#   fixture_wait_driver ROOT ADDR DRV  wait (5 s) until ADDR is bound to DRV ("" = unbound)
#   fake_modprobe_dir ROOT             print a directory holding a fake `modprobe`
#
# Typical use: make_sysfs and kernel_start in setup(), kernel_stop in
# teardown() (the same process, so the simulator is reaped at once), and
# kernel_settle before reading ROOT/kernel.log after the binder has run:
# values the binder did not wait for (new_id, say) may still be queued.
# Before kernel_start, writes to the action files block (they are FIFOs
# with no reader); after kernel_stop they are plain files and writes are
# ignored.
#
# Description format: one item per line, `#` starts a comment, columns are
# separated by whitespace.
#   Function line:
#     ADDR ID CLASS GROUP DRIVER VGA PARENT [native=NAME] [subsys=VVVV:DDDD]
#     ADDR    BB:DD.F or DDDD:BB:DD.F (domain 0000 implied), any case
#     ID      VVVV:DDDD      CLASS  6 hex digits
#     GROUP   IOMMU group number, or - for no iommu_group link
#     DRIVER  bound driver, or -    (named drivers are registered)
#     VGA     0 or 1 writes boot_vga, - writes none
#     PARENT  address of the bridge above it, or - for a root-bus device;
#             parents may be declared before or after their children
#     native= driver a probe binds when no override is set (default: DRIVER);
#             naming it does not register it
#   Directives:
#     slot NAME [DDDD:]BB:DD     driver NAME        cpu intel|amd|none
#     iommu intel|amd|none       cmdline TEXT...    kernel VERSION
#     module NAME                builtin NAME
#   Defaults: cpu intel, iommu intel, the cmdline and kernel below, and (only
#   when no module/builtin line is given) modules vfio, vfio_iommu_type1 and
#   vfio-pci with their dependencies, pci-stub built in.
#
# Fixture bookkeeping lives in ROOT/.fixture, which the binder never reads:
#   devices/ADDR   "DEVICE-DIR NATIVE-DRIVER" for the simulator
#   kernel.pid kernel.err kernel-sync kernel-ack kernel.stopped sleep bin/
#
# Speed: starting a process costs ~20 ms on the project's machines, so this
# file avoids them. Helpers return values in REPLY instead of printing into
# $(...), sleeps are `read -t` on a FIFO, and make_sysfs creates the whole
# tree with one perl process (perl-base is Essential on Debian).

_FX_LIB=$(realpath "${BASH_SOURCE[0]}")
_FX_DEFAULT_CMDLINE='BOOT_IMAGE=/boot/vmlinuz-6.1.0-test root=/dev/sda1 ro quiet intel_iommu=on iommu=pt'
_FX_DEFAULT_KERNEL='6.1.0-test'
# Files of a driver directory the binder writes to, in the simulator's order
# of priority when several hold a value at once (see "Kernel simulator").
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

# Sleep SECONDS without starting a process: wait for input that never comes.
_fx_sleep() {
    local root=$1 seconds=$2
    read -r -t "$seconds" _ <> "$root/.fixture/sleep" || true
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
#   mkfifo PATH           make a FIFO
#   symlink TARGET PATH   make a symlink
#   fifo-over PATH        atomically replace PATH by a FIFO
#   file-over PATH        atomically replace PATH by an empty file
#   rename FROM TO        rename
_fx_apply_fs_ops() {
    perl -e '
        use strict;
        use warnings;
        use POSIX qw(mkfifo);
        use File::Path qw(make_path);
        while (my $line = <STDIN>) {
            chomp $line;
            my ($op, $a, $b) = split /\t/, $line;
            if ($op eq "mkdir") {
                make_path($a);
            } elsif ($op eq "mkfifo") {
                mkfifo($a, 0644) or die "mkfifo $a: $!\n";
            } elsif ($op eq "symlink") {
                symlink($a, $b) or die "symlink $b: $!\n";
            } elsif ($op eq "fifo-over") {
                unlink("$a.new");
                mkfifo("$a.new", 0644) or die "mkfifo $a.new: $!\n";
                rename("$a.new", $a) or die "rename $a: $!\n";
            } elsif ($op eq "file-over") {
                open(my $fh, ">", "$a.new") or die "create $a.new: $!\n";
                close($fh);
                rename("$a.new", $a) or die "rename $a: $!\n";
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
# files. They are FIFOs while the simulator can serve them; after
# kernel_stop they are plain files, so late writes are accepted and ignored
# instead of blocking forever.
_fx_queue_driver() {
    local dir=$1 stopped=$2 action
    fs_ops+=("mkdir	$dir")
    for action in "${_FX_DRIVER_ACTIONS[@]}"; do
        if ((stopped)); then
            fs_ops+=("file-over	$dir/$action")
        else
            fs_ops+=("mkfifo	$dir/$action")
        fi
    done
}

# Set the caller's action_files array to the action files (relative to
# ROOT) in the simulator's order of priority: every unbind, then new_id,
# remove_id and bind of every driver, drivers_probe last.
_fx_list_action_files() {
    local root=$1 action dir
    action_files=()
    for action in "${_FX_DRIVER_ACTIONS[@]}"; do
        for dir in "$root"/sys/bus/pci/drivers/*/; do
            [[ -e $dir$action ]] && action_files+=("${dir#"$root"/}$action")
        done
    done
    action_files+=(sys/bus/pci/drivers_probe)
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
    local addr id class group driver vga parent native="" subsys="" option
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
            *) _fx_bad "unknown option $option (want native=NAME or subsys=VVVV:DDDD)" || return 1 ;;
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
    printf '0x02\n' > "$dir/revision"
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
        dev_parent=() dev_native=() dev_subsys=() dev_line=() slots=()
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

    # Pass 2: directories, FIFOs and symlinks in one batch, then the files.
    local pci=sys/bus/pci name dir group driver
    local -a fs_ops=()
    local -A driver_names=()
    for name in .fixture/devices "$pci/devices" "$pci/drivers" "$pci/slots" sys/class/iommu \
        etc proc/sys/kernel "lib/modules/$kernel_version"; do
        fs_ops+=("mkdir	$root/$name")
    done
    fs_ops+=("mkfifo	$root/$pci/drivers_probe" "mkfifo	$root/.fixture/sleep"
        "mkfifo	$root/.fixture/kernel-sync")

    for name in "${extra_drivers[@]}"; do
        driver_names[$name]=1
    done
    for addr in "${dev_order[@]}"; do
        [[ ${dev_driver[$addr]} == - ]] || driver_names[${dev_driver[$addr]}]=1
    done
    for name in "${!driver_names[@]}"; do
        _fx_queue_driver "$root/$pci/drivers/$name" 0
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
# Kernel simulator
# ---------------------------------------------------------------------------
#
# One background bash process serves every action FIFO. It holds each FIFO
# open read-write, so a writer's open() never blocks and the pipe never sees
# EOF, polls them with `read -t 0` (every 5 ms when idle) and handles one
# value at a time: it appends "PATH VALUE" to ROOT/kernel.log, then applies
# the effect (the device's driver link is made or removed last).
#
# Order: values on one FIFO are handled in write order. A FIFO write returns
# before its value is handled, so when two FIFOs both hold a value the
# simulator cannot tell which came first; it then goes by priority: unbind,
# new_id, remove_id, bind, drivers_probe (see _fx_kernel_pick). Hence
# "unbind; probe" is right even with no wait between. Values the writer
# waited for (by polling the driver link, or with kernel_settle) are always
# in order. driver_override is a plain file: a probe uses whatever it holds
# when the probe is handled.

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

# Poll like the binder does until ADDR is bound to DRIVER ("" = unbound).
fixture_wait_driver() {
    local root=$1 addr=$2 want=$3 tries=0 REPLY
    while _fx_bound_driver "$root" "$addr" && [[ $REPLY != "$want" ]]; do
        tries=$((tries + 1))
        if ((tries > 500)); then
            _fx_die "fixture_wait_driver: $addr is bound to '$REPLY', not '$want', after 5 s"
            return 1
        fi
        _fx_sleep "$root" 0.01
    done
}

fixture_add_driver() {
    local root=${1:?usage: fixture_add_driver ROOT NAME} name=${2:?usage: fixture_add_driver ROOT NAME}
    _fx_is_name "$name" || { _fx_die "fixture_add_driver: bad driver name '$name'"; return 1; }
    local final=$root/sys/bus/pci/drivers/$name stopped=0
    [[ -d $final ]] && return 0
    [[ -e $root/.fixture/kernel.stopped ]] && stopped=1
    # Build it aside and rename it in, so the simulator never sees half a driver.
    local scratch=$root/.fixture/new-driver.$name
    local -a fs_ops=()
    _fx_queue_driver "$scratch" "$stopped"
    fs_ops+=("rename	$scratch	$final")
    printf '%s\n' "${fs_ops[@]}" | _fx_apply_fs_ops
}

# REPLY = the device's driver_override as the kernel uses it: first line,
# trimmed; "(null)" means none.
_fx_kernel_override() {
    REPLY=""
    IFS=$' \t' read -r REPLY < "$1/driver_override" || true
    [[ $REPLY == "(null)" ]] && REPLY=""
    return 0
}

_fx_kernel_attach() {
    local root=$1 dir=$2 addr=$3 driver=$4 REPLY
    _fx_relpath "sys/bus/pci/drivers/$driver/$addr" "$dir"
    ln -s "$REPLY" "$root/sys/bus/pci/drivers/$driver/$addr"
    # The device's driver link comes last: it is what the binder polls.
    _fx_relpath "$dir/driver" "sys/bus/pci/drivers/$driver"
    ln -s "$REPLY" "$root/$dir/driver"
}

# Apply one value written to action file REL (relative to ROOT).
_fx_kernel_handle() {
    local root=$1 rel=$2 value=$3
    # Log first: when the binder sees the effect, the line is already there.
    printf '%s %s\n' "$rel" "$value" >> "$root/kernel.log"

    local addr=${value//[[:space:]]/}
    [[ $addr =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] || return 0
    [[ -f $root/.fixture/devices/$addr ]] || return 0
    local dir native override drivers=$root/sys/bus/pci/drivers REPLY
    read -r dir native < "$root/.fixture/devices/$addr"
    _fx_kernel_override "$root/$dir"
    override=$REPLY

    local driver=${rel#sys/bus/pci/drivers/}
    driver=${driver%/*}
    case $rel in
        sys/bus/pci/drivers_probe)
            [[ -L $root/$dir/driver ]] && return 0
            if [[ -n $override ]]; then
                # An override naming no registered driver leaves it unbound.
                [[ -d $drivers/$override ]] && _fx_kernel_attach "$root" "$dir" "$addr" "$override"
            elif [[ $native != - && -d $drivers/$native ]]; then
                _fx_kernel_attach "$root" "$dir" "$addr" "$native"
            fi
            ;;
        */bind)
            [[ -L $root/$dir/driver ]] && return 0
            # The kernel binds only a driver that matches: the one the
            # override names, or without one a driver whose ID table matches
            # (here the native driver; vfio-pci's matches nothing then).
            if [[ -n $override ]]; then
                [[ $override == "$driver" ]] && _fx_kernel_attach "$root" "$dir" "$addr" "$driver"
            else
                [[ $driver == "$native" ]] && _fx_kernel_attach "$root" "$dir" "$addr" "$driver"
            fi
            ;;
        */unbind)
            if [[ -L $drivers/$driver/$addr ]]; then
                rm -f "$drivers/$driver/$addr" "$root/$dir/driver"
            fi
            ;;
    esac
    return 0
}

# Read one value from FD into the caller's variable value: up to a newline,
# or, for a value written with no newline, until the pipe has stayed empty
# for about 50 ms.  Only bytes already in the pipe are read, one at a time:
# bash's `read -t` can drop a byte that arrives as it times out (two values
# then run together), so it is never used on a pipe that has data coming.
_fx_kernel_read_value() {
    local fd=$1 root=$2 char idle=0
    value=""
    while :; do
        if read -t 0 -u "$fd"; then
            IFS= read -r -N 1 -u "$fd" char
            [[ $char == $'\n' ]] && return 0
            value+=$char
            idle=0
        elif ((idle++ < 10)); then
            _fx_sleep "$root" 0.005
        else
            return 0
        fi
    done
}

# Set pick to the index in the caller's queue of the FIFO to serve next: the
# first, in priority order, that holds a value. The FIFOs are looked at one
# after another, so a value may land in one already passed; but anything
# written before the value we found is in its pipe by now, so look again at
# those before it (and again before any found there).
_fx_kernel_pick() {
    local i=0
    pick=-1
    for ((i = 0; i < ${#queue[@]}; i++)); do
        if read -t 0 -u "${fd_of[${queue[i]}]}"; then
            pick=$i
            break
        fi
    done
    ((pick >= 0)) || return 1
    i=0
    while ((i < pick)); do
        if read -t 0 -u "${fd_of[${queue[i]}]}"; then
            pick=$i
            i=0
        else
            i=$((i + 1))
        fi
    done
}

# The simulator's main loop; runs in its own process (see kernel_start).
_fx_kernel_loop() {
    local root=$1 owner=$2
    local state=$root/.fixture
    local -A fd_of=()
    local -a action_files=() queue=() driver_dirs=()
    local known_drivers="" sync_fd pending_ack="" rel fd value pick
    exec {sync_fd}<> "$state/kernel-sync"

    while :; do
        # Pick up drivers registered since the last pass.
        driver_dirs=("$root"/sys/bus/pci/drivers/*/)
        if [[ ${driver_dirs[*]} != "$known_drivers" ]]; then
            known_drivers=${driver_dirs[*]}
            _fx_list_action_files "$root"
            queue=()
            for rel in "${action_files[@]}"; do
                [[ -p $root/$rel ]] || continue
                if [[ -z ${fd_of[$rel]:-} ]]; then
                    exec {fd}<> "$root/$rel"
                    fd_of[$rel]=$fd
                fi
                queue+=("$rel")
            done
            # The first time through, tell kernel_start we are serving.
            [[ -s $state/kernel.pid ]] || printf '%s\n' "$$" > "$state/kernel.pid"
        fi

        # Handle one value, then look again from the highest priority.
        if _fx_kernel_pick; then
            rel=${queue[pick]}
            _fx_kernel_read_value "${fd_of[$rel]}" "$root"
            _fx_kernel_handle "$root" "$rel" "$value"
            continue
        fi

        # Everything written so far is handled: answer a pending kernel_settle.
        if [[ -n $pending_ack ]]; then
            printf '%s\n' "$pending_ack" > "$state/kernel-ack"
            pending_ack=""
        fi
        # Stop when the shell that started us is gone (a killed test run).
        kill -0 "$owner" 2> /dev/null || exit 0
        # A kernel_settle token is one line written by one write(2), so once
        # any of it is there all of it is: read it without a timeout. A read
        # with a timeout on a pipe that is being written to can lose bytes,
        # and a lost byte is a token never acknowledged.
        if read -t 0 -u "$sync_fd"; then
            IFS= read -r -u "$sync_fd" pending_ack
        else
            _fx_sleep "$root" 0.005
        fi
    done
}

# True while PID exists and is not a zombie: a killed simulator whose parent
# is not the shell calling kernel_stop stays a zombie until that parent
# reaps it, and kill -0 still succeeds on it.
_fx_process_running() {
    local stat
    read -r stat 2> /dev/null < "/proc/$1/stat" || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# REPLY = pid of the running simulator; fail when none runs.
_fx_kernel_pid() {
    REPLY=""
    [[ -f $1/.fixture/kernel.pid ]] || return 1
    read -r REPLY < "$1/.fixture/kernel.pid" || true
    [[ -n $REPLY ]] && _fx_process_running "$REPLY"
}

# Turn the action files into FIFOs (WANT=fifo) or plain files (WANT=file),
# each by an atomic rename so a writer never finds one missing.
_fx_convert_action_files() {
    local root=$1 want=$2 rel path
    local -a action_files=() fs_ops=()
    _fx_list_action_files "$root"
    for rel in "${action_files[@]}"; do
        path=$root/$rel
        if [[ $want == fifo && -f $path ]] || [[ $want == file && -p $path ]]; then
            fs_ops+=("$want-over	$path")
        fi
    done
    ((${#fs_ops[@]} == 0)) || printf '%s\n' "${fs_ops[@]}" | _fx_apply_fs_ops
}

# Start the simulator. Call it from the test shell itself (setup or the
# test, not inside `run` or $(...)): the simulator exits when that shell does.
kernel_start() {
    local root=${1:?usage: kernel_start ROOT}
    local state=$root/.fixture owner=$BASHPID tries=0 REPLY
    [[ -d $root/sys/bus/pci && -p $state/kernel-sync ]] || { _fx_die "kernel_start: no fixture at $root (run make_sysfs first)"; return 1; }
    _fx_kernel_pid "$root" && return 0

    rm -f "$state/kernel.pid" "$state/kernel-ack"
    if [[ -e $state/kernel.stopped ]]; then
        _fx_convert_action_files "$root" fifo
        rm -f "$state/kernel.stopped"
    fi
    # Own process group (setsid), so kernel_stop can end it and anything it
    # runs at once; fd 3 closed because bats waits for whoever holds it. It
    # stays our child so kernel_stop can reap it (PID 1 may not).
    # shellcheck disable=SC2016 # $1.. expand in the child shell, on purpose
    setsid bash -c 'source "$1" && _fx_kernel_loop "$2" "$3"' vfio-fixture-kernel \
        "$_FX_LIB" "$root" "$owner" < /dev/null > /dev/null 2>> "$state/kernel.err" 3>&- &

    until [[ -s $state/kernel.pid ]]; do
        tries=$((tries + 1))
        if ((tries > 1000)); then
            _fx_die "kernel_start: simulator did not come up: $(< "$state/kernel.err")"
            return 1
        fi
        _fx_sleep "$root" 0.01
    done
}

# Wait until the simulator has handled every value written before this call.
kernel_settle() {
    local root=${1:?usage: kernel_settle ROOT}
    local state=$root/.fixture ack="" token tries=0 REPLY
    _fx_kernel_pid "$root" || return 0
    token=settle-$BASHPID-$EPOCHREALTIME
    printf '%s\n' "$token" > "$state/kernel-sync"
    until [[ $ack == "$token" ]]; do
        tries=$((tries + 1))
        if ((tries > 1000)); then
            _fx_die "kernel_settle: simulator did not answer within 10 s"
            return 1
        fi
        _fx_sleep "$root" 0.01
        if [[ -f $state/kernel-ack ]]; then
            read -r ack < "$state/kernel-ack" || true
        fi
    done
}

# Stop the simulator and every process it started. Afterwards the action
# files are plain files: writes succeed at once and are neither logged nor
# applied (kernel_start turns them back into FIFOs).
kernel_stop() {
    local root=${1:?usage: kernel_stop ROOT}
    local state=$root/.fixture pid tries=0 rel fd REPLY
    [[ -d $state ]] || return 0
    if ! _fx_kernel_pid "$root"; then
        rm -f "$state/kernel.pid"
        return 0
    fi
    pid=$REPLY

    # Hold every FIFO open meanwhile, so a writer arriving between the kill
    # and the conversion cannot block on a FIFO nobody reads.
    local -a action_files=() held=()
    _fx_list_action_files "$root"
    for rel in "${action_files[@]}"; do
        if [[ -p $root/$rel ]]; then
            exec {fd}<> "$root/$rel"
            held+=("$fd")
        fi
    done

    kill -TERM -- "-$pid" 2> /dev/null || true
    # Reap it when it is our child; otherwise wait until it is dead.
    wait "$pid" 2> /dev/null || true
    while _fx_process_running "$pid" && ((tries < 300)); do
        tries=$((tries + 1))
        ((tries == 200)) && kill -KILL -- "-$pid" 2> /dev/null
        _fx_sleep "$root" 0.01
    done
    touch "$state/kernel.stopped"
    _fx_convert_action_files "$root" file
    for fd in "${held[@]}"; do
        exec {fd}>&-
    done
    rm -f "$state/kernel.pid"
}

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

# Body of the fake modprobe: log, then fail for missing modules or register
# the module's driver. Without -a only the first name is a module; the rest
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
