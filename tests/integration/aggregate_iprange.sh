#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `pinhole aggregate` judged by iprange: random IPv4 prefixes, addresses and ranges (fixed
# seeds) must come out as exactly the CIDR list `iprange --optimize` prints, covering the
# same addresses; pinhole's output must be a fixed point. iprange 1.0.4 cannot read IPv6,
# so IPv6 is checked against answers worked out by hand and against a brute-force cover of
# a 1024-address window computed here in awk.
set -u
PINHOLE=${1:?usage: aggregate_iprange.sh PATH_TO_PINHOLE}
if ! command -v iprange >/dev/null; then
	echo "SKIP: iprange is not installed"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

check() {	# description, command...: passes when the command succeeds
	local what=$1
	shift
	if "$@"; then pass=$((pass + 1)); else echo "FAIL: $what"; fail=$((fail + 1)); fi
}

same() {	# description, expected file, actual file
	if cmp -s "$2" "$3"; then pass=$((pass + 1)); else
		echo "FAIL: $1:"; diff -u "$2" "$3" | head -20; fail=$((fail + 1))
	fi
}

# gen_v4 SEED COUNT: lines clustered in a few /16s so they overlap and touch often (but do
# not swallow each other whole), a few wide prefixes elsewhere, and the space's edges.
gen_v4() {
	awk -v seed="$1" -v n="$2" '
	function quad(x) {
		return sprintf("%d.%d.%d.%d", int(x / 16777216) % 256, int(x / 65536) % 256,
			       int(x / 256) % 256, x % 256)
	}
	function net(x, len) { return x - x % 2 ^ (32 - len) }
	BEGIN {
		srand(seed)
		split("10.0 10.1 10.2 10.3 192.168 203.0", bases, " ")
		for (i = 0; i < n; i++) {
			split(bases[1 + int(rand() * 6)], b, ".")
			a = b[1] * 16777216 + b[2] * 65536 + int(rand() * 65536)
			kind = rand()
			if (kind < 0.45) {
				len = 21 + int(rand() * 12)
				print quad(net(a, len)) "/" len
			} else if (kind < 0.70) {
				print quad(a)
			} else if (kind < 0.95) {
				hi = a + int(2 ^ (rand() * 11))
				print quad(a) "-" quad(hi)
			} else {
				edge = int(rand() * 5)
				if (edge == 0) print "255.255.255.255"
				else if (edge == 1) print "0.0.0.0/31"
				else if (edge == 2) print "255.255.255.128-255.255.255.254"
				else if (edge == 3) { len = 12 + int(rand() * 8); print quad(net(int(rand() * 2 ^ 32), len)) "/" len }
				else print quad(a) "-" quad(a + int(rand() * 300))
			}
		}
	}'
}

# The same lines as a person would write them: comments, blank lines, stray whitespace.
decorate() {
	awk 'NR % 7 == 0 { print "# a comment line" } NR % 11 == 0 { print "" }
	     NR % 3 == 0 { printf "  %s\t# note %d\n", $0, NR; next }
	     NR % 5 == 0 { printf "\t%s \r\n", $0; next } { print }' "$1"
}

for seed in 1 2 3 4 5; do
	in=$tmp/v4-$seed.txt
	gen_v4 "$seed" 3000 >"$in"
	if ! "$PINHOLE" aggregate "$in" >"$tmp/pinhole.txt" 2>"$tmp/err"; then
		echo "FAIL: seed $seed: pinhole aggregate failed:"; head "$tmp/err"; fail=$((fail + 1))
		continue
	fi
	pass=$((pass + 1))
	# iprange prints single addresses without /32; otherwise both lists are the unique
	# minimal CIDR cover in ascending order, so they must match line for line.
	iprange --optimize "$in" | sed '/\//!s|$|/32|' >"$tmp/iprange.txt"
	same "seed $seed: same CIDR list as iprange --optimize" "$tmp/iprange.txt" "$tmp/pinhole.txt"
	check "seed $seed: same addresses (iprange --diff)" \
		iprange "$tmp/pinhole.txt" --diff "$in" --quiet
	check "seed $seed: same address count" \
		test "$(iprange -C "$in" | cut -d, -f2)" = "$(iprange -C "$tmp/pinhole.txt" | cut -d, -f2)"
	"$PINHOLE" aggregate "$tmp/pinhole.txt" >"$tmp/again.txt"
	same "seed $seed: the output is a fixed point" "$tmp/pinhole.txt" "$tmp/again.txt"
	decorate "$in" >"$tmp/decorated.txt"
	"$PINHOLE" aggregate <"$tmp/decorated.txt" >"$tmp/stdin.txt"
	same "seed $seed: comments, blanks and whitespace change nothing" "$tmp/pinhole.txt" "$tmp/stdin.txt"
	head -n 1000 "$in" >"$tmp/part1.txt"
	tail -n +1001 "$in" >"$tmp/part2.txt"
	"$PINHOLE" aggregate "$tmp/part1.txt" - <"$tmp/part2.txt" >"$tmp/split.txt"
	same "seed $seed: several files are one union" "$tmp/pinhole.txt" "$tmp/split.txt"
done

# IPv6 cases worked out by hand: input lines | expected lines.
v6_case() {	# description, input (\n-separated), expected (\n-separated)
	printf '%b\n' "$2" >"$tmp/in6.txt"
	printf '%b\n' "$3" >"$tmp/want6.txt"
	"$PINHOLE" aggregate "$tmp/in6.txt" >"$tmp/got6.txt" 2>&1
	same "IPv6: $1" "$tmp/want6.txt" "$tmp/got6.txt"
}
v6_case "halves merge" '2001:db8::/33\n2001:db8:8000::/33' '2001:db8::/32'
v6_case "a range splits" '2001:db8::1-2001:db8::6' \
	'2001:db8::1/128\n2001:db8::2/127\n2001:db8::4/127\n2001:db8::6/128'
v6_case "the whole space" '::/1\n8000::/1' '::/0'
v6_case "the top address" \
	'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\nffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe' \
	'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127'
v6_case "IPv4 first, mapped addresses stay IPv6" \
	'2001:db8::/32\n192.0.2.0/24\n::ffff:192.0.2.0/120' \
	'192.0.2.0/24\n::ffff:192.0.2.0/120\n2001:db8::/32'
v6_case "canonical text (RFC 5952)" '2001:DB8:0:0:0:0:0:0/32' '2001:db8::/32'
v6_case "a range that is one prefix" 'fe80::-fe80::ffff:ffff:ffff:ffff' 'fe80::/64'
v6_case "a chain of siblings" \
	'2001:db8::/48\n2001:db8:1::/48\n2001:db8:2::/47\n2001:db8:4::/46' '2001:db8::/45'

# IPv6 against brute force: random prefixes and ranges in the window 2001:db8::/118
# (offsets 0..1023 live in the last group), the expected cover computed from a bitmap.
gen_v6_window() {	# seed count input-file expected-file
	awk -v seed="$1" -v n="$2" -v in_file="$3" -v want_file="$4" '
	function a(x) { return x ? sprintf("2001:db8::%x", x) : "2001:db8::" }
	BEGIN {
		srand(seed)
		for (i = 0; i < n; i++) {
			if (rand() < 0.5) {
				host = int(rand() * 11); lo = int(rand() * 1024)
				lo -= lo % 2 ^ host; hi = lo + 2 ^ host - 1
				print a(lo) "/" (128 - host) > in_file
			} else {
				lo = int(rand() * 1024); hi = lo + int(rand() * (1024 - lo) * rand() * rand())
				print a(lo) "-" a(hi) > in_file
			}
			for (x = lo; x <= hi; x++) on[x] = 1
		}
		for (x = 0; x < 1024;) {
			if (!on[x]) { x++; continue }
			k = 0
			for (t = 1; t <= 10 && x % 2 ^ t == 0; t++) {
				all = 1
				for (y = x; y < x + 2 ^ t; y++) if (!on[y]) { all = 0; break }
				if (!all) break
				k = t
			}
			print a(x) "/" (128 - k) > want_file
			x += 2 ^ k
		}
	}'
}
for seed in 11 12 13 14 15 16 17 18; do
	gen_v6_window "$seed" $((seed * 3)) "$tmp/w6.txt" "$tmp/w6-want.txt"
	"$PINHOLE" aggregate "$tmp/w6.txt" >"$tmp/w6-got.txt" 2>&1
	same "IPv6 window seed $seed matches a bitmap" "$tmp/w6-want.txt" "$tmp/w6-got.txt"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
