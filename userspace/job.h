/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * replicactl: CIM_ConcreteJob records.  A job only remembers what it waits
 * for; its JobState, PercentComplete and OperationalStatus are derived from
 * the live dm status each time someone asks.
 */
#ifndef REPLICACTL_JOB_H
#define REPLICACTL_JOB_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "cim.h"

#define JOB_ID_PREFIX "DMREPLICA:job:"

struct job {
	char id[40];
	char method[48];
	char sync_id[64];
	uint32_t wait_for;	/* CopyState the job completes at */
	uint32_t operation;	/* ModifyReplicaSynchronization operation, 0 */
	int64_t submitted, finished;
	/* derived */
	uint32_t job_state;
	uint32_t percent;
	uint32_t op_status[2];
	unsigned int n_op_status;
	char error[256];
};

int job_create(const char *method, const char *sync_id, uint32_t wait_for,
	       uint32_t operation, char id[40]);
int job_load(const char *key, struct job *j);
int job_save(const struct job *j);

/*
 * Derive the job's CIM state.  exists: the relationship is known; live: its
 * dm status could be read (props valid).
 */
void job_derive(struct job *j, bool exists, bool live,
		const struct cim_sync_props *props);
/* Evaluate against the live system and persist a terminal state. */
int job_evaluate(struct job *j);
struct json_object *job_to_cim(const struct job *j);
/* Block until the job is terminal: 0 (Completed), 4 (Exception), 3. */
int job_wait(struct job *j, int64_t timeout_ms);

/*
 * Cleanup.  A finished job (Completed or Exception) is removed
 * job_retention_s() seconds after it finished: $REPLICACTL_JOB_RETENTION,
 * default 300 (CIM_ConcreteJob's default TimeBeforeRemoval, 5 minutes).
 * job_gc() is run by `job list`, `job cleanup` and whenever a new job is
 * made; it evaluates unfinished jobs first (a job whose state was reached
 * finishes then) and never removes a running one.  removed: array for the
 * ids removed, or NULL.  Returns how many were removed.
 */
#define JOB_RETENTION_DEFAULT 300
int64_t job_retention_s(void);
int job_gc(int64_t older_than_s, struct json_object *removed);
/* `job delete`: 0, 5 (no such job) or 6 (still running). */
int job_delete(const char *key);

#endif
