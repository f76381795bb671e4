#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The real ipset and iptables judge the iptables backend. For every shipped rules file and
# golden input, inside a fresh network namespace (unshare -n, so the host's ruleset and sets
# are never touched): `ipset restore` takes DIR/ipsets, `iptables-restore --test` and
# `ip6tables-restore --test` take rules.v4 / rules.v6, loading everything twice works, and
# iptables-save then shows exactly the rules of the file (nothing duplicated). A reload with
# changed prefixes replaces the set's members and keeps addresses learnt at run time.
set -u
PINHOLE=${1:?usage: backends_iptables.sh PATH_TO_PINHOLE}
for tool in ipset iptables-restore ip6tables-restore iptables-save; do
	command -v "$tool" >/dev/null || { echo "SKIP: needs $tool (scripts/deps.sh --test)"; exit 77; }
done
if ! unshare -n true 2>/dev/null; then
	echo "SKIP: needs permission for unshare -n (root)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# What iptables-save prints for the same rules: no comments or counters, quotes dropped.
normalize() {
	grep -v '^#' "$1" | sed -e 's/"//g' -e "s/\\\\'/'/g"
}

# Runs in the namespace: load twice, test, save.
cat >"$tmp/load.sh" <<'EOF'
set -e
d=$1
ipset restore -file "$d/ipsets"
ipset restore -file "$d/ipsets"
iptables-restore --test "$d/rules.v4"
ip6tables-restore --test "$d/rules.v6"
for i in 1 2; do
	iptables-restore "$d/rules.v4"
	ip6tables-restore "$d/rules.v6"
done
iptables-save >"$d/saved.v4"
ip6tables-save >"$d/saved.v6"
ipset save >"$d/saved.ipsets"
EOF

for rules in rules/*.rules tests/golden/*.rules; do
	d="$tmp/$(basename "$rules" .rules)"
	if ! "$PINHOLE" compile -b iptables -o "$d" "$rules" 2>"$tmp/err"; then
		bad "compile -b iptables $rules"; cat "$tmp/err"; continue
	fi
	if ! unshare -n bash "$tmp/load.sh" "$d" 2>"$tmp/err"; then
		bad "ipset/iptables reject the output of $rules:"; cat "$tmp/err"; continue
	fi
	ok
	for v in 4 6; do
		if diff -u <(normalize "$d/rules.v$v") <(normalize "$d/saved.v$v") >"$tmp/diff"; then ok; else
			bad "iptables-save after two loads of $rules differs from rules.v$v:"; head -20 "$tmp/diff"
		fi
	done
	# No set was left behind or doubled: the -new copies are gone, every create appears once.
	want=$(grep -c '^create [^ ]* ' "$d/ipsets" | tr -d ' ')
	want=$((want - $(grep -c '^create [^ ]*-new ' "$d/ipsets")))
	have=$(grep -c '^create ' "$d/saved.ipsets")
	if [ "$want" = "$have" ] && ! grep -q -- '-new ' "$d/saved.ipsets"; then ok; else
		bad "$rules: ipset has $have sets after two loads, want $want"
	fi
done

# A reload with other prefixes replaces the members; the guard's learnt address stays.
printf 'set s { 192.0.2.0/25 198.51.100.7 *.example.com }\nallow out to @s tcp port 443\n' >"$tmp/a.rules"
printf 'set s { 192.0.2.128/25 *.example.com }\nallow out to @s tcp port 443\n' >"$tmp/b.rules"
"$PINHOLE" compile -b iptables -o "$tmp/a" "$tmp/a.rules" 2>/dev/null
"$PINHOLE" compile -b iptables -o "$tmp/b" "$tmp/b.rules" 2>/dev/null
members=$(unshare -n bash -c "set -e
	ipset restore -file '$tmp/a/ipsets'; iptables-restore '$tmp/a/rules.v4'
	ipset add s_dns_v4 203.0.113.9 timeout 300
	ipset restore -file '$tmp/b/ipsets'; iptables-restore '$tmp/b/rules.v4'
	ipset list s_v4 | sed -n '/^Members:/,\$p' | sed 1d | cut -d' ' -f1 | sort | tr '\n' ' '
	ipset list s_dns_v4 | sed -n '/^Members:/,\$p' | sed 1d | cut -d' ' -f1 | tr '\n' ' '" 2>&1)
if [ "$members" = "192.0.2.128/25 203.0.113.9 " ]; then ok; else
	bad "reload: members after the second load are '$members', want '192.0.2.128/25 203.0.113.9 '"
fi

# Names cannot be matched: a warning, and with --strict an error that writes nothing.
"$PINHOLE" compile -b iptables -o "$tmp/w" rules/marketo.rules 2>"$tmp/err"
if grep -q "warning: iptables: cannot match names: the names of set 'marketo_web'" "$tmp/err"; then ok; else
	bad "no warning about names for rules/marketo.rules"; cat "$tmp/err"
fi
if ! "$PINHOLE" compile --strict -b iptables -o "$tmp/strict" rules/marketo.rules 2>"$tmp/err" &&
	grep -q "error: iptables: cannot match names" "$tmp/err" && [ ! -e "$tmp/strict" ]; then ok; else
	bad "--strict must fail on names and leave no directory"; ls -la "$tmp/strict" 2>&1 | head
fi

# A set name too long for ipset is an error at the set.
printf 'set abcdefghijklmnopqrstuvwxyz { *.example.com }\nallow out to @abcdefghijklmnopqrstuvwxyz tcp\n' >"$tmp/long.rules"
if ! "$PINHOLE" compile -b iptables -o "$tmp/long" "$tmp/long.rules" 2>"$tmp/err" &&
	grep -q "long.rules:1:5: error: iptables: ipset name 'abcdefghijklmnopqrstuvwxyz_dns_v4' is longer than 31" "$tmp/err"; then
	ok
else
	bad "a set name too long for ipset must be an error at the set"; cat "$tmp/err"
fi

# iptables writes several files: without -o DIR it refuses.
if ! "$PINHOLE" compile -b iptables rules/marketo.rules >"$tmp/out" 2>"$tmp/err" && [ ! -s "$tmp/out" ] &&
	grep -q 'give a directory with -o DIR' "$tmp/err"; then ok; else
	bad "-b iptables without -o must fail with a hint"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
