#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Diff benchmark (issue 5 target): `pinhole diff` of two 100,000-prefix policies takes less
# than 2x the time of compiling one of them (`pinhole compile -b nft` and `-b json` of the
# old file, to standard output), all whole-process, same files, same run.
#   old: 100,000 random IPv4 prefixes (bench/gen_prefixes.c, seed 42)
#   new: the same minus every 100th line, plus 1,000 others (seed 43): a 1% churn
#   shuffled: old's lines in another order (an empty diff)
# Usage: bench/diff.sh [PATH_TO_PINHOLE]   (default build/pinhole; needs hyperfine, jq, bc)
set -euo pipefail
cd "$(dirname "$0")/.."
PINHOLE=$(realpath "${1:-build/pinhole}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cc -O2 -o "$work/gen" bench/gen_prefixes.c
"$work/gen" v4 100000 42 >"$work/p.txt"
policy() { echo "set big {"; cat; echo "}"; echo "allow out to @big tcp port 443"; }
policy <"$work/p.txt" >"$work/old.rules"
{ awk 'NR % 100 != 0' "$work/p.txt"; "$work/gen" v4 1000 43; } | policy >"$work/new.rules"
# A fixed-key shuffle, so every run diffs the same files.
awk 'BEGIN { srand(7) } { print rand() "\t" $0 }' "$work/p.txt" | sort -k1,1 | cut -f2 | policy >"$work/shuffled.rules"

hyperfine -N --warmup 2 --runs 20 --export-json "$work/r.json" \
	-n compile-nft "$PINHOLE compile -b nft $work/old.rules" \
	-n compile-json "$PINHOLE compile -b json $work/old.rules" \
	-n diff "$PINHOLE diff --exit-zero $work/old.rules $work/new.rules" \
	-n diff-shuffled "$PINHOLE diff --exit-zero $work/old.rules $work/shuffled.rules"

mean() { jq -r ".results[] | select(.command == \"$1\") | .mean" "$work/r.json"; }
cpu() { jq -r ".results[] | select(.command == \"$1\") | .user + .system" "$work/r.json"; }
ratio() { echo "$1 / $2" | bc -l; }
nft=$(mean compile-nft) json=$(mean compile-json) diff=$(mean diff) shuf=$(mean diff-shuffled)
"$PINHOLE" diff --exit-zero "$work/old.rules" "$work/new.rules" | tail -n 1
"$PINHOLE" diff --exit-zero "$work/old.rules" "$work/shuffled.rules" | tail -n 1
printf '\n100k prefixes, wall: compile nft %.1f ms, compile json %.1f ms, diff %.1f ms, diff shuffled %.1f ms\n' \
	"$(echo "$nft * 1000" | bc -l)" "$(echo "$json * 1000" | bc -l)" "$(echo "$diff * 1000" | bc -l)" \
	"$(echo "$shuf * 1000" | bc -l)"
printf 'ratio diff/compile-nft: %.2f  diff/compile-json: %.2f  diff-shuffled/compile-nft: %.2f  (target < 2)\n' \
	"$(ratio "$diff" "$nft")" "$(ratio "$diff" "$json")" "$(ratio "$shuf" "$nft")"
printf 'CPU (user+sys) ratio diff/compile-nft: %.2f  (the two sides compile on two threads)\n' \
	"$(ratio "$(cpu diff)" "$(cpu compile-nft)")"
printf 'load average during the run: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
