#!/bin/bash
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

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
