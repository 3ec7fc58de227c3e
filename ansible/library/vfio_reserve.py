#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# vfio_reserve: the Ansible module of vfio-reserve. It keeps
# /etc/vfio-reserve.conf as the play says, and runs `vfio-reserve update`
# when the host is not as that config wants it; everything it reports comes
# from `vfio-reserve update --json` and `vfio-reserve status --json`, which
# read the host back (vfio-reserve(8)).

DOCUMENTATION = r'''
module: vfio_reserve
short_description: Reserve PCI devices for vfio-pci at boot with vfio-reserve
description:
  - Writes /etc/vfio-reserve.conf (when O(config) is given) and runs
    C(vfio-reserve update), which makes the config effective for the next
    boot: kernel arguments, the modprobe path, the initramfs, the trial boot.
  - Runs C(vfio-reserve update) only when C(vfio-reserve update --dry-run
    --json) says that it would change something, or when the config changed,
    so a second run changes nothing and rebuilds no initramfs.
  - Supports check mode (C(update --dry-run --json); a new config is only
    checked, with C(vfio-reserve check --config-only)) and diff mode (the
    config before and after).
  - Never reboots. C(reboot_required) says when the reservation waits for
    one; C(vfio-reserve update) also writes /run/reboot-required as Debian's
    packages do. After that reboot, run C(vfio-reserve confirm) on the host
    (or pass O(no_trial)), or every later boot reserves what was confirmed
    last (see vfio-reserve(8), TRIAL BOOT).
options:
  config:
    description:
      - The whole content of /etc/vfio-reserve.conf (vfio-reserve.conf(5)).
        Omitted, the file is left as it is and only C(update) runs.
    type: str
  no_trial:
    description: Confirm the change at once, without a trial boot (C(update --no-trial)).
    type: bool
    default: false
  root:
    description: Act on the system below this directory (C(vfio-reserve --root)), for tests and images.
    type: path
  binary:
    description: The vfio-reserve program.
    type: path
    default: /usr/sbin/vfio-reserve
'''

RETURN = r'''
changed:
  description: Whether the config, or what C(update) keeps, changed (or would, in check mode).
  type: bool
reboot_required:
  description: Whether the reservation waits for a reboot (this run's change, or an earlier one since the last boot).
  type: bool
update:
  description: The object of C(vfio-reserve update --json) (C(--dry-run) in check mode); null when a new config was only checked.
  type: dict
status:
  description: The object of C(vfio-reserve status --json), after the run.
  type: dict
'''

EXAMPLES = r'''
- name: Reserve the second GPU for vfio-pci
  vfio_reserve:
    config: |
      # the passthrough card
      0000:01:00.0 10de:2204
  register: vfio
- name: Reboot into the new reservation
  ansible.builtin.reboot:
  when: vfio.reboot_required
'''

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule


def config_path(root):
    return os.path.join(root or '/', 'etc/vfio-reserve.conf')


def read_config(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


class VfioReserve:
    def __init__(self, module):
        self.module = module
        self.binary = module.params['binary']
        self.root = module.params['root']

    def command(self, *args):
        prefix = [self.binary]
        if self.root:
            prefix += ['--root', self.root]
        return prefix + list(args)

    def json_of(self, *args, ok_statuses=(0,)):
        """Run vfio-reserve ARGS..., whose standard output is one JSON
        object; fail the task, with the program's own messages, on any
        other exit status."""
        cmd = self.command(*args)
        rc, out, err = self.module.run_command(cmd)
        if rc not in ok_statuses:
            self.module.fail_json(msg=err.strip() or 'vfio-reserve exited %d' % rc,
                                  rc=rc, cmd=cmd, stdout=out, stderr=err)
        try:
            return json.loads(out)
        except ValueError:
            self.module.fail_json(msg='%s printed no JSON object' % ' '.join(cmd),
                                  rc=rc, cmd=cmd, stdout=out, stderr=err)

    def update(self, dry_run):
        args = ['update', '--json']
        if dry_run:
            args.append('--dry-run')
        if self.module.params['no_trial']:
            args.append('--no-trial')
        return self.json_of(*args)

    def status(self):
        # 1: a selected function is not on vfio-pci yet, the state before
        # the reboot; the object says which.
        return self.json_of('status', '--json', ok_statuses=(0, 1))

    def check_config(self, text, path):
        """Refuse TEXT as the config with the binder's own messages (file
        and line), the temporary file named as the config. The file is in
        the temporary directory: check mode writes nothing below /etc."""
        fd, tmp = tempfile.mkstemp(prefix='vfio-reserve.conf.')
        try:
            with os.fdopen(fd, 'w') as f:
                f.write(text)
            os.chmod(tmp, 0o644)
            cmd = self.command('-c', tmp, 'check', '--config-only')
            rc, out, err = self.module.run_command(cmd)
        finally:
            os.unlink(tmp)
        if rc != 0:
            self.module.fail_json(msg=err.replace(tmp, path).strip(), rc=rc)

    def write_config(self, text, path):
        fd, tmp = tempfile.mkstemp(prefix='.vfio-reserve.conf.', dir=os.path.dirname(path))
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        self.module.atomic_move(tmp, path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            config=dict(type='str'),
            no_trial=dict(type='bool', default=False),
            root=dict(type='path'),
            binary=dict(type='path', default='/usr/sbin/vfio-reserve'),
        ),
        supports_check_mode=True,
    )
    vr = VfioReserve(module)
    path = config_path(module.params['root'])
    wanted = module.params['config']
    before = read_config(path)
    config_changed = wanted is not None and wanted != before

    result = dict(changed=False, reboot_required=False, update=None)
    if config_changed:
        vr.check_config(wanted, path)
        if module._diff:
            result['diff'] = dict(before=before or '', after=wanted,
                                  before_header=path, after_header=path)
        result['changed'] = True
        if module.check_mode:
            # The dry run would read the old config: a new one is taken
            # to need the reboot that any new reservation needs.
            result['reboot_required'] = True
        else:
            vr.write_config(wanted, path)
            result['update'] = vr.update(dry_run=False)
            result['reboot_required'] = result['update']['reboot_required']
    else:
        # What update would change; only then is it run: an unchanged host
        # gets no initramfs rebuilt.
        result['update'] = vr.update(dry_run=True)
        if result['update']['changed'] and not module.check_mode:
            result['update'] = vr.update(dry_run=False)
        result['changed'] = result['update']['changed']
        result['reboot_required'] = result['update']['reboot_required']
    result['status'] = vr.status()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
