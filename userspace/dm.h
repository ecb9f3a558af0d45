/* SPDX-License-Identifier: GPL-2.0-only */
/* replicactl: thin wrapper over libdevmapper. */
#ifndef REPLICACTL_DM_H
#define REPLICACTL_DM_H

#include <stdbool.h>
#include <stdint.h>

struct dmw_info {
	bool exists;
	bool suspended;
	bool live_table;
	bool inactive_table;
	bool read_only;
	uint32_t major, minor;
	int32_t open_count;
	uint32_t event_nr;
	int32_t target_count;
	char name[128];
	char uuid[129];
};

struct dmw_target {
	uint64_t start, len;
	char type[32];
	char *params;
};

#define DMW_MAX_TARGETS 64

struct dmw_table {
	unsigned int n;
	struct dmw_target t[DMW_MAX_TARGETS];
};

/* errno of the last failed dm ioctl (EOPNOTSUPP: the target refused the mode) */
extern int g_dm_errno;

int dmw_init(void);
/* Info by name, uuid or device number; 0 (info->exists tells), -1 error. */
int dmw_info_name(const char *name, struct dmw_info *info);
int dmw_info_uuid(const char *uuid, struct dmw_info *info);
int dmw_info_dev(uint32_t major, uint32_t minor, struct dmw_info *info);

/* Live table (status=false) or status lines (status=true). */
int dmw_get_table(const char *name, bool status, struct dmw_table *t);
void dmw_table_free(struct dmw_table *t);
int dmw_table_add(struct dmw_table *t, uint64_t start, uint64_t len,
		  const char *type, const char *params);
/* "start len type params\n"... text form, and back. */
char *dmw_table_text(const struct dmw_table *t);
int dmw_table_parse(const char *text, struct dmw_table *t);

int dmw_create(const char *name, const char *uuid, const struct dmw_table *t,
	       bool read_only);
int dmw_load(const char *name, const struct dmw_table *t, bool read_only);
int dmw_clear(const char *name);
int dmw_suspend(const char *name, bool noflush);
int dmw_resume(const char *name);
int dmw_remove(const char *name);
int dmw_message(const char *name, const char *msg, char *resp, unsigned int size);
/* Block until the device's event counter moves past event_nr. */
int dmw_wait_event(const char *name, uint32_t event_nr);

typedef int (*dmw_list_fn)(const char *name, uint32_t major, uint32_t minor,
			   void *arg);
int dmw_list(dmw_list_fn fn, void *arg);

#endif
