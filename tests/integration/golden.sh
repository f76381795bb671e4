#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Golden files: every shipped rules file and every tests/golden/*.rules is compiled to each
# backend and formatted; the outputs must match tests/golden/NAME.{nft,json,pf,squid,fmt} and
# the files in tests/golden/NAME.iptables/ byte for byte, and formatting the formatted file
# must change nothing (a fixed point).
# Regenerate after a deliberate change with: PINHOLE_REGEN=1 bash tests/integration/golden.sh build/pinhole
# and review the diff.
set -u
PINHOLE=${1:?usage: golden.sh PATH_TO_PINHOLE}
regen=${PINHOLE_REGEN:-0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

check() {	# name, golden file, actual file
	if [ "$regen" = 1 ]; then
		cp "$3" "$2"
	fi
	if cmp -s "$2" "$3"; then
		pass=$((pass + 1))
	else
		echo "FAIL: $1 differs from $2:"
		diff -u "$2" "$3" | head -n 40
		fail=$((fail + 1))
	fi
}

for rules in rules/*.rules tests/golden/*.rules; do
	name=$(basename "$rules" .rules)
	for backend in nft json pf squid; do
		"$PINHOLE" compile -b "$backend" "$rules" >"$tmp/out" 2>"$tmp/err" ||
			{ echo "FAIL: compile -b $backend $rules:"; cat "$tmp/err"; fail=$((fail + 1)); continue; }
		check "compile -b $backend $rules" "tests/golden/$name.$backend" "$tmp/out"
	done
	# The iptables backend writes a directory: tests/golden/NAME.iptables/{ipsets,rules.v4,rules.v6}.
	rm -rf "$tmp/ipt"
	if "$PINHOLE" compile -b iptables -o "$tmp/ipt" "$rules" 2>"$tmp/err"; then
		[ "$regen" = 1 ] && mkdir -p "tests/golden/$name.iptables"
		for f in ipsets rules.v4 rules.v6; do
			check "compile -b iptables $rules ($f)" "tests/golden/$name.iptables/$f" "$tmp/ipt/$f"
		done
	else
		echo "FAIL: compile -b iptables $rules:"; cat "$tmp/err"; fail=$((fail + 1))
	fi
	"$PINHOLE" fmt "$rules" >"$tmp/fmt" 2>"$tmp/err" ||
		{ echo "FAIL: fmt $rules:"; cat "$tmp/err"; fail=$((fail + 1)); continue; }
	check "fmt $rules" "tests/golden/$name.fmt" "$tmp/fmt"
	cp "$tmp/fmt" "$tmp/again.rules"
	"$PINHOLE" fmt "$tmp/again.rules" >"$tmp/fmt2" 2>&1
	if cmp -s "$tmp/fmt" "$tmp/fmt2"; then pass=$((pass + 1)); else
		echo "FAIL: fmt of fmt output of $rules is not a fixed point"; diff -u "$tmp/fmt" "$tmp/fmt2" | head -20
		fail=$((fail + 1))
	fi
	# The formatted file must compile to the same policy (locations aside).
	"$PINHOLE" compile -b json "$tmp/again.rules" 2>/dev/null | grep -v '"source' | grep -v 'again.rules' >"$tmp/j2"
	"$PINHOLE" compile -b json "$rules" 2>/dev/null | grep -v '"source' | grep -v "$rules" >"$tmp/j1"
	if cmp -s "$tmp/j1" "$tmp/j2"; then pass=$((pass + 1)); else
		echo "FAIL: fmt changed the meaning of $rules"; diff -u "$tmp/j1" "$tmp/j2" | head -20
		fail=$((fail + 1))
	fi
done

# Every shipped policy is already in canonical form: `pinhole fmt -w` (as the README shows)
# leaves it byte for byte as shipped, so the package's copy never drifts from a formatted one.
# /etc/pinhole/pinhole.rules as installed is the header and the Marketo policy.
cat packaging/pinhole.rules.header rules/marketo.rules >"$tmp/etc-pinhole.rules"
for rules in rules/*.rules "$tmp/etc-pinhole.rules"; do
	cp "$rules" "$tmp/shipped.rules"
	if "$PINHOLE" fmt -w "$tmp/shipped.rules" 2>"$tmp/err" && cmp -s "$rules" "$tmp/shipped.rules"; then
		pass=$((pass + 1))
	else
		echo "FAIL: fmt -w changes the shipped $rules:"; cat "$tmp/err"; diff -u "$rules" "$tmp/shipped.rules" | head -20
		fail=$((fail + 1))
	fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
