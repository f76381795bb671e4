#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the Debian package with `dpkg-buildpackage -us -uc -b` (unsigned, binary only) in a
# scratch copy of the source tree, so that no build product lands in the checkout. The packaging
# lives in packaging/debian/; dpkg wants it in debian/ at the top of the source tree, so the
# copy gets it there.
#   packaging/build-deb.sh [--worktree] [--nocheck] [OUTDIR]
#     --worktree  build the working tree (tracked and untracked files, not ignored ones);
#                 default: what is committed (git archive HEAD)
#     --nocheck   skip the test suite (DEB_BUILD_OPTIONS=nocheck, build profile nocheck)
#     OUTDIR      where the .deb, .buildinfo and .changes go (default: /tmp/pinhole-deb)
# Prints the path of the .deb on standard output. Needs: scripts/deps.sh --package.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
worktree=0 profile=""
while [ $# -gt 0 ]; do
	case $1 in
	--worktree) worktree=1 ;;
	--nocheck) profile=-Pnocheck; DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }nocheck" ;;
	-*) echo "usage: $0 [--worktree] [--nocheck] [OUTDIR]" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-}"
out=$(mkdir -p "${1:-/tmp/pinhole-deb}" && cd "${1:-/tmp/pinhole-deb}" && pwd)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
src=$scratch/pinhole
mkdir "$src"
if ! git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
	# Not a checkout (a release tarball): copy it, without build directories.
	tar -C "$root" --exclude='./build*' -cf - . | tar -x -C "$src"
elif [ "$worktree" = 1 ]; then
	(cd "$root" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -x -C "$src"
else
	git -C "$root" archive HEAD | tar -x -C "$src"
fi
cp -R "$src/packaging/debian" "$src/debian"

# One version everywhere: debian/changelog must name the version CMakeLists.txt gives the
# binary (`pinhole --version`).
want=$(sed -n 's/^project(pinhole VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
have=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
if [ "${have%%-*}" != "$want" ]; then
	echo "build-deb.sh: packaging/debian/changelog says $have, CMakeLists.txt says $want" >&2
	exit 1
fi

# The build's log goes to stderr: standard output is only the path of the .deb.
(cd "$src" && dpkg-buildpackage -us -uc -b $profile) >&2
# pinhole_*.deb, pinhole-dbgsym_*.deb (the debug symbols), .buildinfo, .changes
for f in "$scratch"/pinhole_* "$scratch"/pinhole-dbgsym_*; do mv -f "$f" "$out/"; done
echo "$out/pinhole_${have}_$(dpkg-architecture -qDEB_HOST_ARCH).deb"
