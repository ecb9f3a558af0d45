/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * replicactl: CIM_ReplicationSettingData, given as a JSON object
 *   {"CopyPriority": 1, "DesiredCopyMethodology": "Copy-On-Write"}
 * or as a CIM embedded instance (MOF)
 *   instance of CIM_ReplicationSettingData { CopyPriority = 1; };
 * and its mapping onto dm-replica table arguments.
 */
#ifndef REPLICACTL_RSD_H
#define REPLICACTL_RSD_H

#include <stdbool.h>
#include <stdint.h>

enum rsd_prop {
	RSD_INSTANCE_ID, RSD_ELEMENT_NAME, RSD_CAPTION, RSD_DESCRIPTION,
	RSD_CONSISTENT_PIT, RSD_DESIRED_COPY_METHODOLOGY,
	RSD_TARGET_ELEMENT_SUPPLIER, RSD_THIN_PROVISIONING_POLICY,
	RSD_COPY_PRIORITY, RSD_COPY_RECOVERY_MODE, RSD_FAILED_COPY_STOPS_HOST_IO,
	RSD_READ_ONLY, RSD_DELTA_UPDATE_INTERVAL, RSD_DELTA_UPDATE_BLOCKS,
	RSD_MULTIHOP, RSD_ON_GROUP_OR_LIST_ERROR, RSD_UNEQUAL_GROUPS_ACTION,
	RSD_UNEQUAL_LISTS_ACTION, RSD_PAIRING, RSD_STORAGE_COMPRESSION_POLICY,
	RSD_AUTO_DELETE, RSD_TIME_BEFORE_REMOVAL, RSD_TARGET_ELEMENT_GOAL,
	RSD_TARGET_ELEMENT_RESOURCE_POOL, RSD_RRC_HW_COMPRESSION,
	RSD_RRC_SW_COMPRESSION, RSD_CONSISTENCY_EXEMPT,
	RSD_CONSISTENT_ASYNC_COPY, RSD_DESIRED_RPO, RSD_MAXIMUM_SKEW,
	RSD_NPROPS
};

struct rsd {
	bool set[RSD_NPROPS];
	uint64_t num[RSD_NPROPS];	/* numbers, booleans (0/1), intervals (ms) */
	char str[RSD_NPROPS][96];	/* strings */
};

/* Property name of an index (for messages and output). */
const char *rsd_prop_name(enum rsd_prop p);

/*
 * Parse either form (a leading '{' selects JSON).  Returns 0, or 5 with a
 * message naming ReplicationSettingData and the offending property.
 */
int rsd_parse(const char *text, struct rsd *out);
int rsd_parse_json(const char *text, struct rsd *out);
int rsd_parse_instance(const char *text, struct rsd *out);

/* CIM datetime interval "ddddddddhhmmss.mmmmmm:000" -> milliseconds. */
int cim_interval_ms(const char *s, uint64_t *ms);

#define RSD_MAX_CORE 8

/* What a ReplicationSettingData asks of dm-replica. */
struct rsd_effect {
	bool fail_host_on_target_error;
	bool view_read_only;
	bool thick_target;
	uint32_t target_supplier;	/* TargetElementSupplier, 4 by default */
	unsigned int ncore;
	struct {
		const char *key;
		uint64_t value;
	} core[RSD_MAX_CORE];
};

/*
 * Validate the settings for a sync type / mode and compute their effect.
 * 0, 1 (a valid value the module cannot honour) or 5.
 */
int rsd_apply(const struct rsd *r, uint32_t sync_type, uint32_t mode,
	      struct rsd_effect *eff);

#endif
