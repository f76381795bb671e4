#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Records the test captures with real clients and servers, inside a network namespace of
# its own (unshare -n): only its loopback exists, so nothing can leave the machine. Names such
# as ws.marketo.com appear only in SNI and DNS payloads sent to local servers; dnsmasq answers
# them from its command line with documentation addresses.
#   sudo bash tests/captures/make.sh      (root; tshark, dumpcap, tcpdump, dnsmasq, dig,
#                                          openssl, curl and gnutls-cli installed)
# The captures are committed; rerun only to change them, then review the matcher tests.
set -euo pipefail
out=$(cd "$(dirname "$0")" && pwd)
if [ "${PINHOLE_IN_NETNS:-}" != 1 ]; then
	exec unshare -n env PINHOLE_IN_NETNS=1 bash "$0" "$@"
fi
ip link set lo up
# A loopback MTU of Ethernet size makes a ~1.8 KB ClientHello take two TCP segments, as a
# browser's post-quantum hello does on a real link; offloads off so the capture sees them.
ip link set lo mtu 1500
ethtool -K lo tso off gso off gro off >/dev/null
work=$(mktemp -d)
pids=()
servers=()
cleanup() {
	for p in "${servers[@]}" "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=ws.marketo.com -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

capture() {	# name, tool args...: starts a capture on lo, waits until it runs
	local name=$1; shift
	"$@" >"$work/$name.log" 2>&1 &
	pids+=($!)
	sleep 1
}

stop_captures() {	# servers get TERM, captures INT so they flush and close the file
	sleep 1
	local p
	for p in "${servers[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	for p in "${servers[@]}" "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
	servers=()
}

server() {	# port, extra s_server options
	local port=$1; shift
	openssl s_server -accept "$port" -cert "$work/cert.pem" -key "$work/key.pem" -www -quiet "$@" \
		</dev/null >/dev/null 2>&1 &
	servers+=($!)
}

hello() {	# s_client with a timeout: the handshake is all the capture needs
	timeout 5 openssl s_client "$@" </dev/null >/dev/null 2>&1 || true
}

long_alpn() {	# ~1.6 KB of ALPN protocol names: a hello that needs two segments
	local list="h2" i
	for i in $(seq 1 100); do list="$list,proto-$i-xxxxxxxxx"; done
	echo "$list"
}

record_tls() {
	server 443	# dual stack: serves ::1 too
	server 8443
	server 80 -groups secp384r1	# only P-384: clients sending an X25519 share get a retry
	sleep 1
	hello -connect 127.0.0.1:443 -servername ws.marketo.com
	curl -sk --max-time 5 --resolve app.marketo.com:443:127.0.0.1 https://app.marketo.com/ >/dev/null || true
	gnutls-cli --insecure --sni-hostname=lp.mktoweb.com -p 443 127.0.0.1 </dev/null >/dev/null 2>&1 || true
	hello -connect 127.0.0.1:443 -servername evil.example.com
	hello -connect 127.0.0.1:443 -noservername
	hello -connect 127.0.0.1:443 -servername WS.Marketo.COM
	hello -connect 127.0.0.1:8443 -servername ws.marketo.com
	hello -connect 127.0.0.1:443 -tls1_2 -servername www.marketodesigner.com
	hello -connect 127.0.0.1:80 -servername retry.marketo.com
	hello -connect "[::1]:443" -servername ws6.marketo.com
	hello -connect 127.0.0.1:443 -servername big.marketo.com -alpn "$(long_alpn)"
	hello -connect 127.0.0.1:443 -servername frag.marketo.com -alpn "$(long_alpn)" -max_send_frag 512
	hello -connect 127.0.0.1:443 -tls1 -cipher 'DEFAULT:@SECLEVEL=0' -servername old.marketo.com
}

record_dns() {
	local args=(--no-daemon --no-resolv --no-hosts --bind-interfaces --listen-address=127.0.0.1
		--listen-address=::1 --port=53 --user=root --log-facility=/dev/null
		--cname=pages.example.com,abc123.mktoweb.com
		--cname=deep.example.com,pages.example.com
		--host-record=abc123.mktoweb.com,192.0.2.10,2001:db8::10
		--host-record=ws.marketo.com,198.51.100.5
		--host-record=other.example.org,203.0.113.7
		--local-ttl=300 --address=/nowhere.example/)
	local i
	for i in $(seq 1 40); do args+=("--host-record=big.marketo.com,198.51.100.$i"); done
	dnsmasq "${args[@]}" &
	servers+=($!)
	sleep 1
	local q=(dig +tries=1 +time=2 @127.0.0.1)
	"${q[@]}" pages.example.com A >/dev/null
	"${q[@]}" pages.example.com AAAA >/dev/null
	"${q[@]}" deep.example.com A >/dev/null
	"${q[@]}" WS.Marketo.com A >/dev/null
	"${q[@]}" other.example.org A >/dev/null
	"${q[@]}" nowhere.example A >/dev/null || true
	"${q[@]}" +tcp abc123.mktoweb.com AAAA >/dev/null
	"${q[@]}" +noedns big.marketo.com A >/dev/null	# truncated over UDP, retried over TCP
	dig +tries=1 +time=2 @::1 ws.marketo.com A >/dev/null
}

capture tls tcpdump -i lo -U -w "$out/tls.pcap" tcp
record_tls
stop_captures
capture tls_any dumpcap -q -i any -w "$out/tls-sll2.pcapng" -f tcp
record_tls
stop_captures
capture dns dumpcap -q -i lo -w "$out/dns.pcapng" -f "port 53"
record_dns
stop_captures
capture dns_sll tcpdump -i any -y LINUX_SLL -U -w "$out/dns-sll.pcap" port 53
record_dns
stop_captures
ls -l "$out"/*.pcap*
