#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One probe matrix, every backend that runs on Linux. Three fresh network namespaces — a
# client (192.0.2.10 in scope, 192.0.2.11 outside it; 2001:db8:1::10/::11), a gateway and a
# server (203.0.113.10 allowed, 203.0.113.20 not; 2001:db8:2::10/::20) — and ONE table of
# probes, each with the verdict the policy states and, per backend, what that backend must
# give: "=" the policy's verdict, "-" the backend cannot see the probe (it said so when
# compiling: a note or warning), "~allow"/"~deny" an approximation the compiler must have
# warned about. Any other difference fails: there are no silent differences.
#   nft       pinhole apply, table mode, option default_deny gwc0 reject
#   sets      pinhole apply, sets-only mode, with the same policy written by hand in the
#             user's own table against pinhole's sets
#   iptables  ipset restore + iptables-restore / ip6tables-restore of the iptables backend
#   squid     Squid on the gateway with the squid backend's fragment; clients use it as a
#             proxy (HTTP and CONNECT; TLS probes carry a right or a wrong ServerName)
# pf cannot run on Linux: its output is held to golden files and the pf.conf(5) grammar
# (golden.sh, backends_pf.sh). Names are matched by pinhole guard for the packet filters
# (guard_e2e.sh), so the TLS probes are "-" for them.
set -u
PINHOLE=$(realpath "${1:?usage: enforce_matrix.sh PATH_TO_PINHOLE}")
for tool in nft ipset iptables-restore squid curl busybox dnsmasq dig openssl nsenter; do
	command -v "$tool" >/dev/null || { echo "SKIP: needs $tool (scripts/deps.sh --test)"; exit 77; }
done
if ! unshare -n true 2>/dev/null || ! id proxy >/dev/null 2>&1; then
	echo "SKIP: needs unshare -n (root) and the proxy user"
	exit 77
fi
squid -v | grep -q -- --with-openssl || { echo "SKIP: needs squid-openssl"; exit 77; }

tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# ---- the policy and the probes, written once -------------------------------------------

cat >"$tmp/policy.rules" <<'EOF'
option default_deny gwc0 reject
option squid_tls_cert TLSCERT
option squid_tls_port 192.0.2.1:3129
set clients { 192.0.2.10 2001:db8:1::10 }
set web { 203.0.113.10 2001:db8:2::10 }
set names { www.example.com }
allow out from @clients to @web tcp port 443
allow out to @web tcp port 8080
allow out from @clients to @web udp port 53
allow out from @clients to @names tcp port 8443
EOF

# name          src              dst              proto port  policy  nft sets iptables squid
cat >"$tmp/probes" <<'EOF'
v4-scoped       192.0.2.10       203.0.113.10     tcp   443   allow   =   =    =        =
v4-outsider     192.0.2.11       203.0.113.10     tcp   443   deny    =   =    =        =
v4-anyclient    192.0.2.11       203.0.113.10     tcp   8080  allow   =   =    =        =
v4-wrongdst     192.0.2.10       203.0.113.20     tcp   443   deny    =   =    =        =
v4-wrongport    192.0.2.10       203.0.113.10     tcp   22    deny    =   =    =        =
v6-scoped       2001:db8:1::10   2001:db8:2::10   tcp   443   allow   =   =    =        =
v6-outsider     2001:db8:1::11   2001:db8:2::10   tcp   443   deny    =   =    =        =
v6-wrongdst     2001:db8:1::10   2001:db8:2::20   tcp   443   deny    =   =    =        =
v4-udp          192.0.2.10       203.0.113.10     udp   53    allow   =   =    =        -
v4-udp-outsider 192.0.2.11       203.0.113.10     udp   53    deny    =   =    =        -
v4-udp-port     192.0.2.10       203.0.113.10     udp   54    deny    =   =    =        -
v6-udp          2001:db8:1::10   2001:db8:2::10   udp   53    allow   =   =    =        -
sni-right       192.0.2.10       www.example.com  tls   8443  allow   -   -    -        =
sni-wrong       192.0.2.10       evil.example     tls   8443  deny    -   -    -        =
sni-none        192.0.2.10       -                tls   8443  allow   -   -    -        =
sni-outsider    192.0.2.11       www.example.com  tls   8443  deny    -   -    -        =
EOF

# ---- the fixture ---------------------------------------------------------------------------

ns() { unshare -n sleep 600 & pids+=($!); }
ns; cl=${pids[-1]}
ns; gw=${pids[-1]}
ns; sv=${pids[-1]}
sleep 0.3
in_ns() { local t=$1; shift; nsenter -t "$t" -n "$@"; }
# A server in a namespace, in the background: nsenter execs it, so $! is the server itself.
bg_ns() { local t=$1; shift; nsenter -t "$t" -n "$@" & pids+=($!); }
setup_fixture() {
	for t in $cl $gw $sv; do in_ns "$t" ip link set lo up; done
	in_ns "$gw" ip link add gwc0 type veth peer name cl0 netns "/proc/$cl/ns/net"
	in_ns "$gw" ip link add gws0 type veth peer name sv0 netns "/proc/$sv/ns/net"
	in_ns "$gw" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	local a
	in_ns "$gw" ip addr add 192.0.2.1/24 dev gwc0
	in_ns "$gw" ip addr add 2001:db8:1::1/64 dev gwc0 nodad
	in_ns "$gw" ip addr add 203.0.113.1/24 dev gws0
	in_ns "$gw" ip addr add 2001:db8:2::1/64 dev gws0 nodad
	for a in 10 11; do
		in_ns "$cl" ip addr add "192.0.2.$a/24" dev cl0
		in_ns "$cl" ip addr add "2001:db8:1::$a/64" dev cl0 nodad
	done
	for a in 10 20; do
		in_ns "$sv" ip addr add "203.0.113.$a/24" dev sv0
		in_ns "$sv" ip addr add "2001:db8:2::$a/64" dev sv0 nodad
	done
	in_ns "$gw" ip link set gwc0 up; in_ns "$gw" ip link set gws0 up
	in_ns "$cl" ip link set cl0 up; in_ns "$sv" ip link set sv0 up
	in_ns "$cl" ip route add default via 192.0.2.1
	in_ns "$cl" ip -6 route add default via 2001:db8:1::1
	in_ns "$sv" ip route add default via 203.0.113.1
	in_ns "$sv" ip -6 route add default via 2001:db8:2::1
}
start_servers() {
	mkdir -p "$tmp/www" "$tmp/run"
	chown proxy:proxy "$tmp/run"
	echo hello >"$tmp/www/index.html"
	for port in 443 8080 22; do
		bg_ns "$sv" busybox httpd -f -p "[::]:$port" -h "$tmp/www"
	done
	for port in 53 54; do
		bg_ns "$sv" dnsmasq -k --port="$port" --bind-interfaces --listen-address=203.0.113.10 \
			--listen-address=2001:db8:2::10 --no-resolv --no-hosts --address=/probe.test/192.0.2.99 \
			--pid-file="$tmp/dnsmasq$port.pid" --conf-file=/dev/null 2>/dev/null
	done
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$tmp/key.pem" \
		-out "$tmp/cert.pem" -days 2 -subj /CN=origin 2>/dev/null
	cat "$tmp/cert.pem" "$tmp/key.pem" >"$tmp/both.pem"
	chmod 644 "$tmp/both.pem" "$tmp/key.pem"
	bg_ns "$sv" openssl s_server -accept 8443 -cert "$tmp/cert.pem" -key "$tmp/key.pem" -www -quiet \
		>/dev/null 2>&1
	sleep 1
}
setup_fixture
start_servers
sed -i "s#TLSCERT#$tmp/both.pem#" "$tmp/policy.rules"

# ---- probes --------------------------------------------------------------------------------

url_host() { case $1 in *:*) echo "[$1]" ;; *) echo "$1" ;; esac; }
# One packet-filter probe from the client: prints allow or deny.
probe_direct() {	# src dst proto port
	if [ "$3" = udp ]; then
		in_ns "$cl" dig +short +tries=1 +time=2 -b "$1" -p "$4" @"$2" probe.test 2>/dev/null | grep -q 192.0.2.99 &&
			echo allow || echo deny
		return
	fi
	in_ns "$cl" curl -s -o /dev/null --connect-timeout 2 --max-time 4 --interface "$1" \
		"http://$(url_host "$2"):$4/" && echo allow || echo deny
}
# One probe through Squid on the gateway.
probe_squid() {	# src dst proto port
	local got
	if [ "$3" = tls ] && [ "$2" = www.example.com ]; then
		# The CONNECT host as ServerName, from the probe's source address.
		got=$(in_ns "$cl" curl -s -k -o /dev/null -w '%{http_code}' --max-time 5 --interface "$1" -p \
			-x http://192.0.2.1:3129 "https://www.example.com:$4/")
		[ "$got" = 200 ] && echo allow || echo deny
		return
	fi
	if [ "$3" = tls ]; then
		# Another ServerName (or none) than the CONNECT host: openssl s_client, from the
		# client's first address (it has no option for the source).
		[ "$1" = 192.0.2.10 ] || { echo "probe table: a wrong-SNI probe must come from 192.0.2.10"; return; }
		local sni=(-servername "$2")
		[ "$2" = - ] && sni=(-noservername)
		got=$(in_ns "$cl" timeout 5 openssl s_client -proxy 192.0.2.1:3129 -connect www.example.com:"$4" \
			"${sni[@]}" -brief </dev/null 2>&1 | grep -c 'CONNECTION ESTABLISHED')
		[ "$got" = 1 ] && echo allow || echo deny
		return
	fi
	got=$(in_ns "$cl" curl -s -o /dev/null -w '%{http_code}' --max-time 5 --interface "$1" \
		-x "http://$(case $1 in *:*) echo '[2001:db8:1::1]' ;; *) echo 192.0.2.1 ;; esac):3128" \
		"http://$(url_host "$2"):$4/")
	[ "$got" = 200 ] && echo allow || echo deny
}

# Checks every probe against one backend's column; warnings is the compiler's stderr.
judge() {	# backend column warnings-file prober
	local backend=$1 col=$2 warn=$3 prober=$4
	while read -r name src dst proto port policy c_nft c_sets c_ipt c_squid; do
		[ "${name:0:1}" = "#" ] && continue
		local cols=("$c_nft" "$c_sets" "$c_ipt" "$c_squid") want got
		want=${cols[$col]}
		case $want in
		-) continue ;;	# the backend cannot see it: checked below, once per backend
		=) want=$policy ;;
		~*) want=${want#\~}
			grep -q warning "$warn" || { bad "$backend $name: approximated without a warning"; continue; } ;;
		esac
		if [ "$proto" = tls ] && [ "$backend" != squid ]; then continue; fi
		got=$($prober "$src" "$dst" "$proto" "$port")
		if [ "$got" = "$want" ]; then ok; else bad "$backend $name: $got, the table says $want (policy: $policy)"; fi
	done <"$tmp/probes"
}

# option default_deny gwc0 reject: a denied TCP connection is refused (curl exit 7: a reset
# or ICMP administratively prohibited), not left to time out (exit 28).
refused_fast() {	# backend src dst
	local rc
	in_ns "$cl" curl -s -o /dev/null --connect-timeout 3 --interface "$2" "http://$(url_host "$3"):443/"
	rc=$?
	if [ "$rc" = 7 ]; then ok; else bad "$1: a denied connection from $2 to $3 gives curl exit $rc, want 7 (refused)"; fi
}

# ---- the backends -------------------------------------------------------------------------

reset_gateway() {
	in_ns "$gw" nft flush ruleset
	in_ns "$gw" ipset destroy 2>/dev/null
	rm -rf "$tmp/state"
}

# nft, table mode.
reset_gateway
PINHOLE_STATE_DIR=$tmp/state in_ns "$gw" "$PINHOLE" apply -q "$tmp/policy.rules" 2>"$tmp/nft.warn" ||
	bad "apply (table mode): $(cat "$tmp/nft.warn")"
judge nft 0 "$tmp/nft.warn" probe_direct
refused_fast nft 192.0.2.11 203.0.113.10
refused_fast nft 2001:db8:1::10 2001:db8:2::20

# nft, sets-only: the user's own table and chains, pinhole's sets.
reset_gateway
grep -v '^option default_deny' "$tmp/policy.rules" >"$tmp/sets.rules"
printf 'option mode sets-only\noption table mine\n' >>"$tmp/sets.rules"
# The sets must exist before the user's rules can name them: load pinhole's sets first.
in_ns "$gw" nft flush ruleset
in_ns "$gw" nft add table inet mine
PINHOLE_STATE_DIR=$tmp/state in_ns "$gw" "$PINHOLE" apply -q "$tmp/sets.rules" 2>"$tmp/sets.warn" ||
	bad "apply (sets-only): $(cat "$tmp/sets.warn")"
in_ns "$gw" nft -f - <<'EOF'
table inet mine {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state established,related accept
		meta l4proto ipv6-icmp accept
		ip daddr @web_v4 ip saddr @clients_v4 tcp dport 443 accept
		ip6 daddr @web_v6 ip6 saddr @clients_v6 tcp dport 443 accept
		ip daddr @web_v4 tcp dport 8080 accept
		ip6 daddr @web_v6 tcp dport 8080 accept
		ip daddr @web_v4 ip saddr @clients_v4 udp dport 53 accept
		ip6 daddr @web_v6 ip6 saddr @clients_v6 udp dport 53 accept
		iifname "gwc0" meta l4proto tcp reject with tcp reset
		iifname "gwc0" reject with icmpx admin-prohibited
	}
}
EOF
judge sets 1 "$tmp/sets.warn" probe_direct

# iptables + ipset.
reset_gateway
"$PINHOLE" compile -b iptables -o "$tmp/ipt" "$tmp/policy.rules" 2>"$tmp/ipt.warn" ||
	bad "compile -b iptables: $(cat "$tmp/ipt.warn")"
in_ns "$gw" sh -c "ipset restore -file '$tmp/ipt/ipsets' && iptables-restore '$tmp/ipt/rules.v4' &&
	ip6tables-restore '$tmp/ipt/rules.v6'" || bad "iptables: loading failed"
judge iptables 2 "$tmp/ipt.warn" probe_direct
refused_fast iptables 192.0.2.11 203.0.113.10
refused_fast iptables 2001:db8:1::10 2001:db8:2::20

# Squid on the gateway, no packet filter: it decides alone.
reset_gateway
"$PINHOLE" compile -b squid -o "$tmp/frag.squid" "$tmp/policy.rules" 2>"$tmp/squid.warn" ||
	bad "compile -b squid: $(cat "$tmp/squid.warn")"
grep -q 'note: squid: rule left out: a forward proxy does not see UDP' "$tmp/squid.warn" && ok ||
	bad "squid: no note for the UDP probes it cannot see"
printf '203.0.113.10 www.example.com evil.example\n' >"$tmp/hosts"
cat >"$tmp/squid.conf" <<EOF
acl localnet src 192.0.2.0/24 2001:db8:1::/64
http_port 192.0.2.1:3128
http_port [2001:db8:1::1]:3128
pid_filename $tmp/run/squid.pid
cache_log $tmp/run/cache.log
access_log stdio:$tmp/run/access.log
netdb_filename none
cache deny all
cache_mem 8 MB
coredump_dir $tmp/run
hosts_file $tmp/hosts
dns_nameservers 127.0.0.1
cache_effective_user proxy
cache_effective_group proxy
shutdown_lifetime 0 seconds
include $tmp/frag.squid
http_access deny all
EOF
bg_ns "$gw" squid -N -f "$tmp/squid.conf"
for i in $(seq 50); do
	in_ns "$cl" curl -s -o /dev/null --max-time 1 http://192.0.2.1:3128/ && break
	sleep 0.2
done
judge squid 3 "$tmp/squid.warn" probe_squid

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
