// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host unit tests for export/unexport (LIO): bad requests through the real
 * command line with their exact CIM return values.  No configfs, no
 * device-mapper: every case is refused before either is touched.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli.h"
#include "util.h"

#define A(...) { __VA_ARGS__, NULL }
#define MAXA 16

static char g_dir[64];

static const struct {
	const char *argv[MAXA];
	int rv;
	const char *param;	/* the message must name it */
} bad[] = {
	{ A("export"), 5, "Synchronization" },
	{ A("export", "--synchronization", ""), 5, "Synchronization" },
	{ A("export", "--sync", "x", "--fabric", "fc"), 5, "Fabric" },
	{ A("export", "--sync", "x", "--fabric"), 5, "fabric" },
	{ A("export", "--sync", "x", "--portal", "127.0.0.1:3260"), 5, "Portal" },
	{ A("export", "--sync", "x", "--fabric", "iscsi", "--portal", "127.0.0.1"), 5, "Portal" },
	{ A("export", "--sync", "x", "--fabric", "iscsi", "--portal", "h;rm:1"), 5, "Portal" },
	{ A("export", "--sync", "x", "--read-only=1"), 5, "read-only" },
	{ A("export", "--sync", "x", "--view", "--view"), 5, "view" },
	{ A("export", "--sync", "x", "extra"), 5, "extra" },
	{ A("export", "--sync", "x", "--target-pool", "/tmp"), 5, "target-pool" },
	{ A("unexport", "--sync", "x", "--view", "--front"), 5, "View" },
	{ A("unexport"), 5, "Synchronization" },
	{ A("unexport", "--sync", "x", "--fabric", "loop"), 5, "fabric" },
};

static int run(const char *const *args)
{
	char *argv[MAXA + 2];
	struct json_object *out = json_object_new_object();
	bool json;
	int argc = 0, rc, i;

	argv[argc++] = strdup("replicactl");
	for (; *args && argc < MAXA + 1; args++)
		argv[argc++] = strdup(*args);
	argv[argc] = NULL;
	rc = cli_dispatch(argc, argv, out, &json);
	for (i = 0; i < argc; i++)
		free(argv[i]);
	json_object_put(out);
	return rc;
}

static void test_bad_requests(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = run(bad[i].argv);

		if (rc != bad[i].rv)
			fail_msg("case %u (%s): rv %d, want %d: %s", i, bad[i].argv[0], rc,
				 bad[i].rv, err_msg());
		if (bad[i].param && !strstr(err_msg(), bad[i].param))
			fail_msg("case %u: message '%s' does not name %s", i, err_msg(),
				 bad[i].param);
	}
}

static int setup(void **state)
{
	(void)state;
	strcpy(g_dir, "/tmp/replicactl-lio-XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	setenv("REPLICACTL_STATE_DIR", g_dir, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_requests),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
