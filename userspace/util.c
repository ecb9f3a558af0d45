// SPDX-License-Identifier: GPL-2.0-only
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int g_verbose;
static char g_err[1024];

int rfail(int rv, const char *fmt, ...)
{
	va_list ap;

	if (!g_err[0]) {
		va_start(ap, fmt);
		vsnprintf(g_err, sizeof(g_err), fmt, ap);
		va_end(ap);
	}
	return rv;
}

void err_note(const char *fmt, ...)
{
	size_t len = strlen(g_err);
	va_list ap;

	if (len + 4 >= sizeof(g_err))
		return;
	if (len) {
		g_err[len++] = ';';
		g_err[len++] = ' ';
		g_err[len] = 0;
	}
	va_start(ap, fmt);
	vsnprintf(g_err + len, sizeof(g_err) - len, fmt, ap);
	va_end(ap);
}

const char *err_msg(void)
{
	return g_err;
}

void err_clear(void)
{
	g_err[0] = 0;
}

void vlog(const char *fmt, ...)
{
	va_list ap;

	if (!g_verbose)
		return;
	va_start(ap, fmt);
	fputs("replicactl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int scopy(char *dst, size_t size, const char *src)
{
	size_t n;

	if (!size)
		return -1;
	if (!src)
		src = "";
	n = strlen(src);
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = 0;
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

int sfmt(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

void norm_name(char *dst, size_t size, const char *src)
{
	size_t j = 0;

	if (!size)
		return;
	for (; src && *src && j + 1 < size; src++) {
		if (*src == ' ' || *src == '-' || *src == '_')
			continue;
		dst[j++] = (char)tolower((unsigned char)*src);
	}
	dst[j] = 0;
}

int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int parse_size_bytes(const char *s, uint64_t *out)
{
	char num[32];
	size_t n;
	uint64_t v, mul = 1;
	char suf;

	if (!s || !*s)
		return -1;
	n = strlen(s);
	if (n >= sizeof(num))
		return -1;
	memcpy(num, s, n + 1);
	suf = (char)tolower((unsigned char)num[n - 1]);
	if (n > 1 && (suf == 'b'))
		num[--n] = 0, suf = (char)tolower((unsigned char)num[n - 1]);
	switch (suf) {
	case 's': mul = 512; break;
	case 'k': mul = 1ull << 10; break;
	case 'm': mul = 1ull << 20; break;
	case 'g': mul = 1ull << 30; break;
	case 't': mul = 1ull << 40; break;
	default: mul = 1; break;
	}
	if (mul != 1 || suf == 'b') {
		if (n < 2)
			return -1;
		num[n - 1] = 0;
	}
	if (parse_u64(num, &v))
		return -1;
	if (v && mul > UINT64_MAX / v)
		return -1;
	*out = v * mul;
	return 0;
}

int make_uuid(char out[37])
{
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t r = getrandom(b + got, sizeof(b) - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void iso_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm)) {
		scopy(buf, size, "");
		return;
	}
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int name_valid(const char *s, size_t max)
{
	size_t n;

	if (!s || !*s)
		return 0;
	n = strlen(s);
	if (n > max || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._+-", *s))
			return 0;
	return 1;
}
