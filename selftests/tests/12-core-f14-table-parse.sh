#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Finding 14: table lines that must be refused but load today (companion of
# 10-mirror-bad-input.sh).  Each refusal must leave nothing behind: no
# device, the metadata device unchanged (sha256 before and after), and one
# "device-mapper: table: ...: replica: <message>" kernel line.
#  - a feature count of 4294967297 (2^32 + 1: today it wraps to 1 and the
#    table loads with "nosync"): "Invalid number of feature arguments";
#  - a core-argument count of 4294967298 (wraps to 2):
#    "Invalid number of core arguments";
#  - a core key given twice (copy_rate_max 1 copy_rate_max 2): refused
#    (message mentioning the duplicate);
#  - nosync on a clone (nosync means "legs already identical", a mirror
#    notion): refused (message naming nosync);
#  - existing metadata reopened with a target device smaller than the one
#    recorded in the superblock (a mirror formatted with a 24 MiB target,
#    reopened with 16 MiB), or of any other size for a snapshot store
#    (smaller and larger: the store's slots are laid out from its size):
#    refused, message naming the target.  A mirror's target may be larger
#    than recorded (dm-replica.rst): that reopen loads.
# The kernel messages of the new refusals are matched loosely (the wording
# is the fix's); the first two reuse the existing count messages.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
. "$SELFTESTS_DIR/pit-lib.sh"
. "$SELFTESTS_DIR/mirror-lib.sh"

brd_setup 3 16M
META=${RAMDISKS[0]} SRC=${RAMDISKS[1]} TGT=${RAMDISKS[2]}
SZ=$(sectors "$SRC")
RS=128
M=$META S=$SRC T=$TGT
META_IMG=$TEST_TMP/meta.img
zero_meta() { dd if=/dev/zero of="$META" bs=4k count=2 oflag=direct status=none; }
save_meta() { save_image "$META" "$META_IMG"; META_SHA=$(sha_file "$META_IMG"); }
put_meta() { dd if="$META_IMG" of="$META" bs=1M oflag=direct status=none; }

# refuse "TABLE ARGS" REGEX [LEN]: must not load; nothing left behind
NREF=0
refuse() {
	local args=$1 want=$2 len=${3:-$SZ} line got
	NREF=$((NREF + 1))
	klog_mark
	if dmsetup create bad --table "0 $len replica $args" 2>/dev/null; then
		_register "dm bad"
		SOFT_FAILS+=("table $NREF accepted: replica $args")
		log "CHECK FAILED: table $NREF accepted: replica $args -> $(dm_status bad)"
		dm_remove bad
		put_meta
		return 0
	fi
	! dmsetup info bad >/dev/null 2>&1 ||
		{ SOFT_FAILS+=("table $NREF: device 'bad' left behind"); _register "dm bad"; dm_remove bad; }
	got=
	while IFS= read -r line; do
		[[ $line =~ device-mapper:\ table:\ [0-9]+:[0-9]+:\ replica:\ (.*)$ ]] &&
			got+="${BASH_REMATCH[1]}|"
	done < <(klog_since)
	got=${got%|}
	[[ $got =~ $want && $got != *"|"* ]] ||
		SOFT_FAILS+=("table $NREF (replica $args): kernel said '${got:-nothing}', want /$want/")
	soft_eq "$(sha256_dev "$META")" "$META_SHA" "table $NREF: sha256 of the metadata after the refusal"
	log "table $NREF refused: $got"
}

# --- fresh (zeroed) metadata: a refused table must not format it ----------------
zero_meta
save_meta
refuse "mirror sync $M $S $T $RS 4294967297 nosync" '^Invalid number of feature arguments'
refuse "mirror sync $M $S $T $RS 1 nosync 4294967298 copy_rate_max 1" '^Invalid number of core arguments'
refuse "mirror sync $M $S $T $RS 0 4294967298 copy_rate_max 1" '^Invalid number of core arguments'
refuse "mirror sync $M $S $T $RS 0 4 copy_rate_max 1 copy_rate_max 2" '([Dd]uplicate|twice|more than once|repeated|already)'
refuse "mirror async $M $S $T $RS 0 4 lag_policy throttle lag_policy fallbehind" '([Dd]uplicate|twice|more than once|repeated|already)'
refuse "clone sync $M $S $T $RS 1 nosync" 'nosync'
# a valid line still loads (the checks above are not just refusing everything)
dm_create ok "0 $SZ replica mirror sync $M $S $T $RS 1 nosync 2 copy_rate_max 1"
dm_remove ok
zero_meta

# --- reopen with a target of another size than recorded -------------------------
TARGET_RE='[Tt]arget'
# mirror formatted with a 24 MiB target, reopened with a 16 MiB one
BIGT=$(ramdisk 24M)
dm_create m1 "0 $SZ replica mirror sync $M $S $BIGT $RS 1 nosync"
dm_remove m1
save_meta
refuse "mirror sync $M $S $T $RS 1 nosync" "$TARGET_RE"
# the recorded size still opens
dm_create m1 "0 $SZ replica mirror sync $M $S $BIGT $RS 1 nosync"
dm_remove m1
zero_meta
# formatted with 16 MiB, reopened with the larger one: loads
dm_create m1 "0 $SZ replica mirror sync $M $S $T $RS 1 nosync"
dm_remove m1
dm_create m1 "0 $SZ replica mirror sync $M $S $BIGT $RS 1 nosync"
dm_remove m1
zero_meta

# snapshot with an 8 MiB store (128 slots), some of them used
dm_create st8 "0 16384 linear $T 0"
dm_create st4 "0 8192 linear $T 0"
ST8=$(dm_dev st8) ST4=$(dm_dev st4)
dm_create org "0 $SZ replica snapshot sync $M $S $ST8 $RS"
st org
assert_eq "${ST[store_slots]}" 128 "store slots of an 8 MiB store"
dd if=/dev/urandom of="$(dm_dev org)" bs=64k count=20 oflag=direct status=none
assert_eq "$(stv org store_used)" 20 "store slots used"
dm_remove org
save_meta
refuse "snapshot sync $M $S $ST4 $RS" "$TARGET_RE"
refuse "snapshot sync $M $S $T $RS" "$TARGET_RE"
dm_create org "0 $SZ replica snapshot sync $M $S $ST8 $RS"
assert_eq "$(stv org store_used)/$(stv org store_slots)" 20/128 "store after the refused reopens"
dm_remove org
log "$NREF tables tried"
soft_done
