#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The Ansible module (ansible/library/vfio_reserve.py) run by Debian's real
# ansible-core (ansible-playbook, connection local) against a throwaway root:
# a fixture sysfs and a Debian host's GRUB, the real binder with --root, the
# scripts as installed (VFIO_RESERVE_LIBDIR). Check mode changes nothing,
# diff shows the config, a first run changes and needs a reboot, a second
# changes nothing. ansible-playbook takes seconds to start: few runs.

load test_helper
LIBDIR=$GRUB_SCRIPTS

CONFIG='# the card behind 00:02.0
01:00.0 10de:2204
'

setup() {
	command -v ansible-playbook >/dev/null || fail "needs ansible-playbook: apt-get install ansible-core"
	[ -x "$REPO/binder/vfio-reserve" ] || fail "binder/vfio-reserve is not built (make)"
	ROOT=$BATS_TEST_TMPDIR/root
	one_card_sysfs
	# A Debian host's GRUB: the drop-in directory its grub-mkconfig reads.
	mkdir -p "$ROOT/etc/default" "$ROOT/usr/sbin" "$ROOT/run"
	printf 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n' >"$ROOT/etc/default/grub"
	printf '#!/bin/sh\n# reads ${sysconfdir}/default/grub.d/*.cfg\n' >"$ROOT/usr/sbin/grub-mkconfig"
	chmod 0755 "$ROOT/usr/sbin/grub-mkconfig"
	cat >"$BATS_TEST_TMPDIR/play.yml" <<-'YAML'
	- hosts: localhost
	  gather_facts: false
	  environment:
	    VFIO_RESERVE_LIBDIR: "{{ libdir }}"
	  tasks:
	    - name: the reservation
	      vfio_reserve:
	        root: "{{ root }}"
	        binary: "{{ binary }}"
	        config: "{{ config | default(omit) }}"
	      register: result
	    - name: what the module returned, for the test
	      ansible.builtin.copy:
	        content: "{{ result | to_json }}"
	        dest: "{{ out }}"
	      check_mode: false
	      diff: false
	YAML
}

# play [ANSIBLE-PLAYBOOK-OPTION...]: the play with the module, $CONFIG as
# the config (unless NO_CONFIG is set); the module's result in $result.
play() {
	local vars
	vars=$(jq -cn --arg root "$ROOT" --arg binary "$REPO/binder/vfio-reserve" --arg libdir "$LIBDIR" \
		--arg out "$BATS_TEST_TMPDIR/result.json" --arg config "$CONFIG" --arg no_config "${NO_CONFIG-}" \
		'{root: $root, binary: $binary, libdir: $libdir, out: $out} + (if $no_config == "" then {config: $config} else {} end)')
	rm -f "$BATS_TEST_TMPDIR/result.json"
	ANSIBLE_LIBRARY=$REPO/ansible/library ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=0 \
		ANSIBLE_INVENTORY_UNPARSED_WARNING=0 ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 \
		ansible-playbook -i localhost, -c local -e "$vars" "$@" "$BATS_TEST_TMPDIR/play.yml"
}

result() {
	jq -c "$1" "$BATS_TEST_TMPDIR/result.json"
}

# Every file of the root but the fixture's bookkeeping, with its checksum.
snapshot() {
	(cd "$ROOT" && find . -path ./.fixture -prune -o -type f -exec cksum {} + | sort)
}

@test "ansible-core: check mode changes nothing and diff shows the config; the first run changes and needs a reboot; the second changes nothing" {
	before=$(snapshot)
	run -0 play --check --diff
	assert_line --partial "+01:00.0 10de:2204"
	assert_equal "$(result '[.changed, .reboot_required, .update, .diff]')" \
		"$(jq -cn --arg config "$CONFIG" --arg path "$ROOT/etc/vfio-reserve.conf" \
			'[true, true, null, {before: "", after: $config, before_header: $path, after_header: $path}]')"
	assert_equal "$(result '.status | type')" '"object"'
	assert_equal "$(snapshot)" "$before"

	run -0 play --diff
	assert_equal "$(cat "$ROOT/etc/vfio-reserve.conf")" "${CONFIG%$'\n'}"
	assert_equal "$(result '[.changed, .reboot_required, .update.dry_run, .update.changed]')" '[true,true,false,true]'
	assert_equal "$(result '.update.kernel_arguments.after')" \
		"$(jq -cn --arg grub "$ROOT/etc/default/grub" '[{where: $grub, arguments: "quiet intel_iommu=on iommu=pt"}]')"
	assert_equal "$(result '.update.files.written | sort')" "$(jq -cn --arg root "$ROOT" '[
		$root + "/etc/default/grub.d/vfio-reserve.cfg", $root + "/etc/modprobe.d/00-vfio-reserve.conf",
		$root + "/etc/vfio-reserve.conf.fingerprint", $root + "/var/lib/vfio-reserve/confirmed.conf",
		$root + "/var/lib/vfio-reserve/confirmed.conf.fingerprint"]')"
	# The status object of the host as it is: the card not yet on vfio-pci.
	assert_equal "$(result '[.status.rules[0].line, .status.rules[0].functions[0].address]')" '[2,"0000:01:00.0"]'
	assert_file_exist "$ROOT/run/reboot-required"
	after=$(snapshot)

	# Idempotence: nothing to change, and update was only asked (its dry
	# run), so no initramfs is rebuilt; the reboot is still pending.
	run -0 play
	assert_equal "$(result '[.changed, .reboot_required, .update.dry_run, .update.changed, .update.files]')" \
		'[false,true,true,false,{"written":[],"removed":[]}]'
	assert_equal "$(snapshot)" "$after"

	# The config alone changes nothing; the host is as it wants after the
	# reboot (/run is emptied).
	rm "$ROOT/run/reboot-required" "$ROOT/run/reboot-required.pkgs"
	NO_CONFIG=1 run -0 play --check
	assert_equal "$(result '[.changed, .reboot_required]')" '[false,false]'
}

@test "ansible-core: a config with an error fails the task with the binder's message naming the config's line; nothing written" {
	before=$(snapshot)
	CONFIG=$'01:00.0 10de:2204\n01:00.1 frob\n' run -2 play --check
	assert_line --partial "$ROOT/etc/vfio-reserve.conf:2: "
	assert_equal "$(snapshot)" "$before"
}
