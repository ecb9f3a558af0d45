// SPDX-License-Identifier: GPL-2.0-only
/* Placeholder: implemented by the format work. */
#include "replica-format.h"
