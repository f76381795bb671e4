#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The command line as a user meets it: help texts, exit statuses, -D overrides, -W error,
# fmt -w, and output files that are never left half-written or clobbered by a failed run.
set -u
PINHOLE=${1:?usage: cli.sh PATH_TO_PINHOLE}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

expect() {	# description, wanted exit status, command...
	local what=$1 want=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ "$rc" -eq "$want" ]; then pass=$((pass + 1)); else
		echo "FAIL: $what: exit $rc, want $want"; cat "$tmp/err"; fail=$((fail + 1))
	fi
}

contains() {	# description, file, fixed string
	if grep -qF -- "$3" "$2"; then pass=$((pass + 1)); else
		echo "FAIL: $1: '$3' not in $2:"; head -20 "$2"; fail=$((fail + 1))
	fi
}

expect "help" 0 "$PINHOLE" help
contains "help lists compile" "$tmp/out" "compile"
expect "--version" 0 "$PINHOLE" --version
contains "version" "$tmp/out" "pinhole "
expect "no command" 1 "$PINHOLE"
expect "unknown command" 1 "$PINHOLE" compil rules/marketo.rules
contains "unknown command names the valid ones" "$tmp/err" "valid commands:"
# Every command of the list (the one command table) has its help, the same two ways.
commands=$("$PINHOLE" help | awk '/^Commands:/ { on = 1; next } on && NF { print $1 } on && !NF { exit }')
[ "$(echo "$commands" | wc -w)" -ge 12 ] && pass=$((pass + 1)) || { echo "FAIL: commands of 'pinhole help': $commands"; fail=$((fail + 1)); }
for cmd in $commands; do
	expect "$cmd --help" 0 "$PINHOLE" "$cmd" --help
	contains "$cmd --help is a usage text" "$tmp/out" "Usage: pinhole $cmd"
	cp "$tmp/out" "$tmp/dash-help"
	expect "help $cmd" 0 "$PINHOLE" help "$cmd"
	cmp -s "$tmp/out" "$tmp/dash-help" && pass=$((pass + 1)) ||
		{ echo "FAIL: 'pinhole help $cmd' differs from 'pinhole $cmd --help'"; fail=$((fail + 1)); }
done
expect "help of an unknown command" 1 "$PINHOLE" help compil
contains "help of an unknown command names the valid ones" "$tmp/err" "valid commands: compile"
# The list names every backend of compile's own help (both come from the backend table).
backends=$("$PINHOLE" compile --help | sed -n 's/.*one of: \(.*\) all (default.*/\1/p')
[ -n "$backends" ] && pass=$((pass + 1)) || { echo "FAIL: no backends in 'pinhole compile --help'"; fail=$((fail + 1)); }
"$PINHOLE" help >"$tmp/out"
contains "help lists compile's backends" "$tmp/out" "compile    compile a rules file for a backend ($(echo $backends | sed 's/ /, /g'))"
expect "unknown backend" 1 "$PINHOLE" compile -b nope rules/marketo.rules
contains "unknown backend lists backends" "$tmp/err" "valid backends: nft json"
expect "missing file" 1 "$PINHOLE" compile "$tmp/does-not-exist.rules"
contains "missing file is named" "$tmp/err" "does-not-exist.rules: error: cannot read"

# Every input file the README's example commands name by a relative path exists (--pcap too).
for f in $(grep -E '^    (\$ )?(build/)?pinhole |\| (build/)?pinhole ' README.md |
	grep -oE '(^| )[A-Za-z0-9_.-][A-Za-z0-9_./-]*\.(rules|pcapng|pcap)( |$)' | sort -u); do
	[ -e "$f" ] && pass=$((pass + 1)) || { echo "FAIL: README names $f, which does not exist"; fail=$((fail + 1)); }
done
# The README's -D example: the overriding name is allowed, and without -D it is not.
expect "README -D example" 0 "$PINHOLE" match --rules rules/marketo.rules -D tracking=mkto-b1234.com mkto-b1234.com
contains "README -D example allows" "$tmp/out" "mkto-b1234.com	allow	rules/marketo.rules:18"
expect "README -D example without -D" 1 "$PINHOLE" match --rules rules/marketo.rules mkto-b1234.com
# Names on standard input are read a block at a time: a CR, blank lines and blanks around a
# name, a 3 MB line (longer than a block), and a last line without a newline, through a pipe.
{ printf 'ws.marketo.com\r\n\n   \n  evil.example.com  \n\tWS.MARKETO.COM.\n'; head -c 3000000 /dev/zero | tr '\0' a
  printf '\nnext.marketo.com\nlast.mktoweb.com'; } | "$PINHOLE" match --rules rules/marketo.rules - >"$tmp/out" 2>/dev/null
printf 'ws.marketo.com\tallow\nevil.example.com\tdeny\nWS.MARKETO.COM.\tallow\n%s\tdeny\nnext.marketo.com\tallow\nlast.mktoweb.com\tallow\n' \
	"$(head -c 3000000 /dev/zero | tr '\0' a)" >"$tmp/want"
cut -f1,2 "$tmp/out" | cmp -s - "$tmp/want" && pass=$((pass + 1)) ||
	{ echo "FAIL: match - over a pipe: $(cut -c1-80 "$tmp/out")"; fail=$((fail + 1)); }

# -D replaces a define's value everywhere it is used.
expect "-D override" 0 "$PINHOLE" compile -b json -D tracking=mkto-b1234.com rules/marketo.rules
contains "-D value in the output" "$tmp/out" '"name": "mkto-b1234.com"'
expect "-D of an unknown define" 1 "$PINHOLE" compile -D trackin=x.example rules/marketo.rules
contains "-D typo gets a hint" "$tmp/err" "did you mean define 'tracking'?"
expect "-D bad value" 1 "$PINHOLE" compile -D tracking=-bad.example rules/marketo.rules
contains "-D bad value is blamed on -D" "$tmp/err" "comes from -D tracking="
expect "-D malformed" 1 "$PINHOLE" compile -D tracking rules/marketo.rules

# check: warnings alone pass, -W error fails on them.
printf 'set s { www.example.com *.example.com }\nallow out to @s\n' >"$tmp/warn.rules"
expect "check with a warning" 0 "$PINHOLE" check "$tmp/warn.rules"
contains "check summary" "$tmp/out" "1 warning"
expect "check -W error" 1 "$PINHOLE" check -W error "$tmp/warn.rules"

# A failed compile leaves an existing output file exactly as it was, and no temp files.
mkdir "$tmp/keep"
echo "previous contents" >"$tmp/keep/out.nft"
printf 'set s { 192.0.2.1/24 }\n' >"$tmp/bad.rules"
expect "compile error" 1 "$PINHOLE" compile -o "$tmp/keep/out.nft" "$tmp/bad.rules"
contains "old output kept" "$tmp/keep/out.nft" "previous contents"
if [ "$(ls -A "$tmp/keep")" = "out.nft" ]; then pass=$((pass + 1)); else
	echo "FAIL: temp files left: $(ls -A "$tmp/keep")"; fail=$((fail + 1)); fi
expect "compile -o" 0 "$PINHOLE" compile -o "$tmp/keep/out.nft" rules/marketo.rules
contains "new output written" "$tmp/keep/out.nft" "table inet pinhole {"

# -o onto a device or a FIFO writes into it: the temporary-and-rename of a regular file would
# replace the device node (as root, /dev/null itself) with a regular file.
if [ "$(id -u)" -eq 0 ] && mknod "$tmp/null" c 1 3 2>/dev/null; then
	expect "compile -o a device" 0 "$PINHOLE" compile -o "$tmp/null" rules/marketo.rules
	if [ -c "$tmp/null" ]; then pass=$((pass + 1)); else echo "FAIL: -o replaced a device node"; fail=$((fail + 1)); fi
fi
mkfifo "$tmp/fifo"
cat "$tmp/fifo" >"$tmp/from_fifo" &
expect "compile -o a FIFO" 0 "$PINHOLE" compile -o "$tmp/fifo" rules/marketo.rules
wait
contains "the FIFO's reader got the script" "$tmp/from_fifo" "table inet pinhole {"
if [ -p "$tmp/fifo" ]; then pass=$((pass + 1)); else echo "FAIL: -o replaced a FIFO"; fail=$((fail + 1)); fi

# Same input, byte-identical output.
"$PINHOLE" compile rules/marketo.rules >"$tmp/a"
"$PINHOLE" compile rules/marketo.rules >"$tmp/b"
if cmp -s "$tmp/a" "$tmp/b"; then pass=$((pass + 1)); else echo "FAIL: output not deterministic"; fail=$((fail + 1)); fi

# fmt -w rewrites in place; a second run changes nothing; a syntax error leaves the file.
printf 'set  s {192.0.2.1,192.0.2.2}\nallow out to @s tcp port {443,80}\n' >"$tmp/f.rules"
expect "fmt -w" 0 "$PINHOLE" fmt -w "$tmp/f.rules"
contains "fmt -w rewrote" "$tmp/f.rules" "set s { 192.0.2.1, 192.0.2.2 }"
cp "$tmp/f.rules" "$tmp/f1"
expect "fmt -w again" 0 "$PINHOLE" fmt -w "$tmp/f.rules"
if cmp -s "$tmp/f1" "$tmp/f.rules"; then pass=$((pass + 1)); else echo "FAIL: fmt -w not idempotent"; fail=$((fail + 1)); fi
printf 'set s { 192.0.2.1\n' >"$tmp/broken.rules"
cp "$tmp/broken.rules" "$tmp/broken.orig"
expect "fmt of a broken file" 1 "$PINHOLE" fmt -w "$tmp/broken.rules"
if cmp -s "$tmp/broken.orig" "$tmp/broken.rules"; then pass=$((pass + 1)); else echo "FAIL: fmt -w changed a broken file"; fail=$((fail + 1)); fi

# Diagnostics are coloured only on a terminal: never in a pipe, never with NO_COLOR.
"$PINHOLE" check "$tmp/bad.rules" 2>"$tmp/err"
if grep -q $'\033' "$tmp/err"; then echo "FAIL: colour in a pipe"; fail=$((fail + 1)); else pass=$((pass + 1)); fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
