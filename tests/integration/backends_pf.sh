#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pfctl does not run on Linux, so the pf backend's output is held to the part of the
# pf.conf(5) grammar it is meant to use, line by line, for every shipped rules file and golden
# input (the golden files pin the exact text; this pins the grammar):
#   table <NAME> const {        then one address/prefix per line (a '#' comment may follow), then }
#   table <NAME> persist
#   pass in|out quick inet|inet6 [proto tcp|udp] from ANY|<T> to ANY|<T> [port P | port { P, ... }]
# and for option default_deny IF [reject], after every pass rule:
#   pass quick on IF inet6 proto icmp6
#   block drop in|out quick on IF
#   block return-rst in|out quick on IF proto tcp
#   block return-icmp (filter-prohib) in|out quick on IF inet
#   block return-icmp6 (admin-unr) in|out quick on IF inet6
# where a table name has at most 31 characters and a port is N or N:N (pf's inclusive range).
set -u
PINHOLE=${1:?usage: backends_pf.sh PATH_TO_PINHOLE}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# No {m,n} intervals: Debian's awk (mawk) lacks them; lengths are checked apart.
name='[A-Za-z][A-Za-z0-9_]*'
port='[0-9]+(:[0-9]+)?'
ports="( port $port| port \\{ $port(, $port)* \\})?"
host="(any|<$name>)"
pass_rule="^pass (in|out) quick inet6? (proto (tcp|udp) )?from $host to $host$ports\$"
ifname='[A-Za-z][A-Za-z0-9_.-]*'
deny_rule="^(pass quick on $ifname inet6 proto icmp6|block (drop|return-rst|return-icmp \\(filter-prohib\\)|return-icmp6 \\(admin-unr\\)) (in|out) quick on $ifname( proto tcp| inet| inet6)?)\$"
check_pf() {	# file: prints the first line outside the grammar
	awk -v pass_rule="$pass_rule" -v deny_rule="$deny_rule" -v tname="^table <$name> (const \\{|persist)\$" '
		/^#/ || /^$/ { next }
		inside && /^\t[0-9a-f.:]+\/[0-9]+(\t# .*)?$/ { next }
		inside && /^}$/ { inside = 0; next }
		!inside && $0 ~ tname { inside = ($0 ~ /const/); next }
		!inside && $0 ~ pass_rule && !denying { next }
		!inside && $0 ~ deny_rule { denying = 1; next }
		{ print NR ": " $0; exit 1 }
		END { if (inside) { print "unterminated table"; exit 1 } }' "$1"
}

for rules in rules/*.rules tests/golden/*.rules; do
	if ! "$PINHOLE" compile -b pf -o "$tmp/out.pf" "$rules" 2>"$tmp/err"; then
		echo "FAIL: compile -b pf $rules"; cat "$tmp/err"; fail=$((fail + 1)); continue
	fi
	if out=$(check_pf "$tmp/out.pf"); then pass=$((pass + 1)); else
		echo "FAIL: pf output of $rules leaves the grammar at line $out"; fail=$((fail + 1))
	fi
	long=$(grep -o '<[^>]*>' "$tmp/out.pf" | sort -u | awk 'length($0) > 33')
	if [ -z "$long" ]; then pass=$((pass + 1)); else
		echo "FAIL: pf output of $rules has table names past 31 characters: $long"; fail=$((fail + 1))
	fi
	# Every table a rule names is defined in the fragment.
	missing=$(grep -o '<[^>]*>' "$tmp/out.pf" | sort -u | while read -r t; do
		grep -q "^table $t " "$tmp/out.pf" || echo "$t"; done)
	if [ -z "$missing" ]; then pass=$((pass + 1)); else
		echo "FAIL: pf output of $rules uses undefined tables: $missing"; fail=$((fail + 1))
	fi
done

# The checker itself must reject what pf would: a range inside a table, a bad keyword.
printf 'table <t> const {\n\t192.0.2.1-192.0.2.9\n}\n' >"$tmp/bad1.pf"
printf 'pass out quick inet proto tcp to <t> port 80\n' >"$tmp/bad2.pf"
for f in "$tmp/bad1.pf" "$tmp/bad2.pf"; do
	if check_pf "$f" >/dev/null; then echo "FAIL: the checker accepts $(cat "$f")"; fail=$((fail + 1)); else
		pass=$((pass + 1))
	fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
