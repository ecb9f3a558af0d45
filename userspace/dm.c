// SPDX-License-Identifier: GPL-2.0-only
/* replicactl: libdevmapper wrapper. */
#include "dm.h"
#include "util.h"

#include <errno.h>
#include <libdevmapper.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static bool g_udev_sync;
int g_dm_errno;

static void dm_log(int level, const char *file, int line, int dm_errno,
		   const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	(void)file;
	(void)line;
	(void)dm_errno;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	level &= 7;	/* syslog-style level; 3 = error */
	if (level <= 3)
		vlog("libdevmapper: %s", buf);
	else if (g_verbose > 1)
		vlog("libdevmapper(%d): %s", level, buf);
}

int dmw_init(void)
{
	dm_log_with_errno_init(dm_log);
	/* Without a running udev (e.g. the test VM), libdevmapper makes the
	 * /dev/mapper nodes itself. */
	g_udev_sync = !getenv("DM_DISABLE_UDEV") &&
		      access("/run/udev/control", F_OK) == 0;
	dm_udev_set_sync_support(g_udev_sync ? 1 : 0);
	return 0;
}

static int run(struct dm_task *dmt, bool cookie)
{
	uint32_t ck = 0;
	int ok;

	errno = 0;

	if (cookie && g_udev_sync) {
		if (!dm_task_set_cookie(dmt, &ck, 0))
			return 0;
		ok = dm_task_run(dmt);
		g_dm_errno = ok ? 0 : (dm_task_get_errno(dmt) ? dm_task_get_errno(dmt) : errno);
		dm_udev_wait(ck);
	} else {
		ok = dm_task_run(dmt);
		g_dm_errno = ok ? 0 : (dm_task_get_errno(dmt) ? dm_task_get_errno(dmt) : errno);
	}
	if (!cookie)
		return ok;
	dm_task_update_nodes();
	return ok;
}

static void fill_info(struct dm_task *dmt, struct dmw_info *info)
{
	struct dm_info di;
	const char *s;

	memset(info, 0, sizeof(*info));
	if (!dm_task_get_info(dmt, &di) || !di.exists)
		return;
	info->exists = true;
	info->suspended = di.suspended;
	info->live_table = di.live_table;
	info->inactive_table = di.inactive_table;
	info->read_only = di.read_only;
	info->major = (uint32_t)di.major;
	info->minor = (uint32_t)di.minor;
	info->open_count = di.open_count;
	info->event_nr = di.event_nr;
	info->target_count = di.target_count;
	s = dm_task_get_name(dmt);
	scopy(info->name, sizeof(info->name), s);
	s = dm_task_get_uuid(dmt);
	scopy(info->uuid, sizeof(info->uuid), s);
}

static int info_common(struct dm_task *dmt, struct dmw_info *info)
{
	int rc = 0;

	if (!run(dmt, false)) {
		/* ENXIO: no such device - not an error for an info query */
		memset(info, 0, sizeof(*info));
		if (dm_task_get_errno(dmt) != ENXIO)
			rc = -1;
	} else {
		fill_info(dmt, info);
	}
	dm_task_destroy(dmt);
	return rc;
}

int dmw_info_name(const char *name, struct dmw_info *info)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_INFO);

	if (!dmt)
		return -1;
	if (!dm_task_set_name(dmt, name)) {
		dm_task_destroy(dmt);
		return -1;
	}
	return info_common(dmt, info);
}

int dmw_info_uuid(const char *uuid, struct dmw_info *info)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_INFO);

	if (!dmt)
		return -1;
	if (!dm_task_set_uuid(dmt, uuid)) {
		dm_task_destroy(dmt);
		return -1;
	}
	return info_common(dmt, info);
}

int dmw_info_dev(uint32_t major, uint32_t minor, struct dmw_info *info)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_INFO);

	if (!dmt)
		return -1;
	if (!dm_task_set_major(dmt, (int)major) || !dm_task_set_minor(dmt, (int)minor)) {
		dm_task_destroy(dmt);
		return -1;
	}
	return info_common(dmt, info);
}

void dmw_table_free(struct dmw_table *t)
{
	unsigned int i;

	for (i = 0; i < t->n; i++)
		free(t->t[i].params);
	t->n = 0;
}

int dmw_table_add(struct dmw_table *t, uint64_t start, uint64_t len,
		  const char *type, const char *params)
{
	struct dmw_target *x;

	if (t->n >= DMW_MAX_TARGETS)
		return -1;
	x = &t->t[t->n];
	x->start = start;
	x->len = len;
	if (scopy(x->type, sizeof(x->type), type))
		return -1;
	x->params = strdup(params ? params : "");
	if (!x->params)
		return -1;
	t->n++;
	return 0;
}

int dmw_get_table(const char *name, bool status, struct dmw_table *t)
{
	struct dm_task *dmt = dm_task_create(status ? DM_DEVICE_STATUS : DM_DEVICE_TABLE);
	void *next = NULL;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	if (!dmt)
		return -1;
	if (!dm_task_set_name(dmt, name) || !run(dmt, false)) {
		dm_task_destroy(dmt);
		return rfail(-1, "cannot read the %s of dm device %s", status ? "status" : "table",
			    name);
	}
	do {
		uint64_t start, len;
		char *type = NULL, *params = NULL;

		next = dm_get_next_target(dmt, next, &start, &len, &type, &params);
		if (!type)
			break;
		if (dmw_table_add(t, start, len, type, params)) {
			rc = -1;
			break;
		}
	} while (next);
	dm_task_destroy(dmt);
	if (rc)
		dmw_table_free(t);
	return rc;
}

char *dmw_table_text(const struct dmw_table *t)
{
	size_t size = 1, off = 0;
	unsigned int i;
	char *s;

	for (i = 0; i < t->n; i++)
		size += strlen(t->t[i].params) + strlen(t->t[i].type) + 48;
	s = malloc(size);
	if (!s)
		return NULL;
	s[0] = 0;
	for (i = 0; i < t->n; i++)
		off += (size_t)snprintf(s + off, size - off, "%llu %llu %s %s\n",
					(unsigned long long)t->t[i].start,
					(unsigned long long)t->t[i].len, t->t[i].type,
					t->t[i].params);
	return s;
}

int dmw_table_parse(const char *text, struct dmw_table *t)
{
	const char *p = text;

	memset(t, 0, sizeof(*t));
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char line[4096], type[32];
		unsigned long long start, len;
		int off = 0;

		if (n >= sizeof(line))
			goto bad;
		memcpy(line, p, n);
		line[n] = 0;
		p = nl ? nl + 1 : NULL;
		if (!line[0])
			continue;
		if (sscanf(line, "%llu %llu %31s %n", &start, &len, type, &off) != 3)
			goto bad;
		if (dmw_table_add(t, start, len, type, line + off))
			goto bad;
	}
	return t->n ? 0 : -1;
bad:
	dmw_table_free(t);
	return -1;
}

static int add_targets(struct dm_task *dmt, const struct dmw_table *t)
{
	unsigned int i;

	for (i = 0; i < t->n; i++)
		if (!dm_task_add_target(dmt, t->t[i].start, t->t[i].len, t->t[i].type,
					t->t[i].params))
			return 0;
	return 1;
}

static int simple(int type, const char *name, const char *what, bool cookie,
		  bool noflush)
{
	struct dm_task *dmt = dm_task_create(type);
	int ok;

	if (!dmt)
		return rfail(-1, "out of memory");
	ok = dm_task_set_name(dmt, name);
	if (ok && noflush)
		ok = dm_task_no_flush(dmt);
	if (ok && type == DM_DEVICE_REMOVE)
		ok = dm_task_retry_remove(dmt);
	if (ok)
		ok = run(dmt, cookie);
	if (!ok) {
		int e = g_dm_errno;

		dm_task_destroy(dmt);
		return rfail(-1, "dm %s of %s failed: %s", what, name, e ? strerror(e) : "error");
	}
	dm_task_destroy(dmt);
	return 0;
}

int dmw_load(const char *name, const struct dmw_table *t, bool ro)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_RELOAD);
	int ok;

	if (!dmt)
		return rfail(-1, "out of memory");
	ok = dm_task_set_name(dmt, name) && add_targets(dmt, t) &&
	     (!ro || dm_task_set_ro(dmt)) && run(dmt, false);
	if (!ok) {
		int e = g_dm_errno;

		dm_task_destroy(dmt);
		return rfail(-1, "dm table load into %s failed: %s (see the kernel log)", name,
			    e ? strerror(e) : "error");
	}
	dm_task_destroy(dmt);
	return 0;
}

int dmw_create(const char *name, const char *uuid, const struct dmw_table *t, bool ro)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_CREATE);
	int ok;

	if (!dmt)
		return rfail(-1, "out of memory");
	/* Create the device with its table loaded but not yet resumed. */
	ok = dm_task_set_name(dmt, name) && (!uuid || dm_task_set_uuid(dmt, uuid)) &&
	     add_targets(dmt, t) && (!ro || dm_task_set_ro(dmt)) && run(dmt, false);
	if (!ok) {
		int e = g_dm_errno;

		dm_task_destroy(dmt);
		return rfail(-1, "dm create of %s failed: %s (see the kernel log)", name,
			    e ? strerror(e) : "error");
	}
	dm_task_destroy(dmt);
	if (dmw_resume(name)) {
		dmw_remove(name);
		return -1;
	}
	return 0;
}

int dmw_clear(const char *name)
{
	return simple(DM_DEVICE_CLEAR, name, "clear", false, false);
}

int dmw_suspend(const char *name, bool noflush)
{
	return simple(DM_DEVICE_SUSPEND, name, "suspend", false, noflush);
}

int dmw_resume(const char *name)
{
	return simple(DM_DEVICE_RESUME, name, "resume", true, false);
}

int dmw_remove(const char *name)
{
	return simple(DM_DEVICE_REMOVE, name, "remove", true, false);
}

int dmw_message(const char *name, const char *msg, char *resp, unsigned int size)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_TARGET_MSG);
	const char *r;
	int ok;

	if (resp && size)
		resp[0] = 0;
	if (!dmt)
		return rfail(-1, "out of memory");
	ok = dm_task_set_name(dmt, name) && dm_task_set_sector(dmt, 0) &&
	     dm_task_set_message(dmt, msg) && run(dmt, false);
	if (!ok) {
		int e = g_dm_errno;

		dm_task_destroy(dmt);
		errno = e;
		return rfail(-1, "message '%s' to %s failed: %s", msg, name,
			    e ? strerror(e) : "error");
	}
	r = dm_task_get_message_response(dmt);
	if (resp && size && r)
		scopy(resp, size, r);
	dm_task_destroy(dmt);
	return 0;
}

int dmw_wait_event(const char *name, uint32_t event_nr)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_WAITEVENT);
	int ok;

	if (!dmt)
		return -1;
	ok = dm_task_set_name(dmt, name) && dm_task_set_event_nr(dmt, event_nr) &&
	     run(dmt, false);
	dm_task_destroy(dmt);
	return ok ? 0 : -1;
}

int dmw_list(dmw_list_fn fn, void *arg)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_LIST);
	struct dm_names *names;
	unsigned int next = 0;
	int rc = 0;

	if (!dmt)
		return -1;
	if (!run(dmt, false)) {
		dm_task_destroy(dmt);
		return rfail(-1, "cannot list dm devices (is dm-mod loaded?)");
	}
	names = dm_task_get_names(dmt);
	if (names && names->dev) {
		do {
			names = (struct dm_names *)((char *)names + next);
			rc = fn(names->name, (uint32_t)major(names->dev),
				(uint32_t)minor(names->dev), arg);
			if (rc)
				break;
			next = names->next;
		} while (next);
	}
	dm_task_destroy(dmt);
	return rc;
}
