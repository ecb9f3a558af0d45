// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for replicactl's text parsers: ReplicationSettingData
 * (JSON and MOF embedded instance), the dm-replica status line and the CIM
 * value maps.  The first byte picks the parser, the rest is the text.
 *
 * Invariants (abort() on violation): results are only 0 or 5 (-1 for the
 * status line); a failure always leaves a message; an accepted RSD holds
 * only values of the property's value map; rsd_apply only returns 0, 1
 * or 5; a parsed status line satisfies in_sync <= total and its CIM
 * properties stay in range.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cim.h"
#include "rsd.h"
#include "util.h"

static void check_rsd(const char *s)
{
	struct rsd r;
	struct rsd_effect e;
	int rc;
	uint32_t st, mode;

	err_clear();
	rc = rsd_parse(s, &r);
	if (rc != 0 && rc != RV_INVALID_PARAM)
		abort();
	if (rc) {
		if (!err_msg()[0])
			abort();
		return;
	}
	if (r.set[RSD_COPY_PRIORITY] && !cim_name(&cim_copy_priority,
						  (uint32_t)r.num[RSD_COPY_PRIORITY]))
		abort();
	if (r.set[RSD_READ_ONLY] && !cim_name(&cim_read_only, (uint32_t)r.num[RSD_READ_ONLY]))
		abort();
	if (r.set[RSD_DESIRED_COPY_METHODOLOGY] &&
	    !cim_name(&cim_copy_methodology, (uint32_t)r.num[RSD_DESIRED_COPY_METHODOLOGY]))
		abort();
	if (r.set[RSD_FAILED_COPY_STOPS_HOST_IO] && r.num[RSD_FAILED_COPY_STOPS_HOST_IO] > 1)
		abort();
	for (st = 6; st <= 8; st++)
		for (mode = 2; mode <= 3; mode++) {
			err_clear();
			rc = rsd_apply(&r, st, mode, &e);
			if (rc != 0 && rc != RV_NOT_SUPPORTED && rc != RV_INVALID_PARAM)
				abort();
			if (rc && !err_msg()[0])
				abort();
			if (e.ncore > RSD_MAX_CORE)
				abort();
		}
}

static void check_status(const char *s)
{
	struct rstatus st;
	struct cim_sync_props p;

	err_clear();
	if (rstatus_parse(s, &st)) {
		if (!err_msg()[0])
			abort();
		return;
	}
	if (st.in_sync > st.total || st.npairs > RSTATUS_MAX_PAIRS)
		abort();
	rstatus_to_cim(&st, &p);
	if (p.percent_synced > 100 || !cim_name(&cim_copy_state, p.copy_state) ||
	    !cim_name(&cim_progress_status, p.progress_status))
		abort();
	if (p.percent_synced == 100 && st.sync_type != ST_SNAPSHOT && st.in_sync != st.total)
		abort();
}

static void check_maps(const char *s)
{
	const struct cim_map *const *m;

	for (m = cim_all_maps; *m; m++) {
		uint32_t v;

		if (!cim_parse(*m, s, &v) && !cim_name(*m, v))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1 || size > 70000)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = 0;
	switch (data[0] % 4) {
	case 0:
	case 1:
		check_rsd(s);
		break;
	case 2:
		check_status(s);
		break;
	default:
		check_maps(s);
		break;
	}
	free(s);
	return 0;
}
