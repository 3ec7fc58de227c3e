/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Messages, paths under --root, and small sysfs file helpers. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vfio-reserve.h"

int verbosity;
const char *sys_root = "";

/* In --boot mode messages go to the kernel log, so that `dmesg` shows them
 * after the initramfs is gone; "" means stdout/stderr.  The kernel lets 10
 * records per 5 s through one open /dev/kmsg and drops the rest silently
 * (devkmsg_write, unless printk.devkmsg=on): each record opens it anew. */
static char kmsg_path[MAX_PATHLEN];

void log_to_kmsg(void)
{
	if (root_path(kmsg_path, sizeof(kmsg_path), "/dev/kmsg") != 0)
		kmsg_path[0] = '\0';
}

static bool write_kmsg(const char *text, size_t len)
{
	int fd = kmsg_path[0] ? open(kmsg_path, O_WRONLY | O_APPEND | O_CLOEXEC) : -1;
	bool ok = fd >= 0 && write(fd, text, len) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	return ok;
}

static void vlogmsg(enum log_level level, const char *format, va_list ap)
{
	char text[1024];
	va_list again;
	int n;

	if (level == LOG_DEBUG && verbosity < 1)
		return;
	if (level == LOG_INFO && verbosity < 0)
		return;
	va_copy(again, ap);
	report_vadd((int)level, format, again);
	va_end(again);
	if (kmsg_path[0]) {
		/* One write per record: /dev/kmsg turns each write into one line. */
		n = fmt(text, sizeof(text), "<%d>vfio-reserve: ", (int)level);
		va_copy(again, ap);
		fmt_v(text + n, sizeof(text) - (size_t)n, format, again);
		va_end(again);
		n = (int)strlen(text);
		if ((size_t)n < sizeof(text) - 1)
			text[n++] = '\n';
		if (write_kmsg(text, (size_t)n))
			return;
	}
	n = fmt(text, sizeof(text), "vfio-reserve: ");
	fmt_v(text + n, sizeof(text) - (size_t)n, format, ap);
	if (level == LOG_INFO) {
		out_str(text);
		out_char('\n');
		return;
	}
	/* Keep stdout and stderr in order when both go to one terminal. */
	out_flush();
	err_str(text);
	err_str("\n");
}

void logmsg(enum log_level level, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vlogmsg(level, format, ap);
	va_end(ap);
}

void die(int status, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vlogmsg(LOG_ERR, format, ap);
	va_end(ap);
	exit(status);
}

/* Every system path goes through here, so --root moves all of them. */
int root_path(char *buf, size_t size, const char *format, ...)
{
	va_list ap;
	int prefix, n;

	prefix = fmt(buf, size, "%s", sys_root);
	if (prefix < 0 || (size_t)prefix >= size)
		goto toolong;
	va_start(ap, format);
	n = fmt_v(buf + prefix, size - (size_t)prefix, format, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - (size_t)prefix)
		goto toolong;
	return 0;
toolong:
	errno = ENAMETOOLONG;
	logmsg(LOG_ERR, "path too long under '%s'", sys_root);
	return -1;
}

/* Reads a whole small file (sysfs attributes are one page at most).  No
 * O_CLOEXEC: musl emulates it with an extra fcntl, and the one program the
 * binder runs (modprobe) is started when no attribute is open. */
int read_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Reads a one-line attribute without its trailing newline. */
int read_attr(const char *path, char *buf, size_t size)
{
	if (read_file(path, buf, size) != 0)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Writes "value\n" in a single write(): sysfs stores act on each write, and
 * a short write would hand the kernel half an address. */
static int sysfs_write_attr(const char *path, const char *value)
{
	char line[MAX_NAME + 2];
	size_t len;
	ssize_t n;
	int fd, saved;

	len = (size_t)fmt(line, sizeof(line), "%s\n", value);
	if (len >= sizeof(line)) {
		errno = EINVAL;
		return -1;
	}
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, line, len);
	saved = errno;
	if (close(fd) != 0 && n == (ssize_t)len)
		return -1;
	if (n != (ssize_t)len) {
		errno = n < 0 ? saved : EIO;
		return -1;
	}
	return 0;
}

/* The last component of a symlink's target, like pciutils reads `driver`. */
static int sysfs_read_link(const char *path, char *buf, size_t size)
{
	char target[MAX_PATHLEN];
	const char *name;
	ssize_t n;

	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	name = strrchr(target, '/');
	name = name ? name + 1 : target;
	if (strlen(name) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, name);
	return 0;
}

const struct kernel_ops sysfs_kernel = { sysfs_write_attr, sysfs_read_link };

/* The unit-test build defines KERNEL_OPS as its fake (see the header); here
 * the table is a known constant, so the calls compile to direct ones. */
#ifndef KERNEL_OPS
#define KERNEL_OPS sysfs_kernel
#endif
extern const struct kernel_ops KERNEL_OPS;

int write_attr(const char *path, const char *value)
{
	return KERNEL_OPS.write_attr(path, value);
}

int read_link_name(const char *path, char *buf, size_t size)
{
	return KERNEL_OPS.read_link(path, buf, size);
}

bool path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

int format_addr(char *buf, pci_addr addr)
{
	return fmt(buf, ADDR_STRLEN, "%04x:%02x:%02x.%x", addr >> 16,
	                (addr >> 8) & 0xff, (addr >> 3) & 0x1f, addr & 7);
}

/* Exactly `digits` hex digits; `s` must end right after them. */
bool parse_hex(const char *s, size_t digits, uint32_t *out)
{
	uint32_t v = 0;
	size_t i;

	for (i = 0; i < digits; i++) {
		char c = s[i];
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		v = v << 4 | (uint32_t)d;
	}
	if (s[digits] != '\0')
		return false;
	*out = v;
	return true;
}

/* DDDD:BB:DD.F or BB:DD.F (domain 0). */
bool parse_addr(const char *s, pci_addr *addr)
{
	char part[8];
	uint32_t domain = 0, bus, dev, fn;
	size_t len = strlen(s);

	if (len == 12) {
		if (s[4] != ':')
			return false;
		memcpy(part, s, 4);
		part[4] = '\0';
		if (!parse_hex(part, 4, &domain))
			return false;
		s += 5;
		len -= 5;
	}
	if (len != 7 || s[2] != ':' || s[5] != '.')
		return false;
	memcpy(part, s, 2);
	part[2] = '\0';
	if (!parse_hex(part, 2, &bus))
		return false;
	memcpy(part, s + 3, 2);
	if (!parse_hex(part, 2, &dev) || dev > 0x1f)
		return false;
	if (!parse_hex(s + 6, 1, &fn) || fn > 7)
		return false;
	*addr = domain << 16 | bus << 8 | dev << 3 | fn;
	return true;
}

/* Optional 0x for base 16; the whole string must be the number. */
bool parse_number(const char *s, int base, uint32_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (base == 16 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	if (*p == '\0')
		return false;
	for (; *p; p++) {
		int d;
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
		if (v > 0xffffffffu)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

bool contains(const char *haystack, const char *needle)
{
	size_t len = strlen(needle);

	for (; *haystack; haystack++)
		if (strncmp(haystack, needle, len) == 0)
			return true;
	return false;
}

/* True when WORD is one of the blank-separated WORDS, in any case. */
bool word_in(const char *word, const char *words)
{
	size_t len = strlen(word);

	while (*words) {
		size_t n = strcspn(words, " ");
		if (n == len && strncasecmp(word, words, n) == 0)
			return true;
		words += n + (words[n] == ' ');
	}
	return false;
}

/* Microseconds since the first call; main calls it at start. */
long elapsed_us(void)
{
	static struct timespec start;
	struct timespec now;

	/* The system call itself: musl's vDSO lookup would cost the 48 KiB
	 * budget 900 bytes, for a clock read a few times a run. */
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now);
	if (start.tv_sec == 0 && start.tv_nsec == 0)
		start = now;
	return (long)(now.tv_sec - start.tv_sec) * 1000000L +
	       (now.tv_nsec - start.tv_nsec) / 1000L;
}

int reader_open(struct line_reader *r, const char *path)
{
	r->pos = r->len = 0;
	r->error = 0;
	/* O_NONBLOCK: a FIFO put where a file was expected cannot hang us. */
	r->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	return r->fd < 0 ? -1 : 0;
}

/* A byte, or READER_EOF at the end; a read error ends the file and is kept
 * in r->error for the caller to report with the name of the file. */
int reader_getc(struct line_reader *r)
{
	if (r->pos == r->len) {
		ssize_t n;

		do
			n = read(r->fd, r->buf, sizeof(r->buf));
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			if (n < 0)
				r->error = errno;
			return READER_EOF;
		}
		r->pos = 0;
		r->len = (size_t)n;
	}
	return (unsigned char)r->buf[r->pos++];
}

/* One line without its newline, cut to fit `out`; -1 at end of file. */
int reader_line(struct line_reader *r, char *out, size_t size)
{
	size_t len = 0;
	int c;

	while ((c = reader_getc(r)) != READER_EOF && c != '\n')
		if (len + 1 < size)
			out[len++] = (char)c;
	out[len] = '\0';
	return c == READER_EOF && len == 0 ? -1 : (int)len;
}

void reader_close(struct line_reader *r)
{
	close(r->fd);
}

/* getdents64 directly: opendir would bring malloc into the binary. */
struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

int dir_open(struct dir_reader *d, const char *path)
{
	d->pos = d->len = 0;
	d->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return d->fd < 0 ? -1 : 0;
}

const char *dir_next(struct dir_reader *d)
{
	for (;;) {
		struct linux_dirent64 *ent;

		if (d->pos >= d->len) {
			long n = syscall(SYS_getdents64, d->fd, d->buf, sizeof(d->buf));
			if (n <= 0)
				return NULL;
			d->pos = 0;
			d->len = (size_t)n;
		}
		ent = (struct linux_dirent64 *)(void *)(d->buf + d->pos);
		d->pos += ent->d_reclen;
		if (ent->d_name[0] != '.')
			return ent->d_name;
	}
}

void dir_close(struct dir_reader *d)
{
	close(d->fd);
}

/* A failed write to a closed pipe must not exit 0 (sbase's fshut). */
int close_stdout(void)
{
	int error = out_flush();

	if (error) {
		err_str("vfio-reserve: write error: ");
		err_str(strerror(error));
		err_str("\n");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* Starts argv (its first word looked up on PATH) with its standard output
 * on out_fd, or on ours when out_fd is 1.  vfork: the child only execs or
 * exits, never returns here, and fork's bookkeeping would cost the budget
 * half a kilobyte. */
static pid_t spawn(char *const argv[], int out_fd)
{
	pid_t pid = vfork();

	if (pid == 0) {
		dup2(out_fd, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static int wait_for(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* Runs argv as spawn() starts it.  Returns the wait status, or -1 with
 * errno when it cannot be run or waited for. */
int run_program(char *const argv[], int out_fd)
{
	pid_t pid = spawn(argv, out_fd);

	return pid < 0 ? -1 : wait_for(pid);
}

/* Runs argv with its standard output read into `buf`, NUL-terminated ("" when
 * it cannot be run).  The output is read while the program runs, and what
 * does not fit is read and dropped, so that it never blocks on a full pipe. */
void program_output(char *const argv[], char *buf, size_t size)
{
	char drop[256];
	size_t len = 0;
	ssize_t n;
	int fd[2];
	pid_t pid;

	buf[0] = '\0';
	if (pipe(fd) != 0)
		return;
	pid = spawn(argv, fd[1]);
	close(fd[1]);
	while (pid > 0) {
		bool room = len + 1 < size;

		n = read(fd[0], room ? buf + len : drop, room ? size - 1 - len : sizeof(drop));
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
		if (n > 0 && room)
			len += (size_t)n;
	}
	close(fd[0]);
	buf[len] = '\0';
	if (pid > 0)
		wait_for(pid);
}

/* The path of the script NAME that ships beside the binder: in LIBDIR, or
 * in $VFIO_RESERVE_LIBDIR (the tests, a tree not installed). */
void lib_script(char *buf, size_t size, const char *name)
{
	const char *libdir = getenv("VFIO_RESERVE_LIBDIR");

	fmt(buf, size, "%s/%s", libdir ? libdir : LIBDIR, name);
}
