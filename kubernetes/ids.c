/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The vendor:device IDs the rules take, and label-safe text: what both
 * Kubernetes outputs are made of. */
#include <string.h>

#include "kubernetes.h"

/* ids has room for MAX_FUNCS: a host has no more IDs than functions. */
int taken_ids(const struct host *host, const struct config *conf,
              struct taken_id *ids)
{
	int n = 0, i, k;

	for (i = 0; i < host->nfuncs; i++) {
		const struct pci_func *f = &host->funcs[i];

		if (f->rule < 0)
			continue;
		for (k = 0; k < n; k++)
			if (ids[k].vendor == f->vendor && ids[k].device == f->device)
				break;
		if (k == n) {
			memset(&ids[n], 0, sizeof(ids[n]));
			ids[n].vendor = f->vendor;
			ids[n].device = f->device;
			ids[n++].first = i;
		}
		ids[k].selected++;
		ids[k].reserved += function_reserved(host, conf, f);
		ids[k].for_vfio += strcmp(conf->rules[f->rule].driver, "vfio-pci") == 0;
	}
	return n;
}

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* text as a label value: [A-Za-z0-9] at both ends, [-_.A-Za-z0-9] between
 * (the pattern (([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?), at most
 * LABEL_MAX.  Each run of other bytes (spaces, brackets, slashes, UTF-8)
 * becomes one '-', so "GA102 [GeForce RTX 3090]" reads
 * "GA102-GeForce-RTX-3090"; "" where nothing is left. */
void label_safe(char *buf, size_t size, const char *text)
{
	size_t max = size - 1 < LABEL_MAX ? size - 1 : LABEL_MAX, n = 0;
	bool gap = false;

	for (; *text && n < max; text++) {
		char c = *text;

		if (!alnum(c) && c != '-' && c != '_' && c != '.') {
			gap = n > 0;
			continue;
		}
		if (n == 0 && !alnum(c))
			continue;
		if (gap)
			buf[n++] = '-';
		gap = false;
		if (n < max)
			buf[n++] = c;
	}
	while (n > 0 && !alnum(buf[n - 1]))
		n--;
	buf[n] = '\0';
}
