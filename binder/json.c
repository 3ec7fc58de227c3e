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

static void string(const char *s)
{
	out_char('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			out("\\%c", c);
		else if (c < 0x20)
			out("\\u%04x", c);
		else
			out_char(c);
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
