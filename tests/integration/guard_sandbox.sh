#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pinhole guard gives up what it does not need once its sockets are open (namespaces from
# guard_lib.bash): started by hand as full root, and as nobody with CAP_NET_ADMIN ambient
# (the way systemd's unit narrows it), /proc/PID/status must show CAP_NET_ADMIN as the only
# capability (effective, permitted, bounding), nothing inheritable or ambient,
# no-new-privileges and a seccomp filter; and the sandboxed guard still learns, checks TLS,
# reloads on SIGHUP and stops cleanly. That a call outside the allowlist kills the process
# is tests/unit/test_guard_sandbox.c.
set -u
PINHOLE=$(realpath "${1:?usage: guard_sandbox.sh PATH_TO_PINHOLE}")
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
gl_tls 203.0.113.10 203.0.113.11
ip netns exec "$G" "$PINHOLE" apply -q "$T/gw.rules" || { echo "FAIL: pinhole apply"; exit 1; }

# status_of PID FIELD: one field of /proc/PID/status.
status_of() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# CAP_NET_ADMIN is capability 12.
check_status() {	# check_status HOW
	local pid=$GUARD_PID field
	for field in CapEff CapPrm CapBnd; do
		expect "$1: $field" 0000000000001000 "$(status_of "$pid" "$field")"
	done
	for field in CapInh CapAmb; do
		expect "$1: $field" 0000000000000000 "$(status_of "$pid" "$field")"
	done
	expect "$1: NoNewPrivs" 1 "$(status_of "$pid" NoNewPrivs)"
	expect "$1: Seccomp (2: filter)" 2 "$(status_of "$pid" Seccomp)"
}

# The sandboxed guard at work: an answer learnt, TLS checked, a reload, a clean stop.
check_works() {	# check_works HOW NAME ADDRESS RUNDIR
	expect "$1: dig $2" "$3" "$(gl_dig "$2")"
	expect "$1: curl $2" 200 "$(gl_curl "$2" "$3")"
	expect "$1: another server name towards $3" 000 "$(gl_curl evil.example.net "$3")"
	kill -HUP "$GUARD_PID"
	gl_wait 5 "the reload" "grep -q 'reloaded:' '$T/guard.log'" && ok || bad "$1: no reload: $(tail -3 "$T/guard.log")"
	kill -0 "$GUARD_PID" 2>/dev/null && ok || bad "$1: the guard died on SIGHUP: $(tail -3 "$T/guard.log")"
	gl_guard_stop && ok || bad "$1: the guard did not stop cleanly: $(tail -3 "$T/guard.log")"
	grep -q "$3" "$4/guard.state" && ok || bad "$1: the state file was not saved"
}

# By hand, as root with every capability, writing in a directory of root's (pinhole(8) FILES:
# the guard refuses one that another user owns).
: >"$T/guard.log"
install -d -m 0700 "$T/rootrun"
ip netns exec "$G" "$PINHOLE" guard --rules "$T/gw.rules" --stats-file "$T/rootrun/guard.stats" \
	--resolver 198.51.100.2 --resolver 2001:db8:2::2 --ttl-min 1 >>"$T/guard.log" 2>&1 &
GUARD_PID=$!
gl_wait 10 "the guard to start" "grep -q 'started:' '$T/guard.log' || ! kill -0 $GUARD_PID 2>/dev/null"
if kill -0 "$GUARD_PID" 2>/dev/null; then
	expect "root: uid before and after" 0 "$(status_of "$GUARD_PID" Uid)"
	check_status root
	grep -q 'bounding set keeps' "$T/guard.log" && bad "root could narrow its bounding set" || ok
	check_works root ws.marketo.com 203.0.113.10 "$T/rootrun"
else
	bad "the guard did not start as root: $(cat "$T/guard.log")"
	GUARD_PID=""
fi

# As nobody with CAP_NET_ADMIN ambient and in the bounding set (guard_lib.bash).
if gl_guard_start --ttl-min 1; then
	check_status nobody
	check_works nobody app.marketo.com 203.0.113.11 "$T/run"
else
	bad "the guard did not start as nobody"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
