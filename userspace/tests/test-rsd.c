// SPDX-License-Identifier: GPL-2.0-only
/* Host unit tests: ReplicationSettingData (JSON, MOF instance, mapping). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cim.h"
#include "rsd.h"
#include "util.h"

static void test_json_ok(void **state)
{
	struct rsd r;

	(void)state;
	assert_int_equal(rsd_parse("  {\"CopyPriority\": 1, \"DesiredCopyMethodology\": "
				   "\"Copy-On-Write\", \"FailedCopyStopsHostIO\": true, "
				   "\"ElementName\": \"x\", \"ReadOnly\": null} ", &r), 0);
	assert_true(r.set[RSD_COPY_PRIORITY]);
	assert_int_equal(r.num[RSD_COPY_PRIORITY], 1);
	assert_int_equal(r.num[RSD_DESIRED_COPY_METHODOLOGY], 6);
	assert_int_equal(r.num[RSD_FAILED_COPY_STOPS_HOST_IO], 1);
	assert_string_equal(r.str[RSD_ELEMENT_NAME], "x");
	assert_false(r.set[RSD_READ_ONLY]);
	/* property names are case-insensitive, enum names too */
	assert_int_equal(rsd_parse("{\"copypriority\":\"urgent\"}", &r), 0);
	assert_int_equal(r.num[RSD_COPY_PRIORITY], 4);
	assert_int_equal(rsd_parse("{}", &r), 0);
	assert_int_equal(rsd_parse("{\"DesiredRPO\":\"00000000000015.000000:000\"}", &r), 0);
	assert_int_equal(r.num[RSD_DESIRED_RPO], 15000);
}

static void test_instance_ok(void **state)
{
	struct rsd r;

	(void)state;
	assert_int_equal(rsd_parse("instance of CIM_ReplicationSettingData {\n"
				   "  // a comment\n"
				   "  CopyPriority = 3; /* another */\n"
				   "  DesiredCopyMethodology = 3;\n"
				   "  FailedCopyStopsHostIO = TRUE;\n"
				   "  ElementName = \"db \\\"01\\\"\" \"-copy\";\n"
				   "  ReadOnly = NULL;\n"
				   "  TargetElementSupplier = 4;\n"
				   "};\n", &r), 0);
	assert_int_equal(r.num[RSD_COPY_PRIORITY], 3);
	assert_int_equal(r.num[RSD_DESIRED_COPY_METHODOLOGY], 3);
	assert_int_equal(r.num[RSD_FAILED_COPY_STOPS_HOST_IO], 1);
	assert_string_equal(r.str[RSD_ELEMENT_NAME], "db \"01\"-copy");
	assert_false(r.set[RSD_READ_ONLY]);
	assert_int_equal(r.num[RSD_TARGET_ELEMENT_SUPPLIER], 4);
	/* alias, subclass name, no trailing ';', empty body */
	assert_int_equal(rsd_parse("instance of MSFT_ReplicationSettingData as $R { }", &r), 0);
	assert_int_equal(rsd_parse("INSTANCE OF CIM_ReplicationSettingData{CopyPriority=0;};",
				   &r), 0);
	assert_true(r.set[RSD_COPY_PRIORITY]);
	assert_int_equal(rsd_parse("instance of CIM_ReplicationSettingData { DeltaUpdateInterval = "
				   "\"00000001002300.500000:000\"; };", &r), 0);
	assert_int_equal(r.num[RSD_DELTA_UPDATE_INTERVAL],
			 (uint64_t)((24 * 60 + 23) * 60) * 1000 + 500);
}

static void test_malformed(void **state)
{
	static const char *bad[] = {
		"",
		"   ",
		"{",
		"{\"CopyPriority\": }",
		"{\"CopyPriority\": 1} trailing",
		"[1,2]",
		"{\"NoSuchProperty\": 1}",
		"{\"CopyPriority\": 9}",
		"{\"CopyPriority\": -1}",
		"{\"CopyPriority\": 1.5}",
		"{\"CopyPriority\": \"Sometimes\"}",
		"{\"CopyPriority\": [1]}",
		"{\"FailedCopyStopsHostIO\": 1}",
		"{\"FailedCopyStopsHostIO\": \"true\"}",
		"{\"ElementName\": 5}",
		"{\"DesiredRPO\": 15}",
		"{\"DesiredRPO\": \"15s\"}",
		"{\"DesiredRPO\": \"00000000002560.000000:000\"}",
		"{\"CopyPriority\": 1, \"copypriority\": 2}",
		"instance",
		"instance of",
		"instance of CIM_StorageSetting { };",
		"instance of CIM_ReplicationSettingDataX { };",
		"instance of CIMReplicationSettingData { };",
		"instance of CIM_ReplicationSettingData",
		"instance of CIM_ReplicationSettingData {",
		"instance of CIM_ReplicationSettingData { CopyPriority = 1 };",
		"instance of CIM_ReplicationSettingData { CopyPriority 1; };",
		"instance of CIM_ReplicationSettingData { CopyPriority = ; };",
		"instance of CIM_ReplicationSettingData { CopyPriority = {1,2}; };",
		"instance of CIM_ReplicationSettingData { CopyPriority = 1; CopyPriority = 2; };",
		"instance of CIM_ReplicationSettingData { Bogus = 1; };",
		"instance of CIM_ReplicationSettingData { ElementName = \"unterminated; };",
		"instance of CIM_ReplicationSettingData { ElementName = \"bad \\q escape\"; };",
		"instance of CIM_ReplicationSettingData { ElementName = abc; };",
		"instance of CIM_ReplicationSettingData { FailedCopyStopsHostIO = yes; };",
		"instance of CIM_ReplicationSettingData { }; extra",
		"instance of CIM_ReplicationSettingData { };;",
		"instance of CIM_ReplicationSettingData as R { };",
		"instance of CIM_ReplicationSettingData { /* open comment",
		"instance of CIM_ReplicationSettingData { Multihop = -2; };",
		"of CIM_ReplicationSettingData { };",
		NULL,
	};
	struct rsd r;
	unsigned int i;

	(void)state;
	for (i = 0; bad[i]; i++) {
		err_clear();
		if (rsd_parse(bad[i], &r) != RV_INVALID_PARAM)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(err_msg(), "ReplicationSettingData"));
	}
	err_clear();
	assert_int_equal(rsd_parse(NULL, &r), RV_INVALID_PARAM);
}

static void test_long_inputs(void **state)
{
	static char big[70000];
	struct rsd r;

	(void)state;
	memset(big, ' ', sizeof(big) - 1);
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = 0;
	assert_int_equal(rsd_parse(big, &r), RV_INVALID_PARAM);
	/* an over-long string value */
	memset(big, 'a', 600);
	memcpy(big, "{\"ElementName\":\"", 16);
	memcpy(big + 600, "\"}", 3);
	assert_int_equal(rsd_parse(big, &r), RV_INVALID_PARAM);
	memcpy(big, "instance of CIM_ReplicationSettingData { ElementName = \"", 57);
	memset(big + 57, 'b', 700);
	memcpy(big + 757, "\"; };", 6);
	assert_int_equal(rsd_parse(big, &r), RV_INVALID_PARAM);
}

static int apply(const char *text, uint32_t st, uint32_t mode, struct rsd_effect *e)
{
	struct rsd r;
	int rc;

	err_clear();
	rc = rsd_parse(text, &r);
	if (rc)
		return rc;
	return rsd_apply(&r, st, mode, e);
}

static void test_apply(void **state)
{
	struct rsd_effect e;

	(void)state;
	assert_int_equal(apply("{}", 6, 2, &e), 0);
	assert_int_equal(e.target_supplier, 4);
	assert_int_equal(e.ncore, 0);
	assert_int_equal(apply("{\"CopyPriority\":\"Low\"}", 6, 2, &e), 0);
	assert_int_equal(e.ncore, 2);
	assert_string_equal(e.core[0].key, "copy_inflight");
	assert_int_equal(e.core[0].value, 4);
	assert_int_equal(apply("{\"CopyPriority\":\"Same\"}", 6, 2, &e), 0);
	assert_int_equal(e.ncore, 0);
	assert_int_equal(apply("{\"FailedCopyStopsHostIO\":true}", 6, 2, &e), 0);
	assert_true(e.fail_host_on_target_error);
	assert_int_equal(apply("{\"ReadOnly\":\"SyncedElement\"}", 7, 2, &e), 0);
	assert_true(e.view_read_only);
	assert_int_equal(apply("{\"ReadOnly\":2}", 7, 2, &e), RV_NOT_SUPPORTED);
	assert_int_equal(apply("{\"ReadOnly\":4}", 8, 2, &e), RV_NOT_SUPPORTED);
	assert_int_equal(apply("{\"ThinProvisioningPolicy\":3}", 8, 2, &e), 0);
	assert_true(e.thick_target);
	/* copy methodologies per sync type */
	assert_int_equal(apply("{\"DesiredCopyMethodology\":6}", 7, 2, &e), 0);
	assert_int_equal(apply("{\"DesiredCopyMethodology\":6}", 6, 2, &e), RV_NOT_SUPPORTED);
	assert_int_equal(apply("{\"DesiredCopyMethodology\":3}", 8, 2, &e), 0);
	assert_int_equal(apply("{\"DesiredCopyMethodology\":9}", 8, 2, &e), 0);
	assert_int_equal(apply("{\"DesiredCopyMethodology\":8}", 6, 3, &e), RV_NOT_SUPPORTED);
	assert_int_equal(apply("{\"DesiredCopyMethodology\":2}", 7, 2, &e), 0);
	assert_int_equal(apply("{\"CopyRecoveryMode\":\"Manual\"}", 6, 2, &e), RV_NOT_SUPPORTED);
	assert_int_equal(apply("{\"CopyRecoveryMode\":\"Automatic\"}", 6, 2, &e), 0);
	assert_int_equal(apply("{\"Multihop\":2}", 6, 2, &e), RV_NOT_SUPPORTED);
	assert_int_equal(apply("{\"Multihop\":1}", 6, 2, &e), 0);
	assert_int_equal(apply("{\"AutoDelete\":true}", 7, 2, &e), RV_NOT_SUPPORTED);
	assert_int_equal(apply("{\"AutoDelete\":false}", 7, 2, &e), 0);
	assert_int_equal(apply("{\"MaximumSkew\":10}", 6, 3, &e), RV_NOT_SUPPORTED);
	assert_int_equal(apply("{\"RRCSoftwareCompressionEnabled\":true}", 6, 3, &e),
			 RV_NOT_SUPPORTED);
	/* DesiredRPO: async mirror only, becomes max_lag_ms */
	assert_int_equal(apply("{\"DesiredRPO\":\"00000000000002.500000:000\"}", 6, 3, &e), 0);
	assert_int_equal(e.ncore, 1);
	assert_string_equal(e.core[0].key, "max_lag_ms");
	assert_int_equal(e.core[0].value, 2500);
	assert_int_equal(apply("{\"DesiredRPO\":\"00000000000002.500000:000\"}", 6, 2, &e),
			 RV_INVALID_PARAM);
	assert_int_equal(apply("{\"DesiredRPO\":\"00000000000000.000000:000\"}", 6, 3, &e),
			 RV_INVALID_PARAM);
	assert_int_equal(apply("{\"TargetElementSupplier\":\"Client must supply\"}", 6, 2, &e), 0);
	assert_int_equal(e.target_supplier, 5);
}

static void test_interval(void **state)
{
	uint64_t ms;

	(void)state;
	assert_int_equal(cim_interval_ms("00000000000500.000000:000", &ms), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(cim_interval_ms("00000000000500.000000:001", &ms), -1);
	assert_int_equal(cim_interval_ms("0000000000050.000000:000", &ms), -1);
	assert_int_equal(cim_interval_ms("00000000240000.000000:000", &ms), -1);
	assert_int_equal(cim_interval_ms("0000000a000500.000000:000", &ms), -1);
	assert_int_equal(cim_interval_ms(NULL, &ms), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_ok),
		cmocka_unit_test(test_instance_ok),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_long_inputs),
		cmocka_unit_test(test_apply),
		cmocka_unit_test(test_interval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
