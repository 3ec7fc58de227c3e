/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's reports: a second front end over the binder's config parser,
 * sysfs model and selection engine (binder/), for what is never needed at
 * boot and so stays out of the binder's 64 KiB.  The binder runs it,
 * LIBDIR/reports, for each of these commands (binder/main.c). */
#ifndef VFIO_RESERVE_REPORTS_H
#define VFIO_RESERVE_REPORTS_H

#include "vfio-reserve.h"

/* What every report reads: the config (conf->file names it), the host as
 * scanned with its uses (guard.c), and what the rules select of it. */
struct view {
	struct host *host;
	struct config *conf;
	struct selection *sel;
	const char *value;          /* the command's "--name=" flag's, or NULL */
};

int cmd_list(struct host *host, const struct config *conf, bool all, bool json);
void attached_scan(struct host *host);
void attached_text(const struct host *host, int i);
void attached_json(const struct host *host, int i);
int cmd_xml(struct host *host, const char *addr);
int cmd_nfd(struct view *v, const char *dir);            /* kubernetes/ */
int cmd_kubevirt(struct view *v, bool json);
int cmd_proxmox(struct host *host, const struct config *conf, bool json);
int pve_check_mappings(struct host *host);
int cmd_metrics(struct view *v, const char *dir);      /* prometheus/ */

#endif
