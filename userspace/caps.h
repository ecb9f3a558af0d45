/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * replicactl: what the dm-replica module can do, as ONE data table
 * (caps.c) that `capabilities`, create-element-replica and
 * modify-replica-synchronization all read.  Correct it there as kernel
 * features land.
 */
#ifndef REPLICACTL_CAPS_H
#define REPLICACTL_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#define CS_BIT(s) (1u << (s))
#define CS_ANY 0xffffffffu

enum op_action {
	ACT_MESSAGE,		/* send `message` to the front device */
	ACT_RESYNC,		/* "clear_errors" when Broken, else "resync" */
	ACT_NEW_PIT,		/* `message` with every device of it suspended
				 * (snapshot resync, activate, deactivate) */
	ACT_DETACH,		/* drop the relationship, keep both elements */
	ACT_RETURN_TO_POOL,	/* drop the relationship and free the target */
	ACT_DISSOLVE,		/* as ACT_DETACH, keeping an aspect record */
	ACT_REVERSE_ROLES,	/* mirror: source and target swap, full copy */
};

struct op_rule {
	uint32_t sync_type;
	uint32_t op;		/* enum cim_op */
	bool supported;		/* false: the kernel has no way to do it yet */
	uint32_t allowed;	/* CS_BIT() set of CopyStates (precondition) */
	enum op_action action;
	const char *message;	/* dm message for ACT_MESSAGE */
	uint32_t result_state;	/* CopyState the operation heads for, 0: unchanged */
};

struct copy_state_cap {
	uint32_t state;
	bool host_accessible;	/* is the SyncedElement usable by hosts */
};

struct sync_type_caps {
	uint32_t sync_type;
	bool supported;
	uint32_t modes[3];		/* allowed Mode values, 0-terminated */
	uint32_t default_mode;
	uint32_t create_wait[6];	/* WaitForCopyState for create, 0-term. */
	uint32_t modify_wait[8];	/* WaitForCopyState for modify, 0-term. */
	struct copy_state_cap states[12];	/* 0-terminated */
};

extern const struct sync_type_caps caps_sync_types[];
extern const unsigned int caps_sync_types_count;
extern const struct op_rule caps_op_rules[];
extern const unsigned int caps_op_rules_count;

const struct sync_type_caps *caps_for(uint32_t sync_type);
const struct op_rule *caps_rule(uint32_t sync_type, uint32_t op);
bool caps_mode_ok(const struct sync_type_caps *c, uint32_t mode);
bool caps_list_has(const uint32_t *list, unsigned int n, uint32_t v);

/*
 * Check an operation against the table: 1 (not supported for this sync
 * type / by the module), 5 (precondition failed and !force) or 0.
 * On 0, *rule is set.
 */
int caps_check_op(uint32_t sync_type, uint32_t op, uint32_t copy_state,
		  bool force, const struct op_rule **rule);

#endif
