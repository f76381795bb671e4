#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/apply.sh — pinhole apply (netlink) against nft -f, in fresh network namespaces.
#
#   bench/apply.sh PINHOLE [SIZES...]      default sizes: 100000; add 1000000 for the big run
#
# For every size N (one interval set of N disjoint /24s, a set of names for the guard, two
# rules), each case in a fresh namespace after a full apply of the base file:
#   full         nft -f of `pinhole compile`'s script  vs  pinhole apply, into an empty namespace
#   reapply      the same file again (nothing to do; must send nothing)
#   churn 1%     every 100th line deleted and N/100 new prefixes inserted in sorted order
#                (every line after the first edit moves), then pinhole apply
#   comment top  a comment line added at the top (every line moves; the policy does not)
#   other path   the same file applied from another directory
#   after guard  100 commits as pinhole guard makes them (elements with timeouts into the
#                _dns set, bench/guard_commits.c) first, the guard's record in place
#   churn+mon    the 1% churn while an idle `nft monitor` is subscribed
# Wall time and peak RSS come from /usr/bin/time; each measurement is the median of RUNS
# (default 3) runs, interleaved, each in its own `unshare -n` namespace, so the host's
# ruleset is never touched. "kernel" is commits (generation ids) / batch messages / size /
# elements the batch adds+deletes (from apply's plan: the batch, not notifications).
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

# N disjoint /24s from 1.0.0.0 on, every fourth one. With CHURN, every 100th line is deleted
# and a new /24 is inserted, in sorted order, into the gap after every 100th prefix (not
# next to a neighbour it would merge with): the lines between two edits shift, as a
# person's edit shifts them.
gen() {
	awk -v n="$1" -v churn="$2" 'function line(a) {
			printf "\t%d.%d.%d.0/24\n", int(a / 16777216) % 256, int(a / 65536) % 256, int(a / 256) % 256 }
		BEGIN { print "set web { *.example.com }"; print "set big {"
		for (i = 0; i < n; i++) {
			a = 16777216 + i * 1024
			if (!churn || i % 100 != 99)
				line(a)
			if (churn && i % 100 == 49)
				line(a + 512)
		}
		print "}"; print "allow in from @big tcp port 25"; print "allow out to @web tcp port 443" }'
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
	rm -rf "$PINHOLE_STATE_DIR" "$PINHOLE_RUN_DIR"/guard.generations
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

# What the kernel changed while apply (of $2, default cur.rules) ran after $1, in one
# namespace: how many commits (generation ids; 0: the kernel was not touched), the size of
# the batch apply sent, the elements it added+deleted, and whether apply dumped the sets.
changes() {
	unshare -n bash -c "set -e; $1
		gen() { $PINHOLE show -t no_such_table --format json | jq .generation; }
		g0=\$(gen); $PINHOLE apply ${2:-$work/cur.rules} >$work/out; g1=\$(gen)
		echo \$((g1 - g0)) \$(grep -o '[0-9]* messages, [0-9]* bytes' $work/out || echo 0 messages, 0 bytes) \
			\$(grep -o '[0-9]* elements to add, [0-9]* to delete' $work/out || echo 0 elements to add, 0 to delete) \
			\$(grep -q 'read from the kernel' $work/out && echo dump || echo nodump)" |
		awk '{ printf "%dc %dm %.0fK %d+%de %s", $1, $2, $4 / 1024, $6, $10, $13 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
row() { printf "%-9s %-12s %8s %8s %30s %s\n" "$@"; }

# 100 commits as the guard makes them (bench/guard_commits.c, through the guard's own
# netlink path): learnt addresses with a timeout into the _dns set, each its own batch, and
# the guard's record of its generations where apply looks for it.
. "$(dirname "$0")/libs.sh"
cc -O2 -o "$work/guard_commits" "$(dirname "$0")/guard_commits.c" $(pinhole_link "$(dirname "$PINHOLE")") \
	$(pkg-config --cflags --libs libpcre2-8 libpsl libidn2 jansson libpcap libnftnl libmnl) -lm
mkdir -p -m 0700 "$PINHOLE_RUN_DIR"
guard_commits() {
	echo "$work/guard_commits pinhole web_dns_v4 100 $PINHOLE_RUN_DIR/guard.generations"
}

row size case "wall s" "RSS MiB" "ratio" "kernel"
for n in $SIZES; do
	gen "$n" 0 >"$work/base.rules"
	gen "$n" 1 >"$work/churn.rules"
	"$PINHOLE" compile -o "$work/base.nft" "$work/base.rules"
	mkdir -p "$work/other"
	cp "$work/base.rules" "$work/cur.rules"
	apply="$PINHOLE apply -q $work/cur.rules"
	base="cp $work/base.rules $work/cur.rules"
	ready="$base; $apply"
	churn="$ready; cp $work/churn.rules $work/cur.rules"
	top="$ready; { echo '# a comment at the top'; cat $work/base.rules; } >$work/cur.rules"
	other="$ready; cp $work/base.rules $work/other/cur.rules"
	guard="$ready; $(guard_commits)"
	mon="$churn; nft monitor >/dev/null 2>&1 & trap \"kill \$!\" EXIT; sleep 0.3"
	apply_other="$PINHOLE apply -q $work/other/cur.rules"
	{ read -r nft_s nft_k; read -r full_s full_k; } < <(measure true "nft -f $work/base.nft" "$base" "$apply")
	{ read -r re_s re_k; read -r ch_s ch_k; read -r top_s top_k; read -r ot_s ot_k; read -r gu_s gu_k
	  read -r mo_s mo_k; } < <(measure "$ready" "$apply" "$churn" "$apply" "$top" "$apply" "$other" \
		"$apply_other" "$guard" "$apply" "$mon" "$apply")
	row "$n" "nft -f" "$nft_s" "$(mib "$nft_k")" "1" "-"
	row "$n" "apply" "$full_s" "$(mib "$full_k")" "$(ratio "$full_s" "$nft_s")x time $(ratio "$full_k" "$nft_k")x mem" "$(changes "$base")"
	row "$n" "reapply" "$re_s" "$(mib "$re_k")" "$(ratio "$re_s" "$full_s") of apply" "$(changes "$ready")"
	row "$n" "churn 1%" "$ch_s" "$(mib "$ch_k")" "$(ratio "$ch_s" "$full_s") of apply" "$(changes "$churn")"
	row "$n" "comment top" "$top_s" "$(mib "$top_k")" "$(ratio "$top_s" "$full_s") of apply" "$(changes "$top")"
	row "$n" "other path" "$ot_s" "$(mib "$ot_k")" "$(ratio "$ot_s" "$full_s") of apply" "$(changes "$other" "$work/other/cur.rules")"
	row "$n" "after guard" "$gu_s" "$(mib "$gu_k")" "$(ratio "$gu_s" "$full_s") of apply" "$(changes "$guard")"
	row "$n" "churn+mon" "$mo_s" "$(mib "$mo_k")" "$(ratio "$mo_s" "$full_s") of apply" "$(changes "$mon")"
done
