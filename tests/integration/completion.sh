#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The bash completion (packaging/completion/pinhole.bash): sourced into this shell, its
# function is called the way bash calls it (COMP_WORDS split at '=' as bash does) and
# COMPREPLY is compared with what it must offer. Then it is checked against the binary:
# every command of `pinhole help` has a completion line, and a command's options are
# exactly those its --help lists, so the completion cannot silently fall behind the CLI.
set -u
PINHOLE=${1:?usage: completion.sh PATH_TO_PINHOLE}
PINHOLE=$(realpath "$PINHOLE")
src=$(realpath packaging/completion/pinhole.bash)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# shellcheck source=/dev/null
. "$src"

# expect 'WANT' WORD...: completes the last WORD (the cursor) and wants the sorted,
# space-separated COMPREPLY to be WANT.
expect() {
	local want=$1 got
	shift
	COMP_WORDS=("$@") COMP_CWORD=$(($# - 1)) COMPREPLY=()
	_pinhole
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
	got=${got% }
	if [ "$got" = "$want" ]; then
		pass=$((pass + 1))
	else
		echo "FAIL: '$*<TAB>' offered [$got], want [$want]"; fail=$((fail + 1))
	fi
}

# Files to complete, in a directory of their own.
mkdir -p "$tmp/files/sub dir" && cd "$tmp/files" || exit 1
touch a.rules b.rules notes.txt "sub dir/c.rules"

expect 'compile confirm' pinhole co
expect '--help --version' pinhole --
expect 'compile confirm' pinhole help co
expect '' pinhole help compile ''
expect 'all iptables json nft pf squid' pinhole compile -b ''
expect 'pf' pinhole compile --backend = p
expect 'all iptables json nft pf squid' pinhole compile --backend =
expect 'a.rules b.rules sub dir' pinhole compile ''
expect 'sub dir/c.rules' pinhole compile 'sub dir/'
expect 'a.rules b.rules notes.txt sub dir' pinhole compile -o ''
expect 'a.rules b.rules sub dir' pinhole compile -o out.nft -b nft -D tracking = x.example ''
expect '--backend --define --help --output --strict' pinhole compile --
expect 'a.rules b.rules sub dir' pinhole compile -- ''
expect 'error' pinhole check -W ''
expect 'json markdown text' pinhole diff --format ''
expect 'jsonl' pinhole match --format = j
expect 'a.rules b.rules sub dir' pinhole match -r ''
expect '' pinhole match -r a.rules ''
expect '' pinhole explain a.rules ''
expect 'a.rules b.rules sub dir' pinhole explain -D x = y ''
expect '' pinhole compile -D x =
expect 'json text' pinhole show -f ''
expect 'a.rules b.rules sub dir' pinhole remove -t pinhole ''
expect 'json text' pinhole apply --format ''
expect 'json' pinhole remove -f j
expect 'a.rules b.rules sub dir' pinhole apply -f json ''
expect '' pinhole nosuchcommand ''

# offered CMD: the options the completion offers for CMD, sorted, one per line.
offered() {
	COMP_WORDS=(pinhole "$1" -) COMP_CWORD=2 COMPREPLY=()
	_pinhole
	printf '%s\n' "${COMPREPLY[@]}" | grep -vxE -- '-h|--help' | sort
}
# documented CMD: the options `pinhole CMD --help` lists ("  -b, --backend ...",
# "      --strict ...", "  -W error ..."), sorted, one per line.
documented() {
	"$PINHOLE" "$1" --help | grep -E '^ {2,}-' |
		grep -oE -- '^ +-[A-Za-z0-9]|(^ +|, )--[a-z0-9-]+' | tr -d ' ,' |
		grep -vxE -- '-h|--help' | sort
}

commands=$("$PINHOLE" help | awk '/^Commands:/ { on = 1; next } on && NF { print $1 } on && !NF { exit }')
[ -n "$commands" ] || { echo "FAIL: no commands in 'pinhole help'"; fail=$((fail + 1)); }
for cmd in $commands; do
	if ! _pinhole_line "$cmd" >/dev/null; then
		echo "FAIL: '$cmd' has no line in packaging/completion/pinhole.bash"; fail=$((fail + 1))
	elif ! diff <(documented "$cmd") <(offered "$cmd") >"$tmp/diff"; then
		echo "FAIL: options of '$cmd': < in --help only, > in the completion only:"
		cat "$tmp/diff"; fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done

# Every backend the binary has is offered after -b.
backends=$("$PINHOLE" compile --help | sed -n 's/.*one of: \([^(]*\).*/\1/p')
[ -n "$backends" ] || { echo "FAIL: no backend list in 'pinhole compile --help'"; fail=$((fail + 1)); }
for b in $backends; do
	if [[ " $_pinhole_backends " == *" $b "* ]]; then
		pass=$((pass + 1))
	else
		echo "FAIL: backend '$b' is not offered after -b"; fail=$((fail + 1))
	fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
