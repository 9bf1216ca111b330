#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The include graph of the whole project against its layering rules; exit 1
# with one line per broken rule, 0 when the graph is clean.
#
#   scripts/check-includes.sh [--graph | --files] [SRC]
#
# --graph prints every project arrow ("from -> to") instead of checking;
# --files, the files it reads.
#
# core/ has one folder per layer, bottom-up: base, buddy, slub, then show and
# control side by side (neither includes the other). A core file includes
# files of its own layer, and of a lower layer only its umbrella
# (<layer>/<layer>.h); nothing outside core/ but the generated
# kslub_autoconf.h. Outside core/, code includes only core umbrellas, and
# each part includes only the parts declared for it below (ARROWS).
#
# An include is resolved as the compilers do: a quoted name first beside the
# including file, then in the include roots (ROOTS, the directories the build
# puts on include paths). A name found under two roots is an error: two
# headers look alike. A name found nowhere is a system or generated header.
set -euo pipefail

graph=0 list=0
case ${1:-} in
--graph) graph=1; shift ;;
--files) list=1; shift ;;
esac
src=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
cd "$src"

ROOTS="core userspace/include userspace/platform userspace/lib fuzz bpf module"
# part: the parts it may include (besides itself and core umbrellas).
ARROWS="
core:
module:
userspace/include:
userspace/platform:
userspace/lib: userspace/include userspace/platform
userspace/tools: userspace/include userspace/lib
userspace/bench: userspace/include
fuzz: userspace/include userspace/platform userspace/lib
bpf: userspace/include
tests/unit: userspace/include userspace/platform userspace/lib
tests/stress: userspace/include
tests/freestanding:
"
# Generated at build time, never in the tree.
GENERATED="kslub_autoconf.h vmlinux.h kslub_record.skel.h"
CORE_RANK="base:0 buddy:1 slub:2 show:3 control:3"

if git rev-parse --git-dir >/dev/null 2>&1; then
	files=$(git ls-files -co --exclude-standard -- core userspace fuzz module bpf tests | awk '/\.(c|h|cpp|hpp)$/')
else
	files=$(find core userspace fuzz module bpf tests -type f \( -name '*.c' -o -name '*.h' -o -name '*.cpp' \) | sort)
fi
[ -n "$files" ] || { echo "check-includes: no sources under $src" >&2; exit 2; }
if [ $list = 1 ]; then
	printf '%s\n' "$files"
	exit 0
fi

# One perl process reads every file (a shell loop forking per include took
# seconds); the rules above are handed over in the environment.
export ROOTS ARROWS GENERATED CORE_RANK graph
printf '%s\n' "$files" | perl -e '
use strict;
use warnings;
my @roots = split " ", $ENV{ROOTS};
my %rank = map { split /:/ } split " ", $ENV{CORE_RANK};
my %generated = map { $_ => 1 } split " ", $ENV{GENERATED};
my %arrows;
for my $line (split /\n/, $ENV{ARROWS}) {
	next unless $line =~ /^(\S+):\s*(.*)$/;
	$arrows{$1} = { map { $_ => 1 } split " ", $2 };
}
my $graph = $ENV{graph};
my ($bad, $count) = (0, 0);
sub fail { print "check-includes: $_[0]\n"; $bad++; }
sub part_of {
	my $p = shift;
	return "core" if $p =~ m{^core/};
	return $1 if $p =~ m{^(userspace/[^/]+)/} || $p =~ m{^(tests/[^/]+)/};
	return $1 if $p =~ m{^([^/]+)/};
	return ".";
}
sub normalize {
	my @out;
	for my $c (split m{/}, shift) {
		next if $c eq "" || $c eq ".";
		if ($c eq "..") { pop @out; } else { push @out, $c; }
	}
	return join "/", @out;
}
while (my $f = <STDIN>) {
	chomp $f;
	next unless -f $f;
	(my $dir = $f) =~ s{/[^/]*$}{};
	my $from = part_of($f);
	open my $fh, "<", $f or die "check-includes: $f: $!\n";
	while (my $l = <$fh>) {
		next unless $l =~ /^\s*#\s*include\s*(["<])([^">]+)[">]/;
		my ($kind, $name, $lineno) = ($1, $2, $.);
		my $target;
		if ($kind eq q(") && -f "$dir/$name") {
			$target = normalize("$dir/$name");
		} else {
			my @hits = grep { -f "$_/$name" } @roots;
			if (@hits > 1) {
				fail("$f:$lineno: \"$name\" is ambiguous: " . join(" ", map { "$_/$name" } @hits));
				next;
			}
			$target = @hits ? "$hits[0]/$name" : undef;
		}
		if (!defined $target) {
			(my $base = $name) =~ s{.*/}{};
			if ($from eq "core" && $name ne "kslub_autoconf.h") {
				fail("$f:$lineno: the core includes <$name>, which is not a core header");
			} elsif ($kind eq q(") && !$generated{$base}) {
				fail("$f:$lineno: \"$name\" is not in the tree (and not a generated header)");
			}
			next;
		}
		$count++;
		if ($graph) { print "$f -> $target\n"; next; }
		my $to = part_of($target);
		if ($to eq "core") {
			my ($tl) = $target =~ m{^core/([^/]+)/};
			my $umbrella = "core/$tl/$tl.h";
			if ($from eq "core") {
				my ($fl) = $f =~ m{^core/([^/]+)/};
				next if $fl eq $tl;
				if (!defined $rank{$fl} || !defined $rank{$tl}) {
					fail("$f:$lineno: core/$fl or core/$tl is not a known layer ($ENV{CORE_RANK})");
				} elsif ($rank{$tl} >= $rank{$fl}) {
					fail("$f:$lineno: layer $fl includes $target of layer $tl, which is not below it");
				} elsif ($target ne $umbrella) {
					fail("$f:$lineno: $target is included past its umbrella $umbrella");
				}
			} elsif ($target ne $umbrella) {
				fail("$f:$lineno: $from includes $target past its umbrella $umbrella");
			}
			next;
		}
		if ($from eq "core") {
			fail("$f:$lineno: the core includes $target, outside core/");
		} elsif ($from ne $to && !($arrows{$from} && $arrows{$from}{$to})) {
			fail("$f:$lineno: $from includes $target of $to, an arrow not declared in scripts/check-includes.sh");
		}
	}
	close $fh;
}
exit 0 if $graph;
if ($bad) {
	print "check-includes: $bad broken rule(s) in $count project include(s)\n";
	exit 1;
}
print "check-includes: OK, $count project includes follow the layering\n";
'
