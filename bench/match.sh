#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The matcher's benchmarks (results in bench/README.md, section "Matcher"):
#   bash bench/match.sh [BUILD_DIR]     (default build/; needs libhyperscan-dev)
# 1. domain lookups/s at 100, 10,000, 100,000 patterns: pinhole's domset, a PCRE2-JIT
#    alternation (split into the fewest regexes PCRE2 accepts) and Hyperscan, same data;
#    Hyperscan at 100,000 only with BENCH_FULL=1 (its compile takes minutes);
# 2. ClientHellos parsed + matched per second from memory;
# 3. DNS answers parsed per second from memory (2 to 1,000 addresses);
# 4. the whole process: pinhole match --rules R - over 1,000,000 names with 100,000 patterns,
#    against bench/match_ref.c (a plain hash table, getline and printf) on the same files,
#    after checking that both print the same verdicts. RUNS=N interleaved runs (default 11).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. bench/libs.sh
cc -O2 -march=native -o "$tmp/match_lookup" bench/match_lookup.c $(pinhole_link "$build") \
	$(pkg-config --cflags --libs libhs libpcre2-8 libpsl libidn2 jansson libpcap libnftnl libmnl) -lm
echo "== lookups (1,000,000 queries, ~10% matching; one core)"
"$tmp/match_lookup" lookup 100
"$tmp/match_lookup" lookup 10000
if [ "${BENCH_FULL:-0}" = 1 ]; then "$tmp/match_lookup" lookup 100000; else "$tmp/match_lookup" lookup 100000 pcre; fi
echo "== ClientHellos"
"$tmp/match_lookup" hello 100000
echo "== DNS answers"
cc -O2 -march=native -o "$tmp/dns_parse" bench/dns_parse.c $(pinhole_link "$build")
"$tmp/dns_parse"
echo "== whole process: pinhole match --rules R - against the plain-hash reference (100,000 patterns, 1,000,000 names)"
"$tmp/match_lookup" gen 100000 "$tmp/bench.rules" "$tmp/names" 1000000
cc -O2 -march=native -o "$tmp/match_ref" bench/match_ref.c
# Same verdicts first: both print NAME<TAB>allow<TAB>FILE:LINE or NAME<TAB>deny<TAB>-.
"$build/pinhole" match --rules "$tmp/bench.rules" - <"$tmp/names" >"$tmp/out" 2>/dev/null || true
"$tmp/match_ref" "$tmp/bench.rules" <"$tmp/names" >"$tmp/out.ref"
cmp -s "$tmp/out" "$tmp/out.ref" || { echo "bench/match.sh: verdicts differ from the reference's" >&2; exit 1; }
echo "verdicts: identical, $(wc -l <"$tmp/out") lines, $(grep -c allow "$tmp/out") allowed"
# Interleaved runs (RUNS, default 11), so the machine's load hits both alike; medians of
# wall and CPU (user + system) seconds and of peak RSS.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for run in $(seq "${RUNS:-11}"); do
	/usr/bin/time -a -o "$tmp/t.pinhole" -f "%e %U %S %M" "$build/pinhole" match --rules "$tmp/bench.rules" - \
		<"$tmp/names" >/dev/null
	/usr/bin/time -a -o "$tmp/t.ref" -f "%e %U %S %M" "$tmp/match_ref" "$tmp/bench.rules" <"$tmp/names" >/dev/null
done
wall=() cpu=() rss=()
for who in pinhole ref; do
	wall[${#wall[@]}]=$(awk '{ print $1 }' "$tmp/t.$who" | median)
	cpu[${#cpu[@]}]=$(awk '{ print $2 + $3 }' "$tmp/t.$who" | median)
	rss[${#rss[@]}]=$(awk '{ print $4 }' "$tmp/t.$who" | median)
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'pinhole match: %s s wall, %s s CPU, %s KB; reference: %s s wall, %s s CPU, %s KB\n' \
	"${wall[0]}" "${cpu[0]}" "${rss[0]}" "${wall[1]}" "${cpu[1]}" "${rss[1]}"
printf 'ratio pinhole/reference: %.2f wall, %.2f CPU (target <= 0.8)\n' \
	"$(echo "${wall[0]} / ${wall[1]}" | bc -l)" "$(echo "${cpu[0]} / ${cpu[1]}" | bc -l)"
