# SPDX-License-Identifier: GPL-2.0-or-later
# netlink_lib.bash — sourced by tests/integration/netlink_*.sh (not a test itself: ctest runs
# *.sh only). Every case runs in its own fresh network namespace: the script re-executes
# itself under `unshare -n` with --case NAME, so nothing here reads or touches the host's
# ruleset. Cases print "PASS: ..." / "FAIL: ..." lines; the outer run counts them and ends
# with "N passed, M failed".
#
# A test script sets CASES="name1 name2 ..." and defines case_name1 ... then calls nl_main.
set -u

nl_skip() {
	echo "SKIP: $*"
	exit 77
}

PINHOLE=$(realpath "${1:?usage: $0 PATH_TO_PINHOLE}")
NL_CASE=${3:-}

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; }
# expect DESCRIPTION COMMAND...: PASS when the command succeeds
expect() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}
# expect_status DESCRIPTION STATUS COMMAND...: PASS when the command exits with STATUS
expect_status() {
	local desc=$1 want=$2 got
	shift 2
	"$@"
	got=$?
	if [ "$got" -eq "$want" ]; then pass "$desc"; else fail "$desc (exit $got, wanted $want)"; fi
}

# The whole ruleset as nft -j sees it, without handles and the metainfo header: what two
# rulesets with the same objects have in common, element by element. Sets are sorted by
# name (a set made again moves to the end of the listing); rules keep their order.
NL_NORMALIZE='[.[] | select(has("metainfo") | not)] | walk(if type == "object" then del(.handle) else . end) |
	(map(select(.set)) | sort_by(.set.family, .set.table, .set.name)) + map(select(.set | not))'
ruleset_json() {
	nft -j list ruleset | jq -S ".nftables | $NL_NORMALIZE"
}
# Only what is not in table inet NAME (default pinhole): what pinhole must never touch.
others_json() {
	local t=${1:-pinhole}
	ruleset_json | jq -S --arg t "$t" '[.[] | select((.[]? | .table? // .name?) != $t or
		(.[]? | .family?) != "inet")]'
}
# The elements of a set as sorted "prefix comment" lines (nft -j writes an element as a
# string, a {"prefix"} or {"range"} object, or an {"elem"} object with its comment).
set_elems() {
	nft -j list set inet "$1" "$2" | jq -r 'def v: if type == "object" then
			(if .prefix then "\(.prefix.addr)/\(.prefix.len)" elif .range then "\(.range[0])-\(.range[1])"
			 else tostring end) else tostring end;
		.nftables[1].set.elem // [] | .[] |
		if type == "object" and .elem then (.elem.val | v) + " " + (.elem.comment // "") else v end' | sort
}

# What the nft text backend's script makes in another fresh namespace: the reference.
reference_json() {
	local rules=$1
	"$PINHOLE" compile -o "$NL_TMP/ref.nft" "$rules" || return 1
	unshare -n bash -c "nft -f '$NL_TMP/ref.nft' && nft -j list ruleset" | jq -S ".nftables | $NL_NORMALIZE"
}

# apply and guard refuse a policy whose parameters are not set (pinhole.rules(5), PARAMETERS),
# and these cases apply the shipped rules/marketo.rules and copies of it: the cases run a
# wrapper that gives apply and guard -D NAME=EXAMPLE for each 'param' of the rules file, the
# vendor document's examples as the customer's values. Other commands go straight through.
nl_params_wrapper() {
	cat >"$NL_TMP/pinhole" <<WRAPPER
#!/bin/bash
case "\$1" in apply | guard) ;; *) exec "$PINHOLE" "\$@" ;; esac
defs=()
for a in "\$@"; do
	case \$a in *.rules) [ -f "\$a" ] || continue ;; *) continue ;; esac
	while IFS= read -r d; do defs+=(-D "\$d"); done < <(sed -n 's/^param \([A-Za-z0-9_]*\) "[^"]*" example "\{0,1\}\([^"]*\)"\{0,1\}\$/\1=\2/p' "\$a")
done
exec "$PINHOLE" "\$1" "\${defs[@]}" "\${@:2}"
WRAPPER
	chmod 755 "$NL_TMP/pinhole"
	PINHOLE=$NL_TMP/pinhole
}

nl_main() {
	if [ -n "$NL_CASE" ]; then
		export PINHOLE_STATE_DIR=$NL_TMP/state-$NL_CASE PINHOLE_RUN_DIR=$NL_TMP/run-$NL_CASE
		"case_$NL_CASE"
		exit 0
	fi
	command -v nft >/dev/null && command -v jq >/dev/null || nl_skip "needs nft and jq (scripts/deps.sh --test)"
	unshare -n true 2>/dev/null || nl_skip "needs permission for unshare -n (root)"
	NL_TMP=$(mktemp -d)
	export NL_TMP
	trap 'rm -rf "$NL_TMP"' EXIT
	nl_params_wrapper
	local src=$PWD pass=0 fail=0 c out
	for c in $CASES; do
		out=$(cd "$src" && unshare -n bash "$0" "$PINHOLE" --case "$c" 2>&1)
		local p f
		p=$(grep -c '^PASS: ' <<<"$out")
		f=$(grep -c '^FAIL: ' <<<"$out")
		if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
			f=1
			out="$out
FAIL: case $c reported nothing"
		fi
		pass=$((pass + p))
		fail=$((fail + f))
		[ "$f" -gt 0 ] && { echo "--- case $c:"; echo "$out"; }
	done
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
