// SPDX-License-Identifier: GPL-2.0-only
/* replicactl: the capability / operation table (see caps.h). */
#include "caps.h"
#include "cim.h"
#include "util.h"

#define B CS_BIT

const struct sync_type_caps caps_sync_types[] = {
	{
		.sync_type = ST_MIRROR, .supported = true,
		.modes = { MODE_SYNC, MODE_ASYNC }, .default_mode = MODE_SYNC,
		.create_wait = { CS_INITIALIZED, CS_INACTIVE, CS_UNSYNCHRONIZED,
				 CS_SYNCHRONIZED },
		.modify_wait = { CS_UNSYNCHRONIZED, CS_SYNCHRONIZED, CS_FRACTURED,
				 CS_SPLIT, CS_SUSPENDED, CS_RESTORED, CS_INACTIVE },
		.states = {
			{ CS_INITIALIZED, false }, { CS_UNSYNCHRONIZED, false },
			{ CS_SYNCHRONIZED, false }, { CS_BROKEN, false },
			{ CS_FRACTURED, false }, { CS_SPLIT, false },
			{ CS_INACTIVE, false }, { CS_SUSPENDED, false },
			{ CS_ABORTED, false }, { CS_RESTORED, false },
		},
	},
	{
		.sync_type = ST_SNAPSHOT, .supported = true,
		/* dm-replica.rst: "Snapshots accept only sync". */
		.modes = { MODE_SYNC }, .default_mode = MODE_SYNC,
		.create_wait = { CS_INITIALIZED, CS_INACTIVE, CS_SYNCHRONIZED },
		.modify_wait = { CS_SYNCHRONIZED, CS_RESTORED, CS_INACTIVE },
		/* Inactive: after Deactivate there is no point in time and
		 * the view fails all I/O */
		.states = {
			{ CS_INITIALIZED, true }, { CS_SYNCHRONIZED, true },
			{ CS_BROKEN, false }, { CS_INACTIVE, false },
			{ CS_RESTORED, true },
		},
	},
	{
		.sync_type = ST_CLONE, .supported = true,
		.modes = { MODE_SYNC, MODE_ASYNC }, .default_mode = MODE_SYNC,
		.create_wait = { CS_INITIALIZED, CS_INACTIVE, CS_UNSYNCHRONIZED,
				 CS_SYNCHRONIZED },
		.modify_wait = { CS_UNSYNCHRONIZED, CS_SYNCHRONIZED, CS_SUSPENDED,
				 CS_RESTORED, CS_INACTIVE },
		.states = {
			{ CS_INITIALIZED, true }, { CS_UNSYNCHRONIZED, true },
			{ CS_SYNCHRONIZED, true }, { CS_BROKEN, false },
			{ CS_FRACTURED, true }, { CS_SPLIT, true },
			{ CS_INACTIVE, true }, { CS_SUSPENDED, true },
			{ CS_ABORTED, true }, { CS_RESTORED, true },
		},
	},
	{ .sync_type = ST_TOKENIZED_CLONE, .supported = false },
};
const unsigned int caps_sync_types_count =
	sizeof(caps_sync_types) / sizeof(caps_sync_types[0]);

/* States in which data flows (or may flow) between the legs. */
#define LIVE (B(CS_UNSYNCHRONIZED) | B(CS_SYNCHRONIZED))
#define STOPPED (B(CS_FRACTURED) | B(CS_SPLIT))
#define LOADED (B(CS_INITIALIZED) | B(CS_INACTIVE))

/*
 * sync type, operation, supported, precondition (CopyStates), action,
 * dm message, CopyState it heads for.  Operations not listed for a sync
 * type are Not Supported (1).  Never listed, because the module has no way
 * to do them: Failover and Failback (no writable target while the
 * relationship stays), Prepare/Unprepare (no re-initialisation of a loaded
 * relationship), Reverse Roles of anything but a synchronized mirror over
 * a plain source, Dissolve of a snapshot (its target is no volume of its
 * own), the group operations and Reset To Adaptive.  Rows with supported=false name what the
 * kernel would need (dm-replica.rst documents no such message yet).
 */
const struct op_rule caps_op_rules[] = {
	/* ---- Mirror ---- */
	{ ST_MIRROR, OP_FRACTURE, true, LIVE, ACT_MESSAGE, "fracture", CS_FRACTURED },
	{ ST_MIRROR, OP_SPLIT, true, B(CS_SYNCHRONIZED), ACT_MESSAGE, "split", CS_SPLIT },
	{ ST_MIRROR, OP_RESYNC, true,
	  STOPPED | B(CS_BROKEN) | B(CS_ABORTED) | B(CS_SUSPENDED) | B(CS_RESTORED),
	  ACT_RESYNC, "resync", CS_SYNCHRONIZED },
	{ ST_MIRROR, OP_RESTORE, true, STOPPED, ACT_MESSAGE, "restore", CS_RESTORED },
	{ ST_MIRROR, OP_DETACH, true, B(CS_SYNCHRONIZED) | STOPPED | B(CS_RESTORED),
	  ACT_DETACH, NULL, 0 },
	/* a reload through linear on the target and a full copy the other
	 * way (the module refuses the legs swapped while it is loaded) */
	{ ST_MIRROR, OP_REVERSE_ROLES, true, B(CS_SYNCHRONIZED), ACT_REVERSE_ROLES, NULL,
	  CS_SYNCHRONIZED },
	/* Detach that keeps a SynchronizationAspect record (state dir) */
	{ ST_MIRROR, OP_DISSOLVE, true, B(CS_SYNCHRONIZED) | STOPPED | B(CS_RESTORED),
	  ACT_DISSOLVE, NULL, 0 },
	{ ST_MIRROR, OP_SUSPEND, true, LIVE, ACT_MESSAGE, "pause", CS_SUSPENDED },
	{ ST_MIRROR, OP_RESUME, true, B(CS_SUSPENDED), ACT_MESSAGE, "resume", CS_SYNCHRONIZED },
	{ ST_MIRROR, OP_RESET_TO_SYNC, true, LIVE | STOPPED | B(CS_SUSPENDED) | LOADED,
	  ACT_MESSAGE, "mode sync", 0 },
	{ ST_MIRROR, OP_RESET_TO_ASYNC, true, LIVE | STOPPED | B(CS_SUSPENDED) | LOADED,
	  ACT_MESSAGE, "mode async", 0 },
	{ ST_MIRROR, OP_ACTIVATE, true, LOADED, ACT_MESSAGE, "start", CS_SYNCHRONIZED },
	/* "abort" is in replica-target.c, not yet in dm-replica.rst */
	{ ST_MIRROR, OP_ABORT, true, B(CS_UNSYNCHRONIZED),
	  ACT_MESSAGE, "abort", CS_ABORTED },
	/* "deactivate": stop the data flow, keep tracking writes; the kernel
	 * also takes Broken, left to Resync (clear_errors) here */
	{ ST_MIRROR, OP_DEACTIVATE, true, LIVE | STOPPED | B(CS_SUSPENDED) | B(CS_RESTORED),
	  ACT_MESSAGE, "deactivate", CS_INACTIVE },

	/* ---- Snapshot ---- */
	/* from Inactive the kernel takes a new point in time, which needs
	 * every device suspended (harmless from Initialized) */
	{ ST_SNAPSHOT, OP_ACTIVATE, true, LOADED, ACT_NEW_PIT, "start", CS_SYNCHRONIZED },
	{ ST_SNAPSHOT, OP_RESTORE, true, B(CS_SYNCHRONIZED), ACT_MESSAGE, "restore", CS_RESTORED },
	{ ST_SNAPSHOT, OP_RETURN_TO_POOL, true, CS_ANY, ACT_RETURN_TO_POOL, NULL, 0 },
	/* "resync" on a snapshot takes a new point in time; the kernel wants
	 * the origin and the view suspended (-EBUSY otherwise) */
	{ ST_SNAPSHOT, OP_RESYNC, true, B(CS_SYNCHRONIZED) | B(CS_RESTORED), ACT_NEW_PIT,
	  "resync", CS_SYNCHRONIZED },
	/* drops the point in time: every device suspended, like a new PIT */
	{ ST_SNAPSHOT, OP_DEACTIVATE, true, B(CS_SYNCHRONIZED) | B(CS_RESTORED), ACT_NEW_PIT,
	  "deactivate", CS_INACTIVE },

	/* ---- Clone ---- */
	/* the kernel fractures and splits mirrors only */
	{ ST_CLONE, OP_FRACTURE, false, LIVE, ACT_MESSAGE, "fracture", CS_FRACTURED },
	{ ST_CLONE, OP_SPLIT, false, B(CS_SYNCHRONIZED), ACT_MESSAGE, "split", CS_SPLIT },
	{ ST_CLONE, OP_RESYNC, true,
	  STOPPED | B(CS_BROKEN) | B(CS_ABORTED) | B(CS_SUSPENDED) | B(CS_RESTORED),
	  ACT_RESYNC, "resync", CS_SYNCHRONIZED },
	{ ST_CLONE, OP_RESTORE, true, LIVE, ACT_MESSAGE, "restore", CS_RESTORED },
	/* Detaching before hydration finished leaves an incomplete target. */
	{ ST_CLONE, OP_DETACH, true, B(CS_SYNCHRONIZED) | B(CS_RESTORED), ACT_DETACH, NULL, 0 },
	{ ST_CLONE, OP_DISSOLVE, true, B(CS_SYNCHRONIZED) | B(CS_RESTORED), ACT_DISSOLVE, NULL,
	  0 },
	{ ST_CLONE, OP_SUSPEND, true, LIVE, ACT_MESSAGE, "pause", CS_SUSPENDED },
	{ ST_CLONE, OP_RESUME, true, B(CS_SUSPENDED), ACT_MESSAGE, "resume", CS_SYNCHRONIZED },
	{ ST_CLONE, OP_ACTIVATE, true, LOADED, ACT_MESSAGE, "start", CS_SYNCHRONIZED },
	{ ST_CLONE, OP_RETURN_TO_POOL, true, CS_ANY, ACT_RETURN_TO_POOL, NULL, 0 },
	{ ST_CLONE, OP_ABORT, true, B(CS_UNSYNCHRONIZED), ACT_MESSAGE,
	  "abort", CS_ABORTED },
	/* stops hydration; the view keeps showing the point in time */
	{ ST_CLONE, OP_DEACTIVATE, true, LIVE | B(CS_SUSPENDED) | B(CS_RESTORED), ACT_MESSAGE,
	  "deactivate", CS_INACTIVE },
};
const unsigned int caps_op_rules_count =
	sizeof(caps_op_rules) / sizeof(caps_op_rules[0]);

const struct sync_type_caps *caps_for(uint32_t sync_type)
{
	unsigned int i;

	for (i = 0; i < caps_sync_types_count; i++)
		if (caps_sync_types[i].sync_type == sync_type)
			return &caps_sync_types[i];
	return NULL;
}

const struct op_rule *caps_rule(uint32_t sync_type, uint32_t op)
{
	unsigned int i;

	for (i = 0; i < caps_op_rules_count; i++)
		if (caps_op_rules[i].sync_type == sync_type &&
		    caps_op_rules[i].op == op)
			return &caps_op_rules[i];
	return NULL;
}

bool caps_list_has(const uint32_t *list, unsigned int n, uint32_t v)
{
	unsigned int i;

	for (i = 0; i < n && list[i]; i++)
		if (list[i] == v)
			return true;
	return false;
}

bool caps_mode_ok(const struct sync_type_caps *c, uint32_t mode)
{
	return caps_list_has(c->modes, 3, mode);
}

int caps_check_op(uint32_t sync_type, uint32_t op, uint32_t copy_state,
		  bool force, const struct op_rule **rule)
{
	const struct op_rule *r = caps_rule(sync_type, op);
	const char *opn = cim_name_or(&cim_operation, op);
	const char *stn = cim_name_or(&cim_sync_type, sync_type);

	if (!r)
		return rfail(RV_NOT_SUPPORTED,
			    "Operation: %s is not supported for %s relationships",
			    opn, stn);
	if (!r->supported)
		return rfail(RV_NOT_SUPPORTED,
			    "Operation: %s on a %s is not supported by the dm-replica module yet",
			    opn, stn);
	if (copy_state >= 32 || !(r->allowed & CS_BIT(copy_state))) {
		if (!force)
			return rfail(RV_INVALID_PARAM,
				    "Operation: %s is not allowed in CopyState %s (use --force to override)",
				    opn, cim_name_or(&cim_copy_state, copy_state));
	}
	*rule = r;
	return RV_OK;
}
