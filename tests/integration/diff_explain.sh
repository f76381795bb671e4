#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pinhole explain on rules/marketo.rules: the answers for addresses, address:port/proto,
# IPv6, names (exact, wildcard, case and trailing dot, the bare base a wildcard does not
# match), near misses and a set no rule uses, with their exit statuses, must match
# tests/diff/explain.txt; bad targets exit 2. Regenerate with
#   PINHOLE_REGEN=1 bash tests/integration/diff_explain.sh build/pinhole
set -u
PINHOLE=${1:?usage: diff_explain.sh PATH_TO_PINHOLE}
regen=${PINHOLE_REGEN:-0}
command -v jq >/dev/null || { echo "SKIP: jq not installed (scripts/deps.sh --test)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
rules=rules/marketo.rules

for target in 192.28.150.7:25/tcp 192.28.150.7:587/tcp 192.28.150.7:25/udp 94.236.119.63 94.236.119.64 \
	198.51.100.7 '[2001:db8::1]:443/tcp' ws1.marketo.com:443/tcp ws1.marketo.com:22 WS1.Marketo.COM. \
	marketo.com a.b.mktoweb.com:80/tcp mkto-a0244.com:443 pages.abc.com:443 x.mktomail.com; do
	echo "\$ pinhole explain $rules $target"
	"$PINHOLE" explain "$rules" "$target" 2>/dev/null  # stderr: the parameter warnings
	echo "[exit $?]"
done >"$tmp/out"
[ "$regen" = 1 ] && cp "$tmp/out" tests/diff/explain.txt
if cmp -s tests/diff/explain.txt "$tmp/out"; then ok; else
	bad "explain answers differ from tests/diff/explain.txt:"
	diff -u tests/diff/explain.txt "$tmp/out" | head -40
fi

# JSON for bots, judged by jq.
"$PINHOLE" explain --format json "$rules" 192.28.150.7:25/tcp >"$tmp/json"
got=$(jq -r '[.allowed, .sets[0].set, .sets[0].element.text, .sets[0].element.sources[0], .sets[0].rules[0].allows] | join(" ")' "$tmp/json")
want="true marketo_senders 192.28.144.0/20 rules/marketo.rules:24 true"
if [ "$got" = "$want" ]; then ok; else bad "explain json: '$got', expected '$want'"; fi

# A -D override is what explain answers about.
"$PINHOLE" explain -D tracking=mkto-b1234.com "$rules" mkto-b1234.com >/dev/null 2>&1
[ $? = 0 ] && ok || bad "explain with -D tracking=... does not allow the override"

for target in 192.0.2.0/24 '*.marketo.com' 192.0.2.1:0 192.0.2.1:25/sctp 'bad..name' ''; do
	"$PINHOLE" explain "$rules" "$target" >/dev/null 2>"$tmp/err"
	st=$?
	if [ "$st" = 2 ] && grep -qF "pinhole explain: '$target': " "$tmp/err"; then ok; else
		bad "explain '$target' exited $st: $(cat "$tmp/err")"
	fi
done
"$PINHOLE" explain "$tmp/missing.rules" 192.0.2.1 >/dev/null 2>&1
[ $? = 2 ] && ok || bad "explain of a missing rules file does not exit 2"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
