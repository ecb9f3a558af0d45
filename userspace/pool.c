// SPDX-License-Identifier: GPL-2.0-only
/* replicactl: block device helpers and TargetPool allocation. */
#include "pool.h"
#include "dm.h"
#include "lio.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static int read_sys(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

int blkdev_from_devno(uint32_t maj, uint32_t min, struct blkdev *bd)
{
	char p[PATH_MAX], buf[512];
	uint64_t v;
	char *dn;

	memset(bd, 0, sizeof(*bd));
	bd->major = maj;
	bd->minor = min;
	snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/size", maj, min);
	if (read_sys(p, buf, sizeof(buf)) || parse_u64(buf, &v))
		return -1;
	bd->sectors = v;
	snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/dm/name", maj, min);
	if (!read_sys(p, buf, sizeof(buf))) {
		bd->is_dm = true;
		scopy(bd->dm_name, sizeof(bd->dm_name), buf);
		snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/dm/uuid", maj, min);
		if (!read_sys(p, buf, sizeof(buf)))
			scopy(bd->dm_uuid, sizeof(bd->dm_uuid), buf);
		snprintf(bd->path, sizeof(bd->path), "/dev/mapper/%s", bd->dm_name);
		if (access(bd->path, F_OK) == 0)
			return 0;
	}
	snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/uevent", maj, min);
	if (!read_sys(p, buf, sizeof(buf)) && (dn = strstr(buf, "DEVNAME="))) {
		char *nl = strchr(dn, '\n');

		if (nl)
			*nl = 0;
		snprintf(bd->path, sizeof(bd->path), "/dev/%s", dn + 8);
	} else {
		snprintf(bd->path, sizeof(bd->path), "/dev/block/%u:%u", maj, min);
	}
	return 0;
}

int blkdev_resolve(const char *param, const char *s, struct blkdev *bd)
{
	unsigned int maj, min;
	struct stat st;
	char extra;
	struct dmw_info info;
	char path[PATH_MAX];

	memset(bd, 0, sizeof(*bd));
	if (!s || !*s)
		return rfail(5, "%s: missing", param);
	if (strlen(s) >= 240)
		return rfail(5, "%s: name too long", param);
	if (sscanf(s, "%u:%u%c", &maj, &min, &extra) == 2) {
		if (blkdev_from_devno(maj, min, bd))
			return rfail(5, "%s: no block device %s", param, s);
		return 0;
	}
	if (s[0] != '/') {
		/* a dm name or dm uuid (sysfs lookups first, then dm ioctls) */
		snprintf(path, sizeof(path), "/dev/mapper/%s", s);
		if (stat(path, &st) == 0 && S_ISBLK(st.st_mode))
			goto have_stat;
		memset(&info, 0, sizeof(info));
		if ((dmw_info_name(s, &info) == 0 && info.exists) ||
		    (dmw_info_uuid(s, &info) == 0 && info.exists)) {
			if (blkdev_from_devno(info.major, info.minor, bd))
				return rfail(5, "%s: cannot inspect %s", param, s);
			return 0;
		}
		snprintf(path, sizeof(path), "/dev/%s", s);
		if (stat(path, &st) == 0 && S_ISBLK(st.st_mode))
			goto have_stat;
		return rfail(5, "%s: '%s' is not a block device, dm name or dm uuid", param, s);
	}
	scopy(path, sizeof(path), s);
	if (stat(path, &st))
		return rfail(5, "%s: %s: %s", param, s, strerror(errno));
	if (!S_ISBLK(st.st_mode))
		return rfail(5, "%s: %s is not a block device", param, s);
have_stat:
	if (blkdev_from_devno(major(st.st_rdev), minor(st.st_rdev), bd))
		return rfail(5, "%s: cannot read the size of %s", param, path);
	if (!bd->is_dm)
		scopy(bd->path, sizeof(bd->path), path);
	return 0;
}

int blkdev_check_unclaimed(const char *param, const struct blkdev *bd)
{
	int fd = open(bd->path, O_RDONLY | O_EXCL | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;
		char bs[320];

		if (e == EBUSY && lio_holder(bd->major, bd->minor, bs, sizeof(bs)))
			return rfail(6, "%s: %s is in use: the LIO backstore %s holds it",
				    param, bd->path, bs);
		if (e == EBUSY)
			return rfail(6, "%s: %s is in use (claimed by another user or a dm table)",
				    param, bd->path);
		return rfail(5, "%s: cannot open %s: %s", param, bd->path, strerror(e));
	}
	close(fd);
	return 0;
}

int blkdev_read_head(const char *path, void *buf8k)
{
	void *al = NULL;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (posix_memalign(&al, 4096, 8192)) {
		close(fd);
		return -1;
	}
	r = pread(fd, al, 8192, 0);
	close(fd);
	if (r != 8192) {
		free(al);
		return -1;
	}
	memcpy(buf8k, al, 8192);
	free(al);
	return 0;
}

int blkdev_zero_head(const char *path)
{
	char zero[8192];
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return rfail(4, "cannot open %s: %s", path, strerror(errno));
	memset(zero, 0, sizeof(zero));
	if (pwrite(fd, zero, sizeof(zero), 0) != (ssize_t)sizeof(zero) || fsync(fd))
		rc = rfail(4, "cannot clear the metadata head of %s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

/* ---- loop devices ---- */

int loop_find(const char *file, char *dev, unsigned int devsz)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	char p[PATH_MAX], buf[PATH_MAX], real[PATH_MAX];
	int found = -1;

	if (!d)
		return -1;
	if (!realpath(file, real))
		scopy(real, sizeof(real), file);
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "loop", 4))
			continue;
		snprintf(p, sizeof(p), "/sys/block/%s/loop/backing_file", e->d_name);
		if (read_sys(p, buf, sizeof(buf)))
			continue;
		if (!strcmp(buf, real)) {
			snprintf(dev, devsz, "/dev/%s", e->d_name);
			found = 0;
			break;
		}
	}
	closedir(d);
	return found;
}

int loop_attach(const char *file, char *dev, unsigned int devsz)
{
	struct loop_info64 li;
	int ctl, nr, lfd = -1, ffd, tries;

	ffd = open(file, O_RDWR | O_CLOEXEC);
	if (ffd < 0)
		return rfail(4, "TargetPool: cannot open %s: %s", file, strerror(errno));
	for (tries = 0; tries < 8; tries++) {
		ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
		if (ctl < 0) {
			close(ffd);
			return rfail(4, "TargetPool: no /dev/loop-control: %s", strerror(errno));
		}
		nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		close(ctl);
		if (nr < 0)
			break;
		snprintf(dev, devsz, "/dev/loop%d", nr);
		lfd = open(dev, O_RDWR | O_CLOEXEC);
		if (lfd < 0) {
			/* no devtmpfs node yet: make one */
			mknod(dev, S_IFBLK | 0600, makedev(7, (unsigned int)nr));
			lfd = open(dev, O_RDWR | O_CLOEXEC);
		}
		if (lfd < 0)
			break;
		if (ioctl(lfd, LOOP_SET_FD, ffd) == 0)
			goto bound;
		close(lfd);
		lfd = -1;
		if (errno != EBUSY)
			break;	/* raced with another user: retry */
	}
	close(ffd);
	return rfail(4, "TargetPool: cannot attach a loop device to %s: %s", file,
		    strerror(errno));
bound:
	memset(&li, 0, sizeof(li));
	scopy((char *)li.lo_file_name, sizeof(li.lo_file_name), file);
	ioctl(lfd, LOOP_SET_STATUS64, &li);
	close(lfd);
	close(ffd);
	return 0;
}

int loop_detach(const char *dev)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return rfail(-1, "cannot open %s: %s", dev, strerror(errno));
	rc = ioctl(fd, LOOP_CLR_FD, 0);
	close(fd);
	return rc ? rfail(-1, "cannot detach %s: %s", dev, strerror(errno)) : 0;
}

/* ---- pools ---- */

static int have_prog(const char *name)
{
	static const char *const dirs[] = { "/sbin", "/usr/sbin", "/bin", "/usr/bin" };
	char p[PATH_MAX];
	unsigned int i;

	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", dirs[i], name);
		if (access(p, X_OK) == 0)
			return 1;
	}
	return 0;
}

/*
 * Run a program (no shell).  Its stdout goes to /dev/null (to stderr with
 * -v); the last line it wrote to stderr is kept in `msg` for the error
 * message.  LVM_SUPPRESS_FD_WARNINGS quiets lvm about inherited descriptors.
 */
static int run_prog_msg(char *const argv[], char *msg, size_t msgsz)
{
	char buf[4096];
	size_t used = 0;
	int pfd[2], st;
	ssize_t n;
	pid_t pid;

	if (msg && msgsz)
		msg[0] = 0;
	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fd >= 0 && !g_verbose)
			dup2(fd, 1);
		else
			dup2(2, 1);
		dup2(pfd[1], 2);
		setenv("LVM_SUPPRESS_FD_WARNINGS", "1", 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		n = read(pfd[0], buf + used, sizeof(buf) - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (g_verbose)
			fwrite(buf + used, 1, (size_t)n, stderr);
		used += (size_t)n;
		if (used >= sizeof(buf) - 1) {
			/* keep the tail */
			memmove(buf, buf + used / 2, used - used / 2);
			used -= used / 2;
		}
	}
	close(pfd[0]);
	buf[used] = 0;
	if (msg && msgsz) {
		char *end = buf + used, *start;

		while (end > buf && (end[-1] == '\n' || end[-1] == ' '))
			*--end = 0;
		start = strrchr(buf, '\n');
		start = start ? start + 1 : buf;
		while (*start == ' ')
			start++;
		scopy(msg, msgsz, start);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run_prog(char *const argv[])
{
	return run_prog_msg(argv, NULL, 0);
}

/*
 * lvm(8) "VALID NAMES": [a-zA-Z0-9+_.-], not starting with '-', not "."
 * or "..", no reserved prefix or infix, at most 127 characters.
 */
int lvm_name_valid(const char *s)
{
	static const char *const infix[] = { "_cdata", "_cmeta", "_corig", "_cpool", "_cvol",
					     "_imeta", "_iorig", "_mimage", "_mlog", "_pmspare",
					     "_rimage", "_rmeta", "_tdata", "_tmeta", "_vdata",
					     "_vorigin", "_wcorig", NULL };
	unsigned int i;

	if (!name_valid(s, 127) || s[0] == '-' || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	if (!strncmp(s, "snapshot", 8) || !strncmp(s, "pvmove", 6))
		return 0;
	for (i = 0; infix[i]; i++)
		if (strstr(s, infix[i]))
			return 0;
	return 1;
}

int pool_name_ok(const struct pool *p, const char *name)
{
	if (p->kind == POOL_LVM && !lvm_name_valid(name))
		return rfail(5, "ElementName: '%s' cannot name a logical volume in %s (lvm(8) VALID NAMES)",
			    name, p->where);
	if (!name_valid(name, 200))
		return rfail(5, "ElementName: '%s' cannot name a pool allocation", name);
	return 0;
}

int pool_parse(const char *s, struct pool *p)
{
	struct stat st;

	memset(p, 0, sizeof(*p));
	if (!s || !*s)
		return rfail(5, "TargetPool: empty");
	if (!strncmp(s, "dir:", 4)) {
		p->kind = POOL_DIR;
		s += 4;
	} else if (!strncmp(s, "lvm:", 4)) {
		p->kind = POOL_LVM;
		s += 4;
	} else if (s[0] == '/') {
		p->kind = POOL_DIR;
	} else {
		p->kind = POOL_LVM;
	}
	if (scopy(p->where, sizeof(p->where), s) || !*s)
		return rfail(5, "TargetPool: bad pool '%s'", s);
	if (p->kind == POOL_DIR) {
		if (s[0] != '/')
			return rfail(5, "TargetPool: directory '%s' must be an absolute path", s);
		if (stat(s, &st) || !S_ISDIR(st.st_mode))
			return rfail(5, "TargetPool: %s is not a directory", s);
		if (access(s, W_OK))
			return rfail(5, "TargetPool: directory %s is not writable", s);
	} else {
		if (!name_valid(s, 120))
			return rfail(5, "TargetPool: bad volume group name '%s'", s);
		if (!have_prog("lvcreate"))
			return rfail(1, "TargetPool: LVM pools are not supported here (lvm2 is not installed)");
		/* VG names: lvm(8) VALID NAMES without the LV-only reservations */
		if (s[0] == '-' || !strcmp(s, ".") || !strcmp(s, ".."))
			return rfail(5, "TargetPool: bad volume group name '%s'", s);
	}
	return 0;
}

int pool_check(const struct pool *p)
{
	if (p->kind == POOL_LVM) {
		char msg[256];
		char *argv[] = { "vgs", "--noheadings", "-o", "vg_name", (char *)p->where, NULL };

		if (run_prog_msg(argv, msg, sizeof(msg)))
			return rfail(5, "TargetPool: no volume group %s%s%s", p->where,
				    msg[0] ? ": " : "", msg);
	}
	return 0;
}

int pool_alloc(const struct pool *p, const char *name, uint64_t bytes, bool thick,
	       char *dev, unsigned int devsz, char *alloc, unsigned int allocsz)
{
	char file[PATH_MAX];
	int fd;

	bytes = (bytes + 4095) & ~4095ull;
	if (p->kind == POOL_DIR) {
		if (sfmt(file, sizeof(file), "%s/%s.img", p->where, name))
			return rfail(5, "TargetPool: path too long");
		fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return rfail(4, "TargetPool: cannot create %s: %s", file, strerror(errno));
		if ((thick ? posix_fallocate(fd, 0, (off_t)bytes) : ftruncate(fd, (off_t)bytes))) {
			close(fd);
			unlink(file);
			return rfail(4, "TargetPool: no space for %llu bytes in %s",
				    (unsigned long long)bytes, p->where);
		}
		if (thick && ftruncate(fd, (off_t)bytes)) {
			close(fd);
			unlink(file);
			return rfail(4, "TargetPool: cannot size %s", file);
		}
		fsync(fd);
		close(fd);
		if (loop_attach(file, dev, devsz)) {
			unlink(file);
			return 4;
		}
		snprintf(alloc, allocsz, "dir:%s", file);
		return 0;
	} else {
		char size[32], lv[512], msg[256], node[512];
		/* -W y -Z y: no stale signatures or data at the head of the LV;
		 * -y answers lvcreate's questions */
		char *argv[] = { "lvcreate", "-q", "-y", "-W", "y", "-Z", "y", "-n", (char *)name,
				 "-L", size, (char *)p->where, NULL };
		char *rm[] = { "lvremove", "-q", "-f", lv, NULL };

		(void)thick;	/* a VG allocates every extent: always thick */
		if (!lvm_name_valid(name))
			return pool_name_ok(p, name);
		if (sfmt(lv, sizeof(lv), "%s/%s", p->where, name) ||
		    sfmt(dev, devsz, "/dev/%s", lv) || sfmt(alloc, allocsz, "lvm:%s", lv))
			return rfail(5, "TargetPool: name too long");
		snprintf(size, sizeof(size), "%llub", (unsigned long long)bytes);
		if (run_prog_msg(argv, msg, sizeof(msg)))
			return rfail(4, "TargetPool: lvcreate %s in %s failed%s%s", name, p->where,
				    msg[0] ? ": " : "", msg);
		/* without udev, lvm makes the nodes itself; check they are there */
		if (access(dev, F_OK)) {
			char *act[] = { "lvchange", "-q", "-ay", lv, NULL };

			run_prog(act);
		}
		if (access(dev, F_OK)) {
			scopy(node, sizeof(node), dev);
			run_prog(rm);
			return rfail(4, "TargetPool: lvcreate made %s but %s does not exist", lv, node);
		}
		return 0;
	}
}

int pool_free(const char *alloc, const char *dev)
{
	if (!alloc || !*alloc)
		return 0;
	if (!strncmp(alloc, "dir:", 4)) {
		char loop[64];

		if (dev && !strncmp(dev, "/dev/loop", 9))
			loop_detach(dev);
		else if (!loop_find(alloc + 4, loop, sizeof(loop)))
			loop_detach(loop);
		if (unlink(alloc + 4) && errno != ENOENT)
			return rfail(-1, "cannot remove %s: %s", alloc + 4, strerror(errno));
		return 0;
	}
	if (!strncmp(alloc, "lvm:", 4)) {
		char msg[256];
		char *argv[] = { "lvremove", "-q", "-f", (char *)alloc + 4, NULL };

		(void)dev;
		if (run_prog_msg(argv, msg, sizeof(msg)))
			return rfail(-1, "lvremove %s failed%s%s", alloc + 4, msg[0] ? ": " : "", msg);
		return 0;
	}
	return -1;
}

int pool_attach(const char *alloc, char *dev, unsigned int devsz)
{
	if (!strncmp(alloc, "dir:", 4)) {
		if (!loop_find(alloc + 4, dev, devsz))
			return 0;
		return loop_attach(alloc + 4, dev, devsz) ? -1 : 0;
	}
	if (!strncmp(alloc, "lvm:", 4)) {
		char *argv[] = { "lvchange", "-q", "-ay", (char *)alloc + 4, NULL };

		snprintf(dev, devsz, "/dev/%s", alloc + 4);
		if (access(dev, F_OK) && have_prog("lvchange"))
			run_prog(argv);
		return access(dev, F_OK) ? -1 : 0;
	}
	return -1;
}
