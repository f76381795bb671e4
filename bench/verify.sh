#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Verify benchmark (issue 16 target): `pinhole verify` of the shipped rules/marketo.rules,
# every parameter set, against dnsmasq on 127.0.0.1 in a private network namespace (lo only,
# no route out; the zone's names are served there and nowhere else) takes < 1 s, whole
# process. The zone is right, so every check runs to its end: 2 CNAME chains, the SPF tree
# (include:mktomail.com), the DKIM record and MX. Reports the median and the slowest of 30
# runs (each a fresh process with a cold cache), and how many DNS questions one run asks.
# Usage: bench/verify.sh [PATH_TO_PINHOLE]   (as root; needs dnsmasq, jq, unshare)
set -euo pipefail
cd "$(dirname "$0")/.."
PINHOLE=$(realpath "${1:-build/pinhole}")
if [ -z "${VERIFY_BENCH_NETNS:-}" ]; then
	VERIFY_BENCH_NETNS=1 exec unshare -n bash "$0" "$PINHOLE"
fi
ip link set lo up
work=$(mktemp -d)
dns_pid=""
trap '[ -n "$dns_pid" ] && kill "$dns_pid"; rm -rf "$work"' EXIT

KEY="MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"	# only compared, never used to verify
dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces --listen-address=127.0.0.1 \
	--port=53 --user=root --pid-file="$work/dnsmasq.pid" --log-facility="$work/dnsmasq.log" \
	--local=/example.com/ --local=/example.net/ --local=/mktoweb.com/ --local=/mktomail.com/ \
	--host-record=abc123.mktoweb.com,192.0.2.10 --cname=go.example.com,abc123.mktoweb.com \
	--host-record=trk.example.net,192.0.2.11 --cname=pages.example.com,trk.example.net \
	--txt-record=example.com,"v=spf1 mx ip4:192.0.2.25 include:mktomail.com ~all" \
	--txt-record=mktomail.com,"v=spf1 ip4:192.0.2.0/24 -all" \
	--txt-record=m1._domainkey.example.com,"v=DKIM1; k=rsa; p=$KEY" \
	--mx-host=example.com,mx.example.com,10 --host-record=mx.example.com,192.0.2.25 &
dns_pid=$!
for _ in $(seq 50); do [ -s "$work/dnsmasq.pid" ] && break; sleep 0.1; done

cmd="$PINHOLE verify --server 127.0.0.1 -D tracking=trk.example.net -D email_alias=pages.example.com \
-D landing=go.example.com -D account=abc123 -D company_domain=example.com \
-D dkim_host=m1._domainkey.example.com -D dkim_value=v=DKIM1;k=rsa;p=$KEY rules/marketo.rules"
$cmd >"$work/out" || { cat "$work/out"; echo "verify did not pass"; exit 1; }
queries=$($cmd --format json | jq .queries)
# times 30 runs of "$@"; prints "MEDIAN SLOWEST" in ms
timed() {
	local runs=() t0 sorted
	for _ in $(seq 30); do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1
		runs+=($(( ($(date +%s%N) - t0) / 1000 )))
	done
	sorted=$(printf '%s\n' "${runs[@]}" | sort -n)
	echo "$(bc <<<"scale=1; $(sed -n 15p <<<"$sorted") / 1000") $(bc <<<"scale=1; $(tail -1 <<<"$sorted") / 1000")"
}
read -r v_med v_max < <(timed $cmd)
read -r c_med _ < <(timed "$PINHOLE" check rules/marketo.rules)
printf 'verify of rules/marketo.rules: %d records, %d DNS questions, median %s ms, slowest %s ms of 30 (target < 1000 ms); check of the same file: median %s ms\n' \
	"$(grep -c '^rules/' "$work/out")" "$queries" "$v_med" "$v_max" "$c_med"
