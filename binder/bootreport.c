/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The boot report: what `apply --boot` did, kept in /run for `status`.
 *
 * Every message the boot logs is also kept here, one record a line
 * ("<LEVEL>TEXT", LEVEL as in the kernel log), after a first line that
 * names the format and, where the kill switch was on, a line "off ARG".
 * /run is a tmpfs the initramfs hands to the real root (see
 * vfio-reserve(8)), so the report stays until the next boot.  It is
 * written whole (a temporary file, then rename or link), so a reader never
 * sees half of one.  A boot never fails for it: a /run that cannot be
 * written costs one warning, in the kernel log only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>   /* rename() only: a system call, no stdio */
#include <string.h>
#include <unistd.h>

#include "vfio-reserve.h"

#define REPORT_PATH   "/run/vfio-reserve.report"
#define REPORT_HEADER "vfio-reserve boot report 1"
#define REPORT_SIZE   8192   /* a boot logs a few records a rule */

static char report[REPORT_SIZE];
static size_t report_len;
static bool recording;

static char kill_switch[64];

void report_start(void)
{
	recording = true;
}

/* The kill switch as the command line gave it: a line of its own after the
 * header, whatever was logged before it. */
void report_kill_switch(const char *arg)
{
	fmt(kill_switch, sizeof(kill_switch), "off %s\n", arg);
}

/* One record, "<LEVEL>TEXT"; one that no longer fits ends the report, so
 * what it holds is whole records.  The kernel log has them all. */
void report_vadd(int level, const char *format, va_list ap)
{
	size_t room = sizeof(report) - report_len;
	int n;

	if (!recording)
		return;
	n = fmt(report + report_len, room, "<%d>", level);
	n += fmt_v(report + report_len + n, room - (size_t)n, format, ap);
	if ((size_t)n + 1 >= room) {
		recording = false;
		return;
	}
	report_len += (size_t)n;
	report[report_len++] = '\n';
}

/* `replace`: the full `apply --boot` replaces what an earlier run of this
 * boot left; `apply --boot --unbound` (modprobe's install command, maybe
 * several at once) writes only where no report is yet, link() deciding
 * atomically which run that is. */
void report_write(bool replace)
{
	char path[MAX_PATHLEN], tmp[MAX_PATHLEN + 16], head[sizeof(kill_switch) + 32];
	size_t head_len = (size_t)fmt(head, sizeof(head), REPORT_HEADER "\n%s", kill_switch);
	int fd, saved;
	bool ok;

	recording = false;
	if (root_path(path, sizeof(path), REPORT_PATH) != 0)
		return;
	fmt(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ok = fd >= 0 && write(fd, head, head_len) == (ssize_t)head_len &&
	     write(fd, report, report_len) == (ssize_t)report_len;
	ok = fd >= 0 && close(fd) == 0 && ok &&
	     (replace ? rename(tmp, path) == 0 : link(tmp, path) == 0 || errno == EEXIST);
	saved = errno;
	unlink(tmp);
	if (!ok)
		logmsg(LOG_WARN, "cannot write the boot report %s: %s", path, strerror(saved));
}

/* The last boot's report, after the state `status` shows; the text says
 * where there is none and why. */
void report_show(bool json)
{
	static struct line_reader r;
	char path[MAX_PATHLEN], line[MAX_LINE + 32];
	bool header = false;

	if (root_path(path, sizeof(path), REPORT_PATH) != 0)
		return;
	if (reader_open(&r, path) == 0) {
		header = reader_line(&r, line, sizeof(line)) >= 0 &&
		         strncmp(line, REPORT_HEADER, sizeof(REPORT_HEADER) - 1) == 0 &&
		         !line[sizeof(REPORT_HEADER) - 1];
		if (!header)
			errno = EINVAL;
	}
	if (!header) {
		if (json)
			json_null("boot");
		else
			out("last boot: no report in %s (%s)\n", path,
			    errno == EINVAL ? "not a boot report" : strerror(errno));
		if (r.fd >= 0)
			reader_close(&r);
		return;
	}
	if (json) {
		json_key("boot");
		json_begin('{');
		json_str("report", path);
	}
	if (reader_line(&r, line, sizeof(line)) >= 0 && strncmp(line, "off ", 4) == 0) {
		if (json)
			json_str("kill_switch", line + 4);
		else
			out("last boot: the kill switch '%s' was on: it reserved nothing "
			    "(%s)\n", line + 4, path);
		reader_line(&r, line, sizeof(line));
	} else if (json) {
		json_null("kill_switch");
	} else {
		out("last boot (%s):\n", path);
	}
	if (json) {
		json_key("records");
		json_begin('[');
	}
	do {
		/* "<L>TEXT"; anything else is no record of ours. */
		const char *word = line[1] == '3' ? "error" : line[1] == '4' ? "warning" : "info";
		bool alarm = line[1] < '5';

		if (line[0] != '<' || !line[1] || line[2] != '>')
			continue;
		if (json) {
			json_key(NULL);
			json_begin('{');
			json_str("level", word);
			json_str("message", line + 3);
			json_end('}');
		} else {
			out("  %s%s%s\n", alarm ? word : "", alarm ? ": " : "", line + 3);
		}
	} while (reader_line(&r, line, sizeof(line)) >= 0);
	reader_close(&r);
	if (json) {
		json_end(']');
		json_end('}');
	}
}

/* What the reports (metrics, nfd) say of the last boot: whether the kill
 * switch was on, and the time its "done" record gives.  False without a
 * report.  The binder does not call it: --gc-sections drops it there. */
bool report_facts(struct boot_facts *facts)
{
	static struct line_reader r;
	char path[MAX_PATHLEN], line[MAX_LINE + 32];
	bool header;

	facts->kill_switch = false;
	facts->binder_us = -1;
	if (root_path(path, sizeof(path), REPORT_PATH) != 0 || reader_open(&r, path) != 0)
		return false;
	header = reader_line(&r, line, sizeof(line)) >= 0 && strcmp(line, REPORT_HEADER) == 0;
	while (header && reader_line(&r, line, sizeof(line)) >= 0) {
		/* "<6>done...: ... failed in MS.USE ms" (actions.c). */
		char *in = strstr(line, " failed in "), *dot;
		uint32_t ms, us;

		facts->kill_switch |= strncmp(line, "off ", 4) == 0;
		if (strncmp(line, "<6>done", 7) != 0 || !in || !(dot = strchr(in, '.')) ||
		    strlen(dot) != 7 || strcmp(dot + 4, " ms") != 0)
			continue;
		dot[4] = *dot = '\0';
		if (parse_number(in + 11, 10, &ms) && parse_number(dot + 1, 10, &us))
			facts->binder_us = (long)ms * 1000 + (long)us;
	}
	reader_close(&r);
	return header;
}
