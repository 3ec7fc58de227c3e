/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nfd: the reservation as node labels, in the local feature file format of
 * Kubernetes Node Feature Discovery (NFD's customization guide, "Local
 * feature source"): `namespace/name=value` a line, `#` comments, read from
 * /etc/kubernetes/node-feature-discovery/features.d/ by nfd-worker, which
 * ignores a file over 64 kB (source/local: MaxFeatureFileSize = 65536) and
 * dot files, and wants a file replaced whole by a rename.
 *
 * The namespace is a sub-namespace of NFD's own: nfd-master always allows
 * feature.node.kubernetes.io and its sub-namespaces and cannot be told to
 * deny them (master commandline reference, -deny-label-ns), while it can
 * deny any other, and ours keeps our names apart from NFD's built-in
 * labels. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>   /* rename() only: a system call, no stdio */
#include <string.h>
#include <unistd.h>

#include "kubernetes.h"

#define NAMESPACE   "vfio-reserve.feature.node.kubernetes.io"
#define FILE_NAME   "vfio-reserve"
#define NFD_MAX     65536

static char text[NFD_MAX + 1];
static size_t len;
static struct taken_id ids[MAX_FUNCS];

/* One line, or false where it would take the file past `limit`. */
static bool add(size_t limit, const char *name, const char *value)
{
	char line[sizeof(NAMESPACE) + 2 * LABEL_MAX + 8];
	int n = fmt(line, sizeof(line), NAMESPACE "/%s=%s\n", name, value);

	if (len + (size_t)n > limit)
		return false;
	memcpy(text + len, line, (size_t)n);
	len += (size_t)n;
	return true;
}

static void add_int(const char *name, int value)
{
	char number[16];

	fmt(number, sizeof(number), "%d", value);
	add(NFD_MAX, name, number);
}

/* The labels, totals first: what does not fit in NFD's limit is the tail
 * of the per-ID labels, and a last label says how many IDs it lacks. */
static int build(struct view *v)
{
	static const char *const kill_switch[] = { "unknown", "false", "true" };
	/* Room for that last label, and the per-ID lines stop short of it. */
	const size_t tail = sizeof(NAMESPACE "/pci-ids-left-out=32768\n") - 1;
	char name[32], value[LABEL_MAX + 1], pci_name[192];
	struct boot_facts boot;
	int nids = taken_ids(v->host, v->conf, ids), reserved = 0, selected = 0, k;

	for (k = 0; k < nids; k++)
		reserved += ids[k].reserved, selected += ids[k].selected;
	len = (size_t)fmt(text, sizeof(text), "# vfio-reserve(8) nfd: what %s reserves "
	                  "on this node; replaced whole, do not edit\n", v->conf->file);
	if (len >= 200)
		len = (size_t)fmt(text, sizeof(text), "# vfio-reserve(8) nfd\n");
	add_int("reserved", reserved);
	add_int("not-reserved", selected - reserved);
	add(NFD_MAX, "kill-switch", kill_switch[report_facts(&boot) ? boot.kill_switch + 1 : 0]);
	load_names(v->host, true);
	for (k = 0; k < nids; k++) {
		size_t before = len;

		fmt(name, sizeof(name), "pci-%04x-%04x.reserved", ids[k].vendor, ids[k].device);
		fmt(value, sizeof(value), "%d", ids[k].reserved);
		if (!add(NFD_MAX - tail, name, value))
			break;
		function_name(pci_name, sizeof(pci_name), &v->host->funcs[ids[k].first]);
		label_safe(value, sizeof(value), pci_name);
		fmt(name, sizeof(name), "pci-%04x-%04x.name", ids[k].vendor, ids[k].device);
		if (value[0] && !add(NFD_MAX - tail, name, value)) {
			len = before;
			break;
		}
	}
	if (k < nids) {
		add_int("pci-ids-left-out", nids - k);
		logmsg(LOG_WARN, "nfd: %d of %d vendor:device IDs left out: NFD ignores a "
		       "feature file over %d bytes", nids - k, nids, NFD_MAX);
	}
	return EXIT_OK;
}

/* DIR/vfio-reserve replaced whole: a dot file beside it (nfd-worker skips
 * dot files), synced, renamed over it, and the directory synced, so that
 * nfd-worker reads the old labels or the new ones, never a part. */
static int write_file(const char *dir)
{
	char path[MAX_PATHLEN], tmp[MAX_PATHLEN];
	int dfd, fd = -1, saved = 0;
	bool ok;

	if (fmt(path, sizeof(path), "%s/" FILE_NAME, dir) >= (int)sizeof(path) ||
	    fmt(tmp, sizeof(tmp), "%s/." FILE_NAME ".%d", dir, (int)getpid()) >= (int)sizeof(tmp)) {
		logmsg(LOG_ERR, "nfd: %s: %s", dir, strerror(ENAMETOOLONG));
		return EXIT_FAIL;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		logmsg(LOG_ERR, "nfd: %s: %s", dir, strerror(errno));
		return EXIT_FAIL;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	errno = 0;
	ok = fd >= 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
	saved = errno ? errno : EIO;  /* a short write sets none */
	if (fd >= 0 && close(fd) != 0 && ok)
		ok = false, saved = errno;
	if (ok && rename(tmp, path) != 0)
		ok = false, saved = errno;
	if (!ok && fd >= 0)
		unlink(tmp);
	if (ok)
		fsync(dfd);
	close(dfd);
	if (!ok) {
		logmsg(LOG_ERR, "nfd: cannot write %s: %s", path, strerror(saved));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cmd_nfd(struct view *v, const char *dir)
{
	build(v);
	if (!dir) {
		text[len] = '\0';
		out_str(text);
		return EXIT_OK;
	}
	return write_file(dir);
}
