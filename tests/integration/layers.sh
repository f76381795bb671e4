#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every #include "..." of the source folders follows the arrows that the pinhole_layer()
# lines of CMakeLists.txt declare (the README's Layout section draws them): a file may
# include the headers of its own folder, and the public headers (not *_internal.h) of the
# folders its folder uses, directly or through another; cli/ may use every folder. No
# include names a path. The compiler proves the same for a sample of arrows
# (tests/layers/); this checks every include of every file.
set -euo pipefail
cd "${LAYERS_ROOT:-$(dirname "$0")/../..}"

declare -A uses
layers=()
while read -r name deps; do
	layers+=("$name")
	uses[$name]=$deps
done < <(sed -n 's/^pinhole_layer(\([a-z]*\)\(.*\))$/\1\2/p' CMakeLists.txt)
[ "${#layers[@]}" -ge 5 ] || { echo "layers.sh: no pinhole_layer() lines found in CMakeLists.txt"; exit 1; }

# The folders name may use: its own deps and theirs (declared lowest first, so each dep's
# closure is known when it is needed).
declare -A reach
for l in "${layers[@]}"; do
	r=""
	for d in ${uses[$l]}; do
		[ -n "${reach[$d]+x}" ] || { echo "layers.sh: $l uses $d, which is not declared before it"; exit 1; }
		r="$r $d ${reach[$d]}"
	done
	reach[$l]=$(tr " " "\n" <<<"$r" | sort -u | xargs)
done
reach[cli]="${layers[*]}"

# Which folder holds header h, and whether it is public.
home() { for l in "${layers[@]}" cli; do [ -e "$l/$1" ] && { echo "$l"; return; }; done; }

bad=0
for folder in "${layers[@]}" cli; do
	for f in "$folder"/*.[ch]; do
		while IFS=: read -r line inc; do
			at="$f:$line"
			if [[ $inc == */* ]]; then
				echo "$at: includes \"$inc\": name the header, not a path"; bad=1; continue
			fi
			[ -e "$folder/$inc" ] && continue
			h=$(home "$inc")
			if [ -z "$h" ]; then
				echo "$at: includes \"$inc\", which no source folder holds"; bad=1
			elif [[ " ${reach[$folder]} " != *" $h "* ]]; then
				echo "$at: includes \"$inc\" of $h/, but $folder/ may use only: ${reach[$folder]:-nothing of ours}"; bad=1
			elif [[ $inc == *_internal.h ]]; then
				echo "$at: includes \"$inc\", internal to $h/"; bad=1
			fi
		done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | sed 's/^\([0-9]*\):.*"\(.*\)".*/\1:\2/')
	done
done
[ "$bad" = 0 ] || exit 1
echo "layers: every include of ${layers[*]} cli follows the arrows"
[ -n "${LAYERS_ROOT:-}" ] && exit 0

# The check itself: a copy of the tree with one bad include planted at a time must fail,
# naming the file and line.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
plant() { # FILE INCLUDE EXPECTED-MESSAGE
	rm -rf "$tmp/t" && mkdir "$tmp/t"
	cp -r CMakeLists.txt "${layers[@]}" cli "$tmp/t/"
	printf '#include "%s"\n' "$2" >>"$tmp/t/$1"
	if out=$(LAYERS_ROOT="$tmp/t" bash "$0" 2>&1); then
		echo "layers.sh did not notice #include \"$2\" in $1"; exit 1
	fi
	grep -qF "$1:" <<<"$out" && grep -qF "$3" <<<"$out" || { echo "layers.sh said, for $2 in $1: $out"; exit 1; }
}
plant compiler/arena.c backend.h "compiler/ may use only: nothing of ours"
plant matcher/dns.c guard_run.h "of guard/, but matcher/ may use only: compiler"
plant backends/pf.c diff.h "of review/"
plant guard/guard_log.c nft_netlink_internal.h "internal to backends/"
plant review/diff.c ../backends/backend.h "name the header, not a path"
plant apply/remove.c guard_stats.h "of guard/, but apply/ may use only: backends compiler"
echo "layers: planted bad includes are refused"
