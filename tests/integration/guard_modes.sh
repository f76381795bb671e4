#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pinhole guard, the other ways to run it (namespaces from guard_lib.bash): both refresh
# paths for a known element's timeout (re-add as an update; destroy + add) and the one for
# kernels before 6.3 (delete + add), fail-open against fail-closed while the guard is down,
# passive mode (NFLOG copies), how the queue rule is chosen, and the errors at start.
set -u
PINHOLE=$(realpath "${1:?usage: guard_modes.sh PATH_TO_PINHOLE}")
cd "$(dirname "$0")" && . ./guard_lib.bash && cd - >/dev/null || exit 1
gl_require
trap gl_cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
expect() {
	if [ "$2" = "$3" ]; then ok; else bad "$1: wanted '$2', got '$3'"; fi
}

gl_topology || { echo "FAIL: cannot build the namespaces"; exit 1; }
cat >"$T/gw.rules" <<'EOF'
option default_deny gwc0
set resolvers { 198.51.100.2 }
set marketo_web { *.marketo.com }
allow out to @resolvers udp port 53
allow out to @marketo_web tcp port 443
EOF
chmod 644 "$T/gw.rules"
gl_dns || exit 1
gl_tls 203.0.113.11

# Before apply: nothing to fill, the guard says so and does not start.
gl_guard_start 2>/dev/null && bad "started without the table" || ok
grep -q 'run pinhole apply first' "$T/guard.log" && ok || bad "no hint to apply first: $(cat "$T/guard.log")"
ip netns exec "$G" "$PINHOLE" apply -q "$T/gw.rules" || { echo "FAIL: pinhole apply"; exit 1; }

# Each refresh path extends a known element: brief.marketo.com answers with TTL 6.
for refresh in update replace delete; do
	gl_guard_start --ttl-min 1 --refresh "$refresh" || { bad "start with --refresh $refresh"; continue; }
	grep -q "refresh by $refresh" "$T/guard.log" && ok || bad "not refreshing by $refresh"
	gl_dig brief.marketo.com >/dev/null
	sleep 3
	before=$(gl_set_expires marketo_web_dns_v4 203.0.113.31)
	gl_dig brief.marketo.com >/dev/null
	after=$(gl_set_expires marketo_web_dns_v4 203.0.113.31)
	[ -n "$before" ] && [ -n "$after" ] && [ "$after" -gt "$before" ] && [ "$after" -ge 4 ] && ok ||
		bad "--refresh $refresh: expiry $before s then $after s"
	[ "$(ip netns exec "$G" nft -j list set inet pinhole marketo_web_dns_v4 | grep -o '"val"' | wc -l)" -eq 1 ] &&
		ok || bad "--refresh $refresh: the element is not there exactly once"
	gl_guard_stop || bad "stop after --refresh $refresh"
done
mkdir "$T/rootdir"
auto=$(ip netns exec "$G" "$PINHOLE" guard --rules "$T/gw.rules" --stats-file "$T/rootdir/s" --log-level notice 2>&1 &
	sleep 1.5; kill $! 2>/dev/null; wait $! 2>/dev/null)
echo "$auto" | grep -q 'refresh by update' && ok || bad "kernel 6.18 should be probed as 'update': $auto"
grep -q '"queue_drops_known": true' "$T/rootdir/s" && ok || bad "root could not read the queue drop counters"

# Fail-closed (default): while the guard is down, DNS answers wait in a queue nobody
# reads, and are dropped. Fail-open: the rules carry 'bypass', the answers pass.
gl_guard_start --ttl-min 1 || exit 1
gl_guard_stop
expect "fail-closed: no DNS while the guard is down" "" "$(gl_dig app.marketo.com)"
gl_guard_start --ttl-min 1 --fail-open || exit 1
ip netns exec "$G" nft list chain inet pinhole guard_forward 2>/dev/null | grep -q 'queue num 2000 bypass' && ok ||
	bad "no bypass flag in fail-open mode"
gl_guard_stop
expect "fail-open: DNS answers while the guard is down" 203.0.113.11 "$(gl_dig app.marketo.com)"

# Passive: log group copies; learning still happens, nothing waits for the guard.
ip netns exec "$G" nft flush set inet pinhole marketo_web_dns_v4
gl_guard_start --ttl-min 1 --passive || exit 1
ip netns exec "$G" nft list chain inet pinhole guard_forward 2>/dev/null | grep -q 'log group 2000' && ok ||
	bad "no log rule in passive mode"
ip netns exec "$G" nft list chain inet pinhole guard_forward 2>/dev/null | grep -q 'queue' && bad "a queue rule in passive mode" || ok
expect "passive: dig" 203.0.113.11 "$(gl_dig app.marketo.com)"
gl_wait 3 "passive learning" "[ -n \"\$(gl_set_expires marketo_web_dns_v4 203.0.113.11)\" ]" && ok || bad "passive mode learnt nothing"
expect "passive: curl" 200 "$(gl_curl app.marketo.com 203.0.113.11)"
gl_guard_stop
expect "passive, guard down: DNS still answers (nothing in the path)" 203.0.113.11 "$(gl_dig app.marketo.com)"

# How the queue is reached: this kernel has no nft 'queue' (CONFIG_NFT_QUEUE), so auto
# takes the xt NFQUEUE target; asking for nft says why it cannot.
if ip netns exec "$G" nft add rule inet pinhole guard_input queue num 9 2>/dev/null; then
	echo "note: this kernel has nft queue; --steer xt checked only"
	nft_queue=yes
else
	nft_queue=no
fi
gl_guard_start --steer xt || bad "--steer xt"
gl_guard_stop
if [ "$nft_queue" = no ]; then
	gl_guard_start --steer nft 2>/dev/null && bad "--steer nft started without nft queue" || ok
	grep -q 'no nft queue expression' "$T/guard.log" && ok || bad "no steering error: $(cat "$T/guard.log")"
fi
# --no-steer leaves the rules to the user: the guard's chains are not touched.
ip netns exec "$G" "$PINHOLE" guard --uninstall --rules "$T/gw.rules" >/dev/null
gl_guard_start --no-steer || bad "--no-steer"
ip netns exec "$G" nft list chain inet pinhole guard_forward >/dev/null 2>&1 && bad "--no-steer installed rules" || ok
gl_guard_stop
# Two guards cannot hold the same queues.
gl_guard_start || bad "start"
first=$GUARD_PID
ip netns exec "$G" "$PINHOLE" guard --rules "$T/gw.rules" --stats-file "$T/rootdir/other" >"$T/second.log" 2>&1 &&
	bad "a second guard started" || ok
grep -q 'another guard runs' "$T/second.log" && ok || bad "second guard: $(cat "$T/second.log")"
GUARD_PID=$first
gl_guard_stop

# Sets-only mode: the table is the user's; the guard fills the sets and installs nothing.
ip netns exec "$G" nft add table inet usertab
cp "$T/gw.rules" "$T/main.rules"
printf 'option mode sets-only\noption table = usertab\nset marketo_web { *.marketo.com }\n' >"$T/gw.rules"
if ip netns exec "$G" "$PINHOLE" apply -q "$T/gw.rules"; then
	gl_guard_start || bad "start in sets-only mode"
	grep -q 'no steering rules installed (sets-only mode)' "$T/guard.log" && ok || bad "sets-only: $(cat "$T/guard.log")"
	ip netns exec "$G" nft list table inet usertab 2>/dev/null | grep -q guard_ && bad "chains in the user's table" || ok
	gl_guard_stop || bad "stop in sets-only mode"
else
	bad "apply in sets-only mode"
fi
cp "$T/main.rules" "$T/gw.rules"

# Usage errors.
"$PINHOLE" guard >/dev/null 2>&1; expect "no --rules" 1 $?
"$PINHOLE" guard --rules x --deny maybe >/dev/null 2>&1; expect "bad --deny" 1 $?
"$PINHOLE" guard --rules x --ttl-min 10 --ttl-max 5 >/dev/null 2>&1; expect "ttl-min above ttl-max" 1 $?
"$PINHOLE" guard --help | grep -q -- '--fail-open' && ok || bad "--help"
"$PINHOLE" guard --stats --stats-file "$T/none" >/dev/null 2>&1; expect "--stats without a guard" 1 $?
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
