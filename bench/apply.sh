#!/bin/bash
# bench/apply.sh — pinhole apply (netlink) against nft -f, in fresh network namespaces.
#
#   bench/apply.sh PINHOLE [SIZES...]      default sizes: 100000; add 1000000 for the big run
#
# For every size N (one interval set of N disjoint /24s, one rule):
#   full       nft -f of `pinhole compile`'s script  vs  pinhole apply, into an empty namespace
#   reapply    pinhole apply of the same file again (nothing to do; must send nothing)
#   delta 1%   N/100 prefixes replaced in place (N/100 out, N/100 in), then pinhole apply
# Wall time and peak RSS come from /usr/bin/time; each measurement is the median of RUNS
# (default 3) runs, each in its own `unshare -n` namespace, so the host's ruleset is never
# touched. Kernel changes are counted with nft monitor inside the namespace.
set -euo pipefail
PINHOLE=$(realpath "${1:?usage: bench/apply.sh PATH_TO_PINHOLE [SIZES...]}")
shift
SIZES=${*:-100000}
RUNS=${RUNS:-3}
command -v nft >/dev/null && [ -x /usr/bin/time ] && unshare -n true ||
	{ echo "needs nft, /usr/bin/time and unshare -n (root)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PINHOLE_STATE_DIR=$work/state PINHOLE_RUN_DIR=$work/run

# N disjoint /24s from 1.0.0.0 on, every other one; with SHIFT, every 100th line is replaced
# by a prefix far away (the same line, so the other lines keep their comments).
gen() {
	awk -v n="$1" -v shift="$2" 'BEGIN { print "set big {"
		for (i = 0; i < n; i++) {
			k = (shift && i % 100 == 99) ? i + 2 * n : i
			a = 16777216 + k * 512
			printf "\t%d.%d.%d.0/24\n", int(a / 16777216) % 256, int(a / 65536) % 256, int(a / 256) % 256
		}
		print "}"; print "allow in from @big tcp port 25" }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Runs "$@" under /usr/bin/time inside the current namespace; prints "seconds kib".
timed() {
	/usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; return 1; }
	cat "$work/time"
}

# One fresh namespace per run: prepare with $1 (shell code), then time $2.
measure() {
	local prep=$1 cmd=$2 r
	for r in $(seq "$RUNS"); do
		rm -rf "$PINHOLE_STATE_DIR"
		unshare -n bash -c "set -e; $(declare -f timed); work=$work; $prep; timed $cmd"
	done >"$work/runs"
	echo "$(cut -d' ' -f1 "$work/runs" | median) $(cut -d' ' -f2 "$work/runs" | median)"
}

# What the kernel changed while $2 ran after $1, in one namespace, as nft monitor saw it:
# prefixes added or deleted, and other object events.
changes() {
	unshare -n bash -c "set -e; $1; nft monitor >$work/mon 2>&1 & m=\$!; sleep 0.3; $2 >/dev/null; sleep 0.5;
		kill \$m"
	local elems others
	elems=$(grep -e '^create element' -e '^delete element' "$work/mon" | grep -o '[0-9.]*/24' | wc -l)
	others=$(grep -v -e '^create element' -e '^delete element' -e '^# new generation' -e '^$' "$work/mon" | wc -l)
	echo "${elems}e+${others}o"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

printf "%-9s %-10s %10s %10s %12s %10s\n" size case "wall s" "RSS MiB" "vs nft -f" "kernel ev"
for n in $SIZES; do
	gen "$n" 0 >"$work/base.rules"
	gen "$n" 1 >"$work/delta.rules"
	"$PINHOLE" compile -o "$work/base.nft" "$work/base.rules"
	cp "$work/base.rules" "$work/cur.rules"
	read -r nft_s nft_k <<<"$(measure true "nft -f $work/base.nft")"
	read -r full_s full_k <<<"$(measure true "$PINHOLE apply -q $work/cur.rules")"
	read -r re_s re_k <<<"$(measure "$PINHOLE apply -q $work/cur.rules" "$PINHOLE apply -q $work/cur.rules")"
	re_ev=$(changes "$PINHOLE apply -q $work/cur.rules" "$PINHOLE apply -q $work/cur.rules")
	prep="cp $work/base.rules $work/cur.rules; $PINHOLE apply -q $work/cur.rules; cp $work/delta.rules $work/cur.rules"
	read -r d_s d_k <<<"$(measure "$prep" "$PINHOLE apply -q $work/cur.rules")"
	d_ev=$(changes "$prep" "$PINHOLE apply -q $work/cur.rules")
	cp "$work/base.rules" "$work/cur.rules"
	mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
	printf "%-9s %-10s %10s %10s %12s %10s\n" "$n" "nft -f" "$nft_s" "$(mib "$nft_k")" "1.00" "-"
	printf "%-9s %-10s %10s %10s %12s %10s\n" "$n" "apply" "$full_s" "$(mib "$full_k")" \
		"$(ratio "$full_s" "$nft_s") t, $(ratio "$full_k" "$nft_k") m" "-"
	printf "%-9s %-10s %10s %10s %12s %10s\n" "$n" "reapply" "$re_s" "$(mib "$re_k")" \
		"$(ratio "$re_s" "$full_s") of apply" "$re_ev"
	printf "%-9s %-10s %10s %10s %12s %10s\n" "$n" "delta 1%" "$d_s" "$(mib "$d_k")" \
		"$(ratio "$d_s" "$full_s") of apply" "$d_ev"
done
