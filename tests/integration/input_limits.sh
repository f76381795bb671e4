#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What the compiler does with awkward input that the bad-input corpus cannot hold: a -D
# value's caret, write errors, the input size limit, a megabyte name, long rule comments,
# a byte-order mark, and option private_suffix end to end.
set -u
PINHOLE=${1:?usage: input_limits.sh PATH_TO_PINHOLE}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
export NO_COLOR=1

# A -D value's problem points at the $NAME it replaced, not past it.
printf 'define host = example.com\nset s {\n\t$host\n}\nallow out to @s\n' >"$tmp/d.rules"
"$PINHOLE" check -D host=192.0.2.300 "$tmp/d.rules" >/dev/null 2>"$tmp/err"
cat >"$tmp/want" <<EOT
$tmp/d.rules:3:2: error: invalid IPv4 address '192.0.2.300': octet '300' is out of range (0-255)
	\$host
	^
hint: the value '192.0.2.300' of 'host' comes from -D host=...
EOT
if cmp -s "$tmp/want" "$tmp/err"; then ok; else bad "-D caret:"; diff -u "$tmp/want" "$tmp/err"; fi

# A failed write says why (and exits 1): a full disk must not look like success.
if [ -w /dev/full ]; then
	"$PINHOLE" compile rules/marketo.rules >/dev/full 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq 1 ] && grep -q "cannot write standard output: No space left on device" "$tmp/err" && ok ||
		bad "compile > /dev/full: exit $rc, $(cat "$tmp/err")"
fi

# The input size limit: an endless input is refused once it passes 128 MiB, by name.
"$PINHOLE" check /dev/zero >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] && grep -qx "/dev/zero: error: cannot read: larger than the 128 MiB limit for an input file (pinhole.rules(5), LIMITS)" "$tmp/err" &&
	ok || bad "/dev/zero: exit $rc, $(head -c 300 "$tmp/err")"
head -c $((128 * 1024 * 1024 + 1)) /dev/zero | "$PINHOLE" check - >/dev/null 2>"$tmp/err"
grep -q "^<stdin>: error: cannot read: larger than the 128 MiB limit" "$tmp/err" && ok || bad "stdin past the limit: $(head -c 300 "$tmp/err")"

# A megabyte name: one short error, the name never quoted whole.
{ printf 'set s {\n\t'; head -c 1048576 /dev/zero | tr '\0' a; printf '.example.com\n}\nallow out to @s\n'; } >"$tmp/big.rules"
"$PINHOLE" check "$tmp/big.rules" >/dev/null 2>"$tmp/err"
rc=$?
size=$(wc -c <"$tmp/err")
[ "$rc" -eq 1 ] && [ "$size" -lt 1000 ] && grep -q "a word of 1048588 bytes (at most 1024" "$tmp/err" && ok ||
	bad "megabyte name: exit $rc, $size bytes of diagnostics"

# A long -D value (up to 128 KiB fits in one argument) is refused by size, not quoted.
"$PINHOLE" check -D "host=$(head -c 100000 /dev/zero | tr '\0' a)" "$tmp/d.rules" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -c <"$tmp/err")" -lt 200 ] && grep -q "^$tmp/d.rules: error: -D host: a value of 100000 bytes (at most 1024)" "$tmp/err" &&
	ok || bad "long -D value: exit $rc, $(head -c 300 "$tmp/err")"

# A long rule comment: nft keeps 128 bytes of a comment, and pinhole's nft rules carry only the
# author's comment (a place would change with every edit above it, pinhole(8) APPLY), cut at
# a character; iptables keeps 256, so there the comment is cut before "(file:line)", never it.
long=$(printf 'é%.0s' $(seq 80))
printf 'set s { 192.0.2.1 }\nallow out to @s tcp port 443 comment "%s"\n' "$long" >"$tmp/c.rules"
"$PINHOLE" compile "$tmp/c.rules" >"$tmp/out.nft" 2>/dev/null
comment=$(grep -o 'accept comment ".*"' "$tmp/out.nft" | head -n 1 | sed 's/^accept comment "//; s/"$//')
bytes=$(printf '%s' "$comment" | wc -c)
[ "$bytes" -le 127 ] && [ "$bytes" -ge 120 ] && ok || bad "nft rule comment of $bytes bytes"
printf '%s' "$comment" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1 && ok || bad "rule comment cut inside a UTF-8 character"
long=$(printf 'é%.0s' $(seq 200))
printf 'set s { 192.0.2.1 }\nallow out to @s tcp port 443 comment "%s"\n' "$long" >"$tmp/c.rules"
"$PINHOLE" compile -b iptables -o "$tmp/ipt" "$tmp/c.rules" 2>/dev/null
comment=$(grep -ho -- '--comment "[^"]*"' "$tmp/ipt"/* | head -n 1 | sed 's/^--comment "//; s/"$//')
bytes=$(printf '%s' "$comment" | wc -c)
case $comment in
*"... ($tmp/c.rules:2)") [ "$bytes" -le 255 ] && ok || bad "iptables rule comment of $bytes bytes" ;;
*) bad "iptables rule comment lost its place: $comment" ;;
esac
printf '%s' "$comment" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1 && ok || bad "iptables comment cut inside a UTF-8 character"

# A byte-order mark changes nothing.
mkdir -p "$tmp/plain" "$tmp/bom"	# one base name: set comments carry it
printf 'set s { 192.0.2.1 }\nallow out to @s tcp port 443\n' >"$tmp/plain/p.rules"
{ printf '\xef\xbb\xbf'; cat "$tmp/plain/p.rules"; } >"$tmp/bom/p.rules"
"$PINHOLE" compile "$tmp/plain/p.rules" 2>/dev/null | sed "s|$tmp/plain/p.rules|F|g" >"$tmp/plain.nft"
"$PINHOLE" compile "$tmp/bom/p.rules" 2>/dev/null | sed "s|$tmp/bom/p.rules|F|g" >"$tmp/bom.nft"
[ -s "$tmp/plain.nft" ] && cmp -s "$tmp/plain.nft" "$tmp/bom.nft" && ok || bad "a byte-order mark changed the output"

# option private_suffix: *.lan compiles, *.com in the same file is still refused.
printf 'option private_suffix lan\nset s { *.lan }\nallow out to @s tcp port 443\n' >"$tmp/lan.rules"
"$PINHOLE" compile -b json "$tmp/lan.rules" >"$tmp/lan.json" 2>"$tmp/err" && grep -q '"lan"' "$tmp/lan.json" && ok ||
	bad "*.lan with private_suffix: $(cat "$tmp/err")"
printf 'option private_suffix lan\nset s { *.lan *.com }\nallow out to @s tcp port 443\n' >"$tmp/com.rules"
"$PINHOLE" check "$tmp/com.rules" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "wildcard '\*.com' covers the public suffix 'com'" "$tmp/err" && ! grep -q "'\*.lan'" "$tmp/err" &&
	ok || bad "private_suffix lan must not open *.com: $(cat "$tmp/err")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
