// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host unit tests: bad requests through the real command line with their
 * exact CIM return values, table line builders, job state derivation,
 * state records.  Nothing here needs device-mapper.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cim.h"
#include "cli.h"
#include "job.h"
#include "output.h"
#include "pool.h"
#include "relationship.h"
#include "state.h"
#include "util.h"

static char g_dir[64];

#define A(...) { __VA_ARGS__, NULL }
#define MAXA 24

struct bad {
	const char *argv[MAXA];
	int rv;
	const char *param;	/* the message must name it */
};

static const struct bad bad[] = {
	{ A("create"), 5, "SyncType" },
	{ A("create", "--sync-type", "9", "--source", "/dev/null"), 1, "SyncType" },
	{ A("create", "--sync-type", "TokenizedClone", "--source", "/dev/null"), 1, "SyncType" },
	{ A("create", "--sync-type", "5"), 5, "SyncType" },
	{ A("create", "--sync-type", "banana"), 5, "SyncType" },
	{ A("create", "--SyncType=mirror", "--mode", "4", "--source", "x"), 1, "Mode" },
	{ A("create", "--sync-type", "mirror", "--mode", "adaptive", "--source", "x"), 1, "Mode" },
	{ A("create", "--sync-type", "mirror", "--mode", "7", "--source", "x"), 5, "Mode" },
	{ A("create", "--sync-type", "snapshot", "--mode", "async", "--source", "x"), 1, "Mode" },
	{ A("create", "--sync-type", "mirror"), 5, "SourceElement" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--source-access-point", "sap"), 1,
	  "SourceAccessPoint" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--TargetAccessPoint", "t"), 1,
	  "TargetAccessPoint" },
	{ A("create", "--sync-type", "clone", "--source", "x", "--target", "y", "--target-pool",
	    "/tmp"), 5, "TargetPool" },
	{ A("create", "--sync-type", "clone", "--source", "x", "--target", "y",
	    "--target-setting-goal", "thin"), 5, "TargetSettingGoal" },
	{ A("create", "--sync-type", "clone", "--source", "x", "--target-pool", "/tmp",
	    "--target-setting-goal", "purple"), 5, "TargetSettingGoal" },
	{ A("create", "--sync-type", "mirror", "--source", "x"), 5, "TargetPool" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--target", "y"), 5,
	  "MetadataElement" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--pool", "/tmp",
	    "--wait-for-copy-state", "fractured"), 5, "WaitForCopyState" },
	{ A("create", "--sync-type", "snapshot", "--source", "x", "--pool", "/tmp",
	    "--wait-for-copy-state", "unsynchronized"), 5, "WaitForCopyState" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--pool", "/tmp",
	    "--wait-for-copy-state", "happy"), 5, "CopyState" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--pool", "/tmp", "--timeout",
	    "10"), 5, "Timeout" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--pool", "/tmp", "--wait",
	    "synchronized", "--timeout", "abc"), 5, "Timeout" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--pool", "/tmp", "--wait",
	    "synchronized", "--timeout", "0"), 5, "Timeout" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--pool", "/tmp",
	    "--region-size", "100"), 5, "RegionSize" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--pool", "/tmp",
	    "--region-size", "4"), 5, "RegionSize" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--pool", "/tmp",
	    "--region-size", "3M"), 5, "RegionSize" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--pool", "/tmp",
	    "--region-size", "2G"), 5, "RegionSize" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--pool", "/tmp",
	    "--region-size", "lots"), 5, "RegionSize" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--pool", "/tmp",
	    "--element-name", "bad/name"), 5, "ElementName" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--pool", "/tmp",
	    "--rsd", "{\"Bogus\":1}"), 5, "ReplicationSettingData" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--pool", "/tmp",
	    "--rsd", "{\"CopyRecoveryMode\":3}"), 1, "ReplicationSettingData" },
	{ A("create", "--sync-type", "snapshot", "--source", "x", "--pool", "/tmp",
	    "--replication-setting-data",
	    "instance of CIM_ReplicationSettingData { ReadOnly = 2; };"), 1,
	  "ReplicationSettingData" },
	{ A("create", "--sync-type", "snapshot", "--source", "x", "--pool", "/tmp",
	    "--replication-setting-data", "instance of CIM_ReplicationSettingData { ReadOnly"), 5,
	  "ReplicationSettingData" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--pool", "/tmp",
	    "--rsd", "@/nonexistent/rsd.json"), 5, "ReplicationSettingData" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--pool", "/tmp",
	    "--rsd", "{\"TargetElementSupplier\":5}"), 5, "TargetElement" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--target", "y", "--metadata", "z",
	    "--rsd", "{\"TargetElementSupplier\":\"Create new\"}"), 5, "TargetElement" },
	{ A("create", "--sync-type", "mirror", "--source", "x", "--pool", "/tmp",
	    "--rsd", "{\"DesiredRPO\":\"00000000000001.000000:000\"}"), 5,
	  "DesiredRPO" },
	{ A("create", "--sync-type", "mirror", "--source", "/dev/null", "--pool", "/tmp"), 5,
	  "SourceElement" },
	{ A("create", "--sync-type", "mirror", "--source", "/nonexistent", "--pool", "/tmp"), 5,
	  "SourceElement" },
	{ A("create", "--sync-type", "mirror", "--source", "no-such-dm-name", "--pool", "/tmp"), 5,
	  "SourceElement" },
	{ A("create", "--sync-type", "mirror", "--source", "999:999", "--pool", "/tmp"), 5,
	  "SourceElement" },
	{ A("create", "--foo"), 5, "--foo" },
	{ A("create", "--sync-type"), 5, "--sync-type" },
	{ A("create", "--force=1"), 5, "--force" },
	{ A("create", "--sync-type", "6", "--sync-type", "7"), 5, "--sync-type" },
	{ A("create", "-x"), 5, "-x" },
	{ A("create", "stray"), 5, "stray" },
	{ A("modify"), 5, "Operation" },
	{ A("modify", "--op", "fracture"), 5, "Synchronization" },
	{ A("modify", "--op", "3", "--sync", "x"), 1, "Operation" },
	{ A("modify", "--op", "AddSyncPair", "--sync", "x"), 1, "Operation" },
	{ A("modify", "--op", "6", "--sync", "x"), 1, "Operation" },
	{ A("modify", "--op", "13", "--sync", "x"), 1, "Operation" },
	{ A("modify", "--op", "reset-to-adaptive", "--sync", "x"), 1, "Operation" },
	{ A("modify", "--op", "99", "--sync", "x"), 5, "Operation" },
	{ A("modify", "--op", "explode", "--sync", "x"), 5, "Operation" },
	{ A("modify", "--op", "fracture", "--sync", "DMREPLICA:sync:nosuch"), 5,
	  "Synchronization" },
	{ A("modify", "--op", "fracture", "--sync", "x", "--timeout", "5"), 5, "Timeout" },
	{ A("modify", "--op", "fracture", "--sync", "x", "--rsd", "{}"), 1,
	  "ReplicationSettingData" },
	{ A("modify-synchronization"), 5, "Operation" },
	{ A("modify-synchronization", "--op", "14", "--sync", "x"), 5, "Operation" },
	{ A("modify-synchronization", "--op", "split", "--sync", "x"), 5, "Operation" },
	{ A("modify-synchronization", "--op", "quiesce"), 5, "Synchronization" },
	{ A("modify-synchronization", "--op", "stop-copy", "--sync", "DMREPLICA:sync:nosuch"), 5,
	  "Synchronization" },
	{ A("modify-synchronization", "--op", "3", "--sync", "x", "--rsd", "{}"), 1,
	  "ReplicationSettingData" },
	{ A("modify", "--op", "dissolve", "--sync", "DMREPLICA:sync:nosuch"), 5,
	  "Synchronization" },
	{ A("get-synchronization-aspects", "--element", ""), 5, "Element" },
	{ A("get-synchronization-aspects", "--settings-state", "x"), 5, "SettingsState" },
	{ A("get-synchronization-aspects", "stray"), 5, "stray" },
	{ A("delete-synchronization-aspect"), 5, "SettingsState" },
	{ A("delete-synchronization-aspect", "--settings-state", "nosuch"), 5, "SettingsState" },
	{ A("delete-synchronization-aspect", "--aspect", "../../x"), 5, "SettingsState" },
	{ A("delete-synchronization-aspect", "--aspect", "a", "--element", "b"), 5, "Element" },
	{ A("list", "--sync-type", "12"), 5, "SyncType" },
	{ A("list", "--mode", "adaptive"), 1, "Mode" },
	{ A("list", "--copy-state", "bogus"), 5, "CopyState" },
	{ A("list", "--frobnicate"), 5, "--frobnicate" },
	{ A("job"), 5, "job" },
	{ A("job", "show"), 5, "Job" },
	{ A("job", "show", "nosuch"), 5, "Job" },
	{ A("job", "show", "../../etc/passwd"), 5, "Job" },
	{ A("job", "frob", "x"), 5, "job" },
	{ A("job", "show", "a", "b"), 5, "Job" },
	{ A("job", "show", "a", "--timeout", "3"), 5, "Timeout" },
	{ A("job", "wait", "a", "--timeout", "x"), 5, "Timeout" },
	{ A("job", "cleanup", "--older-than", "x"), 5, "OlderThan" },
	{ A("job", "cleanup", "--older-than", "5", "--all"), 5, "OlderThan" },
	{ A("job", "cleanup", "extra"), 5, "cleanup" },
	{ A("job", "cleanup", "--timeout", "3"), 5, "Timeout" },
	{ A("job", "list", "--all"), 5, "All" },
	{ A("job", "show", "x", "--older-than", "3"), 5, "OlderThan" },
	{ A("job", "delete"), 5, "Job" },
	{ A("job", "delete", "nosuch"), 5, "Job" },
	{ A("job", "delete", "../x"), 5, "Job" },
	{ A("capabilities", "--sync-type", "bogus"), 5, "SyncType" },
	{ A("bogus"), 5, "bogus" },
	{ A("--state-dir", "relative/dir", "list"), 5, "--state-dir" },
	{ A("--json"), 5, "command" },
	/* fine requests, for contrast */
	{ A("capabilities"), 0, NULL },
	{ A("CreateElementReplica", "--help"), -1, NULL },
	{ A("list", "--json"), 0, NULL },
	{ A("job", "list"), 0, NULL },
	{ A("get-synchronization-aspects"), 0, NULL },
	{ A("get-replication-relationships", "--sync-type", "Mirror", "--copy-state", "4"), 0, NULL },
};

static int run(const char *const *args, struct json_object **outp)
{
	char *argv[MAXA + 2];
	struct json_object *out = json_object_new_object();
	bool json;
	int argc = 0, rc;

	argv[argc++] = strdup("replicactl");
	for (; *args && argc < MAXA + 1; args++)
		argv[argc++] = strdup(*args);
	argv[argc] = NULL;
	{
		int n = argc, i;

		rc = cli_dispatch(argc, argv, out, &json);
		for (i = 0; i < n; i++)
			free(argv[i]);
	}
	if (outp)
		*outp = out;
	else
		json_object_put(out);
	return rc;
}

static void test_bad_requests(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = run(bad[i].argv, NULL);

		if (rc != bad[i].rv)
			fail_msg("case %u (%s %s): rv %d, want %d: %s", i, bad[i].argv[0],
				 bad[i].argv[1] ? bad[i].argv[1] : "", rc, bad[i].rv, err_msg());
		if (bad[i].param && !strstr(err_msg(), bad[i].param))
			fail_msg("case %u: message '%s' does not name %s", i, err_msg(),
				 bad[i].param);
	}
}

static void test_capabilities_output(void **state)
{
	struct json_object *out, *v, *t;
	const char *args[] = { "--json", "capabilities", NULL };

	(void)state;
	assert_int_equal(run(args, &out), 0);
	assert_true(json_object_object_get_ex(out, "SupportedReplicationTypes", &v));
	/* 2 sync mirror, 3 async mirror, 6 snapshot, 10/11 clone */
	assert_int_equal(json_object_array_length(v), 5);
	assert_int_equal(json_object_get_int(json_object_array_get_idx(v, 0)), 2);
	assert_int_equal(json_object_get_int(json_object_array_get_idx(v, 2)), 6);
	assert_true(json_object_object_get_ex(out, "ReplicationTypes", &t));
	assert_true(json_object_object_get_ex(json_object_array_get_idx(t, 2),
					      "SupportedOperations", &v));
	assert_int_equal(json_object_array_length(v), 5);	/* snapshot: 4, 15, 19, 14, 7 */
	json_object_put(out);
}

static void test_refs(void **state)
{
	struct json_object *o;

	(void)state;
	o = ref_job("abc");
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"CreationClassName\":\"CIM_ConcreteJob\",\"InstanceID\":"
			    "\"DMREPLICA:job:abc\"}");
	json_object_put(o);
	o = ref_sync("u-1");
	assert_string_equal(jget_str(o, "InstanceID"), "DMREPLICA:sync:u-1");
	assert_string_equal(jget_str(o, "CreationClassName"), "CIM_StorageSynchronized");
	json_object_put(o);
	o = json_object_new_object();
	out_set_rv(o, 4096, "ignored");
	assert_int_equal(jget_int(o, "ReturnValue", -1), 4096);
	assert_string_equal(jget_str(o, "ReturnValueDescription"),
			    "Method Parameters Checked - Job Started");
	assert_null(jget_str(o, "Error"));
	json_object_put(o);
	o = json_object_new_object();
	out_set_rv(o, 6, "busy");
	assert_string_equal(jget_str(o, "Error"), "busy");
	json_object_put(o);
}

static void fill_rel(struct rel *r)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->id, "11111111-2222-4333-8444-555555555555");
	strcpy(r->element_name, "db01");
	r->sync_type = ST_MIRROR;
	r->mode = MODE_ASYNC;
	r->region_sectors = 128;
	r->meta.major = 7, r->meta.minor = 1;
	r->source.major = 7, r->source.minor = 0;
	r->target.major = 7, r->target.minor = 2;
	r->source.sectors = 20480;
	strcpy(r->source.path, "/dev/loop0");
	strcpy(r->target.path, "/dev/loop2");
	strcpy(r->meta.path, "/dev/loop1");
	strcpy(r->target.alloc, "dir:/pool/db01-target.img");
	strcpy(r->front, "db01");
}

/* Dissolve's aspect: the point in time from the kernel, the dissolve of a
 * synchronized mirror, or the last fracture/split; listed and deleted. */
static void test_aspects(void **state)
{
	struct json_object *o, *out, *arr;
	struct rel r;
	const char *list[] = { "get-synchronization-aspects", "--element", "db01", NULL };
	const char *del[] = { "delete-synchronization-aspect", "--settings-state",
			      "DMREPLICA:aspect:11111111-2222-4333-8444-555555555555", NULL };

	(void)state;
	fill_rel(&r);
	r.live = true;
	r.status_ok = true;
	r.props.copy_state = CS_SYNCHRONIZED;
	r.created = 1000;
	o = aspect_record(&r, 2000000000);
	assert_string_equal(jget_str(o, "InstanceID"),
			    "DMREPLICA:aspect:11111111-2222-4333-8444-555555555555");
	assert_int_equal(jget_int(o, "PointInTime", 0), 2000000000);
	assert_string_equal(jget_str(o, "SourceElement"), "/dev/loop0");
	assert_string_equal(jget_str(o, "TargetElement"), "/dev/loop2");
	assert_int_equal(jget_int(o, "CopyStateAtDissolve", 0), CS_SYNCHRONIZED);
	json_object_put(o);
	/* a split mirror: the split time */
	r.props.copy_state = CS_SPLIT;
	r.stopped_at = 1500;
	o = aspect_record(&r, 2000000000);
	assert_int_equal(jget_int(o, "PointInTime", 0), 1500);
	json_object_put(o);
	/* the kernel's point in time wins (clone) */
	r.sync_type = ST_CLONE;
	strcpy(r.view, "db01");
	r.status.npairs = 1;
	strcpy(r.status.pairs[0].key, "pit_ns");
	strcpy(r.status.pairs[0].value, "1700000000123456789");
	o = aspect_record(&r, 2000000000);
	assert_int_equal(jget_int(o, "PointInTime", 0), 1700000000);
	assert_string_equal(jget_str(o, "TargetElement"), "/dev/mapper/db01");
	assert_string_equal(jget_str(o, "TargetDevice"), "/dev/loop2");
	/* unknown: no point in time */
	json_object_put(o);
	r.status.npairs = 0;
	r.sync_type = ST_MIRROR;
	r.props.copy_state = CS_FRACTURED;
	r.stopped_at = 0;
	o = aspect_record(&r, 2000000000);
	assert_int_equal(jget_int(o, "PointInTime", 0), 0);
	assert_true(json_object_object_get_ex(o, "WhenPointInTime", NULL));
	assert_int_equal(state_put("aspects", r.id, o), 0);
	json_object_put(o);
	/* listed by element, then deleted */
	assert_int_equal(run(list, &out), 0);
	assert_true(json_object_object_get_ex(out, "SynchronizationAspects", &arr));
	assert_int_equal(json_object_array_length(arr), 1);
	json_object_put(out);
	assert_int_equal(run(del, NULL), 0);
	assert_int_equal(run(list, &out), 0);
	assert_true(json_object_object_get_ex(out, "SynchronizationAspects", &arr));
	assert_int_equal(json_object_array_length(arr), 0);
	json_object_put(out);
	assert_int_equal(run(del, NULL), 5);
	err_clear();
}

/* Finished jobs go after the retention time, or by job delete / cleanup. */
static void test_job_cleanup(void **state)
{
	char id1[40], id2[40], id3[40];
	const char *cleanup[] = { "job", "cleanup", NULL };
	const char *all[] = { "job", "cleanup", "--all", NULL };
	const char *del1[] = { "job", "delete", id1, NULL };
	struct json_object *out, *arr;
	struct job j;

	(void)state;
	unsetenv("REPLICACTL_JOB_RETENTION");
	assert_int_equal(job_retention_s(), 300);
	setenv("REPLICACTL_JOB_RETENTION", "10", 1);
	assert_int_equal(job_retention_s(), 10);
	setenv("REPLICACTL_JOB_RETENTION", "ten", 1);
	assert_int_equal(job_retention_s(), 300);
	unsetenv("REPLICACTL_JOB_RETENTION");

	/* clean slate */
	assert_int_equal(run(all, NULL), 0);
	assert_int_equal(job_create("CreateElementReplica", "nosuch-1", CS_SYNCHRONIZED, 0, id1), 0);
	assert_int_equal(job_create("CreateElementReplica", "nosuch-2", CS_SYNCHRONIZED, 0, id2), 0);
	/* id2 finished long ago */
	assert_int_equal(job_load(id2, &j), 0);
	j.finished = now_s() - 1000;
	j.job_state = JS_COMPLETED;
	assert_int_equal(job_save(&j), 0);
	assert_int_equal(run(cleanup, &out), 0);
	assert_true(json_object_object_get_ex(out, "RemovedJobs", &arr));
	assert_int_equal(json_object_array_length(arr), 1);
	assert_non_null(strstr(json_object_get_string(json_object_array_get_idx(arr, 0)), id2));
	json_object_put(out);
	assert_int_equal(job_load(id2, &j), 5);
	/* id1 was evaluated (its relationship is gone: Exception) and is kept */
	assert_int_equal(job_load(id1, &j), 0);
	assert_true(j.finished > 0);
	assert_int_equal(j.job_state, JS_EXCEPTION);
	/* job_to_cim tells when it goes */
	job_derive(&j, true, true, NULL);
	{
		struct json_object *c = job_to_cim(&j);

		assert_true(jget_bool(c, "DeleteOnCompletion"));
		assert_string_equal(jget_str(c, "TimeBeforeRemoval"), "00000000000500.000000:000");
		assert_non_null(jget_str(c, "WhenRemoved"));
		json_object_put(c);
	}
	/* explicit delete */
	assert_int_equal(run(del1, NULL), 0);
	assert_int_equal(run(del1, NULL), 5);
	/* --all removes every finished job, now */
	assert_int_equal(job_create("ModifyReplicaSynchronization", "nosuch-3", CS_SPLIT, OP_SPLIT,
				    id3), 0);
	assert_int_equal(run(all, &out), 0);
	assert_true(json_object_object_get_ex(out, "RemovedJobs", &arr));
	assert_int_equal(json_object_array_length(arr), 1);
	json_object_put(out);
	assert_int_equal(job_load(id3, &j), 5);
	err_clear();
}

static void test_table_lines(void **state)
{
	struct rel r;
	char *s;

	(void)state;
	fill_rel(&r);
	s = rel_front_params(&r, false);
	assert_string_equal(s, "mirror async 7:1 7:0 7:2 128");
	free(s);
	r.fail_host = true;
	r.start_inactive = true;
	strcpy(r.core_args, "copy_inflight 4 copy_rate_min 1024");
	s = rel_front_params(&r, false);
	assert_string_equal(s, "mirror async 7:1 7:0 7:2 128 2 fail_host_on_target_error "
			       "start_inactive 4 copy_inflight 4 copy_rate_min 1024");
	free(s);
	/* re-assembly never restarts inactive */
	s = rel_front_params(&r, true);
	assert_string_equal(s, "mirror async 7:1 7:0 7:2 128 1 fail_host_on_target_error "
			       "4 copy_inflight 4 copy_rate_min 1024");
	free(s);
	r.fail_host = r.start_inactive = false;
	s = rel_front_params(&r, false);
	assert_string_equal(s, "mirror async 7:1 7:0 7:2 128 0 4 copy_inflight 4 "
			       "copy_rate_min 1024");
	free(s);
	/* the view assumption */
	r.sync_type = ST_SNAPSHOT;
	r.mode = MODE_SYNC;
	r.core_args[0] = 0;
	s = rel_view_params(&r);
	assert_string_equal(s, "view snapshot 7:1 7:0 7:2 128");
	free(s);
	r.view_ro = true;
	r.sync_type = ST_CLONE;
	s = rel_view_params(&r);
	assert_string_equal(s, "view clone 7:1 7:0 7:2 128 1 ro");
	free(s);
}

static void test_record_roundtrip(void **state)
{
	struct rel r, b;
	struct json_object *o;

	(void)state;
	fill_rel(&r);
	r.inplace = true;
	strcpy(r.real, "db01-real");
	r.orig_table = strdup("0 20480 linear 8:16 2048\n");
	r.view_ro = true;
	strcpy(r.kernel_uuid, "00112233445566778899aabbccddeeff");
	r.created = 1700000000;
	o = rel_to_record(&r);
	assert_int_equal(rel_from_record(o, &b), 0);
	assert_string_equal(b.id, r.id);
	assert_string_equal(b.element_name, "db01");
	assert_int_equal(b.sync_type, 6);
	assert_int_equal(b.mode, 3);
	assert_true(b.inplace);
	assert_string_equal(b.real, "db01-real");
	assert_string_equal(b.orig_table, r.orig_table);
	assert_string_equal(b.target.alloc, "dir:/pool/db01-target.img");
	assert_int_equal(b.target.major, 7);
	assert_int_equal(b.target.minor, 2);
	assert_int_equal(b.source.sectors, 20480);
	assert_true(b.view_ro);
	assert_string_equal(b.kernel_uuid, r.kernel_uuid);
	assert_int_equal(b.created, 1700000000);
	json_object_put(o);
	rel_free(&b);
	/* records that make no sense are refused */
	o = json_tokener_parse("{\"Id\":\"../x\",\"SyncType\":6}");
	assert_int_equal(rel_from_record(o, &b), -1);
	json_object_put(o);
	o = json_tokener_parse("{\"Id\":\"abc\",\"SyncType\":5}");
	assert_int_equal(rel_from_record(o, &b), -1);
	json_object_put(o);
	o = json_tokener_parse("{\"Id\":\"abc\",\"SyncType\":6,\"RegionSectors\":100}");
	assert_int_equal(rel_from_record(o, &b), -1);
	json_object_put(o);
	rel_free(&r);
}

static void test_job_derive(void **state)
{
	struct cim_sync_props p;
	struct job j;

	(void)state;
	memset(&j, 0, sizeof(j));
	memset(&p, 0, sizeof(p));
	j.wait_for = CS_SYNCHRONIZED;
	p.copy_state = CS_UNSYNCHRONIZED;
	p.percent_synced = 37;
	job_derive(&j, true, true, &p);
	assert_int_equal(j.job_state, JS_RUNNING);
	assert_int_equal(j.percent, 37);
	assert_int_equal(j.n_op_status, 1);
	assert_int_equal(j.op_status[0], OS_OK);
	p.copy_state = CS_SYNCHRONIZED;
	p.percent_synced = 100;
	job_derive(&j, true, true, &p);
	assert_int_equal(j.job_state, JS_COMPLETED);
	assert_int_equal(j.percent, 100);
	assert_int_equal(j.n_op_status, 2);
	assert_int_equal(j.op_status[0], OS_OK);
	assert_int_equal(j.op_status[1], OS_COMPLETED);
	p.copy_state = CS_BROKEN;
	job_derive(&j, true, true, &p);
	assert_int_equal(j.job_state, JS_EXCEPTION);
	assert_int_equal(j.op_status[0], OS_ERROR);
	assert_int_equal(j.op_status[1], OS_COMPLETED);
	assert_true(strlen(j.error) > 0);
	p.copy_state = CS_SUSPENDED;
	job_derive(&j, true, true, &p);
	assert_int_equal(j.job_state, 5);
	job_derive(&j, false, false, NULL);
	assert_int_equal(j.job_state, JS_EXCEPTION);
	job_derive(&j, true, false, NULL);
	assert_int_equal(j.job_state, JS_EXCEPTION);
	/* 100% of regions but not yet Synchronized: never report 100 early */
	p.copy_state = CS_UNSYNCHRONIZED;
	p.percent_synced = 100;
	job_derive(&j, true, true, &p);
	assert_int_equal(j.percent, 99);
	/* a finished job keeps its result */
	j.finished = 5;
	j.job_state = JS_COMPLETED;
	job_derive(&j, false, false, NULL);
	assert_int_equal(j.job_state, JS_COMPLETED);
}

static int count_cb(const char *id, struct json_object *o, void *arg)
{
	(void)id;
	(void)o;
	(*(int *)arg)++;
	return 0;
}

static void test_state(void **state)
{
	struct json_object *o, *g;
	char path[128];
	int n = 0;
	FILE *f;
	char buf[16];

	(void)state;
	assert_int_equal(state_init(g_dir), 0);
	snprintf(path, sizeof(path), "%s/file", g_dir);
	assert_int_equal(state_atomic_write(path, "hello", 5), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, sizeof(buf), f), 5);
	fclose(f);
	assert_int_equal(state_atomic_write("/nonexistent-dir/x", "a", 1), -1);
	o = json_object_new_object();
	json_object_object_add(o, "k", json_object_new_int(4));
	assert_int_equal(state_put("jobs", "j1", o), 0);
	assert_int_equal(state_put("jobs", "j2", o), 0);
	assert_int_equal(state_put("jobs", "../evil", o), -1);
	json_object_put(o);
	g = state_get("jobs", "j1");
	assert_non_null(g);
	assert_int_equal(jget_int(g, "k", 0), 4);
	json_object_put(g);
	assert_null(state_get("jobs", "nope"));
	state_each("jobs", count_cb, &n);
	assert_int_equal(n, 2);
	assert_int_equal(state_del("jobs", "j1"), 0);
	assert_null(state_get("jobs", "j1"));
	assert_int_equal(state_del("jobs", "j2"), 0);
	/* the lock is exclusive */
	{
		int a = state_lock(0), b;

		assert_true(a >= 0);
		b = state_lock(0);
		assert_int_equal(b, -2);
		state_unlock(a);
		b = state_lock(0);
		assert_true(b >= 0);
		state_unlock(b);
	}
	err_clear();
}

static void test_pools(void **state)
{
	struct pool p;

	(void)state;
	assert_int_equal(pool_parse("dir:/tmp", &p), 0);
	assert_int_equal(p.kind, POOL_DIR);
	assert_int_equal(pool_parse("/tmp", &p), 0);
	assert_int_equal(pool_parse("dir:relative", &p), 5);
	assert_int_equal(pool_parse("/nonexistent-dir", &p), 5);
	assert_int_equal(pool_parse("", &p), 5);
	assert_int_equal(pool_parse("lvm:bad/vg", &p), 5);
	if (access("/sbin/lvcreate", X_OK) && access("/usr/sbin/lvcreate", X_OK)) {
		err_clear();
		assert_int_equal(pool_parse("lvm:vg0", &p), 1);
		assert_non_null(strstr(err_msg(), "TargetPool"));
		assert_int_equal(pool_parse("vg0", &p), 1);
	} else {
		err_clear();
		assert_int_equal(pool_parse("lvm:vg0", &p), 0);
		assert_int_equal(p.kind, POOL_LVM);
		assert_string_equal(p.where, "vg0");
		assert_int_equal(pool_parse("vg0", &p), 0);
		assert_int_equal(p.kind, POOL_LVM);
		assert_int_equal(pool_parse("lvm:-vg", &p), 5);
		assert_int_equal(pool_parse("lvm:..", &p), 5);
		assert_int_equal(pool_parse("lvm:snapshots", &p), 0);	/* fine for a VG */
		/* names of allocations in a VG: lvm(8) VALID NAMES */
		err_clear();
		assert_int_equal(pool_name_ok(&p, "db-target"), 0);
		assert_int_equal(pool_name_ok(&p, "snapshot1-target"), 5);
		assert_non_null(strstr(err_msg(), "ElementName"));
		err_clear();
		assert_int_equal(pool_name_ok(&p, "pvmove0-meta"), 5);
		assert_int_equal(pool_name_ok(&p, "a_tmeta-target"), 5);
		assert_int_equal(pool_name_ok(&p, "x_rimage_0-target"), 5);
	}
	/* pure syntax, whatever is installed */
	assert_true(lvm_name_valid("vg0"));
	assert_true(lvm_name_valid("a.b+c_d-e"));
	assert_false(lvm_name_valid("-a"));
	assert_false(lvm_name_valid("."));
	assert_false(lvm_name_valid("a/b"));
	assert_false(lvm_name_valid("snapshotx"));
	assert_false(lvm_name_valid("x_mlog"));
	assert_false(lvm_name_valid(""));
	/* a directory pool takes any element name helper names */
	assert_int_equal(pool_parse("/tmp", &p), 0);
	assert_int_equal(pool_name_ok(&p, "snapshot1-target"), 0);
	err_clear();
}

static int setup(void **state)
{
	(void)state;
	strcpy(g_dir, "/tmp/replicactl-test-XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	setenv("REPLICACTL_STATE_DIR", g_dir, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_capabilities_output),
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_table_lines),
		cmocka_unit_test(test_record_roundtrip),
		cmocka_unit_test(test_job_derive),
		cmocka_unit_test(test_job_cleanup),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_pools),
		cmocka_unit_test(test_aspects),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
