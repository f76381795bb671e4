#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The matcher's benchmarks (results in bench/README.md, section "Matcher"):
#   bash bench/match.sh [BUILD_DIR]     (default build/; needs libhyperscan-dev)
# 1. domain lookups/s at 100, 10,000, 100,000 patterns: pinhole's domset, a PCRE2-JIT
#    alternation (split into the fewest regexes PCRE2 accepts) and Hyperscan, same data;
#    Hyperscan at 100,000 only with BENCH_FULL=1 (its compile takes minutes);
# 2. ClientHellos parsed + matched per second from memory;
# 3. DNS answers parsed per second from memory (2 to 1,000 addresses);
# 4. the whole process: pinhole match --rules R - over 1,000,000 names with 100,000 patterns.
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
echo "== whole process: pinhole match --rules R - (100,000 patterns, 1,000,000 names)"
"$tmp/match_lookup" gen 100000 "$tmp/bench.rules" "$tmp/names" 1000000
for run in 1 2 3; do
	/usr/bin/time -f "run $run: %e s wall, %M KB max RSS" "$build/pinhole" match --rules "$tmp/bench.rules" - \
		<"$tmp/names" >"$tmp/out"
done
echo "verdicts: $(wc -l <"$tmp/out") lines, $(grep -c allow "$tmp/out") allowed"
