// SPDX-License-Identifier: GPL-2.0-only
/* replicactl: output helpers. */
#include "output.h"
#include "job.h"
#include "relationship.h"

#include <string.h>

void jset_str(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

void jset_int(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

void jset_bool(struct json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

void jset_enum(struct json_object *o, const char *key, const struct cim_map *m,
	       uint32_t v)
{
	char k[96];

	jset_int(o, key, v);
	snprintf(k, sizeof(k), "%sDescription", key);
	jset_str(o, k, cim_name_or(m, v));
}

const char *jget_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int64_t jget_int(struct json_object *o, const char *key, int64_t dflt)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v ||
	    !json_object_is_type(v, json_type_int))
		return dflt;
	return json_object_get_int64(v);
}

bool jget_bool(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return false;
	return json_object_get_boolean(v);
}

struct json_object *ref_job(const char *job_id)
{
	struct json_object *o = json_object_new_object();
	char iid[96];

	snprintf(iid, sizeof(iid), JOB_ID_PREFIX "%s", job_id);
	jset_str(o, "CreationClassName", "CIM_ConcreteJob");
	jset_str(o, "InstanceID", iid);
	return o;
}

struct json_object *ref_sync(const char *sync_id)
{
	struct json_object *o = json_object_new_object();
	char iid[128];

	snprintf(iid, sizeof(iid), SYNC_ID_PREFIX "%s", sync_id);
	jset_str(o, "CreationClassName", "CIM_StorageSynchronized");
	jset_str(o, "InstanceID", iid);
	return o;
}

struct json_object *ref_volume(const char *path, const char *element_name)
{
	struct json_object *o = json_object_new_object();

	jset_str(o, "CreationClassName", "CIM_StorageVolume");
	jset_str(o, "DeviceID", path);
	if (element_name && *element_name)
		jset_str(o, "ElementName", element_name);
	return o;
}

void out_set_rv(struct json_object *out, uint32_t rv, const char *msg)
{
	jset_enum(out, "ReturnValue", &cim_return_value, rv);
	if (rv != 0 && rv != 4096 && msg && *msg)
		jset_str(out, "Error", msg);
}

/* "XDescription" is printed next to X, when X is there. */
static bool folded(struct json_object *parent, const char *k, size_t kl)
{
	char base[96];

	if (kl <= 11 || kl - 11 >= sizeof(base) || strcmp(k + kl - 11, "Description"))
		return false;
	memcpy(base, k, kl - 11);
	base[kl - 11] = 0;
	return json_object_object_get_ex(parent, base, NULL);
}

static void human(FILE *f, struct json_object *o, int indent, const char *key)
{
	int i;

	for (i = 0; i < indent; i++)
		fputs("  ", f);
	if (key)
		fprintf(f, "%s:", key);
	switch (json_object_get_type(o)) {
	case json_type_object: {
		const char *iid = NULL;
		struct json_object *v;

		/* a CIM reference prints on one line */
		if (json_object_object_get_ex(o, "CreationClassName", &v) &&
		    json_object_object_length(o) <= 3) {
			if ((iid = jget_str(o, "InstanceID")) ||
			    (iid = jget_str(o, "DeviceID"))) {
				fprintf(f, "%s%s (%s)\n", key ? " " : "", iid,
					json_object_get_string(v));
				return;
			}
		}
		fputc('\n', f);
		json_object_object_foreach(o, k, val) {
			size_t kl = strlen(k);

			/* "XDescription" is folded into X */
			if (folded(o, k, kl))
				continue;
			human(f, val, key ? indent + 1 : indent, k);
		}
		return;
	}
	case json_type_array: {
		size_t n = json_object_array_length(o), j;

		fprintf(f, "%s\n", n ? "" : " (none)");
		for (j = 0; j < n; j++) {
			char idx[24];

			snprintf(idx, sizeof(idx), "[%zu]", j);
			human(f, json_object_array_get_idx(o, j), indent + 1, idx);
		}
		return;
	}
	case json_type_null:
		fputs(" -\n", f);
		return;
	default:
		fprintf(f, "%s%s", key ? " " : "", json_object_get_string(o));
		return;
	}
}

static void human_scalar_desc(FILE *f, struct json_object *parent, const char *k)
{
	char dk[96];
	const char *d;

	snprintf(dk, sizeof(dk), "%sDescription", k);
	d = jget_str(parent, dk);
	if (d)
		fprintf(f, " (%s)", d);
}

static void human_obj(FILE *f, struct json_object *o, int indent)
{
	json_object_object_foreach(o, k, val) {
		size_t kl = strlen(k);
		int i;

		if (folded(o, k, kl))
			continue;
		if (json_object_is_type(val, json_type_object) &&
		    !(jget_str(val, "CreationClassName") && json_object_object_length(val) <= 3)) {
			for (i = 0; i < indent; i++)
				fputs("  ", f);
			fprintf(f, "%s:\n", k);
			human_obj(f, val, indent + 1);
			continue;
		}
		if (json_object_is_type(val, json_type_array)) {
			size_t n = json_object_array_length(val), j;

			bool scalars = true;

			for (j = 0; j < n; j++)
				if (json_object_is_type(json_object_array_get_idx(val, j),
							json_type_object))
					scalars = false;
			for (i = 0; i < indent; i++)
				fputs("  ", f);
			if (scalars) {
				fprintf(f, "%s:%s", k, n ? " " : " (none)");
				for (j = 0; j < n; j++)
					fprintf(f, "%s%s", j ? ", " : "",
						json_object_get_string(json_object_array_get_idx(val, j)));
				fputc('\n', f);
				continue;
			}
			fprintf(f, "%s:%s\n", k, n ? "" : " (none)");
			for (j = 0; j < n; j++) {
				struct json_object *e = json_object_array_get_idx(val, j);

				if (json_object_is_type(e, json_type_object)) {
					for (i = 0; i <= indent; i++)
						fputs("  ", f);
					fprintf(f, "- [%zu]\n", j);
					human_obj(f, e, indent + 2);
				} else {
					for (i = 0; i <= indent; i++)
						fputs("  ", f);
					fprintf(f, "- %s\n", json_object_get_string(e));
				}
			}
			continue;
		}
		human(f, val, indent, k);
		if (!json_object_is_type(val, json_type_object) &&
		    !json_object_is_type(val, json_type_null)) {
			human_scalar_desc(f, o, k);
			fputc('\n', f);
		}
	}
}

void output_print(FILE *f, struct json_object *out, bool json)
{
	if (json) {
		fprintf(f, "%s\n", json_object_to_json_string_ext(out,
				JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		return;
	}
	human_obj(f, out, 0);
}
