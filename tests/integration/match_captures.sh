#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pinhole match --pcap against tshark on the committed captures (tests/captures/make.sh):
# every ClientHello's server name and endpoints, every DNS response's question, CNAMEs and
# addresses must be what tshark extracts from the same packets; then the verdicts the issue
# pins down, and the JSON lines output against golden files.
# Regenerate the golden files with PINHOLE_REGEN=1 after a deliberate change.
set -u
PINHOLE=${1:?usage: match_captures.sh PATH_TO_PINHOLE}
command -v tshark >/dev/null || { echo "tshark not installed: skipped"; exit 77; }
regen=${PINHOLE_REGEN:-0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
rules=rules/marketo.rules

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# tshark's view: one line per ClientHello or DNS response, in pinhole's text layout.
# Ports 80 and 8443 carry TLS in the captures; tell tshark so.
tshark_view() {
	local f=(-T fields -E separator=/t -E aggregator=, -e ip.src -e ipv6.src -e udp.srcport -e tcp.srcport
		-e ip.dst -e ipv6.dst -e udp.dstport -e tcp.dstport)
	tshark -r "$1" -d tcp.port==80,tls -d tcp.port==8443,tls -Y 'tls.handshake.type == 1' "${f[@]}" \
		-e tls.handshake.extensions_server_name 2>/dev/null | awk -F'\t' -v OFS='\t' '
		function ep(a4, a6, p) { return a4 != "" ? a4 ":" p : "[" a6 "]:" p }
		{ print "sni", ($9 == "" ? "-" : tolower($9)), ep($1, $2, $3 $4), ep($5, $6, $7 $8) }'
	tshark -r "$1" -Y 'dns.flags.response == 1' "${f[@]}" -e dns.qry.name -e dns.cname -e dns.a -e dns.aaaa \
		2>/dev/null | awk -F'\t' -v OFS='\t' '
		function ep(a4, a6, p) { return a4 != "" ? a4 ":" p : "[" a6 "]:" p }
		{ addrs = $11; if ($12 != "") addrs = (addrs == "" ? $12 : addrs "," $12)
		  print "dns", tolower($9), ep($1, $2, $3 $4), ep($5, $6, $7 $8),
			($10 == "" ? "-" : tolower($10)), (addrs == "" ? "-" : addrs) }'
}

pinhole_view() {
	awk -F'\t' -v OFS='\t' '$1 ~ /^sni/ { print "sni", $2, $3, $4 }
		$1 == "dns" { print "dns", $2, $3, $4, $8, $9 }' "$1"
}

for cap in tests/captures/*.pcap tests/captures/*.pcapng; do
	name=$(basename "$cap")
	"$PINHOLE" match --rules "$rules" --pcap "$cap" >"$tmp/$name.txt" 2>"$tmp/err"
	rc=$?
	[ "$rc" -le 1 ] || { bad "$name: exit $rc: $(cat "$tmp/err")"; continue; }
	tshark_view "$cap" | sort >"$tmp/want"
	pinhole_view "$tmp/$name.txt" | sort >"$tmp/got"
	if [ -s "$tmp/want" ] && cmp -s "$tmp/want" "$tmp/got"; then ok; else
		bad "$name: pinhole and tshark disagree (< tshark, > pinhole)"
		diff "$tmp/want" "$tmp/got" | head -20
	fi
	"$PINHOLE" match --rules "$rules" --format jsonl --pcap "$cap" >"$tmp/$name.jsonl" 2>"$tmp/$name.err"
	golden="tests/captures/$name.jsonl"
	[ "$regen" = 1 ] && cp "$tmp/$name.jsonl" "$golden"
	if cmp -s "$golden" "$tmp/$name.jsonl"; then ok; else
		bad "$name: jsonl differs from $golden"
		diff -u "$golden" "$tmp/$name.jsonl" | head -20
	fi
done

expect() {	# description, file, pattern that must match a line (grep -E)
	if grep -Eq "$3" "$tmp/$2"; then ok; else bad "$1"; fi
}
expect_count() {	# description, file, pattern, count
	local n
	n=$(grep -Ec "$3" "$tmp/$2")
	if [ "$n" = "$4" ]; then ok; else bad "$1 (got $n, want $4)"; fi
}
t=tls.pcap.txt
j=tls.pcap.jsonl
d=dns.pcapng.jsonl
expect "allowed name on 443" $t $'^sni\tws.marketo.com\t127.0.0.1:[0-9]+\t127.0.0.1:443\tallow\trules/marketo.rules:12$'
expect "same name on 8443 is denied: the rule allows 80 and 443" $t $'^sni\tws.marketo.com\t[^\t]+\t127.0.0.1:8443\tdeny\t-$'
expect "a name outside the policy is denied" $t $'^sni\tevil.example.com\t.*\tdeny\t-$'
expect "upper-case SNI is matched lower-case" $t $'^sni\tws.marketo.com\t.*\tallow'
expect_count "a HelloRetryRequest gives two records" $t $'^sni\tretry.marketo.com\t' 2
expect "the two-segment ClientHello is read" $t $'^sni\tbig.marketo.com\t.*\tallow'
expect "the ClientHello in three records is read" $t $'^sni\tfrag.marketo.com\t.*\tallow'
expect "a TLS 1.0 hello is read" $t $'^sni\told.marketo.com\t'
expect "IPv6 endpoints in brackets" $j '"src":"\[::1\]:[0-9]+","dst":"\[::1\]:443"'
expect "no server_name: empty name, deny" $j '^\{"kind":"sni","name":"","src":"[^"]+","dst":"[^"]+","verdict":"deny","rule":null\}$'
expect "the CNAME case: pages.example.com is allowed through abc123.mktoweb.com" $d \
	'^\{"kind":"dns","name":"pages.example.com","src":"127.0.0.1:53","dst":"127.0.0.1:[0-9]+","answers":\["192.0.2.10"\],"cnames":\["abc123.mktoweb.com"\],"ttl":300,"verdict":"allow","rule":"rules/marketo.rules:14"\}$'
expect "AAAA answers in canonical form" $d '"answers":\["2001:db8::10"\]'
expect "a two-CNAME chain" $d '"name":"deep.example.com".*"cnames":\["pages.example.com","abc123.mktoweb.com"\]'
expect "a name outside the policy is denied" $d '"name":"other.example.org".*"verdict":"deny","rule":null'
expect_count "the truncated UDP answer and its TCP retry are two records" $d '"name":"big.marketo.com"' 2
expect "the truncated answer lists the 29 addresses it carries" dns.pcapng.txt \
	$'^dns\tbig.marketo.com\t127.0.0.1:53\t[^\t]+\tallow\t[^\t]+\t300\t-\t([0-9.]+,){28}[0-9.]+$'
expect "the TCP retry lists all 40" dns.pcapng.txt $'^dns\tbig.marketo.com\t.*\t([0-9.]+,){39}[0-9.]+$'

# Exit status follows grep(1): 0 when something was allowed, 1 when nothing, 2 on error.
"$PINHOLE" match --rules "$rules" evil.example.com >/dev/null
[ $? = 1 ] && ok || bad "nothing allowed: exit 1"
"$PINHOLE" match --rules "$rules" --pcap /nonexistent.pcap >/dev/null 2>&1
[ $? = 2 ] && ok || bad "unreadable capture: exit 2"
"$PINHOLE" match --rules "$rules" --pcap rules/marketo.rules >/dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q "marketo.rules" "$tmp/err" && ok || bad "not a capture: exit 2 and a message"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
