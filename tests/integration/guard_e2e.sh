#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pinhole guard end to end, strict mode (NFQUEUE): client, gateway and server namespaces
# made here (guard_lib.bash), dnsmasq answering documentation addresses, real TLS with curl.
# Allowed names work as soon as their answer arrives, other names and other server names
# towards allowed addresses are cut, CNAMEs into the allowlist work, entries expire after
# their TTL, QUIC is refused, the guard fails closed while stopped, and a restart or a
# SIGHUP reload keeps the policy enforced.
set -u
PINHOLE=$(realpath "${1:?usage: guard_e2e.sh PATH_TO_PINHOLE}")
cd "$(dirname "$0")" && . ./guard_lib.bash && cd - >/dev/null || exit 1
gl_require
trap gl_cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
expect() {	# expect WHAT WANT GOT
	if [ "$2" = "$3" ]; then ok; else bad "$1: wanted '$2', got '$3'"; fi
}

gl_topology || { echo "FAIL: cannot build the namespaces"; exit 1; }
cat >"$T/gw.rules" <<'EOF'
option default_deny gwc0
set resolvers { 198.51.100.2 2001:db8:2::2 }
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
gl_tls 203.0.113.10 203.0.113.11 203.0.113.20 203.0.113.30 203.0.113.31 203.0.113.66 2001:db8:3::10
ip netns exec "$G" "$PINHOLE" apply -q "$T/gw.rules" || { echo "FAIL: pinhole apply"; exit 1; }

# Without the guard nothing of the names is allowed: the sets are empty.
expect "before the guard: ws.marketo.com" 000 "$(gl_curl ws.marketo.com 203.0.113.10)"
gl_guard_start --ttl-min 1 --log-level info || exit 1
ip netns exec "$G" nft list chain inet pinhole guard_forward >/dev/null 2>&1 && ok || bad "guard_forward chain missing"

# Strict: the first connection right after the answer works (no race with the set update).
expect "dig ws.marketo.com" 203.0.113.10 "$(gl_dig ws.marketo.com)"
expect "curl ws.marketo.com" 200 "$(gl_curl ws.marketo.com 203.0.113.10)"
expect "dig ws.marketo.com AAAA over IPv6" 2001:db8:3::10 "$(gl_dig ws.marketo.com AAAA 2001:db8:2::2)"
expect "curl ws.marketo.com over IPv6" 200 "$(gl_curl ws.marketo.com 2001:db8:3::10)"
for i in 1 2 3; do
	gl_dig app.marketo.com >/dev/null
	expect "answer then connect at once, round $i" 200 "$(gl_curl app.marketo.com 203.0.113.11)"
done
# The ClientHello came in several segments (the server's MSS is 200).
gl_wait 3 "the stats file" "[ \"\$(gl_stat tls_hellos)\" -ge 5 ] 2>/dev/null"
segments=$(gl_stat tls_segments)
hellos=$(gl_stat tls_hellos)
[ "${segments:-0}" -gt "${hellos:-0}" ] && ok || bad "ClientHellos were not split: $segments segments, $hellos hellos"

# DNS over TCP, an answer of 100 addresses in several segments: all learnt before the
# client has the answer.
big=$(ip netns exec "$C" dig +tcp +time=2 +tries=1 @198.51.100.2 big.marketo.com +short | wc -l)
expect "dig +tcp big.marketo.com: addresses" 100 "$big"
for a in 100 163 164 199; do
	[ -n "$(gl_set_expires marketo_web_dns_v4 203.0.113.$a)" ] && ok || bad "203.0.113.$a of the TCP answer is not in the set"
done
# Its log line names the first addresses and counts the rest: 100 in all, all of them new.
gl_wait 3 "the log line" "grep -q 'dns learn name=big.marketo.com .* new=100 ' '$T/guard.log'"
logged=$(grep -o 'dns learn name=big.marketo.com .* new=100 ' "$T/guard.log" | head -1 |
	sed -n 's/.* addrs=\([^ ]*\),+\([0-9]*\) more .*/\1 \2/p' | awk '{ print split($1, a, ",") + $2 }')
expect "addresses in the log line of big.marketo.com, listed and counted" 100 "$logged"
# Over UDP with EDNS0 (no retry over TCP): 100 AAAA records, ~3 KB, every one learnt.
wide=$(ip netns exec "$C" dig +notcp +ignore +bufsize=4096 +time=2 +tries=1 @198.51.100.2 wide.marketo.com AAAA +short | wc -l)
expect "dig +bufsize=4096 wide.marketo.com AAAA: addresses" 100 "$wide"
for a in 100 163 164 199; do
	[ -n "$(gl_set_expires marketo_web_dns_v6 2001:db8:3::1:$a)" ] && ok || bad "2001:db8:3::1:$a of the UDP answer is not in the set"
done

# A name outside the allowlist: DNS answers, the connection does not.
expect "dig evil.example.net" 203.0.113.66 "$(gl_dig evil.example.net)"
expect "curl evil.example.net" 000 "$(gl_curl evil.example.net 203.0.113.66)"
# A ClientHello for a denied name towards an address learnt for an allowed one.
expect "evil.example.net towards ws.marketo.com's address" 000 "$(gl_curl evil.example.net 203.0.113.10)"
grep -q 'tls deny sni=evil.example.net .*server=203.0.113.10:443 reason="name not allowed"' "$T/guard.log" &&
	ok || bad "no deny line for evil.example.net in the log"
expect "same over IPv6" 000 "$(gl_curl evil.example.net 2001:db8:3::10)"
gl_tls 203.0.113.10 2001:db8:3::10
# The decision sits in the conntrack mark: the allowed connection's later packets stay in
# the kernel (the 'allowed' rule counts them), the guard saw only the handshake.
allowed=$(ip netns exec "$G" nft list chain inet pinhole guard_forward 2>/dev/null | grep 'name allowed' | grep -o 'packets [0-9]*' | grep -o '[0-9]*')
[ "${allowed:-0}" -gt 0 ] && ok || bad "no packet matched the conntrack-mark rule"

# A customer name CNAMEd into *.mktoweb.com: learnt, and its own name passes the TLS check.
expect "dig go.customer.example" 203.0.113.20 "$(gl_dig go.customer.example)"
expect "curl go.customer.example" 200 "$(gl_curl go.customer.example 203.0.113.20)"

# QUIC towards a learnt address is refused (ICMP port unreachable), so browsers use TCP.
ip netns exec "$C" bash -c 'echo quic >/dev/udp/203.0.113.10/443' 2>/dev/null
quic=$(ip netns exec "$G" nft list chain inet pinhole guard_forward 2>/dev/null | grep 'QUIC' | grep -o 'packets [0-9]*' | head -1 | grep -o '[0-9]*')
[ "${quic:-0}" -ge 1 ] && ok || bad "the QUIC rule saw nothing"

# Entries expire after their TTL (short.marketo.com: 3 s; --ttl-min 1).
expect "dig short.marketo.com" 203.0.113.30 "$(gl_dig short.marketo.com)"
expect "curl short.marketo.com at once" 200 "$(gl_curl short.marketo.com 203.0.113.30)"
left=$(gl_set_expires marketo_web_dns_v4 203.0.113.30)
[ -n "$left" ] && [ "$left" -le 3 ] && ok || bad "short.marketo.com: expires '$left', wanted <= 3 s"
gl_wait 6 "the element to expire" "[ -z \"\$(gl_set_expires marketo_web_dns_v4 203.0.113.30)\" ]" && ok || bad "short.marketo.com still in the set"
expect "curl short.marketo.com after its TTL" 000 "$(gl_curl short.marketo.com 203.0.113.30)"

# Every response counts: a second answer extends the element (brief.marketo.com: 6 s).
gl_dig brief.marketo.com >/dev/null
sleep 3
gl_dig brief.marketo.com >/dev/null
left=$(gl_set_expires marketo_web_dns_v4 203.0.113.31)
[ -n "$left" ] && [ "$left" -ge 4 ] && ok || bad "brief.marketo.com not refreshed: expires '$left' s, wanted >= 4"

# Restart: the steering rules stay while the guard is down, so DNS answers are held (fail
# closed); learnt entries and the CNAME alias survive.
gl_guard_stop && ok || bad "the guard did not stop cleanly"
ip netns exec "$G" nft list chain inet pinhole guard_forward >/dev/null 2>&1 && ok || bad "steering removed at stop"
expect "no answer while the guard is down" "" "$(gl_dig app.marketo.com)"
grep -q '^alias go.customer.example acct.mktoweb.com' "$T/run/guard.state" && ok || bad "no alias in the state file"
gl_guard_start --ttl-min 1 || exit 1
expect "after restart: ws.marketo.com without a new lookup" 200 "$(gl_curl ws.marketo.com 203.0.113.10)"
expect "after restart: go.customer.example without a new lookup" 200 "$(gl_curl go.customer.example 203.0.113.20)"
expect "after restart: evil.example.net still denied" 000 "$(gl_curl evil.example.net 203.0.113.10)"
gl_tls 203.0.113.10

# A re-apply leaves the guard's chains alone; if something else deletes them (or empties the
# sets), the guard notices the new generation, installs its rules again and sends back what
# it learnt.
ip netns exec "$G" "$PINHOLE" apply -q "$T/gw.rules" || bad "re-apply"
ip netns exec "$G" nft list chain inet pinhole guard_forward >/dev/null 2>&1 && ok || bad "re-apply removed the guard's chains"
ip netns exec "$G" nft delete chain inet pinhole guard_forward
gl_wait 4 "the steering rules back" "ip netns exec '$G' nft list chain inet pinhole guard_forward >/dev/null 2>&1" && ok || bad "steering not reinstalled after it was deleted"
ip netns exec "$G" nft flush set inet pinhole marketo_web_dns_v4
gl_wait 4 "the guard to put the elements back" "[ -n \"\$(gl_set_expires marketo_web_dns_v4 203.0.113.10)\" ]" && ok || bad "learnt elements not restored after a foreign change"
expect "after the flush: ws.marketo.com" 200 "$(gl_curl ws.marketo.com 203.0.113.10)"

# SIGHUP reload: *.mktoweb.com leaves the policy; its learnt address goes, the rest stays.
sed -i '/mktoweb/d' "$T/gw.rules"
kill -HUP "$GUARD_PID"
gl_wait 5 "the reload" "grep -q 'reloaded:' '$T/guard.log'" && ok || bad "no reload"
[ -z "$(gl_set_expires marketo_web_dns_v4 203.0.113.20)" ] && ok || bad "acct.mktoweb.com's address kept after reload"
[ -n "$(gl_set_expires marketo_web_dns_v4 203.0.113.10)" ] && ok || bad "ws.marketo.com's address lost in the reload"
expect "after reload: ws.marketo.com" 200 "$(gl_curl ws.marketo.com 203.0.113.10)"
gl_dig go.customer.example >/dev/null
expect "after reload: go.customer.example" 000 "$(gl_curl go.customer.example 203.0.113.20)"
# A reload with an error keeps the previous rules.
echo 'set broken { 192.0.2.1/8 }' >>"$T/gw.rules"
kill -HUP "$GUARD_PID"
gl_wait 5 "the failed reload" "grep -q 'reload failed' '$T/guard.log'" && ok || bad "a broken rules file was not refused"
expect "after a failed reload: ws.marketo.com" 200 "$(gl_curl ws.marketo.com 203.0.113.10)"

# The counters, through --stats (this guard's, since its restart).
gl_dig ws.marketo.com >/dev/null
sleep 1.2
stats=$("$PINHOLE" guard --stats --stats-file "$T/run/guard.stats")
for k in dns_matched tls_allowed tls_denied set_elements reloads; do
	v=$(echo "$stats" | awk -v k="$k" '$1 == k { print $2 }')
	[ "${v:-0}" -ge 1 ] && ok || bad "--stats: $k is '${v:-}'"
done
expect "queue drops" 0 "$(gl_stat queue_dropped)"
# As nobody (this test) /proc/net/netfilter/nfnetlink_queue (mode 0440, root) is unreadable,
# and the stats file must say so rather than pretend; guard_modes.sh checks it as root.
grep -q '"queue_drops_known": false' "$T/run/guard.stats" && ok || bad "queue drop counters claimed as known"

gl_guard_stop && ok || bad "the guard did not stop cleanly"
sed -i '/broken/d' "$T/gw.rules"
ip netns exec "$G" "$PINHOLE" guard --uninstall --rules "$T/gw.rules" >/dev/null || bad "--uninstall failed"
ip netns exec "$G" nft list chain inet pinhole guard_forward >/dev/null 2>&1 && bad "guard chains left" || ok
# remove takes the stopped guard's files with the table (the stats file names the table).
grep -q '"table": "pinhole"' "$T/run/guard.stats" && ok || bad "the stats file does not name the table"
# The run directory was the guard's (it ran as nobody); root works only in one of its own
# (pinhole(8) FILES), as /run/pinhole is under systemd.
chown 0:0 "$T/run"
PINHOLE_RUN_DIR=$T/run ip netns exec "$G" "$PINHOLE" remove "$T/gw.rules" >/dev/null || bad "remove failed"
[ ! -e "$T/run/guard.stats" ] && [ ! -e "$T/run/guard.state" ] && ok || bad "remove left the guard's files: $(ls "$T/run")"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
