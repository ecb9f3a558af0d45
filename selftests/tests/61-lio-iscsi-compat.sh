#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# LIO over iSCSI on 127.0.0.1: libiscsi's iscsi-test-cu (with --dataloss)
# against an iblock LUN on plain dm-linear over a ramdisk (the baseline) and
# against a replica sync mirror exported by `replicactl export --fabric
# iscsi`.  Every test that passes on dm-linear must pass on the replica; the
# comparison is printed.  Suites: LIO_SUITES (space separated), run in
# pairs (baseline, replica) until LIO_BUDGET seconds (default 60) are
# spent; suites left out for time are named in the log.
# timeout: 400
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/replicactl-lib.sh"
. "$SELFTESTS_DIR/lio-lib.sh"

require_cmd iscsi-test-cu ip
lio_require iscsi_target_mod crc32c
defer lio_cleanup
ip link set lo up

# Under TCG on a loaded 2-core machine a whole suite takes 15-90 s per LUN
# (Read10 25, Write10 35, Verify10 90, WriteSame10 70, Unmap 18,
# CompareAndWrite 55, ReadCapacity16 2), so the default is a few single
# tests; LIO_SUITES="SCSI.Read10 SCSI.Write10 ..." LIO_BUDGET=900 for more.
SUITES=${LIO_SUITES:-SCSI.ReadCapacity16 SCSI.Unmap SCSI.Write10.Simple SCSI.Read10.Simple SCSI.WriteSame10.Unmap SCSI.CompareAndWrite.Unwritten}
BUDGET=${LIO_BUDGET:-60}

# baseline: dm-linear over a ramdisk, exported with raw configfs
LEG=$(ramdisk 32M)
SZ=$(sectors "$LEG")
dm_create lin0 "0 $SZ linear $LEG 0"
BIQN=iqn.2024-11.org.dm-replica.test:baseline
B=$LIO/core/iblock_91/baseline
mkdir -p "$B"
echo "udev_path=/dev/mapper/lin0" > "$B/control"
echo 1 > "$B/enable"
if [[ $(cat /sys/block/dm-$(( $(dmsetup info -c --noheadings -o minor lin0) ))/queue/discard_max_bytes) != 0 ]]; then
	echo 1 > "$B/attrib/emulate_tpu"
	echo 1 > "$B/attrib/emulate_tpws"
fi
T=$LIO/iscsi/$BIQN/tpgt_1
mkdir -p "$T/lun/lun_0"
ln -s "$B" "$T/lun/lun_0/baseline"
mkdir "$T/np/127.0.0.1:3260"
echo 0 > "$T/attrib/authentication"
echo 1 > "$T/attrib/generate_node_acls"
echo 1 > "$T/attrib/cache_dynamic_acls"
echo 0 > "$T/attrib/demo_mode_write_protect"
echo 1 > "$T/enable"
BURL=iscsi://127.0.0.1:3260/$BIQN/0

# the replica: a sync mirror over a ramdisk the same size, through the helper
SRC=$(ramdisk 32M)
defer rctl_cleanup
defer lio_cleanup	# runs first: LIO holds the devices
rctl create-element-replica --sync-type mirror --mode sync --source-element "$SRC" \
	--target-pool "dir:$POOL" --element-name im --wait-for-copy-state synchronized --timeout 60
skip_if_unsupported
[[ $(rv) == 0 ]] || fail "create: ReturnValue $(rv): $(cat "$TEST_TMP/rctl.err")"
TGT=$(jstr DeviceID)
expect_rv 0 export --synchronization im --fabric iscsi
RURL=$(jstr URL)
assert_match "$RURL" '^iscsi://127\.0\.0\.1:3260/iqn\.2024-11\.org\.dm-replica:im/0$' "URL"
RBS=$(jstr Backstore)
for a in emulate_tpu emulate_tpws unmap_zeroes_data max_unmap_lba_count max_write_same_len emulate_caw; do
	log "attrib $a: baseline $(cat "$B/attrib/$a") replica $(cat "$LIO/core/$RBS/attrib/$a")"
done

# run_suite URL SUITE OUT: one iscsi-test-cu run; writes "Suite.Test passed|FAILED" lines
run_suite() {
	local url=$1 suite=$2 out=$3 rc=0
	( cd "$TEST_TMP" && timeout 120 iscsi-test-cu --dataloss --test="$suite" "$url" ) \
		> "$out.raw" 2>&1 || rc=$?
	awk '/^Suite: /{s=$2} /Test: [^ ]+ \.\.\./{match($0,/Test: [^ ]+/); t=substr($0,RSTART+6,RLENGTH-6); pend=1}
	     pend && /(\.\.\.|^)(passed|FAILED)/ {r=($0 ~ /FAILED/)?"FAILED":"passed"; print s "." t, r; pend=0}' \
		"$out.raw" > "$out"
	[[ -s $out ]] || { cat "$out.raw"; log "iscsi-test-cu $suite on $url: no results (exit $rc)"; }
	return 0
}

declare -A base rep
compared=() left=()
start=$SECONDS
for s in $SUITES; do
	if ((SECONDS - start > BUDGET)); then
		left+=("$s")
		continue
	fi
	t0=$SECONDS
	run_suite "$BURL" "$s" "$TEST_TMP/b.$s"
	t1=$SECONDS
	run_suite "$RURL" "$s" "$TEST_TMP/r.$s"
	log "$s: baseline $((t1 - t0)) s, replica $((SECONDS - t1)) s"
	while read -r t r; do base[$t]=$r; done < "$TEST_TMP/b.$s"
	while read -r t r; do rep[$t]=$r; done < "$TEST_TMP/r.$s"
	compared+=("$s")
done
((${#compared[@]})) || skip "no iscsi-test-cu suite ran within ${BUDGET} s"
((${#base[@]})) || fail "iscsi-test-cu produced no results on the baseline"

bad=0
printf '# %-44s %-8s %-8s\n' test dm-linear replica
for t in $(printf '%s\n' "${!base[@]}" | sort); do
	b=${base[$t]} r=${rep[$t]:-missing}
	mark=
	[[ $b == passed && $r != passed ]] && mark=" <-- REGRESSION" && bad=$((bad + 1))
	printf '# %-44s %-8s %-8s%s\n' "$t" "$b" "$r" "$mark"
done
log "compared: ${compared[*]}"
((${#left[@]} == 0)) || log "not run (time budget ${BUDGET} s): ${left[*]}"
npass=$(printf '%s\n' "${base[@]}" | grep -c passed || true)
log "$npass of ${#base[@]} tests pass on dm-linear; $bad of them fail on the replica"
((bad == 0)) || fail "$bad iscsi-test-cu tests pass on dm-linear but not on replica"

# the mirror's legs are still equal after all that
wait_copy_state im 4 60
assert_eq "$(sha256_dev "$SRC" "$SZ")" "$(sha256_dev "$TGT" "$SZ")" "source leg == target leg"
