/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the config parser: each input is a whole config
 * file, handed to config_load() through a memfd exactly as the binder reads
 * /etc/vfio-reserve.conf (open, fstat ownership check, buffered reads).
 *
 *   make -f bench/bench.mk fuzz/config_fuzz && fuzz/config_fuzz fuzz/corpus
 *
 * The binder's error messages go to stderr; run with -close_fd_mask=2 to
 * silence them (sanitizer reports still get through).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../binder/vfio-reserve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config conf;
static int memfd = -1;
static char path[64];

static void check_rules(void)
{
	int i;

	if (conf.nrules < 0 || conf.nrules > MAX_RULES)
		abort();
	for (i = 0; i < conf.nrules; i++) {
		const struct rule *r = &conf.rules[i];
		/* Every accepted rule is well formed: a selector, bounded
		 * strings, a path inside its array. */
		if (r->selectors == 0 || r->path_len < 0 || r->path_len > MAX_DEPTH ||
		    !memchr(r->driver, '\0', sizeof(r->driver)) || r->driver[0] == '\0' ||
		    !memchr(r->slot, '\0', sizeof(r->slot)) ||
		    !memchr(r->text, '\0', sizeof(r->text)) || r->line < 1)
			abort();
		if ((r->selectors & SEL_PATH) && r->path_len == 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (memfd < 0) {
		memfd = memfd_create("vfio-reserve.conf", 0);
		if (memfd < 0 || fchmod(memfd, 0644) != 0) {
			perror("memfd");
			abort();
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) != 0 ||
	    (size && pwrite(memfd, data, size, 0) != (ssize_t)size))
		abort();
	config_load(&conf, path);
	check_rules();
	return 0;
}
