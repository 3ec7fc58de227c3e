#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Proxmox VE: the reserved devices as PCI resource mappings (proxmox, as
# pvesh lines and JSON), checked against the format Proxmox documents for a
# map (PVE::Mapping::PCI in pve-guest-common: the keys node, path, id,
# subsystem-id, iommugroup and description; id and subsystem-id as
# [0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}; path as one or more ';'-separated
# [a-f0-9]{4,}:[a-f0-9]{2}:[a-f0-9]{2}(\.[a-f0-9])?; iommugroup an integer;
# node a pve-node, the mapping's ID a pve-configid); and check's findings on
# /etc/pve/mapping/pci.cfg, one fixture for each way Proxmox would refuse to
# start a VM, or would take a device vfio-reserve does not reserve.

load test_helper

CFG=etc/pve/mapping/pci.cfg

# Two cards of one ID from two makers (different subsystems), each a display
# and an audio function, and an NVMe drive alone in its group, on node pve1.
pve_host() {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm     1 -
	00:02.0 1b36:000c 060400 2 pcieport      - -
	00:03.0 1b36:000c 060400 3 pcieport      - -
	00:04.0 1b36:000c 060400 6 pcieport      - -
	01:00.0 10de:2206 030000 4 nouveau       - 00:02.0 subsys=1043:87b0
	01:00.1 10de:1aef 040300 4 snd_hda_intel - 00:02.0 subsys=1043:87b0
	02:00.0 10de:2206 030000 5 nouveau       - 00:03.0 subsys=3842:3897
	02:00.1 10de:1aef 040300 5 snd_hda_intel - 00:03.0 subsys=3842:3897
	03:00.0 144d:a808 010802 7 nvme          - 00:04.0 subsys=144d:a801
	driver vfio-pci
	DESC
	echo pve1.example.org >"$ROOT/etc/hostname"
	# The first card whole, the second card's display alone, the drive.
	config <<-'EOF'
	01:00.0 10de:2206
	02:00.0 10de:2206 single
	03:00.0 144d:a808
	EOF
}

# pci_cfg < TEXT: the cluster's mappings, as Proxmox writes them: a line
# with the ID, its properties indented by a tab (four spaces in TEXT, which
# survive <<-).
pci_cfg() {
	mkdir -p "$ROOT/etc/pve/mapping"
	sed 's/^    /\t/' >"$ROOT/$CFG"
}

# The proxmox findings of check, and its status in $status.
check_proxmox() {
	run vr check
	proxmox_lines=$(grep ' proxmox: ' <<<"$output" || true)
}

# One map property string against Proxmox's format: only its keys, node,
# path and id present, each value as its schema says.
assert_map_format() {
	local map=$1 part key value
	local -A seen=()
	local pci='[a-f0-9]{4,}:[a-f0-9]{2}:[a-f0-9]{2}(\.[a-f0-9])?'
	IFS=, read -r -a parts <<<"$map"
	for part in "${parts[@]}"; do
		key=${part%%=*} value=${part#*=}
		[[ -z ${seen[$key]:-} ]] || fail "$map: $key twice"
		seen[$key]=1
		case $key in
			node) [[ $value =~ ^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$ ]] ;;
			path) [[ $value =~ ^($pci\;)*$pci$ ]] ;;
			id | subsystem-id) [[ $value =~ ^[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}$ ]] ;;
			iommugroup) [[ $value =~ ^[0-9]+$ ]] ;;
			description) true ;;
			*) false ;;
		esac || fail "$map: $key=$value is not what Proxmox takes"
	done
	[[ -n ${seen[node]:-} && -n ${seen[path]:-} && -n ${seen[id]:-} ]] || fail "$map: no node, path or id"
}

# A mapping ID Proxmox takes in every version: pve-configid, without the '-'
# only newer versions allow.
assert_mapping_id() {
	[[ $1 =~ ^[a-zA-Z][a-zA-Z0-9_]+$ ]] || fail "$1 is not a pve-configid"
}

@test "proxmox prints one pvesh line a mapping: a device reserved whole with its functions, else each function" {
	pve_host
	run -0 vr proxmox
	assert_output "pvesh create /cluster/mapping/pci --id vfio_pve1_0000_01_00 --map id=10de:2206,iommugroup=4,node=pve1,path=0000:01:00,subsystem-id=1043:87b0
pvesh create /cluster/mapping/pci --id vfio_pve1_0000_02_00_0 --map id=10de:2206,iommugroup=5,node=pve1,path=0000:02:00.0,subsystem-id=3842:3897
pvesh create /cluster/mapping/pci --id vfio_pve1_0000_03_00_0 --map id=144d:a808,iommugroup=7,node=pve1,path=0000:03:00.0,subsystem-id=144d:a801"
}

@test "proxmox: every --id and --map is in the format Proxmox documents" {
	pve_host
	run -0 vr proxmox
	local line map n=0
	while read -r line; do
		[[ $line =~ ^pvesh\ create\ /cluster/mapping/pci\ --id\ ([^ ]+)\ --map\ ([^ ]+)$ ]] || fail "$line"
		map=${BASH_REMATCH[2]}
		assert_mapping_id "${BASH_REMATCH[1]}"
		assert_map_format "$map"
		n=$((n + 1))
	done <<<"$output"
	assert_equal "$n" 3
}

@test "proxmox --json: the same mappings, each map an object of Proxmox's keys" {
	pve_host
	run -0 vr proxmox --json
	assert_output '[{"id":"vfio_pve1_0000_01_00","map":[{"node":"pve1","path":"0000:01:00","id":"10de:2206","subsystem-id":"1043:87b0","iommugroup":4}]},{"id":"vfio_pve1_0000_02_00_0","map":[{"node":"pve1","path":"0000:02:00.0","id":"10de:2206","subsystem-id":"3842:3897","iommugroup":5}]},{"id":"vfio_pve1_0000_03_00_0","map":[{"node":"pve1","path":"0000:03:00.0","id":"144d:a808","subsystem-id":"144d:a801","iommugroup":7}]}]'
	# Each map, joined back into a property string, is one Proxmox takes;
	# the iommugroup a JSON number.
	run -0 jq -r '.[].id' <<<"$output"
	local id map
	for id in "${lines[@]}"; do
		assert_mapping_id "$id"
	done
	run -0 vr proxmox --json
	run -0 jq -r '.[].map[] | [to_entries[] | "\(.key)=\(.value)"] | join(",")' <<<"$output"
	for map in "${lines[@]}"; do
		assert_map_format "$map"
	done
	run -0 vr proxmox --json
	run -0 jq -r '[.[].map[].iommugroup | type] | unique | join(" ")' <<<"$output"
	assert_output number
}

@test "proxmox: no group, no iommugroup key; nothing reserved, nothing printed" {
	pve_host
	# pci-stub, unlike vfio, takes a function without a group.
	rm "$ROOT/sys/bus/pci/devices/0000:03:00.0/iommu_group"
	config <<<'03:00.0 144d:a808 driver=pci-stub'
	run -0 vr proxmox
	assert_output "pvesh create /cluster/mapping/pci --id vfio_pve1_0000_03_00_0 --map id=144d:a808,node=pve1,path=0000:03:00.0,subsystem-id=144d:a801"
	config </dev/null
	run -0 vr proxmox
	assert_output ""
	run -0 vr proxmox --json
	assert_output "[]"
}

@test "proxmox: the node is the host name up to its first dot, and one Proxmox takes" {
	pve_host
	echo Node-7 >"$ROOT/etc/hostname"
	run -0 vr proxmox
	assert_line --index 0 --partial " --id vfio_node_7_0000_01_00 --map id=10de:2206,iommugroup=4,node=Node-7,"
	echo under_score >"$ROOT/etc/hostname"
	run -1 --separate-stderr vr proxmox
	assert_output ""
	assert_equal "$stderr" "vfio-reserve: 'under_score' is not a node name Proxmox accepts"
	rm "$ROOT/etc/hostname"
	run -1 --separate-stderr vr proxmox
	assert_equal "$stderr" "vfio-reserve: $ROOT/etc/hostname: cannot read the node name: No such file or directory"
}

@test "proxmox: a broken config still prints the good rules' mappings, and exits 2" {
	pve_host
	config <<-'EOF'
	01:00.0 10de:2206
	02:00.0 forse
	EOF
	run -2 --separate-stderr vr proxmox
	assert_output "pvesh create /cluster/mapping/pci --id vfio_pve1_0000_01_00 --map id=10de:2206,iommugroup=4,node=pve1,path=0000:01:00,subsystem-id=1043:87b0"
	assert_equal "$stderr" "vfio-reserve: $CONF:2: unknown option 'forse'"
}

@test "proxmox: --json and --check-mapping are one or the other; other flags refused" {
	pve_host
	run -2 --separate-stderr vr proxmox --json --check-mapping
	assert_equal "$stderr" "vfio-reserve: --json and --check-mapping: one or the other (see 'vfio-reserve --help')"
	run -2 --separate-stderr vr proxmox --all
	assert_equal "$stderr" "vfio-reserve: unexpected argument '--all' (see 'vfio-reserve --help')"
}

@test "check: no pci.cfg, no Proxmox finding (not a Proxmox host)" {
	pve_host
	check_proxmox
	assert_equal "$status" 0
	assert_equal "$proxmox_lines" ""
}

@test "check: maps that agree with the host are OK; another node's maps are not this host's business" {
	pve_host
	pci_cfg <<-'EOF'
	gpu
	    description the ASUS card
	    map id=10de:2206,iommugroup=4,node=pve1,path=0000:01:00,subsystem-id=1043:87b0
	    map id=10de:9999,iommugroup=40,node=pve2,path=0000:09:00,subsystem-id=1111:2222
	    map id=10de:2206,iommugroup=4,node=pve10,path=0000:07:00,subsystem-id=1043:87b0

	nvme
	    map description="the Samsung drive, slot 2",id=144d:a808,iommugroup=7,node=pve1,path=0000:03:00.0,subsystem-id=144d:a801
	EOF
	local before
	before=$(md5sum "$ROOT/$CFG")
	check_proxmox
	assert_equal "$status" 0
	assert_equal "$proxmox_lines" "OK   proxmox: /etc/pve/mapping/pci.cfg: 2 maps of node pve1, as the host has them and reserved"
	# Read, never written.
	assert_equal "$(md5sum "$ROOT/$CFG")" "$before"
	run -0 vr -q check
	refute_output --partial proxmox
}

@test "check: only another node's maps: nothing on this one" {
	pve_host
	pci_cfg <<-'EOF'
	gpu
	    map id=10de:9999,iommugroup=40,node=pve2,path=0000:01:00,subsystem-id=1111:2222
	EOF
	check_proxmox
	assert_equal "$status" 0
	assert_equal "$proxmox_lines" "OK   proxmox: /etc/pve/mapping/pci.cfg maps nothing on node pve1"
}

@test "check: a map taking a function no rule reserves is a WARN, for each function of a whole device" {
	pve_host
	pci_cfg <<-'EOF'
	card2
	    map id=10de:2206,iommugroup=5,node=pve1,path=0000:02:00,subsystem-id=3842:3897

	console
	    map id=1234:1111,iommugroup=1,node=pve1,path=0000:00:01.0,subsystem-id=1234:1111
	EOF
	check_proxmox
	assert_equal "$status" 0
	assert_equal "$proxmox_lines" "WARN proxmox: mapping 'card2' (pci.cfg line 2): 0000:02:00.1 is not reserved: snd_hda_intel has it until a VM starts with the map (add a rule for it)
WARN proxmox: mapping 'console' (pci.cfg line 5): 0000:00:01.0 is not reserved: bochs-drm has it until a VM starts with the map (add a rule for it)"
}

@test "check: a map taking a function the host needs, which no rule reserves, fails" {
	pve_host
	config <<<'01:00.0 10de:2206'
	block_device 03:00.0 nvme0n1p2 259:2
	mounted /dev/nvme0n1p2 259:2 /
	pci_cfg <<-'EOF'
	drive
	    map id=144d:a808,iommugroup=7,node=pve1,path=0000:03:00.0,subsystem-id=144d:a801
	EOF
	check_proxmox
	assert_equal "$status" 1
	assert_equal "$proxmox_lines" "FAIL proxmox: mapping 'drive' (pci.cfg line 2): 0000:03:00.0 holds the file system on / and no rule reserves it: a VM started with the map takes it from the host"
}

@test "check: a different id fails, as Proxmox refuses to start the VM" {
	pve_host
	pci_cfg <<-'EOF'
	gpu
	    map id=10de:2204,iommugroup=4,node=pve1,path=0000:01:00,subsystem-id=1043:87b0
	EOF
	check_proxmox
	assert_equal "$status" 1
	assert_equal "$proxmox_lines" "FAIL proxmox: mapping 'gpu' (pci.cfg line 2): 0000:01:00.0 has id 10de:2206, the map 10de:2204: Proxmox refuses to start a VM with it"
}

@test "check: a different subsystem-id fails: the other maker's card of the same ID" {
	pve_host
	pci_cfg <<-'EOF'
	gpu
	    map id=10de:2206,iommugroup=4,node=pve1,path=0000:01:00.0,subsystem-id=3842:3897
	EOF
	check_proxmox
	assert_equal "$status" 1
	assert_equal "$proxmox_lines" "FAIL proxmox: mapping 'gpu' (pci.cfg line 2): 0000:01:00.0 has subsystem-id 1043:87b0, the map 3842:3897: Proxmox refuses to start a VM with it"
}

@test "check: a different iommugroup fails, of the first path only, as Proxmox checks it" {
	pve_host
	pci_cfg <<-'EOF'
	gpu
	    map id=10de:2206,iommugroup=9,node=pve1,path=0000:01:00.0,subsystem-id=1043:87b0

	either
	    map id=10de:2206,iommugroup=4,node=pve1,path=0000:01:00.0;0000:02:00.0,subsystem-id=1043:87b0
	EOF
	check_proxmox
	assert_equal "$status" 1
	# The second map's second path is another card: its group and
	# subsystem are not the first path's values Proxmox keeps for it.
	assert_equal "$proxmox_lines" "FAIL proxmox: mapping 'gpu' (pci.cfg line 2): 0000:01:00.0 has iommugroup 4, the map 9: Proxmox refuses to start a VM with it
FAIL proxmox: mapping 'either' (pci.cfg line 5): 0000:02:00.0 has subsystem-id 3842:3897, the map 1043:87b0: Proxmox refuses to start a VM with it"
}

@test "check: a key the host has and the map lacks fails, as Proxmox's 'missing expected property'; so does a device the host lacks" {
	pve_host
	pci_cfg <<-'EOF'
	gpu
	    map id=10de:2206,node=pve1,path=0000:01:00

	gone
	    map id=10de:2206,iommugroup=8,node=pve1,path=0000:08:00.0,subsystem-id=1043:87b0
	EOF
	check_proxmox
	assert_equal "$status" 1
	assert_equal "$proxmox_lines" "FAIL proxmox: mapping 'gpu' (pci.cfg line 2): 0000:01:00.0 has iommugroup 4, the map none: Proxmox refuses to start a VM with it
FAIL proxmox: mapping 'gpu' (pci.cfg line 2): 0000:01:00.0 has subsystem-id 1043:87b0, the map none: Proxmox refuses to start a VM with it
FAIL proxmox: mapping 'gone' (pci.cfg line 5): there is no 0000:08:00.0 on this host: Proxmox refuses to start a VM with it"
}

@test "check: values compare as Proxmox compares them: 0x taken out, case kept" {
	pve_host
	pci_cfg <<-'EOF'
	hex
	    map id=0x10de:0x2206,iommugroup=4,node=pve1,path=0000:01:00,subsystem-id=1043:87b0

	upper
	    map id=144D:A808,iommugroup=7,node=pve1,path=0000:03:00.0,subsystem-id=144d:a801
	EOF
	check_proxmox
	assert_equal "$status" 1
	assert_equal "$proxmox_lines" "FAIL proxmox: mapping 'upper' (pci.cfg line 5): 0000:03:00.0 has id 144d:a808, the map 144D:A808: Proxmox refuses to start a VM with it"
}

@test "check: a map Proxmox cannot parse is a WARN naming it; check --json carries the findings" {
	pve_host
	pci_cfg <<-'EOF'
	odd
	    map id=10de:2206,node=pve1,path=0000:01:00,colour=green
	EOF
	check_proxmox
	assert_equal "$status" 0
	assert_equal "$proxmox_lines" "WARN proxmox: mapping 'odd' (pci.cfg line 2): a key Proxmox does not know: Proxmox ignores the map"
	run -0 vr check --json
	run -0 jq -c '.findings[] | select(.topic == "proxmox")' <<<"$output"
	assert_output '{"level":"WARN","topic":"proxmox","message":"mapping '"'odd'"' (pci.cfg line 2): a key Proxmox does not know: Proxmox ignores the map"}'
}

@test "proxmox --check-mapping prints the lines check takes, and fails with a FAIL" {
	pve_host
	pci_cfg <<-'EOF'
	gpu
	    map id=10de:2206,iommugroup=4,node=pve1,path=0000:01:00,subsystem-id=1043:87b1
	EOF
	run -1 vr proxmox --check-mapping
	assert_output "FAIL proxmox: mapping 'gpu' (pci.cfg line 2): 0000:01:00.0 has subsystem-id 1043:87b0, the map 1043:87b1: Proxmox refuses to start a VM with it"
}

@test "list shows each function's subsystem, in text and JSON" {
	pve_host
	run -0 vr list
	assert_line --index 0 --regexp '^ADDRESS +ID +SUBSYSTEM +CLASS '
	assert_line --regexp '^0000:01:00\.0  10de:2206  1043:87b0  0300 '
	assert_line --regexp '^0000:02:00\.0  10de:2206  3842:3897  0300 '
	run -0 vr list --all --json
	run -0 jq -r '.[] | "\(.address) \(.id) \(.subsystem_id)"' <<<"$output"
	assert_line "0000:01:00.1 10de:1aef 1043:87b0"
	assert_line "0000:03:00.0 144d:a808 144d:a801"
	rm "$ROOT/sys/bus/pci/devices/0000:03:00.0/subsystem_vendor"
	run -0 vr list --all --json
	run -0 jq -c '.[] | select(.address == "0000:03:00.0") | .subsystem_id' <<<"$output"
	assert_output null
}
