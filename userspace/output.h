/* SPDX-License-Identifier: GPL-2.0-only */
/* replicactl: results as CIM-shaped JSON, printed as JSON or for humans. */
#ifndef REPLICACTL_OUTPUT_H
#define REPLICACTL_OUTPUT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cim.h"

void jset_str(struct json_object *o, const char *key, const char *v);
void jset_int(struct json_object *o, const char *key, int64_t v);
void jset_bool(struct json_object *o, const char *key, bool v);
/* Value plus "<key>Description" with its CIM name. */
void jset_enum(struct json_object *o, const char *key, const struct cim_map *m,
	       uint32_t v);
const char *jget_str(struct json_object *o, const char *key);
int64_t jget_int(struct json_object *o, const char *key, int64_t dflt);
bool jget_bool(struct json_object *o, const char *key);

/* CIM references. */
struct json_object *ref_job(const char *job_id);
struct json_object *ref_sync(const char *sync_id);
struct json_object *ref_volume(const char *path, const char *element_name);

/* Set ReturnValue (+Description) and, if rv is an error, "Error". */
void out_set_rv(struct json_object *out, uint32_t rv, const char *msg);
void output_print(FILE *f, struct json_object *out, bool json);

#endif
