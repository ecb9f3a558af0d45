#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# 70-crash-replay-mirror-sync with an asynchronous mirror: write-behinds
# and marked regions in flight at a crash point must be covered by the
# write-intent bits like any other write.
# timeout: 600
MIRROR_MODE=async
. "$(dirname "$0")/70-crash-replay-mirror-sync.sh"
