#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Aggregation benchmark: `pinhole aggregate` against `iprange --optimize` (FireHOL) and
# `aggregate` (Debian), on the same fixed-seed input files, after checking that all three
# print the same addresses. Numbers and how to read them: bench/README.md.
#
# Usage: bench/aggregate.sh [PATH_TO_PINHOLE]      (default build/pinhole)
#   RUNS=N            hyperfine runs per command (default 10)
#   BENCH_OUT=DIR     where the hyperfine JSON goes (default build/bench-aggregate)
# Needs: hyperfine, iprange, aggregate, jq, bc, GNU time (apt-get install -y time), cc.
set -euo pipefail
cd "$(dirname "$0")/.."
PINHOLE=$(realpath "${1:-build/pinhole}")
RUNS=${RUNS:-10}
OUT=${BENCH_OUT:-build/bench-aggregate}
for tool in hyperfine iprange aggregate jq bc cc /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench/aggregate.sh: needs $tool" >&2; exit 1; }
done
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- inputs ----------------------------------------------------------------------------
# v4: 1,000,000 IPv4 prefixes; v4-10k: its first 10,000 lines, because `aggregate` is
# superlinear (10k lines 0.6 s, 20k 4 s, 100k 7 min here) and cannot run the full set;
# v6: 100,000 IPv6 prefixes. Every line is ADDR/LEN, which `aggregate` requires.
cc -O2 -o "$work/gen" bench/gen_prefixes.c
"$work/gen" v4 1000000 1 >"$work/v4.txt"
"$work/gen" v6 100000 2 >"$work/v6.txt"
head -n 10000 "$work/v4.txt" >"$work/v4-10k.txt"
cat "$work/v4.txt" "$work/v6.txt" >"$work/mixed.txt"

# ---- same answers first: a fast wrong tool is no result ----------------------------------
fail=0
verify() {	# description, expected file, actual file
	if cmp -s "$2" "$3"; then echo "ok: $1"; else echo "MISMATCH: $1"; fail=1; fi
}
# iprange prints single addresses without /32; otherwise every tool prints the unique
# minimal CIDR list in ascending order, so the files must be identical.
iprange_cidrs() { iprange --optimize "$1" | sed '/\//!s|$|/32|'; }
"$PINHOLE" aggregate "$work/v4.txt" >"$work/p-v4.txt"
iprange_cidrs "$work/v4.txt" >"$work/i-v4.txt"
verify "1M IPv4: pinhole = iprange --optimize ($(wc -l <"$work/p-v4.txt") prefixes)" \
	"$work/i-v4.txt" "$work/p-v4.txt"
if iprange "$work/p-v4.txt" --diff "$work/v4.txt" --quiet; then
	echo "ok: 1M IPv4: pinhole's output covers exactly the input's addresses (iprange --diff)"
else
	echo "MISMATCH: 1M IPv4: iprange --diff finds addresses covered by only one side"; fail=1
fi
"$PINHOLE" aggregate "$work/v4-10k.txt" >"$work/p-10k.txt"
aggregate -q <"$work/v4-10k.txt" >"$work/a-10k.txt"
iprange_cidrs "$work/v4-10k.txt" >"$work/i-10k.txt"
verify "10k IPv4: pinhole = aggregate" "$work/a-10k.txt" "$work/p-10k.txt"
verify "10k IPv4: pinhole = iprange --optimize" "$work/i-10k.txt" "$work/p-10k.txt"
"$PINHOLE" aggregate "$work/v6.txt" >"$work/p-v6.txt"
"$PINHOLE" aggregate "$work/p-v6.txt" >"$work/p-v6-again.txt"
verify "100k IPv6: pinhole's output is a fixed point ($(wc -l <"$work/p-v6.txt") prefixes)" \
	"$work/p-v6.txt" "$work/p-v6-again.txt"
# Neither reference tool reads IPv6: say what they do with it rather than time it.
# (Not the whole file through iprange: it takes '330f:...' for a host name and resolves
# each one over DNS.)
echo "note: iprange 1.0.4 reads 2001:db8::/32 as '$(echo 2001:db8::/32 | iprange --optimize 2>/dev/null)'" \
	"(the number 2001 as IPv4) and looks other IPv6 text up as host names: not timed on IPv6"
echo "note: aggregate on IPv6: $(aggregate -q <"$work/v6.txt" 2>/dev/null | wc -l) lines out" \
	"(it drops IPv6), so it is not timed on IPv6"
[ "$fail" -eq 0 ] || { echo "bench/aggregate.sh: outputs differ; not timing" >&2; exit 1; }

# ---- time -------------------------------------------------------------------------------
load=$(cut -d' ' -f1 /proc/loadavg)
if [ "$(echo "$load > $(nproc)" | bc)" = 1 ]; then
	echo "warning: load average $load on $(nproc) CPUs; the numbers below will be noisy" >&2
fi
hf() { hyperfine --warmup 1 --runs "$RUNS" --style basic "$@"; }
hf --export-json "$OUT/v4-1m.json" \
	-n pinhole "$PINHOLE aggregate $work/v4.txt" \
	-n iprange "iprange --optimize $work/v4.txt"
hf --export-json "$OUT/v4-10k.json" \
	-n pinhole "$PINHOLE aggregate $work/v4-10k.txt" \
	-n iprange "iprange --optimize $work/v4-10k.txt" \
	-n aggregate "aggregate -q < $work/v4-10k.txt"
hf --export-json "$OUT/v6-100k.json" -n pinhole "$PINHOLE aggregate $work/v6.txt"
hf --export-json "$OUT/mixed.json" -n pinhole "$PINHOLE aggregate $work/mixed.txt"

# ---- summary ----------------------------------------------------------------------------
mean() { jq -r ".results[] | select(.command == \"$2\") | .mean" "$OUT/$1.json"; }
ms() { printf '%.1f' "$(echo "$1 * 1000" | bc -l)"; }
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }
rss() { /usr/bin/time -f %M sh -c "$1" 2>&1 >/dev/null | tail -n 1; }	# peak RSS in KiB
p1m=$(mean v4-1m pinhole) i1m=$(mean v4-1m iprange)
p10k=$(mean v4-10k pinhole) i10k=$(mean v4-10k iprange) a10k=$(mean v4-10k aggregate)
p6=$(mean v6-100k pinhole) pmix=$(mean mixed pinhole)
echo
echo "| input | pinhole | iprange --optimize | aggregate | pinhole/iprange | pinhole/aggregate |"
echo "| --- | --- | --- | --- | --- | --- |"
echo "| 1M IPv4 | $(ms "$p1m") ms, $(rss "$PINHOLE aggregate $work/v4.txt") KiB" \
	"| $(ms "$i1m") ms, $(rss "iprange --optimize $work/v4.txt") KiB | not run (superlinear)" \
	"| $(ratio "$p1m" "$i1m") | — |"
echo "| 10k IPv4 | $(ms "$p10k") ms, $(rss "$PINHOLE aggregate $work/v4-10k.txt") KiB" \
	"| $(ms "$i10k") ms, $(rss "iprange --optimize $work/v4-10k.txt") KiB" \
	"| $(ms "$a10k") ms, $(rss "aggregate -q < $work/v4-10k.txt") KiB" \
	"| $(ratio "$p10k" "$i10k") | $(ratio "$p10k" "$a10k") |"
echo "| 100k IPv6 | $(ms "$p6") ms, $(rss "$PINHOLE aggregate $work/v6.txt") KiB | cannot read IPv6 | drops IPv6 | — | — |"
echo "| 1M IPv4 + 100k IPv6 | $(ms "$pmix") ms, $(rss "$PINHOLE aggregate $work/mixed.txt") KiB | — | — | — | — |"
echo
echo "pinhole/iprange on 1M IPv4: $(ratio "$p1m" "$i1m") (target <= 1.0)"
echo "hyperfine JSON: $OUT"
