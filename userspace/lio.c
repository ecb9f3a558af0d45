// SPDX-License-Identifier: GPL-2.0-only
/* replicactl: LIO exports of replica devices through configfs (see lio.h). */
#include "lio.h"
#include "dm.h"
#include "output.h"
#include "relationship.h"
#include "state.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* configfs paths here are short (names of at most 255 bytes under a short
 * root); the bounded snprintf()s below cannot truncate in practice */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define LIO_ROOT "/sys/kernel/config/target"
#define BS_PREFIX "replica-"
#define IQN_PREFIX "iqn.2024-11.org.dm-replica:"
#define NAA_PREFIX "naa.5001405"
#define DEFAULT_PORTAL "127.0.0.1:3260"
#define MAX_LUNS 32

enum fabric { FAB_LOOP = 1, FAB_ISCSI = 2 };

/* ---- small file helpers ---- */

static char g_root[256];

static const char *root(void)
{
	if (!g_root[0]) {
		const char *e = getenv("REPLICACTL_LIO_ROOT");	/* tests only */

		scopy(g_root, sizeof(g_root), e && *e ? e : LIO_ROOT);
	}
	return g_root;
}

static int wfile(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int e;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	e = n < 0 ? -errno : (size_t)n != strlen(val) ? -EIO : 0;
	close(fd);
	return e;
}

static int rfile(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = 0;
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

static int run_modprobe(const char *mod)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("modprobe", "modprobe", "-q", mod, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* LIO core (and the iblock backend) present; loads them when missing. */
static int lio_ready(void)
{
	if (getenv("REPLICACTL_LIO_ROOT"))
		return is_dir(root()) ? 0 : rfail(RV_NOT_SUPPORTED, "LIO: %s missing", root());
	if (!is_dir(LIO_ROOT "/core")) {
		if (!is_dir("/sys/kernel/config/target") && !is_dir("/sys/module/configfs"))
			run_modprobe("configfs");
		if (!is_dir("/sys/kernel/config/target"))
			(void)mount("configfs", "/sys/kernel/config", "configfs", 0, NULL);
		run_modprobe("target_core_mod");
	}
	if (!is_dir("/sys/module/target_core_iblock"))
		run_modprobe("target_core_iblock");
	if (!is_dir(LIO_ROOT "/core"))
		return rfail(RV_NOT_SUPPORTED,
			    "LIO is not available (target_core_mod, configfs at /sys/kernel/config)");
	if (!is_dir("/sys/module/target_core_iblock"))
		return rfail(RV_NOT_SUPPORTED, "LIO: the iblock backend (target_core_iblock) is not available");
	return 0;
}

/* Load a fabric module explicitly: the mkdir of the fabric directory
 * would request it, but module autoloading may be unavailable. */
static void fabric_module(const char *mod)
{
	if (!getenv("REPLICACTL_LIO_ROOT"))
		run_modprobe(mod);
}

/* ---- names ---- */

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

/* The fabric target this helper makes for backstore `bs`. */
static void target_name(enum fabric f, const char *bs, char *out, size_t size)
{
	if (f == FAB_LOOP) {
		snprintf(out, size, NAA_PREFIX "%09llx",
			 (unsigned long long)(fnv1a(bs) & 0xfffffffffull));
	} else {
		size_t n = strlen(IQN_PREFIX), i;

		snprintf(out, size, "%s%s", IQN_PREFIX, bs + strlen(BS_PREFIX));
		for (i = n; out[i]; i++) {
			char c = out[i];

			if (c >= 'A' && c <= 'Z')
				out[i] = (char)(c - 'A' + 'a');
			else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
				   c == '-'))
				out[i] = '-';
		}
	}
}

/* ---- backstores ---- */

struct backstore {
	char hba[64];
	char name[192];
	char dir[PATH_MAX];
	uint32_t major, minor;
	bool ours, ro, enabled;
};

typedef int (*bs_fn)(const struct backstore *b, void *arg);

static void bs_read(struct backstore *b)
{
	char info[1024], path[PATH_MAX + 32], up[512];
	const char *p;
	unsigned int ma, mi;
	struct stat st;

	snprintf(path, sizeof(path), "%s/info", b->dir);
	if (rfile(path, info, sizeof(info)))
		return;
	p = strstr(info, "Major: ");
	if (p && sscanf(p, "Major: %u Minor: %u", &ma, &mi) == 2 && (ma || mi)) {
		b->major = ma;
		b->minor = mi;
		b->enabled = true;
	} else if ((p = strstr(info, "UDEV PATH: ")) && sscanf(p + 11, "%511s", up) == 1 &&
		   !stat(up, &st) && S_ISBLK(st.st_mode)) {
		/* not enabled (yet): the device it names */
		b->major = major(st.st_rdev);
		b->minor = minor(st.st_rdev);
	}
	p = strstr(info, "readonly: ");
	b->ro = p && p[10] == '1';
}

static int bs_each(bs_fn fn, void *arg)
{
	char core[PATH_MAX];
	struct dirent *h, *d;
	DIR *cd, *hd;
	int rc = 0;

	snprintf(core, sizeof(core), "%s/core", root());
	cd = opendir(core);
	if (!cd)
		return 0;
	while (!rc && (h = readdir(cd))) {
		char hp[PATH_MAX];

		if (strncmp(h->d_name, "iblock_", 7))
			continue;
		snprintf(hp, sizeof(hp), "%s/%.64s", core, h->d_name);
		hd = opendir(hp);
		if (!hd)
			continue;
		while (!rc && (d = readdir(hd))) {
			struct backstore b;

			if (d->d_name[0] == '.')
				continue;
			memset(&b, 0, sizeof(b));
			snprintf(b.dir, sizeof(b.dir), "%s/%.190s", hp, d->d_name);
			if (!is_dir(b.dir))
				continue;
			scopy(b.hba, sizeof(b.hba), h->d_name);
			snprintf(b.name, sizeof(b.name), "%.190s", d->d_name);
			b.ours = !strncmp(b.name, BS_PREFIX, strlen(BS_PREFIX));
			bs_read(&b);
			rc = fn(&b, arg);
		}
		closedir(hd);
	}
	closedir(cd);
	return rc;
}

struct bs_find {
	uint32_t major, minor;
	const char *name;	/* or by name */
	struct backstore found[8];
	unsigned int n;
};

static int bs_match(const struct backstore *b, void *arg)
{
	struct bs_find *f = arg;

	if (f->name ? strcmp(b->name, f->name) :
		      !(b->major == f->major && b->minor == f->minor))
		return 0;
	if (f->n < 8)
		f->found[f->n++] = *b;
	return 0;
}

static void bs_find_dev(struct bs_find *f, uint32_t maj, uint32_t min)
{
	memset(f, 0, sizeof(*f));
	f->major = maj;
	f->minor = min;
	bs_each(bs_match, f);
}

bool lio_holder(uint32_t maj, uint32_t min, char *buf, size_t size)
{
	struct bs_find f;

	bs_find_dev(&f, maj, min);
	if (!f.n)
		return false;
	snprintf(buf, size, "%s/%s", f.found[0].hba, f.found[0].name);
	return true;
}

/* ---- fabric LUNs pointing at a backstore ---- */

struct lunref {
	enum fabric fabric;
	char fabric_name[32];
	char wwn[256];
	char tpg[PATH_MAX];	/* .../<fabric>/<wwn>/tpgt_N */
	char lun[PATH_MAX];	/* .../tpgt_N/lun/lun_M */
	char link[PATH_MAX];	/* .../lun_M/<link> */
	unsigned int lun_nr;
};

static bool links_to(const char *link, const char *target_real)
{
	char rp[PATH_MAX];

	return realpath(link, rp) && !strcmp(rp, target_real);
}

/* Every fabric LUN linked to `dir` (any fabric); returns the count. */
static unsigned int luns_of(const char *dir, struct lunref *v, unsigned int max)
{
	char real[PATH_MAX], p1[PATH_MAX];
	unsigned int n = 0;
	struct dirent *fe, *we, *te, *le, *xe;
	DIR *fd, *wd, *td, *ld, *xd;

	if (!realpath(dir, real))
		return 0;
	fd = opendir(root());
	if (!fd)
		return 0;
	while ((fe = readdir(fd))) {
		char fp[PATH_MAX];

		if (fe->d_name[0] == '.' || !strcmp(fe->d_name, "core"))
			continue;
		snprintf(fp, sizeof(fp), "%s/%.64s", root(), fe->d_name);
		wd = opendir(fp);
		if (!wd)
			continue;
		while ((we = readdir(wd))) {
			char wp[PATH_MAX];

			if (we->d_name[0] == '.')
				continue;
			snprintf(wp, sizeof(wp), "%.3800s/%.250s", fp, we->d_name);
			td = opendir(wp);
			if (!td)
				continue;
			while ((te = readdir(td))) {
				char tp[PATH_MAX];

				if (strncmp(te->d_name, "tpgt_", 5))
					continue;
				snprintf(tp, sizeof(tp), "%.4000s/%.32s", wp, te->d_name);
				snprintf(p1, sizeof(p1), "%.4000s/lun", tp);
				ld = opendir(p1);
				if (!ld)
					continue;
				while ((le = readdir(ld))) {
					char lp[PATH_MAX];

					if (strncmp(le->d_name, "lun_", 4))
						continue;
					snprintf(lp, sizeof(lp), "%.4000s/%.32s", p1, le->d_name);
					xd = opendir(lp);
					if (!xd)
						continue;
					while ((xe = readdir(xd))) {
						char xp[PATH_MAX];
						struct stat st;

						if (xe->d_name[0] == '.')
							continue;
						snprintf(xp, sizeof(xp), "%.3800s/%.250s", lp, xe->d_name);
						if (lstat(xp, &st) || !S_ISLNK(st.st_mode) ||
						    !links_to(xp, real) || n >= max)
							continue;
						memset(&v[n], 0, sizeof(v[n]));
						v[n].fabric = !strcmp(fe->d_name, "loopback") ? FAB_LOOP :
							      !strcmp(fe->d_name, "iscsi") ? FAB_ISCSI : 0;
						snprintf(v[n].fabric_name, sizeof(v[n].fabric_name),
							 "%.31s", fe->d_name);
						snprintf(v[n].wwn, sizeof(v[n].wwn), "%.255s", we->d_name);
						scopy(v[n].tpg, sizeof(v[n].tpg), tp);
						scopy(v[n].lun, sizeof(v[n].lun), lp);
						scopy(v[n].link, sizeof(v[n].link), xp);
						v[n].lun_nr = (unsigned int)strtoul(le->d_name + 4, NULL, 10);
						n++;
					}
					closedir(xd);
				}
				closedir(ld);
			}
			closedir(td);
		}
		closedir(wd);
	}
	closedir(fd);
	return n;
}

/* rmdir every subdirectory of `dir` (portals, ACLs). */
static void rmdir_children(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		char p[PATH_MAX];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%.3800s/%.250s", dir, e->d_name);
		if (is_dir(p) && rmdir(p))
			vlog("lio: rmdir %s: %s", p, strerror(errno));
	}
	closedir(d);
}

static bool dir_has_prefix(const char *dir, const char *prefix)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d)))
		found = !strncmp(e->d_name, prefix, strlen(prefix));
	closedir(d);
	return found;
}

/* Drop ACL mapped LUNs of the TPG that point at `lun` (explicit ACLs). */
static void drop_mapped_luns(const char *tpg, const char *lun)
{
	char acls[PATH_MAX], real[PATH_MAX];
	struct dirent *a, *m, *x;
	DIR *ad, *md, *xd;

	if (!realpath(lun, real))
		return;
	snprintf(acls, sizeof(acls), "%.4000s/acls", tpg);
	ad = opendir(acls);
	if (!ad)
		return;
	while ((a = readdir(ad))) {
		char ap[PATH_MAX];

		if (a->d_name[0] == '.')
			continue;
		snprintf(ap, sizeof(ap), "%.3800s/%.250s", acls, a->d_name);
		md = opendir(ap);
		if (!md)
			continue;
		while ((m = readdir(md))) {
			char mp[PATH_MAX];
			bool hit = false;

			if (strncmp(m->d_name, "lun_", 4))
				continue;
			snprintf(mp, sizeof(mp), "%.3800s/%.250s", ap, m->d_name);
			xd = opendir(mp);
			if (!xd)
				continue;
			while ((x = readdir(xd))) {
				char xp[PATH_MAX];
				struct stat st;

				if (x->d_name[0] == '.')
					continue;
				snprintf(xp, sizeof(xp), "%.3800s/%.250s", mp, x->d_name);
				if (!lstat(xp, &st) && S_ISLNK(st.st_mode) && links_to(xp, real)) {
					unlink(xp);
					hit = true;
				}
			}
			closedir(xd);
			if (hit)
				rmdir(mp);
		}
		closedir(md);
	}
	closedir(ad);
}

/* Tear down a fabric target this helper made, once it has no LUN left. */
static void drop_target(enum fabric f, const char *tpg)
{
	char p[PATH_MAX], wwn[PATH_MAX], *slash;

	snprintf(p, sizeof(p), "%.4000s/lun", tpg);
	if (dir_has_prefix(p, "lun_"))
		return;
	if (f == FAB_ISCSI) {
		snprintf(p, sizeof(p), "%.4000s/enable", tpg);
		wfile(p, "0");
		snprintf(p, sizeof(p), "%.4000s/np", tpg);
		rmdir_children(p);
		snprintf(p, sizeof(p), "%.4000s/acls", tpg);
		rmdir_children(p);
	}
	if (rmdir(tpg))
		vlog("lio: rmdir %s: %s", tpg, strerror(errno));
	scopy(wwn, sizeof(wwn), tpg);
	slash = strrchr(wwn, '/');
	if (slash) {
		*slash = 0;
		if (!dir_has_prefix(wwn, "tpgt_") && rmdir(wwn))
			vlog("lio: rmdir %s: %s", wwn, strerror(errno));
	}
}

/* Remove one of this helper's backstores and every LUN linked to it. */
static int remove_backstore(const struct backstore *b, struct json_object *removed)
{
	struct lunref v[MAX_LUNS];
	unsigned int n = luns_of(b->dir, v, MAX_LUNS), i;
	char hba[PATH_MAX];

	for (i = 0; i < n; i++) {
		char mine[256];

		drop_mapped_luns(v[i].tpg, v[i].lun);
		if (unlink(v[i].link) || rmdir(v[i].lun))
			return rfail(RV_FAILED, "LIO: cannot remove %s: %s", v[i].lun,
				    strerror(errno));
		if (v[i].fabric) {
			target_name(v[i].fabric, b->name, mine, sizeof(mine));
			if (!strcmp(mine, v[i].wwn))
				drop_target(v[i].fabric, v[i].tpg);
		}
	}
	if (rmdir(b->dir))
		return rfail(errno == EBUSY ? RV_IN_USE : RV_FAILED,
			    "LIO: cannot remove backstore %s/%s: %s", b->hba, b->name,
			    strerror(errno));
	snprintf(hba, sizeof(hba), "%s/core/%s", root(), b->hba);
	rmdir(hba);	/* only when empty */
	if (removed) {
		char s[300];

		snprintf(s, sizeof(s), "%s/%s", b->hba, b->name);
		json_object_array_add(removed, json_object_new_string(s));
	}
	return 0;
}

/* ---- undo (export) ---- */

struct lundo {
	unsigned int n;
	struct {
		char kind;	/* 'd' rmdir, 'l' unlink, 'e' write 0 to enable */
		char path[PATH_MAX];
	} s[16];
};

static void lundo_push(struct lundo *u, char kind, const char *path)
{
	if (u->n < 16) {
		u->s[u->n].kind = kind;
		scopy(u->s[u->n].path, sizeof(u->s[u->n].path), path);
		u->n++;
	}
}

static void lundo_run(struct lundo *u)
{
	while (u->n) {
		u->n--;
		switch (u->s[u->n].kind) {
		case 'd':
			rmdir(u->s[u->n].path);
			break;
		case 'l':
			unlink(u->s[u->n].path);
			break;
		case 'e':
			wfile(u->s[u->n].path, "0");
			break;
		}
	}
}

static int mkdir_u(struct lundo *u, const char *path)
{
	if (mkdir(path, 0755)) {
		if (errno == EEXIST)
			return 0;
		return -errno;
	}
	lundo_push(u, 'd', path);
	return 0;
}

/* ---- export ---- */

static int parse_fabric(const char *s, enum fabric *f)
{
	char n[32];

	if (!s) {
		*f = FAB_LOOP;
		return 0;
	}
	norm_name(n, sizeof(n), s);
	if (!strcmp(n, "loop") || !strcmp(n, "loopback") || !strcmp(n, "tcmloop"))
		*f = FAB_LOOP;
	else if (!strcmp(n, "iscsi"))
		*f = FAB_ISCSI;
	else
		return rfail(RV_INVALID_PARAM, "Fabric: '%s' is not loop or iscsi", s);
	return 0;
}

static int portal_valid(const char *p)
{
	const char *c = strrchr(p, ':');
	size_t i;

	if (!c || c == p || !c[1] || strlen(p) > 64)
		return 0;
	for (i = 1; c[i]; i++)
		if (c[i] < '0' || c[i] > '9')
			return 0;
	for (i = 0; p + i < c; i++)
		if (!strchr("0123456789abcdefABCDEF.:[]", p[i]))
			return 0;
	return 1;
}

/* Lowest free iblock_N. */
static int new_hba(struct lundo *u, char *out, size_t size)
{
	unsigned int i;

	for (i = 0; i < 4096; i++) {
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%s/core/iblock_%u", root(), i);
		if (is_dir(p))
			continue;
		if (mkdir(p, 0755)) {
			if (errno == EEXIST)
				continue;
			return rfail(RV_FAILED, "LIO: mkdir %s: %s", p, strerror(errno));
		}
		lundo_push(u, 'd', p);
		snprintf(out, size, "iblock_%u", i);
		return 0;
	}
	return rfail(RV_FAILED, "LIO: no free iblock HBA index");
}

static int make_backstore(struct lundo *u, const char *dev, const char *name, bool ro,
			  const char *serial, uint32_t maj, uint32_t min, struct backstore *b)
{
	char p[PATH_MAX + 64], v[600];
	int e;

	memset(b, 0, sizeof(*b));
	if (new_hba(u, b->hba, sizeof(b->hba)))
		return RV_FAILED;
	scopy(b->name, sizeof(b->name), name);
	snprintf(b->dir, sizeof(b->dir), "%s/core/%s/%s", root(), b->hba, name);
	if ((e = mkdir_u(u, b->dir)))
		return rfail(RV_FAILED, "LIO: mkdir %s: %s", b->dir, strerror(-e));
	snprintf(p, sizeof(p), "%s/control", b->dir);
	snprintf(v, sizeof(v), "udev_path=%s", dev);
	if ((e = wfile(p, v)) || (ro && (e = wfile(p, "readonly=1"))))
		return rfail(RV_FAILED, "LIO: %s: %s", p, strerror(-e));
	/* the device attribute targetcli shows (rtslib writes it too) */
	snprintf(p, sizeof(p), "%s/udev_path", b->dir);
	if ((e = wfile(p, dev)))
		vlog("lio: %s: %s", p, strerror(-e));
	snprintf(p, sizeof(p), "%s/wwn/vpd_unit_serial", b->dir);
	if (serial[0] && (e = wfile(p, serial)))
		vlog("lio: %s: %s", p, strerror(-e));
	snprintf(p, sizeof(p), "%s/enable", b->dir);
	if ((e = wfile(p, "1")))
		return rfail(e == -EBUSY ? RV_IN_USE : RV_FAILED,
			    "LIO: cannot open %s for the backstore: %s%s", dev, strerror(-e),
			    e == -EBUSY ? " (claimed by another user or a dm table)" : "");
	/* the configfs device's removal drops the claim: no undo entry needed */
	b->ours = true;
	b->enabled = true;
	b->ro = ro;
	b->major = maj;
	b->minor = min;
	/* UNMAP and WRITE SAME(unmap) when the device takes discards; only on
	 * an enabled device (6.1 oopses on an unconfigured one) */
	snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/queue/discard_max_bytes", maj, min);
	if (!ro && !rfile(p, v, sizeof(v)) && strtoull(v, NULL, 10) > 0) {
		snprintf(p, sizeof(p), "%s/attrib/emulate_tpu", b->dir);
		if ((e = wfile(p, "1")))
			vlog("lio: %s: %s", p, strerror(-e));
		snprintf(p, sizeof(p), "%s/attrib/emulate_tpws", b->dir);
		if ((e = wfile(p, "1")))
			vlog("lio: %s: %s", p, strerror(-e));
	}
	return 0;
}

/* Next free lun_N of a TPG. */
static unsigned int free_lun(const char *tpg)
{
	unsigned int i;

	for (i = 0; i < 256; i++) {
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%.4000s/lun/lun_%u", tpg, i);
		if (!is_dir(p))
			return i;
	}
	return 256;
}

/* The disk tcm_loop made for H:0:T:L, waited for (sd probes asynchronously). */
static void loop_disk(const char *tpg, unsigned int lun, struct json_object *o)
{
	char p[PATH_MAX], addr[64], bdir[PATH_MAX];
	int64_t end = mono_ms() + 20000;

	snprintf(p, sizeof(p), "%.4000s/address", tpg);
	if (rfile(p, addr, sizeof(addr)) || !addr[0])
		return;
	snprintf(bdir, sizeof(bdir), "/sys/bus/scsi/devices/%s:%u/block", addr, lun);
	{
		char a[80];

		snprintf(a, sizeof(a), "%s:%u", addr, lun);
		jset_str(o, "ScsiAddress", a);
	}
	do {
		DIR *d = opendir(bdir);
		struct dirent *e;

		if (d) {
			while ((e = readdir(d))) {
				if (e->d_name[0] == '.')
					continue;
				snprintf(p, sizeof(p), "/dev/%.200s", e->d_name);
				jset_str(o, "DeviceID", p);
				closedir(d);
				return;
			}
			closedir(d);
		}
		{
			struct timespec ts = { 0, 100 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	} while (mono_ms() < end);
	err_note("the SCSI disk of %s:%u did not appear", addr, lun);
}

static int link_loop(struct lundo *u, const struct backstore *b, struct json_object *o)
{
	char wwn[256], nexus[256], tpg[PATH_MAX], p[PATH_MAX], cur[256];
	unsigned int lun;
	int e;

	target_name(FAB_LOOP, b->name, wwn, sizeof(wwn));
	snprintf(p, sizeof(p), "%s/loopback", root());
	if (!is_dir(p))
		fabric_module("tcm_loop");
	if (!is_dir(p) && mkdir(p, 0755) && errno != EEXIST)
		return rfail(RV_NOT_SUPPORTED, "LIO: the loopback fabric (tcm_loop) is not available: %s",
			    strerror(errno));
	snprintf(tpg, sizeof(tpg), "%s/loopback/%s", root(), wwn);
	if ((e = mkdir_u(u, tpg)))
		return rfail(RV_FAILED, "LIO: mkdir %s: %s", tpg, strerror(-e));
	snprintf(tpg, sizeof(tpg), "%s/loopback/%s/tpgt_1", root(), wwn);
	if ((e = mkdir_u(u, tpg)))
		return rfail(RV_FAILED, "LIO: mkdir %s: %s", tpg, strerror(-e));
	lun = free_lun(tpg);
	snprintf(p, sizeof(p), "%.4000s/lun/lun_%u", tpg, lun);
	if ((e = mkdir_u(u, p)))
		return rfail(RV_FAILED, "LIO: mkdir %s: %s", p, strerror(-e));
	snprintf(p, sizeof(p), "%.4000s/nexus", tpg);
	if (rfile(p, cur, sizeof(cur)) || !cur[0]) {
		snprintf(nexus, sizeof(nexus), NAA_PREFIX "%09llx",
			 (unsigned long long)((fnv1a(wwn) ^ 1) & 0xfffffffffull));
		if ((e = wfile(p, nexus)))
			return rfail(RV_FAILED, "LIO: %s: %s", p, strerror(-e));
	}
	snprintf(p, sizeof(p), "%.4000s/lun/lun_%u/replica", tpg, lun);
	if (symlink(b->dir, p))
		return rfail(RV_FAILED, "LIO: link %s: %s", p, strerror(errno));
	lundo_push(u, 'l', p);
	jset_str(o, "Fabric", "loop");
	jset_str(o, "TargetName", wwn);
	jset_int(o, "LUN", lun);
	loop_disk(tpg, lun, o);
	return 0;
}

static int link_iscsi(struct lundo *u, const struct backstore *b, const char *portal,
		      struct json_object *o)
{
	char iqn[256], tpg[PATH_MAX], p[PATH_MAX + 64];
	unsigned int lun;
	int e;
	static const struct {
		const char *attr, *val;
	} attrs[] = {
		{ "authentication", "0" },
		{ "generate_node_acls", "1" },
		{ "cache_dynamic_acls", "1" },
	};
	unsigned int i;

	target_name(FAB_ISCSI, b->name, iqn, sizeof(iqn));
	snprintf(p, sizeof(p), "%s/iscsi", root());
	if (!is_dir(p)) {
		fabric_module("iscsi_target_mod");
		/* the login digests need crc32c, which iscsi_target_mod only
		 * requests through the crypto API (module autoloading) */
		fabric_module("crc32c");
	}
	if (!is_dir(p) && mkdir(p, 0755) && errno != EEXIST)
		return rfail(RV_NOT_SUPPORTED,
			    "LIO: the iSCSI fabric (iscsi_target_mod) is not available: %s",
			    strerror(errno));
	snprintf(tpg, sizeof(tpg), "%s/iscsi/%s", root(), iqn);
	if ((e = mkdir_u(u, tpg)))
		return rfail(RV_FAILED, "LIO: mkdir %s: %s", tpg, strerror(-e));
	snprintf(tpg, sizeof(tpg), "%s/iscsi/%s/tpgt_1", root(), iqn);
	if ((e = mkdir_u(u, tpg)))
		return rfail(RV_FAILED, "LIO: mkdir %s: %s", tpg, strerror(-e));
	lun = free_lun(tpg);
	snprintf(p, sizeof(p), "%.4000s/lun/lun_%u", tpg, lun);
	if ((e = mkdir_u(u, p)))
		return rfail(RV_FAILED, "LIO: mkdir %s: %s", p, strerror(-e));
	snprintf(p, sizeof(p), "%.4000s/lun/lun_%u/replica", tpg, lun);
	if (symlink(b->dir, p))
		return rfail(RV_FAILED, "LIO: link %s: %s", p, strerror(errno));
	lundo_push(u, 'l', p);
	snprintf(p, sizeof(p), "%.4000s/np/%s", tpg, portal);
	if ((e = mkdir_u(u, p)))
		return rfail(e == -EADDRINUSE ? RV_IN_USE : RV_FAILED,
			    "LIO: portal %s: %s", portal, strerror(-e));
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		snprintf(p, sizeof(p), "%.4000s/attrib/%s", tpg, attrs[i].attr);
		if ((e = wfile(p, attrs[i].val)))
			return rfail(RV_FAILED, "LIO: %s: %s", p, strerror(-e));
	}
	snprintf(p, sizeof(p), "%.4000s/attrib/demo_mode_write_protect", tpg);
	if ((e = wfile(p, b->ro ? "1" : "0")))
		return rfail(RV_FAILED, "LIO: %s: %s", p, strerror(-e));
	snprintf(p, sizeof(p), "%.4000s/enable", tpg);
	if ((e = wfile(p, "1")))
		return rfail(RV_FAILED, "LIO: %s: %s", p, strerror(-e));
	lundo_push(u, 'e', p);
	jset_str(o, "Fabric", "iscsi");
	jset_str(o, "TargetName", iqn);
	jset_int(o, "LUN", lun);
	jset_str(o, "Portal", portal);
	snprintf(p, sizeof(p), "iscsi://%s/%s/%u", portal, iqn, lun);
	jset_str(o, "URL", p);
	return 0;
}

/* The relationship and its device (front or view) for export/unexport. */
static int find_dev(struct rel_set *set, const char *sync, bool view, struct rel **rp,
		    const char **name, struct dmw_info *info)
{
	struct rel *r;

	if (!sync || !*sync)
		return rfail(RV_INVALID_PARAM, "Synchronization: required");
	r = rel_find(set, sync);
	if (!r)
		return rfail(RV_INVALID_PARAM, "Synchronization: no relationship '%s'", sync);
	if (!r->live)
		return rfail(RV_INVALID_PARAM,
			    "Synchronization: %s is not assembled (run replicactl assemble)", sync);
	if (view && !r->view[0])
		return rfail(RV_INVALID_PARAM, "View: a %s has no view",
			    cim_name_or(&cim_sync_type, r->sync_type));
	*name = view ? r->view : r->front;
	if (dmw_info_name(*name, info) || !info->exists)
		return rfail(RV_FAILED, "Synchronization: device %s is missing", *name);
	*rp = r;
	return 0;
}

int lio_export(const struct lio_req *q, struct json_object *out)
{
	struct json_object *o = json_object_new_object();
	struct rel_set set = { 0 };
	struct lundo u = { 0 };
	struct backstore b;
	struct bs_find f;
	struct dmw_info info;
	struct rel *r = NULL;
	const char *name = NULL, *portal = q->portal ? q->portal : DEFAULT_PORTAL;
	char dev[300], bsname[200], serial[80], tp[256];
	enum fabric fab;
	bool ro = q->read_only;
	int rc, lockfd = -1;
	unsigned int i;

	if (!q->sync || !*q->sync) {
		rc = rfail(RV_INVALID_PARAM, "Synchronization: required");
		goto out_free;
	}
	if ((rc = parse_fabric(q->fabric, &fab)))
		goto out_free;
	if (q->portal && fab != FAB_ISCSI) {
		rc = rfail(RV_INVALID_PARAM, "Portal: only for --fabric iscsi");
		goto out_free;
	}
	if (!portal_valid(portal)) {
		rc = rfail(RV_INVALID_PARAM, "Portal: '%s' is not IP:PORT", portal);
		goto out_free;
	}
	if (rel_discover(&set)) {
		rc = rfail(RV_FAILED, "cannot list relationships");
		goto out_free;
	}
	if ((rc = find_dev(&set, q->sync, q->view, &r, &name, &info)))
		goto out;
	if ((rc = lio_ready()))
		goto out;
	lockfd = state_lock(10);
	if (lockfd < 0) {
		rc = lockfd == -2 ? RV_IN_USE : RV_FAILED;
		lockfd = -1;
		goto out;
	}
	if (info.read_only)
		ro = true;	/* a read-only dm device (a "ro" view) */
	/*
	 * tcm_loop LUNs are demo-mode LUNs, and LIO (6.1 at least) gives
	 * them write access even over a readonly=1 backstore: MODE SENSE
	 * says write-protected, but WRITEs are carried out.  So a read-only
	 * loop export needs a device that refuses writes itself.  iSCSI
	 * LUNs are protected by demo_mode_write_protect.
	 */
	if (ro && fab == FAB_LOOP && !info.read_only) {
		rc = rfail(RV_NOT_SUPPORTED,
			   "ReadOnly: LIO does not enforce read-only tcm_loop LUNs on a writable device; "
			   "export a view made read-only (ReplicationSettingData ReadOnly=SyncedElement) "
			   "or use --fabric iscsi");
		goto out;
	}
	snprintf(dev, sizeof(dev), "/dev/mapper/%s", name);
	snprintf(bsname, sizeof(bsname), BS_PREFIX "%.180s", name);
	bs_find_dev(&f, info.major, info.minor);
	for (i = 0; i < f.n; i++)
		if (!f.found[i].ours) {
			rc = rfail(RV_IN_USE, "%s is held by the LIO backstore %s/%s (not made by replicactl)",
				   dev, f.found[i].hba, f.found[i].name);
			goto out;
		}
	if (f.n) {
		struct lunref v[MAX_LUNS];
		unsigned int n;

		b = f.found[0];
		if (b.ro != ro) {
			rc = rfail(RV_IN_USE, "%s is exported %s already (backstore %s/%s): unexport it first",
				   dev, b.ro ? "read-only" : "read-write", b.hba, b.name);
			goto out;
		}
		n = luns_of(b.dir, v, MAX_LUNS);
		target_name(fab, b.name, tp, sizeof(tp));
		for (i = 0; i < n; i++)
			if (v[i].fabric == fab && !strcmp(v[i].wwn, tp)) {
				rc = rfail(RV_IN_USE, "%s is exported already: %s/%s LUN %u",
					   dev, v[i].fabric_name, v[i].wwn, v[i].lun_nr);
				goto out;
			}
	} else {
		snprintf(serial, sizeof(serial), "%.36s%s", r->kernel_uuid[0] ? r->kernel_uuid : r->id,
			 q->view ? "-view" : "");
		rc = make_backstore(&u, dev, bsname, ro, serial, info.major, info.minor, &b);
		if (rc)
			goto out;
	}
	rc = fab == FAB_LOOP ? link_loop(&u, &b, o) : link_iscsi(&u, &b, portal, o);
	if (rc)
		goto out;
	jset_str(o, "Device", dev);
	{
		char s[300];

		snprintf(s, sizeof(s), "%s/%s", b.hba, b.name);
		jset_str(o, "Backstore", s);
	}
	jset_bool(o, "ReadOnly", ro);
	jset_str(o, "ElementName", r->element_name);
	json_object_object_add(out, "Synchronization", ref_sync(r->id));
	json_object_object_add(out, "Export", o);
	o = NULL;
	u.n = 0;
	rc = RV_OK;
out:
	if (rc)
		lundo_run(&u);
	state_unlock(lockfd);
	rel_set_free(&set);
out_free:
	json_object_put(o);
	return rc;
}

/* ---- unexport ---- */

/* Check (doit=false) or remove (doit=true) the exports of one device. */
static int unexport_dev(const char *name, bool doit, struct json_object *removed)
{
	struct dmw_info info;
	struct bs_find f;
	unsigned int i;
	int rc;

	if (!name[0] || dmw_info_name(name, &info) || !info.exists)
		return 0;
	bs_find_dev(&f, info.major, info.minor);
	for (i = 0; i < f.n; i++) {
		if (!f.found[i].ours)
			return rfail(RV_IN_USE,
				    "/dev/mapper/%s is held by the LIO backstore %s/%s (not made by replicactl)",
				    name, f.found[i].hba, f.found[i].name);
		if (doit && (rc = remove_backstore(&f.found[i], removed)))
			return rc;
	}
	return 0;
}

static int unexport_rel(const struct rel *r, int which, struct json_object *removed)
{
	int rc;

	if (!is_dir(root()))
		return 0;
	if ((which != 2 && (rc = unexport_dev(r->front, false, NULL))) ||
	    (which != 1 && (rc = unexport_dev(r->view, false, NULL))))
		return rc;
	if ((which != 2 && (rc = unexport_dev(r->front, true, removed))) ||
	    (which != 1 && (rc = unexport_dev(r->view, true, removed))))
		return rc;
	return 0;
}

int lio_unexport_rel(const struct rel *r)
{
	return unexport_rel(r, 0, NULL);
}

int lio_unexport(const char *sync, int which, struct json_object *out)
{
	struct json_object *removed = json_object_new_array();
	struct rel_set set = { 0 };
	struct rel *r;
	int rc, lockfd;

	if (!sync || !*sync) {
		json_object_put(removed);
		return rfail(RV_INVALID_PARAM, "Synchronization: required");
	}
	if (rel_discover(&set)) {
		json_object_put(removed);
		return rfail(RV_FAILED, "cannot list relationships");
	}
	r = rel_find(&set, sync);
	if (!r) {
		rc = rfail(RV_INVALID_PARAM, "Synchronization: no relationship '%s'", sync);
		goto out;
	}
	if (which == 2 && !r->view[0]) {
		rc = rfail(RV_INVALID_PARAM, "View: a %s has no view",
			   cim_name_or(&cim_sync_type, r->sync_type));
		goto out;
	}
	lockfd = state_lock(10);
	if (lockfd < 0) {
		rc = lockfd == -2 ? RV_IN_USE : RV_FAILED;
		goto out;
	}
	rc = unexport_rel(r, which, removed);
	state_unlock(lockfd);
	if (!rc) {
		json_object_object_add(out, "Synchronization", ref_sync(r->id));
		json_object_object_add(out, "Removed", json_object_get(removed));
	}
out:
	json_object_put(removed);
	rel_set_free(&set);
	return rc;
}
