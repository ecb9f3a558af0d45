// SPDX-License-Identifier: GPL-2.0-only
/* replicactl: relationships on dm-replica. */
#include "relationship.h"
#include "caps.h"
#include "dm.h"
#include "job.h"
#include "lio.h"
#include "output.h"
#include "pool.h"
#include "replica-format.h"
#include "state.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Table lines                                                          */
/* ------------------------------------------------------------------ */

static const char *st_word(uint32_t st)
{
	return st == ST_MIRROR ? "mirror" : st == ST_SNAPSHOT ? "snapshot" : "clone";
}

static const char *mode_word(uint32_t m)
{
	return m == MODE_ASYNC ? "async" : "sync";
}

/* Device numbers the tables use: the -real device stands in for an
 * in-place source. */
static int source_devno(const struct rel *r, uint32_t *maj, uint32_t *min)
{
	struct dmw_info info;

	if (r->inplace) {
		if (dmw_info_name(r->real, &info) || !info.exists)
			return rfail(-1, "the source stand-in device %s is missing", r->real);
		*maj = info.major;
		*min = info.minor;
		return 0;
	}
	*maj = r->source.major;
	*min = r->source.minor;
	return 0;
}

char *rel_front_params(const struct rel *r, bool reassemble)
{
	const char *feat[4];
	unsigned int nf = 0, ncore = 0;
	uint32_t smaj, smin;
	char buf[1024], *p;
	size_t off;

	if (source_devno(r, &smaj, &smin))
		return NULL;
	if (r->nosync && !reassemble && r->sync_type == ST_MIRROR)
		feat[nf++] = "nosync";
	if (r->fail_host)
		feat[nf++] = "fail_host_on_target_error";
	if (r->start_inactive && !reassemble)
		feat[nf++] = "start_inactive";
	for (p = (char *)r->core_args; *p; p++)
		if (*p == ' ')
			ncore++;
	if (r->core_args[0])
		ncore++;	/* words = spaces + 1 */
	off = (size_t)snprintf(buf, sizeof(buf), "%s %s %u:%u %u:%u %u:%u %u",
			       st_word(r->sync_type), mode_word(r->mode),
			       r->meta.major, r->meta.minor, smaj, smin,
			       r->target.major, r->target.minor, r->region_sectors);
	if (nf || ncore) {
		unsigned int i;

		off += (size_t)snprintf(buf + off, sizeof(buf) - off, " %u", nf);
		for (i = 0; i < nf; i++)
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, " %s", feat[i]);
	}
	/* "#core args" counts words (key and value), as dm-clone does. */
	if (ncore)
		snprintf(buf + off, sizeof(buf) - off, " %u %s", ncore, r->core_args);
	return strdup(buf);
}

/*
 * The snapshot/clone view: a second `replica` table whose sync type
 * argument is `view`, naming the same devices and region size as the
 * origin (dm-replica.rst, "View table line"):
 *   replica view <sync type> <metadata dev> <source dev> <target dev>
 *           <region size> [1 ro]
 * This is the only place that builds it; the origin must be loaded first
 * (a view cannot create the relationship).
 */
char *rel_view_params(const struct rel *r)
{
	uint32_t smaj, smin;
	char buf[512];

	if (source_devno(r, &smaj, &smin))
		return NULL;
	snprintf(buf, sizeof(buf), "view %s %u:%u %u:%u %u:%u %u%s",
		 st_word(r->sync_type), r->meta.major, r->meta.minor, smaj, smin,
		 r->target.major, r->target.minor, r->region_sectors,
		 r->view_ro ? " 1 ro" : "");
	return strdup(buf);
}

/* ------------------------------------------------------------------ */
/* Records                                                              */
/* ------------------------------------------------------------------ */

void rel_free(struct rel *r)
{
	free(r->orig_table);
	r->orig_table = NULL;
}

static struct json_object *dev_json(const struct rel_dev *d)
{
	struct json_object *o = json_object_new_object();
	char devno[32];

	snprintf(devno, sizeof(devno), "%u:%u", d->major, d->minor);
	jset_str(o, "Path", d->path);
	jset_str(o, "Dev", devno);
	jset_int(o, "Sectors", (int64_t)d->sectors);
	jset_str(o, "Alloc", d->alloc[0] ? d->alloc : NULL);
	return o;
}

static void dev_from_json(struct json_object *o, struct rel_dev *d)
{
	const char *s;

	memset(d, 0, sizeof(*d));
	if (!o)
		return;
	scopy(d->path, sizeof(d->path), jget_str(o, "Path"));
	s = jget_str(o, "Dev");
	if (s && sscanf(s, "%u:%u", &d->major, &d->minor) != 2)
		d->major = d->minor = 0;
	d->sectors = (uint64_t)jget_int(o, "Sectors", 0);
	scopy(d->alloc, sizeof(d->alloc), jget_str(o, "Alloc"));
}

struct json_object *rel_to_record(const struct rel *r)
{
	struct json_object *o = json_object_new_object();
	char iid[128];

	snprintf(iid, sizeof(iid), SYNC_ID_PREFIX "%s", r->id);
	jset_str(o, "InstanceID", iid);
	jset_str(o, "Id", r->id);
	jset_str(o, "ElementName", r->element_name);
	jset_int(o, "SyncType", r->sync_type);
	jset_int(o, "Mode", r->mode);
	jset_int(o, "RegionSectors", r->region_sectors);
	json_object_object_add(o, "Source", dev_json(&r->source));
	json_object_object_add(o, "Target", dev_json(&r->target));
	json_object_object_add(o, "Metadata", dev_json(&r->meta));
	jset_str(o, "FrontKind", r->inplace ? "inplace" : "new");
	jset_str(o, "Front", r->front);
	jset_str(o, "Real", r->real[0] ? r->real : NULL);
	jset_str(o, "View", r->view[0] ? r->view : NULL);
	jset_str(o, "OriginalTable", r->orig_table);
	jset_bool(o, "FailHostOnTargetError", r->fail_host);
	jset_bool(o, "ViewReadOnly", r->view_ro);
	jset_bool(o, "StartInactive", r->start_inactive);
	jset_str(o, "CoreArgs", r->core_args);
	jset_str(o, "KernelUuid", r->kernel_uuid[0] ? r->kernel_uuid : NULL);
	jset_int(o, "Created", r->created);
	if (r->stopped_at)
		jset_int(o, "WhenStopped", r->stopped_at);
	return o;
}

int rel_from_record(struct json_object *o, struct rel *r)
{
	struct json_object *v;
	const char *s;

	memset(r, 0, sizeof(*r));
	if (scopy(r->id, sizeof(r->id), jget_str(o, "Id")) || !name_valid(r->id, 63))
		return -1;
	scopy(r->element_name, sizeof(r->element_name), jget_str(o, "ElementName"));
	r->sync_type = (uint32_t)jget_int(o, "SyncType", 0);
	r->mode = (uint32_t)jget_int(o, "Mode", MODE_SYNC);
	r->region_sectors = (uint32_t)jget_int(o, "RegionSectors", DEFAULT_REGION_SECTORS);
	if (!caps_for(r->sync_type) || !replica_region_size_valid(r->region_sectors))
		return -1;
	dev_from_json(json_object_object_get_ex(o, "Source", &v) ? v : NULL, &r->source);
	dev_from_json(json_object_object_get_ex(o, "Target", &v) ? v : NULL, &r->target);
	dev_from_json(json_object_object_get_ex(o, "Metadata", &v) ? v : NULL, &r->meta);
	s = jget_str(o, "FrontKind");
	r->inplace = s && !strcmp(s, "inplace");
	scopy(r->front, sizeof(r->front), jget_str(o, "Front"));
	scopy(r->real, sizeof(r->real), jget_str(o, "Real"));
	scopy(r->view, sizeof(r->view), jget_str(o, "View"));
	s = jget_str(o, "OriginalTable");
	r->orig_table = s ? strdup(s) : NULL;
	r->fail_host = jget_bool(o, "FailHostOnTargetError");
	r->view_ro = jget_bool(o, "ViewReadOnly");
	r->start_inactive = jget_bool(o, "StartInactive");
	scopy(r->core_args, sizeof(r->core_args), jget_str(o, "CoreArgs"));
	scopy(r->kernel_uuid, sizeof(r->kernel_uuid), jget_str(o, "KernelUuid"));
	r->created = jget_int(o, "Created", 0);
	r->stopped_at = jget_int(o, "WhenStopped", 0);
	r->has_record = true;
	return 0;
}

static int rel_save(const struct rel *r)
{
	struct json_object *o = rel_to_record(r);
	int rc = state_put("syncs", r->id, o);

	json_object_put(o);
	return rc;
}

static const char *target_element_path(const struct rel *r, char *buf, size_t size)
{
	if (r->view[0]) {
		snprintf(buf, size, "/dev/mapper/%s", r->view);
		return buf;
	}
	return r->target.path;
}

struct json_object *rel_to_cim(const struct rel *r)
{
	struct json_object *o = json_object_new_object(), *dm;
	char iid[128], tp[300];

	snprintf(iid, sizeof(iid), SYNC_ID_PREFIX "%s", r->id);
	jset_str(o, "InstanceID", iid);
	jset_str(o, "ElementName", r->element_name);
	json_object_object_add(o, "SystemElement",
			       ref_volume(r->inplace || !r->front[0] ? r->source.path : r->source.path,
					  NULL));
	json_object_object_add(o, "SyncedElement",
			       ref_volume(target_element_path(r, tp, sizeof(tp)), r->element_name));
	jset_enum(o, "SyncType", &cim_sync_type, r->sync_type);
	jset_enum(o, "Mode", &cim_mode, r->live && r->status_ok ? r->status.mode : r->mode);
	jset_int(o, "ReplicationType", replication_type_of(r->sync_type, r->mode));
	if (r->live && r->status_ok) {
		jset_enum(o, "CopyState", &cim_copy_state, r->props.copy_state);
		jset_enum(o, "ProgressStatus", &cim_progress_status, r->props.progress_status);
		jset_int(o, "PercentSynced", r->props.percent_synced);
		jset_bool(o, "SyncMaintained", r->props.sync_maintained);
		jset_enum(o, "SyncState", &cim_sync_state, r->props.sync_state);
		jset_enum(o, "ReplicaType", &cim_replica_type, r->props.replica_type);
		jset_int(o, "CopyType", r->sync_type == ST_MIRROR ?
			 (r->mode == MODE_ASYNC ? 2 : 3) : 4);
	} else {
		jset_enum(o, "CopyState", &cim_copy_state, CS_PARTITIONED);
		jset_enum(o, "ProgressStatus", &cim_progress_status, PS_UNKNOWN);
	}
	jset_enum(o, "RequestedCopyState", &cim_copy_state, CS_NOT_APPLICABLE);
	jset_bool(o, "FailedCopyStopsHostIO", r->fail_host);
	if (r->created) {
		char t[40];

		iso_time(r->created, t, sizeof(t));
		jset_str(o, "WhenEstablished", t);
	}
	dm = json_object_new_object();
	jset_bool(dm, "Assembled", r->live);
	jset_str(dm, "Front", r->front);
	jset_str(dm, "FrontKind", r->inplace ? "inplace" : "new");
	if (r->real[0])
		jset_str(dm, "Real", r->real);
	if (r->view[0])
		jset_str(dm, "View", r->view);
	jset_str(dm, "Source", r->source.path);
	jset_str(dm, "Target", r->target.path);
	jset_str(dm, "Metadata", r->meta.path);
	jset_int(dm, "RegionSectors", r->region_sectors);
	if (r->kernel_uuid[0])
		jset_str(dm, "KernelUuid", r->kernel_uuid);
	if (r->live && r->status_ok) {
		char h[3];

		jset_int(dm, "RegionsInSync", (int64_t)r->status.in_sync);
		jset_int(dm, "RegionsTotal", (int64_t)r->status.total);
		jset_int(dm, "RegionsCopying", (int64_t)r->status.copying);
		jset_int(dm, "RegionsDirty", (int64_t)r->status.dirty);
		jset_int(dm, "LagRegions", (int64_t)r->status.lag_regions);
		jset_int(dm, "LagMs", (int64_t)r->status.lag_ms);
		memcpy(h, r->status.health, 3);
		jset_str(dm, "Health", h);
		jset_str(dm, "MetadataMode", r->status.meta_mode);
	}
	jset_bool(dm, "HasRecord", r->has_record);
	json_object_object_add(o, "DmReplica", dm);
	return o;
}

/* ------------------------------------------------------------------ */
/* Undo stack                                                           */
/* ------------------------------------------------------------------ */

enum undo_kind {
	U_REMOVE_DEV,		/* a: dm name */
	U_RESUME_DEV,		/* a: dm name */
	U_RESTORE_TABLE,	/* a: dm name, text: table (suspend, load, resume) */
	U_CLEAR_INACTIVE,	/* a: dm name */
	U_POOL_FREE,		/* a: alloc, b: device */
	U_DEL_RECORD,		/* a: id */
};

#define UNDO_MAX 16

struct undo {
	int n;
	struct {
		enum undo_kind kind;
		char a[320];
		char b[256];
		char *text;
	} s[UNDO_MAX];
};

static void undo_push(struct undo *u, enum undo_kind k, const char *a, const char *b,
		      const char *text)
{
	if (u->n >= UNDO_MAX)
		abort();	/* a programming error: the stack is sized for create */
	u->s[u->n].kind = k;
	scopy(u->s[u->n].a, sizeof(u->s[0].a), a);
	scopy(u->s[u->n].b, sizeof(u->s[0].b), b);
	u->s[u->n].text = text ? strdup(text) : NULL;
	u->n++;
}

static void undo_drop(struct undo *u)
{
	while (u->n > 0) {
		u->n--;
		free(u->s[u->n].text);
	}
}

static void undo_run(struct undo *u)
{
	while (u->n > 0) {
		struct dmw_table t;
		int i = --u->n;

		vlog("undo step %d (kind %d, %s)", i, u->s[i].kind, u->s[i].a);
		switch (u->s[i].kind) {
		case U_REMOVE_DEV:
			dmw_remove(u->s[i].a);
			break;
		case U_RESUME_DEV:
			dmw_resume(u->s[i].a);
			break;
		case U_CLEAR_INACTIVE:
			dmw_clear(u->s[i].a);
			break;
		case U_RESTORE_TABLE:
			if (!dmw_table_parse(u->s[i].text, &t)) {
				dmw_suspend(u->s[i].a, false);
				if (dmw_load(u->s[i].a, &t, false))
					dmw_clear(u->s[i].a);
				dmw_resume(u->s[i].a);
				dmw_table_free(&t);
			}
			break;
		case U_POOL_FREE:
			pool_free(u->s[i].a, u->s[i].b);
			break;
		case U_DEL_RECORD:
			state_del("syncs", u->s[i].a);
			break;
		}
		free(u->s[i].text);
	}
}

/* ------------------------------------------------------------------ */
/* Discovery                                                            */
/* ------------------------------------------------------------------ */

void rel_set_free(struct rel_set *set)
{
	unsigned int i;

	for (i = 0; i < set->n; i++)
		rel_free(&set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

static struct rel *set_add(struct rel_set *set)
{
	struct rel *nv = realloc(set->v, (set->n + 1) * sizeof(*nv));

	if (!nv)
		return NULL;
	set->v = nv;
	memset(&nv[set->n], 0, sizeof(nv[0]));
	return &nv[set->n++];
}

static bool uuid_role(const char *uuid, const char *role, char *id, size_t idsz)
{
	size_t pl = strlen(DMREPLICA_UUID_PREFIX), rl = strlen(role), n;

	if (!uuid || strncmp(uuid, DMREPLICA_UUID_PREFIX, pl))
		return false;
	n = strlen(uuid);
	if (n <= pl + rl + 1 || strcmp(uuid + n - rl, role) || uuid[n - rl - 1] != '-')
		return false;
	n = n - rl - 1 - pl;
	if (n >= idsz)
		return false;
	memcpy(id, uuid + pl, n);
	id[n] = 0;
	return true;
}

static void norm_uuid(const char *in, char *out, size_t size)
{
	size_t j = 0;

	for (; in && *in && j + 1 < size; in++)
		if (isxdigit((unsigned char)*in))
			out[j++] = (char)tolower((unsigned char)*in);
	out[j] = 0;
}

static void sb_uuid_str(const struct replica_sb *sb, char *out, size_t size)
{
	const u8 *b = sb->uuid;

	snprintf(out, size,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
}

/* words of a replica table line */
struct rtable {
	bool view;
	uint32_t sync_type, mode, region;
	uint32_t meta[2], src[2], tgt[2];
	bool fail_host, ro;
	char core[256];
};

static int parse_rtable(const char *params, struct rtable *t)
{
	char w[48][64];
	int n = 0, i = 0, base;
	const char *p = params;

	memset(t, 0, sizeof(*t));
	while (*p && n < 48) {
		int len = 0;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		while (p[len] && p[len] != ' ')
			len++;
		if (len >= 64)
			return -1;
		memcpy(w[n], p, (size_t)len);
		w[n][len] = 0;
		n++;
		p += len;
	}
	if (n < 6)
		return -1;
	if (!strcmp(w[0], "view")) {
		t->view = true;
		i = 1;
		if (cim_parse(&cim_sync_type, w[1], &t->sync_type))
			return -1;
		t->mode = MODE_SYNC;
		base = 2;
	} else {
		if (cim_parse(&cim_sync_type, w[0], &t->sync_type) ||
		    cim_parse(&cim_mode, w[1], &t->mode))
			return -1;
		base = 2;
	}
	(void)i;
	if (n < base + 4)
		return -1;
	if (sscanf(w[base], "%u:%u", &t->meta[0], &t->meta[1]) != 2 ||
	    sscanf(w[base + 1], "%u:%u", &t->src[0], &t->src[1]) != 2 ||
	    sscanf(w[base + 2], "%u:%u", &t->tgt[0], &t->tgt[1]) != 2 ||
	    sscanf(w[base + 3], "%u", &t->region) != 1)
		return -1;
	i = base + 4;
	if (i < n) {
		int nf = atoi(w[i++]), k;

		for (k = 0; k < nf && i < n; k++, i++) {
			if (!strcmp(w[i], "fail_host_on_target_error"))
				t->fail_host = true;
			if (!strcmp(w[i], "ro"))
				t->ro = true;
		}
		if (i < n) {
			int nc = atoi(w[i++]);
			size_t off = 0;

			for (k = 0; k < nc && i < n; k++, i++)
				off += (size_t)snprintf(t->core + off, sizeof(t->core) - off, "%s%s",
							off ? " " : "", w[i]);
		}
	}
	return 0;
}

static void dev_fill(struct rel_dev *d, uint32_t maj, uint32_t min)
{
	struct blkdev bd;

	d->major = maj;
	d->minor = min;
	if (!blkdev_from_devno(maj, min, &bd)) {
		if (!d->path[0] || strcmp(d->path, bd.path))
			scopy(d->path, sizeof(d->path), bd.path);
		d->sectors = bd.sectors;
	}
}

int rel_refresh(struct rel *r)
{
	struct dmw_table t;
	int rc = -1;

	r->status_ok = false;
	if (!r->front[0] || dmw_get_table(r->front, true, &t))
		return -1;
	if (t.n == 1 && !strcmp(t.t[0].type, "replica") &&
	    rstatus_parse(t.t[0].params, &r->status) == 0) {
		rstatus_to_cim(&r->status, &r->props);
		r->status_ok = true;
		rc = 0;
	} else if (t.n == 1 && !strcmp(t.t[0].type, "replica")) {
		/* keep the parse error for the caller */
		rc = -2;
	}
	dmw_table_free(&t);
	return rc;
}

struct scan {
	struct rel_set *set;
	char views[64][2][128];	/* id, name */
	unsigned int nviews;
	struct rtable vt[64];
};

static int scan_one(const char *name, uint32_t maj, uint32_t min, void *arg)
{
	struct scan *sc = arg;
	struct dmw_info info;
	struct dmw_table t;
	struct rtable rt;
	char id[64];
	struct rel *r;
	struct blkdev sbd;

	(void)maj;
	(void)min;
	if (dmw_info_name(name, &info) || !info.exists)
		return 0;
	if (dmw_get_table(name, false, &t))
		return 0;
	if (t.n != 1 || strcmp(t.t[0].type, "replica") || parse_rtable(t.t[0].params, &rt)) {
		dmw_table_free(&t);
		return 0;
	}
	if (rt.view) {
		if (sc->nviews < 64) {
			if (!uuid_role(info.uuid, "view", id, sizeof(id)))
				id[0] = 0;
			scopy(sc->views[sc->nviews][0], 128, id);
			scopy(sc->views[sc->nviews][1], 128, name);
			sc->vt[sc->nviews] = rt;
			sc->nviews++;
		}
		dmw_table_free(&t);
		return 0;
	}
	r = set_add(sc->set);
	if (!r) {
		dmw_table_free(&t);
		return -1;
	}
	scopy(r->front, sizeof(r->front), name);
	r->sync_type = rt.sync_type;
	r->mode = rt.mode;
	r->region_sectors = rt.region;
	r->fail_host = rt.fail_host;
	scopy(r->core_args, sizeof(r->core_args), rt.core);
	dev_fill(&r->meta, rt.meta[0], rt.meta[1]);
	dev_fill(&r->target, rt.tgt[0], rt.tgt[1]);
	dev_fill(&r->source, rt.src[0], rt.src[1]);
	r->live = true;
	/* an in-place front keeps its own uuid (maybe an old, detached
	 * DMREPLICA one): the -real stand-in below it names the relationship */
	if (!blkdev_from_devno(rt.src[0], rt.src[1], &sbd) && sbd.is_dm &&
	    uuid_role(sbd.dm_uuid, "real", id, sizeof(id))) {
		scopy(r->id, sizeof(r->id), id);
		r->inplace = true;
		scopy(r->real, sizeof(r->real), sbd.dm_name);
		/* the user-visible source is the reloaded volume itself */
		dev_fill(&r->source, info.major, info.minor);
	} else if (uuid_role(info.uuid, "front", id, sizeof(id))) {
		scopy(r->id, sizeof(r->id), id);
	}
	rel_refresh(r);
	if (r->status_ok) {
		const char *ku = rstatus_get(&r->status, "uuid");

		if (ku)
			norm_uuid(ku, r->kernel_uuid, sizeof(r->kernel_uuid));
	}
	if (!r->id[0]) {
		/* not made by this helper: name it after the kernel uuid */
		if (r->kernel_uuid[0])
			scopy(r->id, sizeof(r->id), r->kernel_uuid);
		else
			scopy(r->id, sizeof(r->id), name);
	}
	dmw_table_free(&t);
	return 0;
}

struct rec_ctx {
	struct rel_set *set;
};

static int merge_record(const char *id, struct json_object *o, void *arg)
{
	struct rec_ctx *c = arg;
	struct rel rec, *live = NULL;
	unsigned int i;

	(void)id;
	if (rel_from_record(o, &rec))
		return 0;	/* unreadable record: ignored, the kernel is the truth */
	for (i = 0; i < c->set->n; i++)
		if (!strcmp(c->set->v[i].id, rec.id))
			live = &c->set->v[i];
	if (!live) {
		struct rel *r = set_add(c->set);

		if (!r) {
			rel_free(&rec);
			return -1;
		}
		*r = rec;
		return 0;
	}
	/* live tables win for what they say; the record adds the rest */
	live->has_record = true;
	scopy(live->element_name, sizeof(live->element_name), rec.element_name);
	if (rec.inplace) {
		live->inplace = true;
		if (!live->real[0])
			scopy(live->real, sizeof(live->real), rec.real);
		live->source = rec.source;
	}
	if (!rec.inplace)	/* after Reverse Roles the source may be the pool's */
		scopy(live->source.alloc, sizeof(live->source.alloc), rec.source.alloc);
	scopy(live->target.alloc, sizeof(live->target.alloc), rec.target.alloc);
	scopy(live->meta.alloc, sizeof(live->meta.alloc), rec.meta.alloc);
	if (!live->view[0])
		scopy(live->view, sizeof(live->view), rec.view);
	live->orig_table = rec.orig_table;
	rec.orig_table = NULL;
	live->view_ro = rec.view_ro;
	live->start_inactive = rec.start_inactive;
	live->created = rec.created;
	live->stopped_at = rec.stopped_at;
	if (!live->kernel_uuid[0])
		scopy(live->kernel_uuid, sizeof(live->kernel_uuid), rec.kernel_uuid);
	rel_free(&rec);
	return 0;
}

int rel_discover(struct rel_set *set)
{
	struct scan *sc = calloc(1, sizeof(*sc));
	struct rec_ctx rc = { set };
	unsigned int i, j;

	memset(set, 0, sizeof(*set));
	if (!sc)
		return -1;
	sc->set = set;
	if (dmw_list(scan_one, sc)) {
		/* no device-mapper: records only */
		err_clear();
	}
	/* attach views */
	for (j = 0; j < sc->nviews; j++) {
		for (i = 0; i < set->n; i++) {
			struct rel *r = &set->v[i];
			bool match = sc->views[j][0][0] ? !strcmp(sc->views[j][0], r->id) :
				     (sc->vt[j].meta[0] == r->meta.major &&
				      sc->vt[j].meta[1] == r->meta.minor);

			if (match) {
				scopy(r->view, sizeof(r->view), sc->views[j][1]);
				r->view_ro = sc->vt[j].ro;
			}
		}
	}
	free(sc);
	state_each("syncs", merge_record, &rc);
	/* rebuild missing records from the kernel (best effort) */
	for (i = 0; i < set->n; i++) {
		struct rel *r = &set->v[i];

		if (r->live && !r->has_record) {
			size_t rl = strlen(r->real);

			/* the names this helper gave: <name>, <name>-front,
			 * <name>-real (in place) and the view <name> */
			if (r->view[0])
				scopy(r->element_name, sizeof(r->element_name), r->view);
			else if (r->inplace && rl > 5 && !strcmp(r->real + rl - 5, "-real"))
				snprintf(r->element_name, sizeof(r->element_name), "%.*s",
					 (int)(rl - 5), r->real);
			else
				scopy(r->element_name, sizeof(r->element_name), r->front);
			if (!r->created)
				r->created = now_s();
			if (name_valid(r->id, 63) && rel_save(r) == 0)
				r->has_record = true;
			err_clear();
		}
	}
	return 0;
}

struct rel *rel_find(struct rel_set *set, const char *key)
{
	size_t pl = strlen(SYNC_ID_PREFIX);
	unsigned int i;

	if (!key)
		return NULL;
	if (!strncmp(key, SYNC_ID_PREFIX, pl))
		key += pl;
	for (i = 0; i < set->n; i++)
		if (!strcmp(set->v[i].id, key))
			return &set->v[i];
	for (i = 0; i < set->n; i++) {
		struct rel *r = &set->v[i];

		if (!strcmp(r->element_name, key) || !strcmp(r->front, key) ||
		    (r->view[0] && !strcmp(r->view, key)))
			return r;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Waiting                                                              */
/* ------------------------------------------------------------------ */

static pthread_mutex_t w_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t w_cond = PTHREAD_COND_INITIALIZER;
static unsigned long w_events;
static char w_name[128];

static void *waiter(void *arg)
{
	(void)arg;
	for (;;) {
		struct dmw_info info;
		char name[128];

		pthread_mutex_lock(&w_lock);
		scopy(name, sizeof(name), w_name);
		pthread_mutex_unlock(&w_lock);
		if (dmw_info_name(name, &info) || !info.exists ||
		    dmw_wait_event(name, info.event_nr)) {
			/* no events: the caller's polling carries on */
			sleep(1);
			continue;
		}
		pthread_mutex_lock(&w_lock);
		w_events++;
		pthread_cond_broadcast(&w_cond);
		pthread_mutex_unlock(&w_lock);
	}
	return NULL;
}

int rel_wait_state(struct rel *r, uint32_t want, uint32_t op, int64_t timeout_ms)
{
	static bool started;
	int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;

	pthread_mutex_lock(&w_lock);
	scopy(w_name, sizeof(w_name), r->front);
	pthread_mutex_unlock(&w_lock);
	if (!started) {
		pthread_t th;

		if (pthread_create(&th, NULL, waiter, NULL) == 0) {
			pthread_detach(th);
			started = true;
		}
	}
	for (;;) {
		int64_t now, slice;
		struct timespec ts;
		unsigned long seen;

		pthread_mutex_lock(&w_lock);
		seen = w_events;
		pthread_mutex_unlock(&w_lock);
		if (rel_refresh(r))
			return rfail(RV_FAILED, "Synchronization: cannot read the status of %s",
				    r->front);
		if (wait_reached(want, op, &r->props))
			return RV_OK;
		if (copy_state_dead_end(want, r->props.copy_state))
			return rfail(RV_FAILED, "WaitForCopyState: %s cannot be reached from %s",
				    cim_name_or(&cim_copy_state, want),
				    cim_name_or(&cim_copy_state, r->props.copy_state));
		now = mono_ms();
		if (deadline >= 0 && now >= deadline)
			return rfail(RV_TIMEOUT, "Timeout: %s not reached (CopyState %s, %u%% synced)",
				    cim_name_or(&cim_copy_state, want),
				    cim_name_or(&cim_copy_state, r->props.copy_state),
				    r->props.percent_synced);
		slice = 1000;	/* status polling fallback */
		if (deadline >= 0 && deadline - now < slice)
			slice = deadline - now;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += slice / 1000;
		ts.tv_nsec += (slice % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&w_lock);
		while (w_events == seen &&
		       pthread_cond_timedwait(&w_cond, &w_lock, &ts) == 0)
			;
		pthread_mutex_unlock(&w_lock);
	}
}

/* ------------------------------------------------------------------ */
/* CreateElementReplica                                                 */
/* ------------------------------------------------------------------ */

int cer_validate(const struct cer_req *q, struct cer_plan *p)
{
	const struct sync_type_caps *c;
	int rc;

	memset(p, 0, sizeof(*p));
	if (!q->has_sync_type)
		return rfail(RV_INVALID_PARAM, "SyncType: required (mirror, snapshot, clone or 6, 7, 8)");
	c = caps_for(q->sync_type);
	if (!c || !c->supported)
		return rfail(RV_NOT_SUPPORTED, "SyncType: %s is not supported",
			    cim_name_or(&cim_sync_type, q->sync_type));
	p->sync_type = q->sync_type;
	p->mode = q->has_mode ? q->mode : c->default_mode;
	if (q->has_mode && q->mode == MODE_ADAPTIVE)
		return rfail(RV_NOT_SUPPORTED, "Mode: Adaptive is not supported");
	if (!caps_mode_ok(c, p->mode))
		return rfail(RV_NOT_SUPPORTED, "Mode: %s is not supported for %s",
			    cim_name_or(&cim_mode, p->mode), cim_name_or(&cim_sync_type, p->sync_type));
	if (!q->source || !*q->source)
		return rfail(RV_INVALID_PARAM, "SourceElement: required");
	if (q->source_ap)
		return rfail(RV_NOT_SUPPORTED, "SourceAccessPoint: remote access is not supported");
	if (q->target_ap)
		return rfail(RV_NOT_SUPPORTED, "TargetAccessPoint: remote access is not supported");
	if (q->target && (!*q->target))
		return rfail(RV_INVALID_PARAM, "TargetElement: empty");
	if (q->target && q->goal)
		return rfail(RV_INVALID_PARAM, "TargetSettingGoal: must not be given with TargetElement");
	if (q->target && q->pool)
		return rfail(RV_INVALID_PARAM, "TargetPool: must not be given with TargetElement");
	if (q->goal) {
		if (!strcasecmp(q->goal, "thin"))
			p->thick = false;
		else if (!strcasecmp(q->goal, "thick") || !strcasecmp(q->goal, "full"))
			p->thick = true;
		else
			return rfail(RV_INVALID_PARAM, "TargetSettingGoal: '%s' is not thin or thick",
				    q->goal);
	}
	if (q->rsd_text) {
		rc = rsd_parse(q->rsd_text, &p->rsd);
		if (rc)
			return rc;
	}
	rc = rsd_apply(&p->rsd, p->sync_type, p->mode, &p->eff);
	if (rc)
		return rc;
	if (p->eff.thick_target && !q->goal)
		p->thick = true;
	if ((p->eff.target_supplier == 1 || p->eff.target_supplier == 5) && !q->target)
		return rfail(RV_INVALID_PARAM,
			    "TargetElement: required by ReplicationSettingData TargetElementSupplier");
	if (p->eff.target_supplier == 2 && q->target)
		return rfail(RV_INVALID_PARAM,
			    "TargetElement: ReplicationSettingData TargetElementSupplier asks for a new target");
	if (!q->target && !q->pool)
		return rfail(RV_INVALID_PARAM, "TargetPool: required when TargetElement is not given");
	if (!q->meta && !q->pool)
		return rfail(RV_INVALID_PARAM,
			    "MetadataElement: required when TargetPool is not given");
	if (q->has_wait && !caps_list_has(c->create_wait, 6, q->wait))
		return rfail(RV_INVALID_PARAM, "WaitForCopyState: %s is not supported for %s",
			    cim_name_or(&cim_copy_state, q->wait),
			    cim_name_or(&cim_sync_type, p->sync_type));
	if (q->has_timeout && !q->has_wait)
		return rfail(RV_INVALID_PARAM, "Timeout: needs WaitForCopyState");
	if (q->has_timeout && (q->timeout_s == 0 || q->timeout_s > 7 * 24 * 3600))
		return rfail(RV_INVALID_PARAM, "Timeout: must be 1..604800 seconds");
	p->region_sectors = q->region_sectors ? q->region_sectors : DEFAULT_REGION_SECTORS;
	if (!replica_region_size_valid(p->region_sectors))
		return rfail(RV_INVALID_PARAM,
			    "RegionSize: %u sectors is not a power of two from 8 to 2097152",
			    p->region_sectors);
	if (q->element_name) {
		if (!name_valid(q->element_name, 100))
			return rfail(RV_INVALID_PARAM,
				    "ElementName: '%s' must be 1-100 characters of [A-Za-z0-9._+-]",
				    q->element_name);
		scopy(p->element_name, sizeof(p->element_name), q->element_name);
	}
	return RV_OK;
}

static void undo_pop(struct undo *u, int n)
{
	while (n-- > 0 && u->n > 0) {
		u->n--;
		free(u->s[u->n].text);
	}
}

static int dm_name_free(const char *param, const char *name)
{
	struct dmw_info info;

	if (!name_valid(name, 127))
		return rfail(RV_INVALID_PARAM, "%s: '%s' is not a usable dm name", param, name);
	if (dmw_info_name(name, &info))
		return rfail(RV_FAILED, "device-mapper is not available (is dm-mod loaded?)");
	if (info.exists)
		return rfail(RV_INVALID_PARAM, "%s: a dm device named %s already exists", param,
			    name);
	return 0;
}

static bool same_dev(const struct blkdev *a, const struct blkdev *b)
{
	return a->major == b->major && a->minor == b->minor;
}

static void fill_rel_dev(struct rel_dev *d, const struct blkdev *bd)
{
	scopy(d->path, sizeof(d->path), bd->path);
	d->major = bd->major;
	d->minor = bd->minor;
	d->sectors = bd->sectors;
}

static void read_kernel_uuid(struct rel *r)
{
	const char *ku = NULL;
	unsigned char *buf;
	struct replica_sb sb;
	u32 which;

	if (r->status_ok)
		ku = rstatus_get(&r->status, "uuid");
	if (ku) {
		norm_uuid(ku, r->kernel_uuid, sizeof(r->kernel_uuid));
		return;
	}
	buf = malloc(8192);
	if (buf && !blkdev_read_head(r->meta.path, buf) &&
	    replica_sb_pick(buf, buf + 4096, &sb, &which) == REPLICA_FMT_OK) {
		char s[40];

		sb_uuid_str(&sb, s, sizeof(s));
		norm_uuid(s, r->kernel_uuid, sizeof(r->kernel_uuid));
	}
	free(buf);
}

static int check_dm_role(const char *param, const struct blkdev *bd)
{
	struct dmw_table t;
	unsigned int i;

	char id[64];

	if (!bd->is_dm)
		return 0;
	/* a -real stand-in belongs to a live in-place relationship; a front
	 * or view that was detached (now linear) is free to use again */
	if (uuid_role(bd->dm_uuid, "real", id, sizeof(id)))
		return rfail(RV_IN_USE, "%s: %s is part of a replication relationship",
			    param, bd->path);
	if (dmw_get_table(bd->dm_name, false, &t))
		return rfail(RV_FAILED, "%s: cannot read the table of %s", param, bd->path);
	for (i = 0; i < t.n; i++)
		if (!strcmp(t.t[i].type, "replica")) {
			dmw_table_free(&t);
			return rfail(RV_IN_USE, "%s: %s is already in a replication relationship",
				    param, bd->path);
		}
	dmw_table_free(&t);
	return 0;
}

static bool all_linear(const char *dm_name)
{
	struct dmw_table t;
	unsigned int i;
	bool lin;

	if (dmw_get_table(dm_name, false, &t))
		return false;
	lin = t.n > 0;
	for (i = 0; i < t.n; i++)
		if (strcmp(t.t[i].type, "linear"))
			lin = false;
	dmw_table_free(&t);
	return lin;
}

static int make_table(struct dmw_table *t, uint64_t len, const char *type, char *params)
{
	int rc;

	memset(t, 0, sizeof(*t));
	if (!params)
		return rfail(RV_FAILED, "cannot build the %s table", type);
	rc = dmw_table_add(t, 0, len, type, params);
	free(params);
	return rc ? rfail(RV_FAILED, "out of memory") : 0;
}

static char *linear_params(uint32_t maj, uint32_t min)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%u:%u 0", maj, min);
	return strdup(buf);
}

/* A table the kernel refused with EOPNOTSUPP: the mode is not there yet. */
static int unsupported_or_failed(const struct rel *r)
{
	if (g_dm_errno != EOPNOTSUPP)
		return RV_FAILED;
	err_clear();
	return rfail(RV_NOT_SUPPORTED,
		     "SyncType: the loaded dm-replica module does not support %s %s yet",
		     cim_name_or(&cim_sync_type, r->sync_type), cim_name_or(&cim_mode, r->mode));
}

/* Build the devices of a relationship (create or re-assemble). */
static int build_devices(struct rel *r, bool reassemble, const struct dmw_table *orig,
			 struct undo *u)
{
	struct dmw_table t;
	char uuid[160];
	int nsteps;

	if (r->inplace) {
		snprintf(uuid, sizeof(uuid), DMREPLICA_UUID_PREFIX "%s-real", r->id);
		if (dmw_create(r->real, uuid, orig, false))
			return RV_FAILED;
		undo_push(u, U_REMOVE_DEV, r->real, NULL, NULL);
	}
	if (make_table(&t, r->source.sectors, "replica", rel_front_params(r, reassemble)))
		return RV_FAILED;
	if (r->inplace) {
		if (dmw_suspend(r->front, false)) {
			dmw_table_free(&t);
			return RV_FAILED;
		}
		undo_push(u, U_RESUME_DEV, r->front, NULL, NULL);
		if (dmw_load(r->front, &t, false)) {
			dmw_table_free(&t);
			return unsupported_or_failed(r);
		}
		undo_push(u, U_CLEAR_INACTIVE, r->front, NULL, NULL);
		if (dmw_resume(r->front)) {
			dmw_table_free(&t);
			return RV_FAILED;
		}
		nsteps = 2;
		undo_pop(u, nsteps);
		{
			char *text = dmw_table_text(orig);

			undo_push(u, U_RESTORE_TABLE, r->front, NULL, text);
			free(text);
		}
	} else {
		snprintf(uuid, sizeof(uuid), DMREPLICA_UUID_PREFIX "%s-front", r->id);
		if (dmw_create(r->front, uuid, &t, false)) {
			dmw_table_free(&t);
			return unsupported_or_failed(r);
		}
		undo_push(u, U_REMOVE_DEV, r->front, NULL, NULL);
	}
	dmw_table_free(&t);
	if (r->view[0]) {
		if (make_table(&t, r->source.sectors, "replica", rel_view_params(r)))
			return RV_FAILED;
		snprintf(uuid, sizeof(uuid), DMREPLICA_UUID_PREFIX "%s-view", r->id);
		if (dmw_create(r->view, uuid, &t, r->view_ro)) {
			dmw_table_free(&t);
			return unsupported_or_failed(r);
		}
		dmw_table_free(&t);
		undo_push(u, U_REMOVE_DEV, r->view, NULL, NULL);
	}
	return RV_OK;
}

static int new_element_name_unique(const char *name)
{
	struct rel_set set;
	int rc = 0;

	if (rel_discover(&set))
		return 0;
	if (rel_find(&set, name))
		rc = rfail(RV_INVALID_PARAM, "ElementName: '%s' is already used by a relationship",
			  name);
	rel_set_free(&set);
	return rc;
}

static int finish_wait(struct rel *r, bool has_wait, uint32_t want, bool has_timeout,
		       uint64_t timeout_s, const char *method, uint32_t op,
		       struct json_object *out)
{
	char job[40];
	int rc;

	if (!has_wait)
		return RV_OK;
	if (has_timeout) {
		rc = rel_wait_state(r, want, op, (int64_t)timeout_s * 1000);
		return rc;
	}
	if (rel_refresh(r))
		return rfail(RV_FAILED, "cannot read the status of %s", r->front);
	if (op != OP_RESTORE && wait_reached(want, op, &r->props))
		return RV_OK;
	if (copy_state_dead_end(want, r->props.copy_state))
		return rfail(RV_FAILED, "WaitForCopyState: %s cannot be reached from %s",
			    cim_name_or(&cim_copy_state, want),
			    cim_name_or(&cim_copy_state, r->props.copy_state));
	if (job_create(method, r->id, want, op, job))
		return RV_FAILED;
	json_object_object_add(out, "Job", ref_job(job));
	return RV_JOB_STARTED;
}

int rel_create(const struct cer_req *q, struct json_object *out)
{
	struct cer_plan plan;
	struct blkdev src, tgt, meta;
	struct pool pool;
	struct rel r;
	struct undo u = { 0 };
	struct dmw_table orig = { 0 };
	uint64_t nr_regions, min_meta;
	int rc, lockfd = -1;
	unsigned int i;
	char name[160], tp[300];

	rc = cer_validate(q, &plan);
	if (rc)
		return rc;
	memset(&r, 0, sizeof(r));
	memset(&pool, 0, sizeof(pool));
	if (make_uuid(r.id))
		return rfail(RV_FAILED, "cannot generate an id");
	if (plan.element_name[0])
		scopy(r.element_name, sizeof(r.element_name), plan.element_name);
	else
		snprintf(r.element_name, sizeof(r.element_name), "replica-%.8s", r.id);
	r.sync_type = plan.sync_type;
	r.mode = plan.mode;
	r.region_sectors = plan.region_sectors;
	r.fail_host = plan.eff.fail_host_on_target_error;
	r.view_ro = plan.eff.view_read_only;
	r.start_inactive = q->has_wait && (q->wait == CS_INITIALIZED || q->wait == CS_INACTIVE);
	for (i = 0; i < plan.eff.ncore; i++) {
		size_t off = strlen(r.core_args);

		snprintf(r.core_args + off, sizeof(r.core_args) - off, "%s%s %llu",
			 off ? " " : "", plan.eff.core[i].key,
			 (unsigned long long)plan.eff.core[i].value);
	}
	r.created = now_s();

	/* ---- SourceElement ---- */
	rc = blkdev_resolve("SourceElement", q->source, &src);
	if (rc)
		return rc;
	if (src.sectors == 0)
		return rfail(RV_INVALID_PARAM, "SourceElement: %s has size 0", src.path);
	rc = check_dm_role("SourceElement", &src);
	if (rc)
		return rc;
	r.inplace = src.is_dm && all_linear(src.dm_name);
	if (!r.inplace) {
		rc = blkdev_check_unclaimed("SourceElement", &src);
		if (rc)
			return rc;
	}
	fill_rel_dev(&r.source, &src);
	nr_regions = replica_nr_regions(src.sectors, r.region_sectors);
	min_meta = replica_min_meta_sectors(nr_regions);

	/* ---- TargetElement ---- */
	if (q->target) {
		rc = blkdev_resolve("TargetElement", q->target, &tgt);
		if (rc)
			return rc;
		if (same_dev(&tgt, &src))
			return rfail(RV_INVALID_PARAM, "TargetElement: is the SourceElement");
		rc = check_dm_role("TargetElement", &tgt);
		if (rc)
			return rc;
		if (tgt.sectors < src.sectors)
			return rfail(RV_INVALID_PARAM,
				    "TargetElement: %s (%llu sectors) is smaller than the source (%llu)",
				    tgt.path, (unsigned long long)tgt.sectors,
				    (unsigned long long)src.sectors);
		rc = blkdev_check_unclaimed("TargetElement", &tgt);
		if (rc)
			return rc;
		fill_rel_dev(&r.target, &tgt);
	}
	/* ---- metadata ---- */
	if (q->meta) {
		unsigned char *buf;
		struct replica_sb sb;
		u32 which;

		rc = blkdev_resolve("MetadataElement", q->meta, &meta);
		if (rc)
			return rc;
		if (same_dev(&meta, &src) || (q->target && same_dev(&meta, &tgt)))
			return rfail(RV_INVALID_PARAM,
				    "MetadataElement: must differ from source and target");
		rc = check_dm_role("MetadataElement", &meta);
		if (rc)
			return rc;
		if (meta.sectors < min_meta)
			return rfail(RV_INVALID_PARAM,
				    "MetadataElement: %s has %llu sectors, %llu needed",
				    meta.path, (unsigned long long)meta.sectors,
				    (unsigned long long)min_meta);
		rc = blkdev_check_unclaimed("MetadataElement", &meta);
		if (rc)
			return rc;
		buf = malloc(8192);
		if (buf && !blkdev_read_head(meta.path, buf) &&
		    replica_sb_pick(buf, buf + 4096, &sb, &which) == REPLICA_FMT_OK &&
		    !q->force) {
			free(buf);
			return rfail(RV_IN_USE,
				    "MetadataElement: %s holds dm-replica metadata (use assemble, or --force to reformat)",
				    meta.path);
		}
		free(buf);
		fill_rel_dev(&r.meta, &meta);
	}
	if (!q->target || !q->meta) {
		rc = pool_parse(q->pool, &pool);
		if (rc)
			return rc;
		rc = pool_check(&pool);
		if (rc)
			return rc;
		snprintf(name, sizeof(name), "%s-%s", r.element_name, q->target ? "meta" : "target");
		if ((rc = pool_name_ok(&pool, name)))
			return rc;
	}
	/* ---- dm names ---- */
	if (r.sync_type == ST_MIRROR) {
		if (!r.inplace)
			scopy(r.front, sizeof(r.front), r.element_name);
	} else {
		scopy(r.view, sizeof(r.view), r.element_name);
		if (!r.inplace)
			sfmt(r.front, sizeof(r.front), "%s-front", r.element_name);
	}
	if (r.inplace) {
		scopy(r.front, sizeof(r.front), src.dm_name);
		sfmt(r.real, sizeof(r.real), "%s-real", r.element_name);
		if ((rc = dm_name_free("ElementName", r.real)))
			return rc;
	} else if ((rc = dm_name_free("ElementName", r.front))) {
		return rc;
	}
	if (r.view[0] && (rc = dm_name_free("ElementName", r.view)))
		return rc;
	if ((rc = new_element_name_unique(r.element_name)))
		return rc;

	/* ---- do it, with an undo stack ---- */
	lockfd = state_lock(10);
	if (lockfd < 0)
		return lockfd == -2 ? RV_IN_USE : RV_FAILED;
	if (r.inplace && dmw_get_table(src.dm_name, false, &orig)) {
		rc = RV_FAILED;
		goto out;
	}
	if (r.inplace)
		r.orig_table = dmw_table_text(&orig);
	if (!q->target) {
		struct blkdev bd;

		snprintf(name, sizeof(name), "%s-target", r.element_name);
		rc = pool_alloc(&pool, name, src.sectors * 512, plan.thick, r.target.path,
				sizeof(r.target.path), r.target.alloc, sizeof(r.target.alloc));
		if (rc)
			goto out;
		undo_push(&u, U_POOL_FREE, r.target.alloc, r.target.path, NULL);
		if (blkdev_resolve("TargetElement", r.target.path, &bd)) {
			rc = RV_FAILED;
			goto out;
		}
		r.target.major = bd.major;
		r.target.minor = bd.minor;
		r.target.sectors = bd.sectors;
	}
	if (!q->meta) {
		struct blkdev bd;

		snprintf(name, sizeof(name), "%s-meta", r.element_name);
		rc = pool_alloc(&pool, name, min_meta * 512, false, r.meta.path,
				sizeof(r.meta.path), r.meta.alloc, sizeof(r.meta.alloc));
		if (rc)
			goto out;
		undo_push(&u, U_POOL_FREE, r.meta.alloc, r.meta.path, NULL);
		if (blkdev_resolve("MetadataElement", r.meta.path, &bd)) {
			rc = RV_FAILED;
			goto out;
		}
		r.meta.major = bd.major;
		r.meta.minor = bd.minor;
		r.meta.sectors = bd.sectors;
	}
	/* a new relationship always starts from unformatted metadata */
	rc = blkdev_zero_head(r.meta.path);
	if (rc)
		goto out;
	rc = build_devices(&r, false, &orig, &u);
	if (rc)
		goto out;
	rel_refresh(&r);
	read_kernel_uuid(&r);
	if (rel_save(&r)) {
		rc = RV_FAILED;
		goto out;
	}
	undo_drop(&u);
	rc = RV_OK;
out:
	if (rc) {
		undo_run(&u);
		state_unlock(lockfd);
		dmw_table_free(&orig);
		rel_free(&r);
		return rc;
	}
	state_unlock(lockfd);
	dmw_table_free(&orig);
	json_object_object_add(out, "Synchronization", ref_sync(r.id));
	json_object_object_add(out, "TargetElement",
			       ref_volume(target_element_path(&r, tp, sizeof(tp)),
					  r.element_name));
	rc = finish_wait(&r, q->has_wait, q->wait, q->has_timeout, q->timeout_s,
			 "CreateElementReplica", 0, out);
	if (r.status_ok)
		jset_enum(out, "CopyState", &cim_copy_state, r.props.copy_state);
	rel_free(&r);
	return rc;
}

/* ------------------------------------------------------------------ */
/* ModifyReplicaSynchronization                                         */
/* ------------------------------------------------------------------ */

int mrs_validate(const struct mrs_req *q)
{
	if (!q->has_op)
		return rfail(RV_INVALID_PARAM, "Operation: required");
	if (!q->sync || !*q->sync)
		return rfail(RV_INVALID_PARAM, "Synchronization: required");
	switch (q->op) {
	case OP_ACTIVATE_CONSISTENCY:
	case OP_DEACTIVATE_CONSISTENCY:
	case OP_ADD_SYNC_PAIR:
	case OP_REMOVE_SYNC_PAIR:
		return rfail(RV_NOT_SUPPORTED, "Operation: %s (group operations) is not supported",
			    cim_name_or(&cim_operation, q->op));
	case OP_RESET_TO_ADAPTIVE:
		return rfail(RV_NOT_SUPPORTED, "Operation: Reset To Adaptive is not supported");
	default:
		break;
	}
	if (q->has_timeout && !q->has_wait)
		return rfail(RV_INVALID_PARAM, "Timeout: needs WaitForCopyState");
	if (q->has_timeout && (q->timeout_s == 0 || q->timeout_s > 7 * 24 * 3600))
		return rfail(RV_INVALID_PARAM, "Timeout: must be 1..604800 seconds");
	return RV_OK;
}

/* Detach (keep target) or Return To ResourcePool (drop target). */
static int dissolve(struct rel *r, bool return_to_pool)
{
	struct dmw_table ft = { 0 }, vt = { 0 };
	struct dmw_info vinfo;
	struct undo u = { 0 };
	uint32_t smaj, smin;
	int rc = RV_FAILED;
	bool view_linear = !return_to_pool && r->view[0];

	if (r->view[0] && return_to_pool) {
		if (dmw_info_name(r->view, &vinfo) == 0 && vinfo.exists && vinfo.open_count > 0)
			return rfail(RV_IN_USE, "Synchronization: the view %s is open", r->view);
	}
	/* the front's new table: the original one, or linear on the source */
	if (r->inplace) {
		if (!(r->orig_table && !dmw_table_parse(r->orig_table, &ft)) &&
		    dmw_get_table(r->real, false, &ft))
			return rfail(RV_FAILED, "Synchronization: the original table of %s is lost",
				    r->front);
	} else {
		if (source_devno(r, &smaj, &smin) ||
		    make_table(&ft, r->source.sectors, "linear", linear_params(smaj, smin)))
			return RV_FAILED;
	}
	if (view_linear &&
	    make_table(&vt, r->source.sectors, "linear",
		       linear_params(r->target.major, r->target.minor)))
		goto out;
	if (r->view[0]) {
		if (dmw_suspend(r->view, false))
			goto out;
		undo_push(&u, U_RESUME_DEV, r->view, NULL, NULL);
	}
	if (dmw_suspend(r->front, false))
		goto out;
	undo_push(&u, U_RESUME_DEV, r->front, NULL, NULL);
	if (dmw_load(r->front, &ft, false))
		goto out;
	undo_push(&u, U_CLEAR_INACTIVE, r->front, NULL, NULL);
	if (view_linear) {
		if (dmw_load(r->view, &vt, r->view_ro))
			goto out;
		undo_push(&u, U_CLEAR_INACTIVE, r->view, NULL, NULL);
	}
	if (r->view[0] && !view_linear) {
		/* the view goes first: it must not outlive the front's table */
		if (dmw_remove(r->view))
			goto out;
	}
	if (dmw_resume(r->front))
		goto out;
	undo_drop(&u);
	if (view_linear && dmw_resume(r->view))
		err_note("the view %s did not resume", r->view);
	if (r->inplace && dmw_remove(r->real))
		err_note("could not remove %s", r->real);
	/* a front this helper made over a plain device goes away when nobody
	 * holds it open; otherwise it stays, as a linear device on the source */
	if (!r->inplace) {
		struct dmw_info fi;

		if (dmw_info_name(r->front, &fi) == 0 && fi.exists && fi.open_count == 0)
			dmw_remove(r->front);
	}
	if (r->meta.alloc[0])
		pool_free(r->meta.alloc, r->meta.path);
	if (return_to_pool && r->target.alloc[0])
		pool_free(r->target.alloc, r->target.path);
	state_del("syncs", r->id);
	rc = RV_OK;
out:
	if (rc)
		undo_run(&u);
	dmw_table_free(&ft);
	dmw_table_free(&vt);
	return rc;
}

/*
 * Reverse Roles of a synchronized mirror over a plain source.  The module
 * refuses a reload that names the legs the other way round while the
 * relationship is loaded (its registry holds the devices), so: suspend
 * (flush) and check nothing is left to copy; load the front as linear on
 * the old target (the same data: the new source) and resume, which
 * unloads the relationship; clear the metadata; load the front as a mirror
 * from the old target to the old source.  The fresh metadata copies every
 * region, so the writes of the short linear window, which nothing
 * tracked, reach the old source too.  Afterwards: Unsynchronized, then
 * Synchronized.
 */
static int reverse_roles(struct rel *r)
{
	struct dmw_table lt = { 0 }, mt = { 0 };
	uint64_t len = r->source.sectors;
	struct rel_dev tmp;
	bool nosync = r->nosync;
	int rc = RV_FAILED;

	if (r->inplace)
		return rfail(RV_NOT_SUPPORTED,
			    "Operation: Reverse Roles of a volume reloaded in place is not supported (its original table maps the old source)");
	if (r->view[0])
		return rfail(RV_NOT_SUPPORTED, "Operation: Reverse Roles needs a mirror");
	if (make_table(&lt, len, "linear", linear_params(r->target.major, r->target.minor)))
		return RV_FAILED;
	if (dmw_suspend(r->front, false))
		goto out;
	if (rel_refresh(r) || r->props.copy_state != CS_SYNCHRONIZED ||
	    r->status.in_sync < r->status.total || r->status.lag_regions || r->status.copying) {
		dmw_resume(r->front);
		rc = rfail(RV_INVALID_PARAM,
			   "Operation: Reverse Roles needs a synchronized mirror with nothing left to copy (CopyState %s, %llu/%llu regions in sync, lag %llu)",
			   cim_name_or(&cim_copy_state, r->props.copy_state),
			   (unsigned long long)r->status.in_sync,
			   (unsigned long long)r->status.total,
			   (unsigned long long)r->status.lag_regions);
		goto out;
	}
	if (dmw_load(r->front, &lt, false)) {
		dmw_resume(r->front);
		goto out;
	}
	if (dmw_resume(r->front)) {
		dmw_clear(r->front);
		dmw_resume(r->front);
		goto out;
	}
	/* the front is linear on the old target now: re-make the mirror */
	tmp = r->source;
	r->source = r->target;
	r->target = tmp;
	r->source.sectors = len;	/* the relationship keeps its length */
	r->nosync = false;
	r->start_inactive = false;
	r->stopped_at = 0;
	r->kernel_uuid[0] = 0;
	if (blkdev_zero_head(r->meta.path) ||
	    make_table(&mt, len, "replica", rel_front_params(r, false)) ||
	    dmw_suspend(r->front, false)) {
		err_note(" (%s is linear on %s now, which holds the data; the relationship is gone)",
			 r->front, r->source.path);
		goto out;
	}
	if (dmw_load(r->front, &mt, false)) {
		dmw_resume(r->front);
		err_note(" (%s is linear on %s now, which holds the data; the relationship is gone)",
			 r->front, r->source.path);
		goto out;
	}
	if (dmw_resume(r->front))
		goto out;
	r->nosync = nosync;
	rel_refresh(r);
	read_kernel_uuid(r);
	rc = rel_save(r) ? RV_FAILED : RV_OK;
out:
	dmw_table_free(&lt);
	dmw_table_free(&mt);
	return rc;
}

/*
 * Send an operation's message to the origin.  all_suspended: suspend the
 * view and the origin around it (a snapshot's new point in time).  The
 * kernel answers -EPERM when the copy state does not allow the message.
 */
static int send_op_message(struct rel *r, const char *msg, bool all_suspended, bool force)
{
	char resp[256];
	int rc = 0, e;

	if (all_suspended) {
		if (r->view[0] && dmw_suspend(r->view, false))
			return RV_FAILED;
		if (dmw_suspend(r->front, false)) {
			if (r->view[0])
				dmw_resume(r->view);
			return RV_FAILED;
		}
	}
	if (dmw_message(r->front, msg, resp, sizeof(resp))) {
		e = g_dm_errno;
		err_clear();
		if (e == EPERM && !force)
			rc = rfail(RV_INVALID_PARAM,
				   "Operation: the kernel does not allow '%s' in this copy state (see the kernel log)",
				   msg);
		else if (e == EINVAL || e == EOPNOTSUPP)
			rc = rfail(RV_NOT_SUPPORTED, "Operation: the kernel refused '%s'", msg);
		else
			rc = rfail(RV_FAILED, "Operation: message '%s' failed: %s", msg,
				   e ? strerror(e) : "error");
	}
	if (all_suspended) {
		if (dmw_resume(r->front) && !rc)
			rc = RV_FAILED;
		if (r->view[0] && dmw_resume(r->view) && !rc)
			rc = RV_FAILED;
	}
	return rc;
}

int rel_modify(const struct mrs_req *q, struct json_object *out)
{
	struct rel_set set;
	const struct op_rule *rule = NULL;
	struct rel *r;
	int rc, lockfd;
	char iid[128];

	rc = mrs_validate(q);
	if (rc)
		return rc;
	if (!cim_name(&cim_operation, q->op))
		return rfail(RV_INVALID_PARAM, "Operation: %u is not a valid operation", q->op);
	if (rel_discover(&set))
		return rfail(RV_FAILED, "cannot list relationships");
	r = rel_find(&set, q->sync);
	if (!r) {
		rel_set_free(&set);
		return rfail(RV_INVALID_PARAM, "Synchronization: no relationship '%s'", q->sync);
	}
	if (q->has_wait) {
		const struct sync_type_caps *c = caps_for(r->sync_type);

		if (!c || !caps_list_has(c->modify_wait, 8, q->wait)) {
			rel_set_free(&set);
			return rfail(RV_INVALID_PARAM, "WaitForCopyState: %s is not supported here",
				    cim_name_or(&cim_copy_state, q->wait));
		}
	}
	lockfd = state_lock(10);
	if (lockfd < 0) {
		rel_set_free(&set);
		return lockfd == -2 ? RV_IN_USE : RV_FAILED;
	}
	if (!r->live) {
		if (q->op == OP_RETURN_TO_POOL && caps_rule(r->sync_type, q->op)) {
			/* not assembled: just give the space back */
			if (r->meta.alloc[0])
				pool_free(r->meta.alloc, NULL);
			if (r->target.alloc[0])
				pool_free(r->target.alloc, NULL);
			state_del("syncs", r->id);
			rc = RV_OK;
		} else {
			rc = rfail(RV_INVALID_PARAM,
				  "Synchronization: %s is not assembled (run replicactl assemble)",
				  q->sync);
		}
		goto out;
	}
	if (rel_refresh(r)) {
		rc = rfail(RV_FAILED, "Synchronization: cannot read the status of %s", r->front);
		goto out;
	}
	rc = caps_check_op(r->sync_type, q->op, r->props.copy_state, q->force, &rule);
	if (rc)
		goto out;
	snprintf(iid, sizeof(iid), "%s", r->id);
	switch (rule->action) {
	case ACT_MESSAGE:
	case ACT_RESYNC:
	case ACT_NEW_PIT:
	case ACT_REVERSE_ROLES: {
		const char *msg = rule->message;

		if (rule->action == ACT_RESYNC && r->props.copy_state == CS_BROKEN)
			msg = "clear_errors";
		if (rule->action == ACT_REVERSE_ROLES)
			rc = reverse_roles(r);
		else
			rc = send_op_message(r, msg, rule->action == ACT_NEW_PIT, q->force);
		if (rc)
			goto out;
		if (q->op == OP_RESET_TO_SYNC || q->op == OP_RESET_TO_ASYNC) {
			r->mode = q->op == OP_RESET_TO_SYNC ? MODE_SYNC : MODE_ASYNC;
			if (r->has_record)
				rel_save(r);
		}
		if (q->op == OP_ACTIVATE && r->start_inactive && r->has_record) {
			r->start_inactive = false;
			rel_save(r);
		}
		/* the point in time a stopped mirror's target holds */
		if (r->sync_type == ST_MIRROR && r->has_record &&
		    (q->op == OP_FRACTURE || q->op == OP_SPLIT || q->op == OP_RESYNC ||
		     q->op == OP_ACTIVATE || q->op == OP_DEACTIVATE)) {
			r->stopped_at = q->op == OP_FRACTURE || q->op == OP_SPLIT ? now_s() : 0;
			rel_save(r);
		}
		state_unlock(lockfd);
		lockfd = -1;
		json_object_object_add(out, "Synchronization", ref_sync(iid));
		rc = finish_wait(r, q->has_wait, q->wait, q->has_timeout, q->timeout_s,
				 "ModifyReplicaSynchronization", q->op, out);
		if (!rel_refresh(r))
			jset_enum(out, "CopyState", &cim_copy_state, r->props.copy_state);
		break;
	}
	case ACT_DETACH:
	case ACT_RETURN_TO_POOL:
	case ACT_DISSOLVE: {
		struct json_object *aspect = NULL;

		/* the aspect is taken before the devices change (status) */
		if (rule->action == ACT_DISSOLVE)
			aspect = aspect_record(r, now_s());
		/* LIO exports go first; one this helper did not make is In Use */
		rc = lio_unexport_rel(r);
		if (!rc)
			rc = dissolve(r, rule->action == ACT_RETURN_TO_POOL);
		if (!rc && aspect) {
			char aid[128];

			if (state_put("aspects", r->id, aspect)) {
				err_note(" (the relationship is dissolved, but its aspect record could not be written)");
				rc = RV_FAILED;
			} else {
				struct json_object *ss = json_object_new_object();

				snprintf(aid, sizeof(aid), ASPECT_ID_PREFIX "%s", r->id);
				jset_str(ss, "CreationClassName", "CIM_SettingsDefineState");
				jset_str(ss, "InstanceID", aid);
				json_object_object_add(out, "SettingsState", ss);
			}
		}
		json_object_put(aspect);
		if (!rc && rule->action != ACT_RETURN_TO_POOL) {
			char tp[300];

			json_object_object_add(out, "TargetElement",
					       ref_volume(target_element_path(r, tp, sizeof(tp)),
							  r->element_name));
		}
		break;
	}
	}
out:
	state_unlock(lockfd);
	rel_set_free(&set);
	return rc;
}

int rel_modify_legacy(const struct mrs_req *q, struct json_object *out)
{
	uint32_t cs = CS_PARTITIONED, op;
	struct mrs_req m;

	if (!q->has_op)
		return rfail(RV_INVALID_PARAM, "Operation: required");
	if (!cim_name(&cim_legacy_operation, q->op) || legacy_op_translate(q->op, cs, &op))
		return rfail(RV_INVALID_PARAM, "Operation: %u is not a ModifySynchronization operation",
			    q->op);
	if (!q->sync || !*q->sync)
		return rfail(RV_INVALID_PARAM, "Synchronization: required");
	if (q->op == 12) {
		/* Start Copy depends on the copy state */
		struct rel_set set;
		struct rel *r;

		if (rel_discover(&set))
			return rfail(RV_FAILED, "cannot list relationships");
		r = rel_find(&set, q->sync);
		if (r && r->live && !rel_refresh(r))
			cs = r->props.copy_state;
		rel_set_free(&set);
		err_clear();
		legacy_op_translate(q->op, cs, &op);
	}
	m = *q;
	m.op = op;
	jset_enum(out, "LegacyOperation", &cim_legacy_operation, q->op);
	jset_enum(out, "TranslatedOperation", &cim_operation, op);
	return rel_modify(&m, out);
}

/* ------------------------------------------------------------------ */
/* SynchronizationAspects (Dissolve)                                    */
/* ------------------------------------------------------------------ */

/*
 * The aspect of a relationship about to be dissolved: its elements and the
 * point in time the target holds.  Clone: the kernel's pit_ns.  Mirror:
 * now when Synchronized (the dissolve suspends and flushes the source
 * first), else when it was fractured or split (the helper's record).
 */
struct json_object *aspect_record(const struct rel *r, int64_t now)
{
	struct json_object *o = json_object_new_object();
	char id[128], t[40], tp[300];
	const char *how = NULL;
	int64_t pit = 0;
	uint64_t ns = 0;
	uint32_t cs = r->live && r->status_ok ? r->props.copy_state : CS_PARTITIONED;

	if (r->status_ok) {
		const char *v = rstatus_get(&r->status, "pit_ns");

		if (v && !parse_u64(v, &ns) && ns)
			pit = (int64_t)(ns / 1000000000ull);
	}
	if (pit)
		how = "kernel point in time (pit_ns)";
	else if (r->sync_type == ST_MIRROR && cs == CS_SYNCHRONIZED)
		pit = now, how = "dissolve of a synchronized mirror";
	else if (r->sync_type == ST_MIRROR && r->stopped_at)
		pit = r->stopped_at, how = "fracture/split of the mirror";
	snprintf(id, sizeof(id), ASPECT_ID_PREFIX "%s", r->id);
	jset_str(o, "InstanceID", id);
	jset_str(o, "Id", r->id);
	jset_str(o, "ElementName", r->element_name);
	jset_enum(o, "SyncType", &cim_sync_type, r->sync_type);
	jset_enum(o, "Mode", &cim_mode, r->mode);
	jset_enum(o, "CopyStateAtDissolve", &cim_copy_state, cs);
	snprintf(id, sizeof(id), SYNC_ID_PREFIX "%s", r->id);
	jset_str(o, "Synchronization", id);
	jset_str(o, "SourceElement", r->source.path);
	jset_str(o, "TargetElement", target_element_path(r, tp, sizeof(tp)));
	jset_str(o, "TargetDevice", r->target.path);
	if (r->kernel_uuid[0])
		jset_str(o, "KernelUuid", r->kernel_uuid);
	if (r->created) {
		iso_time(r->created, t, sizeof(t));
		jset_str(o, "WhenEstablished", t);
	}
	if (pit) {
		iso_time(pit, t, sizeof(t));
		jset_str(o, "WhenPointInTime", t);
		jset_int(o, "PointInTime", pit);
		jset_str(o, "PointInTimeSource", how);
	} else {
		jset_str(o, "WhenPointInTime", NULL);
	}
	iso_time(now, t, sizeof(t));
	jset_str(o, "WhenDissolved", t);
	jset_int(o, "Dissolved", now);
	return o;
}

struct aspect_ctx {
	const char *element;
	struct json_object *arr;
};

static int aspect_one(const char *id, struct json_object *o, void *arg)
{
	struct aspect_ctx *c = arg;
	const char *keys[] = { "ElementName", "SourceElement", "TargetElement", "TargetDevice",
			       "Id", "InstanceID", NULL };
	unsigned int i;
	bool match = !c->element;

	(void)id;
	for (i = 0; keys[i] && !match; i++) {
		const char *v = jget_str(o, keys[i]);

		match = v && !strcmp(v, c->element);
	}
	if (match)
		json_object_array_add(c->arr, json_object_get(o));
	return 0;
}

int rel_aspects(const char *element, struct json_object *out)
{
	struct aspect_ctx c = { element, json_object_new_array() };

	if (element && !*element) {
		json_object_put(c.arr);
		return rfail(RV_INVALID_PARAM, "Element: empty");
	}
	state_each("aspects", aspect_one, &c);
	json_object_object_add(out, "SynchronizationAspects", c.arr);
	return RV_OK;
}

int rel_aspect_delete(const char *key, struct json_object *out)
{
	size_t pl = strlen(ASPECT_ID_PREFIX);
	struct json_object *o;
	int lockfd, rc;

	(void)out;
	if (!key || !*key)
		return rfail(RV_INVALID_PARAM, "SettingsState: required");
	if (!strncmp(key, ASPECT_ID_PREFIX, pl))
		key += pl;
	if (!name_valid(key, 63))
		return rfail(RV_INVALID_PARAM, "SettingsState: '%s' is not an aspect id", key);
	lockfd = state_lock(10);
	if (lockfd < 0)
		return lockfd == -2 ? RV_IN_USE : RV_FAILED;
	o = state_get("aspects", key);
	if (!o)
		rc = rfail(RV_INVALID_PARAM, "SettingsState: no aspect '%s'", key);
	else
		rc = state_del("aspects", key) ? RV_FAILED : RV_OK;
	json_object_put(o);
	state_unlock(lockfd);
	return rc;
}

/* ------------------------------------------------------------------ */
/* GetReplicationRelationships                                          */
/* ------------------------------------------------------------------ */

int grr_validate(const struct grr_req *q)
{
	if (q->has_sync_type && !caps_for(q->sync_type))
		return rfail(RV_INVALID_PARAM, "SyncType: invalid");
	if (q->has_mode && q->mode == MODE_ADAPTIVE)
		return rfail(RV_NOT_SUPPORTED, "Mode: Adaptive is not supported");
	return RV_OK;
}

static bool rel_mentions(const struct rel *r, const char *el, const struct blkdev *bd)
{
	const struct rel_dev *d[3] = { &r->source, &r->target, &r->meta };
	unsigned int i;

	if (!strcmp(el, r->element_name) || !strcmp(el, r->front) ||
	    (r->view[0] && !strcmp(el, r->view)))
		return true;
	for (i = 0; i < 3; i++) {
		if (!strcmp(el, d[i]->path))
			return true;
		if (bd && bd->major == d[i]->major && bd->minor == d[i]->minor)
			return true;
	}
	if (bd && bd->is_dm && (!strcmp(bd->dm_name, r->front) ||
				(r->view[0] && !strcmp(bd->dm_name, r->view))))
		return true;
	return false;
}

int rel_list(const struct grr_req *q, struct json_object *out)
{
	struct json_object *arr = json_object_new_array();
	struct rel_set set;
	struct blkdev bd, *bdp = NULL;
	unsigned int i;
	int rc = grr_validate(q);

	if (rc) {
		json_object_put(arr);
		return rc;
	}
	if (q->element && !blkdev_resolve("Element", q->element, &bd))
		bdp = &bd;
	err_clear();
	rel_discover(&set);
	for (i = 0; i < set.n; i++) {
		struct rel *r = &set.v[i];
		uint32_t cs = r->live && r->status_ok ? r->props.copy_state : CS_PARTITIONED;

		if (q->has_sync_type && r->sync_type != q->sync_type)
			continue;
		if (q->has_mode && r->mode != q->mode)
			continue;
		if (q->has_copy_state && cs != q->copy_state)
			continue;
		if (q->element && !rel_mentions(r, q->element, bdp))
			continue;
		json_object_array_add(arr, rel_to_cim(r));
	}
	rel_set_free(&set);
	json_object_object_add(out, "Synchronizations", arr);
	return RV_OK;
}

/* ------------------------------------------------------------------ */
/* assemble                                                             */
/* ------------------------------------------------------------------ */

struct found_sb {
	char path[256];
	char uuid[40];
	struct replica_sb sb;
	bool used;
};

static int resolve_leg(struct rel_dev *d, const char *param)
{
	struct blkdev bd;

	if (d->alloc[0]) {
		char dev[256];

		if (pool_attach(d->alloc, dev, sizeof(dev)))
			return rfail(RV_FAILED, "%s: cannot attach %s", param, d->alloc);
		scopy(d->path, sizeof(d->path), dev);
	}
	if (blkdev_resolve(param, d->path, &bd))
		return RV_FAILED;
	d->major = bd.major;
	d->minor = bd.minor;
	d->sectors = bd.sectors;
	return 0;
}

static int assemble_one(struct rel *r, struct found_sb *f, unsigned int nf)
{
	struct dmw_table orig = { 0 };
	struct undo u = { 0 };
	struct blkdev src;
	unsigned char *buf;
	struct replica_sb sb;
	u32 which;
	bool meta_ok = false;
	uint64_t sb_len = 0;
	unsigned int i;
	int rc;

	if ((rc = resolve_leg(&r->meta, "MetadataElement")) && !r->kernel_uuid[0])
		return rc;
	buf = malloc(8192);
	if (!rc && buf && !blkdev_read_head(r->meta.path, buf) &&
	    replica_sb_pick(buf, buf + 4096, &sb, &which) == REPLICA_FMT_OK) {
		char s[40], n[40];

		sb_uuid_str(&sb, s, sizeof(s));
		norm_uuid(s, n, sizeof(n));
		meta_ok = !r->kernel_uuid[0] || !strcmp(n, r->kernel_uuid);
		if (meta_ok)
			sb_len = sb.source_sectors;
	}
	free(buf);
	if (!meta_ok) {
		/* the metadata moved: find it by the relationship uuid */
		for (i = 0; i < nf; i++)
			if (r->kernel_uuid[0] && !strcmp(f[i].uuid, r->kernel_uuid)) {
				struct blkdev bd;

				if (blkdev_resolve("MetadataElement", f[i].path, &bd))
					continue;
				scopy(r->meta.path, sizeof(r->meta.path), f[i].path);
				r->meta.major = bd.major;
				r->meta.minor = bd.minor;
				meta_ok = true;
				sb_len = f[i].sb.source_sectors;
			}
	}
	if (!meta_ok)
		return rfail(RV_FAILED, "MetadataElement: no valid dm-replica superblock found for %s",
			    r->id);
	for (i = 0; i < nf; i++)
		if (r->kernel_uuid[0] && !strcmp(f[i].uuid, r->kernel_uuid))
			f[i].used = true;
	if ((rc = resolve_leg(&r->target, "TargetElement")))
		return rc;
	/* after Reverse Roles the source may be a pool allocation */
	if (!r->inplace && r->source.alloc[0] && (rc = resolve_leg(&r->source, "SourceElement")))
		return rc;
	if ((rc = blkdev_resolve("SourceElement", r->source.path, &src)))
		return RV_FAILED;
	if (r->inplace) {
		if (!src.is_dm || !all_linear(src.dm_name))
			return rfail(RV_FAILED, "SourceElement: %s is not a dm-linear volume any more",
				    r->source.path);
		scopy(r->front, sizeof(r->front), src.dm_name);
		if (dmw_get_table(src.dm_name, false, &orig))
			return RV_FAILED;
	}
	r->source.major = src.major;
	r->source.minor = src.minor;
	r->source.sectors = src.sectors;
	/* the relationship's length, which a larger source does not change */
	if (!r->inplace && sb_len && sb_len <= src.sectors)
		r->source.sectors = sb_len;
	rc = build_devices(r, true, &orig, &u);
	if (rc) {
		undo_run(&u);
		dmw_table_free(&orig);
		return rc;
	}
	undo_drop(&u);
	if (r->inplace) {
		free(r->orig_table);
		r->orig_table = dmw_table_text(&orig);
	}
	dmw_table_free(&orig);
	r->live = true;
	rel_refresh(r);
	rel_save(r);
	return RV_OK;
}

static void scan_candidates(const char *const *cand, int n, struct found_sb **out,
			    unsigned int *nout)
{
	static const char *const pats[] = { "/dev/vd*", "/dev/loop[0-9]*", "/dev/mapper/*",
					    "/dev/sd*" };
	glob_t g;
	unsigned int i, k;
	unsigned char *buf = malloc(8192);
	char **paths = NULL;
	unsigned int np = 0;

	*out = NULL;
	*nout = 0;
	if (!buf)
		return;
	memset(&g, 0, sizeof(g));
	if (n > 0) {
		paths = (char **)cand;
		np = (unsigned int)n;
	} else {
		for (i = 0; i < 4; i++)
			glob(pats[i], i ? GLOB_APPEND : 0, NULL, &g);
		paths = g.gl_pathv;
		np = (unsigned int)g.gl_pathc;
	}
	for (k = 0; k < np; k++) {
		struct blkdev bd;
		struct replica_sb sb;
		u32 which;
		struct found_sb *nv;

		if (blkdev_resolve("Candidate", paths[k], &bd)) {
			err_clear();
			continue;
		}
		if (blkdev_read_head(bd.path, buf) ||
		    replica_sb_pick(buf, buf + 4096, &sb, &which) != REPLICA_FMT_OK)
			continue;
		nv = realloc(*out, (*nout + 1) * sizeof(**out));
		if (!nv)
			break;
		*out = nv;
		memset(&nv[*nout], 0, sizeof(nv[0]));
		scopy(nv[*nout].path, sizeof(nv[0].path), bd.path);
		{
			char s[40];

			sb_uuid_str(&sb, s, sizeof(s));
			norm_uuid(s, nv[*nout].uuid, sizeof(nv[0].uuid));
		}
		nv[*nout].sb = sb;
		(*nout)++;
	}
	if (n <= 0)
		globfree(&g);
	free(buf);
}

int rel_assemble(const char *const *cand, int n, struct json_object *out)
{
	struct json_object *done = json_object_new_array();
	struct json_object *orphans = json_object_new_array();
	struct found_sb *f = NULL;
	unsigned int nf = 0, i, k;
	struct rel_set set;
	int rc = RV_OK, lockfd;

	lockfd = state_lock(10);
	if (lockfd < 0) {
		json_object_put(done);
		json_object_put(orphans);
		return lockfd == -2 ? RV_IN_USE : RV_FAILED;
	}
	rel_discover(&set);	/* also rebuilds missing records of live ones */
	scan_candidates(cand, n, &f, &nf);
	for (i = 0; i < set.n; i++) {
		struct rel *r = &set.v[i];
		struct json_object *e = json_object_new_object();
		int one;

		json_object_object_add(e, "Synchronization", ref_sync(r->id));
		jset_str(e, "ElementName", r->element_name);
		if (r->live) {
			for (k = 0; k < nf; k++)
				if (r->kernel_uuid[0] && !strcmp(f[k].uuid, r->kernel_uuid))
					f[k].used = true;
			jset_str(e, "Status", "already active");
			json_object_array_add(done, e);
			continue;
		}
		err_clear();
		one = assemble_one(r, f, nf);
		if (one) {
			jset_str(e, "Status", "failed");
			jset_str(e, "Error", err_msg());
			rc = RV_FAILED;
		} else {
			jset_str(e, "Status", "assembled");
		}
		json_object_array_add(done, e);
	}
	/* superblocks that no record explains: roles unknown */
	for (k = 0; k < nf; k++) {
		struct json_object *e;
		bool live_meta = false;

		for (i = 0; i < set.n; i++)
			if (set.v[i].live && !strcmp(set.v[i].meta.path, f[k].path))
				live_meta = true;
		if (f[k].used || live_meta)
			continue;
		e = json_object_new_object();
		jset_str(e, "MetadataElement", f[k].path);
		jset_str(e, "KernelUuid", f[k].uuid);
		jset_enum(e, "SyncType", &cim_sync_type, f[k].sb.sync_type);
		jset_enum(e, "Mode", &cim_mode, f[k].sb.mode);
		jset_enum(e, "CopyState", &cim_copy_state, f[k].sb.copy_state);
		jset_int(e, "SourceSectors", (int64_t)f[k].sb.source_sectors);
		jset_int(e, "RegionSectors", f[k].sb.region_sectors);
		jset_str(e, "Status",
			 "no state record: source and target roles unknown, not assembled");
		json_object_array_add(orphans, e);
	}
	free(f);
	rel_set_free(&set);
	state_unlock(lockfd);
	err_clear();
	if (rc)
		rfail(rc, "some relationships could not be assembled");
	json_object_object_add(out, "Relationships", done);
	json_object_object_add(out, "UnassembledMetadata", orphans);
	return rc;
}
