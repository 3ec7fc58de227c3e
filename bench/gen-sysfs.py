#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Synthetic sysfs tree for the scaling benchmark.

    bench/gen-sysfs.py ROOT NFUNCS

Writes ROOT/sys, ROOT/proc, ROOT/lib/modules and ROOT/etc/vfio-reserve.conf
(8 rules) laid out as the kernel lays out a large host:

  ROOT/sys/devices/pciDDDD:00/DDDD:00:02.0/DDDD:01:00.0/DDDD:02:00.0/DDDD:03:00.0
      nested device directories (root port / switch upstream port / downstream
      port / endpoint), each with vendor, device, subsystem_*, class, revision,
      modalias, uevent, enable, numa_node, driver_override (and boot_vga on displays),
      `driver`, `iommu_group` and `subsystem` links, SR-IOV physfn/virtfnN;
  ROOT/sys/bus/pci/devices/ADDR -> ../../../devices/pci.../ADDR
  ROOT/sys/bus/pci/drivers/NAME/{bind,unbind,new_id,remove_id,ADDR links}
  ROOT/sys/bus/pci/slots/N/address, ROOT/sys/kernel/iommu_groups/N/devices/
  ROOT/sys/class/iommu/dmar0, drivers_probe, drivers_autoprobe

The host is built from identical 256-function "pods", so that the mix of
functions is the same at every size: a root port, a PCIe switch (upstream
port and 4 downstream ports), two identical GPUs (VGA + HDA audio, one IOMMU
group each) and two SR-IOV NICs (an Intel X710 PF and a Mellanox CX-5 PF,
122 virtual functions each, ARI numbering, one group per function).  Each
PCI domain holds 16 pods behind root ports 00:02.0 to 00:11.0 and a host
bridge at 00:00.0; domain 0 also has the boot VGA at 00:01.0.  The last NIC
gives up virtual functions so that the total is exactly NFUNCS.
"""
import os
import sys

POD = 256
PODS_PER_DOMAIN = 16
KERNEL = "6.1.0-bench"

# (vendor, device, class, driver)
HOST_BRIDGE = (0x8086, 0x2020, 0x060000, None)
BOOT_VGA = (0x8086, 0x3E92, 0x030000, "i915")
ROOT_PORT = (0x8086, 0x2030, 0x060400, "pcieport")
SWITCH_PORT = (0x10B5, 0x8747, 0x060400, "pcieport")
GPU = (0x10DE, 0x2204, 0x030000, "nouveau")
GPU_AUDIO = (0x10DE, 0x1AEF, 0x040300, "snd_hda_intel")
NICS = [
    ((0x8086, 0x1572, 0x020000, "i40e"), (0x8086, 0x154C, 0x020000, "iavf")),
    ((0x15B3, 0x1017, 0x020000, "mlx5_core"), (0x15B3, 0x1018, 0x020000, "mlx5_core")),
]
VFS_PER_NIC = (POD - 12) // 2   # 122
DRIVERS = ["pcieport", "i915", "nouveau", "snd_hda_intel", "i40e", "iavf",
           "mlx5_core", "vfio-pci", "pci-stub"]

# The benchmark's config: 8 rules that exist at every size and cover every
# outcome (matched by ID, by address and ID, protected boot VGA, no device,
# moved bus, a second driver).
CONFIG = """\
# vfio-reserve benchmark config: 8 rules
10de:2204                                  # every GPU (and its HDA sibling)
0000:05:00.0 8086:1572                     # one X710 PF and its VF siblings
15b3:1018                                  # every CX-5 virtual function
0000:05:01.0 8086:154c driver=pci-stub     # eight X710 VFs for pci-stub
0000:00:01.0                               # the boot VGA: protected
1002:73bf                                  # an absent card
0000:03:00.0 1002:73bf                     # a card that moved
0000:04:00.1 10de:1aef                     # the second GPU's audio, again
"""


def addr_str(domain, bus, devfn):
    return "%04x:%02x:%02x.%x" % (domain, bus, devfn >> 3, devfn & 7)


def write(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, text.encode())
    os.close(fd)


class Tree:
    def __init__(self, root):
        self.root = root
        self.sys = os.path.join(root, "sys")
        self.group = 0
        self.nfuncs = 0
        self.dirs = {}            # addr -> device dir (absolute)

    def rel_link(self, target, link):
        os.symlink(os.path.relpath(target, os.path.dirname(link)), link)

    def function(self, parent_dir, domain, bus, devfn, ident, group=None,
                 boot_vga=None, physfn=None):
        vendor, device, cls, driver = ident
        addr = addr_str(domain, bus, devfn)
        d = os.path.join(parent_dir, addr)
        os.mkdir(d)
        self.dirs[addr] = d
        self.nfuncs += 1
        sub = (vendor, device)
        write(d + "/vendor", "0x%04x\n" % vendor)
        write(d + "/device", "0x%04x\n" % device)
        write(d + "/subsystem_vendor", "0x%04x\n" % sub[0])
        write(d + "/subsystem_device", "0x%04x\n" % sub[1])
        write(d + "/class", "0x%06x\n" % cls)
        write(d + "/revision", "0x01\n")
        write(d + "/modalias", "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n" % (
            vendor, device, sub[0], sub[1], cls >> 16, (cls >> 8) & 0xFF, cls & 0xFF))
        # As pci_uevent() formats it; the binder's scan reads this one file.
        write(d + "/uevent", "%sPCI_CLASS=%04X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\n"
              "PCI_SLOT_NAME=%s\nMODALIAS=pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n" % (
                  "DRIVER=%s\n" % driver if driver else "", cls, vendor, device, sub[0], sub[1],
                  addr, vendor, device, sub[0], sub[1], cls >> 16, (cls >> 8) & 0xFF, cls & 0xFF))
        write(d + "/enable", "1\n" if driver else "0\n")
        write(d + "/numa_node", "%d\n" % (domain % 2))
        write(d + "/driver_override", "(null)\n")
        if boot_vga is not None:
            write(d + "/boot_vga", "%d\n" % boot_vga)
        self.rel_link(self.sys + "/bus/pci", d + "/subsystem")
        if group is None:
            group = self.new_group()
        gdir = "%s/kernel/iommu_groups/%d" % (self.sys, group)
        if not os.path.isdir(gdir):
            os.makedirs(gdir + "/devices")
            write(gdir + "/type", "DMA\n")
        self.rel_link(d, gdir + "/devices/" + addr)
        self.rel_link(gdir, d + "/iommu_group")
        if driver:
            drv = self.sys + "/bus/pci/drivers/" + driver
            self.rel_link(drv, d + "/driver")
            self.rel_link(d, drv + "/" + addr)
        self.rel_link(d, self.sys + "/bus/pci/devices/" + addr)
        if physfn:
            self.rel_link(physfn[0], d + "/physfn")
            self.rel_link(d, physfn[0] + "/virtfn%d" % physfn[1])
        return d

    def new_group(self):
        self.group += 1
        return self.group - 1

    def slot(self, name, domain, bus):
        d = self.sys + "/bus/pci/slots/" + name
        os.makedirs(d)
        write(d + "/address", "%04x:%02x:00\n" % (domain, bus))


def build(root, nfuncs):
    t = Tree(root)
    s = t.sys
    for sub in ("bus/pci/devices", "bus/pci/slots", "kernel/iommu_groups",
                "class/iommu/dmar0"):
        os.makedirs(os.path.join(s, sub))
    for name in DRIVERS:
        d = s + "/bus/pci/drivers/" + name
        os.makedirs(d)
        for f in ("bind", "unbind", "new_id", "remove_id", "uevent"):
            write(d + "/" + f, "")
    write(s + "/bus/pci/drivers_probe", "")
    write(s + "/bus/pci/drivers_autoprobe", "1\n")
    write(s + "/bus/pci/rescan", "")

    fixed = 0
    domains = []
    remaining = nfuncs
    domain = 0
    while remaining > 0:
        head = 2 if domain == 0 else 1
        pods = min(PODS_PER_DOMAIN, -(-(remaining) // POD))
        domains.append((domain, pods))
        remaining -= pods * POD
        fixed += head
        domain += 1
    npods = sum(p for _, p in domains)
    # VFs the last NIC gives up so that the count is exact.
    shortfall = npods * POD + fixed - nfuncs
    if shortfall > VFS_PER_NIC:
        sys.exit("gen-sysfs: %d functions do not fit the pod layout" % nfuncs)

    pod_index = 0
    slot_no = 1
    for domain, pods in domains:
        top = "%s/devices/pci%04x:00" % (s, domain)
        os.makedirs(top)
        t.function(top, domain, 0, 0, HOST_BRIDGE)
        if domain == 0:
            t.function(top, domain, 0, 1 << 3, BOOT_VGA, boot_vga=1)
        bus = 1
        for p in range(pods):
            pod_index += 1
            last_pod = pod_index == npods
            rp = t.function(top, domain, 0, (2 + p) << 3, ROOT_PORT)
            usp = t.function(rp, domain, bus, 0, SWITCH_PORT)
            dsp_bus = bus + 1
            ep_bus = bus + 2
            for k in range(4):
                dsp = t.function(usp, domain, dsp_bus, k << 3, SWITCH_PORT)
                b = ep_bus + k
                t.slot(str(slot_no), domain, b)
                slot_no += 1
                if k < 2:
                    g = t.new_group()
                    t.function(dsp, domain, b, 0, GPU, group=g, boot_vga=0)
                    t.function(dsp, domain, b, 1, GPU_AUDIO, group=g)
                else:
                    pf_ident, vf_ident = NICS[k - 2]
                    pf = t.function(dsp, domain, b, 0, pf_ident)
                    nvf = VFS_PER_NIC
                    if last_pod and k == 3:
                        nvf -= shortfall
                    write(pf + "/sriov_totalvfs", "%d\n" % VFS_PER_NIC)
                    write(pf + "/sriov_numvfs", "%d\n" % nvf)
                    # ARI: VF i is routing ID PF + 1 + i on the same bus,
                    # and a sibling of the PF under the downstream port.
                    for i in range(nvf):
                        t.function(dsp, domain, b, 1 + i, vf_ident, physfn=(pf, i))
            bus += 6
    assert t.nfuncs == nfuncs, (t.nfuncs, nfuncs)

    proc = os.path.join(root, "proc")
    os.makedirs(proc + "/sys/kernel")
    write(proc + "/cmdline", "BOOT_IMAGE=/boot/vmlinuz-%s root=/dev/sda1 ro quiet "
          "intel_iommu=on iommu=pt\n" % KERNEL)
    write(proc + "/sys/kernel/osrelease", KERNEL + "\n")
    cpu = ("processor\t: %d\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n"
           "model name\t: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz\n"
           "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr vmx est\n\n")
    write(proc + "/cpuinfo", "".join(cpu % i for i in range(2)))
    mods = os.path.join(root, "lib/modules", KERNEL)
    os.makedirs(mods)
    write(mods + "/modules.dep",
          "kernel/drivers/vfio/vfio.ko:\n"
          "kernel/drivers/vfio/vfio_iommu_type1.ko: kernel/drivers/vfio/vfio.ko\n"
          "kernel/drivers/vfio/pci/vfio-pci-core.ko: kernel/drivers/vfio/vfio.ko\n"
          "kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko "
          "kernel/drivers/vfio/vfio.ko\n")
    write(mods + "/modules.builtin", "kernel/drivers/pci/pci-stub.ko\n")
    etc = os.path.join(root, "etc")
    os.makedirs(etc)
    write(etc + "/vfio-reserve.conf", CONFIG)
    os.chmod(etc + "/vfio-reserve.conf", 0o644)
    return t


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen-sysfs.py ROOT NFUNCS")
    root, n = sys.argv[1], int(sys.argv[2])
    if os.path.exists(root):
        sys.exit("gen-sysfs: %s exists" % root)
    os.umask(0o022)
    t = build(root, n)
    print("%s: %d functions, %d IOMMU groups" % (root, t.nfuncs, t.group))


if __name__ == "__main__":
    main()
