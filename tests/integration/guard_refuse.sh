#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pinhole guard refuses with a reset the client sees at once, closes the server's end, and
# keeps its steering rules: in the guard's namespaces (guard_lib.bash), a ClientHello for a
# name outside the allowlist towards an address learnt for an allowed name fails at the
# client with a reset (curl's "connection reset", exit 35) in under 100 ms, measured by curl
# itself; the server got a FIN in its place and holds no connection of the client (its
# single-threaded TLS server serves the next client); a steering rule deleted by hand
# (nft delete rule) is put back within seconds, not only a deleted chain.
set -u
PINHOLE=$(realpath "${1:?usage: guard_refuse.sh PATH_TO_PINHOLE}")
cd "$(dirname "$0")" && . ./guard_lib.bash && cd - >/dev/null || exit 1
gl_require
trap gl_cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

gl_topology || { echo "FAIL: cannot build the namespaces"; exit 1; }
cat >"$T/gw.rules" <<'EOF'
option default_deny gwc0 reject
set resolvers { 198.51.100.2 2001:db8:2::2 }
set marketo_web { *.marketo.com }
allow out to @resolvers udp port 53
allow out to @marketo_web tcp port 443
EOF
chmod 644 "$T/gw.rules"
gl_dns || exit 1
gl_tls 203.0.113.10 2001:db8:3::10
ip netns exec "$G" "$PINHOLE" apply -q "$T/gw.rules" || { echo "FAIL: pinhole apply"; exit 1; }
gl_guard_start --ttl-min 1 --log-level info || exit 1

[ "$(gl_dig ws.marketo.com)" = 203.0.113.10 ] && ok || bad "dig ws.marketo.com"
[ "$(gl_dig ws.marketo.com AAAA)" = 2001:db8:3::10 ] && ok || bad "dig ws.marketo.com AAAA"
[ "$(gl_curl ws.marketo.com 203.0.113.10)" = 200 ] && ok || bad "the allowed name does not pass"

# refused NAME ADDRESS: curl's exit status and its time to the error, in ms.
refused() {
	local addr=$2 out
	[[ $addr == *:* ]] && addr="[$addr]"
	out=$(ip netns exec "$C" curl -sk -o /dev/null -w '%{time_total}' --max-time 5 \
		--resolve "$1:443:$addr" "https://$1/" 2>/dev/null)
	echo "$? $(awk -v t="$out" 'BEGIN { printf "%d", t * 1000 }')"
}
for addr in 203.0.113.10 2001:db8:3::10; do
	for round in 1 2 3; do
		read -r rc ms <<<"$(refused evil.example.net "$addr")"
		echo "denied ClientHello towards $addr, round $round: curl exit $rc after $ms ms"
		if [ "$rc" = 35 ] && [ "$ms" -lt 100 ]; then ok; else
			bad "denied ClientHello towards $addr: curl exit $rc after $ms ms (want a reset, exit 35, < 100 ms)"
		fi
		# The server's end is closed too: it got a FIN in place of the ClientHello, so
		# the single-threaded server is free for the next round without a restart.
		sleep 0.2
		conns=$(ip netns exec "$S" ss -Htn state established "( sport = :443 )" | wc -l)
		[ "$conns" -eq 0 ] && ok || bad "the server keeps $conns connection(s) of the denied client"
	done
	[ "$(gl_curl ws.marketo.com "$addr")" = 200 ] && ok || bad "the server did not serve after the denials ($addr)"
done
# Each client reset was the server's answer to the FIN, made a reset by the guard's rule.
resets=$(ip netns exec "$G" nft list chain inet pinhole guard_forward | grep 'resets the client' |
	grep -o 'packets [0-9]*' | grep -o '[0-9]*')
[ "${resets:-0}" -ge 6 ] && ok || bad "the server's answers did not become resets (counted ${resets:-0})"

# Delete one steering rule (the TLS check towards the learnt IPv4 addresses) by hand.
rules_in() { ip netns exec "$G" nft -a list chain inet pinhole "$1" | grep -c 'handle [0-9]*$'; }
before=$(rules_in guard_forward)
handle=$(ip netns exec "$G" nft -a list chain inet pinhole guard_forward | grep 'TLS ClientHello towards' |
	head -1 | grep -o 'handle [0-9]*$' | grep -o '[0-9]*')
ip netns exec "$G" nft delete rule inet pinhole guard_forward handle "$handle" || bad "cannot delete the rule"
# The guard may put the chain back before the next line runs (it checks every second, and
# a loaded machine can stall this script that long): what proves the deletion is that the
# rule's handle is gone, since a repaired chain has rules with new handles.
ip netns exec "$G" nft -a list chain inet pinhole guard_forward | grep -q "handle $handle\$" &&
	bad "the rule was not deleted" || ok
gl_wait 5 "the steering rule to come back" "[ \"\$(rules_in guard_forward)\" = $before ]" && ok ||
	bad "a steering rule deleted by hand was not put back"
grep -q 'steering rules were removed; installing them again' "$T/guard.log" && ok || bad "no log line for the repair"
read -r rc ms <<<"$(refused evil.example.net 203.0.113.10)"
[ "$rc" = 35 ] && ok || bad "after the repair a denied ClientHello gives curl exit $rc"

gl_guard_stop || bad "the guard did not stop cleanly"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
