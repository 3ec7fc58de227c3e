/* SPDX-License-Identifier: GPL-2.0-or-later */
/* image: the config an initramfs carries, for the image generators' hooks.
 *
 * The boot cannot ask what the host sits on (nothing is mounted then), so
 * the question is asked here, on the host the image is built on: each rule
 * that would take a function behind its root file system, swap or network
 * (guard.c) is commented out in the image's copy, with a warning naming file
 * and line, unless it says 'force'.  Every other byte is copied as it is, so
 * the boot's messages name the same lines as check does.  A build never fails
 * for it: a kernel upgrade must not stop half-way because of our config.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfio-reserve.h"

#define LEFT_OUT "#vfio-reserve image: left out, the host needs what it takes: "

static bool refused_line(const struct config *conf, const struct selection *sel,
                         int line)
{
	int i;

	for (i = 0; i < conf->nrules; i++)
		if (conf->rules[i].line == line)
			return sel->results[i].refused > 0;
	return false;
}

static bool put(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Copies the open file `in` to `out`, byte for byte but for the config's
 * refused lines (none without `sel`), and closes it. */
static int copy_file(struct line_reader *in, const struct config *conf,
                     const struct selection *sel, const char *out)
{
	char buf[4096];
	size_t len = 0;
	int fd, c, line = 1;
	bool ok = true, start = true;

	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || fchmod(fd, 0644) != 0) {
		logmsg(LOG_ERR, "cannot write %s: %s", out, strerror(errno));
		reader_close(in);
		if (fd >= 0)
			close(fd);
		return EXIT_FAIL;
	}
	while (ok && (c = reader_getc(in)) != READER_EOF) {
		if (start && sel && refused_line(conf, sel, line)) {
			ok = put(fd, buf, len) && put(fd, LEFT_OUT, sizeof(LEFT_OUT) - 1);
			len = 0;
		}
		buf[len++] = (char)c;
		start = c == '\n';
		line += start;
		if (len == sizeof(buf)) {
			ok = put(fd, buf, len);
			len = 0;
		}
	}
	ok = ok && !in->error && put(fd, buf, len);
	reader_close(in);
	if (close(fd) != 0 || !ok) {
		logmsg(LOG_ERR, "cannot write %s: %s", out, strerror(errno ? errno : EIO));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* Writes the image's config to `out` and prints the modules its rules need;
 * nothing at all for a config without an active rule. */
int cmd_image(struct host *host, struct config *conf, struct selection *sel,
              const char *out)
{
	static struct line_reader in;
	char record[MAX_PATHLEN + 16];
	int i, kept = 0;

	if (conf->missing || conf->nrules == 0)
		return EXIT_OK;
	/* Without /sys (a chroot) nothing can be asked: the rules go as they are. */
	if (host_scan(host) == 0) {
		find_host_uses(host);
		select_functions(host, conf, sel);
		refuse_host_uses(host, conf, sel, LOG_WARN, "left out of the initramfs: it reserves "
		                 "nothing at boot");
	} else {
		sel->refused = 0;
		memset(sel->results, 0, sizeof(sel->results));
	}
	for (i = 0; i < conf->nrules; i++)
		kept += !sel->results[i].refused;
	if (kept == 0)
		return EXIT_OK;
	if (reader_open(&in, conf->file) != 0) {
		logmsg(LOG_ERR, "%s: %s", conf->file, strerror(errno));
		return EXIT_FAIL;
	}
	if (copy_file(&in, conf, sel, out) != EXIT_OK)
		return EXIT_FAIL;
	/* The hardware the rules were set up for (fingerprint.c), beside it. */
	fmt(record, sizeof(record), "%s.fingerprint", out);
	unlink(record);
	if (record_open(&in, conf) == 0 && copy_file(&in, conf, NULL, record) != EXIT_OK)
		return EXIT_FAIL;
	for (i = kept = 0; i < conf->nrules; i++)
		if (!sel->results[i].refused)
			conf->rules[kept++] = conf->rules[i];
	conf->nrules = kept;
	return cmd_modules(conf);
}
