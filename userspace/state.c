// SPDX-License-Identifier: GPL-2.0-only
/* replicactl: state directory with atomic record files. */
#include "state.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char g_dir[PATH_MAX];

int state_init(const char *override)
{
	const char *d = override;

	if (!d || !*d)
		d = getenv("REPLICACTL_STATE_DIR");
	if (!d || !*d)
		d = STATE_DEFAULT_DIR;
	if (d[0] != '/')
		return rfail(5, "--state-dir: '%s' is not an absolute path", d);
	if (scopy(g_dir, sizeof(g_dir) - 64, d))
		return rfail(5, "--state-dir: path too long");
	return 0;
}

const char *state_dir(void)
{
	return g_dir;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	char *p;

	if (scopy(tmp, sizeof(tmp), path))
		return -1;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -1;
	return 0;
}

static int fsync_dir(const char *file)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, rc;

	if (scopy(dir, sizeof(dir), file))
		return -1;
	slash = strrchr(dir, '/');
	if (!slash)
		return -1;
	if (slash == dir)
		slash[1] = 0;
	else
		*slash = 0;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int state_atomic_write(const char *path, const char *data, size_t len)
{
	char tmp[PATH_MAX];
	size_t off = 0;
	int fd;

	if (sfmt(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()))
		return rfail(-1, "state: path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return rfail(-1, "state: cannot create %s: %s", tmp, strerror(errno));
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto err;
		}
		off += (size_t)w;
	}
	if (fsync(fd))
		goto err;
	if (close(fd)) {
		fd = -1;
		goto err;
	}
	fd = -1;
	if (rename(tmp, path))
		goto err;
	if (fsync_dir(path))
		return rfail(-1, "state: cannot sync the directory of %s: %s", path,
			    strerror(errno));
	return 0;
err:
	{
		int e = errno;

		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return rfail(-1, "state: cannot write %s: %s", path, strerror(e));
	}
}

static int rec_path(char *buf, size_t size, const char *kind, const char *id)
{
	if (!name_valid(id, 100))
		return -1;
	return sfmt(buf, size, "%s/%s/%s.json", g_dir, kind, id);
}

int state_put(const char *kind, const char *id, struct json_object *obj)
{
	char path[PATH_MAX], dir[PATH_MAX];
	const char *text;

	if (sfmt(dir, sizeof(dir), "%s/%s", g_dir, kind) || mkdir_p(dir))
		return rfail(-1, "state: cannot create %s/%s: %s", g_dir, kind, strerror(errno));
	if (rec_path(path, sizeof(path), kind, id))
		return rfail(-1, "state: bad record id '%s'", id);
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
						   JSON_C_TO_STRING_NOSLASHESCAPE);
	return state_atomic_write(path, text, strlen(text));
}

struct json_object *state_get(const char *kind, const char *id)
{
	char path[PATH_MAX];
	struct json_object *o;

	if (rec_path(path, sizeof(path), kind, id))
		return NULL;
	if (access(path, F_OK))
		return NULL;
	o = json_object_from_file(path);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int state_del(const char *kind, const char *id)
{
	char path[PATH_MAX];

	if (rec_path(path, sizeof(path), kind, id))
		return -1;
	if (unlink(path) && errno != ENOENT)
		return rfail(-1, "state: cannot remove %s: %s", path, strerror(errno));
	fsync_dir(path);
	return 0;
}

int state_each(const char *kind, state_iter_fn fn, void *arg)
{
	char dir[PATH_MAX];
	struct dirent **list = NULL;
	int n, i, rc = 0;

	if (sfmt(dir, sizeof(dir), "%s/%s", g_dir, kind))
		return -1;
	n = scandir(dir, &list, NULL, alphasort);
	if (n < 0)
		return 0;	/* no records yet */
	for (i = 0; i < n; i++) {
		char id[128];
		size_t len = strlen(list[i]->d_name);
		struct json_object *o;

		if (!rc && len > 5 && len - 5 < sizeof(id) &&
		    !strcmp(list[i]->d_name + len - 5, ".json")) {
			memcpy(id, list[i]->d_name, len - 5);
			id[len - 5] = 0;
			o = state_get(kind, id);
			if (o) {
				rc = fn(id, o, arg);
				json_object_put(o);
			}
		}
		free(list[i]);
	}
	free(list);
	return rc;
}

int state_lock(int timeout_s)
{
	char path[PATH_MAX];
	int fd, waited = 0;

	if (mkdir_p(g_dir))
		return rfail(-1, "state: cannot create %s: %s", g_dir, strerror(errno));
	if (sfmt(path, sizeof(path), "%s/lock", g_dir))
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return rfail(-1, "state: cannot open %s: %s", path, strerror(errno));
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		if (errno != EWOULDBLOCK || waited >= timeout_s * 10) {
			close(fd);
			return rfail(-2, "state: another replicactl request holds %s", path);
		}
		nanosleep(&ts, NULL);
		waited++;
	}
	return fd;
}

void state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
