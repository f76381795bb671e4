#!/bin/bash
# Commit confirmed: `apply --confirm SECONDS` puts the new rules in and restores the old
# ones unless `pinhole confirm` comes in time. Fresh network namespace per case; the
# rollback waiter is a child process that lives in that namespace.
CASES="rolls_back confirmed rolls_back_to_nothing refuses_unknown_state"
source "$(dirname "$0")/netlink_lib.bash"

changed() {
	sed 's/130.248.173.0\/24/130.248.174.0\/24/' rules/marketo.rules >"$NL_TMP/changed.rules"
}

# Waits up to 10 s for the rollback waiter (whose pending file is gone when it is done).
wait_rollback() {
	local i
	for i in $(seq 100); do
		[ -e "$PINHOLE_RUN_DIR/inet-pinhole.pending" ] || [ -e "$PINHOLE_RUN_DIR/inet-pinhole.pending.rolling-back" ] || return 0
		sleep 0.1
	done
	return 1
}

case_rolls_back() {
	changed
	"$PINHOLE" apply -q rules/marketo.rules
	local old
	old=$(ruleset_json)
	"$PINHOLE" apply --confirm 2 "$NL_TMP/changed.rules" >"$NL_TMP/out"
	expect "apply --confirm exits 0" test $? -eq 0
	expect "apply --confirm says how to keep the rules" grep -q "run 'pinhole confirm' within 2 seconds" "$NL_TMP/out"
	expect "the new rules are in" test "$(ruleset_json)" != "$old"
	sleep 2.5
	wait_rollback
	expect "without confirm the old rules are back" test "$old" = "$(ruleset_json)"
	expect "the rollback says so in its log" grep -q 'the previous rules are back' "$PINHOLE_RUN_DIR/inet-pinhole.log"
	expect_status "confirm after the rollback has nothing to confirm" 1 "$PINHOLE" confirm 2>/dev/null
	expect "a re-apply of the old rules finds nothing to do" \
		test "$("$PINHOLE" apply rules/marketo.rules | tail -1)" = "no changes: the kernel already has what the rules want"
}

case_confirmed() {
	changed
	"$PINHOLE" apply -q rules/marketo.rules
	"$PINHOLE" apply -q --confirm 2 "$NL_TMP/changed.rules"
	local new
	new=$(ruleset_json)
	expect_status "confirm in time exits 0" 0 "$PINHOLE" confirm
	sleep 3
	expect "the confirmed rules stay past the deadline" test "$new" = "$(ruleset_json)"
	expect "no rollback happened" test -z "$(grep 'not confirmed in time' "$PINHOLE_RUN_DIR/inet-pinhole.log" 2>/dev/null)"
	expect_status "a second confirm has nothing to confirm" 1 "$PINHOLE" confirm 2>/dev/null
	# the confirmed rules are now what a later --confirm restores
	"$PINHOLE" apply -q --confirm 1 rules/marketo.rules
	sleep 1.5
	wait_rollback
	expect "a later rollback restores the confirmed rules" test "$new" = "$(ruleset_json)"
}

case_rolls_back_to_nothing() {
	"$PINHOLE" apply -q --confirm 1 rules/marketo.rules
	expect "the rules are in" nft list table inet pinhole >/dev/null
	sleep 1.5
	wait_rollback
	expect "without confirm the table is gone again" test "$(ruleset_json)" = "[]"
}

case_refuses_unknown_state() {
	"$PINHOLE" apply -q rules/marketo.rules
	nft add element inet pinhole marketo_senders_v4 '{ 203.0.113.0/24 }'
	changed
	"$PINHOLE" apply --confirm 5 "$NL_TMP/changed.rules" >/dev/null 2>"$NL_TMP/err"
	expect "apply --confirm refuses when the kernel is not what pinhole applied" test $? -eq 1
	expect "and says why" grep -q 'needs a snapshot of what the kernel holds now' "$NL_TMP/err"
	expect "nothing was changed" test -n "$(set_elems pinhole marketo_senders_v4 | grep 203.0.113.0/24)"
}

nl_main
