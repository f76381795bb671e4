#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The real nft judges the nft backend: every shipped rules file and golden input compiles
# to a script that `nft -c -f` accepts. Runs inside a fresh network namespace (unshare -n)
# so the host's ruleset is never read or touched; -c never commits anyway.
set -u
PINHOLE=${1:?usage: nft_check.sh PATH_TO_PINHOLE}
if ! command -v nft >/dev/null || ! unshare -n true 2>/dev/null; then
	echo "SKIP: needs nft and permission for unshare -n (root)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
for rules in rules/*.rules tests/golden/*.rules; do
	"$PINHOLE" compile -b nft -o "$tmp/out.nft" "$rules" 2>"$tmp/err" ||
		{ echo "FAIL: compile $rules"; cat "$tmp/err"; fail=$((fail + 1)); continue; }
	if unshare -n nft -c -f "$tmp/out.nft" 2>"$tmp/err"; then
		pass=$((pass + 1))
	else
		echo "FAIL: nft -c -f rejects the output of $rules:"; cat "$tmp/err"; fail=$((fail + 1))
	fi
done
# Loading for real (in the throwaway namespace) twice must work: the script is idempotent.
"$PINHOLE" compile -o "$tmp/m.nft" rules/marketo.rules
if unshare -n sh -c "nft -f '$tmp/m.nft' && nft -f '$tmp/m.nft' && nft list table inet pinhole >/dev/null"; then
	pass=$((pass + 1))
else
	echo "FAIL: loading rules/marketo.rules twice in a namespace"; fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
