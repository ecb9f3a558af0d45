// SPDX-License-Identifier: GPL-2.0-only
/* replicactl: CIM value maps and dm-replica status parsing. */
#include "cim.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAP(var, prop, arr) \
	const struct cim_map var = { prop, arr, sizeof(arr) / sizeof(arr[0]) }

static const struct cim_entry sync_type_e[] = {
	{ 6, "Mirror", NULL },
	{ 7, "Snapshot", NULL },
	{ 8, "Clone", NULL },
	{ 9, "TokenizedClone", NULL },
};
MAP(cim_sync_type, "SyncType", sync_type_e);

static const struct cim_entry mode_e[] = {
	{ 2, "Synchronous", "sync" },
	{ 3, "Asynchronous", "async" },
	{ 4, "Adaptive", NULL },
};
MAP(cim_mode, "Mode", mode_e);

static const struct cim_entry copy_state_e[] = {
	{ 2, "Initialized", NULL },
	{ 3, "Unsynchronized", NULL },
	{ 4, "Synchronized", NULL },
	{ 5, "Broken", NULL },
	{ 6, "Fractured", NULL },
	{ 7, "Split", NULL },
	{ 8, "Inactive", NULL },
	{ 9, "Suspended", NULL },
	{ 10, "Failedover", NULL },
	{ 11, "Prepared", NULL },
	{ 12, "Aborted", NULL },
	{ 13, "Skewed", NULL },
	{ 14, "Mixed", NULL },
	{ 15, "Not Applicable", NULL },
	{ 16, "Partitioned", NULL },
	{ 17, "Invalid", NULL },
	{ 18, "Restored", NULL },
};
MAP(cim_copy_state, "CopyState", copy_state_e);

static const struct cim_entry progress_e[] = {
	{ 0, "Unknown", NULL },
	{ 2, "Completed", NULL },
	{ 3, "Dormant", NULL },
	{ 4, "Initializing", NULL },
	{ 5, "Preparing", NULL },
	{ 6, "Synchronizing", NULL },
	{ 7, "Resyncing", NULL },
	{ 8, "Restoring", NULL },
	{ 9, "Fracturing", NULL },
	{ 10, "Splitting", NULL },
	{ 11, "Failing over", NULL },
	{ 12, "Failing back", NULL },
	{ 13, "Aborting", NULL },
	{ 14, "Mixed", NULL },
	{ 15, "Not Applicable", NULL },
	{ 16, "Suspending", NULL },
	{ 17, "Requires fracture", NULL },
	{ 18, "Requires resync", NULL },
	{ 19, "Requires activate", NULL },
	{ 20, "Pending", NULL },
	{ 21, "Detaching", NULL },
	{ 22, "Requires detach", NULL },
	{ 23, "Terminating", NULL },
	{ 24, "Requires split", NULL },
	{ 25, "Requires resume", NULL },
};
MAP(cim_progress_status, "ProgressStatus", progress_e);

static const struct cim_entry operation_e[] = {
	{ 2, "Abort", NULL },
	{ 3, "Activate Consistency", NULL },
	{ 4, "Activate", NULL },
	{ 5, "AddSyncPair", NULL },
	{ 6, "Deactivate Consistency", NULL },
	{ 7, "Deactivate", NULL },
	{ 8, "Detach", NULL },
	{ 9, "Dissolve", NULL },
	{ 10, "Failover", NULL },
	{ 11, "Failback", NULL },
	{ 12, "Fracture", NULL },
	{ 13, "RemoveSyncPair", NULL },
	{ 14, "Resync Replica", "resync" },
	{ 15, "Restore from Replica", "restore" },
	{ 16, "Resume", NULL },
	{ 17, "Reset To Sync", NULL },
	{ 18, "Reset To Async", NULL },
	{ 19, "Return To ResourcePool", "returntopool|returntostoragepool" },
	{ 20, "Reverse Roles", NULL },
	{ 21, "Split", NULL },
	{ 22, "Suspend", NULL },
	{ 23, "Unprepare", NULL },
	{ 24, "Prepare", NULL },
	{ 25, "Reset To Adaptive", NULL },
};
MAP(cim_operation, "Operation", operation_e);

/* Legacy CIM_StorageConfigurationService.ModifySynchronization (smi-s.md 2.2). */
static const struct cim_entry legacy_operation_e[] = {
	{ 2, "Detach", NULL },
	{ 3, "Fracture", NULL },
	{ 4, "Resync Replica", "resync" },
	{ 5, "Restore from Replica", "restore" },
	{ 6, "Prepare", NULL },
	{ 7, "Unprepare", NULL },
	{ 8, "Quiesce", NULL },
	{ 9, "Unquiesce", NULL },
	{ 10, "Reset To Sync", NULL },
	{ 11, "Reset To Async", NULL },
	{ 12, "Start Copy", NULL },
	{ 13, "Stop Copy", NULL },
};
MAP(cim_legacy_operation, "Operation", legacy_operation_e);

static const struct cim_entry job_state_e[] = {
	{ 2, "New", NULL },
	{ 3, "Starting", NULL },
	{ 4, "Running", NULL },
	{ 5, "Suspended", NULL },
	{ 6, "Shutting Down", NULL },
	{ 7, "Completed", NULL },
	{ 8, "Terminated", NULL },
	{ 9, "Killed", NULL },
	{ 10, "Exception", NULL },
	{ 11, "Service", NULL },
	{ 12, "Query Pending", NULL },
};
MAP(cim_job_state, "JobState", job_state_e);

static const struct cim_entry op_status_e[] = {
	{ 0, "Unknown", NULL },
	{ 1, "Other", NULL },
	{ 2, "OK", NULL },
	{ 3, "Degraded", NULL },
	{ 4, "Stressed", NULL },
	{ 5, "Predictive Failure", NULL },
	{ 6, "Error", NULL },
	{ 7, "Non-Recoverable Error", NULL },
	{ 8, "Starting", NULL },
	{ 9, "Stopping", NULL },
	{ 10, "Stopped", NULL },
	{ 11, "In Service", NULL },
	{ 12, "No Contact", NULL },
	{ 13, "Lost Communication", NULL },
	{ 14, "Aborted", NULL },
	{ 15, "Dormant", NULL },
	{ 16, "Supporting Entity in Error", NULL },
	{ 17, "Completed", NULL },
	{ 18, "Power Mode", NULL },
};
MAP(cim_operational_status, "OperationalStatus", op_status_e);

static const struct cim_entry return_value_e[] = {
	{ 0, "Completed with No Error", "success|ok" },
	{ 1, "Not Supported", NULL },
	{ 2, "Unknown", "unspecifiederror" },
	{ 3, "Timeout", NULL },
	{ 4, "Failed", NULL },
	{ 5, "Invalid Parameter", NULL },
	{ 6, "In Use", NULL },
	{ 4096, "Method Parameters Checked - Job Started", "jobstarted" },
};
MAP(cim_return_value, "ReturnValue", return_value_e);

static const struct cim_entry replication_type_e[] = {
	{ 2, "Synchronous Mirror Local", NULL },
	{ 3, "Asynchronous Mirror Local", NULL },
	{ 4, "Synchronous Mirror Remote", NULL },
	{ 5, "Asynchronous Mirror Remote", NULL },
	{ 6, "Synchronous Snapshot Local", NULL },
	{ 7, "Asynchronous Snapshot Local", NULL },
	{ 8, "Synchronous Snapshot Remote", NULL },
	{ 9, "Asynchronous Snapshot Remote", NULL },
	{ 10, "Synchronous Clone Local", NULL },
	{ 11, "Asynchronous Clone Local", NULL },
	{ 12, "Synchronous Clone Remote", NULL },
	{ 13, "Asynchronous Clone Remote", NULL },
	{ 14, "Synchronous TokenizedClone Local", NULL },
	{ 15, "Asynchronous TokenizedClone Local", NULL },
	{ 16, "Synchronous TokenizedClone Remote", NULL },
	{ 17, "Asynchronous TokenizedClone Remote", NULL },
	{ 18, "Adaptive Mirror Local", NULL },
	{ 19, "Adaptive Mirror Remote", NULL },
	{ 20, "Adaptive Snapshot Local", NULL },
	{ 21, "Adaptive Snapshot Remote", NULL },
	{ 22, "Adaptive Clone Local", NULL },
	{ 23, "Adaptive Clone Remote", NULL },
	{ 24, "Adaptive TokenizedClone Local", NULL },
	{ 25, "Adaptive TokenizedClone Remote", NULL },
};
MAP(cim_replication_type, "ReplicationType", replication_type_e);

static const struct cim_entry method_name_e[] = {
	{ 2, "CreateElementReplica", NULL },
	{ 3, "CreateGroupReplica", NULL },
	{ 4, "ModifyReplicaSynchronization", NULL },
	{ 5, "ModifyListSynchronization", NULL },
	{ 6, "ModifySettingsDefineState", NULL },
};
MAP(cim_method_name, "MethodName", method_name_e);

static const struct cim_entry copy_priority_e[] = {
	{ 0, "Not Managed", NULL },
	{ 1, "Low", NULL },
	{ 2, "Same", NULL },
	{ 3, "High", NULL },
	{ 4, "Urgent", NULL },
};
MAP(cim_copy_priority, "CopyPriority", copy_priority_e);

static const struct cim_entry copy_methodology_e[] = {
	{ 1, "Other", NULL },
	{ 2, "Instrumentation decides", "implementationdecides" },
	{ 3, "Full-Copy", NULL },
	{ 4, "Incremental-Copy", NULL },
	{ 5, "Differential-Copy", NULL },
	{ 6, "Copy-On-Write", NULL },
	{ 7, "Copy-On-Access", NULL },
	{ 8, "Delta-Update", NULL },
	{ 9, "Snap-And-Clone", NULL },
	{ 10, "Copy-before-Activation", NULL },
};
MAP(cim_copy_methodology, "DesiredCopyMethodology", copy_methodology_e);

static const struct cim_entry read_only_e[] = {
	{ 2, "SystemElement", NULL },
	{ 3, "SyncedElement", NULL },
	{ 4, "Both", NULL },
};
MAP(cim_read_only, "ReadOnly", read_only_e);

static const struct cim_entry copy_recovery_e[] = {
	{ 0, "Unknown", NULL },
	{ 2, "Automatic", NULL },
	{ 3, "Manual", NULL },
	{ 4, "Implementation decides", "instrumentationdecides" },
};
MAP(cim_copy_recovery_mode, "CopyRecoveryMode", copy_recovery_e);

static const struct cim_entry tes_e[] = {
	{ 1, "Use existing", NULL },
	{ 2, "Create new", NULL },
	{ 3, "Use and create", NULL },
	{ 4, "Instrumentation decides", "implementationdecides" },
	{ 5, "Client must supply", NULL },
};
MAP(cim_target_element_supplier, "TargetElementSupplier", tes_e);

static const struct cim_entry tpp_e[] = {
	{ 2, "Copy thin source to thin target", NULL },
	{ 3, "Copy thin source to full target", NULL },
	{ 4, "Copy full source to thin target", NULL },
	{ 5, "Provisioning of target same as source", NULL },
	{ 6, "Target pool decides provisioning of target element", NULL },
	{ 7, "Implementation decides provisioning of target", NULL },
};
MAP(cim_thin_provisioning_policy, "ThinProvisioningPolicy", tpp_e);

static const struct cim_entry sync_state_e[] = {
	{ 0, "Unknown", NULL },
	{ 2, "Initialized", NULL },
	{ 3, "PrepareInProgress", NULL },
	{ 4, "Prepared", NULL },
	{ 5, "ResyncInProgress", NULL },
	{ 6, "Synchronized", NULL },
	{ 7, "Fracture In Progress", NULL },
	{ 8, "QuiesceInProgress", NULL },
	{ 9, "Quiesced", NULL },
	{ 10, "Restore In Progress", NULL },
	{ 11, "Idle", NULL },
	{ 12, "Broken", NULL },
	{ 13, "Fractured", NULL },
	{ 14, "Frozen", NULL },
	{ 15, "Copy In Progress", NULL },
};
MAP(cim_sync_state, "SyncState", sync_state_e);

static const struct cim_entry replica_type_e[] = {
	{ 0, "Not Specified", NULL },
	{ 2, "Full Copy", NULL },
	{ 3, "Before Delta", NULL },
	{ 4, "After Delta", NULL },
	{ 5, "Log", NULL },
};
MAP(cim_replica_type, "ReplicaType", replica_type_e);

const struct cim_map *const cim_all_maps[] = {
	&cim_sync_type, &cim_mode, &cim_copy_state, &cim_progress_status,
	&cim_operation, &cim_job_state, &cim_operational_status,
	&cim_return_value, &cim_replication_type, &cim_method_name,
	&cim_copy_priority, &cim_copy_methodology, &cim_read_only,
	&cim_copy_recovery_mode, &cim_target_element_supplier,
	&cim_thin_provisioning_policy, &cim_sync_state, &cim_replica_type,
	&cim_legacy_operation, NULL,
};

static int alias_match(const char *aliases, const char *want)
{
	char one[64];
	const char *p = aliases, *bar;

	while (p && *p) {
		size_t n;

		bar = strchr(p, '|');
		n = bar ? (size_t)(bar - p) : strlen(p);
		if (n < sizeof(one)) {
			memcpy(one, p, n);
			one[n] = 0;
			if (!strcmp(one, want))
				return 1;
		}
		p = bar ? bar + 1 : NULL;
	}
	return 0;
}

int cim_parse(const struct cim_map *map, const char *s, uint32_t *out)
{
	char want[96], have[96];
	uint64_t v;
	unsigned int i;

	if (!s || !*s)
		return -1;
	if (!parse_u64(s, &v)) {
		for (i = 0; i < map->count; i++)
			if (map->entries[i].value == v) {
				*out = (uint32_t)v;
				return 0;
			}
		return -1;
	}
	if (strlen(s) >= sizeof(want))
		return -1;
	norm_name(want, sizeof(want), s);
	if (!want[0])
		return -1;
	for (i = 0; i < map->count; i++) {
		norm_name(have, sizeof(have), map->entries[i].name);
		if (!strcmp(have, want) ||
		    alias_match(map->entries[i].alias, want)) {
			*out = map->entries[i].value;
			return 0;
		}
	}
	return -1;
}

const char *cim_name(const struct cim_map *map, uint32_t value)
{
	unsigned int i;

	for (i = 0; i < map->count; i++)
		if (map->entries[i].value == value)
			return map->entries[i].name;
	return NULL;
}

const char *cim_name_or(const struct cim_map *map, uint32_t value)
{
	const char *n = cim_name(map, value);

	return n ? n : "Unknown";
}

/* ---- status line ---- */

static int next_tok(const char **p, char *buf, size_t size)
{
	const char *s = *p, *e;
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	if (!*s)
		return -1;
	e = s;
	while (*e && *e != ' ' && *e != '\t' && *e != '\n')
		e++;
	n = (size_t)(e - s);
	if (n >= size)
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	*p = e;
	return 0;
}

#define STFAIL(what) rfail(-1, "status line: bad or missing %s", what)

int rstatus_parse(const char *line, struct rstatus *st)
{
	char tok[160], *slash;
	const char *p = line;
	uint64_t npairs;
	unsigned int i;

	memset(st, 0, sizeof(*st));
	if (!line)
		return STFAIL("line");
	if (next_tok(&p, tok, sizeof(tok)) || cim_parse(&cim_sync_type, tok, &st->sync_type) ||
	    st->sync_type == ST_TOKENIZED_CLONE)
		return STFAIL("sync type");
	if (next_tok(&p, tok, sizeof(tok)) || cim_parse(&cim_mode, tok, &st->mode) ||
	    st->mode == MODE_ADAPTIVE)
		return STFAIL("mode");
	if (next_tok(&p, tok, sizeof(tok)) || cim_parse(&cim_copy_state, tok, &st->copy_state))
		return STFAIL("copy state");
	if (next_tok(&p, tok, sizeof(tok)) || cim_parse(&cim_progress_status, tok, &st->progress))
		return STFAIL("progress");
	if (next_tok(&p, tok, sizeof(tok)))
		return STFAIL("in sync/total");
	slash = strchr(tok, '/');
	if (!slash)
		return STFAIL("in sync/total");
	*slash = 0;
	if (parse_u64(tok, &st->in_sync) || parse_u64(slash + 1, &st->total) ||
	    st->in_sync > st->total)
		return STFAIL("in sync/total");
	if (next_tok(&p, tok, sizeof(tok)) || parse_u64(tok, &st->copying))
		return STFAIL("copying");
	if (next_tok(&p, tok, sizeof(tok)) || parse_u64(tok, &st->dirty))
		return STFAIL("dirty");
	if (next_tok(&p, tok, sizeof(tok)) || parse_u64(tok, &st->lag_regions))
		return STFAIL("lag regions");
	if (next_tok(&p, tok, sizeof(tok)) || parse_u64(tok, &st->lag_ms))
		return STFAIL("lag ms");
	if (next_tok(&p, tok, sizeof(tok)) || strlen(tok) != 2 ||
	    !strchr("ADRF", tok[0]) || !strchr("ADRF", tok[1]))
		return STFAIL("health");
	memcpy(st->health, tok, 3);
	if (next_tok(&p, tok, sizeof(tok)) ||
	    (strcmp(tok, "rw") && strcmp(tok, "ro") && strcmp(tok, "fail")))
		return STFAIL("metadata mode");
	scopy(st->meta_mode, sizeof(st->meta_mode), tok);
	if (next_tok(&p, tok, sizeof(tok)) || parse_u64(tok, &npairs))
		return STFAIL("#pairs");
	for (i = 0; i < npairs; i++) {
		char *eq;

		if (next_tok(&p, tok, sizeof(tok)))
			return STFAIL("key=value pair");
		eq = strchr(tok, '=');
		if (!eq || eq == tok)
			return STFAIL("key=value pair");
		*eq = 0;
		if (st->npairs < RSTATUS_MAX_PAIRS) {
			/* over-long keys/values are dropped, not fatal */
			if (strlen(tok) < sizeof(st->pairs[0].key) &&
			    strlen(eq + 1) < sizeof(st->pairs[0].value)) {
				scopy(st->pairs[st->npairs].key, sizeof(st->pairs[0].key), tok);
				scopy(st->pairs[st->npairs].value, sizeof(st->pairs[0].value), eq + 1);
				st->npairs++;
			}
		}
	}
	/* Anything after the declared pairs is ignored (forward compatible). */
	return 0;
}

const char *rstatus_get(const struct rstatus *st, const char *key)
{
	unsigned int i;

	for (i = 0; i < st->npairs; i++)
		if (!strcmp(st->pairs[i].key, key))
			return st->pairs[i].value;
	return NULL;
}

void rstatus_to_cim(const struct rstatus *st, struct cim_sync_props *p)
{
	memset(p, 0, sizeof(*p));
	p->copy_state = st->copy_state;
	p->progress_status = st->progress;
	if (st->total == 0 || st->in_sync >= st->total)
		p->percent_synced = 100;
	else
		p->percent_synced = (uint32_t)((st->in_sync * 100) / st->total);
	/* A snapshot is "a copy of the source" as soon as its PIT is armed. */
	if (st->sync_type == ST_SNAPSHOT)
		p->percent_synced = (st->copy_state == CS_SYNCHRONIZED ||
				     st->copy_state == CS_RESTORED) ? 100 : 0;
	p->sync_maintained = st->sync_type == ST_MIRROR &&
			     st->copy_state == CS_SYNCHRONIZED;
	p->replica_type = st->sync_type == ST_SNAPSHOT ? 4 : 2;
	p->source_healthy = st->health[0] == 'A';
	p->target_healthy = st->health[1] == 'A';
	switch (st->copy_state) {
	case CS_INITIALIZED:
	case CS_INACTIVE:
		p->sync_state = 2;
		break;
	case CS_UNSYNCHRONIZED:
		p->sync_state = st->sync_type == ST_CLONE ? 15 : 5;
		break;
	case CS_SYNCHRONIZED:
		p->sync_state = st->sync_type == ST_MIRROR ? 6 :
				st->sync_type == ST_SNAPSHOT ? 11 : 14;
		break;
	case CS_FRACTURED:
	case CS_SPLIT:
		p->sync_state = 13;
		break;
	case CS_BROKEN:
		p->sync_state = 12;
		break;
	default:
		p->sync_state = 0;
	}
}

bool copy_state_reached(uint32_t want, uint32_t state)
{
	if (want == state)
		return true;
	if ((want == CS_INITIALIZED || want == CS_INACTIVE) &&
	    (state == CS_INITIALIZED || state == CS_INACTIVE))
		return true;
	if (want == CS_UNSYNCHRONIZED && state == CS_SYNCHRONIZED)
		return true;
	return false;
}

bool wait_reached(uint32_t want, uint32_t op, const struct cim_sync_props *p)
{
	if (copy_state_reached(want, p->copy_state))
		return true;
	return want == CS_RESTORED && op == OP_RESTORE &&
	       p->copy_state == CS_SYNCHRONIZED && p->progress_status == PS_COMPLETED;
}

bool copy_state_dead_end(uint32_t want, uint32_t state)
{
	if (copy_state_reached(want, state))
		return false;
	switch (state) {
	case CS_BROKEN:
	case CS_ABORTED:
	case CS_FRACTURED:
	case CS_SPLIT:
	case CS_INVALID:
		return true;
	case CS_INITIALIZED:
	case CS_INACTIVE:
		/* data flow does not start without Activate */
		return want != CS_INITIALIZED && want != CS_INACTIVE;
	default:
		return false;
	}
}

int legacy_op_translate(uint32_t legacy, uint32_t copy_state, uint32_t *op)
{
	switch (legacy) {
	case 2: *op = OP_DETACH; return 0;
	case 3: *op = OP_FRACTURE; return 0;
	case 4: *op = OP_RESYNC; return 0;
	case 5: *op = OP_RESTORE; return 0;
	case 6: *op = OP_PREPARE; return 0;
	case 7: *op = OP_UNPREPARE; return 0;
	/* quiesce/unquiesce the copy engine; host I/O is not held */
	case 8: *op = OP_SUSPEND; return 0;
	case 9: *op = OP_RESUME; return 0;
	case 10: *op = OP_RESET_TO_SYNC; return 0;
	case 11: *op = OP_RESET_TO_ASYNC; return 0;
	case 12:
		/* start the background copy: of a loaded relationship
		 * (Activate), or of a suspended one (Resume) */
		*op = copy_state == CS_SUSPENDED ? OP_RESUME : OP_ACTIVATE;
		return 0;
	case 13: *op = OP_SUSPEND; return 0;
	default:
		return -1;
	}
}

int rv_exit_status(uint32_t rv)
{
	switch (rv) {
	case RV_OK:
	case RV_JOB_STARTED:
		return 0;
	case RV_NOT_SUPPORTED:
	case RV_UNKNOWN:
	case RV_TIMEOUT:
	case RV_FAILED:
	case RV_INVALID_PARAM:
	case RV_IN_USE:
		return (int)rv;
	default:
		return 2;
	}
}

uint32_t replication_type_of(uint32_t sync_type, uint32_t mode)
{
	uint32_t base;

	switch (sync_type) {
	case ST_MIRROR: base = 2; break;
	case ST_SNAPSHOT: base = 6; break;
	case ST_CLONE: base = 10; break;
	case ST_TOKENIZED_CLONE: base = 14; break;
	default: return 0;
	}
	if (mode == MODE_ADAPTIVE)
		return 18 + (base - 2) / 2;
	return base + (mode == MODE_ASYNC ? 1 : 0);
}
