#!/bin/bash
# bench/apply.sh — pinhole apply (netlink) against nft -f, in fresh network namespaces.
#
#   bench/apply.sh PINHOLE [SIZES...]      default sizes: 100000; add 1000000 for the big run
#
# For every size N (one interval set of N disjoint /24s, one rule):
#   full       nft -f of `pinhole compile`'s script  vs  pinhole apply, into an empty namespace
#   reapply    pinhole apply of the same file again (nothing to do; must send nothing)
#   reapply edited  the same policy from another text (a comment appended): compiled and
#              compared with the last-applied state
#   delta 1%   N/100 prefixes replaced in place (N/100 out, N/100 in), then pinhole apply
# Wall time and peak RSS come from /usr/bin/time; each measurement is the median of RUNS
# (default 3) runs, interleaved, each in its own `unshare -n` namespace, so the host's
# ruleset is never touched. "kernel" is commits (generation ids) / batch messages / size.
set -euo pipefail
PINHOLE=$(realpath "${1:?usage: bench/apply.sh PATH_TO_PINHOLE [SIZES...]}")
shift
SIZES=${*:-100000}
RUNS=${RUNS:-3}
command -v nft >/dev/null && command -v jq >/dev/null && [ -x /usr/bin/time ] && unshare -n true ||
	{ echo "needs nft, jq, /usr/bin/time and unshare -n (root)" >&2; exit 1; }

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

# One fresh namespace per run: prepare with $1 (shell code), then time $2. Prints the
# seconds and KiB of one run.
once() {
	rm -rf "$PINHOLE_STATE_DIR"
	unshare -n bash -c "set -e; $(declare -f timed); work=$work; $1; timed $2"
}

# Runs pairs of (prep, command) RUNS times, interleaved so that the machine's load hits
# every contender alike; prints "median_s median_kib" per pair, one line each.
measure() {
	local r i n=$(($# / 2))
	rm -f "$work"/runs.*
	for r in $(seq "$RUNS"); do
		for i in $(seq 0 $((n - 1))); do
			local a=$((2 * i + 1)) b=$((2 * i + 2))
			once "${!a}" "${!b}" >>"$work/runs.$i"
		done
	done
	for i in $(seq 0 $((n - 1))); do
		echo "$(cut -d' ' -f1 "$work/runs.$i" | median) $(cut -d' ' -f2 "$work/runs.$i" | median)"
	done
}

# What the kernel changed while apply ran after $1, in one namespace: how many commits
# (generation ids; 0 means the kernel was not touched) and the size of the batch apply sent.
changes() {
	unshare -n bash -c "set -e; $1
		gen() { $PINHOLE show -t no_such_table --format json | jq .generation; }
		g0=\$(gen); $PINHOLE apply $work/cur.rules >$work/out; g1=\$(gen)
		echo \$((g1 - g0)) \$(grep -o '[0-9]* messages, [0-9]* bytes' $work/out || echo 0 messages, 0 bytes)" |
		awk '{ printf "%dc %dm %.0fK", $1, $2, $4 / 1024 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
row() { printf "%-9s %-14s %8s %8s %22s %16s\n" "$@"; }

row size case "wall s" "RSS MiB" "ratio" "kernel"
for n in $SIZES; do
	gen "$n" 0 >"$work/base.rules"
	gen "$n" 1 >"$work/delta.rules"
	"$PINHOLE" compile -o "$work/base.nft" "$work/base.rules"
	cp "$work/base.rules" "$work/cur.rules"
	apply="$PINHOLE apply -q $work/cur.rules"
	base="cp $work/base.rules $work/cur.rules"
	edit="$base; $apply; echo '# same policy, other text' >>$work/cur.rules"
	delta="$base; $apply; cp $work/delta.rules $work/cur.rules"
	{ read -r nft_s nft_k; read -r full_s full_k; } < <(measure true "nft -f $work/base.nft" "$base" "$apply")
	{ read -r re_s re_k; read -r ed_s ed_k; read -r d_s d_k; } < <(measure "$base; $apply" "$apply" "$edit" "$apply" \
		"$delta" "$apply")
	re_ev=$(changes "$base; $apply")
	ed_ev=$(changes "$edit")
	d_ev=$(changes "$delta")
	full_ev=$(changes "$base")
	row "$n" "nft -f" "$nft_s" "$(mib "$nft_k")" "1" "-"
	row "$n" "apply" "$full_s" "$(mib "$full_k")" "$(ratio "$full_s" "$nft_s")x time $(ratio "$full_k" "$nft_k")x mem" "$full_ev"
	row "$n" "reapply" "$re_s" "$(mib "$re_k")" "$(ratio "$re_s" "$full_s") of apply" "$re_ev"
	row "$n" "reapply edited" "$ed_s" "$(mib "$ed_k")" "$(ratio "$ed_s" "$full_s") of apply" "$ed_ev"
	row "$n" "delta 1%" "$d_s" "$(mib "$d_k")" "$(ratio "$d_s" "$full_s") of apply" "$d_ev"
done
