// SPDX-License-Identifier: GPL-2.0-only
/* replicactl: ReplicationSettingData parsing (JSON and MOF instance). */
#include "rsd.h"
#include "cim.h"
#include "util.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum pkind { K_STRING, K_BOOL, K_ENUM, K_U64, K_INTERVAL };

struct pdesc {
	const char *name;
	enum pkind kind;
	const struct cim_map *map;	/* K_ENUM: allowed values (NULL: any u16) */
};

static const struct cim_entry group_err_e[] = {
	{ 2, "Continue", NULL }, { 3, "Stop", NULL },
};
static const struct cim_map group_err_map = { "OnGroupOrListError", group_err_e, 2 };
static const struct cim_entry unequal_e[] = {
	{ 2, "Return an error", NULL },
	{ 3, "Allow source to be larger", "allowsourcegrouptobelarger|allowsourcelisttobelarger" },
	{ 4, "Allow target to be larger", "allowtargetgrouptobelarger|allowtargetlisttobelarger" },
};
static const struct cim_map unequal_map = { "UnequalAction", unequal_e, 3 };
static const struct cim_entry pairing_e[] = {
	{ 2, "Instrumentation decides", NULL }, { 3, "Exact order", NULL },
	{ 4, "Optimum", NULL },
};
static const struct cim_map pairing_map = { "Pairing", pairing_e, 3 };
static const struct cim_entry compression_e[] = {
	{ 2, "Copy compressed source to compressed target", NULL },
	{ 3, "Copy compressed source to uncompressed target", NULL },
	{ 4, "Copy uncompressed source to compressed target", NULL },
	{ 5, "Compression of target same as source", NULL },
	{ 6, "Target pool decides compression of target element", NULL },
	{ 7, "Implementation decides compression of target", NULL },
};
static const struct cim_map compression_map = { "StorageCompressionPolicy", compression_e, 6 };
static const struct cim_entry decides_e[] = {
	{ 2, "Implementation decides", NULL }, { 3, "Same as source element", NULL },
};
static const struct cim_map decides_map = { "TargetElementGoal", decides_e, 2 };

static const struct pdesc props[RSD_NPROPS] = {
	[RSD_INSTANCE_ID] = { "InstanceID", K_STRING, NULL },
	[RSD_ELEMENT_NAME] = { "ElementName", K_STRING, NULL },
	[RSD_CAPTION] = { "Caption", K_STRING, NULL },
	[RSD_DESCRIPTION] = { "Description", K_STRING, NULL },
	[RSD_CONSISTENT_PIT] = { "ConsistentPointInTime", K_BOOL, NULL },
	[RSD_DESIRED_COPY_METHODOLOGY] = { "DesiredCopyMethodology", K_ENUM, &cim_copy_methodology },
	[RSD_TARGET_ELEMENT_SUPPLIER] = { "TargetElementSupplier", K_ENUM, &cim_target_element_supplier },
	[RSD_THIN_PROVISIONING_POLICY] = { "ThinProvisioningPolicy", K_ENUM, &cim_thin_provisioning_policy },
	[RSD_COPY_PRIORITY] = { "CopyPriority", K_ENUM, &cim_copy_priority },
	[RSD_COPY_RECOVERY_MODE] = { "CopyRecoveryMode", K_ENUM, &cim_copy_recovery_mode },
	[RSD_FAILED_COPY_STOPS_HOST_IO] = { "FailedCopyStopsHostIO", K_BOOL, NULL },
	[RSD_READ_ONLY] = { "ReadOnly", K_ENUM, &cim_read_only },
	[RSD_DELTA_UPDATE_INTERVAL] = { "DeltaUpdateInterval", K_INTERVAL, NULL },
	[RSD_DELTA_UPDATE_BLOCKS] = { "DeltaUpdateBlocks", K_U64, NULL },
	[RSD_MULTIHOP] = { "Multihop", K_U64, NULL },
	[RSD_ON_GROUP_OR_LIST_ERROR] = { "OnGroupOrListError", K_ENUM, &group_err_map },
	[RSD_UNEQUAL_GROUPS_ACTION] = { "UnequalGroupsAction", K_ENUM, &unequal_map },
	[RSD_UNEQUAL_LISTS_ACTION] = { "UnequalListsAction", K_ENUM, &unequal_map },
	[RSD_PAIRING] = { "Pairing", K_ENUM, &pairing_map },
	[RSD_STORAGE_COMPRESSION_POLICY] = { "StorageCompressionPolicy", K_ENUM, &compression_map },
	[RSD_AUTO_DELETE] = { "AutoDelete", K_BOOL, NULL },
	[RSD_TIME_BEFORE_REMOVAL] = { "TimeBeforeRemoval", K_INTERVAL, NULL },
	[RSD_TARGET_ELEMENT_GOAL] = { "TargetElementGoal", K_ENUM, &decides_map },
	[RSD_TARGET_ELEMENT_RESOURCE_POOL] = { "TargetElementResourcePool", K_ENUM, &decides_map },
	[RSD_RRC_HW_COMPRESSION] = { "RRCHardwareCompressionEnabled", K_BOOL, NULL },
	[RSD_RRC_SW_COMPRESSION] = { "RRCSoftwareCompressionEnabled", K_BOOL, NULL },
	[RSD_CONSISTENCY_EXEMPT] = { "ConsistencyExempt", K_BOOL, NULL },
	[RSD_CONSISTENT_ASYNC_COPY] = { "ConsistentAsyncCopy", K_BOOL, NULL },
	[RSD_DESIRED_RPO] = { "DesiredRPO", K_INTERVAL, NULL },
	[RSD_MAXIMUM_SKEW] = { "MaximumSkew", K_U64, NULL },
};

#define RSDFAIL(...) rfail(RV_INVALID_PARAM, "ReplicationSettingData: " __VA_ARGS__)

const char *rsd_prop_name(enum rsd_prop p)
{
	return (unsigned int)p < RSD_NPROPS ? props[p].name : "?";
}

static int find_prop(const char *name)
{
	int i;

	for (i = 0; i < RSD_NPROPS; i++)
		if (!strcasecmp(props[i].name, name))
			return i;
	return -1;
}

int cim_interval_ms(const char *s, uint64_t *ms)
{
	unsigned int i;
	uint64_t d = 0, h, m, sec, us = 0;

	/* ddddddddhhmmss.mmmmmm:000 */
	if (!s || strlen(s) != 25 || s[14] != '.' || s[21] != ':' ||
	    strcmp(s + 22, "000"))
		return -1;
	for (i = 0; i < 25; i++) {
		if (i == 14 || i == 21)
			continue;
		if (!isdigit((unsigned char)s[i]))
			return -1;
	}
	for (i = 0; i < 8; i++)
		d = d * 10 + (uint64_t)(s[i] - '0');
	h = (uint64_t)(s[8] - '0') * 10 + (uint64_t)(s[9] - '0');
	m = (uint64_t)(s[10] - '0') * 10 + (uint64_t)(s[11] - '0');
	sec = (uint64_t)(s[12] - '0') * 10 + (uint64_t)(s[13] - '0');
	if (h > 23 || m > 59 || sec > 59)
		return -1;
	for (i = 15; i < 21; i++)
		us = us * 10 + (uint64_t)(s[i] - '0');
	*ms = (((d * 24 + h) * 60 + m) * 60 + sec) * 1000 + us / 1000;
	return 0;
}

/* Store a value given as text (MOF token or JSON string). is_str: quoted. */
static int set_text(struct rsd *r, int p, const char *v, bool is_str)
{
	const struct pdesc *d = &props[p];
	uint64_t n;
	uint32_t e;

	switch (d->kind) {
	case K_STRING:
		if (!is_str)
			return RSDFAIL("%s must be a string", d->name);
		if (scopy(r->str[p], sizeof(r->str[p]), v))
			return RSDFAIL("%s is too long", d->name);
		break;
	case K_BOOL:
		if (is_str)
			return RSDFAIL("%s must be true or false", d->name);
		if (!strcasecmp(v, "true"))
			r->num[p] = 1;
		else if (!strcasecmp(v, "false"))
			r->num[p] = 0;
		else
			return RSDFAIL("%s must be true or false", d->name);
		break;
	case K_ENUM:
		if (!is_str && parse_u64(v, &n))
			return RSDFAIL("%s: '%s' is not a number", d->name, v);
		if (cim_parse(d->map, v, &e))
			return RSDFAIL("%s: invalid value '%s'", d->name, v);
		r->num[p] = e;
		break;
	case K_U64:
		if (is_str || parse_u64(v, &n))
			return RSDFAIL("%s must be an unsigned number", d->name);
		r->num[p] = n;
		break;
	case K_INTERVAL:
		if (!is_str || cim_interval_ms(v, &n))
			return RSDFAIL("%s must be a CIM interval \"ddddddddhhmmss.mmmmmm:000\"",
				       d->name);
		r->num[p] = n;
		scopy(r->str[p], sizeof(r->str[p]), v);
		break;
	}
	r->set[p] = true;
	return 0;
}

int rsd_parse_json(const char *text, struct rsd *out)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t len = strlen(text);
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (len > 65536)
		return RSDFAIL("too long");
	tok = json_tokener_new();
	if (!tok)
		return rfail(RV_FAILED, "out of memory");
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!obj || jerr != json_tokener_success) {
		rc = RSDFAIL("invalid JSON (%s)",
			     jerr == json_tokener_continue ? "unexpected end" :
			     json_tokener_error_desc(jerr));
		goto out;
	}
	/* Nothing but whitespace may follow the object. */
	{
		size_t off = json_tokener_get_parse_end(tok);

		while (off < len && isspace((unsigned char)text[off]))
			off++;
		if (off != len) {
			rc = RSDFAIL("trailing data after the JSON object");
			goto out;
		}
	}
	if (!json_object_is_type(obj, json_type_object)) {
		rc = RSDFAIL("the JSON form must be an object");
		goto out;
	}
	json_object_object_foreach(obj, key, val) {
		int p = find_prop(key);
		char num[32];

		if (p < 0) {
			rc = RSDFAIL("unknown property '%s'", key);
			goto out;
		}
		if (out->set[p]) {
			rc = RSDFAIL("%s given twice", props[p].name);
			goto out;
		}
		switch (json_object_get_type(val)) {
		case json_type_null:
			continue;	/* NULL: not specified */
		case json_type_string:
			rc = set_text(out, p, json_object_get_string(val), true);
			break;
		case json_type_boolean:
			rc = set_text(out, p, json_object_get_boolean(val) ? "true" : "false",
				      false);
			break;
		case json_type_int:
			if (json_object_get_int64(val) < 0) {
				rc = RSDFAIL("%s must not be negative", props[p].name);
				break;
			}
			snprintf(num, sizeof(num), "%llu",
				 (unsigned long long)json_object_get_uint64(val));
			rc = set_text(out, p, num, false);
			break;
		default:
			rc = RSDFAIL("%s has a value of the wrong type", props[p].name);
		}
		if (rc)
			goto out;
	}
out:
	if (obj)
		json_object_put(obj);
	json_tokener_free(tok);
	return rc;
}

/* ---- MOF instance ---- */

struct mof {
	const char *p;
	char tok[512];
	bool is_str;	/* last token was a string literal */
};

static void mof_skip(struct mof *m)
{
	for (;;) {
		while (isspace((unsigned char)*m->p))
			m->p++;
		if (m->p[0] == '/' && m->p[1] == '/') {
			while (*m->p && *m->p != '\n')
				m->p++;
			continue;
		}
		if (m->p[0] == '/' && m->p[1] == '*') {
			const char *e = strstr(m->p + 2, "*/");

			m->p = e ? e + 2 : m->p + strlen(m->p);
			if (!e)
				return;
			continue;
		}
		return;
	}
}

/* Read one token: identifier/number/punctuation or a string literal
 * (adjacent literals are concatenated).  -1 at end or on error. */
static int mof_next(struct mof *m)
{
	size_t n = 0;

	mof_skip(m);
	m->is_str = false;
	if (!*m->p)
		return -1;
	if (*m->p == '"') {
		m->is_str = true;
		while (*m->p == '"') {
			m->p++;
			while (*m->p != '"') {
				char c = *m->p;

				if (!c || c == '\n')
					return -1;
				if (c == '\\') {
					m->p++;
					switch (*m->p) {
					case 'n': c = '\n'; break;
					case 't': c = '\t'; break;
					case 'r': c = '\r'; break;
					case '"': c = '"'; break;
					case '\'': c = '\''; break;
					case '\\': c = '\\'; break;
					default: return -1;
					}
				}
				if (n + 1 >= sizeof(m->tok))
					return -1;
				m->tok[n++] = c;
				m->p++;
			}
			m->p++;
			mof_skip(m);
		}
		m->tok[n] = 0;
		return 0;
	}
	if (strchr("{};=,[]()", *m->p)) {
		m->tok[0] = *m->p++;
		m->tok[1] = 0;
		return 0;
	}
	while (*m->p && (isalnum((unsigned char)*m->p) || strchr("_$.+-:", *m->p))) {
		if (n + 1 >= sizeof(m->tok))
			return -1;
		m->tok[n++] = *m->p++;
	}
	if (!n)
		return -1;
	m->tok[n] = 0;
	return 0;
}

static bool class_ok(const char *cls)
{
	size_t n = strlen(cls), k = strlen("ReplicationSettingData");

	return n >= k && !strcasecmp(cls + n - k, "ReplicationSettingData") &&
	       (n == k || cls[n - k - 1] == '_');
}

int rsd_parse_instance(const char *text, struct rsd *out)
{
	struct mof m = { .p = text };
	char cls[128];

	memset(out, 0, sizeof(*out));
	if (strlen(text) > 65536)
		return RSDFAIL("too long");
	if (mof_next(&m) || m.is_str || strcasecmp(m.tok, "instance"))
		return RSDFAIL("expected 'instance of CIM_ReplicationSettingData { ... };'");
	if (mof_next(&m) || m.is_str || strcasecmp(m.tok, "of"))
		return RSDFAIL("expected 'of' after 'instance'");
	if (mof_next(&m) || m.is_str || !isalpha((unsigned char)m.tok[0]))
		return RSDFAIL("expected a class name");
	if (scopy(cls, sizeof(cls), m.tok) || !class_ok(cls))
		return RSDFAIL("class '%s' is not CIM_ReplicationSettingData", m.tok);
	if (mof_next(&m))
		return RSDFAIL("expected '{'");
	if (!m.is_str && !strcasecmp(m.tok, "as")) {
		if (mof_next(&m) || m.is_str || m.tok[0] != '$' || !m.tok[1])
			return RSDFAIL("expected an alias '$name' after 'as'");
		if (mof_next(&m))
			return RSDFAIL("expected '{'");
	}
	if (m.is_str || strcmp(m.tok, "{"))
		return RSDFAIL("expected '{'");
	for (;;) {
		int p, rc;
		char name[128];

		if (mof_next(&m))
			return RSDFAIL("unexpected end of instance (missing '}')");
		if (!m.is_str && !strcmp(m.tok, "}"))
			break;
		if (m.is_str || !isalpha((unsigned char)m.tok[0]))
			return RSDFAIL("expected a property name, got '%s'", m.tok);
		if (scopy(name, sizeof(name), m.tok))
			return RSDFAIL("property name too long");
		p = find_prop(name);
		if (p < 0)
			return RSDFAIL("unknown property '%s'", name);
		if (out->set[p])
			return RSDFAIL("%s given twice", props[p].name);
		if (mof_next(&m) || m.is_str || strcmp(m.tok, "="))
			return RSDFAIL("expected '=' after %s", props[p].name);
		if (mof_next(&m))
			return RSDFAIL("%s: missing value", props[p].name);
		if (!m.is_str && (!strcmp(m.tok, "{") || !strcmp(m.tok, ";")))
			return RSDFAIL("%s: missing or array value", props[p].name);
		if (m.is_str || strcasecmp(m.tok, "NULL")) {
			rc = set_text(out, p, m.tok, m.is_str);
			if (rc)
				return rc;
		}
		if (mof_next(&m) || m.is_str || strcmp(m.tok, ";"))
			return RSDFAIL("expected ';' after the value of %s", props[p].name);
	}
	/* optional ';' then end */
	if (!mof_next(&m)) {
		if (m.is_str || strcmp(m.tok, ";"))
			return RSDFAIL("trailing data after the instance");
		if (!mof_next(&m))
			return RSDFAIL("trailing data after the instance");
	}
	if (*m.p)
		return RSDFAIL("malformed text after the instance");
	return 0;
}

int rsd_parse(const char *text, struct rsd *out)
{
	const char *s = text;

	if (!text)
		return RSDFAIL("missing");
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return RSDFAIL("empty");
	if (*s == '{')
		return rsd_parse_json(s, out);
	return rsd_parse_instance(s, out);
}

#define NS(...) rfail(RV_NOT_SUPPORTED, "ReplicationSettingData: " __VA_ARGS__)

static void add_core(struct rsd_effect *e, const char *key, uint64_t v)
{
	unsigned int i;

	for (i = 0; i < e->ncore; i++)
		if (!strcmp(e->core[i].key, key)) {
			e->core[i].value = v;
			return;
		}
	if (e->ncore < RSD_MAX_CORE) {
		e->core[e->ncore].key = key;
		e->core[e->ncore].value = v;
		e->ncore++;
	}
}

int rsd_apply(const struct rsd *r, uint32_t st, uint32_t mode,
	      struct rsd_effect *e)
{
	memset(e, 0, sizeof(*e));
	e->target_supplier = 4;

	if (r->set[RSD_DESIRED_COPY_METHODOLOGY]) {
		uint64_t m = r->num[RSD_DESIRED_COPY_METHODOLOGY];
		bool ok = m == 2 ||
			  (st == ST_MIRROR && (m == 3 || m == 4)) ||
			  (st == ST_SNAPSHOT && m == 6) ||
			  (st == ST_CLONE && (m == 3 || m == 9));

		if (!ok)
			return NS("DesiredCopyMethodology %s is not supported for %s",
				  cim_name_or(&cim_copy_methodology, (uint32_t)m),
				  cim_name_or(&cim_sync_type, st));
	}
	if (r->set[RSD_TARGET_ELEMENT_SUPPLIER])
		e->target_supplier = (uint32_t)r->num[RSD_TARGET_ELEMENT_SUPPLIER];
	if (r->set[RSD_THIN_PROVISIONING_POLICY])
		e->thick_target = r->num[RSD_THIN_PROVISIONING_POLICY] == 3;
	if (r->set[RSD_COPY_PRIORITY]) {
		switch (r->num[RSD_COPY_PRIORITY]) {
		case 1:	/* Low: yield to host I/O */
			add_core(e, "copy_inflight", 4);
			add_core(e, "copy_rate_min", 1024);
			break;
		case 3:	/* High */
			add_core(e, "copy_inflight", 32);
			add_core(e, "copy_rate_min", 32768);
			break;
		case 4:	/* Urgent */
			add_core(e, "copy_inflight", 64);
			add_core(e, "copy_rate_min", 131072);
			break;
		default:	/* Not Managed, Same: module defaults */
			break;
		}
	}
	if (r->set[RSD_COPY_RECOVERY_MODE] && r->num[RSD_COPY_RECOVERY_MODE] == 3)
		return NS("CopyRecoveryMode Manual is not supported (recovery is automatic)");
	if (r->set[RSD_FAILED_COPY_STOPS_HOST_IO])
		e->fail_host_on_target_error = r->num[RSD_FAILED_COPY_STOPS_HOST_IO] != 0;
	if (r->set[RSD_READ_ONLY]) {
		if (r->num[RSD_READ_ONLY] != 3)
			return NS("ReadOnly %s is not supported (only SyncedElement)",
				  cim_name_or(&cim_read_only, (uint32_t)r->num[RSD_READ_ONLY]));
		e->view_read_only = true;
	}
	if (r->set[RSD_DELTA_UPDATE_INTERVAL] || r->set[RSD_DELTA_UPDATE_BLOCKS])
		return NS("Delta-Update (DeltaUpdateInterval/DeltaUpdateBlocks) is not supported");
	if (r->set[RSD_MULTIHOP] && r->num[RSD_MULTIHOP] != 1)
		return NS("Multihop other than 1 is not supported");
	if (r->set[RSD_AUTO_DELETE] && r->num[RSD_AUTO_DELETE])
		return NS("AutoDelete is not supported");
	if (r->set[RSD_TIME_BEFORE_REMOVAL])
		return NS("TimeBeforeRemoval is not supported");
	if ((r->set[RSD_RRC_HW_COMPRESSION] && r->num[RSD_RRC_HW_COMPRESSION]) ||
	    (r->set[RSD_RRC_SW_COMPRESSION] && r->num[RSD_RRC_SW_COMPRESSION]))
		return NS("link compression is not supported");
	if (r->set[RSD_STORAGE_COMPRESSION_POLICY] &&
	    r->num[RSD_STORAGE_COMPRESSION_POLICY] != 7 &&
	    r->num[RSD_STORAGE_COMPRESSION_POLICY] != 5)
		return NS("StorageCompressionPolicy: compressed targets are not supported");
	if (r->set[RSD_CONSISTENT_ASYNC_COPY] && r->num[RSD_CONSISTENT_ASYNC_COPY])
		return NS("ConsistentAsyncCopy is not supported");
	if (r->set[RSD_MAXIMUM_SKEW])
		return NS("MaximumSkew (Adaptive mode) is not supported");
	if (r->set[RSD_DESIRED_RPO]) {
		if (st != ST_MIRROR || mode != MODE_ASYNC)
			return rfail(RV_INVALID_PARAM,
				    "ReplicationSettingData: DesiredRPO applies to asynchronous mirrors only");
		if (r->num[RSD_DESIRED_RPO] == 0 || r->num[RSD_DESIRED_RPO] > UINT32_MAX)
			return rfail(RV_INVALID_PARAM,
				    "ReplicationSettingData: DesiredRPO out of range");
		add_core(e, "max_lag_ms", r->num[RSD_DESIRED_RPO]);
	}
	return 0;
}
