#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Guard benchmark (issue 17), in namespaces made here (tests/integration/guard_lib.bash):
#   - the latency the guard adds to a DNS answer in strict mode while RATE answers/s flow,
#     each after its query: the time from the answer entering the gateway (gws0) to its
#     leaving (gwc0), from the kernel's timestamps on two packet sockets there, with the
#     guard and without it (no guard, no steering rules: the same path, forwarding only);
#     target p99 added < 1 ms at 50,000 answers/s with every answer a new address;
#   - the answers lost on the way (the queue's drops, read from the kernel);
#   - ClientHello verdicts per second (TLS=0 skips them).
# The generator (bench/guard_load.c) sleeps between its ticks and runs on core GEN_CPU, the
# guard on core GUARD_CPU. 'unique' answers each carry a new address (every answer costs a
# set update: the worst case); 'same' ones repeat 16 names and addresses with TTLs that
# count down (a cache answering: seldom anything to send to the kernel). ROUNDS rounds of:
# baseline unique, baseline same, guard unique, guard same, SECONDS_PER_RUN each.
# Usage: [RATE=50000] [SECONDS_PER_RUN=5] [ROUNDS=2] [BURST=5] [MORE_RATES="100000"] [MIXES="unique same"]
#        [DUMP_DIR=DIR: each answer's entry time and latency, a file a run]
#        [GUARD_LOG=FILE: the guard's log appended there]
#        [PREFILL=0] [GC_INTERVAL=] [GEN_CPU=0] [GUARD_CPU=1] [NICE=-10] [FIFO=0] [GUARD_ARGS=...] bench/guard.sh [PATH_TO_PINHOLE]      (default build/pinhole; root)
set -euo pipefail
cd "$(dirname "$0")/.."
PINHOLE=$(realpath "${1:-build/pinhole}")
RATE=${RATE:-50000}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
ROUNDS=${ROUNDS:-2}
BURST=${BURST:-5}
GEN_CPU=${GEN_CPU:-0}
GUARD_CPU=${GUARD_CPU:-1}
# Both at a higher priority than the other jobs of a shared machine (which then wait, on
# either core, rather than the measured processes): NICE=0 to measure without.
NICE=${NICE:--10}
# FIFO=1: both as real-time tasks instead (SCHED_FIFO 10): the other jobs then wait
# whenever the measured ones want their core (a shared machine's numbers, not a gateway's).
FIFO=${FIFO:-0}
prio() { if [ "$FIFO" = 1 ]; then chrt -f 10 "$@"; else nice -n "$NICE" "$@"; fi; }
read -r -a guard_args <<<"${GUARD_ARGS:-}"
. tests/integration/guard_lib.bash
gl_require cc taskset jq
bench_cleanup() {
	mountpoint -q "$T/run" 2>/dev/null && umount "$T/run"
	gl_cleanup
}
trap bench_cleanup EXIT
gl_topology
# The guard's run directory on tmpfs, as /run/pinhole is: on ext4 the stats file, replaced
# by a rename every second, starts writeback from the guard's rename (auto_da_alloc).
mount -t tmpfs -o size=256m,mode=0700,uid=65534,gid=65534 tmpfs "$T/run"
cc -O2 -Wall -pthread -o "$T/guard_load" bench/guard_load.c
# No default-deny here: the policy is only the set the guard fills.
cat >"$T/gw.rules" <<'EOF'
set marketo_web { *.marketo.com }
allow out to @marketo_web tcp port 443
EOF
chmod 644 "$T/gw.rules"
# On the generator's core: the kernel's garbage collection of a timeout set walks all its
# elements once a second without giving up the CPU (about 75 ns an element here), and that
# work stays on the CPU that made the set (README: guard).
ip netns exec "$G" taskset -c "$GEN_CPU" "$PINHOLE" apply -q "$T/gw.rules"
# GC_INTERVAL=1h: no such walk during the runs (the sets' gc-interval raised; elements still
# expire on time for lookups), to see the guard without the kernel's periodic work.
for f in 4 6; do
	[ -n "${GC_INTERVAL:-}" ] && ip netns exec "$G" nft add set inet pinhole marketo_web_dns_v$f \
		"{ type ipv${f}_addr; flags timeout; gc-interval $GC_INTERVAL; }"
done

# The guard's CPU time so far, in ms (user + system, from /proc).
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$GUARD_PID/stat"; }
drops() {	# queue 2000's queue_dropped + user_dropped so far (0 when not bound)
	ip netns exec "$G" cat /proc/net/netfilter/nfnetlink_queue | awk '$1 == 2000 { d = $6 + $7 } END { print d + 0 }'
}
first=0
# load MIX [RATE]: one run of the generator, pinned; addresses stay new across runs.
load() {
	[ -n "${DUMP_DIR:-}" ] && export GUARD_LOAD_DUMP="$DUMP_DIR/$first-$1.txt"
	prio taskset -c "$GEN_CPU" "$T/guard_load" dns-load "$C" "$G" "$S" "${2:-$RATE}" "$SECONDS_PER_RUN" "$1" "$first" "$BURST" |
		sed 's/^/   /'
	first=$((first + 1000000))
}
guarded() {	# guarded MIX [RATE]: one run through the guard, with its CPU time and the queue's drops
	local cpu drop
	cpu=$(cpu_ms) drop=$(drops)
	load "$@"
	echo "   queue drops $(( $(drops) - drop )), guard CPU $(( $(cpu_ms) - cpu )) ms"
}
# PREFILL=N: the learnt IPv6 set holds N other addresses (2001:db8:ffff::/64, 1 h) before
# the guard starts, so that its hash table is already large: the kernel doubles a set's
# table inside the commit that passes three quarters of it (98,304 elements, 196,608, ...),
# and such a commit takes 10-30 ms here. With 200,000 the table is good for 393,216.
prefill() {
	[ "${PREFILL:-0}" -gt 0 ] || return 0
	awk -v n="$PREFILL" 'BEGIN { for (i = 0; i < n; i += 10000) {
		printf "add element inet pinhole marketo_web_dns_v6 {"
		for (j = i; j < i + 10000 && j < n; j++) printf "%s 2001:db8:ffff::%x:%x timeout 1h", (j > i ? "," : ""), int(j / 65536), j % 65536
		print " }" } }' >"$T/prefill.nft"
	ip netns exec "$G" taskset -c "$GEN_CPU" nft -f "$T/prefill.nft"
}
guard_up() {
	prefill
	gl_guard_start --log-level notice "${guard_args[@]}"
	taskset -apc "$GUARD_CPU" "$GUARD_PID" >/dev/null
	if [ "$FIFO" = 1 ]; then chrt -f -p 10 "$GUARD_PID"; else renice -n "$NICE" -p "$GUARD_PID" >/dev/null; fi
	echo "-- guard (pid $GUARD_PID) on core $GUARD_CPU: $(grep -o 'steering rules installed.*' "$T/guard.log"), $(grep -o 'refresh by [a-z]*' "$T/guard.log")"
}
# What the guard counted since it started: every answer of the unique mix must have been
# believed (none unsolicited: its query's copy was read) and cost an element.
guard_stats() {
	jq -r '.counters as $c | "   guard: answers \($c.dns_responses), unsolicited \($c.dns_unsolicited), new addresses \($c.addrs_new), set batches \($c.set_batches) (\($c.set_elements) elements, \($c.set_errors) errors), socket overruns \($c.queue_overruns), dropped uncommitted \($c.dns_dropped_uncommitted // "-")" + (if .dns_hold then "; its own hold time (queue to verdict, \(.dns_hold.seconds) s to \(.dns_hold.from)): p50 \(.dns_hold.p50_us) us, p99 \(.dns_hold.p99_us) us, p99.9 \(.dns_hold.p999_us) us, max \(.dns_hold.max_us) us" else "" end)' "$T/run/guard.stats"
}
guard_down() {
	gl_guard_stop
	[ -n "${GUARD_LOG:-}" ] && cat "$T/guard.log" >>"$GUARD_LOG"
	ip netns exec "$G" "$PINHOLE" guard --uninstall --rules "$T/gw.rules" >/dev/null
	rm -f "$T/run/guard.state"	# the next guard starts empty, not with a replay
	ip netns exec "$G" nft flush set inet pinhole marketo_web_dns_v4
	ip netns exec "$G" nft flush set inet pinhole marketo_web_dns_v6
}

echo "rate $RATE answers/s, $SECONDS_PER_RUN s a run, ticks of $BURST answers, generator on core $GEN_CPU, $([ "$FIFO" = 1 ] && echo "SCHED_FIFO 10" || echo "nice $NICE")"
for ((round = 1; round <= ROUNDS; round++)); do
	echo "== round $round, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	for mix in ${MIXES:-unique same}; do
		echo "-- baseline (no guard, no steering rules), $mix"
		load "$mix"
	done
	guard_up
	for mix in ${MIXES:-unique same}; do
		echo "-- guard, $mix"
		guarded "$mix"
	done
	sleep 1.2
	guard_stats
	for r in ${MORE_RATES-}; do
		echo "-- guard, unique, $r answers/s offered"
		guarded unique "$r"
	done
	[ "$round" -lt "$ROUNDS" ] && guard_down
done
echo "== end, load average $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "${TLS:-1}" = 1 ]; then
	echo "-- ClientHello verdicts (each a new connection to a learnt address)"
	ip netns exec "$G" nft add element inet pinhole marketo_web_dns_v4 '{ 203.0.113.10 timeout 1h }'
	"$T/guard_load" tls-rate "$C" "$S" 20000 10000 1024
	"$T/guard_load" tls-rate "$C" "$S" 20000 20000 21024
	"$T/guard_load" tls-rate "$C" "$S" 20000 0 41024
	ip netns exec "$G" cat /proc/net/netfilter/nfnetlink_queue | awk '$1 == 2001 { print "   tls queue_dropped " $6 " user_dropped " $7 }'
fi
gl_guard_stop
[ -n "${GUARD_LOG:-}" ] && cat "$T/guard.log" >>"$GUARD_LOG"
