/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * replicactl: CIM value maps (names <-> numbers), dm-replica status line
 * parsing and the derived CIM properties, return value -> exit status.
 */
#ifndef REPLICACTL_CIM_H
#define REPLICACTL_CIM_H

#include <stdbool.h>
#include <stdint.h>

struct cim_entry {
	uint32_t value;
	const char *name;	/* the CIM name, as printed */
	const char *alias;	/* optional extra spelling(s), '|' separated */
};

struct cim_map {
	const char *property;	/* e.g. "SyncType": used in messages */
	const struct cim_entry *entries;
	unsigned int count;
};

extern const struct cim_map cim_sync_type;
extern const struct cim_map cim_mode;
extern const struct cim_map cim_copy_state;
extern const struct cim_map cim_progress_status;
extern const struct cim_map cim_operation;
extern const struct cim_map cim_legacy_operation;	/* ModifySynchronization */
extern const struct cim_map cim_job_state;
extern const struct cim_map cim_operational_status;
extern const struct cim_map cim_return_value;
extern const struct cim_map cim_replication_type;
extern const struct cim_map cim_method_name;
extern const struct cim_map cim_copy_priority;
extern const struct cim_map cim_copy_methodology;
extern const struct cim_map cim_read_only;
extern const struct cim_map cim_copy_recovery_mode;
extern const struct cim_map cim_target_element_supplier;
extern const struct cim_map cim_thin_provisioning_policy;
extern const struct cim_map cim_sync_state;
extern const struct cim_map cim_replica_type;
extern const struct cim_map *const cim_all_maps[];

/*
 * Parse a name (case-insensitive; spaces, '-' and '_' ignored) or a decimal
 * number; the value must be in the map.  0 on success, -1 otherwise.
 */
int cim_parse(const struct cim_map *map, const char *s, uint32_t *out);
/* The CIM name of a value, or NULL when it is not in the map. */
const char *cim_name(const struct cim_map *map, uint32_t value);
/* As cim_name but never NULL ("Unknown"). */
const char *cim_name_or(const struct cim_map *map, uint32_t value);

/* Sync types, modes, copy states, progress statuses used by the helper. */
enum {
	ST_MIRROR = 6, ST_SNAPSHOT = 7, ST_CLONE = 8, ST_TOKENIZED_CLONE = 9,
	MODE_SYNC = 2, MODE_ASYNC = 3, MODE_ADAPTIVE = 4,
	CS_INITIALIZED = 2, CS_UNSYNCHRONIZED = 3, CS_SYNCHRONIZED = 4,
	CS_BROKEN = 5, CS_FRACTURED = 6, CS_SPLIT = 7, CS_INACTIVE = 8,
	CS_SUSPENDED = 9, CS_FAILEDOVER = 10, CS_PREPARED = 11,
	CS_ABORTED = 12, CS_SKEWED = 13, CS_MIXED = 14, CS_NOT_APPLICABLE = 15,
	CS_PARTITIONED = 16, CS_INVALID = 17, CS_RESTORED = 18,
	PS_UNKNOWN = 0, PS_COMPLETED = 2, PS_DORMANT = 3, PS_INITIALIZING = 4,
	PS_SYNCHRONIZING = 6, PS_RESYNCING = 7, PS_RESTORING = 8,
	PS_PENDING = 20,
	JS_NEW = 2, JS_RUNNING = 4, JS_COMPLETED = 7, JS_TERMINATED = 8,
	JS_EXCEPTION = 10,
	OS_OK = 2, OS_ERROR = 6, OS_STOPPED = 10, OS_DORMANT = 15,
	OS_COMPLETED = 17,
};

/* ModifyReplicaSynchronization operations. */
enum cim_op {
	OP_ABORT = 2, OP_ACTIVATE_CONSISTENCY = 3, OP_ACTIVATE = 4,
	OP_ADD_SYNC_PAIR = 5, OP_DEACTIVATE_CONSISTENCY = 6, OP_DEACTIVATE = 7,
	OP_DETACH = 8, OP_DISSOLVE = 9, OP_FAILOVER = 10, OP_FAILBACK = 11,
	OP_FRACTURE = 12, OP_REMOVE_SYNC_PAIR = 13, OP_RESYNC = 14,
	OP_RESTORE = 15, OP_RESUME = 16, OP_RESET_TO_SYNC = 17,
	OP_RESET_TO_ASYNC = 18, OP_RETURN_TO_POOL = 19, OP_REVERSE_ROLES = 20,
	OP_SPLIT = 21, OP_SUSPEND = 22, OP_UNPREPARE = 23, OP_PREPARE = 24,
	OP_RESET_TO_ADAPTIVE = 25,
};

/* ---- dm-replica status line (see dm-replica.rst, "Status") ---- */

#define RSTATUS_MAX_PAIRS 32

struct rstatus {
	uint32_t sync_type;	/* CIM SyncType (6/7/8) */
	uint32_t mode;		/* CIM Mode (2/3) */
	uint32_t copy_state;	/* CIM CopyState */
	uint32_t progress;	/* CIM ProgressStatus */
	uint64_t in_sync, total;
	uint64_t copying, dirty, lag_regions, lag_ms;
	char health[3];		/* source, target */
	char meta_mode[8];	/* rw, ro, fail */
	unsigned int npairs;
	struct {
		char key[32];
		char value[96];
	} pairs[RSTATUS_MAX_PAIRS];
};

/* 0 on success, -1 (with a message via rfail()) if the line is malformed. */
int rstatus_parse(const char *line, struct rstatus *st);
/* Value of a key=value pair, or NULL. */
const char *rstatus_get(const struct rstatus *st, const char *key);

/* The CIM_StorageSynchronized properties derived from a status line. */
struct cim_sync_props {
	uint32_t copy_state;
	uint32_t progress_status;
	uint32_t percent_synced;	/* 0..100 */
	bool sync_maintained;
	uint32_t sync_state;		/* legacy SyncState */
	uint32_t replica_type;		/* 2 Full Copy, 4 After Delta */
	bool source_healthy, target_healthy;
};

void rstatus_to_cim(const struct rstatus *st, struct cim_sync_props *p);

/*
 * Has `state` reached the requested WaitForCopyState `want`?  Initialized
 * and Inactive are both "loaded, no data flow"; Unsynchronized is passed
 * once the copy finished (Synchronized).
 */
bool copy_state_reached(uint32_t want, uint32_t state);
/*
 * As copy_state_reached, for a wait that follows operation `op` (0 for
 * none): after Restore from Replica the kernel ends in Synchronized with
 * ProgressStatus Completed, which counts as Restored.
 */
bool wait_reached(uint32_t want, uint32_t op, const struct cim_sync_props *p);
/* A state from which `want` can no longer be reached without an operation. */
bool copy_state_dead_end(uint32_t want, uint32_t state);

/*
 * Legacy ModifySynchronization operation (2..13) -> ModifyReplicaSynchronization
 * operation: 2 Detach, 3 Fracture, 4 Resync, 5 Restore, 6 Prepare, 7 Unprepare,
 * 8 Quiesce -> Suspend, 9 Unquiesce -> Resume, 10/11 Reset To Sync/Async,
 * 12 Start Copy -> Resume when Suspended, else Activate, 13 Stop Copy ->
 * Suspend.  0, or -1 for a value outside the map.
 */
int legacy_op_translate(uint32_t legacy, uint32_t copy_state, uint32_t *op);

/* Process exit status for a CIM return value (see replicactl --help). */
int rv_exit_status(uint32_t rv);

/* Translation between SyncType+Mode and CIM ReplicationType (local only). */
uint32_t replication_type_of(uint32_t sync_type, uint32_t mode);

#endif
