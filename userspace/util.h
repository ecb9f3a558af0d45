/* SPDX-License-Identifier: GPL-2.0-only */
/* replicactl: small shared helpers (error reporting, strings, ids). */
#ifndef REPLICACTL_UTIL_H
#define REPLICACTL_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* CIM method return values (CreateElementReplica and friends). */
enum cim_rv {
	RV_OK = 0,
	RV_NOT_SUPPORTED = 1,
	RV_UNKNOWN = 2,
	RV_TIMEOUT = 3,
	RV_FAILED = 4,
	RV_INVALID_PARAM = 5,
	RV_IN_USE = 6,
	RV_JOB_STARTED = 4096,
};

/*
 * Record an error message for the current request and return `rv`, so a
 * failing check reads `return rfail(RV_INVALID_PARAM, "SyncType: ...")`.
 * The first message recorded wins until err_clear().
 */
int rfail(int rv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *err_msg(void);
void err_clear(void);
/* Append detail to the current message (used by the dm log hook). */
void err_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int g_verbose;
void vlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Bounded string copy that always terminates; returns -1 if truncated. */
int scopy(char *dst, size_t size, const char *src);
/* snprintf that reports truncation with -1. */
int sfmt(char *dst, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Lower-case, drop ' ', '-', '_' : "Resync Replica" -> "resyncreplica". */
void norm_name(char *dst, size_t size, const char *src);

/* Strict unsigned parse of a whole string (decimal, or 0x hex). */
int parse_u64(const char *s, uint64_t *out);
/* Size with optional K/M/G/T suffix (powers of 1024) or "s" (sectors): bytes. */
int parse_size_bytes(const char *s, uint64_t *out);

/* A fresh random UUID string (36 chars + NUL). */
int make_uuid(char out[37]);
/* Seconds since the epoch, and the monotonic clock in ms. */
int64_t now_s(void);
int64_t mono_ms(void);
/* ISO 8601 UTC from epoch seconds. */
void iso_time(int64_t t, char *buf, size_t size);

/* Is `s` a safe dm name / file name component ([A-Za-z0-9._+-], 1..max)? */
int name_valid(const char *s, size_t max);

#endif
