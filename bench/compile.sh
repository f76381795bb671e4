#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Compile-time benchmark (issue 2 targets):
#   - compiling rules/marketo.rules takes well under 10 ms (whole process);
#   - compiling a 1,000,000-prefix rules file stays within 2x of `pinhole aggregate` on the
#     same prefixes (both whole process, same input, same run).
# Usage: bench/compile.sh [PATH_TO_PINHOLE]   (default build/pinhole; needs hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
PINHOLE=$(realpath "${1:-build/pinhole}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cc -O2 -o "$work/gen" bench/gen_prefixes.c
"$work/gen" v4 1000000 42 >"$work/p.txt"
{ echo "set big {"; cat "$work/p.txt"; echo "}"; echo "allow out to @big tcp port 443"; } >"$work/big.rules"

hyperfine -N --warmup 5 --runs 100 --export-json "$work/small.json" \
	"$PINHOLE compile rules/marketo.rules"
# Both write to standard output, redirected to a file: like for like. (compile -o adds an
# fsync of the ~15 MB script before its rename; that is measured separately.)
hyperfine --warmup 1 --runs 5 --export-json "$work/big.json" \
	-n aggregate "$PINHOLE aggregate $work/p.txt >$work/agg.out" \
	-n compile-nft "$PINHOLE compile $work/big.rules >$work/out.nft" \
	-n compile-nft-o "$PINHOLE compile -o $work/out2.nft $work/big.rules" \
	-n check "$PINHOLE check $work/big.rules"

mean() { jq -r ".results[] | select(.command == \"$2\") | .mean" "$1"; }
agg=$(mean "$work/big.json" aggregate)
nft=$(mean "$work/big.json" compile-nft)
chk=$(mean "$work/big.json" check)
nfto=$(mean "$work/big.json" compile-nft-o)
small=$(jq -r '.results[0].mean' "$work/small.json")
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1; }
printf '\nload average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'marketo.rules compile: %.2f ms\n' "$(echo "$small * 1000" | bc -l)"
printf '1M prefixes: aggregate %.3f s, compile (nft) %.3f s, compile -o (with fsync) %.3f s, check %.3f s\n' \
	"$agg" "$nft" "$nfto" "$chk"
printf 'ratio compile/aggregate: %.2f (target <= 2)   check/aggregate: %.2f\n' \
	"$(echo "$nft / $agg" | bc -l)" "$(echo "$chk / $agg" | bc -l)"
printf 'peak RSS: aggregate %s KiB, compile %s KiB (target <= 65536)\n' \
	"$(rss "$PINHOLE" aggregate "$work/p.txt")" "$(rss "$PINHOLE" compile -o "$work/out2.nft" "$work/big.rules")"
