// SPDX-License-Identifier: GPL-2.0-only
/* Host unit tests: the capability / precondition table of caps.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "caps.h"
#include "cim.h"
#include "util.h"

struct pre_case {
	uint32_t st, op, state;
	bool force;
	int rv;
};

static const struct pre_case cases[] = {
	/* mirror */
	{ 6, OP_FRACTURE, CS_SYNCHRONIZED, false, 0 },
	{ 6, OP_FRACTURE, CS_UNSYNCHRONIZED, false, 0 },
	{ 6, OP_FRACTURE, CS_FRACTURED, false, 5 },
	{ 6, OP_FRACTURE, CS_FRACTURED, true, 0 },
	{ 6, OP_SPLIT, CS_UNSYNCHRONIZED, false, 5 },
	{ 6, OP_SPLIT, CS_SYNCHRONIZED, false, 0 },
	{ 6, OP_RESYNC, CS_FRACTURED, false, 0 },
	{ 6, OP_RESYNC, CS_SPLIT, false, 0 },
	{ 6, OP_RESYNC, CS_BROKEN, false, 0 },
	{ 6, OP_RESYNC, CS_SYNCHRONIZED, false, 5 },
	{ 6, OP_RESTORE, CS_SYNCHRONIZED, false, 5 },
	{ 6, OP_RESTORE, CS_SPLIT, false, 0 },
	{ 6, OP_RESTORE, CS_FRACTURED, false, 0 },
	{ 6, OP_DETACH, CS_UNSYNCHRONIZED, false, 5 },
	{ 6, OP_DETACH, CS_UNSYNCHRONIZED, true, 0 },
	{ 6, OP_DETACH, CS_SYNCHRONIZED, false, 0 },
	{ 6, OP_DETACH, CS_FRACTURED, false, 0 },
	{ 6, OP_SUSPEND, CS_UNSYNCHRONIZED, false, 0 },
	{ 6, OP_SUSPEND, CS_SUSPENDED, false, 5 },
	{ 6, OP_RESUME, CS_SYNCHRONIZED, false, 5 },
	{ 6, OP_RESUME, CS_SUSPENDED, false, 0 },
	{ 6, OP_RESET_TO_SYNC, CS_SYNCHRONIZED, false, 0 },
	{ 6, OP_RESET_TO_ASYNC, CS_UNSYNCHRONIZED, false, 0 },
	{ 6, OP_RESET_TO_ASYNC, CS_BROKEN, false, 5 },
	{ 6, OP_ACTIVATE, CS_INACTIVE, false, 0 },
	{ 6, OP_ACTIVATE, CS_INITIALIZED, false, 0 },
	{ 6, OP_ACTIVATE, CS_SYNCHRONIZED, false, 5 },
	{ 6, OP_ABORT, CS_UNSYNCHRONIZED, false, 0 },
	{ 6, OP_ABORT, CS_SYNCHRONIZED, false, 5 },
	{ 6, OP_ABORT, CS_SYNCHRONIZED, true, 0 },
	{ 6, OP_DEACTIVATE, CS_SYNCHRONIZED, false, 0 },
	{ 6, OP_DEACTIVATE, CS_UNSYNCHRONIZED, false, 0 },
	{ 6, OP_DEACTIVATE, CS_FRACTURED, false, 0 },
	{ 6, OP_DEACTIVATE, CS_SPLIT, false, 0 },
	{ 6, OP_DEACTIVATE, CS_SUSPENDED, false, 0 },
	{ 6, OP_DEACTIVATE, CS_INACTIVE, false, 5 },
	{ 6, OP_DEACTIVATE, CS_INITIALIZED, false, 5 },
	{ 6, OP_DEACTIVATE, CS_BROKEN, false, 5 },
	{ 6, OP_DEACTIVATE, CS_ABORTED, false, 5 },
	{ 6, OP_DEACTIVATE, CS_BROKEN, true, 0 },
	{ 6, OP_RETURN_TO_POOL, CS_SYNCHRONIZED, false, 1 },
	{ 6, OP_FAILOVER, CS_SYNCHRONIZED, false, 1 },
	{ 6, OP_REVERSE_ROLES, CS_FRACTURED, false, 5 },
	{ 6, OP_REVERSE_ROLES, CS_UNSYNCHRONIZED, false, 5 },
	{ 6, OP_DISSOLVE, CS_SYNCHRONIZED, false, 0 },
	{ 6, OP_DISSOLVE, CS_SPLIT, false, 0 },
	{ 6, OP_DISSOLVE, CS_FRACTURED, false, 0 },
	{ 6, OP_DISSOLVE, CS_UNSYNCHRONIZED, false, 5 },
	{ 6, OP_DISSOLVE, CS_INACTIVE, false, 5 },
	{ 6, OP_FAILBACK, CS_FAILEDOVER, false, 1 },
	{ 6, OP_UNPREPARE, CS_SYNCHRONIZED, false, 1 },
	{ 6, OP_REVERSE_ROLES, CS_SYNCHRONIZED, false, 0 },
	{ 6, OP_PREPARE, CS_SYNCHRONIZED, false, 1 },
	{ 6, OP_RESET_TO_ADAPTIVE, CS_SYNCHRONIZED, false, 1 },
	/* snapshot */
	{ 7, OP_FRACTURE, CS_SYNCHRONIZED, false, 1 },
	{ 7, OP_RESTORE, CS_SYNCHRONIZED, false, 0 },
	{ 7, OP_RESTORE, CS_BROKEN, false, 5 },
	{ 7, OP_RETURN_TO_POOL, CS_BROKEN, false, 0 },
	{ 7, OP_RETURN_TO_POOL, CS_SYNCHRONIZED, false, 0 },
	{ 7, OP_RESYNC, CS_SYNCHRONIZED, false, 0 },
	{ 7, OP_RESYNC, CS_BROKEN, false, 5 },
	{ 7, OP_DETACH, CS_SYNCHRONIZED, false, 1 },
	{ 7, OP_DISSOLVE, CS_SYNCHRONIZED, false, 1 },
	{ 7, OP_FAILOVER, CS_SYNCHRONIZED, false, 1 },
	{ 7, OP_SUSPEND, CS_SYNCHRONIZED, false, 1 },
	{ 7, OP_ACTIVATE, CS_INITIALIZED, false, 0 },
	{ 7, OP_ACTIVATE, CS_INACTIVE, false, 0 },
	{ 7, OP_ACTIVATE, CS_SYNCHRONIZED, false, 5 },
	{ 7, OP_DEACTIVATE, CS_SYNCHRONIZED, false, 0 },
	{ 7, OP_DEACTIVATE, CS_INACTIVE, false, 5 },
	{ 7, OP_DEACTIVATE, CS_BROKEN, false, 5 },
	{ 7, OP_RESET_TO_ASYNC, CS_SYNCHRONIZED, false, 1 },
	/* clone */
	{ 8, OP_DETACH, CS_UNSYNCHRONIZED, false, 5 },
	{ 8, OP_DETACH, CS_SYNCHRONIZED, false, 0 },
	{ 8, OP_DISSOLVE, CS_SYNCHRONIZED, false, 0 },
	{ 8, OP_DISSOLVE, CS_UNSYNCHRONIZED, false, 5 },
	{ 8, OP_PREPARE, CS_SYNCHRONIZED, false, 1 },
	{ 8, OP_REVERSE_ROLES, CS_SYNCHRONIZED, false, 1 },
	{ 8, OP_SUSPEND, CS_UNSYNCHRONIZED, false, 0 },
	{ 8, OP_SUSPEND, CS_SYNCHRONIZED, false, 0 },
	{ 8, OP_SUSPEND, CS_SUSPENDED, false, 5 },
	{ 8, OP_SPLIT, CS_SYNCHRONIZED, false, 1 },
	{ 8, OP_RESTORE, CS_SYNCHRONIZED, false, 0 },
	{ 8, OP_RESTORE, CS_BROKEN, false, 5 },
	{ 8, OP_RESYNC, CS_SUSPENDED, false, 0 },
	{ 8, OP_RESUME, CS_SUSPENDED, false, 0 },
	{ 8, OP_FRACTURE, CS_UNSYNCHRONIZED, false, 1 },
	{ 8, OP_RESET_TO_SYNC, CS_SYNCHRONIZED, false, 1 },
	{ 8, OP_RETURN_TO_POOL, CS_UNSYNCHRONIZED, false, 0 },
	{ 8, OP_ABORT, CS_UNSYNCHRONIZED, false, 0 },
	{ 8, OP_DEACTIVATE, CS_UNSYNCHRONIZED, false, 0 },
	{ 8, OP_DEACTIVATE, CS_SYNCHRONIZED, false, 0 },
	{ 8, OP_DEACTIVATE, CS_SUSPENDED, false, 0 },
	{ 8, OP_DEACTIVATE, CS_INACTIVE, false, 5 },
	{ 8, OP_DEACTIVATE, CS_ABORTED, false, 5 },
	{ 8, OP_ACTIVATE, CS_INACTIVE, false, 0 },
	{ 8, OP_ACTIVATE, CS_UNSYNCHRONIZED, false, 5 },
	/* not a sync type the module has */
	{ 9, OP_FRACTURE, CS_SYNCHRONIZED, false, 1 },
};

static void test_preconditions(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct op_rule *r = NULL;
		int rv;

		err_clear();
		rv = caps_check_op(cases[i].st, cases[i].op, cases[i].state, cases[i].force, &r);
		if (rv != cases[i].rv)
			fail_msg("case %u: %s %s in %s force=%d: got %d want %d", i,
				 cim_name_or(&cim_sync_type, cases[i].st),
				 cim_name_or(&cim_operation, cases[i].op),
				 cim_name_or(&cim_copy_state, cases[i].state), cases[i].force, rv,
				 cases[i].rv);
		if (rv == 0)
			assert_non_null(r);
		else
			assert_non_null(strstr(err_msg(), "Operation"));
	}
}

static bool in_states(const struct sync_type_caps *c, uint32_t s)
{
	unsigned int k;

	for (k = 0; k < 12 && c->states[k].state; k++)
		if (c->states[k].state == s)
			return true;
	return false;
}

static void test_table_consistent(void **state)
{
	unsigned int i, j;

	(void)state;
	for (i = 0; i < caps_op_rules_count; i++) {
		const struct op_rule *r = &caps_op_rules[i];
		const struct sync_type_caps *c = caps_for(r->sync_type);

		assert_non_null(cim_name(&cim_operation, r->op));
		assert_non_null(c);
		assert_true(c->supported);
		if (r->action == ACT_MESSAGE || r->action == ACT_RESYNC)
			assert_non_null(r->message);
		if (r->result_state)
			assert_true(in_states(c, r->result_state) || !r->supported);
		if (r->allowed != CS_ANY) {
			unsigned int s;

			assert_true(r->allowed != 0);
			for (s = 0; s < 32; s++)
				if (r->allowed & CS_BIT(s))
					assert_non_null(cim_name(&cim_copy_state, s));
		}
		for (j = i + 1; j < caps_op_rules_count; j++)
			assert_false(caps_op_rules[j].sync_type == r->sync_type &&
				     caps_op_rules[j].op == r->op);
	}
	for (i = 0; i < caps_sync_types_count; i++) {
		const struct sync_type_caps *c = &caps_sync_types[i];

		if (!c->supported)
			continue;
		assert_true(caps_mode_ok(c, c->default_mode));
		for (j = 0; j < 6 && c->create_wait[j]; j++)
			assert_true(in_states(c, c->create_wait[j]));
		for (j = 0; j < 8 && c->modify_wait[j]; j++)
			assert_true(in_states(c, c->modify_wait[j]));
	}
	/* dm-replica.rst: snapshots accept only sync */
	assert_true(caps_mode_ok(caps_for(7), MODE_SYNC));
	assert_false(caps_mode_ok(caps_for(7), MODE_ASYNC));
	assert_true(caps_mode_ok(caps_for(6), MODE_ASYNC));
	assert_false(caps_for(9)->supported);
	assert_null(caps_for(5));
}

/* Every message the table sends is one the kernel knows: dm-replica.rst,
 * plus "abort" (implemented in replica-target.c, not yet documented). */
static void test_messages_documented(void **state)
{
	static const char *documented[] = { "fracture", "split", "resync", "restore",
					    "mode sync", "mode async", "pause", "resume",
					    "start", "clear_errors", "abort", "deactivate", NULL };
	unsigned int i, k;

	(void)state;
	for (i = 0; i < caps_op_rules_count; i++) {
		const struct op_rule *r = &caps_op_rules[i];
		bool ok = false;

		if (!r->supported || !r->message)
			continue;
		for (k = 0; documented[k]; k++)
			if (!strcmp(documented[k], r->message))
				ok = true;
		if (!ok)
			fail_msg("message '%s' is not a kernel message", r->message);
	}
}

/* Deactivate/Activate: the kernel's "deactivate" and "start" (dm-replica.rst);
 * a snapshot's need every device suspended (ACT_NEW_PIT), a mirror's and a
 * clone's are plain messages; all head for the states the kernel reaches. */
static void test_deactivate_activate(void **state)
{
	static const uint32_t types[] = { ST_MIRROR, ST_SNAPSHOT, ST_CLONE };
	unsigned int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		const struct op_rule *d = caps_rule(types[i], OP_DEACTIVATE);
		const struct op_rule *a = caps_rule(types[i], OP_ACTIVATE);
		const struct sync_type_caps *c = caps_for(types[i]);

		assert_non_null(d);
		assert_non_null(a);
		assert_true(d->supported && a->supported);
		assert_string_equal(d->message, "deactivate");
		assert_string_equal(a->message, "start");
		assert_int_equal(d->result_state, CS_INACTIVE);
		assert_true(a->allowed & CS_BIT(CS_INACTIVE));
		assert_true(a->allowed & CS_BIT(CS_INITIALIZED));
		assert_false(d->allowed & CS_BIT(CS_INACTIVE));
		assert_int_equal(d->action, types[i] == ST_SNAPSHOT ? ACT_NEW_PIT : ACT_MESSAGE);
		assert_int_equal(a->action, types[i] == ST_SNAPSHOT ? ACT_NEW_PIT : ACT_MESSAGE);
		assert_true(caps_list_has(c->modify_wait, 8, CS_INACTIVE));
	}
	/* a deactivated snapshot has no point in time: its view is not usable */
	for (i = 0; i < 12 && caps_for(ST_SNAPSHOT)->states[i].state; i++)
		if (caps_for(ST_SNAPSHOT)->states[i].state == CS_INACTIVE)
			assert_false(caps_for(ST_SNAPSHOT)->states[i].host_accessible);
	/* a clone cannot be fractured or split: no such WaitForCopyState */
	assert_false(caps_list_has(caps_for(ST_CLONE)->modify_wait, 8, CS_FRACTURED));
	assert_false(caps_list_has(caps_for(ST_CLONE)->modify_wait, 8, CS_SPLIT));
}

/* Legacy ModifySynchronization (smi-s.md 2.2) onto ModifyReplicaSynchronization. */
static void test_legacy_map(void **state)
{
	static const struct { uint32_t legacy, cs, op; } m[] = {
		{ 2, CS_SYNCHRONIZED, OP_DETACH },
		{ 3, CS_SYNCHRONIZED, OP_FRACTURE },
		{ 4, CS_FRACTURED, OP_RESYNC },
		{ 5, CS_SPLIT, OP_RESTORE },
		{ 6, CS_SYNCHRONIZED, OP_PREPARE },
		{ 7, CS_SYNCHRONIZED, OP_UNPREPARE },
		{ 8, CS_SYNCHRONIZED, OP_SUSPEND },
		{ 9, CS_SUSPENDED, OP_RESUME },
		{ 10, CS_SYNCHRONIZED, OP_RESET_TO_SYNC },
		{ 11, CS_SYNCHRONIZED, OP_RESET_TO_ASYNC },
		{ 12, CS_INITIALIZED, OP_ACTIVATE },
		{ 12, CS_INACTIVE, OP_ACTIVATE },
		{ 12, CS_SUSPENDED, OP_RESUME },
		{ 13, CS_UNSYNCHRONIZED, OP_SUSPEND },
	};
	uint32_t op, v;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		op = 0;
		assert_int_equal(legacy_op_translate(m[i].legacy, m[i].cs, &op), 0);
		assert_int_equal(op, m[i].op);
		assert_non_null(cim_name(&cim_legacy_operation, m[i].legacy));
		assert_non_null(cim_name(&cim_operation, op));
	}
	assert_int_equal(legacy_op_translate(0, CS_SYNCHRONIZED, &op), -1);
	assert_int_equal(legacy_op_translate(1, CS_SYNCHRONIZED, &op), -1);
	assert_int_equal(legacy_op_translate(14, CS_SYNCHRONIZED, &op), -1);
	/* names, in either spelling */
	assert_int_equal(cim_parse(&cim_legacy_operation, "Start Copy", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(cim_parse(&cim_legacy_operation, "unquiesce", &v), 0);
	assert_int_equal(v, 9);
	assert_int_equal(cim_parse(&cim_legacy_operation, "resync", &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(cim_parse(&cim_legacy_operation, "13", &v), 0);
	assert_int_not_equal(cim_parse(&cim_legacy_operation, "split", &v), 0);
	assert_int_not_equal(cim_parse(&cim_legacy_operation, "14", &v), 0);
	/* what the translated operations do on a mirror in a given state */
	{
		const struct op_rule *r = NULL;

		assert_int_equal(caps_check_op(ST_MIRROR, OP_PREPARE, CS_SYNCHRONIZED, false, &r), 1);
		legacy_op_translate(8, CS_SYNCHRONIZED, &op);
		assert_int_equal(caps_check_op(ST_MIRROR, op, CS_SYNCHRONIZED, false, &r), 0);
		assert_string_equal(r->message, "pause");
		legacy_op_translate(12, CS_INITIALIZED, &op);
		assert_int_equal(caps_check_op(ST_CLONE, op, CS_INITIALIZED, false, &r), 0);
		assert_string_equal(r->message, "start");
		err_clear();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preconditions),
		cmocka_unit_test(test_table_consistent),
		cmocka_unit_test(test_messages_documented),
		cmocka_unit_test(test_deactivate_activate),
		cmocka_unit_test(test_legacy_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
