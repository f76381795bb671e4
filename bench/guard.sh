#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Guard benchmark (issue 7 targets), in namespaces made here (tests/integration/guard_lib.bash):
#   - the latency the guard adds to a DNS answer in strict mode: p99 < 1 ms;
#   - >= 50,000 DNS answers/s through the queue without queue drops;
#   - ClientHello verdicts per second.
# The client asks a resolver in the server namespace (198.51.100.2, the guard's resolv.conf)
# and its answers go back through the gateway, where the guard holds each one until the set
# update it causes is committed (it believes only answers to queries it saw: it reads their
# copies from its log group first). 'unique' answers each carry a new address (every answer
# costs a set update: the worst case); 'same' ones repeat 16 names (a cache answering:
# nothing to send, the answer is released at once).
# Usage: [RATE=50000] [MORE_RATES="10000 100000 200000"] bench/guard.sh [PATH_TO_PINHOLE]
#        (default build/pinhole; root)
set -euo pipefail
cd "$(dirname "$0")/.."
PINHOLE=$(realpath "${1:-build/pinhole}")
RATE=${RATE:-50000}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
. tests/integration/guard_lib.bash
gl_require cc
trap gl_cleanup EXIT
gl_topology
cc -O2 -pthread -o "$T/guard_load" bench/guard_load.c
# No default-deny here: the policy is only the set the guard fills.
cat >"$T/gw.rules" <<'EOF'
set marketo_web { *.marketo.com }
allow out to @marketo_web tcp port 443
EOF
chmod 644 "$T/gw.rules"
ip netns exec "$G" "$PINHOLE" apply -q "$T/gw.rules"
run() { local what=$1; shift; "$T/guard_load" "$what" "$C" "$S" "$@"; }
# The guard's CPU time so far, in ms (user + system, from /proc).
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$GUARD_PID/stat"; }
rate() {	# rate RATE unique|same: one run, with the kernel's drops and the guard's CPU per answer
	local before; before=$(cpu_ms)
	run dns-rate "$1" "$SECONDS_PER_RUN" "$2"
	echo "   $(drops), guard CPU $(( $(cpu_ms) - before )) ms"
}
drops() {
	ip netns exec "$G" cat /proc/net/netfilter/nfnetlink_queue |
		awk '$1 == 2000 { printf "queue_dropped %s user_dropped %s", $6, $7 }'
}

echo "== baseline: no guard, no steering rules"
run dns-latency 3000 unique
gl_guard_start --log-level notice
echo "== guard, strict mode: $(grep -o 'steering rules installed.*' "$T/guard.log"), $(grep -o 'refresh by [a-z]*' "$T/guard.log")"
echo "-- added latency, one answer at a time"
run dns-latency 3000 unique
run dns-latency 3000 same
echo "-- throughput at $RATE answers/s offered, $SECONDS_PER_RUN s"
rate "$RATE" unique
rate "$RATE" same
for r in ${MORE_RATES-10000 100000 200000}; do
	echo "-- $r answers/s offered"
	rate "$r" unique
done
sleep 1.2
echo "-- guard counters: set_batches $(gl_stat set_batches), set_elements $(gl_stat set_elements)," \
	"dns_responses $(gl_stat dns_responses), hold p50 $(grep -o '"dns_hold_p50_us": [0-9]*' "$T/run/guard.stats" | grep -o '[0-9]*$') us," \
	"p99 $(grep -o '"dns_hold_p99_us": [0-9]*' "$T/run/guard.stats" | grep -o '[0-9]*$') us"
echo "-- ClientHello verdicts (each a new connection to a learnt address)"
ip netns exec "$G" nft add element inet pinhole marketo_web_dns_v4 '{ 203.0.113.10 timeout 1h }'
run tls-rate 20000 10000 1024
run tls-rate 20000 20000 21024
run tls-rate 20000 0 41024
ip netns exec "$G" cat /proc/net/netfilter/nfnetlink_queue | awk '$1 == 2001 { print "   tls queue_dropped " $6 " user_dropped " $7 }'
gl_guard_stop
