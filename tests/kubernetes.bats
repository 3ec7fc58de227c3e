#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# nfd and kubevirt (kubernetes/): exact output on fixture hosts, every NFD
# line checked against the label syntax Kubernetes documents and NFD's file
# size limit, the feature file replaced whole, and the KubeVirt stanza read
# back by a YAML parser (Debian's python3-yaml) and by jq.

load test_helper

NS=vfio-reserve.feature.node.kubernetes.io
# kubernetes.io, "Labels and Selectors", syntax and character set: a name
# (and a value, which may also be empty) of at most 63 characters, this
# pattern; a prefix that is a DNS subdomain of at most 253.
LABEL_RE='^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$'
DNS_LABEL='[a-z0-9]([-a-z0-9]*[a-z0-9])?'
SUBDOMAIN_RE="^$DNS_LABEL(\\.$DNS_LABEL)*\$"
# NFD's customization guide: a feature file over 64 kB is ignored
# (MaxFeatureFileSize = 65536 in source/local).
NFD_MAX=65536

# assert_feature_file FILE: every line a comment or prefix/name=value with
# each part as documented, and the file within NFD's limit.
assert_feature_file() {
	local line key value prefix name n=0
	while IFS= read -r line; do
		n=$((n + 1))
		[[ $line == '#'* ]] && continue
		[[ $line == *=* ]] || fail "line $n has no '=': $line"
		key=${line%%=*} value=${line#*=}
		[[ $key == */* ]] || fail "line $n has no namespace: $line"
		prefix=${key%/*} name=${key##*/}
		[[ $prefix =~ $SUBDOMAIN_RE && ${#prefix} -le 253 ]] || fail "line $n: bad prefix: $line"
		[[ -n $name && $name =~ $LABEL_RE && ${#name} -le 63 ]] || fail "line $n: bad name: $line"
		[[ $value =~ $LABEL_RE && ${#value} -le 63 ]] || fail "line $n: bad value: $line"
	done <"$1"
	(($(wc -c <"$1") <= NFD_MAX)) || fail "$1: $(wc -c <"$1") bytes, over NFD's $NFD_MAX"
}

# A boot with the words given on the command line (apply --boot writes the
# boot report the kill-switch label reads).
boot_with() {
	mkdir -p "$ROOT/dev"
	: >"$ROOT/dev/kmsg"
	echo "BOOT_IMAGE=/boot/vmlinuz-6.1.0-test root=/dev/sda1 ro intel_iommu=on iommu=pt $*" >"$ROOT/proc/cmdline"
	vr apply --boot
}

@test "nfd: the reserved functions in total and per vendor:device, after a boot" {
	two_cards
	config <<<'01:00.0 1234:1111'
	boot_with quiet
	run -0 --separate-stderr vr nfd
	assert_equal "$stderr" ""
	assert_output "# vfio-reserve(8) nfd: what $CONF reserves on this node; replaced whole, do not edit
$NS/reserved=2
$NS/not-reserved=0
$NS/kill-switch=false
$NS/pci-1234-1111.reserved=1
$NS/pci-8086-2668.reserved=1"
	vr nfd >"$BATS_TEST_TMPDIR/features"
	assert_feature_file "$BATS_TEST_TMPDIR/features"
}

@test "nfd: the kill switch at the last boot, and no boot report at all" {
	two_cards
	config <<<'01:00.0 1234:1111'
	run -0 vr nfd
	assert_line "$NS/kill-switch=unknown"
	assert_line "$NS/not-reserved=2"
	boot_with rd.vfio_reserve=Off
	run -0 vr nfd
	assert_output "# vfio-reserve(8) nfd: what $CONF reserves on this node; replaced whole, do not edit
$NS/reserved=0
$NS/not-reserved=2
$NS/kill-switch=true
$NS/pci-1234-1111.reserved=0
$NS/pci-8086-2668.reserved=0"
	vr nfd >"$BATS_TEST_TMPDIR/features"
	assert_feature_file "$BATS_TEST_TMPDIR/features"
}

@test "nfd: pci.ids names become label-safe values: no space, bracket or slash, alphanumeric ends, 63 at most" {
	two_cards
	config <<<'01:00.0 1234:1111'
	mkdir -p "$ROOT/usr/share/hwdata"
	printf '%s\n' '1234  Technical Corp.' \
		$'\t1111  [QEMU] Virtual / Video Controller (rev 2) with a name far longer than sixty-three characters' \
		'8086  Intel Corporation' $'\t2668  82801FB/FBM/FR/FW/FRW (ICH6 Family) High Definition Audio Controller' \
		>"$ROOT/usr/share/hwdata/pci.ids"
	boot_with
	run -0 vr nfd
	assert_line "$NS/pci-1234-1111.name=Technical-Corp.-QEMU-Virtual-Video-Controller-rev-2-with-a-name"
	assert_line "$NS/pci-8086-2668.name=Intel-Corporation-82801FB-FBM-FR-FW-FRW-ICH6-Family-High-Defini"
	vr nfd >"$BATS_TEST_TMPDIR/features"
	assert_feature_file "$BATS_TEST_TMPDIR/features"
}

# 60 devices of 8 functions, each function its own ID with a long name:
# 480 IDs, about 90 kB of labels.  Built in a bash of its own: bats traps
# every command of its own shell, and make_sysfs's loops take minutes there
# instead of seconds.
many_ids_host() {
	bash -c '
		. "$1"
		for ((bus = 1; bus <= 60; bus++)); do
			for ((fn = 0; fn < 8; fn++)); do
				printf "%02x:00.%d 10de:%04x 038000 %d vfio-pci - -\n" \
					"$bus" "$fn" $((0x1000 + bus * 8 + fn)) "$bus"
			done
		done | make_sysfs "$2"
		mkdir -p "$2/usr/share/hwdata" "$2/run"
		{
			echo "10de  NVIDIA Corporation"
			for ((id = 0x1008; id < 0x1000 + 61 * 8; id++)); do
				printf "\t%04x  GA102GL [Accelerator %d] / a model name as long as NVIDIA writes them\n" "$id" "$id"
			done
		} >"$2/usr/share/hwdata/pci.ids"
		for ((bus = 1; bus <= 60; bus++)); do
			printf "%02x:00.0\n" "$bus"
		done >"$2/etc/vfio-reserve.conf"
	' _ "$BATS_TEST_DIRNAME/lib/fixture.bash" "$ROOT"
	debian_boot
}

@test "nfd: labels that would pass NFD's 64 kB are left out from the last ID on, and a label and a warning say how many" {
	many_ids_host
	run -0 --separate-stderr vr nfd
	assert_line --index 1 "$NS/reserved=480"
	assert_line --index 2 "$NS/not-reserved=0"
	assert_line --index 3 "$NS/kill-switch=unknown"
	assert_line --index 4 "$NS/pci-10de-1008.reserved=1"
	assert_line --index 5 "$NS/pci-10de-1008.name=NVIDIA-Corporation-GA102GL-Accelerator-4104-a-model-name-as-lon"
	[[ ${lines[-1]} =~ ^$NS/pci-ids-left-out=([0-9]+)$ ]] || fail "no left-out label: ${lines[-1]}"
	left=${BASH_REMATCH[1]}
	# Each ID whole: its two labels, the last before the left-out label.
	assert_equal "$(grep -c '\.reserved=1$' <<<"$output")" $((480 - left))
	assert_equal "$(grep -c '\.name=' <<<"$output")" $((480 - left))
	assert_equal "$stderr" "vfio-reserve: nfd: $left of 480 vendor:device IDs left out: NFD ignores a feature file over 65536 bytes"
	mkdir "$BATS_TEST_TMPDIR/features.d"
	run -0 vr nfd --write="$BATS_TEST_TMPDIR/features.d"
	assert_feature_file "$BATS_TEST_TMPDIR/features.d/vfio-reserve"
	# As full as NFD allows: one more ID would not have fitted.
	(($(wc -c <"$BATS_TEST_TMPDIR/features.d/vfio-reserve") > NFD_MAX - 200))
}

@test "nfd --write=DIR replaces DIR/vfio-reserve whole: a new file renamed over the old, no temporary left" {
	two_cards
	config <<<'01:00.0 1234:1111'
	dir=$BATS_TEST_TMPDIR/features.d
	mkdir "$dir"
	echo "$NS/reserved=99" >"$dir/vfio-reserve"
	# A reader that has the old file open (a hard link stands for it)
	# keeps reading all of the old labels, never a mix.
	ln "$dir/vfio-reserve" "$BATS_TEST_TMPDIR/reader"
	old_inode=$(stat -c %i "$dir/vfio-reserve")
	run -0 --separate-stderr vr nfd --write="$dir"
	assert_equal "$output$stderr" ""
	assert_equal "$(cat "$BATS_TEST_TMPDIR/reader")" "$NS/reserved=99"
	[ "$(stat -c %i "$dir/vfio-reserve")" != "$old_inode" ]
	assert_equal "$(cat "$dir/vfio-reserve")" "$(vr nfd)"
	assert_equal "$(stat -c %a "$dir/vfio-reserve")" 644
	assert_equal "$(ls -A "$dir")" vfio-reserve
	assert_feature_file "$dir/vfio-reserve"
}

@test "nfd --write: a directory that is not there or not one is named in the error, and nothing is written" {
	two_cards
	config <<<'01:00.0 1234:1111'
	top=$BATS_TEST_TMPDIR/top
	mkdir "$top"
	: >"$top/plain"
	run -1 --separate-stderr vr nfd --write="$top/missing"
	assert_equal "$stderr" "vfio-reserve: nfd: $top/missing: No such file or directory"
	assert_equal "$output" ""
	run -1 --separate-stderr vr nfd --write="$top/plain"
	assert_equal "$stderr" "vfio-reserve: nfd: $top/plain: Not a directory"
	assert_equal "$(cd "$top" && find . -printf '%p %y\n' | sort)" ". d
./plain f"
	run -2 --separate-stderr vr nfd --write=
	assert_equal "$stderr" "vfio-reserve: --write= needs a directory (see 'vfio-reserve --help')"
	run -2 --separate-stderr vr nfd --write
	assert_equal "$stderr" "vfio-reserve: --write needs a value (see 'vfio-reserve --help')"
}

@test "nfd --write: a rename that fails leaves the old file and no temporary, and names the file" {
	two_cards
	config <<<'01:00.0 1234:1111'
	dir=$BATS_TEST_TMPDIR/features.d
	mkdir -p "$dir/vfio-reserve"
	: >"$dir/vfio-reserve/keep"
	run -1 --separate-stderr vr nfd --write="$dir"
	assert_equal "$stderr" "vfio-reserve: nfd: cannot write $dir/vfio-reserve: Is a directory"
	assert_equal "$(cd "$dir" && find . | sort | tr '\n' ' ')" ". ./vfio-reserve ./vfio-reserve/keep "
}

@test "nfd: a broken config still labels what the good rules reserve, and exits 2" {
	two_cards
	config <<<$'01:00.0 1234:1111\n02:00.0 forse'
	boot_with
	run -2 --separate-stderr vr nfd
	assert_line "$NS/reserved=2"
	assert_equal "$stderr" "vfio-reserve: $CONF:2: unknown option 'forse'"
}

# kubevirt --------------------------------------------------------------

# kubevirt_check FILE.json: the stanza as the KubeVirt API documents it
# (V1PciHostDevice: pciVendorSelector "vendor_id:product_id", resourceName,
# externalResourceProvider), each selector its own, in jq.
kubevirt_check() {
	jq -e '
		(keys == ["spec"]) and (.spec | keys == ["configuration"]) and
		(.spec.configuration | keys == ["permittedHostDevices"]) and
		(.spec.configuration.permittedHostDevices | keys == ["pciHostDevices"]) and
		(.spec.configuration.permittedHostDevices.pciHostDevices | type == "array") and
		all(.spec.configuration.permittedHostDevices.pciHostDevices[];
			(keys == ["externalResourceProvider", "pciVendorSelector", "resourceName"]) and
			(.pciVendorSelector | type == "string" and test("^[0-9a-f]{4}:[0-9a-f]{4}$")) and
			(.resourceName | type == "string" and
				test("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$") and
				(split("/")[1] | length <= 63)) and
			(.externalResourceProvider == false)) and
		([.spec.configuration.permittedHostDevices.pciHostDevices[].pciVendorSelector] | length == (unique | length))
	' "$1" >/dev/null
}

# The YAML as a YAML 1.1 parser reads it (PyYAML, as kubectl's users
# meet it), printed back as JSON.
yaml_to_json() {
	/usr/bin/python3 -c 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'
}

@test "kubevirt: the stanza for the IDs the rules reserve, and the identical card KubeVirt cannot tell apart" {
	two_cards
	config <<<'01:00.0 1234:1111'
	run -0 --separate-stderr vr kubevirt
	assert_output "# vfio-reserve(8) kubevirt: the IDs $CONF reserves for vfio-pci
spec:
  configuration:
    permittedHostDevices:
      pciHostDevices:
      - pciVendorSelector: \"1234:1111\"
        resourceName: devices.kubevirt.io/pci-1234-1111
        externalResourceProvider: false
      - pciVendorSelector: \"8086:2668\"
        resourceName: devices.kubevirt.io/pci-8086-2668
        externalResourceProvider: false"
	assert_equal "$stderr" "vfio-reserve: kubevirt: 1234:1111 also fits 0000:00:01.0, 0000:02:00.0, which the rules do not reserve: KubeVirt tells devices apart by vendor:device alone, and offers any of them that is on vfio-pci as devices.kubevirt.io/pci-1234-1111
vfio-reserve: kubevirt: 8086:2668 also fits 0000:02:00.1, which the rules do not reserve: KubeVirt tells devices apart by vendor:device alone, and offers any of them that is on vfio-pci as devices.kubevirt.io/pci-8086-2668"
	vr kubevirt 2>/dev/null | yaml_to_json >"$BATS_TEST_TMPDIR/yaml.json"
	kubevirt_check "$BATS_TEST_TMPDIR/yaml.json"
	run -0 --separate-stderr vr kubevirt --json
	assert_output '{"spec":{"configuration":{"permittedHostDevices":{"pciHostDevices":[{"pciVendorSelector":"1234:1111","resourceName":"devices.kubevirt.io/pci-1234-1111","externalResourceProvider":false},{"pciVendorSelector":"8086:2668","resourceName":"devices.kubevirt.io/pci-8086-2668","externalResourceProvider":false}]}}}}'
	assert_equal "${stderr%%$'\n'*}" "vfio-reserve: kubevirt: 1234:1111 also fits 0000:00:01.0, 0000:02:00.0, which the rules do not reserve: KubeVirt tells devices apart by vendor:device alone, and offers any of them that is on vfio-pci as devices.kubevirt.io/pci-1234-1111"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/stanza.json"
	kubevirt_check "$BATS_TEST_TMPDIR/stanza.json"
	# The YAML and the JSON say the same.
	run -0 jq -e --slurpfile y "$BATS_TEST_TMPDIR/yaml.json" '. == $y[0]' "$BATS_TEST_TMPDIR/stanza.json"
}

@test "kubevirt: every function of an ID reserved: no warning; pci-stub rules are no KubeVirt device" {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm 1 -
	00:02.0 1b36:000c 060400 2 pcieport  - -
	01:00.0 10de:2204 030000 3 nouveau   - 00:02.0
	01:00.1 10de:1aef 040300 3 snd_hda_intel - 00:02.0
	02:00.0 8086:1533 020000 4 igb       - -
	driver vfio-pci
	DESC
	config <<-'EOF'
	01:00.0 10de:2204
	02:00.0 8086:1533 driver=pci-stub
	EOF
	run -0 --separate-stderr vr kubevirt
	assert_equal "$stderr" ""
	vr kubevirt | yaml_to_json >"$BATS_TEST_TMPDIR/yaml.json"
	run -0 jq -c '.spec.configuration.permittedHostDevices.pciHostDevices | map(.pciVendorSelector)' "$BATS_TEST_TMPDIR/yaml.json"
	assert_output '["10de:2204","10de:1aef"]'
	kubevirt_check "$BATS_TEST_TMPDIR/yaml.json"
}

@test "kubevirt: two identical cards, one reserved: a warning names the other by address" {
	host <<-'DESC'
	00:01.0 1234:1111 030000 1 bochs-drm 1 -
	00:02.0 1b36:000c 060400 2 pcieport  - -
	00:03.0 1b36:000c 060400 3 pcieport  - -
	01:00.0 10de:2204 030000 4 nouveau   - 00:02.0
	02:00.0 10de:2204 030000 5 nouveau   - 00:03.0
	driver vfio-pci
	DESC
	config <<<'02:00.0 10de:2204'
	run -0 --separate-stderr vr kubevirt --json
	assert_equal "$stderr" "vfio-reserve: kubevirt: 10de:2204 also fits 0000:01:00.0, which the rules do not reserve: KubeVirt tells devices apart by vendor:device alone, and offers any of them that is on vfio-pci as devices.kubevirt.io/pci-10de-2204"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/stanza.json"
	kubevirt_check "$BATS_TEST_TMPDIR/stanza.json"
}

@test "kubevirt: a dozen identical cards, one reserved: the warning names eight and counts the rest" {
	for ((bus = 1; bus <= 12; bus++)); do
		printf '%02x:00.0 10de:2204 030000 %d nouveau - -\n' "$bus" "$bus"
	done | host
	config <<<'0c:00.0 10de:2204'
	run -0 --separate-stderr vr kubevirt
	assert_equal "$stderr" "vfio-reserve: kubevirt: 10de:2204 also fits 0000:01:00.0, 0000:02:00.0, 0000:03:00.0, 0000:04:00.0, 0000:05:00.0, 0000:06:00.0, 0000:07:00.0, 0000:08:00.0 and 3 more, which the rules do not reserve: KubeVirt tells devices apart by vendor:device alone, and offers any of them that is on vfio-pci as devices.kubevirt.io/pci-10de-2204"
}

@test "kubevirt: no rule for vfio-pci: an empty list, in YAML and JSON" {
	two_cards
	config </dev/null
	run -0 --separate-stderr vr kubevirt
	assert_equal "$stderr" ""
	assert_line --index 4 "      pciHostDevices: []"
	vr kubevirt | yaml_to_json >"$BATS_TEST_TMPDIR/yaml.json"
	kubevirt_check "$BATS_TEST_TMPDIR/yaml.json"
	run -0 jq -c . "$BATS_TEST_TMPDIR/yaml.json"
	assert_output '{"spec":{"configuration":{"permittedHostDevices":{"pciHostDevices":[]}}}}'
	run -0 vr kubevirt --json
	assert_output '{"spec":{"configuration":{"permittedHostDevices":{"pciHostDevices":[]}}}}'
}
