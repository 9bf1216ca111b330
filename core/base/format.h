// SPDX-License-Identifier: GPL-2.0-only
/*
 * A bounded text builder for the core's renderers and command results.
 *
 * TextBuf appends to a caller's buffer of `cap` bytes and never writes past
 * it: at most cap - 1 characters are kept and the text is always NUL
 * terminated (when cap > 0). It also counts what the whole text would have
 * needed, so a caller learns about truncation the way snprintf() tells it:
 * needed() >= cap means the text was cut.
 *
 * Width follows printf: a positive width pads on the left (right-aligned,
 * "%6lu"), a negative one pads on the right (left-aligned, "%-17s"); a value
 * wider than the width is never cut. Examples:
 *   dec(42, 6)        "    42"
 *   sdec(-3, 4)       "  -3"
 *   str("ab", -5)     "ab   "
 *   hex(255)          "ff"
 */
#ifndef KSLUB_BASE_FORMAT_H
#define KSLUB_BASE_FORMAT_H

#include "base/types.h"

namespace kslub {

class TextBuf {
public:
	TextBuf(char *buf, usize cap) : buf_(buf), cap_(buf ? cap : 0)
	{
		if (cap_)
			buf_[0] = 0;
	}
	TextBuf(const TextBuf &) = delete;
	TextBuf &operator=(const TextBuf &) = delete;

	/* Characters kept (excluding the NUL). */
	usize len() const { return len_; }
	/* Characters the whole text needs (excluding the NUL). */
	usize needed() const { return need_; }
	bool truncated() const { return need_ != len_; }
	const char *c_str() const { return cap_ ? buf_ : ""; }

	TextBuf &chr(char c)
	{
		if (len_ + 1 < cap_ && need_ == len_) {
			buf_[len_++] = c;
			buf_[len_] = 0;
		}
		need_++;
		return *this;
	}
	TextBuf &chars(char c, usize n)
	{
		for (usize i = 0; i < n; i++)
			chr(c);
		return *this;
	}
	/* At most n bytes of s (stops at a NUL). */
	TextBuf &strn(const char *s, usize n)
	{
		for (usize i = 0; i < n && s[i]; i++)
			chr(s[i]);
		return *this;
	}
	TextBuf &str(const char *s, int width = 0)
	{
		if (!s)
			s = "";
		usize n = str_len(s);
		pad_left(n, width);
		strn(s, n);
		return pad_right(n, width);
	}
	TextBuf &dec(u64 v, int width = 0)
	{
		char d[20];
		usize n = digits(v, 10, d);
		pad_left(n, width);
		while (n)
			chr(d[--n]);
		return pad_right(digits(v, 10, d), width);
	}
	TextBuf &sdec(s64 v, int width = 0)
	{
		char d[21];
		u64 mag = v < 0 ? u64(0) - u64(v) : u64(v);
		usize n = digits(mag, 10, d);
		if (v < 0)
			d[n++] = '-';
		usize total = n;
		pad_left(total, width);
		while (n)
			chr(d[--n]);
		return pad_right(total, width);
	}
	TextBuf &hex(u64 v, int width = 0)
	{
		char d[16];
		usize n = digits(v, 16, d);
		usize total = n;
		pad_left(total, width);
		while (n)
			chr(d[--n]);
		return pad_right(total, width);
	}

private:
	/* Digits of v in reverse order; returns their count (1 for zero). */
	static usize digits(u64 v, unsigned base, char *out)
	{
		usize n = 0;
		do {
			unsigned d = unsigned(v % base);
			out[n++] = char(d < 10 ? '0' + d : 'a' + d - 10);
			v /= base;
		} while (v);
		return n;
	}
	void pad_left(usize n, int width)
	{
		if (width > 0 && n < usize(width))
			chars(' ', usize(width) - n);
	}
	TextBuf &pad_right(usize n, int width)
	{
		if (width < 0 && n < usize(-s64(width)))
			chars(' ', usize(-s64(width)) - n);
		return *this;
	}

	char *buf_;
	usize cap_;
	usize len_ = 0;
	usize need_ = 0;
};

} // namespace kslub

#endif
