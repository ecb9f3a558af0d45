// SPDX-License-Identifier: GPL-2.0-only
/* replicactl: the dm-replica helper (see replicactl --help). */
#include "cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
