// SPDX-License-Identifier: GPL-2.0-only
/*
 * control_parse(): the grammar and limits of control/command.h. The input is
 * checked byte by byte before it is split, so no later step sees a NUL, a
 * control byte or more than CONTROL_MAX_LINE bytes; tokens are (pointer,
 * length) pairs into the caller's buffer, never copied until they are valid.
 */
#ifndef KSLUB_CONTROL_PARSE_H
#define KSLUB_CONTROL_PARSE_H

#include "control/command.h"

namespace kslub {

namespace control_detail {

struct Token {
	const char *p;
	usize n;
};

inline bool token_is(Token t, const char *s)
{
	usize i = 0;
	for (; i < t.n; i++)
		if (s[i] != t.p[i])
			return false;
	return s[i] == 0;
}

/* Reasons quote user text only after it passed the printable-ASCII check; long tokens are cut. */
inline TextBuf &quote(TextBuf &t, Token tok)
{
	constexpr usize QUOTE_MAX = 24;
	t.chr('\'').strn(tok.p, min(tok.n, QUOTE_MAX));
	if (tok.n > QUOTE_MAX)
		t.str("...");
	return t.chr('\'');
}

inline int fail(ControlError *why, int code)
{
	if (why)
		why->code = code;
	return code;
}

inline bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/*
 * A decimal number in [lo, hi] named `what` in messages. Returns 0 or
 * -KSLUB_EINVAL with the reason written.
 */
inline int parse_number(Token tok, const char *what, u64 lo, u64 hi, u64 *out, TextBuf &r)
{
	if (!tok.n) {
		r.str(what).str(" is empty");
		return -KSLUB_EINVAL;
	}
	if (tok.n && (tok.p[0] == '-' || tok.p[0] == '+')) {
		r.str(what).str(" must be an unsigned decimal number, not ");
		quote(r, tok);
		return -KSLUB_EINVAL;
	}
	u64 v = 0;
	for (usize i = 0; i < tok.n; i++) {
		char c = tok.p[i];
		if (c < '0' || c > '9') {
			r.str(what).str(" is not a decimal number: ");
			quote(r, tok);
			return -KSLUB_EINVAL;
		}
		unsigned d = unsigned(c - '0');
		if (v > (~u64(0) - d) / 10) {
			r.str(what).str(" does not fit in 64 bits: ");
			quote(r, tok);
			return -KSLUB_EINVAL;
		}
		v = v * 10 + d;
	}
	if (v < lo || v > hi) {
		r.str(what)
			.chr(' ')
			.dec(v)
			.str(v < lo ? " is below " : " is above ")
			.str(v < lo ? "the minimum " : "the limit ");
		r.dec(v < lo ? lo : hi);
		return -KSLUB_EINVAL;
	}
	*out = v;
	return 0;
}

inline int parse_name(Token tok, char *out, TextBuf &r)
{
	if (tok.n >= CACHE_NAME_MAX) {
		r.str("NAME is longer than ").dec(CACHE_NAME_MAX - 1).str(" characters: ");
		quote(r, tok);
		return -KSLUB_EINVAL;
	}
	for (usize i = 0; i < tok.n; i++) {
		if (!is_name_char(tok.p[i])) {
			r.str("NAME may hold only [A-Za-z0-9_.-]: ");
			quote(r, tok);
			return -KSLUB_EINVAL;
		}
	}
	/* The embedding names a directory after the cache: "." and ".." would be no names. */
	if (token_is(tok, ".") || token_is(tok, "..")) {
		r.str("NAME may not be . or ..");
		return -KSLUB_EINVAL;
	}
	for (usize i = 0; i < tok.n; i++)
		out[i] = tok.p[i];
	out[tok.n] = 0;
	return 0;
}

struct VerbSpec {
	ControlVerb verb;
	const char *name;
	unsigned min_args, max_args;
	const char *usage;
};

inline const VerbSpec *find_verb(Token tok)
{
	static constexpr VerbSpec verbs[] = {
		{ControlVerb::Create, "create", 2, 4, "create NAME SIZE [align=N] [sheaves=N]"},
		{ControlVerb::Destroy, "destroy", 1, 1, "destroy NAME"},
		{ControlVerb::Alloc, "alloc", 2, 2, "alloc NAME COUNT"},
		{ControlVerb::Free, "free", 2, 2, "free NAME COUNT"},
		{ControlVerb::Kmalloc, "kmalloc", 2, 2, "kmalloc SIZE COUNT"},
		{ControlVerb::KfreeAll, "kfree-all", 0, 0, "kfree-all"},
		{ControlVerb::Shrink, "shrink", 1, 1, "shrink NAME"},
		{ControlVerb::Validate, "validate", 1, 1, "validate NAME"},
		{ControlVerb::Stress, "stress", 2, 2, "stress NAME OPS"},
		{ControlVerb::Compare, "compare", 2, 2, "compare SIZE OPS"},
		{ControlVerb::Stop, "stop", 0, 0, "stop"},
	};
	for (const VerbSpec &v : verbs)
		if (token_is(tok, v.name))
			return &v;
	return nullptr;
}

} // namespace control_detail

inline int control_parse(const char *buf, usize len, ControlCommand *out, ControlError *why)
{
	using namespace control_detail;
	ControlCommand dummy;
	if (!out)
		out = &dummy;
	*out = ControlCommand{};
	char scratch[CONTROL_REASON_MAX];
	TextBuf r(why ? why->reason : scratch, CONTROL_REASON_MAX);
	if (why)
		why->code = 0;
	if (!buf && len) {
		r.str("no buffer");
		return fail(why, -KSLUB_EINVAL);
	}

	/* One trailing newline, as echo writes it. */
	if (len && buf[len - 1] == '\n')
		len--;
	if (len > CONTROL_MAX_LINE) {
		r.str("command longer than ").dec(CONTROL_MAX_LINE).str(" bytes (").dec(len).chr(')');
		return fail(why, -KSLUB_EINVAL);
	}
	for (usize i = 0; i < len; i++) {
		u8 b = u8(buf[i]);
		if (b == 0) {
			r.str("NUL byte at offset ").dec(i);
			return fail(why, -KSLUB_EINVAL);
		}
		if (b != ' ' && (b < 0x21 || b > 0x7e)) {
			r.str("control or non-ASCII byte 0x").hex(b, 0).str(" at offset ").dec(i);
			return fail(why, -KSLUB_EINVAL);
		}
	}

	/* Split: the verb and up to CONTROL_MAX_ARGS arguments; one more is counted to report it. */
	Token tok[CONTROL_MAX_ARGS + 2];
	unsigned nt = 0;
	for (usize i = 0; i < len;) {
		if (buf[i] == ' ') {
			i++;
			continue;
		}
		usize start = i;
		while (i < len && buf[i] != ' ')
			i++;
		if (nt == CONTROL_MAX_ARGS + 2) {
			nt++;
			break;
		}
		tok[nt++] = Token{buf + start, i - start};
	}
	if (!nt) {
		r.str("empty command");
		return fail(why, -KSLUB_EINVAL);
	}
	const VerbSpec *v = find_verb(tok[0]);
	if (!v) {
		r.str("unknown command ");
		quote(r, tok[0]);
		r.str(" (create destroy alloc free kmalloc kfree-all shrink validate stress compare stop)");
		return fail(why, -KSLUB_EINVAL);
	}
	unsigned nargs = nt - 1;
	if (nargs < v->min_args) {
		r.str(v->name).str(": missing argument (usage: ").str(v->usage).chr(')');
		return fail(why, -KSLUB_EINVAL);
	}
	if (nargs > v->max_args) {
		r.str(v->name).str(": too many arguments (usage: ").str(v->usage).chr(')');
		return fail(why, -KSLUB_EINVAL);
	}

	int err = 0;
	out->verb = v->verb;
	switch (v->verb) {
	case ControlVerb::Create:
		err = parse_name(tok[1], out->name, r);
		if (!err)
			err = parse_number(tok[2], "SIZE", CONTROL_MIN_CACHE_SIZE,
					   CONTROL_MAX_CACHE_SIZE, &out->size, r);
		for (unsigned i = 3; !err && i <= nargs; i++) {
			Token a = tok[i];
			constexpr usize ALIGN = 6, SHEAVES = 8; /* "align=", "sheaves=" */
			if (a.n >= ALIGN && token_is(Token{a.p, ALIGN}, "align=") && !out->align) {
				err = parse_number(Token{a.p + ALIGN, a.n - ALIGN}, "align", 1,
						   CONTROL_MAX_ALIGN, &out->align, r);
				if (!err && !is_power_of_2(out->align)) {
					r.str("align ")
						.dec(out->align)
						.str(" is not a power of two");
					err = -KSLUB_EINVAL;
				}
			} else if (a.n >= SHEAVES && token_is(Token{a.p, SHEAVES}, "sheaves=") &&
				   !out->sheaves) {
				err = parse_number(Token{a.p + SHEAVES, a.n - SHEAVES}, "sheaves",
						   1, CONTROL_MAX_SHEAVES, &out->sheaves, r);
			} else {
				r.str("create: the options are align=N and sheaves=N, once each, not ");
				quote(r, a);
				err = -KSLUB_EINVAL;
			}
		}
		break;
	case ControlVerb::Destroy:
	case ControlVerb::Shrink:
	case ControlVerb::Validate: err = parse_name(tok[1], out->name, r); break;
	case ControlVerb::Alloc:
	case ControlVerb::Free:
		err = parse_name(tok[1], out->name, r);
		if (!err)
			err = parse_number(tok[2], "COUNT", 1, CONTROL_MAX_COUNT, &out->count, r);
		break;
	case ControlVerb::Kmalloc:
		err = parse_number(tok[1], "SIZE", 1, CONTROL_MAX_KMALLOC, &out->size, r);
		if (!err)
			err = parse_number(tok[2], "COUNT", 1, CONTROL_MAX_COUNT, &out->count, r);
		break;
	case ControlVerb::KfreeAll:
	case ControlVerb::Stop: break;
	case ControlVerb::Stress:
		err = parse_name(tok[1], out->name, r);
		if (!err)
			err = parse_number(tok[2], "OPS", 1, CONTROL_MAX_OPS, &out->count, r);
		break;
	case ControlVerb::Compare:
		err = parse_number(tok[1], "SIZE", 1, CONTROL_MAX_KMALLOC, &out->size, r);
		if (!err)
			err = parse_number(tok[2], "OPS", 1, CONTROL_MAX_OPS, &out->count, r);
		break;
	case ControlVerb::None: err = -KSLUB_EINVAL; break;
	}
	if (err) {
		*out = ControlCommand{};
		return fail(why, err);
	}
	return 0;
}

} // namespace kslub

#endif
