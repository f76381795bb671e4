#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# packaging/debian/control names every package scripts/deps.sh installs to build and test
# pinhole (the test tools as <!nocheck>), so that dpkg-buildpackage without nocheck has what
# the suite needs; and debian/changelog names the version `pinhole --version` prints.
set -u
PINHOLE=${1:?usage: debian_control.sh PATH_TO_PINHOLE}
pass=0 fail=0

# BUILD and TEST as deps.sh sets them: its assignments only, not its apt-get.
deps=$(sed -n '/^BUILD=/,/^pkgs=/p' scripts/deps.sh | grep -v '^pkgs=' |
	(eval "$(cat)"; echo $BUILD $TEST))
[ -n "$deps" ] || { echo "FAIL: no BUILD/TEST lists in scripts/deps.sh"; fail=$((fail + 1)); }
# Build-Depends, one package name per line (field continuation lines, comments skipped).
build_depends=$(awk '/^Build-Depends:/ { on = 1; sub(/^Build-Depends:/, "") }
	on && /^[A-Za-z-]+:/ && !/^Build-Depends:/ { on = 0 }
	on && !/^#/ { print }' packaging/debian/control | tr ',' '\n' | awk 'NF { print $1 }')
for p in $deps; do
	case $p in
	build-essential | util-linux) continue ;; # implied by dpkg-buildpackage / essential
	esac
	if grep -qx "$p" <<<"$build_depends"; then
		pass=$((pass + 1))
	else
		echo "FAIL: scripts/deps.sh installs $p but packaging/debian/control's Build-Depends lacks it"
		fail=$((fail + 1))
	fi
done

version=$("$PINHOLE" --version | awk '{ print $2 }')
changelog=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version 2>/dev/null ||
	sed -n '1s/^pinhole (\([^)]*\)).*/\1/p' packaging/debian/changelog)
if [ -n "$version" ] && [ "${changelog%%-*}" = "$version" ]; then
	pass=$((pass + 1))
else
	echo "FAIL: packaging/debian/changelog says '$changelog', pinhole --version '$version'"
	fail=$((fail + 1))
fi

# The licence: GPL-2.0-or-later, its text in COPYING, and debian/copyright in the
# machine-readable format saying so for every file (lintian checks the rest of its syntax).
check() {	# description, command...
	local what=$1
	shift
	if "$@"; then pass=$((pass + 1)); else echo "FAIL: $what"; fail=$((fail + 1)); fi
}
check "COPYING is not the GPL version 2" grep -qE '^ +Version 2, June 1991$' COPYING
check "debian/copyright is not DEP-5" grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' packaging/debian/copyright
check "debian/copyright: Files: * is not GPL-2+" \
	test "$(awk '/^Files: \*$/ { on = 1 } on && /^License:/ { print $2; exit }' packaging/debian/copyright)" = GPL-2+
check "debian/copyright lacks the GPL-2+ licence paragraph" grep -qx 'License: GPL-2+' packaging/debian/copyright
check "debian/copyright does not point to common-licenses/GPL-2" grep -q '/usr/share/common-licenses/GPL-2' packaging/debian/copyright

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
