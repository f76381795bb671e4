# SPDX-License-Identifier: GPL-2.0-or-later
# guard_lib.bash — what the guard's end-to-end tests and benchmarks share: three network
# namespaces made here and deleted on exit (client - gateway - server, documentation
# addresses only, no default route anywhere), dnsmasq in the server namespace answering the
# test names with documentation addresses, TLS servers, and the guard itself running in the
# gateway namespace with CAP_NET_ADMIN as its only capability.
#
#   client  c0 192.0.2.2/24 2001:db8:1::2/64
#   gateway gwc0 192.0.2.1 2001:db8:1::1 | gws0 198.51.100.1 2001:db8:2::1  (forwarding)
#   server  s0 198.51.100.2 2001:db8:2::2, lo 203.0.113.0/24 and 2001:db8:3::/64 hosts
#
# Sourced with PINHOLE set; sets C, G, S (namespace names) and T (a scratch directory).

GL_TIMEOUT=${GL_TIMEOUT:-2}
GL_TAG=${GL_TAG:-$$}
C=pinhole-test-client-$GL_TAG
G=pinhole-test-gw-$GL_TAG
S=pinhole-test-server-$GL_TAG
GUARD_PID=""

gl_require() {
	local t
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for ip netns"; exit 77; }
	for t in ip nft dnsmasq dig curl openssl setpriv "$@"; do
		command -v "$t" >/dev/null || { echo "SKIP: needs $t (scripts/deps.sh --test)"; exit 77; }
	done
	ip netns add "pinhole-test-probe-$GL_TAG" 2>/dev/null || { echo "SKIP: cannot make network namespaces"; exit 77; }
	ip netns del "pinhole-test-probe-$GL_TAG"
}

# Kills what runs in our namespaces (only those), deletes them and the scratch directory.
gl_cleanup() {
	local n pid
	[ -n "$GUARD_PID" ] && kill "$GUARD_PID" 2>/dev/null
	for n in "$C" "$G" "$S"; do
		for pid in $(ip netns pids "$n" 2>/dev/null); do kill "$pid" 2>/dev/null; done
	done
	sleep 0.2
	for n in "$C" "$G" "$S"; do
		for pid in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
		ip netns del "$n" 2>/dev/null
	done
	[ -n "${T:-}" ] && rm -rf "$T"
}

gl_topology() {
	local n a
	T=$(mktemp -d)
	chmod 755 "$T"
	# the guard runs as nobody: its run directory is its own and nobody else's (pinhole(8) FILES)
	install -d -o 65534 -g 65534 -m 0700 "$T/run"
	export PINHOLE_STATE_DIR="$T/state" PINHOLE_RUN_DIR="$T/applyrun"
	mkdir -p "$PINHOLE_STATE_DIR" "$PINHOLE_RUN_DIR"
	for n in "$C" "$G" "$S"; do ip netns add "$n" && ip -n "$n" link set lo up || return 1; done
	ip link add c0 netns "$C" type veth peer name gwc0 netns "$G" || return 1
	ip link add s0 netns "$S" type veth peer name gws0 netns "$G" || return 1
	ip -n "$C" addr add 192.0.2.2/24 dev c0
	ip -n "$C" addr add 2001:db8:1::2/64 dev c0 nodad
	ip -n "$G" addr add 192.0.2.1/24 dev gwc0
	ip -n "$G" addr add 2001:db8:1::1/64 dev gwc0 nodad
	ip -n "$G" addr add 198.51.100.1/24 dev gws0
	ip -n "$G" addr add 2001:db8:2::1/64 dev gws0 nodad
	ip -n "$S" addr add 198.51.100.2/24 dev s0
	ip -n "$S" addr add 2001:db8:2::2/64 dev s0 nodad
	for a in 10 11 20 30 31 66; do ip -n "$S" addr add "203.0.113.$a/32" dev lo; done
	for a in 10 66; do ip -n "$S" addr add "2001:db8:3::$a/128" dev lo nodad; done
	ip -n "$C" link set c0 up; ip -n "$S" link set s0 up
	ip -n "$G" link set gwc0 up; ip -n "$G" link set gws0 up
	ip -n "$C" route add 198.51.100.0/24 via 192.0.2.1 advmss 200
	ip -n "$C" route add 203.0.113.0/24 via 192.0.2.1
	ip -n "$C" -6 route add 2001:db8:2::/64 via 2001:db8:1::1
	ip -n "$C" -6 route add 2001:db8:3::/64 via 2001:db8:1::1
	ip -n "$G" route add 203.0.113.0/24 via 198.51.100.2
	ip -n "$G" -6 route add 2001:db8:3::/64 via 2001:db8:2::2
	# Small MSSes make the client send its ClientHello, and the DNS server its answers over
	# TCP, in several segments; veth would otherwise carry them as one GSO packet, so neither
	# may build GSO packets.
	ip -n "$C" link set c0 gso_max_segs 1
	ip -n "$S" link set s0 gso_max_segs 1
	ip -n "$S" route add 192.0.2.0/24 via 198.51.100.1 advmss 200
	ip -n "$S" -6 route add 2001:db8:1::/64 via 2001:db8:2::1 advmss 200
	ip netns exec "$G" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# dnsmasq answers only from its own records (no upstream, no /etc/hosts). big.marketo.com
# has 100 A records, wide.marketo.com 100 AAAA records: a UDP answer of ~3 KB with EDNS0.
gl_dns() {
	ip netns exec "$S" dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces --edns-packet-max=4096 \
		--listen-address=198.51.100.2 --listen-address=2001:db8:2::2 --pid-file="$T/dnsmasq.pid" \
		--user=root --log-facility="$T/dnsmasq.log" --log-queries \
		--host-record=ws.marketo.com,203.0.113.10,2001:db8:3::10,300 \
		--host-record=app.marketo.com,203.0.113.11,300 \
		--host-record=acct.mktoweb.com,203.0.113.20,300 \
		--cname=go.customer.example,acct.mktoweb.com,300 \
		--host-record=short.marketo.com,203.0.113.30,3 \
		--host-record=brief.marketo.com,203.0.113.31,6 \
		--host-record=evil.example.net,203.0.113.66,2001:db8:3::66,300 \
		$(for i in $(seq 100 199); do printf -- '--host-record=big.marketo.com,203.0.113.%s,300 ' "$i"; done) \
		$(for i in $(seq 100 199); do printf -- '--host-record=wide.marketo.com,2001:db8:3::1:%s,300 ' "$i"; done) "$@" &
	gl_wait 5 "dnsmasq" "[ -s '$T/dnsmasq.pid' ]" || return 1
}

# One single-threaded TLS server per address: a connection the guard cut leaves the server
# waiting for its ClientHello, so tests restart it (gl_tls ADDR again).
gl_tls() {
	local a
	[ -f "$T/cert.pem" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$T/key.pem" -out "$T/cert.pem" -days 2 -subj /CN=pinhole-test 2>/dev/null
	for a in "$@"; do
		[ -f "$T/tls-$a.pid" ] && kill "$(cat "$T/tls-$a.pid")" 2>/dev/null && sleep 0.2
		local at="$a:443"
		[[ $a == *:* ]] && at="[$a]:443"
		ip netns exec "$S" openssl s_server -quiet -www -accept "$at" -cert "$T/cert.pem" \
			-key "$T/key.pem" >/dev/null 2>&1 &
		echo $! >"$T/tls-$a.pid"
	done
	sleep 0.3
}

# gl_wait SECONDS WHAT CONDITION: polls CONDITION every 0.1 s.
gl_wait() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		eval "$3" && return 0
		sleep 0.1
	done
	echo "timeout waiting for $2"
	return 1
}

# The guard in the gateway, as nobody with CAP_NET_ADMIN only; its output in $T/guard.log.
# Its /etc/resolv.conf is $T/resolv.conf (dnsmasq's addresses unless a test wrote another),
# bind-mounted in the mount namespace that ip netns exec makes for it alone.
gl_guard_start() {
	: >"$T/guard.log"
	[ -f "$T/resolv.conf" ] || printf 'nameserver 198.51.100.2\nnameserver 2001:db8:2::2\n' >"$T/resolv.conf"
	ip netns exec "$G" sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$T/resolv.conf" \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin --bounding-set=-all,+net_admin -- \
		"$PINHOLE" guard --rules "$T/gw.rules" --stats-file "$T/run/guard.stats" "$@" >>"$T/guard.log" 2>&1 &
	GUARD_PID=$!
	gl_wait 10 "the guard to start" "grep -q 'started:' '$T/guard.log' || ! kill -0 $GUARD_PID 2>/dev/null" &&
		kill -0 "$GUARD_PID" 2>/dev/null || { cat "$T/guard.log" >&2; GUARD_PID=""; return 1; }
}

gl_guard_stop() {
	[ -n "$GUARD_PID" ] || return 0
	kill "$GUARD_PID" 2>/dev/null
	gl_wait 10 "the guard to stop" "! kill -0 $GUARD_PID 2>/dev/null"
	wait "$GUARD_PID" 2>/dev/null
	local rc=$?
	GUARD_PID=""
	# Under the sanitizers (ctest in build-asan) a report fails the stop.
	if grep -qE 'runtime error|Sanitizer' "$T/guard.log"; then
		grep -E -A5 'runtime error|Sanitizer' "$T/guard.log" >&2
		return 1
	fi
	return $rc
}

# gl_curl NAME ADDRESS [FAMILY]: the HTTP status of https://NAME/ at ADDRESS from the client
# (000: no connection).
gl_curl() {
	local addr=$2
	[[ $addr == *:* ]] && addr="[$addr]"
	ip netns exec "$C" curl -sk -o /dev/null -w '%{http_code}' --max-time "$GL_TIMEOUT" \
		--resolve "$1:443:$addr" "https://$1/" 2>/dev/null
}

# gl_dig NAME [TYPE] [SERVER]: the answer's addresses, one a line.
gl_dig() {
	ip netns exec "$C" dig +time=1 +tries=2 "@${3:-198.51.100.2}" "$1" "${2:-A}" +short 2>/dev/null |
		grep -E '^[0-9a-f.:]+$' | grep -v '\.$'
}

# gl_set_expires SET ADDRESS: seconds left of ADDRESS in the gateway's SET, or nothing.
gl_set_expires() {
	ip netns exec "$G" nft -j list set inet pinhole "$1" 2>/dev/null |
		grep -o "\"val\": \"$2\"[^}]*\"expires\": [0-9]*" | grep -o '[0-9]*$'
}

gl_stat() {
	grep -o "\"$1\": [0-9]*" "$T/run/guard.stats" 2>/dev/null | grep -o '[0-9]*$'
}
