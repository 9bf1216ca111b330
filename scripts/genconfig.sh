#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Generate kslub_autoconf.h from Kconfig.
#
# usage: scripts/genconfig.sh OUTPUT_HEADER [KSLUB_X=VALUE ...]
#
# Values are taken, later ones winning, from:
#   1. the defaults in Kconfig (top of the source tree);
#   2. a config file: $KSLUB_CONFIG_FILE if set, else .config at the top of
#      the source tree if it exists. Lines are CONFIG_KSLUB_X=y|n|<int>;
#      "# CONFIG_KSLUB_X is not set" means n, other comments are ignored;
#   3. environment variables of the same name, e.g. CONFIG_KSLUB_STATS=n;
#   4. the build variant's own settings, given as arguments (the CMake build
#      gives its test variants the highest assertion tier this way:
#      KSLUB_DEBUG=3).
#
# Every option is always defined (bool as 1/0, int as its number) so that
# C++ code can use it in `if constexpr`. The output file is only rewritten
# when its content changes, so an unchanged configuration causes no rebuild.

set -eu

prog=genconfig

die() {
	echo "$prog: error: $*" >&2
	exit 1
}

[ $# -ge 1 ] || die "usage: $0 OUTPUT_HEADER [KSLUB_X=VALUE ...]"
out=$1
shift
overrides=""
for a in "$@"; do
	case $a in
	KSLUB_[A-Z0-9_]*=*) overrides="$overrides $a" ;;
	*) die "argument '$a' is not KSLUB_X=VALUE" ;;
	esac
done

srcdir=$(cd "$(dirname "$0")/.." && pwd)
kconfig=$srcdir/Kconfig
[ -f "$kconfig" ] || die "$kconfig not found"

if [ -n "${KSLUB_CONFIG_FILE:-}" ]; then
	cfgfile=$KSLUB_CONFIG_FILE
	[ -f "$cfgfile" ] || die "KSLUB_CONFIG_FILE=$cfgfile: no such file"
elif [ -f "$srcdir/.config" ]; then
	cfgfile=$srcdir/.config
else
	cfgfile=
fi

# Parse Kconfig into lines "NAME TYPE DEFAULT MIN MAX" (MIN/MAX "-" if none).
# Help text is skipped: it runs until the next line that starts in column 0.
options=$(awk '
function flush() {
	if (name != "" && type != "tristate") {
		if (type == "") {
			printf("%s:%d: config %s has no type\n", FILENAME, cfgline, name) > "/dev/stderr"
			bad = 1
		} else if (def == "") {
			printf("%s:%d: config %s has no default\n", FILENAME, cfgline, name) > "/dev/stderr"
			bad = 1
		} else {
			print name, type, def, (min == "" ? "-" : min), (max == "" ? "-" : max)
		}
	}
	name = ""; type = ""; def = ""; min = ""; max = ""
}
{ sub(/\r$/, "") }
inhelp && /^[ \t]/ { next }
inhelp && /^$/ { next }
{ inhelp = 0 }
/^[ \t]*#/ { next }
$1 == "config" || $1 == "menuconfig" { flush(); name = $2; cfgline = NR; next }
$1 == "menu" || $1 == "endmenu" || $1 == "choice" || $1 == "endchoice" || $1 == "comment" || $1 == "source" || $1 == "if" || $1 == "endif" { flush(); next }
name == "" { next }
$1 == "bool" || $1 == "int" { type = $1; next }
# The module symbol itself (kernel trees only) is not an option of the core.
$1 == "tristate" { type = $1; next }
$1 == "def_bool" || $1 == "def_int" { type = substr($1, 5); if (def == "") def = $2; next }
$1 == "default" { if (def == "") def = $2; next }
$1 == "range" { min = $2; max = $3; next }
$1 == "help" || $1 == "---help---" { inhelp = 1; next }
END { flush(); exit bad }
' "$kconfig") || die "cannot parse $kconfig"

[ -n "$options" ] || die "no options found in $kconfig"

# Print the value of CONFIG_$1 from the config file, or nothing.
# Exit status 1 if the file does not mention it.
from_file() {
	[ -n "$cfgfile" ] || return 1
	awk -v key="CONFIG_$1" '
	{ sub(/\r$/, "") }
	$0 ~ "^# " key " is not set$" { v = "n"; found = 1; next }
	/^[ \t]*#/ || /^[ \t]*$/ { next }
	{
		eq = index($0, "=")
		if (eq == 0) next
		k = substr($0, 1, eq - 1); v1 = substr($0, eq + 1)
		gsub(/^[ \t]+|[ \t]+$/, "", k); gsub(/^[ \t]+|[ \t]+$/, "", v1)
		if (k != key) next
		if (v1 ~ /^".*"$/) v1 = substr(v1, 2, length(v1) - 2)
		v = v1; found = 1
	}
	END { if (!found) exit 1; print v }
	' "$cfgfile"
}

# Warn about CONFIG_KSLUB_* keys in the config file that Kconfig does not know.
if [ -n "$cfgfile" ]; then
	known=$(echo "$options" | awk '{ printf("%s%s", sep, $1); sep = " " }')
	awk -v known=" $known " -v f="$cfgfile" '
	{ sub(/\r$/, "") }
	/^[ \t]*CONFIG_KSLUB_[A-Za-z0-9_]*[ \t]*=/ {
		k = $0; sub(/^[ \t]*CONFIG_/, "", k); sub(/[ \t]*=.*/, "", k)
		if (index(known, " " k " ") == 0)
			printf("genconfig: warning: %s:%d: unknown option CONFIG_%s ignored\n", f, NR, k) > "/dev/stderr"
	}' "$cfgfile"
fi

for a in $overrides; do
	echo "$options" | awk -v k="${a%%=*}" '$1 == k { f = 1 } END { exit !f }' ||
		die "argument '$a': Kconfig has no option ${a%%=*}"
done

body=
nl='
'
while read -r name type def min max; do
	val=$def
	src="Kconfig default"
	if fv=$(from_file "$name"); then
		val=$fv
		src=$cfgfile
	fi
	if eval "[ -n \"\${CONFIG_$name+set}\" ]"; then
		eval "val=\$CONFIG_$name"
		src="environment variable CONFIG_$name"
	fi
	for a in $overrides; do
		if [ "${a%%=*}" = "$name" ]; then
			val=${a#*=}
			src="the build variant's setting $a"
		fi
	done

	case $type in
	bool)
		case $val in
		y) cval=1 ;;
		n) cval=0 ;;
		*) die "CONFIG_$name='$val' (from $src): bool option must be y or n" ;;
		esac
		;;
	int)
		case $val in
		'' | *[!0-9-]* | ?*-* | -)
			die "CONFIG_$name='$val' (from $src): int option must be a decimal integer" ;;
		esac
		# Drop leading zeros (shell arithmetic would read them as octal).
		cval=$(echo "$val" | sed 's/^\(-\{0,1\}\)0*\([0-9]\)/\1\2/')
		[ "$cval" != "-0" ] || cval=0
		if [ "$min" != "-" ] && { [ "$cval" -lt "$min" ] || [ "$cval" -gt "$max" ]; }; then
			die "CONFIG_$name='$val' (from $src): out of range [$min, $max]"
		fi
		;;
	*)
		die "config $name: unsupported type '$type'"
		;;
	esac
	body="$body#define CONFIG_$name $cval$nl"
done <<EOT
$options
EOT

outdir=$(dirname "$out")
mkdir -p "$outdir"
tmp=$(mktemp "$outdir/.kslub_autoconf.XXXXXX")
chmod 644 "$tmp"
trap 'rm -f "$tmp"' EXIT INT TERM

{
	echo "// SPDX-License-Identifier: GPL-2.0-only"
	echo "/*"
	echo " * kslub_autoconf.h - generated from Kconfig by scripts/genconfig.sh,"
	echo " * do not edit. Change .config or CONFIG_KSLUB_* variables instead."
	echo " */"
	echo "#ifndef KSLUB_AUTOCONF_H"
	echo "#define KSLUB_AUTOCONF_H"
	echo
	printf '%s' "$body"
	echo
	echo "#endif /* KSLUB_AUTOCONF_H */"
} >"$tmp"

if [ -f "$out" ] && cmp -s "$tmp" "$out"; then
	rm -f "$tmp"
else
	mv -f "$tmp" "$out"
	echo "$prog: wrote $out"
fi
trap - EXIT INT TERM
