#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio-reserve: dracut module, installed as
# /usr/lib/dracut/modules.d/50vfio-reserve/.
#
# With an active rule in /etc/vfio-reserve.conf it puts into the image the
# static binder, the config (at the same path), the modprobe path's
# /etc/modprobe.d/vfio-reserve.conf when `vfio-reserve update` wrote it,
# the vfio modules the binder names (also in hostonly mode, where dracut
# would otherwise keep only the modules loaded on the host) and what runs 'vfio-reserve apply --boot'
# before udevd starts and before dracut or systemd loads any driver: a
# systemd unit in the systemd-based initrd, cmdline hook 00 in dracut's
# shell init (see install() below).  A config problem never fails the
# dracut run, which a kernel upgrade makes: lines with errors are warned
# about by the binder (file and line, the words `vfio-reserve check` uses)
# and the image carries the config, so the boot reserves what the valid
# lines say; a config the binder cannot use at all (unreadable, not owned by
# root, writable by group or others) is left out with a warning, and nothing
# is reserved.  `vfio-reserve modules` tells the two apart by its exit
# status (0, or 2 for an unusable file).  Without a config the module is
# left out unless asked for; without an active rule it adds nothing.

_vfio_reserve_binder="@SBINDIR@/vfio-reserve"
_vfio_reserve_config=/etc/vfio-reserve.conf

# called by dracut
check() {
    [[ -x $_vfio_reserve_binder ]] || return 1
    [[ -e $_vfio_reserve_config ]] || return 255
    return 0
}

# called by dracut
depends() {
    return 0
}

_vfio_reserve_modules() {
    "$_vfio_reserve_binder" -c "$_vfio_reserve_config" modules
}

# called by dracut
installkernel() {
    local _mods
    # install() says what is wrong with the config; not twice.
    _mods=$(_vfio_reserve_modules 2> /dev/null) || return 0
    [[ $_mods ]] || return 0
    # The binder names only top-level modules; dracut adds what each one
    # needs on the target kernel (vfio_virqfd before 6.2, not after).
    # shellcheck disable=SC2086 # a list of module names
    hostonly='' instmods $_mods
}

# called by dracut
install() {
    local _mods
    if ! _mods=$(_vfio_reserve_modules); then
        dwarn "vfio-reserve: $_vfio_reserve_config left out of the initramfs (see above): it reserves nothing at boot"
        return 0
    fi
    [[ $_mods ]] || return 0

    inst_simple "$_vfio_reserve_binder"
    inst_simple "$_vfio_reserve_config"
    # The modprobe path (vfio-reserve(8)): dracut copies /etc/modprobe.d
    # only in hostonly mode; the file's install command runs the binder
    # added above, whenever anything in the image loads vfio_pci.
    [[ -e /etc/modprobe.d/vfio-reserve.conf ]] &&
        inst_simple /etc/modprobe.d/vfio-reserve.conf
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
