/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Formatted output without stdio.
 *
 * musl's printf always links its floating-point formatter and stdio buffers,
 * about a fifth of the 48 KiB budget.  The binder needs %s %d %u %x %o %c
 * with a width (also as '*'), '-' and '0' flags and the 'l' modifier; gcc
 * checks every call against that through the printf format attribute.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vfio-reserve.h"

struct sink {
	char *buf;
	size_t size, len;   /* len counts what would be written, as vsnprintf does */
};

static void put(struct sink *s, char c)
{
	if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

static void put_padded(struct sink *s, const char *text, size_t len, int width,
                       bool left, char pad)
{
	int fill = width > (int)len ? width - (int)len : 0;

	if (!left && pad == '0' && len && (*text == '-')) {
		put(s, *text++);
		len--;
	}
	while (!left && fill-- > 0)
		put(s, pad);
	while (len--)
		put(s, *text++);
	while (left && fill-- > 0)
		put(s, ' ');
}

static size_t utoa(char *end, unsigned long v, unsigned base)
{
	char *p = end;

	do {
		*--p = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	return (size_t)(end - p);
}

int fmt_v(char *buf, size_t size, const char *f, va_list ap)
{
	struct sink s = { buf, size, 0 };
	char digits[24];

	for (; *f; f++) {
		bool left = false, is_long = false;
		char pad = ' ';
		int width = 0;
		size_t n;

		if (*f != '%') {
			put(&s, *f);
			continue;
		}
		f++;
		for (;; f++) {
			if (*f == '-')
				left = true;
			else if (*f == '0')
				pad = '0';
			else
				break;
		}
		if (*f == '*') {
			width = va_arg(ap, int);
			f++;
		}
		while (*f >= '0' && *f <= '9')
			width = width * 10 + (*f++ - '0');
		if (*f == 'l') {
			is_long = true;
			f++;
		}
		switch (*f) {
		case 's': {
			const char *str = va_arg(ap, const char *);
			put_padded(&s, str, strlen(str), width, left, ' ');
			break;
		}
		case 'c':
			digits[0] = (char)va_arg(ap, int);
			put_padded(&s, digits, 1, width, left, ' ');
			break;
		case 'd': {
			long v = is_long ? va_arg(ap, long) : va_arg(ap, int);
			unsigned long mag = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
			n = utoa(digits + sizeof(digits), mag, 10);
			if (v < 0)
				digits[sizeof(digits) - ++n] = '-';
			put_padded(&s, digits + sizeof(digits) - n, n, width, left, pad);
			break;
		}
		case 'u':
		case 'x':
		case 'o': {
			unsigned long v = is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
			n = utoa(digits + sizeof(digits), v, *f == 'u' ? 10 : *f == 'x' ? 16 : 8);
			put_padded(&s, digits + sizeof(digits) - n, n, width, left, pad);
			break;
		}
		case '%':
			put(&s, '%');
			break;
		default:
			/* Unreachable for calls gcc has checked; keep the text visible. */
			put(&s, '%');
			if (*f)
				put(&s, *f);
			else
				f--;
		}
	}
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return (int)s.len;
}

int fmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = fmt_v(buf, size, f, ap);
	va_end(ap);
	return n;
}

/* ---- stdout, buffered; stderr and kmsg are written a line at a time ---- */

static char out_buf[8192];
static size_t out_len;
static int out_errno;

static void write_all(int fd, const char *p, size_t len, int *error)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (error)
				*error = n < 0 ? errno : EIO;
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

int out_flush(void)
{
	write_all(STDOUT_FILENO, out_buf, out_len, &out_errno);
	out_len = 0;
	return out_errno;
}

/* out_flush, then the write error forgotten: for a report whose standard
 * output was a file for a while (reports: metrics --textfile-dir), which
 * names that file in its own message. */
int out_flush_error(void)
{
	int error = out_flush();

	out_errno = 0;
	return error;
}

void out_str(const char *text)
{
	size_t len = strlen(text);

	if (out_len + len > sizeof(out_buf))
		out_flush();
	if (len > sizeof(out_buf)) {
		write_all(STDOUT_FILENO, text, len, &out_errno);
		return;
	}
	memcpy(out_buf + out_len, text, len);
	out_len += len;
}

void out_char(char c)
{
	char text[2] = { c, '\0' };

	out_str(text);
}

void out(const char *f, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, f);
	fmt_v(line, sizeof(line), f, ap);
	va_end(ap);
	out_str(line);
}

void err_str(const char *text)
{
	write_all(STDERR_FILENO, text, strlen(text), NULL);
}
