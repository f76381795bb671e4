#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `pinhole aggregate` on bad input: every bad line is reported as FILE:LINE:COL with the
# source line and a hint where one helps, the exit status is 1, and nothing reaches stdout
# (a half-aggregated list piped into a firewall would be worse than none).
set -u
PINHOLE=${1:?usage: aggregate_errors.sh PATH_TO_PINHOLE}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
export NO_COLOR=1

run() {	# description, wanted exit status, command... (stdin as given)
	local what=$1 want=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ "$rc" -eq "$want" ]; then pass=$((pass + 1)); else
		echo "FAIL: $what: exit $rc, want $want"; head "$tmp/err"; fail=$((fail + 1))
	fi
}

has() {	# description, file, fixed string
	if grep -qF -- "$3" "$2"; then pass=$((pass + 1)); else
		echo "FAIL: $1: '$3' not in $2:"; head -20 "$2"; fail=$((fail + 1))
	fi
}

no_stdout() {	# description
	if [ ! -s "$tmp/out" ]; then pass=$((pass + 1)); else
		echo "FAIL: $1: printed on stdout:"; head -5 "$tmp/out"; fail=$((fail + 1))
	fi
}

count_is() {	# description, wanted count, counted
	if [ "$3" -eq "$2" ]; then pass=$((pass + 1)); else
		echo "FAIL: $1: $3, want $2"; fail=$((fail + 1))
	fi
}

# Good lines around bad ones: each bad one reported where it goes wrong.
cat >"$tmp/mixed.txt" <<'EOF'
# senders
192.0.2.0/24
192.28.144.5/20
  198.51.100.0/33   # too long
203.0.113.9-203.0.113.1
203.0.113.1-2001:db8::1
010.0.0.1
2001:db8::/32
2001:db8::g
192.0.2.0/
EOF
run "bad lines fail" 1 "$PINHOLE" aggregate "$tmp/mixed.txt"
no_stdout "bad lines"
has "host bits, at the address" "$tmp/err" "mixed.txt:3:1: error: host bits set in 192.28.144.5/20"
has "host bits hint" "$tmp/err" "hint: did you mean 192.28.144.0/20?"
has "bad length, at the length" "$tmp/err" "mixed.txt:4:16: error: bad prefix length '33'"
has "reversed, at the second address" "$tmp/err" "mixed.txt:5:13: error: range 203.0.113.9-203.0.113.1 runs backwards"
has "reversed hint" "$tmp/err" "hint: did you mean 203.0.113.1-203.0.113.9?"
has "mixed families" "$tmp/err" "mixed.txt:6:13: error: range 203.0.113.1-2001:db8::1 mixes IPv4 and IPv6"
has "leading zero" "$tmp/err" "mixed.txt:7:1: error: not an IPv4 or IPv6 address: 010.0.0.1"
has "bad IPv6" "$tmp/err" "mixed.txt:9:1: error: not an IPv4 or IPv6 address: 2001:db8::g"
has "missing length" "$tmp/err" "mixed.txt:10:11: error: missing prefix length"
has "the source line is quoted" "$tmp/err" "  198.51.100.0/33   # too long"
count_is "one error per bad line" 7 "$(grep -c ': error: ' "$tmp/err")"

# A caret under the column.
printf '1.2.3.0/24\n  1.2.3.0/40\n' >"$tmp/caret.txt"
run "caret input" 1 "$PINHOLE" aggregate "$tmp/caret.txt"
has "caret line" "$tmp/err" "$(printf '          ^')"

# Errors in several files, and on stdin.
printf '10.0.0.1/8\n' >"$tmp/a.txt"
printf '10.0.0.0/8\n' >"$tmp/good.txt"
run "errors in a later file" 1 "$PINHOLE" aggregate "$tmp/good.txt" - "$tmp/a.txt" <<<'nope'
no_stdout "errors in a later file"
has "stdin is named" "$tmp/err" "<stdin>:1:1: error: not an IPv4 or IPv6 address: nope"
has "second file is named" "$tmp/err" "a.txt:1:1: error: host bits set in 10.0.0.1/8"

# Past 50 errors the rest are counted, not shown.
for i in $(seq 1 60); do echo "300.0.0.$i"; done >"$tmp/many.txt"
run "many errors" 1 "$PINHOLE" aggregate "$tmp/many.txt"
count_is "errors shown are capped at 50" 50 "$(grep -c ': error: ' "$tmp/err")"
has "the cap is said" "$tmp/err" "too many errors (60)"

# Files and options.
run "missing file" 1 "$PINHOLE" aggregate "$tmp/does-not-exist.txt"
no_stdout "missing file"
has "missing file is named" "$tmp/err" "does-not-exist.txt: No such file or directory"
run "unknown option" 1 "$PINHOLE" aggregate --frobnicate
has "unknown option says what to do" "$tmp/err" "try 'pinhole aggregate --help'"
run "--help" 0 "$PINHOLE" aggregate --help
has "--help is a usage text" "$tmp/out" "Usage: pinhole aggregate"
run "-- ends options" 1 "$PINHOLE" aggregate -- --help
has "-- makes --help a file name" "$tmp/err" "cannot read --help"

# The good path, for contrast: exit 0 and only the cover on stdout.
run "good input" 0 "$PINHOLE" aggregate "$tmp/good.txt"
has "good output" "$tmp/out" "10.0.0.0/8"
count_is "nothing on stderr" 0 "$(wc -c <"$tmp/err")"
run "empty input" 0 "$PINHOLE" aggregate /dev/null
no_stdout "empty input"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
