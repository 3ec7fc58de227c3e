/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for parse_rule() on the path `vfio-reserve bind` uses:
 * tokens straight from argv, with no line-length bound and any byte but NUL.
 * The input is split at NUL bytes into at most 64 tokens. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../binder/vfio-reserve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rule rule;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *tokens[64], *p, *end;
	int ntokens = 0;

	/* An exact-size heap copy, so ASan sees any read past the last token. */
	copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (p = copy, end = copy + size; p <= end && ntokens < 64; p += strlen(p) + 1)
		tokens[ntokens++] = p;
	if (parse_rule(&rule, tokens, ntokens, NULL, 0) == 0) {
		if (rule.selectors == 0 || rule.path_len < 0 || rule.path_len > MAX_DEPTH ||
		    !memchr(rule.driver, '\0', sizeof(rule.driver)) ||
		    !memchr(rule.text, '\0', sizeof(rule.text)))
			abort();
	}
	free(copy);
	return 0;
}
