#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# 10-mirror-power-cut with an asynchronous mirror: write-behinds in flight
# at the cut are covered by the write-intent marks like any other write.
# timeout: 300
MIRROR_MODE=async
. "$(dirname "$0")/10-mirror-power-cut.sh"
