/* SPDX-License-Identifier: GPL-2.0-only */
/* replicactl: command line parsing and dispatch. */
#ifndef REPLICACTL_CLI_H
#define REPLICACTL_CLI_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

/*
 * Run one command line (argv[0] is the program name).  Fills `out` with the
 * CIM-shaped result and returns the CIM ReturnValue.
 */
int cli_dispatch(int argc, char **argv, struct json_object *out, bool *json);
/* The whole program: parse, run, print, return the exit status. */
int cli_main(int argc, char **argv);
void cli_usage(FILE *f);

#endif
