# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# selftests/lio-lib.sh: helpers for the LIO export tests (tests/60-lio-*.sh).
# Source it after lib.sh (and replicactl-lib.sh).
#
#   lio_require [MOD...]   load configfs, target_core_mod, target_core_iblock,
#                          sd_mod and MOD... (tcm_loop, iscsi_target_mod ...);
#                          skip the test with the reason when one is missing
#   lio_cleanup            remove every LIO object left behind (fabric LUNs,
#                          targets, backstores); `defer lio_cleanup`
#   lio_backstores         "iblock_N/NAME" of every iblock backstore, one a line
#   lio_targets            "<fabric>/<wwn>" of every fabric target, one a line
#   scsi_write10 DEV LBA   send one WRITE(10) of a zero block with SG_IO (past
#                          the block layer's read-only checks); prints the
#                          SCSI status and sense key; fails when refused
#   scsi_wc DEV            /sys/block/<dev>/queue/write_cache ("write back" ...)
#   scsi_sync_cache DEV    send SYNCHRONIZE CACHE(10) (whole device) with
#                          SG_IO; prints the SCSI status; fails unless GOOD
#   lio_iblock HBA NAME DEV   an iblock backstore made with raw configfs (as
#                          targetcli would), UNMAP/WRITE SAME(unmap) on when
#                          DEV takes discards; prints its configfs directory
#   lio_iscsi_lun IQN BSDIR   an open iSCSI target (no auth, generated ACLs,
#                          writable) on 127.0.0.1:3260 with BSDIR as LUN 0;
#                          prints its iscsi:// URL
#   lio_loop_lun BSDIR     a tcm_loop target with BSDIR as LUN 0; prints the
#                          new SCSI disk (/dev/sdX)
#   iscsi_cu URL TESTS OUT  one `iscsi-test-cu --dataloss` run of TESTS (comma
#                          separated FAMILY.SUITE.TEST patterns, at most one
#                          per suite: a second pattern of the same suite is
#                          dropped by CUnit) against URL; writes
#                          "Suite.Test passed|FAILED" lines to OUT, the raw
#                          output (with per-line times) to OUT.raw
#   initiator_start        open-iscsi in the VM: a tmpfs /etc/iscsi with an
#                          initiator name, iscsi_tcp, iscsid (stopped, all
#                          sessions logged out, at exit); skips when missing
#   iscsi_login IQN        discovery + login on 127.0.0.1:3260; prints the
#                          session's SCSI disk

LIO=/sys/kernel/config/target

lio_require() {
	local m
	# no udev and no kernel module autoload in the VM: load everything here
	for m in configfs target_core_mod target_core_iblock sd_mod "$@"; do
		modprobe -q "$m" 2>/dev/null || skip "kernel module $m not available"
	done
	mountpoint -q /sys/kernel/config ||
		mount -t configfs none /sys/kernel/config 2>/dev/null ||
		skip "cannot mount configfs"
	[[ -d $LIO/core ]] || skip "LIO configfs tree $LIO/core missing"
}

lio_backstores() {
	local d
	for d in "$LIO"/core/iblock_*/*/; do
		[[ -d $d && -e $d/info ]] || continue
		d=${d%/}
		echo "${d#"$LIO"/core/}"
	done
}

lio_targets() {
	local w
	for w in "$LIO"/loopback/naa.* "$LIO"/iscsi/iqn.*; do
		[[ -d $w ]] && echo "${w#"$LIO"/}"
	done
	return 0
}

_rmdirs() { local d; for d; do [[ -d $d ]] && rmdir "$d" 2>/dev/null; done; return 0; }

lio_cleanup() {
	local f w t l x
	for f in "$LIO"/*/; do
		f=${f%/}
		[[ ${f##*/} == core ]] && continue
		for w in "$f"/*/; do
			for t in "${w%/}"/tpgt_*; do
				[[ -d $t ]] || continue
				[[ -e $t/enable ]] && echo 0 > "$t/enable" 2>/dev/null
				for l in "$t"/acls/*/lun_*; do
					for x in "$l"/*; do [[ -L $x ]] && rm -f "$x"; done
					_rmdirs "$l"
				done
				_rmdirs "$t"/acls/*
				for l in "$t"/lun/lun_*; do
					for x in "$l"/*; do [[ -L $x ]] && rm -f "$x"; done
					_rmdirs "$l"
				done
				_rmdirs "$t"/np/*
				_rmdirs "$t"
			done
			[[ ${w%/} == */discovery_auth ]] || _rmdirs "${w%/}"
		done
	done
	for x in "$LIO"/core/iblock_*/*/; do _rmdirs "${x%/}"; done
	_rmdirs "$LIO"/core/iblock_*
	return 0
}

scsi_wc() { cat "/sys/block/${1#/dev/}/queue/write_cache"; }

# scsi_write10 DEV LBA / scsi_sync_cache DEV: one SCSI command through SG_IO
# (selftests/sg-cmd.py)
scsi_write10() { python3 "$SELFTESTS_DIR/sg-cmd.py" write10 "$1" "$2"; }
scsi_sync_cache() { python3 "$SELFTESTS_DIR/sg-cmd.py" sync-cache "$1"; }

lio_iblock() {
	local hba=${1:?lio_iblock HBA NAME DEV} name=${2:?} dev=${3:?} d mm
	d=$LIO/core/iblock_$hba/$name
	mkdir -p "$d"
	echo "udev_path=$dev" > "$d/control"
	echo "$dev" > "$d/udev_path"
	echo 1 > "$d/enable"
	mm=$(stat -L -c '%t:%T' "$dev")
	if [[ $(cat "/sys/dev/block/$((16#${mm%:*})):$((16#${mm#*:}))/queue/discard_max_bytes") != 0 ]]; then
		echo 1 > "$d/attrib/emulate_tpu"
		echo 1 > "$d/attrib/emulate_tpws"
	fi
	echo "$d"
}

lio_iscsi_lun() {
	local iqn=${1:?lio_iscsi_lun IQN BSDIR} bs=${2:?} t
	t=$LIO/iscsi/$iqn/tpgt_1
	mkdir -p "$t/lun/lun_0"
	ln -s "$bs" "$t/lun/lun_0/${bs##*/}"
	mkdir "$t/np/127.0.0.1:3260"
	echo 0 > "$t/attrib/authentication"
	echo 1 > "$t/attrib/generate_node_acls"
	echo 1 > "$t/attrib/cache_dynamic_acls"
	echo 0 > "$t/attrib/demo_mode_write_protect"
	echo 1 > "$t/enable"
	echo "iscsi://127.0.0.1:3260/$iqn/0"
}

lio_loop_lun() {
	local bs=${1:?lio_loop_lun BSDIR} w t addr d
	w=naa.5001405$(printf '%09x' $((RANDOM * 32768 + RANDOM)))
	t=$LIO/loopback/$w/tpgt_1
	mkdir -p "$t/lun/lun_0"
	echo "naa.5001405$(printf '%09x' $((RANDOM * 32768 + RANDOM)))" > "$t/nexus"
	ln -s "$bs" "$t/lun/lun_0/${bs##*/}"
	addr=$(cat "$t/address")
	wait_for 20 eval "[[ -d /sys/bus/scsi/devices/$addr:0/block ]]" ||
		fail "no SCSI disk for tcm_loop $addr:0"
	d=$(ls "/sys/bus/scsi/devices/$addr:0/block")
	wait_for 10 test -b "/dev/$d"
	echo "/dev/$d"
}

iscsi_cu() {
	local url=${1:?iscsi_cu URL TESTS OUT} tests=${2:?} out=${3:?} rc=0
	( cd "$TEST_TMP" && timeout "${ISCSI_CU_TIMEOUT:-600}" stdbuf -oL \
		iscsi-test-cu --dataloss --test="$tests" "$url" 2>&1 ) |
		while IFS= read -r l; do printf '%s %s\n' "${EPOCHREALTIME/./}" "$l"; done \
		> "$out.raw" || rc=$?
	# "<time> Suite: X", "<time>   Test: Y ...passed", or "...FAILED" on a
	# later line after the test's own messages; a test's time is from the
	# previous result (or the start) to its own
	awk '{ t = $1; sub(/^[0-9]+ /, "") }
	     NR == 1 {last = t}
	     /^Suite: /{s=$2}
	     /Test: [^ ]+ \.\.\./{match($0,/Test: [^ ]+/); n=substr($0,RSTART+6,RLENGTH-6); pend=1}
	     pend && /(\.\.\.|^)(passed|FAILED)/ {r=($0 ~ /FAILED/)?"FAILED":"passed"; printf "%s.%s %s %.1f\n", s, n, r, (t - last) / 1e6; last=t; pend=0}' \
		"$out.raw" > "$out"
	[[ -s $out ]] || { cat "$out.raw"; log "iscsi-test-cu on $url: no results (exit $rc)"; }
	return 0
}

# --- open-iscsi initiator ------------------------------------------------------
ISCSID_PID=

_initiator_stop() {
	iscsiadm -m node --logoutall=all >/dev/null 2>&1
	[[ -n $ISCSID_PID ]] && kill "$ISCSID_PID" 2>/dev/null
	[[ -n $ISCSID_PID ]] && wait_for 10 eval "! kill -0 $ISCSID_PID"
	umount /etc/iscsi 2>/dev/null
	return 0
}

initiator_start() {
	local conf m
	command -v iscsid >/dev/null && command -v iscsiadm >/dev/null ||
		skip "open-iscsi (iscsid, iscsiadm) not installed (scripts/deps)"
	for m in scsi_transport_iscsi libiscsi libiscsi_tcp iscsi_tcp; do
		modprobe -q "$m" 2>/dev/null || skip "kernel module $m not available"
	done
	conf=$(cat /etc/iscsi/iscsid.conf 2>/dev/null || true)
	# the VM's root is read-only: node records go to a tmpfs
	mount -t tmpfs -o mode=0755 iscsi /etc/iscsi
	defer _initiator_stop
	printf '%s\n' "$conf" > /etc/iscsi/iscsid.conf
	echo "InitiatorName=iqn.1993-08.org.debian:01:dm-replica-selftest" \
		> /etc/iscsi/initiatorname.iscsi
	mkdir -p /run/lock/iscsi
	# its own session: on SIGTERM iscsid signals its whole process group
	setsid iscsid -f > "$TEST_TMP/iscsid.log" 2>&1 &
	ISCSID_PID=$!
	# iscsid answers iscsiadm once it is up (21: no sessions)
	wait_for 20 _iscsid_up || fail "iscsid did not start: $(cat "$TEST_TMP/iscsid.log")"
}

_iscsid_up() {
	local rc=0
	kill -0 "$ISCSID_PID" || return 1
	iscsiadm -m session >/dev/null 2>&1 || rc=$?
	((rc == 0 || rc == 21))
}

iscsi_login() {
	local iqn=${1:?iscsi_login IQN} s d
	iscsiadm -m discovery -t st -p 127.0.0.1:3260 >/dev/null ||
		fail "iSCSI discovery on 127.0.0.1 failed"
	iscsiadm -m node -T "$iqn" -p 127.0.0.1:3260 --login >/dev/null ||
		fail "iSCSI login to $iqn failed"
	for s in /sys/class/iscsi_session/session*; do
		[[ $(cat "$s/targetname") == "$iqn" ]] || continue
		wait_for 20 eval "compgen -G '$s/device/target*/*/block/*' >/dev/null" ||
			fail "no SCSI disk for the session to $iqn"
		d=$(compgen -G "$s/device/target*/*/block/*" | head -n1)
		d=/dev/${d##*/}
		wait_for 10 test -b "$d"
		echo "$d"
		return 0
	done
	fail "no iSCSI session to $iqn after login"
}
