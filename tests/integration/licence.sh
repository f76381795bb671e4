#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every source, script and build file says its licence (GPL-2.0-or-later, COPYING) in an SPDX
# line near its top, so a file copied out of the tree still carries it; COPYING and the
# package's machine-readable copyright agree.
set -u
cd "$(dirname "$0")/../.."
pass=0 fail=0
tag='SPDX-License-Identifier: GPL-2.0-or-later'
if git rev-parse --git-dir >/dev/null 2>&1; then
	files=$(git ls-files -- '*.c' '*.h' '*.sh' '*.bash' '*.py' 'CMakeLists.txt' '*/CMakeLists.txt' '*.cmake' \
		'packaging/man/*' 'packaging/systemd/*.service' '.ci/run')
else
	files=$(find . -path ./build\* -prune -o \( -name '*.[ch]' -o -name '*.sh' -o -name '*.bash' -o -name '*.py' \
		-o -name CMakeLists.txt -o -name '*.cmake' \) -print | sed 's|^\./||')
fi
for f in $files; do
	if head -n 3 "$f" | grep -qF "$tag"; then
		pass=$((pass + 1))
	else
		echo "FAIL: $f has no '$tag' in its first lines"
		fail=$((fail + 1))
	fi
done
if grep -q 'GNU GENERAL PUBLIC LICENSE' COPYING && grep -q 'Version 2, June 1991' COPYING; then
	pass=$((pass + 1))
else
	echo "FAIL: COPYING is not the GPL version 2"; fail=$((fail + 1))
fi
if grep -q '^License: GPL-2+' packaging/debian/copyright; then pass=$((pass + 1)); else
	echo "FAIL: debian/copyright does not say GPL-2+"; fail=$((fail + 1)); fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
