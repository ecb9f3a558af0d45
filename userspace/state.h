/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * replicactl: the helper's own records (relationships, jobs) in one state
 * directory: --state-dir, else $REPLICACTL_STATE_DIR, else
 * /var/lib/replicactl.  Every file is written atomically (temp file,
 * fsync, rename, fsync of the directory).  The kernel metadata stays the
 * truth; these records only add names, roles and original tables.
 */
#ifndef REPLICACTL_STATE_H
#define REPLICACTL_STATE_H

#include <json-c/json.h>
#include <stddef.h>

#define STATE_DEFAULT_DIR "/var/lib/replicactl"

int state_init(const char *override);
const char *state_dir(void);

/* Write `data` to `path` atomically; 0 or -1 (message via rfail()). */
int state_atomic_write(const char *path, const char *data, size_t len);

/* kind: "syncs" or "jobs". */
int state_put(const char *kind, const char *id, struct json_object *obj);
struct json_object *state_get(const char *kind, const char *id);
int state_del(const char *kind, const char *id);
typedef int (*state_iter_fn)(const char *id, struct json_object *obj, void *arg);
int state_each(const char *kind, state_iter_fn fn, void *arg);

/* Exclusive lock on the state directory for mutating requests.  Returns a
 * descriptor, or -1 after timeout_s seconds (the caller reports In Use). */
int state_lock(int timeout_s);
void state_unlock(int fd);

#endif
