#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve: dracut module, installed as
# /usr/lib/dracut/modules.d/50vfio-reserve/.
#
# With an active rule in /etc/vfio-reserve.conf it puts into the image the
# static binder, the config as `vfio-reserve image` writes it for the image
# (at the same path; a rule that would take what this host sits on is
# commented out there, with a warning naming file and line), the modprobe
# path's /etc/modprobe.d/00-vfio-reserve.conf when `vfio-reserve update` wrote
# it, the vfio modules the binder names (also in hostonly mode, where dracut
# would otherwise keep only the modules loaded on the host), udev's
# 70-vfio-reserve-sriov.rules when it is installed, and what runs
# 'vfio-reserve apply --boot' before udevd starts and before dracut or
# systemd loads any driver: a systemd unit in the systemd-based initrd,
# cmdline hook 00 in dracut's shell init (see install() below).  What goes
# in, and why a config problem never fails the dracut run that a kernel
# upgrade makes, is decided once for the three generators:
# @LIBDIR@/hooks/image-content.  Without a config the module is left out
# unless asked for; without an active rule it adds nothing.

# shellcheck source=hooks/image-content
. "@LIBDIR@/hooks/image-content"

# called by dracut
check() {
    [[ -x $vfio_reserve_binder ]] || return 1
    [[ -e $vfio_reserve_config ]] || return 255
    return 0
}

# called by dracut
depends() {
    return 0
}

# called by dracut
installkernel() {
    # install() says what is wrong with the config; not twice.
    # shellcheck disable=SC2154 # initdir is set by dracut
    vfio_reserve_image "$initdir" 2> /dev/null || return 0
    # The binder names only top-level modules; dracut adds what each one
    # needs on the target kernel (vfio_virqfd before 6.2, not after).
    # shellcheck disable=SC2086 # a list of module names
    hostonly='' instmods $vfio_reserve_modules
}

# called by dracut
install() {
    local _status=0
    vfio_reserve_image "$initdir" || _status=$?
    if ((_status == 2)); then
        dwarn "vfio-reserve: $vfio_reserve_config left out of the initramfs (see above): it reserves nothing at boot"
    fi
    ((_status == 0)) || return 0

    inst_simple "$vfio_reserve_binder"
    # The modprobe path (vfio-reserve(8)): dracut copies /etc/modprobe.d
    # only in hostonly mode; the file's install command runs the binder
    # added above, whenever anything in the image loads vfio_pci.
    [[ -e $vfio_reserve_modprobe ]] &&
        inst_simple "$vfio_reserve_modprobe"
    # The VFs of vfs= rules: the PF's driver binds after the early run, and
    # udevd (dracut's, or systemd-udevd.service in the systemd initrd) runs
    # the binder again then.  inst_rules takes the rule by name from the
    # host's udev rules directory (absent: dracut only says so with -v) and
    # the program it runs, the binder added above.
    [[ -e $vfio_reserve_sriov_rules ]] &&
        inst_rules "${vfio_reserve_sriov_rules##*/}"
    # The binder must run before anything can load a native driver.
    # pre-udev is not early enough in either init:
    #  - dracut's shell init loads the rd.driver.pre (--force-drivers)
    #    modules in cmdline hook 01 (kernel-modules' parse-kernel.sh), before
    #    pre-udev: the hook is cmdline 00 there;
    #  - under systemd, systemd-modules-load.service (modules-load.d,
    #    rd.modules-load=) is ordered against neither dracut-pre-udev.service
    #    nor dracut-cmdline.service: a unit ordered before all of them (and
    #    before systemd-udevd.service) runs the binder there.
    # shellcheck disable=SC2154 # moddir, initdir, systemdsystemunitdir and
    # SYSTEMCTL are set by dracut
    if dracut_module_included "systemd"; then
        inst_simple "$moddir/vfio-reserve.service" \
            "$systemdsystemunitdir/vfio-reserve.service"
        $SYSTEMCTL -q --root "$initdir" enable vfio-reserve.service
    else
        inst_hook cmdline 00 "$moddir/vfio-reserve-boot.sh"
    fi
}
