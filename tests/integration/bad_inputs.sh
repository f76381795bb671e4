#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The bad-input corpus: each tests/bad/NAME.rules must make `pinhole check` exit 1 with
# exactly the diagnostics in NAME.err, and `pinhole compile -o FILE` exit 1 without
# creating FILE or leaving a temporary file behind.
# Regenerate after a deliberate change: PINHOLE_REGEN=1 bash tests/integration/bad_inputs.sh build/pinhole
set -u
PINHOLE=${1:?usage: bad_inputs.sh PATH_TO_PINHOLE}
regen=${PINHOLE_REGEN:-0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
for rules in tests/bad/*.rules; do
	name=${rules%.rules}
	NO_COLOR=1 "$PINHOLE" check "$rules" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$regen" = 1 ] && cp "$tmp/err" "$name.err"
	if [ "$rc" -ne 1 ]; then
		echo "FAIL: check $rules exited $rc, want 1"; fail=$((fail + 1))
	elif [ -s "$tmp/out" ]; then
		echo "FAIL: check $rules printed on stdout"; fail=$((fail + 1))
	elif ! cmp -s "$name.err" "$tmp/err"; then
		echo "FAIL: diagnostics of $rules differ:"; diff -u "$name.err" "$tmp/err"; fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
	mkdir -p "$tmp/o"
	"$PINHOLE" compile -o "$tmp/o/out.nft" "$rules" >/dev/null 2>&1
	rc=$?
	if [ "$rc" -ne 1 ] || [ -n "$(ls -A "$tmp/o")" ]; then
		echo "FAIL: compile -o of $rules exited $rc or left files: $(ls -A "$tmp/o")"; fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
	rm -rf "$tmp/o"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
