/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A streaming JSON writer for --json: just enough for flat objects and
 * arrays, with string escaping done right. */
#include "vfio-reserve.h"

#define MAX_NESTING 8

static int depth;
static bool need_comma[MAX_NESTING];

static void separator(void)
{
	if (depth > 0 && need_comma[depth - 1])
		out_char(',');
	if (depth > 0)
		need_comma[depth - 1] = true;
}

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * form, no surrogate, nothing above U+10FFFF), 0 if there is none. */
static int utf8_len(const unsigned char *s)
{
	unsigned lo = 0x80, hi = 0xbf;
	int n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	for (i = 1; i < n; i++, lo = 0x80, hi = 0xbf)
		if (s[i] < lo || s[i] > hi)
			return 0;
	return n;
}

/* Names come from sysfs and pci.ids, in no promised encoding: a byte that
 * is not part of valid UTF-8 becomes U+FFFD, so the output is always JSON. */
static void string(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	out_char('"');
	while (*s) {
		int n = utf8_len(s);

		if (n == 0)
			out_str("\\ufffd");
		else if (*s == '"' || *s == '\\')
			out("\\%c", *s);
		else if (*s < 0x20)
			out("\\u%04x", *s);
		else {
			out_char((char)*s);
			while (--n > 0)
				out_char((char)*++s);
		}
		s++;
	}
	out_char('"');
}

void json_key(const char *key)
{
	separator();
	if (key) {
		string(key);
		out_char(':');
	}
}

void json_begin(char open)
{
	out_char(open);
	if (depth < MAX_NESTING)
		need_comma[depth] = false;
	depth++;
}

void json_end(char close)
{
	out_char(close);
	depth--;
	if (depth == 0)
		out_char('\n');
}

void json_str(const char *key, const char *value)
{
	json_key(key);
	string(value);
}

void json_int(const char *key, long value)
{
	json_key(key);
	out("%ld", value);
}

void json_bool(const char *key, bool value)
{
	json_key(key);
	out_str(value ? "true" : "false");
}

void json_null(const char *key)
{
	json_key(key);
	out_str("null");
}
