#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pinhole compile -b all -o DIR: one run writes every backend's output, DIR/BACKEND (a file;
# DIR/iptables/ a directory), each the same as that backend alone writes. When any backend
# fails (here: --strict on a policy that needs approximations), nothing at all is written.
set -u
PINHOLE=${1:?usage: backends_all.sh PATH_TO_PINHOLE}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

rules=tests/golden/features.rules
if "$PINHOLE" compile -b all -o "$tmp/all" "$rules" 2>/dev/null; then ok; else bad "compile -b all $rules"; fi
for b in nft json pf squid; do
	"$PINHOLE" compile -b "$b" "$rules" >"$tmp/one.$b" 2>/dev/null
	if cmp -s "$tmp/one.$b" "$tmp/all/$b"; then ok; else bad "-b all: $tmp/all/$b differs from -b $b"; fi
done
"$PINHOLE" compile -b iptables -o "$tmp/ipt" "$rules" 2>/dev/null
if diff -r "$tmp/ipt" "$tmp/all/iptables" >/dev/null; then ok; else bad "-b all: iptables/ differs from -b iptables"; fi
if [ "$(cd "$tmp/all" && find . | sort | tr '\n' ' ')" = ". ./iptables ./iptables/ipsets ./iptables/rules.v4 ./iptables/rules.v6 ./json ./nft ./pf ./squid " ]; then
	ok
else
	bad "-b all wrote: $(cd "$tmp/all" && find . | sort | tr '\n' ' ')"
fi

# Writing again over the old output replaces it (same content, no temporary files left).
"$PINHOLE" compile -b all -o "$tmp/all" "$rules" 2>/dev/null
if [ "$(find "$tmp/all" | wc -l)" -eq 9 ]; then ok; else bad "a second -b all left extra files"; fi

# --strict: iptables and pf cannot match names, so the run fails and writes nothing, not
# even the backends that would have succeeded.
if ! "$PINHOLE" compile --strict -b all -o "$tmp/strict" rules/marketo.rules 2>"$tmp/err" && [ ! -e "$tmp/strict" ]; then
	ok
else
	bad "--strict -b all must fail and leave nothing: $(ls -R "$tmp/strict" 2>&1 | head -5)"
fi
# ... and into an existing directory it leaves the old files as they were.
mkdir "$tmp/keep" && echo old >"$tmp/keep/nft"
"$PINHOLE" compile --strict -b all -o "$tmp/keep" rules/marketo.rules 2>/dev/null
if [ "$(ls -A "$tmp/keep")" = nft ] && [ "$(cat "$tmp/keep/nft")" = old ]; then ok; else
	bad "a failed -b all changed an existing directory: $(ls -A "$tmp/keep" | tr '\n' ' ')"
fi
for w in "iptables: cannot match names" "pf: cannot match names"; do
	if grep -q "error: $w" "$tmp/err"; then ok; else bad "--strict -b all: no error '$w'"; fi
done

if ! "$PINHOLE" compile -b all "$rules" >/dev/null 2>"$tmp/err" && grep -q 'give a directory with -o DIR' "$tmp/err"; then
	ok
else
	bad "-b all without -o must fail with a hint"
fi
if ! "$PINHOLE" compile -b nope "$rules" 2>"$tmp/err" && grep -q "valid backends: nft json iptables pf squid all" "$tmp/err"; then
	ok
else
	bad "an unknown backend must list the valid ones: $(cat "$tmp/err")"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
