// SPDX-License-Identifier: GPL-2.0-only
/* replicactl: command line. */
#include "cli.h"
#include "caps.h"
#include "cim.h"
#include "dm.h"
#include "job.h"
#include "lio.h"
#include "output.h"
#include "relationship.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_usage(FILE *f)
{
	fputs(
"usage: replicactl [--json] [--state-dir DIR] [-v] COMMAND [OPTIONS]\n"
"\n"
"Commands (shaped like the CIM_ReplicationService methods; option names may\n"
"also be written as CIM names, e.g. --SyncType; values are names or numbers):\n"
"\n"
"  create-element-replica --sync-type mirror|snapshot|clone|6|7|8\n"
"        --source-element DEV [--mode sync|async|2|3] [--element-name NAME]\n"
"        [--target-element DEV | --target-pool dir:/DIR|lvm:VG [--target-setting-goal thin|thick]]\n"
"        [--metadata-element DEV] [--region-size SECTORS|SIZE]\n"
"        [--replication-setting-data JSON|'instance of CIM_ReplicationSettingData {...};'|@FILE]\n"
"        [--wait-for-copy-state STATE [--timeout SECONDS]] [--force]\n"
"        [--source-access-point X] [--target-access-point X]   (Not Supported)\n"
"  modify-replica-synchronization --operation OP --synchronization ID\n"
"        [--force] [--wait-for-copy-state STATE [--timeout SECONDS]]\n"
"        OP: fracture, resync, restore, detach, dissolve, split, suspend,\n"
"            resume, reset-to-sync, reset-to-async, abort, activate,\n"
"            deactivate, return-to-resourcepool, reverse-roles (a\n"
"            synchronized mirror: full copy the other way), or the CIM number\n"
"  modify-synchronization --operation OP --synchronization ID [--force]\n"
"        legacy ModifySynchronization, translated: detach (2), fracture (3),\n"
"        resync (4), restore (5), prepare (6) and unprepare (7) (Not Supported),\n"
"        quiesce (8) -> suspend, unquiesce (9) -> resume, reset-to-sync (10),\n"
"        reset-to-async (11), start-copy (12) -> activate or resume,\n"
"        stop-copy (13) -> suspend\n"
"  get-synchronization-aspects [--element DEV|NAME]   what Dissolve kept\n"
"  delete-synchronization-aspect --settings-state ID\n"
"  get-replication-relationships [--sync-type T] [--mode M] [--copy-state S]\n"
"        [--element DEV|NAME]\n"
"  job show|wait|list|delete [JOB] [--timeout SECONDS]\n"
"  job cleanup [--older-than SECONDS | --all]   remove finished jobs; they\n"
"        also go by themselves $REPLICACTL_JOB_RETENTION seconds (default 300)\n"
"        after they finished (checked by job list/cleanup and new jobs)\n"
"  capabilities [--sync-type T]\n"
"  assemble (alias activate) [DEV...]   bring relationships back after a reboot\n"
"  export --synchronization ID [--view] [--read-only] [--fabric loop|iscsi]\n"
"        [--portal IP:PORT]   LIO iblock backstore over the front (or the view),\n"
"        as a tcm_loop SCSI disk or an iSCSI target (default portal 127.0.0.1:3260)\n"
"  unexport --synchronization ID [--view|--front]   remove them (Detach and\n"
"        Return To ResourcePool do it first)\n"
"\n"
"DEV is a path, dm name, dm uuid or MAJOR:MINOR.  ID is DMREPLICA:sync:<uuid>,\n"
"<uuid>, the ElementName or a dm name of the relationship.\n"
"State directory: --state-dir, else $REPLICACTL_STATE_DIR, else /var/lib/replicactl.\n"
"\n"
"Exit status (the CIM ReturnValue class; --json prints ReturnValue itself):\n"
"  0  Completed with No Error (0), or Job Started (4096: see Job)\n"
"  1  Not Supported            4  Failed\n"
"  2  Unknown/Unspecified      5  Invalid Parameter (bad option or value)\n"
"  3  Timeout                  6  In Use\n", f);
}

/* ---- option parsing ---- */

enum optid {
	O_NONE, O_ELEMENT_NAME, O_SYNC_TYPE, O_MODE, O_SOURCE, O_SOURCE_AP, O_TARGET,
	O_TARGET_AP, O_RSD, O_GOAL, O_POOL, O_WAIT, O_TIMEOUT, O_META, O_REGION,
	O_FORCE, O_OPERATION, O_SYNC, O_COPY_STATE, O_ELEMENT,
	O_VIEW, O_FRONT, O_READ_ONLY, O_FABRIC, O_PORTAL, O_SETTINGS_STATE, O_OLDER_THAN,
	O_ALL,
};

struct optdef {
	const char *names;	/* normalized spellings, '|' separated */
	enum optid id;
	bool arg;
};

static const struct optdef create_opts[] = {
	{ "elementname|name", O_ELEMENT_NAME, true },
	{ "synctype", O_SYNC_TYPE, true },
	{ "mode", O_MODE, true },
	{ "sourceelement|source", O_SOURCE, true },
	{ "sourceaccesspoint", O_SOURCE_AP, true },
	{ "targetelement|target", O_TARGET, true },
	{ "targetaccesspoint", O_TARGET_AP, true },
	{ "replicationsettingdata|rsd", O_RSD, true },
	{ "targetsettinggoal|goal", O_GOAL, true },
	{ "targetpool|pool", O_POOL, true },
	{ "waitforcopystate|wait", O_WAIT, true },
	{ "timeout", O_TIMEOUT, true },
	{ "metadataelement|metadata", O_META, true },
	{ "regionsize|regionsectors", O_REGION, true },
	{ "force", O_FORCE, false },
	{ NULL, O_NONE, false },
};

static const struct optdef modify_opts[] = {
	{ "operation|op", O_OPERATION, true },
	{ "synchronization|sync", O_SYNC, true },
	{ "force", O_FORCE, false },
	{ "waitforcopystate|wait", O_WAIT, true },
	{ "timeout", O_TIMEOUT, true },
	{ "replicationsettingdata|rsd", O_RSD, true },
	{ NULL, O_NONE, false },
};

static const struct optdef list_opts[] = {
	{ "synctype", O_SYNC_TYPE, true },
	{ "mode", O_MODE, true },
	{ "copystate", O_COPY_STATE, true },
	{ "element|sourceelement|targetelement", O_ELEMENT, true },
	{ NULL, O_NONE, false },
};

static const struct optdef aspect_opts[] = {
	{ "element|sourceelement|targetelement", O_ELEMENT, true },
	{ "settingsstate|aspect|synchronizationaspect", O_SETTINGS_STATE, true },
	{ NULL, O_NONE, false },
};

static const struct optdef job_opts[] = {
	{ "timeout", O_TIMEOUT, true },
	{ "olderthan", O_OLDER_THAN, true },
	{ "all", O_ALL, false },
	{ NULL, O_NONE, false },
};

static const struct optdef caps_opts[] = {
	{ "synctype", O_SYNC_TYPE, true },
	{ NULL, O_NONE, false },
};

static const struct optdef export_opts[] = {
	{ "synchronization|sync", O_SYNC, true },
	{ "view", O_VIEW, false },
	{ "readonly|ro", O_READ_ONLY, false },
	{ "fabric", O_FABRIC, true },
	{ "portal", O_PORTAL, true },
	{ NULL, O_NONE, false },
};

static const struct optdef unexport_opts[] = {
	{ "synchronization|sync", O_SYNC, true },
	{ "view", O_VIEW, false },
	{ "front", O_FRONT, false },
	{ NULL, O_NONE, false },
};

static const struct optdef *find_opt(const struct optdef *defs, const char *norm)
{
	for (; defs->names; defs++) {
		const char *p = defs->names;

		while (p) {
			const char *bar = strchr(p, '|');
			size_t n = bar ? (size_t)(bar - p) : strlen(p);

			if (strlen(norm) == n && !strncmp(p, norm, n))
				return defs;
			p = bar ? bar + 1 : NULL;
		}
	}
	return NULL;
}

#define MAXPOS 64

struct parsed {
	const char *val[32];	/* by optid */
	bool set[32];
	const char *pos[MAXPOS];
	int npos;
};

static int parse_opts(int argc, char **argv, const struct optdef *defs, struct parsed *p)
{
	int i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		char name[64], norm[64];
		const char *eq, *val = NULL;
		const struct optdef *d;

		if (a[0] != '-' || a[1] != '-') {
			if (a[0] == '-' && a[1])
				return rfail(RV_INVALID_PARAM, "option %s: unknown", a);
			if (p->npos >= MAXPOS)
				return rfail(RV_INVALID_PARAM, "too many arguments");
			p->pos[p->npos++] = a;
			continue;
		}
		eq = strchr(a, '=');
		if (scopy(name, sizeof(name), a + 2))
			return rfail(RV_INVALID_PARAM, "option %.40s: unknown", a);
		if (eq) {
			name[eq - a - 2] = 0;
			val = eq + 1;
		}
		norm_name(norm, sizeof(norm), name);
		d = find_opt(defs, norm);
		if (!d)
			return rfail(RV_INVALID_PARAM, "option --%s: unknown for this command", name);
		if (p->set[d->id])
			return rfail(RV_INVALID_PARAM, "option --%s: given twice", name);
		if (d->arg && !val) {
			if (i + 1 >= argc)
				return rfail(RV_INVALID_PARAM, "option --%s: needs a value", name);
			val = argv[++i];
		}
		if (!d->arg && val)
			return rfail(RV_INVALID_PARAM, "option --%s: takes no value", name);
		p->set[d->id] = true;
		p->val[d->id] = val;
	}
	return 0;
}

/* parse_opts for a command that takes options only, no arguments. */
static int parse_options_only(int argc, char **argv, const struct optdef *defs,
			      struct parsed *p)
{
	int rc = parse_opts(argc, argv, defs, p);

	if (!rc && p->npos)
		rc = rfail(RV_INVALID_PARAM, "unexpected argument '%s'", p->pos[0]);
	return rc;
}

static int enum_opt(const struct parsed *p, enum optid id, const struct cim_map *m,
		    bool *has, uint32_t *v)
{
	*has = false;
	if (!p->set[id])
		return 0;
	if (cim_parse(m, p->val[id], v))
		return rfail(RV_INVALID_PARAM, "%s: '%s' is not a valid value", m->property,
			    p->val[id]);
	*has = true;
	return 0;
}

static int timeout_opt(const struct parsed *p, bool *has, uint64_t *v)
{
	*has = false;
	if (!p->set[O_TIMEOUT])
		return 0;
	if (parse_u64(p->val[O_TIMEOUT], v))
		return rfail(RV_INVALID_PARAM, "Timeout: '%s' is not a number of seconds",
			    p->val[O_TIMEOUT]);
	*has = true;
	return 0;
}

static char *g_rsd_buf;

static int rsd_opt(const char *v, const char **out)
{
	FILE *f;
	long n;

	if (!v || v[0] != '@') {
		*out = v;
		return 0;
	}
	f = fopen(v + 1, "re");
	if (!f)
		return rfail(RV_INVALID_PARAM, "ReplicationSettingData: cannot read %s: %s", v + 1,
			    strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (n < 0 || n > 65536) {
		fclose(f);
		return rfail(RV_INVALID_PARAM, "ReplicationSettingData: %s is too large", v + 1);
	}
	free(g_rsd_buf);
	g_rsd_buf = calloc(1, (size_t)n + 1);
	if (!g_rsd_buf || fread(g_rsd_buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		return rfail(RV_INVALID_PARAM, "ReplicationSettingData: cannot read %s", v + 1);
	}
	fclose(f);
	*out = g_rsd_buf;
	return 0;
}

/* ---- commands ---- */

static int cmd_create(int argc, char **argv, struct json_object *out)
{
	struct cer_req q;
	struct parsed p;
	bool has;
	int rc;

	if ((rc = parse_options_only(argc, argv, create_opts, &p)))
		return rc;
	memset(&q, 0, sizeof(q));
	q.element_name = p.val[O_ELEMENT_NAME];
	if ((rc = enum_opt(&p, O_SYNC_TYPE, &cim_sync_type, &q.has_sync_type, &q.sync_type)) ||
	    (rc = enum_opt(&p, O_MODE, &cim_mode, &q.has_mode, &q.mode)) ||
	    (rc = enum_opt(&p, O_WAIT, &cim_copy_state, &q.has_wait, &q.wait)) ||
	    (rc = timeout_opt(&p, &q.has_timeout, &q.timeout_s)))
		return rc;
	q.source = p.val[O_SOURCE];
	q.source_ap = p.val[O_SOURCE_AP];
	q.target = p.val[O_TARGET];
	q.target_ap = p.val[O_TARGET_AP];
	if ((rc = rsd_opt(p.val[O_RSD], &q.rsd_text)))
		return rc;
	q.goal = p.val[O_GOAL];
	q.pool = p.val[O_POOL];
	q.meta = p.val[O_META];
	q.force = p.set[O_FORCE];
	if (p.set[O_REGION]) {
		uint64_t v;

		/* plain numbers are sectors; with a suffix, a size */
		if (!parse_u64(p.val[O_REGION], &v))
			has = true;
		else if (!parse_size_bytes(p.val[O_REGION], &v) && v % 512 == 0)
			v /= 512, has = true;
		else
			has = false;
		if (!has || v == 0 || v > UINT32_MAX)
			return rfail(RV_INVALID_PARAM, "RegionSize: '%s' is not a size",
				    p.val[O_REGION]);
		q.region_sectors = (uint32_t)v;
	}
	return rel_create(&q, out);
}

/* The options of modify-replica-synchronization and modify-synchronization. */
static int parse_modify(int argc, char **argv, const struct cim_map *operations,
			struct mrs_req *q)
{
	struct parsed p;
	int rc;

	if ((rc = parse_options_only(argc, argv, modify_opts, &p)))
		return rc;
	memset(q, 0, sizeof(*q));
	if ((rc = enum_opt(&p, O_OPERATION, operations, &q->has_op, &q->op)) ||
	    (rc = enum_opt(&p, O_WAIT, &cim_copy_state, &q->has_wait, &q->wait)) ||
	    (rc = timeout_opt(&p, &q->has_timeout, &q->timeout_s)))
		return rc;
	if (p.set[O_RSD])
		return rfail(RV_NOT_SUPPORTED,
			    "ReplicationSettingData: changing settings of a relationship is not supported");
	q->sync = p.val[O_SYNC];
	q->force = p.set[O_FORCE];
	return 0;
}

static int cmd_modify(int argc, char **argv, struct json_object *out)
{
	struct mrs_req q;
	int rc = parse_modify(argc, argv, &cim_operation, &q);

	return rc ? rc : rel_modify(&q, out);
}

static int cmd_legacy(int argc, char **argv, struct json_object *out)
{
	struct mrs_req q;
	int rc = parse_modify(argc, argv, &cim_legacy_operation, &q);

	return rc ? rc : rel_modify_legacy(&q, out);
}

static int cmd_aspects(int argc, char **argv, struct json_object *out)
{
	struct parsed p;
	int rc;

	if ((rc = parse_options_only(argc, argv, aspect_opts, &p)))
		return rc;
	if (p.set[O_SETTINGS_STATE])
		return rfail(RV_INVALID_PARAM, "SettingsState: only for delete-synchronization-aspect");
	return rel_aspects(p.val[O_ELEMENT], out);
}

static int cmd_aspect_delete(int argc, char **argv, struct json_object *out)
{
	struct parsed p;
	int rc;

	if ((rc = parse_options_only(argc, argv, aspect_opts, &p)))
		return rc;
	if (p.set[O_ELEMENT])
		return rfail(RV_INVALID_PARAM, "Element: only for get-synchronization-aspects");
	return rel_aspect_delete(p.val[O_SETTINGS_STATE], out);
}

static int cmd_list(int argc, char **argv, struct json_object *out)
{
	struct grr_req q;
	struct parsed p;
	int rc;

	if ((rc = parse_options_only(argc, argv, list_opts, &p)))
		return rc;
	memset(&q, 0, sizeof(q));
	if ((rc = enum_opt(&p, O_SYNC_TYPE, &cim_sync_type, &q.has_sync_type, &q.sync_type)) ||
	    (rc = enum_opt(&p, O_MODE, &cim_mode, &q.has_mode, &q.mode)) ||
	    (rc = enum_opt(&p, O_COPY_STATE, &cim_copy_state, &q.has_copy_state, &q.copy_state)))
		return rc;
	q.element = p.val[O_ELEMENT];
	return rel_list(&q, out);
}

static int job_list_one(const char *id, struct json_object *o, void *arg)
{
	struct json_object *arr = arg;
	struct job j;

	(void)o;
	if (job_load(id, &j)) {
		err_clear();
		return 0;
	}
	job_evaluate(&j);
	json_object_array_add(arr, job_to_cim(&j));
	return 0;
}

static int cmd_job(int argc, char **argv, struct json_object *out)
{
	struct parsed p;
	struct job j;
	bool has_t;
	uint64_t t = 0;
	int rc;

	if ((rc = parse_opts(argc, argv, job_opts, &p)))
		return rc;
	if ((rc = timeout_opt(&p, &has_t, &t)))
		return rc;
	if (p.npos < 1)
		return rfail(RV_INVALID_PARAM, "job: expected show, wait, list, delete or cleanup");
	if ((p.set[O_OLDER_THAN] || p.set[O_ALL]) && strcmp(p.pos[0], "cleanup"))
		return rfail(RV_INVALID_PARAM, "%s: only for job cleanup",
			    p.set[O_ALL] ? "All" : "OlderThan");
	if (!strcmp(p.pos[0], "cleanup")) {
		struct json_object *arr;
		uint64_t older = (uint64_t)job_retention_s();

		if (p.npos > 1)
			return rfail(RV_INVALID_PARAM, "job cleanup: unexpected argument");
		if (has_t)
			return rfail(RV_INVALID_PARAM, "Timeout: only for job wait");
		if (p.set[O_OLDER_THAN] && p.set[O_ALL])
			return rfail(RV_INVALID_PARAM, "OlderThan: not with --all");
		if (p.set[O_OLDER_THAN] &&
		    (parse_u64(p.val[O_OLDER_THAN], &older) || older > 366ull * 24 * 3600))
			return rfail(RV_INVALID_PARAM, "OlderThan: '%s' is not a number of seconds",
				    p.val[O_OLDER_THAN]);
		if (p.set[O_ALL])
			older = 0;
		arr = json_object_new_array();
		job_gc((int64_t)older, arr);
		json_object_object_add(out, "RemovedJobs", arr);
		return RV_OK;
	}
	if (!strcmp(p.pos[0], "delete")) {
		if (p.npos != 2)
			return rfail(RV_INVALID_PARAM, "Job: exactly one job id expected");
		if (has_t)
			return rfail(RV_INVALID_PARAM, "Timeout: only for job wait");
		return job_delete(p.pos[1]);
	}
	if (!strcmp(p.pos[0], "list")) {
		struct json_object *arr = json_object_new_array();

		if (p.npos > 1) {
			json_object_put(arr);
			return rfail(RV_INVALID_PARAM, "job list: unexpected argument");
		}
		if (has_t) {
			json_object_put(arr);
			return rfail(RV_INVALID_PARAM, "Timeout: only for job wait");
		}
		job_gc(job_retention_s(), NULL);
		err_clear();
		state_each("jobs", job_list_one, arr);
		json_object_object_add(out, "Jobs", arr);
		return RV_OK;
	}
	if (strcmp(p.pos[0], "show") && strcmp(p.pos[0], "wait"))
		return rfail(RV_INVALID_PARAM, "job: '%s' is not show, wait, list, delete or cleanup",
			    p.pos[0]);
	if (p.npos != 2)
		return rfail(RV_INVALID_PARAM, "Job: exactly one job id expected");
	if (has_t && strcmp(p.pos[0], "wait"))
		return rfail(RV_INVALID_PARAM, "Timeout: only for job wait");
	if ((rc = job_load(p.pos[1], &j)))
		return rc;
	if (!strcmp(p.pos[0], "wait"))
		rc = job_wait(&j, has_t ? (int64_t)t * 1000 : -1);
	else
		job_evaluate(&j);
	json_object_object_add(out, "Job", job_to_cim(&j));
	return rc;
}

static struct json_object *u32_array(const uint32_t *v, unsigned int max)
{
	struct json_object *a = json_object_new_array();
	unsigned int i;

	for (i = 0; i < max && v[i]; i++)
		json_object_array_add(a, json_object_new_int((int32_t)v[i]));
	return a;
}

static int cmd_caps(int argc, char **argv, struct json_object *out)
{
	struct json_object *types = json_object_new_array(), *rts = json_object_new_array();
	static const uint32_t sync_actions[] = { 2, 5, 10, 0 };
	static const uint32_t async_actions[] = { 2, 5, 0 };
	static const uint32_t objects[] = { 2, 0 };
	struct parsed p;
	bool has_st;
	uint32_t only = 0;
	unsigned int i, k;
	int rc;

	if ((rc = parse_opts(argc, argv, caps_opts, &p)) ||
	    (rc = enum_opt(&p, O_SYNC_TYPE, &cim_sync_type, &has_st, &only))) {
		json_object_put(types);
		json_object_put(rts);
		return rc;
	}
	for (i = 0; i < caps_sync_types_count; i++) {
		const struct sync_type_caps *c = &caps_sync_types[i];
		unsigned int m;

		if (!c->supported || (has_st && c->sync_type != only))
			continue;
		for (m = 0; m < 3 && c->modes[m]; m++) {
			struct json_object *t = json_object_new_object();
			struct json_object *ops = json_object_new_array();
			struct json_object *later = json_object_new_array();
			struct json_object *cs = json_object_new_array();
			struct json_object *ha = json_object_new_array();
			struct json_object *w = json_object_new_object();
			struct json_object *pre = json_object_new_object();
			struct json_object *feat = json_object_new_array();
			uint32_t rt = replication_type_of(c->sync_type, c->modes[m]);

			json_object_array_add(rts, json_object_new_int((int32_t)rt));
			jset_enum(t, "ReplicationType", &cim_replication_type, rt);
			jset_enum(t, "SyncType", &cim_sync_type, c->sync_type);
			jset_enum(t, "Mode", &cim_mode, c->modes[m]);
			for (k = 0; k < caps_op_rules_count; k++) {
				const struct op_rule *r = &caps_op_rules[k];
				struct json_object *states;
				unsigned int s;

				if (r->sync_type != c->sync_type)
					continue;
				if (!r->supported) {
					json_object_array_add(later, json_object_new_int((int32_t)r->op));
					continue;
				}
				json_object_array_add(ops, json_object_new_int((int32_t)r->op));
				states = json_object_new_array();
				if (r->allowed == CS_ANY)
					json_object_array_add(states, json_object_new_string("Any"));
				else for (s = 0; s < 32; s++)
					if (r->allowed & CS_BIT(s) && cim_name(&cim_copy_state, s))
						json_object_array_add(states,
							json_object_new_string(cim_name(&cim_copy_state, s)));
				json_object_object_add(pre, cim_name_or(&cim_operation, r->op), states);
			}
			json_object_object_add(t, "SupportedOperations", ops);
			json_object_object_add(t, "OperationPreconditions", pre);
			json_object_object_add(t, "OperationsAwaitingKernelSupport", later);
			for (k = 0; k < 12 && c->states[k].state; k++) {
				json_object_array_add(cs, json_object_new_int((int32_t)c->states[k].state));
				json_object_array_add(ha, json_object_new_boolean(c->states[k].host_accessible));
			}
			json_object_object_add(t, "SupportedCopyStates", cs);
			json_object_object_add(t, "HostAccessible", ha);
			json_object_object_add(w, "CreateElementReplica", u32_array(c->create_wait, 6));
			json_object_object_add(w, "ModifyReplicaSynchronization",
					       u32_array(c->modify_wait, 8));
			json_object_object_add(t, "SupportedWaitForCopyStates", w);
			/* 7 suspends source I/O when necessary, 24 adjustable
			 * CopyPriority, 51 client supplies target ElementName */
			json_object_array_add(feat, json_object_new_int(7));
			json_object_array_add(feat, json_object_new_int(24));
			json_object_array_add(feat, json_object_new_int(51));
			/* 29 Reverse Roles requires Synchronized state (mirror) */
			if (c->sync_type == ST_MIRROR)
				json_object_array_add(feat, json_object_new_int(29));
			json_object_object_add(t, "SupportedFeatures", feat);
			jset_int(t, "SupportedMaximumTargetsPerSource", 1);
			json_object_array_add(types, t);
		}
	}
	json_object_object_add(out, "SupportedReplicationTypes", rts);
	json_object_object_add(out, "SupportedSynchronousActions", u32_array(sync_actions, 4));
	json_object_object_add(out, "SupportedAsynchronousActions", u32_array(async_actions, 3));
	json_object_object_add(out, "SupportedStorageObjects", u32_array(objects, 2));
	json_object_object_add(out, "ReplicationTypes", types);
	return RV_OK;
}

static int cmd_assemble(int argc, char **argv, struct json_object *out)
{
	struct parsed p;
	static const struct optdef none[] = { { NULL, O_NONE, false } };
	int rc;

	if ((rc = parse_opts(argc, argv, none, &p)))
		return rc;
	return rel_assemble(p.pos, p.npos, out);
}

static int cmd_export(int argc, char **argv, struct json_object *out)
{
	struct lio_req q;
	struct parsed p;
	int rc;

	if ((rc = parse_options_only(argc, argv, export_opts, &p)))
		return rc;
	memset(&q, 0, sizeof(q));
	q.sync = p.val[O_SYNC];
	q.view = p.set[O_VIEW];
	q.read_only = p.set[O_READ_ONLY];
	q.fabric = p.val[O_FABRIC];
	q.portal = p.val[O_PORTAL];
	return lio_export(&q, out);
}

static int cmd_unexport(int argc, char **argv, struct json_object *out)
{
	struct parsed p;
	int rc;

	if ((rc = parse_options_only(argc, argv, unexport_opts, &p)))
		return rc;
	if (p.set[O_VIEW] && p.set[O_FRONT])
		return rfail(RV_INVALID_PARAM, "View, Front: give at most one");
	return lio_unexport(p.val[O_SYNC], p.set[O_FRONT] ? 1 : p.set[O_VIEW] ? 2 : 0, out);
}

struct command {
	const char *names;	/* normalized */
	int (*fn)(int argc, char **argv, struct json_object *out);
};

static const struct command commands[] = {
	{ "createelementreplica|create", cmd_create },
	{ "modifyreplicasynchronization|modify", cmd_modify },
	{ "modifysynchronization|modifysync", cmd_legacy },
	{ "getsynchronizationaspects|aspects", cmd_aspects },
	{ "deletesynchronizationaspect", cmd_aspect_delete },
	{ "getreplicationrelationships|list", cmd_list },
	{ "job", cmd_job },
	{ "capabilities|caps", cmd_caps },
	{ "assemble|activate", cmd_assemble },
	{ "export", cmd_export },
	{ "unexport", cmd_unexport },
	{ NULL, NULL },
};

int cli_dispatch(int argc, char **argv, struct json_object *out, bool *json)
{
	const char *state_override = NULL;
	char norm[64];
	int i, rc;

	err_clear();
	*json = false;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--json"))
			*json = true;
		else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
			g_verbose++;
		else if (!strcmp(a, "--state-dir")) {
			if (i + 1 >= argc)
				return rfail(RV_INVALID_PARAM, "option --state-dir: needs a value");
			state_override = argv[++i];
		} else if (!strncmp(a, "--state-dir=", 12))
			state_override = a + 12;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help") || !strcmp(a, "help"))
			return -1;
		else
			break;
	}
	if (i >= argc)
		return rfail(RV_INVALID_PARAM, "no command given (see replicactl --help)");
	if ((rc = state_init(state_override)))
		return rc;
	dmw_init();
	norm_name(norm, sizeof(norm), argv[i]);
	for (const struct command *c = commands; c->names; c++) {
		const char *p = c->names;

		while (p) {
			const char *bar = strchr(p, '|');
			size_t n = bar ? (size_t)(bar - p) : strlen(p);

			if (strlen(norm) == n && !strncmp(p, norm, n)) {
				int k, sub = argc - i - 1;
				char **sargv = argv + i + 1;

				/* --json/-v may also follow the command */
				for (k = 0; k < sub; k++) {
					if (!strcmp(sargv[k], "--json") || !strcmp(sargv[k], "-v") ||
					    !strcmp(sargv[k], "--verbose")) {
						if (sargv[k][1] == 'v' || sargv[k][2] == 'v')
							g_verbose++;
						else
							*json = true;
						memmove(&sargv[k], &sargv[k + 1],
							(size_t)(sub - k - 1) * sizeof(char *));
						sub--;
						k--;
					} else if (!strcmp(sargv[k], "--help") || !strcmp(sargv[k], "-h")) {
						return -1;
					}
				}
				return c->fn(sub, sargv, out);
			}
			p = bar ? bar + 1 : NULL;
		}
	}
	return rfail(RV_INVALID_PARAM, "unknown command '%s' (see replicactl --help)", argv[i]);
}

int cli_main(int argc, char **argv)
{
	struct json_object *out = json_object_new_object();
	bool json = false;
	int rc;

	rc = cli_dispatch(argc, argv, out, &json);
	if (rc == -1) {
		cli_usage(stdout);
		json_object_put(out);
		return 0;
	}
	if (rc != RV_OK && rc != RV_JOB_STARTED && !err_msg()[0])
		rfail(rc, "%s", cim_name_or(&cim_return_value, (uint32_t)rc));
	{
		/* ReturnValue first, for readers */
		struct json_object *res = json_object_new_object();

		out_set_rv(res, (uint32_t)rc, err_msg());
		json_object_object_foreach(out, k, v)
			json_object_object_add(res, k, json_object_get(v));
		output_print(stdout, res, json);
		json_object_put(res);
	}
	if (rc != RV_OK && rc != RV_JOB_STARTED && err_msg()[0])
		fprintf(stderr, "replicactl: %s\n", err_msg());
	json_object_put(out);
	free(g_rsd_buf);
	g_rsd_buf = NULL;
	return rv_exit_status((uint32_t)rc);
}
