#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# option default_deny IFNAME makes the allowlist the policy for that interface: traffic
# through it that no rule allows is dropped (by pinhole's own drop rules, counted), what a
# rule allows passes, replies pass, and other interfaces are untouched. Judged with real
# packets (busybox ping) over a veth pair between the case's fresh namespace (the gateway,
# 192.0.2.1) and a second fresh namespace (the peer, 192.0.2.2); no route leaves them.
CASES="scope_is_the_allowlist"
source "$(dirname "$0")/netlink_lib.bash"

ping_ok() { busybox ping -c 1 -W 2 "$@" >/dev/null 2>&1; }
ping_fails() { ! busybox ping -c 1 -W 1 "$@" >/dev/null 2>&1; }
# from the peer's namespace
peer_ping_ok() { nsenter -t "$peer" -n busybox ping -c 1 -W 2 "$@" >/dev/null 2>&1; }
peer_ping_fails() { ! nsenter -t "$peer" -n busybox ping -c 1 -W 1 "$@" >/dev/null 2>&1; }

case_scope_is_the_allowlist() {
	command -v busybox >/dev/null || { fail "needs busybox (scripts/deps.sh --test)"; return; }
	unshare -n sleep 60 &
	peer=$!
	sleep 0.3
	ip link set lo up
	ip link add gw0 type veth peer name peer0
	ip link set peer0 netns "$peer"
	ip addr add 192.0.2.1/24 dev gw0
	ip link set gw0 up
	nsenter -t "$peer" -n ip addr add 192.0.2.2/24 dev peer0
	nsenter -t "$peer" -n ip link set peer0 up
	nsenter -t "$peer" -n ip link set lo up
	sleep 0.5
	expect "without rules the peer reaches the gateway" peer_ping_ok 192.0.2.1

	cat >"$NL_TMP/deny.rules" <<'RULES'
option default_deny gw0
set peers { 192.0.2.99 }
allow in from @peers
RULES
	"$PINHOLE" apply -q "$NL_TMP/deny.rules" || fail "apply deny.rules"
	expect "a peer the allowlist does not name is dropped" peer_ping_fails 192.0.2.1
	local drops
	drops=$(nft -j list chain inet pinhole input | jq '[.nftables[].rule? | select(.comment? == "default-deny gw0") |
		.expr[] | .counter?.packets // empty] | add')
	expect "pinhole's drop rule counted the packet ($drops)" test "${drops:-0}" -ge 1
	expect "the gateway's own new connections out of gw0 are dropped too" ping_fails 192.0.2.2
	expect "other interfaces are not in the scope (loopback)" ping_ok 127.0.0.1

	cat >"$NL_TMP/allow.rules" <<'RULES'
option default_deny gw0
set peers { 192.0.2.2 }
allow in from @peers
RULES
	"$PINHOLE" apply -q "$NL_TMP/allow.rules" || fail "apply allow.rules"
	expect "a peer the allowlist names gets through, and so does the reply" peer_ping_ok 192.0.2.1
	"$PINHOLE" remove >/dev/null
	expect "after remove nothing is dropped" ping_ok 192.0.2.2
	kill "$peer"
}

nl_main
