#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pinhole apply through netlink, judged by the real nft: the objects apply makes are the ones
# `nft -f` makes from the nft backend's script (compared with nft -j, element by element);
# re-applying changes nothing; a small change sends only its elements (seen by nft monitor);
# --dry-run changes nothing; show and remove see exactly pinhole's objects.
# Every case runs in a fresh network namespace (see netlink_lib.bash).
CASES="same_as_nft same_as_nft_options sets_only_same_as_nft reapply_noop delta_only dry_run diff_live show_json remove remove_run_files"
source "$(dirname "$0")/netlink_lib.bash"

# Policies in table mode that exercise every element and rule form.
policies() {
	ls rules/*.rules tests/golden/*.rules | while read -r f; do
		grep -q '^option mode sets-only' "$f" || echo "$f"
	done
}

case_same_as_nft() {
	local f
	for f in $(policies); do
		nft flush ruleset	# our own namespace: start empty for each policy
		if ! "$PINHOLE" apply -q "$f"; then
			fail "apply $f"
			continue
		fi
		if diff <(ruleset_json) <(reference_json "$f") >"$NL_TMP/diff"; then
			pass "apply $f makes what nft -f of its compiled script makes"
		else
			fail "apply $f differs from nft -f:"
			head -40 "$NL_TMP/diff"
		fi
	done
}

# default_deny, priority, ports and IPv6: the base chains nft_text writes and apply sends.
case_same_as_nft_options() {
	cat >"$NL_TMP/o.rules" <<'RULES'
option table gw
option priority -5
option default_deny eth1
option default_deny wg*
set peers { 198.51.100.0/24 2001:db8::/48 }
set web { *.example.com 203.0.113.0/25 }
allow in from @peers tcp port 22
allow out to @web tcp port { 80, 443, 8000-8080, 65000-65535 } comment "web"
allow out to @peers udp
RULES
	"$PINHOLE" apply -q "$NL_TMP/o.rules" || fail "apply o.rules"
	if diff <(ruleset_json) <(reference_json "$NL_TMP/o.rules") >"$NL_TMP/diff"; then
		pass "apply with default_deny, priority and port lists makes what nft -f makes"
	else
		fail "apply with options differs from nft -f:"
		head -40 "$NL_TMP/diff"
	fi
	expect_status "re-apply with options has nothing to do" 0 "$PINHOLE" apply -q --dry-run "$NL_TMP/o.rules"
}

# sets-only: the same user table in two namespaces, filled by apply and by nft -f.
case_sets_only_same_as_nft() {
	local user='table inet filter { chain input { type filter hook input priority 0; policy accept; }; }'
	cat >"$NL_TMP/so.rules" <<'RULES'
option mode sets-only
option table filter
set peers { 198.51.100.0/24 2001:db8::/48 }
set web { *.example.com }
RULES
	nft -f - <<<"$user"
	"$PINHOLE" apply -q "$NL_TMP/so.rules" || fail "apply so.rules"
	"$PINHOLE" compile -o "$NL_TMP/so.nft" "$NL_TMP/so.rules"
	if diff <(ruleset_json) <(unshare -n bash -c "nft -f - <<<'$user' && nft -f '$NL_TMP/so.nft' && nft -j list ruleset" |
		jq -S ".nftables | $NL_NORMALIZE") >"$NL_TMP/diff"; then
		pass "sets-only apply makes what nft -f of the sets-only script makes"
	else
		fail "sets-only apply differs from nft -f:"
		head -40 "$NL_TMP/diff"
	fi
	expect "the sets-only script refuses a missing table" \
		test -n "$(unshare -n nft -f "$NL_TMP/so.nft" 2>&1 | grep -i 'no such file')"
}

case_reapply_noop() {
	cp rules/marketo.rules "$NL_TMP/m.rules"
	"$PINHOLE" apply -q "$NL_TMP/m.rules" || fail "first apply"
	nft monitor >"$NL_TMP/mon" 2>&1 &
	local mon=$!
	sleep 0.3
	"$PINHOLE" apply "$NL_TMP/m.rules" >"$NL_TMP/out"
	expect "re-apply exits 0" test $? -eq 0
	expect "re-apply of the same file answers from the last-applied state without compiling" \
		grep -q "no changes: $NL_TMP/m.rules is what pinhole applied last" "$NL_TMP/out"
	# the same policy from another text: compiled, and compared with the cached elements
	echo "# a comment at the end changes the text, not the policy" >>"$NL_TMP/m.rules"
	"$PINHOLE" apply "$NL_TMP/m.rules" >"$NL_TMP/out1"
	expect "an equivalent file finds nothing to do" grep -q '^no changes' "$NL_TMP/out1"
	expect "and compares with the last-applied state, not a dump" grep -q 'from the last-applied state' "$NL_TMP/out1"
	"$PINHOLE" apply --no-cache "$NL_TMP/m.rules" >"$NL_TMP/out2"
	expect "re-apply reading the kernel finds nothing to do either" grep -q '^no changes' "$NL_TMP/out2"
	sleep 0.3
	kill "$mon"
	wait "$mon" 2>/dev/null
	expect "re-apply sends nothing to the kernel (nft monitor saw no event)" test ! -s "$NL_TMP/mon"
}

# 2,000 /24s; the change replaces every 100th line in place (20 out, 20 in), as an edit would.
gen_set() {
	awk -v shift="$1" 'BEGIN { print "set big {"
		for (i = 0; i < 2000; i++) {
			n = (i % 100 == 99 && shift) ? i + 5000 : i
			printf "\t10.%d.%d.0/24\n", int(2 * n / 256), (2 * n) % 256
		}
		print "}"; print "allow in from @big tcp port 25" }'
}

case_delta_only() {
	local rules=$NL_TMP/big.rules
	gen_set 0 >"$rules"
	"$PINHOLE" apply -q "$rules" || fail "first apply"
	gen_set 1 >"$rules"
	nft monitor >"$NL_TMP/mon" 2>&1 &
	local mon=$!
	sleep 0.3
	"$PINHOLE" apply "$rules" >"$NL_TMP/out" || fail "apply of the change"
	sleep 0.3
	kill "$mon"
	wait "$mon" 2>/dev/null
	local added deleted
	added=$(grep '^create element' "$NL_TMP/mon" | grep -o '[0-9.]*/24' | wc -l)
	deleted=$(grep '^delete element' "$NL_TMP/mon" | grep -o '[0-9.]*/24' | wc -l)
	expect "the batch added exactly the 20 new prefixes (nft monitor: $added)" test "$added" -eq 20
	expect "the batch deleted exactly the 20 old prefixes (nft monitor: $deleted)" test "$deleted" -eq 20
	expect "nothing but elements changed" test "$(grep -vc -e '^create element' -e '^delete element' -e '^# new generation' "$NL_TMP/mon")" -eq 0
	expect "the plan says +20 -20" grep -q 'set big_v4: +20 -20 prefixes' "$NL_TMP/out"
	if diff <(ruleset_json) <(reference_json "$rules") >"$NL_TMP/diff"; then
		pass "after the delta the kernel holds what nft -f of the new script makes"
	else
		fail "after the delta the kernel differs from nft -f:"
		head -20 "$NL_TMP/diff"
	fi
}

case_dry_run() {
	local before
	expect_status "dry run on an empty kernel exits 1 (changes)" 1 "$PINHOLE" apply --dry-run -q rules/marketo.rules
	expect "dry run created nothing" test "$(ruleset_json)" = "[]"
	"$PINHOLE" apply -q rules/marketo.rules
	before=$(nft list ruleset)
	sed 's/130.248.173.0\/24/130.248.174.0\/24/' rules/marketo.rules >"$NL_TMP/changed.rules"
	"$PINHOLE" apply --dry-run "$NL_TMP/changed.rules" >"$NL_TMP/out"
	expect "dry run of a change exits 1" test $? -eq 1
	expect "dry run prints the plan" grep -q 'set marketo_senders_v4' "$NL_TMP/out"
	expect "dry run says the kernel accepts the batch" grep -q 'the kernel accepts this batch' "$NL_TMP/out"
	expect "dry run left the ruleset byte-identical" test "$before" = "$(nft list ruleset)"
	expect_status "dry run of what is applied exits 0" 0 "$PINHOLE" apply --dry-run -q rules/marketo.rules
}

# diff --live: the kernel read back as a policy, through the review diff engine.
case_diff_live() {
	cp rules/marketo.rules "$NL_TMP/m.rules"
	"$PINHOLE" diff --live "$NL_TMP/m.rules" >"$NL_TMP/out"
	expect "diff --live against an empty kernel exits 1" test $? -eq 1
	expect "and shows the sets to add" grep -q 'set marketo_senders added' "$NL_TMP/out"
	"$PINHOLE" apply -q "$NL_TMP/m.rules"
	expect_status "diff --live after apply exits 0" 0 "$PINHOLE" diff --live "$NL_TMP/m.rules"
	expect_status "reading the sources from the kernel finds no difference either" 0 \
		"$PINHOLE" diff --live --no-cache "$NL_TMP/m.rules"
	# The guard's steering chains sit at priority -1 in pinhole's table; they are not the
	# policy's priority nor its rules.
	nft add chain inet pinhole guard_input "{ type filter hook input priority -1; policy accept; }"
	nft add rule inet pinhole guard_input udp sport 53 counter
	expect_status "a guard steering chain is not a difference" 0 \
		"$PINHOLE" diff --live --no-cache "$NL_TMP/m.rules"
	nft delete chain inet pinhole guard_input
	sed -i 's/130.248.173.0\/24/130.248.174.0\/24/; s/tcp port 25 comment/tcp port { 25, 587 } comment/' "$NL_TMP/m.rules"
	"$PINHOLE" diff --live --no-cache --format json "$NL_TMP/m.rules" >"$NL_TMP/live.json"
	expect "diff --live of a change exits 1" test $? -eq 1
	expect "the old side is the kernel" test "$(jq -r .old "$NL_TMP/live.json")" = kernel
	expect "the address change is the change in coverage" \
		test "$(jq -r '.sets[0].addresses.added[0].prefix' "$NL_TMP/live.json")" = 130.248.174.0/24
	expect "the removed prefix names its source from the kernel's element comment" \
		grep -q "m.rules:28$" <(jq -r '.sets[0].addresses.removed[0].sources[]' "$NL_TMP/live.json")
	expect "the rule decoded from the kernel's expressions changed its ports" \
		test "$(jq -r '.rules[0].change' "$NL_TMP/live.json")" = changed
	"$PINHOLE" diff --live "$NL_TMP/m.rules" >"$NL_TMP/out" 2>&1
	expect "and says it widens" grep -q 'WIDENING' "$NL_TMP/out"
	expect_status "the change is still only proposed" 1 "$PINHOLE" diff --live "$NL_TMP/m.rules"
}

case_show_json() {
	"$PINHOLE" apply -q rules/marketo.rules
	"$PINHOLE" show --format json >"$NL_TMP/show.json"
	expect "show --format json is JSON" jq -e . "$NL_TMP/show.json" >/dev/null
	expect "show counts the 7 prefixes of marketo_senders_v4" \
		test "$(jq '.sets[] | select(.name == "marketo_senders_v4") | .prefixes' "$NL_TMP/show.json")" -eq 7
	expect "show names the sources from the element comments" \
		test "$(jq '.sets[] | select(.name == "marketo_senders_v4") | .sources["rules/marketo.rules"]' "$NL_TMP/show.json")" -eq 7
	expect "show lists the three base chains" test "$(jq '.chains | length' "$NL_TMP/show.json")" -eq 3
	"$PINHOLE" show >"$NL_TMP/show.txt"
	expect "show (text) names the table" grep -q '^table inet pinhole (table mode' "$NL_TMP/show.txt"
}

case_remove() {
	"$PINHOLE" apply -q rules/marketo.rules
	expect_status "remove exits 0" 0 "$PINHOLE" remove
	expect "remove deleted the table" test "$(ruleset_json)" = "[]"
	"$PINHOLE" remove >"$NL_TMP/out"
	expect "remove again has nothing to do" grep -q "nothing of pinhole's" "$NL_TMP/out"
}

# remove also deletes what pinhole wrote for the table in the run directory: the guard's stats
# and state once that guard has stopped, and an old commit-confirmed log; not another table's
# guard files, not those of a guard that still runs, not the log of a pending confirmation.
case_remove_run_files() {
	local run=$PINHOLE_RUN_DIR dead
	mkdir -p "$run"
	guard_files() {	# TABLE PID
		printf '{"guard": {"table": "%s", "pid": %s}, "counters": {}}\n' "$1" "$2" >"$run/guard.stats"
		echo "# pinhole guard state" >"$run/guard.state"
	}
	sleep 0.01 & dead=$!
	wait "$dead"
	"$PINHOLE" apply -q rules/marketo.rules
	guard_files other "$dead"
	# A real confirmation window (a waiter holding its lock): remove refuses and the log stays.
	printf 'set x { 192.0.2.0/24 }\nallow out to @x tcp port 443\n' >"$NL_TMP/window.rules"
	"$PINHOLE" apply -q --confirm 60 "$NL_TMP/window.rules" >/dev/null
	expect_status "remove refuses during a confirmation window" 1 "$PINHOLE" remove
	expect "another table's guard files stay" test -e "$run/guard.stats" -a -e "$run/guard.state"
	expect "the log of a pending confirmation stays" test -e "$run/inet-pinhole.log"
	"$PINHOLE" confirm --cancel >/dev/null
	for _ in $(seq 50); do
		[ -e "$run/inet-pinhole.pending" ] || [ -e "$run/inet-pinhole.pending.rolling-back" ] || break
		sleep 0.1
	done
	echo old >"$run/inet-pinhole.log"
	guard_files pinhole $$
	"$PINHOLE" remove -t pinhole >/dev/null 2>"$NL_TMP/err"
	expect "a running guard's files stay" test -e "$run/guard.stats" -a -e "$run/guard.state"
	expect "remove says the guard still runs" grep -q "the guard of table inet pinhole (pid $$) still runs" "$NL_TMP/err"
	expect "an old log goes" test ! -e "$run/inet-pinhole.log"
	guard_files pinhole "$dead"
	"$PINHOLE" apply -q rules/marketo.rules
	expect_status "remove exits 0" 0 "$PINHOLE" remove
	expect "a stopped guard's stats and state go" test ! -e "$run/guard.stats" -a ! -e "$run/guard.state"
}

nl_main
