/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * replicactl: replication relationships - CreateElementReplica,
 * ModifyReplicaSynchronization, GetReplicationRelationships, assemble -
 * on top of dm-replica tables.
 */
#ifndef REPLICACTL_RELATIONSHIP_H
#define REPLICACTL_RELATIONSHIP_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "cim.h"
#include "rsd.h"

#define DMREPLICA_UUID_PREFIX "DMREPLICA-"
#define SYNC_ID_PREFIX "DMREPLICA:sync:"
#define DEFAULT_REGION_SECTORS 128u

struct rel_dev {
	char path[256];
	uint32_t major, minor;
	uint64_t sectors;
	char alloc[320];	/* pool allocation descriptor, "" if user's */
};

struct rel {
	char id[64];
	char element_name[128];
	uint32_t sync_type, mode, region_sectors;
	struct rel_dev source, target, meta;
	bool inplace;		/* the source dm-linear volume was reloaded */
	char front[128];	/* dm name of the device carrying the replica table */
	char real[128];		/* in place: dm device with the original table */
	char view[128];		/* snapshot/clone view, "" for a mirror */
	char *orig_table;	/* in place: the source's original table text */
	bool fail_host, view_ro, start_inactive, nosync;
	char core_args[256];	/* "key value key value" */
	char kernel_uuid[64];
	int64_t created;
	int64_t stopped_at;	/* when a mirror was last fractured/split, 0 */
	/* discovery results */
	bool has_record;
	bool live;		/* front carries a replica table now */
	bool status_ok;
	struct rstatus status;
	struct cim_sync_props props;
};

void rel_free(struct rel *r);
struct json_object *rel_to_record(const struct rel *r);
int rel_from_record(struct json_object *o, struct rel *r);
/* The CIM_StorageSynchronized view of a relationship, for output. */
struct json_object *rel_to_cim(const struct rel *r);

/*
 * Table lines.  The view line is the one place that encodes the assumed
 * kernel interface for snapshot/clone views (not yet in dm-replica.rst).
 */
char *rel_front_params(const struct rel *r, bool reassemble);
char *rel_view_params(const struct rel *r);

/* ---- requests ---- */

struct cer_req {
	const char *element_name;
	bool has_sync_type;
	uint32_t sync_type;
	bool has_mode;
	uint32_t mode;
	const char *source, *source_ap, *target, *target_ap;
	const char *rsd_text, *goal, *pool, *meta;
	bool has_wait;
	uint32_t wait;
	bool has_timeout;
	uint64_t timeout_s;
	uint32_t region_sectors;	/* 0: default */
	bool force;
};

struct cer_plan {
	uint32_t sync_type, mode, region_sectors;
	struct rsd rsd;
	struct rsd_effect eff;
	bool thick;
	char element_name[128];
};

/* Parameter checks that need no devices: 0, 1 or 5 (message via rfail()). */
int cer_validate(const struct cer_req *q, struct cer_plan *plan);
/* The whole method; fills `out` with the CIM out-parameters. */
int rel_create(const struct cer_req *q, struct json_object *out);

struct mrs_req {
	bool has_op;
	uint32_t op;
	const char *sync;
	bool force;
	bool has_wait;
	uint32_t wait;
	bool has_timeout;
	uint64_t timeout_s;
};
int mrs_validate(const struct mrs_req *q);
int rel_modify(const struct mrs_req *q, struct json_object *out);
/* Legacy ModifySynchronization: q->op is a cim_legacy_operation value,
 * translated (legacy_op_translate) and run as rel_modify. */
int rel_modify_legacy(const struct mrs_req *q, struct json_object *out);

struct grr_req {
	bool has_sync_type, has_mode, has_copy_state;
	uint32_t sync_type, mode, copy_state;
	const char *element;
};
int grr_validate(const struct grr_req *q);
int rel_list(const struct grr_req *q, struct json_object *out);

int rel_assemble(const char *const *candidates, int n, struct json_object *out);

/*
 * SynchronizationAspects: what Dissolve leaves behind (state dir, kind
 * "aspects"): the former relationship, its elements and its point in time.
 */
#define ASPECT_ID_PREFIX "DMREPLICA:aspect:"
struct json_object *aspect_record(const struct rel *r, int64_t now);
int rel_aspects(const char *element, struct json_object *out);
int rel_aspect_delete(const char *id, struct json_object *out);

/* ---- discovery ---- */

struct rel_set {
	unsigned int n;
	struct rel *v;
};
/* Kernel tables merged with the state records (records rebuilt if missing). */
int rel_discover(struct rel_set *set);
void rel_set_free(struct rel_set *set);
/* Find by "DMREPLICA:sync:<id>", id, ElementName or a dm name. */
struct rel *rel_find(struct rel_set *set, const char *key);
/* Refresh the live status of one relationship. */
int rel_refresh(struct rel *r);

/*
 * Wait until the relationship reaches `want`: 0, 3 (timeout) or 4 (it can
 * no longer get there).  op: the operation waited for (see wait_reached),
 * 0 for none.  timeout_ms < 0: forever.  Uses dm events, with
 * status polling as a fallback.
 */
int rel_wait_state(struct rel *r, uint32_t want, uint32_t op, int64_t timeout_ms);

#endif
