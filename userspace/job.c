// SPDX-License-Identifier: GPL-2.0-only
/* replicactl: CIM_ConcreteJob records, derived from the live dm status. */
#include "job.h"
#include "output.h"
#include "relationship.h"
#include "state.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int job_create(const char *method, const char *sync_id, uint32_t wait_for,
	       uint32_t operation, char id[40])
{
	struct job j;

	memset(&j, 0, sizeof(j));
	if (make_uuid(j.id))
		return rfail(RV_FAILED, "cannot generate a job id");
	scopy(j.method, sizeof(j.method), method);
	scopy(j.sync_id, sizeof(j.sync_id), sync_id);
	j.wait_for = wait_for;
	j.operation = operation;
	j.submitted = now_s();
	/* old finished jobs go first (best effort) */
	job_gc(job_retention_s(), NULL);
	err_clear();
	if (job_save(&j))
		return RV_FAILED;
	memcpy(id, j.id, 37);
	return 0;
}

int64_t job_retention_s(void)
{
	const char *e = getenv("REPLICACTL_JOB_RETENTION");
	uint64_t v;

	if (e && !parse_u64(e, &v) && v <= 366ull * 24 * 3600)
		return (int64_t)v;
	return JOB_RETENTION_DEFAULT;
}

struct gc_ctx {
	int64_t older_than, now;
	struct json_object *removed;
	int n;
};

static int gc_one(const char *id, struct json_object *o, void *arg)
{
	struct gc_ctx *c = arg;
	struct job j;

	(void)o;
	if (job_load(id, &j)) {
		err_clear();
		return 0;
	}
	if (!j.finished)
		job_evaluate(&j);
	if (!j.finished || c->now - j.finished < c->older_than)
		return 0;
	if (state_del("jobs", j.id) == 0) {
		char iid[96];

		c->n++;
		snprintf(iid, sizeof(iid), JOB_ID_PREFIX "%s", j.id);
		if (c->removed)
			json_object_array_add(c->removed, json_object_new_string(iid));
	}
	err_clear();
	return 0;
}

int job_gc(int64_t older_than_s, struct json_object *removed)
{
	struct gc_ctx c = { older_than_s, now_s(), removed, 0 };

	state_each("jobs", gc_one, &c);
	return c.n;
}

int job_delete(const char *key)
{
	struct job j;
	int rc = job_load(key, &j);

	if (rc)
		return rc;
	job_evaluate(&j);
	if (!j.finished)
		return rfail(RV_IN_USE, "Job: %s is still running (JobState %s)", key,
			    cim_name_or(&cim_job_state, j.job_state));
	if (state_del("jobs", j.id))
		return RV_FAILED;
	return RV_OK;
}

int job_save(const struct job *j)
{
	struct json_object *o = json_object_new_object();
	char iid[96];
	int rc;

	snprintf(iid, sizeof(iid), JOB_ID_PREFIX "%s", j->id);
	jset_str(o, "InstanceID", iid);
	jset_str(o, "Id", j->id);
	jset_str(o, "Method", j->method);
	jset_str(o, "Synchronization", j->sync_id);
	jset_int(o, "WaitFor", j->wait_for);
	jset_int(o, "Operation", j->operation);
	jset_int(o, "TimeSubmitted", j->submitted);
	jset_int(o, "TimeFinished", j->finished);
	if (j->finished) {
		jset_int(o, "JobState", j->job_state);
		jset_str(o, "ErrorDescription", j->error[0] ? j->error : NULL);
	}
	rc = state_put("jobs", j->id, o);
	json_object_put(o);
	return rc;
}

int job_load(const char *key, struct job *j)
{
	size_t pl = strlen(JOB_ID_PREFIX);
	struct json_object *o;

	memset(j, 0, sizeof(*j));
	if (!key || !*key)
		return rfail(RV_INVALID_PARAM, "Job: required");
	if (!strncmp(key, JOB_ID_PREFIX, pl))
		key += pl;
	if (!name_valid(key, 39))
		return rfail(RV_INVALID_PARAM, "Job: '%s' is not a job id", key);
	o = state_get("jobs", key);
	if (!o)
		return rfail(RV_INVALID_PARAM, "Job: no job '%s'", key);
	scopy(j->id, sizeof(j->id), key);
	scopy(j->method, sizeof(j->method), jget_str(o, "Method"));
	scopy(j->sync_id, sizeof(j->sync_id), jget_str(o, "Synchronization"));
	j->wait_for = (uint32_t)jget_int(o, "WaitFor", CS_SYNCHRONIZED);
	j->operation = (uint32_t)jget_int(o, "Operation", 0);
	j->submitted = jget_int(o, "TimeSubmitted", 0);
	j->finished = jget_int(o, "TimeFinished", 0);
	if (j->finished) {
		j->job_state = (uint32_t)jget_int(o, "JobState", JS_COMPLETED);
		scopy(j->error, sizeof(j->error), jget_str(o, "ErrorDescription"));
	}
	json_object_put(o);
	return 0;
}

static void set_os(struct job *j, uint32_t a, uint32_t b)
{
	j->op_status[0] = a;
	j->op_status[1] = b;
	j->n_op_status = b ? 2 : 1;
}

void job_derive(struct job *j, bool exists, bool live, const struct cim_sync_props *p)
{
	if (j->finished) {
		/* terminal states are final */
		if (j->job_state == JS_COMPLETED) {
			j->percent = 100;
			set_os(j, OS_OK, OS_COMPLETED);
		} else {
			set_os(j, OS_ERROR, OS_COMPLETED);
		}
		return;
	}
	j->error[0] = 0;
	if (!exists) {
		j->job_state = JS_EXCEPTION;
		set_os(j, OS_ERROR, OS_COMPLETED);
		scopy(j->error, sizeof(j->error), "the relationship no longer exists");
		return;
	}
	if (!live) {
		j->job_state = JS_EXCEPTION;
		set_os(j, OS_ERROR, OS_COMPLETED);
		scopy(j->error, sizeof(j->error),
		      "the relationship is not active (its status cannot be read)");
		return;
	}
	if (wait_reached(j->wait_for, j->operation, p)) {
		j->job_state = JS_COMPLETED;
		j->percent = 100;
		set_os(j, OS_OK, OS_COMPLETED);
		return;
	}
	if (copy_state_dead_end(j->wait_for, p->copy_state)) {
		j->job_state = JS_EXCEPTION;
		set_os(j, OS_ERROR, OS_COMPLETED);
		snprintf(j->error, sizeof(j->error), "CopyState %s: %s can no longer be reached",
			 cim_name_or(&cim_copy_state, p->copy_state),
			 cim_name_or(&cim_copy_state, j->wait_for));
		return;
	}
	j->job_state = JS_RUNNING;
	set_os(j, OS_OK, 0);
	j->percent = p->percent_synced >= 100 ? 99 : p->percent_synced;
	if (p->copy_state == CS_SUSPENDED) {
		j->job_state = 5;	/* Suspended: the copy is paused */
		set_os(j, OS_OK, OS_DORMANT);
	}
}

int job_evaluate(struct job *j)
{
	struct rel_set set;
	struct rel *r;
	bool exists, live;

	if (j->finished) {
		job_derive(j, true, true, NULL);
		return 0;
	}
	rel_discover(&set);
	r = rel_find(&set, j->sync_id);
	exists = r != NULL;
	live = r && r->live && r->status_ok;
	job_derive(j, exists, live, live ? &r->props : NULL);
	rel_set_free(&set);
	err_clear();
	if (j->job_state == JS_COMPLETED || j->job_state == JS_EXCEPTION) {
		j->finished = now_s();
		job_save(j);	/* best effort: the state may be read-only */
		err_clear();
	}
	return 0;
}

struct json_object *job_to_cim(const struct job *j)
{
	struct json_object *o = json_object_new_object(), *os = json_object_new_array();
	char iid[96], t[40];
	unsigned int i;

	snprintf(iid, sizeof(iid), JOB_ID_PREFIX "%s", j->id);
	jset_str(o, "InstanceID", iid);
	jset_str(o, "Name", j->method);
	jset_enum(o, "JobState", &cim_job_state, j->job_state);
	jset_int(o, "PercentComplete", j->percent);
	for (i = 0; i < j->n_op_status; i++)
		json_object_array_add(os, json_object_new_int(j->op_status[i]));
	json_object_object_add(o, "OperationalStatus", os);
	jset_int(o, "ErrorCode", j->job_state == JS_EXCEPTION ? 1 : 0);
	jset_str(o, "ErrorDescription", j->error[0] ? j->error : NULL);
	iso_time(j->submitted, t, sizeof(t));
	jset_str(o, "TimeSubmitted", t);
	if (j->finished) {
		iso_time(j->finished, t, sizeof(t));
		jset_str(o, "TimeOfLastStateChange", t);
	}
	/* finished jobs are removed after TimeBeforeRemoval (job_gc) */
	jset_bool(o, "DeleteOnCompletion", true);
	{
		int64_t r = job_retention_s();

		snprintf(t, sizeof(t), "%08lld%02lld%02lld%02lld.000000:000",
			 (long long)(r / 86400), (long long)(r / 3600 % 24),
			 (long long)(r / 60 % 60), (long long)(r % 60));
		jset_str(o, "TimeBeforeRemoval", t);
		if (j->finished) {
			iso_time(j->finished + r, t, sizeof(t));
			jset_str(o, "WhenRemoved", t);
		}
	}
	json_object_object_add(o, "Synchronization", ref_sync(j->sync_id));
	jset_enum(o, "WaitForCopyState", &cim_copy_state, j->wait_for);
	if (j->operation)
		jset_enum(o, "Operation", &cim_operation, j->operation);
	return o;
}

int job_wait(struct job *j, int64_t timeout_ms)
{
	struct rel_set set;
	struct rel *r;
	int rc;

	job_evaluate(j);
	if (j->job_state == JS_COMPLETED)
		return RV_OK;
	if (j->job_state == JS_EXCEPTION)
		return rfail(RV_FAILED, "Job: %s", j->error);
	rel_discover(&set);
	r = rel_find(&set, j->sync_id);
	if (!r) {
		rel_set_free(&set);
		job_evaluate(j);
		return rfail(RV_FAILED, "Job: the relationship is gone");
	}
	rc = rel_wait_state(r, j->wait_for, j->operation, timeout_ms);
	rel_set_free(&set);
	if (rc == RV_TIMEOUT)
		return rc;
	err_clear();
	job_evaluate(j);
	if (j->job_state == JS_COMPLETED)
		return RV_OK;
	return rfail(RV_FAILED, "Job: %s", j->error[0] ? j->error : "failed");
}
