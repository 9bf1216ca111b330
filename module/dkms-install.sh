#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Register kslub's source with DKMS.
#
# usage: module/dkms-install.sh [--no-add] [VERSION]
#        module/dkms-install.sh --remove [VERSION]
#
# Copies module/ (sources only) and core/ into /usr/src/kslub-VERSION/, puts
# dkms.conf at its top with the version filled in, and runs
# `dkms add kslub/VERSION` (not with --no-add). Then, for example:
#   dkms build -m kslub -v VERSION -k 6.1.0-57-amd64
#   dkms install -m kslub -v VERSION -k 6.1.0-57-amd64
# --remove runs `dkms remove kslub/VERSION --all` and deletes the tree.
# VERSION defaults to 0.1. Needs root.

set -euo pipefail

die() {
	echo "dkms-install: error: $*" >&2
	exit 1
}

add=1 remove=0
while [[ $# -gt 0 ]]; do
	case $1 in
	--no-add) add=0; shift ;;
	--remove) remove=1; shift ;;
	-h | --help) sed -n '4,16{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
version=${1:-0.1}
[[ "$version" =~ ^[0-9A-Za-z.+~-]+$ ]] || die "bad version '$version'"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
dest=/usr/src/kslub-$version

# Whether DKMS knows this version (no pipe into grep -q: with pipefail its early exit fails the pipe).
registered() {
	local st
	st=$(dkms status -m kslub -v "$version" 2>/dev/null || true)
	[[ -n "$st" ]]
}

if [[ $remove -eq 1 ]]; then
	if registered; then
		dkms remove kslub/"$version" --all
	fi
	rm -rf "$dest"
	echo "dkms-install: removed kslub/$version"
	exit 0
fi

command -v dkms >/dev/null || die "dkms is not installed"
[[ -d "$top/core/base" ]] || die "no core/ beside module/"
rm -rf "$dest"
mkdir -p "$dest/module" "$dest/core"
cp -a "$top/core/." "$dest/core/"
for f in "$here"/Kbuild "$here"/*.c "$here"/*.h "$here"/*.cpp "$here"/build.sh "$here"/README.md; do
	[[ -e "$f" ]] || continue
	rel=${f#"$here"/}
	cp -a "$f" "$dest/module/$rel"
done
[[ -f "$top/Kconfig" ]] && cp -a "$top/Kconfig" "$dest/"
[[ -d "$top/LICENSES" ]] && cp -a "$top/LICENSES" "$dest/"
sed "s/@PACKAGE_VERSION@/$version/" "$here/dkms.conf" >"$dest/dkms.conf"
echo "dkms-install: source tree $dest"
if [[ $add -eq 1 ]]; then
	if registered; then
		dkms remove kslub/"$version" --all
	fi
	dkms add kslub/"$version"
fi
