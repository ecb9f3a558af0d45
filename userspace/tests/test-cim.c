// SPDX-License-Identifier: GPL-2.0-only
/* Host unit tests: CIM value maps, status parsing, exit status mapping. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cim.h"
#include "util.h"

/* Every entry of every map parses by number, by its name and by the name
 * in upper case / with '-' for ' ', and names back to itself. */
static void test_every_map_names_and_numbers(void **state)
{
	const struct cim_map *const *m;

	(void)state;
	for (m = cim_all_maps; *m; m++) {
		unsigned int i;

		assert_true((*m)->count > 0);
		for (i = 0; i < (*m)->count; i++) {
			const struct cim_entry *e = &(*m)->entries[i];
			char num[16], upper[96], dashed[96];
			uint32_t v = 12345;
			size_t k;

			snprintf(num, sizeof(num), "%u", e->value);
			assert_int_equal(cim_parse(*m, num, &v), 0);
			assert_int_equal(v, e->value);
			v = 12345;
			assert_int_equal(cim_parse(*m, e->name, &v), 0);
			assert_int_equal(v, e->value);
			for (k = 0; e->name[k] && k + 1 < sizeof(upper); k++) {
				upper[k] = (char)(e->name[k] >= 'a' && e->name[k] <= 'z' ?
						  e->name[k] - 32 : e->name[k]);
				dashed[k] = e->name[k] == ' ' ? '-' : e->name[k];
			}
			upper[k] = dashed[k] = 0;
			assert_int_equal(cim_parse(*m, upper, &v), 0);
			assert_int_equal(v, e->value);
			assert_int_equal(cim_parse(*m, dashed, &v), 0);
			assert_int_equal(v, e->value);
			assert_string_equal(cim_name(*m, e->value), e->name);
		}
	}
}

static void test_map_rejects(void **state)
{
	uint32_t v = 77;

	(void)state;
	assert_int_equal(cim_parse(&cim_sync_type, "5", &v), -1);
	assert_int_equal(cim_parse(&cim_sync_type, "", &v), -1);
	assert_int_equal(cim_parse(&cim_sync_type, NULL, &v), -1);
	assert_int_equal(cim_parse(&cim_sync_type, "mirrors", &v), -1);
	assert_int_equal(cim_parse(&cim_sync_type, "-6", &v), -1);
	assert_int_equal(cim_parse(&cim_sync_type, "6x", &v), -1);
	assert_int_equal(cim_parse(&cim_sync_type, " 6", &v), -1);
	assert_int_equal(cim_parse(&cim_mode, "99999999999999999999", &v), -1);
	assert_int_equal(cim_parse(&cim_copy_state, "---", &v), -1);
	assert_int_equal(v, 77);
	assert_null(cim_name(&cim_sync_type, 5));
	assert_string_equal(cim_name_or(&cim_sync_type, 5), "Unknown");
}

static void test_aliases(void **state)
{
	uint32_t v;

	(void)state;
	assert_int_equal(cim_parse(&cim_mode, "sync", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(cim_parse(&cim_mode, "ASYNC", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(cim_parse(&cim_operation, "resync", &v), 0);
	assert_int_equal(v, 14);
	assert_int_equal(cim_parse(&cim_operation, "restore", &v), 0);
	assert_int_equal(v, 15);
	assert_int_equal(cim_parse(&cim_operation, "return-to-pool", &v), 0);
	assert_int_equal(v, 19);
	assert_int_equal(cim_parse(&cim_operation, "reset_to_async", &v), 0);
	assert_int_equal(v, 18);
	assert_int_equal(cim_parse(&cim_operation, "Restore from Replica", &v), 0);
	assert_int_equal(v, 15);
	assert_int_equal(cim_parse(&cim_copy_state, "not-applicable", &v), 0);
	assert_int_equal(v, 15);
	assert_int_equal(cim_parse(&cim_sync_type, "0x7", &v), 0);
	assert_int_equal(v, 7);
}

static const char *line_ok =
	"mirror sync unsynchronized synchronizing 1200/40960 8 3 0 0 AA rw 3 "
	"uuid=0123456789abcdef0123456789abcdef region_sectors=128 generation=42";

static void test_status_parse(void **state)
{
	struct rstatus st;
	struct cim_sync_props p;

	(void)state;
	assert_int_equal(rstatus_parse(line_ok, &st), 0);
	assert_int_equal(st.sync_type, 6);
	assert_int_equal(st.mode, 2);
	assert_int_equal(st.copy_state, CS_UNSYNCHRONIZED);
	assert_int_equal(st.progress, PS_SYNCHRONIZING);
	assert_int_equal(st.in_sync, 1200);
	assert_int_equal(st.total, 40960);
	assert_int_equal(st.copying, 8);
	assert_int_equal(st.dirty, 3);
	assert_string_equal(st.health, "AA");
	assert_string_equal(st.meta_mode, "rw");
	assert_int_equal(st.npairs, 3);
	assert_string_equal(rstatus_get(&st, "generation"), "42");
	assert_string_equal(rstatus_get(&st, "region_sectors"), "128");
	assert_null(rstatus_get(&st, "nope"));
	rstatus_to_cim(&st, &p);
	assert_int_equal(p.copy_state, 3);
	assert_int_equal(p.progress_status, 6);
	assert_int_equal(p.percent_synced, 2);	/* floor(1200*100/40960) */
	assert_false(p.sync_maintained);
	assert_int_equal(p.sync_state, 5);
	assert_int_equal(p.replica_type, 2);
	assert_true(p.source_healthy);
	assert_true(p.target_healthy);
}

static void test_status_percent_and_states(void **state)
{
	struct rstatus st;
	struct cim_sync_props p;

	(void)state;
	/* 99.99% is 99, never 100 before the end */
	assert_int_equal(rstatus_parse("clone async unsynchronized synchronizing 9999/10000 "
				       "1 0 0 0 AD ro 0", &st), 0);
	rstatus_to_cim(&st, &p);
	assert_int_equal(p.percent_synced, 99);
	assert_int_equal(p.sync_state, 15);
	assert_false(p.target_healthy);
	assert_string_equal(st.meta_mode, "ro");
	/* complete mirror */
	assert_int_equal(rstatus_parse("6 3 synchronized completed 10/10 0 0 5 120 AA rw 0",
				       &st), 0);
	rstatus_to_cim(&st, &p);
	assert_int_equal(p.percent_synced, 100);
	assert_true(p.sync_maintained);
	assert_int_equal(p.sync_state, 6);
	assert_int_equal(st.lag_regions, 5);
	assert_int_equal(st.lag_ms, 120);
	/* snapshot: 100 once the PIT is armed, whatever the counts */
	assert_int_equal(rstatus_parse("snapshot sync synchronized completed 3/100 0 0 0 0 AA rw 0",
				       &st), 0);
	rstatus_to_cim(&st, &p);
	assert_int_equal(p.percent_synced, 100);
	assert_int_equal(p.replica_type, 4);
	assert_int_equal(p.sync_state, 11);
	/* empty device */
	assert_int_equal(rstatus_parse("clone sync synchronized completed 0/0 0 0 0 0 AA rw 0",
				       &st), 0);
	rstatus_to_cim(&st, &p);
	assert_int_equal(p.percent_synced, 100);
	/* each copy state and progress token of the rst */
	{
		static const char *cs[] = { "initialized", "unsynchronized", "synchronized",
					    "broken", "fractured", "split", "inactive",
					    "suspended", "aborted", "restored" };
		static const uint32_t csv[] = { 2, 3, 4, 5, 6, 7, 8, 9, 12, 18 };
		static const char *ps[] = { "completed", "dormant", "initializing",
					    "synchronizing", "resyncing", "restoring", "pending" };
		static const uint32_t psv[] = { 2, 3, 4, 6, 7, 8, 20 };
		char line[256];
		unsigned int i;

		for (i = 0; i < 10; i++) {
			snprintf(line, sizeof(line), "mirror sync %s completed 1/2 0 0 0 0 AA rw 0",
				 cs[i]);
			assert_int_equal(rstatus_parse(line, &st), 0);
			assert_int_equal(st.copy_state, csv[i]);
		}
		for (i = 0; i < 7; i++) {
			snprintf(line, sizeof(line), "mirror sync split %s 1/2 0 0 0 0 AA rw 0", ps[i]);
			assert_int_equal(rstatus_parse(line, &st), 0);
			assert_int_equal(st.progress, psv[i]);
		}
	}
	/* trailing unknown words are ignored (forward compatible) */
	assert_int_equal(rstatus_parse("mirror sync split completed 1/2 0 0 0 0 AA rw 1 a=b extra",
				       &st), 0);
}

static void test_status_malformed(void **state)
{
	static const char *bad[] = {
		"",
		"mirror",
		"tokenizedclone sync synchronized completed 1/2 0 0 0 0 AA rw 0",
		"mirror adaptive synchronized completed 1/2 0 0 0 0 AA rw 0",
		"mirror sync happy completed 1/2 0 0 0 0 AA rw 0",
		"mirror sync synchronized done 1/2 0 0 0 0 AA rw 0",
		"mirror sync synchronized completed 12 0 0 0 0 AA rw 0",
		"mirror sync synchronized completed 3/2 0 0 0 0 AA rw 0",
		"mirror sync synchronized completed x/2 0 0 0 0 AA rw 0",
		"mirror sync synchronized completed 1/2 -1 0 0 0 AA rw 0",
		"mirror sync synchronized completed 1/2 0 0 0 0 AX rw 0",
		"mirror sync synchronized completed 1/2 0 0 0 0 AAA rw 0",
		"mirror sync synchronized completed 1/2 0 0 0 0 AA rx 0",
		"mirror sync synchronized completed 1/2 0 0 0 0 AA rw",
		"mirror sync synchronized completed 1/2 0 0 0 0 AA rw 2 a=1",
		"mirror sync synchronized completed 1/2 0 0 0 0 AA rw 1 novalue",
		"mirror sync synchronized completed 1/2 0 0 0 0 AA rw 1 =v",
		NULL,
	};
	struct rstatus st;
	unsigned int i;

	(void)state;
	for (i = 0; bad[i]; i++) {
		err_clear();
		assert_int_equal(rstatus_parse(bad[i], &st), -1);
		assert_true(strlen(err_msg()) > 0);
	}
	assert_int_equal(rstatus_parse(NULL, &st), -1);
}

static void test_reached(void **state)
{
	(void)state;
	assert_true(copy_state_reached(CS_SYNCHRONIZED, CS_SYNCHRONIZED));
	assert_false(copy_state_reached(CS_SYNCHRONIZED, CS_UNSYNCHRONIZED));
	assert_true(copy_state_reached(CS_UNSYNCHRONIZED, CS_SYNCHRONIZED));
	assert_true(copy_state_reached(CS_INITIALIZED, CS_INACTIVE));
	assert_true(copy_state_reached(CS_INACTIVE, CS_INITIALIZED));
	assert_false(copy_state_reached(CS_INACTIVE, CS_SYNCHRONIZED));
	assert_true(copy_state_dead_end(CS_SYNCHRONIZED, CS_BROKEN));
	assert_true(copy_state_dead_end(CS_SYNCHRONIZED, CS_FRACTURED));
	assert_true(copy_state_dead_end(CS_SYNCHRONIZED, CS_INACTIVE));
	assert_false(copy_state_dead_end(CS_SYNCHRONIZED, CS_UNSYNCHRONIZED));
	assert_false(copy_state_dead_end(CS_SYNCHRONIZED, CS_SUSPENDED));
	assert_false(copy_state_dead_end(CS_FRACTURED, CS_FRACTURED));
	{
		struct cim_sync_props p = { .copy_state = CS_SYNCHRONIZED,
					    .progress_status = PS_COMPLETED };

		/* the kernel ends a restore in Synchronized/Completed */
		assert_true(wait_reached(CS_RESTORED, OP_RESTORE, &p));
		assert_false(wait_reached(CS_RESTORED, 0, &p));
		assert_true(wait_reached(CS_SYNCHRONIZED, 0, &p));
		p.progress_status = PS_RESTORING;
		assert_false(wait_reached(CS_RESTORED, OP_RESTORE, &p));
		p.copy_state = CS_RESTORED;
		assert_true(wait_reached(CS_RESTORED, 0, &p));
	}
}

static void test_exit_status(void **state)
{
	static const struct { uint32_t rv; int exit; } map[] = {
		{ 0, 0 }, { 4096, 0 }, { 1, 1 }, { 2, 2 }, { 3, 3 }, { 4, 4 }, { 5, 5 },
		{ 6, 6 }, { 7, 2 }, { 4097, 2 }, { 32768, 2 },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		assert_int_equal(rv_exit_status(map[i].rv), map[i].exit);
	/* 1..6 are distinct */
	for (i = 1; i <= 6; i++) {
		unsigned int k;

		for (k = i + 1; k <= 6; k++)
			assert_int_not_equal(rv_exit_status(i), rv_exit_status(k));
		assert_int_not_equal(rv_exit_status(i), 0);
	}
}

static void test_replication_type(void **state)
{
	(void)state;
	assert_int_equal(replication_type_of(6, 2), 2);
	assert_int_equal(replication_type_of(6, 3), 3);
	assert_int_equal(replication_type_of(7, 2), 6);
	assert_int_equal(replication_type_of(7, 3), 7);
	assert_int_equal(replication_type_of(8, 2), 10);
	assert_int_equal(replication_type_of(8, 3), 11);
	assert_int_equal(replication_type_of(9, 2), 14);
	assert_int_equal(replication_type_of(6, 4), 18);
	assert_int_equal(replication_type_of(7, 4), 20);
	assert_int_equal(replication_type_of(8, 4), 22);
	assert_int_equal(replication_type_of(9, 4), 24);
	assert_int_equal(replication_type_of(5, 2), 0);
}

static void test_util(void **state)
{
	uint64_t v;
	char buf[8], n[32];

	(void)state;
	assert_int_equal(parse_size_bytes("4k", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size_bytes("1M", &v), 0);
	assert_int_equal(v, 1 << 20);
	assert_int_equal(parse_size_bytes("8s", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size_bytes("64KiB", &v), -1);
	assert_int_equal(parse_size_bytes("64KB", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(parse_size_bytes("k", &v), -1);
	assert_int_equal(parse_size_bytes("99999999999999999999T", &v), -1);
	assert_int_equal(scopy(buf, sizeof(buf), "1234567"), 0);
	assert_int_equal(scopy(buf, sizeof(buf), "12345678"), -1);
	assert_string_equal(buf, "1234567");
	norm_name(n, sizeof(n), "Return To_Resource-Pool");
	assert_string_equal(n, "returntoresourcepool");
	assert_true(name_valid("db01-snap.2", 100));
	assert_false(name_valid("a/b", 100));
	assert_false(name_valid("..", 100));
	assert_false(name_valid("", 100));
	assert_false(name_valid("abc", 2));
	{
		char u[37];

		assert_int_equal(make_uuid(u), 0);
		assert_int_equal(strlen(u), 36);
		assert_int_equal(u[14], '4');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_map_names_and_numbers),
		cmocka_unit_test(test_map_rejects),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_status_parse),
		cmocka_unit_test(test_status_percent_and_states),
		cmocka_unit_test(test_status_malformed),
		cmocka_unit_test(test_reached),
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_replication_type),
		cmocka_unit_test(test_util),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
