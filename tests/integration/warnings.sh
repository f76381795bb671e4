#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Warning golden files: each tests/warnings/NAME.rules must pass `pinhole check` (exit 0)
# with exactly the warnings in NAME.err; every warning name in it must be silenced by
# -W no-NAME and made an error (exit 1) by -W error=NAME, and -W error fails the file.
# Every name the man page documents must be covered by a golden file or listed below.
# Regenerate after a deliberate change: PINHOLE_REGEN=1 bash tests/integration/warnings.sh build/pinhole
set -u
PINHOLE=${1:?usage: warnings.sh PATH_TO_PINHOLE}
regen=${PINHOLE_REGEN:-0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

for rules in tests/warnings/*.rules; do
	name=${rules%.rules}
	NO_COLOR=1 "$PINHOLE" check "$rules" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$regen" = 1 ] && cp "$tmp/err" "$name.err"
	[ "$rc" -eq 0 ] && ok || bad "check $rules exited $rc, want 0"
	if cmp -s "$name.err" "$tmp/err"; then ok; else bad "warnings of $rules differ:"; diff -u "$name.err" "$tmp/err"; fi
	for w in $(grep -o '\[[a-z0-9-]*\]$' "$name.err" | tr -d '[]' | sort -u); do
		NO_COLOR=1 "$PINHOLE" check -W "no-$w" "$rules" >/dev/null 2>"$tmp/err"
		if grep -q "\[$w\]" "$tmp/err"; then bad "-W no-$w still reports it for $rules"; else ok; fi
		NO_COLOR=1 "$PINHOLE" check -W "error=$w" "$rules" >/dev/null 2>"$tmp/err"
		rc=$?
		if [ "$rc" -eq 1 ] && grep -q "error: .*\[$w\]" "$tmp/err"; then ok; else bad "-W error=$w on $rules: exit $rc"; fi
		echo "$w" >>"$tmp/covered"
	done
	if grep -q '\[' "$name.err"; then
		"$PINHOLE" check -W error "$rules" >/dev/null 2>&1
		[ $? -eq 1 ] && ok || bad "-W error did not fail $rules"
	fi
done

# compile takes the same -W: a warning made an error writes nothing, silenced it is not shown.
echo old >"$tmp/out.nft"
NO_COLOR=1 "$PINHOLE" compile -W error=unused-define -o "$tmp/out.nft" tests/warnings/file_option.rules 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q 'error: .*\[unused-define\]' "$tmp/err" && ok || bad "compile -W error=unused-define: exit $rc"
[ "$(cat "$tmp/out.nft")" = old ] && ok || bad "compile -W error wrote its output"
NO_COLOR=1 "$PINHOLE" compile -W no-unused-set -W no-unused-define tests/warnings/file_option.rules >/dev/null 2>"$tmp/err"
[ $? -eq 0 ] && ! grep -q 'unused-set' "$tmp/err" && ok || bad "compile -W no-unused-set: $(cat "$tmp/err")"
"$PINHOLE" compile -W bogus tests/warnings/file_option.rules >/dev/null 2>&1
[ $? -eq 1 ] && ok || bad "compile -W bogus must fail"

# -W error with a silenced warning: the explicit no-NAME wins.
"$PINHOLE" check -W error -W no-unused-set tests/warnings/file_option.rules >/dev/null 2>&1
[ $? -eq 1 ] && ok || bad "-W error must still fail on unused-define"
"$PINHOLE" check -W error -W no-unused-define tests/warnings/file_option.rules >/dev/null 2>&1
[ $? -eq 0 ] && ok || bad "-W error -W no-unused-define must pass file_option.rules"
"$PINHOLE" check -W no-such-warning tests/warnings/rules.rules >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "unknown -W 'no-such-warning'" "$tmp/err" && ok || bad "an unknown -W name must be refused"

# Every documented name is tested here, except the one that needs a machine without a
# public suffix list, and the ones the bad-input corpus and unit tests cover.
documented=$(sed -n '/^\.SH WARNINGS/,/^\.SH /p' packaging/man/pinhole.rules.5 | grep -o '^\.B [a-z0-9-]*$' | cut -c4-)
[ -n "$documented" ] && ok || bad "no warning names found in pinhole.rules(5), WARNINGS"
for w in $documented; do
	case $w in no-public-suffix-list|duplicate-element|inbound-names) continue ;; esac
	grep -qx "$w" "$tmp/covered" && ok || bad "documented warning $w has no golden file"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
