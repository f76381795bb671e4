#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The real Squid judges the squid backend.
# 1. `squid -k parse` takes a config that includes the fragment of every shipped rules file
#    and golden input, with no WARNING or ERROR line.
# 2. Functional: in a fresh network namespace (unshare -n: only its own loopback, no route
#    out), Squid runs on 127.0.0.1:3128 as the unprivileged proxy user with the fragment of
#    rules/marketo.rules and busybox httpd as the origin; Squid's hosts_file maps every name
#    to 127.0.0.1. curl through the proxy shows that allowed names pass and the others get
#    403 — among them the apex marketo.com, which "*.marketo.com" does not allow.
# 3. SNI: the same fragment on an ssl-bump port in front of an `openssl s_server` origin.
#    A CONNECT to an allowed name is spliced when the ClientHello's ServerName is allowed and
#    terminated when it is not (another name, or the apex). The rules name the certificate
#    (option squid_tls_cert) and the fragment writes the ssl-bump port itself; a ClientHello
#    without SNI is judged by the CONNECT host name; a CONNECT on the plain port is refused.
# 4. Clients: a rule without a scope is for Squid's localnet only (the stock config defines
#    it; here it is 127.0.0.1), so a client from 198.51.100.7 gets 403 for an allowed name;
#    "allow out from @clients" admits exactly its clients.
#    Without option squid_tls_cert the fragment has no ssl_bump lines and says so.
set -u
PINHOLE=${1:?usage: backends_squid.sh PATH_TO_PINHOLE}
for tool in squid curl busybox openssl; do
	command -v "$tool" >/dev/null || { echo "SKIP: needs $tool (scripts/deps.sh --test)"; exit 77; }
done
if ! squid -v | grep -q -- --with-openssl; then
	echo "SKIP: needs Squid built with OpenSSL (Debian: squid-openssl) for ssl_bump"
	exit 77
fi
if ! unshare -n true 2>/dev/null || ! id proxy >/dev/null 2>&1; then
	echo "SKIP: needs unshare -n (root) and the proxy user"
	exit 77
fi
tmp=$(mktemp -d)
chmod 755 "$tmp"	# Squid drops to the proxy user and must reach its files
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# A minimal squid.conf around a fragment: nothing outside $tmp, no cache, no disk state.
write_conf() {	# fragment, port, config file
	cat >"$3" <<EOF
acl localnet src 127.0.0.1/32
http_port 127.0.0.1:$2
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
include $1
http_access deny all
EOF
}
mkdir -p "$tmp/run" "$tmp/www"
chown proxy:proxy "$tmp/run"
: >"$tmp/hosts"

# A certificate for the ssl-bump ports (the golden files name /etc/squid/pinhole.pem).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$tmp/key.pem" \
	-out "$tmp/cert.pem" -days 2 -subj /CN=origin 2>/dev/null
cat "$tmp/cert.pem" "$tmp/key.pem" >"$tmp/both.pem"
chmod 644 "$tmp/both.pem" "$tmp/key.pem"

# 1. squid -k parse, zero warnings.
for rules in rules/*.rules tests/golden/*.rules; do
	name=$(basename "$rules" .rules)
	if ! "$PINHOLE" compile -b squid -o "$tmp/$name.squid" "$rules" 2>"$tmp/err"; then
		bad "compile -b squid $rules"; cat "$tmp/err"; continue
	fi
	sed -i "s#tls-cert=[^ ]*#tls-cert=$tmp/both.pem#" "$tmp/$name.squid"
	write_conf "$tmp/$name.squid" 3128 "$tmp/$name.conf"
	squid -k parse -f "$tmp/$name.conf" >"$tmp/parse" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && ! grep -E -q 'WARNING|ERROR|FATAL|Bungled' "$tmp/parse"; then ok; else
		bad "squid -k parse of the fragment of $rules (exit $rc):"; grep -E 'WARNING|ERROR|FATAL|Bungled' "$tmp/parse" | head
	fi
done

# 2. Functional, in a namespace. Each case: URL, proxy tunnel or not, expected status.
echo hello >"$tmp/www/index.html"
cat >"$tmp/hosts" <<'EOF'
127.0.0.1 www.marketo.com a.b.marketo.com marketo.com app.marketodesigner.com x.mktoweb.com
127.0.0.1 mkto-a0244.com www.mkto-a0244.com xmarketo.com marketo.com.evil.example evil.example
127.0.0.1 ws12.example.org ws.example.org
EOF
cat >"$tmp/lab.rules" <<'EOF'
option table = lab
set lab { 198.51.100.0/24 ~"^ws[0-9]+\.example\.org$" }
set outsiders { 198.51.100.8 }
set mkto { www.marketo.com }
allow out to @lab tcp port 80
allow out from @outsiders to @mkto tcp port 80
EOF
cat >"$tmp/cases.marketo" <<'EOF'
http://www.marketo.com/ - 200
http://a.b.marketo.com/ - 200
http://app.marketodesigner.com/ - 200
http://x.mktoweb.com/ - 200
http://mkto-a0244.com/ - 200
http://www.marketo.com:443/ tunnel 200
http://marketo.com/ - 403
http://www.mkto-a0244.com/ - 403
http://xmarketo.com/ - 403
http://marketo.com.evil.example/ - 403
http://evil.example/ - 403
http://www.marketo.com:8080/ - 403
http://marketo.com:443/ tunnel 403
EOF
cat >"$tmp/cases.lab" <<'EOF'
http://198.51.100.7/ - 200
http://ws12.example.org/ - 200
http://WS12.Example.ORG/ - 200
http://203.0.113.7/ - 403
http://ws.example.org/ - 403
http://198.51.100.7:8080/ - 403
http://ws12.example.org/ from=198.51.100.7 403
http://www.marketo.com/ - 403
http://www.marketo.com/ from=198.51.100.8 200
http://ws12.example.org/ from=198.51.100.8 403
EOF
cat >"$tmp/functional.sh" <<'EOF'
# Runs inside unshare -n. Prints "PASS ..." or "FAIL ..." per case.
tmp=$1
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
ip link set lo up
ip addr add 198.51.100.7/32 dev lo
ip addr add 198.51.100.8/32 dev lo
for port in 80 443 8080; do
	busybox httpd -f -p "0.0.0.0:$port" -h "$tmp/www" & pids+=($!)
done
for name in marketo lab; do
	squid -N -f "$tmp/$name.conf" & spid=$!
	pids+=($spid)
	for i in $(seq 50); do
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:3128/" && break
		sleep 0.2
	done
	while read -r url mode want; do
		args=(-s -o /dev/null -w '%{http_code}' --max-time 10 -x http://127.0.0.1:3128)
		[ "$mode" = tunnel ] && args+=(-p)
		[ "${mode#from=}" != "$mode" ] && args+=(--interface "${mode#from=}")
		got=$(curl "${args[@]}" "$url")
		# curl reports a refused CONNECT as 000 with the proxy's status in http_connect.
		[ "$mode" = tunnel ] && [ "$got" = 000 ] && got=$(curl "${args[@]}" -w '%{http_connect}' "$url" | tail -c 3)
		if [ "$got" = "$want" ]; then echo "PASS $name $url"; else echo "FAIL $name $url: got $got, want $want"; fi
	done <"$tmp/cases.$name"
	kill "$spid"; wait "$spid" 2>/dev/null
done
EOF
"$PINHOLE" compile -b squid -o "$tmp/marketo.squid" rules/marketo.rules 2>/dev/null
"$PINHOLE" compile -b squid -o "$tmp/lab.squid" "$tmp/lab.rules" 2>/dev/null
write_conf "$tmp/marketo.squid" 3128 "$tmp/marketo.conf"
write_conf "$tmp/lab.squid" 3128 "$tmp/lab.conf"
timeout 120 unshare -n bash "$tmp/functional.sh" "$tmp" >"$tmp/results" 2>"$tmp/stderr"
while read -r verdict rest; do
	if [ "$verdict" = PASS ]; then ok; else bad "$rest"; fi
done <"$tmp/results"
want=$(($(wc -l <"$tmp/cases.marketo") + $(wc -l <"$tmp/cases.lab")))
if [ "$(wc -l <"$tmp/results")" -ne "$want" ]; then
	bad "the functional run did not finish all $want cases:"; tail -5 "$tmp/stderr" "$tmp/run/cache.log" 2>/dev/null
fi

# 3. SNI through ssl_bump peek / splice / terminate.
{ cat rules/marketo.rules; echo "option squid_tls_cert $tmp/both.pem"; echo "option squid_tls_port 127.0.0.1:3129"; } \
	>"$tmp/sni.rules"
if "$PINHOLE" compile --strict -b squid -o "$tmp/sni.squid" "$tmp/sni.rules" 2>"$tmp/err"; then ok; else
	bad "compile --strict -b squid with option squid_tls_cert:"; cat "$tmp/err"
fi
write_conf "$tmp/sni.squid" 3128 "$tmp/sni.conf"
# Without a certificate: no ssl_bump at all, a warning, and --strict refuses.
"$PINHOLE" compile -b squid rules/marketo.rules >"$tmp/nocert.squid" 2>"$tmp/err"
if ! grep -q '^ssl_bump\|^acl .*server_name' "$tmp/nocert.squid" && grep -q 'warning: squid: no option squid_tls_cert' "$tmp/err"
then ok; else bad "without squid_tls_cert the fragment still has ssl_bump lines or no warning"; fi
if ! "$PINHOLE" compile --strict -b squid rules/marketo.rules >/dev/null 2>&1; then ok; else
	bad "compile --strict -b squid without squid_tls_cert succeeded"
fi
cat >"$tmp/sni.sh" <<'EOF'
tmp=$1
ip link set lo up
openssl s_server -accept 443 -cert "$tmp/cert.pem" -key "$tmp/key.pem" -www -quiet >/dev/null 2>&1 & origin=$!
squid -N -f "$tmp/sni.conf" & squid=$!
trap 'kill $origin $squid 2>/dev/null; wait 2>/dev/null' EXIT
for i in $(seq 50); do
	curl -s -o /dev/null --max-time 1 "http://127.0.0.1:3129/" && break
	sleep 0.2
done
for case in "www.marketo.com 1" "a.b.marketo.com 1" "evil.example 0" "marketo.com 0" "-noservername 1"; do
	set -- $case
	sni=(-servername "$1")
	[ "$1" = -noservername ] && sni=(-noservername)
	got=$(timeout 5 openssl s_client -proxy 127.0.0.1:3129 -connect www.marketo.com:443 "${sni[@]}" \
		-brief </dev/null 2>&1 | grep -c 'CONNECTION ESTABLISHED')
	if [ "$got" = "$2" ]; then echo "PASS sni $1"; else echo "FAIL sni $1: established $got, want $2"; fi
done
# The same CONNECT on the port without ssl-bump would skip the SNI check: refused.
got=$(curl -s -o /dev/null -p -x http://127.0.0.1:3128 -w '%{http_connect}' --max-time 5 https://www.marketo.com/)
if [ "$got" = 403 ]; then echo "PASS plain-port CONNECT refused"; else echo "FAIL plain-port CONNECT: got $got, want 403"; fi
EOF
timeout 60 unshare -n bash "$tmp/sni.sh" "$tmp" >"$tmp/sni.results" 2>"$tmp/stderr"
while read -r verdict rest; do
	if [ "$verdict" = PASS ]; then ok; else bad "$rest"; fi
done <"$tmp/sni.results"
[ "$(wc -l <"$tmp/sni.results")" -eq 6 ] || { bad "the SNI run did not finish:"; tail -5 "$tmp/stderr"; }

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
