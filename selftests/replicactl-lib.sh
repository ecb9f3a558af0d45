# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# selftests/replicactl-lib.sh: helpers for the replicactl selftests
# (tests/50-replicactl-*.sh).  Source it after lib.sh.
#
#   rctl ARGS...        run `replicactl --json ARGS`; output in $OUT, exit status
#                       in $RC; never fails the test by itself
#   expect_rv RV ARGS...  rctl, and fail unless ReturnValue is RV
#   rv / jstr KEY / jnum KEY   ReturnValue / first string / first number of KEY
#   job_of              the Job InstanceID of the last output
#   skip_if_unsupported skip the test when the last request returned 1
#   wait_copy_state SYNC STATE SECS   poll until the relationship is in STATE
#   dm_type NAME        target type of the device's (first) table line
#   rctl_cleanup        remove every device/loop replicactl made (call
#                       `defer rctl_cleanup` after making the test's devices)

RCTL=${RCTL:-$REPO/userspace/replicactl}
[[ -x $RCTL ]] || skip "userspace/replicactl is not built (make -C userspace)"
export REPLICACTL_STATE_DIR=$TEST_TMP/state
POOL=$TEST_TMP/pool
mkdir -p "$POOL"
OUT=
RC=0

rctl() {
	if OUT=$("$RCTL" --json "$@" 2>"$TEST_TMP/rctl.err"); then RC=0; else RC=$?; fi
	log "replicactl $* -> exit $RC, ReturnValue $(rv) $(head -c 200 "$TEST_TMP/rctl.err")"
}

rv() { grep -o '"ReturnValue":[0-9]*' <<<"$OUT" | head -n1 | cut -d: -f2; }
jstr() { grep -o "\"$1\":\"[^\"]*\"" <<<"$OUT" | head -n1 | cut -d'"' -f4; }
jnum() { grep -o "\"$1\":[0-9]*" <<<"$OUT" | head -n1 | cut -d: -f2; }
job_of() { grep -o '"InstanceID":"DMREPLICA:job:[^"]*"' <<<"$OUT" | head -n1 | cut -d'"' -f4; }

expect_rv() {
	local want=$1
	shift
	rctl "$@"
	if [[ $(rv) != "$want" ]]; then
		echo "$OUT" >&2
		fail "replicactl $*: ReturnValue $(rv), want $want: $(cat "$TEST_TMP/rctl.err")"
	fi
	# the exit status carries the result class (0 for 0 and 4096)
	case $want in
	0|4096) assert_eq "$RC" 0 "exit status of replicactl $1" ;;
	*) assert_eq "$RC" "$want" "exit status of replicactl $1" ;;
	esac
}

skip_if_unsupported() {
	[[ $(rv) != 1 ]] || skip "not supported by the loaded module: $(cat "$TEST_TMP/rctl.err")"
}

dm_type() { dmsetup table "$1" | head -n1 | cut -d' ' -f3; }

_in_state() {
	rctl get-replication-relationships --element "$1" >/dev/null
	[[ $(jnum CopyState) == "$2" ]]
}
wait_copy_state() { wait_for "$3" _in_state "$1" "$2"; }

rctl_cleanup() {
	local role name uuid f
	for role in view front real; do
		dmsetup info -c --noheadings -o name,uuid --separator ' ' 2>/dev/null |
		while read -r name uuid; do
			[[ $uuid == DMREPLICA-*-$role ]] || continue
			dmsetup remove --retry "$name" 2>/dev/null || echo "cleanup: $name busy" >&2
		done
	done
	for f in "$POOL"/*.img; do
		[[ -e $f ]] || continue
		losetup -j "$f" | cut -d: -f1 | while read -r d; do losetup -d "$d"; done
	done
}
