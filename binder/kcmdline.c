/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The running kernel's command line, /proc/cmdline, read as the kernel
 * parses it (next_arg() and parameq() in kernel/params.c): words separated
 * by blanks, double quotes around a value or a whole word that holds
 * blanks, and '-' and '_' alike in parameter names. */
#include <string.h>

#include "vfio-reserve.h"

#define MAX_PARAMS 256

static char text[4096];
static struct kernel_param params[MAX_PARAMS];
static int nparams = -1;

/* Drops a leading double quote and its closing one. */
static char *unquote(char *s)
{
	size_t len;

	if (*s != '"')
		return s;
	s++;
	len = strlen(s);
	if (len && s[len - 1] == '"')
		s[len - 1] = '\0';
	return s;
}

int kernel_params(const struct kernel_param **out)
{
	char path[MAX_PATHLEN], *p;

	*out = params;
	if (nparams >= 0)
		return nparams;
	nparams = 0;
	if (root_path(path, sizeof(path), "/proc/cmdline") != 0 ||
	    read_attr(path, text, sizeof(text)) != 0)
		return 0;
	for (p = text; *p && nparams < MAX_PARAMS;) {
		bool quoted = false;
		char *word, *eq;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		for (word = p; *p && (quoted || (*p != ' ' && *p != '\t')); p++)
			quoted ^= *p == '"';
		if (*p)
			*p++ = '\0';
		word = unquote(word);
		eq = strchr(word, '=');
		if (eq)
			*eq = '\0';
		params[nparams].name = word;
		params[nparams++].value = eq ? unquote(eq + 1) : NULL;
	}
	return nparams;
}

/* Parameter names as the kernel compares them: '-' and '_' alike. */
bool param_is(const char *name, const char *want)
{
	for (; *name && *want; name++, want++)
		if (*name != *want && !((*name == '-' || *name == '_') &&
		                        (*want == '-' || *want == '_')))
			return false;
	return *name == *want;
}

/* The value of the last `name=` on the command line, as the kernel keeps
 * the last; "" for the bare word, NULL when it is not there. */
const char *kernel_param(const char *name)
{
	const struct kernel_param *p;
	const char *value = NULL;
	int n = kernel_params(&p), i;

	for (i = 0; i < n; i++)
		if (param_is(p[i].name, name))
			value = p[i].value ? p[i].value : "";
	return value;
}
