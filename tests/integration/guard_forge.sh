#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pinhole guard under forged DNS answers (issue 11), in the namespaces of guard_lib.bash.
# Every forgery names ws.marketo.com with 203.0.113.66 / 2001:db8:3::66 and must teach the
# kernel set nothing: an answer from a client (source port 53) through the gateway or to
# it, a client passing its datagram off as the resolver's (to the gateway, and handed to
# the gateway for another LAN host), a host on the server side that is not a resolver, the
# resolver's address with a wrong ID, another question, no query at all, or an answer
# used up; over IPv4 and IPv6. Each spoof is next to the same datagram from the right
# place, which is learnt (so the forger's tool works and only the one field is wrong),
# and real answers from dnsmasq still work over UDP, TCP and through a CNAME. Then the
# same in passive mode, and with a resolver on the gateway itself (resolv.conf names
# 127.0.0.1).
set -u
PINHOLE=$(realpath "${1:?usage: guard_forge.sh PATH_TO_PINHOLE}")
cd "$(dirname "$0")" && . ./guard_lib.bash && cd - >/dev/null || exit 1
gl_require cc
trap gl_cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
expect() {
	if [ "$2" = "$3" ]; then ok; else bad "$1: wanted '$2', got '$3'"; fi
}

gl_topology || { echo "FAIL: cannot build the namespaces"; exit 1; }
cc -O1 -o "$T/dns_forge" "$(dirname "$0")/dns_forge.c" || { echo "FAIL: cannot build dns_forge"; exit 1; }
# On the server side: 198.51.100.4 a resolver that never answers by itself (the test
# answers for it), 198.51.100.3 a host that is not a resolver.
for a in 3 4; do
	ip -n "$S" addr add "198.51.100.$a/24" dev s0
	ip -n "$S" addr add "2001:db8:2::$a/64" dev s0 nodad
done
printf 'nameserver %s\n' 198.51.100.2 2001:db8:2::2 198.51.100.4 2001:db8:2::4 >"$T/resolv.conf"
cat >"$T/gw.rules" <<'EOF'
option default_deny gwc0
set resolvers { 198.51.100.2 198.51.100.4 2001:db8:2::2 2001:db8:2::4 192.0.2.1 }
set marketo_web {
	*.marketo.com
	*.mktoweb.com
}
allow out to @resolvers udp port 53
allow out to @resolvers tcp port 53
allow out to @marketo_web tcp port { 80, 443 }
EOF
chmod 644 "$T/gw.rules"
gl_dns || exit 1
ip netns exec "$G" "$PINHOLE" apply -q "$T/gw.rules" || { echo "FAIL: pinhole apply"; exit 1; }
# The kernel's own reverse-path filter is off (the default): the guard's rules must stop
# a spoof, not the kernel. A table of the test's counts what reaches the hooks.
ip netns exec "$G" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.gwc0.rp_filter=0
ip netns exec "$G" nft -f - <<'EOF'
table inet probe {
	chain input {
		type filter hook input priority -500
		udp sport 53 ip saddr 198.51.100.4 counter comment "spoof-in-v4"
	}
	chain forward {
		type filter hook forward priority -500
		iifname gwc0 udp sport 53 ip saddr 198.51.100.4 counter comment "hairpin-v4"
		iifname gwc0 udp sport 53 ip6 saddr 2001:db8:2::4 counter comment "hairpin-v6"
	}
}
EOF
probe() {	# probe COMMENT: packets the test's counter saw
	ip netns exec "$G" nft list table inet probe | grep "\"$1\"" | grep -o 'packets [0-9]*' | grep -o '[0-9]*'
}
forge() { local ns=$1; shift; ip netns exec "$ns" "$T/dns_forge" "$@" || bad "dns_forge $*"; }
v4() { gl_set_expires marketo_web_dns_v4 "$1"; }
v6() { gl_set_expires marketo_web_dns_v6 "$1"; }
settle() { sleep 0.3; }
mac() { ip -n "$G" -br link show gwc0 | awk '{ print $3 }'; }

gl_guard_start --ttl-min 1 --log-level debug || exit 1
grep -q 'believed from 198.51.100.2, 2001:db8:2::2, 198.51.100.4, 2001:db8:2::4 (the nameservers of resolv.conf)' \
	"$T/guard.log" && ok || bad "resolvers not taken from resolv.conf: $(grep believed "$T/guard.log")"
rules=$(ip netns exec "$G" nft list chain inet pinhole guard_forward 2>/dev/null)
echo "$rules" | grep -q 'ip saddr 198.51.100.2 fib saddr . iif oif != 0 udp sport 53' && ok ||
	bad "no answer rule with a reverse-path check: $rules"
echo "$rules" | grep -q 'ip daddr 198.51.100.2 udp dport 53 .*log group 2000' && ok || bad "no query rule: $rules"
echo "$rules" | grep -qE '^\s*(udp|tcp) sport 53' && bad "an answer rule without a resolver: $rules" || ok

# Real answers through dnsmasq: UDP over IPv4 and IPv6, TCP, a CNAME chain.
expect "dig ws.marketo.com" 203.0.113.10 "$(gl_dig ws.marketo.com)"
[ -n "$(v4 203.0.113.10)" ] && ok || bad "a real answer was not learnt"
expect "dig AAAA over IPv6" 2001:db8:3::10 "$(gl_dig ws.marketo.com AAAA 2001:db8:2::2)"
[ -n "$(v6 2001:db8:3::10)" ] && ok || bad "a real IPv6 answer was not learnt"
expect "dig +tcp" 100 "$(ip netns exec "$C" dig +tcp +time=2 +tries=1 @198.51.100.2 big.marketo.com +short | wc -l)"
[ -n "$(v4 203.0.113.199)" ] && ok || bad "a real TCP answer was not learnt"
expect "dig go.customer.example (CNAME)" 203.0.113.20 "$(gl_dig go.customer.example)"
[ -n "$(v4 203.0.113.20)" ] && ok || bad "a real CNAME chain was not learnt"
expect "curl through the CNAME" 200 "$(gl_tls 203.0.113.20; gl_curl go.customer.example 203.0.113.20)"

# 1. A client's own datagram from port 53, through the gateway and to the gateway.
forge "$C" answer 192.0.2.2 53 198.51.100.2 33333 0x1111 ws.marketo.com 203.0.113.66
forge "$C" answer 192.0.2.2 53 192.0.2.1 33333 0x1111 ws.marketo.com 203.0.113.66
forge "$C" answer 2001:db8:1::2 53 2001:db8:2::2 33333 0x1111 ws.marketo.com 2001:db8:3::66
forge "$C" answer 2001:db8:1::2 53 2001:db8:1::1 33333 0x1111 ws.marketo.com 2001:db8:3::66

# 2. A client spoofing the resolver towards the gateway, which did ask it (the answer
# arrives on the client's interface, not the resolver's); from the resolver's side the
# same datagram is believed.
forge "$G" query 192.0.2.1 40001 198.51.100.4 53 0x2222 ws.marketo.com
settle
forge "$C" answer 198.51.100.4 53 192.0.2.1 40001 0x2222 ws.marketo.com 203.0.113.66
settle
[ "$(probe spoof-in-v4)" -ge 1 ] 2>/dev/null && ok || bad "the spoof did not reach the gateway's input hook"
forge "$S" answer 198.51.100.4 53 192.0.2.1 40001 0x2222 ws.marketo.com 203.0.113.77
settle
[ -n "$(v4 203.0.113.77)" ] && ok || bad "control: the resolver's answer to the gateway was not learnt"

# 3. A client handing the gateway a datagram "from the resolver" for a LAN host that did
# ask (here the client itself): the gateway forwards it back out of the LAN interface.
for fam in 4 6; do
	if [ $fam = 4 ]; then cl=192.0.2.2 rs=198.51.100.4 bad_a=203.0.113.66 good=203.0.113.79; else
		cl=2001:db8:1::2 rs=2001:db8:2::4 bad_a=2001:db8:3::66 good=2001:db8:3::79; fi
	forge "$C" query $cl 40002 $rs 53 0x3333 ws.marketo.com $([ $fam = 6 ] && echo 28)
	settle
	forge "$C" answer $rs 53 $cl 40002 0x3333 ws.marketo.com $bad_a via c0 "$(mac)"
	settle
	[ "$(probe hairpin-v$fam)" -ge 1 ] 2>/dev/null && ok || bad "IPv$fam: the hairpin did not reach the forward hook"
	forge "$S" answer $rs 53 $cl 40002 0x3333 ws.marketo.com $good
	settle
	[ -n "$(v$fam $good)" ] && ok || bad "IPv$fam control: the resolver's answer to the client was not learnt"
done

# 4. The server side: a host that is not a resolver, the resolver's address with a wrong
# ID, another question, no query, a second answer to one query; IPv4 and IPv6.
for fam in 4 6; do
	if [ $fam = 4 ]; then cl=192.0.2.2 rs=198.51.100.4 other=198.51.100.3 bad_a=203.0.113.66 good=203.0.113.80; else
		cl=2001:db8:1::2 rs=2001:db8:2::4 other=2001:db8:2::3 bad_a=2001:db8:3::66 good=2001:db8:3::80; fi
	forge "$C" query $cl 40003 $rs 53 0x4444 ws.marketo.com $([ $fam = 6 ] && echo 28)
	settle
	forge "$S" answer $other 53 $cl 40003 0x4444 ws.marketo.com $bad_a			# not a resolver
	forge "$S" answer $rs 53 $cl 40003 0x4445 ws.marketo.com $bad_a			# wrong ID
	forge "$S" answer $rs 53 $cl 40004 0x4444 ws.marketo.com $bad_a			# wrong port
	forge "$S" answer $rs 53 $cl 40003 0x4444 app.marketo.com $bad_a			# another question
	forge "$S" answer $rs 53 $cl 40009 0x5555 ws.marketo.com $bad_a			# never asked
	forge "$S" answer $rs 53 "$([ $fam = 4 ] && echo 192.0.2.1 || echo 2001:db8:1::1)" 40009 0x5555 ws.marketo.com $bad_a	# to the gateway
	settle
	forge "$S" answer $rs 53 $cl 40003 0x4444 ws.marketo.com $good			# the real one
	settle
	[ -n "$(v$fam $good)" ] && ok || bad "IPv$fam control: the answer to the client's query was not learnt"
	forge "$S" answer $rs 53 $cl 40003 0x4444 ws.marketo.com $bad_a			# used up
done
sleep 1.2

# Nothing forged was learnt; the counters and the log say why.
expect "forged IPv4 address in the set" "" "$(v4 203.0.113.66)"
expect "forged IPv6 address in the set" "" "$(v6 2001:db8:3::66)"
[ "$(gl_stat dns_unsolicited)" -ge 10 ] 2>/dev/null && ok || bad "dns_unsolicited is '$(gl_stat dns_unsolicited)'"
[ "$(gl_stat dns_mismatched)" -ge 2 ] 2>/dev/null && ok || bad "dns_mismatched is '$(gl_stat dns_mismatched)'"
[ "$(gl_stat dns_queries)" -ge 7 ] 2>/dev/null && ok || bad "dns_queries is '$(gl_stat dns_queries)'"
grep -q 'dns unsolicited name=ws.marketo.com id=17477 server=198.51.100.4:53 client=192.0.2.2:40003' "$T/guard.log" &&
	ok || bad "no log line for the wrong ID"
stats=$("$PINHOLE" guard --stats --stats-file "$T/run/guard.stats")
echo "$stats" | grep -qE '^ +dns_unsolicited +[1-9]' && ok || bad "--stats has no dns_unsolicited: $stats"
# What the client reaches: the forged address stays closed.
gl_tls 203.0.113.66
expect "curl the forged address" 000 "$(gl_curl ws.marketo.com 203.0.113.66)"
gl_guard_stop || bad "the guard did not stop cleanly"

# Passive mode (NFLOG copies of answers and queries): the same checks hold.
gl_guard_start --ttl-min 1 --passive || exit 1
forge "$C" query 192.0.2.2 40006 198.51.100.4 53 0x6666 ws.marketo.com
settle
forge "$C" answer 192.0.2.2 53 198.51.100.2 40006 0x6666 ws.marketo.com 203.0.113.66
forge "$C" answer 198.51.100.4 53 192.0.2.2 40006 0x6666 ws.marketo.com 203.0.113.66 via c0 "$(mac)"
forge "$S" answer 198.51.100.4 53 192.0.2.2 40006 0x6667 ws.marketo.com 203.0.113.66
settle
forge "$S" answer 198.51.100.4 53 192.0.2.2 40006 0x6666 ws.marketo.com 203.0.113.81
gl_wait 3 "passive learning" "[ -n \"\$(v4 203.0.113.81)\" ]" && ok || bad "passive control: the real answer was not learnt"
expect "passive: forged address in the set" "" "$(v4 203.0.113.66)"
gl_guard_stop || bad "the guard did not stop cleanly"

# A resolver on the gateway (resolv.conf: 127.0.0.1, as with a local dnsmasq or
# systemd-resolved's 127.0.0.53): clients ask the gateway; its answers leave from here.
ip netns exec "$G" dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
	--listen-address=127.0.0.1 --listen-address=192.0.2.1 --server=198.51.100.2 \
	--pid-file="$T/gw-dnsmasq.pid" --user=root --cache-size=0 &
gl_wait 5 "the gateway's dnsmasq" "[ -s '$T/gw-dnsmasq.pid' ]" || bad "no dnsmasq on the gateway"
printf 'nameserver 127.0.0.1\n' >"$T/resolv.conf"
# Clients may now ask the gateway: no default-deny on the LAN side.
sed -i '/default_deny/d' "$T/gw.rules"
ip netns exec "$G" "$PINHOLE" apply -q "$T/gw.rules" || bad "re-apply without default-deny"
ip netns exec "$G" nft flush set inet pinhole marketo_web_dns_v4
gl_guard_start --ttl-min 1 --log-level debug || exit 1
grep -q 'believed from this host' "$T/guard.log" && ok || bad "127.0.0.1 not taken as this host: $(grep believed "$T/guard.log")"
expect "dig @gateway app.marketo.com" 203.0.113.11 "$(gl_dig app.marketo.com A 192.0.2.1)"
[ -n "$(v4 203.0.113.11)" ] && ok || bad "the gateway resolver's answer was not learnt"
forge "$C" answer 192.0.2.2 53 192.0.2.1 33333 0x1111 ws.marketo.com 203.0.113.66
forge "$C" answer 192.0.2.1 53 192.0.2.2 40005 0x1111 ws.marketo.com 203.0.113.66 via c0 "$(mac)"
settle
expect "local resolver: forged address in the set" "" "$(v4 203.0.113.66)"
gl_guard_stop || bad "the guard did not stop cleanly"
[ "${DEBUG:-}" ] && { cat "$T/guard.log"; ip netns exec "$G" nft list ruleset; }
kill "$(cat "$T/gw-dnsmasq.pid")" 2>/dev/null

# Usage: a bad --resolver, and no resolver at all.
"$PINHOLE" guard --rules "$T/gw.rules" --resolver 198.51.100.0/24 >/dev/null 2>"$T/err"; expect "--resolver prefix" 1 $?
grep -q 'not an IPv4 or IPv6 address' "$T/err" && ok || bad "--resolver error: $(cat "$T/err")"
: >"$T/resolv.conf"
gl_guard_start 2>/dev/null && bad "started without a resolver" || ok
grep -q 'no resolver to believe' "$T/guard.log" && ok || bad "no error without a resolver: $(cat "$T/guard.log")"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
