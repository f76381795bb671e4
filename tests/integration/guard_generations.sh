#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pinhole guard's commits and apply's last-applied state (namespaces from guard_lib.bash):
# the guard records the generations that were its own commits, so an apply after it learnt
# addresses takes the static sets' elements from the last-applied state instead of dumping
# them, while a foreign commit, a record from another namespace or one others could write
# still make apply read the kernel and repair what someone changed.
set -u
PINHOLE=$(realpath "${1:?usage: guard_generations.sh PATH_TO_PINHOLE}")
cd "$(dirname "$0")" && . ./guard_lib.bash && cd - >/dev/null || exit 1
gl_require
trap gl_cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
check() { local d=$1; shift; if "$@"; then ok; else bad "$d"; fi; }

gl_topology || { echo "FAIL: cannot build the namespaces"; exit 1; }
# apply looks for the guard's record where the guard writes it (next to its stats)
export PINHOLE_RUN_DIR=$T/grun
mkdir -m 0700 "$PINHOLE_RUN_DIR"
cat >"$T/gw.rules" <<'EOF2'
set resolvers { 198.51.100.2 }
set senders { 192.0.2.128/25 198.51.100.0/26 }
set marketo_web { *.marketo.com }
allow out to @resolvers udp port 53
allow in from @senders tcp port 25
allow out to @marketo_web tcp port 443
EOF2
gl_dns || exit 1
gw() { ip netns exec "$G" "$@"; }
generation() { gw "$PINHOLE" show -t no_such_table --format json | jq .generation; }
gw "$PINHOLE" apply -q "$T/gw.rules" || { echo "FAIL: pinhole apply"; exit 1; }

# The guard as the systemd unit runs it: root, its files in its runtime directory.
ip netns exec "$G" "$PINHOLE" guard --rules "$T/gw.rules" --stats-file "$PINHOLE_RUN_DIR/guard.stats" --resolver 198.51.100.2 --resolver 2001:db8:2::2 >"$T/guard.log" 2>&1 &
GUARD_PID=$!
gl_wait 10 "the guard to start" "grep -q 'started:' '$T/guard.log'" || { cat "$T/guard.log"; exit 1; }
g0=$(generation)
for name in ws.marketo.com app.marketo.com brief.marketo.com short.marketo.com; do gl_dig "$name" >/dev/null; done
gl_wait 5 "learnt addresses" "[ \$(gw nft -j list set inet pinhole marketo_web_dns_v4 | grep -o '\"val\"' | wc -l) -ge 3 ]" ||
	bad "the guard learnt nothing"
g1=$(generation)
check "the guard committed (generation $g0 -> $g1)" test "$g1" -gt "$g0"
check "the guard keeps its record, 0600" test "$(stat -c %a "$PINHOLE_RUN_DIR/guard.generations" 2>/dev/null)" = 600

gw "$PINHOLE" apply "$T/gw.rules" >"$T/out"
check "apply of the same file after the guard's commits answers without a dump: $(cat "$T/out")" \
	grep -q "no changes: .* only pinhole guard's learnt sets have changed" "$T/out"
echo "# reviewed" >>"$T/gw.rules"
gw "$PINHOLE" apply "$T/gw.rules" >"$T/out"
check "an edited file is compared with the last-applied state, not a dump: $(head -1 "$T/out")" \
	grep -q 'elements from the last-applied state' "$T/out"
gw "$PINHOLE" diff --live "$T/gw.rules" >/dev/null 2>&1
check "diff --live agrees: no changes" test $? -eq 0

# someone else's commit between the guard's: apply must read the kernel and repair it
gw nft add element inet pinhole senders_v4 '{ 203.0.113.0/24 }'
gl_dig app.marketo.com >/dev/null
gl_dig ws.marketo.com >/dev/null
sleep 0.5
gw "$PINHOLE" apply "$T/gw.rules" >"$T/out"
check "after a foreign commit apply reads the kernel: $(head -1 "$T/out")" grep -q 'elements read from the kernel' "$T/out"
check "and removes what was slipped into its set" grep -q 'set senders_v4: +0 -1 prefixes' "$T/out"

# a record others could write is not believed
gl_dig brief.marketo.com >/dev/null
sleep 0.5
chmod 0666 "$PINHOLE_RUN_DIR/guard.generations"
gl_dig ws.marketo.com AAAA >/dev/null
sleep 0.5
echo "# again" >>"$T/gw.rules"
gw "$PINHOLE" apply "$T/gw.rules" >"$T/out"
check "a record others can write is not believed: $(head -1 "$T/out")" grep -q 'elements read from the kernel' "$T/out"
chmod 0600 "$PINHOLE_RUN_DIR/guard.generations"

gl_guard_stop || bad "the guard did not stop cleanly: $(tail -3 "$T/guard.log")"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
