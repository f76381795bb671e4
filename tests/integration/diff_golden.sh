#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pinhole diff on realistic changes to rules/marketo.rules: every tests/diff/NAME.rules is
# diffed against it in each format and must match tests/diff/NAME.{txt,md,json} byte for
# byte; the exit status must say change (1) or no change (0); jq judges the JSON. Then the
# exit statuses of errors and of --exit-zero, and formatting or shuffling that must not show.
# Regenerate after a deliberate change with:
#   PINHOLE_REGEN=1 bash tests/integration/diff_golden.sh build/pinhole
# and review the diff.
set -u
PINHOLE=${1:?usage: diff_golden.sh PATH_TO_PINHOLE}
regen=${PINHOLE_REGEN:-0}
command -v jq >/dev/null || { echo "SKIP: jq not installed (scripts/deps.sh --test)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
base=rules/marketo.rules
unset NO_COLOR

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

check_golden() {	# what, golden, actual
	[ "$regen" = 1 ] && cp "$3" "$2"
	if cmp -s "$2" "$3"; then ok; else
		bad "$1 differs from $2:"
		diff -u "$2" "$3" | head -n 40
	fi
}

expect_status() {	# what, expected, actual
	if [ "$2" = "$3" ]; then ok; else bad "$1 exited $3, expected $2"; fi
}

# Changes that a packet cannot see: exit 0, whatever the format.
no_change() { case "$1" in reformatted | shuffled) return 0 ;; esac; return 1; }

for rules in tests/diff/*.rules; do
	name=$(basename "$rules" .rules)
	want=1
	no_change "$name" && want=0
	for format in text markdown json; do
		ext=$format; [ "$format" = text ] && ext=txt; [ "$format" = markdown ] && ext=md
		"$PINHOLE" diff --format "$format" "$base" "$rules" >"$tmp/out" 2>"$tmp/err"
		expect_status "diff --format $format $rules" "$want" "$?"
		check_golden "diff --format $format $rules" "tests/diff/$name.$ext" "$tmp/out"
	done
	# The JSON, read by a real JSON parser, agrees with the exit status.
	changed=$(jq -r '.changed' "$tmp/out" 2>&1)
	if { [ "$want" = 1 ] && [ "$changed" = true ]; } || { [ "$want" = 0 ] && [ "$changed" = false ]; }; then ok; else
		bad "jq: .changed of $rules is '$changed'"
	fi
	"$PINHOLE" diff --exit-zero "$base" "$rules" >/dev/null 2>&1
	expect_status "diff --exit-zero $rules" 0 "$?"
done

# What the JSON says about the headline example: 185.28.196.0/22 -> /21 adds exactly the other /22.
got=$(jq -r '[.widening, .sets[0].name, .sets[0].addresses.added[0].prefix, .sets[0].addresses.added_count.v4,
	.sets[0].addresses.added[0].sources[0]] | join(" ")' tests/diff/range_widened.json)
want="true marketo_senders 185.28.192.0/22 1024 tests/diff/range_widened.rules:26"
if [ "$got" = "$want" ]; then ok; else bad "jq on range_widened.json: '$got', expected '$want'"; fi
got=$(jq -r '[.widening, .rules[0].change, (.rules[0].ports_added[0].from|tostring)] | join(" ")' tests/diff/ports_changed.json)
if [ "$got" = "true changed 8443" ]; then ok; else bad "jq on ports_changed.json: '$got'"; fi
got=$(jq -r '[.widening, .sets[0].addresses.removed[0].prefix] | join(" ")' tests/diff/range_narrowed.json)
if [ "$got" = "false 192.28.152.0/21" ]; then ok; else bad "jq on range_narrowed.json: '$got'"; fi

# 3,000 added /32s in marketo_senders and a port opened: the markdown is shortened to fit a
# comment (65,000 characters by default, --max-size N), whole rows and lines only, with a note
# that says what is left out; the text and json formats keep everything. Generated here, in a
# directory of its own so the file names in the golden file are short and stable.
bulk=$tmp/bulk
mkdir "$bulk" && cp "$base" "$bulk/marketo.rules"
awk '{ print } /^set marketo_senders \{$/ {
	for (i = 0; i < 3000; i++) printf "\t198.18.%d.%d/32\n", int(2 * i / 256), (2 * i) % 256 }' "$base" |
	sed 's/tcp port 25 comment/tcp port { 25, 587 } comment/' >"$bulk/bulk.rules"
pinhole_abs=$(realpath "$PINHOLE")
bulk_diff() { (cd "$bulk" && "$pinhole_abs" diff "$@" marketo.rules bulk.rules); }
for max in default 20000; do
	opt=(); golden=tests/diff/bulk_3000.md
	[ "$max" = default ] || { opt=(--max-size "$max"); golden=tests/diff/bulk_3000_$max.md; }
	bulk_diff --format markdown "${opt[@]}" >"$tmp/out" 2>"$tmp/err"
	expect_status "diff --format markdown ${opt[*]} (3,000 prefixes)" 1 "$?"
	check_golden "markdown of 3,000 prefixes ${opt[*]}" "$golden" "$tmp/out"
	limit=$max; [ "$max" = default ] && limit=65000
	chars=$(LC_ALL=C.UTF-8 wc -m <"$tmp/out")
	[ "$chars" -le "$limit" ] && [ "$chars" -gt $((limit * 9 / 10)) ] && ok ||
		bad "markdown ${opt[*]}: $chars characters, wanted at most $limit and most of it used"
	# The table is one run of rows that all end their line; fences come in pairs.
	awk '/^\| what \|/ { t = 1 } t && !/^\|/ { t = 0; done = 1 } /^\|/ && (done || !/ \|$/) { bad = 1 }
		END { exit bad || !done }' "$tmp/out" && ok || bad "markdown ${opt[*]}: the table is cut or split"
	fences=$(grep -c '^```' "$tmp/out")
	[ $((fences % 2)) = 0 ] && ok || bad "markdown ${opt[*]}: $fences fence lines"
	grep -q '^\*\*Shortened\*\* to fit .* characters; the whole diff has 146,622\.$' "$tmp/out" && ok ||
		bad "markdown ${opt[*]}: no note"
done
bulk_diff --format markdown --max-size 0 >"$tmp/out"
[ "$(grep -c '^+ 198\.18\.' "$tmp/out")" = 3000 ] && ! grep -q Shortened "$tmp/out" && ok ||
	bad "--max-size 0 does not give the whole markdown"
[ "$(LC_ALL=C.UTF-8 wc -m <"$tmp/out")" = 146622 ] && ok || bad "the whole markdown is not the size the note says"
[ "$(bulk_diff --format text | grep -c '^  + 198\.18\.')" = 3000 ] && ok || bad "the text format lost prefixes"
[ "$(bulk_diff --format json | jq '.sets[0].addresses.added | length')" = 3000 ] && ok || bad "the json format lost prefixes"
bulk_diff --format markdown --max-size 12k >/dev/null 2>"$tmp/err"
expect_status "diff --max-size 12k" 2 "$?"
grep -q "max-size wants a number of characters" "$tmp/err" && ok || bad "--max-size 12k: $(cat "$tmp/err")"

# pinhole fmt output is the same policy.
"$PINHOLE" fmt "$base" >"$tmp/fmt.rules" 2>/dev/null
"$PINHOLE" diff "$base" "$tmp/fmt.rules" >"$tmp/out" 2>"$tmp/err"
expect_status "diff against fmt output" 0 "$?"
if [ "$(cat "$tmp/out")" = "no changes" ]; then ok; else bad "diff against fmt output says: $(cat "$tmp/out")"; fi

# Every set's elements in reverse order, and the rules reversed too.
awk '/^set .*\{$/ { inset = 1; print; n = 0; next }
     inset && /^\}/ { for (i = n; i > 0; i--) print buf[i]; inset = 0; print; next }
     inset { buf[++n] = $0; next }
     /^allow/ { rules[++r] = $0; next }
     { print }
     END { for (i = r; i > 0; i--) print rules[i] }' "$base" >"$tmp/reversed.rules"
"$PINHOLE" diff "$base" "$tmp/reversed.rules" >"$tmp/out" 2>"$tmp/err"
expect_status "diff against reversed order" 0 "$?"

# Errors exit 2 and say why on stderr, with nothing on stdout.
"$PINHOLE" diff "$base" "$tmp/missing.rules" >"$tmp/out" 2>"$tmp/err"
expect_status "diff with a missing file" 2 "$?"
grep -q "missing.rules: error: cannot read" "$tmp/err" && [ ! -s "$tmp/out" ] && ok || bad "missing file: $(cat "$tmp/err")"
printf 'set s { 192.0.2.1/24 }\n' >"$tmp/broken.rules"
"$PINHOLE" diff "$tmp/broken.rules" "$base" >"$tmp/out" 2>"$tmp/err"
expect_status "diff with a rules error" 2 "$?"
grep -q "broken.rules:1:9: error: host bits set" "$tmp/err" && ok || bad "rules error: $(cat "$tmp/err")"
"$PINHOLE" diff --exit-zero "$tmp/broken.rules" "$base" >/dev/null 2>&1
expect_status "diff --exit-zero with a rules error" 2 "$?"
"$PINHOLE" diff --format yaml "$base" "$base" >/dev/null 2>"$tmp/err"
expect_status "diff --format yaml" 2 "$?"
grep -q "valid formats: text markdown json" "$tmp/err" && ok || bad "bad format message: $(cat "$tmp/err")"
"$PINHOLE" diff "$base" >/dev/null 2>&1
expect_status "diff with one file" 2 "$?"
"$PINHOLE" diff --help >"$tmp/out" 2>&1
expect_status "diff --help" 0 "$?"

# NO_COLOR and a pipe both mean no escape codes; script(1) gives a terminal to see colour.
NO_COLOR=1 "$PINHOLE" diff "$base" tests/diff/range_added.rules >"$tmp/out"
grep -q $'\033' "$tmp/out" && bad "colour in a pipe" || ok
if command -v script >/dev/null; then
	script -qec "\"$PINHOLE\" diff $base tests/diff/range_added.rules" /dev/null >"$tmp/tty" 2>&1
	grep -q $'\033\[32m+ 103.237.108.0/22' "$tmp/tty" && ok || bad "no colour on a terminal: $(cat -v "$tmp/tty")"
	NO_COLOR=1 script -qec "\"$PINHOLE\" diff $base tests/diff/range_added.rules" /dev/null >"$tmp/tty" 2>&1
	grep -q $'\033' "$tmp/tty" && bad "colour on a terminal despite NO_COLOR" || ok
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
